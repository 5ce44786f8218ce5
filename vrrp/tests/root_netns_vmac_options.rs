//! The driver's VMAC options in network namespaces this test creates
//! (needs root, `ip` and `tcpdump`): a named VMAC, and `vmac_xmit_base`
//! (adverts from the base interface's MAC, gratuitous ARPs from the
//! VMAC's, as keepalived 2.2.7 sends them).
#![cfg(feature = "tokio")]
// Tests stop on the first unexpected value; `expect` names what was expected.
#![allow(clippy::unwrap_used)]

mod netns_lab;

use std::net::Ipv4Addr;
use std::time::Duration;

use netns_lab::driver::{one, router, vip24, Running};
use netns_lab::{ip, tcpdump, Netns, Pair};
use vrrp::event::{Event, State};
use vrrp::linux::driver::{DriverEvent, RouterSpec, Setup};
use vrrp::linux::VmacOptions;
use vrrp::Config;

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

/// A master with a VMAC made as `vmac` says.
fn setup(vmac: VmacOptions) -> Setup {
    let mut config = Config::new("VI_1", 51, 150, Ipv4Addr::UNSPECIFIED);
    config.initial_master = true;
    let vip = vip24(VIP, None);
    one(RouterSpec {
        use_vmac: true,
        vmac,
        ..router(config, "eth0", vec![vip])
    })
}

impl Running {
    fn wait_master(&self) {
        self.wait("MASTER", |e| {
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
        });
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
