//! keepalived's unicast mode (`unicast_src_ip`, `unicast_peer`,
//! `unicast_ttl`, `check_unicast_src`) on the simulated LAN, where a unicast
//! advert reaches only the node it is addressed to, and against the
//! committed keepalived capture `ah-unicast.pcap`.
//!
//! Priorities: 200 (Master_Down_Interval 3.21875 s), 150 (3.4140625 s),
//! 100 (Skew_Time 609.375 ms); advert interval 1 s; zero latency.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

mod codec;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use vrrp::auth::{AhReplay, AuthConfig};
use vrrp::config::{skew_time, PeerTtl};
use vrrp::event::{Event, Reason, State};
use vrrp::mux::MuxEvent;
use vrrp::router::DropReason;
use vrrp::sim::{NodeId, Sim};
use vrrp::wire::{self, RecvOptions};
use vrrp::{Config, VirtualRouter};

use Reason::*;
use State::*;

const VRID: u8 = 51;

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, last)
}

/// A router at 10.0.0.`last` sending to the peers 10.0.0.`peers`.
fn cfg(name: &str, priority: u8, last: u8, peers: &[u8]) -> Config {
    let mut c = Config::new(name, VRID, priority, ip(last));
    c.virtual_addresses = vec![ip(100)];
    c.unicast_peers = peers.iter().map(|&p| ip(p)).collect();
    c
}

fn ns(n: u64) -> Duration {
    Duration::from_nanos(n)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

const MDI_200: u64 = 3_218_750_000;
const MDI_150: u64 = 3_414_062_500;
const SKEW_100: u64 = 609_375_000;

fn history(sim: &Sim, node: NodeId) -> Vec<(Duration, State, State, Reason)> {
    sim.transitions()
        .into_iter()
        .filter(|t| t.node == node)
        .map(|t| (t.at, t.from, t.to, t.reason))
        .collect()
}

/// (time, destination, TTL, priority) of every datagram `node` sent.
fn sent_by(sim: &Sim, node: NodeId) -> Vec<(Duration, Ipv4Addr, u8, u8)> {
    sim.sent()
        .iter()
        .filter(|s| s.node == node)
        .map(|s| {
            let std::net::IpAddr::V4(dst) = s.dst else {
                panic!("an IPv6 destination: {s:?}")
            };
            assert_eq!(&s.bytes[16..20], &dst.octets(), "IP destination");
            let vrrp_at = if s.bytes[9] == wire::IPPROTO_AH {
                44
            } else {
                20
            };
            (s.at, dst, s.bytes[8], s.bytes[vrrp_at + 2])
        })
        .collect()
}

/// A (200, .1), B (100, .2), C (150, .3), each with the two others as peers.
fn trio(seed: u64) -> (Sim, [NodeId; 3]) {
    let mut sim = Sim::from_env(seed);
    let a = sim.add_router(cfg("a", 200, 1, &[2, 3]));
    let b = sim.add_router(cfg("b", 100, 2, &[1, 3]));
    let c = sim.add_router(cfg("c", 150, 3, &[1, 2]));
    sim.start_all();
    (sim, [a, b, c])
}

#[test]
fn unicast_election_sends_one_datagram_per_peer() {
    let (mut sim, [a, b, c]) = trio(1);
    sim.run_until(ns(MDI_200 + 1_500_000_000));
    assert_eq!(
        history(&sim, a),
        [
            (ns(0), Initialize, Backup, Startup),
            (ns(MDI_200), Backup, Master, MasterDown),
        ]
    );
    assert_eq!(sim.state(b, VRID), Backup);
    assert_eq!(sim.state(c, VRID), Backup);
    // Two adverts (at MDI and at the next whole second, on the grid from
    // the start), each to .2 then .3.
    let t0 = ns(MDI_200);
    let t1 = secs(4);
    assert_eq!(
        sent_by(&sim, a),
        [
            (t0, ip(2), 255, 200),
            (t0, ip(3), 255, 200),
            (t1, ip(2), 255, 200),
            (t1, ip(3), 255, 200),
        ]
    );
    let ra = sim.router(a, VRID).counters();
    assert_eq!((ra.adverts_sent, ra.datagrams_sent), (2, 4));
    for n in [b, c] {
        let r = sim.router(n, VRID);
        assert_eq!(r.counters().adverts_received, 2);
        assert_eq!(r.counters().dropped.total(), 0);
        assert_eq!(r.master(), Some((ip(1).into(), 200)));
    }
}

#[test]
fn unicast_master_crash_and_return() {
    let (mut sim, [a, b, c]) = trio(2);
    // A's last advert before the crash: 10 s.
    sim.run_until(secs(10));
    sim.crash(a);
    let last = 10_000_000_000;
    sim.run_until(secs(20));
    assert_eq!(
        history(&sim, c),
        [
            (ns(0), Initialize, Backup, Startup),
            (ns(last + MDI_150), Backup, Master, MasterDown),
        ]
    );
    assert_eq!(history(&sim, b), [(ns(0), Initialize, Backup, Startup)]);
    assert_eq!(sim.router(b, VRID).master(), Some((ip(3).into(), 150)));
    // A restarts and preempts C after its own Master_Down_Interval.
    sim.restart(a);
    sim.run_until(secs(30));
    let back = 20_000_000_000 + MDI_200;
    assert_eq!(sim.masters(VRID), [a]);
    assert_eq!(
        history(&sim, c)[2..],
        [(ns(back), Master, Backup, HigherPriority)]
    );
    assert_eq!(history(&sim, b), [(ns(0), Initialize, Backup, Startup)]);
}

#[test]
fn unicast_adverts_reach_only_their_peers() {
    // A sends to B only; D (also configured for A) never hears it and, as
    // a lone router, becomes master of its own view.
    let mut sim = Sim::from_env(3);
    let a = sim.add_router(cfg("a", 200, 1, &[2]));
    let b = sim.add_router(cfg("b", 100, 2, &[1]));
    let d = sim.add_router(cfg("d", 50, 4, &[1]));
    sim.start_all();
    sim.run_until(secs(10));
    assert!(sent_by(&sim, a).iter().all(|s| s.1 == ip(2)));
    assert_eq!(sim.router(d, VRID).counters().adverts_received, 0);
    assert_eq!(
        sim.router(b, VRID).counters().adverts_received,
        sim.router(a, VRID).counters().adverts_sent
    );
    // D's adverts go to A, which (preempting a lower priority) discards them.
    assert_eq!(sim.masters(VRID), [a, d]);
    assert_eq!(sim.state(b, VRID), Backup);
}

/// A (200, .1) and B (100, .2) peers of each other, plus a stranger S
/// (250, .9) whose adverts go to B; B checks sources if `check`.
fn stranger(check: bool) -> (Sim, NodeId, NodeId, NodeId) {
    let mut sim = Sim::from_env(4);
    let a = sim.add_router(cfg("a", 200, 1, &[2]));
    let mut cb = cfg("b", 100, 2, &[1]);
    cb.check_unicast_src = check;
    let b = sim.add_router(cb);
    let s = sim.add_router(cfg("s", 250, 9, &[2]));
    sim.start_all();
    sim.run_until(ns(10_500_000_000));
    (sim, a, b, s)
}

#[test]
fn check_unicast_src_drops_adverts_from_non_peers() {
    let (sim, a, b, s) = stranger(true);
    let from_s = sim.router(s, VRID).counters().adverts_sent;
    // S is master from 3.0234375 s: adverts at 3.02.., 4.02.., ..., 10.02...
    assert_eq!(from_s, 8);
    let rb = sim.router(b, VRID);
    assert_eq!(rb.counters().dropped.get(DropReason::NotUnicastPeer), 8);
    assert_eq!(rb.counters().dropped.total(), 8);
    assert_eq!(rb.master(), Some((ip(1).into(), 200)));
    assert_eq!(sim.masters(VRID), [a, s]);
    assert_eq!(DropReason::NotUnicastPeer.to_string(), "not-unicast-peer");
    let drops = sim
        .records()
        .iter()
        .filter(|r| {
            r.node == b
                && matches!(
                    r.event,
                    MuxEvent::Router(_, Event::Dropped(DropReason::NotUnicastPeer))
                )
        })
        .count();
    assert_eq!(drops, 8);
}

#[test]
fn without_check_unicast_src_any_source_is_accepted() {
    let (sim, _a, b, s) = stranger(false);
    let rb = sim.router(b, VRID);
    assert_eq!(rb.counters().dropped.total(), 0);
    let from_a = 8; // A master at 3.21875 s: adverts at 3.2.., ..., 10.2..
    assert_eq!(
        rb.counters().adverts_received,
        from_a + sim.router(s, VRID).counters().adverts_sent
    );
}

#[test]
fn unicast_ttl_is_sent_and_any_ttl_accepted() {
    let mut sim = Sim::from_env(5);
    let mut ca = cfg("a", 200, 1, &[2]);
    ca.unicast_ttl = 64;
    let a = sim.add_router(ca);
    let b = sim.add_router(cfg("b", 100, 2, &[1]));
    sim.start_all();
    sim.run_until(secs(6));
    // At 3.21875 s, then on the whole seconds 4, 5 and 6.
    let sent = sent_by(&sim, a);
    assert_eq!(sent.len(), 4);
    assert!(sent.iter().all(|s| (s.1, s.2) == (ip(2), 64)));
    assert_eq!(sim.router(b, VRID).counters().adverts_received, 4);
    // B sent nothing (never master), so its TTL shows in no datagram.
    assert_eq!(sim.router(b, VRID).counters().datagrams_sent, 0);
}

#[test]
fn unicast_source_address_overrides_primary() {
    // keepalived's unicast_src_ip: adverts come from it, peers name it.
    let mut sim = Sim::from_env(6);
    let mut ca = cfg("a", 200, 1, &[2]);
    ca.unicast_src_ip = Some(ip(11));
    let a = sim.add_router(ca);
    let mut cb = cfg("b", 100, 2, &[11]);
    cb.check_unicast_src = true;
    let b = sim.add_router(cb);
    sim.start_all();
    sim.run_until(secs(6));
    assert!(sim.sent().iter().all(|s| s.src == ip(11)));
    assert_eq!(sim.masters(VRID), [a]);
    assert_eq!(sim.router(b, VRID).master(), Some((ip(11).into(), 200)));
    assert_eq!(sim.router(b, VRID).counters().dropped.total(), 0);
}

#[test]
fn multicast_and_unicast_routers_drop_each_other() {
    let mut sim = Sim::from_env(7);
    let a = sim.add_router(cfg("a", 200, 1, &[2]));
    let b = sim.add_router(cfg("b", 100, 2, &[]));
    sim.start_all();
    sim.run_until(secs(10));
    // B hears A's unicast adverts but, being multicast, rejects them; A
    // hears B's multicast adverts and rejects them too: two masters.
    let bad = DropReason::Invalid(wire::DropReason::BadDestination);
    let ra = sim.router(a, VRID).counters();
    let rb = sim.router(b, VRID).counters();
    assert_eq!(rb.dropped.get(bad), ra.adverts_sent);
    assert_eq!(ra.dropped.get(bad), rb.adverts_sent);
    assert_eq!(sim.masters(VRID), [a, b]);
}

#[test]
fn ah_over_unicast_election_handover_and_replay() {
    let mut sim = Sim::from_env(8);
    let auth = AuthConfig::from_keepalived("AH", "secret1").unwrap();
    let mut ca = cfg("a", 200, 1, &[2]);
    ca.authentication = auth.clone();
    let mut cb = cfg("b", 100, 2, &[1]);
    cb.authentication = auth.clone();
    cb.check_unicast_src = true;
    let a = sim.add_router(ca);
    let b = sim.add_router(cb);
    sim.start_all();
    sim.run_until(secs(6));
    assert_eq!(sim.masters(VRID), [a]);
    let rb = sim.router(b, VRID);
    assert_eq!(rb.counters().adverts_received, 4);
    assert_eq!(rb.counters().dropped.total(), 0);

    // The datagrams are AH with the TTL left out of the ICV: they verify
    // as unicast and fail as multicast.
    let first = sim.sent()[0].bytes.clone();
    assert_eq!((first[8], first[9]), (255, wire::IPPROTO_AH));
    let opts = RecvOptions {
        vrid: Some(VRID),
        unicast: true,
        ..Default::default()
    };
    let got = wire::decode(&first, &opts, &auth, &mut AhReplay::new()).unwrap();
    assert_eq!((got.dst, got.ah_seq, got.priority), (ip(2), Some(1), 200));
    let mcast = RecvOptions {
        unicast: false,
        ..opts
    };
    assert_eq!(
        wire::decode(&first, &mcast, &auth, &mut AhReplay::new()),
        Err(wire::DropReason::BadDestination)
    );

    // A replayed advert is rejected by its sequence number.
    sim.inject(b, 1, ip(1), &first);
    assert_eq!(
        sim.router(b, VRID)
            .counters()
            .dropped
            .get(DropReason::Invalid(wire::DropReason::AhReplay)),
        1
    );

    // Graceful stop: B takes over Skew_Time after A's priority-0 advert.
    sim.shutdown(a);
    sim.run_until(secs(8));
    assert_eq!(
        history(&sim, b).last(),
        Some(&(secs(6) + ns(SKEW_100), Backup, Master, MasterDown))
    );
    // keepalived's shared AH counter: B's first advert continues after the
    // last sequence number it accepted (A's priority-0 advert, seq 5).
    let from_b = sim.sent().iter().find(|s| s.node == b).unwrap();
    let got = wire::decode(&from_b.bytes, &opts, &auth, &mut AhReplay::new()).unwrap();
    assert_eq!((got.dst, got.ah_seq, got.priority), (ip(1), Some(6), 100));
}

/// The committed keepalived capture with AH and unicast peers, replayed
/// through a router configured as its r2 (10.0.0.2, priority 100, peer
/// 10.0.0.1): r1's adverts are accepted, r2's takeover is timed by
/// Skew_Time, and what our router sends is byte for byte what keepalived's
/// r2 sent (IP identification 1..4, AH sequence 5..8, TTL 0 in the ICV).
#[test]
fn keepalived_ah_unicast_capture_through_the_router() {
    let datagrams = codec::capture_datagrams("ah-unicast.pcap");
    assert_eq!(datagrams.len(), 8);
    let (from_r1, from_r2) = datagrams.split_at(4);
    let mut c = Config::new("VI_1", VRID, 100, ip(2));
    c.virtual_addresses = codec::VIPS.to_vec();
    c.authentication = AuthConfig::from_keepalived("AH", "secret1").unwrap();
    c.unicast_src_ip = Some(ip(2));
    c.unicast_peers = vec![ip(1)];
    c.check_unicast_src = true;
    let mut r = VirtualRouter::new(c).unwrap();
    let mut buf = vec![0; r.max_datagram_len()];
    let t0 = Instant::now();
    r.handle_startup(t0);
    for (k, d) in from_r1.iter().enumerate() {
        let at = t0 + secs(k as u64 + 1);
        r.handle_datagram(at, ip(1), d);
        assert_eq!(r.poll_transmit(at, &mut buf), None);
    }
    let events: Vec<Event> = std::iter::from_fn(|| r.poll_event()).collect();
    assert!(
        !events.iter().any(|e| matches!(e, Event::Dropped(_))),
        "{events:?}"
    );
    assert_eq!(r.counters().adverts_received, 4);
    assert_eq!(r.counters().priority_zero_received, 1);
    assert_eq!(r.master(), Some((ip(1).into(), 150)));
    let prio0_at = t0 + secs(4);
    let takeover = r.poll_timeout().unwrap();
    assert_eq!(takeover, prio0_at + skew_time(100));
    r.handle_timeout(takeover);
    assert_eq!(r.state(), Master);
    // Three adverts at priority 100 (at the takeover, then on the grid of
    // whole seconds from t0), then the priority-0 advert on stop.
    let mut sent = Vec::new();
    let mut now = takeover;
    for k in 0..3 {
        if k > 0 {
            now = r.poll_timeout().unwrap();
            assert_eq!(now, prio0_at + secs(k));
            r.handle_timeout(now);
        }
        let tx = r.poll_transmit(now, &mut buf).unwrap();
        assert_eq!((tx.destination, tx.priority), (ip(1).into(), 100));
        sent.push(buf[..tx.len].to_vec());
        assert_eq!(r.poll_transmit(now, &mut buf), None);
    }
    r.handle_shutdown(now + Duration::from_millis(500));
    let tx = r.poll_transmit(now, &mut buf).unwrap();
    assert_eq!((tx.destination, tx.priority), (ip(1).into(), 0));
    sent.push(buf[..tx.len].to_vec());
    assert_eq!(r.poll_transmit(now, &mut buf), None);
    for (k, (ours, theirs)) in sent.iter().zip(from_r2).enumerate() {
        assert_eq!(ours, theirs, "datagram {k} differs from keepalived's");
    }
}

/// A sends with `unicast_ttl 64` to B, whose entry for A has a TTL range.
fn ttl_range(min_ttl: u8, max_ttl: u8) -> (Sim, NodeId, NodeId) {
    let mut sim = Sim::from_env(9);
    let mut ca = cfg("a", 200, 1, &[2]);
    ca.unicast_ttl = 64;
    let a = sim.add_router(ca);
    let mut cb = cfg("b", 100, 2, &[1]);
    cb.unicast_peer_ttl = vec![PeerTtl {
        peer: ip(1),
        min_ttl,
        max_ttl,
    }];
    let b = sim.add_router(cb);
    sim.start_all();
    sim.run_until(secs(6));
    (sim, a, b)
}

#[test]
fn peer_ttl_range_is_checked() {
    // In range: accepted, A stays the only master.
    let (sim, a, b) = ttl_range(64, 64);
    assert_eq!(sim.masters(VRID), [a]);
    assert_eq!(sim.router(b, VRID).counters().adverts_received, 4);
    // Out of range: every advert dropped, B takes over as if A were silent.
    let (sim, a, b) = ttl_range(128, 255);
    let rb = sim.router(b, VRID).counters();
    assert_eq!(rb.adverts_received, 0);
    // A's four periodic adverts (3.21875 s, 4 s, 5 s, 6 s), and the four
    // it answers B's lower priority adverts with (keepalived's default)
    // once B is master too (3.609375 s, 4 s, 5 s, 6 s).
    assert_eq!(rb.dropped.get(DropReason::UnicastTtl), 8);
    assert_eq!(sim.router(a, VRID).counters().adverts_sent, 8);
    assert_eq!(DropReason::UnicastTtl.to_string(), "unicast-ttl");
    assert_eq!(sim.masters(VRID), [a, b]);
    // A range also turns the source check on (keepalived does the same).
    let (mut sim, _, b) = ttl_range(1, 255);
    let stranger = ip(9);
    let mut c = Config::new("s", VRID, 250, stranger);
    c.virtual_addresses = vec![ip(100)];
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let repr = wire::AdvertRepr {
        src: stranger,
        dst: ip(2),
        ttl: 64,
        vrid: VRID,
        priority: 250,
        adver_int: 1,
        addresses: &c.virtual_addresses,
    };
    let len = wire::encode(&repr, &AuthConfig::None, &mut Default::default(), &mut buf).unwrap();
    sim.inject(b, 1, stranger, &buf[..len]);
    let rb = sim.router(b, VRID).counters();
    assert_eq!(rb.dropped.get(DropReason::NotUnicastPeer), 1);
}

#[test]
fn unicast_fault_no_peer_holds_the_router_in_fault() {
    let mut sim = Sim::from_env(10);
    let mut c = cfg("a", 200, 1, &[]);
    c.unicast_fault_no_peer = true;
    let a = sim.add_router(c);
    // Without the flag an empty peer list means multicast, as before.
    let b = sim.add_router(cfg("b", 100, 2, &[]));
    sim.start_all();
    sim.run_until(secs(10));
    assert_eq!(
        history(&sim, a),
        [(ns(0), Initialize, Fault, NoUnicastPeer)]
    );
    assert!(sim.router(a, VRID).own_fault());
    assert_eq!(sim.masters(VRID), [b]);
    assert!(sim.sent().iter().all(|s| s.dst == wire::VRRP_MCAST_V4));
}

/// keepalived 2.2.7 alone in a namespace as 10.0.0.1 (priority 150, VRID
/// 51, `advert_int 1`, AH `secret1`, VIP 10.0.0.100, `unicast_src_ip
/// 10.0.0.1`, `unicast_peer { 10.0.0.2 10.0.0.3 }`), captured on its eth0
/// with tcpdump (the setup of `tests/captures/capture.sh`): the first
/// advert's two copies and, after three more, the priority-0 pair on
/// SIGTERM. Both copies of an advert share the IP identification and the
/// AH sequence number; their ICVs differ by the destination.
const KEEPALIVED_TWO_PEERS: [&str; 4] = [
    "45c0004000010000ff33a6c70a0000010a000002700400000a000001000000014a61ac11ed3ff0eab7eb1cd42133960102013c660a0000640000000000000000",
    "45c0004000010000ff33a6c60a0000010a000003700400000a00000100000001fc2d61ed15e1f0a8067797392133960102013c660a0000640000000000000000",
    "45c0004000050000ff33a6c30a0000010a000002700400000a00000100000005d2bb162ce7e30107e1d2b082213300010201d2660a0000640000000000000000",
    "45c0004000050000ff33a6c20a0000010a000003700400000a00000100000005da92fdbad5747c5c74ccea93213300010201d2660a0000640000000000000000",
];

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Every datagram the router has to send now.
fn drain(r: &mut VirtualRouter, now: Instant) -> Vec<Vec<u8>> {
    let mut buf = vec![0; r.max_datagram_len()];
    std::iter::from_fn(|| {
        let t = r.poll_transmit(now, &mut buf)?;
        Some(buf[..t.len].to_vec())
    })
    .collect()
}

/// Our router configured as that keepalived sends the same bytes.
#[test]
fn two_peer_copies_match_keepalived_byte_for_byte() {
    let want: Vec<Vec<u8>> = KEEPALIVED_TWO_PEERS.iter().map(|h| unhex(h)).collect();
    let mut c = Config::new("VI_1", VRID, 150, ip(1));
    c.virtual_addresses = vec![ip(100)];
    c.authentication = AuthConfig::from_keepalived("AH", "secret1").unwrap();
    c.unicast_src_ip = Some(ip(1));
    c.unicast_peers = vec![ip(2), ip(3)];
    let mut r = VirtualRouter::new(c).unwrap();
    let t0 = Instant::now();
    r.handle_startup(t0);
    let mut now = r.poll_timeout().unwrap();
    let mut adverts = Vec::new();
    for k in 0..4 {
        if k > 0 {
            now = r.poll_timeout().unwrap();
        }
        r.handle_timeout(now);
        adverts.push(drain(&mut r, now));
    }
    assert_eq!(r.state(), Master);
    r.handle_shutdown(now);
    let stop = drain(&mut r, now);
    assert_eq!(adverts[0], want[..2], "first advert");
    assert_eq!(stop, want[2..], "priority-0 advert");
    let c = r.counters();
    assert_eq!((c.adverts_sent, c.datagrams_sent), (5, 10));
}
