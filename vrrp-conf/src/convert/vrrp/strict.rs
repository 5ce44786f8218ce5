//! keepalived 2.2.7's strict mode (`vrrp_strict`, an instance's
//! `strict_mode`), accept mode (`accept` / `no_accept`) and the nftables
//! settings of its firewall (`nftables`, `nftables_priority`,
//! `nftables_counters`, `nftables_ifindex`, the legacy `vrrp_iptables`).
//!
//! Under strict mode keepalived refuses an instance with unicast peers
//! (on an interface that can multicast: here, every interface) or without
//! a virtual address, and resets with a configuration error: the initial
//! state to what the priority says (MASTER only for the owner, 255),
//! authentication to none, `preempt_delay` to 0, `lower_prio_no_advert`
//! on and `higher_prio_send_advert` off (and it says that the first
//! address of a multicast IPv6 instance must be link-local); accept mode
//! defaults to off except for the owner, and a VRRPv2 non-owner cannot
//! turn it on. A
//! master without accept mode drops traffic to and from its virtual
//! addresses through nftables ([`vrrp::linux::Firewall`]). Received
//! adverts are checked as without strict mode (keepalived 2.2.7 checks
//! the address list of every advert from a new master anyway).

use std::net::IpAddr;

use vrrp::config::{LowerPriorityAdvert, Version, PRIORITY_OWNER};
use vrrp::linux::NftConfig;

use super::PlanError;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{GlobalDefs, Setting, State, VrrpInstance};
use crate::Parsed;

/// The last setting named `k`.
fn find<'a>(list: &'a [Setting], k: &str) -> Option<&'a Setting> {
    list.iter().rev().find(|s| s.keyword == k)
}

/// Whether `i` runs in strict mode: its `strict_mode [on|off]`, else
/// `global_defs`' `vrrp_strict`.
pub(super) fn is_strict(g: &GlobalDefs, i: &VrrpInstance) -> Result<bool, PlanError> {
    let Some(s) = find(&i.other, "strict_mode") else {
        return Ok(g.vrrp_strict);
    };
    match s.args.first().map(String::as_str) {
        None | Some("on" | "true" | "yes") => Ok(true),
        Some("off" | "false" | "no") => Ok(false),
        Some(v) => Err(PlanError::Bad {
            instance: i.name.clone(),
            keyword: "strict_mode",
            value: v.to_owned(),
        }),
    }
}

/// keepalived's default priority: 255 (owner) for `state MASTER`, else 100.
pub(super) fn priority(i: &VrrpInstance) -> u8 {
    i.priority.unwrap_or(match i.state {
        Some(State::Master) => PRIORITY_OWNER,
        _ => super::DEFAULT_PRIORITY,
    })
}

/// The explicit accept mode: the last of `accept` / `no_accept`.
fn accept_keyword(i: &VrrpInstance) -> Option<&Setting> {
    i.other
        .iter()
        .rev()
        .find(|s| s.keyword == "accept" || s.keyword == "no_accept")
}

/// True if keepalived turns an explicit `accept` off: strict VRRPv2, not
/// the owner.
fn v2_accept_reset(strict: bool, version: Version, priority: u8) -> bool {
    strict && version == Version::V2 && priority != PRIORITY_OWNER
}

/// Applies accept mode and, under strict mode, keepalived's resets and
/// refusals to a router's configuration.
pub(super) fn apply(i: &VrrpInstance, strict: bool, c: &mut vrrp::Config) -> Result<(), PlanError> {
    let explicit = accept_keyword(i).map(|s| s.keyword == "accept");
    c.accept_mode = match explicit {
        Some(true) if v2_accept_reset(strict, c.version, c.priority) => false,
        Some(a) => a,
        None => c.priority == PRIORITY_OWNER || !strict,
    };
    if !strict {
        return Ok(());
    }
    let refuse = |keyword, reason| PlanError::Refused {
        instance: i.name.clone(),
        keyword,
        reason,
    };
    if i.virtual_ipaddress.is_empty() {
        return Err(refuse(
            "virtual_ipaddress",
            "No VIP specified; at least one is required",
        ));
    }
    if !i.unicast_peer.is_empty() {
        return Err(refuse(
            "unicast_peer",
            "Unicast peers are not supported in strict mode",
        ));
    }
    c.initial_master = c.priority == PRIORITY_OWNER;
    c.initial_backup = false;
    c.authentication = vrrp::auth::AuthConfig::None;
    c.preempt_delay = std::time::Duration::ZERO;
    c.lower_priority_advert = LowerPriorityAdvert::Discard;
    c.higher_priority_send_advert = false;
    Ok(())
}

/// keepalived's configuration errors for what strict mode resets (the
/// instance still runs), in its words.
pub(super) fn notes(p: &Parsed, out: &mut Vec<Diagnostic>) {
    let g = &p.config.global_defs;
    if let Some(s) = find(&g.other, "vrrp_iptables") {
        let msg = "iptables not supported, using nftables instead. Please replace \
                   'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option";
        out.push(Diagnostic::error(Code::KeepalivedError, s.span, msg));
    }
    for (i, sp) in p.config.vrrp_instances.iter().zip(&p.spans.instances) {
        let Ok(strict) = is_strict(g, i) else {
            continue;
        };
        // keepalived's configuration errors: -t fails, the daemon runs.
        let mut report = |span, what: &str| {
            let msg = format!("({}) {what}", i.name);
            out.push(Diagnostic::error(Code::KeepalivedError, span, msg));
        };
        let prio = priority(i);
        let reset = v2_accept_reset(strict, super::version(g, i), prio);
        if let Some(s) = accept_keyword(i).filter(|s| reset && s.keyword == "accept") {
            let what = "warning - accept mode for VRRP version 2 does not comply with \
                        RFC3768 - resetting";
            report(s.span, what);
        }
        if !strict {
            continue;
        }
        let master = i.state == Some(State::Master);
        if i.state.is_some() && master != (prio == PRIORITY_OWNER) {
            report(
                sp.key("state"),
                "State MASTER must match being address owner",
            );
        }
        if i.authentication.is_some() {
            report(
                sp.key("authentication"),
                "Strict mode does not support authentication. Ignoring.",
            );
        }
        if i.preempt_delay.is_some_and(|d| !d.is_zero()) {
            report(
                sp.key("preempt_delay"),
                "preempt_delay is incompatible with strict mode - resetting",
            );
        }
        let first = i.virtual_ipaddress.first().map(|a| a.address.addr());
        let global6 = matches!(first, Some(IpAddr::V6(a)) if a.segments()[0] & 0xffc0 != 0xfe80);
        if global6 && i.unicast_peer.is_empty() {
            report(
                sp.key("virtual_ipaddress"),
                "the first IPv6 VIP address must be link local",
            );
        }
        let off = |s: &&Setting| {
            matches!(
                s.args.first().map(String::as_str),
                Some("off" | "false" | "no")
            )
        };
        if let Some(s) = find(&i.other, "lower_prio_no_advert").filter(off) {
            report(
                s.span,
                "Strict mode requires no lower priority advert. resetting",
            );
        }
        if let Some(s) = find(&i.other, "higher_prio_send_advert").filter(|s| !off(s)) {
            report(
                s.span,
                "strict mode requires higher_prio_send_advert to be clear. resetting",
            );
        }
        // An explicit non-zero value (a bad one is refused elsewhere).
        let nonzero = |s: &&Setting| s.args.first().is_some_and(|v| v.parse() != Ok(0u32));
        if let Some(s) = find(&i.other, "garp_lower_prio_repeat").filter(nonzero) {
            report(s.span, "Strict mode requires no repeat garps. resetting");
        }
        if let Some(s) = find(&i.other, "garp_lower_prio_delay").filter(nonzero) {
            report(
                s.span,
                "Strict mode requires no repeat garp delay. resetting",
            );
        }
    }
}

/// The firewall keepalived would run: the `nftables` settings if given,
/// else the default table as soon as a router lacks accept mode or has a
/// VMAC (as keepalived: "use_vmac or no_accept/strict specified, but no
/// firewall configured - using nftables"), else none. `nftables_ifindex` only matters for the
/// link-local addresses of `dont_track_primary` instances: without it
/// keepalived filters them by interface name, which `router` refuses; with
/// it they are filtered by index as all others.
pub(super) fn firewall<'a>(
    g: &GlobalDefs,
    mut routers: impl Iterator<Item = &'a vrrp::linux::driver::RouterSpec>,
) -> Result<Option<NftConfig>, PlanError> {
    let mut table: Option<&str> = None;
    let mut priority: Option<&Setting> = None;
    for s in &g.other {
        match s.keyword.as_str() {
            // A second `nftables` is ignored; the first resets the priority.
            "nftables" if table.is_none() => {
                table = Some(s.args.first().map_or("keepalived", String::as_str));
                priority = None;
            }
            "vrrp_iptables" => {
                table = Some("keepalived");
                priority = None;
            }
            "nftables_priority" => priority = Some(s),
            _ => {}
        }
    }
    // keepalived's IGMP rule is a macvlan VMAC's: an ipvlan has none.
    let macvlan = |r: &vrrp::linux::driver::RouterSpec| r.use_vmac && r.vmac.ipvlan.is_none();
    if table.is_none() && routers.any(|r| macvlan(r) || !r.config.accepts_vip_traffic()) {
        table = Some("keepalived");
    }
    let Some(table) = table else { return Ok(None) };
    let mut c = NftConfig {
        table: table.to_owned(),
        ..NftConfig::default()
    };
    if let Some(s) = priority {
        let v = s.args.first().cloned().unwrap_or_default();
        c.priority = v.parse().map_err(|_| PlanError::Bad {
            instance: "global_defs".into(),
            keyword: "nftables_priority",
            value: v,
        })?;
    }
    c.counters = find(&g.other, "nftables_counters").is_some();
    Ok(Some(c))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use super::super::{plan, Plan};
    use super::*;
    use crate::diagnostics::Severity;

    const VI: &str = "vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n";
    const VIP: &str = "  virtual_ipaddress {\n    192.0.2.1\n  }\n}\n";

    fn parsed(text: &str) -> Parsed {
        let p = crate::parse_str("s.conf", text, &crate::Options::default());
        assert!(!p.has_errors(), "{:?}", p.diagnostics);
        p
    }

    fn plan_of(text: &str) -> Result<Plan, PlanError> {
        plan(&parsed(text).config)
    }

    fn config(text: &str) -> vrrp::Config {
        plan_of(text).unwrap().units[0].setup.routers[0]
            .config
            .clone()
    }

    fn strict(body: &str) -> String {
        format!("global_defs {{\n  vrrp_strict\n}}\n{VI}{body}{VIP}")
    }

    #[test]
    fn strict_mode_resets_what_rfc_3768_forbids() {
        let c = config(&strict(
            "  state MASTER\n  priority 150\n  preempt_delay 5\n  authentication {\n    \
             auth_type PASS\n    auth_pass secret\n  }\n  lower_prio_no_advert off\n  \
             higher_prio_send_advert\n",
        ));
        assert!(!c.initial_master, "MASTER only for the owner");
        assert_eq!(c.authentication, vrrp::auth::AuthConfig::None);
        assert_eq!(c.preempt_delay, std::time::Duration::ZERO);
        assert_eq!(c.lower_priority_advert, LowerPriorityAdvert::Discard);
        assert!(!c.higher_priority_send_advert);
        assert!(!c.accept_mode && !c.accepts_vip_traffic());
        let owner = config(&strict("  state BACKUP\n  priority 255\n"));
        assert!(owner.initial_master && owner.accept_mode);
    }

    #[test]
    fn accept_mode_follows_keepalived_defaults_and_keywords() {
        let plain = format!("{VI}  priority 150\n{VIP}");
        assert!(
            config(&plain).accept_mode,
            "accept by default without strict"
        );
        let no = format!("{VI}  priority 150\n  accept\n  no_accept\n{VIP}");
        assert!(!config(&no).accept_mode, "the last keyword wins");
        let v2 = strict("  priority 150\n  accept\n");
        assert!(!config(&v2).accept_mode, "strict VRRPv2 cannot accept");
        let v3 = strict("  priority 150\n  version 3\n  accept\n");
        assert!(config(&v3).accept_mode, "strict VRRPv3 may accept");
        let off = format!("global_defs {{\n  vrrp_strict\n}}\n{VI}  strict_mode off\n{VIP}");
        assert!(
            config(&off).accept_mode,
            "strict_mode off overrides vrrp_strict"
        );
    }

    #[test]
    fn strict_mode_refuses_unicast_and_instances_without_addresses() {
        let unicast = strict("  unicast_peer {\n    10.0.0.2\n  }\n");
        assert_eq!(
            plan_of(&unicast).unwrap_err().to_string(),
            "(A) Unicast peers are not supported in strict mode"
        );
        let text = format!("global_defs {{\n  vrrp_strict\n}}\n{VI}}}\n");
        assert_eq!(
            plan_of(&text).unwrap_err().to_string(),
            "(A) No VIP specified; at least one is required"
        );
        let bad = format!("{VI}  strict_mode maybe\n{VIP}");
        assert!(matches!(
            plan_of(&bad),
            Err(PlanError::Bad {
                keyword: "strict_mode",
                ..
            })
        ));
    }

    #[test]
    fn the_firewall_comes_with_the_first_router_that_does_not_accept() {
        let fw = |text: &str| plan_of(text).unwrap().setup().firewall;
        assert_eq!(fw(&format!("{VI}{VIP}")), None);
        assert_eq!(fw(&strict("")), Some(NftConfig::default()));
        let owner = strict("  priority 255\n");
        assert_eq!(fw(&owner), None, "the owner always accepts");
        let vmac = format!("{VI}  use_vmac\n{VIP}");
        assert_eq!(fw(&vmac), Some(NftConfig::default()), "a VMAC has its rule");
        let named = format!(
            "global_defs {{\n  nftables_priority 7\n  nftables ka\n  nftables other\n  \
             nftables_counters\n  nftables_ifindex\n}}\n{VI}{VIP}"
        );
        let expected = NftConfig {
            table: "ka".into(),
            counters: true,
            ..NftConfig::default()
        };
        assert_eq!(
            fw(&named),
            Some(expected),
            "nftables resets an earlier priority"
        );
        let prio = format!("global_defs {{\n  nftables\n  nftables_priority -5\n}}\n{VI}{VIP}");
        assert_eq!(fw(&prio).map(|c| c.priority), Some(-5));
        // keepalived built without iptables (Debian's) takes the legacy
        // keyword as `nftables`, with a configuration error.
        let legacy = format!("global_defs {{\n  vrrp_iptables IN OUT\n}}\n{VI}{VIP}");
        assert_eq!(fw(&legacy), Some(NftConfig::default()));
        let mut out = Vec::new();
        notes(&parsed(&legacy), &mut out);
        assert_eq!(
            out.iter().map(|d| d.message.as_str()).collect::<Vec<_>>(),
            [
                "iptables not supported, using nftables instead. Please replace 'vrrp_iptables \
              and 'vrrp_ipsets' with 'nftables' config option"
            ]
        );
        // An error for -t that does not stop the daemon, as in keepalived.
        assert_eq!(
            (out[0].severity, out[0].code, out[0].stops_start()),
            (Severity::Error, Code::KeepalivedError, false)
        );
    }

    #[test]
    fn a_strict_ipv6_instance_should_lead_with_a_link_local_address() {
        let text = |vip: &str| {
            format!(
                "global_defs {{\n  vrrp_strict\n}}\n{VI}  virtual_ipaddress {{\n    {vip}\n  }}\n}}\n"
            )
        };
        let warned = |t: &str| {
            let p = parsed(t);
            let mut out = Vec::new();
            notes(&p, &mut out);
            out.iter().map(|d| d.message.clone()).collect::<Vec<_>>()
        };
        assert_eq!(
            warned(&text("2001:db8::1")),
            ["(A) the first IPv6 VIP address must be link local"]
        );
        assert!(warned(&text("fe80::1")).is_empty());
    }

    #[test]
    fn resets_are_reported_in_keepalived_words() {
        let text = strict(
            "  state MASTER\n  priority 150\n  preempt_delay 5\n  accept\n  authentication {\n    \
             auth_type PASS\n    auth_pass secret\n  }\n",
        );
        let p = parsed(&text);
        let mut out = Vec::new();
        notes(&p, &mut out);
        let got: Vec<String> = out
            .iter()
            .map(|d| d.display(&p.sources).to_string())
            .collect();
        assert_eq!(
            got,
            [
                "s.conf:10:3: error: (A) warning - accept mode for VRRP version 2 does not \
                 comply with RFC3768 - resetting",
                "s.conf:7:3: error: (A) State MASTER must match being address owner",
                "s.conf:11:3: error: (A) Strict mode does not support authentication. Ignoring.",
                "s.conf:9:3: error: (A) preempt_delay is incompatible with strict mode - resetting",
            ]
        );
    }
}
