//! The VRRP daemon: ONE [`Driver`] runs every `vrrp_instance` of the
//! process; this wires it to the `vrrp_script` checks, tracking, notify
//! scripts, signals and reload (SIGHUP: [`DriverHandle::reconfigure`]).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use healthcheck::Health;
use nix::errno::Errno;
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, error, info, warn};
use vrrp::event::Event;
use vrrp::linux::driver::{
    Deleted, Driver, DriverCounters, DriverEvent, DriverHandle, ReconcileSummary, Setup,
};
use vrrp::linux::{AddressOptions, AddressSpec, Netlink, RouteSpec, RuleSpec};
use vrrp::mux::RouterId;
use vrrp::router::Change;
use vrrp::track::{Kind, Status};
use vrrp_conf::convert::vrrp::{InstancePlan, Plan, ProcessOptions};
use vrrp_conf::model as conf;

use super::process::LocalIgmp;
use super::reload_states;
use super::scripts::{self, Checks};
use super::tracking::Tracking;
use super::wording::{log_transition, log_yield, script_line};

/// How long the driver may take to stop before it is abandoned.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// Where the configuration comes from on reload (SIGHUP).
pub type Loader = Box<dyn Fn() -> Result<Plan, DaemonError> + Send>;

/// Why the VRRP daemon could not start, or could not take a reload.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DaemonError {
    /// rtnetlink (for static addresses and routes) could not be opened.
    #[error("cannot open rtnetlink: {0}")]
    Netlink(#[source] vrrp::linux::LinuxError),
    /// The driver could not start, or refused the configuration.
    #[error(transparent)]
    Driver(#[from] vrrp::linux::driver::DriverError),
    /// The configuration file was refused; the reasons were logged with
    /// file:line.
    #[error("{}: configuration refused", .0.display())]
    Refused(std::path::PathBuf),
}

/// What the daemon itself does for one running router (its configuration
/// is the driver's: [`DriverHandle::describe`] when needed).
struct Instance {
    name: String,
    /// Notify scripts and tracked objects, shared with the dumps.
    extras: Arc<crate::observe::InstanceExtras>,
    vips: Vec<IpAddr>,
    /// `notify_priority_changes` in effect.
    priority_changes: bool,
    /// Removed by the reload being applied: the state it left, once known.
    removed: Option<Option<vrrp::State>>,
}

/// The daemon's state.
pub struct Daemon {
    load: Loader,
    handle: DriverHandle,
    events: mpsc::Receiver<DriverEvent>,
    driver: JoinHandle<DriverCounters>,
    instances: HashMap<RouterId, Instance>,
    groups: HashMap<String, conf::Notify>,
    tracking: Tracking,
    promoted: super::promote::Promoted,
    checks: Checks,
    results: mpsc::Receiver<scripts::Changed>,
    notifies: JoinSet<()>,
    netlink: Netlink,
    statics: (Vec<(AddressSpec, AddressOptions)>, Vec<RouteSpec>),
    /// `static_rules` installed.
    static_rules: Vec<RuleSpec>,
    /// Puts back static items deleted by someone else, once there are
    /// some.
    restorer: Option<super::statics::Restorer>,
    stopping: bool,
    /// `disable_local_igmp`, undone at the stop.
    igmp: LocalIgmp,
    /// Base priorities set through the control socket, by instance name,
    /// until the next reload.
    priorities: HashMap<String, u8>,
    control: mpsc::Receiver<crate::control::SetPriority>,
    /// The routers in configuration order and the sync groups, for
    /// `fifo_write_vrrp_states_on_reload`.
    order: (Vec<RouterId>, reload_states::Groups),
}

impl Daemon {
    /// Runs `plan` until SIGTERM or SIGINT; SIGHUP reloads through `load`.
    /// Returns false if `plan` could not be started.
    pub async fn run(plan: Plan, load: Loader) -> bool {
        let (Ok(mut term), Ok(mut int), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
            signal(SignalKind::hangup()),
        ) else {
            error!("cannot install signal handlers");
            return false;
        };
        crate::dump::install();
        crate::snmp::start_configured();
        let mut d = match Daemon::new(load, &plan.process) {
            Ok(d) => d,
            Err(e) => {
                error!("cannot start VRRP: {e}");
                return false;
            }
        };
        let started = d.apply(plan).await;
        match &started {
            Ok(_) => crate::systemd::started(),
            Err(e) => error!("cannot start VRRP: {e}"),
        }
        while started.is_ok() {
            tokio::select! {
                _ = term.recv() => { crate::systemd::stopping(); info!("Stopping"); break; }
                _ = int.recv() => { crate::systemd::stopping(); info!("Stopping (interrupt)"); break; }
                _ = hup.recv() => d.reload().await,
                event = d.events.recv() => match event {
                    Some(event) => d.driver_event(event).await,
                    None => { error!("the VRRP driver stopped"); break; }
                },
                Some(changed) = d.results.recv() => d.script_changed(changed).await,
                Some((kind, name, status)) = d.tracking.changed() => {
                    d.tracking.set(kind, &name, status);
                    d.push_tracking().await;
                }
                Some(set) = d.control.recv() => d.set_priority(set).await,
            }
        }
        d.stop().await;
        if started.is_ok() {
            info!("Stopped");
        }
        started.is_ok()
    }

    /// The driver, running no router yet.
    fn new(load: Loader, process: &ProcessOptions) -> Result<Daemon, DaemonError> {
        let netlink = Netlink::open().map_err(DaemonError::Netlink)?;
        let (mut driver, handle, events) = Driver::new(Setup::default())?;
        super::process::configure(&mut driver, process);
        let (tx, results) = mpsc::channel(64);
        Ok(Daemon {
            load,
            handle,
            events,
            driver: tokio::spawn(driver.run()),
            instances: HashMap::new(),
            groups: HashMap::new(),
            tracking: Tracking::default(),
            promoted: Default::default(),
            checks: Checks::new(tx),
            results,
            notifies: JoinSet::new(),
            netlink,
            statics: (Vec::new(), Vec::new()),
            static_rules: Vec::new(),
            restorer: None,
            stopping: false,
            igmp: LocalIgmp::disable(process),
            priorities: HashMap::new(),
            control: crate::control::register_vrrp(),
            order: Default::default(),
        })
    }

    /// Makes the driver run `plan` (routers matched by interface and VRID,
    /// unchanged ones untouched), then the checks, tracking and static
    /// addresses follow. On an error nothing changed.
    async fn apply(&mut self, mut plan: Plan) -> Result<ReconcileSummary, DaemonError> {
        let mut setup = plan.setup();
        super::process::log_link_delay_clamps(&mut setup);
        let monitors = super::statics::Monitors::of(&setup);
        let vips: Vec<Vec<IpAddr>> = (setup.routers.iter())
            .map(|r| r.addresses.iter().map(|a| a.addr).collect())
            .collect();
        // Only what the daemon needs stays: the units' copies of the
        // routers and of the model they came from are freed before the
        // driver builds its own, so they never add to the start-up peak
        // (freed heap stays resident).
        let snmp = crate::snmp::prepare(&plan);
        let groups: Vec<(String, conf::Notify)> =
            (plan.groups().map(|(g, n)| (g.to_owned(), n.clone()))).collect();
        let plans: Vec<InstancePlan> = (plan.units.iter_mut())
            .flat_map(|u| std::mem::take(&mut u.instances))
            .collect();
        plan.units = Vec::new();
        let promote = (setup.routers.iter().zip(&plans)).filter(|(_, p)| p.promote_secondaries);
        self.promoted
            .apply(promote.map(|(r, _)| r.interface.as_str()));
        let netlink = &mut self.netlink;
        let watch = (plan.track_files.clone(), plan.track_processes.clone());
        let initial = self.tracking.initial(&plans, watch, |name| {
            netlink.link(name).is_ok_and(|l| l.is_operational())
        });
        let sync: Vec<_> = (setup.sync_groups.iter())
            .map(|g| (g.name.clone(), g.members.clone()))
            .collect();
        let summary = match self.handle.reconfigure_tracked(setup, initial).await {
            Ok(summary) => summary,
            Err(e) => {
                self.tracking.rewatch();
                return Err(e.into());
            }
        };
        let ids = |members: Vec<usize>| {
            members
                .into_iter()
                .filter_map(|i| summary.ids.get(i).copied())
        };
        let sync = sync.into_iter().map(|(name, m)| (name, ids(m).collect()));
        self.order = (summary.ids.clone(), sync.collect());
        let extras = crate::observe::InstanceExtras::of(&plans, &plan.scripts);
        let published = summary.ids.iter().copied().zip(extras.iter().cloned());
        crate::observe::publish_vrrp(&self.handle, published.collect());
        crate::snmp::publish(snmp);
        let routers: Vec<_> = summary.ids.iter().copied().zip(&plans).collect();
        let instances = (routers.iter().zip(vips).zip(extras)).map(|((&(id, i), vips), extras)| {
            let instance = Instance {
                name: i.name.clone(),
                extras,
                vips,
                priority_changes: i.priority_changes,
                removed: None,
            };
            (id, instance)
        });
        // The events of the reconfiguration are queued: the last ones of
        // removed routers (keepalived's DELETED or FAULT, also for one
        // restarted under its name: keepalived deletes the instance that
        // `vrrp_exist` does not match and makes a new one) and the first
        // ones of added routers (BACKUP, notify_backup). Ids are never
        // reused, so both are known while they are handled.
        let live: HashSet<RouterId> = summary.ids.iter().copied().collect();
        for (_, i) in (self.instances.iter_mut()).filter(|(id, _)| !live.contains(id)) {
            i.removed = Some(None);
        }
        self.instances.extend(instances);
        self.groups.extend(groups.iter().cloned());
        while let Ok(event) = self.events.try_recv() {
            self.driver_event(event).await;
        }
        self.instances.retain(|id, _| live.contains(id));
        self.groups
            .retain(|name, _| groups.iter().any(|(g, _)| g == name));
        let netlink = &mut self.netlink;
        self.tracking.retrack(&routers, |name| {
            netlink.link(name).is_ok_and(|l| l.is_operational())
        });
        for name in self.checks.apply(&plan.scripts) {
            self.tracking.set(Kind::Script, &name, Status::Unknown);
        }
        self.push_tracking().await;
        self.apply_statics(&plan, monitors);
        crate::control::publish_priorities(&self.priorities);
        Ok(summary)
    }

    /// The control socket's `priority` and `backup`: the driver changes
    /// the instance's base priority in place, as a reload changing only
    /// that priority would.
    async fn set_priority(&mut self, set: crate::control::SetPriority) {
        let crate::control::SetPriority {
            instance,
            priority,
            reply,
        } = set;
        let found = self.instances.iter().find(|(_, i)| i.name == instance);
        let Some(id) = found.map(|(id, _)| *id) else {
            let _ = reply.send(Err(format!("no vrrp_instance {instance}")));
            return;
        };
        info!("({instance}) base priority set to {priority} by the control socket");
        let result = match self.handle.set_priority(id, priority).await {
            Ok(Change::Restart) => Err(format!("({instance}) cannot change in place")),
            Ok(_) => {
                self.priorities.insert(instance, priority);
                crate::control::publish_priorities(&self.priorities);
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        };
        let _ = reply.send(result);
    }

    /// SIGHUP: the configuration is read and converted again, as `-t`
    /// does; on any error the running one stays.
    async fn reload(&mut self) {
        crate::systemd::reloading();
        self.reload_plan().await;
        crate::systemd::started();
    }

    async fn reload_plan(&mut self) {
        info!("Reloading");
        // The configuration's priorities again, not the control socket's.
        let overrides = std::mem::take(&mut self.priorities);
        crate::config_save::save_vrrp_data(false).await;
        let before = self.handle.snapshot().await;
        let plan = match (self.load)() {
            Ok(plan) => plan,
            Err(e) => {
                error!("Reload failed, keeping the running configuration: {e}");
                self.priorities = overrides;
                return;
            }
        };
        match self.apply(plan).await {
            Ok(s) => {
                info!(
                    "VRRP configuration applied: {} unchanged, {} updated, {} added, {} removed, {} restarted",
                    s.unchanged, s.updated, s.added, s.removed, s.restarted
                );
                if crate::process::fifo_states_on_reload() {
                    self.write_states(before).await;
                }
                crate::config_save::save_vrrp_data(true).await;
            }
            Err(e) => {
                error!("Reload failed, keeping the running configuration: {e}");
                self.priorities = overrides;
            }
        }
    }

    /// `fifo_write_vrrp_states_on_reload`: the states the reload kept,
    /// to the VRRP notify FIFOs.
    async fn write_states(&self, before: Option<vrrp::linux::driver::Snapshot>) {
        let (Some(before), Some(after)) = (before, self.handle.snapshot().await) else {
            return;
        };
        let (order, groups) = &self.order;
        for line in reload_states::lines(groups, order, &before.routers, &after.routers) {
            scripts::vrrp_fifo_line(&line);
        }
    }

    /// Graceful stop: priority-0 adverts, addresses removed; every event
    /// of the stop is handled (notify_stop) before the notify scripts are
    /// waited for.
    async fn stop(&mut self) {
        self.stopping = true;
        self.checks.stop();
        self.handle.shutdown().await;
        let drained = tokio::time::timeout(STOP_GRACE, async {
            while let Some(event) = self.events.recv().await {
                self.driver_event(event).await;
            }
        })
        .await;
        match tokio::time::timeout(STOP_GRACE, &mut self.driver).await {
            Ok(Ok(c)) if drained.is_ok() => debug!(
                "stopped: {} adverts sent, {} received, {} GARPs, {} drop reports suppressed",
                c.datagrams_sent, c.datagrams_received, c.garps_sent, c.drop_events_suppressed
            ),
            _ => {
                self.driver.abort();
                warn!("VRRP did not stop in time");
            }
        }
        if let Some(r) = &self.restorer {
            r.set(super::statics::Tracked::default());
        }
        self.apply_static_rules(&[]);
        self.remove_statics();
        self.promoted.restore();
        self.igmp.restore();
        let _ = tokio::time::timeout(scripts::NOTIFY_TIMEOUT, async {
            while self.notifies.join_next().await.is_some() {}
        })
        .await;
    }

    async fn script_changed(&mut self, c: scripts::Changed) {
        info!("{}", script_line(&c.name, c.health, &c.outcome));
        let status = match c.health {
            Health::Up => Status::Up,
            Health::Down => Status::Down,
        };
        self.tracking.set(Kind::Script, &c.name, status);
        crate::snmp::script_result(&c.name, status == Status::Up);
        self.push_tracking().await;
    }

    async fn driver_event(&mut self, event: DriverEvent) {
        match event {
            DriverEvent::Router { id, name, event } => self.router_event(id, &name, event),
            DriverEvent::Group(_, n) => {
                info!(
                    "VRRP_Group({}) Syncing instances to {} state",
                    n.name, n.state
                );
                if let Some(notify) = self.groups.get(&*n.name) {
                    scripts::notify(&mut self.notifies, notify, &n);
                }
                crate::alert::vrrp(&n);
                crate::snmp::group_changed(&n.name, n.state);
            }
            DriverEvent::Interface { link } => {
                let up = link.is_operational();
                if link.index == 0 {
                    // A missing interface: keepalived's dynamic_interfaces wording.
                    let name = &link.name;
                    info!("Configuration specifies interface {name} which doesn't currently exist - will use if created");
                } else {
                    info!(
                        "Netlink reports {} {}",
                        link.name,
                        if up { "up" } else { "down" }
                    );
                }
                let status = if up { Status::Up } else { Status::Down };
                self.tracking.set(Kind::Interface, &link.name, status);
                self.push_tracking().await;
            }
            DriverEvent::LinkDelayed {
                interface,
                from,
                to,
                delay,
            } => info!(
                "{interface}: Adding flags change from {from:#x} to {to:#x} delay by {}",
                delay.as_micros()
            ),
            DriverEvent::VmacRenamed { from, to } => {
                info!("Interface name has changed from {from} to {to}")
            }
            DriverEvent::LinkDelayCancelled { interface } => {
                info!("Delay timer for {interface} cancelled")
            }
            DriverEvent::NoAddress { name, ipv6, .. } => {
                // keepalived's wording; it runs the instance in FAULT too.
                let family = if ipv6 { 6 } else { 4 };
                info!("({name}) entering FAULT state (no IPv{family} address for interface)");
            }
            // keepalived says so only with -D (its state change follows).
            DriverEvent::Deleted { id, item } => match item {
                Deleted::Address { ifindex, addr } => {
                    debug!("Netlink reflector reports IP {addr} removed from interface {ifindex}")
                }
                item => {
                    let name = self.instances.get(&id).map_or("", |i| i.name.as_str());
                    debug!("({name}) tracked {item:?} deleted by someone else");
                }
            },
            DriverEvent::Failed { op, error } => error!("{op}: {error}"),
            DriverEvent::UnknownVrid {
                interface,
                vrid,
                from,
                shared,
                ..
            } => {
                let from = if shared {
                    format!(" from {from}")
                } else {
                    String::new()
                };
                info!("Unknown VRID({vrid}) received on interface({interface}){from}. ignoring...");
            }
            _ => {}
        }
    }

    fn router_event(&mut self, id: RouterId, name: &str, event: Event) {
        match event {
            Event::StateChanged { from, to, reason } => {
                if let Some(removed) = self.instances.get_mut(&id).and_then(|i| i.removed.as_mut())
                {
                    *removed = Some(from);
                }
                crate::observe::transition(id);
                crate::snmp::instance_changed(name, to, reason);
                log_transition(name, from, to, reason)
            }
            Event::AddAddresses => info!("({name}) setting VIPs."),
            Event::RemoveAddresses => info!("({name}) removing VIPs."),
            Event::AddressesChanged { added, removed } => {
                info!("({name}) VIPs changed: added {added:?}, removed {removed:?}")
            }
            Event::GratuitousArp { repeat } => {
                let vips = self.instances.get(&id).map_or(&[][..], |i| &i.vips[..]);
                let (v6, v4): (Vec<IpAddr>, Vec<IpAddr>) = vips.iter().partition(|a| a.is_ipv6());
                for (what, list) in [
                    ("gratuitous ARPs", v4),
                    ("Unsolicited Neighbour Adverts", v6),
                ] {
                    if !list.is_empty() {
                        info!("({name}) Sending/queueing {what} ({repeat} each) for {list:?}");
                    }
                }
            }
            Event::MasterRxHigherPriority {
                from,
                priority,
                ours,
            } => log_yield(name, from, priority, ours),
            Event::MasterRxLowerPriority {
                from,
                priority,
                ours,
            } => {
                info!("({name}) Received advert from {from} with lower priority {priority}, ours {ours}, forcing new election");
                // keepalived writes this FIFO line whether or not the
                // instance has a notify_master_rx_lower_pri script.
                if let Some(words) = (self.instances.get(&id))
                    .and_then(|i| i.extras.notify.master_rx_lower_pri.as_deref())
                {
                    let key = format!("INSTANCE {name}");
                    scripts::spawn_notify(
                        &mut self.notifies,
                        &key,
                        words,
                        Vec::new(),
                        scripts::NOTIFY_TIMEOUT,
                    );
                }
                scripts::fifo_event(name, "MASTER_RX_LOWER_PRI", ours);
            }
            Event::BackupRxLowerPriority { from, priority } => {
                info!("({name}) received lower priority ({priority}) advert from {from} - discarding")
            }
            Event::PriorityChanged { state, from, to } => {
                info!("({name}) Changing effective priority from {from} to {to}");
                if self.instances.get(&id).is_some_and(|i| i.priority_changes) {
                    let word = if state == vrrp::State::Master {
                        "MASTER_PRIORITY"
                    } else {
                        "BACKUP_PRIORITY"
                    };
                    scripts::fifo_event(name, word, to);
                }
            }
            // The driver reports at most one drop per router a second and
            // counts the others.
            Event::Dropped(reason) => warn!("({name}) dropped advert: {reason}"),
            Event::Rejected { from, error } => crate::snmp::advert_rejected(name, from, error),
            Event::OwnerConflict { .. } => info!(
                "({name}) CONFIGURATION ERROR: local instance and a remote instance are both configured as address owner, please fix - reducing local priority"
            ),
            Event::OldUnicastChecksum => {
                info!("({name}) Setting unicast VRRPv3 checksum to old version")
            }
            Event::Notify(n) => {
                let notify = self
                    .instances
                    .get(&id)
                    .map(|i| (i.removed, &i.extras.notify));
                match notify {
                    Some((Some(Some(was)), words)) if n.state == vrrp::State::Initialize => {
                        scripts::notify_removed(&mut self.notifies, words, &n, was);
                        crate::alert::vrrp_removed(&n, was, words.deleted.is_some());
                    }
                    Some((_, words)) => {
                        scripts::notify(&mut self.notifies, words, &n);
                        crate::alert::vrrp(&n);
                    }
                    None => crate::alert::vrrp(&n),
                }
            }
            _ => {}
        }
    }

    /// Gives the driver every tracking that changed.
    async fn push_tracking(&mut self) {
        if self.stopping {
            return;
        }
        for (id, t) in self.tracking.pending() {
            let name = self.instances.get(&id).map_or("", |i| i.name.as_str());
            debug!("({name}) tracking weight {} fault {}", t.weight, t.fault);
            self.handle.set_tracking(id, t).await;
        }
    }

    fn apply_statics(&mut self, plan: &Plan, monitors: super::statics::Monitors) {
        let wanted = plan
            .resolve_static(&mut self.netlink)
            .inspect_err(|e| error!("static addresses/routes: {e}"))
            .ok();
        // What to restore is known before anything is removed, so that
        // what the reload removes is not put back.
        let (addrs, routes) = wanted.as_ref().map_or((&[][..], &[][..]), |w| (&w.0, &w.1));
        let tracked = super::statics::Tracked::of(plan, monitors, addrs, routes);
        // Its two sockets only when there is something to restore.
        if self.restorer.is_none() && !tracked.is_empty() {
            self.restorer = (super::statics::Restorer::start())
                .inspect_err(|e| error!("cannot watch static items: {e}"))
                .ok();
        }
        if let Some(r) = &self.restorer {
            r.set(tracked);
        }
        self.apply_static_rules(&plan.static_rules);
        let Some(wanted) = wanted else { return };
        if wanted == self.statics {
            return;
        }
        // Unchanged items stay, as keepalived keeps them over a reload.
        let (old_addrs, old_routes) = std::mem::take(&mut self.statics);
        for r in old_routes.iter().filter(|r| !wanted.1.contains(r)) {
            let _ = self.netlink.del_route(r);
        }
        for (a, _) in old_addrs.iter().filter(|a| !wanted.0.contains(a)) {
            let _ = self.netlink.del_address(a);
        }
        let exists = Some(Errno::EEXIST as i32);
        for (a, options) in &wanted.0 {
            if let Err(e) = self.netlink.add_address_with(a, options) {
                if e.errno() != exists {
                    error!("static_ipaddress {}: {e}", a.addr);
                }
            }
        }
        for r in &wanted.1 {
            if let Err(e) = self.netlink.add_route(r) {
                if e.errno() != exists {
                    error!("static_routes {}/{}: {e}", r.dst, r.prefix_len);
                }
            }
        }
        self.statics = wanted;
    }

    /// Installs `static_rules` (after removing the ones no longer wanted).
    fn apply_static_rules(&mut self, wanted: &[RuleSpec]) {
        let old = std::mem::take(&mut self.static_rules);
        for r in old.iter().filter(|r| !wanted.contains(r)) {
            let _ = self.netlink.del_rule(r);
        }
        for r in wanted.iter().filter(|r| !old.contains(r)) {
            if let Err(e) = self.netlink.add_rule(r) {
                if e.errno() != Some(Errno::EEXIST as i32) {
                    error!("static_rules: {e}");
                }
            }
        }
        self.static_rules = wanted.to_vec();
    }

    fn remove_statics(&mut self) {
        let (addrs, routes) = std::mem::take(&mut self.statics);
        for r in &routes {
            let _ = self.netlink.del_route(r);
        }
        for (a, _) in &addrs {
            let _ = self.netlink.del_address(a);
        }
    }
}
