//! SMTP_CHECK's reply handling, reached through the public checker against
//! a loopback server that sends the input as its whole side of the
//! dialogue and then closes its sending half (the reply parser itself is
//! private to healthcheck). Never panics, never waits for the timeout
//! (the server always ends its stream), and a check that is up saw a 220
//! line. (Not "began with 220": a multi-line reply is judged by its last
//! line, so `440-x` then `220 y` passes as a banner; RFC 5321 wants one
//! code on every line. Reported, not yet fixed in smtp.rs.)
#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use healthcheck::checkers::SmtpChecker;
use healthcheck::{CheckContext, CheckOutcome, Checker, DownReason};
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::runtime::Runtime;

struct Lab {
    rt: Runtime,
    listener: TcpListener,
    addr: SocketAddr,
}

fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let listener = rt
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .expect("listener");
        let addr = listener.local_addr().expect("address");
        Lab { rt, listener, addr }
    })
}

fuzz_target!(|data: &[u8]| {
    let lab = lab();
    let server = async {
        let Ok((mut s, _)) = lab.listener.accept().await else {
            return;
        };
        let _ = s.write_all(data).await;
        let _ = s.shutdown().await;
        let mut sink = [0u8; 512];
        while matches!(s.read(&mut sink).await, Ok(n) if n > 0) {}
    };
    let ctx = CheckContext::new(lab.addr, Duration::from_secs(10));
    let checker = SmtpChecker::new("fuzz.example");
    let ((), outcome) = lab
        .rt
        .block_on(async { tokio::join!(server, checker.check(&ctx)) });
    assert_ne!(outcome, CheckOutcome::Down(DownReason::Timeout));
    if outcome == CheckOutcome::Up {
        assert!(data.windows(3).any(|w| w == b"220"));
    }
});
