//! The mail path: one thread sends the queued alerts, one SMTP session
//! each, with lettre (keepalived's `smtp_connect` and its state machine).
//! Callers never wait: a full queue drops the alert, logged and counted.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;

use lettre::address::{Address, Envelope};
use lettre::transport::smtp::extension::ClientId;
use lettre::transport::smtp::SmtpTransport;
use lettre::Transport;
use tracing::{debug, info, warn};
use vrrp_conf::convert::mail::Mail;

use super::compose::{self, Alert};

/// Alerts waiting for the mail thread; more are dropped.
pub const QUEUE: usize = 64;

/// What happened to the alerts so far.
#[derive(Debug, Default)]
pub struct Counters {
    /// Accepted by the SMTP server.
    pub sent: AtomicU64,
    /// Not accepted: connection, timeout or SMTP error (each logged).
    pub failed: AtomicU64,
    /// Dropped because the queue was full.
    pub dropped: AtomicU64,
}

/// The names keepalived fills in from the host when the configuration
/// leaves them out (global_data.c `init_global_data`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The subject's `[router_id]`.
    pub router_id: String,
    /// The sender (`From:` and `MAIL FROM`).
    pub from: String,
    /// The `HELO` name.
    pub helo: String,
}

impl Identity {
    /// `mail`'s names, the host's where unset: its canonical name, and
    /// `USER@NAME` for the sender.
    pub fn of(mail: &Mail) -> Self {
        let host = local_name();
        let known = host.as_deref();
        let user = nix::unistd::User::from_uid(nix::unistd::getuid())
            .ok()
            .flatten()
            .map_or_else(|| "root".to_owned(), |u| u.name);
        Identity {
            router_id: (mail.router_id.as_deref().or(known))
                .unwrap_or("[unknown]")
                .to_owned(),
            from: (mail.from.clone())
                .or_else(|| known.map(|h| format!("{user}@{h}")))
                .unwrap_or_default(),
            helo: (mail.helo_name.as_deref().or(known))
                .unwrap_or("localhost")
                .to_owned(),
        }
    }
}

/// keepalived's `get_local_name`: the canonical name of the node name.
fn local_name() -> Option<String> {
    let node = nix::sys::utsname::uname().ok()?;
    let node = node.nodename().to_str()?.to_owned();
    let hints = dns_lookup::AddrInfoHints {
        flags: libc::AI_CANONNAME,
        ..Default::default()
    };
    let mut found = dns_lookup::getaddrinfo(Some(&node), None, Some(hints)).ok()?;
    found.next()?.ok()?.canonname
}

/// The queue to the mail thread.
#[derive(Debug, Clone)]
pub struct Sender {
    tx: SyncSender<Alert>,
    counters: Arc<Counters>,
}

impl Sender {
    /// Starts the mail thread for `mail` (None, logged, if it cannot).
    pub fn start(mail: &Mail, identity: &Identity, counters: Arc<Counters>) -> Option<Self> {
        let (tx, rx) = sync_channel(QUEUE);
        let job = Job::new(mail, identity, counters.clone());
        let spawned = std::thread::Builder::new()
            .name("smtp-alert".into())
            .spawn(move || job.run(rx));
        match spawned {
            Ok(_) => Some(Sender { tx, counters }),
            Err(e) => {
                warn!("cannot start the SMTP alert thread: {e}");
                None
            }
        }
    }

    /// Queues `alert` without waiting.
    pub fn send(&self, alert: Alert) {
        match self.tx.try_send(alert) {
            Ok(()) => {}
            Err(TrySendError::Full(a)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                warn!("SMTP alert queue full, dropping \"{}\"", a.subject);
            }
            Err(TrySendError::Disconnected(_)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// The mail thread's state.
struct Job {
    transport: SmtpTransport,
    /// keepalived's `FMT_SMTP_HOST`, for log lines.
    server: String,
    from: String,
    to: Vec<String>,
    envelope: Option<Envelope>,
    counters: Arc<Counters>,
}

impl Job {
    fn new(mail: &Mail, id: &Identity, counters: Arc<Counters>) -> Self {
        let transport = SmtpTransport::builder_dangerous(mail.host.as_str())
            .port(mail.port)
            .timeout(Some(mail.connect_timeout))
            .hello_name(ClientId::Domain(id.helo.clone()))
            .build();
        let server = format!("[{}]:{}", mail.host, mail.port);
        Job {
            transport,
            server,
            from: id.from.clone(),
            to: mail.to.clone(),
            envelope: envelope(&id.from, &mail.to),
            counters,
        }
    }

    fn run(self, rx: Receiver<Alert>) {
        while let Ok(alert) = rx.recv() {
            let counter = match self.deliver(&alert) {
                Ok(()) => {
                    debug!("SMTP alert successfully sent.");
                    &self.counters.sent
                }
                Err(line) => {
                    info!("{line}");
                    &self.counters.failed
                }
            };
            counter.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One SMTP session for `alert`; Err: keepalived's line for why it
    /// was not taken.
    fn deliver(&self, alert: &Alert) -> Result<(), String> {
        let Some(envelope) = &self.envelope else {
            return Err(format!(
                "SMTP alert not sent: invalid sender {} or recipients {:?}",
                self.from, self.to
            ));
        };
        let date = chrono::Local::now()
            .format("%a, %d %b %Y %H:%M:%S %z")
            .to_string();
        let text = compose::message(&date, &self.from, &self.to, alert);
        match self.transport.send_raw(envelope, text.as_bytes()) {
            Ok(_) => Ok(()),
            Err(e) => {
                debug!("SMTP alert to {}: {e}", self.server);
                Err(failure_line(&self.server, &e))
            }
        }
    }
}

/// The envelope, if every address is one lettre can send to.
fn envelope(from: &str, to: &[String]) -> Option<Envelope> {
    let from: Address = from.parse().ok()?;
    let to: Option<Vec<Address>> = to.iter().map(|a| a.parse().ok()).collect();
    Envelope::new(Some(from), to?).ok()
}

/// keepalived's line for a failed alert (core/smtp.c).
fn failure_line(server: &str, e: &lettre::transport::smtp::Error) -> String {
    if e.is_timeout() {
        format!("Timeout connecting SMTP server {server}.")
    } else if let Some(code) = e.status() {
        format!("Error processing SMTP cmd on SMTP server {server}. SMTP status code = {code}")
    } else {
        format!("SMTP connection ERROR to {server}.")
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::*;

    fn mail(port: u16) -> Mail {
        let text = format!(
            "global_defs {{\n  notification_email {{\n    a@x.org\n  }}\n  \
             notification_email_from k@x.org\n  smtp_server 127.0.0.1 {port}\n  router_id r\n}}\n"
        );
        let p = vrrp_conf::parse_str("t.conf", &text, &Default::default());
        vrrp_conf::convert::mail::Alerts::of(&p.config)
            .mail
            .unwrap()
    }

    fn alert() -> Alert {
        Alert {
            subject: "s".into(),
            body: "b".into(),
        }
    }

    #[test]
    fn a_refused_connection_is_a_failure_not_a_hang() {
        // A port nothing listens on: bound, then closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let m = mail(port);
        let counters = Arc::new(Counters::default());
        let job = Job::new(&m, &Identity::of(&m), counters.clone());
        assert_eq!(
            job.deliver(&alert()),
            Err(format!("SMTP connection ERROR to [127.0.0.1]:{port}."))
        );
    }

    #[test]
    fn a_full_queue_drops_and_counts() {
        let (tx, _rx) = sync_channel(1);
        let counters = Arc::new(Counters::default());
        let sender = Sender {
            tx,
            counters: counters.clone(),
        };
        for _ in 0..3 {
            sender.send(alert());
        }
        assert_eq!(counters.dropped.load(Ordering::Relaxed), 2);
    }

    #[test]
    fn configured_names_win_over_the_host_s() {
        let id = Identity::of(&mail(25));
        assert_eq!((id.router_id.as_str(), id.from.as_str()), ("r", "k@x.org"));
    }

    #[test]
    fn envelope_needs_valid_addresses() {
        assert!(envelope("k@x.org", &["a@x.org".into()]).is_some());
        assert!(envelope("not an address", &["a@x.org".into()]).is_none());
        assert!(envelope("k@x.org", &[]).is_none());
    }
}
