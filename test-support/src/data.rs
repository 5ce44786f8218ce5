//! Page contents and their digests.

use std::path::Path;
use std::process::Command;

/// MD5 of a file as lower-case hex, via the md5sum tool (an implementation
/// independent of ours). Panics if md5sum cannot be run.
pub fn md5_hex_of_file(path: &Path) -> String {
    let out = Command::new("md5sum").arg(path).output().expect("md5sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Parses lower-case hex. Panics on a non-hex digit (a test bug).
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// `n` deterministic pseudo-random bytes (xorshift from `seed`).
pub fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_parses_and_bytes_repeat_per_seed() {
        assert_eq!(unhex("00ff7a"), [0x00, 0xff, 0x7a]);
        assert_eq!(bytes(16, 7), bytes(16, 7));
        assert_ne!(bytes(16, 7), bytes(16, 8));
        assert_eq!(bytes(3, 1).len(), 3);
    }
}
