//! Many virtual routers in one place: received datagrams routed by
//! (interface, VRID, address family), one timer queue, and sync groups
//! driven together.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
#[cfg(test)]
use std::time::Duration;
use std::time::Instant;

use crate::config::ConfigError;
use crate::event::{Event, Notify, NotifyKind, State};
mod keys;
mod rebind;
mod reconcile;
mod unicast;

use self::keys::{family_code, Key, KeyIndex};

use crate::router::{SyncCommand, Tracking, Transmit, VirtualRouter};

pub use self::reconcile::{Desired, Reconciled};
pub use self::unicast::unicast_clash;
pub use crate::router::{Change, Changed};
use crate::wire::{self, DropReason as WireDrop};

/// The (VRID, IPv6, channel) of a router: its channel is its multicast
/// group, or `None` with unicast peers. keepalived 2.2.7 keeps a socket per
/// multicast group and treats unicast and multicast as separate VRID
/// spaces, so only multicast routers alike in all three conflict on an
/// interface; unicast routers alike in all three conflict only if they
/// share a peer and a source address (see `unicast`).
fn key_of(config: &crate::Config) -> (u8, bool, Option<IpAddr>) {
    let chan = (!config.is_unicast()).then(|| config.multicast_group());
    (config.vrid, config.ipv6.is_some(), chan)
}

/// The keys of `family` (of one interface, VRID and address family, sorted
/// by channel) on channel `chan`.
fn on_channel(family: &[Key], chan: Option<IpAddr>) -> &[Key] {
    let from = family.iter().position(|k| k.3 == chan);
    let rest = from.and_then(|from| family.get(from..)).unwrap_or(&[]);
    let len = rest.iter().take_while(|k| k.3 == chan).count();
    rest.get(..len).unwrap_or(&[])
}

/// Index of a router in its [`Mux`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RouterId(pub u32);

/// Index of a sync group in its [`Mux`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(pub u32);

/// An event of one router or of a sync group.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MuxEvent {
    /// From a router.
    Router(RouterId, Event),
    /// All members of a sync group reached the same state (keepalived's
    /// `GROUP` notification).
    Group(GroupId, Notify),
}

/// Why a router or group could not be added.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MuxError {
    /// Another router of the same address family already has this
    /// (interface, VRID) and multicast group, or, with unicast peers, the
    /// same source address and a peer in common.
    #[error("a router with VRID {vrid} already exists on interface {ifindex}")]
    Duplicate {
        /// Interface index.
        ifindex: u32,
        /// VRID.
        vrid: u8,
    },
    /// The router id is not in this mux.
    #[error("unknown router {0:?}")]
    UnknownRouter(RouterId),
    /// The router already belongs to a sync group.
    #[error("router {0:?} is already in a sync group")]
    AlreadyGrouped(RouterId),
    /// The mux already holds `u32::MAX` routers or groups.
    #[error("no room for another router or sync group")]
    Full,
    /// A configuration given to a reload is invalid.
    #[error("invalid configuration: {0}")]
    Config(#[from] ConfigError),
    /// [`Desired::routers`] names two routers alike (the entry index of the
    /// second).
    #[error("desired router {0} repeats an instance name")]
    DuplicateName(usize),
    /// A member of [`Desired::groups`] names no desired router, or a router
    /// already in a group.
    #[error("member {member} of desired sync group {group} is unknown or already grouped")]
    BadMember {
        /// Index of the group in [`Desired::groups`].
        group: usize,
        /// Index of the member in that group.
        member: usize,
    },
}

/// Datagrams the mux could not hand to any router.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MuxCounters {
    /// Well-formed enough to read a VRID, but no router has it on that
    /// interface.
    pub unknown_vrid: u64,
    /// Too malformed to find a VRID, by codec reason index
    /// ([`wire::DropReason::index`]).
    pub undecodable: [u64; WireDrop::COUNT],
}

#[derive(Debug)]
struct Slot {
    ifindex: u32,
    router: VirtualRouter,
    group: Option<u32>,
    scheduled: Option<Instant>,
    touched: bool,
    /// Removed: out of `keys` and its group, freed once its events are
    /// polled.
    removed: bool,
}

#[derive(Debug)]
struct Group {
    name: Arc<str>,
    members: Vec<u32>,
    state: Option<State>,
}

/// A set of virtual routers keyed by (interface index, VRID), with sync
/// groups (keepalived's `vrrp_sync_group`).
///
/// The inputs mirror [`VirtualRouter`]'s and the polling order is the same:
/// [`poll_transmit`](Self::poll_transmit) until `None` (a router with
/// unicast peers yields one datagram per peer, each with its
/// [`Transmit::destination`]), then
/// [`poll_event`](Self::poll_event) until `None`, then
/// [`poll_timeout`](Self::poll_timeout).
///
/// Sync groups, as keepalived drives them: a member whose Master_Down_Timer
/// fires only *wants* MASTER; when every member wants it (or is master) all
/// become MASTER together (preferring BACKUP avoids thrashing). A member
/// that becomes MASTER by itself (an address owner) pulls the others along;
/// when a member falls back from MASTER to BACKUP the MASTER members follow;
/// while any member is faulty (interface or tracking) all are in FAULT. A
/// stopped member holds the group in BACKUP.
///
/// One advert grid: the first `now` given to the mux becomes every
/// router's [advert epoch](VirtualRouter::advert_epoch), so masters with
/// the same interval advertise at the same instants and a process with
/// many of them wakes once per interval.
///
/// Reload: [`remove_router`](Self::remove_router),
/// [`reconfigure_router`](Self::reconfigure_router),
/// [`set_sync_groups`](Self::set_sync_groups), or all three at once with
/// [`reconcile`](Self::reconcile). A [`RouterId`] stays valid for as long
/// as its router is in the mux; ids of removed routers are never reused.
///
/// Timers live in a binary heap with lazy deletion, allocated up front, so
/// the steady state (timeouts, adverts in and out) does not allocate.
#[derive(Debug, Default)]
pub struct Mux {
    /// Indexed by [`RouterId`]; `None` once a removed router is drained.
    slots: Vec<Option<Slot>>,
    /// Routers not removed.
    live: usize,
    /// (ifindex, vrid, IPv6, channel, slot), sorted for binary search: an
    /// IPv4 and an IPv6 router may share a VRID on one interface, and so
    /// may routers on different multicast groups, one multicast and one
    /// unicast, or unicast routers with no peer in common, as in
    /// keepalived 2.2.7 (see `key_of`).
    keys: KeyIndex,
    /// The peers of the unicast routers, sorted: who an advert of a VRID
    /// shared by unicast routers is for.
    peers: unicast::PeerIndex,
    groups: Vec<Group>,
    heap: BinaryHeap<Reverse<(Instant, u32)>>,
    touched: VecDeque<u32>,
    /// Entries of `touched` before this one have nothing to transmit.
    tx_cursor: usize,
    group_events: VecDeque<MuxEvent>,
    counters: MuxCounters,
    /// The advert grid of every router (the first `now` the mux was given):
    /// masters with one interval wake together.
    epoch: Option<Instant>,
    /// keepalived's `vrrp_startup_delay` (see [`Mux::hold_startup`]).
    hold_until: Option<Instant>,
}

impl Mux {
    /// An empty mux.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a router on interface `ifindex`.
    pub fn add_router(
        &mut self,
        ifindex: u32,
        mut router: VirtualRouter,
    ) -> Result<RouterId, MuxError> {
        if self.hold_until.is_some() {
            router.hold_startup(self.hold_until);
        }
        self.admit(ifindex, router.config(), None)?;
        let id = u32::try_from(self.slots.len()).map_err(|_| MuxError::Full)?;
        self.insert_key(ifindex, key_of(router.config()), id);
        self.slots.push(Some(Slot {
            ifindex,
            router,
            group: None,
            scheduled: None,
            touched: false,
            removed: false,
        }));
        self.index_peers(id);
        self.live += 1;
        // Room for every router's timer plus stale entries, and every router
        // touched at once.
        let n = self.slots.len();
        self.heap.reserve((4 * n).saturating_sub(self.heap.len()));
        self.touched.reserve(n.saturating_sub(self.touched.len()));
        Ok(RouterId(id))
    }

    /// Makes `members` a sync group named `name`.
    pub fn add_sync_group(
        &mut self,
        name: &str,
        members: &[RouterId],
    ) -> Result<GroupId, MuxError> {
        for m in members {
            let slot = self.live_slot(*m).ok_or(MuxError::UnknownRouter(*m))?;
            if slot.group.is_some() || members.iter().filter(|x| *x == m).count() > 1 {
                return Err(MuxError::AlreadyGrouped(*m));
            }
        }
        let gid = u32::try_from(self.groups.len()).map_err(|_| MuxError::Full)?;
        for m in members {
            self.join(m.0, gid);
        }
        self.groups.push(Group {
            name: Arc::from(name),
            members: members.iter().map(|m| m.0).collect(),
            state: Some(State::Initialize),
        });
        Ok(GroupId(gid))
    }

    /// The router with this id; a removed router until its last event has
    /// been polled.
    pub fn router(&self, id: RouterId) -> Option<&VirtualRouter> {
        self.slot(id.0).map(|s| &s.router)
    }

    /// The interface of a router (as [`router`](Self::router)).
    pub fn ifindex(&self, id: RouterId) -> Option<u32> {
        self.slot(id.0).map(|s| s.ifindex)
    }

    /// The router for (interface, VRID): the IPv4 one if there are two
    /// (see [`find_family`](Self::find_family)).
    pub fn find(&self, ifindex: u32, vrid: u8) -> Option<RouterId> {
        self.find_family(ifindex, vrid, false)
            .or_else(|| self.find_family(ifindex, vrid, true))
    }

    /// The router for (interface, VRID) of one address family (`ipv6`:
    /// [`Config::ipv6`](crate::config::Config::ipv6) set); of several (on
    /// different channels), the one on the lowest.
    pub fn find_family(&self, ifindex: u32, vrid: u8, ipv6: bool) -> Option<RouterId> {
        self.family(ifindex, vrid, ipv6)
            .first()
            .map(|k| RouterId(k.4))
    }

    /// The router of (interface, VRID, family, channel): the one a reload
    /// updates, as keepalived's `vrrp_exist` matches them. A channel is a
    /// multicast group, or `None` for unicast peers (of several unicast
    /// routers, the first added).
    pub fn find_channel(
        &self,
        ifindex: u32,
        vrid: u8,
        ipv6: bool,
        chan: Option<IpAddr>,
    ) -> Option<RouterId> {
        let keys = self.channel(ifindex, vrid, ipv6, chan);
        keys.first().map(|k| RouterId(k.4))
    }

    /// The router a message of `vrid` and family `ipv6` sent to `dst` and
    /// received on `ifindex` is for: the one on `dst`'s channel (its
    /// multicast group, or unicast; of several unicast ones, the first
    /// added: [`find_from`](Self::find_from) picks by sender), else the
    /// family's only or first one, which drops it as keepalived's socket
    /// for another group would not have received it.
    pub fn find_for(&self, ifindex: u32, vrid: u8, ipv6: bool, dst: IpAddr) -> Option<RouterId> {
        let keys = self.family(ifindex, vrid, ipv6);
        let chan = dst.is_multicast().then_some(dst);
        let key = keys.iter().find(|k| k.3 == chan).or(keys.first());
        key.map(|k| RouterId(k.4))
    }

    /// As [`find_for`](Self::find_for), for a message from `src`: of
    /// several unicast routers sharing the VRID, the one alone sending
    /// from `dst`, else the one whose peers include `src`; `None` if `src`
    /// is no peer of theirs, as keepalived 2.2.7 ignores such an advert.
    pub fn find_from(
        &self,
        ifindex: u32,
        vrid: u8,
        ipv6: bool,
        dst: IpAddr,
        src: IpAddr,
    ) -> Option<RouterId> {
        let family = self.family(ifindex, vrid, ipv6);
        self.pick(family, (ifindex, vrid, ipv6), dst, src)
    }

    /// [`find_from`](Self::find_from) within `family`, the keys of
    /// `at` (interface, VRID, family), which are sorted by channel.
    fn pick(
        &self,
        family: &[Key],
        at: (u32, u8, bool),
        dst: IpAddr,
        src: IpAddr,
    ) -> Option<RouterId> {
        let chan = dst.is_multicast().then_some(dst);
        match on_channel(family, chan) {
            shared @ [_, _, ..] => self.find_shared(at, shared, src, dst),
            [k] => Some(RouterId(k.4)),
            [] => family.first().map(|k| RouterId(k.4)),
        }
    }

    /// The keys of (interface, VRID, family), in channel order.
    fn family(&self, ifindex: u32, vrid: u8, ipv6: bool) -> &[Key] {
        self.keys.family(family_code(ifindex, vrid, ipv6))
    }

    /// The keys of (interface, VRID, family, channel): one at most for a
    /// multicast group, those of every unicast router for `None`.
    fn channel(&self, ifindex: u32, vrid: u8, ipv6: bool, chan: Option<IpAddr>) -> &[Key] {
        on_channel(self.family(ifindex, vrid, ipv6), chan)
    }

    /// Puts router `id`'s key (interface, VRID, family, channel) in place.
    fn insert_key(
        &mut self,
        ifindex: u32,
        (vrid, ipv6, chan): (u8, bool, Option<IpAddr>),
        id: u32,
    ) {
        self.keys.insert((ifindex, vrid, ipv6, chan, id));
    }

    /// The ids of the routers in the mux (not removed), in the order they
    /// were added.
    pub fn ids(&self) -> impl Iterator<Item = RouterId> + '_ {
        (0..self.slots.len() as u32)
            .map(RouterId)
            .filter(|id| self.live_slot(*id).is_some())
    }

    /// Number of routers (not removed).
    pub fn len(&self) -> usize {
        self.live
    }

    /// True if there is no router.
    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Datagrams no router received.
    pub fn counters(&self) -> &MuxCounters {
        &self.counters
    }

    /// keepalived's `vrrp_startup_delay`: no backup of this mux, present or
    /// added later, takes over before `until` plus its Master_Down_Interval
    /// (see [`VirtualRouter::hold_startup`]). keepalived sets it at its
    /// first start, with the delay counted from then.
    pub fn hold_startup(&mut self, until: Instant) {
        self.hold_until = Some(until);
        for slot in self.slots.iter_mut().flatten() {
            slot.router.hold_startup(Some(until));
        }
    }

    /// Starts every router.
    pub fn handle_startup(&mut self, now: Instant) {
        for i in 0..self.slots.len() as u32 {
            self.drive(now, i, |r| r.handle_startup(now));
        }
    }

    /// Shuts every router down (masters send priority 0).
    pub fn handle_shutdown(&mut self, now: Instant) {
        for i in 0..self.slots.len() as u32 {
            self.drive(now, i, |r| r.handle_shutdown(now));
        }
    }

    /// Starts one router.
    pub fn handle_startup_one(&mut self, now: Instant, id: RouterId) {
        self.drive(now, id.0, |r| r.handle_startup(now));
    }

    /// Shuts one router down.
    pub fn handle_shutdown_one(&mut self, now: Instant, id: RouterId) {
        self.drive(now, id.0, |r| r.handle_shutdown(now));
    }

    /// Interface `ifindex` went up or down: every router on it follows.
    pub fn handle_interface(&mut self, now: Instant, ifindex: u32, up: bool) {
        for i in 0..self.slots.len() as u32 {
            if self.slot(i).is_some_and(|s| s.ifindex == ifindex) {
                self.drive(now, i, |r| r.handle_interface(now, up));
            }
        }
    }

    /// New tracking state for one router.
    pub fn handle_tracking(&mut self, now: Instant, id: RouterId, tracking: Tracking) {
        self.drive(now, id.0, |r| r.handle_tracking(now, tracking));
    }

    /// Someone else deleted a tracked virtual address, route or rule of
    /// router `id` (see [`VirtualRouter::handle_deleted`]). As in
    /// keepalived, every member of its sync group that is master goes to
    /// BACKUP with it, all with Skew_Time on their Master_Down_Timer, so
    /// the group comes back to MASTER quickly unless another router
    /// answers. The group's BACKUP is not notified (keepalived 2.2.7 only
    /// notifies its return to MASTER). Ignored unless the router is master.
    pub fn handle_deleted(&mut self, now: Instant, id: RouterId) {
        let Some(slot) = self.live_slot(id) else {
            return;
        };
        if slot.router.state() != State::Master {
            return;
        }
        let Some(g) = slot.group else {
            self.drive(now, id.0, |r| r.handle_deleted(now));
            return;
        };
        let Some(group) = self.groups.get_mut(g as usize) else {
            return;
        };
        // keepalived sets the group's state to BACKUP without a GROUP
        // notification; the return to MASTER is notified.
        group.state = Some(State::Backup);
        let members = group.members.clone();
        let masters: Vec<u32> = (members.iter().copied())
            .filter(|&m| self.router(RouterId(m)).map(VirtualRouter::state) == Some(State::Master))
            .collect();
        self.drive(now, id.0, |r| r.handle_deleted(now));
        // The group followed the origin to BACKUP; those that were master
        // now hurry back as keepalived's `set_vrrp_backup` makes them.
        for m in masters.into_iter().filter(|&m| m != id.0) {
            self.drive(now, m, |r| r.left_with_deleted(now));
        }
    }

    /// Routes a datagram received on `ifindex` to its router; returns the
    /// router, or `None` if it was counted as unknown or undecodable.
    pub fn handle_datagram(
        &mut self,
        now: Instant,
        ifindex: u32,
        src: Ipv4Addr,
        datagram: &[u8],
    ) -> Option<RouterId> {
        // A raw IPv4 socket reads the IP header: the destination at 16.
        let dst = (datagram.get(16..20))
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), IpAddr::from);
        let id = self.route(ifindex, peek_vrid(datagram), false, dst, src.into())?;
        self.drive(now, id.0, |r| r.handle_datagram(now, src, datagram));
        Some(id)
    }

    /// Routes a VRRP message received on an IPv6 raw socket on `ifindex`
    /// (see [`VirtualRouter::handle_datagram_v6`]) to its router; returns
    /// the router, or `None` if it was counted as unknown or undecodable.
    /// An IPv4 and an IPv6 router may share a VRID on an interface; if
    /// only an IPv4 router has it, that router drops the message
    /// ([`crate::router::DropReason::WrongFamily`]).
    pub fn handle_datagram_v6(
        &mut self,
        now: Instant,
        ifindex: u32,
        meta: &wire::Ipv6Meta,
        payload: &[u8],
    ) -> Option<RouterId> {
        let vrid = wire::vrrp::Packet::new_checked(payload).map(|p| p.vrid());
        let id = self.route(ifindex, vrid, true, IpAddr::V6(meta.dst), meta.src.into())?;
        self.drive(now, id.0, |r| r.handle_datagram_v6(now, meta, payload));
        Some(id)
    }

    /// The router for a received message's VRID on `ifindex`, or `None`
    /// counted as undecodable or unknown (also a sender that is no peer of
    /// the unicast routers sharing the VRID).
    /// The router of the message's family, else the other family's (which
    /// drops it as [`crate::router::DropReason::WrongFamily`]).
    fn route(
        &mut self,
        ifindex: u32,
        vrid: Result<u8, WireDrop>,
        ipv6: bool,
        dst: IpAddr,
        src: IpAddr,
    ) -> Option<RouterId> {
        let vrid = match vrid {
            Ok(vrid) => vrid,
            Err(reason) => {
                if let Some(c) = self.counters.undecodable.get_mut(reason.index()) {
                    *c += 1;
                }
                return None;
            }
        };
        let id = match self.family(ifindex, vrid, ipv6) {
            [] => self.find_family(ifindex, vrid, !ipv6),
            family => self.pick(family, (ifindex, vrid, ipv6), dst, src),
        };
        if id.is_none() {
            self.counters.unknown_vrid += 1;
        }
        id
    }

    /// Fires the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(&Reverse((at, i))) = self.heap.peek() {
            if at > now {
                break;
            }
            self.heap.pop();
            let Some(slot) = self.slot_mut(i) else {
                continue;
            };
            if slot.scheduled != Some(at) {
                continue; // stale entry
            }
            slot.scheduled = None;
            self.drive(now, i, |r| r.handle_timeout(now));
        }
    }

    /// The next datagram to send, with the router and interface it is for;
    /// send it to [`Transmit::destination`].
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
    ) -> Option<(RouterId, u32, Transmit)> {
        while let Some(&i) = self.touched.get(self.tx_cursor) {
            if let Some(slot) = self.slots.get_mut(i as usize).and_then(Option::as_mut) {
                if let Some(t) = slot.router.poll_transmit(now, buf) {
                    return Some((RouterId(i), slot.ifindex, t));
                }
            }
            self.tx_cursor += 1;
        }
        None
    }

    /// The next event of any router or group: the routers' events first,
    /// then the group notifications they led to.
    pub fn poll_event(&mut self) -> Option<MuxEvent> {
        while let Some(&i) = self.touched.front() {
            if let Some(slot) = self.slots.get_mut(i as usize).and_then(Option::as_mut) {
                if let Some(e) = slot.router.poll_event() {
                    return Some(MuxEvent::Router(RouterId(i), e));
                }
                // Transmits are drained before events, so this router is
                // done; a removed one is gone for good.
                slot.touched = false;
                if slot.removed {
                    self.slots[i as usize] = None;
                }
            }
            self.touched.pop_front();
            self.tx_cursor = self.tx_cursor.saturating_sub(1);
        }
        self.group_events.pop_front()
    }

    /// The earliest timer of any router.
    pub fn poll_timeout(&mut self) -> Option<Instant> {
        while let Some(&Reverse((at, i))) = self.heap.peek() {
            if self.slot(i).is_some_and(|s| s.scheduled == Some(at)) {
                return Some(at);
            }
            self.heap.pop();
        }
        None
    }

    fn slot(&self, i: u32) -> Option<&Slot> {
        self.slots.get(i as usize)?.as_ref()
    }

    fn slot_mut(&mut self, i: u32) -> Option<&mut Slot> {
        self.slots.get_mut(i as usize)?.as_mut()
    }

    /// The slot of a router that has not been removed.
    fn live_slot(&self, id: RouterId) -> Option<&Slot> {
        self.slot(id.0).filter(|s| !s.removed)
    }

    /// Sends `cmd` to router `i` (a group member) and settles it.
    fn command(&mut self, now: Instant, i: u32, cmd: SyncCommand) {
        if let Some(slot) = self.slot_mut(i) {
            slot.router.handle_sync(now, cmd);
            self.settle(i);
        }
    }

    /// Router `i` joins group `g`.
    fn join(&mut self, i: u32, g: u32) {
        if let Some(slot) = self.slot_mut(i) {
            slot.group = Some(g);
            slot.router.set_sync_member(true);
        }
    }

    /// Runs one input on live router `i`, then its sync group and the
    /// bookkeeping; `None` if there is no such router.
    fn drive<R>(
        &mut self,
        now: Instant,
        i: u32,
        f: impl FnOnce(&mut VirtualRouter) -> R,
    ) -> Option<R> {
        let epoch = *self.epoch.get_or_insert(now);
        let slot = self
            .slots
            .get_mut(i as usize)
            .and_then(Option::as_mut)
            .filter(|s| !s.removed)?;
        slot.router.set_advert_epoch(epoch);
        let before = slot.router.state();
        let lower_before = slot.router.lower_prio_received();
        let out = f(&mut slot.router);
        let after = slot.router.state();
        let lower = slot.router.lower_prio_received() != lower_before;
        let group = slot.group;
        self.settle(i);
        if let Some(g) = group.filter(|_| lower) {
            self.group_lower_priority(now, g, i);
        }
        if let Some(g) = group {
            let cmd = match (before, after) {
                (b, State::Master) if b != State::Master => Some(SyncCommand::Master),
                (State::Master, State::Backup) => Some(SyncCommand::Backup),
                _ => None,
            };
            self.sync_group(now, g, Some(i), cmd);
        }
        Some(out)
    }

    /// Moves the members of group `g` after member `origin` changed (`cmd`
    /// for the others), or re-evaluates the group (no origin).
    fn sync_group(&mut self, now: Instant, g: u32, origin: Option<u32>, cmd: Option<SyncCommand>) {
        let members = std::mem::take(&mut self.groups[g as usize].members);
        for &m in &members {
            if Some(m) == origin {
                continue;
            }
            let fault = self.fault_of_others(&members, m);
            self.command(now, m, fault);
            if let Some(cmd) = cmd {
                self.command(now, m, cmd);
            }
        }
        // The origin itself may be held in FAULT by the others.
        if let Some(origin) = origin {
            let fault = self.fault_of_others(&members, origin);
            self.command(now, origin, fault);
        }
        // keepalived's vrrp_sync_can_goto_master: the group goes MASTER
        // only when every member wants it (or already is).
        let routers = || members.iter().filter_map(|&m| self.router(RouterId(m)));
        let ready = routers().any(VirtualRouter::wants_master)
            && routers().all(|r| r.state() == State::Master || r.wants_master());
        if ready {
            for &m in &members {
                self.command(now, m, SyncCommand::Master);
            }
        }
        self.groups[g as usize].members = members;
        self.group_notify(g);
    }

    /// Member `origin` of group `g` received a lower-priority advert: the
    /// other members send their lower-priority GARPs (keepalived's
    /// `vrrp_state_master_rx`).
    fn group_lower_priority(&mut self, now: Instant, g: u32, origin: u32) {
        let members = self.groups[g as usize].members.clone();
        for m in members.into_iter().filter(|m| *m != origin) {
            if let Some(slot) = self.slot_mut(m) {
                slot.router.handle_group_lower_priority(now);
                self.settle(m);
            }
        }
    }

    /// `Fault` for member `m` if another member of its group is faulty by
    /// itself, else `Recover`.
    fn fault_of_others(&self, members: &[u32], m: u32) -> SyncCommand {
        let faulty = |o: &u32| {
            *o != m
                && self
                    .router(RouterId(*o))
                    .is_some_and(VirtualRouter::own_fault)
        };
        if members.iter().any(faulty) {
            SyncCommand::Fault
        } else {
            SyncCommand::Recover
        }
    }

    /// Emits the group notification once all members share a new state.
    fn group_notify(&mut self, g: u32) {
        let group = &self.groups[g as usize];
        let mut states = group
            .members
            .iter()
            .filter_map(|&m| self.router(RouterId(m)).map(VirtualRouter::state));
        let Some(first) = states.next() else { return };
        if states.all(|s| s == first) && group.state != Some(first) {
            let notify = Notify {
                kind: NotifyKind::Group,
                name: group.name.clone(),
                state: first,
                priority: 0,
            };
            self.groups[g as usize].state = Some(first);
            self.group_events
                .push_back(MuxEvent::Group(GroupId(g), notify));
        }
    }

    /// Marks router `i` for polling and reschedules its timer.
    fn settle(&mut self, i: u32) {
        let Some(slot) = self.slots.get_mut(i as usize).and_then(Option::as_mut) else {
            return;
        };
        if !slot.touched {
            slot.touched = true;
            self.touched.push_back(i);
        } else {
            // It may sit behind the cursor with something new to send.
            self.tx_cursor = 0;
        }
        let next = slot.router.poll_timeout();
        if next != slot.scheduled {
            slot.scheduled = next;
            if let Some(at) = next {
                if self.heap.len() == self.heap.capacity() {
                    self.compact();
                }
                self.heap.push(Reverse((at, i)));
            }
        }
    }

    /// Drops stale heap entries in place (no allocation).
    fn compact(&mut self) {
        let slots = &self.slots;
        self.heap.retain(|Reverse((at, i))| {
            slots
                .get(*i as usize)
                .and_then(Option::as_ref)
                .is_some_and(|s| s.scheduled == Some(*at))
        });
    }
}

/// Reads the VRID of a VRRP or AH-wrapped VRRP datagram without validating
/// more than the headers on the way.
pub(crate) fn peek_vrid(datagram: &[u8]) -> Result<u8, WireDrop> {
    let ip = wire::ipv4::Packet::new_checked(datagram)?;
    match ip.protocol() {
        wire::IPPROTO_VRRP => Ok(wire::vrrp::Packet::new_checked(ip.payload())?.vrid()),
        wire::IPPROTO_AH => {
            let ah = wire::ah::Packet::new_checked(ip.payload())?;
            Ok(wire::vrrp::Packet::new_checked(ah.payload())?.vrid())
        }
        _ => Err(WireDrop::BadProtocol),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use super::*;
    use crate::auth::{AuthConfig, TxCounters};
    use crate::config::Config;

    fn router(vrid: u8, prio: u8) -> VirtualRouter {
        VirtualRouter::new(Config::new("r", vrid, prio, Ipv4Addr::new(10, 0, 0, 2))).unwrap()
    }

    fn advert(vrid: u8) -> Vec<u8> {
        advert_to(vrid, Ipv4Addr::new(10, 0, 0, 9), wire::VRRP_MCAST_V4)
    }

    /// An advert of `vrid` from `src` to `dst`, priority 200, no
    /// addresses (the unicast tests use it too).
    pub(super) fn advert_to(vrid: u8, src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
        let repr = wire::AdvertRepr {
            src,
            dst,
            ttl: wire::VRRP_TTL,
            vrid,
            priority: 200,
            adver_int: 1,
            addresses: &[],
        };
        let mut buf = [0u8; 64];
        let len = wire::encode(&repr, &AuthConfig::None, &mut TxCounters::new(), &mut buf).unwrap();
        buf[..len].to_vec()
    }

    #[test]
    fn routes_by_interface_and_vrid_and_counts_the_rest() {
        let t0 = Instant::now();
        let mut mux = Mux::new();
        let r1 = mux.add_router(1, router(1, 100)).unwrap();
        let r2 = mux.add_router(2, router(1, 100)).unwrap();
        assert_eq!(
            mux.add_router(2, router(1, 50)),
            Err(MuxError::Duplicate {
                ifindex: 2,
                vrid: 1
            })
        );
        mux.handle_startup(t0);
        let src = Ipv4Addr::new(10, 0, 0, 9);
        assert_eq!(mux.handle_datagram(t0, 2, src, &advert(1)), Some(r2));
        assert_eq!(mux.handle_datagram(t0, 1, src, &advert(1)), Some(r1));
        assert_eq!(mux.handle_datagram(t0, 1, src, &advert(3)), None);
        assert_eq!(mux.handle_datagram(t0, 3, src, &advert(1)), None);
        assert_eq!(mux.handle_datagram(t0, 1, src, &[0x45, 0]), None);
        assert_eq!(mux.counters().unknown_vrid, 2);
        assert_eq!(mux.counters().undecodable[WireDrop::Truncated.index()], 1);
        assert_eq!(mux.router(r2).unwrap().counters().adverts_received, 1);
    }

    #[test]
    fn routers_on_other_groups_or_unicast_share_a_vrid_on_one_interface() {
        let t0 = Instant::now();
        let mut mux = Mux::new();
        let group = Ipv4Addr::new(224, 0, 0, 20);
        let with = |f: &dyn Fn(&mut Config)| {
            let mut c = Config::new("r", 1, 100, Ipv4Addr::new(10, 0, 0, 2));
            f(&mut c);
            VirtualRouter::new(c).unwrap()
        };
        let default = mux.add_router(1, router(1, 100)).unwrap();
        let other = with(&|c| c.mcast_group = Some(group.into()));
        let other = mux.add_router(1, other).unwrap();
        let peer = Ipv4Addr::new(10, 0, 0, 9);
        let unicast = with(&|c| c.unicast_peers = vec![peer]);
        let unicast = mux.add_router(1, unicast).unwrap();
        let again = with(&|c| c.mcast_group = Some(group.into()));
        assert_eq!(
            mux.add_router(1, again),
            Err(MuxError::Duplicate {
                ifindex: 1,
                vrid: 1
            })
        );
        assert_eq!(
            mux.find_channel(1, 1, false, Some(group.into())),
            Some(other)
        );
        assert_eq!(mux.find_channel(1, 1, false, None), Some(unicast));
        mux.handle_startup(t0);
        // The IPv4 header's destination (bytes 16..20) picks the router.
        let to = |dst: Ipv4Addr| {
            let mut d = advert(1);
            d[16..20].copy_from_slice(&dst.octets());
            d
        };
        let got = |mux: &mut Mux, dst| mux.handle_datagram(t0, 1, peer, &to(dst));
        assert_eq!(got(&mut mux, wire::VRRP_MCAST_V4), Some(default));
        assert_eq!(got(&mut mux, group), Some(other));
        assert_eq!(got(&mut mux, Ipv4Addr::new(10, 0, 0, 2)), Some(unicast));
        // A group no router is on: the first router of the VRID drops it.
        let first = mux.find_family(1, 1, false);
        assert_eq!(got(&mut mux, Ipv4Addr::new(224, 0, 0, 30)), first);
    }

    #[test]
    fn an_ipv4_and_an_ipv6_router_share_a_vrid_on_one_interface() {
        let t0 = Instant::now();
        let mut mux = Mux::new();
        let ll = |last| std::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, last);
        let mut c6 = Config::new("r6", 1, 100, Ipv4Addr::UNSPECIFIED);
        c6.version = crate::config::Version::V3;
        c6.ipv6 = Some(crate::config::Ipv6Config::new(ll(2)));
        let v4 = mux.add_router(1, router(1, 100)).unwrap();
        let v6 = mux
            .add_router(1, VirtualRouter::new(c6.clone()).unwrap())
            .unwrap();
        assert_eq!(
            mux.add_router(1, VirtualRouter::new(c6).unwrap()),
            Err(MuxError::Duplicate {
                ifindex: 1,
                vrid: 1
            })
        );
        assert_eq!(
            (mux.find_family(1, 1, false), mux.find_family(1, 1, true)),
            (Some(v4), Some(v6))
        );
        assert_eq!(mux.find(1, 1), Some(v4));
        mux.handle_startup(t0);
        let src = Ipv4Addr::new(10, 0, 0, 9);
        assert_eq!(mux.handle_datagram(t0, 1, src, &advert(1)), Some(v4));
        let repr = wire::AdvertV3Repr {
            src: ll(9),
            dst: wire::VRRP_MCAST_V6,
            ttl: 255,
            vrid: 1,
            priority: 200,
            max_adver_int: 100,
            addresses: &[],
        };
        let mut buf = [0u8; 64];
        let len = wire::encode_v6(&repr, &mut buf).unwrap();
        let meta = wire::Ipv6Meta {
            src: ll(9),
            dst: wire::VRRP_MCAST_V6,
            hop_limit: 255,
        };
        assert_eq!(mux.handle_datagram_v6(t0, 1, &meta, &buf[..len]), Some(v6));
        let received = |id| mux.router(id).unwrap().counters().adverts_received;
        assert_eq!((received(v4), received(v6)), (1, 1));
        // Removed, the IPv6 router's VRID routes IPv6 messages to the IPv4
        // one, which drops them by family.
        mux.remove_router(t0, v6).unwrap();
        assert_eq!(mux.handle_datagram_v6(t0, 1, &meta, &buf[..len]), Some(v4));
        let dropped = mux.router(v4).unwrap().counters().dropped.clone();
        assert_eq!(dropped.get(crate::router::DropReason::WrongFamily), 1);
    }

    /// The family codes the receive path searches stay those of the keys
    /// through every change of the keys: add, remove, rebind, replace,
    /// reload.
    #[test]
    fn the_key_codes_stay_in_step_with_the_keys() {
        let t0 = Instant::now();
        let mut mux = Mux::new();
        let ids: Vec<_> = [(2, 5), (1, 9), (1, 5), (3, 1)]
            .into_iter()
            .map(|(ifindex, vrid)| mux.add_router(ifindex, router(vrid, 100)).unwrap())
            .collect();
        assert!(mux.keys.in_step());
        mux.handle_startup(t0);
        mux.remove_router(t0, ids[1]).unwrap();
        assert!(mux.keys.in_step());
        mux.rebind(ids[0], 4).unwrap();
        assert!(mux.keys.in_step());
        mux.replace_router(ids[3], 1, router(7, 100)).unwrap();
        assert!(mux.keys.in_step());
        assert_eq!(
            (1..=4).map(|i| mux.find(i, 5)).collect::<Vec<_>>(),
            [Some(ids[2]), None, None, Some(ids[0])]
        );
        assert_eq!((mux.find(1, 7), mux.find(1, 9)), (Some(ids[3]), None));
        let desired = Desired {
            routers: vec![
                (4, Config::new("r", 5, 100, Ipv4Addr::new(10, 0, 0, 2))),
                (2, Config::new("n", 9, 100, Ipv4Addr::new(10, 0, 0, 2))),
            ],
            groups: vec![],
        };
        mux.reconcile(t0, &desired).unwrap();
        assert!(mux.keys.in_step());
        let src = Ipv4Addr::new(10, 0, 0, 9);
        assert_eq!(mux.handle_datagram(t0, 4, src, &advert(5)), Some(ids[0]));
        assert_eq!(mux.handle_datagram(t0, 1, src, &advert(5)), None);
        let new = mux.find(2, 9);
        assert!(new.is_some_and(|id| !ids.contains(&id)));
        assert_eq!(mux.handle_datagram(t0, 2, src, &advert(9)), new);
        assert_eq!(mux.len(), 2);
    }

    #[test]
    fn timers_fire_in_order_across_routers() {
        let t0 = Instant::now();
        let mut mux = Mux::new();
        let low = mux.add_router(1, router(1, 50)).unwrap();
        let high = mux.add_router(1, router(2, 200)).unwrap();
        mux.handle_startup(t0);
        while mux.poll_event().is_some() {}
        let first = mux.poll_timeout().unwrap();
        assert_eq!(first, t0 + mux.router(high).unwrap().master_down_interval());
        mux.handle_timeout(first);
        let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
        let (id, ifindex, t) = mux.poll_transmit(first, &mut buf).unwrap();
        assert_eq!((id, ifindex, t.priority), (high, 1, 200));
        assert!(mux.poll_transmit(first, &mut buf).is_none());
        assert_eq!(mux.router(low).unwrap().state(), State::Backup);
        // Different VRIDs: the low one times out too, then the advert timer.
        let low_down = t0 + mux.router(low).unwrap().master_down_interval();
        assert_eq!(mux.poll_timeout(), Some(low_down));
        mux.handle_timeout(low_down);
        assert_eq!(mux.router(low).unwrap().state(), State::Master);
        // Both masters advertise on the mux's grid: one wake-up a second.
        assert_eq!(mux.poll_timeout(), Some(t0 + Duration::from_secs(4)));
        mux.handle_timeout(t0 + Duration::from_secs(4));
        let sent: Vec<_> = std::iter::from_fn(|| mux.poll_transmit(t0, &mut buf))
            .map(|(id, _, _)| id)
            .collect();
        assert_eq!(sent.len(), 2);
        assert!(sent.contains(&low) && sent.contains(&high));
        assert_eq!(mux.poll_timeout(), Some(t0 + Duration::from_secs(5)));
    }

    #[test]
    fn stale_timer_entries_are_compacted_without_growing() {
        let t0 = Instant::now();
        let mut mux = Mux::new();
        let id = mux.add_router(1, router(1, 100)).unwrap();
        mux.handle_startup(t0);
        let capacity = mux.heap.capacity();
        let src = Ipv4Addr::new(10, 0, 0, 9);
        let d = advert(1);
        // Every accepted advert moves the down timer: one stale entry each.
        for k in 1..=1000u64 {
            let now = t0 + Duration::from_millis(10 * k);
            mux.handle_datagram(now, 1, src, &d);
        }
        assert_eq!(mux.heap.capacity(), capacity);
        assert!(mux.heap.len() <= capacity);
        let last = t0 + Duration::from_millis(10_000);
        let down = last + mux.router(id).unwrap().master_down_interval();
        assert_eq!(mux.poll_timeout(), Some(down));
        mux.handle_timeout(down);
        assert_eq!(mux.router(id).unwrap().state(), State::Master);
    }

    #[test]
    fn a_lower_priority_advert_brings_garps_from_every_sync_group_member() {
        let t0 = Instant::now();
        let mut mux = Mux::new();
        let a = mux.add_router(1, router(1, 100)).unwrap();
        let b = mux.add_router(1, router(2, 100)).unwrap();
        let c = mux.add_router(1, router(3, 100)).unwrap();
        mux.add_sync_group("g", &[a, b]).unwrap();
        mux.handle_startup(t0);
        let down = t0 + mux.router(a).unwrap().master_down_interval();
        mux.handle_timeout(down);
        let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
        while mux.poll_transmit(down, &mut buf).is_some() {}
        while mux.poll_event().is_some() {}
        let master = |id| mux.router(id).unwrap().state() == State::Master;
        assert!(master(a) && master(b) && master(c));
        let repr = wire::AdvertRepr {
            src: Ipv4Addr::new(10, 0, 0, 9),
            dst: wire::VRRP_MCAST_V4,
            ttl: wire::VRRP_TTL,
            vrid: 1,
            priority: 50,
            adver_int: 1,
            addresses: &[],
        };
        let mut tx = TxCounters::new();
        let len = wire::encode(&repr, &AuthConfig::None, &mut tx, &mut buf).unwrap();
        let lower = buf[..len].to_vec();
        let now = down + Duration::from_millis(500);
        let src = Ipv4Addr::new(10, 0, 0, 9);
        assert_eq!(mux.handle_datagram(now, 1, src, &lower), Some(a));
        while mux.poll_transmit(now, &mut buf).is_some() {}
        let garps: Vec<RouterId> = std::iter::from_fn(|| mux.poll_event())
            .filter_map(|e| match e {
                MuxEvent::Router(id, Event::GratuitousArp { repeat: 5 }) => Some(id),
                _ => None,
            })
            .collect();
        // The group's other member too, not the router outside it.
        assert_eq!(garps, [a, b]);
    }

    #[test]
    fn sync_group_rejects_bad_members() {
        let mut mux = Mux::new();
        let a = mux.add_router(1, router(1, 100)).unwrap();
        let b = mux.add_router(1, router(2, 100)).unwrap();
        assert_eq!(
            mux.add_sync_group("g", &[a, RouterId(9)]),
            Err(MuxError::UnknownRouter(RouterId(9)))
        );
        assert_eq!(
            mux.add_sync_group("g", &[a, a]),
            Err(MuxError::AlreadyGrouped(a))
        );
        assert_eq!(mux.add_sync_group("g", &[a, b]), Ok(GroupId(0)));
        assert_eq!(
            mux.add_sync_group("h", &[b]),
            Err(MuxError::AlreadyGrouped(b))
        );
    }
}
