//! The ipvs crate's user-space work, natively (no kernel needed): decoding
//! netlink replies captured from Linux 6.1, encoding requests, reading and
//! writing ipvsadm's rule format. The kernel-facing comparison with
//! ipvsadm runs in the VM (`ipvs/vm/bench.sh`); this shows how small the
//! user-space share is. Anchor: copying the same reply bytes.
#![allow(missing_docs)]
#![allow(clippy::unwrap_used)] // bench: abort on bad vectors

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use ipvs::ipvsadm::{format_save, parse_rules};
use ipvs::message::{decode_entries, encode_request};
use ipvs::Op;

fn vector(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../ipvs/tests/vectors/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let hex = std::fs::read_to_string(path).unwrap();
    let hex = hex.trim();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn rules(n: u32) -> String {
    let mut s = String::new();
    for i in 0..n {
        let svc = format!("-t 10.{}.{}.1:80", i / 250, i % 250 + 1);
        s.push_str(&format!("-A {svc} -s wlc\n"));
        for j in 1..=4 {
            s.push_str(&format!(
                "-a {svc} -r 172.{}.{}.{}:8080 -m -w {j}\n",
                16 + j,
                i / 250,
                i % 250 + 1
            ));
        }
    }
    s
}

fn codec(c: &mut Criterion) {
    let mut g = c.benchmark_group("ipvs_codec");
    for name in ["reply02", "reply04"] {
        let v = vector(name);
        g.throughput(Throughput::Bytes(v.len() as u64));
        g.bench_function(format!("anchor_copy_{name}"), |b| {
            b.iter(|| black_box(v.clone()))
        });
        g.bench_function(format!("decode_{name}"), |b| {
            b.iter(|| decode_entries(0x20, black_box(&v)).unwrap())
        });
    }
    let text = rules(1000);
    let ops: Vec<Op> = parse_rules(&text)
        .unwrap()
        .into_iter()
        .map(|(_, op)| op)
        .collect();
    g.throughput(Throughput::Elements(ops.len() as u64));
    g.bench_function("parse_rules_5000_lines", |b| {
        b.iter(|| parse_rules(black_box(&text)).unwrap())
    });
    // What `Ipvs::apply` sends, and the typed path it replaced.
    g.bench_function("encode_5000_ops", |b| {
        let mut buf = Vec::with_capacity(1 << 20);
        b.iter(|| {
            buf.clear();
            for (i, op) in ops.iter().enumerate() {
                op.encode(0x20, 1, i as u32, &mut buf).unwrap();
            }
            black_box(buf.len())
        })
    });
    g.bench_function("encode_5000_ops_typed", |b| {
        let mut buf = Vec::with_capacity(1 << 20);
        b.iter(|| {
            buf.clear();
            for (i, op) in ops.iter().enumerate() {
                encode_request(0x20, 1, i as u32, op.message().unwrap(), &mut buf);
            }
            black_box(buf.len())
        })
    });
    g.finish();
}

fn save(c: &mut Criterion) {
    // A 1000-service table decoded from kernel bytes, repeated.
    let entries = decode_entries(0x20, &vector("reply02")).unwrap();
    let dests = decode_entries(0x20, &vector("reply04")).unwrap();
    let mut table = Vec::new();
    for i in 0..250u32 {
        for e in &entries {
            let ipvs::message::Entry::Service(s) = e else {
                continue;
            };
            let mut s = s.clone();
            if let ipvs::ServiceKey::Fwmark { mark, .. } = &mut s.service.key {
                *mark += i;
            }
            if let ipvs::ServiceKey::Addr { addr, .. } = &mut s.service.key {
                addr.set_port(1000 + i as u16);
            }
            let d = dests
                .iter()
                .filter_map(|e| match e {
                    ipvs::message::Entry::Dest(d) => Some(d.clone()),
                    _ => None,
                })
                .collect();
            table.push((s, d));
        }
    }
    let mut g = c.benchmark_group("ipvs_save");
    g.throughput(Throughput::Elements(table.len() as u64));
    g.bench_function("format_save_1000_services", |b| {
        b.iter(|| format_save(black_box(&table)))
    });
    g.finish();
}

criterion_group!(benches, codec, save);
criterion_main!(benches);
