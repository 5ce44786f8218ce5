//! What a [`Driver`](super::Driver) runs: routers, their addresses and
//! routes, sync groups.

use std::net::{IpAddr, Ipv4Addr};

use crate::config::Config;
use crate::linux::{AddressOptions, NftConfig, RouteSpec, RuleSpec, Scope, VmacOptions};
use crate::pacing::Intervals;

/// A virtual address with keepalived's `virtual_ipaddress` options.
///
/// An IPv6 address is installed as keepalived installs it (see
/// [`Address6Spec`](crate::linux::Address6Spec): `nodad`, a /128
/// deprecated); `broadcast`, `label` and `scope` apply to IPv4 only (the
/// kernel derives an IPv6 address's scope from the address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualAddress {
    /// The address.
    pub addr: IpAddr,
    /// Prefix length (keepalived's default: 32, or 128 for IPv6).
    pub prefix_len: u8,
    /// `brd` (IPv4).
    pub broadcast: Option<Ipv4Addr>,
    /// `label` (IPv4).
    pub label: Option<String>,
    /// `scope` (IPv4).
    pub scope: Scope,
    /// `dev`: the interface to put it on; the router's (or its VMAC) when `None`.
    pub dev: Option<String>,
    /// `no_track`: its deletion by someone else is left alone. Otherwise,
    /// as in keepalived, its deletion from a master sends the router to
    /// BACKUP (see [`VirtualRouter::handle_deleted`](crate::VirtualRouter::handle_deleted)).
    pub no_track: bool,
    /// `peer`, `home`, `-nodad`, `preferred_lft`, ...
    pub options: AddressOptions,
}

impl VirtualAddress {
    /// A host address (/32 or /128), global, on the router's interface.
    pub fn host(addr: impl Into<IpAddr>) -> Self {
        let addr = addr.into();
        VirtualAddress {
            addr,
            prefix_len: if addr.is_ipv6() { 128 } else { 32 },
            broadcast: None,
            label: None,
            scope: Scope::Global,
            dev: None,
            no_track: false,
            options: AddressOptions::default(),
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
    /// The `dev` of each of `route.nexthops`, in order (their `oif` is
    /// filled from it).
    pub nexthop_devs: Vec<Option<String>>,
    /// `no_track`. A route without it and with a `dev` is tracked, as in
    /// keepalived: its deletion from a master sends the router to BACKUP
    /// (see [`VirtualRouter::handle_deleted`](crate::VirtualRouter::handle_deleted)).
    /// keepalived cannot track a route without `dev` (it warns at start).
    pub no_track: bool,
}

impl VirtualRoute {
    /// True if its deletion by someone else matters (keepalived's
    /// `!dont_track`: no `no_track`, and a `dev`).
    pub fn tracked(&self) -> bool {
        !self.no_track && self.dev.is_some()
    }

    /// The route with its interface names turned into indexes by `index`.
    pub fn resolve<E>(
        &self,
        mut index: impl FnMut(&str) -> Result<u32, E>,
    ) -> Result<RouteSpec, E> {
        let mut route = self.route.clone();
        if let Some(dev) = &self.dev {
            route.oif = Some(index(dev)?);
        }
        for (hop, dev) in route.nexthops.iter_mut().zip(&self.nexthop_devs) {
            if let Some(dev) = dev {
                hop.oif = Some(index(dev)?);
            }
        }
        Ok(route)
    }
}

/// One virtual router for the driver: the state machine's configuration
/// plus what only the host knows.
///
/// # Address family
/// As in keepalived, a router is IPv6 if its first virtual address is
/// (or if [`Config::ipv6`] is set): it speaks VRRPv3 over IPv6 on the
/// interface's IPv6 raw socket, advertises the IPv6 addresses of
/// [`addresses`](Self::addresses), and sends unsolicited Neighbour
/// Advertisements where an IPv4 router sends gratuitous ARPs (same
/// repeat, delay and refresh settings, [`crate::config::GarpConfig`]).
/// Its advert source is [`Ipv6Config::link_local`](crate::config::Ipv6Config::link_local)
/// when set (not unspecified), else the interface's first link-local
/// address. Addresses of the other family are installed and announced
/// with the others but not advertised (keepalived refuses them in
/// `virtual_ipaddress` and allows them in `virtual_ipaddress_excluded`).
#[derive(Debug, Clone)]
pub struct RouterSpec {
    /// The state machine's configuration. Its advertised addresses
    /// (`virtual_addresses`, or those of `ipv6`) are replaced by the
    /// addresses of [`addresses`](Self::addresses) of the router's family;
    /// an IPv4 router's unspecified `primary_ip` is replaced by the
    /// interface's first IPv4 address.
    pub config: Config,
    /// The interface VRRP runs on (keepalived's `interface`).
    ///
    /// It need not exist: as keepalived with `dynamic_interfaces`, the
    /// router then runs in FAULT (interface down) and binds to the
    /// interface when a link of that name appears: advert source, VMAC,
    /// sockets and addresses resolved then, same [`RouterId`](crate::mux::RouterId)
    /// and sync group. Deleting the interface puts the router back in
    /// FAULT, its sockets closed, until a link of that name appears again
    /// (a new ifindex). A router that cannot bind yet (no IPv4 address,
    /// or for IPv6 no link-local address, on the new link) retries on the
    /// link's next address or state change.
    ///
    /// An interface that exists without such an address is no error
    /// either: as in keepalived (`(NAME) entering FAULT state (no IPv4
    /// address for interface)`), the router runs in FAULT
    /// ([`DriverEvent::NoAddress`](super::DriverEvent::NoAddress) says
    /// why) and binds when an address is added. If its VMAC is deleted
    /// (the interface staying), the router goes to FAULT and, as in
    /// keepalived, a new VMAC is made at once when the interface is up.
    ///
    /// keepalived 2.2.7 without `dynamic_interfaces` differs: it logs
    /// `WARNING - interface IF for vrrp_instance NAME doesn't exist` and
    /// `Non-existent interface specified in configuration` and exits (at a
    /// reload, its VRRP process stops). Here the router runs in FAULT
    /// either way, which is what keepalived does with
    /// `dynamic_interfaces` (it logs `Configuration specifies interface IF
    /// which doesn't currently exist - will use if created`).
    pub interface: String,
    /// The virtual addresses with their options.
    pub addresses: Vec<VirtualAddress>,
    /// keepalived's `virtual_ipaddress_excluded`: installed, removed and
    /// announced with [`addresses`](Self::addresses) but never advertised,
    /// of either family.
    pub excluded: Vec<VirtualAddress>,
    /// `virtual_routes`.
    pub routes: Vec<VirtualRoute>,
    /// `virtual_rules`: installed while master, after the routes, and
    /// removed before them.
    pub rules: Vec<RuleSpec>,
    /// `use_vmac`: send from a macvlan `vrrp.VRID` with MAC 00-00-5E-00-01-VRID
    /// (00-00-5E-00-02-VRID for an IPv6 router, which also puts its
    /// link-local source on it), which also carries the virtual addresses.
    pub use_vmac: bool,
    /// How the VMAC is named (`use_vmac NAME`), and the VMACs of
    /// `use_vmac_addr` ([`VmacOptions::addresses`], which needs no
    /// [`use_vmac`](Self::use_vmac)).
    pub vmac: VmacOptions,
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
    /// keepalived's spacing of gratuitous ARPs and NAs per interface
    /// (`vrrp_garp_interval`, `vrrp_gna_interval`, `garp_group`).
    pub garp_pacing: GarpPacing,
    /// keepalived's `interface_up_down_delays`, shortened for the routers
    /// by [`clamp_link_delays`](super::clamp_link_delays).
    pub link_delays: Vec<super::LinkDelay>,
    /// Routers (by `config.name`) with keepalived 2.2.7's `track_src_ip`
    /// and the one source it acts on, IPv4
    /// [`QUIRK_SOURCE`](super::QUIRK_SOURCE) (2.0.0.0): when that address
    /// goes as their interface's last IPv4 address, they go to FAULT
    /// until the next reconfiguration, as keepalived's until its next
    /// reload. Other sources are not tracked, as in keepalived.
    pub track_src_ip_quirk: Vec<String>,
}

/// The GARP/NA spacing of a [`Setup`], with interfaces by name (see
/// [`crate::pacing`]). A name missing on the host is left out, as
/// keepalived leaves it out with a warning.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GarpPacing {
    /// Spacing of an interface in no group (`vrrp_garp_interval`,
    /// `vrrp_gna_interval`).
    pub default: Intervals,
    /// `garp_group`s: spacing and interface names, in configuration order.
    pub groups: Vec<(Intervals, Vec<String>)>,
}
