//! What the monitor tells its driver: target and pool changes.

use crate::DownReason;

/// Identifies a target (one probe, shared by every pool that uses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetId(pub(crate) u32);

/// Identifies a pool (keepalived's virtual server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PoolId(pub(crate) u32);

/// An output of the monitor.
///
/// Events name targets by [`TargetId`]; [`crate::Monitor::target_key`]
/// and [`crate::Monitor::target_config`] lead back to the target.
/// Member events map one to one to IPVS operations while the pool has its
/// quorum or no sorry server; while the sorry server is in, the table holds
/// only the sorry server (keepalived's `perform_svr_state`).
/// [`crate::PoolTable`] follows these events and says what the table should
/// hold, with keepalived's names for each change.
///
/// Order: a target's own event (`TargetUp`, `TargetDown`, `TargetWeight`)
/// comes first, then the member events of every pool it is in, each
/// followed by that pool's quorum events. A pool's first quorum event, at
/// its [`crate::Monitor::commit`], gives its starting state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The target became healthy.
    TargetUp {
        /// Which target.
        target: TargetId,
    },
    /// The target became unhealthy.
    TargetDown {
        /// Which target.
        target: TargetId,
        /// The reason of the last failed check.
        reason: DownReason,
    },
    /// One attempt of a healthy target failed (only with
    /// [`crate::TargetConfig::log_all_failures`]). It comes before the
    /// `TargetDown` this attempt may cause; the state is unchanged by it.
    AttemptFailed {
        /// Which target.
        target: TargetId,
        /// Why the attempt failed.
        reason: DownReason,
        /// Retries already made in this cycle before this attempt: 0 for
        /// the regular check, k for the k-th retry (keepalived's
        /// `retry_it`; a target not yet seen up starts with them spent).
        retry: u32,
        /// No retry follows: this attempt ends the cycle, and the target
        /// goes down after it.
        last: bool,
    },
    /// The target's first cycle ended without changing its health: it
    /// passed while starting up, or failed while starting down (`alpha`).
    /// keepalived's checkers log that first result all the same (their
    /// `has_run` is unset); every later cycle that changes nothing is
    /// silent. It comes before any `TargetWeight` of the same check.
    FirstCheck {
        /// Which target.
        target: TargetId,
        /// Why the check failed; `None` when it passed.
        reason: Option<DownReason>,
    },
    /// A down target with [`crate::TargetConfig::confirm_recovery`]
    /// passed the url whose failure took it down, checked alone
    /// ([`crate::UrlSpan::Only`]): the failure is cleared, its health
    /// unchanged, and the next attempt checks every url (keepalived's
    /// HTTP_GET clearing its `failed_url`, which it logs).
    FailureCleared {
        /// Which target.
        target: TargetId,
        /// The cleared url's index in the checker's url list.
        url: usize,
    },
    /// An attempt of a down target with
    /// [`crate::TargetConfig::confirm_recovery`] passed these urls
    /// (keepalived's HTTP_GET names each url that passes while the server
    /// is not up). It comes before the `TargetUp` of the same attempt;
    /// the attempt that clears a failure says [`Event::FailureCleared`]
    /// instead.
    UrlsPassed {
        /// Which target.
        target: TargetId,
        /// The first url that passed.
        from: usize,
        /// Where the attempt stopped after them: the url that failed, or
        /// the next step's url when urls are checked one per attempt
        /// ([`crate::TargetConfig::urls`]); `None`: they ran to the last
        /// url.
        until: Option<usize>,
    },
    /// A healthy target reported a new dynamic weight.
    TargetWeight {
        /// Which target.
        target: TargetId,
        /// The new weight.
        weight: u32,
    },
    /// Put the member into the pool with this weight.
    MemberAdd {
        /// Which pool.
        pool: PoolId,
        /// Which member.
        target: TargetId,
        /// Its weight (0 for an inhibited member).
        weight: u32,
    },
    /// Take the member out of the pool.
    MemberRemove {
        /// Which pool.
        pool: PoolId,
        /// Which member.
        target: TargetId,
    },
    /// Change the weight of a member already in the pool (0 = inhibited).
    MemberWeight {
        /// Which pool.
        pool: PoolId,
        /// Which member.
        target: TargetId,
        /// The new weight.
        weight: u32,
    },
    /// The sum of live weights reached `quorum + hysteresis`.
    QuorumGained {
        /// Which pool.
        pool: PoolId,
        /// The sum of the weights of healthy members.
        weight_sum: u64,
    },
    /// The sum of live weights fell below `quorum - hysteresis` (or to 0).
    QuorumLost {
        /// Which pool.
        pool: PoolId,
        /// The sum of the weights of healthy members.
        weight_sum: u64,
    },
    /// Put the pool's sorry server in.
    SorryServerIn {
        /// Which pool.
        pool: PoolId,
    },
    /// Take the pool's sorry server out.
    SorryServerOut {
        /// Which pool.
        pool: PoolId,
    },
}
