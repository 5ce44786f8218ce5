//! The object-safe async `Checker` trait that built-in and user checks implement.

use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::time::Duration;

use crate::CheckOutcome;

/// A boxed, sendable future: what [`Checker::check`] returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Everything a checker needs to know about one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CheckContext {
    /// The address to check (keepalived's `connect_ip`/`connect_port`,
    /// defaulting to the real server).
    pub target: SocketAddr,
    /// The time allowed for the whole attempt (`connect_timeout`).
    pub timeout: Duration,
    /// The local address to bind to (`bindto` and `bind_port`), if any.
    pub bind: Option<SocketAddr>,
}

impl CheckContext {
    /// A context for `target` with `timeout` and no bind address.
    pub fn new(target: SocketAddr, timeout: Duration) -> Self {
        Self {
            target,
            timeout,
            bind: None,
        }
    }

    /// The same context bound to a local address.
    pub fn with_bind(mut self, bind: SocketAddr) -> Self {
        self.bind = Some(bind);
        self
    }
}

/// One kind of health check. Object safe: store checkers as
/// `Arc<dyn Checker>`.
///
/// A check must finish by itself within `ctx.timeout` (the driver also
/// enforces it) and must never block the thread: a slow check only delays
/// its own result.
pub trait Checker: Send + Sync + fmt::Debug {
    /// Runs one attempt against `ctx.target`.
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome>;
}
