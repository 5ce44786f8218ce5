//! Process-wide settings from keepalived's command line and the
//! configuration's process settings: `-u` (else `global_defs`' `umask`),
//! `-m` and `-M` core dumps, `-s` (else `net_namespace`) network
//! namespace. Each is applied before any thread starts, as keepalived
//! applies them before forking its children.
//!
//! In a network namespace keepalived also gives itself a mount namespace
//! in which `/run/keepalived/NAME` is bind-mounted on `/run/keepalived`,
//! so that its usual pid files show outside at `/run/keepalived/NAME/`;
//! keepalived-lite does the same.

use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use healthcheck::script::Outcome;
use nix::mount::{mount, umount, MsFlags};
use nix::sched::CloneFlags;
use nix::sys::resource::{setrlimit, Resource, RLIM_INFINITY};
use nix::sys::stat::Mode;
use tracing::{error, info};
use vrrp_conf::convert::process::{Process, StartStop};

use crate::cli::Cli;

/// Where the kernel's core pattern lives.
const CORE_PATTERN: &str = "/proc/sys/kernel/core_pattern";

/// keepalived's pid directory, which a namespace's own directory covers.
const PID_DIR: &str = "/run/keepalived";

/// What must be undone at exit: the core pattern `-M` replaced, the
/// namespace's pid directory mounted.
#[derive(Debug, Default)]
pub struct Restore {
    core_pattern: Option<String>,
    run_mount: Option<PathBuf>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        if let Some(old) = self.core_pattern.take() {
            if let Err(e) = std::fs::write(CORE_PATTERN, old) {
                error!("cannot restore {CORE_PATTERN}: {e}");
            }
        }
        if let Some(dir) = self.run_mount.take() {
            if let Err(e) = umount(PID_DIR) {
                info!("unmount of {PID_DIR} failed - {e}");
            }
            // Only if empty, as keepalived's rmdir; then the pid
            // directory itself, which the mount kept busy until now.
            let _ = std::fs::remove_dir(dir);
            let _ = std::fs::remove_dir(PID_DIR);
        }
    }
}

/// The namespace and instance names the daemon started with: keepalived
/// cannot change either at a reload.
static STARTED: OnceLock<(Option<String>, Option<String>)> = OnceLock::new();

/// Why a reload with `new` settings cannot be done (keepalived's log
/// line), if it cannot: the namespace or the instance name changed.
pub fn reload_refusal(cli: &Cli, new: &Process) -> Option<&'static str> {
    let (ns, instance) = STARTED.get()?;
    let new_ns = cli.namespace.as_ref().or(new.net_namespace.as_ref());
    if new_ns != ns.as_ref() {
        return Some("Cannot change network namespace at a reload - please restart keepalived");
    }
    if new.instance != *instance {
        return Some("Cannot change instance name at a reload - please restart keepalived");
    }
    None
}

/// The reload settings of the configuration in force: keepalived reloads
/// as the old configuration says.
#[derive(Debug, Default)]
struct ReloadSettings {
    check: Option<String>,
    file: Option<String>,
    time_file: Option<(String, bool)>,
    fifo_states: bool,
}

static RELOAD: Mutex<ReloadSettings> = Mutex::new(ReloadSettings {
    check: None,
    file: None,
    time_file: None,
    fifo_states: false,
});

fn reload_settings() -> std::sync::MutexGuard<'static, ReloadSettings> {
    RELOAD.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Records the reload settings of the configuration now in force; starts
/// the [`reload_monitor`](crate::reload_monitor) when a `reload_time_file`
/// is first set.
pub fn set_reload(settings: &Process) {
    let time_file = (settings.reload_time_file.clone()).map(|f| (f, settings.reload_repeat));
    if time_file.is_some() {
        crate::reload_monitor::start();
    }
    *reload_settings() = ReloadSettings {
        check: settings.reload_check_config.clone(),
        file: settings.reload_file.clone(),
        time_file,
        fifo_states: settings.fifo_states_on_reload,
    };
}

/// `fifo_write_vrrp_states_on_reload` of the configuration in force.
pub fn fifo_states_on_reload() -> bool {
    reload_settings().fifo_states
}

/// The `reload_check_config` log of the configuration in force.
pub fn reload_check() -> Option<String> {
    reload_settings().check.clone()
}

/// The `reload_time_file` and `reload_repeat` of the configuration in
/// force.
pub fn reload_time() -> Option<(String, bool)> {
    reload_settings().time_file.clone()
}

/// The `reload_file` of the configuration in force while a reload reads
/// the configuration: created (rw-r--r--), removed when dropped.
#[derive(Debug)]
pub struct Reloading(Option<PathBuf>);

impl Reloading {
    /// Creates the file, if one is configured.
    pub fn start() -> Reloading {
        let file = reload_settings().file.clone();
        let Some(path) = file.map(PathBuf::from) else {
            return Reloading(None);
        };
        // The umask may not take r--r-- away, as keepalived makes sure.
        let old = nix::sys::stat::umask(Mode::empty());
        nix::sys::stat::umask(old & !Mode::from_bits_truncate(0o044));
        let made = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&path);
        nix::sys::stat::umask(old);
        if let Err(e) = made {
            info!("Failed to create reload file ({}) - {e}", path.display());
        }
        Reloading(Some(path))
    }

    /// Removes a file a stopped daemon left (keepalived does at start-up).
    pub fn remove_stale(settings: &Process) {
        if let Some(f) = &settings.reload_file {
            let _ = std::fs::remove_file(f);
        }
    }
}

impl Drop for Reloading {
    fn drop(&mut self) {
        if let Some(p) = &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// `global_defs`' `umask`, unless `-u` set one (keepalived's order).
pub fn apply_config_umask(cli: &Cli, settings: &Process) {
    match (cli.umask, settings.umask) {
        (Some(_), Some(_)) => {
            info!("umask command line option specified, ignoring config option")
        }
        (None, Some(m)) => {
            nix::sys::stat::umask(Mode::from_bits_truncate(m));
        }
        _ => {}
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

/// keepalived's own file creation mask, set whatever it inherited:
/// `--x rwx rwx` (its files are rw------- unless configured otherwise).
pub const DEFAULT_UMASK: u32 = 0o177;

/// Applies `-u`, else keepalived's [`DEFAULT_UMASK`]; called first, so
/// that every file created later has it.
pub fn apply_umask(cli: &Cli) {
    let m = cli.umask.unwrap_or(DEFAULT_UMASK);
    nix::sys::stat::umask(Mode::from_bits_truncate(m));
}

/// The process's file creation mask.
pub fn current_umask() -> u32 {
    let m = nix::sys::stat::umask(Mode::empty());
    nix::sys::stat::umask(m);
    m.bits()
}

/// Applies `-m`/`-M` and enters the network namespace (`-s`, else the
/// configuration's `net_namespace`). Call before any thread starts: a
/// namespace applies to the calling thread and the threads it creates.
pub fn apply(cli: &Cli, settings: &Process) -> Result<Restore, SetupError> {
    let mut restore = Restore::default();
    let namespace = settings.net_namespace.as_deref();
    let _ = STARTED.set((
        cli.namespace.as_deref().or(namespace).map(str::to_owned),
        settings.instance.clone(),
    ));
    if cli.core_dump || cli.core_dump_pattern.is_some() {
        if let Err(e) = setrlimit(Resource::RLIMIT_CORE, RLIM_INFINITY, RLIM_INFINITY) {
            error!("cannot allow core dumps: {e}");
        }
    }
    if let Some(pattern) = &cli.core_dump_pattern {
        let pattern = pattern.as_deref().unwrap_or("core");
        restore.core_pattern = replace_core_pattern(pattern);
    }
    if let (Some(ns), Some(old)) = (cli.namespace.as_deref(), namespace) {
        info!("Overriding config net_namespace '{old}' with command line namespace '{ns}'");
    }
    if let Some(ns) = cli.namespace.as_deref().or(namespace) {
        enter_namespace(ns).map_err(|e| SetupError::Namespace(ns.to_owned(), e))?;
        info!("Running in network namespace {ns}");
        restore.run_mount = mount_pid_dir(ns);
    }
    Ok(restore)
}

/// For `-t`: enters the network namespace (`-s`, else `net_namespace`)
/// without the pid directory's mount, as keepalived's `-t` does, so that
/// the interfaces checked are the namespace's.
pub fn enter_for_test(cli: &Cli, settings: &Process) -> Result<(), SetupError> {
    match cli
        .namespace
        .as_deref()
        .or(settings.net_namespace.as_deref())
    {
        Some(ns) => enter_namespace(ns).map_err(|e| SetupError::Namespace(ns.to_owned(), e)),
        None => Ok(()),
    }
}

/// keepalived's `set_run_mount`: `/run/keepalived/NAME` (mode 0755 whatever
/// the umask) bind-mounted on `/run/keepalived` in a mount namespace of
/// this process's own. Failures are logged and the daemon runs on, as
/// keepalived does; the directory to remove at exit if it was mounted.
fn mount_pid_dir(ns: &str) -> Option<PathBuf> {
    let dir = Path::new(PID_DIR).join(ns);
    // The umask may not take any of rwxr-xr-x away from it.
    let old = nix::sys::stat::umask(Mode::empty());
    nix::sys::stat::umask(old & !Mode::from_bits_truncate(0o755));
    let made = [Path::new(PID_DIR), &dir].map(|d| {
        let made = std::fs::DirBuilder::new().mode(0o755).create(d);
        made.or_else(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Ok(()),
            _ => Err(e),
        })
    });
    nix::sys::stat::umask(old);
    if let [_, Err(e)] = made {
        info!("Unable to create directory {} ({e})", dir.display());
        return None;
    }
    if let Err(e) = nix::sched::unshare(CloneFlags::CLONE_NEWNS) {
        info!("mount unshare failed ({e})");
        return None;
    }
    // systemd makes mounts shared: ours must not leak out.
    let slave = MsFlags::MS_REC | MsFlags::MS_SLAVE;
    if let Err(e) = mount(None::<&str>, "/", None::<&str>, slave, None::<&str>) {
        info!("Mount slave failed, error ({e})");
    }
    if let Err(e) = mount(
        Some(&dir),
        PID_DIR,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    ) {
        info!("Mount failed, error ({e})");
    }
    Some(dir)
}

/// Runs keepalived's `startup_script` or `shutdown_script` (`kind`
/// "startup" or "shutdown") to its end or its timeout, with keepalived's
/// log lines; called before the daemon starts its work and after it
/// stopped, as keepalived's parent runs them around its children.
pub fn run_start_stop(kind: &str, script: Option<&StartStop>, detail: bool) {
    let Some(s) = script else {
        return;
    };
    let Some(runnable) = crate::vrrp_mode::scripts::notify_script(&s.words) else {
        return;
    };
    let program = runnable.command.program().to_owned();
    if detail {
        info!("Running {kind} script {program}");
    }
    let Some(rt) = crate::vrrp_mode::runtime() else {
        info!("Call of {kind} script {program} failed");
        return;
    };
    match rt.block_on(runnable.run(&[], s.timeout)) {
        Outcome::Success if detail => info!("{kind} script script succeeded"),
        Outcome::Success => {}
        Outcome::Failed(status) => info!("{kind} script script failed, status {status}"),
        Outcome::TimedOut => info!("{kind} script timed out"),
        Outcome::Signalled(_) => {}
        Outcome::NotStarted(_) => info!("Call of {kind} script {program} failed"),
        _ => {}
    }
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
