//! Send errors of the tokio driver are counted and logged like keepalived
//! 2.2.7 logs them, side by side with the real keepalived in the same
//! conditions, and repeats are summarised rather than logged line by line
//! (needs root, `ip`, `nft` and `/usr/sbin/keepalived`).
//!
//! The kernel refuses adverts here because an nftables rule in the node
//! drops its outgoing VRRP (`EPERM`), multicast or to a unicast peer. (A
//! `prohibit` or `blackhole` route to a unicast peer does not do it: the
//! raw sockets are bound to their interface, and for a bound socket the
//! kernel takes a failed route lookup to mean "on link".)
#![cfg(feature = "tokio")]
// Tests stop on the first unexpected value; `expect` names what was expected.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use test_support::netns::{require_program, require_root, wait_for_line, Lab};
use vrrp::linux::driver::{
    Driver, DriverCounters, DriverHandle, RouterSpec, Setup, VirtualAddress,
};
use vrrp::Config;

/// Safety limit of every wait: generous, never a timing assertion.
const DEADLINE: Duration = Duration::from_secs(30);

/// What the driver's thread logged through `tracing`.
#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Capture {
        self.clone()
    }
}

impl Capture {
    fn lines(&self) -> Vec<String> {
        let text = String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned();
        text.lines().map(str::to_owned).collect()
    }
}

/// A driver on its own thread in a node, logging into a [`Capture`].
struct Running {
    handle: DriverHandle,
    log: Capture,
    thread: Option<JoinHandle<std::io::Result<DriverCounters>>>,
}

impl Running {
    fn start(lab: &Lab, node: &str, setup: Setup) -> Running {
        let log = Capture::default();
        let writer = log.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = lab
            .netns(node)
            .spawn_thread(move || {
                let subscriber = tracing_subscriber::fmt()
                    .with_writer(writer)
                    .with_ansi(false)
                    .without_time()
                    .with_target(false)
                    .finish();
                tracing::subscriber::with_default(subscriber, || {
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("tokio runtime");
                    rt.block_on(async move {
                        let (driver, handle, mut events) =
                            Driver::new(setup).expect("driver starts");
                        ready_tx.send(handle).expect("test waits");
                        // Events are read, so none is lost.
                        tokio::spawn(async move { while events.recv().await.is_some() {} });
                        driver.run().await
                    })
                })
            })
            .expect("open the namespace");
        let handle = ready_rx
            .recv_timeout(DEADLINE)
            .expect("driver started (see the panic above if not)");
        Running {
            handle,
            log,
            thread: Some(thread),
        }
    }

    fn send_errors(&self) -> u64 {
        let h = self.handle.clone();
        std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime")
                .block_on(h.snapshot())
        })
        .join()
        .expect("snapshot thread")
        .expect("driver running")
        .driver
        .send_errors
    }

    fn stop(mut self) -> DriverCounters {
        self.handle.blocking_shutdown();
        self.thread
            .take()
            .unwrap()
            .join()
            .expect("driver thread")
            .expect("driver thread entered the namespace")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(t) = self.thread.take() {
            self.handle.blocking_shutdown();
            let _ = t.join();
        }
    }
}

/// Polls `f` until it returns `Some`, for at most [`DEADLINE`].
fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A directory for keepalived's files, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("vrrp-errlog-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn requirements() {
    require_root();
    require_program("nft", &["--version"]);
    require_program("/usr/sbin/keepalived", &["--version"]);
}

/// In node `node`, an nftables rule dropping every outgoing VRRP datagram:
/// the kernel refuses the send with `EPERM`.
fn drop_outgoing_vrrp(lab: &Lab, node: &str) {
    let rules = "table ip errlog {\n\
                 chain out { type filter hook output priority 0; ip protocol vrrp drop; }\n\
                 }\n";
    let mut child = lab
        .command(node, "nft")
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(rules.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "nft rules in {node}");
}

/// keepalived's configuration for one instance, with unicast peers if any.
fn keepalived_conf(name: &str, vrid: u8, peers: &[Ipv4Addr]) -> String {
    let unicast = if peers.is_empty() {
        String::new()
    } else {
        let list: Vec<String> = peers.iter().map(|p| format!("    {p}\n")).collect();
        format!("  unicast_peer {{\n{}  }}\n", list.concat())
    };
    format!(
        "vrrp_instance {name} {{\n  state BACKUP\n  interface eth0\n  \
         virtual_router_id {vrid}\n  priority 150\n  advert_int 1\n{unicast}  \
         virtual_ipaddress {{\n    192.0.2.{vrid}/24\n  }}\n}}\n"
    )
}

fn spec(name: &str, vrid: u8, peers: &[Ipv4Addr]) -> Setup {
    let mut config = Config::new(name, vrid, 150, Ipv4Addr::UNSPECIFIED);
    config.unicast_peers = peers.to_vec();
    Setup {
        routers: vec![RouterSpec {
            config,
            interface: "eth0".into(),
            addresses: vec![VirtualAddress::host(Ipv4Addr::new(192, 0, 2, vrid))],
            excluded: Vec::new(),
            routes: Vec::new(),
            rules: Vec::new(),
            use_vmac: false,
            vmac: Default::default(),
        }],
        ..Setup::default()
    }
}

/// Runs keepalived and the driver on the same instance in two nodes where
/// `prepare` makes the kernel refuse adverts; checks the driver's first
/// line equals keepalived's (from `needle` on), then that repeats are
/// summarised and every error is accounted for.
fn side_by_side(tag: &str, peers: &[Ipv4Addr], prepare: impl Fn(&Lab, &str), needle: &str) {
    requirements();
    let dir = TempDir::new(tag);
    let mut lab = Lab::new().unwrap();
    lab.add_node("ka", Ipv4Addr::new(192, 0, 2, 1), 24).unwrap();
    lab.add_node("lite", Ipv4Addr::new(192, 0, 2, 2), 24)
        .unwrap();
    prepare(&lab, "ka");
    prepare(&lab, "lite");

    let conf = dir.0.join("keepalived.conf");
    std::fs::write(&conf, keepalived_conf("VI_1", 51, peers)).unwrap();
    let ka_log = dir.0.join("keepalived.log");
    let ka = lab
        .spawn_vrrp_daemon("ka", "/usr/sbin/keepalived", &conf, &dir.0, &ka_log)
        .unwrap();
    let lite = Running::start(&lab, "lite", spec("VI_1", 51, peers));

    // keepalived's line, from the instance name on (it has a timestamp
    // before it on the console).
    let theirs = wait_for_line(&ka_log, needle, DEADLINE).unwrap_or_else(|| {
        let log = std::fs::read_to_string(&ka_log).unwrap_or_default();
        panic!("keepalived logged no {needle:?}:\n{log}")
    });
    let theirs = &theirs[theirs.find("(VI_1)").unwrap()..];
    lab.stop(ka, Duration::from_secs(5));

    let first = wait_for("the driver's first send error line", || {
        lite.log.lines().into_iter().find(|l| l.contains(needle))
    });
    assert!(
        first.starts_with(" WARN ") || first.starts_with("WARN "),
        "{first}"
    );
    let ours = &first[first.find("(VI_1)").unwrap()..];
    assert_eq!(ours, theirs, "same wording as keepalived 2.2.7");

    // Errors go on every advert interval; after one period they are told
    // in a summary, and the first line is never repeated.
    wait_for("a summary line", || {
        lite.log.lines().into_iter().find(|l| l.contains(" more "))
    });
    let while_running = lite.send_errors();
    let log = lite.log.clone();
    let counters = lite.stop();
    assert!(counters.send_errors >= while_running);

    let lines = log.lines();
    let firsts = lines.iter().filter(|l| l.contains(needle)).count();
    assert_eq!(firsts, 1, "one first line, then summaries: {lines:#?}");
    // Every error is in the first line or a summary (the stop flushes the
    // last one), and there are fewer lines than errors.
    let summarised: u64 = lines
        .iter()
        .filter_map(|l| {
            let rest = &l[l.find("(VI_1)")?..];
            let n = rest.split(' ').nth(1)?;
            rest.contains(" more ").then(|| n.parse::<u64>().unwrap())
        })
        .sum();
    assert_eq!(1 + summarised, counters.send_errors, "{lines:#?}");
    let summaries = lines.iter().filter(|l| l.contains(" more ")).count() as u64;
    assert!(1 + summaries < counters.send_errors, "{lines:#?}");
    assert_eq!(
        counters.datagrams_sent, 0,
        "the kernel refused every advert"
    );
}

#[test]
fn root_netns_errlog_multicast_send_errors_like_keepalived() {
    side_by_side(
        "mc",
        &[],
        drop_outgoing_vrrp,
        "(VI_1): send advert error 1 (Operation not permitted)",
    );
}

#[test]
fn root_netns_errlog_unicast_send_errors_like_keepalived() {
    let peer = Ipv4Addr::new(192, 0, 2, 9);
    side_by_side(
        "uc",
        &[peer],
        drop_outgoing_vrrp,
        "(VI_1) Cant send advert to 192.0.2.9 (Operation not permitted)",
    );
}
