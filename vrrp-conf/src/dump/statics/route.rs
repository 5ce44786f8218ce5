//! keepalived 2.2.7's `format_iproute`, for the "Static Routes" section.

use std::fmt::Write as _;
use std::net::IpAddr;

use vrrp::linux::driver::VirtualRoute;
use vrrp::linux::{Metric, MetricKind, NextHop, RouteKind, RouteMode, RouteSpec, Scope};

use super::super::c_g;
use super::super::vrrp::prefixed;
use super::{track_group, PROTO_KEEPALIVED};

/// keepalived's `format_iproute`.
/// `unlearnt`: installed, its interface not learnt from the kernel.
pub(super) fn route(v: &VirtualRoute, unlearnt: bool, words: &[String]) -> String {
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
