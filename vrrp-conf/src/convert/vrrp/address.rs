//! The options of a `virtual_ipaddress` (`_excluded`, `static_ipaddress`)
//! entry that the model keeps verbatim, as keepalived 2.2.7 reads them
//! (vrrp_ipaddress.c): `no_track`, `peer ADDR`, `home`, `-nodad`,
//! `mngtmpaddr`, `noprefixroute`, `autojoin`, `preferred_lft N|forever`,
//! and `use_vmac` (not on a `static_ipaddress`; see `vmac.rs`).
//! Anything else (`nodad`, which keepalived does not know, `track_group`
//! but on a `static_ipaddress`) is refused by name.
//!
//! A `peer` keepalived cannot use (not a bare address, of the other
//! family, or a second one) is a configuration error it runs past, the
//! address installed without it; a prefix on the address is one too, and
//! the address takes the peer's full length ([`peer_errors`], in its
//! words). A peer on an address with `brd` is refused.

use std::net::IpAddr;

use vrrp::linux::address_options::{AUTOJOIN, FOREVER, HOME, MNGTMPADDR, NOPREFIXROUTE};
use vrrp::linux::AddressOptions;

use super::PlanError;
use crate::diagnostics::{Code, Diagnostic};
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
                let Peer::Used(p) = peer(a, v, o.peer.is_some()) else {
                    continue;
                };
                if a.brd.is_some() {
                    return Err(bad(v));
                }
                o.peer = Some(p);
            }
            other => return Err(bad(other)),
        }
    }
    Ok(o)
}

/// What keepalived makes of one `peer ADDR`.
enum Peer {
    /// The peer, perhaps with an error about the address's prefix.
    Used(IpAddr),
    /// Not used, with keepalived's errors.
    Ignored,
}

/// `peer ADDR` of `a` (`second`: after another): a bare address of the
/// address's family.
fn peer(a: &IpAddress, v: &str, second: bool) -> Peer {
    let net = *a.address;
    match v.parse::<IpAddr>() {
        _ if second => Peer::Ignored,
        Ok(p) if p.is_ipv6() == net.addr().is_ipv6() => Peer::Used(p),
        _ => Peer::Ignored,
    }
}

/// keepalived's configuration errors about the `peer`s of `a`, in its
/// words, in order.
pub(crate) fn peer_errors(a: &IpAddress) -> Vec<String> {
    let net = *a.address;
    let mut out = Vec::new();
    let mut have = false;
    let mut words = a.other.iter().map(String::as_str);
    while let Some(word) = words.next() {
        if word == "track_group" || word == "preferred_lft" {
            words.next();
            continue;
        }
        let Some(v) = words.next().filter(|_| word == "peer") else {
            continue;
        };
        if have {
            out.push(format!(
                "Peer {v} - another peer has already been specified"
            ));
            continue;
        }
        match v.parse::<IpAddr>() {
            Err(_) => {
                out.push(format!("VRRP parsed invalid IP {v}. skipping IP..."));
                out.push(format!("Invalid peer address {v}"));
            }
            Ok(p) if p.is_ipv6() != net.addr().is_ipv6() => {
                out.push(format!("Peer address {v} does not match address family"));
            }
            Ok(_) => {
                if net.prefix_len() != net.max_prefix_len() {
                    out.push(
                        "Cannot specify address prefix when specifying peer address - ignoring"
                            .to_owned(),
                    );
                }
                have = true;
            }
        }
    }
    out
}

/// [`peer_errors`] of every address of `c`, as diagnostics at the address.
pub(crate) fn notes(c: &crate::Config, out: &mut Vec<Diagnostic>) {
    let instances = c.vrrp_instances.iter();
    let vips = instances.flat_map(|i| {
        i.virtual_ipaddress
            .iter()
            .chain(&i.virtual_ipaddress_excluded)
    });
    for a in vips.chain(&c.static_ipaddress) {
        for msg in peer_errors(a) {
            out.push(Diagnostic::error(
                Code::KeepalivedError,
                a.address.span,
                msg,
            ));
        }
    }
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
    fn peers_keepalived_cannot_use_are_its_errors_and_left_out() {
        let peer = |addr: &str, other: &str| {
            let a = vip(addr, other);
            (options("VI_1", &a).unwrap().peer, peer_errors(&a))
        };
        let p2 = Some("10.0.0.2".parse().unwrap());
        assert_eq!(peer("10.0.0.1/32", "peer 10.0.0.2"), (p2, vec![]));
        assert_eq!(
            peer("10.0.0.1/32", "peer 10.0.0.2/24"),
            (
                None,
                vec![
                    "VRRP parsed invalid IP 10.0.0.2/24. skipping IP...".to_owned(),
                    "Invalid peer address 10.0.0.2/24".to_owned()
                ]
            )
        );
        assert_eq!(
            peer("10.0.0.1/32", "peer 2001:db8::2"),
            (
                None,
                vec!["Peer address 2001:db8::2 does not match address family".to_owned()]
            )
        );
        assert_eq!(
            peer("10.0.0.1/32", "peer 10.0.0.2 peer 10.0.0.3"),
            (
                p2,
                vec!["Peer 10.0.0.3 - another peer has already been specified".to_owned()]
            )
        );
        let prefix = "Cannot specify address prefix when specifying peer address - ignoring";
        assert_eq!(
            peer("10.0.0.1/24", "peer 10.0.0.2"),
            (p2, vec![prefix.to_owned()])
        );
    }

    #[test]
    fn refused_by_name() {
        assert_eq!(refused("10.0.0.1/32", "nodad"), "nodad");
        assert_eq!(refused("10.0.0.1/32", "preferred_lft x"), "x");
        assert_eq!(refused("10.0.0.1/32", "preferred_lft"), "preferred_lft");
        assert_eq!(refused("10.0.0.1/32", "track_group G"), "track_group");
    }
}
