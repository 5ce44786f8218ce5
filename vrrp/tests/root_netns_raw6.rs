//! The raw IPv6 VRRP socket against a real kernel, in two namespaces joined
//! by a veth pair (needs root and `ip`): adverts to ff02::12 leave with hop
//! limit 255 from the link-local address and arrive with their sender and
//! destination, and one with a lower hop limit shows it; an unsolicited
//! Neighbour Advertisement reaches the peer intact; IPv6 VIPs are added
//! `nodad` (and a /128 deprecated) and removed as keepalived does.
#![cfg(feature = "linux")]
// Tests stop on the first unexpected value; `expect` names what was expected.
#![allow(clippy::unwrap_used)]

mod netns_lab;

use std::io::ErrorKind;
use std::net::{Ipv6Addr, SocketAddrV6};

use netns_lab::{ip, wait_for, Netns, Pair};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use vrrp::linux::{Address6Spec, GarpSocket, Netlink, RawSocket6, RawSocket6Config};
use vrrp::wire::{self, AdvertV3Repr, RecvOptionsV3, VRRP_MCAST_V6};

const A_LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xa);
const B_LL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xb);
const VIP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);

/// Only `addr` as link-local address, usable at once (no DAD).
fn link_local(ns: &Netns, addr: Ipv6Addr) {
    ip(ns, &["-6", "addr", "flush", "dev", "eth0", "scope", "link"]);
    let a = format!("{addr}/64");
    ip(ns, &["-6", "addr", "add", &a, "dev", "eth0", "nodad"]);
}

fn ifindex(ns: &Netns) -> u32 {
    ns.enter(|| Netlink::open().unwrap().link("eth0").unwrap().index)
        .unwrap()
}

fn open(ns: &Netns) -> RawSocket6 {
    let ifindex = ifindex(ns);
    ns.enter(|| {
        RawSocket6::open(RawSocket6Config {
            ifname: "eth0".into(),
            ifindex,
            multicast: true,
        })
        .unwrap()
    })
    .expect("thread inside the namespace")
}

fn advert(src: Ipv6Addr, priority: u8) -> Vec<u8> {
    let repr = AdvertV3Repr {
        src,
        dst: VRRP_MCAST_V6,
        ttl: 255,
        vrid: 51,
        priority,
        max_adver_int: 100,
        addresses: &[VIP],
    };
    let mut buf = [0u8; 64];
    let n = wire::encode_v6(&repr, &mut buf).unwrap();
    buf[..n].to_vec()
}

fn recv_one(sock: &RawSocket6) -> (Vec<u8>, wire::Ipv6Meta) {
    let mut buf = [0u8; 2048];
    let (n, meta) = wait_for("a datagram on the IPv6 socket", || {
        match sock.recv(&mut buf) {
            Ok(got) => Some(got),
            Err(e) if e.kind() == ErrorKind::WouldBlock => None,
            Err(e) => panic!("recv: {e}"),
        }
    });
    (buf[..n].to_vec(), meta)
}

fn assert_empty(sock: &RawSocket6, why: &str) {
    let mut buf = [0u8; 2048];
    match sock.recv(&mut buf) {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("{why}: expected nothing queued, got {other:?}"),
    }
}

#[test]
fn root_netns_raw6_advert_crosses_with_sender_destination_and_hop_limit() {
    let lab = Pair::new();
    link_local(&lab.a, A_LL);
    link_local(&lab.b, B_LL);
    let a = open(&lab.a);
    let b = open(&lab.b);

    // First a copy with hop limit 64 from a plain socket: b sees its hop
    // limit, and decode_v6 drops it.
    let a_index = ifindex(&lab.a);
    let plain = lab
        .a
        .enter(|| {
            let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::from(112))).unwrap();
            s.bind_device(Some(b"eth0")).unwrap();
            s.set_multicast_hops_v6(64).unwrap();
            s.set_multicast_loop_v6(false).unwrap();
            s
        })
        .unwrap();
    let low = advert(A_LL, 50);
    let to = SockAddr::from(SocketAddrV6::new(VRRP_MCAST_V6, 0, 0, a_index));
    assert_eq!(plain.send_to(&low, &to).unwrap(), low.len());

    let (got, meta) = recv_one(&b);
    assert_eq!((got.as_slice(), meta.hop_limit), (low.as_slice(), 64));
    assert_eq!(
        wire::decode_v6(&got, &meta, &RecvOptionsV3::default()).err(),
        Some(wire::DropReason::BadTtl)
    );

    let sent = advert(A_LL, 100);
    assert_eq!(a.send_to(&sent, VRRP_MCAST_V6).unwrap(), sent.len());
    let (got, meta) = recv_one(&b);
    assert_eq!(got, sent);
    assert_eq!(
        (meta.src, meta.dst, meta.hop_limit),
        (A_LL, VRRP_MCAST_V6, 255)
    );
    let decoded = wire::decode_v6(&got, &meta, &RecvOptionsV3::default()).unwrap();
    assert_eq!((decoded.vrid, decoded.priority), (51, 100));
    assert_empty(&b, "one advert sent, one received");
    assert_empty(&a, "multicast loopback is off");

    // And back, to check b's side the same way.
    let reply = advert(B_LL, 200);
    assert_eq!(b.send_to(&reply, VRRP_MCAST_V6).unwrap(), reply.len());
    let (got, meta) = recv_one(&a);
    assert_eq!((got, meta.src), (reply, B_LL));
}

#[test]
fn root_netns_unsolicited_neighbour_advertisement_arrives_intact() {
    let lab = Pair::new();
    link_local(&lab.a, A_LL);
    link_local(&lab.b, B_LL);
    let (index, mac) = lab
        .a
        .enter(|| {
            let l = Netlink::open().unwrap().link("eth0").unwrap();
            (l.index, l.mac.unwrap())
        })
        .unwrap();
    let icmp = lab
        .b
        .enter(|| {
            let s = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::ICMPV6)).unwrap();
            s.bind_device(Some(b"eth0")).unwrap();
            s.set_nonblocking(true).unwrap();
            s
        })
        .unwrap();
    let garp = lab.a.enter(|| GarpSocket::open(index).unwrap()).unwrap();
    garp.send_na(mac, VIP, false).unwrap();

    // Other ICMPv6 (MLD reports, solicitations) may come first.
    let mut buf = [0u8; 256];
    let msg = wait_for("the Neighbour Advertisement", || {
        let n = match std::io::Read::read(&mut &icmp, &mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return None,
            Err(e) => panic!("recv: {e}"),
        };
        (buf.first() == Some(&136)).then(|| buf[..n].to_vec())
    });
    let mut expected = vec![136, 0, 0, 0, 0x20, 0, 0, 0];
    expected.extend(VIP.octets());
    expected.extend([2, 1]);
    expected.extend(mac);
    // Type, code and flags, target, option; the checksum (bytes 2..4)
    // verifies over a pseudo-header from the VIP to ff02::1.
    assert_eq!((&msg[..2], &msg[4..]), (&expected[..2], &expected[4..]));
    let pseudo =
        wire::checksum::pseudo_header_v6(VIP, Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1), 58, 32);
    assert_eq!(wire::checksum::finish(wire::checksum::sum(pseudo, &msg)), 0);
}

fn ip6_addrs(ns: &Netns) -> String {
    let out = ns
        .command("ip")
        .args(["-6", "-o", "addr", "show", "dev", "eth0"])
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn root_netns_ipv6_vip_is_added_nodad_and_removed() {
    let lab = Pair::new();
    let index = ifindex(&lab.a);
    let host = Address6Spec::new(index, VIP, 128);
    let net = Address6Spec::new(index, Ipv6Addr::new(0x2001, 0xdb8, 1, 0, 0, 0, 0, 1), 64);
    lab.a
        .enter(|| {
            let mut nl = Netlink::open().unwrap();
            nl.add_address6(&host).unwrap();
            nl.add_address6(&net).unwrap();
            let listed = nl.addresses6(Some(index)).unwrap();
            assert!(
                listed.contains(&host) && listed.contains(&net),
                "{listed:?}"
            );
        })
        .unwrap();
    let text = ip6_addrs(&lab.a);
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("{needle} in {text}"))
            .to_owned()
    };
    let host_line = line("2001:db8::100/128");
    assert!(
        host_line.contains("deprecated") && host_line.contains("nodad"),
        "{host_line}"
    );
    let net_line = line("2001:db8:1::1/64");
    assert!(
        net_line.contains("nodad") && !net_line.contains("deprecated"),
        "{net_line}"
    );
    // nodad: usable at once (the link-local address may still be tentative).
    assert!(!host_line.contains("tentative") && !net_line.contains("tentative"));

    lab.a
        .enter(|| {
            let mut nl = Netlink::open().unwrap();
            nl.del_address6(&host).unwrap();
            nl.del_address6(&net).unwrap();
        })
        .unwrap();
    let after = ip6_addrs(&lab.a);
    assert!(!after.contains("2001:db8"), "{after}");
}
