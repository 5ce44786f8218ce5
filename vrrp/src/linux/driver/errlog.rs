//! Warnings for send and receive errors and lost events, rate-limited.
//!
//! keepalived logs every failed advert send and every failed `recvmsg`; an
//! interface that refuses adverts then writes a line per router per
//! advert interval. Here the first error of a kind (a [`Site`] and an
//! errno) is logged at once, in keepalived's words where keepalived has a
//! line, and the ones that follow within [`ERROR_LOG_PERIOD`] are counted
//! and told in one summary line when the period ends. Every error is
//! still counted in [`DriverCounters`](super::DriverCounters).
//!
//! The limiter is sans-IO, like the routers: every call carries `now`.

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;

use super::Driver;
use crate::mux::RouterId;
use crate::router::Transmit;

/// The driver logs failed advert sends, failed raw-socket reads and
/// events lost to a full channel as `tracing` warnings, in keepalived's
/// words where keepalived has a line: the first of a kind (router and
/// unicast peer, or socket, and errno) at once, then at most one summary
/// line per this period saying how many more happened. Every one is
/// counted in [`DriverCounters`](super::DriverCounters).
pub const ERROR_LOG_PERIOD: Duration = Duration::from_secs(10);

/// Where an error happened: with the errno, what the limiter keys on.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) enum Site {
    /// A router's advert, multicast (`peer` `None`) or to one unicast peer.
    Send {
        /// The router's instance name.
        router: Arc<str>,
        /// The unicast peer, if any.
        peer: Option<IpAddr>,
    },
    /// A read from the raw socket with this descriptor.
    Receive {
        /// The socket's descriptor, which keepalived's line names.
        fd: i32,
    },
    /// Events dropped because the embedder's channel was full (no errno).
    EventsLost,
}

/// One line to log, first or summary; `Display` writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Line {
    site: Site,
    errno: i32,
    /// 0 for the first line; the errors left out for a summary.
    suppressed: u64,
    /// How long the summary covers.
    window: Duration,
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errno = self.errno;
        let desc = Errno::from_raw(errno).desc();
        // Whole seconds, rounded up: a stop just after a summary says
        // "in the last 1 s", not "0 s".
        let w = self.window;
        let secs = w.as_secs() + u64::from(w.subsec_nanos() > 0);
        let n = self.suppressed;
        match (&self.site, n) {
            // keepalived's lines (vrrp.c vrrp_send_adv, vrrp_scheduler.c
            // vrrp_read_dispatcher_thread), `%m` being the errno's text.
            (Site::Send { router, peer: None }, 0) => {
                write!(f, "({router}): send advert error {errno} ({desc})")
            }
            (
                Site::Send {
                    router,
                    peer: Some(p),
                },
                0,
            ) => {
                write!(f, "({router}) Cant send advert to {p} ({desc})")
            }
            (Site::Receive { fd }, 0) => write!(f, "recvmsg({fd}) returned {errno} ({desc})"),
            (Site::EventsLost, 0) => {
                f.write_str("event channel full: events lost (the embedder reads too slowly)")
            }
            // Ours: the summaries keepalived has no need for.
            (Site::Send { router, peer: None }, n) => write!(
                f,
                "({router}): {n} more send advert errors {errno} ({desc}) in the last {secs} s"
            ),
            (
                Site::Send {
                    router,
                    peer: Some(p),
                },
                n,
            ) => write!(
                f,
                "({router}) {n} more failures to send advert to {p} ({desc}) in the last {secs} s"
            ),
            (Site::Receive { fd }, n) => write!(
                f,
                "recvmsg({fd}): {n} more errors {errno} ({desc}) in the last {secs} s"
            ),
            (Site::EventsLost, n) => write!(
                f,
                "event channel full: {n} more events lost in the last {secs} s"
            ),
        }
    }
}

/// An open period of one kind of error.
#[derive(Debug)]
struct Window {
    opened: Instant,
    suppressed: u64,
}

/// The rate limiter: one [`Window`] per kind seen within the last period.
#[derive(Debug)]
pub(super) struct ErrLog {
    period: Duration,
    windows: HashMap<(Site, i32), Window>,
}

impl ErrLog {
    /// A limiter giving each kind one line per `period`.
    pub(super) fn new(period: Duration) -> ErrLog {
        ErrLog {
            period,
            windows: HashMap::new(),
        }
    }

    /// Records one error; returns the line to log now, if it is the first
    /// of its kind in the period (later ones go to the summary).
    pub(super) fn record(&mut self, site: Site, errno: i32, now: Instant) -> Option<Line> {
        if let Some(w) = self.windows.get_mut(&(site.clone(), errno)) {
            w.suppressed += 1;
            return None;
        }
        self.windows.insert(
            (site.clone(), errno),
            Window {
                opened: now,
                suppressed: 0,
            },
        );
        Some(Line {
            site,
            errno,
            suppressed: 0,
            window: Duration::ZERO,
        })
    }

    /// Ends the windows `period` old by `now` (all of them if `all`, at a
    /// stop): one summary line for each that left errors out, which then
    /// opens a new window so steady errors stay at one line per period; a
    /// quiet one is forgotten, so the next error is logged at once.
    pub(super) fn expire(&mut self, now: Instant, all: bool) -> Vec<Line> {
        if self.windows.is_empty() {
            return Vec::new(); // the usual case, without allocating
        }
        let mut lines = Vec::new();
        let period = self.period;
        self.windows.retain(|(site, errno), w| {
            let age = now.saturating_duration_since(w.opened);
            if age < period && !all {
                return true;
            }
            if w.suppressed == 0 {
                return false;
            }
            lines.push(Line {
                site: site.clone(),
                errno: *errno,
                suppressed: w.suppressed,
                window: age,
            });
            *w = Window {
                opened: now,
                suppressed: 0,
            };
            true
        });
        lines
    }
}

/// The errno of an I/O error; the driver's own refusals (a datagram of the
/// wrong family for its socket) count as `EINVAL`.
fn errno_of(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EINVAL)
}

impl Driver {
    /// Counts and logs an advert the kernel refused. Like keepalived, a
    /// priority-0 advert refused with `ENETUNREACH` on an interface that is
    /// down is not logged (it is expected at a stop after a link loss).
    pub(super) fn send_failed(
        &mut self,
        id: RouterId,
        ifindex: u32,
        tx: &Transmit,
        e: &io::Error,
        now: Instant,
    ) {
        self.counters.send_errors += 1;
        let errno = errno_of(e);
        let up = self.links.get(&ifindex).is_some_and(|l| l.is_operational());
        if tx.priority == 0 && errno == libc::ENETUNREACH && !up {
            return;
        }
        let Some(r) = self.io(id.0 as usize) else {
            return;
        };
        // Adverts go to the VRRP group, or in unicast mode to each peer.
        let unicast = !tx.destination.is_multicast();
        let site = Site::Send {
            router: r.name.clone(),
            peer: unicast.then_some(tx.destination),
        };
        if let Some(line) = self.errlog.record(site, errno, now) {
            tracing::warn!("{line}");
        }
    }

    /// Counts and logs a failed read from a raw socket; `WouldBlock` (the
    /// queue is empty) and `Interrupted` are not errors.
    pub(super) fn receive_failed(&mut self, fd: i32, e: &io::Error) {
        if matches!(
            e.kind(),
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
        ) {
            return;
        }
        self.counters.receive_errors += 1;
        let now = self.last_now;
        if let Some(line) = self.errlog.record(Site::Receive { fd }, errno_of(e), now) {
            tracing::warn!("{line}");
        }
    }

    /// Counts and logs an event lost to a full channel.
    pub(super) fn event_lost(&mut self) {
        self.counters.events_lost += 1;
        let now = self.last_now;
        if let Some(line) = self.errlog.record(Site::EventsLost, 0, now) {
            tracing::warn!("{line}");
        }
    }

    /// Logs the summaries due by `now` (every pending one if `all`).
    pub(super) fn flush_errlog(&mut self, now: Instant, all: bool) {
        for line in self.errlog.expire(now, all) {
            tracing::warn!("{line}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: Duration = Duration::from_secs(10);

    fn send(name: &str) -> Site {
        Site::Send {
            router: name.into(),
            peer: None,
        }
    }

    fn texts(lines: Vec<Line>) -> Vec<String> {
        let mut v: Vec<String> = lines.iter().map(ToString::to_string).collect();
        v.sort();
        v
    }

    #[test]
    fn first_lines_use_keepalived_wording() {
        let mut log = ErrLog::new(P);
        let t0 = Instant::now();
        let line = |l: Option<Line>| l.map(|l| l.to_string());
        assert_eq!(
            line(log.record(send("VI_1"), libc::EPERM, t0)).as_deref(),
            Some("(VI_1): send advert error 1 (Operation not permitted)")
        );
        let peer = Site::Send {
            router: "VI_2".into(),
            peer: Some(IpAddr::from([10, 0, 0, 2])),
        };
        assert_eq!(
            line(log.record(peer, libc::EACCES, t0)).as_deref(),
            Some("(VI_2) Cant send advert to 10.0.0.2 (Permission denied)")
        );
        assert_eq!(
            line(log.record(Site::Receive { fd: 7 }, libc::ENOPROTOOPT, t0)).as_deref(),
            Some("recvmsg(7) returned 92 (Protocol not available)")
        );
        assert_eq!(
            line(log.record(Site::EventsLost, 0, t0)).as_deref(),
            Some("event channel full: events lost (the embedder reads too slowly)")
        );
    }

    #[test]
    fn repeats_within_the_period_are_summarised_once() {
        let mut log = ErrLog::new(P);
        let t0 = Instant::now();
        let s = || send("VI_1");
        assert!(log.record(s(), libc::EPERM, t0).is_some());
        for k in 1..=9 {
            let at = t0 + Duration::from_secs(k);
            assert_eq!(log.record(s(), libc::EPERM, at), None);
            assert!(
                log.expire(at, false).is_empty(),
                "no summary before the period ends"
            );
        }
        assert_eq!(
            texts(log.expire(t0 + P, false)),
            ["(VI_1): 9 more send advert errors 1 (Operation not permitted) in the last 10 s"]
        );
        // Steady errors: the next window is summarised too, never line by line.
        let t1 = t0 + P;
        for k in 1..=4 {
            assert_eq!(
                log.record(s(), libc::EPERM, t1 + Duration::from_secs(k)),
                None
            );
        }
        assert_eq!(
            texts(log.expire(t1 + Duration::from_secs(12), false)),
            ["(VI_1): 4 more send advert errors 1 (Operation not permitted) in the last 12 s"]
        );
    }

    #[test]
    fn a_quiet_period_forgets_so_the_next_error_is_logged_at_once() {
        let mut log = ErrLog::new(P);
        let t0 = Instant::now();
        assert!(log.record(send("VI_1"), libc::EPERM, t0).is_some());
        assert!(log.expire(t0 + P, false).is_empty(), "nothing left out");
        assert!(log.record(send("VI_1"), libc::EPERM, t0 + P).is_some());
    }

    #[test]
    fn kinds_are_limited_separately() {
        let mut log = ErrLog::new(P);
        let t0 = Instant::now();
        assert!(log.record(send("VI_1"), libc::EPERM, t0).is_some());
        assert!(
            log.record(send("VI_2"), libc::EPERM, t0).is_some(),
            "another router"
        );
        assert!(
            log.record(send("VI_1"), libc::ENOBUFS, t0).is_some(),
            "another errno"
        );
        assert!(log
            .record(Site::Receive { fd: 3 }, libc::EPERM, t0)
            .is_some());
        assert!(log
            .record(Site::Receive { fd: 4 }, libc::EPERM, t0)
            .is_some());
        assert_eq!(log.record(Site::Receive { fd: 3 }, libc::EPERM, t0), None);
        assert_eq!(
            texts(log.expire(t0 + P, false)),
            ["recvmsg(3): 1 more errors 1 (Operation not permitted) in the last 10 s"]
        );
    }

    #[test]
    fn a_stop_flushes_every_pending_summary() {
        let mut log = ErrLog::new(P);
        let t0 = Instant::now();
        assert!(log.record(Site::EventsLost, 0, t0).is_some());
        assert_eq!(log.record(Site::EventsLost, 0, t0), None);
        assert_eq!(log.record(Site::EventsLost, 0, t0), None);
        let at = t0 + Duration::from_millis(2_100);
        assert!(log.expire(at, false).is_empty());
        assert_eq!(
            texts(log.expire(at, true)),
            ["event channel full: 2 more events lost in the last 3 s"]
        );
    }

    #[test]
    fn a_clock_going_backwards_does_not_panic() {
        let mut log = ErrLog::new(P);
        let t0 = Instant::now() + P;
        assert!(log.record(send("VI_1"), libc::EPERM, t0).is_some());
        assert_eq!(log.record(send("VI_1"), libc::EPERM, t0), None);
        assert!(log.expire(t0 - P, false).is_empty());
    }

    #[test]
    fn non_os_errors_count_as_einval() {
        let e: io::Error = io::ErrorKind::InvalidInput.into();
        assert_eq!(errno_of(&e), libc::EINVAL);
        assert_eq!(
            errno_of(&io::Error::from_raw_os_error(libc::EPERM)),
            libc::EPERM
        );
    }
}
