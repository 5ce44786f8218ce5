//! The options of a `virtual_ipaddress` (`_excluded`, `static_ipaddress`)
//! entry that the model keeps verbatim, as keepalived 2.2.7 reads them
//! (vrrp_ipaddress.c): `no_track`, `peer ADDR`, `home`, `-nodad`,
//! `mngtmpaddr`, `noprefixroute`, `autojoin`, `preferred_lft N|forever`,
//! and `use_vmac` (not on a `static_ipaddress`; see `vmac.rs`).
//! Anything else (`nodad`, which keepalived does not know, `track_group`
//! but on a `static_ipaddress`) is refused by name.

use std::net::IpAddr;

use vrrp::linux::address_options::{AUTOJOIN, FOREVER, HOME, MNGTMPADDR, NOPREFIXROUTE};
use vrrp::linux::AddressOptions;

use super::PlanError;
use crate::model::IpAddress;

/// The options of `a`; `Err` names the word keepalived-lite cannot run.
pub(crate) fn options(owner: &str, a: &IpAddress) -> Result<AddressOptions, PlanError> {
    let bad = |value: &str| PlanError::Bad {
        instance: owner.to_owned(),
        keyword: "virtual_ipaddress option",
        value: value.to_owned(),
    };
    let mut o = AddressOptions::default();
    let mut words = a.other.iter().map(String::as_str);
    while let Some(word) = words.next() {
        match word {
            "no_track" => {}
            // Read with the instance: see `vmac::own_addresses`.
            "use_vmac" if owner != "static_ipaddress" => {}
            // Static addresses only, as in keepalived: see `track_group.rs`.
            "track_group" if owner == "static_ipaddress" => {
                words.next();
            }
            "home" => o.flags |= HOME,
            "mngtmpaddr" => o.flags |= MNGTMPADDR,
            "noprefixroute" => o.flags |= NOPREFIXROUTE,
            "autojoin" => o.flags |= AUTOJOIN,
            "-nodad" => o.dad = true,
            "preferred_lft" => {
                let v = words.next().ok_or_else(|| bad(word))?;
                let life = match v {
                    "forever" => FOREVER,
                    n => n.parse().map_err(|_| bad(v))?,
                };
                o.preferred_lft = Some(life);
            }
            "peer" => {
                let v = words.next().ok_or_else(|| bad(word))?;
                o.peer = Some(peer(a, v).ok_or_else(|| bad(v))?);
            }
            other => return Err(bad(other)),
        }
    }
    Ok(o)
}

/// `peer ADDR`: a bare address of the address's family, on an address
/// written without a prefix (keepalived refuses both otherwise; the
/// address then takes the peer's full length).
fn peer(a: &IpAddress, v: &str) -> Option<IpAddr> {
    let p: IpAddr = v.parse().ok()?;
    let net = *a.address;
    let full = net.prefix_len() == net.max_prefix_len();
    (full && p.is_ipv6() == net.addr().is_ipv6() && a.brd.is_none()).then_some(p)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use ipnet::IpNet;

    use super::*;

    fn vip(addr: &str, other: &str) -> IpAddress {
        IpAddress {
            address: addr.parse::<IpNet>().unwrap().into(),
            other: other.split_whitespace().map(str::to_owned).collect(),
            ..IpAddress::default()
        }
    }

    fn refused(addr: &str, other: &str) -> String {
        match options("VI_1", &vip(addr, other)) {
            Err(PlanError::Bad { value, .. }) => value,
            r => panic!("{r:?}"),
        }
    }

    #[test]
    fn keepalived_s_options() {
        let o = options(
            "VI_1",
            &vip(
                "2001:db8::1/128",
                "home -nodad mngtmpaddr noprefixroute autojoin preferred_lft 30 no_track peer 2001:db8::2",
            ),
        )
        .unwrap();
        let want = AddressOptions {
            peer: Some("2001:db8::2".parse().unwrap()),
            flags: HOME | MNGTMPADDR | NOPREFIXROUTE | AUTOJOIN,
            dad: true,
            preferred_lft: Some(30),
        };
        assert_eq!(o, want);
        let forever = options("VI_1", &vip("2001:db8::1/64", "preferred_lft forever")).unwrap();
        assert_eq!(forever.preferred_lft, Some(FOREVER));
        assert_eq!(
            options("VI_1", &vip("10.0.0.1/32", "")).unwrap(),
            AddressOptions::default()
        );
    }

    #[test]
    fn refused_by_name() {
        assert_eq!(refused("10.0.0.1/32", "nodad"), "nodad");
        assert_eq!(refused("10.0.0.1/24", "peer 10.0.0.2"), "10.0.0.2");
        assert_eq!(refused("10.0.0.1/32", "peer 10.0.0.2/24"), "10.0.0.2/24");
        assert_eq!(refused("10.0.0.1/32", "peer 2001:db8::2"), "2001:db8::2");
        assert_eq!(refused("10.0.0.1/32", "preferred_lft x"), "x");
        assert_eq!(refused("10.0.0.1/32", "preferred_lft"), "preferred_lft");
        assert_eq!(refused("10.0.0.1/32", "track_group G"), "track_group");
    }
}
