//! Synchronous rtnetlink requests: links, addresses, routes, macvlan VMACs.

use std::net::{IpAddr, Ipv4Addr};

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE,
    NLM_F_DUMP, NLM_F_EXCL, NLM_F_REQUEST,
};
use netlink_packet_route::address::{AddressAttribute, AddressMessage, AddressScope};
use netlink_packet_route::link::{
    AfSpecInet6, AfSpecUnspec, In6AddrGenMode, InfoData, InfoKind, InfoMacVlan, LinkAttribute,
    LinkFlags, LinkInfo, LinkMessage, MacVlanMode,
};
use netlink_packet_route::route::{
    RouteAddress, RouteAttribute, RouteFlags, RouteMessage, RouteMetric, RouteMplsTtlPropagation,
    RouteNextHop, RouteNextHopFlags, RoutePreference, RouteProtocol, RouteRealm, RouteScope,
    RouteType,
};
use netlink_packet_route::{AddressFamily, RouteNetlinkMessage};
use netlink_sys::{protocols::NETLINK_ROUTE, Socket, SocketAddr};

use super::LinuxError;

/// Longest interface name the kernel accepts (IFNAMSIZ - 1).
const IFNAME_MAX: usize = 15;
/// The main routing table.
const RT_TABLE_MAIN: u32 = 254;
/// The route metric holding the congestion control algorithm's name.
const RTAX_CC_ALGO: u32 = 16;

/// An interface as rtnetlink reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// Hardware address, when it is a 6-byte Ethernet one.
    pub mac: Option<[u8; 6]>,
    /// Administratively up (`IFF_UP`).
    pub up: bool,
    /// Carrier present (`IFF_RUNNING`).
    pub running: bool,
    /// The raw `ifi_flags` (`IFF_*`), as keepalived logs them.
    pub flags: u32,
}

impl Link {
    /// Usable for VRRP: up and with carrier, as keepalived judges it.
    pub fn is_operational(&self) -> bool {
        self.up && self.running
    }

    pub(crate) fn from_message(msg: &LinkMessage) -> Link {
        let mut link = Link {
            index: msg.header.index,
            name: String::new(),
            mac: None,
            up: msg.header.flags.contains(LinkFlags::Up),
            running: msg.header.flags.contains(LinkFlags::Running),
            flags: msg.header.flags.bits(),
        };
        for attr in &msg.attributes {
            match attr {
                LinkAttribute::IfName(name) => link.name.clone_from(name),
                LinkAttribute::Address(a) => link.mac = <[u8; 6]>::try_from(a.as_slice()).ok(),
                _ => {}
            }
        }
        link
    }
}

/// Address and route scope (`ip addr ... scope`, `ip route ... scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Scope {
    /// `global` / `universe` (0).
    #[default]
    Global,
    /// `site` (200).
    Site,
    /// `link` (253).
    Link,
    /// `host` (254).
    Host,
    /// `nowhere` (255).
    Nowhere,
    /// Any other numeric scope.
    Other(u8),
}

impl From<Scope> for AddressScope {
    fn from(s: Scope) -> Self {
        match s {
            Scope::Global => AddressScope::Universe,
            Scope::Site => AddressScope::Site,
            Scope::Link => AddressScope::Link,
            Scope::Host => AddressScope::Host,
            Scope::Nowhere => AddressScope::Nowhere,
            Scope::Other(n) => AddressScope::Other(n),
        }
    }
}

impl From<AddressScope> for Scope {
    fn from(s: AddressScope) -> Self {
        match s {
            AddressScope::Universe => Scope::Global,
            AddressScope::Site => Scope::Site,
            AddressScope::Link => Scope::Link,
            AddressScope::Host => Scope::Host,
            AddressScope::Nowhere => Scope::Nowhere,
            AddressScope::Other(n) => Scope::Other(n),
            _ => Scope::Other(u8::from(s)),
        }
    }
}

impl From<Scope> for RouteScope {
    fn from(s: Scope) -> Self {
        match s {
            Scope::Global => RouteScope::Universe,
            Scope::Site => RouteScope::Site,
            Scope::Link => RouteScope::Link,
            Scope::Host => RouteScope::Host,
            Scope::Nowhere => RouteScope::NoWhere,
            Scope::Other(n) => RouteScope::Other(n),
        }
    }
}

/// An IPv4 address on an interface: a virtual address or a static one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AddressSpec {
    /// Interface index.
    pub ifindex: u32,
    /// The address.
    pub addr: Ipv4Addr,
    /// Prefix length (keepalived's default for a VIP is 32).
    pub prefix_len: u8,
    /// Broadcast address (`brd`).
    pub broadcast: Option<Ipv4Addr>,
    /// Label (`label eth0:1`); the kernel wants it to start with the
    /// interface name.
    pub label: Option<String>,
    /// Scope.
    pub scope: Scope,
}

impl AddressSpec {
    /// A /32 global address without label or broadcast, keepalived's default.
    pub fn host(ifindex: u32, addr: Ipv4Addr) -> Self {
        AddressSpec {
            ifindex,
            addr,
            prefix_len: 32,
            broadcast: None,
            label: None,
            scope: Scope::Global,
        }
    }

    pub(super) fn to_message(&self) -> AddressMessage {
        let mut msg = AddressMessage::default();
        msg.header.family = AddressFamily::Inet;
        msg.header.prefix_len = self.prefix_len;
        msg.header.scope = self.scope.into();
        msg.header.index = self.ifindex;
        msg.attributes
            .push(AddressAttribute::Local(IpAddr::V4(self.addr)));
        msg.attributes
            .push(AddressAttribute::Address(IpAddr::V4(self.addr)));
        if let Some(b) = self.broadcast {
            msg.attributes.push(AddressAttribute::Broadcast(b));
        }
        if let Some(l) = &self.label {
            msg.attributes.push(AddressAttribute::Label(l.clone()));
        }
        msg
    }

    pub(crate) fn from_message(msg: &AddressMessage) -> Option<AddressSpec> {
        if msg.header.family != AddressFamily::Inet {
            return None;
        }
        let mut local = None;
        let mut address = None;
        let mut spec = AddressSpec::host(msg.header.index, Ipv4Addr::UNSPECIFIED);
        spec.prefix_len = msg.header.prefix_len;
        spec.scope = msg.header.scope.into();
        for attr in &msg.attributes {
            match attr {
                AddressAttribute::Local(IpAddr::V4(a)) => local = Some(*a),
                AddressAttribute::Address(IpAddr::V4(a)) => address = Some(*a),
                AddressAttribute::Broadcast(b) => spec.broadcast = Some(*b),
                AddressAttribute::Label(l) => spec.label = Some(l.clone()),
                _ => {}
            }
        }
        spec.addr = local.or(address)?;
        Some(spec)
    }
}

/// The kind of a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RouteKind {
    /// A normal route.
    #[default]
    Unicast,
    /// `blackhole`: silently dropped.
    Blackhole,
    /// `unreachable`: ICMP host unreachable.
    Unreachable,
    /// `prohibit`: ICMP administratively prohibited.
    Prohibit,
}

/// An IPv4 route: a `virtual_routes` or `static_routes` entry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RouteSpec {
    /// Destination network, IPv4 or IPv6 (the route's family; `gateway`
    /// and `src` must be of the same).
    pub dst: IpAddr,
    /// Destination prefix length (0 = default route).
    pub prefix_len: u8,
    /// Next hop (`via`).
    pub gateway: Option<IpAddr>,
    /// Output interface index (`dev`).
    pub oif: Option<u32>,
    /// Preferred source (`src`).
    pub src: Option<IpAddr>,
    /// Metric (`metric`).
    pub metric: Option<u32>,
    /// Table id (`table`), main when `None`.
    pub table: Option<u32>,
    /// Scope; when `None`, `global`, as keepalived 2.2.7 installs every
    /// route (even a gatewayless one, for which ip(8) would pick `link`).
    pub scope: Option<Scope>,
    /// Route type.
    pub kind: RouteKind,
    /// Next hops of a multipath route (`nexthop ...`, or keepalived's
    /// deprecated `or`), sent as one `RTA_MULTIPATH`; empty for a route
    /// with at most one gateway.
    pub nexthops: Vec<NextHop>,
    /// `protocol`: the route's origin; keepalived's own (18) when `None`.
    pub protocol: Option<u8>,
    /// `onlink`: the gateway is on the link even without a matching prefix.
    pub onlink: bool,
    /// Metrics (`mtu`, `advmss`, `rtt`, ...), each at most once.
    pub metrics: Vec<Metric>,
    /// `congctl [lock] NAME`: the congestion control algorithm
    /// (`RTAX_CC_ALGO`), and whether it is locked.
    pub congctl: Option<(String, bool)>,
    /// `tos` (`dsfield`): the header's TOS byte (IPv4).
    pub tos: u8,
    /// `realms FROM/TO` as one number, FROM in the high 16 bits
    /// (`RTA_FLOW`, IPv4).
    pub realms: Option<u32>,
    /// `pref`: the router preference (`RTA_PREF`, IPv6): 0 medium, 1
    /// high, 3 low.
    pub pref: Option<u8>,
    /// `expires`: seconds the route lives (`RTA_EXPIRES`, IPv6).
    pub expires: Option<u32>,
    /// `from`: the source prefix (`RTA_SRC`, IPv6).
    pub from: Option<(IpAddr, u8)>,
    /// How the route is added next to others to the same destination.
    pub mode: RouteMode,
    /// `encap ip|ip6|mpls|ila ...`.
    pub encap: Option<super::Encap>,
    /// `ttl-propagate enabled|disabled` (`RTA_TTL_PROPAGATE`), sent as
    /// keepalived 2.2.7 sends it; the kernel acts on it for MPLS routes
    /// only.
    pub ttl_propagate: Option<bool>,
}

/// How a route is added when routes to the same destination exist
/// (keepalived's `prepend`, `add` and `append`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum RouteMode {
    /// Before the others (keepalived's default, `NLM_F_CREATE` alone).
    #[default]
    Prepend,
    /// Only if none exists (`NLM_F_EXCL`).
    Add,
    /// After the others (`NLM_F_APPEND`).
    Append,
}

/// A route metric with its value and whether it is locked (`mtu lock
/// 1400`: the kernel does not change it, e.g. from path MTU discovery).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Metric {
    /// Which metric.
    pub kind: MetricKind,
    /// Its value.
    pub value: u32,
    /// `lock`.
    pub lock: bool,
}

/// The route metrics keepalived-lite installs (`RTAX_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetricKind {
    /// `mtu`.
    Mtu,
    /// `window`.
    Window,
    /// `ssthresh`.
    Ssthresh,
    /// `cwnd`.
    Cwnd,
    /// `advmss`.
    Advmss,
    /// `reordering`.
    Reordering,
    /// `hoplimit`.
    Hoplimit,
    /// `initcwnd`.
    InitCwnd,
    /// `initrwnd`.
    InitRwnd,
    /// `rtt`, in the kernel's units (1/8 ms).
    Rtt,
    /// `rttvar`, in the kernel's units (1/4 ms).
    RttVar,
    /// `rto_min`, in milliseconds.
    RtoMin,
    /// `features` (1: ECN).
    Features,
    /// `quickack` (0 or 1).
    QuickAck,
    /// `fastopen_no_cookie` (0 or 1).
    FastopenNoCookie,
}

impl Metric {
    /// The `RTAX_*` number, whose bit is its lock.
    fn rtax(&self) -> u32 {
        match self.kind {
            MetricKind::Mtu => 2,
            MetricKind::Window => 3,
            MetricKind::Ssthresh => 6,
            MetricKind::Cwnd => 7,
            MetricKind::Advmss => 8,
            MetricKind::Reordering => 9,
            MetricKind::Hoplimit => 10,
            MetricKind::InitCwnd => 11,
            MetricKind::InitRwnd => 14,
            MetricKind::Rtt => 4,
            MetricKind::RttVar => 5,
            MetricKind::Features => 12,
            MetricKind::RtoMin => 13,
            MetricKind::QuickAck => 15,
            MetricKind::FastopenNoCookie => 17,
        }
    }

    fn to_netlink(self) -> RouteMetric {
        let v = self.value;
        match self.kind {
            MetricKind::Mtu => RouteMetric::Mtu(v),
            MetricKind::Window => RouteMetric::Window(v),
            MetricKind::Ssthresh => RouteMetric::SsThresh(v),
            MetricKind::Cwnd => RouteMetric::Cwnd(v),
            MetricKind::Advmss => RouteMetric::Advmss(v),
            MetricKind::Reordering => RouteMetric::Reordering(v),
            MetricKind::Hoplimit => RouteMetric::Hoplimit(v),
            MetricKind::InitCwnd => RouteMetric::InitCwnd(v),
            MetricKind::InitRwnd => RouteMetric::InitRwnd(v),
            MetricKind::Rtt => RouteMetric::Rtt(v),
            MetricKind::RttVar => RouteMetric::RttVar(v),
            MetricKind::RtoMin => RouteMetric::RtoMin(v),
            MetricKind::Features => RouteMetric::Features(v),
            MetricKind::QuickAck => RouteMetric::QuickAck(v),
            MetricKind::FastopenNoCookie => RouteMetric::FastopenNoCookie(v),
        }
    }
}

/// One next hop of a multipath route.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct NextHop {
    /// `via`: the gateway, of the route's family.
    pub gateway: Option<IpAddr>,
    /// `dev`: output interface index.
    pub oif: Option<u32>,
    /// `weight` (1-256); the kernel's default is 1.
    pub weight: Option<u16>,
    /// `onlink`: the gateway is on the link even without a matching
    /// prefix.
    pub onlink: bool,
}

impl NextHop {
    fn to_netlink(&self) -> RouteNextHop {
        // Not a struct literal: RouteNextHop is non-exhaustive.
        let mut hop = RouteNextHop::default();
        hop.interface_index = self.oif.unwrap_or(0);
        // The kernel stores weight - 1.
        hop.hops = self
            .weight
            .map_or(0, |w| u8::try_from(w.saturating_sub(1)).unwrap_or(u8::MAX));
        if self.onlink {
            hop.flags = RouteNextHopFlags::Onlink;
        }
        if let Some(g) = self.gateway {
            hop.attributes
                .push(RouteAttribute::Gateway(route_address(g)));
        }
        hop
    }
}

impl RouteSpec {
    /// A unicast route to `dst/prefix_len` in the main table with nothing
    /// else set; fill in the fields you need.
    pub fn to(dst: impl Into<IpAddr>, prefix_len: u8) -> Self {
        RouteSpec {
            dst: dst.into(),
            prefix_len,
            gateway: None,
            oif: None,
            src: None,
            metric: None,
            table: None,
            scope: None,
            kind: RouteKind::Unicast,
            nexthops: Vec::new(),
            protocol: None,
            onlink: false,
            metrics: Vec::new(),
            congctl: None,
            tos: 0,
            realms: None,
            pref: None,
            expires: None,
            from: None,
            mode: RouteMode::Prepend,
            encap: None,
            ttl_propagate: None,
        }
    }

    fn to_message(&self, deleting: bool) -> RouteMessage {
        let table = self.table.unwrap_or(RT_TABLE_MAIN);
        let mut msg = RouteMessage::default();
        msg.header.address_family = match self.dst {
            IpAddr::V4(_) => AddressFamily::Inet,
            IpAddr::V6(_) => AddressFamily::Inet6,
        };
        msg.header.destination_prefix_length = self.prefix_len;
        msg.header.table = u8::try_from(table).unwrap_or(0);
        msg.header.kind = match self.kind {
            RouteKind::Unicast => RouteType::Unicast,
            RouteKind::Blackhole => RouteType::BlackHole,
            RouteKind::Unreachable => RouteType::Unreachable,
            RouteKind::Prohibit => RouteType::Prohibit,
        };
        if deleting {
            msg.header.protocol = RouteProtocol::Unspec;
            msg.header.scope = RouteScope::NoWhere;
        } else {
            msg.header.protocol = self.protocol.map_or(RouteProtocol::KeepAlived, Into::into);
            if self.onlink {
                msg.header.flags = RouteFlags::Onlink;
            }
            msg.header.scope = self.scope.unwrap_or(Scope::Global).into();
        }
        let a = &mut msg.attributes;
        a.push(RouteAttribute::Table(table));
        if self.prefix_len > 0 {
            a.push(RouteAttribute::Destination(route_address(self.dst)));
        }
        if let Some(g) = self.gateway {
            a.push(RouteAttribute::Gateway(route_address(g)));
        }
        if let Some(o) = self.oif {
            a.push(RouteAttribute::Oif(o));
        }
        if let Some(s) = self.src {
            a.push(RouteAttribute::PrefSource(route_address(s)));
        }
        if let Some(m) = self.metric {
            a.push(RouteAttribute::Priority(m));
        }
        if !self.nexthops.is_empty() {
            let hops = self.nexthops.iter().map(NextHop::to_netlink).collect();
            a.push(RouteAttribute::MultiPath(hops));
        }
        // As keepalived sends them, when deleting too: the kernel
        // matches an IPv4 route's TOS and realms.
        msg.header.tos = self.tos;
        if let Some(r) = self.realms {
            a.push(RouteAttribute::Realm(RouteRealm {
                source: (r >> 16) as u16,
                destination: (r & 0xffff) as u16,
            }));
        }
        if let Some(p) = self.pref {
            a.push(RouteAttribute::Preference(RoutePreference::from(p)));
        }
        if let Some(e) = self.expires {
            a.push(RouteAttribute::Expires(e));
        }
        if let Some(e) = &self.encap {
            a.extend(e.attributes());
        }
        if let Some(on) = self.ttl_propagate {
            let v = if on {
                RouteMplsTtlPropagation::Enabled
            } else {
                RouteMplsTtlPropagation::Disabled
            };
            a.push(RouteAttribute::TtlPropagate(v));
        }
        if let Some((src, len)) = self.from {
            msg.header.source_prefix_length = len;
            a.push(RouteAttribute::Source(route_address(src)));
        }
        if !deleting {
            if let Some(m) = self.metrics_attribute() {
                a.push(m);
            }
        }
        msg
    }

    /// `RTA_METRICS`, with `RTAX_LOCK` for the locked ones; none without
    /// metrics.
    fn metrics_attribute(&self) -> Option<RouteAttribute> {
        let cc_lock = self.congctl.as_ref().is_some_and(|c| c.1);
        let locked = self.metrics.iter().filter(|m| m.lock).map(Metric::rtax);
        let lock = (locked.chain(cc_lock.then_some(RTAX_CC_ALGO))).fold(0, |l, x| l | 1 << x);
        let mut metrics: Vec<RouteMetric> = (lock != 0)
            .then_some(RouteMetric::Lock(lock))
            .into_iter()
            .collect();
        metrics.extend(self.metrics.iter().map(|m| m.to_netlink()));
        if let Some((name, _)) = &self.congctl {
            metrics.push(RouteMetric::CcAlgo(name.clone()));
        }
        (!metrics.is_empty()).then_some(RouteAttribute::Metrics(metrics))
    }
}

fn route_address(a: IpAddr) -> RouteAddress {
    match a {
        IpAddr::V4(a) => RouteAddress::Inet(a),
        IpAddr::V6(a) => RouteAddress::Inet6(a),
    }
}

/// The virtual MAC of VRID `vrid`: 00-00-5E-00-01-{VRID} (RFC 3768 section 7.3).
pub fn vmac_address(vrid: u8) -> [u8; 6] {
    [0x00, 0x00, 0x5e, 0x00, 0x01, vrid]
}

/// The IPv6 virtual MAC of VRID `vrid`: 00-00-5E-00-02-{VRID} (RFC 9568
/// section 7.3), as keepalived gives an IPv6 instance's VMAC.
pub fn vmac_address6(vrid: u8) -> [u8; 6] {
    [0x00, 0x00, 0x5e, 0x00, 0x02, vrid]
}

/// A blocking rtnetlink request socket in the caller's network namespace.
///
/// Each call sends one request and reads replies up to the kernel's
/// acknowledgement (or end of dump); a refusal is [`LinuxError::Netlink`]
/// with the errno (e.g. `EEXIST` when adding an address already present).
#[derive(Debug)]
pub struct Netlink {
    sock: Socket,
    seq: u32,
    buf: Vec<u8>,
}

impl Netlink {
    /// Opens the socket.
    pub fn open() -> Result<Self, LinuxError> {
        let mut sock = Socket::new(NETLINK_ROUTE).map_err(LinuxError::io("open rtnetlink"))?;
        sock.bind_auto().map_err(LinuxError::io("bind rtnetlink"))?;
        sock.connect(&SocketAddr::new(0, 0))
            .map_err(LinuxError::io("connect rtnetlink"))?;
        Ok(Netlink {
            sock,
            seq: 0,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    /// Looks up an interface by name.
    pub fn link(&mut self, name: &str) -> Result<Link, LinuxError> {
        check_ifname(name)?;
        let mut msg = LinkMessage::default();
        msg.attributes.push(LinkAttribute::IfName(name.to_owned()));
        let replies = self
            .request("get link", RouteNetlinkMessage::GetLink(msg), 0)
            .map_err(|e| match e.errno() {
                Some(libc::ENODEV) => LinuxError::NoSuchInterface(name.to_owned()),
                _ => e,
            })?;
        replies
            .iter()
            .find_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(Link::from_message(l)),
                _ => None,
            })
            .ok_or_else(|| LinuxError::NoSuchInterface(name.to_owned()))
    }

    /// Lists every interface.
    pub fn links(&mut self) -> Result<Vec<Link>, LinuxError> {
        let replies = self.request(
            "dump links",
            RouteNetlinkMessage::GetLink(LinkMessage::default()),
            NLM_F_DUMP,
        )?;
        Ok(replies
            .iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewLink(l) => Some(Link::from_message(l)),
                _ => None,
            })
            .collect())
    }

    /// Lists the IPv4 addresses, of one interface or of all.
    pub fn addresses(&mut self, ifindex: Option<u32>) -> Result<Vec<AddressSpec>, LinuxError> {
        let replies = self.dump_addresses("dump addresses", AddressFamily::Inet)?;
        Ok(replies
            .iter()
            .filter_map(AddressSpec::from_message)
            .filter(|a| ifindex.is_none_or(|i| a.ifindex == i))
            .collect())
    }

    /// The kernel's address messages of one family.
    pub(super) fn dump_addresses(
        &mut self,
        op: &'static str,
        family: AddressFamily,
    ) -> Result<Vec<AddressMessage>, LinuxError> {
        let mut msg = AddressMessage::default();
        msg.header.family = family;
        let replies = self.request(op, RouteNetlinkMessage::GetAddress(msg), NLM_F_DUMP)?;
        Ok(replies
            .into_iter()
            .filter_map(|m| match m {
                RouteNetlinkMessage::NewAddress(a) => Some(a),
                _ => None,
            })
            .collect())
    }

    /// Adds an address; `EEXIST` if it is already there.
    pub fn add_address(&mut self, spec: &AddressSpec) -> Result<(), LinuxError> {
        self.request(
            "add address",
            RouteNetlinkMessage::NewAddress(spec.to_message()),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
    }

    /// Removes an address; `EADDRNOTAVAIL` if it is not there.
    pub fn del_address(&mut self, spec: &AddressSpec) -> Result<(), LinuxError> {
        self.request(
            "delete address",
            RouteNetlinkMessage::DelAddress(spec.to_message()),
            0,
        )
        .map(drop)
    }

    /// Adds a route as its [`RouteMode`] says; `EEXIST` if an identical
    /// one exists (or, for [`RouteMode::Add`], any to the same
    /// destination, TOS and metric).
    pub fn add_route(&mut self, spec: &RouteSpec) -> Result<(), LinuxError> {
        let flags = match spec.mode {
            RouteMode::Prepend => 0,
            RouteMode::Add => NLM_F_EXCL,
            RouteMode::Append => NLM_F_APPEND,
        };
        self.request(
            "add route",
            RouteNetlinkMessage::NewRoute(spec.to_message(false)),
            NLM_F_CREATE | flags,
        )
        .map(drop)
    }

    /// Removes a route; `ESRCH` if there is none.
    pub fn del_route(&mut self, spec: &RouteSpec) -> Result<(), LinuxError> {
        self.request(
            "delete route",
            RouteNetlinkMessage::DelRoute(spec.to_message(true)),
            0,
        )
        .map(drop)
    }

    /// Creates a macvlan interface `name` on `parent` in private mode with
    /// hardware address `mac` (a VMAC, see [`vmac_address`]), brings it up
    /// and returns it.
    /// As keepalived 2.2.7 makes every VMAC, the kernel is told to
    /// generate no IPv6 link-local address on it before it goes up (RFC
    /// 9568 section 7.4: adverts never leave from an address derived from
    /// the virtual MAC).
    pub fn add_macvlan(
        &mut self,
        parent: u32,
        name: &str,
        mac: [u8; 6],
    ) -> Result<Link, LinuxError> {
        self.add_macvlan6(parent, name, mac)
    }

    /// Like [`add_macvlan`](Self::add_macvlan), for an IPv6 VMAC: the
    /// same link (the caller then adds the link-local address adverts
    /// leave from).
    pub fn add_macvlan6(
        &mut self,
        parent: u32,
        name: &str,
        mac: [u8; 6],
    ) -> Result<Link, LinuxError> {
        let link = self.create_macvlan(parent, name, mac)?;
        let mut msg = LinkMessage::default();
        msg.header.index = link.index;
        msg.attributes = vec![LinkAttribute::AfSpecUnspec(vec![AfSpecUnspec::Inet6(
            vec![
                // The kernel generates no link-local address.
                AfSpecInet6::AddrGenMode(In6AddrGenMode::None),
            ],
        )])];
        let set = self.request("set addr_gen_mode", RouteNetlinkMessage::SetLink(msg), 0);
        if let Err(e) = set.and_then(|_| self.set_link_up(link.index, true)) {
            let _ = self.del_link(link.index);
            return Err(e);
        }
        self.link(name)
    }

    /// Creates the macvlan, down.
    fn create_macvlan(
        &mut self,
        parent: u32,
        name: &str,
        mac: [u8; 6],
    ) -> Result<Link, LinuxError> {
        check_ifname(name)?;
        let mut msg = LinkMessage::default();
        msg.attributes = vec![
            LinkAttribute::IfName(name.to_owned()),
            LinkAttribute::Link(parent),
            LinkAttribute::Address(mac.to_vec()),
            LinkAttribute::LinkInfo(vec![
                LinkInfo::Kind(InfoKind::MacVlan),
                LinkInfo::Data(InfoData::MacVlan(vec![InfoMacVlan::Mode(
                    MacVlanMode::Private,
                )])),
            ]),
        ];
        self.request(
            "add macvlan",
            RouteNetlinkMessage::NewLink(msg),
            NLM_F_CREATE | NLM_F_EXCL,
        )?;
        self.link(name)
    }

    /// Sets an interface administratively up or down.
    pub fn set_link_up(&mut self, ifindex: u32, up: bool) -> Result<(), LinuxError> {
        let mut msg = LinkMessage::default();
        msg.header.index = ifindex;
        msg.header.change_mask = LinkFlags::Up;
        if up {
            msg.header.flags = LinkFlags::Up;
        }
        self.request("set link", RouteNetlinkMessage::SetLink(msg), 0)
            .map(drop)
    }

    /// Sets an interface's hardware address (a macvlan's may change while
    /// it is up, to a MAC no other macvlan of its parent has up).
    pub fn set_link_mac(&mut self, ifindex: u32, mac: [u8; 6]) -> Result<(), LinuxError> {
        let mut msg = LinkMessage::default();
        msg.header.index = ifindex;
        msg.attributes = vec![LinkAttribute::Address(mac.to_vec())];
        self.request("set link address", RouteNetlinkMessage::SetLink(msg), 0)
            .map(drop)
    }

    /// Deletes an interface (e.g. a VMAC).
    pub fn del_link(&mut self, ifindex: u32) -> Result<(), LinuxError> {
        let mut msg = LinkMessage::default();
        msg.header.index = ifindex;
        self.request("delete link", RouteNetlinkMessage::DelLink(msg), 0)
            .map(drop)
    }

    /// Sends one request and collects the replies up to the acknowledgement
    /// (or `NLMSG_DONE` for a dump).
    pub(super) fn request(
        &mut self,
        op: &'static str,
        msg: RouteNetlinkMessage,
        flags: u16,
    ) -> Result<Vec<RouteNetlinkMessage>, LinuxError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let dump = flags & NLM_F_DUMP == NLM_F_DUMP;
        let mut header = NetlinkHeader::default();
        header.flags = NLM_F_REQUEST | flags | if dump { 0 } else { NLM_F_ACK };
        header.sequence_number = seq;
        let mut nl = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(msg));
        nl.finalize();
        let mut out = vec![0; nl.buffer_len()];
        nl.serialize(&mut out);
        self.sock.send(&out, 0).map_err(LinuxError::io(op))?;

        let mut replies = Vec::new();
        loop {
            self.buf.clear();
            self.buf.reserve(64 * 1024);
            let n = self
                .sock
                .recv(&mut self.buf, 0)
                .map_err(LinuxError::io(op))?;
            let mut off = 0;
            while off < n.min(self.buf.len()) {
                let bytes = &self.buf[off..];
                let parsed = NetlinkMessage::<RouteNetlinkMessage>::deserialize(bytes)
                    .map_err(|_| LinuxError::Decode { op })?;
                let len = parsed.header.length as usize;
                if len == 0 {
                    return Err(LinuxError::Decode { op });
                }
                off += (len + 3) & !3;
                if parsed.header.sequence_number != seq {
                    continue;
                }
                match parsed.payload {
                    NetlinkPayload::Error(e) => {
                        return match e.code {
                            None => Ok(replies),
                            Some(code) => Err(LinuxError::Netlink {
                                op,
                                errno: code.get().saturating_abs(),
                            }),
                        };
                    }
                    NetlinkPayload::Done(_) => return Ok(replies),
                    NetlinkPayload::InnerMessage(m) => replies.push(m),
                    _ => {}
                }
            }
        }
    }
}

fn check_ifname(name: &str) -> Result<(), LinuxError> {
    if name.is_empty() || name.len() > IFNAME_MAX || name.contains(['\0', '/']) {
        return Err(LinuxError::BadInterfaceName(name.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmac_is_iana_prefix_plus_vrid() {
        assert_eq!(vmac_address(51), [0, 0, 0x5e, 0, 1, 51]);
        assert_eq!(vmac_address6(51), [0, 0, 0x5e, 0, 2, 51]);
    }

    #[test]
    fn interface_names_are_checked() {
        assert!(check_ifname("eth0").is_ok());
        assert!(check_ifname("123456789012345").is_ok());
        assert!(matches!(
            check_ifname("1234567890123456"),
            Err(LinuxError::BadInterfaceName(_))
        ));
        assert!(check_ifname("").is_err());
        assert!(check_ifname("a/b").is_err());
    }

    #[test]
    fn address_round_trips_through_message() {
        let spec = AddressSpec {
            ifindex: 3,
            addr: Ipv4Addr::new(192, 0, 2, 100),
            prefix_len: 24,
            broadcast: Some(Ipv4Addr::new(192, 0, 2, 255)),
            label: Some("eth0:vip".into()),
            scope: Scope::Link,
        };
        assert_eq!(AddressSpec::from_message(&spec.to_message()), Some(spec));
    }

    #[test]
    fn route_default_scope_is_global_as_in_keepalived() {
        let mut r = RouteSpec::to(Ipv4Addr::new(198, 51, 100, 0), 24);
        r.oif = Some(2);
        assert_eq!(r.to_message(false).header.scope, RouteScope::Universe);
        r.scope = Some(Scope::Link);
        assert_eq!(r.to_message(false).header.scope, RouteScope::Link);
        r.scope = None;
        r.gateway = Some(Ipv4Addr::new(192, 0, 2, 1).into());
        assert_eq!(r.to_message(false).header.scope, RouteScope::Universe);
        assert_eq!(r.to_message(true).header.scope, RouteScope::NoWhere);
    }

    #[test]
    fn protocol_onlink_and_metrics_with_their_locks() {
        let mut r = RouteSpec::to(Ipv4Addr::new(198, 51, 100, 0), 24);
        let metric = |kind, value, lock| Metric { kind, value, lock };
        r.protocol = Some(4);
        r.onlink = true;
        r.metrics = vec![
            metric(MetricKind::Mtu, 1400, true),
            metric(MetricKind::Advmss, 1300, false),
            metric(MetricKind::InitRwnd, 20, true),
        ];
        let msg = r.to_message(false);
        assert_eq!(msg.header.protocol, RouteProtocol::Static);
        assert_eq!(msg.header.flags, RouteFlags::Onlink);
        let want = RouteAttribute::Metrics(vec![
            RouteMetric::Lock(1 << 2 | 1 << 14),
            RouteMetric::Mtu(1400),
            RouteMetric::Advmss(1300),
            RouteMetric::InitRwnd(20),
        ]);
        assert!(msg.attributes.contains(&want), "{:?}", msg.attributes);
        assert_eq!(
            RouteSpec::to(Ipv4Addr::new(198, 51, 100, 0), 24)
                .to_message(false)
                .header
                .protocol,
            RouteProtocol::KeepAlived
        );
    }

    #[test]
    fn tcp_metrics_congctl_tos_realms_pref_and_expires() {
        let mut r = RouteSpec::to(Ipv4Addr::new(198, 51, 100, 0), 24);
        let metric = |kind, value, lock| Metric { kind, value, lock };
        r.metrics = vec![
            metric(MetricKind::Rtt, 2400, true),
            metric(MetricKind::QuickAck, 1, false),
        ];
        r.congctl = Some(("reno".into(), true));
        (r.tos, r.realms) = (0x10, Some(2 << 16 | 3));
        let msg = r.to_message(false);
        let want = RouteAttribute::Metrics(vec![
            RouteMetric::Lock(1 << 4 | 1 << 16),
            RouteMetric::Rtt(2400),
            RouteMetric::QuickAck(1),
            RouteMetric::CcAlgo("reno".into()),
        ]);
        assert!(msg.attributes.contains(&want), "{:?}", msg.attributes);
        let realm = RouteAttribute::Realm(RouteRealm {
            source: 2,
            destination: 3,
        });
        assert!(msg.attributes.contains(&realm), "{:?}", msg.attributes);
        // Deleting matches the TOS and realms, never the metrics.
        let del = r.to_message(true);
        assert_eq!((msg.header.tos, del.header.tos), (0x10, 0x10));
        assert!(del.attributes.contains(&realm));
        assert!(!del.attributes.contains(&want));
        let mut six = RouteSpec::to("2001:db8::".parse::<IpAddr>().expect("address"), 32);
        (six.pref, six.expires) = (Some(1), Some(600));
        let attrs = six.to_message(false).attributes;
        assert!(attrs.contains(&RouteAttribute::Preference(RoutePreference::High)));
        assert!(attrs.contains(&RouteAttribute::Expires(600)));
    }

    #[test]
    fn an_ipv6_route_is_of_its_family_and_global() {
        let dst = "2001:db8:1::"
            .parse::<std::net::Ipv6Addr>()
            .expect("address");
        let mut r = RouteSpec::to(dst, 48);
        r.oif = Some(2);
        let msg = r.to_message(false);
        assert_eq!(msg.header.address_family, AddressFamily::Inet6);
        assert_eq!(msg.header.scope, RouteScope::Universe);
        let want = RouteAttribute::Destination(RouteAddress::Inet6(dst));
        assert!(msg.attributes.contains(&want), "{:?}", msg.attributes);
    }
}
