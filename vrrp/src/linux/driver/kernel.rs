//! Kernel state of the routers: virtual addresses, routes, gratuitous
//! ARPs and unsolicited Neighbour Advertisements, VMAC interfaces.

use std::net::IpAddr;

use super::{Driver, VirtualAddress};
use crate::linux::{Address6Spec, AddressOptions, AddressSpec, GarpSocket, LinuxError, RouteSpec};

// errno values that mean "already done" for idempotent netlink requests
// (ENODEV: a removal from an interface deleted meanwhile, which took its
// addresses and routes with it).
use libc::{EADDRNOTAVAIL, EEXIST, ENODEV, ESRCH};

/// A virtual address resolved against its interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Vip {
    V4(AddressSpec, AddressOptions),
    V6(Address6Spec, AddressOptions),
}

impl Vip {
    pub(super) fn addr(&self) -> IpAddr {
        match self {
            Vip::V4(a, _) => a.addr.into(),
            Vip::V6(a, _) => a.addr.into(),
        }
    }

    pub(super) fn ifindex(&self) -> u32 {
        match self {
            Vip::V4(a, _) => a.ifindex,
            Vip::V6(a, _) => a.ifindex,
        }
    }

    /// One gratuitous ARP, or for IPv6 one unsolicited Neighbour
    /// Advertisement (Router flag set if the interface forwards IPv6, as
    /// keepalived does).
    pub(super) fn announce(&self, sock: &GarpSocket, mac: [u8; 6]) -> std::io::Result<()> {
        match self {
            Vip::V4(a, _) => sock.send(mac, a.addr),
            Vip::V6(a, _) => sock.send_na(mac, a.addr, forwards_ipv6(a.ifindex)),
        }
    }
}

/// True if IPv6 forwarding is on for interface `ifindex`
/// (`/proc/sys/net/ipv6/conf/IF/forwarding`).
fn forwards_ipv6(ifindex: u32) -> bool {
    let Ok(name) = nix::net::if_::if_indextoname(ifindex) else {
        return false;
    };
    let path = format!(
        "/proc/sys/net/ipv6/conf/{}/forwarding",
        name.to_string_lossy()
    );
    std::fs::read_to_string(path).is_ok_and(|v| v.trim() != "0")
}

impl Driver {
    pub(super) fn resolve_address(
        &mut self,
        a: &VirtualAddress,
        default_ifindex: u32,
    ) -> Result<Vip, LinuxError> {
        let ifindex = match &a.dev {
            Some(dev) => self.netlink.link(dev)?.index,
            None => default_ifindex,
        };
        Ok(match a.addr {
            IpAddr::V4(addr) => Vip::V4(
                AddressSpec {
                    ifindex,
                    addr,
                    prefix_len: a.prefix_len,
                    broadcast: a.broadcast,
                    label: a.label.clone(),
                    scope: a.scope,
                },
                a.options,
            ),
            IpAddr::V6(addr) => Vip::V6(Address6Spec::new(ifindex, addr, a.prefix_len), a.options),
        })
    }

    pub(super) fn install(&mut self, i: usize) {
        let Some(r) = self.io(i) else { return };
        let (addresses, routes) = (r.addresses.clone(), r.routes.clone());
        let rules = r.spec.rules.clone();
        self.firewall.touch();
        self.add_addresses(&addresses);
        self.add_routes(&routes);
        self.add_rules(&rules);
    }

    pub(super) fn uninstall(&mut self, i: usize) {
        let Some(r) = self.io(i) else { return };
        let (addresses, routes) = (r.addresses.clone(), r.routes.clone());
        let rules = r.spec.rules.clone();
        self.del_rules(&rules);
        self.del_routes(&routes);
        self.del_addresses(&addresses);
        self.firewall.touch();
    }

    pub(super) fn add_addresses(&mut self, addresses: &[Vip]) {
        for a in addresses {
            let result = match a {
                Vip::V4(a, o) => self.netlink.add_address_with(a, o),
                Vip::V6(a, o) => self.netlink.add_address6_with(a, o),
            };
            match result {
                Err(e) if e.errno() != Some(EEXIST) => self.host_error("add address", e),
                _ => {}
            }
        }
    }

    pub(super) fn del_addresses(&mut self, addresses: &[Vip]) {
        for a in addresses {
            let result = match a {
                Vip::V4(a, _) => self.netlink.del_address(a),
                Vip::V6(a, _) => self.netlink.del_address6(a),
            };
            match result {
                Ok(()) => self.deleted_own_address(a.ifindex(), a.addr()),
                Err(e) if !matches!(e.errno(), Some(EADDRNOTAVAIL | ENODEV)) => {
                    self.host_error("delete address", e)
                }
                Err(_) => {}
            }
        }
    }

    pub(super) fn add_routes(&mut self, routes: &[RouteSpec]) {
        for route in routes {
            match self.netlink.add_route(route) {
                Err(e) if e.errno() != Some(EEXIST) => self.host_error("add route", e),
                _ => {}
            }
        }
    }

    pub(super) fn del_routes(&mut self, routes: &[RouteSpec]) {
        for route in routes {
            match self.netlink.del_route(route) {
                Ok(()) => self.deleted_own_route(route),
                Err(e) if !matches!(e.errno(), Some(ESRCH | ENODEV)) => {
                    self.host_error("delete route", e)
                }
                Err(_) => {}
            }
        }
    }

    /// Gratuitous ARPs (NAs for IPv6) for all of router `i`'s addresses.
    pub(super) fn send_garps(&mut self, i: usize, repeat: u32) {
        self.send_garps_for(i, None, repeat);
    }

    /// Deletes the VMAC interfaces of every router (address VMACs too).
    pub(super) fn remove_vmacs(&mut self) {
        let mut vmacs: Vec<u32> = (self.routers.iter().flatten())
            .flat_map(|r| {
                r.vmac
                    .into_iter()
                    .chain(r.addr_vmacs.iter().map(|v| v.index))
            })
            .collect();
        vmacs.sort_unstable();
        vmacs.dedup();
        for index in vmacs {
            let _ = self.netlink.del_link(index);
        }
    }
}
