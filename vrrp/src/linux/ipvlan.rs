//! keepalived's `use_ipvlan`: a router whose VMAC is an ipvlan in L2
//! mode instead of a macvlan.
//!
//! keepalived 2.2.7 (vrrp_vmac.c) creates the ipvlan up in one request
//! (`IFLA_IPVLAN_MODE` L2, `IFLA_IPVLAN_FLAGS` bridge 0, private or vepa),
//! on the router's interface, named as a VMAC is named (`use_ipvlan NAME`,
//! else `vrrp.VRID`). It shares the interface's MAC, so the virtual MAC is
//! never used. The address given to `use_ipvlan` goes on it (and is the
//! advert source); the virtual addresses go on it while master. It lives
//! while the router runs, BACKUP too, and is deleted at stop. An IPv4
//! router's ipvlan runs no IPv6 unless the router has IPv6 excluded
//! addresses. An IPv6 router's address goes on `nodad` and deprecated,
//! as a VMAC's source; without one the router sends from the link-local
//! address the kernel gives the ipvlan.

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::link::{
    InfoData, InfoIpVlan, InfoKind, IpVlanFlags, IpVlanMode, LinkAttribute, LinkFlags, LinkInfo,
    LinkMessage,
};
use netlink_packet_route::RouteNetlinkMessage;

use super::{valid_vmac_name, Link, LinuxError, Netlink};

/// The ipvlan's flags as `use_ipvlan` names them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum IpvlanMode {
    /// `bridge` (the default): flags 0.
    #[default]
    Bridge,
    /// `private`: `IPVLAN_F_PRIVATE`.
    Private,
    /// `vepa`: `IPVLAN_F_VEPA`.
    Vepa,
}

impl IpvlanMode {
    /// The mode by its `use_ipvlan` word.
    pub fn parse(word: &str) -> Option<Self> {
        match word {
            "bridge" => Some(Self::Bridge),
            "private" => Some(Self::Private),
            "vepa" => Some(Self::Vepa),
            _ => None,
        }
    }

    fn flags(self) -> IpVlanFlags {
        match self {
            Self::Bridge => IpVlanFlags::empty(),
            Self::Private => IpVlanFlags::Private,
            Self::Vepa => IpVlanFlags::Vepa,
        }
    }
}

/// A router's ipvlan (see [`VmacOptions::ipvlan`](super::VmacOptions)):
/// its name comes from [`VmacOptions::name`](super::VmacOptions) as a
/// VMAC's does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct IpvlanOptions {
    /// `bridge`, `private` or `vepa`.
    pub mode: IpvlanMode,
    /// The address (and prefix length) put on the ipvlan; keepalived
    /// requires one for an IPv4 router.
    pub address: Option<(IpAddr, u8)>,
}

impl Netlink {
    /// Creates an L2 ipvlan `name` on `parent`, up, as keepalived 2.2.7
    /// does, and returns it.
    pub fn add_ipvlan(
        &mut self,
        parent: u32,
        name: &str,
        mode: IpvlanMode,
    ) -> Result<Link, LinuxError> {
        if !valid_vmac_name(name) {
            return Err(LinuxError::BadInterfaceName(name.to_owned()));
        }
        let mut msg = LinkMessage::default();
        msg.header.flags = LinkFlags::Up;
        msg.header.change_mask = LinkFlags::Up;
        msg.attributes = vec![
            LinkAttribute::Link(parent),
            LinkAttribute::IfName(name.to_owned()),
            LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::IpVlan),
                LinkInfo::Data(InfoData::IpVlan(vec![
                    InfoIpVlan::Mode(IpVlanMode::L2),
                    InfoIpVlan::Flags(mode.flags()),
                ])),
            ]),
        ];
        self.request(
            "add ipvlan",
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        self.link(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_by_keepalived_word() {
        assert_eq!(IpvlanMode::parse("bridge"), Some(IpvlanMode::Bridge));
        assert_eq!(IpvlanMode::parse("private"), Some(IpvlanMode::Private));
        assert_eq!(IpvlanMode::parse("vepa"), Some(IpvlanMode::Vepa));
        assert_eq!(IpvlanMode::parse("l3"), None);
        assert_eq!(IpvlanMode::Bridge.flags().bits(), 0);
        assert_eq!(IpvlanMode::Private.flags().bits(), 1);
        assert_eq!(IpvlanMode::Vepa.flags().bits(), 2);
    }
}
