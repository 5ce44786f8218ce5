//! Configuration of one virtual router and the pure timing functions of
//! RFC 3768 section 6.1 (VRRPv2) and RFC 9568 section 6.1 (VRRPv3).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use crate::auth::AuthConfig;

/// The priority of the router that owns the virtual addresses
/// (RFC 3768 section 5.3.4).
pub const PRIORITY_OWNER: u8 = 255;

/// The priority a master advertises when it stops (RFC 3768 section 5.3.4).
pub const PRIORITY_STOP: u8 = 0;

/// Skew_Time = ((256 - Priority) / 256) seconds (RFC 3768 section 6.1).
///
/// Exact to the nanosecond: 1 s / 256 = 3 906 250 ns, so the result is never
/// rounded (priority 100 gives 609.375 ms, priority 255 gives 3.90625 ms).
pub const fn skew_time(priority: u8) -> Duration {
    Duration::from_nanos((256 - priority as u64) * 3_906_250)
}

/// VRRPv3 Skew_Time = ((256 - Priority) * Master_Adver_Interval) / 256
/// (RFC 9568 section 6.1), exact to the nanosecond (rounded down).
///
/// With a Master_Adver_Interval of 1 s it equals [`skew_time`].
/// keepalived 2.2.7 computes the same in whole microseconds.
pub fn skew_time_v3(priority: u8, master_adver_interval: Duration) -> Duration {
    let nanos = master_adver_interval.as_nanos() * (256 - u128::from(priority)) / 256;
    // At most the interval itself, so the seconds fit back into a u64.
    let secs = u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX);
    Duration::new(secs, (nanos % 1_000_000_000) as u32)
}

/// VRRPv3 Master_Down_Interval = 3 * Master_Adver_Interval + Skew_Time
/// (RFC 9568 section 6.1). Saturates at `Duration::MAX`.
pub fn master_down_interval_v3(master_adver_interval: Duration, priority: u8) -> Duration {
    master_adver_interval
        .saturating_mul(3)
        .saturating_add(skew_time_v3(priority, master_adver_interval))
}

/// Master_Down_Interval = 3 * Advertisement_Interval + Skew_Time
/// (RFC 3768 section 6.1).
/// Saturates at `Duration::MAX` for absurd intervals.
pub const fn master_down_interval(advert_interval: Duration, priority: u8) -> Duration {
    advert_interval
        .saturating_mul(3)
        .saturating_add(skew_time(priority))
}

/// keepalived's effective priority: the base priority plus the weights of the
/// tracked objects, clamped to 1..=254. An address owner (base 255) is never
/// adjusted.
pub fn effective_priority(base: u8, weight: i32) -> u8 {
    if base == PRIORITY_OWNER {
        return PRIORITY_OWNER;
    }
    // Clamped to 1..=254 first, so the cast cannot truncate.
    (i32::from(base).saturating_add(weight)).clamp(1, 254) as u8
}

/// What a master does with a valid advert of lower priority (or equal
/// priority from a lower address).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum LowerPriorityAdvert {
    /// keepalived's default: send an advert at once so the other router sees
    /// a higher priority and returns to BACKUP ("forcing new election").
    #[default]
    SendAdvert,
    /// RFC 3768 section 6.4.3: discard it (keepalived's
    /// `lower_prio_no_advert`).
    Discard,
}

/// Gratuitous ARP settings (keepalived's `garp_master_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GarpConfig {
    /// Delay of the second burst after becoming master (`garp_master_delay`,
    /// default 5 s; zero disables the second burst).
    pub master_delay: Duration,
    /// GARPs per address in each burst (`garp_master_repeat`, default 5).
    pub master_repeat: u32,
    /// Period of the refresh bursts while master (`garp_master_refresh`,
    /// default off; `Some(Duration::ZERO)` is off too, as keepalived's 0).
    pub master_refresh: Option<Duration>,
    /// GARPs per address in each refresh burst (`garp_master_refresh_repeat`,
    /// default 1).
    pub refresh_repeat: u32,
    /// GARPs per address a master sends at once when it receives a
    /// lower-priority advert, and again after [`lower_prio_delay`]
    /// (`garp_lower_prio_repeat`; keepalived's default is the global
    /// `vrrp_garp_master_repeat`, 5; 0 in strict mode). 0: none.
    ///
    /// [`lower_prio_delay`]: Self::lower_prio_delay
    pub lower_prio_repeat: u32,
    /// Delay of the second burst after a lower-priority advert
    /// (`garp_lower_prio_delay`; keepalived's default is the global
    /// `vrrp_garp_master_delay`, 5 s); zero: no second burst. Every such
    /// advert schedules its own (at most [`LOWER_PRIO_BURSTS`] pending).
    pub lower_prio_delay: Duration,
}

/// The most delayed lower-priority GARP bursts a router keeps pending;
/// keepalived schedules one per lower-priority advert without a bound, a
/// flood of them here drops the excess.
pub const LOWER_PRIO_BURSTS: usize = 64;

impl Default for GarpConfig {
    fn default() -> Self {
        Self {
            master_delay: Duration::from_secs(5),
            master_repeat: 5,
            master_refresh: None,
            refresh_repeat: 1,
            lower_prio_repeat: 5,
            lower_prio_delay: Duration::from_secs(5),
        }
    }
}

/// The VRRP version a router speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Version {
    /// VRRPv2 (RFC 3768): whole-second intervals, optional PASS or AH
    /// authentication. keepalived's default for IPv4.
    #[default]
    V2,
    /// VRRPv3 (RFC 9568): centisecond intervals a backup learns from the
    /// master, no authentication.
    V3,
}

/// The IPv6 side of a router (RFC 9568 over IPv6, keepalived's instances
/// whose first virtual address is IPv6). A router with this set speaks
/// VRRPv3 over IPv6 only: its IPv4 fields (`primary_ip`,
/// `virtual_addresses`, unicast) are unused, and datagrams come in through
/// [`crate::VirtualRouter::handle_datagram_v6`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Ipv6Config {
    /// The interface's link-local address: the source of adverts, part of
    /// their checksum, and the tie-breaker of equal priorities. With
    /// unicast peers it may be any unicast address of the interface
    /// (keepalived's `unicast_src_ip`).
    pub link_local: Ipv6Addr,
    /// The IPv6 virtual addresses the adverts carry.
    pub virtual_addresses: Vec<Ipv6Addr>,
    /// keepalived's `unicast_peer` addresses of an IPv6 router: as
    /// [`Config::unicast_peers`] for IPv4 (one datagram per peer, received
    /// adverts must be unicast, `check_unicast_src` applies). Default
    /// empty: multicast to ff02::12.
    pub unicast_peers: Vec<Ipv6Addr>,
    /// `link_local` may be a global address while multicasting: what
    /// keepalived 2.2.7 does with `use_ipvlan` and a global IPv6 address
    /// (the ipvlan's address is the source). Default false: a multicast
    /// source must be link-local.
    pub global_source: bool,
}

impl Ipv6Config {
    /// An IPv6 side sending from `link_local`, no virtual address yet.
    pub fn new(link_local: Ipv6Addr) -> Self {
        Ipv6Config {
            link_local,
            virtual_addresses: Vec::new(),
            unicast_peers: Vec::new(),
            global_source: false,
        }
    }
}

/// The configuration of one VRRP virtual router (keepalived's
/// `vrrp_instance`). Build it with [`Config::new`] and adjust the public
/// fields; [`crate::VirtualRouter::new`] validates it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Config {
    /// Instance name, passed to notify scripts.
    pub name: Arc<str>,
    /// Virtual router identifier, 1..=255.
    pub vrid: u8,
    /// Base priority, 1..=255 (255 = address owner).
    pub priority: u8,
    /// This router's primary address on the interface: the source of its
    /// adverts and the tie-breaker of equal priorities.
    pub primary_ip: Ipv4Addr,
    /// The protocol version (keepalived's `version` / `vrrp_version`).
    /// Default [`Version::V2`].
    pub version: Version,
    /// Advertisement_Interval in whole seconds, 1..=255 (VRRPv2; unused
    /// under VRRPv3).
    pub advert_interval_secs: u8,
    /// Advertisement_Interval in centiseconds, 1..=4095 (VRRPv3: 10 ms to
    /// 40.95 s; unused under VRRPv2). Default 100 (1 s).
    pub advert_interval_centis: u16,
    /// keepalived's `accept` / `no_accept` (RFC 9568 Accept_Mode): whether
    /// a master accepts packets addressed to the virtual addresses it does
    /// not own. The state machine only carries it; the data plane applies
    /// it. Default `true`, keepalived's default; keepalived's `vrrp_strict`
    /// makes it `false` (and an address owner always accepts, see
    /// [`Config::accepts_vip_traffic`]).
    pub accept_mode: bool,
    /// The virtual addresses, at most 255 (non-empty for a real router).
    pub virtual_addresses: Vec<Ipv4Addr>,
    /// Set for an IPv6 router (see [`Ipv6Config`]; requires
    /// [`Version::V3`] and no unicast peers). Default `None` (IPv4).
    pub ipv6: Option<Ipv6Config>,
    /// Authentication of sent and received adverts (VRRPv2). Under
    /// [`Version::V3`] it is not used, as keepalived ignores an
    /// `authentication` block for version 3 ("VRRP version 3 does not
    /// support authentication. Ignoring.").
    pub authentication: AuthConfig,
    /// Preempt_Mode (RFC 3768); `false` is keepalived's `nopreempt`.
    pub preempt: bool,
    /// keepalived's `preempt_delay`: how long a higher-priority backup keeps
    /// accepting a lower-priority master before it preempts.
    pub preempt_delay: Duration,
    /// keepalived's `state MASTER`. A non-owner starts in BACKUP; as a
    /// member of a sync group it waits only one advert interval plus 1/256 s
    /// (keepalived's minimum skew) before taking over, instead of
    /// Master_Down_Interval. Outside a sync group keepalived 2.2.7 waits the
    /// whole Master_Down_Interval, and so does this. Startup only.
    pub initial_master: bool,
    /// keepalived's `state BACKUP` given explicitly: the address owner
    /// (priority 255) starts in BACKUP and takes over only when its
    /// Master_Down_Timer runs out, as keepalived 2.2.7 does. `false` (the
    /// default) follows RFC 3768 section 6.4.1: the owner takes over at
    /// once. No effect on other priorities.
    pub initial_backup: bool,
    /// Reaction of a master to a lower-priority advert.
    pub lower_priority_advert: LowerPriorityAdvert,
    /// keepalived's `higher_prio_send_advert`: a master that yields to a
    /// higher priority sends one last advert first.
    pub higher_priority_send_advert: bool,
    /// Gratuitous ARP settings.
    pub garp: GarpConfig,
    /// keepalived's `unicast_src_ip`: the source address of the adverts
    /// (and the address compared in the tie-break) instead of
    /// `primary_ip`. Default `None`.
    pub unicast_src_ip: Option<Ipv4Addr>,
    /// keepalived's `unicast_peer { ... }` addresses. Empty (the default)
    /// means multicast to 224.0.0.18; otherwise each advert is sent to every
    /// peer in turn (one datagram each, in this order) and received adverts
    /// must be unicast, with any TTL unless [`unicast_peer_ttl`] sets a
    /// range (see [`crate::wire::RecvOptions::unicast`]).
    ///
    /// [`unicast_peer_ttl`]: Self::unicast_peer_ttl
    pub unicast_peers: Vec<Ipv4Addr>,
    /// keepalived's `min_ttl`/`max_ttl` of `unicast_peer` entries, for the
    /// peers that set them: adverts from such a peer with a TTL outside
    /// the range are dropped ([`crate::router::DropReason::UnicastTtl`]).
    /// Each address must be in `unicast_peers`. Default empty.
    pub unicast_peer_ttl: Vec<PeerTtl>,
    /// keepalived's `unicast_ttl`: the TTL of unicast adverts, default 255.
    /// Multicast adverts always carry 255.
    pub unicast_ttl: u8,
    /// keepalived's `check_unicast_src` (or the global
    /// `vrrp_check_unicast_src`): with unicast peers, drop adverts whose
    /// source is not one of them
    /// ([`crate::router::DropReason::NotUnicastPeer`]). A TTL range in
    /// `unicast_peer_ttl` turns the check on too, as in keepalived. Without
    /// peers (multicast) it has no effect, as in keepalived. Default
    /// `false`, keepalived's default: any sender's adverts count. See
    /// [`crate::VirtualRouter`], "Unicast checks".
    pub check_unicast_src: bool,
    /// keepalived's `unicast_fault_no_peer`: a router meant for unicast
    /// whose peer list is empty stays in FAULT
    /// ([`crate::event::Reason::NoUnicastPeer`]) instead of falling back to
    /// multicast.
    pub unicast_fault_no_peer: bool,
    /// Whether the router's own interface going down puts it in FAULT
    /// (default `true`). keepalived's `dont_track_primary` sets it to
    /// `false`: the router then ignores its interface's state
    /// ([`crate::VirtualRouter::handle_interface`]) and keeps its state,
    /// as keepalived 2.2.7 does.
    pub track_interface: bool,
    /// keepalived's `down_timer_adverts` (1..=100, default 3): how many
    /// Advertisement_Intervals (VRRPv3: Master_Adver_Intervals) make the
    /// Master_Down_Interval, Skew_Time aside. RFC 3768 and RFC 9568 say 3.
    pub down_timer_adverts: u32,
    /// keepalived's `garp_extra_if` (`vrrp_garp_extra_if`) where it takes
    /// effect: while master, the Linux driver sends one gratuitous ARP (or
    /// NA) on each other interface holding one of the router's addresses,
    /// every this long rounded up to whole advert intervals from becoming
    /// master (keepalived checks it at each advert). `None`: none
    /// (keepalived's default).
    pub garp_extra_if: Option<Duration>,
    /// keepalived's `old_unicast_checksum`: the checksum of VRRPv3 IPv4
    /// adverts (see [`crate::wire::Checksum`]). Default
    /// [`OldChecksum::Auto`], keepalived's default.
    pub old_unicast_checksum: OldChecksum,
    /// The multicast group adverts go to and are accepted from: keepalived's
    /// `mcast_dst_ip`, else its global `vrrp_mcast_group4` /
    /// `vrrp_mcast_group6`; `None` is the family's VRRP group (224.0.0.18,
    /// ff02::12). Unused with unicast peers, as in keepalived.
    pub mcast_group: Option<IpAddr>,
    /// keepalived's `skip_check_adv_addr` (or the global
    /// `vrrp_skip_check_adv_addr`): a backup does not compare the address
    /// list of an advert from the router it last heard as master
    /// ([`crate::VirtualRouter::last_master`]); other adverts are checked.
    pub skip_check_adv_addr: bool,
}

/// keepalived's `old_unicast_checksum` modes (its checksum compatibility
/// with keepalived before 2.2.0, whose VRRPv3 unicast adverts summed
/// 224.0.0.18 instead of their destination).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OldChecksum {
    /// No keyword: the RFC checksum, until a unicast advert arrives that
    /// only the old checksum validates; from then on only the old one is
    /// accepted ([`crate::Event::OldUnicastChecksum`]). Adverts still go
    /// out with the RFC checksum: keepalived 2.2.7 means to switch them
    /// too but does not (captured with two keepalived 2.2.7; with several
    /// unicast peers its adverts then carry the checksum for the last
    /// peer sent to before the switch, a bug not reproduced here).
    #[default]
    Auto,
    /// `old_unicast_checksum never`: always the RFC checksum.
    Never,
    /// `old_unicast_checksum`: always the old checksum.
    Always,
}

/// The TTL range of one `unicast_peer` entry
/// (`<IPADDR> [min_ttl {0..255}] [max_ttl {0..255}]`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PeerTtl {
    /// The peer's address (one of [`Config::unicast_peers`]).
    pub peer: Ipv4Addr,
    /// Lowest TTL accepted from it (`min_ttl`, keepalived's default 0).
    pub min_ttl: u8,
    /// Highest TTL accepted from it (`max_ttl`, keepalived's default 255).
    pub max_ttl: u8,
}

impl PeerTtl {
    /// True if `ttl` is in `min_ttl..=max_ttl`.
    pub fn accepts(&self, ttl: u8) -> bool {
        (self.min_ttl..=self.max_ttl).contains(&ttl)
    }
}

impl Config {
    /// A configuration with keepalived's defaults: advert interval 1 s, no
    /// authentication, preemption on, no preempt delay, GARP defaults.
    pub fn new(name: &str, vrid: u8, priority: u8, primary_ip: Ipv4Addr) -> Self {
        Self {
            name: Arc::from(name),
            vrid,
            priority,
            primary_ip,
            version: Version::V2,
            advert_interval_secs: 1,
            advert_interval_centis: 100,
            accept_mode: true,
            virtual_addresses: Vec::new(),
            ipv6: None,
            authentication: AuthConfig::None,
            preempt: true,
            preempt_delay: Duration::ZERO,
            initial_master: false,
            initial_backup: false,
            lower_priority_advert: LowerPriorityAdvert::SendAdvert,
            higher_priority_send_advert: false,
            garp: GarpConfig::default(),
            unicast_src_ip: None,
            unicast_peers: Vec::new(),
            unicast_peer_ttl: Vec::new(),
            unicast_ttl: crate::wire::VRRP_TTL,
            check_unicast_src: false,
            unicast_fault_no_peer: false,
            track_interface: true,
            down_timer_adverts: 3,
            garp_extra_if: None,
            old_unicast_checksum: OldChecksum::Auto,
            mcast_group: None,
            skip_check_adv_addr: false,
        }
    }

    /// The multicast group of this router's adverts: [`Config::mcast_group`]
    /// if set (and of the router's family), else 224.0.0.18 or ff02::12.
    pub fn multicast_group(&self) -> IpAddr {
        match (self.mcast_group, &self.ipv6) {
            (Some(g @ IpAddr::V6(_)), Some(_)) | (Some(g @ IpAddr::V4(_)), None) => g,
            (_, Some(_)) => IpAddr::V6(crate::wire::VRRP_MCAST_V6),
            (_, None) => IpAddr::V4(crate::wire::VRRP_MCAST_V4),
        }
    }

    /// The source address of this router's adverts: `unicast_src_ip` if set,
    /// else `primary_ip`.
    pub fn source_ip(&self) -> Ipv4Addr {
        self.unicast_src_ip.unwrap_or(self.primary_ip)
    }

    /// The source address of adverts in the router's family: the IPv6
    /// link-local address, else [`Config::source_ip`].
    pub fn source(&self) -> IpAddr {
        match &self.ipv6 {
            Some(v6) => IpAddr::V6(v6.link_local),
            None => IpAddr::V4(self.source_ip()),
        }
    }

    /// Number of virtual addresses an advert carries (of the router's
    /// family).
    pub fn address_count(&self) -> usize {
        match &self.ipv6 {
            Some(v6) => v6.virtual_addresses.len(),
            None => self.virtual_addresses.len(),
        }
    }

    /// True if adverts go to unicast peers rather than 224.0.0.18 (or
    /// ff02::12).
    pub fn is_unicast(&self) -> bool {
        self.unicast_peer_count() > 0
    }

    /// Number of unicast peers of the router's family.
    pub fn unicast_peer_count(&self) -> usize {
        match &self.ipv6 {
            Some(v6) => v6.unicast_peers.len(),
            None => self.unicast_peers.len(),
        }
    }

    /// True if received adverts must come from a unicast peer:
    /// `check_unicast_src`, or a TTL range (keepalived turns the check on
    /// for `min_ttl`/`max_ttl`).
    pub fn checks_unicast_src(&self) -> bool {
        self.is_unicast() && (self.check_unicast_src || !self.unicast_peer_ttl.is_empty())
    }

    /// Advertisement_Interval as a duration: whole seconds under VRRPv2,
    /// centiseconds under VRRPv3.
    pub fn advert_interval(&self) -> Duration {
        match self.version {
            Version::V2 => Duration::from_secs(u64::from(self.advert_interval_secs)),
            Version::V3 => Duration::from_millis(10 * u64::from(self.advert_interval_centis)),
        }
    }

    /// The authentication adverts carry: [`Config::authentication`] under
    /// VRRPv2, none under VRRPv3.
    pub fn effective_authentication(&self) -> &AuthConfig {
        match self.version {
            Version::V2 => &self.authentication,
            Version::V3 => &AuthConfig::None,
        }
    }

    /// True if a master accepts packets for the virtual addresses: Accept_Mode
    /// or address owner (RFC 9568 section 6.4.3).
    pub fn accepts_vip_traffic(&self) -> bool {
        self.accept_mode || self.priority == PRIORITY_OWNER
    }

    /// Checks the ranges RFC 3768 and keepalived impose.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.vrid == 0 {
            return Err(ConfigError::Vrid);
        }
        if self.priority == 0 {
            return Err(ConfigError::Priority);
        }
        match self.version {
            Version::V2 if self.advert_interval_secs == 0 => {
                return Err(ConfigError::AdvertInterval);
            }
            Version::V3
                if self.advert_interval_centis == 0
                    || self.advert_interval_centis > crate::wire::vrrp::MAX_ADVER_INT_V3 =>
            {
                return Err(ConfigError::AdvertIntervalV3);
            }
            _ => {}
        }
        if self.address_count() > 255 {
            return Err(ConfigError::TooManyAddresses(self.address_count()));
        }
        if let Some(g) = self.mcast_group {
            if !g.is_multicast() || g.is_ipv6() != self.ipv6.is_some() {
                return Err(ConfigError::McastGroup(g));
            }
        }
        if let Some(v6) = &self.ipv6 {
            return validate_v6(self, v6);
        }
        if !is_unicast_addr(self.primary_ip) {
            return Err(ConfigError::PrimaryIp(self.primary_ip));
        }
        if let Some(src) = self.unicast_src_ip {
            if !is_unicast_addr(src) {
                return Err(ConfigError::UnicastSrcIp(src));
            }
        }
        let source = self.source_ip();
        if let Some(&p) = self
            .unicast_peers
            .iter()
            .find(|&&p| !is_unicast_addr(p) || p == source)
        {
            return Err(ConfigError::UnicastPeer(p));
        }
        if let Some(t) = self
            .unicast_peer_ttl
            .iter()
            .find(|t| t.min_ttl > t.max_ttl || !self.unicast_peers.contains(&t.peer))
        {
            return Err(ConfigError::UnicastPeerTtl(t.peer));
        }
        Ok(())
    }
}

/// Why a [`Config`] was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// VRID 0 is reserved.
    #[error("virtual_router_id must be 1..=255")]
    Vrid,
    /// Priority 0 is reserved for the stop advert.
    #[error("priority must be 1..=255")]
    Priority,
    /// VRRPv2 adverts carry a non-zero whole number of seconds.
    #[error("advert_int must be 1..=255 seconds")]
    AdvertInterval,
    /// VRRPv3 adverts carry 1..=4095 centiseconds.
    #[error("advert_int must be 0.01..=40.95 seconds for VRRP version 3")]
    AdvertIntervalV3,
    /// An advert holds at most 255 addresses.
    #[error("{0} virtual addresses, at most 255 fit in an advert")]
    TooManyAddresses(usize),
    /// The primary address must be a unicast address.
    #[error("primary address {0} is not a unicast address")]
    PrimaryIp(Ipv4Addr),
    /// `unicast_src_ip` must be a unicast address.
    #[error("unicast_src_ip {0} is not a unicast address")]
    UnicastSrcIp(Ipv4Addr),
    /// A unicast peer is not a unicast address, or is this router itself.
    #[error("unicast_peer {0} is not a unicast address of another router")]
    UnicastPeer(Ipv4Addr),
    /// A TTL range is empty or names an address that is not a peer.
    #[error("unicast_peer {0}: min_ttl above max_ttl, or not a unicast peer")]
    UnicastPeerTtl(Ipv4Addr),
    /// An IPv6 router speaks VRRPv3 only (RFC 9568).
    #[error("an IPv6 router needs VRRP version 3")]
    Ipv6NeedsV3,
    /// An IPv6 router takes its unicast peers in [`Ipv6Config`], not the
    /// IPv4 fields.
    #[error("an IPv6 router takes IPv6 unicast peers and source only")]
    Ipv6Unicast,
    /// The IPv6 source must be link-local (RFC 9568 section 5.1.2.1).
    #[error("IPv6 source {0} is not a link-local address")]
    LinkLocal(Ipv6Addr),
    /// An IPv6 unicast peer is not a unicast address, or is this router.
    #[error("unicast_peer {0} is not a unicast address of another router")]
    UnicastPeer6(Ipv6Addr),
    /// An IPv6 virtual address is unspecified or multicast.
    #[error("IPv6 virtual address {0} is not a unicast address")]
    VirtualAddress6(Ipv6Addr),
    /// [`Config::mcast_group`] is not a multicast address of the router's
    /// family.
    #[error("multicast group {0} is not a multicast address of the router's family")]
    McastGroup(IpAddr),
}

/// An IPv6 router: VRRPv3 only, a link-local source (any unicast one
/// with unicast peers, which must be unicast addresses other than it, or
/// with [`Ipv6Config::global_source`]) and unicast virtual addresses.
fn validate_v6(c: &Config, v6: &Ipv6Config) -> Result<(), ConfigError> {
    if c.version != Version::V3 {
        return Err(ConfigError::Ipv6NeedsV3);
    }
    if !c.unicast_peers.is_empty() || c.unicast_src_ip.is_some() {
        return Err(ConfigError::Ipv6Unicast);
    }
    let unicast6 = |a: &Ipv6Addr| !(a.is_unspecified() || a.is_multicast());
    // RFC 9568 wants a link-local multicast source, and keepalived 2.2.7
    // sends from one except from an ipvlan given a global address: only
    // that case (`global_source`) multicasts from any unicast address.
    let source_ok = match v6.unicast_peers.is_empty() && !v6.global_source {
        true => crate::wire::v3::is_link_local(v6.link_local),
        false => unicast6(&v6.link_local),
    };
    if !source_ok {
        return Err(ConfigError::LinkLocal(v6.link_local));
    }
    if let Some(&p) = (v6.unicast_peers.iter()).find(|p| !unicast6(p) || **p == v6.link_local) {
        return Err(ConfigError::UnicastPeer6(p));
    }
    if let Some(&a) = v6
        .virtual_addresses
        .iter()
        .find(|a| a.is_unspecified() || a.is_multicast())
    {
        return Err(ConfigError::VirtualAddress6(a));
    }
    Ok(())
}

/// Neither unspecified, multicast nor broadcast.
fn is_unicast_addr(ip: Ipv4Addr) -> bool {
    !(ip.is_unspecified() || ip.is_multicast() || ip.is_broadcast())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skew_is_fractional() {
        assert_eq!(skew_time(100), Duration::from_nanos(609_375_000));
        assert_eq!(skew_time(255), Duration::from_nanos(3_906_250));
        assert_eq!(skew_time(1), Duration::from_nanos(996_093_750));
        assert_eq!(skew_time(0), Duration::from_secs(1));
    }

    #[test]
    fn master_down_interval_matches_rfc() {
        let mdi = master_down_interval(Duration::from_secs(1), 100);
        assert_eq!(mdi, Duration::from_nanos(3_609_375_000));
        let mdi = master_down_interval(Duration::from_secs(2), 150);
        assert_eq!(mdi, Duration::from_nanos(6_414_062_500));
        // Was a u64 overflow (a panic in debug builds).
        let mdi = master_down_interval(Duration::MAX, 100);
        assert_eq!(mdi, Duration::MAX);
        let big = Duration::from_secs(u64::MAX / 2);
        assert_eq!(master_down_interval(big, 255), Duration::MAX);
    }

    #[test]
    fn v3_skew_scales_with_the_master_interval() {
        // At 1 s the v3 rule is the v2 one.
        let one = Duration::from_secs(1);
        for p in [1, 100, 150, 254, 255] {
            assert_eq!(skew_time_v3(p, one), skew_time(p));
        }
        // 10 ms, priority 100: 156/256 * 10 ms = 6.09375 ms.
        let ten = Duration::from_millis(10);
        assert_eq!(skew_time_v3(100, ten), Duration::from_nanos(6_093_750));
        // 50 cs, priority 100: 304.6875 ms (keepalived's capture: 0.305 s).
        let half = Duration::from_millis(500);
        assert_eq!(skew_time_v3(100, half), Duration::from_nanos(304_687_500));
        // Rounded down: 3 * 10 ms * 1/256.
        let odd = Duration::from_millis(30);
        assert_eq!(skew_time_v3(255, odd), Duration::from_nanos(117_187));
        assert_eq!(skew_time_v3(0, Duration::MAX), Duration::MAX);
    }

    #[test]
    fn v3_master_down_interval_matches_rfc() {
        let mdi = master_down_interval_v3(Duration::from_millis(10), 100);
        assert_eq!(mdi, Duration::from_nanos(36_093_750));
        let mdi = master_down_interval_v3(Duration::from_millis(500), 255);
        assert_eq!(mdi, Duration::from_nanos(1_501_953_125));
        assert_eq!(master_down_interval_v3(Duration::MAX, 1), Duration::MAX);
    }

    #[test]
    fn v3_interval_accept_mode_and_authentication() {
        let mut c = Config::new("vi", 1, 100, Ipv4Addr::new(10, 0, 0, 1));
        c.authentication = AuthConfig::pass(b"secret");
        assert_eq!(c.advert_interval(), Duration::from_secs(1));
        assert_eq!(c.effective_authentication(), &AuthConfig::pass(b"secret"));
        c.version = Version::V3;
        c.advert_interval_secs = 0; // unused under v3
        c.advert_interval_centis = 1;
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.advert_interval(), Duration::from_millis(10));
        assert_eq!(c.effective_authentication(), &AuthConfig::None);
        for bad in [0, 4096] {
            c.advert_interval_centis = bad;
            assert_eq!(c.validate(), Err(ConfigError::AdvertIntervalV3));
        }
        assert!(c.accepts_vip_traffic());
        c.accept_mode = false;
        assert!(!c.accepts_vip_traffic());
        c.priority = PRIORITY_OWNER;
        assert!(c.accepts_vip_traffic());
    }

    #[test]
    fn effective_priority_clamps_and_spares_owner() {
        assert_eq!(effective_priority(100, 20), 120);
        assert_eq!(effective_priority(100, -200), 1);
        assert_eq!(effective_priority(250, 50), 254);
        assert_eq!(effective_priority(255, -100), 255);
        assert_eq!(effective_priority(1, i32::MIN), 1);
    }

    #[test]
    fn validate_rejects_bad_ranges() {
        let ok = Config::new("vi", 1, 100, Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(ok.validate(), Ok(()));
        let mut c = ok.clone();
        c.vrid = 0;
        assert_eq!(c.validate(), Err(ConfigError::Vrid));
        let mut c = ok.clone();
        c.priority = 0;
        assert_eq!(c.validate(), Err(ConfigError::Priority));
        let mut c = ok.clone();
        c.advert_interval_secs = 0;
        assert_eq!(c.validate(), Err(ConfigError::AdvertInterval));
        let mut c = ok.clone();
        c.primary_ip = Ipv4Addr::new(224, 0, 0, 18);
        assert_eq!(
            c.validate(),
            Err(ConfigError::PrimaryIp(Ipv4Addr::new(224, 0, 0, 18)))
        );
        c.primary_ip = Ipv4Addr::BROADCAST;
        assert_eq!(
            c.validate(),
            Err(ConfigError::PrimaryIp(Ipv4Addr::BROADCAST))
        );
    }

    #[test]
    fn validate_checks_unicast_settings() {
        let me = Ipv4Addr::new(10, 0, 0, 1);
        let peer = Ipv4Addr::new(10, 0, 1, 3);
        let mut ok = Config::new("vi", 1, 100, me);
        ok.unicast_peers = vec![Ipv4Addr::new(10, 0, 0, 2), peer];
        assert_eq!(ok.validate(), Ok(()));
        assert!(ok.is_unicast());
        assert!(!ok.checks_unicast_src());
        assert_eq!(ok.source_ip(), me);
        let mut c = ok.clone();
        c.unicast_src_ip = Some(Ipv4Addr::new(10, 0, 0, 9));
        assert_eq!(c.validate(), Ok(()));
        assert_eq!(c.source_ip(), Ipv4Addr::new(10, 0, 0, 9));
        c.unicast_src_ip = Some(Ipv4Addr::BROADCAST);
        assert_eq!(
            c.validate(),
            Err(ConfigError::UnicastSrcIp(Ipv4Addr::BROADCAST))
        );
        let mut c = ok.clone();
        c.unicast_peers.push(me);
        assert_eq!(c.validate(), Err(ConfigError::UnicastPeer(me)));
        let mut c = ok.clone();
        c.unicast_peers.insert(0, wire_mcast());
        assert_eq!(c.validate(), Err(ConfigError::UnicastPeer(wire_mcast())));
        // keepalived accepts unicast_ttl 0..=255.
        let mut c = ok.clone();
        c.unicast_ttl = 0;
        assert_eq!(c.validate(), Ok(()));
        // A TTL range turns the source check on; an empty range, or one for
        // an address that is not a peer, is refused.
        let mut c = ok;
        let range = PeerTtl {
            peer,
            min_ttl: 64,
            max_ttl: 255,
        };
        c.unicast_peer_ttl = vec![range];
        assert!(c.checks_unicast_src());
        assert_eq!(c.validate(), Ok(()));
        assert!(range.accepts(64) && !range.accepts(63));
        c.unicast_peer_ttl[0].max_ttl = 63;
        assert_eq!(c.validate(), Err(ConfigError::UnicastPeerTtl(peer)));
        c.unicast_peer_ttl[0] = PeerTtl { peer: me, ..range };
        assert_eq!(c.validate(), Err(ConfigError::UnicastPeerTtl(me)));
        assert!(!Config::new("vi", 1, 100, me).is_unicast());
    }

    fn wire_mcast() -> Ipv4Addr {
        crate::wire::VRRP_MCAST_V4
    }
}
