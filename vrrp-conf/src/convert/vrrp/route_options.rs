//! The route options after the ones the model types, as keepalived 2.2.7
//! reads them (vrrp_iproute.c): `protocol`, `onlink`, the metrics (`mtu`,
//! `advmss`, `rtt`, ... with `lock` where keepalived takes it),
//! `congctl`, `tos`, `realms`, `pref`, `expires`, `from`, `prepend`,
//! `add`, `append`, and the typed options (`dev`, `src`, ...) when
//! written after an untyped one, `encap ip`, `encap ip6`, `encap mpls`,
//! `encap ila`, `ttl-propagate`, and `track_group NAME` (static routes
//! only, which the caller checks; see `track_group.rs`). The others
//! (`as`, which keepalived 2.2.7 itself reports and drops, "as to for
//! MPLS only - ignoring"; `vrf`) are refused by the caller, by name.

use std::iter::Peekable;
use std::net::IpAddr;

use vrrp::linux::{Encap, Metric, MetricKind, RouteMode};

use crate::model::Scope;

/// What the options of one route set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Options {
    /// `protocol`: installed only with `no_track` (keepalived installs its
    /// own, 18, on a route it tracks).
    pub protocol: Option<u8>,
    /// `onlink` (of the route, not of a next hop).
    pub onlink: bool,
    /// `mtu`, `advmss`, `rtt`, ..., the last of each.
    pub metrics: Vec<Metric>,
    /// `congctl [lock] NAME`.
    pub congctl: Option<(String, bool)>,
    /// `tos` / `dsfield`.
    pub tos: u8,
    /// `realms [FROM/]TO`.
    pub realms: Option<u32>,
    /// `pref low|medium|high|N`.
    pub pref: Option<u8>,
    /// `expires N`.
    pub expires: Option<u32>,
    /// `from PREFIX` (IPv6).
    pub from: Option<(IpAddr, u8)>,
    /// `prepend` (the default), `add` or `append`.
    pub mode: RouteMode,
    /// `encap ip|ip6|mpls|ila ...`.
    pub encap: Option<Encap>,
    /// `ttl-propagate enabled|disabled`.
    pub ttl_propagate: Option<bool>,
    /// Typed options written after an untyped one.
    pub late: Late,
    /// `track_group NAME`.
    pub track_group: Option<String>,
}

/// The options the model types (`dev`, `src`, ...), when written after an
/// option it keeps verbatim: keepalived reads them in any order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Late {
    /// `src`.
    pub src: Option<IpAddr>,
    /// `via` / `gw`.
    pub via: Option<IpAddr>,
    /// `dev` / `oif`.
    pub dev: Option<String>,
    /// `metric` / `priority` / `preference`.
    pub metric: Option<u32>,
    /// `table`.
    pub table: Option<u32>,
    /// `scope`.
    pub scope: Option<Scope>,
}

/// How a metric's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// A number up to this.
    Upto(u32),
    /// A time (`rtt` and the like) in units of 1/N ms.
    Time(u32),
    /// `ecn`, the only feature keepalived knows.
    Ecn,
}

/// A metric by its keyword: its kind, whether keepalived takes `lock`
/// before its value, and how the value is written.
fn metric_kind(word: &str) -> Option<(MetricKind, bool, Value)> {
    use MetricKind as K;
    let n = Value::Upto(u32::MAX);
    Some(match word {
        "mtu" => (K::Mtu, true, n),
        "advmss" => (K::Advmss, true, n),
        "cwnd" => (K::Cwnd, true, n),
        "ssthresh" => (K::Ssthresh, true, n),
        "reordering" => (K::Reordering, true, n),
        "window" => (K::Window, false, n),
        "initcwnd" => (K::InitCwnd, false, n),
        "initrwnd" => (K::InitRwnd, false, n),
        "hoplimit" => (K::Hoplimit, false, Value::Upto(255)),
        "rtt" => (K::Rtt, true, Value::Time(8)),
        "rttvar" => (K::RttVar, true, Value::Time(4)),
        "rto_min" => (K::RtoMin, true, Value::Time(1)),
        "features" => (K::Features, false, Value::Ecn),
        "quickack" => (K::QuickAck, false, Value::Upto(1)),
        "fastopen_no_cookie" => (K::FastopenNoCookie, false, Value::Upto(1)),
        _ => return None,
    })
}

/// Reads option `word` with its values from `words` into `o`: `Ok(false)`
/// if `word` is none of this module's, `Err` with the word that is wrong
/// (empty when a value is missing).
pub(crate) fn read<'a, I: Iterator<Item = &'a str>>(
    o: &mut Options,
    word: &'a str,
    words: &mut Peekable<I>,
    ipv6: bool,
) -> Result<bool, &'a str> {
    if let Some(kind) = metric_kind(word) {
        let m = metric(kind, words)?;
        // keepalived keeps the last of each.
        o.metrics.retain(|x| x.kind != m.kind);
        o.metrics.push(m);
        return Ok(true);
    }
    let mut value = || words.next().ok_or("");
    match word {
        "onlink" => o.onlink = true,
        "protocol" => {
            let v = value()?;
            o.protocol = Some(protocol(v).ok_or(v)?);
        }
        "congctl" => {
            let mut v = value()?;
            let lock = v == "lock";
            if lock {
                v = value()?;
            }
            o.congctl = Some((v.to_owned(), lock));
        }
        "tos" | "dsfield" => {
            let v = value()?;
            o.tos = number(v).and_then(|n| u8::try_from(n).ok()).ok_or(v)?;
        }
        // keepalived: IPv4 only.
        "realms" if !ipv6 => o.realms = Some(realms(value()?)?),
        // keepalived: IPv6 only.
        "pref" if ipv6 => {
            let v = value()?;
            o.pref = Some(match v {
                "low" => 3,
                "medium" => 0,
                "high" => 1,
                n => n.parse().map_err(|_| n)?,
            });
        }
        "expires" if ipv6 => {
            let v = value()?;
            o.expires = Some(v.parse().map_err(|_| v)?);
        }
        "from" if ipv6 => {
            let v = value()?;
            let net = match v.parse::<ipnet::IpNet>() {
                Ok(n) => n,
                Err(_) => v.parse::<IpAddr>().map_err(|_| v)?.into(),
            };
            if !net.addr().is_ipv6() {
                return Err(v);
            }
            o.from = Some((net.addr(), net.prefix_len()));
        }
        "encap" => o.encap = Some(encap(words)?),
        "ttl-propagate" => {
            o.ttl_propagate = Some(match value()? {
                "enabled" => true,
                "disabled" => false,
                v => return Err(v),
            })
        }
        "prepend" => o.mode = RouteMode::Prepend,
        "add" => o.mode = RouteMode::Add,
        "append" => o.mode = RouteMode::Append,
        // keepalived: "track_group NAME is a duplicate".
        "track_group" => {
            let v = value()?;
            if o.track_group.is_some() {
                return Err(v);
            }
            o.track_group = Some(v.to_owned());
        }
        _ => return late(&mut o.late, word, words),
    }
    Ok(true)
}

/// A typed option written after an untyped one.
fn late<'a>(
    l: &mut Late,
    word: &'a str,
    words: &mut impl Iterator<Item = &'a str>,
) -> Result<bool, &'a str> {
    let typed = "src via gw dev oif metric priority preference table scope";
    if !typed.split(' ').any(|t| t == word) {
        return Ok(false);
    }
    let mut v = words.next().ok_or("")?;
    if matches!(word, "via" | "gw") && matches!(v, "inet" | "inet6") {
        v = words.next().ok_or("")?;
    }
    let ip = || v.parse::<IpAddr>().map_err(|_| v);
    match word {
        "src" => l.src = Some(ip()?),
        "via" | "gw" => l.via = Some(ip()?),
        "dev" | "oif" => l.dev = Some(v.to_owned()),
        "table" => {
            l.table = Some(match v {
                "main" => 254,
                "local" => 255,
                "default" => 253,
                n => n.parse().map_err(|_| n)?,
            })
        }
        "scope" => l.scope = Some(Scope::parse(v).ok_or(v)?),
        _ => l.metric = Some(v.parse().map_err(|_| v)?),
    }
    Ok(true)
}

/// `encap ip|ip6 [id N] [dst A] [src A] [tos|tc T] [ttl|hoplimit N]
/// [flags N]` (in any order, to the first other word), with `dst` or
/// `id`, as keepalived reads it; `encap mpls L1[/L2]` and `encap ila
/// LOCATOR`.
pub(super) fn encap<'a, I: Iterator<Item = &'a str>>(
    words: &mut Peekable<I>,
) -> Result<Encap, &'a str> {
    let kind = words.next().ok_or("")?;
    let ipv6 = match kind {
        "ip" => false,
        "ip6" => true,
        "mpls" => {
            let v = words.next().ok_or("")?;
            let mpls = Some(mpls_labels(v).ok_or(v)?);
            return Ok(Encap {
                mpls,
                ..Encap::default()
            });
        }
        "ila" => {
            let v = words.next().ok_or("")?;
            let ila = Some(ila_locator(v).ok_or(v)?);
            return Ok(Encap {
                ila,
                ..Encap::default()
            });
        }
        k => return Err(k),
    };
    let mut e = Encap {
        ipv6,
        ..Encap::default()
    };
    let (tos, ttl) = if ipv6 {
        ("tc", "hoplimit")
    } else {
        ("tos", "ttl")
    };
    let options = ["id", "dst", "src", tos, ttl, "flags"];
    while let Some(&option) = words.peek().filter(|w| options.contains(*w)) {
        words.next();
        let v = words.next().ok_or("")?;
        let address = || match v.parse::<IpAddr>() {
            Ok(a) if a.is_ipv6() == ipv6 => Ok(a),
            _ => Err(v),
        };
        match option {
            "id" => e.id = Some(v.parse().map_err(|_| v)?),
            "dst" => e.dst = Some(address()?),
            "src" => e.src = Some(address()?),
            "flags" => e.flags = Some(v.parse().map_err(|_| v)?),
            o if o == tos => e.tos = Some(number(v).and_then(|n| u8::try_from(n).ok()).ok_or(v)?),
            _ => e.ttl = Some(v.parse().map_err(|_| v)?),
        }
    }
    if e.dst.is_none() && e.id.is_none() {
        return Err(kind);
    }
    Ok(e)
}

/// keepalived's most labels in `encap mpls`.
const MPLS_MAX_LABELS: usize = 2;

/// `L1[/L2]`, each label a 20-bit number (decimal, `0x` hex or `0`
/// octal), as keepalived 2.2.7 reads an MPLS address.
fn mpls_labels(v: &str) -> Option<Vec<u32>> {
    let labels = v
        .split('/')
        .map(|l| number(l).filter(|n| *n < 1 << 20))
        .collect::<Option<Vec<_>>>()?;
    (labels.len() <= MPLS_MAX_LABELS).then_some(labels)
}

/// An ILA locator: four groups of 1 to 4 hex digits with `:` between.
fn ila_locator(v: &str) -> Option<u64> {
    let groups: Vec<&str> = v.split(':').collect();
    if groups.len() != 4 {
        return None;
    }
    groups.iter().try_fold(0u64, |acc, g| {
        let ok = (1..=4).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_hexdigit());
        let n = u16::from_str_radix(g, 16).ok().filter(|_| ok)?;
        Some(acc << 16 | u64::from(n))
    })
}

/// The metric `kind` from the words after its keyword (`[lock] VALUE`).
fn metric<'a>(
    (kind, lockable, syntax): (MetricKind, bool, Value),
    words: &mut impl Iterator<Item = &'a str>,
) -> Result<Metric, &'a str> {
    let mut value = words.next().ok_or("")?;
    let lock = lockable && value == "lock";
    if lock {
        value = words.next().ok_or("")?;
    }
    let v = match syntax {
        Value::Upto(max) => value.parse::<u32>().ok().filter(|v| *v <= max),
        Value::Time(per_ms) => rtt(value, per_ms),
        Value::Ecn => (value == "ecn").then_some(1),
    };
    let value = v.ok_or(value)?;
    Ok(Metric { kind, value, lock })
}

/// keepalived's (and the kernel's) bounds on the TCP times, in ms.
const RTT_MIN_MS: u32 = 200;
const RTT_MAX_MS: u32 = 120_000;

/// A time as keepalived reads `rtt`, `rttvar` and `rto_min`: a bare
/// number is in the kernel's units (1/`per_ms` ms), `Nms` in
/// milliseconds, `N[.NNN]s` (or `sec`, `secs`) in seconds; the result
/// is then brought into 200 ms .. 120 s, as keepalived does.
fn rtt(text: &str, per_ms: u32) -> Option<u32> {
    let max = RTT_MAX_MS * per_ms;
    let (number, scale) = match text.find(['s', 'S']) {
        None => (text, None),
        Some(i) => {
            let unit = &text[i..];
            if !["s", "sec", "secs"]
                .iter()
                .any(|u| u.eq_ignore_ascii_case(unit))
            {
                return None;
            }
            let head = &text[..i];
            match head.strip_suffix(['m', 'M']) {
                Some(ms) => (ms, Some(0)),
                None => (head, Some(3)),
            }
        }
    };
    let value = decimal(number, scale.unwrap_or(0)).filter(|v| *v <= u64::from(max))?;
    let value = u32::try_from(value).ok()?;
    let value = if scale.is_some() {
        value.checked_mul(per_ms)?
    } else {
        value
    };
    Some(value.clamp(RTT_MIN_MS * per_ms, max))
}

/// `N[.D...]` times 10^`shift`, with at most `shift` decimals.
fn decimal(text: &str, shift: u32) -> Option<u64> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || frac.len() > shift as usize {
        return None;
    }
    let padded = format!("{int}{frac:0<width$}", width = shift as usize);
    padded.parse().ok()
}

/// A number as iproute2's tables read one: decimal, `0x` hex or `0`
/// octal.
fn number(v: &str) -> Option<u32> {
    if let Some(hex) = v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok()
    } else if v.len() > 1 && v.starts_with('0') {
        u32::from_str_radix(&v[1..], 8).ok()
    } else {
        v.parse().ok()
    }
}

/// `realms [FROM/]TO`, each a number up to 255, FROM in the high half.
fn realms(v: &str) -> Result<u32, &str> {
    let realm = |s: &str| number(s).filter(|n| *n <= 255);
    let r = match v.split_once('/') {
        Some((from, to)) => realm(from).zip(realm(to)).map(|(f, t)| f << 16 | t),
        None => realm(v),
    };
    r.ok_or(v)
}

/// A route protocol by number or by name: keepalived's built-in names and
/// those of iproute2's shipped /etc/iproute2/rt_protos.
pub(crate) fn protocol(v: &str) -> Option<u8> {
    const NAMES: [(&str, u8); 22] = [
        ("none", 0),
        ("unspec", 0),
        ("redirect", 1),
        ("kernel", 2),
        ("boot", 3),
        ("static", 4),
        ("gated", 8),
        ("ra", 9),
        ("mrt", 10),
        ("zebra", 11),
        ("bird", 12),
        ("dnrouted", 13),
        ("xorp", 14),
        ("ntk", 15),
        ("dhcp", 16),
        ("keepalived", 18),
        ("babel", 42),
        ("bgp", 186),
        ("isis", 187),
        ("ospf", 188),
        ("rip", 189),
        ("eigrp", 192),
    ];
    let named = NAMES.iter().find(|(n, _)| *n == v).map(|(_, p)| *p);
    named.or_else(|| v.parse().ok())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use super::*;

    fn read_all(words: &str, ipv6: bool) -> Result<Options, String> {
        let mut o = Options::default();
        let mut it = words.split(' ').peekable();
        while let Some(w) = it.next() {
            match read(&mut o, w, &mut it, ipv6) {
                Ok(true) => {}
                Ok(false) => return Err(format!("not mine: {w}")),
                Err(e) => return Err(e.to_owned()),
            }
        }
        Ok(o)
    }

    fn metrics(words: &str) -> Result<Vec<Metric>, String> {
        read_all(words, false).map(|o| o.metrics)
    }

    fn m(kind: MetricKind, value: u32, lock: bool) -> Metric {
        Metric { kind, value, lock }
    }

    #[test]
    fn metrics_with_and_without_lock() {
        use MetricKind::*;
        assert_eq!(metrics("mtu lock 1400"), Ok(vec![m(Mtu, 1400, true)]));
        assert_eq!(metrics("advmss 1300"), Ok(vec![m(Advmss, 1300, false)]));
        assert_eq!(metrics("hoplimit 64"), Ok(vec![m(Hoplimit, 64, false)]));
        assert_eq!(metrics("hoplimit 300"), Err("300".into()));
        // keepalived takes no lock for window.
        assert_eq!(metrics("window lock 10"), Err("lock".into()));
        assert_eq!(metrics("mtu"), Err(String::new()));
        assert_eq!(
            metrics("quickack 1 fastopen_no_cookie 0 features ecn"),
            Ok(vec![
                m(QuickAck, 1, false),
                m(FastopenNoCookie, 0, false),
                m(Features, 1, false)
            ])
        );
        assert_eq!(metrics("quickack 2"), Err("2".into()));
        assert_eq!(metrics("features sack"), Err("sack".into()));
        assert_eq!(metrics("mtu 1400 mtu 1500"), Ok(vec![m(Mtu, 1500, false)]));
    }

    #[test]
    fn times_in_kernel_units_ms_or_seconds_clamped_like_keepalived() {
        assert_eq!(rtt("300ms", 8), Some(2400));
        assert_eq!(rtt("1.5s", 8), Some(12_000));
        assert_eq!(rtt("2secs", 4), Some(8000));
        assert_eq!(rtt("4000", 8), Some(4000));
        // Raised to 200 ms, lowered to 120 s.
        assert_eq!(rtt("100", 8), Some(1600));
        assert_eq!(rtt("10ms", 1), Some(200));
        assert_eq!(rtt("120s", 1), Some(120_000));
        assert_eq!(rtt("121s", 1), None);
        assert_eq!(rtt("1.2345s", 1), None);
        assert_eq!(rtt("1e3", 1), None);
        assert_eq!(rtt("5m", 1), None);
        assert_eq!(rtt("s", 1), None);
        assert_eq!(
            metrics("rtt lock 300ms rttvar 1s rto_min 250ms"),
            Ok(vec![
                m(MetricKind::Rtt, 2400, true),
                m(MetricKind::RttVar, 4000, false),
                m(MetricKind::RtoMin, 250, false)
            ])
        );
    }

    #[test]
    fn congctl_tos_realms_pref_and_expires() {
        let o = read_all("congctl lock reno tos 0x10 realms 2/3", false).unwrap();
        assert_eq!(o.congctl, Some(("reno".into(), true)));
        assert_eq!((o.tos, o.realms), (16, Some(2 << 16 | 3)));
        assert_eq!(read_all("realms 7", false).unwrap().realms, Some(7));
        assert_eq!(read_all("realms 300", false), Err("300".into()));
        assert_eq!(read_all("tos AF11", false), Err("AF11".into()));
        let o = read_all("pref high expires 600 from 2001:db8:1::/48 append", true).unwrap();
        assert_eq!((o.pref, o.expires), (Some(1), Some(600)));
        assert_eq!(o.from, Some(("2001:db8:1::".parse().unwrap(), 48)));
        assert_eq!(o.mode, RouteMode::Append);
        assert_eq!(
            read_all("add prepend", false).unwrap().mode,
            RouteMode::Prepend
        );
        assert_eq!(
            read_all("from 10.0.0.0/8", false),
            Err("not mine: from".into())
        );
        assert_eq!(read_all("pref low", true).unwrap().pref, Some(3));
        // keepalived: realms for IPv4, pref and expires for IPv6 only.
        assert_eq!(read_all("realms 2", true), Err("not mine: realms".into()));
        assert_eq!(read_all("pref high", false), Err("not mine: pref".into()));
        assert_eq!(
            read_all("expires 6", false),
            Err("not mine: expires".into())
        );
    }

    #[test]
    fn ip_and_ip6_encapsulation() {
        let o = read_all("encap ip id 7 dst 10.0.0.2 ttl 5 mtu 1400", false).unwrap();
        let want = Encap {
            id: Some(7),
            dst: Some("10.0.0.2".parse().unwrap()),
            ttl: Some(5),
            ..Encap::default()
        };
        assert_eq!(o.encap, Some(want));
        assert_eq!(o.metrics.len(), 1);
        let o = read_all("encap ip6 dst 2001:db8::2 tc 0x10 hoplimit 3", true).unwrap();
        let e = o.encap.unwrap();
        assert_eq!((e.ipv6, e.tos, e.ttl), (true, Some(16), Some(3)));
        let o = read_all("encap mpls 100/0x10 ttl-propagate disabled", false).unwrap();
        assert_eq!(o.encap.unwrap().mpls, Some(vec![100, 16]));
        assert_eq!(o.ttl_propagate, Some(false));
        let o = read_all("encap ila 2001:db8:1:2 ttl-propagate enabled", true).unwrap();
        assert_eq!(o.encap.unwrap().ila, Some(0x2001_0db8_0001_0002));
        assert_eq!(o.ttl_propagate, Some(true));
        // keepalived: at most two labels of 20 bits, four locator groups.
        assert_eq!(read_all("encap mpls 1/2/3", false), Err("1/2/3".into()));
        assert_eq!(read_all("encap mpls 1048576", false), Err("1048576".into()));
        assert_eq!(read_all("encap mpls 1/", false), Err("1/".into()));
        assert_eq!(read_all("encap mpls", false), Err(String::new()));
        assert_eq!(read_all("encap ila 1:2:3", true), Err("1:2:3".into()));
        assert_eq!(
            read_all("encap ila 1:2:3:12345", true),
            Err("1:2:3:12345".into())
        );
        assert_eq!(read_all("ttl-propagate on", false), Err("on".into()));
        assert_eq!(read_all("encap ip ttl 5", false), Err("ip".into()));
        assert_eq!(
            read_all("encap ip dst 2001:db8::2", false),
            Err("2001:db8::2".into())
        );
    }

    #[test]
    fn typed_options_after_untyped_ones() {
        let o = read_all(
            "mtu 1400 dev eth1 src 10.0.0.9 via inet 10.0.0.1 metric 7 table main scope link",
            false,
        )
        .unwrap();
        let want = Late {
            src: Some("10.0.0.9".parse().unwrap()),
            via: Some("10.0.0.1".parse().unwrap()),
            dev: Some("eth1".into()),
            metric: Some(7),
            table: Some(254),
            scope: Some(Scope::Link),
        };
        assert_eq!(o.late, want);
        assert_eq!(
            read_all("mtu 1400 table nosuch", false),
            Err("nosuch".into())
        );
    }

    #[test]
    fn protocols_by_name_and_number() {
        assert_eq!(protocol("static"), Some(4));
        assert_eq!(protocol("keepalived"), Some(18));
        assert_eq!(protocol("77"), Some(77));
        assert_eq!(protocol("nosuch"), None);
        assert_eq!(protocol("256"), None);
    }
}
