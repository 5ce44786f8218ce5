//! A checker's own lines: its result when the target's health changes or
//! on its first cycle, and each failed attempt under `log_all_failures`
//! (check_tcp.c, check_udp.c, check_ping.c, check_http.c, check_smtp.c,
//! check_dns.c, check_misc.c, track_file.c).

use crate::DownReason;

use super::{dns_failure, misc_line, retries, smtp_failure};

/// Which of keepalived's checkers speaks, with what its lines name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Probe<'a> {
    /// TCP_CHECK.
    Tcp,
    /// HTTP_GET or SSL_GET (they say the same), with its `url` blocks.
    #[cfg(feature = "tls")]
    Http {
        /// The url blocks, in order.
        urls: &'a [crate::checkers::UrlCheck],
    },
    /// SMTP_CHECK.
    Smtp,
    /// DNS_CHECK.
    Dns,
    /// UDP_CHECK.
    Udp,
    /// PING_CHECK.
    Ping,
    /// FILE_CHECK, with its `track_file`'s name.
    File {
        /// The `track_file` block's name.
        name: &'a str,
    },
    /// MISC_CHECK, with its command line (`misc_path`).
    Misc {
        /// The command line; its first word names the script.
        path: &'a str,
    },
}

/// One checker of one real server, as its lines name it, and where it
/// stands: what an embedder following [`crate::Event`]s knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Check<'a> {
    /// The checker.
    pub probe: Probe<'a>,
    /// keepalived's name of the checked address (`FMT_CHK`,
    /// `[10.1.0.1]:tcp:80`).
    pub name: &'a str,
    /// keepalived's name of the real server (`FMT_RS`).
    pub real_server: &'a str,
    /// keepalived's name of the virtual server (`FMT_VS`).
    pub virtual_server: &'a str,
    /// The checker's `retry`.
    pub retry: u32,
    /// The checker has ended a cycle before (keepalived's `has_run`).
    pub has_run: bool,
    /// The result is the checker's first and changed nothing
    /// ([`crate::Event::FirstCheck`]).
    pub first: bool,
}

impl Check<'_> {
    /// The checker's lines for its result: `None` passed (the target came
    /// up, or passed its first check), `Some` failed (it went down, or
    /// failed its first check). Empty where keepalived says nothing.
    /// HTTP_GET's urls that passed before it comes up are said by
    /// [`Self::passed_lines`].
    pub fn result_lines(&self, result: Option<&DownReason>) -> Vec<String> {
        let line = match result {
            None => self.success_line(),
            Some(reason) => self.failure_line(reason),
        };
        line.into_iter().collect()
    }

    /// The line for a down target's url whose failure took it down,
    /// passing alone ([`crate::Event::FailureCleared`]): HTTP_GET names
    /// it (`http_handle_response` while not up). Empty for other checkers
    /// and for an index beyond the urls.
    pub fn cleared_lines(&self, url: usize) -> Vec<String> {
        self.passed_lines(url, Some(url.saturating_add(1)))
    }

    /// The lines for the urls a down target passed in one attempt
    /// ([`crate::Event::UrlsPassed`]): from index `from` up to `until`
    /// (exclusive) or the last, HTTP_GET names each, in order, after the
    /// last test it has. Empty for other checkers.
    pub fn passed_lines(&self, from: usize, until: Option<usize>) -> Vec<String> {
        match self.probe {
            #[cfg(feature = "tls")]
            Probe::Http { urls } => (urls.iter().enumerate())
                .skip(from)
                .take_while(|(i, _)| until.is_none_or(|u| *i < u))
                .map(|(_, u)| super::http_url_line(u, self.name))
                .collect(),
            _ => {
                let _ = (from, until);
                Vec::new()
            }
        }
    }

    /// The line for a passing result, if the checker says one.
    fn success_line(&self) -> Option<String> {
        let name = self.name;
        Some(match self.probe {
            Probe::Tcp => format!("TCP connection to {name} success."),
            #[cfg(feature = "tls")]
            Probe::Http { .. } => format!("Remote Web server {name} succeed on service."),
            Probe::Smtp => format!("Remote SMTP server {name} succeed on service."),
            // dns_final says nothing on success.
            Probe::Dns => return None,
            Probe::Udp => format!("UDP connection to {name} success."),
            Probe::Ping => format!("ICMP connection to {name} success."),
            // track_file.c, with keepalived's -D: only changes are said.
            Probe::File { .. } if self.first => return None,
            Probe::File { name: file } => {
                format!(
                    "({}): tracked file {file} leaving FAULT state",
                    self.real_server
                )
            }
            Probe::Misc { path } => {
                misc_line(path, self.real_server, self.virtual_server, None, "")
            }
        })
    }

    /// The line for a failing result, if the checker says one.
    fn failure_line(&self, reason: &DownReason) -> Option<String> {
        let (name, n) = (self.name, self.retry);
        // "after N retries" once the checker has run (and may retry).
        let after = |what: &str| match (self.has_run, n) {
            (true, 1..) => format!("{what} failed after {n} retries."),
            _ => format!("{what} failed."),
        };
        Some(match self.probe {
            Probe::Tcp => after(&format!("TCP_CHECK on service {name}")),
            // timeout_epilog sets has_run before epilog: a checker that
            // starts down says nothing for its first failure.
            #[cfg(feature = "tls")]
            Probe::Http { .. } if self.first => return None,
            #[cfg(feature = "tls")]
            Probe::Http { .. } if n > 0 => {
                format!("HTTP_CHECK on service {name} failed after {n} retries.")
            }
            #[cfg(feature = "tls")]
            Probe::Http { .. } => format!("HTTP_CHECK on service {name} failed."),
            Probe::Smtp => smtp_failure(name, reason),
            Probe::Dns => {
                let suffix = if self.has_run {
                    format!(" after {n} retries")
                } else {
                    String::new()
                };
                format!("DNS_CHECK ({name}) {}{suffix}", dns_failure(reason))
            }
            Probe::Udp => after(&format!("UDP_CHECK on service {name}")),
            Probe::Ping if self.has_run && n > 0 => format!(
                "ICMP CHECK on service {name} of {} failed after {n} retries.",
                self.virtual_server
            ),
            Probe::Ping => format!("ICMP CHECK on service {name} failed."),
            Probe::File { .. } if self.first => return None,
            Probe::File { name: file } => {
                format!(
                    "({}): tracked file {file} now FAULT state",
                    self.real_server
                )
            }
            Probe::Misc { path } => {
                // The down line ends the retries (check_misc.c's message).
                let place = match n {
                    0 => " with retry disabled".to_owned(),
                    n => format!(" after {n} {}", retries(n)),
                };
                let (rs, vs) = (self.real_server, self.virtual_server);
                misc_line(path, rs, vs, Some(reason), &place)
            }
        })
    }

    /// The line for one failed attempt of a healthy target under
    /// `log_all_failures` ([`crate::Event::AttemptFailed`]: `retry`
    /// retries made before it, `last` if the target goes down after it);
    /// `None` where keepalived says nothing, or says the attempt with the
    /// down line ([`Self::result_lines`]).
    pub fn attempt_line(&self, reason: &DownReason, retry: u32, last: bool) -> Option<String> {
        let name = self.name;
        let timeout = *reason == DownReason::Timeout;
        Some(match (self.probe, timeout) {
            (Probe::Tcp, true) => format!("TCP connection to {name} timeout."),
            (Probe::Tcp, false) => format!("TCP connection to {name} failed."),
            (Probe::Udp, _) if *reason == DownReason::UnexpectedReply => {
                format!("UDP check to {name} reply data mismatch.")
            }
            (Probe::Udp, _) => format!("UDP connection to {name} failed."),
            (Probe::Ping, true) => format!("ICMP connection to address {name} timeout."),
            (Probe::Ping, false) => {
                format!(
                    "ICMP connection to {name} of {} failed.",
                    self.virtual_server
                )
            }
            #[cfg(feature = "tls")]
            (Probe::Http { .. }, _) => format!("{} server {name}.", super::http_failure(reason)),
            // SMTP, DNS and MISC say the last attempt's line whatever the
            // flag: it goes with the target's down line.
            (Probe::Smtp | Probe::Dns | Probe::Misc { .. }, _) if last => return None,
            (Probe::Smtp, _) => smtp_failure(name, reason),
            (Probe::Dns, _) => format!("DNS_CHECK ({name}) {}", dns_failure(reason)),
            (Probe::Misc { path }, _) => {
                let n = self.retry;
                let place = match retry {
                    0 => format!(", will do {n} {}", retries(n)),
                    k => format!(" on retry {k}/{n}"),
                };
                let (rs, vs) = (self.real_server, self.virtual_server);
                misc_line(path, rs, vs, Some(reason), &place)
            }
            // FILE_CHECK has no attempts (keepalived has no such flag for it).
            (Probe::File { .. }, _) => return None,
        })
    }
}
