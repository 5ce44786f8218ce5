//! Issue 15's acceptance: "2,000 blackholed TCP_CHECK targets under
//! `ulimit -n 1024` never mark a healthy server down with EMFILE".
//!
//! The parent test (needs root, iproute2 and nft) makes a network namespace
//! in which `10.99.0.0/16` is routed into a veth whose peer drops every
//! frame (an nftables ingress chain with policy drop), so each connect
//! hangs until its `connect_timeout`, as to a firewalled host. Healthy
//! servers listen on loopback in the same namespace. It then re-runs this
//! test binary inside the namespace under `ulimit -n 1024` (soft = hard,
//! set by the shell before the binary starts), running only
//! [`emfile_child`], which drives 2,000 blackholed and a few healthy
//! TCP_CHECK targets with keepalived-like settings (connect_timeout 3 s,
//! delay_loop 1 s, retry 0) through the real [`Driver`] for three rounds,
//! and asserts exact outcomes. Without the driver's concurrency cap the
//! checks run out of descriptors and this test fails. It runs twice: with
//! TCP_CHECK as the driver makes it itself (inline, one descriptor unit a
//! connect) and as a task per check (four units a check).
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::collections::{BTreeMap, HashMap};
use std::net::{SocketAddr, TcpListener};
use std::process::{Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc as std_mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use healthcheck::checkers::TcpChecker;
use healthcheck::runtime::{default_max_concurrent, raise_nofile_limit, Driver};
use healthcheck::{
    BoxFuture, CheckContext, CheckOutcome, Checker, DownReason, Event, Monitor, MonitorConfig,
    TargetConfig, TargetId,
};
use nix::sys::resource::{getrlimit, Resource};
use test_support::netns::{require_program, require_root, Netns};

/// Tells the re-run binary that it is the child, and where the healthy
/// servers listen (comma-separated ports on 127.0.0.1).
const CHILD_ENV: &str = "HC_EMFILE_CHILD_PORTS";
/// The child test's name, for `--exact`.
const CHILD_TEST: &str = "emfile_child";
/// `inline` or `task`: how the child's driver runs the checks.
const MODE_ENV: &str = "HC_EMFILE_MODE";
/// The line the child prints last when every assertion held.
const CHILD_PASSED: &str = "emfile child: all assertions held";

/// `ulimit -n` of the child (soft and hard).
const NOFILE: u64 = 1024;
/// TCP_CHECK targets whose SYNs are dropped.
const BLACKHOLED: usize = 2000;
/// Real listeners that accept.
const HEALTHY: usize = 4;
/// Every target is checked at least this many times before the child stops.
const ROUNDS: usize = 3;
/// keepalived-like settings: `connect_timeout 3`, `delay_loop 1`, `retry 0`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);
const DELAY_LOOP: Duration = Duration::from_secs(1);
/// Generous bounds: with a cap of 240 slots one round of 2,000 three-second
/// timeouts takes about 25 s, so three rounds about 75 s.
const CHILD_DEADLINE: Duration = Duration::from_secs(300);
const PARENT_DEADLINE: Duration = Duration::from_secs(420);

#[test]
fn root_netns_emfile_blackholed_targets_never_fail_healthy_ones() {
    run_parent("task");
}

#[test]
fn root_netns_emfile_inline_blackholed_targets_never_fail_healthy_ones() {
    run_parent("inline");
}

/// Runs the child in a namespace with a blackhole, its checks made `mode`.
fn run_parent(mode: &str) {
    require_root();
    require_program("nft", &["--version"]);
    let ns = Netns::new("-emf").unwrap();
    blackhole(&ns);

    // Healthy servers: loopback listeners opened inside the namespace.
    let listeners = ns
        .enter(|| {
            (0..HEALTHY)
                .map(|_| TcpListener::bind("127.0.0.1:0"))
                .collect::<std::io::Result<Vec<_>>>()
        })
        .unwrap()
        .unwrap();
    let ports: Vec<String> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port().to_string())
        .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let acceptor = accept_until(listeners, stop.clone());

    // The child: this binary, only `emfile_child`, under `ulimit -n 1024`.
    let exe = std::env::current_exe().unwrap();
    let child = ns
        .command("sh")
        .args(["-c", &format!("ulimit -n {NOFILE} && exec \"$0\" \"$@\"")])
        .arg(exe)
        .args([CHILD_TEST, "--exact", "--ignored", "--nocapture"])
        .args(["--test-threads", "1"])
        .env(CHILD_ENV, ports.join(","))
        .env(MODE_ENV, mode)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std_mpsc::channel::<std::io::Result<Output>>();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    // On a timeout the namespace's drop kills the child (by pid).
    let out = rx
        .recv_timeout(PARENT_DEADLINE)
        .expect("the child did not finish in time")
        .unwrap();
    stop.store(true, Ordering::Relaxed);
    acceptor.join().unwrap();

    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    eprintln!("{stderr}");
    assert!(out.status.success(), "child failed: {}", out.status);
    assert!(
        stdout.contains(CHILD_PASSED),
        "the child test did not run its assertions"
    );
}

/// Routes 10.99.0.0/16 into veth `bh0`, whose peer `bh1` drops every frame
/// at ingress. `bh0` does no ARP, so each SYN leaves at once and nothing
/// ever answers: no reset, no ICMP, no neighbour failure. (A blackhole
/// route would fail the connect at once instead.)
fn blackhole(ns: &Netns) {
    ns.ip(&["link", "add", "bh0", "type", "veth", "peer", "name", "bh1"])
        .unwrap();
    ns.ip(&["addr", "add", "10.98.0.1/24", "dev", "bh0"])
        .unwrap();
    ns.ip(&["link", "set", "bh0", "arp", "off", "up"]).unwrap();
    ns.ip(&["link", "set", "bh1", "up"]).unwrap();
    ns.ip(&["route", "add", "10.99.0.0/16", "dev", "bh0"])
        .unwrap();
    for rule in [
        "add table netdev emfile",
        "add chain netdev emfile sink { type filter hook ingress device \"bh1\" priority 0; policy drop; }",
    ] {
        let out = ns.command("nft").arg(rule).output().unwrap();
        assert!(
            out.status.success(),
            "nft {rule}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// Accepts and drops connections on every listener until `stop`.
fn accept_until(listeners: Vec<TcpListener>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    for l in &listeners {
        l.set_nonblocking(true).unwrap();
    }
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let mut idle = true;
            for l in &listeners {
                if let Ok((s, _)) = l.accept() {
                    drop(s);
                    idle = false;
                }
            }
            if idle {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    })
}

/// One attempt as the driver ran it.
#[derive(Debug, Clone)]
struct Attempt {
    outcome: CheckOutcome,
    took: Duration,
}

/// TCP_CHECK, recording every outcome and how long it took.
#[derive(Debug, Default)]
struct Recorded {
    attempts: Mutex<Vec<Attempt>>,
}

impl Recorded {
    fn record(&self, outcome: &CheckOutcome, took: Duration) {
        let outcome = outcome.clone();
        self.attempts
            .lock()
            .unwrap()
            .push(Attempt { outcome, took });
    }

    fn attempts(&self) -> Vec<Attempt> {
        self.attempts.lock().unwrap().clone()
    }
}

impl Checker for Recorded {
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(async move {
            let start = Instant::now();
            let outcome = TcpChecker.check(ctx).await;
            self.record(&outcome, start.elapsed());
            outcome
        })
    }
}

/// The largest number of open descriptors seen, and any error the sampler
/// met while looking (EMFILE if the process was out of descriptors).
#[derive(Debug, Default)]
struct FdGauge {
    peak: AtomicUsize,
    errors: Mutex<Vec<std::io::Error>>,
}

/// Open descriptors of this process, the one `read_dir` holds included.
fn open_fds() -> std::io::Result<usize> {
    Ok(std::fs::read_dir("/proc/self/fd")?.count())
}

/// Samples [`open_fds`] every 2 ms until `stop`.
fn sample_fds(gauge: Arc<FdGauge>, stop: Arc<AtomicBool>) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match open_fds() {
                Ok(n) => {
                    gauge.peak.fetch_max(n, Ordering::Relaxed);
                }
                Err(e) => gauge.errors.lock().unwrap().push(e),
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    })
}

/// The child half: runs only when the parent re-runs this binary in its
/// namespace under `ulimit -n 1024`.
#[test]
#[ignore = "the child half of root_netns_emfile_blackholed_targets_never_fail_healthy_ones, which runs it"]
fn emfile_child() {
    let Ok(ports) = std::env::var(CHILD_ENV) else {
        panic!("run root_netns_emfile_blackholed_targets_never_fail_healthy_ones, not this half");
    };
    // The shell's `ulimit -n` set both limits before this process started;
    // raising (as keepalived-lite does at start) cannot go past the hard one.
    assert_eq!(
        getrlimit(Resource::RLIMIT_NOFILE).unwrap(),
        (NOFILE, NOFILE)
    );
    assert_eq!(raise_nofile_limit().unwrap(), NOFILE);
    let cap = default_max_concurrent();
    assert_eq!(cap, 240);

    let healthy: Vec<SocketAddr> = ports
        .split(',')
        .map(|p| format!("127.0.0.1:{p}").parse().unwrap())
        .collect();
    assert_eq!(healthy.len(), HEALTHY);
    let blackholed: Vec<SocketAddr> = (0..BLACKHOLED)
        .map(|i| {
            format!("10.99.{}.{}:80", i / 200, i % 200 + 1)
                .parse()
                .unwrap()
        })
        .collect();

    let mut cfg = TargetConfig::with_interval(DELAY_LOOP);
    cfg.retry = 0;
    cfg.retry_while_down = true;
    let mut monitor = Monitor::new(MonitorConfig::default());
    // Healthy servers spread among the blackholed ones in the stagger.
    let every = BLACKHOLED / HEALTHY;
    let mut targets: Vec<(TargetId, SocketAddr, bool)> = Vec::new();
    for (i, &addr) in blackholed.iter().enumerate() {
        if i % every == every / 2 {
            let h = healthy[i / every];
            targets.push((monitor.add_target(format!("tcp {h}"), cfg.clone()), h, true));
        }
        targets.push((
            monitor.add_target(format!("tcp {addr}"), cfg.clone()),
            addr,
            false,
        ));
    }
    let mut driver = Driver::new(monitor);
    let mut records: HashMap<TargetId, (Arc<Recorded>, bool)> = HashMap::new();
    // Inline, TCP_CHECK itself and its outcomes from the driver's observer;
    // as tasks, a wrapper that hides it from the driver and records them.
    let inline = std::env::var(MODE_ENV).as_deref() == Ok("inline");
    for &(id, addr, is_healthy) in &targets {
        let rec = Arc::new(Recorded::default());
        let checker: Arc<dyn Checker> = if inline {
            Arc::new(TcpChecker)
        } else {
            rec.clone()
        };
        driver.set_checker(id, checker, CheckContext::new(addr, CONNECT_TIMEOUT));
        records.insert(id, (rec, is_healthy));
    }
    if inline {
        let recs: HashMap<TargetId, Arc<Recorded>> = records
            .iter()
            .map(|(id, (r, _))| (*id, r.clone()))
            .collect();
        driver.set_observer(Arc::new(move |id, outcome, took| {
            if let Some(r) = recs.get(&id) {
                r.record(outcome, took);
            }
        }));
    }
    // Descriptors the checks may hold: one a task, or one a connect of the
    // four units a task takes; and the driver's epoll set and its timer.
    let budget = if inline { 4 * cap } else { cap } + 2;

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // Measured with the runtime's own descriptors (epoll, waker) open.
    let baseline = open_fds().unwrap();
    let stop_sampling = Arc::new(AtomicBool::new(false));
    let gauge = Arc::new(FdGauge::default());
    let sampler = sample_fds(gauge.clone(), stop_sampling.clone());
    let started = Instant::now();
    let watched: Vec<Arc<Recorded>> = records.values().map(|(r, _)| r.clone()).collect();
    let (events_tx, mut events_rx) = tokio::sync::mpsc::unbounded_channel();
    let monitor = rt.block_on(async {
        let stop = async move {
            let deadline = tokio::time::Instant::now() + CHILD_DEADLINE;
            while tokio::time::Instant::now() < deadline
                && watched
                    .iter()
                    .any(|r| r.attempts.lock().unwrap().len() < ROUNDS)
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        tokio::spawn(driver.run(events_tx, stop)).await.unwrap()
    });
    let ran = started.elapsed();
    // Checks still in flight are dropped with the runtime.
    drop(rt);
    stop_sampling.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let mut events = Vec::new();
    while let Ok(e) = events_rx.try_recv() {
        events.push(e);
    }

    let peak = gauge.peak.load(Ordering::Relaxed);
    let attempts: usize = records.values().map(|(r, _)| r.attempts().len()).sum();
    println!(
        "{}: ran {ran:.1?}: {attempts} checks, descriptors {baseline} at start, peak {peak} \
         (cap {cap} checks, budget {budget}, limit {NOFILE})",
        if inline { "inline" } else { "tasks" }
    );

    let mut tally: BTreeMap<(bool, String), usize> = BTreeMap::new();
    for (rec, is_healthy) in records.values() {
        for a in rec.attempts() {
            *tally
                .entry((*is_healthy, format!("{:?}", a.outcome)))
                .or_default() += 1;
        }
    }
    println!("outcomes (healthy?, outcome): {tally:?}");

    // Healthy servers first: never an EMFILE (`Io(Uncategorized)`) or any
    // other failure, every check up, and checked at least ROUNDS times.
    let mut by_kind: Vec<_> = records.iter().collect();
    by_kind.sort_by_key(|(id, (_, healthy))| (!healthy, **id));
    for (id, (rec, is_healthy)) in by_kind {
        let key = monitor.target_key(*id).unwrap();
        let a = rec.attempts();
        if *is_healthy {
            let bad: Vec<_> = a.iter().filter(|a| a.outcome != CheckOutcome::Up).collect();
            assert!(bad.is_empty(), "healthy {key} failed: {bad:?}");
            assert_eq!(monitor.is_up(*id), Some(true), "{key}");
        } else {
            // Down only by running out of its connect_timeout.
            for at in &a {
                assert_eq!(at.outcome, CheckOutcome::Down(DownReason::Timeout), "{key}");
                assert!(at.took >= CONNECT_TIMEOUT, "{key} down after {:?}", at.took);
            }
            assert_eq!(monitor.is_up(*id), Some(false), "{key}");
        }
        // Not cut short by the deadline.
        assert!(a.len() >= ROUNDS, "{key} checked {} times", a.len());
    }
    // Each blackholed target went down once, by timeout; nothing else changed.
    let mut downs: Vec<TargetId> = Vec::new();
    for e in &events {
        match e {
            Event::TargetDown { target, reason } => {
                assert_eq!(reason, &DownReason::Timeout);
                downs.push(*target);
            }
            other => panic!("unexpected event {other:?}"),
        }
    }
    downs.sort_unstable();
    let mut want: Vec<TargetId> = targets
        .iter()
        .filter(|(_, _, h)| !h)
        .map(|(id, _, _)| *id)
        .collect();
    want.sort_unstable();
    assert_eq!(downs, want);

    // The process never ran out of descriptors (the sampler would have met
    // EMFILE), and checks held no more descriptors than their budget.
    let errors = gauge.errors.lock().unwrap();
    assert!(
        errors.is_empty(),
        "sampler errors: {:?}",
        errors
            .iter()
            .map(|e| (e.kind(), e.raw_os_error()))
            .collect::<Vec<_>>()
    );
    assert!(
        peak <= baseline + budget,
        "peak {peak} > {baseline} + {budget}"
    );
    assert!(peak < NOFILE as usize);
    println!("{CHILD_PASSED}");
}
