//! keepalived-lite's metrics endpoint: the text of one scrape of 1,000 VRRP
//! instances (4 interfaces x 250 VRIDs, all MASTER, as
//! `benches/scale/vrrp-instances.sh` runs them) and of 10,000 real servers
//! (2,500 virtual servers x 4, each with check counts by outcome and a
//! check duration histogram), rendered by the code the endpoint runs
//! (`keepalived_lite::metrics::render`). The anchor is the same text from
//! `prometheus-client`'s `Registry` (`keepalived_lite::metrics::reference`),
//! which the endpoint used before.
//!
//! Run: `cargo bench -p benches --bench metrics_scrape`
//!
//! `copy+render` also copies the state first, as `observe::vrrp` and
//! `observe::checker` copy it out of the daemon on every scrape (the
//! driver's own copy of the routers' specifications, made on its thread,
//! is of the same size). The scrape sizes are printed first.

// criterion_group! generates an undocumented `pub fn benches`.
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, Criterion};
use keepalived_lite::metrics::{reference, render, Format};
use keepalived_lite::observe::{
    CheckerState, InstanceState, InstanceView, IpvsCounts, Latency, RealServerState,
    VirtualServerState, VrrpState,
};
use vrrp::config::Config;
use vrrp::linux::driver::{RouterSnapshot, RouterSpec, Snapshot, VirtualAddress};
use vrrp::mux::RouterId;
use vrrp::State;

const IFACES: u8 = 4;
const VRIDS: u8 = 250;
const VIRTUAL_SERVERS: u32 = 2_500;
const REAL_SERVERS_EACH: u32 = 4;

/// Interface k, VRID v: `VI_k_v` on `vethk`, VIP 10.(100+k).0.v, MASTER
/// for an hour (3,600 adverts sent).
fn instance(k: u8, v: u8) -> InstanceState {
    let name = format!("VI_{k}_{v}");
    let mut config = Config::new(&name, v, 200, Ipv4Addr::new(192, 168, k + 1, 1));
    config.virtual_addresses = vec![Ipv4Addr::new(10, 100 + k, 0, v)];
    let id = RouterId(u32::from(k) * u32::from(VRIDS) + u32::from(v));
    let spec = RouterSpec {
        config,
        interface: format!("veth{k}"),
        addresses: vec![VirtualAddress::host(Ipv4Addr::new(10, 100 + k, 0, v))],
        excluded: Vec::new(),
        routes: Vec::new(),
        rules: Vec::new(),
        use_vmac: false,
        vmac: Default::default(),
    };
    let mut counters = vrrp::counters::Counters::default();
    counters.adverts_sent = 3_600;
    counters.datagrams_sent = 3_600;
    counters.became_master = 1;
    InstanceState {
        view: InstanceView {
            id,
            spec,
            extras: Arc::default(),
        },
        run: Some(RouterSnapshot {
            id,
            name: name.into(),
            state: State::Master,
            priority: 200,
            counters,
            last_master: None,
        }),
        last_transition: None,
    }
}

fn vrrp_state() -> VrrpState {
    let instances: Vec<InstanceState> = (0..IFACES)
        .flat_map(|k| (1..=VRIDS).map(move |v| instance(k, v)))
        .collect();
    let mut snapshot = Snapshot {
        routers: instances.iter().filter_map(|i| i.run.clone()).collect(),
        mux: Default::default(),
        driver: Default::default(),
        raw_sockets: 4,
        garp_sockets: 4,
    };
    snapshot.driver.datagrams_sent = 3_600_000;
    snapshot.driver.garps_sent = 5_000;
    VrrpState {
        instances,
        snapshot,
    }
}

/// Virtual server s (`[10.1.x.y]:tcp:80`) and its real servers
/// (`[10.2.x.y]:tcp:8080`), checked every 5 s for a day; one in ten has
/// had timeouts. Check durations spread over the buckets.
fn checker_state() -> CheckerState {
    let mut real_servers = Vec::new();
    let mut virtual_servers = Vec::new();
    for s in 0..VIRTUAL_SERVERS {
        let vs = format!("[10.1.{}.{}]:tcp:80", s / 250, s % 250 + 1);
        virtual_servers.push(VirtualServerState {
            name: vs.clone(),
            quorum_up: Some(true),
            active_weight: u64::from(REAL_SERVERS_EACH),
        });
        for r in 0..REAL_SERVERS_EACH {
            let n = s * REAL_SERVERS_EACH + r;
            let mut outcomes = BTreeMap::from([("up", 17_280 - u64::from(n % 10))]);
            if n % 10 == 3 {
                outcomes.insert("timeout", 3);
            }
            let mut latency = Latency::default();
            for i in 0..40u32 {
                latency.observe(f64::from((n + i * 7919) % 3000) / 10_000.0);
            }
            real_servers.push(RealServerState {
                virtual_server: vs.clone(),
                real_server: format!("[10.2.{}.{}]:tcp:8080", n / 250, n % 250 + 1),
                up: n % 10 != 3,
                outcomes,
                latency,
            });
        }
    }
    let ipvs = BTreeMap::from([(
        "edit_dest",
        IpvsCounts {
            operations: 42,
            failures: 0,
        },
    )]);
    CheckerState {
        real_servers,
        virtual_servers,
        ipvs,
    }
}

fn bench(c: &mut Criterion) {
    let vrrp = vrrp_state();
    let checker = checker_state();
    let mut out = String::new();
    for (what, v, ch) in [
        ("1,000 instances", Some(&vrrp), None),
        (
            "1,000 instances + 10,000 real servers",
            Some(&vrrp),
            Some(&checker),
        ),
    ] {
        for format in [Format::OpenMetrics, Format::Prometheus] {
            out.clear();
            render(&mut out, format, v, ch);
            eprintln!(
                "{what}, {format:?}: {} bytes, {} lines",
                out.len(),
                out.lines().count()
            );
        }
    }

    let mut g = c.benchmark_group("metrics_scrape");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    g.bench_function("1000_instances/render", |b| {
        b.iter(|| {
            out.clear();
            render(&mut out, Format::OpenMetrics, Some(&vrrp), None);
            black_box(out.len())
        })
    });
    g.bench_function("1000_instances/copy+render", |b| {
        b.iter(|| {
            let v = vrrp.clone();
            out.clear();
            render(&mut out, Format::OpenMetrics, Some(&v), None);
            black_box(out.len())
        })
    });
    g.bench_function("1000_instances/anchor_registry", |b| {
        b.iter(|| black_box(reference::render(Some(&vrrp), None).len()))
    });
    for (label, format) in [
        ("openmetrics", Format::OpenMetrics),
        ("prometheus", Format::Prometheus),
    ] {
        g.bench_function(
            format!("1000_instances_10000_real_servers/render/{label}"),
            |b| {
                b.iter(|| {
                    out.clear();
                    render(&mut out, format, Some(&vrrp), Some(&checker));
                    black_box(out.len())
                })
            },
        );
    }
    g.bench_function(
        "1000_instances_10000_real_servers/copy+render/openmetrics",
        |b| {
            b.iter(|| {
                let (v, ch) = (vrrp.clone(), checker.clone());
                out.clear();
                render(&mut out, Format::OpenMetrics, Some(&v), Some(&ch));
                black_box(out.len())
            })
        },
    );
    g.bench_function(
        "1000_instances_10000_real_servers/anchor_registry/openmetrics",
        |b| b.iter(|| black_box(reference::render(Some(&vrrp), Some(&checker)).len())),
    );
    g.finish();
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
}
