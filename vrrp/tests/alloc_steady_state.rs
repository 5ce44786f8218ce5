//! The steady state allocates nothing: a master sending adverts and a
//! backup receiving them (through the mux, with each authentication, by
//! multicast and to unicast peers), for many advert intervals, measured
//! with a counting global allocator.
//!
//! `harness = false`: the counter is global, and libtest's own threads
//! allocate while a test runs.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::alloc::System;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use vrrp::auth::{AuthConfig, TxCounters};
use vrrp::event::State;
use vrrp::mux::Mux;
use vrrp::router::DropReason;
use vrrp::{wire, Config, VirtualRouter};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const A: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// A unicast peer nobody answers for: its datagrams are sent, not delivered.
const C: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);

fn node(prio: u8, ip: Ipv4Addr, auth: &AuthConfig, peers: &[Ipv4Addr]) -> Mux {
    let mut mux = Mux::new();
    for vrid in 1..=3 {
        let mut c = Config::new("vi", vrid, prio, ip);
        c.virtual_addresses = vec![Ipv4Addr::new(10, 0, 0, 100), Ipv4Addr::new(10, 0, 0, 101)];
        c.authentication = auth.clone();
        c.unicast_peers = peers.to_vec();
        c.check_unicast_src = !peers.is_empty();
        mux.add_router(1, VirtualRouter::new(c).unwrap()).unwrap();
    }
    mux
}

/// Runs both nodes until `until`, delivering every datagram addressed to
/// the other node (or multicast) at once; returns the numbers of datagrams
/// sent and delivered.
fn run(
    nodes: &mut [(Mux, Ipv4Addr); 2],
    now: &mut Instant,
    until: Instant,
    buf: &mut [u8],
) -> (u64, u64) {
    let (mut sent, mut delivered) = (0, 0);
    loop {
        let next = nodes.iter_mut().filter_map(|(m, _)| m.poll_timeout()).min();
        let Some(t) = next.filter(|t| *t <= until) else {
            *now = until;
            return (sent, delivered);
        };
        *now = t;
        for i in 0..2 {
            nodes[i].0.handle_timeout(t);
            while let Some((_, ifindex, tx)) = nodes[i].0.poll_transmit(t, buf) {
                sent += 1;
                let src = nodes[i].1;
                let (other, other_ip) = &mut nodes[1 - i];
                if !tx.destination.is_multicast() && tx.destination != *other_ip {
                    continue;
                }
                other.handle_datagram(t, ifindex, src, &buf[..tx.len]);
                delivered += 1;
                while other
                    .poll_transmit(t, &mut [0u8; wire::MAX_DATAGRAM_LEN])
                    .is_some()
                {}
                while other.poll_event().is_some() {}
            }
            while nodes[i].0.poll_event().is_some() {}
        }
    }
}

fn main() {
    send_and_receive_do_not_allocate();
    rejected_datagrams_do_not_allocate();
    println!("alloc_steady_state: ok (no allocation in the steady state)");
}

fn send_and_receive_do_not_allocate() {
    let auths = [
        AuthConfig::None,
        AuthConfig::pass(b"pw"),
        AuthConfig::ah(b"secret"),
    ];
    for (auth, unicast) in auths.iter().flat_map(|a| [(a, false), (a, true)]) {
        // Unicast: each node sends to the other and to C.
        let (peers_a, peers_b) = if unicast {
            (vec![B, C], vec![A, C])
        } else {
            (vec![], vec![])
        };
        let mut nodes = [
            (node(200, A, auth, &peers_a), A),
            (node(100, B, auth, &peers_b), B),
        ];
        let mut buf = vec![0u8; wire::MAX_DATAGRAM_LEN];
        let t0 = Instant::now();
        let mut now = t0;
        for (m, _) in &mut nodes {
            m.handle_startup(t0);
            while m.poll_event().is_some() {}
        }
        // Warm up past the election and the GARP delay.
        run(&mut nodes, &mut now, t0 + Duration::from_secs(20), &mut buf);
        for id in nodes[0].0.ids().collect::<Vec<_>>() {
            assert_eq!(nodes[0].0.router(id).unwrap().state(), State::Master);
        }
        let region = Region::new(GLOBAL);
        let (sent, delivered) = run(
            &mut nodes,
            &mut now,
            t0 + Duration::from_secs(1020),
            &mut buf,
        );
        let stats = region.change();
        // 3 routers x 1000 intervals, one datagram per peer.
        let per_advert = if unicast { 2 } else { 1 };
        assert_eq!((sent, delivered), (3000 * per_advert, 3000), "{auth:?}");
        assert_eq!(
            (
                stats.allocations,
                stats.reallocations,
                stats.bytes_allocated
            ),
            (0, 0, 0),
            "{auth:?} unicast={unicast}"
        );
        let backup = nodes[1].0.router(nodes[1].0.find(1, 1).unwrap()).unwrap();
        assert_eq!(backup.state(), State::Backup);
        assert_eq!(backup.counters().dropped.total(), 0);
    }
}

fn rejected_datagrams_do_not_allocate() {
    let mut mux = node(100, B, &AuthConfig::pass(b"pw"), &[]);
    let t0 = Instant::now();
    mux.handle_startup(t0);
    while mux.poll_event().is_some() {}
    let mut bad = [0u8; 60];
    bad[0] = 0x45;
    let region = Region::new(GLOBAL);
    for k in 0..10_000u32 {
        bad[9] = (k % 256) as u8; // protocol
        mux.handle_datagram(t0, 1, A, &bad);
        while mux.poll_event().is_some() {}
    }
    let stats = region.change();
    assert_eq!((stats.allocations, stats.reallocations), (0, 0));
    let undecodable: u64 = mux.counters().undecodable.iter().sum();
    assert_eq!(undecodable + mux.counters().unknown_vrid, 10_000);

    // A valid advert from a source outside the unicast peers.
    let auth = AuthConfig::pass(b"pw");
    let mut mux = node(100, B, &auth, &[A]);
    mux.handle_startup(t0);
    while mux.poll_event().is_some() {}
    let stranger = Ipv4Addr::new(10, 0, 0, 9);
    let vips = [Ipv4Addr::new(10, 0, 0, 100), Ipv4Addr::new(10, 0, 0, 101)];
    let repr = wire::AdvertRepr {
        src: stranger,
        dst: B,
        ttl: 64,
        vrid: 1,
        priority: 250,
        adver_int: 1,
        addresses: &vips,
    };
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let len = wire::encode(&repr, &auth, &mut TxCounters::new(), &mut buf).unwrap();
    let region = Region::new(GLOBAL);
    for _ in 0..10_000 {
        mux.handle_datagram(t0, 1, stranger, &buf[..len]);
        while mux.poll_event().is_some() {}
    }
    let stats = region.change();
    assert_eq!((stats.allocations, stats.reallocations), (0, 0));
    let r = mux.router(mux.find(1, 1).unwrap()).unwrap();
    assert_eq!(r.counters().dropped.get(DropReason::NotUnicastPeer), 10_000);
}
