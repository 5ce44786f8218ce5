//! A tokio driver for a [`Monitor`] (feature `tokio`).
//!
//! Each due check runs in its own task, bounded by its context's timeout
//! (plus a short grace as a backstop), so a slow check only delays itself.
//! Run [`Driver::run`] itself in a task (`tokio::spawn`) so that the check
//! tasks it spawns start on a worker's local queue rather than the
//! runtime's injection queue. Results come back over a channel; events go
//! out over another.
//!
//! Inline checks: a checker whose [`Checker::inline`] says
//! [`Inline::TcpConnect`] (TCP_CHECK) is not run as a task: the driver
//! makes the connect itself, from one epoll set that it watches as one
//! descriptor, keeping each target's socket between its checks (see
//! `connect.rs`). A check is then three syscalls and no allocation, task,
//! timer or reactor registration; every check due at one wake-up starts
//! there, and local connects that finish at once are read in the same
//! wake-up. [`Inline::Outcome`] (a suspended checker) ends at once.
//!
//! Wake-ups: a process that sleeps and wakes once per check pays more for
//! the wake-up than for the check (natively about 160 us a wake-up against
//! about 55 us a loopback TCP check, see `examples/steady_cpu.rs`). With
//! [`Driver::set_timer_slack`] the driver sleeps at least that long
//! between two timer wake-ups, and starts every check that came due
//! meanwhile together: checks then start up to the slack late, never
//! early. The default is no slack.
//!
//! Descriptors: the driver has a budget of 4 descriptors for each of
//! [`Driver::set_max_concurrent`] checks (by default a share of
//! `RLIMIT_NOFILE`, see [`default_max_concurrent`]). A check run as a task
//! takes 4 (a socket, or a script's pipes and process), so at most that
//! many tasks run at once; an inline connect takes 1, and at most half
//! the budget stays in sockets kept between checks. The others wait in
//! order, and a check's timeout starts only when it runs, so many slow or
//! blackholed targets delay the healthy ones instead of failing them with
//! `EMFILE`. Call [`raise_nofile_limit`] once at start to get as many
//! descriptors as the hard limit allows. The test `root_netns_emfile`
//! shows it: 2,000 blackholed TCP_CHECK targets under `ulimit -n 1024` (a
//! budget of 960) never fail a healthy server, and the process stays
//! under the limit.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, Semaphore};

mod connect;

use connect::Connector;

use crate::{CheckContext, CheckOutcome, Checker, DownReason, Event, Inline, Monitor, TargetId};

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

/// Called with every finished check: its target, outcome and duration.
pub type Observer = Arc<dyn Fn(TargetId, &CheckOutcome, Duration) + Send + Sync>;

/// Owns a monitor and the checker of every target.
pub struct Driver {
    monitor: Monitor,
    checks: HashMap<TargetId, (Arc<dyn Checker>, Arc<CheckContext>)>,
    stats: Arc<DriverStats>,
    /// Most checks running at once; `None` until set or `run` picks the default.
    max_concurrent: Option<usize>,
    /// Shortest sleep between two timer wake-ups.
    timer_slack: Duration,
    observer: Option<Observer>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("monitor", &self.monitor)
            .field("checks", &self.checks)
            .field("max_concurrent", &self.max_concurrent)
            .field("timer_slack", &self.timer_slack)
            .finish_non_exhaustive()
    }
}

/// A finished check's report from its task: target, outcome, duration.
type Report = (TargetId, CheckOutcome, Duration);

impl Driver {
    /// A driver over `monitor` (targets and pools already added).
    pub fn new(monitor: Monitor) -> Self {
        Self {
            monitor,
            checks: HashMap::new(),
            stats: Arc::new(DriverStats::default()),
            max_concurrent: None,
            timer_slack: Duration::ZERO,
            observer: None,
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

    /// Calls `observer` with every finished check (counters, latency
    /// histograms), from the driver's task: keep it short.
    pub fn set_observer(&mut self, observer: Observer) {
        self.observer = Some(observer);
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
        let (mut run, mut rx) = self.running();
        self.monitor.commit(Instant::now());
        tokio::pin!(stop);
        // The earliest the timer may wake the driver again.
        let mut not_before = tokio::time::Instant::now();
        // Without the connector's timer, one tokio timer, moved only when
        // the wake-up changes: a new timer each turn would wake the
        // runtime's own driver (an eventfd write and one more epoll_wait)
        // whenever it is the earliest.
        let timer = tokio::time::sleep_until(far_future());
        tokio::pin!(timer);
        loop {
            self.step(&mut run, &events);
            if run.connector.as_mut().is_some_and(Connector::rang) {
                self.stats.timer_wakeups.fetch_add(1, Ordering::Relaxed);
                not_before = tokio::time::Instant::now() + self.timer_slack;
            }
            let wake = [self.monitor.poll_timeout(), run.next_deadline()]
                .into_iter()
                .flatten()
                .min()
                .map(|w| tokio::time::Instant::from_std(w).max(not_before));
            let wake = wake.unwrap_or_else(far_future);
            let armed = run
                .connector
                .as_mut()
                .is_some_and(|c| c.arm(wake.into_std()));
            if !armed && (timer.deadline() != wake || timer.is_elapsed()) {
                timer.as_mut().reset(wake);
            }
            tokio::select! {
                biased;
                () = &mut stop => return self.monitor,
                Some(report) = rx.recv() => {
                    run.done.push(report);
                    while let Ok(report) = rx.try_recv() {
                        run.done.push(report);
                    }
                }
                () = run.ready() => {}
                () = &mut timer => {
                    self.stats.timer_wakeups.fetch_add(1, Ordering::Relaxed);
                    not_before = tokio::time::Instant::now() + self.timer_slack;
                }
            }
        }
    }

    /// What a run needs besides the driver: the descriptor budget, the
    /// connector and the reports.
    fn running(&self) -> (Running, mpsc::UnboundedReceiver<Report>) {
        let limit = self.max_concurrent.unwrap_or_else(default_max_concurrent);
        let units = limit
            .saturating_mul(UNITS_PER_TASK)
            .min(Semaphore::MAX_PERMITS);
        let units = Arc::new(Semaphore::new(units));
        let max_kept = units.available_permits() / 2;
        let (tx, rx) = mpsc::unbounded_channel();
        // Without an epoll set of its own, every check runs as a task.
        let connector = Connector::new(units.clone(), max_kept, self.stats.clone()).ok();
        let run = Running {
            tx,
            units,
            connector,
            done: Vec::new(),
        };
        (run, rx)
    }

    /// Starts what is due, ends what finished, sends the events.
    fn step(&mut self, run: &mut Running, events: &mpsc::UnboundedSender<Event>) {
        let now = Instant::now();
        if let Some(c) = run.connector.as_mut() {
            c.expire(now, &mut run.done);
            c.start_waiting(&mut run.done);
        }
        while let Some(due) = self.monitor.poll_check(now) {
            self.start(due, run, now);
        }
        if let Some(c) = run.connector.as_mut() {
            // Local connects often finish during connect() itself.
            c.settle(&mut run.done);
        }
        // One clock read for the whole batch (a VM may trap every read).
        let now = Instant::now();
        for (id, outcome, took) in run.done.drain(..) {
            self.stats.finished.fetch_add(1, Ordering::Relaxed);
            if let Some(observe) = &self.observer {
                observe(id, &outcome, took);
            }
            // Unknown ids (removed targets) are simply dropped.
            let _ = self.monitor.handle_outcome(now, id, outcome);
        }
        while let Some(e) = self.monitor.poll_event() {
            let _ = events.send(e);
        }
    }

    /// Starts a due check: inline if its checker allows, else in a task.
    fn start(&self, due: crate::Due, run: &mut Running, now: Instant) {
        let (id, scheduled) = (due.target, due.scheduled);
        let late = now.saturating_duration_since(scheduled);
        let late_us = u64::try_from(late.as_micros()).unwrap_or(u64::MAX);
        (self.stats.max_dispatch_late_us).fetch_max(late_us, Ordering::Relaxed);
        let Some((checker, ctx)) = self.checks.get(&id) else {
            let outcome = CheckOutcome::Down(DownReason::Config("no checker"));
            run.done.push((id, outcome, Duration::ZERO));
            return;
        };
        match (checker.inline(), run.connector.as_mut()) {
            (Some(Inline::Outcome(outcome)), _) => {
                self.stats.record_start(late);
                run.done.push((id, outcome, Duration::ZERO));
            }
            (Some(Inline::TcpConnect), Some(c)) => c.start(id, ctx, scheduled, now, &mut run.done),
            _ => {
                let ctx = if ctx.urls == due.urls {
                    ctx.clone()
                } else {
                    Arc::new((**ctx).clone().with_urls(due.urls))
                };
                self.spawn(id, scheduled, checker.clone(), ctx, run);
            }
        }
    }

    /// Runs a check in a task of its own, once it gets its units.
    fn spawn(
        &self,
        id: TargetId,
        scheduled: Instant,
        checker: Arc<dyn Checker>,
        ctx: Arc<CheckContext>,
        run: &Running,
    ) {
        let (tx, units, stats) = (run.tx.clone(), run.units.clone(), self.stats.clone());
        tokio::spawn(async move {
            let mut report = Reporter(Some((id, tx)));
            // Fair (FIFO) wait for a slot; the timeout starts after it.
            stats.waiting.fetch_add(1, Ordering::Relaxed);
            let slot = units.acquire_many_owned(UNITS_PER_TASK_U32).await;
            stats.waiting.fetch_sub(1, Ordering::Relaxed);
            let Ok(_slot) = slot else {
                // Closed only if the driver is gone: nobody reads the outcome.
                return;
            };
            let started = Instant::now();
            stats.record_start(started.saturating_duration_since(scheduled));
            let backstop = ctx.timeout.saturating_add(BACKSTOP_GRACE);
            let outcome = tokio::time::timeout(backstop, checker.check(&ctx))
                .await
                .unwrap_or(CheckOutcome::Down(DownReason::Timeout));
            report.send(outcome, started.elapsed());
        });
    }
}

/// A wake-up that never comes (about 30 years from now, as tokio's own
/// "far future").
fn far_future() -> tokio::time::Instant {
    tokio::time::Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

/// One run's sender of task reports, descriptor budget and connector.
struct Running {
    tx: mpsc::UnboundedSender<Report>,
    units: Arc<Semaphore>,
    connector: Option<Connector>,
    /// Checks finished and not yet handed to the monitor.
    done: Vec<connect::Finished>,
}

impl Running {
    fn next_deadline(&self) -> Option<Instant> {
        self.connector.as_ref().and_then(Connector::next_deadline)
    }

    /// Resolves when the connector has events (never without one).
    async fn ready(&self) {
        match &self.connector {
            Some(c) => c.ready().await,
            None => std::future::pending().await,
        }
    }
}

/// Descriptor units a check run as a task takes: a socket, or a script's
/// pipes and its process descriptor. A connect the driver makes itself
/// takes one.
const UNITS_PER_TASK: usize = 4;
const UNITS_PER_TASK_U32: u32 = 4;

/// How long past its own timeout a check may run before the driver cuts it.
/// Checkers bound themselves by `ctx.timeout`; some answer *at* it (UDP_CHECK:
/// silence until then is success), and a driver cut at the same instant
/// raced them and turned about one such success in ten into a timeout.
const BACKSTOP_GRACE: Duration = Duration::from_millis(100);

/// Sends a check's outcome exactly once. Dropped unsent (the checker
/// panicked), it reports [`DownReason::CheckerPanicked`], so the target is
/// not left in flight and never checked again.
struct Reporter(Option<(TargetId, mpsc::UnboundedSender<Report>)>);

impl Reporter {
    fn send(&mut self, outcome: CheckOutcome, took: Duration) {
        if let Some((id, tx)) = self.0.take() {
            let _ = tx.send((id, outcome, took));
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        self.send(
            CheckOutcome::Down(DownReason::CheckerPanicked),
            Duration::ZERO,
        );
    }
}

/// Descriptors kept free of checks for everything else in the process
/// (sockets of the other halves, log files, scripts' pipes).
const RESERVED_FDS: u64 = 64;
/// Descriptors one check may hold at once: a socket, or a script's pipes
/// and its process descriptor.
const FDS_PER_CHECK: u64 = UNITS_PER_TASK as u64;

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

    /// A TCP_CHECK that counts the times it is run as a task.
    #[derive(Debug, Default)]
    struct InlineTcp {
        tasks: AtomicUsize,
    }

    impl Checker for InlineTcp {
        fn check<'a>(&'a self, _ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
            self.tasks.fetch_add(1, Ordering::SeqCst);
            Box::pin(async { CheckOutcome::Down(DownReason::Config("run as a task")) })
        }

        fn inline(&self) -> Option<Inline> {
            Some(Inline::TcpConnect)
        }
    }

    /// Finished checks by target and outcome (as debug text).
    type Seen = Arc<std::sync::Mutex<HashMap<(TargetId, String), usize>>>;

    #[tokio::test]
    async fn inline_checks_run_without_a_task_and_reach_the_observer() {
        use crate::checkers::Suspendable;
        let l = tokio::net::TcpListener::bind(test_support::unique_addr())
            .await
            .unwrap();
        let up_addr = l.local_addr().unwrap();
        tokio::spawn(async move { while l.accept().await.is_ok() {} });
        let mut m = Monitor::new(MonitorConfig::default());
        let every = TargetConfig::with_interval(Duration::from_millis(10));
        let [up, refused, off] = ["up", "refused", "off"].map(|n| m.add_target(n, every.clone()));
        let tcp = Arc::new(InlineTcp::default());
        let ctx = |a| CheckContext::new(a, Duration::from_secs(60));
        let mut d = Driver::new(m);
        d.set_checker(up, tcp.clone(), ctx(up_addr));
        d.set_checker(refused, tcp.clone(), ctx(test_support::unique_addr()));
        let gate = Arc::new(std::sync::atomic::AtomicBool::new(false));
        d.set_checker(
            off,
            Arc::new(Suspendable::new(tcp.clone(), gate)),
            ctx(up_addr),
        );
        let seen = Seen::default();
        let log = seen.clone();
        d.set_observer(Arc::new(move |id, o, _| {
            *log.lock()
                .unwrap()
                .entry((id, format!("{o:?}")))
                .or_default() += 1;
        }));
        let (tx, _rx) = mpsc::unbounded_channel();
        let watch = seen.clone();
        let stop = async move {
            while watch.lock().unwrap().values().filter(|&&n| n >= 5).count() < 3 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        };
        let m = tokio::spawn(d.run(tx, stop)).await.unwrap();
        let mut kinds: Vec<_> = seen.lock().unwrap().keys().cloned().collect();
        kinds.sort_by_key(|k| k.0);
        let want = [(up, "Up"), (refused, "Down(Refused)"), (off, "Skipped")];
        let want = want.map(|(id, o)| (id, o.to_string()));
        assert_eq!(kinds, want);
        assert_eq!((m.is_up(up), m.is_up(refused)), (Some(true), Some(false)));
        assert_eq!(tcp.tasks.load(Ordering::SeqCst), 0);
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
