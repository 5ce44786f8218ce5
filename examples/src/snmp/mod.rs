//! keepalived's SNMP support for VRRP (`-x`, `-A`, and `global_defs`'
//! `enable_snmp_vrrp`, `enable_snmp_rfcv2`, `enable_traps`,
//! `snmp_socket`): an AgentX subagent (RFC 2741) of a master agent such
//! as net-snmp's snmpd, over its unix socket (default
//! `/var/agentx/master`) or `tcp:HOST:PORT`.
//!
//! It serves what keepalived 2.2.7's VRRP process serves for RFC 2787's
//! VRRP-MIB, RFC 6527's VRRPv3-MIB and KEEPALIVED-MIB's global and VRRP
//! parts ([`mib`]), read from
//! [`crate::observe`] on each request, and sends keepalived's traps
//! (vrrpInstanceStateChange, vrrpSyncGroupStateChange,
//! vrrpTrapNewMaster, vrrpv3NewMaster) on the transitions the VRRP half reports through
//! [`instance_changed`] and [`group_changed`].
//!
//! Not served (yet): KEEPALIVED-MIB's route, rule, tracked
//! file/process/BFD tables and the checker's part, and the
//! vrrpTrapAuthFailure and vrrpv3ProtoError notifications.

use std::sync::Mutex;

use tokio::sync::mpsc;
use vrrp::State;
use vrrp_conf::convert::snmp::SnmpSettings;
use vrrp_conf::convert::vrrp::Plan;
use vrrp_conf::Config;

pub mod agent;
pub mod globals;
pub mod mib;
pub mod pdu;

pub use agent::Transport;

/// net-snmp's default AgentX socket, keepalived's default too.
pub const DEFAULT_SOCKET: &str = "/var/agentx/master";

/// What the subagent is told to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Where the master agent listens.
    pub transport: Transport,
    /// What it serves.
    pub served: mib::Served,
}

impl Settings {
    /// keepalived's rules: `-x` enables every SNMP part; `global_defs`
    /// enables them one by one; `-A` wins over `snmp_socket`. None if
    /// nothing is enabled.
    pub fn of(
        cli_snmp: bool,
        cli_socket: Option<&str>,
        config: &Config,
    ) -> Option<Result<Settings, agent::TransportError>> {
        let conf = SnmpSettings::of(config);
        let router_id = config.global_defs.router_id.as_deref();
        let keepalived = cli_snmp || conf.vrrp;
        let rfcv2 = cli_snmp || conf.rfcv2;
        let rfcv3 = cli_snmp || conf.rfcv3;
        if !keepalived && !rfcv2 && !rfcv3 {
            return None;
        }
        let socket = cli_socket
            .or(conf.socket.as_deref())
            .unwrap_or(DEFAULT_SOCKET);
        let router_id = router_id.map(str::to_owned).unwrap_or_else(host_name);
        Some(Transport::parse(socket).map(|transport| Settings {
            transport,
            served: mib::Served {
                keepalived,
                rfcv2,
                rfcv3,
                traps: conf.traps,
                router_id,
                globals: globals::Globals::of(config),
            },
        }))
    }
}

/// keepalived's default `router_id`: the host name.
fn host_name() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .unwrap_or_default()
}

/// A transition to report as traps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// An instance entered `state`.
    Instance {
        /// Instance name.
        name: String,
        /// State entered.
        state: State,
    },
    /// A sync group entered `state`.
    Group {
        /// Group name.
        name: String,
        /// State entered.
        state: State,
    },
}

/// Shared between the VRRP half's hooks and the agent task.
#[derive(Default)]
struct Shared {
    settings: Option<Settings>,
    published: mib::Published,
    traps: Option<mpsc::UnboundedSender<Transition>>,
}

static SHARED: Mutex<Option<Shared>> = Mutex::new(None);

fn with_shared<R>(f: impl FnOnce(&mut Shared) -> R) -> R {
    let mut g = SHARED.lock().unwrap_or_else(|e| e.into_inner());
    f(g.get_or_insert_with(Shared::default))
}

/// What `plan` says beyond the driver's specification (sync groups,
/// tracking, scripts, static addresses), for [`publish`] once the plan
/// runs; `None` when SNMP is off, so nothing is kept for it.
pub fn prepare(plan: &Plan) -> Option<mib::Published> {
    if with_shared(|s| s.settings.is_none() && s.traps.is_none()) {
        return None;
    }
    let groups = (plan.units.iter())
        .flat_map(|u| {
            u.setup.sync_groups.iter().map(|g| mib::Group {
                name: g.name.clone(),
                notify: u.group_notify.clone().unwrap_or_default(),
                members: (g.members.iter())
                    .filter_map(|&m| u.setup.routers.get(m))
                    .map(|r| r.config.name.to_string())
                    .collect(),
            })
        })
        .collect();
    let tracks = |pick: fn(&vrrp_conf::convert::vrrp::InstancePlan) -> &Vec<_>| {
        (plan.instances())
            .map(|i| {
                let list = (pick(i).iter())
                    .map(|t: &vrrp_conf::convert::vrrp::Tracked| mib::Track {
                        name: t.name.clone(),
                        weight: t.weight,
                    })
                    .collect();
                (i.name.clone(), list)
            })
            .collect()
    };
    let scripts: Vec<mib::Script> = (plan.scripts.iter())
        .map(|s| mib::Script {
            name: s.name.clone(),
            command: s.script.as_deref().map(mib::cmd_str).unwrap_or_default(),
            interval: s.interval.as_ref().map_or(1, |d| d.value.as_secs() as u32),
            weight: s.weight.unwrap_or(0),
            rise: s.rise.unwrap_or(1),
            fall: s.fall.unwrap_or(1),
        })
        .collect();
    let published = mib::Published {
        groups,
        track_interfaces: tracks(|i| &i.interfaces),
        track_scripts: tracks(|i| &i.scripts),
        statics: plan.static_addresses.clone(),
        script_up: Default::default(),
        master_reason: Default::default(),
        scripts,
    };
    Some(published)
}

/// Serves what [`prepare`] read from the running plan (at start and after
/// each reload).
pub fn publish(published: Option<mib::Published>) {
    let Some(published) = published else { return };
    with_shared(|s| {
        let mut up = std::mem::take(&mut s.published.script_up);
        up.retain(|name, _| published.scripts.iter().any(|x| &x.name == name));
        let mut reasons = std::mem::take(&mut s.published.master_reason);
        reasons.retain(|name, _| published.track_interfaces.contains_key(name));
        s.published = mib::Published {
            script_up: up,
            master_reason: reasons,
            ..published
        };
    });
}

/// `vrrp_script` `name`'s result changed.
pub fn script_result(name: &str, up: bool) {
    with_shared(|s| {
        s.published.script_up.insert(name.to_owned(), up);
    });
}

fn published() -> mib::Published {
    with_shared(|s| s.published.clone())
}

fn send(t: Transition) {
    with_shared(|s| {
        if let Some(tx) = &s.traps {
            let _ = tx.send(t);
        }
    });
}

/// Instance `name` entered `state` for `reason` (its traps, if the
/// agent runs).
pub fn instance_changed(name: &str, state: State, reason: vrrp::event::Reason) {
    if state == State::Master {
        // RFC 6527's vrrpv3StatisticsNewMasterReason: priority(1) for the
        // address owner, else masterNoResponse(3), as keepalived's
        // default; it is kept until the next time it becomes master.
        let why = if reason == vrrp::event::Reason::AddressOwner {
            1
        } else {
            3
        };
        with_shared(|s| {
            s.published.master_reason.insert(name.to_owned(), why);
        });
    }
    send(Transition::Instance {
        name: name.to_owned(),
        state,
    });
}

/// Sync group `name` entered `state`.
pub fn group_changed(name: &str, state: State) {
    send(Transition::Group {
        name: name.to_owned(),
        state,
    });
}

/// Sets what [`start_configured`] starts (the daemon's start-up, before
/// the VRRP half runs).
pub fn configure(settings: Settings) {
    with_shared(|s| s.settings = Some(settings));
}

/// Starts the subagent [`configure`] set, if any, once.
pub fn start_configured() {
    if let Some(s) = with_shared(|s| s.settings.take()) {
        start(s);
    }
}

/// Starts the subagent on the current tokio runtime (it connects, and
/// reconnects, in the background). Panics outside a runtime.
pub fn start(settings: Settings) {
    let (tx, rx) = mpsc::unbounded_channel();
    with_shared(|s| s.traps = Some(tx));
    tracing::info!("Starting SNMP subagent");
    tokio::spawn(agent::run(settings, rx));
}
