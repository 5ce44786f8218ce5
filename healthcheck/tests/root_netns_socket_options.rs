//! A checker's `fwmark` (SO_MARK) and `bind_if` (SO_BINDTODEVICE), as
//! keepalived 2.2.7 sets them on its checker sockets, shown by what the
//! kernel does with them inside a network namespace this test creates
//! (needs root and iproute2).
//!
//! The namespace routes packets marked 9 to a `prohibit` table, before
//! the local table: a TCP check with mark 9 fails, one without succeeds.
//! A check bound to `lo` reaches 127.0.0.1; one bound to a device that
//! does not exist fails.
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::SocketAddr;
use std::time::Duration;

use healthcheck::checkers::TcpChecker;
use healthcheck::{CheckContext, CheckOutcome, Checker};
use test_support::netns::Netns;

fn check(ns: &Netns, ctx: CheckContext) -> CheckOutcome {
    ns.enter(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(TcpChecker.check(&ctx))
    })
    .unwrap()
}

#[test]
fn root_netns_fwmark_and_bind_if_reach_the_kernel() {
    test_support::netns::require_root();
    let ns = Netns::new("sockopt").unwrap();
    // Marked packets meet the prohibit route before the local table does.
    ns.ip(&["rule", "add", "pref", "10", "fwmark", "9", "table", "100"])
        .unwrap();
    ns.ip(&["rule", "del", "pref", "0", "lookup", "local"])
        .unwrap();
    ns.ip(&["rule", "add", "pref", "20", "lookup", "local"])
        .unwrap();
    ns.ip(&["route", "add", "prohibit", "default", "table", "100"])
        .unwrap();
    ns.ip(&["route", "add", "prohibit", "127.0.0.0/8", "table", "100"])
        .unwrap();
    // A listener inside the namespace (the kernel completes the handshake).
    let listener = ns
        .enter(|| std::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap()
        .unwrap();
    let target: SocketAddr = listener.local_addr().unwrap();
    let ctx = || CheckContext::new(target, Duration::from_secs(10));

    assert_eq!(check(&ns, ctx()), CheckOutcome::Up);
    assert!(
        matches!(check(&ns, ctx().with_mark(9)), CheckOutcome::Down(_)),
        "a marked check meets the prohibit route"
    );
    assert_eq!(check(&ns, ctx().with_mark(8)), CheckOutcome::Up);
    assert_eq!(check(&ns, ctx().with_bind_if("lo")), CheckOutcome::Up);
    assert!(
        matches!(
            check(&ns, ctx().with_bind_if("nosuchdev0")),
            CheckOutcome::Down(_)
        ),
        "a check bound to a missing device fails"
    );
    drop(listener);
}
