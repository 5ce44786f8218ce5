//! IPv6 virtual addresses over rtnetlink, installed as keepalived 2.2.7
//! installs them: `IFA_LOCAL` only, no duplicate address detection
//! (`nodad`: usable at once, and never stuck in `dadfailed` after a split
//! brain), and a /128 marked deprecated (preferred lifetime 0) so that
//! the host does not pick it as a source address.

use std::net::{IpAddr, Ipv6Addr};

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::address::{AddressAttribute, AddressFlags, AddressMessage, CacheInfo};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};

use super::{LinuxError, Netlink};

/// An IPv6 address on an interface.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Address6Spec {
    /// Interface index.
    pub ifindex: u32,
    /// The address.
    pub addr: Ipv6Addr,
    /// Prefix length (keepalived's default for a VIP is 128).
    pub prefix_len: u8,
}

impl Address6Spec {
    /// `addr/prefix_len` on interface `ifindex`.
    pub fn new(ifindex: u32, addr: Ipv6Addr, prefix_len: u8) -> Self {
        Address6Spec {
            ifindex,
            addr,
            prefix_len,
        }
    }

    pub(super) fn header(&self) -> AddressMessage {
        let mut msg = AddressMessage::default();
        msg.header.family = AddressFamily::Inet6;
        msg.header.prefix_len = self.prefix_len;
        msg.header.index = self.ifindex;
        msg.attributes
            .push(AddressAttribute::Local(IpAddr::V6(self.addr)));
        msg
    }

    /// The request that adds it: `nodad`, and a /128 deprecated.
    fn add_message(&self) -> AddressMessage {
        self.add_message_deprecated(self.prefix_len == 128)
    }

    /// The request that adds it `nodad`, deprecated if `deprecated`.
    fn add_message_deprecated(&self, deprecated: bool) -> AddressMessage {
        let mut msg = self.header();
        msg.attributes
            .push(AddressAttribute::Flags(AddressFlags::Nodad));
        if deprecated {
            let mut life = CacheInfo::default();
            life.ifa_preferred = 0;
            life.ifa_valid = u32::MAX; // infinite
            msg.attributes.push(AddressAttribute::CacheInfo(life));
        }
        msg
    }

    pub(crate) fn from_message(msg: &AddressMessage) -> Option<Address6Spec> {
        if msg.header.family != AddressFamily::Inet6 {
            return None;
        }
        let addr = msg.attributes.iter().find_map(|a| match a {
            AddressAttribute::Address(IpAddr::V6(a)) | AddressAttribute::Local(IpAddr::V6(a)) => {
                Some(*a)
            }
            _ => None,
        })?;
        Some(Address6Spec::new(
            msg.header.index,
            addr,
            msg.header.prefix_len,
        ))
    }
}

impl Netlink {
    /// Adds an IPv6 address as keepalived adds a VIP; `EEXIST` if it is
    /// already there.
    pub fn add_address6(&mut self, spec: &Address6Spec) -> Result<(), LinuxError> {
        let msg = RouteNetlinkMessage::NewAddress(spec.add_message());
        self.request("add IPv6 address", msg, NLM_F_CREATE | NLM_F_EXCL)
            .map(drop)
    }

    /// Adds the link-local address an IPv6 VMAC's adverts leave from, as
    /// keepalived 2.2.7 adds it: `nodad` and deprecated (preferred
    /// lifetime 0) whatever its length, so that the host never picks it
    /// as a source of its own; `EEXIST` if it is already there.
    pub fn add_vmac_source6(&mut self, spec: &Address6Spec) -> Result<(), LinuxError> {
        let msg = RouteNetlinkMessage::NewAddress(spec.add_message_deprecated(true));
        self.request("add IPv6 address", msg, NLM_F_CREATE | NLM_F_EXCL)
            .map(drop)
    }

    /// Removes an IPv6 address; `EADDRNOTAVAIL` if it is not there.
    pub fn del_address6(&mut self, spec: &Address6Spec) -> Result<(), LinuxError> {
        let msg = RouteNetlinkMessage::DelAddress(spec.header());
        self.request("delete IPv6 address", msg, 0).map(drop)
    }

    /// Lists the IPv6 addresses, of one interface or of all (the
    /// interface's link-local one is the source of its adverts).
    pub fn addresses6(&mut self, ifindex: Option<u32>) -> Result<Vec<Address6Spec>, LinuxError> {
        let replies = self.dump_addresses("dump IPv6 addresses", AddressFamily::Inet6)?;
        Ok(replies
            .iter()
            .filter_map(Address6Spec::from_message)
            .filter(|a| ifindex.is_none_or(|i| a.ifindex == i))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VIP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);

    #[test]
    fn a_host_vip_is_nodad_and_deprecated() {
        let msg = Address6Spec::new(3, VIP, 128).add_message();
        assert_eq!(
            (msg.header.family, msg.header.prefix_len, msg.header.index),
            (AddressFamily::Inet6, 128, 3)
        );
        let mut life = CacheInfo::default();
        life.ifa_valid = u32::MAX;
        assert_eq!(
            msg.attributes,
            [
                AddressAttribute::Local(IpAddr::V6(VIP)),
                AddressAttribute::Flags(AddressFlags::Nodad),
                AddressAttribute::CacheInfo(life),
            ]
        );
    }

    #[test]
    fn a_vmac_source_is_deprecated_whatever_its_length() {
        let ll = Ipv6Addr::new(0xfe80, 0, 0, 0, 0x77, 0xff, 0xfe01, 2);
        let msg = Address6Spec::new(4, ll, 64).add_message_deprecated(true);
        let mut life = CacheInfo::default();
        life.ifa_valid = u32::MAX;
        assert_eq!(msg.header.prefix_len, 64);
        assert_eq!(
            msg.attributes[1..],
            [
                AddressAttribute::Flags(AddressFlags::Nodad),
                AddressAttribute::CacheInfo(life),
            ]
        );
    }

    #[test]
    fn a_prefix_vip_keeps_its_lifetime_and_round_trips() {
        let spec = Address6Spec::new(3, VIP, 64);
        let msg = spec.add_message();
        assert_eq!(msg.attributes.len(), 2);
        assert_eq!(Address6Spec::from_message(&msg), Some(spec));
    }
}
