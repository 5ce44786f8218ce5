//! Lightweight tunnel encapsulation of a route (`encap ip ...`, `encap
//! ip6 ...`), sent as keepalived 2.2.7 sends it: `RTA_ENCAP_TYPE` and an
//! `RTA_ENCAP` nest with the options given, nothing else.

use std::net::IpAddr;

use netlink_packet_route::route::{
    RouteAttribute, RouteIp6Tunnel, RouteIp6TunnelFlags, RouteIpTunnel, RouteIpTunnelFlags,
    RouteLwEnCapType, RouteLwTunnelEncap,
};

/// An `encap ip` (IPv4 outer header) or `encap ip6` (IPv6) tunnel.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Encap {
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
        let (kind, nest): (_, Vec<_>) = if self.ipv6 {
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
}
