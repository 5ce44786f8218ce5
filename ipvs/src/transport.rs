//! The byte pipe under the [`crate::Ipvs`] handle: a netlink socket, or
//! anything else that moves datagrams (tests use a scripted one).

use std::io;

use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};

use crate::legacy::{Legacy, LegacyService};
use crate::model::DestinationEntry;

/// Moves netlink datagrams to and from the kernel.
pub trait Transport {
    /// Sends one datagram holding one or more netlink messages.
    fn send(&mut self, datagram: &[u8]) -> io::Result<()>;
    /// Receives one datagram into `buf` (cleared first).
    fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<()>;

    /// The IPv4 services as the legacy socket-option interface lists them,
    /// when this transport has that interface (default: it has not).
    fn legacy_services(&mut self) -> Option<io::Result<Vec<LegacyService>>> {
        None
    }

    /// The destinations of an IPv4 service read through the legacy
    /// interface; `Ok(None)` when that view is incomplete.
    fn legacy_dests(
        &mut self,
        _svc: &LegacyService,
    ) -> Option<io::Result<Option<Vec<DestinationEntry>>>> {
        None
    }
}

/// Receive buffer asked for (with `SO_RCVBUFFORCE` when privileged), so a
/// batch's error replies fit.
const RCVBUF: usize = 8 << 20;
/// Size of each receive buffer. The kernel sizes dump datagrams after the
/// reader's buffer (up to 32 KiB); large ones mean fewer dump rounds, and
/// the service dump restarts its walk of the service table every round.
/// Any other reply fits in `NLMSG_GOODSIZE` (at most 8 KiB).
fn recv_chunk() -> usize {
    32 << 10
}
/// Datagrams taken per `recvmmsg`: a dump's data and its `NLMSG_DONE`, or
/// the error replies of a batch, arrive together.
const RECV_BATCH: usize = 8;

/// A blocking `NETLINK_GENERIC` socket connected to the kernel.
#[derive(Debug)]
pub struct NetlinkTransport {
    socket: Socket,
    /// Raw socket for the legacy read path (None without CAP_NET_RAW).
    legacy: Option<Legacy>,
    /// `RECV_BATCH` buffers of `recv_chunk()` bytes (allocated on first use).
    bufs: Vec<Vec<u8>>,
    /// Length of the datagram in each buffer.
    lens: [usize; RECV_BATCH],
    /// Next buffer to hand out, and how many hold datagrams.
    next: usize,
    filled: usize,
}

impl NetlinkTransport {
    /// Opens the socket in the caller's network namespace.
    pub fn open() -> io::Result<Self> {
        let mut socket = Socket::new(NETLINK_GENERIC)?;
        socket.bind_auto()?;
        socket.connect(&SocketAddr::new(0, 0))?;
        // Acks carry only the request header, not the whole request.
        let _ = socket.set_cap_ack(true);
        if crate::sys_util::force_rcvbuf(&socket, RCVBUF).is_err() {
            let _ = socket.set_rx_buf_sz(RCVBUF);
        }
        Ok(NetlinkTransport {
            socket,
            legacy: Legacy::open().ok(),
            bufs: Vec::new(),
            lens: [0; RECV_BATCH],
            next: 0,
            filled: 0,
        })
    }
}

impl Transport for NetlinkTransport {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        let n = self.socket.send(datagram, 0)?;
        if n != datagram.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                "short netlink send",
            ));
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        if self.next == self.filled {
            if self.bufs.is_empty() {
                self.bufs = vec![vec![0; recv_chunk()]; RECV_BATCH];
            }
            self.filled = crate::sys_util::recv_many(&self.socket, &mut self.bufs, &mut self.lens)?;
            self.next = 0;
        }
        let ready = self.next < self.filled;
        let (true, Some(b), Some(len)) =
            (ready, self.bufs.get(self.next), self.lens.get(self.next))
        else {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "recvmmsg returned nothing",
            ));
        };
        buf.clear();
        buf.extend_from_slice(b.get(..*len).unwrap_or(b));
        self.next += 1;
        Ok(())
    }

    fn legacy_services(&mut self) -> Option<io::Result<Vec<LegacyService>>> {
        self.legacy.as_ref().map(Legacy::services)
    }

    fn legacy_dests(
        &mut self,
        svc: &LegacyService,
    ) -> Option<io::Result<Option<Vec<DestinationEntry>>>> {
        self.legacy.as_ref().map(|l| l.dests(svc))
    }
}
