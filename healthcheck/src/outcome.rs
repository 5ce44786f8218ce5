//! The typed result of one check attempt.

use std::io;

/// What one check attempt concluded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckOutcome {
    /// The target answered as expected.
    Up,
    /// The target is up and asks for this weight (MISC_CHECK with
    /// `misc_dynamic`: exit code 2..=255 gives weight `code - 2`).
    UpWithWeight(u32),
    /// The target failed the check, for this reason.
    Down(DownReason),
    /// HTTP_GET/SSL_GET: the target failed at one of the checker's urls,
    /// for this reason; the urls of the attempt's
    /// [`UrlSpan`](crate::UrlSpan) before it passed. A monitor resumes
    /// from that url, as keepalived's cursor does.
    UrlDown {
        /// The failing url's index in the checker's url list.
        url: usize,
        /// Why it failed.
        reason: DownReason,
    },
    /// The check did not run (its checker is suspended, as keepalived's
    /// `ha_suspend` suspends them): nothing changes, the next check is
    /// due an interval later.
    Skipped,
}

impl CheckOutcome {
    /// True for [`CheckOutcome::Up`] and [`CheckOutcome::UpWithWeight`].
    pub fn is_up(&self) -> bool {
        matches!(self, CheckOutcome::Up | CheckOutcome::UpWithWeight(_))
    }

    /// Why the check failed, for [`CheckOutcome::Down`] and
    /// [`CheckOutcome::UrlDown`].
    pub fn down_reason(&self) -> Option<&DownReason> {
        match self {
            CheckOutcome::Down(reason) | CheckOutcome::UrlDown { reason, .. } => Some(reason),
            _ => None,
        }
    }
}

/// Why a check failed. Every variant can be counted by its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DownReason {
    /// The whole check took longer than its timeout.
    #[error("timed out")]
    Timeout,
    /// HTTP: connected, but the request could not be sent in time.
    #[error("timed out sending the request")]
    SendTimeout,
    /// HTTP: the request went out, but the response did not come in time:
    /// none of it (`started` false) or not all of it.
    #[error("timed out reading the response")]
    ReadTimeout {
        /// Some of the response had come.
        started: bool,
    },
    /// The TCP connection was refused (RST).
    #[error("connection refused")]
    Refused,
    /// Another socket error.
    #[error("i/o error: {0:?}")]
    Io(io::ErrorKind),
    /// HTTP: connected, but sending the request failed (keepalived's
    /// "Cannot send get request to").
    #[error("sending the request failed: {0:?}")]
    SendFailed(io::ErrorKind),
    /// The TLS handshake failed.
    #[error("tls: {0}")]
    Tls(TlsFailure),
    /// The server closed before sending a complete HTTP header.
    #[error("no HTTP response header")]
    NoHttpResponse,
    /// The HTTP status code is not in the accepted list.
    #[error("HTTP status {0} not accepted")]
    HttpStatus(u16),
    /// The body digest differs from the configured one.
    #[error("digest mismatch")]
    DigestMismatch,
    /// The response did not match the url's `regex` (or, with
    /// `regex_no_match`, did).
    #[error("regex match failed")]
    RegexMismatch,
    /// The SMTP server answered with an unexpected reply code.
    #[error("SMTP reply {0} unexpected")]
    SmtpReply(u16),
    /// The peer spoke something we could not parse.
    #[error("protocol error: {0}")]
    Protocol(&'static str),
    /// The DNS answer had this RCODE.
    #[error("DNS rcode {0}")]
    DnsRcode(u16),
    /// The DNS answer held no record of the requested type.
    #[error("DNS answer has no record of the requested type")]
    DnsNoAnswer,
    /// The UDP or ICMP peer reported the port or host unreachable.
    #[error("unreachable")]
    Unreachable,
    /// The UDP reply differed from what was required.
    #[error("unexpected reply")]
    UnexpectedReply,
    /// The script exited with this code (1, or any failure code).
    #[error("script exited with {0}")]
    ScriptExit(i32),
    /// The script was killed by this signal.
    #[error("script killed by signal {0}")]
    ScriptSignal(i32),
    /// The script could not be started.
    #[error("script could not start: {0:?}")]
    ScriptSpawn(io::ErrorKind),
    /// The checker panicked (the driver reports this instead of losing the
    /// target).
    #[error("checker panicked")]
    CheckerPanicked,
    /// FILE_CHECK: the tracked file holds this number, which means down.
    #[error("tracked file status {0}")]
    FileStatus(i64),
    /// The checker was configured wrongly (e.g. unknown user).
    #[error("bad checker configuration: {0}")]
    Config(&'static str),
}

/// Why a TLS handshake failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TlsFailure {
    /// The certificate chain does not lead to a trusted root.
    #[error("certificate not trusted")]
    UnknownIssuer,
    /// The certificate does not name the server.
    #[error("certificate name mismatch")]
    NameMismatch,
    /// The certificate is expired or not yet valid.
    #[error("certificate expired or not yet valid")]
    Expired,
    /// Another certificate problem.
    #[error("bad certificate")]
    BadCertificate,
    /// The handshake failed for a reason other than the certificate.
    #[error("handshake failed")]
    Handshake,
    /// The server name is not a valid DNS name or IP address for SNI.
    #[error("invalid server name")]
    InvalidServerName,
}
