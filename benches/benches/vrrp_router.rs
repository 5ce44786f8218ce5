//! The VRRP state machine: one received advert in BACKUP, 1000 idle routers
//! per advert interval (multicast, and unicast pairs sharing a VRID), and
//! memory per router (printed before the timings).
//!
//! Anchor: `wire::decode` of the same datagram, the validation the router
//! cannot avoid; the ratio shows the state machine's own cost.
//!
//! Run: `cargo bench -p benches --bench vrrp_router`. On a loaded machine,
//! `VRRP_ROUTER_INTERLEAVED=ROUNDS` and `VRRP_ROUTER_ICOUNT=CASE:N` (see
//! [`interleaved`] and [`icount`]) compare the mux's receive paths.
#![allow(clippy::unwrap_used)] // Benchmarks: a failed unwrap is a bug in the setup.

use std::alloc::System;
use std::hint::black_box;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, Throughput};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use vrrp::auth::{AhReplay, AuthConfig, TxCounters};
use vrrp::mux::Mux;
use vrrp::sim::{NetConfig, Sim};
use vrrp::{wire, Config, State, VirtualRouter};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const MASTER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const BACKUP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const VIPS: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 0, 0, 100), Ipv4Addr::new(10, 0, 0, 101)];

fn config(vrid: u8, prio: u8, ip: Ipv4Addr, auth: &AuthConfig) -> Config {
    let mut c = Config::new("VI_1", vrid, prio, ip);
    c.virtual_addresses = VIPS.to_vec();
    c.authentication = auth.clone();
    c
}

fn advert(vrid: u8, auth: &AuthConfig, tx: &mut TxCounters) -> Vec<u8> {
    advert_to(MASTER, wire::VRRP_MCAST_V4, vrid, auth, tx)
}

/// An advert of `vrid` at priority 200 from `src` to `dst`, with [`VIPS`].
fn advert_to(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    vrid: u8,
    auth: &AuthConfig,
    tx: &mut TxCounters,
) -> Vec<u8> {
    let repr = wire::AdvertRepr {
        src,
        dst,
        ttl: wire::VRRP_TTL,
        vrid,
        priority: 200,
        adver_int: 1,
        addresses: &VIPS,
    };
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let len = wire::encode(&repr, auth, tx, &mut buf).unwrap();
    buf[..len].to_vec()
}

fn backup(auth: &AuthConfig, t0: Instant) -> VirtualRouter {
    let mut r = VirtualRouter::new(config(51, 100, BACKUP, auth)).unwrap();
    r.handle_startup(t0);
    while r.poll_event().is_some() {}
    r
}

fn auths() -> [(&'static str, AuthConfig); 3] {
    [
        ("none", AuthConfig::None),
        ("pass", AuthConfig::pass(b"secret1")),
        ("ah", AuthConfig::ah(b"secret1")),
    ]
}

/// One valid advert into a router in BACKUP (decode, checks, timer reset),
/// and the anchor: the codec's validation alone. Without AH the same
/// datagram is valid again and again; AH needs a fresh sequence number per
/// advert, so it runs over pre-encoded batches (throughput = adverts).
fn backup_rx(c: &mut Criterion) {
    let mut g = c.benchmark_group("vrrp_router/backup_rx");
    let opts = wire::RecvOptions {
        vrid: Some(51),
        adver_int: Some(1),
        addresses: Some(&VIPS),
        ..Default::default()
    };
    let t0 = Instant::now();
    for (name, auth) in auths() {
        if matches!(auth, AuthConfig::Ah(_)) {
            continue;
        }
        let d = advert(51, &auth, &mut TxCounters::new());
        let mut r = backup(&auth, t0);
        g.bench_function(name, |b| {
            b.iter(|| r.handle_datagram(t0, MASTER, black_box(&d)))
        });
        assert_eq!(r.counters().dropped.total(), 0);
        let mut replay = AhReplay::new();
        g.bench_function(format!("anchor_decode_{name}"), |b| {
            b.iter(|| wire::decode(black_box(&d), &opts, &auth, &mut replay).is_ok())
        });
    }
    let auth = AuthConfig::ah(b"secret1");
    let batch = || {
        let mut tx = TxCounters::new();
        (0..256)
            .map(|_| advert(51, &auth, &mut tx))
            .collect::<Vec<_>>()
    };
    g.throughput(Throughput::Elements(256));
    g.bench_function("ah_x256", |b| {
        b.iter_batched_ref(
            || (backup(&auth, t0), batch()),
            |(r, dgrams)| {
                for d in dgrams.iter() {
                    r.handle_datagram(t0, MASTER, black_box(d));
                }
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("anchor_decode_ah_x256", |b| {
        b.iter_batched_ref(
            || (AhReplay::new(), batch()),
            |(replay, dgrams)| {
                for d in dgrams.iter() {
                    black_box(wire::decode(black_box(d), &opts, &auth, replay).is_ok());
                }
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

/// 1000 routers (250 VRIDs on each of 4 interfaces) in one mux.
fn thousand(prio: u8, ip: Ipv4Addr) -> Mux {
    let mut mux = Mux::new();
    for ifindex in 1..=4 {
        for vrid in 1..=250u8 {
            let r =
                VirtualRouter::new(config(vrid, prio, ip, &AuthConfig::pass(b"secret1"))).unwrap();
            mux.add_router(ifindex, r).unwrap();
        }
    }
    mux
}

/// An idle process: 1000 masters each sending one advert per interval, and
/// 1000 backups each receiving one. One iteration = one advert interval.
fn idle_1000(c: &mut Criterion) {
    let t0 = Instant::now();
    let mut masters = thousand(200, MASTER);
    let mut backups = thousand(100, BACKUP);
    masters.handle_startup(t0);
    backups.handle_startup(t0);
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    // Elect: the masters' down timers fire first.
    let mut now = t0 + Duration::from_secs(4);
    masters.handle_timeout(now);
    while masters.poll_transmit(now, &mut buf).is_some() {}
    while masters.poll_event().is_some() {}
    while backups.poll_event().is_some() {}
    let mut dgrams: Vec<Received> = Vec::with_capacity(1000);
    let mut g = c.benchmark_group("vrrp_router/idle_1000");
    g.bench_function("masters_send", |b| {
        b.iter(|| {
            now += Duration::from_secs(1);
            masters.handle_timeout(now);
            while let Some((_, ifindex, t)) = masters.poll_transmit(now, &mut buf) {
                black_box((ifindex, &buf[..t.len]));
            }
            while masters.poll_event().is_some() {}
        })
    });
    // Capture one interval of adverts to feed the backups.
    now += Duration::from_secs(1);
    masters.handle_timeout(now);
    while let Some((_, ifindex, t)) = masters.poll_transmit(now, &mut buf) {
        dgrams.push((ifindex, MASTER, buf[..t.len].to_vec()));
    }
    assert_eq!(dgrams.len(), 1000);
    let mut bnow = now;
    g.bench_function("backups_receive", |b| {
        b.iter(|| receive_interval(&mut backups, &mut bnow, &dgrams))
    });
    g.finish();
    assert_idle(&backups);
}

/// Datagrams of one advert interval: (interface, sender, datagram).
type Received = (u32, Ipv4Addr, Vec<u8>);

/// One advert interval at a mux of backups: its timers, then `dgrams`.
fn receive_interval(mux: &mut Mux, now: &mut Instant, dgrams: &[Received]) {
    *now += Duration::from_secs(1);
    mux.handle_timeout(*now);
    for (ifindex, src, d) in dgrams {
        mux.handle_datagram(*now, *ifindex, *src, d);
    }
    while mux.poll_event().is_some() {}
}

/// Every router stayed BACKUP, and every datagram reached one.
fn assert_idle(mux: &Mux) {
    let idle = mux.ids().all(|id| {
        let r = mux.router(id).unwrap();
        r.state() == State::Backup && r.counters().dropped.total() == 0
    });
    assert!(idle, "backups stayed idle, nothing dropped");
    assert_eq!(mux.counters().unknown_vrid, 0, "every advert routed");
}

/// The unicast masters: up to two per VRID, each peering with a backup.
const UNICAST_MASTERS: [Ipv4Addr; 2] = [MASTER, Ipv4Addr::new(10, 0, 0, 3)];

/// 1000 unicast backups on 4 interfaces, `masters.len()` of them sharing
/// each VRID (one peering with each master), and one interval of their
/// masters' adverts. Shared, every advert takes the mux's lookup by
/// destination, then by sender (`mux::unicast`); alone, none does.
fn unicast_backups(masters: &[Ipv4Addr]) -> (Mux, Vec<Received>) {
    let auth = AuthConfig::pass(b"secret1");
    let mut mux = Mux::new();
    let mut dgrams = Vec::with_capacity(1000);
    let vrids = u8::try_from(250 / masters.len()).unwrap();
    for ifindex in 1..=4 {
        for vrid in 1..=vrids {
            for &peer in masters {
                let mut c = config(vrid, 100, BACKUP, &auth);
                c.unicast_peers = vec![peer];
                mux.add_router(ifindex, VirtualRouter::new(c).unwrap())
                    .unwrap();
                let d = advert_to(peer, BACKUP, vrid, &auth, &mut TxCounters::new());
                dgrams.push((ifindex, peer, d));
            }
        }
    }
    assert_eq!(dgrams.len(), 1000);
    assert_eq!(mux.unicast_sharing(1, 1, false), masters.len());
    (mux, dgrams)
}

/// As `backups_receive`, for 1000 unicast backups, alone on their VRIDs
/// or in pairs sharing one: the per-sender lookup's cost against the
/// multicast and the unshared unicast receive path.
fn idle_1000_unicast(c: &mut Criterion) {
    let mut g = c.benchmark_group("vrrp_router/idle_1000");
    let cases = [
        ("alone", &UNICAST_MASTERS[..1]),
        ("pairs", &UNICAST_MASTERS),
    ];
    for (name, masters) in cases {
        let mut now = Instant::now();
        let (mut backups, dgrams) = unicast_backups(masters);
        backups.handle_startup(now);
        // Routed by sender: each advert reaches its master's peer.
        for (ifindex, src, d) in &dgrams {
            let id = backups.handle_datagram(now, *ifindex, *src, d).unwrap();
            assert_eq!(backups.router(id).unwrap().config().unicast_peers, [*src]);
        }
        while backups.poll_event().is_some() {}
        g.bench_function(format!("backups_receive_unicast_{name}"), |b| {
            b.iter(|| receive_interval(&mut backups, &mut now, &dgrams))
        });
        assert_idle(&backups);
    }
    g.finish();
}

/// The simulated LAN itself: one virtual hour of six routers with 1 ms
/// latency and 1 % loss (how fast the property tests can go).
fn sim_hour(c: &mut Criterion) {
    let mut g = c.benchmark_group("vrrp_router/sim");
    g.sample_size(10);
    g.bench_function("six_routers_one_virtual_hour", |b| {
        b.iter(|| {
            let mut sim = Sim::new(7);
            sim.set_net(NetConfig {
                latency: Duration::from_millis(1),
                loss: 0.01,
                ..NetConfig::default()
            });
            sim.record_sent(false);
            for i in 0..6u8 {
                let ip = Ipv4Addr::new(10, 0, 0, i + 1);
                sim.add_router(config(51, 50 + 30 * i, ip, &AuthConfig::None));
            }
            sim.start_all();
            sim.run_until(Duration::from_secs(3600));
            black_box(sim.masters(51))
        })
    });
    g.finish();
}

/// Memory per router: the struct and its heap, alone and inside a mux.
fn report_memory() {
    let t0 = Instant::now();
    let auth = AuthConfig::ah(b"secret1");
    let region = Region::new(GLOBAL);
    let routers: Vec<VirtualRouter> = (1..=255u8)
        .map(|v| VirtualRouter::new(config(v, 100, BACKUP, &auth)).unwrap())
        .collect();
    let heap = region.change().bytes_allocated - std::mem::size_of::<VirtualRouter>() * 255;
    drop(routers);
    let region = Region::new(GLOBAL);
    let mut mux = thousand(100, BACKUP);
    mux.handle_startup(t0);
    while mux.poll_event().is_some() {}
    let stats = region.change();
    let live = stats.bytes_allocated - stats.bytes_deallocated;
    println!(
        "vrrp_router/memory: size_of::<VirtualRouter>() = {} B, heap per router (AH, 2 VIPs) = {} B, \
         per router in a 1000-router mux (everything, PASS, 2 VIPs) = {} B",
        std::mem::size_of::<VirtualRouter>(),
        heap / 255,
        live / 1000
    );
    black_box(mux);
}

/// The receive cases compared by [`interleaved`] and [`icount`]: 1000
/// backups and one interval of adverts for them, multicast (as
/// `backups_receive`, the adverts encoded here), unicast alone on their
/// VRIDs, unicast in pairs sharing one. Started, outputs drained.
fn receive_case(name: &str) -> (Mux, Vec<Received>) {
    let (mut mux, dgrams) = match name {
        "multicast" => {
            let auth = AuthConfig::pass(b"secret1");
            let mut tx = TxCounters::new();
            let dgrams = (1..=4)
                .flat_map(|i| (1..=250u8).map(move |vrid| (i, vrid)))
                .map(|(i, vrid)| (i, MASTER, advert(vrid, &auth, &mut tx)))
                .collect();
            (thousand(100, BACKUP), dgrams)
        }
        "unicast_alone" => unicast_backups(&UNICAST_MASTERS[..1]),
        "unicast_pairs" => unicast_backups(&UNICAST_MASTERS),
        other => panic!("unknown case {other}"),
    };
    mux.handle_startup(Instant::now());
    while mux.poll_event().is_some() {}
    (mux, dgrams)
}

const CASES: [&str; 3] = ["multicast", "unicast_alone", "unicast_pairs"];

/// `VRRP_ROUTER_INTERLEAVED=ROUNDS`: every round times 20 advert
/// intervals of each case in [`CASES`], one after the other; prints the
/// best (least disturbed) time per datagram of each, and the median of
/// the per-round ratios to the multicast case. Load on a shared machine
/// only ever adds time; interleaving exposes the cases to the same load.
fn interleaved(rounds: u32) {
    let mut cases = CASES.map(|name| (receive_case(name), Instant::now()));
    let mut best = [f64::MAX; CASES.len()];
    let mut ratios: [Vec<f64>; CASES.len()] = Default::default();
    for _ in 0..rounds {
        let mut t = [0.0; CASES.len()];
        for (i, ((mux, dgrams), now)) in cases.iter_mut().enumerate() {
            let start = Instant::now();
            for _ in 0..20 {
                receive_interval(mux, now, dgrams);
            }
            t[i] = start.elapsed().as_secs_f64() * 1e9 / (20.0 * dgrams.len() as f64);
            best[i] = best[i].min(t[i]);
        }
        for (r, ti) in ratios.iter_mut().zip(t) {
            r.push(ti / t[0]);
        }
    }
    for (((name, ns), r), ((mux, _), _)) in CASES.iter().zip(best).zip(&mut ratios).zip(&cases) {
        assert_idle(mux);
        r.sort_by(f64::total_cmp);
        let median = r.get(r.len() / 2).copied().unwrap_or(f64::NAN);
        println!(
            "{name:>13} {ns:7.1} ns per datagram (best), {:.3} of multicast's best, \
             {median:.3} median per-round ratio",
            ns / best[0]
        );
    }
}

/// `VRRP_ROUTER_ICOUNT=CASE:N` sets up CASE (one of [`CASES`]), runs N
/// advert intervals of it and exits, for counting instructions under
/// `valgrind --tool=cachegrind --cache-sim=no` (N minus 0 is the receive
/// path alone): unlike time on a shared machine, they do not drift with
/// load.
fn icount(spec: &str) {
    let (name, n) = spec.split_once(':').expect("CASE:N");
    let ((mut mux, dgrams), mut now) = (receive_case(name), Instant::now());
    for _ in 0..n.parse::<u32>().expect("N is a number") {
        receive_interval(&mut mux, &mut now, &dgrams);
    }
    assert_idle(&mux);
}

fn main() {
    if let Ok(spec) = std::env::var("VRRP_ROUTER_ICOUNT") {
        icount(&spec);
        return;
    }
    if let Ok(rounds) = std::env::var("VRRP_ROUTER_INTERLEAVED") {
        interleaved(rounds.parse().expect("ROUNDS is a number"));
        return;
    }
    report_memory();
    let mut c = Criterion::default().configure_from_args();
    backup_rx(&mut c);
    idle_1000(&mut c);
    idle_1000_unicast(&mut c);
    sim_hour(&mut c);
    c.final_summary();
}
