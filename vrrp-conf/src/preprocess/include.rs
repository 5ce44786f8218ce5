//! What keepalived 2.2.7 checks about an include: the bits of its variant
//! (`include`, `includer`, `includem`, `includew`, `includeb`,
//! `includea`), those of `global_defs { include_check ... }` and `-e`, and
//! how a pattern's alternatives are found or missing.

use std::path::Path;

use super::loader::{FileKind, Loader};

/// A matched file that cannot be read, is a directory, or is executable
/// is an error.
pub const CHECK_READ: u8 = 0x01;
/// A pattern (or one without wildcards) naming a missing file or
/// directory is an error.
pub const CHECK_MATCH: u8 = 0x02;
/// A pattern with wildcards that matches nothing is an error.
pub const CHECK_WILDCARD: u8 = 0x04;
/// A brace pattern with any alternative missing is an error, and none of
/// its files is read.
pub const CHECK_BRACE: u8 = 0x08;
/// Every check: `-e`, or `include_check` without arguments.
pub const CHECK_ALL: u8 = CHECK_READ | CHECK_MATCH | CHECK_WILDCARD | CHECK_BRACE;

/// The include keyword starting `t` and its own check bits, or `None` if
/// `t` is no include line.
pub(super) fn variant(t: &str) -> Option<(&str, u8)> {
    let kw = t.split_ascii_whitespace().next()?;
    let bits = match kw {
        "include" => 0,
        "includer" => CHECK_READ,
        "includem" => CHECK_READ | CHECK_MATCH,
        "includew" => CHECK_READ | CHECK_MATCH | CHECK_WILDCARD,
        "includeb" => CHECK_READ | CHECK_BRACE,
        "includea" => CHECK_ALL,
        _ => return None,
    };
    Some((kw, bits))
}

/// Applies the words after `include_check` to `bits`, as keepalived does
/// when it reads the line: a plain first word sets (with `read` implied),
/// `+word` adds, `-word` removes; no word sets everything. Words keepalived
/// ignores (reported by the conversion) change nothing.
pub(super) fn apply_check(bits: u8, words: &[&str]) -> u8 {
    if words.is_empty() {
        return CHECK_ALL;
    }
    let mut bits = bits;
    for (i, w) in words.iter().enumerate() {
        let (op, name) = match w.as_bytes().first() {
            Some(b'+') => ('+', &w[1..]),
            Some(b'-') => ('-', &w[1..]),
            _ if i == 0 => {
                bits = 0;
                ('=', *w)
            }
            _ => continue,
        };
        let Some(flag) = check_name(name) else {
            continue;
        };
        match op {
            '+' => bits |= flag,
            '-' => bits &= !flag,
            _ => bits = CHECK_READ | flag,
        }
    }
    bits
}

/// The bit of an `include_check` word.
pub(crate) fn check_name(name: &str) -> Option<u8> {
    match name {
        "read" => Some(CHECK_READ),
        "match" => Some(CHECK_MATCH),
        "wildcard_match" => Some(CHECK_WILDCARD),
        "brace_match" => Some(CHECK_BRACE),
        _ => None,
    }
}

/// True if `p` holds a glob wildcard. A backslash counts: glob(3) then
/// searches the directory as for a wildcard, so keepalived 2.2.7 reports
/// an escaped name that is missing as a wildcard matching nothing.
pub(super) fn has_wildcard(p: &str) -> bool {
    p.contains(['*', '?', '[', '\\'])
}

/// `p` with glob(3)'s backslash escapes in the `glob` crate's syntax: an
/// escaped wildcard becomes a one-character class, any other escaped
/// character itself.
pub(super) fn unescape_glob(p: &str) -> String {
    let mut out = String::with_capacity(p.len());
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some(e @ ('*' | '?' | '[' | ']')) => {
                out.push('[');
                out.push(e);
                out.push(']');
            }
            Some(e) => out.push(e),
            None => out.push('\\'),
        }
    }
    out
}

/// True if `p` holds a brace not escaped by a backslash.
pub(super) fn has_brace(p: &str) -> bool {
    let mut escaped = false;
    for c in p.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            '{' => return true,
            _ => {}
        }
    }
    false
}

/// Whether one alternative of a pattern (braces expanded, path
/// absolute or relative to the working directory) names something
/// missing: a file without wildcards that does not exist, or a directory
/// a wildcard would be searched in that does not exist.
pub(super) fn is_missing(loader: &dyn Loader, alt: &str) -> bool {
    if !has_wildcard(alt) {
        return loader.kind(Path::new(alt)).is_none();
    }
    let first = alt.find(['*', '?', '[']).unwrap_or(alt.len());
    let dir = match alt[..first].rfind('/') {
        Some(0) => "/",
        Some(i) => &alt[..i],
        None => ".",
    };
    loader.kind(Path::new(dir)) != Some(FileKind::Dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_check_words_set_add_and_remove() {
        assert_eq!(apply_check(0, &[]), CHECK_ALL);
        assert_eq!(apply_check(CHECK_ALL, &["match"]), CHECK_READ | CHECK_MATCH);
        assert_eq!(
            apply_check(0, &["brace_match", "+wildcard_match"]),
            CHECK_READ | CHECK_BRACE | CHECK_WILDCARD
        );
        assert_eq!(apply_check(CHECK_ALL, &["-read", "-match"]), 0x0c);
        // A second plain word is ignored; an unknown first word clears.
        assert_eq!(apply_check(0, &["read", "match"]), CHECK_READ);
        assert_eq!(apply_check(CHECK_ALL, &["bogus"]), 0);
        assert_eq!(apply_check(CHECK_READ, &["+bogus"]), CHECK_READ);
    }

    #[test]
    fn variants_have_keepalived_s_bits() {
        assert_eq!(variant("include x"), Some(("include", 0)));
        assert_eq!(variant("includem x"), Some(("includem", 3)));
        assert_eq!(variant("includew x"), Some(("includew", 7)));
        assert_eq!(variant("includeb x"), Some(("includeb", 9)));
        assert_eq!(variant("includea x"), Some(("includea", 15)));
        assert_eq!(variant("includet x"), None);
        assert_eq!(variant("include_check"), None);
    }

    #[test]
    fn braces_and_wildcards_are_recognised() {
        assert!(has_brace("/a/{b,c}"));
        assert!(!has_brace("/a/\\{b,c}"));
        assert!(has_wildcard("/a/*.conf"));
        assert!(!has_wildcard("/a/b.conf"));
        assert!(has_wildcard("/a/\\{b,c\\}"));
    }

    #[test]
    fn escapes_become_the_glob_crate_s_syntax() {
        assert_eq!(unescape_glob("d/\\{a,b\\}.conf"), "d/{a,b}.conf");
        assert_eq!(unescape_glob("d/\\*x\\?\\[\\]"), "d/[*]x[?][[][]]");
        assert_eq!(unescape_glob("d/a\\"), "d/a\\");
    }
}
