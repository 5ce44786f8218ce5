//! The VRRP half: the model to what a VRRP process runs: one [`Unit`] per
//! sync group or per instance outside any group, each with its driver
//! [`Setup`] and what the process itself handles (tracking, notify).
//! [`Plan::setup`] puts every unit into the one [`Setup`] a process runs
//! on one driver; a reload hands the driver the new one, which matches
//! routers by (interface, VRID) and leaves unchanged ones untouched.
//!
//! keepalived defaults filled in: priority 100 (255, the owner, for
//! `state MASTER`), advert_int 1 s, VRRP
//! version 2 (`version 3` / `vrrp_version 3` run VRRPv3 with keepalived
//! 2.2.7's rules: centisecond `advert_int`, `authentication` ignored with
//! a warning, at least one virtual address), preemption on, no authentication, GARP settings from the
//! instance, else `global_defs`, else keepalived's
//! ([`GarpConfig::default`]). Strict mode (`vrrp_strict`, `strict_mode`),
//! accept mode and keepalived's nftables firewall: see `strict.rs`.
//!
//! # Address families, as keepalived 2.2.7 has them
//! - An instance takes the family of the first keyword written that sets
//!   one: `mcast_src_ip`, `unicast_src_ip`, a `unicast_peer` entry,
//!   `native_ipv6` (IPv6) or a `virtual_ipaddress` entry; IPv4 if none
//!   does ([`is_ipv6`]).
//! - An address of the other family in `virtual_ipaddress`,
//!   `mcast_src_ip`, `unicast_src_ip` or `unicast_peer` is a configuration
//!   error that keepalived logs ("address family must match VRRP instance
//!   \[ADDR\] - ignoring", "... MUST be of the same family !!! Skipping...")
//!   before running without it, and that makes its `-t` exit 5. Here it is
//!   the same error, at its file:line, and so a refusal (`-t` and the
//!   start-up agree).
//! - `virtual_ipaddress_excluded` may mix families: its addresses are
//!   installed and announced with the others, never advertised.
//! - An IPv6 instance runs VRRPv3 whatever global_defs' `vrrp_version`
//!   says, and ignores `authentication` (the version 3 warning). An
//!   instance `version 2` on it is refused ("version 2 with IPv6": keepalived
//!   either ignores it or, when it comes before the address, runs VRRPv2
//!   over IPv6, which nothing else speaks).
//! - Its advert source is `mcast_src_ip` when given (it must be
//!   link-local, RFC 9568 section 5.1.2.1), else the interface's first
//!   link-local address; with IPv6 `unicast_peer`s, `unicast_src_ip` (or
//!   `mcast_src_ip`) may be any address of the interface (a TTL range on
//!   an IPv6 peer is refused by name). With
//!   `use_vmac` its VMAC has the IPv6 virtual MAC (00-00-5E-00-02-VRID)
//!   and carries that source. `virtual_routes` and `static_routes` take
//!   either family.
//! - An IPv4 and an IPv6 instance may share an interface and VRID, as in
//!   keepalived (the `vrrp` mux keys routers by family too).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use std::time::Duration;

use vrrp::auth::AuthConfig;
use vrrp::config::{GarpConfig, Ipv6Config, LowerPriorityAdvert, PeerTtl, Version};
use vrrp::linux::driver::{RouterSpec, Setup, SyncGroupSpec, VirtualAddress, VirtualRoute};
use vrrp::linux::{
    AddressOptions, AddressSpec, IpvlanOptions, RouteKind, RouteSpec, Scope, VmacOptions,
};

use crate::diagnostics::{Code, Diagnostic};
use crate::model::{
    self as conf, AuthType, Broadcast, GlobalDefs, IpAddress, Notify, Route, RouteType, Setting,
    State, SyncGroup, Track, VrrpInstance, VrrpScript,
};
use crate::span::Span;
use crate::Parsed;

pub use advert::{ProcessOptions, IGMP_LINK_LOCAL_REPORTS};

mod address;
mod advert;
pub(crate) mod garp;
mod ipvlan;
pub(crate) mod link_delays;
mod mcast;
pub(crate) mod multipath;
mod route_options;
mod rules;
mod source;
mod strict;
mod timer;
mod track;
mod track_group;
mod track_if;
mod vmac;

pub use track::{FileInit, TrackedFile, TrackedObject, TrackedProcess};

/// keepalived's default priority (255 for `state MASTER`, see
/// [`strict::priority`]).
const DEFAULT_PRIORITY: u8 = 100;

/// Why a configuration cannot be run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// A required keyword is missing.
    #[error("({instance}) missing {keyword}")]
    Missing {
        /// Instance name.
        instance: String,
        /// The keyword.
        keyword: &'static str,
    },
    /// A value (or a form of it) the crates cannot use.
    #[error("({instance}) {keyword} {value:?} is not supported by keepalived-lite")]
    Bad {
        /// Instance (or group / script) name.
        instance: String,
        /// The keyword.
        keyword: &'static str,
        /// The value as written.
        value: String,
    },
    /// A feature keepalived-lite does not implement yet.
    #[error("({instance}) {keyword} is not supported by keepalived-lite")]
    Unsupported {
        /// Instance name.
        instance: String,
        /// The keyword.
        keyword: &'static str,
    },
    /// keepalived itself refuses the instance (e.g. under strict mode), in
    /// its words.
    #[error("({instance}) {reason}")]
    Refused {
        /// Instance name.
        instance: String,
        /// The keyword it is about.
        keyword: &'static str,
        /// keepalived's reason.
        reason: &'static str,
    },
    /// keepalived refuses the instance in words naming a value (e.g. a
    /// virtual address).
    #[error("({instance}) {message}")]
    Conflict {
        /// Instance name.
        instance: String,
        /// The keyword it is about.
        keyword: &'static str,
        /// keepalived's words.
        message: String,
    },
    /// A name refers to nothing.
    #[error("({instance}) unknown {kind} {name}")]
    Unknown {
        /// Referring instance or group.
        instance: String,
        /// What kind of thing.
        kind: &'static str,
        /// The name.
        name: String,
    },
}

/// A tracked object with its effective weight (0 = fault when down).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    /// Interface or script name.
    pub name: String,
    /// Weight.
    pub weight: i32,
    /// `weight N reverse`: the weight applies with the opposite sign.
    pub reverse: bool,
}

/// What keepalived-lite itself does for one instance.
#[derive(Debug, Clone, PartialEq)]
pub struct InstancePlan {
    /// Instance name.
    pub name: String,
    /// Notify scripts.
    pub notify: Notify,
    /// `track_interface`.
    pub interfaces: Vec<Tracked>,
    /// `track_script`.
    pub scripts: Vec<Tracked>,
    /// `track_file` (the instance's and its sync group's).
    pub files: Vec<TrackedObject>,
    /// `track_process` (the instance's and its sync group's).
    pub processes: Vec<TrackedObject>,
    /// `debug N` (0..=4): keepalived only shows it in its data dump.
    pub debug: u8,
    /// `promote_secondaries`: set on the interface at start, reset at stop.
    pub promote_secondaries: bool,
    /// `notify_priority_changes` (the instance's, else its sync group's,
    /// else `vrrp_notify_priority_changes`): a FIFO line on every change
    /// of the effective priority.
    pub priority_changes: bool,
}

/// One sync group or lone instance.
#[derive(Debug, Clone)]
pub struct Unit {
    /// `group NAME` or `instance NAME`.
    pub key: String,
    /// What the driver runs (routers parallel to `instances`).
    pub setup: Setup,
    /// Per-router plans, in `setup.routers` order.
    pub instances: Vec<InstancePlan>,
    /// The group's notify scripts, for a sync group.
    pub group_notify: Option<Notify>,
    /// The configuration it came from.
    pub source: UnitSource,
}

/// The model pieces a unit is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitSource {
    group: Option<SyncGroup>,
    instances: Vec<VrrpInstance>,
    scripts: Vec<VrrpScript>,
}

/// Everything to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Units, in configuration order.
    pub units: Vec<Unit>,
    /// `vrrp_script`s used by some instance or group.
    pub scripts: Vec<VrrpScript>,
    /// `track_file` blocks used by some instance or group.
    pub track_files: Vec<TrackedFile>,
    /// `vrrp_track_process` blocks used by some instance or group.
    pub track_processes: Vec<TrackedProcess>,
    /// `static_ipaddress`, with the interface name to resolve.
    pub static_addresses: Vec<(String, VirtualAddress)>,
    /// `static_routes`.
    pub static_routes: Vec<VirtualRoute>,
    /// `static_rules`, installed at start and removed at stop.
    pub static_rules: Vec<vrrp::linux::RuleSpec>,
    /// keepalived's nftables firewall, if any router needs it or
    /// `nftables` asks for it ([`Setup::firewall`]).
    pub firewall: Option<vrrp::linux::NftConfig>,
    /// GARP/NA spacing per interface ([`Setup::garp_pacing`]).
    pub garp_pacing: vrrp::linux::driver::GarpPacing,
    /// `vrrp_startup_delay`, `log_unknown_vrids`, `disable_local_igmp`.
    pub process: ProcessOptions,
    /// `interface_up_down_delays`, as written ([`Setup::link_delays`]).
    pub link_delays: Vec<vrrp::linux::driver::LinkDelay>,
    /// keepalived's log lines about the configuration that are not
    /// configuration errors (its `-t` does not show them), in order: the
    /// daemon logs them when it starts or reloads.
    pub log: Vec<String>,
}

/// Builds the plan of a whole configuration, or the first reason it
/// cannot run. [`crate::convert::convert`] reports every reason with its
/// file:line, and refuses the keywords this plan does not consume.
pub fn plan(c: &crate::Config) -> Result<Plan, PlanError> {
    let (plan, errors) = plan_all(c);
    match errors.into_iter().next() {
        Some(e) => Err(e),
        None => Ok(plan),
    }
}

/// The VRRP half of [`crate::convert::convert`] (after its keyword
/// audit): the plan (meaningful only without errors in `out`) and every
/// refusal.
pub(crate) fn convert(p: &Parsed, out: &mut Vec<Diagnostic>) -> Option<Plan> {
    let (plan, errors) = plan_all(&p.config);
    out.extend(errors.iter().map(|e| diagnostic(p, e)));
    out.extend(link_delays::read(&p.config.other, &mut Vec::new()).errors);
    address::notes(&p.config, out);
    family_errors(p, out);
    v3_notes(p, out);
    strict::notes(p, out);
    track_if::notes(p, out);
    rules::notes(p, out);
    track_group::notes(p, out);
    track::notes(p, out);
    Some(plan)
}

/// keepalived 2.2.7's errors for the `static_rules` and `virtual_rules`
/// whose `dev`, `iif` or `oif` names an interface `exists` says the host
/// lacks ("WARNING - interface NAME for rule doesn't exist" at the rule,
/// then "Non-existent interface specified in configuration"): its `-t`
/// exits 5 and its VRRP process stops at start-up. None with
/// `dynamic_interfaces`, which makes keepalived install such rules (as
/// keepalived-lite's conversion does). They are refusals
/// ([`Code::MissingInterface`] errors): the caller asks the host. They are
/// every line keepalived prints for such a rule (it reads no further), so
/// they replace the conversion's [`Code::KeepalivedError`]s at its line.
pub fn missing_rule_interfaces(p: &Parsed, exists: &dyn Fn(&str) -> bool) -> Vec<Diagnostic> {
    let g = &p.config.global_defs;
    if g.other.iter().any(|s| s.keyword == "dynamic_interfaces") {
        return Vec::new();
    }
    rules::missing_interfaces(p, exists)
}

/// A plan error as a diagnostic at the keyword it is about.
fn diagnostic(p: &Parsed, e: &PlanError) -> Diagnostic {
    let (owner, keyword, code) = match e {
        PlanError::Missing { instance, keyword } => (instance, *keyword, Code::Missing),
        PlanError::Bad {
            instance, keyword, ..
        } => (instance, *keyword, Code::InvalidValue),
        PlanError::Unsupported { instance, keyword } => (instance, *keyword, Code::Unsupported),
        PlanError::Refused {
            instance, keyword, ..
        }
        | PlanError::Conflict {
            instance, keyword, ..
        } => (instance, *keyword, Code::Conflict),
        PlanError::Unknown { instance, kind, .. } => {
            let key = if matches!(*kind, "track_file" | "track_process") {
                kind
            } else {
                "group"
            };
            (instance, key, Code::UnknownReference)
        }
    };
    Diagnostic::error(code, span_of(p, owner, keyword), e.to_string())
}

/// Where the keyword a plan error names was written.
fn span_of(p: &Parsed, owner: &str, keyword: &str) -> Span {
    let c = &p.config;
    let key = match keyword {
        "address" | "brd" | "scope" | "label" | "virtual_ipaddress option" => "virtual_ipaddress",
        "version 2 with IPv6" => "version",
        "unicast_peer min_ttl/max_ttl with IPv6" => "unicast_peer",
        "route" if owner == "static_routes" => "static_routes",
        "route" => "virtual_routes",
        "rule" | "rule tunnel-id" => "virtual_rules",
        "auth_type" => "authentication",
        k if k.starts_with("use_ipvlan") => "use_ipvlan",
        k => k,
    };
    if matches!(
        key,
        "track_file"
            | "track_process"
            | "garp_extra_if"
            | "vmac_garp_intvl"
            | "old_unicast_checksum"
            | "track_src_ip"
            | "use_ipvlan"
    ) {
        // Kept verbatim by the model: the setting has its span.
        let other = (c
            .vrrp_instances
            .iter()
            .filter(|i| i.name == owner)
            .map(|i| &i.other))
        .chain(
            c.vrrp_sync_groups
                .iter()
                .filter(|g| g.name == owner)
                .map(|g| &g.other),
        );
        if let Some(s) = other.flatten().find(|s| s.keyword == key) {
            return s.span;
        }
    }
    if keyword == "track_group" {
        let named =
            |s: &&Setting| s.keyword == keyword && s.args.first().is_some_and(|a| a == owner);
        if let Some(s) = c.other.iter().rev().find(named) {
            return s.span;
        }
    }
    if owner == "global_defs" {
        if let Some(s) = c.global_defs.other.iter().rev().find(|s| s.keyword == key) {
            return s.span;
        }
    }
    if let Some(i) = c.vrrp_instances.iter().position(|i| i.name == owner) {
        let sp = p.spans.instances.get(i);
        return super::key_span(sp, key);
    }
    if let Some(g) = c.vrrp_sync_groups.iter().position(|g| g.name == owner) {
        return super::key_span(p.spans.groups.get(g), key);
    }
    if let Some(s) = c.vrrp_scripts.iter().position(|s| s.name == owner) {
        return super::key_span(p.spans.scripts.get(s), key);
    }
    if let Some(s) = garp::span(c, owner, keyword) {
        return s;
    }
    if let Some(s) = link_delays::span(c, owner) {
        return s;
    }
    // A top-level track_file or vrrp_track_process block: its keyword.
    let block =
        (c.other.iter()).find(|s| track::is_block(s) && s.args.first().is_some_and(|a| a == owner));
    if let Some(b) = block {
        let inner = b.block.iter().flatten().find(|s| s.keyword == key);
        return inner.map_or(b.span, |s| s.span);
    }
    super::key_span(Some(&p.spans.top), owner)
}

/// The plan of every unit that can run, and why the others cannot.
fn plan_all(c: &crate::Config) -> (Plan, Vec<PlanError>) {
    let mut units = Vec::new();
    let mut errors = Vec::new();
    let blocks = track::blocks(&c.other, &mut errors);
    let mut grouped: Vec<&str> = Vec::new();
    for g in &c.vrrp_sync_groups {
        let members = g
            .group
            .iter()
            .map(|name| {
                c.vrrp_instances
                    .iter()
                    .find(|i| &i.name == name)
                    .ok_or_else(|| PlanError::Unknown {
                        instance: g.name.clone(),
                        kind: "vrrp_instance",
                        name: name.clone(),
                    })
            })
            .collect::<Result<Vec<_>, _>>();
        grouped.extend(g.group.iter().map(String::as_str));
        match members.and_then(|m| unit(c, &blocks, Some(g), &m)) {
            Ok(u) => units.push(u),
            Err(e) => errors.push(e),
        }
    }
    for i in &c.vrrp_instances {
        if !grouped.contains(&i.name.as_str()) {
            match unit(c, &blocks, None, &[i]) {
                Ok(u) => units.push(u),
                Err(e) => errors.push(e),
            }
        }
    }
    let mut scripts: Vec<VrrpScript> = Vec::new();
    for u in &units {
        for s in &u.source.scripts {
            if !scripts.iter().any(|x| x.name == s.name) {
                scripts.push(s.clone());
            }
        }
    }
    let used = |name: &str, f: fn(&InstancePlan) -> &Vec<TrackedObject>| {
        (units.iter().flat_map(|u| &u.instances)).any(|i| f(i).iter().any(|t| t.name == name))
    };
    let track_files = (blocks.files.iter())
        .filter(|f| used(&f.name, |i| &i.files))
        .cloned()
        .collect();
    let track_processes = (blocks.processes.iter())
        .filter(|p| used(&p.spec.name, |i| &i.processes))
        .cloned()
        .collect();
    let mut static_addresses = Vec::new();
    let default_dev = advert::default_interface(&c.global_defs);
    for a in &c.static_ipaddress {
        // keepalived: the `default_interface`, else eth0.
        let dev = a.dev.clone().unwrap_or_else(|| default_dev.clone());
        let v4 = |d| match a.address.addr() {
            IpAddr::V4(_) => Ok((d, address("static_ipaddress", a)?)),
            v6 => Err(PlanError::Bad {
                instance: "static_ipaddress".into(),
                keyword: "address",
                value: v6.to_string(),
            }),
        };
        match v4(dev) {
            Ok(x) => static_addresses.push(x),
            Err(e) => errors.push(e),
        }
    }
    let mut static_routes = Vec::new();
    for w in &c.static_routes {
        match route("static_routes", w) {
            Ok(r) => static_routes.push(r),
            Err(e) => errors.push(e),
        }
    }
    let static_rules = rules::static_rules(c).unwrap_or_else(|e| {
        errors.push(e);
        Vec::new()
    });
    let configs = units.iter().flat_map(|u| &u.setup.routers);
    let firewall = strict::firewall(&c.global_defs, configs).unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let (garp_pacing, garp_errors) = garp::pacing(&c.global_defs, &c.other);
    errors.extend(garp_errors);
    let delays = link_delays::read(&c.other, &mut errors);
    let groups = track_group::groups(&c.other, &mut errors);
    let tracks = track_group::static_tracks(c, &groups, &default_dev);
    track_group::apply(&mut units, &tracks);
    let process = advert::process_options(&c.global_defs).unwrap_or_else(|e| {
        errors.push(e);
        ProcessOptions::default()
    });
    let plan = Plan {
        garp_pacing,
        units,
        scripts,
        track_files,
        track_processes,
        static_addresses,
        static_routes,
        static_rules,
        firewall,
        process,
        link_delays: delays.delays,
        log: delays.log,
    };
    (plan, errors)
}

fn unit(
    c: &crate::Config,
    blocks: &track::Blocks,
    group: Option<&SyncGroup>,
    members: &[&VrrpInstance],
) -> Result<Unit, PlanError> {
    // Sized exactly: a lone instance's unit would keep room for four
    // routers (1.4 KiB of slack per instance at start-up).
    let mut setup = Setup {
        routers: Vec::with_capacity(members.len()),
        ..Setup::default()
    };
    let mut instances = Vec::with_capacity(members.len());
    let mut script_names: Vec<String> = Vec::new();
    let mut owner_member = false;
    for i in members {
        let mut spec = router(&c.global_defs, i)?;
        if source::track_src_ip_quirk(i) {
            setup.track_src_ip_quirk.push(i.name.clone());
        }
        spec.rules = rules::instance_rules(c, i)?;
        let owner = spec.config.priority == 255;
        owner_member |= owner;
        setup.routers.push(spec);
        let mut plan = instance_plan(c, blocks, i)?;
        // A member's own weights count only with the group's
        // `sync_group_tracking_weight`.
        let unweighted = group.is_some_and(|g| !track::group_weights(g));
        if unweighted {
            track::member_weights(&plan)?;
        }
        if (unweighted || owner) && plan.files.iter().any(|t| t.weight != 0) {
            // keepalived 2.2.7 drops the weight (or the file) with a
            // configuration error.
            return Err(PlanError::Refused {
                instance: i.name.clone(),
                keyword: "track_file",
                reason: "ignoring weight from tracked file due to SYNC group or address owner; \
                         specify weight 0",
            });
        }
        if let Some(g) = group {
            // A group's tracked objects apply to every member.
            for t in &g.track_interface {
                let t = track::interface(&g.name, t)?;
                track_if::merge_group(i, &mut plan.interfaces, t);
            }
            for t in &g.track_script {
                plan.scripts.push(tracked_script(c, &g.name, t)?);
            }
            let (files, processes) = track_lists(blocks, &g.name, &g.other)?;
            merge_group_tracks(&mut plan.files, files, true);
            merge_group_tracks(&mut plan.processes, processes, false);
        }
        script_names.extend(plan.scripts.iter().map(|t| t.name.clone()));
        instances.push(plan);
    }
    if let Some(g) = group {
        let (files, processes) = track_lists(blocks, &g.name, &g.other)?;
        let weighted = |v: &[TrackedObject]| v.iter().any(|t| t.weight != 0);
        if owner_member && (weighted(&files) || weighted(&processes)) {
            return Err(PlanError::Refused {
                instance: g.name.clone(),
                keyword: if weighted(&files) {
                    "track_file"
                } else {
                    "track_process"
                },
                reason: "cannot have a weighted tracked file or process with a member having \
                         priority 255",
            });
        }
        setup.sync_groups.push(SyncGroupSpec {
            name: g.name.clone(),
            members: (0..members.len()).collect(),
        });
    }
    let scripts = c
        .vrrp_scripts
        .iter()
        .filter(|s| script_names.contains(&s.name))
        .cloned()
        .collect();
    let key = match group {
        Some(g) => format!("group {}", g.name),
        None => format!(
            "instance {}",
            members.first().map_or("", |i| i.name.as_str())
        ),
    };
    Ok(Unit {
        key,
        setup,
        group_notify: group.map(|g| g.notify.clone()),
        source: UnitSource {
            group: group.cloned(),
            instances: members.iter().map(|&i| i.clone()).collect(),
            scripts,
        },
        instances,
    })
}

/// The `track_file` and `track_process` lists among `other`.
fn track_lists(
    blocks: &track::Blocks,
    owner: &str,
    other: &[Setting],
) -> Result<(Vec<TrackedObject>, Vec<TrackedObject>), PlanError> {
    let file = |n: &str| {
        (blocks.files.iter())
            .find(|f| f.name == n)
            .map(|f| (f.weight, f.reverse))
    };
    let process = |n: &str| {
        (blocks.processes.iter())
            .find(|p| p.spec.name == n)
            .map(|p| (p.weight, p.reverse))
    };
    Ok((
        track::list(owner, "track_file", other, &file)?,
        track::list(owner, "track_process", other, &process)?,
    ))
}

/// A sync group's tracked files or processes added to a member's. One the
/// member tracks itself takes the group's weight unless it is unweighted
/// (keepalived 2.2.7; a file takes the group's `reverse` too, a process
/// keeps its own).
fn merge_group_tracks(own: &mut Vec<TrackedObject>, group: Vec<TrackedObject>, file: bool) {
    for t in group {
        match own.iter_mut().find(|o| o.name == t.name) {
            Some(o) if o.weight != 0 => {
                o.weight = t.weight;
                if file {
                    o.reverse = t.reverse;
                }
            }
            Some(_) => {}
            None => own.push(t),
        }
    }
}

fn instance_plan(
    c: &crate::Config,
    blocks: &track::Blocks,
    i: &VrrpInstance,
) -> Result<InstancePlan, PlanError> {
    // The VRRP interface itself is watched by the driver (down = FAULT).
    let interfaces = (i.track_interface.iter())
        .filter(|t| track_if::counts(i, &t.name))
        .map(|t| track::interface(&i.name, t))
        .collect::<Result<_, _>>()?;
    let scripts = i
        .track_script
        .iter()
        .map(|t| tracked_script(c, &i.name, t))
        .collect::<Result<_, _>>()?;
    let (files, processes) = track_lists(blocks, &i.name, &i.other)?;
    Ok(InstancePlan {
        name: i.name.clone(),
        notify: i.notify.clone(),
        interfaces,
        scripts,
        files,
        processes,
        debug: (i.debug.as_ref().and_then(|d| d.value)).map_or(0, |v| v.min(4) as u8),
        promote_secondaries: promote_secondaries(i)?,
        priority_changes: priority_changes(c, i)?,
    })
}

/// `notify_priority_changes [BOOL]` as keepalived 2.2.7 resolves it: the
/// instance's own, else its sync group's, else the global default (off).
fn priority_changes(c: &crate::Config, i: &VrrpInstance) -> Result<bool, PlanError> {
    let group = (c.vrrp_sync_groups.iter()).find(|g| g.group.contains(&i.name));
    let lists = [
        (&i.other[..], "notify_priority_changes"),
        (
            group.map_or(&[][..], |g| &g.other[..]),
            "notify_priority_changes",
        ),
        (&c.global_defs.other[..], "vrrp_notify_priority_changes"),
    ];
    for (list, keyword) in lists {
        let Some(s) = list.iter().rev().find(|s| s.keyword == keyword) else {
            continue;
        };
        return match s.args.first().map(String::as_str) {
            None | Some("on" | "true" | "yes") => Ok(true),
            Some("off" | "false" | "no") => Ok(false),
            Some(v) => Err(PlanError::Bad {
                instance: i.name.clone(),
                keyword,
                value: v.to_owned(),
            }),
        };
    }
    Ok(false)
}

/// keepalived 2.2.7 reports `promote_secondaries` with a VMAC as an error
/// (a VMAC always has it) and ignores it.
fn promote_secondaries(i: &VrrpInstance) -> Result<bool, PlanError> {
    let on = i.other.iter().any(|s| s.keyword == "promote_secondaries");
    if on && i.use_vmac.is_some() {
        return Err(PlanError::Refused {
            instance: i.name.clone(),
            keyword: "promote_secondaries",
            reason: "promote_secondaries is automatically set for vmacs - ignoring",
        });
    }
    Ok(on)
}

fn tracked_script(c: &crate::Config, owner: &str, t: &Track) -> Result<Tracked, PlanError> {
    let script = c
        .vrrp_scripts
        .iter()
        .find(|s| s.name == t.name)
        .ok_or_else(|| PlanError::Unknown {
            instance: owner.to_owned(),
            kind: "vrrp_script",
            name: t.name.clone(),
        })?;
    let reverse = track::entry_reverse(owner, "track_script", t, script.weight_reverse)?;
    Ok(Tracked {
        name: t.name.clone(),
        weight: t.weight.or(script.weight).unwrap_or(0),
        reverse,
    })
}

fn router(g: &GlobalDefs, i: &VrrpInstance) -> Result<RouterSpec, PlanError> {
    let name = i.name.as_str();
    let missing = |keyword| PlanError::Missing {
        instance: name.to_owned(),
        keyword,
    };
    let bad = |keyword, value: String| PlanError::Bad {
        instance: name.to_owned(),
        keyword,
        value,
    };
    let unsupported = |keyword| PlanError::Unsupported {
        instance: name.to_owned(),
        keyword,
    };
    let interface = i.interface.clone().ok_or_else(|| missing("interface"))?;
    let vrid = i
        .virtual_router_id
        .ok_or_else(|| missing("virtual_router_id"))?;
    let priority = strict::priority(i);
    let strict = strict::is_strict(g, i)?;
    let ipv6 = is_ipv6(i);
    // Addresses of the other family are errors reported by
    // `family_errors`; the plan leaves them out, as keepalived does.
    let ours = |a: &IpAddr| a.is_ipv6() == ipv6;
    let mut config = vrrp::Config::new(name, vrid, priority, Ipv4Addr::UNSPECIFIED);
    if ipv6 {
        config.ipv6 = Some(ipv6_side(i).map_err(|k| match k {
            "mcast_src_ip" => bad(k, i.mcast_src_ip.map(|a| a.to_string()).unwrap_or_default()),
            "unicast_src_ip" => bad(
                k,
                i.unicast_src_ip.map(|a| a.to_string()).unwrap_or_default(),
            ),
            k => unsupported(k),
        })?);
    }
    if let Some(IpAddr::V4(a)) = i.mcast_src_ip.map(|a| *a) {
        config.primary_ip = a;
    }
    if let Some(IpAddr::V4(a)) = i.unicast_src_ip.map(|a| *a) {
        config.unicast_src_ip = Some(a);
    }
    for peer in i.unicast_peer.iter().filter(|p| ours(&p.address)) {
        let IpAddr::V4(addr) = *peer.address else {
            continue; // refused by `ipv6_side`
        };
        config.unicast_peers.push(addr);
        if peer.min_ttl.is_some() || peer.max_ttl.is_some() {
            config.unicast_peer_ttl.push(PeerTtl {
                peer: addr,
                min_ttl: peer.min_ttl.unwrap_or(0),
                max_ttl: peer.max_ttl.unwrap_or(255),
            });
        }
    }
    if ipv6 && i.version == Some(2) {
        return Err(unsupported("version 2 with IPv6"));
    }
    config.version = version(g, i);
    if let Some(a) = i.advert_int {
        let bad = || bad("advert_int", a.as_secs_f64().to_string());
        match config.version {
            Version::V3 => config.advert_interval_centis = centiseconds(*a).ok_or_else(bad)?,
            // VRRP version 2 carries whole seconds.
            _ => match u8::try_from(a.as_secs()).ok().filter(|s| *s >= 1) {
                Some(s) if a.subsec_nanos() == 0 => config.advert_interval_secs = s,
                _ => return Err(bad()),
            },
        }
    }
    if config.version == Version::V3 && i.virtual_ipaddress.is_empty() {
        // keepalived: "at least one is required" under version 3.
        return Err(missing("virtual_ipaddress"));
    }
    // keepalived ignores `authentication` under version 3 (a warning,
    // see `v3_notes`).
    if let Some(auth) = i
        .authentication
        .as_ref()
        .filter(|_| config.version == Version::V2)
    {
        let pass = auth.auth_pass.as_deref().unwrap_or("");
        config.authentication = match auth.auth_type {
            Some(AuthType::Pass) => AuthConfig::from_keepalived("PASS", pass),
            Some(AuthType::Ah) => AuthConfig::from_keepalived("AH", pass),
            None => Ok(AuthConfig::None),
        }
        .map_err(|_| bad("auth_type", String::new()))?;
    }
    config.initial_master = i.state == Some(State::Master);
    config.initial_backup = i.state == Some(State::Backup);
    config.preempt = !i.nopreempt;
    flags(g, i, &mut config).map_err(|(k, v)| bad(k, v))?;
    config.old_unicast_checksum = advert::old_unicast_checksum(i, &config)?;
    mcast::apply(g, i, &mut config).map_err(|(k, v)| bad(k, v))?;
    if let Some(d) = i.preempt_delay {
        config.preempt_delay = *d;
    }
    config.garp = garp(g, i, strict).map_err(|(k, v)| bad(k, v))?;
    strict::apply(i, strict, &mut config)?;
    let ipvlan = ipvlan::options(i, ipv6)?;
    // keepalived sends from the ipvlan's address unless told otherwise.
    match ipvlan.as_ref().and_then(|o| o.0.address) {
        Some((IpAddr::V4(a), _)) if config.primary_ip.is_unspecified() => config.primary_ip = a,
        Some((IpAddr::V6(a), _)) => {
            let v6 = config.ipv6.as_mut();
            if let Some(v6) = v6.filter(|v6| v6.link_local.is_unspecified()) {
                v6.link_local = a;
                // keepalived 2.2.7 multicasts from it even if global.
                v6.global_source = true;
            }
        }
        _ => {}
    }
    let use_vmac = i.use_vmac.is_some() || ipvlan.is_some();
    // keepalived 2.2.7 leaves the virtual addresses of an ipvlan router
    // where they would be without it (seen in tests/vm_vrrp.rs).
    let on_ipvlan = ipvlan.is_some();
    let place = |a: &IpAddress| {
        address(name, a).map(|v| {
            let v = vmac_placed(v, &interface, ipv6, i.use_vmac.is_some());
            off_ipvlan(v, &interface, on_ipvlan)
        })
    };
    let addresses = (i.virtual_ipaddress.iter())
        .filter(|a| ours(&a.address.addr()))
        .map(place)
        .collect::<Result<Vec<_>, _>>()?;
    let excluded = (i.virtual_ipaddress_excluded.iter())
        .map(place)
        .collect::<Result<Vec<_>, _>>()?;
    let routes = i
        .virtual_routes
        .iter()
        .map(|w| route(name, w))
        .collect::<Result<Vec<_>, _>>()?;
    config.track_interface = !i.dont_track_primary;
    let by_name = |a: &&VirtualAddress| {
        is_link_local6(a.addr) && (a.no_track || a.dev.as_deref().is_none_or(|d| d == interface))
    };
    let by_index = g.other.iter().any(|s| s.keyword == "nftables_ifindex");
    if i.dont_track_primary
        && !config.accepts_vip_traffic()
        && !by_index
        && addresses.iter().chain(&excluded).any(|a| by_name(&a))
    {
        // keepalived filters these by interface name (a set of its own).
        return Err(unsupported(
            "dont_track_primary with a filtered IPv6 link-local address (without nftables_ifindex)",
        ));
    }
    // `garp_extra_if`: addresses off the interface the router sends on.
    let all_addrs = || addresses.iter().chain(&excluded);
    let elsewhere = |a: &&VirtualAddress| a.dev.as_ref().is_some_and(|d| *d != interface);
    let others = all_addrs().any(|a| use_vmac && a.dev.is_some() || elsewhere(&a));
    // `use_vmac_addr`: the addresses off the interface are on VMACs.
    let own = vmac::own_addresses(i, &interface, ipv6)?;
    let addr_vmacs = !own.is_empty()
        || i.other.iter().any(|s| s.keyword == "use_vmac_addr")
            && all_addrs().any(|a| a.addr.is_ipv6() != ipv6 || elsewhere(&a));
    config.garp_extra_if = garp::extra_if(g, i, others, addr_vmacs)?;
    Ok(RouterSpec {
        config,
        interface,
        addresses,
        excluded,
        routes,
        // Filled by `unit`: their numbering depends on the whole file.
        rules: Vec::new(),
        use_vmac,
        vmac: VmacOptions {
            own,
            ..with_ipvlan(vmac::options(g, i, strict)?, ipvlan)
        },
    })
}

/// An address of an ipvlan router that names no interface goes on the
/// router's interface, not on the ipvlan the driver sends from.
fn off_ipvlan(mut a: VirtualAddress, interface: &str, ipvlan: bool) -> VirtualAddress {
    if ipvlan && a.dev.is_none() {
        a.dev = Some(interface.to_owned());
    }
    a
}

/// The VMAC options of an instance with `use_ipvlan`: its ipvlan, named
/// by it.
fn with_ipvlan(
    mut vmac: VmacOptions,
    ipvlan: Option<(IpvlanOptions, Option<String>)>,
) -> VmacOptions {
    if let Some((options, name)) = ipvlan {
        vmac.name = name;
        vmac.ipvlan = Some(options);
    }
    vmac
}

fn is_link_local6(a: IpAddr) -> bool {
    matches!(a, IpAddr::V6(v) if v.segments()[0] & 0xffc0 == 0xfe80)
}

/// Where keepalived 2.2.7 puts an address of an instance with a VMAC: on
/// the VMAC (the driver's default, `dev: None`) when it names no
/// interface or the instance's own and is of the instance's family; on
/// the instance's interface when it is of the other family. Without a
/// VMAC, where it says.
fn vmac_placed(
    mut a: VirtualAddress,
    interface: &str,
    ipv6: bool,
    use_vmac: bool,
) -> VirtualAddress {
    if !use_vmac || a.dev.as_deref().is_some_and(|d| d != interface) {
        return a;
    }
    a.dev = (a.addr.is_ipv6() != ipv6).then(|| interface.to_owned());
    a
}

/// The IPv6 side of an IPv6 instance: its unicast peers, and its source:
/// `unicast_src_ip`, else `mcast_src_ip` (keepalived keeps one source
/// address for both), else left to the driver (the interface's first
/// link-local address). Without peers the source must be link-local. The
/// keyword that cannot be run, if any.
fn ipv6_side(i: &VrrpInstance) -> Result<Ipv6Config, &'static str> {
    let mut peers = Vec::new();
    for p in &i.unicast_peer {
        if let IpAddr::V6(a) = *p.address {
            if p.min_ttl.is_some() || p.max_ttl.is_some() {
                return Err("unicast_peer min_ttl/max_ttl with IPv6");
            }
            peers.push(a);
        }
    }
    let v6 = |a: Option<crate::span::Spanned<IpAddr>>| match a.map(|a| *a) {
        Some(IpAddr::V6(a)) => Some(a),
        _ => None,
    };
    let (source, keyword) = match (v6(i.unicast_src_ip), v6(i.mcast_src_ip)) {
        (Some(a), _) => (a, "unicast_src_ip"),
        (None, Some(a)) => (a, "mcast_src_ip"),
        (None, None) => (Ipv6Addr::UNSPECIFIED, ""),
    };
    if peers.is_empty() && !source.is_unspecified() && !vrrp::wire::v3::is_link_local(source) {
        return Err(keyword);
    }
    let mut side = Ipv6Config::new(source);
    side.unicast_peers = peers;
    Ok(side)
}

/// True if the instance is IPv6, as keepalived 2.2.7 decides: the first
/// keyword written that sets a family (see the module documentation).
pub fn is_ipv6(i: &VrrpInstance) -> bool {
    family_setter(i).is_some_and(|(_, v6)| v6)
}

/// Where the instance's family was set, and whether it is IPv6.
fn family_setter(i: &VrrpInstance) -> Option<(Span, bool)> {
    let ip = |a: &crate::span::Spanned<IpAddr>| (a.span, a.value.is_ipv6());
    let vip = |a: &IpAddress| (a.address.span, a.address.addr().is_ipv6());
    let native = (i.other.iter())
        .filter(|s| s.keyword == "native_ipv6")
        .map(|s| (s.span, true));
    let ipvlan = (i.other.iter())
        .filter(|s| s.keyword == "use_ipvlan")
        .filter_map(|s| Some((s.span, ipvlan::family_address(s)?.is_ipv6())));
    (i.mcast_src_ip.iter().map(ip))
        .chain(i.unicast_src_ip.iter().map(ip))
        .chain(i.unicast_peer.first().map(|p| ip(&p.address)))
        .chain(i.virtual_ipaddress.first().map(vip))
        .chain(native)
        .chain(ipvlan)
        .min_by_key(|(s, _)| (s.file, s.line, s.col))
}

/// keepalived's configuration errors for addresses of the other family
/// than the instance's: each is ignored there, refused here.
fn family_errors(p: &Parsed, out: &mut Vec<Diagnostic>) {
    for i in &p.config.vrrp_instances {
        let v6 = is_ipv6(i);
        let name = &i.name;
        let mut err = |span, msg: String| out.push(Diagnostic::error(Code::Conflict, span, msg));
        // The parser already reports IPv4 entries after an IPv6 first one.
        let first_v6 = (i.virtual_ipaddress.first()).is_some_and(|a| a.address.addr().is_ipv6());
        let reported = |a: &&IpAddress| first_v6 && !a.address.addr().is_ipv6();
        let wrong = |a: &&IpAddress| a.address.addr().is_ipv6() != v6;
        for a in (i.virtual_ipaddress.iter())
            .filter(wrong)
            .filter(|a| !reported(a))
        {
            // As written: a host address without its prefix length.
            let net = a.address.value;
            let written = match net.prefix_len() == net.max_prefix_len() {
                true => net.addr().to_string(),
                false => net.to_string(),
            };
            let msg =
                format!("({name}): address family must match VRRP instance [{written}] - ignoring");
            err(a.address.span, msg);
        }
        let sources = [("src", &i.mcast_src_ip), ("src", &i.unicast_src_ip)];
        let peers = i.unicast_peer.iter().map(|p| ("unicast peer", &p.address));
        let singles = sources
            .into_iter()
            .filter_map(|(k, a)| Some((k, a.as_ref()?)));
        for (what, a) in singles.chain(peers).filter(|(_, a)| a.is_ipv6() != v6) {
            let msg = format!(
                "Configuration error: VRRP instance[{name}] and {what} address[{}] MUST be of \
                 the same family !!! Skipping...",
                a.value
            );
            err(a.span, msg);
        }
    }
}

/// The VRRP version of an instance: 3 for IPv6, else its `version`, else
/// global_defs' `vrrp_version`, else 2 (keepalived's default for IPv4).
fn version(g: &GlobalDefs, i: &VrrpInstance) -> Version {
    if is_ipv6(i) {
        return Version::V3;
    }
    match i.version.or(g.vrrp_version) {
        Some(3) => Version::V3,
        _ => Version::V2,
    }
}

/// A VRRPv3 `advert_int` in centiseconds as keepalived 2.2.7 takes it:
/// 10 ms to 255 s are read, rounded to the nearest 10 ms and capped at
/// 40.95 s (the 12-bit field); anything else keepalived ignores, and we
/// refuse (`None`).
fn centiseconds(a: Duration) -> Option<u16> {
    if a < Duration::from_millis(10) || a > Duration::from_secs(255) {
        return None;
    }
    let centis = (a.as_micros() + 5_000) / 10_000;
    Some(u16::try_from(centis).map_or(MAX_CENTIS, |c| c.min(MAX_CENTIS)))
}

/// The largest VRRPv3 Max Advertise Interval (12 bits of centiseconds).
const MAX_CENTIS: u16 = 4095;

/// keepalived's warnings for VRRPv3 instances: an `authentication` block
/// is ignored, and an `advert_int` that is not a whole number of 10 ms is
/// rounded (or capped at 40.95 s).
fn v3_notes(p: &Parsed, out: &mut Vec<Diagnostic>) {
    let g = &p.config.global_defs;
    for (i, sp) in p.config.vrrp_instances.iter().zip(&p.spans.instances) {
        if version(g, i) != Version::V3 {
            continue;
        }
        let name = &i.name;
        if i.authentication.is_some() {
            let msg = format!("({name}) authentication is ignored under VRRP version 3");
            let span = super::key_span(Some(sp), "authentication");
            out.push(Diagnostic::warning(Code::Ignored, span, msg));
        }
        let Some(a) = i.advert_int else { continue };
        let Some(c) = centiseconds(*a) else { continue };
        if Duration::from_millis(u64::from(c) * 10) != *a {
            let msg = format!(
                "({name}) VRRPv3 advert_int {}s taken as {}.{:02}s (units of 10 ms, at most 40.95s)",
                a.as_secs_f64(),
                c / 100,
                c % 100
            );
            let span = super::key_span(Some(sp), "advert_int");
            out.push(Diagnostic::warning(Code::Ignored, span, msg));
        }
    }
}

/// The on/off keywords of an instance, falling back to their
/// `global_defs` forms (`vrrp_` prefixed) where keepalived has one.
fn flags(
    g: &GlobalDefs,
    i: &VrrpInstance,
    config: &mut vrrp::Config,
) -> Result<(), (&'static str, String)> {
    let find = |list: &[Setting], k: &str| list.iter().rev().find(|s| s.keyword == k).cloned();
    let on =
        |k: &'static str, global: Option<&str>| -> Result<Option<bool>, (&'static str, String)> {
            let s = find(&i.other, k).or_else(|| global.and_then(|gk| find(&g.other, gk)));
            match s.as_ref().map(|s| s.args.first().map(String::as_str)) {
                None => Ok(None),
                Some(None | Some("on" | "true" | "yes")) => Ok(Some(true)),
                Some(Some("off" | "false" | "no")) => Ok(Some(false)),
                Some(Some(v)) => Err((k, v.to_owned())),
            }
        };
    if let Some(b) = on("check_unicast_src", Some("vrrp_check_unicast_src"))? {
        config.check_unicast_src = b;
    }
    if let Some(b) = on(
        "higher_prio_send_advert",
        Some("vrrp_higher_prio_send_advert"),
    )? {
        config.higher_priority_send_advert = b;
    }
    if let Some(b) = on("lower_prio_no_advert", Some("vrrp_lower_prio_no_advert"))? {
        config.lower_priority_advert = if b {
            LowerPriorityAdvert::Discard
        } else {
            LowerPriorityAdvert::SendAdvert
        };
    }
    if let Some(b) = on("unicast_fault_no_peer", None)? {
        config.unicast_fault_no_peer = b;
    }
    if let Some(b) = on("preempt", None)? {
        config.preempt = b;
    }
    if let Some(s) = find(&i.other, "unicast_ttl") {
        let v = s.args.first().cloned().unwrap_or_default();
        config.unicast_ttl = v.parse().map_err(|_| ("unicast_ttl", v))?;
    }
    // An instance's own, else the global default; 1..=100 as keepalived.
    let down =
        (find(&i.other, "down_timer_adverts").map(|s| ("down_timer_adverts", s))).or_else(|| {
            find(&g.other, "vrrp_down_timer_adverts").map(|s| ("vrrp_down_timer_adverts", s))
        });
    if let Some((k, s)) = down {
        let v = s.args.first().cloned().unwrap_or_default();
        let n = v.parse().ok().filter(|n| (1..=100).contains(n));
        config.down_timer_adverts = n.ok_or((k, v))?;
    }
    Ok(())
}

/// GARP settings: the instance's `garp_master_*` and `garp_lower_prio_*`,
/// else global_defs' `vrrp_` forms, else keepalived's defaults (as
/// keepalived fills unset instance values from the globals, and the
/// globals' lower-priority values from their `garp_master` ones).
/// `vrrp_min_garp` turns the global defaults to one GARP, no delayed burst
/// and no refresh. Strict mode sends no lower-priority GARPs.
fn garp(
    g: &GlobalDefs,
    i: &VrrpInstance,
    strict: bool,
) -> Result<GarpConfig, (&'static str, String)> {
    let min = min_garp(g)?;
    let secs = |s: u32| Duration::from_secs(u64::from(s));
    let delay = g
        .vrrp_garp_master_delay
        .map_or(if min { 0 } else { 5 }, u32::from);
    let repeat = g.vrrp_garp_master_repeat.unwrap_or(if min { 1 } else { 5 });
    let refresh = g.vrrp_garp_master_refresh.unwrap_or(0);
    let refresh_repeat = (g.vrrp_garp_master_refresh_repeat).unwrap_or(if min { 0 } else { 1 });
    let lower = |k, global, max| -> Result<Option<u32>, (&'static str, String)> {
        let s = (i.other.iter().rev().find(|s| s.keyword == k))
            .or_else(|| g.other.iter().rev().find(|s| s.keyword == global));
        let Some(s) = s else { return Ok(None) };
        let v = s.args.first().cloned().unwrap_or_default();
        let n = v.parse::<u32>().ok().filter(|n| *n <= max);
        n.map(Some)
            .ok_or(if s.keyword == k { (k, v) } else { (global, v) })
    };
    // keepalived's limits: UINT_MAX / TIMER_HZ seconds, INT_MAX GARPs.
    let lower_delay = lower("garp_lower_prio_delay", "vrrp_garp_lower_prio_delay", 4294)?;
    let lower_repeat = lower(
        "garp_lower_prio_repeat",
        "vrrp_garp_lower_prio_repeat",
        i32::MAX as u32,
    )?;
    let i_delay = i.garp_master_delay.map_or(delay, u32::from);
    let i_refresh = i.garp_master_refresh.unwrap_or(refresh);
    Ok(GarpConfig {
        master_delay: secs(i_delay),
        master_repeat: i.garp_master_repeat.unwrap_or(repeat),
        master_refresh: (i_refresh > 0).then(|| secs(i_refresh)),
        refresh_repeat: i.garp_master_refresh_repeat.unwrap_or(refresh_repeat),
        lower_prio_repeat: if strict {
            0
        } else {
            lower_repeat.unwrap_or(repeat)
        },
        lower_prio_delay: secs(if strict {
            0
        } else {
            lower_delay.unwrap_or(delay)
        }),
    })
}

/// `vrrp_min_garp [true|false]` (no value: true).
fn min_garp(g: &GlobalDefs) -> Result<bool, (&'static str, String)> {
    let Some(s) = g.other.iter().rev().find(|s| s.keyword == "vrrp_min_garp") else {
        return Ok(false);
    };
    match s.args.first().map(String::as_str) {
        None | Some("on" | "true" | "yes") => Ok(true),
        Some("off" | "false" | "no") => Ok(false),
        Some(v) => Err(("vrrp_min_garp", v.to_owned())),
    }
}

/// `ADDR[/LEN] [brd B] [dev D] [scope S] [label L] [no_track]`. An IPv6 address
/// takes no `brd` or `label` (ip(8) has neither for IPv6); its `scope`
/// is the kernel's, derived from the address, in keepalived too.
pub fn address(owner: &str, a: &IpAddress) -> Result<VirtualAddress, PlanError> {
    let bad = |keyword, value: &str| PlanError::Bad {
        instance: owner.to_owned(),
        keyword,
        value: value.to_owned(),
    };
    let net = match *a.address {
        IpNet::V4(net) => net,
        IpNet::V6(net) => {
            if let Some(l) = &a.label {
                return Err(bad("label", l));
            }
            if a.brd.is_some() {
                return Err(bad("brd", &net.to_string()));
            }
            let options = address::options(owner, a)?;
            return Ok(VirtualAddress {
                addr: net.addr().into(),
                prefix_len: peer_prefix(&options).unwrap_or(net.prefix_len()),
                broadcast: None,
                label: None,
                scope: Scope::Global,
                dev: a.dev.clone(),
                no_track: has_no_track(&a.other),
                options,
            });
        }
    };
    let (addr, prefix_len) = (net.addr(), net.prefix_len());
    // ip(8): `+` and `-` set or clear the host bits of the prefix.
    let broadcast = match a.brd {
        None => None,
        Some(Broadcast::HostBitsSet) => Some(net.broadcast()),
        Some(Broadcast::HostBitsClear) => Some(net.network()),
        Some(Broadcast::Address(IpAddr::V4(b))) => Some(b),
        Some(Broadcast::Address(b)) => return Err(bad("brd", &b.to_string())),
    };
    let scope = a.scope.map_or(Scope::Global, scope);
    let options = address::options(owner, a)?;
    Ok(VirtualAddress {
        addr: addr.into(),
        prefix_len: peer_prefix(&options).unwrap_or(prefix_len),
        broadcast,
        label: a.label.clone(),
        scope,
        dev: a.dev.clone(),
        no_track: has_no_track(&a.other),
        options,
    })
}

/// With a peer, keepalived gives the address the peer's full length
/// (a prefix written on the address is its configuration error).
fn peer_prefix(o: &AddressOptions) -> Option<u8> {
    o.peer.map(|p| if p.is_ipv6() { 128 } else { 32 })
}

/// A route of the model as the driver installs it: IPv4 or IPv6,
/// unicast, blackhole, unreachable or prohibit, with the options the model
/// types. `via` and `src` must be of the destination's family.
pub fn route(owner: &str, r: &Route) -> Result<VirtualRoute, PlanError> {
    let bad = |value: String| PlanError::Bad {
        instance: owner.to_owned(),
        keyword: "route",
        value,
    };
    let ipv6 = r.dst.addr().is_ipv6();
    let same_family = |a: IpAddr| {
        if a.is_ipv6() == ipv6 {
            Ok(a)
        } else {
            Err(bad(a.to_string()))
        }
    };
    let multipath = multipath::hops(owner, r)?;
    let kind = match r.kind {
        None => RouteKind::Unicast,
        Some(RouteType::Blackhole) => RouteKind::Blackhole,
        Some(RouteType::Unreachable) => RouteKind::Unreachable,
        Some(RouteType::Prohibit) => RouteKind::Prohibit,
        Some(t) => return Err(bad(t.keyword().to_owned())),
    };
    let o = multipath.options;
    // keepalived reads `track_group` on static routes only.
    if o.track_group.is_some() && owner != "static_routes" {
        return Err(bad("track_group".into()));
    }
    let late = o.late;
    let mut spec = RouteSpec::to(r.dst.addr(), r.dst.prefix_len());
    spec.kind = kind;
    spec.gateway = late.via.or(r.via).map(same_family).transpose()?;
    if !multipath.hops.is_empty() {
        // `or` moved the gateway into the first next hop.
        spec.gateway = None;
        spec.nexthops = multipath.hops;
    }
    // keepalived 2.2.7 installs its own protocol (18) on a route it
    // tracks, whatever `protocol` says (seen in the twin test).
    let no_track = has_no_track(&r.other);
    spec.protocol = o.protocol.filter(|_| no_track);
    spec.onlink = o.onlink;
    spec.metrics = o.metrics;
    spec.congctl = o.congctl;
    spec.tos = o.tos;
    spec.realms = o.realms;
    spec.pref = o.pref;
    spec.expires = o.expires;
    spec.from = o.from;
    spec.mode = o.mode;
    spec.encap = o.encap;
    spec.ttl_propagate = o.ttl_propagate;
    spec.src = late.src.or(r.src).map(same_family).transpose()?;
    spec.metric = late.metric.or(r.metric);
    spec.table = late.table.or(r.table);
    spec.scope = late.scope.or(r.scope).map(scope);
    Ok(VirtualRoute {
        route: spec,
        dev: late.dev.or_else(|| r.dev.clone()),
        nexthop_devs: multipath.devs,
        no_track: has_no_track(&r.other),
    })
}

/// keepalived's `no_track` among an address's or route's other words.
fn has_no_track(other: &[String]) -> bool {
    other.iter().any(|w| w == "no_track")
}

fn scope(s: conf::Scope) -> Scope {
    match s {
        conf::Scope::Global => Scope::Global,
        conf::Scope::Site => Scope::Site,
        conf::Scope::Link => Scope::Link,
        conf::Scope::Host => Scope::Host,
        conf::Scope::Nowhere => Scope::Nowhere,
        conf::Scope::Number(n) => Scope::Other(n),
    }
}

impl Plan {
    /// Every unit in one driver [`Setup`], for one driver running every
    /// router of the process: routers in unit order (parallel to
    /// [`Plan::instances`]), sync groups re-indexed (in the order of
    /// [`Plan::groups`]), and the tracked interfaces watched.
    pub fn setup(&self) -> Setup {
        let mut setup = Setup {
            firewall: self.firewall.clone(),
            garp_pacing: self.garp_pacing.clone(),
            link_delays: self.link_delays.clone(),
            ..Setup::default()
        };
        for u in &self.units {
            let base = setup.routers.len();
            setup.routers.extend(u.setup.routers.iter().cloned());
            (setup.track_src_ip_quirk).extend(u.setup.track_src_ip_quirk.iter().cloned());
            setup
                .sync_groups
                .extend(u.setup.sync_groups.iter().map(|g| SyncGroupSpec {
                    name: g.name.clone(),
                    members: g.members.iter().map(|m| m + base).collect(),
                }));
        }
        let tracked = self.instances().flat_map(|i| &i.interfaces);
        for t in tracked {
            if !setup.watch_interfaces.contains(&t.name) {
                setup.watch_interfaces.push(t.name.clone());
            }
        }
        setup
    }

    /// What the process itself does for each router of [`Plan::setup`],
    /// in the same order.
    pub fn instances(&self) -> impl Iterator<Item = &InstancePlan> {
        self.units.iter().flat_map(|u| &u.instances)
    }

    /// The notify scripts of each sync group of [`Plan::setup`], in the
    /// same order, by group name.
    pub fn groups(&self) -> impl Iterator<Item = (&str, &Notify)> {
        self.units.iter().flat_map(|u| {
            let notify = u.group_notify.as_ref();
            u.setup
                .sync_groups
                .iter()
                .filter_map(move |g| Some((g.name.as_str(), notify?)))
        })
    }

    /// The static addresses (with their options) and routes resolved
    /// against interface indexes.
    #[allow(clippy::type_complexity)] // two lists, spelt out
    pub fn resolve_static(
        &self,
        nl: &mut vrrp::linux::Netlink,
    ) -> Result<(Vec<(AddressSpec, AddressOptions)>, Vec<RouteSpec>), vrrp::linux::LinuxError> {
        let mut addrs = Vec::new();
        for (dev, a) in &self.static_addresses {
            // `plan` refuses IPv6 static addresses.
            let IpAddr::V4(addr) = a.addr else { continue };
            let spec = AddressSpec {
                ifindex: nl.link(dev)?.index,
                addr,
                prefix_len: a.prefix_len,
                broadcast: a.broadcast,
                label: a.label.clone(),
                scope: a.scope,
            };
            addrs.push((spec, a.options));
        }
        let mut routes = Vec::new();
        for r in &self.static_routes {
            routes.push(r.resolve(|dev| Ok::<_, vrrp::linux::LinuxError>(nl.link(dev)?.index))?);
        }
        Ok((addrs, routes))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use super::*;

    fn routes_of(text: &str) -> Vec<Route> {
        let t = format!("static_routes {{\n{text}\n}}\n");
        let p = crate::parse_str("r.conf", &t, &crate::Options::default());
        assert!(!p.has_errors(), "{:?}", p.diagnostics);
        p.config.static_routes
    }

    #[test]
    fn routes_parse_like_ip_route() {
        let r = &routes_of("192.168.1.0/24 via 10.0.0.1 dev eth0 metric 5 table 100")[0];
        let r = route("VI_1", r).expect("valid route");
        assert_eq!(r.dev.as_deref(), Some("eth0"));
        assert_eq!(r.route.dst, IpAddr::V4(Ipv4Addr::new(192, 168, 1, 0)));
        assert_eq!(r.route.prefix_len, 24);
        assert_eq!(
            r.route.gateway,
            Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)))
        );
        assert_eq!((r.route.metric, r.route.table), (Some(5), Some(100)));
        let b = route("VI_1", &routes_of("blackhole 10.9.0.0/16")[0]).expect("valid route");
        assert_eq!(b.route.kind, RouteKind::Blackhole);
        let s = route(
            "VI_1",
            &routes_of("src 10.0.0.9 to 10.8.0.0/16 dev eth1")[0],
        )
        .unwrap();
        assert_eq!(
            (s.route.src, s.route.dst),
            (
                Some(Ipv4Addr::new(10, 0, 0, 9).into()),
                Ipv4Addr::new(10, 8, 0, 0).into()
            )
        );
        let six = route(
            "VI_1",
            &routes_of("2001:db8:1::/48 via fe80::1 dev eth0")[0],
        )
        .unwrap();
        assert_eq!(
            (six.route.dst, six.route.prefix_len, six.route.gateway),
            (
                "2001:db8:1::".parse::<IpAddr>().unwrap(),
                48,
                Some("fe80::1".parse().unwrap())
            )
        );
        assert!(matches!(
            route("VI_1", &routes_of("2001:db8:1::/48 via 10.0.0.1")[0]),
            Err(PlanError::Bad { value, .. }) if value == "10.0.0.1"
        ));
        assert!(matches!(
            route("VI_1", &routes_of("2001:db8::/32 via 2001:db8::1 realms 1")[0]),
            Err(PlanError::Bad { value, .. }) if value == "realms"
        ));
    }

    /// With `use_vmac`, an address of the instance's family on the
    /// instance's interface goes on the VMAC, one of the other family on
    /// the interface itself; another interface stays.
    #[test]
    fn vmac_instances_place_addresses_as_keepalived() {
        let text = "vrrp_instance VI_1 {\n  interface eth0\n  use_vmac\n  virtual_router_id 51\n  \
                    virtual_ipaddress {\n    10.0.0.1/24\n    10.0.0.2/24 dev eth0\n    \
                    10.0.0.3/24 dev eth1\n  }\n  virtual_ipaddress_excluded {\n    \
                    2001:db8::1/64\n    2001:db8::2/64 dev eth1\n    10.0.0.4/24 dev eth0\n  }\n}\n";
        let p = crate::parse_str("v.conf", text, &crate::Options::default());
        let setup = plan(&p.config).expect("valid").setup();
        let r = &setup.routers[0];
        let devs = |v: &[VirtualAddress]| v.iter().map(|a| a.dev.clone()).collect::<Vec<_>>();
        let eth = |n: &str| Some(n.to_owned());
        assert_eq!(devs(&r.addresses), [None, None, eth("eth1")]);
        assert_eq!(devs(&r.excluded), [eth("eth0"), eth("eth1"), None]);
        let text = text.replace("  use_vmac\n", "");
        let p = crate::parse_str("v.conf", &text, &crate::Options::default());
        let setup = plan(&p.config).expect("valid").setup();
        let r = &setup.routers[0];
        assert_eq!(devs(&r.addresses), [None, eth("eth0"), eth("eth1")]);
    }

    /// `use_ipvlan NAME ADDRESS MODE`: the ipvlan is the router's VMAC,
    /// named, with its address as advert source; the virtual addresses
    /// stay on the interface (keepalived 2.2.7, tests/vm_vrrp.rs); no
    /// nftables rules.
    #[test]
    fn ipvlan_instances_as_keepalived_runs_them() {
        let text = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  \
                    use_ipvlan vepa 10.0.0.5/24 ipv1\n  virtual_ipaddress {\n    \
                    10.0.0.1/24\n    10.0.0.2/24 dev eth1\n  }\n}\n";
        let p = crate::parse_str("v.conf", text, &crate::Options::default());
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let setup = plan(&p.config).expect("valid").setup();
        let r = &setup.routers[0];
        assert!(r.use_vmac);
        assert_eq!(r.vmac.name.as_deref(), Some("ipv1"));
        let want = vrrp::linux::IpvlanOptions {
            mode: vrrp::linux::IpvlanMode::Vepa,
            address: Some(("10.0.0.5".parse().unwrap(), 24)),
        };
        assert_eq!(r.vmac.ipvlan, Some(want));
        assert_eq!(r.config.primary_ip, Ipv4Addr::new(10, 0, 0, 5));
        let devs: Vec<_> = r.addresses.iter().map(|a| a.dev.as_deref()).collect();
        assert_eq!(devs, [Some("eth0"), Some("eth1")]);
        assert_eq!(setup.firewall, None);
        // `mcast_src_ip` stays the source.
        let src = text.replace("  use_ipvlan", "  mcast_src_ip 10.0.0.9\n  use_ipvlan");
        let p = crate::parse_str("v.conf", &src, &crate::Options::default());
        let setup = plan(&p.config).expect("valid").setup();
        assert_eq!(
            setup.routers[0].config.primary_ip,
            Ipv4Addr::new(10, 0, 0, 9)
        );
        let v6_text = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  \
                  use_ipvlan 2001:db8::5/64\n  virtual_ipaddress {\n    2001:db8::1/64\n  }\n}\n";
        let v6 = v6_text;
        // A global address is the source too, multicast from as
        // keepalived 2.2.7 does (seen in tests/vm_vrrp.rs).
        let p = crate::parse_str("v.conf", v6, &crate::Options::default());
        let setup = plan(&p.config).expect("valid").setup();
        let v6 = setup.routers[0]
            .config
            .ipv6
            .clone()
            .expect("an IPv6 router");
        let want: Ipv6Addr = "2001:db8::5".parse().unwrap();
        assert_eq!((v6.link_local, v6.global_source), (want, true));
        assert_eq!(setup.routers[0].config.validate(), Ok(()));
        // mcast_src_ip still wins, and must be link-local.
        let text = v6_text.replace("  use_ipvlan", "  mcast_src_ip fe80::9\n  use_ipvlan");
        let p = crate::parse_str("v.conf", &text, &crate::Options::default());
        let setup = plan(&p.config).expect("valid").setup();
        let v6 = setup.routers[0]
            .config
            .ipv6
            .clone()
            .expect("an IPv6 router");
        let want: Ipv6Addr = "fe80::9".parse().unwrap();
        assert_eq!((v6.link_local, v6.global_source), (want, false));
    }

    /// An IPv6 ipvlan: without address the driver finds the source (the
    /// ipvlan's own link-local address); a link-local one is the source.
    #[test]
    fn ipv6_ipvlan_instances_as_keepalived_runs_them() {
        let text = |ipvlan: &str| {
            format!(
                "vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n  \
                 use_ipvlan {ipvlan}\n  virtual_ipaddress {{\n    2001:db8::1/64\n  }}\n}}\n"
            )
        };
        let router = |ipvlan: &str| {
            let p = crate::parse_str("v.conf", &text(ipvlan), &crate::Options::default());
            assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
            plan(&p.config).expect("valid").setup().routers[0].clone()
        };
        let r = router("ipv6a private");
        assert!(r.use_vmac);
        assert_eq!(r.vmac.name.as_deref(), Some("ipv6a"));
        let want = vrrp::linux::IpvlanOptions {
            mode: vrrp::linux::IpvlanMode::Private,
            address: None,
        };
        assert_eq!(r.vmac.ipvlan, Some(want));
        let v6 = r.config.ipv6.as_ref().expect("an IPv6 router");
        assert_eq!(v6.link_local, Ipv6Addr::UNSPECIFIED);
        let devs: Vec<_> = r.addresses.iter().map(|a| a.dev.as_deref()).collect();
        assert_eq!(devs, [Some("eth0")]);
        let r = router("fe80::77:6/64");
        assert_eq!(r.vmac.name, None);
        let want = ("fe80::77:6".parse().unwrap(), 64);
        assert_eq!(r.vmac.ipvlan.unwrap().address, Some(want));
        let v6 = r.config.ipv6.as_ref().expect("an IPv6 router");
        assert_eq!(v6.link_local, "fe80::77:6".parse::<Ipv6Addr>().unwrap());
        // Its address sets the family when nothing before did.
        let p = crate::parse_str(
            "v.conf",
            "vrrp_instance VI_1 {\n  interface eth0\n  use_ipvlan fe80::6\n}\n",
            &crate::Options::default(),
        );
        assert!(is_ipv6(&p.config.vrrp_instances[0]));
        let p = crate::parse_str("v.conf", &text("10.0.0.5/24"), &crate::Options::default());
        assert!(!is_ipv6(&p.config.vrrp_instances[0]));
        // An IPv4 address on an IPv6 instance: keepalived's error.
        let late = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  \
                    virtual_ipaddress {\n    2001:db8::1/64\n  }\n  use_ipvlan 10.0.0.5/24\n}\n";
        let p = crate::parse_str("v.conf", late, &crate::Options::default());
        let err = plan(&p.config).map(drop).unwrap_err().to_string();
        assert!(
            err.contains("ipvlan address MUST match vrrp instance family"),
            "{err}"
        );
    }

    /// keepalived's `default` takes the family of `inet6`, `via` or `src`;
    /// `default6` (deprecated) and `any`/`all` are read too.
    #[test]
    fn default_routes_of_either_family() {
        let dst = |text: &str| {
            let r = &routes_of(text)[0];
            (r.dst.addr(), r.dst.prefix_len())
        };
        let (v4, v6) = (
            IpAddr::from(Ipv4Addr::UNSPECIFIED),
            IpAddr::from(Ipv6Addr::UNSPECIFIED),
        );
        assert_eq!(dst("default via 10.0.0.1"), (v4, 0));
        assert_eq!(dst("any via 10.0.0.1"), (v4, 0));
        assert_eq!(dst("blackhole all table 5"), (v4, 0));
        assert_eq!(dst("default via 2001:db8::1"), (v6, 0));
        assert_eq!(dst("inet6 default dev eth0 table default"), (v6, 0));
        assert_eq!(dst("blackhole default6 table 204"), (v6, 0));
        assert_eq!(dst("src 2001:db8::9 to default dev eth0"), (v6, 0));
        assert_eq!(dst("0.0.0.0/0 via 10.0.0.1 table default"), (v4, 0));
    }

    #[test]
    fn no_track_reaches_the_driver() {
        let tracked = |text: &str| route("VI_1", &routes_of(text)[0]).unwrap().tracked();
        assert!(tracked("10.9.0.0/16 via 10.0.0.1 dev eth0"));
        assert!(!tracked("10.9.0.0/16 via 10.0.0.1 dev eth0 no_track"));
        // keepalived cannot track a route without dev.
        assert!(!tracked("10.9.0.0/16 via 10.0.0.1"));
        let vip = |other: &[&str]| IpAddress {
            address: "192.0.2.100/24".parse::<IpNet>().unwrap().into(),
            other: other.iter().map(|w| (*w).to_owned()).collect(),
            ..IpAddress::default()
        };
        assert!(address("VI_1", &vip(&["no_track"])).unwrap().no_track);
        assert!(!address("VI_1", &vip(&[])).unwrap().no_track);
    }

    #[test]
    fn addresses_take_keepalived_options() {
        let a = IpAddress {
            address: "192.0.2.100/24".parse::<IpNet>().unwrap().into(),
            brd: Some(Broadcast::Address("192.0.2.255".parse().unwrap())),
            dev: Some("eth1".into()),
            scope: Some(conf::Scope::Link),
            label: Some("eth1:1".into()),
            other: Vec::new(),
        };
        let v = address("VI_1", &a).expect("valid address");
        let want = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100));
        assert_eq!((v.addr, v.prefix_len), (want, 24));
        assert_eq!(v.broadcast, Some(Ipv4Addr::new(192, 0, 2, 255)));
        assert_eq!(
            (v.scope, v.label.as_deref(), v.dev.as_deref()),
            (Scope::Link, Some("eth1:1"), Some("eth1"))
        );
        let host = address(
            "VI_1",
            &IpAddress {
                address: "10.1.1.1/32".parse::<IpNet>().unwrap().into(),
                ..IpAddress::default()
            },
        )
        .expect("valid address");
        assert_eq!(host.prefix_len, 32);
        let auto = |brd| IpAddress {
            address: "10.1.1.1/24".parse::<IpNet>().unwrap().into(),
            brd: Some(brd),
            ..IpAddress::default()
        };
        let set = address("VI_1", &auto(Broadcast::HostBitsSet)).unwrap();
        let clear = address("VI_1", &auto(Broadcast::HostBitsClear)).unwrap();
        assert_eq!(
            (set.broadcast, clear.broadcast),
            (
                Some(Ipv4Addr::new(10, 1, 1, 255)),
                Some(Ipv4Addr::new(10, 1, 1, 0))
            )
        );
    }

    #[test]
    fn unicast_peers_and_source() {
        let text = "vrrp_instance U {\n  interface eth0\n  virtual_router_id 9\n  \
                    unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n    10.0.0.3\n  }\n  \
                    virtual_ipaddress {\n    10.0.0.100\n  }\n}\n";
        let parsed = crate::parse_str("u.conf", text, &crate::Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let p = plan(&parsed.config).expect("plan");
        let c = &p.units[0].setup.routers[0].config;
        assert_eq!(c.unicast_src_ip, Some(Ipv4Addr::new(10, 0, 0, 1)));
        assert_eq!(
            c.unicast_peers,
            [Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 3)]
        );
        assert_eq!(
            c.primary_ip,
            Ipv4Addr::UNSPECIFIED,
            "filled in by the driver"
        );
    }

    fn routers_of(text: &str) -> Result<Vec<vrrp::Config>, PlanError> {
        let parsed = crate::parse_str("g.conf", text, &crate::Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let p = plan(&parsed.config)?;
        Ok(p.units
            .iter()
            .flat_map(|u| u.setup.routers.iter().map(|r| r.config.clone()))
            .collect())
    }

    #[test]
    fn garp_settings_come_from_the_instance_then_global_defs() {
        let text = "global_defs {\n  vrrp_garp_master_delay 9\n  vrrp_garp_master_repeat 2\n  \
                    vrrp_garp_master_refresh 60\n  vrrp_garp_master_refresh_repeat 3\n}\n\
                    vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  \
                    garp_master_delay 0\n  garp_master_repeat 7\n  garp_master_refresh 0\n  \
                    virtual_ipaddress {\n    192.0.2.1\n  }\n}\n\
                    vrrp_instance B {\n  interface eth0\n  virtual_router_id 2\n  \
                    virtual_ipaddress {\n    192.0.2.2\n  }\n}\n";
        let r = routers_of(text).expect("plan");
        let a = GarpConfig {
            master_delay: Duration::ZERO,
            master_repeat: 7,
            master_refresh: None,
            refresh_repeat: 3,
            // keepalived: from the global garp_master values, not the
            // instance's.
            lower_prio_repeat: 2,
            lower_prio_delay: Duration::from_secs(9),
        };
        let b = GarpConfig {
            master_delay: Duration::from_secs(9),
            master_repeat: 2,
            master_refresh: Some(Duration::from_secs(60)),
            refresh_repeat: 3,
            ..a
        };
        assert_eq!((r[0].garp, r[1].garp), (a, b));
        let defaults = routers_of(
            "vrrp_instance C {\n  interface eth0\n  virtual_router_id 3\n  \
             virtual_ipaddress {\n    192.0.2.3\n  }\n}\n",
        )
        .expect("plan");
        assert_eq!(defaults[0].garp, GarpConfig::default());
    }

    const C: &str = "vrrp_instance C {\n  interface eth0\n  virtual_router_id 3\n  \
                     virtual_ipaddress {\n    192.0.2.3\n  }\n";

    #[test]
    fn lower_priority_garps_come_from_the_instance_then_global_defs() {
        let global = "global_defs {\n  vrrp_garp_lower_prio_delay 2\n  \
                      vrrp_garp_lower_prio_repeat 3\n}\n";
        let g = routers_of(&format!("{global}{C}}}\n")).expect("plan")[0].garp;
        assert_eq!(
            (g.lower_prio_repeat, g.lower_prio_delay),
            (3, Duration::from_secs(2))
        );
        let own = format!("{global}{C}  garp_lower_prio_repeat 0\n  garp_lower_prio_delay 7\n}}\n");
        let g = routers_of(&own).expect("plan")[0].garp;
        assert_eq!(
            (g.lower_prio_repeat, g.lower_prio_delay),
            (0, Duration::from_secs(7))
        );
        let strict = format!("{global}{C}  strict_mode\n}}\n");
        let g = routers_of(&strict).expect("plan")[0].garp;
        assert_eq!(
            (g.lower_prio_repeat, g.lower_prio_delay),
            (0, Duration::ZERO)
        );
        for bad in ["garp_lower_prio_delay 4295", "garp_lower_prio_repeat x"] {
            let text = format!("{C}  {bad}\n}}\n");
            assert!(routers_of(&text).is_err(), "{bad}");
        }
    }

    #[test]
    fn vrrp_min_garp_sends_one_garp_without_a_second_burst() {
        let g = routers_of(&format!("global_defs {{\n  vrrp_min_garp\n}}\n{C}}}\n")).expect("plan")
            [0]
        .garp;
        let want = GarpConfig {
            master_delay: Duration::ZERO,
            master_repeat: 1,
            master_refresh: None,
            refresh_repeat: 0,
            lower_prio_repeat: 1,
            lower_prio_delay: Duration::ZERO,
        };
        assert_eq!(g, want);
        // What is set explicitly stays.
        let text = format!(
            "global_defs {{\n  vrrp_min_garp true\n  vrrp_garp_master_repeat 3\n}}\n{C}}}\n"
        );
        let g = routers_of(&text).expect("plan")[0].garp;
        assert_eq!((g.master_repeat, g.lower_prio_repeat), (3, 3));
        let off = format!("global_defs {{\n  vrrp_min_garp false\n}}\n{C}}}\n");
        assert_eq!(
            routers_of(&off).expect("plan")[0].garp,
            GarpConfig::default()
        );
    }

    const V3: &str = "vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  \
                      virtual_ipaddress {\n    192.0.2.1\n  }\n";

    #[test]
    fn a_global_vrrp_version_3_applies_unless_the_instance_says_otherwise() {
        let global = format!("global_defs {{\n  vrrp_version 3\n}}\n{V3}}}\n");
        assert_eq!(routers_of(&global).expect("plan")[0].version, Version::V3);
        let own = format!("global_defs {{\n  vrrp_version 3\n}}\n{V3}  version 2\n}}\n");
        assert_eq!(routers_of(&own).expect("plan")[0].version, Version::V2);
        let instance = format!("{V3}  version 3\n}}\n");
        assert_eq!(routers_of(&instance).expect("plan")[0].version, Version::V3);
    }

    #[test]
    fn v3_advert_int_is_rounded_to_centiseconds_and_capped() {
        let centis = |a: &str| {
            let text = format!("{V3}  version 3\n  advert_int {a}\n}}\n");
            routers_of(&text).map(|r| r[0].advert_interval_centis)
        };
        assert_eq!(centis("0.01"), Ok(1));
        assert_eq!(centis("0.5"), Ok(50));
        assert_eq!(centis("0.014"), Ok(1));
        assert_eq!(centis("0.015"), Ok(2));
        assert_eq!(centis("3"), Ok(300));
        assert_eq!(centis("100"), Ok(4095));
        assert!(matches!(
            centis("0.001"),
            Err(PlanError::Bad {
                keyword: "advert_int",
                ..
            })
        ));
        assert!(matches!(
            centis("256"),
            Err(PlanError::Bad {
                keyword: "advert_int",
                ..
            })
        ));
    }

    const V6: &str = "vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n";

    #[test]
    fn an_ipv6_instance_runs_vrrp_v3_over_ipv6() {
        let text = format!(
            "global_defs {{\n  vrrp_version 2\n}}\n{V6}  advert_int 0.5\n  \
             virtual_ipaddress {{\n    fe80::100\n    2001:db8::1/64 dev eth1\n  }}\n  \
             virtual_ipaddress_excluded {{\n    192.0.2.9/24\n    2001:db8::9\n  }}\n}}\n"
        );
        let parsed = crate::parse_str("six.conf", &text, &crate::Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let p = plan(&parsed.config).expect("plan");
        let r = &p.units[0].setup.routers[0];
        assert_eq!(r.config.version, Version::V3);
        assert_eq!(r.config.advert_interval_centis, 50);
        let v6 = r.config.ipv6.as_ref().expect("an IPv6 router");
        assert_eq!(
            v6.link_local,
            Ipv6Addr::UNSPECIFIED,
            "filled in by the driver"
        );
        let addrs: Vec<(String, u8, Option<&str>)> = (r.addresses.iter())
            .map(|a| (a.addr.to_string(), a.prefix_len, a.dev.as_deref()))
            .collect();
        let want = [
            ("fe80::100".to_owned(), 128, None),
            ("2001:db8::1".to_owned(), 64, Some("eth1")),
        ];
        assert_eq!(addrs, want);
        let excluded: Vec<String> = r.excluded.iter().map(|a| a.addr.to_string()).collect();
        assert_eq!(excluded, ["192.0.2.9", "2001:db8::9"]);
    }

    #[test]
    fn the_first_family_keyword_written_decides() {
        let text = format!(
            "{V6}  mcast_src_ip fe80::1\n  virtual_ipaddress {{\n    192.0.2.1\n    \
             2001:db8::1\n  }}\n}}\n"
        );
        let parsed = crate::parse_str("mixed.conf", &text, &crate::Options::default());
        let a = &parsed.config.vrrp_instances[0];
        assert!(is_ipv6(a));
        let mut out = Vec::new();
        family_errors(&parsed, &mut out);
        let got: Vec<String> = out
            .iter()
            .map(|d| d.display(&parsed.sources).to_string())
            .collect();
        assert_eq!(
            got,
            [
                "mixed.conf:6:5: error: (A): address family must match VRRP instance \
              [192.0.2.1] - ignoring"
            ]
        );
        let p = plan(&parsed.config).expect("plan");
        let r = &p.units[0].setup.routers[0];
        let link_local = r.config.ipv6.as_ref().map(|v6| v6.link_local);
        assert_eq!(link_local, Some("fe80::1".parse().unwrap()));
        let addrs: Vec<String> = r.addresses.iter().map(|a| a.addr.to_string()).collect();
        assert_eq!(addrs, ["2001:db8::1"]);
        let v4_first = format!(
            "{V6}  virtual_ipaddress {{\n    192.0.2.1\n  }}\n  mcast_src_ip fe80::1\n}}\n"
        );
        let parsed = crate::parse_str("mixed.conf", &v4_first, &crate::Options::default());
        assert!(!is_ipv6(&parsed.config.vrrp_instances[0]));
        let mut out = Vec::new();
        family_errors(&parsed, &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0]
            .message
            .contains("src address[fe80::1] MUST be of the same family"));
    }

    #[test]
    fn ipv6_unicast_peers_and_source() {
        let text = format!(
            "{V6}  unicast_src_ip 2001:db8::1\n  unicast_peer {{\n    2001:db8::2\n    \
             2001:db8::3\n  }}\n  virtual_ipaddress {{\n    2001:db8::100\n  }}\n}}\n"
        );
        let r = routers_of(&text).expect("plan");
        let v6 = r[0].ipv6.as_ref().expect("IPv6");
        let a = |s: &str| s.parse::<Ipv6Addr>().unwrap();
        assert_eq!(v6.link_local, a("2001:db8::1"));
        assert_eq!(v6.unicast_peers, [a("2001:db8::2"), a("2001:db8::3")]);
        assert!(r[0].unicast_peers.is_empty());
    }

    #[test]
    fn ipv6_refusals_are_named() {
        let refused = |extra: &str| {
            let text = format!("{V6}{extra}  virtual_ipaddress {{\n    2001:db8::1\n  }}\n}}\n");
            routers_of(&text).map(|_| ()).map_err(|e| e.to_string())
        };
        assert_eq!(
            refused("  unicast_peer {\n    2001:db8::2 min_ttl 250\n  }\n"),
            Err(
                "(A) unicast_peer min_ttl/max_ttl with IPv6 is not supported by keepalived-lite"
                    .into()
            )
        );
        assert_eq!(refused("  use_vmac\n"), Ok(()));
        assert_eq!(
            refused("  version 2\n"),
            Err("(A) version 2 with IPv6 is not supported by keepalived-lite".into())
        );
        assert_eq!(
            refused("  mcast_src_ip 2001:db8::5\n"),
            Err("(A) mcast_src_ip \"2001:db8::5\" is not supported by keepalived-lite".into())
        );
        let both = format!(
            "{V6}  virtual_ipaddress {{\n    2001:db8::1\n  }}\n}}\n\
             vrrp_instance B {{\n  interface eth0\n  virtual_router_id 1\n  \
             virtual_ipaddress {{\n    192.0.2.1\n  }}\n}}\n"
        );
        let both = routers_of(&both).expect("one VRID for each family");
        let families: Vec<bool> = both.iter().map(|c| c.ipv6.is_some()).collect();
        assert_eq!(families, [true, false]);
    }

    #[test]
    fn v3_needs_a_virtual_address() {
        let text = "vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  version 3\n}\n";
        assert_eq!(
            routers_of(text),
            Err(PlanError::Missing {
                instance: "A".into(),
                keyword: "virtual_ipaddress"
            })
        );
    }

    #[test]
    fn v3_ignores_authentication_with_a_warning() {
        let text = format!(
            "{V3}  version 3\n  advert_int 0.125\n  authentication {{\n    auth_type AH\n    \
             auth_pass secret\n  }}\n}}\n"
        );
        let r = routers_of(&text).expect("plan");
        assert_eq!(r[0].authentication, AuthConfig::None);
        let parsed = crate::parse_str("keepalived.conf", &text, &crate::Options::default());
        let mut out = Vec::new();
        v3_notes(&parsed, &mut out);
        let got: Vec<String> = out
            .iter()
            .map(|d| d.display(&parsed.sources).to_string())
            .collect();
        assert_eq!(
            got,
            [
                "keepalived.conf:9:3: warning: (A) authentication is ignored under VRRP version 3",
                "keepalived.conf:8:3: warning: (A) VRRPv3 advert_int 0.125s taken as 0.13s \
                 (units of 10 ms, at most 40.95s)"
            ]
        );
    }

    #[test]
    fn instances_group_into_units_with_tracking() {
        let text = r#"
vrrp_script chk {
  script "/bin/true"
  weight -20
}
vrrp_sync_group G {
  group {
    A
    B
  }
  sync_group_tracking_weight
}
vrrp_instance A {
  interface eth0
  virtual_router_id 1
  priority 150
  advert_int 1
  virtual_ipaddress {
    192.0.2.100/24
  }
  track_script {
    chk
  }
  track_interface {
    eth1 weight 5
  }
}
vrrp_instance B {
  interface eth1
  virtual_router_id 2
  virtual_ipaddress {
    198.51.100.1
  }
}
vrrp_instance C {
  interface eth0
  virtual_router_id 3
  nopreempt
  authentication {
    auth_type AH
    auth_pass secret
  }
  virtual_ipaddress {
    203.0.113.1
  }
}
"#;
        let parsed = crate::parse_str("t.conf", text, &crate::Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let p = plan(&parsed.config).expect("plan");
        let keys: Vec<_> = p.units.iter().map(|u| u.key.as_str()).collect();
        assert_eq!(keys, ["group G", "instance C"]);
        let g = &p.units[0];
        assert_eq!(g.setup.sync_groups[0].members, [0, 1]);
        assert_eq!(g.setup.routers[0].config.priority, 150);
        assert_eq!(g.setup.routers[1].config.priority, DEFAULT_PRIORITY);
        let a = &g.instances[0];
        assert_eq!(
            a.scripts,
            [Tracked {
                name: "chk".into(),
                weight: -20,
                reverse: false
            }]
        );
        assert_eq!(
            a.interfaces,
            [Tracked {
                name: "eth1".into(),
                weight: 5,
                reverse: false
            }]
        );
        let c = &p.units[1].setup.routers[0];
        assert!(!c.config.preempt);
        assert!(matches!(c.config.authentication, AuthConfig::Ah(_)));
        assert_eq!(p.scripts.len(), 1);
    }

    #[test]
    fn one_setup_holds_every_unit() {
        let text = "vrrp_instance L {\n  interface eth0\n  virtual_router_id 9\n  \
                    track_interface {\n    eth2\n  }\n  virtual_ipaddress {\n    10.0.0.9\n  }\n}\n\
                    vrrp_sync_group G {\n  group {\n    B\n    A\n  }\n  \
                    notify_master /bin/true\n  track_interface {\n    eth1\n  }\n}\n\
                    vrrp_instance A {\n  interface eth0\n  virtual_router_id 1\n  \
                    virtual_ipaddress {\n    10.0.0.1\n  }\n}\n\
                    vrrp_instance B {\n  interface eth1\n  virtual_router_id 2\n  \
                    virtual_ipaddress {\n    10.0.0.2\n  }\n}\n";
        let parsed = crate::parse_str("s.conf", text, &crate::Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let p = plan(&parsed.config).expect("plan");
        let s = p.setup();
        let names: Vec<&str> = s.routers.iter().map(|r| &*r.config.name).collect();
        assert_eq!(names, ["B", "A", "L"]);
        let instances: Vec<&str> = p.instances().map(|i| i.name.as_str()).collect();
        assert_eq!(instances, names);
        assert_eq!(
            s.sync_groups,
            [SyncGroupSpec {
                name: "G".into(),
                members: vec![0, 1]
            }]
        );
        assert_eq!(s.watch_interfaces, ["eth1", "eth2"]);
        let groups: Vec<(&str, Option<&Vec<String>>)> =
            p.groups().map(|(g, n)| (g, n.master.as_ref())).collect();
        assert_eq!(groups, [("G", Some(&vec!["/bin/true".to_owned()]))]);
    }

    #[test]
    fn down_timer_adverts_of_the_instance_or_the_global_default() {
        let conf = |global: &str, own: &str| {
            format!(
                "global_defs {{\n{global}\n}}\nvrrp_instance A {{\n interface eth0\n \
                 virtual_router_id 1\n{own}\n virtual_ipaddress {{\n 192.0.2.1\n }}\n}}\n"
            )
        };
        let adverts = |text: &str| {
            let parsed = crate::parse_str("t.conf", text, &crate::Options::default());
            plan(&parsed.config).map(|p| p.units[0].setup.routers[0].config.down_timer_adverts)
        };
        assert_eq!(adverts(&conf("", "")), Ok(3));
        assert_eq!(adverts(&conf("vrrp_down_timer_adverts 7", "")), Ok(7));
        let both = conf("vrrp_down_timer_adverts 7", "down_timer_adverts 2");
        assert_eq!(adverts(&both), Ok(2));
        let bad = adverts(&conf("", "down_timer_adverts 101")).unwrap_err();
        let want = "(A) down_timer_adverts \"101\" is not supported by keepalived-lite";
        assert_eq!(bad.to_string(), want);
    }
}
