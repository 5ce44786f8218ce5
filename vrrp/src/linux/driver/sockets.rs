//! The raw VRRP/AH sockets: one per (interface, channel), shared by every
//! router on it, read in batches. A channel is IPv4 VRRP, IPv4 AH or IPv6
//! VRRP (VRRPv3 over IPv6 has no authentication).
//!
//! A VMAC router receives on its VMAC's socket, as keepalived does: the
//! kernel's macvlan code hands a multicast frame whose source MAC is a
//! local private macvlan's (a peer's VMAC is the same as ours) to that
//! macvlan only, never to its base interface. Adverts from peers without
//! a VMAC reach both the base interface and the VMAC (it joined the
//! group): the base socket leaves the VRIDs of VMAC routers to their
//! VMAC's socket, and a VMAC's socket delivers only its router's VRID, so
//! each advert reaches its router once.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use super::{Driver, DriverError, DriverEvent};
use crate::linux::{
    IpProto, Link, NetWatcher, RawSocket, RawSocket6, RawSocket6Config, RawSocketConfig,
};
use crate::mux::peek_vrid;
use crate::wire;

/// Adapters whose raw fd is owned by them, open from creation to drop and
/// never replaced: the contract of [`AsyncFd::register`].
pub(super) trait OwnsFd: std::os::fd::AsRawFd {}
impl OwnsFd for RawSocket {}
impl OwnsFd for RawSocket6 {}
impl OwnsFd for NetWatcher {}

/// What a raw socket carries, and the multicast group it joins: as in
/// keepalived, routers with another group (`mcast_dst_ip`) have a socket of
/// their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Channel {
    /// IPv4, VRRP (protocol 112) or AH (51).
    V4(IpProto, Ipv4Addr),
    /// IPv6, VRRP.
    V6(Ipv6Addr),
}

/// A registered raw socket of either family.
#[derive(Debug, Clone)]
pub(super) enum Raw {
    V4(Arc<AsyncFd<RawSocket>>),
    V6(Arc<AsyncFd<RawSocket6>>),
}

impl Raw {
    fn poll_read_ready(&self, cx: &mut Context<'_>) -> bool {
        match self {
            Raw::V4(s) => s.poll_read_ready(cx).is_ready(),
            Raw::V6(s) => s.poll_read_ready(cx).is_ready(),
        }
    }

    /// True if both are the same socket.
    pub(super) fn same(&self, other: &Raw) -> bool {
        match (self, other) {
            (Raw::V4(a), Raw::V4(b)) => Arc::ptr_eq(a, b),
            (Raw::V6(a), Raw::V6(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }
}

/// Registers an adapter with the tokio reactor.
#[allow(unsafe_code)]
pub(super) fn register<T: OwnsFd>(inner: T) -> Result<AsyncFd<T>, DriverError> {
    // SAFETY: `T: OwnsFd` holds its descriptor in an owning type (socket2's
    // `Socket`, netlink-sys's `Socket`, nix's `TimerFd`) created with it and
    // closing it only when `T` is
    // dropped, which the `AsyncFd` owning `T` does after deregistering; every
    // `as_raw_fd` call returns that same descriptor.
    unsafe { AsyncFd::register(inner) }.map_err(|e| DriverError::Runtime(e.into_parts().1))
}

/// Opens and registers the raw socket for (interface, channel), joined to
/// the channel's multicast group on the interface.
pub(super) fn open_raw(link: &Link, channel: Channel) -> Result<Raw, DriverError> {
    Ok(match channel {
        Channel::V4(proto, group) => {
            let sock = RawSocket::open(RawSocketConfig {
                ifname: link.name.clone(),
                ifindex: link.index,
                proto,
                multicast: false,
            })?;
            sock.join(group)?;
            Raw::V4(Arc::new(register(sock)?))
        }
        Channel::V6(group) => {
            let sock = RawSocket6::open(RawSocket6Config {
                ifname: link.name.clone(),
                ifindex: link.index,
                multicast: false,
            })?;
            sock.join(group)?;
            Raw::V6(Arc::new(register(sock)?))
        }
    })
}

/// A raw socket the driver reads.
#[derive(Debug)]
pub(super) struct Receiver {
    pub(super) sock: Raw,
    /// The interface its routers are on in the mux (a VMAC's base).
    pub(super) ifindex: u32,
    /// The VMAC it is bound to, if any (see the module documentation).
    pub(super) vmac: Option<u32>,
}

/// At most this many datagrams are read from one socket per wake-up, so the
/// timer and the other sockets get their turn during a flood.
const READ_BATCH: usize = 64;

/// Resolves with the index of a readable receiver, scanning from `start`.
pub(super) fn readable(
    receivers: &[Receiver],
    start: usize,
) -> impl std::future::Future<Output = usize> + '_ {
    std::future::poll_fn(move |cx| {
        let n = receivers.len();
        for k in 0..n {
            let i = (start + k) % n;
            if receivers[i].sock.poll_read_ready(cx) {
                return Poll::Ready(i);
            }
        }
        Poll::Pending
    })
}

impl Driver {
    /// Reads up to [`READ_BATCH`] datagrams from receiver `i`, each handed to
    /// the mux and its outputs drained at once.
    pub(super) fn read_socket(&mut self, i: usize) {
        let Some(r) = self.receivers.get(i) else {
            return;
        };
        let (sock, ifindex, vmac) = (r.sock.clone(), r.ifindex, r.vmac);
        let mut buf = std::mem::take(&mut self.rx_buf);
        match sock {
            Raw::V4(sock) => self.read_v4(&sock, ifindex, vmac, &mut buf),
            Raw::V6(sock) => self.read_v6(&sock, ifindex, vmac, &mut buf),
        }
        self.rx_buf = buf;
    }

    /// True if a datagram for `vrid` (`None`: undecodable) read from a
    /// socket on `ifindex` bound to `vmac` goes to the mux: its router's
    /// VMAC is that socket's (none for a base interface's socket). An
    /// undecodable one is counted by the base interface's socket only.
    fn takes(&self, ifindex: u32, vmac: Option<u32>, vrid: Option<u8>, to: IpAddr) -> bool {
        let owner = vrid
            .and_then(|v| self.mux.find_for(ifindex, v, to.is_ipv6(), to))
            .and_then(|id| self.io(id.0 as usize))
            .and_then(|r| r.rx_vmac());
        owner == vmac
    }

    fn read_v4(
        &mut self,
        sock: &AsyncFd<RawSocket>,
        ifindex: u32,
        vmac: Option<u32>,
        buf: &mut [u8],
    ) {
        for _ in 0..READ_BATCH {
            let (n, arrived) = match sock.try_io(Interest::READABLE, |s| s.recv_timed(buf)) {
                Ok(r) => r,
                Err(e) => {
                    // WouldBlock (readiness cleared) or an error, logged.
                    self.receive_failed(sock.as_raw_fd(), &e);
                    break;
                }
            };
            let Some(data) = buf.get(..n) else { continue };
            // A raw IPv4 socket reads the IP header: the destination at 16.
            let to = (data.get(16..20))
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), IpAddr::from);
            if !self.takes(ifindex, vmac, peek_vrid(data).ok(), to) {
                continue;
            }
            self.counters.datagrams_received += 1;
            let now = self.arrival_instant(arrived);
            let src = data
                .get(12..16)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(Ipv4Addr::UNSPECIFIED, Ipv4Addr::from);
            if self.mux.handle_datagram(now, ifindex, src, data).is_none() {
                let multicast = data.get(16).is_some_and(|b| (224..240).contains(b));
                self.unknown_vrid(ifindex, peek_vrid(data).ok(), src.into(), multicast);
            }
            self.drain(now);
        }
    }

    /// A datagram the mux did not route: with `log_unknown_vrids`, one of
    /// a VRID unknown here (an undecodable one has no VRID) is reported;
    /// a multicast one only if a multicast router is on the interface
    /// (keepalived joins 224.0.0.18 / ff02::12 only for those, so it never
    /// sees the others; this socket is always joined).
    fn unknown_vrid(&mut self, ifindex: u32, vrid: Option<u8>, from: IpAddr, multicast: bool) {
        let Some(vrid) = vrid.filter(|_| self.report_unknown_vrids) else {
            return;
        };
        let family_multicast = |id| {
            self.mux.ifindex(id) == Some(ifindex)
                && self.mux.router(id).is_some_and(|r| {
                    r.config().ipv6.is_some() == from.is_ipv6() && !r.config().is_unicast()
                })
        };
        if multicast && !self.mux.ids().any(family_multicast) {
            return;
        }
        let interface = self
            .links
            .get(&ifindex)
            .map_or_else(String::new, |l| l.name.clone());
        let shared = !multicast && self.mux.unicast_sharing(ifindex, vrid, from.is_ipv6()) > 1;
        self.emit(DriverEvent::UnknownVrid {
            interface,
            vrid,
            from,
            shared,
        });
    }

    /// IPv6 messages come without their IP header: the socket reports the
    /// source, destination and hop limit, which the router checks.
    fn read_v6(
        &mut self,
        sock: &AsyncFd<RawSocket6>,
        ifindex: u32,
        vmac: Option<u32>,
        buf: &mut [u8],
    ) {
        for _ in 0..READ_BATCH {
            let (n, meta, arrived) = match sock.try_io(Interest::READABLE, |s| s.recv_timed(buf)) {
                Ok(r) => r,
                Err(e) => {
                    self.receive_failed(sock.as_raw_fd(), &e);
                    break;
                }
            };
            let Some(data) = buf.get(..n) else { continue };
            let vrid = wire::vrrp::Packet::new_checked(data).map(|p| p.vrid());
            if !self.takes(ifindex, vmac, vrid.ok(), IpAddr::V6(meta.dst)) {
                continue;
            }
            self.counters.datagrams_received += 1;
            let now = self.arrival_instant(arrived);
            if self
                .mux
                .handle_datagram_v6(now, ifindex, &meta, data)
                .is_none()
            {
                let multicast = meta.dst.is_multicast();
                self.unknown_vrid(ifindex, vrid.ok(), meta.src.into(), multicast);
            }
            self.drain(now);
        }
    }
}
