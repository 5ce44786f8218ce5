//! Pool state: member weights, `inhibit_on_failure`, quorum with
//! hysteresis, sorry server.

use std::collections::VecDeque;

use crate::{Event, PoolId, TargetId};

/// A pool's settings (keepalived's `virtual_server` options).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PoolConfig {
    /// Minimum sum of live weights for the pool to be up (default 1).
    pub quorum: u64,
    /// Margin around `quorum`: gained at `quorum + hysteresis`, lost below
    /// `quorum - hysteresis` (default 0).
    pub hysteresis: u64,
    /// Whether a sorry server is configured (swapped in while quorum is lost).
    pub sorry_server: bool,
}

impl Default for PoolConfig {
    fn default() -> Self {
        Self {
            quorum: 1,
            hysteresis: 0,
            sorry_server: false,
        }
    }
}

impl PoolConfig {
    /// Defaults with this quorum and hysteresis.
    pub fn with_quorum(quorum: u64, hysteresis: u64) -> Self {
        Self {
            quorum,
            hysteresis,
            ..Self::default()
        }
    }

    /// The same pool with a sorry server.
    pub fn with_sorry_server(mut self) -> Self {
        self.sorry_server = true;
        self
    }
}

/// A member's settings (keepalived's `real_server` options).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MemberConfig {
    /// Configured weight (default 1); a dynamic weight replaces it.
    pub weight: u32,
    /// Keep a failed member in the pool with weight 0 instead of removing it.
    pub inhibit_on_failure: bool,
}

impl Default for MemberConfig {
    fn default() -> Self {
        Self {
            weight: 1,
            inhibit_on_failure: false,
        }
    }
}

impl MemberConfig {
    /// Defaults with this weight.
    pub fn with_weight(weight: u32) -> Self {
        Self {
            weight,
            ..Self::default()
        }
    }
}

#[derive(Debug, Clone)]
struct Member {
    /// The member's identity in events: its first target.
    target: TargetId,
    cfg: MemberConfig,
    /// Every target checking it, with its health: the member is up only
    /// while all are (keepalived's `num_failed_checkers == 0`).
    parts: Vec<(TargetId, bool)>,
    dynamic: Option<u32>,
}

impl Member {
    fn up(&self) -> bool {
        self.parts.iter().all(|&(_, up)| up)
    }

    fn live_weight(&self) -> u32 {
        if self.up() {
            self.dynamic.unwrap_or(self.cfg.weight)
        } else {
            0
        }
    }
}

/// One pool's members and quorum state.
#[derive(Debug, Clone)]
pub(crate) struct Pool {
    id: PoolId,
    cfg: PoolConfig,
    members: Vec<Member>,
    /// `None` until the first evaluation (at commit).
    quorum_up: Option<bool>,
}

impl Pool {
    pub(crate) fn new(id: PoolId, cfg: PoolConfig) -> Self {
        Self {
            id,
            cfg,
            members: Vec::new(),
            quorum_up: None,
        }
    }

    pub(crate) fn has_member(&self, target: TargetId) -> bool {
        self.members.iter().any(|m| m.target == target)
    }

    /// Adds a member checked by `parts` (target, health), the first
    /// naming it; none: nothing to add.
    pub(crate) fn add(
        &mut self,
        parts: Vec<(TargetId, bool)>,
        cfg: MemberConfig,
        dynamic: Option<u32>,
        out: &mut VecDeque<Event>,
    ) {
        let Some(&(target, _)) = parts.first() else {
            return;
        };
        let m = Member {
            target,
            cfg,
            parts,
            dynamic,
        };
        if m.up() || m.cfg.inhibit_on_failure {
            out.push_back(Event::MemberAdd {
                pool: self.id,
                target,
                weight: m.live_weight(),
            });
        }
        self.members.push(m);
        self.evaluate(out);
    }

    /// Removes the member named `target`; returns its targets.
    pub(crate) fn remove(&mut self, target: TargetId, out: &mut VecDeque<Event>) -> Vec<TargetId> {
        let Some(pos) = self.members.iter().position(|m| m.target == target) else {
            return Vec::new();
        };
        let m = self.members.remove(pos);
        if m.up() || m.cfg.inhibit_on_failure {
            out.push_back(Event::MemberRemove {
                pool: self.id,
                target,
            });
        }
        self.evaluate(out);
        m.parts.into_iter().map(|(t, _)| t).collect()
    }

    /// Replaces a member's settings (a reload): emits what changes in
    /// the table (in, out, or a new weight), then re-checks the quorum.
    /// False if `target` is not a member.
    pub(crate) fn reconfigure(
        &mut self,
        target: TargetId,
        cfg: MemberConfig,
        out: &mut VecDeque<Event>,
    ) -> bool {
        self.change(target, |m| m.cfg = cfg, out).is_some()
    }

    /// Gives the member named by the first of `parts` (target, health)
    /// those targets, its dynamic weight and settings in place (a reload
    /// adding or dropping a checker of a kept server): emits only what
    /// changes in the table. Its old targets, or `None` if it is not a
    /// member.
    pub(crate) fn relay(
        &mut self,
        parts: Vec<(TargetId, bool)>,
        cfg: MemberConfig,
        dynamic: Option<u32>,
        out: &mut VecDeque<Event>,
    ) -> Option<Vec<TargetId>> {
        let &(target, _) = parts.first()?;
        let mut old = Vec::new();
        self.change(
            target,
            |m| {
                old = std::mem::replace(&mut m.parts, parts);
                m.dynamic = dynamic;
                m.cfg = cfg;
            },
            out,
        )?;
        Some(old.into_iter().map(|(t, _)| t).collect())
    }

    /// Changes the member named `target` with `f` and emits what that
    /// changes in the table, then re-checks the quorum.
    fn change(
        &mut self,
        target: TargetId,
        f: impl FnOnce(&mut Member),
        out: &mut VecDeque<Event>,
    ) -> Option<()> {
        let pool = self.id;
        let m = self.members.iter_mut().find(|m| m.target == target)?;
        let shown = |m: &Member| m.up() || m.cfg.inhibit_on_failure;
        let (was_shown, old) = (shown(m), m.live_weight());
        f(m);
        let (is_shown, new) = (shown(m), m.live_weight());
        out.extend(match (was_shown, is_shown) {
            (false, true) => Some(Event::MemberAdd {
                pool,
                target,
                weight: new,
            }),
            (true, false) => Some(Event::MemberRemove { pool, target }),
            (true, true) if old != new => Some(Event::MemberWeight {
                pool,
                target,
                weight: new,
            }),
            _ => None,
        });
        self.evaluate(out);
        Some(())
    }

    /// Applies a target's new health and dynamic weight to the members it
    /// checks.
    pub(crate) fn update(
        &mut self,
        target: TargetId,
        up: bool,
        dynamic: Option<u32>,
        out: &mut VecDeque<Event>,
    ) {
        let pool = self.id;
        for m in &mut self.members {
            if !m.parts.iter().any(|&(t, _)| t == target) {
                continue;
            }
            let (was_up, old) = (m.up(), m.live_weight());
            for part in m.parts.iter_mut().filter(|(t, _)| *t == target) {
                part.1 = up;
            }
            // Another checker's lack of a dynamic weight keeps this one's.
            if dynamic.is_some() || m.parts.len() == 1 {
                m.dynamic = dynamic;
            }
            let (up, target) = (m.up(), m.target);
            let new = m.live_weight();
            let ev = match (was_up, up, m.cfg.inhibit_on_failure) {
                (false, true, false) => Some(Event::MemberAdd {
                    pool,
                    target,
                    weight: new,
                }),
                (true, false, false) => Some(Event::MemberRemove { pool, target }),
                (false, false, _) => None,
                _ if old != new => Some(Event::MemberWeight {
                    pool,
                    target,
                    weight: new,
                }),
                _ => None,
            };
            out.extend(ev);
        }
        self.evaluate(out);
    }

    /// Sum of live weights.
    pub(crate) fn weight_sum(&self) -> u64 {
        self.members
            .iter()
            .map(|m| u64::from(m.live_weight()))
            .sum()
    }

    /// Starts quorum tracking (at commit) and re-checks it afterwards.
    pub(crate) fn commit(&mut self, out: &mut VecDeque<Event>) {
        if self.quorum_up.is_none() {
            // keepalived's set_quorum_states: a pool starts up only at
            // quorum + hysteresis.
            let sum = self.weight_sum();
            let up = sum > 0 && sum >= self.cfg.quorum.saturating_add(self.cfg.hysteresis);
            self.quorum_up = Some(up);
            let pool = self.id;
            if up {
                // Nothing to take out yet: no sorry-server event.
                out.push_back(Event::QuorumGained {
                    pool,
                    weight_sum: sum,
                });
            } else {
                self.announce(false, sum, out);
            }
        }
    }

    fn evaluate(&mut self, out: &mut VecDeque<Event>) {
        let Some(up) = self.quorum_up else { return };
        let sum = self.weight_sum();
        let (q, h) = (self.cfg.quorum, self.cfg.hysteresis);
        let now_up = if up {
            !(sum == 0 || sum.saturating_add(h) < q)
        } else {
            sum > 0 && sum >= q.saturating_add(h)
        };
        if now_up != up {
            self.quorum_up = Some(now_up);
            self.announce(now_up, sum, out);
        }
    }

    fn announce(&self, up: bool, weight_sum: u64, out: &mut VecDeque<Event>) {
        let pool = self.id;
        if up {
            out.push_back(Event::QuorumGained { pool, weight_sum });
            if self.cfg.sorry_server {
                out.push_back(Event::SorryServerOut { pool });
            }
        } else {
            out.push_back(Event::QuorumLost { pool, weight_sum });
            if self.cfg.sorry_server {
                out.push_back(Event::SorryServerIn { pool });
            }
        }
    }

    /// Whether the pool currently has quorum (`None` before commit).
    pub(crate) fn quorum_up(&self) -> Option<bool> {
        self.quorum_up
    }
}
