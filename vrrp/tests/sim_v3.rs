//! VRRPv3 (RFC 9568 section 6) on the simulated LAN: one scenario per timer
//! rule, exact states at exact virtual times, zero latency.
//!
//! Router A: priority 200 at 10.0.0.1; router B: priority 100 at 10.0.0.2.
//! Skew_Time = (256 - priority) / 256 x Master_Adver_Interval, so at
//! 100 ms: 21.875 ms for A, 60.9375 ms for B; Master_Down_Interval is three
//! intervals more.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::Ipv4Addr;
use std::time::Duration;

use vrrp::config::Version;
use vrrp::event::{Reason, State};
use vrrp::router::Change;
use vrrp::sim::{NetConfig, NodeId, Sim};
use vrrp::{wire, Config};

use Reason::*;
use State::*;

const VRID: u8 = 51;

fn cfg(name: &str, priority: u8, last: u8, centis: u16) -> Config {
    let mut c = Config::new(name, VRID, priority, Ipv4Addr::new(10, 0, 0, last));
    c.virtual_addresses = vec![Ipv4Addr::new(10, 0, 0, 100)];
    c.version = Version::V3;
    c.advert_interval_centis = centis;
    c
}

fn ns(n: u64) -> Duration {
    Duration::from_nanos(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn history(sim: &Sim, node: NodeId) -> Vec<(Duration, State, State, Reason)> {
    sim.transitions()
        .into_iter()
        .filter(|t| t.node == node && t.vrid == VRID)
        .map(|t| (t.at, t.from, t.to, t.reason))
        .collect()
}

/// The Max Advertise Interval field of every advert `node` sent from `from`.
fn sent_intervals(sim: &Sim, node: NodeId, from: Duration) -> Vec<(Duration, u16)> {
    let opts = wire::RecvOptionsV3::default();
    sim.sent()
        .iter()
        .filter(|s| s.node == node && s.at >= from)
        .map(|s| {
            (
                s.at,
                wire::decode_v3(&s.bytes, &opts).unwrap().max_adver_int,
            )
        })
        .collect()
}

/// A and B with these intervals (centiseconds), both started at 0.
fn pair(seed: u64, a_centis: u16, b_centis: u16) -> (Sim, NodeId, NodeId) {
    let mut sim = Sim::from_env(seed);
    let a = sim.add_router(cfg("a", 200, 1, a_centis));
    let b = sim.add_router(cfg("b", 100, 2, b_centis));
    sim.start_all();
    (sim, a, b)
}

#[test]
fn at_one_second_the_v3_election_times_are_the_v2_ones() {
    let (mut sim, a, b) = pair(1, 100, 100);
    sim.run_until(Duration::from_secs(10));
    // 3 s + 56/256 s.
    let up = ns(3_218_750_000);
    assert_eq!(
        history(&sim, a),
        [
            (ms(0), Initialize, Backup, Startup),
            (up, Backup, Master, MasterDown)
        ]
    );
    assert_eq!(history(&sim, b), [(ms(0), Initialize, Backup, Startup)]);
    assert_eq!(sim.router(b, VRID).master_adver_interval(), ms(1000));
}

#[test]
fn graceful_handover_waits_the_skew_of_the_learned_interval() {
    // B is configured for 1 s but learns A's 100 ms.
    let (mut sim, a, b) = pair(2, 10, 100);
    sim.run_until(ms(10_000));
    let a_up = ns(321_875_000); // 300 ms + 21.875 ms
    assert_eq!(history(&sim, a)[1], (a_up, Backup, Master, MasterDown));
    assert_eq!(sim.router(b, VRID).master_adver_interval(), ms(100));
    assert_eq!(sim.router(b, VRID).master_down_interval(), ns(360_937_500));

    sim.shutdown(a);
    sim.run_until(ms(20_000));
    let b_up = ms(10_000) + ns(60_937_500);
    assert_eq!(
        history(&sim, b),
        [
            (ms(0), Initialize, Backup, Startup),
            (b_up, Backup, Master, MasterDown)
        ]
    );
    // As master B advertises its own interval, every second (at once, then
    // on the grid of whole seconds from the start).
    let b_sent = sent_intervals(&sim, b, b_up);
    assert_eq!(
        b_sent[..3],
        [(b_up, 100), (ms(11_000), 100), (ms(12_000), 100)]
    );
    assert_eq!(sim.router(b, VRID).master_adver_interval(), ms(1000));
}

#[test]
fn crash_takeover_after_the_learned_master_down_interval() {
    let (mut sim, a, b) = pair(3, 10, 100);
    sim.run_until(ms(10_000));
    sim.crash(a);
    sim.run_until(ms(20_000));
    // A's last advert: at 10 s, on the 100 ms grid; then 360.9375 ms.
    let last = ms(10_000);
    assert_eq!(sent_intervals(&sim, a, last - ms(1)), [(last, 10)]);
    let b_up = last + ns(360_937_500);
    assert_eq!(history(&sim, b)[1], (b_up, Backup, Master, MasterDown));
}

#[test]
fn a_backup_follows_a_master_interval_that_changes() {
    let (mut sim, a, b) = pair(4, 20, 100);
    sim.run_until(ms(10_000));
    assert_eq!(sim.router(b, VRID).master_adver_interval(), ms(200));
    assert_eq!(sim.router(b, VRID).master_down_interval(), ns(721_875_000));

    // A reloads with 50 ms at 10 s, just after its advert there: its next
    // advert comes at the next point of the 50 ms grid, 10.05 s (sooner
    // than the 10.2 s it was due), and carries it.
    let changed = sim.with_mux(a, |mux, now| {
        let id = mux.find(1, VRID).unwrap();
        mux.reconfigure_router(now, id, cfg("a", 200, 1, 5))
    });
    assert!(matches!(changed, Ok(Change::InPlace(c)) if c.advert_interval));
    sim.run_until(ms(11_000));
    let switch = ms(10_050);
    let a_sent = sent_intervals(&sim, a, ms(10_000));
    assert_eq!(
        a_sent[..3],
        [(ms(10_000), 20), (switch, 5), (switch + ms(50), 5)]
    );
    assert_eq!(sim.router(b, VRID).master_adver_interval(), ms(50));
    // 150 ms + 156/256 x 50 ms.
    assert_eq!(sim.router(b, VRID).master_down_interval(), ns(180_468_750));

    // And back to 2 s: B waits three of those before taking over.
    sim.with_mux(a, |mux, now| {
        let id = mux.find(1, VRID).unwrap();
        mux.reconfigure_router(now, id, cfg("a", 200, 1, 200))
    })
    .unwrap();
    sim.run_until(ms(20_000));
    assert_eq!(sim.router(b, VRID).master_adver_interval(), ms(2_000));
    let last = sent_intervals(&sim, a, ms(11_000)).last().copied().unwrap();
    assert_eq!(last.1, 200);
    sim.crash(a);
    sim.run_until(ms(40_000));
    let b_up = last.0 + ms(6_000) + ns(1_218_750_000);
    assert_eq!(
        history(&sim, b),
        [
            (ms(0), Initialize, Backup, Startup),
            (b_up, Backup, Master, MasterDown)
        ]
    );
}

#[test]
fn higher_priority_preempts_and_nopreempt_learns_instead() {
    for preempt in [true, false] {
        let mut sim = Sim::from_env(5);
        let b = sim.add_router(cfg("b", 100, 2, 20));
        let mut a_cfg = cfg("a", 200, 1, 10);
        a_cfg.preempt = preempt;
        let a = sim.add_router(a_cfg);
        sim.start(b);
        sim.run_until(ms(1_000));
        // B alone: 600 ms + 156/256 x 200 ms.
        assert_eq!(history(&sim, b)[1].0, ns(721_875_000));
        sim.start(a);
        sim.run_until(ms(5_000));
        if preempt {
            // A ignores the lower master and times out on its own interval.
            let a_up = ms(1_000) + ns(321_875_000);
            assert_eq!(history(&sim, a)[1], (a_up, Backup, Master, MasterDown));
            assert_eq!(history(&sim, b)[2], (a_up, Master, Backup, HigherPriority));
            assert_eq!(sim.router(b, VRID).master_adver_interval(), ms(100));
        } else {
            assert_eq!(history(&sim, a), [(ms(1_000), Initialize, Backup, Startup)]);
            assert_eq!(sim.router(a, VRID).master_adver_interval(), ms(200));
        }
    }
}

#[test]
fn owner_takes_over_at_once_and_priority_zero_hands_back() {
    let mut sim = Sim::from_env(6);
    let b = sim.add_router(cfg("b", 100, 2, 10));
    let a = sim.add_router(cfg("owner", 255, 1, 100));
    sim.start(b);
    sim.run_until(ms(1_000));
    sim.start(a);
    sim.run_until(ms(5_000));
    assert_eq!(
        history(&sim, a),
        [(ms(1_000), Initialize, Master, AddressOwner)]
    );
    assert_eq!(
        history(&sim, b)[2],
        (ms(1_000), Master, Backup, HigherPriority)
    );
    assert_eq!(sim.router(b, VRID).master_adver_interval(), ms(1_000));
    sim.shutdown(a);
    sim.run_until(ms(10_000));
    // B's skew at the owner's 1 s.
    let b_up = ms(5_000) + ns(609_375_000);
    assert_eq!(history(&sim, b)[3], (b_up, Backup, Master, MasterDown));
}

/// A's adverts to B (zero latency: delivered when sent) minus the lost
/// ones, from `from` on: the gaps B saw.
fn gaps_seen_by_b(sim: &Sim, a: NodeId, b: NodeId, from: Duration) -> Vec<Duration> {
    let lost: std::collections::HashSet<Duration> = sim
        .lost()
        .iter()
        .filter(|l| l.from == a && l.to == b)
        .map(|l| l.at)
        .collect();
    let delivered: Vec<Duration> = sim
        .sent()
        .iter()
        .filter(|s| s.node == a && s.at >= from && !lost.contains(&s.at))
        .map(|s| s.at)
        .collect();
    delivered.windows(2).map(|w| w[1] - w[0]).collect()
}

#[test]
fn ten_ms_adverts_under_one_percent_loss_flap_only_when_three_in_a_row_are_lost() {
    let (mut sim, a, b) = pair(7, 1, 1);
    sim.set_net(NetConfig {
        loss: 0.01,
        ..NetConfig::default()
    });
    sim.run_until(Duration::from_secs(3600));
    let a_up = ns(30_000_000 + 2_187_500); // 3 x 10 ms + 56/256 x 10 ms
    assert_eq!(
        history(&sim, a)[..2],
        [
            (ms(0), Initialize, Backup, Startup),
            (a_up, Backup, Master, MasterDown)
        ]
    );
    // B may take over only when the loss hides A for longer than its
    // Master_Down_Interval (36.09375 ms): three adverts in a row lost, a
    // 1-in-a-million event per advert, so about 0.36 times in an hour of
    // 360,000 adverts. Every takeover must be such a one, and A never
    // leaves MASTER (it answers B's lower advert at once).
    let mdi_b = ns(36_093_750);
    let forced = gaps_seen_by_b(&sim, a, b, a_up)
        .into_iter()
        // A gap of exactly the interval is A's answer to B's takeover.
        .filter(|g| *g >= mdi_b)
        .count();
    let b_masters = history(&sim, b).iter().filter(|t| t.2 == Master).count();
    assert_eq!(b_masters, forced, "B took over without three lost adverts");
    assert_eq!(history(&sim, a).len(), 2, "A left master");
    println!("seed {}: {forced} forced takeovers in an hour", sim.seed());
    assert!(sent_intervals(&sim, a, a_up).len() >= 359_000);
    assert_eq!(sim.router(b, VRID).master_adver_interval(), ms(10));
}

#[test]
fn unicast_peers_exchange_v3_adverts_checksummed_for_each_peer() {
    let mut sim = Sim::from_env(8);
    let mut a_cfg = cfg("a", 200, 1, 10);
    a_cfg.unicast_peers = vec![Ipv4Addr::new(10, 0, 0, 2)];
    let mut b_cfg = cfg("b", 100, 2, 10);
    b_cfg.unicast_peers = vec![Ipv4Addr::new(10, 0, 0, 1)];
    let a = sim.add_router(a_cfg);
    let b = sim.add_router(b_cfg);
    sim.start_all();
    sim.run_until(ms(5_000));
    assert_eq!(history(&sim, a)[1].0, ns(321_875_000));
    assert_eq!(history(&sim, b).len(), 1);
    let unicast = wire::RecvOptionsV3 {
        unicast: true,
        ..wire::RecvOptionsV3::default()
    };
    let from_a: Vec<_> = sim.sent().iter().filter(|s| s.node == a).collect();
    assert!(from_a.len() > 40);
    for s in from_a {
        let got = wire::decode_v3(&s.bytes, &unicast).unwrap();
        assert_eq!(
            (got.dst, got.max_adver_int),
            (Ipv4Addr::new(10, 0, 0, 2), 10)
        );
    }
    sim.shutdown(a);
    sim.run_until(ms(6_000));
    let b_up = ms(5_000) + ns(60_937_500);
    assert_eq!(history(&sim, b)[1], (b_up, Backup, Master, MasterDown));
}
