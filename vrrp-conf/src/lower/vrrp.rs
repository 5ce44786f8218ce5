//! Lowering of the VRRP side: global_defs, static addresses and routes,
//! vrrp_script, vrrp_sync_group and vrrp_instance.

use crate::diagnostics::{Code, Diagnostic};
use crate::keywords;
use crate::model::*;
use crate::parser::Node;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::span::Spanned;

use super::{setting, words_of, Lower, ObjSpans};

impl Lower<'_> {
    pub(super) fn global_defs(&mut self, n: &Node<'_>, g: &mut GlobalDefs) {
        if self.spans.global.head.line == 0 {
            self.spans.global.head = n.span;
        }
        for c in self.list(n) {
            self.spans.global.note(GLOBAL_TYPED, c);
            match c.keyword {
                "router_id" => g.router_id = self.string(c),
                "lvs_id" => {
                    self.deprecated(c, "router_id");
                    g.router_id = self.string(c);
                }
                // Value blocks: every word is a value, as in keepalived,
                // so `{ a@example.com b@example.com }` on one line works.
                "notification_email" => {
                    for e in self.list(c) {
                        g.notification_email.extend(words_of(e));
                    }
                }
                "notification_email_from" => g.notification_email_from = self.string(c),
                "smtp_server" => g.smtp_server = self.words(c),
                "smtp_connect_timeout" => {
                    g.smtp_connect_timeout = self.num(c, 1, i64::from(u32::MAX))
                }
                "enable_script_security" => g.enable_script_security = true,
                "script_user" => g.script_user = self.words(c),
                "vrrp_strict" => g.vrrp_strict = true,
                "vrrp_version" => g.vrrp_version = self.num(c, 2, 3),
                "vrrp_mcast_group4" => {
                    g.vrrp_mcast_group4 = self.ip(c);
                    if g.vrrp_mcast_group4.is_some_and(|a| !a.is_ipv4()) {
                        let msg = "'vrrp_mcast_group4' needs an IPv4 address";
                        self.push(Diagnostic::error(Code::InvalidValue, c.span, msg));
                        g.vrrp_mcast_group4 = None;
                    }
                }
                "vrrp_garp_master_delay" => g.vrrp_garp_master_delay = self.num(c, 0, 255),
                "vrrp_garp_master_repeat" => g.vrrp_garp_master_repeat = self.repeat(c),
                "vrrp_garp_master_refresh" => {
                    g.vrrp_garp_master_refresh = self.num(c, 0, i64::from(u32::MAX))
                }
                "vrrp_garp_master_refresh_repeat" => {
                    g.vrrp_garp_master_refresh_repeat = self.repeat(c)
                }
                "vrrp_skip_check_adv_addr" => g.vrrp_skip_check_adv_addr = true,
                "vrrp_vmac_garp_intvl" => {
                    let msg = r#"Keyword "vrrp_vmac_garp_intvl" is deprecated - please use "vrrp_garp_extra_if""#;
                    self.keepalived_error(c, msg.to_owned());
                    g.other.push(setting(c));
                }
                k if keywords::GLOBAL_DEFS.contains(&k) => g.other.push(setting(c)),
                _ => self.unknown(c, &[GLOBAL_TYPED, keywords::GLOBAL_DEFS]),
            }
        }
    }

    /// `ADDR[/LEN] [brd B] [dev D] ...`; none if the address is invalid.
    pub(super) fn ip_address(&mut self, e: &Node<'_>) -> Option<IpAddress> {
        let net = self.address(e, e.keyword)?;
        let mut ip = IpAddress {
            address: Spanned::new(net, e.span),
            ..Default::default()
        };
        let (mut brd, mut scope) = (None, None);
        let mut it = e.args.iter();
        while let Some(w) = it.next() {
            let slot = match w {
                "brd" | "broadcast" => &mut brd,
                "dev" => &mut ip.dev,
                "scope" => &mut scope,
                "label" => &mut ip.label,
                _ if IP_FLAGS.contains(&w) => {
                    ip.other.push(w.to_string());
                    continue;
                }
                _ if IP_VALUED.contains(&w) => {
                    ip.other.push(w.to_string());
                    ip.other.extend(it.next().map(String::from));
                    continue;
                }
                _ => {
                    let msg = format!(
                        "unknown option '{w}' for ip address {}, keepalived ignores it",
                        e.keyword
                    );
                    let mut d = Diagnostic::error(Code::UnknownKeyword, e.span, msg);
                    let all: Vec<&str> = IP_OPTIONS
                        .iter()
                        .chain(IP_FLAGS)
                        .chain(IP_VALUED)
                        .copied()
                        .collect();
                    d.suggestion = crate::diagnostics::did_you_mean(w, &all).map(String::from);
                    self.push(d);
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
        ip.brd = brd.and_then(|b| self.broadcast(e, &b));
        ip.scope = scope.and_then(|v| self.scope(e, &v));
        Some(ip)
    }

    /// `ADDR [min_ttl N] [max_ttl N]`; none if the address is invalid.
    pub(super) fn unicast_peer(&mut self, e: &Node<'_>) -> Option<UnicastPeer> {
        let ip = self.ip_word(e, e.keyword)?;
        let mut p = UnicastPeer {
            address: Spanned::new(ip, e.span),
            min_ttl: None,
            max_ttl: None,
        };
        let mut it = e.args.iter();
        while let Some(k) = it.next() {
            let slot = match k {
                "min_ttl" => &mut p.min_ttl,
                "max_ttl" => &mut p.max_ttl,
                _ => {
                    let msg = format!("unknown option '{k}' for unicast_peer {}", e.keyword);
                    let mut d = Diagnostic::error(Code::UnknownKeyword, e.span, msg);
                    d.suggestion = crate::diagnostics::did_you_mean(k, &["min_ttl", "max_ttl"])
                        .map(String::from);
                    self.push(d);
                    continue;
                }
            };
            match it.next().map(str::parse::<u8>) {
                Some(Ok(v)) => *slot = Some(v),
                _ => {
                    let msg = format!(
                        "unicast_peer {}: '{k}' needs a number in [0, 255]",
                        e.keyword
                    );
                    self.push(Diagnostic::error(Code::InvalidValue, e.span, msg));
                }
            }
        }
        Some(p)
    }

    /// keepalived 2.2.7 ignores IPv4 virtual addresses in an instance whose
    /// first address is IPv6 (the other way round it accepts them, sending
    /// them outside the adverts; `virtual_ipaddress_excluded` may mix).
    pub(super) fn same_family(&mut self, name: &str, addrs: &[IpAddress]) {
        let v6 = |a: &IpAddress| a.address.addr().is_ipv6();
        let Some(first) = addrs.first().filter(|a| v6(a)) else {
            return;
        };
        for a in addrs.iter().skip(1) {
            if !v6(a) {
                let msg = format!(
                    "({name}) address family of {} must match the instance's ({}); keepalived ignores it",
                    short(&a.address),
                    short(&first.address)
                );
                self.push(Diagnostic::error(Code::Conflict, a.address.span, msg));
            }
        }
    }

    /// A route; none (with a diagnostic) without a valid destination.
    pub(super) fn route(&mut self, e: &Node<'_>, tracked: bool) -> Option<Route> {
        let w = words_of(e);
        // keepalived's configuration errors (it reads them as `via` and
        // `nexthop`), one per use, in its words.
        for x in &w {
            let new = match x.as_str() {
                "gw" => "via",
                "or" => "nexthop",
                _ => continue,
            };
            let msg = format!("\"{x}\" for routes is deprecated. Please use \"{new}\"");
            self.keepalived_error(e, msg);
        }
        if tracked && !w.iter().any(|x| x == "dev" || x == "no_track") {
            let dest = route_destination(&w);
            let msg = format!(
                "Warning - cannot track route {dest} with no interface specified, not tracking"
            );
            self.keepalived_error(e, msg);
        }
        self.route_fields(e, &w)
    }

    fn route_fields(&mut self, e: &Node<'_>, w: &[String]) -> Option<Route> {
        let mut it = w.iter().map(String::as_str).peekable();
        let kind = it
            .peek()
            .and_then(|k| RouteType::ALL.iter().find(|(_, s)| s == k).map(|(t, _)| *t));
        if kind.is_some() {
            it.next();
        }
        let mut r = RouteFields::default();
        // `inet6` before the destination, or an IPv6 `via`/`src`, makes
        // `default` (`any`, `all`) the IPv6 default route, as in keepalived.
        let (mut inet6, mut any) = (false, false);
        while let Some(k) = it.next() {
            let field = match k {
                "src" | "via" | "gw" | "dev" | "oif" | "metric" | "preference" | "priority"
                | "table" | "scope" | "to" => k,
                "inet6" if r.dst.is_none() => {
                    inet6 = true;
                    continue;
                }
                "inet" if r.dst.is_none() => continue,
                _ if r.dst.is_none() => {
                    any = matches!(k, "default" | "any" | "all");
                    r.dst = self.route_dst(e, k);
                    continue;
                }
                _ => {
                    r.other.push(k.to_string());
                    r.other.extend(it.by_ref().map(String::from));
                    break;
                }
            };
            let Some(v) = it.next() else {
                let msg = format!("route: '{field}' needs a value");
                self.push(Diagnostic::error(Code::BadArgCount, e.span, msg));
                break;
            };
            if field == "to" {
                any = matches!(v, "default" | "any" | "all");
            }
            self.route_field(e, &mut r, field, v);
        }
        let v6 = |a: Option<IpAddr>| a.is_some_and(|a| a.is_ipv6());
        if any && (inet6 || v6(r.via) || v6(r.src)) {
            r.dst = Some(IpNet::V6(ipnet::Ipv6Net::default()));
        }
        let Some(dst) = r.dst else {
            let msg = "route: no destination";
            self.push(Diagnostic::error(Code::Missing, e.span, msg));
            return None;
        };
        Some(Route {
            kind,
            dst: Spanned::new(dst, e.span),
            src: r.src,
            via: r.via,
            dev: r.dev,
            metric: r.metric,
            table: r.table,
            scope: r.scope,
            other: r.other,
        })
    }

    fn broadcast(&mut self, e: &Node<'_>, text: &str) -> Option<Broadcast> {
        match text {
            "+" => Some(Broadcast::HostBitsSet),
            "-" => Some(Broadcast::HostBitsClear),
            a => match a.parse() {
                Ok(a) => Some(Broadcast::Address(a)),
                Err(_) => {
                    let msg = format!("ip address {}: invalid brd '{a}'", e.keyword);
                    self.push(Diagnostic::error(Code::InvalidValue, e.span, msg));
                    None
                }
            },
        }
    }

    fn scope(&mut self, e: &Node<'_>, text: &str) -> Option<Scope> {
        let s = Scope::parse(text);
        if s.is_none() {
            let msg = format!("{}: invalid scope '{text}'", e.keyword);
            self.push(Diagnostic::error(Code::InvalidValue, e.span, msg));
        }
        s
    }

    fn route_dst(&mut self, e: &Node<'_>, text: &str) -> Option<IpNet> {
        match text {
            "default" | "any" | "all" => return Some(IpNet::V4(ipnet::Ipv4Net::default())),
            // keepalived: deprecated since 2.0.7, still read.
            "default6" => return Some(IpNet::V6(ipnet::Ipv6Net::default())),
            _ => {}
        }
        self.address(e, text)
    }

    fn route_field(&mut self, e: &Node<'_>, r: &mut RouteFields, field: &str, v: &str) {
        let bad = |s: &mut Self| {
            let msg = format!("route: invalid {field} '{v}'");
            s.push(Diagnostic::error(Code::InvalidValue, e.span, msg));
        };
        let ip = v.parse::<IpAddr>().ok();
        let num = v.parse::<u32>().ok();
        match field {
            "to" => r.dst = self.route_dst(e, v),
            "src" if ip.is_some() => r.src = ip,
            "via" | "gw" if ip.is_some() => r.via = ip,
            "dev" | "oif" => r.dev = Some(v.to_string()),
            "metric" | "preference" | "priority" if num.is_some() => r.metric = num,
            "table" => match (num, v) {
                (Some(n), _) => r.table = Some(n),
                (None, "main") => r.table = Some(254),
                (None, "local") => r.table = Some(255),
                (None, "default") => r.table = Some(253),
                _ => bad(self),
            },
            "scope" => r.scope = self.scope(e, v),
            _ => bad(self),
        }
    }

    /// A rule's words; the conversion reads them as keepalived does
    /// (a bad address is its error there, and the rule is skipped).
    pub(super) fn rule(&mut self, e: &Node<'_>) -> Words {
        words_of(e)
    }

    pub(super) fn track(&mut self, e: &Node<'_>) -> Track {
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

    /// A sync group's notify keyword; keepalived keeps the first of each.
    /// Adds entry `e` of track block `c` to `list`, unless it names an
    /// object already there: keepalived's configuration error, the first kept.
    fn add_track(
        &mut self,
        owner: &str,
        c: &Node<'_>,
        e: &Node<'_>,
        list: &mut Vec<Track>,
    ) -> bool {
        if list.iter().any(|t| t.name == e.keyword) {
            let msg = format!("({owner}) duplicate {} {} - ignoring", c.keyword, e.keyword);
            self.keepalived_error(e, msg);
            return false;
        }
        let t = self.track(e);
        list.push(t);
        true
    }

    pub(super) fn notify(&mut self, c: &Node<'_>, n: &mut Notify, group: &str) -> bool {
        let owner = format!("vrrp group {group}:");
        self.notify_script(c, n, &owner)
    }

    /// A notify keyword into its slot; a repeated one is keepalived's
    /// configuration error, the first script kept (`owner` starts its words).
    fn notify_script(&mut self, c: &Node<'_>, n: &mut Notify, owner: &str) -> bool {
        let slot = match c.keyword {
            "notify_master" => &mut n.master,
            "notify_backup" => &mut n.backup,
            "notify_fault" => &mut n.fault,
            "notify_stop" => &mut n.stop,
            "notify" => &mut n.any,
            _ => return false,
        };
        if slot.is_some() {
            let script = c.args.first().unwrap_or("");
            let msg = format!(
                "{owner} {} script already specified - ignoring {script}",
                c.keyword
            );
            self.keepalived_error(c, msg);
            return true;
        }
        *slot = self.script(c);
        true
    }

    /// An instance's notify keywords: the group's, plus `notify_deleted`
    /// (bare, it only changes the state word) and
    /// `notify_master_rx_lower_pri`.
    fn instance_notify(&mut self, c: &Node<'_>, n: &mut Notify, name: &str) -> bool {
        let owner = format!("({name})");
        match c.keyword {
            "notify_deleted" if n.deleted.is_some() => {
                let script = c.args.first().unwrap_or("");
                let msg = format!("{owner} notify_deleted already specified - ignoring {script}");
                self.keepalived_error(c, msg);
            }
            "notify_deleted" if c.args.is_empty() => n.deleted = Some(Vec::new()),
            "notify_deleted" => n.deleted = self.script(c),
            "notify_master_rx_lower_pri" if n.master_rx_lower_pri.is_some() => {
                let script = c.args.first().unwrap_or("");
                let msg = format!(
                    "{owner} notify_master_rx_lower_pri script already specified - ignoring {script}"
                );
                self.keepalived_error(c, msg);
            }
            "notify_master_rx_lower_pri" => n.master_rx_lower_pri = self.script(c),
            _ => return self.notify_script(c, n, &owner),
        }
        true
    }

    pub(super) fn vrrp_script(&mut self, n: &Node<'_>) -> Option<VrrpScript> {
        let mut s = VrrpScript {
            name: self.name(n)?,
            ..Default::default()
        };
        let mut sp = ObjSpans::new(n);
        for c in n.children() {
            sp.note(SCRIPT_TYPED, c);
            match c.keyword {
                "script" => s.script = self.script(c),
                "interval" => s.interval = self.seconds(c),
                "timeout" => s.timeout = self.seconds(c),
                "weight" => (s.weight, s.weight_reverse) = self.script_weight(c),
                "rise" => s.rise = self.num(c, 1, i64::from(u32::MAX)),
                "fall" => s.fall = self.num(c, 1, i64::from(u32::MAX)),
                "user" => s.user = self.words(c),
                k if keywords::VRRP_SCRIPT.contains(&k) => s.other.push(setting(c)),
                _ => self.unknown(c, &[SCRIPT_TYPED, keywords::VRRP_SCRIPT]),
            }
        }
        self.spans.scripts.push(sp);
        Some(s)
    }

    /// A `vrrp_script`'s `weight N [reverse]`, as keepalived reads it.
    fn script_weight(&mut self, c: &Node<'_>) -> (Option<i32>, bool) {
        let Some(w) = c.args.first() else {
            return (self.num(c, -253, 253), false);
        };
        // The same words as `num` for a lone weight.
        let weight = match w.parse::<i64>() {
            Ok(v) if (-253..=253).contains(&v) => i32::try_from(v).ok(),
            Ok(v) => {
                let msg = format!("'weight': number '{v}' outside range [-253, 253]");
                self.push(Diagnostic::error(Code::OutOfRange, c.span, msg));
                None
            }
            Err(_) => {
                let msg = format!("'weight': '{w}' is not a number");
                self.push(Diagnostic::error(Code::InvalidValue, c.span, msg));
                None
            }
        };
        let reverse = match c.args.get(1) {
            None => false,
            Some("reverse") => true,
            Some(o) => {
                let msg = format!("'weight': unknown weight option '{o}'");
                self.push(Diagnostic::error(Code::InvalidValue, c.span, msg));
                false
            }
        };
        (weight, reverse)
    }

    pub(super) fn sync_group(&mut self, n: &Node<'_>) -> Option<SyncGroup> {
        let mut g = SyncGroup {
            name: self.name(n)?,
            ..Default::default()
        };
        let mut sp = ObjSpans::new(n);
        for c in n.children() {
            sp.note(GROUP_TYPED, c);
            if self.notify(c, &mut g.notify, &g.name) {
                continue;
            }
            match c.keyword {
                // keepalived reports a second list and then reads the rest
                // of the group as top-level keywords: refused here.
                "group" if !g.group.is_empty() => {
                    let msg = format!(
                        "Group list already specified for sync group {}; keepalived then \
                         ignores the rest of the group",
                        g.name
                    );
                    self.push(Diagnostic::error(Code::Duplicate, c.span, msg));
                }
                "group" => {
                    for e in self.list(c) {
                        for w in words_of(e) {
                            g.group.push(w);
                            sp.items.push(e.span);
                        }
                    }
                }
                "smtp_alert" => g.smtp_alert = self.yes_no(c),
                // Repeated track blocks add to the list, as in keepalived.
                "track_script" => {
                    for e in self.list(c) {
                        if self.add_track(&g.name, c, e, &mut g.track_script) {
                            sp.tracks.push(e.span);
                        }
                    }
                }
                "track_interface" => {
                    for e in self.list(c) {
                        self.add_track(&g.name, c, e, &mut g.track_interface);
                    }
                }
                k if keywords::SYNC_GROUP.contains(&k) => g.other.push(setting(c)),
                _ => self.unknown(c, &[GROUP_TYPED, keywords::SYNC_GROUP]),
            }
        }
        self.spans.groups.push(sp);
        Some(g)
    }

    pub(super) fn instance(&mut self, n: &Node<'_>) -> Option<VrrpInstance> {
        let mut v = VrrpInstance {
            name: self.name(n)?,
            ..Default::default()
        };
        let mut sp = ObjSpans::new(n);
        for c in n.children() {
            sp.note(&NOTIFY, c);
            sp.note(&INSTANCE_NOTIFY, c);
            if self.instance_notify(c, &mut v.notify, &v.name) {
                continue;
            }
            sp.note(INSTANCE_TYPED, c);
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
                // Repeated blocks add to their list, as in keepalived.
                "virtual_ipaddress" => {
                    let more: Vec<IpAddress> = self
                        .list(c)
                        .iter()
                        .filter_map(|e| self.ip_address(e))
                        .collect();
                    v.virtual_ipaddress.extend(more);
                }
                "virtual_ipaddress_excluded" => {
                    let more: Vec<IpAddress> = self
                        .list(c)
                        .iter()
                        .filter_map(|e| self.ip_address(e))
                        .collect();
                    v.virtual_ipaddress_excluded.extend(more);
                }
                "virtual_routes" => {
                    let more: Vec<Route> = self
                        .list(c)
                        .iter()
                        .filter_map(|e| self.route(e, true))
                        .collect();
                    v.virtual_routes.extend(more);
                }
                "virtual_rules" => {
                    for e in self.list(c) {
                        v.virtual_rules.push(self.rule(e));
                        sp.rules.push(e.span);
                    }
                }
                "track_interface" => {
                    for e in self.list(c) {
                        self.add_track(&v.name, c, e, &mut v.track_interface);
                    }
                }
                "track_script" => {
                    for e in self.list(c) {
                        if self.add_track(&v.name, c, e, &mut v.track_script) {
                            sp.tracks.push(e.span);
                        }
                    }
                }
                "nopreempt" => v.nopreempt = true,
                "preempt_delay" => v.preempt_delay = self.seconds(c),
                "mcast_src_ip" => v.mcast_src_ip = self.ip(c),
                "unicast_src_ip" => v.unicast_src_ip = self.ip(c),
                "unicast_peer" => {
                    let more: Vec<UnicastPeer> = self
                        .list(c)
                        .iter()
                        .filter_map(|e| self.unicast_peer(e))
                        .collect();
                    v.unicast_peer.extend(more);
                }
                "use_vmac" => {
                    // More than a name (keepalived's MAC form) is
                    // kept whole for the audit to refuse.
                    v.use_vmac = Some(OptionalArg {
                        value: (!c.args.is_empty()).then(|| c.args.to_vec().join(" ")),
                    })
                }
                "garp_master_delay" => v.garp_master_delay = self.num(c, 0, 255),
                "garp_master_repeat" => v.garp_master_repeat = self.repeat(c),
                "garp_master_refresh" => {
                    v.garp_master_refresh = self.num(c, 0, i64::from(u32::MAX))
                }
                "garp_master_refresh_repeat" => v.garp_master_refresh_repeat = self.repeat(c),
                "smtp_alert" => v.smtp_alert = self.yes_no(c),
                "dont_track_primary" => v.dont_track_primary = true,
                "lvs_sync_daemon_interface" => {
                    let msg = format!(
                        "({}) Specifying lvs_sync_daemon_interface against a vrrp is \
                         deprecated. Please use global lvs_sync_daemon",
                        v.name
                    );
                    self.keepalived_error(c, msg);
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
                "vmac_garp_intvl" => {
                    let msg =
                        r#"Keyword "vmac_garp_intvl" is deprecated - please use "garp_extra_if""#;
                    self.keepalived_error(c, msg.to_owned());
                    v.other.push(setting(c));
                }
                k if keywords::VRRP_INSTANCE.contains(&k) => v.other.push(setting(c)),
                _ => self.unknown(c, &[INSTANCE_TYPED, keywords::VRRP_INSTANCE]),
            }
        }
        self.same_family(&v.name, &v.virtual_ipaddress);
        self.spans.instances.push(sp);
        Some(v)
    }

    pub(super) fn authentication(&mut self, n: &Node<'_>, sp: &mut ObjSpans) -> Authentication {
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
}

/// A route's fields while it is read.
#[derive(Default)]
struct RouteFields {
    dst: Option<IpNet>,
    src: Option<IpAddr>,
    via: Option<IpAddr>,
    dev: Option<String>,
    metric: Option<u32>,
    table: Option<u32>,
    scope: Option<Scope>,
    other: Words,
}

/// An address as keepalived prints it: without a full-length prefix.
fn short(n: &ipnet::IpNet) -> String {
    if n.prefix_len() == n.max_prefix_len() {
        n.addr().to_string()
    } else {
        n.to_string()
    }
}

/// Options of an ip address with a field in the model.
const IP_OPTIONS: &[&str] = &["brd", "broadcast", "dev", "scope", "label"];
/// Options of an ip address kept verbatim: flags, and options with a value.
const IP_FLAGS: &[&str] = &[
    "-nodad",
    "nodad",
    "mngtmpaddr",
    "noprefixroute",
    "autojoin",
    "no_track",
    "home",
    "use_vmac",
];
const IP_VALUED: &[&str] = &["peer", "preferred_lft", "track_group"];

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
    "vrrp_garp_master_repeat",
    "vrrp_garp_master_refresh",
    "vrrp_garp_master_refresh_repeat",
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
const INSTANCE_NOTIFY: [&str; 2] = ["notify_deleted", "notify_master_rx_lower_pri"];
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
    "garp_master_repeat",
    "garp_master_refresh",
    "garp_master_refresh_repeat",
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
