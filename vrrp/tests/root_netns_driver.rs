//! The tokio driver running real virtual routers in network namespaces this
//! test creates (needs root and `ip`; `tcpdump` for the VMAC test): election,
//! graceful stop, link down, a deleted VIP put back, VMAC.
#![cfg(feature = "tokio")]
// Tests stop on the first unexpected value; `expect` names what was expected.
#![allow(clippy::unwrap_used)]

mod netns_lab;

use std::net::Ipv4Addr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use netns_lab::{tcpdump, Lan, Netns, Pair};

/// Two nodes of a [`Lan`].
struct Pair2<'a> {
    a: &'a Netns,
    b: &'a Netns,
}
use vrrp::event::{Event, State};
use vrrp::linux::driver::{
    Driver, DriverCounters, DriverEvent, DriverHandle, RouterSpec, Setup, Snapshot, VirtualAddress,
};
use vrrp::linux::Scope;
use vrrp::Config;

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

fn spec(priority: u8, use_vmac: bool) -> RouterSpec {
    RouterSpec {
        config: Config::new("VI_1", 51, priority, Ipv4Addr::UNSPECIFIED),
        interface: "eth0".into(),
        addresses: vec![VirtualAddress {
            addr: VIP,
            prefix_len: 24,
            broadcast: None,
            label: (!use_vmac).then(|| "eth0:vip".to_owned()),
            scope: Scope::Global,
            dev: None,
        }],
        routes: Vec::new(),
        use_vmac,
    }
}

/// A driver running on its own thread inside a namespace.
struct Running {
    handle: DriverHandle,
    events: mpsc::Receiver<DriverEvent>,
    thread: Option<JoinHandle<DriverCounters>>,
}

impl Running {
    fn start(ns: &Netns, setup: Setup) -> Running {
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = ns.spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(async move {
                let (driver, handle, mut events) = Driver::new(setup).expect("driver starts");
                let (tx, rx) = mpsc::channel();
                ready_tx.send((handle, rx)).expect("test waits");
                tokio::spawn(async move {
                    while let Some(e) = events.recv().await {
                        if tx.send(e).is_err() {
                            break;
                        }
                    }
                });
                driver.run().await
            })
        });
        let (handle, events) = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("driver started (see the panic above if not)");
        Running {
            handle,
            events,
            thread: Some(thread),
        }
    }

    /// Waits (at most 15 s, a safety limit) for a matching event.
    fn wait(&self, what: &str, want: impl Fn(&DriverEvent) -> bool) -> DriverEvent {
        let deadline = Instant::now() + Duration::from_secs(15);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(e) if want(&e) => return e,
                Ok(e) => seen.push(e),
                Err(_) => panic!("no event: {what}; saw {seen:#?}"),
            }
        }
    }

    fn wait_state(&self, to: State) {
        self.wait(&format!("state {to}"), |e| {
            matches!(e, DriverEvent::Router { event: Event::StateChanged { to: t, .. }, .. } if *t == to)
        });
    }

    fn snapshot(&self) -> Snapshot {
        let h = self.handle.clone();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime")
                .block_on(h.snapshot())
        })
        .join()
        .expect("snapshot thread")
        .expect("driver running")
    }

    fn stop(mut self) -> DriverCounters {
        self.handle.blocking_shutdown();
        self.thread.take().unwrap().join().expect("driver thread")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.handle.blocking_shutdown();
            let _ = t.join();
        }
    }
}

fn has_vip(ns: &Netns, dev: &str) -> bool {
    let v = ns.ip_json(&["-4", "addr", "show", "dev", dev]);
    v[0]["addr_info"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["local"] == VIP.to_string()))
}

fn wait_vip(ns: &Netns, dev: &str, present: bool) {
    netns_lab::wait_for(&format!("VIP present={present} in {}", ns.name), || {
        (has_vip(ns, dev) == present).then_some(())
    });
}

fn one(spec: RouterSpec) -> Setup {
    Setup {
        routers: vec![spec],
        sync_groups: Vec::new(),
        watch_interfaces: Vec::new(),
    }
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
    let shown = lab.a.ip_json(&["-4", "addr", "show", "dev", "eth0"]);
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

    lab.a.ip(&["link", "set", "eth0", "down"]);
    a.wait_state(State::Fault);
    b.wait_state(State::Master);
    wait_vip(lab.b, "eth0", true);
    assert!(!has_vip(lab.a, "eth0"));

    lab.a.ip(&["link", "set", "eth0", "up"]);
    a.wait_state(State::Backup);
    a.wait_state(State::Master);
    b.wait_state(State::Backup);
    wait_vip(lab.b, "eth0", false);
}

#[test]
fn root_netns_driver_puts_back_a_deleted_vip() {
    let lab = Pair::new();
    let a = Running::start(&lab.a, one(spec(150, false)));
    a.wait_state(State::Master);
    wait_vip(&lab.a, "eth0", true);
    lab.a.ip(&["addr", "del", "192.0.2.100/24", "dev", "eth0"]);
    let e = a.wait("address restored", |e| {
        matches!(e, DriverEvent::AddressRestored { .. })
    });
    assert!(matches!(e, DriverEvent::AddressRestored { addr, .. } if addr == VIP));
    assert!(has_vip(&lab.a, "eth0"));
    assert_eq!(a.snapshot().driver.addresses_restored, 1);
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
    let links = lab.a.ip_json(&["link", "show"]);
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
