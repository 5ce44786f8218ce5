//! Health checks for load-balanced real servers: a sans-IO core with
//! keepalived's retry and rise/fall semantics, scheduling that spreads
//! checks evenly, pool quorum with hysteresis, an object-safe async
//! [`Checker`] trait, and keepalived's built-in checkers.
//!
//! # Contract
//! - **I/O**: the core ([`Monitor`], [`RiseFall`], [`ResponseDigester`])
//!   does no I/O and never reads a clock: every input carries `now`.
//!   Outputs are polled ([`Monitor::poll_check`], [`Monitor::poll_timeout`],
//!   [`Monitor::poll_event`]).
//! - **Checkers and driver** (feature `runtime`): the
//!   [`checkers`] module holds TCP_CHECK, HTTP_GET/SSL_GET, SMTP_CHECK,
//!   DNS_CHECK, MISC_CHECK, UDP_CHECK, PING_CHECK and FILE_CHECK, and
//!   [`checkers::Suspendable`] (keepalived's `ha_suspend`: a switched-off
//!   check reports [`CheckOutcome::Skipped`]); [`runtime`] drives a
//!   [`Monitor`] on tokio. A check only delays its own result.
//! - **Scripts** (feature `runtime`): [`script`] is the one script runner
//!   (MISC_CHECK, `vrrp_script`, notify scripts) and keepalived's
//!   `vrrp_script` loop.
//! - **Panics**: none on any input; refused calls return typed errors.
//! - **Semantics**: retries ([`TargetConfig::retry`]) confirm the failure
//!   of an up target (keepalived's HTTP_GET); with
//!   [`TargetConfig::retry_while_down`] a down target is retried too
//!   (keepalived's TCP_CHECK). As in keepalived, retries are earned by a
//!   first success: a target failing its very first check goes down at
//!   once. A cycle's final result feeds the
//!   [`RiseFall`] counter (default rise 1 / fall 1, as keepalived).
//!   Checks of targets committed together are spread evenly over their
//!   interval and jittered per round without ever bunching (see
//!   [`Monitor::commit`]); regular checks stay on that grid, so retries
//!   and slow checks never shift the schedule. HTTP_GET/SSL_GET keep
//!   keepalived's url cursor ([`TargetConfig::confirm_recovery`]): each
//!   [`Due`] says which urls to check ([`UrlSpan`]), a failure names its
//!   url ([`CheckOutcome::UrlDown`]), and a down server comes back through
//!   its failed url, then every url ([`Event::FailureCleared`],
//!   [`Event::UrlsPassed`]). A check with several urls
//!   ([`TargetConfig::urls`]) steps one url per interval as keepalived
//!   does: one url per attempt, the next an interval later (a retry
//!   `delay_before_retry` later), the target up once its last url passed;
//!   those steps are counted from the end of the attempt before, as
//!   keepalived's `epilog`, not on the grid.
//! - **Pools** (keepalived's virtual servers, check/ipwrapper.c): members
//!   weigh their configured or dynamic weight while up; an
//!   `inhibit_on_failure` member stays in with weight 0 while down; a real
//!   server without a checker is a [`Monitor::add_static_target`], always
//!   up. The quorum starts up at `quorum + hysteresis`, is lost below
//!   `quorum - hysteresis` (or at 0) and regained at `quorum + hysteresis`;
//!   while it is lost the sorry server replaces the members. `alpha`
//!   ([`TargetConfig::alpha`]) starts a target down. [`PoolTable`] follows
//!   the events and says what the load balancer's table should hold, with
//!   keepalived's name for each change, and holds an operator's drain
//!   ([`PoolTable::drain`]: weight 0, still checked, until
//!   [`PoolTable::restore`]; keepalived has no drain);
//!   [`Monitor::target_key`] leads from an event's [`TargetId`] back to
//!   the target.
//! - **Reload** ([`Monitor::reconcile`]): a whole [`Desired`] set of pools
//!   and members, keyed by the caller, replaces the previous one as a
//!   diff: unchanged targets keep their health, changed member settings
//!   are applied in place, and only the differences are emitted.
//! - **Differences from keepalived, on purpose**: scripts run without a
//!   shell unless their line needs one ([`script::CommandLine`]);
//!   certificates are verified
//!   by default ([`checkers::TlsOptions`]); TCP_CHECK closes with an RST
//!   (no TIME_WAIT at thousands of checks per second); MISC_CHECK runs
//!   without a shell unless the command line needs one and kills the whole
//!   process group on timeout; `Content-Length` is looked for in the header
//!   only (keepalived's `strstr` may also see the first body bytes); a
//!   header longer than [`digest::MAX_HEADER`] fails the check; the
//!   context's timeout bounds a whole check (all urls of an HTTP_GET
//!   attempt, which keepalived checks one per `delay_loop`),
//!   where keepalived's `connect_timeout` bounds each connect, write and
//!   read, so a slow but steady page that keepalived accepts can time out
//!   here; SMTP_CHECK reads multi-line replies.
//! - **Features**: `runtime` enables [`runtime`], [`script`] and the
//!   checkers without heavy dependencies (TCP, UDP, SMTP, MISC, PING,
//!   FILE);
//!   `tls` adds HTTP_GET/SSL_GET (rustls), `dns` adds DNS_CHECK (hickory);
//!   `tokio` (the default) is all three. Without features the crate is the
//!   sans-IO core only. A custom [`Checker`] needs only `runtime`; see
//!   `examples/custom_pool.rs` (`cargo run -p lvs-healthcheck --example
//!   custom_pool`).
//!
//! # Example
//! ```
//! use std::time::{Duration, Instant};
//! use healthcheck::{CheckOutcome, DownReason, Event, MemberConfig, Monitor,
//!     MonitorConfig, PoolConfig, TargetConfig};
//!
//! let mut m = Monitor::new(MonitorConfig::default());
//! let every = TargetConfig::with_interval(Duration::from_secs(10));
//! let t = m.add_target("tcp 192.0.2.1:80", every);
//! let pool = m.add_pool(PoolConfig::default());
//! m.add_member(pool, t, MemberConfig::with_weight(3)).unwrap();
//! let start = Instant::now();
//! m.commit(start);
//! while m.poll_event().is_some() {} // MemberAdd, QuorumGained
//!
//! // The first check is due within one interval, and succeeds.
//! let due_at = m.poll_timeout().unwrap();
//! let due = m.poll_check(due_at).unwrap();
//! m.handle_outcome(due_at, due.target, CheckOutcome::Up).unwrap();
//! // The next one fails; with retry 1 it is retried after
//! // delay_before_retry (1 s), well before the next round...
//! let next = m.poll_timeout().unwrap();
//! m.poll_check(next).unwrap();
//! m.handle_outcome(next, t, CheckOutcome::Down(DownReason::Refused)).unwrap();
//! assert_eq!(m.poll_timeout(), Some(next + Duration::from_secs(1)));
//! let retry = m.poll_check(next + Duration::from_secs(1)).unwrap();
//! // ...and the second failure takes it down and out of the pool.
//! assert!(m.poll_event().is_none());
//! m.handle_outcome(retry.scheduled, t, CheckOutcome::Down(DownReason::Refused)).unwrap();
//! assert!(matches!(m.poll_event(), Some(Event::TargetDown { .. })));
//! assert!(matches!(m.poll_event(), Some(Event::MemberRemove { .. })));
//! assert!(matches!(m.poll_event(), Some(Event::QuorumLost { weight_sum: 0, .. })));
//! ```
// Feature badges on docs.rs; `doc_auto_cfg` was folded into `doc_cfg` in
// Rust 1.92 and naming it is now an error.
#![cfg_attr(docsrs, feature(doc_cfg))]
// Unsafe only where a syscall demands it: the script runner's user switch.
#![deny(unsafe_code)]

mod checker;
pub mod digest;
mod event;
mod hysteresis;
mod monitor;
mod outcome;
mod pool;
mod reconcile;
mod schedule;
mod table;
mod target;
pub mod words;

#[cfg(feature = "runtime")]
pub mod checkers;
#[cfg(feature = "runtime")]
pub mod runtime;
#[cfg(feature = "runtime")]
pub mod script;

pub use checker::{BoxFuture, CheckContext, Checker, Inline, UrlSpan};
pub use digest::{HashKind, ResponseDigester};
pub use event::{Event, PoolId, TargetId};
pub use hysteresis::{Health, RiseFall};
pub use monitor::{Due, Monitor, MonitorConfig, MonitorError};
pub use outcome::{CheckOutcome, DownReason, TlsFailure};
pub use pool::{MemberConfig, PoolConfig};
pub use reconcile::{
    Desired, DesiredMember, DesiredPool, DesiredTarget, Reconciled, ReconciledPool,
};
pub use table::{PoolTable, TableChange};
pub use target::TargetConfig;
