//! keepalived's SNMP support for VRRP (`-x`, `-A`, and `global_defs`'
//! `enable_snmp_vrrp`, `enable_snmp_rfcv2`, `enable_traps`,
//! `snmp_socket`): an AgentX subagent (RFC 2741) of a master agent such
//! as net-snmp's snmpd, over its unix socket (default
//! `/var/agentx/master`) or `tcp:HOST:PORT`.
//!
//! It serves what keepalived 2.2.7's VRRP process serves for RFC 2787's
//! VRRP-MIB and RFC 6527's VRRPv3-MIB (the `vrrp` crate's
//! [`vrrp::snmp`]) and KEEPALIVED-MIB's global and VRRP parts ([`mib`]),
//! read from [`crate::observe`] on each request, and sends keepalived's traps
//! (vrrpInstanceStateChange, vrrpSyncGroupStateChange,
//! vrrpTrapNewMaster, vrrpv3NewMaster) on the transitions the VRRP half reports through
//! [`instance_changed`] and [`group_changed`], and vrrpTrapAuthFailure
//! and vrrpv3ProtoError on the adverts it rejects ([`advert_rejected`]).
//!
//! With `enable_snmp_checker` (or `-x`) and the checker running, it also
//! serves KEEPALIVED-MIB's checker part ([`checker`]) from what the
//! checker half reports through [`checker_published`],
//! [`checker_event`] and [`checker_stopping`], with keepalived's
//! realServerStateChange and virtualServerQuorumStateChange traps.
//!
//! Not served (yet): KEEPALIVED-MIB's route, rule and tracked
//! file/process/BFD tables.

use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use tokio::sync::mpsc;
use vrrp::event::{AdvertError, Reason};
use vrrp::State;
use vrrp_conf::convert::snmp::SnmpSettings;
use vrrp_conf::convert::vrrp::Plan;
use vrrp_conf::Config;

pub mod agent;
pub mod checker;
pub mod globals;
pub mod mib;

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
    /// enables them one by one; `-A` wins over `snmp_socket`; the
    /// checker's part only where the checker runs (`checker`). None if
    /// nothing is enabled.
    pub fn of(
        cli_snmp: bool,
        cli_socket: Option<&str>,
        config: &Config,
        checker: bool,
    ) -> Option<Result<Settings, agent::TransportError>> {
        let conf = SnmpSettings::of(config);
        let router_id = config.global_defs.router_id.as_deref();
        let keepalived = cli_snmp || conf.vrrp;
        let rfcv2 = cli_snmp || conf.rfcv2;
        let rfcv3 = cli_snmp || conf.rfcv3;
        let checker = checker && (cli_snmp || conf.checker);
        if !keepalived && !rfcv2 && !rfcv3 && !checker {
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
                checker,
                traps: conf.traps,
                router_id,
                globals: globals::Globals::of(config),
                checker_conf: if checker {
                    checker::Configured::of(config)
                } else {
                    checker::Configured::default()
                },
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
#[derive(Debug)]
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
    /// An instance rejected an advert for a reason keepalived notifies.
    Rejected {
        /// Instance name.
        name: String,
        /// The advert's sender.
        from: IpAddr,
        /// What was wrong.
        error: AdvertError,
    },
    /// A checker notification's varbinds, built when it happened.
    Checker(Vec<agentx::pdu::VarBind>),
    /// Answered once what was queued before it is sent (or dropped).
    Flush(tokio::sync::oneshot::Sender<()>),
}

/// Shared between the VRRP half's hooks and the agent task.
#[derive(Default)]
struct Shared {
    settings: Option<Settings>,
    published: mib::Published,
    traps: Option<mpsc::UnboundedSender<Transition>>,
    /// keepalived's `snmp_vrrp_start_time`: the agent's start, and every
    /// reload.
    agent_epoch: Option<Instant>,
    /// When the routers were last (re)initialised (keepalived sets every
    /// instance's `stats->uptime` at start and on each reload).
    routers_epoch: Option<Instant>,
    /// Bounds the notifications of rejected adverts.
    rejected: RateLimit,
    /// What is served, kept for the checker's notifications.
    served: Option<mib::Served>,
    /// The checker half, once it runs.
    checker: Option<checker::Live>,
    /// Reads the configuration again after a reload.
    reread: Option<ConfigReader>,
}

/// Reads the configuration file again (None if it cannot be).
pub type ConfigReader = Box<dyn Fn() -> Option<Config> + Send>;

/// Sets how the configuration is read again after a reload, for the
/// checker's columns the plan does not carry.
pub fn reread_with(read: ConfigReader) {
    with_shared(|s| s.reread = Some(read));
}

/// At most this many vrrpTrapAuthFailure and vrrpv3ProtoError
/// notifications a second. keepalived sends one per rejected advert; a
/// flood of bad adverts would otherwise queue notifications (each built
/// from a fresh snapshot) faster than the master agent takes them.
pub const REJECTED_PER_SECOND: u32 = 20;

/// A fixed one-second window allowing [`REJECTED_PER_SECOND`] events.
#[derive(Debug, Default)]
struct RateLimit {
    window: Option<Instant>,
    count: u32,
}

impl RateLimit {
    fn allow(&mut self, now: Instant) -> bool {
        let fresh = self
            .window
            .is_none_or(|w| now.saturating_duration_since(w) >= std::time::Duration::from_secs(1));
        if fresh {
            self.window = Some(now);
            self.count = 0;
        }
        self.count += 1;
        self.count <= REJECTED_PER_SECOND
    }
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
            command: s
                .script
                .as_deref()
                .map(healthcheck::script::shown)
                .unwrap_or_default(),
            interval: s.interval.as_ref().map_or(1, |d| d.value.as_secs() as u32),
            weight: s.weight.unwrap_or(0),
            rise: s.rise.unwrap_or(1),
            fall: s.fall.unwrap_or(1),
        })
        .collect();
    let published = mib::Published {
        notes: Default::default(),
        uptime: Default::default(),
        groups,
        track_interfaces: tracks(|i| &i.interfaces),
        track_scripts: tracks(|i| &i.scripts),
        statics: plan.static_addresses.clone(),
        script_up: Default::default(),
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
        let mut notes = std::mem::take(&mut s.published.notes);
        notes.retain(|name, _| published.track_interfaces.contains_key(name));
        s.published = mib::Published {
            script_up: up,
            notes,
            ..published
        };
        // keepalived restarts both clocks on a reload, the agent's first.
        let now = Instant::now();
        if s.routers_epoch.is_some() {
            s.agent_epoch = Some(now);
        }
        s.routers_epoch = Some(now);
    });
}

/// `vrrp_script` `name`'s result changed.
pub fn script_result(name: &str, up: bool) {
    with_shared(|s| {
        s.published.script_up.insert(name.to_owned(), up);
    });
}

/// What [`publish`] and the events published, with the uptimes as of
/// now.
fn published() -> mib::Published {
    with_shared(|s| {
        let now = Instant::now();
        let centis = |from: Option<Instant>, to: Instant| {
            from.map_or(0, |f| {
                let d = to.saturating_duration_since(f);
                u32::try_from(d.as_millis() / 10).unwrap_or(u32::MAX)
            })
        };
        let routers = s.routers_epoch;
        mib::Published {
            uptime: mib::Uptime {
                rfc2787: routers.map_or(0, |r| centis(s.agent_epoch, r)),
                rfc6527: centis(routers, now),
            },
            ..s.published.clone()
        }
    })
}

fn send(t: Transition) {
    with_shared(|s| send_locked(s, t));
}

fn send_locked(s: &Shared, t: Transition) {
    if let Some(tx) = &s.traps {
        let _ = tx.send(t);
    }
}

/// Instance `name` entered `state` for `reason` (its traps, if the
/// agent runs).
pub fn instance_changed(name: &str, state: State, reason: Reason) {
    if state == State::Master {
        with_shared(|s| {
            let notes = s.published.notes.entry(name.to_owned()).or_default();
            notes.entered(state, reason);
        });
    }
    send(Transition::Instance {
        name: name.to_owned(),
        state,
    });
}

/// Instance `name` rejected an advert from `from` (its traps, if the
/// agent runs; a protocol error is also kept as the instance's
/// vrrpv3StatisticsProtoErrReason, as keepalived keeps the last one).
pub fn advert_rejected(name: &str, from: IpAddr, error: AdvertError) {
    let allowed = with_shared(|s| {
        if let AdvertError::Protocol(_) = error {
            let notes = s.published.notes.entry(name.to_owned()).or_default();
            notes.rejected(error);
        }
        s.rejected.allow(Instant::now())
    });
    if !allowed {
        return;
    }
    send(Transition::Rejected {
        name: name.to_owned(),
        from,
        error,
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
    with_shared(|s| {
        s.served = Some(settings.served.clone());
        s.settings = Some(settings);
    });
}

/// The checker half runs `bridge`'s plan (at start, and after each
/// reload): its rows are served from now on; at start, keepalived's
/// quorum notifications are sent.
pub fn checker_published(bridge: &crate::lvs_mode::table::Bridge) {
    with_shared(|s| {
        let Some(served) = s.served.as_ref().filter(|v| v.checker) else {
            return;
        };
        let plan = bridge.plan().clone();
        let live = match s.checker.take() {
            Some(old) => {
                // A reload: the configuration's columns as it now reads.
                let config = s.reread.as_ref().and_then(|read| read());
                let conf = config.map_or(old.conf.clone(), |c| {
                    std::sync::Arc::new(checker::Configured::of(&c))
                });
                old.republish(plan, conf, |t| bridge.slot_of(t))
            }
            None => {
                let conf = std::sync::Arc::new(served.checker_conf.clone());
                let live = checker::Live::new(plan, conf);
                for vbs in live.start(&served.router_id) {
                    send_locked(s, Transition::Checker(vbs));
                }
                live
            }
        };
        s.checker = Some(live);
    });
}

/// The checker half's monitor reported `event` (applied to `bridge`).
pub fn checker_event(bridge: &crate::lvs_mode::table::Bridge, event: &healthcheck::Event) {
    with_shared(|s| {
        let (Some(served), Some(live)) = (s.served.as_ref(), s.checker.as_mut()) else {
            return;
        };
        let notice = live.handle(event, |t| bridge.slot_of(t), |p| bridge.service_of(p));
        let vbs = notice.and_then(|n| checker::notification(n, live, &served.router_id));
        if let Some(vbs) = vbs {
            send_locked(s, Transition::Checker(vbs));
        }
    });
}

/// The checker half stops: keepalived's notifications for it.
pub fn checker_stopping() {
    with_shared(|s| {
        let (Some(served), Some(live)) = (s.served.as_ref(), s.checker.as_mut()) else {
            return;
        };
        let all = live.stop(&served.router_id);
        for vbs in all {
            send_locked(s, Transition::Checker(vbs));
        }
    });
}

/// How long [`flush`] waits for the queued notifications.
const FLUSH_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// Waits (at most 2 s) until the notifications queued so
/// far are sent, so that a stopping daemon's last ones reach the master.
pub async fn flush() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let queued = with_shared(|s| {
        s.traps
            .as_ref()
            .is_some_and(|q| q.send(Transition::Flush(tx)).is_ok())
    });
    if queued {
        let _ = tokio::time::timeout(FLUSH_TIMEOUT, rx).await;
    }
}

/// The checker half as last reported.
fn checker_live() -> Option<checker::Live> {
    with_shared(|s| s.checker.clone())
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
    with_shared(|s| {
        s.traps = Some(tx);
        s.agent_epoch = Some(Instant::now());
    });
    tracing::info!("Starting SNMP subagent");
    tokio::spawn(agent::run(settings, rx));
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn rejected_notifications_are_bounded_per_second() {
        let t0 = Instant::now();
        let mut limit = RateLimit::default();
        let allowed = (0..30).filter(|_| limit.allow(t0)).count();
        assert_eq!(allowed, REJECTED_PER_SECOND as usize);
        assert!(!limit.allow(t0 + Duration::from_millis(999)));
        // A new second, a new allowance.
        assert!(limit.allow(t0 + Duration::from_secs(1)));
    }
}
