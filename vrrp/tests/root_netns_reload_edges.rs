//! Reloads the driver refuses leave the kernel and the running routers as
//! they were: a VMAC the refused reload would have renamed is still there,
//! with its index, addresses and IPv6 setting, and its master is still
//! master; a new router is never prepared against a running router
//! another new router already updates; a shared VMAC is renamed by all
//! its routers or none. A reload accepted as a whole is applied whole: a
//! renamed VMAC's stand-in MAC (until the commit) takes no MAC another
//! VMAC has or wants, a restarted master's priority-0 advert leaves from
//! its old VMAC, an address moved from a removed master stays (needs
//! root and `ip`).
#![cfg(feature = "tokio")]
// Tests stop on the first unexpected value; `expect` names what was expected.
#![allow(clippy::unwrap_used)]

mod netns_lab;

use std::net::Ipv4Addr;

use netns_lab::driver::{one, router, vip24, Running};
use netns_lab::{Netns, Pair};
use vrrp::event::{Event, State};
use vrrp::linux::driver::{DriverEvent, RouterSpec, Setup, SyncGroupSpec};
use vrrp::Config;

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
/// VRID 51's virtual MAC, which every VMAC of VRID 51 here has.
const MAC51: &str = "00:00:5e:00:01:33";

/// Router `name` of VRID 51 on `eth0` with the VIP, on VMAC `vmac`.
fn spec(name: &str, vmac: &str, peers: &[Ipv4Addr]) -> RouterSpec {
    let mut config = Config::new(name, 51, 150, Ipv4Addr::UNSPECIFIED);
    config.unicast_peers = peers.to_vec();
    let mut spec = RouterSpec {
        use_vmac: true,
        ..router(config, "eth0", vec![vip24(VIP, None)])
    };
    spec.vmac.name = Some(vmac.to_owned());
    spec
}

/// `ns`'s macvlan links: name, index, MAC and whether it holds the VIP.
fn vmacs(ns: &Netns) -> Vec<(String, u64, String, bool)> {
    netns_lab::macvlans(ns, VIP)
}

/// Waits until `ns` has exactly one VMAC, `name` with VRID 51's MAC and
/// the VIP, and returns what `vmacs` says of it.
fn wait_vmac(ns: &Netns, name: &str) -> Vec<(String, u64, String, bool)> {
    netns_lab::wait_for(&format!("VMAC {name} with the VIP"), || {
        let now = vmacs(ns);
        let one = matches!(&now[..], [(n, _, m, true)] if n == name && m == MAC51);
        one.then_some(now)
    })
}

/// Accepts a router entering MASTER.
fn master(e: &DriverEvent) -> bool {
    matches!(
        e,
        DriverEvent::Router {
            event: Event::StateChanged {
                to: State::Master,
                ..
            },
            ..
        }
    )
}

/// The state, masterships and priority-0 adverts of each running router.
fn states(run: &Running) -> Vec<(State, u64, u64)> {
    (run.snapshot().routers.iter())
        .map(|r| {
            let c = &r.counters;
            (r.state, c.became_master, c.priority_zero_sent)
        })
        .collect()
}

/// `ns`'s `eth0`'s MAC.
fn eth0_mac(ns: &Netns) -> [u8; 6] {
    let link = ns.ip_json(&["link", "show", "eth0"]).unwrap();
    let text = link[0]["address"].as_str().unwrap().to_owned();
    let bytes: Vec<u8> = (text.split(':'))
        .map(|b| u8::from_str_radix(b, 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}

/// A reload renaming a master's VMAC is refused by a later step: a second
/// router whose VMAC the kernel refuses (it has `eth0`'s MAC), or a sync
/// group naming no router. The old VMAC must still be there, the same
/// link with its address, no new one left behind, and the router master.
#[test]
fn root_netns_reload_edges_refused_rename_keeps_the_old_vmac() {
    let lab = Pair::new();
    let running = spec("VI_1", "vrrp.51", &[]);
    let a = Running::start(&lab.a, one(running.clone()));
    a.wait("MASTER", master);
    let before = wait_vmac(&lab.a, "vrrp.51");

    let mut bad_vmac = spec("VI_2", "vrrp.52", &[]);
    bad_vmac.config.vrid = 52;
    bad_vmac.vmac.mac = Some(eth0_mac(&lab.a));
    let renamed = spec("VI_1", "vrrp.9", &[]);
    let bad_group = SyncGroupSpec {
        name: "G".into(),
        members: vec![0, 1],
    };
    let refused = [
        Setup {
            routers: vec![renamed.clone(), bad_vmac],
            ..Setup::default()
        },
        Setup {
            sync_groups: vec![bad_group],
            ..one(renamed)
        },
    ];
    for (k, setup) in refused.into_iter().enumerate() {
        assert!(
            a.try_reconfigure(setup).is_err(),
            "{k}: the reload is refused"
        );
        assert_eq!(vmacs(&lab.a), before, "{k}: the old VMAC, untouched");
        assert_eq!(states(&a), [(State::Master, 1, 0)], "{k}");
    }
    // The same setup again changes nothing: the driver knows its VMAC.
    let summary = a.reconfigure(one(running));
    assert_eq!((summary.unchanged, summary.updated), (1, 0));
    assert_eq!(vmacs(&lab.a), before);
    a.stop();
    assert_eq!(vmacs(&lab.a), []);
}

/// Two new unicast routers of one VRID both match the one running there:
/// only the first is prepared against it. The second, on another VMAC
/// with the same MAC, cannot have it beside the first's (the kernel
/// refuses a second macvlan up with one MAC): the reload is refused and
/// the running router's VMAC is left alone, not taken for a renamed one.
#[test]
fn root_netns_reload_edges_one_new_router_per_running_router() {
    let lab = Pair::new();
    let peer = |last| [Ipv4Addr::new(192, 0, 2, last)];
    let running = spec("VI_X", "vx", &peer(2));
    let a = Running::start(&lab.a, one(running.clone()));
    a.wait("MASTER", master);
    let before = wait_vmac(&lab.a, "vx");

    let setup = Setup {
        routers: vec![running.clone(), spec("VI_Z", "vz", &peer(3))],
        ..Setup::default()
    };
    assert!(a.try_reconfigure(setup).is_err(), "the reload is refused");
    assert_eq!(
        vmacs(&lab.a),
        before,
        "the running router's VMAC, untouched"
    );
    assert_eq!(states(&a), [(State::Master, 1, 0)]);
    let summary = a.reconfigure(one(running));
    assert_eq!((summary.unchanged, summary.updated), (1, 0));
    a.stop();
    assert_eq!(vmacs(&lab.a), []);
}

/// Two unicast routers of one VRID become one with both peers: the new
/// router updates the first in place, clashing with the second until the
/// same reload removes it. The driver checked the new set as a whole, so
/// the reload is accepted (checked router by router, it failed halfway).
#[test]
fn root_netns_reload_edges_unicast_routers_merge() {
    let lab = Pair::new();
    let peer = |last| Ipv4Addr::new(192, 0, 2, last);
    let unicast = |name, peers: &[Ipv4Addr]| {
        let mut config = Config::new(name, 51, 150, Ipv4Addr::UNSPECIFIED);
        config.unicast_peers = peers.to_vec();
        router(config, "eth0", Vec::new())
    };
    let two = Setup {
        routers: vec![unicast("A", &[peer(2)]), unicast("B", &[peer(3)])],
        ..Setup::default()
    };
    let a = Running::start(&lab.a, two);
    a.wait("MASTER", master);
    let merged = one(unicast("A", &[peer(2), peer(3)]));
    let summary = a.try_reconfigure(merged).unwrap();
    let counts = (summary.updated, summary.removed, summary.added);
    assert_eq!(counts, (1, 1, 0), "A updated in place, B removed");
    let names: Vec<_> = (a.snapshot().routers.iter())
        .map(|r| r.name.to_string())
        .collect();
    assert_eq!(names, ["A"]);
    a.stop();
}

/// VRID 51's VMAC MAC made locally administered: what a renamed VMAC of
/// VRID 51 first stands in with until the commit.
const STAND_IN51: [u8; 6] = [0x02, 0x00, 0x5e, 0x00, 0x01, 0x33];

/// Router `name` of `vrid` on VMAC `vmac` with MAC `mac`, no address.
fn other(name: &str, vrid: u8, vmac: &str, mac: [u8; 6]) -> RouterSpec {
    let mut s = spec(name, vmac, &[]);
    s.config.vrid = vrid;
    s.addresses.clear();
    s.vmac.mac = Some(mac);
    s
}

/// `ns`'s macvlans as (name, MAC), sorted.
fn vmac_macs(ns: &Netns) -> Vec<(String, String)> {
    let mut v: Vec<_> = (vmacs(ns).into_iter()).map(|(n, _, m, _)| (n, m)).collect();
    v.sort();
    v
}

/// A rename's stand-in MAC already on the host (another router's VMAC
/// has it): the reload is no less valid, and is applied.
#[test]
fn root_netns_reload_edges_rename_beside_a_vmac_with_the_stand_in_mac() {
    let lab = Pair::new();
    let two = |vmac| Setup {
        routers: vec![
            spec("VI_1", vmac, &[]),
            other("VI_2", 52, "vrrp.52", STAND_IN51),
        ],
        ..Setup::default()
    };
    let a = Running::start(&lab.a, two("vrrp.51"));
    wait_masters(&a, 2);
    wait_vmac_count(&lab.a, 2);

    let summary = a.try_reconfigure(two("vrrp.9"));
    let summary = summary.expect("the rename is applied");
    assert_eq!((summary.updated, summary.unchanged), (1, 1));
    let want = [("vrrp.52", "02:00:5e:00:01:33"), ("vrrp.9", MAC51)];
    assert_eq!(vmac_macs(&lab.a), want.map(|(n, m)| (n.into(), m.into())));
    assert_eq!(states(&a), [(State::Master, 1, 0); 2]);
    a.stop();
    assert_eq!(vmacs(&lab.a), []);
}

/// A rename's stand-in MAC is the MAC a new router of the same reload
/// wants for its VMAC: the stand-in must not take it.
#[test]
fn root_netns_reload_edges_rename_beside_a_new_vmac_with_the_stand_in_mac() {
    let lab = Pair::new();
    let a = Running::start(&lab.a, one(spec("VI_1", "vrrp.51", &[])));
    a.wait("MASTER", master);
    wait_vmac_count(&lab.a, 1);

    let setup = Setup {
        routers: vec![
            spec("VI_1", "vrrp.9", &[]),
            other("VI_3", 53, "vrrp.53", STAND_IN51),
        ],
        ..Setup::default()
    };
    let summary = a.try_reconfigure(setup).expect("the reload is applied");
    assert_eq!((summary.updated, summary.added), (1, 1));
    let want = [("vrrp.53", "02:00:5e:00:01:33"), ("vrrp.9", MAC51)];
    assert_eq!(vmac_macs(&lab.a), want.map(|(n, m)| (n.into(), m.into())));
    a.stop();
    assert_eq!(vmacs(&lab.a), []);
}

/// Two unicast routers of one VRID share a VMAC (same name, same MAC).
/// A reload that renames the first one's keeps the second on the shared
/// one: the old VMAC is still used, the new one cannot have its MAC. One
/// that renames it to two names makes two VMACs want the one MAC. Either
/// reload is refused and the shared VMAC left alone.
#[test]
fn root_netns_reload_edges_renaming_a_shared_vmac_is_refused() {
    let lab = Pair::new();
    let peer = |last| [Ipv4Addr::new(192, 0, 2, last)];
    let mut y = spec("VI_Y", "vx", &peer(3));
    y.addresses.clear();
    let both = |x_vmac| Setup {
        routers: vec![spec("VI_X", x_vmac, &peer(2)), y.clone()],
        ..Setup::default()
    };
    let a = Running::start(&lab.a, both("vx"));
    wait_masters(&a, 2);
    let before = wait_vmac(&lab.a, "vx");

    assert!(a.try_reconfigure(both("vy")).is_err(), "refused");
    assert_eq!(vmacs(&lab.a), before, "the shared VMAC, untouched");
    assert_eq!(states(&a), [(State::Master, 1, 0); 2]);
    // Both renamed, each to its own: two VMACs cannot have the one MAC.
    let mut apart = both("vy");
    apart.routers[1].vmac.name = Some("vz".into());
    assert!(a.try_reconfigure(apart).is_err(), "refused, apart");
    assert_eq!(vmacs(&lab.a), before, "the shared VMAC, untouched");
    assert_eq!(states(&a), [(State::Master, 1, 0); 2]);
    let summary = a.reconfigure(both("vx"));
    assert_eq!((summary.unchanged, summary.updated), (2, 0));
    a.stop();
    assert_eq!(vmacs(&lab.a), []);
}

/// Two unicast routers of one VRID sharing a VMAC both renamed, to one
/// new name: they share the new VMAC, which takes the MAC when the old
/// one is gone.
#[test]
fn root_netns_reload_edges_a_shared_vmac_renamed_by_both_its_routers() {
    let lab = Pair::new();
    let peer = |last| [Ipv4Addr::new(192, 0, 2, last)];
    let both = |vmac| {
        let mut y = spec("VI_Y", vmac, &peer(3));
        y.addresses.clear();
        Setup {
            routers: vec![spec("VI_X", vmac, &peer(2)), y],
            ..Setup::default()
        }
    };
    let a = Running::start(&lab.a, both("vx"));
    wait_masters(&a, 2);
    wait_vmac(&lab.a, "vx");

    let summary = a
        .try_reconfigure(both("vy"))
        .expect("the rename is applied");
    // Both moved to the new VMAC, VI_Y (no address) too: changed in place.
    assert_eq!((summary.updated, summary.unchanged), (2, 0));
    wait_vmac(&lab.a, "vy");
    assert_eq!(states(&a), [(State::Master, 1, 0); 2]);
    let c = a.snapshot().driver;
    assert_eq!((c.send_errors, c.host_errors), (0, 0));
    a.stop();
    assert_eq!(vmacs(&lab.a), []);
}

/// `disable_ipv6` of `ns`'s interface `name`.
fn disable_ipv6(ns: &Netns, name: &str) -> String {
    let path = format!("/proc/sys/net/ipv6/conf/{name}/disable_ipv6");
    ns.enter(|| std::fs::read_to_string(path)).unwrap().unwrap()
}

/// A refused reload that would have given the running router's VMAC
/// IPv6 (an excluded IPv6 address, keepalived's rule) leaves the VMAC's
/// `disable_ipv6` as it was; the same reload accepted sets it.
#[test]
fn root_netns_reload_edges_refused_reload_keeps_the_vmacs_ipv6_setting() {
    let lab = Pair::new();
    let running = spec("VI_1", "vrrp.51", &[]);
    let a = Running::start(&lab.a, one(running.clone()));
    a.wait("MASTER", master);
    wait_vmac(&lab.a, "vrrp.51");
    assert_eq!(disable_ipv6(&lab.a, "vrrp.51"), "1\n");

    let mut v6 = running;
    let excluded = "2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap();
    v6.excluded = vec![vrrp::linux::driver::VirtualAddress::host(excluded)];
    let bad_group = SyncGroupSpec {
        name: "G".into(),
        members: vec![0, 1],
    };
    let refused = Setup {
        sync_groups: vec![bad_group],
        ..one(v6.clone())
    };
    assert!(a.try_reconfigure(refused).is_err(), "the reload is refused");
    assert_eq!(disable_ipv6(&lab.a, "vrrp.51"), "1\n", "as it was");
    a.reconfigure(one(v6));
    assert_eq!(disable_ipv6(&lab.a, "vrrp.51"), "0\n", "applied");
    a.stop();
}

/// `ns`'s `eth0`'s IPv4 addresses.
fn eth0_addrs(ns: &Netns) -> Vec<String> {
    let a = ns.ip_json(&["-4", "addr", "show", "eth0"]).unwrap();
    let infos = a[0]["addr_info"].as_array().cloned().unwrap_or_default();
    let mut v: Vec<String> = infos
        .iter()
        .map(|i| i["local"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v
}

/// A reload removes a master and gives its address to a master that
/// stays: the address goes with the removed one, then comes back with
/// the one that stays (the removal comes first, as keepalived 2.2.7's
/// `clear_diff_vrrp`), and is on the host after the reload.
#[test]
fn root_netns_reload_edges_an_address_moves_from_a_removed_master() {
    let lab = Pair::new();
    let vip101 = Ipv4Addr::new(192, 0, 2, 101);
    let plain = |name, vrid, vips: &[Ipv4Addr]| {
        let config = Config::new(name, vrid, 150, Ipv4Addr::UNSPECIFIED);
        router(
            config,
            "eth0",
            vips.iter().map(|v| vip24(*v, None)).collect(),
        )
    };
    let two = Setup {
        routers: vec![plain("K", 51, &[VIP]), plain("G", 52, &[vip101])],
        ..Setup::default()
    };
    let a = Running::start(&lab.a, two);
    wait_masters(&a, 2);
    let all = ["192.0.2.1", "192.0.2.100", "192.0.2.101"].map(String::from);
    netns_lab::wait_for("both VIPs", || (eth0_addrs(&lab.a) == all).then_some(()));

    let summary = a.reconfigure(one(plain("K", 51, &[VIP, vip101])));
    assert_eq!((summary.updated, summary.removed), (1, 1));
    assert_eq!(eth0_addrs(&lab.a), all, "K holds both");
    a.stop();
}

/// Waits until `ns` has `n` VMACs.
fn wait_vmac_count(ns: &Netns, n: usize) {
    netns_lab::wait_for(&format!("{n} VMACs"), || {
        (vmacs(ns).len() == n).then_some(())
    });
}

/// Waits until `run`'s `n` routers are all master, once each.
fn wait_masters(run: &Running, n: usize) {
    netns_lab::wait_for(&format!("{n} masters"), || {
        (states(run) == vec![(State::Master, 1, 0); n]).then_some(())
    });
}

/// A reload that renames a master's VMAC and has it send from the base
/// interface (`xmit_base`), which cannot be changed in place: the old
/// instance goes as any restarted master does, with its priority-0
/// advert from its VMAC, deleted only after; the peer hears it.
#[test]
fn root_netns_reload_edges_restart_with_a_renamed_vmac_sends_priority_zero() {
    let lab = Pair::new();
    let mut backup = spec("VI_1", "unused", &[]);
    (backup.use_vmac, backup.config.priority) = (false, 100);
    let b = Running::start(&lab.b, one(backup));
    b.wait("BACKUP", |e| {
        matches!(
            e,
            DriverEvent::Router {
                event: Event::StateChanged {
                    to: State::Backup,
                    ..
                },
                ..
            }
        )
    });
    let a = Running::start(&lab.a, one(spec("VI_1", "vrrp.51", &[])));
    a.wait("MASTER", master);
    wait_vmac(&lab.a, "vrrp.51");

    let mut renamed = spec("VI_1", "vrrp.9", &[]);
    renamed.vmac.xmit_base = true;
    let summary = a.reconfigure(one(renamed));
    assert_eq!(summary.restarted, 1);
    let c = a.snapshot().driver;
    assert_eq!((c.send_errors, c.host_errors), (0, 0));
    netns_lab::wait_for("the peer hears priority 0", || {
        let heard = b.snapshot().routers[0].counters.priority_zero_received;
        (heard == 1).then_some(())
    });
    // The new instance, on the renamed VMAC with the MAC, takes over.
    wait_vmac(&lab.a, "vrrp.9");
    a.stop();
    b.stop();
}
