//! A small network-namespace lab for the `root_netns_*` tests: namespaces
//! with run-unique names, veth links, commands inside them, and threads that
//! enter them to open sockets. Everything is torn down on drop, even when a
//! test fails.
#![allow(dead_code, unreachable_pub)]

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sched::{setns, CloneFlags};

/// Panics with a clear message unless we are root and `ip` works.
pub fn require_root() {
    assert!(
        nix::unistd::geteuid().is_root(),
        "this root_netns_* test needs root (it creates network namespaces)"
    );
    let ok = Command::new("ip")
        .arg("-V")
        .output()
        .map(|o| o.status.success());
    assert!(
        matches!(ok, Ok(true)),
        "this root_netns_* test needs iproute2's `ip`"
    );
}

/// Panics with a clear message unless `program` can be run.
pub fn require_program(program: &str, version_flag: &str) {
    let ok = Command::new(program)
        .arg(version_flag)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok();
    assert!(ok, "this test needs `{program}` installed");
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// A network namespace, deleted on drop.
pub struct Netns {
    pub name: String,
}

impl Netns {
    /// Creates `vt{pid}{n}{tag}` with `lo` up.
    pub fn new(tag: &str) -> Netns {
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let name = format!("vt{}x{}{}", std::process::id(), n, tag);
        run(Command::new("ip").args(["netns", "add", &name]));
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    /// Runs `ip -n NS ARGS`, panicking with stderr on failure; returns stdout.
    pub fn ip(&self, args: &[&str]) -> String {
        run(Command::new("ip").args(["-n", &self.name]).args(args))
    }

    /// Runs `ip -j -n NS ARGS` and parses the JSON.
    pub fn ip_json(&self, args: &[&str]) -> serde_json::Value {
        let out = run(Command::new("ip").args(["-j", "-n", &self.name]).args(args));
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("ip -j {args:?}: {e}: {out}"))
    }

    /// A command that will run inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &self.name, program]);
        c
    }

    /// Runs `f` on a thread that entered this namespace: sockets it opens
    /// stay in the namespace afterwards.
    pub fn enter<T: Send>(&self, f: impl FnOnce() -> T + Send) -> T {
        let path = format!("/run/netns/{}", self.name);
        std::thread::scope(|s| {
            s.spawn(|| {
                let file = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
                setns(file, CloneFlags::CLONE_NEWNET)
                    .unwrap_or_else(|e| panic!("setns {path}: {e}"));
                f()
            })
            .join()
            .unwrap_or_else(|_| panic!("thread inside {path} panicked"))
        })
    }

    /// Spawns a thread that enters this namespace and runs `f`.
    pub fn spawn<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let path = format!("/run/netns/{}", self.name);
        std::thread::spawn(move || {
            let file = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
            setns(file, CloneFlags::CLONE_NEWNET).unwrap_or_else(|e| panic!("setns {path}: {e}"));
            f()
        })
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .stderr(Stdio::null())
            .status();
    }
}

/// Two namespaces joined by a veth pair, `eth0` on each side, addressed
/// 192.0.2.1/24 (a) and 192.0.2.2/24 (b), both up.
pub struct Pair {
    pub a: Netns,
    pub b: Netns,
}

pub const A_ADDR: &str = "192.0.2.1";
pub const B_ADDR: &str = "192.0.2.2";

impl Pair {
    pub fn new() -> Pair {
        require_root();
        let a = Netns::new("a");
        let b = Netns::new("b");
        a.ip(&[
            "link", "add", "eth0", "type", "veth", "peer", "name", "eth0", "netns", &b.name,
        ]);
        a.ip(&["addr", "add", "192.0.2.1/24", "dev", "eth0"]);
        b.ip(&["addr", "add", "192.0.2.2/24", "dev", "eth0"]);
        a.ip(&["link", "set", "eth0", "up"]);
        b.ip(&["link", "set", "eth0", "up"]);
        Pair { a, b }
    }
}

/// A LAN: a switch namespace with bridge `br0`, and `n` node namespaces
/// whose `eth0` is plugged into it, addressed 192.0.2.(i+1)/24. Unlike a
/// [`Pair`], one node's link going down leaves the others' carrier up.
pub struct Lan {
    pub nodes: Vec<Netns>,
    pub switch: Netns,
}

impl Lan {
    pub fn new(n: usize) -> Lan {
        Lan::with_segments(n, 1)
    }

    /// `n` nodes on `segments` bridges: node i's `eth{l}` is on `br{l}`
    /// with address `SEGMENT_NETS[l].(i+1)/24`.
    pub fn with_segments(n: usize, segments: usize) -> Lan {
        require_root();
        let switch = Netns::new("s");
        let nodes: Vec<Netns> = (0..n).map(|i| Netns::new(&format!("n{i}"))).collect();
        for (l, net) in SEGMENT_NETS.iter().enumerate().take(segments) {
            let br = format!("br{l}");
            switch.ip(&["link", "add", &br, "type", "bridge"]);
            switch.ip(&["link", "set", &br, "up"]);
            for (i, node) in nodes.iter().enumerate() {
                let port = format!("p{i}s{l}");
                let eth = format!("eth{l}");
                switch.ip(&[
                    "link", "add", &port, "type", "veth", "peer", "name", &eth, "netns", &node.name,
                ]);
                switch.ip(&["link", "set", &port, "master", &br]);
                switch.ip(&["link", "set", &port, "up"]);
                let addr = format!("{net}.{}/24", i + 1);
                node.ip(&["addr", "add", &addr, "dev", &eth]);
                node.ip(&["link", "set", &eth, "up"]);
            }
        }
        Lan { nodes, switch }
    }
}

/// The /24 of each segment of a [`Lan`] (documentation ranges).
pub const SEGMENT_NETS: [&str; 2] = ["192.0.2", "198.51.100"];

/// A child process killed (by pid) and reaped on drop.
pub struct KillOnDrop(pub Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `tcpdump -l -n -e -c COUNT -i IFACE FILTER` in `ns` and waits until
/// it listens. Its stdout lines arrive on the returned channel.
pub fn tcpdump(
    ns: &Netns,
    iface: &str,
    count: u32,
    filter: &str,
) -> (KillOnDrop, mpsc::Receiver<String>) {
    require_program("tcpdump", "--version");
    let mut child = ns
        .command("tcpdump")
        .args([
            "-l",
            "-n",
            "-e",
            "-c",
            &count.to_string(),
            "-i",
            iface,
            filter,
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tcpdump");
    let stdout = child.stdout.take().expect("piped stdout");
    let stderr = child.stderr.take().expect("piped stderr");
    let guard = KillOnDrop(child);
    let (ready_tx, ready_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains("listening on") {
                let _ = ready_tx.send(());
            }
        }
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    ready_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("tcpdump did not start listening within 10 s");
    (guard, rx)
}

/// Calls `f` every 5 ms until it returns `Some`, for at most 5 s (a safety
/// limit against hanging, not a timing assertion).
pub fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
