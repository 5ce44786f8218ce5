//! keepalived's pid files (`-p`, `-r`, `-c`): where keepalived 2.2.7 puts
//! them, its refusal to start while a live process holds one, and their
//! removal at exit.
//!
//! keepalived writes the parent's pid to the main file and each child's
//! pid to its own file; keepalived-lite is one process, so each file it
//! writes holds its own pid: the main one always, the VRRP one while VRRP
//! runs, the checkers one while the checker runs.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::sys::stat::Mode;
use tracing::{info, warn};
use vrrp_conf::convert::process::Process;
use vrrp_conf::Config;

use crate::cli::Cli;

/// keepalived's `RUNSTATEDIR` on Debian.
const RUN_DIR: &str = "/run";
/// keepalived's `KEEPALIVED_PID_DIR`, used with an `instance` name or a
/// network namespace.
const PID_DIR: &str = "/run/keepalived";

/// Where the pid files go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidPaths {
    /// The parent's file (`-p`).
    pub main: PathBuf,
    /// The VRRP file (`-r`), if VRRP runs.
    pub vrrp: Option<PathBuf>,
    /// The checkers file (`-c`), if the checker runs.
    pub checkers: Option<PathBuf>,
    /// `/run/keepalived` when keepalived would use (and remove) it.
    pub dir: Option<PathBuf>,
}

impl PidPaths {
    /// keepalived 2.2.7's choice: the command line's files, else
    /// `/run/keepalived/NAME_INSTANCE.pid` with a top-level `instance`,
    /// else `/run/keepalived/NAME.pid` with `use_pid_dir` or in a network
    /// namespace (`-s` or `net_namespace`, where [`process`](crate::process)
    /// mounts the namespace's own directory there), else `/run/NAME.pid`.
    pub fn resolve(cli: &Cli, settings: &Process, vrrp: bool, checker: bool) -> PidPaths {
        let instance = settings.instance.clone();
        let use_dir = settings.use_pid_dir || cli.namespace.is_some();
        let default = |name: &str| match (&instance, use_dir) {
            (Some(i), _) => Path::new(PID_DIR).join(format!("{name}_{i}.pid")),
            (None, true) => Path::new(PID_DIR).join(format!("{name}.pid")),
            (None, false) => Path::new(RUN_DIR).join(format!("{name}.pid")),
        };
        let pick =
            |given: &Option<PathBuf>, name: &str| given.clone().unwrap_or_else(|| default(name));
        PidPaths {
            main: pick(&cli.pid, "keepalived"),
            vrrp: vrrp.then(|| pick(&cli.vrrp_pid, "vrrp")),
            checkers: checker.then(|| pick(&cli.checkers_pid, "checkers")),
            dir: use_dir.then(|| PathBuf::from(PID_DIR)),
        }
    }

    /// Every file, main first.
    fn all(&self) -> impl Iterator<Item = &PathBuf> {
        std::iter::once(&self.main)
            .chain(&self.vrrp)
            .chain(&self.checkers)
    }
}

/// The first argument of a global_defs keyword keepalived-lite keeps
/// verbatim.
pub fn global(config: &Config, keyword: &str) -> Option<String> {
    let setting = config
        .global_defs
        .other
        .iter()
        .find(|s| s.keyword == keyword)?;
    setting.args.first().cloned()
}

/// Why the pid files were not written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PidError {
    /// A live process holds one of them (keepalived's "daemon is already
    /// running"); keepalived then exits 0.
    #[error("daemon is already running ({})", .0.display())]
    Running(PathBuf),
    /// One could not be written.
    #[error("pidfile_write : Cannot open {} pidfile: {}", .0.display(), .1)]
    Write(PathBuf, #[source] std::io::Error),
}

/// The written pid files; removed when dropped.
#[derive(Debug)]
pub struct PidFiles {
    written: Vec<PathBuf>,
    dir: Option<PathBuf>,
}

impl PidFiles {
    /// Refuses if a live process holds one of `paths` (a file naming a dead
    /// process is removed, as keepalived removes "a zombie pid file"), then
    /// writes `pid` into each, mode 0644 (the umask does not apply).
    pub fn claim(paths: &PidPaths, pid: u32) -> Result<PidFiles, PidError> {
        if let Some(p) = paths.all().find(|p| held(p)) {
            return Err(PidError::Running(p.clone()));
        }
        let mut files = PidFiles {
            written: Vec::new(),
            dir: paths.dir.clone(),
        };
        for p in paths.all() {
            write(p, pid).map_err(|e| PidError::Write(p.clone(), e))?;
            files.written.push(p.clone());
        }
        Ok(files)
    }

    /// The files written.
    pub fn paths(&self) -> &[PathBuf] {
        &self.written
    }
}

impl Drop for PidFiles {
    fn drop(&mut self) {
        for p in &self.written {
            let _ = std::fs::remove_file(p);
        }
        if let Some(d) = &self.dir {
            // Only if empty, as keepalived's rmdir.
            let _ = std::fs::remove_dir(d);
        }
    }
}

/// keepalived's `process_running`: true if `path` names a live process,
/// or cannot be read as a pid (keepalived removes it but still refuses).
fn held(path: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(path) else {
        return false;
    };
    let Some(pid) = text
        .split_whitespace()
        .next()
        .and_then(|w| w.parse::<i32>().ok())
    else {
        info!("Error reading pid file {}", path.display());
        let _ = std::fs::remove_file(path);
        return true;
    };
    let alive = pid > 0
        && nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
        && !zombie(pid);
    if !alive {
        info!("Remove a zombie pid file {}", path.display());
        let _ = std::fs::remove_file(path);
    }
    alive
}

/// True if `pid` has exited but not been reaped: it holds nothing (a
/// killed daemon whose parent has not waited for it yet).
fn zombie(pid: i32) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the command name, which is in parentheses and
    // may itself contain any character.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next());
    state == Some("Z")
}

/// Writes `pid` and a newline, mode 0644 whatever the umask, creating the
/// directory if a minimal system (an initramfs) lacks it.
fn write(path: &Path, pid: u32) -> std::io::Result<()> {
    if let Some(dir) = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty() && !d.exists())
    {
        if let Err(e) = std::fs::create_dir_all(dir) {
            warn!("cannot create {}: {e}", dir.display());
        }
    }
    // rw-r--r-- whatever the umask, as keepalived creates it.
    let rw_r_r = Mode::from_bits_truncate(0o644);
    let umask = nix::sys::stat::umask(Mode::empty());
    nix::sys::stat::umask(umask & !rw_r_r);
    let f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path);
    nix::sys::stat::umask(umask);
    writeln!(f?, "{pid}")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use clap::Parser;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("keepalived-lite").chain(args.iter().copied())).unwrap()
    }

    fn settings(text: &str) -> Process {
        let parsed = vrrp_conf::parse_str("k.conf", text, &Default::default());
        let converted = vrrp_conf::convert::convert(&parsed, Default::default());
        converted.process
    }

    #[test]
    fn default_paths_are_keepalived_s() {
        let none = Process::default();
        let p = PidPaths::resolve(&cli(&[]), &none, true, false);
        assert_eq!(p.main, PathBuf::from("/run/keepalived.pid"));
        assert_eq!(p.vrrp, Some(PathBuf::from("/run/vrrp.pid")));
        assert_eq!(p.checkers, None);
        assert_eq!(p.dir, None);
        let p = PidPaths::resolve(&cli(&["-s", "ns1"]), &none, false, true);
        assert_eq!(p.main, PathBuf::from("/run/keepalived/keepalived.pid"));
        assert_eq!(
            p.checkers,
            Some(PathBuf::from("/run/keepalived/checkers.pid"))
        );
        assert_eq!(p.dir, Some(PathBuf::from("/run/keepalived")));
        let c = settings("instance web\n");
        let p = PidPaths::resolve(&cli(&["-r", "/tmp/v.pid"]), &c, true, true);
        assert_eq!(p.main, PathBuf::from("/run/keepalived/keepalived_web.pid"));
        assert_eq!(p.vrrp, Some(PathBuf::from("/tmp/v.pid")));
        assert_eq!(
            p.checkers,
            Some(PathBuf::from("/run/keepalived/checkers_web.pid"))
        );
        let p = PidPaths::resolve(&cli(&[]), &settings("use_pid_dir\n"), true, false);
        assert_eq!(p.main, PathBuf::from("/run/keepalived/keepalived.pid"));
        assert_eq!(p.vrrp, Some(PathBuf::from("/run/keepalived/vrrp.pid")));
        assert_eq!(p.dir, Some(PathBuf::from("/run/keepalived")));
        let p = PidPaths::resolve(&cli(&[]), &settings("net_namespace blue\n"), true, false);
        assert_eq!(p.main, PathBuf::from("/run/keepalived/keepalived.pid"));
    }

    #[test]
    fn claim_writes_refuses_while_alive_and_removes() {
        let dir = std::env::temp_dir().join(format!("kl-pid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let paths = PidPaths {
            main: dir.join("k.pid"),
            vrrp: Some(dir.join("v.pid")),
            checkers: None,
            dir: None,
        };
        let me = std::process::id();
        let files = PidFiles::claim(&paths, me).unwrap();
        assert_eq!(
            std::fs::read_to_string(&paths.main).unwrap(),
            format!("{me}\n")
        );
        assert_eq!(files.paths().len(), 2);
        // This test process is alive: a second claim is refused.
        let again = PidFiles::claim(&paths, me);
        assert!(matches!(again, Err(PidError::Running(p)) if p == paths.main));
        drop(files);
        assert!(!paths.main.exists());
        assert!(!dir.join("v.pid").exists());
        // A zombie holds nothing.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let zombie_pid = child.id();
        let start = std::time::Instant::now();
        while !zombie(zombie_pid as i32) && start.elapsed() < std::time::Duration::from_secs(30) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        std::fs::write(&paths.main, format!("{zombie_pid}\n")).unwrap();
        let files = PidFiles::claim(&paths, me).unwrap();
        drop(files);
        child.wait().unwrap();
        // A file naming no process is stale: removed and claimed.
        std::fs::write(&paths.main, "2147483646\n").unwrap();
        let files = PidFiles::claim(&paths, me).unwrap();
        assert_eq!(
            std::fs::read_to_string(&paths.main).unwrap(),
            format!("{me}\n")
        );
        drop(files);
        std::fs::remove_dir(&dir).unwrap();
    }
}
