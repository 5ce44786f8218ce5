//! keepalived-lite and keepalived 2.2.7 speaking VRRPv3 over IPv6 in a
//! namespace lab (needs root, iproute2, tcpdump and the Debian
//! `keepalived`): each side in turn is master while the other stays
//! backup, a graceful stop hands over and a restart preempts back, a crash
//! (SIGKILL) is taken over, and neither log shows an error, a bogus packet
//! or a checksum complaint. Adverts leave from each node's link-local
//! address to ff02::12, or in the unicast variant from its global address
//! to the other's; the VIP is a global /64 (nodad). A dual-stack variant
//! runs an IPv4 instance (VRRPv2) with the same VRID next to the IPv6 one,
//! as keepalived allows.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod common;
mod lab_pair;

use std::path::PathBuf;
use std::time::Duration;

use keepalived_lite::netns::{require_program, wait_for_line, Lab};
use lab_pair::{assert_clean, log_text, wait_lines, wait_nth, Kind, Router, World, WAIT};

const VIP: &str = "2001:db8::100";
const VIP_PREFIX: u8 = 64;
/// The IPv4 instance's VIP in the dual-stack variant.
const VIP4: &str = "10.0.0.100";

/// Node `i`'s global address (1-based), for the unicast variant.
fn global(i: usize) -> String {
    format!("2001:db8:1::{i}")
}

/// How the routers of a [`World`] talk.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// IPv6 multicast to ff02::12.
    Multicast,
    /// IPv6 unicast between the nodes' global addresses.
    Unicast,
    /// The IPv6 instance plus an IPv4 one (VRRPv2) with the same VRID on
    /// the same interface, as dual-stack keepalived configurations have.
    DualStack,
}

/// An IPv6 instance at `advert_int 0.5`: version 3 without saying so
/// (keepalived's default for IPv6, whatever `vrrp_version` says), the
/// `authentication` block ignored by both sides. In unicast mode, node
/// `me` sends from its global address to the other node's.
fn config(name: &str, priority: u8, mode: Mode, me: usize) -> String {
    let unicast = if mode == Mode::Unicast {
        let (src, peer) = (global(me), global(3 - me));
        format!("  unicast_src_ip {src}\n  unicast_peer {{\n    {peer}\n  }}\n")
    } else {
        String::new()
    };
    let v4 = if mode == Mode::DualStack {
        format!(
            "vrrp_instance VI_4 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
             priority {priority}\n  advert_int 1\n  virtual_ipaddress {{\n    {VIP4}/24\n  }}\n}}\n"
        )
    } else {
        String::new()
    };
    v4 + &format!(
        "global_defs {{\n  router_id {name}\n  vrrp_version 2\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority {priority}\n  advert_int 0.5\n  authentication {{\n    auth_type PASS\n    \
         auth_pass secret1\n  }}\n{unicast}  virtual_ipaddress {{\n    {VIP}/{VIP_PREFIX}\n  }}\n}}\n"
    )
}

/// Two routers, each with a usable link-local and a global address.
fn world() -> World {
    require_program("keepalived", &["--version"]);
    let w = World::new(2);
    for (i, node) in w.nodes.iter().enumerate() {
        wait_link_local(&w.lab, node);
        let global = format!("{}/64", global(i + 1));
        let args = ["-6", "addr", "add", &global, "dev", "eth0", "nodad"];
        assert!(w.lab.run(node, "ip", &args).unwrap().status.success());
    }
    w
}

/// Starts `kind` on `node` at `priority`, talking as `mode` says.
fn start(w: &mut World, mode: Mode, node: &str, kind: Kind, priority: u8) -> Router {
    let me = node.trim_start_matches('r').parse().unwrap();
    w.start(node, kind, &config(node, priority, mode, me))
}

/// A crash of `r`; the VIP a dead master leaves behind is removed as a
/// reboot would.
fn crash(w: &mut World, r: &Router) {
    w.crash(r);
    let vip = format!("{VIP}/{VIP_PREFIX}");
    let args = ["-6", "addr", "del", &vip, "dev", "eth0"];
    // Absent already if the master had not installed it yet.
    let _ = w.lab.run(&r.node, "ip", &args);
}

/// Records on `node` the Neighbour Advertisements that arrive (tcpdump
/// in the background, checksums verified by `-v`).
fn capture_neighbour_adverts(w: &mut World, node: &str) -> PathBuf {
    let out = w.dir.join(format!("{node}-na.txt"));
    let filter = "icmp6 and ip6[40] == 136 and ip6 dst ff02::1";
    let args = ["-i", "eth0", "-n", "-v", "-l", "-c", "5", filter];
    w.lab.spawn(node, "tcpdump", &args, &out).unwrap();
    // tcpdump says so on stderr once it captures.
    assert!(wait_for_line(&out, "listening on", WAIT).is_some());
    out
}

/// Waits until the IPv6 VIP is on `node` and not on the other one.
fn vip_only_on(w: &World, node: &str) {
    w.addr_only_on(node, &format!("{VIP}/{VIP_PREFIX}"));
}

/// Waits until the IPv4 VIP is on `node` and not on the other one.
fn vip4_only_on(w: &World, node: &str) {
    w.addr_only_on(node, &format!("{VIP4}/24"));
}

const MASTER: &str = "(VI_1) Entering MASTER STATE";
const BACKUP: &str = "(VI_1) Entering BACKUP STATE";
const MASTER4: &str = "(VI_4) Entering MASTER STATE";
const BACKUP4: &str = "(VI_4) Entering BACKUP STATE";

/// `first` on r1 at priority 150 is master and the other kind on r2 at 100
/// stays backup while several adverts cross; a graceful stop hands over to
/// r2; restarted, r1 preempts back; crashed, r2 takes over again.
fn handover_preempt_crash(first: Kind, mode: Mode) {
    let mut w = world();
    let na = capture_neighbour_adverts(&mut w, "r2");
    // The master first: started together, the backup's shorter head start
    // would decide whenever the master's process is slow to start.
    let a = start(&mut w, mode, "r1", first, 150);
    wait_nth(&a, MASTER, 1);
    // Its first burst: garp_master_repeat (5) unsolicited NAs for the VIP,
    // with a valid checksum, Override set and its MAC as target address.
    let text = wait_lines(&na, &format!("tgt is {VIP}"), 5);
    assert_eq!(text.matches("[icmp6 sum ok]").count(), 5, "{text}");
    assert_eq!(text.matches("Flags [override]").count(), 5, "{text}");
    let b = start(&mut w, mode, "r2", first.other(), 100);
    wait_nth(&b, BACKUP, 1);
    vip_only_on(&w, "r1");
    // Adverts at 0.5 s: the backup hears several before we stop the master,
    // and the sent count in keepalived-lite's or keepalived's log shows
    // nothing made it take over meanwhile.
    wait_for_adverts(&w, mode, "r2", 4);
    assert_eq!(log_text(&b.log).matches(MASTER).count(), 0);

    // Graceful: priority 0, the backup takes over at once.
    w.lab.stop(a.pid, Duration::from_secs(5));
    wait_nth(&b, MASTER, 1);
    vip_only_on(&w, "r2");

    // Preemption back by the higher priority.
    let a2 = start(&mut w, mode, "r1", first, 150);
    wait_nth(&a2, MASTER, 2);
    wait_nth(&b, BACKUP, 2);
    vip_only_on(&w, "r1");

    // Crash: no priority-0 advert; the backup waits Master_Down_Interval.
    crash(&mut w, &a2);
    wait_nth(&b, MASTER, 2);
    vip_only_on(&w, "r2");
    for r in [&a2, &b] {
        assert_clean(r);
    }
}

/// Waits until the node's link-local address has passed duplicate
/// address detection: adverts cannot leave from a tentative address.
fn wait_link_local(lab: &Lab, node: &str) {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let args = ["-6", "-o", "addr", "show", "dev", "eth0", "scope", "link"];
        let out = lab.run(node, "ip", &args).unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if text.contains("fe80::") && !text.contains("tentative") {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{node}: no usable link-local address: {text}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits until `node` has received `n` VRRPv3 adverts over IPv6 to
/// ff02::12, or unicast to r2 (seen with a packet socket through `tcpdump
/// -c`, which exits once it has them); only the master (r1) sends.
fn wait_for_adverts(w: &World, mode: Mode, node: &str, n: u32) {
    let to = if mode == Mode::Unicast {
        global(2)
    } else {
        "ff02::12".into()
    };
    let text = w.tcpdump(node, n, &format!("ip6 proto 112 and dst {to}"));
    let v3 = text
        .lines()
        .filter(|l| l.contains("VRRPv3") && l.contains("prio 150"))
        .count();
    assert_eq!(v3, n as usize, "{text}");
}

#[test]
fn root_netns_v6_keepalived_master_lite_backup() {
    handover_preempt_crash(Kind::Keepalived, Mode::Multicast);
}

#[test]
fn root_netns_v6_lite_master_keepalived_backup() {
    handover_preempt_crash(Kind::Lite, Mode::Multicast);
}

#[test]
fn root_netns_v6_unicast_keepalived_master_lite_backup() {
    handover_preempt_crash(Kind::Keepalived, Mode::Unicast);
}

#[test]
fn root_netns_v6_unicast_lite_master_keepalived_backup() {
    handover_preempt_crash(Kind::Lite, Mode::Unicast);
}

/// An IPv4 and an IPv6 instance sharing VRID 51 on eth0 on both sides:
/// `first` on r1 is master of both, the other kind on r2 backup of both;
/// a graceful stop hands both over.
fn dual_stack(first: Kind) {
    let (mut w, mode) = (world(), Mode::DualStack);
    let a = start(&mut w, mode, "r1", first, 150);
    wait_nth(&a, MASTER, 1);
    wait_nth(&a, MASTER4, 1);
    let b = start(&mut w, mode, "r2", first.other(), 100);
    wait_nth(&b, BACKUP, 1);
    wait_nth(&b, BACKUP4, 1);
    vip_only_on(&w, "r1");
    vip4_only_on(&w, "r1");
    wait_for_adverts(&w, mode, "r2", 4);
    let text = log_text(&b.log);
    assert_eq!(
        (text.matches(MASTER).count(), text.matches(MASTER4).count()),
        (0, 0)
    );
    w.lab.stop(a.pid, Duration::from_secs(5));
    wait_nth(&b, MASTER, 1);
    wait_nth(&b, MASTER4, 1);
    vip_only_on(&w, "r2");
    vip4_only_on(&w, "r2");
    for r in [&a, &b] {
        assert_clean(r);
    }
}

#[test]
fn root_netns_v6_dual_stack_keepalived_master_lite_backup() {
    dual_stack(Kind::Keepalived);
}

#[test]
fn root_netns_v6_dual_stack_lite_master_keepalived_backup() {
    dual_stack(Kind::Lite);
}
