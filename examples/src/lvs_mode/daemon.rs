//! The checker's loop: the healthcheck driver runs the checks, its events
//! go through the [`Bridge`], and every change is applied to the kernel as
//! the diff from what was applied last. The kernel's table is re-read
//! every `delay_loop` (and soon after a failed operation), but never so
//! often that reading it takes more than a fiftieth of the time, and what
//! drifted is repaired. SIGHUP reloads by diff: the driver stops, the new plan is
//! laid onto its monitor (unchanged real servers keep their health), the
//! changes go to the kernel as one diff, and the driver runs again; a
//! configuration that does not load leaves the running one. The control
//! socket's drain and restore requests go through the bridge to the
//! kernel before they are answered. SIGTERM and SIGINT remove the
//! services and stop.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use healthcheck::checkers::{
    DnsChecker, FileChecker, HttpChecker, MiscChecker, PingChecker, SmtpChecker, Suspendable,
    TcpChecker, TlsOptions, UdpChecker,
};
use healthcheck::runtime::Driver;
use healthcheck::{Checker, Event, Monitor, MonitorConfig};
use ipvs::{Ipvs, ServiceKey, Timeouts};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot};
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, error, info, warn};

use crate::lvs_mode::plan::{Plan, Probe, DEFAULT_DELAY_LOOP};
use crate::lvs_mode::suspend::local_addresses;
use crate::lvs_mode::syncd::SyncControl;
use crate::lvs_mode::table::Bridge;
use crate::lvs_mode::tls::keepalived_tls;

/// Why the checker could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    /// The IPVS netlink family could not be reached.
    #[error("cannot open IPVS (is ip_vs loaded?): {0}")]
    Ipvs(#[from] ipvs::Error),
    /// The health-check driver ended on its own (the services were
    /// removed on the way out).
    #[error("the health-check driver stopped")]
    DriverStopped,
    /// SSL_GET's TLS configuration could not be built.
    #[error("cannot set up TLS for SSL_GET: {0}")]
    Tls(String),
    /// Signal handlers could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
}

/// The table as applied, and the handle it is applied through.
struct Kernel {
    ipvs: Ipvs,
    /// What this daemon last put into the kernel (its own services only).
    current: Vec<ipvs::VirtualServer>,
    /// The services this daemon owns.
    keys: HashSet<ServiceKey>,
    /// How often the kernel's table is re-read: the shortest check
    /// interval (keepalived's `delay_loop`).
    period: Duration,
    /// How long the last reading of the table took.
    read_cost: Duration,
    /// `/proc/net/ip_vs`'s layout just before the last reading, and the
    /// periods since that reading skipped because it had not changed.
    layout: Option<Vec<u8>>,
    skipped: u32,
    /// The kernel's connection timeouts before `lvs_timeouts` changed
    /// them, restored when it no longer sets them and at exit.
    saved_timeouts: Option<Timeouts>,
    /// The sync daemons `lvs_sync_daemon` runs.
    syncd: SyncControl,
}

impl Kernel {
    /// Opens IPVS (flushing the whole table first under `lvs_flush`) and
    /// reads the kernel's version of our services, so that a leftover
    /// table from an earlier run is edited into place.
    fn open(plan: &Plan) -> Result<Self, DaemonError> {
        let mut ipvs = Ipvs::connect()?;
        if plan.flush {
            if let Err(e) = ipvs.flush() {
                error!("IPVS: cannot flush the table (lvs_flush): {e}");
            }
        }
        let mut k = Self {
            ipvs,
            current: Vec::new(),
            keys: HashSet::new(),
            period: DEFAULT_DELAY_LOOP,
            read_cost: Duration::ZERO,
            layout: None,
            skipped: 0,
            saved_timeouts: None,
            syncd: SyncControl::default(),
        };
        k.own_only(plan);
        k.refresh();
        Ok(k)
    }

    /// Sets `lvs_timeouts` as keepalived does: a timeout not given is the
    /// kernel's value from before the first change; None restores those.
    fn set_timeouts(&mut self, wanted: Option<Timeouts>) {
        let Some(t) = wanted else {
            self.restore_timeouts();
            return;
        };
        if self.saved_timeouts.is_none() {
            match self.ipvs.timeouts() {
                Ok(now) => self.saved_timeouts = Some(now),
                Err(e) => warn!("cannot read the IPVS timeouts: {e}"),
            }
        }
        let saved = self.saved_timeouts.unwrap_or_default();
        let or = |v: u32, old: u32| if v == 0 { old } else { v };
        let t = Timeouts {
            tcp: or(t.tcp, saved.tcp),
            tcp_fin: or(t.tcp_fin, saved.tcp_fin),
            udp: or(t.udp, saved.udp),
        };
        if let Err(e) = self.ipvs.set_timeouts(&t) {
            info!("Failed to set ipvs timeouts: {e}");
        }
    }

    /// Puts back the timeouts `lvs_timeouts` changed.
    fn restore_timeouts(&mut self) {
        if let Some(t) = self.saved_timeouts.take() {
            if let Err(e) = self.ipvs.set_timeouts(&t) {
                info!("Failed to restore ipvs timeouts: {e}");
            }
        }
    }

    /// At exit: removes our services (the whole table under
    /// `lvs_flush_onstop`), unless `-I` keeps them; restores the timeouts.
    fn release(&mut self, plan: &Plan, opts: RunOptions) {
        if !opts.dont_release_ipvs {
            if plan.flush_on_stop {
                if let Err(e) = self.ipvs.flush() {
                    error!("IPVS: cannot flush the table (lvs_flush_onstop): {e}");
                }
            } else {
                self.sync(Vec::new());
            }
        }
        self.syncd.stop(&mut self.ipvs);
        self.restore_timeouts();
    }

    /// Owns the services of `plan` too (before a reload's diff, so that
    /// the services it drops are removed).
    fn also_own(&mut self, plan: &Plan) {
        self.keys.extend(
            plan.services
                .iter()
                .flat_map(|s| s.services().map(|v| v.key)),
        );
    }

    /// Owns only the services of `plan` from now on, with its
    /// `lvs_timeouts`.
    fn own_only(&mut self, plan: &Plan) {
        self.set_timeouts(plan.timeouts);
        self.keys = plan
            .services
            .iter()
            .flat_map(|s| s.services().map(|v| v.key))
            .collect();
        self.current.retain(|v| self.keys.contains(&v.service.key));
        self.period = reconcile_period(plan);
    }

    /// Re-reads our services from the kernel; false if it cannot.
    fn refresh(&mut self) -> bool {
        // Before the reading: a change in between shows next time.
        self.layout = ipvs::procfs::layout().ok();
        self.skipped = 0;
        let began = Instant::now();
        let read = self.ipvs.virtual_servers();
        self.read_cost = began.elapsed();
        match read {
            Ok(all) => {
                self.current = all
                    .into_iter()
                    .filter(|v| self.keys.contains(&v.service.key))
                    .collect();
                true
            }
            Err(e) => {
                warn!("cannot read the IPVS table: {e}");
                false
            }
        }
    }

    /// Sends only what differs between `desired` and the current table.
    /// Returns when to re-read the kernel's table: soon after a failure,
    /// else after a period.
    fn sync(&mut self, desired: Vec<ipvs::VirtualServer>) -> Duration {
        let ops = ipvs::diff(&desired, &self.current);
        if ops.is_empty() {
            return self.next_read(self.period);
        }
        debug!("applying {} IPVS operation(s)", ops.len());
        let applied = self.ipvs.apply(&ops);
        count_operations(&ops, &applied);
        match applied {
            Ok(results) => {
                let failed: Vec<_> = ops
                    .iter()
                    .zip(&results)
                    .filter_map(|(op, r)| r.as_ref().err().map(|e| (op, e)))
                    .collect();
                if failed.is_empty() {
                    self.current = desired;
                    return self.next_read(self.period);
                }
                for (op, e) in failed {
                    error!("IPVS: {op} failed: {e}");
                }
            }
            Err(e) => error!("IPVS: cannot apply {} operation(s): {e}", ops.len()),
        }
        self.refresh();
        self.next_read(RETRY_AFTER)
    }

    /// When to re-read the table, `wanted` from now at the earliest:
    /// never so often that reading it costs more than one
    /// [`READ_SHARE`]th of the time (a table of 10,000 services takes
    /// 10,001 netlink dumps to read; every second, that alone would keep
    /// a small machine busy).
    fn next_read(&self, wanted: Duration) -> Duration {
        wanted.max(self.read_cost.saturating_mul(READ_SHARE))
    }

    /// Re-reads the kernel's table and repairs what drifted from
    /// `desired` (an `ipvsadm -d`, an operation that failed), logging
    /// each repair.
    fn reconcile(&mut self, desired: Vec<ipvs::VirtualServer>) -> Duration {
        if self.unchanged() {
            return self.next_read(self.period);
        }
        if !self.refresh() {
            return RETRY_AFTER;
        }
        for op in ipvs::diff(&desired, &self.current) {
            warn!("IPVS table drifted from the configuration; repairing: {op}");
        }
        self.sync(desired)
    }
}

impl Kernel {
    /// True if `/proc/net/ip_vs` shows the table as it was at the last
    /// reading, which then is not needed (one file read against a
    /// netlink dump per service: about a sixth of the checker's CPU at
    /// `delay_loop 1`, BENCHMARKS.md "The connect engine"), unless
    /// [`FULL_READ_EVERY`] periods went by: the file does not show
    /// thresholds, netmasks or persistence engines.
    fn unchanged(&mut self) -> bool {
        if self.skipped + 1 >= FULL_READ_EVERY || self.layout.is_none() {
            return false;
        }
        let same = ipvs::procfs::layout().ok() == self.layout;
        if same {
            self.skipped += 1;
        }
        same
    }
}

/// The table is read in full at least once in this many periods.
const FULL_READ_EVERY: u32 = 10;

/// Counts each request of `ops` for the metrics: failed if its result
/// is an error, or if none could be sent.
fn count_operations<E, F>(ops: &[ipvs::Op], applied: &Result<Vec<Result<(), E>>, F>) {
    for (i, op) in ops.iter().enumerate() {
        let failed = match applied {
            Ok(results) => results.get(i).is_none_or(Result::is_err),
            Err(_) => true,
        };
        crate::observe::ipvs_operation(op, failed);
    }
}

/// keepalived's `delay_loop` rhythm for re-reading the table: the
/// shortest check interval, at least a second.
fn reconcile_period(plan: &Plan) -> Duration {
    plan.services
        .iter()
        .flat_map(|s| &s.real_servers)
        .flat_map(|r| r.checks.iter().map(|c| c.target.interval))
        .min()
        .unwrap_or(DEFAULT_DELAY_LOOP)
        .max(RETRY_AFTER)
}

/// The driver's timer slack: a tenth of the shortest check interval, at
/// most [`MAX_TIMER_SLACK`]. Checks due within it start in one wake-up,
/// each at most that late (never early), since a wake-up costs more than
/// a loopback TCP check: at `delay_loop 1` in the IPVS VM, 100 ms instead
/// of 50 ms took the checker's CPU from 0.84x keepalived's to 0.63x (10
/// services) and 0.67x to 0.53x (25), BENCHMARKS.md "The connect engine".
/// keepalived itself starts each check `delay_loop` after the previous
/// one ended, later than a fixed grid by every check's duration.
fn timer_slack(plan: &Plan) -> Duration {
    plan.services
        .iter()
        .flat_map(|s| &s.real_servers)
        .flat_map(|r| r.checks.iter().map(|c| c.target.interval / 10))
        .min()
        .unwrap_or(MAX_TIMER_SLACK)
        .min(MAX_TIMER_SLACK)
}

/// The largest timer slack, whatever the intervals (10% of a 1 s
/// `delay_loop`).
const MAX_TIMER_SLACK: Duration = Duration::from_millis(100);

/// Reads and converts the configuration again (SIGHUP): the new plan, or
/// why it cannot run (already logged in detail).
pub type Loader = Box<dyn FnMut() -> Result<Plan, ReloadError> + Send>;

/// Why a reload was refused; the running configuration stays.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReloadError {
    /// The configuration file was refused; the reasons were logged with
    /// file:line.
    #[error("{}: configuration refused", .0.display())]
    Refused(std::path::PathBuf),
    /// The file has no `virtual_server` for the checker to run.
    #[error("{}: no virtual_server to run", .0.display())]
    NoVirtualServer(std::path::PathBuf),
}

/// How long a notify or quorum script may run (keepalived does not bound
/// them; a hung one must not pile up).
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(60);

/// How long an `omega` script may run at shutdown (keepalived's
/// `TIMER_HZ` for `system_call_script` when stopping).
const STOP_SCRIPT_TIMEOUT: Duration = Duration::from_secs(1);

/// How soon the table is re-read after an operation failed.
const RETRY_AFTER: Duration = Duration::from_secs(1);

/// Reading the kernel's table takes at most one this-many-th of the time.
const READ_SHARE: u32 = 50;

/// When something is due.
struct Deadline(tokio::time::Instant);

impl Deadline {
    /// `wait` from now.
    fn after(wait: Duration) -> Self {
        Self(tokio::time::Instant::now() + wait)
    }

    /// Brings the deadline forward to `wait` from now, if that is sooner.
    fn at_most(&mut self, wait: Duration) {
        self.0 = self.0.min(tokio::time::Instant::now() + wait);
    }
}

/// The health-check driver running in its task, and how to stop it.
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<Monitor>,
}

impl Running {
    /// Runs `monitor` with the checkers of `bridge`'s plan; its events go
    /// to `events`.
    fn start(
        monitor: Monitor,
        bridge: &Bridge,
        tls: &TlsOptions,
        events: mpsc::UnboundedSender<Event>,
    ) -> Self {
        let driver = driver(monitor, bridge, tls);
        let (stop, stop_rx) = oneshot::channel::<()>();
        let task = tokio::spawn(driver.run(events, async {
            let _ = stop_rx.await;
        }));
        Self { stop, task }
    }

    /// Stops the driver and takes its monitor back (None if it panicked).
    async fn stop(self) -> Option<Monitor> {
        let _ = self.stop.send(());
        self.task.await.ok()
    }
}

/// How the checker ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunOptions {
    /// `-I` (`--dont-release-ipvs`): leave the IPVS table as it is at exit.
    pub dont_release_ipvs: bool,
}

/// Runs the checker on `plan` until SIGTERM/SIGINT, reloading through
/// `reload` on SIGHUP. Ok after a clean stop; the services are removed on
/// every way out.
pub async fn run(plan: Plan, reload: Loader) -> Result<(), DaemonError> {
    run_with(plan, reload, RunOptions::default()).await
}

/// [`run`] with `opts`: under `-I` the table stays at exit.
pub async fn run_with(plan: Plan, mut reload: Loader, opts: RunOptions) -> Result<(), DaemonError> {
    let mut term = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    let mut hup = signal(SignalKind::hangup()).map_err(DaemonError::Signals)?;
    crate::dump::install();
    crate::snmp::start_configured();
    let mut tls = keepalived_tls(plan.ssl.as_ref())?;
    let mut kernel = Kernel::open(&plan)?;
    let mut monitor = Monitor::new(MonitorConfig::default());
    let mut bridge = Bridge::place(&mut monitor, plan);
    // ha_suspend: keepalived starts each checker active or not, saying
    // which in activating_lines.
    let mut addresses = AddressPoll::default();
    addresses.poll(&mut bridge, &mut kernel);
    let lines = bridge.start(&mut monitor, Instant::now());
    crate::alert::started(&bridge, &lines);
    for line in lines {
        info!("{line}");
    }
    // keepalived's checker opens its notify FIFOs at start-up.
    crate::vrrp_mode::scripts::open_fifos();
    let mut scripts = JoinSet::new();
    run_scripts(&mut scripts, &mut bridge);
    // When the kernel's table is re-read next.
    let mut reread = Deadline::after(kernel.sync(bridge.desired()));
    // After the table, as keepalived (40,000 lines take a while).
    activating_lines(&bridge);

    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
    let mut drains = crate::control::register_checker();
    let mut running = Running::start(monitor, &bridge, &tls, ev_tx.clone());
    let mut outcome = Ok(());
    crate::observe::publish_checker(&bridge);
    crate::observe::publish_services(&bridge);
    crate::dump_check::publish(bridge.plan());
    crate::snmp::checker_published(&bridge);
    crate::control::publish_weights(&bridge);
    crate::systemd::started();
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => {
                info!("Reloading ...");
                crate::systemd::reloading();
                crate::config_save::save_check_data(false);
                let new = match reload() {
                    Ok(new) => new,
                    Err(why) => {
                        error!("Reload failed, keeping the running configuration: {why}");
                        crate::systemd::started();
                        continue;
                    }
                };
                // keepalived reads the SSL block's files again, and stops
                // if they no longer load.
                tls = match keepalived_tls(new.ssl.as_ref()) {
                    Ok(tls) => tls,
                    Err(e) => {
                        outcome = Err(e);
                        break;
                    }
                };
                let Some(mut monitor) = running.stop().await else {
                    info!("Stopping checker: removing the virtual servers");
                    kernel.sync(Vec::new());
                    return Err(DaemonError::DriverStopped);
                };
                // What the old driver reported belongs to the old plan.
                while let Ok(ev) = ev_rx.try_recv() {
                    apply_event(&mut bridge, &ev);
                }
                let now = Instant::now();
                monitor.requeue_in_flight(now);
                kernel.also_own(&new);
                for line in bridge.reload(&mut monitor, new, now) {
                    info!("{line}");
                }
                run_scripts(&mut scripts, &mut bridge);
                info!("Reload complete");
                reread.at_most(kernel.sync(bridge.desired()));
                activating_lines(&bridge);
                kernel.own_only(bridge.plan());
                running = Running::start(monitor, &bridge, &tls, ev_tx.clone());
                // The new plan may follow addresses or sync daemons.
                addresses.next = Deadline::after(ADDRESS_POLL);
                crate::observe::publish_checker(&bridge);
                crate::observe::publish_services(&bridge);
                crate::dump_check::publish(bridge.plan());
                crate::config_save::save_check_data(true);
                crate::snmp::checker_published(&bridge);
                crate::control::publish_weights(&bridge);
                crate::systemd::started();
            }
            ev = ev_rx.recv() => {
                let Some(ev) = ev else {
                    outcome = Err(DaemonError::DriverStopped);
                    break;
                };
                apply_event(&mut bridge, &ev);
                // Drain what arrived together: one diff for all of it.
                while let Ok(ev) = ev_rx.try_recv() {
                    apply_event(&mut bridge, &ev);
                }
                run_scripts(&mut scripts, &mut bridge);
                reread.at_most(kernel.sync(bridge.desired()));
                crate::control::publish_weights(&bridge);
                crate::observe::publish_services(&bridge);
            }
            Some(req) = drains.recv() => {
                let done = if req.drain {
                    bridge.drain(&req.virtual_server, &req.real_server)
                } else {
                    bridge.restore(&req.virtual_server, &req.real_server)
                };
                match &done {
                    Ok(d) if d.changed => info!("{}", d.line()),
                    Ok(_) => {}
                    Err(e) => warn!("control socket: {e}"),
                }
                reread.at_most(kernel.sync(bridge.desired()));
                crate::control::publish_weights(&bridge);
                let _ = req.reply.send(done);
            }
            () = tokio::time::sleep_until(reread.0) => {
                reread = Deadline::after(kernel.reconcile(bridge.desired()));
            }
            () = tokio::time::sleep_until(addresses.next.0) => {
                for line in addresses.poll(&mut bridge, &mut kernel) {
                    info!("{line}");
                }
            }
        }
    }
    crate::systemd::stopping();
    info!("Stopping checker: removing the virtual servers");
    crate::snmp::checker_stopping();
    crate::snmp::flush().await;
    if let Some(monitor) = running.stop().await {
        for line in bridge.shutdown_lines(&monitor) {
            info!("{line}");
        }
        run_omega_scripts(bridge.omega_scripts(&monitor)).await;
    }
    crate::vrrp_mode::scripts::checker_stopped();
    kernel.release(bridge.plan(), opts);
    outcome
}

/// How often the host's addresses are read under `ha_suspend`.
const ADDRESS_POLL: Duration = Duration::from_secs(1);

/// When the next poll is without `ha_suspend` or `lvs_sync_daemon`: an
/// hour, as a backstop (every wake-up costs CPU; a reload polls again).
const IDLE_POLL: Duration = Duration::from_secs(3600);

/// Every second: reads the host's addresses for `ha_suspend` and for the
/// instance `lvs_sync_daemon` follows (keepalived follows netlink address
/// events and VRRP states; reading them every second decides the same),
/// and brings the sync daemons to what the plan wants.
struct AddressPoll {
    nl: Option<vrrp::linux::Netlink>,
    /// When they are read next.
    next: Deadline,
}

impl Default for AddressPoll {
    fn default() -> Self {
        Self {
            nl: None,
            next: Deadline::after(ADDRESS_POLL),
        }
    }
}

impl AddressPoll {
    /// Returns the lines for the checks `ha_suspend` changed.
    fn poll(&mut self, bridge: &mut Bridge, kernel: &mut Kernel) -> Vec<String> {
        let sync = bridge.plan().sync_daemon.clone();
        let wanted = bridge.uses_ha_suspend() || SyncControl::follows_addresses(sync.as_ref());
        // Nothing to follow: no wake-ups (a reload polls again).
        let idle = !wanted && sync.is_none();
        self.next = Deadline::after(if idle { IDLE_POLL } else { ADDRESS_POLL });
        let local = if wanted { self.read() } else { None };
        kernel
            .syncd
            .update(&mut kernel.ipvs, sync.as_ref(), local.as_ref());
        local.map_or_else(Vec::new, |l| bridge.set_local_addresses(l))
    }

    /// The host's addresses, None if they cannot be read (logged).
    fn read(&mut self) -> Option<HashSet<IpAddr>> {
        if self.nl.is_none() {
            match vrrp::linux::Netlink::open() {
                Ok(nl) => self.nl = Some(nl),
                Err(e) => warn!("cannot open rtnetlink to read the host's addresses: {e}"),
            }
        }
        let local = self.nl.as_mut().and_then(local_addresses);
        if local.is_none() {
            warn!("cannot read the host's addresses");
            // A broken socket is opened again next time.
            self.nl = None;
        }
        local
    }
}

/// keepalived's line per checker, once the services are in (check_api.c
/// `register_checkers_thread`; "Deactivating" while `ha_suspend` holds
/// it), at start and after each reload.
fn activating_lines(bridge: &Bridge) {
    for (s, svc) in bridge.plan().services.iter().enumerate() {
        let how = if bridge.checks_active(s) { "A" } else { "Dea" };
        for rs in &svc.real_servers {
            for _ in &rs.checks {
                info!(
                    "{how}ctivating healthchecker for service {} for VS {}",
                    rs.name, svc.name
                );
            }
        }
    }
}

/// Starts the scripts the bridge has due, without waiting for them.
fn run_scripts(set: &mut JoinSet<()>, bridge: &mut Bridge) {
    for line in bridge.take_fifo_lines() {
        crate::vrrp_mode::scripts::checker_fifo_line(&line);
    }
    for words in bridge.take_scripts() {
        // The script, then `USER [GROUP]`; bounded and ordered per line.
        let key = words.first().cloned().unwrap_or_default();
        let timeout = NOTIFY_TIMEOUT;
        crate::vrrp_mode::scripts::spawn_notify(set, &key, &words, Vec::new(), timeout);
    }
    // Reap finished scripts so the set stays small.
    while set.try_join_next().is_some() {}
}

/// Runs the shutdown scripts of `omega` services together and waits for
/// them, each bounded as keepalived bounds them (one second).
async fn run_omega_scripts(all: Vec<Vec<String>>) {
    let mut set = JoinSet::new();
    for words in all {
        // The script, then `USER [GROUP]`.
        if let Some(script) = crate::vrrp_mode::scripts::notify_script(&words) {
            set.spawn(async move { script.run(&[], STOP_SCRIPT_TIMEOUT).await });
        }
    }
    while set.join_next().await.is_some() {}
}

fn apply_event(bridge: &mut Bridge, ev: &healthcheck::Event) {
    debug!("{ev:?}");
    crate::observe::checker_event(bridge, ev);
    let lines = bridge.handle(ev);
    crate::snmp::checker_event(bridge, ev);
    crate::alert::checker(bridge, ev, &lines);
    for line in lines {
        info!("{line}");
    }
}

/// The monitor laid out for `plan` (one pool per service, one target per
/// real server) in a driver with its checkers, and the bridge that maps
/// its ids back. Not committed yet: [`Bridge::start`] does it.
pub fn build(plan: Plan) -> Result<(Driver, Bridge), DaemonError> {
    let mut monitor = Monitor::new(MonitorConfig::default());
    let tls = keepalived_tls(plan.ssl.as_ref())?;
    let bridge = Bridge::place(&mut monitor, plan);
    Ok((driver(monitor, &bridge, &tls), bridge))
}

/// A driver over `monitor` with the checker of every checked target,
/// behind its service's `ha_suspend` switch if it has one.
fn driver(monitor: Monitor, bridge: &Bridge, tls: &TlsOptions) -> Driver {
    let mut driver = Driver::new(monitor);
    driver.set_timer_slack(timer_slack(bridge.plan()));
    for (target, check) in bridge.checks() {
        let mut c = checker(&check.probe, tls);
        let gate = bridge.slot_of(target).and_then(|(s, _)| bridge.gate(s));
        if let Some(gate) = gate {
            c = Arc::new(Suspendable::new(c, gate));
        }
        driver.set_checker(target, c, check.context.clone());
    }
    driver.set_observer(crate::observe::observer(bridge));
    driver
}

/// The built-in checker that runs a probe; SSL_GET with `tls`.
fn checker(probe: &Probe, tls: &TlsOptions) -> Arc<dyn Checker> {
    match probe {
        Probe::Tcp => Arc::new(TcpChecker),
        Probe::Http {
            urls,
            virtualhost,
            version,
            ssl,
            sni,
        } => {
            let mut h = if *ssl {
                // keepalived sends SNI only with enable_sni.
                let tls = if *sni {
                    tls.clone()
                } else {
                    tls.clone().without_sni()
                };
                HttpChecker::ssl(urls.clone(), tls)
            } else {
                HttpChecker::http(urls.clone())
            };
            h.virtualhost.clone_from(virtualhost);
            h.version = *version;
            Arc::new(h)
        }
        Probe::Misc {
            path,
            dynamic,
            user,
        } => {
            let mut m = MiscChecker::new(path.clone());
            // Looked up again now: the conversion checked it exists.
            let who = user.as_deref().and_then(|w| {
                let (name, group) = (w.first()?, w.get(1).map(String::as_str));
                healthcheck::script::RunAs::lookup(name, group).ok()
            });
            if let Some(who) = who {
                m = m.as_ids(who);
            }
            Arc::new(if *dynamic { m.dynamic() } else { m })
        }
        Probe::Smtp { helo_name } => Arc::new(SmtpChecker::new(helo_name.clone())),
        Probe::Dns { name, qtype } => Arc::new(DnsChecker::new(name.clone(), *qtype)),
        Probe::Udp {
            payload,
            require_reply,
            reply_length,
        } => {
            let mut u = UdpChecker::new(payload.clone());
            (u.min_reply_len, u.max_reply_len) = *reply_length;
            Arc::new(match require_reply {
                Some(prefix) => u.require_reply(prefix.clone()),
                None => u,
            })
        }
        Probe::Ping => Arc::new(PingChecker),
        Probe::File {
            path,
            weight,
            reverse,
            base_weight,
            ..
        } => Arc::new(FileChecker {
            path: path.into(),
            weight: *weight,
            reverse: *reverse,
            base_weight: *base_weight,
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::*;

    fn plan_of(conf: &str) -> Plan {
        let parsed = vrrp_conf::parse_str("t.conf", conf, &vrrp_conf::Options::default());
        crate::lvs_mode::plan::build(&parsed.config).unwrap()
    }

    /// A service with one TCP_CHECKed real server per `delay_loop`.
    fn conf(delays: &[&str]) -> String {
        delays
            .iter()
            .enumerate()
            .map(|(i, d)| {
                format!(
                    "virtual_server 10.0.0.{} 80 {{\n protocol TCP\n delay_loop {d}\n \
                     real_server 10.1.0.1 80 {{\n  TCP_CHECK {{\n  }}\n }}\n}}\n",
                    i + 1
                )
            })
            .collect()
    }

    #[test]
    fn the_timer_slack_is_a_tenth_of_the_shortest_interval_at_most_100_ms() {
        assert_eq!(MAX_TIMER_SLACK, Duration::from_millis(100));
        assert_eq!(timer_slack(&plan_of(&conf(&["60"]))), MAX_TIMER_SLACK);
        assert_eq!(timer_slack(&plan_of(&conf(&["60", "1"]))), MAX_TIMER_SLACK);
        assert_eq!(
            timer_slack(&plan_of(&conf(&["60", "0.5"]))),
            Duration::from_millis(50)
        );
    }
}
