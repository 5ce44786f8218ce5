//! The vrrp `root_netns_*` tests' topologies, built on the namespace lab of
//! the `test-support` crate. Everything is torn down on drop, even when a
//! test fails.
#![allow(dead_code, unreachable_pub)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

#[cfg(feature = "tokio")]
pub mod driver;
mod veth;

#[allow(unused_imports)] // each test file uses what it needs
pub use veth::{bare_veth, veth};

pub use test_support::netns::{require_program, require_root, Netns};

/// A new namespace; panics (the test cannot go on) if `ip` fails.
fn netns(tag: &str) -> Netns {
    Netns::new(tag).unwrap_or_else(|e| panic!("create namespace {tag}: {e}"))
}

/// Runs `ip -n NS ARGS`, panicking with stderr on failure.
pub fn ip(ns: &Netns, args: &[&str]) {
    ns.ip(args)
        .unwrap_or_else(|e| panic!("in {}: {e}", ns.name()));
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
        let a = netns("a");
        let b = netns("b");
        ip(
            &a,
            &[
                "link",
                "add",
                "eth0",
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                b.name(),
            ],
        );
        ip(&a, &["addr", "add", "192.0.2.1/24", "dev", "eth0"]);
        ip(&b, &["addr", "add", "192.0.2.2/24", "dev", "eth0"]);
        ip(&a, &["link", "set", "eth0", "up"]);
        ip(&b, &["link", "set", "eth0", "up"]);
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
        let switch = netns("s");
        let nodes: Vec<Netns> = (0..n).map(|i| netns(&format!("n{i}"))).collect();
        for (l, net) in SEGMENT_NETS.iter().enumerate().take(segments) {
            let br = format!("br{l}");
            ip(&switch, &["link", "add", &br, "type", "bridge"]);
            ip(&switch, &["link", "set", &br, "up"]);
            for (i, node) in nodes.iter().enumerate() {
                let port = format!("p{i}s{l}");
                let eth = format!("eth{l}");
                ip(
                    &switch,
                    &[
                        "link",
                        "add",
                        &port,
                        "type",
                        "veth",
                        "peer",
                        "name",
                        &eth,
                        "netns",
                        node.name(),
                    ],
                );
                ip(&switch, &["link", "set", &port, "master", &br]);
                ip(&switch, &["link", "set", &port, "up"]);
                let addr = format!("{net}.{}/24", i + 1);
                ip(node, &["addr", "add", &addr, "dev", &eth]);
                ip(node, &["link", "set", &eth, "up"]);
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
    require_program("tcpdump", &["--version"]);
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

/// Calls `f` every 5 ms until it returns `Some`, for at most 20 s (a safety
/// limit against hanging, not a timing assertion).
pub fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// `ns`'s macvlan links: name, index, MAC and whether it holds `vip`.
pub fn macvlans(ns: &Netns, vip: std::net::Ipv4Addr) -> Vec<(String, u64, String, bool)> {
    let links = ns.ip_json(&["-d", "addr", "show"]).unwrap();
    let vip = vip.to_string();
    (links.as_array().unwrap().iter())
        .filter(|l| l["linkinfo"]["info_kind"] == "macvlan")
        .map(|l| {
            let has_vip = (l["addr_info"].as_array().into_iter().flatten())
                .any(|a| a["local"] == vip.as_str());
            let name = l["ifname"].as_str().unwrap_or_default().to_owned();
            let mac = l["address"].as_str().unwrap_or_default().to_owned();
            (name, l["ifindex"].as_u64().unwrap_or(0), mac, has_vip)
        })
        .collect()
}
