//! Definitions of the Linux IPVS control interface, as in the kernel's
//! `include/uapi/linux/ip_vs.h`: the generic netlink family, its commands and
//! attribute ids, flags, forwarding methods, tunnel types, limits, and the
//! legacy `setsockopt`/`getsockopt` numbers and structures.
//!
//! Contract: definitions only. No I/O, no allocation, no logic, no panics.
//! Every item names the kernel release that introduced it ("Since Linux
//! X.Y"); the generic netlink interface itself appeared in 2.6.28, the
//! socket-option interface predates it (mainline since 2.6.0).
//!
//! Byte order: netlink attributes carry ports, addresses and netmasks in
//! network byte order and everything else in host order, exactly as the
//! kernel header documents with `__be16`/`__be32`.
//!
//! ```
//! use ipvs_sys::*;
//! assert_eq!(IPVS_GENL_NAME, "IPVS");
//! assert_eq!(IPVS_CMD_NEW_SERVICE, 1);
//! assert_eq!(IPVS_DEST_ATTR_TUN_FLAGS, 15);
//! assert_eq!(core::mem::size_of::<ip_vs_service_user>(), 44);
//! ```
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]
#![allow(non_camel_case_types)]

mod genl;
mod sockopt;

pub use genl::*;
pub use sockopt::*;

/// Version of the IPVS code the header describes (1.2.1), as reported by
/// `IPVS_INFO_ATTR_VERSION`: `major << 16 | minor << 8 | patch`.
/// Since Linux 2.6.0.
pub const IP_VS_VERSION_CODE: u32 = 0x01_02_01;

// ---- Virtual service flags (IPVS_SVC_ATTR_FLAGS, ip_vs_service_user.flags)

/// Service flag: persistent (sticky) service. Since Linux 2.6.0.
pub const IP_VS_SVC_F_PERSISTENT: u32 = 0x0001;
/// Service flag: the service is hashed (set by the kernel). Since Linux 2.6.0.
pub const IP_VS_SVC_F_HASHED: u32 = 0x0002;
/// Service flag: one-packet scheduling (`ipvsadm -o`). Since Linux 2.6.35.
pub const IP_VS_SVC_F_ONEPACKET: u32 = 0x0004;
/// Service flag: scheduler-specific flag 1. Since Linux 3.11.
pub const IP_VS_SVC_F_SCHED1: u32 = 0x0008;
/// Service flag: scheduler-specific flag 2. Since Linux 3.11.
pub const IP_VS_SVC_F_SCHED2: u32 = 0x0010;
/// Service flag: scheduler-specific flag 3. Since Linux 3.11.
pub const IP_VS_SVC_F_SCHED3: u32 = 0x0020;
/// `sh` and `mh` schedulers: fall back to another destination when the
/// chosen one is unavailable (`sh-fallback`, `mh-fallback`). Alias of
/// [`IP_VS_SVC_F_SCHED1`]. Since Linux 3.11 (`mh` since 4.18).
pub const IP_VS_SVC_F_SCHED_SH_FALLBACK: u32 = IP_VS_SVC_F_SCHED1;
/// `sh` and `mh` schedulers: hash the source port too (`sh-port`,
/// `mh-port`). Alias of [`IP_VS_SVC_F_SCHED2`]. Since Linux 3.11 (`mh`
/// since 4.18).
pub const IP_VS_SVC_F_SCHED_SH_PORT: u32 = IP_VS_SVC_F_SCHED2;

// ---- Destination flags (kernel-internal state exposed in some replies)

/// Destination flag: server is available. Since Linux 2.6.0.
pub const IP_VS_DEST_F_AVAILABLE: u32 = 0x0001;
/// Destination flag: server is overloaded (above its upper threshold).
/// Since Linux 2.6.0.
pub const IP_VS_DEST_F_OVERLOAD: u32 = 0x0002;

// ---- Sync daemon states (IPVS_DAEMON_ATTR_STATE, ip_vs_daemon_user.state)

/// Sync daemon state: stopped. Since Linux 2.6.0.
pub const IP_VS_STATE_NONE: u32 = 0x0000;
/// Sync daemon state: master (sends connection updates). Since Linux 2.6.0.
pub const IP_VS_STATE_MASTER: u32 = 0x0001;
/// Sync daemon state: backup (receives updates). Since Linux 2.6.0.
pub const IP_VS_STATE_BACKUP: u32 = 0x0002;

// ---- Connection flags; the low 3 bits are the destination's forwarding
// method (IPVS_DEST_ATTR_FWD_METHOD, ip_vs_dest_user.conn_flags).

/// Mask of the forwarding-method bits. Since Linux 2.6.0.
pub const IP_VS_CONN_F_FWD_MASK: u32 = 0x0007;
/// Forwarding method: masquerading / NAT (`ipvsadm -m`). Since Linux 2.6.0.
pub const IP_VS_CONN_F_MASQ: u32 = 0x0000;
/// Forwarding method: local node (the director itself). Since Linux 2.6.0.
pub const IP_VS_CONN_F_LOCALNODE: u32 = 0x0001;
/// Forwarding method: tunnelling (`ipvsadm -i`). Since Linux 2.6.0.
pub const IP_VS_CONN_F_TUNNEL: u32 = 0x0002;
/// Forwarding method: direct routing / gatewaying (`ipvsadm -g`).
/// Since Linux 2.6.0.
pub const IP_VS_CONN_F_DROUTE: u32 = 0x0003;
/// Forwarding method: cache bypass. Since Linux 2.6.0.
pub const IP_VS_CONN_F_BYPASS: u32 = 0x0004;
/// Connection flag: entry created by the sync daemon. Since Linux 2.6.0.
pub const IP_VS_CONN_F_SYNC: u32 = 0x0020;
/// Connection flag: hashed entry. Since Linux 2.6.0.
pub const IP_VS_CONN_F_HASHED: u32 = 0x0040;
/// Connection flag: no output packets. Since Linux 2.6.0.
pub const IP_VS_CONN_F_NOOUTPUT: u32 = 0x0080;
/// Connection flag: not established. Since Linux 2.6.0.
pub const IP_VS_CONN_F_INACTIVE: u32 = 0x0100;
/// Connection flag: output sequence adjust needed. Since Linux 2.6.0.
pub const IP_VS_CONN_F_OUT_SEQ: u32 = 0x0200;
/// Connection flag: input sequence adjust needed. Since Linux 2.6.0.
pub const IP_VS_CONN_F_IN_SEQ: u32 = 0x0400;
/// Mask of the in/out sequence flags. Since Linux 2.6.0.
pub const IP_VS_CONN_F_SEQ_MASK: u32 = 0x0600;
/// Connection flag: no client port yet. Since Linux 2.6.0.
pub const IP_VS_CONN_F_NO_CPORT: u32 = 0x0800;
/// Connection flag: persistence template, not a connection.
/// Since Linux 2.6.0.
pub const IP_VS_CONN_F_TEMPLATE: u32 = 0x1000;
/// Connection flag: forward only one packet. Since Linux 2.6.35.
pub const IP_VS_CONN_F_ONE_PACKET: u32 = 0x2000;
/// Flags a backup sync daemon accepts initially. Since Linux 2.6.35.
pub const IP_VS_CONN_F_BACKUP_MASK: u32 = IP_VS_CONN_F_FWD_MASK
    | IP_VS_CONN_F_NOOUTPUT
    | IP_VS_CONN_F_INACTIVE
    | IP_VS_CONN_F_SEQ_MASK
    | IP_VS_CONN_F_NO_CPORT
    | IP_VS_CONN_F_TEMPLATE;
/// Flags a backup sync daemon may update. Since Linux 2.6.35.
pub const IP_VS_CONN_F_BACKUP_UPD_MASK: u32 = IP_VS_CONN_F_INACTIVE | IP_VS_CONN_F_SEQ_MASK;
/// Connection flag: use netfilter conntrack (never synced). Since Linux 2.6.37.
pub const IP_VS_CONN_F_NFCT: u32 = 1 << 16;
/// Destination connection flags user space may change. Since Linux 2.6.37.
pub const IP_VS_CONN_F_DEST_MASK: u32 =
    IP_VS_CONN_F_FWD_MASK | IP_VS_CONN_F_ONE_PACKET | IP_VS_CONN_F_NFCT;

// ---- Limits

/// Longest scheduler name, including the terminating NUL. Since Linux 2.6.0.
pub const IP_VS_SCHEDNAME_MAXLEN: usize = 16;
/// Longest persistence-engine name, including the NUL. Since Linux 2.6.37.
pub const IP_VS_PENAME_MAXLEN: usize = 16;
/// Longest interface name (sync daemon), including the NUL.
/// Since Linux 2.6.0.
pub const IP_VS_IFNAME_MAXLEN: usize = 16;
/// Longest persistence-engine data. Since Linux 2.6.37.
pub const IP_VS_PEDATA_MAXLEN: usize = 255;

// ---- Tunnel types (IPVS_DEST_ATTR_TUN_TYPE)

/// Tunnel type: IP-in-IP (the default). Since Linux 5.2.
pub const IP_VS_CONN_F_TUNNEL_TYPE_IPIP: u8 = 0;
/// Tunnel type: Generic UDP Encapsulation. Since Linux 5.2.
pub const IP_VS_CONN_F_TUNNEL_TYPE_GUE: u8 = 1;
/// Tunnel type: GRE. Since Linux 5.3.
pub const IP_VS_CONN_F_TUNNEL_TYPE_GRE: u8 = 2;
/// Number of tunnel types (one past the last). Since Linux 5.2.
pub const IP_VS_CONN_F_TUNNEL_TYPE_MAX: u8 = 3;

// ---- Tunnel encapsulation flags (IPVS_DEST_ATTR_TUN_FLAGS)

/// Tunnel flag value: no checksum. Since Linux 5.3.
pub const IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM: u16 = 0;
/// Tunnel flag: checksum the encapsulation. Since Linux 5.3.
pub const IP_VS_TUNNEL_ENCAP_FLAG_CSUM: u16 = 1 << 0;
/// Tunnel flag: remote checksum offload. Since Linux 5.3.
pub const IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM: u16 = 1 << 1;
