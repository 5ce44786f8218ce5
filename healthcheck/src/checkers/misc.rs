//! MISC_CHECK: run a program through [`crate::script`]; its exit code is
//! the result.

use crate::script::{CommandLine, Outcome, RunAs, Script};
use crate::{BoxFuture, CheckContext, CheckOutcome, Checker, DownReason};

/// keepalived's MISC_CHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct MiscChecker {
    /// The command line (`misc_path`).
    pub path: String,
    /// `misc_dynamic`: exit codes 2..=255 mean up with weight `code - 2`.
    pub dynamic: bool,
    /// Run as this user (`user USERNAME`), if set; looked up at each check
    /// on the blocking pool. See [`MiscChecker::as_ids`] to resolve once.
    pub user: Option<String>,
    /// Run with these ids (takes precedence over `user`).
    pub run_as: Option<RunAs>,
}

impl MiscChecker {
    /// A checker running `path`.
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            dynamic: false,
            user: None,
            run_as: None,
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

    /// The same checker run with resolved ids (see [`RunAs::lookup`]).
    pub fn as_ids(mut self, run_as: RunAs) -> Self {
        self.run_as = Some(run_as);
        self
    }

    fn judge(&self, outcome: Outcome) -> CheckOutcome {
        match outcome {
            Outcome::Success => CheckOutcome::Up,
            Outcome::Failed(c @ 2..=255) if self.dynamic => {
                CheckOutcome::UpWithWeight(c.unsigned_abs() - 2)
            }
            Outcome::Failed(c) => CheckOutcome::Down(DownReason::ScriptExit(c)),
            Outcome::Signalled(sig) => CheckOutcome::Down(DownReason::ScriptSignal(sig)),
            Outcome::TimedOut => CheckOutcome::Down(DownReason::Timeout),
            Outcome::NotStarted(kind) => CheckOutcome::Down(DownReason::ScriptSpawn(kind)),
        }
    }

    async fn script(&self) -> Result<Script, DownReason> {
        let cmd = CommandLine::parse(&self.path).ok_or(DownReason::Config("empty misc_path"))?;
        let run_as = match (&self.run_as, &self.user) {
            (Some(ids), _) => Some(ids.clone()),
            (None, Some(name)) => Some(lookup_user(name.clone()).await?),
            (None, None) => None,
        };
        Ok(Script {
            command: cmd,
            run_as,
        })
    }
}

impl Checker for MiscChecker {
    fn check<'a>(&'a self, ctx: &'a CheckContext) -> BoxFuture<'a, CheckOutcome> {
        Box::pin(async move {
            match self.script().await {
                Ok(s) => self.judge(s.run(&[], ctx.timeout).await),
                Err(r) => CheckOutcome::Down(r),
            }
        })
    }
}

/// getpwnam may ask a network service (NSS: LDAP, sssd): look the user up
/// on the blocking pool, never on the scheduler's thread.
async fn lookup_user(name: String) -> Result<RunAs, DownReason> {
    tokio::task::spawn_blocking(move || RunAs::lookup(&name, None).ok())
        .await
        .ok()
        .flatten()
        .ok_or(DownReason::Config("unknown user"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn users_are_looked_up_on_the_blocking_pool() {
        assert_eq!(
            lookup_user("root".into()).await.map(|r| (r.uid, r.gid)),
            Ok((0, 0))
        );
        assert_eq!(
            lookup_user("no-such-user-hc".into()).await,
            Err(DownReason::Config("unknown user"))
        );
    }

    #[test]
    fn exit_codes_as_keepalived() {
        let plain = MiscChecker::new("/bin/check");
        let dynamic = MiscChecker::new("/bin/check").dynamic();
        assert_eq!(plain.judge(Outcome::Success), CheckOutcome::Up);
        assert_eq!(
            plain.judge(Outcome::Failed(7)),
            CheckOutcome::Down(DownReason::ScriptExit(7))
        );
        assert_eq!(
            dynamic.judge(Outcome::Failed(7)),
            CheckOutcome::UpWithWeight(5)
        );
        assert_eq!(
            dynamic.judge(Outcome::Failed(1)),
            CheckOutcome::Down(DownReason::ScriptExit(1))
        );
        assert_eq!(
            dynamic.judge(Outcome::TimedOut),
            CheckOutcome::Down(DownReason::Timeout)
        );
        assert_eq!(
            plain.judge(Outcome::Signalled(9)),
            CheckOutcome::Down(DownReason::ScriptSignal(9))
        );
    }
}
