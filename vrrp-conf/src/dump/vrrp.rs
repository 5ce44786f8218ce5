//! The VRRP process's dumps as keepalived 2.2.7 writes them: DATA
//! ([`data`], `keepalived.data`), STATS ([`stats`], `keepalived.stats`;
//! STATS_CLEAR the same, then [`Baseline::clear_to`]) and JSON ([`json`],
//! `keepalived.json`), from a view of each running instance
//! ([`Instance`]). The DATA file starts with the global part, which is
//! [`super::global`]'s, for the embedder to put first.
//!
//! The JSON has keepalived's field names and encodings (state numbers,
//! address strings) and its keys in name order; the text dumps keep
//! keepalived's wording for the VRRP instances. What the view does not
//! hold is written as keepalived writes its default: `master_priority` is
//! 0 and `wantstate` is the state.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;
use vrrp::auth::AuthConfig;
use vrrp::config::{LowerPriorityAdvert, Version};
use vrrp::counters::{Counters, KeepalivedStats};
use vrrp::linux::driver::{RouterSnapshot, RouterSpec, VirtualAddress};
use vrrp::linux::Scope;
use vrrp::State;

use super::{ids_text, say, Host, ABLED};
use crate::model::{Notify, Words};

/// One VRRP instance as the dumps see it: as configured, as running, and
/// what the daemon keeps beside the driver's configuration.
#[derive(Debug, Clone, Copy)]
pub struct Instance<'a> {
    /// The driver's specification (configuration, interface, addresses),
    /// with the base priority it runs.
    pub spec: &'a RouterSpec,
    /// As running (None if the driver has no state for it: shown as INIT
    /// at its base priority, with no counters).
    pub run: Option<&'a RouterSnapshot>,
    /// Its last state change (None before the first).
    pub last_transition: Option<SystemTime>,
    /// Its notify scripts.
    pub notify: &'a Notify,
    /// Its `track_interface` names.
    pub track_interfaces: &'a [String],
    /// Its `track_script` command lines (words), in its order.
    pub track_scripts: &'a [Vec<String>],
    /// Its `debug N`.
    pub debug: u8,
}

/// Statistics as they were at the last STATS_CLEAR, by instance name: the
/// driver's counters are monotonic, the dump shows the difference.
#[derive(Debug, Default)]
pub struct Baseline(HashMap<String, Stats>);

impl Baseline {
    /// The statistics of `i` since the last clear.
    pub fn since(&self, i: &Instance<'_>) -> Stats {
        let now = i.run.map(|r| Stats::from(&r.counters)).unwrap_or_default();
        match self.0.get(&*i.spec.config.name) {
            Some(then) => now.minus(then),
            None => now,
        }
    }

    /// Makes the statistics of `instances` now the new zero
    /// (STATS_CLEAR).
    pub fn clear_to(&mut self, instances: &[Instance<'_>]) {
        for i in instances {
            if let Some(r) = i.run {
                self.0.insert(r.name.to_string(), Stats::from(&r.counters));
            }
        }
    }
}

/// keepalived's statistics of one instance, from the `vrrp` crate's
/// counters. The fields are in name order, the order of the JSON's keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// `addr_list_err`.
    pub addr_list_err: u64,
    /// `advert_interval_err`.
    pub advert_interval_err: u64,
    /// `advert_rcvd`.
    pub advert_rcvd: u64,
    /// `advert_sent`.
    pub advert_sent: u64,
    /// `auth_failure`.
    pub auth_failure: u64,
    /// `authtype_mismatch`.
    pub authtype_mismatch: u64,
    /// `become_master`.
    pub become_master: u64,
    /// `invalid_authtype`.
    pub invalid_authtype: u64,
    /// `invalid_type_rcvd`.
    pub invalid_type_rcvd: u64,
    /// `ip_ttl_err`.
    pub ip_ttl_err: u64,
    /// `packet_len_err`.
    pub packet_len_err: u64,
    /// `pri_zero_rcvd`.
    pub pri_zero_rcvd: u64,
    /// `pri_zero_sent`.
    pub pri_zero_sent: u64,
    /// `release_master`.
    pub release_master: u64,
}

impl From<&Counters> for Stats {
    fn from(c: &Counters) -> Stats {
        let g = KeepalivedStats::from(c);
        Stats {
            advert_rcvd: g.advert_rcvd,
            advert_sent: g.advert_sent,
            become_master: g.become_master,
            release_master: g.release_master,
            packet_len_err: g.packet_len_err,
            advert_interval_err: g.advert_interval_err,
            ip_ttl_err: g.ip_ttl_err,
            invalid_type_rcvd: g.invalid_type_rcvd,
            addr_list_err: g.addr_list_err,
            invalid_authtype: g.invalid_authtype,
            authtype_mismatch: g.authtype_mismatch,
            auth_failure: g.auth_failure,
            pri_zero_rcvd: g.pri_zero_rcvd,
            pri_zero_sent: g.pri_zero_sent,
        }
    }
}

impl Stats {
    /// Each counter less `then`'s (zero if `then` is ahead: a restarted
    /// router).
    fn minus(&self, then: &Stats) -> Stats {
        let d = |now: u64, then: u64| now.saturating_sub(then);
        Stats {
            advert_rcvd: d(self.advert_rcvd, then.advert_rcvd),
            advert_sent: d(self.advert_sent, then.advert_sent),
            become_master: d(self.become_master, then.become_master),
            release_master: d(self.release_master, then.release_master),
            packet_len_err: d(self.packet_len_err, then.packet_len_err),
            advert_interval_err: d(self.advert_interval_err, then.advert_interval_err),
            ip_ttl_err: d(self.ip_ttl_err, then.ip_ttl_err),
            invalid_type_rcvd: d(self.invalid_type_rcvd, then.invalid_type_rcvd),
            addr_list_err: d(self.addr_list_err, then.addr_list_err),
            invalid_authtype: d(self.invalid_authtype, then.invalid_authtype),
            authtype_mismatch: d(self.authtype_mismatch, then.authtype_mismatch),
            auth_failure: d(self.auth_failure, then.auth_failure),
            pri_zero_rcvd: d(self.pri_zero_rcvd, then.pri_zero_rcvd),
            pri_zero_sent: d(self.pri_zero_sent, then.pri_zero_sent),
        }
    }
}

/// keepalived's state number.
pub fn state_number(s: State) -> u8 {
    match s {
        State::Initialize => 0,
        State::Backup => 1,
        State::Master => 2,
        State::Fault => 3,
    }
}

fn state_name(s: State) -> &'static str {
    match s {
        State::Initialize => "INIT",
        State::Backup => "BACKUP",
        State::Master => "MASTER",
        State::Fault => "FAULT",
    }
}

fn scope_name(s: Scope) -> String {
    match s {
        Scope::Global => "global".into(),
        Scope::Site => "site".into(),
        Scope::Link => "link".into(),
        Scope::Host => "host".into(),
        Scope::Nowhere => "nowhere".into(),
        Scope::Other(n) => n.to_string(),
        _ => "unknown".into(),
    }
}

/// keepalived's `format_ipaddress` for each virtual address, with ` set`
/// while installed (a master's).
fn vips(i: &Instance<'_>, set: bool) -> Vec<String> {
    let vmac = (i.spec.use_vmac).then(|| format!("vrrp.{}", i.spec.config.vrid));
    (i.spec.addresses)
        .iter()
        .map(|a| {
            let dev = (a.dev.as_deref())
                .or(vmac.as_deref())
                .unwrap_or(&i.spec.interface);
            address(a, dev, set)
        })
        .collect()
}

/// keepalived's `format_ipaddress` of `a` on `dev`, with ` set` if
/// installed.
pub(super) fn address(a: &VirtualAddress, dev: &str, set: bool) -> String {
    let mut s = prefixed(a.addr, a.prefix_len);
    if let Some(b) = a.broadcast {
        let _ = write!(s, " brd {b}");
    }
    let _ = write!(s, " dev {dev} scope {}", scope_name(a.scope));
    if let Some(l) = &a.label {
        let _ = write!(s, " label {l}");
    }
    if a.no_track {
        s.push_str(" no_track");
    }
    if set {
        s.push_str(" set");
    }
    s
}

/// keepalived's `ipaddresstos`: the address, with its prefix length
/// unless a host's.
pub(super) fn prefixed(addr: IpAddr, len: u8) -> String {
    let full = if addr.is_ipv4() { 32 } else { 128 };
    if len == full {
        addr.to_string()
    } else {
        format!("{addr}/{len}")
    }
}

fn secs_f64(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The advert interval in seconds, as configured for the version.
fn advert_int(i: &Instance<'_>) -> f64 {
    let c = &i.spec.config;
    match c.version {
        Version::V3 => f64::from(c.advert_interval_centis) / 100.0,
        _ => f64::from(c.advert_interval_secs),
    }
}

fn auth(i: &Instance<'_>) -> (u8, Option<String>) {
    match &i.spec.config.authentication {
        AuthConfig::Pass { key } => {
            let end = key.iter().position(|b| *b == 0).unwrap_or(key.len());
            (1, Some(String::from_utf8_lossy(&key[..end]).into_owned()))
        }
        AuthConfig::None => (0, None),
        _ => (2, None),
    }
}

/// One element of keepalived 2.2.7's `keepalived.json` array: an
/// instance's `data` and `stats`. Serialize it (an array of them) with any
/// serde serializer; with `serde_json` it is keepalived's file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Json {
    /// keepalived's `data` object.
    pub data: JsonData,
    /// keepalived's `stats` object.
    pub stats: Stats,
}

/// keepalived's `data` object of one instance, each field under its
/// keepalived key. The fields are in name order, the order keepalived-lite
/// writes the keys in; options not set are left out, as keepalived
/// leaves them out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JsonData {
    /// `accept` mode, 0 or 1.
    pub accept: u8,
    /// The advert interval, seconds.
    pub adver_int: f64,
    /// The PASS password (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_data: Option<String>,
    /// 0 none, 1 PASS, 2 AH.
    pub auth_type: u8,
    /// The configured priority.
    pub base_priority: u8,
    /// 1 if the interface is not tracked.
    pub dont_track_primary: u8,
    /// The priority now.
    pub effective_priority: u8,
    /// `garp_master_delay`, seconds.
    pub garp_delay: f64,
    /// `garp_lower_prio_delay`, seconds.
    pub garp_lower_prio_delay: u64,
    /// `garp_lower_prio_repeat`.
    pub garp_lower_prio_rep: u32,
    /// `garp_master_refresh`, seconds (0: none).
    pub garp_refresh: u64,
    /// `garp_master_refresh_repeat`.
    pub garp_refresh_rep: u32,
    /// `garp_master_repeat`.
    pub garp_rep: u32,
    /// `higher_prio_send_advert`, 0 or 1.
    pub higher_prio_send_advert: u8,
    /// The interface.
    pub ifp_ifname: String,
    /// The instance name.
    pub iname: String,
    /// The last state change, seconds since the epoch (0: none).
    pub last_transition: f64,
    /// `lower_prio_no_advert`, 0 or 1.
    pub lower_prio_no_advert: u8,
    /// The master's advert interval, seconds (the configured one).
    pub master_adver_int: f64,
    /// The master's priority (not known: 0).
    pub master_priority: u8,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `notify_deleted` is set.
    pub notify_deleted: bool,
    /// `preempt_delay`, seconds.
    pub preempt_delay: u64,
    /// Always false.
    pub promote_secondaries: bool,
    /// The notify scripts set, under keepalived's keys (`script`,
    /// `script_backup`, `script_deleted`, `script_fault`, `script_master`,
    /// `script_master_rx_lower_pri`, `script_stop`).
    #[serde(flatten)]
    pub scripts: BTreeMap<&'static str, String>,
    /// `skip_check_adv_addr`, 0 or 1.
    pub skip_check_adv_addr: u8,
    /// Always false.
    pub smtp_alert: bool,
    /// The state ([`state_number`]).
    pub state: u8,
    /// Always 0.
    pub strict_mode: u8,
    /// The `track_interface` names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub track_ifp: Vec<String>,
    /// The `track_script` command lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub track_script: Vec<String>,
    /// The VRRP version, 2 or 3.
    pub version: u8,
    /// The virtual addresses, as the DATA dump shows them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vips: Vec<String>,
    /// True if the addresses are installed (a master's).
    pub vipset: bool,
    /// The VMAC interface (empty without one).
    pub vmac_ifname: String,
    /// The virtual router id.
    pub vrid: u8,
    /// The state wanted (the state).
    pub wantstate: u8,
}

/// keepalived 2.2.7's `keepalived.json`: one element per instance.
pub fn json(instances: &[Instance<'_>], baseline: &Baseline, host: &dyn Host) -> Vec<Json> {
    (instances.iter())
        .map(|i| Json {
            data: json_data(i, host),
            stats: baseline.since(i),
        })
        .collect()
}

fn json_data(i: &Instance<'_>, host: &dyn Host) -> JsonData {
    let c = &i.spec.config;
    let st = i.run.map_or(State::Initialize, |r| r.state);
    let garp = &c.garp;
    let n = i.notify;
    let (auth_type, auth_data) = auth(i);
    JsonData {
        accept: u8::from(c.accept_mode),
        adver_int: advert_int(i),
        auth_data,
        auth_type,
        base_priority: c.priority,
        dont_track_primary: u8::from(!c.track_interface),
        effective_priority: i.run.map_or(c.priority, |r| r.priority),
        garp_delay: garp.master_delay.as_secs_f64(),
        garp_lower_prio_delay: garp.lower_prio_delay.as_secs(),
        garp_lower_prio_rep: garp.lower_prio_repeat,
        garp_refresh: garp.master_refresh.map_or(0, |d| d.as_secs()),
        garp_refresh_rep: garp.refresh_repeat,
        garp_rep: garp.master_repeat,
        higher_prio_send_advert: u8::from(c.higher_priority_send_advert),
        ifp_ifname: i.spec.interface.clone(),
        iname: c.name.to_string(),
        last_transition: i.last_transition.map_or(0.0, secs_f64),
        lower_prio_no_advert: u8::from(c.lower_priority_advert == LowerPriorityAdvert::Discard),
        master_adver_int: advert_int(i),
        master_priority: 0,
        nopreempt: !c.preempt,
        notify_deleted: n.deleted.is_some(),
        preempt_delay: c.preempt_delay.as_secs(),
        promote_secondaries: false,
        scripts: (notify_scripts(n))
            .map(|(key, _, w)| (key, host.command(w)))
            .collect(),
        skip_check_adv_addr: u8::from(c.skip_check_adv_addr),
        smtp_alert: false,
        state: state_number(st),
        strict_mode: 0,
        track_ifp: i.track_interfaces.to_vec(),
        track_script: i.track_scripts.iter().map(|w| host.command(w)).collect(),
        version: if c.version == Version::V3 { 3 } else { 2 },
        vips: vips(i, st == State::Master),
        vipset: st == State::Master && !i.spec.addresses.is_empty(),
        vmac_ifname: if i.spec.use_vmac {
            format!("vrrp.{}", c.vrid)
        } else {
            String::new()
        },
        vrid: c.vrid,
        wantstate: state_number(st),
    }
}

/// keepalived 2.2.7's `keepalived.stats`.
pub fn stats(instances: &[Instance<'_>], baseline: &Baseline) -> String {
    let mut out = String::new();
    for i in instances {
        let s = baseline.since(i);
        let _ = write!(
            out,
            "VRRP Instance: {}\n  Advertisements:\n    Received: {}\n    Sent: {}\n  \
             Became master: {}\n  Released master: {}\n  Packet Errors:\n    Length: {}\n    \
             TTL: {}\n    Invalid Type: {}\n    Advertisement Interval: {}\n    Address List: {}\n  \
             Authentication Errors:\n    Invalid Type: {}\n    Type Mismatch: {}\n    Failure: {}\n  \
             Priority Zero:\n    Received: {}\n    Sent: {}\n",
            i.spec.config.name,
            s.advert_rcvd,
            s.advert_sent,
            s.become_master,
            s.release_master,
            s.packet_len_err,
            s.ip_ttl_err,
            s.invalid_type_rcvd,
            s.advert_interval_err,
            s.addr_list_err,
            s.invalid_authtype,
            s.authtype_mismatch,
            s.auth_failure,
            s.pri_zero_rcvd,
            s.pri_zero_sent,
        );
    }
    out
}

/// keepalived 2.2.7's `keepalived.data` after its global part, for
/// `config`, the configuration running: the GARP delay groups
/// ([`garp::data`](super::garp::data), with `garp_next`), the static
/// addresses, routes and rules as installed ([`statics::data`](super::statics::data)),
/// then the VRRP topology ([`data`]).
pub fn data_sections(
    config: &crate::Config,
    instances: &[Instance<'_>],
    garp_next: &[super::garp::NextTimes],
    host: &dyn Host,
) -> String {
    let mut out = super::garp::data(config, instances, garp_next, host);
    if let Ok(plan) = crate::convert::vrrp::plan(config) {
        out.push_str(&super::statics::data(&plan, config, true));
    }
    out + &data(instances, host)
}

/// keepalived 2.2.7's `keepalived.data`, its VRRP topology part.
pub fn data(instances: &[Instance<'_>], host: &dyn Host) -> String {
    let mut out = String::from("------< VRRP Topology >------\n");
    for i in instances {
        data_instance(&mut out, i, host);
    }
    out
}

/// The notify scripts set, in the DATA dump's order: the JSON key, the
/// DATA dump's name, the command line.
fn notify_scripts(n: &Notify) -> impl Iterator<Item = (&'static str, &'static str, &Words)> {
    [
        ("script_backup", "Backup", &n.backup),
        ("script_master", "Master", &n.master),
        ("script_fault", "Fault", &n.fault),
        ("script_stop", "Stop", &n.stop),
        ("script_deleted", "Deleted", &n.deleted),
        ("script", "Generic", &n.any),
        (
            "script_master_rx_lower_pri",
            "Master rx lower pri",
            &n.master_rx_lower_pri,
        ),
    ]
    .into_iter()
    .filter_map(|(key, what, w)| Some((key, what, w.as_ref().filter(|w| !w.is_empty())?)))
}

fn data_instance(out: &mut String, i: &Instance<'_>, host: &dyn Host) {
    let st = i.run.map_or(State::Initialize, |r| r.state);
    instance_head(out, i, st);
    instance_garp(out, &i.spec.config.garp);
    instance_adverts(out, i);
    let vips = vips(i, st == State::Master);
    let _ = writeln!(out, "   Virtual IP ({}):", vips.len());
    for v in vips {
        let _ = writeln!(out, "     {v}");
    }
    for (_, what, w) in notify_scripts(i.notify) {
        // Scripts run as this process's user unless `script_user`
        // says otherwise; keepalived prints whom they run as.
        let ids = ids_text(host.ids());
        let _ = writeln!(
            out,
            "   {what} state transition script = {}, uid:gid {ids}",
            host.command(w)
        );
    }
}

/// An instance's name, state and where it advertises.
fn instance_head(out: &mut String, i: &Instance<'_>, st: State) {
    let c = &i.spec.config;
    let version = if c.version == Version::V3 { 3 } else { 2 };
    let _ = writeln!(out, " VRRP Instance = {}", c.name);
    let _ = writeln!(out, "   VRRP Version = {version}");
    let _ = writeln!(out, "   State = {}", state_name(st));
    let _ = writeln!(out, "   Wantstate = {}", state_name(st));
    if let Some(t) = i.last_transition {
        let _ = writeln!(out, "   Last transition = {:.6}", secs_f64(t));
    }
    let _ = writeln!(out, "   Interface = {}", i.spec.interface);
    if !c.track_interface {
        let _ = writeln!(out, "   VRRP interface tracking disabled");
    }
    if c.unicast_peers.is_empty() && c.ipv6.is_none() {
        let _ = writeln!(out, "   Multicast address 224.0.0.18");
    }
}

/// An instance's gratuitous ARP settings, in seconds.
fn instance_garp(out: &mut String, garp: &vrrp::config::GarpConfig) {
    let refresh = garp.master_refresh.map_or(0, |d| d.as_secs());
    for (what, n) in [
        ("delay", garp.master_delay.as_secs()),
        ("repeat", garp.master_repeat.into()),
        ("refresh", refresh),
        ("refresh repeat", garp.refresh_repeat.into()),
        ("lower priority delay", garp.lower_prio_delay.as_secs()),
        ("lower priority repeat", garp.lower_prio_repeat.into()),
    ] {
        let _ = writeln!(out, "   Gratuitous ARP {what} = {n}");
    }
}

/// An instance's advert settings, priorities and authentication.
fn instance_adverts(out: &mut String, i: &Instance<'_>) {
    let c = &i.spec.config;
    let prio = i.run.map_or(c.priority, |r| r.priority);
    let _ = writeln!(out, "   Down timer adverts = {}", c.down_timer_adverts);
    let lower = c.lower_priority_advert == LowerPriorityAdvert::SendAdvert;
    let higher = c.higher_priority_send_advert;
    for (what, b) in [("lower", lower), ("higher", higher)] {
        let _ = writeln!(
            out,
            "   Send advert after receive {what} priority advert = {b}"
        );
    }
    let _ = writeln!(out, "   Virtual Router ID = {}", c.vrid);
    let _ = writeln!(out, "   Priority = {}", c.priority);
    let _ = writeln!(out, "   Effective priority = {prio}");
    let _ = writeln!(out, "   Total priority = {prio}");
    let _ = writeln!(out, "   Advert interval = {} sec", advert_int(i));
    let _ = writeln!(out, "   Accept = {}", say(c.accept_mode, ABLED));
    let _ = writeln!(out, "   Preempt = {}", say(c.preempt, ABLED));
    let (auth_type, pass) = auth(i);
    let auth_name = ["none", "SIMPLE_PASSWORD", "IPSEC_AH"][usize::from(auth_type.min(2))];
    let _ = writeln!(out, "   Authentication type = {auth_name}");
    if let Some(p) = pass {
        let _ = writeln!(out, "   Password = {p}");
    }
    if i.debug != 0 {
        let _ = writeln!(out, "   Debug level = {}", i.debug);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.
    use super::*;
    use crate::dump::FixedHost;
    use vrrp::mux::RouterId;

    const HOST: FixedHost = FixedHost { ids: (1000, 100) };

    const CONF: &str = "vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        10.0.0.10/24 dev eth1 label eth1:vip
        10.0.0.11
    }
    notify_master \"/no/such/notify master\"
    debug 2
}
";

    /// The router's specification and the daemon's plan of [`CONF`].
    fn planned() -> (RouterSpec, crate::convert::vrrp::InstancePlan) {
        let parsed = crate::parse_str("t.conf", CONF, &crate::Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let mut plan = crate::convert::vrrp::plan(&parsed.config).unwrap();
        let unit = plan.units.remove(0);
        let spec = unit.setup.routers.into_iter().next().unwrap();
        (spec, unit.instances.into_iter().next().unwrap())
    }

    fn running(state: State, priority: u8, counters: Counters) -> RouterSnapshot {
        RouterSnapshot {
            id: RouterId(0),
            name: "VI_1".into(),
            state,
            priority,
            counters,
            last_master: None,
        }
    }

    fn instance<'a>(
        spec: &'a RouterSpec,
        plan: &'a crate::convert::vrrp::InstancePlan,
        run: Option<&'a RouterSnapshot>,
    ) -> Instance<'a> {
        Instance {
            spec,
            run,
            last_transition: Some(UNIX_EPOCH + std::time::Duration::from_micros(1_500_000)),
            notify: &plan.notify,
            track_interfaces: &[],
            track_scripts: &[],
            debug: plan.debug,
        }
    }

    #[test]
    fn the_data_dump_has_keepalived_s_lines() {
        let (spec, plan) = planned();
        let run = running(State::Master, 140, Counters::default());
        let master = [instance(&spec, &plan, Some(&run))];
        let head = "------< VRRP Topology >------\n VRRP Instance = VI_1\n   VRRP Version = 2\n";
        let common = "   Interface = eth0\n   Multicast address 224.0.0.18\n   \
            Gratuitous ARP delay = 5\n   Gratuitous ARP repeat = 5\n   \
            Gratuitous ARP refresh = 0\n   Gratuitous ARP refresh repeat = 1\n   \
            Gratuitous ARP lower priority delay = 5\n   \
            Gratuitous ARP lower priority repeat = 5\n   Down timer adverts = 3\n   \
            Send advert after receive lower priority advert = true\n   \
            Send advert after receive higher priority advert = false\n   \
            Virtual Router ID = 51\n   Priority = 150\n";
        let tail = |prio: u8, set: &str| {
            format!(
                "   Effective priority = {prio}\n   Total priority = {prio}\n   \
                 Advert interval = 1 sec\n   Accept = enabled\n   Preempt = enabled\n   \
                 Authentication type = SIMPLE_PASSWORD\n   Password = secret\n   \
                 Debug level = 2\n   Virtual IP (2):\n     \
                 10.0.0.10/24 dev eth1 scope global label eth1:vip{set}\n     \
                 10.0.0.11 dev eth0 scope global{set}\n   \
                 Master state transition script = '/no/such/notify' 'master', uid:gid 1000:100\n"
            )
        };
        let when = "   Last transition = 1.500000\n";
        let want = format!(
            "{head}   State = MASTER\n   Wantstate = MASTER\n{when}{common}{}",
            tail(140, " set")
        );
        assert_eq!(data(&master, &HOST), want);

        // Not (yet) run by the driver: INIT at its base priority, and no
        // address is set.
        let mut idle = instance(&spec, &plan, None);
        idle.last_transition = None;
        let want = format!(
            "{head}   State = INIT\n   Wantstate = INIT\n{common}{}",
            tail(150, "")
        );
        assert_eq!(data(&[idle], &HOST), want);
    }

    #[test]
    fn stats_count_since_the_last_clear() {
        let (spec, plan) = planned();
        let mut counters = Counters::default();
        counters.adverts_received = 7;
        counters.adverts_sent = 3;
        counters.became_master = 1;
        counters.priority_zero_sent = 1;
        let before = running(State::Master, 150, counters.clone());
        let mut baseline = Baseline::default();
        baseline.clear_to(&[instance(&spec, &plan, Some(&before))]);
        counters.adverts_received = 10;
        counters.adverts_sent = 4;
        counters.released_master = 2;
        let after = running(State::Backup, 150, counters);
        let now = [instance(&spec, &plan, Some(&after))];
        let want = "VRRP Instance: VI_1\n  Advertisements:\n    Received: 3\n    Sent: 1\n  \
            Became master: 0\n  Released master: 2\n  Packet Errors:\n    Length: 0\n    \
            TTL: 0\n    Invalid Type: 0\n    Advertisement Interval: 0\n    Address List: 0\n  \
            Authentication Errors:\n    Invalid Type: 0\n    Type Mismatch: 0\n    Failure: 0\n  \
            Priority Zero:\n    Received: 0\n    Sent: 0\n";
        assert_eq!(stats(&now, &baseline), want);
        let since = baseline.since(&now[0]);
        assert_eq!((since.advert_rcvd, since.release_master), (3, 2));
        // A restarted router (counters behind the baseline) shows zero.
        let restarted = running(State::Backup, 150, Counters::default());
        let zero = baseline.since(&instance(&spec, &plan, Some(&restarted)));
        assert_eq!(zero, Stats::default());
    }

    #[test]
    fn the_json_has_keepalived_s_keys_in_name_order() {
        let (spec, plan) = planned();
        let run = running(State::Master, 150, Counters::default());
        let mut i = instance(&spec, &plan, Some(&run));
        let track = ["eth9".to_owned()];
        let scripts = [vec!["/no/chk".to_owned(), "a".to_owned()]];
        i.track_interfaces = &track;
        i.track_scripts = &scripts;
        let dumped = json(&[i], &Baseline::default(), &HOST);
        let text = serde_json::to_string(&dumped).unwrap();
        // serde_json's map sorts its keys: the order keepalived writes.
        assert_eq!(text, serde_json::to_value(&dumped).unwrap().to_string());
        let want = concat!(
            r#"[{"data":{"accept":1,"adver_int":1.0,"auth_data":"secret","auth_type":1,"#,
            r#""base_priority":150,"dont_track_primary":0,"effective_priority":150,"#,
            r#""garp_delay":5.0,"garp_lower_prio_delay":5,"garp_lower_prio_rep":5,"#,
            r#""garp_refresh":0,"garp_refresh_rep":1,"garp_rep":5,"#,
            r#""higher_prio_send_advert":0,"ifp_ifname":"eth0","iname":"VI_1","#,
            r#""last_transition":1.5,"lower_prio_no_advert":0,"master_adver_int":1.0,"#,
            r#""master_priority":0,"nopreempt":false,"notify_deleted":false,"#,
            r#""preempt_delay":0,"promote_secondaries":false,"#,
            r#""script_master":"'/no/such/notify' 'master'","skip_check_adv_addr":0,"#,
            r#""smtp_alert":false,"state":2,"strict_mode":0,"track_ifp":["eth9"],"#,
            r#""track_script":["'/no/chk' 'a'"],"version":2,"#,
            r#""vips":["10.0.0.10/24 dev eth1 scope global label eth1:vip set","#,
            r#""10.0.0.11 dev eth0 scope global set"],"vipset":true,"vmac_ifname":"","#,
            r#""vrid":51,"wantstate":2},"stats":{"addr_list_err":0,"#,
            r#""advert_interval_err":0,"advert_rcvd":0,"advert_sent":0,"auth_failure":0,"#,
            r#""authtype_mismatch":0,"become_master":0,"invalid_authtype":0,"#,
            r#""invalid_type_rcvd":0,"ip_ttl_err":0,"packet_len_err":0,"pri_zero_rcvd":0,"#,
            r#""pri_zero_sent":0,"release_master":0}}]"#
        );
        assert_eq!(text, want);
    }
}
