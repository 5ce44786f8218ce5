//! SMTP_CHECK's reply handling, reached through the public checker against
//! a loopback server that sends the input as its whole side of the
//! dialogue and then closes its sending half (the reply parser itself is
//! private to healthcheck). Never panics, never waits for the timeout
//! (the server always ends its stream), and a check that is up saw a whole
//! banner reply in which every line carries 220, then a whole reply to
//! HELO in which every line carries 250 (RFC 5321 section 4.2.1: one code
//! on every line of a multi-line reply, so `440-x` then `220 y` is no
//! banner).
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
        let after_banner = whole_reply(data, b"220");
        assert!(after_banner
            .and_then(|rest| whole_reply(rest, b"250"))
            .is_some());
    }
});

/// If `data` begins with a whole reply (lines ended by `\n` or by the end
/// of the stream, continued while the fourth byte is `-`) whose every line
/// begins with `code`, the bytes after it.
fn whole_reply<'a>(mut data: &'a [u8], code: &[u8]) -> Option<&'a [u8]> {
    loop {
        let end = data
            .iter()
            .position(|&b| b == b'\n')
            .map_or(data.len(), |i| i + 1);
        let (line, rest) = data.split_at(end);
        if !line.starts_with(code) {
            return None;
        }
        data = rest;
        if line.get(3) != Some(&b'-') {
            return Some(rest);
        }
    }
}
