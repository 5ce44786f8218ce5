//! The conversion from the parsed model to the crates' plans (vrrp-conf's
//! features convert-vrrp and convert-lvs), for both halves and each alone:
//! never panics, a refused configuration yields no plan, and every
//! diagnostic renders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrp_conf::convert::{convert, Halves};
use vrrp_conf::{parse_str, Options};

/// Longest input tried (keepalived's own sample files are up to 3.3 KiB).
const MAX_INPUT: usize = 2048;

fuzz_target!(|data: &[u8]| {
    // Longer inputs find nothing new and cost quadratic work in brace
    // expansion (bounded, but slow under the sanitizer).
    if data.len() > MAX_INPUT {
        return;
    }
    let text = String::from_utf8_lossy(data);
    let opts = Options {
        config_id: None,
        max_include_depth: 2,
        max_expanded_lines: 256,
        max_expanded_len: 8 * 1024,
        include_check: 0,
    };
    let parsed = parse_str("/fuzz/main.conf", &text, &opts);
    for (vrrp, lvs) in [(true, true), (true, false), (false, true)] {
        let out = convert(&parsed, Halves { vrrp, lvs });
        if out.is_refused() {
            assert!(out.vrrp.is_none() && out.lvs.is_none());
        }
        for d in &out.diagnostics {
            let _ = d.display(&parsed.sources).to_string();
        }
    }
    let keepalived = Halves::keepalived(&parsed.config, false, false);
    let _ = convert(&parsed, keepalived);
});
