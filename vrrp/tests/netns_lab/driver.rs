//! A [`Driver`] on its own thread inside a namespace, shared by the
//! `root_netns_*` driver tests. Each test file adds the waits it needs in
//! its own `impl Running` block.

use std::cell::RefCell;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use vrrp::linux::driver::{
    Driver, DriverCounters, DriverError, DriverEvent, DriverHandle, ReconcileSummary, RouterSpec,
    Setup, Snapshot, VirtualAddress,
};
use vrrp::Config;

use super::Netns;

/// Generous: CI machines are small and loaded. Only a safety limit.
pub const WAIT: Duration = Duration::from_secs(30);

/// A running driver; shut down (and its thread joined) on drop.
pub struct Running {
    pub handle: DriverHandle,
    /// The driver's events, each with the instant the test side could read it.
    pub events: mpsc::Receiver<(Instant, DriverEvent)>,
    /// Every event read by a wait, in order.
    seen: RefCell<Vec<DriverEvent>>,
    /// `None` from the thread if the driver could not be made.
    thread: Option<JoinHandle<std::io::Result<Option<DriverCounters>>>>,
}

impl Running {
    /// Starts a driver for `setup` inside `ns`; panics if it cannot start.
    pub fn start(ns: &Netns, setup: Setup) -> Running {
        let (ready_tx, ready_rx) = mpsc::channel();
        let thread = ns
            .spawn_thread(move || {
                runtime().block_on(async move {
                    let (driver, handle, mut events) = match Driver::new(setup) {
                        Ok(d) => d,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.to_string()));
                            return None;
                        }
                    };
                    let (tx, rx) = mpsc::channel();
                    let _ = ready_tx.send(Ok((handle, rx)));
                    tokio::spawn(async move {
                        while let Some(e) = events.recv().await {
                            if tx.send((Instant::now(), e)).is_err() {
                                break;
                            }
                        }
                    });
                    Some(driver.run().await)
                })
            })
            .expect("open the namespace");
        let (handle, events) = ready_rx
            .recv_timeout(WAIT)
            .expect("the driver thread answers")
            .unwrap_or_else(|e| panic!("the driver must start: {e}"));
        Running {
            handle,
            events,
            seen: RefCell::default(),
            thread: Some(thread),
        }
    }

    /// Waits for an event `want` accepts; returns it and when it was read.
    pub fn wait_at(
        &self,
        what: &str,
        want: impl Fn(&DriverEvent) -> bool,
    ) -> (Instant, DriverEvent) {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok((at, e)) => {
                    self.seen.borrow_mut().push(e.clone());
                    if want(&e) {
                        return (at, e);
                    }
                }
                Err(_) => panic!("no {what} within {WAIT:?}; events: {:#?}", self.seen()),
            }
        }
    }

    /// As [`Running::wait_at`], the event alone.
    pub fn wait(&self, what: &str, want: impl Fn(&DriverEvent) -> bool) -> DriverEvent {
        self.wait_at(what, want).1
    }

    /// The events the waits have read so far.
    pub fn seen(&self) -> Vec<DriverEvent> {
        self.seen.borrow().clone()
    }

    pub fn snapshot(&self) -> Snapshot {
        let h = self.handle.clone();
        block(async move { h.snapshot().await }).expect("driver running")
    }

    pub fn reconfigure(&self, setup: Setup) -> ReconcileSummary {
        (self.try_reconfigure(setup)).unwrap_or_else(|e| panic!("the reload must be accepted: {e}"))
    }

    pub fn try_reconfigure(&self, setup: Setup) -> Result<ReconcileSummary, DriverError> {
        let h = self.handle.clone();
        block(async move { h.reconfigure(setup).await })
    }

    /// Shuts the driver down and returns its counters.
    pub fn stop(mut self) -> DriverCounters {
        self.handle.blocking_shutdown();
        let t = self.thread.take().expect("a running driver");
        t.join()
            .expect("driver thread")
            .expect("driver thread entered the namespace")
            .expect("the driver started")
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

/// A runtime for a driver's thread.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Runs `f` to completion on a runtime of its own thread, outside the
/// test's (and the driver's) thread.
fn block<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
            .block_on(f)
    })
    .join()
    .expect("command thread")
}

/// A router on `interface` with `addresses`, no routes, rules or VMAC.
pub fn router(config: Config, interface: &str, addresses: Vec<VirtualAddress>) -> RouterSpec {
    RouterSpec {
        config,
        interface: interface.into(),
        addresses,
        excluded: Vec::new(),
        routes: Vec::new(),
        rules: Vec::new(),
        use_vmac: false,
        vmac: Default::default(),
    }
}

/// A global-scope /24 virtual address, with `label` if given.
pub fn vip24(addr: std::net::Ipv4Addr, label: Option<&str>) -> VirtualAddress {
    VirtualAddress {
        addr: addr.into(),
        prefix_len: 24,
        broadcast: None,
        label: label.map(str::to_owned),
        scope: vrrp::linux::Scope::Global,
        dev: None,
        no_track: false,
        options: Default::default(),
    }
}

/// A setup of `spec` alone, other settings default.
pub fn one(spec: RouterSpec) -> Setup {
    Setup {
        routers: vec![spec],
        ..Setup::default()
    }
}
