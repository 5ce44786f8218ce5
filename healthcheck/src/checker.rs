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
    /// The interface the socket is bound to (`bind_if`, SO_BINDTODEVICE).
    pub bind_if: Option<String>,
    /// The firewall mark of the check's packets (`fwmark`, SO_MARK).
    pub mark: Option<u32>,
    /// Which urls this attempt checks (HTTP_GET/SSL_GET; other checkers
    /// ignore it). The driver sets it from [`crate::Due::urls`].
    pub urls: UrlSpan,
}

/// Which of a checker's `url` blocks one attempt checks, in order.
/// keepalived's HTTP checker keeps a cursor over its urls and checks one
/// url per step: the [`crate::Monitor`] issues [`UrlSpan::Only`] for a
/// target with several urls ([`crate::TargetConfig::urls`]), and
/// [`UrlSpan::From`] (every url from the cursor in one attempt) for one
/// whose url count it was not told. Checkers without urls ignore this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UrlSpan {
    /// The url at this index and every later one; `From(0)` is them all.
    /// Kept for checkers driven without a url count, and for embedders
    /// that drive a checker themselves.
    From(usize),
    /// Only the url at this index.
    Only(usize),
}

impl Default for UrlSpan {
    /// Every url.
    fn default() -> Self {
        Self::From(0)
    }
}

impl UrlSpan {
    /// The index of the first url checked.
    pub fn first(self) -> usize {
        match self {
            Self::From(i) | Self::Only(i) => i,
        }
    }
}

impl CheckContext {
    /// A context for `target` with `timeout` and no bind address.
    pub fn new(target: SocketAddr, timeout: Duration) -> Self {
        Self {
            target,
            timeout,
            bind: None,
            bind_if: None,
            mark: None,
            urls: UrlSpan::default(),
        }
    }

    /// The same context checking these urls.
    pub fn with_urls(mut self, urls: UrlSpan) -> Self {
        self.urls = urls;
        self
    }

    /// The same context with its sockets bound to interface `name`.
    pub fn with_bind_if(mut self, name: impl Into<String>) -> Self {
        self.bind_if = Some(name.into());
        self
    }

    /// The same context marking its packets with `mark`.
    pub fn with_mark(mut self, mark: u32) -> Self {
        self.mark = Some(mark);
        self
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
/// A check must finish by itself within `ctx.timeout` (the driver cuts it
/// shortly after) and must never block the thread: a slow check only delays
/// its own result. A check that panics is reported as
/// [`DownReason::CheckerPanicked`](crate::DownReason::CheckerPanicked) by
/// the driver.
///
/// # Example: a user checker
/// ```
/// use std::time::Duration;
/// use healthcheck::{BoxFuture, CheckContext, CheckOutcome, Checker, DownReason};
///
/// /// Up while a flag file exists (a maintenance switch, say).
/// #[derive(Debug)]
/// struct FlagFile(std::path::PathBuf);
///
/// impl Checker for FlagFile {
///     fn check<'a>(&'a self, _ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
///         Box::pin(async move {
///             if self.0.exists() {
///                 CheckOutcome::Up
///             } else {
///                 CheckOutcome::Down(DownReason::Config("flag file missing"))
///             }
///         })
///     }
/// }
///
/// // Object safe: store it next to the built-in checkers.
/// let checker: std::sync::Arc<dyn Checker> = std::sync::Arc::new(FlagFile("/".into()));
/// let ctx = CheckContext::new("192.0.2.1:80".parse().unwrap(), Duration::from_secs(1));
/// let outcome = block_on(checker.check(&ctx));
/// assert_eq!(outcome, CheckOutcome::Up);
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
/// # }
/// ```
pub trait Checker: Send + Sync + fmt::Debug {
    /// Runs one attempt against `ctx.target`.
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome>;

    /// The next attempt, if it is one a driver may make itself instead of
    /// running [`Checker::check`] in a task of its own (asked before each
    /// attempt). The default, `None`, always runs `check`. A wrapper
    /// should forward its inner checker's answer when it would only pass
    /// the outcome through.
    fn inline(&self) -> Option<Inline> {
        None
    }
}

/// An attempt a driver may make itself (see [`Checker::inline`]): the
/// [`runtime::Driver`](crate::runtime::Driver) makes these without a task,
/// a timer or a reactor registration per check.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Inline {
    /// A TCP connection to `ctx.target` that completes within
    /// `ctx.timeout` is up, with the context's `bind`, `bind_if` and
    /// `mark`: [`TcpChecker`](crate::checkers::TcpChecker)'s check.
    TcpConnect,
    /// This outcome, at once (a suspended checker's
    /// [`CheckOutcome::Skipped`]).
    Outcome(CheckOutcome),
}
