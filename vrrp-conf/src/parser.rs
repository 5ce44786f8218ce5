//! The parser: preprocessed tokens to a tree of statements. A statement is
//! a keyword, its arguments, and optionally a block of statements, with `{`
//! on the same line or the next one. Every node keeps its span, and borrows
//! its words from the preprocessor's output (no copies).

use crate::diagnostics::{Code, Diagnostic};
use crate::lexer::{Token, TokenKind};
use crate::span::Span;

/// The arguments of a statement: a run of word tokens and the arena their
/// text lives in.
#[derive(Debug, Clone, Copy)]
pub struct Args<'a> {
    toks: &'a [Token],
    arena: &'a str,
}

impl<'a> Args<'a> {
    /// How many arguments.
    pub fn len(&self) -> usize {
        self.toks.len()
    }

    /// True without arguments.
    pub fn is_empty(&self) -> bool {
        self.toks.is_empty()
    }

    /// The `i`th argument.
    pub fn get(&self, i: usize) -> Option<&'a str> {
        self.toks.get(i).map(|t| t.text(self.arena))
    }

    /// The first argument.
    pub fn first(&self) -> Option<&'a str> {
        self.get(0)
    }

    /// All arguments.
    pub fn iter(&self) -> impl Iterator<Item = &'a str> + 'a {
        let arena = self.arena;
        self.toks.iter().map(move |t| t.text(arena))
    }

    /// All arguments as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(String::from).collect()
    }
}

/// One statement: `keyword arg arg ... [{ children }]`.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    /// The first word.
    pub keyword: &'a str,
    /// The following words on the line.
    pub args: Args<'a>,
    /// The statements in its block, if it has one.
    pub block: Option<Vec<Node<'a>>>,
    /// Where the keyword is.
    pub span: Span,
    /// Where the block's closing `}` is (the keyword's span without a block).
    pub end: Span,
}

impl<'a> Node<'a> {
    /// The children, or an empty slice without a block.
    pub fn children(&self) -> &[Node<'a>] {
        self.block.as_deref().unwrap_or(&[])
    }
}

/// An open block: its owner, and where its children start on the node stack.
struct Frame<'a> {
    owner: Option<Node<'a>>,
    start: usize,
}

/// Deepest block nesting kept; deeper blocks are dropped with one
/// diagnostic, so that nothing downstream recurses without bound.
pub const MAX_NESTING: usize = 64;

/// The tree under construction: finished statements of all open blocks on
/// one stack, so that each block's children are moved once, into a vector
/// of exactly their number, when the block closes.
struct Tree<'a, 'd> {
    nodes: Vec<Node<'a>>,
    frames: Vec<Frame<'a>>,
    diags: &'d mut Vec<Diagnostic>,
}

/// Builds the statement tree from `tokens` (words in `arena`), split into
/// lines by `line_starts`.
pub fn parse<'a>(
    tokens: &'a [Token],
    line_starts: &[u32],
    arena: &'a str,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Node<'a>> {
    let mut t = Tree {
        nodes: Vec::new(),
        frames: Vec::new(),
        diags,
    };
    for (n, &start) in line_starts.iter().enumerate() {
        let end = line_starts.get(n + 1).map_or(tokens.len(), |&e| e as usize);
        let line = tokens.get(start as usize..end).unwrap_or(&[]);
        let mut i = 0;
        while i < line.len() {
            match line[i].kind {
                TokenKind::Word { .. } => {
                    // A statement: this word and the words after it.
                    let run = line[i..]
                        .iter()
                        .take_while(|t| matches!(t.kind, TokenKind::Word { .. }))
                        .count();
                    t.nodes.push(Node {
                        keyword: line[i].text(arena),
                        args: Args {
                            toks: &line[i + 1..i + run],
                            arena,
                        },
                        block: None,
                        span: line[i].span,
                        end: line[i].span,
                    });
                    i += run;
                }
                TokenKind::Open => {
                    t.open(line[i].span);
                    i += 1;
                }
                TokenKind::Close => {
                    t.close(line[i].span);
                    i += 1;
                }
            }
        }
    }
    while let Some(f) = t.frames.last() {
        let span = f.owner.as_ref().map_or(Span::default(), |n| n.span);
        t.diags.push(Diagnostic::error(
            Code::UnbalancedBrace,
            span,
            "block is not closed with '}'",
        ));
        t.close(span);
    }
    t.nodes
}

impl Tree<'_, '_> {
    /// `{`: opens a block for the statement just read or, when the brace
    /// starts a line, for the previous statement if it has no block yet.
    fn open(&mut self, at: Span) {
        let start = self.frames.last().map_or(0, |f| f.start);
        let has_owner =
            self.nodes.len() > start && self.nodes.last().is_some_and(|n| n.block.is_none());
        let mut owner = if has_owner { self.nodes.pop() } else { None };
        if owner.is_none() {
            self.diags.push(Diagnostic::error(
                Code::UnbalancedBrace,
                at,
                "unexpected '{'",
            ));
        }
        // A frame without an owner is dropped on close, with its contents.
        if self.frames.len() >= MAX_NESTING {
            if self.frames.len() == MAX_NESTING {
                let msg =
                    format!("blocks nest deeper than {MAX_NESTING}; the inner ones are ignored");
                self.diags
                    .push(Diagnostic::error(Code::UnbalancedBrace, at, msg));
            }
            owner = None;
        }
        self.frames.push(Frame {
            owner,
            start: self.nodes.len(),
        });
    }

    fn close(&mut self, at: Span) {
        let Some(frame) = self.frames.pop() else {
            self.diags.push(Diagnostic::error(
                Code::UnbalancedBrace,
                at,
                "unexpected '}'",
            ));
            return;
        };
        let children: Vec<Node<'_>> = self.nodes.drain(frame.start..).collect();
        if let Some(mut owner) = frame.owner {
            owner.block = Some(children);
            owner.end = at;
            self.nodes.push(owner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::preprocess::{run_str, MemLoader, Options};

    fn tree(text: &str, f: impl FnOnce(&[Node<'_>], &[Diagnostic])) {
        let out = run_str("t", text, &MemLoader::new(), &Options::default());
        let mut d = out.diags.clone();
        let t = parse(&out.tokens, &out.line_starts, &out.text, &mut d);
        f(&t, &d);
    }

    #[test]
    fn blocks_open_on_same_or_next_line() {
        tree("a 1 {\n b 2\n}\nc\n{\n d\n}\ne { f } g\n", |t, d| {
            assert!(d.is_empty(), "{d:?}");
            assert_eq!(t.len(), 4);
            assert_eq!(t[0].keyword, "a");
            assert_eq!(t[0].args.to_vec(), ["1"]);
            assert_eq!(t[0].children()[0].args.to_vec(), ["2"]);
            assert_eq!(t[0].end.line, 3);
            assert_eq!(t[1].children()[0].keyword, "d");
            assert_eq!(t[2].children()[0].keyword, "f");
            assert_eq!(t[3].keyword, "g");
        });
    }

    #[test]
    fn deep_nesting_is_cut_with_one_diagnostic() {
        let text = "a {\n".repeat(10_000) + &"}\n".repeat(10_000);
        tree(&text, |t, d| {
            assert_eq!(d.len(), 1, "{d:?}");
            let mut depth = 0;
            let mut n = &t[0];
            while let Some(c) = n.children().first() {
                n = c;
                depth += 1;
            }
            assert_eq!(depth, MAX_NESTING - 1);
        });
    }

    #[test]
    fn unbalanced_braces_are_reported() {
        tree("a {\n b\n", |t, d| {
            assert_eq!(t.len(), 1);
            assert_eq!(d[0].code, Code::UnbalancedBrace);
        });
        tree("}\n", |_, d| assert_eq!(d[0].code, Code::UnbalancedBrace));
        tree("{\n}\n", |t, d| {
            assert!(t.is_empty());
            assert_eq!(d[0].code, Code::UnbalancedBrace);
        });
    }
}
