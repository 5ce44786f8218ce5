//! PING_CHECK: one ICMP echo through a datagram ICMP socket, falling back
//! to a raw socket when the datagram kind is not permitted.

use std::io;
use std::net::{IpAddr, SocketAddr};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use tokio::net::UdpSocket;

use crate::checkers::net::{bounded, io_reason};
use crate::{BoxFuture, CheckContext, CheckOutcome, Checker, DownReason};

/// keepalived's PING_CHECK (the port of the context is ignored).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PingChecker;

struct IcmpSocket {
    sock: UdpSocket,
    /// Raw IPv4 sockets deliver the IP header too.
    raw: bool,
}

fn open(ctx: &CheckContext) -> io::Result<IcmpSocket> {
    let (domain, proto) = match ctx.target.ip() {
        IpAddr::V4(_) => (Domain::IPV4, Protocol::ICMPV4),
        IpAddr::V6(_) => (Domain::IPV6, Protocol::ICMPV6),
    };
    let (s, raw) = match Socket::new(domain, Type::DGRAM, Some(proto)) {
        Ok(s) => (s, false),
        // EACCES: unprivileged ICMP sockets are off (ping_group_range).
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
            (Socket::new(domain, Type::RAW, Some(proto))?, true)
        }
        Err(e) => return Err(e),
    };
    s.set_nonblocking(true)?;
    crate::checkers::net::socket_options(socket2::SockRef::from(&s), ctx)?;
    if let Some(b) = ctx.bind {
        s.bind(&SockAddr::from(SocketAddr::new(b.ip(), 0)))?;
    }
    s.connect(&SockAddr::from(SocketAddr::new(ctx.target.ip(), 0)))?;
    let std_sock: std::net::UdpSocket = s.into();
    Ok(IcmpSocket {
        sock: UdpSocket::from_std(std_sock)?,
        raw: raw && ctx.target.is_ipv4(),
    })
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn echo_request(v6: bool, id: u16, seq: u16) -> Vec<u8> {
    let mut p = vec![if v6 { 128 } else { 8 }, 0, 0, 0];
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(b"keepalived-rs ping");
    if !v6 {
        let c = checksum(&p);
        p[2..4].copy_from_slice(&c.to_be_bytes());
    }
    p
}

/// Whether `pkt` (ICMP, after any IP header) is our echo reply. Datagram
/// sockets rewrite the id, so only raw sockets compare it.
fn is_reply(pkt: &[u8], v6: bool, id: Option<u16>, seq: u16) -> Option<bool> {
    let (ty, code) = (*pkt.first()?, *pkt.get(1)?);
    let reply_type = if v6 { 129 } else { 0 };
    let unreachable = if v6 { 1 } else { 3 };
    if ty == unreachable {
        // Only an error about our own echo counts: a raw socket also sees
        // the target's errors about any other traffic of this host.
        return quotes_our_echo(pkt.get(8..)?, v6, id, seq).then_some(false);
    }
    let pid = u16::from_be_bytes([*pkt.get(4)?, *pkt.get(5)?]);
    let pseq = u16::from_be_bytes([*pkt.get(6)?, *pkt.get(7)?]);
    if ty == reply_type && code == 0 && pseq == seq && id.is_none_or(|i| i == pid) {
        return Some(true);
    }
    None
}

/// Whether the packet quoted in an ICMP error is our echo request.
fn quotes_our_echo(quoted: &[u8], v6: bool, id: Option<u16>, seq: u16) -> bool {
    let inner = if v6 {
        quoted.get(40..)
    } else {
        let ihl = usize::from(quoted.first().map_or(0, |b| b & 0x0f)) * 4;
        quoted.get(ihl.max(20)..)
    };
    let Some(inner) = inner else { return false };
    let request = if v6 { 128 } else { 8 };
    let field = |i: usize| Some(u16::from_be_bytes([*inner.get(i)?, *inner.get(i + 1)?]));
    inner.first() == Some(&request)
        && field(6) == Some(seq)
        && id.is_none_or(|i| field(4) == Some(i))
}

async fn ping(ctx: &CheckContext) -> Result<(), DownReason> {
    let s = open(ctx).map_err(|e| io_reason(&e))?;
    let v6 = ctx.target.is_ipv6();
    let id = (std::process::id() & 0xffff) as u16;
    let seq = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_micros())
        & 0xffff) as u16;
    s.sock
        .send(&echo_request(v6, id, seq))
        .await
        .map_err(|e| io_reason(&e))?;
    let mut buf = vec![0u8; 2048];
    loop {
        let n = s.sock.recv(&mut buf).await.map_err(|e| io_reason(&e))?;
        let pkt = buf.get(..n).unwrap_or_default();
        match received(pkt, s.raw, v6, id, seq) {
            Some(true) => return Ok(()),
            Some(false) => return Err(DownReason::Unreachable),
            None => continue, // Someone else's ICMP: keep waiting.
        }
    }
}

/// [`is_reply`] for a datagram of the socket: a raw one delivers the IPv4
/// header first, and a datagram one rewrites the id.
fn received(pkt: &[u8], raw: bool, v6: bool, id: u16, seq: u16) -> Option<bool> {
    let icmp = if raw {
        let ihl = usize::from(pkt.first().map_or(5, |b| b & 0x0f)) * 4;
        pkt.get(ihl..).unwrap_or_default()
    } else {
        pkt
    };
    is_reply(icmp, v6, raw.then_some(id), seq)
}

impl Checker for PingChecker {
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(bounded(ctx, ping(ctx)))
    }
}

impl PingChecker {
    /// The verdict on one received datagram (`Some(true)`: our echo reply,
    /// `Some(false)`: an error about our echo, `None`: not ours), for the
    /// `hc_ping` fuzz target; not part of the API.
    #[doc(hidden)]
    pub fn fuzz_received(pkt: &[u8], raw: bool, v6: bool, id: u16, seq: u16) -> Option<bool> {
        received(pkt, raw, v6, id, seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_request_checksum_verifies() {
        let p = echo_request(false, 0x1234, 7);
        assert_eq!(checksum(&p), 0);
        assert_eq!(&p[..2], &[8, 0]);
    }

    #[test]
    fn reply_matching() {
        let mut r = echo_request(false, 9, 5);
        r[0] = 0;
        assert_eq!(is_reply(&r, false, Some(9), 5), Some(true));
        assert_eq!(is_reply(&r, false, Some(8), 5), None);
        assert_eq!(is_reply(&r, false, None, 6), None);
        assert_eq!(is_reply(&[3, 1, 0, 0], false, None, 5), None);
    }

    fn unreachable_quoting(inner: &[u8]) -> Vec<u8> {
        let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 1, 0, 0];
        ip.extend_from_slice(&[127, 0, 0, 1, 127, 0, 0, 2]);
        [&[3, 3, 0, 0, 0, 0, 0, 0][..], &ip, inner].concat()
    }

    #[test]
    fn only_an_error_about_our_echo_means_unreachable() {
        let ours = unreachable_quoting(&echo_request(false, 9, 5));
        assert_eq!(is_reply(&ours, false, Some(9), 5), Some(false));
        assert_eq!(is_reply(&ours, false, None, 5), Some(false));
        // The target's port unreachable about some UDP datagram of ours.
        let udp = unreachable_quoting(&[0x30, 0x39, 0x00, 0x35, 0, 8, 0, 0]);
        assert_eq!(is_reply(&udp, false, Some(9), 5), None);
        // Another process's echo, and a truncated quote.
        let other = unreachable_quoting(&echo_request(false, 10, 5));
        assert_eq!(is_reply(&other, false, Some(9), 5), None);
        assert_eq!(is_reply(&ours[..30], false, Some(9), 5), None);
    }
}
