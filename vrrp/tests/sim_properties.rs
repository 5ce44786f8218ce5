//! Property tests on random LANs: random node counts, priorities (with ties
//! and owners), advert intervals, authentication, latency and jitter,
//! start times, loss up to 20 %, duplicates and partitions.
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
use vrrp::sim::{NetConfig, NodeId, Sim, SEED_ENV};
use vrrp::Config;

const VRID: u8 = 9;

struct Phase {
    segments: Vec<Vec<NodeId>>,
    net: NetConfig,
    duration: Duration,
}

#[test]
fn random_lans_elect_the_highest_router_and_never_flap() {
    let cases: u64 = std::env::var("VRRP_SIM_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(512);
    match std::env::var(SEED_ENV).ok().and_then(|s| s.parse().ok()) {
        Some(seed) => run_case(seed),
        None => (0..cases).for_each(|i| run_case(0x5eed_0000 + i)),
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

    for (i, (prio, ip)) in routers.iter().enumerate() {
        let mut c = Config::new(&format!("r{i}"), VRID, *prio, *ip);
        c.advert_interval_secs = adver_int;
        c.virtual_addresses = vec![Ipv4Addr::new(10, 0, 0, 200)];
        c.authentication = auth.clone();
        c.lower_priority_advert = lower;
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
