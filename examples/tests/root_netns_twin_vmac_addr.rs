//! `use_vmac_addr` and the global `vmac_addr_prefix`, keepalived 2.2.7
//! against keepalived-lite in twin layouts (issue 14; needs root,
//! iproute2, nft, tcpdump and keepalived).
//!
//! An instance on `eth0` with addresses on `eth1` and excluded IPv6
//! addresses gets a VMAC per (interface, family) for them: `va.51` on
//! `eth1` (00-00-5E-00-01-33, both IPv4 addresses), `va6.51` on `eth0`
//! and `va1.51` on `eth1` (00-00-5E-00-02-33, each with its base's
//! link-local address, `nodad`, deprecated), made at start-up, addresses
//! on them as MASTER, none as BACKUP, deleted at stop. The links, the
//! addresses, routes, rules and ruleset (`ip -d addr`, ...) are the same
//! as keepalived's in each phase, and so are the IPv4 sysctls keepalived
//! sets (on the VMAC and on `eth1` under it), the source MAC of the
//! adverts (the router's own `eth0`: no instance VMAC) and of the
//! gratuitous ARPs on `eth1` (the VMAC's).
//!
//! With `use_vmac` too, the instance's VMAC is `vrrp.51` on `eth0` and
//! its address VMAC on `eth1` takes the next name, `vrrp1.51`; both get
//! the sysctls, and both bases keep theirs after stop, as with keepalived.
//! An IPv6 instance's IPv4 excluded addresses get IPv4 VMACs alike. A reload
//! deletes the address VMACs no address is left on.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use twin::{Side, Twin};

/// `eth1` (a veth whose peer `eth1p` stays in the node), with an
/// address, on each node.
const SETUP: &[&[&str]] = &[
    &[
        "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
    ],
    &["link", "set", "eth1p", "up"],
    &["link", "set", "eth1", "up"],
    &["addr", "add", "10.78.0.@N@/24", "dev", "eth1"],
];

const CONF: &str = "\
global_defs {
    vmac_addr_prefix va
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    use_vmac_addr
    virtual_router_id 51
    priority 100
    advert_int 1
    garp_master_delay 0
    garp_master_repeat 1
    garp_master_refresh 1
    notify @NOTIFY@
    virtual_ipaddress {
        10.77.0.100/24
        10.78.0.100/24 dev eth1
        10.78.0.101/24 dev eth1
    }
    virtual_ipaddress_excluded {
        2001:db8:77::200/64
        2001:db8:78::200/64 dev eth1
    }
}
";

const NOTIFY: [&str; 4] = [
    "INSTANCE VI_1 BACKUP 100",
    "INSTANCE VI_1 MASTER 100",
    "INSTANCE VI_1 BACKUP 100",
    "INSTANCE VI_1 STOP 100",
];

/// The router's configuration at a higher priority, without notify.
fn peer(conf: &str) -> String {
    conf.replace("state MASTER", "state BACKUP")
        .replace("priority 100", "priority 200")
        .replace("    notify @NOTIFY@\n", "")
}

#[test]
fn root_netns_twin_vmac_addr_matches_keepalived() {
    let mut twin = Twin::new(SETUP);
    let links = |s: &str| {
        s.contains("va.51@eth1:")
            && s.contains("va6.51@eth0:")
            && s.contains("va1.51@eth1:")
            && s.contains("link/ether 00:00:5e:00:01:33")
            && s.contains("link/ether 00:00:5e:00:02:33")
            && s.contains("scope link nodad deprecated")
    };
    let master = |s: &str| {
        links(s)
            && s.contains("inet 10.77.0.100/24 scope global secondary eth0")
            && s.contains("inet 10.78.0.100/24 scope global va.51")
            && s.contains("inet 10.78.0.101/24 scope global secondary va.51")
            && s.contains("inet6 2001:db8:77::200/64 scope global nodad")
            && s.contains("inet6 2001:db8:78::200/64 scope global nodad")
    };
    let backup = |s: &str| links(s) && !s.contains("10.78.0.100") && !s.contains("78::200");
    let stopped = |s: &str| !s.contains("va.51") && !s.contains("va6.51") && !s.contains("va1.51");
    twin.start_masters(CONF, &["VI_1"]);
    twin.same_state("MASTER", master);
    let ka = sysctls(&twin.ka, "va.51");
    assert_eq!(ka, SYSCTLS, "keepalived's");
    assert_eq!(sysctls(&twin.lite, "va.51"), ka);
    // The adverts leave from eth0's own MAC; the GARPs on eth1 from the
    // VMAC's (garp_master_refresh repeats them every second).
    let adverts = first_advert(&twin.ka);
    assert!(adverts.starts_with("02:77:00:01:00:"), "{adverts}");
    assert_eq!(first_advert(&twin.lite), adverts);
    let garps = garps_on_eth1(&twin.ka);
    assert_eq!(garps.len(), 2, "one per address: {garps:?}");
    assert!(garps
        .iter()
        .all(|g| g.starts_with("00:00:5e:00:01:33 > ff:ff:ff:ff:ff:ff")));
    assert_eq!(garps_on_eth1(&twin.lite), garps);
    twin.start_peers(&peer(CONF), &["VI_1"]);
    twin.same_state("BACKUP", backup);
    twin.stop_both(stopped);
    // keepalived leaves eth1's ARP settings as it set them.
    assert!(sysctls(&twin.ka, "eth1").starts_with(BASE));
    assert_eq!(sysctls(&twin.lite, "eth1"), sysctls(&twin.ka, "eth1"));
    twin.same_notify("BACKUP, MASTER, BACKUP, stop", &NOTIFY);
}

/// `use_vmac` and `use_vmac_addr` without a prefix: the instance's VMAC
/// is `vrrp.51`, the one for `eth1`'s address `vrrp1.51`.
#[test]
fn root_netns_twin_vmac_addr_with_use_vmac_matches_keepalived() {
    let mut twin = Twin::new(SETUP);
    let conf = CONF
        .replace("    vmac_addr_prefix va\n", "")
        .replace("use_vmac_addr\n", "use_vmac\n    use_vmac_addr\n");
    let master = |s: &str| {
        s.contains("vrrp.51@eth0:")
            && s.contains("vrrp1.51@eth1:")
            && s.contains("inet 10.77.0.100/24 scope global vrrp.51")
            && s.contains("inet 10.78.0.100/24 scope global vrrp1.51")
            && s.contains("inet6 2001:db8:77::200/64 scope global nodad")
    };
    let backup = |s: &str| s.contains("vrrp1.51@eth1:") && !s.contains("10.78.0.100");
    let stopped = |s: &str| !s.contains("vrrp.51") && !s.contains("vrrp1.51");
    twin.start_masters(&conf, &["VI_1"]);
    twin.same_state("MASTER", master);
    for ifname in ["vrrp.51", "vrrp1.51", "eth0", "eth1"] {
        let ka = sysctls(&twin.ka, ifname);
        assert_eq!(sysctls(&twin.lite, ifname), ka, "{ifname}");
    }
    // The router's VMAC runs IPv6: the router has IPv6 excluded addresses.
    let v6_on = SYSCTLS.replace("disable_ipv6=1", "disable_ipv6=0");
    assert_eq!(sysctls(&twin.ka, "vrrp.51"), v6_on);
    assert!(sysctls(&twin.ka, "eth0").starts_with(BASE));
    twin.start_peers(&peer(&conf), &["VI_1"]);
    twin.same_state("BACKUP", backup);
    twin.stop_both(stopped);
    // keepalived 2.2.7 leaves both bases as it set them.
    assert!(
        sysctls(&twin.ka, "eth0").starts_with(BASE),
        "{}",
        sysctls(&twin.ka, "eth0")
    );
    assert!(sysctls(&twin.ka, "eth1").starts_with(BASE));
    for ifname in ["eth0", "eth1"] {
        let ka = sysctls(&twin.ka, ifname);
        assert_eq!(sysctls(&twin.lite, ifname), ka, "{ifname}");
    }
    twin.same_notify("BACKUP, MASTER, BACKUP, stop", &NOTIFY);
}

/// An IPv6 instance: its IPv4 excluded addresses go on IPv4 VMACs,
/// `vrrp.52` on `eth0` and `vrrp1.52` on `eth1`.
#[test]
fn root_netns_twin_vmac_addr_of_an_ipv6_instance_matches_keepalived() {
    let mut twin = Twin::new(SETUP);
    let conf = "\
vrrp_instance VI_6 {
    state MASTER
    interface eth0
    use_vmac_addr
    virtual_router_id 52
    priority 100
    advert_int 1
    virtual_ipaddress {
        2001:db8:77::100/64
    }
    virtual_ipaddress_excluded {
        10.77.0.200/24
        10.78.0.200/24 dev eth1
    }
}
";
    let master = |s: &str| {
        s.contains("vrrp.52@eth0:")
            && s.contains("vrrp1.52@eth1:")
            && s.contains("link/ether 00:00:5e:00:01:34")
            && s.contains("inet 10.77.0.200/24 scope global vrrp.52")
            && s.contains("inet 10.78.0.200/24 scope global vrrp1.52")
            && s.contains("inet6 2001:db8:77::100/64 scope global nodad")
    };
    twin.start_masters(conf, &["VI_6"]);
    twin.same_state("MASTER", master);
    for ifname in ["vrrp.52", "vrrp1.52", "eth0", "eth1"] {
        let ka = sysctls(&twin.ka, ifname);
        assert_eq!(sysctls(&twin.lite, ifname), ka, "{ifname}");
    }
    twin.stop_both(|s| !s.contains("vrrp.52") && !s.contains("vrrp1.52"));
}

/// A reload that drops `eth1`'s IPv6 address and one of its IPv4 ones:
/// `va1.51` goes, `va.51` stays with the address left, as in keepalived.
#[test]
fn root_netns_twin_vmac_addr_reload_matches_keepalived() {
    let mut twin = Twin::new(SETUP);
    twin.start_masters(CONF, &["VI_1"]);
    twin.same_state("MASTER", |s| s.contains("va1.51@eth1:"));
    let fewer = CONF
        .replace("        10.78.0.101/24 dev eth1\n", "")
        .replace("        2001:db8:78::200/64 dev eth1\n", "");
    for side in twin.sides() {
        side.reload(&fewer);
    }
    let reloaded = |s: &str| {
        !s.contains("va1.51")
            && !s.contains("10.78.0.101")
            && s.contains("inet 10.78.0.100/24 scope global va.51")
            && s.contains("va6.51@eth0:")
    };
    twin.same_state("reloaded", reloaded);
    twin.stop_both(|s| !s.contains("va.51") && !s.contains("va6.51"));
}

/// `use_vmac` on single addresses (no `use_vmac_addr`, no instance
/// VMAC): `10.77.0.101` on `eth0` and `10.78.0.100` on `eth1` each get a
/// VMAC as `use_vmac_addr` would make it (`vrrp.51`, `vrrp1.51`); the
/// other addresses stay on their interfaces.
#[test]
fn root_netns_twin_vip_use_vmac_matches_keepalived() {
    let mut twin = Twin::new(SETUP);
    let conf = CONF
        .replace("    vmac_addr_prefix va\n", "")
        .replace("    use_vmac_addr\n", "")
        .replace(
            "10.78.0.100/24 dev eth1",
            "10.78.0.100/24 dev eth1 use_vmac",
        )
        .replace(
            "        10.77.0.100/24\n",
            "        10.77.0.100/24\n        10.77.0.101/24 use_vmac\n",
        );
    let master = |s: &str| {
        s.contains("vrrp.51@eth0:")
            && s.contains("vrrp1.51@eth1:")
            && s.contains("inet 10.77.0.100/24 scope global secondary eth0")
            && s.contains("inet 10.77.0.101/24 scope global vrrp.51")
            && s.contains("inet 10.78.0.100/24 scope global vrrp1.51")
            && s.contains("inet 10.78.0.101/24 scope global secondary eth1")
    };
    for side in twin.sides() {
        side.start(&conf);
    }
    twin.wait_log("r1", "(VI_1) Entering MASTER STATE", 1);
    twin.same_state("MASTER", master);
    for side in twin.sides() {
        side.stop();
    }
    twin.same_state("stopped", |s| {
        !s.contains("vrrp.51") && !s.contains("vrrp1.51")
    });
}

/// keepalived's sysctls of an IPv4 VMAC: `va.51`'s, as `sysctls` reads
/// them.
const SYSCTLS: &str = "arp_ignore=1 arp_filter=0 accept_local=1 rp_filter=0 \
                       promote_secondaries=1 disable_ipv6=1";

/// What keepalived sets on the interface under an IPv4 VMAC.
const BASE: &str = "arp_ignore=1 arp_filter=1";

/// The IPv4 sysctls keepalived sets on a VMAC or its base, and
/// `disable_ipv6`, of interface `ifname` in `r1`.
fn sysctls(side: &Side, ifname: &str) -> String {
    let keys = [
        "arp_ignore",
        "arp_filter",
        "accept_local",
        "rp_filter",
        "promote_secondaries",
    ];
    let mut out: Vec<String> = keys
        .iter()
        .map(|k| format!("/proc/sys/net/ipv4/conf/{ifname}/{k}"))
        .chain([format!("/proc/sys/net/ipv6/conf/{ifname}/disable_ipv6")])
        .map(|path| {
            let key = path.rsplit('/').next().unwrap_or_default().to_owned();
            format!("{key}={}", side.run("cat", &[&path]).trim())
        })
        .collect();
    out.dedup();
    out.join(" ")
}

/// The first advert `r2` captures (`tcpdump -e`: with the MACs), without
/// its time stamp.
fn first_advert(side: &Side) -> String {
    let args = [
        "10",
        "tcpdump",
        "-i",
        "eth0",
        "-c",
        "1",
        "-e",
        "-n",
        "-t",
        "-l",
        "ip proto 112",
    ];
    let out = side.lab.run("r2", "timeout", &args).unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The gratuitous ARPs of two rounds on `r1`'s `eth1` (with the MACs),
/// sorted, each once, without their lengths: keepalived 2.2.7 hands the
/// kernel the 42 bytes of ARP, keepalived-lite pads them to the Ethernet
/// minimum of 60 as the wire does (a known divergence of the GARP
/// sender, not of the VMACs).
fn garps_on_eth1(side: &Side) -> Vec<String> {
    let args = [
        "10", "tcpdump", "-i", "eth1", "-c", "4", "-e", "-n", "-t", "-l", "arp",
    ];
    let out = side.lab.run("r1", "timeout", &args).unwrap();
    let mut lines: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(without_lengths)
        .collect();
    lines.sort();
    lines.dedup();
    lines
}

/// A `tcpdump` line without its `length N` fields.
fn without_lengths(line: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let mut words = line.split_whitespace();
    while let Some(w) = words.next() {
        if w == "length" {
            words.next();
            continue;
        }
        out.push(w);
    }
    out.join(" ")
}
