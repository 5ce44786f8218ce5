//! Lowering: the statement tree to the typed [`Config`], checking each
//! value as it goes. Unknown keywords give one diagnostic each (with a
//! suggestion) and their blocks are skipped whole, so nothing cascades.

use std::net::IpAddr;
use std::str::FromStr;

use crate::diagnostics::{did_you_mean, Code, Diagnostic};
use crate::keywords;
use crate::model::*;
use crate::parser::Node;
use crate::span::Span;

/// Spans of the parts of an object that cross-object checks point at.
#[derive(Debug, Clone, Default)]
pub(crate) struct ObjSpans {
    /// The keyword that opened the object.
    pub head: Span,
    /// Its closing brace.
    pub end: Span,
    /// Spans of some keywords inside it, by keyword.
    pub keys: Vec<(&'static str, Span)>,
    /// Spans of list entries (track_script entries, group members).
    pub items: Vec<Span>,
}

impl ObjSpans {
    fn new(n: &Node<'_>) -> Self {
        ObjSpans {
            head: n.span,
            end: n.end,
            ..Default::default()
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
        match n.keyword {
            "global_defs" => self.global_defs(n, &mut c.global_defs),
            "static_ipaddress" => c
                .static_ipaddress
                .extend(self.list(n).iter().map(|e| self.ip_address(e))),
            "static_routes" => c
                .static_routes
                .extend(self.list(n).iter().map(|e| self.route(e, false))),
            "static_rules" => c
                .static_rules
                .extend(self.list(n).iter().map(|e| self.rule(e))),
            "vrrp_script" => {
                if let Some(s) = self.vrrp_script(n) {
                    c.vrrp_scripts.push(s);
                }
            }
            "vrrp_sync_group" => {
                if let Some(g) = self.sync_group(n) {
                    c.vrrp_sync_groups.push(g);
                }
            }
            "vrrp_instance" => {
                if let Some(i) = self.instance(n) {
                    c.vrrp_instances.push(i);
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

    fn string(&mut self, n: &Node<'_>) -> Option<String> {
        self.arg(n).map(String::from)
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
        let a = self.arg(n)?;
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

    fn seconds(&mut self, n: &Node<'_>) -> Option<f64> {
        let a = self.arg(n)?;
        match a.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
            _ => {
                let msg = format!("'{}': '{a}' is not a time in seconds", n.keyword);
                self.push(Diagnostic::error(Code::InvalidValue, n.span, msg));
                None
            }
        }
    }

    fn word_of<T: Copy>(&mut self, n: &Node<'_>, choices: &[(&str, T)]) -> Option<T> {
        let a = self.arg(n)?;
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

    fn address(&mut self, n: &Node<'_>, text: &str) -> bool {
        if is_ip_prefix(text) {
            return true;
        }
        let msg = format!("invalid IP address '{text}'");
        self.push(Diagnostic::error(Code::InvalidValue, n.span, msg));
        false
    }

    // ---- blocks ----

    fn global_defs(&mut self, n: &Node<'_>, g: &mut GlobalDefs) {
        for c in self.list(n) {
            match c.keyword {
                "router_id" => g.router_id = self.string(c),
                "lvs_id" => {
                    self.deprecated(c, "router_id");
                    g.router_id = self.string(c);
                }
                "notification_email" => g
                    .notification_email
                    .extend(c.children().iter().map(|e| e.keyword.to_string())),
                "notification_email_from" => g.notification_email_from = self.string(c),
                "smtp_server" => g.smtp_server = self.words(c),
                "smtp_connect_timeout" => {
                    g.smtp_connect_timeout = self.num(c, 1, i64::from(u32::MAX))
                }
                "enable_script_security" => g.enable_script_security = true,
                "script_user" => g.script_user = self.words(c),
                "vrrp_strict" => g.vrrp_strict = true,
                "vrrp_version" => g.vrrp_version = self.num(c, 2, 3),
                "vrrp_mcast_group4" => g.vrrp_mcast_group4 = self.string(c),
                "vrrp_garp_master_delay" => g.vrrp_garp_master_delay = self.num(c, 0, 255),
                "vrrp_skip_check_adv_addr" => g.vrrp_skip_check_adv_addr = true,
                k if keywords::GLOBAL_DEFS.contains(&k) => g.other.push(setting(c)),
                _ => self.unknown(c, &[GLOBAL_TYPED, keywords::GLOBAL_DEFS]),
            }
        }
    }

    fn ip_address(&mut self, e: &Node<'_>) -> IpAddress {
        let mut ip = IpAddress {
            address: e.keyword.to_string(),
            ..Default::default()
        };
        self.address(e, e.keyword);
        let mut it = e.args.iter();
        while let Some(w) = it.next() {
            let slot = match w {
                "brd" | "broadcast" => &mut ip.brd,
                "dev" => &mut ip.dev,
                "scope" => &mut ip.scope,
                "label" => &mut ip.label,
                _ => {
                    ip.other.push(w.to_string());
                    continue;
                }
            };
            match it.next() {
                Some(v) => *slot = Some(v.to_string()),
                None => {
                    let msg = format!("'{w}' needs a value");
                    self.push(Diagnostic::error(Code::BadArgCount, e.span, msg));
                }
            }
        }
        ip
    }

    /// keepalived 2.2.7 ignores IPv4 virtual addresses in an instance whose
    /// first address is IPv6 (the other way round it accepts them, sending
    /// them outside the adverts; `virtual_ipaddress_excluded` may mix).
    fn same_family(&mut self, name: &str, addrs: &[IpAddress], nodes: &[Node<'_>]) {
        let v6 = |a: &IpAddress| a.address.contains(':');
        let Some(first) = addrs.first().filter(|a| v6(a)) else {
            return;
        };
        for (a, n) in addrs.iter().zip(nodes).skip(1) {
            if !v6(a) && is_ip_prefix(&a.address) {
                let msg = format!(
                    "({name}) address family of {} must match the instance's ({}); keepalived ignores it",
                    a.address, first.address
                );
                self.push(Diagnostic::error(Code::Conflict, n.span, msg));
            }
        }
    }

    fn route(&mut self, e: &Node<'_>, tracked: bool) -> Words {
        let w = words_of(e);
        for (old, new) in [("or", "nexthop"), ("gw", "via")] {
            if w.iter().any(|x| x == old) {
                let msg = format!("\"{old}\" for routes is deprecated, use \"{new}\"");
                self.push(Diagnostic::warning(Code::Deprecated, e.span, msg));
            }
        }
        if tracked && !w.iter().any(|x| x == "dev" || x == "no_track") {
            let dest = route_destination(&w);
            let msg =
                format!("cannot track route {dest} with no interface specified, not tracking");
            self.push(Diagnostic::warning(Code::Ignored, e.span, msg));
        }
        w
    }

    fn rule(&mut self, e: &Node<'_>) -> Words {
        let w = words_of(e);
        if !w
            .iter()
            .any(|x| matches!(x.as_str(), "preference" | "prio" | "priority" | "order"))
        {
            let msg = "rule has no preference; keepalived assigns one, which is probably not what you want";
            self.push(Diagnostic::warning(Code::Missing, e.span, msg));
        }
        for pair in w.windows(2) {
            if matches!(pair[0].as_str(), "from" | "to")
                && pair[1] != "all"
                && !is_ip_prefix(&pair[1])
            {
                let msg = format!("invalid rule address '{}'", pair[1]);
                self.push(Diagnostic::error(Code::InvalidValue, e.span, msg));
            }
        }
        w
    }

    fn track(&mut self, e: &Node<'_>) -> Track {
        let mut t = Track {
            name: e.keyword.to_string(),
            ..Default::default()
        };
        let mut it = e.args.iter();
        while let Some(w) = it.next() {
            if w != "weight" {
                t.other.push(w.to_string());
                continue;
            }
            match it.next().map(|v| v.parse::<i32>()) {
                Some(Ok(v)) if (-253..=253).contains(&v) => t.weight = Some(v),
                _ => {
                    let msg = format!("'{}': weight must be a number in [-253, 253]", e.keyword);
                    self.push(Diagnostic::error(Code::OutOfRange, e.span, msg));
                }
            }
        }
        t
    }

    fn notify(&mut self, c: &Node<'_>, n: &mut Notify) -> bool {
        let slot = match c.keyword {
            "notify_master" => &mut n.master,
            "notify_backup" => &mut n.backup,
            "notify_fault" => &mut n.fault,
            "notify_stop" => &mut n.stop,
            "notify" => &mut n.any,
            _ => return false,
        };
        *slot = self.script(c);
        true
    }

    fn vrrp_script(&mut self, n: &Node<'_>) -> Option<VrrpScript> {
        let mut s = VrrpScript {
            name: self.name(n)?,
            ..Default::default()
        };
        for c in n.children() {
            match c.keyword {
                "script" => s.script = self.script(c),
                "interval" => s.interval = self.seconds(c),
                "timeout" => s.timeout = self.seconds(c),
                "weight" => s.weight = self.num(c, -253, 253),
                "rise" => s.rise = self.num(c, 1, i64::from(u32::MAX)),
                "fall" => s.fall = self.num(c, 1, i64::from(u32::MAX)),
                "user" => s.user = self.words(c),
                k if keywords::VRRP_SCRIPT.contains(&k) => s.other.push(setting(c)),
                _ => self.unknown(c, &[SCRIPT_TYPED, keywords::VRRP_SCRIPT]),
            }
        }
        self.spans.scripts.push(ObjSpans::new(n));
        Some(s)
    }

    fn sync_group(&mut self, n: &Node<'_>) -> Option<SyncGroup> {
        let mut g = SyncGroup {
            name: self.name(n)?,
            ..Default::default()
        };
        let mut sp = ObjSpans::new(n);
        for c in n.children() {
            if self.notify(c, &mut g.notify) {
                continue;
            }
            match c.keyword {
                "group" => {
                    for e in self.list(c) {
                        g.group.push(e.keyword.to_string());
                        sp.items.push(e.span);
                    }
                }
                "smtp_alert" => g.smtp_alert = true,
                "track_script" => {
                    g.track_script = self.list(c).iter().map(|e| self.track(e)).collect()
                }
                "track_interface" => {
                    g.track_interface = self.list(c).iter().map(|e| self.track(e)).collect()
                }
                k if keywords::SYNC_GROUP.contains(&k) => g.other.push(setting(c)),
                _ => self.unknown(c, &[GROUP_TYPED, keywords::SYNC_GROUP]),
            }
        }
        self.spans.groups.push(sp);
        Some(g)
    }

    fn instance(&mut self, n: &Node<'_>) -> Option<VrrpInstance> {
        let mut v = VrrpInstance {
            name: self.name(n)?,
            ..Default::default()
        };
        let mut sp = ObjSpans::new(n);
        for c in n.children() {
            if self.notify(c, &mut v.notify) {
                continue;
            }
            let key = INSTANCE_TYPED.iter().find(|k| **k == c.keyword);
            if let Some(k) = key {
                sp.keys.push((k, c.span));
            }
            match c.keyword {
                "state" => {
                    v.state =
                        self.word_of(c, &[("MASTER", State::Master), ("BACKUP", State::Backup)])
                }
                "interface" => {
                    v.interface = self.string(c);
                    if v.interface.as_deref() == Some("lo") {
                        let msg =
                            format!("({}) cannot use a loopback interface (lo) for vrrp", v.name);
                        self.push(Diagnostic::error(Code::InvalidValue, c.span, msg));
                    }
                }
                "virtual_router_id" => v.virtual_router_id = self.num(c, 1, 255),
                "priority" => v.priority = self.num(c, 1, 255),
                "advert_int" => v.advert_int = self.seconds(c),
                "version" => v.version = self.num(c, 2, 3),
                "authentication" => v.authentication = Some(self.authentication(c, &mut sp)),
                "virtual_ipaddress" => {
                    v.virtual_ipaddress = self.list(c).iter().map(|e| self.ip_address(e)).collect();
                    self.same_family(&v.name, &v.virtual_ipaddress, c.children());
                }
                "virtual_ipaddress_excluded" => {
                    v.virtual_ipaddress_excluded =
                        self.list(c).iter().map(|e| self.ip_address(e)).collect()
                }
                "virtual_routes" => {
                    v.virtual_routes = self.list(c).iter().map(|e| self.route(e, true)).collect()
                }
                "virtual_rules" => {
                    v.virtual_rules = self.list(c).iter().map(|e| self.rule(e)).collect()
                }
                "track_interface" => {
                    v.track_interface = self.list(c).iter().map(|e| self.track(e)).collect()
                }
                "track_script" => {
                    for e in self.list(c) {
                        let t = self.track(e);
                        v.track_script.push(t);
                        sp.items.push(e.span);
                    }
                }
                "nopreempt" => v.nopreempt = true,
                "preempt_delay" => v.preempt_delay = self.seconds(c),
                "mcast_src_ip" => v.mcast_src_ip = self.string(c),
                "unicast_src_ip" => v.unicast_src_ip = self.string(c),
                "unicast_peer" => v.unicast_peer = self.list(c).iter().map(words_of).collect(),
                "use_vmac" => {
                    v.use_vmac = Some(OptionalArg {
                        value: c.args.first().map(String::from),
                    })
                }
                "garp_master_delay" => v.garp_master_delay = self.num(c, 0, 255),
                "smtp_alert" => v.smtp_alert = true,
                "dont_track_primary" => v.dont_track_primary = true,
                "lvs_sync_daemon_interface" => {
                    self.deprecated(c, "global_defs lvs_sync_daemon");
                    v.lvs_sync_daemon_interface = self.string(c);
                }
                "debug" => {
                    let value = if c.args.is_empty() {
                        None
                    } else {
                        self.num(c, 0, 4)
                    };
                    v.debug = Some(OptionalArg { value });
                }
                k if keywords::VRRP_INSTANCE.contains(&k) => v.other.push(setting(c)),
                _ => self.unknown(c, &[INSTANCE_TYPED, keywords::VRRP_INSTANCE]),
            }
        }
        self.spans.instances.push(sp);
        Some(v)
    }

    fn authentication(&mut self, n: &Node<'_>, sp: &mut ObjSpans) -> Authentication {
        let mut a = Authentication::default();
        for c in self.list(n) {
            match c.keyword {
                "auth_type" => {
                    sp.keys.push(("auth_type", c.span));
                    a.auth_type =
                        self.word_of(c, &[("PASS", AuthType::Pass), ("AH", AuthType::Ah)]);
                }
                "auth_pass" => {
                    a.auth_pass = self.string(c);
                    if a.auth_pass.as_ref().is_some_and(|p| p.len() > 8) {
                        let msg =
                            "auth_pass is longer than 8 characters; only the first 8 are used";
                        self.push(Diagnostic::warning(Code::Ignored, c.span, msg));
                    }
                }
                _ => self.unknown(c, &[&["auth_type", "auth_pass"]]),
            }
        }
        a
    }

    fn virtual_server(&mut self, n: &Node<'_>) -> Option<VirtualServer> {
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
            match c.keyword {
                "delay_loop" => v.delay_loop = self.seconds(c),
                "lb_algo" => {
                    self.deprecated(c, "lvs_sched");
                    v.lvs_sched = self.string(c);
                }
                "lvs_sched" => v.lvs_sched = self.string(c),
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
                "sorry_server" => v.sorry_server = self.words(c),
                "real_server" => {
                    if let Some(r) = self.real_server(c) {
                        v.real_servers.push(r);
                    }
                }
                k if keywords::LVS.contains(&k) => v.other.push(setting(c)),
                _ => self.unknown(c, &[VS_TYPED, keywords::LVS]),
            }
        }
        self.spans.virtual_servers.push(sp);
        Some(v)
    }

    fn lvs_method(&mut self, c: &Node<'_>) -> Option<LvsMethod> {
        self.word_of(
            c,
            &[
                ("NAT", LvsMethod::Nat),
                ("DR", LvsMethod::Dr),
                ("TUN", LvsMethod::Tun),
            ],
        )
    }

    fn vs_target(&mut self, n: &Node<'_>) -> Option<VsTarget> {
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
                if !is_ip_prefix(ip) {
                    return bad(self, &format!("invalid IP address '{ip}'"));
                }
                let port = match a.get(1).map(|p| p.parse::<u16>()) {
                    None => None,
                    Some(Ok(p)) if p > 0 => Some(p),
                    Some(_) => {
                        return bad(self, &format!("invalid port '{}'", a.get(1).unwrap_or("")))
                    }
                };
                Some(VsTarget::Address {
                    ip: ip.to_string(),
                    port,
                })
            }
        }
    }

    fn real_server(&mut self, n: &Node<'_>) -> Option<RealServer> {
        let ip = self.name(n)?;
        if !self.address(n, &ip) {
            return None;
        }
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
        for c in n.children() {
            if let Some(kind) = checker_kind(c.keyword) {
                r.checkers.push(self.checker(c, kind));
                continue;
            }
            match c.keyword {
                "weight" => r.weight = self.num(c, 0, 65535),
                "inhibit_on_failure" => r.inhibit_on_failure = true,
                "notify_up" => r.notify_up = self.script(c),
                "notify_down" => r.notify_down = self.script(c),
                k if keywords::LVS.contains(&k) => r.other.push(setting(c)),
                _ => self.unknown(c, &[RS_TYPED, keywords::LVS]),
            }
        }
        Some(r)
    }

    fn checker(&mut self, n: &Node<'_>, kind: CheckerKind) -> Checker {
        let mut k = Checker::new(kind);
        for c in n.children() {
            match c.keyword {
                "connect_ip" => k.connect_ip = self.string(c),
                "connect_port" => k.connect_port = self.num(c, 1, 65535),
                "bindto" => k.bindto = self.string(c),
                "connect_timeout" => k.connect_timeout = self.seconds(c),
                "retry" => k.retry = self.num(c, 0, i64::from(u32::MAX)),
                "nb_get_retry" => {
                    // keepalived 2.2 itself no longer knows the old name.
                    let msg =
                        "'nb_get_retry' was renamed 'retry'; keepalived 2.2 rejects the old name";
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
        k
    }

    fn url(&mut self, n: &Node<'_>) -> Url {
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

const GLOBAL_TYPED: &[&str] = &[
    "router_id",
    "lvs_id",
    "notification_email",
    "notification_email_from",
    "smtp_server",
    "smtp_connect_timeout",
    "enable_script_security",
    "script_user",
    "vrrp_strict",
    "vrrp_version",
    "vrrp_mcast_group4",
    "vrrp_garp_master_delay",
    "vrrp_skip_check_adv_addr",
];
const SCRIPT_TYPED: &[&str] = &[
    "script", "interval", "timeout", "weight", "rise", "fall", "user",
];
const NOTIFY: [&str; 5] = [
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify",
];
const GROUP_TYPED: &[&str] = &[
    "group",
    "smtp_alert",
    "track_script",
    "track_interface",
    NOTIFY[0],
    NOTIFY[1],
    NOTIFY[2],
    NOTIFY[3],
    NOTIFY[4],
];
const INSTANCE_TYPED: &[&str] = &[
    "state",
    "interface",
    "virtual_router_id",
    "priority",
    "advert_int",
    "version",
    "authentication",
    "virtual_ipaddress",
    "virtual_ipaddress_excluded",
    "virtual_routes",
    "virtual_rules",
    "track_interface",
    "track_script",
    "nopreempt",
    "preempt_delay",
    "mcast_src_ip",
    "unicast_src_ip",
    "unicast_peer",
    "use_vmac",
    "garp_master_delay",
    "smtp_alert",
    "dont_track_primary",
    "lvs_sync_daemon_interface",
    "debug",
    NOTIFY[0],
    NOTIFY[1],
    NOTIFY[2],
    NOTIFY[3],
    NOTIFY[4],
];
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
const RS_TYPED: &[&str] = &[
    "weight",
    "inhibit_on_failure",
    "notify_up",
    "notify_down",
    "TCP_CHECK",
    "HTTP_GET",
    "SSL_GET",
    "SMTP_CHECK",
    "DNS_CHECK",
    "MISC_CHECK",
    "UDP_CHECK",
    "PING_CHECK",
    "FILE_CHECK",
    "BFD_CHECK",
];
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
    }
}

/// `ADDR` or `ADDR/LEN` with a valid address and prefix length.
pub(crate) fn is_ip_prefix(s: &str) -> bool {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let Ok(ip) = IpAddr::from_str(addr) else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    len.is_none_or(|l| l.parse::<u8>().is_ok_and(|l| l <= max))
}

fn route_destination(w: &[String]) -> &str {
    let mut it = w.iter();
    while let Some(x) = it.next() {
        match x.as_str() {
            "src" => {
                it.next();
            }
            "blackhole" | "unreachable" | "prohibit" | "throw" => {}
            _ => return x,
        }
    }
    ""
}
