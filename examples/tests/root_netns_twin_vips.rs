//! Virtual addresses with their options, keepalived 2.2.7 against
//! keepalived-lite in twin layouts (issue 14; needs root, iproute2, nft
//! and keepalived): `brd` (address, `+`, `-`), `dev`, `scope`, `label`,
//! prefix lengths, `virtual_ipaddress_excluded` of both families, and an
//! IPv6 instance with IPv6 VIPs. `ip -d addr`, the routes of every table,
//! the rules and the ruleset are the same as MASTER, as BACKUP (a
//! keepalived peer with a higher priority takes over) and after stop, and
//! so are the notify lines.
//!
//! `peer`, `home`, `-nodad`, `mngtmpaddr`, `noprefixroute`, `autojoin`
//! and `preferred_lft` on addresses of both families too. Options
//! keepalived refuses (`nodad`, a `peer` on an address with a prefix) are
//! checked to be refused by `-t`.
//!
//! A second `virtual_ipaddress` (and `virtual_ipaddress_excluded`) block
//! adds its addresses to the first's, as keepalived installs them.
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
        10.77.0.104 peer 10.77.0.204
        10.77.0.105/24 home noprefixroute preferred_lft 0 -nodad
        10.77.0.106/24 mngtmpaddr dev eth1
        10.77.0.107/24 autojoin
        10.77.0.108/24 home
    }
    virtual_ipaddress_excluded {
        10.77.0.110/24
        10.78.0.1/28 dev eth1 scope 100
        2001:db8:77::10/64
        2001:db8:78::1/64 dev eth1
        2001:db8:78::2/64 dev eth1 noprefixroute
    }
    virtual_ipaddress {
        10.77.0.120/24
        10.77.0.121 dev eth1
    }
    virtual_ipaddress_excluded {
        10.77.0.130/24
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
        2001:db8:76::3/64 preferred_lft 0
        2001:db8:76::4 preferred_lft forever
        2001:db8:76::5/64 -nodad
        2001:db8:76::6 peer 2001:db8:76::66 home
        2001:db8:76::8/64 mngtmpaddr
        2001:db8:76::9 mngtmpaddr
        2001:db8:76::7/64 preferred_lft 600
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
        "inet 10.77.0.104 peer 10.77.0.204/32 scope global eth0",
        // The kernel keeps no `home` or `mngtmpaddr` on IPv4 addresses.
        "inet 10.77.0.105/24 scope global secondary noprefixroute eth0",
        "inet 10.77.0.106/24 scope global eth1",
        "inet6 2001:db8:78::2/64 scope global nodad noprefixroute",
        "inet6 2001:db8:76::3/64 scope global nodad deprecated",
        "inet6 2001:db8:76::4/128 scope global nodad",
        "inet6 2001:db8:76::6 peer 2001:db8:76::66/128 scope global nodad home",
        "inet6 2001:db8:76::8/64 scope global nodad mngtmpaddr",
        // The second blocks' addresses, beside the first's.
        "inet 10.77.0.120/24 scope global secondary eth0",
        "inet 10.77.0.121/32 scope global eth1",
        "inet 10.77.0.130/24 scope global secondary eth0",
    ]);
    // `-nodad`: duplicate address detection done, no flag left.
    let dad = |s: &str| {
        s.lines()
            .any(|l| l.trim() == "inet6 2001:db8:76::5/64 scope global")
    };
    // The kernel refuses `autojoin` on a unicast IPv4 address, and
    // `mngtmpaddr` on an IPv6 one that is not a /64, in both layouts.
    let refused = ["10.77.0.107", "2001:db8:76::9"];
    let master_has = |s: &str| master_has(s) && dad(s) && refused.iter().all(|r| !s.contains(r));
    let lacks = |gone: &'static [&'static str]| move |s: &str| gone.iter().all(|g| !s.contains(g));
    let vips = &[
        "10.77.0.100",
        "10.77.0.101",
        "192.168.50.1",
        "2001:db8:76::1",
        "10.77.0.110",
        "2001:db8:77::10",
        "10.77.0.105",
        "2001:db8:76::3",
        "2001:db8:76::6",
        "10.77.0.120",
        "10.77.0.121",
        "10.77.0.130",
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
/// not run are refused by name by `-t` (exit 5), each at its line; a peer
/// with a prefix fails `-t` as in keepalived.
#[test]
fn vip_options_keepalived_lite_does_not_run_are_refused_by_t() {
    // `no_track` runs: root_netns_notrack_twin.rs.
    for option in [
        // keepalived: unknown (its -t exits 5 too).
        "nodad",
        "preferred_lft soon",
    ] {
        // Refused as unsupported, or as unknown options.
        let value = option.rsplit(' ').next().unwrap();
        let want = [
            format!("virtual_ipaddress option \"{value}\" is not supported by keepalived-lite"),
            format!("unknown option '{value}' for ip address 10.77.0.100/24"),
        ];
        let conf = format!(
            "vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n  \
             virtual_ipaddress {{\n    10.77.0.100/24 {option}\n  }}\n}}\n"
        );
        twin::assert_refused_by_t(&conf, &want);
    }
    // A peer on an address with a prefix: keepalived's configuration
    // error (-t exits 5), then the address with the peer's full length,
    // as keepalived installs it ("inet 10.77.0.100 peer 10.77.0.9/32").
    let conf = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  \
                virtual_ipaddress {\n    10.77.0.100/24 peer 10.77.0.9\n  }\n}\n";
    let want = "Cannot specify address prefix when specifying peer address - ignoring";
    twin::assert_refused_by_t(conf, &[want.to_owned()]);
}
