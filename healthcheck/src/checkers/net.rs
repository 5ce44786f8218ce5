//! Shared socket helpers.

use std::io;
use std::net::SocketAddr;

use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr};

use tokio::net::{TcpSocket, TcpStream, UdpSocket};

use crate::{CheckContext, CheckOutcome, DownReason};

/// Runs one attempt within `ctx.timeout`: its error is the down reason,
/// running out of time is [`DownReason::Timeout`].
pub(crate) async fn bounded(
    ctx: &CheckContext,
    attempt: impl Future<Output = Result<(), DownReason>>,
) -> CheckOutcome {
    match tokio::time::timeout(ctx.timeout, attempt).await {
        Ok(Ok(())) => CheckOutcome::Up,
        Ok(Err(reason)) => CheckOutcome::Down(reason),
        Err(_) => CheckOutcome::Down(DownReason::Timeout),
    }
}

/// A UDP socket bound to `ctx.bind` (or any address) and connected to
/// `ctx.target`, so ICMP errors show up as socket errors.
pub(crate) async fn udp_connect(ctx: &CheckContext) -> Result<UdpSocket, DownReason> {
    let local = match (ctx.bind, ctx.target) {
        (Some(b), _) => b,
        (None, SocketAddr::V4(_)) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        (None, SocketAddr::V6(_)) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let s = UdpSocket::bind(local).await.map_err(|e| io_reason(&e))?;
    socket_options(socket2::SockRef::from(&s), ctx).map_err(|e| io_reason(&e))?;
    s.connect(ctx.target).await.map_err(|e| io_reason(&e))?;
    Ok(s)
}

/// `bind_if` (SO_BINDTODEVICE) and `fwmark` (SO_MARK) of `ctx`, set
/// before the socket connects, as keepalived's `socket_bind_connect`.
pub(crate) fn socket_options(s: socket2::SockRef<'_>, ctx: &CheckContext) -> io::Result<()> {
    if let Some(mark) = ctx.mark {
        s.set_mark(mark)?;
    }
    if let Some(dev) = &ctx.bind_if {
        s.bind_device(Some(dev.as_bytes()))?;
    }
    Ok(())
}

/// An ICMP port unreachable shows as ECONNREFUSED on a connected UDP socket.
pub(crate) fn udp_reason(e: &io::Error) -> DownReason {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => DownReason::Unreachable,
        _ => io_reason(e),
    }
}

/// Maps a socket error to a typed reason.
pub(crate) fn io_reason(e: &io::Error) -> DownReason {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => DownReason::Refused,
        io::ErrorKind::TimedOut => DownReason::Timeout,
        k => DownReason::Io(k),
    }
}

/// Connects to `ctx.target`, bound to `ctx.bind` if set.
pub(crate) async fn connect(ctx: &CheckContext) -> Result<TcpStream, DownReason> {
    connect_with(ctx, false).await
}

/// As [`connect`]; with `reset_on_close` the socket closes with an RST
/// (`SO_LINGER` 0) and leaves no TIME_WAIT entry behind.
pub(crate) async fn connect_with(
    ctx: &CheckContext,
    reset_on_close: bool,
) -> Result<TcpStream, DownReason> {
    let sock = match ctx.target {
        SocketAddr::V4(_) => TcpSocket::new_v4(),
        SocketAddr::V6(_) => TcpSocket::new_v6(),
    }
    .map_err(|e| io_reason(&e))?;
    if reset_on_close {
        sock.set_zero_linger().map_err(|e| io_reason(&e))?;
    }
    socket_options(socket2::SockRef::from(&sock), ctx).map_err(|e| io_reason(&e))?;
    if let Some(bind) = ctx.bind {
        sock.set_reuseaddr(true).map_err(|e| io_reason(&e))?;
        sock.bind(bind).map_err(|e| io_reason(&e))?;
    }
    sock.connect(ctx.target).await.map_err(|e| io_reason(&e))
}
