//! `use_ipvlan [NAME] [ADDRESS[/PREFIX]] [bridge|private|vepa]` of an
//! instance, as keepalived 2.2.7 reads it (vrrp_parser.c): the words in
//! any order, a mode word, an address (an IPv4 one without prefix is a
//! /32), anything else the interface's name. The address is also the
//! advert source unless `mcast_src_ip` gives one.
//!
//! What keepalived reports with an error (and so `-t` fails) is refused
//! in its words: a second mode, address or name; a name too long; an
//! IPv4 instance without address ("IPv4 ipvlan requires a source ip
//! address"). `use_ipvlan` with `use_vmac` (one interface name for both
//! in keepalived) is refused by name.
//!
//! An IPv6 instance may have an ipvlan without address: keepalived 2.2.7
//! then sends from the link-local address the kernel gives the ipvlan
//! (its own, not the interface's). With an address, that address is the
//! source; keepalived 2.2.7 multicasts its adverts even from a global
//! one (seen in the VM), and so does keepalived-lite
//! (`Ipv6Config::global_source`), though RFC 9568 wants a link-local
//! source.

use std::net::IpAddr;

use vrrp::linux::{IpvlanMode, IpvlanOptions};

use super::PlanError;
use crate::model::VrrpInstance;

/// The ipvlan of `i` and its name, if `i` has `use_ipvlan`.
pub(super) fn options(
    i: &VrrpInstance,
    ipv6: bool,
) -> Result<Option<(IpvlanOptions, Option<String>)>, PlanError> {
    let mut found = i.other.iter().filter(|s| s.keyword == "use_ipvlan");
    let Some(s) = found.next() else {
        return Ok(None);
    };
    let refused = |reason| PlanError::Refused {
        instance: i.name.clone(),
        keyword: "use_ipvlan",
        reason,
    };
    let unsupported = |keyword| PlanError::Unsupported {
        instance: i.name.clone(),
        keyword,
    };
    if found.next().is_some() {
        return Err(refused("use_ipvlan already specified"));
    }
    if i.use_vmac.is_some() {
        return Err(unsupported("use_ipvlan with use_vmac"));
    }
    let (options, name) = words(s.args.iter().map(String::as_str)).map_err(refused)?;
    match options.address {
        None if !ipv6 => Err(refused("IPv4 ipvlan requires a source ip address")),
        Some((a, _)) if a.is_ipv6() != ipv6 => {
            Err(refused("ipvlan address MUST match vrrp instance family"))
        }
        _ => Ok(Some((options, name))),
    }
}

/// The address of a `use_ipvlan` statement, if it has one: it sets the
/// instance's family in keepalived when nothing written before did.
pub(super) fn family_address(s: &crate::model::Setting) -> Option<IpAddr> {
    s.args.iter().find_map(|w| address(w)).map(|(a, _)| a)
}

/// The words after `use_ipvlan`, or keepalived's complaint.
fn words<'a>(
    words: impl Iterator<Item = &'a str>,
) -> Result<(IpvlanOptions, Option<String>), &'static str> {
    let mut o = IpvlanOptions::default();
    let (mut mode, mut name) = (None, None);
    for w in words {
        if let Some(m) = IpvlanMode::parse(w) {
            if mode.replace(m).is_some() {
                return Err("ipvlan type already specified");
            }
        } else if let Some(a) = address(w) {
            if o.address.replace(a).is_some() {
                return Err("ipvlan address already specified");
            }
        } else if name.is_some() {
            return Err("IPVLAN interface already specified");
        } else if w.len() >= 16 {
            return Err("IPVLAN interface name too long");
        } else {
            name = Some(w.to_owned());
        }
    }
    o.mode = mode.unwrap_or_default();
    Ok((o, name))
}

/// `A.B.C.D[/N]` or an IPv6 address with its prefix; without one the
/// whole address (/32, /128).
fn address(w: &str) -> Option<(IpAddr, u8)> {
    if let Ok(net) = w.parse::<ipnet::IpNet>() {
        return Some((net.addr(), net.prefix_len()));
    }
    let a = w.parse::<IpAddr>().ok()?;
    Some((a, if a.is_ipv6() { 128 } else { 32 }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use super::*;

    fn read(s: &str) -> Result<(IpvlanOptions, Option<String>), &'static str> {
        words(s.split(' ').filter(|w| !w.is_empty()))
    }

    #[test]
    fn words_in_any_order() {
        let (o, name) = read("private 10.0.0.5/24 ipv1").unwrap();
        assert_eq!(o.mode, IpvlanMode::Private);
        assert_eq!(o.address, Some(("10.0.0.5".parse().unwrap(), 24)));
        assert_eq!(name.as_deref(), Some("ipv1"));
        let (o, name) = read("10.0.0.6").unwrap();
        assert_eq!(
            (o.mode, o.address.unwrap().1, name),
            (IpvlanMode::Bridge, 32, None)
        );
    }

    #[test]
    fn keepalived_errors_are_refusals() {
        assert_eq!(read("bridge vepa"), Err("ipvlan type already specified"));
        assert_eq!(
            read("10.0.0.1 10.0.0.2"),
            Err("ipvlan address already specified")
        );
        assert_eq!(read("a b"), Err("IPVLAN interface already specified"));
        assert_eq!(
            read("abcdefghijklmnop"),
            Err("IPVLAN interface name too long")
        );
    }
}
