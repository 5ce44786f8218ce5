//! keepalived 2.2.7's static track groups: a root
//! `track_group NAME { group { INSTANCE ... } }` named on a
//! `static_ipaddress` entry (`... track_group NAME`) makes every instance
//! of the group track that address's interface with weight 0: FAULT while
//! it is down. An instance tracking it already (`track_interface` with a
//! weight) gets weight 0 too, as keepalived merges them. Entries with
//! `no_track` are not tracked (keepalived logs "Static address has both
//! track_group and no_track set - not tracking"); names of missing
//! instances are skipped (keepalived logs "... doesn't exist - ignoring").
//!
//! The same on `static_routes` (the route's `dev`; none without one) and
//! on `static_rules` (the rule's `iif`; none without one), as keepalived's
//! `static_track_group_init` does: the route or rule itself is installed
//! as without the group. `virtual_routes` and `virtual_rules` do not take
//! `track_group` (keepalived: an unknown option, the entry is skipped).
//! A group that is not defined is keepalived's configuration error
//! ("track_group NAME not found", `-t` exits 5) and the entry is installed
//! untracked.

use super::{PlanError, Tracked, Unit};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{Config, Setting};
use crate::Parsed;

/// The groups of the top level: name and member instance names.
pub(super) fn groups(top: &[Setting], errors: &mut Vec<PlanError>) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for s in top.iter().filter(|s| s.keyword == "track_group") {
        // keepalived: "track_group must have a name - skipping", "track_group
        // NAME already defined" (errors cited at the last block so named).
        let refuse = |name: &str, reason| PlanError::Refused {
            instance: name.to_owned(),
            keyword: "track_group",
            reason,
        };
        let [name] = s.args.as_slice() else {
            let name = s.args.first().map_or("", String::as_str);
            errors.push(refuse(name, "track_group must have a name - skipping"));
            continue;
        };
        if out.iter().any(|(n, _)| n == name) {
            errors.push(refuse(name, "track_group already defined"));
            continue;
        }
        let lines = s.block.iter().flatten().filter(|g| g.keyword == "group");
        let members = lines
            .flat_map(|g| g.block.iter().flatten())
            .flat_map(|m| std::iter::once(&m.keyword).chain(&m.args))
            .cloned()
            .collect();
        out.push((name.clone(), members));
    }
    out
}

/// The group a static entry's words name, if any.
fn named(other: &[String]) -> Option<&str> {
    let at = other.iter().position(|o| o == "track_group")?;
    Some(other.get(at + 1).map_or("", String::as_str))
}

/// A static entry naming a track group: the group, the
/// interface it would track and whether it has `no_track`.
struct Entry<'a> {
    group: &'a str,
    dev: Option<String>,
    no_track: bool,
}

/// The static addresses (on `dev`, else `default_dev`), routes (`dev`)
/// and rules (`iif`) of `c` that name a track group; entries that do not
/// convert are left out (they are refused where they convert).
fn entries<'a>(c: &'a Config, default_dev: &str) -> Vec<Entry<'a>> {
    let no_track = |w: &[String]| w.iter().any(|o| o == "no_track");
    let mut out = Vec::new();
    for a in &c.static_ipaddress {
        if let Some(group) = named(&a.other) {
            let dev = Some(a.dev.as_deref().unwrap_or(default_dev).to_owned());
            out.push(Entry {
                group,
                dev,
                no_track: no_track(&a.other),
            });
        }
    }
    for r in &c.static_routes {
        let (Some(group), Ok(route)) = (named(&r.other), super::route("static_routes", r)) else {
            continue;
        };
        let (dev, no_track) = (route.dev, route.no_track);
        out.push(Entry {
            group,
            dev,
            no_track,
        });
    }
    for w in &c.static_rules {
        let (Some(group), Ok(rule)) = (named(w), super::rules::static_rule(w)) else {
            continue;
        };
        let dev = rule.iif;
        out.push(Entry {
            group,
            dev,
            no_track: no_track(w),
        });
    }
    out
}

/// (instance, interface) pairs to track, for the static addresses, routes
/// and rules with `track_group`.
pub(super) fn static_tracks(
    c: &Config,
    groups: &[(String, Vec<String>)],
    default_dev: &str,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for e in entries(c, default_dev) {
        // keepalived installs the entry untracked ([`notes`] has its line).
        let Some((_, members)) = groups.iter().find(|(n, _)| n == e.group) else {
            continue;
        };
        let Some(dev) = e.dev.filter(|_| !e.no_track) else {
            continue;
        };
        out.extend(members.iter().map(|m| (m.clone(), dev.clone())));
    }
    out
}

/// keepalived's configuration error for a static address or route naming
/// a track group that is not defined, at the entry's line: it installs the
/// entry untracked (for rules see `rules::notes`).
pub(super) fn notes(p: &Parsed, out: &mut Vec<Diagnostic>) {
    let names = known(&p.config);
    let spans = &p.spans.top.statics;
    let addresses = (p.config.static_ipaddress.iter()).map(|a| named(&a.other));
    let routes = (p.config.static_routes.iter())
        .map(|r| named(&r.other).filter(|_| super::route("static_routes", r).is_ok()));
    let at = addresses
        .zip(spans.addresses.iter())
        .chain(routes.zip(spans.routes.iter()));
    for (group, span) in at {
        if let Some(g) = group.filter(|g| !names.iter().any(|n| n == g)) {
            let msg = format!("track_group {g} not found");
            out.push(Diagnostic::error(Code::KeepalivedError, *span, msg));
        }
    }
}

/// The names of the track groups `c` defines.
pub(super) fn known(c: &Config) -> Vec<String> {
    let groups = groups(&c.other, &mut Vec::new());
    groups.into_iter().map(|(n, _)| n).collect()
}

/// Adds the tracked interfaces to the instances they name (weight 0,
/// merged into an existing entry); an instance's own interface is
/// watched by the driver already.
pub(super) fn apply(units: &mut [Unit], tracks: &[(String, String)]) {
    for u in units {
        for (plan, spec) in u.instances.iter_mut().zip(&u.setup.routers) {
            let mine = tracks.iter().filter(|(i, _)| *i == plan.name);
            for (_, dev) in mine.filter(|(_, d)| *d != spec.interface) {
                match plan.interfaces.iter_mut().find(|t| t.name == *dev) {
                    Some(t) => (t.weight, t.reverse) = (0, false),
                    None => plan.interfaces.push(Tracked {
                        name: dev.clone(),
                        weight: 0,
                        reverse: false,
                    }),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use crate::convert::{convert, Converted, Halves};
    use crate::{parse_str, Options};

    const VRRP: Halves = Halves {
        vrrp: true,
        lvs: false,
    };

    fn converted(text: &str) -> (Converted, Vec<String>) {
        let parsed = parse_str("k.conf", text, &Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let out = convert(&parsed, VRRP);
        let d = (out.diagnostics.iter())
            .map(|d| d.display(&parsed.sources).to_string())
            .collect();
        (out, d)
    }

    const INSTANCES: &str = "vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  \
        track_interface {\n    eth1 weight 10\n  }\n  virtual_ipaddress {\n    192.0.2.1\n  }\n}\n\
        vrrp_instance B {\n  interface eth0\n  virtual_router_id 2\n  \
        virtual_ipaddress {\n    192.0.2.2\n  }\n}\n";

    /// Every instance's tracked interfaces (name, weight).
    fn tracked(out: &Converted) -> Vec<(String, Vec<(String, i32)>)> {
        let plan = out.vrrp.as_ref().unwrap();
        (plan.units.iter().flat_map(|u| &u.instances))
            .map(|i| {
                let t = i.interfaces.iter().map(|t| (t.name.clone(), t.weight));
                (i.name.clone(), t.collect())
            })
            .collect()
    }

    #[test]
    fn the_group_tracks_the_interface_of_its_static_addresses_with_weight_0() {
        let text = format!(
            "track_group TG {{\n  group {{\n    A B\n    C\n  }}\n}}\n{INSTANCES}\
             static_ipaddress {{\n  10.9.9.9/32 dev eth1 track_group TG\n  \
             10.9.9.10/32 track_group TG\n  10.9.9.11/32 dev eth2 track_group TG no_track\n}}\n"
        );
        let (out, d) = converted(&text);
        assert_eq!(d, [] as [String; 0]);
        let s = |n: &str| n.to_owned();
        // eth0 (the default interface) is both instances' own: watched
        // already; eth2's entry has no_track; C does not exist.
        assert_eq!(
            tracked(&out),
            [
                (s("A"), vec![(s("eth1"), 0)]),
                (s("B"), vec![(s("eth1"), 0)])
            ]
        );
        let setup = out.vrrp.unwrap().setup();
        assert_eq!(setup.watch_interfaces, ["eth1"]);
    }

    #[test]
    fn unknown_and_duplicate_groups_are_errors() {
        let text = format!(
            "track_group TG {{\n  group {{\n    A\n  }}\n}}\ntrack_group TG {{\n}}\n{INSTANCES}\
             static_ipaddress {{\n  10.9.9.9/32 dev eth1 track_group NONE\n}}\n"
        );
        let (out, d) = converted(&text);
        // The group defined twice is refused; the unknown one is
        // keepalived's configuration error at the address's line.
        assert!(out.vrrp.is_none());
        assert_eq!(
            d,
            [
                "k.conf:6:1: error: (TG) track_group already defined",
                "k.conf:26:3: error: track_group NONE not found"
            ]
        );
    }

    #[test]
    fn static_routes_and_rules_track_their_dev_and_iif() {
        let text = format!(
            "track_group TG {{\n  group {{\n    A\n  }}\n}}\ntrack_group TB {{\n  group {{\n    B\n  }}\n}}\n\
             {INSTANCES}static_routes {{\n  10.8.0.0/16 dev eth2 track_group TG\n  \
             10.7.0.0/16 via 10.0.0.9 track_group TB\n  10.6.0.0/16 dev eth4 track_group TB no_track\n}}\n\
             static_rules {{\n  from 10.5.0.0/16 iif eth3 table 100 preference 10 track_group TB\n  \
             from 10.4.0.0/16 table 100 preference 11\n}}\n"
        );
        let (out, d) = converted(&text);
        assert_eq!(d, [] as [String; 0]);
        let s = |n: &str| n.to_owned();
        // A keeps its own eth1 (weight 10) and gets the route's eth2; B
        // gets the rule's iif only: the other route has no dev, the
        // third no_track.
        assert_eq!(
            tracked(&out),
            [
                (s("A"), vec![(s("eth1"), 10), (s("eth2"), 0)]),
                (s("B"), vec![(s("eth3"), 0)])
            ]
        );
        let plan = out.vrrp.unwrap();
        assert_eq!(plan.static_routes.len(), 3);
        assert_eq!(plan.static_rules.len(), 2);
    }

    #[test]
    fn track_group_on_routes_and_rules_checked_as_keepalived_checks_it() {
        let statics = "static_routes {\n  10.8.0.0/16 dev eth2 track_group TG track_group TG\n}\n";
        let text = format!("track_group TG {{\n  group {{\n    A\n  }}\n}}\n{INSTANCES}{statics}");
        let (out, d) = converted(&text);
        assert!(out.vrrp.is_none());
        assert_eq!(
            d,
            ["k.conf:23:1: error: (static_routes) route \"TG\" is not supported by keepalived-lite"]
        );
        // A group that is not defined: keepalived 2.2.7 -t says so at the
        // entry's line (exit 5) and the daemon installs it untracked.
        let s = |n: &str| n.to_owned();
        for (statics, addresses, routes, rules) in [
            ("static_ipaddress {\n  10.9.0.1/32 dev eth2 track_group NONE\n}\n", 1, 0, 0),
            ("static_routes {\n  10.8.0.0/16 dev eth2 track_group NONE\n}\n", 0, 1, 0),
            (
                "static_rules {\n  from 10.5.0.0/16 iif eth3 table 100 preference 10 track_group NONE\n}\n",
                0,
                0,
                1,
            ),
        ] {
            let text =
                format!("track_group TG {{\n  group {{\n    A\n  }}\n}}\n{INSTANCES}{statics}");
            let (out, d) = converted(&text);
            assert_eq!(d, ["k.conf:24:3: error: track_group NONE not found"], "{statics}");
            assert_eq!(
                tracked(&out),
                [(s("A"), vec![(s("eth1"), 10)]), (s("B"), vec![])],
                "{statics}"
            );
            let plan = out.vrrp.unwrap();
            let got = (plan.static_addresses.len(), plan.static_routes.len());
            assert_eq!((got, plan.static_rules.len()), ((addresses, routes), rules));
        }
        // Not on virtual routes and rules: keepalived skips them with an
        // error (an unknown option) and runs. keepalived-lite refuses the
        // route, and skips the rule as keepalived does.
        for (block, want, runs) in [
            (
                "virtual_routes {\n    10.8.0.0/16 dev eth2 track_group TG\n  }",
                "k.conf:12:3: error: (A) route \"track_group\" is not supported by keepalived-lite",
                false,
            ),
            (
                "virtual_rules {\n    from 10.5.0.0/16 table 100 track_group TG\n  }",
                "k.conf:13:5: error: Unknown rule option track_group",
                true,
            ),
        ] {
            let inst = INSTANCES.replacen(
                "  virtual_ipaddress",
                &format!("  {block}\n  virtual_ipaddress"),
                1,
            );
            let text = format!("track_group TG {{\n  group {{\n    A\n  }}\n}}\n{inst}");
            let (out, d) = converted(&text);
            assert_eq!(out.vrrp.is_some(), runs, "{block}");
            assert_eq!(d, [want], "{block}");
        }
        // Without iif keepalived 2.2.7 says so and installs the rule, which
        // tracks nothing (its -t exits 5 with this line).
        let text = format!(
            "track_group TG {{\n  group {{\n    A\n  }}\n}}\n{INSTANCES}static_rules {{\n  \
             from 10.5.0.0/16 table 100 preference 10 track_group TG\n}}\n"
        );
        let (out, d) = converted(&text);
        assert_eq!(
            d,
            ["k.conf:24:3: error: Static rule cannot have track_group if dev/iif not specified"]
        );
        let s = |n: &str| n.to_owned();
        assert_eq!(
            tracked(&out),
            [(s("A"), vec![(s("eth1"), 10)]), (s("B"), vec![])]
        );
        assert_eq!(out.vrrp.unwrap().static_rules.len(), 1);
        // A second track_group: keepalived 2.2.7 says so and installs the
        // rule read up to there (the preference after it is not read), its
        // two lines in this order (keepalived -t measured).
        let text = format!(
            "track_group TG {{\n  group {{\n    A\n  }}\n}}\n{INSTANCES}static_rules {{\n  \
             from 10.5.0.0/16 iif eth3 table 100 track_group TG track_group TB preference 10\n}}\n"
        );
        let (out, d) = converted(&text);
        let at = "k.conf:24:3: error:";
        assert_eq!(
            d,
            [
                format!("{at} track_group TB is a duplicate"),
                format!("{at} Rule has no preference specified - setting to 16384. This is probably not what you want."),
            ]
        );
        assert_eq!(
            tracked(&out),
            [
                (s("A"), vec![(s("eth1"), 10), (s("eth3"), 0)]),
                (s("B"), vec![])
            ]
        );
        let rules = out.vrrp.unwrap().static_rules;
        assert_eq!(
            rules.iter().map(|r| r.priority).collect::<Vec<_>>(),
            [Some(16384)]
        );
    }
}
