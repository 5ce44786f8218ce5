//! Scenario tests on the simulated LAN: exact states at exact virtual times.
//!
//! Priorities used: 200 (Skew_Time 218.75 ms, Master_Down_Interval
//! 3.21875 s), 150 (414.0625 ms, 3.4140625 s), 100 (609.375 ms,
//! 3.609375 s); advert interval 1 s; zero latency unless stated.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::Ipv4Addr;
use std::time::Duration;

use vrrp::auth::AuthConfig;
use vrrp::event::{Reason, State};
use vrrp::mux::{Mux, MuxEvent};
use vrrp::router::{DropReason, Tracking};
use vrrp::sim::{NetConfig, NodeId, Sim, Transition};
use vrrp::{wire, Config, VirtualRouter};

use Reason::*;
use State::*;

const VRID: u8 = 51;

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, last)
}

fn cfg(name: &str, priority: u8, last: u8) -> Config {
    let mut c = Config::new(name, VRID, priority, ip(last));
    c.virtual_addresses = vec![Ipv4Addr::new(10, 0, 0, 100)];
    c
}

/// Virtual time from nanoseconds.
fn ns(n: u64) -> Duration {
    Duration::from_nanos(n)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

const MDI_200: u64 = 3_218_750_000;
const MDI_150: u64 = 3_414_062_500;
const MDI_100: u64 = 3_609_375_000;
const SKEW_100: u64 = 609_375_000;

/// (time, from, to, reason) of one node's router `VRID` on interface 1.
fn history(sim: &Sim, node: NodeId) -> Vec<(Duration, State, State, Reason)> {
    history_on(sim, node, 1, VRID)
}

fn history_on(
    sim: &Sim,
    node: NodeId,
    ifindex: u32,
    vrid: u8,
) -> Vec<(Duration, State, State, Reason)> {
    sim.transitions()
        .into_iter()
        .filter(|t: &Transition| t.node == node && t.ifindex == ifindex && t.vrid == vrid)
        .map(|t| (t.at, t.from, t.to, t.reason))
        .collect()
}

/// A (200, .1) and B (100, .2), started at 0; A is master at 3.21875 s.
fn pair(seed: u64) -> (Sim, NodeId, NodeId) {
    let mut sim = Sim::from_env(seed);
    let a = sim.add_router(cfg("a", 200, 1));
    let b = sim.add_router(cfg("b", 100, 2));
    sim.start_all();
    (sim, a, b)
}

#[test]
fn election_by_priority() {
    let (mut sim, a, b) = pair(1);
    sim.run_until(secs(30));
    assert_eq!(
        history(&sim, a),
        [
            (ns(0), Initialize, Backup, Startup),
            (ns(MDI_200), Backup, Master, MasterDown)
        ]
    );
    assert_eq!(history(&sim, b), [(ns(0), Initialize, Backup, Startup)]);
    assert_eq!(sim.masters(VRID), [a]);
    // The first advert at 3.21875 s, then one on every whole second (the
    // grid from the start) from 4 s to 30 s; none from B.
    let sent = sim.sent();
    assert_eq!(sent.len(), 28);
    assert!(sent.iter().all(|s| s.node == a));
    assert_eq!((sent[0].at, sent[1].at), (ns(MDI_200), secs(4)));
    assert_eq!(sent[2].at - sent[1].at, secs(1));
    assert_eq!(sim.router(b, VRID).master(), Some((ip(1).into(), 200)));
}

#[test]
fn tie_break_on_primary_address() {
    let mut sim = Sim::from_env(2);
    sim.set_net(NetConfig {
        latency: Duration::from_millis(1),
        ..NetConfig::default()
    });
    let low = sim.add_router(cfg("low", 100, 1));
    let high = sim.add_router(cfg("high", 100, 2));
    sim.start_all();
    sim.run_until(secs(20));
    // Both time out together; the lower address yields when the higher
    // address's advert arrives 1 ms later.
    assert_eq!(
        history(&sim, low),
        [
            (ns(0), Initialize, Backup, Startup),
            (ns(MDI_100), Backup, Master, MasterDown),
            (ns(MDI_100 + 1_000_000), Master, Backup, HigherPriority),
        ]
    );
    assert_eq!(
        history(&sim, high),
        [
            (ns(0), Initialize, Backup, Startup),
            (ns(MDI_100), Backup, Master, MasterDown),
        ]
    );
    assert_eq!(sim.masters(VRID), [high]);
}

#[test]
fn master_crash_backup_takes_over_after_master_down_interval() {
    let (mut sim, a, b) = pair(3);
    sim.run_until(secs(10));
    sim.crash(a);
    sim.run_until(secs(20));
    // A's last advert left at 10 s; B waits exactly its MDI after it.
    let last = 10_000_000_000;
    assert_eq!(
        history(&sim, b),
        [
            (ns(0), Initialize, Backup, Startup),
            (ns(last + MDI_100), Backup, Master, MasterDown),
        ]
    );
    assert_eq!(sim.masters(VRID), [b]);
}

#[test]
fn graceful_shutdown_hands_over_after_skew_time() {
    let (mut sim, a, b) = pair(4);
    sim.run_until(secs(10));
    sim.shutdown(a);
    sim.run_until(secs(20));
    assert_eq!(
        history(&sim, a).last(),
        Some(&(secs(10), Master, Initialize, Shutdown))
    );
    assert_eq!(
        history(&sim, b),
        [
            (ns(0), Initialize, Backup, Startup),
            (ns(10_000_000_000 + SKEW_100), Backup, Master, MasterDown),
        ]
    );
    assert_eq!(sim.router(a, VRID).counters().priority_zero_sent, 1);
    assert_eq!(sim.router(b, VRID).counters().priority_zero_received, 1);
}

/// B (100) alone is master at 3.609375 s; A (200) starts at 20 s.
fn late_high_priority(seed: u64, tweak: impl FnOnce(&mut Config)) -> (Sim, NodeId, NodeId) {
    let mut sim = Sim::from_env(seed);
    let mut ca = cfg("a", 200, 1);
    tweak(&mut ca);
    let a = sim.add_router(ca);
    let b = sim.add_router(cfg("b", 100, 2));
    sim.start(b);
    sim.run_until(secs(20));
    sim.start(a);
    (sim, a, b)
}

#[test]
fn preempt_takes_over_after_master_down_interval() {
    let (mut sim, a, b) = late_high_priority(5, |_| {});
    sim.run_until(secs(40));
    let takeover = 20_000_000_000 + MDI_200;
    assert_eq!(
        history(&sim, a),
        [
            (secs(20), Initialize, Backup, Startup),
            (ns(takeover), Backup, Master, MasterDown),
        ]
    );
    assert_eq!(
        history(&sim, b),
        [
            (ns(0), Initialize, Backup, Startup),
            (ns(MDI_100), Backup, Master, MasterDown),
            (ns(takeover), Master, Backup, HigherPriority),
        ]
    );
}

#[test]
fn nopreempt_leaves_the_lower_master_in_place() {
    let (mut sim, a, b) = late_high_priority(6, |c| c.preempt = false);
    sim.run_until(secs(120));
    assert_eq!(history(&sim, a), [(secs(20), Initialize, Backup, Startup)]);
    assert_eq!(sim.masters(VRID), [b]);
    // Until the master goes away: then A takes over after its own MDI.
    sim.shutdown(b);
    sim.run_until(secs(130));
    assert_eq!(
        history(&sim, a).last(),
        Some(&(
            ns(120_000_000_000 + 218_750_000),
            Backup,
            Master,
            MasterDown
        ))
    );
}

#[test]
fn preempt_delay_holds_preemption() {
    let (mut sim, a, b) = late_high_priority(7, |c| c.preempt_delay = secs(10));
    sim.run_until(secs(60));
    // B adverts on whole seconds: 21 s (delay starts: preempt at 31 s) ...
    // 30 s accepted; from 31 s discarded; A takes over one MDI after the
    // last accepted advert.
    let takeover = 30_000_000_000 + MDI_200;
    assert_eq!(
        history(&sim, a),
        [
            (secs(20), Initialize, Backup, Startup),
            (ns(takeover), Backup, Master, MasterDown),
        ]
    );
    assert_eq!(
        history(&sim, b).last(),
        Some(&(ns(takeover), Master, Backup, HigherPriority))
    );
}

#[test]
fn address_owner_takes_over_at_once_and_hands_back_after_its_skew() {
    let mut sim = Sim::from_env(8);
    let owner = sim.add_router(cfg("owner", 255, 1));
    let b = sim.add_router(cfg("b", 100, 2));
    sim.start(b);
    sim.run_until(secs(5));
    sim.start(owner);
    sim.run_until(secs(10));
    assert_eq!(
        history(&sim, owner),
        [(secs(5), Initialize, Master, AddressOwner)]
    );
    assert_eq!(
        history(&sim, b).last(),
        Some(&(secs(5), Master, Backup, HigherPriority))
    );
    assert_eq!(sim.router(owner, VRID).priority(), 255);
    // Tracking never adjusts an owner.
    sim.set_tracking(
        owner,
        VRID,
        Tracking {
            weight: -100,
            fault: false,
        },
    );
    assert_eq!(sim.router(owner, VRID).priority(), 255);
    sim.shutdown(owner);
    sim.run_until(secs(20));
    assert_eq!(
        history(&sim, b).last(),
        Some(&(ns(10_000_000_000 + SKEW_100), Backup, Master, MasterDown))
    );
}

#[test]
fn fault_on_interface_down_and_recovery() {
    let (mut sim, a, b) = pair(9);
    sim.run_until(secs(10));
    sim.set_interface(a, 1, false);
    sim.run_until(secs(20));
    // The interface is down, so no priority-0 advert: B waits its MDI
    // after A's last advert, at 10 s.
    let b_master = 10_000_000_000 + MDI_100;
    assert_eq!(
        history(&sim, b).last(),
        Some(&(ns(b_master), Backup, Master, MasterDown))
    );
    sim.set_interface(a, 1, true);
    sim.run_until(secs(30));
    assert_eq!(
        history(&sim, a),
        [
            (ns(0), Initialize, Backup, Startup),
            (ns(MDI_200), Backup, Master, MasterDown),
            (secs(10), Master, Fault, InterfaceDown),
            (secs(20), Fault, Backup, Recovered),
            (ns(20_000_000_000 + MDI_200), Backup, Master, MasterDown),
        ]
    );
    assert_eq!(
        history(&sim, b).last(),
        Some(&(ns(20_000_000_000 + MDI_200), Master, Backup, HigherPriority))
    );
}

#[test]
fn tracking_fault_sends_priority_zero_and_weights_move_priority() {
    let (mut sim, a, b) = pair(10);
    sim.run_until(secs(10));
    sim.set_tracking(
        a,
        VRID,
        Tracking {
            weight: 0,
            fault: true,
        },
    );
    sim.run_until(secs(20));
    assert_eq!(
        history(&sim, a).last(),
        Some(&(secs(10), Master, Fault, TrackingFault))
    );
    assert_eq!(
        history(&sim, b).last(),
        Some(&(ns(10_000_000_000 + SKEW_100), Backup, Master, MasterDown))
    );
    // Recovered with weight -150: effective priority 50 < 100, so A stays
    // backup and accepts B.
    sim.set_tracking(
        a,
        VRID,
        Tracking {
            weight: -150,
            fault: false,
        },
    );
    sim.run_until(secs(40));
    assert_eq!(sim.router(a, VRID).priority(), 50);
    assert_eq!(
        history(&sim, a).last(),
        Some(&(secs(20), Fault, Backup, Recovered))
    );
    assert_eq!(sim.masters(VRID), [b]);
    // Weight back to +10: 210 > 100, so A discards B's adverts from now on.
    sim.set_tracking(
        a,
        VRID,
        Tracking {
            weight: 10,
            fault: false,
        },
    );
    sim.run_until(secs(50));
    assert_eq!(sim.masters(VRID), [a]);
    let (at, from, to, reason) = *history(&sim, a).last().unwrap();
    assert_eq!((from, to, reason), (Backup, Master, MasterDown));
    // B's last accepted advert came at 40 s, when A's priority was
    // 50: that reset armed MDI(50) = 3.8046875 s, and the new priority
    // moved it by the change of Skew_Time, as keepalived does, to
    // MDI(210) = 3.1796875 s.
    assert_eq!(at, ns(40_000_000_000 + 3_179_687_500));
}

/// A node with VRID 1 on interface 1 and VRID 2 on interface 2, synced.
fn group_node(sim: &mut Sim, name: &str, priority: u8, last: u8) -> NodeId {
    group_node_split(sim, name, [priority, priority], last)
}

fn group_node_split(sim: &mut Sim, name: &str, priorities: [u8; 2], last: u8) -> NodeId {
    let mut mux = Mux::new();
    let mut ids = Vec::new();
    for (ifindex, vrid) in [(1, 1), (2, 2)] {
        let priority = priorities[usize::from(vrid) - 1];
        let mut c = Config::new(
            &format!("{name}{vrid}"),
            vrid,
            priority,
            Ipv4Addr::new(10, 0, ifindex as u8, last),
        );
        c.virtual_addresses = vec![Ipv4Addr::new(10, 0, ifindex as u8, 100)];
        ids.push(
            mux.add_router(ifindex, VirtualRouter::new(c).unwrap())
                .unwrap(),
        );
    }
    mux.add_sync_group("G", &ids).unwrap();
    sim.add_node(mux)
}

#[test]
fn sync_group_moves_together() {
    let mut sim = Sim::from_env(11);
    let a = group_node(&mut sim, "a", 200, 1);
    let b = group_node(&mut sim, "b", 100, 2);
    sim.start_all();
    sim.run_until(secs(10));
    for (i, v) in [(1, 1), (2, 2)] {
        assert_eq!(sim.masters_on(i, v), [a]);
    }
    // Interface 1 of A fails: VRID 1 faults, VRID 2 follows into FAULT and
    // sends priority 0 on interface 2. B's VRID 2 times out after its skew
    // but only *wants* MASTER (keepalived's sync groups prefer BACKUP) until
    // B's VRID 1 times out too, one MDI after A's last advert on interface 1
    // (10 s): then both move together.
    sim.set_interface(a, 1, false);
    sim.run_until(ns(11_000_000_000));
    let b2 = sim.router_on(b, 2, 2);
    assert_eq!((b2.state(), b2.wants_master()), (Backup, true));
    assert!(!sim.router_on(b, 1, 1).wants_master());
    sim.run_until(secs(20));
    let takeover = ns(10_000_000_000 + MDI_100);
    assert_eq!(
        history_on(&sim, a, 1, 1).last(),
        Some(&(secs(10), Master, Fault, InterfaceDown))
    );
    assert_eq!(
        history_on(&sim, a, 2, 2).last(),
        Some(&(secs(10), Master, Fault, SyncGroup))
    );
    for (i, v) in [(1, 1), (2, 2)] {
        assert_eq!(
            history_on(&sim, b, i, v).last(),
            Some(&(takeover, Backup, Master, MasterDown))
        );
    }
    // Recovery: both of A's members return to BACKUP together and preempt
    // together one MDI later; B follows as a group.
    sim.set_interface(a, 1, true);
    sim.run_until(secs(30));
    let back = ns(20_000_000_000 + MDI_200);
    for (i, v) in [(1, 1), (2, 2)] {
        let h = history_on(&sim, a, i, v);
        assert_eq!(h[h.len() - 2].0, secs(20));
        assert_eq!((h[h.len() - 2].1, h[h.len() - 2].2), (Fault, Backup));
        assert_eq!(h.last().map(|x| (x.0, x.2)), Some((back, Master)));
        assert_eq!(sim.masters_on(i, v), [a]);
        assert_eq!(
            history_on(&sim, b, i, v).last().map(|x| (x.0, x.2)),
            Some((back, Backup))
        );
    }
    // Group notifications as keepalived sends them.
    let group_states: Vec<(NodeId, State)> = sim
        .records()
        .iter()
        .filter_map(|r| match &r.event {
            MuxEvent::Group(_, n) => Some((r.node, n.state)),
            _ => None,
        })
        .collect();
    assert_eq!(
        group_states,
        [
            (a, Backup),
            (b, Backup),
            (a, Master),
            (a, Fault),
            (b, Master),
            (a, Backup),
            (a, Master),
            (b, Backup),
        ]
    );
}

#[test]
fn partition_makes_two_masters_and_healing_leaves_one() {
    let mut sim = Sim::from_env(12);
    let a = sim.add_router(cfg("a", 200, 1));
    let b = sim.add_router(cfg("b", 150, 2));
    let c = sim.add_router(cfg("c", 100, 3));
    sim.start_all();
    sim.run_until(secs(10));
    assert_eq!(sim.masters(VRID), [a]);
    sim.partition(&[&[a], &[b, c]]);
    sim.run_until(secs(20));
    // B heard A last at 10 s.
    let split = ns(10_000_000_000 + MDI_150);
    assert_eq!(
        history(&sim, b).last(),
        Some(&(split, Backup, Master, MasterDown))
    );
    assert_eq!(sim.masters(VRID), [a, b]);
    sim.heal();
    sim.run_until(secs(30));
    // A's next advert (21 s) reaches B, which yields at once.
    assert_eq!(
        history(&sim, b).last(),
        Some(&(secs(21), Master, Backup, HigherPriority))
    );
    assert_eq!(sim.masters(VRID), [a]);
    assert_eq!(history(&sim, c), [(ns(0), Initialize, Backup, Startup)]);
}

/// Starts A (priority 200, 10.0.0.1) and B (100, 10.0.0.2), both with AH.
fn start_ah_pair(sim: &mut Sim) -> (NodeId, NodeId) {
    let [a, b] = [cfg("a", 200, 1), cfg("b", 100, 2)].map(|mut c| {
        c.authentication = AuthConfig::ah(b"secret1");
        sim.add_router(c)
    });
    sim.start_all();
    (a, b)
}

#[test]
fn ah_replayed_advert_is_rejected_without_touching_the_timer() {
    let mut sim = Sim::from_env(13);
    let (a, b) = start_ah_pair(&mut sim);
    sim.run_until(ns(10_500_000_000));
    let old = sim.sent()[0].clone();
    let newest = sim.sent().last().unwrap().clone();
    let timer = sim.router(b, VRID).poll_timeout();
    let sent_by_a = sim.sent().iter().filter(|s| s.node == a).count() as u64;
    assert_eq!(sent_by_a, 8);
    for replay in [&old, &newest] {
        sim.inject(b, 1, replay.src, &replay.bytes);
    }
    let rb = sim.router(b, VRID);
    assert_eq!(
        rb.counters()
            .dropped
            .get(DropReason::Invalid(wire::DropReason::AhReplay)),
        2
    );
    assert_eq!(rb.counters().adverts_received, sent_by_a);
    assert_eq!(sim.router(b, VRID).poll_timeout(), timer);
    // The real master keeps going; B never took over.
    sim.run_until(secs(30));
    assert_eq!(sim.masters(VRID), [a]);
    assert_eq!(history(&sim, b), [(ns(0), Initialize, Backup, Startup)]);
}

/// Injects into B at 10.5 s a valid priority-0 advert from .9, a router
/// B (following A) never accepted an advert from.
fn stray_stop(sim: &mut Sim, b: NodeId) {
    let vips = [Ipv4Addr::new(10, 0, 0, 100)];
    let repr = wire::AdvertRepr {
        src: ip(9),
        dst: wire::VRRP_MCAST_V4,
        ttl: wire::VRRP_TTL,
        vrid: VRID,
        priority: 0,
        adver_int: 1,
        addresses: &vips,
    };
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let mut tx = Default::default();
    let len = wire::encode(&repr, &AuthConfig::None, &mut tx, &mut buf).unwrap();
    sim.run_until(ns(10_500_000_000));
    sim.inject(b, 1, ip(9), &buf[..len]);
}

#[test]
fn priority_zero_from_a_non_master_leaves_the_backup_in_place() {
    // keepalived 2.2.7 would make B master at 10.5 s + Skew_Time (with A
    // still master) until A's answer to B's advert sends it back.
    let (mut sim, a, b) = pair(24);
    stray_stop(&mut sim, b);
    sim.run_until(secs(20));
    assert_eq!(history(&sim, b), [(ns(0), Initialize, Backup, Startup)]);
    assert_eq!(sim.masters(VRID), [a]);
    let rb = sim.router(b, VRID).counters();
    assert_eq!(rb.dropped.get(DropReason::StopNotFromMaster), 1);
    assert_eq!(rb.dropped.total(), 1);
    // A's own priority 0 still hands over after Skew_Time.
    sim.shutdown(a);
    sim.run_until(secs(21));
    assert_eq!(
        history(&sim, b).last(),
        Some(&(ns(20_000_000_000 + SKEW_100), Backup, Master, MasterDown))
    );
}

#[test]
fn invalid_datagrams_never_reset_the_down_timer() {
    let (mut sim, a, b) = pair(14);
    sim.run_until(secs(10));
    sim.crash(a);
    let mut bad = sim.sent().last().unwrap().bytes.clone();
    let last = bad.len() - 1;
    bad[last] ^= 0xff; // corrupt the last address byte: checksum fails
                       // Keep feeding the corrupted advert every 500 ms: B still takes over
                       // exactly one MDI after the last valid advert.
    for k in 1..=12 {
        sim.run_until(ns(10_000_000_000 + k * 500_000_000));
        sim.inject(b, 1, ip(1), &bad);
    }
    sim.run_until(secs(20));
    let last_valid = 10_000_000_000;
    assert_eq!(
        history(&sim, b).last(),
        Some(&(ns(last_valid + MDI_100), Backup, Master, MasterDown))
    );
    let dropped = &sim.router(b, VRID).counters().dropped;
    // Before and after the takeover alike.
    assert_eq!(
        dropped.get(DropReason::Invalid(wire::DropReason::BadChecksum)),
        12
    );
    assert_eq!(dropped.total(), 12);
}

/// keepalived 2.2.7's `state MASTER` outside a sync group: the first wait
/// is the whole Master_Down_Interval, as for `state BACKUP`
/// (vrrp_init_state; measured 3.4 s against keepalived's own log).
#[test]
fn state_master_alone_waits_master_down_interval() {
    let mut sim = Sim::from_env(15);
    let mut ca = cfg("a", 100, 1);
    ca.initial_master = true;
    let a = sim.add_router(ca);
    let b = sim.add_router(cfg("b", 200, 2));
    sim.start(a);
    sim.run_until(secs(5));
    assert_eq!(
        history(&sim, a),
        [
            (ns(0), Initialize, Backup, Startup),
            (ns(MDI_100), Backup, Master, MasterDown)
        ]
    );
    // A higher priority started later still preempts it as usual.
    sim.start(b);
    sim.run_until(secs(15));
    assert_eq!(sim.masters(VRID), [b]);
}

/// In a sync group (whose state starts BACKUP) keepalived shortens a
/// `state MASTER` member's first wait to one interval plus 1/256 s.
#[test]
fn state_master_in_a_sync_group_takes_over_after_one_interval() {
    let mut sim = Sim::from_env(15);
    let mut mux = Mux::new();
    let mut ids = Vec::new();
    for (ifindex, vrid) in [(1, 1), (2, 2)] {
        let mut c = Config::new(
            &format!("a{vrid}"),
            vrid,
            100,
            Ipv4Addr::new(10, 0, ifindex as u8, 1),
        );
        c.virtual_addresses = vec![Ipv4Addr::new(10, 0, ifindex as u8, 100)];
        c.initial_master = true;
        ids.push(
            mux.add_router(ifindex, VirtualRouter::new(c).unwrap())
                .unwrap(),
        );
    }
    mux.add_sync_group("G", &ids).unwrap();
    let a = sim.add_node(mux);
    sim.start(a);
    sim.run_until(secs(5));
    for (i, v) in [(1, 1), (2, 2)] {
        assert_eq!(
            history_on(&sim, a, i, v),
            [
                (ns(0), Initialize, Backup, Startup),
                // 1 s + 1/256 s, not 3.609375 s.
                (ns(1_003_906_250), Backup, Master, MasterDown)
            ]
        );
    }
}

#[test]
fn one_way_link_failure_makes_the_deaf_backup_take_over_and_yield() {
    let (mut sim, a, b) = pair(16);
    sim.run_until(secs(10));
    // B stops hearing A, A still hears B.
    sim.set_link_loss(a, b, 1.0);
    sim.run_until(secs(20));
    // B takes over after its MDI; A hears the lower advert and answers at
    // once (keepalived's default), but B cannot hear it: two masters.
    let b_up = 10_000_000_000 + MDI_100;
    assert_eq!(
        history(&sim, b).last(),
        Some(&(ns(b_up), Backup, Master, MasterDown))
    );
    assert_eq!(sim.masters(VRID), [a, b]);
    // Repair: A's next advert sends B back to BACKUP.
    sim.set_link_loss(a, b, 0.0);
    sim.run_until(secs(30));
    assert_eq!(sim.masters(VRID), [a]);
    assert_eq!(
        history(&sim, b).last(),
        Some(&(secs(21), Master, Backup, HigherPriority))
    );
}

#[test]
fn crashed_master_restarts_and_preempts_with_ah() {
    let mut sim = Sim::from_env(17);
    let (a, b) = start_ah_pair(&mut sim);
    sim.run_until(secs(10));
    sim.crash(a);
    sim.run_until(secs(20));
    assert_eq!(sim.masters(VRID), [b]);
    // A boots with its AH counter at 0; it learns B's sequence numbers as
    // a backup, so its own adverts as master are fresh for B.
    sim.restart(a);
    sim.run_until(secs(30));
    let back = ns(20_000_000_000 + MDI_200);
    assert_eq!(
        history(&sim, a)[2..],
        [
            (secs(20), Initialize, Backup, Startup),
            (back, Backup, Master, MasterDown)
        ]
    );
    assert_eq!(
        history(&sim, b).last(),
        Some(&(back, Master, Backup, HigherPriority))
    );
    assert_eq!(sim.router(b, VRID).counters().dropped.total(), 0);
}

#[test]
fn sync_group_with_split_priorities_does_not_thrash() {
    // Misconfigured: A is preferred for VRID 1, B for VRID 2. A group only
    // moves when all its members want MASTER, so the first group to get
    // there wins both VRIDs and stays.
    let mut sim = Sim::from_env(18);
    let a = group_node_split(&mut sim, "a", [200, 100], 1);
    let b = group_node_split(&mut sim, "b", [100, 200], 2);
    sim.start_all();
    sim.run_until(secs(120));
    for (i, v) in [(1, 1), (2, 2)] {
        assert_eq!(sim.masters_on(i, v), [a]);
        assert_eq!(
            history_on(&sim, a, i, v),
            [
                (ns(0), Initialize, Backup, Startup),
                (ns(MDI_100), Backup, Master, MasterDown)
            ]
        );
        assert_eq!(
            history_on(&sim, b, i, v),
            [(ns(0), Initialize, Backup, Startup)]
        );
    }
    // B's VRID 2 keeps wanting MASTER, held by its group.
    assert!(sim.router_on(b, 2, 2).wants_master());
}

#[test]
fn duplicated_ah_adverts_are_dropped_as_replays_and_change_nothing() {
    let mut sim = Sim::from_env(19);
    sim.set_net(NetConfig {
        latency: Duration::from_millis(2),
        duplicate: 1.0,
        ..NetConfig::default()
    });
    let (a, b) = start_ah_pair(&mut sim);
    // The last advert, at 30 s, arrives (twice) 2 ms later.
    sim.run_until(ns(30_500_000_000));
    let sent = sim.sent().iter().filter(|s| s.node == a).count() as u64;
    let rb = sim.router(b, VRID).counters();
    assert_eq!(rb.adverts_received, sent);
    assert_eq!(
        rb.dropped
            .get(DropReason::Invalid(wire::DropReason::AhReplay)),
        sent
    );
    assert_eq!(
        history(&sim, a),
        [
            (ns(0), Initialize, Backup, Startup),
            (ns(MDI_200), Backup, Master, MasterDown)
        ]
    );
    assert_eq!(history(&sim, b), [(ns(0), Initialize, Backup, Startup)]);
}
