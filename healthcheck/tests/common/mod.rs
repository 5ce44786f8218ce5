//! Helpers for tests against real servers on loopback: unique addresses
//! and ports, temporary directories, and process guards that always stop
//! what they started.
#![allow(dead_code, unreachable_pub)] // A test helper module: each test file uses a subset.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT: AtomicU32 = AtomicU32::new(1);

/// A loopback address unique to this process and call: 127.P.Q.N.
pub fn unique_ip() -> IpAddr {
    let pid = std::process::id();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    IpAddr::V4(Ipv4Addr::new(
        127,
        100 + (pid % 100) as u8,
        ((pid / 100) % 250) as u8,
        (n % 250 + 2) as u8,
    ))
}

/// A high port unlikely to be in use (on a unique address, collisions
/// are harmless anyway).
pub fn high_port() -> u16 {
    20_000 + (std::process::id() % 20_000) as u16
}

/// A fresh unique address and port.
pub fn unique_addr() -> SocketAddr {
    SocketAddr::new(unique_ip(), high_port())
}

/// Fails with a clear message if a program is missing.
pub fn require(program: &str) -> PathBuf {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin", "/usr/local/bin"] {
        let p = Path::new(dir).join(program);
        if p.exists() {
            return p;
        }
    }
    panic!("{program} is required by this test and was not found: run .ci/install-deps");
}

/// A temporary directory removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let p = std::env::temp_dir().join(format!("hc-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        Self(p)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed (SIGKILL) and reaped on drop.
pub struct ProcGuard {
    pub child: Option<Child>,
    pub name: String,
}

impl ProcGuard {
    pub fn spawn(name: &str, cmd: &mut Command) -> Self {
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        Self {
            child: Some(child),
            name: name.to_owned(),
        }
    }

    /// Stops the process now.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Panics with the process's stderr if it has exited.
    pub fn assert_running(&mut self) {
        if let Some(c) = self.child.as_mut() {
            if let Ok(Some(status)) = c.try_wait() {
                let mut err = String::new();
                if let Some(mut e) = c.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("{} exited early ({status}): {err}", self.name);
            }
        }
    }
}

impl Drop for ProcGuard {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Waits until a TCP port accepts (the server is ready).
pub fn wait_tcp(addr: SocketAddr, guard: &mut ProcGuard) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        guard.assert_running();
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("{} did not listen on {addr}", guard.name);
}

/// Runs a command to completion, panicking with its stderr on failure.
pub fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A test CA and a server certificate it signed for `names` (DNS) and
/// `ip`, made with the openssl CLI. Returns (ca.pem, server.pem, server.key).
pub fn make_certs(
    dir: &TempDir,
    tag: &str,
    names: &[&str],
    ip: IpAddr,
) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = require("openssl");
    let ca_key = dir.path(&format!("{tag}-ca.key"));
    let ca = dir.path(&format!("{tag}-ca.pem"));
    let key = dir.path(&format!("{tag}.key"));
    let csr = dir.path(&format!("{tag}.csr"));
    let crt = dir.path(&format!("{tag}.pem"));
    let ext = dir.path(&format!("{tag}.ext"));
    let mut san: Vec<String> = names.iter().map(|n| format!("DNS:{n}")).collect();
    san.push(format!("IP:{ip}"));
    std::fs::write(&ext, format!("subjectAltName={}\n", san.join(","))).expect("write ext");
    run(Command::new(&openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={tag} test CA"),
            "-keyout",
        ])
        .arg(&ca_key)
        .arg("-out")
        .arg(&ca));
    run(Command::new(&openssl)
        .args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            &format!("/CN={}", names.first().unwrap_or(&"server")),
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    run(Command::new(&openssl)
        .args(["x509", "-req", "-days", "2", "-in"])
        .arg(&csr)
        .arg("-CA")
        .arg(&ca)
        .arg("-CAkey")
        .arg(&ca_key)
        .arg("-CAcreateserial")
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(&crt));
    (ca, crt, key)
}

/// An nginx serving `root` on `addr` (plain) and optionally TLS servers,
/// given as extra `server { }` blocks.
pub struct Nginx {
    pub guard: ProcGuard,
    pub dir: TempDir,
    conf: PathBuf,
    wait_on: SocketAddr,
}

impl Nginx {
    pub fn start(dir: TempDir, servers: &str, wait_on: SocketAddr) -> Self {
        let nginx = require("nginx");
        let d = dir.0.display();
        let conf = dir.path("nginx.conf");
        let text = format!(
            "daemon off;\nmaster_process off;\npid {d}/nginx.pid;\nerror_log {d}/error.log;\n\
             events {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/cb; proxy_temp_path {d}/pt;\n  \
             fastcgi_temp_path {d}/ft; uwsgi_temp_path {d}/ut; scgi_temp_path {d}/st;\n  \
             default_type application/octet-stream;\n{servers}\n}}\n"
        );
        std::fs::write(&conf, text).expect("write nginx.conf");
        let mut n = Self {
            guard: ProcGuard::spawn(
                "nginx",
                Command::new(&nginx)
                    .arg("-c")
                    .arg(&conf)
                    .arg("-p")
                    .arg(&dir.0),
            ),
            dir,
            conf,
            wait_on,
        };
        wait_tcp(wait_on, &mut n.guard);
        n
    }

    /// Starts it again after a stop, with the same configuration.
    pub fn restart(&mut self) {
        self.guard.stop();
        let nginx = require("nginx");
        self.guard = ProcGuard::spawn(
            "nginx",
            Command::new(&nginx)
                .arg("-c")
                .arg(&self.conf)
                .arg("-p")
                .arg(&self.dir.0),
        );
        wait_tcp(self.wait_on, &mut self.guard);
    }
}

/// MD5 of bytes as lower-case hex, via the md5sum tool (an independent
/// implementation from ours).
pub fn md5_hex_of_file(path: &Path) -> String {
    let out = Command::new("md5sum").arg(path).output().expect("md5sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// Parses lower-case hex.
pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// Deterministic pseudo-random bytes.
pub fn bytes(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
