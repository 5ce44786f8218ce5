//! A keepalived.conf parser: lexer, preprocessor, parser to a typed serde
//! model, validation with file:line:col diagnostics, and an emitter.
//!
//! # Contract
//! - **I/O**: only through a [`Loader`]. [`parse_file`] reads the file system
//!   (the main file and its `include`s); [`parse_str`] never touches it
//!   (includes find nothing); [`parse_with`] takes any loader, e.g. a
//!   [`MemLoader`] to sandbox includes.
//! - **Clock, randomness, threads**: none.
//! - **Panics**: none on any input. Every problem is a [`Diagnostic`] with a
//!   typed [`Code`]; parsing always returns a (possibly partial) model.
//! - **Bounds**: include depth, lines produced by `~SEQ`/`~LST`/parameters
//!   (a long line counting once per started KiB) and the length of
//!   substituted lines are limited by [`Options`]; block nesting (64) and
//!   include brace expansion (64 patterns) have fixed limits. Nothing
//!   recurses without bound, and time per input is bounded by these limits
//!   (the defaults are generous: tighten them for untrusted input, as the
//!   fuzz target does).
//! - **Features**: `convert-vrrp` and `convert-lvs` add the two halves of
//!   [`convert`]: the model to the `vrrp` crate's driver setup, and to
//!   `ipvs` services with `healthcheck` targets, with keepalived's defaults;
//!   with them, [`dump`] renders keepalived's state dumps (the checker's
//!   DATA dump, the VRRP DATA, STATS and JSON dumps) from those plans and a
//!   view of the running daemon, purely: host facts come in through
//!   [`dump::Host`], and writing the files is the caller's.
//!
//! Stages: [`lexer`] -> [`preprocess`] (include, `$NAME`, `@id`, `~SEQ`,
//! `~LST`; every token keeps its [`Span`]) -> [`parser`] (statement tree) ->
//! lowering to [`model::Config`] (value checks, unknown keywords with a
//! "did you mean", their blocks skipped) -> cross-object validation ->
//! [`emit`] back to canonical text, with `parse(emit(m)) == m`; and
//! [`convert`], the model to the keepalived crates' configurations.
//!
//! Values are typed where they are parsed: addresses and prefixes
//! (`IpAddr`, [`ipnet::IpNet`]), routes, unicast peers, durations
//! (`Duration`), schedulers, scopes and the other enums. The ones a later
//! stage may refuse carry their [`Span`] ([`span::Spanned`]), and a bad
//! value is a diagnostic at parse time, so no later stage parses a string
//! again. Keywords the model has no field for are kept verbatim, with
//! their span, as [`model::Setting`]s.
//!
//! For speed on large files (see BENCHMARKS.md), files are read line by
//! line, words live in one arena that tokens index into, and each top-level
//! statement is parsed and lowered as soon as it ends, so only the model
//! grows with the file.
//!
//! # Example
//! ```
//! use vrrp_conf::{emit, parse_str, Code, Options};
//!
//! let text = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priorty 100\n}\n";
//! let parsed = parse_str("keepalived.conf", text, &Options::default());
//! let vi = &parsed.config.vrrp_instances[0];
//! assert_eq!(vi.virtual_router_id, Some(51));
//! let d = parsed.diagnostics.iter().find(|d| d.code == Code::UnknownKeyword).unwrap();
//! assert_eq!(d.span.line, 4);
//! assert_eq!(d.suggestion.as_deref(), Some("priority"));
//!
//! let again = parse_str("again.conf", &emit::emit(&parsed.config), &Options::default());
//! assert_eq!(again.config, parsed.config);
//!
//! // Values without a span of their own can still be cited.
//! let at = parsed.span_of(vrrp_conf::Object::Instance(0), "virtual_router_id").unwrap();
//! assert_eq!((at.line, at.col), (3, 3));
//!
//! // Host-dependent checks are separate and only warn.
//! let missing = parsed.missing_interfaces(&|name| name == "lo");
//! assert_eq!((missing[0].code, missing[0].span.line), (Code::MissingInterface, 2));
//! ```
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod convert;
pub mod diagnostics;
pub mod dump;
pub mod emit;
mod keywords;
pub mod lexer;
mod lower;
pub mod model;
pub mod parser;
pub mod preprocess;
pub mod span;
mod validate;

use std::path::Path;

pub use diagnostics::{Code, Diagnostic, Severity};
pub use ipnet;
pub use model::Config;
pub use preprocess::{FsLoader, LoadError, Loader, MemLoader, Options};
pub use span::{FileId, SourceMap, Span};

/// The result of parsing: the model, what was found wrong, and the files read.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The configuration as keepalived would read it.
    pub config: Config,
    /// Problems, ordered by file, line and column.
    pub diagnostics: Vec<Diagnostic>,
    /// Names of the files read, for rendering spans.
    pub sources: SourceMap,
    /// Spans of objects, for checks made after parsing.
    spans: lower::Spans,
}

impl Parsed {
    /// True if any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// Where `keyword` was written inside `object` (the last time, if
    /// more than once), else where the object starts; none for an object
    /// that does not exist. For citing file:line about values that carry
    /// no [`span::Spanned`] of their own (`priority`, `interface`, ...).
    pub fn span_of(&self, object: Object, keyword: &str) -> Option<Span> {
        let sp = match object {
            Object::GlobalDefs => Some(&self.spans.global),
            Object::Script(i) => self.spans.scripts.get(i),
            Object::SyncGroup(i) => self.spans.groups.get(i),
            Object::Instance(i) => self.spans.instances.get(i),
            Object::VirtualServer(i) => self.spans.virtual_servers.get(i),
            Object::RealServer(v, r) => self
                .spans
                .virtual_servers
                .get(v)
                .and_then(|s| s.children.get(r)),
        }?;
        Some(sp.key(keyword))
    }

    /// How many diagnostics have `code`.
    pub fn count(&self, code: Code) -> usize {
        self.diagnostics.iter().filter(|d| d.code == code).count()
    }

    /// Warnings for interfaces the VRRP instances name (`interface`,
    /// `track_interface`, `dev` of virtual addresses) that `exists` says
    /// are missing. Whether an interface exists depends on the host, so
    /// this is separate from parsing and never an error.
    pub fn missing_interfaces(&self, exists: &dyn Fn(&str) -> bool) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for (i, sp) in self.config.vrrp_instances.iter().zip(&self.spans.instances) {
            let mut check = |name: &str, key: &str, what: &str| {
                if !exists(name) {
                    let msg = format!(
                        "interface {name} ({what} of vrrp_instance {}) does not exist on this host",
                        i.name
                    );
                    out.push(Diagnostic::warning(
                        Code::MissingInterface,
                        sp.key(key),
                        msg,
                    ));
                }
            };
            if let Some(name) = &i.interface {
                check(name, "interface", "interface");
            }
            for t in &i.track_interface {
                check(&t.name, "track_interface", "track_interface");
            }
            for a in i.virtual_ipaddress.iter().filter_map(|a| a.dev.as_deref()) {
                check(a, "virtual_ipaddress", "dev of a virtual_ipaddress");
            }
        }
        // keepalived: "unknown interface IF specified for up/down delay".
        let delays = (self.config.other.iter())
            .filter(|s| s.keyword == "interface_up_down_delays")
            .flat_map(|b| b.block.iter().flatten());
        for s in delays {
            if !exists(&s.keyword) {
                let msg = format!(
                    "interface {} (of interface_up_down_delays) does not exist on this host",
                    s.keyword
                );
                out.push(Diagnostic::warning(Code::MissingInterface, s.span, msg));
            }
        }
        out
    }
}

/// An object of the model, by its index in [`Config`]'s vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// `global_defs`.
    GlobalDefs,
    /// `vrrp_scripts[i]`.
    Script(usize),
    /// `vrrp_sync_groups[i]`.
    SyncGroup(usize),
    /// `vrrp_instances[i]`.
    Instance(usize),
    /// `virtual_servers[i]`.
    VirtualServer(usize),
    /// `virtual_servers[v].real_servers[r]`.
    RealServer(usize, usize),
}

/// Parses `text` as the file `name` without touching the file system.
pub fn parse_str(name: &str, text: &str, opts: &Options) -> Parsed {
    parse_with(name, text, &MemLoader::new(), opts)
}

/// Parses `text` as the file `name`, resolving includes through `loader`.
pub fn parse_with(name: &str, text: &str, loader: &dyn Loader, opts: &Options) -> Parsed {
    let mut b = Builder::default();
    let (sources, diags) =
        preprocess::stream_str(name, text, loader, opts, &mut |c, d| b.chunk(c, d));
    b.finish(sources, diags)
}

/// Reads and parses the file at `path` and its includes from the file system.
/// An unreadable file gives a [`Code::FileUnreadable`] diagnostic.
pub fn parse_file(path: &Path, opts: &Options) -> Parsed {
    let mut b = Builder::default();
    let (sources, diags) =
        preprocess::stream_file(path, &FsLoader, opts, &mut |c, d| b.chunk(c, d));
    b.finish(sources, diags)
}

/// [`parse_file`], also returning keepalived 2.2.7's processed copy of the
/// configuration: the text keepalived saves as `keepalived.conf.PID.N`
/// under `config_save_dir` (see [`preprocess::stream_file_with_copy`]).
pub fn parse_file_with_copy(path: &Path, opts: &Options) -> (Parsed, String) {
    let mut b = Builder::default();
    let (sources, diags, copy) =
        preprocess::stream_file_with_copy(path, &FsLoader, opts, &mut |c, d| b.chunk(c, d));
    (b.finish(sources, diags), copy)
}

/// [`parse_with`], also returning keepalived's processed copy, as
/// [`parse_file_with_copy`] does.
pub fn parse_with_copy(
    name: &str,
    text: &str,
    loader: &dyn Loader,
    opts: &Options,
) -> (Parsed, String) {
    let mut b = Builder::default();
    let (sources, diags, copy) =
        preprocess::stream_str_with_copy(name, text, loader, opts, &mut |c, d| b.chunk(c, d));
    (b.finish(sources, diags), copy)
}

/// Parses and lowers each top-level statement as soon as the preprocessor
/// has it, so memory holds the model, not the whole token stream.
#[derive(Default)]
struct Builder {
    config: Config,
    spans: lower::Spans,
}

impl Builder {
    fn chunk(&mut self, c: preprocess::Chunk<'_>, diags: &mut Vec<Diagnostic>) {
        let tree = parser::parse(c.tokens, c.line_starts, c.text, diags);
        let mut low = lower::Lower::new(diags, std::mem::take(&mut self.spans));
        for n in &tree {
            low.top(n, &mut self.config);
        }
        self.spans = low.into_spans();
    }

    fn finish(self, sources: SourceMap, mut diags: Vec<Diagnostic>) -> Parsed {
        validate::check(&self.config, &self.spans, &mut diags);
        diags.sort_by_key(|d| (d.span.file, d.span.line, d.span.col));
        Parsed {
            config: self.config,
            diagnostics: diags,
            sources,
            spans: self.spans,
        }
    }
}
