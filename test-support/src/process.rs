//! Programs a test needs, temporary directories, and processes that are
//! always stopped.

use std::io::Read;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The path of `program` in the usual system directories; panics with a
/// clear message if it is missing.
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
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// Creates `$TMPDIR/hc-TAG-PID-N`.
    pub fn new(tag: &str) -> Self {
        let n = crate::addr::next();
        let p = std::env::temp_dir().join(format!("hc-{tag}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&p).expect("create temp dir");
        Self(p)
    }

    /// The path of `name` inside the directory.
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
#[derive(Debug)]
pub struct ProcGuard {
    /// The process, until [`ProcGuard::stop`].
    pub child: Option<Child>,
    /// What it is, for messages.
    pub name: String,
}

impl ProcGuard {
    /// Spawns `cmd` with stdin and stdout null and stderr piped (for
    /// [`ProcGuard::assert_running`]); panics if it cannot start.
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

/// Waits until a TCP port accepts (the server is ready); panics after
/// 10 s (a safety limit, not a timing assertion) or if the server exits.
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_dirs_are_removed_on_drop() {
        let d = TempDir::new("selftest");
        std::fs::write(d.path("f"), b"x").expect("write");
        let p = d.0.clone();
        assert!(p.join("f").exists());
        drop(d);
        assert!(!p.exists());
    }

    #[test]
    fn a_guard_reports_an_exited_process_and_stops_a_running_one() {
        let mut done = ProcGuard::spawn("true", &mut Command::new(require("true")));
        let _ = done.child.as_mut().map(Child::wait);
        let exited =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| done.assert_running()));
        assert!(exited.is_err());
        let mut sleeper = ProcGuard::spawn("sleep", Command::new(require("sleep")).arg("60"));
        sleeper.assert_running();
        sleeper.stop();
        assert!(sleeper.child.is_none());
    }
}
