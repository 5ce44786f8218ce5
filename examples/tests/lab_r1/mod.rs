//! A lab whose daemon runs on node `r1` (10.0.0.1/24 on `eth0`), with the
//! set-up, log polling and `ip` helpers the keepalived-lite fault tests
//! share.
#![allow(dead_code)] // each test file uses part of the harness
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_root, Lab};

/// Generous: CI machines are small and loaded.
pub(crate) const WAIT: Duration = Duration::from_secs(30);

/// A lab with node `r1` only, and a scratch directory named after it.
pub(crate) fn lab_r1() -> (Lab, PathBuf) {
    require_root();
    let mut lab = Lab::new().unwrap();
    lab.add_node("r1", Ipv4Addr::new(10, 0, 0, 1), 24).unwrap();
    let dir = std::env::temp_dir().join(&lab.node("r1").ns);
    std::fs::create_dir_all(&dir).unwrap();
    (lab, dir)
}

/// The file's text so far (empty before it exists).
pub(crate) fn log_text(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// How many lines of `log` contain `needle`.
pub(crate) fn count(log: &Path, needle: &str) -> usize {
    log_text(log).lines().filter(|l| l.contains(needle)).count()
}

/// Polls every `every` until `ok` holds, or fails with `what` and the log.
pub(crate) fn wait_until_every(
    what: &str,
    log: &Path,
    every: Duration,
    mut ok: impl FnMut() -> bool,
) {
    let deadline = Instant::now() + WAIT;
    while !ok() {
        assert!(
            Instant::now() < deadline,
            "{what} never happened; log:\n{}",
            log_text(log)
        );
        std::thread::sleep(every);
    }
}

/// Polls until `ok` holds, or fails with `what` and the log.
pub(crate) fn wait_until(what: &str, log: &Path, ok: impl FnMut() -> bool) {
    wait_until_every(what, log, Duration::from_millis(50), ok);
}

/// Runs `ip args` in r1, which must succeed.
pub(crate) fn ip(lab: &Lab, args: &[&str]) {
    let out = lab.run("r1", "ip", args).unwrap();
    assert!(out.status.success(), "ip {args:?}: {out:?}");
}

/// A veth pair `name`-`peer` in r1, `addr` (if any) on `name`, then both
/// ends up, the peer first.
pub(crate) fn veth(lab: &Lab, name: &str, peer: &str, addr: Option<&str>) {
    ip(
        lab,
        &["link", "add", name, "type", "veth", "peer", "name", peer],
    );
    if let Some(addr) = addr {
        ip(lab, &["addr", "add", addr, "dev", name]);
    }
    ip(lab, &["link", "set", peer, "up"]);
    ip(lab, &["link", "set", name, "up"]);
}

/// Whether r1's `dev` has `vip`/24.
pub(crate) fn has_vip(lab: &Lab, dev: &str, vip: &str) -> bool {
    let out = lab
        .run("r1", "ip", &["-4", "-o", "addr", "show", "dev", dev])
        .unwrap();
    String::from_utf8_lossy(&out.stdout).contains(&format!("{vip}/24"))
}
