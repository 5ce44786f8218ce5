//! Raw IPv6 sockets for VRRPv3 (protocol 112, RFC 9568 over IPv6).

use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Ipv6Addr, SocketAddrV6};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::socket::{recvmsg, sendmsg, sockopt, ControlMessage, MsgFlags, SockaddrIn6};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};

use super::LinuxError;
use crate::wire::{Ipv6Meta, IPPROTO_VRRP, VRRP_MCAST_V6, VRRP_TTL};

/// How to open a [`RawSocket6`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSocket6Config {
    /// Interface to bind to (`SO_BINDTODEVICE`).
    pub ifname: String,
    /// Its index: multicast membership, outgoing interface and the scope
    /// of link-local destinations.
    pub ifindex: u32,
    /// Join ff02::12 on the interface. Leave off for a socket that only
    /// sends (a VMAC's).
    pub multicast: bool,
}

/// A nonblocking raw IPv6 socket for VRRP on one interface, joined to
/// ff02::12 unless configured not to.
///
/// Sends take the VRRP message (the kernel adds the IPv6 header) and leave
/// with hop limit 255, multicast and unicast; the checksum is the caller's
/// ([`crate::wire::encode_v6`] fills it, over the source address that
/// [`send_from`](Self::send_from) then imposes). Multicast loopback is off.
/// [`recv`](Self::recv) reports the sender, the destination
/// (`IPV6_PKTINFO`), the hop limit (`IPV6_HOPLIMIT`) and the kernel's
/// arrival time (`SO_TIMESTAMPNS`) for
/// [`crate::wire::decode_v6`], which drops a hop limit below 255 and an
/// unspecified or multicast source (a global one passes, as in
/// keepalived 2.2.7).
#[derive(Debug)]
pub struct RawSocket6 {
    sock: Socket,
    config: RawSocket6Config,
}

impl RawSocket6 {
    /// Opens and configures the socket in the caller's network namespace.
    pub fn open(config: RawSocket6Config) -> Result<Self, LinuxError> {
        let proto = Protocol::from(i32::from(IPPROTO_VRRP));
        let sock = Socket::new(Domain::IPV6, Type::RAW, Some(proto))
            .map_err(LinuxError::io("open raw IPv6 socket"))?;
        sock.set_nonblocking(true)
            .map_err(LinuxError::io("set nonblocking"))?;
        sock.bind_device(Some(config.ifname.as_bytes()))
            .map_err(LinuxError::io("bind to device"))?;
        sock.set_multicast_loop_v6(false)
            .map_err(LinuxError::io("set IPV6_MULTICAST_LOOP"))?;
        sock.set_multicast_hops_v6(u32::from(VRRP_TTL))
            .map_err(LinuxError::io("set IPV6_MULTICAST_HOPS"))?;
        sock.set_unicast_hops_v6(u32::from(VRRP_TTL))
            .map_err(LinuxError::io("set IPV6_UNICAST_HOPS"))?;
        sock.set_multicast_if_v6(config.ifindex)
            .map_err(LinuxError::io("set IPV6_MULTICAST_IF"))?;
        nix::sys::socket::setsockopt(&sock, sockopt::Ipv6RecvPacketInfo, &true).map_err(|e| {
            LinuxError::Io {
                op: "set IPV6_RECVPKTINFO",
                source: e.into(),
            }
        })?;
        sock.set_recv_hoplimit_v6(true)
            .map_err(LinuxError::io("set IPV6_RECVHOPLIMIT"))?;
        nix::sys::socket::setsockopt(&sock, sockopt::ReceiveTimestampns, &true).map_err(|e| {
            LinuxError::Io {
                op: "set SO_TIMESTAMPNS",
                source: e.into(),
            }
        })?;
        if config.multicast {
            sock.join_multicast_v6(&VRRP_MCAST_V6, config.ifindex)
                .map_err(LinuxError::io("join ff02::12"))?;
        }
        Ok(RawSocket6 { sock, config })
    }

    /// Joins `group` on the socket's interface (keepalived's
    /// `vrrp_mcast_group6` or `mcast_dst_ip`).
    pub fn join(&self, group: Ipv6Addr) -> Result<(), LinuxError> {
        (self.sock.join_multicast_v6(&group, self.config.ifindex))
            .map_err(LinuxError::io("join multicast group"))
    }

    /// The configuration the socket was opened with.
    pub fn config(&self) -> &RawSocket6Config {
        &self.config
    }

    /// Sends one VRRP message to `dst` (ff02::12 or a link-local or global
    /// peer), from the interface's address the kernel picks (its
    /// link-local one for ff02::12).
    pub fn send_to(&self, payload: &[u8], dst: Ipv6Addr) -> io::Result<usize> {
        let to = SocketAddrV6::new(dst, 0, 0, self.config.ifindex);
        self.sock.send_to(payload, &SockAddr::from(to))
    }

    /// Sends one VRRP message to `dst` from `src` (`IPV6_PKTINFO`): the
    /// address its checksum was computed over, whatever the kernel would
    /// pick (an interface may have several link-local addresses).
    pub fn send_from(&self, payload: &[u8], src: Ipv6Addr, dst: Ipv6Addr) -> io::Result<usize> {
        let to = SockaddrIn6::from(SocketAddrV6::new(dst, 0, 0, self.config.ifindex));
        let info = libc::in6_pktinfo {
            ipi6_addr: libc::in6_addr {
                s6_addr: src.octets(),
            },
            ipi6_ifindex: self.config.ifindex,
        };
        let cmsg = [ControlMessage::Ipv6PacketInfo(&info)];
        let iov = [IoSlice::new(payload)];
        sendmsg(
            self.sock.as_raw_fd(),
            &iov,
            &cmsg,
            MsgFlags::empty(),
            Some(&to),
        )
        .map_err(io::Error::from)
    }

    /// Receives one VRRP message into `buf` (truncated to `buf.len()`) with
    /// its sender, destination and hop limit (unspecified and 0 if the
    /// kernel did not report them). [`io::ErrorKind::WouldBlock`] when none
    /// is queued.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<(usize, Ipv6Meta)> {
        self.recv_timed(buf).map(|(n, meta, _)| (n, meta))
    }

    /// Like [`recv`](Self::recv), also returning when the kernel received
    /// the message (wall clock; `None` if the kernel gave no timestamp).
    pub fn recv_timed(&self, buf: &mut [u8]) -> io::Result<(usize, Ipv6Meta, Option<SystemTime>)> {
        // nix's recvmsg hands the kernel the vector's capacity and leaves
        // its length alone: zero-filled, the vector holds what the kernel
        // wrote, readable without unsafe code. (nix 0.29 does not decode
        // IPV6_HOPLIMIT.)
        let mut cmsg = vec![0u8; CMSG_BUF_LEN];
        let mut iov = [IoSliceMut::new(buf)];
        let msg = recvmsg::<SockaddrIn6>(
            self.sock.as_raw_fd(),
            &mut iov,
            Some(&mut cmsg),
            MsgFlags::empty(),
        )
        .map_err(io::Error::from)?;
        let src = msg.address.map_or(Ipv6Addr::UNSPECIFIED, |a| a.ip());
        let bytes = msg.bytes;
        let mut meta = Ipv6Meta {
            src,
            dst: Ipv6Addr::UNSPECIFIED,
            hop_limit: 0,
        };
        let at = read_cmsgs(&cmsg, &mut meta);
        Ok((bytes, meta, at))
    }
}

/// Room for IPV6_PKTINFO (20 bytes), IPV6_HOPLIMIT (4 bytes) and
/// SCM_TIMESTAMPNS (16 bytes), each behind a 16-byte header and padded to
/// 8 bytes.
const CMSG_BUF_LEN: usize = 96;

/// Size of `struct cmsghdr` (and the data offset; already aligned).
const CMSG_HDR_LEN: usize = std::mem::size_of::<libc::cmsghdr>();

/// Control messages are padded to the size of `size_t`.
const CMSG_ALIGN: usize = std::mem::size_of::<usize>();

/// Size of `cmsghdr.cmsg_len`.
const LEN: usize = std::mem::size_of::<usize>();

/// Fills the destination (IPV6_PKTINFO) and hop limit (IPV6_HOPLIMIT) from
/// the control messages in `buf` and returns the arrival time
/// (SCM_TIMESTAMPNS): `struct cmsghdr { size_t len; int level; int type; }`
/// then the data, each message padded to `size_t`.
fn read_cmsgs(buf: &[u8], meta: &mut Ipv6Meta) -> Option<SystemTime> {
    let mut arrived = None;
    let mut at = 0;
    while let Some(hdr) = buf.get(at..at + CMSG_HDR_LEN) {
        let len = usize::from_ne_bytes(hdr[..LEN].try_into().unwrap_or([0; LEN]));
        let level = i32::from_ne_bytes(hdr[LEN..LEN + 4].try_into().unwrap_or([0; 4]));
        let kind = i32::from_ne_bytes(hdr[LEN + 4..LEN + 8].try_into().unwrap_or([0; 4]));
        let Some(data) = buf.get(at + CMSG_HDR_LEN..at + len.max(CMSG_HDR_LEN)) else {
            return arrived;
        };
        if len < CMSG_HDR_LEN {
            return arrived;
        }
        if (level, kind) == (libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS) {
            arrived = timespec(data);
        }
        if level == libc::IPPROTO_IPV6 {
            match (kind, data.get(..16), data.get(..4)) {
                (libc::IPV6_PKTINFO, Some(a), _) => {
                    meta.dst = Ipv6Addr::from(<[u8; 16]>::try_from(a).unwrap_or([0; 16]));
                }
                (libc::IPV6_HOPLIMIT, _, Some(h)) => {
                    let h = i32::from_ne_bytes(h.try_into().unwrap_or([0; 4]));
                    meta.hop_limit = u8::try_from(h).unwrap_or(0);
                }
                _ => {}
            }
        }
        at += len.div_ceil(CMSG_ALIGN) * CMSG_ALIGN;
    }
    arrived
}

/// A `struct timespec` (two 64-bit fields) as a wall-clock time.
fn timespec(data: &[u8]) -> Option<SystemTime> {
    let secs = i64::from_ne_bytes(data.get(..8)?.try_into().ok()?);
    let nanos = i64::from_ne_bytes(data.get(8..16)?.try_into().ok()?);
    let since_epoch = Duration::new(u64::try_from(secs).ok()?, u32::try_from(nanos).ok()?);
    UNIX_EPOCH.checked_add(since_epoch)
}

impl AsFd for RawSocket6 {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

impl AsRawFd for RawSocket6 {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmsg(level: i32, kind: i32, data: &[u8]) -> Vec<u8> {
        let len = CMSG_HDR_LEN + data.len();
        let mut m = Vec::new();
        m.extend(len.to_ne_bytes());
        m.extend(level.to_ne_bytes());
        m.extend(kind.to_ne_bytes());
        m.extend(data);
        m.resize(len.div_ceil(CMSG_ALIGN) * CMSG_ALIGN, 0);
        m
    }

    #[test]
    fn control_messages_give_destination_and_hop_limit() {
        let mut pktinfo = VRRP_MCAST_V6.octets().to_vec();
        pktinfo.extend(7u32.to_ne_bytes());
        let mut buf = cmsg(libc::IPPROTO_IPV6, libc::IPV6_PKTINFO, &pktinfo);
        buf.extend(cmsg(
            libc::IPPROTO_IPV6,
            libc::IPV6_HOPLIMIT,
            &64i32.to_ne_bytes(),
        ));
        let mut ts = 1_700_000_000i64.to_ne_bytes().to_vec();
        ts.extend(250_000_000i64.to_ne_bytes());
        buf.extend(cmsg(libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS, &ts));
        buf.resize(CMSG_BUF_LEN, 0);
        let mut meta = Ipv6Meta {
            src: Ipv6Addr::UNSPECIFIED,
            dst: Ipv6Addr::UNSPECIFIED,
            hop_limit: 0,
        };
        let at = read_cmsgs(&buf, &mut meta);
        assert_eq!((meta.dst, meta.hop_limit), (VRRP_MCAST_V6, 64));
        let want = UNIX_EPOCH + Duration::new(1_700_000_000, 250_000_000);
        assert_eq!(at, Some(want));
    }

    #[test]
    fn truncated_or_garbage_control_data_is_ignored() {
        let mut meta = Ipv6Meta {
            src: Ipv6Addr::UNSPECIFIED,
            dst: Ipv6Addr::UNSPECIFIED,
            hop_limit: 0,
        };
        for buf in [vec![0xff; 64], vec![0; 64], vec![1; 10], Vec::new()] {
            assert_eq!(read_cmsgs(&buf, &mut meta), None);
        }
        let bad_time = cmsg(libc::SOL_SOCKET, libc::SCM_TIMESTAMPNS, &[0xff; 16]);
        assert_eq!(read_cmsgs(&bad_time, &mut meta), None);
        let huge = cmsg(libc::IPPROTO_IPV6, libc::IPV6_HOPLIMIT, &[0; 4]);
        read_cmsgs(&huge[..20], &mut meta);
        assert_eq!((meta.dst, meta.hop_limit), (Ipv6Addr::UNSPECIFIED, 0));
    }
}
