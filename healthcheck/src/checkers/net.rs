//! Shared socket helpers.

use std::io;
use std::net::SocketAddr;

use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr};

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
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

/// A non-blocking, unconnected TCP socket for `ctx`: its `fwmark` and
/// `bind_if`, and bound to `bindto` if set (with SO_REUSEADDR, as
/// [`connect_with`]).
pub(crate) fn tcp_socket(ctx: &CheckContext) -> io::Result<socket2::Socket> {
    let ty = socket2::Type::STREAM.nonblocking().cloexec();
    let s = socket2::Socket::new(
        socket2::Domain::for_address(ctx.target),
        ty,
        Some(socket2::Protocol::TCP),
    )?;
    socket_options(socket2::SockRef::from(&s), ctx)?;
    if let Some(bind) = ctx.bind {
        s.set_reuse_address(true)?;
        s.bind(&bind.into())?;
    }
    Ok(s)
}

/// Connects `s` to `ctx.target` and waits, within `ctx.timeout`, until
/// the connect completes (up) or fails; gives the socket back for the
/// next check. It is registered with the reactor only while it connects,
/// from after connect() (as tokio's own `TcpSocket::connect` does): tokio
/// keeps a hang-up as a final state, and an unconnected socket, as this
/// one is between checks, reports one.
pub(crate) async fn connect_socket(
    s: socket2::Socket,
    ctx: &CheckContext,
) -> (socket2::Socket, CheckOutcome) {
    match s.connect(&ctx.target.into()) {
        Ok(()) => return (s, CheckOutcome::Up),
        Err(e) if e.raw_os_error() == Some(nix::errno::Errno::EINPROGRESS as i32) => {}
        Err(e) => return (s, CheckOutcome::Down(io_reason(&e))),
    }
    // SAFETY: socket2's `Socket` owns its descriptor from creation until
    // it is dropped, and `into_inner` gives it back only after
    // deregistering; its `as_raw_fd` always returns that descriptor.
    #[allow(unsafe_code)]
    let registered = unsafe { AsyncFd::register_with_interest(s, Interest::WRITABLE) };
    match registered {
        Ok(fd) => {
            let outcome = bounded(ctx, connected(&fd)).await;
            (fd.into_inner(), outcome)
        }
        Err(e) => {
            let (s, e) = e.into_parts();
            (s, CheckOutcome::Down(io_reason(&e)))
        }
    }
}

/// Waits until `fd`'s connect completes (`Ok`) or fails; a wake-up while
/// it is still under way is told apart by the socket not being connected.
async fn connected(fd: &AsyncFd<socket2::Socket>) -> Result<(), DownReason> {
    loop {
        let mut ready = fd.writable().await.map_err(|e| io_reason(&e))?;
        if let Some(e) = fd.get_ref().take_error().map_err(|e| io_reason(&e))? {
            return Err(io_reason(&e));
        }
        match fd.get_ref().peer_addr() {
            Ok(_) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotConnected => ready.clear_ready(),
            Err(e) => return Err(io_reason(&e)),
        }
    }
}

/// Drops `s`'s connection, or its connect under way, and leaves it
/// unconnected with its options and binding, ready to connect again:
/// connect() to an AF_UNSPEC address. Linux then resets an established
/// connection (an RST, no TIME_WAIT entry) and frees its ephemeral port.
pub(crate) fn disconnect(s: &socket2::Socket) -> io::Result<()> {
    s.connect(&unspecified())
}

/// The AF_UNSPEC address disconnect() connects to.
#[allow(unsafe_code)]
fn unspecified() -> socket2::SockAddr {
    let len = std::mem::size_of::<nix::libc::sa_family_t>() as nix::libc::socklen_t;
    // SAFETY: all zeroes is a valid sockaddr_storage: family AF_UNSPEC
    // (0); the length covers only that family field.
    unsafe { socket2::SockAddr::new(std::mem::zeroed(), len) }
}
