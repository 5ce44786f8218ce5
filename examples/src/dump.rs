//! keepalived's state dumps, on keepalived's signals: DATA (SIGUSR1) into
//! `keepalived.data`, STATS (SIGUSR2) into `keepalived.stats`,
//! STATS_CLEAR (SIGRTMAX-1) the same and the counters cleared, JSON
//! (SIGRTMIN+2) into `keepalived.json`, all in `$TMPDIR` (else /tmp) with
//! mode 0600, as keepalived 2.2.7 writes them for its VRRP process. On
//! DATA the checker half, if it runs, writes its own dump too
//! ([`crate::dump_check`], `keepalived_check.data`), as keepalived's
//! checker process does.
//!
//! The JSON has keepalived's field names and encodings (state numbers,
//! address strings); the text dumps keep keepalived's wording for the VRRP
//! instances. What keepalived-lite does not know is written as keepalived
//! writes its default: `master_priority` is 0 and `wantstate` is the
//! state.

use healthcheck::script::shown;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use tokio::signal::unix::{signal, SignalKind};
use tracing::{error, info};
use vrrp::auth::AuthConfig;
use vrrp::config::{LowerPriorityAdvert, Version};
use vrrp::counters::{Counters, DropReason};
use vrrp::linux::Scope;
use vrrp::wire::DropReason as Wire;
use vrrp::State;

use crate::observe::{self, InstanceState, InstanceView, VrrpState};

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

/// Statistics as they were at the last STATS_CLEAR, by instance name: the
/// driver's counters are monotonic, the dump shows the difference.
#[derive(Debug, Default)]
pub struct Baseline(HashMap<String, Stats>);

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
    let text = match kind {
        Dump::Data => data(state),
        Dump::Stats | Dump::StatsClear => stats(state, baseline),
        Dump::Json => json(state, baseline).to_string(),
    };
    if kind == Dump::StatsClear {
        baseline.clear_to(state);
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

impl Baseline {
    /// The statistics of `i` since the last clear.
    fn since(&self, i: &InstanceState) -> Stats {
        let now = i
            .run
            .as_ref()
            .map(|r| Stats::from(&r.counters))
            .unwrap_or_default();
        match self.0.get(&*i.view.spec.config.name) {
            Some(then) => now.minus(then),
            None => now,
        }
    }

    fn clear_to(&mut self, state: &VrrpState) {
        for i in &state.instances {
            if let Some(r) = &i.run {
                self.0.insert(r.name.to_string(), Stats::from(&r.counters));
            }
        }
    }
}

/// keepalived's statistics of one instance, from our counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// `advert_rcvd`.
    pub advert_rcvd: u64,
    /// `advert_sent`.
    pub advert_sent: u64,
    /// `become_master`.
    pub become_master: u64,
    /// `release_master`.
    pub release_master: u64,
    /// `packet_len_err`.
    pub packet_len_err: u64,
    /// `advert_interval_err`.
    pub advert_interval_err: u64,
    /// `ip_ttl_err`.
    pub ip_ttl_err: u64,
    /// `invalid_type_rcvd`.
    pub invalid_type_rcvd: u64,
    /// `addr_list_err`.
    pub addr_list_err: u64,
    /// `invalid_authtype`.
    pub invalid_authtype: u64,
    /// `authtype_mismatch`.
    pub authtype_mismatch: u64,
    /// `auth_failure`.
    pub auth_failure: u64,
    /// `pri_zero_rcvd`.
    pub pri_zero_rcvd: u64,
    /// `pri_zero_sent`.
    pub pri_zero_sent: u64,
}

impl From<&Counters> for Stats {
    fn from(c: &Counters) -> Stats {
        let d = |r: Wire| c.dropped.get(DropReason::Invalid(r));
        Stats {
            advert_rcvd: c.adverts_received,
            advert_sent: c.adverts_sent,
            become_master: c.became_master,
            release_master: c.released_master,
            packet_len_err: d(Wire::Truncated) + d(Wire::BadLength) + d(Wire::BadIpLength),
            advert_interval_err: d(Wire::AdverIntMismatch),
            ip_ttl_err: d(Wire::BadTtl) + c.dropped.get(DropReason::UnicastTtl),
            invalid_type_rcvd: d(Wire::BadType),
            addr_list_err: d(Wire::AddressMismatch),
            invalid_authtype: d(Wire::InvalidAuthType),
            authtype_mismatch: d(Wire::AuthTypeMismatch),
            auth_failure: d(Wire::AuthFailure) + d(Wire::AhReplay) + d(Wire::BadAhSpi),
            pri_zero_rcvd: c.priority_zero_received,
            pri_zero_sent: c.priority_zero_sent,
        }
    }
}

impl Stats {
    /// Each counter less `then`'s (zero if `then` is ahead: a restarted
    /// router).
    fn minus(&self, then: &Stats) -> Stats {
        let d = |now: u64, then: u64| now.saturating_sub(then);
        Stats {
            advert_rcvd: d(self.advert_rcvd, then.advert_rcvd),
            advert_sent: d(self.advert_sent, then.advert_sent),
            become_master: d(self.become_master, then.become_master),
            release_master: d(self.release_master, then.release_master),
            packet_len_err: d(self.packet_len_err, then.packet_len_err),
            advert_interval_err: d(self.advert_interval_err, then.advert_interval_err),
            ip_ttl_err: d(self.ip_ttl_err, then.ip_ttl_err),
            invalid_type_rcvd: d(self.invalid_type_rcvd, then.invalid_type_rcvd),
            addr_list_err: d(self.addr_list_err, then.addr_list_err),
            invalid_authtype: d(self.invalid_authtype, then.invalid_authtype),
            authtype_mismatch: d(self.authtype_mismatch, then.authtype_mismatch),
            auth_failure: d(self.auth_failure, then.auth_failure),
            pri_zero_rcvd: d(self.pri_zero_rcvd, then.pri_zero_rcvd),
            pri_zero_sent: d(self.pri_zero_sent, then.pri_zero_sent),
        }
    }
}

/// keepalived's state number.
pub fn state_number(s: State) -> u8 {
    match s {
        State::Initialize => 0,
        State::Backup => 1,
        State::Master => 2,
        State::Fault => 3,
    }
}

fn state_name(s: State) -> &'static str {
    match s {
        State::Initialize => "INIT",
        State::Backup => "BACKUP",
        State::Master => "MASTER",
        State::Fault => "FAULT",
    }
}

fn scope_name(s: Scope) -> String {
    match s {
        Scope::Global => "global".into(),
        Scope::Site => "site".into(),
        Scope::Link => "link".into(),
        Scope::Host => "host".into(),
        Scope::Nowhere => "nowhere".into(),
        Scope::Other(n) => n.to_string(),
        _ => "unknown".into(),
    }
}

/// keepalived's `format_ipaddress` for each virtual address, with ` set`
/// while installed (a master's).
fn vips(view: &InstanceView, set: bool) -> Vec<String> {
    let vmac = view
        .spec
        .use_vmac
        .then(|| format!("vrrp.{}", view.spec.config.vrid));
    view.spec
        .addresses
        .iter()
        .map(|a| {
            let full = if a.addr.is_ipv4() { 32 } else { 128 };
            let mut s = a.addr.to_string();
            if a.prefix_len != full {
                let _ = write!(s, "/{}", a.prefix_len);
            }
            if let Some(b) = a.broadcast {
                let _ = write!(s, " brd {b}");
            }
            let dev = (a.dev.clone())
                .or_else(|| vmac.clone())
                .unwrap_or_else(|| view.spec.interface.clone());
            let _ = write!(s, " dev {dev} scope {}", scope_name(a.scope));
            if let Some(l) = &a.label {
                let _ = write!(s, " label {l}");
            }
            if set {
                s.push_str(" set");
            }
            s
        })
        .collect()
}

fn secs_f64(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The advert interval in seconds, as configured for the version.
fn advert_int(view: &InstanceView) -> f64 {
    let c = &view.spec.config;
    match c.version {
        Version::V3 => f64::from(c.advert_interval_centis) / 100.0,
        _ => f64::from(c.advert_interval_secs),
    }
}

fn auth(view: &InstanceView) -> (u8, Option<String>) {
    match &view.spec.config.authentication {
        AuthConfig::Pass { key } => {
            let end = key.iter().position(|b| *b == 0).unwrap_or(key.len());
            (1, Some(String::from_utf8_lossy(&key[..end]).into_owned()))
        }
        AuthConfig::None => (0, None),
        _ => (2, None),
    }
}

/// keepalived 2.2.7's `keepalived.json`: an array with one object per
/// instance, `data` and `stats`.
pub fn json(state: &VrrpState, baseline: &Baseline) -> Value {
    Value::Array(
        state
            .instances
            .iter()
            .map(|i| json!({ "data": json_data(i), "stats": json_stats(&baseline.since(i)) }))
            .collect(),
    )
}

fn json_data(i: &InstanceState) -> Value {
    let (view, c) = (&i.view, &i.view.spec.config);
    let st = i.run.as_ref().map_or(State::Initialize, |r| r.state);
    let garp = &c.garp;
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_owned(), v);
    };
    put("iname", json!(&*c.name));
    put("dont_track_primary", json!(u8::from(!c.track_interface)));
    put(
        "skip_check_adv_addr",
        json!(u8::from(c.skip_check_adv_addr)),
    );
    put("strict_mode", json!(0));
    put(
        "vmac_ifname",
        json!(if view.spec.use_vmac {
            format!("vrrp.{}", c.vrid)
        } else {
            String::new()
        }),
    );
    put("ifp_ifname", json!(view.spec.interface));
    put("master_priority", json!(0));
    put(
        "last_transition",
        json!(i.last_transition.map_or(0.0, secs_f64)),
    );
    put("garp_delay", json!(garp.master_delay.as_secs_f64()));
    put(
        "garp_refresh",
        json!(garp.master_refresh.map_or(0, |d| d.as_secs())),
    );
    put("garp_rep", json!(garp.master_repeat));
    put("garp_refresh_rep", json!(garp.refresh_repeat));
    put(
        "garp_lower_prio_delay",
        json!(garp.lower_prio_delay.as_secs()),
    );
    put("garp_lower_prio_rep", json!(garp.lower_prio_repeat));
    put(
        "lower_prio_no_advert",
        json!(u8::from(
            c.lower_priority_advert == LowerPriorityAdvert::Discard
        )),
    );
    put(
        "higher_prio_send_advert",
        json!(u8::from(c.higher_priority_send_advert)),
    );
    put("vrid", json!(c.vrid));
    put("base_priority", json!(c.priority));
    put(
        "effective_priority",
        json!(i.run.as_ref().map_or(c.priority, |r| r.priority)),
    );
    put(
        "vipset",
        json!(st == State::Master && !view.spec.addresses.is_empty()),
    );
    put("promote_secondaries", json!(false));
    put("adver_int", json!(advert_int(view)));
    put("master_adver_int", json!(advert_int(view)));
    put("accept", json!(u8::from(c.accept_mode)));
    put("nopreempt", json!(!c.preempt));
    put("preempt_delay", json!(c.preempt_delay.as_secs()));
    put("state", json!(state_number(st)));
    put("wantstate", json!(state_number(st)));
    put(
        "version",
        json!(if c.version == Version::V3 { 3 } else { 2 }),
    );
    put("smtp_alert", json!(false));
    let n = &view.extras.notify;
    put("notify_deleted", json!(n.deleted.is_some()));
    for (key, script) in [
        ("script_backup", &n.backup),
        ("script_master", &n.master),
        ("script_fault", &n.fault),
        ("script_stop", &n.stop),
        ("script_deleted", &n.deleted),
        ("script", &n.any),
        ("script_master_rx_lower_pri", &n.master_rx_lower_pri),
    ] {
        if let Some(w) = script.as_ref().filter(|w| !w.is_empty()) {
            put(key, json!(shown(w)));
        }
    }
    let vips = vips(view, st == State::Master);
    if !vips.is_empty() {
        put("vips", json!(vips));
    }
    if !view.extras.track_interfaces.is_empty() {
        put("track_ifp", json!(view.extras.track_interfaces));
    }
    if !view.extras.track_scripts.is_empty() {
        let scripts: Vec<String> = view.extras.track_scripts.iter().map(|w| shown(w)).collect();
        put("track_script", json!(scripts));
    }
    let (auth_type, auth_data) = auth(view);
    put("auth_type", json!(auth_type));
    if let Some(d) = auth_data {
        put("auth_data", json!(d));
    }
    Value::Object(m)
}

fn json_stats(s: &Stats) -> Value {
    json!({
        "advert_rcvd": s.advert_rcvd,
        "advert_sent": s.advert_sent,
        "become_master": s.become_master,
        "release_master": s.release_master,
        "packet_len_err": s.packet_len_err,
        "advert_interval_err": s.advert_interval_err,
        "ip_ttl_err": s.ip_ttl_err,
        "invalid_type_rcvd": s.invalid_type_rcvd,
        "addr_list_err": s.addr_list_err,
        "invalid_authtype": s.invalid_authtype,
        "authtype_mismatch": s.authtype_mismatch,
        "auth_failure": s.auth_failure,
        "pri_zero_rcvd": s.pri_zero_rcvd,
        "pri_zero_sent": s.pri_zero_sent,
    })
}

/// keepalived 2.2.7's `keepalived.stats`.
pub fn stats(state: &VrrpState, baseline: &Baseline) -> String {
    let mut out = String::new();
    for i in &state.instances {
        let s = baseline.since(i);
        let _ = write!(
            out,
            "VRRP Instance: {}\n  Advertisements:\n    Received: {}\n    Sent: {}\n  \
             Became master: {}\n  Released master: {}\n  Packet Errors:\n    Length: {}\n    \
             TTL: {}\n    Invalid Type: {}\n    Advertisement Interval: {}\n    Address List: {}\n  \
             Authentication Errors:\n    Invalid Type: {}\n    Type Mismatch: {}\n    Failure: {}\n  \
             Priority Zero:\n    Received: {}\n    Sent: {}\n",
            i.view.spec.config.name,
            s.advert_rcvd,
            s.advert_sent,
            s.become_master,
            s.release_master,
            s.packet_len_err,
            s.ip_ttl_err,
            s.invalid_type_rcvd,
            s.advert_interval_err,
            s.addr_list_err,
            s.invalid_authtype,
            s.authtype_mismatch,
            s.auth_failure,
            s.pri_zero_rcvd,
            s.pri_zero_sent,
        );
    }
    out
}

/// keepalived 2.2.7's `keepalived.data`, its VRRP topology part.
pub fn data(state: &VrrpState) -> String {
    let mut out = String::from("------< VRRP Topology >------\n");
    for i in &state.instances {
        data_instance(&mut out, i);
    }
    out
}

fn on_off(b: bool) -> &'static str {
    if b {
        "enabled"
    } else {
        "disabled"
    }
}

fn data_instance(out: &mut String, i: &InstanceState) {
    let (view, c) = (&i.view, &i.view.spec.config);
    let st = i.run.as_ref().map_or(State::Initialize, |r| r.state);
    let prio = i.run.as_ref().map_or(c.priority, |r| r.priority);
    let version = if c.version == Version::V3 { 3 } else { 2 };
    let _ = writeln!(out, " VRRP Instance = {}", c.name);
    let _ = writeln!(out, "   VRRP Version = {version}");
    let _ = writeln!(out, "   State = {}", state_name(st));
    let _ = writeln!(out, "   Wantstate = {}", state_name(st));
    if let Some(t) = i.last_transition {
        let _ = writeln!(out, "   Last transition = {:.6}", secs_f64(t));
    }
    let _ = writeln!(out, "   Interface = {}", view.spec.interface);
    if !c.track_interface {
        let _ = writeln!(out, "   VRRP interface tracking disabled");
    }
    if c.unicast_peers.is_empty() && c.ipv6.is_none() {
        let _ = writeln!(out, "   Multicast address 224.0.0.18");
    }
    let garp = &c.garp;
    let delay = garp.master_delay.as_secs();
    let _ = writeln!(out, "   Gratuitous ARP delay = {delay}");
    let _ = writeln!(out, "   Gratuitous ARP repeat = {}", garp.master_repeat);
    let refresh = garp.master_refresh.map_or(0, |d| d.as_secs());
    let _ = writeln!(out, "   Gratuitous ARP refresh = {refresh}");
    let _ = writeln!(
        out,
        "   Gratuitous ARP refresh repeat = {}",
        garp.refresh_repeat
    );
    let lower_delay = garp.lower_prio_delay.as_secs();
    let _ = writeln!(
        out,
        "   Gratuitous ARP lower priority delay = {lower_delay}"
    );
    let _ = writeln!(
        out,
        "   Gratuitous ARP lower priority repeat = {}",
        garp.lower_prio_repeat
    );
    let _ = writeln!(out, "   Down timer adverts = {}", c.down_timer_adverts);
    let lower = c.lower_priority_advert == LowerPriorityAdvert::SendAdvert;
    let _ = writeln!(
        out,
        "   Send advert after receive lower priority advert = {lower}"
    );
    let higher = c.higher_priority_send_advert;
    let _ = writeln!(
        out,
        "   Send advert after receive higher priority advert = {higher}"
    );
    let _ = writeln!(out, "   Virtual Router ID = {}", c.vrid);
    let _ = writeln!(out, "   Priority = {}", c.priority);
    let _ = writeln!(out, "   Effective priority = {prio}");
    let _ = writeln!(out, "   Total priority = {prio}");
    let _ = writeln!(out, "   Advert interval = {} sec", advert_int(view));
    let _ = writeln!(out, "   Accept = {}", on_off(c.accept_mode));
    let _ = writeln!(out, "   Preempt = {}", on_off(c.preempt));
    let (auth_type, pass) = auth(view);
    let auth_name = ["none", "SIMPLE_PASSWORD", "IPSEC_AH"][usize::from(auth_type.min(2))];
    let _ = writeln!(out, "   Authentication type = {auth_name}");
    if let Some(p) = pass {
        let _ = writeln!(out, "   Password = {p}");
    }
    if view.extras.debug != 0 {
        let _ = writeln!(out, "   Debug level = {}", view.extras.debug);
    }
    let vips = vips(view, st == State::Master);
    let _ = writeln!(out, "   Virtual IP ({}):", vips.len());
    for v in vips {
        let _ = writeln!(out, "     {v}");
    }
    let n = &view.extras.notify;
    for (what, script) in [
        ("Backup state transition script", &n.backup),
        ("Master state transition script", &n.master),
        ("Fault state transition script", &n.fault),
        ("Stop state transition script", &n.stop),
        ("Deleted state transition script", &n.deleted),
        ("Generic state transition script", &n.any),
        (
            "Master rx lower pri state transition script",
            &n.master_rx_lower_pri,
        ),
    ] {
        if let Some(w) = script.as_ref().filter(|w| !w.is_empty()) {
            // Scripts run as this process's user unless `script_user`
            // says otherwise; keepalived prints whom they run as.
            let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
            let _ = writeln!(out, "   {what} = {}, uid:gid {uid}:{gid}", shown(w));
        }
    }
}
