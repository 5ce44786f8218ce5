//! Virtual addresses with their options, keepalived 2.2.7 against
//! keepalived-lite in twin layouts (issue 14; needs root, iproute2, nft
//! and keepalived): `brd` (address, `+`, `-`), `dev`, `scope`, `label`,
//! prefix lengths, `virtual_ipaddress_excluded` of both families, and an
//! IPv6 instance with IPv6 VIPs. `ip -d addr`, the routes of every table,
//! the rules and the ruleset are the same as MASTER, as BACKUP (a
//! keepalived peer with a higher priority takes over) and after stop, and
//! so are the notify lines.
//!
//! Options keepalived accepts that keepalived-lite refuses by name
//! (`preferred_lft`, `peer`, `home`, `-nodad`, `mngtmpaddr`,
//! `noprefixroute`, `autojoin`) are checked to be refused by `-t`.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use twin::Twin;

/// Both layouts get a second interface `eth1` (a veth pair: no dummy
/// module here) on each node.
const SETUP: &[&[&str]] = &[
    &[
        "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
    ],
    &["link", "set", "eth1p", "up"],
    &["link", "set", "eth1", "up"],
];

const CONF: &str = "\
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    notify @NOTIFY@
    virtual_ipaddress {
        10.77.0.100/24
        10.77.0.101/24 brd 10.77.0.255 label eth0:vip
        10.77.0.102 dev eth1
        10.77.0.103/32 scope link
        192.168.50.1/24 brd + dev eth1 label eth1:a scope host
        192.168.51.1/24 broadcast - dev eth1
        192.168.52.1/16 dev eth1 scope site
    }
    virtual_ipaddress_excluded {
        10.77.0.110/24
        10.78.0.1/28 dev eth1 scope 100
        2001:db8:77::10/64
        2001:db8:78::1/64 dev eth1
    }
}
vrrp_instance VI_6 {
    state MASTER
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    virtual_ipaddress {
        2001:db8:76::1/64
        2001:db8:76::2 dev eth1
        fe80::76:1/64
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
fn root_netns_twin_vips_with_options_match_keepalived() {
    let mut twin = Twin::new(SETUP);
    let has = |want: &'static [&'static str]| move |s: &str| want.iter().all(|w| s.contains(w));
    let master_has = has(&[
        "inet 10.77.0.101/24 brd 10.77.0.255 scope global secondary eth0:vip",
        "inet 192.168.50.1/24 brd 192.168.50.255 scope host eth1:a",
        "inet6 2001:db8:76::2/128 scope global",
        "inet6 2001:db8:78::1/64 scope global",
    ]);
    let lacks = |gone: &'static [&'static str]| move |s: &str| gone.iter().all(|g| !s.contains(g));
    let vips = &[
        "10.77.0.100",
        "10.77.0.101",
        "192.168.50.1",
        "2001:db8:76::1",
        "10.77.0.110",
        "2001:db8:77::10",
    ];
    twin.master_backup_stop(CONF, &peer(), [&master_has, &lacks(vips), &lacks(vips)]);
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

/// The address options keepalived 2.2.7 accepts and keepalived-lite does
/// not run are refused by name by `-t` (exit 5), each at its line.
#[test]
fn vip_options_keepalived_lite_does_not_run_are_refused_by_t() {
    // `no_track` runs: root_netns_notrack_twin.rs.
    for option in [
        "preferred_lft 0",
        "peer 10.77.0.9",
        "home",
        "-nodad",
        "mngtmpaddr",
        "noprefixroute",
        "autojoin",
    ] {
        // Refused as unsupported, or (the flags) as unknown options.
        let word = option.split(' ').next().unwrap();
        let want = [
            format!("virtual_ipaddress option {word} is not supported by keepalived-lite"),
            format!("unknown option '{word}' for ip address 10.77.0.100/24"),
        ];
        let conf = format!(
            "vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n  \
             virtual_ipaddress {{\n    10.77.0.100/24 {option}\n  }}\n}}\n"
        );
        twin::assert_refused_by_t(&conf, &want);
    }
}
