//! Steady checking CPU per check, natively: the driver with N TCP_CHECK
//! targets at a 1 s interval (issue 13's VM case: 25 services x 4 real
//! servers, delay_loop 1) against an accept-and-close server on
//! 127.0.0.1, on one current-thread runtime as keepalived-lite runs it.
//!
//! Run: `cargo run --release -p lvs-healthcheck --example steady_cpu -- [SECS] [TARGETS] [floor [K] | slack MS | task MS | reuse [MS]]`
//! (`floor`: a bare tokio loop instead of the driver, starting K
//! connections per wake-up; `slack`: the driver with that timer slack,
//! making TCP_CHECK inline; `task`: the same with each check in a task,
//! as the driver ran TCP_CHECK before it made it inline; `reuse`: the
//! driver with a `ReusingTcpChecker` per target, one socket each kept
//! across checks, in a task per check, and that timer slack).
//! Prints user and system CPU per check (getrusage of this process; the
//! server runs in a child process so that only the checking side counts).

use std::net::{SocketAddr, TcpListener};
use std::process::{Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use healthcheck::checkers::{ReusingTcpChecker, TcpChecker};
use healthcheck::runtime::Driver;
use healthcheck::{
    BoxFuture, CheckContext, CheckOutcome, Checker, Monitor, MonitorConfig, TargetConfig,
};

/// How the driver runs the checks.
#[derive(Clone, Copy, PartialEq)]
enum How {
    /// TCP_CHECK, which the driver makes inline.
    Inline,
    /// TCP_CHECK in a task per check.
    Task,
    /// A `ReusingTcpChecker` per target, in a task per check.
    Reuse,
}

/// TCP_CHECK without its inline form: the driver runs it in a task.
#[derive(Debug)]
struct AsTask(TcpChecker);

impl Checker for AsTask {
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        self.0.check(ctx)
    }
}
use nix::sys::resource::{getrusage, UsageWho};

/// Accepts and closes connections until killed.
fn serve(l: &TcpListener) {
    loop {
        let _ = l.accept();
    }
}

/// User and system CPU of this process so far.
fn cpu() -> (Duration, Duration) {
    let t = |v: nix::sys::time::TimeVal| {
        Duration::from_secs(v.tv_sec().unsigned_abs())
            + Duration::from_micros(v.tv_usec().unsigned_abs())
    };
    getrusage(UsageWho::RUSAGE_SELF).map_or((Duration::ZERO, Duration::ZERO), |u| {
        (t(u.user_time()), t(u.system_time()))
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if let Some(port) = args.get(1).and_then(|a| a.strip_prefix("--serve=")) {
        serve(&TcpListener::bind(("127.0.0.1", port.parse::<u16>()?))?);
        return Ok(());
    }
    let secs: u64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(30);
    let targets: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(100);
    // Pick a free port, then let the child listen on it.
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut child = Command::new(std::env::current_exe()?)
        .arg(format!("--serve={port}"))
        .stdin(Stdio::null())
        .spawn()?;
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    while std::net::TcpStream::connect(addr).is_err() {
        std::thread::sleep(Duration::from_millis(10));
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // `floor` as a third argument: the same connections from a bare tokio
    // loop (one task per connection, no driver), the anchor.
    let floor = args.get(3).is_some_and(|a| a == "floor");
    // With `floor K` the bare loop starts K connections per wake-up (the
    // same rate, K times fewer wake-ups).
    let batch: usize = args.get(4).and_then(|a| a.parse().ok()).unwrap_or(1);
    // With `slack MS` the driver sleeps at least MS between timer wake-ups.
    let how = match args.get(3).map(String::as_str) {
        Some("reuse") => How::Reuse,
        Some("task") => How::Task,
        _ => How::Inline,
    };
    let slack = match args.get(3).map(String::as_str) {
        Some("slack" | "reuse" | "task") => {
            Duration::from_millis(args.get(4).and_then(|a| a.parse().ok()).unwrap_or(0))
        }
        _ => Duration::ZERO,
    };
    let (n, user, sys) = if floor {
        rt.block_on(bare(addr, secs, targets, batch))
    } else {
        rt.block_on(run(addr, secs, targets, slack, how))
    };
    let _ = child.kill();
    let _ = child.wait();
    let per = |d: Duration| d.as_secs_f64() * 1e6 / n.max(1) as f64;
    println!(
        "{} targets {targets} secs {secs} checks {n} user {:.3} s sys {:.3} s per check: user {:.1} us sys {:.1} us total {:.1} us",
        match (floor, how) {
            (true, _) => "floor",
            (_, How::Reuse) => "driver, reusing, tasks",
            (_, How::Task) => "driver, tasks",
            (_, How::Inline) => "driver, inline",
        },
        user.as_secs_f64(),
        sys.as_secs_f64(),
        per(user),
        per(sys),
        per(user + sys)
    );
    Ok(())
}

async fn run(
    addr: SocketAddr,
    secs: u64,
    targets: usize,
    slack: Duration,
    how: How,
) -> (u64, Duration, Duration) {
    let mut m = Monitor::new(MonitorConfig::default());
    let every = TargetConfig::with_interval(Duration::from_secs(1));
    let ids: Vec<_> = (0..targets)
        .map(|i| m.add_target(format!("tcp {addr} #{i}"), every.clone()))
        .collect();
    let mut d = Driver::new(m);
    d.set_timer_slack(slack);
    let checker: Arc<dyn Checker> = match how {
        How::Task => Arc::new(AsTask(TcpChecker)),
        _ => Arc::new(TcpChecker),
    };
    for id in ids {
        // A reusing checker keeps one socket: one per target.
        let c: Arc<dyn Checker> = if how == How::Reuse {
            Arc::new(ReusingTcpChecker::new())
        } else {
            checker.clone()
        };
        d.set_checker(id, c, CheckContext::new(addr, Duration::from_secs(5)));
    }
    let stats = d.stats();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    // Skip the first round (start-up), then measure whole seconds.
    let warm = tokio::time::Instant::now() + Duration::from_secs(2);
    let end = warm + Duration::from_secs(secs);
    let measure = {
        let stats = stats.clone();
        async move {
            tokio::time::sleep_until(warm).await;
            let (n0, c0) = (stats.finished.load(Ordering::Relaxed), cpu());
            tokio::time::sleep_until(end).await;
            let (n1, c1) = (stats.finished.load(Ordering::Relaxed), cpu());
            (n1 - n0, c1.0 - c0.0, c1.1 - c0.1)
        }
    };
    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    let driver = tokio::spawn(d.run(tx, async {
        let _ = done_rx.await;
    }));
    let r = measure.await;
    let _ = done_tx.send(());
    let _ = driver.await;
    r
}

/// The anchor: `targets` connections a second from a bare tokio loop,
/// each in its own task and closed with an RST as TCP_CHECK does.
async fn bare(
    addr: SocketAddr,
    secs: u64,
    targets: usize,
    batch: usize,
) -> (u64, Duration, Duration) {
    let batch = batch.clamp(1, targets.max(1));
    let mut tick =
        tokio::time::interval(Duration::from_secs(1) * batch as u32 / targets.max(1) as u32);
    let warm = tokio::time::Instant::now() + Duration::from_secs(2);
    let end = warm + Duration::from_secs(secs);
    let done = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let mut start = None;
    loop {
        let now = tick.tick().await;
        if now >= warm && start.is_none() {
            start = Some((done.load(Ordering::Relaxed), cpu()));
        }
        if now >= end {
            break;
        }
        for _ in 0..batch {
            let done = done.clone();
            tokio::spawn(async move {
                if let Ok(sock) = tokio::net::TcpSocket::new_v4() {
                    let _ = sock.set_zero_linger();
                    let _ = tokio::time::timeout(Duration::from_secs(5), sock.connect(addr)).await;
                }
                done.fetch_add(1, Ordering::Relaxed);
            });
        }
    }
    let (n0, c0) = start.unwrap_or((0, cpu()));
    let c1 = cpu();
    (done.load(Ordering::Relaxed) - n0, c1.0 - c0.0, c1.1 - c0.1)
}
