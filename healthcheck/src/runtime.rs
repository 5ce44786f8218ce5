//! A tokio driver for a [`Monitor`] (feature `tokio`).
//!
//! Each due check runs in its own task, bounded by its context's timeout
//! (plus a short grace as a backstop), so a slow check only delays itself. Run [`Driver::run`] itself in a
//! task (`tokio::spawn`) so that the check tasks it spawns start on a
//! worker's local queue rather than the runtime's injection queue. Results come back over a channel;
//! events go out over another.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::{CheckContext, CheckOutcome, Checker, DownReason, Event, Monitor, TargetId};

/// Lateness and volume counters, readable while the driver runs.
#[derive(Debug)]
#[non_exhaustive]
pub struct DriverStats {
    /// Checks started.
    pub started: AtomicU64,
    /// Checks finished.
    pub finished: AtomicU64,
    /// Largest lateness seen (start minus schedule), in microseconds.
    pub max_late_us: AtomicU64,
    /// Largest lateness of the driver handing a due check to its task
    /// (timer and driver delay, without the task's own start delay), in
    /// microseconds.
    pub max_dispatch_late_us: AtomicU64,
    /// Lateness histogram: bucket `i` counts starts `i` ms late (the last
    /// bucket counts 63 ms or more).
    pub late_ms: [AtomicU64; 64],
}

impl Default for DriverStats {
    fn default() -> Self {
        Self {
            started: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            max_late_us: AtomicU64::new(0),
            max_dispatch_late_us: AtomicU64::new(0),
            late_ms: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl DriverStats {
    fn record_start(&self, late: Duration) {
        self.started.fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(late.as_micros()).unwrap_or(u64::MAX);
        self.max_late_us.fetch_max(us, Ordering::Relaxed);
        let i = usize::try_from(us / 1000).unwrap_or(63).min(63);
        if let Some(b) = self.late_ms.get(i) {
            b.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Owns a monitor and the checker of every target.
#[derive(Debug)]
pub struct Driver {
    monitor: Monitor,
    checks: HashMap<TargetId, (Arc<dyn Checker>, Arc<CheckContext>)>,
    stats: Arc<DriverStats>,
}

impl Driver {
    /// A driver over `monitor` (targets and pools already added).
    pub fn new(monitor: Monitor) -> Self {
        Self {
            monitor,
            checks: HashMap::new(),
            stats: Arc::new(DriverStats::default()),
        }
    }

    /// Sets the checker and context of a target. A target without one is
    /// reported down with [`DownReason::Config`].
    pub fn set_checker(&mut self, target: TargetId, checker: Arc<dyn Checker>, ctx: CheckContext) {
        self.checks.insert(target, (checker, Arc::new(ctx)));
    }

    /// The monitor, e.g. to add targets before [`Driver::run`].
    pub fn monitor_mut(&mut self) -> &mut Monitor {
        &mut self.monitor
    }

    /// Shared counters.
    pub fn stats(&self) -> Arc<DriverStats> {
        self.stats.clone()
    }

    /// Commits the monitor at the current time and runs until `stop`
    /// resolves; every event is sent to `events` (dropped if the receiver
    /// is gone). Returns the monitor.
    pub async fn run(
        mut self,
        events: mpsc::UnboundedSender<Event>,
        stop: impl std::future::Future<Output = ()>,
    ) -> Monitor {
        let (tx, mut rx) = mpsc::unbounded_channel::<(TargetId, CheckOutcome)>();
        self.monitor.commit(Instant::now());
        tokio::pin!(stop);
        loop {
            let now = Instant::now();
            while let Some(due) = self.monitor.poll_check(now) {
                self.spawn(due.target, due.scheduled, &tx);
            }
            while let Some(e) = self.monitor.poll_event() {
                let _ = events.send(e);
            }
            let wake = self
                .monitor
                .poll_timeout()
                .map(tokio::time::Instant::from_std);
            let sleep = async {
                match wake {
                    Some(w) => tokio::time::sleep_until(w).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                biased;
                () = &mut stop => return self.monitor,
                Some((id, outcome)) = rx.recv() => {
                    // Unknown ids (removed targets) are simply dropped.
                    let _ = self.monitor.handle_outcome(Instant::now(), id, outcome);
                    while let Ok((id, outcome)) = rx.try_recv() {
                        let _ = self.monitor.handle_outcome(Instant::now(), id, outcome);
                    }
                }
                () = sleep => {}
            }
        }
    }

    fn spawn(
        &self,
        id: TargetId,
        scheduled: Instant,
        tx: &mpsc::UnboundedSender<(TargetId, CheckOutcome)>,
    ) {
        let tx = tx.clone();
        let stats = self.stats.clone();
        let late = Instant::now().saturating_duration_since(scheduled);
        let late_us = u64::try_from(late.as_micros()).unwrap_or(u64::MAX);
        stats
            .max_dispatch_late_us
            .fetch_max(late_us, Ordering::Relaxed);
        let Some((checker, ctx)) = self.checks.get(&id).cloned() else {
            let _ = tx.send((id, CheckOutcome::Down(DownReason::Config("no checker"))));
            return;
        };
        tokio::spawn(async move {
            stats.record_start(Instant::now().saturating_duration_since(scheduled));
            let mut report = Report(Some((id, tx)));
            let backstop = ctx.timeout.saturating_add(BACKSTOP_GRACE);
            let outcome = tokio::time::timeout(backstop, checker.check(&ctx))
                .await
                .unwrap_or(CheckOutcome::Down(DownReason::Timeout));
            stats.finished.fetch_add(1, Ordering::Relaxed);
            report.send(outcome);
        });
    }
}

/// How long past its own timeout a check may run before the driver cuts it.
/// Checkers bound themselves by `ctx.timeout`; some answer *at* it (UDP_CHECK:
/// silence until then is success), and a driver cut at the same instant
/// raced them and turned about one such success in ten into a timeout.
const BACKSTOP_GRACE: Duration = Duration::from_millis(100);

/// Sends a check's outcome exactly once. Dropped unsent (the checker
/// panicked), it reports [`DownReason::CheckerPanicked`], so the target is
/// not left in flight and never checked again.
struct Report(Option<(TargetId, mpsc::UnboundedSender<(TargetId, CheckOutcome)>)>);

impl Report {
    fn send(&mut self, outcome: CheckOutcome) {
        if let Some((id, tx)) = self.0.take() {
            let _ = tx.send((id, outcome));
        }
    }
}

impl Drop for Report {
    fn drop(&mut self) {
        self.send(CheckOutcome::Down(DownReason::CheckerPanicked));
    }
}
