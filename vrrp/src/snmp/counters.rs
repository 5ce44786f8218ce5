//! keepalived's statistics of a router, grouped from the router's drop
//! counters as its MIB columns count them.

use crate::counters::{Counters, DropReason};
use crate::wire::DropReason as Wire;

/// One router's counters as the MIBs' statistics columns count them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Stats {
    pub(super) become_master: u64,
    pub(super) advert_rcvd: u64,
    pub(super) advert_interval_err: u64,
    pub(super) auth_failure: u64,
    pub(super) ip_ttl_err: u64,
    pub(super) pri_zero_rcvd: u64,
    pub(super) pri_zero_sent: u64,
    pub(super) invalid_type_rcvd: u64,
    pub(super) addr_list_err: u64,
    pub(super) invalid_authtype: u64,
    pub(super) authtype_mismatch: u64,
    pub(super) packet_len_err: u64,
}

impl Stats {
    /// `c` grouped as keepalived counts: a short or inconsistent length
    /// is a packet length error, a replayed or unknown-SPI AH packet an
    /// authentication failure, a unicast peer's TTL out of range a TTL
    /// error.
    pub(super) fn of(c: Option<&Counters>) -> Stats {
        let Some(c) = c else {
            return Stats::default();
        };
        let d = |r: Wire| c.dropped.get(DropReason::Invalid(r));
        Stats {
            become_master: c.became_master,
            advert_rcvd: c.adverts_received,
            advert_interval_err: d(Wire::AdverIntMismatch),
            auth_failure: d(Wire::AuthFailure) + d(Wire::AhReplay) + d(Wire::BadAhSpi),
            ip_ttl_err: d(Wire::BadTtl) + c.dropped.get(DropReason::UnicastTtl),
            pri_zero_rcvd: c.priority_zero_received,
            pri_zero_sent: c.priority_zero_sent,
            invalid_type_rcvd: d(Wire::BadType),
            addr_list_err: d(Wire::AddressMismatch),
            invalid_authtype: d(Wire::InvalidAuthType),
            authtype_mismatch: d(Wire::AuthTypeMismatch),
            packet_len_err: d(Wire::Truncated) + d(Wire::BadLength) + d(Wire::BadIpLength),
        }
    }
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
