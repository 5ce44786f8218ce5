//! Link and address changes: the watcher task and what the driver does
//! with its reports.

use std::time::Instant;

use tokio::io::unix::AsyncFd;
use tokio::sync::mpsc;

use super::handle::Input;
use super::{Driver, DriverEvent};
use crate::event::State;
use crate::linux::{Link, NetEvent, NetWatcher};
use crate::mux::RouterId;
use crate::router::VirtualRouter;

impl Driver {
    pub(super) fn handle_net(&mut self, now: Instant, ev: NetEvent) {
        match ev {
            NetEvent::Link(link) => self.link_changed(now, link, true),
            NetEvent::LinkRemoved(link) => self.link_changed(now, link, false),
            NetEvent::AddressRemoved(a) => self.restore_if_master(a.ifindex, a.addr.into()),
            NetEvent::Address6Removed(a) => self.restore_if_master(a.ifindex, a.addr.into()),
            NetEvent::Overrun => self.resync(now),
            _ => {}
        }
    }

    pub(super) fn link_changed(&mut self, now: Instant, link: Link, exists: bool) {
        let Some(last) = self.links.get_mut(&link.index) else {
            return;
        };
        let mut link = link;
        if !exists {
            // A deleted link is reported down, under the name we knew.
            link.up = false;
            link.running = false;
            link.name.clone_from(&last.name);
        }
        let up = link.is_operational();
        if last.is_operational() == up {
            return;
        }
        *last = link.clone();
        self.mux.handle_interface(now, link.index, up);
        self.emit(DriverEvent::Interface { link });
    }

    /// After lost notifications: re-read link states, re-install masters'
    /// addresses.
    pub(super) fn resync(&mut self, now: Instant) {
        match self.netlink.links() {
            Ok(links) => {
                let known: Vec<u32> = self.links.keys().copied().collect();
                for index in known {
                    match links.iter().find(|l| l.index == index) {
                        Some(l) => self.link_changed(now, l.clone(), true),
                        None => {
                            let gone = Link {
                                index,
                                name: String::new(),
                                mac: None,
                                up: false,
                                running: false,
                            };
                            self.link_changed(now, gone, false);
                        }
                    }
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
