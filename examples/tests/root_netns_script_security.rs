//! Script security in a namespace (needs root and iproute2), as keepalived
//! 2.2.7 enforces it: with `enable_script_security` a world-writable
//! `vrrp_script` never runs while a safe one does, and `-t` names it; with
//! `script_user nobody` a script runs as uid 65534.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_root, wait_for_line, Lab};

/// Generous: CI machines are loaded.
const WAIT: Duration = Duration::from_secs(30);

/// A scratch directory under `/run` (root's, mode 755: no parent is
/// writable by anyone else, unlike `/tmp`), removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let d = PathBuf::from(format!("/run/ksl-sec-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        chmod(&d, 0o755);
        Scratch(d)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// A shell script `name` with `body`, mode `mode`.
    fn script(&self, name: &str, body: &str, mode: u32) -> String {
        let p = self.path(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        chmod(&p, mode);
        p.to_str().unwrap().to_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
}

fn config(globals: &str, scripts: &[(&str, &str)]) -> String {
    let mut text = format!("global_defs {{\n{globals}}}\n");
    for (name, path) in scripts {
        text.push_str(&format!(
            "vrrp_script {name} {{\n  script \"{path}\"\n  interval 1\n}}\n"
        ));
    }
    let tracked: String = scripts
        .iter()
        .map(|(name, _)| format!("    {name}\n"))
        .collect();
    text.push_str(&format!(
        "vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority 100\n  advert_int 1\n  virtual_ipaddress {{\n    10.0.0.100/24\n  }}\n  \
         track_script {{\n{tracked}  }}\n}}\n"
    ));
    text
}

/// Starts keepalived-lite on `conf` in a one-router lab; returns the lab
/// (which stops it on drop) and its log.
fn start(dir: &Scratch, conf: &str) -> (Lab, PathBuf) {
    let mut lab = Lab::new().unwrap();
    lab.add_node("r1", Ipv4Addr::new(10, 0, 0, 1), 24).unwrap();
    let path = dir.path("keepalived.conf");
    std::fs::write(&path, conf).unwrap();
    let log = dir.path("lite.log");
    let lite = env!("CARGO_BIN_EXE_keepalived-lite");
    lab.spawn_vrrp_daemon("r1", lite, &path, &dir.0, &log)
        .unwrap();
    (lab, log)
}

/// Polls until `file` has at least `n` lines; returns its text.
fn wait_lines(file: &Path, n: usize, log: &Path) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        if text.lines().count() >= n {
            return text;
        }
        let log = std::fs::read_to_string(log).unwrap_or_default();
        assert!(
            Instant::now() < deadline,
            "{} never had {n} lines\n{log}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn root_netns_a_world_writable_script_never_runs_under_script_security() {
    require_root();
    let dir = Scratch::new("enforce");
    let (good_runs, bad_runs) = (dir.path("good.runs"), dir.path("bad.runs"));
    let good = dir.script(
        "good.sh",
        &format!("echo ran >> {}", good_runs.display()),
        0o755,
    );
    let bad = dir.script(
        "bad.sh",
        &format!("echo ran >> {}", bad_runs.display()),
        0o777,
    );
    let conf = config(
        "  enable_script_security\n  script_user root\n",
        &[("chk_bad", &bad), ("chk_good", &good)],
    );
    let (lab, log) = start(&dir, &conf);
    // Three runs of the safe script (interval 1): the unsafe one, started
    // at the same time, would have run by now.
    wait_lines(&good_runs, 3, &log);
    assert!(!bad_runs.exists(), "the world-writable script ran");
    let unsafe_line = format!("Unsafe permissions found for script '{bad}' - disabling.");
    assert!(wait_for_line(&log, &unsafe_line, WAIT).is_some());
    assert!(wait_for_line(&log, "Disabling track script chk_bad due to insecure", WAIT).is_some());
    // -t names it too, in keepalived's words.
    let conf_path = dir.path("keepalived.conf");
    let t = lab
        .run(
            "r1",
            env!("CARGO_BIN_EXE_keepalived-lite"),
            &["-t", "-f", conf_path.to_str().unwrap()],
        )
        .unwrap();
    let text = String::from_utf8_lossy(&t.stderr);
    assert!(text.contains(&unsafe_line), "{text}");
    assert!(
        text.contains("Disabling track script chk_bad due to insecure"),
        "{text}"
    );
    assert!(!text.contains(&good), "{text}");
}

#[test]
fn root_netns_script_user_nobody_runs_scripts_as_65534() {
    require_root();
    let dir = Scratch::new("nobody");
    // Only root and nobody can write here.
    let out = dir.path("out");
    std::fs::create_dir(&out).unwrap();
    std::os::unix::fs::chown(&out, Some(65534), Some(65534)).unwrap();
    chmod(&out, 0o755);
    let ids = out.join("ids");
    // Its uid, and the names of its environment variables.
    let body = format!(
        "echo \"$(id -u) $(env | cut -d= -f1 | sort | tr '\\n' ' ')\" >> {}",
        ids.display()
    );
    let script = dir.script("ids.sh", &body, 0o755);
    let conf = config("  script_user nobody\n", &[("chk_ids", &script)]);
    let (_lab, log) = start(&dir, &conf);
    let text = wait_lines(&ids, 1, &log);
    // uid 65534, and nothing of the daemon's environment but PATH (PWD is
    // the shell's own).
    assert_eq!(text.lines().next(), Some("65534 PATH PWD "));
}
