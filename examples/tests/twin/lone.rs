//! A lone master in a lab of its own, for the twin tests that compare
//! keepalived 2.2.7 and keepalived-lite on one instance (no peer): a
//! bridge and node `r1` (`eth0` = 10.77.0.1/24) running the daemon, with
//! a notify script that appends its arguments to `notify.log` in the
//! side's scratch directory. Include it with
//! `#[path = "twin/lone.rs"] mod lone;` (the full harness is `twin`).
#![allow(dead_code)] // each test file uses part of it

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keepalived_lite::netns::Lab;

/// The reference daemon.
pub(crate) const KEEPALIVED: &str = "/usr/sbin/keepalived";
/// The daemon under test.
pub(crate) const LITE: &str = env!("CARGO_BIN_EXE_keepalived-lite");
/// Generous: CI machines are small and loaded.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// One side: a lab running one daemon on `r1`.
pub(crate) struct Side {
    /// The bridge and `r1`.
    pub(crate) lab: Lab,
    /// Scratch directory (configuration, log, notify output).
    pub(crate) dir: PathBuf,
    /// The daemon.
    pub(crate) pid: u32,
    /// Its log.
    pub(crate) log: PathBuf,
}

impl Side {
    /// Starts `program` (keepalived or keepalived-lite) on `r1` of a new
    /// lab with the configuration `config` writes for the scratch
    /// directory.
    pub(crate) fn start(name: &str, program: &str, config: fn(&Path) -> String) -> Side {
        Side::start_at(name, program, Ipv4Addr::new(10, 77, 0, 1), config)
    }

    /// As [`Side::start`], with `address`/24 on `r1`'s `eth0`.
    pub(crate) fn start_at(
        name: &str,
        program: &str,
        address: Ipv4Addr,
        config: fn(&Path) -> String,
    ) -> Side {
        let mut lab = Lab::new().unwrap();
        lab.add_node("r1", address, 24).unwrap();
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

    /// `ip ARGS` on `r1`, which must succeed; its output.
    pub(crate) fn ip(&self, args: &[&str]) -> String {
        let out = self.lab.run("r1", "ip", args).unwrap();
        assert!(out.status.success(), "ip {args:?}: {out:?}");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The notify script's lines so far.
    pub(crate) fn notify(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.join("notify.log")).unwrap_or_default();
        text.lines().map(str::to_owned).collect()
    }

    /// The state changes the daemon logged (instances' and sync
    /// groups'), without timestamps.
    pub(crate) fn entering(&self) -> Vec<String> {
        let log = self.log_text();
        let lines = log.lines().filter_map(|l| {
            let state = l.find("(VI_").filter(|_| l.contains(") Entering "));
            let at = l.find("VRRP_Group(").or(state)?;
            Some(l[at..].trim_end().to_owned())
        });
        lines.collect()
    }

    /// The states `instance` entered, in order, as logged after
    /// "(`instance`) Entering " (e.g. "MASTER STATE").
    pub(crate) fn states(&self, instance: &str) -> Vec<String> {
        let needle = format!("({instance}) Entering ");
        let log = self.log_text();
        let lines = log.lines().filter_map(|l| {
            let at = l.find(&needle)?;
            Some(l[at + needle.len()..].trim_end().to_owned())
        });
        lines.collect()
    }

    /// The daemon's log so far.
    pub(crate) fn log_text(&self) -> String {
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
/// 1), or fails with `what`, their notify lines and their logs.
pub(crate) fn wait(what: &str, sides: [&Side; 2], done: impl Fn(usize, &Side) -> bool) {
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

/// Polls until both sides ran `n` notify lines, or fails with the logs.
pub(crate) fn wait_notify(what: &str, sides: [&Side; 2], n: usize) {
    let what = format!("{what}: {n} notify lines");
    wait(&what, sides, |_, s| s.notify().len() >= n);
}

/// Polls until `read` gives the same text on both sides and `ok` holds
/// for it, or fails showing both (`what` names the text); returns it.
pub(crate) fn same(
    phase: &str,
    what: &str,
    [ka, lite]: [&Side; 2],
    read: impl Fn(&Side) -> String,
    ok: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let (a, b) = (read(ka), read(lite));
        if a == b && ok(&a) {
            return a;
        }
        assert!(
            Instant::now() < deadline,
            "{phase}: {what} not the same on both sides, or not as expected\n\
             --- keepalived\n{a}\n\
             --- keepalived-lite\n{b}\n--- keepalived-lite log\n{}",
            lite.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
