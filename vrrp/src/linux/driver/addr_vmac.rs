//! `use_vmac_addr`: the VMACs a router's addresses go on when they are
//! not on its own interface (or VMAC), as keepalived 2.2.7 makes them
//! (see [`vmac`](crate::linux::vmac) for which addresses and the names).
//!
//! One VMAC per (interface, MAC): the addresses of a family on one
//! interface share it, and so do routers with the same VRID. As
//! keepalived leaves them, an IPv4 one has keepalived's VMAC sysctls
//! (see [`vmac_sysctl`](super::vmac_sysctl))
//! and no IPv6; an IPv6 one carries its base interface's
//! link-local address (`nodad`, deprecated), as keepalived gives it. They
//! are deleted with the last router using them, and at stop.

use std::collections::HashSet;
use std::net::Ipv6Addr;

use super::reconfigure::{is_ipv6, Staged};
use super::{Driver, DriverError, RouterSpec, VirtualAddress};
use crate::linux::{vmac, vmac_address, vmac_address6, Address6Spec, Link, LinuxError};
use crate::wire::v3::is_link_local;

/// A VMAC holding addresses of a router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct AddrVmac {
    /// The macvlan.
    pub(super) index: u32,
    /// The interface under it.
    pub(super) base: u32,
    /// Its MAC.
    pub(super) mac: [u8; 6],
    /// For IPv6 addresses.
    pub(super) ipv6: bool,
}

impl Driver {
    /// The VMAC `use_vmac_addr` puts address `a` of `spec` on, made if
    /// need be; `None` if the address goes where it says.
    pub(super) fn address_vmac(
        &mut self,
        spec: &RouterSpec,
        a: &VirtualAddress,
        staged: &mut Staged,
    ) -> Result<Option<AddrVmac>, DriverError> {
        let (interface, dev) = (spec.interface.as_str(), a.dev.as_deref());
        if !vmac::wants_addr_vmac(&spec.vmac, interface, is_ipv6(spec), a.addr, dev) {
            return Ok(None);
        }
        let base = self.netlink.link(dev.unwrap_or(interface))?;
        let (ipv6, vrid) = (a.addr.is_ipv6(), spec.config.vrid);
        let mac = match spec.vmac.mac {
            Some(mac) => mac,
            None if ipv6 => vmac_address6(vrid),
            None => vmac_address(vrid),
        };
        let same = |v: &&AddrVmac| v.base == base.index && v.mac == mac;
        let running = self.running_addr_vmacs();
        if let Some(v) = staged.addr_vmacs.iter().chain(&running).find(same) {
            return Ok(Some(*v));
        }
        let made = self.make_addr_vmac(spec, &base, mac, ipv6, staged)?;
        let v = AddrVmac {
            index: made.index,
            base: base.index,
            mac,
            ipv6,
        };
        staged.addr_vmacs.push(v);
        Ok(Some(v))
    }

    /// Every address VMAC of the running routers.
    pub(super) fn running_addr_vmacs(&self) -> Vec<AddrVmac> {
        let routers = self.routers.iter().flatten();
        routers.flat_map(|r| r.addr_vmacs.iter().copied()).collect()
    }

    /// Deletes the address VMACs in `before` that no running router uses
    /// any more.
    pub(super) fn prune_addr_vmacs(&mut self, before: &[AddrVmac]) {
        let used: HashSet<u32> = self.running_addr_vmacs().iter().map(|v| v.index).collect();
        let mut gone: Vec<u32> = before.iter().map(|v| v.index).collect();
        gone.sort_unstable();
        gone.dedup();
        for index in gone.into_iter().filter(|i| !used.contains(i)) {
            if let Err(e) = self.netlink.del_link(index) {
                self.host_error("delete VMAC", e);
            }
        }
    }

    /// Makes the VMAC under the first free name: a name taken by a VMAC in
    /// use is skipped, a leftover with the same MAC replaced, any other
    /// interface left alone.
    fn make_addr_vmac(
        &mut self,
        spec: &RouterSpec,
        base: &Link,
        mac: [u8; 6],
        ipv6: bool,
        staged: &mut Staged,
    ) -> Result<Link, DriverError> {
        let in_use: HashSet<u32> = (self.routers.iter().flatten())
            .flat_map(|r| {
                r.vmac
                    .into_iter()
                    .chain(r.addr_vmacs.iter().map(|v| v.index))
            })
            .chain(staged.vmacs.iter().copied())
            .collect();
        for name in vmac::addr_candidates(&spec.vmac, spec.config.vrid, ipv6) {
            match self.netlink.link(&name) {
                Err(LinuxError::NoSuchInterface(_)) => {}
                Err(e) => return Err(e.into()),
                Ok(l) if in_use.contains(&l.index) || l.mac != Some(mac) => continue,
                Ok(leftover) => self.netlink.del_link(leftover.index)?,
            }
            let made = self.netlink.add_macvlan(base.index, &name, mac)?;
            staged.vmacs.push(made.index);
            self.set_up_addr_vmac(&made, base, ipv6)?;
            return Ok(made);
        }
        let source = std::io::Error::from(std::io::ErrorKind::AlreadyExists);
        Err(LinuxError::Io {
            op: "name an address VMAC",
            source,
        }
        .into())
    }

    /// keepalived's settings of a new address VMAC (see the module
    /// documentation).
    fn set_up_addr_vmac(
        &mut self,
        made: &Link,
        base: &Link,
        ipv6: bool,
    ) -> Result<(), DriverError> {
        write_conf6(&made.name, "disable_ipv6", if ipv6 { "0" } else { "1" });
        if !ipv6 {
            self.set_vmac_sysctls(made, base);
            return Ok(());
        }
        let own = self.netlink.addresses6(Some(base.index))?;
        let source = (own.iter().map(|a| a.addr).find(|a| is_link_local(*a)))
            .or_else(|| base.mac.map(eui64_link_local));
        let Some(source) = source else { return Ok(()) };
        match self
            .netlink
            .add_vmac_source6(&Address6Spec::new(made.index, source, 64))
        {
            Err(e) if e.errno() != Some(libc::EEXIST) => Err(e.into()),
            _ => Ok(()),
        }
    }
}

/// Writes an IPv6 interface sysctl (none on a kernel without IPv6).
fn write_conf6(ifname: &str, key: &str, value: &str) {
    if !ifname.contains('/') {
        let _ = std::fs::write(format!("/proc/sys/net/ipv6/conf/{ifname}/{key}"), value);
    }
}

/// The modified EUI-64 link-local address of `mac` (RFC 4291 appendix A).
fn eui64_link_local(mac: [u8; 6]) -> Ipv6Addr {
    let [a, b, c, d, e, f] = mac;
    let w = |x: u8, y: u8| u16::from(x) << 8 | u16::from(y);
    Ipv6Addr::new(
        0xfe80,
        0,
        0,
        0,
        w(a ^ 2, b),
        w(c, 0xff),
        w(0xfe, d),
        w(e, f),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eui64_of_a_mac() {
        let want: Ipv6Addr = "fe80::8cbd:8fff:febb:f64b"
            .parse()
            .unwrap_or(Ipv6Addr::UNSPECIFIED);
        assert_eq!(eui64_link_local([0x8e, 0xbd, 0x8f, 0xbb, 0xf6, 0x4b]), want);
    }
}
