//! The lexer alone, line by line as the preprocessor feeds it: comment
//! scanning and tokenizing never panic, every token lies within its line
//! (columns count from 1, in order), and word text resolves in the arena.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrp_conf::lexer::{scan, tokenize, TokenKind};
use vrrp_conf::{FileId, Span};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (mut arena, mut tokens, mut diags) = (String::new(), Vec::new(), Vec::new());
    for (n, raw) in text.split('\n').enumerate() {
        let (comment, _dollar) = scan(raw);
        let line = &raw[..comment.unwrap_or(raw.len())];
        let first = tokens.len();
        let span = Span::new(FileId(0), n as u32 + 1, 1);
        tokenize(line, span, &mut arena, &mut tokens, &mut diags);
        let mut last_col = 0;
        for t in &tokens[first..] {
            assert_eq!(t.span.line, span.line);
            assert!(t.span.col > last_col && t.span.col as usize <= line.len());
            last_col = t.span.col;
            if let TokenKind::Word { start, len } = t.kind {
                assert!(arena.get(start as usize..(start + len) as usize).is_some());
            }
        }
    }
});
