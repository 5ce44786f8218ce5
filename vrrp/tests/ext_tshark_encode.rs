//! Wireshark's dissector (tshark, an external program) accepts what our
//! encoder builds as well-formed VRRPv2 with correct checksums.
#![allow(clippy::unwrap_used)] // Test code: a panic is the failure report.

use std::net::Ipv4Addr;
use std::process::Command;
use std::time::Duration;

use pcap_file::pcap::{PcapPacket, PcapWriter};
use vrrp::auth::{AuthConfig, TxCounters};
use vrrp::wire::{self, AdvertRepr};

/// One advert to build and what tshark must report for it.
struct Sample {
    auth: AuthConfig,
    priority: u8,
    addrs: Vec<Ipv4Addr>,
    dst: Ipv4Addr,
}

fn samples() -> Vec<Sample> {
    let addrs = |n: u8| {
        (0..n)
            .map(|i| Ipv4Addr::new(192, 168, 7, i))
            .collect::<Vec<_>>()
    };
    let mut v = Vec::new();
    for auth in [
        AuthConfig::None,
        AuthConfig::pass(b"secret1"),
        AuthConfig::ah(b"secret1"),
    ] {
        for (priority, n) in [(100, 1), (255, 2), (0, 0), (1, 20)] {
            v.push(Sample {
                auth: auth.clone(),
                priority,
                addrs: addrs(n),
                dst: wire::VRRP_MCAST_V4,
            });
        }
        v.push(Sample {
            auth: auth.clone(),
            priority: 150,
            addrs: addrs(3),
            dst: Ipv4Addr::new(10, 0, 0, 2),
        });
    }
    v
}

#[test]
fn tshark_parses_our_adverts_as_valid_vrrpv2() {
    let ok = Command::new("tshark")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "this test needs `tshark` (run .ci/install-deps)");
    let samples = samples();
    let path = std::env::temp_dir().join(format!("vrrp-tshark-{}.pcap", std::process::id()));
    let mut w = PcapWriter::new(std::fs::File::create(&path).unwrap()).unwrap();
    let mut tx = TxCounters::new();
    for s in &samples {
        let repr = AdvertRepr {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: s.dst,
            ttl: 255,
            vrid: 51,
            priority: s.priority,
            adver_int: 1,
            addresses: &s.addrs,
        };
        // Ethernet: VRRP multicast MAC <- virtual router MAC of VRID 51.
        let mut frame = vec![
            0x01, 0x00, 0x5e, 0x00, 0x00, 0x12, 0x00, 0x00, 0x5e, 0x00, 0x01, 51, 0x08, 0x00,
        ];
        let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
        let n = wire::encode(&repr, &s.auth, &mut tx, &mut buf).unwrap();
        frame.extend_from_slice(&buf[..n]);
        w.write_packet(&PcapPacket::new(Duration::ZERO, frame.len() as u32, &frame))
            .unwrap();
    }
    drop(w);
    let fields = [
        "ip.checksum.status",
        "vrrp.version",
        "vrrp.type",
        "vrrp.checksum.status",
        "vrrp.prio",
        "vrrp.addr_count",
        "vrrp.auth_type",
        "vrrp.ip_addr",
        "vrrp.auth_string",
        "ah.spi",
        "ah.sequence",
        "_ws.malformed",
        "_ws.expert",
    ];
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-o", "ip.check_checksum:TRUE", "-r"])
        .arg(&path);
    cmd.args(["-T", "fields", "-E", "separator=|", "-E", "aggregator=,"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), samples.len(), "{text}");
    let mut seq = 0;
    for (line, s) in lines.iter().zip(&samples) {
        let f: Vec<&str> = line.split('|').collect();
        let addrs = s
            .addrs
            .iter()
            .map(|a| a.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let (auth_type, pass, spi, ah_seq) = match s.auth {
            AuthConfig::None => ("0", "", "", String::new()),
            AuthConfig::Pass { .. } => ("1", "secret1", "", String::new()),
            _ => {
                seq += 1;
                ("2", "", "0x0a000001", seq.to_string())
            }
        };
        // checksum status 1 = "Good" for both the IP header and VRRP.
        let want = [
            "1",
            "2",
            "1",
            "1",
            &s.priority.to_string(),
            &s.addrs.len().to_string(),
            auth_type,
            &addrs,
            pass,
            spi,
            &ah_seq,
            "",
            "",
        ];
        assert_eq!(f, want, "tshark line: {line}");
    }
}
