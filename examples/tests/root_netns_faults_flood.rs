//! keepalived-lite keeps serving its commands under an advert flood (issue
//! 15): while a neighbour sends invalid adverts as fast as it can, a
//! tracked interface going down and up is applied, and SIGTERM still sends
//! the priority-0 advert (seen by an observer's capture) and removes the
//! VIP. The flood's rate is what r1's interface counted, printed; the one
//! timing asserted is the acceptance's own bar: each command takes effect
//! within 1 s under the flood. keepalived 2.2.7 then runs the same
//! scenario and its numbers are printed beside ours. Needs root, iproute2,
//! tcpdump and keepalived.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod bad_advert;
mod lab_r1;

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use bad_advert::bad_checksum_advert;
use keepalived_lite::netns::{require_program, require_root, Lab};
use lab_r1::{count, ip, log_text, veth};
use test_support::flood::{mac_address, rx_packets, Flood};
use vrrp::auth::AuthConfig;
use vrrp::linux::Netlink;

const VIP: &str = "10.0.0.100";
/// Invalid adverts sent before the commands are tried.
const FLOOD_BEFORE: u64 = 200_000;
/// Sender threads, one per core of the small machines this runs on.
const FLOODERS: usize = 2;
/// The flood rate issue 15 asks for, as r1's interface counts it.
const ISSUE_RATE: f64 = 100_000.0;
/// The acceptance's bar for a command to take effect under the flood.
const BAR: Duration = Duration::from_secs(1);

const CONFIG: &str = "global_defs {\n  router_id r1\n}\n\
vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
priority 150\n  advert_int 1\n  authentication {\n    auth_type PASS\n    auth_pass secret1\n  }\n  \
track_interface {\n    dum0\n  }\n  virtual_ipaddress {\n    10.0.0.100/24\n  }\n}\n";

/// An advert for VRID 51 at priority 200 whose checksum is wrong: every
/// one reaches the router's socket and is dropped there.
fn invalid_advert() -> Vec<u8> {
    let auth = AuthConfig::from_keepalived("PASS", "secret1").unwrap();
    let (src, vip) = (Ipv4Addr::new(10, 0, 0, 2), Ipv4Addr::new(10, 0, 0, 100));
    bad_checksum_advert(src, vip, &auth)
}

/// Polls every 10 ms (the times [`vip_becomes`] reports are that fine)
/// until `ok` holds, or fails with `what` and the log.
fn wait_until(what: &str, log: &Path, ok: impl FnMut() -> bool) {
    lab_r1::wait_until_every(what, log, Duration::from_millis(10), ok);
}

fn vip_on(nl: &mut Netlink) -> bool {
    let vip: Ipv4Addr = VIP.parse().unwrap();
    nl.addresses(None).unwrap().iter().any(|a| a.addr == vip)
}

fn has_vip(lab: &Lab) -> bool {
    lab.enter("r1", || vip_on(&mut Netlink::open().unwrap()))
        .unwrap()
}

/// Polls r1's addresses over netlink every millisecond until the VIP's
/// presence is `want`; returns how long after `since` that was seen.
fn vip_becomes(lab: &Lab, want: bool, since: Instant, log: &Path) -> Duration {
    lab.enter("r1", || {
        let mut nl = Netlink::open().unwrap();
        wait_until("the VIP change", log, || vip_on(&mut nl) == want);
        since.elapsed()
    })
    .unwrap()
}

/// Capture time (seconds since the epoch) of the first packet captured
/// at or after `after` whose tcpdump `-tt -v` text contains `needle`: `-v`
/// prints a packet on two lines, the time starting the first.
fn capture_time(dump_log: &Path, needle: &str, after: f64) -> Option<f64> {
    let mut time = None;
    for line in log_text(dump_log).lines() {
        if let Some(t) = line.split_whitespace().next().and_then(|w| w.parse().ok()) {
            time = Some(t);
        }
        match time {
            Some(t) if t >= after && line.contains(needle) => return Some(t),
            _ => {}
        }
    }
    None
}

fn epoch_secs(t: SystemTime) -> f64 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// Which daemon a run drives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Daemon {
    Lite,
    /// keepalived 2.2.7, the reference, through the same scenario.
    Keepalived,
}

/// What one run measured. Durations run from just before the command.
#[derive(Debug)]
struct Measured {
    /// Adverts/s r1's eth0 counted before the commands, and over the whole
    /// flood.
    rate_before: f64,
    rate_all: f64,
    /// Tracked link down until the VIP was gone.
    down: Duration,
    /// Tracked link up until FAULT was left.
    up: Duration,
    /// SIGTERM until the VIP was gone.
    vip_gone: Duration,
    /// SIGTERM until the capture of the priority-0 advert, in seconds.
    prio0: f64,
    /// Adverts sent while the daemon was stopping.
    during_stop: u64,
    /// Lines logged as "(VI_1) sent 0 priority".
    prio0_logged: usize,
}

/// Runs the scenario on `daemon`: MASTER, then a flood, under which the
/// tracked link goes down and up and the daemon gets SIGTERM.
fn run(daemon: Daemon) -> Measured {
    let mut lab = Lab::new().unwrap();
    for (i, name) in ["r1", "fl", "obs"].iter().enumerate() {
        lab.add_node(name, Ipv4Addr::new(10, 0, 0, 1 + i as u8), 24)
            .unwrap();
    }
    // Bridged frames skip iptables: the flood's cost is the router's.
    lab.set_bridge_netfilter(false).unwrap();
    let dir = std::env::temp_dir().join(&lab.node("r1").ns);
    std::fs::create_dir_all(&dir).unwrap();
    // No dummy driver here: a veth pair inside r1 is the tracked link.
    veth(&lab, "dum0", "dum1", None);

    // The observer prints r1's adverts with their priority and the
    // capture time (seconds since the epoch).
    let dump_log = dir.join("tcpdump.log");
    let filter = "ip proto 112 and src host 10.0.0.1";
    let dump_args = ["-l", "-n", "-tt", "-v", "-i", "eth0", filter];
    let dump = lab.spawn("obs", "tcpdump", &dump_args, &dump_log).unwrap();

    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, CONFIG).unwrap();
    let log = dir.join("daemon.log");
    let pid = match daemon {
        Daemon::Lite => {
            let lite = env!("CARGO_BIN_EXE_keepalived-lite");
            lab.spawn_lite_daemon("r1", lite, &conf, &dir, &log)
        }
        Daemon::Keepalived => {
            lab.spawn_vrrp_daemon("r1", "/usr/sbin/keepalived", &conf, &dir, &log)
        }
    }
    .unwrap();
    let master = "(VI_1) Entering MASTER STATE";
    wait_until("MASTER", &log, || count(&log, master) == 1 && has_vip(&lab));
    wait_until("an advert at priority 150", &dump_log, || {
        count(&dump_log, "prio 150") > 0
    });

    // The rate is what r1's eth0 counted over the flood window.
    let rx_before = rx_packets(lab.netns("r1"), "eth0").unwrap();
    let t0 = Instant::now();
    // Addressed to r1's MAC (still to 224.0.0.18, so r1 takes each one
    // as an advert): the bridge hands them to r1 alone, and the CPU the
    // flood gets on a small machine is not spent on the observer too.
    let r1_mac = mac_address(lab.netns("r1"), "eth0").unwrap();
    let flood = Flood::start_to(
        lab.netns("fl"),
        "eth0",
        Some(r1_mac),
        &invalid_advert(),
        FLOODERS,
    )
    .unwrap();
    let rate = || {
        let rx = rx_packets(lab.netns("r1"), "eth0").unwrap() - rx_before;
        rx as f64 / t0.elapsed().as_secs_f64()
    };
    wait_until("the flood", &log, || flood.sent() >= FLOOD_BEFORE);
    let rate_before = rate();

    // A tracked interface change is applied under the flood, both ways:
    // down removes the VIP (FAULT), up leaves FAULT.
    let t = Instant::now();
    ip(&lab, &["link", "set", "dum0", "down"]);
    let down = vip_becomes(&lab, false, t, &log);
    wait_until("FAULT", &log, || {
        count(&log, "(VI_1) Entering FAULT STATE") == 1
    });
    let t = Instant::now();
    ip(&lab, &["link", "set", "dum0", "up"]);
    wait_until("leaving FAULT", &log, || {
        let entered = |l: &str| l.ends_with("(VI_1) Entering BACKUP STATE");
        log_text(&log).lines().filter(|l| entered(l)).count() == 1
    });
    let up = t.elapsed();
    wait_until("MASTER again", &log, || {
        count(&log, master) == 2 && has_vip(&lab)
    });

    // SIGTERM under the flood: priority 0 on the wire, the VIP removed.
    // (FAULT sent one priority 0 already: only one after the signal counts.)
    let before_stop = flood.sent();
    let (t, wall) = (Instant::now(), SystemTime::now());
    lab.signal(pid, "TERM").unwrap();
    let vip_gone = vip_becomes(&lab, false, t, &log);
    wait_until("the stop", &log, || count(&log, "Stopped") > 0);
    let during_stop = flood.sent() - before_stop;
    let rate_all = rate();
    flood.stop().unwrap();
    wait_until("priority 0 on the wire", &dump_log, || {
        capture_time(&dump_log, "prio 0,", epoch_secs(wall)).is_some()
    });
    let prio0 = capture_time(&dump_log, "prio 0,", epoch_secs(wall)).unwrap() - epoch_secs(wall);
    let prio0_logged = count(&log, "(VI_1) sent 0 priority");
    lab.stop(dump, Duration::from_secs(5));
    lab.stop(pid, Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(&dir);
    Measured {
        rate_before,
        rate_all,
        down,
        up,
        vip_gone,
        prio0,
        during_stop,
        prio0_logged,
    }
}

fn report(daemon: Daemon, m: &Measured) {
    eprintln!(
        "{daemon:?}: flood {:.0} adverts/s received by r1 before the commands, {:.0} over \
         the whole window; tracked link down -> VIP removed {:?}, up -> BACKUP {:?}; \
         SIGTERM -> VIP removed {:?}, priority 0 on the wire {:.3} s",
        m.rate_before, m.rate_all, m.down, m.up, m.vip_gone, m.prio0
    );
    // Not asserted: on a 2-core machine shared with parallel builds the
    // sender gets 100-140k/s, no wide margin; the reader is told.
    if m.rate_all < ISSUE_RATE {
        let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        eprintln!(
            "NOTE: below issue 15's {ISSUE_RATE:.0}/s on this machine (load {})",
            load.trim()
        );
    }
}

#[test]
fn root_netns_flood_does_not_lock_out_tracking_or_stop() {
    require_root();
    require_program("tcpdump", &["--version"]);
    let m = run(Daemon::Lite);
    report(Daemon::Lite, &m);
    // keepalived logs "sent 0 priority" only with -D (not given here).
    assert_eq!(m.prio0_logged, 0);
    assert!(m.during_stop > 0, "the flood had ended before the stop");
    // The acceptance's bar (issue 15), measured from before the command.
    assert!(
        m.down <= BAR,
        "tracked link down applied after {:?}",
        m.down
    );
    assert!(m.up <= BAR, "tracked link up applied after {:?}", m.up);
    assert!(
        m.vip_gone <= BAR,
        "VIP removed {:?} after SIGTERM",
        m.vip_gone
    );
    assert!(
        m.prio0 <= BAR.as_secs_f64(),
        "priority 0 sent {} s after SIGTERM",
        m.prio0
    );

    // The reference through the same scenario, after (never beside) the
    // run above, for the reader: the same outcomes, its own times.
    require_program("keepalived", &["--version"]);
    let k = run(Daemon::Keepalived);
    report(Daemon::Keepalived, &k);
}
