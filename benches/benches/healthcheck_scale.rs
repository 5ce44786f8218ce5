//! Scale benchmark for `healthcheck`: 10,000 TCP checks per second
//! (10,000 targets, 1 s interval) against 1,000 listeners on 127.0.0.0/8.
//!
//! Run: `cargo bench -p benches --bench healthcheck_scale -- [--secs 60]`
//!
//! Two phases in one run, same runtime, same listeners (served by a child
//! process so that only the checking side is measured):
//! 1. floor: a minimal tokio loop connecting to the same addresses at the
//!    same rate (one task per connection, closed with an RST once
//!    connected, as TCP_CHECK does);
//! 2. ours: `healthcheck::runtime::Driver` with 10,000 `TcpChecker` targets.
//!
//! Reported: CPU time (user + system, getrusage) per check for both and
//! their ratio; the lateness distribution of our check starts against
//! their scheduled time (jitter included); open fds before and after.

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use healthcheck::checkers::TcpChecker;
use healthcheck::runtime::Driver;
use healthcheck::{CheckContext, Monitor, MonitorConfig, TargetConfig};
use nix::sys::resource::{getrlimit, getrusage, setrlimit, Resource, UsageWho};

const LISTENERS: usize = 1000;
const TARGETS: usize = 10_000;
const PORT: u16 = 47_000;

fn listener_addr(i: usize) -> SocketAddr {
    let i = i % LISTENERS;
    SocketAddr::new(
        IpAddr::V4(Ipv4Addr::new(127, 77, (i / 250) as u8, (i % 250 + 1) as u8)),
        PORT,
    )
}

fn cpu_time() -> Duration {
    getrusage(UsageWho::RUSAGE_SELF).map_or(Duration::ZERO, |u| {
        let us = |t: nix::sys::time::TimeVal| {
            Duration::from_secs(t.tv_sec() as u64) + Duration::from_micros(t.tv_usec() as u64)
        };
        us(u.user_time()) + us(u.system_time())
    })
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

fn raise_nofile() {
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let want = hard.min(1 << 20);
        let _ = setrlimit(Resource::RLIMIT_NOFILE, want, want);
    }
}

/// Child mode: accept and drop on every listener until stdin closes.
fn serve() {
    raise_nofile();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        for i in 0..LISTENERS {
            let l = tokio::net::TcpListener::bind(listener_addr(i))
                .await
                .expect("bind listener");
            tokio::spawn(async move {
                while let Ok((s, _)) = l.accept().await {
                    drop(s);
                }
            });
        }
        println!("ready");
        let _ = std::io::stdout().flush();
        // Exit when the parent closes our stdin.
        let _ = tokio::task::spawn_blocking(|| {
            let mut s = String::new();
            let _ = std::io::stdin().read_line(&mut s);
        })
        .await;
    });
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_server() -> Server {
    let exe = std::env::current_exe().expect("own path");
    let mut child = Command::new(exe)
        .arg("--serve")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start listener process");
    let mut line = String::new();
    if let Some(out) = child.stdout.take() {
        let _ = BufReader::new(out).read_line(&mut line);
    }
    assert_eq!(line.trim(), "ready", "listener process failed");
    Server(child)
}

/// The floor: connect to the same addresses at the same rate, nothing else.
/// Start lateness of the floor's connection tasks, like `DriverStats`.
#[derive(Debug)]
struct Lateness {
    max_us: AtomicU64,
    ms: [AtomicU64; 64],
}

impl Default for Lateness {
    fn default() -> Self {
        Self {
            max_us: AtomicU64::new(0),
            ms: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl Lateness {
    fn record(&self, late: Duration) {
        let us = late.as_micros() as u64;
        self.max_us.fetch_max(us, Ordering::Relaxed);
        self.ms[(us / 1000).min(63) as usize].fetch_add(1, Ordering::Relaxed);
    }
}

fn summary(max_us: u64, hist: &[u64]) -> String {
    let total: u64 = hist.iter().sum();
    let pct = |p: f64| {
        let goal = (total as f64 * p).ceil() as u64;
        let mut acc = 0;
        hist.iter()
            .position(|&c| {
                acc += c;
                acc >= goal
            })
            .map_or(0, |i| i + 1)
    };
    let over: u64 = hist.iter().skip(10).sum();
    format!(
        "max {:.1} ms, p50 < {} ms, p99 < {} ms, p99.9 < {} ms, over 10 ms: {over} of {total} ({:.2}%)",
        max_us as f64 / 1000.0,
        pct(0.5),
        pct(0.99),
        pct(0.999),
        100.0 * over as f64 / total.max(1) as f64
    )
}

async fn floor(secs: u64) -> (u64, Duration, Duration, Arc<Lateness>) {
    let done = Arc::new(AtomicU64::new(0));
    let cpu0 = cpu_time();
    let start = tokio::time::Instant::now();
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    let per_tick = TARGETS / 1000;
    let mut i = 0usize;
    let mut max_late = Duration::ZERO;
    let late = Arc::new(Lateness::default());
    while start.elapsed() < Duration::from_secs(secs) {
        let planned = tick.tick().await;
        max_late = max_late.max(planned.elapsed());
        for _ in 0..per_tick {
            let addr = listener_addr(i);
            i += 1;
            let done = done.clone();
            let late = late.clone();
            tokio::spawn(async move {
                late.record(planned.elapsed());
                // The same connection as TCP_CHECK: closed with an RST.
                if let Ok(sock) = tokio::net::TcpSocket::new_v4() {
                    let _ = sock.set_zero_linger();
                    let _ = tokio::time::timeout(Duration::from_secs(2), sock.connect(addr)).await;
                }
                done.fetch_add(1, Ordering::Relaxed);
            });
        }
    }
    while done.load(Ordering::Relaxed) < i as u64 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    (i as u64, cpu_time() - cpu0, max_late, late)
}

/// Ours: the driver with 10,000 TCP_CHECK targets at 1 s.
async fn ours(secs: u64) -> (u64, Duration, Arc<healthcheck::runtime::DriverStats>) {
    let mut m = Monitor::new(MonitorConfig::default());
    let mut ids = Vec::with_capacity(TARGETS);
    for i in 0..TARGETS {
        // Ten distinct checks per listener (distinct keys: not shared).
        let key = format!("tcp {} #{}", listener_addr(i), i / LISTENERS);
        ids.push((
            m.add_target(key, TargetConfig::with_interval(Duration::from_secs(1))),
            i,
        ));
    }
    let mut d = Driver::new(m);
    let checker: Arc<dyn healthcheck::Checker> = Arc::new(TcpChecker);
    for (id, i) in ids {
        d.set_checker(
            id,
            checker.clone(),
            CheckContext::new(listener_addr(i), Duration::from_secs(2)),
        );
    }
    let stats = d.stats();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    let cpu0 = cpu_time();
    // The driver runs on a worker, so the checks it spawns start there.
    let _ = tokio::spawn(d.run(tx, tokio::time::sleep(Duration::from_secs(secs)))).await;
    // Let the checks in flight finish (they run in their own tasks).
    while stats.finished.load(Ordering::Relaxed) < stats.started.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let n = stats.finished.load(Ordering::Relaxed);
    (n, cpu_time() - cpu0, stats)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a == "--serve") {
        serve();
        return;
    }
    // `cargo bench` passes --bench; only --secs N matters here.
    let secs = args
        .iter()
        .position(|a| a == "--secs")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(60u64);
    raise_nofile();
    let _server = start_server();
    // tokio's multi-thread runtime for both phases; HC_SCALE_RT=current
    // runs both on one thread instead.
    let multi = !std::env::var("HC_SCALE_RT").is_ok_and(|v| v == "current");
    let rt = if multi {
        tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
    } else {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
    }
    .expect("runtime");
    let fds_before = open_fds();
    let (fn_, fcpu, flate, ftasks) = rt.block_on(floor(secs));
    let fds_mid = open_fds();
    let (on, ocpu, stats) = rt.block_on(ours(secs));
    let fds_after = open_fds();

    let per = |cpu: Duration, n: u64| cpu.as_nanos() as f64 / n.max(1) as f64 / 1000.0;
    let (fper, oper) = (per(fcpu, fn_), per(ocpu, on));
    println!(
        "healthcheck scale: {TARGETS} targets, 1 s interval, {LISTENERS} listeners, {secs} s per phase, {} runtime",
        if multi { "multi-thread" } else { "current-thread" }
    );
    println!(
        "floor: {fn_} connects, cpu {:.2} s, {fper:.2} us/check",
        fcpu.as_secs_f64()
    );
    println!(
        "ours:  {on} checks,   cpu {:.2} s, {oper:.2} us/check",
        ocpu.as_secs_f64()
    );
    println!("ratio ours/floor: {:.2}", oper / fper);
    let hist: Vec<u64> = stats
        .late_ms
        .iter()
        .map(|b| b.load(Ordering::Relaxed))
        .collect();
    let fhist: Vec<u64> = ftasks
        .ms
        .iter()
        .map(|b| b.load(Ordering::Relaxed))
        .collect();
    println!(
        "floor task start lateness: {}",
        summary(ftasks.max_us.load(Ordering::Relaxed), &fhist)
    );
    println!(
        "ours check start lateness: {}",
        summary(stats.max_late_us.load(Ordering::Relaxed), &hist)
    );
    println!(
        "floor loop tick lateness: max {:.1} ms; ours driver dispatch lateness: max {:.1} ms",
        flate.as_secs_f64() * 1000.0,
        stats.max_dispatch_late_us.load(Ordering::Relaxed) as f64 / 1000.0
    );
    println!("open fds: before {fds_before}, after floor {fds_mid}, after ours {fds_after}");
}
