//! Interfaces that are missing at start, or deleted and created again
//! (issue 15): the driver runs a router whose interface does not exist in
//! FAULT and binds it when the interface appears; a router whose interface
//! is deleted waits in FAULT and comes back on the new interface of the
//! same name (new ifindex), with new sockets. An interface without an
//! address to advertise from holds its routers in FAULT until one is
//! added; a deleted VMAC is made again (issue 15 follow-ups). Needs root,
//! `ip` and `tcpdump`.
#![cfg(feature = "tokio")]
// Tests stop on the first unexpected value; `expect` names what was expected.
#![allow(clippy::unwrap_used)]

mod netns_lab;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use netns_lab::driver::{Running, WAIT};
use netns_lab::{bare_veth, ip, require_root, tcpdump, veth, Netns};
use vrrp::config::Version;
use vrrp::event::{Event, State};
use vrrp::linux::driver::{
    DriverEvent, RouterSpec, Setup, Snapshot, SyncGroupSpec, VirtualAddress,
};
use vrrp::mux::RouterId;
use vrrp::Config;

fn router(name: &str, vrid: u8, interface: &str, vip: Ipv4Addr) -> RouterSpec {
    let config = Config::new(name, vrid, 150, Ipv4Addr::UNSPECIFIED);
    netns_lab::driver::router(config, interface, vec![VirtualAddress::host(vip)])
}

fn ifindex(ns: &Netns, dev: &str) -> u64 {
    let v = ns.ip_json(&["link", "show", "dev", dev]).unwrap();
    v[0]["ifindex"].as_u64().expect("an ifindex")
}

fn has_address(ns: &Netns, dev: &str, addr: Ipv4Addr) -> bool {
    let v = ns.ip_json(&["-4", "addr", "show", "dev", dev]).unwrap();
    v[0]["addr_info"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["local"] == addr.to_string()))
}

impl Running {
    /// Waits for an event `want` accepts; returns when it was read.
    fn wait_read(&self, what: &str, want: impl Fn(&DriverEvent) -> bool) -> Instant {
        self.wait_at(what, want).0
    }

    fn wait_state(&self, id: RouterId, state: State) -> Instant {
        self.wait_read(&format!("{id:?} entering {state:?}"), |e| {
            matches!(e, DriverEvent::Router { id: i, event: Event::StateChanged { to, .. }, .. }
                if *i == id && *to == state)
        })
    }

    fn wait_no_address(&self, name: &str) {
        self.wait_read(
            &format!("{name} waiting for an address"),
            |e| matches!(e, DriverEvent::NoAddress { name: n, ipv6: false, .. } if &**n == name),
        );
    }
}

fn state_of(s: &Snapshot, id: RouterId) -> Option<State> {
    s.routers.iter().find(|r| r.id == id).map(|r| r.state)
}

#[test]
fn root_netns_interface_deleted_and_created_again_brings_the_master_back() {
    require_root();
    let ns = Netns::new("ifre").unwrap();
    veth(&ns, "vx0", "192.0.2.1");
    let vip = Ipv4Addr::new(192, 0, 2, 100);
    let setup = Setup {
        routers: vec![router("VI_1", 51, "vx0", vip)],
        ..Setup::default()
    };
    let id = RouterId(0);
    let d = Running::start(&ns, setup);
    d.wait_state(id, State::Master);
    assert!(has_address(&ns, "vx0", vip));
    let old_index = ns.ip_json(&["link", "show", "dev", "vx0"]).unwrap()[0]["ifindex"].clone();

    ip(&ns, &["link", "del", "vx0"]);
    d.wait_state(id, State::Fault);
    // Its socket on the deleted interface is closed.
    assert_eq!(d.snapshot().raw_sockets, 0);

    veth(&ns, "vx0", "192.0.2.1");
    let up = Instant::now();
    let new_index = ns.ip_json(&["link", "show", "dev", "vx0"]).unwrap()[0]["ifindex"].clone();
    assert_ne!(
        old_index, new_index,
        "the kernel gave the new link a new index"
    );
    let (_dump, adverts) = tcpdump(&ns, "vx0p", 2, "ip proto 112 and src host 192.0.2.1");
    d.wait_state(id, State::Backup);
    let master = d.wait_state(id, State::Master);
    // The acceptance bar is Master_Down_Interval from the moment the new
    // link is up: with advert_int 1 and priority 150 that is
    // 3 * 1 s + Skew_Time (106/256 s) = 3.41 s; one advert interval (1 s)
    // of slack covers the time the link's notification and the binding
    // take on a loaded machine, and is still well under the 2 * 3.41 s a
    // second election round would need.
    let bar = Duration::from_secs(3) + Duration::from_secs(106) / 256 + Duration::from_secs(1);
    let took = master.saturating_duration_since(up);
    eprintln!("MASTER {took:?} after the new link came up (bar {bar:?})");
    assert!(
        took < bar,
        "MASTER {took:?} after the link came up, bar {bar:?}"
    );
    netns_lab::wait_for("the VIP back on vx0", || {
        has_address(&ns, "vx0", vip).then_some(())
    });
    // Adverts leave from the new interface, through one new socket.
    for _ in 0..2 {
        let line = adverts
            .recv_timeout(WAIT)
            .expect("an advert on the new link");
        assert!(line.contains("vrid 51"), "{line}");
    }
    let s = d.snapshot();
    assert_eq!((s.raw_sockets, s.garp_sockets), (1, 1));
    assert_eq!(state_of(&s, id), Some(State::Master));
    assert_eq!(s.driver.send_errors, 0);
}

#[test]
fn root_netns_interface_missing_at_start_is_fault_until_it_appears() {
    require_root();
    let ns = Netns::new("ifmiss").unwrap();
    veth(&ns, "vx0", "192.0.2.1");
    let (vip1, vip2) = (
        Ipv4Addr::new(192, 0, 2, 100),
        Ipv4Addr::new(198, 51, 100, 100),
    );
    let setup = Setup {
        routers: vec![
            router("VI_1", 51, "vx0", vip1),
            router("VI_2", 52, "vy0", vip2),
        ],
        ..Setup::default()
    };
    let (one, two) = (RouterId(0), RouterId(1));
    let d = Running::start(&ns, setup);
    // The missing interface is reported down, with index 0.
    d.wait_read(
        "vy0 reported missing",
        |e| matches!(e, DriverEvent::Interface { link } if link.name == "vy0" && link.index == 0 && !link.up),
    );
    d.wait_state(two, State::Fault);
    d.wait_state(one, State::Master);
    assert!(has_address(&ns, "vx0", vip1));
    assert_eq!(state_of(&d.snapshot(), two), Some(State::Fault));

    veth(&ns, "vy0", "198.51.100.1");
    d.wait_state(two, State::Backup);
    d.wait_state(two, State::Master);
    netns_lab::wait_for("VI_2's VIP on vy0", || {
        has_address(&ns, "vy0", vip2).then_some(())
    });
    let s = d.snapshot();
    assert_eq!(state_of(&s, one), Some(State::Master));
    assert_eq!(state_of(&s, two), Some(State::Master));
    assert_eq!((s.raw_sockets, s.garp_sockets), (2, 2));
}

/// `dev`'s link-local address once duplicate address detection is over.
fn link_local(ns: &Netns, dev: &str) -> Ipv6Addr {
    netns_lab::wait_for(&format!("a link-local address on {dev}"), || {
        let v = ns.ip_json(&["-6", "addr", "show", "dev", dev]).ok()?;
        v[0]["addr_info"]
            .as_array()?
            .iter()
            .find(|a| a["scope"] == "link" && a["tentative"].is_null())
            .and_then(|a| a["local"].as_str()?.parse().ok())
    })
}

#[test]
fn root_netns_ipv6_router_comes_back_with_the_new_link_local_source() {
    require_root();
    let ns = Netns::new("ifv6").unwrap();
    veth(&ns, "vx0", "192.0.2.1");
    let vip = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
    let mut config = Config::new("VI_6", 61, 150, Ipv4Addr::UNSPECIFIED);
    config.version = Version::V3;
    config.advert_interval_centis = 20;
    let mut addr = VirtualAddress::host(vip);
    addr.prefix_len = 64;
    let spec = RouterSpec {
        config,
        interface: "vx0".into(),
        addresses: vec![addr],
        excluded: Vec::new(),
        routes: Vec::new(),
        rules: Vec::new(),
        use_vmac: false,
        vmac: Default::default(),
    };
    let id = RouterId(0);
    // Started once the first link-local address is usable.
    let old_ll = link_local(&ns, "vx0");
    let d = Running::start(
        &ns,
        Setup {
            routers: vec![spec],
            ..Setup::default()
        },
    );
    d.wait_state(id, State::Master);

    ip(&ns, &["link", "del", "vx0"]);
    d.wait_state(id, State::Fault);
    veth(&ns, "vx0", "192.0.2.1");
    let new_ll = link_local(&ns, "vx0");
    assert_ne!(old_ll, new_ll, "a new veth has a new MAC");
    let filter = format!("ip6 proto 112 and src host {new_ll}");
    let (_dump, adverts) = tcpdump(&ns, "vx0p", 2, &filter);
    d.wait_state(id, State::Master);
    for _ in 0..2 {
        adverts
            .recv_timeout(WAIT)
            .expect("an advert from the new link-local address");
    }
    netns_lab::wait_for("the VIP back on vx0", || {
        let v = ns.ip_json(&["-6", "addr", "show", "dev", "vx0"]).ok()?;
        let list = v[0]["addr_info"].as_array()?.clone();
        list.iter()
            .any(|a| a["local"] == vip.to_string())
            .then_some(())
    });
    assert_eq!(d.snapshot().raw_sockets, 1);
}

#[test]
fn root_netns_vmac_and_sync_group_come_back_after_the_interface_is_recreated() {
    require_root();
    let ns = Netns::new("ifvm").unwrap();
    veth(&ns, "vx0", "192.0.2.1");
    veth(&ns, "vx1", "198.51.100.1");
    let (vip1, vip2) = (
        Ipv4Addr::new(192, 0, 2, 100),
        Ipv4Addr::new(198, 51, 100, 100),
    );
    let mut vmac = router("VI_1", 51, "vx0", vip1);
    vmac.use_vmac = true;
    let setup = Setup {
        routers: vec![vmac, router("VI_2", 52, "vx1", vip2)],
        sync_groups: vec![SyncGroupSpec {
            name: "G".into(),
            members: vec![0, 1],
        }],
        ..Setup::default()
    };
    let (one, two) = (RouterId(0), RouterId(1));
    let d = Running::start(&ns, setup);
    d.wait_state(one, State::Master);
    d.wait_state(two, State::Master);
    netns_lab::wait_for("VI_1's VIP on its VMAC", || {
        has_address(&ns, "vrrp.51", vip1).then_some(())
    });

    // vx0 goes, and its VMAC with it: the whole group is in FAULT.
    ip(&ns, &["link", "del", "vx0"]);
    d.wait_state(one, State::Fault);
    d.wait_state(two, State::Fault);
    assert!(!has_address(&ns, "vx1", vip2));

    veth(&ns, "vx0", "192.0.2.1");
    d.wait_state(one, State::Master);
    d.wait_state(two, State::Master);
    netns_lab::wait_for("VI_1's VIP on a new VMAC", || {
        has_address(&ns, "vrrp.51", vip1).then_some(())
    });
    let vmac = ns.ip_json(&["link", "show", "dev", "vrrp.51"]).unwrap();
    assert_eq!(vmac[0]["address"], "00:00:5e:00:01:33");
    assert_eq!(vmac[0]["link"], "vx0");
    assert!(has_address(&ns, "vx1", vip2));
    let s = d.snapshot();
    // vx0 (receive), vrrp.51 (send), vx1; GARP on vrrp.51 and vx1.
    assert_eq!((s.raw_sockets, s.garp_sockets), (3, 2));
}

#[test]
fn root_netns_interface_without_address_is_fault_until_one_is_added() {
    require_root();
    let ns = Netns::new("ifnoad").unwrap();
    bare_veth(&ns, "vx0");
    let vip = Ipv4Addr::new(192, 0, 2, 100);
    let setup = || Setup {
        routers: vec![router("VI_1", 51, "vx0", vip)],
        ..Setup::default()
    };
    let id = RouterId(0);
    let d = Running::start(&ns, setup());
    // Told before the interface is reported and the router starts.
    d.wait_no_address("VI_1");
    d.wait_read("vx0 reported", |e| {
        matches!(e, DriverEvent::Interface { .. })
    });
    let reported = d.seen().last().cloned();
    let index = ifindex(&ns, "vx0");
    assert!(
        matches!(&reported, Some(DriverEvent::Interface { link })
            if link.name == "vx0" && u64::from(link.index) == index && link.up),
        "vx0 itself is reported, up, not as missing: {reported:?}"
    );
    d.wait_state(id, State::Fault);
    assert_eq!(state_of(&d.snapshot(), id), Some(State::Fault));

    // A reload while it waits keeps it, waiting, with its new settings.
    let mut next = setup();
    next.routers[0].config.priority = 160;
    let summary = d.reconfigure(next);
    assert_eq!(summary.ids, [id]);
    assert_eq!((summary.updated, summary.added, summary.removed), (1, 0, 0));
    d.wait_no_address("VI_1");
    let s = d.snapshot();
    assert_eq!(state_of(&s, id), Some(State::Fault));
    assert_eq!(s.routers[0].priority, 160);
    assert_eq!(s.raw_sockets, 0);

    ip(&ns, &["addr", "add", "192.0.2.1/24", "dev", "vx0"]);
    let (_dump, adverts) = tcpdump(&ns, "vx0p", 1, "ip proto 112 and src host 192.0.2.1");
    d.wait_state(id, State::Backup);
    d.wait_state(id, State::Master);
    netns_lab::wait_for("the VIP on vx0", || {
        has_address(&ns, "vx0", vip).then_some(())
    });
    let line = adverts
        .recv_timeout(WAIT)
        .expect("an advert from 192.0.2.1");
    assert!(
        line.contains("vrid 51") && line.contains("prio 160"),
        "{line}"
    );
    let s = d.snapshot();
    assert_eq!((s.raw_sockets, s.garp_sockets), (1, 1));
    assert_eq!(s.driver.host_errors, 0);
}

#[test]
fn root_netns_reload_while_a_new_interface_has_no_address_yet() {
    require_root();
    let ns = Netns::new("ifnewna").unwrap();
    let vip = Ipv4Addr::new(192, 0, 2, 100);
    let setup = || Setup {
        routers: vec![router("VI_1", 51, "vx0", vip)],
        ..Setup::default()
    };
    let id = RouterId(0);
    let d = Running::start(&ns, setup());
    d.wait_state(id, State::Fault);
    // The interface appears without an address: the router still waits.
    bare_veth(&ns, "vx0");
    let index = ifindex(&ns, "vx0");
    d.wait_read(
        "vx0 reported",
        |e| matches!(e, DriverEvent::Interface { link } if u64::from(link.index) == index),
    );
    let summary = d.reconfigure(setup());
    assert_eq!(summary.ids, [id]);
    assert_eq!(
        (summary.unchanged, summary.added, summary.removed),
        (1, 0, 0)
    );
    d.wait_no_address("VI_1");
    assert_eq!(state_of(&d.snapshot(), id), Some(State::Fault));

    ip(&ns, &["addr", "add", "192.0.2.1/24", "dev", "vx0"]);
    d.wait_state(id, State::Master);
    netns_lab::wait_for("the VIP on vx0", || {
        has_address(&ns, "vx0", vip).then_some(())
    });
}

#[test]
fn root_netns_deleted_vmac_is_made_again() {
    require_root();
    let ns = Netns::new("ifvmdel").unwrap();
    veth(&ns, "vx0", "192.0.2.1");
    let vip = Ipv4Addr::new(192, 0, 2, 100);
    let mut spec = router("VI_1", 51, "vx0", vip);
    spec.use_vmac = true;
    let id = RouterId(0);
    let d = Running::start(
        &ns,
        Setup {
            routers: vec![spec],
            ..Setup::default()
        },
    );
    d.wait_state(id, State::Master);
    netns_lab::wait_for("the VIP on the VMAC", || {
        has_address(&ns, "vrrp.51", vip).then_some(())
    });
    let old = ifindex(&ns, "vrrp.51");

    // As keepalived: FAULT, a new VMAC at once, BACKUP, MASTER again.
    ip(&ns, &["link", "del", "vrrp.51"]);
    d.wait_state(id, State::Fault);
    d.wait_state(id, State::Backup);
    d.wait_state(id, State::Master);
    netns_lab::wait_for("the VIP on a new VMAC", || {
        has_address(&ns, "vrrp.51", vip).then_some(())
    });
    let vmac = ns.ip_json(&["link", "show", "dev", "vrrp.51"]).unwrap();
    assert_ne!(vmac[0]["ifindex"].as_u64(), Some(old));
    assert_eq!(vmac[0]["address"], "00:00:5e:00:01:33");
    assert_eq!(vmac[0]["link"], "vx0");
    let (_dump, adverts) = tcpdump(&ns, "vx0p", 1, "ip proto 112 and src host 192.0.2.1");
    adverts
        .recv_timeout(WAIT)
        .expect("an advert through the new VMAC");
    let s = d.snapshot();
    // vx0 (receive), vrrp.51 (send); GARP on vrrp.51.
    assert_eq!((s.raw_sockets, s.garp_sockets), (2, 1));
    assert_eq!(state_of(&s, id), Some(State::Master));
    assert_eq!(s.driver.host_errors, 0, "events: {:#?}", d.seen());
}

#[test]
fn root_netns_ipv6_router_waits_for_a_link_local_address() {
    require_root();
    let ns = Netns::new("ifnoll").unwrap();
    ip(
        &ns,
        &["link", "add", "vx0", "type", "veth", "peer", "name", "vx0p"],
    );
    // No link-local address of the kernel's making.
    ip(&ns, &["link", "set", "vx0", "addrgenmode", "none"]);
    ip(&ns, &["link", "set", "vx0p", "up"]);
    ip(&ns, &["link", "set", "vx0", "up"]);
    let vip = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
    let mut config = Config::new("VI_6", 61, 150, Ipv4Addr::UNSPECIFIED);
    config.version = Version::V3;
    config.advert_interval_centis = 20;
    let spec = RouterSpec {
        config,
        interface: "vx0".into(),
        addresses: vec![VirtualAddress::host(vip)],
        excluded: Vec::new(),
        routes: Vec::new(),
        rules: Vec::new(),
        use_vmac: false,
        vmac: Default::default(),
    };
    let id = RouterId(0);
    let d = Running::start(
        &ns,
        Setup {
            routers: vec![spec],
            ..Setup::default()
        },
    );
    d.wait_read("VI_6 waiting for a link-local address", |e| {
        matches!(e, DriverEvent::NoAddress { name, interface, ipv6: true, .. }
            if &**name == "VI_6" && interface == "vx0")
    });
    d.wait_state(id, State::Fault);

    ip(
        &ns,
        &["-6", "addr", "add", "fe80::1/64", "dev", "vx0", "nodad"],
    );
    let (_dump, adverts) = tcpdump(&ns, "vx0p", 1, "ip6 proto 112 and src host fe80::1");
    d.wait_state(id, State::Master);
    adverts
        .recv_timeout(WAIT)
        .expect("an advert from the new link-local address");
    let s = d.snapshot();
    assert_eq!((s.raw_sockets, s.garp_sockets), (1, 1));
    assert_eq!(s.driver.host_errors, 0, "events: {:#?}", d.seen());
}
