//! Link and address change notifications from rtnetlink.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use netlink_packet_core::{NetlinkMessage, NetlinkPayload};
use netlink_packet_route::RouteNetlinkMessage;
use netlink_sys::{protocols::NETLINK_ROUTE, Socket};

use super::watch_routes::{
    removed_route, removed_rule, RemovedRoute, RemovedRule, ROUTE_RULE_GROUPS, RTM_DELROUTE,
    RTM_DELRULE,
};
use super::{Address6Spec, AddressSpec, Link, LinuxError};

/// rtnetlink multicast group of link changes (`RTNLGRP_LINK`).
const RTNLGRP_LINK: u32 = 1;
/// rtnetlink multicast group of IPv4 address changes (`RTNLGRP_IPV4_IFADDR`).
const RTNLGRP_IPV4_IFADDR: u32 = 5;
/// rtnetlink multicast group of IPv6 address changes (`RTNLGRP_IPV6_IFADDR`).
const RTNLGRP_IPV6_IFADDR: u32 = 9;

/// A change the kernel reported.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetEvent {
    /// A link appeared or changed; its state now (see [`Link::is_operational`]).
    Link(Link),
    /// A link was deleted.
    LinkRemoved(Link),
    /// An IPv4 address was added.
    AddressAdded(AddressSpec),
    /// An IPv4 address was removed (by us or by someone else).
    AddressRemoved(AddressSpec),
    /// An IPv6 address was added.
    Address6Added(Address6Spec),
    /// An IPv6 address was removed (by us or by someone else).
    Address6Removed(Address6Spec),
    /// A route of protocol keepalived was removed (by us or by someone else).
    RouteRemoved(RemovedRoute),
    /// A rule of protocol keepalived was removed (by us or by someone else).
    RuleRemoved(RemovedRule),
    /// The kernel dropped notifications (`ENOBUFS`): state must be re-read
    /// with [`super::Netlink::links`] and [`super::Netlink::addresses`].
    Overrun,
}

/// A nonblocking subscription to link and address changes in the
/// caller's network namespace.
#[derive(Debug)]
pub struct NetWatcher {
    sock: Socket,
    buf: Vec<u8>,
}

impl NetWatcher {
    /// Subscribes to `RTNLGRP_LINK`, `RTNLGRP_IPV4_IFADDR`,
    /// `RTNLGRP_IPV6_IFADDR` and the route and rule groups of both
    /// families (for deletions of keepalived's routes and rules).
    pub fn open() -> Result<Self, LinuxError> {
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(LinuxError::io("open rtnetlink"))?;
        sock.bind_auto().map_err(LinuxError::io("bind rtnetlink"))?;
        sock.set_non_blocking(true)
            .map_err(LinuxError::io("set nonblocking"))?;
        let groups = [RTNLGRP_LINK, RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR];
        for group in groups.into_iter().chain(ROUTE_RULE_GROUPS) {
            sock.add_membership(group)
                .map_err(LinuxError::io("join rtnetlink group"))?;
        }
        Ok(NetWatcher {
            sock,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    /// Reads one notification datagram and appends its events to `out`,
    /// returning how many were appended. [`io::ErrorKind::WouldBlock`] when
    /// nothing is queued.
    pub fn recv(&mut self, out: &mut Vec<NetEvent>) -> io::Result<usize> {
        self.buf.clear();
        self.buf.reserve(64 * 1024);
        match self.sock.recv(&mut self.buf, 0) {
            Ok(_) => Ok(parse_notifications(&self.buf, out)),
            Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                out.push(NetEvent::Overrun);
                Ok(1)
            }
            Err(e) => Err(e),
        }
    }
}

impl AsFd for NetWatcher {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for NetWatcher {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl NetWatcher {
    /// What [`recv`](Self::recv) does with one datagram, for the
    /// `netlink_notifications` fuzz target; not part of the API.
    #[doc(hidden)]
    pub fn fuzz_parse(bytes: &[u8], out: &mut Vec<NetEvent>) -> usize {
        parse_notifications(bytes, out)
    }
}

/// rtnetlink message types the watcher decodes (`linux/rtnetlink.h`).
const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_DELADDR: u16 = 21;

/// Decodes the messages of one notification datagram; undecodable or
/// uninteresting messages are skipped, a malformed length ends it.
fn parse_notifications(mut bytes: &[u8], out: &mut Vec<NetEvent>) -> usize {
    let before = out.len();
    while let Some((msg, rest)) = split_message(bytes) {
        bytes = rest;
        out.extend(decode(msg));
    }
    out.len() - before
}

/// Splits the first netlink message (as long as its header says) off a
/// datagram, and the rest after its 4-byte padding.
fn split_message(bytes: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_ne_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    if len < 16 || len > bytes.len() {
        return None;
    }
    let next = ((len + 3) & !3).min(bytes.len());
    Some((&bytes[..len], &bytes[next..]))
}

/// The event of one link, address, route deletion or rule deletion
/// message. Other types (route and rule additions) are not decoded at
/// all: a decoder never run cannot fail on them.
fn decode(msg: &[u8]) -> Option<NetEvent> {
    let kind = u16::from_ne_bytes(msg.get(4..6)?.try_into().ok()?);
    let wanted = [
        RTM_NEWLINK,
        RTM_DELLINK,
        RTM_NEWADDR,
        RTM_DELADDR,
        RTM_DELROUTE,
        RTM_DELRULE,
    ];
    if !wanted.contains(&kind) {
        return None;
    }
    let msg = NetlinkMessage::<RouteNetlinkMessage>::deserialize(msg).ok()?;
    let NetlinkPayload::InnerMessage(inner) = msg.payload else {
        return None;
    };
    match inner {
        RouteNetlinkMessage::NewLink(l) => Some(NetEvent::Link(Link::from_message(&l))),
        RouteNetlinkMessage::DelLink(l) => Some(NetEvent::LinkRemoved(Link::from_message(&l))),
        RouteNetlinkMessage::NewAddress(a) => AddressSpec::from_message(&a)
            .map(NetEvent::AddressAdded)
            .or_else(|| Address6Spec::from_message(&a).map(NetEvent::Address6Added)),
        RouteNetlinkMessage::DelAddress(a) => AddressSpec::from_message(&a)
            .map(NetEvent::AddressRemoved)
            .or_else(|| Address6Spec::from_message(&a).map(NetEvent::Address6Removed)),
        RouteNetlinkMessage::DelRoute(r) => removed_route(&r).map(NetEvent::RouteRemoved),
        RouteNetlinkMessage::DelRule(r) => removed_rule(&r).map(NetEvent::RuleRemoved),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::NetlinkHeader;
    use netlink_packet_route::address::{AddressAttribute, AddressMessage};
    use netlink_packet_route::AddressFamily;
    use std::net::{IpAddr, Ipv4Addr};

    fn encode(msg: RouteNetlinkMessage) -> Vec<u8> {
        let mut nl =
            NetlinkMessage::new(NetlinkHeader::default(), NetlinkPayload::InnerMessage(msg));
        nl.finalize();
        let mut buf = vec![0; nl.buffer_len()];
        nl.serialize(&mut buf);
        buf
    }

    #[test]
    fn address_removal_is_decoded_and_junk_skipped() {
        let mut a = AddressMessage::default();
        a.header.family = AddressFamily::Inet;
        a.header.prefix_len = 32;
        a.header.index = 4;
        let vip = Ipv4Addr::new(192, 0, 2, 100);
        a.attributes.push(AddressAttribute::Local(IpAddr::V4(vip)));
        let mut bytes = encode(RouteNetlinkMessage::DelAddress(a));
        bytes.extend(encode(RouteNetlinkMessage::NewAddress(
            AddressMessage::default(),
        )));
        let mut out = Vec::new();
        assert_eq!(parse_notifications(&bytes, &mut out), 1);
        assert_eq!(
            out,
            vec![NetEvent::AddressRemoved(AddressSpec::host(4, vip))]
        );
        assert_eq!(parse_notifications(&[1, 2, 3], &mut out), 0);
    }

    #[test]
    fn other_types_are_skipped_undecoded() {
        let mut a = AddressMessage::default();
        a.header.family = AddressFamily::Inet;
        a.header.prefix_len = 32;
        a.header.index = 4;
        let vip = Ipv4Addr::new(192, 0, 2, 100);
        a.attributes.push(AddressAttribute::Local(IpAddr::V4(vip)));
        let removal = encode(RouteNetlinkMessage::DelAddress(a));
        // The same message as an RTM_NEWROUTE (24): skipped, and the
        // removal after it still found.
        let mut bytes = removal.clone();
        bytes[4..6].copy_from_slice(&24u16.to_ne_bytes());
        bytes.extend(&removal);
        let mut out = Vec::new();
        assert_eq!(parse_notifications(&bytes, &mut out), 1);
        assert_eq!(out, [NetEvent::AddressRemoved(AddressSpec::host(4, vip))]);
    }

    #[test]
    fn a_length_past_the_datagram_ends_it() {
        let mut bytes = encode(RouteNetlinkMessage::DelAddress(AddressMessage::default()));
        let len = bytes.len() as u32 + 1;
        bytes[..4].copy_from_slice(&len.to_ne_bytes());
        assert_eq!(split_message(&bytes), None);
        bytes[..4].copy_from_slice(&15u32.to_ne_bytes());
        assert_eq!(split_message(&bytes), None);
    }

    #[test]
    fn split_message_skips_the_padding() {
        let mut bytes = vec![0u8; 24];
        bytes[..4].copy_from_slice(&17u32.to_ne_bytes());
        let lens = split_message(&bytes).map(|(msg, rest)| (msg.len(), rest.len()));
        assert_eq!(lens, Some((17, 4)));
    }

    #[test]
    fn ipv6_address_addition_is_decoded() {
        let mut a = AddressMessage::default();
        a.header.family = AddressFamily::Inet6;
        a.header.prefix_len = 64;
        a.header.index = 7;
        let ll = std::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        a.attributes.push(AddressAttribute::Address(IpAddr::V6(ll)));
        let mut out = Vec::new();
        let bytes = encode(RouteNetlinkMessage::NewAddress(a));
        assert_eq!(parse_notifications(&bytes, &mut out), 1);
        let want = NetEvent::Address6Added(Address6Spec::new(7, ll, 64));
        assert_eq!(out, [want]);
    }

    #[test]
    fn ipv6_address_removal_is_decoded() {
        let mut a = AddressMessage::default();
        a.header.family = AddressFamily::Inet6;
        a.header.prefix_len = 64;
        a.header.index = 4;
        let vip = std::net::Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
        a.attributes
            .push(AddressAttribute::Address(IpAddr::V6(vip)));
        let mut out = Vec::new();
        let bytes = encode(RouteNetlinkMessage::DelAddress(a));
        assert_eq!(parse_notifications(&bytes, &mut out), 1);
        let want = NetEvent::Address6Removed(Address6Spec::new(4, vip, 64));
        assert_eq!(out, [want]);
    }
}
