//! keepalived's GARP/NA spacing per interface, on a virtual clock:
//! `GarpPacer` fed the bursts keepalived's routers ask for, time jumped to
//! each wake-up, every frame's instant recorded.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::time::{Duration, Instant};

use vrrp::pacing::{Announce, GarpPacer, Intervals, Kind, PacingConfig};

const MS: fn(u64) -> Duration = Duration::from_millis;

fn garp(router: u32, addr: u32, ifindex: u32) -> Announce {
    Announce {
        router,
        addr,
        ifindex,
        kind: Kind::Garp,
    }
}

fn spaced(garp: u64, gna: u64) -> PacingConfig {
    PacingConfig {
        default: Intervals {
            garp: (garp > 0).then(|| MS(garp)),
            gna: (gna > 0).then(|| MS(gna)),
        },
        groups: Vec::new(),
    }
}

/// Asks for every announcement of `burst` at `t0` (as a router's
/// `repeat` rounds do), then runs the wake-ups until nothing is queued.
/// Returns (ms after `t0`, router, address) of each frame.
fn run(p: &mut GarpPacer, t0: Instant, burst: &[Announce]) -> Vec<(u64, u32, u32)> {
    let mut sent = Vec::new();
    let ms = |t: Instant| t.duration_since(t0).as_millis() as u64;
    for a in burst {
        if p.announce(t0, *a) {
            p.note_sent(t0, a);
            sent.push((0, a.router, a.addr));
        }
    }
    let mut wakes = 0;
    while let Some(t) = p.poll_timeout() {
        wakes += 1;
        assert!(wakes < 1000, "the pacer keeps waking");
        p.handle_timeout(t);
        while let Some(a) = p.poll_due() {
            p.note_sent(t, &a);
            sent.push((ms(t), a.router, a.addr));
        }
    }
    sent
}

/// Three routers on one interface, two addresses each, two rounds: the
/// first address at once, its queued repeat and every other address once,
/// router by router, one per interval (keepalived's order).
#[test]
fn one_interface_sends_one_garp_per_interval_in_router_order() {
    let mut p = GarpPacer::new(&spaced(200, 0));
    let t0 = Instant::now();
    let burst: Vec<Announce> = (0..3)
        .flat_map(|r| (0..2).flat_map(move |_| (0..2).map(move |a| garp(r, a, 7))))
        .collect();
    let sent = run(&mut p, t0, &burst);
    let want = vec![
        (0, 0, 0),
        (200, 0, 0),
        (400, 0, 1),
        (600, 1, 0),
        (800, 1, 1),
        (1000, 2, 0),
        (1200, 2, 1),
    ];
    assert_eq!(sent, want);
    assert_eq!(p.pending(), 0);
}

/// Interfaces are spaced apart: each wake-up sends one GARP per interface.
#[test]
fn interfaces_are_spaced_independently() {
    let mut p = GarpPacer::new(&spaced(100, 0));
    let t0 = Instant::now();
    let burst = [garp(0, 0, 1), garp(0, 1, 1), garp(1, 0, 2), garp(1, 1, 2)];
    let sent = run(&mut p, t0, &burst);
    assert_eq!(sent, vec![(0, 0, 0), (0, 1, 0), (100, 0, 1), (100, 1, 1)]);
}

/// A `garp_group` shares one spacing between its interfaces; NAs are
/// spaced by their own interval, apart from GARPs.
#[test]
fn a_group_shares_its_spacing_and_nas_have_their_own() {
    let cfg = PacingConfig {
        default: Intervals::default(),
        groups: vec![(
            Intervals {
                garp: Some(MS(300)),
                gna: Some(MS(50)),
            },
            vec![1, 2],
        )],
    };
    let mut p = GarpPacer::new(&cfg);
    let t0 = Instant::now();
    let na = |router, addr| Announce {
        kind: Kind::Gna,
        ..garp(router, addr, 2)
    };
    let burst = [garp(0, 0, 1), garp(1, 0, 2), na(2, 0), na(2, 1)];
    let sent = run(&mut p, t0, &burst);
    assert_eq!(sent, vec![(0, 0, 0), (0, 2, 0), (50, 2, 1), (300, 1, 0)]);
}

/// The wake-up is armed one interval after the first queued announcement,
/// as keepalived arms it, even if the interface frees up earlier.
#[test]
fn the_wake_up_comes_one_interval_after_queueing() {
    let mut p = GarpPacer::new(&spaced(200, 0));
    let t0 = Instant::now();
    assert!(p.announce(t0, garp(0, 0, 1)));
    p.note_sent(t0, &garp(0, 0, 1));
    let t1 = t0 + MS(150);
    assert!(!p.announce(t1, garp(1, 0, 1)));
    assert_eq!(p.poll_timeout(), Some(t1 + MS(200)));
    // Early: nothing happens.
    p.handle_timeout(t1 + MS(100));
    assert_eq!(p.poll_due(), None);
    p.handle_timeout(t1 + MS(200));
    assert_eq!(p.poll_due(), Some(garp(1, 0, 1)));
    assert_eq!(p.poll_timeout(), None);
}

/// A frame that left late pushes the next one: spacing holds frame to
/// frame.
#[test]
fn the_spacing_counts_from_when_a_frame_left() {
    let mut p = GarpPacer::new(&spaced(200, 0));
    let t0 = Instant::now();
    assert!(p.announce(t0, garp(0, 0, 1)));
    p.note_sent(t0 + MS(30), &garp(0, 0, 1));
    assert!(!p.announce(t0 + MS(210), garp(0, 1, 1)));
    assert!(p.announce(t0 + MS(230), garp(1, 1, 1)));
}

/// A router that leaves master drops its queued GARPs; the others stay.
#[test]
fn a_router_leaving_master_forgets_its_queue() {
    let mut p = GarpPacer::new(&spaced(200, 0));
    let t0 = Instant::now();
    let burst = [garp(0, 0, 1), garp(0, 1, 1), garp(1, 0, 1), garp(1, 1, 1)];
    for a in &burst {
        p.announce(t0, *a);
    }
    p.forget_router(0);
    assert_eq!(p.pending(), 2);
    let sent = run(&mut p, t0, &[]);
    assert_eq!(sent, vec![(200, 1, 0), (400, 1, 1)]);
}

/// Without intervals nothing is queued: every repeat goes at once.
#[test]
fn no_interval_no_queue() {
    let mut p = GarpPacer::new(&PacingConfig::default());
    let t0 = Instant::now();
    let burst = [garp(0, 0, 1), garp(0, 0, 1), garp(0, 1, 1)];
    let sent = run(&mut p, t0, &burst);
    assert_eq!(sent, vec![(0, 0, 0), (0, 0, 0), (0, 0, 1)]);
    assert!(p.is_inert());
}

/// `garp_extra_if`: a router's periodic announcements come every period
/// from its start, in phase even after a late wake-up, and stop with
/// `forget_router`.
#[test]
fn periodic_announcements_keep_their_phase_and_stop_with_the_router() {
    let mut p = GarpPacer::new(&PacingConfig::default());
    let t0 = Instant::now();
    p.start_periodic(3, t0, MS(2000));
    p.start_periodic(4, t0, Duration::ZERO);
    assert_eq!(p.poll_timeout(), Some(t0 + MS(2000)));
    p.handle_timeout(t0 + MS(1999));
    assert_eq!(p.poll_periodic(), None);
    // Late by 30 ms: due now, the next still at 4 s.
    p.handle_timeout(t0 + MS(2030));
    assert_eq!(p.poll_periodic(), Some(3));
    assert_eq!(p.poll_periodic(), None);
    assert_eq!(p.poll_timeout(), Some(t0 + MS(4000)));
    p.forget_router(3);
    assert_eq!(p.poll_timeout(), None);
}

/// A reload with other spacing frees every interface at once and keeps
/// what was queued: the next wake-up sends it.
#[test]
fn a_new_spacing_keeps_the_queue_and_frees_the_interfaces() {
    let mut p = GarpPacer::new(&spaced(500, 0));
    let t0 = Instant::now();
    assert!(p.announce(t0, garp(0, 0, 1)));
    assert!(!p.announce(t0, garp(0, 1, 1)));
    p.start_periodic(0, t0, MS(3000));
    p.set_config(&spaced(100, 0));
    assert_eq!(p.pending(), 1);
    assert_eq!(p.poll_timeout(), Some(t0 + MS(500)));
    assert!(p.announce(t0 + MS(10), garp(1, 0, 1)));
    p.handle_timeout(t0 + MS(500));
    assert_eq!(p.poll_due(), Some(garp(0, 1, 1)));
    assert_eq!(p.poll_timeout(), Some(t0 + MS(3000)));
}
