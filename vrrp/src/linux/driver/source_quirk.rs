//! keepalived 2.2.7's `track_src_ip`, which acts for one source only.
//!
//! When an address goes, its netlink reflector checks that it is the
//! router's configured source, then compares it again, for "is tracking
//! the source", with the first bytes of the source's `sockaddr` (family 2
//! and port 0) instead of the address: only IPv4 2.0.0.0 passes. So a
//! router with `track_src_ip` and source 2.0.0.0 goes to FAULT when
//! 2.0.0.0 goes as the last IPv4 address of its interface. The source it
//! then forgets has family 0, so no address ever passes the comparison
//! again: the router stays in FAULT until the next reload (here: the next
//! reconfiguration). Every other source is not tracked at all.
//!
//! Here such a router (named in [`Setup::track_src_ip_quirk`]) takes a
//! failed tracked object (FAULT, a master's priority-0 advert) that only
//! a reconfiguration clears.
//!
//! [`Setup::track_src_ip_quirk`]: super::Setup::track_src_ip_quirk

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::Instant;

use super::links::is_absent;
use super::Driver;

/// The one source keepalived 2.2.7's `track_src_ip` acts on.
pub const QUIRK_SOURCE: Ipv4Addr = Ipv4Addr::new(2, 0, 0, 0);

/// The routers of the quirk and those it left in FAULT.
#[derive(Debug, Default)]
pub(super) struct SourceQuirk {
    /// Routers (by name) with `track_src_ip` and source 2.0.0.0.
    names: HashSet<String>,
    /// Those in FAULT for it, until the next reconfiguration.
    stuck: HashSet<Arc<str>>,
}

impl SourceQuirk {
    /// A new setup's routers of the quirk; returns the routers it had left
    /// in FAULT, which a reload brings back.
    pub(super) fn configure(&mut self, names: &[String]) -> Vec<Arc<str>> {
        self.names = names.iter().cloned().collect();
        self.stuck.drain().collect()
    }

    /// True if router `name` is in FAULT for the quirk.
    pub(super) fn is_stuck(&self, name: &str) -> bool {
        self.stuck.contains(name)
    }
}

impl Driver {
    /// IPv4 address `addr` was deleted from interface `ifindex`: the
    /// routers of the quirk whose source it was, on that interface, go to
    /// FAULT for good if it was the interface's last IPv4 address.
    pub(super) fn quirk_source_deleted(&mut self, now: Instant, ifindex: u32, addr: Ipv4Addr) {
        if addr != QUIRK_SOURCE || self.source_quirk.names.is_empty() || is_absent(ifindex) {
            return;
        }
        let Some(link) = self.links.get(&ifindex).map(|l| l.name.clone()) else {
            return;
        };
        let hit: Vec<usize> = (0..self.routers.len())
            .filter(|&i| {
                self.io(i).is_some_and(|r| {
                    let c = &r.spec.config;
                    let source = c.primary_ip == addr || c.unicast_src_ip == Some(addr);
                    source && r.spec.interface == link && self.source_quirk.names.contains(&*r.name)
                })
            })
            .collect();
        if hit.is_empty() || self.has_other_ipv4(ifindex, addr) {
            return;
        }
        for i in hit {
            if let Some(name) = self.io(i).map(|r| r.name.clone()) {
                self.source_quirk.stuck.insert(name);
            }
            self.apply_tracking(now, i);
        }
        self.drain(now);
    }

    /// The routers `names` (left in FAULT by the quirk before a
    /// reconfiguration) take their tracking again.
    pub(super) fn quirk_released(&mut self, now: Instant, names: &[Arc<str>]) {
        for i in 0..self.routers.len() {
            if self.io(i).is_some_and(|r| names.contains(&r.name)) {
                self.apply_tracking(now, i);
            }
        }
        self.drain(now);
    }

    /// True if interface `ifindex` has an IPv4 address other than `gone`
    /// and the routers' virtual addresses (true if unknown: then nothing
    /// is done).
    fn has_other_ipv4(&mut self, ifindex: u32, gone: Ipv4Addr) -> bool {
        let Ok(left) = self.netlink.addresses(Some(ifindex)) else {
            return true;
        };
        let vip = |a: Ipv4Addr| {
            (self.routers.iter().flatten())
                .any(|r| r.addresses.iter().any(|v| v.addr() == IpAddr::V4(a)))
        };
        left.iter().any(|a| a.addr != gone && !vip(a.addr))
    }
}
