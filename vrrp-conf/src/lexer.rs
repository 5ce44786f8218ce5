//! Byte-level lexer with keepalived's rules: `#` and `!` start a comment
//! anywhere outside quotes, `"` and `'` quote, adjacent quoted and unquoted
//! segments form one word, shell-like escapes inside quotes, and `{` / `}`
//! are tokens of their own.
//!
//! These are the rules keepalived.conf(5) documents. The keepalived 2.2.7
//! binary applies them only when it re-reads script lines (`script`,
//! `misc_path`, notify scripts); other lines it splits more simply: only
//! `"` quotes, a quote also ends the word before it (`x"1 2"` is `x`,
//! `1 2`), and there are no escapes, so `auth_pass 'abc'` keeps its
//! quotes there. Such lines read differently here.

use crate::diagnostics::{Code, Diagnostic};
use crate::span::Span;

/// keepalived reads lines into a buffer of this many bytes.
pub const MAX_LINE: usize = 1024;

/// One token of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A word, with quotes removed and escapes resolved: bytes
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
            TokenKind::Word { start, len } => arena
                .get(start as usize..(start + len) as usize)
                .unwrap_or(""),
            TokenKind::Open => "{",
            TokenKind::Close => "}",
        }
    }
}

/// Byte offset where a comment starts (`#` or `!` outside quotes), if any.
pub fn comment_start(line: &str) -> Option<usize> {
    scan(line).0
}

/// One pass over a line: where a comment starts (`#` or `!` outside
/// quotes), and whether a `$` comes before it (so parameters may need
/// substituting).
pub fn scan(line: &str) -> (Option<usize>, bool) {
    let b = line.as_bytes();
    // Most lines hold none of the bytes that matter here: skip them fast.
    let Some(first) = b.iter().position(|&c| SPECIAL[c as usize]) else {
        return (None, false);
    };
    let mut quote = 0u8;
    let mut dollar = false;
    let mut i = first;
    while i < b.len() {
        let c = b[i];
        // Escapes exist only inside quotes, as in `tokenize`.
        if c == b'\\' && quote != 0 {
            i += 2;
            continue;
        }
        dollar |= c == b'$';
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else if c == b'"' || c == b'\'' {
            quote = c;
        } else if c == b'#' || c == b'!' {
            return (Some(i), dollar);
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

/// Bytes that end a plain word: whitespace, braces, quotes, backslash.
const ENDS_PLAIN: [bool; 256] = {
    let mut t = [false; 256];
    let ends = b" \t\n\x0b\x0c\r{}\"'\\";
    let mut i = 0;
    while i < ends.len() {
        t[ends[i] as usize] = true;
        i += 1;
    }
    t
};

/// The bytes [`scan`] must look at: comment starts, quotes, escapes and `$`.
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'#' as usize] = true;
    t[b'!' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\'' as usize] = true;
    t[b'\\' as usize] = true;
    t[b'$' as usize] = true;
    t
};

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
    while i < b.len() {
        let c = b[i];
        if is_space(c) {
            i += 1;
            continue;
        }
        let at = Span::new(span.file, span.line, span.col + i as u32);
        match c {
            b'{' => {
                out.push(Token {
                    kind: TokenKind::Open,
                    span: at,
                });
                i += 1;
            }
            b'}' => {
                out.push(Token {
                    kind: TokenKind::Close,
                    span: at,
                });
                i += 1;
            }
            _ => {
                let start = arena.len();
                let end = word(line, i, at, arena, diags);
                let kind = TokenKind::Word {
                    start: start as u32,
                    len: (arena.len() - start) as u32,
                };
                out.push(Token { kind, span: at });
                // A word is never empty of bytes, so this always advances.
                i = end.max(i + 1);
            }
        }
    }
}

/// Appends the word starting at `start` to `arena`; returns the index
/// after it.
fn word(
    line: &str,
    start: usize,
    at: Span,
    arena: &mut String,
    diags: &mut Vec<Diagnostic>,
) -> usize {
    let b = line.as_bytes();
    // Fast path: a plain word (no quotes, no escapes) is copied as is; it
    // ends at an ASCII byte, so slicing the str there is safe.
    let plain_end = b[start..]
        .iter()
        .position(|&c| ENDS_PLAIN[c as usize])
        .map_or(b.len(), |p| start + p);
    let at_boundary = plain_end == b.len() || !matches!(b[plain_end], b'"' | b'\\' | b'\'');
    if at_boundary {
        arena.push_str(line.get(start..plain_end).unwrap_or(""));
        return plain_end;
    }
    let mut out: Vec<u8> = Vec::new();
    let mut i = start;
    let mut quote = 0u8;
    while i < b.len() {
        let c = b[i];
        if quote == 0 && (is_space(c) || c == b'{' || c == b'}') {
            break;
        }
        // keepalived resolves escapes only inside quotes; outside, a
        // backslash is an ordinary byte (`priority 1\0` is not 10).
        if c == b'\\' && quote != 0 && i + 1 < b.len() {
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
    i
}

/// Resolves the escape (inside quotes) whose letter is at `i`; returns the
/// index after it.
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
        b'x' => {
            let mut v: u32 = 0;
            let mut j = i + 1;
            while j < b.len() && b[j].is_ascii_hexdigit() {
                v = (v << 4 | (b[j] as char).to_digit(16).unwrap_or(0)) & 0xff;
                j += 1;
            }
            out.push(v as u8);
            j
        }
        b'c' if i + 1 < b.len() => {
            out.push(b[i + 1].to_ascii_uppercase() ^ 0x40);
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

    fn words(line: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut d = Vec::new();
        let mut arena = String::new();
        tokenize(line, Span::default(), &mut arena, &mut out, &mut d);
        assert!(d.is_empty(), "{d:?}");
        out.iter().map(|t| t.text(&arena).to_string()).collect()
    }

    #[test]
    fn comments_start_anywhere_outside_quotes() {
        assert_eq!(comment_start("auth_pass k@l!ve1"), Some(13));
        assert_eq!(comment_start("a \"b # c\" # d"), Some(10));
        assert_eq!(comment_start("a 'b ! c'"), None);
        assert_eq!(comment_start(r"a\#b"), Some(2));
        assert_eq!(comment_start(r#"x\"a # b""#), None);
    }

    #[test]
    fn quotes_join_adjacent_segments() {
        assert_eq!(words(r#"abcd" efg h jkl "mnop"#), ["abcd efg h jkl mnop"]);
        assert_eq!(
            words(r#"abcd "efg h jkl" mnop"#),
            ["abcd", "efg h jkl", "mnop"]
        );
        assert_eq!(words(r#"'a"b' "c'd""#), ["a\"b", "c'd"]);
    }

    #[test]
    fn vertical_tab_and_form_feed_separate_words() {
        assert_eq!(words("a\x0bb \x0b"), ["a", "b"]);
        assert_eq!(words("a\x0cb"), ["a", "b"]);
    }

    #[test]
    fn braces_are_tokens() {
        assert_eq!(words("vrrp_instance VI_1{"), ["vrrp_instance", "VI_1", "{"]);
        assert_eq!(
            words("track_script { chk }"),
            ["track_script", "{", "chk", "}"]
        );
        assert_eq!(words("\"{\""), ["{"]);
    }

    #[test]
    fn escapes_in_quotes() {
        assert_eq!(words(r#""a\tb\x41\101\"c\\""#), ["a\tbAA\"c\\"]);
        assert_eq!(words(r#""\cA""#), ["\u{1}"]);
    }

    #[test]
    fn backslash_outside_quotes_is_literal() {
        // keepalived 2.2.7: `priority 1\0` is "invalid number '1\0'".
        assert_eq!(words(r"1\0 a\ b"), [r"1\0", r"a\", "b"]);
        assert_eq!(words(r#"x\"a\tb""#), ["x\\a\tb"]);
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
    fn unterminated_quote_is_reported() {
        let mut out = Vec::new();
        let mut d = Vec::new();
        tokenize(
            "a \"bc",
            Span::default(),
            &mut String::new(),
            &mut out,
            &mut d,
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::UnterminatedQuote);
    }
}
