//! Diagnostics: what is wrong, where, how bad, and a suggestion when a
//! keyword looks misspelt.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::span::{SourceMap, Span};

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth knowing; the configuration means what it says.
    Warning,
    /// keepalived would ignore or change this part of the configuration.
    Error,
}

/// The class of a diagnostic, so that callers can count and filter them.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    thiserror::Error,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Code {
    /// A configuration file could not be read.
    #[error("file cannot be read")]
    FileUnreadable,
    /// An include pattern matched no file.
    #[error("include matched nothing")]
    IncludeNoMatch,
    /// A file includes itself, directly or not.
    #[error("include cycle")]
    IncludeCycle,
    /// Includes nest deeper than the limit.
    #[error("include too deep")]
    IncludeTooDeep,
    /// A line is longer than keepalived's 1024-byte buffer.
    #[error("line too long")]
    LineTooLong,
    /// A quoted string is not closed on its line.
    #[error("unterminated quote")]
    UnterminatedQuote,
    /// A comment character inside an unquoted word cut it short.
    #[error("comment inside a word")]
    CommentInWord,
    /// `~SEQ`/`~LST` or parameter expansion is malformed or too large.
    #[error("bad expansion")]
    BadExpansion,
    /// A `{` or `}` without its partner.
    #[error("unbalanced brace")]
    UnbalancedBrace,
    /// A keyword not known in this block.
    #[error("unknown keyword")]
    UnknownKeyword,
    /// A keyword that keepalived still accepts under an older name.
    #[error("deprecated keyword")]
    Deprecated,
    /// A keyword is missing its value, or has too many.
    #[error("wrong number of arguments")]
    BadArgCount,
    /// A value that does not parse (number, address, enum word).
    #[error("invalid value")]
    InvalidValue,
    /// A number outside the range keepalived allows.
    #[error("value out of range")]
    OutOfRange,
    /// Two objects that must be unique share a name or id.
    #[error("duplicate")]
    Duplicate,
    /// A reference to a script, instance or group that does not exist.
    #[error("unknown reference")]
    UnknownReference,
    /// A required setting is missing.
    #[error("missing setting")]
    Missing,
    /// Settings that contradict each other.
    #[error("conflicting settings")]
    Conflict,
    /// Scripts would run as root without `enable_script_security`.
    #[error("script security")]
    ScriptSecurity,
    /// A setting that keepalived accepts but ignores.
    #[error("ignored setting")]
    Ignored,
    /// A keyword or value keepalived knows that the keepalived crates do
    /// not run (from [`crate::convert`]); the message says "not supported".
    #[error("not supported")]
    Unsupported,
    /// A keyword accepted without effect (from [`crate::convert`]: tuning
    /// keywords and keywords of refused features).
    #[error("no effect")]
    NoEffect,
    /// An interface the configuration names does not exist on this host
    /// (only from [`crate::Parsed::missing_interfaces`]).
    #[error("missing interface")]
    MissingInterface,
    /// A line keepalived 2.2.7 reports as a configuration error (so its
    /// `-t` fails) and then runs past, ignoring or changing the line as
    /// the message says; keepalived-lite does the same. An error that
    /// fails `-t` but does not stop the daemon
    /// ([`Diagnostic::stops_start`]).
    #[error("keepalived configuration error")]
    KeepalivedError,
}

/// One finding about the configuration. Made with [`Diagnostic::error`] or
/// [`Diagnostic::warning`]; more fields may be added.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Diagnostic {
    /// How bad it is.
    pub severity: Severity,
    /// Its class.
    pub code: Code,
    /// Where it is.
    pub span: Span,
    /// A short message.
    pub message: String,
    /// A keyword the author probably meant.
    pub suggestion: Option<String>,
}

impl Diagnostic {
    /// An error at `span`.
    pub fn error(code: Code, span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, code, span, message)
    }

    /// A warning at `span`.
    pub fn warning(code: Code, span: Span, message: impl Into<String>) -> Self {
        Self::new(Severity::Warning, code, span, message)
    }

    fn new(severity: Severity, code: Code, span: Span, message: impl Into<String>) -> Self {
        Diagnostic {
            severity,
            code,
            span,
            message: message.into(),
            suggestion: None,
        }
    }

    /// True if the daemon refuses to start (or reload) with this: an
    /// error, except keepalived's own configuration errors that it runs
    /// past ([`Code::KeepalivedError`]).
    pub fn stops_start(&self) -> bool {
        self.severity == Severity::Error && self.code != Code::KeepalivedError
    }

    /// Renders as `FILE:LINE:COL: severity: message (did you mean 'x'?)`.
    pub fn display<'a>(&'a self, files: &'a SourceMap) -> impl fmt::Display + 'a {
        Rendered { d: self, files }
    }
}

struct Rendered<'a> {
    d: &'a Diagnostic,
    files: &'a SourceMap,
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.d;
        let sev = match d.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        // Line 0: no position (the main file itself could not be read).
        if d.span.line == 0 {
            write!(f, "{sev}: {}", d.message)?;
        } else {
            let file = self.files.name(d.span.file);
            let (line, col) = (d.span.line, d.span.col);
            write!(f, "{file}:{line}:{col}: {sev}: {}", d.message)?;
        }
        if let Some(s) = &d.suggestion {
            write!(f, " (did you mean '{s}'?)")?;
        }
        Ok(())
    }
}

/// The candidate closest to `word` by edit distance (with transpositions), if it is close enough
/// to be a plausible misspelling (at most a third of the word's length).
pub fn did_you_mean<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let limit = (word.len() / 3).clamp(1, 4);
    candidates
        .iter()
        // The distance is at least the difference in length: skipping far
        // candidates keeps a long word from costing length x candidates.
        .filter(|c| c.len().abs_diff(word.len()) <= limit)
        // So is the difference in letters, which is cheap to count.
        .filter(|c| bag_distance(word, c) <= limit)
        .map(|c| (strsim::osa_distance(word, c), *c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// How many characters one string has that the other lacks (the larger of
/// the two counts): a lower bound of the edit distance. `keyword` is ASCII,
/// so every other character of `word` is one it lacks.
fn bag_distance(word: &str, keyword: &str) -> usize {
    let mut h = [0i64; 128];
    let mut more = 0i64;
    for c in word.chars() {
        match u8::try_from(c).ok().filter(u8::is_ascii) {
            Some(b) => h[usize::from(b)] += 1,
            None => more += 1,
        }
    }
    for b in keyword.bytes() {
        if let Some(v) = h.get_mut(usize::from(b)) {
            *v -= 1;
        }
    }
    more += h.iter().filter(|&&v| v > 0).sum::<i64>();
    let less: i64 = -h.iter().filter(|&&v| v < 0).sum::<i64>();
    usize::try_from(more.max(less)).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keywords_only() {
        let kw = ["vrrp_instance", "virtual_server", "global_defs"];
        assert_eq!(did_you_mean("vrrp_instnce", &kw), Some("vrrp_instance"));
        assert_eq!(did_you_mean("virtaul_server", &kw), Some("virtual_server"));
        assert_eq!(did_you_mean("VI_2", &kw), None);
    }

    #[test]
    fn long_words_are_not_compared() {
        // A 100 kB word once cost a 100k x 13 distance matrix per candidate.
        let long = "vrrp_instance".repeat(8000);
        assert_eq!(did_you_mean(&long, &["vrrp_instance"]), None);
        assert_eq!(
            did_you_mean("vrrp_instanceXXXX", &["vrrp_instance"]),
            Some("vrrp_instance")
        );
        assert_eq!(did_you_mean("vrrp_instanceXXXXX", &["vrrp_instance"]), None);
        assert_eq!(
            did_you_mean("vrrp_insatnce", &["vrrp_instance"]),
            Some("vrrp_instance")
        );
        assert_eq!(bag_distance("abc", "cab"), 0);
        assert_eq!(bag_distance("abcd", "ab"), 2);
        assert_eq!(bag_distance("ab", "xyz"), 3);
        assert_eq!(bag_distance("prioritý", "priority"), 1);
        assert_eq!(did_you_mean("prioritý", &["priority"]), Some("priority"));
        assert_eq!(did_you_mean("rorut\u{9e}\u{9a}", &["router_id"]), None);
    }
}
