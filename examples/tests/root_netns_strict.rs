//! `vrrp_strict` through nftables, keepalived 2.2.7 against keepalived-lite
//! (needs root, keepalived and nft). Twin namespace layouts, each a router
//! and a peer on a bridge: keepalived runs the strict configuration in one,
//! keepalived-lite in the other, and a plain keepalived at a higher
//! priority is the peer in both. The normalised `nft -j list ruleset`
//! (handles dropped, counters zeroed, set elements sorted) must be the
//! same in both layouts:
//!
//! 1. BACKUP from the start (the peer is master): no table at all;
//! 2. MASTER (the peer stopped): the table, the non-owner's addresses in
//!    the set, never the owner's (it always accepts); reloaded (SIGHUP)
//!    with one more address, then back: the set follows;
//! 3. BACKUP again (the peer back, preempting): the table, empty sets;
//! 4. stopped: no table.
//!
//! A second pair of layouts does the same without strict mode: VRRPv3
//! with `no_accept`, the table named by `nftables` at the priority of
//! `nftables_priority`. A third adds a VMAC (`use_vmac`) under strict
//! mode: its IGMP rule is there from the start.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, Lab};
use serde_json::Value;

/// Safety limit for something expected to happen.
const WAIT: Duration = Duration::from_secs(30);

/// The strict router: VI_1 a plain backup at 150, VI_2 the owner of its
/// address (priority 255, accept mode whatever strict says).
const STRICT: &str = "global_defs {\n  vrrp_strict\n  nftables_counters\n}\n\
    vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
    priority 150\n  advert_int 1\n  virtual_ipaddress {\n    10.0.0.100/24\n    10.0.0.101/24\n  \
    }\n}\n\
    vrrp_instance VI_2 {\n  state MASTER\n  interface eth0\n  virtual_router_id 52\n  \
    priority 255\n  advert_int 1\n  virtual_ipaddress {\n    10.0.0.200/24\n  }\n}\n";

/// Strict mode with a VMAC on VI_1: its IGMP rule from the start.
const STRICT_VMAC: &str = "global_defs {\n  vrrp_strict\n}\n\
    vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
    use_vmac\n  priority 150\n  advert_int 1\n  virtual_ipaddress {\n    10.0.0.100/24\n    \
    10.0.0.101/24\n  }\n}\n\
    vrrp_instance VI_2 {\n  state MASTER\n  interface eth0\n  virtual_router_id 52\n  \
    priority 255\n  advert_int 1\n  virtual_ipaddress {\n    10.0.0.200/24\n  }\n}\n";

/// The same without strict mode: VRRPv3, `no_accept`, a named table.
const NO_ACCEPT: &str = "global_defs {\n  nftables kl\n  nftables_priority 5\n}\n\
    vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
    version 3\n  priority 150\n  advert_int 1\n  no_accept\n  virtual_ipaddress {\n    \
    10.0.0.100/24\n    10.0.0.101/24\n  }\n}\n\
    vrrp_instance VI_2 {\n  state MASTER\n  interface eth0\n  virtual_router_id 52\n  \
    priority 255\n  advert_int 1\n  no_accept\n  virtual_ipaddress {\n    10.0.0.200/24\n  }\n}\n";

/// The peer: plain keepalived, VI_1 at a higher priority.
fn peer(version: u8) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         version {version}\n  priority 200\n  advert_int 1\n  virtual_ipaddress {{\n    \
         10.0.0.100/24\n    10.0.0.101/24\n  }}\n}}\n"
    )
}

/// What runs in a pair of layouts.
struct Scenario {
    /// The router's configuration.
    router: &'static str,
    /// The peer's VRRP version.
    version: u8,
    /// The nftables table the router uses.
    table: &'static str,
    /// Whether VI_1 has a VMAC (then the table exists from the start).
    vmac: bool,
    /// Whether to reload a master with one more address, and back.
    reload: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Keepalived,
    Lite,
}

/// One layout: its lab, the router's daemon and the peer.
struct Layout {
    kind: Kind,
    lab: Lab,
    dir: PathBuf,
    router: u32,
    peer: Option<u32>,
}

impl Layout {
    fn new(kind: Kind) -> Layout {
        let mut lab = Lab::new().unwrap();
        lab.add_node("r", Ipv4Addr::new(10, 0, 0, 1), 24).unwrap();
        lab.add_node("peer", Ipv4Addr::new(10, 0, 0, 2), 24)
            .unwrap();
        let dir = std::env::temp_dir().join(&lab.node("r").ns);
        std::fs::create_dir_all(&dir).unwrap();
        Layout {
            kind,
            lab,
            dir,
            router: 0,
            peer: None,
        }
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn log(&self, node: &str) -> PathBuf {
        self.file(&format!("{node}.log"))
    }

    /// Starts keepalived (or keepalived-lite) on `node` with `conf`.
    fn spawn(&mut self, node: &str, kind: Kind, conf: &str) -> u32 {
        let path = self.file(&format!("{node}.conf"));
        std::fs::write(&path, conf).unwrap();
        let conf = path.to_str().unwrap().to_owned();
        let log = self.log(node);
        let (p, r) = (
            self.file(&format!("{node}.pid")),
            self.file(&format!("{node}.vpid")),
        );
        let (p, r) = (p.to_str().unwrap(), r.to_str().unwrap());
        match kind {
            Kind::Lite => {
                let bin = env!("CARGO_BIN_EXE_keepalived-lite");
                let args = ["-P", "-n", "-l", "-f", &conf, "-p", p, "-r", r];
                self.lab.spawn(node, bin, &args, &log).unwrap()
            }
            Kind::Keepalived => {
                let args = ["-P", "-n", "-l", "-f", &conf, "-p", p, "-r", r];
                self.lab.spawn(node, "keepalived", &args, &log).unwrap()
            }
        }
    }

    /// Rewrites the router's configuration and sends SIGHUP.
    fn reload(&self, conf: &str) {
        std::fs::write(self.file("r.conf"), conf).unwrap();
        self.lab.signal(self.router, "HUP").unwrap();
    }

    fn start_peer(&mut self, version: u8) {
        let pid = self.spawn("peer", Kind::Keepalived, &peer(version));
        self.peer = Some(pid);
    }

    fn stop_peer(&mut self) {
        if let Some(pid) = self.peer.take() {
            self.lab.stop(pid, Duration::from_secs(10));
        }
    }

    /// Waits for the `n`th line of `node`'s log containing `needle`.
    fn wait_line(&self, node: &str, needle: &str, n: usize) {
        let log = self.log(node);
        let deadline = Instant::now() + WAIT;
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.matches(needle).count() >= n {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{:?} {node}: fewer than {n} {needle:?} in:\n{text}",
                self.kind
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The router's ruleset, normalised.
    fn ruleset(&self) -> Vec<Value> {
        let out = self
            .lab
            .run("r", "nft", &["-j", "list", "ruleset"])
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        normalise(&out.stdout)
    }
}

/// `nft -j list ruleset` without metainfo and handles, counters zeroed and
/// set elements sorted (their listed order follows the kernel's hash).
fn normalise(json: &[u8]) -> Vec<Value> {
    // An empty ruleset may print nothing at all.
    let v: Value = serde_json::from_slice(json).unwrap_or(Value::Null);
    let items = v["nftables"].as_array().cloned().unwrap_or_default();
    let mut items: Vec<Value> = items
        .into_iter()
        .filter(|i| i.get("metainfo").is_none())
        .collect();
    items.iter_mut().for_each(scrub);
    items
}

fn scrub(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("handle");
            if let Some(c) = m.get_mut("counter").and_then(Value::as_object_mut) {
                c.insert("packets".into(), 0.into());
                c.insert("bytes".into(), 0.into());
            }
            if let Some(Value::Array(e)) = m.get_mut("elem") {
                e.sort_by_key(Value::to_string);
            }
            m.values_mut().for_each(scrub);
        }
        Value::Array(a) => a.iter_mut().for_each(scrub),
        _ => {}
    }
}

/// The elements of the `ip TABLE` table's `vips` set, if it exists.
fn vips(rules: &[Value], table: &str) -> Option<Vec<String>> {
    let set = rules.iter().find_map(|i| {
        let s = i.get("set")?;
        (s["family"] == "ip" && s["table"] == table && s["name"] == "vips").then_some(s)
    })?;
    let elems = set["elem"].as_array().cloned().unwrap_or_default();
    Some(
        elems
            .iter()
            .filter_map(|e| Some(e.as_str()?.to_owned()))
            .collect(),
    )
}

/// Waits until both layouts show the same ruleset and `ok` holds for it;
/// on timeout shows both.
fn same_rulesets(k: &Layout, l: &Layout, what: &str, ok: impl Fn(&[Value]) -> bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let (a, b) = (k.ruleset(), l.ruleset());
        if a == b && ok(&a) {
            return;
        }
        if Instant::now() >= deadline {
            let pretty = |r: &[Value]| serde_json::to_string_pretty(r).unwrap();
            panic!(
                "{what}: keepalived and keepalived-lite differ\nkeepalived:\n{}\nkeepalived-lite:\n{}",
                pretty(&a),
                pretty(&b)
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn root_netns_strict_nftables_same_as_keepalived_as_backup_master_and_after_stop() {
    run(&Scenario {
        router: STRICT,
        version: 2,
        table: "keepalived",
        vmac: false,
        reload: true,
    });
}

#[test]
fn root_netns_strict_no_accept_v3_named_table_same_as_keepalived() {
    run(&Scenario {
        router: NO_ACCEPT,
        version: 3,
        table: "kl",
        vmac: false,
        reload: false,
    });
}

#[test]
fn root_netns_strict_vmac_same_as_keepalived() {
    run(&Scenario {
        router: STRICT_VMAC,
        version: 2,
        table: "keepalived",
        vmac: true,
        reload: false,
    });
}

fn run(s: &Scenario) {
    require_root();
    require_program("keepalived", &["--version"]);
    require_program("nft", &["--version"]);
    let mut layouts = [Layout::new(Kind::Keepalived), Layout::new(Kind::Lite)];
    for l in &mut layouts {
        l.start_peer(s.version);
    }
    for l in &mut layouts {
        l.wait_line("peer", "(VI_1) Entering MASTER STATE", 1);
        let kind = l.kind;
        l.router = l.spawn("r", kind, s.router);
    }
    for l in &layouts {
        l.wait_line("r", "(VI_1) Entering BACKUP STATE", 1);
        l.wait_line("r", "(VI_2) Entering MASTER STATE", 1);
    }
    let [k, l] = &mut layouts;
    same_rulesets(k, l, "backup from the start", |r| {
        vips(r, s.table).is_none() && r.is_empty() != s.vmac
    });

    k.stop_peer();
    l.stop_peer();
    k.wait_line("r", "(VI_1) Entering MASTER STATE", 1);
    l.wait_line("r", "(VI_1) Entering MASTER STATE", 1);
    let both = Some(vec!["10.0.0.100".to_owned(), "10.0.0.101".to_owned()]);
    same_rulesets(k, l, "master", |r| vips(r, s.table) == both);

    if s.reload {
        // keepalived swaps the master's elements; the set ends up the same.
        let more = "    10.0.0.101/24\n    10.0.0.102/24\n";
        let conf = s.router.replacen("    10.0.0.101/24\n", more, 1);
        k.reload(&conf);
        l.reload(&conf);
        let three = ["10.0.0.100", "10.0.0.101", "10.0.0.102"];
        let three = Some(three.map(String::from).to_vec());
        same_rulesets(k, l, "master reloaded", |r| vips(r, s.table) == three);
        // And back, so that the peer's address list matches again.
        k.reload(s.router);
        l.reload(s.router);
        same_rulesets(k, l, "master reloaded back", |r| vips(r, s.table) == both);
    }

    k.start_peer(s.version);
    l.start_peer(s.version);
    k.wait_line("r", "(VI_1) Entering BACKUP STATE", 2);
    l.wait_line("r", "(VI_1) Entering BACKUP STATE", 2);
    same_rulesets(k, l, "backup after master", |r| {
        vips(r, s.table) == Some(Vec::new())
    });

    for x in [&mut *k, &mut *l] {
        let pid = x.router;
        x.lab.stop(pid, Duration::from_secs(10));
    }
    same_rulesets(k, l, "stopped", |r| r.is_empty());
    // The logs stay only when something failed.
    for x in [&*k, &*l] {
        let _ = std::fs::remove_dir_all(&x.dir);
    }
}
