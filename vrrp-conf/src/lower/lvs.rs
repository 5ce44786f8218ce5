//! Lowering of the LVS side: virtual_server, real_server, checkers, url.

use crate::diagnostics::{Code, Diagnostic};
use crate::keywords;
use crate::model::*;
use crate::parser::Node;
use crate::span::Spanned;

use super::{setting, Lower, ObjSpans};

impl Lower<'_> {
    pub(super) fn virtual_server(&mut self, n: &Node<'_>) -> Option<VirtualServer> {
        let target = self.vs_target(n)?;
        // Sized up front: a large configuration holds many of these.
        let reals = n
            .children()
            .iter()
            .filter(|c| c.keyword == "real_server")
            .count();
        let mut v = VirtualServer {
            target,
            real_servers: Vec::with_capacity(reals),
            ..Default::default()
        };
        let mut sp = ObjSpans::new(n);
        for c in n.children() {
            sp.note(VS_TYPED, c);
            match c.keyword {
                "delay_loop" => v.delay_loop = self.seconds(c),
                "lb_algo" => {
                    self.deprecated(c, "lvs_sched");
                    v.lvs_sched = self.word_of(c, &Scheduler::ALL.map(|(s, n)| (n, s)));
                }
                "lvs_sched" => v.lvs_sched = self.word_of(c, &Scheduler::ALL.map(|(s, n)| (n, s))),
                "lb_kind" => {
                    self.deprecated(c, "lvs_method");
                    v.lvs_method = self.lvs_method(c);
                }
                "lvs_method" => v.lvs_method = self.lvs_method(c),
                "persistence_timeout" => {
                    v.persistence_timeout = self.num(c, 1, i64::from(u32::MAX))
                }
                "persistence_granularity" => v.persistence_granularity = self.string(c),
                "protocol" => {
                    // Only fwmark services check their protocol's span.
                    if matches!(v.target, VsTarget::Fwmark(_)) {
                        sp.keys.push(("protocol", c.span));
                    }
                    v.protocol = self.word_of(
                        c,
                        &[
                            ("TCP", Protocol::Tcp),
                            ("UDP", Protocol::Udp),
                            ("SCTP", Protocol::Sctp),
                        ],
                    );
                }
                "ha_suspend" => v.ha_suspend = true,
                "virtualhost" => v.virtualhost = self.string(c),
                "alpha" => v.alpha = true,
                "omega" => v.omega = true,
                "quorum" => v.quorum = self.num(c, 1, i64::from(u32::MAX)),
                "hysteresis" => v.hysteresis = self.num(c, 0, i64::from(u32::MAX)),
                "quorum_up" => v.quorum_up = self.script(c),
                "quorum_down" => v.quorum_down = self.script(c),
                "sorry_server" => v.sorry_server = self.sorry_server(c),
                "real_server" => {
                    if let Some((r, rsp)) = self.real_server(c) {
                        v.real_servers.push(r);
                        sp.children.push(rsp);
                    }
                }
                k if keywords::LVS.contains(&k) => v.other.push(setting(c)),
                _ => self.unknown(c, &[VS_TYPED, keywords::LVS]),
            }
        }
        self.spans.virtual_servers.push(sp);
        Some(v)
    }

    /// `sorry_server IP [PORT]`.
    pub(super) fn sorry_server(&mut self, c: &Node<'_>) -> Option<Spanned<SorryServer>> {
        let text = self.arg(c)?;
        let ip = self.ip_word(c, text)?;
        let port = match c.args.get(1).map(|p| p.parse::<u16>()) {
            None => None,
            Some(Ok(p)) => Some(p),
            Some(Err(_)) => {
                let msg = format!(
                    "sorry_server: invalid port '{}'",
                    c.args.get(1).unwrap_or("")
                );
                self.push(Diagnostic::error(Code::InvalidValue, c.span, msg));
                return None;
            }
        };
        if c.args.len() > 2 {
            let msg = "sorry_server takes an address and a port; keepalived ignores the rest";
            self.push(Diagnostic::warning(Code::Ignored, c.span, msg));
        }
        Some(Spanned::new(SorryServer { ip, port }, c.span))
    }

    pub(super) fn lvs_method(&mut self, c: &Node<'_>) -> Option<LvsMethod> {
        self.word_of(
            c,
            &[
                ("NAT", LvsMethod::Nat),
                ("DR", LvsMethod::Dr),
                ("TUN", LvsMethod::Tun),
            ],
        )
    }

    pub(super) fn vs_target(&mut self, n: &Node<'_>) -> Option<VsTarget> {
        self.name(n)?;
        let a = n.args;
        let bad = |s: &mut Self, what: &str| {
            let msg = format!("virtual_server: {what}");
            s.push(Diagnostic::error(Code::InvalidValue, n.span, msg));
            None
        };
        match a.first().unwrap_or("") {
            "fwmark" => match a.get(1).map(|m| m.parse::<u32>()) {
                Some(Ok(m)) if m > 0 => Some(VsTarget::Fwmark(m)),
                _ => bad(self, "fwmark needs a number in [1, 4294967295]"),
            },
            "group" => match a.get(1) {
                Some(g) => Some(VsTarget::Group(g.to_string())),
                None => bad(self, "group needs a name"),
            },
            ip => {
                let Ok(ip) = ip.parse() else {
                    return bad(self, &format!("invalid IP address '{ip}'"));
                };
                let port = match a.get(1).map(|p| p.parse::<u16>()) {
                    None => None,
                    Some(Ok(p)) if p > 0 => Some(p),
                    Some(_) => {
                        return bad(self, &format!("invalid port '{}'", a.get(1).unwrap_or("")))
                    }
                };
                Some(VsTarget::Address { ip, port })
            }
        }
    }

    pub(super) fn real_server(&mut self, n: &Node<'_>) -> Option<(RealServer, ObjSpans)> {
        let text = self.name(n)?;
        let ip = self.ip_word(n, &text)?;
        let port = match n.args.get(1).map(|p| p.parse::<u16>()) {
            None => None,
            Some(Ok(p)) if p > 0 => Some(p),
            Some(_) => {
                let msg = format!(
                    "real_server: invalid port '{}'",
                    n.args.get(1).unwrap_or("")
                );
                self.push(Diagnostic::error(Code::InvalidValue, n.span, msg));
                return None;
            }
        };
        let checkers = n
            .children()
            .iter()
            .filter(|c| checker_kind(c.keyword).is_some())
            .count();
        let mut r = RealServer {
            ip,
            port,
            checkers: Vec::with_capacity(checkers),
            ..Default::default()
        };
        let mut sp = ObjSpans::new(n);
        for c in n.children() {
            sp.note(RS_TYPED, c);
            sp.note(&CheckerKind::KEYWORDS, c);
            if let Some(kind) = checker_kind(c.keyword) {
                let (k, ksp) = self.checker(c, kind);
                r.checkers.push(k);
                sp.children.push(ksp);
                continue;
            }
            match c.keyword {
                "weight" => r.weight = self.num(c, 0, 65535),
                "inhibit_on_failure" => r.inhibit_on_failure = true,
                "notify_up" => r.notify_up = self.script(c),
                "notify_down" => r.notify_down = self.script(c),
                k if keywords::LVS.contains(&k) => r.other.push(setting(c)),
                _ => self.unknown(c, &[RS_TYPED, &CheckerKind::KEYWORDS, keywords::LVS]),
            }
        }
        Some((r, sp))
    }

    pub(super) fn checker(&mut self, n: &Node<'_>, kind: CheckerKind) -> (Checker, ObjSpans) {
        let mut k = Checker::new(kind);
        let mut sp = ObjSpans::new(n);
        for c in n.children() {
            sp.note(CHECKER_TYPED, c);
            match c.keyword {
                "connect_ip" => k.connect_ip = self.ip(c),
                "connect_port" => k.connect_port = self.num(c, 1, 65535),
                "bindto" => k.bindto = self.ip(c),
                "connect_timeout" => k.connect_timeout = self.seconds(c),
                "retry" => k.retry = self.num(c, 0, i64::from(u32::MAX)),
                "nb_get_retry" => {
                    // keepalived 2.2.7 reads it as `retry`, with this message.
                    let msg = "nb_get_retry is deprecated - please use 'retry'";
                    self.push(Diagnostic::warning(Code::Deprecated, c.span, msg));
                    k.retry = self.num(c, 0, i64::from(u32::MAX));
                }
                "delay_before_retry" => k.delay_before_retry = self.seconds(c),
                "url" => k.urls.push(self.url(c)),
                "misc_path" => k.misc_path = self.script(c),
                "misc_timeout" => k.misc_timeout = self.num(c, 0, i64::from(u32::MAX)),
                "misc_dynamic" => k.misc_dynamic = true,
                kw if keywords::LVS.contains(&kw) => k.other.push(setting(c)),
                _ => self.unknown(c, &[CHECKER_TYPED, keywords::LVS]),
            }
        }
        (k, sp)
    }

    pub(super) fn url(&mut self, n: &Node<'_>) -> Url {
        let mut u = Url::default();
        for c in self.list(n) {
            match c.keyword {
                "path" => u.path = self.string(c),
                "digest" => u.digest = self.string(c),
                "status_code" => u.status_code = self.words(c),
                k if keywords::LVS.contains(&k) => u.other.push(setting(c)),
                _ => self.unknown(c, &[&["path", "digest", "status_code"], keywords::LVS]),
            }
        }
        u
    }
}

const VS_TYPED: &[&str] = &[
    "delay_loop",
    "lb_algo",
    "lvs_sched",
    "lb_kind",
    "lvs_method",
    "persistence_timeout",
    "persistence_granularity",
    "protocol",
    "ha_suspend",
    "virtualhost",
    "alpha",
    "omega",
    "quorum",
    "hysteresis",
    "quorum_up",
    "quorum_down",
    "sorry_server",
    "real_server",
];
const RS_TYPED: &[&str] = &["weight", "inhibit_on_failure", "notify_up", "notify_down"];
const CHECKER_TYPED: &[&str] = &[
    "connect_ip",
    "connect_port",
    "bindto",
    "connect_timeout",
    "retry",
    "nb_get_retry",
    "delay_before_retry",
    "url",
    "misc_path",
    "misc_timeout",
    "misc_dynamic",
];

fn checker_kind(keyword: &str) -> Option<CheckerKind> {
    CheckerKind::ALL
        .iter()
        .find(|(_, k)| *k == keyword)
        .map(|(k, _)| *k)
}
