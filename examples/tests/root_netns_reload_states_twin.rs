//! `fifo_write_vrrp_states_on_reload` against keepalived 2.2.7 (needs
//! root, iproute2, nft and /usr/sbin/keepalived), in twin namespaces.
//!
//! `r1` runs four instances with a `vrrp_notify_fifo` read by a FIFO
//! script: VI_1 (master), VI_2 (FAULT: its eth1 is down), VI_3 (master,
//! alone in sync group SG) and VI_4 (backup to a keepalived peer on `r2`).
//! Each SIGHUP with the same file must write exactly what keepalived
//! writes: the group, then the instances that are not master, in
//! configuration order; the masters are left out.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Instant;

use twin::{Side, Twin, WAIT};

const INSTANCE: &str = "vrrp_instance VI_@V@ {\n  state BACKUP\n  interface @IF@\n  \
    virtual_router_id 5@V@\n  priority @P@\n  advert_int 1\n  virtual_ipaddress {\n    \
    10.77.1.@V@/32\n  }\n}\n";

fn instance(v: u8, iface: &str, priority: u8) -> String {
    (INSTANCE.replace("@V@", &v.to_string()))
        .replace("@IF@", iface)
        .replace("@P@", &priority.to_string())
}

fn config() -> String {
    let mut c = String::from(
        "global_defs {\n  vrrp_notify_fifo @DIR@/vrrp.fifo\n  \
         vrrp_notify_fifo_script @DIR@/reader.sh\n  fifo_write_vrrp_states_on_reload\n}\n\
         vrrp_sync_group SG {\n  group {\n    VI_3\n  }\n}\n",
    );
    for (v, iface) in [(1, "eth0"), (2, "eth1"), (3, "eth0"), (4, "eth0")] {
        c += &instance(v, iface, 90);
    }
    c
}

/// The FIFO script's output file of `side`.
fn out(side: &Side) -> PathBuf {
    side.dir.join("fifo.out")
}

fn lines(side: &Side) -> Vec<String> {
    let text = std::fs::read_to_string(out(side)).unwrap_or_default();
    text.lines().map(str::to_owned).collect()
}

/// Polls until `side`'s FIFO output satisfies `ok`; returns it.
fn wait_lines(side: &Side, what: &str, ok: impl Fn(&[String]) -> bool) -> Vec<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = lines(side);
        if ok(&got) {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "{:?}: {what}: FIFO lines {got:#?}\n{}",
            side.kind,
            side.log_text("r1")
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

const RELOAD_LINES: [&str; 3] = [
    "GROUP \"SG\" MASTER 0",
    "INSTANCE \"VI_2\" FAULT 90",
    "INSTANCE \"VI_4\" BACKUP 90",
];

#[test]
fn root_netns_fifo_write_vrrp_states_on_reload_matches_keepalived() {
    // eth1: one end of a veth pair, left down.
    let mut t = Twin::new(&[&[
        "link", "add", "eth1", "type", "veth", "peer", "name", "eth9",
    ]]);
    for side in t.sides() {
        let reader = side.dir.join("reader.sh");
        let body = format!("#!/bin/sh\nexec cat \"$1\" >> {}\n", out(side).display());
        std::fs::write(&reader, body).unwrap();
        std::fs::set_permissions(&reader, std::fs::Permissions::from_mode(0o755)).unwrap();
        side.start_peer(&instance(4, "eth0", 200));
    }
    t.wait_log("r2", "(VI_4) Entering MASTER STATE", 1);
    let conf = config();
    for side in t.sides() {
        side.start(&conf);
    }
    let settled = |l: &[String]| {
        [
            "INSTANCE \"VI_1\" MASTER 90",
            "INSTANCE \"VI_3\" MASTER 90",
            "GROUP \"SG\" MASTER 0",
        ]
        .iter()
        .all(|w| l.iter().any(|x| x == w))
    };
    for side in t.sides() {
        let before = wait_lines(side, "start", settled).len();
        for round in 1..=2 {
            side.reload(&conf);
            let n = before + round * RELOAD_LINES.len();
            let got = wait_lines(side, "reload", |l| l.len() >= n);
            let want: Vec<&str> = RELOAD_LINES.repeat(round);
            assert_eq!(got[before..], want, "{:?} round {round}", side.kind);
        }
    }
}
