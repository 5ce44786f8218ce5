//! keepalived's spacing of gratuitous ARPs and unsolicited Neighbour
//! Advertisements per interface (`vrrp_garp_interval`, `vrrp_gna_interval`,
//! `garp_group`), sans-IO.
//!
//! keepalived keeps, per base interface (or per `garp_group` of
//! interfaces), the earliest instant the next GARP (and, apart, the next NA)
//! may leave. An announcement asked for earlier is not sent but marked
//! pending: one flag per address, so asking again for a pending address
//! adds nothing. A single wake-up, armed one interval after the first
//! queued announcement (or earlier), walks the pending addresses of every
//! router in router order, each router's addresses in their order, and
//! sends those whose interface is free again; each send pushes its
//! interface's next instant one interval on. The others wait for the
//! earliest such instant. A router leaving master forgets its pending
//! addresses ([`GarpPacer::forget_router`]).
//!
//! The contract is the crate's: no clock inside, every input carries `now`,
//! [`GarpPacer::poll_timeout`] says when to call
//! [`GarpPacer::handle_timeout`], whose due announcements come out of
//! [`GarpPacer::poll_due`] in keepalived's order.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

/// The spacing of one interface or group of interfaces: `None` sends
/// without delay (keepalived's default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Intervals {
    /// Least time between two gratuitous ARPs (`garp_interval`).
    pub garp: Option<Duration>,
    /// Least time between two unsolicited NAs (`gna_interval`).
    pub gna: Option<Duration>,
}

impl Intervals {
    /// True if neither kind is spaced.
    pub fn is_none(&self) -> bool {
        self.garp.is_none() && self.gna.is_none()
    }
}

/// The pacing configuration: the default spacing of every interface
/// (`vrrp_garp_interval`, `vrrp_gna_interval`) and groups of interfaces
/// that share one spacing state (`garp_group`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PacingConfig {
    /// Spacing of an interface in no group.
    pub default: Intervals,
    /// `garp_group`s: their spacing and their interfaces (indexes; the
    /// Linux driver's `GarpPacing` names them). An interface named in two
    /// groups belongs to the first, as in keepalived.
    pub groups: Vec<(Intervals, Vec<u32>)>,
}

/// An announcement family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A gratuitous ARP (IPv4).
    Garp,
    /// An unsolicited Neighbour Advertisement (IPv6).
    Gna,
}

/// One announcement: router `router`'s address number `addr`, sent on
/// (base) interface `ifindex`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Announce {
    /// The router (its index, which orders the wake-up's walk).
    pub router: u32,
    /// The address's position in the router's list (orders the walk).
    pub addr: u32,
    /// The base interface the spacing is kept for.
    pub ifindex: u32,
    /// GARP or NA.
    pub kind: Kind,
}

/// Spacing state of one interface or group.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    intervals: Intervals,
    next_garp: Option<Instant>,
    next_gna: Option<Instant>,
}

impl Slot {
    fn interval(&self, kind: Kind) -> Option<Duration> {
        match kind {
            Kind::Garp => self.intervals.garp,
            Kind::Gna => self.intervals.gna,
        }
    }

    fn next(&mut self, kind: Kind) -> &mut Option<Instant> {
        match kind {
            Kind::Garp => &mut self.next_garp,
            Kind::Gna => &mut self.next_gna,
        }
    }
}

/// Per-interface GARP/NA spacing for all routers of a process.
#[derive(Debug, Clone, Default)]
pub struct GarpPacer {
    default: Intervals,
    /// Interface -> slot.
    slot_of: HashMap<u32, usize>,
    slots: Vec<Slot>,
    /// Pending announcements by (router, address): keepalived's flags.
    pending: BTreeMap<(u32, u32), Announce>,
    wake: Option<Instant>,
    due: VecDeque<Announce>,
    /// `garp_extra_if`: router -> (next instant, period).
    periodic: BTreeMap<u32, (Instant, Duration)>,
    /// Routers whose period is over, to poll.
    periodic_due: VecDeque<u32>,
}

impl GarpPacer {
    /// A pacer with `config`'s spacing.
    pub fn new(config: &PacingConfig) -> GarpPacer {
        let mut p = GarpPacer {
            default: config.default,
            ..GarpPacer::default()
        };
        for (intervals, ifaces) in &config.groups {
            let slot = p.slots.len();
            p.slots.push(Slot {
                intervals: *intervals,
                ..Slot::default()
            });
            for i in ifaces {
                p.slot_of.entry(*i).or_insert(slot);
            }
        }
        p
    }

    /// Takes `config`'s spacing (a reload): every interface starts afresh
    /// (free at once); queued and periodic announcements are kept.
    pub fn set_config(&mut self, config: &PacingConfig) {
        let fresh = GarpPacer::new(config);
        self.default = fresh.default;
        self.slot_of = fresh.slot_of;
        self.slots = fresh.slots;
    }

    /// True if nothing is ever delayed (no interval anywhere).
    pub fn is_inert(&self) -> bool {
        self.default.is_none() && self.slots.iter().all(|s| s.intervals.is_none())
    }

    /// The slot of `ifindex`: its group's, or its own with the default
    /// spacing (made on first use, as keepalived gives every interface in
    /// use its own).
    fn slot(&mut self, ifindex: u32) -> &mut Slot {
        let slots = &mut self.slots;
        let default = self.default;
        let i = *self.slot_of.entry(ifindex).or_insert_with(|| {
            slots.push(Slot {
                intervals: default,
                ..Slot::default()
            });
            slots.len() - 1
        });
        &mut slots[i]
    }

    /// Asks to send `a` at `now`: true to send it now (its interface's
    /// next instant is then `now` plus the interval, see
    /// [`note_sent`](Self::note_sent)), false if it was queued.
    pub fn announce(&mut self, now: Instant, a: Announce) -> bool {
        let slot = self.slot(a.ifindex);
        let Some(interval) = slot.interval(a.kind) else {
            return true;
        };
        let next = slot.next(a.kind);
        if let Some(n) = next.filter(|n| now < *n) {
            self.pending.insert((a.router, a.addr), a);
            // keepalived wakes one interval after queueing, when its
            // interface is free again; here that is never before the
            // interface's next instant (see `note_sent`).
            let at = (now + interval).max(n);
            if self.wake.is_none_or(|w| at < w) {
                self.wake = Some(at);
            }
            return false;
        }
        *next = Some(now + interval);
        true
    }

    /// Notes that `a` actually left at `at` (read after the send): its
    /// interface's next instant becomes at least `at` plus the interval,
    /// so the spacing holds between the frames themselves, whatever the
    /// time the send took.
    pub fn note_sent(&mut self, at: Instant, a: &Announce) {
        let slot = self.slot(a.ifindex);
        if let Some(interval) = slot.interval(a.kind) {
            let next = slot.next(a.kind);
            let after = at + interval;
            *next = Some(next.map_or(after, |n| n.max(after)));
        }
    }

    /// When to call [`handle_timeout`](Self::handle_timeout).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let periodic = self.periodic.values().map(|p| p.0).min();
        match (self.wake, periodic) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Starts router `router`'s periodic announcements (keepalived's
    /// `garp_extra_if`): due every `period` from `now` (see
    /// [`poll_periodic`](Self::poll_periodic)). A zero period starts none.
    pub fn start_periodic(&mut self, router: u32, now: Instant, period: Duration) {
        if !period.is_zero() {
            self.periodic.insert(router, (now + period, period));
        }
    }

    /// Stops router `router`'s periodic announcements.
    pub fn stop_periodic(&mut self, router: u32) {
        self.periodic.remove(&router);
        self.periodic_due.retain(|r| *r != router);
    }

    /// The next router whose periodic announcements are due (the caller
    /// then [`announce`](Self::announce)s them); the next period is
    /// already counted from its due instant.
    pub fn poll_periodic(&mut self) -> Option<u32> {
        self.periodic_due.pop_front()
    }

    /// The wake-up: moves every pending announcement whose interface is
    /// free at `now` to [`poll_due`](Self::poll_due), in keepalived's
    /// order, and re-arms for the rest. A no-op before the deadline.
    pub fn handle_timeout(&mut self, now: Instant) {
        for (router, (next, period)) in &mut self.periodic {
            if *next <= now {
                // Keeps the phase: a late wake-up does not shift the next.
                while *next <= now {
                    *next += *period;
                }
                self.periodic_due.push_back(*router);
            }
        }
        if self.wake.is_none_or(|w| now < w) {
            return;
        }
        let mut wake: Option<Instant> = None;
        let pending = std::mem::take(&mut self.pending);
        for (key, a) in pending {
            let slot = self.slot(a.ifindex);
            let interval = slot.interval(a.kind);
            let next = slot.next(a.kind);
            match (*next, interval) {
                (Some(n), Some(_)) if now < n => {
                    wake = Some(wake.map_or(n, |w| w.min(n)));
                    self.pending.insert(key, a);
                }
                _ => {
                    *next = interval.map(|i| now + i);
                    self.due.push_back(a);
                }
            }
        }
        self.wake = wake;
    }

    /// The next announcement to send now, if any.
    pub fn poll_due(&mut self) -> Option<Announce> {
        self.due.pop_front()
    }

    /// Drops router `router`'s pending announcements (it left master and
    /// removed its addresses) and stops its periodic ones. Due ones not yet
    /// polled go too.
    pub fn forget_router(&mut self, router: u32) {
        self.pending.retain(|(r, _), _| *r != router);
        self.due.retain(|a| a.router != router);
        self.stop_periodic(router);
    }

    /// Number of announcements waiting.
    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(router: u32, addr: u32) -> Announce {
        Announce {
            router,
            addr,
            ifindex: 1,
            kind: Kind::Garp,
        }
    }

    #[test]
    fn without_interval_everything_goes_at_once() {
        let mut p = GarpPacer::new(&PacingConfig::default());
        let t = Instant::now();
        assert!((0..3).all(|i| p.announce(t, a(0, i))));
        assert_eq!(p.poll_timeout(), None);
        assert!(p.is_inert());
    }

    #[test]
    fn a_group_shares_one_spacing() {
        let ms = Duration::from_millis;
        let cfg = PacingConfig {
            default: Intervals::default(),
            groups: vec![(
                Intervals {
                    garp: Some(ms(100)),
                    gna: None,
                },
                vec![1, 2],
            )],
        };
        let mut p = GarpPacer::new(&cfg);
        let t = Instant::now();
        assert!(p.announce(t, a(0, 0)));
        let other = Announce {
            ifindex: 2,
            ..a(1, 0)
        };
        assert!(!p.announce(t, other));
        // NAs are spaced apart from GARPs, here not at all.
        let na = Announce {
            kind: Kind::Gna,
            ..other
        };
        assert!(p.announce(t, na));
        // An interface outside the group follows the default: no spacing.
        assert!(p.announce(
            t,
            Announce {
                ifindex: 3,
                ..a(2, 0)
            }
        ));
        assert_eq!(p.poll_timeout(), Some(t + ms(100)));
    }
}
