//! The DATA dump's "Static Addresses", "Static Routes" and "Static Rules"
//! sections as keepalived 2.2.7 writes them (`dump_vrrp_data` with
//! `format_ipaddress`, `format_iproute` and `format_iprule`), from the
//! plan's `static_ipaddress`, `static_routes` and `static_rules`.
//!
//! The plan has most of what they show; the configuration's words give
//! the rest (`track_group`, `from all`). Not shown: `encap` options.

use std::fmt::Write as _;
use std::net::IpAddr;

use vrrp::linux::driver::VirtualRoute;
use vrrp::linux::{Metric, MetricKind, RouteKind, RouteMode, RouteSpec, RuleActionSpec, RuleSpec};
use vrrp::linux::{NextHop, Scope};

use super::vrrp::{address, prefixed};
use crate::convert::vrrp::Plan;
use crate::model::Words;
use crate::Config;

/// `RTPROT_KEEPALIVED`: the protocol of what keepalived tracks.
const PROTO_KEEPALIVED: u8 = 18;

/// The three sections of `plan`, made from `config`, each only if it
/// has entries; `installed`: the daemon installed them (keepalived's
/// `set`).
pub fn data(plan: &Plan, config: &Config, installed: bool) -> String {
    let mut out = String::new();
    let words = aligned(&plan.static_addresses, &config.static_ipaddress, |a| {
        &a.other
    });
    section(
        &mut out,
        "Addresses",
        plan.static_addresses.iter().zip(words),
        |(dev, a), w| {
            let mut s = address(a, dev, false);
            track_group(&mut s, w);
            if installed {
                s.push_str(" set");
            }
            s
        },
    );
    let words = aligned(&plan.static_routes, &config.static_routes, |r| &r.other);
    let v4 = watched(plan, &words, true);
    let v6 = watched(plan, &words, false);
    let routes = plan.static_routes.iter().zip(words);
    section(&mut out, "Routes", routes, |r, w| {
        let learnt = if r.route.dst.is_ipv4() { v4 } else { v6 };
        route(r, installed && !learnt, w)
    });
    let words = aligned(&plan.static_rules, &config.static_rules, |r| r);
    section(&mut out, "Rules", plan.static_rules.iter().zip(words), rule);
    track_groups(&mut out, config, plan);
    out
}

/// The "Static Track groups" section: each `track_group` block with the
/// instances of its `group` that exist (one with none is dropped).
fn track_groups(out: &mut String, config: &Config, plan: &Plan) {
    let routers = plan.units.iter().flat_map(|u| &u.setup.routers);
    let names: Vec<&str> = routers.map(|r| &*r.config.name).collect();
    let mut heading = false;
    for g in config.other.iter().filter(|s| s.keyword == "track_group") {
        let lines = g.block.iter().flatten().filter(|s| s.keyword == "group");
        let words = lines.flat_map(|s| s.block.iter().flatten());
        let members: Vec<&String> = (words
            .flat_map(|w| std::iter::once(&w.keyword).chain(&w.args)))
        .filter(|m| names.contains(&m.as_str()))
        .collect();
        let Some(name) = g.args.first().filter(|_| !members.is_empty()) else {
            continue;
        };
        if !std::mem::replace(&mut heading, true) {
            out.push_str("------< Static Track groups >------\n");
        }
        let _ = writeln!(
            out,
            " Static Track Group = {name}\n   VRRP member instances :"
        );
        for m in members {
            let _ = writeln!(out, "     {m}");
        }
    }
}

/// True if keepalived watches the routes of a family (IPv4 or not):
/// a static route of it has a `track_group`, or an instance tracks a
/// virtual route of it. It then learns each route's interface from the
/// kernel, and shows none beside the route.
fn watched(plan: &Plan, words: &[&[String]], v4: bool) -> bool {
    let grouped = (plan.static_routes.iter().zip(words))
        .any(|(r, w)| r.route.dst.is_ipv4() == v4 && w.iter().any(|w| w == "track_group"));
    let routers = plan.units.iter().flat_map(|u| &u.setup.routers);
    let mut virtual_routes = routers.flat_map(|r| &r.routes);
    grouped || virtual_routes.any(|r| r.tracked() && r.route.dst.is_ipv4() == v4)
}

/// A section headed `Static {what}`, one line per entry, if any.
fn section<'a, T>(
    out: &mut String,
    what: &str,
    entries: impl Iterator<Item = (T, &'a [String])>,
    line: impl Fn(T, &[String]) -> String,
) {
    let mut entries = entries.peekable();
    if entries.peek().is_some() {
        let _ = writeln!(out, "------< Static {what} >------");
    }
    for (e, w) in entries {
        let _ = writeln!(out, "     {}", line(e, w));
    }
}

/// The configured words of each planned entry, or none if the plan left
/// some out (then the two lists do not line up).
fn aligned<'a, P, M>(plan: &[P], model: &'a [M], words: fn(&M) -> &Words) -> Vec<&'a [String]> {
    if plan.len() == model.len() {
        model.iter().map(|m| words(m).as_slice()).collect()
    } else {
        vec![&[]; plan.len()]
    }
}

/// ` track_group NAME` if the words name one.
fn track_group(s: &mut String, words: &[String]) {
    let at = words.iter().position(|w| w == "track_group");
    if let Some(name) = at.and_then(|i| words.get(i + 1)) {
        let _ = write!(s, " track_group {name}");
    }
}

/// True if the words give `keyword` as `all` (or `any`, `default`),
/// which keepalived reads as the whole address space.
fn written_all(words: &[String], keyword: &str) -> bool {
    words
        .windows(2)
        .any(|p| p[0] == keyword && matches!(p[1].as_str(), "all" | "any" | "default"))
}

/// keepalived's `format_iproute`.
/// `unlearnt`: installed, its interface not learnt from the kernel.
fn route(v: &VirtualRoute, unlearnt: bool, words: &[String]) -> String {
    let r = &v.route;
    let kind = route_kind(r.kind);
    // keepalived 2.2.7 (Debian's) writes a typed route as `add` unless
    // `append`.
    let mut s = String::from(match r.mode {
        RouteMode::Append => "append ",
        RouteMode::Add => "add ",
        _ if kind.is_some() => "add ",
        _ => "prepend ",
    });
    if let Some(kind) = kind {
        let _ = write!(s, "{kind} ");
    }
    s.push_str(&prefixed(r.dst, r.prefix_len));
    route_selectors(&mut s, r);
    if let Some(g) = r.gateway {
        let _ = write!(s, " via {} {g}", family(g));
    }
    if let Some(dev) = &v.dev {
        let _ = write!(s, " dev {dev}");
    }
    route_attributes(&mut s, v);
    let mut metrics: Vec<&Metric> = r.metrics.iter().collect();
    metrics.sort_by_key(|m| metric_order(m.kind));
    let (before, after): (Vec<&Metric>, Vec<&Metric>) =
        metrics.into_iter().partition(|m| metric_order(m.kind) < 14);
    before.into_iter().for_each(|m| metric(&mut s, m));
    route_trailer(&mut s, r, &after);
    for (hop, dev) in r.nexthops.iter().zip(&v.nexthop_devs) {
        next_hop(&mut s, hop, dev.as_deref());
    }
    // keepalived tracks no route without `dev`, and says so.
    if !v.tracked() {
        s.push_str(" no_track");
    }
    track_group(&mut s, words);
    // Installed and tracked, its interface not learnt from the kernel:
    // keepalived shows index 0.
    if unlearnt && v.tracked() {
        s.push_str(" [installed ifindex 0]");
    }
    s
}

/// `from`, `src` and `tos`.
fn route_selectors(s: &mut String, r: &RouteSpec) {
    if let Some((a, len)) = r.from {
        let _ = write!(s, " from {}", prefixed(a, len));
    }
    if let Some(src) = r.src {
        let _ = write!(s, " src {src}");
    }
    if r.tos != 0 {
        let _ = write!(s, " tos {}", r.tos);
    }
}

/// `table`, `proto`, `scope`, `metric`, `onlink`, `realms`, `expires`.
fn route_attributes(s: &mut String, v: &VirtualRoute) {
    let r = &v.route;
    if let Some(t) = r.table.filter(|t| *t != 254) {
        let _ = write!(s, " table {t}");
    }
    // Owned by keepalived unless `no_track`, even if untracked for want
    // of a `dev`.
    let proto = if !v.no_track {
        Some(PROTO_KEEPALIVED)
    } else {
        r.protocol
    };
    if let Some(p) = proto {
        let _ = write!(s, " proto {p}");
    }
    if let Some(scope) = r.scope {
        let _ = write!(s, " scope {}", scope_number(scope));
    }
    if let Some(m) = r.metric {
        let _ = write!(s, " metric {m}");
    }
    if r.onlink && r.dst.is_ipv4() {
        s.push_str(" onlink");
    }
    if let Some(realms) = r.realms.filter(|r| *r != 0) {
        realm(s, realms);
    }
    if let Some(e) = r.expires {
        let _ = write!(s, " expires {e}sec");
    }
    if let Some((name, lock)) = &r.congctl {
        let _ = write!(s, " congctl {name}{}", if *lock { "lock " } else { "" });
    }
}

/// keepalived's realms: `realms FROM/TO`, or `realm TO` when FROM is 0.
fn realm(s: &mut String, realms: u32) {
    if realms & 0xFFFF_0000 != 0 {
        let _ = write!(s, " realms {}/", realms >> 16);
    } else {
        s.push_str(" realm ");
    }
    let _ = write!(s, "{}", realms & 0xFFFF);
}

/// One metric, in keepalived's words.
fn metric(s: &mut String, m: &Metric) {
    let lock = if m.lock { "lock " } else { "" };
    let v = m.value;
    let f = f64::from(v);
    let _ = match m.kind {
        MetricKind::Rtt if v >= 8000 => write!(s, " rtt {}{}s", lock, c_g(f / 8000.0)),
        MetricKind::Rtt => write!(s, " rtt {}{}ms", lock, c_g(f / 8.0)),
        MetricKind::RttVar if v >= 4000 => {
            write!(s, " rttvar {}{}s", lock, c_g(f / 4000.0))
        }
        MetricKind::RttVar => write!(s, " rttvar {}{}ms", lock, c_g(f / 4.0)),
        MetricKind::RtoMin if v >= 1000 => {
            write!(s, " rto_min {}{}s", lock, c_g(f / 1000.0))
        }
        MetricKind::RtoMin => write!(s, " rto_min {}{v}ms", lock),
        MetricKind::Features if v & 1 != 0 => write!(s, " features ecn"),
        MetricKind::Mtu => write!(s, " mtu {lock}{v}"),
        MetricKind::Window => write!(s, " window {v}"),
        MetricKind::Ssthresh => write!(s, " ssthresh {lock}{v}"),
        MetricKind::Cwnd => write!(s, " cwnd {lock}{v}"),
        MetricKind::Advmss => write!(s, " advmss {lock}{v}"),
        MetricKind::Reordering => write!(s, " reordering {lock}{v}"),
        MetricKind::Hoplimit => write!(s, " hoplimit {v}"),
        MetricKind::InitCwnd => write!(s, " initcwnd {v}"),
        MetricKind::InitRwnd => write!(s, " initrwnd {v}"),
        MetricKind::QuickAck => write!(s, " quickack {v}"),
        MetricKind::FastopenNoCookie => write!(s, " fastopen_no_cookie {v}"),
        _ => Ok(()),
    };
}

/// The order keepalived writes the metrics in, `fastopen_no_cookie` last
/// (after `pref`).
const METRIC_ORDER: [MetricKind; 15] = [
    MetricKind::Rtt,
    MetricKind::RttVar,
    MetricKind::RtoMin,
    MetricKind::Features,
    MetricKind::Mtu,
    MetricKind::Window,
    MetricKind::Ssthresh,
    MetricKind::Cwnd,
    MetricKind::Advmss,
    MetricKind::Reordering,
    MetricKind::Hoplimit,
    MetricKind::InitCwnd,
    MetricKind::InitRwnd,
    MetricKind::QuickAck,
    MetricKind::FastopenNoCookie,
];

/// Where keepalived writes a metric.
fn metric_order(k: MetricKind) -> usize {
    METRIC_ORDER
        .iter()
        .position(|m| *m == k)
        .unwrap_or(METRIC_ORDER.len())
}

/// `pref`, `fastopen_no_cookie` and `ttl-propagate`.
fn route_trailer(s: &mut String, r: &RouteSpec, fastopen: &[&Metric]) {
    if let Some(p) = r.pref {
        let name = match p {
            0 => "medium",
            1 => "high",
            3 => "low",
            _ => "unknown",
        };
        let _ = write!(s, " pref {name}");
    }
    fastopen.iter().for_each(|m| metric(s, m));
    if let Some(on) = r.ttl_propagate {
        let _ = write!(s, " ttl-propagate {}abled", if on { "en" } else { "dis" });
    }
}

/// One `nexthop` of a multipath route.
fn next_hop(s: &mut String, hop: &NextHop, dev: Option<&str>) {
    s.push_str(" nexthop");
    if let Some(g) = hop.gateway {
        let v6 = if g.is_ipv4() { "" } else { "6" };
        let _ = write!(s, " via inet{v6} {g}");
    }
    if let Some(d) = dev {
        let _ = write!(s, " dev {d}");
    }
    if let Some(w) = hop.weight {
        let _ = write!(s, " weight {w}");
    }
    if hop.onlink {
        s.push_str(" onlink");
    }
}

fn family(a: IpAddr) -> &'static str {
    if a.is_ipv4() {
        "inet"
    } else {
        "inet6"
    }
}

/// The type word of a route that is not unicast.
fn route_kind(k: RouteKind) -> Option<&'static str> {
    match k {
        RouteKind::Blackhole => Some("blackhole"),
        RouteKind::Unreachable => Some("unreachable"),
        RouteKind::Prohibit => Some("prohibit"),
        _ => None,
    }
}

fn scope_number(s: Scope) -> u8 {
    match s {
        Scope::Site => 200,
        Scope::Link => 253,
        Scope::Host => 254,
        Scope::Nowhere => 255,
        Scope::Other(n) => n,
        _ => 0,
    }
}

/// keepalived's `format_iprule`. A rule keepalived does not track
/// (`no_track`) is the one not owned by its protocol.
fn rule(r: &RuleSpec, words: &[String]) -> String {
    let mut s = String::new();
    if r.from.is_none() && r.to.is_none() && r.ipv6 {
        s.push_str("inet6 ");
    }
    if r.invert {
        s.push_str("not ");
    }
    let everything = |ipv6: bool| if ipv6 { "::/0" } else { "0.0.0.0/0" };
    match r.from {
        Some((a, len)) => {
            let _ = write!(s, "from {}", prefixed(a, len));
        }
        None if written_all(words, "from") => {
            let _ = write!(s, "from {}", everything(r.ipv6));
        }
        None => s.push_str("from all"),
    }
    match r.to {
        Some((a, len)) => {
            let _ = write!(s, " to {}", prefixed(a, len));
        }
        None if written_all(words, "to") => {
            let _ = write!(s, " to {}", everything(r.ipv6));
        }
        None => {}
    }
    if let Some(p) = r.priority {
        let _ = write!(s, " priority {p}");
    }
    let _ = write!(s, " tos 0x{:x}", r.tos);
    rule_matches(&mut s, r);
    rule_action(&mut s, r);
    if r.protocol != Some(PROTO_KEEPALIVED) {
        s.push_str(" no_track");
    }
    track_group(&mut s, words);
    s
}

/// What a rule matches beyond addresses, in keepalived's order.
fn rule_matches(s: &mut String, r: &RuleSpec) {
    if r.fwmark.is_some() || r.fwmask.is_some() {
        let _ = write!(s, " fwmark 0x{:x}", r.fwmark.unwrap_or(0));
        if let Some(m) = r.fwmask.filter(|m| *m != u32::MAX) {
            let _ = write!(s, "/0x{m:x}");
        }
    }
    if let Some(i) = &r.iif {
        let _ = write!(s, " iif {i}");
    }
    if let Some(o) = &r.oif {
        let _ = write!(s, " oif {o}");
    }
    if let Some(n) = r.suppress_prefixlen {
        let _ = write!(s, " suppress_prefixlen {n}");
    }
    if let Some(n) = r.suppress_ifgroup {
        let _ = write!(s, " suppress_ifgroup {n}");
    }
    if let Some((a, b)) = r.uid_range {
        let _ = write!(s, " uidrange {a}-{b}");
    }
    if r.action == RuleActionSpec::L3mdev {
        s.push_str(" l3mdev");
    }
    if let Some(p) = r.protocol {
        let _ = write!(s, " protocol {p}");
    }
    if let Some(p) = r.ip_proto {
        let _ = write!(s, " ipproto {p}");
    }
    for (what, range) in [("sport", r.sport), ("dport", r.dport)] {
        if let Some((a, b)) = range {
            let _ = write!(s, " {what} {a}-{b}");
        }
    }
    if let Some(realms) = r.realms {
        let _ = write!(s, " realms {}/{}", realms >> 16, realms & 0xffff);
    }
}

/// What a rule does.
fn rule_action(s: &mut String, r: &RuleSpec) {
    let _ = match r.action {
        RuleActionSpec::Table(t) => write!(s, " lookup {t}"),
        RuleActionSpec::L3mdev => write!(s, " lookup 0"),
        RuleActionSpec::Goto(n) => write!(s, " goto {n}"),
        RuleActionSpec::Nop => write!(s, " nop"),
        RuleActionSpec::Blackhole => write!(s, " type blackhole"),
        RuleActionSpec::Unreachable => write!(s, " type unreachable"),
        RuleActionSpec::Prohibit => write!(s, " type prohibit"),
    };
}

/// C's `%g`: six significant digits, trailing zeros dropped, an
/// exponent below 1e-4 and from 1e6.
pub(super) fn c_g(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return if x == 0.0 { "0".into() } else { x.to_string() };
    }
    let sci = format!("{x:.5e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let m = trim_zeros(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{m}e{sign}{:02}", exp.abs());
    }
    let decimals = usize::try_from(5 - exp).unwrap_or(0);
    trim_zeros(&format!("{x:.decimals$}")).to_owned()
}

fn trim_zeros(s: &str) -> &str {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.')
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.
    use super::*;

    /// Static entries with most options keepalived shows (also run by
    /// keepalived-lite's comparison with keepalived in a namespace, with
    /// interfaces kl0 to kl3).
    const CONF: &str = include_str!("testdata/statics.conf");

    /// What keepalived 2.2.7 wrote for [`CONF`] (in a namespace with
    /// these interfaces).
    const WANT: &str = "------< Static Addresses >------
     10.231.0.50 dev kl1 scope global set
     10.231.0.51/24 dev kl2 scope link label kl2:s set
     10.231.0.52 brd 10.231.0.255 dev kl1 scope global set
     10.231.0.53/24 dev kl1 scope global no_track set
     10.231.0.60 dev kl1 scope global track_group tg1 set
------< Static Routes >------
     prepend 10.232.0.0/24 dev kl1 proto 18
     prepend 10.233.0.0/16 via inet 10.231.0.2 dev kl0 table 100 proto 18 metric 7
     prepend 10.234.0.0/24 via inet 10.231.0.2 proto 18 no_track
     prepend 10.235.0.0/24 dev kl1 no_track
     add blackhole 10.236.0.0/24 proto 18 no_track
     prepend 10.237.0.0/24 dev kl1 proto 18 scope 253 rtt 200ms mtu lock 1400 advmss 1000
     prepend 10.238.0.0/24 src 10.231.0.1 dev kl0 table 101 proto 18 metric 3
     append unreachable 10.239.0.0/24 proto 18 no_track
     prepend 10.240.0.0/24 dev kl1 proto 18 track_group tg1
------< Static Rules >------
     from 10.231.0.50 priority 100 tos 0x0 protocol 18 lookup 100
     from all to 10.232.0.0/24 priority 200 tos 0x0 protocol 18 lookup 100
     from 10.231.0.0/24 to 10.232.0.5 priority 300 tos 0x0 protocol 18 lookup 101
     from all priority 301 tos 0x0 fwmark 0x10/0xff lookup 101 no_track
     from all priority 302 tos 0x0 iif kl1 protocol 18 type blackhole
     from all priority 303 tos 0x0 protocol 18 goto 305
     from 10.231.0.7 priority 304 tos 0x8 protocol 18 lookup 100
     from 0.0.0.0/0 to 10.241.0.0/24 priority 400 tos 0x0 protocol 18 lookup 100
     from all priority 402 tos 0x0 iif kl1 protocol 18 lookup 100 track_group tg1
------< Static Track groups >------
 Static Track Group = tg1
   VRRP member instances :
     VI_1
";

    /// The instance of [`CONF`]'s track group.
    const INSTANCE: &str = "vrrp_instance VI_1 {
    interface kl0
    virtual_router_id 51
    virtual_ipaddress {
        10.231.0.100
    }
}
";

    fn dump(conf: &str, installed: bool) -> String {
        let conf = format!("{conf}{INSTANCE}");
        let parsed = crate::parse_str("t.conf", &conf, &crate::Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let plan = crate::convert::vrrp::plan(&parsed.config).unwrap();
        data(&plan, &parsed.config, installed)
    }

    #[test]
    fn static_entries_are_written_as_keepalived_writes_them() {
        assert_eq!(dump(CONF, true), WANT);
        // Not installed: no `set`, no installed index; nothing: no section.
        let idle = dump(CONF, false);
        assert!(idle.contains("     10.231.0.52 brd 10.231.0.255 dev kl1 scope global\n"));
        assert!(idle.contains("metric 3\n"), "{idle}");
        assert_eq!(dump("", true), "");
    }

    #[test]
    fn a_route_shows_index_0_unless_its_family_is_watched() {
        // keepalived 2.2.7's lines: a tracked virtual route makes it watch
        // IPv4 routes, and learn the static one's interface.
        let conf = "static_routes {
    10.232.0.0/24 dev kl1
    2001:db8:1::/64 dev kl1
}
vrrp_instance VI_2 {
    interface kl0
    virtual_router_id 52
    virtual_ipaddress {
        10.231.0.101
    }
    virtual_routes {
        10.250.0.0/24 dev kl0
    }
}
";
        let want = "------< Static Routes >------
     prepend 10.232.0.0/24 dev kl1 proto 18
     prepend 2001:db8:1::/64 dev kl1 proto 18 [installed ifindex 0]
";
        assert!(dump(conf, true).starts_with(want), "{}", dump(conf, true));
        let unwatched = conf.replace("        10.250.0.0/24 dev kl0\n", "");
        let text = dump(&unwatched, true);
        assert!(
            text.contains("/24 dev kl1 proto 18 [installed ifindex 0]\n"),
            "{text}"
        );
    }

    #[test]
    fn numbers_are_written_as_c_s_percent_g() {
        let cases = [
            (0.0, "0"),
            (0.5, "0.5"),
            (1.0, "1"),
            (1.25, "1.25"),
            (0.000001, "1e-06"),
            (0.0001, "0.0001"),
            (2.5, "2.5"),
            (123456.0, "123456"),
            (1234567.0, "1.23457e+06"),
            (1.0 / 3.0, "0.333333"),
        ];
        for (x, want) in cases {
            assert_eq!(c_g(x), want, "{x}");
        }
    }
}
