//! Routers `r1`, `r2`, ... on one bridge (10.0.0.N/24 on `eth0`), each
//! running keepalived-lite or keepalived 2.2.7 on a configuration the test
//! writes, with the waits and log checks the interoperability tests share.
//! Every file lives in one scratch directory named after the lab. A test
//! file that uses it declares `mod common;` too (keepalived's rejections).
#![allow(dead_code)] // each test file uses part of the harness
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, wait_for_line, Lab};

/// Safety limit for a state to be reached (master down is under 4 s).
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// Which daemon a router runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// keepalived-lite.
    Lite,
    /// keepalived 2.2.7.
    Keepalived,
}

impl Kind {
    /// The other daemon.
    pub(crate) fn other(self) -> Kind {
        match self {
            Kind::Lite => Kind::Keepalived,
            Kind::Keepalived => Kind::Lite,
        }
    }
}

/// The lab, a scratch directory and the names of its nodes.
pub(crate) struct World {
    /// The bridge and the nodes.
    pub(crate) lab: Lab,
    /// Configurations, logs and pid files.
    pub(crate) dir: PathBuf,
    /// `r1`, `r2`, ...
    pub(crate) nodes: Vec<String>,
}

/// A daemon started by [`World::start`].
pub(crate) struct Router {
    /// Its node.
    pub(crate) node: String,
    /// Which daemon it is.
    pub(crate) kind: Kind,
    /// The main process.
    pub(crate) pid: u32,
    /// stdout and stderr, appended to across restarts.
    pub(crate) log: PathBuf,
    /// keepalived's VRRP child pid file.
    pub(crate) vrrp_pid: PathBuf,
}

impl World {
    /// `nodes` routers, `rN` at 10.0.0.N/24.
    pub(crate) fn new(nodes: u8) -> World {
        require_root();
        let mut lab = Lab::new().unwrap();
        let names: Vec<String> = (1..=nodes).map(|i| format!("r{i}")).collect();
        for (i, name) in (1..=nodes).zip(&names) {
            lab.add_node(name, Ipv4Addr::new(10, 0, 0, i), 24).unwrap();
        }
        let dir = std::env::temp_dir().join(&lab.node("r1").ns);
        std::fs::create_dir_all(&dir).unwrap();
        World {
            lab,
            dir,
            nodes: names,
        }
    }

    /// Writes `conf` as `node`'s configuration and starts `kind` on it in
    /// the foreground with pid files of its own; a restart appends to the
    /// same log.
    pub(crate) fn start(&mut self, node: &str, kind: Kind, conf: &str) -> Router {
        let file = |f: &str| self.dir.join(format!("{node}-{f}"));
        let conf_path = file("keepalived.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = file(&format!("{kind:?}.log"));
        let (main_pid, vrrp_pid) = (file("k.pid"), file("v.pid"));
        let program = match kind {
            Kind::Lite => env!("CARGO_BIN_EXE_keepalived-lite"),
            Kind::Keepalived => {
                require_program("keepalived", &["--version"]);
                "keepalived"
            }
        };
        let path = |p: &Path| p.to_str().unwrap().to_owned();
        let (conf, p, r) = (path(&conf_path), path(&main_pid), path(&vrrp_pid));
        let args = ["-P", "-n", "-l", "-f", &conf, "-p", &p, "-r", &r];
        let pid = self.lab.spawn(node, program, &args, &log).unwrap();
        Router {
            node: node.to_owned(),
            kind,
            pid,
            log,
            vrrp_pid,
        }
    }

    /// A crash: SIGKILL, to both processes for keepalived. What the dead
    /// master leaves behind (its VIP) is the caller's to clear.
    pub(crate) fn crash(&mut self, r: &Router) {
        if r.kind == Kind::Keepalived {
            let child = wait_for_line(&r.vrrp_pid, "", WAIT).unwrap();
            self.lab
                .signal(child.trim().parse().unwrap(), "KILL")
                .unwrap();
        }
        self.lab.signal(r.pid, "KILL").unwrap();
        self.lab.stop(r.pid, Duration::from_secs(5));
    }

    /// Whether `node`'s eth0 shows `addr` (as `ip -o addr` prints it, with
    /// its prefix length: "10.0.0.100/24").
    pub(crate) fn has_addr(&self, node: &str, addr: &str) -> bool {
        let args = ["-o", "addr", "show", "dev", "eth0"];
        let out = self.lab.run(node, "ip", &args).unwrap();
        String::from_utf8_lossy(&out.stdout).contains(&format!(" {addr} "))
    }

    /// Waits until `addr` is on `node` and on no other node.
    pub(crate) fn addr_only_on(&self, node: &str, addr: &str) {
        let all: Vec<&str> = self.nodes.iter().map(String::as_str).collect();
        self.addr_only_on_among(node, &all, addr);
    }

    /// Waits until `addr` is on `node` and on none of the rest of `all`.
    pub(crate) fn addr_only_on_among(&self, node: &str, all: &[&str], addr: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            let on: Vec<&str> = (all.iter().copied())
                .filter(|n| self.has_addr(n, addr))
                .collect();
            if on == [node] {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{addr} expected only on {node}, found on {on:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What `tcpdump -i eth0 -c N -n FILTER` printed on `node` once it saw
    /// `n` packets (a packet socket; it exits once it has them), or when
    /// [`WAIT`] ran out.
    pub(crate) fn tcpdump(&self, node: &str, n: u32, filter: &str) -> String {
        let count = n.to_string();
        let args = ["-i", "eth0", "-c", &count, "-n", filter];
        let out = (self.lab.command(node, "timeout"))
            .arg(WAIT.as_secs().to_string())
            .arg("tcpdump")
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// The file's text so far (empty before it exists).
pub(crate) fn log_text(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// Waits until `path` holds `n` occurrences of `needle`; its text.
pub(crate) fn wait_lines(path: &Path, needle: &str, n: usize) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = log_text(path);
        if text.matches(needle).count() >= n {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{}: fewer than {n} lines with {needle:?}:\n{text}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits for the `n`th line (1-based) of `r`'s log containing `needle`.
pub(crate) fn wait_nth(r: &Router, needle: &str, n: usize) {
    wait_lines(&r.log, needle, n);
}

/// Waits for a line of `r`'s log containing `needle`; that line.
pub(crate) fn wait_line(r: &Router, needle: &str) -> String {
    wait_for_line(&r.log, needle, WAIT).unwrap_or_else(|| {
        panic!(
            "{}: no line with {needle:?} in its log:\n{}",
            r.node,
            log_text(&r.log)
        )
    })
}

/// No line of `r`'s log is one of keepalived's rejections of a packet.
pub(crate) fn assert_no_rejection(r: &Router) {
    let text = log_text(&r.log);
    for l in text.lines() {
        if let Some(bad) = (crate::common::KEEPALIVED_REJECTIONS.iter()).find(|x| l.contains(*x)) {
            panic!("{} logged a rejection ({bad}): {l}\n{text}", r.node);
        }
    }
}

/// No rejection of a packet (but the note that VRRPv3 has no
/// authentication) and no error line in `r`'s log.
pub(crate) fn assert_clean(r: &Router) {
    let text = log_text(&r.log);
    for l in text.lines() {
        let lower = l.to_lowercase();
        let bad = (crate::common::KEEPALIVED_REJECTIONS.iter())
            .any(|x| l.contains(x) && !l.contains("does not support authentication"));
        assert!(
            !bad && !lower.contains("error") && !lower.contains("bogus"),
            "{} logged: {l}\n{text}",
            r.node
        );
    }
}
