//! The generic netlink interface (`IPVS` family). Since Linux 2.6.28.

/// Generic netlink family name. Since Linux 2.6.28.
pub const IPVS_GENL_NAME: &str = "IPVS";
/// Generic netlink family version. Since Linux 2.6.28.
pub const IPVS_GENL_VERSION: u8 = 0x1;

/// Flags with a mask of the bits to change (`IPVS_SVC_ATTR_FLAGS` payload).
/// Since Linux 2.6.28.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ip_vs_flags {
    /// Flag values.
    pub flags: u32,
    /// Which bits of `flags` are meaningful.
    pub mask: u32,
}

// ---- Commands

/// Command 0: unused. Since Linux 2.6.28.
pub const IPVS_CMD_UNSPEC: u8 = 0;
/// Add a service. Since Linux 2.6.28.
pub const IPVS_CMD_NEW_SERVICE: u8 = 1;
/// Modify a service. Since Linux 2.6.28.
pub const IPVS_CMD_SET_SERVICE: u8 = 2;
/// Delete a service. Since Linux 2.6.28.
pub const IPVS_CMD_DEL_SERVICE: u8 = 3;
/// Get one service, or dump all with `NLM_F_DUMP`. Since Linux 2.6.28.
pub const IPVS_CMD_GET_SERVICE: u8 = 4;
/// Add a destination. Since Linux 2.6.28.
pub const IPVS_CMD_NEW_DEST: u8 = 5;
/// Modify a destination. Since Linux 2.6.28.
pub const IPVS_CMD_SET_DEST: u8 = 6;
/// Delete a destination. Since Linux 2.6.28.
pub const IPVS_CMD_DEL_DEST: u8 = 7;
/// Dump the destinations of one service. Since Linux 2.6.28.
pub const IPVS_CMD_GET_DEST: u8 = 8;
/// Start a sync daemon. Since Linux 2.6.28.
pub const IPVS_CMD_NEW_DAEMON: u8 = 9;
/// Stop a sync daemon. Since Linux 2.6.28.
pub const IPVS_CMD_DEL_DAEMON: u8 = 10;
/// Dump the sync daemons. Since Linux 2.6.28.
pub const IPVS_CMD_GET_DAEMON: u8 = 11;
/// Set the connection timeouts. Since Linux 2.6.28.
pub const IPVS_CMD_SET_CONFIG: u8 = 12;
/// Get the connection timeouts. Since Linux 2.6.28.
pub const IPVS_CMD_GET_CONFIG: u8 = 13;
/// Reply command of `IPVS_CMD_GET_INFO`. Since Linux 2.6.28.
pub const IPVS_CMD_SET_INFO: u8 = 14;
/// Get version and connection table size. Since Linux 2.6.28.
pub const IPVS_CMD_GET_INFO: u8 = 15;
/// Zero the counters of one service, or of all. Since Linux 2.6.28.
pub const IPVS_CMD_ZERO: u8 = 16;
/// Delete every service and destination. Since Linux 2.6.28.
pub const IPVS_CMD_FLUSH: u8 = 17;
/// Highest command number. Since Linux 2.6.28.
pub const IPVS_CMD_MAX: u8 = IPVS_CMD_FLUSH;

// ---- First-level command attributes

/// Command attribute 0: unused. Since Linux 2.6.28.
pub const IPVS_CMD_ATTR_UNSPEC: u16 = 0;
/// Nested service attributes (`IPVS_SVC_ATTR_*`). Since Linux 2.6.28.
pub const IPVS_CMD_ATTR_SERVICE: u16 = 1;
/// Nested destination attributes (`IPVS_DEST_ATTR_*`). Since Linux 2.6.28.
pub const IPVS_CMD_ATTR_DEST: u16 = 2;
/// Nested sync daemon attributes (`IPVS_DAEMON_ATTR_*`). Since Linux 2.6.28.
pub const IPVS_CMD_ATTR_DAEMON: u16 = 3;
/// TCP connection timeout in seconds (u32). Since Linux 2.6.28.
pub const IPVS_CMD_ATTR_TIMEOUT_TCP: u16 = 4;
/// TCP FIN-wait timeout in seconds (u32). Since Linux 2.6.28.
pub const IPVS_CMD_ATTR_TIMEOUT_TCP_FIN: u16 = 5;
/// UDP timeout in seconds (u32). Since Linux 2.6.28.
pub const IPVS_CMD_ATTR_TIMEOUT_UDP: u16 = 6;
/// Highest command attribute. Since Linux 2.6.28.
pub const IPVS_CMD_ATTR_MAX: u16 = IPVS_CMD_ATTR_TIMEOUT_UDP;

// ---- Service attributes (inside IPVS_CMD_ATTR_SERVICE)

/// Service attribute 0: unused. Since Linux 2.6.28.
pub const IPVS_SVC_ATTR_UNSPEC: u16 = 0;
/// Address family (u16, `AF_INET`/`AF_INET6`). Since Linux 2.6.28.
pub const IPVS_SVC_ATTR_AF: u16 = 1;
/// Protocol (u16: TCP, UDP, SCTP). Since Linux 2.6.28.
pub const IPVS_SVC_ATTR_PROTOCOL: u16 = 2;
/// Virtual address (16 bytes, IPv4 in the first 4). Since Linux 2.6.28.
pub const IPVS_SVC_ATTR_ADDR: u16 = 3;
/// Virtual port (u16, network byte order). Since Linux 2.6.28.
pub const IPVS_SVC_ATTR_PORT: u16 = 4;
/// Firewall mark (u32). Since Linux 2.6.28.
pub const IPVS_SVC_ATTR_FWMARK: u16 = 5;
/// Scheduler name (NUL-terminated string). Since Linux 2.6.28.
pub const IPVS_SVC_ATTR_SCHED_NAME: u16 = 6;
/// Flags ([`ip_vs_flags`]). Since Linux 2.6.28.
pub const IPVS_SVC_ATTR_FLAGS: u16 = 7;
/// Persistence timeout in seconds (u32). Since Linux 2.6.28.
pub const IPVS_SVC_ATTR_TIMEOUT: u16 = 8;
/// Persistence netmask (u32, network byte order; prefix length for IPv6).
/// Since Linux 2.6.28.
pub const IPVS_SVC_ATTR_NETMASK: u16 = 9;
/// Nested 32-bit statistics (`IPVS_STATS_ATTR_*`). Since Linux 2.6.28.
pub const IPVS_SVC_ATTR_STATS: u16 = 10;
/// Persistence engine name (string, e.g. `sip`). Since Linux 2.6.37.
pub const IPVS_SVC_ATTR_PE_NAME: u16 = 11;
/// Nested 64-bit statistics (`IPVS_STATS_ATTR_*`). Since Linux 4.1.
pub const IPVS_SVC_ATTR_STATS64: u16 = 12;
/// Highest service attribute. Since Linux 2.6.28.
pub const IPVS_SVC_ATTR_MAX: u16 = IPVS_SVC_ATTR_STATS64;

// ---- Destination attributes (inside IPVS_CMD_ATTR_DEST)

/// Destination attribute 0: unused. Since Linux 2.6.28.
pub const IPVS_DEST_ATTR_UNSPEC: u16 = 0;
/// Real server address (16 bytes). Since Linux 2.6.28.
pub const IPVS_DEST_ATTR_ADDR: u16 = 1;
/// Real server port (u16, network byte order). Since Linux 2.6.28.
pub const IPVS_DEST_ATTR_PORT: u16 = 2;
/// Forwarding method (u32, `IP_VS_CONN_F_*` under the fwd mask).
/// Since Linux 2.6.28.
pub const IPVS_DEST_ATTR_FWD_METHOD: u16 = 3;
/// Weight (u32). Since Linux 2.6.28.
pub const IPVS_DEST_ATTR_WEIGHT: u16 = 4;
/// Upper connection threshold (u32). Since Linux 2.6.28.
pub const IPVS_DEST_ATTR_U_THRESH: u16 = 5;
/// Lower connection threshold (u32). Since Linux 2.6.28.
pub const IPVS_DEST_ATTR_L_THRESH: u16 = 6;
/// Active connections (u32, replies only). Since Linux 2.6.28.
pub const IPVS_DEST_ATTR_ACTIVE_CONNS: u16 = 7;
/// Inactive connections (u32, replies only). Since Linux 2.6.28.
pub const IPVS_DEST_ATTR_INACT_CONNS: u16 = 8;
/// Persistent connections (u32, replies only). Since Linux 2.6.28.
pub const IPVS_DEST_ATTR_PERSIST_CONNS: u16 = 9;
/// Nested 32-bit statistics. Since Linux 2.6.28.
pub const IPVS_DEST_ATTR_STATS: u16 = 10;
/// Address family of the destination (u16), for mixed-family services.
/// Since Linux 3.18.
pub const IPVS_DEST_ATTR_ADDR_FAMILY: u16 = 11;
/// Nested 64-bit statistics. Since Linux 4.1.
pub const IPVS_DEST_ATTR_STATS64: u16 = 12;
/// Tunnel type (u8, `IP_VS_CONN_F_TUNNEL_TYPE_*`). Since Linux 5.2.
pub const IPVS_DEST_ATTR_TUN_TYPE: u16 = 13;
/// Tunnel port (u16, network byte order), for GUE. Since Linux 5.2.
pub const IPVS_DEST_ATTR_TUN_PORT: u16 = 14;
/// Tunnel flags (u16, `IP_VS_TUNNEL_ENCAP_FLAG_*`). Since Linux 5.3.
pub const IPVS_DEST_ATTR_TUN_FLAGS: u16 = 15;
/// Highest destination attribute. Since Linux 2.6.28.
pub const IPVS_DEST_ATTR_MAX: u16 = IPVS_DEST_ATTR_TUN_FLAGS;

// ---- Sync daemon attributes (inside IPVS_CMD_ATTR_DAEMON)

/// Daemon attribute 0: unused. Since Linux 2.6.28.
pub const IPVS_DAEMON_ATTR_UNSPEC: u16 = 0;
/// State (u32, `IP_VS_STATE_MASTER`/`IP_VS_STATE_BACKUP`). Since Linux 2.6.28.
pub const IPVS_DAEMON_ATTR_STATE: u16 = 1;
/// Multicast interface name (string). Since Linux 2.6.28.
pub const IPVS_DAEMON_ATTR_MCAST_IFN: u16 = 2;
/// Sync id (u32; the kernel keeps the low 8 bits). Since Linux 2.6.28.
pub const IPVS_DAEMON_ATTR_SYNC_ID: u16 = 3;
/// Maximum UDP payload of sync messages (u16). Since Linux 4.3.
pub const IPVS_DAEMON_ATTR_SYNC_MAXLEN: u16 = 4;
/// IPv4 multicast group (4 bytes, network order). Since Linux 4.3.
pub const IPVS_DAEMON_ATTR_MCAST_GROUP: u16 = 5;
/// IPv6 multicast group (16 bytes). Since Linux 4.3.
pub const IPVS_DAEMON_ATTR_MCAST_GROUP6: u16 = 6;
/// Multicast base port (u16, host byte order: the kernel reads it with
/// `nla_get_u16`, unlike service and destination ports). Since Linux 4.3.
pub const IPVS_DAEMON_ATTR_MCAST_PORT: u16 = 7;
/// Multicast TTL (u8). Since Linux 4.3.
pub const IPVS_DAEMON_ATTR_MCAST_TTL: u16 = 8;
/// Highest daemon attribute. Since Linux 2.6.28.
pub const IPVS_DAEMON_ATTR_MAX: u16 = IPVS_DAEMON_ATTR_MCAST_TTL;

// ---- Statistics attributes (inside *_STATS and *_STATS64 nests)

/// Stats attribute 0: unused. Since Linux 2.6.28.
pub const IPVS_STATS_ATTR_UNSPEC: u16 = 0;
/// Connections scheduled (u32, u64 in STATS64). Since Linux 2.6.28.
pub const IPVS_STATS_ATTR_CONNS: u16 = 1;
/// Incoming packets (u32, u64 in STATS64). Since Linux 2.6.28.
pub const IPVS_STATS_ATTR_INPKTS: u16 = 2;
/// Outgoing packets (u32, u64 in STATS64). Since Linux 2.6.28.
pub const IPVS_STATS_ATTR_OUTPKTS: u16 = 3;
/// Incoming bytes (u64). Since Linux 2.6.28.
pub const IPVS_STATS_ATTR_INBYTES: u16 = 4;
/// Outgoing bytes (u64). Since Linux 2.6.28.
pub const IPVS_STATS_ATTR_OUTBYTES: u16 = 5;
/// Connection rate per second (u32, u64 in STATS64). Since Linux 2.6.28.
pub const IPVS_STATS_ATTR_CPS: u16 = 6;
/// Incoming packet rate (u32, u64 in STATS64). Since Linux 2.6.28.
pub const IPVS_STATS_ATTR_INPPS: u16 = 7;
/// Outgoing packet rate (u32, u64 in STATS64). Since Linux 2.6.28.
pub const IPVS_STATS_ATTR_OUTPPS: u16 = 8;
/// Incoming byte rate (u32, u64 in STATS64). Since Linux 2.6.28.
pub const IPVS_STATS_ATTR_INBPS: u16 = 9;
/// Outgoing byte rate (u32, u64 in STATS64). Since Linux 2.6.28.
pub const IPVS_STATS_ATTR_OUTBPS: u16 = 10;
/// Padding for 64-bit alignment (no payload meaning). Since Linux 4.7.
pub const IPVS_STATS_ATTR_PAD: u16 = 11;
/// Highest stats attribute. Since Linux 4.7.
pub const IPVS_STATS_ATTR_MAX: u16 = IPVS_STATS_ATTR_PAD;

// ---- Info attributes (IPVS_CMD_GET_INFO reply)

/// Info attribute 0: unused. Since Linux 2.6.28.
pub const IPVS_INFO_ATTR_UNSPEC: u16 = 0;
/// IPVS version (u32, see `IP_VS_VERSION_CODE`). Since Linux 2.6.28.
pub const IPVS_INFO_ATTR_VERSION: u16 = 1;
/// Connection hash table size (u32). Since Linux 2.6.28.
pub const IPVS_INFO_ATTR_CONN_TAB_SIZE: u16 = 2;
/// Highest info attribute. Since Linux 2.6.28.
pub const IPVS_INFO_ATTR_MAX: u16 = IPVS_INFO_ATTR_CONN_TAB_SIZE;
