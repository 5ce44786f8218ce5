//! keepalived's `interface_up_down_delays`: a link that goes down (or up)
//! is acted on only after its interface's delay, and not at all if it is
//! back as it was before the delay ends (keepalived 2.2.7's
//! `update_interface_flags`, `check_debounce_timers`).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use super::Setup;

/// `IFF_UP`.
const IFF_UP: u32 = 0x1;
/// `IFF_RUNNING`.
const IFF_RUNNING: u32 = 0x40;

/// Up as keepalived judges raw flags: `IFF_UP` and `IFF_RUNNING`.
pub(super) fn flags_up(flags: u32) -> bool {
    flags & (IFF_UP | IFF_RUNNING) == IFF_UP | IFF_RUNNING
}

/// The delays of one interface (keepalived's `interface_up_down_delays {
/// IF DOWN [UP] }`). A VMAC has its base interface's delays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkDelay {
    /// The interface's name.
    pub interface: String,
    /// Before a link going down is acted on.
    pub down: Duration,
    /// Before a link coming up is acted on.
    pub up: Duration,
}

/// A delay [`clamp_link_delays`] shortened for a router, as keepalived
/// does when it completes an instance (it logs each).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Clamped {
    /// The router has `down_timer_adverts 1`: its interface's delays were
    /// set to zero ("NAME: cannot use debounce timers with
    /// down_timer_adverts = 1 - resetting").
    Zeroed {
        /// The router's instance name.
        router: String,
    },
    /// A delay was not shorter than (`down_timer_adverts` - 1) advert
    /// intervals: it is that less 1/256 of an interval ("NAME: interface IF
    /// debounce timer(s) not less that N * advert_int - resetting").
    Shortened {
        /// The router's instance name.
        router: String,
        /// Its interface.
        interface: String,
        /// `down_timer_adverts` - 1.
        adverts: u32,
    },
}

/// Shortens the delays of `setup` so that each is less than the time its
/// routers wait for a master ((`down_timer_adverts` - 1) advert
/// intervals), router by router as keepalived 2.2.7 does: a delay as long
/// would let a peer take over before the link change is acted on. Returns
/// what changed; a second call changes nothing. [`Driver`](super::Driver)
/// applies it to every setup it is given.
pub fn clamp_link_delays(setup: &mut Setup) -> Vec<Clamped> {
    let mut out = Vec::new();
    for r in &setup.routers {
        let Some(d) = (setup.link_delays.iter_mut()).find(|d| d.interface == r.interface) else {
            continue;
        };
        let (n, interval) = (r.config.down_timer_adverts, r.config.advert_interval());
        if n <= 1 {
            if !(d.up.is_zero() && d.down.is_zero()) {
                (d.up, d.down) = (Duration::ZERO, Duration::ZERO);
                out.push(Clamped::Zeroed {
                    router: r.config.name.to_string(),
                });
            }
            continue;
        }
        let limit = interval.saturating_mul(n - 1);
        // keepalived works in whole microseconds.
        let shorter =
            limit.saturating_sub(Duration::from_micros(interval.as_micros() as u64 / 256));
        let mut changed = false;
        for delay in [&mut d.up, &mut d.down] {
            if *delay >= limit {
                *delay = shorter;
                changed = true;
            }
        }
        if changed {
            out.push(Clamped::Shortened {
                router: r.config.name.to_string(),
                interface: r.interface.clone(),
                adverts: n - 1,
            });
        }
    }
    out
}

/// What to do with a link's new flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Act on them now.
    Act,
    /// Nothing to act on (yet).
    Hold,
}

/// What a report started or stopped, for the embedder's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Note {
    /// A change waits `delay`: from the flags last acted on to these.
    Delayed { from: u32, to: u32, delay: Duration },
    /// A waiting change was dropped for an opposite one.
    Cancelled,
}

/// A change waiting for its delay.
#[derive(Debug, Clone, Copy)]
struct Pending {
    flags: u32,
    due: Instant,
}

/// The delays and the changes waiting on them, per link.
#[derive(Debug, Default)]
pub(super) struct Debounce {
    /// (down, up) by interface name.
    delays: HashMap<String, (Duration, Duration)>,
    pending: HashMap<u32, Pending>,
    /// Links seen up since they were first known: only their changes wait
    /// (keepalived's `seen_up`).
    seen_up: HashSet<u32>,
}

impl Debounce {
    /// The delays to use from now on (changes already waiting keep theirs).
    pub(super) fn configure(&mut self, delays: &[LinkDelay]) {
        self.delays = (delays.iter())
            .map(|d| (d.interface.clone(), (d.down, d.up)))
            .collect();
    }

    /// Link `index` (named `name`) now has `flags`; `last` are the flags
    /// last acted on.
    pub(super) fn report(
        &mut self,
        now: Instant,
        index: u32,
        name: &str,
        last: u32,
        flags: u32,
    ) -> (Verdict, Option<Note>) {
        if flags_up(last) {
            self.seen_up.insert(index);
        }
        if flags == last {
            // Back as it was: a waiting change is void.
            self.pending.remove(&index);
            return (Verdict::Hold, None);
        }
        let mut note = None;
        if let Some(p) = self.pending.get_mut(&index) {
            if p.flags == flags {
                return (Verdict::Hold, None);
            }
            if flags_up(p.flags) == flags_up(flags) {
                // The same direction: it waits with the newest flags.
                p.flags = flags;
                return (Verdict::Hold, None);
            }
            self.pending.remove(&index);
            note = Some(Note::Cancelled);
        }
        if flags_up(last) == flags_up(flags) {
            return (Verdict::Hold, note);
        }
        let (down, up) = self.delays.get(name).copied().unwrap_or_default();
        let delay = if flags_up(flags) { up } else { down };
        if delay.is_zero() || !self.seen_up.contains(&index) {
            return (Verdict::Act, note);
        }
        let due = now.checked_add(delay).unwrap_or(now);
        self.pending.insert(index, Pending { flags, due });
        // Only one note per report: a cancel and a new wait cannot both
        // happen (opposite directions cancel; the same one needs no wait).
        let note = Note::Delayed {
            from: last,
            to: flags,
            delay,
        };
        (Verdict::Hold, Some(note))
    }

    /// Link `index` is gone: nothing waits for it.
    pub(super) fn forget(&mut self, index: u32) {
        self.pending.remove(&index);
        self.seen_up.remove(&index);
    }

    /// The earliest instant a waiting change is due.
    pub(super) fn poll_timeout(&self) -> Option<Instant> {
        self.pending.values().map(|p| p.due).min()
    }

    /// The changes due at `now` (link index and flags), no longer waiting.
    pub(super) fn due(&mut self, now: Instant) -> Vec<(u32, u32)> {
        let due: Vec<(u32, u32)> = (self.pending.iter())
            .filter(|(_, p)| p.due <= now)
            .map(|(&i, p)| (i, p.flags))
            .collect();
        for (i, _) in &due {
            self.pending.remove(i);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::driver::RouterSpec;
    use crate::Config;
    use std::net::Ipv4Addr;

    const UP: u32 = 0x11043;
    const DOWN: u32 = 0x1002;
    /// Up, not yet running (the first report after `ip link set up`).
    const UP_NOT_RUNNING: u32 = 0x1003;

    fn debounce(down: u64, up: u64) -> Debounce {
        let mut d = Debounce::default();
        d.configure(&[LinkDelay {
            interface: "eth0".into(),
            down: Duration::from_secs(down),
            up: Duration::from_secs(up),
        }]);
        d
    }

    #[test]
    fn a_down_waits_and_is_due_after_the_delay() {
        let t0 = Instant::now();
        let mut d = debounce(2, 1);
        let (v, note) = d.report(t0, 2, "eth0", UP, DOWN);
        assert_eq!(v, Verdict::Hold);
        let delay = Duration::from_secs(2);
        let want = Note::Delayed {
            from: UP,
            to: DOWN,
            delay,
        };
        assert_eq!(note, Some(want));
        assert_eq!(d.poll_timeout(), Some(t0 + delay));
        assert_eq!(d.due(t0 + Duration::from_secs(1)), []);
        assert_eq!(d.due(t0 + delay), [(2, DOWN)]);
        assert_eq!(d.poll_timeout(), None);
    }

    #[test]
    fn a_flap_back_within_the_delay_is_not_acted_on() {
        let t0 = Instant::now();
        let mut d = debounce(2, 1);
        d.report(t0, 2, "eth0", UP, DOWN);
        // Up without carrier: still down, it waits with these flags.
        assert_eq!(
            d.report(t0, 2, "eth0", UP, UP_NOT_RUNNING),
            (Verdict::Hold, None)
        );
        // Back to the flags last acted on: void, silently (as keepalived).
        assert_eq!(d.report(t0, 2, "eth0", UP, UP), (Verdict::Hold, None));
        assert_eq!(d.poll_timeout(), None);
    }

    #[test]
    fn an_opposite_change_with_other_flags_cancels_with_a_note() {
        let t0 = Instant::now();
        let mut d = debounce(2, 0);
        d.report(t0, 2, "eth0", UP, DOWN);
        // Up again, with flags other than before (no LOWER_UP).
        let (v, note) = d.report(t0, 2, "eth0", UP, 0x1043);
        assert_eq!((v, note), (Verdict::Hold, Some(Note::Cancelled)));
        assert_eq!(d.poll_timeout(), None);
    }

    #[test]
    fn no_delay_no_name_or_never_up_acts_at_once() {
        let t0 = Instant::now();
        let mut d = debounce(0, 1);
        assert_eq!(d.report(t0, 2, "eth0", UP, DOWN), (Verdict::Act, None));
        assert_eq!(d.report(t0, 3, "eth1", UP, DOWN), (Verdict::Act, None));
        // Down since first known: its first up is not delayed.
        assert_eq!(d.report(t0, 4, "eth0", DOWN, UP), (Verdict::Act, None));
        // Once seen up, it is.
        let (v, _) = d.report(t0, 2, "eth0", DOWN, UP);
        assert_eq!(v, Verdict::Hold);
        d.forget(2);
        assert_eq!(d.poll_timeout(), None);
    }

    fn spec(name: &str, advert: u8, adverts: u32) -> RouterSpec {
        let mut config = Config::new(name, 51, 100, Ipv4Addr::UNSPECIFIED);
        config.advert_interval_secs = advert;
        config.down_timer_adverts = adverts;
        RouterSpec {
            config,
            interface: "eth0".into(),
            addresses: Vec::new(),
            excluded: Vec::new(),
            routes: Vec::new(),
            rules: Vec::new(),
            use_vmac: false,
            vmac: Default::default(),
        }
    }

    fn setup(routers: Vec<RouterSpec>, down: u64, up: u64) -> Setup {
        Setup {
            routers,
            link_delays: vec![LinkDelay {
                interface: "eth0".into(),
                down: Duration::from_secs(down),
                up: Duration::from_secs(up),
            }],
            ..Setup::default()
        }
    }

    #[test]
    fn clamp_shortens_to_the_master_down_wait_less_a_256th() {
        let mut s = setup(vec![spec("VI_1", 1, 3)], 2, 1);
        let want = Clamped::Shortened {
            router: "VI_1".into(),
            interface: "eth0".into(),
            adverts: 2,
        };
        assert_eq!(clamp_link_delays(&mut s), [want]);
        // keepalived logs "delay by 1996094".
        assert_eq!(s.link_delays[0].down, Duration::from_micros(1_996_094));
        assert_eq!(s.link_delays[0].up, Duration::from_secs(1));
        assert_eq!(clamp_link_delays(&mut s), []);
    }

    #[test]
    fn clamp_zeroes_under_one_down_timer_advert_and_keeps_short_ones() {
        let mut s = setup(vec![spec("VI_1", 3, 3), spec("VI_2", 1, 1)], 5, 1);
        let want = Clamped::Zeroed {
            router: "VI_2".into(),
        };
        assert_eq!(clamp_link_delays(&mut s), [want]);
        assert_eq!(s.link_delays[0].down, Duration::ZERO);
        assert_eq!(s.link_delays[0].up, Duration::ZERO);
    }
}
