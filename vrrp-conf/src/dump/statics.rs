//! The DATA dump's "Static Addresses", "Static Routes" and "Static Rules"
//! sections as keepalived 2.2.7 writes them (`dump_vrrp_data` with
//! `format_ipaddress`, `format_iproute` and `format_iprule`), from the
//! plan's `static_ipaddress`, `static_routes` and `static_rules`.
//!
//! The plan has most of what they show; the configuration's words give
//! the rest (`track_group`, `from all`). Not shown: `encap` options.

mod route;
mod rule;

use std::fmt::Write as _;

use super::vrrp::address;
use crate::convert::vrrp::Plan;
use crate::model::Words;
use crate::Config;
use route::route;
use rule::rule;

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
}
