//! Fuzzes the keepalived.conf parser end to end: preprocess (include,
//! parameters, conditionals, ~SEQ/~LST), parse, lower, validate, emit,
//! and checks parse(emit(m)) == m. Includes resolve only against two
//! in-memory files, never the file system, and the expansion budget is
//! small (256 lines, 8 KiB per line): a 4 KiB input then costs at most a
//! few hundred statements, so the fuzzer runs thousands of inputs a second
//! (with the default budget of 4 million lines, one `~SEQ` seed took
//! seconds). The conversion has its own target, `conf_convert`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrp_conf::{emit::emit, parse_str, parse_with, MemLoader, Options};

/// Longest input tried (keepalived's own sample files are up to 3.3 KiB).
const MAX_INPUT: usize = 2048;

fuzz_target!(|data: &[u8]| {
    // Longer inputs find nothing new and cost quadratic work in brace
    // expansion (bounded, but slow under the sanitizer).
    if data.len() > MAX_INPUT {
        return;
    }
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
        max_expanded_lines: 256,
        max_expanded_len: 8 * 1024,
        include_check: 0,
    };
    let parsed = parse_with("/fuzz/main.conf", &text, &loader, &opts);
    for d in &parsed.diagnostics {
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
