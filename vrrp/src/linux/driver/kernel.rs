//! Kernel state of the routers: virtual addresses, routes, gratuitous
//! ARPs, VMAC interfaces.

use std::net::Ipv4Addr;

use super::{Driver, DriverEvent, VirtualAddress};
use crate::event::State;
use crate::linux::{AddressSpec, LinuxError};
use crate::mux::RouterId;
use crate::router::VirtualRouter;

// errno values that mean "already done" for idempotent netlink requests.
use libc::{EADDRNOTAVAIL, EEXIST, ESRCH};

impl Driver {
    pub(super) fn resolve_address(
        &mut self,
        a: &VirtualAddress,
        default_ifindex: u32,
    ) -> Result<AddressSpec, LinuxError> {
        let ifindex = match &a.dev {
            Some(dev) => self.netlink.link(dev)?.index,
            None => default_ifindex,
        };
        Ok(AddressSpec {
            ifindex,
            addr: a.addr,
            prefix_len: a.prefix_len,
            broadcast: a.broadcast,
            label: a.label.clone(),
            scope: a.scope,
        })
    }

    pub(super) fn install(&mut self, i: usize) {
        let Some(r) = self.routers.get(i) else { return };
        let (addresses, routes) = (r.addresses.clone(), r.routes.clone());
        for a in &addresses {
            match self.netlink.add_address(a) {
                Err(e) if e.errno() != Some(EEXIST) => self.host_error("add address", e),
                _ => {}
            }
        }
        for route in &routes {
            match self.netlink.add_route(route) {
                Err(e) if e.errno() != Some(EEXIST) => self.host_error("add route", e),
                _ => {}
            }
        }
    }

    pub(super) fn uninstall(&mut self, i: usize) {
        let Some(r) = self.routers.get(i) else { return };
        let (addresses, routes) = (r.addresses.clone(), r.routes.clone());
        for route in &routes {
            match self.netlink.del_route(route) {
                Err(e) if e.errno() != Some(ESRCH) => self.host_error("delete route", e),
                _ => {}
            }
        }
        for a in &addresses {
            match self.netlink.del_address(a) {
                Err(e) if e.errno() != Some(EADDRNOTAVAIL) => self.host_error("delete address", e),
                _ => {}
            }
        }
    }

    pub(super) fn send_garps(&mut self, i: usize, repeat: u32) {
        let Some(r) = self.routers.get(i) else { return };
        let mut failed = None;
        for a in &r.addresses {
            // A GARP goes out of the interface holding the address; its MAC
            // is the router's (VMAC) when that is where the address lives.
            let Some(sock) = self
                .garp
                .get(&a.ifindex)
                .or_else(|| self.garp.get(&r.send_ifindex))
            else {
                continue;
            };
            for _ in 0..repeat.max(1) {
                match sock.send(r.mac, a.addr) {
                    Ok(()) => self.counters.garps_sent += 1,
                    Err(e) => failed = Some(e),
                }
            }
        }
        if let Some(e) = failed {
            self.host_error(
                "send gratuitous ARP",
                LinuxError::Io {
                    op: "send gratuitous ARP",
                    source: e,
                },
            );
        }
    }

    /// Puts back a virtual address someone else deleted from a master.
    pub(super) fn restore_if_master(&mut self, ifindex: u32, addr: Ipv4Addr) {
        for i in 0..self.routers.len() {
            let id = RouterId(i as u32);
            if self.mux.router(id).map(VirtualRouter::state) != Some(State::Master) {
                continue;
            }
            let Some(spec) = self.routers[i]
                .addresses
                .iter()
                .find(|a| a.ifindex == ifindex && a.addr == addr)
                .cloned()
            else {
                continue;
            };
            match self.netlink.add_address(&spec) {
                Ok(()) => {
                    self.counters.addresses_restored += 1;
                    self.emit(DriverEvent::AddressRestored { id, addr });
                }
                Err(e) if e.errno() == Some(EEXIST) => {}
                Err(e) => self.host_error("restore address", e),
            }
        }
    }

    pub(super) fn remove_vmacs(&mut self) {
        for index in std::mem::take(&mut self.vmacs) {
            let _ = self.netlink.del_link(index);
        }
    }
}
