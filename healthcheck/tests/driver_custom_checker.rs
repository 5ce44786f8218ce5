//! A user-written checker through the object-safe trait, and the driver's
//! promise that a slow check only delays itself.
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use healthcheck::runtime::Driver;
use healthcheck::{
    BoxFuture, CheckContext, CheckOutcome, Checker, Event, Monitor, MonitorConfig, TargetConfig,
};

/// Counts its calls; sleeps `delay` before answering up.
#[derive(Debug)]
struct Counting {
    calls: AtomicU64,
    delay: Duration,
}

impl Checker for Counting {
    fn check<'a>(&'a self, _ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(async move {
            self.calls.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(self.delay).await;
            CheckOutcome::Up
        })
    }
}

#[tokio::test]
async fn a_slow_check_only_delays_itself() {
    let mut m = Monitor::new(MonitorConfig::default());
    let every = TargetConfig::with_interval(Duration::from_millis(20));
    let fast_id = m.add_target("fast", every.clone());
    let slow_id = m.add_target("slow", every);
    let fast = Arc::new(Counting {
        calls: AtomicU64::new(0),
        delay: Duration::ZERO,
    });
    let slow = Arc::new(Counting {
        calls: AtomicU64::new(0),
        delay: Duration::from_secs(3600),
    });
    let ctx = CheckContext::new("127.0.0.1:1".parse().unwrap(), Duration::from_secs(3600));
    let mut d = Driver::new(m);
    d.set_checker(fast_id, fast.clone(), ctx.clone());
    d.set_checker(slow_id, slow.clone(), ctx);
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let fast_seen = fast.clone();
    let stop = async move {
        // Hang guard, not a timing assertion: stop after 20 fast checks.
        while fast_seen.calls.load(Ordering::Relaxed) < 20 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let m = tokio::time::timeout(Duration::from_secs(60), tokio::spawn(d.run(tx, stop)))
        .await
        .expect("the fast target kept being checked")
        .unwrap();
    assert!(fast.calls.load(Ordering::Relaxed) >= 20);
    // The slow check started once and is still running: never re-issued.
    assert_eq!(slow.calls.load(Ordering::Relaxed), 1);
    assert_eq!(m.is_up(fast_id), Some(true));
}

/// Panics on its first call, then answers up.
#[derive(Debug, Default)]
struct PanicsOnce {
    calls: AtomicU64,
}

impl Checker for PanicsOnce {
    fn check<'a>(&'a self, _ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(async move {
            if self.calls.fetch_add(1, Ordering::Relaxed) == 0 {
                panic!("a user checker bug");
            }
            CheckOutcome::Up
        })
    }
}

#[tokio::test]
async fn a_panicking_check_counts_as_down_and_the_target_keeps_being_checked() {
    let mut m = Monitor::new(MonitorConfig::default());
    let mut cfg = TargetConfig::with_interval(Duration::from_millis(10));
    cfg.retry = 0;
    let id = m.add_target("panics", cfg);
    let checker = Arc::new(PanicsOnce::default());
    let ctx = CheckContext::new("127.0.0.1:1".parse().unwrap(), Duration::from_secs(3600));
    let mut d = Driver::new(m);
    d.set_checker(id, checker.clone(), ctx);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
    let seen = checker.clone();
    let stop = async move {
        // Hang guard, not a timing assertion: stop after the third call.
        while seen.calls.load(Ordering::Relaxed) < 3 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    let m = tokio::time::timeout(Duration::from_secs(60), tokio::spawn(d.run(tx, stop)))
        .await
        .expect("the target was checked again after the panic")
        .unwrap();
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    assert_eq!(
        events.first(),
        Some(&Event::TargetDown {
            target: id,
            reason: healthcheck::DownReason::CheckerPanicked
        })
    );
    assert!(events.contains(&Event::TargetUp { target: id }));
    assert!(checker.calls.load(Ordering::Relaxed) >= 3);
    assert_eq!(m.is_up(id), Some(true));
}
