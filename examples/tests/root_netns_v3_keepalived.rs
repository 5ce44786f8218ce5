//! keepalived-lite and keepalived 2.2.7 speaking VRRPv3 over IPv4 in a
//! namespace lab (needs root, iproute2 and the Debian `keepalived`): each
//! side in turn is master while the other stays backup, a graceful stop
//! hands over and a restart preempts back, a crash (SIGKILL) is taken over,
//! and neither log shows an error, a bogus packet or a checksum complaint.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod common;

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use keepalived_lite::netns::{require_program, require_root, wait_for_line, Lab};

const VIP: &str = "10.0.0.100";
/// Safety limit for a state to be reached (master down is under 2 s).
const WAIT: Duration = Duration::from_secs(20);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Lite,
    Keepalived,
}

impl Kind {
    fn other(self) -> Kind {
        match self {
            Kind::Lite => Kind::Keepalived,
            Kind::Keepalived => Kind::Lite,
        }
    }
}

/// A version 3 instance at `advert_int 0.5` (centiseconds on the wire); the
/// `authentication` block is ignored by both sides under version 3.
fn config(name: &str, priority: u8) -> String {
    format!(
        "global_defs {{\n  router_id {name}\n  vrrp_version 3\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority {priority}\n  advert_int 0.5\n  authentication {{\n    auth_type PASS\n    \
         auth_pass secret1\n  }}\n  virtual_ipaddress {{\n    {VIP}/24\n  }}\n}}\n"
    )
}

struct World {
    lab: Lab,
    dir: PathBuf,
}

struct Router {
    node: String,
    kind: Kind,
    pid: u32,
    log: PathBuf,
    /// keepalived's VRRP child pid file.
    vrrp_pid: PathBuf,
}

impl World {
    fn new() -> World {
        require_root();
        require_program("keepalived", &["--version"]);
        let mut lab = Lab::new().unwrap();
        for i in 0..2u8 {
            let addr = Ipv4Addr::new(10, 0, 0, 1 + i);
            lab.add_node(&format!("r{}", i + 1), addr, 24).unwrap();
        }
        let dir = std::env::temp_dir().join(&lab.node("r1").ns);
        std::fs::create_dir_all(&dir).unwrap();
        World { lab, dir }
    }

    /// Starts `kind` on `node`; a restart appends to the same log.
    fn start(&mut self, node: &str, kind: Kind, priority: u8) -> Router {
        let file = |f: &str| self.dir.join(format!("{node}-{f}"));
        let conf_path = file("keepalived.conf");
        std::fs::write(&conf_path, config(node, priority)).unwrap();
        let log = file(&format!("{kind:?}.log"));
        let conf = conf_path.to_str().unwrap().to_owned();
        let (p, vrrp_pid) = (file("k.pid"), file("v.pid"));
        let pid = match kind {
            Kind::Lite => {
                let (p, r) = (p.to_str().unwrap(), vrrp_pid.to_str().unwrap());
                let args = ["-P", "-n", "-l", "-f", &conf, "-p", p, "-r", r];
                let bin = env!("CARGO_BIN_EXE_keepalived-lite");
                self.lab.spawn(node, bin, &args, &log).unwrap()
            }
            Kind::Keepalived => {
                let (p, r) = (p.to_str().unwrap(), vrrp_pid.to_str().unwrap());
                let args = ["-P", "-n", "-l", "-f", &conf, "-p", p, "-r", r];
                self.lab.spawn(node, "keepalived", &args, &log).unwrap()
            }
        };
        Router {
            node: node.to_owned(),
            kind,
            pid,
            log,
            vrrp_pid,
        }
    }

    /// A crash: SIGKILL, to both processes for keepalived; the VIP a dead
    /// master leaves behind is flushed as a reboot would.
    fn crash(&mut self, r: &Router) {
        if r.kind == Kind::Keepalived {
            let child = wait_for_line(&r.vrrp_pid, "", WAIT).unwrap();
            self.lab
                .signal(child.trim().parse().unwrap(), "KILL")
                .unwrap();
        }
        self.lab.signal(r.pid, "KILL").unwrap();
        self.lab.stop(r.pid, Duration::from_secs(5));
        let vip = format!("{VIP}/32");
        let args = ["addr", "flush", "dev", "eth0", "to", &vip];
        self.lab.run(&r.node, "ip", &args).unwrap();
    }

    fn has_vip(&self, node: &str) -> bool {
        let args = ["-4", "-o", "addr", "show", "dev", "eth0"];
        let out = self.lab.run(node, "ip", &args).unwrap();
        String::from_utf8_lossy(&out.stdout).contains(&format!("{VIP}/24"))
    }

    /// Waits until the VIP is on `node` and not on the other one.
    fn vip_only_on(&self, node: &str) {
        let deadline = std::time::Instant::now() + WAIT;
        loop {
            let on: Vec<&str> = ["r1", "r2"]
                .into_iter()
                .filter(|n| self.has_vip(n))
                .collect();
            if on == [node] {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "VIP expected only on {node}, found on {on:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

fn log_text(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// Waits for the `n`th line (1-based) containing `needle`.
fn wait_nth(r: &Router, needle: &str, n: usize) {
    let deadline = std::time::Instant::now() + WAIT;
    while log_text(&r.log).matches(needle).count() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "{}: fewer than {n} lines with {needle:?}:\n{}",
            r.node,
            log_text(&r.log)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// keepalived's rejections of a packet, plus any error line.
fn assert_clean(r: &Router) {
    let text = log_text(&r.log);
    for l in text.lines() {
        let lower = l.to_lowercase();
        let bad = common::KEEPALIVED_REJECTIONS
            .iter()
            .any(|x| l.contains(x) && !l.contains("does not support authentication"));
        assert!(
            !bad && !lower.contains("error") && !lower.contains("bogus"),
            "{} logged: {l}\n{text}",
            r.node
        );
    }
}

const MASTER: &str = "(VI_1) Entering MASTER STATE";
const BACKUP: &str = "(VI_1) Entering BACKUP STATE";

/// `first` on r1 at priority 150 is master and the other kind on r2 at 100
/// stays backup while several adverts cross; a graceful stop hands over to
/// r2; restarted, r1 preempts back; crashed, r2 takes over again.
fn handover_preempt_crash(first: Kind) {
    let mut w = World::new();
    // The master first: started together, the backup's shorter head start
    // would decide whenever the master's process is slow to start.
    let a = w.start("r1", first, 150);
    wait_nth(&a, MASTER, 1);
    let b = w.start("r2", first.other(), 100);
    wait_nth(&b, BACKUP, 1);
    w.vip_only_on("r1");
    // Adverts at 0.5 s: the backup hears several before we stop the master,
    // and the sent count in keepalived-lite's or keepalived's log shows
    // nothing made it take over meanwhile.
    wait_for_adverts(&w, "r2", 4);
    assert_eq!(log_text(&b.log).matches(MASTER).count(), 0);

    // Graceful: priority 0, the backup takes over at once.
    w.lab.stop(a.pid, Duration::from_secs(5));
    wait_nth(&b, MASTER, 1);
    w.vip_only_on("r2");

    // Preemption back by the higher priority.
    let a2 = w.start("r1", first, 150);
    wait_nth(&a2, MASTER, 2);
    wait_nth(&b, BACKUP, 2);
    w.vip_only_on("r1");

    // Crash: no priority-0 advert; the backup waits Master_Down_Interval.
    w.crash(&a2);
    wait_nth(&b, MASTER, 2);
    w.vip_only_on("r2");
    for r in [&a2, &b] {
        assert_clean(r);
    }
}

/// Waits until `node` has received `n` VRRPv3 adverts from r1 (seen with
/// a packet socket through `tcpdump -c`, which exits once it has them).
fn wait_for_adverts(w: &World, node: &str, n: u32) {
    let count = n.to_string();
    let args = [
        "-i",
        "eth0",
        "-c",
        &count,
        "-n",
        "ip proto 112 and src 10.0.0.1",
    ];
    let mut cmd = w.lab.command(node, "timeout");
    let out = cmd
        .arg(WAIT.as_secs().to_string())
        .arg("tcpdump")
        .args(args)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let v3 = text.lines().filter(|l| l.contains("VRRPv3")).count();
    assert_eq!(v3, n as usize, "{text}");
}

#[test]
fn root_netns_v3_keepalived_master_lite_backup() {
    handover_preempt_crash(Kind::Keepalived);
}

#[test]
fn root_netns_v3_lite_master_keepalived_backup() {
    handover_preempt_crash(Kind::Lite);
}
