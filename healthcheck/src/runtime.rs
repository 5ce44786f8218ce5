//! A tokio driver for a [`Monitor`] (feature `tokio`).
//!
//! Each due check runs in its own task, bounded by its context's timeout
//! (plus a short grace as a backstop), so a slow check only delays itself.
//! Run [`Driver::run`] itself in a task (`tokio::spawn`) so that the check
//! tasks it spawns start on a worker's local queue rather than the
//! runtime's injection queue. Results come back over a channel; events go
//! out over another.
//!
//! Wake-ups: a process that sleeps and wakes once per check pays more for
//! the wake-up than for the check (natively about 160 us a wake-up against
//! about 55 us a loopback TCP check, see `examples/steady_cpu.rs`). With
//! [`Driver::set_timer_slack`] the driver sleeps at least that long
//! between two timer wake-ups, and starts every check that came due
//! meanwhile together: checks then start up to the slack late, never
//! early. The default is no slack.
//!
//! Descriptors: at most [`Driver::set_max_concurrent`] checks run at once
//! (by default a share of `RLIMIT_NOFILE`, see [`default_max_concurrent`]);
//! the others wait in order, and a check's timeout starts only when it
//! runs, so many slow or blackholed targets delay the healthy ones instead
//! of failing them with `EMFILE`. Call [`raise_nofile_limit`] once at start
//! to get as many descriptors as the hard limit allows. The test
//! `root_netns_emfile` shows it: 2,000 blackholed TCP_CHECK targets under
//! `ulimit -n 1024` (a cap of 240) never fail a healthy server, and the
//! process peaks at 252 descriptors.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Semaphore};

use crate::{CheckContext, CheckOutcome, Checker, DownReason, Event, Monitor, TargetId};

/// Lateness and volume counters, readable while the driver runs.
#[derive(Debug)]
#[non_exhaustive]
pub struct DriverStats {
    /// Checks started.
    pub started: AtomicU64,
    /// Checks finished.
    pub finished: AtomicU64,
    /// Checks due but waiting for one of the [`Driver::set_max_concurrent`]
    /// slots, now.
    pub waiting: AtomicU64,
    /// Largest lateness seen (start minus schedule), in microseconds.
    pub max_late_us: AtomicU64,
    /// Largest lateness of the driver handing a due check to its task
    /// (timer and driver delay, without the task's own start delay), in
    /// microseconds.
    pub max_dispatch_late_us: AtomicU64,
    /// Lateness histogram: bucket `i` counts starts `i` ms late (the last
    /// bucket counts 63 ms or more).
    pub late_ms: [AtomicU64; 64],
    /// Times the driver woke from its timer to start due checks.
    pub timer_wakeups: AtomicU64,
}

impl Default for DriverStats {
    fn default() -> Self {
        Self {
            started: AtomicU64::new(0),
            finished: AtomicU64::new(0),
            waiting: AtomicU64::new(0),
            max_late_us: AtomicU64::new(0),
            max_dispatch_late_us: AtomicU64::new(0),
            late_ms: std::array::from_fn(|_| AtomicU64::new(0)),
            timer_wakeups: AtomicU64::new(0),
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
    /// Most checks running at once; `None` until set or `run` picks the default.
    max_concurrent: Option<usize>,
    /// Shortest sleep between two timer wake-ups.
    timer_slack: Duration,
}

impl Driver {
    /// A driver over `monitor` (targets and pools already added).
    pub fn new(monitor: Monitor) -> Self {
        Self {
            monitor,
            checks: HashMap::new(),
            stats: Arc::new(DriverStats::default()),
            max_concurrent: None,
            timer_slack: Duration::ZERO,
        }
    }

    /// Runs at most `n` checks at once (at least 1); the default is
    /// [`default_max_concurrent`], read when [`Driver::run`] starts.
    pub fn set_max_concurrent(&mut self, n: usize) {
        self.max_concurrent = Some(n.max(1));
    }

    /// Sleeps at least `slack` between two timer wake-ups (default zero):
    /// the checks due meanwhile start together, each at most `slack` late.
    /// Fewer wake-ups cost less CPU than the same checks one wake-up each.
    pub fn set_timer_slack(&mut self, slack: Duration) {
        self.timer_slack = slack;
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
        let limit = self.max_concurrent.unwrap_or_else(default_max_concurrent);
        let slots = Arc::new(Semaphore::new(limit.min(Semaphore::MAX_PERMITS)));
        self.monitor.commit(Instant::now());
        tokio::pin!(stop);
        // The earliest the timer may wake the driver again.
        let mut not_before = tokio::time::Instant::now();
        loop {
            let now = Instant::now();
            while let Some(due) = self.monitor.poll_check(now) {
                self.spawn(due, &tx, &slots);
            }
            while let Some(e) = self.monitor.poll_event() {
                let _ = events.send(e);
            }
            let wake = self
                .monitor
                .poll_timeout()
                .map(|w| tokio::time::Instant::from_std(w).max(not_before));
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
                () = sleep => {
                    self.stats.timer_wakeups.fetch_add(1, Ordering::Relaxed);
                    not_before = tokio::time::Instant::now() + self.timer_slack;
                }
            }
        }
    }

    fn spawn(
        &self,
        due: crate::Due,
        tx: &mpsc::UnboundedSender<(TargetId, CheckOutcome)>,
        slots: &Arc<Semaphore>,
    ) {
        let (id, scheduled) = (due.target, due.scheduled);
        let tx = tx.clone();
        let slots = slots.clone();
        let stats = self.stats.clone();
        let late = Instant::now().saturating_duration_since(scheduled);
        let late_us = u64::try_from(late.as_micros()).unwrap_or(u64::MAX);
        stats
            .max_dispatch_late_us
            .fetch_max(late_us, Ordering::Relaxed);
        let Some((checker, mut ctx)) = self.checks.get(&id).cloned() else {
            let _ = tx.send((id, CheckOutcome::Down(DownReason::Config("no checker"))));
            return;
        };
        if ctx.urls != due.urls {
            ctx = Arc::new((*ctx).clone().with_urls(due.urls));
        }
        tokio::spawn(async move {
            let mut report = Report(Some((id, tx)));
            // Fair (FIFO) wait for a slot; the timeout starts after it.
            stats.waiting.fetch_add(1, Ordering::Relaxed);
            let slot = slots.acquire_owned().await;
            stats.waiting.fetch_sub(1, Ordering::Relaxed);
            let Ok(_slot) = slot else {
                // Closed only if the driver is gone: nobody reads the outcome.
                return;
            };
            stats.record_start(Instant::now().saturating_duration_since(scheduled));
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

/// Descriptors kept free of checks for everything else in the process
/// (sockets of the other halves, log files, scripts' pipes).
const RESERVED_FDS: u64 = 64;
/// Descriptors one check may hold at once: a socket, or a script's pipes
/// and its process descriptor.
const FDS_PER_CHECK: u64 = 4;

/// The default cap on concurrent checks: what `RLIMIT_NOFILE`'s soft limit
/// leaves after 64 descriptors kept for the rest of the process, at 4 per
/// check (240 at the usual 1024; at least 1). Unlimited if the limit cannot be read or is
/// infinite.
pub fn default_max_concurrent() -> usize {
    use nix::sys::resource::{getrlimit, Resource};
    match getrlimit(Resource::RLIMIT_NOFILE) {
        Ok((soft, _)) => share_of(soft),
        Err(_) => usize::MAX,
    }
}

fn share_of(soft: u64) -> usize {
    if soft == nix::sys::resource::RLIM_INFINITY {
        return usize::MAX;
    }
    let n = soft.saturating_sub(RESERVED_FDS) / FDS_PER_CHECK;
    usize::try_from(n).unwrap_or(usize::MAX).max(1)
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (as far as allowed
/// without privileges; root may have a higher hard limit already) and
/// returns the new soft limit. keepalived raises its limit for the same
/// reason: thousands of checks need thousands of descriptors. Call it once
/// at start, before [`Driver::run`] reads the limit for its default cap.
pub fn raise_nofile_limit() -> std::io::Result<u64> {
    use nix::sys::resource::{getrlimit, setrlimit, Resource};
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    // Scripts get the limit from before, as keepalived's children do.
    crate::script::keep_nofile_for_scripts(soft);
    if soft < hard {
        setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    }
    Ok(getrlimit(Resource::RLIMIT_NOFILE)?.0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failure
    use std::sync::atomic::AtomicUsize;

    use super::*;
    use crate::{BoxFuture, MonitorConfig, TargetConfig};

    /// Up after a short sleep; records how many run at once.
    #[derive(Debug, Default)]
    struct Gauge {
        now: AtomicUsize,
        max: AtomicUsize,
        calls: AtomicUsize,
    }

    impl Checker for Gauge {
        fn check<'a>(&'a self, _ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
            Box::pin(async move {
                let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
                self.max.fetch_max(n, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(5)).await;
                self.now.fetch_sub(1, Ordering::SeqCst);
                self.calls.fetch_add(1, Ordering::SeqCst);
                CheckOutcome::Up
            })
        }
    }

    #[tokio::test]
    async fn no_more_checks_run_at_once_than_the_cap() {
        let mut m = Monitor::new(MonitorConfig::default());
        let every = TargetConfig::with_interval(Duration::from_millis(10));
        let ids: Vec<TargetId> = (0..8)
            .map(|i| m.add_target(format!("t{i}"), every.clone()))
            .collect();
        let gauge = Arc::new(Gauge::default());
        let ctx = CheckContext::new("127.0.0.1:1".parse().unwrap(), Duration::from_secs(60));
        let mut d = Driver::new(m);
        d.set_max_concurrent(3);
        for &id in &ids {
            d.set_checker(id, gauge.clone(), ctx.clone());
        }
        let (tx, _rx) = mpsc::unbounded_channel();
        let seen = gauge.clone();
        let stop = async move {
            while seen.calls.load(Ordering::SeqCst) < 40 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        };
        let m = tokio::spawn(d.run(tx, stop)).await.unwrap();
        // Eight targets due together, but three slots.
        assert_eq!(gauge.max.load(Ordering::SeqCst), 3);
        assert!(ids.iter().all(|&id| m.is_up(id) == Some(true)));
    }

    /// Up at once; says when it has been called 200 times.
    #[derive(Debug, Default)]
    struct Count {
        calls: AtomicUsize,
        done: tokio::sync::Notify,
    }

    impl Checker for Count {
        fn check<'a>(&'a self, _ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
            if self.calls.fetch_add(1, Ordering::SeqCst) + 1 == 200 {
                self.done.notify_one();
            }
            Box::pin(async { CheckOutcome::Up })
        }
    }

    /// Runs 20 targets every 100 ms (a check due every 5 ms) with `slack`
    /// until 200 checks are done; returns the timer wake-ups.
    async fn wakeups_for_200_checks(slack: Duration) -> u64 {
        let mut m = Monitor::new(MonitorConfig::default());
        let every = TargetConfig::with_interval(Duration::from_millis(100));
        let ids: Vec<TargetId> = (0..20)
            .map(|i| m.add_target(format!("t{i}"), every.clone()))
            .collect();
        let count = Arc::new(Count::default());
        let ctx = CheckContext::new("127.0.0.1:1".parse().unwrap(), Duration::from_secs(60));
        let mut d = Driver::new(m);
        d.set_timer_slack(slack);
        for &id in &ids {
            d.set_checker(id, count.clone(), ctx.clone());
        }
        let stats = d.stats();
        let (tx, _rx) = mpsc::unbounded_channel();
        // Woken only by the 200th check: no other wake-up of the driver.
        let seen = count.clone();
        let stop = async move { seen.done.notified().await };
        let m = tokio::spawn(d.run(tx, stop)).await.unwrap();
        assert!(ids.iter().all(|&id| m.is_up(id) == Some(true)));
        stats.timer_wakeups.load(Ordering::Relaxed)
    }

    #[tokio::test]
    async fn with_a_timer_slack_due_checks_start_together() {
        // 50 ms between wake-ups, a check due every 5 ms: about ten checks
        // a wake-up (a slow machine only wakes less often).
        let woke = wakeups_for_200_checks(Duration::from_millis(50)).await;
        assert!(woke <= 200 / 4, "{woke} wake-ups for 200 checks");
        // Without slack the timer wakes the driver for (nearly) every one.
        let woke = wakeups_for_200_checks(Duration::ZERO).await;
        assert!(woke > 200 / 8, "{woke} wake-ups for 200 checks");
    }

    #[test]
    fn the_default_cap_is_a_share_of_the_descriptor_limit() {
        assert_eq!(share_of(1024), 240);
        assert_eq!(share_of(65_536), 16_368);
        assert_eq!(share_of(10), 1);
        assert_eq!(share_of(nix::sys::resource::RLIM_INFINITY), usize::MAX);
    }

    #[test]
    fn the_descriptor_limit_is_raised_to_the_hard_limit() {
        use nix::sys::resource::{getrlimit, Resource};
        let soft = raise_nofile_limit().unwrap();
        assert_eq!(getrlimit(Resource::RLIMIT_NOFILE).unwrap(), (soft, soft));
        assert_eq!(default_max_concurrent(), share_of(soft));
    }
}
