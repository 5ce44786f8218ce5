//! KEEPALIVED-MIB's checker part (`keepalived.3`), as keepalived 2.2.7's
//! checker process serves it (`check_snmp.c`, read for behaviour, not
//! copied): virtualServerGroupTable, virtualServerGroupMemberTable,
//! virtualServerTable, realServerTable (each service's sorry server
//! first, then its real servers), the LVS sync daemon and timeouts
//! scalars; and the realServerStateChange and
//! virtualServerQuorumStateChange notifications.
//!
//! The rows come from three sources: the running plan and the health
//! the checker half reports ([`Live`], fed by the daemon's hooks), what
//! the configuration says beyond the plan ([`Configured`], read with the
//! configuration), and the kernel's counters ([`Counters`], read when a
//! tree is built).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use agentx::pdu::{Oid, Value, VarBind};
use healthcheck::{Event, TargetId};
use ipvs::{Forward, ServiceFlags, ServiceKey, Stats, Stats64};
use vrrp_conf::convert::lvs::{GroupEntry, Plan, ServicePlan};
use vrrp_conf::model::{self as conf, Setting, VsTarget};
use vrrp_conf::Config;

use super::globals::TriState;
use super::mib::{oid, KEEPALIVED};
use vrrp::snmp::SNMP_TRAP_OID;

/// `realServerStateChange`.
pub fn trap_real_server() -> Oid {
    oid(&KEEPALIVED, &[3, 5, 0, 1])
}
/// `virtualServerQuorumStateChange`.
pub fn trap_quorum() -> Oid {
    oid(&KEEPALIVED, &[3, 5, 0, 2])
}

/// keepalived's timer unit: a microsecond.
const MICROS: u64 = 1_000_000;

/// Checker settings written on a `virtual_server` or `real_server`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Timers {
    /// `retry`.
    pub retry: Option<u32>,
    /// `delay_before_retry`, in microseconds.
    pub delay_before_retry: Option<u64>,
    /// `warmup`, in microseconds.
    pub warmup: Option<u64>,
    /// `connect_timeout`, in microseconds.
    pub connect_timeout: Option<u64>,
    /// `delay_loop`, in microseconds.
    pub delay_loop: Option<u64>,
    /// `alpha`.
    pub alpha: Option<bool>,
    /// `inhibit_on_failure`.
    pub inhibit: Option<bool>,
    /// `smtp_alert`.
    pub smtp_alert: Option<bool>,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
}

/// Seconds as written (fractions allowed) in microseconds.
fn micros(s: &Setting) -> Option<u64> {
    let v: f64 = s.args.first()?.parse().ok()?;
    (v.is_finite() && v >= 0.0).then(|| (v * MICROS as f64).round() as u64)
}

/// keepalived's boolean keyword: no argument or a true word is on.
fn flag(s: &Setting) -> bool {
    !matches!(
        s.args.first().map(|a| a.to_ascii_lowercase()).as_deref(),
        Some("false" | "no" | "off" | "0")
    )
}

impl Timers {
    /// What `settings` write (the last of each keyword).
    fn read(settings: &[Setting]) -> Timers {
        let mut t = Timers::default();
        for s in settings {
            match s.keyword.as_str() {
                "retry" => t.retry = s.args.first().and_then(|a| a.parse().ok()),
                "delay_before_retry" => t.delay_before_retry = micros(s),
                "warmup" => t.warmup = micros(s),
                "connect_timeout" => t.connect_timeout = micros(s),
                "delay_loop" => t.delay_loop = micros(s),
                "alpha" => t.alpha = Some(flag(s)),
                "inhibit_on_failure" => t.inhibit = Some(flag(s)),
                "smtp_alert" => t.smtp_alert = Some(flag(s)),
                "virtualhost" => t.virtualhost = s.args.first().cloned(),
                _ => {}
            }
        }
        t
    }

    /// `self` with what it does not set taken from `vs`, as keepalived's
    /// `validate_check_config` gives a real server its virtual server's.
    fn under(&self, vs: &Timers) -> Timers {
        Timers {
            retry: self.retry.or(vs.retry),
            delay_before_retry: self.delay_before_retry.or(vs.delay_before_retry),
            warmup: self.warmup.or(vs.warmup),
            connect_timeout: self.connect_timeout.or(vs.connect_timeout),
            delay_loop: self.delay_loop.or(vs.delay_loop),
            alpha: self.alpha.or(vs.alpha),
            inhibit: self.inhibit.or(vs.inhibit),
            smtp_alert: self.smtp_alert,
            virtualhost: self.virtualhost.clone(),
        }
    }
}

/// A `virtual_server`, as far as the plan does not say it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VsConf {
    /// keepalived's name for it (the plan's service name).
    pub name: String,
    /// `virtual_server group NAME`.
    pub group: Option<String>,
    /// Its own settings, keepalived's defaults applied.
    pub timers: Timers,
    /// Each real server's settings, its virtual server's applied.
    pub real_servers: Vec<Timers>,
}

/// What the configuration says of the checker beyond the plan, read once
/// with it (at start-up).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Configured {
    /// `virtual_server_group`s: name and entries, fwmarks first as
    /// keepalived keeps them.
    pub groups: Vec<(String, Vec<GroupEntry>)>,
    /// `virtual_server`s, in configuration order.
    pub services: Vec<VsConf>,
    /// `smtp_alert_checker`, else `smtp_alert`.
    pub smtp_alert: TriState,
}

impl Configured {
    /// What `c` says.
    pub fn of(c: &Config) -> Configured {
        let groups = (c.virtual_server_groups.iter())
            .map(|g| {
                let entries: Vec<GroupEntry> = (g.members.iter())
                    .filter_map(|w| vrrp_conf::convert::lvs::group_entry(w).ok())
                    .collect();
                let (mut marks, ranges): (Vec<_>, Vec<_>) =
                    (entries.into_iter()).partition(|e| matches!(e, GroupEntry::Fwmark { .. }));
                marks.extend(ranges);
                (g.name.clone(), marks)
            })
            .collect();
        let plan = vrrp_conf::convert::lvs::build(c).ok();
        let names = plan
            .iter()
            .flat_map(|p| p.services.iter().map(|s| s.name.clone()));
        let services = (c.virtual_servers.iter())
            .zip(names)
            .map(|(vs, name)| vs_conf(vs, name))
            .collect();
        let g = super::globals::Globals::of(c);
        let smtp_alert = match g.smtp_alert_checker {
            TriState::Unset => g.smtp_alert,
            t => t,
        };
        Configured {
            groups,
            services,
            smtp_alert,
        }
    }

    fn service(&self, name: &str) -> Option<&VsConf> {
        self.services.iter().find(|s| s.name == name)
    }
}

fn vs_conf(vs: &conf::VirtualServer, name: String) -> VsConf {
    let mut timers = Timers::read(&vs.other);
    timers.delay_loop = vs.delay_loop.as_ref().map(|d| d.value.as_micros() as u64);
    timers.alpha = Some(vs.alpha);
    timers.virtualhost = vs.virtualhost.clone();
    let real_servers = (vs.real_servers.iter())
        .map(|rs| {
            let mut t = Timers::read(&rs.other);
            t.inhibit = t.inhibit.or(rs.inhibit_on_failure.then_some(true));
            t.under(&timers)
        })
        .collect();
    VsConf {
        name,
        group: match &vs.target {
            VsTarget::Group(g) => Some(g.clone()),
            _ => None,
        },
        timers,
        real_servers,
    }
}

/// The checker half now, as the daemon reports it.
#[derive(Debug, Clone)]
pub struct Live {
    /// The running plan.
    pub plan: Plan,
    /// The targets down now and the real server (service, real server)
    /// each checks.
    pub down: HashMap<TargetId, (usize, usize)>,
    /// Each service's quorum state.
    pub quorum_up: Vec<bool>,
    /// Real servers' weights set by their checkers (misc_dynamic, a
    /// tracked file), by (service, real server).
    pub weights: HashMap<(usize, usize), u32>,
    /// Real servers taken down by the checker's stop.
    pub stopped: HashSet<(usize, usize)>,
    /// What the configuration says beyond the plan.
    pub conf: Arc<Configured>,
}

impl Live {
    /// The state at start: every real server alive (as keepalived puts
    /// them in), each quorum as their weights make it.
    pub fn new(plan: Plan, conf: Arc<Configured>) -> Live {
        let quorum_up = plan.services.iter().map(Live::starting_quorum).collect();
        Live {
            plan,
            down: HashMap::new(),
            quorum_up,
            weights: HashMap::new(),
            stopped: HashSet::new(),
            conf,
        }
    }

    /// How many of real server (s, r)'s checkers fail.
    pub fn failed(&self, s: usize, r: usize) -> u32 {
        self.down.values().filter(|&&slot| slot == (s, r)).count() as u32
    }

    /// Whether real server (s, r) is alive.
    pub fn alive(&self, s: usize, r: usize) -> bool {
        self.failed(s, r) == 0 && !self.stopped.contains(&(s, r))
    }

    /// How many of service `s`'s real servers are alive.
    pub fn real_up(&self, s: usize) -> u32 {
        let n = self
            .plan
            .services
            .get(s)
            .map_or(0, |v| v.real_servers.len());
        (0..n).filter(|&r| self.alive(s, r)).count() as u32
    }

    /// The weight real server (s, r) is reported with.
    fn weight(&self, s: usize, r: usize, configured: u32) -> u32 {
        self.weights.get(&(s, r)).copied().unwrap_or(configured)
    }

    /// keepalived's quorum state at start: the live weights reach
    /// `quorum + hysteresis`.
    fn starting_quorum(plan: &ServicePlan) -> bool {
        let sum: u64 = plan
            .real_servers
            .iter()
            .map(|r| u64::from(r.dest.weight))
            .sum();
        sum >= u64::from(plan.quorum) + u64::from(plan.hysteresis)
    }

    /// The state of a freshly (re)published `plan`: targets that were
    /// down and still check a real server stay down (`slot_of` maps a
    /// target to its new place); a service known by name keeps its quorum
    /// state.
    pub fn republish(
        &self,
        plan: Plan,
        conf: Arc<Configured>,
        slot_of: impl Fn(TargetId) -> Option<(usize, usize)>,
    ) -> Live {
        let down = (self.down.keys())
            .filter_map(|&t| Some((t, slot_of(t)?)))
            .collect();
        let quorum_up = (plan.services.iter())
            .map(|svc| {
                let old = self.plan.services.iter().position(|o| o.name == svc.name);
                old.and_then(|i| self.quorum_up.get(i).copied())
                    .unwrap_or_else(|| Live::starting_quorum(svc))
            })
            .collect();
        Live {
            down,
            quorum_up,
            ..Live::new(plan, conf)
        }
    }

    /// The checker stops: the notifications keepalived sends then, in
    /// its order. Each service's live real servers in the table go down
    /// one by one (none while its sorry server stands in for them), then
    /// its quorum reads "stopping".
    pub fn stop(&mut self, router_id: &str) -> Vec<Vec<VarBind>> {
        let mut out = Vec::new();
        for s in 0..self.plan.services.len() {
            let Some(svc) = self.plan.services.get(s) else {
                continue;
            };
            let quorum_up = self.quorum_up.get(s).copied().unwrap_or(true);
            let sorry_in = svc.sorry_server.is_some() && !quorum_up;
            for r in 0..svc.real_servers.len() {
                if !sorry_in && self.alive(s, r) {
                    self.stopped.insert((s, r));
                    let n = Notice::RealServer {
                        service: s,
                        real: r,
                    };
                    out.extend(notification(n, self, router_id));
                }
            }
            let n = Notice::Quorum {
                service: s,
                stopping: true,
            };
            out.extend(notification(n, self, router_id));
        }
        out
    }

    /// The notifications keepalived sends at start: each service's
    /// quorum, gained, or lost where a sorry server stands in.
    pub fn start(&self, router_id: &str) -> Vec<Vec<VarBind>> {
        (self.plan.services.iter().enumerate())
            .filter(|(s, svc)| {
                self.quorum_up.get(*s).copied().unwrap_or(true) || svc.sorry_server.is_some()
            })
            .filter_map(|(s, _)| {
                let n = Notice::Quorum {
                    service: s,
                    stopping: false,
                };
                notification(n, self, router_id)
            })
            .collect()
    }

    /// Applies a monitor event (`slot_of`, `service_of`: where its target
    /// and pool sit in the plan); returns the notification it causes.
    pub fn handle(
        &mut self,
        event: &Event,
        slot_of: impl Fn(TargetId) -> Option<(usize, usize)>,
        service_of: impl Fn(healthcheck::PoolId) -> Option<usize>,
    ) -> Option<Notice> {
        match *event {
            Event::TargetDown { target, .. } | Event::TargetUp { target } => {
                let (s, r) = slot_of(target)?;
                let was = self.alive(s, r);
                if matches!(event, Event::TargetDown { .. }) {
                    self.down.insert(target, (s, r));
                } else {
                    self.down.remove(&target);
                }
                (self.alive(s, r) != was).then_some(Notice::RealServer {
                    service: s,
                    real: r,
                })
            }
            Event::TargetWeight { target, weight } => {
                let slot = slot_of(target)?;
                self.weights.insert(slot, weight);
                None
            }
            Event::QuorumGained { pool, .. } | Event::QuorumLost { pool, .. } => {
                let s = service_of(pool)?;
                let up = matches!(event, Event::QuorumGained { .. });
                *self.quorum_up.get_mut(s)? = up;
                Some(Notice::Quorum {
                    service: s,
                    stopping: false,
                })
            }
            _ => None,
        }
    }
}

/// A change keepalived notifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// A real server went up or down.
    RealServer {
        /// Its service's index.
        service: usize,
        /// Its index in the service.
        real: usize,
    },
    /// A service gained or lost its quorum, or stops.
    Quorum {
        /// Its index.
        service: usize,
        /// The checker stops (quorum status 3).
        stopping: bool,
    },
}

/// The kernel's counters of one service or destination.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// 64-bit counters (from the 32-bit ones when the kernel sends no
    /// 64-bit ones).
    pub stats: Stats64,
    /// Active, inactive and persistent connections (destinations).
    pub conns: [u32; 3],
}

impl Counters {
    fn add(&mut self, o: &Counters) {
        let (a, b) = (&mut self.stats, &o.stats);
        a.conns += b.conns;
        a.inpkts += b.inpkts;
        a.outpkts += b.outpkts;
        a.inbytes += b.inbytes;
        a.outbytes += b.outbytes;
        a.cps += b.cps;
        a.inpps += b.inpps;
        a.outpps += b.outpps;
        a.inbps += b.inbps;
        a.outbps += b.outbps;
        for (x, y) in self.conns.iter_mut().zip(o.conns) {
            *x += y;
        }
    }

    /// From the kernel's entry.
    pub fn of(stats: &Stats, stats64: Option<&Stats64>, conns: [u32; 3]) -> Counters {
        let stats = stats64.copied().unwrap_or(Stats64 {
            conns: stats.conns.into(),
            inpkts: stats.inpkts.into(),
            outpkts: stats.outpkts.into(),
            inbytes: stats.inbytes,
            outbytes: stats.outbytes,
            cps: stats.cps.into(),
            inpps: stats.inpps.into(),
            outpps: stats.outpps.into(),
            inbps: stats.inbps.into(),
            outbps: stats.outbps.into(),
        });
        Counters { stats, conns }
    }
}

/// The kernel's counters: per service key, and per (service key,
/// destination address).
#[derive(Debug, Clone, Default)]
pub struct KernelCounters {
    /// Services.
    pub services: HashMap<ServiceKey, Counters>,
    /// Destinations.
    pub dests: HashMap<(ServiceKey, SocketAddr), Counters>,
}

impl KernelCounters {
    /// Reads the table; empty if it cannot be read.
    pub fn read() -> KernelCounters {
        let mut k = KernelCounters::default();
        let Ok(mut h) = ipvs::Ipvs::connect() else {
            return k;
        };
        let Ok(table) = h.table() else { return k };
        for (svc, dests) in table {
            let key = svc.service.key;
            k.services
                .insert(key, Counters::of(&svc.stats, svc.stats64.as_ref(), [0; 3]));
            for d in dests {
                let conns = [d.active_conns, d.inactive_conns, d.persist_conns];
                let c = Counters::of(&d.stats, d.stats64.as_ref(), conns);
                k.dests.insert((key, d.dest.addr), c);
            }
        }
        k
    }

    /// A service's (summed over a group's services), and its
    /// destination `addr`'s (summed likewise; the port each service
    /// installs it with, as [`ServicePlan::virtual_servers`] does).
    fn of(&self, svc: &ServicePlan, dest: Option<&ipvs::Destination>) -> Counters {
        let mut sum = Counters::default();
        for vs in svc.virtual_servers(&dest.copied().into_iter().collect::<Vec<_>>()) {
            let key = vs.service.key;
            let c = match vs.dests.first() {
                Some(d) => self.dests.get(&(key, d.addr)),
                None => self.services.get(&key),
            };
            if let Some(c) = c {
                sum.add(c);
            }
        }
        sum
    }
}

/// SNMP TruthValue.
fn truth(b: bool) -> i32 {
    if b {
        1
    } else {
        2
    }
}

fn text(s: &str) -> Value {
    Value::OctetString(s.as_bytes().to_vec())
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// InetAddressType: ipv4(1), ipv6(2).
fn addr_type(ip: IpAddr) -> i32 {
    if ip.is_ipv4() {
        1
    } else {
        2
    }
}

fn family_type(f: ipvs::Family) -> i32 {
    match f {
        ipvs::Family::V4 => 1,
        _ => 2,
    }
}

/// keepalived's number for a scheduler.
fn scheduler_number(s: &str) -> i32 {
    const NAMES: [&str; 14] = [
        "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
        "twos",
    ];
    NAMES
        .iter()
        .position(|n| *n == s)
        .map_or(99, |i| i as i32 + 1)
}

/// keepalived's number for a forwarding method (none for bypass).
fn forward_number(f: Forward) -> Option<i32> {
    match f {
        Forward::Masq => Some(1),
        Forward::DirectRoute => Some(2),
        Forward::Tunnel => Some(3),
        _ => None,
    }
}

/// virtualServerProtocol: tcp(1), udp(2), sctp(3), none for a fwmark.
fn protocol_number(key: &ServiceKey) -> Option<i32> {
    match key {
        ServiceKey::Addr { protocol, .. } => Some(match protocol {
            ipvs::Protocol::Tcp => 1,
            ipvs::Protocol::Udp => 2,
            ipvs::Protocol::Sctp => 3,
            _ => 4,
        }),
        ServiceKey::Fwmark { .. } => None,
    }
}

/// How a service is named in the tables and notifications.
enum Kind<'a> {
    Group(&'a str),
    Fwmark(u32),
    Addr(SocketAddr),
}

fn kind<'a>(svc: &ServicePlan, conf: Option<&'a VsConf>) -> Kind<'a> {
    if let Some(g) = conf.and_then(|c| c.group.as_deref()) {
        return Kind::Group(g);
    }
    match svc.service.key {
        ServiceKey::Fwmark { mark, .. } => Kind::Fwmark(mark),
        ServiceKey::Addr { addr, .. } => Kind::Addr(addr),
    }
}

fn kind_number(k: &Kind<'_>) -> i32 {
    match k {
        Kind::Fwmark(_) => 1,
        Kind::Addr(_) => 2,
        Kind::Group(_) => 3,
    }
}

type Tree = BTreeMap<Oid, Value>;

fn put(t: &mut Tree, tail: &[u32], v: Value) {
    t.insert(oid(&KEEPALIVED, tail), v);
}

/// Every object of the checker part now.
pub fn tree(t: &mut Tree, live: &Live, kernel: &KernelCounters) {
    let conf = &*live.conf;
    groups(t, conf);
    for (n, svc) in (1u32..).zip(&live.plan.services) {
        let s = n as usize - 1;
        let vc = conf.service(&svc.name);
        virtual_server(t, n, s, svc, vc, live, conf, kernel);
        real_servers(t, n, s, svc, vc, live, conf, kernel);
    }
    lvs_globals(t, &live.plan);
}

fn groups(t: &mut Tree, conf: &Configured) {
    for (g, (name, entries)) in (1u32..).zip(&conf.groups) {
        put(t, &[3, 1, 1, 2, g], text(name));
        for (e, entry) in (1u32..).zip(entries) {
            let mut col = |c: u32, v: Value| put(t, &[3, 2, 1, c, g, e], v);
            match *entry {
                GroupEntry::Fwmark { mark, .. } => {
                    col(2, Value::Integer(1));
                    col(3, Value::Gauge32(mark));
                }
                GroupEntry::Range { first, last, port } => {
                    let single = first == last;
                    col(2, Value::Integer(if single { 2 } else { 3 }));
                    col(4, Value::Integer(addr_type(first)));
                    if single {
                        col(5, Value::OctetString(ip_bytes(first)));
                    } else {
                        col(6, Value::OctetString(ip_bytes(first)));
                        col(7, Value::OctetString(ip_bytes(last)));
                    }
                    col(8, Value::Gauge32(port.into()));
                }
            }
        }
    }
}

/// Microseconds as keepalived's seconds column.
fn secs(us: u64) -> u32 {
    u32::try_from(us / MICROS).unwrap_or(u32::MAX)
}

fn us32(us: u64) -> u32 {
    u32::try_from(us).unwrap_or(u32::MAX)
}

/// Where a row's counters go.
enum Layout {
    /// virtualServerTable: the 32-bit block from column 27, the 64-bit
    /// one from 38.
    Service,
    /// realServerTable: from 14 (with the connection counts after the
    /// connections) and from 27.
    Destination,
}

/// The counters columns of a row.
fn counters(t: &mut Tree, row: &dyn Fn(u32) -> Vec<u32>, c: &Counters, layout: Layout) {
    let s = &c.stats;
    let low = |v: u64| (v & 0xffff_ffff) as u32;
    let mut col = |c: u32, v: Value| put(t, &row(c), v);
    let (dest, first, wide) = match layout {
        Layout::Service => (false, 27, 38),
        Layout::Destination => (true, 14, 27),
    };
    col(first, Value::Gauge32(low(s.conns)));
    let mut next = first + 1;
    if dest {
        for n in c.conns {
            col(next, Value::Gauge32(n));
            next += 1;
        }
    }
    col(next, Value::Counter32(low(s.inpkts)));
    col(next + 1, Value::Counter32(low(s.outpkts)));
    col(next + 2, Value::Counter64(s.inbytes));
    col(next + 3, Value::Counter64(s.outbytes));
    for (i, v) in [s.cps, s.inpps, s.outpps, s.inbps, s.outbps]
        .into_iter()
        .enumerate()
    {
        col(next + 4 + i as u32, Value::Gauge32(low(v)));
    }
    col(wide, Value::Counter64(s.conns));
    col(wide + 1, Value::Counter64(s.inpkts));
    col(wide + 2, Value::Counter64(s.outpkts));
    for (i, v) in [s.cps, s.inpps, s.outpps, s.inbps, s.outbps]
        .into_iter()
        .enumerate()
    {
        col(wide + 3 + 2 * i as u32, Value::Gauge32(low(v)));
        col(wide + 4 + 2 * i as u32, Value::Gauge32((v >> 32) as u32));
    }
}

#[allow(clippy::too_many_arguments, reason = "one row from its sources")]
fn virtual_server(
    t: &mut Tree,
    n: u32,
    s: usize,
    svc: &ServicePlan,
    vc: Option<&VsConf>,
    live: &Live,
    conf: &Configured,
    kernel: &KernelCounters,
) {
    let row = |c: u32| vec![3, 3, 1, c, n];
    let col = |t: &mut Tree, c: u32, v: Value| put(t, &row(c), v);
    let key = &svc.service.key;
    let k = kind(svc, vc);
    col(t, 2, Value::Integer(kind_number(&k)));
    match k {
        Kind::Group(g) => col(t, 3, text(g)),
        Kind::Fwmark(m) => col(t, 4, Value::Gauge32(m)),
        Kind::Addr(_) => {}
    }
    col(t, 5, Value::Integer(family_type(key.family())));
    if let Kind::Addr(a) = k {
        col(t, 6, Value::OctetString(ip_bytes(a.ip())));
        col(t, 7, Value::Gauge32(a.port().into()));
    }
    if let Some(p) = protocol_number(key) {
        col(t, 8, Value::Integer(p));
    }
    col(
        t,
        9,
        Value::Integer(scheduler_number(&svc.service.scheduler)),
    );
    let forward = svc.real_servers.first().map(|r| r.dest.forward);
    let forward = forward.or(svc.sorry_server.as_ref().map(|s| s.dest.forward));
    if let Some(f) = forward.and_then(forward_number) {
        col(t, 10, Value::Integer(f));
    }
    col(t, 11, Value::Integer(1));
    let timers = vc.map(|c| c.timers.clone()).unwrap_or_default();
    if let Some(h) = &timers.virtualhost {
        col(t, 12, text(h));
    }
    let persistent = svc.service.flags.contains(ServiceFlags::PERSISTENT);
    col(t, 13, Value::Integer(truth(persistent)));
    if persistent {
        col(t, 14, Value::Gauge32(svc.service.timeout));
    }
    // keepalived's granularity is all ones unless written; it answers
    // the IPv4 column unless the address is IPv6 and the IPv6 one unless
    // it is IPv4 (a group or fwmark service has no address: both).
    let granularity = if persistent && svc.group.is_empty() && svc.service.netmask != 0 {
        svc.service.netmask
    } else {
        u32::MAX
    };
    let addr = match k {
        Kind::Addr(a) => Some(a.ip()),
        _ => None,
    };
    if !matches!(addr, Some(IpAddr::V6(_))) {
        col(
            t,
            15,
            Value::OctetString(granularity.to_be_bytes().to_vec()),
        );
    }
    if !matches!(addr, Some(IpAddr::V4(_))) {
        col(t, 51, Value::Gauge32(granularity));
    }
    let delay_loop = timers.delay_loop.unwrap_or(60 * MICROS);
    col(t, 16, Value::Gauge32(secs(delay_loop)));
    col(t, 17, Value::Integer(truth(svc.ha_suspend)));
    col(
        t,
        37,
        Value::Integer(truth(svc.service.flags.contains(ServiceFlags::ONE_PACKET))),
    );
    col(t, 18, Value::Integer(truth(timers.alpha.unwrap_or(false))));
    col(t, 19, Value::Integer(truth(svc.omega)));
    col(t, 20, Value::Gauge32(svc.real_servers.len() as u32));
    col(t, 21, Value::Gauge32(live.real_up(s)));
    col(t, 22, Value::Gauge32(svc.quorum));
    let quorum_up = live.quorum_up.get(s).copied().unwrap_or(true);
    col(t, 23, Value::Integer(truth(quorum_up)));
    if let Some(w) = &svc.quorum_up {
        col(t, 24, text(&healthcheck::script::shown(w)));
    }
    if let Some(w) = &svc.quorum_down {
        col(t, 25, text(&healthcheck::script::shown(w)));
    }
    col(t, 26, Value::Gauge32(svc.hysteresis));
    let c = kernel.of(svc, None);
    counters(t, &row, &c, Layout::Service);
    let f = svc.service.flags;
    // The scheduler flags: sh and mh read the same bits as flag-1/-2.
    let sched1 = f.contains(ServiceFlags::SCHED1);
    let sched2 = f.contains(ServiceFlags::SCHED2);
    col(t, 52, Value::Integer(2));
    col(t, 53, Value::Integer(truth(sched1)));
    col(t, 54, Value::Integer(truth(sched2)));
    col(
        t,
        55,
        Value::Integer(truth(f.contains(ServiceFlags::SCHED3))),
    );
    col(t, 62, Value::Integer(truth(sched1)));
    col(t, 63, Value::Integer(truth(sched2)));
    col(
        t,
        56,
        Value::Integer(truth(!timers.inhibit.unwrap_or(false))),
    );
    col(t, 57, Value::Gauge32(timers.retry.unwrap_or(0)));
    let dbr = timers.delay_before_retry.unwrap_or(0);
    col(t, 58, Value::Gauge32(secs(dbr)));
    let warmup = timers.warmup.unwrap_or(0);
    col(t, 59, Value::Gauge32(secs(warmup)));
    col(t, 60, Value::Integer(1));
    let smtp = timers.smtp_alert.unwrap_or(conf.smtp_alert == TriState::On);
    col(t, 61, Value::Integer(truth(smtp)));
    col(t, 64, Value::Gauge32(us32(delay_loop)));
    col(t, 65, Value::Gauge32(us32(dbr)));
    col(t, 66, Value::Gauge32(us32(warmup)));
    let timeout = timers.connect_timeout.unwrap_or(5 * MICROS);
    col(t, 67, Value::Gauge32(us32(timeout)));
    if forward == Some(Forward::Tunnel) {
        if let Some(d) = svc.real_servers.first().map(|r| r.dest) {
            col(t, 68, Value::Integer(tunnel_number(d.tunnel_type)));
        }
    }
    if let Some(name) = &svc.snmp_name {
        col(t, 71, text(name));
    }
}

#[allow(clippy::too_many_arguments, reason = "one row from its sources")]
fn real_servers(
    t: &mut Tree,
    n: u32,
    s: usize,
    svc: &ServicePlan,
    vc: Option<&VsConf>,
    live: &Live,
    conf: &Configured,
    kernel: &KernelCounters,
) {
    let mut k = 0u32;
    if let Some(sorry) = &svc.sorry_server {
        k += 1;
        let row = |c: u32| vec![3, 4, 1, c, n, k];
        let d = &sorry.dest;
        put(t, &row(2), Value::Integer(2));
        address_columns(t, &row, d);
        counters(t, &row, &kernel.of(svc, Some(d)), Layout::Destination);
        if let Some(f) = forward_number(d.forward) {
            put(t, &row(40), Value::Integer(f));
        }
        // keepalived's sorry server has none of a real server's settings.
        for c in [42, 47] {
            put(t, &row(c), Value::Integer(2));
        }
        for c in [43, 44, 45, 46, 48, 49, 50, 51] {
            put(t, &row(c), Value::Gauge32(0));
        }
    }
    for (r, rs) in svc.real_servers.iter().enumerate() {
        k += 1;
        let row = |c: u32| vec![3, 4, 1, c, n, k];
        let d = &rs.dest;
        let timers = vc
            .and_then(|c| c.real_servers.get(r).cloned())
            .unwrap_or_default();
        put(t, &row(2), Value::Integer(1));
        address_columns(t, &row, d);
        put(t, &row(6), Value::Integer(truth(live.alive(s, r))));
        let weight = live.weight(s, r, d.weight);
        put(
            t,
            &row(7),
            Value::Integer(i32::try_from(weight).unwrap_or(i32::MAX)),
        );
        if d.upper_threshold != 0 {
            put(t, &row(8), Value::Gauge32(d.upper_threshold));
        }
        if d.lower_threshold != 0 {
            put(t, &row(9), Value::Gauge32(d.lower_threshold));
        }
        put(t, &row(10), Value::Integer(truth(!rs.inhibit_on_failure)));
        if let Some(w) = &rs.notify_up {
            put(t, &row(11), text(&healthcheck::script::shown(w)));
        }
        if let Some(w) = &rs.notify_down {
            put(t, &row(12), text(&healthcheck::script::shown(w)));
        }
        put(t, &row(13), Value::Gauge32(live.failed(s, r)));
        counters(t, &row, &kernel.of(svc, Some(d)), Layout::Destination);
        if let Some(f) = forward_number(d.forward) {
            put(t, &row(40), Value::Integer(f));
        }
        if let Some(h) = &timers.virtualhost {
            put(t, &row(41), text(h));
        }
        put(
            t,
            &row(42),
            Value::Integer(truth(timers.alpha.unwrap_or(false))),
        );
        put(t, &row(43), Value::Gauge32(timers.retry.unwrap_or(0)));
        let dbr = timers.delay_before_retry.unwrap_or(0);
        let warmup = timers.warmup.unwrap_or(0);
        let delay_loop = timers.delay_loop.unwrap_or(60 * MICROS);
        put(t, &row(44), Value::Gauge32(secs(dbr)));
        put(t, &row(45), Value::Gauge32(secs(warmup)));
        put(t, &row(46), Value::Gauge32(secs(delay_loop)));
        // A real server's smtp_alert defaults to on (keepalived keeps it
        // so for compatibility), unlike a virtual server's.
        let smtp = timers
            .smtp_alert
            .unwrap_or(conf.smtp_alert != TriState::Off);
        put(t, &row(47), Value::Integer(truth(smtp)));
        put(t, &row(48), Value::Gauge32(us32(dbr)));
        put(t, &row(49), Value::Gauge32(us32(warmup)));
        put(t, &row(50), Value::Gauge32(us32(delay_loop)));
        let timeout = timers.connect_timeout.unwrap_or(5 * MICROS);
        put(t, &row(51), Value::Gauge32(us32(timeout)));
        if d.forward == Forward::Tunnel {
            put(t, &row(52), Value::Integer(tunnel_number(d.tunnel_type)));
        }
        if let Some(name) = &rs.snmp_name {
            put(t, &row(55), text(name));
        }
    }
}

/// keepalived's tunnel type: ipip(1), gue(2), gre(3).
fn tunnel_number(t: ipvs::TunnelType) -> i32 {
    match t {
        ipvs::TunnelType::Gue => 2,
        ipvs::TunnelType::Gre => 3,
        _ => 1,
    }
}

fn address_columns(t: &mut Tree, row: &dyn Fn(u32) -> Vec<u32>, d: &ipvs::Destination) {
    put(t, &row(3), Value::Integer(addr_type(d.addr.ip())));
    put(t, &row(4), Value::OctetString(ip_bytes(d.addr.ip())));
    put(t, &row(5), Value::Gauge32(d.addr.port().into()));
}

/// The sync daemon and timeouts scalars.
fn lvs_globals(t: &mut Tree, plan: &Plan) {
    match &plan.sync_daemon {
        None => put(t, &[3, 6, 1, 0], Value::Integer(2)),
        Some(sync) => {
            let d = &sync.daemon;
            put(t, &[3, 6, 1, 0], Value::Integer(1));
            put(t, &[3, 6, 2, 0], text(&d.ifname));
            if let Some(i) = &sync.instance {
                put(t, &[3, 6, 3, 0], text(i));
            }
            put(t, &[3, 6, 4, 0], Value::Integer(d.sync_id as i32));
            put(t, &[3, 6, 5, 0], Value::Integer(i32::from(d.sync_maxlen)));
            put(t, &[3, 6, 6, 0], Value::Integer(i32::from(d.mcast_port)));
            put(t, &[3, 6, 7, 0], Value::Integer(i32::from(d.mcast_ttl)));
            if let Some(g) = d.mcast_group {
                put(t, &[3, 6, 8, 0], Value::Integer(addr_type(g)));
                put(t, &[3, 6, 9, 0], Value::OctetString(ip_bytes(g)));
            }
        }
    }
    if let Some(to) = &plan.timeouts {
        for (c, v) in [(1, to.tcp), (2, to.tcp_fin), (3, to.udp)] {
            if v != 0 {
                put(
                    t,
                    &[3, 7, c, 0],
                    Value::Integer(i32::try_from(v).unwrap_or(i32::MAX)),
                );
            }
        }
    }
}

/// The varbinds of the notification `notice` (after sysUpTime.0, which
/// the master adds). keepalived names the objects without an index.
pub fn notification(notice: Notice, live: &Live, router_id: &str) -> Option<Vec<VarBind>> {
    let conf = &*live.conf;
    let vb = |tail: &[u32], value: Value| VarBind {
        name: oid(&KEEPALIVED, tail),
        value,
    };
    let (s, rs, stopping) = match notice {
        Notice::RealServer { service, real } => (service, Some(real), false),
        Notice::Quorum { service, stopping } => (service, None, stopping),
    };
    let svc = live.plan.services.get(s)?;
    let trap = if rs.is_some() {
        trap_real_server()
    } else {
        trap_quorum()
    };
    let mut out = vec![VarBind {
        name: SNMP_TRAP_OID.to_vec(),
        value: Value::Oid(trap),
    }];
    if let Some(r) = rs {
        let d = svc.real_servers.get(r)?.dest;
        out.push(vb(&[3, 4, 1, 3], Value::Integer(addr_type(d.addr.ip()))));
        out.push(vb(&[3, 4, 1, 4], Value::OctetString(ip_bytes(d.addr.ip()))));
        out.push(vb(&[3, 4, 1, 5], Value::Gauge32(d.addr.port().into())));
        out.push(vb(&[3, 4, 1, 6], Value::Integer(truth(live.alive(s, r)))));
    }
    let k = kind(svc, conf.service(&svc.name));
    out.push(vb(&[3, 3, 1, 2], Value::Integer(kind_number(&k))));
    match k {
        Kind::Group(g) => out.push(vb(&[3, 3, 1, 3], text(g))),
        Kind::Fwmark(m) => out.push(vb(&[3, 3, 1, 4], Value::Gauge32(m))),
        Kind::Addr(a) => {
            out.push(vb(&[3, 3, 1, 5], Value::Integer(addr_type(a.ip()))));
            out.push(vb(&[3, 3, 1, 6], Value::OctetString(ip_bytes(a.ip()))));
            out.push(vb(&[3, 3, 1, 7], Value::Gauge32(a.port().into())));
        }
    }
    // keepalived sends virtualServerProtocol as "is TCP" here.
    let tcp = protocol_number(&svc.service.key) == Some(1);
    out.push(vb(&[3, 3, 1, 8], Value::Integer(truth(tcp))));
    if rs.is_none() {
        let up = live.quorum_up.get(s).copied().unwrap_or(true);
        let status = if stopping {
            3
        } else if up {
            1
        } else {
            2
        };
        out.push(vb(&[3, 3, 1, 23], Value::Integer(status)));
        out.push(vb(&[3, 3, 1, 22], Value::Gauge32(svc.quorum)));
    }
    out.push(vb(&[3, 3, 1, 21], Value::Gauge32(live.real_up(s))));
    out.push(vb(
        &[3, 3, 1, 20],
        Value::Gauge32(svc.real_servers.len() as u32),
    ));
    out.push(vb(&[1, 2, 0], text(router_id)));
    Some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use healthcheck::{DownReason, Monitor, MonitorConfig, PoolConfig};

    use super::*;

    const CONF: &str = "global_defs {\n router_id r1\n enable_snmp_checker\n}\n\
        virtual_server_group G1 {\n 10.0.1.1 80\n 10.0.1.2-3 80\n fwmark 5\n}\n\
        virtual_server 10.0.0.1 80 {\n delay_loop 2\n lb_algo rr\n protocol TCP\n \
        persistence_timeout 30\n snmp_name web\n real_server 10.1.0.1 8081 {\n  weight 2\n  \
        snmp_name web-1\n  TCP_CHECK {\n  }\n }\n \
        real_server 10.1.0.2 8082 {\n  inhibit_on_failure\n  retry 3\n  TCP_CHECK {\n  }\n }\n}\n\
        virtual_server group G1 {\n lb_kind DR\n quorum 2\n sorry_server 10.9.9.9 80\n \
        real_server 10.1.0.3 80 {\n  TCP_CHECK {\n  }\n }\n}\n";

    fn setup() -> Live {
        let p = vrrp_conf::parse_str("k.conf", CONF, &vrrp_conf::Options::default());
        let plan = vrrp_conf::convert::lvs::build(&p.config).unwrap();
        Live::new(plan, Arc::new(Configured::of(&p.config)))
    }

    fn at(t: &Tree, tail: &[u32]) -> Option<Value> {
        t.get(&oid(&KEEPALIVED, tail)).cloned()
    }

    #[test]
    fn tables_follow_keepalived_s_layout() {
        let live = setup();
        let mut t = Tree::new();
        tree(&mut t, &live, &KernelCounters::default());
        // Group members: fwmarks first, then single addresses and ranges.
        assert_eq!(at(&t, &[3, 1, 1, 2, 1]), Some(text("G1")));
        let member_types: Vec<_> = (1..=3).map(|e| at(&t, &[3, 2, 1, 2, 1, e])).collect();
        assert_eq!(member_types, [1, 2, 3].map(|v| Some(Value::Integer(v))));
        assert_eq!(at(&t, &[3, 2, 1, 3, 1, 1]), Some(Value::Gauge32(5)));
        assert_eq!(
            at(&t, &[3, 2, 1, 7, 1, 3]),
            Some(Value::OctetString(vec![10, 0, 1, 3]))
        );
        // Virtual servers: an address one, then the group.
        assert_eq!(at(&t, &[3, 3, 1, 2, 1]), Some(Value::Integer(2)));
        assert_eq!(at(&t, &[3, 3, 1, 2, 2]), Some(Value::Integer(3)));
        assert_eq!(at(&t, &[3, 3, 1, 3, 2]), Some(text("G1")));
        assert_eq!(at(&t, &[3, 3, 1, 14, 1]), Some(Value::Gauge32(30)));
        // snmp_name: virtualServerName and realServerName.
        assert_eq!(at(&t, &[3, 3, 1, 71, 1]), Some(text("web")));
        assert_eq!(at(&t, &[3, 3, 1, 71, 2]), None);
        assert_eq!(at(&t, &[3, 4, 1, 55, 1, 1]), Some(text("web-1")));
        assert_eq!(at(&t, &[3, 4, 1, 55, 1, 2]), None);
        assert_eq!(at(&t, &[3, 3, 1, 16, 1]), Some(Value::Gauge32(2)));
        assert_eq!(at(&t, &[3, 3, 1, 16, 2]), Some(Value::Gauge32(60)));
        assert_eq!(at(&t, &[3, 3, 1, 10, 2]), Some(Value::Integer(2)));
        // Granularity: the IPv4 column for an IPv4 address, both for a group.
        let ones = Some(Value::OctetString(vec![255; 4]));
        assert_eq!(at(&t, &[3, 3, 1, 15, 1]), ones);
        assert_eq!(at(&t, &[3, 3, 1, 51, 1]), None);
        assert_eq!(at(&t, &[3, 3, 1, 51, 2]), Some(Value::Gauge32(u32::MAX)));
        // Real servers: the group's sorry server comes first.
        assert_eq!(at(&t, &[3, 4, 1, 2, 2, 1]), Some(Value::Integer(2)));
        assert_eq!(at(&t, &[3, 4, 1, 6, 2, 1]), None);
        assert_eq!(at(&t, &[3, 4, 1, 2, 2, 2]), Some(Value::Integer(1)));
        assert_eq!(at(&t, &[3, 4, 1, 7, 1, 1]), Some(Value::Integer(2)));
        assert_eq!(at(&t, &[3, 4, 1, 10, 1, 2]), Some(Value::Integer(2)));
        assert_eq!(at(&t, &[3, 4, 1, 43, 1, 2]), Some(Value::Gauge32(3)));
        assert_eq!(at(&t, &[3, 4, 1, 46, 1, 2]), Some(Value::Gauge32(2)));
        assert_eq!(
            at(&t, &[3, 4, 1, 50, 1, 2]),
            Some(Value::Gauge32(2_000_000))
        );
        // Counters: a real server's connection counts come before its
        // packets; a virtual server has none.
        assert_eq!(at(&t, &[3, 4, 1, 17, 1, 1]), Some(Value::Gauge32(0)));
        assert_eq!(at(&t, &[3, 4, 1, 18, 1, 1]), Some(Value::Counter32(0)));
        assert_eq!(at(&t, &[3, 4, 1, 26, 1, 1]), Some(Value::Gauge32(0)));
        assert_eq!(at(&t, &[3, 3, 1, 28, 1]), Some(Value::Counter32(0)));
        assert_eq!(at(&t, &[3, 3, 1, 30, 1]), Some(Value::Counter64(0)));
        assert_eq!(at(&t, &[3, 6, 1, 0]), Some(Value::Integer(2)));
        assert_eq!(at(&t, &[3, 7, 1, 0]), None);
    }

    #[test]
    fn a_failing_real_server_and_the_stop_notify_as_keepalived() {
        let mut live = setup();
        let mut m = Monitor::new(MonitorConfig::default());
        let (t1, t2) = (m.add_static_target("a"), m.add_static_target("b"));
        let pool = m.add_pool(PoolConfig::default());
        let slot = |t| {
            [(t1, (0, 0)), (t2, (0, 1))]
                .into_iter()
                .find(|(x, _)| *x == t)
                .map(|(_, s)| s)
        };
        let down = Event::TargetDown {
            target: t2,
            reason: DownReason::Refused,
        };
        let n = live.handle(&down, slot, |_| None);
        assert_eq!(
            n,
            Some(Notice::RealServer {
                service: 0,
                real: 1
            })
        );
        // A second failure of the same checker changes nothing.
        assert_eq!(live.handle(&down, slot, |_| None), None);
        let vbs = notification(n.unwrap(), &live, "r1").unwrap();
        let values: Vec<(Vec<u32>, Value)> = (vbs.iter().skip(1))
            .map(|v| (v.name[9..].to_vec(), v.value.clone()))
            .collect();
        assert_eq!(vbs[0].value, Value::Oid(trap_real_server()));
        assert_eq!(
            values,
            [
                (vec![3, 4, 1, 3], Value::Integer(1)),
                (vec![3, 4, 1, 4], Value::OctetString(vec![10, 1, 0, 2])),
                (vec![3, 4, 1, 5], Value::Gauge32(8082)),
                (vec![3, 4, 1, 6], Value::Integer(2)),
                (vec![3, 3, 1, 2], Value::Integer(2)),
                (vec![3, 3, 1, 5], Value::Integer(1)),
                (vec![3, 3, 1, 6], Value::OctetString(vec![10, 0, 0, 1])),
                (vec![3, 3, 1, 7], Value::Gauge32(80)),
                (vec![3, 3, 1, 8], Value::Integer(1)),
                (vec![3, 3, 1, 21], Value::Gauge32(1)),
                (vec![3, 3, 1, 20], Value::Gauge32(2)),
                (vec![1, 2, 0], text("r1")),
            ]
        );
        // The group loses its quorum: its sorry server stands in.
        let lost = Event::QuorumLost {
            pool,
            weight_sum: 0,
        };
        let n = live.handle(&lost, slot, |p| (p == pool).then_some(1));
        assert_eq!(
            n,
            Some(Notice::Quorum {
                service: 1,
                stopping: false
            })
        );
        // At stop: the live real server of the first service, its quorum
        // "stopping"; none of the group's (out while the sorry server
        // is in), its quorum.
        let stop = live.stop("r1");
        let summary: Vec<(Value, Option<Value>)> = (stop.iter())
            .map(|v| {
                let status = v.iter().find(|b| b.name[9..] == [3, 3, 1, 23]);
                (v[0].value.clone(), status.map(|b| b.value.clone()))
            })
            .collect();
        assert_eq!(
            summary,
            [
                (Value::Oid(trap_real_server()), None),
                (Value::Oid(trap_quorum()), Some(Value::Integer(3))),
                (Value::Oid(trap_quorum()), Some(Value::Integer(3))),
            ]
        );
        let real_up = |v: &Vec<VarBind>| {
            v.iter()
                .find(|b| b.name[9..] == [3, 3, 1, 21])
                .map(|b| b.value.clone())
        };
        assert_eq!(real_up(&stop[0]), Some(Value::Gauge32(0)));
        assert_eq!(real_up(&stop[2]), Some(Value::Gauge32(1)));
    }

    #[test]
    fn start_notifies_each_quorum() {
        let live = setup();
        let start = live.start("r1");
        assert_eq!(start.len(), 2);
        assert!(start
            .iter()
            .all(|v| v[0].value == Value::Oid(trap_quorum())));
    }
}
