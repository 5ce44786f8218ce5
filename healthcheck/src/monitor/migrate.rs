//! A kept target's new settings: keepalived 2.2.7's reload hands a
//! checker's state to the new checker that `compare`s equal to it
//! (check/ipwrapper.c `migrate_checkers`), and the new one's own
//! settings (delay_loop, retry, delay_before_retry, ...) apply.

use super::{Monitor, MonitorError};
use crate::{TargetConfig, TargetId};

impl Monitor {
    /// Gives a target new settings in place, as keepalived's reload
    /// migrates a checker: its health and whether it has run are kept,
    /// the retries made are kept below the new `retry` (so one more
    /// failure counts) or restart at 0, and its url cursor restarts at
    /// the first url with no failed url. keepalived makes every checker
    /// anew on a reload, so a committed target given the same settings
    /// is migrated too: only its schedule stays. A target not committed
    /// yet has not run: the same settings leave it as it is. A check
    /// already scheduled stays when it is; with a new interval, the
    /// checks after it follow that interval. Shared by every pool the
    /// target is a member of.
    pub fn set_target_config(
        &mut self,
        id: TargetId,
        cfg: TargetConfig,
    ) -> Result<(), MonitorError> {
        let t = self.target_mut(id).ok_or(MonitorError::UnknownTarget)?;
        let same = t.cfg == cfg;
        // Just added (or static): keeping "one failure is enough
        // initially" (check_data.c), not a migrated retry count.
        if same && t.place.is_none() {
            return Ok(());
        }
        // ipwrapper.c migrate_checkers: the new checker has its first
        // url and no failed url (check_http.c url_handler), whatever
        // changed; migrating twice (a target in two pools) is the same.
        t.state = t.state.migrate(&cfg);
        if same {
            return Ok(());
        }
        let regrid = t.cfg.interval != cfg.interval;
        t.cfg = cfg;
        // Not yet committed: the commit places it on its new interval.
        let (Some(_), Some(start)) = (t.place, t.scheduled) else {
            return Ok(());
        };
        if !regrid {
            return Ok(());
        }
        // Its own grid, from the check already due: slot 0 of a
        // one-member grid has no jitter, so that check stays where it is.
        // (The next commit drops the grid it leaves.)
        let interval = t.cfg.interval;
        let g = self.add_grid(start, interval, 1);
        if let Some(t) = self.target_mut(id) {
            t.place = Some((g, 0));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use std::time::{Duration, Instant};

    use super::super::tests::{attempt, drain};
    use super::*;
    use crate::{
        CheckOutcome, DownReason, Event, MemberConfig, MonitorConfig, PoolConfig, UrlSpan,
    };

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    /// Runs the check due at `at` with `o`; when the next one is due.
    fn check_at(m: &mut Monitor, t: TargetId, at: Instant, o: CheckOutcome) -> Instant {
        assert_eq!(m.poll_timeout(), Some(at));
        assert_eq!(m.poll_check(at).unwrap().target, t);
        m.handle_outcome(at, t, o).unwrap();
        m.poll_timeout().unwrap()
    }

    /// A down target stays down under new settings; the check already
    /// due stays, and the next ones follow the new interval and retries.
    #[test]
    fn a_down_target_stays_down_and_takes_its_new_settings() {
        let mut m = Monitor::new(MonitorConfig::default());
        let t = m.add_target("t", TargetConfig::with_interval(secs(10)));
        let p = m.add_pool(PoolConfig::default());
        m.add_member(p, t, MemberConfig::with_weight(1)).unwrap();
        let s = Instant::now();
        m.commit(s);
        let refused = || CheckOutcome::Down(DownReason::Refused);
        // Alone on its grid: due at the commit, then every 10 s.
        assert_eq!(check_at(&mut m, t, s, refused()), s + secs(10));
        assert_eq!(m.is_up(t), Some(false));
        drain(&mut m);

        let cfg = TargetConfig {
            retry: 2,
            delay_before_retry: secs(2),
            ..TargetConfig::with_interval(secs(3))
        };
        m.set_target_config(t, cfg.clone()).unwrap();
        assert_eq!(m.target_config(t), Some(&cfg));
        assert_eq!(m.is_up(t), Some(false));
        assert_eq!(drain(&mut m), []);
        // Down and has run: a failure is not retried, the next check is
        // the new interval after the one already due.
        assert_eq!(check_at(&mut m, t, s + secs(10), refused()), s + secs(13));
        assert_eq!(m.is_up(t), Some(false));
        assert_eq!(
            check_at(&mut m, t, s + secs(13), CheckOutcome::Up),
            s + secs(16)
        );
        assert_eq!(m.is_up(t), Some(true));
        // Up: the new retry delay.
        assert_eq!(check_at(&mut m, t, s + secs(16), refused()), s + secs(18));
        assert_eq!(m.is_up(t), Some(true));
    }

    /// Reloads that change an interval leave no grids behind: a commit
    /// drops the ones no target is on, and the target keeps its slot.
    #[test]
    fn new_intervals_do_not_pile_up_grids() {
        let mut m = Monitor::new(MonitorConfig::default());
        let a = m.add_target("a", TargetConfig::with_interval(secs(10)));
        let b = m.add_target("b", TargetConfig::with_interval(secs(10)));
        let s = Instant::now();
        m.commit(s);
        assert_eq!(m.groups.len(), 1);
        for k in 1..=5u64 {
            m.set_target_config(a, TargetConfig::with_interval(secs(10 + k)))
                .unwrap();
            m.commit(s);
            // b's shared grid and a's own one.
            assert_eq!(m.groups.len(), 2, "reload {k}");
        }
        m.remove_target(a).unwrap();
        m.commit(s);
        assert_eq!(m.groups.len(), 1);
        let (g, slot) = m.target(b).unwrap().place.unwrap();
        assert_eq!((g, slot), (0, 1));
    }

    /// The same settings, or a new retry only, keep the schedule; an
    /// unknown target is refused.
    #[test]
    fn the_same_settings_keep_the_schedule() {
        let mut m = Monitor::new(MonitorConfig::default());
        let cfg = TargetConfig::with_interval(secs(10));
        let t = m.add_target("t", cfg.clone());
        let s = Instant::now();
        m.commit(s);
        assert_eq!(check_at(&mut m, t, s, CheckOutcome::Up), s + secs(10));
        m.set_target_config(t, cfg.clone()).unwrap();
        // A new retry only: the schedule stays.
        let retry = TargetConfig { retry: 4, ..cfg };
        m.set_target_config(t, retry).unwrap();
        assert_eq!(m.poll_timeout(), Some(s + secs(10)));
        assert_eq!(
            m.set_target_config(TargetId(9), TargetConfig::default()),
            Err(MonitorError::UnknownTarget)
        );
    }

    /// An HTTP-like target of `urls` urls (keepalived's HTTP_GET:
    /// confirm_recovery; retry 1, delay_before_retry 3 s, delay_loop
    /// 10 s), alone on its grid, committed at the returned instant.
    fn http(urls: usize, retry: u32) -> (Monitor, TargetId, TargetConfig, Instant) {
        let mut m = Monitor::new(MonitorConfig::default());
        let cfg = TargetConfig {
            retry,
            delay_before_retry: secs(3),
            confirm_recovery: true,
            urls,
            ..TargetConfig::with_interval(secs(10))
        };
        let t = m.add_target("t", cfg.clone());
        let s = Instant::now();
        m.commit(s);
        drain(&mut m);
        (m, t, cfg, s)
    }

    fn url_fails(url: usize) -> CheckOutcome {
        CheckOutcome::UrlDown {
            url,
            reason: DownReason::HttpStatus(500),
        }
    }

    /// The same settings, as a reload that changed nothing: the new
    /// checker starts from the first url (check_http.c url_handler), at
    /// the time the next url was due.
    #[test]
    fn a_reload_restarts_the_url_cursor_of_a_round_under_way() {
        let (mut m, t, cfg, s) = http(3, 1);
        let at = &mut s.clone();
        let got = attempt(&mut m, at, Some(s), CheckOutcome::Up);
        assert_eq!(got, (UrlSpan::Only(0), vec![]));
        assert_eq!(m.poll_timeout(), Some(s + secs(10)));
        m.set_target_config(t, cfg).unwrap();
        m.commit(s);
        assert_eq!(drain(&mut m), []);
        for (k, url) in [0, 1, 2, 0].into_iter().enumerate() {
            let due = s + secs(10 * (k as u64 + 1));
            let got = attempt(&mut m, at, Some(due), CheckOutcome::Up);
            assert_eq!(got, (UrlSpan::Only(url), vec![]), "check {k}");
        }
        assert_eq!(m.is_up(t), Some(true));
    }

    /// A down target's failed url is forgotten too (the new checker's
    /// `failed_url` is NULL): every url must pass again, from the first,
    /// before it is up; nothing says a failure cleared.
    #[test]
    fn a_reload_forgets_the_failed_url_of_a_stepping_target() {
        let (mut m, t, cfg, s) = http(3, 1);
        let at = &mut s.clone();
        for k in 0..4 {
            attempt(&mut m, at, Some(s + secs(10 * k)), CheckOutcome::Up);
        }
        attempt(&mut m, at, Some(s + secs(40)), url_fails(1));
        let got = attempt(&mut m, at, Some(s + secs(43)), url_fails(1));
        assert_eq!(got.0, UrlSpan::Only(1));
        assert_eq!(m.is_up(t), Some(false));
        // The failed url was due again max(3 s, 10 s) later.
        assert_eq!(m.poll_timeout(), Some(s + secs(53)));
        m.set_target_config(t, cfg).unwrap();
        m.commit(s);
        assert_eq!(m.is_up(t), Some(false));
        let passed = |from, until| Event::UrlsPassed {
            target: t,
            from,
            until,
        };
        let got = attempt(&mut m, at, Some(s + secs(53)), CheckOutcome::Up);
        assert_eq!(got, (UrlSpan::Only(0), vec![passed(0, Some(1))]));
        let got = attempt(&mut m, at, Some(s + secs(63)), CheckOutcome::Up);
        assert_eq!(got, (UrlSpan::Only(1), vec![passed(1, Some(2))]));
        let got = attempt(&mut m, at, Some(s + secs(73)), CheckOutcome::Up);
        let came_up = vec![passed(2, None), Event::TargetUp { target: t }];
        assert_eq!(got, (UrlSpan::Only(2), came_up));
    }

    /// Urls checked in one attempt: a down target checks every url from
    /// the first after a reload, not its failed url alone, and one pass
    /// brings it up (no confirming attempt).
    #[test]
    fn a_reload_checks_every_url_of_a_down_target_again() {
        let (mut m, t, cfg, s) = http(0, 0);
        let at = &mut s.clone();
        attempt(&mut m, at, Some(s), CheckOutcome::Up);
        let got = attempt(&mut m, at, Some(s + secs(10)), url_fails(1));
        assert_eq!(got.0, UrlSpan::From(0));
        assert_eq!(m.is_up(t), Some(false));
        m.set_target_config(t, cfg).unwrap();
        m.commit(s);
        let passed = Event::UrlsPassed {
            target: t,
            from: 0,
            until: None,
        };
        let got = attempt(&mut m, at, Some(s + secs(20)), CheckOutcome::Up);
        let came_up = vec![passed, Event::TargetUp { target: t }];
        assert_eq!(got, (UrlSpan::From(0), came_up));
    }

    /// The same settings clamp the retries made too (ipwrapper.c
    /// migrate_checkers: `retry - 1` when as many were made): the retry
    /// already due fails and is retried once more before the target
    /// goes down.
    #[test]
    fn a_reload_with_the_same_retry_allows_one_more_retry() {
        let (mut m, t, cfg, s) = http(0, 1);
        let at = &mut s.clone();
        let refused = || CheckOutcome::Down(DownReason::Refused);
        attempt(&mut m, at, Some(s), CheckOutcome::Up);
        attempt(&mut m, at, Some(s + secs(10)), refused());
        assert_eq!(m.target(t).unwrap().state.retries_made(), 1);
        m.set_target_config(t, cfg).unwrap();
        m.commit(s);
        assert_eq!(m.target(t).unwrap().state.retries_made(), 0);
        assert_eq!(attempt(&mut m, at, Some(s + secs(13)), refused()).1, []);
        assert_eq!(m.is_up(t), Some(true));
        let got = attempt(&mut m, at, Some(s + secs(16)), refused());
        let down = Event::TargetDown {
            target: t,
            reason: DownReason::Refused,
        };
        assert_eq!(got, (UrlSpan::From(0), vec![down]));
    }

    /// A target added since the last commit keeps its retries used up
    /// ("one failure is enough initially") under the same settings; a
    /// committed one that has not run yet is migrated as keepalived
    /// does, with `retry - 1` made: its first failure is retried.
    #[test]
    fn only_a_committed_target_is_migrated_under_the_same_settings() {
        let mut m = Monitor::new(MonitorConfig::default());
        let cfg = TargetConfig {
            retry: 3,
            ..TargetConfig::with_interval(secs(10))
        };
        let t = m.add_target("t", cfg.clone());
        m.set_target_config(t, cfg.clone()).unwrap();
        assert_eq!(m.target(t).unwrap().state.retries_made(), 3);
        let s = Instant::now();
        m.commit(s);
        m.set_target_config(t, cfg).unwrap();
        assert_eq!(m.target(t).unwrap().state.retries_made(), 2);
        let refused = || CheckOutcome::Down(DownReason::Refused);
        let at = &mut s.clone();
        attempt(&mut m, at, Some(s), refused());
        assert_eq!(m.is_up(t), Some(true));
        attempt(&mut m, at, Some(s + secs(1)), refused());
        assert_eq!(m.is_up(t), Some(false));
    }
}
