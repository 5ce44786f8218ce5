//! TCP_CHECK: a connection that completes is up.

use std::net::SocketAddr;
use std::sync::Mutex;

use crate::checkers::net::{
    bounded, connect_socket, connect_with, disconnect, io_reason, tcp_socket,
};
use crate::{BoxFuture, CheckContext, CheckOutcome, Checker, Inline};

/// keepalived's TCP_CHECK (`connect_ip`, `connect_port`, `bindto`,
/// `bind_port` come from the [`CheckContext`], `connect_timeout` is its
/// timeout).
///
/// Unlike keepalived, the connection is closed with an RST (`SO_LINGER`
/// 0): thousands of checks per second then leave no TIME_WAIT entries,
/// which otherwise fill the table and slow every new connect down.
///
/// Under [`runtime::Driver`](crate::runtime::Driver) this check is made
/// inline ([`Checker::inline`]): the driver connects itself, from a socket
/// it keeps per target, without a task per check.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpChecker;

impl Checker for TcpChecker {
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        // The stream drops (RST) as soon as it is connected.
        Box::pin(bounded(ctx, async {
            connect_with(ctx, true).await.map(drop)
        }))
    }

    fn inline(&self) -> Option<Inline> {
        Some(Inline::TcpConnect)
    }
}

/// [`TcpChecker`]'s check (a new connection that completes is up, within
/// `connect_timeout`; `bindto`, `bind_port`, `bind_if`, `fwmark`, IPv4 and
/// IPv6 alike) made from one socket kept across the checks of one target:
/// after each check the connection is reset and the socket disconnected
/// (connect() to AF_UNSPEC), ready for the next connect. That saves the
/// socket's creation, options and close on every check: keepalived-lite
/// with it used 0.84-0.85x the CPU per check it uses with [`TcpChecker`]
/// (BENCHMARKS.md, "One socket per target"). The price is one
/// descriptor held per target between checks, outside the driver's cap
/// on concurrent checks: 40,000 for 10,000 services of 4 real servers,
/// past common `RLIMIT_NOFILE` limits, and a socket that cannot be made
/// is a failed check. [`runtime::Driver`](crate::runtime::Driver) keeps
/// sockets itself for [`TcpChecker`], within its descriptor budget; this
/// checker is for those who run checks without it. Make one per target:
/// a check whose context differs from the kept socket's makes a new one.
#[derive(Debug, Default)]
pub struct ReusingTcpChecker {
    idle: Mutex<Option<Kept>>,
}

/// A socket between checks, with what it was made for.
#[derive(Debug)]
struct Kept {
    socket: socket2::Socket,
    made_for: Made,
}

/// The parts of a [`CheckContext`] a socket is made with.
#[derive(Debug, PartialEq, Eq)]
struct Made {
    target: SocketAddr,
    bind: Option<SocketAddr>,
    bind_if: Option<String>,
    mark: Option<u32>,
}

impl Made {
    fn of(ctx: &CheckContext) -> Self {
        Made {
            target: ctx.target,
            bind: ctx.bind,
            bind_if: ctx.bind_if.clone(),
            mark: ctx.mark,
        }
    }
}

impl ReusingTcpChecker {
    /// A checker with no socket yet; the first check makes it.
    pub fn new() -> Self {
        Self::default()
    }

    /// The kept socket if it was made for `ctx`, else a new one.
    fn socket(&self, ctx: &CheckContext) -> std::io::Result<Kept> {
        let made_for = Made::of(ctx);
        let kept = self.idle.lock().ok().and_then(|mut idle| idle.take());
        match kept {
            Some(k) if k.made_for == made_for => Ok(k),
            _ => Ok(Kept {
                socket: tcp_socket(ctx)?,
                made_for,
            }),
        }
    }

    /// Keeps `k` for the next check; a socket that did not disconnect is
    /// closed instead.
    fn keep(&self, k: Kept) {
        if disconnect(&k.socket).is_ok() {
            if let Ok(mut idle) = self.idle.lock() {
                *idle = Some(k);
            }
        }
    }
}

impl Checker for ReusingTcpChecker {
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(async move {
            let Kept { socket, made_for } = match self.socket(ctx) {
                Ok(k) => k,
                Err(e) => return CheckOutcome::Down(io_reason(&e)),
            };
            let (socket, outcome) = connect_socket(socket, ctx).await;
            // A check cancelled before this point closes its socket.
            self.keep(Kept { socket, made_for });
            outcome
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use std::os::fd::AsRawFd;
    use std::time::Duration;

    use test_support::{unique_addr, unique_ip};
    use tokio::net::TcpListener;

    use super::*;
    use crate::DownReason;

    fn ctx(addr: SocketAddr, ms: u64) -> CheckContext {
        CheckContext::new(addr, Duration::from_millis(ms))
    }

    /// The descriptor of the socket kept between checks.
    fn kept_fd(c: &ReusingTcpChecker) -> Option<i32> {
        c.idle
            .lock()
            .unwrap()
            .as_ref()
            .map(|k| k.socket.as_raw_fd())
    }

    /// Each check is a new connection the server accepts, from one socket.
    async fn up_from_kept_socket(c: &ReusingTcpChecker, l: &TcpListener, cx: &CheckContext) {
        let fd = kept_fd(c);
        let (got, accepted) = tokio::join!(c.check(cx), l.accept());
        assert_eq!(got, CheckOutcome::Up);
        if let Some(bind) = cx.bind {
            assert_eq!(accepted.unwrap().1.ip(), bind.ip());
        }
        assert!(kept_fd(c).is_some());
        if fd.is_some() {
            assert_eq!(kept_fd(c), fd);
        }
    }

    #[tokio::test]
    async fn one_socket_connects_anew_for_every_check() {
        let addr = unique_addr();
        let l = TcpListener::bind(addr).await.unwrap();
        let c = ReusingTcpChecker::new();
        for _ in 0..3 {
            up_from_kept_socket(&c, &l, &ctx(addr, 2000)).await;
        }
        let v6 = TcpListener::bind("[::1]:0").await.unwrap();
        let c6 = ReusingTcpChecker::new();
        for _ in 0..3 {
            up_from_kept_socket(&c6, &v6, &ctx(v6.local_addr().unwrap(), 2000)).await;
        }
    }

    #[tokio::test]
    async fn bindto_holds_for_every_check() {
        let addr = unique_addr();
        let l = TcpListener::bind(addr).await.unwrap();
        let c = ReusingTcpChecker::new();
        let cx = ctx(addr, 2000).with_bind(SocketAddr::new(unique_ip(), 0));
        for _ in 0..3 {
            up_from_kept_socket(&c, &l, &cx).await;
        }
    }

    #[tokio::test]
    async fn refused_then_up_then_refused_on_one_socket() {
        let addr = unique_addr();
        let c = ReusingTcpChecker::new();
        let refused = CheckOutcome::Down(DownReason::Refused);
        assert_eq!(c.check(&ctx(addr, 2000)).await, refused);
        let fd = kept_fd(&c);
        assert!(fd.is_some());
        let l = TcpListener::bind(addr).await.unwrap();
        up_from_kept_socket(&c, &l, &ctx(addr, 2000)).await;
        drop(l);
        assert_eq!(c.check(&ctx(addr, 2000)).await, refused);
        assert_eq!(kept_fd(&c), fd);
    }

    #[tokio::test]
    async fn timed_out_then_up_on_one_socket() {
        // A listener whose accept queue is full drops our SYN.
        let full =
            socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        let addr = unique_addr();
        full.bind(&addr.into()).unwrap();
        full.listen(0).unwrap();
        let fillers: Vec<_> = (0..4)
            .map(|_| {
                let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None);
                let s = s.unwrap();
                s.set_nonblocking(true).unwrap();
                let _ = s.connect(&addr.into());
                s
            })
            .collect();
        // Poll until the queue holds the first filler's connection.
        while fillers[0].peer_addr().is_err() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let c = ReusingTcpChecker::new();
        let timeout = CheckOutcome::Down(DownReason::Timeout);
        assert_eq!(c.check(&ctx(addr, 300)).await, timeout);
        let fd = kept_fd(&c);
        assert!(fd.is_some());
        drop((full, fillers));
        let l = TcpListener::bind(addr).await.unwrap();
        up_from_kept_socket(&c, &l, &ctx(addr, 2000)).await;
    }

    #[tokio::test]
    async fn another_context_gets_its_own_socket() {
        let (a, b) = (unique_addr(), unique_addr());
        let (la, lb) = (
            TcpListener::bind(a).await.unwrap(),
            TcpListener::bind(b).await.unwrap(),
        );
        let c = ReusingTcpChecker::new();
        up_from_kept_socket(&c, &la, &ctx(a, 2000)).await;
        let cb = ctx(b, 2000);
        let (got, accepted) = tokio::join!(c.check(&cb), lb.accept());
        assert_eq!(got, CheckOutcome::Up);
        assert!(accepted.is_ok());
        let target = c.idle.lock().unwrap().as_ref().map(|k| k.made_for.target);
        assert_eq!(target, Some(b));
    }
}
