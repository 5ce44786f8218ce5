//! A sans-IO [`VirtualRouter`] with an IPv6 side, driven over a real
//! [`RawSocket6`], against keepalived 2.2.7 over IPv6 in the peer namespace
//! (needs root, `ip` and the Debian `keepalived`): keepalived stays backup
//! under our higher priority, takes over on our priority-0 advert, and our
//! lower-priority router then follows it as backup; keepalived logs no
//! error, bogus packet or checksum complaint. (The driver's IPv6 path is
//! tested in `root_netns_driver_v6.rs`, keepalived-lite's against
//! keepalived in examples/tests/root_netns_v6_keepalived.rs.)
#![cfg(feature = "linux")]
// Tests stop on the first unexpected value; `expect` names what was expected.
#![allow(clippy::unwrap_used)]

mod netns_lab;

use std::io::ErrorKind;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use netns_lab::{ip, require_program, Netns, Pair};
use vrrp::config::{Ipv6Config, Version};
use vrrp::linux::{Netlink, RawSocket6, RawSocket6Config};
use vrrp::{Config, State, VirtualRouter};

const OURS: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xa);
const THEIRS: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0xb);
const VIP: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100);
/// Safety limit for a state to be reached (Master_Down_Interval ~1.8 s).
const WAIT: Duration = Duration::from_secs(20);

/// keepalived in a namespace; both of its processes are killed on drop.
struct Keepalived {
    parent: Child,
    vrrp_pid: PathBuf,
    log: PathBuf,
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(&self.vrrp_pid) {
            let _ = std::process::Command::new("kill")
                .args(["-KILL", pid.trim()])
                .status();
        }
        let _ = self.parent.kill();
        let _ = self.parent.wait();
    }
}

fn start_keepalived(ns: &Netns, dir: &Path) -> Keepalived {
    let conf = dir.join("keepalived.conf");
    std::fs::write(
        &conf,
        format!(
            "global_defs {{\n  router_id b\n}}\nvrrp_instance VI_6 {{\n  state BACKUP\n  \
             interface eth0\n  virtual_router_id 51\n  priority 100\n  advert_int 0.5\n  \
             virtual_ipaddress {{\n    {VIP}\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let log = dir.join("keepalived.log");
    let out = std::fs::File::create(&log).unwrap();
    let (pid, vrrp_pid) = (dir.join("k.pid"), dir.join("v.pid"));
    let path = |p: &Path| p.to_str().unwrap().to_owned();
    let parent = ns
        .command("keepalived")
        .args(["-P", "-n", "-l", "-f", &path(&conf), "-p", &path(&pid)])
        .args(["-r", &path(&vrrp_pid)])
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    Keepalived {
        parent,
        vrrp_pid,
        log,
    }
}

fn link_local(ns: &Netns, addr: Ipv6Addr) {
    ip(ns, &["-6", "addr", "flush", "dev", "eth0", "scope", "link"]);
    let a = format!("{addr}/64");
    ip(ns, &["-6", "addr", "add", &a, "dev", "eth0", "nodad"]);
}

fn config(priority: u8) -> Config {
    let mut c = Config::new("VI_6", 51, priority, Ipv4Addr::UNSPECIFIED);
    c.version = Version::V3;
    c.advert_interval_centis = 50;
    let mut v6 = Ipv6Config::new(OURS);
    v6.virtual_addresses = vec![VIP];
    c.ipv6 = Some(v6);
    c
}

/// Our router on its socket: the embedder's loop of the sans-IO contract.
struct Ours {
    router: VirtualRouter,
    sock: RawSocket6,
}

impl Ours {
    /// Runs the loop until `done` holds, for at most [`WAIT`].
    fn run_until(&mut self, what: &str, log: &Path, mut done: impl FnMut(&VirtualRouter) -> bool) {
        let deadline = Instant::now() + WAIT;
        let mut buf = [0u8; 1500];
        while !done(&self.router) {
            assert!(
                Instant::now() < deadline,
                "gave up waiting for {what}; keepalived:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
            self.step(&mut buf);
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn step(&mut self, buf: &mut [u8]) {
        let now = Instant::now();
        loop {
            match self.sock.recv(buf) {
                Ok((n, meta)) => self.router.handle_datagram_v6(now, &meta, &buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("recv: {e}"),
            }
        }
        if self.router.poll_timeout().is_some_and(|t| t <= now) {
            self.router.handle_timeout(now);
        }
        self.flush(now);
    }

    fn flush(&mut self, now: Instant) {
        let mut out = [0u8; 1500];
        while let Some(t) = self.router.poll_transmit(now, &mut out) {
            let IpAddr::V6(dst) = t.destination else {
                panic!("an IPv4 destination from an IPv6 router: {t:?}")
            };
            self.sock.send_to(&out[..t.len], dst).unwrap();
        }
        while self.router.poll_event().is_some() {}
    }
}

fn log_text(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

#[test]
fn root_netns_v6_router_and_keepalived_hand_over_both_ways() {
    require_program("keepalived", &["--version"]);
    let lab = Pair::new();
    link_local(&lab.a, OURS);
    link_local(&lab.b, THEIRS);
    let dir = std::env::temp_dir().join(lab.b.name());
    std::fs::create_dir_all(&dir).unwrap();
    let ifindex = lab
        .a
        .enter(|| Netlink::open().unwrap().link("eth0").unwrap().index)
        .unwrap();
    let sock = lab
        .a
        .enter(|| {
            RawSocket6::open(RawSocket6Config {
                ifname: "eth0".into(),
                ifindex,
                multicast: true,
            })
            .unwrap()
        })
        .unwrap();
    let k = start_keepalived(&lab.b, &dir);
    let log = k.log.clone();

    // Ours at 150 is master; keepalived at 100 stays backup and hears it.
    let mut ours = Ours {
        router: VirtualRouter::new(config(150)).unwrap(),
        sock,
    };
    ours.router.handle_startup(Instant::now());
    ours.run_until("our router master", &log, |r| r.state() == State::Master);
    ours.run_until("keepalived backup and 6 adverts sent", &log, |r| {
        log_text(&log).contains("(VI_6) Entering BACKUP STATE") && r.counters().adverts_sent >= 6
    });
    assert!(
        !log_text(&log).contains("Entering MASTER STATE"),
        "{}",
        log_text(&log)
    );

    // Our priority-0 advert: keepalived takes over.
    let now = Instant::now();
    ours.router.handle_shutdown(now);
    ours.flush(now);
    let deadline = Instant::now() + WAIT;
    while !log_text(&log).contains("(VI_6) Entering MASTER STATE") {
        assert!(Instant::now() < deadline, "{}", log_text(&log));
        std::thread::sleep(Duration::from_millis(20));
    }

    // Ours again at 50: a backup following keepalived's adverts.
    let sock = ours.sock;
    let mut ours = Ours {
        router: VirtualRouter::new(config(50)).unwrap(),
        sock,
    };
    ours.router.handle_startup(Instant::now());
    ours.run_until("keepalived's adverts at our backup", &log, |r| {
        r.counters().adverts_received >= 4
    });
    assert_eq!(ours.router.state(), State::Backup);
    assert_eq!(ours.router.master(), Some((IpAddr::V6(THEIRS), 100)));
    assert_eq!(ours.router.counters().dropped.total(), 0);
    for l in log_text(&log).lines() {
        let lower = l.to_lowercase();
        assert!(
            !["error", "bogus", "checksum", "invalid"]
                .iter()
                .any(|w| lower.contains(w)),
            "keepalived: {l}"
        );
    }
}
