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
/// Largest datagram read at once.
const RECV_CHUNK: usize = 64 << 10;

/// A blocking `NETLINK_GENERIC` socket connected to the kernel.
#[derive(Debug)]
pub struct NetlinkTransport {
    socket: Socket,
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
        Ok(NetlinkTransport { socket })
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
        buf.clear();
        buf.reserve(RECV_CHUNK);
        let n = self.socket.recv(buf, 0)?;
        if n > buf.len() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "netlink datagram truncated",
            ));
        }
        Ok(())
    }
}
