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

#[cfg(test)]
mod tests {
    use super::*;

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
