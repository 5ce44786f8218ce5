//! `ipvsctl restore` input (any text) must never panic: every line is
//! parsed or rejected with a typed error, and every parsed operation
//! either encodes to a request or is refused as invalid. The one-pass
//! encoder `apply` uses must agree byte for byte with the typed path.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(rules) = ipvs::ipvsadm::parse_rules(&text) {
        for (_, op) in rules {
            let mut direct = Vec::new();
            let encoded = op.encode(0x20, 1, 1, &mut direct);
            assert_eq!(encoded.is_ok(), op.message().is_ok());
            if let Ok(msg) = op.message() {
                let mut out = Vec::new();
                ipvs::message::encode_request(0x20, 1, 1, msg, &mut out);
                assert_eq!(direct, out);
                // What we emit, we must decode back.
                assert!(ipvs::message::decode_datagram(0x20, &out).is_ok());
            } else {
                assert!(direct.is_empty());
            }
        }
    }
});
