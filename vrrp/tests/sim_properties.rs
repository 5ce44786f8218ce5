//! Property tests on random LANs: random node counts, priorities (with ties
//! and owners), advert intervals, authentication, multicast or unicast
//! peers (full mesh in a random order, `check_unicast_src` or not), latency
//! and jitter, start times, loss up to 20 %, duplicates and partitions.
//!
//! Properties:
//! * after a segment has been connected and loss-free for 2 x the largest
//!   Master_Down_Interval, it has exactly one master, and it has the highest
//!   priority; when several routers share that priority, the master is one
//!   of them (RFC 3768 section 6.4.2: a backup accepts an advert of equal
//!   priority, so an established master is not preempted by an equal
//!   priority with a higher address; the address only breaks the tie
//!   between two masters, see `tie_break_on_primary_address`). With a
//!   unique highest priority this is exactly "the highest (priority,
//!   address)";
//! * in a loss-free phase (between two partition events) no router becomes
//!   master more than once.
//!
//! `VRRP_SIM_SEED=N` runs the single case N (the failing seed is printed);
//! `VRRP_SIM_CASES=K` changes the number of cases (default 512).
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::Ipv4Addr;
use std::time::Duration;

use rand::seq::SliceRandom;
use rand::Rng;
use vrrp::auth::AuthConfig;
use vrrp::config::{master_down_interval, LowerPriorityAdvert};
use vrrp::event::State;
use vrrp::mux::Mux;
use vrrp::sim::{NetConfig, NodeId, Sim, SEED_ENV};
use vrrp::{Config, VirtualRouter};

const VRID: u8 = 9;

struct Phase {
    segments: Vec<Vec<NodeId>>,
    net: NetConfig,
    duration: Duration,
}

/// Runs `case` over the seeds (or the one from `VRRP_SIM_SEED`).
fn for_each_seed(base: u64, case: fn(u64)) {
    let cases: u64 = std::env::var("VRRP_SIM_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(512);
    match std::env::var(SEED_ENV).ok().and_then(|s| s.parse().ok()) {
        Some(seed) => case(seed),
        None => (0..cases).for_each(|i| case(base + i)),
    }
}

#[test]
fn random_lans_elect_the_highest_router_and_never_flap() {
    for_each_seed(0x5eed_0000, run_case);
}

/// Every node runs VRID 1 on interface 1 and VRID 2 on interface 2 in one
/// sync group (same priority for both, as keepalived users configure
/// them). After the LAN has been connected and loss-free for 2 x MDI each
/// VRID has exactly one master, a node of the highest priority, and every
/// node's two members are in the same state.
#[test]
fn random_lans_with_sync_groups_converge_together() {
    for_each_seed(0x5eed_8000, run_group_case);
}

fn run_group_case(seed: u64) {
    let mut sim = Sim::new(seed);
    let rng = sim.rng();
    let n = rng.gen_range(2..=5usize);
    let palette = [50u8, 100, 100, 150, 200];
    let prios: Vec<u8> = (0..n).map(|_| *palette.choose(rng).unwrap()).collect();
    let net = NetConfig {
        latency: Duration::from_micros(rng.gen_range(0..3_000)),
        jitter: Duration::from_micros(rng.gen_range(0..1_000)),
        loss: 0.0,
        duplicate: 0.0,
    };
    let mut phases = Vec::new();
    for _ in 0..rng.gen_range(1..=4) {
        let groups = rng.gen_range(1..=2usize);
        let mut segments = vec![Vec::new(); groups];
        for node in 0..n {
            segments[rng.gen_range(0..groups)].push(node);
        }
        let loss = if rng.gen_bool(0.5) {
            rng.gen_range(0.0..=0.2)
        } else {
            0.0
        };
        phases.push((segments, loss, Duration::from_secs(rng.gen_range(5..=30))));
    }
    for (node, prio) in prios.iter().enumerate() {
        let mut mux = Mux::new();
        let mut ids = Vec::new();
        for (ifindex, vrid) in [(1u32, 1u8), (2, 2)] {
            let ip = Ipv4Addr::new(10, 0, ifindex as u8, node as u8 + 1);
            let mut c = Config::new(&format!("n{node}v{vrid}"), vrid, *prio, ip);
            c.virtual_addresses = vec![Ipv4Addr::new(10, 0, ifindex as u8, 200)];
            ids.push(
                mux.add_router(ifindex, VirtualRouter::new(c).unwrap())
                    .unwrap(),
            );
        }
        mux.add_sync_group("G", &ids).unwrap();
        sim.add_node(mux);
    }
    sim.set_net(net);
    sim.record_sent(false);
    sim.start_all();
    for (segments, loss, duration) in &phases {
        let slices: Vec<&[NodeId]> = segments.iter().map(Vec::as_slice).collect();
        sim.partition(&slices);
        sim.set_net(NetConfig { loss: *loss, ..net });
        sim.run_for(*duration);
    }
    sim.heal();
    sim.set_net(net);
    let max_mdi = prios
        .iter()
        .map(|p| master_down_interval(Duration::from_secs(1), *p))
        .max()
        .unwrap();
    sim.run_for(max_mdi * 2);
    let top = *prios.iter().max().unwrap();
    for (ifindex, vrid) in [(1u32, 1u8), (2, 2)] {
        let masters = sim.masters_on(ifindex, vrid);
        assert!(
            masters.len() == 1 && prios[masters[0]] == top,
            "VRID {vrid}: masters {masters:?} with priorities {prios:?} at {:?}",
            sim.elapsed()
        );
    }
    for node in 0..n {
        let s1 = sim.router_on(node, 1, 1).state();
        let s2 = sim.router_on(node, 2, 2).state();
        assert_eq!(
            s1,
            s2,
            "node {node} members disagree at {:?}",
            sim.elapsed()
        );
    }
}

fn run_case(seed: u64) {
    let mut sim = Sim::new(seed);
    let rng = sim.rng();
    let n = rng.gen_range(2..=6usize);
    let adver_int = rng.gen_range(1..=3u8);
    let auth = match rng.gen_range(0..3) {
        0 => AuthConfig::None,
        1 => AuthConfig::pass(b"pw"),
        _ => AuthConfig::ah(b"secret"),
    };
    // Few distinct priorities so that ties on the address happen.
    let palette = [50u8, 100, 100, 150, 200, 254];
    let mut addrs: Vec<u8> = (1..=n as u8).collect();
    addrs.shuffle(rng);
    let mut routers = Vec::new();
    let owner = rng.gen_bool(0.15).then(|| rng.gen_range(0..n));
    for (i, last) in addrs.iter().enumerate() {
        let prio = if owner == Some(i) {
            255
        } else {
            *palette.choose(rng).unwrap()
        };
        routers.push((prio, Ipv4Addr::new(10, 0, 0, *last)));
    }
    let base_net = NetConfig {
        latency: Duration::from_micros(rng.gen_range(0..5_000)),
        jitter: Duration::from_micros(rng.gen_range(0..2_000)),
        loss: 0.0,
        duplicate: 0.0,
    };
    // keepalived's reaction to a lower-priority advert, or the RFC's.
    let lower = if rng.gen_bool(0.5) {
        LowerPriorityAdvert::SendAdvert
    } else {
        LowerPriorityAdvert::Discard
    };
    let starts: Vec<Duration> = (0..n)
        .map(|_| Duration::from_millis(rng.gen_range(0..3_000)))
        .collect();
    let mut phases = Vec::new();
    for _ in 0..rng.gen_range(2..=6) {
        let groups = rng.gen_range(1..=3usize.min(n));
        let mut segments = vec![Vec::new(); groups];
        for node in 0..n {
            segments[rng.gen_range(0..groups)].push(node);
        }
        let lossy = rng.gen_bool(0.5);
        phases.push(Phase {
            segments,
            net: NetConfig {
                loss: if lossy { rng.gen_range(0.0..=0.2) } else { 0.0 },
                duplicate: if lossy { rng.gen_range(0.0..=0.1) } else { 0.0 },
                ..base_net
            },
            duration: Duration::from_secs(rng.gen_range(5..=40)),
        });
    }
    // Drawn last so the draws above stay what they were before unicast.
    let unicast = rng.gen_bool(0.5);
    let check_unicast_src = rng.gen_bool(0.5);
    let peers: Vec<Vec<Ipv4Addr>> = (0..n)
        .map(|i| {
            let mut p: Vec<Ipv4Addr> = routers
                .iter()
                .enumerate()
                .filter(|&(j, _)| unicast && j != i)
                .map(|(_, r)| r.1)
                .collect();
            p.shuffle(rng);
            p
        })
        .collect();

    for (i, (prio, ip)) in routers.iter().enumerate() {
        let mut c = Config::new(&format!("r{i}"), VRID, *prio, *ip);
        c.advert_interval_secs = adver_int;
        c.virtual_addresses = vec![Ipv4Addr::new(10, 0, 0, 200)];
        c.authentication = auth.clone();
        c.lower_priority_advert = lower;
        c.unicast_peers = peers[i].clone();
        c.check_unicast_src = check_unicast_src;
        sim.add_router(c);
    }
    sim.set_net(base_net);
    sim.record_sent(false);
    let max_mdi = routers
        .iter()
        .map(|(p, _)| master_down_interval(Duration::from_secs(adver_int.into()), *p))
        .max()
        .unwrap();
    let mut order: Vec<NodeId> = (0..n).collect();
    order.sort_by_key(|&i| starts[i]);
    for i in order {
        sim.run_until(starts[i]);
        sim.start(i);
    }
    sim.run_until(Duration::from_secs(3));

    for phase in &phases {
        let slices: Vec<&[NodeId]> = phase.segments.iter().map(Vec::as_slice).collect();
        sim.partition(&slices);
        sim.set_net(phase.net);
        let begin = sim.elapsed();
        sim.run_for(phase.duration);
        if phase.net.loss == 0.0 {
            assert_no_flap(&sim, begin, n);
            if phase.duration >= max_mdi * 2 {
                for seg in phase.segments.iter().filter(|s| !s.is_empty()) {
                    assert_single_highest_master(&sim, &routers, seg);
                }
            }
        }
    }
    // Final: connected and loss-free for 2 x MDI.
    sim.heal();
    sim.set_net(base_net);
    let begin = sim.elapsed();
    sim.run_for(max_mdi * 2);
    assert_no_flap(&sim, begin, n);
    let all: Vec<NodeId> = (0..n).collect();
    assert_single_highest_master(&sim, &routers, &all);
}

fn assert_single_highest_master(sim: &Sim, routers: &[(u8, Ipv4Addr)], segment: &[NodeId]) {
    let top = segment.iter().map(|&i| routers[i].0).max().unwrap();
    let best: Vec<NodeId> = segment
        .iter()
        .copied()
        .filter(|&i| routers[i].0 == top)
        .collect();
    let masters: Vec<NodeId> = segment
        .iter()
        .copied()
        .filter(|&i| sim.state(i, VRID) == State::Master)
        .collect();
    let ok = masters.len() == 1 && best.contains(&masters[0]);
    if !ok {
        for t in sim.transitions() {
            eprintln!("{t:?}");
        }
        for &i in segment {
            let r = sim.router(i, VRID);
            eprintln!(
                "node {i}: {:?} {:?}",
                r.config().authentication,
                r.counters()
            );
        }
    }
    assert!(
        ok,
        "masters {masters:?}, expected one of {best:?}; segment {segment:?} of {routers:?} at {:?}",
        sim.elapsed()
    );
}

fn assert_no_flap(sim: &Sim, since: Duration, n: usize) {
    for node in 0..n {
        let entries = sim
            .transitions()
            .iter()
            .filter(|t| t.node == node && t.at >= since && t.to == State::Master)
            .count();
        assert!(
            entries <= 1,
            "node {node} became master {entries} times since {since:?}: {:?}",
            sim.transitions()
                .iter()
                .filter(|t| t.node == node && t.at >= since)
                .collect::<Vec<_>>()
        );
    }
}
