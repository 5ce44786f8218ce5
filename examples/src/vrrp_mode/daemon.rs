//! The VRRP daemon: one [`Driver`] per unit (sync group or lone instance),
//! `vrrp_script` runners, tracking, notify scripts, signals and reload.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, error, info, warn};
use vrrp::event::{Event, Notify, Reason, State};
use vrrp::linux::driver::{Driver, DriverCounters, DriverEvent, DriverHandle};
use vrrp::linux::{AddressSpec, Netlink, RouteSpec};
use vrrp::mux::RouterId;
use vrrp::router::Tracking;
use vrrp_conf::model::VrrpScript;

use super::plan::{Plan, Unit};
use super::script::{self, CommandLine, Outcome};
use super::track::Health;

/// How long a stopping driver may take before it is abandoned.
const STOP_GRACE: Duration = Duration::from_secs(5);
/// How long notify scripts may run.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(30);
/// At most one logged drop per router per this period.
const DROP_LOG_PERIOD: Duration = Duration::from_secs(1);

/// Where the configuration comes from on (re)load.
pub type Loader = Box<dyn Fn() -> Result<Plan, String> + Send>;

#[derive(Debug)]
enum Input {
    Driver {
        unit: String,
        generation: u64,
        event: DriverEvent,
    },
    Script {
        name: String,
        ok: bool,
        outcome: Outcome,
    },
}

/// A unit being run.
struct Running {
    unit: Unit,
    generation: u64,
    handle: DriverHandle,
    task: JoinHandle<DriverCounters>,
    forward: JoinHandle<()>,
    tracking: Vec<Option<Tracking>>,
    drops: Vec<DropLog>,
}

#[derive(Default, Clone, Copy)]
struct DropLog {
    last: Option<Instant>,
    suppressed: u64,
}

/// The daemon's state.
pub struct Daemon {
    load: Loader,
    units: Vec<Running>,
    scripts: HashMap<String, (VrrpScript, JoinHandle<()>)>,
    health: Health,
    tx: mpsc::Sender<Input>,
    rx: mpsc::Receiver<Input>,
    generation: u64,
    notifies: JoinSet<()>,
    netlink: Netlink,
    statics: (Vec<AddressSpec>, Vec<RouteSpec>),
}

impl Daemon {
    /// Runs until SIGTERM or SIGINT; SIGHUP reloads. Returns false if the
    /// first configuration could not be started.
    pub async fn run(load: Loader) -> bool {
        let mut d = match Daemon::new(load) {
            Ok(d) => d,
            Err(e) => {
                error!("{e}");
                return false;
            }
        };
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            error!("cannot install signal handlers");
            return false;
        };
        let started = match (d.load)() {
            Ok(plan) => d.apply(plan).await,
            Err(e) => {
                error!("{e}");
                false
            }
        };
        if !started {
            d.stop().await;
            return false;
        }
        loop {
            tokio::select! {
                _ = term.recv() => { info!("Stopping"); break; }
                _ = int.recv() => { info!("Stopping (interrupt)"); break; }
                _ = hup.recv() => d.reload().await,
                Some(input) = d.rx.recv() => d.handle(input).await,
            }
        }
        d.stop().await;
        info!("Stopped");
        true
    }

    fn new(load: Loader) -> Result<Daemon, String> {
        let (tx, rx) = mpsc::channel(1024);
        let netlink = Netlink::open().map_err(|e| format!("cannot open rtnetlink: {e}"))?;
        Ok(Daemon {
            load,
            units: Vec::new(),
            scripts: HashMap::new(),
            health: Health::default(),
            tx,
            rx,
            generation: 0,
            notifies: JoinSet::new(),
            netlink,
            statics: (Vec::new(), Vec::new()),
        })
    }

    /// Makes the running set match `plan`: units and scripts whose
    /// configuration did not change are left alone. False if some unit
    /// failed to start.
    async fn apply(&mut self, plan: Plan) -> bool {
        self.apply_statics(&plan);
        self.apply_scripts(&plan.scripts);
        let stale: Vec<usize> = (0..self.units.len())
            .filter(|&i| {
                let r = &self.units[i].unit;
                !plan
                    .units
                    .iter()
                    .any(|u| u.key == r.key && u.same_source(r))
            })
            .collect();
        let (unchanged, stopped) = (self.units.len() - stale.len(), stale.len());
        for &i in &stale {
            stop_unit(&mut self.units[i]).await;
        }
        // Their last events (STOP, notify_stop) are handled while they are
        // still known.
        while let Ok(input) = self.rx.try_recv() {
            self.handle(input).await;
        }
        let mut i = 0;
        self.units.retain(|_| {
            i += 1;
            !stale.contains(&(i - 1))
        });
        let mut ok = true;
        let mut started = 0;
        for u in plan.units {
            if self.units.iter().any(|r| r.unit.key == u.key) {
                continue;
            }
            match self.start_unit(u) {
                Ok(()) => started += 1,
                Err(e) => {
                    error!("{e}");
                    ok = false;
                }
            }
        }
        info!("VRRP configuration applied: {unchanged} unchanged, {stopped} stopped, {started} started");
        self.push_tracking().await;
        ok
    }

    fn start_unit(&mut self, unit: Unit) -> Result<(), String> {
        self.generation += 1;
        let generation = self.generation;
        let mut setup = unit.setup.clone();
        for i in &unit.instances {
            for t in &i.interfaces {
                if !setup.watch_interfaces.contains(&t.name) {
                    setup.watch_interfaces.push(t.name.clone());
                }
            }
        }
        let (driver, handle, mut events) =
            Driver::new(setup).map_err(|e| format!("({}) cannot start: {e}", unit.key))?;
        let task = tokio::spawn(driver.run());
        let tx = self.tx.clone();
        let key = unit.key.clone();
        let forward = tokio::spawn(async move {
            while let Some(event) = events.recv().await {
                let input = Input::Driver {
                    unit: key.clone(),
                    generation,
                    event,
                };
                if tx.send(input).await.is_err() {
                    break;
                }
            }
        });
        let n = unit.instances.len();
        self.units.push(Running {
            unit,
            generation,
            handle,
            task,
            forward,
            tracking: vec![None; n],
            drops: vec![DropLog::default(); n],
        });
        Ok(())
    }

    fn apply_scripts(&mut self, wanted: &[VrrpScript]) {
        let old = std::mem::take(&mut self.scripts);
        for (name, (spec, task)) in old {
            if wanted.contains(&spec) {
                self.scripts.insert(name, (spec, task));
            } else {
                task.abort();
                self.health.scripts.remove(&name);
            }
        }
        for s in wanted {
            if self.scripts.contains_key(&s.name) {
                continue;
            }
            let Some(cmd) = s.script.as_deref().and_then(CommandLine::new) else {
                warn!("VRRP_Script({}) has no script, ignoring", s.name);
                continue;
            };
            let task = tokio::spawn(script_loop(s.clone(), cmd, self.tx.clone()));
            self.scripts.insert(s.name.clone(), (s.clone(), task));
        }
    }

    fn apply_statics(&mut self, plan: &Plan) {
        let wanted = match plan.resolve_static(&mut self.netlink) {
            Ok(w) => w,
            Err(e) => {
                error!("static addresses/routes: {e}");
                return;
            }
        };
        if wanted == self.statics {
            return;
        }
        self.remove_statics();
        for a in &wanted.0 {
            if let Err(e) = self.netlink.add_address(a) {
                if e.errno() != Some(libc_eexist()) {
                    error!("static_ipaddress {}: {e}", a.addr);
                }
            }
        }
        for r in &wanted.1 {
            if let Err(e) = self.netlink.add_route(r) {
                if e.errno() != Some(libc_eexist()) {
                    error!("static_routes {}/{}: {e}", r.dst, r.prefix_len);
                }
            }
        }
        self.statics = wanted;
    }

    fn remove_statics(&mut self) {
        let (addrs, routes) = std::mem::take(&mut self.statics);
        for r in &routes {
            let _ = self.netlink.del_route(r);
        }
        for a in &addrs {
            let _ = self.netlink.del_address(a);
        }
    }

    async fn reload(&mut self) {
        info!("Reloading");
        match (self.load)() {
            Ok(plan) => {
                self.apply(plan).await;
            }
            Err(e) => error!("Reload failed, keeping the running configuration: {e}"),
        }
    }

    async fn stop(&mut self) {
        for (_, (_, task)) in self.scripts.drain() {
            task.abort();
        }
        for r in &mut self.units {
            stop_unit(r).await;
        }
        // The units stay known until the events of the stop (notify_stop)
        // have run their scripts.
        while let Ok(input) = self.rx.try_recv() {
            self.handle(input).await;
        }
        self.units.clear();
        self.remove_statics();
        let _ = tokio::time::timeout(NOTIFY_TIMEOUT, async {
            while self.notifies.join_next().await.is_some() {}
        })
        .await;
    }

    async fn handle(&mut self, input: Input) {
        match input {
            Input::Script { name, ok, outcome } => {
                match (&outcome, ok) {
                    (_, true) => info!("VRRP_Script({name}) succeeded"),
                    (Outcome::TimedOut, false) => info!("VRRP_Script({name}) timed out"),
                    (Outcome::Failed(Some(c)), false) => {
                        info!("VRRP_Script({name}) failed (exited with status {c})")
                    }
                    (other, false) => info!("VRRP_Script({name}) failed ({other:?})"),
                }
                self.health.scripts.insert(name, ok);
                self.push_tracking().await;
            }
            Input::Driver {
                unit,
                generation,
                event,
            } => {
                let Some(i) = self
                    .units
                    .iter()
                    .position(|r| r.unit.key == unit && r.generation == generation)
                else {
                    // From a unit stopped by a reload; only its stop matters.
                    if let DriverEvent::Router {
                        event: Event::Notify(n),
                        ..
                    } = &event
                    {
                        debug!("({}) {} after reload", n.name, n.state);
                    }
                    return;
                };
                self.driver_event(i, event).await;
            }
        }
    }

    async fn driver_event(&mut self, u: usize, event: DriverEvent) {
        match event {
            DriverEvent::Router { id, name, event } => self.router_event(u, id, &name, event),
            DriverEvent::Group(_, n) => {
                info!(
                    "VRRP_Group({}) Syncing instances to {} state",
                    n.name, n.state
                );
                if let Some(notify) = self.units[u].unit.group_notify.clone() {
                    self.run_notify(&notify, &n);
                }
            }
            DriverEvent::Interface { link } => {
                let word = if link.is_operational() { "up" } else { "down" };
                info!("Netlink reports {} {word}", link.name);
                let up = link.is_operational();
                self.health.interfaces.insert(link.name, up);
                self.push_tracking().await;
            }
            DriverEvent::AddressRestored { id, addr } => {
                let name = self.instance_name(u, id);
                warn!("({name}) virtual address {addr} was removed by someone else, restored");
            }
            DriverEvent::Failed { op, error } => {
                error!("({}) {op}: {error}", self.units[u].unit.key)
            }
            _ => {}
        }
    }

    fn router_event(&mut self, u: usize, id: RouterId, name: &str, event: Event) {
        match event {
            Event::StateChanged { from, to, reason } => log_transition(name, from, to, reason),
            Event::AddAddresses => info!("({name}) Setting VIPs."),
            Event::RemoveAddresses => info!("({name}) Removing VIPs."),
            Event::GratuitousArp { repeat } => {
                let vips = self.vips(u, id);
                info!("({name}) Sending/queueing gratuitous ARPs ({repeat} each) for {vips:?}");
            }
            Event::MasterRxLowerPriority { from, priority } => {
                info!("({name}) Received advert from {from} with lower priority {priority}, ours higher, forcing new election");
            }
            Event::Dropped(reason) => {
                let Some(log) = self.units[u].drops.get_mut(id.0 as usize) else {
                    return;
                };
                let now = Instant::now();
                if log
                    .last
                    .is_some_and(|t| now.duration_since(t) < DROP_LOG_PERIOD)
                {
                    log.suppressed += 1;
                    return;
                }
                let suppressed = std::mem::take(&mut log.suppressed);
                log.last = Some(now);
                warn!("({name}) dropped advert: {reason} (reported at most once a second; {suppressed} reports skipped, every drop is counted)");
            }
            Event::Notify(n) => {
                let Some(plan) = self.units[u].unit.instances.get(id.0 as usize) else {
                    return;
                };
                let notify = plan.notify.clone();
                self.run_notify(&notify, &n);
            }
            _ => {}
        }
    }

    fn vips(&self, u: usize, id: RouterId) -> Vec<Ipv4Addr> {
        self.units[u]
            .unit
            .setup
            .routers
            .get(id.0 as usize)
            .map(|r| r.addresses.iter().map(|a| a.addr).collect())
            .unwrap_or_default()
    }

    fn instance_name(&self, u: usize, id: RouterId) -> String {
        self.units[u]
            .unit
            .instances
            .get(id.0 as usize)
            .map_or_else(String::new, |i| i.name.clone())
    }

    /// keepalived: the state's own script with no arguments, then `notify`
    /// with TYPE NAME STATE PRIORITY.
    fn run_notify(&mut self, notify: &vrrp_conf::model::Notify, n: &Notify) {
        let own = match n.state {
            State::Master => &notify.master,
            State::Backup => &notify.backup,
            State::Fault => &notify.fault,
            State::Initialize => &notify.stop,
        };
        let jobs = [
            (own.as_ref(), Vec::new()),
            (notify.any.as_ref(), n.args().to_vec()),
        ];
        for (words, args) in jobs {
            let Some(cmd) = words.and_then(|w| CommandLine::new(w)) else {
                continue;
            };
            debug!("Running notify script {} {args:?}", cmd.line);
            self.notifies.spawn(async move {
                let out = script::run(&cmd, &args, NOTIFY_TIMEOUT).await;
                if !out.ok() {
                    warn!("notify script {} {args:?}: {out:?}", cmd.line);
                }
            });
        }
        // Reap finished notify tasks so the set stays small.
        while self.notifies.try_join_next().is_some() {}
    }

    async fn push_tracking(&mut self) {
        for r in &mut self.units {
            for (i, plan) in r.unit.instances.iter().enumerate() {
                let t = self.health.tracking(plan);
                if r.tracking[i] != Some(t) {
                    r.tracking[i] = Some(t);
                    debug!(
                        "({}) tracking weight {} fault {}",
                        plan.name, t.weight, t.fault
                    );
                    r.handle.set_tracking(RouterId(i as u32), t).await;
                }
            }
        }
    }
}

/// Graceful stop of one unit: priority-0 adverts, addresses removed; returns
/// once its last events are queued.
async fn stop_unit(r: &mut Running) {
    r.handle.shutdown().await;
    match tokio::time::timeout(STOP_GRACE, &mut r.task).await {
        Ok(Ok(c)) => debug!(
            "({}) stopped: {} adverts sent, {} received, {} GARPs",
            r.unit.key, c.datagrams_sent, c.datagrams_received, c.garps_sent
        ),
        _ => {
            r.task.abort();
            warn!("({}) did not stop in time", r.unit.key);
        }
    }
    // The forwarder ends once the stopped driver's event channel is empty.
    if tokio::time::timeout(STOP_GRACE, &mut r.forward)
        .await
        .is_err()
    {
        r.forward.abort();
    }
}

/// keepalived's wording: "(VI_1) Entering MASTER STATE", with " (init)"
/// only for the state taken at startup (keepalived names no other reason in
/// that line; ours goes to the debug log).
fn log_transition(name: &str, from: State, to: State, reason: Reason) {
    let entering = match to {
        State::Master => "MASTER",
        State::Backup => "BACKUP",
        State::Fault => "FAULT",
        State::Initialize => {
            if from == State::Master {
                info!("({name}) sent 0 priority");
            }
            info!("({name}) Stopped");
            return;
        }
    };
    match reason {
        Reason::MasterDown => info!("({name}) Receive advertisement timeout"),
        Reason::HigherPriority => info!("({name}) Master received advert with higher priority"),
        _ => debug!("({name}) {from} -> {to}: {}", reason_text(reason)),
    }
    if matches!(reason, Reason::Startup) {
        info!("({name}) Entering {entering} STATE (init)");
    } else {
        info!("({name}) Entering {entering} STATE");
    }
}

fn reason_text(r: Reason) -> &'static str {
    match r {
        Reason::Startup => "init",
        Reason::AddressOwner => "address owner",
        Reason::MasterDown => "master down",
        Reason::HigherPriority => "higher priority advert",
        Reason::Shutdown => "shutdown",
        Reason::InterfaceDown => "interface down",
        Reason::TrackingFault => "tracked object failed",
        Reason::Recovered => "recovered",
        Reason::SyncGroup => "sync group",
        _ => "other",
    }
}

/// Runs one `vrrp_script` forever, reporting changes after `rise`
/// successes or `fall` failures in a row. Scripts start as succeeding.
async fn script_loop(s: VrrpScript, cmd: CommandLine, tx: mpsc::Sender<Input>) {
    let interval = s
        .interval
        .map_or(Duration::from_secs(1), |d| *d)
        .max(Duration::from_millis(10));
    let timeout = s.timeout.map_or(interval, |d| *d);
    let rise = s.rise.unwrap_or(1).max(1);
    let fall = s.fall.unwrap_or(1).max(1);
    let mut ok = true;
    let mut streak = 0;
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let outcome = script::run(&cmd, &[], timeout).await;
        if outcome.ok() == ok {
            streak = 0;
            continue;
        }
        streak += 1;
        if streak >= if ok { fall } else { rise } {
            ok = !ok;
            streak = 0;
            let input = Input::Script {
                name: s.name.clone(),
                ok,
                outcome,
            };
            if tx.send(input).await.is_err() {
                return;
            }
        }
    }
}

/// `EEXIST`: the address or route is already there.
fn libc_eexist() -> i32 {
    17
}

/// Builds a [`Loader`] that parses `path` with `opts` each time.
pub fn file_loader(path: std::path::PathBuf, opts: vrrp_conf::Options) -> Loader {
    Box::new(move || {
        let parsed = vrrp_conf::parse_file(&path, &opts);
        let halves = vrrp_conf::convert::Halves {
            vrrp: true,
            lvs: false,
        };
        let converted = vrrp_conf::convert::convert(&parsed, halves);
        let refused = crate::cli::refusals(&parsed, &converted);
        for d in &refused {
            warn!("{}", d.display(&parsed.sources));
        }
        match converted.vrrp {
            Some(plan) if refused.is_empty() => Ok(plan),
            _ => Err(format!("{}: configuration refused", path.display())),
        }
    })
}
