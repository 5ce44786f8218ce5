//! The VRRP codec: VRRPv2 decode+validate, encode, the PASS check, AH sign
//! and verify, and the anchor: a raw HMAC-MD5 (same precomputed key, same
//! bytes) so the AH overhead reads as a ratio; VRRPv3 decode+validate and
//! encode over IPv4 (whole datagram) and IPv6 (raw-socket payload). Adverts
//! carry one address like keepalived's samples; AH datagrams are 64 bytes.

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use criterion::{criterion_group, Criterion};
use hmac::{Hmac, Mac};
use md5::Md5;
use vrrp::auth::{AhReplay, AuthConfig, TxCounters};
use vrrp::wire::{self, AdvertRepr, AdvertV3Repr, Ipv6Meta, RecvOptions, RecvOptionsV3};

const VIPS: [Ipv4Addr; 1] = [Ipv4Addr::new(10, 0, 0, 100)];
const VIPS6: [Ipv6Addr; 1] = [Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100)];
const META6: Ipv6Meta = Ipv6Meta {
    src: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
    dst: wire::VRRP_MCAST_V6,
    hop_limit: 255,
};

fn repr_v3() -> AdvertV3Repr<'static, Ipv4Addr> {
    AdvertV3Repr {
        src: Ipv4Addr::new(10, 0, 0, 1),
        dst: wire::VRRP_MCAST_V4,
        ttl: wire::VRRP_TTL,
        vrid: 51,
        priority: 150,
        max_adver_int: 100,
        addresses: &VIPS,
    }
}

fn repr_v6() -> AdvertV3Repr<'static, Ipv6Addr> {
    AdvertV3Repr {
        src: META6.src,
        dst: META6.dst,
        ttl: wire::VRRP_TTL,
        vrid: 51,
        priority: 150,
        max_adver_int: 100,
        addresses: &VIPS6,
    }
}

fn opts_v3() -> RecvOptionsV3<'static, Ipv4Addr> {
    RecvOptionsV3 {
        vrid: Some(51),
        unicast: false,
        addresses: Some(&VIPS),
    }
}

fn opts_v6() -> RecvOptionsV3<'static, Ipv6Addr> {
    RecvOptionsV3 {
        vrid: Some(51),
        unicast: false,
        addresses: Some(&VIPS6),
    }
}

fn encoded_v3() -> Vec<u8> {
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN_V3];
    let n = wire::encode_v3(&repr_v3(), &mut TxCounters::new(), &mut buf).expect("encode");
    buf[..n].to_vec()
}

fn encoded_v6() -> Vec<u8> {
    let mut buf = [0u8; wire::MAX_PAYLOAD_LEN_V6];
    let n = wire::encode_v6(&repr_v6(), &mut buf).expect("encode");
    buf[..n].to_vec()
}

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
    let d3 = encoded_v3();
    g.bench_function("decode_validate/v3_ipv4", |b| {
        b.iter(|| black_box(wire::decode_v3(black_box(&d3), &opts_v3()).map(|a| a.priority)))
    });
    let d6 = encoded_v6();
    g.bench_function("decode_validate/v3_ipv6", |b| {
        b.iter(|| {
            let a = wire::decode_v6(black_box(&d6), black_box(&META6), &opts_v6());
            black_box(a.map(|a| a.priority))
        })
    });
    let mut buf = [0u8; wire::MAX_PAYLOAD_LEN_V6];
    let mut tx = TxCounters::new();
    g.bench_function("encode/v3_ipv4", |b| {
        b.iter(|| black_box(wire::encode_v3(black_box(&repr_v3()), &mut tx, &mut buf)))
    });
    g.bench_function("encode/v3_ipv6", |b| {
        b.iter(|| black_box(wire::encode_v6(black_box(&repr_v6()), &mut buf)))
    });
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

/// The operations of the instruction-count and interleaved modes.
const OPS: [&str; 11] = [
    "hmac_md5_raw",
    "ah_verify",
    "ah_sign",
    "decode_none",
    "decode_pass",
    "encode_none",
    "encode_pass",
    "decode_v3",
    "decode_v6",
    "encode_v3",
    "encode_v6",
];

/// Runs operation `op` `n` times.
struct Runner {
    ah: AuthConfig,
    pass: AuthConfig,
    none: AuthConfig,
    d_ah: Vec<u8>,
    d_pass: Vec<u8>,
    d_none: Vec<u8>,
    d_v3: Vec<u8>,
    d_v6: Vec<u8>,
    keyed: Hmac<Md5>,
    buf: [u8; wire::MAX_PAYLOAD_LEN_V6],
    tx: TxCounters,
}

impl Runner {
    fn new() -> Self {
        let ah = AuthConfig::ah(b"secret1");
        let (pass, none) = (AuthConfig::pass(b"secret1"), AuthConfig::None);
        Runner {
            d_ah: encoded(&ah),
            d_pass: encoded(&pass),
            d_none: encoded(&none),
            d_v3: encoded_v3(),
            d_v6: encoded_v6(),
            ah,
            pass,
            none,
            keyed: Hmac::<Md5>::new_from_slice(b"secret1\0").expect("any key length"),
            buf: [0u8; wire::MAX_PAYLOAD_LEN_V6],
            tx: TxCounters::new(),
        }
    }

    fn run(&mut self, op: &str, n: u64) {
        let decode = |d: &[u8], auth: &AuthConfig| {
            black_box(wire::decode(black_box(d), &opts(), auth, &mut AhReplay::new()).is_ok())
        };
        for _ in 0..n {
            self.tx.ah_seq = 0;
            let r = repr();
            match op {
                "hmac_md5_raw" => {
                    let mut m = self.keyed.clone();
                    m.update(black_box(&self.d_ah));
                    black_box(m.finalize().into_bytes());
                }
                "ah_verify" => assert!(decode(&self.d_ah, &self.ah)),
                "decode_none" => assert!(decode(&self.d_none, &self.none)),
                "decode_pass" => assert!(decode(&self.d_pass, &self.pass)),
                "decode_v3" => assert!(black_box(
                    wire::decode_v3(black_box(&self.d_v3), &opts_v3()).is_ok()
                )),
                "decode_v6" => assert!(black_box(
                    wire::decode_v6(black_box(&self.d_v6), black_box(&META6), &opts_v6()).is_ok()
                )),
                "encode_v3" => {
                    let n = wire::encode_v3(black_box(&repr_v3()), &mut self.tx, &mut self.buf);
                    black_box(n.is_ok());
                }
                "encode_v6" => {
                    black_box(wire::encode_v6(black_box(&repr_v6()), &mut self.buf).is_ok());
                }
                "ah_sign" | "encode_none" | "encode_pass" => {
                    let auth = match op {
                        "ah_sign" => &self.ah,
                        "encode_pass" => &self.pass,
                        _ => &self.none,
                    };
                    let n = wire::encode(black_box(&r), auth, &mut self.tx, &mut self.buf);
                    black_box(n.is_ok());
                }
                other => panic!("unknown op {other}"),
            }
        }
    }
}

/// `VRRP_CODEC_ICOUNT=OP:N` runs OP N times and exits, for counting
/// instructions under `valgrind --tool=cachegrind --cache-sim=no`: unlike
/// time on a shared machine, instruction counts do not drift with load.
fn icount(spec: &str) {
    let (op, n) = spec.split_once(':').expect("OP:N");
    Runner::new().run(op, n.parse().expect("N is a number"));
}

/// `VRRP_CODEC_INTERLEAVED=ROUNDS`: every round times each operation over
/// 20000 calls, one after the other; prints the best (least disturbed)
/// time per call of each and the AH ratios to the anchor. Load on a shared
/// machine only ever adds time, and interleaving exposes all operations to
/// the same load.
fn interleaved(rounds: u32) {
    let mut r = Runner::new();
    let mut best = [f64::MAX; OPS.len()];
    // Per-round ratios to the anchor: both sides of a ratio saw the same load.
    let (mut verify, mut sign) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let mut t = [0.0; OPS.len()];
        for (i, op) in OPS.iter().enumerate() {
            let start = std::time::Instant::now();
            r.run(op, 20_000);
            t[i] = start.elapsed().as_secs_f64() * 1e9 / 20_000.0;
            best[i] = best[i].min(t[i]);
        }
        verify.push(t[1] / t[0]);
        sign.push(t[2] / t[0]);
    }
    for (op, ns) in OPS.iter().zip(best) {
        println!("{op:>13} {ns:8.1} ns");
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "ah_verify / hmac_md5_raw = {:.3} (best times), {:.3} (median of per-round ratios)",
        best[1] / best[0],
        median(&mut verify)
    );
    println!(
        "ah_sign   / hmac_md5_raw = {:.3} (best times), {:.3} (median of per-round ratios)",
        best[2] / best[0],
        median(&mut sign)
    );
}

fn main() {
    if let Ok(spec) = std::env::var("VRRP_CODEC_ICOUNT") {
        icount(&spec);
        return;
    }
    if let Ok(rounds) = std::env::var("VRRP_CODEC_INTERLEAVED") {
        interleaved(rounds.parse().expect("ROUNDS is a number"));
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
