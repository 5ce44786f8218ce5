//! What the driver reports: events, counters, snapshots.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;

use super::{Deleted, Driver};
use crate::event::{Counters, Event, Notify, State};
use crate::linux::{Link, LinuxError};
use crate::mux::{GroupId, MuxCounters, RouterId};

/// At most one [`Event::Dropped`] per router per this period reaches the
/// embedder, so a flood of bad datagrams costs it nothing.
pub const DROP_EVENT_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);

/// What the driver tells the embedder.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum DriverEvent {
    /// An event of one router (state changes, drops, notifications).
    Router {
        /// The router.
        id: RouterId,
        /// Its instance name.
        name: Arc<str>,
        /// The event; address and GARP events were already acted upon.
        event: Event,
    },
    /// A sync group reached a common state.
    Group(GroupId, Notify),
    /// Someone else deleted a tracked virtual address, route or rule of a
    /// master, which goes to BACKUP for it, as in keepalived (see
    /// [`VirtualRouter::handle_deleted`](crate::VirtualRouter::handle_deleted));
    /// the state change follows. Deletions of `no_track` items are not
    /// reported (nothing happens, as in keepalived).
    Deleted {
        /// The router.
        id: RouterId,
        /// What was deleted.
        item: Deleted,
    },
    /// The state of an interface the routers use or that is watched: once
    /// for each at start, then on every change. An interface that does
    /// not exist (at start, or after its deletion) is reported down once
    /// with `index` 0; when a link of its name appears, that link is
    /// reported and the routers on it bind to it (see
    /// [`RouterSpec::interface`](super::RouterSpec::interface)).
    Interface {
        /// The link's state now.
        link: Link,
    },
    /// A link change waits for the interface's delay (keepalived's
    /// `interface_up_down_delays`; see [`LinkDelay`](super::LinkDelay)):
    /// it is acted on (an [`Interface`](Self::Interface) event) after
    /// `delay`, unless the link is back as it was before then.
    LinkDelayed {
        /// The interface's name.
        interface: String,
        /// The raw flags (`IFF_*`) last acted on.
        from: u32,
        /// The raw flags now.
        to: u32,
        /// How long it waits.
        delay: std::time::Duration,
    },
    /// A waiting link change was dropped: the link changed the other way
    /// with flags other than those last acted on (a link back exactly as
    /// it was drops it without this event, as keepalived logs nothing).
    LinkDelayCancelled {
        /// The interface's name.
        interface: String,
    },
    /// A router's VMAC was renamed by someone else (keepalived 2.2.7:
    /// "Interface name has changed from vrrp.51 to foo"): it is no longer
    /// the router's, which goes to FAULT and makes a VMAC of its name
    /// again (reported up when it is made, as after a deletion).
    VmacRenamed {
        /// Its name so far.
        from: String,
        /// Its new name.
        to: String,
    },
    /// A router's interface exists but has no address to advertise from
    /// (no IPv4 address, or for an IPv6 router no link-local address): the
    /// router runs in FAULT, as keepalived's does, and binds to the
    /// interface when an address is added. Sent by the start and by every
    /// [`reconfigure`](super::DriverHandle::reconfigure) that leaves a
    /// router waiting.
    NoAddress {
        /// The router.
        id: RouterId,
        /// Its instance name.
        name: Arc<str>,
        /// The interface.
        interface: String,
        /// True for an IPv6 router (waiting for a link-local address).
        ipv6: bool,
    },
    /// An advert for a VRID that no router has on the interface it came in
    /// on; reported only with [`Driver::report_unknown_vrids`](super::Driver::report_unknown_vrids)
    /// (keepalived's `log_unknown_vrids`: "Unknown VRID(N) received on
    /// interface(IF). ignoring..."), or for a VRID unicast routers there
    /// share, from a sender that is no peer of theirs.
    UnknownVrid {
        /// The interface's name.
        interface: String,
        /// The VRID the advert carried.
        vrid: u8,
        /// Its sender.
        from: IpAddr,
        /// Unicast routers on the interface share the VRID, none peering
        /// with `from` (keepalived then adds "from IP" to its line).
        shared: bool,
    },
    /// A host operation failed (the protocol keeps running).
    Failed {
        /// The operation.
        op: &'static str,
        /// The error, shared so the event stays cheap to clone.
        error: Arc<LinuxError>,
    },
}

/// Counters of the driver itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriverCounters {
    /// Datagrams read from the raw sockets.
    pub datagrams_received: u64,
    /// Adverts handed to the kernel.
    pub datagrams_sent: u64,
    /// Adverts the kernel refused (logged, see [`ERROR_LOG_PERIOD`](super::ERROR_LOG_PERIOD)).
    pub send_errors: u64,
    /// Reads from the raw sockets that failed other than for want of a
    /// datagram (logged like [`send_errors`](Self::send_errors)).
    pub receive_errors: u64,
    /// Gratuitous ARPs sent.
    pub garps_sent: u64,
    /// Tracked virtual addresses, routes and rules someone else deleted
    /// from a master (each sent it to BACKUP).
    pub tracked_deletions: u64,
    /// Host operations (address, route, GARP) that failed.
    pub host_errors: u64,
    /// Events the embedder did not take in time (a full channel is logged).
    pub events_lost: u64,
    /// [`Event::Dropped`] events not passed on: at most one per router per
    /// [`DROP_EVENT_PERIOD`] reaches the embedder (every drop is still
    /// counted by reason in the router's counters).
    pub drop_events_suppressed: u64,
}

/// A consistent view of every router, taken by [`DriverHandle::snapshot`](super::DriverHandle::snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Per running router, in [`RouterId`] order: name, state, effective
    /// priority, counters.
    pub routers: Vec<RouterSnapshot>,
    /// Datagrams no router took.
    pub mux: MuxCounters,
    /// The driver's own counters.
    pub driver: DriverCounters,
    /// Open VRRP/AH raw sockets: one per (interface, protocol) in use.
    pub raw_sockets: usize,
    /// Open gratuitous ARP sockets: one per interface adverts leave from.
    pub garp_sockets: usize,
}

/// One router in a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterSnapshot {
    /// Its id.
    pub id: RouterId,
    /// Instance name.
    pub name: Arc<str>,
    /// State.
    pub state: State,
    /// Effective priority.
    pub priority: u8,
    /// Counters, with drops by reason.
    pub counters: Counters,
    /// The last other router heard as master
    /// ([`VirtualRouter::last_master`](crate::VirtualRouter::last_master)).
    pub last_master: Option<IpAddr>,
}

impl Driver {
    /// True if router `i` already reported a drop within the last
    /// [`DROP_EVENT_PERIOD`]; otherwise opens a new period.
    pub(super) fn drop_gated(&mut self, i: usize, now: Instant) -> bool {
        let Some(r) = self.routers.get_mut(i).and_then(Option::as_mut) else {
            return true;
        };
        if r.last_drop_event
            .is_some_and(|t| now.saturating_duration_since(t) < DROP_EVENT_PERIOD)
        {
            return true;
        }
        r.last_drop_event = Some(now);
        false
    }

    pub(super) fn host_error(&mut self, op: &'static str, e: LinuxError) {
        self.counters.host_errors += 1;
        self.emit(DriverEvent::Failed {
            op,
            error: Arc::new(e),
        });
    }

    /// Queues an event for the embedder. While running, a full channel
    /// loses it (counted); once stopping, it waits in `backlog` for
    /// [`flush_backlog`](Self::flush_backlog).
    pub(super) fn emit(&mut self, ev: DriverEvent) {
        match self.events.try_send(ev) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(ev)) if self.stopping => self.backlog.push(ev),
            Err(mpsc::error::TrySendError::Full(_)) => self.event_lost(),
            // The embedder dropped its receiver: it wants no events.
            Err(mpsc::error::TrySendError::Closed(_)) => self.counters.events_lost += 1,
        }
    }

    /// Delivers the events of the stop that did not fit in the channel,
    /// waiting for the embedder to read them (or to drop its receiver).
    pub(super) async fn flush_backlog(&mut self) {
        for ev in std::mem::take(&mut self.backlog) {
            if self.events.send(ev).await.is_err() {
                break;
            }
        }
    }

    pub(super) fn snapshot(&self) -> Snapshot {
        let routers = self
            .router_ids()
            .filter_map(|id| Some((id, self.mux.router(id)?)))
            .map(|(id, r)| RouterSnapshot {
                id,
                name: r.config().name.clone(),
                state: r.state(),
                priority: r.priority(),
                counters: r.counters().clone(),
                last_master: r.last_master(),
            })
            .collect();
        Snapshot {
            routers,
            mux: self.mux.counters().clone(),
            driver: self.counters.clone(),
            raw_sockets: self.sockets.len(),
            garp_sockets: self.garp.len(),
        }
    }
}
