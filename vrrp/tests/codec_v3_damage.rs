//! VRRPv3 adverts damaged every way a single fault can: every truncation
//! and every single-bit flip of an IPv4 datagram and of an IPv6 payload is
//! rejected (the checksums catch what the field checks do not), never a
//! panic; and a few reasons are pinned to the byte that causes them.
#![allow(clippy::unwrap_used)] // Test code: a panic is the failure report.

use std::net::{Ipv4Addr, Ipv6Addr};

use vrrp::auth::TxCounters;
use vrrp::wire::{self, AdvertV3Repr, DropReason, Ipv6Meta, RecvOptionsV3};

const VIPS: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 0, 0, 100), Ipv4Addr::new(10, 0, 0, 101)];
const VIPS6: [Ipv6Addr; 2] = [
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100),
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100),
];
const META: Ipv6Meta = Ipv6Meta {
    src: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
    dst: wire::VRRP_MCAST_V6,
    hop_limit: 255,
};

fn v4() -> Vec<u8> {
    let repr = AdvertV3Repr {
        src: Ipv4Addr::new(10, 0, 0, 1),
        dst: wire::VRRP_MCAST_V4,
        ttl: 255,
        vrid: 51,
        priority: 150,
        max_adver_int: 100,
        addresses: &VIPS,
    };
    let mut buf = [0u8; 64];
    let n = wire::encode_v3(&repr, &mut TxCounters::new(), &mut buf).unwrap();
    buf[..n].to_vec()
}

fn v6() -> Vec<u8> {
    let repr = AdvertV3Repr {
        src: META.src,
        dst: META.dst,
        ttl: 255,
        vrid: 51,
        priority: 150,
        max_adver_int: 5,
        addresses: &VIPS6,
    };
    let mut buf = [0u8; 64];
    let n = wire::encode_v6(&repr, &mut buf).unwrap();
    buf[..n].to_vec()
}

fn decode4(d: &[u8]) -> Result<u8, DropReason> {
    wire::decode_v3(d, &RecvOptionsV3::default()).map(|a| a.priority)
}

fn decode6(d: &[u8]) -> Result<u8, DropReason> {
    wire::decode_v6(d, &META, &RecvOptionsV3::default()).map(|a| a.priority)
}

#[test]
fn every_truncation_is_rejected() {
    let (d4, d6) = (v4(), v6());
    assert_eq!((decode4(&d4), decode6(&d6)), (Ok(150), Ok(150)));
    for n in 0..d4.len() {
        let want = if n < 20 {
            DropReason::Truncated
        } else {
            DropReason::BadIpLength
        };
        assert_eq!(decode4(&d4[..n]), Err(want), "IPv4 cut at {n}");
    }
    for n in 0..d6.len() {
        let want = if n < 8 {
            DropReason::Truncated
        } else {
            DropReason::BadLength
        };
        assert_eq!(decode6(&d6[..n]), Err(want), "IPv6 cut at {n}");
    }
}

#[test]
fn every_single_bit_flip_is_rejected() {
    for (name, good, decode) in [
        ("IPv4", v4(), decode4 as fn(&[u8]) -> Result<u8, DropReason>),
        ("IPv6", v6(), decode6),
    ] {
        for bit in 0..good.len() * 8 {
            let mut d = good.clone();
            d[bit / 8] ^= 0x80 >> (bit % 8);
            assert!(
                decode(&d).is_err(),
                "{name}: flipping bit {bit} was accepted"
            );
        }
    }
}

#[test]
fn the_first_failing_check_names_the_fault() {
    let d6 = v6();
    let flip = |at: usize, x: u8| {
        let mut d = d6.clone();
        d[at] ^= x;
        decode6(&d)
    };
    assert_eq!(flip(0, 0x10), Err(DropReason::BadVersion)); // version 2
    assert_eq!(flip(0, 0x01), Err(DropReason::BadType)); // type 0
    assert_eq!(flip(3, 0x01), Err(DropReason::BadLength)); // count 3
    assert_eq!(flip(2, 0x01), Err(DropReason::BadChecksum)); // priority
    assert_eq!(flip(4, 0x10), Err(DropReason::BadChecksum)); // reserved bit
}
