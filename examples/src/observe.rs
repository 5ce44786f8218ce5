//! What the halves publish for the dumps ([`crate::dump`]) and the
//! metrics endpoint ([`crate::metrics`]).
//!
//! The VRRP half: its driver handle and, per running router, what the
//! daemon keeps beside the driver's configuration (notify scripts,
//! tracked objects: [`InstanceExtras`], shared with the daemon, one copy);
//! it publishes on every (re)configuration and reports transitions.
//! Readers on other threads take a [`VrrpState`] whenever they need one:
//! the routers' specifications come from the driver then
//! ([`DriverHandle::describe`]), so no copy of them is kept here.
//!
//! The checker half: per real server, its health (from the monitor's
//! events) and its checks by outcome (counted by the driver's
//! [`observer`]); read as a [`CheckerState`].

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use healthcheck::{CheckOutcome, DownReason, TargetId};

use vrrp::linux::driver::{DriverHandle, RouterSnapshot, RouterSpec, Snapshot};
use vrrp::mux::RouterId;
use vrrp_conf::convert::vrrp::InstancePlan;
use vrrp_conf::model::{Notify, VrrpScript};

use crate::lvs_mode::table::Bridge;

/// What the daemon keeps for one router beyond the driver's
/// specification; one copy, shared by the daemon (which runs the notify
/// scripts) and the dumps.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct InstanceExtras {
    /// Notify scripts.
    pub notify: Notify,
    /// `track_interface` names.
    pub track_interfaces: Vec<String>,
    /// `track_script` command lines (words), in the instance's order.
    pub track_scripts: Vec<Vec<String>>,
    /// `debug N`, shown by the data dump.
    pub debug: u8,
}

impl InstanceExtras {
    /// The extras of each of `instances` (a plan's, in its order), whose
    /// `track_script`s name `scripts`.
    pub fn of(instances: &[InstancePlan], scripts: &[VrrpScript]) -> Vec<Arc<InstanceExtras>> {
        let scripts: HashMap<&str, &Vec<String>> = (scripts.iter())
            .filter_map(|s| Some((s.name.as_str(), s.script.as_ref()?)))
            .collect();
        // Instances without notify scripts or tracking (most, in a large
        // configuration) share one empty value.
        let empty = Arc::new(InstanceExtras::default());
        (instances.iter())
            .map(|i| {
                let extras = InstanceExtras {
                    notify: i.notify.clone(),
                    track_interfaces: i.interfaces.iter().map(|t| t.name.clone()).collect(),
                    track_scripts: (i.scripts.iter())
                        .filter_map(|t| scripts.get(t.name.as_str()).map(|w| (*w).clone()))
                        .collect(),
                    debug: i.debug,
                };
                if extras == *empty {
                    empty.clone()
                } else {
                    Arc::new(extras)
                }
            })
            .collect()
    }
}

/// One running router as configured, built when a [`VrrpState`] is taken.
#[derive(Debug, Clone)]
pub struct InstanceView {
    /// The driver's id for it.
    pub id: RouterId,
    /// The driver's specification (configuration, interface, addresses),
    /// with the base priority it runs (the control socket may have set
    /// one).
    pub spec: RouterSpec,
    /// What the daemon keeps for it.
    pub extras: Arc<InstanceExtras>,
}

/// One router now: as configured, as running, and when it last changed
/// state.
#[derive(Debug, Clone)]
pub struct InstanceState {
    /// As configured.
    pub view: InstanceView,
    /// As running (None if the driver has no state for it).
    pub run: Option<RouterSnapshot>,
    /// Its last state change (None before the first).
    pub last_transition: Option<SystemTime>,
}

impl InstanceState {
    /// The view the dumps render ([`vrrp_conf::dump::vrrp`]).
    pub fn dump_view(&self) -> vrrp_conf::dump::vrrp::Instance<'_> {
        let extras = &*self.view.extras;
        vrrp_conf::dump::vrrp::Instance {
            spec: &self.view.spec,
            run: self.run.as_ref(),
            last_transition: self.last_transition,
            notify: &extras.notify,
            track_interfaces: &extras.track_interfaces,
            track_scripts: &extras.track_scripts,
            debug: extras.debug,
        }
    }
}

/// Every router of the VRRP half now.
#[derive(Debug, Clone)]
pub struct VrrpState {
    /// In configuration order.
    pub instances: Vec<InstanceState>,
    /// The driver's whole snapshot (mux and driver counters too).
    pub snapshot: Snapshot,
}

#[derive(Default)]
struct Published {
    handle: Option<DriverHandle>,
    /// The running routers in configuration order, with their extras.
    instances: Vec<(RouterId, Arc<InstanceExtras>)>,
    transitions: HashMap<RouterId, SystemTime>,
}

static VRRP: Mutex<Option<Published>> = Mutex::new(None);

fn published() -> MutexGuard<'static, Option<Published>> {
    VRRP.lock().unwrap_or_else(|e| e.into_inner())
}

/// Publishes the routers run by `handle`: the driver's ids, in
/// configuration order, with their extras.
pub fn publish_vrrp(handle: &DriverHandle, instances: Vec<(RouterId, Arc<InstanceExtras>)>) {
    let mut p = published();
    let p = p.get_or_insert_with(Published::default);
    p.handle = Some(handle.clone());
    let live: HashSet<RouterId> = instances.iter().map(|(id, _)| *id).collect();
    p.transitions.retain(|id, _| live.contains(id));
    p.instances = instances;
}

/// Router `id` changed state now.
pub fn transition(id: RouterId) {
    let mut p = published();
    let p = p.get_or_insert_with(Published::default);
    p.transitions.insert(id, SystemTime::now());
}

/// The VRRP half now, or None if it does not run (or has stopped). A
/// router published but no longer run by the driver (in the moment of a
/// reload between the two) is left out.
pub async fn vrrp() -> Option<VrrpState> {
    let (handle, routers) = {
        let p = published();
        let p = p.as_ref()?;
        (p.handle.clone()?, p.instances.clone())
    };
    let description = handle.describe().await?;
    // Both lists come in RouterId order: looked up by binary search (a
    // scrape of 1,000 instances spent more in hashing than in rendering).
    let mut specs: Vec<(RouterId, Option<RouterSpec>)> = (description.routers.into_iter())
        .map(|(id, spec)| (id, Some(spec)))
        .collect();
    let mut snapshot = description.snapshot;
    // Documented as sorted; sorting a sorted list is one pass.
    specs.sort_by_key(|(id, _)| *id);
    snapshot.routers.sort_by_key(|r| r.id);
    let p = published();
    let transitions = p.as_ref().map(|p| &p.transitions);
    let instances = (routers.into_iter())
        .filter_map(|(id, extras)| {
            let spec = match specs.binary_search_by_key(&id, |(id, _)| *id) {
                Ok(i) => specs.get_mut(i)?.1.take()?,
                Err(_) => return None,
            };
            let run = (snapshot.routers.binary_search_by_key(&id, |r| r.id).ok())
                .and_then(|i| snapshot.routers.get(i).cloned());
            Some(InstanceState {
                view: InstanceView { id, spec, extras },
                run,
                last_transition: transitions.and_then(|t| t.get(&id)).copied(),
            })
        })
        .collect();
    drop(p);
    Some(VrrpState {
        instances,
        snapshot,
    })
}

impl VrrpState {
    /// The dump views of its instances, in configuration order.
    pub fn dump_views(&self) -> Vec<vrrp_conf::dump::vrrp::Instance<'_>> {
        self.instances
            .iter()
            .map(InstanceState::dump_view)
            .collect()
    }
}

/// One real server's health and check counts, shared with the checkers
/// that count into it.
#[derive(Debug, Default)]
struct RealServerCounts {
    down: AtomicBool,
    outcomes: Mutex<BTreeMap<&'static str, u64>>,
    /// How long checks take.
    latency: Mutex<Latency>,
}

/// Check duration buckets (upper bounds, in seconds): 1 ms to 10 s.
pub const LATENCY_BUCKETS: [f64; 10] = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 2.5, 10.0];

/// How long a real server's checks took: a histogram over
/// [`LATENCY_BUCKETS`]. Kept here rather than in a `prometheus-client`
/// `Histogram` because that one does not let its buckets be read, and the
/// metrics endpoint renders them itself.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latency {
    /// Checks per bucket, not cumulative: `buckets[i]` counts the
    /// durations above `LATENCY_BUCKETS[i - 1]` and at most
    /// `LATENCY_BUCKETS[i]`; the last one those above 10 s.
    pub buckets: [u64; LATENCY_BUCKETS.len() + 1],
    /// Sum of the durations, in seconds.
    pub sum: f64,
    /// Number of checks.
    pub count: u64,
}

impl Latency {
    /// Counts one check that took `seconds`.
    pub fn observe(&mut self, seconds: f64) {
        let i = (LATENCY_BUCKETS.iter())
            .position(|b| seconds <= *b)
            .unwrap_or(LATENCY_BUCKETS.len());
        if let Some(n) = self.buckets.get_mut(i) {
            *n += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }
}

/// Real servers by (virtual server, real server) name.
type RealServers = BTreeMap<(String, String), Arc<RealServerCounts>>;

/// The checker half's real servers.
static CHECKER: Mutex<Option<RealServers>> = Mutex::new(None);

fn checker_map() -> MutexGuard<'static, Option<RealServers>> {
    CHECKER.lock().unwrap_or_else(|e| e.into_inner())
}

/// The counts of the real server `target` stands for in `bridge`'s plan.
fn counts_of(bridge: &Bridge, target: TargetId) -> Option<Arc<RealServerCounts>> {
    let (s, r) = bridge.slot_of(target)?;
    let svc = bridge.plan().services.get(s)?;
    let key = (svc.name.clone(), svc.real_servers.get(r)?.name.clone());
    let mut map = checker_map();
    Some(
        map.get_or_insert_with(BTreeMap::new)
            .entry(key)
            .or_default()
            .clone(),
    )
}

/// Publishes the real servers of `bridge`'s plan (at start and after each
/// reload): the ones no longer configured are forgotten, the others keep
/// their counts.
pub fn publish_checker(bridge: &Bridge) {
    let keys: BTreeSet<(String, String)> = (bridge.plan().services.iter())
        .flat_map(|s| {
            s.real_servers
                .iter()
                .map(|r| (s.name.clone(), r.name.clone()))
        })
        .collect();
    let mut map = checker_map();
    let map = map.get_or_insert_with(BTreeMap::new);
    map.retain(|k, _| keys.contains(k));
    for k in keys {
        map.entry(k).or_default();
    }
}

/// Follows the health of the real servers: down on `TargetDown`, up on
/// `TargetUp` (every real server starts up, as keepalived puts them in).
pub fn checker_event(bridge: &Bridge, event: &healthcheck::Event) {
    let (target, down) = match event {
        healthcheck::Event::TargetUp { target } => (*target, false),
        healthcheck::Event::TargetDown { target, .. } => (*target, true),
        _ => return,
    };
    if let Some(c) = counts_of(bridge, target) {
        c.down.store(down, Ordering::Relaxed);
    }
}

/// What counts every finished check of `bridge`'s checked real servers
/// into their counts (set on the checker's driver).
pub fn observer(bridge: &Bridge) -> healthcheck::runtime::Observer {
    let counts: HashMap<TargetId, Arc<RealServerCounts>> = (bridge.checks())
        .filter_map(|(target, _)| Some((target, counts_of(bridge, target)?)))
        .collect();
    Arc::new(move |target, outcome, took| {
        if let Some(c) = counts.get(&target) {
            c.count(outcome, took);
        }
    })
}

impl RealServerCounts {
    /// Counts one finished check.
    fn count(&self, outcome: &CheckOutcome, took: std::time::Duration) {
        (self.latency.lock())
            .unwrap_or_else(|e| e.into_inner())
            .observe(took.as_secs_f64());
        let mut o = self.outcomes.lock().unwrap_or_else(|e| e.into_inner());
        *o.entry(outcome_label(outcome)).or_default() += 1;
    }
}

/// A check outcome as a metric label: `up`, or why it failed.
pub fn outcome_label(o: &CheckOutcome) -> &'static str {
    if o.is_up() {
        return "up";
    }
    match o.down_reason() {
        Some(r) => match r {
            DownReason::Timeout | DownReason::SendTimeout | DownReason::ReadTimeout { .. } => {
                "timeout"
            }
            DownReason::Refused => "refused",
            DownReason::Io(_) | DownReason::SendFailed(_) => "io-error",
            DownReason::Tls(_) => "tls",
            DownReason::NoHttpResponse => "no-http-response",
            DownReason::HttpStatus(_) => "http-status",
            DownReason::DigestMismatch => "digest-mismatch",
            DownReason::RegexMismatch => "regex-mismatch",
            DownReason::SmtpReply(_) => "smtp-reply",
            DownReason::Protocol(_) => "protocol",
            DownReason::DnsRcode(_) => "dns-rcode",
            DownReason::DnsNoAnswer => "dns-no-answer",
            DownReason::Unreachable => "unreachable",
            DownReason::UnexpectedReply => "unexpected-reply",
            _ => "other",
        },
        None => "other",
    }
}

/// One real server in a [`CheckerState`].
#[derive(Debug, Clone)]
pub struct RealServerState {
    /// The virtual server's name (keepalived's `[IP]:proto:port` form).
    pub virtual_server: String,
    /// The real server's name.
    pub real_server: String,
    /// Whether its checks pass.
    pub up: bool,
    /// Checks finished, by [`outcome_label`].
    pub outcomes: BTreeMap<&'static str, u64>,
    /// How long its checks took.
    pub latency: Latency,
}

/// One virtual server in a [`CheckerState`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServerState {
    /// Its name (keepalived's `[IP]:proto:port` form).
    pub name: String,
    /// Whether its live weights reach its quorum (keepalived's
    /// virtualServerQuorumStatus); None before the monitor first says.
    pub quorum_up: Option<bool>,
    /// The sum of its live real servers' weights (an inhibited one counts
    /// 0): what keepalived compares with `quorum`.
    pub active_weight: u64,
}

/// IPVS requests of one kind ([`ipvs::Op`]): sent, and failed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IpvsCounts {
    /// Requests sent to the kernel.
    pub operations: u64,
    /// Of those, the ones that failed (or could not be sent).
    pub failures: u64,
}

/// The checker half now.
#[derive(Debug, Clone)]
pub struct CheckerState {
    /// Every configured real server, in name order.
    pub real_servers: Vec<RealServerState>,
    /// Every virtual server, in configuration order.
    pub virtual_servers: Vec<VirtualServerState>,
    /// IPVS requests by operation label ([`op_label`]), in label order.
    pub ipvs: BTreeMap<&'static str, IpvsCounts>,
}

/// The virtual servers as last published.
static SERVICES: Mutex<Vec<VirtualServerState>> = Mutex::new(Vec::new());

/// IPVS requests by operation label.
static IPVS: Mutex<BTreeMap<&'static str, IpvsCounts>> = Mutex::new(BTreeMap::new());

/// Publishes the quorum state and live weight of each of `bridge`'s
/// virtual servers (after each batch of monitor events and each reload).
pub fn publish_services(bridge: &Bridge) {
    let mut services = SERVICES.lock().unwrap_or_else(|e| e.into_inner());
    services.clear();
    services.extend(
        bridge
            .service_states()
            .map(|(name, quorum_up, active_weight)| VirtualServerState {
                name: name.to_owned(),
                quorum_up,
                active_weight,
            }),
    );
}

/// An IPVS operation as a metric label.
pub fn op_label(op: &ipvs::Op) -> &'static str {
    match op {
        ipvs::Op::AddService(_) => "add_service",
        ipvs::Op::EditService(_) => "edit_service",
        ipvs::Op::DelService(_) => "del_service",
        ipvs::Op::AddDest(..) => "add_dest",
        ipvs::Op::EditDest(..) => "edit_dest",
        ipvs::Op::DelDest(..) => "del_dest",
        _ => "other",
    }
}

/// Counts one IPVS request sent to the kernel, and whether it failed.
pub fn ipvs_operation(op: &ipvs::Op, failed: bool) {
    let mut map = IPVS.lock().unwrap_or_else(|e| e.into_inner());
    let c = map.entry(op_label(op)).or_default();
    c.operations += 1;
    c.failures += u64::from(failed);
}

/// The checker half now, or None if it does not run.
pub fn checker() -> Option<CheckerState> {
    let map = checker_map();
    let real_servers = (map.as_ref()?.iter())
        .map(|((vs, rs), c)| RealServerState {
            virtual_server: vs.clone(),
            real_server: rs.clone(),
            up: !c.down.load(Ordering::Relaxed),
            outcomes: c.outcomes.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            latency: *c.latency.lock().unwrap_or_else(|e| e.into_inner()),
        })
        .collect();
    drop(map);
    let virtual_servers = SERVICES.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let ipvs = IPVS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    Some(CheckerState {
        real_servers,
        virtual_servers,
        ipvs,
    })
}
