//! vrrp-inspect's capture reader (any bytes as a pcap file): never panics,
//! and every line it writes is a JSON object with a string verdict. The
//! first byte picks the options (password, forced authentication type,
//! unicast), the rest is the file.
#![no_main]

use keepalived_lite::inspect::{inspect, Kind, Options};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, file)) = data.split_first() else {
        return;
    };
    let opts = Options {
        auth_pass: (flags & 1 != 0).then(|| "secret1".to_owned()),
        auth_type: match (flags >> 1) & 3 {
            0 => None,
            1 => Some(Kind::None),
            2 => Some(Kind::Pass),
            _ => Some(Kind::Ah),
        },
        unicast: flags & 8 != 0,
    };
    let mut out = Vec::new();
    // An unreadable file is an error, not a panic; the lines before it
    // were still written whole.
    let _ = inspect(file, &opts, &mut out);
    for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line).expect("a JSON line");
        assert!(v["verdict"].is_string(), "{v}");
    }
});
