//! DNS_CHECK against dnsmasq and SMTP_CHECK against aiosmtpd, both real
//! servers from Debian started on loopback (`ext_` tests fail if missing).
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use healthcheck::checkers::{DnsChecker, DnsType, SmtpChecker};
use healthcheck::{CheckContext, CheckOutcome, Checker, DownReason};
use test_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn dnsmasq(addr: SocketAddr) -> ProcGuard {
    let bin = require("dnsmasq");
    let mut g = ProcGuard::spawn(
        "dnsmasq",
        Command::new(bin)
            .args([
                "--keep-in-foreground",
                "--conf-file=/dev/null",
                "--no-resolv",
                "--no-hosts",
                "--bind-interfaces",
                "--pid-file=",
                "--user=root",
                "--local=/test/",
                "--host-record=up.test,10.1.2.3",
                "--txt-record=up.test,hello",
            ])
            .arg(format!("--listen-address={}", addr.ip()))
            .arg(format!("--port={}", addr.port())),
    );
    // dnsmasq serves DNS over TCP too: wait on that.
    wait_tcp(addr, &mut g);
    g
}

#[tokio::test]
async fn ext_dnsmasq_dns_check_up_down_timeout_recovery() {
    let addr = unique_addr();
    let mut server = dnsmasq(addr);
    let ctx = CheckContext::new(addr, Duration::from_secs(3));
    let a = DnsChecker::new("up.test", DnsType::A);
    assert_eq!(a.check(&ctx).await, CheckOutcome::Up);
    assert_eq!(
        DnsChecker::new("up.test", DnsType::Txt).check(&ctx).await,
        CheckOutcome::Up
    );
    // No AAAA record for the name: NOERROR with an empty answer is up, as
    // keepalived, and down when a record is required.
    let aaaa = DnsChecker::new("up.test", DnsType::Aaaa);
    assert_eq!(aaaa.check(&ctx).await, CheckOutcome::Up);
    assert_eq!(
        aaaa.require_answer().check(&ctx).await,
        CheckOutcome::Down(DownReason::DnsNoAnswer)
    );
    // Unknown name in the local domain: NXDOMAIN (RCODE 3).
    assert_eq!(
        DnsChecker::new("nothere.test", DnsType::A)
            .check(&ctx)
            .await,
        CheckOutcome::Down(DownReason::DnsRcode(3))
    );
    // No upstream for other names: dnsmasq refuses (RCODE 5).
    assert_eq!(
        DnsChecker::new("elsewhere.example", DnsType::A)
            .check(&ctx)
            .await,
        CheckOutcome::Down(DownReason::DnsRcode(5))
    );
    // Server gone: ICMP port unreachable.
    server.stop();
    assert_eq!(
        a.check(&ctx).await,
        CheckOutcome::Down(DownReason::Unreachable)
    );
    let _server = dnsmasq(addr);
    assert_eq!(a.check(&ctx).await, CheckOutcome::Up);

    // A socket that never answers: timeout.
    let silent = std::net::UdpSocket::bind(SocketAddr::new(unique_ip(), 0)).unwrap();
    let short = CheckContext::new(silent.local_addr().unwrap(), Duration::from_millis(300));
    assert_eq!(
        a.check(&short).await,
        CheckOutcome::Down(DownReason::Timeout)
    );
}

fn aiosmtpd(addr: SocketAddr) -> ProcGuard {
    let py = require("python3");
    let probe = Command::new(&py)
        .args(["-c", "import aiosmtpd"])
        .output()
        .unwrap();
    assert!(
        probe.status.success(),
        "aiosmtpd is required (Debian python3-aiosmtpd): run .ci/install-deps"
    );
    let mut g = ProcGuard::spawn(
        "aiosmtpd",
        Command::new(py)
            .args(["-m", "aiosmtpd", "-n", "-c", "aiosmtpd.handlers.Sink", "-l"])
            .arg(format!("{}:{}", addr.ip(), addr.port())),
    );
    wait_tcp(addr, &mut g);
    g
}

#[tokio::test]
async fn ext_aiosmtpd_smtp_check_up_down_timeout_recovery() {
    let addr = unique_addr();
    let mut server = aiosmtpd(addr);
    let ctx = CheckContext::new(addr, Duration::from_secs(5));
    let c = SmtpChecker::new("lb.test");
    assert_eq!(c.check(&ctx).await, CheckOutcome::Up);
    server.stop();
    assert_eq!(c.check(&ctx).await, CheckOutcome::Down(DownReason::Refused));
    let _server = aiosmtpd(addr);
    assert_eq!(c.check(&ctx).await, CheckOutcome::Up);

    // A server that accepts and says nothing: timeout.
    let silent = tokio::net::TcpListener::bind(SocketAddr::new(unique_ip(), 0))
        .await
        .unwrap();
    let short = CheckContext::new(silent.local_addr().unwrap(), Duration::from_millis(300));
    let hold = tokio::spawn(async move {
        let mut v = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            v.push(s);
        }
    });
    assert_eq!(
        c.check(&short).await,
        CheckOutcome::Down(DownReason::Timeout)
    );
    hold.abort();

    // A server that refuses service in its banner, and one that rejects HELO.
    for (script, want) in [
        (&b"554 go away\r\n"[..], DownReason::SmtpReply(554)),
        (
            &b"220-multi\r\n220 ready\r\n"[..],
            DownReason::SmtpReply(501),
        ),
    ] {
        let l = tokio::net::TcpListener::bind(SocketAddr::new(unique_ip(), 0))
            .await
            .unwrap();
        let a = l.local_addr().unwrap();
        let srv = tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            s.write_all(script).await.unwrap();
            let mut buf = [0u8; 256];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"501 bad helo\r\n").await;
            let _ = s.read(&mut buf).await;
        });
        let got = c.check(&CheckContext::new(a, Duration::from_secs(5))).await;
        assert_eq!(got, CheckOutcome::Down(want));
        srv.abort();
    }
}
