//! The driver's VMAC options in network namespaces this test creates
//! (needs root, `ip` and `tcpdump`): a named VMAC, and `vmac_xmit_base`
//! (adverts from the base interface's MAC, gratuitous ARPs from the
//! VMAC's, as keepalived 2.2.7 sends them).
#![cfg(feature = "tokio")]
// Tests stop on the first unexpected value; `expect` names what was expected.
#![allow(clippy::unwrap_used)]

mod netns_lab;

use std::net::Ipv4Addr;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

use netns_lab::{ip, tcpdump, Netns, Pair};
use vrrp::event::{Event, State};
use vrrp::linux::driver::{Driver, DriverEvent, DriverHandle, RouterSpec, Setup, VirtualAddress};
use vrrp::linux::{Scope, VmacOptions};
use vrrp::Config;

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

/// A master with a VMAC made as `vmac` says.
fn setup(vmac: VmacOptions) -> Setup {
    let mut config = Config::new("VI_1", 51, 150, Ipv4Addr::UNSPECIFIED);
    config.initial_master = true;
    let spec = RouterSpec {
        config,
        interface: "eth0".into(),
        addresses: vec![VirtualAddress {
            addr: VIP.into(),
            prefix_len: 24,
            broadcast: None,
            label: None,
            scope: Scope::Global,
            dev: None,
            no_track: false,
            options: Default::default(),
        }],
        excluded: Vec::new(),
        routes: Vec::new(),
        rules: Vec::new(),
        use_vmac: true,
        vmac,
    };
    Setup {
        routers: vec![spec],
        ..Setup::default()
    }
}

/// A driver on its own thread inside a namespace, shut down on drop.
struct Running {
    handle: DriverHandle,
    events: mpsc::Receiver<DriverEvent>,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Running {
    fn start(ns: &Netns, setup: Setup) -> Running {
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = ns
            .spawn_thread(move || {
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
                    let _ = driver.run().await;
                })
            })
            .expect("open the namespace");
        let (handle, events) = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("driver started (see the panic above if not)");
        Running {
            handle,
            events,
            thread: Some(thread),
        }
    }

    /// Waits (at most 15 s, a safety limit) for MASTER.
    fn wait_master(&self) {
        let master = |e: &DriverEvent| {
            matches!(
                e,
                DriverEvent::Router {
                    event: Event::StateChanged {
                        to: State::Master,
                        ..
                    },
                    ..
                }
            )
        };
        loop {
            let e = self.events.recv_timeout(Duration::from_secs(15));
            if master(&e.expect("MASTER within 15 s")) {
                return;
            }
        }
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

/// The kind (`ip -d link`'s `linkinfo.info_kind`) of every link by name.
fn link_kinds(ns: &Netns) -> Vec<(String, String)> {
    let links = ns.ip_json(&["-d", "link", "show"]).unwrap();
    let kind = |l: &serde_json::Value| l["linkinfo"]["info_kind"].as_str().unwrap_or("").to_owned();
    let name = |l: &serde_json::Value| l["ifname"].as_str().unwrap_or("").to_owned();
    links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (name(l), kind(l)))
        .collect()
}

/// `use_vmac NAME` where NAME is an interface that is no VMAC of ours:
/// as keepalived ("already exists and is not a private macvlan; ignoring
/// vmac if_name"), the interface is left alone and the VMAC is `vrrp.51`.
#[test]
fn root_netns_vmac_name_of_a_foreign_interface_is_left_alone() {
    let lab = Pair::new();
    ip(
        &lab.a,
        &["link", "add", "vm1", "type", "veth", "peer", "name", "vm1p"],
    );
    let vmac = VmacOptions {
        name: Some("vm1".into()),
        ..VmacOptions::default()
    };
    let a = Running::start(&lab.a, setup(vmac));
    a.wait_master();
    let kinds = link_kinds(&lab.a);
    let has = |n: &str, k: &str| kinds.iter().any(|(name, kind)| name == n && kind == k);
    assert!(has("vm1", "veth") && has("vrrp.51", "macvlan"), "{kinds:?}");
    drop(a);
    let kinds = link_kinds(&lab.a);
    assert!(kinds.iter().any(|(n, _)| n == "vm1"), "{kinds:?}");
    assert!(!kinds.iter().any(|(n, _)| n == "vrrp.51"), "{kinds:?}");
}

/// `use_vmac NAME`: the VMAC has that name, and goes at stop.
#[test]
fn root_netns_vmac_named_is_made_and_deleted() {
    let lab = Pair::new();
    let vmac = VmacOptions {
        name: Some("vm1".into()),
        mac: Some([2, 0x78, 0, 0, 0, 51]),
        ..VmacOptions::default()
    };
    let a = Running::start(&lab.a, setup(vmac));
    a.wait_master();
    let link = lab.a.ip_json(&["-d", "link", "show", "vm1"]).unwrap();
    assert_eq!(link[0]["linkinfo"]["info_kind"], "macvlan");
    assert_eq!(link[0]["address"], "02:78:00:00:00:33");
    drop(a);
    assert!(!link_kinds(&lab.a).iter().any(|(n, _)| n == "vm1"));
}

/// `vmac_xmit_base`: the peer sees adverts from `eth0`'s MAC and
/// gratuitous ARPs from the VMAC's, as keepalived 2.2.7 sends them.
#[test]
fn root_netns_vmac_xmit_base_sends_adverts_from_the_base() {
    let lab = Pair::new();
    let base = lab.a.ip_json(&["link", "show", "eth0"]).unwrap()[0]["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_dump, lines) = tcpdump(&lab.b, "eth0", 20, "arp or ip proto 112");
    let vmac = VmacOptions {
        xmit_base: true,
        ..VmacOptions::default()
    };
    let a = Running::start(&lab.a, setup(vmac));
    a.wait_master();
    let (mut advert, mut garp) = (None, None);
    while advert.is_none() || garp.is_none() {
        let line = lines
            .recv_timeout(Duration::from_secs(15))
            .expect("a frame");
        if line.contains("VRRP") {
            advert = Some(line);
        } else if line.contains("ARP") {
            garp = Some(line);
        }
    }
    let (advert, garp) = (advert.unwrap(), garp.unwrap());
    assert!(
        advert.contains(&format!("{base} > 01:00:5e:00:00:12")),
        "{advert}"
    );
    assert!(
        garp.contains("00:00:5e:00:01:33 > ff:ff:ff:ff:ff:ff"),
        "{garp}"
    );
    assert!(garp.contains("who-has 192.0.2.100"), "{garp}");
}
