//! Table-driven rejection test: every malformed datagram yields its exact
//! typed reason (and a few near-misses are accepted), never a panic.
#![allow(clippy::unwrap_used)] // Test code: a panic is the failure report.

use std::net::Ipv4Addr;

use vrrp::auth::{AhKey, AhReplay, AuthConfig, TxCounters};
use vrrp::wire::{self, checksum, AdvertRepr, DropReason, RecvOptions};

const VIPS: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 0, 0, 100), Ipv4Addr::new(10, 0, 0, 101)];
const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PW: &[u8] = b"secret1";

fn build(auth: &AuthConfig, dst: Ipv4Addr, ttl: u8) -> Vec<u8> {
    let repr = AdvertRepr {
        src: SRC,
        dst,
        ttl,
        vrid: 51,
        priority: 100,
        adver_int: 1,
        addresses: &VIPS,
    };
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let n = wire::encode(&repr, auth, &mut TxCounters::new(), &mut buf).unwrap();
    buf[..n].to_vec()
}

fn none() -> Vec<u8> {
    build(&AuthConfig::None, wire::VRRP_MCAST_V4, 255)
}
fn pass() -> Vec<u8> {
    build(&AuthConfig::pass(PW), wire::VRRP_MCAST_V4, 255)
}
fn ah() -> Vec<u8> {
    build(&AuthConfig::ah(PW), wire::VRRP_MCAST_V4, 255)
}

fn ihl(d: &[u8]) -> usize {
    usize::from(d[0] & 0x0f) * 4
}
/// Offset of the VRRP message.
fn voff(d: &[u8]) -> usize {
    ihl(d) + if d[9] == 51 { 24 } else { 0 }
}
/// Total length = buffer length, then the IP checksum.
fn fix_ip(d: &mut [u8]) {
    let len = d.len() as u16;
    d[2..4].copy_from_slice(&len.to_be_bytes());
    d[10..12].fill(0);
    let c = checksum::checksum(&d[..ihl(d)]);
    d[10..12].copy_from_slice(&c.to_be_bytes());
}
/// VRRP checksum, then the IP header.
fn fix_vrrp(d: &mut [u8]) {
    let o = voff(d);
    d[o + 6..o + 8].fill(0);
    let c = checksum::checksum(&d[o..]);
    d[o + 6..o + 8].copy_from_slice(&c.to_be_bytes());
    fix_ip(d);
}
/// Everything, including a fresh AH ICV (multicast: TTL kept).
fn resign(d: &mut [u8], zero_ttl: bool) {
    fix_vrrp(d);
    let h = ihl(d);
    let mut ip = d[..h].to_vec();
    ip[1] = 0;
    ip[6..8].fill(0);
    ip[10..12].fill(0);
    if zero_ttl {
        ip[8] = 0;
    }
    d[h + 12..h + 24].fill(0);
    let icv = AhKey::new(PW).icv(&[&ip, &d[h..]]);
    d[h + 12..h + 24].copy_from_slice(&icv);
}
fn with(mut d: Vec<u8>, f: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    f(&mut d);
    d
}
/// Inserts a 4-byte IP option (four NOPs): IHL 6.
fn with_options(mut d: Vec<u8>) -> Vec<u8> {
    d.splice(20..20, [1u8, 1, 1, 1]);
    d[0] = 0x46;
    d
}

struct Case {
    name: &'static str,
    datagram: Vec<u8>,
    auth: AuthConfig,
    opts: RecvOptions<'static>,
    replay_last: u32,
    want: Result<(), DropReason>,
}

fn strict() -> RecvOptions<'static> {
    RecvOptions {
        vrid: Some(51),
        unicast: false,
        adver_int: Some(1),
        addresses: Some(&VIPS),
    }
}

fn case(
    name: &'static str,
    datagram: Vec<u8>,
    auth: AuthConfig,
    want: Result<(), DropReason>,
) -> Case {
    Case {
        name,
        datagram,
        auth,
        opts: strict(),
        replay_last: 0,
        want,
    }
}

fn cases() -> Vec<Case> {
    use DropReason::*;
    let n = || AuthConfig::None;
    let p = || AuthConfig::pass(PW);
    let a = || AuthConfig::ah(PW);
    let mut v = vec![
        // Truncations at every header boundary.
        case("empty", vec![], n(), Err(Truncated)),
        case("19 bytes of IP", none()[..19].to_vec(), n(), Err(Truncated)),
        case(
            "IP header only",
            with(none(), |d| {
                d.truncate(20);
                fix_ip(d)
            }),
            n(),
            Err(Truncated),
        ),
        case(
            "7 bytes of VRRP",
            with(none(), |d| {
                d.truncate(27);
                fix_ip(d)
            }),
            n(),
            Err(Truncated),
        ),
        case(
            "23 bytes of AH",
            with(ah(), |d| {
                d.truncate(43);
                fix_ip(d)
            }),
            a(),
            Err(Truncated),
        ),
        case(
            "AH + 7 bytes of VRRP",
            with(ah(), |d| {
                d.truncate(51);
                fix_ip(d)
            }),
            a(),
            Err(Truncated),
        ),
        // IPv4 header.
        case(
            "IP version 6",
            with(none(), |d| d[0] = 0x65),
            n(),
            Err(BadIpVersion),
        ),
        case(
            "IHL 4",
            with(none(), |d| d[0] = 0x44),
            n(),
            Err(BadIpHeaderLen),
        ),
        case(
            "IHL 15 past the end",
            with(none(), |d| {
                d.truncate(44);
                d[0] = 0x4f
            }),
            n(),
            Err(BadIpHeaderLen),
        ),
        case(
            "total length + 1",
            with(none(), |d| d[3] += 1),
            n(),
            Err(BadIpLength),
        ),
        case(
            "total length - 1",
            with(none(), |d| d[3] -= 1),
            n(),
            Err(BadIpLength),
        ),
        case(
            "link padding kept",
            with(none(), |d| d.push(0)),
            n(),
            Err(BadIpLength),
        ),
        case(
            "IP checksum",
            with(none(), |d| d[11] ^= 1),
            n(),
            Err(BadIpChecksum),
        ),
        case(
            "IHL 6 option, stale checksum",
            with(with_options(none()), |d| {
                let len = d.len() as u16;
                d[2..4].copy_from_slice(&len.to_be_bytes());
            }),
            n(),
            Err(BadIpChecksum),
        ),
        case(
            "more fragments",
            with(none(), |d| {
                d[6] = 0x20;
                fix_ip(d)
            }),
            n(),
            Err(Fragment),
        ),
        case(
            "fragment offset",
            with(none(), |d| {
                d[7] = 1;
                fix_ip(d)
            }),
            n(),
            Err(Fragment),
        ),
        case(
            "protocol UDP",
            with(none(), |d| {
                d[9] = 17;
                fix_ip(d)
            }),
            n(),
            Err(BadProtocol),
        ),
        // AH header.
        case(
            "AH next header UDP",
            with(ah(), |d| d[20] = 17),
            a(),
            Err(BadAhNextHeader),
        ),
        case(
            "AH payload length 5",
            with(ah(), |d| d[21] = 5),
            a(),
            Err(BadAhLength),
        ),
        // VRRP length and fixed fields.
        case(
            "count + 1",
            with(none(), |d| {
                d[23] = 3;
                fix_vrrp(d)
            }),
            n(),
            Err(BadLength),
        ),
        case(
            "count - 1",
            with(none(), |d| {
                d[23] = 1;
                fix_vrrp(d)
            }),
            n(),
            Err(BadLength),
        ),
        case(
            "count 0",
            with(none(), |d| {
                d[23] = 0;
                fix_vrrp(d)
            }),
            n(),
            Err(BadLength),
        ),
        case(
            "4 extra bytes",
            with(none(), |d| {
                d.extend([0; 4]);
                fix_vrrp(d)
            }),
            n(),
            Err(BadLength),
        ),
        case(
            "auth data cut",
            with(none(), |d| {
                d.truncate(d.len() - 4);
                fix_vrrp(d)
            }),
            n(),
            Err(BadLength),
        ),
        case(
            "TTL 254",
            with(none(), |d| {
                d[8] = 254;
                fix_ip(d)
            }),
            n(),
            Err(BadTtl),
        ),
        case(
            "TTL 1",
            with(none(), |d| {
                d[8] = 1;
                fix_ip(d)
            }),
            n(),
            Err(BadTtl),
        ),
        case(
            "VRRP version 3",
            with(none(), |d| {
                d[20] = 0x31;
                fix_vrrp(d)
            }),
            n(),
            Err(BadVersion),
        ),
        case(
            "VRRP version 1",
            with(none(), |d| {
                d[20] = 0x11;
                fix_vrrp(d)
            }),
            n(),
            Err(BadVersion),
        ),
        case(
            "VRRP type 2",
            with(none(), |d| {
                d[20] = 0x22;
                fix_vrrp(d)
            }),
            n(),
            Err(BadType),
        ),
        case(
            "VRRP checksum",
            with(none(), |d| d[27] ^= 0x80),
            n(),
            Err(BadChecksum),
        ),
        case(
            "priority changed",
            with(none(), |d| d[22] = 200),
            n(),
            Err(BadChecksum),
        ),
        case(
            "AH: VRRP checksum",
            with(ah(), |d| d[51] ^= 1),
            a(),
            Err(BadChecksum),
        ),
        case(
            "VRID 52",
            with(none(), |d| {
                d[21] = 52;
                fix_vrrp(d)
            }),
            n(),
            Err(VridMismatch),
        ),
        // Authentication.
        case(
            "auth type 3",
            with(none(), |d| {
                d[24] = 3;
                fix_vrrp(d)
            }),
            n(),
            Err(InvalidAuthType),
        ),
        case(
            "PASS packet, no auth configured",
            pass(),
            n(),
            Err(AuthTypeMismatch),
        ),
        case(
            "no-auth packet, PASS configured",
            none(),
            p(),
            Err(AuthTypeMismatch),
        ),
        case(
            "AH packet, PASS configured",
            ah(),
            p(),
            Err(AuthTypeMismatch),
        ),
        case(
            "PASS packet, AH configured",
            pass(),
            a(),
            Err(AuthTypeMismatch),
        ),
        case(
            "AH header, VRRP says PASS",
            with(ah(), |d| {
                d[48] = 1;
                resign(d, false)
            }),
            a(),
            Err(AuthTypeMismatch),
        ),
        case(
            "PASS data differs",
            with(pass(), |d| {
                let l = d.len();
                d[l - 2] = b'X';
                fix_vrrp(d)
            }),
            p(),
            Err(AuthFailure),
        ),
        case(
            "PASS data case",
            with(pass(), |d| {
                let l = d.len();
                d[l - 8] = b'S';
                fix_vrrp(d)
            }),
            p(),
            Err(AuthFailure),
        ),
        case(
            "AH ICV bit flip",
            with(ah(), |d| d[32] ^= 1),
            a(),
            Err(AuthFailure),
        ),
        case(
            "AH seq changed, not re-signed",
            with(ah(), |d| d[31] = 9),
            a(),
            Err(AuthFailure),
        ),
        case(
            "AH IP id changed, not re-signed",
            with(ah(), |d| {
                d[5] = 9;
                fix_ip(d)
            }),
            a(),
            Err(AuthFailure),
        ),
        case(
            "AH TTL zeroed in ICV on multicast",
            with(ah(), |d| resign(d, true)),
            a(),
            Err(AuthFailure),
        ),
        case(
            "AH wrong password",
            ah(),
            AuthConfig::ah(b"secret2"),
            Err(AuthFailure),
        ),
        case(
            "AH SPI not the source",
            with(ah(), |d| {
                d[27] = 9;
                resign(d, false)
            }),
            a(),
            Err(BadAhSpi),
        ),
        case(
            "AH seq 0",
            with(ah(), |d| {
                d[31] = 0;
                resign(d, false)
            }),
            a(),
            Err(AhReplay),
        ),
        case(
            "adver_int 2",
            with(none(), |d| {
                d[25] = 2;
                fix_vrrp(d)
            }),
            n(),
            Err(AdverIntMismatch),
        ),
        case(
            "address changed",
            with(none(), |d| {
                d[31] = 102;
                fix_vrrp(d)
            }),
            n(),
            Err(AddressMismatch),
        ),
        case(
            "addresses duplicated",
            with(none(), |d| {
                d[35] = 100;
                fix_vrrp(d)
            }),
            n(),
            Err(AddressMismatch),
        ),
        // Near misses that are valid.
        case("valid, no auth", none(), n(), Ok(())),
        case("valid, PASS", pass(), p(), Ok(())),
        case("valid, AH", ah(), a(), Ok(())),
        case(
            "DF set (not a fragment)",
            with(none(), |d| {
                d[6] = 0x40;
                fix_ip(d)
            }),
            n(),
            Ok(()),
        ),
        case(
            "AH: TOS and DF are not covered",
            with(ah(), |d| {
                d[1] = 0;
                d[6] = 0x40;
                fix_ip(d)
            }),
            a(),
            Ok(()),
        ),
        case(
            "IHL 6 option",
            with(with_options(none()), |d| fix_ip(d)),
            n(),
            Ok(()),
        ),
        case(
            "IHL 6 option, AH covers it",
            with(with_options(ah()), |d| resign(d, false)),
            a(),
            Ok(()),
        ),
    ];
    // Cases that need non-default receive options or replay state.
    let mut replay5 = case("AH seq 1 after 5", ah(), a(), Err(DropReason::AhReplay));
    replay5.replay_last = 5;
    let mut equal = case(
        "AH seq equal to last",
        with(ah(), |d| {
            d[31] = 5;
            resign(d, false)
        }),
        a(),
        Err(DropReason::AhReplay),
    );
    equal.replay_last = 5;
    let uni_none = build(&AuthConfig::None, Ipv4Addr::new(10, 0, 0, 2), 64);
    let mut unicast_ttl = case("unicast: TTL 64 accepted", uni_none.clone(), n(), Ok(()));
    unicast_ttl.opts.unicast = true;
    let mut mc_on_unicast = case(
        "multicast datagram, unicast router",
        none(),
        n(),
        Err(DropReason::BadDestination),
    );
    mc_on_unicast.opts.unicast = true;
    let uni_255 = build(&AuthConfig::None, Ipv4Addr::new(10, 0, 0, 2), 255);
    let uc_on_multicast = case(
        "unicast datagram, multicast router",
        uni_255,
        n(),
        Err(DropReason::BadDestination),
    );
    let uni = build(&AuthConfig::ah(PW), Ipv4Addr::new(10, 0, 0, 2), 64);
    let mut unicast_ah = case("unicast AH: TTL zeroed in ICV", uni.clone(), a(), Ok(()));
    unicast_ah.opts.unicast = true;
    let mut unicast_ah_mc = case(
        "unicast AH read as multicast",
        uni,
        a(),
        Err(DropReason::BadTtl),
    );
    unicast_ah_mc.opts.unicast = false;
    let mut lax = case(
        "no VRID/interval/address expectations",
        with(none(), |d| {
            d[21] = 7;
            d[25] = 3;
            d[31] = 1;
            fix_vrrp(d)
        }),
        n(),
        Ok(()),
    );
    lax.opts = RecvOptions::default();
    v.extend([
        replay5,
        equal,
        unicast_ttl,
        mc_on_unicast,
        uc_on_multicast,
        unicast_ah,
        unicast_ah_mc,
        lax,
    ]);
    v
}

#[test]
fn every_malformed_input_has_its_exact_reason() {
    let cases = cases();
    let rejected = cases.iter().filter(|c| c.want.is_err()).count();
    assert!(rejected >= 30, "only {rejected} malformed cases");
    let mut failures = Vec::new();
    for c in &cases {
        let mut replay = AhReplay::new();
        if c.replay_last > 0 {
            assert!(replay.accept(c.replay_last));
        }
        let before = replay;
        let got = wire::decode(&c.datagram, &c.opts, &c.auth, &mut replay).map(|_| ());
        if got != c.want {
            failures.push(format!("{}: got {got:?}, want {:?}", c.name, c.want));
        }
        if got.is_err() {
            assert_eq!(
                replay, before,
                "{}: a rejection changed the replay state",
                c.name
            );
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_prefix_of_valid_datagrams_is_rejected_without_panic() {
    for (d, auth) in [
        (none(), AuthConfig::None),
        (pass(), AuthConfig::pass(PW)),
        (ah(), AuthConfig::ah(PW)),
    ] {
        for cut in 0..d.len() {
            let got = wire::decode(&d[..cut], &strict(), &auth, &mut AhReplay::new());
            assert!(got.is_err(), "prefix {cut} accepted");
        }
    }
}

#[test]
fn every_single_bit_flip_is_rejected_or_harmless() {
    // Flipping any bit of an AH datagram must be caught, except in the two
    // fields keepalived leaves out of the ICV and no check covers (TOS, DF).
    let d = ah();
    let auth = AuthConfig::ah(PW);
    for byte in 0..d.len() {
        for bit in 0..8 {
            let mut m = d.clone();
            m[byte] ^= 1 << bit;
            let ok = wire::decode(&m, &strict(), &auth, &mut AhReplay::new()).is_ok();
            let harmless = byte == 1 || (byte == 6 && bit == 6);
            assert!(!ok || harmless, "flip of byte {byte} bit {bit} accepted");
        }
    }
}
