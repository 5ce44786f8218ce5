//! The route options after the ones the model types, as keepalived 2.2.7
//! reads them (vrrp_iproute.c): `protocol`, `onlink` and the metrics
//! keepalived-lite installs (`mtu`, `advmss`, ... with `lock` where
//! keepalived takes it). The others (`rtt`, `realms`, `pref`, `encap`,
//! ...) are refused by the caller, by name.

use vrrp::linux::{Metric, MetricKind};

/// A metric by its keyword, and whether keepalived takes `lock` before
/// its value.
pub(crate) fn metric_kind(word: &str) -> Option<(MetricKind, bool)> {
    Some(match word {
        "mtu" => (MetricKind::Mtu, true),
        "advmss" => (MetricKind::Advmss, true),
        "cwnd" => (MetricKind::Cwnd, true),
        "ssthresh" => (MetricKind::Ssthresh, true),
        "reordering" => (MetricKind::Reordering, true),
        "window" => (MetricKind::Window, false),
        "initcwnd" => (MetricKind::InitCwnd, false),
        "initrwnd" => (MetricKind::InitRwnd, false),
        "hoplimit" => (MetricKind::Hoplimit, false),
        _ => return None,
    })
}

/// The metric `kind` from the words after its keyword (`[lock] N`);
/// `Err` with the word that is wrong.
pub(crate) fn metric<'a>(
    kind: (MetricKind, bool),
    words: &mut impl Iterator<Item = &'a str>,
) -> Result<Metric, &'a str> {
    let (kind, lockable) = kind;
    let mut value = words.next().ok_or("")?;
    let lock = lockable && value == "lock";
    if lock {
        value = words.next().ok_or("lock")?;
    }
    let max = if kind == MetricKind::Hoplimit {
        255
    } else {
        u32::MAX
    };
    match value.parse::<u32>() {
        Ok(v) if v <= max => Ok(Metric {
            kind,
            value: v,
            lock,
        }),
        _ => Err(value),
    }
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

    fn read(words: &str) -> Result<Metric, String> {
        let mut it = words.split(' ');
        let kind = metric_kind(it.next().unwrap()).unwrap();
        metric(kind, &mut it).map_err(str::to_owned)
    }

    #[test]
    fn metrics_with_and_without_lock() {
        let m = |kind, value, lock| Metric { kind, value, lock };
        assert_eq!(read("mtu lock 1400"), Ok(m(MetricKind::Mtu, 1400, true)));
        assert_eq!(read("advmss 1300"), Ok(m(MetricKind::Advmss, 1300, false)));
        assert_eq!(read("hoplimit 64"), Ok(m(MetricKind::Hoplimit, 64, false)));
        assert_eq!(read("hoplimit 300"), Err("300".into()));
        // keepalived takes no lock for window.
        assert_eq!(read("window lock 10"), Err("lock".into()));
        assert_eq!(read("mtu"), Err(String::new()));
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
