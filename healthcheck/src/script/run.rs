//! Running a script once: spawn, wait with a timeout, kill the whole
//! process group as keepalived does (SIGTERM, then SIGKILL).

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;
use std::sync::OnceLock;
use std::time::Duration;

use nix::sys::resource::{getrlimit, setrlimit, Resource};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use super::{CommandLine, RunAs};

/// How long a timed-out script has between SIGTERM and SIGKILL
/// (keepalived's 2 s).
pub const TERM_GRACE: Duration = Duration::from_secs(2);

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// Exit status 0.
    Success,
    /// Another exit status.
    Failed(i32),
    /// Killed by this signal (not ours).
    Signalled(i32),
    /// Still running at the timeout; its process group was killed.
    TimedOut,
    /// Could not be started (no such program, not executable, user switch
    /// refused, ...).
    NotStarted(io::ErrorKind),
}

impl Outcome {
    /// True for [`Outcome::Success`].
    pub fn ok(&self) -> bool {
        *self == Outcome::Success
    }

    fn of(status: ExitStatus) -> Self {
        match (status.code(), status.signal()) {
            (Some(0), _) => Outcome::Success,
            (Some(c), _) => Outcome::Failed(c),
            (None, Some(sig)) => Outcome::Signalled(sig),
            (None, None) => Outcome::Failed(-1),
        }
    }
}

/// A command line and the identity it runs with: what keepalived calls a
/// notify script (`vrrp_script`'s `script`, `misc_path`, `notify_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// What to run.
    pub command: CommandLine,
    /// Who runs it (`None`: this process's identity).
    pub run_as: Option<RunAs>,
}

impl Script {
    /// Runs `command` as this process.
    pub fn new(command: CommandLine) -> Self {
        Self {
            command,
            run_as: None,
        }
    }

    /// The same script run as `run_as`.
    pub fn as_user(mut self, run_as: RunAs) -> Self {
        self.run_as = Some(run_as);
        self
    }

    /// Runs the script once with `extra` arguments appended (notify
    /// scripts get TYPE NAME STATE PRIORITY). After `timeout` its process
    /// group gets SIGTERM, and [`TERM_GRACE`] later SIGKILL; a group whose
    /// leader died of our SIGTERM is killed at once (keepalived's
    /// `vrrp_script_child_thread`). Dropping the future kills the group.
    /// Each finished run is counted ([`super::run_counts`]).
    pub async fn run(&self, extra: &[String], timeout: Duration) -> Outcome {
        let outcome = self.run_once(extra, timeout).await;
        super::counts::count(self.command.line(), outcome == Outcome::TimedOut);
        outcome
    }

    async fn run_once(&self, extra: &[String], timeout: Duration) -> Outcome {
        let mut cmd = self.command.command(extra);
        prepare_child(&mut cmd, self.run_as.as_ref());
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => return Outcome::NotStarted(e.kind()),
        };
        // Declared after `child`, so dropped first: if this future is
        // dropped, the group dies while the leader is unreaped, its pid not
        // yet reusable; `kill_on_drop` then has tokio reap the leader.
        let mut group = GroupKill(child.id().and_then(|p| i32::try_from(p).ok()));
        let status = match tokio::time::timeout(timeout, child.wait()).await {
            Ok(status) => {
                // Reaped: its pid may be reused, so never signal it again.
                group.0 = None;
                return status.map_or_else(|e| Outcome::NotStarted(e.kind()), Outcome::of);
            }
            Err(_) => {
                group.signal(Signal::SIGTERM);
                tokio::time::timeout(TERM_GRACE, child.wait()).await
            }
        };
        // Whatever the leader did, its children go too, as keepalived does
        // after a SIGTERM death. The leader may be reaped by now: its group
        // id stays taken while any child lives, and a pid is not reused
        // within the microseconds in between.
        group.kill();
        if status.is_err() {
            let _ = child.wait().await;
        }
        Outcome::TimedOut
    }
}

/// Runs `cmd` as this process with `extra` arguments; see [`Script::run`].
pub async fn run(cmd: &CommandLine, extra: &[String], timeout: Duration) -> Outcome {
    Script::new(cmd.clone()).run(extra, timeout).await
}

/// The soft `RLIMIT_NOFILE` scripts start with, if the daemon raised its
/// own (see [`keep_nofile_for_scripts`]).
static SCRIPT_NOFILE: OnceLock<u64> = OnceLock::new();

/// Records `soft`, this process's `RLIMIT_NOFILE` soft limit before it
/// raises it: scripts are started with it, as keepalived restores the
/// original limit in its children (a script need not inherit thousands
/// of descriptors' worth of limit). The first call wins.
/// [`crate::runtime::raise_nofile_limit`] calls it.
pub fn keep_nofile_for_scripts(soft: u64) {
    let _ = SCRIPT_NOFILE.set(soft);
}

/// Between fork and exec: the original descriptor limit, then the switch
/// to `who` (if any).
#[allow(unsafe_code)]
fn prepare_child(cmd: &mut tokio::process::Command, who: Option<&RunAs>) {
    let nofile = SCRIPT_NOFILE.get().copied();
    if nofile.is_none() && who.is_none() {
        return;
    }
    let mut switch = who.map(RunAs::switcher);
    let child = move || {
        if let Some(soft) = nofile {
            let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
            setrlimit(Resource::RLIMIT_NOFILE, soft.min(hard), hard)?;
        }
        match switch.as_mut() {
            Some(switch) => switch(),
            None => Ok(()),
        }
    };
    // SAFETY: the closure runs in the forked child before exec; it only
    // calls getrlimit, setrlimit, setgroups, setgid and setuid
    // (async-signal-safe system calls) on data prepared before the fork,
    // and allocates nothing. std's own `uid`/`gid` cannot set
    // supplementary groups on stable Rust.
    unsafe {
        cmd.pre_exec(child);
    }
}

/// Signals a script's process group (its own, from `process_group(0)`) on
/// timeout, and kills it when the run is cancelled.
struct GroupKill(Option<i32>);

impl GroupKill {
    fn signal(&self, sig: Signal) {
        if let Some(pgid) = self.0 {
            // ESRCH (already gone) is fine.
            let _ = killpg(Pid::from_raw(pgid), sig);
        }
    }

    fn kill(&mut self) {
        self.signal(Signal::SIGKILL);
        self.0 = None;
    }
}

impl Drop for GroupKill {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(s: &str) -> CommandLine {
        CommandLine::parse(s).unwrap_or_else(|| panic!("{s:?} is a command"))
    }

    #[tokio::test]
    async fn outcomes_of_real_processes() {
        let t = Duration::from_secs(10);
        assert_eq!(run(&line("/bin/true"), &[], t).await, Outcome::Success);
        assert_eq!(run(&line("/bin/false"), &[], t).await, Outcome::Failed(1));
        assert_eq!(
            run(&line("false || exit 3"), &[], t).await,
            Outcome::Failed(3)
        );
        assert_eq!(
            run(&line("kill -TERM $$"), &[], t).await,
            Outcome::Signalled(15)
        );
        // Without shell characters there is no shell: `exit` is no program.
        assert_eq!(
            run(&line("exit 3"), &[], t).await,
            Outcome::NotStarted(io::ErrorKind::NotFound)
        );
        assert_eq!(
            run(&line("/nonexistent/x"), &[], t).await,
            Outcome::NotStarted(io::ErrorKind::NotFound)
        );
        // Extra arguments reach the script, through a shell too.
        let args = ["INSTANCE".to_owned(), "VI 1".to_owned()];
        let both = "[ \"$1\" = INSTANCE ] && [ \"$2\" = 'VI 1' ] && true";
        assert_eq!(run(&line(both), &args, t).await, Outcome::Success);
        let args = ["a b".to_owned(), "=".to_owned(), "a b".to_owned()];
        assert_eq!(
            run(&line("/usr/bin/test"), &args, t).await,
            Outcome::Success
        );
    }

    #[tokio::test]
    async fn runs_as_another_user_with_its_groups() {
        assert!(nix::unistd::Uid::effective().is_root(), "runs as root");
        let t = Duration::from_secs(10);
        let who = RunAs {
            uid: 65534,
            gid: 65534,
            groups: vec![65534, 4],
        };
        let ids = line("[ \"$(id -u):$(id -g):$(id -G)\" = '65534:65534:65534 4' ]");
        let script = Script::new(ids).as_user(who);
        assert_eq!(script.run(&[], t).await, Outcome::Success);
        let nobody = line("[ \"$(id -u):$(id -G)\" = 65534:65534 ]");
        let script = Script::new(nobody).as_user(RunAs::ids(65534, 65534));
        assert_eq!(script.run(&[], t).await, Outcome::Success);
    }

    #[tokio::test]
    async fn scripts_get_the_descriptor_limit_from_before_the_raise() {
        let (soft, _) = getrlimit(Resource::RLIMIT_NOFILE).unwrap_or((0, 0));
        keep_nofile_for_scripts(soft.min(512));
        let raised = crate::runtime::raise_nofile_limit().unwrap_or(0);
        // The first kept value wins (another test may have raised first).
        let want = SCRIPT_NOFILE.get().copied().unwrap_or(0).min(raised);
        let check = line(&format!("[ \"$(ulimit -n)\" = {want} ]"));
        let t = Duration::from_secs(10);
        assert_eq!(run(&check, &[], t).await, Outcome::Success);
        // And not this process's raised limit, when they differ.
        if want != raised {
            let same = line(&format!("[ \"$(ulimit -n)\" = {raised} ]"));
            assert_eq!(run(&same, &[], t).await, Outcome::Failed(1));
        }
    }

    /// A shell line that started a background child, unique to this test
    /// run: `sleep TAG & sleep TAG; true`, and the `pgrep -f` pattern.
    fn sleeper(salt: u32) -> (CommandLine, String) {
        let pid = std::process::id();
        let tag = format!("{}.{}{salt}", 600 + pid % 100, pid % 997);
        (
            line(&format!("sleep {tag} & sleep {tag}; true")),
            format!("sleep {tag}"),
        )
    }

    #[tokio::test]
    async fn timeout_kills_the_whole_group() {
        let (cmd, pattern) = sleeper(1);
        let out = run(&cmd, &[], Duration::from_millis(200)).await;
        assert_eq!(out, Outcome::TimedOut);
        assert_group_gone(&pattern).await;
    }

    #[tokio::test]
    async fn runs_and_timeouts_are_counted_per_line() {
        let (slow, pattern) = sleeper(4);
        let quick = line(&format!("true {pattern}"));
        assert_eq!(
            run(&quick, &[], Duration::from_secs(30)).await,
            Outcome::Success
        );
        assert_eq!(
            run(&quick, &["x".into()], Duration::from_secs(30)).await,
            Outcome::Success
        );
        let out = run(&slow, &[], Duration::from_millis(200)).await;
        assert_eq!(out, Outcome::TimedOut);
        assert_group_gone(&pattern).await;
        let counts = crate::script::run_counts();
        let of = |l: &CommandLine| counts.iter().find(|(c, _)| c == l.line()).map(|(_, n)| *n);
        let want = |runs, timeouts| Some(crate::script::RunCounts { runs, timeouts });
        assert_eq!(of(&quick), want(2, 0));
        assert_eq!(of(&slow), want(1, 1));
    }

    #[tokio::test]
    async fn a_script_ignoring_sigterm_is_killed() {
        let (cmd, pattern) = sleeper(3);
        let stubborn = line(&format!("trap '' TERM; {}", cmd.line()));
        let out = run(&stubborn, &[], Duration::from_millis(200)).await;
        assert_eq!(out, Outcome::TimedOut);
        assert_group_gone(&pattern).await;
    }

    #[tokio::test]
    async fn cancelled_run_kills_the_whole_group() {
        // The caller gives up (e.g. its task is aborted) long before the
        // script's own timeout.
        let (cmd, pattern) = sleeper(2);
        let gave_up = tokio::time::timeout(
            Duration::from_millis(200),
            run(&cmd, &[], Duration::from_secs(600)),
        )
        .await;
        assert!(gave_up.is_err());
        assert_group_gone(&pattern).await;
    }

    async fn assert_group_gone(pattern: &str) {
        let mut alive = true;
        for _ in 0..100 {
            let found = std::process::Command::new("pgrep")
                .args(["-f", pattern])
                .output();
            alive = found.is_ok_and(|f| f.status.success());
            if !alive {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(!alive, "a child of a timed-out script survived");
    }
}
