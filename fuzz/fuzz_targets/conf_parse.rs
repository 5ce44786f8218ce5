//! Fuzzes the keepalived.conf parser end to end: preprocess (include,
//! parameters, conditionals, ~SEQ/~LST), parse, lower, validate, emit,
//! and checks parse(emit(m)) == m; then runs the conversion (its keyword
//! audit, and both halves when vrrp-conf's convert features are on).
//! Includes resolve only against two in-memory files, never the file
//! system, and expansion limits are tight, so time per input is bounded.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrp_conf::{emit::emit, parse_str, parse_with, MemLoader, Options};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let loader = MemLoader::new()
        .with(
            "/fuzz/inc/a.conf",
            "vrrp_script s {\n script /bin/true\n}\n",
        )
        .with("/fuzz/inc/b.conf", "include ../main.conf\n$P=1\n");
    let opts = Options {
        config_id: Some("main".into()),
        max_include_depth: 4,
        max_expanded_lines: 20_000,
        max_expanded_len: 64 * 1024,
    };
    let parsed = parse_with("/fuzz/main.conf", &text, &loader, &opts);
    for d in &parsed.diagnostics {
        let _ = d.display(&parsed.sources).to_string();
    }
    let halves = vrrp_conf::convert::Halves {
        vrrp: true,
        lvs: true,
    };
    for d in &vrrp_conf::convert::convert(&parsed, halves).diagnostics {
        let _ = d.display(&parsed.sources).to_string();
    }
    // Emitting any model must work, and parse back to the same model.
    let out = emit(&parsed.config);
    let again = parse_str("/fuzz/emitted.conf", &out, &opts);
    assert!(
        again.config == parsed.config,
        "parse(emit(m)) != m for:\n{out}"
    );
});
