//! keepalived 2.2.7 and keepalived-lite side by side (issue 14):
//! `track_src_ip` with the configured source (`mcast_src_ip`) deleted
//! from the interface and restored.
//!
//! What keepalived 2.2.7 does (seen running it; its netlink reflector
//! compares the deleted address with the wrong bytes of the source's
//! `sockaddr`): nothing. The master stays MASTER, keeps advertising from
//! the deleted source and keeps its virtual address; no FAULT, no notify
//! line, neither when the source goes nor when it comes back. To know
//! that each deletion was handled, a virtual address is deleted after it
//! (the netlink messages come in that order): that one sends the master
//! to BACKUP and back to MASTER, in both daemons, so a FAULT caused by
//! the source would show in the notify lines before it.
//!
//! Each daemon runs in its own lab (bridge, node `r1` with `eth0` =
//! 10.77.0.1/24, its only IPv4 address), so both see the same interface
//! names and addresses. Needs root, iproute2 and keepalived.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, Lab};

const KEEPALIVED: &str = "/usr/sbin/keepalived";
const LITE: &str = env!("CARGO_BIN_EXE_keepalived-lite");
/// Generous: CI machines are small and loaded.
const WAIT: Duration = Duration::from_secs(30);
/// The configured source: `r1`'s address.
const SOURCE: &str = "10.77.0.1/24";
/// The virtual address, in another subnet so that deleting the source
/// (a primary address) does not take it along as a secondary.
const VIP: &str = "10.99.0.100/24";

/// One instance, alone on its VRID (so master), tracking its source.
fn config(dir: &Path) -> String {
    format!(
        "\
global_defs {{
    router_id SRCIP
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    mcast_src_ip 10.77.0.1
    track_src_ip
    notify {dir}/notify.sh
    virtual_ipaddress {{
        {VIP}
    }}
}}
",
        dir = dir.display()
    )
}

/// One side: a lab running `program` on `r1`.
struct Side {
    lab: Lab,
    dir: PathBuf,
    pid: u32,
    log: PathBuf,
}

impl Side {
    fn start(name: &str, program: &str) -> Side {
        let mut lab = Lab::new().unwrap();
        lab.add_node("r1", Ipv4Addr::new(10, 77, 0, 1), 24).unwrap();
        let dir = std::env::temp_dir().join(format!("{}-{name}", lab.node("r1").ns));
        std::fs::create_dir_all(&dir).unwrap();
        let notify = dir.join("notify.sh");
        let script = format!("#!/bin/sh\necho \"$@\" >> {}/notify.log\n", dir.display());
        std::fs::write(&notify, script).unwrap();
        std::process::Command::new("chmod")
            .args(["+x", notify.to_str().unwrap()])
            .status()
            .unwrap();
        let conf = dir.join("keepalived.conf");
        std::fs::write(&conf, config(&dir)).unwrap();
        let log = dir.join(format!("{name}.log"));
        let pid = if program == KEEPALIVED {
            lab.spawn_vrrp_daemon("r1", program, &conf, &dir, &log)
        } else {
            lab.spawn_lite_daemon("r1", program, &conf, &dir, &log)
        }
        .unwrap();
        Side { lab, dir, pid, log }
    }

    fn ip(&self, args: &[&str]) -> String {
        let out = self.lab.run("r1", "ip", args).unwrap();
        assert!(out.status.success(), "ip {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The IPv4 addresses of `eth0`, sorted.
    fn addresses(&self) -> String {
        let text = self.ip(&["-4", "addr", "show", "dev", "eth0"]);
        let mut lines: Vec<&str> = text.lines().map(str::trim_start).collect();
        lines.retain(|l| l.starts_with("inet "));
        lines.sort_unstable();
        lines.join("\n")
    }

    /// Packets `eth0` sent so far.
    fn tx_packets(&self) -> u64 {
        let text = self.ip(&["-s", "-j", "link", "show", "dev", "eth0"]);
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        v[0]["stats64"]["tx"]["packets"].as_u64().unwrap()
    }

    /// The notify script's lines so far.
    fn notify(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.join("notify.log")).unwrap_or_default();
        text.lines().map(str::to_owned).collect()
    }

    /// The state changes the daemon logged, without timestamps.
    fn entering(&self) -> Vec<String> {
        let log = self.log_text();
        let lines = log.lines().filter_map(|l| {
            let at = l.find("(VI_").filter(|_| l.contains(") Entering "))?;
            Some(l[at..].trim_end().to_owned())
        });
        lines.collect()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Side {
    /// The files go even when the test fails (its message has the logs);
    /// the lab then stops the daemons and deletes the namespaces.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Polls until `done` holds for both sides (keepalived 0, keepalived-lite
/// 1), or fails with their logs.
fn wait(what: &str, sides: [&Side; 2], done: impl Fn(usize, &Side) -> bool) {
    let deadline = Instant::now() + WAIT;
    while !sides.iter().enumerate().all(|(k, s)| done(k, s)) {
        assert!(
            Instant::now() < deadline,
            "{what}: never happened; notify: keepalived {:?}, keepalived-lite {:?}\n\
             --- keepalived log\n{}\n--- keepalived-lite log\n{}",
            sides[0].notify(),
            sides[1].notify(),
            sides[0].log_text(),
            sides[1].log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Polls until both sides have the same addresses on `eth0` and `ok`
/// holds for them, or fails showing both.
fn same_addresses(phase: &str, ka: &Side, lite: &Side, ok: impl Fn(&str) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let (a, b) = (ka.addresses(), lite.addresses());
        if a == b && ok(&a) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{phase}: addresses differ or are not as expected\n--- keepalived\n{a}\n\
             --- keepalived-lite\n{b}\n--- keepalived-lite log\n{}",
            lite.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Deletes the virtual address on both sides and waits for the master's
/// BACKUP and MASTER lines (`n` lines in all then).
fn bounce_vip(phase: &str, both: [&Side; 2], n: usize) {
    for s in both {
        s.ip(&["addr", "del", VIP, "dev", "eth0"]);
    }
    wait(phase, both, |_, s| s.notify().len() >= n);
}

#[test]
fn root_netns_deleted_source_with_track_src_ip_matches_keepalived() {
    require_root();
    require_program(KEEPALIVED, &["-v"]);
    let ka = Side::start("keepalived", KEEPALIVED);
    let lite = Side::start("lite", LITE);
    let both = [&ka, &lite];
    let vip = format!("inet {VIP}");
    let source = format!("inet {SOURCE}");

    wait("MASTER", both, |_, s| s.notify().len() >= 2);
    same_addresses("MASTER", &ka, &lite, |a| a.contains(&vip));

    // The source goes: still MASTER, still advertising (from it).
    for s in both {
        s.ip(&["addr", "del", SOURCE, "dev", "eth0"]);
    }
    let sent = [ka.tx_packets(), lite.tx_packets()];
    wait("adverts after the deletion", both, |k, s| {
        s.tx_packets() >= sent[k] + 3
    });
    same_addresses("source deleted", &ka, &lite, |a| {
        a.contains(&vip) && !a.contains(&source)
    });
    bounce_vip("VIP deleted without the source", both, 4);
    same_addresses("VIP back", &ka, &lite, |a| a.contains(&vip));

    // The source comes back: nothing changes either.
    for s in both {
        s.ip(&["addr", "add", SOURCE, "dev", "eth0"]);
    }
    bounce_vip("VIP deleted with the source back", both, 6);
    same_addresses("source restored", &ka, &lite, |a| {
        a.contains(&vip) && a.contains(&source)
    });

    let want: Vec<String> = ["BACKUP", "MASTER"]
        .iter()
        .cycle()
        .take(6)
        .map(|s| format!("INSTANCE VI_1 {s} 100"))
        .collect();
    assert_eq!(ka.notify(), want, "keepalived's notify lines");
    assert_eq!(lite.notify(), want, "keepalived-lite's notify lines");
    let entering = ka.entering();
    assert!(
        !entering.iter().any(|l| l.contains("FAULT")),
        "{entering:?}"
    );
    assert_eq!(lite.entering(), entering, "state changes logged");

    let mut ka = ka;
    let mut lite = lite;
    ka.lab.stop(ka.pid, WAIT);
    lite.lab.stop(lite.pid, WAIT);
    same_addresses("stopped", &ka, &lite, |a| !a.contains(&vip));
}
