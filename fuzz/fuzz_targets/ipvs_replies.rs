//! The `Ipvs` handle's reply sequencing over a scripted transport: every
//! operation (single requests, dumps, pipelined batches, the table read
//! with the legacy fast path) meets replies taken from the input. The
//! family lookup is answered correctly unless the first byte says
//! otherwise. Each reply datagram has a mode byte that can rewrite its
//! sequence numbers to those just sent (so that matching replies are
//! common), and the legacy sockopt replies come from the input too,
//! through `decode_services` / `decode_dests`. Never panics, never loops
//! once the input is used up, and a batch gives one result per operation.
#![no_main]

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;

use ipvs::{
    decode_dests, decode_services, DaemonState, Destination, DestinationEntry, Forward, Ipvs,
    LegacyService, Op, Service, ServiceKey, Transport,
};
use libfuzzer_sys::fuzz_target;

const GENL_ID_CTRL: u16 = 0x10;
const FAMILY: u16 = 0x24;

fn nlmsg(ty: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    v.extend(((16 + payload.len()) as u32).to_ne_bytes());
    v.extend(ty.to_ne_bytes());
    v.extend(0u16.to_ne_bytes());
    v.extend(seq.to_ne_bytes());
    v.extend(0u32.to_ne_bytes());
    v.extend(payload);
    v.resize((v.len() + 3) & !3, 0);
    v
}

struct Scripted<'a> {
    input: &'a [u8],
    /// Canned answers (the family lookup) go first.
    canned: VecDeque<Vec<u8>>,
    answer_lookup: bool,
    /// First sequence number of the last datagram sent.
    last_seq: u32,
}

impl Scripted<'_> {
    /// The next `u16`-length-prefixed chunk of the input.
    fn chunk(&mut self) -> Option<&[u8]> {
        let (len, rest) = self.input.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
        let (c, rest) = rest.split_at(len);
        self.input = rest;
        Some(c)
    }
}

/// Rewrites the sequence number of every message: all to `base` (mode 1)
/// or to `base + i` for the i-th message (mode 2).
fn reseq(buf: &mut [u8], mode: u8, base: u32) {
    let mut at = 0;
    let mut i = 0u32;
    while let Some(h) = buf.get(at..at + 16) {
        let len = u32::from_ne_bytes([h[0], h[1], h[2], h[3]]) as usize;
        let seq = if mode == 1 {
            base
        } else {
            base.wrapping_add(i)
        };
        buf[at + 8..at + 12].copy_from_slice(&seq.to_ne_bytes());
        if len < 16 {
            break;
        }
        at += (len + 3) & !3;
        i += 1;
    }
}

impl Transport for Scripted<'_> {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        // What we send must be well-formed netlink.
        assert!(datagram.len() >= 16);
        let ty = u16::from_ne_bytes([datagram[4], datagram[5]]);
        self.last_seq = u32::from_ne_bytes([datagram[8], datagram[9], datagram[10], datagram[11]]);
        if ty == GENL_ID_CTRL && self.answer_lookup {
            // CTRL_CMD_NEWFAMILY, version 2, CTRL_ATTR_FAMILY_ID.
            let mut p = vec![1, 2, 0, 0, 6, 0, 1, 0];
            p.extend(FAMILY.to_ne_bytes());
            p.extend([0, 0]);
            self.canned
                .push_back(nlmsg(GENL_ID_CTRL, self.last_seq, &p));
            let mut ack = 0i32.to_ne_bytes().to_vec();
            ack.extend(&datagram[..16]);
            self.canned.push_back(nlmsg(2, self.last_seq, &ack));
        } else {
            assert!(ipvs::message::decode_datagram(FAMILY, datagram).is_ok());
        }
        Ok(())
    }

    fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        if let Some(c) = self.canned.pop_front() {
            *buf = c;
            return Ok(());
        }
        let base = self.last_seq;
        let mode = self.chunk().and_then(|c| c.first().copied());
        let (Some(mode), Some(c)) = (mode, self.chunk()) else {
            return Err(io::ErrorKind::WouldBlock.into());
        };
        buf.clear();
        buf.extend_from_slice(c);
        if mode % 3 != 0 {
            reseq(buf, mode % 3, base.wrapping_add(u32::from(mode >> 4)));
        }
        Ok(())
    }

    fn legacy_services(&mut self) -> Option<io::Result<Vec<LegacyService>>> {
        let c = self.chunk()?;
        Some(Ok(decode_services(c, c.len() / 16)))
    }

    fn legacy_dests(
        &mut self,
        svc: &LegacyService,
    ) -> Option<io::Result<Option<Vec<DestinationEntry>>>> {
        let c = self.chunk()?;
        Some(Ok(decode_dests(c, svc.num_dests)))
    }
}

fn key(b: u8) -> ServiceKey {
    ServiceKey::tcp(SocketAddr::from(([10, 0, 0, b], 80)))
}

fn op(b: u8) -> Op {
    let k = key(b >> 4);
    match b % 6 {
        0 => Op::AddService(Service::new(k, "rr")),
        1 => Op::DelService(k),
        2 => Op::AddDest(
            k,
            Destination::new(SocketAddr::from(([10, 1, 0, b], 8080)), Forward::Masq),
        ),
        3 => Op::DelDest(k, SocketAddr::from(([10, 1, 0, b], 8080))),
        4 => Op::Zero(None),
        _ => Op::StopDaemon(DaemonState::Master),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&setup, data)) = data.split_first() else {
        return;
    };
    let Some((ops, replies)) = data.split_at_checked(usize::from(setup & 0x0f).min(data.len()))
    else {
        return;
    };
    let t = Scripted {
        input: replies,
        canned: VecDeque::new(),
        answer_lookup: setup & 0x80 == 0,
        last_seq: 0,
    };
    let Ok(mut h) = Ipvs::with_transport(t) else {
        return;
    };
    for &o in ops {
        match o % 10 {
            0 => drop(h.services()),
            1 => drop(h.dests(&key(o))),
            2 => {
                let batch: Vec<Op> = (0..o / 10).map(|i| op(o.wrapping_mul(i + 1))).collect();
                if let Ok(res) = h.apply(&batch) {
                    assert_eq!(res.len(), batch.len());
                }
            }
            3 => drop(h.timeouts()),
            4 => drop(h.info()),
            5 => drop(h.daemons()),
            6 => drop(h.save_table()),
            7 => drop(h.table()),
            8 => drop(h.get_service(&key(o))),
            _ => drop(h.flush()),
        }
    }
});
