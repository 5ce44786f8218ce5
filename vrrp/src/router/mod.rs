//! The sans-IO VRRP state machine: VRRPv2 (RFC 3768 section 6) and VRRPv3
//! over IPv4 (RFC 9568 section 6), plus keepalived's extensions.

mod reconfigure;

use std::cmp::Ordering;
use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

pub use self::reconfigure::{Change, Changed};
use crate::auth::{AhReplay, TxCounters};
use crate::config::{
    effective_priority, skew_time, skew_time_v3, Config, ConfigError, LowerPriorityAdvert,
    OldChecksum, Version, PRIORITY_OWNER, PRIORITY_STOP,
};
use crate::counters::Counters;
pub use crate::counters::{DropCounters, DropReason};
use crate::event::{AdvertError, Event, Notify, NotifyKind, Reason, State};
use crate::timer::{Timer, TimerTable};
use crate::wire;

/// Senders whose AH sequence numbers are remembered (a VRID rarely has
/// more than a few routers); the oldest entry is replaced when full.
const AH_PEERS: usize = 4;

/// Room kept in the event queue; beyond it `Dropped` events are counted in
/// [`Counters::events_overflowed`] instead of queued, so a flood of bad
/// datagrams never allocates.
const EVENT_CAPACITY: usize = 16;

/// The tracking state the embedder computes from its tracked objects
/// (scripts, interfaces, files): keepalived's weights and weight-0 faults.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tracking {
    /// Sum of the weights of the tracked objects currently applying
    /// (negative for failed objects with negative weight, positive for
    /// healthy ones with positive weight).
    pub weight: i32,
    /// A tracked object with weight 0 has failed: the router goes to FAULT.
    pub fault: bool,
}

/// An order from a sync group (see [`crate::mux::Mux`], which drives them).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncCommand {
    /// Every member wants MASTER (or is master): a BACKUP member becomes
    /// master at once.
    Master,
    /// Another member left master for BACKUP: a MASTER member follows.
    Backup,
    /// Another member is faulty: this one enters FAULT too.
    Fault,
    /// No other member is faulty any more.
    Recover,
}

/// An advert written by [`VirtualRouter::poll_transmit`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Transmit {
    /// Bytes written at the front of the buffer: a whole IPv4 datagram,
    /// or for an IPv6 router the VRRP message (the payload of an IPv6 raw
    /// socket, which must send it from the link-local address with hop
    /// limit 255).
    pub len: usize,
    /// Where to send it: 224.0.0.18 (ff02::12 for IPv6), or in unicast
    /// mode the peer this datagram is for (also its IP destination).
    pub destination: IpAddr,
    /// The priority it carries (0 for the stop advert).
    pub priority: u8,
}

/// One VRRP virtual router (keepalived's `vrrp_instance`) as a pure state
/// machine: no sockets, threads or clock reads. It speaks VRRPv2 or, with
/// [`Config::version`] = [`Version::V3`], VRRPv3 over IPv4: centisecond
/// intervals, and a backup that times the master with the interval the
/// master advertises ([`master_adver_interval`](Self::master_adver_interval)).
///
/// # Inputs
/// Every input carries `now`, the embedder's monotonic time:
/// [`handle_startup`](Self::handle_startup),
/// [`handle_shutdown`](Self::handle_shutdown),
/// [`handle_datagram`](Self::handle_datagram) (a whole received IPv4
/// datagram and its sender; validation and authentication state stay inside),
/// [`handle_timeout`](Self::handle_timeout),
/// [`handle_tracking`](Self::handle_tracking),
/// [`handle_interface`](Self::handle_interface) and
/// [`handle_sync`](Self::handle_sync).
///
/// # Polling order
/// After every input, drain the outputs in this order:
/// 1. [`poll_transmit`](Self::poll_transmit) until `None`: send each
///    datagram to its [`Transmit::destination`] (the advert goes out before
///    the GARPs of a new master, so the old master drops the addresses
///    first). In multicast mode an advert is one datagram to 224.0.0.18
///    (or [`Config::mcast_group`]; adverts to another group are dropped as
///    `bad-destination`, as keepalived's socket bound to its group never
///    sees them);
///    with unicast peers ([`Config::unicast_peers`]) it is one datagram per
///    peer, in the configured order, each addressed and (for AH) signed for
///    that peer, all with the same IP identification and AH sequence number
///    (as keepalived 2.2.7 sends them), so call it until `None`;
/// 2. [`poll_event`](Self::poll_event) until `None`: install or remove
///    addresses, send GARPs, run notify scripts, log drops;
/// 3. [`poll_timeout`](Self::poll_timeout): call `handle_timeout` at that
///    instant (or later). A spurious or early `handle_timeout` is a no-op.
///
/// # Data plane
/// RFC 3768 section 6.4's forwarding duties (answer ARP for and accept
/// packets to the virtual addresses only while master) are the embedder's:
/// [`Event::AddAddresses`] and [`Event::RemoveAddresses`] mark when.
///
/// # Unicast checks: keepalived 2.2.7 and this router
/// With unicast peers ([`Config::unicast_peers`]):
/// - adverts must be unicast, and for a multicast router multicast
///   (`bad-destination`), as keepalived checks;
/// - a multicast advert must carry TTL 255 (RFC 3768 section 7.1); a
///   unicast one may carry any TTL, since it may cross routers (keepalived
///   too);
/// - `check_unicast_src` or the global `vrrp_check_unicast_src`
///   ([`Config::check_unicast_src`]): keepalived drops an advert whose
///   source is none of the peers ("unicast source address A not a unicast
///   peer") after all its other checks; this router checks it first
///   ([`DropReason::NotUnicastPeer`]), so a flood from strangers costs no
///   checksum or HMAC. Without it, any host that reaches the router may
///   send adverts that count;
/// - a peer's `min_ttl`/`max_ttl` ([`Config::unicast_peer_ttl`]): keepalived
///   compares the TTL of that peer's adverts with its range only where it
///   checks sources, and either keyword turns the source check on ("TTL/HL
///   N not in range MIN - MAX"); the same here
///   ([`DropReason::UnicastTtl`]). A source address is easily forged; with
///   `unicast_ttl 255` on the sender and `min_ttl 255` on the receiver,
///   nothing routed from off the link is accepted (the idea of RFC 5082);
/// - `unicast_ttl` ([`Config::unicast_ttl`]) is the TTL of the unicast
///   adverts sent (default 255); multicast adverts always carry 255.
///
/// keepalived skips these checks for a backup's adverts from its current
/// master under `vrrp_skip_check_adv_addr`; vrrp-conf refuses that keyword,
/// so neither skips them.
///
/// # Priority 0
/// keepalived 2.2.7 (`vrrp_state_backup`), like RFC 3768 section 6.4.2,
/// sets a backup's Master_Down_Timer to Skew_Time on any valid priority-0
/// advert, whoever sends it. So a priority 0 from a router that is not the
/// master (an old master that already lost to another after a partition,
/// or any host that reaches a router without the source check) makes the
/// backup take over after Skew_Time while the real master runs: both hold
/// the addresses until the master answers the newcomer's advert and wins
/// the election again. Here a backup that follows a master (the last one
/// whose advert it accepted, [`master`](Self::master)) ignores priority 0
/// from anyone else ([`DropReason::StopNotFromMaster`]); a backup that
/// follows none yet honours it from anyone, as keepalived does. A
/// partition cannot make this wait longer than keepalived: the master a
/// backup follows is the one whose adverts keep its timer running, and
/// the down timer still fires if that one goes silent. A master answers
/// priority 0 from anyone with an advert at once (RFC 3768 section 6.4.3,
/// keepalived too), so that the backups learn who is master.
///
/// # Advert grid
/// A master sends its first advert at once and the following ones at
/// `epoch + k x advert_interval` ([`advert_epoch`](Self::advert_epoch)),
/// not one interval after it became master: routers sharing an epoch (all
/// of a [`crate::mux::Mux`]) with the same interval send on the same
/// instants, so a process with many masters wakes once per interval
/// instead of once per router. The second advert comes at most one
/// interval after the first, so no backup's Master_Down_Interval is
/// shortened. A router's epoch is the first `now` given to
/// [`handle_startup`](Self::handle_startup), unless
/// [`set_advert_epoch`](Self::set_advert_epoch) set one.
///
/// # Allocation
/// Receiving and sending adverts never allocates; only state changes queue
/// events (into a queue allocated up front).
///
/// # Panics
/// Never, on any input (fuzzed by the `router_inputs` target).
///
/// # Example
/// ```
/// use std::net::Ipv4Addr;
/// use std::time::{Duration, Instant};
/// use vrrp::{Config, Event, State, VirtualRouter};
///
/// let mut cfg = Config::new("VI_1", 51, 150, Ipv4Addr::new(10, 0, 0, 1));
/// cfg.virtual_addresses = vec![Ipv4Addr::new(10, 0, 0, 100)];
/// let mut router = VirtualRouter::new(cfg)?;
/// let mut buf = vec![0; router.max_datagram_len()];
/// let t0 = Instant::now(); // the embedder's clock: the router reads none
/// router.handle_startup(t0);
/// // Nobody else on the LAN: master after Master_Down_Interval (3 x 1 s +
/// // (256 - 150) / 256 s).
/// let wake = router.poll_timeout().expect("down timer");
/// assert_eq!(wake - t0, Duration::from_nanos(3_414_062_500));
/// router.handle_timeout(wake);
/// let tx = router.poll_transmit(wake, &mut buf).expect("an advert");
/// assert_eq!((tx.priority, tx.len), (150, 40)); // send buf[..40] to 224.0.0.18
/// let events: Vec<Event> = std::iter::from_fn(|| router.poll_event()).collect();
/// assert!(events.contains(&Event::AddAddresses));
/// assert_eq!(router.state(), State::Master);
/// // The next advert on the grid of whole intervals from t0 (see below).
/// assert_eq!(router.poll_timeout(), Some(t0 + Duration::from_secs(4)));
/// # Ok::<(), vrrp::config::ConfigError>(())
/// ```
#[derive(Debug)]
pub struct VirtualRouter {
    cfg: Config,
    state: State,
    running: bool,
    base_priority: u8,
    tracking: Tracking,
    interface_up: bool,
    group_fault: bool,
    sync_member: bool,
    wants_master: bool,
    /// keepalived's `wantstate` MASTER, which decides whether the address
    /// owner takes over at once on start-up or recovery: set unless
    /// [`Config::initial_backup`] and on entering MASTER, cleared by an
    /// accepted advert of another master and by entering FAULT.
    owner_takes_over: bool,
    timers: TimerTable,
    preempt_at: Option<Instant>,
    pending: Option<u8>,
    /// The unicast peer the pending advert goes to next.
    next_peer: usize,
    /// The transmit counters before the pending advert's first copy: every
    /// copy carries the same IP identification and AH sequence number, as
    /// keepalived sends them.
    advert_tx: TxCounters,
    ah_peers: [Option<(Ipv4Addr, u32)>; AH_PEERS],
    ah_evict: usize,
    tx: TxCounters,
    master: Option<(IpAddr, u8)>,
    /// keepalived's `master_saddr`: the last other router heard as master
    /// (see [`last_master`](Self::last_master)).
    last_master: Option<IpAddr>,
    /// VRRPv3 Master_Adver_Interval: the master's advertised interval as
    /// a backup learns it, our own otherwise (RFC 9568 section 6.1).
    master_adver_int: Duration,
    /// The origin of the advert grid (see the type's "Advert grid").
    epoch: Option<Instant>,
    events: VecDeque<Event>,
    /// Deadlines of the delayed GARP bursts after lower-priority adverts.
    lower_prio_garps: VecDeque<Instant>,
    /// Lower-priority adverts received as master (for the sync group).
    lower_prio_received: u64,
    /// An advert with keepalived's old unicast checksum switched this
    /// router to it ([`OldChecksum::Auto`]).
    old_checksum_seen: bool,
    /// keepalived's `vrrp_startup_delay`: no Master_Down_Timer of a backup
    /// runs out before this instant plus its interval.
    hold_until: Option<Instant>,
    counters: Counters,
}

impl VirtualRouter {
    /// A router in INIT; call [`handle_startup`](Self::handle_startup) to run
    /// it. The interface is assumed up.
    pub fn new(cfg: Config) -> Result<Self, ConfigError> {
        cfg.validate()?;
        Ok(Self {
            state: State::Initialize,
            running: false,
            base_priority: cfg.priority,
            tracking: Tracking::default(),
            interface_up: true,
            group_fault: false,
            sync_member: false,
            wants_master: false,
            owner_takes_over: !cfg.initial_backup,
            timers: TimerTable::default(),
            preempt_at: None,
            pending: None,
            next_peer: 0,
            advert_tx: TxCounters::new(),
            ah_peers: [None; AH_PEERS],
            ah_evict: 0,
            tx: TxCounters::new(),
            master: None,
            last_master: None,
            master_adver_int: cfg.advert_interval(),
            epoch: None,
            events: VecDeque::with_capacity(EVENT_CAPACITY),
            lower_prio_garps: VecDeque::new(),
            lower_prio_received: 0,
            old_checksum_seen: false,
            hold_until: None,
            counters: Counters::default(),
            cfg,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The effective priority: base plus tracking weights, clamped to
    /// 1..=254; 255 for an address owner.
    pub fn priority(&self) -> u8 {
        effective_priority(self.base_priority, self.tracking.weight)
    }

    /// The IPv4 virtual addresses to install on becoming master.
    pub fn virtual_addresses(&self) -> &[Ipv4Addr] {
        &self.cfg.virtual_addresses
    }

    /// The IPv6 virtual addresses to install on becoming master (empty for
    /// an IPv4 router).
    pub fn virtual_addresses_v6(&self) -> &[Ipv6Addr] {
        self.cfg
            .ipv6
            .as_ref()
            .map_or(&[], |v6| &v6.virtual_addresses)
    }

    /// The address and priority of the last master whose advert this backup
    /// accepted.
    pub fn master(&self) -> Option<(IpAddr, u8)> {
        self.master
    }

    /// The source address of the last valid advert (priority above 0) from
    /// another router that this router heard while BACKUP, whether it
    /// followed it or, preempting, discarded its lower priority; or that
    /// made it leave MASTER. keepalived's `master_saddr`, which its SNMP
    /// agent serves as vrrpOperMasterIpAddr: unlike
    /// [`master`](Self::master), it is kept in every state, so a master
    /// reports the master it last heard before it took over.
    pub fn last_master(&self) -> Option<IpAddr> {
        self.last_master
    }

    /// Statistics.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// True if this router's own interface, tracking or configuration
    /// (`unicast_fault_no_peer`) holds it in FAULT (not counting a fault
    /// imposed by its sync group).
    pub fn own_fault(&self) -> bool {
        !self.interface_up || self.tracking.fault || self.no_peer_fault()
    }

    /// The advert from `src` has a TTL outside the peer's configured range.
    fn bad_peer_ttl(&self, src: Ipv4Addr, ttl: u8) -> bool {
        self.cfg
            .unicast_peer_ttl
            .iter()
            .any(|t| t.peer == src && !t.accepts(ttl))
    }

    /// keepalived's `unicast_fault_no_peer` with an empty peer list.
    fn no_peer_fault(&self) -> bool {
        self.cfg.unicast_fault_no_peer && !self.cfg.is_unicast()
    }

    /// In a sync group: the Master_Down_Timer fired and this router waits
    /// for the other members to want MASTER too (keepalived's `wantstate`).
    pub fn wants_master(&self) -> bool {
        self.wants_master
    }

    /// Marks the router as a sync-group member: its Master_Down_Timer no
    /// longer makes it master by itself, it only [wants](Self::wants_master)
    /// to be, and whoever drives the group sends [`SyncCommand::Master`]
    /// when every member does. [`crate::mux::Mux::add_sync_group`] calls
    /// this; embedders driving groups themselves call it too.
    pub fn set_sync_member(&mut self, member: bool) {
        self.sync_member = member;
    }

    /// The size of buffer [`poll_transmit`](Self::poll_transmit) needs.
    pub fn max_datagram_len(&self) -> usize {
        // validate() bounds the count to 255.
        let count = u8::try_from(self.cfg.address_count()).unwrap_or(u8::MAX);
        match self.cfg.version {
            _ if self.cfg.ipv6.is_some() => wire::encoded_len_v6(count),
            Version::V2 => wire::encoded_len(self.cfg.authentication.auth_type(), count),
            Version::V3 => wire::encoded_len_v3(count),
        }
    }

    /// Skew_Time for the current effective priority (VRRPv3: of the
    /// Master_Adver_Interval).
    pub fn skew_time(&self) -> Duration {
        self.skew_time_for(self.priority())
    }

    fn skew_time_for(&self, priority: u8) -> Duration {
        match self.cfg.version {
            Version::V2 => skew_time(priority),
            Version::V3 => skew_time_v3(priority, self.master_adver_int),
        }
    }

    /// Master_Down_Interval for the current effective priority (VRRPv3: of
    /// the Master_Adver_Interval).
    pub fn master_down_interval(&self) -> Duration {
        self.master_down_interval_for(self.priority())
    }

    fn master_down_interval_for(&self, priority: u8) -> Duration {
        // keepalived's `down_timer_adverts` in place of the RFCs' 3.
        let n = self.cfg.down_timer_adverts;
        let (interval, skew) = match self.cfg.version {
            Version::V2 => (self.cfg.advert_interval(), skew_time(priority)),
            Version::V3 => (
                self.master_adver_int,
                skew_time_v3(priority, self.master_adver_int),
            ),
        };
        interval.saturating_mul(n).saturating_add(skew)
    }

    /// VRRPv3 Master_Adver_Interval: in BACKUP the interval of the last
    /// master advert accepted, otherwise this router's own
    /// [`Config::advert_interval`] (as keepalived resets it on becoming
    /// master). Under VRRPv2 always the configured interval.
    pub fn master_adver_interval(&self) -> Duration {
        self.master_adver_int
    }

    /// The origin of the advert grid: adverts after a master's first go
    /// out at `epoch + k x advert_interval` (see the type's "Advert grid").
    /// `None` until set or until the first start-up.
    pub fn advert_epoch(&self) -> Option<Instant> {
        self.epoch
    }

    /// Sets the origin of the advert grid; takes effect when the router
    /// next becomes master or answers a priority-0 advert.
    /// [`crate::mux::Mux`] gives all its routers one epoch.
    pub fn set_advert_epoch(&mut self, epoch: Instant) {
        self.epoch = Some(epoch);
    }

    /// RFC 3768 section 6.4.1: the owner becomes MASTER, others BACKUP; a
    /// faulty router enters FAULT. Ignored while running.
    pub fn handle_startup(&mut self, now: Instant) {
        if self.running {
            return;
        }
        self.running = true;
        self.epoch.get_or_insert(now);
        match self.fault_reason() {
            Some(reason) => self.enter(now, State::Fault, reason),
            None => self.start_protocol(now, Reason::Startup),
        }
    }

    /// keepalived's `vrrp_startup_delay`: until `until`, a backup's
    /// Master_Down_Timer counts from `until` rather than from when it is
    /// armed, so no backup takes over before `until` plus its
    /// Master_Down_Interval (Skew_Time after a priority-0 advert), while
    /// adverts are received and answered as usual. keepalived sets it at
    /// its first start only (not on reload). Call before
    /// [`handle_startup`](Self::handle_startup); `None` clears it.
    pub fn hold_startup(&mut self, until: Option<Instant>) {
        self.hold_until = until;
    }

    /// Stops the router: a master sends a priority-0 advert (RFC 3768
    /// section 6.4.3) and removes its addresses. Ignored when stopped.
    pub fn handle_shutdown(&mut self, now: Instant) {
        if !self.running {
            return;
        }
        self.running = false;
        self.enter(now, State::Initialize, Reason::Shutdown);
    }

    /// A received IPv4 datagram (IP header included) and the sender address
    /// the socket reported. Invalid datagrams only bump a counter and queue
    /// an [`Event::Dropped`]; they never touch a timer.
    pub fn handle_datagram(&mut self, now: Instant, src: Ipv4Addr, datagram: &[u8]) {
        if !matches!(self.state, State::Backup | State::Master) {
            return self.dropped(DropReason::NotRunning);
        }
        if self.cfg.ipv6.is_some() {
            return self.dropped(DropReason::WrongFamily);
        }
        if src == self.cfg.source_ip() {
            return self.dropped(DropReason::OwnAdvert);
        }
        // keepalived checks the peer list last; checking it first spares a
        // flood from strangers the HMAC, and such an advert is dropped
        // either way.
        if self.cfg.checks_unicast_src() && !self.cfg.unicast_peers.contains(&src) {
            return self.dropped(DropReason::NotUnicastPeer);
        }
        if self.other_group(datagram_dst(datagram)) {
            return self.rejected(src.into(), wire::DropReason::BadDestination);
        }
        if self.cfg.version == Version::V3 {
            return self.handle_datagram_v3(now, src, datagram);
        }
        let adver_int = u16::from(self.cfg.advert_interval_secs);
        let opts = wire::RecvOptions {
            vrid: Some(self.cfg.vrid),
            unicast: self.cfg.is_unicast(),
            adver_int: Some(adver_int),
            addresses: self
                .checks_addresses(src.into())
                .then_some(&self.cfg.virtual_addresses[..]),
        };
        let mut replay = self.ah_replay(src);
        match wire::decode(datagram, &opts, &self.cfg.authentication, &mut replay) {
            Ok(advert) => {
                if self.bad_peer_ttl(src, advert.ttl) {
                    return self.dropped(DropReason::UnicastTtl);
                }
                if let Some(seq) = advert.ah_seq {
                    self.remember_ah(src, seq);
                }
                let rx = Received {
                    src: src.into(),
                    priority: advert.priority,
                    ah_seq: advert.ah_seq,
                    adver_int: None,
                };
                self.on_advert(now, rx)
            }
            Err(reason) => self.rejected(src.into(), reason),
        }
    }

    /// [`handle_datagram`](Self::handle_datagram) for VRRPv3: no
    /// authentication, and the advertised interval is not compared with
    /// ours but learned (by a backup).
    fn handle_datagram_v3(&mut self, now: Instant, src: Ipv4Addr, datagram: &[u8]) {
        let opts = wire::RecvOptionsV3 {
            vrid: Some(self.cfg.vrid),
            unicast: self.cfg.is_unicast(),
            addresses: self
                .checks_addresses(src.into())
                .then_some(&self.cfg.virtual_addresses[..]),
        };
        let sum = match self.cfg.old_unicast_checksum {
            _ if self.expects_old_checksum() => wire::Checksum::Old,
            OldChecksum::Auto if opts.unicast => wire::Checksum::Either,
            _ => wire::Checksum::Rfc,
        };
        match wire::decode_v3_checksum(datagram, &opts, sum) {
            Ok((advert, used)) => {
                if self.bad_peer_ttl(src, advert.ttl) {
                    return self.dropped(DropReason::UnicastTtl);
                }
                if sum == wire::Checksum::Either && used == wire::Checksum::Old {
                    self.old_checksum_seen = true;
                    self.push(Event::OldUnicastChecksum);
                }
                self.on_advert_v3(now, src.into(), advert.priority, advert.max_adver_int)
            }
            Err(reason) => self.rejected(src.into(), reason),
        }
    }

    /// A VRRP message received on an IPv6 raw socket (the kernel strips
    /// the IPv6 header) with what the socket reported beside it: sender,
    /// destination and hop limit. The IPv6 counterpart of
    /// [`handle_datagram`](Self::handle_datagram), for a router with
    /// [`Config::ipv6`] set; an IPv4 router drops it
    /// ([`DropReason::WrongFamily`]). The hop limit must be 255 and the
    /// source link-local (RFC 9568 section 7.1).
    pub fn handle_datagram_v6(&mut self, now: Instant, meta: &wire::Ipv6Meta, payload: &[u8]) {
        if !matches!(self.state, State::Backup | State::Master) {
            return self.dropped(DropReason::NotRunning);
        }
        let Some(v6) = &self.cfg.ipv6 else {
            return self.dropped(DropReason::WrongFamily);
        };
        if meta.src == v6.link_local {
            return self.dropped(DropReason::OwnAdvert);
        }
        let unicast = !v6.unicast_peers.is_empty();
        if unicast && self.cfg.check_unicast_src && !v6.unicast_peers.contains(&meta.src) {
            return self.dropped(DropReason::NotUnicastPeer);
        }
        if self.other_group(Some(meta.dst.into())) {
            return self.rejected(meta.src.into(), wire::DropReason::BadDestination);
        }
        let check = self.checks_addresses(meta.src.into());
        let Some(v6) = &self.cfg.ipv6 else {
            return self.dropped(DropReason::WrongFamily);
        };
        let opts = wire::RecvOptionsV3 {
            vrid: Some(self.cfg.vrid),
            unicast,
            addresses: check.then_some(&v6.virtual_addresses[..]),
        };
        match wire::decode_v6(payload, meta, &opts) {
            Ok(advert) => {
                self.on_advert_v3(now, meta.src.into(), advert.priority, advert.max_adver_int)
            }
            Err(reason) => self.rejected(meta.src.into(), reason),
        }
    }

    /// A valid VRRPv3 advert of either family.
    fn on_advert_v3(&mut self, now: Instant, src: IpAddr, priority: u8, centis: u16) {
        let rx = Received {
            src,
            priority,
            ah_seq: None,
            adver_int: Some(Duration::from_millis(10 * u64::from(centis))),
        };
        self.on_advert(now, rx)
    }

    /// Fires every timer due at `now`; a no-op if none is.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some((timer, deadline)) = self.timers.take_expired(now) {
            match timer {
                Timer::Advert => {
                    self.queue_advert(self.priority());
                    // Back on the grid even after a late wake-up.
                    self.arm_advert(now);
                }
                Timer::MasterDown if self.sync_member => {
                    // keepalived's sync groups prefer BACKUP: wait (timer
                    // re-armed) until every member wants MASTER; the mux
                    // then moves them all with `SyncCommand::Master`.
                    self.wants_master = true;
                    let wait = self.master_down_interval();
                    self.arm(Timer::MasterDown, now, wait);
                }
                Timer::MasterDown => self.enter(now, State::Master, Reason::MasterDown),
                Timer::GarpDelay => self.push(Event::GratuitousArp {
                    repeat: self.cfg.garp.master_repeat,
                }),
                Timer::GarpLowerPrio => self.lower_prio_garps_due(now),
                Timer::GarpRefresh => {
                    self.push(Event::GratuitousArp {
                        repeat: self.cfg.garp.refresh_repeat,
                    });
                    if let Some(period) = self.garp_refresh_period() {
                        self.timers
                            .set(Timer::GarpRefresh, next_period(deadline, period, now));
                    }
                }
            }
        }
    }

    /// New tracking state: the effective priority follows the weights
    /// (carried by the next advert; a backup's running Master_Down_Timer
    /// moves by the change of Skew_Time, as keepalived's
    /// `vrrp_set_effective_priority` does); a weight-0 failure moves the
    /// router to FAULT and its recovery back to BACKUP.
    pub fn handle_tracking(&mut self, now: Instant, tracking: Tracking) {
        let old = self.priority();
        self.tracking = tracking;
        self.priority_changed(old);
        let new = self.priority();
        if new != old {
            self.push(Event::PriorityChanged {
                state: self.state,
                from: old,
                to: new,
            });
        }
        self.reevaluate_fault(now);
    }

    /// The effective priority was `old`: a backup's running down timer
    /// moves by the difference of the Master_Down_Intervals.
    fn priority_changed(&mut self, old: u8) {
        let new = self.priority();
        if new == old || self.state != State::Backup {
            return;
        }
        let Some(at) = self.timers.get(Timer::MasterDown) else {
            return;
        };
        let (was, is) = (
            self.master_down_interval_for(old),
            self.master_down_interval_for(new),
        );
        let moved = if is >= was {
            at.checked_add(is - was)
        } else {
            at.checked_sub(was - is)
        };
        self.timers.set(Timer::MasterDown, moved);
    }

    /// Someone else deleted one of the master's virtual addresses, routes
    /// or rules (one without `no_track`). As keepalived 2.2.7 does
    /// (`set_vrrp_backup` in its netlink reflector), the master goes to
    /// BACKUP: it sends a priority-0 advert and removes its addresses,
    /// routes and rules, and its Master_Down_Timer is Skew_Time, so that it
    /// becomes master again (everything re-installed) unless another
    /// router answers first. Ignored in any other state.
    pub fn handle_deleted(&mut self, now: Instant) {
        if self.state != State::Master {
            return;
        }
        self.enter(now, State::Backup, Reason::Deleted);
        if self.interface_up {
            self.queue_advert(PRIORITY_STOP);
        }
        self.arm(Timer::MasterDown, now, self.skew_time());
    }

    /// A sync group member that just left MASTER because another member's
    /// tracked item was deleted: as keepalived's `set_vrrp_backup` treats
    /// the group, it sends priority 0 and gets Skew_Time too, for a quick
    /// return to MASTER. Ignored unless BACKUP.
    pub(crate) fn left_with_deleted(&mut self, now: Instant) {
        if self.state != State::Backup {
            return;
        }
        if self.interface_up {
            self.queue_advert(PRIORITY_STOP);
        }
        self.arm(Timer::MasterDown, now, self.skew_time());
    }

    /// The interface went up or down; down means FAULT, unless the
    /// router does not track its interface
    /// ([`Config::track_interface`](crate::Config::track_interface)).
    pub fn handle_interface(&mut self, now: Instant, up: bool) {
        self.interface_up = up || !self.cfg.track_interface;
        self.reevaluate_fault(now);
    }

    /// An order from the sync group this router belongs to.
    pub fn handle_sync(&mut self, now: Instant, cmd: SyncCommand) {
        match cmd {
            SyncCommand::Master if self.running && self.state == State::Backup => {
                let reason = if self.wants_master {
                    Reason::MasterDown
                } else {
                    Reason::SyncGroup
                };
                self.enter(now, State::Master, reason);
            }
            SyncCommand::Backup if self.state == State::Master => {
                self.enter(now, State::Backup, Reason::SyncGroup);
            }
            SyncCommand::Fault | SyncCommand::Recover => {
                self.group_fault = cmd == SyncCommand::Fault;
                self.reevaluate_fault(now);
            }
            _ => {}
        }
    }

    /// Writes the next datagram of the pending advert, if any, into `buf`
    /// (at least [`max_datagram_len`](Self::max_datagram_len) bytes): the
    /// multicast advert, or the copy for the next unicast peer. Call it
    /// until `None`.
    pub fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        let priority = self.pending?;
        let (destination, ttl) = self.next_destination();
        let first = self.next_peer == 0;
        if first {
            self.advert_tx = self.tx;
        }
        // Every copy is encoded from the counters before the first one.
        let mut tx = self.advert_tx;
        let Ok(len) = self.encode(priority, destination, ttl, &mut tx, buf) else {
            // The same error would hit every peer: drop the advert.
            self.counters.transmit_errors += 1;
            self.advert_done();
            return None;
        };
        if first {
            self.tx = tx;
        }
        self.after_send(priority, first);
        self.next_peer += 1;
        if self.next_peer >= self.cfg.unicast_peer_count() {
            self.advert_done();
        }
        Some(Transmit {
            len,
            destination,
            priority,
        })
    }

    /// Encodes the advert in the configured version.
    fn encode(
        &self,
        priority: u8,
        dst: IpAddr,
        ttl: u8,
        tx: &mut TxCounters,
        buf: &mut [u8],
    ) -> Result<usize, wire::EncodeError> {
        let (vrid, max_adver_int) = (self.cfg.vrid, self.cfg.advert_interval_centis);
        let dst = match (dst, &self.cfg.ipv6) {
            (IpAddr::V6(dst), Some(v6)) => {
                let repr = wire::AdvertV3Repr {
                    src: v6.link_local,
                    dst,
                    ttl,
                    vrid,
                    priority,
                    max_adver_int,
                    addresses: &v6.virtual_addresses,
                };
                return wire::encode_v6(&repr, buf);
            }
            (IpAddr::V4(dst), None) => dst,
            // next_destination gives the router's family.
            _ => return Err(wire::EncodeError::BufferTooSmall { needed: usize::MAX }),
        };
        let (src, vrid, addresses) = (
            self.cfg.source_ip(),
            self.cfg.vrid,
            &self.cfg.virtual_addresses,
        );
        match self.cfg.version {
            Version::V2 => {
                let repr = wire::AdvertRepr {
                    src,
                    dst,
                    ttl,
                    vrid,
                    priority,
                    adver_int: self.cfg.advert_interval_secs,
                    addresses,
                };
                wire::encode(&repr, &self.cfg.authentication, tx, buf)
            }
            Version::V3 => {
                let repr = wire::AdvertV3Repr {
                    src,
                    dst,
                    ttl,
                    vrid,
                    priority,
                    max_adver_int: self.cfg.advert_interval_centis,
                    addresses,
                };
                let sum = if self.sends_old_checksum() {
                    wire::Checksum::Old
                } else {
                    wire::Checksum::Rfc
                };
                wire::encode_v3_checksum(&repr, sum, tx, buf)
            }
        }
    }

    /// True if VRRPv3 adverts carry keepalived's old unicast checksum: only
    /// with [`OldChecksum::Always`]. After the switch of
    /// [`OldChecksum::Auto`] keepalived 2.2.7 expects the old checksum but
    /// still sends the RFC one (its send buffer is re-summed before the
    /// mode changes, so not at all; captured, see `sim_advopts.rs`).
    fn sends_old_checksum(&self) -> bool {
        self.cfg.old_unicast_checksum == OldChecksum::Always
    }

    /// True if VRRPv3 adverts must carry the old checksum.
    fn expects_old_checksum(&self) -> bool {
        self.sends_old_checksum() || self.old_checksum_seen
    }

    fn advert_done(&mut self) {
        self.pending = None;
        self.next_peer = 0;
    }

    /// Destination and TTL of the pending advert's next datagram.
    fn next_destination(&self) -> (IpAddr, u8) {
        if let Some(v6) = &self.cfg.ipv6 {
            let peer = v6.unicast_peers.get(self.next_peer).copied();
            let dst = peer.map_or(self.cfg.multicast_group(), IpAddr::V6);
            return (dst, wire::VRRP_TTL);
        }
        match self.cfg.unicast_peers.get(self.next_peer) {
            Some(&peer) => (peer.into(), self.cfg.unicast_ttl),
            None => (self.cfg.multicast_group(), wire::VRRP_TTL),
        }
    }

    /// The instant of the next timer, if one is armed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.next()
    }

    /// The next queued event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// RFC 3768 (RFC 9568) sections 6.4.2 and 6.4.3 for a validated advert.
    fn on_advert(&mut self, now: Instant, rx: Received) {
        let Received {
            src,
            priority,
            ah_seq,
            adver_int,
        } = rx;
        if self.ignores_stop(src, priority) {
            return self.dropped(DropReason::StopNotFromMaster);
        }
        self.counters.adverts_received += 1;
        if priority == PRIORITY_STOP {
            self.counters.priority_zero_received += 1;
        }
        if let Some(seq) = ah_seq {
            // keepalived keeps one AH counter for both directions.
            self.tx.ah_seq = self.tx.ah_seq.max(seq);
        }
        match self.state {
            State::Backup => self.backup_rx(now, src, priority, adver_int),
            State::Master => self.master_rx(now, rx),
            State::Initialize | State::Fault => {}
        }
    }

    /// A backup that follows a master ignores priority 0 from anyone else
    /// (see the type's "Priority 0" section).
    fn ignores_stop(&self, src: IpAddr, priority: u8) -> bool {
        priority == PRIORITY_STOP
            && self.state == State::Backup
            && self.master.is_some_and(|(master, _)| master != src)
    }

    fn backup_rx(&mut self, now: Instant, src: IpAddr, priority: u8, adver_int: Option<Duration>) {
        let mine = self.priority();
        if priority == PRIORITY_STOP {
            self.arm(Timer::MasterDown, now, self.skew_time());
            return;
        }
        // Recorded even when preemption discards it, as keepalived does
        // for SNMP.
        self.last_master = Some(src);
        let delaying =
            self.cfg.preempt_delay > Duration::ZERO && self.preempt_at.is_none_or(|at| at > now);
        if !self.cfg.preempt || priority >= mine || delaying {
            self.learn_adver_int(adver_int);
            self.arm(Timer::MasterDown, now, self.master_down_interval());
            self.master = Some((src, priority));
            self.wants_master = false;
            self.owner_takes_over = false;
            if self.cfg.preempt_delay > Duration::ZERO {
                if priority >= mine {
                    self.preempt_at = None;
                } else if self.preempt_at.is_none() {
                    // Beyond the clock's range (None) the delay never ends.
                    self.preempt_at = now.checked_add(self.cfg.preempt_delay);
                }
            }
        } else {
            // Preempting a lower priority: discard (timer untouched).
            self.push(Event::BackupRxLowerPriority {
                from: src,
                priority,
            });
        }
    }

    /// VRRPv3: a backup takes the interval of the master it follows
    /// (RFC 9568 section 6.4.2). Zero (never sent by a valid master) is
    /// taken as one centisecond, so that the down timer cannot fire at once.
    fn learn_adver_int(&mut self, adver_int: Option<Duration>) {
        if let Some(int) = adver_int {
            self.master_adver_int = int.max(Duration::from_millis(10));
        }
    }

    fn master_rx(&mut self, now: Instant, rx: Received) {
        let Received {
            src,
            priority,
            ah_seq,
            adver_int,
        } = rx;
        // Same family (the other is dropped): numeric order.
        let addr_order = src.cmp(&self.cfg.source());
        let mut mine = self.priority();
        let higher =
            |mine: u8| priority > mine || (priority == mine && addr_order == Ordering::Greater);
        if priority == PRIORITY_STOP {
            // RFC 3768 section 6.4.3: answer at once, restart the Adver_Timer
            // (on the grid: at most one interval away).
            self.queue_advert(mine);
            self.arm_advert(now);
            return;
        }
        if self.cfg.higher_priority_send_advert && higher(mine) {
            self.queue_advert(mine);
        }
        if priority == mine && mine == PRIORITY_OWNER {
            // Two owners: keepalived reports the misconfiguration and lowers
            // its own priority so that exactly one stays master.
            self.push(Event::OwnerConflict { from: src });
            self.base_priority = PRIORITY_OWNER - 1;
            mine = self.priority();
        }
        if higher(mine) {
            self.push(Event::MasterRxHigherPriority {
                from: src,
                priority,
                ours: mine,
            });
            self.master = Some((src, priority));
            self.last_master = Some(src);
            self.learn_adver_int(adver_int);
            self.owner_takes_over = false;
            self.enter(now, State::Backup, Reason::HigherPriority);
            return;
        }
        if addr_order == Ordering::Equal {
            return;
        }
        // Lower priority (or equal from a lower address).
        if let Some(seq) = ah_seq {
            // keepalived: resynchronise the sequence number past the other
            // router's, so that its next adverts from us are fresh.
            self.sync_ah(seq.saturating_add(1));
        }
        if self.cfg.lower_priority_advert == LowerPriorityAdvert::SendAdvert {
            self.queue_advert(mine);
        }
        self.lower_prio_received += 1;
        self.lower_prio_garps(now);
        self.push(Event::MasterRxLowerPriority {
            from: src,
            priority,
            ours: mine,
        });
    }

    /// Lower-priority adverts received as master so far.
    pub(crate) fn lower_prio_received(&self) -> u64 {
        self.lower_prio_received
    }

    /// Another member of this router's sync group received a
    /// lower-priority advert: keepalived sends this member's
    /// lower-priority GARPs too (if master: they need the addresses).
    pub(crate) fn handle_group_lower_priority(&mut self, now: Instant) {
        if self.state == State::Master {
            self.lower_prio_garps(now);
        }
    }

    /// keepalived refreshes the other router's ARP cache after a
    /// lower-priority advert: a burst now and, per advert, one more after
    /// `garp_lower_prio_delay`.
    fn lower_prio_garps(&mut self, now: Instant) {
        let garp = self.cfg.garp;
        if garp.lower_prio_repeat == 0 {
            return;
        }
        self.push(Event::GratuitousArp {
            repeat: garp.lower_prio_repeat,
        });
        let at = now.checked_add(garp.lower_prio_delay);
        if let Some(at) = at.filter(|_| garp.lower_prio_delay > Duration::ZERO) {
            if self.lower_prio_garps.len() < crate::config::LOWER_PRIO_BURSTS {
                self.lower_prio_garps.push_back(at);
            }
            self.arm_lower_prio_garps(now);
        }
    }

    /// The delayed bursts due at `now`, one per lower-priority advert.
    fn lower_prio_garps_due(&mut self, now: Instant) {
        while self.lower_prio_garps.front().is_some_and(|at| *at <= now) {
            self.lower_prio_garps.pop_front();
            self.push(Event::GratuitousArp {
                repeat: self.cfg.garp.lower_prio_repeat,
            });
        }
        self.arm_lower_prio_garps(now);
    }

    /// Arms the timer for the next pending burst. Those due while not
    /// master are dropped: keepalived's timer fires then, but sends
    /// nothing without the addresses.
    fn arm_lower_prio_garps(&mut self, now: Instant) {
        while self.lower_prio_garps.front().is_some_and(|at| *at < now) {
            self.lower_prio_garps.pop_front();
        }
        let next = self.lower_prio_garps.front().copied();
        self.timers.set(Timer::GarpLowerPrio, next);
    }

    fn sync_ah(&mut self, seq: u32) {
        self.tx.ah_seq = self.tx.ah_seq.max(seq);
    }

    /// The anti-replay state for `src`. keepalived keeps a single counter
    /// for every sender and for its own adverts; after a partition two
    /// masters whose counters advance in step then reject each other's
    /// adverts forever. Like RFC 4302 (one state per SA, and keepalived's
    /// SPI is the sender address) we keep one per sender. What we send is
    /// unchanged: our sequence numbers continue above every one we accepted,
    /// as keepalived's do.
    fn ah_replay(&self, src: Ipv4Addr) -> AhReplay {
        let mut replay = AhReplay::new();
        if let Some((_, last)) = self.ah_peers.iter().flatten().find(|(a, _)| *a == src) {
            replay.accept(*last);
        }
        replay
    }

    fn remember_ah(&mut self, src: Ipv4Addr, seq: u32) {
        let slot = match self
            .ah_peers
            .iter()
            .position(|p| p.is_some_and(|(a, _)| a == src))
        {
            Some(i) => i,
            None => match self.ah_peers.iter().position(Option::is_none) {
                Some(i) => i,
                None => {
                    // Slots fill in order, so the oldest is the next one
                    // round the ring.
                    let oldest = self.ah_evict;
                    self.ah_evict = (oldest + 1) % AH_PEERS;
                    oldest
                }
            },
        };
        self.ah_peers[slot] = Some((src, seq));
    }

    /// Queues an advert (to every unicast peer again from the first).
    fn queue_advert(&mut self, priority: u8) {
        self.pending = Some(priority);
        self.next_peer = 0;
    }

    /// Counts a written datagram; `first` of its advert.
    fn after_send(&mut self, priority: u8, first: bool) {
        self.counters.datagrams_sent += 1;
        if !first {
            return;
        }
        self.counters.adverts_sent += 1;
        if priority == PRIORITY_STOP {
            self.counters.priority_zero_sent += 1;
        }
    }

    /// BACKUP for a non-owner, MASTER for the owner (RFC 3768 section 6.4.1)
    /// unless it is configured `state BACKUP`, has since followed another
    /// master, or recovers from FAULT: keepalived 2.2.7 then starts it in
    /// BACKUP, as any router.
    fn start_protocol(&mut self, now: Instant, reason: Reason) {
        self.master_adver_int = self.cfg.advert_interval();
        if self.base_priority == PRIORITY_OWNER && self.owner_takes_over {
            self.enter(now, State::Master, Reason::AddressOwner);
            return;
        }
        self.enter(now, State::Backup, reason);
        if reason == Reason::Startup && self.cfg.initial_master && self.sync_member {
            // keepalived 2.2.7 shortens the first wait of a `state MASTER`
            // non-owner only when its sync group is BACKUP (vrrp_init_state);
            // alone, it waits Master_Down_Interval like any backup.
            let wait = self.cfg.advert_interval() + self.skew_time_for(PRIORITY_OWNER);
            self.arm(Timer::MasterDown, now, wait);
        }
    }

    fn fault_reason(&self) -> Option<Reason> {
        if !self.interface_up {
            Some(Reason::InterfaceDown)
        } else if self.tracking.fault {
            Some(Reason::TrackingFault)
        } else if self.no_peer_fault() {
            Some(Reason::NoUnicastPeer)
        } else if self.group_fault {
            Some(Reason::SyncGroup)
        } else {
            None
        }
    }

    fn reevaluate_fault(&mut self, now: Instant) {
        if !self.running {
            return;
        }
        match (self.fault_reason(), self.state) {
            (Some(_), State::Fault) | (None, State::Backup | State::Master) => {}
            (Some(reason), _) => self.enter(now, State::Fault, reason),
            (None, _) => self.start_protocol(now, Reason::Recovered),
        }
    }

    /// The one place where the state changes: exit actions of the old state,
    /// entry actions of the new one, then the events.
    fn enter(&mut self, now: Instant, to: State, reason: Reason) {
        let from = self.state;
        if from == to {
            return;
        }
        self.timers.stop_all();
        self.state = to;
        self.wants_master = false;
        self.push(Event::StateChanged { from, to, reason });
        if from == State::Master {
            // A stopping or failing master hands over quickly with priority 0
            // (if its interface can still send).
            if to != State::Backup && self.interface_up {
                self.queue_advert(PRIORITY_STOP);
            }
            self.counters.released_master += 1;
            self.push(Event::RemoveAddresses);
        }
        match to {
            State::Master => self.enter_master(now),
            State::Backup => {
                self.preempt_at = None;
                self.arm(Timer::MasterDown, now, self.master_down_interval());
            }
            State::Initialize => self.master = None,
            State::Fault => {
                self.master = None;
                // keepalived 2.2.7's wantstate is FAULT now: even the
                // owner recovers to BACKUP (measured).
                self.owner_takes_over = false;
            }
        }
        self.push(Event::Notify(Notify {
            kind: NotifyKind::Instance,
            name: self.cfg.name.clone(),
            state: to,
            priority: self.priority(),
        }));
    }

    fn enter_master(&mut self, now: Instant) {
        self.counters.became_master += 1;
        self.owner_takes_over = true;
        self.master = None;
        self.master_adver_int = self.cfg.advert_interval();
        self.queue_advert(self.priority());
        self.arm_advert(now);
        self.push(Event::AddAddresses);
        let garp = self.cfg.garp;
        self.push(Event::GratuitousArp {
            repeat: garp.master_repeat,
        });
        if garp.master_delay > Duration::ZERO {
            self.arm(Timer::GarpDelay, now, garp.master_delay);
        }
        if let Some(period) = self.garp_refresh_period() {
            self.arm(Timer::GarpRefresh, now, period);
        }
        self.arm_lower_prio_garps(now);
    }

    /// Arms `timer` to fire `after` from `now`; a deadline beyond the
    /// clock's range (a huge configured duration) never comes, so the timer
    /// stays off rather than overflowing `Instant`.
    /// A backup's Master_Down_Timer counts from the end of the start-up
    /// hold at the earliest (see [`hold_startup`](Self::hold_startup)).
    fn arm(&mut self, timer: Timer, now: Instant, after: Duration) {
        let from = match self.hold_until {
            Some(until) if timer == Timer::MasterDown && until > now => until,
            _ => now,
        };
        self.timers.set(timer, from.checked_add(after));
    }

    /// Arms the Adver_Timer at the first grid point after `now` (the advert
    /// of `now` is already queued).
    fn arm_advert(&mut self, now: Instant) {
        let at = self.next_advert_after(now);
        self.timers.set(Timer::Advert, at);
    }

    /// The first grid point after `now` (see the type's "Advert grid").
    fn next_advert_after(&self, now: Instant) -> Option<Instant> {
        let epoch = self.epoch.unwrap_or(now);
        next_on_grid(epoch, self.cfg.advert_interval(), now)
    }

    /// The GARP refresh period; zero means off, as in keepalived (and a
    /// zero period would fire forever at the same instant).
    fn garp_refresh_period(&self) -> Option<Duration> {
        self.cfg.garp.master_refresh.filter(|p| !p.is_zero())
    }

    /// True if `dst` is a multicast group other than this multicast
    /// router's: keepalived's socket is bound to its group and never sees
    /// such an advert.
    fn other_group(&self, dst: Option<IpAddr>) -> bool {
        let group = self.cfg.multicast_group();
        !self.cfg.is_unicast() && dst.is_some_and(|d| d.is_multicast() && d != group)
    }

    /// False where keepalived's `skip_check_adv_addr` spares the address
    /// list check: a backup hearing the router it last heard as master.
    fn checks_addresses(&self, src: IpAddr) -> bool {
        !(self.cfg.skip_check_adv_addr
            && self.state == State::Backup
            && self.last_master == Some(src))
    }

    fn dropped(&mut self, reason: DropReason) {
        self.counters.dropped.bump(reason);
        if self.events.len() < EVENT_CAPACITY {
            self.events.push_back(Event::Dropped(reason));
        } else {
            self.counters.events_overflowed += 1;
        }
    }

    /// A datagram from `from` the codec rejected: dropped, and reported
    /// with its sender when keepalived sends a notification for it.
    fn rejected(&mut self, from: IpAddr, reason: wire::DropReason) {
        let reason = DropReason::Invalid(reason);
        self.dropped(reason);
        if let Some(error) = AdvertError::of(reason) {
            if self.events.len() < EVENT_CAPACITY {
                self.events.push_back(Event::Rejected { from, error });
            } else {
                self.counters.events_overflowed += 1;
            }
        }
    }

    fn push(&mut self, event: Event) {
        self.events.push_back(event);
    }
}

/// The destination in an IPv4 header, if the datagram holds one.
fn datagram_dst(datagram: &[u8]) -> Option<IpAddr> {
    let b: [u8; 4] = datagram.get(16..20)?.try_into().ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(b)))
}

/// A validated advert, as the state machine sees it.
#[derive(Clone, Copy)]
struct Received {
    src: IpAddr,
    priority: u8,
    ah_seq: Option<u32>,
    /// VRRPv3: the advertised Max Advertise Interval.
    adver_int: Option<Duration>,
}

/// The next deadline of a periodic timer: one period after the last
/// deadline (no drift), or one period from now if the embedder was late;
/// `None` beyond the clock's range.
fn next_period(deadline: Instant, period: Duration, now: Instant) -> Option<Instant> {
    match deadline.checked_add(period) {
        Some(next) if next > now => Some(next),
        _ => now.checked_add(period),
    }
}

/// The first `epoch + k x period` (any integer k) strictly after `now`:
/// at most one period away; `None` beyond the clock's range.
fn next_on_grid(epoch: Instant, period: Duration, now: Instant) -> Option<Instant> {
    // How far a duration is past the last grid line (< period).
    let past = |d: Duration| {
        let rem = d.as_nanos() % period.as_nanos().max(1);
        u64::try_from(rem).ok().map(Duration::from_nanos)
    };
    let step = if now >= epoch {
        period - past(now - epoch)?
    } else {
        match past(epoch - now)? {
            Duration::ZERO => period,
            ahead => ahead,
        }
    };
    now.checked_add(step)
}

#[cfg(test)]
mod tests;
