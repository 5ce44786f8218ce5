//! DNS_CHECK's reply handling, reached through the public checker against
//! a loopback UDP server (the reply handling itself is private to
//! healthcheck). The input is a list of datagrams (`u16` little-endian
//! length, then a flag byte: bit 0 puts the query's id in the first two
//! bytes, then the datagram); the server sends them in turn after the
//! query, then a NXDOMAIN answer that ends any check still waiting. Never
//! panics and never waits for the timeout.
#![no_main]

use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Duration;

use healthcheck::checkers::{DnsChecker, DnsType};
use healthcheck::{CheckContext, CheckOutcome, Checker, DownReason};
use libfuzzer_sys::fuzz_target;
use tokio::net::UdpSocket;
use tokio::runtime::Runtime;

struct Lab {
    rt: Runtime,
    server: UdpSocket,
    addr: SocketAddr,
}

fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let server = rt.block_on(UdpSocket::bind("127.0.0.1:0")).expect("socket");
        let addr = server.local_addr().expect("address");
        Lab { rt, server, addr }
    })
}

fn datagrams(mut data: &[u8]) -> Vec<(bool, &[u8])> {
    let mut out = Vec::new();
    while let Some((len, rest)) = data.split_first_chunk::<2>() {
        let Some((&flag, rest)) = rest.split_first() else {
            break;
        };
        let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
        let (d, rest) = rest.split_at(len);
        out.push((flag & 1 != 0, d));
        data = rest;
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let lab = lab();
    let replies = datagrams(data);
    let server = async {
        let mut q = [0u8; 512];
        let Ok((_, peer)) = lab.server.recv_from(&mut q).await else {
            return;
        };
        for (with_id, d) in &replies {
            let mut d = d.to_vec();
            if *with_id && d.len() >= 2 {
                d[..2].copy_from_slice(&q[..2]);
            }
            let _ = lab.server.send_to(&d, peer).await;
        }
        // Id, QR + RD, RA + NXDOMAIN, no records.
        let end = [q[0], q[1], 0x81, 0x83, 0, 0, 0, 0, 0, 0, 0, 0];
        let _ = lab.server.send_to(&end, peer).await;
    };
    let ctx = CheckContext::new(lab.addr, Duration::from_secs(10));
    let strict = data.len() % 2 == 0;
    let mut checker = DnsChecker::new("example.com", DnsType::A);
    if strict {
        checker = checker.require_answer();
    }
    let ((), outcome) = lab
        .rt
        .block_on(async { tokio::join!(server, checker.check(&ctx)) });
    assert_ne!(outcome, CheckOutcome::Down(DownReason::Timeout));
});
