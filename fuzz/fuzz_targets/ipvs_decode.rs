//! Decoding of untrusted netlink replies (any bytes) must never panic:
//! every datagram is either decoded or rejected with a typed error, and
//! every decoded IPVS message converts to the model or fails cleanly.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first two bytes pick the family id the decoder expects.
    if data.len() < 2 {
        return;
    }
    let family = u16::from_ne_bytes([data[0], data[1]]);
    let _ = ipvs::message::decode_datagram(family, &data[2..]);
    let _ = ipvs::message::decode_entries(family, &data[2..]);
});
