//! The LVS settings of `global_defs`, as keepalived 2.2.7's
//! `global_parser.c` reads them: `lvs_timeouts`, `lvs_flush`,
//! `lvs_flush_onstop` (`lvs_flush_on_stop`), `lvs_sync_daemon`.

use std::net::IpAddr;

use ipvs::{DaemonState, SyncDaemon, Timeouts};

use super::{PlanError, SyncPlan};
use crate::model::{Setting, VrrpInstance};

/// keepalived's `LVS_MAX_TIMEOUT`: 86400 * 31 seconds.
const MAX_TIMEOUT: u32 = 86_400 * 31;

/// What the LVS globals set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Globals {
    pub(super) timeouts: Option<Timeouts>,
    pub(super) flush: bool,
    pub(super) flush_on_stop: bool,
    pub(super) sync_daemon: Option<SyncPlan>,
}

/// Reads the LVS keywords of `global_defs`' verbatim settings
/// (`instances`: for `lvs_sync_daemon`'s instance).
pub(super) fn parse(
    settings: &[Setting],
    instances: &[VrrpInstance],
) -> Result<Globals, PlanError> {
    let mut g = Globals::default();
    for s in settings {
        let bad = || PlanError::BadGlobal {
            keyword: s.keyword.clone(),
            value: s.args.join(" "),
        };
        match s.keyword.as_str() {
            "lvs_timeouts" => g.timeouts = Some(timeouts(&s.args).ok_or_else(bad)?),
            "lvs_flush" if s.args.is_empty() => g.flush = true,
            "lvs_flush_onstop" | "lvs_flush_on_stop" => match s.args.first().map(String::as_str) {
                None => g.flush_on_stop = true,
                // Only this daemon's services: what a stop does anyway.
                Some("VS") => g.flush_on_stop = false,
                Some(_) => return Err(bad()),
            },
            "lvs_flush" => return Err(bad()),
            "checker_log_all_failures" => {
                super::truth(s.args.first().map_or("", String::as_str)).ok_or_else(bad)?;
            }
            "lvs_sync_daemon" => {
                g.sync_daemon = Some(sync_daemon(&s.args, instances).ok_or_else(bad)?)
            }
            _ => {}
        }
    }
    if g.sync_daemon.is_none() {
        g.sync_daemon = from_instance(instances);
    }
    Ok(g)
}

/// The deprecated `lvs_sync_daemon_interface IFACE` of a `vrrp_instance`
/// (the first one; the audit refuses a second and a global
/// `lvs_sync_daemon` beside it): keepalived 2.2.7's `vrrp_parser.c` makes
/// it the sync daemon's interface with that instance, and since no
/// instance *name* is given, `vrrp.c` leaves the sync id at 0 rather than
/// taking the VRID.
fn from_instance(instances: &[VrrpInstance]) -> Option<SyncPlan> {
    let inst = instances
        .iter()
        .find(|i| i.lvs_sync_daemon_interface.is_some())?;
    let ifname = inst.lvs_sync_daemon_interface.clone()?;
    let args = [
        ifname,
        "inst".into(),
        inst.name.clone(),
        "id".into(),
        "0".into(),
    ];
    sync_daemon(&args, instances)
}

/// `lvs_sync_daemon IFACE [INSTANCE] [inst NAME] [id N] [maxlen N]
/// [port N] [ttl N] [group ADDR]`; the id defaults to the instance's
/// VRID (0 without one). None: bad, or an instance that is not there or
/// has no virtual address to tell its MASTER state by.
fn sync_daemon(args: &[String], instances: &[VrrpInstance]) -> Option<SyncPlan> {
    let ifname = args.first().filter(|i| !i.is_empty() && i.len() < 16)?;
    let mut d = SyncDaemon::new(DaemonState::Master, ifname, 0);
    let (mut instance, mut id) = (None, None);
    let mut i = 1;
    while let Some(word) = args.get(i) {
        let value = args.get(i + 1);
        let num = |lo: u32, hi: u32| value?.parse::<u32>().ok().filter(|v| (lo..=hi).contains(v));
        match word.as_str() {
            "inst" => instance = Some(value?.clone()),
            "id" => id = Some(num(0, 255)?),
            "maxlen" => d.sync_maxlen = u16::try_from(num(1, 65535 - 20 - 8)?).ok()?,
            "port" => d.mcast_port = u16::try_from(num(1, 65535)?).ok()?,
            "ttl" => d.mcast_ttl = u8::try_from(num(1, 255)?).ok()?,
            "group" => {
                let g: IpAddr = value?.parse().ok()?;
                d.mcast_group = Some(g).filter(IpAddr::is_multicast);
                d.mcast_group?;
            }
            // The old form: lvs_sync_daemon IFACE INSTANCE.
            name if i == 1 => {
                instance = Some(name.to_owned());
                i += 1;
                continue;
            }
            _ => return None,
        }
        i += 2;
    }
    let (vrid, instance_vips) = match &instance {
        None => (0, Vec::new()),
        Some(name) => {
            let inst = instances.iter().find(|v| &v.name == name)?;
            let vips: Vec<IpAddr> = inst
                .virtual_ipaddress
                .iter()
                .map(|a| a.address.addr())
                .collect();
            (
                u32::from(inst.virtual_router_id.unwrap_or(0)),
                Some(vips).filter(|v| !v.is_empty())?,
            )
        }
    };
    d.sync_id = id.unwrap_or(vrid);
    Some(SyncPlan {
        daemon: d,
        instance,
        instance_vips,
    })
}

/// `tcp N`, `tcpfin N`, `udp N` in any order, at least one; None: bad.
fn timeouts(args: &[String]) -> Option<Timeouts> {
    if args.is_empty() || args.len() % 2 != 0 {
        return None;
    }
    let mut t = Timeouts::default();
    for pair in args.chunks(2) {
        let value = pair[1].parse::<u32>().ok().filter(|v| *v <= MAX_TIMEOUT)?;
        match pair[0].as_str() {
            "tcp" => t.tcp = value,
            "tcpfin" => t.tcp_fin = value,
            "udp" => t.udp = value,
            _ => return None,
        }
    }
    Some(t)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::*;

    fn setting(line: &str) -> Setting {
        let mut w = line.split(' ').map(str::to_owned);
        Setting {
            keyword: w.next().unwrap(),
            args: w.collect(),
            ..Setting::default()
        }
    }

    fn globals(lines: &[&str]) -> Result<Globals, PlanError> {
        parse(&lines.iter().map(|l| setting(l)).collect::<Vec<_>>(), &[])
    }

    #[test]
    fn settings_map_exactly() {
        let g = globals(&[
            "lvs_timeouts udp 30 tcp 900",
            "lvs_flush",
            "lvs_flush_onstop",
        ])
        .unwrap();
        let t = Timeouts {
            tcp: 900,
            tcp_fin: 0,
            udp: 30,
        };
        assert_eq!(
            g,
            Globals {
                timeouts: Some(t),
                flush: true,
                flush_on_stop: true,
                sync_daemon: None,
            }
        );
        let g = globals(&["lvs_flush_on_stop VS", "lvs_timeouts tcpfin 5"]).unwrap();
        assert!(!g.flush_on_stop && !g.flush);
        assert_eq!(g.timeouts.unwrap().tcp_fin, 5);
    }

    #[test]
    fn sync_daemon_settings_map_exactly() {
        let g = globals(&["lvs_sync_daemon eth1 id 7 maxlen 1400 port 8849 ttl 2 group 239.1.1.1"])
            .unwrap();
        let mut d = SyncDaemon::new(DaemonState::Master, "eth1", 7);
        (d.sync_maxlen, d.mcast_port, d.mcast_ttl) = (1400, 8849, 2);
        d.mcast_group = Some("239.1.1.1".parse().unwrap());
        let want = SyncPlan {
            daemon: d,
            instance: None,
            instance_vips: Vec::new(),
        };
        assert_eq!(g.sync_daemon, Some(want));
    }

    #[test]
    fn an_instance_sync_daemon_interface_runs_with_sync_id_0() {
        let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n \
                    lvs_sync_daemon_interface eth1\n virtual_ipaddress {\n  10.0.0.1\n }\n}\n";
        let p = crate::parse_str("k.conf", text, &crate::Options::default());
        let g = parse(&[], &p.config.vrrp_instances).unwrap();
        let want = SyncPlan {
            daemon: SyncDaemon::new(DaemonState::Master, "eth1", 0),
            instance: Some("VI_1".into()),
            instance_vips: vec!["10.0.0.1".parse().unwrap()],
        };
        assert_eq!(g.sync_daemon, Some(want));
        // A global lvs_sync_daemon is the one used (the audit refuses both).
        let g = parse(&[setting("lvs_sync_daemon eth2")], &p.config.vrrp_instances).unwrap();
        assert_eq!(g.sync_daemon.unwrap().daemon.ifname, "eth2");
    }

    #[test]
    fn bad_values_are_refused_by_keyword() {
        for line in [
            "lvs_timeouts",
            "lvs_timeouts tcp",
            "lvs_timeouts tcp x",
            "lvs_timeouts tcp 2678401",
            "lvs_timeouts sctp 5",
            "lvs_flush now",
            "lvs_flush_onstop ALL",
            "lvs_sync_daemon",
            "lvs_sync_daemon eth0 id 256",
            "lvs_sync_daemon eth0 group 10.0.0.1",
            "lvs_sync_daemon eth0 VI_9",
            "lvs_sync_daemon eth0 color red",
            "checker_log_all_failures maybe",
        ] {
            let keyword = line.split(' ').next().unwrap().to_owned();
            match globals(&[line]) {
                Err(PlanError::BadGlobal { keyword: k, .. }) => assert_eq!(k, keyword),
                other => panic!("{line}: {other:?}"),
            }
        }
    }
}
