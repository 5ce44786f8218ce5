//! The preprocessor alone (include with globs and braces, `$NAME`, `@id`,
//! `~SEQ`/`~LST`), with includes served from memory and a small expansion
//! budget so that time per input stays bounded: never panics, every line
//! start indexes the tokens in order, and every token's file was read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrp_conf::preprocess::run_str;
use vrrp_conf::{MemLoader, Options};

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
        .with("/fuzz/inc/b.conf", "include ../main.conf\n$P=1\n")
        .with("/fuzz/inc/c.conf", "~SEQ(i,3) x ${i}\n@main y\n");
    let opts = Options {
        config_id: Some("main".into()),
        max_include_depth: 4,
        max_expanded_lines: 256,
        max_expanded_len: 8 * 1024,
        include_check: 0,
    };
    let out = run_str("/fuzz/main.conf", &text, &loader, &opts);
    let mut prev = 0;
    for &s in &out.line_starts {
        assert!(s >= prev && s as usize <= out.tokens.len());
        prev = s;
    }
    let files = out.sources.names().len();
    for t in &out.tokens {
        assert!((t.span.file.0 as usize) < files);
        let _ = t.text(&out.text);
    }
    for d in &out.diags {
        let _ = d.display(&out.sources).to_string();
    }
});
