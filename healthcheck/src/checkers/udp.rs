//! UDP_CHECK: send a payload; an ICMP unreachable (or, with
//! `require_reply`, a missing or wrong reply) is down.

use crate::checkers::net::{udp_connect, udp_reason};
use crate::{BoxFuture, CheckContext, CheckOutcome, Checker, DownReason};

/// keepalived's UDP_CHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UdpChecker {
    /// The datagram to send (`payload`).
    pub payload: Vec<u8>,
    /// `require_reply`: `None` means no reply is needed (only an ICMP error
    /// fails the check); `Some(data)` needs a reply whose first bytes
    /// agree with `data` over the shorter of the two, as keepalived 2.2.7
    /// compares them (empty: any reply).
    pub require_reply: Option<Vec<u8>>,
    /// `min_reply_length` (default 0): a shorter reply is down, when
    /// `require_reply` has data.
    pub min_reply_len: usize,
    /// `max_reply_length` (default 255): a longer reply is down, when
    /// `require_reply` has data.
    pub max_reply_len: usize,
}

/// keepalived's default `max_reply_length`.
const DEFAULT_MAX_REPLY_LEN: usize = 255;

impl Default for UdpChecker {
    fn default() -> Self {
        Self::new(Vec::new())
    }
}

impl UdpChecker {
    /// A checker sending `payload`, needing no reply.
    pub fn new(payload: impl Into<Vec<u8>>) -> Self {
        Self {
            payload: payload.into(),
            require_reply: None,
            min_reply_len: 0,
            max_reply_len: DEFAULT_MAX_REPLY_LEN,
        }
    }

    /// Whether a reply of these bytes passes (keepalived's
    /// `check_udp_reply`).
    fn reply_ok(&self, reply: &[u8]) -> bool {
        let Some(data) = self.require_reply.as_deref().filter(|d| !d.is_empty()) else {
            return true;
        };
        let n = reply.len();
        if n < self.min_reply_len || n > self.max_reply_len {
            return false;
        }
        let common = n.min(data.len());
        reply.get(..common) == data.get(..common)
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
                Ok(Ok(n)) if !self.reply_ok(buf.get(..n).unwrap_or_default()) => {
                    CheckOutcome::Down(DownReason::UnexpectedReply)
                }
                Ok(Ok(_)) => CheckOutcome::Up,
                Ok(Err(e)) => CheckOutcome::Down(udp_reason(&e)),
                Err(_) if self.require_reply.is_some() => CheckOutcome::Down(DownReason::Timeout),
                Err(_) => CheckOutcome::Up,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_are_judged_as_keepalived_s_check_udp_reply() {
        let c = UdpChecker::new(b"q".to_vec()).require_reply(b"abcd".to_vec());
        assert!(c.reply_ok(b"abcd"));
        assert!(c.reply_ok(b"abcdef"));
        // Only the shorter of the two is compared.
        assert!(c.reply_ok(b"ab"));
        assert!(!c.reply_ok(b"abXd"));
        // The default max_reply_length is 255.
        assert!(c.reply_ok(b"a"));
        let long: Vec<u8> = b"abcd".iter().copied().chain([0u8; 252]).collect();
        assert_eq!(long.len(), 256);
        assert!(!c.reply_ok(&long));
        assert!(c.reply_ok(long.get(..255).unwrap_or_default()));
        let mut bounded = c.clone();
        bounded.min_reply_len = 3;
        bounded.max_reply_len = 5;
        assert!(!bounded.reply_ok(b"ab"));
        assert!(bounded.reply_ok(b"abc"));
        assert!(!bounded.reply_ok(b"abcdef"));
        // Without reply data any reply passes, whatever its length.
        let any = UdpChecker::new(b"q".to_vec()).require_reply(Vec::new());
        assert!(any.reply_ok(&long));
        assert!(UdpChecker::new(b"q".to_vec()).reply_ok(b""));
    }
}
