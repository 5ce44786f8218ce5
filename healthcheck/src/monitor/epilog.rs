//! When a multi-url HTTP_GET/SSL_GET checks next: keepalived 2.2.7's
//! `epilog()` (check/check_http.c), off the slot grid.

use std::time::{Duration, Instant};

use crate::schedule::{later, MIN_INTERVAL};
use crate::target::{CycleState, TargetConfig};

/// When a stepping target ([`TargetConfig::urls`]) checks next, its
/// attempt having ended at `now` (`passed` or not), given its cycle
/// state after that attempt was recorded.
///
/// keepalived 2.2.7 ends every url's attempt in `epilog()` (a failure
/// through `timeout_epilog()`), which calls `thread_add_timer(master,
/// http_connect_thread, checker, delay)`; the scheduler sets the timer to
/// `time_now + delay`, `time_now` read by `set_time_now()` inside that
/// call: the END of the attempt, not when it was due. So each step is
/// counted from the previous one's end (it drifts by the check's
/// duration), with no slot grid and no jitter. The delay, by case:
///
/// - a url passes and is not the last (`REGISTER_CHECKER_NEW`, `url_it`
///   moves on): `delay_loop`, for the next url;
/// - the last url passes with no failed url (NEW, `url_it` NULL): the
///   server is up if it was not, `has_run` is set, the cursor goes back to
///   the first url: `delay_loop`;
/// - the failed url passes (NEW with `failed_url`): the failure is
///   cleared, the cursor goes back to the first url: `delay_loop`;
/// - a url fails with retries left (`timeout_epilog` while up or not run
///   yet, then `REGISTER_CHECKER_RETRY` with `retry_it <= retry`): the
///   same url after `delay_before_retry`;
/// - a url fails with none left (RETRY, `retry_it > retry`): the server
///   goes down, the url becomes `failed_url`:
///   `max(delay_before_retry, delay_loop)`, for that url;
/// - a url fails while the server is known dead (`timeout_epilog` calls
///   `REGISTER_CHECKER_FAILED`, no retry): with a `failed_url` (it failed
///   again), `max(delay_before_retry, delay_loop)`; without (a confirming
///   round failed part-way), `delay_before_retry`, from the url that
///   failed;
/// - a state change adds nothing: `update_svr_checker_state()` touches
///   no timer, so going up waits `delay_loop` (a pass) and going down
///   `max(delay_before_retry, delay_loop)` (a failure with none left);
/// - `fast_recovery`, checked after the state change: while the checker
///   has not run, or is down with no failed url, the next attempt is an
///   event (delay 0) whatever the case. Here only after a pass: the one
///   failure it would hurry (a confirming round failing while down) waits
///   `delay_before_retry` as above, where keepalived re-checks the failing
///   url at once without end ([`TargetConfig::fast_recovery`]).
///
/// A check skipped while its checker is disabled (`http_connect_thread`
/// with `enabled` unset) is [`skipped`]'s.
pub(super) fn next_step(
    now: Instant,
    cfg: &TargetConfig,
    state: &CycleState,
    passed: bool,
) -> Instant {
    let interval = cfg.interval.max(MIN_INTERVAL);
    let delay = if passed {
        if cfg.fast_recovery && state.recovering() {
            Duration::ZERO
        } else {
            interval
        }
    } else if state.has_failed_url() {
        cfg.delay_before_retry.max(interval)
    } else {
        cfg.delay_before_retry
    };
    later(now, delay)
}

/// When a stepping target whose check was skipped at `now` checks next:
/// `http_connect_thread` re-arms a disabled checker `delay_loop` later,
/// its cursor unmoved.
pub(super) fn skipped(now: Instant, cfg: &TargetConfig) -> Instant {
    later(now, cfg.interval.max(MIN_INTERVAL))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use std::time::{Duration, Instant};

    use super::super::tests::{attempt, drain};
    use crate::{CheckOutcome, Event, Monitor, MonitorConfig, TargetConfig, TargetId, UrlSpan};

    /// A monitor with one HTTP-like target of three urls stepping as
    /// keepalived (interval 10 s, delay_before_retry 3 s), committed at
    /// the returned instant: its first step is due then.
    fn three_urls(alpha: bool, fast_recovery: bool) -> (Monitor, TargetId, Instant) {
        let mut m = Monitor::new(MonitorConfig::default());
        let cfg = TargetConfig {
            retry: 1,
            delay_before_retry: Duration::from_secs(3),
            alpha,
            confirm_recovery: true,
            fast_recovery,
            urls: 3,
            ..TargetConfig::with_interval(Duration::from_secs(10))
        };
        let t = m.add_target("t", cfg);
        m.report_first_checks();
        let t0 = Instant::now();
        m.commit(t0);
        drain(&mut m);
        (m, t, t0)
    }

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// keepalived's epilog: one url per step, the next an interval later;
    /// the round completing says the result; the next round starts an
    /// interval after the last url.
    #[test]
    fn three_urls_are_checked_one_per_interval() {
        let (mut m, t, t0) = three_urls(true, false);
        let at = &mut t0.clone();
        let passed = |from, until| Event::UrlsPassed {
            target: t,
            from,
            until,
        };
        let up = CheckOutcome::Up;
        let got = attempt(&mut m, at, Some(t0), up.clone());
        assert_eq!(got, (UrlSpan::Only(0), vec![passed(0, Some(1))]));
        let got = attempt(&mut m, at, Some(t0 + secs(10)), up.clone());
        assert_eq!(got, (UrlSpan::Only(1), vec![passed(1, Some(2))]));
        assert_eq!(m.is_up(t), Some(false));
        let got = attempt(&mut m, at, Some(t0 + secs(20)), up.clone());
        let came_up = vec![passed(2, None), Event::TargetUp { target: t }];
        assert_eq!(got, (UrlSpan::Only(2), came_up));
        // Up: the next round, quietly.
        let got = attempt(&mut m, at, Some(t0 + secs(30)), up.clone());
        assert_eq!(got, (UrlSpan::Only(0), vec![]));
        let got = attempt(&mut m, at, Some(t0 + secs(40)), up);
        assert_eq!(got, (UrlSpan::Only(1), vec![]));
    }

    /// A target starting up says its first complete round (FirstCheck),
    /// not its first url.
    #[test]
    fn a_first_round_is_said_after_its_last_url() {
        let (mut m, t, t0) = three_urls(false, false);
        let at = &mut t0.clone();
        for k in 0..2 {
            let got = attempt(&mut m, at, Some(t0 + secs(10 * k)), CheckOutcome::Up);
            assert_eq!(got, (UrlSpan::Only(k as usize), vec![]));
        }
        let first = Event::FirstCheck {
            target: t,
            reason: None,
        };
        let got = attempt(&mut m, at, Some(t0 + secs(20)), CheckOutcome::Up);
        assert_eq!(got, (UrlSpan::Only(2), vec![first]));
    }

    /// The second url fails with retry 1: its retry comes after
    /// delay_before_retry; failing again takes the target down and marks
    /// the url failed, re-checked alone the longer of the interval and the
    /// retry delay later; passing clears it (named), then each url passes
    /// (named) an interval apart and the last brings the target up.
    #[test]
    fn a_failing_second_url_is_retried_then_recovers_url_by_url() {
        let (mut m, t, t0) = three_urls(false, false);
        let at = &mut t0.clone();
        let up = CheckOutcome::Up;
        for k in 0..4 {
            attempt(&mut m, at, Some(t0 + secs(10 * k)), up.clone());
        }
        let reason = crate::DownReason::HttpStatus(500);
        let fails = |url| CheckOutcome::UrlDown {
            url,
            reason: reason.clone(),
        };
        let got = attempt(&mut m, at, Some(t0 + secs(40)), fails(1));
        assert_eq!(got, (UrlSpan::Only(1), vec![]));
        let got = attempt(&mut m, at, Some(t0 + secs(43)), fails(1));
        let down = Event::TargetDown {
            target: t,
            reason: reason.clone(),
        };
        assert_eq!(got, (UrlSpan::Only(1), vec![down]));
        // The failed url: max(10 s, 3 s) later, again when it fails.
        let got = attempt(&mut m, at, Some(t0 + secs(53)), fails(1));
        assert_eq!(got, (UrlSpan::Only(1), vec![]));
        let got = attempt(&mut m, at, Some(t0 + secs(63)), up.clone());
        let cleared = Event::FailureCleared { target: t, url: 1 };
        assert_eq!(got, (UrlSpan::Only(1), vec![cleared]));
        assert_eq!(m.is_up(t), Some(false));
        // The confirming round, url by url from the first.
        let passed = |from, until| Event::UrlsPassed {
            target: t,
            from,
            until,
        };
        let got = attempt(&mut m, at, Some(t0 + secs(73)), up.clone());
        assert_eq!(got, (UrlSpan::Only(0), vec![passed(0, Some(1))]));
        // A confirming url that fails: no new failed url, on from it a
        // retry delay later.
        let got = attempt(&mut m, at, Some(t0 + secs(83)), fails(1));
        assert_eq!(got, (UrlSpan::Only(1), vec![]));
        let got = attempt(&mut m, at, Some(t0 + secs(86)), up.clone());
        assert_eq!(got, (UrlSpan::Only(1), vec![passed(1, Some(2))]));
        let got = attempt(&mut m, at, Some(t0 + secs(96)), up.clone());
        let came_up = vec![passed(2, None), Event::TargetUp { target: t }];
        assert_eq!(got, (UrlSpan::Only(2), came_up));
        let got = attempt(&mut m, at, Some(t0 + secs(106)), up);
        assert_eq!(got, (UrlSpan::Only(0), vec![]));
    }

    /// A failed url with a retry delay longer than the interval waits the
    /// delay, when it takes the target down and when it fails again.
    #[test]
    fn a_stepping_failed_url_waits_the_longer_retry_delay() {
        let mut m = Monitor::new(MonitorConfig::default());
        let cfg = TargetConfig {
            retry: 0,
            delay_before_retry: secs(25),
            confirm_recovery: true,
            urls: 2,
            ..TargetConfig::with_interval(secs(10))
        };
        m.add_target("t", cfg);
        let t0 = Instant::now();
        m.commit(t0);
        let at = &mut t0.clone();
        let fails = || CheckOutcome::UrlDown {
            url: 0,
            reason: crate::DownReason::Refused,
        };
        assert_eq!(attempt(&mut m, at, Some(t0), fails()).0, UrlSpan::Only(0));
        let got = attempt(&mut m, at, Some(t0 + secs(25)), fails());
        assert_eq!(got.0, UrlSpan::Only(0));
        assert_eq!(m.poll_timeout(), Some(t0 + secs(50)));
    }

    /// fast_recovery: the first round's urls follow at once (the checker
    /// has not run), then an interval apart; after a failure is cleared
    /// the confirming urls follow at once too.
    #[test]
    fn fast_recovery_steps_at_once_while_recovering() {
        let (mut m, t, t0) = three_urls(false, true);
        let at = &mut t0.clone();
        let up = CheckOutcome::Up;
        for k in 0..3 {
            let got = attempt(&mut m, at, Some(t0), up.clone());
            assert_eq!(got.0, UrlSpan::Only(k));
        }
        let got = attempt(&mut m, at, Some(t0 + secs(10)), up.clone());
        assert_eq!(got, (UrlSpan::Only(0), vec![]));
        let fails = || CheckOutcome::UrlDown {
            url: 1,
            reason: crate::DownReason::Refused,
        };
        attempt(&mut m, at, Some(t0 + secs(20)), fails());
        attempt(&mut m, at, Some(t0 + secs(23)), fails());
        assert_eq!(m.is_up(t), Some(false));
        // Down with a failed url: not fast, max(10 s, 3 s) later.
        let got = attempt(&mut m, at, Some(t0 + secs(33)), up.clone());
        assert_eq!(got.0, UrlSpan::Only(1));
        for k in 0..3 {
            let got = attempt(&mut m, at, Some(t0 + secs(33)), up.clone());
            assert_eq!(got.0, UrlSpan::Only(k));
        }
        assert_eq!(m.is_up(t), Some(true));
        assert_eq!(m.poll_timeout(), Some(t0 + secs(43)));
    }

    /// One url, or an unknown number: one attempt covers them all, as
    /// before stepping (the same due times).
    #[test]
    fn a_single_url_is_not_stepped() {
        for urls in [0, 1] {
            let mut m = Monitor::new(MonitorConfig::default());
            let cfg = TargetConfig {
                confirm_recovery: true,
                fast_recovery: true,
                urls,
                ..TargetConfig::with_interval(secs(10))
            };
            m.add_target("t", cfg);
            let t0 = Instant::now();
            m.commit(t0);
            let at = &mut t0.clone();
            let got = attempt(&mut m, at, Some(t0), CheckOutcome::Up);
            assert_eq!(got.0, UrlSpan::From(0), "{urls}");
            assert_eq!(m.poll_timeout(), Some(t0 + secs(10)), "{urls}");
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// One check of the monitor's only target, started when due and
    /// ending `took` later with `o`: the urls it checked and when the next
    /// check is due.
    fn ends(m: &mut Monitor, took: Duration, o: CheckOutcome) -> (UrlSpan, Instant) {
        let due = m.poll_timeout().unwrap();
        let d = m.poll_check(due).unwrap();
        m.handle_outcome(due + took, d.target, o).unwrap();
        drain(m);
        (d.urls, m.poll_timeout().unwrap())
    }

    /// A committed target of three urls (delay_loop 4 s,
    /// delay_before_retry 2 s, retry 1: the VM side-by-side's), due at
    /// the returned instant.
    fn vm_target(fast_recovery: bool) -> (Monitor, TargetId, Instant) {
        let mut m = Monitor::new(MonitorConfig::default());
        let cfg = TargetConfig {
            retry: 1,
            delay_before_retry: secs(2),
            confirm_recovery: true,
            fast_recovery,
            urls: 3,
            ..TargetConfig::with_interval(secs(4))
        };
        let t = m.add_target("t", cfg);
        let t0 = Instant::now();
        m.commit(t0);
        drain(&mut m);
        (m, t, t0)
    }

    fn url_fails(url: usize) -> CheckOutcome {
        CheckOutcome::UrlDown {
            url,
            reason: crate::DownReason::HttpStatus(500),
        }
    }

    /// Every case of [`super::next_step`], each check taking 100 ms: the
    /// next is due its delay after the END of the check, as keepalived's
    /// `thread_add_timer` from `time_now`.
    #[test]
    fn each_step_is_due_its_epilog_delay_after_the_last_ended() {
        let (mut m, t, t0) = vm_target(false);
        let up = CheckOutcome::Up;
        // (outcome, url checked, next due in ms from t0, up after)
        let script = [
            (up.clone(), 0, 4_100, true), // a pass: delay_loop
            (up.clone(), 1, 8_200, true),
            (up.clone(), 2, 12_300, true), // the last url: delay_loop
            (up.clone(), 0, 16_400, true),
            (url_fails(1), 1, 18_500, true),  // a retry left: 2 s
            (url_fails(1), 1, 22_600, false), // none left: max(2 s, 4 s)
            (url_fails(1), 1, 26_700, false), // failed url again: max
            (up.clone(), 1, 30_800, false),   // failure cleared: delay_loop
            (up.clone(), 0, 34_900, false),
            (url_fails(1), 1, 37_000, false), // confirming round: 2 s
            (up.clone(), 1, 41_100, false),
            (up.clone(), 2, 45_200, true), // up: delay_loop
            (up, 0, 49_300, true),
        ];
        for (k, (o, url, next, is_up)) in script.into_iter().enumerate() {
            let got = ends(&mut m, ms(100), o);
            assert_eq!(got, (UrlSpan::Only(url), t0 + ms(next)), "step {k}");
            assert_eq!(m.is_up(t), Some(is_up), "step {k}");
        }
    }

    /// fast_recovery: the first round and the confirming round go on at
    /// once; a url failing in the confirming round waits
    /// delay_before_retry (keepalived: at once, without end).
    #[test]
    fn fast_recovery_steps_at_once_but_a_failing_url_waits_the_retry_delay() {
        let (mut m, t, t0) = vm_target(true);
        let up = CheckOutcome::Up;
        let script = [
            (up.clone(), 0, 100, true), // not run yet: at once
            (up.clone(), 1, 200, true),
            (up.clone(), 2, 4_300, true), // run: delay_loop
            (url_fails(0), 0, 6_400, true),
            (url_fails(0), 0, 10_500, false), // failed url: not fast
            (up.clone(), 0, 10_600, false),   // cleared: at once
            (up.clone(), 0, 10_700, false),   // confirming: at once
            (url_fails(1), 1, 12_800, false),
            (up.clone(), 1, 12_900, false),
            (up, 2, 17_000, true), // up: delay_loop
        ];
        for (k, (o, url, next, is_up)) in script.into_iter().enumerate() {
            let got = ends(&mut m, ms(100), o);
            assert_eq!(got, (UrlSpan::Only(url), t0 + ms(next)), "step {k}");
            assert_eq!(m.is_up(t), Some(is_up), "step {k}");
        }
    }

    /// A skipped step (a suspended checker) comes back delay_loop after
    /// it ended, on the same url, health unchanged.
    #[test]
    fn a_skipped_step_comes_back_an_interval_after_it_ended() {
        let (mut m, t, t0) = vm_target(false);
        assert_eq!(ends(&mut m, ms(100), CheckOutcome::Up).1, t0 + ms(4_100));
        let got = ends(&mut m, ms(100), CheckOutcome::Skipped);
        assert_eq!(got, (UrlSpan::Only(1), t0 + ms(8_200)));
        let got = ends(&mut m, ms(100), CheckOutcome::Up);
        assert_eq!(got, (UrlSpan::Only(1), t0 + ms(12_300)));
        assert_eq!(m.is_up(t), Some(true));
    }

    /// A target that does not step keeps its slot grid: a slow check, a
    /// retry or a skipped check never shifts its regular checks.
    #[test]
    fn other_targets_stay_on_their_grid() {
        let mut m = Monitor::new(MonitorConfig::default());
        let cfg = TargetConfig {
            retry: 1,
            delay_before_retry: secs(2),
            confirm_recovery: true,
            urls: 1,
            ..TargetConfig::with_interval(secs(4))
        };
        m.add_target("t", cfg);
        let t0 = Instant::now();
        m.commit(t0);
        let got = ends(&mut m, ms(700), CheckOutcome::Up);
        assert_eq!(got, (UrlSpan::From(0), t0 + secs(4)));
        assert_eq!(ends(&mut m, ms(700), url_fails(0)).1, t0 + ms(6_700));
        assert_eq!(ends(&mut m, ms(100), CheckOutcome::Up).1, t0 + secs(8));
        assert_eq!(
            ends(&mut m, ms(100), CheckOutcome::Skipped).1,
            t0 + secs(12)
        );
    }
}
