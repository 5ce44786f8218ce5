//! VRRPv3 over IPv6 on the simulated LAN: routers with [`Ipv6Config`]
//! exchange IPv6 VRRP messages (delivered with hop limit 255 to ff02::12)
//! and follow the same RFC 9568 rules as over IPv4, at exact virtual times.
//!
//! Router A: priority 200 at fe80::1; router B: priority 100 at fe80::2;
//! advert_int 100 ms, so Master_Down_Interval is 300 ms plus Skew_Time
//! (21.875 ms for A, 60.9375 ms for B).
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use vrrp::config::{ConfigError, Ipv6Config, Version};
use vrrp::event::{Reason, State};
use vrrp::router::DropReason;
use vrrp::sim::{NetConfig, NodeId, Sim};
use vrrp::{wire, Config, VirtualRouter};

use Reason::*;
use State::*;

const VRID: u8 = 51;

fn link_local(last: u16) -> Ipv6Addr {
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, last)
}

fn vip() -> Ipv6Addr {
    Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100)
}

fn cfg(name: &str, priority: u8, last: u16) -> Config {
    let mut c = Config::new(name, VRID, priority, Ipv4Addr::UNSPECIFIED);
    c.version = Version::V3;
    c.advert_interval_centis = 10;
    let mut v6 = Ipv6Config::new(link_local(last));
    v6.virtual_addresses = vec![vip()];
    c.ipv6 = Some(v6);
    c
}

fn ns(n: u64) -> Duration {
    Duration::from_nanos(n)
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn history(sim: &Sim, node: NodeId) -> Vec<(Duration, State, State, Reason)> {
    sim.transitions()
        .into_iter()
        .filter(|t| t.node == node && t.vrid == VRID)
        .map(|t| (t.at, t.from, t.to, t.reason))
        .collect()
}

fn pair(seed: u64) -> (Sim, NodeId, NodeId) {
    let mut sim = Sim::from_env(seed);
    sim.record_sent(true);
    let a = sim.add_router(cfg("a", 200, 1));
    let b = sim.add_router(cfg("b", 100, 2));
    sim.start_all();
    (sim, a, b)
}

#[test]
fn the_higher_priority_wins_and_a_graceful_stop_hands_over_in_skew_time() {
    let (mut sim, a, b) = pair(1);
    sim.run_until(ms(1_000));
    // 300 ms + 56/256 x 100 ms.
    let up = ns(321_875_000);
    assert_eq!(
        history(&sim, a),
        [
            (Duration::ZERO, Initialize, Backup, Startup),
            (up, Backup, Master, MasterDown)
        ]
    );
    assert_eq!(
        history(&sim, b),
        [(Duration::ZERO, Initialize, Backup, Startup)]
    );
    assert_eq!(
        sim.router(b, VRID).master(),
        Some((IpAddr::V6(link_local(1)), 200))
    );

    sim.shutdown(a);
    let stop = sim.elapsed();
    sim.run_for(ms(500));
    // B's Skew_Time: 156/256 x 100 ms.
    let took_over = stop + ns(60_937_500);
    assert_eq!(
        history(&sim, b).last(),
        Some(&(took_over, Backup, Master, MasterDown))
    );
}

#[test]
fn adverts_are_ipv6_vrrp_messages_to_ff02_12() {
    let (mut sim, a, _) = pair(2);
    sim.run_until(ms(600));
    let sent: Vec<_> = sim.sent().iter().filter(|s| s.node == a).collect();
    assert!(!sent.is_empty());
    for s in sent {
        assert_eq!(
            (s.src, s.dst),
            (IpAddr::V6(link_local(1)), IpAddr::V6(wire::VRRP_MCAST_V6))
        );
        let meta = wire::Ipv6Meta {
            src: link_local(1),
            dst: wire::VRRP_MCAST_V6,
            hop_limit: 255,
        };
        let advert = wire::decode_v6(&s.bytes, &meta, &wire::RecvOptionsV3::default()).unwrap();
        assert_eq!(
            (advert.vrid, advert.priority, advert.max_adver_int),
            (VRID, 200, 10)
        );
        assert_eq!(advert.addresses.iter().collect::<Vec<_>>(), [vip()]);
        assert_eq!(s.priority(), Some(200));
    }
}

#[test]
fn a_crashed_master_is_replaced_after_master_down_interval() {
    let (mut sim, a, b) = pair(3);
    sim.run_until(ms(1_050));
    sim.crash(a);
    sim.run_for(ms(1_000));
    let last = sim.sent().iter().rfind(|s| s.node == a).unwrap().at;
    // B declares A down 3 intervals plus its Skew_Time after A's last
    // advert: 300 ms + 60.9375 ms.
    assert_eq!(
        history(&sim, b).last(),
        Some(&(last + ns(360_937_500), Backup, Master, MasterDown))
    );
}

#[test]
fn equal_priorities_elect_the_higher_link_local_address() {
    let mut sim = Sim::from_env(4);
    // Both time out at once and, 1 ms apart, both become master before
    // hearing each other; then the address decides (RFC 9568 6.4.3).
    sim.set_net(NetConfig {
        latency: ms(1),
        ..NetConfig::default()
    });
    let low = sim.add_router(cfg("low", 150, 1));
    let high = sim.add_router(cfg("high", 150, 2));
    sim.start_all();
    sim.run_until(ms(2_000));
    assert_eq!(sim.masters(VRID), [high]);
    assert_eq!(
        history(&sim, low).last().map(|t| (t.1, t.2, t.3)),
        Some((Master, Backup, HigherPriority))
    );
}

#[test]
fn wrong_hop_limit_and_wrong_family_are_dropped() {
    let t0 = std::time::Instant::now();
    let mut r = VirtualRouter::new(cfg("b", 100, 2)).unwrap();
    r.handle_startup(t0);
    let mut buf = [0u8; 64];
    let repr = wire::AdvertV3Repr {
        src: link_local(1),
        dst: wire::VRRP_MCAST_V6,
        ttl: 255,
        vrid: VRID,
        priority: 200,
        max_adver_int: 10,
        addresses: &[vip()],
    };
    let len = wire::encode_v6(&repr, &mut buf).unwrap();
    let meta = |hop_limit| wire::Ipv6Meta {
        src: link_local(1),
        dst: wire::VRRP_MCAST_V6,
        hop_limit,
    };
    r.handle_datagram_v6(t0, &meta(64), &buf[..len]);
    r.handle_datagram(t0, Ipv4Addr::new(10, 0, 0, 1), &buf[..len]);
    let drops = r.counters().dropped.clone();
    assert_eq!(drops.get(DropReason::Invalid(wire::DropReason::BadTtl)), 1);
    assert_eq!(drops.get(DropReason::WrongFamily), 1);
    assert_eq!(r.master(), None);
    r.handle_datagram_v6(t0, &meta(255), &buf[..len]);
    assert_eq!(r.master(), Some((IpAddr::V6(link_local(1)), 200)));
}

#[test]
fn an_ipv6_router_needs_v3_its_own_peers_and_a_link_local_source() {
    let mut c = cfg("a", 100, 1);
    c.version = Version::V2;
    assert_eq!(c.validate(), Err(ConfigError::Ipv6NeedsV3));
    let mut c = cfg("a", 100, 1);
    c.unicast_peers = vec![Ipv4Addr::new(10, 0, 0, 2)];
    assert_eq!(c.validate(), Err(ConfigError::Ipv6Unicast));
    let mut c = cfg("a", 100, 1);
    let global = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1);
    c.ipv6.as_mut().unwrap().link_local = global;
    assert_eq!(c.validate(), Err(ConfigError::LinkLocal(global)));
    let mut c = cfg("a", 100, 1);
    c.ipv6.as_mut().unwrap().virtual_addresses = vec![wire::VRRP_MCAST_V6];
    assert_eq!(
        c.validate(),
        Err(ConfigError::VirtualAddress6(wire::VRRP_MCAST_V6))
    );
    assert_eq!(cfg("a", 100, 1).validate(), Ok(()));
}

#[test]
fn unicast_ipv6_peers_get_one_copy_each_and_strangers_are_dropped() {
    let t0 = std::time::Instant::now();
    let global = |last| Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, last);
    let mut c = cfg("a", 200, 1);
    let v6 = c.ipv6.as_mut().unwrap();
    v6.link_local = global(1);
    v6.unicast_peers = vec![global(2), global(3)];
    c.check_unicast_src = true;
    assert_eq!(c.validate(), Ok(()));
    let mut r = VirtualRouter::new(c.clone()).unwrap();
    r.handle_startup(t0);
    r.handle_timeout(t0 + ms(1_000));
    assert_eq!(r.state(), Master);
    let mut buf = [0u8; 64];
    let mut to = Vec::new();
    while let Some(t) = r.poll_transmit(t0 + ms(1_000), &mut buf) {
        to.push(t.destination);
    }
    assert_eq!(to, [IpAddr::V6(global(2)), IpAddr::V6(global(3))]);

    // A higher priority from a peer wins; the same from a stranger, or
    // sent to the multicast group, is dropped.
    let advert = |src, dst: Ipv6Addr, buf: &mut [u8]| {
        let repr = wire::AdvertV3Repr {
            src,
            dst,
            ttl: 255,
            vrid: VRID,
            priority: 250,
            max_adver_int: 10,
            addresses: &[vip()],
        };
        let len = wire::encode_v6(&repr, buf).unwrap();
        (
            len,
            wire::Ipv6Meta {
                src,
                dst,
                hop_limit: 255,
            },
        )
    };
    let now = t0 + ms(1_001);
    let (len, meta) = advert(global(9), global(1), &mut buf);
    r.handle_datagram_v6(now, &meta, &buf[..len]);
    let (len, meta) = advert(global(2), wire::VRRP_MCAST_V6, &mut buf);
    r.handle_datagram_v6(now, &meta, &buf[..len]);
    let drops = r.counters().dropped.clone();
    assert_eq!(drops.get(DropReason::NotUnicastPeer), 1);
    assert_eq!(
        drops.get(DropReason::Invalid(wire::DropReason::BadDestination)),
        1
    );
    assert_eq!(r.state(), Master);
    let (len, meta) = advert(global(2), global(1), &mut buf);
    r.handle_datagram_v6(now, &meta, &buf[..len]);
    assert_eq!(r.state(), Backup);

    let mut own = c;
    own.ipv6.as_mut().unwrap().unicast_peers = vec![global(1)];
    assert_eq!(own.validate(), Err(ConfigError::UnicastPeer6(global(1))));
}
