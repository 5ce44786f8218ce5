//! Criterion benchmarks of the sans-IO core: one scheduling round of
//! 10,000 targets, and keepalived's body digest.

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use healthcheck::{CheckOutcome, HashKind, Monitor, MonitorConfig, ResponseDigester, TargetConfig};

fn monitor_round(c: &mut Criterion) {
    let mut g = c.benchmark_group("healthcheck_monitor");
    g.throughput(Throughput::Elements(10_000));
    g.bench_function("round_of_10k_targets", |b| {
        let mut m = Monitor::new(MonitorConfig::default());
        for i in 0..10_000 {
            m.add_target(
                format!("t{i}"),
                TargetConfig::with_interval(Duration::from_secs(1)),
            );
        }
        let start = Instant::now();
        m.commit(start);
        let mut now = start;
        b.iter(|| {
            now += Duration::from_secs(1);
            while let Some(d) = m.poll_check(now) {
                let _ = m.handle_outcome(now, d.target, CheckOutcome::Up);
            }
        });
    });
    g.finish();
}

fn digest(c: &mut Criterion) {
    let body = vec![0x5au8; 256 * 1024];
    let mut g = c.benchmark_group("healthcheck_digest");
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("md5_256k_in_16k_reads", |b| {
        b.iter(|| {
            let mut d = ResponseDigester::new(HashKind::Md5);
            d.feed(b"HTTP/1.0 200 OK\r\nContent-Length: 262144\r\n\r\n");
            for chunk in body.chunks(16 * 1024) {
                d.feed(chunk);
            }
            d.finish()
        });
    });
    g.finish();
}

criterion_group!(benches, monitor_round, digest);
criterion_main!(benches);
