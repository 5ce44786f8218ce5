//! Per-target check cycle: retries with `delay_before_retry`, then rise/fall.

use std::time::Duration;

use crate::hysteresis::{Health, RiseFall};
use crate::{CheckOutcome, DownReason, UrlSpan};

/// How one target is checked. Defaults are keepalived's.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TargetConfig {
    /// Time between regular checks (`delay_loop`, default 60 s).
    pub interval: Duration,
    /// Extra attempts after a failure before it counts (`retry`, default 1).
    /// As keepalived, none before the target's first success.
    pub retry: u32,
    /// Pause before each retry (`delay_before_retry`, default 1 s;
    /// keepalived uses 3 s for HTTP_GET/SSL_GET).
    pub delay_before_retry: Duration,
    /// Consecutive successful cycles to go up (default 1).
    pub rise: u32,
    /// Consecutive failed cycles to go down (default 1).
    pub fall: u32,
    /// Start down instead of up (`alpha`).
    pub alpha: bool,
    /// Upper bound of a random extra delay before the first check (`warmup`,
    /// default 0: [`crate::Monitor::commit`] already spreads first checks
    /// over the interval, which keepalived's default `warmup` of
    /// `delay_loop` does at random).
    pub warmup: Duration,
    /// Retry failures of a down target too (default false). keepalived
    /// 2.2.7 differs per checker: HTTP_GET/SSL_GET retry only while the
    /// target is up ("do not retry if server is already known as dead"),
    /// TCP_CHECK retries whatever the state, so a down target is probed
    /// again after `delay_before_retry` and can come back sooner. Set this
    /// for TCP_CHECK to match keepalived.
    pub retry_while_down: bool,
    /// Report every failed attempt of a healthy target, retries included,
    /// as [`crate::Event::AttemptFailed`] (keepalived's `log_all_failures`;
    /// default false).
    pub log_all_failures: bool,
    /// keepalived's HTTP_GET/SSL_GET url cursor (`url_it`, `failed_url`),
    /// over the checker's urls ([`crate::UrlSpan`], told by
    /// [`crate::CheckOutcome::UrlDown`]): after a failure took the target
    /// down, only the url that failed is checked, and its passing only
    /// clears the failure; the next attempt checks every url and brings
    /// the target up. A failure keeps the cursor on the failing url: a
    /// retry starts there, and a confirming attempt that fails goes on
    /// from there after `delay_before_retry`. Default false: one passing
    /// attempt brings the target up.
    pub confirm_recovery: bool,
    /// With `confirm_recovery`, the confirming attempt runs at once
    /// instead of an interval later (keepalived's `fast_recovery`); with
    /// urls checked one per attempt ([`Self::urls`]), so does every url
    /// that passes while the target has not run yet or is down with no
    /// failed url. keepalived also re-checks at once, without end, a url
    /// that fails a confirming attempt; here that waits
    /// `delay_before_retry`, sparing a busy loop against a failing
    /// server. Default false.
    pub fast_recovery: bool,
    /// The number of urls of an HTTP_GET/SSL_GET checker (default 0:
    /// unknown). With [`Self::confirm_recovery`] and two urls or more,
    /// the target steps through them as keepalived's `epilog` does: each
    /// attempt checks ONE url ([`crate::UrlSpan::Only`]); a pass moves
    /// the cursor to the next url, due `interval` after the attempt ended
    /// (at once with `fast_recovery` while the target has not run yet, or
    /// is down with no failed url); a failure is retried
    /// `delay_before_retry` after, and a failed url is checked again
    /// `max(delay_before_retry, interval)` after (keepalived's `epilog`
    /// timing, off the slot grid); the target is up only when the last
    /// url passes with no failed url. Otherwise
    /// an attempt covers every url from the cursor
    /// ([`crate::UrlSpan::From`]).
    pub urls: usize,
}

impl Default for TargetConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(60),
            retry: 1,
            delay_before_retry: Duration::from_secs(1),
            rise: 1,
            fall: 1,
            alpha: false,
            warmup: Duration::ZERO,
            retry_while_down: false,
            log_all_failures: false,
            confirm_recovery: false,
            fast_recovery: false,
            urls: 0,
        }
    }
}

impl TargetConfig {
    /// Defaults with this interval.
    pub fn with_interval(interval: Duration) -> Self {
        Self {
            interval,
            ..Self::default()
        }
    }
}

/// What the cycle decided after one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Step {
    /// Try again after `delay_before_retry`; nothing counted yet.
    Retry,
    /// The cycle is over; wait for the next regular slot.
    Done(Option<Change>),
    /// A down target passed its failed url: the failure is cleared and
    /// the next attempt checks every url (`confirm_recovery`); nothing
    /// changed yet.
    Confirm,
    /// A down target with no failure to clear failed part-way through
    /// its urls: the next attempt, after `delay_before_retry`, goes on
    /// from the url that failed (`confirm_recovery`); nothing changed.
    Resume,
    /// A stepping target passed a url that is not its last: the next url
    /// is due an interval later ([`TargetConfig::urls`]); nothing changed.
    Next,
}

/// A change of the target's externally visible state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    Up,
    Down(DownReason),
    Weight(u32),
}

/// Retry counter plus rise/fall hysteresis for one target, and
/// keepalived's HTTP url cursor.
#[derive(Debug, Clone)]
pub(crate) struct CycleState {
    retry: u32,
    retry_it: u32,
    retry_while_down: bool,
    counter: RiseFall,
    weight: Option<u32>,
    confirm: bool,
    /// A cycle has ended (keepalived's `has_run`).
    has_run: bool,
    /// The url the next attempt starts from (keepalived's `url_it`): a
    /// failure keeps it on the failing url, a full pass resets it.
    url: usize,
    /// With `confirm`: the url whose failure took the target down, which
    /// the next attempts check alone until it passes (`failed_url`).
    failed_url: Option<usize>,
    /// The number of urls when each attempt checks one of them
    /// ([`TargetConfig::urls`]), else 0.
    steps: usize,
}

impl CycleState {
    pub(crate) fn new(cfg: &TargetConfig) -> Self {
        let initial = if cfg.alpha { Health::Down } else { Health::Up };
        Self {
            retry: cfg.retry,
            // keepalived starts with the retries used up ("one failure is
            // enough initially"): they are earned by a first success.
            retry_it: cfg.retry,
            retry_while_down: cfg.retry_while_down,
            counter: RiseFall::new(cfg.rise, cfg.fall, initial),
            weight: None,
            confirm: cfg.confirm_recovery,
            has_run: false,
            url: 0,
            failed_url: None,
            steps: if cfg.confirm_recovery && cfg.urls >= 2 {
                cfg.urls
            } else {
                0
            },
        }
    }

    /// The state a reloaded checker takes over from its equal
    /// predecessor under `cfg` (keepalived's ipwrapper.c
    /// `migrate_checkers`): health, `has_run` and the dynamic weight
    /// carry over; the retries made carry over, clamped to the new
    /// `retry - 1`, or restart at 0 (none made, or no retry); the url cursor
    /// restarts, as HTTP_GET has no `migrate` of its own. Progress toward
    /// a rise or fall (not keepalived's: its checkers have none) is kept
    /// while `rise` and `fall` stay.
    pub(crate) fn migrate(&self, cfg: &TargetConfig) -> Self {
        let mut new = Self::new(cfg);
        let fresh = RiseFall::new(cfg.rise, cfg.fall, self.health());
        new.counter = if self.counter.same_thresholds(&fresh) {
            self.counter
        } else {
            fresh
        };
        new.has_run = self.has_run;
        new.weight = self.weight;
        new.retry_it = match cfg.retry.checked_sub(1) {
            Some(most) if self.retry_it > 0 => self.retry_it.min(most),
            _ => 0,
        };
        new
    }

    /// Restarts a checker that has not run yet once a reload knows its
    /// server (ipwrapper.c `migrate_checkers`): up whatever `alpha`,
    /// unless the server is `failing` (another checker of it failed, or
    /// it is down and none has run), when an alpha one is down and any
    /// needs one failure only. Otherwise a `fresh` one (no predecessor)
    /// has all its retries, as keepalived sets none on a reload.
    pub(crate) fn start_unrun(&mut self, cfg: &TargetConfig, failing: bool, fresh: bool) {
        let health = if failing && cfg.alpha {
            Health::Down
        } else {
            Health::Up
        };
        self.counter = RiseFall::new(cfg.rise, cfg.fall, health);
        if failing {
            self.retry_it = self.retry;
        } else if fresh {
            self.retry_it = 0;
        }
    }

    /// Whether a cycle has ended (keepalived's `has_run`).
    pub(crate) fn has_run(&self) -> bool {
        self.has_run
    }

    pub(crate) fn health(&self) -> Health {
        self.counter.health()
    }

    /// Retries already made in the current cycle.
    pub(crate) fn retries_made(&self) -> u32 {
        self.retry_it
    }

    /// The dynamic weight last reported, if any.
    pub(crate) fn weight(&self) -> Option<u32> {
        self.weight
    }

    /// The urls the next attempt checks.
    pub(crate) fn span(&self) -> UrlSpan {
        if self.steps > 0 {
            // keepalived checks its cursor; a failed url keeps it there.
            return UrlSpan::Only(self.url);
        }
        self.failed_url
            .map_or(UrlSpan::From(self.url), UrlSpan::Only)
    }

    /// Whether each attempt checks one url ([`TargetConfig::urls`]).
    pub(crate) fn steps(&self) -> bool {
        self.steps > 0
    }

    /// Whether a url failure is known (keepalived's `failed_url`).
    pub(crate) fn has_failed_url(&self) -> bool {
        self.failed_url.is_some()
    }

    /// keepalived's `fast_recovery` condition: the next step is due at
    /// once while the checker has not run yet, or is down with no failed
    /// url.
    pub(crate) fn recovering(&self) -> bool {
        !self.has_run || (self.health() == Health::Down && self.failed_url.is_none())
    }

    /// The urls a down target passes with `outcome` (from, and where the
    /// attempt stopped: the url that failed, the next step's url, or
    /// `None` at the last), unless the pass only clears a failed url.
    pub(crate) fn urls_passed(&self, outcome: &CheckOutcome) -> Option<(usize, Option<usize>)> {
        if self.steps > 0 {
            let next = self.url.saturating_add(1);
            let until = (next < self.steps).then_some(next);
            return (outcome.is_up() && self.failed_url.is_none()).then_some((self.url, until));
        }
        let UrlSpan::From(from) = self.span() else {
            // The attempt that clears a failure says FailureCleared.
            return None;
        };
        match outcome {
            o if o.is_up() => Some((from, None)),
            CheckOutcome::UrlDown { url, .. } if *url > from => Some((from, Some(*url))),
            _ => None,
        }
    }

    /// Feeds one attempt's outcome. Retries confirm the failure of a target
    /// that is up (as keepalived's HTTP checker does); a down target is
    /// retried only with `retry_while_down` (keepalived's TCP checker).
    pub(crate) fn record(&mut self, outcome: &CheckOutcome) -> Step {
        if self.steps > 0 {
            return self.step(outcome);
        }
        let (reason, at) = match outcome {
            CheckOutcome::Down(reason) => (reason, self.span().first()),
            CheckOutcome::UrlDown { url, reason } => (reason, *url),
            CheckOutcome::Skipped => return Step::Done(None),
            up => return self.passed(up),
        };
        // keepalived's cursor stays on the failing url.
        self.url = at;
        let was_up = self.health() == Health::Up;
        if (was_up || self.retry_while_down) && self.retry_it < self.retry {
            self.retry_it += 1;
            return Step::Retry;
        }
        self.retry_it = 0;
        let change = self
            .counter
            .record(false)
            .map(|_| Change::Down(reason.clone()));
        let first = !std::mem::replace(&mut self.has_run, true);
        if self.confirm && self.health() == Health::Down {
            if was_up || first {
                // epilog: the failure that takes the server down marks
                // its url failed.
                self.failed_url = Some(at);
            } else if self.failed_url.is_none() {
                // A confirming pass failed: no new failed url.
                return Step::Resume;
            }
        }
        Step::Done(change)
    }

    /// One url's outcome of a stepping target (check_http.c `epilog`).
    fn step(&mut self, outcome: &CheckOutcome) -> Step {
        let at = self.url;
        let reason = match outcome {
            CheckOutcome::Skipped => return Step::Done(None),
            o if o.is_up() => return self.url_passed(o),
            o => o.down_reason().cloned().unwrap_or(DownReason::Timeout),
        };
        let was_up = self.health() == Health::Up;
        if !was_up && self.has_run && !self.retry_while_down {
            // "do not retry if server is already known as dead": the
            // cursor stays; a failed url is re-checked, else resumed.
            return match self.failed_url {
                Some(_) => Step::Done(None),
                None => Step::Resume,
            };
        }
        self.has_run = true;
        if self.retry_it < self.retry {
            self.retry_it += 1;
            return Step::Retry;
        }
        self.failed_url = Some(at);
        let change = self.counter.record(false).map(|_| Change::Down(reason));
        Step::Done(change)
    }

    /// A stepping target's url passed: on to the next url, or the round
    /// is complete (up), or a failed url is cleared (back to the first).
    fn url_passed(&mut self, up: &CheckOutcome) -> Step {
        self.url = self.url.saturating_add(1);
        self.retry_it = 0;
        let step = if self.failed_url.take().is_some() {
            self.url = 0;
            Step::Confirm
        } else if self.url >= self.steps {
            self.url = 0;
            self.passed(up)
        } else {
            Step::Next
        };
        if !self.has_run {
            // keepalived: "one failure is enough initially".
            self.retry_it = self.retry;
        }
        step
    }

    fn passed(&mut self, up: &CheckOutcome) -> Step {
        self.retry_it = 0;
        self.url = 0;
        if self.failed_url.take().is_some() {
            return Step::Confirm;
        }
        self.has_run = true;
        let new_weight = match up {
            CheckOutcome::UpWithWeight(w) => Some(*w),
            _ => self.weight,
        };
        let became_up = self.counter.record(true).is_some();
        let weight_changed = new_weight != self.weight;
        self.weight = new_weight;
        Step::Done(if became_up {
            Some(Change::Up)
        } else if weight_changed && self.health() == Health::Up {
            new_weight.map(Change::Weight)
        } else {
            None
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_then_down_then_up() {
        let cfg = TargetConfig {
            retry: 2,
            ..TargetConfig::default()
        };
        let mut s = CycleState::new(&cfg);
        let down = CheckOutcome::Down(DownReason::Refused);
        // A first success earns the retries...
        assert_eq!(s.record(&CheckOutcome::Up), Step::Done(None));
        assert_eq!(s.record(&down), Step::Retry);
        assert_eq!(s.record(&down), Step::Retry);
        assert_eq!(
            s.record(&down),
            Step::Done(Some(Change::Down(DownReason::Refused)))
        );
        // Down: no retries.
        assert_eq!(s.record(&down), Step::Done(None));
        assert_eq!(s.record(&CheckOutcome::Up), Step::Done(Some(Change::Up)));
    }

    /// confirm_recovery keeps keepalived's url cursor (check_http.c
    /// `epilog`): a retry starts from the failing url; once down, only
    /// the failed url is checked; when it passes the failure is cleared
    /// and every url is checked; a confirming pass that fails goes on
    /// from where it failed, with no new failed url.
    #[test]
    fn the_url_cursor_follows_keepalived() {
        let cfg = TargetConfig {
            confirm_recovery: true,
            ..TargetConfig::default()
        };
        let mut s = CycleState::new(&cfg);
        let status = DownReason::HttpStatus(500);
        let at = |url| CheckOutcome::UrlDown {
            url,
            reason: status.clone(),
        };
        let step = |s: &mut CycleState, o: CheckOutcome| (s.record(&o), s.span());
        assert_eq!(s.span(), UrlSpan::From(0));
        // A first pass earns the retry.
        assert_eq!(
            step(&mut s, CheckOutcome::Up),
            (Step::Done(None), UrlSpan::From(0))
        );
        assert_eq!(step(&mut s, at(1)), (Step::Retry, UrlSpan::From(1)));
        let went_down = Step::Done(Some(Change::Down(status.clone())));
        assert_eq!(step(&mut s, at(1)), (went_down, UrlSpan::Only(1)));
        // A failure without a url is the span's first.
        let refused = CheckOutcome::Down(DownReason::Refused);
        assert_eq!(step(&mut s, refused), (Step::Done(None), UrlSpan::Only(1)));
        assert_eq!(
            step(&mut s, CheckOutcome::Up),
            (Step::Confirm, UrlSpan::From(0))
        );
        assert_eq!(step(&mut s, at(2)), (Step::Resume, UrlSpan::From(2)));
        assert_eq!(step(&mut s, at(2)), (Step::Resume, UrlSpan::From(2)));
        let up = Step::Done(Some(Change::Up));
        assert_eq!(step(&mut s, CheckOutcome::Up), (up, UrlSpan::From(0)));
        // Up again: a pass is just a pass.
        assert_eq!(
            step(&mut s, CheckOutcome::Up),
            (Step::Done(None), UrlSpan::From(0))
        );
    }

    /// A checker that starts down (`alpha`) and fails its first check
    /// marks the failing url too (timeout_epilog while `has_run` is unset).
    #[test]
    fn a_first_failure_marks_its_url() {
        let cfg = TargetConfig {
            alpha: true,
            confirm_recovery: true,
            ..TargetConfig::default()
        };
        let mut s = CycleState::new(&cfg);
        let at = CheckOutcome::UrlDown {
            url: 3,
            reason: DownReason::DigestMismatch,
        };
        assert_eq!(s.record(&at), Step::Done(None));
        assert_eq!(s.span(), UrlSpan::Only(3));
        assert_eq!(s.record(&CheckOutcome::Up), Step::Confirm);
        assert_eq!(s.span(), UrlSpan::From(0));
    }

    /// Stepping one url at a time, a url failing before the first
    /// complete round is not retried (epilog keeps `retry_it = retry`
    /// until `has_run`); after it, a pass resets the retries.
    #[test]
    fn stepping_earns_retries_with_the_first_complete_round() {
        let cfg = TargetConfig {
            retry: 1,
            confirm_recovery: true,
            urls: 2,
            ..TargetConfig::default()
        };
        let status = DownReason::HttpStatus(500);
        let fails = CheckOutcome::UrlDown {
            url: 1,
            reason: status.clone(),
        };
        let mut s = CycleState::new(&cfg);
        assert_eq!(s.record(&CheckOutcome::Up), Step::Next);
        assert_eq!(s.span(), UrlSpan::Only(1));
        let went_down = Step::Done(Some(Change::Down(status)));
        assert_eq!(s.record(&fails), went_down);
        assert_eq!(s.span(), UrlSpan::Only(1));
        let mut s = CycleState::new(&cfg);
        assert_eq!(s.record(&CheckOutcome::Up), Step::Next);
        assert_eq!(s.record(&CheckOutcome::Up), Step::Done(None));
        assert_eq!(s.span(), UrlSpan::Only(0));
        assert_eq!(s.record(&CheckOutcome::Up), Step::Next);
        assert_eq!(s.record(&fails), Step::Retry);
        assert_eq!(s.span(), UrlSpan::Only(1));
    }

    #[test]
    fn retry_while_down_as_keepalived_tcp_check() {
        let cfg = TargetConfig {
            alpha: true,
            retry_while_down: true,
            ..TargetConfig::default()
        };
        let mut s = CycleState::new(&cfg);
        let down = CheckOutcome::Down(DownReason::Refused);
        // Down from the start; the first failure counts at once, the next
        // ones are retried...
        assert_eq!(s.record(&down), Step::Done(None));
        assert_eq!(s.record(&down), Step::Retry);
        assert_eq!(s.record(&down), Step::Done(None));
        assert_eq!(s.record(&down), Step::Retry);
        // ...and a retry that succeeds brings the target up.
        assert_eq!(s.record(&CheckOutcome::Up), Step::Done(Some(Change::Up)));
        // Up: retry, then down, as without the switch.
        assert_eq!(s.record(&down), Step::Retry);
        assert_eq!(
            s.record(&down),
            Step::Done(Some(Change::Down(DownReason::Refused)))
        );
    }

    #[test]
    fn one_failure_is_enough_initially_as_keepalived() {
        // keepalived sets retry_it = retry at start: a target failing its
        // very first check goes down without retries, alpha or not.
        for alpha in [false, true] {
            let cfg = TargetConfig {
                retry: 3,
                alpha,
                ..TargetConfig::default()
            };
            let mut s = CycleState::new(&cfg);
            let down = CheckOutcome::Down(DownReason::Refused);
            let want = (!alpha).then_some(Change::Down(DownReason::Refused));
            assert_eq!(s.record(&down), Step::Done(want));
            assert_eq!(s.health(), Health::Down);
        }
    }

    /// keepalived's migrate_checkers: the retries made carry over,
    /// clamped to `retry - 1`; none made or no retry left restarts at 0.
    #[test]
    fn a_migrated_cycle_clamps_the_retries_made() {
        let cfg = |retry| TargetConfig {
            retry,
            ..TargetConfig::default()
        };
        let down = CheckOutcome::Down(DownReason::Refused);
        let went_down = Step::Done(Some(Change::Down(DownReason::Refused)));
        let mut s = CycleState::new(&cfg(3));
        assert_eq!(s.record(&CheckOutcome::Up), Step::Done(None));
        assert_eq!(s.retries_made(), 0);
        assert_eq!(s.migrate(&cfg(2)).retries_made(), 0);
        assert_eq!(s.record(&down), Step::Retry);
        assert_eq!(s.record(&down), Step::Retry);
        assert_eq!(s.retries_made(), 2);
        assert_eq!(s.migrate(&cfg(5)).retries_made(), 2);
        assert_eq!(s.migrate(&cfg(3)).retries_made(), 2);
        assert_eq!(s.migrate(&cfg(0)).retries_made(), 0);
        // Two made, one allowed now: clamped to 1, so one more retry.
        let mut fewer = s.migrate(&cfg(2));
        assert_eq!(fewer.retries_made(), 1);
        assert_eq!(fewer.record(&down), Step::Retry);
        assert_eq!(fewer.record(&down), went_down);
        let mut none = s.migrate(&cfg(0));
        assert_eq!(none.record(&down), went_down);
    }

    /// A down target stays down and keeps `has_run` (no "one failure is
    /// enough initially" again); a target that has not run keeps that.
    #[test]
    fn a_migrated_cycle_keeps_health_and_has_run() {
        let cfg = TargetConfig {
            retry: 0,
            ..TargetConfig::default()
        };
        let mut s = CycleState::new(&cfg);
        assert!(s.recovering());
        assert!(s.migrate(&cfg).recovering());
        let refused = Step::Done(Some(Change::Down(DownReason::Refused)));
        assert_eq!(s.record(&CheckOutcome::Down(DownReason::Refused)), refused);
        let mut m = s.migrate(&TargetConfig {
            retry: 2,
            alpha: true,
            ..TargetConfig::default()
        });
        assert_eq!(m.health(), Health::Down);
        assert!(m.has_run);
        assert_eq!(m.retries_made(), 0);
        assert_eq!(m.record(&CheckOutcome::Up), Step::Done(Some(Change::Up)));
        // Up, alpha or not: a migrated up target stays up.
        assert_eq!(m.migrate(&cfg).health(), Health::Up);
    }

    /// With the same rise and fall, a reload keeps the successes counted
    /// toward a rise; new thresholds start over from the health.
    #[test]
    fn a_migrated_cycle_keeps_rise_progress_under_the_same_thresholds() {
        let cfg = |rise| TargetConfig {
            retry: 0,
            rise,
            fall: 1,
            ..TargetConfig::default()
        };
        let mut s = CycleState::new(&cfg(3));
        let down = Step::Done(Some(Change::Down(DownReason::Refused)));
        assert_eq!(s.record(&CheckOutcome::Down(DownReason::Refused)), down);
        assert_eq!(s.record(&CheckOutcome::Up), Step::Done(None));
        assert_eq!(s.record(&CheckOutcome::Up), Step::Done(None));
        let mut kept = s.migrate(&cfg(3));
        assert_eq!(kept.record(&CheckOutcome::Up), Step::Done(Some(Change::Up)));
        let mut anew = s.migrate(&cfg(2));
        assert_eq!(anew.record(&CheckOutcome::Up), Step::Done(None));
        assert_eq!(anew.record(&CheckOutcome::Up), Step::Done(Some(Change::Up)));
    }

    #[test]
    fn dynamic_weight_reported_once() {
        let mut s = CycleState::new(&TargetConfig::default());
        assert_eq!(
            s.record(&CheckOutcome::UpWithWeight(5)),
            Step::Done(Some(Change::Weight(5)))
        );
        assert_eq!(s.record(&CheckOutcome::UpWithWeight(5)), Step::Done(None));
        assert_eq!(s.weight(), Some(5));
    }
}
