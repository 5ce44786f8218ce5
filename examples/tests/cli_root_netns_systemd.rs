//! keepalived's command line under a `Type=notify` unit (needs root: it
//! creates network namespaces and writes pid files under /run). A test
//! socket stands in for systemd's `NOTIFY_SOCKET`.
//!
//! - Debian's keepalived.service runs `keepalived --dont-fork $DAEMON_ARGS`:
//!   READY=1 after start-up, RELOADING=1 then READY=1 on SIGHUP,
//!   STOPPING=1 on SIGTERM, /run/keepalived.pid and /run/vrrp.pid while it
//!   runs and not after, and a second instance refused while it runs.
//! - Every keepalived option at once: the daemon enters the `-s`
//!   namespace itself, writes `-p`/`-r`, logs to the `-g` file, and is
//!   ready.
#![allow(clippy::unwrap_used, reason = "tests")]

mod lab_kl0;

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_root, Netns};
use test_support::process::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-lite");
const DEADLINE: Duration = Duration::from_secs(30);
/// The tests that use keepalived's default pid files run one at a time.
static DEFAULT_PID_FILES: Mutex<()> = Mutex::new(());

const CONF: &str = "vrrp_instance VI_1 {
    state MASTER
    interface kl0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {
        10.231.0.100/32
    }
}
";

/// A namespace with a veth pair `kl0`/`kl1`, `kl0` at 10.231.0.1/24.
fn lab(tag: &str) -> Netns {
    require_root();
    lab_kl0::kl0_namespace(tag)
}

/// systemd's side of sd_notify: every datagram received, in order.
struct NotifySocket {
    socket: UnixDatagram,
    path: PathBuf,
    seen: Vec<String>,
}

impl NotifySocket {
    fn bind(dir: &TempDir) -> NotifySocket {
        let path = dir.path("notify.sock");
        let socket = UnixDatagram::bind(&path).unwrap();
        socket
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        NotifySocket {
            socket,
            path,
            seen: Vec::new(),
        }
    }

    /// Waits for a datagram containing `line` (a whole line) after the
    /// ones already matched; returns that datagram.
    fn expect(&mut self, line: &str, child: &mut Child, log: &Path) -> String {
        let start = Instant::now();
        let mut buf = [0u8; 4096];
        while start.elapsed() < DEADLINE {
            if let Ok(n) = self.socket.recv(&mut buf) {
                let msg = String::from_utf8_lossy(&buf[..n]).into_owned();
                self.seen.push(msg.clone());
                if msg.lines().any(|l| l == line) {
                    return msg;
                }
            }
            if let Ok(Some(status)) = child.try_wait() {
                panic!("exited ({status}) before {line}: {}", read(log));
            }
        }
        panic!("no {line} in {:?}: {}", self.seen, read(log));
    }
}

/// True if `p` names a live process (a stale file is the daemon's to
/// remove, as keepalived does).
fn held(p: &Path) -> bool {
    let pid = read(p).trim().parse::<u32>().ok();
    pid.is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn spawn(cmd: &mut Command, notify: &NotifySocket, log: &Path) -> Child {
    cmd.env("NOTIFY_SOCKET", &notify.path)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(log).unwrap())
        .stderr(std::fs::File::create(log.with_extension("err")).unwrap())
        .spawn()
        .unwrap()
}

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig}");
}

fn wait_exit(child: &mut Child) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    panic!("did not exit within {DEADLINE:?}");
}

/// Polls until `ip -n NS addr` lists `addr`.
fn wait_for_address(ns: &Netns, addr: &str) {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        if ns
            .ip(&["-4", "addr", "show", "dev", "kl0"])
            .unwrap()
            .contains(addr)
        {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{addr} never appeared in {}", ns.name());
}

#[test]
fn root_debian_unit_arguments_notify_ready_reload_stop_and_write_default_pid_files() {
    let _one = DEFAULT_PID_FILES.lock().unwrap_or_else(|e| e.into_inner());
    let ns = lab("deb");
    let dir = TempDir::new("kl-cli-deb");
    let conf = dir.path("keepalived.conf");
    std::fs::write(&conf, CONF).unwrap();
    let (main_pid, vrrp_pid) = (Path::new("/run/keepalived.pid"), Path::new("/run/vrrp.pid"));
    for p in [main_pid, vrrp_pid] {
        assert!(!held(p), "a keepalived runs on this host: {}", p.display());
    }
    let mut notify = NotifySocket::bind(&dir);
    let log = dir.path("kl.log");
    // ExecStart=/usr/sbin/keepalived --dont-fork $DAEMON_ARGS, with
    // DAEMON_ARGS naming the test's configuration.
    let mut cmd = ns.command(BIN);
    cmd.args(["--dont-fork", "-f", conf.to_str().unwrap()]);
    let mut child = spawn(&mut cmd, &notify, &log);
    let ready = notify.expect("READY=1", &mut child, &log.with_extension("err"));
    let pid = child.id();
    assert!(
        ready.lines().any(|l| l == format!("MAINPID={pid}")),
        "{ready}"
    );
    assert_eq!(read(main_pid), format!("{pid}\n"));
    assert_eq!(read(vrrp_pid), format!("{pid}\n"));
    wait_for_address(&ns, "10.231.0.100");

    // A second instance with the same pid files does not start.
    let second = ns
        .command(BIN)
        .args(["--dont-fork", "-f", conf.to_str().unwrap()])
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(0), "{said}");
    assert!(said.contains("daemon is already running"), "{said}");
    assert_eq!(read(main_pid), format!("{pid}\n"));

    signal(&child, "HUP");
    notify.expect("RELOADING=1", &mut child, &log.with_extension("err"));
    notify.expect("READY=1", &mut child, &log.with_extension("err"));
    signal(&child, "TERM");
    notify.expect("STOPPING=1", &mut child, &log.with_extension("err"));
    assert_eq!(wait_exit(&mut child), Some(0));
    assert!(
        !main_pid.exists() && !vrrp_pid.exists(),
        "pid files left behind"
    );
}

#[test]
fn root_every_keepalived_option_is_accepted() {
    let ns = lab("all");
    let dir = TempDir::new("kl-cli-all");
    let conf = dir.path("keepalived.conf");
    std::fs::write(&conf, CONF).unwrap();
    let mut notify = NotifySocket::bind(&dir);
    let (p, r, c, b) = (
        dir.path("k.pid"),
        dir.path("v.pid"),
        dir.path("c.pid"),
        dir.path("b.pid"),
    );
    let log_file = dir.path("file.log");
    let log = dir.path("kl.log");
    let s = |p: &PathBuf| p.to_str().unwrap().to_owned();
    let args = [
        "-f".into(),
        s(&conf),
        "-P".into(),
        "-B".into(),
        "--all".into(),
        "-l".into(),
        "-D".into(),
        "-D".into(),
        "-S".into(),
        "local3".into(),
        "-G".into(),
        "-u".into(),
        "022".into(),
        "-X".into(),
        "-V".into(),
        "-R".into(),
        "-n".into(),
        "-p".into(),
        s(&p),
        "-r".into(),
        s(&r),
        "-c".into(),
        s(&c),
        "-a".into(),
        "-b".into(),
        s(&b),
        "-x".into(),
        "-A".into(),
        s(&dir.path("agentx")),
        "-s".into(),
        ns.name().to_owned(),
        "-m".into(),
        "-e".into(),
        "-i".into(),
        "test".into(),
        format!("--log-file={}", s(&log_file)),
    ];
    // Started outside the namespace: -s takes it there.
    let mut child = spawn(Command::new(BIN).args(&args), &notify, &log);
    notify.expect("READY=1", &mut child, &log.with_extension("err"));
    let pid = child.id();
    assert_eq!(read(&p), format!("{pid}\n"));
    assert_eq!(read(&r), format!("{pid}\n"));
    assert!(!c.exists(), "-P runs no checker: no checkers pid file");
    assert!(!b.exists(), "no BFD: no bfd pid file");
    wait_for_address(&ns, "10.231.0.100");
    assert!(
        read(&log_file).contains("Starting VRRP child process"),
        "{}",
        read(&log_file)
    );
    signal(&child, "TERM");
    notify.expect("STOPPING=1", &mut child, &log.with_extension("err"));
    assert_eq!(wait_exit(&mut child), Some(0));
    assert!(!p.exists() && !r.exists(), "pid files left behind");
}

#[test]
fn signum_prints_keepalived_s_numbers() {
    for (name, n) in [
        ("STOP", "15"),
        ("RELOAD", "1"),
        ("DATA", "10"),
        ("STATS", "12"),
        ("STATS_CLEAR", "63"),
        ("JSON", "36"),
    ] {
        let out = Command::new(BIN)
            .arg(format!("--signum={name}"))
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("{n}\n"),
            "{name}"
        );
        assert_eq!(out.status.code(), Some(0));
    }
    let out = Command::new(BIN)
        .args(["--signum", "TDUMP"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "Unknown sigfunc TDUMP\n"
    );
}

#[test]
fn genhash_mode_takes_the_options_after_t() {
    // Nothing listens on port 1 of loopback: genhash's own failure.
    let out = Command::new(BIN)
        .args(["-T", "-s", "127.0.0.1", "-p", "1", "-u", "/", "-t", "2"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused"), "{err}");
    // Without -s, genhash's usage error, not keepalived-lite's.
    let out = Command::new(BIN)
        .args(["--genhash", "-u", "/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Usage: genhash"));
}

#[test]
fn all_config_makes_an_include_that_matches_nothing_an_error() {
    let dir = TempDir::new("kl-cli-e");
    let conf = dir.path("keepalived.conf");
    let missing = dir.path("missing");
    std::fs::write(&conf, format!("include {}/*.conf\n", missing.display())).unwrap();
    let run = |extra: &[&str]| {
        Command::new(BIN)
            .args(extra)
            .args(["-t", "-f", conf.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let plain = run(&[]);
    assert_eq!(plain.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&plain.stderr).contains(": warning: include "));
    // keepalived 2.2.7 exits 6 when an include fails its checks.
    let strict = run(&["-e"]);
    assert_eq!(strict.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&strict.stderr).contains(": error: include "));
}
