//! Static and virtual routes with their options, keepalived 2.2.7 against
//! keepalived-lite in twin layouts (issue 14; needs root, iproute2, nft and
//! keepalived): `via`, `dev`, `src`, `table`, `metric`, `scope`,
//! `protocol` (read and checked, but keepalived 2.2.7 installs its own
//! protocol anyway), `onlink`, metrics (`mtu`, `advmss`, `hoplimit`, `window`,
//! `initcwnd`, `initrwnd`, `cwnd`, `ssthresh`, `reordering`, `rtt`,
//! `rttvar`, `rto_min`, `features`, `quickack`, `fastopen_no_cookie`,
//! `congctl`, with `lock`), `tos`, `realms`, `pref`, typed options after
//! untyped ones, `protocol` with `no_track`, `from` (IPv6), `prepend`
//! (the default), `add` and `append`, `encap ip` and `encap ip6`,
//! the `blackhole`, `unreachable` and `prohibit` types, `default`
//! (`default6`), host routes and IPv6 routes, in `static_routes` and
//! `virtual_routes`. The routes of
//! every table (and the rest of the kernel state) are the same as MASTER,
//! as BACKUP (a keepalived peer with a higher priority takes over) and
//! after stop, and so are the notify lines. `encap mpls`, `encap ila` and
//! `ttl-propagate` need modules the host kernel lacks: tests/vm_vrrp.rs
//! compares them in the VM.
//!
//! Route options keepalived 2.2.7's parser accepts (vrrp_iproute.c) that
//! keepalived-lite does not run are checked to be refused by name by `-t`.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use twin::Twin;

/// A second interface `eth1` (10.88.0.N/24) and an IPv6 address on `eth0`
/// on each node, for the gateways.
const SETUP: &[&[&str]] = &[
    &[
        "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
    ],
    &["link", "set", "eth1p", "up"],
    &["link", "set", "eth1", "up"],
    &["addr", "add", "10.88.0.@N@/24", "dev", "eth1"],
    &["addr", "add", "2001:db8:77::@N@/64", "dev", "eth0", "nodad"],
];

const CONF: &str = "\
static_routes {
    192.168.60.0/24 via 10.77.0.254 metric 10
    192.168.61.0/24 dev eth1 scope link table 100
    blackhole 192.168.62.0/24
    2001:db8:60::/48 via 2001:db8:77::fe
    unreachable 2001:db8:61::/48 table 100 metric 7
    192.168.63.0/24 via 10.77.0.254 metric 9 protocol bird
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    notify @NOTIFY@
    virtual_ipaddress {
        10.77.0.100/24
        10.88.0.100/24 dev eth1
    }
    virtual_ipaddress_excluded {
        2001:db8:77::10/64
    }
    virtual_routes {
        192.168.70.0/24 via 10.77.0.254
        192.168.71.0/24 via 10.77.0.254 src 10.77.0.100 metric 20 table 200
        192.168.72.0/24 dev eth1 scope link
        to 192.168.73.0/24 via 10.88.0.254 dev eth1 scope global
        unreachable 192.168.74.0/24
        prohibit 192.168.75.0/24 table 201
        blackhole 192.168.76.0/24 metric 5
        default via 10.77.0.254 table 202
        192.168.77.1 dev eth0
        src 10.88.0.100 192.168.78.0/24 dev eth1 preference 30
        2001:db8:70::/48 via 2001:db8:77::fe dev eth0
        2001:db8:71::/48 dev eth1 metric 100 table 203
        unreachable 2001:db8:72::/48
        2001:db8:73::/48 via 2001:db8:77::fe src 2001:db8:77::10
        blackhole default6 table 204
        192.168.80.0/24 via 10.77.0.254 protocol static
        192.168.81.0/24 via 10.77.0.254 mtu lock 1400 advmss 1300 hoplimit 32
        192.168.82.0/24 via 10.99.0.1 dev eth0 onlink
        192.168.83.0/24 via 10.77.0.254 window 1000 initcwnd 10 initrwnd 20 cwnd lock 5 ssthresh 7 reordering 4
        2001:db8:74::/48 via 2001:db8:77::fe metric 5 mtu 1300 protocol 99
        192.168.84.0/24 via 10.77.0.254 rtt lock 300ms rttvar 1s rto_min 250ms features ecn quickack 1 fastopen_no_cookie 1 congctl lock reno
        192.168.85.0/24 via 10.77.0.254 dev eth0 tos 0x10 realms 2/3 rtt 100
        192.168.86.0/24 mtu 1400 via 10.77.0.254 dev eth0 table 100 metric 5 src 10.77.0.100
        192.168.87.0/24 via 10.77.0.254 dev eth0 protocol bird no_track
        2001:db8:75::/48 via 2001:db8:77::fe dev eth0 pref high
        2001:db8:76::/48 from 2001:db8:1::/48 via 2001:db8:77::fe dev eth0
        192.168.70.0/24 via 10.77.0.252 dev eth0 append
        192.168.70.0/24 via 10.77.0.253 dev eth0
        192.168.88.0/24 via 10.77.0.254 dev eth0 add
        192.168.89.0/24 encap ip id 7 dst 10.77.0.9 ttl 5 dev eth0
        2001:db8:79::/48 encap ip6 id 9 dst 2001:db8:77::9 hoplimit 3 dev eth0
    }
}
";

/// The router's configuration at a higher priority, without notify.
fn peer() -> String {
    CONF.replace("state MASTER", "state BACKUP")
        .replace("priority 100", "priority 200")
        .replace("    notify @NOTIFY@\n", "")
}

#[test]
fn root_netns_twin_routes_with_options_match_keepalived() {
    let mut twin = Twin::new(SETUP);
    let static_routes = [
        "192.168.60.0/24 via 10.77.0.254 dev eth0 proto keepalived metric 10",
        "192.168.61.0/24 dev eth1 table 100 proto keepalived scope link",
        "blackhole 192.168.62.0/24 proto keepalived",
        "2001:db8:60::/48 via 2001:db8:77::fe dev eth0 proto keepalived",
        "unreachable 2001:db8:61::/48 dev lo table 100 proto keepalived metric 7",
        // keepalived 2.2.7 reads `protocol` and installs its own anyway.
        "192.168.63.0/24 via 10.77.0.254 dev eth0 proto keepalived metric 9",
    ];
    let virtual_routes = [
        "192.168.70.0/24 via 10.77.0.254 dev eth0 proto keepalived",
        "192.168.71.0/24 via 10.77.0.254 dev eth0 table 200 proto keepalived src 10.77.0.100 metric 20",
        "unreachable 192.168.74.0/24 proto keepalived",
        "prohibit 192.168.75.0/24 table 201 proto keepalived",
        "default via 10.77.0.254 dev eth0 table 202 proto keepalived",
        "2001:db8:73::/48 via 2001:db8:77::fe dev eth0 proto keepalived src 2001:db8:77::10",
        "blackhole default dev lo table 204 proto keepalived",
        "192.168.80.0/24 via 10.77.0.254 dev eth0 proto keepalived",
        "192.168.81.0/24 via 10.77.0.254 dev eth0 proto keepalived mtu lock 1400 advmss 1300 hoplimit 32",
        "192.168.82.0/24 via 10.99.0.1 dev eth0 proto keepalived onlink",
        "192.168.83.0/24 via 10.77.0.254 dev eth0 proto keepalived",
        "2001:db8:74::/48 via 2001:db8:77::fe dev eth0 proto keepalived metric 5 mtu 1300",
        "192.168.84.0/24 via 10.77.0.254 dev eth0 proto keepalived rtt lock 300ms rttvar 1s features ecn rto_min 250ms quickack 1 congctl lock reno fastopen_no_cookie 1",
        // keepalived raises an rtt below 200 ms to 200 ms.
        "192.168.85.0/24 tos 0x10 via 10.77.0.254 dev eth0 proto keepalived realms 2/3 rtt 200ms",
        "192.168.86.0/24 via 10.77.0.254 dev eth0 table 100 proto keepalived src 10.77.0.100 metric 5 mtu 1400",
        // With `no_track` keepalived installs the protocol it is given.
        "192.168.87.0/24 via 10.77.0.254 dev eth0 proto bird",
        "2001:db8:75::/48 via 2001:db8:77::fe dev eth0 proto keepalived metric 1024 pref high",
        "2001:db8:76::/48 from 2001:db8:1::/48 via 2001:db8:77::fe dev eth0 proto keepalived",
        // Prepended (keepalived's default) and appended next to 10.77.0.254.
        "192.168.70.0/24 via 10.77.0.252 dev eth0 proto keepalived",
        "192.168.70.0/24 via 10.77.0.253 dev eth0 proto keepalived",
        "192.168.88.0/24 via 10.77.0.254 dev eth0 proto keepalived",
        "192.168.89.0/24 encap ip id 7 src 0.0.0.0 dst 10.77.0.9 ttl 5 tos 0 dev eth0 proto keepalived",
        "2001:db8:79::/48 encap ip6 id 9 src :: dst 2001:db8:77::9 hoplimit 3 tc 0 dev eth0 proto keepalived",
    ];
    let master = |s: &str| {
        let all = static_routes.iter().chain(&virtual_routes);
        all.clone().all(|r| s.contains(r))
    };
    let backup = |s: &str| {
        static_routes.iter().all(|r| s.contains(r)) && virtual_routes.iter().all(|r| !s.contains(r))
    };
    let stopped = |s: &str| {
        let ours = [
            "proto keepalived",
            "192.168.63.0",
            "192.168.80.0",
            "2001:db8:74::",
            "192.168.87.0",
        ];
        ours.iter().all(|o| !s.contains(o))
    };
    twin.master_backup_stop(CONF, &peer(), [&master, &backup, &stopped]);
    twin.same_notify(
        "BACKUP, MASTER, BACKUP, stop",
        &[
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 MASTER 100",
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 STOP 100",
        ],
    );
}

/// Route options keepalived 2.2.7 accepts and keepalived-lite does not
/// run are refused by name by `-t` (exit 5).
#[test]
fn route_options_keepalived_lite_does_not_run_are_refused_by_t() {
    for option in [
        // keepalived 2.2.7 reports `as` and drops it (tests/vm_vrrp.rs
        // runs encap mpls, encap ila and ttl-propagate).
        "as to 10.77.0.9",
        "tos AF11",
        "realms cosmos",
        "protocol nosuch",
    ] {
        let word = option.split(' ').next().unwrap();
        let value = option.split(' ').nth(1).unwrap_or(word);
        let want =
            [word, value].map(|w| format!("route {w:?} is not supported by keepalived-lite"));
        let conf = format!(
            "static_routes {{\n  192.168.60.0/24 via 10.77.0.254 {option}\n}}\n\
             vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n  \
             virtual_ipaddress {{\n    10.77.0.100/24\n  }}\n}}\n"
        );
        twin::assert_refused_by_t(&conf, &want);
    }
}
