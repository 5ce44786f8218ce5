//! Virtual-clock tests of the sans-IO core: exact timelines, spread,
//! quorum, sorry server, shared probes.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::time::{Duration, Instant};

use healthcheck::{
    CheckOutcome, DownReason, Event, MemberConfig, Monitor, MonitorConfig, PoolConfig, PoolId,
    TargetConfig, TargetId,
};

const S: Duration = Duration::from_secs(1);

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn no_jitter() -> MonitorConfig {
    let mut c = MonitorConfig::default();
    c.jitter = 0.0;
    c
}

/// Check starts and events, each with its offset from the start.
type Trace = (Vec<(TargetId, Duration)>, Vec<(Duration, Event)>);

/// Runs the monitor on a virtual clock until `end`: every due check
/// completes instantly with `oracle(target, offset)`. Returns the check
/// start offsets and the events with their offsets.
fn run(
    m: &mut Monitor,
    start: Instant,
    end: Duration,
    mut oracle: impl FnMut(TargetId, Duration) -> CheckOutcome,
) -> Trace {
    let (mut checks, mut events) = (Vec::new(), Vec::new());
    while let Some(e) = m.poll_event() {
        events.push((Duration::ZERO, e));
    }
    while let Some(at) = m.poll_timeout() {
        if at > start + end {
            break;
        }
        while let Some(due) = m.poll_check(at) {
            let off = at - start;
            checks.push((due.target, off));
            let outcome = oracle(due.target, off);
            m.handle_outcome(at, due.target, outcome).unwrap();
            while let Some(e) = m.poll_event() {
                events.push((off, e));
            }
        }
    }
    (checks, events)
}

fn single(cfg: TargetConfig) -> (Monitor, TargetId, PoolId, Instant) {
    let mut m = Monitor::new(no_jitter());
    let t = m.add_target("t", cfg);
    let p = m.add_pool(PoolConfig::default());
    m.add_member(p, t, MemberConfig::default()).unwrap();
    let start = Instant::now();
    m.commit(start);
    (m, t, p, start)
}

#[test]
fn retry_timeline_is_exact() {
    // interval 10 s, retry 2, delay_before_retry 3 s; the server dies at
    // 15 s and comes back at 45 s.
    let mut cfg = TargetConfig::with_interval(10 * S);
    cfg.retry = 2;
    cfg.delay_before_retry = 3 * S;
    let (mut m, t, p, start) = single(cfg);
    let (checks, events) = run(&mut m, start, 60 * S, |_, at| {
        if (15 * S..45 * S).contains(&at) {
            CheckOutcome::Down(DownReason::Timeout)
        } else {
            CheckOutcome::Up
        }
    });
    let times: Vec<u64> = checks.iter().map(|(_, d)| d.as_secs()).collect();
    // 20 fails, retries at 23 and 26 fail too: down at 26. While down no
    // retries; back on the grid at 30, 40, then up at 50.
    assert_eq!(times, [0, 10, 20, 23, 26, 30, 40, 50, 60]);
    let ev: Vec<(u64, Event)> = events.into_iter().map(|(d, e)| (d.as_secs(), e)).collect();
    assert_eq!(
        ev,
        [
            (
                0,
                Event::MemberAdd {
                    pool: p,
                    target: t,
                    weight: 1
                }
            ),
            (
                0,
                Event::QuorumGained {
                    pool: p,
                    weight_sum: 1
                }
            ),
            (
                26,
                Event::TargetDown {
                    target: t,
                    reason: DownReason::Timeout
                }
            ),
            (26, Event::MemberRemove { pool: p, target: t }),
            (
                26,
                Event::QuorumLost {
                    pool: p,
                    weight_sum: 0
                }
            ),
            (50, Event::TargetUp { target: t }),
            (
                50,
                Event::MemberAdd {
                    pool: p,
                    target: t,
                    weight: 1
                }
            ),
            (
                50,
                Event::QuorumGained {
                    pool: p,
                    weight_sum: 1
                }
            ),
        ]
    );
}

#[test]
fn a_retry_that_succeeds_counts_nothing() {
    let mut cfg = TargetConfig::with_interval(10 * S);
    cfg.retry = 1;
    cfg.delay_before_retry = 2 * S;
    let (mut m, _, _, start) = single(cfg);
    let (checks, events) = run(&mut m, start, 30 * S, |_, at| {
        if at == 10 * S {
            CheckOutcome::Down(DownReason::Refused)
        } else {
            CheckOutcome::Up
        }
    });
    let times: Vec<u64> = checks.iter().map(|(_, d)| d.as_secs()).collect();
    assert_eq!(times, [0, 10, 12, 20, 30]);
    assert_eq!(
        events.len(),
        2,
        "only the initial add and quorum: {events:?}"
    );
}

#[test]
fn rise_and_fall_timeline_is_exact() {
    // alpha (start down), rise 3, fall 2, retry 0, interval 1 s.
    let mut cfg = TargetConfig::with_interval(S);
    cfg.retry = 0;
    cfg.rise = 3;
    cfg.fall = 2;
    cfg.alpha = true;
    let (mut m, t, _, start) = single(cfg);
    // Pattern by second: + + - + + + - + - - + + +
    let pattern = "++-+++-+--+++";
    let (_, events) = run(&mut m, start, 12 * S, |_, at| {
        if pattern.as_bytes()[at.as_secs() as usize] == b'+' {
            CheckOutcome::Up
        } else {
            CheckOutcome::Down(DownReason::Refused)
        }
    });
    let target_events: Vec<(u64, bool)> = events
        .iter()
        .filter_map(|(d, e)| match e {
            Event::TargetUp { target } if *target == t => Some((d.as_secs(), true)),
            Event::TargetDown { target, .. } if *target == t => Some((d.as_secs(), false)),
            _ => None,
        })
        .collect();
    // Up after the third success in a row (5 s); one failure (6 s) is
    // absorbed and refilled (7 s); two failures (8, 9 s) take it down;
    // three successes (10..12 s) bring it up.
    assert_eq!(target_events, [(5, true), (9, false), (12, true)]);
}

#[test]
fn ten_thousand_targets_never_bunch() {
    let mut m = Monitor::new(MonitorConfig::default());
    let ids: Vec<TargetId> = (0..10_000)
        .map(|i| {
            m.add_target(
                format!("tcp 10.{}.{}.1:80", i / 256, i % 256),
                TargetConfig::with_interval(S),
            )
        })
        .collect();
    let start = Instant::now();
    m.commit(start);
    let (checks, _) = run(&mut m, start, 10 * S, |_, _| CheckOutcome::Up);
    // 10 rounds of 10,000 checks (the last instant may start the 11th).
    assert!(checks.len() >= 100_000, "{}", checks.len());
    let mut starts: Vec<Duration> = checks.iter().map(|c| c.1).collect();
    starts.sort_unstable();
    // Sliding 10 ms window over all starts: at most 1% of 10,000.
    let mut lo = 0;
    let mut worst = 0;
    for hi in 0..starts.len() {
        while starts[hi] - starts[lo] >= ms(10) {
            lo += 1;
        }
        worst = worst.max(hi - lo + 1);
    }
    assert!(worst <= 100, "{worst} checks started within 10 ms");
    // Jitter: a target's period varies, bounded by 10% of the interval.
    let per_target: Vec<Duration> = checks
        .iter()
        .filter(|c| c.0 == ids[4321])
        .map(|c| c.1)
        .collect();
    let gaps: Vec<Duration> = per_target.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(
        gaps.iter().any(|g| *g != S),
        "jitter moves the target: {gaps:?}"
    );
    assert!(
        gaps.iter().all(|g| *g >= ms(900) && *g <= ms(1100)),
        "{gaps:?}"
    );
}

#[test]
fn quorum_with_hysteresis_and_sorry_server() {
    let mut m = Monitor::new(no_jitter());
    let mut pc = PoolConfig::default();
    pc.quorum = 5;
    pc.hysteresis = 2;
    pc.sorry_server = true;
    let p = m.add_pool(pc);
    let mut cfg = TargetConfig::with_interval(S);
    cfg.retry = 0;
    let ts: Vec<TargetId> = (0..3)
        .map(|i| m.add_target(format!("t{i}"), cfg.clone()))
        .collect();
    for &t in &ts {
        m.add_member(p, t, MemberConfig::with_weight(3)).unwrap();
    }
    let start = Instant::now();
    m.commit(start);
    // Each target's state by second: targets go down one by one at 2, 3,
    // 4 s and come back one by one at 6, 7, 8 s.
    let down_from = [2u64, 3, 4];
    let up_from = [6u64, 7, 8];
    let (_, events) = run(&mut m, start, 9 * S, |t, at| {
        let i = ts.iter().position(|x| *x == t).unwrap();
        let s = at.as_secs();
        if s >= down_from[i] && s < up_from[i] {
            CheckOutcome::Down(DownReason::Refused)
        } else {
            CheckOutcome::Up
        }
    });
    let q: Vec<(u64, Event)> = events
        .into_iter()
        .filter(|(_, e)| {
            matches!(
                e,
                Event::QuorumGained { .. }
                    | Event::QuorumLost { .. }
                    | Event::SorryServerIn { .. }
                    | Event::SorryServerOut { .. }
            )
        })
        .map(|(d, e)| (d.as_secs(), e))
        .collect();
    // 9 -> 6 -> 3: 3 is not below quorum - hysteresis (3), kept; 0 loses.
    // 3 -> 6: not yet quorum + hysteresis (7); 9 gains.
    assert_eq!(
        q,
        [
            (
                0,
                Event::QuorumGained {
                    pool: p,
                    weight_sum: 9
                }
            ),
            (
                4,
                Event::QuorumLost {
                    pool: p,
                    weight_sum: 0
                }
            ),
            (4, Event::SorryServerIn { pool: p }),
            (
                8,
                Event::QuorumGained {
                    pool: p,
                    weight_sum: 9
                }
            ),
            (8, Event::SorryServerOut { pool: p }),
        ]
    );
}

#[test]
fn hysteresis_loses_below_quorum_minus_margin() {
    let mut m = Monitor::new(no_jitter());
    let mut pc = PoolConfig::default();
    pc.quorum = 6;
    pc.hysteresis = 1;
    let p = m.add_pool(pc);
    let mut cfg = TargetConfig::with_interval(S);
    cfg.retry = 0;
    let a = m.add_target("a", cfg.clone());
    let b = m.add_target("b", cfg);
    m.add_member(p, a, MemberConfig::with_weight(2)).unwrap();
    m.add_member(p, b, MemberConfig::with_weight(5)).unwrap();
    let start = Instant::now();
    m.commit(start);
    // b dies at 1 s: sum 2 < 6 - 1 = 5, lost. a alone can never regain.
    let (_, events) = run(&mut m, start, 3 * S, |t, at| {
        if t == b && at >= S {
            CheckOutcome::Down(DownReason::Refused)
        } else {
            CheckOutcome::Up
        }
    });
    let lost: Vec<&Event> = events
        .iter()
        .map(|(_, e)| e)
        .filter(|e| matches!(e, Event::QuorumLost { .. }))
        .collect();
    assert_eq!(
        lost,
        [&Event::QuorumLost {
            pool: p,
            weight_sum: 2
        }]
    );
    assert_eq!(m.has_quorum(p), Some(false));
    assert_eq!(m.weight_sum(p), Some(2));
}

#[test]
fn inhibit_on_failure_and_dynamic_weight() {
    let mut m = Monitor::new(no_jitter());
    let p = m.add_pool(PoolConfig::default());
    let mut cfg = TargetConfig::with_interval(S);
    cfg.retry = 0;
    let t = m.add_target("misc", cfg);
    let mut mc = MemberConfig::with_weight(4);
    mc.inhibit_on_failure = true;
    m.add_member(p, t, mc).unwrap();
    let start = Instant::now();
    m.commit(start);
    // Script exit codes by second: 0, 9 (weight 7), 1 (down), 4 (weight 2).
    let (_, events) = run(&mut m, start, 3 * S, |_, at| match at.as_secs() {
        0 => CheckOutcome::Up,
        1 => CheckOutcome::UpWithWeight(9 - 2),
        2 => CheckOutcome::Down(DownReason::ScriptExit(1)),
        _ => CheckOutcome::UpWithWeight(4 - 2),
    });
    let member: Vec<(u64, Event)> = events
        .into_iter()
        .filter(|(_, e)| {
            matches!(
                e,
                Event::MemberAdd { .. } | Event::MemberWeight { .. } | Event::MemberRemove { .. }
            )
        })
        .map(|(d, e)| (d.as_secs(), e))
        .collect();
    assert_eq!(
        member,
        [
            (
                0,
                Event::MemberAdd {
                    pool: p,
                    target: t,
                    weight: 4
                }
            ),
            (
                1,
                Event::MemberWeight {
                    pool: p,
                    target: t,
                    weight: 7
                }
            ),
            (
                2,
                Event::MemberWeight {
                    pool: p,
                    target: t,
                    weight: 0
                }
            ),
            (
                3,
                Event::MemberWeight {
                    pool: p,
                    target: t,
                    weight: 2
                }
            ),
        ]
    );
}

#[test]
fn identical_checks_share_one_probe() {
    let mut m = Monitor::new(no_jitter());
    let p1 = m.add_pool(PoolConfig::default());
    let p2 = m.add_pool(PoolConfig::default());
    let mut cfg = TargetConfig::with_interval(S);
    cfg.retry = 0;
    let a = m.add_target("tcp 10.0.0.1:80", cfg.clone());
    let b = m.add_target("tcp 10.0.0.1:80", cfg);
    assert_eq!(a, b);
    assert_eq!(m.target_count(), 1);
    m.add_member(p1, a, MemberConfig::default()).unwrap();
    m.add_member(p2, b, MemberConfig::default()).unwrap();
    let start = Instant::now();
    m.commit(start);
    let (checks, events) = run(&mut m, start, 2 * S, |_, at| {
        if at >= S {
            CheckOutcome::Down(DownReason::Refused)
        } else {
            CheckOutcome::Up
        }
    });
    assert_eq!(checks.len(), 3, "one probe per interval: {checks:?}");
    let removed: Vec<PoolId> = events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::MemberRemove { pool, .. } => Some(*pool),
            _ => None,
        })
        .collect();
    assert_eq!(removed, [p1, p2]);
    // Both subscribers must leave before the probe stops.
    assert_eq!(m.remove_target(a), Ok(()));
    assert_eq!(
        m.remove_target(a),
        Err(healthcheck::MonitorError::StillMember)
    );
}

#[test]
fn warmup_delays_the_first_check_only() {
    let mut cfg = TargetConfig::with_interval(10 * S);
    cfg.warmup = 5 * S;
    let (mut m, _, _, start) = single(cfg);
    let (checks, _) = run(&mut m, start, 40 * S, |_, _| CheckOutcome::Up);
    let times: Vec<Duration> = checks.iter().map(|c| c.1).collect();
    // With one target and no jitter the grid is at whole 10 s; the warmup
    // pushes the first check to the first grid point after it.
    assert_eq!(times, [10 * S, 20 * S, 30 * S, 40 * S]);
}

#[test]
fn unknown_and_duplicate_calls_are_refused() {
    let mut m = Monitor::new(no_jitter());
    let p = m.add_pool(PoolConfig::default());
    let t = m.add_target("t", TargetConfig::default());
    m.add_member(p, t, MemberConfig::default()).unwrap();
    assert_eq!(
        m.add_member(p, t, MemberConfig::default()),
        Err(healthcheck::MonitorError::DuplicateMember)
    );
    assert_eq!(
        m.handle_outcome(Instant::now(), t, CheckOutcome::Up),
        Err(healthcheck::MonitorError::NotInFlight)
    );
}

#[test]
fn extreme_durations_neither_hang_nor_panic() {
    let mut m = Monitor::new(MonitorConfig::default());
    let mut zero = TargetConfig::with_interval(Duration::ZERO);
    zero.delay_before_retry = Duration::MAX;
    zero.warmup = Duration::MAX;
    let a = m.add_target("zero", zero);
    let b = m.add_target("huge", TargetConfig::with_interval(Duration::MAX));
    let start = Instant::now();
    m.commit(start);
    // `a` waits out its (capped) warmup; `b`, alone in its group, starts at
    // once, fails without retry (one failure is enough initially), and its
    // next round is a (capped) year away.
    let (checks, _) = run(&mut m, start, 2 * S, |_, _| {
        CheckOutcome::Down(DownReason::Refused)
    });
    assert_eq!(checks, [(b, Duration::ZERO)]);
    let next = m.poll_timeout().unwrap();
    assert!(
        next > start + 300 * S && next <= start + 400 * 24 * 3600 * S,
        "{a:?}"
    );
}
