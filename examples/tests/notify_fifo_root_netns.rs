//! `vrrp_notify_fifo` and its script against keepalived 2.2.7 (needs root,
//! iproute2 and the Debian `keepalived`): the same failover sequence is
//! run with keepalived and with keepalived-lite as the router whose FIFO
//! is read, and the lines its FIFO script reads must be the same.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, wait_for_line, Lab};

/// Generous: CI machines are loaded (master down is ~3.6 s).
const WAIT: Duration = Duration::from_secs(30);

#[derive(Clone, Copy, Debug)]
enum Kind {
    Keepalived,
    Lite,
}

fn config(priority: u8, globals: &str) -> String {
    format!(
        "global_defs {{\n{globals}}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority {priority}\n  advert_int 1\n  virtual_ipaddress {{\n    10.0.0.100/24\n  }}\n}}\n"
    )
}

/// A scratch directory under `/run` (only root can write along its path),
/// removed on drop.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Run {
    lab: Lab,
    dir: PathBuf,
}

impl Run {
    /// Starts `kind` in node `node` with `conf`; returns its pid and log.
    fn start(&mut self, node: &str, kind: Kind, conf: &str) -> (u32, PathBuf) {
        let file = |f: &str| self.dir.join(format!("{node}-{f}"));
        let conf_path = file("keepalived.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let log = file(&format!("{kind:?}.log"));
        let exe = match kind {
            Kind::Lite => env!("CARGO_BIN_EXE_keepalived-lite"),
            Kind::Keepalived => "keepalived",
        };
        let pid = (self.lab)
            .spawn_vrrp_daemon(node, exe, &conf_path, &self.dir, &log)
            .unwrap();
        (pid, log)
    }
}

/// Polls until `file` has `n` lines; returns them.
fn wait_lines(file: &Path, n: usize, log: &Path) -> Vec<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let lines: Vec<String> = text.lines().map(str::to_owned).collect();
        if lines.len() >= n {
            return lines;
        }
        let log = std::fs::read_to_string(log).unwrap_or_default();
        assert!(
            Instant::now() < deadline,
            "{} has {lines:?}, not {n} lines\n{log}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// r1 (keepalived, priority 150) is master; `kind` starts on r2 with
/// priority 100 and a FIFO, r1 stops (r2 takes over) and comes back (r2
/// goes back to backup). Returns what r2's FIFO script read, with the
/// FIFO's path written as FIFO.
fn sequence(kind: Kind) -> Vec<String> {
    let dir = PathBuf::from(format!("/run/ksl-fifo-{kind:?}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let _scratch = Scratch(dir.clone());
    let (fifo, out, reader) = (
        dir.join("vrrp.fifo"),
        dir.join("read"),
        dir.join("reader.sh"),
    );
    let body = format!(
        "#!/bin/sh\necho \"args: $*\" >> {o}\nexec cat \"$1\" >> {o}\n",
        o = out.display()
    );
    std::fs::write(&reader, body).unwrap();
    std::fs::set_permissions(&reader, std::fs::Permissions::from_mode(0o755)).unwrap();

    let mut lab = Lab::new().unwrap();
    lab.add_node("r1", Ipv4Addr::new(10, 0, 0, 1), 24).unwrap();
    lab.add_node("r2", Ipv4Addr::new(10, 0, 0, 2), 24).unwrap();
    let mut run = Run { lab, dir };
    let peer = config(150, "");
    let (r1, r1_log) = run.start("r1", Kind::Keepalived, &peer);
    assert!(wait_for_line(&r1_log, "(VI_1) Entering MASTER STATE", WAIT).is_some());
    let globals = format!(
        "  vrrp_notify_fifo {}\n  vrrp_notify_fifo_script {}\n",
        fifo.display(),
        reader.display()
    );
    let (_r2, r2_log) = run.start("r2", kind, &config(100, &globals));
    wait_lines(&out, 2, &r2_log);
    run.lab.stop(r1, Duration::from_secs(5));
    wait_lines(&out, 3, &r2_log);
    run.start("r1", Kind::Keepalived, &peer);
    let lines = wait_lines(&out, 4, &r2_log);
    let fifo = fifo.to_str().unwrap().to_owned();
    lines.iter().map(|l| l.replace(&fifo, "FIFO")).collect()
}

#[test]
fn root_netns_vrrp_notify_fifo_lines_match_keepalived() {
    require_root();
    require_program("keepalived", &["--version"]);
    let keepalived = sequence(Kind::Keepalived);
    let lite = sequence(Kind::Lite);
    assert_eq!(
        keepalived,
        [
            "args: FIFO",
            "INSTANCE \"VI_1\" BACKUP 100",
            "INSTANCE \"VI_1\" MASTER 100",
            "INSTANCE \"VI_1\" BACKUP 100",
        ]
    );
    assert_eq!(lite, keepalived);
}
