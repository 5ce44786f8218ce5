//! keepalived 2.2.7's advert and process knobs:
//!
//! - `old_unicast_checksum [never]` (instance): the VRRPv3 checksum of
//!   unicast adverts ([`vrrp::config::OldChecksum`]). Like every unicast
//!   keyword it makes keepalived warn when the instance has no
//!   `unicast_peer` (then it runs multicast, where both checksums agree).
//! - `vrrp_startup_delay SECS` (global_defs, 0.001 s and up, 6 decimals):
//!   no backup takes over before the delay plus its Master_Down_Interval
//!   ("Delaying startup for N seconds"); not on reload.
//! - `log_unknown_vrids`: log adverts of VRIDs no instance has on their
//!   interface ("Unknown VRID(N) received on interface(IF). ignoring...").
//! - `disable_local_igmp`: `/proc/sys/net/ipv4/igmp_link_local_mcast_reports`
//!   set to 0 at start if it was 1, and back to 1 at stop (keepalived
//!   refuses the keyword when the file is not writable).
//! - `default_interface IF`: the interface of a `static_ipaddress` without
//!   `dev` (keepalived's default is eth0). keepalived reads it for nothing
//!   else.
//!
//! `track_group`: see `track_group.rs`; `interface_up_down_delays`: see
//! `link_delays.rs`.

use std::time::Duration;

use vrrp::config::OldChecksum;

use super::PlanError;
use crate::model::{GlobalDefs, Setting, VrrpInstance};

/// keepalived's interface for a `static_ipaddress` without `dev` and
/// without `default_interface`.
const DEFAULT_INTERFACE: &str = "eth0";

/// The sysctl `disable_local_igmp` turns off.
pub const IGMP_LINK_LOCAL_REPORTS: &str = "/proc/sys/net/ipv4/igmp_link_local_mcast_reports";

/// What the VRRP process does beyond its routers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProcessOptions {
    /// `vrrp_startup_delay` (zero: none).
    pub startup_delay: Duration,
    /// `log_unknown_vrids`.
    pub log_unknown_vrids: bool,
    /// `disable_local_igmp` (see [`IGMP_LINK_LOCAL_REPORTS`]).
    pub disable_local_igmp: bool,
}

fn last<'a>(list: &'a [Setting], keyword: &str) -> Option<&'a Setting> {
    list.iter().rev().find(|s| s.keyword == keyword)
}

fn global_bad(keyword: &'static str, value: &str) -> PlanError {
    PlanError::Bad {
        instance: "global_defs".into(),
        keyword,
        value: value.to_owned(),
    }
}

/// The process options of `global_defs`.
pub(super) fn process_options(g: &GlobalDefs) -> Result<ProcessOptions, PlanError> {
    let mut o = ProcessOptions {
        log_unknown_vrids: last(&g.other, "log_unknown_vrids").is_some(),
        disable_local_igmp: last(&g.other, "disable_local_igmp").is_some(),
        ..ProcessOptions::default()
    };
    if let Some(s) = last(&g.other, "vrrp_startup_delay") {
        let v = s.args.first().map_or("", String::as_str);
        o.startup_delay = startup_delay(v).ok_or_else(|| global_bad("vrrp_startup_delay", v))?;
    }
    Ok(o)
}

/// keepalived's decimal seconds for `vrrp_startup_delay`: digits with at
/// most six decimals (`.5` and `5.` too), at least 0.001 s. More decimals
/// are a configuration error in keepalived (which rounds them).
fn startup_delay(v: &str) -> Option<Duration> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int) || !digits(frac) || frac.len() > 6 {
        return None;
    }
    let secs: u64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let micros: u64 = format!("{frac:0<6}").parse().ok()?;
    let d = Duration::from_secs(secs).checked_add(Duration::from_micros(micros))?;
    // keepalived keeps it in an unsigned int of microseconds.
    let max = Duration::from_micros(u64::from(u32::MAX));
    (d >= Duration::from_millis(1) && d <= max).then_some(d)
}

/// keepalived's configuration error for a unicast keyword without peers
/// (it then runs multicast; its `-t` exits 5).
const NO_PEERS: &str = "A unicast keyword has been specified without any unicast peers. \
     Defaulting to multicast. This usage is deprecated - please update your configuration.";

/// An instance's `old_unicast_checksum` (`config` holds its peers and
/// `unicast_fault_no_peer`).
pub(super) fn old_unicast_checksum(
    i: &VrrpInstance,
    config: &vrrp::Config,
) -> Result<OldChecksum, PlanError> {
    let Some(s) = last(&i.other, "old_unicast_checksum") else {
        return Ok(OldChecksum::Auto);
    };
    if config.unicast_peer_count() == 0 && !config.unicast_fault_no_peer {
        return Err(PlanError::Refused {
            instance: i.name.clone(),
            keyword: "old_unicast_checksum",
            reason: NO_PEERS,
        });
    }
    match s.args.first().map(String::as_str) {
        None => Ok(OldChecksum::Always),
        Some("never") => Ok(OldChecksum::Never),
        // keepalived: "Unknown old_unicast_chksum mode X - ignoring".
        Some(v) => Err(PlanError::Bad {
            instance: i.name.clone(),
            keyword: "old_unicast_checksum",
            value: v.to_owned(),
        }),
    }
}

/// The interface of a `static_ipaddress` without `dev`.
pub(super) fn default_interface(g: &GlobalDefs) -> String {
    last(&g.other, "default_interface")
        .and_then(|s| s.args.first())
        .map_or_else(|| DEFAULT_INTERFACE.to_owned(), String::clone)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::*;
    use crate::convert::{convert, Converted, Halves};
    use crate::{parse_str, Options};

    const VRRP: Halves = Halves {
        vrrp: true,
        lvs: false,
    };

    /// The conversion of `globals` and one unicast VRRPv3 instance with
    /// `extra`, and its diagnostics rendered.
    fn converted(globals: &str, extra: &str) -> (Converted, Vec<String>) {
        let text = format!(
            "global_defs {{\n{globals}}}\nvrrp_instance VI_1 {{\n  interface eth0\n  \
             virtual_router_id 1\n  version 3\n  unicast_peer {{\n    10.0.0.2\n  }}\n\
             {extra}  virtual_ipaddress {{\n    192.0.2.1\n  }}\n}}\n\
             static_ipaddress {{\n  192.0.2.9/32\n}}\n"
        );
        let parsed = parse_str("k.conf", &text, &Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let out = convert(&parsed, VRRP);
        let d = (out.diagnostics.iter())
            .map(|d| d.display(&parsed.sources).to_string())
            .collect();
        (out, d)
    }

    fn checksum(out: &Converted) -> OldChecksum {
        let plan = out.vrrp.as_ref().unwrap();
        plan.units[0].setup.routers[0].config.old_unicast_checksum
    }

    #[test]
    fn old_unicast_checksum_and_never_reach_the_router() {
        for (extra, want) in [
            ("", OldChecksum::Auto),
            ("  old_unicast_checksum\n", OldChecksum::Always),
            ("  old_unicast_checksum never\n", OldChecksum::Never),
        ] {
            let (out, d) = converted("", extra);
            assert_eq!((checksum(&out), d), (want, vec![]), "{extra}");
        }
        let (out, d) = converted("", "  old_unicast_checksum sometimes\n");
        assert!(out.vrrp.is_none());
        assert_eq!(
            d,
            ["k.conf:10:3: error: (VI_1) old_unicast_checksum \"sometimes\" is not supported by keepalived-lite"]
        );
        // keepalived's error (and multicast) without peers.
        let text = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  \
                    old_unicast_checksum\n  virtual_ipaddress {\n    192.0.2.1\n  }\n}\n";
        let parsed = parse_str("k.conf", text, &Options::default());
        let out = convert(&parsed, VRRP);
        let d: Vec<String> = (out.diagnostics.iter())
            .map(|d| d.display(&parsed.sources).to_string())
            .collect();
        assert!(out.vrrp.is_none());
        assert_eq!(d, [format!("k.conf:4:3: error: (VI_1) {NO_PEERS}")]);
    }

    #[test]
    fn process_options_come_from_global_defs() {
        let globals = "  vrrp_startup_delay 2.5\n  log_unknown_vrids\n  disable_local_igmp\n";
        let (out, d) = converted(globals, "");
        assert_eq!(d, [] as [String; 0]);
        let plan = out.vrrp.unwrap();
        let want = ProcessOptions {
            startup_delay: Duration::from_millis(2500),
            log_unknown_vrids: true,
            disable_local_igmp: true,
        };
        assert_eq!(plan.process, want);
        let (out, _) = converted("", "");
        assert_eq!(out.vrrp.unwrap().process, ProcessOptions::default());
        // keepalived: "number '0' outside range [0.001000, 4294.967295]".
        let (out, d) = converted("  vrrp_startup_delay 0\n", "");
        assert!(out.vrrp.is_none());
        let want = "k.conf:2:3: error: (global_defs) vrrp_startup_delay \"0\" is not supported \
                    by keepalived-lite";
        assert_eq!(d, [want]);
    }

    #[test]
    fn a_static_address_without_dev_goes_on_the_default_interface() {
        let dev = |globals| {
            let (out, d) = converted(globals, "");
            assert_eq!(d, [] as [String; 0]);
            out.vrrp.unwrap().static_addresses[0].0.clone()
        };
        assert_eq!(dev(""), "eth0");
        assert_eq!(dev("  default_interface eth1\n"), "eth1");
    }

    #[test]
    fn startup_delay_reads_keepalived_decimals() {
        let ms = Duration::from_millis;
        assert_eq!(startup_delay("5"), Some(ms(5000)));
        assert_eq!(startup_delay("2.5"), Some(ms(2500)));
        assert_eq!(startup_delay("0.001"), Some(ms(1)));
        assert_eq!(
            (startup_delay(".5"), startup_delay("5.")),
            (Some(ms(500)), Some(ms(5000)))
        );
        assert_eq!(
            startup_delay("1.000001"),
            Some(Duration::from_micros(1_000_001))
        );
        assert_eq!(
            startup_delay("4294.967295"),
            Some(Duration::from_micros(4_294_967_295))
        );
        for bad in [
            "",
            "0",
            "0.0009",
            "1.0000001",
            "-1",
            "x",
            "1e3",
            ".",
            "4294.967296",
        ] {
            assert_eq!(startup_delay(bad), None, "{bad}");
        }
    }
}
