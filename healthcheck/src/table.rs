//! What a load balancer's table should hold, following the monitor's
//! events: keepalived's `perform_svr_state` and `update_quorum_state`
//! (check/ipwrapper.c) as typed changes, and each pool's wanted members
//! with the sorry server swapped in while the quorum is lost; plus an
//! operator's drain (weight 0 until restored), which keepalived lacks.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::{Event, PoolId, TargetId};

/// One change of the table, named after keepalived's log lines.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableChange {
    /// A member went into the pool: "Adding service RS to VS".
    Added {
        /// Which pool.
        pool: PoolId,
        /// Which member.
        target: TargetId,
        /// Its weight.
        weight: u32,
    },
    /// A member left the pool: "Removing service RS from VS".
    Removed {
        /// Which pool.
        pool: PoolId,
        /// Which member.
        target: TargetId,
    },
    /// An `inhibit_on_failure` member came back up: "Enabling service RS
    /// of VS".
    Enabled {
        /// Which pool.
        pool: PoolId,
        /// Which member.
        target: TargetId,
        /// Its weight again.
        weight: u32,
    },
    /// An `inhibit_on_failure` member failed and stays with weight 0:
    /// "Disabling service RS of VS".
    Disabled {
        /// Which pool.
        pool: PoolId,
        /// Which member.
        target: TargetId,
    },
    /// A live member's dynamic weight changed: "Changing weight from FROM
    /// to TO for active service RS of VS".
    Reweighted {
        /// Which pool.
        pool: PoolId,
        /// Which member.
        target: TargetId,
        /// The weight before.
        from: u32,
        /// The weight now.
        to: u32,
    },
    /// "Gained quorum Q+H=Q+H <= SUM for VS"; with `starting`, the pool
    /// starts with its quorum (keepalived logs nothing then).
    QuorumGained {
        /// Which pool.
        pool: PoolId,
        /// The sum of the live weights.
        weight_sum: u64,
        /// The pool's first quorum state, at commit.
        starting: bool,
    },
    /// "Lost quorum Q-H=Q-H > SUM for VS", or with `starting` "Starting
    /// with quorum down Q-H=Q+H > SUM for VS" (keepalived logs the latter
    /// only for a pool with a sorry server).
    QuorumLost {
        /// Which pool.
        pool: PoolId,
        /// The sum of the live weights.
        weight_sum: u64,
        /// The pool's first quorum state, at commit.
        starting: bool,
    },
    /// "Adding sorry server S to VS", then "Removing alive servers from the
    /// pool for VS": the table holds only the sorry server.
    SorryServerIn {
        /// Which pool.
        pool: PoolId,
    },
    /// "Removing sorry server S from VS", then "Adding alive servers to the
    /// pool for VS": the live members are back.
    SorryServerOut {
        /// Which pool.
        pool: PoolId,
    },
}

/// The last change of a target, which tells what its next member events
/// mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cause {
    Up,
    Down,
    Weight,
}

#[derive(Debug, Default, Clone)]
struct PoolState {
    /// Members in the table and their weights (0: inhibited).
    members: BTreeMap<TargetId, u32>,
    sorry_in: bool,
    started: bool,
    /// The last quorum event's verdict (None before the first).
    quorum_up: Option<bool>,
}

/// Follows a [`crate::Monitor`]'s events (in order, e.g. over a channel)
/// and says what the load balancer's table should hold. Sans-IO.
///
/// # Example
/// ```
/// use healthcheck::{Monitor, MonitorConfig, MemberConfig, PoolConfig, PoolTable, TableChange};
///
/// let mut m = Monitor::new(MonitorConfig::default());
/// let mut pc = PoolConfig::default();
/// pc.sorry_server = true;
/// let pool = m.add_pool(pc);
/// // A real server without a checker: always up.
/// let rs = m.add_static_target("10.1.0.1:80");
/// m.add_member(pool, rs, MemberConfig::with_weight(2)).unwrap();
/// m.commit(std::time::Instant::now());
/// let mut table = PoolTable::new();
/// let changes: Vec<TableChange> =
///     std::iter::from_fn(|| m.poll_event()).filter_map(|e| table.handle(&e)).collect();
/// assert_eq!(changes[0], TableChange::Added { pool, target: rs, weight: 2 });
/// assert_eq!(table.members(pool), [(rs, 2)]);
/// assert!(!table.sorry_server_in(pool));
/// ```
///
/// # Draining
/// [`PoolTable::drain`] holds a member at weight 0 in [`PoolTable::members`]
/// (in the table, so its connections finish, but given no new ones) until
/// [`PoolTable::restore`]. A drain is an operator's decision, not a health
/// change, so:
/// - the member keeps being checked; while drained and down it is out of
///   the table (or at 0 under `inhibit_on_failure`) as its checks say, and
///   when it comes back up it is still drained: only `restore` ends it;
/// - `restore` gives it back the weight its health and configuration give
///   now (its configured or dynamic weight if up; out, or 0 when inhibited,
///   if down): the table never stores a weight of its own for it;
/// - the quorum and the sorry server follow health only (the monitor
///   counts a drained live member's weight), so draining servers for
///   maintenance never swaps the sorry server in;
/// - the drain is kept by pool and target, whatever events come; an
///   embedder whose reload gives a member a new target moves the drain
///   itself (restore the old, drain the new).
///
/// ```
/// use healthcheck::{Monitor, MonitorConfig, MemberConfig, PoolConfig, PoolTable};
///
/// let mut m = Monitor::new(MonitorConfig::default());
/// let pool = m.add_pool(PoolConfig::default());
/// let rs = m.add_static_target("10.1.0.1:80");
/// m.add_member(pool, rs, MemberConfig::with_weight(3)).unwrap();
/// m.commit(std::time::Instant::now());
/// let mut table = PoolTable::new();
/// while let Some(e) = m.poll_event() {
///     table.handle(&e);
/// }
/// assert!(table.drain(pool, rs));
/// assert_eq!(table.members(pool), [(rs, 0)]);
/// assert!(table.restore(pool, rs));
/// assert_eq!(table.members(pool), [(rs, 3)]);
/// ```
#[derive(Debug, Default, Clone)]
pub struct PoolTable {
    pools: HashMap<PoolId, PoolState>,
    causes: HashMap<TargetId, Cause>,
    /// Members an operator drained: weight 0 until restored.
    drained: BTreeSet<(PoolId, TargetId)>,
}

impl PoolTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Applies one monitor event; returns the table change it makes, if any.
    pub fn handle(&mut self, event: &Event) -> Option<TableChange> {
        match *event {
            Event::TargetUp { target } => self.cause(target, Cause::Up),
            Event::TargetDown { target, .. } => self.cause(target, Cause::Down),
            Event::TargetWeight { target, .. } => self.cause(target, Cause::Weight),
            // Changes nothing in the table.
            Event::AttemptFailed { .. }
            | Event::FirstCheck { .. }
            | Event::FailureCleared { .. }
            | Event::UrlsPassed { .. } => None,
            Event::MemberAdd {
                pool,
                target,
                weight,
            } => {
                self.pool(pool).members.insert(target, weight);
                Some(TableChange::Added {
                    pool,
                    target,
                    weight,
                })
            }
            Event::MemberRemove { pool, target } => {
                self.pool(pool).members.remove(&target);
                Some(TableChange::Removed { pool, target })
            }
            Event::MemberWeight {
                pool,
                target,
                weight,
            } => self.reweight(pool, target, weight),
            Event::QuorumGained { pool, weight_sum } => {
                let p = self.pool(pool);
                p.quorum_up = Some(true);
                let starting = !std::mem::replace(&mut p.started, true);
                Some(TableChange::QuorumGained {
                    pool,
                    weight_sum,
                    starting,
                })
            }
            Event::QuorumLost { pool, weight_sum } => {
                let p = self.pool(pool);
                p.quorum_up = Some(false);
                let starting = !std::mem::replace(&mut p.started, true);
                Some(TableChange::QuorumLost {
                    pool,
                    weight_sum,
                    starting,
                })
            }
            Event::SorryServerIn { pool } => {
                self.pool(pool).sorry_in = true;
                Some(TableChange::SorryServerIn { pool })
            }
            Event::SorryServerOut { pool } => {
                self.pool(pool).sorry_in = false;
                Some(TableChange::SorryServerOut { pool })
            }
        }
    }

    /// Forgets why targets last changed, before feeding events no health
    /// change caused (a reload's new weights are [`TableChange::Reweighted`],
    /// not [`TableChange::Enabled`]).
    pub fn forget_causes(&mut self) {
        self.causes.clear();
    }

    fn cause(&mut self, target: TargetId, cause: Cause) -> Option<TableChange> {
        self.causes.insert(target, cause);
        None
    }

    fn pool(&mut self, pool: PoolId) -> &mut PoolState {
        self.pools.entry(pool).or_default()
    }

    /// A member's weight changed: the monitor emits this for an inhibited
    /// member going down (to 0) or up, or for a new dynamic weight.
    fn reweight(&mut self, pool: PoolId, target: TargetId, to: u32) -> Option<TableChange> {
        let cause = self.causes.get(&target).copied();
        let from = self.pool(pool).members.insert(target, to).unwrap_or(0);
        Some(match cause {
            Some(Cause::Down) => TableChange::Disabled { pool, target },
            Some(Cause::Up) => TableChange::Enabled {
                pool,
                target,
                weight: to,
            },
            Some(Cause::Weight) | None => TableChange::Reweighted {
                pool,
                target,
                from,
                to,
            },
        })
    }

    /// The members the table should hold now, with their weights (0 for
    /// an inhibited or a drained member), in [`TargetId`] order; empty
    /// while the sorry server is in (keepalived keeps the alive servers
    /// out then).
    pub fn members(&self, pool: PoolId) -> Vec<(TargetId, u32)> {
        match self.pools.get(&pool) {
            Some(p) if !p.sorry_in => (p.members.iter())
                .map(|(&t, &w)| (t, if self.is_drained(pool, t) { 0 } else { w }))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Drains `target` in `pool`: weight 0 in [`Self::members`] until
    /// [`Self::restore`], whatever its health does meanwhile (see the
    /// type's documentation). Returns false if it was drained already.
    /// The ids are not checked: the caller names a member of its pool.
    pub fn drain(&mut self, pool: PoolId, target: TargetId) -> bool {
        self.drained.insert((pool, target))
    }

    /// Ends a drain: the member has the weight its health and
    /// configuration give now. Returns false if it was not drained.
    pub fn restore(&mut self, pool: PoolId, target: TargetId) -> bool {
        self.drained.remove(&(pool, target))
    }

    /// Whether `target` is drained in `pool`.
    pub fn is_drained(&self, pool: PoolId, target: TargetId) -> bool {
        self.drained.contains(&(pool, target))
    }

    /// Every drained member, in (pool, target) order.
    pub fn drained(&self) -> Vec<(PoolId, TargetId)> {
        self.drained.iter().copied().collect()
    }

    /// Whether the pool has quorum, as its last quorum event said (None
    /// before the first).
    pub fn quorum_up(&self, pool: PoolId) -> Option<bool> {
        self.pools.get(&pool).and_then(|p| p.quorum_up)
    }

    /// The sum of the weights of the pool's live members, drains aside:
    /// what the monitor compares with the quorum (an inhibited member
    /// counts 0; the members count while the sorry server stands in).
    pub fn weight_sum(&self, pool: PoolId) -> u64 {
        (self.pools.get(&pool)).map_or(0, |p| p.members.values().map(|w| u64::from(*w)).sum())
    }

    /// Whether the pool's sorry server should be in the table.
    pub fn sorry_server_in(&self, pool: PoolId) -> bool {
        self.pools.get(&pool).is_some_and(|p| p.sorry_in)
    }
}

#[cfg(test)]
mod tests {
    //! keepalived's virtual server rules, end to end through the monitor
    //! (moved from keepalived-lite's lvs_mode table).
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use std::time::{Duration, Instant};

    use super::*;
    use crate::{
        CheckOutcome, DownReason, MemberConfig, Monitor, MonitorConfig, PoolConfig, TargetConfig,
    };

    use TableChange::*;

    /// A monitor, one pool and the table following it.
    struct Lab {
        m: Monitor,
        table: PoolTable,
        pool: PoolId,
    }

    impl Lab {
        fn new(cfg: PoolConfig) -> Self {
            let mut m = Monitor::new(MonitorConfig::default());
            let pool = m.add_pool(cfg);
            Self {
                m,
                table: PoolTable::new(),
                pool,
            }
        }

        /// A checked real server (`alpha`: starts down).
        fn checked(&mut self, key: &str, member: MemberConfig, alpha: bool) -> TargetId {
            let mut cfg = TargetConfig::with_interval(Duration::from_secs(1));
            cfg.retry = 0;
            cfg.alpha = alpha;
            let t = self.m.add_target(key, cfg);
            self.m.add_member(self.pool, t, member).unwrap();
            t
        }

        /// A real server without a checker.
        fn unchecked(&mut self, key: &str, weight: u32) -> TargetId {
            let t = self.m.add_static_target(key);
            self.m
                .add_member(self.pool, t, MemberConfig::with_weight(weight))
                .unwrap();
            t
        }

        fn drain(&mut self) -> Vec<TableChange> {
            std::iter::from_fn(|| self.m.poll_event())
                .filter_map(|e| self.table.handle(&e))
                .collect()
        }

        /// Runs due checks until `target` has been checked once with
        /// `outcome`; the others keep their state.
        fn check(&mut self, target: TargetId, outcome: CheckOutcome) -> Vec<TableChange> {
            loop {
                let at = self.m.poll_timeout().unwrap();
                let due = self.m.poll_check(at).unwrap();
                let mine = due.target == target;
                let o = match (mine, self.m.is_up(due.target)) {
                    (true, _) => outcome.clone(),
                    (false, Some(true)) => CheckOutcome::Up,
                    (false, _) => CheckOutcome::Down(DownReason::Refused),
                };
                self.m.handle_outcome(at, due.target, o).unwrap();
                let changes = self.drain();
                if mine {
                    return changes;
                }
            }
        }

        fn members(&self) -> Vec<(TargetId, u32)> {
            self.table.members(self.pool)
        }
    }

    fn inhibited(weight: u32) -> MemberConfig {
        let mut mc = MemberConfig::with_weight(weight);
        mc.inhibit_on_failure = true;
        mc
    }

    const DOWN: CheckOutcome = CheckOutcome::Down(DownReason::Refused);

    #[test]
    fn each_health_change_makes_only_its_own_change() {
        let mut lab = Lab::new(PoolConfig::default());
        let a = lab.checked("a", MemberConfig::with_weight(1), false);
        let b = lab.checked("b", inhibited(3), false);
        let c = lab.unchecked("c", 2);
        let pool = lab.pool;
        // At start every real server is in (keepalived's init_services).
        lab.m.commit(Instant::now());
        assert_eq!(
            lab.drain(),
            [
                Added {
                    pool,
                    target: a,
                    weight: 1
                },
                Added {
                    pool,
                    target: b,
                    weight: 3
                },
                Added {
                    pool,
                    target: c,
                    weight: 2
                },
                QuorumGained {
                    pool,
                    weight_sum: 6,
                    starting: true
                },
            ]
        );
        assert_eq!(lab.members(), [(a, 1), (b, 3), (c, 2)]);

        assert_eq!(lab.check(a, DOWN), [Removed { pool, target: a }]);
        assert_eq!(lab.members(), [(b, 3), (c, 2)]);
        assert_eq!(lab.check(b, DOWN), [Disabled { pool, target: b }]);
        assert_eq!(lab.members(), [(b, 0), (c, 2)]);
        assert_eq!(
            lab.check(b, CheckOutcome::Up),
            [Enabled {
                pool,
                target: b,
                weight: 3
            }]
        );
        assert_eq!(
            lab.check(a, CheckOutcome::Up),
            [Added {
                pool,
                target: a,
                weight: 1
            }]
        );
        assert_eq!(lab.members(), [(a, 1), (b, 3), (c, 2)]);
        assert_eq!(lab.m.weight_sum(pool), Some(6));
    }

    /// An operator's drain: weight 0 through down and up, inhibited or
    /// not, with a new dynamic weight; restore gives what health says
    /// now; the quorum never notices.
    #[test]
    fn a_drain_holds_through_health_changes_until_restored() {
        let mut lab = Lab::new(PoolConfig {
            quorum: 2,
            hysteresis: 0,
            sorry_server: true,
        });
        let a = lab.checked("a", MemberConfig::with_weight(2), false);
        let b = lab.checked("b", inhibited(3), false);
        let pool = lab.pool;
        lab.m.commit(Instant::now());
        lab.drain();
        assert!(lab.table.drain(pool, a));
        assert!(!lab.table.drain(pool, a), "already drained");
        assert!(lab.table.drain(pool, b));
        assert_eq!(lab.members(), [(a, 0), (b, 0)]);
        assert_eq!(lab.table.drained(), [(pool, a), (pool, b)]);
        // Draining is not a health change: 2 + 3 >= 2 keeps the quorum,
        // so the sorry server stays out.
        assert_eq!(lab.m.has_quorum(pool), Some(true));
        assert!(!lab.table.sorry_server_in(pool));

        // Down: out (a) or inhibited at 0 (b), as the checks say.
        assert_eq!(lab.check(a, DOWN), [Removed { pool, target: a }]);
        assert_eq!(lab.members(), [(b, 0)]);
        // Up again: in, but still drained.
        assert_eq!(
            lab.check(a, CheckOutcome::Up),
            [Added {
                pool,
                target: a,
                weight: 2
            }]
        );
        assert_eq!(lab.members(), [(a, 0), (b, 0)]);
        // A new dynamic weight is remembered, not applied.
        assert_eq!(
            lab.check(a, CheckOutcome::UpWithWeight(7)),
            [Reweighted {
                pool,
                target: a,
                from: 2,
                to: 7
            }]
        );
        assert_eq!(lab.members(), [(a, 0), (b, 0)]);
        assert_eq!(lab.check(b, DOWN), [Disabled { pool, target: b }]);

        // Restore: the weight health and configuration give now.
        assert!(lab.table.restore(pool, a));
        assert!(!lab.table.restore(pool, a), "not drained any more");
        assert!(lab.table.restore(pool, b));
        assert_eq!(lab.members(), [(a, 7), (b, 0)]);
        assert!(!lab.table.is_drained(pool, b));
        assert_eq!(lab.table.drained(), []);
        assert_eq!(
            lab.check(b, CheckOutcome::Up),
            [Enabled {
                pool,
                target: b,
                weight: 3
            }]
        );
        assert_eq!(lab.members(), [(a, 7), (b, 3)]);
    }

    #[test]
    fn quorum_loss_swaps_in_the_sorry_server_and_back() {
        let mut lab = Lab::new(PoolConfig {
            quorum: 3,
            hysteresis: 1,
            sorry_server: true,
        });
        let a = lab.checked("a", MemberConfig::with_weight(2), false);
        let b = lab.checked("b", MemberConfig::with_weight(2), false);
        let c = lab.unchecked("c", 1);
        let pool = lab.pool;
        lab.m.commit(Instant::now());
        // 5 >= 3 + 1: up at start.
        assert_eq!(
            lab.drain().last(),
            Some(&QuorumGained {
                pool,
                weight_sum: 5,
                starting: true
            })
        );
        // 3 is not below 3 - 1: the quorum holds.
        assert_eq!(lab.check(a, DOWN), [Removed { pool, target: a }]);
        // 1 < 2: lost; the sorry server replaces the live servers.
        assert_eq!(
            lab.check(b, DOWN),
            [
                Removed { pool, target: b },
                QuorumLost {
                    pool,
                    weight_sum: 1,
                    starting: false
                },
                SorryServerIn { pool },
            ]
        );
        assert_eq!(lab.members(), []);
        assert!(lab.table.sorry_server_in(pool));
        // 3 < 3 + 1: still lost; the table still holds only the sorry server.
        assert_eq!(
            lab.check(a, CheckOutcome::Up),
            [Added {
                pool,
                target: a,
                weight: 2
            }]
        );
        assert_eq!(lab.members(), []);
        assert_eq!(lab.m.has_quorum(pool), Some(false));
        // 5 >= 4: gained; the live servers come back.
        assert_eq!(
            lab.check(b, CheckOutcome::Up),
            [
                Added {
                    pool,
                    target: b,
                    weight: 2
                },
                QuorumGained {
                    pool,
                    weight_sum: 5,
                    starting: false
                },
                SorryServerOut { pool },
            ]
        );
        assert_eq!(lab.members(), [(a, 2), (b, 2), (c, 1)]);
        assert!(!lab.table.sorry_server_in(pool));
    }

    #[test]
    fn alpha_pool_starts_with_its_sorry_server() {
        let mut lab = Lab::new(PoolConfig {
            sorry_server: true,
            ..PoolConfig::default()
        });
        let a = lab.checked("a", inhibited(1), true);
        let pool = lab.pool;
        lab.m.commit(Instant::now());
        // In with weight 0 (inhibit_on_failure), then "Starting with
        // quorum down 1-0=1 > 0" and the sorry server.
        assert_eq!(
            lab.drain(),
            [
                Added {
                    pool,
                    target: a,
                    weight: 0
                },
                QuorumLost {
                    pool,
                    weight_sum: 0,
                    starting: true
                },
                SorryServerIn { pool },
            ]
        );
        assert!(lab.table.sorry_server_in(pool));
        assert_eq!(lab.members(), []);
    }

    #[test]
    fn starting_quorum_needs_the_hysteresis_margin() {
        // keepalived's set_quorum_states: up at start only at q + h.
        let mut lab = Lab::new(PoolConfig {
            quorum: 2,
            hysteresis: 1,
            ..PoolConfig::default()
        });
        lab.unchecked("a", 2);
        let pool = lab.pool;
        lab.m.commit(Instant::now());
        assert_eq!(
            lab.drain().last(),
            Some(&QuorumLost {
                pool,
                weight_sum: 2,
                starting: true
            })
        );
        assert_eq!(lab.m.has_quorum(pool), Some(false));
    }

    #[test]
    fn misc_dynamic_weight_and_failure() {
        let mut lab = Lab::new(PoolConfig::default());
        let a = lab.checked("a", MemberConfig::with_weight(1), false);
        let pool = lab.pool;
        lab.m.commit(Instant::now());
        lab.drain();
        assert_eq!(
            lab.check(a, CheckOutcome::UpWithWeight(5)),
            [Reweighted {
                pool,
                target: a,
                from: 1,
                to: 5
            }]
        );
        assert_eq!(lab.members(), [(a, 5)]);
        assert_eq!(
            lab.check(a, CheckOutcome::Down(DownReason::ScriptExit(1))),
            [
                Removed { pool, target: a },
                QuorumLost {
                    pool,
                    weight_sum: 0,
                    starting: false
                },
            ]
        );
        assert_eq!(lab.members(), []);
        assert_eq!(
            lab.check(a, CheckOutcome::UpWithWeight(5)),
            [
                Added {
                    pool,
                    target: a,
                    weight: 5
                },
                QuorumGained {
                    pool,
                    weight_sum: 5,
                    starting: false
                },
            ]
        );
    }

    #[test]
    fn static_targets_are_never_checked_and_keys_lead_back() {
        let mut lab = Lab::new(PoolConfig::default());
        let c = lab.unchecked("10.1.0.3:80", 2);
        lab.m.commit(Instant::now());
        assert_eq!(lab.m.poll_timeout(), None);
        assert_eq!(lab.m.is_up(c), Some(true));
        assert_eq!(lab.m.target_key(c), Some("10.1.0.3:80"));
        assert_eq!(lab.m.target_by_key("10.1.0.3:80"), Some(c));
        let t = lab.checked("tcp 10.1.0.1:80", MemberConfig::default(), true);
        assert_eq!(lab.m.target_config(t).map(|c| c.alpha), Some(true));
        let all: Vec<(TargetId, &str)> = lab.m.targets().collect();
        assert_eq!(all, [(c, "10.1.0.3:80"), (t, "tcp 10.1.0.1:80")]);
    }
}
