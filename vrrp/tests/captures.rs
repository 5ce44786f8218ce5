//! The committed keepalived 2.2.7 captures (vrrp/tests/captures/README.md)
//! decode and verify with the right password, fail with a wrong one, and
//! our encoder rebuilds every captured datagram byte for byte. The same
//! for the VRRPv3 captures, over IPv4 (multicast and unicast) and IPv6.
#![allow(clippy::unwrap_used)] // Test code: a panic is the failure report.

mod codec;

use std::net::{Ipv4Addr, Ipv6Addr};

use codec::{capture_datagrams, capture_path, VIPS};
use pcap_file::pcap::PcapReader;
use vrrp::auth::{AhReplay, AuthConfig, TxCounters};
use vrrp::wire::{
    self, AdvertRepr, AdvertV3Repr, AuthType, DropReason, Ipv6Meta, RecvOptions, RecvOptionsV3,
};

/// (source, IP id, priority, AH seq) of every datagram of a capture, in order.
type Expect = [(u8, u16, u8, Option<u32>); 8];

fn expected(ah: bool) -> Expect {
    let seq = |n: u32| ah.then_some(n);
    [
        (1, 1, 150, seq(1)),
        (1, 2, 150, seq(2)),
        (1, 3, 150, seq(3)),
        (1, 4, 0, seq(4)),
        // keepalived shares one AH counter between receive and send, so
        // the backup that takes over continues after the last seq it saw.
        (2, 1, 100, seq(5)),
        (2, 2, 100, seq(6)),
        (2, 3, 100, seq(7)),
        (2, 4, 0, seq(8)),
    ]
}

fn opts() -> RecvOptions<'static> {
    RecvOptions {
        vrid: Some(51),
        unicast: false,
        adver_int: Some(1),
        addresses: Some(&VIPS),
    }
}

fn check_capture(file: &str, auth: &AuthConfig, want_type: AuthType) {
    let datagrams = capture_datagrams(file);
    let want = expected(want_type == AuthType::Ah);
    assert_eq!(datagrams.len(), want.len(), "{file}: packet count");
    let mut replay = AhReplay::new();
    for (d, &(host, ip_id, prio, seq)) in datagrams.iter().zip(&want) {
        let a = wire::decode(d, &opts(), auth, &mut replay).unwrap();
        assert_eq!(a.src, Ipv4Addr::new(10, 0, 0, host));
        assert_eq!(a.dst, wire::VRRP_MCAST_V4);
        assert_eq!((a.ttl, a.ip_id, a.version, a.vrid), (255, ip_id, 2, 51));
        assert_eq!((a.priority, a.adver_int, a.auth_type), (prio, 1, want_type));
        assert_eq!(a.ah_seq, seq);
        assert_eq!(a.addresses.iter().collect::<Vec<_>>(), VIPS);

        // Rebuild it with our encoder from the same counters: same bytes.
        let repr = AdvertRepr {
            src: a.src,
            dst: a.dst,
            ttl: a.ttl,
            vrid: a.vrid,
            priority: a.priority,
            adver_int: 1,
            addresses: &VIPS,
        };
        let mut tx = TxCounters {
            ip_id: ip_id - 1,
            ah_seq: seq.map_or(0, |s| s - 1),
        };
        let mut buf = [0xa5u8; wire::MAX_DATAGRAM_LEN];
        let n = wire::encode(&repr, auth, &mut tx, &mut buf).unwrap();
        assert_eq!(&buf[..n], &d[..], "{file}: re-encoded datagram differs");
        assert!(
            buf[n..].iter().all(|&b| b == 0xa5),
            "wrote past the datagram"
        );
    }
    if want_type == AuthType::Ah {
        assert_eq!(replay.last(), 8);
    }
}

#[test]
fn none_capture_decodes_and_reencodes() {
    check_capture("none.pcap", &AuthConfig::None, AuthType::None);
}

#[test]
fn pass_capture_decodes_with_truncated_password() {
    // keepalived was given "passw0rd-too-long" and truncated it to 8 bytes.
    let auth = AuthConfig::from_keepalived("PASS", "passw0rd-too-long").unwrap();
    check_capture("pass.pcap", &auth, AuthType::Pass);
    let short = AuthConfig::from_keepalived("PASS", "passw0rd").unwrap();
    check_capture("pass.pcap", &short, AuthType::Pass);
}

#[test]
fn ah_capture_verifies_icv_and_reencodes() {
    let auth = AuthConfig::from_keepalived("AH", "secret1").unwrap();
    check_capture("ah.pcap", &auth, AuthType::Ah);
}

#[test]
fn wrong_password_is_auth_failure_for_every_packet() {
    for (file, auth) in [
        ("pass.pcap", AuthConfig::pass(b"passw0rX")),
        ("ah.pcap", AuthConfig::ah(b"secret2")),
        ("ah.pcap", AuthConfig::ah(b"secret1x")),
    ] {
        for d in capture_datagrams(file) {
            let got = wire::decode(&d, &opts(), &auth, &mut AhReplay::new());
            assert_eq!(got, Err(DropReason::AuthFailure), "{file}");
        }
    }
}

#[test]
fn wrong_auth_type_is_a_mismatch() {
    for (file, auth) in [
        ("none.pcap", AuthConfig::pass(b"passw0rd")),
        ("pass.pcap", AuthConfig::None),
        ("pass.pcap", AuthConfig::ah(b"passw0rd")),
        ("ah.pcap", AuthConfig::None),
        ("ah.pcap", AuthConfig::pass(b"secret1")),
    ] {
        for d in capture_datagrams(file) {
            let got = wire::decode(&d, &opts(), &auth, &mut AhReplay::new());
            assert_eq!(got, Err(DropReason::AuthTypeMismatch), "{file}");
        }
    }
}

#[test]
fn replayed_ah_capture_is_rejected() {
    let auth = AuthConfig::ah(b"secret1");
    let mut replay = AhReplay::new();
    let datagrams = capture_datagrams("ah.pcap");
    for d in &datagrams {
        wire::decode(d, &opts(), &auth, &mut replay).unwrap();
    }
    for d in &datagrams {
        assert_eq!(
            wire::decode(d, &opts(), &auth, &mut replay),
            Err(DropReason::AhReplay)
        );
    }
}

#[test]
fn ah_unicast_capture_zeroes_ttl_in_icv() {
    // keepalived with unicast peers leaves the TTL out of the ICV (it is
    // zeroed, though 255 is on the wire); the receiver must know.
    let auth = AuthConfig::ah(b"secret1");
    let unicast = RecvOptions {
        unicast: true,
        ..opts()
    };
    let datagrams = capture_datagrams("ah-unicast.pcap");
    let want = expected(true);
    assert_eq!(datagrams.len(), want.len());
    let mut replay = AhReplay::new();
    for (d, &(host, ip_id, prio, seq)) in datagrams.iter().zip(&want) {
        let a = wire::decode(d, &unicast, &auth, &mut replay).unwrap();
        let peer = Ipv4Addr::new(10, 0, 0, 3 - host);
        assert_eq!(
            (a.src, a.dst, a.ttl),
            (Ipv4Addr::new(10, 0, 0, host), peer, 255)
        );
        assert_eq!((a.ip_id, a.priority, a.ah_seq), (ip_id, prio, seq));
        let repr = AdvertRepr {
            src: a.src,
            dst: peer,
            ttl: 255,
            vrid: 51,
            priority: prio,
            adver_int: 1,
            addresses: &VIPS,
        };
        let mut tx = TxCounters {
            ip_id: ip_id - 1,
            ah_seq: seq.unwrap() - 1,
        };
        let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
        let n = wire::encode(&repr, &auth, &mut tx, &mut buf).unwrap();
        assert_eq!(&buf[..n], &d[..], "re-encoded unicast datagram differs");

        // Read as a multicast router: wrong destination; wrong password fails.
        let got = wire::decode(d, &opts(), &auth, &mut AhReplay::new());
        assert_eq!(got, Err(DropReason::BadDestination));
        let got = wire::decode(
            d,
            &unicast,
            &AuthConfig::ah(b"secret2"),
            &mut AhReplay::new(),
        );
        assert_eq!(got, Err(DropReason::AuthFailure));
    }
}

fn opts_v3(unicast: bool) -> RecvOptionsV3<'static, Ipv4Addr> {
    RecvOptionsV3 {
        vrid: Some(51),
        unicast,
        addresses: Some(&VIPS),
    }
}

/// The VRRPv3 IPv4 captures: version 3 in the instance, advert_int 1.
fn check_v3_capture(file: &str, unicast: bool) {
    let datagrams = capture_datagrams(file);
    let want = expected(false);
    assert_eq!(datagrams.len(), want.len(), "{file}: packet count");
    for (d, &(host, ip_id, prio, _)) in datagrams.iter().zip(&want) {
        let a = wire::decode_v3(d, &opts_v3(unicast)).unwrap();
        let src = Ipv4Addr::new(10, 0, 0, host);
        let dst = if unicast {
            Ipv4Addr::new(10, 0, 0, 3 - host)
        } else {
            wire::VRRP_MCAST_V4
        };
        assert_eq!((a.src, a.dst, a.ttl, a.ip_id), (src, dst, 255, Some(ip_id)));
        assert_eq!((a.vrid, a.priority, a.max_adver_int), (51, prio, 100));
        assert_eq!(a.addresses.iter().collect::<Vec<_>>(), VIPS);

        let repr = AdvertV3Repr {
            src,
            dst,
            ttl: 255,
            vrid: 51,
            priority: prio,
            max_adver_int: 100,
            addresses: &VIPS,
        };
        let mut tx = TxCounters {
            ip_id: ip_id - 1,
            ah_seq: 0,
        };
        let mut buf = [0xa5u8; wire::MAX_DATAGRAM_LEN_V3];
        let n = wire::encode_v3(&repr, &mut tx, &mut buf).unwrap();
        assert_eq!(&buf[..n], &d[..], "{file}: re-encoded datagram differs");
        assert!(buf[n..].iter().all(|&b| b == 0xa5), "wrote past the end");

        // The other mode's receiver refuses it; so does a VRRPv2 one.
        let got = wire::decode_v3(d, &opts_v3(!unicast));
        assert_eq!(got.err(), Some(DropReason::BadDestination));
        let v2 = RecvOptions {
            unicast,
            ..RecvOptions::default()
        };
        let got = wire::decode(d, &v2, &AuthConfig::None, &mut AhReplay::new());
        assert_eq!(got, Err(DropReason::BadLength));
    }
}

#[test]
fn v3_capture_decodes_and_reencodes() {
    check_v3_capture("v3.pcap", false);
}

#[test]
fn v3_unicast_capture_checksums_over_the_peer_address() {
    // keepalived 2.2.7 puts the datagram's real (unicast) destination in
    // the pseudo-header (its `unicast_chksum_compat` option, off by
    // default, would put 224.0.0.18 there as old versions did).
    check_v3_capture("v3-unicast.pcap", true);
}

#[test]
fn v2_captures_are_the_wrong_version_for_v3() {
    for d in capture_datagrams("none.pcap") {
        let got = wire::decode_v3(&d, &opts_v3(false));
        assert_eq!(got.err(), Some(DropReason::BadVersion));
    }
}

/// (meta, payload) of every IPv6 packet of an Ethernet capture.
fn capture_v6(file: &str) -> Vec<(Ipv6Meta, Vec<u8>)> {
    let f = std::fs::File::open(capture_path(file)).unwrap();
    let mut r = PcapReader::new(f).unwrap();
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.unwrap();
        assert_eq!(&p.data[12..14], &[0x86, 0xdd], "{file}: not IPv6");
        let ip = &p.data[14..];
        assert_eq!(ip[6], 112, "{file}: next header");
        let len = usize::from(u16::from_be_bytes([ip[4], ip[5]]));
        let addr = |at: usize| Ipv6Addr::from(<[u8; 16]>::try_from(&ip[at..at + 16]).unwrap());
        let meta = Ipv6Meta {
            src: addr(8),
            dst: addr(24),
            hop_limit: ip[7],
        };
        out.push((meta, ip[40..40 + len].to_vec()));
    }
    out
}

#[test]
fn v3_ipv6_capture_decodes_and_reencodes() {
    // advert_int 0.5, no version keyword (IPv6 defaults to 3); the first
    // virtual address is link-local, as keepalived recommends.
    let vips = [
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100),
    ];
    let opts = RecvOptionsV3 {
        vrid: Some(51),
        unicast: false,
        addresses: Some(&vips[..]),
    };
    let packets = capture_v6("v3-ipv6.pcap");
    let mut seen = Vec::new();
    for (meta, payload) in &packets {
        let a = wire::decode_v6(payload, meta, &opts).unwrap();
        assert_eq!((a.dst, a.ttl, a.ip_id), (wire::VRRP_MCAST_V6, 255, None));
        assert_eq!((a.vrid, a.max_adver_int), (51, 50));
        assert_eq!(a.addresses.iter().collect::<Vec<_>>(), vips);
        let host = a.src.segments()[7];
        assert_eq!(a.src, Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, host));
        if seen.last() != Some(&(host, a.priority)) {
            seen.push((host, a.priority));
        }

        let repr = AdvertV3Repr {
            src: a.src,
            dst: a.dst,
            ttl: 255,
            vrid: 51,
            priority: a.priority,
            max_adver_int: 50,
            addresses: &vips,
        };
        let mut buf = [0xa5u8; wire::MAX_PAYLOAD_LEN_V6];
        let n = wire::encode_v6(&repr, &mut buf).unwrap();
        assert_eq!(&buf[..n], &payload[..], "re-encoded payload differs");
        assert!(buf[n..].iter().all(|&b| b == 0xa5), "wrote past the end");
    }
    // r1 advertises, stops with priority 0, r2 takes over and stops too.
    assert_eq!(seen, [(1, 150), (1, 0), (2, 100), (2, 0)]);
    assert!(packets.len() >= 8, "{} packets", packets.len());
}

#[test]
fn v3_ipv6_capture_rejections() {
    let (meta, payload) = capture_v6("v3-ipv6.pcap").remove(0);
    let opts = RecvOptionsV3::default();
    // Another source changes the pseudo-header; so does another group.
    let other_src = Ipv6Meta {
        src: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 9),
        ..meta
    };
    let got = wire::decode_v6(&payload, &other_src, &opts);
    assert_eq!(got.err(), Some(DropReason::BadChecksum));
    let routed = Ipv6Meta {
        hop_limit: 254,
        ..meta
    };
    let got = wire::decode_v6(&payload, &routed, &opts);
    assert_eq!(got.err(), Some(DropReason::BadTtl));
    let wrong_vips = RecvOptionsV3 {
        addresses: Some(&[Ipv6Addr::LOCALHOST][..]),
        ..opts
    };
    let got = wire::decode_v6(&payload, &meta, &wrong_vips);
    assert_eq!(got.err(), Some(DropReason::AddressMismatch));
}
