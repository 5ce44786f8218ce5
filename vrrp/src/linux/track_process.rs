//! `track_process`: how many running processes match a
//! `vrrp_track_process`, and whether that is within its quorum, reported
//! as [`Status::Up`] / [`Status::Down`] for [`crate::track`].
//!
//! keepalived 2.2.7 (`core/track_process.c`) counts processes from one
//! scan of `/proc` at start-up, then from the kernel's proc connector
//! (fork, exec, comm change, exit events). This adapter scans `/proc`
//! each time [`ProcessWatcher::scan`] is called (the embedder calls it on
//! an interval, keepalived-lite every [`SCAN_INTERVAL`]), with keepalived's
//! matching rules:
//! * without `full_command` (and no parameters) the process name is
//!   `comm`, from `/proc/PID/stat` (at most 15 bytes, as the kernel keeps
//!   it); zombies are not counted;
//! * with `full_command`, or parameters, or `param_match`, it is the first
//!   word of `/proc/PID/cmdline`, and the parameters are compared as
//!   [`ParamMatch`] says;
//! * the object is up while `quorum <= count <= quorum_max`;
//! * `terminate_delay`: losing the quorum is reported only if it is still
//!   lost that long after (gaining it back in between cancels it);
//! * `fork_delay`: the same for gaining the quorum (losing it in between
//!   cancels it). keepalived starts this delay on the proc connector's
//!   fork and exec events; a scan sees the new process, whichever way it
//!   came, so the delay runs from the scan that first sees the quorum.
//!   `delay` sets both.
//!
//! Neither delay applies to the first scan (keepalived's start-up scan
//! sets the status at once).

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::track::Status;

/// How often keepalived-lite scans `/proc` for tracked processes.
pub const SCAN_INTERVAL: Duration = Duration::from_millis(500);

/// The most of `/proc/PID/cmdline` read (a longer command line cannot
/// match exactly, and is compared on this prefix otherwise).
const CMDLINE_MAX: u64 = 4096;

/// keepalived's `param_match`: how a process's parameters are compared
/// with the configured ones.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamMatch {
    /// Parameters are not looked at (no parameters configured, no
    /// `param_match`).
    #[default]
    None,
    /// The parameters must be exactly the configured ones (the default
    /// when parameters are given; `param_match` alone means none).
    Exact,
    /// The configured parameters, the last one possibly cut short, begin
    /// the process's (`param_match initial`).
    Initial,
    /// The configured parameters begin the process's, whole
    /// (`param_match partial`).
    Partial,
}

/// One `vrrp_track_process` block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessSpec {
    /// The block's name.
    pub name: String,
    /// `process NAME`: the process name (or path, with `full_command`).
    pub process: String,
    /// `process NAME PARAMS...`: the parameters, if any.
    pub params: Vec<String>,
    /// `param_match`.
    pub param_match: ParamMatch,
    /// `full_command` (implied by parameters and `param_match`): match the
    /// command line instead of `comm`.
    pub full_command: bool,
    /// `quorum` (default 1).
    pub quorum: u32,
    /// `quorum_max` (default unbounded).
    pub quorum_max: u32,
    /// `terminate_delay`: how long a lost quorum must stay lost.
    pub terminate_delay: Duration,
    /// `fork_delay`: how long a gained quorum must stay gained.
    pub fork_delay: Duration,
}

impl ProcessSpec {
    /// `process NAME` with keepalived's defaults: quorum 1, no maximum,
    /// names compared on `comm`, no delay.
    pub fn new(name: &str, process: &str) -> Self {
        Self {
            name: name.to_owned(),
            process: process.to_owned(),
            params: Vec::new(),
            param_match: ParamMatch::None,
            full_command: false,
            quorum: 1,
            quorum_max: u32::MAX,
            terminate_delay: Duration::ZERO,
            fork_delay: Duration::ZERO,
        }
    }

    /// Whether a process matches: `comm` is its name from
    /// `/proc/PID/stat`, `cmdline` the bytes of `/proc/PID/cmdline`
    /// (arguments each ended by a NUL).
    pub fn matches(&self, comm: &[u8], cmdline: &[u8]) -> bool {
        if !self.full_command {
            return comm == self.process.as_bytes();
        }
        let mut split = cmdline.splitn(2, |&b| b == 0);
        if split.next() != Some(self.process.as_bytes()) {
            return false;
        }
        self.params_match(split.next().unwrap_or_default())
    }

    /// keepalived's `check_params`: `given` are the process's parameters,
    /// each ended by a NUL.
    fn params_match(&self, given: &[u8]) -> bool {
        let want: Vec<u8> = self
            .params
            .iter()
            .flat_map(|p| p.bytes().chain([0]))
            .collect();
        match self.param_match {
            ParamMatch::None => true,
            ParamMatch::Exact => given == want.as_slice(),
            ParamMatch::Partial => given.starts_with(&want),
            // The last parameter may be a prefix: its NUL is not compared.
            ParamMatch::Initial => given.starts_with(&want[..want.len().saturating_sub(1)]),
        }
    }

    /// Up while the count is within the quorum.
    pub fn in_quorum(&self, count: u32) -> bool {
        (self.quorum..=self.quorum_max).contains(&count)
    }
}

#[derive(Debug)]
struct Watched {
    spec: ProcessSpec,
    up: bool,
    /// When a lost quorum is reported, if still lost.
    lost_at: Option<Instant>,
    /// When a gained quorum is reported, if still gained.
    gained_at: Option<Instant>,
}

/// The tracked processes, counted by scanning `/proc`.
#[derive(Debug)]
pub struct ProcessWatcher {
    proc_root: PathBuf,
    watched: Vec<Watched>,
}

impl ProcessWatcher {
    /// Watches `specs` in `/proc`; [`ProcessWatcher::initial`] gives their
    /// status now.
    pub fn new(specs: Vec<ProcessSpec>) -> Self {
        Self::with_proc_root("/proc", specs)
    }

    /// The same on another `/proc` (tests).
    pub fn with_proc_root(root: impl Into<PathBuf>, specs: Vec<ProcessSpec>) -> Self {
        let watched = specs
            .into_iter()
            .map(|spec| Watched {
                spec,
                up: false,
                lost_at: None,
                gained_at: None,
            })
            .collect();
        Self {
            proc_root: root.into(),
            watched,
        }
    }

    /// Every tracked process's status now, without delay (keepalived's
    /// start-up scan).
    pub fn initial(&mut self) -> Vec<(String, Status)> {
        let counts = self.count();
        self.watched
            .iter_mut()
            .zip(counts)
            .map(|(w, n)| {
                w.up = w.spec.in_quorum(n);
                (w.lost_at, w.gained_at) = (None, None);
                (w.spec.name.clone(), status(w.up))
            })
            .collect()
    }

    /// Scans `/proc` at `now`: the tracked processes whose status changed.
    pub fn scan(&mut self, now: Instant) -> Vec<(String, Status)> {
        let counts = self.count();
        let mut changed = Vec::new();
        for (w, n) in self.watched.iter_mut().zip(counts) {
            let up = w.spec.in_quorum(n);
            // A change starts its delay; going back cancels it.
            let (pending, other, delay) = if up {
                (&mut w.gained_at, &mut w.lost_at, w.spec.fork_delay)
            } else {
                (&mut w.lost_at, &mut w.gained_at, w.spec.terminate_delay)
            };
            *other = None;
            if up == w.up {
                *pending = None;
                continue;
            }
            let due = *pending.get_or_insert(now + delay);
            if due <= now {
                *pending = None;
                w.up = up;
                changed.push((w.spec.name.clone(), status(up)));
            }
        }
        changed
    }

    /// When a pending `terminate_delay` or `fork_delay` ends (scan again
    /// then).
    pub fn poll_timeout(&self) -> Option<Instant> {
        let pending = self.watched.iter().flat_map(|w| [w.lost_at, w.gained_at]);
        pending.flatten().min()
    }

    /// Waits for the next scan (every [`SCAN_INTERVAL`], sooner when a
    /// delay ends) and returns what changed; loops until
    /// something did.
    #[cfg(feature = "tokio")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
    pub async fn changed(&mut self) -> Vec<(String, Status)> {
        loop {
            let next = Instant::now() + SCAN_INTERVAL;
            let at = self.poll_timeout().map_or(next, |t| t.min(next));
            tokio::time::sleep_until(at.into()).await;
            let changed = self.scan(Instant::now());
            if !changed.is_empty() {
                return changed;
            }
        }
    }

    /// How many processes match each spec.
    fn count(&self) -> Vec<u32> {
        let mut counts = vec![0u32; self.watched.len()];
        let Ok(dir) = fs::read_dir(&self.proc_root) else {
            return counts;
        };
        let cmdline_needed = self.watched.iter().any(|w| w.spec.full_command);
        for entry in dir.flatten() {
            let name = entry.file_name();
            if !name.to_string_lossy().bytes().all(|b| b.is_ascii_digit()) {
                continue;
            }
            let pid = entry.path();
            let Some(comm) = read_comm(&pid) else {
                continue;
            };
            let cmdline = if cmdline_needed {
                read_cmdline(&pid)
            } else {
                Vec::new()
            };
            for (w, c) in self.watched.iter().zip(counts.iter_mut()) {
                if w.spec.matches(&comm, &cmdline) {
                    *c = c.saturating_add(1);
                }
            }
        }
        counts
    }
}

fn status(up: bool) -> Status {
    if up {
        Status::Up
    } else {
        Status::Down
    }
}

/// `comm` from `/proc/PID/stat`, as keepalived finds it (between the first
/// `(` and the next `)`), or None for a zombie or a process gone.
fn read_comm(pid: &Path) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let f = fs::File::open(pid.join("stat")).ok()?;
    f.take(127).read_to_end(&mut buf).ok()?;
    parse_stat_comm(&buf)
}

/// The `comm` field of a `/proc/PID/stat` line, or None for a zombie.
fn parse_stat_comm(stat: &[u8]) -> Option<Vec<u8>> {
    let open = stat.iter().position(|&b| b == b'(')?;
    let len = stat[open + 1..].iter().position(|&b| b == b')')?;
    let comm = &stat[open + 1..open + 1 + len];
    let state = stat.get(open + 1 + len + 2);
    (state != Some(&b'Z')).then(|| comm.to_vec())
}

fn read_cmdline(pid: &Path) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Ok(f) = fs::File::open(pid.join("cmdline")) {
        let _ = f.take(CMDLINE_MAX).read_to_end(&mut buf);
    }
    buf
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use super::*;

    fn full(process: &str, params: &[&str], m: ParamMatch) -> ProcessSpec {
        ProcessSpec {
            params: params.iter().map(|p| (*p).to_owned()).collect(),
            param_match: m,
            full_command: true,
            ..ProcessSpec::new("p", process)
        }
    }

    #[test]
    fn names_and_parameters_match_as_keepalived() {
        let comm = ProcessSpec::new("p", "nginx");
        assert!(comm.matches(b"nginx", b""));
        assert!(!comm.matches(b"nginx2", b"nginx\0"));
        let cmd = b"/usr/bin/app\0-c\0/etc/app.conf\0";
        let none = full("/usr/bin/app", &[], ParamMatch::None);
        assert!(none.matches(b"app", cmd));
        assert!(!none.matches(b"app", b"/usr/bin/ap\0"));
        let exact = full("/usr/bin/app", &["-c", "/etc/app.conf"], ParamMatch::Exact);
        assert!(exact.matches(b"app", cmd));
        assert!(!exact.matches(b"app", b"/usr/bin/app\0-c\0/etc/app.conf\0-d\0"));
        // `param_match` with no parameters: none allowed.
        let bare = full("/usr/bin/app", &[], ParamMatch::Exact);
        assert!(bare.matches(b"app", b"/usr/bin/app\0"));
        assert!(!bare.matches(b"app", cmd));
        let partial = full("/usr/bin/app", &["-c"], ParamMatch::Partial);
        assert!(partial.matches(b"app", cmd));
        assert!(!partial.matches(b"app", b"/usr/bin/app\0-cx\0"));
        let initial = full("/usr/bin/app", &["-c", "/etc/ap"], ParamMatch::Initial);
        assert!(initial.matches(b"app", cmd));
        assert!(!initial.matches(b"app", b"/usr/bin/app\0-c\0/etc/b\0"));
    }

    #[test]
    fn stat_comm_and_zombies() {
        assert_eq!(
            parse_stat_comm(b"42 (my app) S 1 42").as_deref(),
            Some(&b"my app"[..])
        );
        assert_eq!(parse_stat_comm(b"42 (sleep) Z 1 42"), None);
        assert_eq!(parse_stat_comm(b"42 sleep"), None);
    }

    #[test]
    fn quorum_and_terminate_delay() {
        let dir = std::env::temp_dir().join(format!("vrrp-proc-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let proc_entry = |pid: u32, comm: &str| {
            let d = dir.join(pid.to_string());
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("stat"), format!("{pid} ({comm}) S 1 {pid}")).unwrap();
        };
        proc_entry(1, "init");
        proc_entry(10, "worker");
        let spec = ProcessSpec {
            quorum: 2,
            quorum_max: 3,
            terminate_delay: Duration::from_secs(2),
            ..ProcessSpec::new("workers", "worker")
        };
        let mut w = ProcessWatcher::with_proc_root(&dir, vec![spec]);
        let t0 = Instant::now();
        assert_eq!(w.initial(), [("workers".to_owned(), Status::Down)]);
        proc_entry(11, "worker");
        assert_eq!(w.scan(t0), [("workers".to_owned(), Status::Up)]);
        // Four is above quorum_max: lost, after the delay.
        proc_entry(12, "worker");
        proc_entry(13, "worker");
        assert_eq!(w.scan(t0), []);
        assert_eq!(w.poll_timeout(), Some(t0 + Duration::from_secs(2)));
        assert_eq!(
            w.scan(t0 + Duration::from_secs(2)),
            [("workers".to_owned(), Status::Down)]
        );
        // Back to three: up at once.
        fs::remove_dir_all(dir.join("13")).unwrap();
        assert_eq!(
            w.scan(t0 + Duration::from_secs(3)),
            [("workers".to_owned(), Status::Up)]
        );
        // Lost and regained within the delay: nothing reported.
        fs::remove_dir_all(dir.join("12")).unwrap();
        fs::remove_dir_all(dir.join("11")).unwrap();
        assert_eq!(w.scan(t0 + Duration::from_secs(4)), []);
        proc_entry(11, "worker");
        assert_eq!(w.scan(t0 + Duration::from_secs(5)), []);
        assert_eq!(w.poll_timeout(), None);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn fork_delay_holds_a_gained_quorum_back() {
        let dir = std::env::temp_dir().join(format!("vrrp-fork-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let proc_entry = |pid: u32, comm: &str| {
            let d = dir.join(pid.to_string());
            fs::create_dir_all(&d).unwrap();
            fs::write(d.join("stat"), format!("{pid} ({comm}) S 1 {pid}")).unwrap();
        };
        proc_entry(1, "init");
        // `delay 3`: both delays.
        let spec = ProcessSpec {
            fork_delay: Duration::from_secs(3),
            terminate_delay: Duration::from_secs(3),
            ..ProcessSpec::new("app", "app")
        };
        let mut w = ProcessWatcher::with_proc_root(&dir, vec![spec]);
        let t0 = Instant::now();
        let s = |secs| t0 + Duration::from_secs(secs);
        assert_eq!(w.initial(), [("app".to_owned(), Status::Down)]);
        proc_entry(20, "app");
        assert_eq!(w.scan(s(1)), []);
        assert_eq!(w.poll_timeout(), Some(s(4)));
        assert_eq!(w.scan(s(3)), []);
        assert_eq!(w.scan(s(4)), [("app".to_owned(), Status::Up)]);
        assert_eq!(w.poll_timeout(), None);
        // Gone and back within the terminate delay: nothing.
        fs::remove_dir_all(dir.join("20")).unwrap();
        assert_eq!(w.scan(s(5)), []);
        assert_eq!(w.poll_timeout(), Some(s(8)));
        proc_entry(21, "app");
        assert_eq!(w.scan(s(6)), []);
        assert_eq!(w.poll_timeout(), None);
        // Lost for good, then started and gone again within fork_delay.
        fs::remove_dir_all(dir.join("21")).unwrap();
        assert_eq!(w.scan(s(7)), []);
        assert_eq!(w.scan(s(10)), [("app".to_owned(), Status::Down)]);
        proc_entry(22, "app");
        assert_eq!(w.scan(s(11)), []);
        fs::remove_dir_all(dir.join("22")).unwrap();
        assert_eq!(w.scan(s(12)), []);
        assert_eq!(w.poll_timeout(), None);
        assert_eq!(w.scan(s(20)), []);
        fs::remove_dir_all(&dir).unwrap();
    }
}
