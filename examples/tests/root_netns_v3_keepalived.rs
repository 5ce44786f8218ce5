//! keepalived-lite and keepalived 2.2.7 speaking VRRPv3 over IPv4 in a
//! namespace lab (needs root, iproute2 and the Debian `keepalived`): each
//! side in turn is master while the other stays backup, a graceful stop
//! hands over and a restart preempts back, a crash (SIGKILL) is taken over,
//! and neither log shows an error, a bogus packet or a checksum complaint.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod common;
mod lab_pair;

use std::time::Duration;

use keepalived_lite::netns::require_program;
use lab_pair::{assert_clean, log_text, wait_nth, Kind, Router, World};

const VIP: &str = "10.0.0.100";

/// A version 3 instance at `advert_int 0.5` (centiseconds on the wire); the
/// `authentication` block is ignored by both sides under version 3.
fn config(name: &str, priority: u8) -> String {
    format!(
        "global_defs {{\n  router_id {name}\n  vrrp_version 3\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority {priority}\n  advert_int 0.5\n  authentication {{\n    auth_type PASS\n    \
         auth_pass secret1\n  }}\n  virtual_ipaddress {{\n    {VIP}/24\n  }}\n}}\n"
    )
}

/// Starts `kind` on `node` at `priority`.
fn start(w: &mut World, node: &str, kind: Kind, priority: u8) -> Router {
    w.start(node, kind, &config(node, priority))
}

/// A crash of `r`; the VIP a dead master leaves behind is flushed as a
/// reboot would.
fn crash(w: &mut World, r: &Router) {
    w.crash(r);
    let vip = format!("{VIP}/32");
    let args = ["addr", "flush", "dev", "eth0", "to", &vip];
    w.lab.run(&r.node, "ip", &args).unwrap();
}

/// Waits until the VIP is on `node` and not on the other one.
fn vip_only_on(w: &World, node: &str) {
    w.addr_only_on(node, &format!("{VIP}/24"));
}

const MASTER: &str = "(VI_1) Entering MASTER STATE";
const BACKUP: &str = "(VI_1) Entering BACKUP STATE";

/// `first` on r1 at priority 150 is master and the other kind on r2 at 100
/// stays backup while several adverts cross; a graceful stop hands over to
/// r2; restarted, r1 preempts back; crashed, r2 takes over again.
fn handover_preempt_crash(first: Kind) {
    require_program("keepalived", &["--version"]);
    let mut w = World::new(2);
    // The master first: started together, the backup's shorter head start
    // would decide whenever the master's process is slow to start.
    let a = start(&mut w, "r1", first, 150);
    wait_nth(&a, MASTER, 1);
    let b = start(&mut w, "r2", first.other(), 100);
    wait_nth(&b, BACKUP, 1);
    vip_only_on(&w, "r1");
    // Adverts at 0.5 s: the backup hears several before we stop the master,
    // and the sent count in keepalived-lite's or keepalived's log shows
    // nothing made it take over meanwhile.
    wait_for_adverts(&w, "r2", 4);
    assert_eq!(log_text(&b.log).matches(MASTER).count(), 0);

    // Graceful: priority 0, the backup takes over at once.
    w.lab.stop(a.pid, Duration::from_secs(5));
    wait_nth(&b, MASTER, 1);
    vip_only_on(&w, "r2");

    // Preemption back by the higher priority.
    let a2 = start(&mut w, "r1", first, 150);
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

/// Waits until `node` has received `n` VRRPv3 adverts from r1 (seen with
/// a packet socket through `tcpdump -c`, which exits once it has them).
fn wait_for_adverts(w: &World, node: &str, n: u32) {
    let text = w.tcpdump(node, n, "ip proto 112 and src 10.0.0.1");
    let v3 = text.lines().filter(|l| l.contains("VRRPv3")).count();
    assert_eq!(v3, n as usize, "{text}");
}

#[test]
fn root_netns_v3_keepalived_master_lite_backup() {
    handover_preempt_crash(Kind::Keepalived);
}

#[test]
fn root_netns_v3_lite_master_keepalived_backup() {
    handover_preempt_crash(Kind::Lite);
}
