//! Byte-level lexer with keepalived 2.2.7's rules, which differ by line.
//!
//! Comments (`scan`, as keepalived's `decomment` in lib/parser.c): `#` and
//! `!` start a comment anywhere outside `"` quotes (`'` does not quote
//! here). A backslash skips the byte after it, except that outside quotes
//! `\#` and `\!` start the comment at the backslash.
//!
//! Words: `{` and `}` outside `"` quotes are tokens of their own, and end
//! the keyword's segment (keepalived reads what follows a brace as a new
//! line). The first word of a segment is its keyword, and the keyword picks
//! the rules for the rest:
//! - Most lines (keepalived's `alloc_strvec_r`): only `"` quotes, a quote
//!   ends the word before it (`x"1 2"` is `x`, `1 2`), there are no escapes,
//!   and a `"` without its closing quote drops the rest of the line. So
//!   `auth_pass 'abc'` is the five bytes `'abc'`.
//! - Script lines, those of [`is_script_keyword`] (keepalived re-reads them
//!   with `alloc_strvec_quoted_escaped`): `"` and `'` quote, adjacent quoted
//!   and unquoted segments join into one word, and a backslash escapes
//!   (`\t`, `\x41`, `\101`, `\cA`, ...), inside quotes and out.
//!
//! keepalived then reads a script's first word once more, with the same
//! full rules, into the command and its arguments (`set_script_params_array`
//! in lib/notify.c); the model keeps the words as read here, and that split
//! is the consumer's. The readings above were checked against the
//! keepalived 2.2.7 binary (tests/quoting_root_keepalived.rs).

use crate::diagnostics::{Code, Diagnostic};
use crate::span::Span;

/// keepalived reads lines into a buffer of this many bytes.
pub const MAX_LINE: usize = 1024;

/// One token of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A word, with quotes removed (and on script lines escapes resolved): bytes
    /// `start..start + len` of the text arena (see [`tokenize`]).
    Word {
        /// Offset in the arena.
        start: u32,
        /// Length in bytes.
        len: u32,
    },
    /// An unquoted `{`.
    Open,
    /// An unquoted `}`.
    Close,
}

/// A token and where it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Where it starts.
    pub span: Span,
}

impl Token {
    /// The token's text, read from the arena `tokenize` wrote it to.
    pub fn text<'a>(&self, arena: &'a str) -> &'a str {
        match self.kind {
            TokenKind::Word { start, len } => start
                .checked_add(len)
                .and_then(|end| arena.get(start as usize..end as usize))
                .unwrap_or(""),
            TokenKind::Open => "{",
            TokenKind::Close => "}",
        }
    }
}

/// Whether keepalived 2.2.7 re-reads a line starting with `keyword` with
/// its full quoting rules (`alloc_strvec_quoted_escaped` in lib/parser.c),
/// directly or through `notify_script_init` (lib/notify.c). The handlers:
/// vrrp_parser.c `vrrp_vscript_script_handler` (`script`) and the
/// vrrp_instance / vrrp_sync_group notify handlers; global_parser.c the
/// fifo scripts and `startup_script` / `shutdown_script`; check_parser.c
/// `quorum_up` / `quorum_down` and real_server `notify_up` / `notify_down`;
/// check_misc.c `misc_path_handler`; check_http.c `regex_handler`.
/// keepalived matches keywords per block; none of these names is a
/// non-script keyword elsewhere, so the name alone decides here.
#[inline]
pub fn is_script_keyword(keyword: &str) -> bool {
    // Called for every line: most keywords fail the first-byte test.
    match keyword.as_bytes().first() {
        Some(b'n') => matches!(
            keyword,
            "notify"
                | "notify_master"
                | "notify_backup"
                | "notify_fault"
                | "notify_stop"
                | "notify_deleted"
                | "notify_master_rx_lower_pri"
                | "notify_up"
                | "notify_down"
                | "notify_fifo_script"
        ),
        Some(b's') => matches!(keyword, "script" | "startup_script" | "shutdown_script"),
        Some(b'q') => matches!(keyword, "quorum_up" | "quorum_down"),
        Some(b'm') => keyword == "misc_path",
        Some(b'v') => keyword == "vrrp_notify_fifo_script",
        Some(b'l') => keyword == "lvs_notify_fifo_script",
        Some(b'r') => keyword == "regex",
        _ => false,
    }
}

/// Byte offset where a comment starts, if any (see [`scan`]).
pub fn comment_start(line: &str) -> Option<usize> {
    scan(line).0
}

/// One pass over a line as keepalived's `decomment` reads it: where a
/// comment starts, and whether a `$` comes before it (so parameters may
/// need substituting). Only `"` quotes here. A backslash skips the next
/// byte, so `\"` neither opens nor closes a quote; outside quotes `\#` and
/// `\!` start the comment at the backslash (keepalived 2.2.7 drops the
/// backslash with the comment: `a\#b` reads as `a`).
pub fn scan(line: &str) -> (Option<usize>, bool) {
    let b = line.as_bytes();
    // Most lines hold none of the bytes that matter here: skip them fast.
    let Some(first) = b.iter().position(|&c| SPECIAL[c as usize]) else {
        return (None, false);
    };
    let mut quoted = false;
    let mut dollar = false;
    let mut i = first;
    while i < b.len() {
        match b[i] {
            b'"' => quoted = !quoted,
            b'$' => dollar = true,
            b'\\' => {
                if !quoted && matches!(b.get(i + 1), Some(b'#' | b'!')) {
                    return (Some(i), dollar);
                }
                dollar |= b.get(i + 1) == Some(&b'$');
                i += 2;
                continue;
            }
            b'#' | b'!' if !quoted => return (Some(i), dollar),
            _ => {}
        }
        i += 1;
    }
    (None, dollar)
}

/// Whitespace as C's `isspace` (which keepalived uses) defines it: unlike
/// `u8::is_ascii_whitespace`, it includes the vertical tab.
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\x0b' | b'\x0c' | b'\r')
}

/// A table of the bytes in `set`.
const fn table(set: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < set.len() {
        t[set[i] as usize] = true;
        i += 1;
    }
    t
}

/// Bytes that end an unquoted word on a plain line.
const ENDS_PLAIN: [bool; 256] = table(b" \t\n\x0b\x0c\r{}\"");

/// Bytes that end the simple part of a word on a script line.
const ENDS_SCRIPT: [bool; 256] = table(b" \t\n\x0b\x0c\r{}\"'\\");

/// The bytes [`scan`] must look at: comment starts, quotes, escapes, `$`.
const SPECIAL: [bool; 256] = table(b"#!\"\\$");

/// How the words after a keyword are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rules {
    /// keepalived's `alloc_strvec_r`.
    Plain,
    /// keepalived's `alloc_strvec_quoted_escaped`.
    Script,
}

/// Splits `line` (comment already removed) into tokens. `span` is the
/// position of the line's first byte. Word text is appended to `arena`, so
/// tokens cost no allocation of their own.
pub fn tokenize(
    line: &str,
    span: Span,
    arena: &mut String,
    out: &mut Vec<Token>,
    diags: &mut Vec<Diagnostic>,
) {
    let b = line.as_bytes();
    let mut i = 0;
    // The rules for the current segment, `None` before its keyword.
    let mut rules = None;
    while i < b.len() {
        let c = b[i];
        if is_space(c) {
            i += 1;
            continue;
        }
        let at = Span::new(span.file, span.line, span.col + i as u32);
        let kind = match c {
            b'{' => TokenKind::Open,
            b'}' => TokenKind::Close,
            _ => {
                let start = arena.len();
                let end = match rules {
                    Some(Rules::Script) => script_word(line, i, at, arena, diags),
                    _ => plain_word(line, i, at, arena, diags),
                };
                let Some(end) = end else {
                    // An unmatched quote: keepalived drops the rest.
                    return;
                };
                // Offsets are u32: past 4 GiB of words in one statement
                // (only expansion gets there) they would be cut silently.
                let Ok(end32) = u32::try_from(arena.len()) else {
                    arena.truncate(start);
                    let msg = "more than 4 GiB of words in one statement: the rest is dropped";
                    diags.push(Diagnostic::error(Code::BadExpansion, at, msg));
                    return;
                };
                // `start <= arena.len()`, so it fits too.
                let start32 = u32::try_from(start).unwrap_or(end32);
                let word = &arena[start..];
                if rules.is_none() {
                    rules = Some(if is_script_keyword(word) {
                        Rules::Script
                    } else {
                        Rules::Plain
                    });
                }
                out.push(Token {
                    kind: TokenKind::Word {
                        start: start32,
                        len: end32.saturating_sub(start32),
                    },
                    span: at,
                });
                // A word is never empty of bytes, so this always advances.
                i = end.max(i + 1);
                continue;
            }
        };
        out.push(Token { kind, span: at });
        rules = None;
        i += 1;
    }
}

/// Appends the plain-line word starting at `start` to `arena`; returns the
/// index after it, or `None` for a quote without its closing quote.
fn plain_word(
    line: &str,
    start: usize,
    at: Span,
    arena: &mut String,
    diags: &mut Vec<Diagnostic>,
) -> Option<usize> {
    let b = line.as_bytes();
    if b[start] == b'"' {
        let Some(len) = b[start + 1..].iter().position(|&c| c == b'"') else {
            diags.push(Diagnostic::error(
                Code::UnterminatedQuote,
                at,
                "unterminated \" quote: the rest of the line is dropped",
            ));
            return None;
        };
        // Quotes are ASCII, so these are char boundaries.
        arena.push_str(line.get(start + 1..start + 1 + len).unwrap_or(""));
        return Some(start + len + 2);
    }
    let end = b[start..]
        .iter()
        .position(|&c| ENDS_PLAIN[c as usize])
        .map_or(b.len(), |p| start + p);
    // Every byte ending a word is ASCII, so `end` is a char boundary.
    arena.push_str(line.get(start..end).unwrap_or(""));
    Some(end)
}

/// Appends the script-line word starting at `start` to `arena`; returns
/// the index after it. Always `Some`: an unterminated quote is reported
/// and ends the word with the line. Kept out of line: script lines are few.
#[inline(never)]
fn script_word(
    line: &str,
    start: usize,
    at: Span,
    arena: &mut String,
    diags: &mut Vec<Diagnostic>,
) -> Option<usize> {
    let b = line.as_bytes();
    // Fast path: a word with no quotes or escapes is copied as is.
    let simple_end = b[start..]
        .iter()
        .position(|&c| ENDS_SCRIPT[c as usize])
        .map_or(b.len(), |p| start + p);
    if simple_end == b.len() || !matches!(b[simple_end], b'"' | b'\\' | b'\'') {
        arena.push_str(line.get(start..simple_end).unwrap_or(""));
        return Some(simple_end);
    }
    let mut out: Vec<u8> = Vec::new();
    let mut i = start;
    let mut quote = 0u8;
    while i < b.len() {
        let c = b[i];
        // keepalived splits lines at braces outside `"` before it reads
        // words, so only `"` keeps a brace in the word.
        let brace = c == b'{' || c == b'}';
        if (quote == 0 && is_space(c)) || (quote != b'"' && brace) {
            break;
        }
        let next_is_brace = matches!(b.get(i + 1), Some(b'{' | b'}'));
        if c == b'\\' && i + 1 < b.len() && (quote == b'"' || !next_is_brace) {
            i = escape(b, i + 1, &mut out);
            continue;
        }
        if quote != 0 && c == quote {
            quote = 0;
        } else if quote == 0 && (c == b'"' || c == b'\'') {
            quote = c;
        } else {
            out.push(c);
        }
        i += 1;
    }
    if quote != 0 {
        diags.push(Diagnostic::error(
            Code::UnterminatedQuote,
            at,
            format!("unterminated {} quote", quote as char),
        ));
    }
    arena.push_str(&String::from_utf8_lossy(&out));
    Some(i)
}

/// Resolves the escape whose letter is at `i` as keepalived's
/// `alloc_strvec_quoted_escaped` does; returns the index after it.
fn escape(b: &[u8], i: usize, out: &mut Vec<u8>) -> usize {
    let c = b[i];
    let simple = match c {
        b'a' => Some(7),
        b'b' => Some(8),
        b'E' => Some(27),
        b'f' => Some(12),
        b'n' => Some(b'\n'),
        b'r' => Some(b'\r'),
        b't' => Some(b'\t'),
        b'v' => Some(11),
        _ => None,
    };
    if let Some(v) = simple {
        out.push(v);
        return i + 1;
    }
    match c {
        b'0'..=b'7' => {
            let mut v: u32 = 0;
            let mut j = i;
            while j < b.len() && j < i + 3 && (b'0'..=b'7').contains(&b[j]) {
                v = v * 8 + u32::from(b[j] - b'0');
                j += 1;
            }
            out.push((v & 0xff) as u8);
            j
        }
        // `\x` takes every hex digit that follows, keeping the low byte;
        // without one it is a plain `x`.
        b'x' if b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) => {
            let mut v: u32 = 0;
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_hexdigit() {
                v = (v << 4 | (b[j] as char).to_digit(16).unwrap_or(0)) & 0xff;
                j += 1;
            }
            out.push(v as u8);
            j
        }
        // A control character: the low five bits of the next byte.
        b'c' if i + 1 < b.len() => {
            out.push(b[i + 1] & 0x1f);
            i + 2
        }
        _ => {
            out.push(c);
            i + 1
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(line: &str) -> (Vec<String>, Vec<Diagnostic>) {
        let mut out = Vec::new();
        let mut d = Vec::new();
        let mut arena = String::new();
        tokenize(line, Span::default(), &mut arena, &mut out, &mut d);
        let words = out.iter().map(|t| t.text(&arena).to_string()).collect();
        (words, d)
    }

    fn words(line: &str) -> Vec<String> {
        let (w, d) = lex(line);
        assert!(d.is_empty(), "{d:?}");
        w
    }

    #[test]
    fn a_word_past_the_arena_reads_empty() {
        // `start + len` overflowed u32 (a panic in a debug build).
        let word = |start, len| Token {
            kind: TokenKind::Word { start, len },
            span: Span::default(),
        };
        assert_eq!(word(u32::MAX, 1).text("abc"), "");
        assert_eq!(word(2, u32::MAX).text("abc"), "");
        assert_eq!(word(4, 0).text("abc"), "");
        assert_eq!(word(1, 2).text("abc"), "bc");
    }

    #[test]
    fn comments_start_anywhere_outside_double_quotes() {
        assert_eq!(comment_start("auth_pass k@l!ve1"), Some(13));
        assert_eq!(comment_start("a \"b # c\" # d"), Some(10));
        // keepalived 2.2.7: `priority 1'0 #x'0` is "invalid number '1'0'".
        assert_eq!(comment_start("a 'b ! c'"), Some(5));
    }

    #[test]
    fn backslashes_in_comment_scan() {
        // keepalived 2.2.7: `auth_pass a\#b` sets the password `a`.
        assert_eq!(comment_start(r"a\#b"), Some(1));
        assert_eq!(comment_start(r"a\!b"), Some(1));
        // Inside quotes the backslash and `#` stay (password `x\#y`).
        assert_eq!(comment_start(r#""x\#y""#), None);
        // `\"` does not open a quote: `auth_pass a\"b # c"` comments at `#`.
        assert_eq!(comment_start(r#"a\"b # c""#), Some(5));
        // nor close one: `"a\"b # c"` has no comment.
        assert_eq!(comment_start(r#""a\"b # c""#), None);
        assert_eq!(scan(r"a \$x"), (None, true));
    }

    #[test]
    fn plain_lines_quote_only_with_double_quotes() {
        assert_eq!(words("auth_pass 'abc'"), ["auth_pass", "'abc'"]);
        assert_eq!(words("auth_pass \"a b\""), ["auth_pass", "a b"]);
        assert_eq!(words("auth_pass 'a b'"), ["auth_pass", "'a", "b'"]);
        assert_eq!(words("auth_pass a'b"), ["auth_pass", "a'b"]);
    }

    #[test]
    fn plain_lines_end_a_word_at_a_quote() {
        assert_eq!(words(r#"priority x"1 2""#), ["priority", "x", "1 2"]);
        assert_eq!(words(r#"priority "1 2"x"#), ["priority", "1 2", "x"]);
        assert_eq!(words(r#"a b"c"d"#), ["a", "b", "c", "d"]);
        assert_eq!(words(r#"a "" 5"#), ["a", "", "5"]);
    }

    #[test]
    fn plain_lines_have_no_escapes() {
        // keepalived 2.2.7: `priority 1\0` is "invalid number '1\0'".
        assert_eq!(
            words(r"priority 1\0 a\ b"),
            ["priority", r"1\0", r"a\", "b"]
        );
        assert_eq!(words(r#"auth_pass "a\tb""#), ["auth_pass", r"a\tb"]);
        assert_eq!(words(r"auth_pass \x41"), ["auth_pass", r"\x41"]);
    }

    #[test]
    fn plain_unmatched_quote_drops_the_rest_of_the_line() {
        // keepalived 2.2.7: `"1\"2"` is "invalid number '1\'" plus
        // "Unmatched quote".
        let (w, d) = lex(r#"priority "1\"2" {"#);
        assert_eq!(w, ["priority", r"1\", "2"]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::UnterminatedQuote);
    }

    #[test]
    fn script_lines_join_quoted_segments() {
        assert_eq!(
            words(r#"script abcd" efg h jkl "mnop"#),
            ["script", "abcd efg h jkl mnop"]
        );
        assert_eq!(
            words(r#"notify abcd "efg h jkl" mnop"#),
            ["notify", "abcd", "efg h jkl", "mnop"]
        );
        assert_eq!(
            words(r#"misc_path '/bin/x "a"' "c'd""#),
            ["misc_path", "/bin/x \"a\"", "c'd"]
        );
    }

    #[test]
    fn script_lines_escape_inside_quotes_and_out() {
        assert_eq!(
            words(r#"script "a\tb\x41\101\"c\\""#),
            ["script", "a\tbAA\"c\\"]
        );
        assert_eq!(
            words(r#"script "\cA" \c? \xg"#),
            ["script", "\u{1}", "\u{1f}", "xg"]
        );
        assert_eq!(
            words(r#"notify_master x\"a\tb"#),
            ["notify_master", "x\"a\tb"]
        );
        assert_eq!(words(r"notify_up a\ b"), ["notify_up", "a b"]);
    }

    #[test]
    fn a_brace_starts_a_new_segment() {
        // After `{` the next word is a keyword again: `auth_pass` is plain
        // even though the line started with a script keyword.
        assert_eq!(
            words(r"script x { auth_pass 'a' } notify 'b c'"),
            ["script", "x", "{", "auth_pass", "'a'", "}", "notify", "b c"]
        );
    }

    #[test]
    fn vertical_tab_and_form_feed_separate_words() {
        assert_eq!(words("a\x0bb \x0b"), ["a", "b"]);
        assert_eq!(words("a\x0cb"), ["a", "b"]);
        assert_eq!(words("script a\x0bb"), ["script", "a", "b"]);
    }

    #[test]
    fn braces_are_tokens() {
        assert_eq!(words("vrrp_instance VI_1{"), ["vrrp_instance", "VI_1", "{"]);
        assert_eq!(
            words("track_script { chk }"),
            ["track_script", "{", "chk", "}"]
        );
        assert_eq!(words("\"{\""), ["{"]);
        assert_eq!(words(r#"script "a{b}""#), ["script", "a{b}"]);
    }

    #[test]
    fn columns_are_one_based() {
        let mut out = Vec::new();
        let mut d = Vec::new();
        tokenize(
            "  ab {",
            Span::new(Default::default(), 3, 1),
            &mut String::new(),
            &mut out,
            &mut d,
        );
        assert_eq!(out[0].span.col, 3);
        assert_eq!(out[1].span.col, 6);
    }

    #[test]
    fn unterminated_script_quote_is_reported() {
        let (w, d) = lex("script \"bc");
        assert_eq!(w, ["script", "bc"]);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::UnterminatedQuote);
    }

    #[test]
    fn script_keywords_are_named() {
        assert!(is_script_keyword("notify_master"));
        assert!(is_script_keyword("misc_path"));
        assert!(!is_script_keyword("auth_pass"));
        assert!(!is_script_keyword("track_script"));
    }
}
