//! A reload that gives a master another VMAC (another name, then another
//! MAC too) moves it in place, as keepalived 2.2.7 keeps such an instance
//! (`vrrp_exist` looks at whether there is a VMAC, not at which): no
//! priority-0 advert, no state change, the VIP on the new VMAC, the old
//! VMAC deleted, and a backup peer keeps hearing it (needs root and `ip`).
//! keepalived 2.2.7 against keepalived-lite on the same edit:
//! keepalived-lite's `root_netns_reload_identity_twin`.
#![cfg(feature = "tokio")]
// Tests stop on the first unexpected value; `expect` names what was expected.
#![allow(clippy::unwrap_used)]

mod netns_lab;

use std::net::Ipv4Addr;

use netns_lab::driver::{one, router, vip24, Running};
use netns_lab::{Netns, Pair};
use vrrp::event::{Event, State};
use vrrp::linux::driver::{DriverEvent, RouterSpec};
use vrrp::Config;

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

fn spec(priority: u8, use_vmac: bool) -> RouterSpec {
    let vip = vip24(VIP, None);
    let config = Config::new("VI_1", 51, priority, Ipv4Addr::UNSPECIFIED);
    RouterSpec {
        use_vmac,
        ..router(config, "eth0", vec![vip])
    }
}

/// `ns`'s macvlan links: name, MAC and whether it holds the VIP.
fn vmacs(ns: &Netns) -> Vec<(String, String, bool)> {
    let links = netns_lab::macvlans(ns, VIP).into_iter();
    links.map(|(name, _, mac, vip)| (name, mac, vip)).collect()
}

fn wait_vmacs(ns: &Netns, want: &[(&str, &str, bool)]) {
    let want: Vec<(String, String, bool)> = (want.iter())
        .map(|(n, m, v)| (n.to_string(), m.to_string(), *v))
        .collect();
    netns_lab::wait_for(&format!("VMACs {want:?}"), || {
        (vmacs(ns) == want).then_some(())
    });
}

/// Accepts `run`'s router entering `to`.
fn entered(to: State) -> impl Fn(&DriverEvent) -> bool {
    move |e| {
        let t = match e {
            DriverEvent::Router {
                event: Event::StateChanged { to, .. },
                ..
            } => Some(*to),
            _ => None,
        };
        t == Some(to)
    }
}

/// Adverts `run`'s only router has received.
fn received(run: &Running) -> u64 {
    run.snapshot().routers[0].counters.adverts_received
}

#[test]
fn root_netns_driver_vmac_renamed_or_new_mac_moves_in_place() {
    let lab = Pair::new();
    let b = Running::start(&lab.b, one(spec(100, false)));
    b.wait("BACKUP", entered(State::Backup));
    let mut a_spec = spec(150, true);
    let a = Running::start(&lab.a, one(a_spec.clone()));
    a.wait("MASTER", entered(State::Master));
    wait_vmacs(&lab.a, &[("vrrp.51", "00:00:5e:00:01:33", true)]);
    let sockets = |run: &Running| {
        let s = run.snapshot();
        (s.raw_sockets, s.garp_sockets)
    };
    let before = sockets(&a);

    for (name, mac, want_mac) in [
        ("vrrp.9", None, "00:00:5e:00:01:33"),
        ("vm2", Some([2, 0x78, 0, 0, 0, 0x33]), "02:78:00:00:00:33"),
    ] {
        a_spec.vmac.name = Some(name.to_owned());
        a_spec.vmac.mac = mac;
        let summary = a.reconfigure(one(a_spec.clone()));
        let counts = (
            summary.unchanged,
            summary.updated,
            summary.added,
            summary.removed,
            summary.restarted,
        );
        assert_eq!(counts, (0, 1, 0, 0, 0), "{name}: updated in place");
        wait_vmacs(&lab.a, &[(name, want_mac, true)]);
        let r = &a.snapshot().routers[0];
        let c = &r.counters;
        let seen = (r.state, c.became_master, c.priority_zero_sent);
        assert_eq!(seen, (State::Master, 1, 0), "{name}");
        // The old VMAC's sockets closed, the new one's open.
        assert_eq!(sockets(&a), before, "{name}");
        // The peer hears the master from its new VMAC and stays BACKUP.
        let heard = received(&b);
        netns_lab::wait_for("an advert from the new VMAC", || {
            (received(&b) > heard).then_some(())
        });
        assert_eq!(b.snapshot().routers[0].state, State::Backup, "{name}");
    }
    a.stop();
    wait_vmacs(&lab.a, &[]);
}
