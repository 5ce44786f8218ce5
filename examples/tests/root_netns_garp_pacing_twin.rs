//! Gratuitous ARP spacing (`vrrp_garp_interval`) of keepalived 2.2.7 and
//! keepalived-lite, side by side (needs root, iproute2, tcpdump, tshark
//! and keepalived).
//!
//! Each daemon runs three instances on one interface (own VRIDs, two VIPs
//! each, `garp_master_repeat 2`, no delayed burst) with
//! `vrrp_garp_interval 0.2`. An observer captures the ARPs. keepalived
//! sends one GARP at once and queues the rest, one pending flag per
//! address (a repeat of a queued address adds nothing); the queue is
//! walked instance by instance, address by address, one GARP per interval.
//! The GARPs of both daemons must come in the same order with the same
//! count per address; keepalived-lite's gaps must be at least the interval
//! (the lower bound it enforces itself, frame to frame). Both daemons'
//! gaps are printed (BENCHMARKS.md, "GARP bursts"). The same with IPv6
//! instances and `vrrp_gna_interval 0.2`, for unsolicited Neighbour
//! Advertisements.
//!
//! `garp_extra_if 2 all`: each daemon holds one VIP on a second interface
//! (a veth of its own namespace, captured there); while master it sends a
//! GARP for it there every 2 s (keepalived: at the first advert more than
//! 2 s after becoming master or after the previous one). Both daemons'
//! GARPs on that interface in the first 9 s (a second away from any) must
//! match in count and in gaps rounded to whole seconds.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, wait_for_line, Lab};

const WAIT: Duration = Duration::from_secs(20);
const INTERVAL_US: f64 = 200_000.0;

/// (node: `ka` keepalived, `kl` keepalived-lite; address, first VRID,
/// first VIP's last octet)
type Daemon = (&'static str, Ipv4Addr, u8, u8);

const DAEMONS: [Daemon; 2] = [("ka", ip(1), 51, 51), ("kl", ip(2), 61, 61)];
const INSTANCES: u8 = 3;

const fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, last)
}

/// VIP `v` (0 or 1) of instance `k` of a daemon whose first VIP ends in `first`.
fn vip(first: u8, k: u8, v: u8) -> Ipv4Addr {
    ip(first + 2 * k + v)
}

fn config((_, _, vrid, first): &Daemon) -> String {
    let mut c = String::from("global_defs {\n  vrrp_garp_interval 0.2\n}\n");
    for k in 0..INSTANCES {
        c += &format!(
            "vrrp_instance VI_{k} {{\n  state MASTER\n  interface eth0\n  \
             virtual_router_id {}\n  priority 150\n  advert_int 1\n  \
             garp_master_repeat 2\n  garp_master_delay 0\n  \
             virtual_ipaddress {{\n    {}/32\n    {}/32\n  }}\n}}\n",
            vrid + k,
            vip(*first, k, 0),
            vip(*first, k, 1)
        );
    }
    c
}

/// tcpdump in the observer, stopped (SIGTERM, so it flushes) on drop.
struct Capture(Child);

impl Drop for Capture {
    fn drop(&mut self) {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.0.wait();
    }
}

/// (time, target) of every ARP of a capture.
fn arps(pcap: &Path) -> Vec<(f64, Ipv4Addr)> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-T", "fields", "-E", "separator=;"])
        .args(["-e", "frame.time_epoch", "-e", "arp.dst.proto_ipv4"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (t, ip) = l.split_once(';')?;
            Some((t.parse().ok()?, ip.parse().ok()?))
        })
        .collect()
}

/// A daemon's GARPs as (time, (instance, VIP)).
fn garps_of(all: &[(f64, Ipv4Addr)], d: &Daemon) -> Vec<(f64, (u8, u8))> {
    let rank = |a: Ipv4Addr| {
        (0..INSTANCES)
            .flat_map(|k| [(k, 0), (k, 1)])
            .find(|(k, v)| vip(d.3, *k, *v) == a)
    };
    (all.iter())
        .filter_map(|(t, a)| Some((*t, rank(*a)?)))
        .collect()
}

#[test]
fn root_netns_garp_pacing_matches_keepalived() {
    require_root();
    for program in ["tcpdump", "tshark"] {
        require_program(program, &["--version"]);
    }
    require_program("keepalived", &["-v"]);
    let mut lab = Lab::new().unwrap();
    for (node, addr, ..) in DAEMONS {
        lab.add_node(node, addr, 24).unwrap();
    }
    lab.add_node("obs", ip(9), 24).unwrap();
    let dir = std::env::temp_dir().join(lab.netns("obs").name());
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("arp.pcap");
    let tcpdump_log = dir.join("tcpdump.log");
    let capture = lab
        .command("obs", "tcpdump")
        .args(["-i", "eth0", "-U", "-w", pcap.to_str().unwrap(), "arp"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&tcpdump_log).unwrap())
        .spawn()
        .unwrap();
    let capture = Capture(capture);
    assert!(wait_for_line(&tcpdump_log, "listening on", WAIT).is_some());

    let bin = env!("CARGO_BIN_EXE_keepalived-lite");
    for d in &DAEMONS {
        let node = d.0;
        let conf = dir.join(format!("{node}.conf"));
        std::fs::write(&conf, config(d)).unwrap();
        let log = dir.join(format!("{node}.log"));
        if node == "ka" {
            lab.spawn_vrrp_daemon(node, "keepalived", &conf, &dir, &log)
        } else {
            lab.spawn_lite_daemon(node, bin, &conf, &dir, &log)
        }
        .unwrap();
    }
    // keepalived's sequence (below) has 7 GARPs; wait for both daemons'
    // and then as long again for any extra one.
    let deadline = Instant::now() + 2 * WAIT;
    loop {
        let all = arps(&pcap);
        if DAEMONS.iter().all(|d| garps_of(&all, d).len() >= 7) {
            break;
        }
        assert!(Instant::now() < deadline, "GARPs so far: {all:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(1500));
    drop(capture);
    let all = arps(&pcap);

    let seq: Vec<Vec<(f64, (u8, u8))>> = DAEMONS.iter().map(|d| garps_of(&all, d)).collect();
    let gaps = |k: usize| -> Vec<f64> {
        (seq[k].windows(2))
            .map(|w| (w[1].0 - w[0].0) * 1e6)
            .collect()
    };
    for (k, (node, ..)) in DAEMONS.iter().enumerate() {
        let us: Vec<String> = gaps(k).iter().map(|g| format!("{g:.0}")).collect();
        eprintln!("{node}: gaps (us) {}", us.join(" "));
    }
    let order = |k: usize| -> Vec<(u8, u8)> { seq[k].iter().map(|g| g.1).collect() };
    // The first address at once, its repeat queued once, then every other
    // address once, instance by instance.
    let want = vec![(0, 0), (0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)];
    assert_eq!(order(0), want, "keepalived's GARPs");
    assert_eq!(
        order(1),
        order(0),
        "keepalived-lite's GARPs against keepalived's"
    );
    // pcap timestamps are whole microseconds: one of slack for rounding.
    let short: Vec<f64> = (gaps(1).into_iter())
        .filter(|g| *g < INTERVAL_US - 1.0)
        .collect();
    assert!(
        short.is_empty(),
        "keepalived-lite gaps under 200 ms: {short:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// A daemon's capture of ARPs on its own second interface `ex0`.
fn capture_ex0(lab: &Lab, node: &str, dir: &Path) -> (Capture, std::path::PathBuf) {
    for args in [
        &["link", "add", "ex0", "type", "veth", "peer", "name", "ex1"][..],
        &["link", "set", "ex0", "up"],
        &["link", "set", "ex1", "up"],
    ] {
        assert!(lab.run(node, "ip", args).unwrap().status.success());
    }
    let pcap = dir.join(format!("{node}-ex0.pcap"));
    let log = dir.join(format!("{node}-tcpdump.log"));
    let child = lab
        .command(node, "tcpdump")
        .args(["-i", "ex0", "-U", "-w", pcap.to_str().unwrap(), "arp"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    let capture = Capture(child);
    assert!(wait_for_line(&log, "listening on", WAIT).is_some());
    (capture, pcap)
}

#[test]
fn root_netns_garp_extra_if_matches_keepalived() {
    extra_if_twin("");
}

/// `use_vmac` alone puts `10.1.0.N dev ex0` directly on ex0 (keepalived
/// 2.2.7 makes no VMAC there): the same GARPs there.
#[test]
fn root_netns_garp_extra_if_with_use_vmac_matches_keepalived() {
    extra_if_twin("  use_vmac\n");
}

/// Both daemons with `garp_extra_if 2 all` and `extra` in the instance.
fn extra_if_twin(extra: &str) {
    require_root();
    for program in ["tcpdump", "tshark"] {
        require_program(program, &["--version"]);
    }
    require_program("keepalived", &["-v"]);
    let mut lab = Lab::new().unwrap();
    for (node, addr, ..) in DAEMONS {
        lab.add_node(node, addr, 24).unwrap();
    }
    let dir = std::env::temp_dir().join(lab.netns("ka").name());
    std::fs::create_dir_all(&dir).unwrap();
    let bin = env!("CARGO_BIN_EXE_keepalived-lite");
    let mut captures = Vec::new();
    for (node, _, vrid, first) in DAEMONS {
        captures.push(capture_ex0(&lab, node, &dir));
        let conf = dir.join(format!("{node}.conf"));
        let text = format!(
            "vrrp_instance VI_1 {{\n  state MASTER\n  interface eth0\n{extra}  \
             virtual_router_id {vrid}\n  priority 150\n  advert_int 1\n  \
             garp_master_repeat 1\n  garp_master_delay 0\n  garp_extra_if 2 all\n  \
             virtual_ipaddress {{\n    {}/32\n    10.1.0.{first}/32 dev ex0\n  }}\n}}\n",
            ip(first)
        );
        std::fs::write(&conf, text).unwrap();
        let log = dir.join(format!("{node}.log"));
        if node == "ka" {
            lab.spawn_vrrp_daemon(node, "keepalived", &conf, &dir, &log)
        } else {
            lab.spawn_lite_daemon(node, bin, &conf, &dir, &log)
        }
        .unwrap();
    }
    // The first GARP on ex0 (the master's burst), then 9.5 s more.
    let deadline = Instant::now() + 2 * WAIT;
    while !captures.iter().all(|(_, pcap)| !arps(pcap).is_empty()) {
        assert!(Instant::now() < deadline, "no GARP on ex0");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(9_500));
    let pcaps: Vec<std::path::PathBuf> = captures
        .drain(..)
        .map(|(c, pcap)| {
            drop(c);
            pcap
        })
        .collect();
    let gaps: Vec<Vec<f64>> = (pcaps.iter().zip(DAEMONS))
        .map(|(pcap, (node, _, _, first))| {
            let garps = arps(pcap);
            let vip = Ipv4Addr::new(10, 1, 0, first);
            assert!(garps.iter().all(|g| g.1 == vip), "{node}: {garps:?}");
            let t0 = garps[0].0;
            let within: Vec<f64> = garps
                .iter()
                .map(|g| g.0)
                .filter(|t| *t < t0 + 9.0)
                .collect();
            within.windows(2).map(|w| w[1] - w[0]).collect()
        })
        .collect();
    for (g, (node, ..)) in gaps.iter().zip(DAEMONS) {
        let s: Vec<String> = g.iter().map(|x| format!("{x:.3}")).collect();
        eprintln!("{node}: extra-if gaps (s) {}", s.join(" "));
    }
    let rounded = |k: usize| -> Vec<u64> { gaps[k].iter().map(|g| g.round() as u64).collect() };
    assert!(!rounded(0).is_empty(), "keepalived sends extra-if GARPs");
    assert_eq!(
        rounded(1),
        rounded(0),
        "keepalived-lite's extra-if GARPs against keepalived's"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// VIP `v` of IPv6 instance `k` of a daemon whose first VIP ends in `first`.
fn vip6(first: u8, k: u8, v: u8) -> std::net::Ipv6Addr {
    let last = u16::from(first + 2 * k + v);
    std::net::Ipv6Addr::new(0x2001, 0xdb8, 0x66, 0, 0, 0, 0, last)
}

#[test]
fn root_netns_gna_pacing_matches_keepalived() {
    require_root();
    for program in ["tcpdump", "tshark"] {
        require_program(program, &["--version"]);
    }
    require_program("keepalived", &["-v"]);
    let mut lab = Lab::new().unwrap();
    for (node, addr, ..) in DAEMONS {
        lab.add_node(node, addr, 24).unwrap();
    }
    lab.add_node("obs", ip(9), 24).unwrap();
    let dir = std::env::temp_dir().join(lab.netns("obs").name());
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("na.pcap");
    let tcpdump_log = dir.join("tcpdump.log");
    let capture = lab
        .command("obs", "tcpdump")
        .args(["-i", "eth0", "-U", "-w", pcap.to_str().unwrap()])
        .arg("icmp6 and ip6[40] == 136")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&tcpdump_log).unwrap())
        .spawn()
        .unwrap();
    let capture = Capture(capture);
    assert!(wait_for_line(&tcpdump_log, "listening on", WAIT).is_some());
    let bin = env!("CARGO_BIN_EXE_keepalived-lite");
    for (node, _, vrid, first) in DAEMONS {
        let mut c = String::from("global_defs {\n  vrrp_gna_interval 0.2\n}\n");
        for k in 0..INSTANCES {
            c += &format!(
                "vrrp_instance VI_{k} {{\n  state MASTER\n  interface eth0\n  \
                 virtual_router_id {}\n  priority 150\n  advert_int 1\n  \
                 garp_master_repeat 2\n  garp_master_delay 0\n  \
                 virtual_ipaddress {{\n    {}/128\n    {}/128\n  }}\n}}\n",
                vrid + k,
                vip6(first, k, 0),
                vip6(first, k, 1)
            );
        }
        let conf = dir.join(format!("{node}.conf"));
        std::fs::write(&conf, c).unwrap();
        let log = dir.join(format!("{node}.log"));
        if node == "ka" {
            lab.spawn_vrrp_daemon(node, "keepalived", &conf, &dir, &log)
        } else {
            lab.spawn_lite_daemon(node, bin, &conf, &dir, &log)
        }
        .unwrap();
    }
    let nas = || -> Vec<(f64, std::net::Ipv6Addr)> {
        let out = Command::new("tshark")
            .arg("-r")
            .arg(&pcap)
            .args(["-T", "fields", "-E", "separator=;"])
            .args([
                "-e",
                "frame.time_epoch",
                "-e",
                "icmpv6.nd.na.target_address",
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| {
                let (t, ip) = l.split_once(';')?;
                Some((t.parse().ok()?, ip.parse().ok()?))
            })
            .collect()
    };
    let of = |all: &[(f64, std::net::Ipv6Addr)], first: u8| -> Vec<(f64, (u8, u8))> {
        let rank = |a: std::net::Ipv6Addr| {
            (0..INSTANCES)
                .flat_map(|k| [(k, 0), (k, 1)])
                .find(|(k, v)| vip6(first, *k, *v) == a)
        };
        (all.iter())
            .filter_map(|(t, a)| Some((*t, rank(*a)?)))
            .collect()
    };
    let deadline = Instant::now() + 2 * WAIT;
    loop {
        let all = nas();
        if DAEMONS.iter().all(|d| of(&all, d.3).len() >= 7) {
            break;
        }
        assert!(Instant::now() < deadline, "NAs so far: {all:?}");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(1500));
    drop(capture);
    let all = nas();
    let seq: Vec<Vec<(f64, (u8, u8))>> = DAEMONS.iter().map(|d| of(&all, d.3)).collect();
    let gaps = |k: usize| -> Vec<f64> {
        (seq[k].windows(2))
            .map(|w| (w[1].0 - w[0].0) * 1e6)
            .collect()
    };
    for (k, (node, ..)) in DAEMONS.iter().enumerate() {
        let us: Vec<String> = gaps(k).iter().map(|g| format!("{g:.0}")).collect();
        eprintln!("{node}: NA gaps (us) {}", us.join(" "));
    }
    let order = |k: usize| -> Vec<(u8, u8)> { seq[k].iter().map(|g| g.1).collect() };
    let want = vec![(0, 0), (0, 0), (0, 1), (1, 0), (1, 1), (2, 0), (2, 1)];
    assert_eq!(order(0), want, "keepalived's NAs");
    assert_eq!(
        order(1),
        order(0),
        "keepalived-lite's NAs against keepalived's"
    );
    let short: Vec<f64> = (gaps(1).into_iter())
        .filter(|g| *g < INTERVAL_US - 1.0)
        .collect();
    assert!(
        short.is_empty(),
        "keepalived-lite gaps under 200 ms: {short:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
