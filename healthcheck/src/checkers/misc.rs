//! MISC_CHECK: run a program; its exit code is the result.
//!
//! The command line is split into words and run directly; only a command
//! line with shell syntax (pipes, redirections, `$`, globs, ...) goes
//! through `/bin/sh -c`. The program runs in its own process group, which
//! is killed as a whole on timeout or if the check is dropped, so a child
//! it forked cannot outlive it.

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;

use nix::sys::signal::{killpg, Signal};
use nix::unistd::{Pid, User};
use tokio::process::Command;

use crate::{BoxFuture, CheckContext, CheckOutcome, Checker, DownReason};

/// keepalived's MISC_CHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MiscChecker {
    /// The command line (`misc_path`).
    pub path: String,
    /// `misc_dynamic`: exit codes 2..=255 mean up with weight `code - 2`.
    pub dynamic: bool,
    /// Run as this user (`user USERNAME`), if set.
    pub user: Option<String>,
}

impl MiscChecker {
    /// A checker running `path`.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            dynamic: false,
            user: None,
        }
    }

    /// The same checker with `misc_dynamic`.
    pub fn dynamic(mut self) -> Self {
        self.dynamic = true;
        self
    }

    /// The same checker run as `user`.
    pub fn as_user(mut self, user: impl Into<String>) -> Self {
        self.user = Some(user.into());
        self
    }

    /// The command, run as `user` (uid, gid) if given.
    fn command(&self, user: Option<(u32, u32)>) -> Result<Command, DownReason> {
        let mut cmd = match split_words(&self.path) {
            Some(words) => {
                let (prog, args) = words
                    .split_first()
                    .ok_or(DownReason::Config("empty misc_path"))?;
                let mut c = Command::new(prog);
                c.args(args);
                c
            }
            None => {
                let mut c = Command::new("/bin/sh");
                c.arg("-c").arg(&self.path);
                c
            }
        };
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some((uid, gid)) = user {
            cmd.uid(uid).gid(gid);
        }
        Ok(cmd)
    }

    fn judge(&self, status: std::process::ExitStatus) -> CheckOutcome {
        match (status.code(), status.signal()) {
            (Some(0), _) => CheckOutcome::Up,
            (Some(c @ 2..=255), _) if self.dynamic => CheckOutcome::UpWithWeight(c as u32 - 2),
            (Some(c), _) => CheckOutcome::Down(DownReason::ScriptExit(c)),
            (None, Some(sig)) => CheckOutcome::Down(DownReason::ScriptSignal(sig)),
            (None, None) => CheckOutcome::Down(DownReason::ScriptExit(-1)),
        }
    }
}

/// Kills the process group when dropped, unless disarmed.
struct GroupGuard(Option<Pid>);

impl GroupGuard {
    fn kill(&mut self) {
        if let Some(pg) = self.0.take() {
            // ESRCH (already gone) is fine.
            let _ = killpg(pg, Signal::SIGKILL);
        }
    }
}

impl Drop for GroupGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

impl Checker for MiscChecker {
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(async move {
            let user = match &self.user {
                None => None,
                Some(name) => match lookup_user(name.clone()).await {
                    Ok(ids) => Some(ids),
                    Err(r) => return CheckOutcome::Down(r),
                },
            };
            let mut cmd = match self.command(user) {
                Ok(c) => c,
                Err(r) => return CheckOutcome::Down(r),
            };
            let mut child = match cmd.spawn() {
                Ok(c) => c,
                Err(e) => return CheckOutcome::Down(DownReason::ScriptSpawn(e.kind())),
            };
            let pid = child
                .id()
                .and_then(|p| i32::try_from(p).ok())
                .map(Pid::from_raw);
            let mut guard = GroupGuard(pid);
            match tokio::time::timeout(ctx.timeout, child.wait()).await {
                Ok(Ok(status)) => {
                    guard.0 = None;
                    self.judge(status)
                }
                Ok(Err(e)) => CheckOutcome::Down(DownReason::ScriptSpawn(e.kind())),
                Err(_) => {
                    guard.kill();
                    // Reap the leader; its children were killed with it.
                    let _ = child.wait().await;
                    CheckOutcome::Down(DownReason::Timeout)
                }
            }
        })
    }
}

/// getpwnam may ask a network service (NSS: LDAP, sssd): look the user up
/// on the blocking pool, never on the scheduler's thread.
async fn lookup_user(name: String) -> Result<(u32, u32), DownReason> {
    let found = tokio::task::spawn_blocking(move || User::from_name(&name).ok().flatten())
        .await
        .ok()
        .flatten();
    found
        .map(|u| (u.uid.as_raw(), u.gid.as_raw()))
        .ok_or(DownReason::Config("unknown user"))
}

/// Splits a command line into words with `'...'`, `"..."` and `\` quoting,
/// or returns `None` if it uses shell syntax and needs a shell.
fn split_words(line: &str) -> Option<Vec<String>> {
    let mut words = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => words.extend(cur.take()),
            '\'' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '\'' => break,
                        ch => w.push(ch),
                    }
                }
            }
            '"' => {
                let w = cur.get_or_insert_with(String::new);
                loop {
                    match chars.next()? {
                        '"' => break,
                        '$' | '`' => return None,
                        '\\' => w.push(chars.next()?),
                        ch => w.push(ch),
                    }
                }
            }
            '\\' => cur.get_or_insert_with(String::new).push(chars.next()?),
            '|' | '&' | ';' | '<' | '>' | '(' | ')' | '$' | '`' | '*' | '?' | '[' | ']' | '~'
            | '{' | '}' | '\n' | '#' => return None,
            ch => cur.get_or_insert_with(String::new).push(ch),
        }
    }
    words.extend(cur);
    // `NAME=value cmd` is a shell assignment.
    if words.first().is_some_and(|w| w.contains('=')) {
        return None;
    }
    Some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn users_are_looked_up_on_the_blocking_pool() {
        assert_eq!(lookup_user("root".into()).await, Ok((0, 0)));
        assert_eq!(
            lookup_user("no-such-user-hc".into()).await,
            Err(DownReason::Config("unknown user"))
        );
    }

    #[test]
    fn words_without_shell() {
        assert_eq!(
            split_words("/bin/check 'a b' \"c\\\"d\" e\\ f"),
            Some(vec![
                "/bin/check".into(),
                "a b".into(),
                "c\"d".into(),
                "e f".into()
            ])
        );
    }

    #[test]
    fn shell_syntax_needs_a_shell() {
        assert_eq!(split_words("check | grep ok"), None);
        assert_eq!(split_words("check > /dev/null"), None);
        assert_eq!(split_words("echo $HOME"), None);
        assert_eq!(split_words("X=1 check"), None);
        assert_eq!(split_words("'unterminated"), None);
    }
}
