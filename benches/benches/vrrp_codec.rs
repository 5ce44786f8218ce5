//! The VRRPv2 codec: decode+validate, encode, the PASS check, AH sign and
//! verify, and the anchor: a raw HMAC-MD5 (same precomputed key, same
//! bytes) so the AH overhead reads as a ratio. Adverts carry one address
//! like keepalived's samples; AH datagrams are 64 bytes.

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::Duration;

use criterion::{criterion_group, Criterion};
use hmac::{Hmac, Mac};
use md5::Md5;
use vrrp::auth::{AhReplay, AuthConfig, TxCounters};
use vrrp::wire::{self, AdvertRepr, RecvOptions};

const VIPS: [Ipv4Addr; 1] = [Ipv4Addr::new(10, 0, 0, 100)];

fn repr() -> AdvertRepr<'static> {
    AdvertRepr {
        src: Ipv4Addr::new(10, 0, 0, 1),
        dst: wire::VRRP_MCAST_V4,
        ttl: wire::VRRP_TTL,
        vrid: 51,
        priority: 150,
        adver_int: 1,
        addresses: &VIPS,
    }
}

fn opts() -> RecvOptions<'static> {
    RecvOptions {
        vrid: Some(51),
        unicast: false,
        adver_int: Some(1),
        addresses: Some(&VIPS),
    }
}

fn encoded(auth: &AuthConfig) -> Vec<u8> {
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let n = wire::encode(&repr(), auth, &mut TxCounters::new(), &mut buf).expect("encode");
    buf[..n].to_vec()
}

fn auths() -> [(&'static str, AuthConfig); 3] {
    [
        ("none", AuthConfig::None),
        ("pass", AuthConfig::pass(b"secret1")),
        ("ah", AuthConfig::ah(b"secret1")),
    ]
}

fn codec(c: &mut Criterion) {
    let mut g = c.benchmark_group("vrrp_codec");
    for (name, auth) in auths().into_iter().take(2) {
        let d = encoded(&auth);
        g.bench_function(format!("decode_validate/{name}"), |b| {
            b.iter(|| {
                let a = wire::decode(black_box(&d), &opts(), &auth, &mut AhReplay::new());
                black_box(a.map(|a| a.priority))
            })
        });
        let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
        let mut tx = TxCounters::new();
        g.bench_function(format!("encode/{name}"), |b| {
            b.iter(|| black_box(wire::encode(black_box(&repr()), &auth, &mut tx, &mut buf)))
        });
    }
    let pass = AuthConfig::pass(b"secret1");
    g.bench_function("pass_check", |b| {
        b.iter(|| black_box(pass.check_pass(black_box(b"secret1\0"))))
    });
    g.finish();
}

/// AH sign (a whole AH encode) and verify (a whole AH decode+validate)
/// between two runs of the anchor, a raw HMAC-MD5 of the same 64 bytes with
/// the key schedule precomputed as the codec does. Compare each to the mean
/// of the two anchors: on a shared machine the load drifts during a run.
fn ah(c: &mut Criterion) {
    let auth = AuthConfig::ah(b"secret1");
    let d = encoded(&auth);
    let keyed = Hmac::<Md5>::new_from_slice(b"secret1\0").expect("any key length");
    let raw = |b: &mut criterion::Bencher<'_>| {
        b.iter(|| {
            let mut m = keyed.clone();
            m.update(black_box(&d));
            black_box(m.finalize().into_bytes())
        })
    };
    let mut g = c.benchmark_group("vrrp_ah");
    g.bench_function("hmac_md5_raw", raw);
    g.bench_function("verify", |b| {
        b.iter(|| {
            // A fresh replay state: every iteration verifies in full.
            let a = wire::decode(black_box(&d), &opts(), &auth, &mut AhReplay::new());
            black_box(a.map(|a| a.ah_seq))
        })
    });
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let mut tx = TxCounters::new();
    g.bench_function("sign", |b| {
        b.iter(|| {
            tx.ah_seq = 0; // never run out of sequence numbers
            black_box(wire::encode(black_box(&repr()), &auth, &mut tx, &mut buf))
        })
    });
    g.bench_function("hmac_md5_raw_again", raw);
    // For reference: HMAC-MD5 that sets the key up for every message.
    g.bench_function("hmac_md5_rekey_per_message", |b| {
        b.iter(|| {
            let mut m =
                Hmac::<Md5>::new_from_slice(black_box(b"secret1\0")).expect("any key length");
            m.update(black_box(&d));
            black_box(m.finalize().into_bytes())
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = codec, ah
}

/// `VRRP_CODEC_ICOUNT=OP:N` runs OP N times and exits, for counting
/// instructions under `valgrind --tool=cachegrind --cache-sim=no`: unlike
/// time on a shared machine, instruction counts do not drift with load.
fn icount(spec: &str) {
    let (op, n) = spec.split_once(':').expect("OP:N");
    let n: u64 = n.parse().expect("N is a number");
    let ah = AuthConfig::ah(b"secret1");
    let (pass, none) = (AuthConfig::pass(b"secret1"), AuthConfig::None);
    let (d_ah, d_pass, d_none) = (encoded(&ah), encoded(&pass), encoded(&none));
    let keyed = Hmac::<Md5>::new_from_slice(b"secret1\0").expect("any key length");
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let mut tx = TxCounters::new();
    let decode = |d: &[u8], auth: &AuthConfig| {
        black_box(wire::decode(black_box(d), &opts(), auth, &mut AhReplay::new()).is_ok())
    };
    for _ in 0..n {
        tx.ah_seq = 0;
        match op {
            "hmac_md5_raw" => {
                let mut m = keyed.clone();
                m.update(black_box(&d_ah));
                black_box(m.finalize().into_bytes());
            }
            "ah_verify" => assert!(decode(&d_ah, &ah)),
            "ah_sign" => drop(black_box(wire::encode(
                black_box(&repr()),
                &ah,
                &mut tx,
                &mut buf,
            ))),
            "decode_none" => assert!(decode(&d_none, &none)),
            "decode_pass" => assert!(decode(&d_pass, &pass)),
            "encode_none" => drop(black_box(wire::encode(
                black_box(&repr()),
                &none,
                &mut tx,
                &mut buf,
            ))),
            "encode_pass" => drop(black_box(wire::encode(
                black_box(&repr()),
                &pass,
                &mut tx,
                &mut buf,
            ))),
            other => panic!("unknown op {other}"),
        }
    }
}

fn main() {
    if let Ok(spec) = std::env::var("VRRP_CODEC_ICOUNT") {
        icount(&spec);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
