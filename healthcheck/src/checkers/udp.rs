//! UDP_CHECK: send a payload; an ICMP unreachable (or, with
//! `require_reply`, a missing or wrong reply) is down.

use crate::checkers::net::{udp_connect, udp_reason};
use crate::{BoxFuture, CheckContext, CheckOutcome, Checker, DownReason};

/// keepalived's UDP_CHECK.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct UdpChecker {
    /// The datagram to send (`payload`).
    pub payload: Vec<u8>,
    /// `require_reply`: `None` means no reply is needed (only an ICMP error
    /// fails the check); `Some(prefix)` needs a reply starting with
    /// `prefix` (empty: any reply).
    pub require_reply: Option<Vec<u8>>,
}

impl UdpChecker {
    /// A checker sending `payload`, needing no reply.
    pub fn new(payload: impl Into<Vec<u8>>) -> Self {
        Self {
            payload: payload.into(),
            require_reply: None,
        }
    }

    /// The same checker requiring a reply starting with `prefix`.
    pub fn require_reply(mut self, prefix: impl Into<Vec<u8>>) -> Self {
        self.require_reply = Some(prefix.into());
        self
    }
}

impl Checker for UdpChecker {
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(async move {
            let s = match udp_connect(ctx).await {
                Ok(s) => s,
                Err(r) => return CheckOutcome::Down(r),
            };
            if let Err(e) = s.send(&self.payload).await {
                return CheckOutcome::Down(udp_reason(&e));
            }
            let mut buf = vec![0u8; 65_536];
            match tokio::time::timeout(ctx.timeout, s.recv(&mut buf)).await {
                Ok(Ok(n)) => match &self.require_reply {
                    Some(prefix) if !buf.get(..n).unwrap_or_default().starts_with(prefix) => {
                        CheckOutcome::Down(DownReason::UnexpectedReply)
                    }
                    _ => CheckOutcome::Up,
                },
                Ok(Err(e)) => CheckOutcome::Down(udp_reason(&e)),
                Err(_) if self.require_reply.is_some() => CheckOutcome::Down(DownReason::Timeout),
                Err(_) => CheckOutcome::Up,
            }
        })
    }
}
