//! PING_CHECK down, timeout and recovery paths inside a network namespace
//! this test creates (needs root and iproute2; fails clearly otherwise).
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::SocketAddr;
use std::os::fd::AsFd;
use std::process::Command;
use std::time::Duration;

use healthcheck::checkers::PingChecker;
use healthcheck::{CheckContext, CheckOutcome, Checker, DownReason};
use test_support::*;

/// A named network namespace, deleted on drop.
struct Netns(String);

impl Netns {
    fn new() -> Self {
        let ip = require("ip");
        let name = format!("hc-ping-{}", std::process::id());
        run(Command::new(&ip).args(["netns", "add", &name]));
        Self(name)
    }

    fn ip(&self, args: &str) {
        let mut cmd = Command::new(require("ip"));
        cmd.args(["netns", "exec", &self.0, "ip"])
            .args(args.split_whitespace());
        run(&mut cmd);
    }

    /// Runs `f` on a thread that has entered the namespace.
    fn within<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.0);
        std::thread::spawn(move || {
            let file = std::fs::File::open(&path).unwrap();
            nix::sched::setns(file.as_fd(), nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            f()
        })
        .join()
        .unwrap()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ping(ns: &Netns, target: &str, ms: u64) -> CheckOutcome {
    let addr: SocketAddr = format!("{target}:0").parse().unwrap();
    ns.within(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(PingChecker.check(&CheckContext::new(addr, Duration::from_millis(ms))))
    })
}

#[test]
fn root_netns_ping_check_down_timeout_recovery() {
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "this test needs root (network namespaces)"
    );
    let ns = Netns::new();
    // Loopback is down in a fresh namespace: no route, down at once.
    assert_eq!(
        ping(&ns, "127.0.0.1", 2000),
        CheckOutcome::Down(DownReason::Io(std::io::ErrorKind::NetworkUnreachable))
    );
    ns.ip("link set lo up");
    assert_eq!(ping(&ns, "127.0.0.1", 2000), CheckOutcome::Up);
    // A veth whose peer has no address: ARP goes unanswered, a timeout.
    ns.ip("link add hcv0 type veth peer name hcv1");
    ns.ip("addr add 10.99.0.1/24 dev hcv0");
    ns.ip("link set hcv0 up");
    ns.ip("link set hcv1 up");
    assert_eq!(
        ping(&ns, "10.99.0.2", 300),
        CheckOutcome::Down(DownReason::Timeout)
    );
    // The host appears (here: the address becomes local): recovered.
    ns.ip("addr add 10.99.0.2/24 dev hcv1");
    assert_eq!(ping(&ns, "10.99.0.2", 2000), CheckOutcome::Up);
}
