//! Link and address changes: the watcher task and what the driver does
//! with its reports.

use std::time::Instant;

use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;

use super::debounce::{Note, Verdict};
use super::handle::Input;
use super::{Driver, DriverError, DriverEvent};
use crate::event::State;
use crate::linux::{Link, NetEvent, NetWatcher};
use crate::mux::RouterId;
use crate::router::{Tracking, VirtualRouter};

/// Kernel interface indexes are positive C `int`s: an index from here on
/// stands for an interface that does not exist (yet). Routers on a
/// missing interface wait in the mux under it, in FAULT, keeping their
/// [`RouterId`] and sync group; embedders see it as index 0.
const ABSENT_BASE: u32 = 1 << 31;
/// `IFF_UP` and `IFF_RUNNING` of a link's raw flags.
const IFF_UP: u32 = 0x1;
const IFF_RUNNING: u32 = 0x40;

/// True if `index` stands for a missing interface.
pub(super) fn is_absent(index: u32) -> bool {
    index >= ABSENT_BASE
}

impl Driver {
    pub(super) fn handle_net(&mut self, now: Instant, ev: NetEvent) {
        match ev {
            NetEvent::Link(link) => self.link_changed(now, link, true),
            NetEvent::LinkRemoved(link) => self.link_changed(now, link, false),
            NetEvent::AddressRemoved(a) => {
                self.address_deleted(now, a.ifindex, a.addr.into());
                self.quirk_source_deleted(now, a.ifindex, a.addr);
                self.source_deleted(now, a.ifindex, a.addr);
            }
            NetEvent::Address6Removed(a) => {
                self.address_deleted(now, a.ifindex, a.addr.into());
                self.source6_deleted(now, a.ifindex, a.addr);
            }
            NetEvent::RouteRemoved(r) => self.route_deleted(now, r),
            NetEvent::RuleRemoved(r) => self.rule_deleted(now, r),
            // A router waiting for its interface may wait for an address.
            NetEvent::AddressAdded(a) => self.address_added(now, a.ifindex),
            NetEvent::Address6Added(a) => {
                self.address_added(now, a.ifindex);
                self.source6_added(now, a.ifindex, a.addr);
            }
            NetEvent::Overrun => self.resync(now),
        }
    }

    /// The stand-in for interface `name`, which does not exist: down, no
    /// MAC, one index per name for as long as the driver runs.
    pub(super) fn absent_link(&mut self, name: &str) -> Link {
        let next = ABSENT_BASE.saturating_add(self.absent.len() as u32);
        let index = *self.absent.entry(name.to_owned()).or_insert(next);
        Link {
            index,
            name: name.to_owned(),
            mac: None,
            up: false,
            running: false,
            flags: 0,
        }
    }

    /// Reports a link's state to the embedder; a missing one with index 0,
    /// unless the link of its name is known (its routers wait for an
    /// address there): that one is reported instead.
    pub(super) fn emit_link(&mut self, mut link: Link) {
        if is_absent(link.index) {
            let exists = |l: &Link| !is_absent(l.index) && l.name == link.name;
            if self.links.values().any(exists) {
                return;
            }
            link.index = 0;
        }
        self.emit(DriverEvent::Interface { link });
    }

    /// New tracking for a router, remembered for when it is rebuilt.
    pub(super) fn set_tracking(&mut self, now: Instant, id: RouterId, t: Tracking) {
        if let Some(r) = self.routers.get_mut(id.0 as usize).and_then(Option::as_mut) {
            r.tracking = Some(t);
        }
        // A router whose VMAC is down stays in FAULT.
        let t = self.tracking_of(id.0 as usize).unwrap_or(t);
        self.mux.handle_tracking(now, id, t);
    }

    pub(super) fn link_changed(&mut self, now: Instant, link: Link, exists: bool) {
        if is_absent(link.index) {
            return; // not the kernel's
        }
        let Some(last) = self.links.get_mut(&link.index) else {
            if exists {
                if !self.vmac_link_changed(now, &link) {
                    self.link_appeared(now, link);
                }
            } else {
                self.vmac_gone(now, link.index);
            }
            return;
        };
        // Only a change retries routers waiting for it: a failed attempt
        // (a VMAC the kernel refuses) makes reports of the link itself.
        let changed = last.is_operational() != link.is_operational() || !exists;
        let mut link = link;
        if !exists {
            // A deleted link is reported down, under the name we knew.
            link.up = false;
            link.running = false;
            link.flags = 0;
            link.name.clone_from(&last.name);
            self.debounce.forget(link.index);
        } else if !self.debounce_allows(now, &link) {
            // Waits for its delay; routers waiting for it may bind meanwhile.
            if changed {
                self.attach_pending(now, &link);
            }
            return;
        }
        self.act_on_link(now, link.clone());
        if !exists {
            self.link_gone(link.index);
        } else if changed {
            // A router still waiting for this interface (no address yet).
            self.attach_pending(now, &link);
        }
    }

    /// Acts on a link's new state: its routers and the embedder learn it.
    fn act_on_link(&mut self, now: Instant, link: Link) {
        let Some(last) = self.links.get_mut(&link.index) else {
            return;
        };
        let up = link.is_operational();
        if last.is_operational() != up {
            *last = link.clone();
            self.mux.handle_interface(now, link.index, up);
            self.emit_link(link);
        }
    }

    /// False if the change of `link` waits for its interface's delay
    /// (or is void); the embedder hears of a wait and of a cancel.
    fn debounce_allows(&mut self, now: Instant, link: &Link) -> bool {
        let last = self.links.get(&link.index).map_or(0, |l| l.flags);
        let (verdict, note) = (self.debounce).report(now, link.index, &link.name, last, link.flags);
        self.emit_link_note(link.name.clone(), note);
        verdict == Verdict::Act
    }

    /// Tells the embedder that a change of `interface` waits for its
    /// delay, or that a wait was cancelled.
    pub(super) fn emit_link_note(&mut self, interface: String, note: Option<Note>) {
        match note {
            Some(Note::Delayed { from, to, delay }) => self.emit(DriverEvent::LinkDelayed {
                interface,
                from,
                to,
                delay,
            }),
            Some(Note::Cancelled) => self.emit(DriverEvent::LinkDelayCancelled { interface }),
            None => {}
        }
    }

    /// Acts on the link changes whose delay ended.
    pub(super) fn debounced(&mut self, now: Instant) {
        for (index, flags) in self.debounce.due(now) {
            let Some(mut link) = self.links.get(&index).cloned() else {
                self.vmac_debounced(now, index, flags);
                continue;
            };
            link.flags = flags;
            link.up = flags & IFF_UP != 0;
            link.running = flags & IFF_RUNNING != 0;
            self.act_on_link(now, link);
        }
    }

    /// A link we did not know: if it has the name of a missing interface
    /// (never there, or deleted), it is that interface now.
    fn link_appeared(&mut self, now: Instant, link: Link) {
        let Some(&stand_in) = self.absent.get(&link.name) else {
            return;
        };
        if !self.links.contains_key(&stand_in) {
            return; // no longer wanted
        }
        self.links.insert(link.index, link.clone());
        self.emit_link(link.clone());
        self.attach_pending(now, &link);
    }

    /// Interface `index` was deleted (its routers already went to FAULT):
    /// its routers wait under the stand-in of its name, their sockets on
    /// it are closed, and a link created with that name takes its place.
    fn link_gone(&mut self, index: u32) {
        let Some(link) = self.links.remove(&index) else {
            return;
        };
        let stand_in = self.absent_link(&link.name);
        for i in 0..self.routers.len() {
            let on_it = self.io(i).is_some_and(|r| r.recv_ifindex == index);
            if on_it && self.mux.rebind(RouterId(i as u32), stand_in.index).is_ok() {
                if let Some(r) = self.routers.get_mut(i).and_then(Option::as_mut) {
                    r.recv_ifindex = stand_in.index;
                    r.send_ifindex = stand_in.index;
                    // The kernel deleted its VMAC with the interface.
                    r.vmac = None;
                }
            }
        }
        self.links.entry(stand_in.index).or_insert(stand_in);
        // Its VMACs left the firewall's map.
        self.firewall.touch();
        self.close_unused();
    }

    /// Link `index` was deleted: if it is a router's VMAC, the router goes
    /// to FAULT and, as keepalived does, gets a new VMAC at once if its
    /// interface is up (it leaves FAULT then), else when the interface
    /// next changes. The router waits under the stand-in of its
    /// interface's name meanwhile, so it alone goes to FAULT.
    pub(super) fn vmac_gone(&mut self, now: Instant, index: u32) {
        let owners: Vec<usize> = (0..self.routers.len())
            .filter(|&i| self.io(i).is_some_and(|r| r.vmac == Some(index)))
            .collect();
        if owners.is_empty() {
            return;
        }
        self.forget_vmac(index, &owners);
        let mut parents = Vec::new();
        for i in owners {
            let Some(r) = self.io(i) else { continue };
            // A router waiting for an address is under a stand-in.
            let (parent, name) = (self.vmac_base(r), r.spec.interface.clone());
            let stand_in = self.absent_link(&name);
            if self.mux.rebind(RouterId(i as u32), stand_in.index).is_err() {
                continue;
            }
            if let Some(r) = self.routers.get_mut(i).and_then(Option::as_mut) {
                r.recv_ifindex = stand_in.index;
                r.send_ifindex = stand_in.index;
                r.vmac = None;
            }
            self.links.entry(stand_in.index).or_insert(stand_in.clone());
            // Routers already waiting there are in FAULT: no change for them.
            self.mux.handle_interface(now, stand_in.index, false);
            // A VMAC that was down no longer holds it in FAULT.
            self.apply_tracking(now, i);
            parents.push(parent);
        }
        // Its FAULT: a master's priority-0 advert has no socket left, its
        // addresses went with the VMAC (ENODEV is ignored).
        self.drain(now);
        self.firewall.touch();
        self.close_unused();
        parents.dedup();
        for parent in parents {
            // The last state we know: a parent being deleted went down
            // first, and a VMAC cannot be made on it.
            match self.links.get(&parent).cloned() {
                Some(link) if link.is_operational() => self.attach_pending(now, &link),
                _ => {}
            }
        }
    }

    /// Tries to bind the routers waiting for `link`'s name to it; those
    /// that cannot yet (no address to advertise from) wait for the next
    /// link or address change.
    fn attach_pending(&mut self, now: Instant, link: &Link) {
        let Some(&stand_in) = self.absent.get(&link.name) else {
            return;
        };
        let waiting = |d: &Driver| {
            (0..d.routers.len())
                .filter(|&i| d.io(i).is_some_and(|r| r.recv_ifindex == stand_in))
                .collect::<Vec<_>>()
        };
        for i in waiting(self) {
            match self.attach(now, i) {
                Ok(()) => {}
                // Expected while the interface is being set up.
                Err(DriverError::NoPrimaryAddress(_) | DriverError::NoLinkLocal(_)) => {}
                Err(DriverError::Linux(e)) => self.host_error("bind to interface", e),
                Err(_) => self.counters.host_errors += 1,
            }
        }
        if waiting(self).is_empty() {
            self.links.remove(&stand_in);
        }
    }

    /// An address was added on `ifindex`: routers waiting for that
    /// interface may bind now.
    fn address_added(&mut self, now: Instant, ifindex: u32) {
        if let Some(link) = self.links.get(&ifindex).cloned() {
            self.attach_pending(now, &link);
        }
    }

    /// After lost notifications: re-read link states, re-install masters'
    /// addresses.
    pub(super) fn resync(&mut self, now: Instant) {
        self.own_deletions.clear();
        match self.netlink.links() {
            Ok(links) => {
                let known: Vec<u32> = self.links.keys().copied().collect();
                for index in known.iter().copied().filter(|&i| !is_absent(i)) {
                    match links.iter().find(|l| l.index == index) {
                        Some(l) => self.link_changed(now, l.clone(), true),
                        None => {
                            let gone = Link {
                                index,
                                name: String::new(),
                                mac: None,
                                up: false,
                                running: false,
                                flags: 0,
                            };
                            self.link_changed(now, gone, false);
                        }
                    }
                }
                // Missing interfaces that appeared meanwhile.
                for l in links.into_iter().filter(|l| !known.contains(&l.index)) {
                    self.link_changed(now, l, true);
                }
            }
            Err(e) => self.host_error("resync links", e),
        }
        for i in 0..self.routers.len() {
            let id = RouterId(i as u32);
            if self.mux.router(id).map(VirtualRouter::state) == Some(State::Master) {
                self.install(i);
            }
        }
    }
}

/// Forwards link and address notifications.
pub(super) async fn watch_loop(mut watcher: AsyncFd<NetWatcher>, tx: mpsc::Sender<Input>) {
    let mut events = Vec::new();
    loop {
        let Ok(mut guard) = watcher.readable_mut().await else {
            return;
        };
        while let Ok(result) = guard.try_io(|w| w.get_mut().recv(&mut events)) {
            if result.is_err() {
                continue;
            }
            for ev in events.drain(..) {
                if tx.send(Input::Net(ev)).await.is_err() {
                    return;
                }
            }
        }
    }
}
