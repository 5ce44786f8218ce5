//! Static items deleted by someone else, keepalived 2.2.7 against
//! keepalived-lite in twin layouts (issue 14; needs root, iproute2, nft
//! and keepalived). keepalived's netlink reflector puts back a
//! `static_ipaddress` entry without `no_track`, a `static_routes` entry
//! with a `dev` and without `no_track`, and a `static_rules` entry
//! without `no_track`; the others stay deleted. Routes and rules only of
//! a family whose notifications keepalived listens to, which it does when
//! an instance tracks a virtual route (rule) of that family: here IPv4,
//! so the IPv6 static route stays deleted too. The kernel state is the
//! same in both layouts before and after the deletions, both log
//! "Restoring deleted static ...", and the router stays MASTER.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use twin::Twin;

const CONF: &str = "\
static_ipaddress {
    10.77.0.150/24 dev eth0
    10.77.0.151/24 dev eth0 no_track
    10.77.0.152 peer 10.77.0.252 dev eth0 noprefixroute
}
static_routes {
    192.168.90.0/24 via 10.77.0.254 dev eth0
    192.168.91.0/24 via 10.77.0.254 dev eth0 no_track
    192.168.92.0/24 via 10.77.0.254
    2001:db8:90::/48 via 2001:db8:77::fe dev eth0
}
static_rules {
    from 10.77.0.150 table 100 priority 100
    from 10.77.0.151 table 101 priority 101 no_track
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
    virtual_routes {
        192.168.95.0/24 via 10.77.0.254 dev eth0
    }
    virtual_rules {
        from 10.77.0.160 table 102 priority 102
    }
}
";

/// An IPv6 address on `eth0` for the IPv6 gateway.
const SETUP: &[&[&str]] = &[&["addr", "add", "2001:db8:77::@N@/64", "dev", "eth0", "nodad"]];

/// What someone else deletes (`ip` argument lists).
const DELETIONS: &[&[&str]] = &[
    &["addr", "del", "10.77.0.150/24", "dev", "eth0"],
    &["addr", "del", "10.77.0.151/24", "dev", "eth0"],
    &[
        "addr",
        "del",
        "10.77.0.152",
        "peer",
        "10.77.0.252",
        "dev",
        "eth0",
    ],
    &["route", "del", "192.168.90.0/24"],
    &["route", "del", "192.168.91.0/24"],
    &["route", "del", "192.168.92.0/24"],
    &["rule", "del", "priority", "100"],
    &["rule", "del", "priority", "101"],
    &["-6", "route", "del", "2001:db8:90::/48"],
];

#[test]
fn root_netns_static_items_deleted_are_restored_as_by_keepalived() {
    let mut twin = Twin::new(SETUP);
    twin.start_masters(CONF, &["VI_1"]);
    let restored = [
        "inet 10.77.0.150/24 scope global secondary eth0",
        "inet 10.77.0.152 peer 10.77.0.252/32 scope global noprefixroute eth0",
        "192.168.90.0/24 via 10.77.0.254 dev eth0 proto keepalived",
        "100: from 10.77.0.150 lookup 100 proto keepalived",
    ];
    let gone = [
        "inet 10.77.0.151/24 scope global secondary eth0",
        "192.168.91.0/24 via 10.77.0.254 dev eth0 proto keepalived",
        "192.168.92.0/24 via 10.77.0.254 dev eth0 proto keepalived",
        "101: from 10.77.0.151 lookup 101",
        "2001:db8:90::/48 via 2001:db8:77::fe dev eth0 proto keepalived",
    ];
    let all = |s: &str| restored.iter().chain(&gone).all(|w| s.contains(w));
    twin.same_state("started", all);
    for s in twin.sides() {
        for args in DELETIONS {
            s.ip(args);
        }
    }
    twin.wait_log("r1", "Restoring deleted static address", 2);
    twin.same_state("after the deletions", |s| {
        restored.iter().all(|w| s.contains(w)) && gone.iter().all(|g| !s.contains(g))
    });
    for needle in [
        "Restoring deleted static route",
        "Restoring deleted static rule",
    ] {
        twin.wait_log("r1", needle, 1);
    }
    let masters = |s: &twin::Side| s.log_text("r1").matches("Entering MASTER STATE").count();
    assert_eq!((masters(&twin.ka), masters(&twin.lite)), (1, 1));
}
