//! What a [`Driver`](super::Driver) runs: routers, their addresses and
//! routes, sync groups.

use std::net::Ipv4Addr;

use crate::config::Config;
use crate::linux::{NftConfig, RouteSpec, Scope};

/// A virtual address with keepalived's `virtual_ipaddress` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualAddress {
    /// The address.
    pub addr: Ipv4Addr,
    /// Prefix length (keepalived's default 32).
    pub prefix_len: u8,
    /// `brd`.
    pub broadcast: Option<Ipv4Addr>,
    /// `label`.
    pub label: Option<String>,
    /// `scope`.
    pub scope: Scope,
    /// `dev`: the interface to put it on; the router's (or its VMAC) when `None`.
    pub dev: Option<String>,
}

impl VirtualAddress {
    /// A /32 global address on the router's interface.
    pub fn host(addr: Ipv4Addr) -> Self {
        VirtualAddress {
            addr,
            prefix_len: 32,
            broadcast: None,
            label: None,
            scope: Scope::Global,
            dev: None,
        }
    }
}

/// A `virtual_routes` entry: installed while master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualRoute {
    /// The route; its `oif` is filled from `dev`.
    pub route: RouteSpec,
    /// `dev`: output interface name, if any.
    pub dev: Option<String>,
}

/// One virtual router for the driver: the state machine's configuration
/// plus what only the host knows.
#[derive(Debug, Clone)]
pub struct RouterSpec {
    /// The state machine's configuration. Its `virtual_addresses` are
    /// replaced by the addresses of [`addresses`](Self::addresses); an
    /// unspecified `primary_ip` is replaced by the interface's first IPv4
    /// address.
    pub config: Config,
    /// The interface VRRP runs on (keepalived's `interface`).
    pub interface: String,
    /// The virtual addresses with their options.
    pub addresses: Vec<VirtualAddress>,
    /// `virtual_routes`.
    pub routes: Vec<VirtualRoute>,
    /// `use_vmac`: send from a macvlan `vrrp.VRID` with MAC 00-00-5E-00-01-VRID,
    /// which also carries the virtual addresses.
    pub use_vmac: bool,
}

/// A `vrrp_sync_group`: indices into [`Setup::routers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroupSpec {
    /// Group name.
    pub name: String,
    /// Members, as indices into [`Setup::routers`].
    pub members: Vec<usize>,
}

/// Everything a [`Driver`](super::Driver) runs.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// The virtual routers. Given to [`Driver::new`](super::Driver::new),
    /// their [`RouterId`](crate::mux::RouterId)s are their indices; after a
    /// [`reconfigure`](super::DriverHandle::reconfigure) they are in
    /// [`ReconcileSummary::ids`](super::ReconcileSummary::ids). Instance
    /// names (`config.name`) identify routers across reconfigurations.
    pub routers: Vec<RouterSpec>,
    /// Sync groups.
    pub sync_groups: Vec<SyncGroupSpec>,
    /// More interfaces whose state to report as [`DriverEvent::Interface`](super::DriverEvent::Interface)
    /// (e.g. keepalived's `track_interface`); the routers' own interfaces
    /// are always reported.
    pub watch_interfaces: Vec<String>,
    /// keepalived's nftables rules: a master whose
    /// [`Config::accepts_vip_traffic`] is false has its addresses in the
    /// sets of [`Firewall`](crate::linux::Firewall) while it is master, and
    /// every VMAC has keepalived's IGMP rule. `None`: no rules (keepalived
    /// without `vrrp_strict`, `no_accept`, `use_vmac` or `nftables`).
    pub firewall: Option<NftConfig>,
}
