//! Times the phases of a restore and a save against the running kernel:
//! parse `ipvsadm -R` rules from stdin, apply them (encoding included), dump the services,
//! dump each service's destinations, read the table the fast way
//! (`save_table`), format as `ipvsadm -S -n`. As the floor of the
//! destination dumps, the same dumps are then timed bare: requests written
//! by hand, replies received and dropped undecoded, with 32 KiB and with
//! 4 KiB receive buffers (the kernel sizes its dump buffers after them).
//! Used by `vm/bench.sh` to see where the time goes (needs root and ip_vs).
//!
//! `cargo run --release -p linux-ipvs --example phases < rules`
#![allow(clippy::unwrap_used)] // example: abort on any error

use std::io::Read;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use ipvs::ipvsadm::{format_save, parse_rules};
use ipvs::{Ipvs, Op, ServiceKey};
use ipvs_sys as sys;
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr as NlAddr};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let mut ipvs = Ipvs::connect()?;
    let t = Instant::now();
    let ops: Vec<Op> = parse_rules(&text)?.into_iter().map(|(_, op)| op).collect();
    let parse = t.elapsed();
    let t = Instant::now();
    let failed = ipvs.apply(&ops)?.iter().filter(|r| r.is_err()).count();
    let apply = t.elapsed();
    let t = Instant::now();
    let services = ipvs.services()?;
    let dump_services = t.elapsed();
    let keys: Vec<ServiceKey> = services.iter().map(|s| s.service.key).collect();
    let t = Instant::now();
    let mut table = Vec::with_capacity(services.len());
    for s in services {
        let d = ipvs.dests(&s.service.key)?;
        table.push((s, d));
    }
    let dump_dests = t.elapsed();
    let t = Instant::now();
    let fast = ipvs.save_table()?;
    let save_table = t.elapsed();
    let t = Instant::now();
    let out = format_save(&table);
    let format = t.elapsed();
    assert_eq!(format_save(&fast), out, "save_table and table disagree");
    let bare_32k = bare_dests(ipvs.family_id(), &keys, 32 << 10)?;
    let bare_4k = bare_dests(ipvs.family_id(), &keys, 4 << 10)?;
    // The handle's dumps once more, after the bare ones: tells a cost of
    // the handle from one of going first.
    let t = Instant::now();
    let mut kept = 0;
    for k in &keys {
        kept += ipvs.dests(k)?.len();
    }
    let dests_again = t.elapsed();
    // And bare again, keeping nothing either.
    let bare_32k_again = bare_dests(ipvs.family_id(), &keys, 32 << 10)?;
    println!(
        "PHASES ops={} failed={failed} parse={parse:?} apply={apply:?} \
         dump_services={dump_services:?} dump_dests={dump_dests:?} save_table={save_table:?} format={format:?} save_bytes={} \
         bare_dests_32k={bare_32k:?} bare_dests_4k={bare_4k:?} dump_dests_again={dests_again:?} \
         bare_dests_32k_again={bare_32k_again:?} dests={kept}",
        ops.len(),
        out.len()
    );
    Ok(())
}

/// Times one destination dump per service on a fresh socket, receiving
/// into `chunk`-byte buffers and decoding nothing but the message types.
fn bare_dests(family: u16, keys: &[ServiceKey], chunk: usize) -> std::io::Result<Duration> {
    let mut sock = Socket::new(NETLINK_GENERIC)?;
    sock.bind_auto()?;
    sock.connect(&NlAddr::new(0, 0))?;
    let (mut req, mut buf) = (Vec::with_capacity(128), Vec::with_capacity(chunk));
    let t = Instant::now();
    for (seq, key) in (1u32..).zip(keys) {
        dest_dump_request(family, seq, key, &mut req);
        sock.send(&req, 0)?;
        loop {
            buf.clear();
            sock.recv(&mut buf, 0)?;
            if holds_done(&buf) {
                break;
            }
        }
    }
    Ok(t.elapsed())
}

/// Whether a datagram holds `NLMSG_DONE` or an error (the end of a dump).
fn holds_done(mut b: &[u8]) -> bool {
    while b.len() >= 16 {
        let len = u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let kind = u16::from_ne_bytes([b[4], b[5]]);
        if kind == 2 || kind == 3 {
            return true;
        }
        b = b.get(len.max(16).next_multiple_of(4)..).unwrap_or_default();
    }
    false
}

/// One attribute (header, payload, padding) appended to `out`.
fn attr(out: &mut Vec<u8>, kind: u16, payload: &[u8]) {
    out.extend_from_slice(&(4 + payload.len() as u16).to_ne_bytes());
    out.extend_from_slice(&kind.to_ne_bytes());
    out.extend_from_slice(payload);
    out.resize(out.len().next_multiple_of(4), 0);
}

/// `IPVS_CMD_GET_DEST` dump request for one service, written by hand.
fn dest_dump_request(family: u16, seq: u32, key: &ServiceKey, out: &mut Vec<u8>) {
    let mut svc = Vec::with_capacity(64);
    match key {
        ServiceKey::Fwmark { family, mark } => {
            attr(&mut svc, sys::IPVS_SVC_ATTR_AF, &family.af().to_ne_bytes());
            attr(&mut svc, sys::IPVS_SVC_ATTR_FWMARK, &mark.to_ne_bytes());
        }
        ServiceKey::Addr { protocol, addr } => {
            // An IPv4 address sits in the first 4 of the 16 bytes.
            let (af, ip) = match addr {
                SocketAddr::V4(a) => {
                    let mut v = [0u8; 16];
                    v[..4].copy_from_slice(&a.ip().octets());
                    (libc::AF_INET as u16, v)
                }
                SocketAddr::V6(a) => (libc::AF_INET6 as u16, a.ip().octets()),
            };
            attr(&mut svc, sys::IPVS_SVC_ATTR_AF, &af.to_ne_bytes());
            attr(
                &mut svc,
                sys::IPVS_SVC_ATTR_PROTOCOL,
                &protocol.number().to_ne_bytes(),
            );
            attr(&mut svc, sys::IPVS_SVC_ATTR_ADDR, &ip);
            attr(
                &mut svc,
                sys::IPVS_SVC_ATTR_PORT,
                &addr.port().to_be_bytes(),
            );
        }
    }
    out.clear();
    out.extend_from_slice(&[0; 16]); // netlink header, filled below
    out.extend_from_slice(&[sys::IPVS_CMD_GET_DEST, sys::IPVS_GENL_VERSION, 0, 0]);
    out.extend_from_slice(&((4 + svc.len()) as u16 | 0x8000).to_ne_bytes()); // NLA_F_NESTED
    out.extend_from_slice(&sys::IPVS_CMD_ATTR_SERVICE.to_ne_bytes());
    out.extend_from_slice(&svc);
    let len = out.len() as u32;
    out[..4].copy_from_slice(&len.to_ne_bytes());
    out[4..6].copy_from_slice(&family.to_ne_bytes());
    out[6..8].copy_from_slice(&(0x1u16 | 0x300).to_ne_bytes()); // NLM_F_REQUEST | NLM_F_DUMP
    out[8..12].copy_from_slice(&seq.to_ne_bytes());
}
