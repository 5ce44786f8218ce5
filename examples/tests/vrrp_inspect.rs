//! Runs the `vrrp-inspect` binary on the committed keepalived captures and
//! on a crafted capture of malformed adverts.
#![allow(clippy::unwrap_used)] // Test code: a panic is the failure report.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::DataLink;
use serde_json::{json, Value};

fn capture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vrrp/tests/captures")
        .join(name)
}

/// Runs vrrp-inspect, asserts success, returns one JSON value per line.
fn inspect(args: &[&str], file: &Path) -> Vec<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_vrrp-inspect"))
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn verdicts(lines: &[Value]) -> Vec<&str> {
    lines
        .iter()
        .map(|l| l["verdict"].as_str().unwrap())
        .collect()
}

#[test]
fn ah_capture_is_valid_with_the_right_password_only() {
    let good = inspect(&["--auth-pass", "secret1"], &capture("ah.pcap"));
    assert_eq!(verdicts(&good), ["valid"; 8]);
    assert_eq!(
        good[0],
        json!({
            "src": "10.0.0.1", "dst": "224.0.0.18", "ttl": 255, "ip_id": 1,
            "version": 2, "vrid": 51, "priority": 150, "auth_type": "ah",
            "adver_int": 1, "addresses": ["10.0.0.100", "10.0.0.101"],
            "ah_seq": 1, "verdict": "valid"
        })
    );
    let seqs: Vec<u64> = good.iter().map(|l| l["ah_seq"].as_u64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5, 6, 7, 8]);
    let bad = inspect(&["--auth-pass", "secret2"], &capture("ah.pcap"));
    assert_eq!(verdicts(&bad), ["auth-failure"; 8]);
}

#[test]
fn unicast_capture_needs_the_unicast_flag() {
    let file = capture("ah-unicast.pcap");
    let good = inspect(&["--unicast", "--auth-pass", "secret1"], &file);
    assert_eq!(verdicts(&good), ["valid"; 8]);
    assert_eq!(
        (&good[0]["dst"], &good[4]["dst"]),
        (&json!("10.0.0.2"), &json!("10.0.0.1"))
    );
    let multicast = inspect(&["--auth-pass", "secret1"], &file);
    assert_eq!(verdicts(&multicast), ["bad-destination"; 8]);
}

#[test]
fn pass_capture_is_valid_with_the_right_password_only() {
    let good = inspect(&["--auth-pass", "passw0rd-too-long"], &capture("pass.pcap"));
    assert_eq!(verdicts(&good), ["valid"; 8]);
    assert_eq!(good[0]["auth_type"], "pass");
    assert!(good[0].get("ah_seq").is_none());
    let prios: Vec<u64> = good
        .iter()
        .map(|l| l["priority"].as_u64().unwrap())
        .collect();
    assert_eq!(prios, [150, 150, 150, 0, 100, 100, 100, 0]);
    let bad = inspect(&["--auth-pass", "password"], &capture("pass.pcap"));
    assert_eq!(verdicts(&bad), ["auth-failure"; 8]);
    let none = inspect(&[], &capture("pass.pcap"));
    assert_eq!(verdicts(&none), ["auth-type-mismatch"; 8]);
}

#[test]
fn none_capture_is_valid_without_password() {
    let lines = inspect(&[], &capture("none.pcap"));
    assert_eq!(verdicts(&lines), ["valid"; 8]);
    assert_eq!(lines[4]["src"], "10.0.0.2");
    let forced = inspect(
        &["--auth-type", "ah", "--auth-pass", "x"],
        &capture("none.pcap"),
    );
    assert_eq!(verdicts(&forced), ["auth-type-mismatch"; 8]);
}

#[test]
fn malformed_packets_get_their_reason() {
    // Take the first no-auth advert and break it three ways.
    let mut reader =
        pcap_file::pcap::PcapReader::new(std::fs::File::open(capture("none.pcap")).unwrap())
            .unwrap();
    let frame = reader.next_packet().unwrap().unwrap().data.into_owned();
    let mut bad_sum = frame.clone();
    bad_sum[14 + 20 + 7] ^= 1;
    let mut bad_ttl = frame.clone();
    bad_ttl[14 + 8] = 64;
    bad_ttl[14 + 10] = 0;
    bad_ttl[14 + 11] = 0;
    let c = vrrp::wire::checksum::checksum(&bad_ttl[14..34]);
    bad_ttl[24..26].copy_from_slice(&c.to_be_bytes());
    let mut short = frame.clone();
    short.truncate(14 + 20 + 12); // the fixed header and one address

    let path = std::env::temp_dir().join(format!("vrrp-inspect-test-{}.pcap", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(file, header).unwrap();
    for f in [&frame, &bad_sum, &bad_ttl, &short] {
        w.write_packet(&PcapPacket::new(Duration::ZERO, f.len() as u32, f))
            .unwrap();
    }
    drop(w);
    let lines = inspect(&[], &path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(
        verdicts(&lines),
        ["valid", "bad-checksum", "bad-ttl", "bad-ip-length"]
    );
    assert_eq!(lines[2]["ttl"], 64);
    assert_eq!(lines[3]["addresses"], json!(["10.0.0.100"]));
}

#[test]
fn unreadable_file_fails() {
    let out = Command::new(env!("CARGO_BIN_EXE_vrrp-inspect"))
        .arg("/nonexistent/x.pcap")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("vrrp-inspect: /nonexistent/x.pcap"));
}

#[test]
fn v3_ipv4_captures_are_valid() {
    let lines = inspect(&[], &capture("v3.pcap"));
    assert_eq!(verdicts(&lines), ["valid"; 8]);
    assert_eq!(
        lines[0],
        json!({
            "src": "10.0.0.1", "dst": "224.0.0.18", "ttl": 255, "ip_id": 1,
            "version": 3, "vrid": 51, "priority": 150, "max_adver_int": 100,
            "addresses": ["10.0.0.100", "10.0.0.101"], "verdict": "valid"
        })
    );
    let unicast = capture("v3-unicast.pcap");
    assert_eq!(verdicts(&inspect(&["--unicast"], &unicast)), ["valid"; 8]);
    assert_eq!(verdicts(&inspect(&[], &unicast)), ["bad-destination"; 8]);
}

#[test]
fn v3_ipv6_capture_is_valid_and_a_lower_hop_limit_is_not() {
    let lines = inspect(&[], &capture("v3-ipv6.pcap"));
    assert_eq!(verdicts(&lines), ["valid"; 17]);
    assert_eq!(
        lines[0],
        json!({
            "src": "fe80::1", "dst": "ff02::12", "hop_limit": 255,
            "version": 3, "vrid": 51, "priority": 150, "max_adver_int": 50,
            "addresses": ["fe80::100", "2001:db8::100"], "verdict": "valid"
        })
    );

    // The first advert with hop limit 64, then with one checksum bit off.
    let mut reader =
        pcap_file::pcap::PcapReader::new(std::fs::File::open(capture("v3-ipv6.pcap")).unwrap())
            .unwrap();
    let frame = reader.next_packet().unwrap().unwrap().data.into_owned();
    let mut hop = frame.clone();
    hop[14 + 7] = 64;
    let mut sum = frame.clone();
    sum[14 + 40 + 7] ^= 1;
    let path = std::env::temp_dir().join(format!("vrrp-inspect-v6-{}.pcap", std::process::id()));
    let file = std::fs::File::create(&path).unwrap();
    let header = PcapHeader {
        datalink: DataLink::ETHERNET,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(file, header).unwrap();
    for f in [&hop, &sum] {
        w.write_packet(&PcapPacket::new(Duration::ZERO, f.len() as u32, f))
            .unwrap();
    }
    drop(w);
    let lines = inspect(&[], &path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(verdicts(&lines), ["bad-ttl", "bad-checksum"]);
    assert_eq!(lines[0]["hop_limit"], 64);
}
