//! FILE_CHECK: a number read from a file, as keepalived 2.2.7's tracked
//! files give it to a real server (`track_file.c`
//! `update_track_file_status`, `process_update_checker_track_file_status`).
//!
//! With weight 0 the check is down while the number is not 0 (with
//! `reverse`, while it is 0). Otherwise the number times the weight
//! (negated under `reverse`) is added to the real server's weight, and
//! the check is down only at `i32::MIN` or below. A missing or unreadable
//! file reads as 0, as in keepalived.

use std::path::PathBuf;

use crate::{BoxFuture, CheckContext, CheckOutcome, Checker, DownReason};

/// keepalived's FILE_CHECK on one tracked file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileChecker {
    /// The file (`track_file`'s `file`).
    pub path: PathBuf,
    /// The weight applied to the number (default 1).
    pub weight: i32,
    /// `reverse`: the number counts negatively.
    pub reverse: bool,
    /// The real server's configured weight, which the number adjusts.
    pub base_weight: u32,
}

impl FileChecker {
    /// A check of `path` with weight 1, not reversed, on a real server of
    /// weight `base_weight`.
    pub fn new(path: impl Into<PathBuf>, base_weight: u32) -> Self {
        Self {
            path: path.into(),
            weight: 1,
            reverse: false,
            base_weight,
        }
    }

    /// What the file's `number` means for the real server.
    pub fn outcome(&self, number: i64) -> CheckOutcome {
        if self.weight == 0 {
            return if (number != 0) != self.reverse {
                CheckOutcome::Down(DownReason::FileStatus(number))
            } else {
                CheckOutcome::Up
            };
        }
        let sign = if self.reverse { -1 } else { 1 };
        let delta = number
            .saturating_mul(i64::from(self.weight))
            .saturating_mul(sign);
        if delta <= i64::from(i32::MIN) {
            return CheckOutcome::Down(DownReason::FileStatus(number));
        }
        let weight = i64::from(self.base_weight).saturating_add(delta);
        // keepalived's real_weight(): clamped to the kernel's range.
        let weight = u32::try_from(weight.clamp(0, i64::from(i32::MAX))).unwrap_or(0);
        CheckOutcome::UpWithWeight(weight)
    }
}

/// The number a tracked file holds, as keepalived reads it (`strtol`
/// with base 0: leading blanks, a sign, decimal, `0x` hex or `0` octal;
/// what follows the digits is ignored; no digits, or a number out of
/// range, is 0).
pub fn parse_number(text: &str) -> i64 {
    let t = text.trim_start();
    let (negative, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        (16, h)
    } else if t.len() > 1 && t.starts_with('0') {
        (8, &t[1..])
    } else {
        (10, t)
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    let value = i64::from_str_radix(&digits[..end], radix).unwrap_or(0);
    if negative {
        -value
    } else {
        value
    }
}

impl Checker for FileChecker {
    fn check<'a>(&'a self, _ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(async move {
            // keepalived reads at most 127 bytes; a missing file is 0.
            let path = self.path.clone();
            let read = tokio::task::spawn_blocking(move || std::fs::read(path)).await;
            let text = read.ok().and_then(Result::ok).unwrap_or_default();
            let head = &text[..text.len().min(127)];
            self.outcome(parse_number(&String::from_utf8_lossy(head)))
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::*;

    #[test]
    fn numbers_parse_as_strtol_base_0() {
        for (text, n) in [
            ("0", 0),
            ("  42\n", 42),
            ("-7", -7),
            ("+3x", 3),
            ("0x1f", 31),
            ("010", 8),
            ("", 0),
            ("up", 0),
            ("99999999999999999999999", 0),
        ] {
            assert_eq!(parse_number(text), n, "{text:?}");
        }
    }

    #[test]
    fn weight_zero_is_up_or_down() {
        let mut f = FileChecker::new("/x", 5);
        f.weight = 0;
        assert_eq!(f.outcome(0), CheckOutcome::Up);
        assert_eq!(f.outcome(3), CheckOutcome::Down(DownReason::FileStatus(3)));
        f.reverse = true;
        assert_eq!(f.outcome(3), CheckOutcome::Up);
        assert_eq!(f.outcome(0), CheckOutcome::Down(DownReason::FileStatus(0)));
    }

    #[test]
    fn a_weight_adjusts_the_real_server() {
        let mut f = FileChecker::new("/x", 5);
        f.weight = 2;
        assert_eq!(f.outcome(3), CheckOutcome::UpWithWeight(11));
        assert_eq!(f.outcome(-10), CheckOutcome::UpWithWeight(0));
        f.reverse = true;
        assert_eq!(f.outcome(1), CheckOutcome::UpWithWeight(3));
        assert_eq!(
            f.outcome(i64::MAX),
            CheckOutcome::Down(DownReason::FileStatus(i64::MAX))
        );
    }

    #[tokio::test]
    async fn reads_the_file_and_a_missing_one_is_zero() {
        let dir = std::env::temp_dir().join(format!("hc-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("status");
        let mut f = FileChecker::new(&path, 1);
        f.weight = 0;
        let ctx = CheckContext::new(
            "127.0.0.1:0".parse().unwrap(),
            std::time::Duration::from_secs(1),
        );
        assert_eq!(f.check(&ctx).await, CheckOutcome::Up);
        std::fs::write(&path, "1\n").unwrap();
        assert_eq!(
            f.check(&ctx).await,
            CheckOutcome::Down(DownReason::FileStatus(1))
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
