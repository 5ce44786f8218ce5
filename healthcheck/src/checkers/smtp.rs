//! SMTP_CHECK: banner, HELO, QUIT.

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::checkers::net::{connect, io_reason};
use crate::{BoxFuture, CheckContext, CheckOutcome, Checker, DownReason};

/// keepalived's SMTP_CHECK: expects a 2xx banner, a 250 to
/// `HELO helo_name`, then says QUIT.
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
        expect(&mut s, 2).await?;
        let helo = format!("HELO {}\r\n", self.helo_name);
        s.get_mut()
            .write_all(helo.as_bytes())
            .await
            .map_err(|e| io_reason(&e))?;
        expect(&mut s, 2).await?;
        s.get_mut()
            .write_all(b"QUIT\r\n")
            .await
            .map_err(|e| io_reason(&e))?;
        Ok(())
    }
}

/// Reads one (possibly multi-line) reply; its code must be `class`xx.
async fn expect<R: tokio::io::AsyncBufRead + Unpin>(
    r: &mut R,
    class: u16,
) -> Result<u16, DownReason> {
    let mut line = String::new();
    loop {
        line.clear();
        let n = r.read_line(&mut line).await.map_err(|e| io_reason(&e))?;
        if n == 0 {
            return Err(DownReason::Protocol("connection closed before reply"));
        }
        let code: u16 = line
            .get(..3)
            .and_then(|c| c.parse().ok())
            .ok_or(DownReason::Protocol("malformed SMTP reply"))?;
        // "250-..." continues, "250 ..." ends the reply.
        if line.as_bytes().get(3) == Some(&b'-') {
            continue;
        }
        return if code / 100 == class {
            Ok(code)
        } else {
            Err(DownReason::SmtpReply(code))
        };
    }
}

impl Checker for SmtpChecker {
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(async move {
            match tokio::time::timeout(ctx.timeout, self.dialogue(ctx)).await {
                Ok(Ok(())) => CheckOutcome::Up,
                Ok(Err(r)) => CheckOutcome::Down(r),
                Err(_) => CheckOutcome::Down(DownReason::Timeout),
            }
        })
    }
}
