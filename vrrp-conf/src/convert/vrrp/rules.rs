//! `static_rules` and `virtual_rules`: `ip rule` words to the driver's
//! [`RuleSpec`], as keepalived 2.2.7 reads them (vrrp_iprule.c).
//!
//! keepalived skips an invalid rule with an error; the lowering already
//! reports bad `from`/`to` addresses, so such a rule is skipped here
//! silently. Rules whose address families disagree (`from 10.0.0.0/8 to
//! all`: `all`, `any` and `default` have no family, and only the first
//! family-setting word may leave it unset), an unknown option, and the
//! word after `inet`/`inet6` (which keepalived 2.2.7's parser swallows)
//! are skipped with keepalived's error as it does ([`notes`]): `-t` fails,
//! start-up logs it and runs without the rule. Other mistakes keepalived
//! rejects are refused with its reason. A rule without a preference gets one
//! (keepalived's configuration error, as [`notes`] says), counting down from
//! 16384 per family in configuration order (`static_rules` first, then
//! the instances), as keepalived numbers them; every rule not marked
//! `no_track` is owned by protocol 18 (keepalived). `track_group NAME` is
//! read on `static_rules` only (see `track_group.rs`); elsewhere it is an
//! unknown option, as in keepalived.

use std::net::IpAddr;

use ipnet::IpNet;
use vrrp::linux::{RuleActionSpec, RuleSpec};

use super::PlanError;
use crate::diagnostics::{Code, Diagnostic};
use crate::lower::ObjSpans;
use crate::model::{VrrpInstance, Words};
use crate::Parsed;

/// keepalived's first automatic preference (`RULE_START_PRIORITY`).
const FIRST_AUTO_PRIORITY: u32 = 16384;
/// `RTPROT_KEEPALIVED`: the protocol keepalived gives the rules it tracks.
const PROTO_KEEPALIVED: u8 = 18;

/// Why one rule cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RuleError {
    /// The lowering already reported it (a bad address): skip the rule.
    Reported,
    /// An option keepalived-lite does not implement.
    Unsupported(&'static str),
    /// keepalived rejects the rule, for this reason.
    Invalid(&'static str),
    /// keepalived logs this configuration error, skips the rule and runs.
    Skipped(String),
}

/// The automatic preferences given so far, per family.
#[derive(Debug, Clone, Copy)]
struct Counter {
    v4: u32,
    v6: u32,
}

impl Default for Counter {
    fn default() -> Self {
        Counter {
            v4: FIRST_AUTO_PRIORITY,
            v6: FIRST_AUTO_PRIORITY,
        }
    }
}

impl Counter {
    fn next(&mut self, ipv6: bool) -> u32 {
        let n = if ipv6 { &mut self.v6 } else { &mut self.v4 };
        let got = *n;
        *n = n.saturating_sub(1);
        got
    }
}

/// The `static_rules` of `c`, in order; skipped rules left out.
pub(crate) fn static_rules(c: &crate::Config) -> Result<Vec<RuleSpec>, PlanError> {
    let mut counter = Counter::default();
    convert_all("static_rules", &c.static_rules, &mut counter)
}

/// The `virtual_rules` of instance `i` of `c`, numbered after the rules
/// written before them.
pub(crate) fn instance_rules(
    c: &crate::Config,
    i: &VrrpInstance,
) -> Result<Vec<RuleSpec>, PlanError> {
    let mut counter = Counter::default();
    // Errors of other owners are theirs: only the numbering matters here.
    let _ = convert_all("static_rules", &c.static_rules, &mut counter);
    for other in &c.vrrp_instances {
        if std::ptr::eq(other, i) || other.name == i.name {
            return convert_all(&i.name, &i.virtual_rules, &mut counter);
        }
        let _ = convert_all(&other.name, &other.virtual_rules, &mut counter);
    }
    convert_all(&i.name, &i.virtual_rules, &mut counter)
}

fn convert_all(
    owner: &str,
    rules: &[Words],
    counter: &mut Counter,
) -> Result<Vec<RuleSpec>, PlanError> {
    let mut out = Vec::new();
    for w in rules {
        let parsed = if owner == "static_rules" {
            static_rule(w)
        } else {
            rule(w)
        };
        match parsed {
            Ok(mut r) => {
                if r.priority.is_none() {
                    r.priority = Some(counter.next(r.ipv6));
                }
                out.push(r);
            }
            // Reported by the lowering, or by `notes`.
            Err(RuleError::Reported | RuleError::Skipped(_)) => {}
            Err(RuleError::Unsupported(keyword)) => {
                return Err(PlanError::Unsupported {
                    instance: owner.to_owned(),
                    keyword,
                })
            }
            Err(RuleError::Invalid(reason)) => {
                return Err(PlanError::Refused {
                    instance: owner.to_owned(),
                    keyword: "rule",
                    reason,
                })
            }
        }
    }
    Ok(out)
}

/// keepalived's errors for the rules it skips ([`RuleError::Skipped`])
/// at their `static_rules` or `virtual_rules` block, and for the
/// preferences it picks, at the rule.
pub(crate) fn notes(p: &Parsed, out: &mut Vec<Diagnostic>) {
    let c = &p.config;
    let top = super::super::key_span(Some(&p.spans.top), "static_rules");
    let own = |sp: Option<&ObjSpans>, k: usize| sp.and_then(|s| s.rules.get(k).copied());
    let statics = (c.static_rules.iter().enumerate())
        .map(|(k, w)| (top, own(Some(&p.spans.top), k), static_rule(w)));
    let virtuals = c.vrrp_instances.iter().enumerate().flat_map(|(n, i)| {
        let sp = p.spans.instances.get(n);
        let at = super::super::key_span(sp, "virtual_rules");
        (i.virtual_rules.iter().enumerate()).map(move |(k, w)| (at, own(sp, k), rule(w)))
    });
    // keepalived numbers the rules it keeps, and calls each number it
    // picks a configuration error at the rule's line (`-t` exits 5; the
    // daemon installs the rule).
    let mut counter = Counter::default();
    for (at, line, parsed) in statics.chain(virtuals) {
        match parsed {
            Err(RuleError::Skipped(msg)) => {
                out.push(Diagnostic::error(Code::KeepalivedError, at, msg));
            }
            Ok(r) if r.priority.is_none() => {
                let at = line.unwrap_or(at);
                let msg = format!(
                    "Rule has no preference specified - setting to {}. \
                     This is probably not what you want.",
                    counter.next(r.ipv6)
                );
                out.push(Diagnostic::error(Code::KeepalivedError, at, msg));
            }
            _ => {}
        }
    }
}

/// One rule's words as keepalived reads them (`track_group` refused). The
/// preference is left `None` when not written (the caller numbers it).
pub(crate) fn rule(words: &[String]) -> Result<RuleSpec, RuleError> {
    read(words, false)
}

/// One rule of `static_rules`, which may name a `track_group`.
pub(crate) fn static_rule(words: &[String]) -> Result<RuleSpec, RuleError> {
    read(words, true)
}

fn read(words: &[String], static_rule: bool) -> Result<RuleSpec, RuleError> {
    use RuleError::{Invalid, Skipped, Unsupported};
    let mut r = RuleSpec::new(false, RuleActionSpec::Nop);
    let mut family: Option<bool> = None;
    let mut action: Option<RuleActionSpec> = None;
    let mut table_option = false;
    let mut no_track = false;
    let mut track_group = false;
    let mut protocol = None;
    let mut it = words.iter().map(String::as_str);
    let set_family = |f: &mut Option<bool>, v6: bool| match *f {
        Some(old) if old != v6 => Err(Invalid("rule specification has mixed IPv4 and IPv6")),
        _ => {
            *f = Some(v6);
            Ok(())
        }
    };
    let set_action = |a: &mut Option<RuleActionSpec>, new| {
        if a.is_some() {
            return Err(Invalid(
                "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule",
            ));
        }
        *a = Some(new);
        Ok(())
    };
    while let Some(word) = it.next() {
        let mut value = || it.next().ok_or(Invalid("rule option has no value"));
        match word {
            "inet" | "inet6" => {
                inet(&mut family, word == "inet6")?;
                // keepalived 2.2.7 steps past the word after it too.
                it.next();
            }
            "from" | "to" => {
                let Some((net, f)) = prefix(value()?) else {
                    return Err(RuleError::Reported);
                };
                match family {
                    None => family = f,
                    Some(old) if Some(old) != f => {
                        return Err(Skipped("rule specification has mixed IPv4 and IPv6".into()))
                    }
                    Some(_) => {}
                }
                let v = net.map(|n| (n.addr(), n.prefix_len()));
                if word == "from" {
                    r.from = v;
                } else {
                    r.to = v;
                }
            }
            "table" | "lookup" => {
                let t = table(value()?).ok_or(Invalid("Routing table not found for rule"))?;
                if t == 0 {
                    return Err(Invalid("Table 0 is not valid"));
                }
                set_action(&mut action, RuleActionSpec::Table(t))?;
            }
            "not" => r.invert = true,
            "preference" | "order" | "priority" => {
                let p = number(value()?).ok_or(Invalid("Invalid rule preference"))?;
                r.priority = Some(p);
            }
            "tos" | "dsfield" => {
                // keepalived reads it in C's base 0 (ip rule: hex).
                let v = number(value()?).and_then(|v| u8::try_from(v).ok());
                r.tos = v.ok_or(Invalid("TOS value is invalid"))?;
            }
            "fwmark" => {
                let v = value()?;
                let (mark, mask) = match v.split_once('/') {
                    Some((m, k)) => (m, Some(k)),
                    None => (v, None),
                };
                r.fwmark = Some(number(mark).ok_or(Invalid("Invalid rule fwmark"))?);
                r.fwmask = mask
                    .map(|k| number(k).ok_or(Invalid("Invalid rule fwmark")))
                    .transpose()?;
            }
            "realms" => {
                r.realms = Some(realms(value()?).ok_or(Invalid("invalid realms for rule"))?);
                table_option = true;
                set_family(&mut family, false)
                    .map_err(|_| Invalid("realms is only valid for IPv4"))?;
            }
            "suppress_prefixlength" | "sup_pl" => {
                let v = number(value()?).filter(|v| i32::try_from(*v).is_ok());
                r.suppress_prefixlen = Some(v.ok_or(Invalid("Invalid suppress_prefixlength"))?);
                table_option = true;
            }
            "suppress_ifgroup" | "sup_group" => {
                let v = number(value()?).ok_or(Invalid("suppress_group is invalid"))?;
                r.suppress_ifgroup = Some(v);
                table_option = true;
            }
            "dev" | "iif" => r.iif = Some(value()?.to_owned()),
            "oif" => r.oif = Some(value()?.to_owned()),
            "uidrange" => {
                let (a, b) = value()?
                    .split_once('-')
                    .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                    .ok_or(Invalid("Invalid uidrange"))?;
                r.uid_range = Some((a, b));
            }
            "l3mdev" => set_action(&mut action, RuleActionSpec::L3mdev)?,
            "protocol" => {
                protocol = Some(
                    value()?
                        .parse::<u8>()
                        .map_err(|_| Invalid("Invalid protocol"))?,
                )
            }
            "ipproto" => r.ip_proto = Some(ip_proto(value()?).ok_or(Invalid("Invalid ipproto"))?),
            "sport" => r.sport = Some(port_range(value()?).ok_or(Invalid("invalid sport range"))?),
            "dport" => r.dport = Some(port_range(value()?).ok_or(Invalid("invalid dport range"))?),
            "no_track" => no_track = true,
            "track_group" if static_rule => {
                value()?;
                if track_group {
                    return Err(Invalid("track_group is a duplicate"));
                }
                track_group = true;
            }
            "tunnel-id" => return Err(Unsupported("rule tunnel-id")),
            other => {
                let kind = if other == "type" { value()? } else { other };
                let a = match kind {
                    "goto" => {
                        let t = number(value()?).ok_or(Invalid("Invalid goto target"))?;
                        RuleActionSpec::Goto(t)
                    }
                    "nop" => RuleActionSpec::Nop,
                    "blackhole" => RuleActionSpec::Blackhole,
                    "unreachable" => RuleActionSpec::Unreachable,
                    "prohibit" => RuleActionSpec::Prohibit,
                    _ => return Err(Skipped(format!("Unknown rule option {kind}"))),
                };
                set_action(&mut action, a)?;
            }
        }
    }
    let action = action.ok_or(Invalid("No action specified for rule - ignoring"))?;
    if track_group && r.iif.is_none() {
        return Err(Invalid(
            "Static rule cannot have track_group if dev/iif not specified",
        ));
    }
    if let RuleActionSpec::Goto(target) = action {
        match r.priority {
            None => {
                return Err(Invalid(
                    "Invalid rule - goto target specified without preference",
                ))
            }
            Some(p) if p >= target => {
                return Err(Invalid("Invalid rule - preference >= goto target"))
            }
            Some(_) => {}
        }
    }
    if table_option && !matches!(action, RuleActionSpec::Table(_)) {
        return Err(Invalid(
            "suppressor/realm specified for non table action - skipping",
        ));
    }
    r.action = action;
    r.ipv6 = family.unwrap_or(false);
    // keepalived owns (and so can track) every rule but `no_track` ones.
    r.protocol = if no_track {
        protocol
    } else {
        Some(PROTO_KEEPALIVED)
    };
    Ok(r)
}

/// `inet`/`inet6` (`v6`): the rule's family, unless another is set.
fn inet(family: &mut Option<bool>, v6: bool) -> Result<(), RuleError> {
    match *family {
        Some(old) if old != v6 => Err(RuleError::Skipped(
            if v6 {
                "inet6 specified for IPv4 rule"
            } else {
                "inet specified for IPv6 rule"
            }
            .into(),
        )),
        _ => {
            *family = Some(v6);
            Ok(())
        }
    }
}

/// `from`/`to`: an address with an optional length and its family (IPv6
/// or not), or `all`/`any`/`default` (no address, no family) or
/// `default6` (no address, IPv6), as keepalived's `parse_route`. `None`
/// if it is not one.
fn prefix(v: &str) -> Option<(Option<IpNet>, Option<bool>)> {
    match v {
        "all" | "any" | "default" => return Some((None, None)),
        "default6" => return Some((None, Some(true))),
        _ => {}
    }
    let net = match v.parse::<IpNet>() {
        Ok(n) => n,
        Err(_) => IpNet::from(v.parse::<IpAddr>().ok()?),
    };
    Some((Some(net), Some(net.addr().is_ipv6())))
}

/// A table by number or by the names of /etc/iproute2/rt_tables'
/// defaults.
fn table(v: &str) -> Option<u32> {
    match v {
        "main" => Some(254),
        "local" => Some(255),
        "default" => Some(253),
        n => number(n),
    }
}

/// An unsigned number in C's base 0 (decimal, 0x hex, 0 octal), as
/// keepalived's `strtoul(..., 0)`.
fn number(v: &str) -> Option<u32> {
    if let Some(h) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        u32::from_str_radix(h, 16).ok()
    } else if v.len() > 1 && v.starts_with('0') {
        u32::from_str_radix(&v[1..], 8).ok()
    } else {
        v.parse().ok()
    }
}

/// `realms [SRC/]DST`, by number.
fn realms(v: &str) -> Option<u32> {
    let (src, dst) = match v.split_once('/') {
        Some((s, d)) => (s.parse::<u16>().ok()?, d.parse::<u16>().ok()?),
        None => (0, v.parse::<u16>().ok()?),
    };
    Some((u32::from(src) << 16) | u32::from(dst))
}

/// `START-END`. keepalived 2.2.7 rejects a single port ("invalid dport
/// range"), and so does this: its rule would then match every port.
fn port_range(v: &str) -> Option<(u16, u16)> {
    let (a, b) = v.split_once('-')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// `ipproto`: a number or a common protocol name.
fn ip_proto(v: &str) -> Option<u8> {
    Some(match v {
        "icmp" => 1,
        "tcp" => 6,
        "udp" => 17,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "ipv6-icmp" | "icmpv6" => 58,
        "vrrp" => 112,
        "sctp" => 132,
        n => n.parse().ok()?,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn the_samples_rule_looks_up_its_table_as_keepalived() {
        let r = rule(&words("from 192.168.100.0/24 table 1")).unwrap();
        let mut want = RuleSpec::new(false, RuleActionSpec::Table(1));
        want.from = Some((Ipv4Addr::new(192, 168, 100, 0).into(), 24));
        want.protocol = Some(18);
        assert_eq!(r, want);
    }

    #[test]
    fn options_and_actions() {
        let r = rule(&words(
            "to 2001:db8::/32 not priority 0x10 fwmark 7/0xff iif eth0 oif eth1 \
             uidrange 100-200 ipproto tcp sport 80-80 dport 1000-2000 no_track blackhole",
        ))
        .unwrap();
        assert!(r.ipv6 && r.invert);
        assert_eq!(r.to, Some(("2001:db8::".parse().unwrap(), 32)));
        assert_eq!(r.priority, Some(16));
        assert_eq!((r.fwmark, r.fwmask), (Some(7), Some(255)));
        assert_eq!(r.iif.as_deref(), Some("eth0"));
        assert_eq!(r.oif.as_deref(), Some("eth1"));
        assert_eq!(r.uid_range, Some((100, 200)));
        assert_eq!(r.ip_proto, Some(6));
        assert_eq!((r.sport, r.dport), (Some((80, 80)), Some((1000, 2000))));
        assert_eq!(r.protocol, None);
        assert_eq!(r.action, RuleActionSpec::Blackhole);
        let r = rule(&words("from all preference 10 type goto 20")).unwrap();
        assert_eq!((r.from, r.action), (None, RuleActionSpec::Goto(20)));
        let r = rule(&words(
            "lookup main realms 1/2 suppress_prefixlength 0 tos 0x10",
        ))
        .unwrap();
        assert_eq!(r.action, RuleActionSpec::Table(254));
        assert_eq!(r.realms, Some(0x0001_0002));
        assert_eq!((r.suppress_prefixlen, r.tos), (Some(0), 0x10));
    }

    #[test]
    fn keepalived_rejects_these() {
        let bad = |s: &str| rule(&words(s)).unwrap_err();
        assert_eq!(
            bad("from 10.0.0.0/8"),
            RuleError::Invalid("No action specified for rule - ignoring")
        );
        assert!(matches!(bad("table 1 nop"), RuleError::Invalid(_)));
        assert!(matches!(bad("table 0"), RuleError::Invalid(_)));
        assert!(matches!(bad("goto 5"), RuleError::Invalid(_)));
        assert!(matches!(bad("priority 9 goto 5"), RuleError::Invalid(_)));
        let skipped = |s: &str| RuleError::Skipped(s.to_owned());
        let mixed = skipped("rule specification has mixed IPv4 and IPv6");
        assert_eq!(bad("from 10.0.0.1 to ::1 table 1"), mixed);
        assert!(matches!(bad("realms 3 nop"), RuleError::Invalid(_)));
        assert_eq!(
            bad("dport 80 table 1"),
            RuleError::Invalid("invalid dport range")
        );
        assert_eq!(bad("frob table 1"), skipped("Unknown rule option frob"));
        assert_eq!(bad("to 192.168.100./24 table 1"), RuleError::Reported);
        assert_eq!(
            bad("tunnel-id 5 table 1"),
            RuleError::Unsupported("rule tunnel-id")
        );
    }

    #[test]
    fn all_any_and_default_have_no_family_as_in_keepalived() {
        let bad = |s: &str| rule(&words(s)).unwrap_err();
        let skipped = |s: &str| RuleError::Skipped(s.to_owned());
        let mixed = skipped("rule specification has mixed IPv4 and IPv6");
        // keepalived 2.2.7 skips these with an error (and runs).
        for r in [
            "from 10.6.6.6 to all table 100",
            "from 10.6.6.6 to any table 100",
            "from 10.6.6.6 to default table 100",
            "to 10.6.6.0/24 from all table 100",
            "from 10.6.6.6 from all table 100",
            "from ::1 to all table 100",
            "to default6 from 10.9.9.1 table 100",
        ] {
            assert_eq!(bad(r), mixed, "{r}");
        }
        // `inet`/`inet6` swallow the next word.
        assert_eq!(
            bad("inet from all table 100"),
            skipped("Unknown rule option all")
        );
        assert_eq!(
            bad("inet6 from 2001:db8::/32 table 100"),
            skipped("Unknown rule option 2001:db8::/32")
        );
        assert_eq!(
            bad("inet6 x inet y table 1"),
            skipped("inet specified for IPv6 rule")
        );
        // Installed: a family-less word first, or alone.
        let r = rule(&words("to all from 10.6.6.6 table 100")).unwrap();
        let v4: IpAddr = Ipv4Addr::new(10, 6, 6, 6).into();
        assert_eq!((r.from, r.to, r.ipv6), (Some((v4, 32)), None, false));
        for ok in ["to all table 100", "from all to any table 100"] {
            let r = rule(&words(ok)).unwrap();
            assert_eq!((r.from, r.to, r.ipv6), (None, None, false), "{ok}");
        }
        let r = rule(&words("from ::1 to default6 table 100")).unwrap();
        assert_eq!((r.to, r.ipv6), (None, true));
        let r = rule(&words("inet 10.1.1.1 from 10.8.8.8 table 100")).unwrap();
        assert_eq!(r.from, Some((Ipv4Addr::new(10, 8, 8, 8).into(), 32)));
    }

    #[test]
    fn a_skipped_rule_is_keepalived_s_error_and_the_rest_run() {
        let text = "static_rules {\n from 10.6.6.6 to all table 100 preference 5\n \
                    to all table 100 preference 6\n}\n\
                    vrrp_instance A {\n interface eth0\n virtual_router_id 1\n \
                    virtual_ipaddress {\n 10.9.9.9\n }\n virtual_rules {\n \
                    from 10.5.5.5 to all table 100 preference 7\n }\n}\n";
        let p = crate::parse_str("t.conf", text, &crate::Options::default());
        let s = static_rules(&p.config).unwrap();
        assert_eq!(s.iter().map(|r| r.priority).collect::<Vec<_>>(), [Some(6)]);
        let v = instance_rules(&p.config, &p.config.vrrp_instances[0]).unwrap();
        assert!(v.is_empty());
        let mut out = Vec::new();
        notes(&p, &mut out);
        let got: Vec<String> = (out.iter())
            .map(|d| format!("{:?} {}", d.code, d.display(&p.sources)))
            .collect();
        assert_eq!(
            got,
            [
                "KeepalivedError t.conf:1:1: error: rule specification has mixed IPv4 and IPv6",
                "KeepalivedError t.conf:11:2: error: rule specification has mixed IPv4 and IPv6",
            ]
        );
    }

    #[test]
    fn rules_without_preference_count_down_per_family_across_owners() {
        let text = "static_rules {\n from 10.0.0.0/8 table 1\n to 10.1.0.0/16 table 1\n \
                    to 192.168.100./24 table 1\n}\n\
                    vrrp_instance A {\n interface eth0\n virtual_router_id 1\n \
                    virtual_ipaddress {\n 10.9.9.9\n }\n virtual_rules {\n \
                    from 2001:db8::/32 table 2\n from 10.2.0.0/16 table 2\n \
                    from 10.3.0.0/16 table 2 preference 5\n }\n}\n";
        let p = crate::parse_str("t.conf", text, &crate::Options::default());
        let c = &p.config;
        let s = static_rules(c).unwrap();
        assert_eq!(
            s.iter().map(|r| r.priority).collect::<Vec<_>>(),
            [Some(16384), Some(16383)]
        );
        let v = instance_rules(c, &c.vrrp_instances[0]).unwrap();
        assert_eq!(
            v.iter().map(|r| r.priority).collect::<Vec<_>>(),
            [Some(16384), Some(16382), Some(5)]
        );
        // Each picked preference is keepalived's configuration error.
        let mut out = Vec::new();
        notes(&p, &mut out);
        let got: Vec<String> = (out.iter())
            .map(|d| format!("{:?} {}", d.code, d.display(&p.sources)))
            .collect();
        let no_pref = |at: &str, n: u32| {
            format!(
                "KeepalivedError t.conf:{at}: error: Rule has no preference specified - \
                 setting to {n}. This is probably not what you want."
            )
        };
        assert_eq!(
            got,
            [
                no_pref("2:2", 16384),
                no_pref("3:2", 16383),
                no_pref("13:2", 16384),
                no_pref("14:2", 16382),
            ]
        );
    }
}
