//! HTTP_GET/SSL_GET `url { regex ... }`: a pattern the response must (or,
//! with `regex_no_match`, must not) match, as keepalived 2.2.7 runs it.
//!
//! keepalived feeds every chunk it reads, from the status line on, to
//! PCRE2 as one stream (partial matching across chunks), so the subject is
//! the whole response as received, header included, and the offsets count
//! from its first byte. A match must start at or after `regex_min_offset`
//! and at or before `regex_max_offset`.
//!
//! Differences from PCRE2 (the `regex` crate has no backtracking): no
//! backreferences or lookaround (such a pattern is refused when the
//! configuration is read), and `$` without `multiline` matches only at the
//! very end, as PCRE2's `dollar_endonly` does; PCRE2 also lets it match
//! before a final newline. Matching is byte-wise, as PCRE2 without `utf`.

use regex::bytes::{Regex, RegexBuilder};

/// The most of a response kept for matching (16 MiB): keepalived streams
/// without a limit; a longer response is matched on its first 16 MiB.
pub const MAX_SUBJECT: usize = 16 << 20;

/// One `regex_options` word: how it maps onto the `regex` crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Opt {
    CaseInsensitive,
    MultiLine,
    DotAll,
    Extended,
    Ungreedy,
    Utf,
    FirstLine,
    /// An option that changes nothing a match decides (optimisation
    /// switches, capture numbering, UTF/UCP refusals the `regex` crate
    /// never needs, the JIT's `\C` ban).
    Same,
}

/// The PCRE2 options keepalived 2.2.7 names that the `regex` crate can
/// honour exactly; the others are refused by name.
fn option(word: &str) -> Option<Opt> {
    Some(match word {
        "caseless" => Opt::CaseInsensitive,
        "multiline" => Opt::MultiLine,
        "dotall" => Opt::DotAll,
        "extended" => Opt::Extended,
        "ungreedy" => Opt::Ungreedy,
        "utf" | "ucp" => Opt::Utf,
        "firstline" => Opt::FirstLine,
        "dollar_endonly" | "never_ucp" | "never_utf" | "no_auto_capture" | "no_auto_possess"
        | "no_dotstar_anchor" | "no_start_optimize" | "never_backslash_c" | "use_offset_limit" => {
            Opt::Same
        }
        _ => return None,
    })
}

/// The PCRE2 option names keepalived 2.2.7 knows (`regex_options`).
pub const PCRE2_OPTIONS: [&str; 24] = [
    "allow_empty_class",
    "alt_bsux",
    "auto_callout",
    "caseless",
    "dollar_endonly",
    "dotall",
    "dupnames",
    "extended",
    "firstline",
    "match_unset_backref",
    "multiline",
    "never_ucp",
    "never_utf",
    "no_auto_capture",
    "no_auto_possess",
    "no_dotstar_anchor",
    "no_start_optimize",
    "ucp",
    "ungreedy",
    "utf",
    "never_backslash_c",
    "alt_circumflex",
    "alt_verbnames",
    "use_offset_limit",
];

/// Why a `regex` cannot run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegexError {
    /// The pattern does not compile (or uses what only PCRE2 has).
    #[error("invalid regex '{pattern}': {why}")]
    Pattern {
        /// The pattern.
        pattern: String,
        /// The compiler's words.
        why: String,
    },
    /// A PCRE2 option the `regex` crate cannot honour.
    #[error("regex_options {0} is not supported by keepalived-lite")]
    UnsupportedOption(String),
    /// A word that is no PCRE2 option.
    #[error("unknown regex_options '{0}'")]
    UnknownOption(String),
}

/// A compiled `regex` with its `url` settings.
#[derive(Debug, Clone)]
pub struct BodyRegex {
    /// The pattern as written.
    pub pattern: String,
    /// The `regex_options` words, as written.
    pub options: Vec<String>,
    /// `regex_no_match`: up while the pattern does *not* match.
    pub no_match: bool,
    /// `regex_min_offset`: the earliest start of a match.
    pub min_offset: usize,
    /// `regex_max_offset`: the latest start of a match (None: any).
    pub max_offset: Option<usize>,
    first_line: bool,
    compiled: Regex,
}

impl PartialEq for BodyRegex {
    fn eq(&self, other: &Self) -> bool {
        (&self.pattern, &self.options, self.no_match)
            == (&other.pattern, &other.options, other.no_match)
            && (self.min_offset, self.max_offset) == (other.min_offset, other.max_offset)
    }
}

impl Eq for BodyRegex {}

impl BodyRegex {
    /// Compiles `pattern` with the `regex_options` words `options`.
    pub fn new(pattern: &str, options: &[String]) -> Result<Self, RegexError> {
        let mut b = RegexBuilder::new(pattern);
        // PCRE2 without `utf` matches bytes.
        b.unicode(false);
        let mut first_line = false;
        for word in options {
            let opt = option(word).ok_or_else(|| match PCRE2_OPTIONS.contains(&word.as_str()) {
                true => RegexError::UnsupportedOption(word.clone()),
                false => RegexError::UnknownOption(word.clone()),
            })?;
            match opt {
                Opt::CaseInsensitive => b.case_insensitive(true),
                Opt::MultiLine => b.multi_line(true),
                Opt::DotAll => b.dot_matches_new_line(true),
                Opt::Extended => b.ignore_whitespace(true),
                Opt::Ungreedy => b.swap_greed(true),
                Opt::Utf => b.unicode(true),
                Opt::FirstLine => {
                    first_line = true;
                    &mut b
                }
                Opt::Same => &mut b,
            };
        }
        let compiled = b.build().map_err(|e| RegexError::Pattern {
            pattern: pattern.to_owned(),
            why: e
                .to_string()
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_owned(),
        })?;
        Ok(Self {
            pattern: pattern.to_owned(),
            options: options.to_vec(),
            no_match: false,
            min_offset: 0,
            max_offset: None,
            first_line,
            compiled,
        })
    }

    /// Whether the pattern matches `response` (status line on) with a
    /// match starting within the offsets.
    pub fn matches(&self, response: &[u8]) -> bool {
        let start = self.min_offset;
        if start > response.len() {
            return false;
        }
        let Some(m) = self.compiled.find_at(response, start) else {
            return false;
        };
        // PCRE2_FIRSTLINE: the match starts before or at the first newline
        // after where matching began.
        let line_end = response
            .get(start..)
            .and_then(|r| r.iter().position(|b| *b == b'\n'))
            .map_or(usize::MAX, |p| start + p);
        let latest = self.max_offset.unwrap_or(usize::MAX);
        // The leftmost match is the earliest start: if it is too late, so
        // is every other.
        m.start() <= latest && (!self.first_line || m.start() <= line_end)
    }

    /// Whether a check passes on `response`: a match, or with
    /// `regex_no_match` none.
    pub fn passes(&self, response: &[u8]) -> bool {
        self.matches(response) != self.no_match
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.
    use super::*;

    const RESP: &[u8] = b"HTTP/1.0 200 OK\r\nContent-Length: 11\r\n\r\nstatus: ok\n";

    fn re(p: &str, opts: &[&str]) -> BodyRegex {
        let opts: Vec<String> = opts.iter().map(|s| s.to_string()).collect();
        BodyRegex::new(p, &opts).unwrap()
    }

    #[test]
    fn the_subject_is_the_whole_response_header_included() {
        assert!(re("^HTTP/1\\.0 200", &[]).matches(RESP));
        assert!(re("status: ok", &[]).matches(RESP));
        assert!(!re("status: down", &[]).matches(RESP));
        assert!(!re("STATUS", &[]).matches(RESP));
        assert!(re("STATUS", &["caseless"]).matches(RESP));
    }

    #[test]
    fn no_match_inverts() {
        let mut r = re("error", &[]);
        r.no_match = true;
        assert!(r.passes(RESP));
        let mut r = re("ok", &[]);
        r.no_match = true;
        assert!(!r.passes(RESP));
    }

    #[test]
    fn offsets_bound_where_a_match_starts() {
        // "status" starts at byte 39.
        let at = RESP.windows(6).position(|w| w == b"status").unwrap();
        assert_eq!(at, 39);
        let mut r = re("status", &[]);
        r.max_offset = Some(39);
        assert!(r.matches(RESP));
        r.max_offset = Some(38);
        assert!(!r.matches(RESP));
        r.max_offset = None;
        r.min_offset = 39;
        assert!(r.matches(RESP));
        r.min_offset = 40;
        assert!(!r.matches(RESP));
        r.min_offset = 10_000;
        assert!(!r.matches(RESP));
    }

    #[test]
    fn multiline_and_firstline() {
        assert!(!re("^status", &[]).matches(RESP));
        assert!(re("^status", &["multiline"]).matches(RESP));
        assert!(re("ok", &[]).matches(RESP));
        assert!(re("200", &["firstline"]).matches(RESP));
        assert!(!re("status", &["firstline"]).matches(RESP));
    }

    #[test]
    fn options_keepalived_knows_but_cannot_be_honoured_are_named() {
        let opts = |w: &str| vec![w.to_string()];
        assert_eq!(
            BodyRegex::new("a", &opts("dupnames")).unwrap_err(),
            RegexError::UnsupportedOption("dupnames".into())
        );
        assert_eq!(
            BodyRegex::new("a", &opts("bogus")).unwrap_err(),
            RegexError::UnknownOption("bogus".into())
        );
        assert!(matches!(
            BodyRegex::new("(a)\\1", &[]).unwrap_err(),
            RegexError::Pattern { .. }
        ));
        for o in PCRE2_OPTIONS {
            let r = BodyRegex::new("a", &opts(o));
            assert_eq!(r.is_ok(), option(o).is_some(), "{o}");
        }
    }
}
