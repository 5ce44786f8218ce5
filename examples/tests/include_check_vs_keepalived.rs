//! `include` and its variants, `include_check` and `-e`: keepalived 2.2.7's
//! `-t` and keepalived-lite's `-t` exit with the same code on the same
//! include layouts (missing file, unmatched wildcard, missing directory,
//! brace patterns with some or all alternatives missing, escaped braces,
//! directories and executable files matched). Exit 6 is keepalived's "an
//! include failed its checks", 5 "other errors", 0 "fine". The expected
//! code is recorded with each case too, so that a change on either side is
//! seen. At start-up (no `-t`, in namespaces: needs root) a failed include
//! stops both with 6 too.
//!
//! The `-t` cases start nothing; all run in a scratch directory that is
//! removed afterwards.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

const LITE: &str = env!("CARGO_BIN_EXE_keepalived-lite");
const KEEPALIVED: &str = "/usr/sbin/keepalived";

struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The layout: `d/a.conf`, `d/b.conf`, a directory `d/sub`, an empty
/// directory `empty`, an executable `exe.conf`, `check.conf` which
/// turns on every check in its own `global_defs` and includes `MISSING`,
/// and `e/{x,y}.conf` (braces in its name) with an unknown keyword.
fn layout(tag: &str) -> Scratch {
    let name = format!("kl-include-{tag}-{}", std::process::id());
    let dir = std::env::temp_dir().join(name);
    let s = Scratch(dir.clone());
    std::fs::create_dir_all(dir.join("d/sub")).unwrap();
    std::fs::create_dir_all(dir.join("empty")).unwrap();
    std::fs::create_dir_all(dir.join("e")).unwrap();
    std::fs::write(dir.join("e/{x,y}.conf"), "bogus_keyword\n").unwrap();
    std::fs::write(dir.join("d/a.conf"), "# a\n").unwrap();
    std::fs::write(dir.join("d/b.conf"), "# b\n").unwrap();
    let exe = dir.join("exe.conf");
    std::fs::write(&exe, "# x\n").unwrap();
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(
        dir.join("check-only.conf"),
        "global_defs {\n include_check\n}\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("check.conf"),
        "global_defs {\n include_check\n}\ninclude MISSING\n",
    )
    .unwrap();
    s
}

fn rc(program: &str, conf: &Path, extra: &[&str]) -> i32 {
    let out = Command::new(program)
        .args(["-t", "-f"])
        .arg(conf)
        .args(extra)
        .output()
        .unwrap();
    out.status.code().unwrap_or(-1)
}

/// (global_defs line, include lines, command-line flags, expected exit code)
const CASES: &[(&str, &str, &[&str], i32)] = &[
    // Each variant on a missing file: only m, w and a check a plain name.
    ("", "include MISSING", &[], 0),
    ("", "includer MISSING", &[], 0),
    ("", "includem MISSING", &[], 6),
    ("", "includew MISSING", &[], 6),
    ("", "includeb MISSING", &[], 0),
    ("", "includea MISSING", &[], 6),
    // A wildcard that matches nothing: only w and a.
    ("", "includem empty/*.conf", &[], 0),
    ("", "includew empty/*.conf", &[], 6),
    ("", "includea empty/*.conf", &[], 6),
    // A wildcard in a missing directory counts as missing.
    ("", "includem nodir/*.conf", &[], 6),
    // Braces: some alternatives missing is b's business; all missing too.
    ("", "includem d/{a,c}.conf", &[], 0),
    ("", "includeb d/{a,c}.conf", &[], 6),
    ("", "includem d/{c,e}.conf", &[], 0),
    ("", "includeb d/{c,e}.conf", &[], 6),
    // What a read check refuses: directories and executable files.
    ("", "include d/*", &[], 0),
    ("", "includer d/*", &[], 6),
    ("", "includer d", &[], 6),
    ("", "include exe.conf", &[], 0),
    ("", "includer exe.conf", &[], 6),
    // Quotes are part of the pattern; a comment is not.
    ("", "includem \"d/a.conf\"", &[], 6),
    ("", "includem d/a.conf # c", &[], 0),
    // Escaped braces name one file; the backslash makes glob(3) search
    // the directory, so a missing one is a wildcard matching nothing.
    ("", "include d/\\{a,b\\}.conf", &[], 0),
    ("", "includem d/\\{a,b\\}.conf", &[], 0),
    ("", "includeb d/\\{a,b\\}.conf", &[], 0),
    ("", "includew d/\\{a,b\\}.conf", &[], 6),
    ("", "include d/\\{a,b\\}.conf", &["-e"], 6),
    ("", "includem d/\\{a\\}.conf", &[], 0),
    // ... and the file with braces in its name is read (its error: 5).
    ("", "includea e/\\{x,y\\}.conf", &[], 5),
    // Not an include in keepalived 2.2.7: an unknown keyword.
    ("", "includet MISSING", &[], 5),
    // include_check in global_defs, read before the include.
    ("include_check", "include MISSING", &[], 6),
    ("include_check", "include empty/*.conf", &[], 6),
    ("include_check", "include d/{a,c}.conf", &[], 6),
    ("include_check", "include d/a.conf", &[], 0),
    ("include_check match", "include empty/*.conf", &[], 0),
    ("include_check match", "include d/{a,c}.conf", &[], 0),
    ("include_check brace_match", "include MISSING", &[], 0),
    ("include_check brace_match", "include d/*", &[], 6),
    (
        "include_check wildcard_match",
        "include empty/*.conf",
        &[],
        6,
    ),
    ("include_check +brace_match", "include d/{a,c}.conf", &[], 6),
    ("include_check -read", "include d/*", &[], 0),
    // Removing from nothing leaves nothing; adding adds to nothing.
    ("include_check -read", "include MISSING", &[], 0),
    ("include_check +match", "include MISSING", &[], 6),
    ("include_check +match", "include d/*", &[], 0),
    // Words keepalived ignores are errors (5); a failed include wins (6).
    ("include_check bogus", "include MISSING", &[], 5),
    ("include_check match read", "include d/a.conf", &[], 5),
    ("include_check match read", "include MISSING", &[], 6),
    // -e: every check.
    ("", "include MISSING", &["-e"], 6),
    ("", "include empty/*.conf", &["-e"], 6),
    ("", "include d/{a,c}.conf", &["-e"], 6),
    ("", "include d/*.conf", &["-e"], 0),
    // An included file's include_check holds inside it only.
    ("", "include check.conf", &[], 6),
    ("", "include check-only.conf\ninclude MISSING", &[], 0),
];

#[test]
fn include_layouts_get_keepalived_s_exit_codes() {
    if !Path::new(KEEPALIVED).exists() {
        panic!("{KEEPALIVED} (keepalived 2.2.7) is needed as the reference");
    }
    let s = layout("t");
    let dir = &s.0;
    let conf = dir.join("t.conf");
    let mut wrong = Vec::new();
    for (i, (glob, include, flags, want)) in CASES.iter().enumerate() {
        let text = format!("global_defs {{\n  router_id x\n  {glob}\n}}\n{include}\n");
        std::fs::write(&conf, text).unwrap();
        let k = rc(KEEPALIVED, &conf, flags);
        let l = rc(LITE, &conf, flags);
        if (k, l) != (*want, *want) {
            wrong.push(format!(
                "case {i} [{glob}] [{include}] {flags:?}: keepalived {k}, lite {l}, recorded {want}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// At start-up (no `-t`) a failed include stops both daemons with
/// keepalived's 6 (`KEEPALIVED_EXIT_NO_CONFIG`) before anything starts; a
/// logged one does not (the daemon then writes its pid file and is stopped
/// by SIGTERM). Each
/// runs in a namespace of its own, with pid files in the scratch directory.
#[test]
fn start_up_exits_6_on_a_failed_include_as_keepalived() {
    use keepalived_lite::netns::{require_root, Netns};
    use std::time::{Duration, Instant};
    require_root();
    let s = layout("startcode");
    let conf = s.0.join("s.conf");
    let code = |program: &str, include: &str| {
        let text = format!(
            "global_defs {{\n  router_id x\n}}\n{include}\nvrrp_instance V {{\n  interface eth0\n  \
             virtual_router_id 9\n  priority 100\n  virtual_ipaddress {{\n    10.9.9.9/32\n  }}\n}}\n"
        );
        std::fs::write(&conf, text).unwrap();
        let ns = Netns::new("-inc").unwrap();
        ns.ip(&[
            "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
        ])
        .unwrap();
        for l in ["eth0", "eth1"] {
            ns.ip(&["link", "set", l, "up"]).unwrap();
        }
        ns.ip(&["addr", "add", "10.9.9.1/24", "dev", "eth0"])
            .unwrap();
        let file = |f: &str| s.0.join(f).display().to_string();
        let mut child = ns
            .command(program)
            .args(["-P", "-n", "-l", "-f", conf.to_str().unwrap()])
            .args(["-p", &file("p.pid"), "-r", &file("v.pid")])
            .args(["-c", &file("c.pid")])
            .args(if program == LITE {
                vec!["--control-socket".to_string(), file("sock")]
            } else {
                vec![]
            })
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Both write their pid file only once the configuration passed:
        // a daemon that wrote it runs, and is stopped.
        let pid_file = s.0.join("p.pid");
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status.code();
            }
            if pid_file.exists() {
                let _ = std::process::Command::new("kill")
                    .arg(child.id().to_string())
                    .status();
                let _ = child.wait();
                return None;
            }
            assert!(start.elapsed() < Duration::from_secs(60), "{program} hangs");
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    for (include, want) in [
        ("includem MISSING", Some(6)),
        ("includeb d/{a,c}.conf", Some(6)),
        ("include MISSING", None),
    ] {
        let k = code(KEEPALIVED, include);
        let l = code(LITE, include);
        assert_eq!((k, l), (want, want), "{include}");
    }
}

/// Start-up refuses what `-t` reports with 6, through the calls `main`
/// makes before starting anything; a logged include is no refusal.
#[test]
fn start_up_refuses_a_failed_include_and_only_that() {
    use clap::Parser;
    use keepalived_lite::cli::{self, Cli};
    let s = layout("start");
    let conf = s.0.join("s.conf");
    let refused = |include: &str, flags: &[&str]| {
        let text = format!("global_defs {{\n  router_id x\n}}\n{include}\n");
        std::fs::write(&conf, text).unwrap();
        let mut argv = vec!["keepalived-lite", "-f", conf.to_str().unwrap()];
        argv.extend_from_slice(flags);
        let cli = Cli::try_parse_from(argv).unwrap();
        let parsed = cli.load();
        let converted = cli.convert(&parsed);
        (cli::refusals(&parsed, &converted).iter())
            .map(|d| d.message.clone())
            .collect::<Vec<_>>()
    };
    let missing = ["include MISSING: no such file or directory".to_string()];
    assert_eq!(refused("includem MISSING", &[]), missing);
    assert_eq!(refused("include MISSING", &["-e"]), missing);
    assert!(refused("include MISSING", &[]).is_empty());
    assert_eq!(
        refused("includeb d/{a,c}.conf", &[]),
        ["include d/{a,c}.conf: some alternatives missing, so no file is read"]
    );
}
