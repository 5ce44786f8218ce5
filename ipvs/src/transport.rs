//! The byte pipe under the [`crate::Ipvs`] handle: a netlink socket, or
//! anything else that moves datagrams (tests use a scripted one).

use std::io;

use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};

/// Moves netlink datagrams to and from the kernel.
pub trait Transport {
    /// Sends one datagram holding one or more netlink messages.
    fn send(&mut self, datagram: &[u8]) -> io::Result<()>;
    /// Receives one datagram into `buf` (cleared first).
    fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<()>;
}

/// Receive buffer asked for (with `SO_RCVBUFFORCE` when privileged), so a
/// batch's error replies fit.
const RCVBUF: usize = 8 << 20;
/// Largest datagram read at once (the kernel caps dump messages at 32 KiB).
const RECV_CHUNK: usize = 64 << 10;
/// Datagrams taken per `recvmmsg`: a dump's data and its `NLMSG_DONE`, or
/// the error replies of a batch, arrive together.
const RECV_BATCH: usize = 8;

/// A blocking `NETLINK_GENERIC` socket connected to the kernel.
#[derive(Debug)]
pub struct NetlinkTransport {
    socket: Socket,
    /// `RECV_BATCH` buffers of `RECV_CHUNK` bytes (allocated on first use).
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
                self.bufs = vec![vec![0; RECV_CHUNK]; RECV_BATCH];
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
}
