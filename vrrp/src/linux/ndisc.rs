//! Unsolicited Neighbour Advertisements (RFC 4861 section 7.2.6) for IPv6
//! virtual addresses: the IPv6 counterpart of gratuitous ARP, sent as
//! whole Ethernet frames through [`GarpSocket::send_na`](super::GarpSocket::send_na).

use std::net::Ipv6Addr;

use crate::wire::checksum;

/// Length of the frames [`neighbour_advertisement`] builds: Ethernet (14),
/// IPv6 (40), Neighbour Advertisement (24) and one target link-layer
/// address option (8).
pub const NA_FRAME_LEN: usize = 86;

/// Ethertype of IPv6.
pub(super) const ETH_P_IPV6: u16 = 0x86dd;
/// All-nodes multicast, ff02::1.
const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// Its Ethernet address (RFC 2464 section 7).
const ALL_NODES_MAC: [u8; 6] = [0x33, 0x33, 0, 0, 0, 1];
const IPPROTO_ICMPV6: u8 = 58;
const ND_NEIGHBOR_ADVERT: u8 = 136;
const FLAG_ROUTER: u8 = 0x80;
const FLAG_OVERRIDE: u8 = 0x20;
const OPT_TARGET_LINKADDR: u8 = 2;
/// ICMPv6 message length: the advert and its option.
const ICMP_LEN: usize = 32;

/// Builds the unsolicited Neighbour Advertisement keepalived sends for a
/// virtual address `target` now at `mac`: from `target` to ff02::1 with hop
/// limit 255, Override set, Router set if `router` (keepalived sets it when
/// the interface forwards IPv6), Solicited clear, and the target
/// link-layer address option; checksum filled.
pub fn neighbour_advertisement(mac: [u8; 6], target: Ipv6Addr, router: bool) -> [u8; NA_FRAME_LEN] {
    let mut f = [0u8; NA_FRAME_LEN];
    f[0..6].copy_from_slice(&ALL_NODES_MAC);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&ETH_P_IPV6.to_be_bytes());
    let ip = 14;
    f[ip] = 0x60; // version 6, traffic class and flow label 0
    f[ip + 4..ip + 6].copy_from_slice(&(ICMP_LEN as u16).to_be_bytes());
    f[ip + 6] = IPPROTO_ICMPV6;
    f[ip + 7] = 255;
    f[ip + 8..ip + 24].copy_from_slice(&target.octets());
    f[ip + 24..ip + 40].copy_from_slice(&ALL_NODES.octets());
    let icmp = ip + 40;
    f[icmp] = ND_NEIGHBOR_ADVERT;
    f[icmp + 4] = FLAG_OVERRIDE | if router { FLAG_ROUTER } else { 0 };
    f[icmp + 8..icmp + 24].copy_from_slice(&target.octets());
    f[icmp + 24] = OPT_TARGET_LINKADDR;
    f[icmp + 25] = 1; // in units of 8 bytes
    f[icmp + 26..icmp + 32].copy_from_slice(&mac);
    let pseudo = checksum::pseudo_header_v6(target, ALL_NODES, IPPROTO_ICMPV6, ICMP_LEN as u32);
    let sum = checksum::finish(checksum::sum(pseudo, &f[icmp..icmp + ICMP_LEN]));
    f[icmp + 2..icmp + 4].copy_from_slice(&sum.to_be_bytes());
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x0a];
    const VIP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);

    #[test]
    fn frame_fields() {
        let f = neighbour_advertisement(MAC, VIP, false);
        assert_eq!(
            &f[..14],
            &[0x33, 0x33, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0x0a, 0x86, 0xdd]
        );
        // IPv6: payload 32, ICMPv6, hop limit 255, VIP to ff02::1.
        assert_eq!(&f[14..22], &[0x60, 0, 0, 0, 0, 32, 58, 255]);
        assert_eq!(&f[22..38], &VIP.octets());
        assert_eq!(&f[38..54], &ALL_NODES.octets());
        // NA, Override only, the target, the option with the MAC.
        assert_eq!((f[54], f[55], f[58]), (136, 0, 0x20));
        assert_eq!(&f[62..78], &VIP.octets());
        assert_eq!(&f[78..86], &[2, 1, 2, 0, 0, 0, 0, 0x0a]);
        assert_eq!(neighbour_advertisement(MAC, VIP, true)[58], 0xa0);
    }

    #[test]
    fn checksum_verifies_over_the_pseudo_header() {
        for router in [false, true] {
            let f = neighbour_advertisement(MAC, VIP, router);
            let pseudo = checksum::pseudo_header_v6(VIP, ALL_NODES, 58, 32);
            assert_eq!(checksum::finish(checksum::sum(pseudo, &f[54..])), 0);
        }
    }
}
