//! GARP/NA spacing per interface, as keepalived 2.2.7 reads it: the
//! globals `vrrp_garp_interval` and `vrrp_gna_interval` (the spacing of
//! every interface a router uses), and top-level `garp_group` blocks
//! (`garp_interval`, `gna_interval`, `interface`, `interfaces { }`) whose
//! interfaces share one spacing (`core/global_parser.c`,
//! `vrrp/vrrp_parser.c`, `vrrp/vrrp_if.c`). What keepalived reports as a
//! configuration error (its `-t` exits 5) is refused here.

use std::time::Duration;

use vrrp::linux::driver::GarpPacing;
use vrrp::pacing::Intervals;

use super::PlanError;
use crate::model::{GlobalDefs, Setting};

/// Largest global interval, in microseconds (keepalived's `UINT_MAX`).
const GLOBAL_MAX: u64 = u32::MAX as u64;
/// Largest `garp_group` interval, in microseconds (`INT_MAX`).
const GROUP_MAX: u64 = i32::MAX as u64;

/// The spacing of a configuration, or every reason it cannot run.
pub(crate) fn pacing(g: &GlobalDefs, top: &[Setting]) -> (GarpPacing, Vec<PlanError>) {
    let mut errors = Vec::new();
    let mut global = |key: &'static str| {
        let s = g.other.iter().rev().find(|s| s.keyword == key)?;
        let v = s.args.first().map_or("", String::as_str);
        match micros(v, 1, GLOBAL_MAX) {
            Some(us) => Some(Duration::from_micros(us)),
            None => {
                errors.push(bad("global_defs", key, v));
                None
            }
        }
    };
    let default = Intervals {
        garp: global("vrrp_garp_interval"),
        gna: global("vrrp_gna_interval"),
    };
    let mut pacing = GarpPacing {
        default,
        groups: Vec::new(),
    };
    for b in top.iter().filter(|s| s.keyword == "garp_group") {
        if let Some(group) = garp_group(b, &pacing.groups, &mut errors) {
            pacing.groups.push(group);
        }
    }
    (pacing, errors)
}

/// One `garp_group`: its spacing and the interfaces no earlier group took.
fn garp_group(
    b: &Setting,
    earlier: &[(Intervals, Vec<String>)],
    errors: &mut Vec<PlanError>,
) -> Option<(Intervals, Vec<String>)> {
    let mut intervals = Intervals::default();
    let (mut garp_set, mut gna_set) = (false, false);
    let mut names: Vec<String> = Vec::new();
    for s in b.block.iter().flatten() {
        let arg = s.args.first().map_or("", String::as_str);
        match s.keyword.as_str() {
            "garp_interval" | "gna_interval" => {
                let Some(us) = micros(arg, 0, GROUP_MAX) else {
                    let key = if s.keyword == "garp_interval" {
                        "garp_interval"
                    } else {
                        "gna_interval"
                    };
                    errors.push(bad("garp_group", key, arg));
                    continue;
                };
                // Zero spaces nothing: a GARP may leave at once.
                let d = (us > 0).then(|| Duration::from_micros(us));
                if s.keyword == "garp_interval" {
                    (intervals.garp, garp_set) = (d, true);
                } else {
                    (intervals.gna, gna_set) = (d, true);
                }
            }
            "interface" => names.push(arg.to_owned()),
            "interfaces" => {
                let list = s.block.iter().flatten().map(|w| w.keyword.clone());
                names.extend(list);
            }
            k => errors.push(PlanError::Unknown {
                instance: "garp_group".into(),
                kind: "keyword",
                name: k.to_owned(),
            }),
        }
    }
    if !garp_set && !gna_set {
        errors.push(PlanError::Refused {
            instance: "garp_group".into(),
            keyword: "garp_group",
            reason: "garp group does not have any delay set",
        });
        return None;
    }
    let taken = |n: &String| earlier.iter().any(|(_, e)| e.contains(n));
    if names.iter().any(taken) {
        errors.push(PlanError::Refused {
            instance: "garp_group".into(),
            keyword: "interface",
            reason: "garp_group already specified for this interface",
        });
    }
    names.retain(|n| !taken(n));
    Some((intervals, names))
}

/// `garp_extra_if [all] SECONDS` (deprecated `vmac_garp_intvl`) of an
/// instance, else the global `vrrp_garp_extra_if` (`vrrp_vmac_garp_intvl`),
/// where it takes effect as in keepalived 2.2.7 (`vrrp.c`): a period over
/// zero, and addresses on an interface other than the one the router
/// sends on (`others`) with `all`; `use_vmac` alone puts an address
/// naming another interface directly on that interface, so the same
/// holds there. With `all` or not, it sends on the VMACs `use_vmac_addr`
/// makes (`addr_vmacs`), and keepalived-lite with it.
pub(crate) fn extra_if(
    g: &GlobalDefs,
    i: &crate::model::VrrpInstance,
    others: bool,
    addr_vmacs: bool,
) -> Result<Option<Duration>, PlanError> {
    let name = i.name.as_str();
    let last = |v: &[Setting], keys: [&str; 2]| {
        v.iter()
            .rev()
            .find(|s| keys.contains(&s.keyword.as_str()))
            .cloned()
    };
    let own = last(&i.other, ["garp_extra_if", "vmac_garp_intvl"]);
    let global = last(&g.other, ["vrrp_garp_extra_if", "vrrp_vmac_garp_intvl"]);
    let (owner, setting) = match (own, global) {
        (Some(s), _) => (name, s),
        (None, Some(s)) => ("global_defs", s),
        (None, None) => return Ok(None),
    };
    let key: &'static str = match setting.keyword.as_str() {
        "garp_extra_if" => "garp_extra_if",
        "vmac_garp_intvl" => "vmac_garp_intvl",
        "vrrp_garp_extra_if" => "vrrp_garp_extra_if",
        _ => "vrrp_vmac_garp_intvl",
    };
    let (mut all, mut secs) = (false, None);
    for w in &setting.args {
        match (w.as_str(), w.parse::<u32>()) {
            ("all", _) => all = true,
            (_, Ok(n)) if n <= 86_400 => secs = Some(n),
            _ => return Err(bad(owner, key, w)),
        }
    }
    let Some(secs) = secs else {
        return Err(PlanError::Refused {
            instance: owner.into(),
            keyword: key,
            reason: "garp_extra_if specified without time",
        });
    };
    if secs == 0 || !(addr_vmacs || others && all) {
        return Ok(None);
    }
    Ok(Some(Duration::from_secs(secs.into())))
}

fn bad(owner: &str, keyword: &'static str, value: &str) -> PlanError {
    PlanError::Bad {
        instance: owner.into(),
        keyword,
        value: value.into(),
    }
}

/// A decimal number of seconds with at most six decimals (keepalived's
/// `read_decimal_unsigned_strvec` with `TIMER_HZ_DIGITS`), in microseconds
/// within `min..=max`.
pub(crate) fn micros(s: &str, min: u64, max: u64) -> Option<u64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) || frac.len() > 6 {
        return None;
    }
    let whole: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let part: u64 = format!("{frac:0<6}").parse().ok()?;
    let us = whole.checked_mul(1_000_000)?.checked_add(part)?;
    (min..=max).contains(&us).then_some(us)
}

/// Where a refusal of [`pacing`] points: the global keyword, or the
/// keyword in the first `garp_group` that has it (the block itself if
/// none has).
pub(crate) fn span(c: &crate::Config, owner: &str, keyword: &str) -> Option<crate::span::Span> {
    let has = |s: &&Setting| s.keyword == keyword;
    match owner {
        "global_defs" => c.global_defs.other.iter().rev().find(has).map(|s| s.span),
        "garp_group" => {
            let mut groups = c.other.iter().filter(|s| s.keyword == "garp_group");
            let inner = (groups.clone()).find_map(|b| b.block.iter().flatten().find(has));
            inner.or_else(|| groups.next()).map(|s| s.span)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use std::time::Duration;

    use vrrp::linux::driver::GarpPacing;
    use vrrp::pacing::Intervals;

    use super::micros;
    use crate::convert::vrrp::{plan, PlanError};

    const INSTANCE: &str = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  \
                            virtual_ipaddress {\n    192.0.2.1\n  }\n}\n";

    fn pacing_of(text: &str) -> Result<GarpPacing, PlanError> {
        let parsed = crate::parse_str("g.conf", &format!("{text}{INSTANCE}"), &Default::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        plan(&parsed.config).map(|p| p.setup().garp_pacing)
    }

    fn ms(n: u64) -> Option<Duration> {
        Some(Duration::from_millis(n))
    }

    #[test]
    fn globals_and_groups_reach_the_setup() {
        let text = "global_defs {\n  vrrp_garp_interval 0.2\n  vrrp_gna_interval 0.05\n}\n\
                    garp_group {\n  garp_interval 0.5\n  gna_interval 0\n  interface eth1\n}\n\
                    garp_group {\n  gna_interval 1\n  interfaces {\n    eth2\n    eth3\n  }\n}\n";
        let want = GarpPacing {
            default: Intervals {
                garp: ms(200),
                gna: ms(50),
            },
            groups: vec![
                (
                    Intervals {
                        garp: ms(500),
                        gna: None,
                    },
                    vec!["eth1".into()],
                ),
                (
                    Intervals {
                        garp: None,
                        gna: ms(1000),
                    },
                    vec!["eth2".into(), "eth3".into()],
                ),
            ],
        };
        assert_eq!(pacing_of(text).unwrap(), want);
        assert_eq!(pacing_of("").unwrap(), GarpPacing::default());
    }

    fn extra_if_of(
        global: &str,
        own: &str,
        vmac: &str,
        dev: &str,
    ) -> Result<Option<Duration>, PlanError> {
        let text = format!(
            "global_defs {{\n{global}}}\nvrrp_instance VI_1 {{\n  interface eth0\n  \
             virtual_router_id 1\n{own}{vmac}  virtual_ipaddress {{\n    192.0.2.1\n    \
             192.0.2.2{dev}\n  }}\n}}\n"
        );
        let parsed = crate::parse_str("g.conf", &text, &Default::default());
        // `vmac_garp_intvl` is a configuration error keepalived runs past.
        let stops = (parsed.diagnostics.iter()).any(crate::diagnostics::Diagnostic::stops_start);
        assert!(!stops, "{:?}", parsed.diagnostics);
        plan(&parsed.config).map(|p| p.setup().routers[0].config.garp_extra_if)
    }

    #[test]
    fn garp_extra_if_takes_effect_where_keepalived_sends() {
        let other = " dev eth1";
        let own = "  garp_extra_if 3 all\n";
        assert_eq!(
            extra_if_of("", own, "", other).unwrap(),
            Some(Duration::from_secs(3))
        );
        // The deprecated spelling; the global as the default.
        let old = "  vmac_garp_intvl all 4\n";
        assert_eq!(
            extra_if_of("", old, "", other).unwrap(),
            Some(Duration::from_secs(4))
        );
        let global = "  vrrp_garp_extra_if 5 all\n";
        assert_eq!(
            extra_if_of(global, "", "", other).unwrap(),
            Some(Duration::from_secs(5))
        );
        // The instance's own replaces the global, `all` included.
        let own_no_all = "  garp_extra_if 3\n";
        assert_eq!(extra_if_of(global, own_no_all, "", other).unwrap(), None);
        // No other interface, a zero period: nothing to send.
        assert_eq!(extra_if_of("", own, "", "").unwrap(), None);
        assert_eq!(
            extra_if_of("", "  garp_extra_if 0 all\n", "", other).unwrap(),
            None
        );
        // Under use_vmac an address of the instance's family naming the
        // base interface lives on the VMAC: nothing elsewhere.
        let vmac = "  use_vmac\n";
        assert_eq!(extra_if_of("", own, vmac, " dev eth0").unwrap(), None);
        // use_vmac alone puts `dev eth1` directly on eth1 (keepalived
        // 2.2.7 makes no VMAC there): announced there with `all` only.
        assert_eq!(
            extra_if_of("", own, vmac, other).unwrap(),
            Some(Duration::from_secs(3))
        );
        assert_eq!(extra_if_of("", own_no_all, vmac, other).unwrap(), None);
        // use_vmac_addr puts the address on a VMAC of its own, which
        // keepalived announces on, `all` or not.
        let addr = "  use_vmac_addr\n";
        let three = Some(Duration::from_secs(3));
        assert_eq!(extra_if_of("", own_no_all, addr, other).unwrap(), three);
        let both = "  use_vmac\n  use_vmac_addr\n";
        assert_eq!(extra_if_of("", own, both, other).unwrap(), three);
        assert_eq!(extra_if_of("", own_no_all, addr, "").unwrap(), None);
        for bad in [
            "  garp_extra_if all\n",
            "  garp_extra_if 86401\n",
            "  garp_extra_if 1.5\n",
        ] {
            assert!(extra_if_of("", bad, "", other).is_err(), "{bad}");
        }
    }

    #[test]
    fn what_keepalived_reports_as_an_error_is_refused() {
        let refused = [
            "global_defs {\n  vrrp_garp_interval 0\n}\n",
            "global_defs {\n  vrrp_gna_interval 0.0000001\n}\n",
            "garp_group {\n  interface eth0\n}\n",
            "garp_group {\n  garp_interval x\n  interface eth0\n}\n",
            "garp_group {\n  garp_interval 1\n  interface eth0\n}\n\
             garp_group {\n  garp_interval 2\n  interface eth0\n}\n",
        ];
        for text in refused {
            assert!(pacing_of(text).is_err(), "{text}");
        }
    }

    #[test]
    fn seconds_with_six_decimals_at_most() {
        assert_eq!(micros("0.2", 1, u64::MAX), Some(200_000));
        assert_eq!(micros("1", 1, u64::MAX), Some(1_000_000));
        assert_eq!(micros(".000001", 1, u64::MAX), Some(1));
        assert_eq!(micros("0.0000001", 1, u64::MAX), None);
        assert_eq!(micros("0", 1, u64::MAX), None);
        assert_eq!(micros("0", 0, 5), Some(0));
        assert_eq!(micros("abc", 0, 5), None);
        assert_eq!(micros("4294.967296", 1, u32::MAX.into()), None);
        assert_eq!(
            micros("4294.967295", 1, u32::MAX.into()),
            Some(4_294_967_295)
        );
    }
}
