//! keepalived 2.2.7's words for checker results, as its checkers log them
//! (check_misc.c, check_http.c, check_smtp.c, check_dns.c), for an
//! embedder that logs in keepalived's format (keepalived-lite does).
//! Each function is the text of one line or of the words in it; where a
//! line goes and when is the embedder's.
//!
//! [`Check`] gives a checker's lines for the monitor's events, and
//! [`member_line`] and [`quorum_lines`] the table's for a
//! [`crate::TableChange`]: an embedder only looks up the names.

mod check;
mod table;

pub use check::{Check, Probe};
pub use table::{member_line, quorum_lines, Service};

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

#[cfg(test)]
mod tests {
    //! keepalived's lines, word for word, from the types alone.
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::*;
    use crate::{PoolId, TableChange, TargetId};

    const RS: &str = "[10.1.0.1]:tcp:80";
    const VS: &str = "[10.0.0.1]:tcp:80";

    /// A checker of RS in VS with `retry`, run before.
    fn check(probe: Probe<'_>, retry: u32) -> Check<'_> {
        Check {
            probe,
            name: RS,
            real_server: RS,
            virtual_server: VS,
            retry,
            has_run: true,
            first: false,
        }
    }

    /// check_http.c's words for where an attempt stopped.
    #[test]
    fn http_failure_words() {
        use std::io::ErrorKind;
        for (reason, words) in [
            (DownReason::Timeout, "Timeout connecting"),
            (DownReason::SendTimeout, "Timeout WEB write"),
            (
                DownReason::ReadTimeout { started: false },
                "Timeout WEB read",
            ),
            (
                DownReason::ReadTimeout { started: true },
                "Timeout HTTP read",
            ),
            (DownReason::Refused, "Connection failed"),
            (
                DownReason::SendFailed(ErrorKind::BrokenPipe),
                "Cannot send get request to",
            ),
            (DownReason::Unreachable, "HTTP_CHECK - network unreachable"),
            (
                DownReason::Io(ErrorKind::HostUnreachable),
                "HTTP_CHECK - network unreachable",
            ),
            (
                DownReason::Io(ErrorKind::ConnectionReset),
                "Read error with",
            ),
            (DownReason::HttpStatus(500), "HTTP status code error to"),
            (DownReason::DigestMismatch, "MD5 digest error to"),
            (DownReason::RegexMismatch, "Regex match failed"),
            (DownReason::NoHttpResponse, "Read, no data received from "),
        ] {
            assert_eq!(http_failure(&reason), words, "{reason:?}");
        }
    }

    /// Each checker's lines as its target goes down and comes back, after
    /// it has run with `retry 1`.
    #[test]
    fn result_lines_of_each_checker() {
        let timeout = DownReason::Timeout;
        let misc = format!("Misc check for [{RS} VS {VS}] by [/bin/p]");
        for (probe, down, up) in [
            (
                Probe::Tcp,
                vec![format!("TCP_CHECK on service {RS} failed after 1 retries.")],
                vec![format!("TCP connection to {RS} success.")],
            ),
            (
                Probe::Udp,
                vec![format!("UDP_CHECK on service {RS} failed after 1 retries.")],
                vec![format!("UDP connection to {RS} success.")],
            ),
            (
                Probe::Ping,
                vec![format!(
                    "ICMP CHECK on service {RS} of {VS} failed after 1 retries."
                )],
                vec![format!("ICMP connection to {RS} success.")],
            ),
            (
                Probe::Smtp,
                vec![format!("SMTP_CHECK Read timeout from server {RS}")],
                vec![format!("Remote SMTP server {RS} succeed on service.")],
            ),
            (
                Probe::Dns,
                vec![format!(
                    "DNS_CHECK ({RS}) read timeout from socket after 1 retries"
                )],
                vec![],
            ),
            (
                Probe::Misc { path: "/bin/p --x" },
                vec![format!("{misc} timed out after 1 retry.")],
                vec![format!("{misc} succeeded.")],
            ),
            (
                Probe::File { name: "f" },
                vec![format!("({RS}): tracked file f now FAULT state")],
                vec![format!("({RS}): tracked file f leaving FAULT state")],
            ),
        ] {
            let c = check(probe, 1);
            assert_eq!(c.result_lines(Some(&timeout)), down, "{probe:?}");
            assert_eq!(c.result_lines(None), up, "{probe:?}");
        }
    }

    /// Before the checker has run, or without retries, no count is said
    /// (DNS_CHECK counts once it has run, even none; MISC_CHECK says its
    /// retries are disabled).
    #[test]
    fn retry_counts_need_a_run_and_retries() {
        let timeout = DownReason::Timeout;
        let fresh = |probe, retry| Check {
            has_run: false,
            ..check(probe, retry)
        };
        assert_eq!(
            fresh(Probe::Tcp, 2).result_lines(Some(&timeout)),
            [format!("TCP_CHECK on service {RS} failed.")]
        );
        assert_eq!(
            check(Probe::Ping, 0).result_lines(Some(&timeout)),
            [format!("ICMP CHECK on service {RS} failed.")]
        );
        assert_eq!(
            fresh(Probe::Dns, 2).result_lines(Some(&timeout)),
            [format!("DNS_CHECK ({RS}) read timeout from socket")]
        );
        assert_eq!(
            check(Probe::Dns, 0).result_lines(Some(&DownReason::DnsRcode(2))),
            [format!(
                "DNS_CHECK ({RS}) read error occurred. (rcode = 2) after 0 retries"
            )]
        );
        assert_eq!(
            check(Probe::Misc { path: "/bin/p" }, 0)
                .result_lines(Some(&DownReason::ScriptExit(1))),
            [format!(
                "Misc check for [{RS} VS {VS}] by [/bin/p] failed with retry disabled (exited with status 1)."
            )]
        );
    }

    /// A first result that changes nothing: FILE_CHECK says nothing either
    /// way, the others say it.
    #[test]
    fn first_results() {
        let first = |probe| Check {
            first: true,
            has_run: false,
            ..check(probe, 1)
        };
        let file = first(Probe::File { name: "f" });
        assert_eq!(file.result_lines(None), Vec::<String>::new());
        assert_eq!(
            file.result_lines(Some(&DownReason::FileStatus(1))),
            Vec::<String>::new()
        );
        assert_eq!(
            first(Probe::Tcp).result_lines(None),
            [format!("TCP connection to {RS} success.")]
        );
    }

    /// HTTP_GET's result is the server's line (its urls are said as they
    /// pass, by `passed_lines`); a checker starting down says nothing of
    /// its first failure.
    #[cfg(feature = "tls")]
    #[test]
    fn http_result_lines() {
        use crate::checkers::UrlCheck;
        let mut b = UrlCheck::new("/b");
        b.digest = Some(vec![0; 16]);
        let urls = [UrlCheck::new("/a"), b];
        let http = check(Probe::Http { urls: &urls }, 2);
        assert_eq!(
            http.result_lines(None),
            [format!("Remote Web server {RS} succeed on service.")]
        );
        assert_eq!(
            http.result_lines(Some(&DownReason::Refused)),
            [format!(
                "HTTP_CHECK on service {RS} failed after 2 retries."
            )]
        );
        let first = Check {
            first: true,
            has_run: false,
            ..http
        };
        assert_eq!(
            first.result_lines(None),
            [format!("Remote Web server {RS} succeed on service.")]
        );
        assert_eq!(
            first.result_lines(Some(&DownReason::Refused)),
            Vec::<String>::new()
        );
        let no_retry = check(Probe::Http { urls: &urls }, 0);
        assert_eq!(
            no_retry.result_lines(Some(&DownReason::Refused)),
            [format!("HTTP_CHECK on service {RS} failed.")]
        );
    }

    /// The urls a down HTTP checker passed are named after the last test
    /// each has, from the first passed up to the failing one or the last;
    /// the attempt that clears a failure names the failed url. Other
    /// checkers have no urls.
    #[cfg(feature = "tls")]
    #[test]
    fn passed_and_cleared_lines_name_their_urls() {
        use crate::checkers::UrlCheck;
        let mut b = UrlCheck::new("/b");
        b.digest = Some(vec![0; 16]);
        let urls = [UrlCheck::new("/a"), b, UrlCheck::new("/c")];
        let http = check(Probe::Http { urls: &urls }, 1);
        let a = format!("HTTP status code success to {RS} url(/a)");
        let b = format!("MD5 digest success to {RS} url(/b)");
        let c = format!("HTTP status code success to {RS} url(/c)");
        assert_eq!(
            http.passed_lines(0, None),
            [a.as_str(), b.as_str(), c.as_str()]
        );
        assert_eq!(http.passed_lines(1, None), [b.as_str(), c.as_str()]);
        assert_eq!(http.passed_lines(0, Some(2)), [a.as_str(), b.as_str()]);
        assert_eq!(http.passed_lines(3, None), Vec::<String>::new());
        assert_eq!(http.cleared_lines(1), [b.as_str()]);
        assert_eq!(http.cleared_lines(usize::MAX), Vec::<String>::new());
        let tcp = check(Probe::Tcp, 1);
        assert_eq!(tcp.passed_lines(0, None), Vec::<String>::new());
        assert_eq!(tcp.cleared_lines(0), Vec::<String>::new());
    }

    /// `log_all_failures`: each attempt's line; SMTP, DNS and MISC leave
    /// the last one to the down line; MISC says where it is in its retries.
    #[test]
    fn attempt_lines() {
        let misc = format!("Misc check for [{RS} VS {VS}] by [/bin/p]");
        let timeout = DownReason::Timeout;
        let refused = DownReason::Refused;
        for (probe, reason, want) in [
            (
                Probe::Tcp,
                &timeout,
                format!("TCP connection to {RS} timeout."),
            ),
            (
                Probe::Tcp,
                &refused,
                format!("TCP connection to {RS} failed."),
            ),
            (
                Probe::Udp,
                &refused,
                format!("UDP connection to {RS} failed."),
            ),
            (
                Probe::Udp,
                &DownReason::UnexpectedReply,
                format!("UDP check to {RS} reply data mismatch."),
            ),
            (
                Probe::Ping,
                &timeout,
                format!("ICMP connection to address {RS} timeout."),
            ),
            (
                Probe::Ping,
                &refused,
                format!("ICMP connection to {RS} of {VS} failed."),
            ),
            (
                Probe::Smtp,
                &DownReason::SmtpReply(554),
                format!("SMTP_CHECK Bad HELO response from server {RS}"),
            ),
            (
                Probe::Dns,
                &refused,
                format!("DNS_CHECK ({RS}) connection error."),
            ),
            (
                Probe::Misc { path: "/bin/p" },
                &DownReason::ScriptExit(1),
                format!("{misc} failed, will do 2 retries (exited with status 1)."),
            ),
        ] {
            let c = check(probe, 2);
            assert_eq!(c.attempt_line(reason, 0, false), Some(want), "{probe:?}");
        }
        let misc_check = check(Probe::Misc { path: "/bin/p" }, 2);
        assert_eq!(
            misc_check.attempt_line(&timeout, 1, false),
            Some(format!("{misc} timed out on retry 1/2."))
        );
        for probe in [Probe::Smtp, Probe::Dns, Probe::Misc { path: "/bin/p" }] {
            assert_eq!(check(probe, 2).attempt_line(&timeout, 2, true), None);
        }
        assert_eq!(
            check(Probe::Tcp, 2).attempt_line(&timeout, 2, true),
            Some(format!("TCP connection to {RS} timeout."))
        );
        assert_eq!(
            check(Probe::File { name: "f" }, 0).attempt_line(&timeout, 0, true),
            None
        );
    }

    /// HTTP_GET's attempt line is timeout_epilog's, with its double space
    /// after "received from".
    #[cfg(feature = "tls")]
    #[test]
    fn http_attempt_line() {
        let urls = [crate::checkers::UrlCheck::new("/")];
        assert_eq!(
            check(Probe::Http { urls: &urls }, 1).attempt_line(
                &DownReason::NoHttpResponse,
                0,
                false
            ),
            Some(format!("Read, no data received from  server {RS}."))
        );
    }

    /// perform_svr_state's and update_svr_wgt's lines.
    #[test]
    fn member_lines() {
        let (pool, target) = (PoolId(0), TargetId(0));
        for (change, want) in [
            (
                TableChange::Added {
                    pool,
                    target,
                    weight: 1,
                },
                format!("Adding service {RS} to VS {VS}"),
            ),
            (
                TableChange::Removed { pool, target },
                format!("Removing service {RS} from VS {VS}"),
            ),
            (
                TableChange::Enabled {
                    pool,
                    target,
                    weight: 1,
                },
                format!("Enabling service {RS} of VS {VS}"),
            ),
            (
                TableChange::Disabled { pool, target },
                format!("Disabling service {RS} of VS {VS}"),
            ),
            (
                TableChange::Reweighted {
                    pool,
                    target,
                    from: 1,
                    to: 5,
                },
                format!("Changing weight from 1 to 5 for active service {RS} of VS {VS}"),
            ),
        ] {
            assert_eq!(member_line(&change, RS, VS), Some(want));
        }
        assert_eq!(
            member_line(&TableChange::SorryServerIn { pool }, RS, VS),
            None
        );
    }

    /// update_quorum_state's and perform_quorum_state's lines, with and
    /// without a sorry server, inhibited or not.
    #[test]
    fn quorum_lines_say_the_bounds() {
        let pool = PoolId(0);
        let bare = Service {
            name: VS,
            quorum: 3,
            hysteresis: 1,
            sorry_server: None,
            sorry_inhibit: false,
        };
        let sorry = Service {
            sorry_server: Some("[10.9.9.9]:tcp:80"),
            ..bare
        };
        let inhibit = Service {
            sorry_inhibit: true,
            ..sorry
        };
        let lost = |starting| TableChange::QuorumLost {
            pool,
            weight_sum: 1,
            starting,
        };
        let gained = TableChange::QuorumGained {
            pool,
            weight_sum: 4,
            starting: true,
        };
        assert_eq!(
            quorum_lines(&gained, &bare),
            [format!("Gained quorum 3+1=4 <= 4 for VS {VS}")]
        );
        assert_eq!(
            quorum_lines(&lost(false), &bare),
            [format!("Lost quorum 3-1=2 > 1 for VS {VS}")]
        );
        assert_eq!(quorum_lines(&lost(true), &bare), Vec::<String>::new());
        assert_eq!(
            quorum_lines(&lost(true), &sorry),
            [format!("Starting with quorum down 3-1=4 > 1 for VS {VS}")]
        );
        let sorry_in = TableChange::SorryServerIn { pool };
        let sorry_out = TableChange::SorryServerOut { pool };
        assert_eq!(quorum_lines(&sorry_in, &bare), Vec::<String>::new());
        assert_eq!(
            quorum_lines(&sorry_in, &sorry),
            [
                format!("Adding sorry server [10.9.9.9]:tcp:80 to VS {VS}"),
                format!("Removing alive servers from the pool for VS {VS}"),
            ]
        );
        assert_eq!(
            quorum_lines(&sorry_out, &inhibit),
            [
                format!("Disabling sorry server [10.9.9.9]:tcp:80 from VS {VS}"),
                format!("Adding alive servers to the pool for VS {VS}"),
            ]
        );
        assert_eq!(
            quorum_lines(&sorry_in, &inhibit)[0],
            format!("Enabling sorry server [10.9.9.9]:tcp:80 to VS {VS}")
        );
        assert_eq!(
            quorum_lines(&sorry_out, &sorry)[0],
            format!("Removing sorry server [10.9.9.9]:tcp:80 from VS {VS}")
        );
    }
}
