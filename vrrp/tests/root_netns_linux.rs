//! The Linux adapters against a real kernel, in network namespaces this test
//! creates (needs root, `ip`, `tcpdump`). Each test checks one adapter end to
//! end: what it sends is seen by the peer, what it configures is what `ip -j`
//! reports, what the kernel changes is reported back.
#![cfg(feature = "linux")]
// Tests stop on the first unexpected value; `expect` names what was expected.
#![allow(clippy::unwrap_used)]

mod netns_lab;

use std::io::ErrorKind;
use std::net::Ipv4Addr;

use netns_lab::{tcpdump, wait_for, Pair, A_ADDR, B_ADDR};
use serde_json::Value;
use vrrp::linux::{
    vmac_address, AddressSpec, GarpSocket, IpProto, NetEvent, NetWatcher, Netlink, RawSocket,
    RawSocketConfig, RouteKind, RouteSpec, Scope, VRRP_MULTICAST,
};

/// A 20-byte IPv4 header (checksum and id left to the kernel) plus payload.
fn datagram(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, payload: &[u8]) -> Vec<u8> {
    let len = u16::try_from(20 + payload.len()).unwrap();
    let mut d = vec![0x45, 0];
    d.extend(len.to_be_bytes());
    d.extend([0, 0, 0, 0, 255, proto, 0, 0]);
    d.extend(src.octets());
    d.extend(dst.octets());
    d.extend(payload);
    d
}

fn open_raw(ns: &netns_lab::Netns, proto: IpProto, multicast: bool) -> RawSocket {
    ns.enter(|| {
        let link = Netlink::open().unwrap().link("eth0").unwrap();
        RawSocket::open(RawSocketConfig {
            ifname: "eth0".into(),
            ifindex: link.index,
            proto,
            multicast,
        })
        .unwrap()
    })
    .expect("thread inside the namespace")
}

fn recv_one(sock: &RawSocket) -> Vec<u8> {
    let mut buf = [0u8; 2048];
    let n = wait_for("a datagram on the raw socket", || {
        match sock.recv(&mut buf) {
            Ok(n) => Some(n),
            Err(e) if e.kind() == ErrorKind::WouldBlock => None,
            Err(e) => panic!("recv: {e}"),
        }
    });
    buf[..n].to_vec()
}

fn assert_empty(sock: &RawSocket, why: &str) {
    let mut buf = [0u8; 2048];
    match sock.recv(&mut buf) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("{why}: expected nothing queued, got {other:?}"),
    }
}

#[test]
fn root_netns_raw_socket_multicast_vrrp_and_ah() {
    let lab = Pair::new();
    let a_vrrp = open_raw(&lab.a, IpProto::Vrrp, true);
    let b_vrrp = open_raw(&lab.b, IpProto::Vrrp, true);
    let b_ah = open_raw(&lab.b, IpProto::Ah, true);
    let src: Ipv4Addr = A_ADDR.parse().unwrap();

    let payload = [
        0x21, 51, 100, 1, 0, 1, 0, 0, 192, 0, 2, 100, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    let sent = datagram(src, VRRP_MULTICAST, 112, &payload);
    assert_eq!(a_vrrp.send_to(&sent, VRRP_MULTICAST).unwrap(), sent.len());

    let got = recv_one(&b_vrrp);
    assert_eq!(got.len(), 40);
    assert_eq!(got[8], 255, "TTL");
    assert_eq!(got[9], 112, "protocol");
    assert_eq!(&got[12..16], &src.octets(), "source");
    assert_eq!(&got[16..20], &VRRP_MULTICAST.octets(), "destination");
    assert_eq!(&got[20..], &payload[..]);
    assert_empty(&b_ah, "the AH socket must not see protocol 112");
    assert_empty(&a_vrrp, "multicast loopback is off");

    // The same through the AH socket (protocol 51).
    let a_ah = open_raw(&lab.a, IpProto::Ah, true);
    let sent = datagram(src, VRRP_MULTICAST, 51, &[4, 4, 0, 0, 0, 0, 0, 1]);
    a_ah.send_to(&sent, VRRP_MULTICAST).unwrap();
    let got = recv_one(&b_ah);
    assert_eq!(got[9], 51);
    assert_eq!(&got[20..], &[4, 4, 0, 0, 0, 0, 0, 1]);
    assert_empty(&b_vrrp, "the VRRP socket must not see protocol 51");
}

#[test]
fn root_netns_raw_socket_unicast_peer() {
    let lab = Pair::new();
    let a = open_raw(&lab.a, IpProto::Vrrp, false);
    let b = open_raw(&lab.b, IpProto::Vrrp, false);
    let src: Ipv4Addr = A_ADDR.parse().unwrap();
    let dst: Ipv4Addr = B_ADDR.parse().unwrap();
    a.send_to(&datagram(src, dst, 112, &[0x21, 7]), dst)
        .unwrap();
    let got = recv_one(&b);
    assert_eq!(&got[12..20], &[192, 0, 2, 1, 192, 0, 2, 2]);
    assert_eq!(&got[20..], &[0x21, 7]);
}

fn addresses_of(v: &Value) -> Vec<&Value> {
    v[0]["addr_info"].as_array().unwrap().iter().collect()
}

#[test]
fn root_netns_vip_with_label_scope_brd() {
    let lab = Pair::new();
    let mut nl = lab.a.enter(|| Netlink::open().unwrap()).unwrap();
    let eth0 = nl.link("eth0").unwrap();
    let vip = AddressSpec {
        ifindex: eth0.index,
        addr: Ipv4Addr::new(203, 0, 113, 5),
        prefix_len: 24,
        broadcast: Some(Ipv4Addr::new(203, 0, 113, 255)),
        label: Some("eth0:vip".into()),
        scope: Scope::Site,
    };
    nl.add_address(&vip).unwrap();
    let host_vip = AddressSpec::host(eth0.index, Ipv4Addr::new(198, 51, 100, 10));
    nl.add_address(&host_vip).unwrap();

    let shown = lab
        .a
        .ip_json(&["-4", "addr", "show", "dev", "eth0"])
        .unwrap();
    let addrs = addresses_of(&shown);
    let v = addrs
        .iter()
        .find(|a| a["local"] == "203.0.113.5")
        .expect("VIP listed");
    assert_eq!(v["prefixlen"], 24);
    assert_eq!(v["broadcast"], "203.0.113.255");
    assert_eq!(v["label"], "eth0:vip");
    assert_eq!(v["scope"], "site");
    let h = addrs
        .iter()
        .find(|a| a["local"] == "198.51.100.10")
        .expect("/32 VIP listed");
    assert_eq!(h["prefixlen"], 32);
    assert_eq!(h["scope"], "global");

    // Netlink's own view agrees, and a second add is EEXIST.
    let mine = nl.addresses(Some(eth0.index)).unwrap();
    assert!(mine.contains(&vip), "{mine:?}");
    assert_eq!(
        nl.add_address(&vip).unwrap_err().errno(),
        Some(17),
        "EEXIST"
    );

    nl.del_address(&vip).unwrap();
    nl.del_address(&host_vip).unwrap();
    let shown = lab
        .a
        .ip_json(&["-4", "addr", "show", "dev", "eth0"])
        .unwrap();
    let locals: Vec<_> = addresses_of(&shown)
        .iter()
        .map(|a| a["local"].clone())
        .collect();
    assert_eq!(locals, vec![Value::from(A_ADDR)]);
    assert_eq!(
        nl.del_address(&vip).unwrap_err().errno(),
        Some(99),
        "EADDRNOTAVAIL"
    );
}

#[test]
fn root_netns_garp_seen_by_peer_tcpdump() {
    let lab = Pair::new();
    let (mac, garp) = lab
        .a
        .enter(|| {
            let link = Netlink::open().unwrap().link("eth0").unwrap();
            (link.mac.unwrap(), GarpSocket::open(link.index).unwrap())
        })
        .expect("thread inside the namespace");
    let (_dump, lines) = tcpdump(&lab.b, "eth0", 1, "arp");
    garp.send(mac, Ipv4Addr::new(192, 0, 2, 100)).unwrap();
    let line = lines
        .recv_timeout(std::time::Duration::from_secs(5))
        .expect("tcpdump in the peer saw the gratuitous ARP");
    let mac_text = mac.map(|b| format!("{b:02x}")).join(":");
    assert!(
        line.contains(&format!(
            "{mac_text} > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42"
        )),
        "{line}"
    );
    assert!(
        line.contains(
            "Request who-has 192.0.2.100 (ff:ff:ff:ff:ff:ff) tell 192.0.2.100, length 28"
        ),
        "{line}"
    );
}

fn next_event(w: &mut NetWatcher, want: impl Fn(&NetEvent) -> bool) -> NetEvent {
    let mut seen = Vec::new();
    wait_for("the expected netlink event", || {
        let mut out = Vec::new();
        loop {
            match w.recv(&mut out) {
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("watcher: {e}"),
            }
        }
        let found = out.iter().find(|e| want(e)).cloned();
        seen.extend(out);
        found
    })
}

#[test]
fn root_netns_watcher_reports_link_down_and_vip_deletion() {
    let lab = Pair::new();
    let (mut w, mut nl) = lab
        .a
        .enter(|| (NetWatcher::open().unwrap(), Netlink::open().unwrap()))
        .expect("thread inside the namespace");
    let eth0 = nl.link("eth0").unwrap();
    assert!(eth0.is_operational());

    netns_lab::ip(&lab.a, &["link", "set", "eth0", "down"]);
    let e = next_event(&mut w, |e| matches!(e, NetEvent::Link(l) if !l.up));
    let NetEvent::Link(l) = e else { unreachable!() };
    assert_eq!(
        (l.index, l.name.as_str(), l.up, l.running),
        (eth0.index, "eth0", false, false)
    );

    netns_lab::ip(&lab.a, &["link", "set", "eth0", "up"]);
    next_event(
        &mut w,
        |e| matches!(e, NetEvent::Link(l) if l.is_operational()),
    );

    // Carrier loss: the peer's end goes down, ours stays up but not running.
    netns_lab::ip(&lab.b, &["link", "set", "eth0", "down"]);
    let e = next_event(
        &mut w,
        |e| matches!(e, NetEvent::Link(l) if l.up && !l.running),
    );
    assert!(matches!(e, NetEvent::Link(l) if l.name == "eth0"));
    netns_lab::ip(&lab.b, &["link", "set", "eth0", "up"]);

    // Someone else deletes our VIP.
    let vip = AddressSpec::host(eth0.index, Ipv4Addr::new(192, 0, 2, 100));
    nl.add_address(&vip).unwrap();
    // The kernel reports the interface name as label when none was given.
    let reported = AddressSpec {
        label: Some("eth0".into()),
        ..vip.clone()
    };
    next_event(&mut w, |e| *e == NetEvent::AddressAdded(reported.clone()));
    netns_lab::ip(&lab.a, &["addr", "del", "192.0.2.100/32", "dev", "eth0"]);
    next_event(&mut w, |e| *e == NetEvent::AddressRemoved(reported.clone()));
}

#[test]
fn root_netns_vmac_macvlan_has_virtual_mac() {
    let lab = Pair::new();
    let mut nl = lab.a.enter(|| Netlink::open().unwrap()).unwrap();
    let eth0 = nl.link("eth0").unwrap();
    let vmac = nl
        .add_macvlan(eth0.index, "vrrp.51", vmac_address(51))
        .unwrap();
    assert_eq!(vmac.mac, Some([0, 0, 0x5e, 0, 1, 51]));
    assert!(vmac.up);

    let shown = lab.a.ip_json(&["-d", "link", "show", "vrrp.51"]).unwrap();
    let l = &shown[0];
    assert_eq!(l["address"], "00:00:5e:00:01:33");
    assert_eq!(l["link"], "eth0");
    assert_eq!(l["linkinfo"]["info_kind"], "macvlan");
    assert_eq!(l["linkinfo"]["info_data"]["mode"], "private");
    assert!(l["flags"].as_array().unwrap().contains(&Value::from("UP")));

    nl.del_link(vmac.index).unwrap();
    assert!(matches!(
        nl.link("vrrp.51"),
        Err(vrrp::linux::LinuxError::NoSuchInterface(_))
    ));
}

#[test]
fn root_netns_virtual_and_static_routes() {
    let lab = Pair::new();
    let mut nl = lab.a.enter(|| Netlink::open().unwrap()).unwrap();
    let eth0 = nl.link("eth0").unwrap();
    let mut via = RouteSpec::to(Ipv4Addr::new(198, 51, 100, 0), 24);
    via.gateway = Some(B_ADDR.parse().unwrap());
    via.oif = Some(eth0.index);
    via.metric = Some(7);
    let mut hole = RouteSpec::to(Ipv4Addr::new(203, 0, 113, 0), 24);
    hole.kind = RouteKind::Blackhole;
    hole.table = Some(100);
    nl.add_route(&via).unwrap();
    nl.add_route(&hole).unwrap();

    let main = lab
        .a
        .ip_json(&["route", "show", "198.51.100.0/24"])
        .unwrap();
    assert_eq!(main[0]["gateway"], B_ADDR);
    assert_eq!(main[0]["dev"], "eth0");
    assert_eq!(main[0]["metric"], 7);
    assert_eq!(main[0]["protocol"], "keepalived");
    let t100 = lab.a.ip_json(&["route", "show", "table", "100"]).unwrap();
    assert_eq!(t100[0]["type"], "blackhole");
    assert_eq!(t100[0]["dst"], "203.0.113.0/24");

    nl.del_route(&via).unwrap();
    nl.del_route(&hole).unwrap();
    assert_eq!(
        lab.a
            .ip_json(&["route", "show", "198.51.100.0/24"])
            .unwrap(),
        Value::Array(vec![])
    );
    assert_eq!(
        lab.a.ip_json(&["route", "show", "table", "100"]).unwrap(),
        Value::Array(vec![])
    );
    assert_eq!(nl.del_route(&via).unwrap_err().errno(), Some(3), "ESRCH");
}
