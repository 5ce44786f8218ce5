//! Decoding of untrusted netlink replies (any bytes) must never panic:
//! every datagram is either decoded or rejected with a typed error, every
//! decoded IPVS message converts to the model or fails cleanly, and every
//! decoded message can be emitted again.
#![no_main]

use ipvs::message::{decode_datagram, decode_entries, encode_request, ReplyKind};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first two bytes pick the family id the decoder expects.
    if data.len() < 2 {
        return;
    }
    let family = u16::from_ne_bytes([data[0], data[1]]);
    let _ = decode_entries(family, &data[2..]);
    let Ok(replies) = decode_datagram(family, &data[2..]) else {
        return;
    };
    for r in replies {
        if let ReplyKind::Message(m) = r.kind {
            let mut out = Vec::new();
            encode_request(family, r.flags, r.seq, m, &mut out);
        }
    }
});
