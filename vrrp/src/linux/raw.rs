//! Raw IPv4 sockets for VRRP (protocol 112) and IPsec AH (protocol 51).

use std::io::{self, IoSliceMut, Read};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};

use super::LinuxError;

/// The VRRP multicast group, 224.0.0.18 (RFC 3768 section 5.2.2).
pub const VRRP_MULTICAST: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// The IP protocol a [`RawSocket`] carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IpProto {
    /// VRRP, protocol 112 (no authentication or PASS).
    Vrrp,
    /// IPsec Authentication Header, protocol 51 (keepalived's `auth_type AH`).
    Ah,
}

impl IpProto {
    /// The IPv4 protocol number.
    pub fn number(self) -> u8 {
        match self {
            IpProto::Vrrp => 112,
            IpProto::Ah => 51,
        }
    }
}

/// How to open a [`RawSocket`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSocketConfig {
    /// Interface to bind to (`SO_BINDTODEVICE`); only its traffic is received
    /// and all sends leave through it.
    pub ifname: String,
    /// Its index, for the multicast membership.
    pub ifindex: u32,
    /// Protocol 112 or 51.
    pub proto: IpProto,
    /// Join 224.0.0.18 on the interface. Leave off for unicast peers only.
    pub multicast: bool,
}

/// A nonblocking raw IPv4 socket for one protocol on one interface.
///
/// Sends take a whole IPv4 datagram (header included, `IP_HDRINCL`): the
/// kernel fills in the header checksum, and the source address and
/// identification when they are zero. Receives return whole datagrams,
/// header included, optionally with the kernel's arrival time
/// (`SO_TIMESTAMPNS`). Multicast loopback is off, multicast TTL is 255, and
/// `IP_MULTICAST_ALL` is off so only groups joined on this socket arrive.
#[derive(Debug)]
pub struct RawSocket {
    sock: Socket,
    config: RawSocketConfig,
}

impl RawSocket {
    /// Opens and configures the socket in the caller's network namespace.
    pub fn open(config: RawSocketConfig) -> Result<Self, LinuxError> {
        let proto = Protocol::from(i32::from(config.proto.number()));
        let sock = Socket::new(Domain::IPV4, Type::RAW, Some(proto))
            .map_err(LinuxError::io("open raw socket"))?;
        sock.set_nonblocking(true)
            .map_err(LinuxError::io("set nonblocking"))?;
        sock.set_header_included_v4(true)
            .map_err(LinuxError::io("set IP_HDRINCL"))?;
        sock.bind_device(Some(config.ifname.as_bytes()))
            .map_err(LinuxError::io("bind to device"))?;
        sock.set_multicast_loop_v4(false)
            .map_err(LinuxError::io("set IP_MULTICAST_LOOP"))?;
        sock.set_multicast_ttl_v4(255)
            .map_err(LinuxError::io("set IP_MULTICAST_TTL"))?;
        sock.set_multicast_all_v4(false)
            .map_err(LinuxError::io("set IP_MULTICAST_ALL"))?;
        nix::sys::socket::setsockopt(&sock, nix::sys::socket::sockopt::ReceiveTimestampns, &true)
            .map_err(|e| LinuxError::Io {
            op: "set SO_TIMESTAMPNS",
            source: e.into(),
        })?;
        if config.multicast {
            sock.join_multicast_v4_n(
                &VRRP_MULTICAST,
                &InterfaceIndexOrAddress::Index(config.ifindex),
            )
            .map_err(LinuxError::io("join 224.0.0.18"))?;
        }
        Ok(RawSocket { sock, config })
    }

    /// Joins `group` on the socket's interface (keepalived's
    /// `vrrp_mcast_group4` or `mcast_dst_ip`); with `IP_MULTICAST_ALL` off
    /// the socket then receives the group's datagrams.
    pub fn join(&self, group: Ipv4Addr) -> Result<(), LinuxError> {
        let ifindex = InterfaceIndexOrAddress::Index(self.config.ifindex);
        (self.sock.join_multicast_v4_n(&group, &ifindex))
            .map_err(LinuxError::io("join multicast group"))
    }

    /// The configuration the socket was opened with.
    pub fn config(&self) -> &RawSocketConfig {
        &self.config
    }

    /// Sends one whole IPv4 datagram (header included) to `dst`, which must
    /// match the header's destination.
    pub fn send_to(&self, datagram: &[u8], dst: Ipv4Addr) -> io::Result<usize> {
        self.sock
            .send_to(datagram, &SockAddr::from(SocketAddrV4::new(dst, 0)))
    }

    /// Receives one whole IPv4 datagram into `buf`, returning its length
    /// (truncated to `buf.len()`). [`io::ErrorKind::WouldBlock`] when none is
    /// queued.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        (&self.sock).read(buf)
    }

    /// Like [`recv`](Self::recv), also returning when the kernel received
    /// the datagram (wall clock; `None` if the kernel gave no timestamp).
    /// Protocol timers start at arrival, not when a busy reader got to it.
    pub fn recv_timed(&self, buf: &mut [u8]) -> io::Result<(usize, Option<SystemTime>)> {
        use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
        let mut cmsg = nix::cmsg_space!(nix::sys::time::TimeSpec);
        let mut iov = [IoSliceMut::new(buf)];
        let msg = recvmsg::<()>(
            self.sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::empty(),
        )
        .map_err(io::Error::from)?;
        let mut at = None;
        if let Ok(cmsgs) = msg.cmsgs() {
            for c in cmsgs {
                if let ControlMessageOwned::ScmTimestampns(ts) = c {
                    let since_epoch = Duration::new(
                        u64::try_from(ts.tv_sec()).unwrap_or(0),
                        u32::try_from(ts.tv_nsec()).unwrap_or(0),
                    );
                    at = UNIX_EPOCH.checked_add(since_epoch);
                }
            }
        }
        Ok((msg.bytes, at))
    }
}

impl AsFd for RawSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for RawSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}
