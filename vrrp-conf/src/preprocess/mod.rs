//! The preprocessor: turns files into a flat stream of tokens with spans,
//! handling `include` and its variants (globs, braces, relative paths,
//! cycles, `include_check`), `$NAME=value` parameters (multi-line too),
//! `${NAME}` and the built-in `${_PWD}`, `${_INSTANCE}`,
//! `${_RANDOM [MIN [MAX]]}`, `${_HASH}`, `${_BANG}`, conditional lines
//! `@id` and `@^id`, and `~SEQ(...)`, `~SEQx(...)`, `~LST(...)` blocks.

use std::cell::Cell;
use std::collections::HashMap;
use std::io::{BufRead, Read};
use std::path::{Path, PathBuf};

use crate::diagnostics::{Code, Diagnostic};
use crate::lexer::{self, Token, TokenKind, MAX_LINE};
use crate::span::{FileId, SourceMap, Span};

mod copy;
mod expand;
mod include;
mod loader;
mod random;

pub use expand::expand_braces;
pub(crate) use include::check_name;
pub use include::{CHECK_ALL, CHECK_BRACE, CHECK_MATCH, CHECK_READ, CHECK_WILDCARD};
pub use loader::{FileKind, FsLoader, LoadError, Loader, MemLoader};

use expand::{is_param_name, lst_values, seq_values, split_sequence};
use loader::normalize;

/// Limits and settings of the preprocessor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// The config id `@id` lines are compared with (keepalived's `-i`);
    /// `None` matches no `@id` line and every `@^id` line.
    pub config_id: Option<String>,
    /// Deepest include nesting allowed.
    pub max_include_depth: usize,
    /// Most lines `~SEQ`/`~LST` and parameters may produce in total; a
    /// substituted line longer than keepalived's 1024-byte buffer counts
    /// once per started 1024 bytes.
    pub max_expanded_lines: usize,
    /// Longest text parameter substitution may produce for one line.
    pub max_expanded_len: usize,
    /// The include checks in force before `include_check` (keepalived's
    /// `-e` sets [`CHECK_ALL`]); a bit set makes that include problem an
    /// error instead of a warning.
    pub include_check: u8,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config_id: None,
            max_include_depth: 16,
            max_expanded_lines: 4_000_000,
            max_expanded_len: 1 << 20,
            include_check: 0,
        }
    }
}

/// The preprocessor's result: tokens, line boundaries and files read.
#[derive(Debug, Default)]
pub struct Output {
    /// All tokens, in order.
    pub tokens: Vec<Token>,
    /// The text of all words, which tokens index into.
    pub text: String,
    /// Index into `tokens` where each logical line starts.
    pub line_starts: Vec<u32>,
    /// Files read.
    pub sources: SourceMap,
    /// Problems found while preprocessing.
    pub diags: Vec<Diagnostic>,
}

/// Deepest nesting of lines produced from lines (parameters inside
/// parameters, `~SEQ` inside `~SEQ`).
const MAX_LINE_DEPTH: usize = 24;

/// The longest line read from a file (1 MiB, as long as the default
/// [`Options::max_expanded_len`]). Past keepalived's 1024 bytes a line is
/// already an error; past this one the rest of the file is not read
/// either, so that a file without newlines (a binary, `/dev/zero`) is not
/// held whole in memory, or read for ever.
const MAX_READ_LINE: usize = 1 << 20;

/// Preprocesses the text of the main file `name`, keeping all tokens.
pub fn run_str(name: &str, text: &str, loader: &dyn Loader, opts: &Options) -> Output {
    let mut p = Pre::new(loader, opts, None);
    p.main_text(Path::new(name), text);
    p.finish()
}

/// Preprocesses the main file at `path`, keeping all tokens; an unreadable
/// file gives a [`Code::FileUnreadable`] diagnostic and no tokens.
pub fn run_file(path: &Path, loader: &dyn Loader, opts: &Options) -> Output {
    let mut p = Pre::new(loader, opts, None);
    p.include_file(path, &path.display().to_string(), Span::default(), 0, true);
    p.finish()
}

/// Complete top-level statements, handed to a [`Sink`] as soon as they
/// end, so that a large configuration is never held as tokens all at once.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// The tokens.
    pub tokens: &'a [Token],
    /// Index into `tokens` where each line starts.
    pub line_starts: &'a [u32],
    /// The text the tokens index into.
    pub text: &'a str,
}

/// Receives chunks and may add diagnostics.
pub type Sink<'s> = dyn FnMut(Chunk<'_>, &mut Vec<Diagnostic>) + 's;

/// Preprocesses `text` as the main file `name`, streaming chunks to `sink`.
/// Returns the files read and the preprocessor's diagnostics.
pub fn stream_str(
    name: &str,
    text: &str,
    loader: &dyn Loader,
    opts: &Options,
    sink: &mut Sink<'_>,
) -> (SourceMap, Vec<Diagnostic>) {
    let mut p = Pre::new(loader, opts, Some(sink));
    p.main_text(Path::new(name), text);
    let out = p.finish();
    (out.sources, out.diags)
}

/// Preprocesses the file at `path`, streaming chunks to `sink`.
pub fn stream_file(
    path: &Path,
    loader: &dyn Loader,
    opts: &Options,
    sink: &mut Sink<'_>,
) -> (SourceMap, Vec<Diagnostic>) {
    let mut p = Pre::new(loader, opts, Some(sink));
    p.include_file(path, &path.display().to_string(), Span::default(), 0, true);
    let out = p.finish();
    (out.sources, out.diags)
}

/// [`stream_file`], also writing keepalived 2.2.7's processed copy of the
/// configuration and returning it: the text keepalived saves as
/// `keepalived.conf.PID.N` under `config_save_dir` (every line read, its
/// comment and surrounding blanks removed, include lines left empty,
/// `# FILE` before each file read and `!` after it, `#! MESSAGE` for each
/// problem an include had).
pub fn stream_file_with_copy(
    path: &Path,
    loader: &dyn Loader,
    opts: &Options,
    sink: &mut Sink<'_>,
) -> (SourceMap, Vec<Diagnostic>, String) {
    let shown = path.display().to_string();
    with_copy(loader, opts, sink, |p| {
        p.include_file(path, &shown, Span::default(), 0, true)
    })
}

/// [`stream_str`] with keepalived's processed copy, as
/// [`stream_file_with_copy`] writes it.
pub fn stream_str_with_copy(
    name: &str,
    text: &str,
    loader: &dyn Loader,
    opts: &Options,
    sink: &mut Sink<'_>,
) -> (SourceMap, Vec<Diagnostic>, String) {
    with_copy(loader, opts, sink, |p| p.main_text(Path::new(name), text))
}

/// Runs `read` on a preprocessor that also writes the processed copy.
fn with_copy(
    loader: &dyn Loader,
    opts: &Options,
    sink: &mut Sink<'_>,
    read: impl FnOnce(&mut Pre<'_, '_>),
) -> (SourceMap, Vec<Diagnostic>, String) {
    let mut p = Pre::new(loader, opts, Some(sink));
    p.copy = Some(copy::Copy::default());
    read(&mut p);
    let copy = p.copy.take().map(copy::Copy::into_text).unwrap_or_default();
    let out = p.finish();
    (out.sources, out.diags, copy)
}

struct Pre<'l, 's> {
    loader: &'l dyn Loader,
    opts: &'l Options,
    out: Output,
    /// Where finished top-level statements go; `None` keeps everything.
    sink: Option<&'l mut Sink<'s>>,
    /// Brace depth of the tokens held.
    depth: usize,
    params: HashMap<String, String>,
    /// A multi-line definition being collected: name and lines so far.
    pending: Option<(String, Vec<String>)>,
    stack: Vec<PathBuf>,
    pwd: String,
    expanded: usize,
    budget_reported: bool,
    /// The include checks in force (`include_check`, `-e`).
    check: u8,
    /// The top-level statement being read is `global_defs`.
    in_global: bool,
    /// State of the generator behind `${_RANDOM}`.
    rng: Cell<u64>,
    /// keepalived's processed copy, when asked for.
    copy: Option<copy::Copy>,
}

impl<'l, 's> Pre<'l, 's> {
    fn new(loader: &'l dyn Loader, opts: &'l Options, sink: Option<&'l mut Sink<'s>>) -> Self {
        Pre {
            loader,
            opts,
            out: Output::default(),
            sink,
            depth: 0,
            params: HashMap::new(),
            pending: None,
            stack: Vec::new(),
            pwd: String::new(),
            expanded: 0,
            budget_reported: false,
            check: opts.include_check,
            in_global: false,
            rng: Cell::new(random::seed()),
            copy: None,
        }
    }

    /// Hands the tokens held to the sink, if there is one.
    fn flush(&mut self) {
        let Some(sink) = self.sink.as_mut() else {
            return;
        };
        if self.out.tokens.is_empty() {
            return;
        }
        let o = &mut self.out;
        let chunk = Chunk {
            tokens: &o.tokens,
            line_starts: &o.line_starts,
            text: &o.text,
        };
        sink(chunk, &mut o.diags);
        o.tokens.clear();
        o.line_starts.clear();
        o.text.clear();
    }

    fn finish(mut self) -> Output {
        self.flush();
        if let Some((name, _)) = self.pending.take() {
            let span = Span::default();
            self.out.diags.push(Diagnostic::error(
                Code::BadExpansion,
                span,
                format!("multi-line definition of ${name} not terminated"),
            ));
        }
        self.out
    }

    fn main_text(&mut self, path: &Path, text: &str) {
        let id = self.out.sources.add(path.display().to_string());
        self.stack.push(path.to_path_buf());
        self.copy_file(&path.display().to_string());
        self.text(id, path, Box::new(text.as_bytes()));
        self.copy_end();
        self.stack.pop();
    }

    /// Reads the file at `path` (`shown` as keepalived names it);
    /// `must_read` makes an unreadable file an error rather than a warning.
    fn include_file(&mut self, path: &Path, shown: &str, at: Span, depth: usize, must_read: bool) {
        if self.stack.iter().any(|p| p == path) {
            let msg = format!("include cycle: {} includes itself", path.display());
            self.out
                .diags
                .push(Diagnostic::error(Code::IncludeCycle, at, msg));
            return;
        }
        if depth > self.opts.max_include_depth {
            let msg = format!(
                "includes nested deeper than {}",
                self.opts.max_include_depth
            );
            self.out
                .diags
                .push(Diagnostic::error(Code::IncludeTooDeep, at, msg));
            return;
        }
        let reader = match self.loader.open(path) {
            Ok(r) => r,
            Err(e) => {
                self.copy_problem(|| {
                    let why = e.to_string();
                    let why = why.split(" (os error").next().unwrap_or_default();
                    let why = why.strip_prefix("cannot read: ").unwrap_or(why);
                    format!("Configuration file '{shown}' open problem ({why}) - skipping")
                });
                let msg = format!("{}: {e}", path.display());
                self.report(must_read, Code::FileUnreadable, at, msg);
                return;
            }
        };
        let id = self.out.sources.add(path.display().to_string());
        self.stack.push(path.to_path_buf());
        self.copy_file(shown);
        self.text(id, path, reader);
        self.copy_end();
        self.stack.pop();
    }

    fn text(&mut self, id: FileId, path: &Path, mut reader: Box<dyn BufRead + '_>) {
        let saved_pwd = std::mem::replace(&mut self.pwd, dir_of(path));
        let mut buf = Vec::with_capacity(256);
        for n in 1u32.. {
            buf.clear();
            let span = Span::new(id, n, 1);
            // The longest line, its newline, and one byte to tell a longer
            // one apart.
            let cap = MAX_READ_LINE as u64 + 2;
            match reader.by_ref().take(cap).read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    let msg = format!("{}: read error: {e}", path.display());
                    self.out
                        .diags
                        .push(Diagnostic::error(Code::FileUnreadable, span, msg));
                    break;
                }
            }
            let len = buf.len() - usize::from(buf.ends_with(b"\n"));
            if len > MAX_READ_LINE {
                let msg = format!(
                    "line is longer than {MAX_READ_LINE} bytes: the rest of {} is not read",
                    path.display()
                );
                self.out
                    .diags
                    .push(Diagnostic::error(Code::LineTooLong, span, msg));
                break;
            }
            let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            // Valid UTF-8 (the usual case) is checked fast and borrowed.
            let raw = match std::str::from_utf8(line) {
                Ok(s) => std::borrow::Cow::Borrowed(s),
                Err(_) => String::from_utf8_lossy(line),
            };
            let raw = raw.as_ref();
            if raw.len() > MAX_LINE {
                let msg = format!(
                    "line is {} bytes, longer than keepalived's {MAX_LINE}-byte limit",
                    raw.len()
                );
                self.out
                    .diags
                    .push(Diagnostic::error(Code::LineTooLong, span, msg));
            }
            if let Some(c) = &mut self.copy {
                c.line(raw);
            }
            self.physical(raw, span);
        }
        self.pwd = saved_pwd;
    }

    /// One line as read from a file.
    fn physical(&mut self, raw: &str, span: Span) {
        let (line, dollar) = self.strip_comment(raw, span);
        if let Some((name, mut body)) = self.pending.take() {
            let t = line.trim();
            match t.strip_suffix('\\') {
                Some(more) => {
                    body.push(more.trim_end().to_string());
                    self.pending = Some((name, body));
                }
                None => {
                    body.push(t.to_string());
                    self.params.insert(name, body.join("\n"));
                }
            }
            return;
        }
        self.logical(line, span, 0, dollar);
    }

    /// The line without its comment, and whether it may hold a parameter.
    fn strip_comment<'a>(&mut self, raw: &'a str, span: Span) -> (&'a str, bool) {
        let (at, dollar) = lexer::scan(raw);
        let Some(at) = at else {
            return (raw, dollar);
        };
        let b = raw.as_bytes();
        if at > 0
            && !b[at - 1].is_ascii_whitespace()
            && b.get(at + 1).is_some_and(|c| !c.is_ascii_whitespace())
        {
            let word_start = raw[..at]
                .rfind(|c: char| c.is_ascii_whitespace())
                .map_or(0, |i| i + 1);
            let word = &raw[word_start..at];
            let whole = raw[word_start..]
                .split_ascii_whitespace()
                .next()
                .unwrap_or("");
            let msg = if b[at] == b'\\' {
                // See `lexer::scan`: keepalived 2.2.7 has no `\#` escape.
                format!(
                    "'\\{}' does not escape here: the comment starts at the backslash, so the word is '{word}'",
                    b.get(at + 1).map_or('#', |&c| c as char)
                )
            } else {
                format!(
                    "'{}' starts a comment here, so the word is '{word}'; quote it to keep '{whole}'",
                    b[at] as char
                )
            };
            let at_span = Span::new(span.file, span.line, at as u32 + 1);
            self.out
                .diags
                .push(Diagnostic::warning(Code::CommentInWord, at_span, msg));
        }
        (&raw[..at], dollar)
    }

    /// A line after comment removal: conditionals, definitions, sequences,
    /// substitution, include, and finally tokens.
    /// `dollar` is false only when `line` is known to hold no `$`.
    fn logical(&mut self, line: &str, span: Span, depth: usize, dollar: bool) {
        let mut t = line.trim_ascii();
        if t.is_empty() {
            return;
        }
        if depth > MAX_LINE_DEPTH {
            let msg = "parameters or sequences nest too deeply";
            self.out
                .diags
                .push(Diagnostic::error(Code::BadExpansion, span, msg));
            return;
        }
        if let Some(rest) = t.strip_prefix('@') {
            match self.conditional(rest) {
                Some(r) => t = r.trim_start(),
                None => return,
            }
            if t.is_empty() {
                return;
            }
        }
        if t.starts_with('$') && self.definition(t) {
            return;
        }
        if t.starts_with("~SEQ") || t.starts_with("~LST") {
            self.sequence(t, span, depth);
            return;
        }
        if dollar && t.contains('$') {
            if let Some(s) = self.substitute(t, span) {
                if s != t {
                    for l in s.split('\n') {
                        // `substitute` charged for the bytes.
                        if !self.charge(1, span) {
                            return;
                        }
                        self.logical(l, span, depth + 1, true);
                    }
                    return;
                }
            } else if self.expanded > self.opts.max_expanded_lines {
                // Out of budget: produce nothing more.
                return;
            }
        }
        if self.include(t, span) {
            return;
        }
        self.watch_include_check(t);
        let col = (t.as_ptr() as usize).saturating_sub(line.as_ptr() as usize) as u32;
        let start = Span::new(span.file, span.line, span.col + col);
        // A new statement at top level ends the previous one, unless this
        // line opens the previous statement's block.
        if self.depth == 0 && !t.starts_with('{') {
            self.flush();
        }
        let o = &mut self.out;
        let first = o.tokens.len();
        o.line_starts.push(first as u32);
        lexer::tokenize(t, start, &mut o.text, &mut o.tokens, &mut o.diags);
        for tok in &o.tokens[first..] {
            match tok.kind {
                TokenKind::Open => self.depth += 1,
                TokenKind::Close => self.depth = self.depth.saturating_sub(1),
                TokenKind::Word { .. } => {}
            }
        }
    }

    /// `rest` follows `@`: the rest of the line if it applies, else `None`.
    fn conditional<'a>(&self, rest: &'a str) -> Option<&'a str> {
        let (neg, rest) = match rest.strip_prefix('^') {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let end = rest
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(rest.len());
        let matches = self.opts.config_id.as_deref() == Some(&rest[..end]);
        (matches != neg).then_some(&rest[end..])
    }

    /// Handles `$NAME=value`; false if the line is not a definition.
    fn definition(&mut self, t: &str) -> bool {
        let Some(eq) = t.find('=') else {
            return false;
        };
        let name = &t[1..eq];
        if !is_param_name(name) {
            return false;
        }
        let value = t[eq + 1..].trim();
        if value == "\\" {
            self.pending = Some((name.to_string(), Vec::new()));
        } else {
            self.params.insert(name.to_string(), value.to_string());
        }
        true
    }

    /// Counts `n` more generated lines against the budget.
    fn charge(&mut self, n: usize, span: Span) -> bool {
        self.expanded = self.expanded.saturating_add(n);
        if self.expanded <= self.opts.max_expanded_lines {
            return true;
        }
        if !self.budget_reported {
            self.budget_reported = true;
            let msg = format!(
                "expansion produces more than {} lines",
                self.opts.max_expanded_lines
            );
            self.out
                .diags
                .push(Diagnostic::error(Code::BadExpansion, span, msg));
        }
        false
    }

    fn sequence(&mut self, t: &str, span: Span, depth: usize) {
        let (kind, args, rest) = match split_sequence(t) {
            Ok(x) => x,
            Err(msg) => {
                self.out
                    .diags
                    .push(Diagnostic::error(Code::BadExpansion, span, msg));
                return;
            }
        };
        type Steps = Box<dyn Iterator<Item = expand::Assignment>>;
        let steps = match kind {
            "~SEQ" | "~SEQx" => seq_values(args, kind == "~SEQx", self.opts.max_expanded_lines)
                .map(|s| Box::new(s) as Steps),
            _ => lst_values(args).map(|v| Box::new(v.into_iter()) as Steps),
        };
        let steps = match steps {
            Ok(s) => s,
            Err(msg) => {
                self.out
                    .diags
                    .push(Diagnostic::error(Code::BadExpansion, span, msg));
                return;
            }
        };
        for assignment in steps {
            if !self.charge(1, span) {
                return;
            }
            for (name, value) in assignment {
                self.params.insert(name, value);
            }
            self.logical(rest, span, depth + 1, true);
        }
    }

    /// Replaces parameters until nothing changes; `None` (with a
    /// diagnostic) when the result grows without bound.
    fn substitute(&mut self, t: &str, span: Span) -> Option<String> {
        let mut s = t.to_string();
        for _ in 0..MAX_LINE_DEPTH {
            let next = self.substitute_once(&s);
            if next == s {
                return Some(s);
            }
            if next.len() > self.opts.max_expanded_len {
                break;
            }
            // Every result counts once per whole KiB (the line itself is
            // counted when it is used), so the budget bounds bytes too,
            // and substitution that fails late costs bounded work.
            if !self.charge(next.len() / MAX_LINE, span) {
                return None;
            }
            s = next;
        }
        let msg = "parameter substitution does not terminate or grows too large";
        self.out
            .diags
            .push(Diagnostic::error(Code::BadExpansion, span, msg));
        None
    }

    fn substitute_once(&self, s: &str) -> String {
        let b = s.as_bytes();
        let mut out = String::with_capacity(s.len());
        let mut i = 0;
        while i < b.len() {
            let Some(off) = s[i..].find('$') else {
                out.push_str(&s[i..]);
                break;
            };
            out.push_str(&s[i..i + off]);
            i += off;
            match self.param_at(s, i) {
                Some((value, end)) => {
                    out.push_str(&value);
                    i = end;
                }
                None => {
                    out.push('$');
                    i += 1;
                }
            }
        }
        out
    }

    /// The value of the parameter reference starting with `$` at `i`, and
    /// the index after the reference.
    fn param_at(&self, s: &str, i: usize) -> Option<(String, usize)> {
        let rest = &s[i + 1..];
        let name_len = |t: &str| {
            t.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(t.len())
        };
        if let Some(inner) = rest.strip_prefix('{') {
            // Only a name (and for `_RANDOM` numbers) may stand between the
            // braces: looking no further keeps a line of many `${` linear.
            let len = name_len(inner);
            let name = &inner[..len];
            if name == "_RANDOM" {
                let p = &inner[len..];
                let close = p.find(|c: char| c != ' ' && !c.is_ascii_digit())?;
                // keepalived takes no parameters that end with a space.
                if !p[close..].starts_with('}')
                    || (close > 0 && p[..close].ends_with(' ') && !p[..close].trim().is_empty())
                {
                    return None;
                }
                let v = random::value(&p[..close], &self.rng);
                return Some((v, i + 2 + len + close + 1));
            }
            if !inner[len..].starts_with('}') {
                return None;
            }
            return Some((self.lookup(name)?, i + 2 + len + 1));
        }
        let len = name_len(rest);
        let after = rest[len..].chars().next();
        if len == 0 || after.is_some_and(|c| !c.is_whitespace()) {
            return None;
        }
        Some((self.lookup(&rest[..len])?, i + 1 + len))
    }

    fn lookup(&self, name: &str) -> Option<String> {
        match name {
            "_PWD" => Some(self.pwd.clone()),
            "_INSTANCE" => self.opts.config_id.clone(),
            "_RANDOM" => Some(random::value("", &self.rng)),
            "_HASH" => Some("#".into()),
            "_BANG" => Some("!".into()),
            _ => self.params.get(name).cloned(),
        }
    }

    /// Handles `include` and its variants; false if `t` is not one.
    /// What keepalived 2.2.7 only logs is a warning, what its checks
    /// (the variant's and `include_check`'s bits) make fatal an error.
    fn include(&mut self, t: &str, span: Span) -> bool {
        let Some((kw, own)) = include::variant(t) else {
            return false;
        };
        let bits = self.check | own;
        // The rest of the line, quotes and all: keepalived 2.2.7 hands it
        // to glob() as it stands.
        let pattern = t[kw.len()..].trim();
        if pattern.is_empty() {
            let msg = "include needs a file name";
            self.out
                .diags
                .push(Diagnostic::error(Code::BadArgCount, span, msg));
            return true;
        }
        let (mut found, mut missing, mut wild) = (Vec::new(), false, false);
        for p in expand_braces(pattern, 64) {
            let full = if Path::new(&p).is_absolute() || self.pwd.is_empty() {
                p.clone()
            } else {
                format!("{}/{p}", self.pwd)
            };
            let full = normalize(&full);
            wild |= include::has_wildcard(&full);
            if include::is_missing(self.loader, &full) {
                missing = true;
                continue;
            }
            match self.loader.glob(&include::unescape_glob(&full)) {
                Ok(v) => found.extend(v.into_iter().map(|f| {
                    let shown = copy::shown_name(&p, &self.pwd, &f);
                    (f, shown)
                })),
                Err(e) => {
                    let msg = format!("include {pattern}: {e}");
                    self.report(bits & CHECK_READ != 0, Code::FileUnreadable, span, msg);
                    return true;
                }
            }
        }
        let brace = include::has_brace(pattern);
        if found.is_empty() {
            if missing {
                self.copy_problem(|| format!("Config files missing '{pattern}'."));
            } else if wild && bits & CHECK_WILDCARD != 0 {
                self.copy_problem(|| format!("No config files matched '{pattern}'."));
            }
            let (msg, bit) = if missing {
                let bit = if brace { CHECK_BRACE } else { CHECK_MATCH };
                (format!("include {pattern}: no such file or directory"), bit)
            } else {
                let msg = format!("include {pattern} matches no file");
                (msg, if wild { CHECK_WILDCARD } else { 0 })
            };
            self.report(bits & bit != 0, Code::IncludeNoMatch, span, msg);
            return true;
        }
        if missing {
            self.copy_problem(|| format!("Some config files missing: \"{pattern}\"."));
            let fatal = bits & CHECK_BRACE != 0;
            let msg = if fatal {
                format!("include {pattern}: some alternatives missing, so no file is read")
            } else {
                format!("include {pattern}: some alternatives missing")
            };
            self.report(fatal, Code::IncludeNoMatch, span, msg);
            if fatal {
                return true;
            }
        }
        let depth = self.stack.len();
        let saved = self.check;
        for (f, shown) in found {
            self.include_found(&f, &shown, span, depth, bits & CHECK_READ != 0);
            // Each file of an include ends with the checks it began with.
            self.check = saved;
        }
        true
    }

    /// Reads one file an include matched, unless keepalived skips it.
    fn include_found(&mut self, f: &Path, shown: &str, span: Span, depth: usize, must_read: bool) {
        let kind = self.loader.kind(f);
        if kind == Some(FileKind::File) {
            return self.include_file(f, shown, span, depth, must_read);
        }
        let dir = kind == Some(FileKind::Dir);
        self.copy_problem(|| copy::skipped(shown, dir));
        let why = match kind {
            Some(FileKind::Dir) => "is a directory",
            Some(_) => "is not a regular non-executable file",
            None => "does not exist",
        };
        let msg = format!("{} {why}: skipped", f.display());
        self.report(must_read, Code::FileUnreadable, span, msg);
    }

    /// keepalived's processed copy: a file starts.
    fn copy_file(&mut self, shown: &str) {
        if let Some(c) = &mut self.copy {
            c.file(shown);
        }
    }

    /// keepalived's processed copy: the file read last ends.
    fn copy_end(&mut self) {
        if let Some(c) = &mut self.copy {
            c.end();
        }
    }

    /// keepalived's processed copy: an include's problem, in its words.
    fn copy_problem(&mut self, message: impl FnOnce() -> String) {
        if let Some(c) = &mut self.copy {
            c.problem(&message());
        }
    }

    /// An error if `fatal`, else a warning.
    fn report(&mut self, fatal: bool, code: Code, span: Span, msg: String) {
        let d = if fatal {
            Diagnostic::error(code, span, msg)
        } else {
            Diagnostic::warning(code, span, msg)
        };
        self.out.diags.push(d);
    }

    /// Follows the statement structure far enough to apply
    /// `global_defs { include_check ... }` when its line is read, as
    /// keepalived does.
    fn watch_include_check(&mut self, t: &str) {
        let mut words = t.split_ascii_whitespace();
        let first = words.next().unwrap_or("");
        if self.depth == 0 && !t.starts_with('{') {
            self.in_global = first == "global_defs";
        } else if self.depth == 1 && self.in_global && first == "include_check" {
            let words: Vec<&str> = words.collect();
            self.check = include::apply_check(self.check, &words);
        }
    }
}

fn dir_of(path: &Path) -> String {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.display().to_string(),
        _ => ".".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str, id: Option<&str>) -> (Vec<String>, Vec<Diagnostic>) {
        let opts = Options {
            config_id: id.map(String::from),
            ..Options::default()
        };
        let out = run_str("t.conf", text, &MemLoader::new(), &opts);
        let mut v = Vec::new();
        for (n, &s) in out.line_starts.iter().enumerate() {
            let e = out
                .line_starts
                .get(n + 1)
                .map_or(out.tokens.len(), |&e| e as usize);
            let words: Vec<&str> = out.tokens[s as usize..e]
                .iter()
                .map(|t| t.text(&out.text))
                .collect();
            v.push(words.join(" "));
        }
        (v, out.diags)
    }

    #[test]
    fn parameters_are_substituted_at_use_time() {
        let text = "$B=10.2.${S}\n$S=0\n${B}.100/32\n$S=10\n${B}.100/32\n$X\n";
        let (l, d) = lines(text, None);
        assert_eq!(l, ["10.2.0.100/32", "10.2.10.100/32", "$X"]);
        assert!(d.is_empty());
    }

    #[test]
    fn braced_references_hold_only_a_name() {
        let (l, _) = lines("$A=1\n${A}x ${A x} ${A-} ${ A} ${A\n", None);
        // Unresolved, the braces are tokens of their own.
        assert_eq!(l, ["1x $ { A x } $ { A- } $ { A } $ { A"]);
        // Once quadratic: each `${` searched the rest of the line for `}`.
        let (l, _) = lines(&format!("$A=1\nk {}}}\n", "${".repeat(50_000)), None);
        assert_eq!(l[0].matches('$').count(), 50_000);
    }

    #[test]
    fn multiline_definitions_expand_to_lines() {
        let text = "$I= \\\nvrrp_instance VI_${N} { \\\n priority 1 \\\n}\n$N=3\n$I\n";
        let (l, _) = lines(text, None);
        assert_eq!(l, ["vrrp_instance VI_3 {", "priority 1", "}"]);
    }

    #[test]
    fn conditionals_select_lines() {
        let text = "@a x 1\n@b x 2\n@^a y 3\n@^b y 4\n";
        assert_eq!(lines(text, Some("a")).0, ["x 1", "y 4"]);
        assert_eq!(lines(text, None).0, ["y 3", "y 4"]);
    }

    #[test]
    fn seq_and_lst_expand() {
        let (l, _) = lines("~SEQ(S, 0, 3) ip 10.0.${S}.1\n", None);
        assert_eq!(
            l,
            ["ip 10.0.0.1", "ip 10.0.1.1", "ip 10.0.2.1", "ip 10.0.3.1"]
        );
        let (l, _) = lines("~SEQx(S, 0x90, 0x10, 0xc0) fe80::${S}:1\n", None);
        assert_eq!(l, ["fe80::90:1", "fe80::a0:1", "fe80::b0:1", "fe80::c0:1"]);
        let (l, _) = lines("~LST({A,B}, {10,1},{20,4}) 192.168.${A}.${B}\n", None);
        assert_eq!(l, ["192.168.10.1", "192.168.20.4"]);
        // As strtol(..., 0): 010 is octal.
        let (l, _) = lines("~SEQ(S, 07, 010) ip ${S}\n", None);
        assert_eq!(l, ["ip 7", "ip 8"]);
        let (l, _) = lines("~SEQ(A,2) ~SEQ(B,5,-1,4) x${A}${B}\n", None);
        assert_eq!(l, ["x15", "x14", "x25", "x24"]);
    }

    #[test]
    fn expansion_is_bounded() {
        let opts = Options {
            max_expanded_lines: 100,
            ..Options::default()
        };
        let out = run_str("t", "~SEQ(A,1000000) x\n", &MemLoader::new(), &opts);
        assert!(out.tokens.is_empty());
        assert_eq!(out.diags[0].code, Code::BadExpansion);
        let out = run_str("t", "$A=$A $A \nx $A \n", &MemLoader::new(), &opts);
        assert_eq!(out.diags[0].code, Code::BadExpansion);
    }

    #[test]
    fn long_substituted_lines_count_against_the_budget() {
        let opts = Options {
            max_expanded_lines: 100,
            ..Options::default()
        };
        // Each use makes a 3000-byte line, which counts as 3 lines.
        let text = format!("$A={}\n{}", "x".repeat(3000), "$A\n".repeat(40));
        let out = run_str("t", &text, &MemLoader::new(), &opts);
        assert_eq!(out.line_starts.len(), 33);
        let codes: Vec<(Code, u32)> = out.diags.iter().map(|d| (d.code, d.span.line)).collect();
        assert_eq!(codes, [(Code::LineTooLong, 1), (Code::BadExpansion, 35)]);
    }

    #[test]
    fn growing_substitution_counts_against_the_budget() {
        let opts = Options {
            max_expanded_lines: 100,
            ..Options::default()
        };
        // $A grows by 1.5 kB per pass until it is too long: once that cost
        // 24 passes on each of the 50 lines, reported 50 times.
        let text = format!("$A={} $A\n{}", "x".repeat(1500), "$A\n".repeat(50));
        let out = run_str("t", &text, &MemLoader::new(), &opts);
        let got: Vec<(u32, &str)> = out
            .diags
            .iter()
            .filter(|d| d.code == Code::BadExpansion)
            .map(|d| (d.span.line, d.message.as_str()))
            .collect();
        assert_eq!(got, [(2, "expansion produces more than 100 lines")]);
    }

    #[test]
    fn includes_resolve_relative_with_globs_and_braces() {
        let loader = MemLoader::new()
            .with("/c/main.conf", "a\ninclude conf.d/{x,y}*.conf\nb\n")
            .with("/c/conf.d/x1.conf", "x1\n")
            .with("/c/conf.d/y1.conf", "y1\ninclude ../main.conf\n");
        let out = run_file(Path::new("/c/main.conf"), &loader, &Options::default());
        assert_eq!(out.line_starts.len(), 4);
        assert_eq!(
            out.sources.names(),
            ["/c/main.conf", "/c/conf.d/x1.conf", "/c/conf.d/y1.conf"]
        );
        assert_eq!(out.diags.len(), 1);
        assert_eq!(out.diags[0].code, Code::IncludeCycle);
        assert_eq!(out.diags[0].span.line, 2);
    }

    /// The diagnostics of reading `/c/main.conf` from `loader`, shown.
    fn include_diags(loader: &MemLoader, check: u8) -> Vec<String> {
        let opts = Options {
            include_check: check,
            ..Options::default()
        };
        let out = run_file(Path::new("/c/main.conf"), loader, &opts);
        out.diags
            .iter()
            .map(|d| d.display(&out.sources).to_string())
            .collect()
    }

    #[test]
    fn include_variants_decide_what_is_an_error() {
        let files = |main: &str| {
            MemLoader::new()
                .with("/c/main.conf", main)
                .with("/c/d/a.conf", "a\n")
        };
        let cases: &[(&str, &str)] = &[
            (
                "include x.conf",
                "warning: include x.conf: no such file or directory",
            ),
            (
                "includer x.conf",
                "warning: include x.conf: no such file or directory",
            ),
            (
                "includem x.conf",
                "error: include x.conf: no such file or directory",
            ),
            (
                "includeb x.conf",
                "warning: include x.conf: no such file or directory",
            ),
            ("includem d/*.x", "warning: include d/*.x matches no file"),
            ("includew d/*.x", "error: include d/*.x matches no file"),
            (
                "includem e/*.x",
                "error: include e/*.x: no such file or directory",
            ),
            (
                "includem d/{x,y}.conf",
                "warning: include d/{x,y}.conf: no such file or directory",
            ),
            (
                "includeb d/{x,y}.conf",
                "error: include d/{x,y}.conf: no such file or directory",
            ),
            (
                "includem d/{a,y}.conf",
                "warning: include d/{a,y}.conf: some alternatives missing",
            ),
            (
                "includeb d/{a,y}.conf",
                "error: include d/{a,y}.conf: some alternatives missing, so no file is read",
            ),
            ("include d", "warning: /c/d is a directory: skipped"),
            ("includer d", "error: /c/d is a directory: skipped"),
        ];
        for (line, want) in cases {
            let got = include_diags(&files(&format!("{line}\n")), 0);
            assert_eq!(got, [format!("/c/main.conf:1:1: {want}")], "{line}");
        }
        // All of a brace pattern's files are read, or (includeb) none.
        let l = files("include d/{a,y}.conf\n");
        let out = run_file(Path::new("/c/main.conf"), &l, &Options::default());
        assert_eq!(out.sources.names(), ["/c/main.conf", "/c/d/a.conf"]);
        let l = files("includeb d/{a,y}.conf\n");
        let out = run_file(Path::new("/c/main.conf"), &l, &Options::default());
        assert_eq!(out.sources.names(), ["/c/main.conf"]);
        // -e: every check.
        let got = include_diags(&files("include x.conf\n"), CHECK_ALL);
        assert_eq!(
            got,
            ["/c/main.conf:1:1: error: include x.conf: no such file or directory"]
        );
    }

    #[test]
    fn include_check_applies_from_its_line_to_the_end_of_its_file() {
        let loader = MemLoader::new()
            .with(
                "/c/main.conf",
                "include a.conf\nglobal_defs {\n include_check match\n}\n\
                 include b.conf\ninclude c.conf\ninclude d.conf\n",
            )
            .with(
                "/c/c.conf",
                "global_defs {\n include_check -match\n}\ninclude e.conf\n",
            );
        let got = include_diags(&loader, 0);
        assert_eq!(
            got,
            [
                "/c/main.conf:1:1: warning: include a.conf: no such file or directory",
                "/c/main.conf:5:1: error: include b.conf: no such file or directory",
                "/c/c.conf:4:1: warning: include e.conf: no such file or directory",
                // c.conf's -match ended with c.conf.
                "/c/main.conf:7:1: error: include d.conf: no such file or directory",
            ]
        );
        // Only in global_defs, and only at its top level.
        let loader = MemLoader::new().with(
            "/c/main.conf",
            "vrrp_instance X {\n include_check\n}\nglobal_defs {\n x {\n include_check\n }\n}\n\
             include a.conf\n",
        );
        let got = include_diags(&loader, 0);
        assert_eq!(
            got,
            ["/c/main.conf:9:1: warning: include a.conf: no such file or directory"]
        );
    }

    #[test]
    fn random_is_a_built_in_parameter() {
        let (l, d) = lines("a ${_RANDOM 7 7} $_RANDOM\nb ${_RANDOM 3}\n", None);
        assert!(d.is_empty(), "{d:?}");
        let a: Vec<&str> = l[0].split(' ').collect();
        assert_eq!(a[..2], ["a", "7"]);
        assert!(a[2].parse::<u32>().is_ok_and(|n| n <= 32767), "{l:?}");
        let b: u32 = l[1][2..].parse().expect("a number");
        assert!((3..=32767).contains(&b), "{l:?}");
        // No trailing space before '}', and only _RANDOM takes numbers.
        let (l, _) = lines("c ${_RANDOM 7 } ${_PWD 1}\n", None);
        assert_eq!(l, ["c $ { _RANDOM 7 } $ { _PWD 1 }"]);
        let (l, _) = lines("d ${_RANDOM } ${_RANDOM 9 9 9}\n", None);
        let d: Vec<&str> = l[0].split(' ').collect();
        assert!(d[1].parse::<u32>().is_ok_and(|n| n <= 32767), "{l:?}");
        assert_eq!(d[2], "9");
    }

    #[test]
    fn include_depth_is_bounded() {
        let mut loader = MemLoader::new();
        for i in 0..10 {
            loader = loader.with(
                format!("/d/{i}.conf"),
                format!("x{i}\ninclude {}.conf\n", i + 1),
            );
        }
        let opts = Options {
            max_include_depth: 3,
            ..Options::default()
        };
        let out = run_file(Path::new("/d/0.conf"), &loader, &opts);
        assert_eq!(out.line_starts.len(), 4, "0.conf to 3.conf are read");
        assert_eq!(out.diags.len(), 1);
        assert_eq!(out.diags[0].code, Code::IncludeTooDeep);
        assert_eq!(out.sources.name(out.diags[0].span.file), "/d/3.conf");
    }

    #[test]
    fn comment_in_word_warns() {
        let (l, d) = lines("auth_pass k@l!ve1\n", None);
        assert_eq!(l, ["auth_pass k@l"]);
        assert_eq!(d[0].code, Code::CommentInWord);
        assert_eq!(d[0].span.col, 14);
    }

    #[test]
    fn malformed_sequences_are_diagnosed() {
        for bad in [
            "~SEQé(x)",
            "~SEQ(",
            "~SEQ(A)",
            "~LST()",
            "~SEQ(A,1,2,3,4) x",
            "~SEQx(é, 3) x",
        ] {
            let (l, d) = lines(&format!("{bad}\n"), None);
            assert!(l.is_empty(), "{bad}: {l:?}");
            assert_eq!(d.len(), 1, "{bad}: {d:?}");
            assert_eq!(d[0].code, Code::BadExpansion, "{bad}");
        }
    }

    #[test]
    fn brace_expansion() {
        assert_eq!(expand_braces("a{b,c{d,e}}f", 10), ["abf", "acdf", "acef"]);
    }

    #[test]
    fn brace_expansion_is_bounded() {
        // Once exponential (2^30 steps) and a stack overflow (one frame per group).
        let many = "{a,b}".repeat(30);
        let v = expand_braces(&many, 64);
        assert_eq!(v.len(), 64);
        assert_eq!(v[0], "a".repeat(30));
        assert_eq!(v[1], format!("{}b", "a".repeat(29)));
        let deep = "{a}".repeat(1000);
        assert_eq!(expand_braces(&deep, 64), ["a".repeat(1000)]);
        let huge = "{a}".repeat(200_000);
        assert_eq!(expand_braces(&huge, 64), [huge]);
        assert_eq!(expand_braces("a{b", 64), ["a{b"]);
        assert_eq!(expand_braces("{}", 64), [""]);
    }
}
