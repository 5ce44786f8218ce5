//! What the monitor tells its driver: target and pool changes.

use crate::DownReason;

/// Identifies a target (one probe, shared by every pool that uses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TargetId(pub(crate) u32);

/// Identifies a pool (keepalived's virtual server).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PoolId(pub(crate) u32);

/// An output of the monitor. Pool events map one to one to IPVS operations.
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
