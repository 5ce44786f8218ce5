//! A router's source address going away, keepalived 2.2.7 against
//! keepalived-lite in twin layouts (issue 14; needs root, iproute2, nft
//! and keepalived). One layout pair, five instances on five interfaces of
//! `r1` (veth pairs inside `r1`, nobody answering), each alone so MASTER:
//!
//! * VI_4, IPv6 with `use_vmac` on `eth3`: `vrrp.54` goes down (FAULT) and
//!   the kernel deletes the link-local address the instance sends from;
//!   when it is up again both report it up and stay in FAULT (the VMAC has
//!   no link-local address any more), to the end of the test;
//! * VI_1, IPv4 with `use_vmac` on `eth0`: `eth0` loses its only IPv4
//!   address (FAULT, the virtual address goes) and gets it back (BACKUP,
//!   MASTER);
//! * VI_2, IPv6 on `eth1`: `eth1` gets a second link-local address and
//!   loses the first (no change), loses the second too (FAULT) and gets
//!   another one (BACKUP, MASTER);
//! * VI_3, unicast with `unicast_src_ip` on `eth2`: the source address is
//!   deleted and added again: nothing changes;
//! * VI_5, IPv6 with `use_vmac` on `eth4`: `eth4` loses its link-local
//!   address (nothing changes: `vrrp.55` keeps its copy) and gets another,
//!   which replaces the one on `vrrp.55`, still MASTER.
//!
//! After each step the kernel states must be the same, and at the end each
//! instance's state changes (and the VMAC reports) the same in both logs.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use twin::{Side, Twin};

const CONF: &str = "\
vrrp_instance VI_1 {
  state BACKUP
  interface eth0
  use_vmac
  virtual_router_id 51
  priority 100
  advert_int 1
  virtual_ipaddress {
    10.88.0.100/32
  }
}
vrrp_instance VI_2 {
  state BACKUP
  interface eth1
  virtual_router_id 52
  priority 100
  advert_int 1
  virtual_ipaddress {
    fd00:2::100/64
  }
}
vrrp_instance VI_3 {
  state BACKUP
  interface eth2
  virtual_router_id 53
  priority 100
  advert_int 1
  unicast_src_ip 10.66.0.1
  unicast_peer {
    10.66.0.9
  }
  virtual_ipaddress {
    10.88.3.100/32
  }
}
vrrp_instance VI_4 {
  state BACKUP
  interface eth3
  use_vmac
  virtual_router_id 54
  priority 100
  advert_int 1
  virtual_ipaddress {
    fd00:4::100/64
  }
}
vrrp_instance VI_5 {
  state BACKUP
  interface eth4
  use_vmac
  virtual_router_id 55
  priority 100
  advert_int 1
  virtual_ipaddress {
    fd00:5::100/64
  }
}
";

/// Four veth pairs inside each node; `eth2` has 10.66.0.N/24.
const SETUP: &[&[&str]] = &[
    &[
        "link", "add", "eth4", "type", "veth", "peer", "name", "eth4p",
    ],
    &["link", "set", "eth4p", "up"],
    &["link", "set", "eth4", "up"],
    &[
        "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
    ],
    &[
        "link", "add", "eth2", "type", "veth", "peer", "name", "eth2p",
    ],
    &[
        "link", "add", "eth3", "type", "veth", "peer", "name", "eth3p",
    ],
    &["link", "set", "eth1p", "up"],
    &["link", "set", "eth2p", "up"],
    &["link", "set", "eth3p", "up"],
    &["link", "set", "eth1", "up"],
    &["link", "set", "eth2", "up"],
    &["link", "set", "eth3", "up"],
    &["addr", "add", "10.66.0.@N@/24", "dev", "eth2"],
];

/// `ip ARGS` on `r1` of both layouts.
fn both(t: &Twin, args: &[&str]) {
    for s in [&t.ka, &t.lite] {
        s.ip(args);
    }
}

/// The link-local address of `dev` on `r1` (the same in both layouts).
fn link_local(s: &Side, dev: &str) -> String {
    let out = s.ip(&["-6", "-br", "addr", "show", "dev", dev, "scope", "link"]);
    let word = out.split_whitespace().find(|w| w.starts_with("fe80:"));
    word.unwrap_or_else(|| panic!("no link-local on {dev}: {out}"))
        .to_owned()
}

/// `r1`'s log lines of `needles`, the same in both layouts and `want`.
fn same_lines(t: &Twin, needles: &[&str], want: &[&str]) {
    for s in [&t.ka, &t.lite] {
        let got = s.lines_from_init(needles);
        assert_eq!(got, want, "{:?}\n{}", s.kind, t.logs("r1"));
    }
}

#[test]
fn root_netns_a_lost_source_address_is_a_fault_as_keepalived_says() {
    let mut t = Twin::new(SETUP);
    t.start_masters(CONF, &["VI_1", "VI_2", "VI_3", "VI_4"]);
    let all_vips = |s: &str| {
        [
            "10.88.0.100/32",
            "fd00:2::100/64",
            "10.88.3.100/32",
            "fd00:4::100/64",
        ]
        .iter()
        .all(|v| s.contains(v))
    };
    t.same_state("masters", all_vips);

    // VI_4: its VMAC down, then up again without its link-local address.
    both(&t, &["link", "set", "dev", "vrrp.54", "down"]);
    t.wait_log("r1", "(VI_4) Entering FAULT STATE", 1);
    t.same_state("VI_4 fault", |s| !s.contains("fd00:4::100/64"));
    both(&t, &["link", "set", "dev", "vrrp.54", "up"]);
    t.wait_log("r1", "Netlink reports vrrp.54 up", 1);
    t.same_state("VI_4 up, still in fault", |s| {
        s.contains("vrrp.54@eth3: <BROADCAST,MULTICAST,UP,LOWER_UP>")
            && !s.contains("fd00:4::100/64")
    });

    // VI_1: the VMAC's base interface loses its only IPv4 address.
    both(&t, &["addr", "del", "10.77.0.1/24", "dev", "eth0"]);
    t.wait_log("r1", "(VI_1) Entering FAULT STATE", 1);
    t.same_state("VI_1 fault", |s| {
        !s.contains("10.88.0.100/32") && s.contains("vrrp.51@eth0: <BROADCAST,MULTICAST,UP")
    });
    both(&t, &["addr", "add", "10.77.0.1/24", "dev", "eth0"]);
    t.wait_log("r1", "(VI_1) Entering MASTER STATE", 2);
    t.same_state("VI_1 master again", |s| s.contains("10.88.0.100/32"));

    // VI_2: its interface's link-local address goes, another is left
    // (no change); that one goes too, another comes.
    let ll = link_local(&t.lite, "eth1");
    assert_eq!(link_local(&t.ka, "eth1"), ll);
    both(&t, &["addr", "add", "fe80::98/64", "dev", "eth1", "nodad"]);
    both(&t, &["addr", "del", &ll, "dev", "eth1"]);
    t.same_state("VI_2 on another link-local", |s| {
        s.contains("fd00:2::100/64") && !s.contains(&format!("inet6 {ll} "))
    });
    both(&t, &["addr", "del", "fe80::98/64", "dev", "eth1"]);
    t.wait_log("r1", "(VI_2) Entering FAULT STATE", 1);
    t.same_state("VI_2 fault", |s| !s.contains("fd00:2::100/64"));
    both(&t, &["addr", "add", "fe80::99/64", "dev", "eth1", "nodad"]);
    t.wait_log("r1", "(VI_2) Entering MASTER STATE", 2);
    t.same_state("VI_2 master again", |s| s.contains("fd00:2::100/64"));

    // VI_3: its configured source address goes and comes back.
    both(&t, &["addr", "del", "10.66.0.1/24", "dev", "eth2"]);
    t.same_state("VI_3 without its source", |s| {
        s.contains("10.88.3.100/32") && !s.contains("10.66.0.1/24")
    });
    both(&t, &["addr", "add", "10.66.0.1/24", "dev", "eth2"]);
    t.same_state("VI_3 with its source", |s| {
        s.contains("10.88.3.100/32") && s.contains("10.66.0.1/24")
    });

    // VI_5: its VMAC's base loses its link-local address, then gets another.
    let ll = link_local(&t.lite, "eth4");
    assert_eq!(link_local(&t.ka, "eth4"), ll);
    assert_eq!(link_local(&t.lite, "vrrp.55"), ll);
    both(&t, &["addr", "del", &ll, "dev", "eth4"]);
    let kept = format!("inet6 {ll} scope link");
    t.same_state("VI_5 base without link-local", |s| {
        s.contains("fd00:5::100/64") && s.matches(&kept).count() == 1
    });
    both(&t, &["addr", "add", "fe80::55/64", "dev", "eth4", "nodad"]);
    t.same_state("VI_5 new source", |s| {
        let on_both = s.matches("inet6 fe80::55/64 scope link").count() == 2;
        s.contains("fd00:5::100/64") && on_both && !s.contains(&kept)
    });

    let back = [
        "Entering BACKUP STATE (init)",
        "Entering MASTER STATE",
        "Entering FAULT STATE",
        "Entering BACKUP STATE",
        "Entering MASTER STATE",
    ];
    for vi in ["VI_1", "VI_2"] {
        let want: Vec<String> = back.iter().map(|l| format!("({vi}) {l}")).collect();
        let want: Vec<&str> = want.iter().map(String::as_str).collect();
        same_lines(&t, &[&format!("({vi}) Entering")], &want);
    }
    let master = [
        "(VI_3) Entering BACKUP STATE (init)",
        "(VI_3) Entering MASTER STATE",
    ];
    same_lines(&t, &["(VI_3) Entering"], &master);
    let master = master.map(|l| l.replace("VI_3", "VI_5"));
    let master: Vec<&str> = master.iter().map(String::as_str).collect();
    same_lines(&t, &["(VI_5) Entering"], &master);
    let vi4 = [
        "(VI_4) Entering BACKUP STATE (init)",
        "(VI_4) Entering MASTER STATE",
        "Netlink reports vrrp.54 down",
        "(VI_4) Entering FAULT STATE",
        "Netlink reports vrrp.54 up",
    ];
    same_lines(&t, &["(VI_4) Entering", "Netlink reports vrrp.54"], &vi4);
    for s in t.sides() {
        s.stop();
    }
}
