//! Shared by the codec's integration tests: reading the committed captures.
#![allow(dead_code, unreachable_pub)] // Each test binary uses a different subset.

use std::net::Ipv4Addr;
use std::path::PathBuf;

use pcap_file::pcap::PcapReader;
use pcap_file::DataLink;

/// The virtual addresses configured in every capture.
pub const VIPS: [Ipv4Addr; 2] = [Ipv4Addr::new(10, 0, 0, 100), Ipv4Addr::new(10, 0, 0, 101)];

/// Path of a committed capture.
pub fn capture_path(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/captures")
        .join(file)
}

/// The IPv4 datagrams of an Ethernet capture, link header and padding removed.
pub fn capture_datagrams(file: &str) -> Vec<Vec<u8>> {
    let f = std::fs::File::open(capture_path(file)).expect("capture file present");
    let mut r = PcapReader::new(f).expect("pcap header");
    assert_eq!(r.header().datalink, DataLink::ETHERNET);
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p.expect("pcap record");
        let ip = &p.data[14..];
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        out.push(ip[..total].to_vec());
    }
    out
}
