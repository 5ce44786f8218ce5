//! A namespace per daemon with the veth pair `kl0`-`kl1` (10.231.0.1/24 on
//! `kl0`), as the dump and SNMP comparisons against keepalived 2.2.7 run
//! the same configuration in two of them; and their polling.
#![allow(dead_code)] // each test file uses part of the harness
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::process::Child;
use std::time::{Duration, Instant};

use keepalived_lite::netns::Netns;

/// Generous: CI machines are small and loaded.
pub(crate) const DEADLINE: Duration = Duration::from_secs(30);

/// A new namespace (`tag`) with `kl0`, its veth peer `kl1`, both up.
pub(crate) fn kl0_namespace(tag: &str) -> Netns {
    let ns = Netns::new(tag).unwrap();
    ns.ip(&["link", "add", "kl0", "type", "veth", "peer", "name", "kl1"])
        .unwrap();
    ns.ip(&["addr", "add", "10.231.0.1/24", "dev", "kl0"])
        .unwrap();
    ns.ip(&["link", "set", "kl0", "up"]).unwrap();
    ns.ip(&["link", "set", "kl1", "up"]).unwrap();
    ns
}

/// Polls `f` every 200 ms until it returns `Some`; fails after
/// [`DEADLINE`] naming `what`.
pub(crate) fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if let Some(v) = f() {
            return v;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}");
}

/// Waits up to [`DEADLINE`] for `child`, just signalled, to exit.
pub(crate) fn wait_exit(child: &mut Child) {
    let start = Instant::now();
    while start.elapsed() < DEADLINE && child.try_wait().ok().flatten().is_none() {
        std::thread::sleep(Duration::from_millis(50));
    }
}
