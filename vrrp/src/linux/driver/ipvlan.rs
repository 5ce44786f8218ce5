//! A router's ipvlan (`use_ipvlan`), made where a macvlan VMAC would be:
//! see [`crate::linux::IpvlanOptions`].

use std::net::{IpAddr, Ipv6Addr};

use super::{Driver, DriverError};
use crate::linux::vmac::{self, NameChoice};
use crate::linux::{Address6Spec, AddressSpec, IpvlanOptions, Link, Scope, VmacOptions};
use crate::wire::v3::is_link_local;

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
        let added = match ipvlan.address {
            Some((IpAddr::V4(addr), prefix_len)) => self.netlink.add_address(&AddressSpec {
                prefix_len,
                scope: Scope::Global,
                ..AddressSpec::host(made.index, addr)
            }),
            // keepalived adds it `nodad` and deprecated, as a VMAC's
            // source.
            Some((IpAddr::V6(addr), prefix_len)) => {
                let spec = Address6Spec::new(made.index, addr, prefix_len);
                self.netlink.add_vmac_source6(&spec)
            }
            None => Ok(()),
        };
        match added {
            Err(e) if e.errno() != Some(libc::EEXIST) => Err(e.into()),
            _ => Ok(made),
        }
    }

    /// The advert source of an IPv6 router on `ipvlan` that has none
    /// configured: the link-local address the kernel gave the ipvlan
    /// when it came up (keepalived 2.2.7 sends from it; it differs from
    /// the interface's, the kernel mixing the ipvlan's number into it).
    /// `None` if it has none.
    pub(super) fn ipvlan_link_local(
        &mut self,
        ipvlan: &Link,
    ) -> Result<Option<Ipv6Addr>, DriverError> {
        let own = self.netlink.addresses6(Some(ipvlan.index))?;
        Ok(own.iter().map(|a| a.addr).find(|a| is_link_local(*a)))
    }

    fn ipvlan_in_use(&self, ipvlan: &Link, link: &Link, staged: &[u32]) -> bool {
        let running = (self.routers.iter().flatten())
            .any(|r| r.vmac == Some(ipvlan.index) && r.recv_ifindex == link.index);
        running || staged.contains(&ipvlan.index)
    }
}
