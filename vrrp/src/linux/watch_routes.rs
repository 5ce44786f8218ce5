//! Route and rule deletions from rtnetlink, as keepalived watches them:
//! only those owned by protocol 18 (`RTPROT_KEEPALIVED`), which is how
//! keepalived marks the routes and rules it tracks.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use netlink_packet_route::route::{RouteAddress, RouteAttribute, RouteMessage, RouteProtocol};
use netlink_packet_route::rule::{RuleAttribute, RuleMessage};
use netlink_packet_route::AddressFamily;

use super::{RouteSpec, RuleSpec};

/// rtnetlink multicast groups of route and rule changes
/// (`RTNLGRP_IPV4_ROUTE`, `RTNLGRP_IPV4_RULE`, `RTNLGRP_IPV6_ROUTE`,
/// `RTNLGRP_IPV6_RULE`).
pub(super) const ROUTE_RULE_GROUPS: [u32; 4] = [7, 8, 11, 19];

/// rtnetlink message types of deletions (`linux/rtnetlink.h`).
pub(super) const RTM_DELROUTE: u16 = 25;
pub(super) const RTM_DELRULE: u16 = 33;

/// The main routing table (`RT_TABLE_MAIN`).
const RT_TABLE_MAIN: u32 = 254;

/// A route of protocol `keepalived` that was deleted: the fields keepalived
/// compares to find which virtual route it was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedRoute {
    /// Destination (the unspecified address of its family for a default
    /// route).
    pub dst: IpAddr,
    /// Destination prefix length.
    pub prefix_len: u8,
    /// Table (main when the kernel gave none).
    pub table: u32,
    /// Metric (`RTA_PRIORITY`), 0 when absent.
    pub metric: u32,
    /// Output interface, if the route had one.
    pub oif: Option<u32>,
}

/// A rule of protocol `keepalived` that was deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemovedRule {
    /// IPv6 rule.
    pub ipv6: bool,
    /// Its priority (keepalived only recognises rules by priority).
    pub priority: Option<u32>,
    /// Its table.
    pub table: u32,
}

impl RemovedRoute {
    /// keepalived's `route_is_ours`: the same destination, prefix, table
    /// and metric, and the same output interface when `route` names one.
    pub fn matches(&self, route: &RouteSpec) -> bool {
        route.dst == self.dst
            && route.prefix_len == self.prefix_len
            && route.table.unwrap_or(RT_TABLE_MAIN) == self.table
            && route.metric.unwrap_or(0) == self.metric
            && route.oif.is_none_or(|oif| self.oif == Some(oif))
    }
}

impl RemovedRule {
    /// keepalived's `rule_is_ours`, which compares families and
    /// priorities: a rule without priority is never recognised.
    pub fn matches(&self, rule: &RuleSpec) -> bool {
        rule.ipv6 == self.ipv6 && rule.priority.is_some() && rule.priority == self.priority
    }
}

/// The removed route of an `RTM_DELROUTE` of protocol keepalived.
pub(super) fn removed_route(msg: &RouteMessage) -> Option<RemovedRoute> {
    if msg.header.protocol != RouteProtocol::KeepAlived {
        return None;
    }
    let (mut dst, mut table, mut metric, mut oif) = (None, None, 0, None);
    for a in &msg.attributes {
        match a {
            RouteAttribute::Destination(RouteAddress::Inet(v4)) => dst = Some(IpAddr::V4(*v4)),
            RouteAttribute::Destination(RouteAddress::Inet6(v6)) => dst = Some(IpAddr::V6(*v6)),
            RouteAttribute::Table(t) => table = Some(*t),
            RouteAttribute::Priority(p) => metric = *p,
            RouteAttribute::Oif(i) => oif = Some(*i),
            _ => {}
        }
    }
    let any = match msg.header.address_family {
        AddressFamily::Inet => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        AddressFamily::Inet6 => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        _ => return None,
    };
    Some(RemovedRoute {
        dst: dst.unwrap_or(any),
        prefix_len: msg.header.destination_prefix_length,
        table: table.unwrap_or(match msg.header.table {
            0 => RT_TABLE_MAIN,
            t => u32::from(t),
        }),
        metric,
        oif,
    })
}

/// The removed rule of an `RTM_DELRULE` of protocol keepalived.
pub(super) fn removed_rule(msg: &RuleMessage) -> Option<RemovedRule> {
    let ipv6 = match msg.header.family {
        AddressFamily::Inet => false,
        AddressFamily::Inet6 => true,
        _ => return None,
    };
    let (mut priority, mut table, mut keepalived) = (None, None, false);
    for a in &msg.attributes {
        match a {
            RuleAttribute::Priority(p) => priority = Some(*p),
            RuleAttribute::Table(t) => table = Some(*t),
            RuleAttribute::Protocol(p) => keepalived = *p == RouteProtocol::KeepAlived,
            _ => {}
        }
    }
    keepalived.then(|| RemovedRule {
        ipv6,
        priority,
        table: table.unwrap_or(u32::from(msg.header.table)),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use super::*;
    use netlink_packet_route::route::RouteHeader;

    fn route(protocol: RouteProtocol) -> RouteMessage {
        let mut m = RouteMessage::default();
        m.header = RouteHeader {
            address_family: AddressFamily::Inet,
            destination_prefix_length: 24,
            table: RouteHeader::RT_TABLE_MAIN,
            protocol,
            ..m.header
        };
        let dst = RouteAddress::Inet(Ipv4Addr::new(192, 168, 113, 0));
        m.attributes = vec![
            RouteAttribute::Table(254),
            RouteAttribute::Destination(dst),
            RouteAttribute::Oif(3),
        ];
        m
    }

    #[test]
    fn only_keepalived_routes_are_reported() {
        let r = removed_route(&route(RouteProtocol::KeepAlived)).unwrap();
        let want = RemovedRoute {
            dst: Ipv4Addr::new(192, 168, 113, 0).into(),
            prefix_len: 24,
            table: 254,
            metric: 0,
            oif: Some(3),
        };
        assert_eq!(r, want);
        assert_eq!(removed_route(&route(RouteProtocol::Boot)), None);
    }

    #[test]
    fn only_keepalived_rules_are_reported() {
        let mut m = RuleMessage::default();
        m.header.family = AddressFamily::Inet6;
        m.attributes = vec![RuleAttribute::Priority(300), RuleAttribute::Table(2)];
        assert_eq!(removed_rule(&m), None);
        m.attributes
            .push(RuleAttribute::Protocol(RouteProtocol::KeepAlived));
        let want = RemovedRule {
            ipv6: true,
            priority: Some(300),
            table: 2,
        };
        assert_eq!(removed_rule(&m), Some(want));
    }
}
