//! keepalived 2.2.7's configuration errors it runs past (its -t exits 5,
//! the daemon starts): `gw` and `or` in routes, and what strict mode
//! resets. keepalived-lite reports them in keepalived's words as
//! `Code::KeepalivedError` (an error for -t that does not stop start-up).
#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use vrrp_conf::{parse_str, Code, Options, Parsed};

fn parse(text: &str) -> Parsed {
    parse_str("k.conf", text, &Options::default())
}

/// Every diagnostic as (line, code, message, stops start-up), in line
/// order.
fn said(d: &[vrrp_conf::Diagnostic]) -> Vec<(u32, Code, String, bool)> {
    d.iter()
        .map(|d| (d.span.line, d.code, d.message.clone(), d.stops_start()))
        .collect()
}

fn error(line: u32, msg: &str) -> (u32, Code, String, bool) {
    (line, Code::KeepalivedError, msg.to_owned(), false)
}

#[test]
fn gw_and_or_in_routes_are_keepalived_s_errors_once_per_use() {
    let text = "static_routes {\n  10.6.0.0/16 gw 192.0.2.1 dev eth0\n}\n\
                vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  \
                virtual_ipaddress {\n    192.0.2.1\n  }\n  virtual_routes {\n    \
                10.8.0.0/16 via 192.0.2.9 dev eth0 or 192.0.2.10 dev eth0 or 192.0.2.11 dev eth0\n    \
                10.7.0.0/16 gw 192.0.2.9 dev eth0\n  }\n}\n";
    let p = parse(text);
    assert_eq!(
        said(&p.diagnostics),
        [
            error(2, "\"gw\" for routes is deprecated. Please use \"via\""),
            error(
                11,
                "\"or\" for routes is deprecated. Please use \"nexthop\""
            ),
            error(
                11,
                "\"or\" for routes is deprecated. Please use \"nexthop\""
            ),
            error(12, "\"gw\" for routes is deprecated. Please use \"via\""),
        ]
    );
    // Read as `via`: the gateway is kept.
    let gw = p.config.vrrp_instances[0].virtual_routes[1].via;
    assert_eq!(gw, Some("192.0.2.9".parse().unwrap()));
    assert_eq!(
        p.config.static_routes[0].via,
        Some("192.0.2.1".parse().unwrap())
    );
}

#[cfg(feature = "convert-vrrp")]
#[test]
fn strict_mode_resets_are_keepalived_s_errors_and_the_instance_still_runs() {
    use vrrp_conf::convert::{convert, Halves};
    let text = "global_defs {\n  vrrp_strict\n}\n\
                vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  \
                state MASTER\n  priority 150\n  preempt_delay 5\n  accept\n  \
                virtual_ipaddress {\n    192.0.2.1\n  }\n}\n";
    let p = parse(text);
    assert_eq!(said(&p.diagnostics), []);
    let halves = Halves {
        vrrp: true,
        lvs: false,
    };
    let out = convert(&p, halves);
    assert_eq!(
        said(&out.diagnostics),
        [
            error(7, "(VI_1) State MASTER must match being address owner"),
            error(
                9,
                "(VI_1) preempt_delay is incompatible with strict mode - resetting"
            ),
            error(
                10,
                "(VI_1) warning - accept mode for VRRP version 2 does not comply with \
                 RFC3768 - resetting"
            ),
        ]
    );
    let plan = out.vrrp.unwrap();
    let c = &plan.units[0].setup.routers[0].config;
    assert!(!c.accept_mode, "accept reset");
}

/// An instance's own interface in its `track_interface` is ignored; a
/// group's entry a member tracks already is merged (the group's weight
/// replaces a weighted one); each is keepalived's configuration error.
#[cfg(feature = "convert-vrrp")]
#[test]
fn interfaces_tracked_anyway_are_merged_as_keepalived_does() {
    use vrrp_conf::convert::{convert, Halves};
    let text = "vrrp_sync_group G {\n  group {\n    VI_1\n    VI_2\n  }\n  \
                sync_group_tracking_weight\n  track_interface {\n    eth1 weight 7\n    \
                eth0 weight 3\n    eth2 weight 2\n  }\n}\n\
                vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  \
                track_interface {\n    eth0 weight 10\n    eth1 weight 5\n  }\n  \
                virtual_ipaddress {\n    192.0.2.1\n  }\n}\n\
                vrrp_instance VI_2 {\n  interface eth0\n  virtual_router_id 2\n  \
                dont_track_primary\n  track_interface {\n    eth2\n  }\n  \
                virtual_ipaddress {\n    192.0.2.2\n  }\n}\n";
    let p = parse(text);
    assert_eq!(said(&p.diagnostics), []);
    let out = convert(
        &p,
        Halves {
            vrrp: true,
            lvs: false,
        },
    );
    let both = "is configured on VRRP instance and sync group. Remove vrrp instance or \
                sync group config";
    assert_eq!(
        said(&out.diagnostics),
        // keepalived 2.2.7 -t: the group's entries in its order (eth1, eth0).
        [
            error(7, &format!("(VI_1) track_interface eth1 {both}")),
            error(7, &format!("(VI_1) track_interface eth0 {both}")),
            error(7, &format!("(VI_2) track_interface eth2 {both}")),
            error(
                16,
                "(VI_1) Ignoring track_interface eth0 since own interface"
            ),
        ]
    );
    let plan = out.vrrp.unwrap();
    let tracked = |name: &str| -> Vec<(String, i32)> {
        let all = plan.units.iter().flat_map(|u| u.instances.iter());
        let i = all.clone().find(|i| i.name == name).unwrap();
        (i.interfaces.iter())
            .map(|t| (t.name.clone(), t.weight))
            .collect()
    };
    let w = |n: &str, w| (n.to_owned(), w);
    // VI_1: eth0 dropped, eth1 takes the group's weight, eth2 added.
    assert_eq!(tracked("VI_1"), [w("eth1", 7), w("eth2", 2)]);
    // VI_2: its unweighted eth2 stays unweighted; with dont_track_primary
    // the group's eth0 counts, with its weight.
    assert_eq!(tracked("VI_2"), [w("eth2", 0), w("eth1", 7), w("eth0", 3)]);
}
