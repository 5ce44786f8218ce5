//! The tokio driver running IPv6 virtual routers (VRRPv3 over IPv6) in
//! network namespaces this test creates (needs root and `ip`): election
//! from link-local sources, the VIP installed `nodad` (its deletion sends
//! the master to BACKUP and back, as keepalived), graceful handover, adverts with a bad hop limit
//! dropped by typed reason, one from a global source received as keepalived does, and a reconfiguration that mixes families on
//! shared sockets (with an IPv6 virtual route), and a VMAC.
#![cfg(feature = "tokio")]
// Tests stop on the first unexpected value; `expect` names what was expected.
#![allow(clippy::unwrap_used)]

mod netns_lab;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV6};
use std::time::{Duration, Instant};

use netns_lab::driver::{one, router, Running};
use netns_lab::{ip, Netns, Pair};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use vrrp::config::{Ipv6Config, Version};
use vrrp::event::{Event, State};
use vrrp::linux::driver::{
    Deleted, DriverEvent, RouterSpec, Setup, Snapshot, VirtualAddress, VirtualRoute,
};
use vrrp::linux::{RawSocket6, RawSocket6Config, RouteSpec};
use vrrp::router::DropReason;
use vrrp::wire::{self, AdvertV3Repr, DropReason as WireDrop};
use vrrp::Config;

const VIP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
const VIP2: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x200);
const VIP4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

/// An IPv6 router on eth0 at `advert_int 0.2`, VIP `vip/64`.
fn spec(name: &str, vrid: u8, priority: u8, vip: Ipv6Addr) -> RouterSpec {
    let mut config = Config::new(name, vrid, priority, Ipv4Addr::UNSPECIFIED);
    config.version = Version::V3;
    config.advert_interval_centis = 20;
    let mut addr = VirtualAddress::host(vip);
    addr.prefix_len = 64;
    router(config, "eth0", vec![addr])
}

impl Running {
    fn wait_state(&self, name: &str, to: State) {
        self.wait(&format!("{name} {to}"), |e| {
            matches!(e, DriverEvent::Router { name: n, event: Event::StateChanged { to: t, .. }, .. }
                if *t == to && &**n == name)
        });
    }
}

/// Polls `f` until it gives a value (30 s at most: a safety limit).
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The IPv6 addresses of eth0 as `ip -j` shows them.
fn addresses6(ns: &Netns) -> Vec<serde_json::Value> {
    let v = ns.ip_json(&["-6", "addr", "show", "dev", "eth0"]).unwrap();
    v[0]["addr_info"].as_array().cloned().unwrap_or_default()
}

fn find(ns: &Netns, addr: Ipv6Addr) -> Option<serde_json::Value> {
    let addr = addr.to_string();
    addresses6(ns).into_iter().find(|a| a["local"] == addr)
}

fn wait_vip(ns: &Netns, vip: Ipv6Addr, present: bool) {
    wait_for(&format!("{vip} present={present} in {}", ns.name()), || {
        (find(ns, vip).is_some() == present).then_some(())
    });
}

/// eth0's link-local address, once duplicate address detection is over
/// (an advert cannot leave from a tentative address).
fn link_local(ns: &Netns) -> Ipv6Addr {
    wait_for(&format!("link-local address in {}", ns.name()), || {
        addresses6(ns)
            .into_iter()
            .find(|a| a["scope"] == "link" && a["tentative"].is_null())
            .and_then(|a| a["local"].as_str()?.parse().ok())
    })
}

fn has_route(ns: &Netns) -> bool {
    let v = ns
        .ip_json(&["-6", "route", "show", "2001:db8:5::/48"])
        .unwrap();
    v.as_array()
        .is_some_and(|r| r.iter().any(|r| r["dev"] == "eth0"))
}

fn drops(s: &Snapshot, reason: WireDrop) -> u64 {
    s.routers[0]
        .counters
        .dropped
        .get(DropReason::Invalid(reason))
}

#[test]
fn root_netns_driver_v6_elects_restores_drops_and_hands_over() {
    let lab = Pair::new();
    let (ll_a, ll_b) = (link_local(&lab.a), link_local(&lab.b));
    let b = Running::start(&lab.b, one(spec("VI_6", 51, 100, VIP)));
    b.wait_state("VI_6", State::Backup);
    let a = Running::start(&lab.a, one(spec("VI_6", 51, 150, VIP)));
    a.wait_state("VI_6", State::Master);
    wait_vip(&lab.a, VIP, true);
    let vip = find(&lab.a, VIP).unwrap();
    assert_eq!(vip["prefixlen"], 64);
    assert_eq!(vip["nodad"], true, "{vip}");
    // The backup hears the master's adverts from its link-local address.
    wait_for("adverts on the backup", || {
        (b.snapshot().routers[0].counters.adverts_received >= 3).then_some(())
    });
    assert!(find(&lab.b, VIP).is_none());
    assert_eq!(b.snapshot().raw_sockets, 1);

    // Someone deletes the VIP from the master: as keepalived, it goes to
    // BACKUP and is master again after Skew_Time, the VIP re-installed.
    ip(
        &lab.a,
        &["-6", "addr", "del", "2001:db8::100/64", "dev", "eth0"],
    );
    let deleted = a.wait("VIP deleted", |e| {
        matches!(e, DriverEvent::Deleted { item: Deleted::Address { addr, .. }, .. } if *addr == IpAddr::V6(VIP))
    });
    assert!(matches!(deleted, DriverEvent::Deleted { .. }));
    a.wait_state("VI_6", State::Backup);
    a.wait_state("VI_6", State::Master);
    wait_vip(&lab.a, VIP, true);

    // A higher-priority advert the master must drop: hop limit 1. Then
    // one from a global source, which keepalived 2.2.7 receives as any
    // other (its `use_ipvlan` with a global address sends from one): of
    // lower priority, so the master counts it and stays.
    let repr = |src, priority| AdvertV3Repr {
        src,
        dst: wire::VRRP_MCAST_V6,
        ttl: 255,
        vrid: 51,
        priority,
        max_adver_int: 20,
        addresses: &[VIP],
    };
    let mut buf = [0u8; 64];
    let received = a.snapshot().routers[0].counters.adverts_received;
    let n = wire::encode_v6(&repr(ll_b, 200), &mut buf).unwrap();
    lab.b
        .enter(|| {
            let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::from(112))).unwrap();
            s.bind_device(Some(b"eth0")).unwrap();
            s.set_multicast_hops_v6(1).unwrap();
            let ifindex = nix::net::if_::if_nametoindex("eth0").unwrap();
            let to = SocketAddrV6::new(wire::VRRP_MCAST_V6, 0, 0, ifindex);
            s.send_to(&buf[..n], &SockAddr::from(to)).unwrap();
        })
        .unwrap();
    let global = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0xb);
    ip(
        &lab.b,
        &[
            "-6",
            "addr",
            "add",
            "2001:db8::b/64",
            "dev",
            "eth0",
            "nodad",
        ],
    );
    let n = wire::encode_v6(&repr(global, 100), &mut buf).unwrap();
    lab.b
        .enter(|| {
            let ifindex = nix::net::if_::if_nametoindex("eth0").unwrap();
            let config = RawSocket6Config {
                ifname: "eth0".into(),
                ifindex,
                multicast: true,
            };
            let s = RawSocket6::open(config).unwrap();
            s.send_from(&buf[..n], global, wire::VRRP_MCAST_V6).unwrap();
        })
        .unwrap();
    wait_for("one forged advert dropped, one received", || {
        let s = a.snapshot();
        let got = s.routers[0].counters.adverts_received - received;
        (drops(&s, WireDrop::BadTtl) == 1 && got == 1).then_some(())
    });
    let s = a.snapshot();
    assert_eq!(drops(&s, WireDrop::BadSource), 0);
    // Master twice: at the election and after the VIP's deletion.
    assert_eq!(
        (s.routers[0].state, s.routers[0].counters.became_master),
        (State::Master, 2)
    );

    // Graceful stop: priority 0 from the master, the backup takes over.
    a.stop();
    b.wait_state("VI_6", State::Master);
    wait_vip(&lab.b, VIP, true);
    wait_vip(&lab.a, VIP, false);
    assert_ne!(ll_a, ll_b);
}

#[test]
fn root_netns_driver_v6_reconfigure_mixes_families_on_shared_sockets() {
    let lab = Pair::new();
    let ll_a = link_local(&lab.a);
    let a = Running::start(&lab.a, one(spec("VI_6", 51, 150, VIP)));
    a.wait_state("VI_6", State::Master);
    wait_vip(&lab.a, VIP, true);

    // A second IPv6 router with an explicit source, and an IPv4 one with
    // an IPv6 address it installs without advertising it.
    let mut second = spec("VI_7", 52, 150, VIP2);
    second.config.ipv6 = Some(Ipv6Config::new(ll_a));
    let net: Ipv6Addr = "2001:db8:5::".parse().unwrap();
    second.routes = vec![VirtualRoute {
        route: RouteSpec::to(net, 48),
        dev: Some("eth0".into()),
        nexthop_devs: Vec::new(),
        no_track: false,
    }];
    // The IPv4 router shares the first one's VRID, as keepalived allows.
    let mut v4 = spec("VI_4", 51, 150, VIP);
    v4.config.version = Version::V2;
    v4.config.advert_interval_secs = 1;
    v4.addresses = vec![VirtualAddress::host(VIP4)];
    let excluded = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x300);
    v4.excluded = vec![VirtualAddress::host(excluded)];
    let first = spec("VI_6", 51, 150, VIP);
    let setup = Setup {
        routers: vec![first.clone(), second, v4],
        ..Setup::default()
    };
    let summary = a.reconfigure(setup);
    assert_eq!((summary.unchanged, summary.added), (1, 2));
    a.wait_state("VI_7", State::Master);
    a.wait_state("VI_4", State::Master);
    wait_vip(&lab.a, VIP2, true);
    wait_vip(&lab.a, excluded, true);
    wait_for("the IPv6 virtual route", || has_route(&lab.a).then_some(()));
    // One IPv6 socket for both IPv6 routers, one IPv4 VRRP socket.
    assert_eq!(a.snapshot().raw_sockets, 2);

    // Back to the first router alone: the others' addresses go, and so
    // does the IPv4 socket; the first router was never touched.
    let summary = a.reconfigure(one(first));
    assert_eq!((summary.unchanged, summary.removed), (1, 2));
    wait_vip(&lab.a, VIP2, false);
    wait_vip(&lab.a, excluded, false);
    wait_for("the IPv6 route removed", || {
        (!has_route(&lab.a)).then_some(())
    });
    let s = a.snapshot();
    assert_eq!((s.raw_sockets, s.routers.len()), (1, 1));
    assert_eq!(s.routers[0].counters.became_master, 1);
    wait_vip(&lab.a, VIP, true);
}

#[test]
fn root_netns_driver_v6_vmac_sends_from_the_ipv6_virtual_mac() {
    let lab = Pair::new();
    let ll_a = link_local(&lab.a);
    link_local(&lab.b);
    let b = Running::start(&lab.b, one(spec("VI_6", 51, 100, VIP)));
    b.wait_state("VI_6", State::Backup);
    let mut vmac = spec("VI_6", 51, 150, VIP);
    vmac.use_vmac = true;
    let a = Running::start(&lab.a, one(vmac));
    a.wait_state("VI_6", State::Master);
    let link = lab.a.ip_json(&["link", "show", "vrrp.51"]).unwrap();
    assert_eq!(link[0]["address"], "00:00:5e:00:02:33", "{link}");
    // Its only IPv6 addresses: the advert source and the VIP.
    let shown = lab
        .a
        .ip_json(&["-6", "addr", "show", "dev", "vrrp.51"])
        .unwrap();
    let mut addrs: Vec<String> = (shown[0]["addr_info"].as_array().unwrap().iter())
        .map(|a| format!("{}/{}", a["local"].as_str().unwrap(), a["prefixlen"]))
        .collect();
    addrs.sort();
    assert_eq!(addrs, ["2001:db8::100/64".to_owned(), format!("{ll_a}/64")]);
    // The backup hears it; the base interface carries no VIP.
    wait_for("adverts on the backup", || {
        (b.snapshot().routers[0].counters.adverts_received >= 3).then_some(())
    });
    assert!(find(&lab.a, VIP).is_none());
    let s = a.snapshot();
    assert_eq!(
        (s.routers[0].state, s.routers[0].counters.became_master),
        (State::Master, 1)
    );
    a.stop();
    b.wait_state("VI_6", State::Master);
    let gone = lab.a.ip(&["link", "show", "vrrp.51"]);
    assert!(gone.is_err(), "the VMAC is deleted on stop: {gone:?}");
}
