//! `static_rules` and `virtual_rules`: `ip rule` words to the driver's
//! [`RuleSpec`], as keepalived 2.2.7 reads them (vrrp_iprule.c).
//!
//! keepalived 2.2.7 skips a rule it cannot read with a configuration
//! error and runs; so does this ([`notes`]: `-t` exits 5, start-up logs
//! the lines at the rule and runs without it) for keepalived's errors from
//! `alloc_rule`: mixed families (`all`, `any` and `default` have no family,
//! and only the first family-setting word may leave it unset), a table
//! keepalived cannot find or 0, a bad preference, TOS, fwmark, realm,
//! suppressor, uid range or goto target, two actions, a route type that is
//! no rule action, an unknown option (also the word after `inet`/`inet6`,
//! which keepalived swallows), a goto without a lower preference, no
//! action, and a realm or suppressor without a table; a `from`/`to`
//! that is no address (a bad prefix length is its error, and the full
//! length is used, as keepalived's `-t` does). A bad `protocol`, `ipproto` or port range (keepalived drops the option
//! and installs a broader rule) is refused with keepalived's reason. A rule without a preference gets one
//! (keepalived's configuration error, as [`notes`] says), counting down from
//! 16384 per family in configuration order (`static_rules` first, then
//! the instances), as keepalived numbers them; every rule not marked
//! `no_track` is owned by protocol 18 (keepalived). `track_group NAME` is
//! read on `static_rules` only (see `track_group.rs`); elsewhere it is an
//! unknown option, as in keepalived.

mod read;

use vrrp::linux::RuleSpec;

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
    /// An option keepalived-lite does not implement.
    Unsupported(&'static str),
    /// keepalived rejects the rule, for this reason.
    Invalid(&'static str),
    /// keepalived logs these configuration errors, skips the rule and runs.
    Skipped(Vec<String>),
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
            // Reported by `notes`.
            Err(RuleError::Skipped(_)) => {}
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
/// and for those it installs changed ([`kept_errors`]), at the rule's line.
pub(crate) fn notes(p: &Parsed, out: &mut Vec<Diagnostic>) {
    let c = &p.config;
    let top = super::super::key_span(Some(&p.spans.top), "static_rules");
    let own = |sp: Option<&ObjSpans>, k: usize, at| {
        sp.and_then(|s| s.rules.get(k).copied()).unwrap_or(at)
    };
    let statics = (c.static_rules.iter().enumerate()).map(|(k, w)| {
        (
            own(Some(&p.spans.top), k, top),
            w,
            read::read_noted(w, true),
        )
    });
    let virtuals = c.vrrp_instances.iter().enumerate().flat_map(|(n, i)| {
        let sp = p.spans.instances.get(n);
        let at = super::super::key_span(sp, "virtual_rules");
        (i.virtual_rules.iter().enumerate())
            .map(move |(k, w)| (own(sp, k, at), w, read::read_noted(w, false)))
    });
    let mut counter = Counter::default();
    let groups = super::track_group::known(c);
    for (at, words, parsed) in statics.chain(virtuals) {
        let lines = match parsed {
            Err(RuleError::Skipped(lines)) => lines,
            Ok((r, mut lines)) => {
                lines.extend(kept_errors(words, &r, &groups, &mut counter));
                lines
            }
            Err(_) => continue,
        };
        for msg in lines {
            out.push(Diagnostic::error(Code::KeepalivedError, at, msg));
        }
    }
}

/// keepalived's lines for the rules it stops reading at a `dev`, `iif` or
/// `oif` naming an interface `exists` denies (see
/// [`super::missing_rule_interfaces`]), all of each such rule's lines at
/// its line, then its closing line (at the last such rule).
pub(crate) fn missing_interfaces(p: &Parsed, exists: read::Exists<'_>) -> Vec<Diagnostic> {
    let c = &p.config;
    let top = super::super::key_span(Some(&p.spans.top), "static_rules");
    let own = |sp: Option<&ObjSpans>, k: usize, at| {
        sp.and_then(|s| s.rules.get(k).copied()).unwrap_or(at)
    };
    let statics = (c.static_rules.iter().enumerate())
        .map(|(k, w)| (own(Some(&p.spans.top), k, top), w, true));
    let virtuals = c.vrrp_instances.iter().enumerate().flat_map(|(n, i)| {
        let sp = p.spans.instances.get(n);
        let at = super::super::key_span(sp, "virtual_rules");
        (i.virtual_rules.iter().enumerate()).map(move |(k, w)| (own(sp, k, at), w, false))
    });
    let mut out = Vec::new();
    for (at, words, is_static) in statics.chain(virtuals) {
        for line in read::missing_interface(words, is_static, exists)
            .into_iter()
            .flatten()
        {
            out.push(Diagnostic::error(Code::MissingInterface, at, line));
        }
    }
    if let Some(last) = out.last().map(|d| d.span) {
        let msg = "Non-existent interface specified in configuration";
        out.push(Diagnostic::error(Code::MissingInterface, last, msg));
    }
    out
}

/// keepalived's configuration errors for a rule it installs (`-t` exits
/// 5, the daemon runs with it), after those about its addresses
/// ([`read::read_noted`]), in its order: while reading, a track group
/// not in `groups` (the rule is untracked) and a second `track_group`
/// (which ends the rule); then a tracked rule's `protocol` other than
/// keepalived's is reset, a `track_group` without `iif` tracks nothing,
/// and a missing preference is numbered (`counter`, in keepalived's order
/// of the rules it keeps).
fn kept_errors(
    words: &[String],
    r: &RuleSpec,
    groups: &[String],
    counter: &mut Counter,
) -> Vec<String> {
    let mut lines = Vec::new();
    let group = (words.windows(2).find(|w| w[0] == "track_group")).map(|w| &w[1]);
    let unknown = group.is_some_and(|g| !groups.contains(g));
    if let Some(g) = group.filter(|_| unknown) {
        lines.push(format!("track_group {g} not found"));
    }
    lines.extend(read::second_track_group(words));
    if read::protocol_reset(words) {
        lines.push(format!(
            "Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED({PROTO_KEEPALIVED}), \
             resetting protocol"
        ));
    }
    // Only static rules that name a known track group are installed with it.
    if r.iif.is_none() && group.is_some() && !unknown {
        lines.push("Static rule cannot have track_group if dev/iif not specified".to_owned());
    }
    if r.priority.is_none() {
        lines.push(format!(
            "Rule has no preference specified - setting to {}. \
             This is probably not what you want.",
            counter.next(r.ipv6)
        ));
    }
    lines
}

/// One rule's words as keepalived reads them (`track_group` refused). The
/// preference is left `None` when not written (the caller numbers it).
pub(crate) fn rule(words: &[String]) -> Result<RuleSpec, RuleError> {
    read::read(words, false)
}

/// One rule of `static_rules`, which may name a `track_group`.
pub(crate) fn static_rule(words: &[String]) -> Result<RuleSpec, RuleError> {
    read::read(words, true)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use vrrp::linux::RuleActionSpec;

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
            bad("dport 80 table 1"),
            RuleError::Invalid("invalid dport range")
        );
        assert_eq!(
            bad("tunnel-id 5 table 1"),
            RuleError::Unsupported("rule tunnel-id")
        );
        assert_eq!(
            bad("from 10.6.6.6 table 100 preference 1 protocol x"),
            RuleError::Invalid("Invalid protocol")
        );
    }

    /// Each rule with the lines keepalived 2.2.7's `-t` printed for it
    /// (exit 5, the rule skipped).
    const SKIPPED: &[(&str, &[&str])] = &[
        ("from 10.0.0.0/8 preference 1", &["No action specified for rule - ignoring"]),
        ("from 10.6.6.6 table nosuch preference 100", &["Routing table nosuch not found for rule"]),
        ("from 10.6.6.6 table 0 preference 100", &["Table 0 is not valid"]),
        ("from 10.6.6.6 nop table 100 preference 100", &["Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable for rule"]),
        ("from 10.6.6.6 table 100 nop preference 100", &["Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule"]),
        ("from 10.6.6.6 table 100 preference 100 l3mdev", &["Cannot specify l3mdev with other action"]),
        ("from 10.6.6.6 table 100 preference x", &["invalid number 'x'", "Invalid rule preference preference specified"]),
        ("from 10.6.6.6 table 100 preference 99999999999", &["number '99999999999' outside unsigned integer range", "Invalid rule preference preference specified"]),
        ("from 10.6.6.6 table 100 preference -1", &["negative number '-1'", "Invalid rule preference preference specified"]),
        ("from 10.6.6.6 table 100 order 1.5", &["invalid number '1.5'", "Invalid rule preference order specified"]),
        ("from 10.6.6.6 table 100 preference 0x", &["invalid number '0x'", "Invalid rule preference preference specified"]),
        ("from 10.6.6.6 table 100 preference 100 tos 999", &["TOS value 999 is invalid"]),
        ("from 10.6.6.6 table 100 tos 5x preference 100", &["TOS value 5x is invalid"]),
        ("from 10.6.6.6 table 100 preference 100 fwmark x", &["Invalid rule fwmark x specified"]),
        ("from 10.6.6.6 table 100 preference 100 fwmark -1", &["Invalid rule fwmark -1 specified"]),
        ("from 10.6.6.6 table 100 preference 100 realms x", &["invalid realms x for rule"]),
        ("from 10.6.6.6 table 100 preference 5 realms 300", &["invalid realms 300 for rule"]),
        ("from 10.6.6.6 table 100 preference 6 realms 3/300", &["invalid realms 3/300 for rule"]),
        ("from ::1 table 100 preference 100 realms 3", &["realms is only valid for IPv4"]),
        ("from 10.6.6.6 table 100 preference 100 sup_pl x", &["invalid number 'x'", "Invalid suppress_prefixlength sup_pl specified"]),
        ("from 10.6.6.6 table 100 preference 100 sup_pl 3000000000", &["number '3000000000' outside range [0, 2147483647]", "Invalid suppress_prefixlength sup_pl specified"]),
        ("from 10.6.6.6 table 100 preference 12 sup_pl 0x10", &["invalid number '0x10'", "Invalid suppress_prefixlength sup_pl specified"]),
        ("from 10.6.6.6 table 100 preference 100 sup_group x", &["suppress_group x is invalid"]),
        ("from 10.6.6.6 table 100 preference 100 uidrange x", &["Invalid uidrange uidrange specified"]),
        ("from 10.6.6.6 table 100 preference 14 uidrange 1-x", &["Invalid uidrange uidrange specified"]),
        ("from 10.6.6.6 goto x preference 100", &["invalid number 'x'", "Invalid target goto specified"]),
        ("from 10.6.6.6 preference 100 goto 1x", &["invalid number '1x'", "Invalid target goto specified"]),
        ("from 10.6.6.6 type local preference 100", &["Invalid rule action local"]),
        ("from 10.6.6.6 preference 7 type 5", &["Invalid rule action 5"]),
        ("from 10.6.6.6 table 100 goto 200 preference 100", &["Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule"]),
        ("from 10.6.6.6 preference 100 goto 50", &["Invalid rule - preference 100 >= goto target 50"]),
        ("from 10.6.6.6 preference 100 goto 010", &["Invalid rule - preference 100 >= goto target 10"]),
        ("from 10.6.6.6 goto 50", &["Invalid rule - goto target 50 specified without preference"]),
        ("from 10.6.6.6 preference 100", &["No action specified for rule - ignoring"]),
        ("from 10.6.6.6 nop realms 3 preference 100", &["suppressor/realm specified for non table action - skipping"]),
        ("from 10.6.6.6 nop preference 100 sup_pl 0", &["suppressor/realm specified for non table action - skipping"]),
        ("frob table 1", &["Unknown rule option frob"]),
        ("from 10.0.0.1 to ::1 table 1", &["rule specification has mixed IPv4 and IPv6"]),
        ("from 10.5.0.300/16 table 100 preference 10", &["VRRP parsed invalid IP 10.5.0.300/16. skipping IP...", "Invalid rule from address 10.5.0.300/16"]),
        ("to 10.5.0.x table 100 preference 10", &["VRRP parsed invalid IP 10.5.0.x. skipping IP...", "Invalid rule to address 10.5.0.x"]),
        ("to 192.168.100./24 table 1", &["VRRP parsed invalid IP 192.168.100./24. skipping IP...", "Invalid rule to address 192.168.100./24"]),
        ("from 10.1.1.1/40 to 10.5.x/8 table 100 preference 10", &["number '40' outside range [0, 32]", "Invalid address prefix len 40 for address 10.1.1.1/40 - using 32", "VRRP parsed invalid IP 10.5.x/8. skipping IP...", "Invalid rule to address 10.5.x/8"]),
        ("from 10.1.1.1/8 to 2001:db8::1 table 100 preference 10", &["rule specification has mixed IPv4 and IPv6"]),
    ];

    /// A bad prefix length: keepalived 2.2.7's `-t` lines (exit 5) and the
    /// family's full length, the rule installed.
    #[test]
    fn a_bad_prefix_length_is_an_error_and_the_full_length_is_used() {
        let cases: [(&str, (IpAddr, u8), &[&str]); 5] = [
            (
                "from 10.5.0.0/40",
                (Ipv4Addr::new(10, 5, 0, 0).into(), 32),
                &[
                    "number '40' outside range [0, 32]",
                    "Invalid address prefix len 40 for address 10.5.0.0/40 - using 32",
                ],
            ),
            (
                "to 2001:db8::/200",
                ("2001:db8::".parse().unwrap(), 128),
                &[
                    "number '200' outside range [0, 128]",
                    "Invalid address prefix len 200 for address 2001:db8::/200 - using 128",
                ],
            ),
            (
                "to 2001:db8::/x",
                ("2001:db8::".parse().unwrap(), 128),
                &[
                    "invalid number 'x'",
                    "Invalid address prefix len x for address 2001:db8::/x - using 128",
                ],
            ),
            (
                "to 10.1.1.1/-1",
                (Ipv4Addr::new(10, 1, 1, 1).into(), 32),
                &[
                    "negative number '-1'",
                    "Invalid address prefix len -1 for address 10.1.1.1/-1 - using 32",
                ],
            ),
            // An empty length is C's 0, no error (keepalived -t exits 0).
            ("to 10.1.1.1/", (Ipv4Addr::new(10, 1, 1, 1).into(), 0), &[]),
        ];
        for (addr, want, lines) in cases {
            let w = words(&format!("{addr} table 100 preference 10"));
            let (r, notes) = read::read_noted(&w, false).unwrap();
            let got = if addr.starts_with("from") {
                r.from
            } else {
                r.to
            };
            assert_eq!(got, Some(want), "{addr}");
            assert_eq!(notes, lines, "{addr}");
        }
    }

    #[test]
    fn rules_keepalived_skips_give_its_lines() {
        for (text, want) in SKIPPED {
            let got = rule(&words(text));
            let want: Vec<String> = want.iter().map(|l| (*l).to_owned()).collect();
            assert_eq!(got, Err(RuleError::Skipped(want)), "{text}");
        }
    }

    #[test]
    fn rules_keepalived_2_2_7_installs_are_read() {
        // Measured with keepalived 2.2.7's -t: no error for these.
        let ok = |s: &str| rule(&words(s)).unwrap();
        assert_eq!(
            ok("from 10.6.6.6 preference 8 7").action,
            RuleActionSpec::Unreachable
        );
        assert_eq!(
            ok("from 10.6.6.6 preference 8 type 6").action,
            RuleActionSpec::Blackhole
        );
        let r = ok("from 10.6.6.6 preference 9 l3mdev realms 4");
        assert_eq!((r.action, r.realms), (RuleActionSpec::L3mdev, Some(4)));
        assert_eq!(
            ok("from 10.6.6.6 table 100 preference 010").priority,
            Some(8)
        );
        let r = ok("from 10.6.6.6 table 0x64 preference 13 sup_group 0x10 fwmark 0x10/0xf0");
        assert_eq!(r.action, RuleActionSpec::Table(100));
        assert_eq!(r.suppress_ifgroup, Some(16));
        assert_eq!((r.fwmark, r.fwmask), (Some(16), Some(0xf0)));
        assert_eq!(
            ok("from 10.6.6.6 preference 1 goto 010").action,
            RuleActionSpec::Goto(10)
        );
        assert_eq!(
            ok("table 1 realms 255/255 preference 2").realms,
            Some(0x00ff_00ff)
        );
    }

    #[test]
    fn all_any_and_default_have_no_family_as_in_keepalived() {
        let bad = |s: &str| rule(&words(s)).unwrap_err();
        let skipped = |s: &str| RuleError::Skipped(vec![s.to_owned()]);
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

    /// keepalived 2.2.7's -t lines for rules naming interfaces the host
    /// lacks (measured: exit 5; its start-up stops); none after an error
    /// that ends the rule first, and none with `dynamic_interfaces`.
    #[test]
    fn rules_on_missing_interfaces_are_keepalived_s_errors() {
        let rules = "static_rules {\n from 10.5.0.0/40 iif no0 table 100\n \
                     from 10.6.0.0/16 table nosuch oif no1 preference 5\n \
                     from 10.7.0.0/16 iif eth0 table 100 preference 6\n}\n\
                     vrrp_instance A {\n interface eth0\n virtual_router_id 1\n \
                     virtual_ipaddress {\n 10.9.9.9\n }\n virtual_rules {\n \
                     from 10.5.5.5 table 100 oif no2 preference 7\n }\n}\n";
        let exists = |name: &str| name == "eth0";
        let got = |text: &str| {
            let p = crate::parse_str("t.conf", text, &crate::Options::default());
            (super::super::missing_rule_interfaces(&p, &exists).iter())
                .map(|d| format!("{:?} {}", d.code, d.display(&p.sources)))
                .collect::<Vec<_>>()
        };
        let at = |l: &str, m: &str| format!("MissingInterface t.conf:{l}: error: {m}");
        assert_eq!(
            got(rules),
            [
                at("2:2", "number '40' outside range [0, 32]"),
                at(
                    "2:2",
                    "Invalid address prefix len 40 for address 10.5.0.0/40 - using 32"
                ),
                at("2:2", "WARNING - interface no0 for rule doesn't exist"),
                at("13:2", "WARNING - interface no2 for rule doesn't exist"),
                at("13:2", "Non-existent interface specified in configuration"),
            ]
        );
        let dynamic = format!("global_defs {{\n dynamic_interfaces\n}}\n{rules}");
        assert_eq!(got(&dynamic), [] as [String; 0]);
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
                "KeepalivedError t.conf:2:2: error: rule specification has mixed IPv4 and IPv6",
                "KeepalivedError t.conf:12:2: error: rule specification has mixed IPv4 and IPv6",
            ]
        );
    }

    #[test]
    fn skipped_rules_are_not_numbered_and_a_reset_protocol_is_an_error() {
        // keepalived 2.2.7's -t printed these five lines for it (exit 5).
        let text = "static_rules {\n from 10.6.6.6 table nosuch\n \
                    from 10.6.6.7 table 100 protocol 5\n \
                    from 10.6.6.8 table 100 preference 1x\n \
                    from 10.6.6.9 table 100 no_track protocol 5 preference 3\n}\n";
        let p = crate::parse_str("t.conf", text, &crate::Options::default());
        let s = static_rules(&p.config).unwrap();
        let got: Vec<_> = s.iter().map(|r| (r.priority, r.protocol)).collect();
        assert_eq!(got, [(Some(16384), Some(18)), (Some(3), Some(5))]);
        let mut out = Vec::new();
        notes(&p, &mut out);
        let got: Vec<String> = (out.iter())
            .map(|d| format!("{:?} {}", d.code, d.display(&p.sources)))
            .collect();
        let at = |l: u32, m: &str| format!("KeepalivedError t.conf:{l}:2: error: {m}");
        assert_eq!(
            got,
            [
                at(2, "Routing table nosuch not found for rule"),
                at(
                    3,
                    "Rule cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), \
                     resetting protocol"
                ),
                at(
                    3,
                    "Rule has no preference specified - setting to 16384. \
                     This is probably not what you want."
                ),
                at(4, "invalid number '1x'"),
                at(4, "Invalid rule preference preference specified"),
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
                "KeepalivedError t.conf:4:2: error: VRRP parsed invalid IP 192.168.100./24. \
                 skipping IP..."
                    .to_owned(),
                "KeepalivedError t.conf:4:2: error: Invalid rule to address 192.168.100./24"
                    .to_owned(),
                no_pref("13:2", 16384),
                no_pref("14:2", 16382),
            ]
        );
    }
}
