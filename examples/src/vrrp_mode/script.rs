//! Running `vrrp_script` checks and notify scripts: without a shell unless
//! the line needs one, in their own process group, killed (the whole group)
//! on timeout.

use std::process::Stdio;
use std::time::Duration;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// Characters that only a shell gives meaning to.
const SHELL_CHARS: &[char] = &[
    '|', '&', ';', '<', '>', '(', ')', '$', '`', '\\', '"', '\'', '*', '?', '[', ']', '#', '~',
    '=', '%', '{', '}', '\n',
];

/// A script line as configured (`script "/bin/check --x"` or unquoted words).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandLine {
    /// The line, words joined by spaces.
    pub line: String,
    /// True if it goes through `/bin/sh -c`.
    pub shell: bool,
}

impl CommandLine {
    /// Builds the command from the configured words; `None` if empty.
    pub fn new(words: &[String]) -> Option<CommandLine> {
        let line = words.join(" ").trim().to_owned();
        if line.is_empty() {
            return None;
        }
        let shell = line.contains(SHELL_CHARS);
        Some(CommandLine { line, shell })
    }

    /// The process to start, with `extra` arguments appended (keepalived's
    /// notify arguments).
    pub fn command(&self, extra: &[String]) -> tokio::process::Command {
        let mut c = if self.shell {
            let mut c = tokio::process::Command::new("/bin/sh");
            // `"$@"` passes the extra arguments through unchanged.
            c.arg("-c").arg(format!("{} \"$@\"", self.line)).arg("sh");
            c
        } else {
            let mut words = self.line.split_ascii_whitespace();
            let mut c = tokio::process::Command::new(words.next().unwrap_or("/bin/false"));
            c.args(words);
            c
        };
        c.args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .kill_on_drop(true);
        c
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Exit status 0.
    Success,
    /// Another exit status (`None`: killed by a signal).
    Failed(Option<i32>),
    /// Still running at the timeout; its process group was killed.
    TimedOut,
    /// Could not be started.
    NotStarted(String),
}

impl Outcome {
    /// True for [`Outcome::Success`].
    pub fn ok(&self) -> bool {
        *self == Outcome::Success
    }
}

/// Runs `cmd` with `extra` arguments, killing it (and everything it
/// started) after `timeout`.
pub async fn run(cmd: &CommandLine, extra: &[String], timeout: Duration) -> Outcome {
    let mut child = match cmd.command(extra).spawn() {
        Ok(c) => c,
        Err(e) => return Outcome::NotStarted(e.to_string()),
    };
    // Declared after `child`, so dropped first: if this future is dropped
    // (its task aborted), the group dies while the leader is unreaped, its
    // pid not yet reusable; `kill_on_drop` then has tokio reap the leader.
    let mut group = GroupKill(child.id().and_then(|p| i32::try_from(p).ok()));
    match tokio::time::timeout(timeout, child.wait()).await {
        Ok(result) => {
            // Reaped: its pid may be reused, so never signal it again.
            group.0 = None;
            match result {
                Ok(status) if status.success() => Outcome::Success,
                Ok(status) => Outcome::Failed(status.code()),
                Err(e) => Outcome::NotStarted(e.to_string()),
            }
        }
        Err(_) => {
            group.kill();
            let _ = child.wait().await;
            Outcome::TimedOut
        }
    }
}

/// Kills a script's process group (its own, from `process_group(0)`) on
/// timeout or when the run is cancelled.
struct GroupKill(Option<i32>);

impl GroupKill {
    fn kill(&mut self) {
        if let Some(pgid) = self.0.take() {
            let _ = killpg(Pid::from_raw(pgid), Signal::SIGKILL);
        }
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
        CommandLine::new(&[s.to_owned()]).expect("non-empty")
    }

    #[test]
    fn shell_only_when_needed() {
        assert!(!line("/bin/true --flag").shell);
        assert!(line("test -f /x && exit 0").shell);
        assert!(line("echo $HOME").shell);
        assert_eq!(CommandLine::new(&[" ".into()]), None);
    }

    #[tokio::test]
    async fn outcomes_of_real_processes() {
        let t = Duration::from_secs(10);
        assert_eq!(run(&line("/bin/true"), &[], t).await, Outcome::Success);
        assert_eq!(
            run(&line("/bin/false"), &[], t).await,
            Outcome::Failed(Some(1))
        );
        assert_eq!(
            run(&line("false || exit 3"), &[], t).await,
            Outcome::Failed(Some(3))
        );
        // Without shell characters there is no shell: `exit` is no program.
        assert!(matches!(
            run(&line("exit 3"), &[], t).await,
            Outcome::NotStarted(_)
        ));
        assert!(matches!(
            run(&line("/nonexistent/x"), &[], t).await,
            Outcome::NotStarted(_)
        ));
        // Extra arguments reach the script, through a shell too.
        let args = ["INSTANCE".to_owned(), "VI 1".to_owned()];
        assert_eq!(
            run(
                &line("[ \"$1\" = INSTANCE ] && [ \"$2\" = 'VI 1' ] && true"),
                &args,
                t
            )
            .await,
            Outcome::Success
        );
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
                .output()
                .expect("pgrep runs");
            alive = found.status.success();
            if !alive {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            !alive,
            "the background child of a timed-out script survived"
        );
    }
}
