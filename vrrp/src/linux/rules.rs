//! Policy routing rules (`ip rule`): `static_rules` and `virtual_rules`
//! installed and removed with rtnetlink, as keepalived 2.2.7 builds them.

use std::net::IpAddr;

use netlink_packet_core::{NLM_F_CREATE, NLM_F_EXCL};
use netlink_packet_route::route::{RouteProtocol, RouteRealm};
use netlink_packet_route::rule::{
    RuleAction, RuleAttribute, RuleFlags, RuleMessage, RulePortRange, RuleUidRange,
};
use netlink_packet_route::{AddressFamily, IpProtocol, RouteNetlinkMessage};

use super::{LinuxError, Netlink};

/// The main routing table, used when a rule looks up table 0.
const RT_TABLE_MAIN: u32 = 254;

/// What a rule does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RuleActionSpec {
    /// `table N` (or `lookup N`): look the route up in table N.
    Table(u32),
    /// `goto N`: jump to the rule with preference N.
    Goto(u32),
    /// `nop`: do nothing.
    Nop,
    /// `blackhole`: drop silently.
    Blackhole,
    /// `unreachable`: answer "network unreachable".
    Unreachable,
    /// `prohibit`: answer "administratively prohibited".
    Prohibit,
    /// `l3mdev`: look up the table of the L3 master device.
    L3mdev,
}

/// One policy routing rule; `None` fields are left out of the request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleSpec {
    /// IPv6 rule (else IPv4).
    pub ipv6: bool,
    /// `from PREFIX`: source network.
    pub from: Option<(IpAddr, u8)>,
    /// `to PREFIX`: destination network.
    pub to: Option<(IpAddr, u8)>,
    /// `not`: invert the match.
    pub invert: bool,
    /// `preference`/`priority`/`order`.
    pub priority: Option<u32>,
    /// `tos`/`dsfield`.
    pub tos: u8,
    /// `fwmark`.
    pub fwmark: Option<u32>,
    /// The mask of `fwmark N/MASK`.
    pub fwmask: Option<u32>,
    /// `realms`, as the kernel's (source << 16 | destination).
    pub realms: Option<u32>,
    /// `suppress_prefixlength`.
    pub suppress_prefixlen: Option<u32>,
    /// `suppress_ifgroup`.
    pub suppress_ifgroup: Option<u32>,
    /// `iif`/`dev`: input interface name (need not exist).
    pub iif: Option<String>,
    /// `oif`: output interface name.
    pub oif: Option<String>,
    /// `uidrange START-END`.
    pub uid_range: Option<(u32, u32)>,
    /// `protocol`: who owns the rule (keepalived: 18 unless `no_track`).
    pub protocol: Option<u8>,
    /// `ipproto`.
    pub ip_proto: Option<u8>,
    /// `sport START[-END]`.
    pub sport: Option<(u16, u16)>,
    /// `dport START[-END]`.
    pub dport: Option<(u16, u16)>,
    /// The action.
    pub action: RuleActionSpec,
}

impl RuleSpec {
    /// An IPv4 or IPv6 rule with `action` and nothing else set; fill in
    /// the fields you need.
    pub fn new(ipv6: bool, action: RuleActionSpec) -> Self {
        RuleSpec {
            ipv6,
            from: None,
            to: None,
            invert: false,
            priority: None,
            tos: 0,
            fwmark: None,
            fwmask: None,
            realms: None,
            suppress_prefixlen: None,
            suppress_ifgroup: None,
            iif: None,
            oif: None,
            uid_range: None,
            protocol: None,
            ip_proto: None,
            sport: None,
            dport: None,
            action,
        }
    }

    /// The request keepalived sends for this rule (the same for adding
    /// and deleting: the kernel deletes the rule matching every field).
    pub(crate) fn to_message(&self) -> RuleMessage {
        let mut msg = RuleMessage::default();
        let h = &mut msg.header;
        h.family = if self.ipv6 {
            AddressFamily::Inet6
        } else {
            AddressFamily::Inet
        };
        h.tos = self.tos;
        if self.invert {
            h.flags = RuleFlags::Invert;
        }
        let a = &mut msg.attributes;
        h.action = match self.action {
            RuleActionSpec::Table(t) => {
                let t = if t == 0 { RT_TABLE_MAIN } else { t };
                // Small tables go in the header, big ones in FRA_TABLE,
                // as keepalived (and ip rule) send them.
                match u8::try_from(t) {
                    Ok(small) => h.table = small,
                    Err(_) => a.push(RuleAttribute::Table(t)),
                }
                RuleAction::ToTable
            }
            RuleActionSpec::L3mdev => {
                a.push(RuleAttribute::L3MDev(true));
                RuleAction::ToTable
            }
            RuleActionSpec::Goto(target) => {
                a.push(RuleAttribute::Goto(target));
                RuleAction::Goto
            }
            RuleActionSpec::Nop => RuleAction::Nop,
            RuleActionSpec::Blackhole => RuleAction::Blackhole,
            RuleActionSpec::Unreachable => RuleAction::Unreachable,
            RuleActionSpec::Prohibit => RuleAction::Prohibit,
        };
        if let Some((addr, len)) = self.from {
            a.push(RuleAttribute::Source(addr));
            h.src_len = len;
        }
        if let Some((addr, len)) = self.to {
            a.push(RuleAttribute::Destination(addr));
            h.dst_len = len;
        }
        let u32s = [
            (
                self.priority,
                RuleAttribute::Priority as fn(u32) -> RuleAttribute,
            ),
            (self.fwmark, RuleAttribute::FwMark),
            (self.fwmask, RuleAttribute::FwMask),
            (self.suppress_prefixlen, RuleAttribute::SuppressPrefixLen),
            (self.suppress_ifgroup, RuleAttribute::SuppressIfGroup),
        ];
        for (v, attr) in u32s {
            if let Some(v) = v {
                a.push(attr(v));
            }
        }
        if let Some(r) = self.realms {
            a.push(RuleAttribute::Realm(RouteRealm {
                source: (r >> 16) as u16,
                destination: (r & 0xffff) as u16,
            }));
        }
        if let Some(i) = &self.iif {
            a.push(RuleAttribute::Iifname(i.clone()));
        }
        if let Some(o) = &self.oif {
            a.push(RuleAttribute::Oifname(o.clone()));
        }
        if let Some((start, end)) = self.uid_range {
            a.push(RuleAttribute::UidRange(RuleUidRange { start, end }));
        }
        if let Some(p) = self.protocol {
            a.push(RuleAttribute::Protocol(RouteProtocol::from(p)));
        }
        if let Some(p) = self.ip_proto {
            a.push(RuleAttribute::IpProtocol(IpProtocol::from(p)));
        }
        if let Some((start, end)) = self.sport {
            a.push(RuleAttribute::SourcePortRange(RulePortRange { start, end }));
        }
        if let Some((start, end)) = self.dport {
            a.push(RuleAttribute::DestinationPortRange(RulePortRange {
                start,
                end,
            }));
        }
        msg
    }
}

impl Netlink {
    /// Adds a rule; `EEXIST` if an identical one exists.
    pub fn add_rule(&mut self, spec: &RuleSpec) -> Result<(), LinuxError> {
        self.request(
            "add rule",
            RouteNetlinkMessage::NewRule(spec.to_message()),
            NLM_F_CREATE | NLM_F_EXCL,
        )
        .map(drop)
    }

    /// Removes a rule; `ENOENT` if there is none.
    pub fn del_rule(&mut self, spec: &RuleSpec) -> Result<(), LinuxError> {
        self.request(
            "delete rule",
            RouteNetlinkMessage::DelRule(spec.to_message()),
            0,
        )
        .map(drop)
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;

    #[test]
    fn small_tables_go_in_the_header_big_ones_in_an_attribute() {
        let mut r = RuleSpec::new(false, RuleActionSpec::Table(2));
        r.from = Some((Ipv4Addr::new(192, 168, 200, 0).into(), 24));
        r.priority = Some(100);
        let m = r.to_message();
        assert_eq!(m.header.table, 2);
        assert_eq!(m.header.src_len, 24);
        assert_eq!(m.header.action, RuleAction::ToTable);
        assert!(m.attributes.contains(&RuleAttribute::Priority(100)));
        let m = RuleSpec::new(false, RuleActionSpec::Table(1000)).to_message();
        assert_eq!(m.header.table, 0);
        assert!(m.attributes.contains(&RuleAttribute::Table(1000)));
    }

    #[test]
    fn goto_and_l3mdev_carry_their_attributes() {
        let m = RuleSpec::new(true, RuleActionSpec::Goto(500)).to_message();
        assert_eq!(m.header.family, AddressFamily::Inet6);
        assert_eq!(m.header.action, RuleAction::Goto);
        assert_eq!(m.attributes, vec![RuleAttribute::Goto(500)]);
        let m = RuleSpec::new(false, RuleActionSpec::L3mdev).to_message();
        assert_eq!(m.attributes, vec![RuleAttribute::L3MDev(true)]);
    }
}
