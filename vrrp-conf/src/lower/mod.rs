//! Lowering: the statement tree to the typed [`Config`], checking each
//! value as it goes. Unknown keywords give one diagnostic each (with a
//! suggestion) and their blocks are skipped whole, so nothing cascades.

use std::net::IpAddr;
use std::str::FromStr;
use std::time::Duration;

use ipnet::IpNet;

use crate::diagnostics::{did_you_mean, Code, Diagnostic};
use crate::keywords;
use crate::model::*;
use crate::parser::Node;
use crate::span::{Span, Spanned};

mod lvs;
mod ssl;
mod vrrp;

/// Spans of the parts of an object that cross-object checks point at.
#[derive(Debug, Clone, Default)]
pub(crate) struct ObjSpans {
    /// The keyword that opened the object.
    pub head: Span,
    /// Its closing brace.
    pub end: Span,
    /// Spans of some keywords inside it, by keyword.
    pub keys: Vec<(&'static str, Span)>,
    /// Spans of sync group members.
    pub items: Vec<Span>,
    /// Spans of `track_script` entries.
    pub tracks: Vec<Span>,
    /// Spans of `static_rules`/`virtual_rules` entries, in order: keepalived
    /// reports a rule's own line.
    pub rules: Vec<Span>,
    /// Spans of the `static_ipaddress` and `static_routes` entries kept,
    /// in order: keepalived reports an entry's unknown track group there.
    pub statics: Statics,
    /// Spans of nested objects: a virtual server's real servers, a real
    /// server's checkers.
    pub children: Vec<ObjSpans>,
    /// How many `vrrp_script`s were defined before this object: keepalived
    /// looks a tracked script up when it reads the reference.
    pub scripts_before: usize,
}

/// Spans of kept static addresses and routes, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct Statics {
    /// `static_ipaddress` entries.
    pub addresses: Vec<Span>,
    /// `static_routes` entries.
    pub routes: Vec<Span>,
}

impl ObjSpans {
    fn new(n: &Node<'_>) -> Self {
        ObjSpans {
            head: n.span,
            end: n.end,
            ..Default::default()
        }
    }

    /// Records the span of `n` if its keyword is one of `typed`.
    pub(crate) fn note(&mut self, typed: &[&'static str], n: &Node<'_>) {
        if let Some(k) = typed.iter().find(|k| **k == n.keyword) {
            self.keys.push((k, n.span));
        }
    }

    /// The span of `key` inside the object, or the head.
    pub(crate) fn key(&self, key: &str) -> Span {
        self.keys
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map_or(self.head, |(_, s)| *s)
    }
}

/// Spans the validator needs, parallel to the model's vectors.
#[derive(Debug, Clone, Default)]
pub(crate) struct Spans {
    /// `global_defs` (all blocks; the head is the first one).
    pub global: ObjSpans,
    /// Top-level typed keywords (`static_ipaddress`, ...).
    pub top: ObjSpans,
    pub scripts: Vec<ObjSpans>,
    pub groups: Vec<ObjSpans>,
    pub instances: Vec<ObjSpans>,
    pub virtual_servers: Vec<ObjSpans>,
    /// The first place a script to run is configured.
    pub first_script: Option<Span>,
}

pub(crate) struct Lower<'d> {
    diags: &'d mut Vec<Diagnostic>,
    pub(crate) spans: Spans,
}

const TOP_TYPED: &[&str] = &[
    "global_defs",
    "static_ipaddress",
    "static_routes",
    "static_rules",
    "vrrp_script",
    "vrrp_sync_group",
    "vrrp_instance",
    "virtual_server_group",
    "virtual_server",
    "SSL",
];

impl<'d> Lower<'d> {
    pub(crate) fn new(diags: &'d mut Vec<Diagnostic>, spans: Spans) -> Self {
        Lower { diags, spans }
    }

    pub(crate) fn into_spans(self) -> Spans {
        self.spans
    }

    /// Lowers one top-level statement into `c`.
    pub(crate) fn top(&mut self, n: &Node<'_>, c: &mut Config) {
        self.spans.top.note(TOP_TYPED, n);
        match n.keyword {
            "global_defs" => self.global_defs(n, &mut c.global_defs),
            "static_ipaddress" => {
                for e in self.list(n) {
                    if let Some(a) = self.ip_address(e) {
                        c.static_ipaddress.push(a);
                        self.spans.top.statics.addresses.push(e.span);
                    }
                }
            }
            "static_routes" => {
                for e in self.list(n) {
                    if let Some(r) = self.route(e, false) {
                        c.static_routes.push(r);
                        self.spans.top.statics.routes.push(e.span);
                    }
                }
            }
            "static_rules" => {
                for e in self.list(n) {
                    c.static_rules.push(self.rule(e));
                    self.spans.top.rules.push(e.span);
                }
            }
            "vrrp_script" => {
                if let Some(s) = self.vrrp_script(n) {
                    c.vrrp_scripts.push(s);
                }
            }
            "vrrp_sync_group" => {
                if let Some(g) = self.sync_group(n) {
                    c.vrrp_sync_groups.push(g);
                    if let Some(sp) = self.spans.groups.last_mut() {
                        sp.scripts_before = c.vrrp_scripts.len();
                    }
                }
            }
            "vrrp_instance" => {
                if let Some(i) = self.instance(n) {
                    c.vrrp_instances.push(i);
                    if let Some(sp) = self.spans.instances.last_mut() {
                        sp.scripts_before = c.vrrp_scripts.len();
                    }
                }
            }
            "virtual_server_group" => {
                if let Some(name) = self.name(n) {
                    let members = self.list(n).iter().map(words_of).collect();
                    c.virtual_server_groups
                        .push(VirtualServerGroup { name, members });
                }
            }
            "virtual_server" => {
                if let Some(v) = self.virtual_server(n) {
                    c.virtual_servers.push(v);
                }
            }
            "SSL" => self.ssl(n, &mut c.ssl),
            k if keywords::TOP.contains(&k) => c.other.push(setting(n)),
            _ => self.unknown(n, &[TOP_TYPED, keywords::TOP]),
        }
    }

    // ---- helpers ----

    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn unknown(&mut self, n: &Node<'_>, lists: &[&[&str]]) {
        let all: Vec<&str> = lists.iter().flat_map(|l| l.iter().copied()).collect();
        let mut msg = format!("unknown keyword '{}'", n.keyword);
        if n.block.is_some() {
            msg.push_str(", its block is skipped");
        }
        let mut d = Diagnostic::error(Code::UnknownKeyword, n.span, msg);
        d.suggestion = did_you_mean(n.keyword, &all).map(String::from);
        self.push(d);
    }

    /// A line keepalived reports as a configuration error and runs past,
    /// in its words ([`Code::KeepalivedError`]).
    fn keepalived_error(&mut self, n: &Node<'_>, msg: String) {
        self.push(Diagnostic::error(Code::KeepalivedError, n.span, msg));
    }

    fn deprecated(&mut self, n: &Node<'_>, new: &str) {
        let msg = format!("'{}' is deprecated, use '{new}'", n.keyword);
        self.push(Diagnostic::warning(Code::Deprecated, n.span, msg));
    }

    /// The entries of a list block (`virtual_ipaddress { ... }`).
    fn list<'n, 'a>(&mut self, n: &'n Node<'a>) -> &'n [Node<'a>] {
        if n.block.is_none() {
            let msg = format!("'{}' needs a block", n.keyword);
            self.push(Diagnostic::error(Code::Missing, n.span, msg));
        }
        n.children()
    }

    /// The object name after a block keyword (`vrrp_instance NAME {`).
    fn name(&mut self, n: &Node<'_>) -> Option<String> {
        if n.block.is_none() {
            let msg = format!("'{}' needs a block", n.keyword);
            self.push(Diagnostic::error(Code::Missing, n.span, msg));
            return None;
        }
        match n.args.first() {
            Some(a) => Some(a.to_string()),
            None => {
                let msg = format!("'{}' needs a name", n.keyword);
                self.push(Diagnostic::error(Code::BadArgCount, n.span, msg));
                None
            }
        }
    }

    fn arg<'a>(&mut self, n: &Node<'a>) -> Option<&'a str> {
        let a = n.args.first();
        if a.is_none() {
            let msg = format!("'{}' needs a value", n.keyword);
            self.push(Diagnostic::error(Code::BadArgCount, n.span, msg));
        }
        a
    }

    /// The one value of a single-valued keyword. keepalived 2.2.7 reads
    /// only the first word and drops the rest of the line silently (so
    /// `TCP_CHECK { connect_timeout 3 retry 2 }` sets connect_timeout
    /// only): the same here, with a warning naming the dropped words.
    fn value<'a>(&mut self, n: &Node<'a>) -> Option<&'a str> {
        let a = self.arg(n)?;
        if n.args.len() > 1 {
            let rest: Vec<&str> = n.args.iter().skip(1).collect();
            let msg = format!(
                "'{}' takes one value; keepalived ignores the rest of the line: '{}'",
                n.keyword,
                rest.join(" ")
            );
            self.push(Diagnostic::warning(Code::Ignored, n.span, msg));
        }
        Some(a)
    }

    fn string(&mut self, n: &Node<'_>) -> Option<String> {
        self.value(n).map(String::from)
    }

    fn words(&mut self, n: &Node<'_>) -> Option<Words> {
        self.arg(n)?;
        Some(n.args.to_vec())
    }

    fn script(&mut self, n: &Node<'_>) -> Option<Words> {
        let w = self.words(n)?;
        self.spans.first_script.get_or_insert(n.span);
        Some(w)
    }

    fn num<T: TryFrom<i64>>(&mut self, n: &Node<'_>, lo: i64, hi: i64) -> Option<T> {
        let a = self.value(n)?;
        let Ok(v) = a.parse::<i64>() else {
            let msg = format!("'{}': '{a}' is not a number", n.keyword);
            self.push(Diagnostic::error(Code::InvalidValue, n.span, msg));
            return None;
        };
        if v < lo || v > hi {
            let msg = format!("'{}': number '{v}' outside range [{lo}, {hi}]", n.keyword);
            self.push(Diagnostic::error(Code::OutOfRange, n.span, msg));
            return None;
        }
        T::try_from(v).ok()
    }

    /// An optional yes/no argument, read as keepalived's
    /// `check_true_false` reads it (none is yes); anything else is an
    /// error and leaves the keyword unset, as keepalived ignores it.
    fn yes_no(&mut self, n: &Node<'_>) -> Option<bool> {
        let Some(a) = n.args.first() else {
            return Some(true);
        };
        match a {
            "true" | "on" | "yes" => Some(true),
            "false" | "off" | "no" => Some(false),
            _ => {
                let msg = format!("'{}': invalid parameter '{a}'", n.keyword);
                self.push(Diagnostic::error(Code::InvalidValue, n.span, msg));
                None
            }
        }
    }

    /// A GARP repeat count: 0 is an error that keepalived (since 2.0.7)
    /// reports and reads as 1.
    fn repeat(&mut self, n: &Node<'_>) -> Option<u32> {
        let v = self.num(n, 0, i64::from(u32::MAX))?;
        if v == 0 {
            let msg = format!("'{}': must be greater than 0, setting to 1", n.keyword);
            self.push(Diagnostic::error(Code::OutOfRange, n.span, msg));
            return Some(1);
        }
        Some(v)
    }

    /// A time in seconds (`1.5`), with its span.
    fn seconds(&mut self, n: &Node<'_>) -> Seconds {
        let a = self.value(n)?;
        match a.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => match Duration::try_from_secs_f64(v) {
                Ok(d) => Some(Spanned::new(d, n.span)),
                Err(_) => {
                    let msg = format!("'{}': '{a}' seconds is too long", n.keyword);
                    self.push(Diagnostic::error(Code::OutOfRange, n.span, msg));
                    None
                }
            },
            _ => {
                let msg = format!("'{}': '{a}' is not a time in seconds", n.keyword);
                self.push(Diagnostic::error(Code::InvalidValue, n.span, msg));
                None
            }
        }
    }

    /// An IP address value, with its span.
    fn ip(&mut self, n: &Node<'_>) -> Option<Spanned<IpAddr>> {
        let a = self.value(n)?;
        let ip = self.ip_word(n, a)?;
        Some(Spanned::new(ip, n.span))
    }

    /// `text` as an IP address, or an error at `n`.
    fn ip_word(&mut self, n: &Node<'_>, text: &str) -> Option<IpAddr> {
        let ip = text.parse().ok();
        if ip.is_none() {
            let msg = format!("'{}': invalid IP address '{text}'", n.keyword);
            self.push(Diagnostic::error(Code::InvalidValue, n.span, msg));
        }
        ip
    }

    fn word_of<T: Copy>(&mut self, n: &Node<'_>, choices: &[(&str, T)]) -> Option<T> {
        let a = self.value(n)?;
        let found = choices
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(a))
            .map(|(_, v)| *v);
        if found.is_none() {
            let names: Vec<&str> = choices.iter().map(|(w, _)| *w).collect();
            let msg = format!("'{}': '{a}' is not one of {}", n.keyword, names.join(", "));
            self.push(Diagnostic::error(Code::InvalidValue, n.span, msg));
        }
        found
    }

    /// `ADDR[/LEN]` as a prefix (the full length without `/LEN`).
    fn address(&mut self, n: &Node<'_>, text: &str) -> Option<IpNet> {
        let net = ip_net(text);
        if net.is_none() {
            let msg = format!("invalid IP address '{text}'");
            self.push(Diagnostic::error(Code::InvalidValue, n.span, msg));
        }
        net
    }
}

/// A node's keyword and arguments as one list of words.
fn words_of(n: &Node<'_>) -> Words {
    let mut w = Vec::with_capacity(n.args.len() + 1);
    w.push(n.keyword.to_string());
    w.extend(n.args.iter().map(String::from));
    w
}

/// A node kept verbatim.
pub(crate) fn setting(n: &Node<'_>) -> Setting {
    Setting {
        keyword: n.keyword.to_string(),
        args: n.args.to_vec(),
        block: n.block.as_ref().map(|b| b.iter().map(setting).collect()),
        span: n.span,
    }
}

/// `ADDR` (the full prefix length) or `ADDR/LEN`, keeping the host bits.
pub(crate) fn ip_net(s: &str) -> Option<IpNet> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let ip = IpAddr::from_str(addr).ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => l.parse::<u8>().ok().filter(|l| *l <= max)?,
    };
    IpNet::new(ip, len).ok()
}
