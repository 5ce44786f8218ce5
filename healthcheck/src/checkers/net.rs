//! Shared socket helpers.

use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpSocket, TcpStream};

use crate::{CheckContext, DownReason};

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
    if let Some(bind) = ctx.bind {
        sock.set_reuseaddr(true).map_err(|e| io_reason(&e))?;
        sock.bind(bind).map_err(|e| io_reason(&e))?;
    }
    sock.connect(ctx.target).await.map_err(|e| io_reason(&e))
}
