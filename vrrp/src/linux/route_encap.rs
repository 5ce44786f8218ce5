//! Lightweight tunnel encapsulation of a route (`encap ip ...`, `encap
//! ip6 ...`, `encap mpls LABELS`, `encap ila LOCATOR`), sent as
//! keepalived 2.2.7 sends it: `RTA_ENCAP_TYPE` and an `RTA_ENCAP` nest
//! with the options given, nothing else.
//!
//! `mpls` needs the kernel's `mpls_iptunnel` module, `ila` its `ila`
//! module (and an IPv6 route of at least /67 whose identifier type is not
//! IID, the kernel's rule); without them the kernel refuses the route.

use std::net::IpAddr;

use netlink_packet_core::DefaultNla;
use netlink_packet_route::route::{
    MplsLabel, RouteAttribute, RouteIp6Tunnel, RouteIp6TunnelFlags, RouteIpTunnel,
    RouteIpTunnelFlags, RouteLwEnCapType, RouteLwTunnelEncap, RouteMplsIpTunnel,
};

/// `ILA_ATTR_LOCATOR` (include/uapi/linux/ila.h).
const ILA_ATTR_LOCATOR: u16 = 1;

/// A route's tunnel: `encap ip` (IPv4 outer header) or `encap ip6`
/// (IPv6) with the fields below, or, when [`mpls`](Self::mpls) or
/// [`ila`](Self::ila) is set, that encapsulation alone (the other fields
/// are then unused).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Encap {
    /// `encap mpls L1[/L2]`: the labels pushed, outermost first (20-bit
    /// values; keepalived takes at most two).
    pub mpls: Option<Vec<u32>>,
    /// `encap ila LOCATOR`: the 64-bit locator, its first group in the
    /// high bits (`2001:db8:1:2` is `0x2001_0db8_0001_0002`).
    pub ila: Option<u64>,
    /// `ip6`: an IPv6 outer header.
    pub ipv6: bool,
    /// `id`: the tunnel key.
    pub id: Option<u64>,
    /// `dst`: the outer destination, of the outer family.
    pub dst: Option<IpAddr>,
    /// `src`: the outer source, of the outer family.
    pub src: Option<IpAddr>,
    /// `tos` (`ip`) or `tc` (`ip6`).
    pub tos: Option<u8>,
    /// `ttl` (`ip`) or `hoplimit` (`ip6`).
    pub ttl: Option<u8>,
    /// `flags`.
    pub flags: Option<u16>,
}

impl Encap {
    /// `RTA_ENCAP_TYPE` and `RTA_ENCAP`.
    pub(super) fn attributes(&self) -> [RouteAttribute; 2] {
        let (kind, nest): (_, Vec<_>) = if let Some(labels) = &self.mpls {
            let nest = RouteMplsIpTunnel::Destination(mpls_stack(labels));
            (RouteLwEnCapType::Mpls, vec![RouteLwTunnelEncap::Mpls(nest)])
        } else if let Some(locator) = self.ila {
            // The locator's bytes in network order, as keepalived sends it.
            let nla = DefaultNla::new(ILA_ATTR_LOCATOR, locator.to_be_bytes().to_vec());
            (RouteLwEnCapType::Ila, vec![RouteLwTunnelEncap::Other(nla)])
        } else if self.ipv6 {
            let nest = self.ip6().into_iter().map(RouteLwTunnelEncap::Ip6);
            (RouteLwEnCapType::Ip6, nest.collect())
        } else {
            let nest = self.ip().into_iter().map(RouteLwTunnelEncap::Ip);
            (RouteLwEnCapType::Ip, nest.collect())
        };
        [RouteAttribute::EncapType(kind), RouteAttribute::Encap(nest)]
    }

    fn ip(&self) -> Vec<RouteIpTunnel> {
        let v4 = |a: Option<IpAddr>| match a {
            Some(IpAddr::V4(a)) => Some(a),
            _ => None,
        };
        let mut out = Vec::new();
        out.extend(self.id.map(RouteIpTunnel::Id));
        out.extend(v4(self.dst).map(RouteIpTunnel::Destination));
        out.extend(v4(self.src).map(RouteIpTunnel::Source));
        out.extend(self.tos.map(RouteIpTunnel::Tos));
        out.extend(self.ttl.map(RouteIpTunnel::Ttl));
        let flags = self.flags.map(RouteIpTunnelFlags::from_bits_retain);
        out.extend(flags.map(RouteIpTunnel::Flags));
        out
    }

    fn ip6(&self) -> Vec<RouteIp6Tunnel> {
        let v6 = |a: Option<IpAddr>| match a {
            Some(IpAddr::V6(a)) => Some(a),
            _ => None,
        };
        let mut out = Vec::new();
        out.extend(self.id.map(RouteIp6Tunnel::Id));
        out.extend(v6(self.dst).map(RouteIp6Tunnel::Destination));
        out.extend(v6(self.src).map(RouteIp6Tunnel::Source));
        out.extend(self.tos.map(RouteIp6Tunnel::Tc));
        out.extend(self.ttl.map(RouteIp6Tunnel::Hoplimit));
        let flags = self.flags.map(RouteIp6TunnelFlags::from_bits_retain);
        out.extend(flags.map(RouteIp6Tunnel::Flags));
        out
    }
}

/// A label stack as the kernel takes it: TTL and traffic class 0, the
/// bottom-of-stack bit on the last label only.
fn mpls_stack(labels: &[u32]) -> Vec<MplsLabel> {
    let last = labels.len().saturating_sub(1);
    (labels.iter().enumerate())
        .map(|(i, &label)| MplsLabel {
            label,
            traffic_class: 0,
            bottom_of_stack: i == last,
            ttl: 0,
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    fn only_the_options_given_are_sent() {
        let e = Encap {
            id: Some(7),
            dst: Some("10.0.0.2".parse().unwrap()),
            ttl: Some(5),
            ..Encap::default()
        };
        let want = [
            RouteAttribute::EncapType(RouteLwEnCapType::Ip),
            RouteAttribute::Encap(vec![
                RouteLwTunnelEncap::Ip(RouteIpTunnel::Id(7)),
                RouteLwTunnelEncap::Ip(RouteIpTunnel::Destination("10.0.0.2".parse().unwrap())),
                RouteLwTunnelEncap::Ip(RouteIpTunnel::Ttl(5)),
            ]),
        ];
        assert_eq!(e.attributes(), want);
    }

    /// The bytes keepalived 2.2.7 sends for `encap mpls 100/200` and
    /// `encap ila 2001:db8:1:2` (label << 12, S bit on the last; the
    /// locator in network order).
    #[test]
    fn mpls_and_ila_bytes() {
        use netlink_packet_core::Emitable;
        let emit = |e: &Encap| {
            let [kind, nest] = e.attributes();
            let mut out = vec![0; nest.buffer_len()];
            nest.emit(&mut out);
            let mut k = vec![0; kind.buffer_len()];
            kind.emit(&mut k);
            (k, out)
        };
        let mpls = Encap {
            mpls: Some(vec![100, 200]),
            ..Encap::default()
        };
        let (kind, nest) = emit(&mpls);
        // RTA_ENCAP_TYPE (21) = LWTUNNEL_ENCAP_MPLS (1).
        assert_eq!(kind, [6, 0, 21, 0, 1, 0, 0, 0]);
        // RTA_ENCAP (22, without NLA_F_NESTED as keepalived sends it),
        // MPLS_IPTUNNEL_DST (1), two labels.
        let want = [
            16, 0, 0x16, 0, 12, 0, 1, 0, 0x00, 0x06, 0x40, 0x00, 0x00, 0x0c, 0x81, 0x00,
        ];
        assert_eq!(nest, want);
        let ila = Encap {
            ila: Some(0x2001_0db8_0001_0002),
            ..Encap::default()
        };
        let (kind, nest) = emit(&ila);
        // LWTUNNEL_ENCAP_ILA (3).
        assert_eq!(kind, [6, 0, 21, 0, 3, 0, 0, 0]);
        let want = [
            16, 0, 0x16, 0, 12, 0, 1, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1, 0, 2,
        ];
        assert_eq!(nest, want);
    }
}
