//! Native cost of decoding captured kernel replies (no kernel needed):
//! `cargo run --release -p ipvs --example decode_cost`.
#![allow(clippy::unwrap_used)] // example: abort on bad vectors

use std::time::Instant;

fn vector(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/vectors/{name}.hex", env!("CARGO_MANIFEST_DIR"));
    let hex = std::fs::read_to_string(path).unwrap();
    let hex = hex.trim();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

fn main() {
    for name in ["reply02", "reply04"] {
        let v = vector(name);
        let n = 200_000;
        let t = Instant::now();
        let mut entries = 0;
        for _ in 0..n {
            entries += ipvs::message::decode_entries(0x20, std::hint::black_box(&v))
                .unwrap()
                .len();
        }
        let per = t.elapsed() / n;
        println!(
            "{name}: {} bytes, {} entries, {per:?} per datagram",
            v.len(),
            entries / n as usize
        );
    }
}
