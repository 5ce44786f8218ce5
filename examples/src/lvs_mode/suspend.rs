//! `ha_suspend`: the checks of a service run only while its address is
//! on this host (keepalived 2.2.7 `check_api.c` `update_checker_activity`,
//! which follows netlink address events; here the host's addresses are
//! read every second). One switch per service address, shared with the
//! checkers it gates ([`healthcheck::checkers::Suspendable`]).

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The switches, and the host's addresses as last read.
#[derive(Debug, Clone, Default)]
pub struct HaSuspend {
    gates: HashMap<IpAddr, Arc<AtomicBool>>,
    /// None until the addresses were read once: checks run meanwhile.
    local: Option<HashSet<IpAddr>>,
}

impl HaSuspend {
    /// The switch of the checks of a service at `addr` (made on first
    /// use, on if `addr` is known to be local or nothing is known yet).
    pub fn gate(&mut self, addr: IpAddr) -> Arc<AtomicBool> {
        let on = self.local.as_ref().is_none_or(|l| l.contains(&addr));
        self.gates
            .entry(addr)
            .or_insert_with(|| Arc::new(AtomicBool::new(on)))
            .clone()
    }

    /// The switch made for `addr`, if any.
    pub fn switch(&self, addr: IpAddr) -> Option<Arc<AtomicBool>> {
        self.gates.get(&addr).cloned()
    }

    /// Whether the checks of a service at `addr` run.
    pub fn is_active(&self, addr: IpAddr) -> bool {
        self.gates
            .get(&addr)
            .is_none_or(|g| g.load(Ordering::Relaxed))
    }

    /// Keeps only the switches of `addrs` (after a reload).
    pub fn retain(&mut self, addrs: &HashSet<IpAddr>) {
        self.gates.retain(|a, _| addrs.contains(a));
    }

    /// Whether any service is under `ha_suspend`.
    pub fn is_used(&self) -> bool {
        !self.gates.is_empty()
    }

    /// Sets the host's addresses; returns the service addresses whose
    /// checks changed, with their new state (true: running).
    pub fn set_local(&mut self, local: HashSet<IpAddr>) -> Vec<(IpAddr, bool)> {
        let mut changed = Vec::new();
        for (addr, gate) in &self.gates {
            let on = local.contains(addr);
            if gate.swap(on, Ordering::Relaxed) != on {
                changed.push((*addr, on));
            }
        }
        changed.sort();
        self.local = Some(local);
        changed
    }
}

/// The host's addresses (IPv4 and IPv6) through rtnetlink; None if they
/// cannot be read.
pub fn local_addresses(nl: &mut vrrp::linux::Netlink) -> Option<HashSet<IpAddr>> {
    let v4 = nl.addresses(None).ok()?;
    let v6 = nl.addresses6(None).ok()?;
    let v4 = v4.into_iter().map(|a| IpAddr::V4(a.addr));
    Some(
        v4.chain(v6.into_iter().map(|a| IpAddr::V6(a.addr)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn switches_follow_the_host_addresses() {
        let mut h = HaSuspend::default();
        let a = h.gate(ip("10.0.0.1"));
        let b = h.gate(ip("fd00::1"));
        // Nothing known yet: the checks run.
        assert!(a.load(Ordering::Relaxed) && h.is_active(ip("fd00::1")));
        let changed = h.set_local([ip("fd00::1")].into());
        assert_eq!(changed, [(ip("10.0.0.1"), false)]);
        assert!(!a.load(Ordering::Relaxed) && b.load(Ordering::Relaxed));
        assert_eq!(h.set_local([ip("fd00::1")].into()), []);
        let changed = h.set_local([ip("10.0.0.1")].into());
        assert_eq!(changed, [(ip("10.0.0.1"), true), (ip("fd00::1"), false)]);
        // A switch made later starts from what is known.
        assert!(!h.gate(ip("10.0.0.9")).load(Ordering::Relaxed));
        h.retain(&[ip("10.0.0.1")].into());
        assert!(h.is_used() && h.is_active(ip("fd00::1")));
    }
}
