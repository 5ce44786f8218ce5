//! Golden tests: each directory under tests/golden/ holds a keepalived.conf
//! (and the files it includes), the expected model as JSON
//! (expected.json) and the expected diagnostics (expected.diag). Every case
//! is parsed with config id `main`, and must also survive
//! parse -> emit -> parse unchanged.
//!
//! To regenerate after an intended change: `UPDATE_GOLDEN=1 cargo test -p
//! vrrp-conf --test golden`, then review the diff.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::path::{Path, PathBuf};

use vrrp_conf::{emit::emit, parse_file, parse_str, Options, Parsed, Severity};

fn opts() -> Options {
    Options {
        config_id: Some("main".into()),
        ..Options::default()
    }
}

fn render_diags(p: &Parsed, dir: &Path) -> String {
    let prefix = format!("{}/", dir.display());
    let mut out = String::new();
    for d in &p.diagnostics {
        let file = p.sources.name(d.span.file);
        let file = file.strip_prefix(&prefix).unwrap_or(file);
        let sev = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let code = serde_json::to_string(&d.code).unwrap();
        out.push_str(&format!(
            "{file}:{}:{}: {sev}[{}]: {}",
            d.span.line,
            d.span.col,
            code.trim_matches('"'),
            d.message.replace(&prefix, "")
        ));
        if let Some(s) = &d.suggestion {
            out.push_str(&format!(" (did you mean '{s}'?)"));
        }
        out.push('\n');
    }
    out
}

fn cases() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let mut v: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

fn check(dir: &Path, file: &str, actual: &str, failures: &mut Vec<String>) {
    let path = dir.join(file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_default();
    if expected != actual {
        failures.push(format!(
            "{}:\n--- expected\n{expected}\n--- actual\n{actual}",
            path.display()
        ));
    }
}

#[test]
fn golden_cases_give_the_expected_model_and_diagnostics() {
    let cases = cases();
    assert!(cases.len() >= 8, "golden cases missing");
    let mut failures = Vec::new();
    for dir in &cases {
        let p = parse_file(&dir.join("keepalived.conf"), &opts());
        // ${_PWD} expands to the case directory: keep the file machine-independent.
        let json = serde_json::to_string_pretty(&p.config)
            .unwrap()
            .replace(&dir.display().to_string(), "<case-dir>")
            + "\n";
        check(dir, "expected.json", &json, &mut failures);
        check(dir, "expected.diag", &render_diags(&p, dir), &mut failures);
        let again = parse_str("emitted.conf", &emit(&p.config), &opts());
        if again.config != p.config {
            failures.push(format!("{}: parse(emit(m)) != m", dir.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
