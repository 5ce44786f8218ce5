//! The DATA dump's "Gratuitous ARP delays" section as keepalived 2.2.7
//! writes it (`dump_garp_delay_list`): one group per `garp_group`, in
//! configuration order, then, with a global `vrrp_garp_interval` or
//! `vrrp_gna_interval`, one per interface an instance uses that no group
//! names (keepalived's `set_default_garp_delay`), each with its spacing,
//! when the next announcement may leave, and its interfaces in the host's
//! interface order.

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use super::c_g;
use super::vrrp::Instance;
use super::Host;
use crate::convert::vrrp::garp::micros;
use crate::model::Setting;
use crate::Config;

/// When a group's next gratuitous ARP and NA may leave (keepalived's
/// `garp_next_time`, `gna_next_time`), as the daemon knows them; None:
/// none spaced yet (keepalived's zero).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NextTimes {
    /// The next gratuitous ARP.
    pub garp: Option<SystemTime>,
    /// The next unsolicited Neighbour Advertisement.
    pub gna: Option<SystemTime>,
}

/// One group as keepalived keeps it.
#[derive(Debug, Default)]
struct Group {
    /// `interfaces { }` groups are numbered from 1; others are 0.
    number: usize,
    /// Microseconds, if set.
    garp: Option<u64>,
    gna: Option<u64>,
    interfaces: Vec<String>,
}

/// The section (empty if keepalived has no group); `next` holds the
/// groups' [`NextTimes`] in the section's order (missing ones: zero).
pub fn data(
    config: &Config,
    instances: &[Instance<'_>],
    next: &[NextTimes],
    host: &dyn Host,
) -> String {
    let mut groups = configured(&config.other);
    defaults(config, instances, &mut groups);
    if groups.is_empty() {
        return String::new();
    }
    let mut out = String::from("------< Gratuitous ARP delays >------\n");
    for (n, g) in groups.iter_mut().enumerate() {
        let times = next.get(n).copied().unwrap_or_default();
        group(&mut out, g, times, host);
    }
    out
}

/// The `garp_group` blocks that keepalived keeps: those with a delay (an
/// interface in two groups is refused by the conversion).
fn configured(top: &[Setting]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for b in top.iter().filter(|s| s.keyword == "garp_group") {
        let mut g = Group::default();
        for s in b.block.iter().flatten() {
            let arg = s.args.first().map_or("", String::as_str);
            let us = micros(arg, 0, i32::MAX as u64);
            match s.keyword.as_str() {
                "garp_interval" => g.garp = us.or(g.garp),
                "gna_interval" => g.gna = us.or(g.gna),
                "interface" => g.interfaces.push(arg.to_owned()),
                "interfaces" => {
                    let numbered = groups.iter().filter(|g| g.number > 0).count();
                    g.number = numbered + 1;
                    g.interfaces
                        .extend(s.block.iter().flatten().map(|w| w.keyword.clone()));
                }
                _ => {}
            }
        }
        if g.garp.is_some() || g.gna.is_some() {
            groups.push(g);
        }
    }
    groups
}

/// keepalived's `set_default_garp_delay`: with a global spacing, a group
/// of its own for each interface of an instance (and of its addresses)
/// that has none.
fn defaults(config: &Config, instances: &[Instance<'_>], groups: &mut Vec<Group>) {
    let global = |key: &str| {
        let s = config
            .global_defs
            .other
            .iter()
            .rev()
            .find(|s| s.keyword == key)?;
        micros(s.args.first()?, 1, u64::from(u32::MAX))
    };
    let (garp, gna) = (global("vrrp_garp_interval"), global("vrrp_gna_interval"));
    if garp.is_none() && gna.is_none() {
        return;
    }
    for i in instances {
        let own = std::iter::once(&i.spec.interface);
        let addresses = i.spec.addresses.iter().filter_map(|a| a.dev.as_ref());
        for name in own.chain(addresses) {
            if !groups.iter().any(|g| g.interfaces.contains(name)) {
                groups.push(Group {
                    number: 0,
                    garp,
                    gna,
                    interfaces: vec![name.clone()],
                });
            }
        }
    }
}

/// One group's lines.
fn group(out: &mut String, g: &mut Group, next: NextTimes, host: &dyn Host) {
    let _ = writeln!(out, "------< GARP delay group {} >------", g.number);
    for (what, interval, at) in [("GARP", g.garp, next.garp), ("GNA", g.gna, next.gna)] {
        if let Some(us) = interval {
            let secs = (us / 1_000_000) as f64 + (us % 1_000_000) as f64 / 1e6;
            let _ = writeln!(out, " {what} interval = {}", c_g(secs));
            let _ = writeln!(out, " {what} next time {}", when(at, host));
        }
    }
    // keepalived lists them in its interface queue: by index.
    g.interfaces
        .sort_by_key(|n| host.if_index(n).unwrap_or(u32::MAX));
    out.push_str(" Interfaces\n");
    for name in &g.interfaces {
        let _ = writeln!(out, "  {name}");
    }
}

/// `SECS.USECS (Www Mmm dd hh:mm:ss.USECS)`, keepalived's way of showing
/// an instant (zero if none).
fn when(at: Option<SystemTime>, host: &dyn Host) -> String {
    let d = at
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .unwrap_or_default();
    let secs = i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let us = d.subsec_micros();
    let day = host.local_time(secs).unwrap_or_else(|| utc_ctime(secs));
    format!("{secs}.{us:06} ({day}.{us:06})")
}

/// The first 19 characters of C's `ctime` in UTC: `Thu Jan  1 00:00:00`.
pub(super) fn utc_ctime(secs: i64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let weekday = DAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)];
    let name = MONTHS[usize::try_from(month - 1).unwrap_or(0)];
    let (h, m, s) = (rem / 3600, rem % 3600 / 60, rem % 60);
    format!("{weekday} {name} {day:2} {h:02}:{m:02}:{s:02}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.
    use std::time::Duration;

    use super::*;
    use crate::dump::FixedHost;

    /// A host whose interfaces are numbered in reverse name order.
    struct Indexed;

    impl Host for Indexed {
        fn ids(&self) -> (u32, u32) {
            (0, 0)
        }
        fn user_ids(&self, _: &[String]) -> Option<(u32, u32)> {
            None
        }
        fn command(&self, words: &[String]) -> String {
            words.join(" ")
        }
        fn if_index(&self, name: &str) -> Option<u32> {
            ["eth3", "eth2", "eth1", "eth0"]
                .iter()
                .position(|n| *n == name)
                .and_then(|i| u32::try_from(i).ok())
        }
    }

    const CONF: &str = "global_defs {
    vrrp_garp_interval 0.1
}
garp_group {
    gna_interval 0
    interfaces {
        eth1
        eth2
    }
}
garp_group {
    garp_interval 1.25
    interface eth3
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    virtual_ipaddress {
        10.0.0.1
        10.0.0.2 dev eth3
        10.0.0.3 dev eth4
    }
}
";

    /// keepalived 2.2.7's section for [`CONF`], as it wrote it for the
    /// same layout with other names: the numbered group's interfaces in
    /// index order, a group of its own for each other interface the
    /// instance uses; the last group's next GARP time is the view's.
    fn want() -> String {
        let zero = "0.000000 (Thu Jan  1 00:00:00.000000)";
        [
            "------< Gratuitous ARP delays >------\n".to_owned(),
            want_group(1, "GNA", "0", zero, "eth2\n  eth1"),
            want_group(0, "GARP", "1.25", zero, "eth3"),
            want_group(0, "GARP", "0.1", zero, "eth0"),
            want_group(
                0,
                "GARP",
                "0.1",
                "1.250000 (Thu Jan  1 00:00:01.250000)",
                "eth4",
            ),
        ]
        .concat()
    }

    /// One group of [`want`] with one kind of spacing.
    fn want_group(n: u8, what: &str, interval: &str, next: &str, interfaces: &str) -> String {
        format!(
            "------< GARP delay group {n} >------\n {what} interval = {interval}\n \
             {what} next time {next}\n Interfaces\n  {interfaces}\n"
        )
    }

    fn section(conf: &str, next: &[NextTimes], host: &dyn Host) -> String {
        let parsed = crate::parse_str("t.conf", conf, &crate::Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let plan = crate::convert::vrrp::plan(&parsed.config).unwrap();
        let unit = &plan.units[0];
        let instances: Vec<Instance<'_>> = (unit.setup.routers.iter().zip(&unit.instances))
            .map(|(spec, i)| Instance {
                spec,
                run: None,
                last_transition: None,
                notify: &i.notify,
                track_interfaces: &[],
                track_scripts: &[],
                debug: 0,
            })
            .collect();
        data(&parsed.config, &instances, next, host)
    }

    #[test]
    fn groups_are_written_as_keepalived_writes_them() {
        let at = UNIX_EPOCH + Duration::from_micros(1_250_000);
        let mut next = [NextTimes::default(); 4];
        next[3].garp = Some(at);
        assert_eq!(section(CONF, &next, &Indexed), want());
        // Without groups or a global spacing: no section.
        let bare = CONF.replace("    vrrp_garp_interval 0.1\n", "");
        let bare = bare.split("vrrp_instance").nth(1).unwrap();
        let host = FixedHost::default();
        assert_eq!(section(&format!("vrrp_instance{bare}"), &[], &host), "");
    }

    #[test]
    fn instants_are_written_as_ctime_in_utc_by_default() {
        assert_eq!(utc_ctime(0), "Thu Jan  1 00:00:00");
        assert_eq!(utc_ctime(1_796_677_668), "Mon Dec  7 21:07:48");
        assert_eq!(utc_ctime(951_782_400), "Tue Feb 29 00:00:00");
        assert_eq!(utc_ctime(-1), "Wed Dec 31 23:59:59");
    }
}
