//! keepalived 2.2.7's alert texts (core/smtp.c `smtp_alert`,
//! vrrp/vrrp_notify.c, check/check_*.c, check/ipwrapper.c) and the message
//! it sends: pure functions, no I/O.

use healthcheck::DownReason;
use vrrp::event::{NotifyKind, State};

use crate::lvs_mode::plan::Probe;

/// keepalived's `MAX_HEADERS_LENGTH` (the subject buffer, with its NUL).
const MAX_SUBJECT: usize = 256;
/// keepalived's `MAX_BODY_LENGTH` (the body buffer, with its NUL).
const MAX_BODY: usize = 512;

/// One alert: the subject and the one-line body keepalived sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// The `Subject:` header.
    pub subject: String,
    /// The body, without its line end.
    pub body: String,
}

impl Alert {
    /// Both texts cut as keepalived's fixed buffers cut them.
    fn new(subject: String, body: &str) -> Self {
        Alert {
            subject: truncate(subject, MAX_SUBJECT - 1),
            body: truncate(body.to_owned(), MAX_BODY - 1),
        }
    }
}

/// `s` cut to at most `max` bytes, on a character boundary.
fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// The alert for an instance or sync group entering `state` (STOP is
/// keepalived's "Stopping").
pub fn vrrp(router_id: &str, kind: NotifyKind, name: &str, state: State) -> Alert {
    let (what, body) = match (kind, state) {
        (NotifyKind::Instance, State::Master) => (
            "Entering MASTER state",
            "=> VRRP Instance is now owning VRRP VIPs <=",
        ),
        (NotifyKind::Instance, State::Backup) => (
            "Entering BACKUP state",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        (NotifyKind::Instance, State::Fault) => (
            "Entering FAULT state",
            "=> VRRP Instance is no longer owning VRRP VIPs <=",
        ),
        (NotifyKind::Instance, State::Initialize) => ("Stopping", "=> VRRP Instance stopping <="),
        (NotifyKind::Group, State::Master) => (
            "Entering MASTER state",
            "=> All VRRP group instances are now in MASTER state <=",
        ),
        (NotifyKind::Group, State::Backup) => (
            "Entering BACKUP state",
            "=> All VRRP group instances are now in BACKUP state <=",
        ),
        (NotifyKind::Group, State::Fault) => (
            "Entering FAULT state",
            "=> All VRRP group instances are now in FAULT state <=",
        ),
        (NotifyKind::Group, State::Initialize) => (
            "Stopping",
            "=> All VRRP group instances are now stopping <=",
        ),
    };
    let object = match kind {
        NotifyKind::Group => "VRRP Group",
        NotifyKind::Instance => "VRRP Instance",
    };
    Alert::new(format!("[{router_id}] {object} {name} - {what}"), body)
}

/// The alert for an instance a reload removed while it had
/// `notify_deleted` (keepalived's DELETED state).
pub fn vrrp_deleted(router_id: &str, name: &str) -> Alert {
    Alert::new(
        format!("[{router_id}] VRRP Instance {name} - Deleted"),
        "=> VRRP Deleted at reload <=",
    )
}

/// The alert for a checker of real server `rs` of `vs` (`names`) that
/// passed (`down` None) or failed; `alive` is the real server's health
/// after it.
pub fn checker(
    router_id: &str,
    names: (&str, &str),
    alive: bool,
    probe: &Probe,
    down: Option<&DownReason>,
) -> Alert {
    let (rs, vs) = names;
    let health = if alive { "UP" } else { "DOWN" };
    Alert::new(
        format!("[{router_id}] Realserver {rs} of virtual server {vs} - {health}"),
        &checker_body(probe, rs, down),
    )
}

/// Each checker's own words (check_tcp.c, check_http.c, check_smtp.c,
/// check_dns.c, check_udp.c, check_ping.c, check_misc.c).
fn checker_body(probe: &Probe, rs: &str, down: Option<&DownReason>) -> String {
    let what = match (probe, down) {
        (Probe::Tcp, None) => "TCP CHECK succeed",
        (Probe::Tcp, Some(_)) => "TCP CHECK failed",
        (Probe::Http { .. } | Probe::Smtp { .. }, None) => "CHECK succeed",
        (Probe::Http { .. }, Some(_)) => "CHECK failed on service : HTTP request failed <=",
        (Probe::Smtp { .. }, Some(r)) => {
            return format!("=> CHECK failed on service : {} {rs} <=", smtp_failure(r))
        }
        (Probe::Dns { .. }, None) => "DNS_CHECK: succeed",
        (Probe::Dns { .. }, Some(_)) => "DNS_CHECK: failed",
        (Probe::Udp { .. }, None) => "UDP CHECK succeed",
        (Probe::Udp { .. }, Some(_)) => "UDP CHECK failed",
        (Probe::Ping, None) => "ICMP CHECK succeed",
        (Probe::Ping, Some(_)) => "ICMP CHECK failed",
        (Probe::Misc { .. }, None) => "MISC CHECK succeeded",
        (Probe::Misc { .. }, Some(DownReason::Timeout)) => "MISC CHECK timed out",
        (Probe::Misc { .. }, Some(_)) => "MISC CHECK failed",
        // Never mailed (see `Policy::checker`); keepalived has no words.
        (Probe::File { .. }, _) => "FILE CHECK",
    };
    match what.strip_suffix(" <=") {
        Some(whole) => format!("=> {whole} <="),
        None => format!("=> {what} on service <="),
    }
}

/// check_smtp.c's reason for a failure (as `smtp_final` is called).
fn smtp_failure(reason: &DownReason) -> &'static str {
    match reason {
        DownReason::Timeout => "Read timeout from server",
        DownReason::SmtpReply(_) | DownReason::Protocol(_) => "Bad HELO response from server",
        _ => "Error connecting to server",
    }
}

/// The alert for a quorum change of `vs` (ipwrapper.c `do_vs_notifies`):
/// `what` is "Gained quorum", "Lost quorum", "Starting with quorum up" or
/// "Starting with quorum down"; `threshold` is quorum + hysteresis when
/// gaining, quorum - hysteresis when losing, as keepalived computes it.
pub fn quorum(router_id: &str, vs: &str, what: &str, q: (u32, u32, i64), weight_sum: i64) -> Alert {
    let (quorum, hysteresis, threshold) = q;
    let up = what.starts_with("Gained") || what.ends_with(" up");
    let state = if up { "UP" } else { "DOWN" };
    Alert::new(
        format!("[{router_id}] Virtualserver {vs} - {state}"),
        &format!("=> {what} {quorum}+{hysteresis}={threshold} <= {weight_sum} <="),
    )
}

/// The message keepalived sends after DATA (smtp.h `SMTP_HEADERS_CMD`,
/// `SMTP_BODY_CMD`), without the final "." line: `date` as
/// `%a, %d %b %Y %H:%M:%S %z`, `to` the recipients.
pub fn message(date: &str, from: &str, to: &[String], alert: &Alert) -> String {
    format!(
        "Date: {date}\r\nFrom: {from}\r\nSubject: {}\r\nX-Mailer: Keepalived\r\nTo: {}\r\n\r\n{}\r\n",
        alert.subject,
        to.join(", "),
        alert.body
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vrrp_instance_and_group_wording() {
        let a = vrrp("r1", NotifyKind::Instance, "VI_1", State::Master);
        assert_eq!(a.subject, "[r1] VRRP Instance VI_1 - Entering MASTER state");
        assert_eq!(a.body, "=> VRRP Instance is now owning VRRP VIPs <=");
        let a = vrrp("r1", NotifyKind::Instance, "VI_1", State::Initialize);
        assert_eq!(
            (a.subject.as_str(), a.body.as_str()),
            (
                "[r1] VRRP Instance VI_1 - Stopping",
                "=> VRRP Instance stopping <="
            )
        );
        let a = vrrp_deleted("r1", "VI_2");
        assert_eq!(
            (a.subject.as_str(), a.body.as_str()),
            (
                "[r1] VRRP Instance VI_2 - Deleted",
                "=> VRRP Deleted at reload <="
            )
        );
        let a = vrrp("r1", NotifyKind::Group, "G", State::Fault);
        assert_eq!(a.subject, "[r1] VRRP Group G - Entering FAULT state");
        assert_eq!(
            a.body,
            "=> All VRRP group instances are now in FAULT state <="
        );
    }

    #[test]
    fn checker_wording() {
        let names = ("[10.0.0.2]:tcp:80", "[10.0.0.1]:tcp:80");
        let failed = DownReason::Timeout;
        let a = checker("lb", names, false, &Probe::Tcp, Some(&failed));
        assert_eq!(
            a.subject,
            "[lb] Realserver [10.0.0.2]:tcp:80 of virtual server [10.0.0.1]:tcp:80 - DOWN"
        );
        assert_eq!(a.body, "=> TCP CHECK failed on service <=");
        let body = |p: &Probe, down| checker_body(p, names.0, down);
        assert_eq!(
            body(&Probe::Ping, None),
            "=> ICMP CHECK succeed on service <="
        );
        let smtp = Probe::Smtp {
            helo_name: "h".into(),
        };
        assert_eq!(
            body(&smtp, Some(&failed)),
            "=> CHECK failed on service : Read timeout from server [10.0.0.2]:tcp:80 <="
        );
        let misc = Probe::Misc {
            path: "/bin/false".into(),
            dynamic: false,
            user: None,
        };
        assert_eq!(body(&misc, None), "=> MISC CHECK succeeded on service <=");
    }

    #[test]
    fn quorum_wording_keeps_keepalived_plus_sign_when_losing() {
        let a = quorum("lb", "[10.0.0.1]:tcp:80", "Lost quorum", (3, 1, 2), 1);
        assert_eq!(a.subject, "[lb] Virtualserver [10.0.0.1]:tcp:80 - DOWN");
        assert_eq!(a.body, "=> Lost quorum 3+1=2 <= 1 <=");
        let a = quorum("lb", "VS", "Gained quorum", (3, 1, 4), 6);
        assert_eq!(a.subject, "[lb] Virtualserver VS - UP");
    }

    #[test]
    fn message_is_keepalived_s_bytes() {
        let a = Alert::new("S".into(), "B");
        let to = ["a@x".to_owned(), "b@x".to_owned()];
        assert_eq!(
            message("Sun, 06 Dec 2026 22:00:00 +0000", "k@x", &to, &a),
            "Date: Sun, 06 Dec 2026 22:00:00 +0000\r\nFrom: k@x\r\nSubject: S\r\n\
             X-Mailer: Keepalived\r\nTo: a@x, b@x\r\n\r\nB\r\n"
        );
    }

    #[test]
    fn long_texts_are_cut_as_keepalived_cuts_them() {
        let a = Alert::new("é".repeat(200), &"b".repeat(600));
        assert_eq!((a.subject.len(), a.body.len()), (254, 511));
    }
}
