//! Where checks fall in time: an even start-up stagger over the interval
//! and a per-interval jitter that keeps the spread even.
//!
//! The `n` targets of a group (same interval, committed together) own `n`
//! evenly spaced slots of the interval. Slots are cut into blocks of about
//! `jitter * n` slots; every round, each block's slots are shuffled among
//! its members by an affine permutation. So each target moves by up to
//! `jitter * interval` from round to round, yet every slot is used exactly
//! once per round: no instant ever gets more than its share of checks.

use std::time::{Duration, Instant};

/// The longest interval or delay the scheduler uses; longer ones are cut
/// to this (a year), so instants never overflow.
pub(crate) const MAX_DELAY: Duration = Duration::from_secs(365 * 24 * 3600);

/// The shortest interval: a zero interval would never advance.
pub(crate) const MIN_INTERVAL: Duration = Duration::from_millis(1);

/// `t + d` with `d` cut to [`MAX_DELAY`]; saturates instead of panicking.
pub(crate) fn later(t: Instant, d: Duration) -> Instant {
    let d = d.min(MAX_DELAY);
    t.checked_add(d).unwrap_or(t)
}

/// A deterministic 64-bit mix (splitmix64's finaliser).
pub(crate) fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// The slot grid of one group of targets.
#[derive(Debug, Clone)]
pub(crate) struct Grid {
    pub(crate) start: Instant,
    pub(crate) interval: Duration,
    pub(crate) n: u64,
    block: u64,
    seed: u64,
}

impl Grid {
    pub(crate) fn new(start: Instant, interval: Duration, n: u64, jitter: f64, seed: u64) -> Self {
        let n = n.max(1);
        let interval = interval.clamp(MIN_INTERVAL, MAX_DELAY);
        let block = ((jitter.clamp(0.0, 1.0) * n as f64) as u64).clamp(1, n);
        Self {
            start,
            interval,
            n,
            block,
            seed,
        }
    }

    /// The slot of member `i` in round `k`.
    fn slot(&self, i: u64, k: u64) -> u64 {
        let i = i % self.n;
        let base = i - i % self.block;
        let len = self.block.min(self.n - base);
        if len <= 1 {
            return i;
        }
        let h = mix(self.seed ^ mix(k ^ mix(base)));
        let mut a = 1 + (h >> 32) % (len - 1);
        while gcd(a, len) != 1 {
            a -= 1;
        }
        let c = h % len;
        base + (a * (i - base) + c) % len
    }

    /// When member `i` is checked in round `k`.
    pub(crate) fn due(&self, i: u64, k: u64) -> Instant {
        let t = self.interval.as_nanos();
        let at =
            t.saturating_mul(u128::from(k)) + t * u128::from(self.slot(i, k)) / u128::from(self.n);
        later(
            self.start,
            Duration::from_nanos(u64::try_from(at).unwrap_or(u64::MAX)),
        )
    }

    /// The first slot of member `i` strictly after `after` (if given) and
    /// not before `not_before`.
    pub(crate) fn next_after(
        &self,
        i: u64,
        after: Option<Instant>,
        not_before: Instant,
    ) -> Instant {
        let from = after.map_or(not_before, |a| a.max(not_before));
        let t = self.interval.as_nanos().max(1);
        let elapsed = from.saturating_duration_since(self.start).as_nanos();
        let mut k = u64::try_from(elapsed / t)
            .unwrap_or(u64::MAX)
            .saturating_sub(1);
        loop {
            let d = self.due(i, k);
            // `d` stops growing only at the far end of time: give up there.
            if (after.is_none_or(|a| d > a) && d >= not_before) || k == u64::MAX {
                return d;
            }
            k = k.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_slot_used_once_per_round() {
        let g = Grid::new(Instant::now(), Duration::from_secs(1), 1000, 0.1, 7);
        for k in 0..5 {
            let mut slots: Vec<u64> = (0..1000).map(|i| g.slot(i, k)).collect();
            slots.sort_unstable();
            assert_eq!(slots, (0..1000).collect::<Vec<_>>());
        }
    }

    #[test]
    fn jitter_stays_within_block() {
        let g = Grid::new(Instant::now(), Duration::from_secs(1), 1000, 0.1, 7);
        let moved = (0..1000).filter(|&i| g.slot(i, 1) != g.slot(i, 2)).count();
        assert!(moved > 500, "jitter moves most targets: {moved}");
        for i in 0..1000 {
            assert_eq!(g.slot(i, 3) / 100, i / 100);
        }
    }

    #[test]
    fn next_after_is_strictly_later() {
        let s = Instant::now();
        let g = Grid::new(s, Duration::from_secs(1), 4, 0.0, 1);
        assert_eq!(g.due(2, 0), s + Duration::from_millis(500));
        let half = s + Duration::from_millis(500);
        assert_eq!(
            g.next_after(2, Some(half), s),
            s + Duration::from_millis(1500)
        );
        assert_eq!(g.next_after(2, None, half), half);
        assert_eq!(g.next_after(2, None, s), half);
    }
}
