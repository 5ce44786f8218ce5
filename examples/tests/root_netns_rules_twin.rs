//! keepalived 2.2.7 and keepalived-lite side by side on the same
//! configuration with `static_rules`, `virtual_rules` and multipath
//! routes (issue 14): the policy rules (`ip rule`, `ip -6 rule`) and the
//! routes of every table are the same as MASTER, after the instance goes
//! BACKUP (a peer with a higher priority takes over), and after stop.
//!
//! Each daemon runs in its own layout of the twin harness (bridge, node
//! `r1` with `eth0` = 10.77.0.1/24, peer `r2`), so both see the same
//! interface names and addresses; the whole kernel state is compared
//! (`twin::Side::snapshot`). Needs root, iproute2, nft and keepalived.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use twin::Twin;

/// The rules sample (keepalived.conf.vrrp.rules) adapted to the lab, with
/// more rule options, IPv6 rules and multipath routes.
const CONF: &str = "\
global_defs {
    router_id TWIN
}
static_rules {
    from 192.168.100.0/24 table 1
    to 192.168.101.0/24 table 1 priority 100
    from 2001:db8:100::/48 table 5 priority 200
}
static_routes {
    192.168.220.0/24 nexthop via 10.77.0.250 dev eth0 weight 2 nexthop via 10.77.0.251 dev eth0
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        10.77.0.100/24
    }
    virtual_rules {
        from 192.168.200.0/24 table 2
        to 192.168.201.0/24 table 2 priority 300
        fwmark 7/0xff lookup 3 priority 301
        iif eth0 to 192.168.202.0/24 priority 302 blackhole
        not from 192.168.203.0/24 priority 303 table 1000
        from 2001:db8:200::/48 table 6 priority 400
        priority 500 goto 600
        priority 601 ipproto tcp sport 1024-65534 dport 80-88 table 2
        tos 0x10 priority 602 table 2
        uidrange 1000-2000 oif eth0 priority 603 prohibit
        fwmark 9 priority 604 no_track nop
        from 2001:db8:300::/48 priority 605 unreachable
    }
    virtual_routes {
        192.168.113.0/24 via 10.77.0.252 or 10.77.0.253
        192.168.114.0/24 nexthop via 10.77.0.250 dev eth0 weight 3 nexthop via 10.77.0.251 dev eth0
        192.168.115.0/24 via 10.77.0.254 table 2
    }
}
";

/// The peer: same VRID, higher priority, nothing else.
const PEER: &str = "\
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 200
    advert_int 1
    virtual_ipaddress {
        10.77.0.100/24
    }
}
";

#[test]
fn root_netns_rules_and_multipath_routes_match_keepalived() {
    let mut twin = Twin::new(&[]);
    twin.start_masters(CONF, &["VI_1"]);
    // What MASTER must have, so that "the same" is not "both empty".
    let want = [
        "16384: from 192.168.100.0/24 lookup 1 proto keepalived",
        "100: from all to 192.168.101.0/24 lookup 1 proto keepalived",
        "16383: from 192.168.200.0/24 lookup 2 proto keepalived",
        "303: not from 192.168.203.0/24 lookup 1000 proto keepalived",
        "500: from all goto 600 [unresolved] proto keepalived",
        "601: from all ipproto tcp sport 1024-65534 dport 80-88 lookup 2 proto keepalived",
        "400: from 2001:db8:200::/48 lookup 6 proto keepalived",
        "602: from all tos 0x10 lookup 2 proto keepalived",
        "603: from all oif eth0 uidrange 1000-2000 prohibit proto keepalived",
        "604: from all fwmark 0x9 nop\n",
        "605: from 2001:db8:300::/48 unreachable proto keepalived",
        "192.168.113.0/24 proto keepalived",
        "nexthop via 10.77.0.250 dev eth0 weight 3",
        "192.168.220.0/24 proto keepalived",
        "inet 10.77.0.100/24 scope global secondary eth0",
    ];
    twin.same_state("MASTER", |s| want.iter().all(|w| s.contains(w)));

    // A reload (SIGHUP) with one virtual rule and one static rule changed.
    let reloaded = CONF
        .replace(
            "to 192.168.201.0/24 table 2 priority 300",
            "to 192.168.209.0/24 table 2 priority 310",
        )
        .replace(
            "from 2001:db8:100::/48 table 5",
            "from 2001:db8:101::/48 table 5",
        );
    for side in twin.sides() {
        side.reload(&reloaded);
    }
    twin.same_state("MASTER after reload", |s| {
        s.contains("310: from all to 192.168.209.0/24")
            && s.contains("2001:db8:101::/48")
            && !s.contains("192.168.201.0/24")
            && !s.contains("2001:db8:100::/48")
    });

    twin.start_peers(PEER, &["VI_1"]);
    twin.same_state("BACKUP", |s| {
        !s.contains("192.168.200.0/24")
            && !s.contains("10.77.0.100")
            && s.contains("from 192.168.100.0/24 lookup 1")
    });

    twin.stop_both(|s| !s.contains("lookup 1 ") && !s.contains("192.168.220.0/24"));
}
