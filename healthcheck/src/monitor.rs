//! The sans-IO monitor: targets, their schedule, pools, and the event queue.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use crate::hysteresis::Health;
use crate::pool::Pool;
use crate::reconcile::Reconciled;
use crate::schedule::{later, mix, Grid};
use crate::target::{Change, CycleState, Step};
use crate::{
    CheckOutcome, Event, MemberConfig, PoolConfig, PoolId, TargetConfig, TargetId, UrlSpan,
};

mod epilog;
mod migrate;
mod server;

/// Settings of the whole monitor.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MonitorConfig {
    /// Seed for the stagger, the jitter and warmup (deterministic runs).
    pub seed: u64,
    /// Per-interval jitter as a fraction of the interval (default 0.1).
    pub jitter: f64,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        Self {
            seed: 0x6b65_6570_616c_6976,
            jitter: 0.1,
        }
    }
}

/// Why the monitor refused a call. Nothing changed when this is returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// No such target (never added, or removed).
    #[error("unknown target")]
    UnknownTarget,
    /// No such pool.
    #[error("unknown pool")]
    UnknownPool,
    /// The target is already a member of this pool.
    #[error("target already in pool")]
    DuplicateMember,
    /// An outcome arrived for a target with no check in flight.
    #[error("no check in flight for this target")]
    NotInFlight,
    /// The target is still a member of a pool.
    #[error("target still used by a pool")]
    StillMember,
}

/// A check the driver must start now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Due {
    /// The target to check.
    pub target: TargetId,
    /// When the check was scheduled (jitter included): the driver's
    /// lateness is its start time minus this.
    pub scheduled: Instant,
    /// Which urls the check covers (the driver passes it in
    /// [`crate::CheckContext::urls`]): keepalived's HTTP url cursor.
    pub urls: UrlSpan,
}

#[derive(Debug)]
struct Target {
    key: String,
    cfg: TargetConfig,
    state: CycleState,
    refs: u32,
    /// (group, index in group) once committed.
    place: Option<(usize, u64)>,
    in_flight: bool,
    /// Bumped on every reschedule so stale heap entries are skipped.
    generation: u64,
    scheduled: Option<Instant>,
    pools: Vec<PoolId>,
    /// A check has ended a cycle (keepalived's `has_run`).
    ran: bool,
}

/// Health-check bookkeeping for many targets and pools, with time injected.
///
/// Polling contract: after any call, drain [`Monitor::poll_event`]; start
/// every check [`Monitor::poll_check`] returns at `now`; sleep until
/// [`Monitor::poll_timeout`]; feed each result to
/// [`Monitor::handle_outcome`]. A target never has two checks in flight.
#[derive(Debug)]
pub struct Monitor {
    cfg: MonitorConfig,
    targets: Vec<Option<Target>>,
    keys: HashMap<String, TargetId>,
    pools: Vec<Pool>,
    groups: Vec<Grid>,
    /// Grids made so far (each one's seed), never reused after a
    /// compaction.
    grids_made: u64,
    pending: Vec<TargetId>,
    queue: BinaryHeap<Reverse<(Instant, u32, u64)>>,
    events: VecDeque<Event>,
    /// Emit [`Event::FirstCheck`] (see [`Monitor::report_first_checks`]).
    first_checks: bool,
    /// What [`Monitor::reconcile`] laid last.
    pub(crate) reconciled: Reconciled,
}

/// A member's targets, each with whether it is up.
type Parts = Vec<(TargetId, bool)>;

impl Monitor {
    /// An empty monitor.
    pub fn new(cfg: MonitorConfig) -> Self {
        Self {
            cfg,
            targets: Vec::new(),
            keys: HashMap::new(),
            pools: Vec::new(),
            groups: Vec::new(),
            grids_made: 0,
            pending: Vec::new(),
            queue: BinaryHeap::new(),
            events: VecDeque::new(),
            first_checks: false,
            reconciled: Reconciled::default(),
        }
    }

    /// Also emit [`Event::FirstCheck`] from now on, for a driver that logs
    /// each checker's first result as keepalived does (off by default: the
    /// event changes nothing in any pool).
    pub fn report_first_checks(&mut self) {
        self.first_checks = true;
    }

    /// Adds a target identified by `key` (e.g. `"tcp 10.0.0.1:80"`). Adding
    /// an existing key returns the same id: identical checks share one
    /// probe, whatever number of pools subscribe to it. The first `cfg` wins.
    /// The target is scheduled at the next [`Monitor::commit`].
    pub fn add_target(&mut self, key: impl Into<String>, cfg: TargetConfig) -> TargetId {
        self.insert_target(key.into(), cfg, true)
    }

    /// Adds a target that is never checked and always up: keepalived's
    /// real server without a checker, which still counts in its virtual
    /// server's quorum. Keys are shared with [`Monitor::add_target`].
    pub fn add_static_target(&mut self, key: impl Into<String>) -> TargetId {
        self.insert_target(key.into(), TargetConfig::default(), false)
    }

    fn insert_target(&mut self, key: String, cfg: TargetConfig, checked: bool) -> TargetId {
        if let Some(&id) = self.keys.get(&key) {
            if let Some(t) = self.target_mut(id) {
                t.refs += 1;
            }
            return id;
        }
        let id = TargetId(u32::try_from(self.targets.len()).unwrap_or(u32::MAX));
        self.targets.push(Some(Target {
            key: key.clone(),
            state: CycleState::new(&cfg),
            cfg,
            refs: 1,
            place: None,
            in_flight: false,
            generation: 0,
            scheduled: None,
            pools: Vec::new(),
            ran: false,
        }));
        self.keys.insert(key, id);
        if checked {
            self.pending.push(id);
        }
        id
    }

    /// Drops one reference to a target; the last one stops its checks.
    pub fn remove_target(&mut self, id: TargetId) -> Result<(), MonitorError> {
        let t = self.target_mut(id).ok_or(MonitorError::UnknownTarget)?;
        if t.refs > 1 {
            t.refs -= 1;
            return Ok(());
        }
        if !t.pools.is_empty() {
            return Err(MonitorError::StillMember);
        }
        let key = t.key.clone();
        self.keys.remove(&key);
        self.pending.retain(|&p| p != id);
        if let Some(slot) = self.targets.get_mut(id.0 as usize) {
            *slot = None;
        }
        Ok(())
    }

    /// Adds a pool.
    pub fn add_pool(&mut self, cfg: PoolConfig) -> PoolId {
        let id = PoolId(u32::try_from(self.pools.len()).unwrap_or(u32::MAX));
        self.pools.push(Pool::new(id, cfg));
        id
    }

    /// Makes a target a member of a pool (emits `MemberAdd` if it is up or
    /// inhibited).
    pub fn add_member(
        &mut self,
        pool: PoolId,
        target: TargetId,
        cfg: MemberConfig,
    ) -> Result<(), MonitorError> {
        self.add_member_checked_by(pool, &[target], cfg)
    }

    /// Each of `targets` with whether it is up, and the dynamic weight of
    /// the first one reporting one: a member's parts.
    pub(crate) fn parts_of(
        &self,
        targets: &[TargetId],
    ) -> Result<(Parts, Option<u32>), MonitorError> {
        let mut parts = Vec::with_capacity(targets.len());
        let mut dynamic = None;
        for &id in targets {
            let t = self.target(id).ok_or(MonitorError::UnknownTarget)?;
            parts.push((id, t.state.health() == Health::Up));
            dynamic = dynamic.or(t.state.weight());
        }
        Ok((parts, dynamic))
    }

    /// Adds a member checked by several targets (keepalived's real server
    /// with several checkers): up only while every one of them is. The
    /// first target names the member in events and in
    /// [`Monitor::remove_member`]; a dynamic weight comes from whichever
    /// target reports one.
    pub fn add_member_checked_by(
        &mut self,
        pool: PoolId,
        targets: &[TargetId],
        cfg: MemberConfig,
    ) -> Result<(), MonitorError> {
        let (parts, dynamic) = self.parts_of(targets)?;
        let first = targets
            .first()
            .copied()
            .ok_or(MonitorError::UnknownTarget)?;
        let p = self
            .pools
            .get_mut(pool.0 as usize)
            .ok_or(MonitorError::UnknownPool)?;
        if p.has_member(first) {
            return Err(MonitorError::DuplicateMember);
        }
        p.add(parts, cfg, dynamic, &mut self.events);
        for &id in targets {
            if let Some(t) = self.target_mut(id) {
                if !t.pools.contains(&pool) {
                    t.pools.push(pool);
                }
            }
        }
        Ok(())
    }

    /// Takes a target out of a pool (emits `MemberRemove` if it was in).
    pub fn remove_member(&mut self, pool: PoolId, target: TargetId) -> Result<(), MonitorError> {
        let p = self
            .pools
            .get_mut(pool.0 as usize)
            .ok_or(MonitorError::UnknownPool)?;
        if !p.has_member(target) {
            return Err(MonitorError::UnknownTarget);
        }
        for part in p.remove(target, &mut self.events) {
            if let Some(t) = self.target_mut(part) {
                t.pools.retain(|&q| q != pool);
            }
        }
        Ok(())
    }

    /// Replaces a member's settings in place (a reload changing a
    /// weight or `inhibit_on_failure`): the target keeps its health, and
    /// only the resulting change is emitted (`MemberWeight`, or
    /// `MemberAdd`/`MemberRemove` when inhibition shows or hides it).
    pub fn set_member_config(
        &mut self,
        pool: PoolId,
        target: TargetId,
        cfg: MemberConfig,
    ) -> Result<(), MonitorError> {
        let p = self
            .pools
            .get_mut(pool.0 as usize)
            .ok_or(MonitorError::UnknownPool)?;
        if p.reconfigure(target, cfg, &mut self.events) {
            Ok(())
        } else {
            Err(MonitorError::UnknownTarget)
        }
    }

    /// Forgets the checks in flight, whose results will never come (their
    /// driver was stopped to reconfigure the monitor): each such target is
    /// checked again at `now`, its health and retry state unchanged.
    pub fn requeue_in_flight(&mut self, now: Instant) {
        let stuck: Vec<TargetId> = self
            .targets()
            .map(|(id, _)| id)
            .filter(|&id| self.target(id).is_some_and(|t| t.in_flight))
            .collect();
        for id in stuck {
            if let Some(t) = self.target_mut(id) {
                t.in_flight = false;
            }
            self.schedule_at(id, now);
        }
    }

    /// Schedules every target added since the last commit, spread evenly
    /// over its interval from `now`, and starts quorum tracking of new pools.
    pub fn commit(&mut self, now: Instant) {
        let mut by_interval: Vec<(Duration, Vec<TargetId>)> = Vec::new();
        for id in std::mem::take(&mut self.pending) {
            let Some(t) = self.target(id) else { continue };
            let iv = t.cfg.interval;
            match by_interval.iter_mut().find(|(i, _)| *i == iv) {
                Some((_, v)) => v.push(id),
                None => by_interval.push((iv, vec![id])),
            }
        }
        for (interval, ids) in by_interval {
            let g = self.add_grid(now, interval, ids.len() as u64);
            for (i, id) in ids.into_iter().enumerate() {
                let warm = self.warmup_delay(id);
                if let Some(t) = self.target_mut(id) {
                    t.place = Some((g, i as u64));
                }
                self.reschedule(id, None, later(now, warm));
            }
        }
        for p in &mut self.pools {
            p.commit(&mut self.events);
        }
        self.compact_grids();
    }

    /// A new grid of `members` slots over `interval` from `start`; its
    /// index.
    fn add_grid(&mut self, start: Instant, interval: Duration, members: u64) -> usize {
        let seed = mix(self.cfg.seed ^ self.grids_made);
        self.grids_made += 1;
        let grid = Grid::new(start, interval, members, self.cfg.jitter, seed);
        self.groups.push(grid);
        self.groups.len() - 1
    }

    /// Drops the grids no target is placed on any more (removed targets
    /// and new intervals leave them behind on reloads), so that many
    /// reloads do not pile them up; every target keeps its slot.
    fn compact_grids(&mut self) {
        let mut used = vec![false; self.groups.len()];
        for (g, _) in self.targets.iter().flatten().filter_map(|t| t.place) {
            if let Some(u) = used.get_mut(g) {
                *u = true;
            }
        }
        if used.iter().all(|u| *u) {
            return;
        }
        let mut remap = Vec::with_capacity(used.len());
        let mut kept = 0;
        for &u in &used {
            remap.push(kept);
            kept += usize::from(u);
        }
        let mut flags = used.iter();
        self.groups
            .retain(|_| flags.next().copied().unwrap_or(true));
        for t in self.targets.iter_mut().flatten() {
            if let Some((g, _)) = &mut t.place {
                *g = remap.get(*g).copied().unwrap_or(*g);
            }
        }
    }

    fn warmup_delay(&self, id: TargetId) -> Duration {
        let Some(t) = self.target(id) else {
            return Duration::ZERO;
        };
        let max = u64::try_from(t.cfg.warmup.as_nanos()).unwrap_or(u64::MAX);
        if max == 0 {
            return Duration::ZERO;
        }
        Duration::from_nanos(mix(self.cfg.seed ^ mix(u64::from(id.0) ^ 0x5741_524d)) % max)
    }

    /// Puts the target's next regular check in the queue.
    fn reschedule(&mut self, id: TargetId, after: Option<Instant>, not_before: Instant) {
        let Some(t) = self.target(id) else { return };
        let Some((g, i)) = t.place else { return };
        let Some(grid) = self.groups.get(g) else {
            return;
        };
        let at = grid.next_after(i, after, not_before);
        self.schedule_at(id, at);
    }

    fn schedule_at(&mut self, id: TargetId, at: Instant) {
        if let Some(t) = self.target_mut(id) {
            t.generation += 1;
            t.scheduled = Some(at);
            let g = t.generation;
            self.queue.push(Reverse((at, id.0, g)));
        }
    }

    /// The next check due at or before `now`, if any; it is now in flight.
    pub fn poll_check(&mut self, now: Instant) -> Option<Due> {
        while let Some(&Reverse((at, idx, gen))) = self.queue.peek() {
            if at > now {
                return None;
            }
            self.queue.pop();
            let id = TargetId(idx);
            if let Some(t) = self.target_mut(id) {
                if t.generation == gen && !t.in_flight {
                    t.in_flight = true;
                    return Some(Due {
                        target: id,
                        scheduled: at,
                        urls: t.state.span(),
                    });
                }
            }
        }
        None
    }

    /// When the next check is due (the driver sleeps until then).
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(&Reverse((at, idx, gen))) = self.queue.peek() {
            match self.target(TargetId(idx)) {
                Some(t) if t.generation == gen && !t.in_flight => return Some(at),
                _ => {
                    self.queue.pop();
                }
            }
        }
        None
    }

    /// The next pending event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// Feeds the result of the in-flight check of `target`, finished at `now`.
    pub fn handle_outcome(
        &mut self,
        now: Instant,
        target: TargetId,
        outcome: CheckOutcome,
    ) -> Result<(), MonitorError> {
        let t = self.target_mut(target).ok_or(MonitorError::UnknownTarget)?;
        if !t.in_flight {
            return Err(MonitorError::NotInFlight);
        }
        t.in_flight = false;
        if outcome == CheckOutcome::Skipped {
            if t.state.steps() {
                let at = epilog::skipped(now, &t.cfg);
                self.schedule_at(target, at);
                return Ok(());
            }
            let after = t.scheduled.map_or(now, |s| s.max(now));
            self.reschedule(target, Some(after), now);
            return Ok(());
        }
        let watched = t.cfg.log_all_failures && t.state.health() == Health::Up;
        let span = t.state.span();
        let passed = (t.cfg.confirm_recovery && t.state.health() == Health::Down)
            .then(|| t.state.urls_passed(&outcome))
            .flatten()
            .map(|(from, until)| Event::UrlsPassed {
                target,
                from,
                until,
            });
        let retry = t.state.retries_made();
        let step = t.state.record(&outcome);
        self.events.extend(passed);
        if let (Some(reason), true) = (outcome.down_reason(), watched) {
            self.events.push_back(Event::AttemptFailed {
                target,
                reason: reason.clone(),
                retry,
                last: step != Step::Retry,
            });
        }
        if step == Step::Confirm {
            let url = span.first();
            self.events.push_back(Event::FailureCleared { target, url });
        }
        self.schedule_step(now, target, &step, span, &outcome);
        if let Step::Done(change) = step {
            self.first_check(target, &outcome, change.as_ref());
            if let Some(change) = change {
                self.apply(target, change);
            }
        }
        Ok(())
    }

    /// Schedules what follows `step` of an attempt over `span` that ended
    /// at `now` with `outcome`. A stepping target follows keepalived's
    /// `epilog` from `now` ([`epilog::next_step`]). Any other: a retry or
    /// resumed attempt after `delay_before_retry`, a confirming one at once
    /// with `fast_recovery`, else the target's next regular slot, not
    /// before the retry delay for a failed url.
    fn schedule_step(
        &mut self,
        now: Instant,
        id: TargetId,
        step: &Step,
        span: UrlSpan,
        outcome: &CheckOutcome,
    ) {
        let Some(t) = self.target(id) else { return };
        if t.state.steps() {
            let at = epilog::next_step(now, &t.cfg, &t.state, outcome.is_up());
            self.schedule_at(id, at);
            return;
        }
        let retry_delay = t.cfg.delay_before_retry;
        let after = t.scheduled.map_or(now, |s| s.max(now));
        let fast = t.cfg.fast_recovery;
        // A failed url checked again waits the longer of the interval and
        // the retry delay (epilog's failed_url).
        let failed_url = matches!(span, UrlSpan::Only(_)) && !outcome.is_up();
        match step {
            // keepalived goes on at once with fast_recovery, without end
            // while the url fails: the retry delay spares a busy loop.
            Step::Retry | Step::Resume => self.schedule_at(id, later(now, retry_delay)),
            Step::Confirm if fast => self.schedule_at(id, now),
            Step::Confirm | Step::Next | Step::Done(_) => {
                let not_before = if failed_url && !matches!(step, Step::Confirm) {
                    later(now, retry_delay)
                } else {
                    now
                };
                self.reschedule(id, Some(after), not_before);
            }
        }
    }

    /// Marks the target as run; its first cycle says its result even when
    /// its health stays (keepalived logs it while `has_run` is unset).
    fn first_check(&mut self, id: TargetId, outcome: &CheckOutcome, change: Option<&Change>) {
        let Some(t) = self.target_mut(id) else { return };
        let first = !std::mem::replace(&mut t.ran, true);
        let changed = matches!(change, Some(Change::Up | Change::Down(_)));
        if !first || changed || !self.first_checks {
            return;
        }
        let reason = outcome.down_reason().cloned();
        self.events
            .push_back(Event::FirstCheck { target: id, reason });
    }

    fn apply(&mut self, id: TargetId, change: Change) {
        let Some(t) = self.target(id) else { return };
        let up = t.state.health() == Health::Up;
        let weight = t.state.weight();
        let pools = t.pools.clone();
        self.events.push_back(match change {
            Change::Up => Event::TargetUp { target: id },
            Change::Down(reason) => Event::TargetDown { target: id, reason },
            Change::Weight(weight) => Event::TargetWeight { target: id, weight },
        });
        for p in pools {
            if let Some(pool) = self.pools.get_mut(p.0 as usize) {
                pool.update(id, up, weight, &mut self.events);
            }
        }
    }

    /// The key a target was added with: the way back from an event's
    /// [`TargetId`] to what it checks (encode whatever the embedder needs
    /// to find its own record, e.g. `"tcp 10.0.0.1:80"` or an index).
    pub fn target_key(&self, id: TargetId) -> Option<&str> {
        self.target(id).map(|t| t.key.as_str())
    }

    /// The configuration a target was added with.
    pub fn target_config(&self, id: TargetId) -> Option<&TargetConfig> {
        self.target(id).map(|t| &t.cfg)
    }

    /// Every live target and its key, in id order: a snapshot to take
    /// before handing the monitor to a driver that runs it elsewhere.
    pub fn targets(&self) -> impl Iterator<Item = (TargetId, &str)> + '_ {
        self.targets.iter().enumerate().filter_map(|(i, t)| {
            let t = t.as_ref()?;
            Some((TargetId(u32::try_from(i).ok()?), t.key.as_str()))
        })
    }

    /// The target with this key, if any.
    pub fn target_by_key(&self, key: &str) -> Option<TargetId> {
        self.keys.get(key).copied()
    }

    /// Whether the target is currently counted as up.
    pub fn is_up(&self, id: TargetId) -> Option<bool> {
        self.target(id).map(|t| t.state.health() == Health::Up)
    }

    /// The sum of live member weights of a pool.
    pub fn weight_sum(&self, pool: PoolId) -> Option<u64> {
        self.pools.get(pool.0 as usize).map(Pool::weight_sum)
    }

    /// Whether the pool has quorum (`None` before its first commit).
    pub fn has_quorum(&self, pool: PoolId) -> Option<bool> {
        self.pools.get(pool.0 as usize).and_then(Pool::quorum_up)
    }

    /// The number of live targets (shared probes count once).
    pub fn target_count(&self) -> usize {
        self.keys.len()
    }

    fn target(&self, id: TargetId) -> Option<&Target> {
        self.targets.get(id.0 as usize).and_then(Option::as_ref)
    }

    fn target_mut(&mut self, id: TargetId) -> Option<&mut Target> {
        self.targets.get_mut(id.0 as usize).and_then(Option::as_mut)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::*;
    use crate::{CheckOutcome, PoolConfig};

    pub(super) fn drain(m: &mut Monitor) -> Vec<Event> {
        std::iter::from_fn(|| m.poll_event()).collect()
    }

    /// One committed pool with one up member of weight 2.
    fn one_member() -> (Monitor, PoolId, TargetId, Instant) {
        let mut m = Monitor::new(MonitorConfig::default());
        let cfg = TargetConfig {
            retry: 0,
            ..TargetConfig::default()
        };
        let t = m.add_target("t", cfg);
        let p = m.add_pool(PoolConfig::with_quorum(2, 0));
        m.add_member(p, t, MemberConfig::with_weight(2)).unwrap();
        let now = Instant::now();
        m.commit(now);
        drain(&mut m);
        (m, p, t, now)
    }

    #[test]
    fn member_reweight_keeps_health_and_tracks_quorum() {
        let (mut m, p, t, _) = one_member();
        m.set_member_config(p, t, MemberConfig::with_weight(5))
            .unwrap();
        assert_eq!(
            drain(&mut m),
            [Event::MemberWeight {
                pool: p,
                target: t,
                weight: 5
            }]
        );
        m.set_member_config(p, t, MemberConfig::with_weight(1))
            .unwrap();
        assert_eq!(
            drain(&mut m),
            [
                Event::MemberWeight {
                    pool: p,
                    target: t,
                    weight: 1
                },
                Event::QuorumLost {
                    pool: p,
                    weight_sum: 1
                }
            ]
        );
        assert_eq!(m.is_up(t), Some(true));
        // Same settings: nothing to say.
        m.set_member_config(p, t, MemberConfig::with_weight(1))
            .unwrap();
        assert_eq!(drain(&mut m), []);
        assert_eq!(
            m.set_member_config(p, TargetId(9), MemberConfig::default()),
            Err(MonitorError::UnknownTarget)
        );
    }

    #[test]
    fn a_skipped_check_changes_nothing_and_comes_back_an_interval_later() {
        let (mut m, _, t, now) = one_member();
        let due = m.poll_check(now + Duration::from_secs(3600)).unwrap();
        let at = due.scheduled;
        m.handle_outcome(at, t, CheckOutcome::Skipped).unwrap();
        assert_eq!(drain(&mut m), []);
        assert_eq!(m.is_up(t), Some(true));
        let next = m.poll_check(at + Duration::from_secs(3600)).unwrap();
        let interval = m.target_config(t).unwrap().interval;
        assert_eq!(next.scheduled, at + interval);
        // A real failure still counts afterwards.
        let down = CheckOutcome::Down(crate::DownReason::Refused);
        m.handle_outcome(next.scheduled, t, down).unwrap();
        assert_eq!(m.is_up(t), Some(false));
    }

    #[test]
    fn inhibition_added_to_a_down_member_shows_it_with_weight_0() {
        let (mut m, p, t, now) = one_member();
        let due = m.poll_check(now + Duration::from_secs(3600)).unwrap();
        m.handle_outcome(
            now,
            due.target,
            CheckOutcome::Down(crate::DownReason::Refused),
        )
        .unwrap();
        drain(&mut m);
        let mut cfg = MemberConfig::with_weight(2);
        cfg.inhibit_on_failure = true;
        m.set_member_config(p, t, cfg).unwrap();
        assert_eq!(
            drain(&mut m),
            [Event::MemberAdd {
                pool: p,
                target: t,
                weight: 0
            }]
        );
    }

    /// Runs the next check of `t` (due within an hour of `at`) with `o`;
    /// the events it caused.
    fn one_check(m: &mut Monitor, t: TargetId, at: &mut Instant, o: CheckOutcome) -> Vec<Event> {
        *at += Duration::from_secs(3600);
        let due = m.poll_check(*at).unwrap();
        assert_eq!(due.target, t);
        m.handle_outcome(*at, t, o).unwrap();
        drain(m)
    }

    /// With first checks reported, a target's first cycle is said when it
    /// changes no health (a pass while up, a failure while `alpha`), and
    /// only the first; without, nothing.
    #[test]
    fn first_check_is_reported_once_when_health_stays() {
        let refused = crate::DownReason::Refused;
        for (alpha, outcome, want) in [
            (false, CheckOutcome::Up, Some(None)),
            (
                true,
                CheckOutcome::Down(refused.clone()),
                Some(Some(refused.clone())),
            ),
            // A change of health is its own event.
            (false, CheckOutcome::Down(refused.clone()), None),
            (true, CheckOutcome::Up, None),
        ] {
            for report in [false, true] {
                let mut m = Monitor::new(MonitorConfig::default());
                if report {
                    m.report_first_checks();
                }
                let cfg = TargetConfig {
                    alpha,
                    retry: 0,
                    ..TargetConfig::default()
                };
                let t = m.add_target("t", cfg);
                let mut at = Instant::now();
                m.commit(at);
                drain(&mut m);
                let evs = one_check(&mut m, t, &mut at, outcome.clone());
                let first: Vec<_> = evs
                    .iter()
                    .filter(|e| matches!(e, Event::FirstCheck { .. }))
                    .cloned()
                    .collect();
                let want: Vec<_> = want
                    .clone()
                    .filter(|_| report)
                    .map(|reason| Event::FirstCheck { target: t, reason })
                    .into_iter()
                    .collect();
                assert_eq!(first, want, "alpha {alpha} {outcome:?} report {report}");
                // The same result again says nothing.
                let evs = one_check(&mut m, t, &mut at, outcome.clone());
                assert_eq!(evs, [], "alpha {alpha} {outcome:?} report {report}");
            }
        }
    }

    #[test]
    fn log_all_failures_reports_each_failed_attempt_of_a_healthy_target() {
        let down = |r: crate::DownReason| CheckOutcome::Down(r);
        for log_all_failures in [false, true] {
            let mut m = Monitor::new(MonitorConfig::default());
            let cfg = TargetConfig {
                retry: 1,
                log_all_failures,
                ..TargetConfig::default()
            };
            let t = m.add_target("t", cfg);
            let mut at = Instant::now();
            m.commit(at);
            drain(&mut m);
            let failed = |reason, retry, last| Event::AttemptFailed {
                target: t,
                reason,
                retry,
                last,
            };
            let on = |e: Event| if log_all_failures { vec![e] } else { vec![] };
            // A first success earns the retry.
            assert_eq!(one_check(&mut m, t, &mut at, CheckOutcome::Up), []);
            // The regular attempt fails: a retry follows.
            let timeout = crate::DownReason::Timeout;
            let evs = one_check(&mut m, t, &mut at, down(timeout.clone()));
            assert_eq!(evs, on(failed(timeout, 0, false)));
            // The retry fails too: the target goes down after its line.
            let refused = crate::DownReason::Refused;
            let evs = one_check(&mut m, t, &mut at, down(refused.clone()));
            let mut want = on(failed(refused.clone(), 1, true));
            want.push(Event::TargetDown {
                target: t,
                reason: refused.clone(),
            });
            assert_eq!(evs, want);
            // A down target's failures are not reported.
            assert_eq!(one_check(&mut m, t, &mut at, down(refused)), []);
        }
    }

    /// keepalived's HTTP recovery (`failed_url`): after a failure took the
    /// target down, a pass only clears it and the next pass brings it up;
    /// with `fast_recovery` that next attempt is due at once, without it a
    /// whole interval later.
    #[test]
    fn fast_recovery_confirms_at_once() {
        let interval = Duration::from_secs(10);
        for fast_recovery in [false, true] {
            let mut m = Monitor::new(MonitorConfig::default());
            let cfg = TargetConfig {
                retry: 0,
                confirm_recovery: true,
                fast_recovery,
                ..TargetConfig::with_interval(interval)
            };
            let t = m.add_target("t", cfg);
            let mut at = Instant::now();
            m.commit(at);
            drain(&mut m);
            let refused = crate::DownReason::Refused;
            let at_url = |url| CheckOutcome::UrlDown {
                url,
                reason: refused.clone(),
            };
            // Down at url 1; then only url 1 is checked.
            let down = Event::TargetDown {
                target: t,
                reason: refused.clone(),
            };
            assert_eq!(
                attempt(&mut m, &mut at, None, at_url(1)),
                (UrlSpan::From(0), vec![down])
            );
            assert_eq!(
                attempt(&mut m, &mut at, None, at_url(1)),
                (UrlSpan::Only(1), vec![])
            );
            // It passes: the failure is cleared, still down.
            let cleared = vec![Event::FailureCleared { target: t, url: 1 }];
            let up = CheckOutcome::Up;
            assert_eq!(
                attempt(&mut m, &mut at, None, up.clone()),
                (UrlSpan::Only(1), cleared)
            );
            assert_eq!(m.is_up(t), Some(false));
            // The confirming pass, at once or an interval later, fails at
            // url 2: urls 0 and 1 passed.
            let next = if fast_recovery { at } else { at + interval };
            let passed = |from, until| Event::UrlsPassed {
                target: t,
                from,
                until,
            };
            let got = attempt(&mut m, &mut at, Some(next), at_url(2));
            assert_eq!(got, (UrlSpan::From(0), vec![passed(0, Some(2))]));
            // It goes on from url 2 a retry delay later, fast or not.
            let next = at + TargetConfig::default().delay_before_retry;
            let got = attempt(&mut m, &mut at, Some(next), at_url(2));
            assert_eq!(got, (UrlSpan::From(2), vec![]));
            let next = at + TargetConfig::default().delay_before_retry;
            let got = attempt(&mut m, &mut at, Some(next), up.clone());
            let came_up = vec![passed(2, None), Event::TargetUp { target: t }];
            assert_eq!(
                got,
                (UrlSpan::From(2), came_up),
                "fast_recovery {fast_recovery}"
            );
            // Up: every url, and a pass says nothing.
            assert_eq!(
                attempt(&mut m, &mut at, None, up),
                (UrlSpan::From(0), vec![])
            );
        }
    }

    /// A down server's failed url, failing again, is checked again after
    /// the longer of the interval and `delay_before_retry` (on the grid).
    #[test]
    fn a_failed_url_waits_the_longer_of_interval_and_retry_delay() {
        let interval = Duration::from_secs(10);
        let mut m = Monitor::new(MonitorConfig::default());
        let cfg = TargetConfig {
            retry: 0,
            confirm_recovery: true,
            delay_before_retry: Duration::from_secs(25),
            ..TargetConfig::with_interval(interval)
        };
        m.add_target("t", cfg);
        let mut at = Instant::now();
        m.commit(at);
        drain(&mut m);
        let fails = || CheckOutcome::Down(crate::DownReason::Refused);
        assert_eq!(attempt(&mut m, &mut at, None, fails()).0, UrlSpan::From(0));
        // Down: the failed url is next, a regular interval later.
        let next = m.poll_timeout().unwrap();
        assert!(
            next > at && next <= at + interval + interval / 2,
            "{:?}",
            next - at
        );
        assert_eq!(attempt(&mut m, &mut at, None, fails()).0, UrlSpan::Only(0));
        // Failing again: not before the retry delay, at the grid slot after.
        let next = m.poll_timeout().unwrap();
        let wait = next - at;
        assert!(
            wait >= Duration::from_secs(25) && wait < Duration::from_secs(25) + interval,
            "{wait:?}"
        );
    }

    /// One check of the monitor's only target: due at `due` (checked)
    /// or whenever it is, finished at once with `o`. Returns the urls it
    /// was to check and the events.
    pub(super) fn attempt(
        m: &mut Monitor,
        at: &mut Instant,
        due: Option<Instant>,
        o: CheckOutcome,
    ) -> (UrlSpan, Vec<Event>) {
        let next = m.poll_timeout().unwrap();
        if let Some(due) = due {
            assert_eq!(next, due);
        }
        *at = next;
        let d = m.poll_check(next).unwrap();
        m.handle_outcome(next, d.target, o).unwrap();
        (d.urls, drain(m))
    }

    /// Each failed attempt says where it stands in its cycle: the
    /// retries already made, and whether it is the last.
    #[test]
    fn attempt_failed_counts_the_retries_of_its_cycle() {
        let mut m = Monitor::new(MonitorConfig::default());
        let cfg = TargetConfig {
            retry: 2,
            log_all_failures: true,
            ..TargetConfig::default()
        };
        let t = m.add_target("t", cfg);
        let mut at = Instant::now();
        m.commit(at);
        drain(&mut m);
        let reason = crate::DownReason::Refused;
        let failed = |retry, last| Event::AttemptFailed {
            target: t,
            reason: reason.clone(),
            retry,
            last,
        };
        let down = || CheckOutcome::Down(reason.clone());
        let target_down = Event::TargetDown {
            target: t,
            reason: reason.clone(),
        };
        // Before a first success the retries are spent: one failure ends it.
        let evs = one_check(&mut m, t, &mut at, down());
        assert_eq!(evs, [failed(2, true), target_down.clone()]);
        assert_eq!(
            one_check(&mut m, t, &mut at, CheckOutcome::Up),
            [Event::TargetUp { target: t }]
        );
        assert_eq!(one_check(&mut m, t, &mut at, down()), [failed(0, false)]);
        assert_eq!(one_check(&mut m, t, &mut at, down()), [failed(1, false)]);
        let evs = one_check(&mut m, t, &mut at, down());
        assert_eq!(evs, [failed(2, true), target_down]);
    }

    #[test]
    fn a_member_checked_by_several_targets_is_up_while_all_are() {
        let mut m = Monitor::new(MonitorConfig::default());
        let cfg = TargetConfig {
            retry: 0,
            ..TargetConfig::default()
        };
        let (a, b) = (m.add_target("a", cfg.clone()), m.add_target("b", cfg));
        let p = m.add_pool(PoolConfig::default());
        m.add_member_checked_by(p, &[a, b], MemberConfig::with_weight(3))
            .unwrap();
        let now = Instant::now();
        m.commit(now);
        assert_eq!(
            drain(&mut m),
            [
                Event::MemberAdd {
                    pool: p,
                    target: a,
                    weight: 3
                },
                Event::QuorumGained {
                    pool: p,
                    weight_sum: 3
                }
            ]
        );
        let down = CheckOutcome::Down(crate::DownReason::Refused);
        // b fails: the member (named a) goes.
        // Runs every check due by `hours` from now: `o` for t, up for
        // the others.
        let outcome = |m: &mut Monitor, t: TargetId, o: CheckOutcome, hours: u64| {
            let later = now + Duration::from_secs(3600 * hours);
            while let Some(due) = m.poll_check(later) {
                let r = if due.target == t {
                    o.clone()
                } else {
                    CheckOutcome::Up
                };
                m.handle_outcome(later, due.target, r).unwrap();
            }
            drain(m)
        };
        let evs = outcome(&mut m, b, down.clone(), 1);
        assert!(
            evs.contains(&Event::MemberRemove { pool: p, target: a }),
            "{evs:?}"
        );
        assert_eq!(m.weight_sum(p), Some(0));
        // b back: up again, once.
        let evs = outcome(&mut m, b, CheckOutcome::Up, 2);
        assert!(
            evs.contains(&Event::MemberAdd {
                pool: p,
                target: a,
                weight: 3
            }),
            "{evs:?}"
        );
        m.remove_member(p, a).unwrap();
        m.remove_target(b).unwrap();
        assert_eq!(m.target_count(), 1);
    }

    #[test]
    fn a_check_lost_with_its_driver_is_requeued() {
        let (mut m, _, t, now) = one_member();
        let later = now + Duration::from_secs(3600);
        assert_eq!(m.poll_check(later).map(|d| d.target), Some(t));
        // In flight: never due again until its outcome...
        assert_eq!(m.poll_timeout(), None);
        m.requeue_in_flight(later);
        assert_eq!(m.poll_timeout(), Some(later));
        assert_eq!(m.poll_check(later).map(|d| d.target), Some(t));
        assert_eq!(m.is_up(t), Some(true));
    }
}
