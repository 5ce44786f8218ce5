//! An IPv6 router multicasting from a global address, as keepalived 2.2.7
//! does with `use_ipvlan` and a global IPv6 address
//! ([`Ipv6Config::global_source`]): allowed only with that flag, and
//! received by a router with a link-local source as any other master.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use vrrp::config::{ConfigError, Ipv6Config, Version};
use vrrp::event::State;
use vrrp::sim::Sim;
use vrrp::{wire, Config};

const VRID: u8 = 61;
const GLOBAL: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 6);
const LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 2);

fn cfg(name: &str, priority: u8, source: Ipv6Addr, global_source: bool) -> Config {
    let mut c = Config::new(name, VRID, priority, Ipv4Addr::UNSPECIFIED);
    c.version = Version::V3;
    c.advert_interval_centis = 10;
    let mut v6 = Ipv6Config::new(source);
    v6.virtual_addresses = vec![Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100)];
    v6.global_source = global_source;
    c.ipv6 = Some(v6);
    c
}

#[test]
fn a_global_multicast_source_needs_the_flag() {
    let plain = cfg("a", 200, GLOBAL, false);
    assert_eq!(plain.validate(), Err(ConfigError::LinkLocal(GLOBAL)));
    assert_eq!(cfg("a", 200, GLOBAL, true).validate(), Ok(()));
    // Still a unicast address of the router's own.
    let group = wire::VRRP_MCAST_V6;
    let multicast = cfg("a", 200, group, true);
    assert_eq!(multicast.validate(), Err(ConfigError::LinkLocal(group)));
    let none = cfg("a", 200, Ipv6Addr::UNSPECIFIED, true);
    let want = Err(ConfigError::LinkLocal(Ipv6Addr::UNSPECIFIED));
    assert_eq!(none.validate(), want);
}

#[test]
fn a_master_with_a_global_source_is_heard_by_a_link_local_backup() {
    let mut sim = Sim::from_env(7);
    sim.record_sent(true);
    let a = sim.add_router(cfg("a", 200, GLOBAL, true));
    let b = sim.add_router(cfg("b", 100, LINK_LOCAL, false));
    sim.start_all();
    sim.run_until(Duration::from_millis(1_000));
    assert_eq!(sim.router(a, VRID).state(), State::Master);
    assert_eq!(sim.router(b, VRID).state(), State::Backup);
    assert_eq!(
        sim.router(b, VRID).master(),
        Some((IpAddr::V6(GLOBAL), 200))
    );
    let sources: Vec<_> = (sim.sent().iter())
        .filter(|s| s.node == a)
        .map(|s| (s.src, s.dst))
        .collect();
    assert!(!sources.is_empty());
    let want = (IpAddr::V6(GLOBAL), IpAddr::V6(wire::VRRP_MCAST_V6));
    assert!(sources.iter().all(|s| *s == want), "{sources:?}");
}
