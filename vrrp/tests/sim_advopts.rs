//! keepalived's advert knobs on the simulated LAN and in the codec:
//! `old_unicast_checksum` (VRRPv3 unicast adverts summed over 224.0.0.18,
//! its `never` form and keepalived's switch to it on receipt: from then
//! on only old adverts are accepted, RFC ones still sent) and
//! `vrrp_startup_delay` (no backup takes over before the delay plus its
//! Master_Down_Interval).
//!
//! Priorities: 200 (Master_Down_Interval 3.21875 s), 100 (3.609375 s,
//! Skew_Time 609.375 ms); advert interval 1 s; zero latency.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use vrrp::auth::TxCounters;
use vrrp::config::{OldChecksum, Version};
use vrrp::event::{AdvertError, Event, ProtocolError, Reason, State};
use vrrp::mux::MuxEvent;
use vrrp::router::DropReason;
use vrrp::sim::{NodeId, Sim};
use vrrp::wire::{self, Checksum, RecvOptionsV3};
use vrrp::{Config, VirtualRouter};

use Reason::*;
use State::*;

const VRID: u8 = 51;
const MDI_200: u64 = 3_218_750_000;
const MDI_100: u64 = 3_609_375_000;
const SKEW_100: u64 = 609_375_000;

fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, last)
}

fn ns(n: u64) -> Duration {
    Duration::from_nanos(n)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// A VRRPv3 router at 10.0.0.`last`, unicast to `peer` (0: multicast).
fn cfg(name: &str, priority: u8, last: u8, peer: u8, old: OldChecksum) -> Config {
    let mut c = Config::new(name, VRID, priority, ip(last));
    c.virtual_addresses = vec![ip(100)];
    c.version = Version::V3;
    if peer != 0 {
        c.unicast_peers = vec![ip(peer)];
    }
    c.old_unicast_checksum = old;
    c
}

fn history(sim: &Sim, node: NodeId) -> Vec<(Duration, State, State, Reason)> {
    sim.transitions()
        .into_iter()
        .filter(|t| t.node == node)
        .map(|t| (t.at, t.from, t.to, t.reason))
        .collect()
}

/// When `node` switched to the old checksum.
fn switches(sim: &Sim, node: NodeId) -> Vec<Duration> {
    (sim.records().iter())
        .filter(|r| r.node == node)
        .filter(|r| matches!(r.event, MuxEvent::Router(_, Event::OldUnicastChecksum)))
        .map(|r| r.at)
        .collect()
}

/// The checksum each advert `node` sent carries (as a unicast receiver
/// without a choice would read it), with its priority.
fn sent_sums(sim: &Sim, node: NodeId) -> Vec<(Checksum, u8)> {
    let opts = RecvOptionsV3 {
        unicast: true,
        ..RecvOptionsV3::default()
    };
    (sim.sent().iter())
        .filter(|s| s.node == node)
        .map(|s| {
            let (a, sum) = wire::decode_v3_checksum(&s.bytes, &opts, Checksum::Either).unwrap();
            (sum, a.priority)
        })
        .collect()
}

fn bad_checksums(sim: &Sim, node: NodeId) -> u64 {
    let reason = DropReason::Invalid(wire::DropReason::BadChecksum);
    sim.router(node, VRID).counters().dropped.get(reason)
}

/// 10.0.0.1 to 10.0.0.2, VRID 51, priority 100, 1 s, one address.
fn unicast_advert(sum: Checksum) -> Vec<u8> {
    advert_from(1, sum)
}

/// 10.0.0.`last` to 10.0.0.2, VRID 51, priority 100, 1 s, one address.
fn advert_from(last: u8, sum: Checksum) -> Vec<u8> {
    let repr = wire::AdvertV3Repr {
        src: ip(last),
        dst: ip(2),
        ttl: 255,
        vrid: VRID,
        priority: 100,
        max_adver_int: 100,
        addresses: &[ip(100)],
    };
    let mut buf = vec![0xee; 64];
    let len = wire::encode_v3_checksum(&repr, sum, &mut TxCounters::new(), &mut buf).unwrap();
    buf.truncate(len);
    buf
}

#[test]
fn the_old_checksum_sums_the_vrrp_group_instead_of_the_destination() {
    let unicast = RecvOptionsV3 {
        unicast: true,
        ..RecvOptionsV3::default()
    };
    let (rfc, old) = (unicast_advert(Checksum::Rfc), unicast_advert(Checksum::Old));
    // Bytes 26..28 (after the 20-byte IP header, the checksum field at 6):
    // the one's complement sums over the pseudo-header with 10.0.0.2, and
    // with 224.0.0.18 (computed apart, in Python).
    assert_eq!(
        (rfc[26..28].to_vec(), old[26..28].to_vec()),
        (vec![0x4b, 0x84], vec![0x75, 0x73])
    );
    assert_eq!(rfc[..26], old[..26]);
    assert_eq!(rfc[28..], old[28..]);
    let dec = |b: &[u8], s| wire::decode_v3_checksum(b, &unicast, s).map(|(_, used)| used);
    assert_eq!(dec(&rfc, Checksum::Rfc), Ok(Checksum::Rfc));
    assert_eq!(dec(&old, Checksum::Old), Ok(Checksum::Old));
    assert_eq!(dec(&old, Checksum::Rfc), Err(wire::DropReason::BadChecksum));
    assert_eq!(dec(&rfc, Checksum::Old), Err(wire::DropReason::BadChecksum));
    assert_eq!(dec(&rfc, Checksum::Either), Ok(Checksum::Rfc));
    assert_eq!(dec(&old, Checksum::Either), Ok(Checksum::Old));
    assert_eq!(
        wire::decode_v3(&old, &unicast).map(|a| a.priority),
        Err(wire::DropReason::BadChecksum)
    );
}

#[test]
fn multicast_adverts_carry_the_same_checksum_either_way() {
    let repr = wire::AdvertV3Repr {
        src: ip(1),
        dst: wire::VRRP_MCAST_V4,
        ttl: 255,
        vrid: VRID,
        priority: 100,
        max_adver_int: 100,
        addresses: &[ip(100)],
    };
    let enc = |sum| {
        let mut buf = [0u8; 64];
        let len = wire::encode_v3_checksum(&repr, sum, &mut TxCounters::new(), &mut buf).unwrap();
        buf[..len].to_vec()
    };
    assert_eq!(enc(Checksum::Old), enc(Checksum::Rfc));
}

#[test]
fn a_default_router_switches_to_the_old_checksum_of_its_peer_for_good() {
    let mut sim = Sim::from_env(1);
    sim.record_sent(true);
    let a = sim.add_router(cfg("a", 200, 1, 2, OldChecksum::Always));
    let b = sim.add_router(cfg("b", 100, 2, 1, OldChecksum::Auto));
    sim.start_all();
    sim.run_until(secs(6));
    // A's first advert (at A's Master_Down_Interval) switches B, once.
    assert_eq!(switches(&sim, b), [ns(MDI_200)]);
    assert_eq!((switches(&sim, a), bad_checksums(&sim, b)), (vec![], 0));
    assert_eq!(history(&sim, b), [(secs(0), Initialize, Backup, Startup)]);
    sim.shutdown(a);
    sim.run_until(secs(9));
    // A's priority 0 (old) lets B take over after Skew_Time. B still sends
    // the RFC checksum, as keepalived 2.2.7 does after its switch (a
    // capture of two keepalived: its adverts then validate only as RFC).
    let took_over = secs(6) + ns(SKEW_100);
    assert_eq!(
        history(&sim, b),
        [
            (secs(0), Initialize, Backup, Startup),
            (took_over, Backup, Master, MasterDown)
        ]
    );
    assert_eq!(
        sent_sums(&sim, a),
        [(Checksum::Old, 200); 4]
            .into_iter()
            .chain([(Checksum::Old, 0)])
            .collect::<Vec<_>>()
    );
    assert_eq!(sent_sums(&sim, b), [(Checksum::Rfc, 100); 4]);
}

#[test]
fn after_the_switch_rfc_adverts_are_dropped() {
    let mut c = cfg("b", 50, 2, 1, OldChecksum::Auto);
    c.unicast_peers.push(ip(3));
    let mut r = VirtualRouter::new(c).unwrap();
    let t0 = Instant::now();
    r.handle_startup(t0);
    let events = |r: &mut VirtualRouter| std::iter::from_fn(|| r.poll_event()).collect::<Vec<_>>();
    events(&mut r);
    r.handle_datagram(t0, ip(3), &advert_from(3, Checksum::Rfc));
    assert_eq!(events(&mut r), []);
    r.handle_datagram(t0, ip(1), &advert_from(1, Checksum::Old));
    assert_eq!(events(&mut r), [Event::OldUnicastChecksum]);
    r.handle_datagram(t0, ip(3), &advert_from(3, Checksum::Rfc));
    let bad = DropReason::Invalid(wire::DropReason::BadChecksum);
    let rejected = Event::Rejected {
        from: ip(3).into(),
        error: AdvertError::Protocol(ProtocolError::Checksum),
    };
    assert_eq!(events(&mut r), [Event::Dropped(bad), rejected]);
    r.handle_datagram(t0, ip(3), &advert_from(3, Checksum::Old));
    assert_eq!(events(&mut r), []);
    assert_eq!(
        (r.counters().adverts_received, r.counters().dropped.get(bad)),
        (3, 1)
    );
}

#[test]
fn never_keeps_the_rfc_checksum_and_drops_the_old_one() {
    let mut sim = Sim::from_env(2);
    let a = sim.add_router(cfg("a", 200, 1, 2, OldChecksum::Always));
    let b = sim.add_router(cfg("b", 100, 2, 1, OldChecksum::Never));
    sim.start_all();
    sim.run_until(secs(6));
    // B reads none of A's adverts (old checksum, at 3.21875, 4, 5 and 6 s):
    // both are master; A drops B's RFC ones (at 3.609375, 4, 5 and 6 s).
    assert_eq!(switches(&sim, b), [] as [Duration; 0]);
    assert_eq!(bad_checksums(&sim, b), 4);
    assert_eq!(
        history(&sim, b),
        [
            (secs(0), Initialize, Backup, Startup),
            (ns(MDI_100), Backup, Master, MasterDown)
        ]
    );
    assert_eq!(sim.masters(VRID), [a, b]);
    assert_eq!(bad_checksums(&sim, a), 4);
}

#[test]
fn routers_without_the_keyword_keep_the_rfc_checksum() {
    let mut sim = Sim::from_env(3);
    sim.record_sent(true);
    let a = sim.add_router(cfg("a", 200, 1, 2, OldChecksum::Auto));
    let b = sim.add_router(cfg("b", 100, 2, 1, OldChecksum::Auto));
    sim.start_all();
    sim.run_until(secs(6));
    assert_eq!((switches(&sim, a), switches(&sim, b)), (vec![], vec![]));
    assert_eq!(sent_sums(&sim, a), [(Checksum::Rfc, 200); 4]);
    assert_eq!(sim.masters(VRID), [a]);
}

#[test]
fn a_multicast_router_does_not_switch() {
    let mut sim = Sim::from_env(4);
    let a = sim.add_router(cfg("a", 200, 1, 0, OldChecksum::Always));
    let b = sim.add_router(cfg("b", 100, 2, 0, OldChecksum::Auto));
    sim.start_all();
    sim.run_until(secs(6));
    assert_eq!((switches(&sim, b), bad_checksums(&sim, b)), (vec![], 0));
    assert_eq!(sim.masters(VRID), [a]);
}

/// VRRPv2 router at 10.0.0.`last`, multicast.
fn v2(name: &str, priority: u8, last: u8) -> Config {
    let mut c = Config::new(name, VRID, priority, ip(last));
    c.virtual_addresses = vec![ip(100)];
    c
}

fn hold(sim: &mut Sim, node: NodeId, delay: Duration) {
    sim.with_mux(node, |mux, now| mux.hold_startup(now + delay));
}

#[test]
fn a_held_backup_alone_waits_the_delay_plus_master_down_interval() {
    let mut sim = Sim::from_env(5);
    let b = sim.add_router(v2("b", 100, 2));
    hold(&mut sim, b, secs(5));
    sim.start_all();
    sim.run_until(secs(12));
    assert_eq!(
        history(&sim, b),
        [
            (secs(0), Initialize, Backup, Startup),
            (secs(5) + ns(MDI_100), Backup, Master, MasterDown)
        ]
    );
}

#[test]
fn a_held_backup_follows_a_master_and_takes_over_after_the_delay() {
    let mut sim = Sim::from_env(6);
    let a = sim.add_router(v2("a", 200, 1));
    let b = sim.add_router(v2("b", 100, 2));
    hold(&mut sim, b, secs(10));
    sim.start_all();
    sim.run_until(secs(4));
    // A, not held, is master at its Master_Down_Interval.
    assert_eq!(
        history(&sim, a),
        [
            (secs(0), Initialize, Backup, Startup),
            (ns(MDI_200), Backup, Master, MasterDown)
        ]
    );
    // A stops: B's Skew_Time counts from the end of the delay.
    sim.shutdown(a);
    sim.run_until(secs(12));
    assert_eq!(
        history(&sim, b),
        [
            (secs(0), Initialize, Backup, Startup),
            (secs(10) + ns(SKEW_100), Backup, Master, MasterDown)
        ]
    );
}

#[test]
fn after_the_delay_a_backup_times_out_as_usual() {
    let mut sim = Sim::from_env(7);
    let a = sim.add_router(v2("a", 200, 1));
    let b = sim.add_router(v2("b", 100, 2));
    hold(&mut sim, b, secs(2));
    sim.start_all();
    sim.run_until(Duration::from_millis(4500));
    sim.crash(a);
    sim.run_until(secs(12));
    // A's adverts: at 3.21875 s, then on the grid of whole seconds, the
    // last at 4 s; B's timer runs from it as without the delay.
    assert_eq!(
        history(&sim, b),
        [
            (secs(0), Initialize, Backup, Startup),
            (secs(4) + ns(MDI_100), Backup, Master, MasterDown)
        ]
    );
}
