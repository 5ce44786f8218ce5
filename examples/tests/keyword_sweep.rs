//! The VRRP keyword sweep: every keyword (and sub-option) of keepalived
//! 2.2.7's VRRP parser in a tiny configuration, checked by the real
//! `keepalived -t` and by `keepalived-lite -t`, each against the verdict
//! recorded in `fixtures/keyword-sweep.cases` (see its header).
//!
//! A keyword keepalived accepts must be run by keepalived-lite (`ok`) or
//! refused by name (`refused`); `warn` with keepalived's `ok` is a keyword
//! dropped with a warning, and `noeffect` one of the documented tuning
//! keywords. When a keyword is implemented, its row flips to `ok`.
//!
//! Both run in a network namespace with veth interfaces `eth0` and `eth1`
//! (both check that interfaces exist), so the test needs root.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-lite");

/// One row of the table.
#[derive(Debug)]
struct Case {
    name: String,
    keepalived: String,
    lite: String,
    owner: String,
    /// (where, text) with real newlines.
    parts: Vec<(String, String)>,
}

fn cases() -> Vec<Case> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keyword-sweep.cases");
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = Vec::new();
    for l in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let cols: Vec<&str> = l.splitn(5, '|').map(str::trim).collect();
        let [name, keepalived, lite, owner, parts] = cols[..] else {
            panic!("bad row: {l}");
        };
        let parts = parts
            .split(" ;; ")
            .map(|p| {
                let (w, t) = p.split_once(':').unwrap();
                (w.trim().to_owned(), t.trim().replace("\\n", "\n"))
            })
            .collect();
        out.push(Case {
            name: name.to_owned(),
            keepalived: keepalived.to_owned(),
            lite: lite.to_owned(),
            owner: owner.to_owned(),
            parts,
        });
    }
    out
}

/// The configuration of a case; `/tmp/kl-sweep-` paths go to `dir`.
fn config(case: &Case, dir: &Path) -> String {
    let mut glob = String::from("enable_script_security\nscript_user root\n");
    let (mut inst, mut root, mut sg) = (String::new(), String::new(), None::<String>);
    let (mut iface, mut vip) = ("interface eth0".to_owned(), "10.9.9.9/32".to_owned());
    for (w, t) in &case.parts {
        match w.as_str() {
            "inst" => inst += &format!("{t}\n"),
            "glob" => glob += &format!("{t}\n"),
            "root" => root += &format!("{t}\n"),
            "sg" => sg
                .get_or_insert_with(String::new)
                .push_str(&format!("{t}\n")),
            "iface" => iface.clone_from(t),
            "vip" => vip.clone_from(t),
            other => panic!("{}: unknown part {other}", case.name),
        }
    }
    let instance = |name: &str, vrid: u8, iface: &str, vip: &str, extra: &str| {
        format!(
            "vrrp_instance {name} {{\n{iface}\nvirtual_router_id {vrid}\npriority 100\n\
             advert_int 1\nvirtual_ipaddress {{\n{vip}\n}}\n{extra}}}\n"
        )
    };
    let mut c = format!("global_defs {{\n{glob}}}\n{root}");
    c += &instance("VI_1", 51, &iface, &vip, &inst);
    if let Some(sg) = sg {
        c += &instance("VI_2", 52, "interface eth0", "10.9.9.8/32", "");
        c += &format!("vrrp_sync_group SG {{\ngroup {{\nVI_1\nVI_2\n}}\n{sg}}}\n");
    }
    c.replace("/tmp/kl-sweep-", &format!("{}/", dir.display()))
}

/// A namespace with veth `eth0` and `eth1`, deleted on drop.
struct Netns(String);

impl Netns {
    fn new() -> Self {
        let name = format!("kl-sweep-{}", std::process::id());
        let ip = |args: &[&str]| {
            let ok = Command::new("ip").args(args).status();
            assert!(
                ok.is_ok_and(|s| s.success()),
                "ip {} failed (this test needs root and iproute2)",
                args.join(" ")
            );
        };
        ip(&["netns", "add", &name]);
        let ns = Netns(name.clone());
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        for i in ["eth0", "eth1"] {
            let peer = format!("p{i}");
            ip(&[
                "-n", &name, "link", "add", i, "type", "veth", "peer", "name", &peer,
            ]);
            ip(&["-n", &name, "link", "set", i, "up"]);
        }
        ns
    }

    /// `PROGRAM -t -f CONF` in the namespace: exit code and output.
    fn check(&self, program: &str, conf: &Path) -> (i32, String) {
        let out = Command::new("ip")
            .args(["netns", "exec", &self.0, program, "-t", "-f"])
            .arg(conf)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        (out.status.code().unwrap_or(-1), text)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn keepalived_verdict(rc: i32, out: &str) -> &'static str {
    match (rc, out.trim().is_empty()) {
        (0, true) => "ok",
        (0, false) => "warn",
        _ => "error",
    }
}

fn lite_verdict(rc: i32, out: &str) -> &'static str {
    // The last line counts errors and warnings.
    let said: Vec<&str> = (out.lines())
        .filter(|l| !l.ends_with("warning(s)"))
        .collect();
    let said = said.join("\n");
    if said.contains("is not supported by keepalived-lite") {
        "refused"
    } else if said.contains("is accepted without effect") {
        "noeffect"
    } else if rc != 0 {
        "error"
    } else if said.is_empty() {
        "ok"
    } else {
        "warn"
    }
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn root_netns_keyword_sweep_gives_the_recorded_verdicts() {
    let dir = TempDir(std::env::temp_dir().join(format!("kl-sweep-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    std::fs::write(dir.0.join("tf"), "0\n").unwrap();
    let ns = Netns::new();
    let mut wrong = Vec::new();
    let cases = cases();
    assert!(cases.len() > 150, "the table lost rows: {}", cases.len());
    for case in &cases {
        let conf = dir.0.join(format!("{}.conf", case.name));
        std::fs::write(&conf, config(case, &dir.0)).unwrap();
        let (rc, out) = ns.check("keepalived", &conf);
        let ka = keepalived_verdict(rc, &out);
        let (rc, lout) = ns.check(BIN, &conf);
        let kl = lite_verdict(rc, &lout);
        if ka != case.keepalived || kl != case.lite {
            wrong.push(format!(
                "{} ({}): keepalived {ka} (want {}), keepalived-lite {kl} (want {})\n{out}{lout}",
                case.name, case.owner, case.keepalived, case.lite
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn keyword_sweep_table_is_consistent() {
    let cases = cases();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "duplicate case names");
    for c in &cases {
        let owners = ["-", "bfd", "snmp", "dbus", "garp", "vip", "vmac"];
        assert!(owners.contains(&c.owner.as_str()), "{}: owner", c.name);
        let verdicts = ["ok", "warn", "error", "refused", "noeffect"];
        assert!(verdicts.contains(&c.lite.as_str()), "{}: verdict", c.name);
        // Nothing keepalived runs may be dropped with only a warning.
        assert!(
            !(c.keepalived == "ok" && c.lite == "warn"),
            "{}: keepalived runs it, keepalived-lite drops it with a warning",
            c.name
        );
    }
}
