//! vrrp-conf: parse a generated keepalived.conf in memory (lexer,
//! preprocessor, parser, lowering, validation). The text mirrors
//! `gen-conf` at a smaller size (50 vrrp_instances, 1,000 virtual_servers
//! of 4 real_servers), plus one vrrp_script and notify line per instance
//! so both lexer paths (plain lines and script lines) are exercised.

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::fmt::Write;
use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, Criterion, Throughput};
use vrrp_conf::{parse_str, Options};

fn config() -> String {
    let mut w = String::new();
    w.push_str("global_defs {\n    router_id BENCH\n}\n\n");
    for i in 1..=50u32 {
        let _ = write!(
            w,
            "vrrp_script chk_{i} {{\n    script \"/usr/bin/test -e '/run/svc {i}'\"\n    interval 2\n}}\n\n\
             vrrp_instance VI_{i} {{\n    state BACKUP\n    interface eth0\n    virtual_router_id {i}\n    \
             priority 100\n    advert_int 1\n    authentication {{\n        auth_type PASS\n        \
             auth_pass \"pw {i}\"\n    }}\n    virtual_ipaddress {{\n        10.255.0.{i}/32\n    }}\n    \
             track_script {{\n        chk_{i}\n    }}\n    notify_master \"/usr/bin/logger 'master {i}'\"\n}}\n\n"
        );
    }
    for s in 0..1_000u32 {
        let (hi, lo) = (s / 250, s % 250 + 1);
        let _ = write!(
            w,
            "virtual_server 10.1.{hi}.{lo} 80 {{\n    delay_loop 6\n    lvs_sched wlc\n    lvs_method NAT\n    \
             protocol TCP\n\n"
        );
        for r in 0..4 {
            let _ = write!(
                w,
                "    real_server 172.16.{}.{} 8080 {{\n        weight 1\n        TCP_CHECK {{\n            \
                 connect_timeout 3\n            retry 3\n        }}\n    }}\n",
                s / 60,
                (s % 60) * 4 + r + 1
            );
        }
        w.push_str("}\n\n");
    }
    w
}

fn bench(c: &mut Criterion) {
    let text = config();
    let opts = Options::default();
    let parsed = parse_str("bench.conf", &text, &opts);
    assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics.first());
    let mut g = c.benchmark_group("vrrpconf");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("parse_str_generated", |b| {
        b.iter(|| parse_str("bench.conf", black_box(&text), &opts))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(8));
    targets = bench
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
