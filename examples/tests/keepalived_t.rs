//! `keepalived-lite -t` against what the real `keepalived -t` reports.
//!
//! `fixtures/keepalived-t.expected` holds keepalived 2.2.7's output for each
//! of the 25 shipped samples (recorded by `fixtures/record-keepalived-t.sh`
//! in a network namespace with the interfaces the samples use). For every
//! sample, keepalived-lite must report a diagnostic on every line keepalived
//! reports, a diagnostic of the matching class for every message keepalived
//! prints without a line, and no error anywhere else.
//!
//! keepalived-lite's `-t` also reports what its conversion refuses (what
//! the crates do not run): those errors are its own, not keepalived's, so
//! they are taken out of the comparison and only turn the exit code to 5.
//!
//! `root_netns_keepalived_t_matches_recorded_fixtures` re-runs the real
//! keepalived to show the fixtures are what keepalived says today.
//! `fixtures/keepalived-t-golden.expected` does the same for vrrp-conf's
//! golden error fixtures.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-lite");

fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../vrrp-conf/tests/samples")
}

fn fixture_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keepalived-t.expected")
}

/// One sample's keepalived output: exit code, lines with a line number,
/// messages without one.
#[derive(Debug, Default, PartialEq, Eq)]
struct Report {
    rc: i32,
    lines: BTreeMap<u32, Vec<String>>,
    lineless: Vec<String>,
}

fn parse_fixture(text: &str) -> BTreeMap<String, Report> {
    let mut out = BTreeMap::new();
    let mut cur: Option<String> = None;
    for l in text.lines().filter(|l| !l.starts_with('#')) {
        if let Some(h) = l.strip_prefix("=== ") {
            let (name, rc) = h.split_once(" rc=").unwrap();
            let r = Report {
                rc: rc.parse().unwrap(),
                ..Report::default()
            };
            out.insert(name.to_string(), r);
            cur = Some(name.to_string());
            continue;
        }
        let r = out.get_mut(cur.as_ref().unwrap()).unwrap();
        match keepalived_line(l) {
            Some((n, msg)) => r.lines.entry(n).or_default().push(msg),
            None => r.lineless.push(l.to_string()),
        }
    }
    out
}

/// `(FILE: Line N) message` -> (N, message).
fn keepalived_line(l: &str) -> Option<(u32, String)> {
    let rest = l.strip_prefix('(')?;
    let (head, msg) = rest.split_once(") ")?;
    let n = head.rsplit_once("Line ")?.1.parse().ok()?;
    Some((n, msg.to_string()))
}

/// A keepalived-lite diagnostic line `FILE:LINE:COL: severity: message`.
#[derive(Debug)]
struct Ours {
    line: u32,
    error: bool,
    message: String,
}

/// The (line, message) of each refusal of keepalived-lite's conversion of
/// `sample`, as `-t` runs it.
fn refusals(sample: &Path) -> BTreeSet<(u32, String)> {
    use clap::Parser;
    let cli = keepalived_lite::cli::Cli::try_parse_from([
        "keepalived-lite",
        "-f",
        sample.to_str().unwrap(),
    ])
    .unwrap();
    let parsed = cli.load();
    let converted = cli.convert(&parsed);
    converted
        .refusals()
        .map(|d| (d.span.line, d.message.clone()))
        .collect()
}

fn run_ours(sample: &Path) -> (i32, Vec<Ours>) {
    let out = Command::new(BIN)
        .arg("-t")
        .arg("-f")
        .arg(sample)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    (out.status.code().unwrap(), parse_ours(&stderr))
}

/// keepalived-lite's `-t` output as diagnostics.
fn parse_ours(stderr: &str) -> Vec<Ours> {
    let mut diags = Vec::new();
    for l in stderr.lines() {
        let mut parts = l.splitn(5, ':');
        let (_file, line, _col, sev, msg) = match (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) {
            (Some(f), Some(l), Some(c), Some(s), Some(m)) => (f, l, c, s, m),
            _ => continue,
        };
        let Ok(line) = line.parse() else { continue };
        diags.push(Ours {
            line,
            error: sev.trim() == "error",
            message: msg.trim().to_string(),
        });
    }
    diags
}

/// What keepalived-lite says for a keepalived message printed without a
/// line number: a word its message must contain.
fn lineless_match(keepalived_msg: &str) -> &'static str {
    if keepalived_msg.contains("incompatible with AH") {
        "incompatible with AH"
    } else if keepalived_msg.contains("protocol specified for fwmark") {
        "protocol specified for fwmark"
    } else if keepalived_msg.contains("has no virtual router") {
        "has no virtual router"
    } else if keepalived_msg.contains("SECURITY VIOLATION") {
        "enable_script_security"
    } else {
        panic!("no known keepalived-lite counterpart for keepalived's '{keepalived_msg}'")
    }
}

#[test]
fn keepalived_lite_t_reports_what_keepalived_t_reports_on_every_sample() {
    let fixture = parse_fixture(&std::fs::read_to_string(fixture_path()).unwrap());
    assert_eq!(fixture.len(), 25, "the fixture covers the 25 samples");
    let mut failures = Vec::new();
    for (name, theirs) in &fixture {
        let (rc, mut ours) = run_ours(&samples_dir().join(name));
        let refused = refusals(&samples_dir().join(name));
        ours.retain(|d| !refused.contains(&(d.line, d.message.clone())));
        let our_lines: BTreeSet<u32> = ours.iter().map(|d| d.line).collect();
        for (n, msgs) in &theirs.lines {
            if !our_lines.contains(n) {
                failures.push(format!(
                    "{name}: keepalived reports line {n} ({msgs:?}), keepalived-lite does not"
                ));
            }
        }
        let mut allowed: BTreeSet<u32> = theirs.lines.keys().copied().collect();
        for m in &theirs.lineless {
            let needle = lineless_match(m);
            match ours.iter().find(|d| d.message.contains(needle)) {
                Some(d) => {
                    allowed.insert(d.line);
                }
                None => failures.push(format!(
                    "{name}: keepalived says '{m}', keepalived-lite has no '{needle}'"
                )),
            }
        }
        for d in ours
            .iter()
            .filter(|d| d.error && !allowed.contains(&d.line))
        {
            failures.push(format!(
                "{name}: keepalived-lite error on line {} ({}) that keepalived does not report",
                d.line, d.message
            ));
        }
        // Exit codes agree whenever keepalived's verdict does not depend on
        // interfaces or scripts of the host (these are warnings for us).
        let want = match theirs.rc {
            _ if !refused.is_empty() => 5,
            5 if ours.iter().any(|d| d.error) => 5,
            5 => 0,
            other => other,
        };
        if rc != want {
            failures.push(format!(
                "{name}: exit code {rc}, expected {want} (keepalived: {}; \
                 6 needs the sample's script program, killall from psmisc, on this host)",
                theirs.rc
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every shipped sample runs: nothing in one is refused, so the comparison
/// above covers all of each (the last refusal was the deprecated
/// `lvs_sync_daemon_interface` of `keepalived.conf.vrrp.lvs_syncd`).
#[test]
fn keepalived_lite_refuses_nothing_in_the_samples() {
    let fixture = parse_fixture(&std::fs::read_to_string(fixture_path()).unwrap());
    let refused: Vec<String> = (fixture.keys())
        .flat_map(|name| {
            let r = refusals(&samples_dir().join(name));
            r.into_iter().map(move |(l, m)| format!("{name}:{l}: {m}"))
        })
        .collect();
    assert_eq!(refused, Vec::<String>::new());
    let syncd = samples_dir().join("keepalived.conf.vrrp.lvs_syncd");
    let (rc, ours) = run_ours(&syncd);
    // A configuration error in keepalived's words, which it runs past.
    let deprecated = ours.iter().find(|d| d.line == 11).unwrap();
    assert!(deprecated.error, "{deprecated:?}");
    assert_eq!(
        deprecated.message,
        "(VI_1) Specifying lvs_sync_daemon_interface against a vrrp is deprecated. \
         Please use global lvs_sync_daemon"
    );
    // keepalived's errors on lines 3-5 (the sync group's bare names).
    assert_eq!(rc, 5);
}

/// keepalived messages on the golden fixtures that keepalived-lite does not
/// repeat, and why: cascades after an unknown keyword (keepalived-lite
/// skips the block instead), the host's users (host-dependent), and
/// defaults keepalived announces.
const NOT_REPEATED: &[&str] = &[
    "Unknown keyword '}'",
    "Unexpected '{' - ignoring",
    "Unable to set default user keepalived_script",
    "Error setting global script uid/gid",
    "no scheduler set, setting default",
    "no forwarding method set, setting default",
];

/// The keepalived-lite message for a keepalived message without a line.
fn golden_lineless_match(keepalived_msg: &str) -> &'static str {
    match keepalived_msg {
        m if m.contains("No VIP specified") => "no virtual_ipaddress specified",
        m if m.contains("no protocol set") => "no protocol set",
        m if m.contains("the virtual router id must be set") => "the virtual router id must be set",
        m => lineless_match(m),
    }
}

#[test]
fn keepalived_lite_t_reports_what_keepalived_t_reports_on_error_fixtures() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keepalived-t-golden.expected");
    let fixture = parse_fixture(&std::fs::read_to_string(path).unwrap());
    assert_eq!(fixture.len(), 6);
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vrrp-conf/tests/golden");
    let mut failures = Vec::new();
    for (case, theirs) in &fixture {
        let conf = golden.join(case).join("keepalived.conf");
        let out = Command::new(BIN)
            .args(["-t", "-i", "main", "-f"])
            .arg(&conf)
            .output()
            .unwrap();
        let stderr = String::from_utf8(out.stderr).unwrap();
        let ours = parse_ours(&stderr);
        let our_lines: BTreeSet<u32> = ours.iter().map(|d| d.line).collect();
        for (n, msgs) in &theirs.lines {
            let relevant = msgs
                .iter()
                .any(|m| !NOT_REPEATED.iter().any(|x| m.contains(x)));
            if relevant && !our_lines.contains(n) {
                failures.push(format!(
                    "{case}: keepalived reports line {n} ({msgs:?}), keepalived-lite does not"
                ));
            }
        }
        for m in theirs
            .lineless
            .iter()
            .filter(|m| !NOT_REPEATED.iter().any(|x| m.contains(x)))
        {
            let needle = golden_lineless_match(m);
            if !ours.iter().any(|d| d.message.contains(needle)) {
                failures.push(format!(
                    "{case}: keepalived says '{m}', keepalived-lite has no '{needle}'"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn exit_codes_follow_keepalived() {
    let dir = std::env::temp_dir().join(format!("kl-exit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.conf");
    std::fs::write(
        &bad,
        "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 300\n}\n",
    )
    .unwrap();
    let good = samples_dir().join("keepalived.conf.vrrp.sync");
    let code = |args: &[&std::ffi::OsStr]| {
        Command::new(BIN)
            .args(args)
            .output()
            .unwrap()
            .status
            .code()
            .unwrap()
    };
    assert_eq!(code(&["-t".as_ref(), "-f".as_ref(), good.as_os_str()]), 0);
    assert_eq!(code(&["-t".as_ref(), "-f".as_ref(), bad.as_os_str()]), 5);
    assert_eq!(
        code(&[
            "-t".as_ref(),
            "-f".as_ref(),
            dir.join("missing.conf").as_os_str()
        ]),
        4
    );
    let log = dir.join("t.log");
    let mut arg = std::ffi::OsString::from("--config-test=");
    arg.push(&log);
    assert_eq!(code(&[arg.as_os_str(), "-f".as_ref(), bad.as_os_str()]), 5);
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains(
            "bad.conf:3:3: error: 'virtual_router_id': number '300' outside range [1, 255]"
        ),
        "{text}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn missing_interfaces_are_warnings_not_errors() {
    let dir = std::env::temp_dir().join(format!("kl-if-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("k.conf");
    let text = "vrrp_instance VI_1 {\n  interface kl-absent0\n  virtual_router_id 9\n}\n";
    std::fs::write(&conf, text).unwrap();
    let out = Command::new(BIN)
        .arg("-t")
        .arg("-f")
        .arg(&conf)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("k.conf:2:3: warning: interface kl-absent0 (interface of vrrp_instance VI_1) does not exist on this host"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dump_json_and_dump_conf_print_the_model() {
    let sample = samples_dir().join("keepalived.conf.vrrp");
    let out = Command::new(BIN)
        .arg("--dump-json")
        .arg("-f")
        .arg(&sample)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["vrrp_instances"][0]["name"], "VI_1");
    assert_eq!(v["vrrp_instances"].as_array().unwrap().len(), 4);
    let out = Command::new(BIN)
        .arg("-d")
        .arg("-f")
        .arg(&sample)
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("global_defs {\n"), "{text}");
    assert!(
        text.contains("vrrp_instance VI_1 {\n    state MASTER\n"),
        "{text}"
    );
}

/// Network namespace with the samples' interfaces, deleted on drop.
struct Netns(String);

impl Netns {
    fn new() -> Self {
        let name = format!("kl-t-{}", std::process::id());
        let ip = |args: &[&str]| {
            let ok = Command::new("ip")
                .args(args)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            assert!(
                ok,
                "ip {} failed (this test needs root and iproute2)",
                args.join(" ")
            );
        };
        ip(&["netns", "add", &name]);
        let ns = Netns(name.clone());
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        for i in ["eth0", "eth1", "eth2", "eth3", "eth0.1"] {
            ip(&[
                "-n",
                &name,
                "link",
                "add",
                i,
                "type",
                "veth",
                "peer",
                "name",
                &format!("p{i}"),
            ]);
            ip(&["-n", &name, "link", "set", i, "up"]);
        }
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Runs the real `keepalived -t ARGS` in `ns` from `dir`.
fn keepalived_t(ns: &Netns, dir: &Path, args: &[&str]) -> Report {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0, "keepalived", "-t"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    let mut got = Report {
        rc: out.status.code().unwrap_or(-1),
        ..Report::default()
    };
    for l in text.lines() {
        match keepalived_line(l) {
            Some((n, msg)) => got.lines.entry(n).or_default().push(msg),
            None => got.lineless.push(l.to_string()),
        }
    }
    got
}

#[test]
fn root_netns_keepalived_t_matches_recorded_fixtures() {
    let version = Command::new("keepalived").arg("-v").output();
    let Ok(version) = version else {
        panic!("keepalived is not installed: this test runs the real `keepalived -t` (Debian package keepalived 2.2.7)");
    };
    let v = String::from_utf8_lossy(&version.stderr).to_string()
        + &String::from_utf8_lossy(&version.stdout);
    assert!(v.contains("v2.2."), "expected keepalived 2.2.x, got: {v}");
    let ns = Netns::new();
    let fixture = parse_fixture(&std::fs::read_to_string(fixture_path()).unwrap());
    for (name, want) in &fixture {
        let got = keepalived_t(&ns, &samples_dir(), &["-f", name]);
        assert_eq!(
            &got, want,
            "{name}: keepalived -t differs from the recorded fixture"
        );
    }
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keepalived-t-golden.expected");
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vrrp-conf/tests/golden");
    for (case, want) in &parse_fixture(&std::fs::read_to_string(path).unwrap()) {
        let got = keepalived_t(
            &ns,
            &golden.join(case),
            &["-i", "main", "-f", "keepalived.conf"],
        );
        assert_eq!(
            &got, want,
            "{case}: keepalived -t differs from the recorded fixture"
        );
    }
}
