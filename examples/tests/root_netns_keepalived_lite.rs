//! keepalived-lite in VRRP mode, end to end, in a namespace lab (needs root,
//! iproute2 and, for the mixed tests, the Debian `keepalived` 2.2.7):
//! routers among themselves and mixed with real keepalived in both roles,
//! without authentication, with PASS and with AH. Each test checks who is
//! master from the logs and that the virtual address is on exactly the
//! routers it should be.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod common;
mod lab_pair;

use std::time::Duration;

use keepalived_lite::netns::{require_program, wait_for_line};
use lab_pair::{assert_no_rejection, log_text, wait_line, wait_lines, Kind, Router, World, WAIT};

const VIP: &str = "10.0.0.100";

#[derive(Clone, Copy)]
enum Auth {
    None,
    Pass,
    Ah,
}

fn config(name: &str, priority: u8, auth: Auth, extra: &str) -> String {
    let auth = match auth {
        Auth::None => String::new(),
        Auth::Pass => "  authentication {\n    auth_type PASS\n    auth_pass secret1\n  }\n".into(),
        Auth::Ah => "  authentication {\n    auth_type AH\n    auth_pass secret1\n  }\n".into(),
    };
    format!(
        "global_defs {{\n  router_id {name}\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority {priority}\n  advert_int 1\n{auth}  virtual_ipaddress {{\n    {VIP}/24\n  }}\n{extra}}}\n"
    )
}

/// The VIP as `ip -o addr` shows it.
const VIP24: &str = "10.0.0.100/24";

/// With r1 (`a`) master: the VIP is only on r1 and r2 (`b`) stays backup
/// for `settle`; once r1 stops, r2 takes over with the VIP.
fn backup_holds_then_takes_over(w: &mut World, a: &Router, b: &Router, settle: Duration) {
    w.addr_only_on("r1", VIP24);
    std::thread::sleep(settle);
    assert!(
        !log_text(&b.log).contains("Entering MASTER STATE"),
        "{}",
        log_text(&b.log)
    );
    w.lab.stop(a.pid, Duration::from_secs(5));
    wait_line(b, "(VI_1) Entering MASTER STATE");
    w.addr_only_on("r2", VIP24);
}

#[test]
fn root_netns_lite_pair_elects_and_hands_over_on_sigterm() {
    let mut w = World::new(2);
    // The master first (see `mixed_with`).
    let a = w.start("r1", Kind::Lite, &config("r1", 150, Auth::None, ""));
    wait_line(&a, "(VI_1) Entering MASTER STATE");
    let b = w.start("r2", Kind::Lite, &config("r2", 100, Auth::None, ""));
    wait_line(&b, "(VI_1) Entering BACKUP STATE");
    w.addr_only_on("r1", VIP24);

    w.lab.stop(a.pid, Duration::from_secs(5));
    wait_line(&a, "Stopped");
    // keepalived says "(VI_1) sent 0 priority" only with -D.
    assert!(!log_text(&a.log).contains("sent 0 priority"));
    wait_line(&b, "(VI_1) Entering MASTER STATE");
    w.addr_only_on("r2", VIP24);
}

#[test]
fn root_netns_lite_three_routers_crash_and_preempt_back() {
    let mut w = World::new(3);
    // The master first (see `mixed_with`).
    let a = w.start("r1", Kind::Lite, &config("r1", 150, Auth::Pass, ""));
    wait_line(&a, "(VI_1) Entering MASTER STATE");
    let c = w.start("r3", Kind::Lite, &config("r3", 100, Auth::Pass, ""));
    let b = w.start("r2", Kind::Lite, &config("r2", 120, Auth::Pass, ""));
    w.addr_only_on("r1", VIP24);

    // A crash: no priority-0 advert, the VIP stays behind on the dead router.
    w.lab.signal(a.pid, "KILL").unwrap();
    wait_line(&b, "(VI_1) Entering MASTER STATE");
    w.addr_only_on_among("r2", &["r2", "r3"], VIP24);
    assert!(!log_text(&c.log).contains("Entering MASTER STATE"));

    // Restarted, the highest priority takes over again and r2 lets go.
    w.lab
        .run(
            "r1",
            "ip",
            &["addr", "flush", "dev", "eth0", "to", &format!("{VIP}/32")],
        )
        .unwrap();
    let a2 = w.start("r1", Kind::Lite, &config("r1", 150, Auth::Pass, ""));
    // Until it preempts, keepalived's words for each advert it discards.
    wait_line(
        &a2,
        "(VI_1) received lower priority (120) advert from 10.0.0.2 - discarding",
    );
    wait_line(&a2, "(VI_1) Entering MASTER STATE");
    // keepalived's words for the yielding master, with the sender and both
    // priorities.
    wait_line(
        &b,
        "(VI_1) Master received advert from 10.0.0.1 with higher priority 150, ours 120",
    );
    w.addr_only_on("r1", VIP24);
}

#[test]
fn root_netns_lite_track_script_and_notify() {
    let mut w = World::new(2);
    let flag = w.dir.join("healthy");
    std::fs::write(&flag, "").unwrap();
    let notify_log = w.dir.join("notify.log");
    let notify = w.dir.join("notify.sh");
    std::fs::write(
        &notify,
        format!("#!/bin/sh\necho \"$@\" >> {}\n", notify_log.display()),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x", notify.to_str().unwrap()])
        .status()
        .unwrap();
    let script = format!(
        "vrrp_script chk {{\n  script \"/usr/bin/test -f {}\"\n  interval 1\n  weight -60\n  fall 1\n  rise 1\n}}\n",
        flag.display()
    );
    let extra = format!(
        "  track_script {{\n    chk\n  }}\n  notify {}\n",
        notify.display()
    );
    let conf_a = format!("{script}{}", config("r1", 150, Auth::None, &extra));
    // The master first (see `mixed_with`).
    let a = w.start("r1", Kind::Lite, &conf_a);
    wait_line(&a, "(VI_1) Entering MASTER STATE");
    let b = w.start("r2", Kind::Lite, &config("r2", 100, Auth::None, ""));
    wait_line(&b, "(VI_1) Entering BACKUP STATE");
    w.addr_only_on("r1", VIP24);

    // The check fails: 150 - 60 = 90 < 100, so r2 preempts.
    std::fs::remove_file(&flag).unwrap();
    wait_line(&a, "VRRP_Script(chk) failed");
    wait_line(&b, "(VI_1) Entering MASTER STATE");
    wait_line(&a, "Entering BACKUP STATE");
    w.addr_only_on("r2", VIP24);

    let lines =
        wait_for_line(&notify_log, "INSTANCE VI_1 BACKUP", WAIT).map(|_| log_text(&notify_log));
    let lines = lines.expect("notify ran for BACKUP");
    let states: Vec<&str> = lines.lines().collect();
    assert!(states.contains(&"INSTANCE VI_1 MASTER 150"), "{states:?}");
    assert!(
        states.iter().any(|l| l.starts_with("INSTANCE VI_1 BACKUP")),
        "{states:?}"
    );
}

/// keepalived-lite and keepalived, one of them master (priority 150), under
/// `auth`: the right one wins, the VIP is only there, keepalived rejects
/// nothing, and a graceful stop of the master hands over to the other.
fn mixed(master: Kind, auth: Auth) {
    mixed_with(master, auth, false);
}

/// [`mixed`], over multicast or (`unicast`) to each other's address.
fn mixed_with(master: Kind, auth: Auth, unicast_peers: bool) {
    require_program("keepalived", &["--version"]);
    let backup = master.other();
    let mut w = World::new(2);
    let (to_r1, to_r2) = if unicast_peers {
        (unicast(2, 1), unicast(1, 2))
    } else {
        (String::new(), String::new())
    };
    // The master first: started together, the backup's Master_Down_Interval
    // (3.61 s) beats the master's (3.41 s) whenever the master's process
    // takes over 0.2 s to start, as it can on a loaded machine.
    let a = w.start("r1", master, &config("r1", 150, auth, &to_r2));
    wait_line(&a, "(VI_1) Entering MASTER STATE");
    let b = w.start("r2", backup, &config("r2", 100, auth, &to_r1));
    wait_line(&b, "(VI_1) Entering BACKUP STATE");
    // Several adverts cross in both directions before we look at the logs.
    backup_holds_then_takes_over(&mut w, &a, &b, Duration::from_secs(3));
    for r in [&a, &b] {
        assert_no_rejection(r);
    }
}

/// Two address owners (priority 255). keepalived-lite, `state BACKUP`,
/// starts in BACKUP as keepalived 2.2.7 does and takes over only after
/// Master_Down_Interval. keepalived, `state MASTER`, takes over at once;
/// keepalived-lite hears its owner advert, logs keepalived's configuration
/// error, lowers its priority to 254 and yields.
#[test]
fn root_netns_mixed_two_address_owners() {
    require_program("keepalived", &["--version"]);
    let mut w = World::new(2);
    let a = w.start("r1", Kind::Lite, &config("r1", 255, Auth::None, ""));
    wait_line(&a, "(VI_1) Entering BACKUP STATE (init)");
    wait_line(&a, "(VI_1) Entering MASTER STATE");
    let owner = config("r2", 255, Auth::None, "").replace("state BACKUP", "state MASTER");
    let b = w.start("r2", Kind::Keepalived, &owner);
    wait_line(
        &a,
        "(VI_1) CONFIGURATION ERROR: local instance and a remote instance are both \
         configured as address owner, please fix - reducing local priority",
    );
    wait_line(
        &a,
        "(VI_1) Master received advert from 10.0.0.2 with higher priority 255, ours 254",
    );
    w.addr_only_on("r2", VIP24);
    assert_no_rejection(&b);
}

#[test]
fn root_netns_mixed_keepalived_master_lite_backup_no_auth() {
    mixed(Kind::Keepalived, Auth::None);
}

#[test]
fn root_netns_mixed_lite_master_keepalived_backup_no_auth() {
    mixed(Kind::Lite, Auth::None);
}

#[test]
fn root_netns_mixed_keepalived_master_lite_backup_pass() {
    mixed(Kind::Keepalived, Auth::Pass);
}

#[test]
fn root_netns_mixed_lite_master_keepalived_backup_pass() {
    mixed(Kind::Lite, Auth::Pass);
}

#[test]
fn root_netns_mixed_keepalived_master_lite_backup_ah() {
    mixed(Kind::Keepalived, Auth::Ah);
}

#[test]
fn root_netns_mixed_lite_master_keepalived_backup_ah() {
    mixed(Kind::Lite, Auth::Ah);
}

#[test]
fn root_netns_lite_link_down_on_master() {
    let mut w = World::new(2);
    // The master first (see `mixed_with`).
    let a = w.start("r1", Kind::Lite, &config("r1", 150, Auth::None, ""));
    wait_line(&a, "(VI_1) Entering MASTER STATE");
    let b = w.start("r2", Kind::Lite, &config("r2", 100, Auth::None, ""));
    wait_line(&b, "(VI_1) Entering BACKUP STATE");
    w.addr_only_on("r1", VIP24);
    w.lab
        .run("r1", "ip", &["link", "set", "eth0", "down"])
        .unwrap();
    wait_line(&a, "Netlink reports eth0 down");
    wait_line(&a, "(VI_1) Entering FAULT STATE");
    wait_line(&b, "(VI_1) Entering MASTER STATE");
    w.addr_only_on("r2", VIP24);
}

/// The address owner (priority 255, `state MASTER`) alone, its link set
/// down and up: keepalived 2.2.7 and keepalived-lite both come back
/// through BACKUP and take over only when Master_Down_Interval runs out
/// (silently: the reason is a `-D` line).
fn owner_recovers_through_backup(kind: Kind) {
    let mut w = World::new(1);
    let conf = config("r1", 255, Auth::None, "").replace("state BACKUP", "state MASTER");
    let a = w.start("r1", kind, &conf);
    wait_line(&a, "(VI_1) Entering MASTER STATE");
    let link = |state: &str| {
        w.lab
            .run("r1", "ip", &["link", "set", "eth0", state])
            .unwrap()
    };
    link("down");
    wait_line(&a, "(VI_1) Entering FAULT STATE");
    link("up");
    let text = wait_lines(&a.log, "(VI_1) Entering MASTER STATE", 2);
    let after_fault = &text[text.find("(VI_1) Entering FAULT STATE").unwrap()..];
    let at = |l: &str| after_fault.find(l);
    let (backup, master) = (
        at("(VI_1) Entering BACKUP STATE"),
        at("(VI_1) Entering MASTER STATE"),
    );
    assert!(
        backup.is_some() && backup < master,
        "{kind:?}:\n{after_fault}"
    );
    // keepalived says why only with -D.
    assert!(!text.contains("Receive advertisement timeout"), "{kind:?}");
}

#[test]
fn root_netns_owner_recovers_through_backup_as_keepalived() {
    require_program("keepalived", &["--version"]);
    owner_recovers_through_backup(Kind::Keepalived);
    owner_recovers_through_backup(Kind::Lite);
}

/// Two instances; a SIGHUP with only the second one's priority changed
/// applies it in place (the one driver reconfigured) and leaves the first
/// alone: neither stops nor changes state.
#[test]
fn root_netns_lite_sighup_reload_keeps_unchanged_instances() {
    let two = |prio2: u8| {
        let one = config("r1", 150, Auth::None, "");
        let second = one
            .replace("VI_1", "VI_2")
            .replace("virtual_router_id 51", "virtual_router_id 52")
            .replace("priority 150", &format!("priority {prio2}"))
            .replace("10.0.0.100/24", "10.0.0.101/24");
        let second = second
            .split_once("vrrp_instance")
            .map(|(_, rest)| rest)
            .unwrap();
        format!("{one}vrrp_instance{second}")
    };
    let mut w = World::new(1);
    let a = w.start("r1", Kind::Lite, &two(150));
    wait_line(&a, "(VI_1) Entering MASTER STATE");
    wait_line(&a, "(VI_2) Entering MASTER STATE");
    let before = log_text(&a.log).lines().count();

    std::fs::write(w.dir.join("r1-keepalived.conf"), two(140)).unwrap();
    w.lab.signal(a.pid, "HUP").unwrap();
    wait_line(
        &a,
        "VRRP configuration applied: 1 unchanged, 1 updated, 0 added, 0 removed, 0 restarted",
    );
    let after: Vec<String> = log_text(&a.log)
        .lines()
        .skip(before)
        .map(str::to_owned)
        .collect();
    assert!(
        !after
            .iter()
            .any(|l| l.contains("(VI_1)") || l.contains("Stopped") || l.contains("Entering")),
        "an instance was disturbed by the reload: {after:#?}"
    );
    assert!(w.has_addr("r1", VIP24));
}

fn unicast(me: u8, peer: u8) -> String {
    format!("  unicast_src_ip 10.0.0.{me}\n  unicast_peer {{\n    10.0.0.{peer}\n  }}\n")
}

#[test]
fn root_netns_lite_unicast_pair() {
    let mut w = World::new(2);
    let b = w.start(
        "r2",
        Kind::Lite,
        &config("r2", 100, Auth::Ah, &unicast(2, 1)),
    );
    let a = w.start(
        "r1",
        Kind::Lite,
        &config("r1", 150, Auth::Ah, &unicast(1, 2)),
    );
    wait_line(&a, "(VI_1) Entering MASTER STATE");
    backup_holds_then_takes_over(&mut w, &a, &b, Duration::from_secs(2));
}

#[test]
fn root_netns_mixed_unicast_lite_master_keepalived_backup() {
    mixed_with(Kind::Lite, Auth::Pass, true);
}

#[test]
fn root_netns_mixed_unicast_keepalived_master_lite_backup() {
    mixed_with(Kind::Keepalived, Auth::Ah, true);
}
