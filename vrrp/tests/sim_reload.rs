//! Reload on the simulated LAN: each test states the exact state
//! transitions and priority-0 adverts a reconfiguration leads to.
//!
//! A (.1) starts at priority 200 and B (.2) at 100, VRID 51, advert
//! interval 1 s, zero latency: A is master from 3.21875 s and sends its
//! first advert then, the next ones on the grid of whole seconds from the
//! start (4 s, 5 s, ...); B's Master_Down_Timer is last reset by the advert
//! at 10 s, just before the reloads at 10 s happen.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::Ipv4Addr;
use std::time::Duration;

use vrrp::event::{Event, Reason, State};
use vrrp::mux::{Change, Changed, Desired, MuxEvent, RouterId};
use vrrp::router::Tracking;
use vrrp::sim::{NodeId, Sim};
use vrrp::Config;

use Reason::*;
use State::*;

const VRID: u8 = 51;
const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
const VIP2: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 101);

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, last)
}

fn cfg(name: &str, vrid: u8, priority: u8, last: u8) -> Config {
    let mut c = Config::new(name, vrid, priority, ip(last));
    c.virtual_addresses = vec![VIP];
    c
}

fn ns(n: u64) -> Duration {
    Duration::from_nanos(n)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// A master at 3.21875 s, both run to 10 s.
fn pair(seed: u64) -> (Sim, NodeId, NodeId) {
    let mut sim = Sim::from_env(seed);
    let a = sim.add_router(cfg("a", VRID, 200, 1));
    let b = sim.add_router(cfg("b", VRID, 100, 2));
    sim.start_all();
    sim.run_until(secs(10));
    assert_eq!(sim.masters(VRID), [a]);
    (sim, a, b)
}

/// (time, node, vrid, from, to, reason) of every transition after `since`.
fn transitions_after(
    sim: &Sim,
    since: Duration,
) -> Vec<(Duration, NodeId, u8, State, State, Reason)> {
    sim.transitions()
        .into_iter()
        .filter(|t| t.at > since)
        .map(|t| (t.at, t.node, t.vrid, t.from, t.to, t.reason))
        .collect()
}

/// Priority-0 adverts put on the LAN after `since`.
fn priority_zero_after(sim: &Sim, since: Duration) -> usize {
    sim.sent()
        .iter()
        .filter(|s| s.at > since && s.priority() == Some(0))
        .count()
}

/// Router events (not drops) of `node` after `since`.
fn events_after(sim: &Sim, node: NodeId, since: Duration) -> Vec<Event> {
    sim.records()
        .iter()
        .filter(|r| r.node == node && r.at > since)
        .filter_map(|r| match &r.event {
            MuxEvent::Router(_, e) => Some(e.clone()),
            _ => None,
        })
        .collect()
}

/// Reconfigures router `VRID` of `node` at the current instant.
fn reconfigure(sim: &mut Sim, node: NodeId, config: Config) -> Change {
    sim.with_mux(node, |mux, now| {
        let id = mux.find(1, config.vrid).unwrap();
        mux.reconfigure_router(now, id, config).unwrap()
    })
}

fn changed(f: impl FnOnce(&mut Changed)) -> Change {
    let mut c = Changed::default();
    f(&mut c);
    Change::InPlace(c)
}

#[test]
fn master_lowered_below_backup_hands_over_without_priority_zero() {
    let (mut sim, a, b) = pair(1);
    let change = reconfigure(&mut sim, a, cfg("a", VRID, 50, 1));
    assert_eq!(change, changed(|c| c.priority = true));
    sim.run_until(secs(30));
    // A's 11 s advert carries 50: B discards it and its down timer, last
    // reset at 10 s, fires at 10 + 3.609375 s.
    assert_eq!(
        transitions_after(&sim, secs(10)),
        [
            (ns(13_609_375_000), b, VRID, Backup, Master, MasterDown),
            (ns(13_609_375_000), a, VRID, Master, Backup, HigherPriority),
        ]
    );
    assert_eq!(priority_zero_after(&sim, secs(10)), 0);
    let a_adverts: Vec<_> = sim
        .sent()
        .iter()
        .filter(|s| s.node == a && s.at > secs(10))
        .map(|s| (s.at, s.priority()))
        .collect();
    assert_eq!(
        a_adverts,
        [
            (secs(11), Some(50)),
            (secs(12), Some(50)),
            (secs(13), Some(50)),
        ]
    );
}

#[test]
fn backup_raised_above_master_preempts_without_priority_zero() {
    let (mut sim, a, b) = pair(2);
    let change = reconfigure(&mut sim, b, cfg("b", VRID, 250, 2));
    assert_eq!(change, changed(|c| c.priority = true));
    sim.run_until(secs(30));
    // From 11 s A's adverts (200) are lower: B, preempting, lets its down
    // timer run out. Armed at 10 s for priority 100, it moved with the new
    // Skew_Time to 10 + 3.0234375 s.
    assert_eq!(
        transitions_after(&sim, secs(10)),
        [
            (ns(13_023_437_500), b, VRID, Backup, Master, MasterDown),
            (ns(13_023_437_500), a, VRID, Master, Backup, HigherPriority),
        ]
    );
    assert_eq!(priority_zero_after(&sim, secs(10)), 0);
    assert_eq!(sim.router(b, VRID).priority(), 250);
}

#[test]
fn priority_change_keeping_the_order_changes_nothing_but_the_adverts() {
    let (mut sim, a, b) = pair(3);
    assert_eq!(
        reconfigure(&mut sim, a, cfg("a", VRID, 180, 1)),
        changed(|c| c.priority = true)
    );
    assert_eq!(
        reconfigure(&mut sim, b, cfg("b", VRID, 120, 2)),
        changed(|c| c.priority = true)
    );
    sim.run_until(secs(30));
    assert_eq!(transitions_after(&sim, secs(10)), []);
    assert_eq!(priority_zero_after(&sim, secs(10)), 0);
    let prios: Vec<_> = sim
        .sent()
        .iter()
        .filter(|s| s.at > secs(10))
        .map(|s| (s.node, s.priority()))
        .collect();
    assert_eq!(prios, vec![(a, Some(180)); 20]);
    assert_eq!(sim.router(b, VRID).master(), Some((ip(1).into(), 180)));
}

#[test]
fn vip_added_and_removed_on_the_master() {
    let (mut sim, a, b) = pair(4);
    let both = |sim: &mut Sim, vips: &[Ipv4Addr]| {
        for (node, name, prio, last) in [(a, "a", 200, 1), (b, "b", 100, 2)] {
            let mut c = cfg(name, VRID, prio, last);
            c.virtual_addresses = vips.to_vec();
            assert_eq!(reconfigure(sim, node, c), changed(|c| c.addresses = true));
        }
    };
    both(&mut sim, &[VIP, VIP2]);
    sim.run_until(secs(20));
    both(&mut sim, &[VIP2]);
    sim.run_until(secs(30));
    assert_eq!(transitions_after(&sim, secs(10)), []);
    assert_eq!(priority_zero_after(&sim, secs(10)), 0);
    assert_eq!(
        events_after(&sim, a, secs(9)),
        [
            Event::AddressesChanged {
                added: vec![VIP2],
                removed: vec![]
            },
            Event::AddressesChanged {
                added: vec![],
                removed: vec![VIP]
            },
        ]
    );
    // The backup installs nothing and drops none of the new adverts.
    assert_eq!(events_after(&sim, b, secs(9)), []);
    assert_eq!(sim.router(b, VRID).counters().dropped.total(), 0);
    assert_eq!(sim.router(a, VRID).virtual_addresses(), [VIP2]);
}

#[test]
fn advert_int_changed_keeps_the_master() {
    let (mut sim, a, b) = pair(5);
    for (node, name, prio, last) in [(a, "a", 200, 1), (b, "b", 100, 2)] {
        let mut c = cfg(name, VRID, prio, last);
        c.advert_interval_secs = 3;
        assert_eq!(
            reconfigure(&mut sim, node, c),
            changed(|c| c.advert_interval = true)
        );
    }
    sim.run_until(secs(60));
    assert_eq!(transitions_after(&sim, secs(10)), []);
    assert_eq!(priority_zero_after(&sim, secs(10)), 0);
    // The advert already due at 11 s keeps its time; then the 3 s grid.
    let times: Vec<_> = sim
        .sent()
        .iter()
        .filter(|s| s.at > secs(10))
        .map(|s| s.at)
        .take(3)
        .collect();
    assert_eq!(times, [secs(11), secs(12), secs(15)]);
    // B now waits 3 x 3 s + 609.375 ms for a silent master.
    sim.crash(a);
    let last = sim.sent().last().unwrap().at;
    sim.run_until(secs(80));
    assert_eq!(
        transitions_after(&sim, secs(60)),
        [(
            last + ns(9_609_375_000),
            b,
            VRID,
            Backup,
            Master,
            MasterDown
        )]
    );
}

fn desired(routers: &[(&str, u8, u8, u8)], groups: &[(&str, &[&str])]) -> Desired {
    Desired {
        routers: routers
            .iter()
            .map(|&(name, vrid, prio, last)| (1, cfg(name, vrid, prio, last)))
            .collect(),
        groups: groups
            .iter()
            .map(|(g, m)| (g.to_string(), m.iter().map(|s| s.to_string()).collect()))
            .collect(),
    }
}

#[test]
fn instance_added_then_one_removed() {
    let (mut sim, a, b) = pair(6);
    let a_both = desired(&[("a", VRID, 200, 1), ("a52", 52, 200, 1)], &[]);
    let b_both = desired(&[("b", VRID, 100, 2), ("b52", 52, 100, 2)], &[]);
    let done = sim.with_mux(a, |mux, now| mux.reconcile(now, &a_both).unwrap());
    assert_eq!((done.unchanged.len(), done.added.len()), (1, 1));
    assert_eq!(
        (done.updated.len(), done.removed.len(), done.restarted.len()),
        (0, 0, 0)
    );
    sim.with_mux(b, |mux, now| mux.reconcile(now, &b_both).unwrap());
    sim.run_until(secs(20));
    // The old instance is removed from A: one priority-0 advert, and B
    // takes over after its Skew_Time (609.375 ms).
    let a_52 = desired(&[("a52", 52, 200, 1)], &[]);
    let done = sim.with_mux(a, |mux, now| mux.reconcile(now, &a_52).unwrap());
    assert_eq!(done.removed, [RouterId(0)]);
    assert_eq!(done.unchanged, [RouterId(1)]);
    sim.run_until(secs(30));
    assert_eq!(
        transitions_after(&sim, secs(9)),
        [
            (secs(10), a, 52, Initialize, Backup, Startup),
            (secs(10), b, 52, Initialize, Backup, Startup),
            (ns(13_218_750_000), a, 52, Backup, Master, MasterDown),
            (secs(20), a, VRID, Master, Initialize, Shutdown),
            (ns(20_609_375_000), b, VRID, Backup, Master, MasterDown),
        ]
    );
    assert_eq!(priority_zero_after(&sim, secs(9)), 1);
    assert_eq!(sim.mux(a).len(), 1);
    assert_eq!(sim.mux(a).find(1, VRID), None);
    assert!(sim.mux(a).router(RouterId(0)).is_none());
    assert_eq!(sim.masters(52), [a]);
}

#[test]
fn renaming_an_instance_is_in_place() {
    let (mut sim, a, _b) = pair(11);
    let renamed = desired(&[("VI_renamed", VRID, 200, 1)], &[]);
    let done = sim.with_mux(a, |mux, now| mux.reconcile(now, &renamed).unwrap());
    let mut other = Changed::default();
    other.other = true;
    assert_eq!(done.updated, [(RouterId(0), other)]);
    sim.run_until(secs(30));
    assert_eq!(transitions_after(&sim, secs(10)), []);
    assert_eq!(priority_zero_after(&sim, secs(10)), 0);
    assert_eq!(&*sim.router(a, VRID).config().name, "VI_renamed");
}

#[test]
fn switching_to_unicast_replaces_the_instance() {
    let (mut sim, a, _b) = pair(12);
    let mut d = desired(&[("a", VRID, 200, 1)], &[]);
    d.routers[0].1.unicast_peers = vec![ip(2)];
    let done = sim.with_mux(a, |mux, now| mux.reconcile(now, &d).unwrap());
    // As keepalived's `vrrp_exist`, unicast and multicast instances are
    // never the same one: the old is removed, the new added.
    assert_eq!(
        (done.removed, done.added, done.restarted),
        (vec![RouterId(0)], vec![RouterId(1)], vec![])
    );
    sim.run_until(secs(10) + ns(500_000_000));
    // The old instance stops with a priority-0 advert; the new one starts
    // in BACKUP.
    assert_eq!(
        transitions_after(&sim, secs(9)),
        [
            (secs(10), a, VRID, Master, Initialize, Shutdown),
            (secs(10), a, VRID, Initialize, Backup, Startup),
        ]
    );
    assert_eq!(priority_zero_after(&sim, secs(9)), 1);
}

#[test]
fn identical_reload_touches_nothing() {
    let (mut sim, a, _b) = pair(7);
    let same = desired(&[("a", VRID, 200, 1)], &[]);
    let done = sim.with_mux(a, |mux, now| mux.reconcile(now, &same).unwrap());
    assert_eq!(done.unchanged, [RouterId(0)]);
    let before = sim.records().len();
    sim.run_until(secs(30));
    assert_eq!(sim.records().len(), before);
    assert_eq!(transitions_after(&sim, secs(10)), []);
}

#[test]
fn changing_the_vrid_replaces_the_instance() {
    // Instances are matched by (interface, VRID), as keepalived does.
    let (mut sim, a, b) = pair(8);
    let moved = desired(&[("a", 52, 200, 1)], &[]);
    let done = sim.with_mux(a, |mux, now| mux.reconcile(now, &moved).unwrap());
    assert_eq!(
        (done.removed, done.added),
        (vec![RouterId(0)], vec![RouterId(1)])
    );
    sim.run_until(secs(20));
    assert_eq!(
        transitions_after(&sim, secs(9)),
        [
            (secs(10), a, VRID, Master, Initialize, Shutdown),
            (secs(10), a, 52, Initialize, Backup, Startup),
            (ns(10_609_375_000), b, VRID, Backup, Master, MasterDown),
            (ns(13_218_750_000), a, 52, Backup, Master, MasterDown),
        ]
    );
    assert_eq!(priority_zero_after(&sim, secs(9)), 1);
}

/// Two nodes with VRIDs 1 and 2 (A 200, B 100), both pairs in group "g".
fn grouped(seed: u64) -> (Sim, NodeId, NodeId) {
    let mut sim = Sim::from_env(seed);
    let mut node = |p: &str, prio: u8, last: u8| {
        let d = desired(
            &[
                (&format!("{p}1"), 1, prio, last),
                (&format!("{p}2"), 2, prio, last),
            ],
            &[("g", &[&format!("{p}1"), &format!("{p}2")])],
        );
        let n = sim.add_node(vrrp::mux::Mux::new());
        sim.with_mux(n, |mux, now| mux.reconcile(now, &d).unwrap());
        n
    };
    let a = node("a", 200, 1);
    let b = node("b", 100, 2);
    sim.run_until(secs(10));
    assert_eq!((sim.masters(1), sim.masters(2)), (vec![a], vec![a]));
    (sim, a, b)
}

fn fault(sim: &mut Sim, node: NodeId, vrid: u8) {
    let tracking = Tracking {
        weight: 0,
        fault: true,
    };
    sim.set_tracking(node, vrid, tracking);
}

#[test]
fn sync_group_fault_moves_the_whole_group() {
    // The reference for the re-forming test below: one member's fault
    // takes both of A's routers to FAULT.
    let (mut sim, a, b) = grouped(9);
    fault(&mut sim, a, 1);
    sim.run_until(secs(20));
    assert_eq!(
        transitions_after(&sim, secs(9)),
        [
            (secs(10), a, 1, Master, Fault, TrackingFault),
            (secs(10), a, 2, Master, Fault, SyncGroup),
            (ns(10_609_375_000), b, 1, Backup, Master, MasterDown),
            (ns(10_609_375_000), b, 2, Backup, Master, MasterDown),
        ]
    );
    assert_eq!(priority_zero_after(&sim, secs(9)), 2);
    assert_eq!((sim.masters(1), sim.masters(2)), (vec![b], vec![b]));
}

#[test]
fn sync_group_re_formed_splits_the_fault() {
    let (mut sim, a, b) = grouped(10);
    let ids = |sim: &Sim, n: NodeId| {
        let mux = sim.mux(n);
        (mux.find(1, 1).unwrap(), mux.find(1, 2).unwrap())
    };
    // Unchanged groups keep their state: nothing at all happens.
    let before = sim.records().len();
    let (a1, a2) = ids(&sim, a);
    sim.with_mux(a, |mux, now| {
        mux.set_sync_groups(now, &[("g", vec![a2, a1])]).unwrap();
    });
    assert_eq!(sim.records().len(), before);
    // Split on both nodes: no transition, no priority-0 advert, two new
    // groups notified on each node.
    for n in [a, b] {
        let (r1, r2) = ids(&sim, n);
        sim.with_mux(n, |mux, now| {
            mux.set_sync_groups(now, &[("g1", vec![r1]), ("g2", vec![r2])])
                .unwrap();
        });
    }
    let groups: Vec<_> = sim.records()[before..]
        .iter()
        .filter_map(|r| match &r.event {
            MuxEvent::Group(_, n) => Some((n.name.to_string(), n.state)),
            _ => None,
        })
        .collect();
    let g = |name: &str, state| (name.to_string(), state);
    assert_eq!(
        groups,
        [
            g("g1", Master),
            g("g2", Master),
            g("g1", Backup),
            g("g2", Backup)
        ]
    );
    sim.run_until(secs(15));
    assert_eq!(transitions_after(&sim, secs(9)), []);
    // Now a fault of VRID 1 leaves VRID 2 alone.
    fault(&mut sim, a, 1);
    sim.run_until(secs(30));
    assert_eq!(
        transitions_after(&sim, secs(9)),
        [
            (secs(15), a, 1, Master, Fault, TrackingFault),
            (ns(15_609_375_000), b, 1, Backup, Master, MasterDown),
        ]
    );
    assert_eq!(priority_zero_after(&sim, secs(9)), 1);
    assert_eq!((sim.masters(1), sim.masters(2)), (vec![b], vec![a]));
}

#[test]
fn removing_a_grouped_master_moves_its_group_once() {
    let (mut sim, a, b) = grouped(13);
    let keep_a2 = desired(&[("a2", 2, 200, 1)], &[("g", &["a2"])]);
    sim.with_mux(a, |mux, now| mux.reconcile(now, &keep_a2).unwrap());
    sim.run_until(secs(20));
    // Only the removed router moves; its group partner stays master, and
    // B's VRID 1 waits for its group partner, which still sees A's VRID 2.
    assert_eq!(
        transitions_after(&sim, secs(9)),
        [(secs(10), a, 1, Master, Initialize, Shutdown)]
    );
    assert_eq!(priority_zero_after(&sim, secs(9)), 1);
    assert_eq!((sim.masters(1), sim.masters(2)), (vec![], vec![a]));
    assert!(sim.router(b, 1).wants_master());
}
