//! A tracked virtual address, route or rule deleted behind a master's back
//! (`Mux::handle_deleted`), on the simulated LAN: keepalived 2.2.7's
//! `set_vrrp_backup` (BACKUP with a priority-0 advert, MASTER again after
//! Skew_Time unless another router answers), at exact virtual times.
//!
//! Priorities: 200 (Skew_Time 218.75 ms, Master_Down_Interval
//! 3.21875 s), 100 (609.375 ms, 3.609375 s); advert interval 1 s.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::Ipv4Addr;
use std::time::Duration;

use vrrp::event::{Event, Notify, NotifyKind, Reason, State};
use vrrp::mux::{Mux, MuxEvent};
use vrrp::sim::{NodeId, Sim};
use vrrp::{Config, VirtualRouter};

use Reason::*;
use State::*;

const VRID: u8 = 51;
const MDI_200: u64 = 3_218_750_000;
const MDI_100: u64 = 3_609_375_000;
const SKEW_200: u64 = 218_750_000;
const SKEW_100: u64 = 609_375_000;
/// When the deletion happens: between two adverts.
const DEL: u64 = 10_500_000_000;

fn ns(n: u64) -> Duration {
    Duration::from_nanos(n)
}

fn cfg(name: &str, vrid: u8, priority: u8, last: u8) -> Config {
    let mut c = Config::new(name, vrid, priority, Ipv4Addr::new(10, 0, 0, last));
    c.virtual_addresses = vec![Ipv4Addr::new(10, 0, 0, 100 + vrid - VRID)];
    c
}

/// (time, from, to, reason) of router `vrid` of `node`.
fn history(sim: &Sim, node: NodeId, vrid: u8) -> Vec<(Duration, State, State, Reason)> {
    (sim.transitions().into_iter())
        .filter(|t| t.node == node && t.vrid == vrid)
        .map(|t| (t.at, t.from, t.to, t.reason))
        .collect()
}

/// The priorities `node` sent at `at`.
fn sent_at(sim: &Sim, node: NodeId, at: Duration) -> Vec<u8> {
    (sim.sent().iter())
        .filter(|s| s.node == node && s.at == at)
        .filter_map(vrrp::sim::Sent::priority)
        .collect()
}

/// Tells `node` that a tracked item of its router `vrid` was deleted.
fn delete(sim: &mut Sim, node: NodeId, vrid: u8) {
    sim.with_mux(node, |mux, now| {
        let id = mux.find(1, vrid).unwrap();
        mux.handle_deleted(now, id);
    });
}

#[test]
fn a_lone_master_goes_backup_and_returns_after_skew_time() {
    let mut sim = Sim::from_env(1);
    let a = sim.add_router(cfg("a", VRID, 100, 1));
    sim.start_all();
    sim.run_until(ns(DEL));
    delete(&mut sim, a, VRID);
    assert_eq!(sent_at(&sim, a, ns(DEL)), [0]);
    sim.run_until(ns(20_000_000_000));
    let back = ns(DEL + SKEW_100);
    assert_eq!(
        history(&sim, a, VRID),
        [
            (ns(0), Initialize, Backup, Startup),
            (ns(MDI_100), Backup, Master, MasterDown),
            (ns(DEL), Master, Backup, Deleted),
            (back, Backup, Master, MasterDown),
        ]
    );
    // Addresses removed at the deletion, installed again at the return.
    let acts: Vec<(Duration, &Event)> = (sim.records().iter())
        .filter(|r| r.at >= ns(DEL))
        .filter_map(|r| match &r.event {
            MuxEvent::Router(_, e @ (Event::AddAddresses | Event::RemoveAddresses)) => {
                Some((r.at, e))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        acts,
        [
            (ns(DEL), &Event::RemoveAddresses),
            (back, &Event::AddAddresses),
        ]
    );
    assert_eq!(sent_at(&sim, a, back), [100]);
}

#[test]
fn the_higher_priority_master_wins_again_before_the_backup_moves() {
    let mut sim = Sim::from_env(2);
    let a = sim.add_router(cfg("a", VRID, 200, 1));
    let b = sim.add_router(cfg("b", VRID, 100, 2));
    sim.start_all();
    sim.run_until(ns(DEL));
    delete(&mut sim, a, VRID);
    sim.run_until(ns(20_000_000_000));
    // B's Skew_Time after the priority 0 (609 ms) is longer than A's
    // (219 ms): A is master again first and B never moves.
    assert_eq!(
        history(&sim, a, VRID),
        [
            (ns(0), Initialize, Backup, Startup),
            (ns(MDI_200), Backup, Master, MasterDown),
            (ns(DEL), Master, Backup, Deleted),
            (ns(DEL + SKEW_200), Backup, Master, MasterDown),
        ]
    );
    assert_eq!(
        history(&sim, b, VRID),
        [(ns(0), Initialize, Backup, Startup)]
    );
    assert_eq!(sim.masters(VRID), [a]);
}

#[test]
fn the_lower_priority_master_hands_over_to_the_backup() {
    let mut sim = Sim::from_env(3);
    let a = sim.add_router(cfg("a", VRID, 100, 1));
    // B has the higher priority but `nopreempt`, and starts when A is
    // already master.
    let mut cb = cfg("b", VRID, 200, 2);
    cb.preempt = false;
    let b = sim.add_router(cb);
    sim.start(a);
    sim.run_until(ns(5_000_000_000));
    sim.start(b);
    sim.run_until(ns(DEL));
    assert_eq!(sim.masters(VRID), [a]);
    delete(&mut sim, a, VRID);
    sim.run_until(ns(20_000_000_000));
    // B (Skew_Time 219 ms) answers before A's (609 ms) runs out.
    assert_eq!(
        history(&sim, b, VRID).last(),
        Some(&(ns(DEL + SKEW_200), Backup, Master, MasterDown))
    );
    assert_eq!(
        history(&sim, a, VRID).last(),
        Some(&(ns(DEL), Master, Backup, Deleted))
    );
    assert_eq!(sim.masters(VRID), [b]);
}

#[test]
fn a_backup_ignores_deletions() {
    let mut sim = Sim::from_env(4);
    let _a = sim.add_router(cfg("a", VRID, 200, 1));
    let b = sim.add_router(cfg("b", VRID, 100, 2));
    sim.start_all();
    sim.run_until(ns(DEL));
    delete(&mut sim, b, VRID);
    sim.run_until(ns(20_000_000_000));
    assert_eq!(
        history(&sim, b, VRID),
        [(ns(0), Initialize, Backup, Startup)]
    );
    assert!(sent_at(&sim, b, ns(DEL)).is_empty());
}

#[test]
fn a_sync_group_leaves_master_together_and_returns_together() {
    let mut sim = Sim::from_env(5);
    let mut mux = Mux::new();
    let ids: Vec<_> = [VRID, VRID + 1]
        .iter()
        .map(|&v| {
            let r = VirtualRouter::new(cfg(&format!("v{v}"), v, 100, 1)).unwrap();
            mux.add_router(1, r).unwrap()
        })
        .collect();
    mux.add_sync_group("G", &ids).unwrap();
    let a = sim.add_node(mux);
    sim.start_all();
    sim.run_until(ns(DEL));
    delete(&mut sim, a, VRID);
    // Both members send priority 0.
    assert_eq!(sent_at(&sim, a, ns(DEL)), [0, 0]);
    sim.run_until(ns(20_000_000_000));
    let back = ns(DEL + SKEW_100);
    assert_eq!(
        history(&sim, a, VRID)[2..],
        [
            (ns(DEL), Master, Backup, Deleted),
            (back, Backup, Master, MasterDown),
        ]
    );
    assert_eq!(
        history(&sim, a, VRID + 1)[2..],
        [
            (ns(DEL), Master, Backup, SyncGroup),
            (back, Backup, Master, MasterDown),
        ]
    );
    let group: Vec<(Duration, State)> = (sim.records().iter())
        .filter(|r| r.at >= ns(DEL))
        .filter_map(|r| match &r.event {
            MuxEvent::Group(
                _,
                Notify {
                    kind: NotifyKind::Group,
                    state,
                    ..
                },
            ) => Some((r.at, *state)),
            _ => None,
        })
        .collect();
    // keepalived notifies the group's return to MASTER only.
    assert_eq!(group, [(back, Master)]);
}
