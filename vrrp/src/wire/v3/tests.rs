use super::*;

const V4_SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const V4_VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
const V6_SRC: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
const V6_VIP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);

/// Computed independently (Python, RFC 1071 over the pseudo-header).
const V4_BYTES: [u8; 32] = [
    0x45, 0xc0, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0xff, 0x70, 0xd0, 0x99, 0x0a, 0x00, 0x00, 0x01,
    0xe0, 0x00, 0x00, 0x12, 0x31, 0x33, 0x96, 0x01, 0x00, 0x64, 0x43, 0x73, 0x0a, 0x00, 0x00, 0x64,
];
const V6_BYTES: [u8; 24] = [
    0x31, 0x33, 0x96, 0x01, 0x00, 0x64, 0x0b, 0x8f, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
];

fn v4_repr(addrs: &[Ipv4Addr]) -> AdvertV3Repr<'_, Ipv4Addr> {
    AdvertV3Repr {
        src: V4_SRC,
        dst: crate::wire::VRRP_MCAST_V4,
        ttl: VRRP_TTL,
        vrid: 51,
        priority: 150,
        max_adver_int: 100,
        addresses: addrs,
    }
}

fn v6_repr(addrs: &[Ipv6Addr]) -> AdvertV3Repr<'_, Ipv6Addr> {
    AdvertV3Repr {
        src: V6_SRC,
        dst: VRRP_MCAST_V6,
        ttl: VRRP_TTL,
        vrid: 51,
        priority: 150,
        max_adver_int: 100,
        addresses: addrs,
    }
}

fn v6_meta() -> Ipv6Meta {
    Ipv6Meta {
        src: V6_SRC,
        dst: VRRP_MCAST_V6,
        hop_limit: 255,
    }
}

#[test]
fn encode_v3_writes_exact_bytes_into_junk() {
    let mut buf = [0xa5u8; 40];
    let mut tx = TxCounters::new();
    let len = encode_v3(&v4_repr(&[V4_VIP]), &mut tx, &mut buf).expect("fits");
    assert_eq!(len, encoded_len_v3(1));
    assert_eq!(buf[..len], V4_BYTES);
    assert!(buf[len..].iter().all(|&b| b == 0xa5), "wrote past the end");
    assert_eq!(tx.ip_id, 1);
}

#[test]
fn encode_v6_writes_exact_bytes_into_junk() {
    let mut buf = [0xa5u8; 30];
    let len = encode_v6(&v6_repr(&[V6_VIP]), &mut buf).expect("fits");
    assert_eq!(len, encoded_len_v6(1));
    assert_eq!(buf[..len], V6_BYTES);
    assert!(buf[len..].iter().all(|&b| b == 0xa5), "wrote past the end");
}

#[test]
fn decode_v3_reads_what_encode_v3_wrote() {
    let opts = RecvOptionsV3 {
        vrid: Some(51),
        addresses: Some(&[V4_VIP][..]),
        ..Default::default()
    };
    let got = decode_v3(&V4_BYTES, &opts).expect("valid");
    assert_eq!(
        (got.src, got.dst, got.ttl, got.ip_id),
        (V4_SRC, crate::wire::VRRP_MCAST_V4, 255, Some(1))
    );
    assert_eq!((got.vrid, got.priority, got.max_adver_int), (51, 150, 100));
    assert_eq!(got.addresses.iter().collect::<Vec<_>>(), [V4_VIP]);
}

#[test]
fn decode_v6_reads_what_encode_v6_wrote() {
    let opts = RecvOptionsV3 {
        vrid: Some(51),
        addresses: Some(&[V6_VIP][..]),
        ..Default::default()
    };
    let got = decode_v6(&V6_BYTES, &v6_meta(), &opts).expect("valid");
    assert_eq!((got.src, got.ttl, got.ip_id), (V6_SRC, 255, None));
    assert_eq!((got.vrid, got.priority, got.max_adver_int), (51, 150, 100));
    assert_eq!(got.addresses.iter().collect::<Vec<_>>(), [V6_VIP]);
    assert!(got.addresses.contains(V6_VIP));
}

/// keepalived 2.2.7's `use_ipvlan` with a global address multicasts
/// its adverts from that address; they decode as any other.
#[test]
fn a_multicast_advert_from_a_global_source_is_accepted() {
    let repr = AdvertV3Repr {
        src: V6_VIP,
        ..v6_repr(&[V6_VIP])
    };
    let mut buf = [0u8; 24];
    let len = encode_v6(&repr, &mut buf).expect("fits");
    let meta = Ipv6Meta {
        src: V6_VIP,
        ..v6_meta()
    };
    let got = decode_v6(&buf[..len], &meta, &RecvOptionsV3::default()).expect("accepted");
    assert_eq!((got.src, got.vrid, got.priority), (V6_VIP, 51, 150));
}

#[test]
fn v6_rejections_in_check_order() {
    let opts = RecvOptionsV3::default();
    let meta = v6_meta();
    let err = |payload: &[u8], meta: &Ipv6Meta, opts: &RecvOptionsV3<'_, Ipv6Addr>| {
        decode_v6(payload, meta, opts).err()
    };
    assert_eq!(
        err(&V6_BYTES[..7], &meta, &opts),
        Some(DropReason::Truncated)
    );
    assert_eq!(
        err(&V6_BYTES[..20], &meta, &opts),
        Some(DropReason::BadLength)
    );
    let low_hops = Ipv6Meta {
        hop_limit: 254,
        ..meta
    };
    assert_eq!(err(&V6_BYTES, &low_hops, &opts), Some(DropReason::BadTtl));
    let unicast_dst = Ipv6Meta {
        dst: V6_SRC,
        ..meta
    };
    assert_eq!(
        err(&V6_BYTES, &unicast_dst, &opts),
        Some(DropReason::BadDestination)
    );
    for src in [Ipv6Addr::UNSPECIFIED, VRRP_MCAST_V6] {
        let no_router = Ipv6Meta { src, ..meta };
        assert_eq!(
            err(&V6_BYTES, &no_router, &opts),
            Some(DropReason::BadSource)
        );
    }
    // A global source passes the source check (keepalived 2.2.7 accepts
    // it): V6_BYTES' checksum covers fe80::1, so the checksum fails next.
    let global_src = Ipv6Meta {
        src: V6_VIP,
        ..meta
    };
    assert_eq!(
        err(&V6_BYTES, &global_src, &opts),
        Some(DropReason::BadChecksum)
    );
    let mut v2 = V6_BYTES;
    v2[0] = 0x21;
    assert_eq!(err(&v2, &meta, &opts), Some(DropReason::BadVersion));
    let mut t = V6_BYTES;
    t[0] = 0x32;
    assert_eq!(err(&t, &meta, &opts), Some(DropReason::BadType));
    let mut c = V6_BYTES;
    c[23] ^= 1;
    assert_eq!(err(&c, &meta, &opts), Some(DropReason::BadChecksum));
    let other_dst = Ipv6Meta {
        dst: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x13),
        ..meta
    };
    assert_eq!(
        err(&V6_BYTES, &other_dst, &opts),
        Some(DropReason::BadChecksum)
    );
    let vrid = RecvOptionsV3 {
        vrid: Some(52),
        ..opts
    };
    assert_eq!(err(&V6_BYTES, &meta, &vrid), Some(DropReason::VridMismatch));
    let addrs = RecvOptionsV3 {
        addresses: Some(&[V6_SRC][..]),
        ..opts
    };
    assert_eq!(
        err(&V6_BYTES, &meta, &addrs),
        Some(DropReason::AddressMismatch)
    );
}

#[test]
fn unicast_skips_hop_limit_and_source_checks_but_wants_a_unicast_destination() {
    let dst = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 2);
    let src = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    let repr = AdvertV3Repr {
        src,
        dst,
        ..v6_repr(&[V6_VIP])
    };
    let mut buf = [0u8; 24];
    encode_v6(&repr, &mut buf).expect("fits");
    let meta = Ipv6Meta {
        src,
        dst,
        hop_limit: 64,
    };
    let unicast = RecvOptionsV3 {
        unicast: true,
        ..Default::default()
    };
    assert_eq!(decode_v6(&buf, &meta, &unicast).map(|a| a.ttl), Ok(64));
    let mcast_meta = Ipv6Meta {
        hop_limit: 255,
        ..v6_meta()
    };
    assert_eq!(
        decode_v6(&V6_BYTES, &mcast_meta, &unicast).err(),
        Some(DropReason::BadDestination)
    );
}

#[test]
fn v4_rejections() {
    let opts = RecvOptionsV3::default();
    // A VRRPv2 advert of the same VRID is the wrong version, not a bad length.
    let auth = crate::wire::auth::AuthConfig::None;
    let v2 = crate::wire::AdvertRepr {
        src: V4_SRC,
        dst: crate::wire::VRRP_MCAST_V4,
        ttl: 255,
        vrid: 51,
        priority: 150,
        adver_int: 1,
        addresses: &[V4_VIP],
    };
    let mut buf = [0u8; 40];
    let n = crate::wire::encode(&v2, &auth, &mut TxCounters::new(), &mut buf).expect("fits");
    assert_eq!(decode_v3(&buf[..n], &opts), Err(DropReason::BadVersion));
    // And the reverse.
    let v2_opts = crate::wire::RecvOptions::default();
    let mut replay = crate::wire::auth::AhReplay::new();
    assert_eq!(
        crate::wire::decode(&V4_BYTES, &v2_opts, &auth, &mut replay),
        Err(DropReason::BadLength)
    );
    // The checksum covers the pseudo-header: another destination breaks it.
    let mut other = V4_BYTES;
    other[19] = 0x13;
    let c = crate::wire::checksum::checksum(&{
        let mut h = [0u8; 20];
        h.copy_from_slice(&other[..20]);
        h[10] = 0;
        h[11] = 0;
        h
    });
    other[10..12].copy_from_slice(&c.to_be_bytes());
    assert_eq!(decode_v3(&other, &opts), Err(DropReason::BadChecksum));
    // AH under version 3: keepalived's "AH header but auth type not AH".
    let mut ah = V4_BYTES;
    ah[9] = IPPROTO_AH;
    ah[10..12].fill(0);
    let c = crate::wire::checksum::checksum(&ah[..20]);
    ah[10..12].copy_from_slice(&c.to_be_bytes());
    assert_eq!(decode_v3(&ah, &opts), Err(DropReason::AuthTypeMismatch));
    let mut ttl = V4_BYTES;
    ttl[8] = 254;
    ttl[10..12].fill(0);
    let c = crate::wire::checksum::checksum(&ttl[..20]);
    ttl[10..12].copy_from_slice(&c.to_be_bytes());
    assert_eq!(decode_v3(&ttl, &opts), Err(DropReason::BadTtl));
}

#[test]
fn encode_rejects_bad_intervals_counts_and_buffers() {
    let mut buf = [0u8; 64];
    let mut tx = TxCounters::new();
    for bad in [0, 4096] {
        let r = AdvertV3Repr {
            max_adver_int: bad,
            ..v4_repr(&[V4_VIP])
        };
        assert_eq!(
            encode_v3(&r, &mut tx, &mut buf),
            Err(EncodeError::BadAdverInt)
        );
    }
    let many = [V6_VIP; 256];
    assert_eq!(
        encode_v6(&v6_repr(&many), &mut buf),
        Err(EncodeError::TooManyAddresses)
    );
    assert_eq!(
        encode_v6(&v6_repr(&[V6_VIP]), &mut buf[..23]),
        Err(EncodeError::BufferTooSmall { needed: 24 })
    );
    assert_eq!(
        encode_v3(&v4_repr(&[V4_VIP]), &mut tx, &mut buf[..31]),
        Err(EncodeError::BufferTooSmall { needed: 32 })
    );
    assert_eq!(tx.ip_id, 0, "a failed encode uses no IP identification");
}

#[test]
fn largest_interval_and_no_addresses_round_trip() {
    let r = AdvertV3Repr {
        max_adver_int: 4095,
        ..v6_repr(&[])
    };
    let mut buf = [0u8; 8];
    assert_eq!(encode_v6(&r, &mut buf), Ok(8));
    let got = decode_v6(&buf, &v6_meta(), &RecvOptionsV3::default()).expect("valid");
    assert_eq!((got.max_adver_int, got.addresses.len()), (4095, 0));
}

#[test]
fn link_local_is_fe80_slash_10() {
    assert!(is_link_local(V6_SRC));
    assert!(is_link_local(Ipv6Addr::new(0xfebf, 0, 0, 0, 0, 0, 0, 1)));
    assert!(!is_link_local(Ipv6Addr::new(0xfec0, 0, 0, 0, 0, 0, 0, 1)));
    assert!(!is_link_local(V6_VIP));
}
