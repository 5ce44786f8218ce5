//! Reload by reconciliation: a whole desired configuration laid onto a
//! running [`Monitor`], so that what did not change keeps its health.

use std::collections::{HashMap, HashSet};

use crate::{MemberConfig, Monitor, PoolConfig, PoolId, TargetConfig, TargetId};

/// What a monitor should run: pools and their members, each named by a
/// key of the caller's. Laid on with [`Monitor::reconcile`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Desired {
    /// The pools, in the caller's order.
    pub pools: Vec<DesiredPool>,
}

/// One desired pool (keepalived's virtual server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredPool {
    /// Names the pool across reconciliations (e.g. `"tcp 10.0.0.1:80"`).
    pub key: String,
    /// Its settings: a pool whose settings change is made anew.
    pub config: PoolConfig,
    /// Its members, in the caller's order.
    pub members: Vec<DesiredMember>,
}

/// One desired member (keepalived's real server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredMember {
    /// Names the member within its pool's key across reconciliations
    /// (e.g. the real server's address): a member laid before under the
    /// same pool key and key is a kept server, whose checked targets
    /// that have not run yet start as keepalived's reload starts them
    /// (see [`Monitor::reconcile`]).
    pub key: String,
    /// The targets that check it, all needed up; the first names it in
    /// events. None: the member is skipped.
    pub targets: Vec<DesiredTarget>,
    /// Its settings, changed in place when its targets are the same.
    pub config: MemberConfig,
}

/// One target of a desired member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredTarget {
    /// The monitor key ([`Monitor::add_target`]): what identifies the
    /// check (keepalived's checker `compare`). A target whose key is
    /// unchanged keeps its state and takes on a changed `check`
    /// ([`Monitor::set_target_config`]); a check that must start afresh
    /// needs a new key.
    pub key: String,
    /// How it is checked; `None` for a static target, always up
    /// ([`Monitor::add_static_target`]).
    pub check: Option<TargetConfig>,
}

/// Where a [`Desired`] is in the monitor: the same shape, with ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// The pools, in the order of [`Desired::pools`].
    pub pools: Vec<ReconciledPool>,
}

/// A desired pool placed in the monitor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconciledPool {
    /// The caller's key.
    pub key: String,
    /// The pool.
    pub id: PoolId,
    /// The settings it runs with.
    pub config: PoolConfig,
    /// Each member's targets, in the order of [`DesiredPool::members`]
    /// and of [`DesiredMember::targets`].
    pub members: Vec<Vec<TargetId>>,
    /// Each member's [`DesiredMember::key`], in the same order.
    pub keys: Vec<String>,
}

impl Reconciled {
    /// The placed pool with this key.
    pub fn pool(&self, key: &str) -> Option<&ReconciledPool> {
        self.pools.iter().find(|p| p.key == key)
    }
}

impl Monitor {
    /// Lays `desired` onto the monitor, in place of what the previous
    /// call laid (nothing at first), and returns where everything is.
    ///
    /// Pools are matched by key and kept while their settings are equal
    /// (a changed pool is a new one, which its members join). Targets are
    /// matched by key and keep their health and schedule, taking on a
    /// changed configuration ([`Monitor::set_target_config`]); a member
    /// named by the same first target stays, its targets and settings
    /// updated in place ([`Monitor::set_member_config`]); one named by
    /// another is removed and added again. A kept server (a member whose pool key
    /// and key were laid before) then starts its checked targets that
    /// have not run yet as keepalived 2.2.7's reload does
    /// (ipwrapper.c `migrate_checkers`): if one of its targets that has
    /// run is down, or it was down and none has run, alpha ones are down
    /// and each needs one failure only; otherwise they are up, whatever
    /// `alpha`, and a new one has all its retries. What is no longer
    /// desired is removed, and only these changes are emitted. Pools and targets added otherwise
    /// are left alone. Not committed: call [`Monitor::commit`] after (for
    /// a stopped driver, [`Monitor::requeue_in_flight`] before).
    pub fn reconcile(&mut self, desired: &Desired) -> Reconciled {
        let old = std::mem::take(&mut self.reconciled);
        let alive = self.servers_alive(&old);
        let mut reusable: HashMap<&str, (PoolId, &PoolConfig)> = old
            .pools
            .iter()
            .map(|p| (p.key.as_str(), (p.id, &p.config)))
            .collect();
        let was: HashMap<(PoolId, TargetId), &[TargetId]> = old
            .pools
            .iter()
            .flat_map(|p| p.members.iter().map(move |m| (p.id, m)))
            .filter_map(|(pool, m)| Some(((pool, *m.first()?), m.as_slice())))
            .collect();
        let mut now_in = HashSet::new();
        let mut placed = Reconciled::default();
        for pool in &desired.pools {
            let id = match reusable.remove(pool.key.as_str()) {
                Some((id, cfg)) if *cfg == pool.config => id,
                _ => self.add_pool(pool.config.clone()),
            };
            let mut members = Vec::with_capacity(pool.members.len());
            for member in &pool.members {
                let (parts, checked) = self.add_targets(&member.targets);
                // Before placing: the member goes in with its final health.
                let server = (pool.key.as_str(), member.key.as_str());
                if let Some(&was_alive) = alive.get(&server) {
                    self.start_server(&checked, was_alive);
                }
                if let Some(&first) = parts.first() {
                    self.place_member(id, &parts, was.get(&(id, first)), &member.config);
                    now_in.insert((id, first));
                }
                members.push(parts);
            }
            placed.pools.push(ReconciledPool {
                key: pool.key.clone(),
                id,
                config: pool.config.clone(),
                members,
                keys: pool.members.iter().map(|m| m.key.clone()).collect(),
            });
        }
        self.drop_old(&old, &now_in);
        self.reconciled = placed.clone();
        placed
    }

    /// A member's targets, and its checked ones with whether each is
    /// new. An existing key gains a reference: the old placement's is
    /// dropped after, so a kept target ends with one. A kept target
    /// takes on its new configuration.
    fn add_targets(&mut self, targets: &[DesiredTarget]) -> (Vec<TargetId>, Vec<(TargetId, bool)>) {
        let mut checked = Vec::new();
        let parts = targets
            .iter()
            .map(|t| match &t.check {
                Some(cfg) => {
                    let fresh = self.target_by_key(&t.key).is_none();
                    let id = self.add_target(t.key.clone(), cfg.clone());
                    // Just added or found: the id is valid.
                    let _ = self.set_target_config(id, cfg.clone());
                    checked.push((id, fresh));
                    id
                }
                None => self.add_static_target(t.key.clone()),
            })
            .collect();
        (parts, checked)
    }

    /// Whether each server laid last, by (pool key, member key), was up
    /// (every target up: keepalived's `alive`), before anything changes.
    fn servers_alive<'a>(&self, old: &'a Reconciled) -> HashMap<(&'a str, &'a str), bool> {
        let mut alive = HashMap::new();
        for pool in &old.pools {
            for (key, parts) in pool.keys.iter().zip(&pool.members) {
                let up = parts.iter().all(|&t| self.is_up(t) == Some(true));
                alive.insert((pool.key.as_str(), key.as_str()), up);
            }
        }
        alive
    }

    /// Keeps a member named by the same first target (new targets and
    /// settings in place), or adds it. The calls can only refuse ids
    /// just made valid.
    fn place_member(
        &mut self,
        pool: PoolId,
        parts: &[TargetId],
        was: Option<&&[TargetId]>,
        cfg: &MemberConfig,
    ) {
        let first = parts.first().copied();
        match (was, first) {
            (Some(old), Some(first)) if *old == parts => {
                let _ = self.set_member_config(pool, first, cfg.clone());
            }
            // Named as before: its checkers change in place.
            (Some(_), Some(_)) => {
                let _ = self.relay_member(pool, parts, cfg.clone());
            }
            (None, Some(_)) => {
                let _ = self.add_member_checked_by(pool, parts, cfg.clone());
            }
            (_, None) => {}
        }
    }

    /// Removes the old members not placed again, and drops the old
    /// placement's reference to each of its targets.
    fn drop_old(&mut self, old: &Reconciled, now_in: &HashSet<(PoolId, TargetId)>) {
        for pool in &old.pools {
            for parts in &pool.members {
                if let Some(&first) = parts.first() {
                    if !now_in.contains(&(pool.id, first)) {
                        let _ = self.remove_member(pool.id, first);
                    }
                }
                for &t in parts {
                    let _ = self.remove_target(t);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use std::time::{Duration, Instant};

    use super::*;
    use crate::{CheckOutcome, DownReason, Event, MonitorConfig};

    fn drain(m: &mut Monitor) -> Vec<Event> {
        std::iter::from_fn(|| m.poll_event()).collect()
    }

    fn target(key: &str) -> DesiredTarget {
        DesiredTarget {
            key: key.into(),
            check: Some(TargetConfig {
                retry: 0,
                ..TargetConfig::with_interval(Duration::from_secs(5))
            }),
        }
    }

    fn member(key: &str, weight: u32) -> DesiredMember {
        DesiredMember {
            key: key.into(),
            targets: vec![target(key)],
            config: MemberConfig::with_weight(weight),
        }
    }

    fn pool(key: &str, members: Vec<DesiredMember>) -> DesiredPool {
        DesiredPool {
            key: key.into(),
            config: PoolConfig::default(),
            members,
        }
    }

    /// Pool "a" with members a1 (weight 1) and a2 (down), pool "b" with
    /// b1; committed and drained.
    fn running() -> (Monitor, Desired, Reconciled, Instant) {
        let mut m = Monitor::new(MonitorConfig::default());
        let d = Desired {
            pools: vec![
                pool("a", vec![member("a1", 1), member("a2", 1)]),
                pool("b", vec![member("b1", 1)]),
            ],
        };
        let r = m.reconcile(&d);
        let mut now = Instant::now();
        m.commit(now);
        let a2 = r.pools[0].members[1][0];
        // Fail a2, pass the others, until a2 has been checked once.
        loop {
            now = m.poll_timeout().unwrap();
            let due = m.poll_check(now).unwrap();
            let o = if due.target == a2 {
                CheckOutcome::Down(DownReason::Refused)
            } else {
                CheckOutcome::Up
            };
            m.handle_outcome(now, due.target, o).unwrap();
            if due.target == a2 {
                break;
            }
        }
        drain(&mut m);
        assert_eq!(m.is_up(a2), Some(false));
        (m, d, r, now)
    }

    #[test]
    fn the_same_desired_again_emits_nothing_and_keeps_every_id() {
        let (mut m, d, r, now) = running();
        m.requeue_in_flight(now);
        assert_eq!(m.reconcile(&d), r);
        m.commit(now);
        assert_eq!(drain(&mut m), []);
        assert_eq!(m.target_count(), 3);
        assert_eq!(m.is_up(r.pools[0].members[1][0]), Some(false));
    }

    #[test]
    fn a_reweighted_member_emits_only_its_reweight() {
        let (mut m, mut d, r, now) = running();
        d.pools[0].members[0].config = MemberConfig::with_weight(4);
        assert_eq!(m.reconcile(&d), r);
        m.commit(now);
        let (a, a1) = (r.pools[0].id, r.pools[0].members[0][0]);
        assert_eq!(
            drain(&mut m),
            [Event::MemberWeight {
                pool: a,
                target: a1,
                weight: 4
            }]
        );
    }

    #[test]
    fn a_removed_pool_emits_its_removals_and_drops_its_targets() {
        let (mut m, mut d, r, now) = running();
        d.pools.pop();
        let placed = m.reconcile(&d);
        m.commit(now);
        let (b, b1) = (r.pools[1].id, r.pools[1].members[0][0]);
        assert_eq!(
            drain(&mut m),
            [
                Event::MemberRemove {
                    pool: b,
                    target: b1
                },
                Event::QuorumLost {
                    pool: b,
                    weight_sum: 0
                },
            ]
        );
        assert_eq!(placed.pools.len(), 1);
        assert_eq!(m.target_by_key("b1"), None);
        assert_eq!(m.target_count(), 2);
    }

    #[test]
    fn a_new_member_and_a_changed_check_start_afresh() {
        let (mut m, mut d, r, now) = running();
        // a2's check changes (a new key): a new target, up until checked.
        d.pools[0].members[1] = member("a2 v2", 1);
        d.pools[0].members.push(member("a3", 2));
        let placed = m.reconcile(&d);
        m.commit(now);
        let a = r.pools[0].id;
        let (a2, a3) = (placed.pools[0].members[1][0], placed.pools[0].members[2][0]);
        assert_ne!(a2, r.pools[0].members[1][0]);
        assert_eq!(
            drain(&mut m),
            [
                Event::MemberAdd {
                    pool: a,
                    target: a2,
                    weight: 1
                },
                Event::MemberAdd {
                    pool: a,
                    target: a3,
                    weight: 2
                },
            ]
        );
        assert_eq!(m.target_by_key("a2"), None);
        assert_eq!(m.target_count(), 4);
    }

    /// A kept member named by the same first target gains and loses a
    /// target in place: nothing is said while it stays up, and the
    /// dropped target is gone.
    #[test]
    fn a_member_gains_and_loses_a_target_in_place() {
        let (mut m, d, r, now) = running();
        let mut more = d.clone();
        more.pools[0].members[0].targets.push(target("x"));
        m.requeue_in_flight(now);
        let placed = m.reconcile(&more);
        m.commit(now);
        assert_eq!(drain(&mut m), []);
        let (a1, x) = (r.pools[0].members[0][0], m.target_by_key("x").unwrap());
        assert_eq!(placed.pools[0].members[0], [a1, x]);
        assert_eq!((m.is_up(x), m.target_count()), (Some(true), 4));
        assert_eq!(m.reconcile(&d), r);
        m.commit(now);
        assert_eq!(drain(&mut m), []);
        assert_eq!((m.target_by_key("x"), m.target_count()), (None, 3));
    }

    #[test]
    fn a_changed_check_setting_keeps_the_target_and_its_health() {
        let (mut m, mut d, r, now) = running();
        let cfg = TargetConfig {
            retry: 3,
            ..TargetConfig::with_interval(Duration::from_secs(7))
        };
        d.pools[0].members[1].targets[0].check = Some(cfg.clone());
        m.requeue_in_flight(now);
        assert_eq!(m.reconcile(&d), r);
        m.commit(now);
        assert_eq!(drain(&mut m), []);
        let a2 = r.pools[0].members[1][0];
        assert_eq!(m.is_up(a2), Some(false));
        assert_eq!(m.target_config(a2), Some(&cfg));
        assert_eq!(m.target_count(), 3);
    }

    #[test]
    fn a_changed_pool_is_new_and_its_members_keep_their_health() {
        let (mut m, mut d, r, now) = running();
        d.pools[1].config = PoolConfig::with_quorum(2, 0);
        let placed = m.reconcile(&d);
        m.commit(now);
        let (old, new) = (r.pools[1].id, placed.pools[1].id);
        assert_ne!(old, new);
        let b1 = r.pools[1].members[0][0];
        assert_eq!(placed.pools[1].members[0], [b1]);
        assert_eq!(m.is_up(b1), Some(true));
        // In the new pool (below its quorum of 2), out of the old one.
        assert_eq!(
            drain(&mut m),
            [
                Event::MemberAdd {
                    pool: new,
                    target: b1,
                    weight: 1
                },
                Event::MemberRemove {
                    pool: old,
                    target: b1
                },
                Event::QuorumLost {
                    pool: old,
                    weight_sum: 0
                },
                Event::QuorumLost {
                    pool: new,
                    weight_sum: 1
                },
            ]
        );
        assert_eq!(m.target_count(), 3);
    }
}
