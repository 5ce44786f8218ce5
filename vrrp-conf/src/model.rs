//! The typed configuration model. Keywords the model has no field for but
//! keepalived knows are kept, in order, as [`Setting`]s in `other`, so that
//! nothing is lost on a round trip through [`crate::emit`].

use std::net::IpAddr;
use std::time::Duration;

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::span::{Span, Spanned};

/// A time in seconds as written (`1.5`), kept as a [`Duration`] with its
/// span; serialized as seconds.
pub type Seconds = Option<Spanned<Duration>>;

/// Serde for [`Seconds`]: a number of seconds.
pub(crate) mod secs {
    use super::*;

    pub(crate) fn serialize<S: serde::Serializer>(v: &Seconds, s: S) -> Result<S::Ok, S::Error> {
        v.as_ref().map(|d| d.as_secs_f64()).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Seconds, D::Error> {
        match Option::<f64>::deserialize(d)? {
            None => Ok(None),
            Some(s) => Duration::try_from_secs_f64(s)
                .map(|d| Some(Spanned::from(d)))
                .map_err(serde::de::Error::custom),
        }
    }
}

/// The words of one configuration line, as written (quotes removed).
pub type Words = Vec<String>;

/// A whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// `global_defs` (all blocks merged).
    pub global_defs: GlobalDefs,
    /// `static_ipaddress` entries.
    pub static_ipaddress: Vec<IpAddress>,
    /// `static_routes` entries.
    pub static_routes: Vec<Route>,
    /// `static_rules` entries, as words.
    pub static_rules: Vec<Words>,
    /// `vrrp_script` blocks.
    pub vrrp_scripts: Vec<VrrpScript>,
    /// `vrrp_sync_group` blocks.
    pub vrrp_sync_groups: Vec<SyncGroup>,
    /// `vrrp_instance` blocks.
    pub vrrp_instances: Vec<VrrpInstance>,
    /// `virtual_server_group` blocks.
    pub virtual_server_groups: Vec<VirtualServerGroup>,
    /// `virtual_server` blocks.
    pub virtual_servers: Vec<VirtualServer>,
    /// The `SSL` block (the last one: keepalived replaces an earlier one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssl: Option<Ssl>,
    /// Other known top-level keywords (e.g. `net_namespace`, `bfd_instance`).
    pub other: Vec<Setting>,
}

/// A keyword the model keeps verbatim: its arguments and block.
///
/// Compares without its [`span`](Self::span): where a setting was written
/// is not part of the configuration (`parse(emit(m)) == m`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Setting {
    /// The keyword.
    pub keyword: String,
    /// Its arguments.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Words,
    /// Its block, if it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub block: Option<Vec<Setting>>,
    /// Where the keyword was written (not serialized).
    #[serde(skip)]
    pub span: Span,
}

impl PartialEq for Setting {
    fn eq(&self, other: &Self) -> bool {
        (&self.keyword, &self.args, &self.block) == (&other.keyword, &other.args, &other.block)
    }
}

impl Eq for Setting {}

/// The top-level `SSL` block: what SSL_GET's TLS client loads
/// (keepalived 2.2.7 `check_parser.c`, `check_ssl.c`). Each value is the
/// first word of its line, kept as written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Ssl {
    /// `password`: the pass phrase of an encrypted `key`.
    pub password: Option<Spanned<String>>,
    /// `ca`: a PEM file of CA certificates.
    pub ca: Option<Spanned<String>>,
    /// `certificate`: the client certificate chain (PEM).
    pub certificate: Option<Spanned<String>>,
    /// `key`: the client's private key (PEM).
    pub key: Option<Spanned<String>>,
}

/// `global_defs`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct GlobalDefs {
    /// `router_id` (also `lvs_id`, deprecated).
    pub router_id: Option<String>,
    /// `notification_email { ... }`.
    pub notification_email: Vec<String>,
    /// `notification_email_from`.
    pub notification_email_from: Option<String>,
    /// `smtp_server HOST [PORT]`.
    pub smtp_server: Option<Words>,
    /// `smtp_connect_timeout` in seconds.
    pub smtp_connect_timeout: Option<u32>,
    /// `enable_script_security`.
    pub enable_script_security: bool,
    /// `script_user USER [GROUP]`.
    pub script_user: Option<Words>,
    /// `vrrp_strict`.
    pub vrrp_strict: bool,
    /// `vrrp_version` (2 or 3).
    pub vrrp_version: Option<u8>,
    /// `vrrp_mcast_group4` (an IPv4 address).
    pub vrrp_mcast_group4: Option<Spanned<IpAddr>>,
    /// `vrrp_garp_master_delay` in seconds.
    pub vrrp_garp_master_delay: Option<u32>,
    /// `vrrp_garp_master_repeat`: GARPs per address on becoming master.
    pub vrrp_garp_master_repeat: Option<u32>,
    /// `vrrp_garp_master_refresh` in seconds (0: no refresh).
    pub vrrp_garp_master_refresh: Option<u32>,
    /// `vrrp_garp_master_refresh_repeat`: GARPs per address per refresh.
    pub vrrp_garp_master_refresh_repeat: Option<u32>,
    /// `vrrp_skip_check_adv_addr`.
    pub vrrp_skip_check_adv_addr: bool,
    /// Other known keywords.
    pub other: Vec<Setting>,
}

/// An address with `ip addr` options: `ADDR[/LEN] [brd B] [dev D] [scope S] [label L] ...`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpAddress {
    /// The address and its prefix length (the full length if none was
    /// given), where it was written.
    pub address: Spanned<IpNet>,
    /// `brd` (or `broadcast`).
    pub brd: Option<Broadcast>,
    /// `dev`.
    pub dev: Option<String>,
    /// `scope`.
    pub scope: Option<Scope>,
    /// `label`.
    pub label: Option<String>,
    /// Other options, verbatim (e.g. `no_track`, `preferred_lft 0`).
    pub other: Words,
}

/// The broadcast address of an [`IpAddress`] (`brd`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Broadcast {
    /// `+`: the prefix with every host bit set.
    HostBitsSet,
    /// `-`: the prefix with every host bit clear.
    HostBitsClear,
    /// An address.
    Address(IpAddr),
}

impl std::fmt::Display for Broadcast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broadcast::HostBitsSet => f.write_str("+"),
            Broadcast::HostBitsClear => f.write_str("-"),
            Broadcast::Address(a) => a.fmt(f),
        }
    }
}

/// The scope of an address or route (`ip`'s names, or a number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// `global` (also `universe`).
    Global,
    /// `site`.
    Site,
    /// `link`.
    Link,
    /// `host`.
    Host,
    /// `nowhere`.
    Nowhere,
    /// Another scope, by number.
    Number(u8),
}

impl Scope {
    /// Reads `ip`'s scope names and numbers.
    pub fn parse(s: &str) -> Option<Scope> {
        Some(match s {
            "global" | "universe" => Scope::Global,
            "site" => Scope::Site,
            "link" => Scope::Link,
            "host" => Scope::Host,
            "nowhere" => Scope::Nowhere,
            n => Scope::Number(n.parse().ok()?),
        })
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scope::Global => f.write_str("global"),
            Scope::Site => f.write_str("site"),
            Scope::Link => f.write_str("link"),
            Scope::Host => f.write_str("host"),
            Scope::Nowhere => f.write_str("nowhere"),
            Scope::Number(n) => n.fmt(f),
        }
    }
}

/// A route: `[TYPE] [src S] [to] DST[/LEN] [via|gw G] [dev|oif D]
/// [metric|preference|priority M] [table T] [scope S] ...`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    /// The route type (none: unicast).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<RouteType>,
    /// The destination (`default` is `0.0.0.0/0`), where the route was
    /// written.
    pub dst: Spanned<IpNet>,
    /// `src`: the preferred source address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src: Option<IpAddr>,
    /// `via` (or `gw`, deprecated): the gateway.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<IpAddr>,
    /// `dev` (or `oif`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<String>,
    /// `metric` (or `preference`, `priority`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metric: Option<u32>,
    /// `table`, by number (`main`, `local` and `default` are read as 254,
    /// 255 and 253).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<u32>,
    /// `scope`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<Scope>,
    /// The words from the first option the model has no field for on,
    /// verbatim (`no_track`, `or`, `nexthop`, `mtu`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other: Words,
}

/// The type of a route other than unicast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RouteType {
    /// `blackhole`.
    Blackhole,
    /// `unreachable`.
    Unreachable,
    /// `prohibit`.
    Prohibit,
    /// `throw`.
    Throw,
}

impl RouteType {
    /// All types with their keywords.
    pub const ALL: [(RouteType, &'static str); 4] = [
        (RouteType::Blackhole, "blackhole"),
        (RouteType::Unreachable, "unreachable"),
        (RouteType::Prohibit, "prohibit"),
        (RouteType::Throw, "throw"),
    ];

    /// The keyword for this type.
    pub fn keyword(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("", |(_, s)| s)
    }
}

/// A keyword whose argument may be left out (`use_vmac`, `debug`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct OptionalArg<T> {
    /// The argument, if given.
    pub value: Option<T>,
}

/// `notify_*` scripts of an instance or sync group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Notify {
    /// `notify_master`.
    pub master: Option<Words>,
    /// `notify_backup`.
    pub backup: Option<Words>,
    /// `notify_fault`.
    pub fault: Option<Words>,
    /// `notify_stop`.
    pub stop: Option<Words>,
    /// `notify` (called on every transition).
    pub any: Option<Words>,
    /// `notify_deleted [SCRIPT]`: an instance removed by a reload is
    /// notified as DELETED rather than FAULT; an empty list is the bare
    /// keyword (no script of its own).
    pub deleted: Option<Words>,
    /// `notify_master_rx_lower_pri`: run when a master receives a
    /// lower-priority advert.
    pub master_rx_lower_pri: Option<Words>,
}

impl Notify {
    /// True if any script is set.
    pub fn any_set(&self) -> bool {
        [
            &self.master,
            &self.backup,
            &self.fault,
            &self.stop,
            &self.any,
            &self.master_rx_lower_pri,
        ]
        .iter()
        .any(|s| s.is_some())
            || self.deleted.as_ref().is_some_and(|d| !d.is_empty())
    }
}

/// An entry of `track_script` / `track_interface`: name and optional weight.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Track {
    /// Script or interface name.
    pub name: String,
    /// `weight N`.
    pub weight: Option<i32>,
    /// Other words (e.g. `reverse`).
    pub other: Words,
}

/// `vrrp_script NAME { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VrrpScript {
    /// Its name.
    pub name: String,
    /// `script`.
    pub script: Option<Words>,
    /// `interval`.
    #[serde(with = "secs")]
    pub interval: Seconds,
    /// `timeout`.
    #[serde(with = "secs")]
    pub timeout: Seconds,
    /// `weight`.
    pub weight: Option<i32>,
    /// `weight N reverse`: the weight applies with the opposite sign.
    pub weight_reverse: bool,
    /// `rise`.
    pub rise: Option<u32>,
    /// `fall`.
    pub fall: Option<u32>,
    /// `user USER [GROUP]`.
    pub user: Option<Words>,
    /// Other known keywords.
    pub other: Vec<Setting>,
}

/// `vrrp_sync_group NAME { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SyncGroup {
    /// Its name.
    pub name: String,
    /// `group { INSTANCE ... }`.
    pub group: Vec<String>,
    /// Notify scripts.
    pub notify: Notify,
    /// `smtp_alert [yes|no]`; unset follows the global settings.
    pub smtp_alert: Option<bool>,
    /// `track_script`.
    pub track_script: Vec<Track>,
    /// `track_interface`.
    pub track_interface: Vec<Track>,
    /// Other known keywords.
    pub other: Vec<Setting>,
}

/// Initial VRRP state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum State {
    /// `MASTER`.
    Master,
    /// `BACKUP`.
    Backup,
}

/// VRRP authentication type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum AuthType {
    /// Simple password.
    Pass,
    /// IPsec AH.
    Ah,
}

/// `authentication { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Authentication {
    /// `auth_type`.
    pub auth_type: Option<AuthType>,
    /// `auth_pass` (keepalived uses the first 8 bytes).
    pub auth_pass: Option<String>,
}

/// `vrrp_instance NAME { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VrrpInstance {
    /// Its name.
    pub name: String,
    /// `state`.
    pub state: Option<State>,
    /// `interface`.
    pub interface: Option<String>,
    /// `virtual_router_id` (1-255).
    pub virtual_router_id: Option<u8>,
    /// `priority` (1-255).
    pub priority: Option<u8>,
    /// `advert_int`.
    #[serde(with = "secs")]
    pub advert_int: Seconds,
    /// `version` (2 or 3).
    pub version: Option<u8>,
    /// `authentication`.
    pub authentication: Option<Authentication>,
    /// `virtual_ipaddress`.
    pub virtual_ipaddress: Vec<IpAddress>,
    /// `virtual_ipaddress_excluded`.
    pub virtual_ipaddress_excluded: Vec<IpAddress>,
    /// `virtual_routes`.
    pub virtual_routes: Vec<Route>,
    /// `virtual_rules`, as words.
    pub virtual_rules: Vec<Words>,
    /// `track_interface`.
    pub track_interface: Vec<Track>,
    /// `track_script`.
    pub track_script: Vec<Track>,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `preempt_delay`.
    #[serde(with = "secs")]
    pub preempt_delay: Seconds,
    /// `mcast_src_ip`.
    pub mcast_src_ip: Option<Spanned<IpAddr>>,
    /// `unicast_src_ip`.
    pub unicast_src_ip: Option<Spanned<IpAddr>>,
    /// `unicast_peer` entries.
    pub unicast_peer: Vec<UnicastPeer>,
    /// `use_vmac [NAME]`.
    pub use_vmac: Option<OptionalArg<String>>,
    /// `garp_master_delay` in seconds.
    pub garp_master_delay: Option<u32>,
    /// `garp_master_repeat`: GARPs per address on becoming master.
    pub garp_master_repeat: Option<u32>,
    /// `garp_master_refresh` in seconds (0: no refresh).
    pub garp_master_refresh: Option<u32>,
    /// `garp_master_refresh_repeat`: GARPs per address per refresh.
    pub garp_master_refresh_repeat: Option<u32>,
    /// Notify scripts.
    pub notify: Notify,
    /// `smtp_alert [yes|no]`; unset follows the global settings.
    pub smtp_alert: Option<bool>,
    /// `dont_track_primary`.
    pub dont_track_primary: bool,
    /// `lvs_sync_daemon_interface` (deprecated).
    pub lvs_sync_daemon_interface: Option<String>,
    /// `debug [LEVEL]`.
    pub debug: Option<OptionalArg<u32>>,
    /// Other known keywords.
    pub other: Vec<Setting>,
}

/// An entry of `unicast_peer`: `ADDR [min_ttl N] [max_ttl N]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnicastPeer {
    /// The peer's address, where it was written.
    pub address: Spanned<IpAddr>,
    /// `min_ttl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_ttl: Option<u8>,
    /// `max_ttl`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_ttl: Option<u8>,
}

/// `virtual_server_group NAME { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VirtualServerGroup {
    /// Its name.
    pub name: String,
    /// Members (`IP[-RANGE] PORT` or `fwmark N`), as words.
    pub members: Vec<Words>,
}

/// What a virtual server balances.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VsTarget {
    /// `virtual_server IP [PORT]`.
    Address {
        /// The address.
        ip: IpAddr,
        /// The port.
        port: Option<u16>,
    },
    /// `virtual_server fwmark N`.
    Fwmark(u32),
    /// `virtual_server group NAME`.
    Group(String),
}

impl Default for VsTarget {
    fn default() -> Self {
        VsTarget::Fwmark(0)
    }
}

/// An IPVS scheduler (the kernel's `ip_vs_NAME` modules).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheduler {
    /// Round robin.
    Rr,
    /// Weighted round robin.
    Wrr,
    /// Least connection.
    Lc,
    /// Weighted least connection (keepalived's default).
    Wlc,
    /// Locality-based least connection.
    Lblc,
    /// Locality-based least connection with replication.
    Lblcr,
    /// Destination hashing.
    Dh,
    /// Source hashing.
    Sh,
    /// Shortest expected delay.
    Sed,
    /// Never queue.
    Nq,
    /// Weighted failover.
    Fo,
    /// Weighted overflow.
    Ovf,
    /// Maglev hashing.
    Mh,
    /// Weighted random twos choice.
    Twos,
}

impl Scheduler {
    /// All schedulers with their names.
    pub const ALL: [(Scheduler, &'static str); 14] = [
        (Scheduler::Rr, "rr"),
        (Scheduler::Wrr, "wrr"),
        (Scheduler::Lc, "lc"),
        (Scheduler::Wlc, "wlc"),
        (Scheduler::Lblc, "lblc"),
        (Scheduler::Lblcr, "lblcr"),
        (Scheduler::Dh, "dh"),
        (Scheduler::Sh, "sh"),
        (Scheduler::Sed, "sed"),
        (Scheduler::Nq, "nq"),
        (Scheduler::Fo, "fo"),
        (Scheduler::Ovf, "ovf"),
        (Scheduler::Mh, "mh"),
        (Scheduler::Twos, "twos"),
    ];

    /// The kernel's name for it (`wlc`).
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(k, _)| *k == self)
            .map_or("", |(_, s)| s)
    }
}

/// IPVS forwarding method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum LvsMethod {
    /// Masquerading.
    Nat,
    /// Direct routing.
    Dr,
    /// Tunnelling.
    Tun,
}

/// Transport protocol of a virtual server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// SCTP.
    Sctp,
}

/// `virtual_server ... { ... }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct VirtualServer {
    /// What it balances.
    pub target: VsTarget,
    /// `delay_loop`.
    #[serde(with = "secs")]
    pub delay_loop: Seconds,
    /// `lvs_sched` (also `lb_algo`, deprecated).
    pub lvs_sched: Option<Scheduler>,
    /// `lvs_method` (also `lb_kind`, deprecated).
    pub lvs_method: Option<LvsMethod>,
    /// `persistence_timeout` in seconds.
    pub persistence_timeout: Option<u32>,
    /// `persistence_granularity` (a netmask).
    pub persistence_granularity: Option<String>,
    /// `protocol`.
    pub protocol: Option<Protocol>,
    /// `ha_suspend`.
    pub ha_suspend: bool,
    /// `virtualhost`.
    pub virtualhost: Option<String>,
    /// `alpha`.
    pub alpha: bool,
    /// `omega`.
    pub omega: bool,
    /// `quorum`.
    pub quorum: Option<u32>,
    /// `hysteresis`.
    pub hysteresis: Option<u32>,
    /// `quorum_up` script.
    pub quorum_up: Option<Words>,
    /// `quorum_down` script.
    pub quorum_down: Option<Words>,
    /// `sorry_server IP [PORT]`.
    pub sorry_server: Option<Spanned<SorryServer>>,
    /// `real_server` blocks.
    pub real_servers: Vec<RealServer>,
    /// Other known keywords.
    pub other: Vec<Setting>,
}

/// `sorry_server IP [PORT]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SorryServer {
    /// The address.
    pub ip: IpAddr,
    /// The port (default: the virtual server's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
}

/// `real_server IP [PORT] { ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RealServer {
    /// The address.
    pub ip: IpAddr,
    /// The port.
    pub port: Option<u16>,
    /// `weight`.
    pub weight: Option<i32>,
    /// `inhibit_on_failure`.
    pub inhibit_on_failure: bool,
    /// `notify_up` script.
    pub notify_up: Option<Words>,
    /// `notify_down` script.
    pub notify_down: Option<Words>,
    /// Health checkers.
    pub checkers: Vec<Checker>,
    /// Other known keywords.
    pub other: Vec<Setting>,
}

impl Default for RealServer {
    fn default() -> Self {
        RealServer {
            ip: IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED),
            port: None,
            weight: None,
            inhibit_on_failure: false,
            notify_up: None,
            notify_down: None,
            checkers: Vec::new(),
            other: Vec::new(),
        }
    }
}

/// The kind of a health checker.
/// Serialized as keepalived's keyword (`"TCP_CHECK"`), which
/// [`CheckerKind::keyword`] also gives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[non_exhaustive]
pub enum CheckerKind {
    /// `TCP_CHECK`.
    TcpCheck,
    /// `HTTP_GET`.
    HttpGet,
    /// `SSL_GET`.
    SslGet,
    /// `SMTP_CHECK`.
    SmtpCheck,
    /// `DNS_CHECK`.
    DnsCheck,
    /// `MISC_CHECK`.
    MiscCheck,
    /// `UDP_CHECK`.
    UdpCheck,
    /// `PING_CHECK`.
    PingCheck,
    /// `FILE_CHECK`.
    FileCheck,
    /// `BFD_CHECK`.
    BfdCheck,
}

impl CheckerKind {
    /// Every kind, in keepalived's order.
    pub const KINDS: [CheckerKind; 10] = [
        CheckerKind::TcpCheck,
        CheckerKind::HttpGet,
        CheckerKind::SslGet,
        CheckerKind::SmtpCheck,
        CheckerKind::DnsCheck,
        CheckerKind::MiscCheck,
        CheckerKind::UdpCheck,
        CheckerKind::PingCheck,
        CheckerKind::FileCheck,
        CheckerKind::BfdCheck,
    ];

    /// All kinds with their keywords.
    pub const ALL: [(CheckerKind, &'static str); 10] = {
        let mut all = [(CheckerKind::TcpCheck, ""); 10];
        let mut i = 0;
        while i < all.len() {
            all[i] = (Self::KINDS[i], Self::KINDS[i].keyword());
            i += 1;
        }
        all
    };

    /// Every kind's keyword, in [`Self::KINDS`] order.
    pub const KEYWORDS: [&'static str; 10] = {
        let mut all = [""; 10];
        let mut i = 0;
        while i < all.len() {
            all[i] = Self::KINDS[i].keyword();
            i += 1;
        }
        all
    };

    /// The keyword for this kind: the one place it is written (serde's
    /// name is the same, derived from the variant).
    pub const fn keyword(self) -> &'static str {
        match self {
            CheckerKind::TcpCheck => "TCP_CHECK",
            CheckerKind::HttpGet => "HTTP_GET",
            CheckerKind::SslGet => "SSL_GET",
            CheckerKind::SmtpCheck => "SMTP_CHECK",
            CheckerKind::DnsCheck => "DNS_CHECK",
            CheckerKind::MiscCheck => "MISC_CHECK",
            CheckerKind::UdpCheck => "UDP_CHECK",
            CheckerKind::PingCheck => "PING_CHECK",
            CheckerKind::FileCheck => "FILE_CHECK",
            CheckerKind::BfdCheck => "BFD_CHECK",
        }
    }
}

/// A health checker block inside a real server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checker {
    /// Which checker.
    pub kind: CheckerKind,
    /// `connect_ip`.
    #[serde(default)]
    pub connect_ip: Option<Spanned<IpAddr>>,
    /// `connect_port`.
    #[serde(default)]
    pub connect_port: Option<u16>,
    /// `bindto`.
    #[serde(default)]
    pub bindto: Option<Spanned<IpAddr>>,
    /// `connect_timeout`.
    #[serde(default, with = "secs")]
    pub connect_timeout: Seconds,
    /// `retry` (also `nb_get_retry`, deprecated).
    #[serde(default)]
    pub retry: Option<u32>,
    /// `delay_before_retry`.
    #[serde(default, with = "secs")]
    pub delay_before_retry: Seconds,
    /// `url` blocks of HTTP_GET / SSL_GET.
    #[serde(default)]
    pub urls: Vec<Url>,
    /// `misc_path` of MISC_CHECK.
    #[serde(default)]
    pub misc_path: Option<Words>,
    /// `misc_timeout` of MISC_CHECK.
    #[serde(default)]
    pub misc_timeout: Option<u32>,
    /// `misc_dynamic` of MISC_CHECK.
    #[serde(default)]
    pub misc_dynamic: bool,
    /// Other known keywords (e.g. SMTP_CHECK's `host` blocks).
    #[serde(default)]
    pub other: Vec<Setting>,
}

impl Checker {
    /// A checker of `kind` with nothing set.
    pub fn new(kind: CheckerKind) -> Self {
        Checker {
            kind,
            connect_ip: None,
            connect_port: None,
            bindto: None,
            connect_timeout: None,
            retry: None,
            delay_before_retry: None,
            urls: Vec::new(),
            misc_path: None,
            misc_timeout: None,
            misc_dynamic: false,
            other: Vec::new(),
        }
    }
}

/// `url { path ...; digest ...; status_code ... }`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Url {
    /// `path`.
    pub path: Option<String>,
    /// `digest` (MD5, hex).
    pub digest: Option<String>,
    /// `status_code` (codes or ranges, as written).
    pub status_code: Option<Words>,
    /// Other known keywords.
    pub other: Vec<Setting>,
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::CheckerKind;

    #[test]
    fn a_checker_kind_serializes_as_its_keyword() {
        for kind in CheckerKind::KINDS {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.keyword()));
            let back: CheckerKind = serde_json::from_str(&json).unwrap();
            assert_eq!(back, kind);
        }
        assert_eq!(CheckerKind::ALL[5], (CheckerKind::MiscCheck, "MISC_CHECK"));
    }
}
