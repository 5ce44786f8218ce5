//! A router's ipvlan (`use_ipvlan`), made where a macvlan VMAC would be:
//! see [`crate::linux::IpvlanOptions`].

use std::net::IpAddr;

use super::{Driver, DriverError};
use crate::linux::vmac::{self, NameChoice};
use crate::linux::{AddressSpec, IpvlanOptions, Link, Scope, VmacOptions};

impl Driver {
    /// The router's ipvlan on `link`: a running router's is reused, a
    /// leftover one of a default name replaced; a named one that exists
    /// and is no router's is left alone for the default name, as
    /// keepalived leaves an interface that is not its ipvlan. The
    /// address of `use_ipvlan` goes on it.
    pub(super) fn prepare_ipvlan(
        &mut self,
        link: &Link,
        vrid: u8,
        options: &VmacOptions,
        ipvlan: &IpvlanOptions,
        staged: &mut Vec<u32>,
    ) -> Result<Link, DriverError> {
        let mut name = None;
        for choice in vmac::candidates(options, vrid, false) {
            let Ok(existing) = self.netlink.link(choice.name()) else {
                name = Some(choice.name().to_owned());
                break;
            };
            if self.ipvlan_in_use(&existing, link, staged) {
                return Ok(existing);
            }
            if let NameChoice::Default(n) = choice {
                self.netlink.del_link(existing.index)?;
                name = Some(n);
                break;
            }
        }
        let name = name.unwrap_or_else(|| format!("vrrp.{vrid}"));
        let made = self.netlink.add_ipvlan(link.index, &name, ipvlan.mode)?;
        staged.push(made.index);
        if let Some((IpAddr::V4(addr), prefix_len)) = ipvlan.address {
            let spec = AddressSpec {
                prefix_len,
                scope: Scope::Global,
                ..AddressSpec::host(made.index, addr)
            };
            match self.netlink.add_address(&spec) {
                Err(e) if e.errno() != Some(libc::EEXIST) => return Err(e.into()),
                _ => {}
            }
        }
        Ok(made)
    }

    fn ipvlan_in_use(&self, ipvlan: &Link, link: &Link, staged: &[u32]) -> bool {
        let running = (self.routers.iter().flatten())
            .any(|r| r.vmac == Some(ipvlan.index) && r.recv_ifindex == link.index);
        running || staged.contains(&ipvlan.index)
    }
}
