//! Unicast source and TTL checks, keepalived-lite against keepalived 2.2.7
//! in the same layout (needs root, iproute2 and the Debian `keepalived`).
//!
//! r1 (10.0.0.1) runs the instance under test: `state MASTER`, priority
//! 150, one unicast peer 10.0.0.2. Adverts of priority 200 for the same
//! VRID and virtual address, built with `vrrp::wire`, go to r1 from a raw
//! socket in another namespace, once a second:
//! - with `vrrp_check_unicast_src`, from the rogue 10.0.0.3 (not a peer):
//!   r1 logs the drop and stays MASTER with the VIP;
//! - with `min_ttl 200` on the peer, from the peer at TTL 64: r1 logs the
//!   drop and stays MASTER with the VIP.
//!
//! Each case ends with a control: the same adverts from the peer at TTL
//! 255 take mastership from r1, so the dropped adverts were valid but for
//! their source or TTL.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, Lab};
use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use vrrp::auth::{AuthConfig, TxCounters};
use vrrp::wire::{self, AdvertRepr};

const R1: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const ROGUE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
/// Deadline for anything to happen on a loaded machine.
const WAIT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug)]
enum Kind {
    Lite,
    Keepalived,
}

impl Kind {
    /// The log fragment of a drop for `why` (keepalived's wording, or
    /// keepalived-lite's drop reason).
    fn drop_line(self, why: Why) -> &'static str {
        match (self, why) {
            (Kind::Keepalived, Why::NotPeer) => "10.0.0.3 not a unicast peer",
            (Kind::Keepalived, Why::Ttl) => "TTL/HL 64 not in range 200 - 255",
            (Kind::Lite, Why::NotPeer) => "dropped advert: not-unicast-peer",
            (Kind::Lite, Why::Ttl) => "dropped advert: unicast-ttl",
        }
    }
}

#[derive(Clone, Copy)]
enum Why {
    NotPeer,
    Ttl,
}

fn config(global: &str, peer_options: &str) -> String {
    format!(
        "global_defs {{\n  router_id r1\n{global}}}\n\
         vrrp_instance VI_1 {{\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n  \
         priority 150\n  advert_int 1\n  unicast_src_ip {R1}\n  unicast_peer {{\n    \
         {PEER}{peer_options}\n  }}\n  virtual_ipaddress {{\n    {VIP}/24\n  }}\n}}\n"
    )
}

/// The lab (r1, peer, rogue) and r1's instance.
struct World {
    lab: Lab,
    dir: PathBuf,
    log: PathBuf,
}

impl World {
    fn start(kind: Kind, conf: &str) -> World {
        require_root();
        let mut lab = Lab::new().unwrap();
        for (name, addr) in [("r1", R1), ("peer", PEER), ("rogue", ROGUE)] {
            lab.add_node(name, addr, 24).unwrap();
        }
        let dir = std::env::temp_dir().join(&lab.node("r1").ns);
        std::fs::create_dir_all(&dir).unwrap();
        let file = |f: &str| dir.join(f).to_str().unwrap().to_owned();
        std::fs::write(file("keepalived.conf"), conf).unwrap();
        let log = dir.join(format!("{kind:?}.log"));
        let (conf, pid, vrrp_pid) = (file("keepalived.conf"), file("k.pid"), file("v.pid"));
        match kind {
            Kind::Lite => {
                let args = ["-P", "-n", "-l", "-f", &conf, "-p", &pid, "-r", &vrrp_pid];
                let bin = env!("CARGO_BIN_EXE_keepalived-lite");
                lab.spawn("r1", bin, &args, &log).unwrap();
            }
            Kind::Keepalived => {
                require_program("keepalived", &["--version"]);
                let args = ["-P", "-n", "-l", "-f", &conf, "-p", &pid, "-r", &vrrp_pid];
                lab.spawn("r1", "keepalived", &args, &log).unwrap();
            }
        }
        World { lab, dir, log }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn has_vip(&self) -> bool {
        let args = ["-4", "-o", "addr", "show", "dev", "eth0"];
        let out = self.lab.run("r1", "ip", &args).unwrap();
        String::from_utf8_lossy(&out.stdout).contains(&format!("{VIP}/24"))
    }

    /// Polls until r1 is MASTER with the VIP.
    fn wait_master(&self) {
        let ok = poll(|| self.log().contains("Entering MASTER STATE") && self.has_vip());
        assert!(ok, "r1 never became master:\n{}", self.log());
    }

    /// Sends adverts from `node` (address `src`) at `ttl` once a second
    /// until `done` holds; false if it never did within [`WAIT`].
    fn send_until(&self, node: &str, src: Ipv4Addr, ttl: u8, done: impl Fn() -> bool) -> bool {
        let sock = self
            .lab
            .enter(node, || {
                Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(255)))
            })
            .unwrap()
            .unwrap();
        let advert = advert(src, ttl);
        let dst = SockAddr::from(SocketAddrV4::new(R1, 0));
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            sock.send_to(&advert, &dst).unwrap();
            let next = Instant::now() + Duration::from_secs(1);
            while Instant::now() < next {
                if done() {
                    return true;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        false
    }

    /// The text of the log after r1 became master.
    fn since_master(&self) -> String {
        let log = self.log();
        let at = log.find("Entering MASTER STATE").unwrap_or(0);
        log[at..].to_owned()
    }
}

impl Drop for World {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A priority-200 advert for r1's VRID and VIP, unicast from `src` to r1.
fn advert(src: Ipv4Addr, ttl: u8) -> Vec<u8> {
    let vips = [VIP];
    let repr = AdvertRepr {
        src,
        dst: R1,
        ttl,
        vrid: 51,
        priority: 200,
        adver_int: 1,
        addresses: &vips,
    };
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let n = wire::encode(&repr, &AuthConfig::None, &mut TxCounters::new(), &mut buf).unwrap();
    buf[..n].to_vec()
}

fn poll(cond: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

/// r1 drops the adverts from `node`/`src` at `ttl` for `why` and stays
/// MASTER; then the peer's adverts at TTL 255 take over.
fn check(kind: Kind, conf: &str, (node, src, ttl): (&str, Ipv4Addr, u8), why: Why) {
    let world = World::start(kind, conf);
    world.wait_master();
    let seen = |line: &str| world.since_master().contains(line);
    let backup = "Entering BACKUP STATE";
    let dropped = world.send_until(node, src, ttl, || seen(kind.drop_line(why)) || seen(backup));
    let after = world.since_master();
    assert!(!after.contains(backup), "the adverts took over:\n{after}");
    assert!(dropped, "no `{}` in:\n{after}", kind.drop_line(why));
    assert!(world.has_vip(), "VIP gone:\n{after}");

    // Control: the listed peer at TTL 255 wins.
    let yielded = world.send_until("peer", PEER, 255, || seen(backup) && !world.has_vip());
    assert!(yielded, "the peer's adverts never won:\n{}", world.log());
}

fn rogue(kind: Kind) {
    let conf = config("  vrrp_check_unicast_src\n", "");
    check(kind, &conf, ("rogue", ROGUE, 255), Why::NotPeer);
}

fn ttl(kind: Kind) {
    let conf = config("", " min_ttl 200 max_ttl 255");
    check(kind, &conf, ("peer", PEER, 64), Why::Ttl);
}

#[test]
fn root_netns_unicast_src_lite_ignores_a_rogue_sender() {
    rogue(Kind::Lite);
}

#[test]
fn root_netns_unicast_src_keepalived_ignores_a_rogue_sender() {
    rogue(Kind::Keepalived);
}

#[test]
fn root_netns_unicast_ttl_lite_drops_a_peer_out_of_range() {
    ttl(Kind::Lite);
}

#[test]
fn root_netns_unicast_ttl_keepalived_drops_a_peer_out_of_range() {
    ttl(Kind::Keepalived);
}
