//! keepalived-lite keeps serving its commands under an advert flood (issue
//! 15): while a neighbour sends invalid adverts as fast as it can, a
//! tracked interface going down and up is applied, and SIGTERM still sends
//! the priority-0 advert (seen by an observer's capture) and removes the
//! VIP. Needs root, iproute2 and tcpdump. Outcomes only, never durations.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, Lab};
use vrrp::auth::{AuthConfig, TxCounters};
use vrrp::linux::{IpProto, Netlink, RawSocket, RawSocketConfig, VRRP_MULTICAST};
use vrrp::wire::{self, AdvertRepr};

const VIP: &str = "10.0.0.100";
/// Generous: CI machines are small and loaded.
const WAIT: Duration = Duration::from_secs(30);
/// Invalid adverts sent before the commands are tried.
const FLOOD_BEFORE: u64 = 200_000;
/// Sender threads: one alone may not outpace the router's reads.
const FLOODERS: usize = 3;

const CONFIG: &str = "global_defs {\n  router_id r1\n}\n\
vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
priority 150\n  advert_int 1\n  authentication {\n    auth_type PASS\n    auth_pass secret1\n  }\n  \
track_interface {\n    dum0\n  }\n  virtual_ipaddress {\n    10.0.0.100/24\n  }\n}\n";

/// An advert for VRID 51 at priority 200 whose checksum is wrong: every
/// one reaches the router's socket and is dropped there.
fn invalid_advert() -> Vec<u8> {
    let vips = [Ipv4Addr::new(10, 0, 0, 100)];
    let repr = AdvertRepr {
        src: Ipv4Addr::new(10, 0, 0, 2),
        dst: VRRP_MULTICAST,
        ttl: 255,
        vrid: 51,
        priority: 200,
        adver_int: 1,
        addresses: &vips,
    };
    let auth = AuthConfig::from_keepalived("PASS", "secret1").unwrap();
    let mut buf = vec![0u8; wire::MAX_DATAGRAM_LEN];
    let n = wire::encode(&repr, &auth, &mut TxCounters::new(), &mut buf).unwrap();
    buf.truncate(n);
    buf[26] ^= 0xff; // the VRRP checksum
    buf
}

/// Sends invalid adverts from `node` without pacing until `stop` is set.
fn start_flood(
    lab: &Lab,
    node: &str,
    sent: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<std::io::Result<()>> {
    let advert = invalid_advert();
    lab.netns(node)
        .spawn_thread(move || {
            let index = Netlink::open().unwrap().link("eth0").unwrap().index;
            let sock = RawSocket::open(RawSocketConfig {
                ifname: "eth0".into(),
                ifindex: index,
                proto: IpProto::Vrrp,
                multicast: false,
            })
            .unwrap();
            while !stop.load(Ordering::Relaxed) {
                if sock.send_to(&advert, VRRP_MULTICAST).is_ok() {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        })
        .unwrap()
}

fn log_text(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// Polls until `ok` holds, or fails with `what` and the log.
fn wait_until(what: &str, log: &Path, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + WAIT;
    while !ok() {
        assert!(
            Instant::now() < deadline,
            "{what} never happened; log:\n{}",
            log_text(log)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn count(log: &Path, needle: &str) -> usize {
    log_text(log).lines().filter(|l| l.contains(needle)).count()
}

/// Runs `ip args` in r1.
fn ip(lab: &Lab, args: &[&str]) {
    let out = lab.run("r1", "ip", args).unwrap();
    assert!(out.status.success(), "ip {args:?}: {out:?}");
}

fn has_vip(lab: &Lab) -> bool {
    let out = lab
        .run("r1", "ip", &["-4", "-o", "addr", "show", "dev", "eth0"])
        .unwrap();
    String::from_utf8_lossy(&out.stdout).contains(&format!("{VIP}/24"))
}

#[test]
fn root_netns_flood_does_not_lock_out_tracking_or_stop() {
    require_root();
    require_program("tcpdump", &["--version"]);
    let mut lab = Lab::new().unwrap();
    for (i, name) in ["r1", "fl", "obs"].iter().enumerate() {
        lab.add_node(name, Ipv4Addr::new(10, 0, 0, 1 + i as u8), 24)
            .unwrap();
    }
    let dir = std::env::temp_dir().join(&lab.node("r1").ns);
    std::fs::create_dir_all(&dir).unwrap();
    // No dummy driver here: a veth pair inside r1 is the tracked link.
    ip(
        &lab,
        &[
            "link", "add", "dum0", "type", "veth", "peer", "name", "dum1",
        ],
    );
    ip(&lab, &["link", "set", "dum1", "up"]);
    ip(&lab, &["link", "set", "dum0", "up"]);

    // The observer prints r1's adverts with their priority.
    let dump_log = dir.join("tcpdump.log");
    let filter = "ip proto 112 and src host 10.0.0.1";
    let dump_args = ["-l", "-n", "-v", "-i", "eth0", filter];
    let dump = lab.spawn("obs", "tcpdump", &dump_args, &dump_log).unwrap();

    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, CONFIG).unwrap();
    let log = dir.join("lite.log");
    let lite = env!("CARGO_BIN_EXE_keepalived-lite");
    let pid = lab
        .spawn_vrrp_daemon("r1", lite, &conf, &dir, &log)
        .unwrap();
    let master = "(VI_1) Entering MASTER STATE";
    wait_until("MASTER", &log, || count(&log, master) == 1 && has_vip(&lab));
    wait_until("an advert at priority 150", &dump_log, || {
        count(&dump_log, "prio 150") > 0
    });

    let sent = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let flood: Vec<_> = (0..FLOODERS)
        .map(|_| start_flood(&lab, "fl", sent.clone(), stop.clone()))
        .collect();
    let t0 = Instant::now();
    wait_until("the flood", &log, || {
        sent.load(Ordering::Relaxed) >= FLOOD_BEFORE
    });
    // For the reader of the output only: rates are not asserted.
    let rate = sent.load(Ordering::Relaxed) as f64 / t0.elapsed().as_secs_f64();
    eprintln!("flood: {rate:.0} adverts/s");

    // A tracked interface change is applied under the flood, both ways.
    ip(&lab, &["link", "set", "dum0", "down"]);
    wait_until("FAULT", &log, || {
        count(&log, "(VI_1) Entering FAULT STATE") == 1 && !has_vip(&lab)
    });
    ip(&lab, &["link", "set", "dum0", "up"]);
    wait_until("MASTER again", &log, || {
        count(&log, master) == 2 && has_vip(&lab)
    });

    // SIGTERM under the flood: priority 0 on the wire, the VIP removed.
    let before_stop = sent.load(Ordering::Relaxed);
    lab.signal(pid, "TERM").unwrap();
    wait_until("the stop", &log, || count(&log, "Stopped") > 0);
    let during_stop = sent.load(Ordering::Relaxed) - before_stop;
    stop.store(true, Ordering::Relaxed);
    for f in flood {
        f.join().unwrap().unwrap();
    }
    assert!(!has_vip(&lab), "VIP left behind; log:\n{}", log_text(&log));
    assert_eq!(
        count(&log, "(VI_1) sent 0 priority"),
        1,
        "{}",
        log_text(&log)
    );
    wait_until("priority 0 on the wire", &dump_log, || {
        count(&dump_log, "prio 0,") > 0
    });
    assert!(during_stop > 0, "the flood had ended before the stop");
    lab.stop(dump, Duration::from_secs(5));
    lab.stop(pid, Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(&dir);
}
