//! Twin-namespace harness (issue 14): keepalived 2.2.7 and keepalived-lite
//! run the same configuration in two identical layouts, and the tests
//! compare the kernel state each leaves and the notify lines each runs.
//!
//! A layout is a [`Lab`]: a bridge, node `r1` (`eth0` = 10.77.0.1/24) that
//! runs the daemon under test and node `r2` (`eth0` = 10.77.0.2/24) where
//! a real keepalived can play the peer. Both layouts get the same extra
//! setup (dummy interfaces, IPv6 addresses), so both daemons see the same
//! interface names and addresses. In a configuration `@DIR@` stands for the
//! layout's scratch directory and `@NOTIFY@` for a notify script that
//! appends its arguments to `@DIR@/notify.out`.
//!
//! [`snapshot`] is `ip -d addr`, the routes of every table, the policy
//! rules of both families and `nft list ruleset`, normalised so that what
//! legitimately differs between two namespaces (peer ifindexes, namespace
//! ids, address lifetimes, counters) reads the same; every Ethernet link
//! gets the same MAC in both layouts, and so the same link-local address.
#![allow(dead_code)] // each test file uses part of the harness
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod log_lines;
mod steps;

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, Lab};

/// The reference daemon.
pub(crate) const KEEPALIVED: &str = "/usr/sbin/keepalived";
/// Generous: CI machines are small and loaded.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// Which daemon runs on `r1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// keepalived 2.2.7.
    Keepalived,
    /// keepalived-lite.
    Lite,
}

/// One layout: its lab, its scratch directory and the daemons' pids.
pub(crate) struct Side {
    /// Which daemon runs on `r1`.
    pub(crate) kind: Kind,
    /// The bridge, `r1` and `r2`.
    pub(crate) lab: Lab,
    /// Scratch directory (configurations, logs, notify output).
    pub(crate) dir: PathBuf,
    /// The daemon on `r1`, while it runs.
    pub(crate) router: Option<u32>,
    /// The keepalived peer on `r2`, while it runs.
    pub(crate) peer: Option<u32>,
    /// Whether [`Side::snapshot`] has the nftables ruleset.
    pub(crate) nft: bool,
    /// Lines [`Side::snapshot`] leaves out: a known divergence, which the
    /// test asserts on its own.
    pub(crate) known: Vec<&'static str>,
}

impl Side {
    /// A layout with `setup` run on both nodes (`ip` argument lists, run
    /// with `ip -n NODE`; `@N@` is the node's number, 1 or 2).
    pub(crate) fn new(kind: Kind, setup: &[&[&str]]) -> Side {
        let mut lab = Lab::new().unwrap();
        lab.add_node("r1", Ipv4Addr::new(10, 77, 0, 1), 24).unwrap();
        lab.add_node("r2", Ipv4Addr::new(10, 77, 0, 2), 24).unwrap();
        for (n, node) in ["r1", "r2"].into_iter().enumerate() {
            // First: a link going down loses its IPv6 addresses.
            same_macs(&lab, node, n);
            let number = (n + 1).to_string();
            for args in setup {
                let args: Vec<String> = args.iter().map(|a| a.replace("@N@", &number)).collect();
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                lab.netns(node).ip(&args).unwrap();
            }
            // Then the links the setup made.
            same_macs(&lab, node, n);
        }
        let dir = std::env::temp_dir().join(format!("{}-twin", lab.node("r1").ns));
        std::fs::create_dir_all(&dir).unwrap();
        let notify = dir.join("notify.sh");
        let body = format!(
            "#!/bin/sh\necho \"$*\" >> {}\n",
            dir.join("notify.out").display()
        );
        std::fs::write(&notify, body).unwrap();
        std::fs::set_permissions(&notify, std::fs::Permissions::from_mode(0o755)).unwrap();
        Side {
            kind,
            lab,
            dir,
            router: None,
            peer: None,
            nft: true,
            known: Vec::new(),
        }
    }

    /// `conf` with `@DIR@` and `@NOTIFY@` filled in.
    pub(crate) fn fill(&self, conf: &str) -> String {
        let dir = self.dir.display().to_string();
        conf.replace("@NOTIFY@", &format!("{dir}/notify.sh"))
            .replace("@DIR@", &dir)
    }

    fn write_conf(&self, node: &str, conf: &str) -> PathBuf {
        let path = self.dir.join(format!("{node}.conf"));
        std::fs::write(&path, self.fill(conf)).unwrap();
        path
    }

    /// The log of `node`'s daemon.
    pub(crate) fn log(&self, node: &str) -> PathBuf {
        self.dir.join(format!("{node}.log"))
    }

    /// The text of `node`'s log (empty if none yet).
    pub(crate) fn log_text(&self, node: &str) -> String {
        std::fs::read_to_string(self.log(node)).unwrap_or_default()
    }

    /// Starts this layout's daemon on `r1` with `conf`.
    pub(crate) fn start(&mut self, conf: &str) {
        let path = self.write_conf("r1", conf);
        let log = self.log("r1");
        let pid = match self.kind {
            Kind::Keepalived => {
                (self.lab).spawn_vrrp_daemon("r1", KEEPALIVED, &path, &self.dir, &log)
            }
            Kind::Lite => {
                let bin = env!("CARGO_BIN_EXE_keepalived-lite");
                (self.lab).spawn_lite_daemon("r1", bin, &path, &self.dir, &log)
            }
        };
        self.router = Some(pid.unwrap());
    }

    /// Rewrites the configuration of `r1`'s daemon and sends it SIGHUP.
    pub(crate) fn reload(&self, conf: &str) {
        self.write_conf("r1", conf);
        if let Some(pid) = self.router {
            self.lab.signal(pid, "HUP").unwrap();
        }
    }

    /// Starts keepalived on `r2` with `conf`.
    pub(crate) fn start_peer(&mut self, conf: &str) {
        let path = self.write_conf("r2", conf);
        let log = self.log("r2");
        let pid = (self.lab).spawn_vrrp_daemon("r2", KEEPALIVED, &path, &self.dir, &log);
        self.peer = Some(pid.unwrap());
    }

    /// Stops the daemon on `r1` (SIGTERM, then SIGKILL after [`WAIT`]).
    pub(crate) fn stop(&mut self) {
        if let Some(pid) = self.router.take() {
            self.lab.stop(pid, WAIT);
        }
    }

    /// Stops the peer on `r2`.
    pub(crate) fn stop_peer(&mut self) {
        if let Some(pid) = self.peer.take() {
            self.lab.stop(pid, WAIT);
        }
    }

    /// Runs `ip ARGS` in `r1`; its stdout.
    pub(crate) fn ip(&self, args: &[&str]) -> String {
        self.lab.netns("r1").ip(args).unwrap_or_default()
    }

    /// Runs `program ARGS` in `r1`; its stdout.
    pub(crate) fn run(&self, program: &str, args: &[&str]) -> String {
        let out = self.lab.run("r1", program, args).unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `r1`'s kernel state, normalised (see the module documentation).
    pub(crate) fn snapshot(&self) -> String {
        let mut out = String::new();
        for args in [
            &["-d", "addr", "show"][..],
            &["-4", "route", "show", "table", "all"],
            &["-6", "route", "show", "table", "all"],
            &["-4", "rule", "show"],
            &["-6", "rule", "show"],
        ] {
            let mut text = self.ip(args);
            if args.contains(&"route") {
                // Routes to one prefix on several links are listed in the
                // order the links came up, which races.
                // A multipath route's next hops stay under it.
                let mut routes: Vec<String> = Vec::new();
                for line in text.lines() {
                    match routes.last_mut() {
                        Some(r) if line.starts_with(char::is_whitespace) => {
                            r.push('\n');
                            r.push_str(line);
                        }
                        _ => routes.push(line.to_owned()),
                    }
                }
                routes.sort_unstable();
                text = routes.join("\n") + "\n";
            }
            out.push_str(&format!("# ip {}\n{text}", args.join(" ")));
        }
        if self.nft {
            let nft = self.run("nft", &["list", "ruleset"]);
            out.push_str(&format!("# nft list ruleset\n{nft}"));
        }
        let out = normalise(&out);
        let known = |l: &&str| self.known.iter().any(|k| l.contains(k));
        out.lines()
            .filter(|l| !known(l))
            .map(|l| format!("{l}\n"))
            .collect()
    }

    /// The notify script's lines so far, the scratch directory written
    /// as DIR.
    pub(crate) fn notify_lines(&self) -> Vec<String> {
        let text = std::fs::read_to_string(self.dir.join("notify.out")).unwrap_or_default();
        let dir = self.dir.display().to_string();
        text.lines().map(|l| l.replace(&dir, "DIR")).collect()
    }
}

impl Drop for Side {
    /// The files go even when a test fails (its message has the logs);
    /// the lab then stops the daemons and deletes the namespaces.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Both layouts.
pub(crate) struct Twin {
    /// keepalived's layout.
    pub(crate) ka: Side,
    /// keepalived-lite's layout.
    pub(crate) lite: Side,
}

impl Twin {
    /// Two layouts with the same `setup`; nothing runs yet. Needs root,
    /// iproute2, nft and keepalived.
    pub(crate) fn new(setup: &[&[&str]]) -> Twin {
        require_root();
        require_program(KEEPALIVED, &["-v"]);
        require_program("nft", &["--version"]);
        Twin {
            ka: Side::new(Kind::Keepalived, setup),
            lite: Side::new(Kind::Lite, setup),
        }
    }

    /// Both layouts, for a step done to each.
    pub(crate) fn sides(&mut self) -> [&mut Side; 2] {
        [&mut self.ka, &mut self.lite]
    }

    /// Both logs of `node`, for a failure message.
    pub(crate) fn logs(&self, node: &str) -> String {
        format!(
            "--- keepalived {node} log\n{}\n--- keepalived-lite {node} log\n{}",
            self.ka.log_text(node),
            self.lite.log_text(node)
        )
    }

    /// Polls until both `node` logs hold `needle` at least `n` times.
    pub(crate) fn wait_log(&self, node: &str, needle: &str, n: usize) {
        let deadline = Instant::now() + WAIT;
        let enough = |s: &Side| s.log_text(node).matches(needle).count() >= n;
        while !(enough(&self.ka) && enough(&self.lite)) {
            assert!(
                Instant::now() < deadline,
                "{needle:?} not {n} times in both logs\n{}\n{}",
                self.logs(node),
                self.logs(if node == "r1" { "r2" } else { "r1" })
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Polls until both kernel states are the same and `ok` holds for
    /// them (they may lag the log by a few requests); returns the state.
    /// On timeout shows both, line by line where they differ.
    pub(crate) fn same_state(&self, phase: &str, ok: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let (a, b) = (self.ka.snapshot(), self.lite.snapshot());
            if a == b && ok(&a) {
                return a;
            }
            assert!(
                Instant::now() < deadline,
                "{phase}: kernel state differs (or lacks what is expected)\n{}\n{}",
                diff(&a, &b),
                self.logs("r1")
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Polls until both notify scripts wrote the same lines, `want` (DIR
    /// for the scratch directory): keepalived-lite in that order;
    /// keepalived in any order, since it forks each script and two
    /// scripts started close together may finish the other way round
    /// (seen: FAULT's line before BACKUP's). Its log gives the order.
    pub(crate) fn same_notify(&self, phase: &str, want: &[&str]) {
        let deadline = Instant::now() + WAIT;
        let sorted = |mut v: Vec<String>| {
            v.sort();
            v
        };
        let want_sorted = sorted(want.iter().map(|s| s.to_string()).collect());
        loop {
            let (a, b) = (self.ka.notify_lines(), self.lite.notify_lines());
            if sorted(a.clone()) == want_sorted && b == want {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{phase}: notify lines\n--- keepalived\n{a:#?}\n--- keepalived-lite\n{b:#?}\n\
                 --- want\n{want:#?}\n{}",
                self.logs("r1")
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The usual sequence: `conf` runs on `r1` until MASTER, then `peer`
    /// (keepalived, a higher priority) on `r2` makes it BACKUP, then `r1`
    /// stops. Returns the three states, each the same in both layouts and
    /// accepted by its `ok`.
    pub(crate) fn master_backup_stop(
        &mut self,
        conf: &str,
        peer: &str,
        ok: [&dyn Fn(&str) -> bool; 3],
    ) -> [String; 3] {
        for s in self.sides() {
            s.start(conf);
        }
        self.wait_log("r1", "(VI_1) Entering MASTER STATE", 1);
        let master = self.same_state("MASTER", ok[0]);
        for s in self.sides() {
            s.start_peer(peer);
        }
        // The first is the "(init)" one.
        self.wait_log("r1", "(VI_1) Entering BACKUP STATE", 2);
        let backup = self.same_state("BACKUP", ok[1]);
        for s in self.sides() {
            s.stop();
        }
        let stopped = self.same_state("stopped", ok[2]);
        [master, backup, stopped]
    }
}

/// Gives every Ethernet link of `node` a MAC made of the node's number
/// and the link's ifindex, the same in both layouts, and so the same
/// IPv6 link-local address (the link goes down and up to make it anew,
/// losing its IPv6 addresses: links already done are left alone).
fn same_macs(lab: &Lab, node: &str, n: usize) {
    let ns = lab.netns(node);
    let links = ns.ip_json(&["link", "show"]).unwrap();
    for link in links.as_array().into_iter().flatten() {
        let (Some(name), Some(index)) = (link["ifname"].as_str(), link["ifindex"].as_u64()) else {
            continue;
        };
        let done = link["address"]
            .as_str()
            .is_some_and(|a| a.starts_with("02:77:"));
        if link["link_type"] != "ether" || done {
            continue;
        }
        let mac = format!("02:77:00:{:02x}:00:{index:02x}", n + 1);
        for args in [&["down"][..], &["address", &mac], &["up"]] {
            ns.ip(&[&["link", "set", "dev", name][..], args].concat())
                .unwrap();
        }
    }
}

/// The lines of `a` and `b` side by side where they differ.
fn diff(a: &str, b: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out = String::new();
    for i in 0..a.len().max(b.len()) {
        let (x, y) = (a.get(i).copied(), b.get(i).copied());
        let mark = if x == y { "  " } else { "! " };
        out.push_str(&format!(
            "{mark}{:<70} | {}\n",
            x.unwrap_or("-"),
            y.unwrap_or("-")
        ));
    }
    out
}

/// What two namespaces may differ in, made the same: `@ifN` peer
/// indexes (in the switch namespace), `link-netns(id)` values, non-zero
/// lifetimes and counters. MACs need nothing: [`same_macs`].
pub(crate) fn normalise(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let indent = &line[..line.len() - line.trim_start().len()];
        let mut words: Vec<String> = Vec::new();
        let mut prev = "";
        for w in line.split_whitespace() {
            let word = match prev {
                "link-netns" | "link-netnsid" => "X".to_owned(),
                "packets" | "bytes" => "0".to_owned(),
                _ => token(w),
            };
            words.push(word);
            prev = w;
        }
        out.push_str(indent);
        out.push_str(&words.join(" "));
        out.push('\n');
    }
    out
}

fn token(w: &str) -> String {
    if let Some((name, _)) = w.split_once("@if") {
        return format!("{name}@ifN{}", if w.ends_with(':') { ":" } else { "" });
    }
    if let Some(n) = w.strip_suffix("sec") {
        if n.parse::<u64>().is_ok_and(|n| n > 0) {
            return "Nsec".to_owned();
        }
    }
    w.to_owned()
}

/// keepalived-lite's `-t` on `conf` exits 5 with one of `want` in its
/// report.
pub(crate) fn assert_refused_by_t(conf: &str, want: &[String]) {
    let path = std::env::temp_dir().join(format!(
        "twin-t-{}-{:?}.conf",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, conf).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keepalived-lite"))
        .arg("-t")
        .arg("-f")
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{conf}\n{text}");
    assert!(
        want.iter().any(|w| text.contains(w.as_str())),
        "{conf}\nwant one of {want:?} in:\n{text}"
    );
}
