//! The checker half: the model to what a checker process runs: IPVS
//! services with their real servers, and one health check per checked
//! real server, with keepalived 2.2's defaults.
//!
//! Everything the checker does not implement is refused here, before
//! anything touches the kernel, with a [`PlanError`] naming the keyword:
//! nothing in a `virtual_server` is silently ignored.
//!
//! keepalived defaults relied on (keepalived 2.2, `check/check_data.c`
//! `alloc_vs`/`validate_check_config`, `check/check_api.c`
//! `queue_checker`, `check/check_http.c` `http_get_handler`):
//! `delay_loop` 60 s, protocol UDP for an address service, scheduler
//! `wlc`, forwarding NAT, real server weight
//! 1, `connect_timeout` 5 s, `retry` 1 (3 for DNS_CHECK, 0 for
//! MISC_CHECK), `delay_before_retry` 1 s (3 s for HTTP_GET, the
//! `delay_loop` for DNS_CHECK), checks connect to the real server's address and port.

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::diagnostics::{Code, Diagnostic};
use crate::lower::ObjSpans;
use crate::model::{self as conf, CheckerKind, LvsMethod, VsTarget};
use crate::span::Span;
use crate::Parsed;
use healthcheck::checkers::{DnsType, HttpVersion, StatusCodes, UrlCheck};
use healthcheck::{CheckContext, MemberConfig, PoolConfig, TargetConfig};
use ipvs::{Destination, Family, Forward, Service, ServiceFlags, ServiceKey, Timeouts};

mod globals;
mod group;
mod ssl;

pub use group::MAX_GROUP_SERVICES;
/// A `virtual_server_group` entry and its parser (the SNMP tables show them).
pub use group::{entry as group_entry, Entry as GroupEntry};

/// keepalived's `KEEPALIVED_DEFAULT_DELAY`: `delay_loop` when unset.
pub const DEFAULT_DELAY_LOOP: Duration = Duration::from_secs(60);
/// keepalived's default `connect_timeout` (`queue_checker`).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// keepalived's default `retry` (`queue_checker`'s `default_retry`).
pub const DEFAULT_RETRY: u32 = 1;
/// keepalived's default `delay_before_retry` (`queue_checker`).
pub const DEFAULT_DELAY_BEFORE_RETRY: Duration = Duration::from_secs(1);
/// HTTP_GET's own default `delay_before_retry` (`http_get_handler`).
pub const HTTP_DELAY_BEFORE_RETRY: Duration = Duration::from_secs(3);
/// DNS_CHECK's own default `retry` (check_dns.c `DNS_DEFAULT_RETRY`); its
/// default `delay_before_retry` is the checker's `delay_loop`.
pub const DNS_DEFAULT_RETRY: u32 = 3;
/// MISC_CHECK's own default `retry` (`misc_check_handler`).
pub const MISC_DEFAULT_RETRY: u32 = 0;
/// keepalived's `IPVS_DEF_SCHED`.
pub const DEFAULT_SCHEDULER: &str = "wlc";

/// Why a configuration cannot be run by the checker.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// A keyword keepalived knows but keepalived-lite's checker does not run.
    #[error("virtual_server {vs}: '{keyword}' is not supported by keepalived-lite's checker")]
    Unsupported {
        /// The virtual server, as keepalived prints it.
        vs: String,
        /// The refused keyword.
        keyword: String,
    },
    /// An address that does not parse as an IP address.
    #[error("virtual_server {vs}: invalid address '{addr}'")]
    BadAddress {
        /// The virtual server.
        vs: String,
        /// The text.
        addr: String,
    },
    /// A non-persistent address service without a port.
    #[error("virtual_server {vs}: a port is needed unless persistence_timeout is set")]
    MissingPort {
        /// The virtual server.
        vs: String,
    },
    /// Real servers of different address families in one service.
    #[error("virtual_server {vs}: real server {rs} is not of the service's address family")]
    MixedFamily {
        /// The virtual server.
        vs: String,
        /// The real server.
        rs: String,
    },
    /// Two virtual servers with the same identity.
    #[error("virtual_server {vs} is defined twice")]
    DuplicateService {
        /// The virtual server.
        vs: String,
    },
    /// Two real servers with the same address in one virtual server.
    #[error("virtual_server {vs}: real server {rs} is defined twice")]
    DuplicateRealServer {
        /// The virtual server.
        vs: String,
        /// The real server.
        rs: String,
    },
    /// A weight outside 0..=65535.
    #[error("virtual_server {vs}: real server {rs}: invalid weight {weight}")]
    BadWeight {
        /// The virtual server.
        vs: String,
        /// The real server.
        rs: String,
        /// The weight.
        weight: i32,
    },
    /// A checker with nothing to connect to (no port anywhere).
    #[error("virtual_server {vs}: real server {rs}: the checker has no port (set connect_port)")]
    CheckerNoPort {
        /// The virtual server.
        vs: String,
        /// The real server.
        rs: String,
    },
    /// A bad `virtual_server` value.
    #[error("virtual_server {vs}: invalid {keyword} '{value}'")]
    BadValue {
        /// The virtual server.
        vs: String,
        /// The keyword.
        keyword: String,
        /// The value.
        value: String,
    },
    /// A `virtual_server group` naming no `virtual_server_group`.
    #[error("virtual_server group {group}: no virtual_server_group {group}")]
    UnknownGroup {
        /// The group's name.
        group: String,
    },
    /// A `virtual_server_group` that cannot be installed.
    #[error("virtual_server_group {group}: {what}")]
    BadGroup {
        /// The group's name.
        group: String,
        /// What is wrong.
        what: String,
    },
    /// A bad LVS setting in `global_defs`.
    #[error("global_defs: invalid {keyword} '{value}'")]
    BadGlobal {
        /// The keyword.
        keyword: String,
        /// The value.
        value: String,
    },
    /// A bad checker setting (`url` without `path`, bad `digest`, ...).
    #[error("virtual_server {vs}: real server {rs}: {what}")]
    BadChecker {
        /// The virtual server.
        vs: String,
        /// The real server.
        rs: String,
        /// What is wrong.
        what: String,
    },
}

/// The whole checker configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The virtual servers, in configuration order.
    pub services: Vec<ServicePlan>,
    /// `lvs_timeouts` (tcp, tcpfin, udp; 0 leaves the kernel's value):
    /// set at start, the kernel's earlier values restored at stop.
    pub timeouts: Option<Timeouts>,
    /// `lvs_flush`: the whole IPVS table is flushed at start.
    pub flush: bool,
    /// `lvs_flush_onstop` (`lvs_flush_on_stop`) without `VS`: the whole
    /// IPVS table is flushed at stop, not only this daemon's services.
    pub flush_on_stop: bool,
    /// `lvs_sync_daemon`.
    pub sync_daemon: Option<SyncPlan>,
    /// The `SSL` block's files, loaded at start when an SSL_GET runs
    /// (None: no block, or no SSL_GET; SSL_GET then presents no client
    /// certificate).
    pub ssl: Option<healthcheck::checkers::TlsFiles>,
}

/// `lvs_sync_daemon`: the IPVS connection sync daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncPlan {
    /// Its settings (the state is chosen when it starts).
    pub daemon: ipvs::SyncDaemon,
    /// The `vrrp_instance` whose MASTER state makes it the master (backup
    /// otherwise); None: master and backup both run, as keepalived's
    /// checker runs them.
    pub instance: Option<String>,
    /// That instance's virtual addresses: it is MASTER while they are on
    /// this host.
    pub instance_vips: Vec<std::net::IpAddr>,
}

/// One `virtual_server`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePlan {
    /// keepalived's name for it (`[10.0.0.1]:tcp:80`, `FWM 1`).
    pub name: String,
    /// keepalived's protocol name in names (`tcp`, `udp`, `sctp`; `none`
    /// for a fwmark service without `protocol`).
    pub proto: &'static str,
    /// The IPVS service (for `virtual_server group`, the group's first).
    pub service: Service,
    /// The further services of a `virtual_server group`, in keepalived's
    /// order (each address of each range, then each fwmark), all with the
    /// same real servers and checks; empty otherwise.
    pub group: Vec<Service>,
    /// Its real servers, in configuration order.
    pub real_servers: Vec<RealPlan>,
    /// `quorum`: the least sum of live weights for the pool (default 1).
    pub quorum: u32,
    /// `hysteresis` around the quorum (default 0).
    pub hysteresis: u32,
    /// `sorry_server`: the only destination while the quorum is lost.
    pub sorry_server: Option<SorryPlan>,
    /// `quorum_up`: run when the quorum is gained (the words of its line).
    pub quorum_up: Option<Vec<String>>,
    /// `quorum_down`: run when the quorum is lost.
    pub quorum_down: Option<Vec<String>>,
    /// `omega`: at shutdown, `notify_down` of every live real server and
    /// `quorum_down` run too.
    pub omega: bool,
    /// `ha_suspend`: the checks pause while the service's address is not
    /// on this host ([`Self::ha_suspend_address`]).
    pub ha_suspend: bool,
    /// `snmp_name`: SNMP's virtualServerName.
    pub snmp_name: Option<String>,
    /// Its own `connect_timeout` (default 5 s): what its real servers
    /// and checkers inherit; keepalived's dumps show it.
    pub connect_timeout: Duration,
    /// `smtp_alert`, resolved as keepalived resolves it
    /// ([`mail::Alerts`](super::mail::Alerts)): whether quorum changes
    /// would be mailed.
    pub smtp_alert: bool,
}

impl ServicePlan {
    /// Under `ha_suspend`, the address whose presence on this host runs
    /// the checks (keepalived's `addr_matches`; only an address service
    /// has one).
    pub fn ha_suspend_address(&self) -> Option<std::net::IpAddr> {
        match self.service.key {
            ServiceKey::Addr { addr, .. } if self.ha_suspend && self.group.is_empty() => {
                Some(addr.ip())
            }
            _ => None,
        }
    }

    /// Every IPVS service it installs: [`Self::service`], then
    /// [`Self::group`].
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        std::iter::once(&self.service).chain(&self.group)
    }

    /// The kernel's virtual servers for `dests`: one per service, a
    /// non-NAT destination taking the service's port (0 under a fwmark),
    /// as keepalived 2.2.7 installs them (`ipvs_group_cmd`).
    pub fn virtual_servers(&self, dests: &[Destination]) -> Vec<ipvs::VirtualServer> {
        self.services()
            .map(|service| {
                let port = match service.key {
                    ServiceKey::Addr { addr, .. } => addr.port(),
                    ServiceKey::Fwmark { .. } => 0,
                };
                let dests = dests
                    .iter()
                    .map(|d| {
                        let mut d = *d;
                        if d.forward != Forward::Masq {
                            d.addr.set_port(port);
                        }
                        d
                    })
                    .collect();
                ipvs::VirtualServer {
                    service: service.clone(),
                    dests,
                }
            })
            .collect()
    }

    /// The service's pool in a `healthcheck::Monitor`: its quorum,
    /// hysteresis and whether a sorry server stands by.
    pub fn pool_config(&self) -> PoolConfig {
        let pool = PoolConfig::with_quorum(self.quorum.into(), self.hysteresis.into());
        match self.sorry_server {
            Some(_) => pool.with_sorry_server(),
            None => pool,
        }
    }
}

/// A `sorry_server` (weight 1, the service's forwarding method).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SorryPlan {
    /// keepalived's name for it.
    pub name: String,
    /// The destination.
    pub dest: Destination,
    /// `sorry_server_inhibit`: kept in the table with weight 0 while
    /// not in use.
    pub inhibit: bool,
}

/// One `real_server`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RealPlan {
    /// keepalived's name for it (`[192.168.1.10]:tcp:80`).
    pub name: String,
    /// The destination, with its configured weight.
    pub dest: Destination,
    /// Kept with weight 0 instead of removed when down.
    pub inhibit_on_failure: bool,
    /// Its health checks: up only while all pass; none means always up
    /// (as keepalived).
    pub checks: Vec<CheckPlan>,
    /// `notify_up`: run when it comes up (the words of its line).
    pub notify_up: Option<Vec<String>>,
    /// `notify_down`: run when it goes down.
    pub notify_down: Option<Vec<String>>,
    /// `snmp_name`: SNMP's realServerName.
    pub snmp_name: Option<String>,
    /// Its `connect_timeout`, else its virtual server's: what its
    /// checkers inherit; keepalived's dumps show it.
    pub connect_timeout: Duration,
    /// `smtp_alert`, resolved as keepalived resolves it
    /// ([`mail::Alerts`](super::mail::Alerts)): whether health changes
    /// would be mailed.
    pub smtp_alert: bool,
}

impl RealPlan {
    /// The real server as a pool member: its weight and
    /// `inhibit_on_failure`.
    pub fn member_config(&self) -> MemberConfig {
        let mut member = MemberConfig::with_weight(self.dest.weight);
        member.inhibit_on_failure = self.inhibit_on_failure;
        member
    }
}

/// One checker of a real server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckPlan {
    /// What to check.
    pub probe: Probe,
    /// Where to connect and the timeout (`connect_timeout`).
    pub context: CheckContext,
    /// Interval, retries, alpha.
    pub target: TargetConfig,
}

/// The kind of check. Exhaustive on purpose: a new checker is a change
/// every runner must handle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// TCP_CHECK: a completed connect is up.
    Tcp,
    /// HTTP_GET, or SSL_GET over TLS: every url answers with an accepted
    /// status (and digest).
    Http {
        /// The url blocks.
        urls: Vec<UrlCheck>,
        /// The Host header: the checker's `virtualhost`, else the
        /// virtual server's.
        virtualhost: Option<String>,
        /// `http_protocol` (default HTTP/1.0).
        version: HttpVersion,
        /// SSL_GET: over TLS, accepting any server certificate as
        /// keepalived 2.2.7 does.
        ssl: bool,
        /// `enable_sni`: SSL_GET sends the virtual host as SNI (keepalived
        /// sends none otherwise).
        sni: bool,
    },
    /// SMTP_CHECK: a 220 banner and a 250 to `HELO helo_name`.
    Smtp {
        /// `helo_name` (keepalived's default `smtpchecker.keepalived.org`).
        helo_name: String,
    },
    /// DNS_CHECK: an answer with RCODE NOERROR to a query.
    Dns {
        /// `name` (default `.`).
        name: String,
        /// `type` (default SOA).
        qtype: DnsType,
    },
    /// UDP_CHECK: no ICMP error (and, with `require_reply`, a reply).
    Udp {
        /// `payload` (hex).
        payload: Vec<u8>,
        /// `require_reply`: a reply agreeing with these bytes over the
        /// shorter of the two (empty: any).
        require_reply: Option<Vec<u8>>,
        /// `min_reply_length` and `max_reply_length` (default 0 and 255),
        /// for a `require_reply` with data.
        reply_length: (usize, usize),
    },
    /// PING_CHECK: an ICMP echo reply.
    Ping,
    /// FILE_CHECK: the number in a `track_file`'s file (weight 0: up
    /// while 0; otherwise the number times the weight is added to the
    /// real server's weight). Read every second: keepalived watches the
    /// file with inotify.
    File {
        /// The `track_file` block's name.
        name: String,
        /// Its `file`.
        path: String,
        /// FILE_CHECK's `weight`, else the `track_file`'s (default 1).
        weight: i32,
        /// `reverse`.
        reverse: bool,
        /// The real server's configured weight.
        base_weight: u32,
    },
    /// MISC_CHECK: the command's exit code (0 up; with `misc_dynamic`,
    /// 2..=255 up with weight `code - 2`).
    Misc {
        /// The command line (`misc_path`).
        path: String,
        /// `misc_dynamic`.
        dynamic: bool,
        /// `user USER [GROUP]`: who runs it (None: this process).
        user: Option<Vec<String>>,
    },
}

impl Probe {
    /// The checker this probe runs.
    pub fn kind(&self) -> CheckerKind {
        match self {
            Probe::Tcp => CheckerKind::TcpCheck,
            Probe::Http { ssl: false, .. } => CheckerKind::HttpGet,
            Probe::Http { ssl: true, .. } => CheckerKind::SslGet,
            Probe::Misc { .. } => CheckerKind::MiscCheck,
            Probe::Smtp { .. } => CheckerKind::SmtpCheck,
            Probe::Dns { .. } => CheckerKind::DnsCheck,
            Probe::Udp { .. } => CheckerKind::UdpCheck,
            Probe::Ping => CheckerKind::PingCheck,
            Probe::File { .. } => CheckerKind::FileCheck,
        }
    }

    /// The checker's keyword ([`CheckerKind::keyword`]).
    pub fn keyword(&self) -> &'static str {
        self.kind().keyword()
    }
}

/// Builds the plan of every `virtual_server` of `config`, or the first
/// reason it cannot run. [`crate::convert::convert`] reports every reason
/// with its file:line.
pub fn build(config: &conf::Config) -> Result<Plan, PlanError> {
    let (plan, errors) = build_all(config);
    match errors.into_iter().next() {
        Some(e) => Err(e.error),
        None => Ok(plan),
    }
}

/// `plan`, the `i`th virtual server, with the `smtp_alert`s `alerts`
/// resolved for it and its real servers.
fn with_alerts(mut plan: ServicePlan, alerts: &super::mail::Alerts, i: usize) -> ServicePlan {
    plan.smtp_alert = alerts.virtual_servers.get(i).copied().unwrap_or(false);
    let rs = alerts.real_servers.get(i).map_or(&[][..], Vec::as_slice);
    for (r, alert) in plan.real_servers.iter_mut().zip(rs) {
        r.smtp_alert = *alert;
    }
    plan
}

/// A plan error and where it arose.
struct Located {
    /// The virtual server (none: `global_defs`).
    vs: Option<usize>,
    /// The real server being converted, if any.
    rs: Option<usize>,
    error: PlanError,
}

fn build_all(config: &conf::Config) -> (Plan, Vec<Located>) {
    let mut errors = Vec::new();
    let g =
        globals::parse(&config.global_defs.other, &config.vrrp_instances).unwrap_or_else(|error| {
            errors.push(Located {
                vs: None,
                rs: None,
                error,
            });
            globals::Globals::default()
        });
    let mut services: Vec<ServicePlan> = Vec::with_capacity(config.virtual_servers.len());
    // The services installed so far: a set, so that 10,000 virtual
    // servers are not compared pairwise.
    let mut taken: HashSet<ServiceKey> = HashSet::new();
    let alerts = super::mail::Alerts::of(config);
    for (i, vs) in config.virtual_servers.iter().enumerate() {
        let mut rs = None;
        let error = match service(config, vs, &mut rs).map(|p| with_alerts(p, &alerts, i)) {
            Ok(plan) if plan.services().any(|s| taken.contains(&s.key)) => {
                PlanError::DuplicateService { vs: plan.name }
            }
            Ok(plan) => {
                taken.extend(plan.services().map(|s| s.key));
                services.push(plan);
                continue;
            }
            Err(e) => e,
        };
        errors.push(Located {
            vs: Some(i),
            rs,
            error,
        });
    }
    let plan = Plan {
        timeouts: g.timeouts,
        flush: g.flush,
        flush_on_stop: g.flush_on_stop,
        sync_daemon: g.sync_daemon,
        ssl: ssl::files(config, &services),
        services,
    };
    (plan, errors)
}

/// The checker half of [`crate::convert::convert`]: the plan (meaningful
/// only without errors in `out`) and every refusal.
pub(crate) fn convert(p: &Parsed, out: &mut Vec<Diagnostic>) -> Option<Plan> {
    let (plan, errors) = build_all(&p.config);
    for e in &errors {
        let code = match e.error {
            PlanError::Unsupported { .. } => Code::Unsupported,
            PlanError::DuplicateService { .. } | PlanError::DuplicateRealServer { .. } => {
                Code::Duplicate
            }
            _ => Code::InvalidValue,
        };
        out.push(Diagnostic::error(code, span_of(p, e), e.error.to_string()));
    }
    Some(plan)
}

/// Where the keyword a plan error names was written: the setting itself
/// if it was kept verbatim, else the typed keyword, else the real or
/// virtual server.
fn span_of(p: &Parsed, e: &Located) -> Span {
    let Some(i) = e.vs else {
        let keyword = match &e.error {
            PlanError::BadGlobal { keyword, .. } => keyword.as_str(),
            _ => "",
        };
        return setting_span(&p.config.global_defs.other, keyword).unwrap_or_default();
    };
    let (Some(vs), Some(vsp)) = (
        p.config.virtual_servers.get(i),
        p.spans.virtual_servers.get(i),
    ) else {
        return Span::default();
    };
    let keyword = match &e.error {
        PlanError::Unsupported { keyword, .. } => unsupported_word(keyword),
        PlanError::BadValue { keyword, .. } => keyword.as_str(),
        _ => "",
    };
    let rs =
        e.rs.and_then(|j| Some((vs.real_servers.get(j)?, vsp.children.get(j)?)));
    let Some((rs, rsp)) = rs else {
        return setting_span(&vs.other, keyword).unwrap_or_else(|| vsp.key(keyword));
    };
    let kept = rs.other.iter().chain(rs.checkers.iter().flat_map(|k| {
        k.other
            .iter()
            .chain(k.urls.iter().flat_map(|u| u.other.iter()))
    }));
    if let Some(s) = kept.filter(|s| s.keyword == keyword).map(|s| s.span).next() {
        return s;
    }
    if let Some(k) = rs.checkers.iter().position(|k| k.kind.keyword() == keyword) {
        return rsp.children.get(k).map_or(rsp.head, |c| c.head);
    }
    let typed = rsp
        .keys
        .iter()
        .chain(rsp.children.iter().flat_map(|c: &ObjSpans| c.keys.iter()))
        .find(|(k, _)| *k == keyword);
    typed.map_or(rsp.head, |(_, s)| *s)
}

fn setting_span(other: &[conf::Setting], keyword: &str) -> Option<Span> {
    other.iter().find(|s| s.keyword == keyword).map(|s| s.span)
}

/// The keyword an `Unsupported` refusal names: `ha_suspend`,
/// `real_server [ip]:tcp:80 HTTP_GET url regex_options dupnames` ->
/// `regex_options`,
/// `persistence_granularity without persistence_timeout` -> the first.
fn unsupported_word(k: &str) -> &str {
    if let Some((first, _)) = k.split_once(" without ") {
        return first.rsplit(' ').next().unwrap_or(first);
    }
    // `... HTTP_GET url regex_options dupnames` -> `regex_options`.
    if let Some((_, rest)) = k.split_once(" url ") {
        return rest.split(' ').next().unwrap_or(rest);
    }
    let k = k.trim_end_matches(" misc_*").trim_end_matches(" url");
    k.rsplit(' ').next().unwrap_or(k)
}

/// The longest time a setting is taken as (a year): longer ones, and
/// values too large for a `Duration`, are cut to it.
pub const MAX_SETTING: Duration = Duration::from_secs(365 * 24 * 3600);

/// Seconds as written in the configuration, never panicking: negative
/// and NaN are 0, huge values are [`MAX_SETTING`].
fn seconds(s: f64) -> Duration {
    Duration::try_from_secs_f64(s.max(0.0)).map_or(MAX_SETTING, |d| d.min(MAX_SETTING))
}

/// A virtual server's protocol: an address service without `protocol`
/// is UDP, as keepalived 2.2.7's `validate_check_config` makes it ("no
/// protocol set - defaulting to UDP", the kernel's own default); a
/// fwmark service keeps none.
fn protocol_of(vs: &conf::VirtualServer) -> Option<conf::Protocol> {
    match vs.target {
        VsTarget::Address { .. } => Some(vs.protocol.unwrap_or(conf::Protocol::Udp)),
        VsTarget::Fwmark(_) | VsTarget::Group(_) => vs.protocol,
    }
}

/// keepalived's short protocol name (`inet_sockaddrtotrio`).
fn proto_name(p: Option<conf::Protocol>) -> &'static str {
    match p {
        Some(conf::Protocol::Tcp) => "tcp",
        Some(conf::Protocol::Udp) => "udp",
        Some(conf::Protocol::Sctp) => "sctp",
        None => "none",
    }
}

/// `[ip]:proto:port`, as keepalived's `FMT_VS`/`FMT_RS` print.
pub fn trio(addr: SocketAddr, proto: &str) -> String {
    format!("[{}]:{proto}:{}", addr.ip(), addr.port())
}

/// The IPVS protocol of an address service.
fn ipvs_protocol(p: Option<conf::Protocol>) -> ipvs::Protocol {
    match p {
        Some(conf::Protocol::Tcp) => ipvs::Protocol::Tcp,
        Some(conf::Protocol::Sctp) => ipvs::Protocol::Sctp,
        Some(conf::Protocol::Udp) | None => ipvs::Protocol::Udp,
    }
}

/// A `virtual_server group`'s name and service keys, in keepalived's
/// order: every address of its ranges (protocol UDP when none is set),
/// then its fwmarks.
fn group_keys(
    config: &conf::Config,
    vs: &conf::VirtualServer,
    name: &str,
) -> Result<(Option<conf::Protocol>, Vec<ServiceKey>), PlanError> {
    let g = config
        .virtual_server_groups
        .iter()
        .find(|g| g.name == name)
        .ok_or_else(|| PlanError::UnknownGroup { group: name.into() })?;
    let bad = |what: String| PlanError::BadGroup {
        group: name.into(),
        what,
    };
    let entries = g
        .members
        .iter()
        .map(|w| group::entry(w))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    if entries.is_empty() {
        return Err(bad("has no entries".into()));
    }
    if entries.iter().map(group::size).sum::<u64>() > MAX_GROUP_SERVICES {
        return Err(bad(format!("more than {MAX_GROUP_SERVICES} services")));
    }
    let has_range = entries.iter().any(|e| group::range_family(e).is_some());
    // As for a single service: UDP unless set; fwmarks only keep none.
    let protocol = if has_range {
        Some(vs.protocol.unwrap_or(conf::Protocol::Udp))
    } else {
        vs.protocol
    };
    // keepalived: a fwmark without family is the sorry server's (unless
    // tunnelled), else IPv4.
    let sorry_family = vs
        .sorry_server
        .as_ref()
        .filter(|_| vs.lvs_method != Some(LvsMethod::Tun))
        .map(|s| Family::of(&s.ip));
    let default_family = sorry_family.unwrap_or(Family::V4);
    let keys: Vec<ServiceKey> = entries
        .iter()
        .flat_map(|e| group::keys(e, ipvs_protocol(protocol), default_family))
        .collect();
    let family = keys.first().map(ServiceKey::family);
    if family.is_none() || keys.iter().any(|k| Some(k.family()) != family) {
        return Err(bad("mixes IPv4 and IPv6 services".into()));
    }
    Ok((protocol, keys))
}

/// One virtual server; `at` tells which real server was being converted
/// when it failed.
fn service(
    config: &conf::Config,
    vs: &conf::VirtualServer,
    at: &mut Option<usize>,
) -> Result<ServicePlan, PlanError> {
    let mut protocol = protocol_of(vs);
    let mut group = Vec::new();
    let (name, key) = match &vs.target {
        VsTarget::Group(g) => {
            let (p, keys) = group_keys(config, vs, g)?;
            protocol = p;
            let mut keys = keys.into_iter();
            let first = keys.next().ok_or_else(|| PlanError::BadGroup {
                group: g.clone(),
                what: "has no entries".into(),
            })?;
            group = keys.collect();
            (format!("[{g}]:0"), first)
        }
        VsTarget::Fwmark(mark) => {
            let family = ip_family(vs, &format!("FWM {mark}"))?.unwrap_or(fwmark_family(vs));
            (
                format!("FWM {mark}"),
                ServiceKey::Fwmark {
                    family,
                    mark: *mark,
                },
            )
        }
        VsTarget::Address { ip, port } => {
            let addr = SocketAddr::new(*ip, port.unwrap_or(0));
            let name = trio(addr, proto_name(protocol));
            let key = ServiceKey::Addr {
                protocol: ipvs_protocol(protocol),
                addr,
            };
            (name, key)
        }
    };
    let proto = proto_name(protocol);
    let missing_port = std::iter::once(&key)
        .chain(&group)
        .any(|k| matches!(k, ServiceKey::Addr { addr, .. } if addr.port() == 0));
    if missing_port && vs.persistence_timeout.is_none() {
        return Err(PlanError::MissingPort { vs: name });
    }
    refuse_vs_extras(vs, &name)?;
    let extras = VsExtras::read(vs, &name)?;
    if let Some(f) = ip_family(vs, &name)? {
        if f != key.family() {
            return Err(PlanError::BadValue {
                vs: name,
                keyword: "ip_family".into(),
                value: vs_setting(vs, "ip_family").unwrap_or_default(),
            });
        }
    }
    // keepalived clears ha_suspend on a fwmark service, and never
    // activates the checks of a group's (addr_matches is false for it).
    if vs.ha_suspend && !matches!(vs.target, VsTarget::Address { .. }) {
        return Err(PlanError::Unsupported {
            vs: name,
            keyword: "ha_suspend without a virtual server address".into(),
        });
    }
    let scheduler = vs.lvs_sched.map_or(DEFAULT_SCHEDULER, |s| s.name());
    let mut service = Service::new(key, scheduler);
    service.pe_name = extras.pe_name.clone();
    // keepalived: one-packet scheduling needs UDP, unless by fwmark.
    let ops_ok = matches!(key, ServiceKey::Fwmark { .. }) || protocol == Some(conf::Protocol::Udp);
    service.flags = lb_flags(vs, scheduler, ops_ok, &name)?;
    if let Some(t) = vs.persistence_timeout {
        service.flags = service.flags | ServiceFlags::PERSISTENT;
        service.timeout = t;
        // keepalived 2.2.7 installs a group's services with the full
        // netmask, whatever persistence_granularity says.
        let written = vs.persistence_granularity.as_ref();
        if let Some(g) = written.filter(|_| group.is_empty()) {
            service.netmask = granularity(g, key.family()).ok_or_else(|| PlanError::BadValue {
                vs: name.clone(),
                keyword: "persistence_granularity".into(),
                value: g.clone(),
            })?;
        }
    } else if vs.persistence_granularity.is_some() {
        return Err(PlanError::Unsupported {
            vs: name,
            keyword: "persistence_granularity without persistence_timeout".into(),
        });
    }
    let forward = match vs.lvs_method {
        None | Some(LvsMethod::Nat) => Forward::Masq,
        Some(LvsMethod::Dr) => Forward::DirectRoute,
        Some(LvsMethod::Tun) => Forward::Tunnel,
    };
    let interval = vs
        .delay_loop
        .map_or(DEFAULT_DELAY_LOOP, |d| d.min(MAX_SETTING));
    let inherited = Inherited::default()
        .over(&vs.other)
        .map_err(|(keyword, value)| PlanError::BadValue {
            vs: name.clone(),
            keyword,
            value,
        })?;
    // A group's real servers keep the port written (0 if none): the
    // kernel gets each service's where keepalived sets it
    // (`ServicePlan::virtual_servers`).
    let key_port = match key {
        ServiceKey::Addr { addr, .. } if group.is_empty() => Some(addr.port()),
        _ => None,
    };
    let default_port = key_port.unwrap_or(0);
    let mut real_servers: Vec<RealPlan> = Vec::with_capacity(vs.real_servers.len());
    for (j, rs) in vs.real_servers.iter().enumerate() {
        *at = Some(j);
        let ctx = RsCtx {
            config,
            vs,
            vs_name: &name,
            proto,
            family: key.family(),
            forward,
            interval,
            default_port,
            key_port,
            inherited: inherited.clone(),
            default_weight: extras.weight,
        };
        let mut plan = real_server(&ctx, rs)?;
        if matches!(vs.target, VsTarget::Group(_)) {
            let written = SocketAddr::new(rs.ip, rs.port.unwrap_or(0));
            plan.dest.addr = written;
            plan.name = trio(written, proto);
        }
        if real_servers.iter().any(|r| r.dest.addr == plan.dest.addr) {
            return Err(PlanError::DuplicateRealServer {
                vs: name,
                rs: plan.name,
            });
        }
        real_servers.push(plan);
    }
    *at = None;
    let sorry_server = match &vs.sorry_server {
        Some(s) => {
            let forward = extras.sorry_forward.unwrap_or(forward);
            let mut plan = sorry(s, &name, proto, key.family(), forward, key_port)?;
            plan.inhibit = vs.other.iter().any(|o| o.keyword == "sorry_server_inhibit");
            Some(plan)
        }
        None => None,
    };
    let group = group
        .into_iter()
        .map(|key| Service {
            key,
            ..service.clone()
        })
        .collect();
    Ok(ServicePlan {
        name,
        proto,
        service,
        group,
        real_servers,
        quorum: vs.quorum.unwrap_or(1),
        hysteresis: vs.hysteresis.unwrap_or(0),
        sorry_server,
        quorum_up: vs.quorum_up.clone().filter(|w| !w.is_empty()),
        quorum_down: vs.quorum_down.clone().filter(|w| !w.is_empty()),
        omega: vs.omega,
        ha_suspend: vs.ha_suspend,
        snmp_name: extras.snmp_name,
        connect_timeout: timeout_of(&inherited),
        // Resolved with the whole configuration (with_alerts).
        smtp_alert: false,
    })
}

/// The first argument of `vs`'s verbatim setting `keyword`.
fn vs_setting(vs: &conf::VirtualServer, keyword: &str) -> Option<String> {
    let s = vs.other.iter().rev().find(|s| s.keyword == keyword)?;
    Some(s.args.join(" "))
}

/// `ip_family inet|inet6`: the service's family (keepalived 2.2.7
/// `ip_family_handler`); it must agree with the addresses.
fn ip_family(vs: &conf::VirtualServer, name: &str) -> Result<Option<Family>, PlanError> {
    match vs_setting(vs, "ip_family").as_deref() {
        None => Ok(None),
        Some("inet") => Ok(Some(Family::V4)),
        Some("inet6") => Ok(Some(Family::V6)),
        Some(v) => Err(PlanError::BadValue {
            vs: name.to_owned(),
            keyword: "ip_family".into(),
            value: v.to_owned(),
        }),
    }
}

/// `NAT`, `DR` or `TUN` (keepalived's `svr_forwarding_handler`; tunnel
/// options are not run by keepalived-lite's checker).
fn forward_of(args: &[String]) -> Option<Forward> {
    match args {
        [m] if m == "NAT" => Some(Forward::Masq),
        [m] if m == "DR" => Some(Forward::DirectRoute),
        [m] if m == "TUN" => Some(Forward::Tunnel),
        _ => None,
    }
}

/// The `virtual_server` keywords kept verbatim that set the service or
/// its real servers' defaults.
struct VsExtras {
    /// `persistence_engine` (IPVS's pe_name).
    pe_name: Option<String>,
    /// `weight`: the real servers' default weight (keepalived's
    /// `vs->weight`, default 1).
    weight: u32,
    /// `sorry_server_lvs_method`.
    sorry_forward: Option<Forward>,
    /// `snmp_name`.
    snmp_name: Option<String>,
}

impl VsExtras {
    fn read(vs: &conf::VirtualServer, name: &str) -> Result<Self, PlanError> {
        let mut x = VsExtras {
            pe_name: None,
            weight: 1,
            sorry_forward: None,
            snmp_name: None,
        };
        for s in &vs.other {
            let bad = || PlanError::BadValue {
                vs: name.to_owned(),
                keyword: s.keyword.clone(),
                value: s.args.join(" "),
            };
            let one = || match s.args.as_slice() {
                [v] if !v.is_empty() => Ok(v.clone()),
                _ => Err(bad()),
            };
            match s.keyword.as_str() {
                // The kernel's IP_VS_PENAME_MAXLEN is 16 with the NUL.
                "persistence_engine" => {
                    x.pe_name = Some(one()?).filter(|p| p.len() < 16);
                    x.pe_name.as_ref().ok_or_else(bad)?;
                }
                "weight" => {
                    x.weight = one()?
                        .parse::<u32>()
                        .ok()
                        .filter(|w| (1..=65535).contains(w))
                        .ok_or_else(bad)?;
                }
                "sorry_server_lvs_method" => {
                    if vs.sorry_server.is_none() {
                        return Err(PlanError::Unsupported {
                            vs: name.to_owned(),
                            keyword: "sorry_server_lvs_method without sorry_server".into(),
                        });
                    }
                    x.sorry_forward = Some(forward_of(&s.args).ok_or_else(bad)?);
                }
                "snmp_name" => x.snmp_name = Some(one()?),
                _ => {}
            }
        }
        Ok(x)
    }
}

/// `sorry_server IP [PORT]`, its port set as [`dest_port`] sets it.
fn sorry(
    s: &conf::SorryServer,
    vs: &str,
    proto: &str,
    family: Family,
    forward: Forward,
    key_port: Option<u16>,
) -> Result<SorryPlan, PlanError> {
    let ip = s.ip;
    let addr = SocketAddr::new(ip, dest_port(key_port, forward, s.port));
    let name = trio(addr, proto);
    if Family::of(&ip) != family {
        return Err(PlanError::MixedFamily {
            vs: vs.to_owned(),
            rs: name,
        });
    }
    let dest = Destination::new(addr, forward);
    Ok(SorryPlan {
        name,
        dest,
        inhibit: false,
    })
}

/// The port a real or sorry server is installed with, as keepalived
/// 2.2.7's `validate_check_config` corrects it: under NAT the written
/// port (the service's when none, 0 for fwmark); otherwise 0 for a fwmark
/// service (`key_port` None) and the service's port for an address one.
fn dest_port(key_port: Option<u16>, forward: Forward, written: Option<u16>) -> u16 {
    match (forward, key_port) {
        (Forward::Masq, Some(vs)) => written.filter(|p| *p != 0).unwrap_or(vs),
        (Forward::Masq, None) => written.unwrap_or(0),
        (_, vs) => vs.unwrap_or(0),
    }
}

/// keepalived takes a fwmark service's family from its real servers.
fn fwmark_family(vs: &conf::VirtualServer) -> Family {
    vs.real_servers
        .first()
        .map_or(Family::V4, |r| Family::of(&r.ip))
}

/// `persistence_granularity`: an IPv4 netmask, or an IPv6 prefix length.
fn granularity(g: &str, family: Family) -> Option<u32> {
    match family {
        Family::V4 => g.parse::<Ipv4Addr>().ok().map(u32::from),
        Family::V6 => g.parse::<u32>().ok().filter(|p| (1..=128).contains(p)),
    }
}

/// The scheduler flags of `vs` (`ops`, `flag-1..3`, `sh-*`, `mh-*`), as
/// keepalived 2.2.7's `lbflags_handler` maps them; a flag keepalived
/// would drop (with a configuration error) is refused by name.
fn lb_flags(
    vs: &conf::VirtualServer,
    scheduler: &str,
    ops_ok: bool,
    name: &str,
) -> Result<ServiceFlags, PlanError> {
    let mut flags = ServiceFlags::default();
    for k in vs.other.iter().map(|s| s.keyword.as_str()) {
        let (flag, needs) = match k {
            "ops" => (ServiceFlags::ONE_PACKET, None),
            // keepalived 2.2.7 sets no flag for it (under sh; an error
            // otherwise).
            "hashed" => (ServiceFlags::default(), Some("sh")),
            "flag-1" => (ServiceFlags::SCHED1, None),
            "flag-2" => (ServiceFlags::SCHED2, None),
            "flag-3" => (ServiceFlags::SCHED3, None),
            "sh-fallback" => (ServiceFlags::SCHED1, Some("sh")),
            "sh-port" => (ServiceFlags::SCHED2, Some("sh")),
            "mh-fallback" => (ServiceFlags::SCHED1, Some("mh")),
            "mh-port" => (ServiceFlags::SCHED2, Some("mh")),
            _ => continue,
        };
        let refused = match needs {
            Some(s) if s != scheduler => Some(format!("{k} without lvs_sched {s}")),
            None if k == "ops" && !ops_ok => Some("ops without protocol UDP".to_owned()),
            _ => None,
        };
        if let Some(keyword) = refused {
            return Err(PlanError::Unsupported {
                vs: name.to_owned(),
                keyword,
            });
        }
        flags = flags | flag;
    }
    Ok(flags)
}

/// The scheduler flag keywords of a `virtual_server`.
const LB_FLAGS: [&str; 9] = [
    "ops",
    "hashed",
    "flag-1",
    "flag-2",
    "flag-3",
    "sh-fallback",
    "sh-port",
    "mh-fallback",
    "mh-port",
];

/// `virtual_server` keywords kept verbatim that the checker runs beside
/// the inherited ones and the scheduler flags.
const VS_EXTRAS: [&str; 7] = [
    "sorry_server_inhibit",
    "smtp_alert",
    "ip_family",
    "persistence_engine",
    "weight",
    "sorry_server_lvs_method",
    "snmp_name",
];

/// Refuses every `virtual_server` keyword the checker does not run.
fn refuse_vs_extras(vs: &conf::VirtualServer, name: &str) -> Result<(), PlanError> {
    let other = vs
        .other
        .iter()
        .map(|s| s.keyword.as_str())
        .find(|k| !VS_EXTRAS.contains(k) && !INHERITED.contains(k) && !LB_FLAGS.contains(k));
    match other {
        Some(keyword) => Err(PlanError::Unsupported {
            vs: name.to_owned(),
            keyword: keyword.to_owned(),
        }),
        None => Ok(()),
    }
}

/// What a real server inherits from its virtual server.
struct RsCtx<'a> {
    /// The whole configuration (FILE_CHECK's `track_file` blocks).
    config: &'a conf::Config,
    vs: &'a conf::VirtualServer,
    vs_name: &'a str,
    proto: &'static str,
    family: Family,
    forward: Forward,
    interval: Duration,
    default_port: u16,
    /// The service's port; None for a fwmark service.
    key_port: Option<u16>,
    /// Checker defaults set on the `virtual_server`.
    inherited: Inherited,
    /// A real server's weight when it sets none (`virtual_server`'s
    /// `weight`).
    default_weight: u32,
}

/// Checker settings a `virtual_server` or `real_server` sets for the
/// checkers below it (keepalived 2.2.7 `validate_check_config`: checker,
/// then real server, then virtual server, then the default).
const INHERITED: [&str; 8] = [
    "alpha",
    "virtualhost",
    "retry",
    "delay_before_retry",
    "connect_timeout",
    "warmup",
    "delay_loop",
    "inhibit_on_failure",
];

/// The inherited settings, as written.
#[derive(Debug, Clone, Default)]
struct Inherited {
    retry: Option<u32>,
    delay_before_retry: conf::Seconds,
    connect_timeout: conf::Seconds,
    /// `warmup` and `delay_loop`, handed to the checker as if written there.
    timers: Vec<conf::Setting>,
    inhibit_on_failure: Option<bool>,
    /// A `real_server`'s `alpha` (the virtual server's is typed).
    alpha: Option<conf::Setting>,
    /// A `real_server`'s `virtualhost`, for its HTTP checkers.
    virtualhost: Option<conf::Setting>,
}

impl Inherited {
    /// `self` overridden by what `settings` set; Err: a bad value's
    /// keyword and value.
    fn over(&self, settings: &[conf::Setting]) -> Result<Self, (String, String)> {
        let mut out = self.clone();
        for o in settings {
            let arg = o.args.first().map(String::as_str).unwrap_or_default();
            let bad = || (o.keyword.clone(), arg.to_owned());
            let secs = || {
                let v = arg
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 0.0);
                v.map(|v| crate::span::Spanned::new(seconds(v).min(MAX_SETTING), o.span))
                    .ok_or_else(bad)
            };
            match o.keyword.as_str() {
                "retry" => out.retry = Some(arg.parse().map_err(|_| bad())?),
                "delay_before_retry" => out.delay_before_retry = Some(secs()?),
                "connect_timeout" => out.connect_timeout = Some(secs()?),
                "warmup" | "delay_loop" => {
                    out.timers.retain(|t| t.keyword != o.keyword);
                    out.timers.push(o.clone());
                }
                "inhibit_on_failure" => out.inhibit_on_failure = Some(truth(arg).ok_or_else(bad)?),
                "alpha" => {
                    truth(arg).ok_or_else(bad)?;
                    out.alpha = Some(o.clone());
                }
                "virtualhost" if !arg.is_empty() => out.virtualhost = Some(o.clone()),
                "virtualhost" => return Err(bad()),
                _ => {}
            }
        }
        Ok(out)
    }

    /// `k` with what it does not set itself taken from here.
    fn apply(&self, k: &conf::Checker) -> conf::Checker {
        let mut k = k.clone();
        k.retry = k.retry.or(self.retry);
        k.delay_before_retry = k.delay_before_retry.or(self.delay_before_retry);
        // MISC_CHECK has no connection.
        if k.kind != CheckerKind::MiscCheck {
            k.connect_timeout = k.connect_timeout.or(self.connect_timeout);
        }
        let http = matches!(k.kind, CheckerKind::HttpGet | CheckerKind::SslGet);
        let vhost = self.virtualhost.iter().filter(|_| http);
        for t in self.timers.iter().chain(&self.alpha).chain(vhost) {
            if !k.other.iter().any(|o| o.keyword == t.keyword) {
                k.other.push(t.clone());
            }
        }
        k
    }
}

/// The `connect_timeout` a server passes on (keepalived's default
/// without one).
fn timeout_of(i: &Inherited) -> Duration {
    i.connect_timeout
        .map_or(DEFAULT_CONNECT_TIMEOUT, |d| d.value)
}

/// keepalived's `check_true_false`, with no argument true.
fn truth(arg: &str) -> Option<bool> {
    match arg {
        "" | "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `real_server` keywords kept verbatim that set the destination or its
/// SNMP name.
const RS_EXTRAS: [&str; 5] = [
    "smtp_alert",
    "snmp_name",
    "lvs_method",
    "uthreshold",
    "lthreshold",
];

/// A real server's own `lvs_method`, `uthreshold`, `lthreshold` and
/// `snmp_name` (keepalived 2.2.7 `check_parser.c`), applied to `dest`.
fn rs_extras(
    rs: &conf::RealServer,
    dest: &mut Destination,
    snmp_name: &mut Option<String>,
) -> Result<(), String> {
    for s in &rs.other {
        let bad = || format!("invalid {} '{}'", s.keyword, s.args.join(" "));
        let threshold = || match s.args.as_slice() {
            [v] => v.parse::<u32>().map_err(|_| bad()),
            _ => Err(bad()),
        };
        match s.keyword.as_str() {
            "lvs_method" => dest.forward = forward_of(&s.args).ok_or_else(bad)?,
            "uthreshold" => dest.upper_threshold = threshold()?,
            "lthreshold" => dest.lower_threshold = threshold()?,
            "snmp_name" => match s.args.as_slice() {
                [v] if !v.is_empty() => *snmp_name = Some(v.clone()),
                _ => return Err(bad()),
            },
            _ => {}
        }
    }
    Ok(())
}

fn real_server(c: &RsCtx<'_>, rs: &conf::RealServer) -> Result<RealPlan, PlanError> {
    let vs = c.vs_name.to_owned();
    let ip = rs.ip;
    // The checker connects to the port as written (the service's when
    // none, 0 for fwmark); the kernel gets keepalived's corrected port.
    let addr = SocketAddr::new(ip, rs.port.unwrap_or(c.default_port));
    // Its own lvs_method, else the virtual server's.
    let own = rs.other.iter().rev().find(|s| s.keyword == "lvs_method");
    let forward = own.and_then(|s| forward_of(&s.args)).unwrap_or(c.forward);
    let installed = SocketAddr::new(ip, dest_port(c.key_port, forward, rs.port));
    let name = trio(installed, c.proto);
    if Family::of(&ip) != c.family {
        return Err(PlanError::MixedFamily { vs, rs: name });
    }
    let refused = rs
        .other
        .iter()
        .map(|s| s.keyword.as_str())
        // smtp_alert is read by the mail settings (super::mail).
        .find(|k| !RS_EXTRAS.contains(k) && !INHERITED.contains(k));
    if let Some(k) = refused {
        return Err(PlanError::Unsupported {
            vs,
            keyword: format!("real_server {name} {k}"),
        });
    }
    let weight = rs
        .weight
        .unwrap_or(i32::try_from(c.default_weight).unwrap_or(1));
    let mut dest = Destination::new(installed, forward);
    let mut snmp_name = None;
    rs_extras(rs, &mut dest, &mut snmp_name).map_err(|what| PlanError::BadChecker {
        vs: vs.clone(),
        rs: name.clone(),
        what,
    })?;
    dest.weight =
        u32::try_from(weight)
            .ok()
            .filter(|w| *w <= 65535)
            .ok_or(PlanError::BadWeight {
                vs: vs.clone(),
                rs: name.clone(),
                weight,
            })?;
    let inherited = c
        .inherited
        .over(&rs.other)
        .map_err(|(k, v)| PlanError::BadChecker {
            vs: vs.clone(),
            rs: name.clone(),
            what: format!("invalid {k} '{v}'"),
        })?;
    let mut checks = Vec::with_capacity(rs.checkers.len());
    for k in &rs.checkers {
        checks.extend(checkers(c, addr, &name, &inherited.apply(k))?);
    }
    for check in &mut checks {
        if let Probe::File { base_weight, .. } = &mut check.probe {
            *base_weight = dest.weight;
        }
    }
    let inhibit_on_failure = rs.inhibit_on_failure || (inherited.inhibit_on_failure == Some(true));
    Ok(RealPlan {
        name,
        dest,
        inhibit_on_failure,
        checks,
        notify_up: rs.notify_up.clone().filter(|w| !w.is_empty()),
        notify_down: rs.notify_down.clone().filter(|w| !w.is_empty()),
        snmp_name,
        connect_timeout: timeout_of(&inherited),
        // Resolved with the whole configuration (with_alerts).
        smtp_alert: false,
    })
}

/// A checker block's checks: one, or for SMTP_CHECK one per `host`
/// block (keepalived 2.2.7 makes each an additional checker; the first
/// host replaces the block's own connection unless the block sets one).
fn checkers(
    c: &RsCtx<'_>,
    rs_addr: SocketAddr,
    rs_name: &str,
    k: &conf::Checker,
) -> Result<Vec<CheckPlan>, PlanError> {
    let is_host = |o: &conf::Setting| k.kind == CheckerKind::SmtpCheck && o.keyword == "host";
    let hosts: Vec<&conf::Setting> = k.other.iter().filter(|o| is_host(o)).collect();
    if hosts.is_empty() {
        return Ok(vec![checker(c, rs_addr, rs_name, k)?]);
    }
    let mut base = k.clone();
    base.other.retain(|o| !is_host(o));
    let main = checker(c, rs_addr, rs_name, &base)?;
    let own_connection = base.connect_ip.is_some()
        || base.connect_port.is_some()
        || base.bindto.is_some()
        || base.connect_timeout.is_some()
        // check_smtp.c counts these too (a bind_port even without bindto).
        || base
            .other
            .iter()
            .any(|o| matches!(o.keyword.as_str(), "bind_port" | "bind_if" | "fwmark"));
    let mut out = Vec::with_capacity(hosts.len() + 1);
    if own_connection {
        out.push(main.clone());
    }
    for host in hosts {
        let mut conn = conf::Checker::new(k.kind);
        for o in host.block.iter().flatten() {
            host_setting(&mut conn, o).map_err(|what| PlanError::BadChecker {
                vs: c.vs_name.to_owned(),
                rs: rs_name.to_owned(),
                what,
            })?;
        }
        let context = connect_context(&conn, rs_addr).ok_or_else(|| PlanError::CheckerNoPort {
            vs: c.vs_name.to_owned(),
            rs: rs_name.to_owned(),
        })?;
        out.push(CheckPlan {
            context,
            ..main.clone()
        });
    }
    Ok(out)
}

/// One setting of an SMTP_CHECK `host` block: its connection.
fn host_setting(conn: &mut conf::Checker, o: &conf::Setting) -> Result<(), String> {
    let arg = o.args.first().map(String::as_str).unwrap_or_default();
    let bad = || format!("SMTP_CHECK host: invalid {} '{arg}'", o.keyword);
    let ip = || {
        arg.parse()
            .map(|ip| crate::span::Spanned::new(ip, o.span))
            .map_err(|_| bad())
    };
    match o.keyword.as_str() {
        "connect_ip" => conn.connect_ip = Some(ip()?),
        "bindto" => conn.bindto = Some(ip()?),
        "connect_port" => conn.connect_port = Some(arg.parse().map_err(|_| bad())?),
        "connect_timeout" => {
            let secs = arg
                .parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0);
            let secs = seconds(secs.ok_or_else(bad)?);
            conn.connect_timeout = Some(crate::span::Spanned::new(secs, o.span));
        }
        other => return Err(format!("SMTP_CHECK host: '{other}' is not supported")),
    }
    Ok(())
}

fn checker(
    c: &RsCtx<'_>,
    rs_addr: SocketAddr,
    rs_name: &str,
    k: &conf::Checker,
) -> Result<CheckPlan, PlanError> {
    let bad = |what: String| PlanError::BadChecker {
        vs: c.vs_name.to_owned(),
        rs: rs_name.to_owned(),
        what,
    };
    let unsupported = |keyword: String| PlanError::Unsupported {
        vs: c.vs_name.to_owned(),
        keyword: format!("real_server {rs_name} {keyword}"),
    };
    let (probe, delay_before_retry) = match k.kind {
        CheckerKind::TcpCheck => (Probe::Tcp, DEFAULT_DELAY_BEFORE_RETRY),
        CheckerKind::SmtpCheck => {
            let helo_name = SMTP_DEFAULT_HELO.to_owned();
            (Probe::Smtp { helo_name }, DEFAULT_DELAY_BEFORE_RETRY)
        }
        CheckerKind::DnsCheck => {
            let probe = Probe::Dns {
                name: ".".to_owned(),
                qtype: DnsType::default(),
            };
            (probe, DEFAULT_DELAY_BEFORE_RETRY)
        }
        CheckerKind::UdpCheck => {
            let probe = Probe::Udp {
                payload: Vec::new(),
                require_reply: None,
                reply_length: (0, 255),
            };
            (probe, DEFAULT_DELAY_BEFORE_RETRY)
        }
        CheckerKind::PingCheck => (Probe::Ping, DEFAULT_DELAY_BEFORE_RETRY),
        CheckerKind::FileCheck => (
            file_probe(c.config, k).map_err(|e| match e {
                UrlError::Unsupported(w) => unsupported(w),
                UrlError::Bad(what) => bad(what),
            })?,
            DEFAULT_DELAY_BEFORE_RETRY,
        ),
        CheckerKind::HttpGet | CheckerKind::SslGet => {
            let urls = k
                .urls
                .iter()
                .map(|u| {
                    url(u).map_err(|e| match e {
                        UrlError::Unsupported(w) => {
                            unsupported(format!("{} url {w}", k.kind.keyword()))
                        }
                        UrlError::Bad(what) => bad(what),
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            if urls.is_empty() {
                return Err(bad(format!("{} has no url", k.kind.keyword())));
            }
            let probe = Probe::Http {
                urls,
                virtualhost: c.vs.virtualhost.clone(),
                version: HttpVersion::default(),
                ssl: k.kind == CheckerKind::SslGet,
                sni: false,
            };
            (probe, HTTP_DELAY_BEFORE_RETRY)
        }
        CheckerKind::MiscCheck => {
            let words = k
                .misc_path
                .as_ref()
                .ok_or_else(|| bad("MISC_CHECK has no misc_path".into()))?;
            // keepalived reads the words as one command line, as
            // vrrp_script does; the checker decides whether it needs sh.
            let line = words.join(" ").trim().to_owned();
            if line.is_empty() {
                return Err(bad("MISC_CHECK has an empty misc_path".into()));
            }
            let probe = Probe::Misc {
                path: line,
                dynamic: k.misc_dynamic,
                user: None,
            };
            (probe, DEFAULT_DELAY_BEFORE_RETRY)
        }
        other => return Err(unsupported(other.keyword().into())),
    };
    if !k.urls.is_empty() && !matches!(probe, Probe::Http { .. }) {
        return Err(unsupported(format!("{} url", probe.keyword())));
    }
    let is_misc = matches!(probe, Probe::Misc { .. });
    let is_file = matches!(probe, Probe::File { .. });
    if !is_misc && (k.misc_path.is_some() || k.misc_timeout.is_some() || k.misc_dynamic) {
        return Err(unsupported(format!("{} misc_*", probe.keyword())));
    }
    let connection = [
        ("connect_ip", k.connect_ip.is_some()),
        ("connect_port", k.connect_port.is_some()),
        ("bindto", k.bindto.is_some()),
        ("connect_timeout", k.connect_timeout.is_some()),
    ];
    if let Some((kw, _)) = connection
        .iter()
        .find(|(_, set)| (is_misc || is_file) && *set)
    {
        return Err(unsupported(format!("{} {kw}", probe.keyword())));
    }
    let mut probe = probe;
    let keyword = probe.keyword();
    let mut extra = CheckerExtras::default();
    for setting in &k.other {
        let refused = || unsupported(format!("{keyword} {}", setting.keyword));
        let value = || setting.args.first().cloned().ok_or_else(refused);
        let seconds_of = |v: String| {
            v.parse::<f64>()
                .ok()
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(seconds)
                .ok_or_else(|| bad(format!("invalid {} '{v}'", setting.keyword)))
        };
        match (setting.keyword.as_str(), &mut probe) {
            ("warmup", _) => extra.warmup = Some(seconds_of(value()?)?),
            // SO_BINDTODEVICE and SO_MARK of a connecting checker.
            ("bind_if", _) if !(is_misc || is_file) => {
                let v = value()?;
                if v.is_empty() || v.len() >= 16 {
                    return Err(bad(format!("invalid bind_if '{v}'")));
                }
                extra.bind_if = Some(v);
            }
            ("fwmark", _) if !(is_misc || is_file) => {
                let v = value()?;
                extra.mark = Some(
                    v.parse::<u32>()
                        .map_err(|_| bad(format!("invalid fwmark '{v}'")))?,
                );
            }
            // keepalived 2.2.7 sets the port of `bindto`'s address, and
            // binds only when an address is set: alone it binds nothing
            // (layer4.c), which is what happens here too.
            ("bind_port", _) => {
                let v = value()?;
                let port = v.parse::<u16>().ok().filter(|p| *p != 0);
                extra.bind_port =
                    Some(port.ok_or_else(|| bad(format!("invalid bind_port '{v}'")))?);
            }
            ("delay_loop", _) => extra.delay_loop = Some(seconds_of(value()?)?),
            ("alpha", _) => {
                let arg = setting.args.first().map_or("", String::as_str);
                extra.alpha = Some(truth(arg).ok_or_else(refused)?);
            }
            // A line for every failed attempt while up (FILE_CHECK has
            // no attempts).
            ("log_all_failures", _) if !is_file => {
                let arg = setting.args.first().map_or("", String::as_str);
                extra.log_all_failures = truth(arg).ok_or_else(refused)?;
            }
            // Read by file_probe.
            ("track_file" | "weight", Probe::File { .. }) => {}
            ("fast_recovery", Probe::Http { .. }) => {
                let arg = setting.args.first().map_or("", String::as_str);
                extra.fast_recovery = truth(arg).ok_or_else(refused)?;
            }
            ("virtualhost", Probe::Http { virtualhost, .. }) => *virtualhost = Some(value()?),
            ("enable_sni", Probe::Http { ssl: true, sni, .. }) => {
                let arg = setting.args.first().map_or("", String::as_str);
                *sni = truth(arg).ok_or_else(refused)?;
            }
            ("helo_name", Probe::Smtp { helo_name }) => *helo_name = value()?,
            // keepalived 2.2.7 `misc_user_handler`: USER [GROUP], looked
            // up when read.
            ("user", Probe::Misc { user, .. }) => {
                let words = setting.args.clone();
                let (name, group) = match words.as_slice() {
                    [u] => (u.as_str(), None),
                    [u, g] => (u.as_str(), Some(g.as_str())),
                    _ => return Err(bad(format!("invalid user '{}'", words.join(" ")))),
                };
                healthcheck::script::RunAs::lookup(name, group)
                    .map_err(|e| bad(format!("MISC_CHECK user: {e}")))?;
                *user = Some(words);
            }
            ("name", Probe::Dns { name, .. }) => *name = value()?,
            ("type", Probe::Dns { qtype, .. }) => *qtype = dns_type(&value()?),
            ("payload", Probe::Udp { payload, .. }) => {
                *payload = hex(&setting.args.concat())
                    .filter(|p| !p.is_empty())
                    .ok_or_else(|| bad("invalid UDP_CHECK payload".into()))?;
            }
            ("require_reply", Probe::Udp { require_reply, .. }) => {
                let data = hex(&setting.args.concat())
                    .ok_or_else(|| bad("invalid UDP_CHECK require_reply".into()))?;
                *require_reply = Some(data);
            }
            ("min_reply_length", Probe::Udp { reply_length, .. }) => {
                let v = value()?;
                reply_length.0 = reply_len(&v)
                    .ok_or_else(|| bad(format!("invalid {} '{v}'", setting.keyword)))?;
            }
            ("max_reply_length", Probe::Udp { reply_length, .. }) => {
                let v = value()?;
                reply_length.1 = reply_len(&v)
                    .ok_or_else(|| bad(format!("invalid {} '{v}'", setting.keyword)))?;
            }
            ("http_protocol", Probe::Http { version, .. }) => {
                *version = match value()?.as_str() {
                    "1.0" => HttpVersion::V1_0,
                    "1.0C" | "1.0c" => HttpVersion::V1_0Close,
                    "1.1" => HttpVersion::V1_1,
                    v => return Err(bad(format!("invalid http_protocol '{v}'"))),
                }
            }
            _ => return Err(refused()),
        }
    }
    // keepalived reacts to a tracked file at once (inotify): it is read
    // every second, and one reading decides.
    let interval = match is_file {
        true => FILE_POLL,
        false => extra.delay_loop.unwrap_or(c.interval),
    };
    let context = if is_file {
        // Nothing to connect to: the read is bounded by the interval.
        CheckContext::new(rs_addr, FILE_POLL)
    } else if probe == Probe::Ping {
        // An echo has no port.
        ping_context(k, rs_addr)
    } else if is_misc {
        // keepalived's misc_check_thread: misc_timeout, else the virtual
        // server's delay_loop.
        let timeout = k.misc_timeout.map_or(c.interval, |t| seconds(f64::from(t)));
        CheckContext::new(rs_addr, timeout)
    } else {
        connect_context(k, rs_addr).ok_or_else(|| PlanError::CheckerNoPort {
            vs: c.vs_name.to_owned(),
            rs: rs_name.to_owned(),
        })?
    };
    let mut context = context;
    if let (Some(port), Some(bind)) = (extra.bind_port, context.bind.as_mut()) {
        bind.set_port(port);
    }
    if let Some(dev) = extra.bind_if {
        context = context.with_bind_if(dev);
    }
    if let Some(mark) = extra.mark {
        context = context.with_mark(mark);
    }
    let mut target = TargetConfig::with_interval(interval);
    if let Some(w) = extra.warmup {
        target.warmup = w;
    }
    // Each checker kind's own defaults (queue_checker's, overridden by
    // its handler), taken when neither it nor its real or virtual server
    // set a value (check_data.c `validate_check_config`).
    let default_retry = match &probe {
        Probe::File { .. } => 0,
        Probe::Dns { .. } => DNS_DEFAULT_RETRY,
        Probe::Misc { .. } => MISC_DEFAULT_RETRY,
        _ => DEFAULT_RETRY,
    };
    let default_delay = match &probe {
        Probe::Dns { .. } => interval,
        _ => delay_before_retry,
    };
    target.retry = if is_file {
        0
    } else {
        k.retry.unwrap_or(default_retry)
    };
    target.delay_before_retry = k
        .delay_before_retry
        .map_or(default_delay, |d| d.min(MAX_SETTING));
    // The checker's alpha, else its real server's, else its virtual
    // server's (keepalived 2.2.7 `validate_check_config`).
    target.alpha = extra.alpha.unwrap_or(c.vs.alpha);
    // keepalived 2.2's TCP_CHECK and SMTP_CHECK retry whatever the state
    // (tcp_epilog, smtp_final); the others only while up.
    target.retry_while_down = matches!(probe, Probe::Tcp | Probe::Smtp { .. });
    // keepalived ORs the global with the checker's own.
    let all_failures = global_log_all_failures(c.config);
    target.log_all_failures = extra.log_all_failures || all_failures && !is_file;
    // check_http.c `epilog`: a down HTTP/SSL checker that passes once since
    // its failure only clears the failed URL; the next pass brings it up,
    // after delay_loop, or at once with fast_recovery.
    target.confirm_recovery = matches!(probe, Probe::Http { .. });
    target.fast_recovery = extra.fast_recovery;
    // ... and checks one url per step, delay_loop apart.
    if let Probe::Http { urls, .. } = &probe {
        target.urls = urls.len();
    }
    Ok(CheckPlan {
        probe,
        context,
        target,
    })
}

/// `global_defs`' `checker_log_all_failures`: a line for every failed
/// attempt of every checker (keepalived 2.2.7 `global_parser.c`; a bad
/// value is refused by [`globals::parse`]).
fn global_log_all_failures(config: &conf::Config) -> bool {
    let mut set = config.global_defs.other.iter().rev();
    let last = set.find(|s| s.keyword == "checker_log_all_failures");
    last.is_some_and(|s| truth(s.args.first().map_or("", String::as_str)) == Some(true))
}

/// How often a FILE_CHECK reads its file.
pub const FILE_POLL: Duration = Duration::from_secs(1);

/// FILE_CHECK: its `track_file NAME` and `weight N [reverse|noreverse]`,
/// and the top-level `track_file NAME { file; weight N [reverse] }` it
/// names (keepalived 2.2.7 `check_file.c`, `track_file.c`). The base
/// weight is the real server's, set by the caller.
fn file_probe(config: &conf::Config, k: &conf::Checker) -> Result<Probe, UrlError> {
    let arg = |s: &conf::Setting, i: usize| s.args.get(i).cloned().unwrap_or_default();
    let own = |kw: &str| k.other.iter().find(|s| s.keyword == kw);
    let name = own("track_file")
        .map(|s| arg(s, 0))
        .ok_or_else(|| UrlError::Bad("FILE_CHECK has no track_file".into()))?;
    let block = config
        .other
        .iter()
        .find(|s| {
            matches!(s.keyword.as_str(), "track_file" | "vrrp_track_file") && arg(s, 0) == name
        })
        .ok_or_else(|| UrlError::Bad(format!("track_file {name} not found")))?;
    let mut path = None;
    let (mut weight, mut reverse) = (1, false);
    for s in block.block.iter().flatten() {
        match s.keyword.as_str() {
            "file" => path = Some(arg(s, 0)),
            "weight" => (weight, reverse) = file_weight(s, 254)?,
            other => return Err(UrlError::Unsupported(format!("track_file {name} {other}"))),
        }
    }
    let path = path
        .filter(|p| !p.is_empty())
        .ok_or_else(|| UrlError::Bad(format!("track_file {name} has no file")))?;
    if let Some(s) = own("weight") {
        (weight, reverse) = file_weight(s, i32::MAX)?;
    }
    Ok(Probe::File {
        name,
        path,
        weight,
        reverse,
        base_weight: 1,
    })
}

/// `weight N [reverse|noreverse]` with |N| <= `limit`.
fn file_weight(s: &conf::Setting, limit: i32) -> Result<(i32, bool), UrlError> {
    let bad = || UrlError::Bad(format!("invalid weight '{}'", s.args.join(" ")));
    let n = s
        .args
        .first()
        .and_then(|w| w.parse::<i32>().ok())
        .filter(|w| w.checked_abs().is_some_and(|a| a <= limit))
        .ok_or_else(bad)?;
    let reverse = match s.args.get(1).map(String::as_str) {
        None | Some("noreverse") => false,
        Some("reverse") => true,
        Some(_) => return Err(bad()),
    };
    Ok((n, reverse))
}

/// UDP_CHECK's `min_reply_length`/`max_reply_length`: 0..=65535.
fn reply_len(v: &str) -> Option<usize> {
    v.parse::<u16>().ok().map(usize::from)
}

/// keepalived's `SMTP_DEFAULT_HELO`.
pub const SMTP_DEFAULT_HELO: &str = "smtpchecker.keepalived.org";

/// DNS_CHECK's `type`; keepalived takes anything else as SOA.
fn dns_type(t: &str) -> DnsType {
    match t.to_ascii_uppercase().as_str() {
        "A" => DnsType::A,
        "NS" => DnsType::Ns,
        "CNAME" => DnsType::Cname,
        "MX" => DnsType::Mx,
        "TXT" => DnsType::Txt,
        "AAAA" => DnsType::Aaaa,
        _ => DnsType::Soa,
    }
}

/// Where PING_CHECK pings: `connect_ip` (default: the real server), with
/// `connect_timeout` and `bindto`. The port is only named in log lines.
fn ping_context(k: &conf::Checker, rs_addr: SocketAddr) -> CheckContext {
    let ip = k.connect_ip.map_or(rs_addr.ip(), |a| *a);
    let port = k.connect_port.unwrap_or(rs_addr.port());
    with_timeout_and_bind(k, SocketAddr::new(ip, port))
}

/// The context for `target` with the checker's `connect_timeout` and
/// `bindto`.
fn with_timeout_and_bind(k: &conf::Checker, target: SocketAddr) -> CheckContext {
    let timeout = k
        .connect_timeout
        .map_or(DEFAULT_CONNECT_TIMEOUT, |d| d.min(MAX_SETTING));
    let mut context = CheckContext::new(target, timeout);
    if let Some(b) = k.bindto {
        context = context.with_bind(SocketAddr::new(*b, 0));
    }
    context
}

/// Where a connecting checker connects: `connect_ip`/`connect_port`
/// (default: the real server), `connect_timeout`, `bindto`. None: no
/// port anywhere.
fn connect_context(k: &conf::Checker, rs_addr: SocketAddr) -> Option<CheckContext> {
    let ip = k.connect_ip.map_or(rs_addr.ip(), |a| *a);
    let port = k.connect_port.unwrap_or(rs_addr.port());
    if port == 0 {
        return None;
    }
    Some(with_timeout_and_bind(k, SocketAddr::new(ip, port)))
}

/// Checker keywords kept verbatim by the model that the checker runs.
#[derive(Default)]
struct CheckerExtras {
    warmup: Option<Duration>,
    delay_loop: Option<Duration>,
    alpha: Option<bool>,
    /// `bind_port`: the source port (with `bindto`).
    bind_port: Option<u16>,
    /// `bind_if`: the interface its sockets are bound to.
    bind_if: Option<String>,
    /// `fwmark`: the mark of its packets.
    mark: Option<u32>,
    /// `log_all_failures`: a line for every failed attempt while up.
    log_all_failures: bool,
    /// HTTP_GET/SSL_GET `fast_recovery`.
    fast_recovery: bool,
}

/// Why a `url` block was refused.
enum UrlError {
    /// A keyword the checker does not run.
    Unsupported(String),
    /// A bad value.
    Bad(String),
}

/// One `url` block: `path` is required (as keepalived), `digest` is hex.
fn url(u: &conf::Url) -> Result<UrlCheck, UrlError> {
    let path = u
        .path
        .clone()
        .ok_or_else(|| UrlError::Bad("url without path".into()))?;
    let mut check = UrlCheck::new(path);
    let mut regex = RegexSettings::default();
    for s in &u.other {
        match (s.keyword.as_str(), s.args.first()) {
            ("virtualhost", Some(v)) => check.virtualhost = Some(v.clone()),
            (k, _) if k.starts_with("regex") => regex.read(s)?,
            (k, _) => return Err(UrlError::Unsupported(k.to_owned())),
        }
    }
    check.regex = regex.build()?;
    if let Some(codes) = &u.status_code {
        check.status =
            StatusCodes::parse(&codes.join(" ")).map_err(|e| UrlError::Bad(e.to_string()))?;
    }
    if let Some(d) = &u.digest {
        let bytes = hex(d).ok_or_else(|| UrlError::Bad(format!("invalid digest '{d}'")))?;
        check.digest = Some(bytes);
    }
    Ok(check)
}

/// A `url` block's `regex` and its `regex_*` settings, as written.
#[derive(Default)]
struct RegexSettings {
    pattern: Option<String>,
    options: Vec<String>,
    no_match: bool,
    min_offset: Option<usize>,
    max_offset: Option<usize>,
    /// `regex_stack` was written (read and checked; see [`Self::read`]).
    stack: bool,
}

impl RegexSettings {
    /// One `regex*` line (keepalived 2.2.7 `check_http.c`).
    fn read(&mut self, s: &conf::Setting) -> Result<(), UrlError> {
        let bad = || UrlError::Bad(format!("invalid {} '{}'", s.keyword, s.args.join(" ")));
        let offset = || match s.args.as_slice() {
            [v] => v.parse::<usize>().map_err(|_| bad()),
            _ => Err(bad()),
        };
        match s.keyword.as_str() {
            // keepalived reads the line with quotes and escapes, as the
            // lexer did: one field, the pattern.
            "regex" => match s.args.as_slice() {
                [p] if !p.is_empty() => self.pattern = Some(p.clone()),
                _ => return Err(UrlError::Bad("regex missing or too many fields".into())),
            },
            "regex_no_match" if s.args.is_empty() => self.no_match = true,
            "regex_options" => self.options.extend(s.args.iter().cloned()),
            "regex_min_offset" => self.min_offset = Some(offset()?),
            "regex_max_offset" => self.max_offset = Some(offset()?),
            // PCRE2's JIT stack sizes (start, max): the `regex` crate has no
            // such stack, and what matches is the same. Checked as
            // keepalived checks them.
            "regex_stack" => match s.args.as_slice() {
                [lo, hi] => {
                    let lo: u64 = lo.parse().map_err(|_| bad())?;
                    let hi: u64 = hi.parse().map_err(|_| bad())?;
                    if lo > hi {
                        return Err(bad());
                    }
                    self.stack = true;
                }
                _ => return Err(bad()),
            },
            k => return Err(UrlError::Unsupported(k.to_owned())),
        }
        Ok(())
    }

    /// The compiled regex. keepalived ignores `regex_*` settings without
    /// `regex`, and offsets with min beyond max, with a log line: both are
    /// refused here rather than ignored.
    fn build(self) -> Result<Option<healthcheck::checkers::BodyRegex>, UrlError> {
        let Some(pattern) = self.pattern else {
            let extra = !self.options.is_empty()
                || self.no_match
                || self.min_offset.is_some()
                || self.max_offset.is_some()
                || self.stack;
            return match extra {
                true => Err(UrlError::Bad(
                    "regex parameters specified without regex".into(),
                )),
                false => Ok(None),
            };
        };
        let mut r = healthcheck::checkers::BodyRegex::new(&pattern, &self.options).map_err(
            |e| match e {
                healthcheck::checkers::RegexError::UnsupportedOption(o) => {
                    UrlError::Unsupported(format!("regex_options {o}"))
                }
                e => UrlError::Bad(e.to_string()),
            },
        )?;
        r.no_match = self.no_match;
        r.min_offset = self.min_offset.unwrap_or(0);
        r.max_offset = self.max_offset;
        if self.max_offset.is_some_and(|max| r.min_offset > max) {
            return Err(UrlError::Bad(format!(
                "regex min offset {} > regex_max_offset {}",
                r.min_offset,
                self.max_offset.unwrap_or(0)
            )));
        }
        Ok(Some(r))
    }
}

fn hex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect()
}

#[cfg(test)]
mod tests;
