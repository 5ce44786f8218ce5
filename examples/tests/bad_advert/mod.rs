//! The invalid advert the flood tests send as fast as they can.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::Ipv4Addr;

use vrrp::auth::{AuthConfig, TxCounters};
use vrrp::linux::VRRP_MULTICAST;
use vrrp::wire::{self, AdvertRepr};

/// An advert from `src` for VRID 51 at priority 200 with `vip`, under
/// `auth`, whose VRRP checksum is wrong: every one reaches the routers'
/// sockets and must be dropped there.
pub(crate) fn bad_checksum_advert(src: Ipv4Addr, vip: Ipv4Addr, auth: &AuthConfig) -> Vec<u8> {
    let vips = [vip];
    let repr = AdvertRepr {
        src,
        dst: VRRP_MULTICAST,
        ttl: 255,
        vrid: 51,
        priority: 200,
        adver_int: 1,
        addresses: &vips,
    };
    let mut buf = vec![0u8; wire::MAX_DATAGRAM_LEN];
    let n = wire::encode(&repr, auth, &mut TxCounters::new(), &mut buf).unwrap();
    buf.truncate(n);
    buf[26] ^= 0xff; // the VRRP checksum
    buf
}
