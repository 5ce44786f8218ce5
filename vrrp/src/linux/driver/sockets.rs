//! The raw VRRP/AH sockets: one per (interface, protocol), shared by every
//! router on it, read in batches.

use std::net::Ipv4Addr;
use std::sync::Arc;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;

use super::{Driver, DriverError};
use crate::linux::{IpProto, Link, NetWatcher, RawSocket, RawSocketConfig};

/// Adapters whose raw fd is owned by them, open from creation to drop and
/// never replaced: the contract of [`AsyncFd::register`].
pub(super) trait OwnsFd: std::os::fd::AsRawFd {}
impl OwnsFd for RawSocket {}
impl OwnsFd for NetWatcher {}

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

/// Opens and registers the raw socket for (interface, protocol).
/// `deliver` says whether what it receives goes to the mux (a VMAC's send
/// socket joins no group and only has its queue drained).
pub(super) fn open_raw(
    link: &Link,
    proto: IpProto,
    deliver: bool,
) -> Result<Arc<AsyncFd<RawSocket>>, DriverError> {
    let sock = RawSocket::open(RawSocketConfig {
        ifname: link.name.clone(),
        ifindex: link.index,
        proto,
        multicast: deliver,
    })?;
    Ok(Arc::new(register(sock)?))
}

/// A raw socket the driver reads.
#[derive(Debug)]
pub(super) struct Receiver {
    pub(super) sock: Arc<AsyncFd<RawSocket>>,
    pub(super) ifindex: u32,
    pub(super) deliver: bool,
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
            if receivers[i].sock.poll_read_ready(cx).is_ready() {
                return std::task::Poll::Ready(i);
            }
        }
        std::task::Poll::Pending
    })
}

impl Driver {
    /// Reads up to [`READ_BATCH`] datagrams from receiver `i`, each handed to
    /// the mux and its outputs drained at once.
    pub(super) fn read_socket(&mut self, i: usize) {
        let Some(r) = self.receivers.get(i) else {
            return;
        };
        let (sock, ifindex, deliver) = (r.sock.clone(), r.ifindex, r.deliver);
        let mut buf = std::mem::take(&mut self.rx_buf);
        for _ in 0..READ_BATCH {
            let (n, arrived) = match sock.try_io(Interest::READABLE, |s| s.recv_timed(&mut buf)) {
                Ok(r) => r,
                Err(_) => break, // WouldBlock (readiness cleared) or an error
            };
            if !deliver {
                continue;
            }
            let Some(data) = buf.get(..n) else { continue };
            self.counters.datagrams_received += 1;
            let now = self.arrival_instant(arrived);
            let src = data
                .get(12..16)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(Ipv4Addr::UNSPECIFIED, Ipv4Addr::from);
            self.mux.handle_datagram(now, ifindex, src, data);
            self.drain(now);
        }
        self.rx_buf = buf;
    }
}
