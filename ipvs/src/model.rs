//! The typed model of the IPVS table: services, destinations, counters,
//! timeouts, sync daemons.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

/// Address family of a service or destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4 (`AF_INET`).
    V4,
    /// IPv6 (`AF_INET6`).
    V6,
}

impl Family {
    /// The `AF_*` number.
    pub fn af(self) -> u16 {
        match self {
            Family::V4 => libc::AF_INET as u16,
            Family::V6 => libc::AF_INET6 as u16,
        }
    }
    /// From an `AF_*` number.
    pub fn from_af(af: u16) -> Option<Self> {
        match i32::from(af) {
            libc::AF_INET => Some(Family::V4),
            libc::AF_INET6 => Some(Family::V6),
            _ => None,
        }
    }
    /// The family of an address.
    pub fn of(ip: &IpAddr) -> Self {
        if ip.is_ipv4() {
            Family::V4
        } else {
            Family::V6
        }
    }
}

/// Transport protocol of an address-based service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    /// TCP (`ipvsadm -t`).
    Tcp,
    /// UDP (`ipvsadm -u`).
    Udp,
    /// SCTP (`ipvsadm --sctp-service`).
    Sctp,
    /// Any other IP protocol number.
    Other(u16),
}

impl Protocol {
    /// The IP protocol number.
    pub fn number(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
            Protocol::Other(n) => n,
        }
    }
    /// From an IP protocol number.
    pub fn from_number(n: u16) -> Self {
        match n {
            6 => Protocol::Tcp,
            17 => Protocol::Udp,
            132 => Protocol::Sctp,
            n => Protocol::Other(n),
        }
    }
}

/// What identifies a virtual service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ServiceKey {
    /// Protocol, virtual address and port.
    Addr {
        /// Protocol.
        protocol: Protocol,
        /// Virtual address and port.
        addr: SocketAddr,
    },
    /// Firewall mark, with the family of its destinations.
    Fwmark {
        /// Family.
        family: Family,
        /// Mark.
        mark: u32,
    },
}

impl ServiceKey {
    /// TCP service key.
    pub fn tcp(addr: SocketAddr) -> Self {
        ServiceKey::Addr {
            protocol: Protocol::Tcp,
            addr,
        }
    }
    /// UDP service key.
    pub fn udp(addr: SocketAddr) -> Self {
        ServiceKey::Addr {
            protocol: Protocol::Udp,
            addr,
        }
    }
    /// The service's family.
    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Addr { addr, .. } => Family::of(&addr.ip()),
            ServiceKey::Fwmark { family, .. } => *family,
        }
    }
}

/// Service flags (`IP_VS_SVC_F_*`), without the kernel-internal `HASHED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct ServiceFlags(pub u32);

impl ServiceFlags {
    /// Persistent service.
    pub const PERSISTENT: Self = Self(ipvs_sys::IP_VS_SVC_F_PERSISTENT);
    /// One-packet scheduling.
    pub const ONE_PACKET: Self = Self(ipvs_sys::IP_VS_SVC_F_ONEPACKET);
    /// Scheduler flag 1 (`sh`/`mh` fallback).
    pub const SCHED1: Self = Self(ipvs_sys::IP_VS_SVC_F_SCHED1);
    /// Scheduler flag 2 (`sh`/`mh` port).
    pub const SCHED2: Self = Self(ipvs_sys::IP_VS_SVC_F_SCHED2);
    /// Scheduler flag 3.
    pub const SCHED3: Self = Self(ipvs_sys::IP_VS_SVC_F_SCHED3);
    /// Flags user space may set.
    pub const USER_MASK: u32 = ipvs_sys::IP_VS_SVC_F_PERSISTENT
        | ipvs_sys::IP_VS_SVC_F_ONEPACKET
        | ipvs_sys::IP_VS_SVC_F_SCHED1
        | ipvs_sys::IP_VS_SVC_F_SCHED2
        | ipvs_sys::IP_VS_SVC_F_SCHED3;
    /// Whether every bit of `other` is set.
    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }
}

impl std::ops::BitOr for ServiceFlags {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// A virtual service's configuration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Service {
    /// Identity.
    pub key: ServiceKey,
    /// Scheduler module name without the `ip_vs_` prefix (`rr`, `wlc`, ...).
    pub scheduler: String,
    /// Flags.
    pub flags: ServiceFlags,
    /// Persistence timeout in seconds (meaningful with `PERSISTENT`).
    pub timeout: u32,
    /// Persistence netmask: for IPv4 the mask as an address's 32 bits
    /// (`0xffff_ffff` = /32), for IPv6 the prefix length (128 by default).
    pub netmask: u32,
    /// Persistence engine (`sip`), if any.
    pub pe_name: Option<String>,
}

impl Service {
    /// A non-persistent service with the given scheduler and the kernel's
    /// defaults for the rest (the netmask ipvsadm uses).
    pub fn new(key: ServiceKey, scheduler: &str) -> Self {
        let netmask = match key.family() {
            Family::V4 => u32::MAX,
            Family::V6 => 128,
        };
        Service {
            key,
            scheduler: scheduler.to_owned(),
            flags: ServiceFlags::default(),
            timeout: 0,
            netmask,
            pe_name: None,
        }
    }
}

/// Forwarding method of a destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Forward {
    /// Masquerading / NAT (`-m`).
    Masq,
    /// Local node (chosen by the kernel for local addresses).
    Local,
    /// Tunnelling (`-i`).
    Tunnel,
    /// Direct routing (`-g`), ipvsadm's default.
    #[default]
    DirectRoute,
    /// Cache bypass.
    Bypass,
}

impl Forward {
    /// The `IP_VS_CONN_F_*` value.
    pub fn conn_flags(self) -> u32 {
        use ipvs_sys::*;
        match self {
            Forward::Masq => IP_VS_CONN_F_MASQ,
            Forward::Local => IP_VS_CONN_F_LOCALNODE,
            Forward::Tunnel => IP_VS_CONN_F_TUNNEL,
            Forward::DirectRoute => IP_VS_CONN_F_DROUTE,
            Forward::Bypass => IP_VS_CONN_F_BYPASS,
        }
    }
    /// From connection flags (only the forwarding bits are looked at).
    pub fn from_conn_flags(f: u32) -> Option<Self> {
        use ipvs_sys::*;
        Some(match f & IP_VS_CONN_F_FWD_MASK {
            IP_VS_CONN_F_MASQ => Forward::Masq,
            IP_VS_CONN_F_LOCALNODE => Forward::Local,
            IP_VS_CONN_F_TUNNEL => Forward::Tunnel,
            IP_VS_CONN_F_DROUTE => Forward::DirectRoute,
            IP_VS_CONN_F_BYPASS => Forward::Bypass,
            _ => return None,
        })
    }
}

/// Tunnel encapsulation of a tunnelling destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TunnelType {
    /// IP-in-IP.
    #[default]
    Ipip,
    /// Generic UDP Encapsulation (needs a port).
    Gue,
    /// GRE.
    Gre,
    /// A type this crate does not know.
    Other(u8),
}

impl TunnelType {
    /// Wire value.
    pub fn number(self) -> u8 {
        match self {
            TunnelType::Ipip => ipvs_sys::IP_VS_CONN_F_TUNNEL_TYPE_IPIP,
            TunnelType::Gue => ipvs_sys::IP_VS_CONN_F_TUNNEL_TYPE_GUE,
            TunnelType::Gre => ipvs_sys::IP_VS_CONN_F_TUNNEL_TYPE_GRE,
            TunnelType::Other(n) => n,
        }
    }
    /// From the wire value.
    pub fn from_number(n: u8) -> Self {
        match n {
            ipvs_sys::IP_VS_CONN_F_TUNNEL_TYPE_IPIP => TunnelType::Ipip,
            ipvs_sys::IP_VS_CONN_F_TUNNEL_TYPE_GUE => TunnelType::Gue,
            ipvs_sys::IP_VS_CONN_F_TUNNEL_TYPE_GRE => TunnelType::Gre,
            n => TunnelType::Other(n),
        }
    }
}

/// Tunnel encapsulation flags (`IP_VS_TUNNEL_ENCAP_FLAG_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TunnelFlags(pub u16);

impl TunnelFlags {
    /// Checksum the encapsulation.
    pub const CSUM: Self = Self(ipvs_sys::IP_VS_TUNNEL_ENCAP_FLAG_CSUM);
    /// Remote checksum offload.
    pub const REMCSUM: Self = Self(ipvs_sys::IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM);
}

/// A real server's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Destination {
    /// Address and port (the family may differ from the service's with
    /// tunnelling).
    pub addr: SocketAddr,
    /// Forwarding method.
    pub forward: Forward,
    /// Weight (0 = quiesced).
    pub weight: u32,
    /// Upper connection threshold (0 = none).
    pub upper_threshold: u32,
    /// Lower connection threshold.
    pub lower_threshold: u32,
    /// Tunnel type (tunnelling only).
    pub tunnel_type: TunnelType,
    /// Tunnel port (GUE only).
    pub tunnel_port: u16,
    /// Tunnel flags.
    pub tunnel_flags: TunnelFlags,
}

impl Destination {
    /// A destination with weight 1, no thresholds, and the given method.
    pub fn new(addr: SocketAddr, forward: Forward) -> Self {
        Destination {
            addr,
            forward,
            weight: 1,
            upper_threshold: 0,
            lower_threshold: 0,
            tunnel_type: TunnelType::Ipip,
            tunnel_port: 0,
            tunnel_flags: TunnelFlags::default(),
        }
    }
}

/// Counters of a service or destination as in the 32-bit `STATS` nest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Stats {
    /// Connections scheduled.
    pub conns: u32,
    /// Incoming packets.
    pub inpkts: u32,
    /// Outgoing packets.
    pub outpkts: u32,
    /// Incoming bytes.
    pub inbytes: u64,
    /// Outgoing bytes.
    pub outbytes: u64,
    /// Connections per second.
    pub cps: u32,
    /// Incoming packets per second.
    pub inpps: u32,
    /// Outgoing packets per second.
    pub outpps: u32,
    /// Incoming bytes per second.
    pub inbps: u32,
    /// Outgoing bytes per second.
    pub outbps: u32,
}

/// Counters as in the `STATS64` nest (Linux 4.1+).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Stats64 {
    /// Connections scheduled.
    pub conns: u64,
    /// Incoming packets.
    pub inpkts: u64,
    /// Outgoing packets.
    pub outpkts: u64,
    /// Incoming bytes.
    pub inbytes: u64,
    /// Outgoing bytes.
    pub outbytes: u64,
    /// Connections per second.
    pub cps: u64,
    /// Incoming packets per second.
    pub inpps: u64,
    /// Outgoing packets per second.
    pub outpps: u64,
    /// Incoming bytes per second.
    pub inbps: u64,
    /// Outgoing bytes per second.
    pub outbps: u64,
}

/// A service as read from the kernel, with its counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceEntry {
    /// Configuration.
    pub service: Service,
    /// 32-bit counters.
    pub stats: Stats,
    /// 64-bit counters, when the kernel sends them.
    pub stats64: Option<Stats64>,
}

/// A destination as read from the kernel, with connection counts and
/// counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationEntry {
    /// Configuration.
    pub dest: Destination,
    /// Active connections.
    pub active_conns: u32,
    /// Inactive connections.
    pub inactive_conns: u32,
    /// Persistent connections (templates).
    pub persist_conns: u32,
    /// 32-bit counters.
    pub stats: Stats,
    /// 64-bit counters, when the kernel sends them.
    pub stats64: Option<Stats64>,
}

/// Connection timeouts in seconds; 0 in a `set` leaves a value unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Timeouts {
    /// Established TCP.
    pub tcp: u32,
    /// TCP after FIN.
    pub tcp_fin: u32,
    /// UDP.
    pub udp: u32,
}

/// Role of a sync daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DaemonState {
    /// Sends connection state.
    Master,
    /// Receives connection state.
    Backup,
}

impl DaemonState {
    /// `IP_VS_STATE_*` value.
    pub fn number(self) -> u32 {
        match self {
            DaemonState::Master => ipvs_sys::IP_VS_STATE_MASTER,
            DaemonState::Backup => ipvs_sys::IP_VS_STATE_BACKUP,
        }
    }
}

/// A connection synchronisation daemon.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SyncDaemon {
    /// Master or backup.
    pub state: DaemonState,
    /// Multicast interface.
    pub ifname: String,
    /// Sync id (0-255).
    pub sync_id: u32,
    /// Maximum sync message payload (0 = kernel default).
    pub sync_maxlen: u16,
    /// Multicast group (None = kernel default 224.0.0.81).
    pub mcast_group: Option<IpAddr>,
    /// Multicast port (0 = kernel default 8848).
    pub mcast_port: u16,
    /// Multicast TTL (0 = kernel default 1).
    pub mcast_ttl: u8,
}

impl SyncDaemon {
    /// A daemon with the kernel's defaults for the optional settings.
    pub fn new(state: DaemonState, ifname: &str, sync_id: u32) -> Self {
        SyncDaemon {
            state,
            ifname: ifname.to_owned(),
            sync_id,
            sync_maxlen: 0,
            mcast_group: None,
            mcast_port: 0,
            mcast_ttl: 0,
        }
    }
}

/// General information about the IPVS module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Info {
    /// Version code (`major << 16 | minor << 8 | patch`).
    pub version: u32,
    /// Size of the connection hash table.
    pub conn_tab_size: u32,
}

impl fmt::Display for Info {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "IP Virtual Server version {}.{}.{} (size={})",
            (self.version >> 16) & 0xff,
            (self.version >> 8) & 0xff,
            self.version & 0xff,
            self.conn_tab_size
        )
    }
}
