//! Arbitrary bytes through the full receive validation: as a VRRPv2 IPv4
//! datagram with every authentication type, as a VRRPv3 IPv4 datagram, and
//! as a VRRPv3 IPv6 payload (with the ancillary data of the committed
//! capture's two routers, and with the first 33 bytes taken as source,
//! destination and hop limit), in both TTL modes: it must never panic, and
//! what it accepts must be self-consistent (an accepted IPv6 payload with
//! zero reserved bits re-encodes to the same bytes).
#![no_main]

use std::net::{Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use vrrp::auth::{AhReplay, AuthConfig, TxCounters};
use vrrp::wire::{self, AdvertV3Repr, Ipv6Meta, RecvOptions, RecvOptionsV3};

fuzz_target!(|data: &[u8]| {
    decode_v2(data);
    decode_v3(data);
    decode_v6(data);
});

fn decode_v2(data: &[u8]) {
    // Passwords of the committed captures, so seeds reach the deep checks.
    let auths = [
        AuthConfig::None,
        AuthConfig::pass(b"passw0rd"),
        AuthConfig::ah(b"secret1"),
    ];
    let vips = [
        std::net::Ipv4Addr::new(10, 0, 0, 100),
        std::net::Ipv4Addr::new(10, 0, 0, 101),
    ];
    for auth in &auths {
        for unicast in [false, true] {
            let lax = RecvOptions {
                unicast,
                ..RecvOptions::default()
            };
            let strict = RecvOptions {
                vrid: Some(51),
                unicast,
                adver_int: Some(1),
                addresses: Some(&vips),
            };
            for opts in [lax, strict] {
                let mut replay = AhReplay::new();
                match wire::decode(data, &opts, auth, &mut replay) {
                    Ok(a) => {
                        assert_eq!(a.version, 2);
                        assert_eq!(a.auth_type, auth.auth_type());
                        assert_eq!(a.ah_seq.is_some(), a.auth_type == wire::AuthType::Ah);
                        assert_eq!(replay.last(), a.ah_seq.unwrap_or(0));
                        assert_eq!(a.addresses.iter().count(), a.addresses.len());
                    }
                    Err(reason) => {
                        assert_eq!(replay, AhReplay::new());
                        assert!(!reason.as_str().is_empty());
                    }
                }
            }
        }
    }
}

fn decode_v3(data: &[u8]) {
    let vips = [Ipv4Addr::new(10, 0, 0, 100), Ipv4Addr::new(10, 0, 0, 101)];
    for unicast in [false, true] {
        let strict = RecvOptionsV3 {
            vrid: Some(51),
            unicast,
            addresses: Some(&vips[..]),
        };
        for opts in [
            RecvOptionsV3 {
                unicast,
                ..RecvOptionsV3::default()
            },
            strict,
        ] {
            if let Ok(a) = wire::decode_v3(data, &opts) {
                assert!(a.max_adver_int <= 0x0fff);
                assert!(a.ip_id.is_some());
                assert_eq!(a.dst.is_multicast(), !unicast);
                assert_eq!(a.addresses.iter().count(), a.addresses.len());
                // Our encoder writes the same VRRP message.
                let Some(vrrp) =
                    data.get(data.len() - wire::vrrp::v3_len(a.addresses.len() as u8, 4)..)
                else {
                    panic!("accepted a datagram shorter than its message");
                };
                let addrs: Vec<Ipv4Addr> = a.addresses.iter().collect();
                reencodes_v4(&a, &addrs, vrrp);
            }
        }
    }
}

/// An accepted IPv4 advert's VRRP message, rebuilt, matches (if its
/// reserved bits are zero and its interval is one we send).
fn reencodes_v4(a: &wire::AdvertV3<'_, Ipv4Addr>, addrs: &[Ipv4Addr], vrrp: &[u8]) {
    if vrrp[4] & 0xf0 != 0 || a.max_adver_int == 0 {
        return;
    }
    let repr = AdvertV3Repr {
        src: a.src,
        dst: a.dst,
        ttl: a.ttl,
        vrid: a.vrid,
        priority: a.priority,
        max_adver_int: a.max_adver_int,
        addresses: addrs,
    };
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN_V3];
    let n = wire::encode_v3(&repr, &mut TxCounters::new(), &mut buf).expect("fits");
    assert_same_message(&buf[20..n], vrrp);
}

/// Equal, except that a checksum of 0xffff is the same as 0x0000 (one's
/// complement has two zeros; we write the second).
fn assert_same_message(ours: &[u8], theirs: &[u8]) {
    assert_eq!(ours.len(), theirs.len());
    assert_eq!((&ours[..6], &ours[8..]), (&theirs[..6], &theirs[8..]));
    let sum = |b: &[u8]| match u16::from_be_bytes([b[6], b[7]]) {
        0xffff => 0,
        c => c,
    };
    assert_eq!(sum(ours), sum(theirs));
}

fn decode_v6(data: &[u8]) {
    let host = |n| Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, n);
    let mut inputs = vec![];
    for src in [host(1), host(2)] {
        let meta = Ipv6Meta {
            src,
            dst: wire::VRRP_MCAST_V6,
            hop_limit: 255,
        };
        inputs.push((meta, data));
    }
    if let (Some(head), Some(payload)) = (data.get(..33), data.get(33..)) {
        let addr = |b: &[u8]| Ipv6Addr::from(<[u8; 16]>::try_from(b).expect("16 bytes"));
        let meta = Ipv6Meta {
            src: addr(&head[..16]),
            dst: addr(&head[16..32]),
            hop_limit: head[32],
        };
        inputs.push((meta, payload));
    }
    let vips = [
        host(0x100),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100),
    ];
    for (meta, payload) in inputs {
        for unicast in [false, true] {
            let strict = RecvOptionsV3 {
                vrid: Some(51),
                unicast,
                addresses: Some(&vips[..]),
            };
            for opts in [
                RecvOptionsV3 {
                    unicast,
                    ..RecvOptionsV3::default()
                },
                strict,
            ] {
                let Ok(a) = wire::decode_v6(payload, &meta, &opts) else {
                    continue;
                };
                assert_eq!(
                    (a.src, a.dst, a.ttl, a.ip_id),
                    (meta.src, meta.dst, meta.hop_limit, None)
                );
                assert_eq!(a.addresses.iter().count(), a.addresses.len());
                if payload[4] & 0xf0 != 0 || a.max_adver_int == 0 {
                    continue;
                }
                let addrs: Vec<Ipv6Addr> = a.addresses.iter().collect();
                let repr = AdvertV3Repr {
                    src: a.src,
                    dst: a.dst,
                    ttl: a.ttl,
                    vrid: a.vrid,
                    priority: a.priority,
                    max_adver_int: a.max_adver_int,
                    addresses: &addrs,
                };
                let mut buf = [0u8; wire::MAX_PAYLOAD_LEN_V6];
                let n = wire::encode_v6(&repr, &mut buf).expect("fits");
                assert_same_message(&buf[..n], payload);
            }
        }
    }
}
