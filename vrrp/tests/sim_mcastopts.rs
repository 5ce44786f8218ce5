//! keepalived's multicast group knobs (`mcast_dst_ip`, `vrrp_mcast_group4`,
//! `vrrp_mcast_group6`: [`Config::mcast_group`]) and `skip_check_adv_addr`
//! ([`Config::skip_check_adv_addr`]) on the simulated LAN.
//!
//! Routers A (priority 200, 10.0.0.1) and B (priority 100, 10.0.0.2),
//! VRID 51, advert_int 1 s: B's Master_Down_Interval is 3.609375 s.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use vrrp::config::{ConfigError, Ipv6Config, Version};
use vrrp::event::State;
use vrrp::router::DropReason;
use vrrp::sim::{NodeId, Sim};
use vrrp::{wire, Config};

const VRID: u8 = 51;
const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 19);
const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
const OTHER_VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 101);

fn cfg(name: &str, priority: u8, last: u8, group: Option<Ipv4Addr>) -> Config {
    let mut c = Config::new(name, VRID, priority, Ipv4Addr::new(10, 0, 0, last));
    c.virtual_addresses = vec![VIP];
    c.mcast_group = group.map(IpAddr::V4);
    c
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

fn pair(a: Config, b: Config) -> (Sim, NodeId, NodeId) {
    let mut sim = Sim::from_env(7);
    sim.record_sent(true);
    let a = sim.add_router(a);
    let b = sim.add_router(b);
    sim.start_all();
    (sim, a, b)
}

/// Every destination `node` sent to.
fn destinations(sim: &Sim, node: NodeId) -> Vec<IpAddr> {
    let mut d: Vec<IpAddr> = (sim.sent().iter())
        .filter(|s| s.node == node)
        .map(|s| s.dst)
        .collect();
    d.dedup();
    d
}

fn bad_destination(sim: &Sim, node: NodeId) -> u64 {
    let reason = DropReason::Invalid(wire::DropReason::BadDestination);
    sim.router(node, VRID).counters().dropped.get(reason)
}

fn address_mismatch(sim: &Sim, node: NodeId) -> u64 {
    let reason = DropReason::Invalid(wire::DropReason::AddressMismatch);
    sim.router(node, VRID).counters().dropped.get(reason)
}

#[test]
fn adverts_go_to_the_configured_group_and_routers_on_it_elect_one_master() {
    let (mut sim, a, b) = pair(cfg("a", 200, 1, Some(GROUP)), cfg("b", 100, 2, Some(GROUP)));
    sim.run_until(secs(10));
    assert_eq!(sim.state(a, VRID), State::Master);
    assert_eq!(sim.state(b, VRID), State::Backup);
    assert_eq!(destinations(&sim, a), [IpAddr::V4(GROUP)]);
    // The checksum and everything else of the datagram are as usual.
    let sent = sim.sent().iter().find(|s| s.node == a).unwrap();
    let ip = wire::ipv4::Packet::new_checked(&sent.bytes[..]).unwrap();
    assert_eq!(ip.dst_addr(), GROUP);
    assert_eq!(bad_destination(&sim, b), 0);
}

#[test]
fn routers_on_different_groups_do_not_hear_each_other() {
    // As in keepalived, whose socket is bound to its group: each ignores
    // the other's adverts, so both become master.
    let (mut sim, a, b) = pair(cfg("a", 200, 1, Some(GROUP)), cfg("b", 100, 2, None));
    sim.run_until(secs(10));
    assert_eq!(sim.state(a, VRID), State::Master);
    assert_eq!(sim.state(b, VRID), State::Master);
    assert_eq!(destinations(&sim, a), [IpAddr::V4(GROUP)]);
    assert_eq!(destinations(&sim, b), [IpAddr::V4(wire::VRRP_MCAST_V4)]);
    assert!(bad_destination(&sim, a) > 0);
    assert!(bad_destination(&sim, b) > 0);
}

#[test]
fn the_default_group_is_the_vrrp_group_of_the_family() {
    let c = cfg("a", 200, 1, None);
    assert_eq!(c.multicast_group(), IpAddr::V4(wire::VRRP_MCAST_V4));
    let mut c6 = c.clone();
    c6.version = Version::V3;
    c6.virtual_addresses.clear();
    c6.ipv6 = Some(Ipv6Config::new("fe80::1".parse().unwrap()));
    assert_eq!(c6.multicast_group(), IpAddr::V6(wire::VRRP_MCAST_V6));
}

#[test]
fn a_group_must_be_multicast_of_the_router_family() {
    let mut c = cfg("a", 200, 1, Some(Ipv4Addr::new(10, 0, 0, 9)));
    assert_eq!(
        c.validate(),
        Err(ConfigError::McastGroup("10.0.0.9".parse().unwrap()))
    );
    let v6: IpAddr = "ff02::13".parse().unwrap();
    c.mcast_group = Some(v6);
    assert_eq!(c.validate(), Err(ConfigError::McastGroup(v6)));
}

fn cfg6(name: &str, priority: u8, last: u16, group: Ipv6Addr) -> Config {
    let mut c = Config::new(name, VRID, priority, Ipv4Addr::UNSPECIFIED);
    c.version = Version::V3;
    let mut v6 = Ipv6Config::new(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, last));
    v6.virtual_addresses = vec!["2001:db8::100".parse().unwrap()];
    c.ipv6 = Some(v6);
    c.mcast_group = Some(IpAddr::V6(group));
    c
}

#[test]
fn ipv6_adverts_go_to_the_configured_group() {
    let group: Ipv6Addr = "ff02::13".parse().unwrap();
    let (mut sim, a, b) = pair(cfg6("a", 200, 1, group), cfg6("b", 100, 2, group));
    sim.run_until(secs(10));
    assert_eq!(sim.state(a, VRID), State::Master);
    assert_eq!(sim.state(b, VRID), State::Backup);
    assert_eq!(destinations(&sim, a), [IpAddr::V6(group)]);
    // A backup on ff02::12 ignores them and takes over.
    let (mut sim, a, b) = pair(
        cfg6("a", 200, 1, group),
        cfg6("b", 100, 2, wire::VRRP_MCAST_V6),
    );
    sim.run_until(secs(10));
    assert_eq!(sim.state(b, VRID), State::Master);
    assert_eq!(destinations(&sim, b), [IpAddr::V6(wire::VRRP_MCAST_V6)]);
    assert!(bad_destination(&sim, b) > 0);
    assert_eq!(sim.state(a, VRID), State::Master);
}

/// A and B agree on the VIP; at 10 s A's list changes (a reload on A only).
fn vip_change(skip: bool) -> (Sim, NodeId, NodeId) {
    let mut b_cfg = cfg("b", 100, 2, None);
    b_cfg.skip_check_adv_addr = skip;
    let (mut sim, a, b) = pair(cfg("a", 200, 1, None), b_cfg);
    sim.run_until(secs(10));
    assert_eq!(sim.state(b, VRID), State::Backup);
    let mut new_a = cfg("a", 200, 1, None);
    new_a.virtual_addresses = vec![OTHER_VIP];
    sim.with_mux(a, |mux, now| {
        let id = mux.find(1, VRID).unwrap();
        mux.reconfigure_router(now, id, new_a).unwrap();
    });
    sim.run_until(secs(20));
    (sim, a, b)
}

#[test]
fn without_skip_check_adv_addr_a_backup_drops_the_master_with_other_addresses() {
    let (sim, a, b) = vip_change(false);
    assert_eq!(sim.state(b, VRID), State::Master);
    assert_eq!(sim.state(a, VRID), State::Master);
    assert!(address_mismatch(&sim, b) > 0);
}

#[test]
fn with_skip_check_adv_addr_a_backup_keeps_following_the_same_master() {
    let (sim, a, b) = vip_change(true);
    assert_eq!(sim.state(b, VRID), State::Backup);
    assert_eq!(sim.state(a, VRID), State::Master);
    assert_eq!(address_mismatch(&sim, b), 0);
}

#[test]
fn skip_check_adv_addr_still_checks_a_router_not_heard_as_master_before() {
    // B has never heard A (other addresses from the start): checked.
    let mut a_cfg = cfg("a", 200, 1, None);
    a_cfg.virtual_addresses = vec![OTHER_VIP];
    let mut b_cfg = cfg("b", 100, 2, None);
    b_cfg.skip_check_adv_addr = true;
    let (mut sim, a, b) = pair(a_cfg, b_cfg);
    sim.run_until(secs(10));
    assert_eq!(sim.state(a, VRID), State::Master);
    assert_eq!(sim.state(b, VRID), State::Master);
    assert!(address_mismatch(&sim, b) > 0);
}

#[test]
fn another_group_on_reload_is_another_instance_as_in_keepalived() {
    use vrrp::router::Change;
    let t0 = std::time::Instant::now();
    let mut r = vrrp::VirtualRouter::new(cfg("a", 200, 1, None)).unwrap();
    let moved = cfg("a", 200, 1, Some(GROUP));
    assert_eq!(r.reconfigure(t0, moved), Ok(Change::Restart));
    // The default group written out is the same group.
    let same = cfg("a", 200, 1, Some(wire::VRRP_MCAST_V4));
    assert!(matches!(r.reconfigure(t0, same), Ok(Change::InPlace(_))));
    // The address check is an in-place change.
    let mut skip = cfg("a", 200, 1, Some(wire::VRRP_MCAST_V4));
    skip.skip_check_adv_addr = true;
    assert!(matches!(r.reconfigure(t0, skip), Ok(Change::InPlace(_))));
}
