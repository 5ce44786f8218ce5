//! When a multi-url HTTP_GET/SSL_GET checks next: keepalived 2.2.7's
//! `epilog()` (check/check_http.c).

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
    /// the url failed, re-checked alone on the grid no sooner than the
    /// retry delay; passing clears it (named), then each url passes
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
        // The failed url: the grid slot after, no sooner than 3 s.
        let got = attempt(&mut m, at, Some(t0 + secs(50)), fails(1));
        assert_eq!(got, (UrlSpan::Only(1), vec![]));
        let got = attempt(&mut m, at, Some(t0 + secs(60)), up.clone());
        let cleared = Event::FailureCleared { target: t, url: 1 };
        assert_eq!(got, (UrlSpan::Only(1), vec![cleared]));
        assert_eq!(m.is_up(t), Some(false));
        // The confirming round, url by url from the first.
        let passed = |from, until| Event::UrlsPassed {
            target: t,
            from,
            until,
        };
        let got = attempt(&mut m, at, Some(t0 + secs(70)), up.clone());
        assert_eq!(got, (UrlSpan::Only(0), vec![passed(0, Some(1))]));
        // A confirming url that fails: no new failed url, on from it a
        // retry delay later.
        let got = attempt(&mut m, at, Some(t0 + secs(80)), fails(1));
        assert_eq!(got, (UrlSpan::Only(1), vec![]));
        let got = attempt(&mut m, at, Some(t0 + secs(83)), up.clone());
        assert_eq!(got, (UrlSpan::Only(1), vec![passed(1, Some(2))]));
        let got = attempt(&mut m, at, Some(t0 + secs(90)), up.clone());
        let came_up = vec![passed(2, None), Event::TargetUp { target: t }];
        assert_eq!(got, (UrlSpan::Only(2), came_up));
        let got = attempt(&mut m, at, Some(t0 + secs(100)), up);
        assert_eq!(got, (UrlSpan::Only(0), vec![]));
    }

    /// A failed url with a retry delay longer than the interval waits the
    /// delay, at the grid slot after.
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
        let got = attempt(&mut m, at, Some(t0 + secs(30)), fails());
        assert_eq!(got.0, UrlSpan::Only(0));
        assert_eq!(m.poll_timeout(), Some(t0 + secs(60)));
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
        let got = attempt(&mut m, at, Some(t0 + secs(30)), up.clone());
        assert_eq!(got.0, UrlSpan::Only(1));
        for k in 0..3 {
            let got = attempt(&mut m, at, Some(t0 + secs(30)), up.clone());
            assert_eq!(got.0, UrlSpan::Only(k));
        }
        assert_eq!(m.is_up(t), Some(true));
        assert_eq!(m.poll_timeout(), Some(t0 + secs(40)));
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
}
