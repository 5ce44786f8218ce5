//! `keepalived-lite -t` and the daemon's start-up refuse the same things
//! (`-t` also fails with keepalived's configuration errors that it runs
//! past; start-up logs those and runs).
//!
//! Every sample (vrrp-conf/tests/samples, keepalived's shipped samples)
//! and golden configuration (vrrp-conf/tests/golden) goes through `-t`
//! (the binary) and through start-up: the library call `main` makes before
//! starting anything and, where that refuses, the binary itself without
//! `-t`, which must log the same errors and exit 1 before it starts
//! anything. Configurations start-up would accept are not started here.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Parser;
use keepalived_lite::cli::{self, Cli};

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-lite");

fn configs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vrrp-conf/tests");
    let mut out: Vec<PathBuf> = std::fs::read_dir(root.join("samples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_none_or(|e| e != "md"))
        .collect();
    for case in std::fs::read_dir(root.join("golden")).unwrap() {
        let conf = case.unwrap().path().join("keepalived.conf");
        if conf.exists() {
            out.push(conf);
        }
    }
    out.sort();
    out
}

/// The `FILE:LINE:COL: error: ...` lines of an output, wherever they
/// start (the daemon's log lines have a time and level first).
fn errors(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| l.contains(": error: "))
        .filter_map(|l| l.find("vrrp-conf/").map(|i| l[i..].to_string()))
        .collect()
}

/// What start-up refuses, and keepalived's configuration errors it logs
/// and runs past, through the same calls `main` makes.
fn startup_refusals(args: &[&str], conf: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut argv = vec!["keepalived-lite", "-f", conf.to_str().unwrap()];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(argv).unwrap();
    let parsed = cli.load();
    let converted = cli.convert(&parsed);
    let lines = |ds: Vec<&vrrp_conf::Diagnostic>| {
        errors(
            &(ds.iter())
                .map(|d| format!("{}\n", d.display(&parsed.sources)))
                .collect::<String>(),
        )
    };
    (
        lines(cli::refusals(&parsed, &converted)),
        lines(cli::config_errors(&parsed, &converted)),
    )
}

fn relative(conf: &Path) -> String {
    let s = conf.to_str().unwrap();
    s[s.find("vrrp-conf/").unwrap()..].to_string()
}

#[test]
fn t_and_startup_refuse_the_same_set_on_every_sample_and_golden_config() {
    // One spelling of each path for both runs: include cycles are found
    // by path.
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap();
    let mut checked = 0;
    let mut started_and_refused = 0;
    for conf in configs() {
        let rel = relative(&conf);
        let path = dir.join(&rel);
        let path = path.to_str().unwrap();
        for mode in [&[][..], &["-P"][..], &["-C"][..]] {
            let mut t = Command::new(BIN);
            t.args(["-t", "-i", "main", "-f", path]).args(mode);
            let out = t.output().unwrap();
            let by_t = errors(&String::from_utf8(out.stderr).unwrap());
            let mut args = vec!["-i", "main"];
            args.extend_from_slice(mode);
            let (by_startup, logged_only) = startup_refusals(&args, Path::new(path));
            let want_rc = if by_t.is_empty() { 0 } else { 5 };
            // -t also fails with the errors keepalived runs past.
            let all: BTreeSet<String> = by_startup.union(&logged_only).cloned().collect();
            assert_eq!(by_t, all, "{rel} {mode:?}");
            let rc = out.status.code().unwrap();
            assert!(
                rc == want_rc || (rc == 6 && want_rc == 0),
                "{rel} {mode:?}: -t exit {rc}"
            );
            checked += 1;
            if by_startup.is_empty() {
                continue; // start-up would run it: not here.
            }
            let run = Command::new(BIN)
                .args(["-i", "main", "-f", path])
                .args(mode)
                .output()
                .unwrap();
            let logged = errors(&String::from_utf8(run.stderr).unwrap());
            assert_eq!(logged, by_t, "{rel} {mode:?}: the daemon's log");
            assert_eq!(run.status.code(), Some(1), "{rel} {mode:?}");
            started_and_refused += 1;
        }
    }
    assert_eq!(checked, 3 * 36, "25 samples and 11 golden configs, 3 modes");
    assert!(started_and_refused > 0);
}

#[test]
fn an_unsupported_keyword_gets_file_line_from_t_and_exit_5() {
    let dir = std::env::temp_dir().join(format!("kl-unsupported-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("k.conf");
    let text = "vrrp_instance VI_1 {\n  interface lo0\n  virtual_router_id 9\n  \
                track_bfd {\n    f1\n  }\n  virtual_ipaddress {\n    192.0.2.1\n  }\n}\n";
    std::fs::write(&conf, text).unwrap();
    let out = lite_t(&conf);
    assert_eq!(out.status.code(), Some(5));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let want = format!(
        "{}:4:3: error: (VI_1) track_bfd is not supported by keepalived-lite",
        conf.display()
    );
    assert!(stderr.lines().any(|l| l == want), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Rules keepalived 2.2.7 skips with its errors (a mixed family, a table
/// it cannot find, a bad preference, a goto without a lower preference,
/// a route type that is no rule action, a from that is no address), a bad
/// prefix length and an unknown track group (installed), a rule on a
/// missing interface (keepalived's VRRP process stops: refused), one it gives a preference with
/// an error (`-t` fails, start-up logs them and runs), and a unicast pair
/// on two VMACs keepalived-lite refuses by name (`-t` fails, start-up
/// refuses): the same lines both ways.
#[test]
fn t_and_startup_agree_on_a_skipped_rule_and_a_refused_vmac_pair() {
    // `errors` cites paths from "vrrp-conf/".
    let dir = std::env::temp_dir().join(format!("kl-agree-{}/vrrp-conf", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inst = |name: &str, vmac: &str| {
        format!(
            "vrrp_instance {name} {{\n interface kl-agree0\n virtual_router_id 51\n \
             use_vmac {vmac}\n vmac_xmit_base\n unicast_src_ip 10.0.0.1\n \
             unicast_peer {{\n  10.0.0.2\n }}\n virtual_ipaddress {{\n  10.9.9.9\n }}\n}}\n"
        )
    };
    let rule = "static_rules {\n from 10.6.6.6 to all table 100 preference 5\n}\n";
    let vmacs = "through VMACs (VI_0 and VI_1) is not supported by keepalived-lite";
    let cases = [
        (
            rule.to_owned() + &inst("VI_0", ""),
            vec!["2:2: error: rule specification has mixed IPv4 and IPv6"],
            false,
        ),
        (
            "static_rules {\n from 10.6.6.6 table 100\n}\n".to_owned() + &inst("VI_0", ""),
            vec!["2:2: error: Rule has no preference specified - setting to 16384."],
            false,
        ),
        (
            inst("VI_0", "") + &inst("VI_1", "vrrp2.51 02:78:00:00:00:02"),
            vec![vmacs],
            true,
        ),
        (
            "static_rules {\n from 10.6.6.6 table nosuch preference 5\n \
             from 10.6.6.7 table 100 preference 6\n}\n"
                .to_owned()
                + &inst("VI_0", ""),
            vec!["2:2: error: Routing table nosuch not found for rule"],
            false,
        ),
        (
            "static_rules {\n from 10.6.6.6 table 100 preference 1x\n}\n".to_owned()
                + &inst("VI_0", ""),
            vec![
                "2:2: error: invalid number '1x'",
                "2:2: error: Invalid rule preference preference specified",
            ],
            false,
        ),
        (
            inst("VI_0", "").replacen(
                "}\n}\n",
                "}\n virtual_rules {\n  from 10.6.6.6 goto 50\n  from 10.6.6.7 type local preference 4\n }\n}\n",
                1,
            ),
            vec![
                "14:3: error: Invalid rule - goto target 50 specified without preference",
                "15:3: error: Invalid rule action local",
            ],
            false,
        ),
        (
            "static_rules {\n from 10.6.6.300 table 100 preference 5\n \
             to 10.6.6.0/40 table 100 preference 6 track_group NONE\n}\n\
             static_routes {\n 10.5.0.0/16 dev kl-agree0 track_group NONE\n}\n"
                .to_owned()
                + &inst("VI_0", ""),
            vec![
                "2:2: error: VRRP parsed invalid IP 10.6.6.300. skipping IP...",
                "2:2: error: Invalid rule from address 10.6.6.300",
                "3:2: error: number '40' outside range [0, 32]",
                "3:2: error: Invalid address prefix len 40 for address 10.6.6.0/40 - using 32",
                "3:2: error: track_group NONE not found",
                "6:2: error: track_group NONE not found",
            ],
            false,
        ),
        (
            "static_rules {\n from 10.6.6.6 iif kl-agree-no0 table 100 preference 5\n}\n"
                .to_owned()
                + &inst("VI_0", ""),
            vec![
                "2:2: error: WARNING - interface kl-agree-no0 for rule doesn't exist",
                "2:2: error: Non-existent interface specified in configuration",
            ],
            true,
        ),
    ];
    for (n, (text, want, refused)) in cases.iter().enumerate() {
        let conf = dir.join(format!("c{n}.conf"));
        std::fs::write(&conf, text).unwrap();
        let out = lite_t(&conf);
        let by_t = errors(&String::from_utf8(out.stderr).unwrap());
        assert_eq!(out.status.code(), Some(5), "{text}");
        assert_eq!(by_t.len(), want.len(), "{by_t:?}");
        for w in want {
            assert!(by_t.iter().any(|l| l.contains(w)), "{w}: {by_t:?}");
        }
        let (by_startup, logged_only) = startup_refusals(&[], &conf);
        let (stops, logs) = if *refused {
            (&by_startup, &logged_only)
        } else {
            (&logged_only, &by_startup)
        };
        assert_eq!(*stops, by_t, "{text}");
        assert!(logs.is_empty(), "{logs:?}");
    }
    std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
}

/// `keepalived-lite -t -f conf`, run to its end.
fn lite_t(conf: &Path) -> std::process::Output {
    Command::new(BIN)
        .arg("-t")
        .arg("-f")
        .arg(conf)
        .output()
        .unwrap()
}
