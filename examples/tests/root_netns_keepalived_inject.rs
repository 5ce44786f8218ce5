//! A real keepalived 2.2.7 backup accepts adverts built by `vrrp::wire`.
//!
//! Needs root, iproute2 and keepalived. In a namespace lab, keepalived runs
//! as a BACKUP (priority 100, master down interval 3.61 s) while a thread in
//! another namespace sends our priority-200 adverts every second through an
//! `IP_HDRINCL` raw socket. Accepted means: keepalived stays BACKUP for 6 s
//! (well past its master down interval) with no VIP installed and logs no
//! authentication or packet error. Then the same sender switches to a wrong
//! password: keepalived must log its authentication error and become
//! MASTER, which shows the log and the state really reflect our adverts.
#![allow(clippy::unwrap_used)] // Test code: a panic is the failure report.

mod common;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use keepalived_lite::netns::{require_program, require_root, wait_for_line, Lab};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use vrrp::auth::{AuthConfig, TxCounters};
use vrrp::wire::{self, AdvertRepr};

const KEEPALIVED: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const INJECTOR: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

fn config(auth_type: &str, pass: &str) -> String {
    format!(
        "global_defs {{\n  router_id kb\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority 100\n  advert_int 1\n  authentication {{\n    auth_type {auth_type}\n    \
         auth_pass {pass}\n  }}\n  virtual_ipaddress {{\n    {VIP}/24\n  }}\n}}\n"
    )
}

/// What the sender thread does.
const STOP: u8 = 0;
const RIGHT: u8 = 1;
const WRONG: u8 = 2;

/// A raw socket (IPPROTO_RAW, so IP_HDRINCL) opened in the injector's
/// namespace, multicasting out of its eth0.
fn raw_socket(lab: &Lab) -> Socket {
    lab.enter("inj", || -> std::io::Result<Socket> {
        let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(255)))?;
        sock.set_multicast_if_v4(&INJECTOR)?;
        Ok(sock)
    })
    .unwrap()
    .unwrap()
}

/// Sends an advert every second, with the password MODE says, until STOP.
/// Returns how many were sent with each password.
fn inject(sock: &Socket, right: &AuthConfig, wrong: &AuthConfig, mode: &AtomicU8) -> [u32; 2] {
    let dst = SockAddr::from(SocketAddrV4::new(wire::VRRP_MCAST_V4, 0));
    let vips = [VIP];
    let repr = AdvertRepr {
        src: INJECTOR,
        dst: wire::VRRP_MCAST_V4,
        ttl: wire::VRRP_TTL,
        vrid: 51,
        priority: 200,
        adver_int: 1,
        addresses: &vips,
    };
    let mut tx = TxCounters::new();
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let mut sent = [0; 2];
    loop {
        let (auth, slot) = match mode.load(Ordering::SeqCst) {
            STOP => return sent,
            RIGHT => (right, 0),
            _ => (wrong, 1),
        };
        let n = wire::encode(&repr, auth, &mut tx, &mut buf).unwrap();
        sock.send_to(&buf[..n], &dst).unwrap();
        sent[slot] += 1;
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// Stops the sender even if an assertion fails first.
struct StopOnDrop<'a>(&'a AtomicU8);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(STOP, Ordering::SeqCst);
    }
}

fn vip_installed(lab: &Lab) -> bool {
    let out = lab
        .run("kb", "ip", &["-4", "-o", "addr", "show", "dev", "eth0"])
        .unwrap();
    String::from_utf8_lossy(&out.stdout).contains(&format!("{VIP}/24"))
}

use common::KEEPALIVED_REJECTIONS as REJECTIONS;

fn run(auth_type: &str, error_line: &str) {
    require_root();
    require_program("keepalived", &["--version"]);
    let right = AuthConfig::from_keepalived(auth_type, "secret1").unwrap();
    let wrong = AuthConfig::from_keepalived(auth_type, "secret2").unwrap();

    let mut lab = Lab::new().unwrap();
    lab.add_node("kb", KEEPALIVED, 24).unwrap();
    lab.add_node("inj", INJECTOR, 24).unwrap();
    let dir = std::env::temp_dir().join(&lab.node("kb").ns);
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, config(auth_type, "secret1")).unwrap();
    let log = dir.join("keepalived.log");
    let sock = raw_socket(&lab);
    let mode = AtomicU8::new(RIGHT);

    let sent = std::thread::scope(|s| {
        let stop = StopOnDrop(&mode);
        let sender = s.spawn(|| inject(&sock, &right, &wrong, &mode));
        // Let the first advert go out before keepalived's timers start.
        std::thread::sleep(Duration::from_millis(300));
        lab.spawn_vrrp_daemon("kb", "keepalived", &conf, &dir, &log)
            .unwrap();

        let started = wait_for_line(&log, "Entering BACKUP STATE", Duration::from_secs(10));
        assert!(
            started.is_some(),
            "keepalived did not start:\n{}",
            text(&log)
        );
        // 6 s is well past the 3.61 s master down interval: only our
        // adverts keep it in BACKUP.
        std::thread::sleep(Duration::from_secs(6));
        let accepted = text(&log);
        assert!(
            !accepted.contains("MASTER"),
            "keepalived ignored our adverts:\n{accepted}"
        );
        for r in REJECTIONS {
            assert!(
                !accepted.contains(r),
                "keepalived rejected our adverts ({r}):\n{accepted}"
            );
        }
        assert!(!vip_installed(&lab), "VIP installed while we are master");

        // Control: the wrong password must be noticed.
        mode.store(WRONG, Ordering::SeqCst);
        let master = wait_for_line(&log, "Entering MASTER STATE", Duration::from_secs(15));
        assert!(
            master.is_some(),
            "keepalived never took over:\n{}",
            text(&log)
        );
        let rejected = text(&log);
        assert!(
            rejected.contains(error_line),
            "no `{error_line}` in:\n{rejected}"
        );
        // Shown with --nocapture: the whole exchange as keepalived saw it.
        eprintln!("{rejected}");
        drop(stop);
        sender.join().unwrap()
    });
    assert!(sent[0] >= 6 && sent[1] >= 1, "sent {sent:?}");
    drop(lab);
    std::fs::remove_dir_all(&dir).unwrap();
}

fn text(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

#[test]
fn root_netns_keepalived_accepts_our_pass_adverts() {
    run("PASS", "received an invalid passwd");
}

#[test]
fn root_netns_keepalived_accepts_our_ah_adverts() {
    run("AH", "IPSEC-AH : invalid IPSEC HMAC-MD5 value");
}
