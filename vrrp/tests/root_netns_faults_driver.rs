//! The driver cleans up behind an aborted task (issue 15): when the task
//! running [`Driver::run`] is aborted, as an embedder does when a stop
//! takes too long, the master still sends its priority-0 advert and its
//! VIP is removed. Needs root, `ip` and `tcpdump`.
#![cfg(feature = "tokio")]
// Tests stop on the first unexpected value; `expect` names what was expected.
#![allow(clippy::unwrap_used)]

mod netns_lab;

use std::net::Ipv4Addr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use netns_lab::driver::{one, router, runtime, WAIT};
use netns_lab::{tcpdump, Pair};
use vrrp::event::{Event, State};
use vrrp::linux::driver::{Driver, DriverEvent, Setup, VirtualAddress};
use vrrp::Config;

const VIP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);

fn setup() -> Setup {
    let config = Config::new("VI_1", 51, 150, Ipv4Addr::UNSPECIFIED);
    one(router(config, "eth0", vec![VirtualAddress::host(VIP)]))
}

fn has_vip(ns: &netns_lab::Netns) -> bool {
    let v = ns.ip_json(&["-4", "addr", "show", "dev", "eth0"]).unwrap();
    v[0]["addr_info"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["local"] == VIP.to_string()))
}

#[test]
fn root_netns_aborted_driver_sends_priority_zero_and_removes_the_vip() {
    let lab = Pair::new();
    let filter = "ip proto 112 and src host 192.0.2.1";
    let (_dump, lines) = tcpdump(&lab.b, "eth0", 1000, filter);
    let (master_tx, master_rx) = mpsc::channel();
    let (abort_tx, abort_rx) = mpsc::channel::<()>();
    let thread = lab
        .a
        .spawn_thread(move || {
            runtime().block_on(async move {
                let (driver, _handle, mut events) = Driver::new(setup()).expect("driver starts");
                let running = tokio::spawn(driver.run());
                while let Some(e) = events.recv().await {
                    if let DriverEvent::Router {
                        event:
                            Event::StateChanged {
                                to: State::Master, ..
                            },
                        ..
                    } = e
                    {
                        break;
                    }
                }
                master_tx.send(()).expect("test waits");
                tokio::task::spawn_blocking(move || abort_rx.recv())
                    .await
                    .expect("waiting for the abort")
                    .expect("test says abort");
                // `_handle` is still alive: only the abort stops the driver.
                running.abort();
                assert!(running.await.is_err_and(|e| e.is_cancelled()));
            });
        })
        .expect("open the namespace");
    master_rx.recv_timeout(WAIT).expect("a became master");
    let deadline = Instant::now() + WAIT;
    while !has_vip(&lab.a) {
        assert!(Instant::now() < deadline, "the master never added its VIP");
        std::thread::sleep(Duration::from_millis(50));
    }

    abort_tx.send(()).unwrap();
    thread.join().unwrap().unwrap();
    assert!(!has_vip(&lab.a), "an aborted driver left its VIP behind");
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let line = lines
            .recv_timeout(left)
            .expect("no priority-0 advert from the aborted master");
        if line.contains("prio 0,") {
            break;
        }
    }
}
