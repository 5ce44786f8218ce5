//! The LVS settings of `global_defs`, as keepalived 2.2.7's
//! `global_parser.c` reads them: `lvs_timeouts`, `lvs_flush`,
//! `lvs_flush_onstop` (`lvs_flush_on_stop`).

use ipvs::Timeouts;

use super::PlanError;
use crate::model::Setting;

/// keepalived's `LVS_MAX_TIMEOUT`: 86400 * 31 seconds.
const MAX_TIMEOUT: u32 = 86_400 * 31;

/// What the LVS globals set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Globals {
    pub(super) timeouts: Option<Timeouts>,
    pub(super) flush: bool,
    pub(super) flush_on_stop: bool,
}

/// Reads the LVS keywords of `global_defs`' verbatim settings.
pub(super) fn parse(settings: &[Setting]) -> Result<Globals, PlanError> {
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
            _ => {}
        }
    }
    Ok(g)
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
        parse(&lines.iter().map(|l| setting(l)).collect::<Vec<_>>())
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
                flush_on_stop: true
            }
        );
        let g = globals(&["lvs_flush_on_stop VS", "lvs_timeouts tcpfin 5"]).unwrap();
        assert!(!g.flush_on_stop && !g.flush);
        assert_eq!(g.timeouts.unwrap().tcp_fin, 5);
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
        ] {
            let keyword = line.split(' ').next().unwrap().to_owned();
            match globals(&[line]) {
                Err(PlanError::BadGlobal { keyword: k, .. }) => assert_eq!(k, keyword),
                other => panic!("{line}: {other:?}"),
            }
        }
    }
}
