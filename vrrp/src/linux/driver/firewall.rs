//! keepalived's nftables drop rules for the driver's masters: a master
//! that does not accept traffic for its virtual addresses (no Accept_Mode,
//! not the address owner) has them in the [`Firewall`]'s sets, as
//! keepalived 2.2.7 does under `vrrp_strict` or `no_accept`; and every
//! VMAC is in its map for as long as it exists.

use super::{Channel, Driver};
use crate::event::State;
use crate::linux::{Firewall, Guarded, NftConfig, Vmac};
use crate::mux::RouterId;

/// The driver's firewall, if its [`Setup`](super::Setup) has one, and
/// whether its sets may be out of date.
#[derive(Debug, Default)]
pub(super) struct FirewallState {
    firewall: Option<Firewall>,
    dirty: bool,
}

impl FirewallState {
    /// Some master may have gained or lost addresses.
    pub(super) fn touch(&mut self) {
        self.dirty = true;
    }

    /// Takes the firewall configuration of a (new) setup. A changed one
    /// replaces the old firewall, whose tables go with it.
    pub(super) fn configure(&mut self, config: Option<&NftConfig>) {
        if self.firewall.as_ref().map(Firewall::config) != config {
            self.firewall = config.cloned().map(Firewall::new);
        }
        self.dirty = true;
    }
}

impl Driver {
    /// Brings the sets in line with the masters, if anything changed.
    pub(super) fn sync_firewall(&mut self) {
        if !std::mem::take(&mut self.firewall.dirty) || self.firewall.firewall.is_none() {
            return;
        }
        let (wanted, vmacs) = (self.guarded(), self.vmacs());
        let Some(fw) = self.firewall.firewall.as_mut() else {
            return;
        };
        if let Err(e) = fw.sync(&wanted, &vmacs) {
            self.host_error("update nftables", e);
        }
    }

    /// Deletes the tables (at stop).
    pub(super) fn remove_firewall(&mut self) {
        let Some(fw) = self.firewall.firewall.as_mut() else {
            return;
        };
        if let Err(e) = fw.remove() {
            self.host_error("delete nftables tables", e);
        }
    }

    /// Every address of a master without Accept_Mode.
    fn guarded(&self) -> Vec<Guarded> {
        let mut out = Vec::new();
        for (i, r) in self.routers.iter().enumerate() {
            let Some(r) = r else { continue };
            let master = self.mux.router(RouterId(i as u32)).map(|v| v.state());
            if master != Some(State::Master) || r.spec.config.accepts_vip_traffic() {
                continue;
            }
            out.extend(r.addresses.iter().map(|a| Guarded {
                addr: a.addr(),
                ifindex: a.ifindex(),
            }));
        }
        out
    }

    /// Every VMAC with the interface under it, in the table of its
    /// router's family and, as keepalived does, of the other family too
    /// when the router has excluded addresses of that family.
    fn vmacs(&self) -> Vec<Vmac> {
        let mut out = Vec::new();
        for r in self.routers.iter().flatten() {
            let Some(vmac) = r.vmac else { continue };
            if r.spec.vmac.ipvlan.is_some() {
                continue; // keepalived: no IGMP rule for an ipvlan
            }
            let ipv6 = matches!(r.channel, Channel::V6(_));
            let other = r.spec.excluded.iter().any(|a| a.addr.is_ipv6() != ipv6);
            let base = self.vmac_base(r);
            out.push(Vmac { vmac, base, ipv6 });
            if other {
                out.push(Vmac {
                    vmac,
                    base,
                    ipv6: !ipv6,
                });
            }
        }
        // `use_vmac_addr`'s, in the table of their addresses' family.
        for v in self.running_addr_vmacs() {
            let vmac = Vmac {
                vmac: v.index,
                base: v.base,
                ipv6: v.ipv6,
            };
            if !out.contains(&vmac) {
                out.push(vmac);
            }
        }
        out
    }
}
