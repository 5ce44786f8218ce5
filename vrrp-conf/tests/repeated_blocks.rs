//! Keywords written twice in one vrrp_instance or vrrp_sync_group, read as
//! keepalived 2.2.7 reads them (measured with its `-t` and running): a
//! repeated list block adds to the list; a repeated tracked object or
//! notify script is its configuration error (the first kept, -t exits 5);
//! a second sync group `group` list is refused (keepalived then reads the
//! rest of the group as top-level keywords).
#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use vrrp_conf::model::Track;
use vrrp_conf::{parse_str, Code, Options, Parsed};

/// `text` with script security set after it (its lines unmoved).
fn parse(text: &str) -> Parsed {
    let text = format!("{text}global_defs {{\n  enable_script_security\n  script_user root\n}}\n");
    parse_str("k.conf", &text, &Options::default())
}

/// Every diagnostic as (line, code, message).
fn said(p: &Parsed) -> Vec<(u32, Code, String)> {
    (p.diagnostics.iter())
        .map(|d| (d.span.line, d.code, d.message.clone()))
        .collect()
}

fn names(tracks: &[Track]) -> Vec<(&str, Option<i32>)> {
    tracks.iter().map(|t| (t.name.as_str(), t.weight)).collect()
}

const TWICE: &str = "\
vrrp_script chk {
  script /bin/true
}
vrrp_script chk2 {
  script /bin/true
}
vrrp_instance VI_1 {
  interface eth0
  virtual_router_id 1
  virtual_ipaddress {
    192.0.2.1/24
  }
  virtual_ipaddress {
    192.0.2.2/24 dev eth1
    192.0.2.3
  }
  virtual_ipaddress_excluded {
    198.51.100.1/32
  }
  virtual_ipaddress_excluded {
    2001:db8::1/64
  }
  virtual_routes {
    10.8.0.0/16 dev eth0
  }
  virtual_routes {
    10.7.0.0/16 via 192.0.2.9 dev eth0
  }
  virtual_rules {
    from 10.9.9.9 table 100 priority 100
  }
  virtual_rules {
    from 10.9.9.8 table 101 priority 101
  }
  unicast_peer {
    192.0.2.20
  }
  unicast_peer {
    192.0.2.21 min_ttl 5
  }
  track_interface {
    eth1 weight 5
  }
  track_interface {
    eth2
  }
  track_script {
    chk
  }
  track_script {
    chk2 weight -3
  }
}
";

#[test]
fn repeated_instance_blocks_add_to_their_lists() {
    let p = parse(TWICE);
    assert_eq!(said(&p), []);
    let v = &p.config.vrrp_instances[0];
    let nets = |a: &[vrrp_conf::model::IpAddress]| -> Vec<String> {
        a.iter().map(|a| a.address.to_string()).collect()
    };
    assert_eq!(
        nets(&v.virtual_ipaddress),
        ["192.0.2.1/24", "192.0.2.2/24", "192.0.2.3/32"]
    );
    assert_eq!(v.virtual_ipaddress[1].dev.as_deref(), Some("eth1"));
    assert_eq!(
        nets(&v.virtual_ipaddress_excluded),
        ["198.51.100.1/32", "2001:db8::1/64"]
    );
    let dst: Vec<String> = (v.virtual_routes.iter())
        .map(|r| r.dst.to_string())
        .collect();
    assert_eq!(dst, ["10.8.0.0/16", "10.7.0.0/16"]);
    assert_eq!(v.virtual_routes[1].via, Some("192.0.2.9".parse().unwrap()));
    let rules: Vec<String> = v.virtual_rules.iter().map(|r| r.join(" ")).collect();
    assert_eq!(
        rules,
        [
            "from 10.9.9.9 table 100 priority 100",
            "from 10.9.9.8 table 101 priority 101"
        ]
    );
    let peers: Vec<(String, Option<u8>)> = (v.unicast_peer.iter())
        .map(|u| (u.address.to_string(), u.min_ttl))
        .collect();
    assert_eq!(
        peers,
        [
            ("192.0.2.20".to_owned(), None),
            ("192.0.2.21".to_owned(), Some(5))
        ]
    );
    assert_eq!(
        names(&v.track_interface),
        [("eth1", Some(5)), ("eth2", None)]
    );
    assert_eq!(names(&v.track_script), [("chk", None), ("chk2", Some(-3))]);
}

/// Both blocks' addresses and peers reach the router the driver runs.
#[cfg(feature = "convert-vrrp")]
#[test]
fn repeated_blocks_reach_the_router() {
    use vrrp_conf::convert::{convert, Halves};
    let text = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  \
                virtual_ipaddress {\n    192.0.2.1\n  }\n  virtual_ipaddress {\n    192.0.2.2\n  }\n  \
                virtual_ipaddress_excluded {\n    192.0.2.5\n  }\n  \
                virtual_ipaddress_excluded {\n    192.0.2.6\n  }\n  \
                unicast_peer {\n    192.0.2.20\n  }\n  unicast_peer {\n    192.0.2.21\n  }\n}\n";
    let p = parse(text);
    assert_eq!(said(&p), []);
    let halves = Halves {
        vrrp: true,
        lvs: false,
    };
    let out = convert(&p, halves);
    let plan = out.vrrp.unwrap();
    let r = &plan.units[0].setup.routers[0];
    let ip = |s: &str| s.parse::<std::net::Ipv4Addr>().unwrap();
    let addrs = |a: &[::vrrp::linux::driver::VirtualAddress]| -> Vec<String> {
        a.iter()
            .map(|a| format!("{}/{}", a.addr, a.prefix_len))
            .collect()
    };
    assert_eq!(addrs(&r.addresses), ["192.0.2.1/32", "192.0.2.2/32"]);
    assert_eq!(addrs(&r.excluded), ["192.0.2.5/32", "192.0.2.6/32"]);
    assert_eq!(r.config.unicast_peers, [ip("192.0.2.20"), ip("192.0.2.21")]);
}

#[test]
fn a_repeated_tracked_object_is_keepalived_s_error_and_the_first_is_kept() {
    let text = "vrrp_script chk {\n  script /bin/true\n}\n\
                vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  \
                track_interface {\n    eth1 weight 5\n    eth1 weight 7\n  }\n  \
                track_interface {\n    eth1\n  }\n  \
                track_script {\n    chk weight 2\n  }\n  track_script {\n    chk weight 4\n  }\n  \
                virtual_ipaddress {\n    192.0.2.1\n  }\n}\n";
    let p = parse(text);
    let e = |line, msg: &str| (line, Code::KeepalivedError, msg.to_owned());
    assert_eq!(
        said(&p),
        [
            e(9, "(VI_1) duplicate track_interface eth1 - ignoring"),
            e(12, "(VI_1) duplicate track_interface eth1 - ignoring"),
            e(18, "(VI_1) duplicate track_script chk - ignoring"),
        ]
    );
    let v = &p.config.vrrp_instances[0];
    assert_eq!(names(&v.track_interface), [("eth1", Some(5))]);
    assert_eq!(names(&v.track_script), [("chk", Some(2))]);
}

#[test]
fn a_repeated_notify_script_is_keepalived_s_error_and_the_first_is_kept() {
    let text = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  \
                notify_master /bin/true\n  notify_master /bin/false\n  \
                notify_backup /bin/true\n  notify_backup /bin/false\n  \
                notify_fault /bin/true\n  notify_fault /bin/false\n  \
                notify_stop /bin/true\n  notify_stop /bin/false\n  \
                notify /bin/true\n  notify \"/bin/echo x\"\n  \
                notify_deleted\n  notify_deleted /bin/true\n  \
                notify_master_rx_lower_pri /bin/true\n  notify_master_rx_lower_pri /bin/false\n  \
                virtual_ipaddress {\n    192.0.2.1\n  }\n}\n";
    let p = parse(text);
    let e = |line, msg: &str| (line, Code::KeepalivedError, msg.to_owned());
    assert_eq!(
        said(&p),
        [
            e(
                5,
                "(VI_1) notify_master script already specified - ignoring /bin/false"
            ),
            e(
                7,
                "(VI_1) notify_backup script already specified - ignoring /bin/false"
            ),
            e(
                9,
                "(VI_1) notify_fault script already specified - ignoring /bin/false"
            ),
            e(
                11,
                "(VI_1) notify_stop script already specified - ignoring /bin/false"
            ),
            e(
                13,
                "(VI_1) notify script already specified - ignoring /bin/echo x"
            ),
            e(
                15,
                "(VI_1) notify_deleted already specified - ignoring /bin/true"
            ),
            e(
                17,
                "(VI_1) notify_master_rx_lower_pri script already specified - ignoring /bin/false"
            ),
        ]
    );
    let n = &p.config.vrrp_instances[0].notify;
    let t = Some(vec!["/bin/true".to_owned()]);
    assert_eq!(
        [&n.master, &n.backup, &n.fault, &n.stop, &n.any],
        [&t, &t, &t, &t, &t]
    );
    assert_eq!(n.deleted, Some(Vec::new()));
    assert_eq!(n.master_rx_lower_pri, t);
}

#[test]
fn sync_group_repeats_follow_keepalived() {
    let text = "vrrp_script chk {\n  script /bin/true\n}\n\
                vrrp_script chk2 {\n  script /bin/true\n}\n\
                vrrp_sync_group G {\n  group {\n    VI_1\n  }\n  group {\n    VI_2\n  }\n  \
                track_interface {\n    eth1\n  }\n  track_interface {\n    eth2 weight 3\n    eth1\n  }\n  \
                track_script {\n    chk\n  }\n  track_script {\n    chk2\n  }\n  \
                notify_master /bin/true\n  notify_master /bin/false\n}\n\
                vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  \
                virtual_ipaddress {\n    192.0.2.1\n  }\n}\n";
    let p = parse(text);
    assert_eq!(
        said(&p),
        [
            (
                11,
                Code::Duplicate,
                "Group list already specified for sync group G; keepalived then ignores the \
                 rest of the group"
                    .to_owned()
            ),
            (
                19,
                Code::KeepalivedError,
                "(G) duplicate track_interface eth1 - ignoring".to_owned()
            ),
            (
                28,
                Code::KeepalivedError,
                "vrrp group G: notify_master script already specified - ignoring /bin/false"
                    .to_owned()
            ),
        ]
    );
    let g = &p.config.vrrp_sync_groups[0];
    assert_eq!(g.group, ["VI_1"]);
    assert_eq!(
        names(&g.track_interface),
        [("eth1", None), ("eth2", Some(3))]
    );
    assert_eq!(names(&g.track_script), [("chk", None), ("chk2", None)]);
    assert_eq!(g.notify.master, Some(vec!["/bin/true".to_owned()]));
}

/// Top-level static blocks add to their lists too.
#[test]
fn repeated_static_blocks_add_to_their_lists() {
    let text = "static_ipaddress {\n  192.0.2.1/24 dev eth0\n}\n\
                static_ipaddress {\n  192.0.2.2/24 dev eth0\n}\n\
                static_routes {\n  10.8.0.0/16 dev eth0\n}\n\
                static_routes {\n  10.7.0.0/16 dev eth0\n}\n\
                static_rules {\n  from 10.9.9.9 table 100 priority 100\n}\n\
                static_rules {\n  from 10.9.9.8 table 100 priority 101\n}\n";
    let p = parse(text);
    assert_eq!(said(&p), []);
    let c = &p.config;
    let addrs: Vec<String> = (c.static_ipaddress.iter())
        .map(|a| a.address.to_string())
        .collect();
    assert_eq!(addrs, ["192.0.2.1/24", "192.0.2.2/24"]);
    let dst: Vec<String> = c.static_routes.iter().map(|r| r.dst.to_string()).collect();
    assert_eq!(dst, ["10.8.0.0/16", "10.7.0.0/16"]);
    assert_eq!(c.static_rules.len(), 2);
    assert_eq!(
        c.static_rules[1].join(" "),
        "from 10.9.9.8 table 100 priority 101"
    );
}
