//! `${_RANDOM [MIN [MAX]]}`: a number from MIN (default 0) to MAX
//! (default 32767), new at every use. keepalived 2.2.7 seeds its
//! generator from the clock whatever `random_seed` says, so no sequence
//! is reproducible and none is promised here.

use std::time::{SystemTime, UNIX_EPOCH};

/// A seed from the clock and the process id.
pub(super) fn seed() -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    // Never zero, which xorshift would keep forever.
    (nanos ^ (u64::from(std::process::id()) << 32)) | 1
}

/// The next value of the xorshift64 generator in `state`, which it advances.
fn next(state: &std::cell::Cell<u64>) -> u64 {
    let mut x = state.get();
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    state.set(x);
    x
}

/// The text `${_RANDOM params}` stands for; `params` are the digits and
/// spaces between the name and `}` (empty if none). As keepalived: a
/// third number is ignored, and the result is cut to as many digits as
/// MAX has.
pub(super) fn value(params: &str, state: &std::cell::Cell<u64>) -> String {
    let mut nums = params.split_ascii_whitespace().map(strtoul);
    let min = nums.next().unwrap_or(0);
    let max = nums.next().unwrap_or(32767);
    // C's random(): 31 bits.
    let r = next(state) >> 33;
    let span = max.wrapping_sub(min).wrapping_add(1);
    let v = if span == 0 { r } else { r % span }.wrapping_add(min) as i64;
    let mut s = v.to_string();
    s.truncate(max.to_string().len());
    s
}

/// A decimal number as `strtoul` reads it: saturating at the maximum.
fn strtoul(w: &str) -> u64 {
    w.bytes().fold(0u64, |n, d| {
        n.checked_mul(10)
            .and_then(|n| n.checked_add(u64::from(d.saturating_sub(b'0'))))
            .unwrap_or(u64::MAX)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn values_stay_in_range() {
        let st = Cell::new(seed());
        for _ in 0..1000 {
            let v: u64 = value("", &st).parse().expect("a number");
            assert!(v <= 32767);
            let v: u64 = value("5 9", &st).parse().expect("a number");
            assert!((5..=9).contains(&v), "{v}");
            let v: u64 = value("32000", &st).parse().expect("a number");
            assert!((32000..=32767).contains(&v), "{v}");
        }
        assert_eq!(value("7 7", &st), "7");
        assert_eq!(value("7 7 100", &st), "7");
        // Cut to the digits of MAX, as keepalived's buffer is.
        assert_eq!(value("100 100", &st), "100");
        assert_eq!(value("12 12", &st), "12");
        assert_eq!(value("95 5", &st).len(), 1);
    }

    #[test]
    fn the_generator_moves() {
        let st = Cell::new(seed());
        let a: Vec<String> = (0..8).map(|_| value("", &st)).collect();
        assert!(a.iter().any(|v| v != &a[0]), "{a:?}");
    }
}
