//! keepalived 2.2.7's server-level step of a reload: once every checker
//! of a kept real server has taken over its predecessor's state, the
//! ones that have not run yet start as the server's others say
//! (check/ipwrapper.c `migrate_checkers`, after the per-checker part in
//! [`super::migrate`]).

use super::{Monitor, MonitorError};
use crate::hysteresis::Health;
use crate::{MemberConfig, PoolId, TargetId};

impl Monitor {
    /// Gives the member of `pool` named by the first of `targets` those
    /// targets and `cfg` in place (a kept server that gained or lost a
    /// checker): only the resulting change is emitted, as keepalived's
    /// reload leaves a kept server where it is.
    pub(crate) fn relay_member(
        &mut self,
        pool: PoolId,
        targets: &[TargetId],
        cfg: MemberConfig,
    ) -> Result<(), MonitorError> {
        let (parts, dynamic) = self.parts_of(targets)?;
        let p = self
            .pools
            .get_mut(pool.0 as usize)
            .ok_or(MonitorError::UnknownPool)?;
        let old = p
            .relay(parts, cfg, dynamic, &mut self.events)
            .ok_or(MonitorError::UnknownTarget)?;
        for id in old.into_iter().filter(|t| !targets.contains(t)) {
            if let Some(t) = self.target_mut(id) {
                t.pools.retain(|&q| q != pool);
            }
        }
        for &id in targets {
            if let Some(t) = self.target_mut(id) {
                if !t.pools.contains(&pool) {
                    t.pools.push(pool);
                }
            }
        }
        Ok(())
    }

    /// Starts the checked `targets` of one kept server (each with
    /// whether it is new, with no predecessor) that have not run yet:
    /// when one of them that has run is down, or the server was not
    /// `was_alive` and none has run, an alpha one is down and each
    /// needs one failure only; otherwise each is up, ignoring `alpha`,
    /// and a new one has all its retries. The pools learn a changed
    /// health without a target event: keepalived says nothing either.
    pub(crate) fn start_server(&mut self, targets: &[(TargetId, bool)], was_alive: bool) {
        let ran: Vec<(bool, bool)> = targets
            .iter()
            .filter_map(|&(id, _)| self.target(id))
            .map(|t| (t.state.has_run(), t.state.health() == Health::Up))
            .collect();
        let failed = ran.iter().any(|&(run, up)| run && !up);
        let any_run = ran.iter().any(|&(run, _)| run);
        let failing = failed || (!was_alive && !any_run);
        for &(id, fresh) in targets {
            let Some(t) = self.target_mut(id) else {
                continue;
            };
            if t.state.has_run() {
                continue;
            }
            let was_up = t.state.health() == Health::Up;
            t.state.start_unrun(&t.cfg, failing, fresh);
            let up = t.state.health() == Health::Up;
            if up == was_up {
                continue;
            }
            let (weight, pools) = (t.state.weight(), t.pools.clone());
            for p in pools {
                if let Some(pool) = self.pools.get_mut(p.0 as usize) {
                    pool.update(id, up, weight, &mut self.events);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use std::time::{Duration, Instant};

    use super::super::tests::drain;
    use super::*;
    use crate::{
        CheckOutcome, Desired, DesiredMember, DesiredPool, DesiredTarget, DownReason, Event,
        MemberConfig, MonitorConfig, PoolConfig, TargetConfig,
    };

    /// One pool "p" with server "rs" checked by `checks` (key, alpha),
    /// each with retry 2, and servers `others` of one plain check each.
    fn desired(checks: &[(&str, bool)], others: &[&str]) -> Desired {
        let target = |key: &str, alpha| DesiredTarget {
            key: key.into(),
            check: Some(TargetConfig {
                retry: 2,
                alpha,
                ..TargetConfig::with_interval(Duration::from_secs(5))
            }),
        };
        let member = |key: &str, targets| DesiredMember {
            key: key.into(),
            targets,
            config: MemberConfig::default(),
        };
        let rs = member("rs", checks.iter().map(|&(k, a)| target(k, a)).collect());
        let rest = others.iter().map(|&k| member(k, vec![target(k, true)]));
        Desired {
            pools: vec![DesiredPool {
                key: "p".into(),
                config: PoolConfig::default(),
                members: std::iter::once(rs).chain(rest).collect(),
            }],
        }
    }

    /// Lays `d` and commits at `now`.
    fn lay(m: &mut Monitor, d: &Desired, now: Instant) -> crate::Reconciled {
        m.requeue_in_flight(now);
        let r = m.reconcile(d);
        m.commit(now);
        r
    }

    /// Runs the next check of `id` with `o` (others due first are
    /// skipped); the events it caused.
    fn check(m: &mut Monitor, id: TargetId, o: CheckOutcome) -> Vec<Event> {
        loop {
            let at = m.poll_timeout().unwrap();
            let due = m.poll_check(at).unwrap();
            if due.target == id {
                m.handle_outcome(at, id, o).unwrap();
                return drain(m);
            }
            m.handle_outcome(at, due.target, CheckOutcome::Skipped)
                .unwrap();
        }
    }

    /// A pool of quorum 1 losing and gaining it.
    fn quorum(pool: crate::PoolId) -> (Event, Event) {
        let lost = Event::QuorumLost {
            pool,
            weight_sum: 0,
        };
        let gained = Event::QuorumGained {
            pool,
            weight_sum: 1,
        };
        (lost, gained)
    }

    fn refused() -> CheckOutcome {
        CheckOutcome::Down(DownReason::Refused)
    }

    fn id(m: &Monitor, key: &str) -> TargetId {
        m.target_by_key(key).unwrap()
    }

    fn retries(m: &Monitor, key: &str) -> u32 {
        m.target(id(m, key)).unwrap().state.retries_made()
    }

    /// A checker of the server failed: a new alpha checker is down, a
    /// new plain one up, and both (with a kept one that has not run)
    /// need one failure only.
    #[test]
    fn a_failed_checker_leaves_the_unrun_ones_one_failure_and_alpha_ones_down() {
        let mut m = Monitor::new(MonitorConfig::default());
        let now = Instant::now();
        lay(&mut m, &desired(&[("a", false), ("u", false)], &[]), now);
        let a = id(&m, "a");
        check(&mut m, a, refused());
        assert_eq!(m.is_up(id(&m, "a")), Some(false));
        let d = desired(
            &[("a", false), ("u", false), ("n", true), ("f", false)],
            &[],
        );
        lay(&mut m, &d, now);
        assert_eq!(drain(&mut m), []);
        let up = |k| m.is_up(id(&m, k)).unwrap();
        assert_eq!(
            [up("a"), up("u"), up("n"), up("f")],
            [false, true, false, true]
        );
        assert_eq!(
            [retries(&m, "u"), retries(&m, "n"), retries(&m, "f")],
            [2; 3]
        );
        let f = id(&m, "f");
        let down = Event::TargetDown {
            target: f,
            reason: DownReason::Refused,
        };
        assert_eq!(check(&mut m, f, refused()), [down]);
    }

    /// No checker of an up server failed: a new alpha checker starts up
    /// with all its retries, and the server stays in its pool unsaid
    /// (laid in place, not removed and added again).
    #[test]
    fn no_failed_checker_starts_a_new_one_up_with_all_its_retries() {
        let mut m = Monitor::new(MonitorConfig::default());
        let now = Instant::now();
        let r = lay(&mut m, &desired(&[("a", false)], &[]), now);
        let a = id(&m, "a");
        check(&mut m, a, CheckOutcome::Up);
        drain(&mut m);
        lay(&mut m, &desired(&[("a", false), ("n", true)], &[]), now);
        let (p, a, n) = (r.pools[0].id, id(&m, "a"), id(&m, "n"));
        // The member stays where it is, up: nothing to say.
        assert_eq!(drain(&mut m), []);
        assert_eq!((m.is_up(n), retries(&m, "n")), (Some(true), 0));
        assert_eq!(check(&mut m, n, refused()), []);
        assert_eq!(check(&mut m, n, refused()), []);
        assert_eq!(m.is_up(n), Some(true));
        let down = Event::TargetDown {
            target: n,
            reason: DownReason::Refused,
        };
        let out = Event::MemberRemove { pool: p, target: a };
        assert_eq!(check(&mut m, n, refused()), [down, out, quorum(p).0]);
    }

    /// An alpha checker that has not run keeps its server out until it
    /// does; once another checker of it has run, a reload starts it up
    /// and the server goes in.
    #[test]
    fn an_unrun_alpha_checker_of_a_server_with_one_run_comes_up() {
        let mut m = Monitor::new(MonitorConfig::default());
        let now = Instant::now();
        let d = desired(&[("a", false), ("u", true)], &[]);
        let r = lay(&mut m, &d, now);
        let a = id(&m, "a");
        check(&mut m, a, CheckOutcome::Up);
        assert_eq!(m.is_up(id(&m, "u")), Some(false));
        drain(&mut m);
        lay(&mut m, &d, now);
        let a = id(&m, "a");
        let add = Event::MemberAdd {
            pool: r.pools[0].id,
            target: a,
            weight: 1,
        };
        assert_eq!(drain(&mut m), [add, quorum(r.pools[0].id).1]);
        assert_eq!((m.is_up(id(&m, "u")), retries(&m, "u")), (Some(true), 1));
    }

    /// A down server none of whose checkers has run: a kept alpha one
    /// stays down, a new plain one is up; each needs one failure only.
    /// Unrun checkers that are all plain now bring it up.
    #[test]
    fn a_down_server_with_none_run_keeps_alpha_ones_down() {
        let mut m = Monitor::new(MonitorConfig::default());
        let now = Instant::now();
        let r = lay(&mut m, &desired(&[("u", true)], &[]), now);
        lay(&mut m, &desired(&[("u", true), ("f", false)], &[]), now);
        let up = |m: &Monitor, k| m.is_up(id(m, k)).unwrap();
        assert_eq!((up(&m, "u"), up(&m, "f")), (false, true));
        assert_eq!((retries(&m, "u"), retries(&m, "f")), (2, 2));
        drain(&mut m);
        lay(&mut m, &desired(&[("u", false), ("f", false)], &[]), now);
        assert_eq!((up(&m, "u"), retries(&m, "u")), (true, 2));
        let add = Event::MemberAdd {
            pool: r.pools[0].id,
            target: id(&m, "u"),
            weight: 1,
        };
        assert_eq!(drain(&mut m), [add, quorum(r.pools[0].id).1]);
    }

    /// A new server is not a kept one: its alpha checker starts down
    /// with one failure only, as at start.
    #[test]
    fn a_new_server_is_left_as_at_start() {
        let mut m = Monitor::new(MonitorConfig::default());
        let now = Instant::now();
        lay(&mut m, &desired(&[("a", false)], &[]), now);
        let a = id(&m, "a");
        check(&mut m, a, CheckOutcome::Up);
        lay(&mut m, &desired(&[("a", false)], &["s"]), now);
        assert_eq!((m.is_up(id(&m, "s")), retries(&m, "s")), (Some(false), 2));
    }
}
