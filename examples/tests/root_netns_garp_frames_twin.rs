//! The gratuitous ARP and unsolicited Neighbour Advertisement frames of
//! keepalived 2.2.7 and keepalived-lite, byte for byte (issue 14; needs
//! root, iproute2, nft, tcpdump and keepalived).
//!
//! In twin layouts (the same MACs in both), `r1` becomes master of VI_1
//! (IPv4, VIP 10.77.0.100) and VI_6 (IPv6, VIP fd00::100). `r2` captures
//! what arrives over the veth: keepalived hands the kernel 42-byte ARP
//! frames (no padding to the Ethernet minimum; veth adds none) and 86-byte
//! NAs. Both daemons' first frames must be those bytes exactly.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, wait_for_line};
use pcap_file::pcap::PcapReader;
use twin::{Side, Twin, WAIT};

const VIP4: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 100);
const VIP6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 0x100);

const CONF: &str = "vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n  \
    virtual_router_id 51\n  priority 150\n  advert_int 1\n  \
    virtual_ipaddress {\n    10.77.0.100/24\n  }\n}\n\
    vrrp_instance VI_6 {\n  state MASTER\n  interface eth0\n  \
    virtual_router_id 52\n  priority 150\n  advert_int 1\n  \
    virtual_ipaddress {\n    fd00::100/64\n  }\n}\n";

/// The whole frames of a pcap file so far (tcpdump may be writing one).
fn pcap_frames(path: &Path) -> Vec<Vec<u8>> {
    let Ok(file) = std::fs::File::open(path) else {
        return Vec::new();
    };
    let Ok(mut reader) = PcapReader::new(file) else {
        return Vec::new();
    };
    let mut frames = Vec::new();
    while let Some(Ok(packet)) = reader.next_packet() {
        assert_eq!(
            packet.orig_len as usize,
            packet.data.len(),
            "captured whole"
        );
        frames.push(packet.data.into_owned());
    }
    frames
}

/// Whether a frame is an ARP (ethertype 0x0806).
fn is_arp(f: &[u8]) -> bool {
    f.get(12..14) == Some(&[0x08, 0x06])
}

/// Whether a frame is an IPv6 Neighbour Advertisement (ICMPv6 type 136).
fn is_na(f: &[u8]) -> bool {
    f.get(12..14) == Some(&[0x86, 0xdd]) && f.get(20) == Some(&58) && f.get(54) == Some(&136)
}

/// Captures on `r2` until `r1`'s first ARP and NA for the VIPs arrived;
/// returns them.
fn first_frames(side: &Side) -> (Vec<u8>, Vec<u8>) {
    let deadline = Instant::now() + WAIT;
    let pcap = side.dir.join("r2.pcap");
    loop {
        let frames = pcap_frames(&pcap);
        let arp = frames
            .iter()
            .find(|f| is_arp(f) && f.get(38..42) == Some(&VIP4.octets()));
        let na = frames
            .iter()
            .find(|f| is_na(f) && f.get(22..38) == Some(&VIP6.octets()));
        if let (Some(arp), Some(na)) = (arp, na) {
            return (arp.clone(), na.clone());
        }
        assert!(
            Instant::now() < deadline,
            "{:?}: no ARP or NA for the VIPs in {} frames\n{}",
            side.kind,
            frames.len(),
            side.log_text("r1")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `r1`'s MAC on eth0.
fn mac(side: &Side) -> [u8; 6] {
    let text = side.ip(&["-o", "link", "show", "dev", "eth0"]);
    let hex = text.split("link/ether ").nth(1).unwrap();
    let mut mac = [0u8; 6];
    for (b, h) in mac.iter_mut().zip(hex.split(':')) {
        *b = u8::from_str_radix(&h[..2], 16).unwrap();
    }
    mac
}

#[test]
fn root_netns_garp_frames_match_keepalived() {
    require_program("tcpdump", &["--version"]);
    let mut twin = Twin::new(&[]);
    for s in twin.sides() {
        let pcap = s.dir.join("r2.pcap").display().to_string();
        let log = s.dir.join("tcpdump.log");
        let filter = "arp or (icmp6 and ip6[40] == 136)";
        let args = ["-i", "eth0", "-U", "-w", &pcap, filter];
        s.lab.spawn("r2", "tcpdump", &args, &log).unwrap();
        assert!(wait_for_line(&log, "listening on", WAIT).is_some());
    }
    twin.start_masters(CONF, &["VI_1", "VI_6"]);
    let (ka_arp, ka_na) = first_frames(&twin.ka);
    let (lite_arp, lite_na) = first_frames(&twin.lite);
    let mac = mac(&twin.ka);
    assert_eq!(mac, self::mac(&twin.lite), "same MACs in both layouts");

    // keepalived: 42 bytes, no padding; what vrrp builds.
    assert_eq!(ka_arp.len(), 42);
    assert_eq!(ka_arp, vrrp::linux::arp_announcement(mac, VIP4));
    assert_eq!(lite_arp, ka_arp, "keepalived-lite's GARP");
    // The NA: 86 bytes; r1 does not forward IPv6, so no Router flag.
    assert_eq!(ka_na.len(), 86);
    assert_eq!(
        ka_na,
        vrrp::linux::neighbour_advertisement(mac, VIP6, false)
    );
    assert_eq!(lite_na, ka_na, "keepalived-lite's NA");
}
