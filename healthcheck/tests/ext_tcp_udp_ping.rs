//! TCP_CHECK, UDP_CHECK and PING_CHECK on loopback, and the tokio driver
//! turning check results into pool events.
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use healthcheck::checkers::{PingChecker, TcpChecker, UdpChecker};
use healthcheck::runtime::Driver;
use healthcheck::{
    CheckContext, CheckOutcome, Checker, DownReason, Event, MemberConfig, Monitor, MonitorConfig,
    PoolConfig, TargetConfig,
};
use test_support::*;

fn ctx(addr: SocketAddr, ms: u64) -> CheckContext {
    CheckContext::new(addr, Duration::from_millis(ms))
}

#[tokio::test]
async fn tcp_check_up_down_bind_timeout_recovery() {
    let addr = unique_addr();
    let l = tokio::net::TcpListener::bind(addr).await.unwrap();
    assert_eq!(TcpChecker.check(&ctx(addr, 2000)).await, CheckOutcome::Up);
    // Drain that first connection from the accept queue.
    let _ = l.accept().await.unwrap();
    // bindto / bind_port: the server sees our chosen source address.
    let src = SocketAddr::new(unique_ip(), 0);
    let c = ctx(addr, 2000).with_bind(src);
    let (got, accepted) = tokio::join!(TcpChecker.check(&c), l.accept());
    assert_eq!(got, CheckOutcome::Up);
    assert_eq!(accepted.unwrap().1.ip(), src.ip());
    drop(l);
    assert_eq!(
        TcpChecker.check(&ctx(addr, 2000)).await,
        CheckOutcome::Down(DownReason::Refused)
    );
    let _l = tokio::net::TcpListener::bind(addr).await.unwrap();
    assert_eq!(TcpChecker.check(&ctx(addr, 2000)).await, CheckOutcome::Up);

    // A listener whose accept queue is full drops our SYN: timeout.
    let full = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let full_addr = unique_addr();
    full.bind(&full_addr.into()).unwrap();
    full.listen(0).unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.set_nonblocking(true).unwrap();
        let _ = s.connect(&full_addr.into());
        fillers.push(s);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        TcpChecker.check(&ctx(full_addr, 300)).await,
        CheckOutcome::Down(DownReason::Timeout)
    );
}

async fn udp_server(addr: SocketAddr, reply: Option<&'static [u8]>) -> tokio::task::JoinHandle<()> {
    let s = tokio::net::UdpSocket::bind(addr).await.unwrap();
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((_, peer)) = s.recv_from(&mut buf).await {
            if let Some(r) = reply {
                let _ = s.send_to(r, peer).await;
            }
        }
    })
}

#[tokio::test]
async fn udp_check_reply_unreachable_timeout_recovery() {
    let addr = unique_addr();
    let plain = UdpChecker::new(&b"ping"[..]);
    let needs = UdpChecker::new(&b"ping"[..]).require_reply(&b"pong"[..]);
    // Nobody listening: ICMP port unreachable.
    assert_eq!(
        plain.check(&ctx(addr, 500)).await,
        CheckOutcome::Down(DownReason::Unreachable)
    );
    // A silent listener: fine without require_reply, a timeout with it.
    let srv = udp_server(addr, None).await;
    assert_eq!(plain.check(&ctx(addr, 300)).await, CheckOutcome::Up);
    assert_eq!(
        needs.check(&ctx(addr, 300)).await,
        CheckOutcome::Down(DownReason::Timeout)
    );
    srv.abort();
    let _ = srv.await;
    // A wrong reply, then the right one.
    let srv = udp_server(addr, Some(b"nope")).await;
    assert_eq!(
        needs.check(&ctx(addr, 2000)).await,
        CheckOutcome::Down(DownReason::UnexpectedReply)
    );
    srv.abort();
    let _ = srv.await;
    let _srv = udp_server(addr, Some(b"pong!")).await;
    assert_eq!(needs.check(&ctx(addr, 2000)).await, CheckOutcome::Up);
}

#[tokio::test]
async fn root_ping_check_loopback_up() {
    // Datagram ICMP if ping_group_range allows it, else raw (root).
    let c = ctx(SocketAddr::new(unique_ip(), 0), 2000);
    assert_eq!(PingChecker.check(&c).await, CheckOutcome::Up);
    let c6 = ctx("[::1]:0".parse().unwrap(), 2000);
    assert_eq!(PingChecker.check(&c6).await, CheckOutcome::Up);
}

async fn next(rx: &mut tokio::sync::mpsc::UnboundedReceiver<Event>) -> Event {
    // A hang guard, not a timing assertion.
    tokio::time::timeout(Duration::from_secs(30), rx.recv())
        .await
        .expect("an event")
        .expect("driver alive")
}

#[tokio::test]
async fn driver_turns_tcp_results_into_pool_events() {
    let addr = unique_addr();
    let listener = std::net::TcpListener::bind(addr).unwrap();
    let mut m = Monitor::new(MonitorConfig::default());
    let mut cfg = TargetConfig::with_interval(Duration::from_millis(50));
    cfg.retry = 0;
    let t = m.add_target(format!("tcp {addr}"), cfg);
    let pool = m.add_pool(PoolConfig::default());
    m.add_member(pool, t, MemberConfig::with_weight(2)).unwrap();
    let mut d = Driver::new(m);
    d.set_checker(t, Arc::new(TcpChecker), ctx(addr, 1000));
    let stats = d.stats();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let run = tokio::spawn(d.run(tx, async move {
        let _ = stop_rx.await;
    }));
    assert_eq!(
        next(&mut rx).await,
        Event::MemberAdd {
            pool,
            target: t,
            weight: 2
        }
    );
    assert_eq!(
        next(&mut rx).await,
        Event::QuorumGained {
            pool,
            weight_sum: 2
        }
    );
    drop(listener);
    // Refused, or reset if a check was mid-handshake when it closed.
    let down = next(&mut rx).await;
    assert!(
        matches!(down, Event::TargetDown { target, .. } if target == t),
        "{down:?}"
    );
    assert_eq!(next(&mut rx).await, Event::MemberRemove { pool, target: t });
    assert_eq!(
        next(&mut rx).await,
        Event::QuorumLost {
            pool,
            weight_sum: 0
        }
    );
    let _listener = std::net::TcpListener::bind(addr).unwrap();
    assert_eq!(next(&mut rx).await, Event::TargetUp { target: t });
    assert_eq!(
        next(&mut rx).await,
        Event::MemberAdd {
            pool,
            target: t,
            weight: 2
        }
    );
    stop_tx.send(()).unwrap();
    let m = run.await.unwrap();
    assert_eq!(m.is_up(t), Some(true));
    // At least the failing and the recovering check ran.
    assert!(stats.started.load(std::sync::atomic::Ordering::Relaxed) >= 2);
}

#[tokio::test]
async fn driver_keeps_a_silent_udp_target_up() {
    // UDP_CHECK without require_reply waits its whole timeout for an ICMP
    // error: silence is success. The driver's own cut must not beat it.
    let addr = unique_addr();
    let _srv = udp_server(addr, None).await;
    let mut m = Monitor::new(MonitorConfig::default());
    let mut cfg = TargetConfig::with_interval(Duration::from_millis(10));
    cfg.retry = 0;
    let t = m.add_target(format!("udp {addr}"), cfg);
    let mut d = Driver::new(m);
    d.set_checker(t, Arc::new(UdpChecker::new(&b"ping"[..])), ctx(addr, 20));
    let stats = d.stats();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let seen = stats.clone();
    let stop = async move {
        // Hang guard, not a timing assertion: stop after 60 checks (the race
        // this guards against lost about one in ten).
        while seen.finished.load(std::sync::atomic::Ordering::Relaxed) < 60 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    let m = tokio::time::timeout(Duration::from_secs(60), tokio::spawn(d.run(tx, stop)))
        .await
        .expect("60 checks finished")
        .unwrap();
    let mut events = Vec::new();
    while let Ok(e) = rx.try_recv() {
        events.push(e);
    }
    assert_eq!(events, vec![]);
    assert_eq!(m.is_up(t), Some(true));
}
