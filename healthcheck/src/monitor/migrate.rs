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
    /// failure counts) or restart at 0, and its url cursor restarts. A
    /// check already scheduled stays when it is; with a new interval,
    /// the checks after it follow that interval. The same settings change
    /// nothing. Shared by every pool the target is a member of.
    pub fn set_target_config(
        &mut self,
        id: TargetId,
        cfg: TargetConfig,
    ) -> Result<(), MonitorError> {
        let t = self.target_mut(id).ok_or(MonitorError::UnknownTarget)?;
        if t.cfg == cfg {
            return Ok(());
        }
        t.state = t.state.migrate(&cfg);
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

    use super::super::tests::drain;
    use super::*;
    use crate::{CheckOutcome, DownReason, MemberConfig, MonitorConfig, PoolConfig};

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

    /// The same settings change nothing; an unknown target is refused.
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
}
