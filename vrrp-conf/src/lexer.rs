//! Byte-level lexer with keepalived's rules: `#` and `!` start a comment
//! anywhere outside quotes, `"` and `'` quote, adjacent quoted and unquoted
//! segments form one word, shell-like escapes inside quotes, and `{` / `}`
//! are tokens of their own.

use crate::diagnostics::{Code, Diagnostic};
use crate::span::Span;

/// keepalived reads lines into a buffer of this many bytes.
pub const MAX_LINE: usize = 1024;

/// One token of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    /// A word, with quotes removed and escapes resolved.
    Word(String),
    /// An unquoted `{`.
    Open,
    /// An unquoted `}`.
    Close,
}

/// A token and where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// What the token is.
    pub kind: TokenKind,
    /// Where it starts.
    pub span: Span,
}

/// Byte offset where a comment starts (`#` or `!` outside quotes), if any.
pub fn comment_start(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    let mut quote = 0u8;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c == b'\\' {
            i += 2;
            continue;
        }
        if quote != 0 {
            if c == quote {
                quote = 0;
            }
        } else if c == b'"' || c == b'\'' {
            quote = c;
        } else if c == b'#' || c == b'!' {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// Splits `line` (comment already removed) into tokens. `span` is the
/// position of the line's first byte.
pub fn tokenize(line: &str, span: Span, out: &mut Vec<Token>, diags: &mut Vec<Diagnostic>) {
    let b = line.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
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
                let (word, end) = word(b, i, at, diags);
                out.push(Token {
                    kind: TokenKind::Word(word),
                    span: at,
                });
                i = end;
            }
        }
    }
}

/// Reads one word starting at `start`; returns it and the index after it.
fn word(b: &[u8], start: usize, at: Span, diags: &mut Vec<Diagnostic>) -> (String, usize) {
    let mut out: Vec<u8> = Vec::new();
    let mut i = start;
    let mut quote = 0u8;
    while i < b.len() {
        let c = b[i];
        if quote == 0 && (c.is_ascii_whitespace() || c == b'{' || c == b'}') {
            break;
        }
        if c == b'\\' && i + 1 < b.len() {
            i = escape(b, i + 1, quote != 0, &mut out);
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
    (String::from_utf8_lossy(&out).into_owned(), i)
}

/// Resolves the escape whose letter is at `i`; returns the index after it.
/// Outside quotes a backslash only protects the next character.
fn escape(b: &[u8], i: usize, quoted: bool, out: &mut Vec<u8>) -> usize {
    let c = b[i];
    if !quoted {
        out.push(c);
        return i + 1;
    }
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
        tokenize(line, Span::default(), &mut out, &mut d);
        assert!(d.is_empty(), "{d:?}");
        out.into_iter()
            .map(|t| match t.kind {
                TokenKind::Word(w) => w,
                TokenKind::Open => "{".into(),
                TokenKind::Close => "}".into(),
            })
            .collect()
    }

    #[test]
    fn comments_start_anywhere_outside_quotes() {
        assert_eq!(comment_start("auth_pass k@l!ve1"), Some(13));
        assert_eq!(comment_start("a \"b # c\" # d"), Some(10));
        assert_eq!(comment_start("a 'b ! c'"), None);
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
    fn columns_are_one_based() {
        let mut out = Vec::new();
        let mut d = Vec::new();
        tokenize(
            "  ab {",
            Span::new(Default::default(), 3, 1),
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
        tokenize("a \"bc", Span::default(), &mut out, &mut d);
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].code, Code::UnterminatedQuote);
    }
}
