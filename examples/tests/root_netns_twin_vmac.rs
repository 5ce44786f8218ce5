//! VMAC (`use_vmac`), keepalived 2.2.7 against keepalived-lite in twin
//! layouts (issue 14; needs root, iproute2, nft and keepalived): an IPv4
//! and an IPv6 instance with a VMAC each on `eth0`. The links
//! (`ip -d addr`: macvlan mode, MAC, flags, addresses, the IPv6 VMAC's
//! deprecated link-local source), where the addresses go (`dev` the
//! instance's interface: the VMAC; an excluded address of the other
//! family: the interface), routes and rules are the same as MASTER, as
//! BACKUP (a keepalived peer with a higher priority and a VMAC too takes
//! over) and after stop, and so are the notify lines.
//!
//! A peer with a VMAC sends from the same virtual MAC as the router's own
//! VMAC, and the kernel hands a multicast frame whose source MAC is a
//! local private macvlan's to that macvlan only, never to the base
//! interface (issue 14): a VMAC router reads its adverts on its VMAC, as
//! keepalived does. A peer without a VMAC is heard as well
//! (`root_netns_twin_vmac_peer_without_a_vmac_is_heard_too`).
//!
//! The VMAC of an IPv4 instance runs IPv6 (`disable_ipv6` off) only if
//! the instance has IPv6 excluded addresses, in both: without, it has no
//! IPv6 multicast route (the IPv4-only test), with, it has (the IPv6
//! test).
//!
//! The nftables ruleset is compared too: an IPv4 VMAC's IGMP rule in
//! `table ip keepalived`; for an IPv6 VMAC `table ip6 keepalived`
//! (`vmac_map`, `vmac_set`, the rules that send MLD reports out of the
//! base interface and drop router solicitations from the macvlan), and
//! for an IPv4 VMAC with IPv6 excluded addresses both tables.
//!
//! `use_vmac NAME` and the global `vmac_prefix` name the VMACs
//! (`root_netns_twin_named_vmac_matches_keepalived`);
//! `vmac_xmit_base` sends and reads adverts on the base interface
//! (`root_netns_twin_vmac_xmit_base_matches_keepalived`).
//! `use_vmac_addr`: `root_netns_twin_vmac_addr.rs`.
//!
//! VMAC settings keepalived 2.2.7's `-t` rejects are checked to be
//! rejected by keepalived-lite's `-t` too. `use_ipvlan`, which the host
//! kernel cannot run, is compared in the VM: tests/vm_vrrp.rs.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use twin::Twin;

/// An IPv6 address on `eth0` of each node.
const SETUP: &[&[&str]] = &[&["addr", "add", "2001:db8:77::@N@/64", "dev", "eth0", "nodad"]];

const CONF: &str = "\
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    use_vmac
    virtual_router_id 51
    priority 100
    advert_int 1
    notify @NOTIFY@
    virtual_ipaddress {
        10.77.0.100/24
        10.77.0.101/24 dev eth0
    }
@EXCLUDED@}
@V6@";

/// An excluded address of the other family.
const EXCLUDED: &str = "    virtual_ipaddress_excluded {\n        2001:db8:77::200/64\n    }\n";

/// An IPv6 instance with a VMAC.
const V6: &str = "\
vrrp_instance VI_6 {
    state MASTER
    interface eth0
    use_vmac
    virtual_router_id 52
    priority 100
    advert_int 1
    virtual_ipaddress {
        2001:db8:77::100/64
    }
}
";

/// The router's configuration at a higher priority, without notify.
fn peer(conf: &str) -> String {
    conf.replace("state MASTER", "state BACKUP")
        .replace("priority 100", "priority 200")
        .replace("    notify @NOTIFY@\n", "")
}

const NOTIFY: [&str; 4] = [
    "INSTANCE VI_1 BACKUP 100",
    "INSTANCE VI_1 MASTER 100",
    "INSTANCE VI_1 BACKUP 100",
    "INSTANCE VI_1 STOP 100",
];

#[test]
fn root_netns_twin_vmac_links_addresses_and_ruleset_match_keepalived() {
    let mut twin = Twin::new(SETUP);
    let ipv6_on_vmac = "multicast ff00::/8 dev vrrp.51";
    let conf = CONF.replace("@V6@", "").replace("@EXCLUDED@", "");
    let master = |s: &str| {
        s.contains("vrrp.51@eth0:")
            && s.contains("link/ether 00:00:5e:00:01:33")
            && s.contains("inet 10.77.0.101/24 scope global secondary vrrp.51")
            && s.contains("elements = { \"vrrp.51\" : \"eth0\" }")
    };
    let backup = |s: &str| s.contains("vrrp.51@eth0:") && !s.contains("10.77.0.100");
    let stopped = |s: &str| !s.contains("vrrp.5") && !s.contains("table ip");
    let has_ipv6 = |side: &twin::Side| {
        let routes = side.ip(&["-6", "route", "show", "table", "local"]);
        routes.contains(ipv6_on_vmac)
    };
    twin.start_masters(&conf, &["VI_1"]);
    twin.same_state("MASTER", master);
    assert!(!has_ipv6(&twin.lite) && !has_ipv6(&twin.ka));
    twin.start_peers(&peer(&conf), &["VI_1"]);
    twin.same_state("BACKUP", backup);
    twin.stop_both(stopped);
    twin.same_notify("BACKUP, MASTER, BACKUP, stop", &NOTIFY);
}

#[test]
fn root_netns_twin_vmac_ipv6_links_and_addresses_match_keepalived() {
    let mut twin = Twin::new(SETUP);
    let conf = CONF.replace("@V6@", V6).replace("@EXCLUDED@", EXCLUDED);
    let master = |s: &str| {
        s.contains("vrrp.52@eth0:")
            && s.contains("link/ether 00:00:5e:00:02:34")
            && s.contains("inet6 2001:db8:77::100/64 scope global nodad")
            && s.contains("inet6 fe80::77:ff:fe01:2/64 scope link nodad deprecated")
            && s.contains("inet 10.77.0.101/24 scope global secondary vrrp.51")
            && s.contains("inet6 2001:db8:77::200/64 scope global nodad")
    };
    let backup = |s: &str| s.contains("vrrp.52@eth0:") && !s.contains("2001:db8:77::100");
    let stopped = |s: &str| !s.contains("vrrp.5");
    twin.start_masters(&conf, &["VI_6"]);
    twin.same_state("MASTER", master);
    // Both VMACs are in the ip6 table (VI_1's for its IPv6 excluded
    // address), VI_1's alone in the ip table.
    let ka = twin.ka.run("nft", &["list", "table", "ip6", "keepalived"]);
    for want in [
        "\"vrrp.51\" : \"eth0\"",
        "\"vrrp.52\" : \"eth0\"",
        "nd-router-solicit",
    ] {
        assert!(ka.contains(want), "{want} in {ka}");
    }
    twin.start_peers(&peer(&conf), &["VI_6"]);
    twin.same_state("BACKUP", backup);
    twin.stop_both(stopped);
    twin.same_notify("BACKUP, MASTER, BACKUP, stop", &NOTIFY);
}

/// A peer without a VMAC: its adverts reach the base interface and the
/// VMAC; keepalived-lite goes BACKUP and back exactly as keepalived.
#[test]
fn root_netns_twin_vmac_peer_without_a_vmac_is_heard_too() {
    let mut twin = Twin::new(SETUP);
    let conf = CONF.replace("@V6@", "").replace("@EXCLUDED@", "");
    let backup = |s: &str| s.contains("vrrp.51@eth0:") && !s.contains("10.77.0.100");
    twin.start_masters(&conf, &["VI_1"]);
    twin.start_peers(&peer(&conf).replace("    use_vmac\n", ""), &["VI_1"]);
    twin.same_state("BACKUP", backup);
    for side in twin.sides() {
        side.stop_peer();
    }
    twin.wait_log("r1", "(VI_1) Entering MASTER STATE", 2);
    let master = |s: &str| s.contains("inet 10.77.0.100/24");
    twin.same_state("MASTER again", master);
    for side in twin.sides() {
        side.stop();
    }
    let notify = ["INSTANCE VI_1 BACKUP 100", "INSTANCE VI_1 MASTER 100"];
    let want = [
        notify[0],
        notify[1],
        notify[0],
        notify[1],
        "INSTANCE VI_1 STOP 100",
    ];
    twin.same_notify("BACKUP, MASTER, BACKUP, MASTER, stop", &want);
}

/// `use_vmac NAME MAC` (VI_1, five octets: the VRID is the sixth) and the
/// global `vmac_prefix` (VI_6, unnamed): the VMACs have those names and
/// MACs, in the links, the addresses and the
/// ruleset, as MASTER, as BACKUP (the peer's VMACs are named alike) and
/// after stop.
#[test]
fn root_netns_twin_named_vmac_matches_keepalived() {
    let mut twin = Twin::new(SETUP);
    let conf = CONF.replace("@V6@", V6).replace("@EXCLUDED@", "");
    let conf = conf.replacen("use_vmac\n", "use_vmac vmac51 02:78:00:00:00\n", 1);
    let conf = format!("global_defs {{\n    vmac_prefix vmx\n}}\n{conf}");
    let master = |s: &str| {
        s.contains("vmac51@eth0:")
            && s.contains("link/ether 02:78:00:00:00:33")
            && s.contains("inet 10.77.0.100/24 scope global vmac51")
            && s.contains("vmx.52@eth0:")
            && s.contains("link/ether 00:00:5e:00:02:34")
            && s.contains("inet6 2001:db8:77::100/64 scope global nodad")
            && s.contains("\"vmx.52\" : \"eth0\"")
            && !s.contains("vrrp.5")
    };
    let backup = |s: &str| s.contains("vmac51@eth0:") && !s.contains("10.77.0.100");
    let stopped = |s: &str| !s.contains("vm") && !s.contains("table ip");
    twin.start_masters(&conf, &["VI_1", "VI_6"]);
    twin.same_state("MASTER", master);
    twin.start_peers(&peer(&conf), &["VI_1", "VI_6"]);
    twin.same_state("BACKUP", backup);
    twin.stop_both(stopped);
    twin.same_notify("BACKUP, MASTER, BACKUP, stop", &NOTIFY);
}

/// `vmac_xmit_base`: adverts leave from and are read on `eth0`, the
/// VMACs keep the addresses, and the IPv6 VMAC has no link-local
/// address; two such routers hear each other (the peer takes over) and
/// the state is the same as keepalived's as MASTER, BACKUP and after stop.
#[test]
fn root_netns_twin_vmac_xmit_base_matches_keepalived() {
    let mut twin = Twin::new(SETUP);
    let conf = (CONF.replace("@V6@", V6).replace("@EXCLUDED@", ""))
        .replace("use_vmac\n", "use_vmac\n    vmac_xmit_base\n");
    let master = |s: &str| {
        s.contains("inet 10.77.0.100/24 scope global vrrp.51")
            && s.contains("vrrp.52@eth0:")
            && s.contains("inet6 2001:db8:77::100/64 scope global nodad")
            && !s.contains("scope link nodad deprecated")
    };
    let backup = |s: &str| {
        s.contains("vrrp.52@eth0:") && !s.contains("10.77.0.100") && !s.contains("77::100")
    };
    let stopped = |s: &str| !s.contains("vrrp.5") && !s.contains("table ip");
    twin.start_masters(&conf, &["VI_1", "VI_6"]);
    twin.same_state("MASTER", master);
    // One advert of each family as `r2` sees it: from `eth0`'s MAC.
    let ka = first_adverts(&twin.ka);
    assert!(ka
        .iter()
        .all(|a| a.contains("vrid 5") && !a.contains("00:00:5e:00:0")));
    assert_eq!(first_adverts(&twin.lite), ka);
    twin.start_peers(&peer(&conf), &["VI_1", "VI_6"]);
    twin.same_state("BACKUP", backup);
    twin.stop_both(stopped);
    twin.same_notify("BACKUP, MASTER, BACKUP, stop", &NOTIFY);
}

/// The first IPv4 and IPv6 advert `r2` captures (`tcpdump -e`: with the
/// MACs), without time stamps.
fn first_adverts(side: &twin::Side) -> [String; 2] {
    ["ip proto 112", "ip6 proto 112"].map(|filter| {
        let mut args = vec![
            "10", "tcpdump", "-i", "eth0", "-c", "1", "-e", "-n", "-t", "-l",
        ];
        args.push(filter);
        let out = side.lab.run("r2", "timeout", &args).unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
}

/// A name the kernel would not take, a multicast MAC and an IPv4
/// `use_ipvlan` without address are refused by `-t` (exit 5), as
/// keepalived 2.2.7's `-t` reports them as errors.
#[test]
fn vmac_options_keepalived_lite_does_not_run_are_refused_by_t() {
    let bad_name = "VMAC interface name too long or invalid characters";
    let conf = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  \
                use_vmac vmac_name_too_long\n  virtual_ipaddress {\n    10.77.0.100/24\n  }\n}\n";
    twin::assert_refused_by_t(conf, &[format!("(VI_1) {bad_name}")]);
    let multicast = conf.replace("vmac_name_too_long", "vm1 01:00:00:00:00:01");
    let want = "(VI_1) VMAC MAC address is multicast";
    twin::assert_refused_by_t(&multicast, &[want.to_owned()]);
    // keepalived 2.2.7's `-t` fails on an IPv4 ipvlan without address
    // (tests/vm_vrrp.rs runs one with an address).
    let ipvlan = conf.replace("use_vmac vmac_name_too_long", "use_ipvlan");
    let want = "(VI_1) IPv4 ipvlan requires a source ip address";
    twin::assert_refused_by_t(&ipvlan, &[want.to_owned()]);
}
