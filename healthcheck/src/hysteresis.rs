//! keepalived's rise/fall counter (the `vrrp_script` model).

/// Health as seen after rise/fall hysteresis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    /// Counted as up.
    Up,
    /// Counted as down.
    Down,
}

/// A counter in `0..=rise+fall-1`; the target is up when it is `>= rise`.
///
/// As in keepalived's `vrrp_script`: from down, `rise` consecutive
/// successes bring it up; from up, `fall` consecutive failures bring it
/// down. A failure while rising restarts the climb from zero and a success
/// while falling refills the counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiseFall {
    // u64: `rise + fall - 1` of two u32 values cannot overflow.
    rise: u64,
    fall: u64,
    count: u64,
    /// No result yet and the first one decides (keepalived's vrrp_script
    /// without `init_fail`).
    unknown: bool,
}

impl RiseFall {
    /// A counter starting up (full) or down (empty). `rise` and `fall` of 0
    /// are treated as 1.
    pub fn new(rise: u32, fall: u32, initial: Health) -> Self {
        let (rise, fall) = (u64::from(rise.max(1)), u64::from(fall.max(1)));
        let count = match initial {
            Health::Up => rise + fall - 1,
            Health::Down => 0,
        };
        Self {
            rise,
            fall,
            count,
            unknown: false,
        }
    }

    /// A counter whose first result decides, as keepalived 2.2.7 starts a
    /// `vrrp_script` without `init_fail`: one success is enough to go up
    /// (the counter starts at `rise - 1`), one failure to go down, and that
    /// first result is always reported. Until then it counts as down
    /// ([`RiseFall::known_health`] is `None`).
    pub fn unknown(rise: u32, fall: u32) -> Self {
        let mut rf = Self::new(rise, fall, Health::Down);
        rf.count = rf.rise - 1;
        rf.unknown = true;
        rf
    }

    /// The current health, `None` before the first result of a counter
    /// made by [`RiseFall::unknown`].
    pub fn known_health(&self) -> Option<Health> {
        (!self.unknown).then(|| self.health())
    }

    /// True if `other` has the same rise and fall thresholds.
    pub(crate) fn same_thresholds(&self, other: &Self) -> bool {
        (self.rise, self.fall) == (other.rise, other.fall)
    }

    /// The current health.
    pub fn health(&self) -> Health {
        if self.count >= self.rise {
            Health::Up
        } else {
            Health::Down
        }
    }

    /// Feeds one result; returns the new health if it changed.
    pub fn record(&mut self, success: bool) -> Option<Health> {
        let before = self.health();
        let full = self.rise + self.fall - 1;
        self.count = match (success, self.count) {
            (true, c) if c + 1 < self.rise => c + 1,
            (true, _) => full,
            (false, c) if c > self.rise => c - 1,
            (false, _) => 0,
        };
        let after = self.health();
        let first = std::mem::take(&mut self.unknown);
        (after != before || first).then_some(after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rf: &mut RiseFall, results: &str) -> String {
        results
            .chars()
            .map(|c| {
                rf.record(c == '+');
                match rf.health() {
                    Health::Up => 'U',
                    Health::Down => 'D',
                }
            })
            .collect()
    }

    #[test]
    fn default_one_one_follows_every_result() {
        let mut rf = RiseFall::new(1, 1, Health::Up);
        assert_eq!(run(&mut rf, "-+-++--"), "DUDUUDD");
    }

    #[test]
    fn rise_three_fall_two() {
        let mut rf = RiseFall::new(3, 2, Health::Down);
        // Two successes, a failure restarts the climb, then three in a row.
        assert_eq!(run(&mut rf, "++-+++"), "DDDDDU");
        // One failure is absorbed, a success refills, then two failures.
        assert_eq!(run(&mut rf, "-+--"), "UUUD");
    }

    #[test]
    fn extreme_rise_and_fall_neither_overflow_nor_shortcut() {
        let mut rf = RiseFall::new(u32::MAX, u32::MAX, Health::Up);
        // Up and full: a success stays full, one failure is absorbed.
        assert_eq!(rf.record(true), None);
        assert_eq!(rf.record(false), None);
        assert_eq!(rf.health(), Health::Up);
        let mut rf = RiseFall::new(u32::MAX, 1, Health::Down);
        assert_eq!(rf.record(true), None);
        assert_eq!(rf.health(), Health::Down);
    }

    #[test]
    fn unknown_start_reports_the_first_result_as_keepalived() {
        for (rise, fall) in [(1, 1), (3, 2), (1, 4)] {
            let mut rf = RiseFall::unknown(rise, fall);
            assert_eq!((rf.known_health(), rf.health()), (None, Health::Down));
            assert_eq!(rf.record(true), Some(Health::Up));
            assert_eq!(rf.known_health(), Some(Health::Up));
            let mut rf = RiseFall::unknown(rise, fall);
            assert_eq!(rf.record(false), Some(Health::Down));
            // Then the usual climb: `rise` successes from zero.
            assert_eq!(
                run(&mut rf, &"+".repeat(rise as usize)),
                format!("{}U", "D".repeat(rise as usize - 1))
            );
        }
    }

    #[test]
    fn zero_is_treated_as_one() {
        let mut rf = RiseFall::new(0, 0, Health::Down);
        assert_eq!(rf.record(true), Some(Health::Up));
        assert_eq!(rf.record(false), Some(Health::Down));
    }
}
