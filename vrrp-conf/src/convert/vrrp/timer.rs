//! A number of seconds with up to six decimals, read as keepalived 2.2.7's
//! `read_timer` reads it where a bad value is not fatal (`lib/parser.c`):
//! what it reports as configuration errors, and the value it goes on with.
//!
//! More than six decimals is an error, but the number is rounded to six
//! (on the seventh) and used. A word that is not a number is an error and
//! is read as C's `strtoull` reads the digits (decimal point removed, zeros
//! added to six decimals): `1x` is 1 µs and `x` is 0, both used. A
//! negative number, one beyond 64 bits and one out of range are errors
//! and give no value.

/// Decimal places of a timer (keepalived's `TIMER_HZ_DIGITS`).
const PLACES: usize = 6;

/// What keepalived makes of one timer word.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Reading {
    /// Microseconds, if keepalived uses the word.
    pub(super) value: Option<u64>,
    /// Its configuration errors about the word, in its words (as `-t`
    /// prints them), in order.
    pub(super) errors: Vec<String>,
}

/// Reads `word` as a timer from 0 to `max` microseconds.
pub(super) fn read(word: &str, max: u64) -> Reading {
    let mut errors = Vec::new();
    if word.starts_with('-') {
        errors.push(format!("negative number '{word}'"));
        return Reading {
            value: None,
            errors,
        };
    }
    let (int, frac) = word.split_once('.').unwrap_or((word, ""));
    let mut frac = frac.as_bytes();
    let mut round_up = false;
    if let Some(&next) = frac.get(PLACES) {
        errors.push(format!("number '{word}' has too many decimal places"));
        // C compares a (signed) char with '5'.
        round_up = (b'5'..0x80).contains(&next);
        frac = &frac[..PLACES];
    }
    let mut digits = int.as_bytes().to_vec();
    digits.extend_from_slice(frac);
    digits.resize(int.len() + PLACES, b'0');
    let (mut value, complete, overflow) = strtoull(&digits);
    if round_up {
        value = value.wrapping_add(1);
    }
    if !complete {
        errors.push(format!("invalid number '{word}'"));
    } else if overflow {
        errors.push(format!("number '{word}' outside unsigned decimal range"));
        return Reading {
            value: None,
            errors,
        };
    } else if value > max {
        let unit = 1_000_000;
        errors.push(format!(
            "number '{word}' outside range [0.000000, {}.{:06}]",
            max / unit,
            max % unit
        ));
    }
    Reading {
        value: (value <= max).then_some(value),
        errors,
    }
}

/// C's `strtoull(s, &end, 10)`: the value, whether the whole of `s` was
/// read, and whether it overflowed (`ERANGE`, the value then `u64::MAX`).
fn strtoull(s: &[u8]) -> (u64, bool, bool) {
    let space = |b: &u8| matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r');
    let start = s.iter().take_while(|b| space(b)).count();
    let mut rest = &s[start..];
    let negative = rest.first() == Some(&b'-');
    if matches!(rest.first(), Some(b'+' | b'-')) {
        rest = &rest[1..];
    }
    let n = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 {
        // Nothing read: the end is the start.
        return (0, s.is_empty(), false);
    }
    let mut value: u64 = 0;
    let mut overflow = false;
    for &b in &rest[..n] {
        let next = value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')));
        match next {
            Some(v) => value = v,
            None => overflow = true,
        }
    }
    if overflow {
        return (u64::MAX, n == rest.len(), true);
    }
    let value = if negative {
        value.wrapping_neg()
    } else {
        value
    };
    (value, n == rest.len(), false)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: u64 = 255_000_000;

    fn ok(value: u64) -> Reading {
        Reading {
            value: Some(value),
            errors: vec![],
        }
    }

    #[test]
    fn seconds_with_up_to_six_decimals() {
        assert_eq!(read("0", MAX), ok(0));
        assert_eq!(read("2", MAX), ok(2_000_000));
        assert_eq!(read(".5", MAX), ok(500_000));
        assert_eq!(read("1.", MAX), ok(1_000_000));
        assert_eq!(read("255", MAX), ok(MAX));
        assert_eq!(read("0.000001", MAX), ok(1));
        assert_eq!(read("+3", MAX), ok(3_000_000));
    }

    #[test]
    fn more_decimals_are_an_error_and_rounded_on_the_seventh() {
        let r = read("0.0000001", MAX);
        assert_eq!(r.value, Some(0));
        assert_eq!(r.errors, ["number '0.0000001' has too many decimal places"]);
        let r = read("1.0000005", MAX);
        assert_eq!(r.value, Some(1_000_001));
        assert_eq!(r.errors, ["number '1.0000005' has too many decimal places"]);
    }

    #[test]
    fn out_of_range_negative_and_huge_give_no_value() {
        let r = read("256", MAX);
        assert_eq!(r.value, None);
        assert_eq!(
            r.errors,
            ["number '256' outside range [0.000000, 255.000000]"]
        );
        let r = read("-1", MAX);
        assert_eq!(r.value, None);
        assert_eq!(r.errors, ["negative number '-1'"]);
        let r = read("99999999999999999999", MAX);
        assert_eq!(r.value, None);
        assert_eq!(
            r.errors,
            ["number '99999999999999999999' outside unsigned decimal range"]
        );
    }

    #[test]
    fn words_that_are_not_numbers_are_read_as_strtoull_reads_them() {
        let r = read("x", MAX);
        assert_eq!(r.value, Some(0));
        assert_eq!(r.errors, ["invalid number 'x'"]);
        // "1x" + six zeros: strtoull stops at the x.
        let r = read("1x", MAX);
        assert_eq!(r.value, Some(1));
        assert_eq!(r.errors, ["invalid number '1x'"]);
        // "1.2.3": "12.3" + four zeros, read up to the second point.
        let r = read("1.2.3", MAX);
        assert_eq!(r.value, Some(12));
        assert_eq!(r.errors, ["invalid number '1.2.3'"]);
    }
}
