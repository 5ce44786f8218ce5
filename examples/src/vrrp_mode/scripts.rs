//! The scripts of VRRP mode, all run by `healthcheck::script`: the
//! `vrrp_script` checks (its [`Tracker`]: interval, timeout, rise, fall)
//! and the notify scripts (its [`NotifyQueue`]: at most
//! [`MAX_NOTIFY_PROCESSES`] at once, in order per instance or group).
//!
//! Who runs each script was decided by the conversion
//! (`vrrp_conf::convert::scripts`): a `vrrp_script`'s `user`, a notify
//! line's words after the script; none means this process.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use healthcheck::script::{
    CommandLine, NotifyFifo, NotifyQueue, Outcome, RunAs, Script, TrackConfig, Tracker,
    MAX_NOTIFY_PROCESSES,
};
use healthcheck::Health;
use tokio::sync::mpsc;
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, info, warn};
use vrrp::event::{Notify, State};
use vrrp_conf::convert::scripts::{notify_parts, Fifo, Fifos};
use vrrp_conf::model::{self as conf, VrrpScript};

/// How long notify scripts may run.
pub const NOTIFY_TIMEOUT: Duration = Duration::from_secs(30);

/// A `vrrp_script` whose health changed.
#[derive(Debug)]
pub struct Changed {
    /// The script's name.
    pub name: String,
    /// Its new health.
    pub health: Health,
    /// The run that changed it.
    pub outcome: Outcome,
}

/// The running `vrrp_script` checks, each reporting changes to one channel.
pub struct Checks {
    running: HashMap<String, (VrrpScript, JoinHandle<()>)>,
    tx: mpsc::Sender<Changed>,
}

impl Checks {
    /// No checks yet; changes go to `tx`. The notify FIFOs given to
    /// [`set_fifos`] are opened now, their scripts started.
    pub fn new(tx: mpsc::Sender<Changed>) -> Self {
        VRRP_RUNS.store(true, std::sync::atomic::Ordering::Relaxed);
        open_fifos();
        Checks {
            running: HashMap::new(),
            tx,
        }
    }

    /// Runs exactly `wanted`: checks whose configuration did not change go
    /// on untouched. Returns the names of the checks (re)started, whose
    /// health is unknown again.
    pub fn apply(&mut self, wanted: &[VrrpScript]) -> Vec<String> {
        // A reload looks users up again.
        users().clear();
        let old = std::mem::take(&mut self.running);
        for (name, (spec, task)) in old {
            if wanted.contains(&spec) {
                self.running.insert(name, (spec, task));
            } else {
                task.abort();
            }
        }
        let mut started = Vec::new();
        for s in wanted {
            if self.running.contains_key(&s.name) {
                continue;
            }
            let Some(cmd) = s.script.as_deref().and_then(CommandLine::new) else {
                warn!("VRRP_Script({}) has no script, ignoring", s.name);
                continue;
            };
            let Some(script) = as_user(Script::new(cmd), s.user.as_deref()) else {
                warn!("Unable to set uid/gid for script {}", s.name);
                continue;
            };
            let tracker = Tracker::new(script, track_config(s));
            let task = tokio::spawn(watch(s.name.clone(), tracker, self.tx.clone()));
            self.running.insert(s.name.clone(), (s.clone(), task));
            started.push(s.name.clone());
        }
        started
    }

    /// Stops every check (a running script's process group is killed)
    /// and closes the notify FIFOs (their scripts are killed), as
    /// keepalived does first when it stops.
    pub fn stop(&mut self) {
        open_fifo_list().clear();
        for (_, (_, task)) in self.running.drain() {
            task.abort();
        }
    }
}

/// `script` run as `USER [GROUP]`, or as this process if `None` or
/// empty; `None` if the user is unknown.
fn as_user(script: Script, user: Option<&[String]>) -> Option<Script> {
    match user {
        Some(words @ [_, ..]) => Some(script.as_user(lookup(words)?)),
        _ => Some(script),
    }
}

/// Users resolved since the last (re)load: the name service may block
/// (LDAP, sssd), so a notify does not ask it again at each transition.
fn users() -> std::sync::MutexGuard<'static, HashMap<Vec<String>, RunAs>> {
    static USERS: OnceLock<Mutex<HashMap<Vec<String>, RunAs>>> = OnceLock::new();
    USERS
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

fn lookup(words: &[String]) -> Option<RunAs> {
    if let Some(known) = users().get(words) {
        return Some(known.clone());
    }
    let (name, group) = (words.first()?, words.get(1).map(String::as_str));
    let run_as = RunAs::lookup(name, group).ok()?;
    users().insert(words.to_vec(), run_as.clone());
    Some(run_as)
}

/// The notify FIFOs this process opens when its checks start (keepalived
/// opens them at start-up; a reload keeps the first ones).
pub fn set_fifos(fifos: Fifos) {
    let _ = FIFOS.set(fifos);
}

static FIFOS: OnceLock<Fifos> = OnceLock::new();

/// Which half writes to a FIFO: both to `notify_fifo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writer {
    Both,
    Vrrp,
    Checker,
}

fn open_fifo_list() -> std::sync::MutexGuard<'static, Vec<(Writer, NotifyFifo)>> {
    static OPEN: Mutex<Vec<(Writer, NotifyFifo)>> = Mutex::new(Vec::new());
    OPEN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Opens the notify FIFOs given to [`set_fifos`] and starts their
/// scripts, once per process: the VRRP half and the checker share them.
pub fn open_fifos() {
    let Some(fifos) = FIFOS.get() else {
        return;
    };
    let mut open = open_fifo_list();
    if !open.is_empty() {
        return;
    }
    let all = [
        (Writer::Both, &fifos.notify, "vrrp"),
        (Writer::Vrrp, &fifos.vrrp, "vrrp"),
        (Writer::Checker, &fifos.lvs, "lvs"),
    ];
    for (writer, f, who) in all {
        let Some(f) = f else { continue };
        match open_fifo(f, who) {
            Ok(fifo) => open.push((writer, fifo)),
            Err(e) => warn!("Unable to open notify fifo {} - {e}", f.path),
        }
    }
}

/// Whether the VRRP half runs in this process: it closes the FIFOs when
/// it stops, after its last lines.
static VRRP_RUNS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The checker has stopped: closes the notify FIFOs (their scripts are
/// killed) unless the VRRP half, which may still write, closes them.
pub fn checker_stopped() {
    if !VRRP_RUNS.load(std::sync::atomic::Ordering::Relaxed) {
        open_fifo_list().clear();
    }
}

/// Writes a line of the checker (`RS ...`, `VS ...`) to `notify_fifo`
/// and `lvs_notify_fifo`.
pub fn checker_fifo_line(line: &str) {
    for (_, fifo) in open_fifo_list().iter().filter(|(w, _)| *w != Writer::Vrrp) {
        fifo.write_line(line);
    }
}

fn open_fifo(f: &Fifo, who: &'static str) -> std::io::Result<NotifyFifo> {
    let script = f
        .script
        .as_deref()
        .and_then(notify_parts)
        .and_then(|(cmd, user)| {
            let line = cmd.line().to_owned();
            let s = as_user(Script::new(cmd), Some(user));
            if s.is_none() {
                warn!("Invalid user/group for notify_fifo script {line} - ignoring");
            }
            s
        });
    let done = move |out: Outcome| info!("{who} notify fifo script terminated ({out:?})");
    NotifyFifo::open(Path::new(&f.path), f.owner, script, done)
}

/// keepalived's FIFO line for a notification: `INSTANCE "VI_1" MASTER 100`
/// (a group's priority is 0), with the state word `word`.
fn fifo_line(n: &Notify, word: &str) -> String {
    format!("{} \"{}\" {word} {}", n.kind.as_str(), n.name, n.priority)
}

/// The one queue of this process's notify scripts.
fn queue() -> &'static NotifyQueue {
    static QUEUE: OnceLock<NotifyQueue> = OnceLock::new();
    QUEUE.get_or_init(|| NotifyQueue::new(MAX_NOTIFY_PROCESSES))
}

/// keepalived's `vrrp_script` timing; unset values keep its defaults.
fn track_config(s: &VrrpScript) -> TrackConfig {
    let mut c = TrackConfig::default();
    if let Some(i) = s.interval {
        c.interval = *i;
    }
    c.timeout = s.timeout.map(|t| *t).filter(|t| !t.is_zero());
    c.rise = s.rise.unwrap_or(1).max(1);
    c.fall = s.fall.unwrap_or(1).max(1);
    c
}

async fn watch(name: String, mut tracker: Tracker, tx: mpsc::Sender<Changed>) {
    loop {
        let (health, outcome) = tracker.next_change().await;
        let changed = Changed {
            name: name.clone(),
            health,
            outcome,
        };
        if tx.send(changed).await.is_err() {
            return;
        }
    }
}

/// Starts the notify scripts for `n` in `set`, with keepalived's
/// convention: the state's own script with no arguments, then `notify`
/// with TYPE NAME STATE PRIORITY. They go through the process's
/// [`NotifyQueue`]: those of one instance (or group) run one after
/// another in this order, and at most [`MAX_NOTIFY_PROCESSES`] at once.
pub fn notify(set: &mut JoinSet<()>, scripts: &conf::Notify, n: &Notify) {
    let own = match n.state {
        State::Master => &scripts.master,
        State::Backup => &scripts.backup,
        State::Fault => &scripts.fault,
        State::Initialize => &scripts.stop,
    };
    send(
        set,
        own.as_deref(),
        scripts.any.as_deref(),
        n,
        n.state.as_str(),
    );
}

/// The notifications of an instance a reload removed (`n` is its STOP),
/// as keepalived 2.2.7's reload sends them: DELETED with
/// `notify_deleted` (its own script, if any, then `notify`), otherwise
/// FAULT unless it `was` in FAULT already: `notify` only, as keepalived
/// picks the own script while the state is still DELETED.
pub fn notify_removed(set: &mut JoinSet<()>, scripts: &conf::Notify, n: &Notify, was: State) {
    let any = scripts.any.as_deref();
    if let Some(own) = &scripts.deleted {
        let own = Some(own.as_slice()).filter(|w| !w.is_empty());
        send(set, own, any, n, "DELETED");
    } else if was != State::Fault {
        send(set, None, any, n, "FAULT");
    }
}

/// An instance's event line to the notify FIFOs (keepalived's
/// `MASTER_RX_LOWER_PRI`, `MASTER_PRIORITY`, `BACKUP_PRIORITY`).
pub fn fifo_event(name: &str, word: &str, priority: u8) {
    vrrp_fifo_line(&format!("INSTANCE \"{name}\" {word} {priority}"));
}

/// Writes a line of the VRRP half to `notify_fifo` and `vrrp_notify_fifo`.
pub fn vrrp_fifo_line(line: &str) {
    let vrrp = |(w, _): &&(Writer, NotifyFifo)| *w != Writer::Checker;
    for (_, fifo) in open_fifo_list().iter().filter(vrrp) {
        fifo.write_line(line);
    }
}

/// Writes `n` with the state word `word` to the FIFOs and queues `own`
/// (no arguments), then `any` (TYPE NAME WORD PRIORITY).
fn send(
    set: &mut JoinSet<()>,
    own: Option<&[String]>,
    any: Option<&[String]>,
    n: &Notify,
    word: &str,
) {
    let args = vec![
        n.kind.as_str().to_owned(),
        n.name.to_string(),
        word.to_owned(),
        n.priority.to_string(),
    ];
    vrrp_fifo_line(&fifo_line(n, word));
    let key = format!("{} {}", n.kind.as_str(), n.name);
    for (words, args) in [(own, Vec::new()), (any, args)] {
        if let Some(words) = words {
            spawn_notify(set, &key, words, args, NOTIFY_TIMEOUT);
        }
    }
    // Reap finished notify tasks so the set stays small.
    while set.try_join_next().is_some() {}
}

/// The script of a notify line as the conversion left it (the script,
/// then `USER [GROUP]`), run as that user; `None` (and a warning) if the
/// user is unknown now.
pub fn notify_script(words: &[String]) -> Option<Script> {
    let (cmd, user) = notify_parts(words)?;
    let line = cmd.line().to_owned();
    let script = as_user(Script::new(cmd), Some(user));
    if script.is_none() {
        warn!("Invalid user/group for notify script {line} - ignoring");
    }
    script
}

/// Queues one notify line in `set` under `key` (scripts of one key run in
/// order, at most [`MAX_NOTIFY_PROCESSES`] at once): `words` as the
/// conversion left them (the script, then `USER [GROUP]`), with `args`,
/// killed after `timeout`.
pub fn spawn_notify(
    set: &mut JoinSet<()>,
    key: &str,
    words: &[String],
    args: Vec<String>,
    timeout: Duration,
) {
    let Some(script) = notify_script(words) else {
        return;
    };
    let line = script.command.line().to_owned();
    debug!("Running notify script {line} {args:?}");
    let run = queue().submit(key, script, args.clone(), timeout);
    set.spawn(async move {
        let out = run.await;
        if !out.ok() {
            warn!("notify script {line} {args:?}: {out:?}");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_lines_are_keepalived_s() {
        let n = Notify {
            kind: vrrp::event::NotifyKind::Instance,
            name: "VI_1".into(),
            state: State::Master,
            priority: 100,
        };
        assert_eq!(
            fifo_line(&n, n.state.as_str()),
            "INSTANCE \"VI_1\" MASTER 100"
        );
        let g = Notify {
            kind: vrrp::event::NotifyKind::Group,
            name: "G1".into(),
            state: State::Initialize,
            priority: 0,
        };
        assert_eq!(fifo_line(&g, g.state.as_str()), "GROUP \"G1\" STOP 0");
    }

    #[tokio::test]
    async fn notify_runs_as_the_user_after_the_script() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("rv-notify-user-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let open = std::fs::Permissions::from_mode(0o777);
        std::fs::set_permissions(&dir, open).expect("chmod");
        let out = dir.join("uid");
        let line = format!("/bin/sh -c 'id -u > {}'", out.display());
        let mut set = JoinSet::new();
        let words = [line, "nobody".to_owned()];
        spawn_notify(&mut set, "test", &words, Vec::new(), NOTIFY_TIMEOUT);
        while set.join_next().await.is_some() {}
        let uid = std::fs::read_to_string(&out).unwrap_or_default();
        assert_eq!(uid, "65534\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn track_config_keeps_keepalived_defaults() {
        let s = VrrpScript {
            name: "chk".into(),
            rise: Some(3),
            ..VrrpScript::default()
        };
        let c = track_config(&s);
        assert_eq!(
            (c.interval, c.timeout, c.rise, c.fall, c.init_fail),
            (Duration::from_secs(1), None, 3, 1, false)
        );
    }

    #[tokio::test]
    async fn notify_runs_the_own_script_then_notify_with_four_arguments() {
        let dir = std::env::temp_dir().join(format!("rv-notify-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let out = dir.join("out");
        let line = |tag: &str| {
            vec![format!(
                "/bin/sh -c 'echo {tag} \"$@\" >> {}' sh",
                out.display()
            )]
        };
        let scripts = conf::Notify {
            master: Some(line("own")),
            any: Some(line("any")),
            backup: Some(line("wrong")),
            ..conf::Notify::default()
        };
        let n = Notify {
            kind: vrrp::event::NotifyKind::Instance,
            name: "VI_1".into(),
            state: State::Master,
            priority: 150,
        };
        let mut set = JoinSet::new();
        notify(&mut set, &scripts, &n);
        while set.join_next().await.is_some() {}
        let text = std::fs::read_to_string(&out).expect("scripts ran");
        // In keepalived's order: the state's own script, then `notify`.
        assert_eq!(text, "own\nany INSTANCE VI_1 MASTER 150\n");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
