//! The legacy socket-option interface (`setsockopt`/`getsockopt` on a raw
//! IPv4 socket, level `IPPROTO_IP`). IPv4 only. Since Linux 2.6.0.

use crate::{IP_VS_IFNAME_MAXLEN, IP_VS_SCHEDNAME_MAXLEN};

/// Base of the IPVS socket option numbers. Since Linux 2.6.0.
pub const IP_VS_BASE_CTL: i32 = 64 + 1024 + 64;

/// Set option: no-op. Since Linux 2.6.0.
pub const IP_VS_SO_SET_NONE: i32 = IP_VS_BASE_CTL;
/// Set option: insert (unused). Since Linux 2.6.0.
pub const IP_VS_SO_SET_INSERT: i32 = IP_VS_BASE_CTL + 1;
/// Set option: add a service. Since Linux 2.6.0.
pub const IP_VS_SO_SET_ADD: i32 = IP_VS_BASE_CTL + 2;
/// Set option: edit a service. Since Linux 2.6.0.
pub const IP_VS_SO_SET_EDIT: i32 = IP_VS_BASE_CTL + 3;
/// Set option: delete a service. Since Linux 2.6.0.
pub const IP_VS_SO_SET_DEL: i32 = IP_VS_BASE_CTL + 4;
/// Set option: flush the table. Since Linux 2.6.0.
pub const IP_VS_SO_SET_FLUSH: i32 = IP_VS_BASE_CTL + 5;
/// Set option: list (unused). Since Linux 2.6.0.
pub const IP_VS_SO_SET_LIST: i32 = IP_VS_BASE_CTL + 6;
/// Set option: add a destination. Since Linux 2.6.0.
pub const IP_VS_SO_SET_ADDDEST: i32 = IP_VS_BASE_CTL + 7;
/// Set option: delete a destination. Since Linux 2.6.0.
pub const IP_VS_SO_SET_DELDEST: i32 = IP_VS_BASE_CTL + 8;
/// Set option: edit a destination. Since Linux 2.6.0.
pub const IP_VS_SO_SET_EDITDEST: i32 = IP_VS_BASE_CTL + 9;
/// Set option: set timeouts. Since Linux 2.6.0.
pub const IP_VS_SO_SET_TIMEOUT: i32 = IP_VS_BASE_CTL + 10;
/// Set option: start a sync daemon. Since Linux 2.6.0.
pub const IP_VS_SO_SET_STARTDAEMON: i32 = IP_VS_BASE_CTL + 11;
/// Set option: stop a sync daemon. Since Linux 2.6.0.
pub const IP_VS_SO_SET_STOPDAEMON: i32 = IP_VS_BASE_CTL + 12;
/// Set option: restore (unused). Since Linux 2.6.0.
pub const IP_VS_SO_SET_RESTORE: i32 = IP_VS_BASE_CTL + 13;
/// Set option: save (unused). Since Linux 2.6.0.
pub const IP_VS_SO_SET_SAVE: i32 = IP_VS_BASE_CTL + 14;
/// Set option: zero counters. Since Linux 2.6.0.
pub const IP_VS_SO_SET_ZERO: i32 = IP_VS_BASE_CTL + 15;
/// Highest set option. Since Linux 2.6.0.
pub const IP_VS_SO_SET_MAX: i32 = IP_VS_SO_SET_ZERO;

/// Get option: version string. Since Linux 2.6.0.
pub const IP_VS_SO_GET_VERSION: i32 = IP_VS_BASE_CTL;
/// Get option: [`ip_vs_getinfo`]. Since Linux 2.6.0.
pub const IP_VS_SO_GET_INFO: i32 = IP_VS_BASE_CTL + 1;
/// Get option: [`ip_vs_get_services`]. Since Linux 2.6.0.
pub const IP_VS_SO_GET_SERVICES: i32 = IP_VS_BASE_CTL + 2;
/// Get option: one [`ip_vs_service_entry`]. Since Linux 2.6.0.
pub const IP_VS_SO_GET_SERVICE: i32 = IP_VS_BASE_CTL + 3;
/// Get option: [`ip_vs_get_dests`]. Since Linux 2.6.0.
pub const IP_VS_SO_GET_DESTS: i32 = IP_VS_BASE_CTL + 4;
/// Get option: one destination (not implemented by the kernel).
/// Since Linux 2.6.0.
pub const IP_VS_SO_GET_DEST: i32 = IP_VS_BASE_CTL + 5;
/// Get option: [`ip_vs_timeout_user`]. Since Linux 2.6.0.
pub const IP_VS_SO_GET_TIMEOUT: i32 = IP_VS_BASE_CTL + 6;
/// Get option: two [`ip_vs_daemon_user`] (master, backup). Since Linux 2.6.0.
pub const IP_VS_SO_GET_DAEMON: i32 = IP_VS_BASE_CTL + 7;
/// Highest get option. Since Linux 2.6.0.
pub const IP_VS_SO_GET_MAX: i32 = IP_VS_SO_GET_DAEMON;

/// A service, as given to the `IP_VS_SO_SET_*` service options.
/// Since Linux 2.6.0.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ip_vs_service_user {
    /// Protocol (`IPPROTO_TCP`, ...).
    pub protocol: u16,
    /// Virtual address, network byte order.
    pub addr: u32,
    /// Virtual port, network byte order.
    pub port: u16,
    /// Firewall mark.
    pub fwmark: u32,
    /// Scheduler name, NUL padded.
    pub sched_name: [u8; IP_VS_SCHEDNAME_MAXLEN],
    /// `IP_VS_SVC_F_*` flags.
    pub flags: u32,
    /// Persistence timeout in seconds.
    pub timeout: u32,
    /// Persistence netmask, network byte order.
    pub netmask: u32,
}

/// A destination, as given to the `IP_VS_SO_SET_*DEST` options.
/// Since Linux 2.6.0.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ip_vs_dest_user {
    /// Address, network byte order.
    pub addr: u32,
    /// Port, network byte order.
    pub port: u16,
    /// Connection flags (forwarding method).
    pub conn_flags: u32,
    /// Weight.
    pub weight: i32,
    /// Upper connection threshold.
    pub u_threshold: u32,
    /// Lower connection threshold.
    pub l_threshold: u32,
}

/// Counters and rates of a service or destination. Since Linux 2.6.0.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ip_vs_stats_user {
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
    /// Connection rate.
    pub cps: u32,
    /// Incoming packet rate.
    pub inpps: u32,
    /// Outgoing packet rate.
    pub outpps: u32,
    /// Incoming byte rate.
    pub inbps: u32,
    /// Outgoing byte rate.
    pub outbps: u32,
}

/// Reply of `IP_VS_SO_GET_INFO`. Since Linux 2.6.0.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ip_vs_getinfo {
    /// Version number.
    pub version: u32,
    /// Connection hash table size.
    pub size: u32,
    /// Number of virtual services.
    pub num_services: u32,
}

/// One service of `IP_VS_SO_GET_SERVICE(S)`. Since Linux 2.6.0.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ip_vs_service_entry {
    /// Protocol.
    pub protocol: u16,
    /// Virtual address, network byte order.
    pub addr: u32,
    /// Virtual port, network byte order.
    pub port: u16,
    /// Firewall mark.
    pub fwmark: u32,
    /// Scheduler name, NUL padded.
    pub sched_name: [u8; IP_VS_SCHEDNAME_MAXLEN],
    /// `IP_VS_SVC_F_*` flags.
    pub flags: u32,
    /// Persistence timeout.
    pub timeout: u32,
    /// Persistence netmask, network byte order.
    pub netmask: u32,
    /// Number of destinations.
    pub num_dests: u32,
    /// Statistics.
    pub stats: ip_vs_stats_user,
}

/// One destination of `IP_VS_SO_GET_DESTS`. Since Linux 2.6.0.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ip_vs_dest_entry {
    /// Address, network byte order.
    pub addr: u32,
    /// Port, network byte order.
    pub port: u16,
    /// Connection flags.
    pub conn_flags: u32,
    /// Weight.
    pub weight: i32,
    /// Upper threshold.
    pub u_threshold: u32,
    /// Lower threshold.
    pub l_threshold: u32,
    /// Active connections.
    pub activeconns: u32,
    /// Inactive connections.
    pub inactconns: u32,
    /// Persistent connections.
    pub persistconns: u32,
    /// Statistics.
    pub stats: ip_vs_stats_user,
}

/// Header of the `IP_VS_SO_GET_DESTS` argument; `num_dests` entries of
/// [`ip_vs_dest_entry`] follow it. Since Linux 2.6.0.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ip_vs_get_dests {
    /// Protocol.
    pub protocol: u16,
    /// Virtual address, network byte order.
    pub addr: u32,
    /// Virtual port, network byte order.
    pub port: u16,
    /// Firewall mark.
    pub fwmark: u32,
    /// Number of entries that follow.
    pub num_dests: u32,
    /// The entries (a C flexible array: it sets the alignment and size).
    pub entrytable: [ip_vs_dest_entry; 0],
}

/// Header of the `IP_VS_SO_GET_SERVICES` argument; `num_services` entries of
/// [`ip_vs_service_entry`] follow it. Since Linux 2.6.0.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ip_vs_get_services {
    /// Number of entries that follow.
    pub num_services: u32,
    /// The entries (a C flexible array: it sets the alignment and size).
    pub entrytable: [ip_vs_service_entry; 0],
}

/// Argument of `IP_VS_SO_GET_TIMEOUT` / `IP_VS_SO_SET_TIMEOUT`.
/// Since Linux 2.6.0.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ip_vs_timeout_user {
    /// TCP timeout in seconds.
    pub tcp_timeout: i32,
    /// TCP FIN-wait timeout in seconds.
    pub tcp_fin_timeout: i32,
    /// UDP timeout in seconds.
    pub udp_timeout: i32,
}

/// Argument of `IP_VS_SO_GET_DAEMON` (two of them) and the daemon set
/// options. Since Linux 2.6.0.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ip_vs_daemon_user {
    /// `IP_VS_STATE_*`.
    pub state: i32,
    /// Multicast interface name, NUL padded.
    pub mcast_ifn: [u8; IP_VS_IFNAME_MAXLEN],
    /// Sync id.
    pub syncid: i32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::mem::size_of;

    // Sizes printed by gcc for x86_64 from /usr/include/linux/ip_vs.h.
    #[test]
    fn struct_sizes_match_the_c_layout() {
        assert_eq!(size_of::<ip_vs_service_user>(), 44);
        assert_eq!(size_of::<ip_vs_dest_user>(), 24);
        assert_eq!(size_of::<ip_vs_stats_user>(), 56);
        assert_eq!(size_of::<ip_vs_getinfo>(), 12);
        assert_eq!(size_of::<ip_vs_service_entry>(), 104);
        assert_eq!(size_of::<ip_vs_dest_entry>(), 96);
        assert_eq!(size_of::<ip_vs_timeout_user>(), 12);
        assert_eq!(size_of::<ip_vs_daemon_user>(), 24);
        assert_eq!(size_of::<ip_vs_get_services>(), 8);
        assert_eq!(size_of::<ip_vs_get_dests>(), 24);
    }

    // Field offsets gcc gives on x86_64 (the `ipvs` crate reads the
    // legacy replies at these offsets).
    #[test]
    fn field_offsets_match_the_c_layout() {
        use core::mem::offset_of;
        assert_eq!(offset_of!(ip_vs_stats_user, inbytes), 16);
        assert_eq!(offset_of!(ip_vs_stats_user, outbps), 48);
        assert_eq!(offset_of!(ip_vs_service_entry, addr), 4);
        assert_eq!(offset_of!(ip_vs_service_entry, port), 8);
        assert_eq!(offset_of!(ip_vs_service_entry, num_dests), 44);
        assert_eq!(offset_of!(ip_vs_service_entry, stats), 48);
        assert_eq!(offset_of!(ip_vs_dest_entry, conn_flags), 8);
        assert_eq!(offset_of!(ip_vs_dest_entry, persistconns), 32);
        assert_eq!(offset_of!(ip_vs_dest_entry, stats), 40);
        assert_eq!(offset_of!(ip_vs_get_dests, num_dests), 16);
        assert_eq!(offset_of!(ip_vs_getinfo, num_services), 8);
    }
}
