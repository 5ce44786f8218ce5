//! `virtual_server_group`: its entries and the IPVS services a
//! `virtual_server group NAME` installs from them, as keepalived 2.2.7
//! does (`check_data.c` `alloc_vsg_entry`, `ipvswrapper.c`
//! `ipvs_group_cmd`): one service per address of each range, with the
//! entry's port, and one per fwmark entry.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipvs::{Family, ServiceKey};

/// The most services one group may expand to: a bigger range is refused
/// rather than flooding the kernel.
pub const MAX_GROUP_SERVICES: u64 = 65_536;

/// One entry of a `virtual_server_group`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// `IP[-END|/LEN] [PORT]`: every address from `first` to `last`.
    Range {
        /// The first address.
        first: IpAddr,
        /// The last address (same family).
        last: IpAddr,
        /// The port (0: none written).
        port: u16,
    },
    /// `fwmark N [inet|inet6]`.
    Fwmark {
        /// The mark.
        mark: u32,
        /// The family written, if any.
        family: Option<Family>,
    },
}

/// Parses one entry's words; Err: what is wrong, in keepalived's words.
pub fn entry(words: &[String]) -> Result<Entry, String> {
    let first = words.first().map(String::as_str).unwrap_or_default();
    if first == "fwmark" {
        return fwmark(words);
    }
    let port = match words.get(1) {
        None => 0,
        Some(p) => p
            .parse::<u16>()
            .map_err(|_| format!("invalid port '{p}'"))?,
    };
    let (first, last) = range(first).ok_or_else(|| format!("invalid address range '{first}'"))?;
    Ok(Entry::Range { first, last, port })
}

fn fwmark(words: &[String]) -> Result<Entry, String> {
    let mark = words.get(1).map(String::as_str).unwrap_or_default();
    let mark = mark
        .parse::<u32>()
        .map_err(|_| format!("invalid fwmark '{mark}'"))?;
    let family = match words.get(2).map(String::as_str) {
        None => None,
        Some("inet") => Some(Family::V4),
        Some("inet6") => Some(Family::V6),
        Some(f) => return Err(format!("fwmark {mark}: unknown family '{f}'")),
    };
    Ok(Entry::Fwmark { mark, family })
}

/// `A`, `A-B` (a whole address), `A-N` (the last byte, or for IPv6 the
/// last 16-bit group in hex) or `A/LEN` (every address of the prefix;
/// host bits must be 0). None: not one of those, or an empty range.
fn range(s: &str) -> Option<(IpAddr, IpAddr)> {
    if let Some((a, len)) = s.split_once('/') {
        let net = ipnet::IpNet::new(a.parse().ok()?, len.parse().ok()?).ok()?;
        let ok = net.prefix_len() > 0 && net.network() == net.addr();
        return ok.then(|| (net.network(), net.broadcast()));
    }
    let Some((a, end)) = s.split_once('-') else {
        let ip = s.parse().ok()?;
        return Some((ip, ip));
    };
    let first: IpAddr = a.parse().ok()?;
    let last = match first {
        IpAddr::V4(_) if end.contains('.') => IpAddr::V4(end.parse().ok()?),
        IpAddr::V6(f) if end.contains(':') => {
            // keepalived steps only the last 16-bit group.
            let l: Ipv6Addr = end.parse().ok()?;
            (l.segments()[..7] == f.segments()[..7]).then_some(())?;
            IpAddr::V6(l)
        }
        IpAddr::V4(f) => {
            let n = end.parse::<u8>().ok()?;
            let mut o = f.octets();
            // keepalived: the end must be greater than the start.
            (n > o[3]).then_some(())?;
            o[3] = n;
            IpAddr::V4(Ipv4Addr::from(o))
        }
        IpAddr::V6(f) => {
            let n = u16::from_str_radix(end, 16).ok()?;
            let mut g = f.segments();
            (n > g[7]).then_some(())?;
            g[7] = n;
            IpAddr::V6(Ipv6Addr::from(g))
        }
    };
    let same_family = first.is_ipv4() == last.is_ipv4();
    (same_family && first <= last).then_some((first, last))
}

/// How many services `e` installs.
pub(super) fn size(e: &Entry) -> u64 {
    match *e {
        Entry::Fwmark { .. } => 1,
        Entry::Range { first, last, .. } => match (first, last) {
            (IpAddr::V4(f), IpAddr::V4(l)) => {
                u64::from(u32::from(l).saturating_sub(u32::from(f))) + 1
            }
            // keepalived steps only the last 16-bit group of an IPv6 range.
            (IpAddr::V6(f), IpAddr::V6(l)) => {
                u64::from(l.segments()[7].saturating_sub(f.segments()[7])) + 1
            }
            _ => 0,
        },
    }
}

/// The address family of a range entry (None for a fwmark).
pub(super) fn range_family(e: &Entry) -> Option<Family> {
    match e {
        Entry::Range { first, .. } => Some(Family::of(first)),
        Entry::Fwmark { .. } => None,
    }
}

/// The service keys of `e`, in keepalived's order: each address of a
/// range with `protocol`; a fwmark without a family in `default_family`.
pub(super) fn keys(e: &Entry, protocol: ipvs::Protocol, default_family: Family) -> Vec<ServiceKey> {
    match *e {
        Entry::Fwmark { mark, family } => vec![ServiceKey::Fwmark {
            family: family.unwrap_or(default_family),
            mark,
        }],
        Entry::Range { first, last, port } => addresses(first, last)
            .map(|ip| ServiceKey::Addr {
                protocol,
                addr: SocketAddr::new(ip, port),
            })
            .collect(),
    }
}

fn addresses(first: IpAddr, last: IpAddr) -> Box<dyn Iterator<Item = IpAddr>> {
    match (first, last) {
        (IpAddr::V4(f), IpAddr::V4(l)) => {
            Box::new((u32::from(f)..=u32::from(l)).map(|a| IpAddr::V4(a.into())))
        }
        (IpAddr::V6(f), IpAddr::V6(l)) => {
            let g = f.segments();
            Box::new((g[7]..=l.segments()[7]).map(move |last| {
                let mut g = g;
                g[7] = last;
                IpAddr::V6(Ipv6Addr::from(g))
            }))
        }
        _ => Box::new(std::iter::empty()),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_owned).collect()
    }

    fn addrs(s: &str) -> Vec<String> {
        let e = entry(&words(s)).unwrap();
        keys(&e, ipvs::Protocol::Tcp, Family::V4)
            .iter()
            .map(|k| match k {
                ServiceKey::Addr { addr, .. } => addr.to_string(),
                ServiceKey::Fwmark { family, mark } => format!("fwm {mark} {family:?}"),
            })
            .collect()
    }

    #[test]
    fn ranges_expand_as_keepalived() {
        assert_eq!(
            addrs("10.0.0.1-3 80"),
            ["10.0.0.1:80", "10.0.0.2:80", "10.0.0.3:80"]
        );
        assert_eq!(
            addrs("10.0.0.255-10.0.1.0 80"),
            ["10.0.0.255:80", "10.0.1.0:80"]
        );
        assert_eq!(addrs("10.0.0.4/31 8"), ["10.0.0.4:8", "10.0.0.5:8"]);
        assert_eq!(addrs("10.0.0.4"), ["10.0.0.4:0"]);
        assert_eq!(
            addrs("fd00::9-b 53"),
            ["[fd00::9]:53", "[fd00::a]:53", "[fd00::b]:53"]
        );
        assert_eq!(addrs("fwmark 7"), ["fwm 7 V4"]);
        assert_eq!(addrs("fwmark 7 inet6"), ["fwm 7 V6"]);
    }

    #[test]
    fn bad_entries_are_refused() {
        for bad in [
            "10.0.0.5-3 80",
            "10.0.0.5-5 80",
            "10.0.0.5-300 80",
            "10.0.0.1/30 80",
            "10.0.0.9-10.0.0.1 80",
            "10.0.0.1-fd00::1 80",
            "10.0.0.1 http",
            "fwmark x",
            "fwmark 1 inet5",
            "",
        ] {
            assert!(entry(&words(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes_count_services() {
        let e = entry(&words("10.0.0.0/16 80")).unwrap();
        assert_eq!(size(&e), 65_536);
        let e = entry(&words("fd00::/64 80")).unwrap();
        assert_eq!(size(&e), 65_536);
        assert_eq!(size(&entry(&words("fwmark 1")).unwrap()), 1);
    }
}
