//! Process-wide settings from keepalived's command line: `-u` umask, `-m`
//! and `-M` core dumps, `-s` network namespace. Each is applied before any
//! thread starts, as keepalived applies them before forking its children.

use std::path::Path;

use nix::sched::CloneFlags;
use nix::sys::resource::{setrlimit, Resource, RLIM_INFINITY};
use nix::sys::stat::Mode;
use tracing::{error, info};

use crate::cli::Cli;

/// Where the kernel's core pattern lives.
const CORE_PATTERN: &str = "/proc/sys/kernel/core_pattern";

/// What must be undone at exit: the core pattern `-M` replaced.
#[derive(Debug, Default)]
pub struct Restore {
    core_pattern: Option<String>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        if let Some(old) = self.core_pattern.take() {
            if let Err(e) = std::fs::write(CORE_PATTERN, old) {
                error!("cannot restore {CORE_PATTERN}: {e}");
            }
        }
    }
}

/// Why the process could not be set up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// `-s NAME`: the namespace could not be entered.
    #[error("Unable to set network namespace {0} - exiting ({1})")]
    Namespace(String, String),
}

/// Applies `-u`; called first, so that every file created later has it.
pub fn apply_umask(cli: &Cli) {
    if let Some(m) = cli.umask {
        nix::sys::stat::umask(Mode::from_bits_truncate(m));
    }
}

/// Applies `-m`/`-M` and enters the network namespace (`-s`, else the
/// configuration's `net_namespace`). Call before any thread starts: a
/// namespace applies to the calling thread and the threads it creates.
pub fn apply(cli: &Cli, namespace: Option<&str>) -> Result<Restore, SetupError> {
    let mut restore = Restore::default();
    if cli.core_dump || cli.core_dump_pattern.is_some() {
        if let Err(e) = setrlimit(Resource::RLIMIT_CORE, RLIM_INFINITY, RLIM_INFINITY) {
            error!("cannot allow core dumps: {e}");
        }
    }
    if let Some(pattern) = &cli.core_dump_pattern {
        let pattern = pattern.as_deref().unwrap_or("core");
        restore.core_pattern = replace_core_pattern(pattern);
    }
    if let Some(ns) = cli.namespace.as_deref().or(namespace) {
        enter_namespace(ns).map_err(|e| SetupError::Namespace(ns.to_owned(), e))?;
        info!("Running in network namespace {ns}");
    }
    Ok(restore)
}

/// Writes `pattern` as the kernel's core pattern; the old one, to restore.
fn replace_core_pattern(pattern: &str) -> Option<String> {
    let old = std::fs::read_to_string(CORE_PATTERN).ok()?;
    match std::fs::write(CORE_PATTERN, pattern) {
        Ok(()) => Some(old),
        Err(e) => {
            error!("cannot set {CORE_PATTERN}: {e}");
            None
        }
    }
}

/// Enters `/run/netns/NAME`, as `ip netns exec` does for the network.
fn enter_namespace(name: &str) -> Result<(), String> {
    if name.is_empty() || name.contains('/') || name == "." || name == ".." {
        return Err("not a namespace name".into());
    }
    let path = Path::new("/run/netns").join(name);
    let f = std::fs::File::open(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    nix::sched::setns(f, CloneFlags::CLONE_NEWNET).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn namespace_names_with_a_path_are_refused() {
        assert_eq!(enter_namespace("../x"), Err("not a namespace name".into()));
        assert_eq!(enter_namespace(""), Err("not a namespace name".into()));
        let missing = enter_namespace("kl-no-such-namespace").unwrap_err();
        assert!(
            missing.starts_with("/run/netns/kl-no-such-namespace: "),
            "{missing}"
        );
    }
}
