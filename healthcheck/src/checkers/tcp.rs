//! TCP_CHECK: a connection that completes is up.

use crate::checkers::net::connect_with;
use crate::{BoxFuture, CheckContext, CheckOutcome, Checker, DownReason};

/// keepalived's TCP_CHECK (`connect_ip`, `connect_port`, `bindto`,
/// `bind_port` come from the [`CheckContext`], `connect_timeout` is its
/// timeout).
///
/// Unlike keepalived, the connection is closed with an RST (`SO_LINGER`
/// 0): thousands of checks per second then leave no TIME_WAIT entries,
/// which otherwise fill the table and slow every new connect down.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TcpChecker;

impl Checker for TcpChecker {
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(async move {
            match tokio::time::timeout(ctx.timeout, connect_with(ctx, true)).await {
                Ok(Ok(_stream)) => CheckOutcome::Up,
                Ok(Err(reason)) => CheckOutcome::Down(reason),
                Err(_) => CheckOutcome::Down(DownReason::Timeout),
            }
        })
    }
}
