//! `weight N reverse` on `track_interface` and on a `vrrp_script`, and
//! `dont_track_primary`, keepalived 2.2.7 against keepalived-lite (needs
//! root and keepalived). One lab: keepalived in node `ka` (VRIDs 51, 61),
//! keepalived-lite in node `kl` (VRIDs 52, 62), the same configuration
//! otherwise; an observer node reads their adverts.
//!
//! VI_1 (priority 100, `dont_track_primary`) tracks the node's `eth1`
//! with `weight 10 reverse` and a script (`test -e FILE`) whose block says
//! `weight 20 reverse`; both must advertise the same priority at each step:
//!
//! | eth1 | FILE | priority |
//! | --- | --- | --- |
//! | down | absent | 100 |
//! | down | present | 80 |
//! | up | present | 70 |
//! | up | absent | 90 |
//!
//! (It starts where the weights add nothing; a start with tracked weights
//! in effect is in `root_netns_notify_twin.rs`.)
//!
//! Then the node's own `eth0` goes down and up again. VI_2, on `eth0`
//! without `dont_track_primary`, goes to FAULT and back (that shows the
//! link change was seen); VI_1 stays MASTER throughout. Both daemons'
//! notify lines (`notify` script: type, name, state, priority) must be
//! the same.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::collections::HashMap;
use std::io::Read;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, Lab};
use socket2::{Domain, Protocol, Socket, Type};

/// Safety limit for something expected to happen.
const WAIT: Duration = Duration::from_secs(30);

/// A router is silent when its last advert is older than this
/// (advert_int 1).
const SILENT: Duration = Duration::from_millis(2500);

/// The last advert per VRID: when, and with which priority.
type Seen = Arc<Mutex<HashMap<u8, (Instant, u8)>>>;

fn config(vrid: u8, file: &Path, notify: &Path) -> String {
    let (file, notify) = (file.display(), notify.display());
    let instance = |name: &str, vrid: u8, extra: &str| {
        format!(
            "vrrp_instance {name} {{\n  state BACKUP\n  interface eth0\n  \
             virtual_router_id {vrid}\n  priority 100\n  advert_int 1\n{extra}  \
             notify {notify}\n  virtual_ipaddress {{\n    10.0.{}.{vrid}/24\n  }}\n}}\n",
            vrid / 10
        )
    };
    let vi1 = "  dont_track_primary\n  track_interface {\n    eth1 weight 10 reverse\n  }\n  \
               track_script {\n    chk\n  }\n";
    format!(
        "global_defs {{\n  enable_script_security\n  script_user root\n}}\n\
         vrrp_script chk {{\n  script \"/usr/bin/test -e {file}\"\n  interval 1\n  \
         weight 20 reverse\n}}\n{}{}",
        instance("VI_1", vrid, vi1),
        instance("VI_2", vrid + 10, "")
    )
}

/// Reads VRRP adverts in the observer's namespace until `stop`.
fn observe(lab: &Lab, seen: Seen, stop: Arc<AtomicBool>) {
    let sock = lab
        .enter("obs", || {
            let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112)))?;
            let group = Ipv4Addr::new(224, 0, 0, 18);
            s.join_multicast_v4(&group, &Ipv4Addr::new(10, 0, 0, 9))?;
            s.set_read_timeout(Some(Duration::from_millis(200)))?;
            std::io::Result::Ok(s)
        })
        .unwrap()
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while !stop.load(Ordering::Relaxed) {
            let Ok(n) = (&sock).read(&mut buf) else {
                continue;
            };
            // IPv4 header (IHL words), then VRRP: VRID at 1, priority at 2.
            let ihl = usize::from(buf[0] & 0x0f) * 4;
            if n >= ihl + 3 {
                let (vrid, prio) = (buf[ihl + 1], buf[ihl + 2]);
                seen.lock().unwrap().insert(vrid, (Instant::now(), prio));
            }
        }
    });
}

/// The priority VRID `vrid` advertises now, None while silent.
fn priority(seen: &Seen, vrid: u8) -> Option<u8> {
    let seen = seen.lock().unwrap();
    let (at, prio) = seen.get(&vrid)?;
    (at.elapsed() < SILENT && *prio != 0).then_some(*prio)
}

/// Waits until both routers' VI_1 advertise `want`.
fn expect(seen: &Seen, step: &str, want: u8) {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = (priority(seen, 51), priority(seen, 52));
        if got == (Some(want), Some(want)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{step}: keepalived, keepalived-lite advertise {got:?}, want {want}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The notify lines of `node` so far.
fn lines(dir: &Path, node: &str) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join(format!("{node}.notify"))).unwrap_or_default();
    text.lines().map(str::to_owned).collect()
}

/// Waits until both nodes' notify logs hold `line` `times` times.
fn wait_notify(dir: &Path, line: &str, times: usize) {
    let deadline = Instant::now() + WAIT;
    let count = |n: &str| lines(dir, n).iter().filter(|l| *l == line).count();
    while count("ka") < times || count("kl") < times {
        assert!(
            Instant::now() < deadline,
            "no '{line}': keepalived {:?}, keepalived-lite {:?}",
            lines(dir, "ka"),
            lines(dir, "kl")
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn ip(lab: &Lab, node: &str, args: &[&str]) {
    lab.netns(node).ip(args).unwrap();
}

/// Removes the scratch directory, even when the test fails.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn root_netns_reverse_weights_and_dont_track_primary_match_keepalived() {
    require_root();
    require_program("keepalived", &["-v"]);
    // Scripts must sit where only root can write (script security).
    let dir = PathBuf::from(format!("/run/kl-reverse-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let _scratch = Scratch(dir.clone());
    let mut lab = Lab::new().unwrap();
    lab.add_node("ka", Ipv4Addr::new(10, 0, 0, 1), 24).unwrap();
    lab.add_node("kl", Ipv4Addr::new(10, 0, 0, 2), 24).unwrap();
    lab.add_node("obs", Ipv4Addr::new(10, 0, 0, 9), 24).unwrap();
    for node in ["ka", "kl"] {
        let veth = [
            "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p",
        ];
        ip(&lab, node, &veth);
        ip(&lab, node, &["link", "set", "eth1p", "up"]);
    }
    let file = dir.join("present");
    let seen: Seen = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    observe(&lab, seen.clone(), stop.clone());
    let bin = env!("CARGO_BIN_EXE_keepalived-lite");
    for (node, vrid, prog) in [("ka", 51, "keepalived"), ("kl", 52, bin)] {
        let notify = dir.join(format!("{node}.sh"));
        let out = dir.join(format!("{node}.notify"));
        let body = format!("#!/bin/sh\necho \"$1 $2 $3 $4\" >> {}\n", out.display());
        std::fs::write(&notify, body).unwrap();
        std::fs::set_permissions(&notify, std::fs::Permissions::from_mode(0o755)).unwrap();
        let conf = dir.join(format!("{node}.conf"));
        std::fs::write(&conf, config(vrid, &file, &notify)).unwrap();
        let log = dir.join(format!("{node}.log"));
        if node == "kl" {
            lab.spawn_lite_daemon(node, prog, &conf, &dir, &log)
                .unwrap();
        } else {
            lab.spawn_vrrp_daemon(node, prog, &conf, &dir, &log)
                .unwrap();
        }
    }
    expect(&seen, "eth1 down, script failing", 100);
    std::fs::write(&file, "").unwrap();
    expect(&seen, "eth1 down, script succeeding", 80);
    for node in ["ka", "kl"] {
        ip(&lab, node, &["link", "set", "eth1", "up"]);
    }
    expect(&seen, "eth1 up, script succeeding", 70);
    std::fs::remove_file(&file).unwrap();
    expect(&seen, "eth1 up, script failing", 90);

    wait_notify(&dir, "INSTANCE VI_2 MASTER 100", 1);
    for node in ["ka", "kl"] {
        ip(&lab, node, &["link", "set", "eth0", "down"]);
    }
    wait_notify(&dir, "INSTANCE VI_2 FAULT 100", 1);
    for node in ["ka", "kl"] {
        ip(&lab, node, &["link", "set", "eth0", "up"]);
    }
    wait_notify(&dir, "INSTANCE VI_2 MASTER 100", 2);
    // Each instance's lines in order (the two instances interleave as
    // their timers fall).
    let of = |node: &str, vi: &str| -> Vec<String> {
        let vi = format!(" {vi} ");
        lines(&dir, node)
            .into_iter()
            .filter(|l| l.contains(&vi))
            .collect()
    };
    assert_eq!(
        of("ka", "VI_1"),
        ["INSTANCE VI_1 BACKUP 100", "INSTANCE VI_1 MASTER 100"],
        "keepalived"
    );
    for vi in ["VI_1", "VI_2"] {
        assert_eq!(
            of("kl", vi),
            of("ka", vi),
            "{vi}: keepalived-lite, keepalived"
        );
    }
    stop.store(true, Ordering::Relaxed);
    drop(lab);
}
