//! The tokio driver running real virtual routers in network namespaces this
//! test creates (needs root and `ip`; `tcpdump` for the VMAC test): election,
//! graceful stop, link down, a deleted VIP (master to BACKUP and back, as
//! keepalived), VMAC.
#![cfg(feature = "tokio")]
// Tests stop on the first unexpected value; `expect` names what was expected.
#![allow(clippy::unwrap_used)]

mod netns_lab;

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use netns_lab::driver::{one, router, vip24, Running};
use netns_lab::{tcpdump, Lan, Netns, Pair};

/// Two nodes of a [`Lan`].
struct Pair2<'a> {
    a: &'a Netns,
    b: &'a Netns,
}
use vrrp::auth::{AuthConfig, TxCounters};
use vrrp::event::{Event, Reason, State};
use vrrp::linux::driver::{
    Deleted, DriverError, DriverEvent, RouterSpec, Setup, SyncGroupSpec, VirtualAddress,
};
use vrrp::linux::{IpProto, Netlink, RawSocket, RawSocketConfig, VRRP_MULTICAST};
use vrrp::mux::MuxError;
use vrrp::router::DropReason;
use vrrp::wire::{self, AdvertRepr, DropReason as WireDrop};
use vrrp::Config;

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

fn spec(priority: u8, use_vmac: bool) -> RouterSpec {
    let vip = vip24(VIP, (!use_vmac).then_some("eth0:vip"));
    let config = Config::new("VI_1", 51, priority, Ipv4Addr::UNSPECIFIED);
    RouterSpec {
        use_vmac,
        ..router(config, "eth0", vec![vip])
    }
}

impl Running {
    fn wait_state(&self, to: State) {
        self.wait(&format!("state {to}"), |e| {
            matches!(e, DriverEvent::Router { event: Event::StateChanged { to: t, .. }, .. } if *t == to)
        });
    }
}

fn has_vip(ns: &Netns, dev: &str) -> bool {
    let v = ns.ip_json(&["-4", "addr", "show", "dev", dev]).unwrap();
    v[0]["addr_info"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["local"] == VIP.to_string()))
}

fn wait_vip(ns: &Netns, dev: &str, present: bool) {
    netns_lab::wait_for(&format!("VIP present={present} in {}", ns.name()), || {
        (has_vip(ns, dev) == present).then_some(())
    });
}

#[test]
fn root_netns_driver_elects_and_hands_over_on_graceful_stop() {
    let lab = Pair::new();
    let b = Running::start(&lab.b, one(spec(100, false)));
    b.wait_state(State::Backup);
    let a = Running::start(&lab.a, one(spec(150, false)));
    a.wait_state(State::Master);
    wait_vip(&lab.a, "eth0", true);
    wait_vip(&lab.b, "eth0", false);
    let shown = lab
        .a
        .ip_json(&["-4", "addr", "show", "dev", "eth0"])
        .unwrap();
    let vip = shown[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["local"] == VIP.to_string())
        .unwrap();
    assert_eq!(
        (vip["prefixlen"].as_u64(), vip["label"].as_str()),
        (Some(24), Some("eth0:vip"))
    );
    let snap = a.snapshot();
    assert_eq!(snap.routers[0].state, State::Master);
    assert_eq!(snap.routers[0].priority, 150);

    let counters = a.stop();
    assert!(counters.garps_sent >= 5, "{counters:?}");
    assert_eq!(counters.send_errors, 0);
    assert!(!has_vip(&lab.a, "eth0"), "a stopped master keeps no VIP");
    b.wait_state(State::Master);
    wait_vip(&lab.b, "eth0", true);
    assert_eq!(b.snapshot().routers[0].counters.priority_zero_received, 1);
}

#[test]
fn root_netns_driver_link_down_faults_master() {
    let lan = Lan::new(2);
    let lab = Pair2 {
        a: &lan.nodes[0],
        b: &lan.nodes[1],
    };
    let a = Running::start(lab.a, one(spec(150, false)));
    let b = Running::start(lab.b, one(spec(100, false)));
    a.wait_state(State::Master);
    wait_vip(lab.a, "eth0", true);

    netns_lab::ip(lab.a, &["link", "set", "eth0", "down"]);
    a.wait_state(State::Fault);
    b.wait_state(State::Master);
    wait_vip(lab.b, "eth0", true);
    assert!(!has_vip(lab.a, "eth0"));

    netns_lab::ip(lab.a, &["link", "set", "eth0", "up"]);
    a.wait_state(State::Backup);
    a.wait_state(State::Master);
    b.wait_state(State::Backup);
    wait_vip(lab.b, "eth0", false);
}

/// The next state change `run` reports.
fn next_change(run: &Running) -> (State, State, Reason) {
    let e = run.wait("a state change", |e| {
        matches!(
            e,
            DriverEvent::Router {
                event: Event::StateChanged { .. },
                ..
            }
        )
    });
    match e {
        DriverEvent::Router {
            event: Event::StateChanged { from, to, reason },
            ..
        } => (from, to, reason),
        _ => unreachable!("waited for a state change"),
    }
}

/// As keepalived 2.2.7: deleting a tracked VIP sends the master to BACKUP
/// (priority 0, everything removed) and it returns after Skew_Time with
/// every VIP; a `no_track` VIP's deletion changes nothing and it stays
/// deleted until then.
#[test]
fn root_netns_driver_leaves_master_when_a_tracked_vip_is_deleted() {
    let lab = Pair::new();
    let mut s = spec(150, false);
    let mut untracked = s.addresses[0].clone();
    untracked.addr = Ipv4Addr::new(192, 0, 2, 101).into();
    untracked.label = None;
    untracked.no_track = true;
    s.addresses.push(untracked);
    let a = Running::start(&lab.a, one(s));
    a.wait_state(State::Master);
    wait_vip(&lab.a, "eth0", true);

    netns_lab::ip(&lab.a, &["addr", "del", "192.0.2.101/24", "dev", "eth0"]);
    // The sentinel: netlink reports deletions in order, so had the first
    // one done anything, it would come before this one's.
    netns_lab::ip(&lab.a, &["addr", "del", "192.0.2.100/24", "dev", "eth0"]);
    let e = a.wait("a deletion", |e| matches!(e, DriverEvent::Deleted { .. }));
    let link = lab.a.ip_json(&["link", "show", "dev", "eth0"]).unwrap();
    let want = Deleted::Address {
        ifindex: link[0]["ifindex"].as_u64().unwrap() as u32,
        addr: VIP.into(),
    };
    assert!(matches!(e, DriverEvent::Deleted { item, .. } if item == want));
    assert_eq!(
        next_change(&a),
        (State::Master, State::Backup, Reason::Deleted)
    );
    assert_eq!(
        next_change(&a),
        (State::Backup, State::Master, Reason::MasterDown)
    );
    wait_vip(&lab.a, "eth0", true);
    let addrs = lab
        .a
        .ip_json(&["-4", "addr", "show", "dev", "eth0"])
        .unwrap();
    let has_101 =
        (addrs[0]["addr_info"].as_array().unwrap().iter()).any(|x| x["local"] == "192.0.2.101");
    assert!(has_101, "{addrs}");
    let snap = a.snapshot();
    assert_eq!(snap.driver.tracked_deletions, 1);
    assert_eq!(snap.routers[0].counters.priority_zero_sent, 1);
}

/// The driver's own deletions (a reload that changes a master's VIP,
/// leaving MASTER) never count as someone else's.
#[test]
fn root_netns_driver_own_deletions_are_not_tracked_deletions() {
    let lab = Pair::new();
    let a = Running::start(&lab.a, one(spec(150, false)));
    a.wait_state(State::Master);
    wait_vip(&lab.a, "eth0", true);
    // Same address, another prefix: deleted and added by the reload.
    let mut s = spec(150, false);
    s.addresses[0].prefix_len = 25;
    a.reconfigure(one(s));
    netns_lab::ip(&lab.a, &["addr", "del", "192.0.2.100/25", "dev", "eth0"]);
    assert_eq!(
        next_change(&a),
        (State::Master, State::Backup, Reason::Deleted)
    );
    assert_eq!(
        next_change(&a),
        (State::Backup, State::Master, Reason::MasterDown)
    );
    assert_eq!(a.snapshot().driver.tracked_deletions, 1);
}

#[test]
fn root_netns_driver_vmac_carries_vip_and_garp() {
    let lab = Pair::new();
    let (_dump, lines) = tcpdump(&lab.b, "eth0", 1, "arp");
    let a = Running::start(&lab.a, one(spec(150, true)));
    a.wait_state(State::Master);
    wait_vip(&lab.a, "vrrp.51", true);
    let line = lines
        .recv_timeout(Duration::from_secs(10))
        .expect("the peer saw a gratuitous ARP");
    assert!(
        line.contains("00:00:5e:00:01:33 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806)"),
        "{line}"
    );
    assert!(
        line.contains("who-has 192.0.2.100 (ff:ff:ff:ff:ff:ff) tell 192.0.2.100"),
        "{line}"
    );
    a.stop();
    let links = lab.a.ip_json(&["link", "show"]).unwrap();
    let names: Vec<_> = links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["ifname"].clone())
        .collect();
    assert!(
        !names.contains(&serde_json::Value::from("vrrp.51")),
        "{names:?}"
    );
}

/// Issue 14: a peer with a VMAC sends from the same MAC as the router's
/// own VMAC, and the kernel hands such a multicast frame to the local
/// macvlan only. The router reads it there and gives way, as keepalived.
#[test]
fn root_netns_driver_vmac_hears_a_peer_with_a_vmac() {
    let lab = Pair::new();
    let b = Running::start(&lab.b, one(spec(100, true)));
    b.wait_state(State::Master);
    let a = Running::start(&lab.a, one(spec(150, true)));
    a.wait_state(State::Master);
    b.wait_state(State::Backup);
    wait_vip(&lab.b, "vrrp.51", false);
    let a_addr: std::net::IpAddr = netns_lab::A_ADDR.parse().unwrap();
    assert_eq!(b.snapshot().routers[0].last_master, Some(a_addr));
}

/// A peer without a VMAC reaches the base interface and the VMAC: each
/// of its adverts is received once (never more than it sent).
#[test]
fn root_netns_driver_vmac_hears_a_plain_peer_once() {
    let lab = Pair::new();
    let a = Running::start(&lab.a, one(spec(150, false)));
    a.wait_state(State::Master);
    let b = Running::start(&lab.b, one(spec(100, true)));
    b.wait_state(State::Backup);
    let received = netns_lab::wait_for("three adverts received", || {
        let n = b.snapshot().routers[0].counters.adverts_received;
        (n >= 3).then_some(n)
    });
    let sent = a.snapshot().routers[0].counters.adverts_sent;
    assert!(received <= sent, "received {received}, sent {sent}");
    assert_eq!(b.snapshot().routers[0].state, State::Backup);
}

/// Sends `kinds` round robin from a raw socket at `rate` datagrams per
/// second for `duration`; returns how many of each went out.
fn flood(sock: &RawSocket, kinds: &[Vec<u8>], rate: u32, duration: Duration) -> Vec<u64> {
    let mut sent = vec![0u64; kinds.len()];
    let start = Instant::now();
    let per_ms = u64::from(rate / 1000);
    let mut tick = 0u64;
    while start.elapsed() < duration {
        tick += 1;
        for i in 0..per_ms {
            let k = ((tick * per_ms + i) % kinds.len() as u64) as usize;
            if sock.send_to(&kinds[k], VRRP_MULTICAST).is_ok() {
                sent[k] += 1;
            }
        }
        // Pace to the rate: sleep until this millisecond's slot.
        let due = start + Duration::from_millis(tick);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
    sent
}

#[test]
fn root_netns_driver_flood_of_invalid_adverts_is_counted_and_harmless() {
    let lan = Lan::new(3);
    let pass = |p: &str| AuthConfig::from_keepalived("PASS", p).unwrap();
    let mut master = spec(150, false);
    master.config.authentication = pass("secret1");
    let mut backup = spec(100, false);
    backup.config.authentication = pass("secret1");
    let a = Running::start(&lan.nodes[0], one(master));
    let b = Running::start(&lan.nodes[1], one(backup));
    a.wait_state(State::Master);
    b.wait_state(State::Backup);

    // Adverts that would win (priority 200) if any got through, each with
    // exactly one fault.
    let vips = [VIP];
    let repr = AdvertRepr {
        src: Ipv4Addr::new(192, 0, 2, 3),
        dst: VRRP_MULTICAST,
        ttl: 255,
        vrid: 51,
        priority: 200,
        adver_int: 1,
        addresses: &vips,
    };
    let encode = |auth: &AuthConfig| {
        let mut buf = vec![0u8; wire::MAX_DATAGRAM_LEN];
        let n = wire::encode(&repr, auth, &mut TxCounters::new(), &mut buf).unwrap();
        buf.truncate(n);
        buf
    };
    let mut bad_checksum = encode(&pass("secret1"));
    bad_checksum[26] ^= 0xff; // VRRP checksum, after the 20-byte IP header
    let bad_auth = encode(&pass("wrong"));
    let mut bad_ttl = encode(&pass("secret1"));
    bad_ttl[8] = 64;
    let kinds = [bad_checksum, bad_auth, bad_ttl];
    let reasons = [
        WireDrop::BadChecksum,
        WireDrop::AuthFailure,
        WireDrop::BadTtl,
    ];

    let sock = lan.nodes[2]
        .enter(|| {
            let link = Netlink::open().unwrap().link("eth0").unwrap();
            RawSocket::open(RawSocketConfig {
                ifname: "eth0".into(),
                ifindex: link.index,
                proto: IpProto::Vrrp,
                multicast: false,
            })
            .unwrap()
        })
        .expect("thread inside the namespace");
    let sent = flood(&sock, &kinds, 50_000, Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(500));

    for (who, r, expected) in [("master", &a, State::Master), ("backup", &b, State::Backup)] {
        let snap = r.snapshot();
        let router = &snap.routers[0];
        assert_eq!(
            router.state, expected,
            "{who} changed state under the flood"
        );
        let by_reason: Vec<u64> = reasons
            .iter()
            .map(|&w| router.counters.dropped.get(DropReason::Invalid(w)))
            .collect();
        println!("{who}: sent {sent:?}, dropped by reason {by_reason:?}, {snap:?}");
        for (k, (&got, &out)) in by_reason.iter().zip(&sent).enumerate() {
            assert!(got > 0, "{who}: no drop counted for {:?}", reasons[k]);
            assert!(
                got <= out,
                "{who}: more drops than sent for {:?}",
                reasons[k]
            );
        }
        // Every datagram read was a flood datagram and is counted under
        // exactly one reason (the master hears no other adverts; the
        // backup's other datagrams are the master's valid adverts).
        let counted: u64 = by_reason.iter().sum();
        // Only about one drop a second reached the embedder.
        let reported =
            counted - snap.driver.drop_events_suppressed - router.counters.events_overflowed;
        assert!(reported <= 20, "{who}: {reported} drop events passed on");
        let valid = router.counters.adverts_received;
        assert_eq!(
            snap.driver.datagrams_received,
            counted + valid,
            "{who}: datagrams not accounted for"
        );
    }
    // No state change at all happened on either router during the flood.
    for r in [&a, &b] {
        while let Ok((_, e)) = r.events.try_recv() {
            assert!(
                !matches!(
                    e,
                    DriverEvent::Router {
                        event: Event::StateChanged { .. },
                        ..
                    }
                ),
                "spurious transition: {e:?}"
            );
        }
    }
}

/// A sync group of two instances on two interfaces: when one member's link
/// fails on the master, the whole group moves to the backup.
#[test]
fn root_netns_driver_sync_group_on_two_interfaces() {
    let lan = Lan::with_segments(2, 2);
    let group = |priority: u8| {
        let first = spec(priority, false);
        let mut second = spec(priority, false);
        second.config = Config::new("VI_2", 52, priority, Ipv4Addr::UNSPECIFIED);
        second.interface = "eth1".into();
        second.addresses = vec![VirtualAddress::host(VIP2)];
        Setup {
            routers: vec![first, second],
            sync_groups: vec![SyncGroupSpec {
                name: "G".into(),
                members: vec![0, 1],
            }],
            watch_interfaces: Vec::new(),
            firewall: None,
            ..Setup::default()
        }
    };
    let a = Running::start(&lan.nodes[0], group(150));
    let b = Running::start(&lan.nodes[1], group(100));
    a.wait(
        "group G master",
        |e| matches!(e, DriverEvent::Group(_, n) if n.state == State::Master),
    );
    wait_vip(&lan.nodes[0], "eth0", true);
    wait_vip2(&lan.nodes[0], true);

    netns_lab::ip(&lan.nodes[0], &["link", "set", "eth1", "down"]);
    b.wait(
        "group G master on b",
        |e| matches!(e, DriverEvent::Group(_, n) if n.state == State::Master),
    );
    wait_vip(&lan.nodes[1], "eth0", true);
    wait_vip2(&lan.nodes[1], true);
    // Both members left a: the one whose link is up too.
    wait_vip(&lan.nodes[0], "eth0", false);
    let states: Vec<State> = a.snapshot().routers.iter().map(|r| r.state).collect();
    assert_eq!(states, [State::Fault, State::Fault]);
}

const VIP2: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 100);

fn wait_vip2(ns: &Netns, present: bool) {
    netns_lab::wait_for(&format!("VIP2 present={present} in {}", ns.name()), || {
        let v = ns.ip_json(&["-4", "addr", "show", "dev", "eth1"]).unwrap();
        let has = v[0]["addr_info"]
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["local"] == VIP2.to_string()));
        (has == present).then_some(())
    });
}

/// A master on `interface` for `vip`, starting as keepalived's `state MASTER`.
fn master(name: &str, vrid: u8, interface: &str, vip: Ipv4Addr) -> RouterSpec {
    let mut config = Config::new(name, vrid, 100, Ipv4Addr::UNSPECIFIED);
    config.initial_master = true;
    RouterSpec {
        config,
        interface: interface.into(),
        addresses: vec![VirtualAddress::host(vip)],
        excluded: Vec::new(),
        routes: Vec::new(),
        rules: Vec::new(),
        use_vmac: false,
        vmac: Default::default(),
    }
}

/// The IPv4 addresses on `dev`, sorted.
fn addresses(ns: &Netns, dev: &str) -> Vec<Ipv4Addr> {
    let v = ns.ip_json(&["-4", "addr", "show", "dev", dev]).unwrap();
    let mut out: Vec<Ipv4Addr> = v[0]["addr_info"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["local"].as_str().unwrap().parse().unwrap())
        .collect();
    out.sort();
    out
}

fn wait_addresses(ns: &Netns, dev: &str, want: &[Ipv4Addr]) {
    netns_lab::wait_for(&format!("addresses {want:?} on {dev}"), || {
        (addresses(ns, dev) == want).then_some(())
    });
}

/// Sockets of the namespace as `ss -H -a FLAG` lists them (`-w` raw, `-0`
/// packet); only the driver opens any there.
fn sockets(ns: &Netns, flag: &str) -> usize {
    let out = ns.command("ss").args(["-H", "-a", flag]).output().unwrap();
    assert!(out.status.success(), "ss {flag}: {out:?}");
    String::from_utf8(out.stdout).unwrap().lines().count()
}

/// One driver, reconfigured at runtime: one router removed (its interface's
/// sockets closed, its VIP gone), one added on the other interface (no new
/// socket), one left untouched, then a route added to a master in place.
#[test]
fn root_netns_driver_reconfigure_adds_and_removes_routers() {
    let lan = Lan::with_segments(1, 2);
    let ns = &lan.nodes[0];
    let (own0, own1) = (Ipv4Addr::new(192, 0, 2, 1), Ipv4Addr::new(198, 51, 100, 1));
    let (vip_a, vip_b, vip_c) = (
        Ipv4Addr::new(192, 0, 2, 101),
        Ipv4Addr::new(198, 51, 100, 102),
        Ipv4Addr::new(192, 0, 2, 103),
    );
    let a = master("VI_A", 1, "eth0", vip_a);
    let b = master("VI_B", 2, "eth1", vip_b);
    let c = master("VI_C", 3, "eth0", vip_c);
    let setup = |routers: Vec<RouterSpec>| Setup {
        routers,
        ..Setup::default()
    };
    let run = Running::start(ns, setup(vec![a.clone(), b]));
    wait_addresses(ns, "eth0", &[own0, vip_a]);
    wait_addresses(ns, "eth1", &[own1, vip_b]);
    let before = run.snapshot();
    assert_eq!((before.raw_sockets, before.garp_sockets), (2, 2));
    assert_eq!((sockets(ns, "-w"), sockets(ns, "-0")), (2, 2));

    // A refused setup changes nothing: a VRID twice on eth0. (An unknown
    // interface is no refusal: root_netns_ifaces.)
    let twice = master("VI_Y", 1, "eth0", vip_c);
    let refused = run.try_reconfigure(setup(vec![a.clone(), twice]));
    assert!(matches!(
        refused,
        Err(DriverError::Mux(MuxError::Duplicate { vrid: 1, .. }))
    ));
    assert_eq!(run.snapshot().routers.len(), 2);
    assert_eq!((sockets(ns, "-w"), sockets(ns, "-0")), (2, 2));
    assert_eq!(addresses(ns, "eth0"), [own0, vip_a]);

    let summary = run.reconfigure(setup(vec![a.clone(), c.clone()]));
    assert_eq!(summary.ids[0], vrrp::mux::RouterId(0));
    assert_ne!(summary.ids[1], vrrp::mux::RouterId(1), "a new id for VI_C");
    let counts = (
        summary.unchanged,
        summary.updated,
        summary.added,
        summary.removed,
    );
    assert_eq!((counts, summary.restarted), ((1, 0, 1, 1), 0));
    wait_addresses(ns, "eth0", &[own0, vip_a, vip_c]);
    wait_addresses(ns, "eth1", &[own1]);
    let after = run.snapshot();
    assert_eq!((after.raw_sockets, after.garp_sockets), (1, 1));
    assert_eq!((sockets(ns, "-w"), sockets(ns, "-0")), (1, 1));
    let names: Vec<&str> = after.routers.iter().map(|r| &*r.name).collect();
    assert_eq!(names, ["VI_A", "VI_C"]);
    let vi_a = &after.routers[0];
    assert_eq!(
        (vi_a.state, vi_a.counters.became_master),
        (State::Master, 1)
    );
    assert_eq!(vi_a.counters.priority_zero_sent, 0);

    // A route only: the mux sees no change, the host gets the route.
    let mut a2 = a;
    let mut route = vrrp::linux::RouteSpec::to(Ipv4Addr::new(203, 0, 113, 0), 24);
    route.gateway = Some(Ipv4Addr::new(192, 0, 2, 254).into());
    a2.routes = vec![vrrp::linux::driver::VirtualRoute {
        route,
        dev: Some("eth0".into()),
        nexthop_devs: Vec::new(),
        no_track: false,
    }];
    let summary = run.reconfigure(setup(vec![a2.clone(), c.clone()]));
    let counts = (
        summary.unchanged,
        summary.updated,
        summary.added,
        summary.removed,
    );
    assert_eq!((counts, summary.restarted), ((1, 1, 0, 0), 0));
    let routes = ns
        .ip_json(&["-4", "route", "show", "203.0.113.0/24"])
        .unwrap();
    assert_eq!(routes[0]["gateway"], "192.0.2.254");
    assert_eq!(run.snapshot().routers[0].counters.became_master, 1);

    // Renamed on the same (interface, VRID): the same router, changed in
    // place (keepalived's rule), no priority-0 advert.
    let c_id = summary.ids[1];
    let mut c2 = c;
    c2.config.name = "VI_C2".into();
    let summary = run.reconfigure(setup(vec![a2.clone(), c2.clone()]));
    let counts = (
        summary.unchanged,
        summary.updated,
        summary.added,
        summary.removed,
    );
    assert_eq!((counts, summary.restarted), ((1, 1, 0, 0), 0));
    assert_eq!(summary.ids[1], c_id);
    let vi_c2 = &run.snapshot().routers[1];
    assert_eq!(&*vi_c2.name, "VI_C2");
    assert_eq!(
        (vi_c2.state, vi_c2.counters.priority_zero_sent),
        (State::Master, 0)
    );

    // Added on an interface that is down: FAULT from the start.
    netns_lab::ip(ns, &["link", "set", "eth1", "down"]);
    let b = master("VI_B", 2, "eth1", vip_b);
    let summary = run.reconfigure(setup(vec![a2, c2, b]));
    assert_eq!(summary.added, 1);
    let states: Vec<State> = run.snapshot().routers.iter().map(|r| r.state).collect();
    assert_eq!(states, [State::Master, State::Master, State::Fault]);
    run.stop();
    wait_addresses(ns, "eth0", &[own0]);
}
