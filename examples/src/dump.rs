//! keepalived's state dumps, on keepalived's signals: DATA (SIGUSR1) into
//! `keepalived.data`, STATS (SIGUSR2) into `keepalived.stats`,
//! STATS_CLEAR (SIGRTMAX-1) the same and the counters cleared, JSON
//! (SIGRTMIN+2) into `keepalived.json`, all in `$TMPDIR` (else /tmp) with
//! mode 0600, as keepalived 2.2.7 writes them for its VRRP process. On
//! DATA the checker half, if it runs, writes its own dump too
//! ([`crate::dump_check`], `keepalived_check.data`), as keepalived's
//! checker process does.
//!
//! The texts are rendered by [`vrrp_conf::dump`]; here are the signals,
//! the files and the host facts they show ([`SystemHost`]).

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::signal::unix::{signal, SignalKind};
use tracing::{error, info};
use vrrp_conf::dump::global::{self, Half};
use vrrp_conf::dump::{vrrp as render, Host};
use vrrp_conf::Parsed;

pub use vrrp_conf::dump::vrrp::{state_number, Baseline, Stats};

use crate::observe::{self, VrrpState};

/// A dump keepalived writes on a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dump {
    /// DATA: `keepalived.data`.
    Data,
    /// STATS: `keepalived.stats`.
    Stats,
    /// STATS_CLEAR: `keepalived.stats`, then the counters are cleared.
    StatsClear,
    /// JSON: `keepalived.json`.
    Json,
}

/// `data_use_instance`'s part of the file names (`NS_INSTANCE`).
static SUFFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Names the dump files after `suffix` (keepalived's `data_use_instance`
/// with a namespace or instance: `keepalived.SUFFIX.data`); set once at
/// start-up.
pub fn name_after(suffix: Option<String>) {
    if let Some(s) = suffix {
        let _ = SUFFIX.set(s);
    }
}

impl Dump {
    /// The file it goes to, in keepalived's temporary directory.
    pub fn path(self) -> PathBuf {
        let ext = match self {
            Dump::Data => "data",
            Dump::Stats | Dump::StatsClear => "stats",
            Dump::Json => "json",
        };
        tmp_file("keepalived", ext)
    }

    /// keepalived's `--signum` function name.
    fn function(self) -> &'static str {
        match self {
            Dump::Data => "DATA",
            Dump::Stats => "STATS",
            Dump::StatsClear => "STATS_CLEAR",
            Dump::Json => "JSON",
        }
    }
}

/// `STEM.EXT` (`STEM.SUFFIX.EXT` under `data_use_instance`) in
/// keepalived's temporary directory: `$TMPDIR` if absolute, else /tmp.
pub fn tmp_file(stem: &str, ext: &str) -> PathBuf {
    let dir = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .filter(|d| d.is_absolute())
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    match SUFFIX.get() {
        Some(s) => dir.join(format!("{stem}.{s}.{ext}")),
        None => dir.join(format!("{stem}.{ext}")),
    }
}

/// The configuration running: the dumps' "Global definitions" part.
static CONFIG: std::sync::Mutex<Option<std::sync::Arc<Parsed>>> = std::sync::Mutex::new(None);

/// Publishes the configuration read at start-up or accepted by a reload:
/// the dumps' global part shows it from then on (a refused reload
/// publishes nothing, as the old settings keep running).
pub fn publish_config(parsed: &Parsed) {
    let mut config = CONFIG.lock().unwrap_or_else(|e| e.into_inner());
    *config = Some(std::sync::Arc::new(parsed.clone()));
}

/// keepalived's "Global definitions" part of `half`'s DATA dump (empty
/// before a configuration was published).
pub fn global_part(half: Half) -> String {
    let config = CONFIG.lock().unwrap_or_else(|e| e.into_inner()).clone();
    config.map_or_else(String::new, |p| global::data(&p, &SystemHost, half))
}

/// Set once the handlers are installed.
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Installs the dump signal handlers and spawns the task that writes the
/// dumps, on the current tokio runtime, once per process (each half calls
/// it as it starts, before it reports ready). Panics outside a runtime.
pub fn install() {
    if INSTALLED.swap(true, Ordering::SeqCst) {
        return;
    }
    let kinds = [Dump::Data, Dump::Stats, Dump::StatsClear, Dump::Json];
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    for kind in kinds {
        let Some(n) = crate::cli::signum(kind.function()) else {
            continue;
        };
        match signal(SignalKind::from_raw(n)) {
            Ok(mut s) => {
                let tx = tx.clone();
                tokio::spawn(async move {
                    while s.recv().await.is_some() && tx.send(kind).await.is_ok() {}
                });
            }
            Err(e) => error!("cannot handle signal {n}: {e}"),
        }
    }
    tokio::spawn(write_dumps(rx));
}

async fn write_dumps(mut rx: tokio::sync::mpsc::Receiver<Dump>) {
    let mut baseline = Baseline::default();
    while let Some(kind) = rx.recv().await {
        // keepalived's checker process writes its own DATA dump.
        let checker = (kind == Dump::Data)
            .then(crate::dump_check::current)
            .flatten();
        if let Some(text) = &checker {
            let pid = std::process::id();
            info!("Printing checker data for process({pid}) on signal");
            write_file(&crate::dump_check::path(), text);
        }
        match observe::vrrp().await {
            Some(state) => write(kind, &state, &mut baseline),
            None if checker.is_some() => {}
            None => info!("no VRRP instance running: no {} dump", kind.function()),
        }
    }
}

/// Writes dump `kind` of `state` to its file.
pub fn write(kind: Dump, state: &VrrpState, baseline: &mut Baseline) {
    let instances = state.dump_views();
    let text = match kind {
        Dump::Data => data_of(&instances),
        Dump::Stats | Dump::StatsClear => render::stats(&instances, baseline),
        Dump::Json => {
            let json = render::json(&instances, baseline, &SystemHost);
            serde_json::to_string(&json).unwrap_or_default()
        }
    };
    if kind == Dump::StatsClear {
        baseline.clear_to(&instances);
    }
    write_file(&kind.path(), &text);
}

/// Writes a dump file as keepalived does; a failure is logged.
pub fn write_file(path: &std::path::Path, text: &str) {
    // rw-rw-rw- less the umask (keepalived's default one gives
    // rw-------), also for a file that existed.
    let mode = 0o666 & !crate::process::current_umask();
    let written = create_private(path)
        .and_then(|f| {
            f.set_permissions(std::fs::Permissions::from_mode(mode))?;
            Ok(f)
        })
        .and_then(|mut f| f.write_all(text.as_bytes()));
    if let Err(e) = written {
        info!("Can't open {} ({e})", path.display());
    }
}

/// Opens `path` for writing, emptied; a new file gets mode 0600 less the
/// umask, as keepalived creates its dump and config_save files.
pub(crate) fn create_private(path: &std::path::Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
}

/// keepalived 2.2.7's `keepalived.data` of `state`: the global part,
/// the GARP delay groups and static addresses, routes and rules of the
/// configuration running, then the VRRP topology.
pub fn data(state: &VrrpState) -> String {
    data_of(&state.dump_views())
}

fn data_of(instances: &[render::Instance<'_>]) -> String {
    let config = CONFIG.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let Some(parsed) = config else {
        return render::data(instances, &SystemHost);
    };
    // The driver does not tell when its next spaced GARP may leave: shown
    // as none yet.
    global::data(&parsed, &SystemHost, Half::Vrrp)
        + &render::data_sections(&parsed.config, instances, &[], &SystemHost)
}

/// This host's facts, as the dumps show them.
#[derive(Debug, Clone, Copy)]
pub struct SystemHost;

impl Host for SystemHost {
    fn ids(&self) -> (u32, u32) {
        (
            nix::unistd::geteuid().as_raw(),
            nix::unistd::getegid().as_raw(),
        )
    }

    fn user_ids(&self, user: &[String]) -> Option<(u32, u32)> {
        use nix::unistd::{Group, User};
        let u = User::from_name(user.first()?).ok().flatten()?;
        let group = (user.get(1)).and_then(|g| Group::from_name(g).ok().flatten());
        Some((u.uid.as_raw(), group.map_or(u.gid, |g| g.gid).as_raw()))
    }

    fn command(&self, words: &[String]) -> String {
        healthcheck::script::shown(words)
    }

    /// The node name (keepalived would take its canonical DNS name where
    /// the resolver gives one).
    fn local_name(&self) -> Option<String> {
        let node = nix::unistd::gethostname().ok()?.into_string().ok()?;
        (!node.is_empty()).then_some(node)
    }

    fn user_name(&self) -> Option<String> {
        let user = nix::unistd::User::from_uid(nix::unistd::getuid()).ok()??;
        Some(user.name)
    }

    fn if_index(&self, name: &str) -> Option<u32> {
        let index = nix::net::if_::if_nametoindex(name).ok()?;
        (index != 0).then_some(index)
    }

    fn local_time(&self, secs: i64) -> Option<String> {
        use chrono::TimeZone as _;
        let t = chrono::Local.timestamp_opt(secs, 0).single()?;
        Some(t.format("%a %b %e %H:%M:%S").to_string())
    }
}
