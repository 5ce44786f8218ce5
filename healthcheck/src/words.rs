//! keepalived 2.2.7's words for checker results, as its checkers log them
//! (check_misc.c, check_http.c, check_smtp.c, check_dns.c), for an
//! embedder that logs in keepalived's format (keepalived-lite does).
//! Each function is the text of one line or of the words in it; where a
//! line goes and when is the embedder's.

use crate::DownReason;

/// check_misc.c's line for a script's result: `place` says where the
/// attempt stands in its retries.
pub fn misc_line(path: &str, rs: &str, vs: &str, down: Option<&DownReason>, place: &str) -> String {
    let script = path.split(' ').next().unwrap_or_default();
    let (how, why) = match down {
        None => ("succeeded", String::new()),
        Some(DownReason::Timeout) => ("timed out", String::new()),
        Some(DownReason::ScriptExit(c)) => ("failed", format!(" (exited with status {c})")),
        Some(DownReason::ScriptSignal(n)) => ("failed", format!(" (due to signal {n})")),
        Some(_) => ("failed", String::new()),
    };
    format!("Misc check for [{rs} VS {vs}] by [{script}] {how}{place}{why}.")
}

/// http_handle_response's line for a url that passed while the checker
/// is down: named after the last test the url has.
#[cfg(feature = "tls")]
pub fn http_url_line(url: &crate::checkers::UrlCheck, name: &str) -> String {
    let test = if url.regex.is_some() {
        "Regex match"
    } else if url.digest.is_some() {
        "MD5 digest"
    } else {
        "HTTP status code"
    };
    format!("{test} success to {name} url({})", url.path)
}

/// "retry" or "retries", as check_misc.c says it.
pub fn retries(n: u32) -> &'static str {
    if n == 1 {
        "retry"
    } else {
        "retries"
    }
}

/// timeout_epilog's words for a failed HTTP_GET/SSL_GET attempt, before
/// " server NAME." (check_http.c; "Read, no data received from " keeps
/// its trailing space, so the line has two).
pub fn http_failure(reason: &DownReason) -> &'static str {
    use std::io::ErrorKind::{HostUnreachable, NetworkUnreachable};
    match reason {
        DownReason::Timeout => "Timeout connecting",
        DownReason::SendTimeout => "Timeout WEB write",
        DownReason::ReadTimeout { started: false } => "Timeout WEB read",
        DownReason::ReadTimeout { started: true } => "Timeout HTTP read",
        DownReason::Refused => "Connection failed",
        DownReason::SendFailed(_) => "Cannot send get request to",
        DownReason::Unreachable
        | DownReason::Io(HostUnreachable)
        | DownReason::Io(NetworkUnreachable) => "HTTP_CHECK - network unreachable",
        DownReason::Tls(_) => "SSL handshake/communication error connecting to",
        DownReason::HttpStatus(_) => "HTTP status code error to",
        DownReason::DigestMismatch => "MD5 digest error to",
        DownReason::RegexMismatch => "Regex match failed",
        DownReason::NoHttpResponse | DownReason::Protocol(_) => "Read, no data received from ",
        _ => "Read error with",
    }
}

/// smtp_final's line for a failure (check_smtp.c).
pub fn smtp_failure(name: &str, reason: &DownReason) -> String {
    let what = match reason {
        DownReason::Timeout => "Read timeout from server",
        DownReason::SmtpReply(_) | DownReason::Protocol(_) => "Bad HELO response from server",
        _ => "Error connecting to server",
    };
    format!("SMTP_CHECK {what} {name}")
}

/// dns_final's reason for a failure (check_dns.c).
pub fn dns_failure(reason: &DownReason) -> String {
    match reason {
        DownReason::Timeout => "read timeout from socket".to_owned(),
        DownReason::DnsRcode(rcode) => format!("read error occurred. (rcode = {rcode})"),
        _ => "connection error.".to_owned(),
    }
}
