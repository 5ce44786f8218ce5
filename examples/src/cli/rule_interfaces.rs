//! keepalived 2.2.7 looks a rule's `dev`, `iif` and `oif` up as it reads
//! them: without `dynamic_interfaces`, a name the host lacks is its error
//! ("WARNING - interface NAME for rule doesn't exist", then
//! "Non-existent interface specified in configuration"), `-t` exits 5
//! and its VRRP process stops at start-up (measured). keepalived-lite's
//! conversion does not know the host, so `-t` and the start-up ask it
//! here and refuse the same. Not asked under a configured
//! `net_namespace`: the start-up converts before entering it.

use vrrp_conf::convert::Converted;
use vrrp_conf::{Code, Parsed};

/// Adds keepalived's errors for rules naming interfaces `exists` denies
/// to `converted`, refusing its plans as any refusal does.
pub(super) fn check(parsed: &Parsed, converted: &mut Converted, exists: &dyn Fn(&str) -> bool) {
    if converted.process.net_namespace.is_some() {
        return;
    }
    let found = vrrp_conf::convert::vrrp::missing_rule_interfaces(parsed, exists);
    if found.is_empty() {
        return;
    }
    // keepalived reads no further: these are all its lines for the rule.
    let d = &mut converted.diagnostics;
    d.retain(|d| d.code != Code::KeepalivedError || !found.iter().any(|f| f.span == d.span));
    d.extend(found);
    // By position only: keepalived's lines for one rule in its order.
    d.sort_by_key(|d| (d.span.file, d.span.line, d.span.col));
    converted.vrrp = None;
    converted.lvs = None;
}
