//! The committed keepalived 2.2.7 captures (vrrp/tests/captures/README.md)
//! decode and verify with the right password, fail with a wrong one, and
//! our encoder rebuilds every captured datagram byte for byte.
#![allow(clippy::unwrap_used)] // Test code: a panic is the failure report.

mod codec;

use std::net::Ipv4Addr;

use codec::{capture_datagrams, VIPS};
use vrrp::auth::{AhReplay, AuthConfig, TxCounters};
use vrrp::wire::{self, AdvertRepr, AuthType, DropReason, RecvOptions};

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
