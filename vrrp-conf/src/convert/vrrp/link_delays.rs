//! `interface_up_down_delays { IF DOWN [UP] }` (top level), as keepalived
//! 2.2.7 reads it (`vrrp/vrrp_parser.c`): per interface, seconds with up
//! to six decimals, 0 to 255, before a link going down (and coming up;
//! none if left out) is acted on. A later line for the same interface
//! replaces an earlier one. The driver shortens the delays to fit the
//! instances ([`vrrp::linux::driver::clamp_link_delays`]) and applies
//! them (a VMAC has its base interface's).
//!
//! keepalived ignores a line without delays, with a bad delay or with
//! more than two (logging it); keepalived-lite refuses such a line by name
//! rather than run without what it asks for. An interface missing on the
//! host is reported by [`crate::Parsed::missing_interfaces`], as keepalived
//! reports it.

use std::time::Duration;

use vrrp::linux::driver::LinkDelay;

use super::PlanError;
use crate::model::Setting;

/// The top-level keyword.
pub(crate) const KEYWORD: &str = "interface_up_down_delays";

/// Largest delay, in microseconds (keepalived: 255 seconds).
const MAX_US: u64 = 255_000_000;

/// The delays of every `interface_up_down_delays` block, in order, one per
/// interface; refusals go to `errors`.
pub(crate) fn link_delays(top: &[Setting], errors: &mut Vec<PlanError>) -> Vec<LinkDelay> {
    let mut out: Vec<LinkDelay> = Vec::new();
    let lines = (top.iter())
        .filter(|s| s.keyword == KEYWORD)
        .flat_map(|b| b.block.iter().flatten());
    for line in lines {
        let Some(d) = one(line, errors) else {
            continue;
        };
        match out.iter_mut().find(|o| o.interface == d.interface) {
            Some(o) => *o = d,
            None => out.push(d),
        }
    }
    out
}

/// One `IF DOWN [UP]` line.
fn one(line: &Setting, errors: &mut Vec<PlanError>) -> Option<LinkDelay> {
    let owner = format!("{KEYWORD} {}", line.keyword);
    let mut bad = |keyword: &'static str, value: &str| {
        errors.push(PlanError::Bad {
            instance: owner.clone(),
            keyword,
            value: value.to_owned(),
        });
    };
    if line.args.is_empty() || line.args.len() > 2 || line.block.is_some() {
        bad("delays", &line.args.join(" "));
        return None;
    }
    let delay = |v: &str| super::garp::micros(v, 0, MAX_US).map(Duration::from_micros);
    let down_text = line.args.first().map_or("", String::as_str);
    let Some(down) = delay(down_text) else {
        bad("down delay", down_text);
        return None;
    };
    let up = match line.args.get(1) {
        None => Duration::ZERO,
        Some(v) => {
            let Some(up) = delay(v) else {
                bad("up delay", v);
                return None;
            };
            up
        }
    };
    Some(LinkDelay {
        interface: line.keyword.clone(),
        down,
        up,
    })
}

/// Where a refusal of [`link_delays`] points: its line.
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

    fn parse(text: &str) -> (Vec<LinkDelay>, Vec<String>) {
        let p = crate::parse_str("k.conf", text, &crate::Options::default());
        let mut errors = Vec::new();
        let d = link_delays(&p.config.other, &mut errors);
        (d, errors.iter().map(ToString::to_string).collect())
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
        let (d, e) = parse(
            "interface_up_down_delays {\n eth0 2 1\n eth1 0.25\n eth2 255 0.000001\n}\n\
             interface_up_down_delays {\n eth0 .5 1.\n}\n",
        );
        assert_eq!(e, Vec::<String>::new());
        let want = [
            delay("eth0", 500_000, 1_000_000),
            delay("eth1", 250_000, 0),
            delay("eth2", 255_000_000, 1),
        ];
        assert_eq!(d, want);
    }

    #[test]
    fn bad_lines_are_refused_by_name() {
        let (d, e) = parse(
            "interface_up_down_delays {\n eth0 256\n eth1\n eth2 1 x\n eth3 1 2 3\n \
             eth4 0.0000001\n eth5 -1\n}\n",
        );
        assert_eq!(d, []);
        let want = [
            r#"(interface_up_down_delays eth0) down delay "256" is not supported by keepalived-lite"#,
            r#"(interface_up_down_delays eth1) delays "" is not supported by keepalived-lite"#,
            r#"(interface_up_down_delays eth2) up delay "x" is not supported by keepalived-lite"#,
            r#"(interface_up_down_delays eth3) delays "1 2 3" is not supported by keepalived-lite"#,
            r#"(interface_up_down_delays eth4) down delay "0.0000001" is not supported by keepalived-lite"#,
            r#"(interface_up_down_delays eth5) down delay "-1" is not supported by keepalived-lite"#,
        ];
        assert_eq!(e, want);
    }
}
