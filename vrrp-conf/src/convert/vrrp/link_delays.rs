//! `interface_up_down_delays { IF DOWN [UP] }` (top level), as keepalived
//! 2.2.7 reads it (`vrrp/vrrp_parser.c`): per interface, seconds with up
//! to six decimals, 0 to 255, before a link going down (and coming up;
//! none if left out) is acted on. A later line for the same interface
//! replaces an earlier one. The driver shortens the delays to fit the
//! instances ([`vrrp::linux::driver::clamp_link_delays`]) and applies
//! them (a VMAC has its base interface's).
//!
//! Malformed lines go as in keepalived. Its log lines (which `-t` does not
//! show) go to [`Read::log`]: a line without delays is ignored ("No
//! timeouts specified for IF up/down delays"); of more than two, the first
//! two are used ("Too many parameters for IF up/down delays"). A delay is
//! read as keepalived's `read_timer` reads it (see `timer.rs`): a negative
//! or out-of-range one is a configuration error (`-t` fails) and the line
//! is ignored ("Invalid down delay X for IF"); more than six decimals is
//! an error too, but the delay is rounded to six and used. An interface
//! missing on the host is reported by [`crate::Parsed::missing_interfaces`],
//! as keepalived reports it.

use std::time::Duration;

use vrrp::linux::driver::LinkDelay;

use super::PlanError;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::Setting;

/// The top-level keyword.
pub(crate) const KEYWORD: &str = "interface_up_down_delays";

/// Largest delay, in microseconds (keepalived: 255 seconds).
const MAX_US: u64 = 255_000_000;

/// What the `interface_up_down_delays` blocks say.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Read {
    /// The delays, one per interface, in order.
    pub(crate) delays: Vec<LinkDelay>,
    /// keepalived's configuration errors (`-t` fails; it runs on).
    pub(crate) errors: Vec<Diagnostic>,
    /// keepalived's log lines at start-up (not shown by `-t`).
    pub(crate) log: Vec<String>,
}

/// Reads every `interface_up_down_delays` block; refusals go to `refused`.
pub(crate) fn read(top: &[Setting], refused: &mut Vec<PlanError>) -> Read {
    let mut out = Read::default();
    let lines = (top.iter())
        .filter(|s| s.keyword == KEYWORD)
        .flat_map(|b| b.block.iter().flatten());
    for line in lines {
        let Some(d) = one(line, &mut out, refused) else {
            continue;
        };
        match out.delays.iter_mut().find(|o| o.interface == d.interface) {
            Some(o) => *o = d,
            None => out.delays.push(d),
        }
    }
    out
}

/// One `IF DOWN [UP]` line.
fn one(line: &Setting, out: &mut Read, refused: &mut Vec<PlanError>) -> Option<LinkDelay> {
    let name = &line.keyword;
    if line.block.is_some() {
        refused.push(PlanError::Bad {
            instance: format!("{KEYWORD} {name}"),
            keyword: "delays",
            value: "{".to_owned(),
        });
        return None;
    }
    let Some(down_text) = line.args.first() else {
        out.log
            .push(format!("No timeouts specified for {name} up/down delays"));
        return None;
    };
    if line.args.len() > 2 {
        out.log
            .push(format!("Too many parameters for {name} up/down delays"));
    }
    let mut delay = |text: &str, which: &str| {
        let t = super::timer::read(text, MAX_US);
        for msg in t.errors {
            out.errors
                .push(Diagnostic::error(Code::KeepalivedError, line.span, msg));
        }
        if t.value.is_none() {
            out.log
                .push(format!("Invalid {which} delay {text} for {name}"));
        }
        t.value.map(Duration::from_micros)
    };
    let down = delay(down_text, "down")?;
    let up = match line.args.get(1) {
        None => Duration::ZERO,
        Some(v) => delay(v, "up")?,
    };
    Some(LinkDelay {
        interface: name.clone(),
        down,
        up,
    })
}

/// Where a refusal of [`read`] points: its line.
pub(crate) fn span(c: &crate::Config, owner: &str) -> Option<crate::span::Span> {
    let name = owner.strip_prefix(KEYWORD)?.strip_prefix(' ')?;
    (c.other.iter())
        .filter(|s| s.keyword == KEYWORD)
        .flat_map(|b| b.block.iter().flatten())
        .find(|s| s.keyword == name)
        .map(|s| s.span)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The delays, `-t` lines (`LINE: message`), log lines and refusals.
    fn parse(text: &str) -> (Vec<LinkDelay>, Vec<String>, Vec<String>, Vec<String>) {
        let p = crate::parse_str("k.conf", text, &crate::Options::default());
        let mut refused = Vec::new();
        let r = read(&p.config.other, &mut refused);
        let errors = (r.errors.iter())
            .map(|d| format!("{}: {}", d.span.line, d.message))
            .collect();
        let refused = refused.iter().map(ToString::to_string).collect();
        (r.delays, errors, r.log, refused)
    }

    fn delay(interface: &str, down_us: u64, up_us: u64) -> LinkDelay {
        LinkDelay {
            interface: interface.into(),
            down: Duration::from_micros(down_us),
            up: Duration::from_micros(up_us),
        }
    }

    #[test]
    fn seconds_with_six_decimals_up_to_255_and_the_last_line_wins() {
        let (d, e, log, refused) = parse(
            "interface_up_down_delays {\n eth0 2 1\n eth1 0.25\n eth2 255 0.000001\n}\n\
             interface_up_down_delays {\n eth0 .5 1.\n}\n",
        );
        assert_eq!((e, log, refused), (vec![], vec![], vec![]));
        let want = [
            delay("eth0", 500_000, 1_000_000),
            delay("eth1", 250_000, 0),
            delay("eth2", 255_000_000, 1),
        ];
        assert_eq!(d, want);
    }

    #[test]
    fn lines_without_delays_are_ignored_and_extra_values_dropped_with_a_log_line() {
        let (d, e, log, refused) = parse("interface_up_down_delays {\n eth0\n eth1 1 2 3\n}\n");
        assert_eq!(d, [delay("eth1", 1_000_000, 2_000_000)]);
        assert_eq!((e, refused), (vec![], vec![]));
        let want = [
            "No timeouts specified for eth0 up/down delays",
            "Too many parameters for eth1 up/down delays",
        ];
        assert_eq!(log, want);
    }

    #[test]
    fn bad_delays_are_keepalived_errors_and_ignore_the_line_or_are_rounded() {
        let (d, e, log, refused) = parse(
            "interface_up_down_delays {\n eth0 256\n eth2 1 -1\n \
             eth4 0.0000001\n eth5 1 x\n}\n",
        );
        // Seven decimals are rounded to six; "x" is read as 0.
        assert_eq!(d, [delay("eth4", 0, 0), delay("eth5", 1_000_000, 0)]);
        let want = [
            "2: number '256' outside range [0.000000, 255.000000]",
            "3: negative number '-1'",
            "4: number '0.0000001' has too many decimal places",
            "5: invalid number 'x'",
        ];
        assert_eq!(e, want);
        let want = [
            "Invalid down delay 256 for eth0",
            "Invalid up delay -1 for eth2",
        ];
        assert_eq!(log, want);
        assert_eq!(refused, Vec::<String>::new());
    }

    #[test]
    fn a_block_in_place_of_delays_is_refused_by_name() {
        let (d, e, log, refused) = parse("interface_up_down_delays {\n eth0 {\n }\n}\n");
        assert_eq!((d, e, log), (vec![], vec![], vec![]));
        let want =
            [r#"(interface_up_down_delays eth0) delays "{" is not supported by keepalived-lite"#];
        assert_eq!(refused, want);
    }
}
