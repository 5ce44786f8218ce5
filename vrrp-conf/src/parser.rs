//! The parser: preprocessed tokens to a tree of statements. A statement is
//! a keyword, its arguments, and optionally a block of statements, with `{`
//! on the same line or the next one. Every node keeps its span.

use crate::diagnostics::{Code, Diagnostic};
use crate::lexer::{Token, TokenKind};
use crate::span::Span;

/// One statement: `keyword arg arg ... [{ children }]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The first word.
    pub keyword: String,
    /// The following words on the line.
    pub args: Vec<String>,
    /// The statements in its block, if it has one.
    pub block: Option<Vec<Node>>,
    /// Where the keyword is.
    pub span: Span,
    /// Where the block's closing `}` is (the keyword's span without a block).
    pub end: Span,
}

impl Node {
    fn new(keyword: String, span: Span) -> Self {
        Node {
            keyword,
            args: Vec::new(),
            block: None,
            span,
            end: span,
        }
    }

    /// The children, or an empty slice without a block.
    pub fn children(&self) -> &[Node] {
        self.block.as_deref().unwrap_or(&[])
    }
}

/// An open block: its owner and the children so far.
struct Frame {
    owner: Option<Node>,
    children: Vec<Node>,
}

/// Builds the statement tree from tokens split into lines by `line_starts`.
pub fn parse(tokens: Vec<Token>, line_starts: &[u32], diags: &mut Vec<Diagnostic>) -> Vec<Node> {
    let mut stack = vec![Frame {
        owner: None,
        children: Vec::new(),
    }];
    let mut tokens = tokens.into_iter().enumerate().peekable();
    let mut line = 0usize;
    let mut cur: Option<Node> = None;
    while let Some((i, tok)) = tokens.next() {
        while line + 1 < line_starts.len() && line_starts[line + 1] as usize <= i {
            line += 1;
        }
        match tok.kind {
            TokenKind::Word(w) => match &mut cur {
                Some(n) => n.args.push(w),
                None => cur = Some(Node::new(w, tok.span)),
            },
            TokenKind::Open => open(&mut stack, cur.take(), tok.span, diags),
            TokenKind::Close => {
                flush(&mut stack, cur.take());
                close(&mut stack, tok.span, diags);
            }
        }
        let next_line = line + 1 < line_starts.len()
            && tokens
                .peek()
                .is_some_and(|(j, _)| *j >= line_starts[line + 1] as usize);
        if next_line || tokens.peek().is_none() {
            flush(&mut stack, cur.take());
        }
    }
    while stack.len() > 1 {
        let span = stack
            .last()
            .and_then(|f| f.owner.as_ref())
            .map_or(Span::default(), |n| n.span);
        diags.push(Diagnostic::error(
            Code::UnbalancedBrace,
            span,
            "block is not closed with '}'",
        ));
        close(&mut stack, span, diags);
    }
    stack.pop().map(|f| f.children).unwrap_or_default()
}

fn flush(stack: &mut [Frame], node: Option<Node>) {
    if let (Some(n), Some(top)) = (node, stack.last_mut()) {
        top.children.push(n);
    }
}

/// `{`: opens a block for the statement on this line, or for the previous
/// statement when the brace starts a line.
fn open(stack: &mut Vec<Frame>, cur: Option<Node>, at: Span, diags: &mut Vec<Diagnostic>) {
    let owner = match cur {
        Some(n) => Some(n),
        None => {
            let top = stack.last_mut();
            match top.filter(|t| t.children.last().is_some_and(|n| n.block.is_none())) {
                Some(t) => t.children.pop(),
                None => {
                    diags.push(Diagnostic::error(
                        Code::UnbalancedBrace,
                        at,
                        "unexpected '{'",
                    ));
                    None
                }
            }
        }
    };
    stack.push(Frame {
        owner,
        children: Vec::new(),
    });
}

fn close(stack: &mut Vec<Frame>, at: Span, diags: &mut Vec<Diagnostic>) {
    if stack.len() < 2 {
        diags.push(Diagnostic::error(
            Code::UnbalancedBrace,
            at,
            "unexpected '}'",
        ));
        return;
    }
    let Some(frame) = stack.pop() else { return };
    if let Some(mut owner) = frame.owner {
        owner.block = Some(frame.children);
        owner.end = at;
        flush(stack, Some(owner));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::{run_str, MemLoader, Options};

    fn tree(text: &str) -> (Vec<Node>, Vec<Diagnostic>) {
        let out = run_str("t", text, &MemLoader::new(), &Options::default());
        let mut d = out.diags;
        (parse(out.tokens, &out.line_starts, &mut d), d)
    }

    #[test]
    fn blocks_open_on_same_or_next_line() {
        let (t, d) = tree("a 1 {\n b 2\n}\nc\n{\n d\n}\ne { f } g\n");
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(t.len(), 4);
        assert_eq!(t[0].keyword, "a");
        assert_eq!(t[0].args, ["1"]);
        assert_eq!(t[0].children()[0].args, ["2"]);
        assert_eq!(t[0].end.line, 3);
        assert_eq!(t[1].children()[0].keyword, "d");
        assert_eq!(t[2].children()[0].keyword, "f");
        assert_eq!(t[3].keyword, "g");
    }

    #[test]
    fn unbalanced_braces_are_reported() {
        let (t, d) = tree("a {\n b\n");
        assert_eq!(t.len(), 1);
        assert_eq!(d[0].code, Code::UnbalancedBrace);
        let (_, d) = tree("}\n");
        assert_eq!(d[0].code, Code::UnbalancedBrace);
    }
}
