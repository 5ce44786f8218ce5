//! A router's statistics: why it dropped received datagrams, and a counter
//! per reason and per kind of output.

use std::fmt;

use crate::wire;

/// Why a received datagram changed nothing but a counter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DropReason {
    /// The codec rejected it (malformed, wrong auth, replayed, ...).
    Invalid(wire::DropReason),
    /// The router is in INIT or FAULT, where adverts are not processed.
    NotRunning,
    /// It came from this router's own primary address (a looped-back
    /// multicast advert).
    OwnAdvert,
    /// `check_unicast_src` is on and the sender is not one of the
    /// configured unicast peers (keepalived: "not a unicast peer").
    NotUnicastPeer,
    /// The advert's TTL is outside its unicast peer's `min_ttl..=max_ttl`.
    UnicastTtl,
    /// A datagram of the other address family than the router's (an IPv4
    /// datagram for an IPv6 router or the reverse).
    WrongFamily,
    /// A valid priority-0 advert reached a backup from another router than
    /// the master it follows (keepalived 2.2.7 would take over after
    /// Skew_Time; see [`crate::VirtualRouter`], "Priority 0").
    StopNotFromMaster,
}

impl DropReason {
    /// A stable kebab-case name for logs and metric labels (the codec's
    /// names for [`DropReason::Invalid`]).
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Invalid(r) => r.as_str(),
            DropReason::NotRunning => "not-running",
            DropReason::OwnAdvert => "own-advert",
            DropReason::NotUnicastPeer => "not-unicast-peer",
            DropReason::UnicastTtl => "unicast-ttl",
            DropReason::WrongFamily => "wrong-family",
            DropReason::StopNotFromMaster => "stop-not-from-master",
        }
    }
}

impl fmt::Display for DropReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One counter per [`DropReason`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DropCounters {
    invalid: [u64; wire::DropReason::COUNT],
    not_running: u64,
    own_advert: u64,
    not_unicast_peer: u64,
    unicast_ttl: u64,
    wrong_family: u64,
    stop_not_from_master: u64,
}

impl DropCounters {
    pub(crate) fn bump(&mut self, reason: DropReason) {
        let slot = match reason {
            DropReason::Invalid(r) => match self.invalid.get_mut(r.index()) {
                Some(slot) => slot,
                None => return,
            },
            DropReason::NotRunning => &mut self.not_running,
            DropReason::OwnAdvert => &mut self.own_advert,
            DropReason::NotUnicastPeer => &mut self.not_unicast_peer,
            DropReason::UnicastTtl => &mut self.unicast_ttl,
            DropReason::WrongFamily => &mut self.wrong_family,
            DropReason::StopNotFromMaster => &mut self.stop_not_from_master,
        };
        *slot += 1;
    }

    /// The count for one reason.
    pub fn get(&self, reason: DropReason) -> u64 {
        match reason {
            DropReason::Invalid(r) => self.invalid.get(r.index()).copied().unwrap_or(0),
            DropReason::NotRunning => self.not_running,
            DropReason::OwnAdvert => self.own_advert,
            DropReason::NotUnicastPeer => self.not_unicast_peer,
            DropReason::UnicastTtl => self.unicast_ttl,
            DropReason::WrongFamily => self.wrong_family,
            DropReason::StopNotFromMaster => self.stop_not_from_master,
        }
    }

    /// All drops.
    pub fn total(&self) -> u64 {
        self.invalid.iter().sum::<u64>()
            + self.not_running
            + self.own_advert
            + self.not_unicast_peer
            + self.unicast_ttl
            + self.wrong_family
            + self.stop_not_from_master
    }

    /// Non-zero counters with their reasons, for logs and metrics.
    pub fn iter(&self) -> impl Iterator<Item = (DropReason, u64)> + '_ {
        let invalid = wire::DropReason::ALL
            .iter()
            .map(|r| DropReason::Invalid(*r));
        invalid
            .chain([
                DropReason::NotRunning,
                DropReason::OwnAdvert,
                DropReason::NotUnicastPeer,
                DropReason::UnicastTtl,
                DropReason::WrongFamily,
                DropReason::StopNotFromMaster,
            ])
            .map(|r| (r, self.get(r)))
            .filter(|(_, n)| *n > 0)
    }
}

/// Per-router statistics, all monotonic.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Valid adverts processed.
    pub adverts_received: u64,
    /// Adverts written by `poll_transmit`, counted once however many
    /// unicast peers they go to (as keepalived counts them).
    pub adverts_sent: u64,
    /// Datagrams written by `poll_transmit`: one per advert in multicast
    /// mode, one per peer per advert with unicast peers.
    pub datagrams_sent: u64,
    /// Valid priority-0 adverts processed.
    pub priority_zero_received: u64,
    /// Priority-0 adverts written (once however many peers).
    pub priority_zero_sent: u64,
    /// Transitions to MASTER.
    pub became_master: u64,
    /// Transitions out of MASTER.
    pub released_master: u64,
    /// Adverts that could not be written (buffer too small or encoder error).
    pub transmit_errors: u64,
    /// `Dropped` events left out because the event queue was full.
    pub events_overflowed: u64,
    /// Dropped datagrams, by reason.
    pub dropped: DropCounters,
}

/// A router's counters grouped as keepalived 2.2.7 keeps its per-instance
/// statistics (`vrrp_stats`), which its dumps and MIBs show: a short or
/// inconsistent length is a packet length error, a replayed or unknown-SPI
/// AH packet an authentication failure, a unicast peer's TTL out of range
/// a TTL error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeepalivedStats {
    /// `advert_rcvd`: valid adverts processed.
    pub advert_rcvd: u64,
    /// `advert_sent`: adverts sent (once however many peers).
    pub advert_sent: u64,
    /// `become_master`: transitions to MASTER.
    pub become_master: u64,
    /// `release_master`: transitions out of MASTER.
    pub release_master: u64,
    /// `packet_len_err`: truncated or inconsistent lengths.
    pub packet_len_err: u64,
    /// `advert_interval_err`: an advert interval other than ours.
    pub advert_interval_err: u64,
    /// `ip_ttl_err`: a TTL (or hop limit) not 255, or outside a unicast
    /// peer's range.
    pub ip_ttl_err: u64,
    /// `invalid_type_rcvd`: a VRRP type other than advertisement.
    pub invalid_type_rcvd: u64,
    /// `addr_list_err`: an address list other than ours.
    pub addr_list_err: u64,
    /// `invalid_authtype`: an unknown authentication type.
    pub invalid_authtype: u64,
    /// `authtype_mismatch`: an authentication type other than ours.
    pub authtype_mismatch: u64,
    /// `auth_failure`: a wrong password or AH digest, a replayed or
    /// unknown-SPI AH packet.
    pub auth_failure: u64,
    /// `pri_zero_rcvd`: priority-0 adverts processed.
    pub pri_zero_rcvd: u64,
    /// `pri_zero_sent`: priority-0 adverts sent.
    pub pri_zero_sent: u64,
}

impl From<&Counters> for KeepalivedStats {
    fn from(c: &Counters) -> Self {
        use wire::DropReason as Wire;
        let d = |r: Wire| c.dropped.get(DropReason::Invalid(r));
        KeepalivedStats {
            advert_rcvd: c.adverts_received,
            advert_sent: c.adverts_sent,
            become_master: c.became_master,
            release_master: c.released_master,
            packet_len_err: d(Wire::Truncated) + d(Wire::BadLength) + d(Wire::BadIpLength),
            advert_interval_err: d(Wire::AdverIntMismatch),
            ip_ttl_err: d(Wire::BadTtl) + c.dropped.get(DropReason::UnicastTtl),
            invalid_type_rcvd: d(Wire::BadType),
            addr_list_err: d(Wire::AddressMismatch),
            invalid_authtype: d(Wire::InvalidAuthType),
            authtype_mismatch: d(Wire::AuthTypeMismatch),
            auth_failure: d(Wire::AuthFailure) + d(Wire::AhReplay) + d(Wire::BadAhSpi),
            pri_zero_rcvd: c.priority_zero_received,
            pri_zero_sent: c.priority_zero_sent,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_stats_group_drops_as_keepalived_counts_them() {
        let mut c = Counters {
            adverts_received: 7,
            released_master: 2,
            ..Counters::default()
        };
        for r in [
            wire::DropReason::Truncated,
            wire::DropReason::BadIpLength,
            wire::DropReason::AhReplay,
            wire::DropReason::BadAhSpi,
            wire::DropReason::AuthFailure,
            wire::DropReason::BadTtl,
        ] {
            c.dropped.bump(DropReason::Invalid(r));
        }
        c.dropped.bump(DropReason::UnicastTtl);
        c.dropped.bump(DropReason::NotUnicastPeer);
        let s = KeepalivedStats::from(&c);
        assert_eq!((s.advert_rcvd, s.release_master), (7, 2));
        assert_eq!(s.packet_len_err, 2);
        assert_eq!(s.auth_failure, 3);
        assert_eq!(s.ip_ttl_err, 2);
        assert_eq!((s.addr_list_err, s.invalid_type_rcvd), (0, 0));
    }

    #[test]
    fn names_are_the_display_strings() {
        let bad = DropReason::Invalid(wire::DropReason::AhReplay);
        assert_eq!(bad.as_str(), wire::DropReason::AhReplay.as_str());
        assert_eq!(DropReason::NotUnicastPeer.as_str(), "not-unicast-peer");
        assert_eq!(DropReason::UnicastTtl.to_string(), "unicast-ttl");
        assert_eq!(
            DropReason::StopNotFromMaster.as_str(),
            "stop-not-from-master"
        );
    }

    #[test]
    fn every_reason_has_its_own_counter() {
        let own = [
            DropReason::NotRunning,
            DropReason::OwnAdvert,
            DropReason::NotUnicastPeer,
            DropReason::UnicastTtl,
            DropReason::WrongFamily,
            DropReason::StopNotFromMaster,
        ];
        let mut c = DropCounters::default();
        for (n, r) in own.iter().enumerate() {
            for _ in 0..=n {
                c.bump(*r);
            }
        }
        c.bump(DropReason::Invalid(wire::DropReason::AhReplay));
        let seen: Vec<_> = c.iter().collect();
        let mut want = vec![(DropReason::Invalid(wire::DropReason::AhReplay), 1)];
        want.extend(own.iter().zip(1..).map(|(r, n)| (*r, n)));
        assert_eq!(seen, want);
        assert_eq!(c.total(), 22);
    }
}
