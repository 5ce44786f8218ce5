//! keepalived 2.2.7 itself and vrrp-conf read the same words: one
//! configuration with an `auth_pass` per vrrp_instance and a `script` per
//! vrrp_script, run by the real keepalived in a network namespace with
//! `--dump-conf`; every dumped password and script command must equal what
//! vrrp-conf parsed. Needs root, `ip` and keepalived: fails loudly without.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use vrrp_conf::lexer::tokenize;
use vrrp_conf::{parse_str, Options, Span};

/// `auth_pass` arguments, each under 8 bytes (keepalived keeps 8).
const PASSWORDS: &[&str] = &[
    "'abc'",
    "\"a b\"",
    "x\"1 2\"",
    "a'b",
    r"a\#b",
    r#""x\#y""#,
    "a'b#c'",
    "'a b'",
    r"a\tb",
    r#""a\tb""#,
    r"a\ b",
    r#"a\"b # c""#,
    r#""a\"b # c""#,
];

/// `script` arguments (keepalived re-reads the first word into argv).
const SCRIPTS: &[&str] = &[
    r#""/usr/bin/echo 'a b' \x41""#,
    r#"/usr/bin/echo\ x "y z""#,
    r#""/usr/bin/echo \"q r\" \101""#,
    r"'/usr/bin/echo' t\tu",
];

fn config() -> String {
    let mut c = String::from(
        "global_defs {\n  router_id q\n  enable_script_security\n  script_user root\n}\n",
    );
    for (i, s) in SCRIPTS.iter().enumerate() {
        c += &format!("vrrp_script chk_{i} {{\n  script {s}\n  interval 100\n}}\n");
    }
    for (i, p) in PASSWORDS.iter().enumerate() {
        let n = i + 1;
        c += &format!(
            "vrrp_instance VI_{n} {{\n  state BACKUP\n  interface veth0\n  virtual_router_id {n}\n  \
             priority 100\n  authentication {{\n    auth_type PASS\n    auth_pass {p}\n  }}\n  \
             virtual_ipaddress {{\n    10.9.9.{n}/32\n  }}\n"
        );
        if i == 0 {
            c += "  track_script {\n";
            for j in 0..SCRIPTS.len() {
                c += &format!("    chk_{j}\n");
            }
            c += "  }\n";
        }
        c += "}\n";
    }
    c
}

fn run(cmd: &str, args: &[&str]) {
    let st = Command::new(cmd).args(args).status();
    assert!(
        st.as_ref().is_ok_and(|s| s.success()),
        "`{cmd} {}` failed ({st:?}): this test needs root and iproute2",
        args.join(" ")
    );
}

/// A network namespace, deleted on drop after killing what runs in it.
struct Netns(String);

impl Netns {
    fn new() -> Netns {
        let ns = Netns(format!("kq-quote-{}", std::process::id()));
        run("ip", &["netns", "add", &ns.0]);
        let peer = [
            "link", "add", "veth0", "type", "veth", "peer", "name", "veth1",
        ];
        run("ip", &[&["-n", &ns.0][..], &peer[..]].concat());
        run("ip", &["-n", &ns.0, "link", "set", "veth0", "up"]);
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Ok(out) = Command::new("ip").args(["netns", "pids", &self.0]).output() {
            for pid in String::from_utf8_lossy(&out.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// (name, value) pairs read from keepalived's dump.
type Named = Vec<(String, String)>;

/// keepalived's dump: instance name -> password, script name -> command.
fn keepalived_dump(conf: &str) -> (Named, Named) {
    let which = Command::new("sh")
        .args(["-c", "command -v keepalived"])
        .output();
    assert!(
        which.is_ok_and(|o| o.status.success()),
        "keepalived is not installed: this test compares against keepalived 2.2.7"
    );
    let dir = std::env::temp_dir().join(format!("kq-quote-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("keepalived.conf");
    std::fs::write(&file, conf).unwrap();
    let ns = Netns::new();
    let pid = |n: &str| dir.join(n).display().to_string();
    let mut child = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.0,
            "keepalived",
            "-n",
            "-l",
            "-D",
            "-d",
            "-P",
        ])
        .args([
            "-f",
            &file.display().to_string(),
            "-p",
            &pid("k.pid"),
            "-r",
            &pid("v.pid"),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start keepalived");
    let (tx, rx) = mpsc::channel();
    let err = child.stderr.take().unwrap();
    let out = child.stdout.take().unwrap();
    let tx2 = tx.clone();
    std::thread::spawn(move || BufReader::new(err).lines().for_each(|l| drop(tx.send(l))));
    std::thread::spawn(move || BufReader::new(out).lines().for_each(|l| drop(tx2.send(l))));
    let (mut pw, mut cmds, mut log) = (Vec::new(), Vec::new(), Vec::new());
    let (mut inst, mut script) = (String::new(), String::new());
    let deadline = Instant::now() + Duration::from_secs(20);
    while pw.len() < PASSWORDS.len() || cmds.len() < SCRIPTS.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(Ok(line)) = rx.recv_timeout(left) else {
            break;
        };
        // Drop the timestamp keepalived puts before each message.
        let msg = line
            .split_once(": ")
            .map_or(line.as_str(), |(_, m)| m)
            .trim();
        if let Some(v) = msg.strip_prefix("VRRP Instance = ") {
            inst = v.to_string();
        } else if let Some(v) = msg.strip_prefix("Password = ") {
            pw.push((inst.clone(), v.to_string()));
        } else if let Some(v) = msg.strip_prefix("VRRP Script = ") {
            script = v.to_string();
        } else if let Some(v) = msg.strip_prefix("Command = ") {
            cmds.push((script.clone(), v.to_string()));
        }
        log.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    drop(ns);
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        pw.len() == PASSWORDS.len() && cmds.len() == SCRIPTS.len(),
        "keepalived dumped {} passwords and {} scripts; its log:\n{}",
        pw.len(),
        cmds.len(),
        log.join("\n")
    );
    (pw, cmds)
}

/// The command keepalived builds from a script's first word: it reads that
/// word again with its full quoting rules, and dumps each argument in `'`.
fn command_of(word: &str) -> String {
    let (mut toks, mut arena, mut d) = (Vec::new(), String::new(), Vec::new());
    tokenize(
        &format!("script {word}"),
        Span::default(),
        &mut arena,
        &mut toks,
        &mut d,
    );
    let args: Vec<String> = toks[1..]
        .iter()
        .map(|t| format!("'{}'", t.text(&arena)))
        .collect();
    args.join(" ")
}

#[test]
fn root_netns_keepalived_reads_the_same_passwords_and_scripts() {
    let conf = config();
    let ours = parse_str("keepalived.conf", &conf, &Options::default()).config;
    let (pw, cmds) = keepalived_dump(&conf);
    let mut bad = Vec::new();
    for (i, line) in PASSWORDS.iter().enumerate() {
        let name = format!("VI_{}", i + 1);
        let theirs = pw.iter().find(|(n, _)| *n == name).map(|(_, p)| p.as_str());
        let v = ours.vrrp_instances.iter().find(|v| v.name == name).unwrap();
        let mine = v
            .authentication
            .as_ref()
            .and_then(|a| a.auth_pass.as_deref());
        if theirs != mine {
            bad.push(format!(
                "auth_pass {line}: keepalived {theirs:?}, vrrp-conf {mine:?}"
            ));
        }
    }
    for (i, line) in SCRIPTS.iter().enumerate() {
        let name = format!("chk_{i}");
        let theirs = cmds
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, c)| c.clone());
        let s = ours.vrrp_scripts.iter().find(|s| s.name == name).unwrap();
        let mine = s.script.as_ref().map(|w| command_of(&w[0]));
        if theirs != mine {
            bad.push(format!(
                "script {line}: keepalived {theirs:?}, vrrp-conf {mine:?}"
            ));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
