//! A router without a configured source address advertises from its
//! interface's address. keepalived 2.2.7 (`keepalived_netlink.c`) puts an
//! IPv4 one in FAULT when its configured interface (a VMAC's base too)
//! loses its last IPv4 address (virtual addresses aside), and brings it
//! back (BACKUP) when one is added; when the address in use goes and
//! another is left, the router advertises from that one, in place. An
//! IPv6 one goes to FAULT when the link-local address it sends from goes
//! and no other is left, on its interface or, for a VMAC sending on its
//! own, on the VMAC (which loses it when it goes down: keepalived then
//! stays in FAULT); if another is left, it advertises from that one, in
//! place. An IPv6 VMAC keeps its copy of its base's link-local address
//! when the base loses it; when the base gets one again, that one replaces
//! the VMAC's, in place. A router with a configured source
//! (`unicast_src_ip`) is left as it is. A router in FAULT for want of an
//! address waits under the stand-in of its interface's name, as a router
//! that started without an address does, keeping its VMAC, and binds again
//! when an address comes (see `links.rs`).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use super::links::is_absent;
use super::{Driver, RouterIo};
use crate::linux::Address6Spec;
use crate::mux::RouterId;
use crate::wire::v3::is_link_local;

impl Driver {
    /// IPv4 address `addr` was deleted from interface `ifindex`.
    pub(super) fn source_deleted(&mut self, now: Instant, ifindex: u32, addr: Ipv4Addr) {
        if is_absent(ifindex) {
            return;
        }
        let losers: Vec<usize> = (0..self.routers.len())
            .filter(|&i| self.takes_source_from(i, ifindex))
            .collect();
        if losers.is_empty() || self.is_any_vip(addr) {
            return;
        }
        match self.other_address(ifindex) {
            Ok(Some(other)) => return self.move_source(now, &losers, addr, other),
            // Unknown: keep the routers as they are.
            Err(()) => return,
            Ok(None) => {}
        }
        for i in losers {
            self.wait_for_address(now, i);
        }
        self.drain(now);
        self.firewall.touch();
        self.close_unused();
    }

    /// IPv6 address `addr` was deleted from interface `ifindex`: the
    /// routers sending from it wait for another if none is left.
    pub(super) fn source6_deleted(&mut self, now: Instant, ifindex: u32, addr: Ipv6Addr) {
        if is_absent(ifindex) || !is_link_local(addr) {
            return;
        }
        let losers: Vec<usize> = (0..self.routers.len())
            .filter(|&i| self.sends_from6(i, ifindex, addr))
            .collect();
        if losers.is_empty() {
            return;
        }
        let Ok(left) = self.netlink.addresses6(Some(ifindex)) else {
            return; // unknown: kept as they are
        };
        // The last the kernel lists, as for IPv4.
        let other = (left.iter().rev())
            .map(|a| a.addr)
            .find(|&a| is_link_local(a) && !self.is_any_vip6(a));
        if let Some(other) = other {
            for i in losers {
                self.move_source6(now, i, other);
            }
            return self.drain(now);
        }
        for i in losers {
            self.wait_for_address(now, i);
        }
        self.drain(now);
        self.firewall.touch();
        self.close_unused();
    }

    /// IPv6 address `addr` was added to interface `ifindex`. If it is the
    /// interface's only link-local address, keepalived 2.2.7 gives it to
    /// the IPv6 routers on it that send from their VMAC: it replaces the
    /// VMAC's address and they advertise from it, in place. (A router
    /// waiting for an address binds in `links.rs`.)
    pub(super) fn source6_added(&mut self, now: Instant, ifindex: u32, addr: Ipv6Addr) {
        if is_absent(ifindex) || !is_link_local(addr) {
            return;
        }
        let movers: Vec<(usize, u32)> = (0..self.routers.len())
            .filter_map(|i| self.vmac_sending_on(i, ifindex).map(|v| (i, v)))
            .collect();
        if movers.is_empty() {
            return;
        }
        match self.netlink.addresses6(Some(ifindex)) {
            Ok(all) if all.iter().all(|a| !is_link_local(a.addr) || a.addr == addr) => {}
            _ => return,
        }
        for (i, vmac) in movers {
            self.move_vmac_source6(now, i, vmac, addr);
        }
        self.drain(now);
    }

    /// The VMAC router `i` (IPv6, source not configured) sends from, if
    /// it runs on base interface `ifindex`.
    fn vmac_sending_on(&self, i: usize, ifindex: u32) -> Option<u32> {
        let r = self.io(i)?;
        let configured = r.spec.config.ipv6.as_ref();
        if configured.is_some_and(|v6| !v6.link_local.is_unspecified()) {
            return None;
        }
        let running = self.mux.router(RouterId(i as u32))?;
        running.config().ipv6.as_ref()?;
        let on_base = r.recv_ifindex == ifindex && !r.spec.vmac.xmit_base;
        r.vmac.filter(|_| on_base && r.spec.vmac.ipvlan.is_none())
    }

    /// Router `i` advertises from `new` on its VMAC `vmac`, in place of
    /// the address it used.
    fn move_vmac_source6(&mut self, now: Instant, i: usize, vmac: u32, new: Ipv6Addr) {
        let running = self.mux.router(RouterId(i as u32));
        let Some(v6) = running.and_then(|r| r.config().ipv6.as_ref()) else {
            return;
        };
        let old = v6.link_local;
        if old == new {
            return;
        }
        let _ = (self.netlink).del_address6(&Address6Spec::new(vmac, old, 64));
        if let Err(e) = (self.netlink).add_vmac_source6(&Address6Spec::new(vmac, new, 64)) {
            return self.host_error("set VMAC source address", e);
        }
        self.move_source6(now, i, new);
    }

    /// True if router `i` is an IPv4 router whose configured interface is
    /// `ifindex` and that took its source address from it.
    fn takes_source_from(&self, i: usize, ifindex: u32) -> bool {
        let Some(r) = self.io(i) else { return false };
        let c = &r.spec.config;
        let own = c.primary_ip.is_unspecified() && c.unicast_src_ip.is_none() && c.ipv6.is_none();
        own && r.recv_ifindex == ifindex
    }

    /// True if router `i` is an IPv6 router that took its source address
    /// `addr` from interface `ifindex`: its own, or its VMAC's when it
    /// sends on the VMAC.
    fn sends_from6(&self, i: usize, ifindex: u32, addr: Ipv6Addr) -> bool {
        let Some(r) = self.io(i) else { return false };
        let configured = r.spec.config.ipv6.as_ref();
        if configured.is_some_and(|v6| !v6.link_local.is_unspecified()) {
            return false;
        }
        let running = self.mux.router(RouterId(i as u32));
        let Some(v6) = running.and_then(|m| m.config().ipv6.as_ref()) else {
            return false;
        };
        let on = match r.vmac {
            Some(vmac) if !r.spec.vmac.xmit_base => vmac,
            _ => r.recv_ifindex,
        };
        v6.link_local == addr && on == ifindex
    }

    /// The interface under router `r`'s VMAC, also while the router waits
    /// for an address under a stand-in (the VMAC stays on it).
    pub(super) fn vmac_base(&self, r: &RouterIo) -> u32 {
        if !is_absent(r.recv_ifindex) {
            return r.recv_ifindex;
        }
        let real = |l: &&crate::linux::Link| !is_absent(l.index) && l.name == r.spec.interface;
        self.links
            .values()
            .find(real)
            .map_or(r.recv_ifindex, |l| l.index)
    }

    /// True if `a` is an IPv6 virtual address of a router.
    fn is_any_vip6(&self, a: Ipv6Addr) -> bool {
        (self.routers.iter().flatten())
            .any(|r| r.addresses.iter().any(|v| v.addr() == IpAddr::V6(a)))
    }

    /// Router `i` advertises from link-local address `new` (in place).
    fn move_source6(&mut self, now: Instant, i: usize, new: Ipv6Addr) {
        let id = RouterId(i as u32);
        let Some(mut config) = self.mux.router(id).map(|r| r.config().clone()) else {
            return;
        };
        if let Some(v6) = config.ipv6.as_mut() {
            v6.link_local = new;
            let _ = self.mux.reconfigure_router(now, id, config);
        }
    }

    /// True if `a` is a virtual address of a router (one of ours going).
    fn is_any_vip(&self, a: Ipv4Addr) -> bool {
        (self.routers.iter().flatten())
            .any(|r| r.addresses.iter().any(|v| v.addr() == IpAddr::V4(a)))
    }

    /// The interface's IPv4 address that is no router's virtual address,
    /// the last the kernel lists (keepalived takes the last it learnt).
    fn other_address(&mut self, ifindex: u32) -> Result<Option<Ipv4Addr>, ()> {
        let left = self.netlink.addresses(Some(ifindex)).map_err(|_| ())?;
        Ok(left
            .iter()
            .rev()
            .map(|a| a.addr)
            .find(|&a| !self.is_any_vip(a)))
    }

    /// The routers of `losers` advertising from `old` advertise from `new`
    /// from now on (in place: no state change). A router whose source
    /// names it (unicast) would be another instance: it keeps its source.
    fn move_source(&mut self, now: Instant, losers: &[usize], old: Ipv4Addr, new: Ipv4Addr) {
        for &i in losers {
            let id = RouterId(i as u32);
            let Some(mut config) = self.mux.router(id).map(|r| r.config().clone()) else {
                continue;
            };
            if config.primary_ip != old {
                continue;
            }
            config.primary_ip = new;
            let _ = self.mux.reconfigure_router(now, id, config);
        }
        self.drain(now);
    }

    /// Router `i` goes to FAULT (a master's priority-0 advert still leaves
    /// on its interface) and waits for an address under the stand-in.
    fn wait_for_address(&mut self, now: Instant, i: usize) {
        let Some(name) = self.io(i).map(|r| r.spec.interface.clone()) else {
            return;
        };
        let stand_in = self.absent_link(&name);
        if self.mux.rebind(RouterId(i as u32), stand_in.index).is_err() {
            return;
        }
        self.links.entry(stand_in.index).or_insert(stand_in.clone());
        if let Some(r) = self.routers.get_mut(i).and_then(Option::as_mut) {
            r.recv_ifindex = stand_in.index;
        }
        // Others already waiting there are in FAULT: no change for them.
        self.mux.handle_interface(now, stand_in.index, false);
        // Its priority-0 advert leaves by the socket it used so far.
        self.drain(now);
        if let Some(r) = self.routers.get_mut(i).and_then(Option::as_mut) {
            r.send_ifindex = stand_in.index;
        }
    }
}
