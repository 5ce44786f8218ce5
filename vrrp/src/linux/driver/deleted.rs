//! Virtual addresses, routes and rules deleted behind the driver's back.
//!
//! keepalived 2.2.7's netlink reflector sends a master to BACKUP
//! (`set_vrrp_backup`: priority-0 advert, everything removed, back to
//! MASTER after Skew_Time unless another router answers) when one of its
//! tracked items is deleted: a virtual address or excluded address without
//! `no_track`, a virtual route of protocol keepalived with a `dev` and
//! without `no_track`, a virtual rule of protocol keepalived (every rule
//! without `no_track`) with a priority. An untracked item stays deleted
//! until the router next becomes master. The driver's own deletions
//! (leaving master, a reload, the stop) are told apart: each is
//! remembered until its notification comes back. Addresses that go with
//! their interface (IPv6 ones at link down, all of a deleted VMAC) are
//! left to the link's own notification, which sends the router to FAULT
//! as in keepalived.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Instant;

use super::{Driver, DriverEvent};
use crate::event::State;
use crate::linux::{RemovedRoute, RemovedRule, RouteSpec, RuleSpec};
use crate::mux::RouterId;
use crate::router::VirtualRouter;

/// The main routing table, where a route without `table` goes.
const RT_TABLE_MAIN: u32 = 254;
/// keepalived's routing protocol number (`RTPROT_KEEPALIVED`): the
/// protocol of its tracked rules.
const RTPROT_KEEPALIVED: u8 = 18;

/// A deleted item, as its notification names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Deleted {
    /// A virtual address (or excluded address) on an interface.
    Address {
        /// Interface index.
        ifindex: u32,
        /// The address.
        addr: IpAddr,
    },
    /// A virtual route.
    Route {
        /// Destination.
        dst: IpAddr,
        /// Destination prefix length.
        prefix_len: u8,
        /// Table.
        table: u32,
    },
    /// A virtual rule.
    Rule {
        /// IPv6 rule.
        ipv6: bool,
        /// Its priority.
        priority: u32,
    },
}

impl Deleted {
    fn of_route(r: &RouteSpec) -> Deleted {
        Deleted::Route {
            dst: r.dst,
            prefix_len: r.prefix_len,
            table: r.table.unwrap_or(RT_TABLE_MAIN),
        }
    }

    /// `None` for a rule without priority: the kernel picks one, and
    /// keepalived, which compares priorities, never recognises it.
    fn of_rule(r: &RuleSpec) -> Option<Deleted> {
        Some(Deleted::Rule {
            ipv6: r.ipv6,
            priority: r.priority?,
        })
    }
}

/// Deletions the driver asked for whose notification has not come back.
#[derive(Debug, Default)]
pub(super) struct OwnDeletions(HashMap<Deleted, u32>);

impl OwnDeletions {
    fn record(&mut self, d: Deleted) {
        *self.0.entry(d).or_insert(0) += 1;
    }

    /// True (and forgotten) if `d` is one of ours.
    fn take(&mut self, d: &Deleted) -> bool {
        let Some(n) = self.0.get_mut(d) else {
            return false;
        };
        *n -= 1;
        if *n == 0 {
            self.0.remove(d);
        }
        true
    }

    /// After lost notifications, nothing pending can be matched any more.
    pub(super) fn clear(&mut self) {
        self.0.clear();
    }
}

impl Driver {
    pub(super) fn deleted_own_address(&mut self, ifindex: u32, addr: IpAddr) {
        self.own_deletions
            .record(Deleted::Address { ifindex, addr });
    }

    pub(super) fn deleted_own_route(&mut self, r: &RouteSpec) {
        self.own_deletions.record(Deleted::of_route(r));
    }

    pub(super) fn deleted_own_rule(&mut self, r: &RuleSpec) {
        if let Some(d) = Deleted::of_rule(r) {
            self.own_deletions.record(d);
        }
    }

    /// An address was deleted from interface `ifindex`. Not when the
    /// interface is down or gone: its addresses went with it (IPv6 ones
    /// at link down, all at a VMAC's deletion), and the link's own
    /// notification, which may still be queued, sends the router to FAULT.
    pub(super) fn address_deleted(&mut self, now: Instant, ifindex: u32, addr: IpAddr) {
        let d = Deleted::Address { ifindex, addr };
        self.deleted(now, d, |io| {
            let specs = io.spec.addresses.iter().chain(&io.spec.excluded);
            (io.addresses.iter().zip(specs))
                .any(|(a, s)| !s.no_track && a.ifindex() == ifindex && a.addr() == addr)
        });
    }

    /// A route of protocol keepalived was deleted.
    pub(super) fn route_deleted(&mut self, now: Instant, r: RemovedRoute) {
        let d = Deleted::Route {
            dst: r.dst,
            prefix_len: r.prefix_len,
            table: r.table,
        };
        self.deleted(now, d, |io| {
            (io.routes.iter().zip(&io.spec.routes))
                .any(|(route, v)| v.tracked() && same_route(route, &r))
        });
    }

    /// A rule of protocol keepalived was deleted.
    pub(super) fn rule_deleted(&mut self, now: Instant, r: RemovedRule) {
        let Some(priority) = r.priority else { return };
        let d = Deleted::Rule {
            ipv6: r.ipv6,
            priority,
        };
        self.deleted(now, d, |io| {
            io.spec.rules.iter().any(|rule| {
                rule.protocol == Some(RTPROT_KEEPALIVED)
                    && rule.ipv6 == r.ipv6
                    && rule.priority == Some(priority)
            })
        });
    }

    /// True if interface `ifindex` exists and is up now (asked of the
    /// kernel: the notification may be older than the link's state).
    fn link_up(&mut self, ifindex: u32) -> bool {
        match self.netlink.links() {
            Ok(links) => links.iter().any(|l| l.index == ifindex && l.up),
            Err(e) => {
                self.host_error("dump links", e);
                false
            }
        }
    }

    /// Unless `d` is one of our own deletions, every master that tracks it
    /// (`tracks`) goes to BACKUP.
    fn deleted(&mut self, now: Instant, d: Deleted, tracks: impl Fn(&super::RouterIo) -> bool) {
        if self.own_deletions.take(&d) {
            return;
        }
        let hit: Vec<RouterId> = (self.router_ids())
            .filter(|&id| self.mux.router(id).map(VirtualRouter::state) == Some(State::Master))
            .filter(|id| self.io(id.0 as usize).is_some_and(&tracks))
            .collect();
        match d {
            _ if hit.is_empty() => return,
            Deleted::Address { ifindex, .. } if !self.link_up(ifindex) => return,
            _ => {}
        }
        for id in hit {
            self.counters.tracked_deletions += 1;
            self.emit(DriverEvent::Deleted {
                id,
                item: d.clone(),
            });
            self.mux.handle_deleted(now, id);
        }
    }
}

/// keepalived's `route_is_ours`: same destination, prefix, table and
/// metric, and the same output interface when the route names one.
fn same_route(route: &RouteSpec, r: &RemovedRoute) -> bool {
    route.dst == r.dst
        && route.prefix_len == r.prefix_len
        && route.table.unwrap_or(RT_TABLE_MAIN) == r.table
        && route.metric.unwrap_or(0) == r.metric
        && route.oif.is_none_or(|oif| r.oif == Some(oif))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn own_deletions_are_matched_once_each() {
        let mut own = OwnDeletions::default();
        let d = Deleted::Address {
            ifindex: 2,
            addr: Ipv4Addr::new(192, 0, 2, 100).into(),
        };
        own.record(d.clone());
        own.record(d.clone());
        assert!(own.take(&d));
        assert!(own.take(&d));
        assert!(!own.take(&d));
    }

    #[test]
    fn routes_match_as_keepalived_compares_them() {
        let mut route = RouteSpec::to(Ipv4Addr::new(192, 168, 113, 0), 24);
        route.oif = Some(3);
        let mut removed = RemovedRoute {
            dst: Ipv4Addr::new(192, 168, 113, 0).into(),
            prefix_len: 24,
            table: 254,
            metric: 0,
            oif: Some(3),
        };
        assert!(same_route(&route, &removed));
        removed.oif = Some(4);
        assert!(!same_route(&route, &removed));
        removed.oif = Some(3);
        removed.metric = 10;
        assert!(!same_route(&route, &removed));
        route.metric = Some(10);
        assert!(same_route(&route, &removed));
        removed.table = 2;
        assert!(!same_route(&route, &removed));
    }

    #[test]
    fn rules_without_priority_are_not_tracked() {
        let rule = RuleSpec::new(false, crate::linux::RuleActionSpec::Table(2));
        assert_eq!(Deleted::of_rule(&rule), None);
    }
}
