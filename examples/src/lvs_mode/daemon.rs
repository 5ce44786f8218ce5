//! The checker's loop: the healthcheck driver runs the checks, its events
//! go through the [`Bridge`], and every change is applied to the kernel as
//! the diff from what was applied last. SIGTERM/SIGINT remove the services
//! and stop; SIGHUP is logged and ignored (no reload yet).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use healthcheck::checkers::{HttpChecker, MiscChecker, TcpChecker};
use healthcheck::runtime::Driver;
use healthcheck::{Checker, Monitor, MonitorConfig};
use ipvs::{Ipvs, ServiceKey};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::{mpsc, oneshot};
use tracing::{debug, error, info, warn};

use crate::lvs_mode::plan::{Plan, Probe};
use crate::lvs_mode::table::Bridge;

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
    /// Signal handlers could not be installed.
    #[error("cannot install signal handlers: {0}")]
    Signals(std::io::Error),
}

/// The table as applied, and the handle it is applied through.
struct Kernel {
    ipvs: Ipvs,
    /// What this daemon last put into the kernel (its own services only).
    current: Vec<ipvs::VirtualServer>,
    keys: Vec<ServiceKey>,
}

impl Kernel {
    /// Opens IPVS and reads the kernel's version of our services, so that
    /// a leftover table from an earlier run is edited into place.
    fn open(plan: &Plan) -> Result<Self, DaemonError> {
        let ipvs = Ipvs::connect()?;
        let keys = plan.services.iter().map(|s| s.service.key).collect();
        let mut k = Self {
            ipvs,
            current: Vec::new(),
            keys,
        };
        k.refresh();
        Ok(k)
    }

    /// Re-reads our services from the kernel (after a failed operation).
    fn refresh(&mut self) {
        match self.ipvs.virtual_servers() {
            Ok(all) => {
                self.current = all
                    .into_iter()
                    .filter(|v| self.keys.contains(&v.service.key))
                    .collect();
            }
            Err(e) => warn!("cannot read the IPVS table: {e}"),
        }
    }

    /// Sends only what differs between `desired` and the current table.
    fn sync(&mut self, desired: Vec<ipvs::VirtualServer>) {
        let ops = ipvs::diff(&desired, &self.current);
        if ops.is_empty() {
            return;
        }
        debug!("applying {} IPVS operation(s)", ops.len());
        match self.ipvs.apply(&ops) {
            Ok(results) => {
                let failed: Vec<_> = ops
                    .iter()
                    .zip(&results)
                    .filter_map(|(op, r)| r.as_ref().err().map(|e| (op, e)))
                    .collect();
                if failed.is_empty() {
                    self.current = desired;
                    return;
                }
                for (op, e) in failed {
                    error!("IPVS: {op} failed: {e}");
                }
            }
            Err(e) => error!("IPVS: cannot apply {} operation(s): {e}", ops.len()),
        }
        self.refresh();
    }
}

/// Runs the checker on `plan` until SIGTERM/SIGINT. Ok after a clean stop;
/// the services are removed on every way out.
pub async fn run(plan: Plan) -> Result<(), DaemonError> {
    let mut term = signal(SignalKind::terminate()).map_err(DaemonError::Signals)?;
    let mut int = signal(SignalKind::interrupt()).map_err(DaemonError::Signals)?;
    let mut hup = signal(SignalKind::hangup()).map_err(DaemonError::Signals)?;
    let mut kernel = Kernel::open(&plan)?;
    let (mut driver, mut bridge) = build(plan);
    for s in &bridge.plan().services {
        info!("Activating healthchecker for service {}", s.name);
    }
    for line in bridge.start(driver.monitor_mut(), Instant::now()) {
        info!("{line}");
    }
    kernel.sync(bridge.desired());

    let (ev_tx, mut ev_rx) = mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let task = tokio::spawn(driver.run(ev_tx, async {
        let _ = stop_rx.await;
    }));
    let mut outcome = Ok(());
    loop {
        tokio::select! {
            _ = term.recv() => break,
            _ = int.recv() => break,
            _ = hup.recv() => warn!("SIGHUP: reload is not supported in checker mode; ignored"),
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
                kernel.sync(bridge.desired());
            }
        }
    }
    info!("Stopping checker: removing the virtual servers");
    let _ = stop_tx.send(());
    let _ = task.await;
    kernel.sync(Vec::new());
    outcome
}

fn apply_event(bridge: &mut Bridge, ev: &healthcheck::Event) {
    debug!("{ev:?}");
    for line in bridge.handle(ev) {
        info!("{line}");
    }
}

/// The monitor (one pool per service, with its quorum, hysteresis and
/// sorry server; one target per real server: checked, or static when it
/// has no checker) in a driver, and the bridge that maps its ids back.
/// Not committed yet: [`Bridge::start`] does it.
pub fn build(plan: Plan) -> (Driver, Bridge) {
    let mut monitor = Monitor::new(MonitorConfig::default());
    let mut checks = Vec::new();
    let mut slots = HashMap::new();
    let mut pools = Vec::with_capacity(plan.services.len());
    for (s, svc) in plan.services.iter().enumerate() {
        let pool = monitor.add_pool(svc.pool_config());
        pools.push(pool);
        for (r, rs) in svc.real_servers.iter().enumerate() {
            // One target per real server, as keepalived: the key is unique.
            let target = match &rs.check {
                Some(check) => {
                    let key = format!("{} {} {s}/{r}", check.probe.keyword(), rs.name);
                    let target = monitor.add_target(key, check.target.clone());
                    checks.push((target, checker(&check.probe), check.context.clone()));
                    target
                }
                None => monitor.add_static_target(format!("{} {s}/{r}", rs.name)),
            };
            // Fresh target, fresh pool: nothing to refuse.
            let _ = monitor.add_member(pool, target, rs.member_config());
            slots.insert(target, (s, r));
        }
    }
    let mut driver = Driver::new(monitor);
    for (t, c, ctx) in checks {
        driver.set_checker(t, c, ctx);
    }
    (driver, Bridge::new(plan, pools, slots))
}

/// The built-in checker that runs a probe.
fn checker(probe: &Probe) -> Arc<dyn Checker> {
    match probe {
        Probe::Tcp => Arc::new(TcpChecker),
        Probe::Http {
            urls,
            virtualhost,
            version,
        } => {
            let mut h = HttpChecker::http(urls.clone());
            h.virtualhost.clone_from(virtualhost);
            h.version = *version;
            Arc::new(h)
        }
        Probe::Misc { path, dynamic } => {
            let m = MiscChecker::new(path.clone());
            Arc::new(if *dynamic { m.dynamic() } else { m })
        }
    }
}
