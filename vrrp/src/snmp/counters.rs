//! keepalived's statistics of a router as its MIB columns count them
//! ([`KeepalivedStats`]), and the header errors the MIBs sum.

use crate::counters::{Counters, DropReason, KeepalivedStats};
use crate::wire::DropReason as Wire;

/// One router's statistics as the MIBs' columns count them (none for a
/// router without counters).
pub(super) fn stats_of(c: Option<&Counters>) -> KeepalivedStats {
    c.map(KeepalivedStats::from).unwrap_or_default()
}

/// The routers' header errors, summed for the MIBs' global counters:
/// bad checksum, bad version, unknown VRID.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct HeaderErrors {
    pub(super) checksum: u64,
    pub(super) version: u64,
    pub(super) vrid: u64,
}

impl HeaderErrors {
    /// Adds `c`'s.
    pub(super) fn add(&mut self, c: Option<&Counters>) {
        if let Some(c) = c {
            let d = |r: Wire| c.dropped.get(DropReason::Invalid(r));
            self.checksum += d(Wire::BadChecksum);
            self.version += d(Wire::BadVersion);
            self.vrid += d(Wire::VridMismatch);
        }
    }
}
