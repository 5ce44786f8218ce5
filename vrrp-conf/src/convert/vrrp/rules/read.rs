//! One `ip rule` line read word by word as keepalived 2.2.7's `alloc_rule`
//! reads it, with its configuration errors for the rules it skips.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use vrrp::linux::{RuleActionSpec, RuleSpec};

use super::{RuleError, PROTO_KEEPALIVED};

/// keepalived's error for a second action after a table.
const TWO_ACTIONS_TABLE: &str =
    "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable for rule";
/// keepalived's error for a second action after any other action word.
const TWO_ACTIONS: &str =
    "Cannot specify more than one of table/nop/goto/blackhole/prohibit/unreachable/l3mdev for rule";

/// Whether the host has an interface of this name.
pub(crate) type Exists<'h> = &'h dyn Fn(&str) -> bool;

/// What the words read so far say.
struct State<'h> {
    r: RuleSpec,
    family: Option<bool>,
    action: Option<RuleActionSpec>,
    /// A realm or suppressor, which only a table action may have.
    table_option: bool,
    no_track: bool,
    /// A `track_group` was named.
    track_group: bool,
    /// keepalived reads no further words (after a second `track_group`).
    stop: bool,
    protocol: Option<u8>,
    static_rule: bool,
    /// keepalived's errors about words it reads on past (a bad prefix
    /// length), in order.
    notes: Vec<String>,
    /// The host's interfaces, when `dev`/`iif`/`oif` are checked.
    host: Option<Exists<'h>>,
}

/// keepalived skips the rule with these lines.
fn skip(lines: &[&str]) -> RuleError {
    RuleError::Skipped(lines.iter().map(|l| (*l).to_owned()).collect())
}

/// The rule `words` make, or why keepalived (or keepalived-lite) does
/// not install it. `static_rule`: `track_group` may be named.
pub(super) fn read(words: &[String], static_rule: bool) -> Result<RuleSpec, RuleError> {
    read_noted(words, static_rule).map(|(r, _)| r)
}

/// [`read`], with keepalived's errors about the words it read on past;
/// a skipped rule's lines start with them, as keepalived prints them.
pub(super) fn read_noted(
    words: &[String],
    static_rule: bool,
) -> Result<(RuleSpec, Vec<String>), RuleError> {
    read_on(words, static_rule, None)
}

/// keepalived's lines for the rule if it stops reading it at a `dev`,
/// `iif` or `oif` naming an interface the host does not have (without
/// `dynamic_interfaces`): those about the words before it, then its own.
pub(crate) fn missing_interface(
    words: &[String],
    static_rule: bool,
    host: Exists<'_>,
) -> Option<Vec<String>> {
    match read_on(words, static_rule, Some(host)) {
        Err(RuleError::Skipped(lines)) if lines.last()?.ends_with(MISSING_IF) => Some(lines),
        _ => None,
    }
}

/// The end of keepalived's line for a missing interface.
const MISSING_IF: &str = "for rule doesn't exist";

fn read_on(
    words: &[String],
    static_rule: bool,
    host: Option<Exists<'_>>,
) -> Result<(RuleSpec, Vec<String>), RuleError> {
    let mut st = State {
        r: RuleSpec::new(false, RuleActionSpec::Nop),
        family: None,
        action: None,
        table_option: false,
        no_track: false,
        track_group: false,
        stop: false,
        protocol: None,
        static_rule,
        notes: Vec::new(),
        host,
    };
    let read = read_words(&mut st, words);
    let notes = std::mem::take(&mut st.notes);
    match read.and_then(|()| finish(st)) {
        Ok(r) => Ok((r, notes)),
        Err(RuleError::Skipped(lines)) => Err(RuleError::Skipped([notes, lines].concat())),
        Err(e) => Err(e),
    }
}

/// Reads every word of the rule into `st`.
fn read_words(st: &mut State<'_>, words: &[String]) -> Result<(), RuleError> {
    let mut it = words.iter().map(String::as_str);
    while let Some(word) = it.next() {
        let mut value = || {
            it.next()
                .ok_or(RuleError::Invalid("rule option has no value"))
        };
        let known = addresses(st, word, &mut value)?
            || selectors(st, word, &mut value)?
            || narrowing(st, word, &mut value)?;
        if !known {
            others(st, word, &mut value)?;
        }
        if st.stop {
            break;
        }
    }
    Ok(())
}

/// `inet`, `inet6`, `from`, `to`; false for other words.
fn addresses<'a>(
    st: &mut State<'_>,
    word: &str,
    value: &mut impl FnMut() -> Result<&'a str, RuleError>,
) -> Result<bool, RuleError> {
    match word {
        "inet" | "inet6" => {
            inet(&mut st.family, word == "inet6")?;
            // keepalived 2.2.7 steps past the word after it too.
            let _ = value();
        }
        "from" | "to" => {
            let v = value()?;
            let (net, f) = prefix(v, &mut st.notes).map_err(|bad| {
                RuleError::Skipped(vec![bad, format!("Invalid rule {word} address {v}")])
            })?;
            match st.family {
                None => st.family = f,
                Some(old) if Some(old) != f => {
                    return Err(skip(&["rule specification has mixed IPv4 and IPv6"]))
                }
                Some(_) => {}
            }
            let v = net.map(|n| (n.addr(), n.prefix_len()));
            if word == "from" {
                st.r.from = v;
            } else {
                st.r.to = v;
            }
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The table, preference and selector options; false for other words.
fn selectors<'a>(
    st: &mut State<'_>,
    word: &str,
    value: &mut impl FnMut() -> Result<&'a str, RuleError>,
) -> Result<bool, RuleError> {
    match word {
        "table" | "lookup" => {
            let v = value()?;
            let t = table(v)
                .ok_or_else(|| skip(&[&format!("Routing table {v} not found for rule")]))?;
            if t == 0 {
                return Err(skip(&["Table 0 is not valid"]));
            }
            if st.action.is_some() {
                return Err(skip(&[TWO_ACTIONS_TABLE]));
            }
            st.action = Some(RuleActionSpec::Table(t));
        }
        "not" => st.r.invert = true,
        "preference" | "order" | "priority" => {
            let p = read_unsigned(value()?, 0, u64::from(u32::MAX)).map_err(|line| {
                skip(&[&line, &format!("Invalid rule preference {word} specified")])
            })?;
            st.r.priority = Some(p);
        }
        "tos" | "dsfield" => {
            let v = value()?;
            let t = entry(v, 255).and_then(|t| u8::try_from(t).ok());
            st.r.tos = t.ok_or_else(|| skip(&[&format!("TOS value {v} is invalid")]))?;
        }
        "fwmark" => {
            let v = value()?.trim_start();
            let (mark, mask) =
                fwmark(v).ok_or_else(|| skip(&[&format!("Invalid rule fwmark {v} specified")]))?;
            (st.r.fwmark, st.r.fwmask) = (Some(mark), mask);
        }
        "dev" | "iif" => st.r.iif = Some(interface(st, value()?)?),
        "oif" => st.r.oif = Some(interface(st, value()?)?),
        "uidrange" => {
            let (a, b) = (value()?.split_once('-'))
                .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
                .ok_or_else(|| skip(&[&format!("Invalid uidrange {word} specified")]))?;
            st.r.uid_range = Some((a, b));
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The options keepalived drops with an error when their value is bad,
/// installing a broader rule; keepalived-lite refuses the rule instead.
/// False for other words.
fn narrowing<'a>(
    st: &mut State<'_>,
    word: &str,
    value: &mut impl FnMut() -> Result<&'a str, RuleError>,
) -> Result<bool, RuleError> {
    match word {
        "ipproto" => {
            let p = ip_proto(value()?).ok_or(RuleError::Invalid("Invalid ipproto"))?;
            st.r.ip_proto = Some(p);
        }
        "sport" => {
            let p = port_range(value()?).ok_or(RuleError::Invalid("invalid sport range"))?;
            st.r.sport = Some(p);
        }
        "dport" => {
            let p = port_range(value()?).ok_or(RuleError::Invalid("invalid dport range"))?;
            st.r.dport = Some(p);
        }
        "protocol" => {
            let p = value()?.parse::<u8>();
            st.protocol = Some(p.map_err(|_| RuleError::Invalid("Invalid protocol"))?);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// An interface name, which keepalived looks up as it reads it.
fn interface(st: &State<'_>, name: &str) -> Result<String, RuleError> {
    match st.host {
        Some(exists) if !exists(name) => Err(RuleError::Skipped(vec![format!(
            "WARNING - interface {name} {MISSING_IF}"
        )])),
        _ => Ok(name.to_owned()),
    }
}

/// Table options, keepalived's own words and the actions.
fn others<'a>(
    st: &mut State<'_>,
    word: &str,
    value: &mut impl FnMut() -> Result<&'a str, RuleError>,
) -> Result<(), RuleError> {
    match word {
        "realms" => {
            let v = value()?;
            st.r.realms =
                Some(realms(v).ok_or_else(|| skip(&[&format!("invalid realms {v} for rule")]))?);
            st.table_option = true;
            if st.family == Some(true) {
                return Err(skip(&["realms is only valid for IPv4"]));
            }
            st.family = Some(false);
        }
        "suppress_prefixlength" | "sup_pl" => {
            let v = read_unsigned(value()?, 10, u64::from(i32::MAX.unsigned_abs())).map_err(
                |line| {
                    skip(&[
                        &line,
                        &format!("Invalid suppress_prefixlength {word} specified"),
                    ])
                },
            )?;
            st.r.suppress_prefixlen = Some(v);
            st.table_option = true;
        }
        "suppress_ifgroup" | "sup_group" => {
            let v = value()?;
            let g = entry(v, i32::MAX.unsigned_abs());
            st.r.suppress_ifgroup =
                Some(g.ok_or_else(|| skip(&[&format!("suppress_group {v} is invalid")]))?);
            st.table_option = true;
        }
        "l3mdev" => {
            if st.action.is_some() {
                return Err(skip(&["Cannot specify l3mdev with other action"]));
            }
            st.action = Some(RuleActionSpec::L3mdev);
        }
        "no_track" => st.no_track = true,
        "track_group" if st.static_rule => {
            value()?;
            // keepalived stops reading the rule at a second one.
            st.stop = st.track_group;
            st.track_group = true;
        }
        "tunnel-id" => return Err(RuleError::Unsupported("rule tunnel-id")),
        other => {
            let kind = if other == "type" { value()? } else { other };
            let a = action(kind, value)?;
            if st.action.is_some() {
                return Err(skip(&[TWO_ACTIONS]));
            }
            st.action = Some(a);
        }
    }
    Ok(())
}

/// An action word (`goto N`, `nop` or a route type keepalived knows).
fn action<'a>(
    kind: &str,
    value: &mut impl FnMut() -> Result<&'a str, RuleError>,
) -> Result<RuleActionSpec, RuleError> {
    if kind == "goto" {
        let t = read_unsigned(value()?, 10, u64::from(u32::MAX))
            .map_err(|line| skip(&[&line, "Invalid target goto specified"]))?;
        return Ok(RuleActionSpec::Goto(t));
    }
    if kind == "nop" {
        return Ok(RuleActionSpec::Nop);
    }
    match route_type(kind) {
        Some(6) => Ok(RuleActionSpec::Blackhole),
        Some(7) => Ok(RuleActionSpec::Unreachable),
        Some(8) => Ok(RuleActionSpec::Prohibit),
        Some(_) => Err(skip(&[&format!("Invalid rule action {kind}")])),
        None => Err(skip(&[&format!("Unknown rule option {kind}")])),
    }
}

/// The checks keepalived makes once every word is read, in its order.
fn finish(st: State<'_>) -> Result<RuleSpec, RuleError> {
    let mut r = st.r;
    if let Some(RuleActionSpec::Goto(target)) = st.action {
        match r.priority {
            None => {
                let msg =
                    format!("Invalid rule - goto target {target} specified without preference");
                return Err(skip(&[&msg]));
            }
            Some(p) if p >= target => {
                let msg = format!("Invalid rule - preference {p} >= goto target {target}");
                return Err(skip(&[&msg]));
            }
            Some(_) => {}
        }
    }
    let action = st
        .action
        .ok_or_else(|| skip(&["No action specified for rule - ignoring"]))?;
    // keepalived's l3mdev is a table action.
    if st.table_option && !matches!(action, RuleActionSpec::Table(_) | RuleActionSpec::L3mdev) {
        return Err(skip(&[
            "suppressor/realm specified for non table action - skipping",
        ]));
    }
    // A `track_group` without `iif` tracks nothing: keepalived says so
    // (`kept_errors`) and installs the rule.
    r.action = action;
    r.ipv6 = st.family.unwrap_or(false);
    // keepalived owns (and so can track) every rule but `no_track` ones.
    r.protocol = if st.no_track {
        st.protocol
    } else {
        Some(PROTO_KEEPALIVED)
    };
    Ok(r)
}

/// `inet`/`inet6` (`v6`): the rule's family, unless another is set.
fn inet(family: &mut Option<bool>, v6: bool) -> Result<(), RuleError> {
    match *family {
        Some(old) if old != v6 => Err(skip(&[if v6 {
            "inet6 specified for IPv4 rule"
        } else {
            "inet specified for IPv6 rule"
        }])),
        _ => {
            *family = Some(v6);
            Ok(())
        }
    }
}

/// `from`/`to`: an address with an optional length and its family (IPv6
/// or not), or `all`/`any`/`default` (no address, no family) or
/// `default6` (no address, IPv6), as keepalived's `parse_route`. The
/// family is IPv6 if the word has a colon. A bad length is noted
/// (`notes`) and the family's full length used; an address that is not
/// one is keepalived's error line.
fn prefix(v: &str, notes: &mut Vec<String>) -> Result<(Option<IpNet>, Option<bool>), String> {
    match v {
        "all" | "any" | "default" => return Ok((None, None)),
        "default6" => return Ok((None, Some(true))),
        _ => {}
    }
    let v6 = v.contains(':');
    let full: u8 = if v6 { 128 } else { 32 };
    let (addr, len) = match v.split_once('/') {
        Some((a, l)) => (a, prefix_len(l, v, full, notes)),
        None => (v, full),
    };
    let ip = if v6 {
        addr.parse::<Ipv6Addr>().map(IpAddr::from).ok()
    } else {
        addr.parse::<Ipv4Addr>().map(IpAddr::from).ok()
    };
    let net = ip.and_then(|ip| IpNet::new(ip, len).ok());
    let net = net.ok_or_else(|| format!("VRRP parsed invalid IP {v}. skipping IP..."))?;
    Ok((Some(net), Some(v6)))
}

/// The length after the slash of `v` as keepalived's `parse_ipaddress`
/// reads it (base 10, at most `full`; an empty word is 0), or `full` with
/// its errors.
fn prefix_len(len: &str, v: &str, full: u8, notes: &mut Vec<String>) -> u8 {
    match read_unsigned(len, 10, u64::from(full)) {
        Ok(n) => u8::try_from(n).unwrap_or(full),
        Err(line) => {
            notes.push(line);
            notes.push(format!(
                "Invalid address prefix len {len} for address {v} - using {full}"
            ));
            full
        }
    }
}

/// A table by number or by the names of /etc/iproute2/rt_tables'
/// defaults.
fn table(v: &str) -> Option<u32> {
    match v {
        "main" => Some(254),
        "local" => Some(255),
        "default" => Some(253),
        n => entry(n, u32::MAX),
    }
}

/// A number for one of iproute2's tables (`find_entry`): C's base 0, the
/// whole word, at most `max`. Names of those files are not read.
fn entry(v: &str, max: u32) -> Option<u32> {
    match strtoul(v, 0) {
        (Some(n), "") if !v.is_empty() && n <= u64::from(max) => u32::try_from(n).ok(),
        _ => None,
    }
}

/// `MARK[/MASK]`, each in C's base 0, neither negative.
fn fwmark(v: &str) -> Option<(u32, Option<u32>)> {
    let (mark, mask) = match v.split_once('/') {
        Some((m, k)) => (m, Some(k)),
        None => (v, None),
    };
    let num = |s: &str| match strtoul(s, 0) {
        (Some(n), "") if !s.starts_with('-') => u32::try_from(n).ok(),
        _ => None,
    };
    let mask = match mask {
        Some(k) if k.starts_with(char::is_whitespace) => return None,
        Some(k) => Some(num(k)?),
        None => None,
    };
    Some((num(mark)?, mask))
}

/// keepalived's `read_unsigned_func`: the number, or its error line.
fn read_unsigned(v: &str, base: u32, max: u64) -> Result<u32, String> {
    let t = v.trim_start();
    if t.starts_with('-') {
        return Err(format!("negative number '{v}'"));
    }
    match strtoul(t, base) {
        (_, rest) if !rest.is_empty() => Err(format!("invalid number '{v}'")),
        (None, _) => Err(format!("number '{v}' outside unsigned integer range")),
        (Some(n), _) if n > u64::from(u32::MAX) => {
            Err(format!("number '{v}' outside unsigned integer range"))
        }
        (Some(n), _) if n > max => Err(format!("number '{v}' outside range [0, {max}]")),
        (Some(n), _) => u32::try_from(n).map_err(|_| format!("invalid number '{v}'")),
    }
}

/// C's `strtoul(v, &end, base)` for base 0 or 10: the value (`None` on
/// overflow) and the words after the digits it took.
fn strtoul(v: &str, base: u32) -> (Option<u64>, &str) {
    let s = v.strip_prefix('+').unwrap_or(v);
    let (radix, digits) = match base {
        0 if (s.starts_with("0x") || s.starts_with("0X"))
            && s[2..].starts_with(|c: char| c.is_ascii_hexdigit()) =>
        {
            (16, &s[2..])
        }
        0 if s.starts_with('0') => (8, s),
        _ => (10, s),
    };
    let end = digits
        .find(|c: char| !c.is_digit(radix))
        .unwrap_or(digits.len());
    if end == 0 {
        return (Some(0), v);
    }
    let n = (digits[..end].chars()).try_fold(0u64, |n, c| {
        n.checked_mul(u64::from(radix))?
            .checked_add(u64::from(c.to_digit(radix)?))
    });
    (n, &digits[end..])
}

/// A route type by keepalived's names (`rtntypes`) or number (0-255).
fn route_type(v: &str) -> Option<u8> {
    Some(match v {
        "unicast" => 1,
        "local" => 2,
        "broadcast" | "brd" => 3,
        "anycast" => 4,
        "multicast" => 5,
        "blackhole" => 6,
        "unreachable" => 7,
        "prohibit" => 8,
        "throw" => 9,
        "nat" => 10,
        "xresolve" => 11,
        n if !n.starts_with('-') => match strtoul(n, 0) {
            (Some(t), "") => u8::try_from(t).ok()?,
            _ => return None,
        },
        _ => return None,
    })
}

/// `realms [SRC/]DST`, each a realm number (0-255).
fn realms(v: &str) -> Option<u32> {
    let (src, dst) = match v.split_once('/') {
        Some((s, d)) => (entry(s, 255)?, entry(d, 255)?),
        None => (0, entry(v, 255)?),
    };
    Some((src << 16) | dst)
}

/// `START-END`. keepalived 2.2.7 rejects a single port ("invalid dport
/// range") and installs the rule for every port; keepalived-lite refuses
/// it rather than match more than was written.
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

/// Whether keepalived resets the `protocol` of this (installed) rule: it
/// is tracked (no `no_track`) and names another protocol than its own.
pub(super) fn protocol_reset(words: &[String]) -> bool {
    let named = (words.windows(2).rev())
        .find(|w| w[0] == "protocol")
        .and_then(|w| w[1].parse::<u8>().ok());
    !words.iter().any(|w| w == "no_track") && named.is_some_and(|p| p != PROTO_KEEPALIVED)
}

/// keepalived's error for a second `track_group` (it installs the rule
/// read up to there, with the first group).
pub(super) fn second_track_group(words: &[String]) -> Option<String> {
    let mut names = (words.windows(2)).filter(|w| w[0] == "track_group");
    names.next()?;
    let second = names.next()?;
    Some(format!("track_group {} is a duplicate", second[1]))
}
