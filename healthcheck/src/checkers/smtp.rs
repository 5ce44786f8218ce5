//! SMTP_CHECK: banner, HELO, QUIT.

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::checkers::net::{bounded, connect, io_reason};
use crate::{BoxFuture, CheckContext, CheckOutcome, Checker, DownReason};

/// keepalived's SMTP_CHECK: expects a 220 banner, a 250 to
/// `HELO helo_name`, then says QUIT.
///
/// Unlike keepalived 2.2.7, which judges only the first line and so fails
/// any multi-line banner (`220-...`), a multi-line reply is read to its
/// last line, and every line must carry the same code (RFC 5321 section
/// 4.2.1): `440-x` then `220 y` is not a 220 banner.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SmtpChecker {
    /// The HELO argument (`helo_name`, keepalived's default is the local
    /// host name; ours is `localhost`).
    pub helo_name: String,
}

impl Default for SmtpChecker {
    fn default() -> Self {
        Self {
            helo_name: "localhost".to_owned(),
        }
    }
}

impl SmtpChecker {
    /// A checker sending `HELO helo_name`.
    pub fn new(helo_name: impl Into<String>) -> Self {
        Self {
            helo_name: helo_name.into(),
        }
    }

    async fn dialogue(&self, ctx: &CheckContext) -> Result<(), DownReason> {
        let stream = connect(ctx).await?;
        let mut s = BufReader::new(stream);
        expect(&mut s, 220).await?;
        let helo = format!("HELO {}\r\n", self.helo_name);
        s.get_mut()
            .write_all(helo.as_bytes())
            .await
            .map_err(|e| io_reason(&e))?;
        expect(&mut s, 250).await?;
        s.get_mut()
            .write_all(b"QUIT\r\n")
            .await
            .map_err(|e| io_reason(&e))?;
        Ok(())
    }
}

/// The longest reply line read (RFC 5321 allows 512 bytes with CRLF): a
/// peer that never ends its line must not grow memory until the timeout.
const MAX_LINE: u64 = 1024;

/// Why a multi-line reply whose lines disagree on the code is refused.
const MIXED_CODES: DownReason = DownReason::Protocol("SMTP reply lines carry different codes");

/// Reads one (possibly multi-line) reply; every line's code must be `want`.
///
/// The whole reply is read before it is judged, so a reply that is wrong
/// in several ways always fails for the same reason: a line that is not a
/// reply line first, then lines that disagree ([`MIXED_CODES`]), then a
/// code other than `want` ([`DownReason::SmtpReply`]).
async fn expect<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
    want: u16,
) -> Result<(), DownReason> {
    let mut line = Vec::new();
    let mut first: Option<u16> = None;
    let mut mixed = false;
    loop {
        line.clear();
        let n = r
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .await
            .map_err(|e| io_reason(&e))?;
        if n == 0 {
            return Err(DownReason::Protocol("connection closed before reply"));
        }
        if !line.ends_with(b"\n") && n as u64 == MAX_LINE {
            return Err(DownReason::Protocol("SMTP reply line too long"));
        }
        let code = reply_code(&line).ok_or(DownReason::Protocol("malformed SMTP reply"))?;
        let first = *first.get_or_insert(code);
        mixed |= code != first;
        // "250-..." continues, "250 ..." ends the reply.
        if line.get(3) == Some(&b'-') {
            continue;
        }
        return match (mixed, first) {
            (true, _) => Err(MIXED_CODES),
            (false, code) if code == want => Ok(()),
            (false, code) => Err(DownReason::SmtpReply(code)),
        };
    }
}

/// Three digits followed by a space, a dash or the end of the line.
fn reply_code(line: &[u8]) -> Option<u16> {
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if !matches!(line.get(3), None | Some(b' ' | b'-' | b'\r' | b'\n')) {
        return None;
    }
    digits
        .iter()
        .try_fold(0u16, |v, d| Some(v * 10 + u16::from(d - b'0')))
}

impl Checker for SmtpChecker {
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(bounded(ctx, self.dialogue(ctx)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn reply(bytes: &[u8], want: u16) -> Result<(), DownReason> {
        // A one-byte buffer cuts every line into single-byte reads.
        expect(&mut BufReader::with_capacity(1, bytes), want).await
    }

    #[tokio::test]
    async fn replies_split_across_reads() {
        assert_eq!(reply(b"220-a\r\n220-b\r\n220 c\r\n", 220).await, Ok(()));
        assert_eq!(reply(b"250\r\n", 250).await, Ok(()));
        // keepalived wants exactly 220 and 250, not any 2xx.
        assert_eq!(
            reply(b"221 bye\r\n", 220).await,
            Err(DownReason::SmtpReply(221))
        );
        assert_eq!(
            reply(b"2x0 ok\r\n", 220).await,
            Err(DownReason::Protocol("malformed SMTP reply"))
        );
        assert_eq!(
            reply(b"2200 ok\r\n", 220).await,
            Err(DownReason::Protocol("malformed SMTP reply"))
        );
        assert_eq!(
            reply(b"\xff\xfe\xfd\r\n", 220).await,
            Err(DownReason::Protocol("malformed SMTP reply"))
        );
        assert_eq!(
            reply(b"220-never ends", 220).await,
            Err(DownReason::Protocol("connection closed before reply"))
        );
    }

    #[tokio::test]
    async fn every_line_of_a_reply_carries_the_same_code() {
        assert_eq!(reply(b"220-a\r\n220-b\r\n220 c\r\n", 220).await, Ok(()));
        // The last line alone made this a banner before.
        assert_eq!(reply(b"440-x\r\n220 y\r\n", 220).await, Err(MIXED_CODES));
        assert_eq!(reply(b"220-x\r\n440 y\r\n", 220).await, Err(MIXED_CODES));
        assert_eq!(
            reply(b"220-a\r\n221-b\r\n220 c\r\n", 220).await,
            Err(MIXED_CODES)
        );
        assert_eq!(reply(b"250-a\r\n220 b\r\n", 250).await, Err(MIXED_CODES));
        // Agreeing lines with another code: that code is the reason.
        assert_eq!(
            reply(b"554-no\r\n554 go away\r\n", 220).await,
            Err(DownReason::SmtpReply(554))
        );
        // A malformed line is reported as such, even after a mismatch.
        assert_eq!(
            reply(b"220-a\r\n440-b\r\nxyz\r\n", 220).await,
            Err(DownReason::Protocol("malformed SMTP reply"))
        );
        // Only the current reply is read: the next one stays for later.
        let mut two = BufReader::with_capacity(1, &b"220 hi\r\n250-a\r\n250 b\r\n"[..]);
        assert_eq!(expect(&mut two, 220).await, Ok(()));
        assert_eq!(expect(&mut two, 250).await, Ok(()));
    }

    #[tokio::test]
    async fn an_endless_line_is_refused_without_growing() {
        let mut endless = BufReader::new(tokio::io::repeat(b'2'));
        assert_eq!(
            expect(&mut endless, 220).await,
            Err(DownReason::Protocol("SMTP reply line too long"))
        );
    }
}
