//! Gratuitous ARP bursts of keepalived 2.2.7 and keepalived-lite, side by
//! side (needs root, iproute2, tcpdump, tshark and keepalived).
//!
//! Two pairs of daemons run at once in one lab (keepalived and
//! keepalived-lite each, own VRIDs, two VIPs each) with the same GARP
//! settings: `garp_master_repeat 3`, `garp_master_delay 2`,
//! `garp_master_refresh 4`, `garp_master_refresh_repeat 2`; the first pair
//! `garp_lower_prio_repeat 2`, `garp_lower_prio_delay 1`, the second
//! `lower_prio_no_advert`, `garp_lower_prio_repeat 1`,
//! `garp_lower_prio_delay 0`. An observer captures ARPs and adverts and,
//! half an advert interval after one of its adverts some 6 s after it
//! became master, sends it one advert of lower
//! priority. The GARPs of each daemon are cut into bursts (a pause of more
//! than 300 ms starts a new one): the bursts, with the addresses in the
//! order sent, and the adverts answering the lower one must be the same
//! for both daemons of a pair. Spacing is printed, never asserted.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use keepalived_lite::netns::{require_program, require_root, wait_for_line, Lab};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use vrrp::auth::{AuthConfig, TxCounters};
use vrrp::wire::{self, AdvertRepr};

const WAIT: Duration = Duration::from_secs(20);
const OBSERVER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 9);

/// How a pair reacts to a lower-priority advert.
const DEFAULT: &str = "  garp_lower_prio_repeat 2\n  garp_lower_prio_delay 1\n";
const NO_ADVERT: &str =
    "  lower_prio_no_advert\n  garp_lower_prio_repeat 1\n  garp_lower_prio_delay 0\n";

/// (node: `ka*` keepalived, `kl*` keepalived-lite; address, VRID, VIPs,
/// more settings)
type Daemon = (&'static str, Ipv4Addr, u8, [Ipv4Addr; 2], &'static str);

const DAEMONS: [Daemon; 4] = [
    ("ka", ip(1), 51, [ip(51), ip(52)], DEFAULT),
    ("kl", ip(2), 52, [ip(61), ip(62)], DEFAULT),
    ("ka2", ip(3), 53, [ip(71), ip(72)], NO_ADVERT),
    ("kl2", ip(4), 54, [ip(81), ip(82)], NO_ADVERT),
];

const fn ip(last: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, last)
}

fn config((_, _, vrid, vips, extra): &Daemon) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  state MASTER\n  interface eth0\n  virtual_router_id {vrid}\n  \
         priority 150\n  advert_int 1\n  garp_master_repeat 3\n  garp_master_delay 2\n  \
         garp_master_refresh 4\n  garp_master_refresh_repeat 2\n{extra}  \
         virtual_ipaddress {{\n    {}/32\n    {}/32\n  }}\n}}\n",
        vips[0], vips[1]
    )
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

/// (time, address) of every frame of a capture: an ARP's target, an
/// advert's source.
fn frames(pcap: &Path, field: &str) -> Vec<(f64, Ipv4Addr)> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-T", "fields", "-E", "separator=;"])
        .args(["-e", "frame.time_epoch", "-e", field])
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let (t, ip) = l.split_once(';')?;
            Some((t.parse().ok()?, ip.parse().ok()?))
        })
        .collect()
}

/// A burst of GARPs: first and last time, addresses in order.
type Burst = (f64, f64, Vec<Ipv4Addr>);

/// The GARPs for `vips`, cut into bursts at pauses over 300 ms.
fn bursts(arps: &[(f64, Ipv4Addr)], vips: &[Ipv4Addr]) -> Vec<Burst> {
    let mut out: Vec<Burst> = Vec::new();
    for (t, ip) in arps.iter().filter(|a| vips.contains(&a.1)) {
        match out.last_mut() {
            Some(b) if t - b.1 <= 0.3 => {
                b.1 = *t;
                b.2.push(*ip);
            }
            _ => out.push((*t, *t, vec![*ip])),
        }
    }
    out
}

/// One lower-priority (50) advert for `vrid` from the observer, with the
/// daemon's own addresses so that it is valid.
fn lower_advert(sock: &Socket, vrid: u8, vips: &[Ipv4Addr; 2]) {
    let repr = AdvertRepr {
        src: OBSERVER,
        dst: wire::VRRP_MCAST_V4,
        ttl: wire::VRRP_TTL,
        vrid,
        priority: 50,
        adver_int: 1,
        addresses: vips,
    };
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let mut tx = TxCounters::new();
    let n = wire::encode(&repr, &AuthConfig::None, &mut tx, &mut buf).unwrap();
    let dst = SockAddr::from(SocketAddrV4::new(wire::VRRP_MCAST_V4, 0));
    sock.send_to(&buf[..n], &dst).unwrap();
}

fn has_vip(lab: &Lab, node: &str, vip: Ipv4Addr) -> bool {
    let out = lab.run(node, "ip", &["-4", "-o", "addr", "show"]).unwrap();
    String::from_utf8_lossy(&out.stdout).contains(&format!(" {vip}/32"))
}

fn epoch_now() -> f64 {
    let since = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
    since.unwrap().as_secs_f64()
}

/// A raw socket in the observer that receives every advert.
fn advert_receiver(lab: &Lab) -> Socket {
    lab.enter("obs", || -> std::io::Result<Socket> {
        let rx = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112)))?;
        rx.join_multicast_v4(&wire::VRRP_MCAST_V4, &OBSERVER)?;
        rx.set_read_timeout(Some(Duration::from_millis(5)))?;
        Ok(rx)
    })
    .unwrap()
    .unwrap()
}

/// Sends each daemon its lower-priority advert half an advert interval
/// after the first of its own adverts that comes 5.3 s or more after its
/// first one (its becoming master), as `rx` receives them: mid-grid, so
/// that the answers counted later cannot include a regular advert, and
/// between the refresh bursts at 4 s and 8 s. keepalived's adverts come at
/// whole seconds from its first, keepalived-lite's on its own grid (0.586 s
/// after its first here; see `vrrp::VirtualRouter`'s "Advert grid"), so
/// both land near 6.1-6.5 s. Returns when each was sent (epoch seconds)
/// and when the last daemon became master.
fn inject_mid_grid(rx: &Socket, sock: &Socket) -> ([f64; 4], Instant) {
    let mut first: [Option<Instant>; 4] = [None; 4];
    let mut send_at: [Option<Instant>; 4] = [None; 4];
    let mut injected = [0.0; 4];
    let deadline = Instant::now() + 3 * WAIT;
    while injected.contains(&0.0) {
        assert!(Instant::now() < deadline, "adverts seen: {first:?}");
        let mut bytes = [0u8; 2048];
        // A raw IPv4 socket reads the IP header too: the source at 12.
        if let Ok(20..) = { rx }.read(&mut bytes) {
            let src = Ipv4Addr::new(bytes[12], bytes[13], bytes[14], bytes[15]);
            let now = Instant::now();
            for k in (0..4).filter(|k| DAEMONS[*k].1 == src) {
                match first[k] {
                    None => first[k] = Some(now),
                    Some(t) if send_at[k].is_none() && now >= t + Duration::from_millis(5300) => {
                        send_at[k] = Some(now + Duration::from_millis(500));
                    }
                    Some(_) => {}
                }
            }
        }
        for (k, at) in send_at.iter().enumerate() {
            if injected[k] == 0.0 && at.is_some_and(|at| Instant::now() >= at) {
                let (_, _, vrid, vips, _) = DAEMONS[k];
                injected[k] = epoch_now();
                lower_advert(sock, vrid, &vips);
            }
        }
    }
    (injected, first.iter().flatten().copied().max().unwrap())
}

#[test]
fn root_netns_garp_bursts_match_keepalived() {
    require_root();
    for program in ["tcpdump", "tshark"] {
        require_program(program, &["--version"]);
    }
    require_program("keepalived", &["-v"]);
    let mut lab = Lab::new().unwrap();
    for (node, addr, ..) in DAEMONS {
        lab.add_node(node, addr, 24).unwrap();
    }
    lab.add_node("obs", OBSERVER, 24).unwrap();
    let dir = std::env::temp_dir().join(lab.netns("obs").name());
    std::fs::create_dir_all(&dir).unwrap();
    let pcap = dir.join("arp.pcap");
    let tcpdump_log = dir.join("tcpdump.log");
    let pcap_arg = pcap.to_str().unwrap();
    let capture = lab
        .command("obs", "tcpdump")
        .args(["-i", "eth0", "-U", "-w", pcap_arg, "arp or ip proto 112"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&tcpdump_log).unwrap())
        .spawn()
        .unwrap();
    let capture = Capture(capture);
    assert!(wait_for_line(&tcpdump_log, "listening on", WAIT).is_some());
    let sock = lab
        .enter("obs", || -> std::io::Result<Socket> {
            let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(255)))?;
            sock.set_multicast_if_v4(&OBSERVER)?;
            Ok(sock)
        })
        .unwrap()
        .unwrap();

    let rx = advert_receiver(&lab);
    let bin = env!("CARGO_BIN_EXE_keepalived-lite");
    for d in &DAEMONS {
        let node = d.0;
        let conf = dir.join(format!("{node}.conf"));
        std::fs::write(&conf, config(d)).unwrap();
        let log = dir.join(format!("{node}.log"));
        if node.starts_with("ka") {
            lab.spawn_vrrp_daemon(node, "keepalived", &conf, &dir, &log)
        } else {
            lab.spawn_lite_daemon(node, bin, &conf, &dir, &log)
        }
        .unwrap();
    }
    // Each becomes master (its first advert) and gets its lower advert.
    let (injected, last_master) = inject_mid_grid(&rx, &sock);
    for (node, _, _, vips, _) in DAEMONS {
        assert!(
            vips.iter().all(|v| has_vip(&lab, node, *v)),
            "{node} holds its VIPs"
        );
    }
    // Up to 10.5 s after the last master: the third refresh (12 s) is out.
    let end = last_master + Duration::from_millis(10_500);
    std::thread::sleep(end.saturating_duration_since(Instant::now()));
    let end_epoch = epoch_now();
    drop(capture);

    let arps = frames(&pcap, "arp.dst.proto_ipv4");
    let adverts = frames(&pcap, "ip.src");
    // Each daemon's bursts up to 10.5 s after its first (the masters are
    // seconds apart: the capture runs past the earlier one's window).
    let seq: Vec<Vec<Burst>> = DAEMONS
        .iter()
        .map(|(_, _, _, vips, _)| {
            let mut b = bursts(&arps, vips);
            let t0 = b.first().map_or(0.0, |b| b.0);
            b.retain(|b| b.0 < t0 + 10.5);
            b
        })
        .collect();
    for (k, (node, ..)) in DAEMONS.iter().enumerate() {
        let t0 = seq[k].first().map_or(end_epoch, |b| b.0);
        let at: Vec<String> = (seq[k].iter())
            .map(|b| {
                let span_us = (b.1 - b.0) * 1e6;
                format!("+{:.3}s x{} in {span_us:.0} us", b.0 - t0, b.2.len())
            })
            .collect();
        eprintln!("{node}: bursts at {}", at.join(", "));
    }
    let order = |k: usize| -> Vec<Vec<u8>> {
        // The addresses as the last octet's rank: 0 first VIP, 1 second.
        let vips = DAEMONS[k].3;
        (seq[k].iter())
            .map(|b| b.2.iter().map(|ip| u8::from(*ip == vips[1])).collect())
            .collect()
    };
    // keepalived's default answer to a lower-priority advert: one advert
    // at once ("forcing new election"), then its grid; none with
    // lower_prio_no_advert.
    let answers: Vec<usize> = (0..4)
        .map(|k| {
            let from = |a: &&(f64, Ipv4Addr)| a.1 == DAEMONS[k].1;
            let soon = |a: &&(f64, Ipv4Addr)| (injected[k]..injected[k] + 0.2).contains(&a.0);
            adverts.iter().filter(from).filter(soon).count()
        })
        .collect();
    assert_eq!(
        answers,
        [1, 1, 0, 0],
        "adverts within 200 ms of the lower one"
    );
    let three = vec![0, 1, 0, 1, 0, 1];
    let two = vec![0, 1, 0, 1];
    // Master: 3 rounds now and after 2 s; refresh at 4 s; the lower
    // priority advert at 6.5 s: 2 rounds now and after 1 s; refresh at 8 s.
    let want = [&three, &three, &two, &two, &two, &two].map(Clone::clone);
    assert_eq!(order(0), want, "keepalived's bursts");
    assert_eq!(
        order(1),
        order(0),
        "keepalived-lite's bursts against keepalived's"
    );
    // garp_lower_prio_repeat 1, garp_lower_prio_delay 0: one round, once.
    let want = [&three, &three, &two, &vec![0, 1], &two].map(Clone::clone);
    assert_eq!(order(2), want, "keepalived's bursts, lower_prio_no_advert");
    assert_eq!(
        order(3),
        order(2),
        "keepalived-lite's, lower_prio_no_advert"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
