//! keepalived 2.2.7's `format_iprule`, for the "Static Rules" section.

use std::fmt::Write as _;

use vrrp::linux::{RuleActionSpec, RuleSpec};

use super::super::vrrp::prefixed;
use super::{track_group, written_all, PROTO_KEEPALIVED};

/// keepalived's `format_iprule`. A rule keepalived does not track
/// (`no_track`) is the one not owned by its protocol.
pub(super) fn rule(r: &RuleSpec, words: &[String]) -> String {
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
