//! The options of a virtual or static address beyond `brd`, `label` and
//! `scope`, installed as keepalived 2.2.7 installs them
//! (vrrp_ipaddress.c): `peer`, the `home`, `mngtmpaddr`, `noprefixroute`
//! and `autojoin` flags (IPv4 and IPv6), and for IPv6 `-nodad` and
//! `preferred_lft`. keepalived reads `-nodad` and `preferred_lft` on an
//! IPv4 address too, without effect.

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, CacheInfo};
use netlink_packet_route::RouteNetlinkMessage;

use super::{Address6Spec, AddressSpec, LinuxError, Netlink};

/// `IFA_F_NODAD`.
const NODAD: u32 = 0x02;
/// `home` (`IFA_F_HOMEADDRESS`).
pub const HOME: u32 = 0x10;
/// `mngtmpaddr` (`IFA_F_MANAGETEMPADDR`).
pub const MNGTMPADDR: u32 = 0x100;
/// `noprefixroute` (`IFA_F_NOPREFIXROUTE`).
pub const NOPREFIXROUTE: u32 = 0x200;
/// `autojoin` (`IFA_F_MCAUTOJOIN`).
pub const AUTOJOIN: u32 = 0x400;

/// A preferred lifetime meaning "forever".
pub const FOREVER: u32 = u32::MAX;

/// The options of an address (all off by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct AddressOptions {
    /// `peer`: the other end of a point-to-point address (`IFA_ADDRESS`),
    /// of the address's family.
    pub peer: Option<IpAddr>,
    /// The flags asked for: [`HOME`], [`MNGTMPADDR`], [`NOPREFIXROUTE`],
    /// [`AUTOJOIN`].
    pub flags: u32,
    /// `-nodad` (IPv6): duplicate address detection stays on, where
    /// keepalived turns it off by default.
    pub dad: bool,
    /// `preferred_lft` (IPv6), in seconds ([`FOREVER`]: forever); `None`:
    /// keepalived's default, 0 (deprecated) for a /128 and forever
    /// otherwise.
    pub preferred_lft: Option<u32>,
}

impl AddressOptions {
    /// The IPv6 preferred lifetime to install, `None` for forever.
    fn preferred6(&self, prefix_len: u8) -> Option<u32> {
        match self.preferred_lft {
            None => (prefix_len == 128).then_some(0),
            Some(FOREVER) => None,
            Some(n) => Some(n),
        }
    }

    /// Adds the options to an IPv4 request that adds an address.
    fn apply4(&self, msg: &mut AddressMessage) {
        if let Some(peer) = self.peer {
            msg.attributes
                .retain(|a| !matches!(a, AddressAttribute::Address(_)));
            msg.attributes.push(AddressAttribute::Address(peer));
        }
        if self.flags != 0 {
            let flags = AddressFlags::from_bits_retain(self.flags);
            msg.attributes.push(AddressAttribute::Flags(flags));
        }
    }

    /// An IPv6 request that adds `spec` with these options.
    fn message6(&self, spec: &Address6Spec) -> AddressMessage {
        let mut msg = spec.header();
        if let Some(life) = self.preferred6(spec.prefix_len) {
            let mut info = CacheInfo::default();
            info.ifa_preferred = life;
            info.ifa_valid = FOREVER;
            msg.attributes.push(AddressAttribute::CacheInfo(info));
        }
        let flags = self.flags | if self.dad { 0 } else { NODAD };
        if flags != 0 {
            let flags = AddressFlags::from_bits_retain(flags);
            msg.attributes.push(AddressAttribute::Flags(flags));
        }
        if let Some(peer) = self.peer {
            msg.attributes.push(AddressAttribute::Address(peer));
        }
        msg
    }
}

impl Netlink {
    /// Adds an IPv4 address with `options`; `EEXIST` if it is there.
    pub fn add_address_with(
        &mut self,
        spec: &AddressSpec,
        options: &AddressOptions,
    ) -> Result<(), LinuxError> {
        let mut msg = spec.to_message();
        options.apply4(&mut msg);
        let msg = RouteNetlinkMessage::NewAddress(msg);
        self.request("add address", msg, NLM_F_CREATE | NLM_F_EXCL)
            .map(drop)
    }

    /// Adds an IPv6 address with `options`, as keepalived adds a VIP;
    /// `EEXIST` if it is there.
    pub fn add_address6_with(
        &mut self,
        spec: &Address6Spec,
        options: &AddressOptions,
    ) -> Result<(), LinuxError> {
        let msg = RouteNetlinkMessage::NewAddress(options.message6(spec));
        self.request("add IPv6 address", msg, NLM_F_CREATE | NLM_F_EXCL)
            .map(drop)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;
    use crate::linux::Scope;

    fn life(msg: &AddressMessage) -> Option<u32> {
        msg.attributes.iter().find_map(|a| match a {
            AddressAttribute::CacheInfo(c) => Some(c.ifa_preferred),
            _ => None,
        })
    }

    fn flags(msg: &AddressMessage) -> u32 {
        (msg.attributes.iter())
            .find_map(|a| match a {
                AddressAttribute::Flags(f) => Some(f.bits()),
                _ => None,
            })
            .unwrap_or(0)
    }

    #[test]
    fn ipv6_defaults_are_keepalived_s() {
        let vip: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let o = AddressOptions::default();
        let host = o.message6(&Address6Spec::new(3, vip, 128));
        assert_eq!((life(&host), flags(&host)), (Some(0), NODAD));
        let net = o.message6(&Address6Spec::new(3, vip, 64));
        assert_eq!((life(&net), flags(&net)), (None, NODAD));
    }

    #[test]
    fn ipv6_options() {
        let vip: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let peer: IpAddr = "2001:db8::2".parse().unwrap();
        let o = AddressOptions {
            peer: Some(peer),
            flags: HOME | NOPREFIXROUTE,
            dad: true,
            preferred_lft: Some(FOREVER),
        };
        let msg = o.message6(&Address6Spec::new(3, vip, 128));
        assert_eq!((life(&msg), flags(&msg)), (None, HOME | NOPREFIXROUTE));
        assert!(msg.attributes.contains(&AddressAttribute::Address(peer)));
        let o = AddressOptions {
            preferred_lft: Some(30),
            ..AddressOptions::default()
        };
        let msg = o.message6(&Address6Spec::new(3, vip, 64));
        assert_eq!(life(&msg), Some(30));
    }

    #[test]
    fn ipv4_peer_replaces_the_address_and_flags_are_sent() {
        let mut spec = AddressSpec::host(2, Ipv4Addr::new(10, 0, 0, 1));
        spec.scope = Scope::Global;
        let peer: IpAddr = Ipv4Addr::new(10, 0, 0, 2).into();
        let o = AddressOptions {
            peer: Some(peer),
            flags: MNGTMPADDR,
            // Without effect on IPv4, as in keepalived.
            dad: true,
            preferred_lft: Some(0),
        };
        let mut msg = spec.to_message();
        o.apply4(&mut msg);
        let addresses: Vec<_> = (msg.attributes.iter())
            .filter(|a| matches!(a, AddressAttribute::Address(_)))
            .collect();
        assert_eq!(addresses, [&AddressAttribute::Address(peer)]);
        assert_eq!((flags(&msg), life(&msg)), (MNGTMPADDR, None));
    }
}
