//! TCP_CHECK: a connection that completes is up.

use crate::checkers::net::{bounded, connect_with};
use crate::{BoxFuture, CheckContext, CheckOutcome, Checker};

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
        // The stream drops (RST) as soon as it is connected.
        Box::pin(bounded(ctx, async {
            connect_with(ctx, true).await.map(drop)
        }))
    }
}
