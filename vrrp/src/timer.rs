//! The router's timers: a fixed table of deadlines, no allocation.

use std::time::Instant;

/// One of the router's timers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Adver_Timer (RFC 3768 section 6.2), armed in MASTER.
    Advert = 0,
    /// Master_Down_Timer (RFC 3768 section 6.2), armed in BACKUP.
    MasterDown = 1,
    /// The second GARP burst after becoming master (`garp_master_delay`).
    GarpDelay = 2,
    /// Periodic GARP refresh while master (`garp_master_refresh`).
    GarpRefresh = 3,
    /// The delayed GARP burst after a lower-priority advert
    /// (`garp_lower_prio_delay`).
    GarpLowerPrio = 4,
}

impl Timer {
    const ALL: [Timer; 5] = [
        Timer::Advert,
        Timer::MasterDown,
        Timer::GarpDelay,
        Timer::GarpRefresh,
        Timer::GarpLowerPrio,
    ];
}

/// Deadlines indexed by [`Timer`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TimerTable {
    deadlines: [Option<Instant>; 5],
}

impl TimerTable {
    /// Arms `timer` at `at`, or disarms it for `None`.
    pub(crate) fn set(&mut self, timer: Timer, at: Option<Instant>) {
        self.deadlines[timer as usize] = at;
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        self.deadlines[timer as usize] = None;
    }

    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer as usize]
    }

    pub(crate) fn stop_all(&mut self) {
        self.deadlines = [None; 5];
    }

    /// The earliest armed deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Disarms and returns one timer whose deadline is at or before `now`,
    /// earliest first, with its deadline.
    pub(crate) fn take_expired(&mut self, now: Instant) -> Option<(Timer, Instant)> {
        let (timer, at) = Timer::ALL
            .into_iter()
            .filter_map(|t| self.get(t).map(|at| (t, at)))
            .filter(|(_, at)| *at <= now)
            .min_by_key(|(_, at)| *at)?;
        self.stop(timer);
        Some((timer, at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn expires_in_deadline_order_and_only_once() {
        let t0 = Instant::now();
        let mut table = TimerTable::default();
        table.set(Timer::GarpDelay, Some(t0 + Duration::from_secs(5)));
        table.set(Timer::Advert, Some(t0 + Duration::from_secs(1)));
        assert_eq!(table.next(), Some(t0 + Duration::from_secs(1)));
        assert_eq!(table.take_expired(t0), None);
        let later = t0 + Duration::from_secs(6);
        let one = t0 + Duration::from_secs(1);
        let five = t0 + Duration::from_secs(5);
        assert_eq!(table.take_expired(later), Some((Timer::Advert, one)));
        assert_eq!(table.take_expired(later), Some((Timer::GarpDelay, five)));
        assert_eq!(table.take_expired(later), None);
        assert_eq!(table.next(), None);
    }
}
