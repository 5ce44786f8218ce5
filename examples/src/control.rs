//! The control socket: a unix socket, root only, that answers one JSON
//! request per line with one JSON line, and its client
//! (`keepalived-lite [--control-socket PATH] control ...`).
//!
//! Requests (`{"command": ...}`):
//! - `status`: every VRRP instance (state, base and effective priority,
//!   VIPs) and every real server of the checker (health, whether it is
//!   drained, and its weight in the IPVS table the checker wants: null
//!   when it is out of it);
//! - `priority` (`instance`, `priority` 1..=255): the instance's base
//!   priority until the next reload, applied by the driver's
//!   reconfiguration (an in-place change: no priority-0 advert);
//! - `backup` (`instance`): the same with priority 1, so that any peer
//!   with preemption takes over (a `nopreempt` peer does not); the
//!   instance stays BACKUP, not FAULT, until a `priority` request or a
//!   reload restores its priority;
//! - `reload`: SIGHUP to this process, so both halves reload exactly as on
//!   the signal;
//! - `drain` (`virtual_server`, `real_server`): the real server stays in
//!   the IPVS table with weight 0 and keeps being checked, until
//!   `restore` (same fields) gives it the weight its checks and
//!   configuration give then. It stays drained through down and up and
//!   across a reload that keeps it (see
//!   [`crate::lvs_mode::table::Bridge::reload`]). The reply comes once the
//!   kernel's table has it and names both servers as keepalived does
//!   (`virtual_server`, `real_server`, `drained`, and `changed`: false if
//!   it already was so). The names take keepalived's form
//!   (`[10.0.0.1]:tcp:80`, `FWM 5`) or ipvsadm's (`10.0.0.1:80`,
//!   `tcp 10.0.0.1:80`, `fwmark 5`; a real server as `10.1.0.1:8080` or
//!   `10.1.0.1`): see [`crate::lvs_mode::names`]. A name that fits no
//!   server, or several, is an error reply with a `reason`
//!   (`unknown_virtual_server`, `ambiguous_virtual_server`,
//!   `unknown_real_server`, `ambiguous_real_server`; `no_checker` when
//!   the checker does not run in this process).
//!
//! The socket is world-connectable on purpose: the daemon checks the
//! caller's uid (SO_PEERCRED) and refuses anyone but root with an error
//! line, rather than leaving a bare EACCES to explain itself.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{mpsc, oneshot};
use tracing::{info, warn};

use crate::lvs_mode::names::NameError;
use crate::lvs_mode::plan::Plan;
use crate::lvs_mode::table::{Bridge, Drain};
use ipvs::ServiceKey;

/// Where the daemon listens unless `--control-socket` says otherwise.
pub const DEFAULT_SOCKET: &str = "/run/keepalived-lite.sock";

/// The longest request line read; a longer one is refused.
const MAX_LINE: u64 = 4096;

/// One request, as a JSON line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, clap::Subcommand)]
#[serde(tag = "command", rename_all = "lowercase")]
pub enum Request {
    /// Instances and real servers now.
    Status,
    /// Set an instance's base priority until the next reload.
    Priority {
        /// The `vrrp_instance` name.
        instance: String,
        /// The new base priority, 1..=255.
        priority: u8,
    },
    /// Force an instance to BACKUP (base priority 1) until the next reload.
    Backup {
        /// The `vrrp_instance` name.
        instance: String,
    },
    /// Reload the configuration, as SIGHUP.
    Reload,
    /// Drain a real server: weight 0 in the IPVS table, still checked,
    /// until `restore`.
    Drain {
        /// The virtual server: `[10.0.0.1]:tcp:80`, `10.0.0.1:80`,
        /// `tcp 10.0.0.1:80`, `fwmark 5`, `group NAME`.
        virtual_server: String,
        /// Its real server: `[10.1.0.1]:tcp:8080`, `10.1.0.1:8080` or
        /// `10.1.0.1`.
        real_server: String,
    },
    /// End a drain: the real server has the weight its checks and
    /// configuration give.
    Restore {
        /// The virtual server, named as for `drain`.
        virtual_server: String,
        /// Its real server, named as for `drain`.
        real_server: String,
    },
}

/// A request for the VRRP daemon: set `instance`'s base priority; the
/// reply says whether it was applied.
#[derive(Debug)]
pub struct SetPriority {
    /// The `vrrp_instance` name.
    pub instance: String,
    /// The new base priority.
    pub priority: u8,
    /// Ok, or why not.
    pub reply: oneshot::Sender<Result<(), String>>,
}

static VRRP: Mutex<Option<mpsc::Sender<SetPriority>>> = Mutex::new(None);

/// A request for the checker: drain (or restore) a real server; the reply
/// comes once the kernel's table has it.
#[derive(Debug)]
pub struct SetDrain {
    /// The virtual server's name as given.
    pub virtual_server: String,
    /// The real server's name as given.
    pub real_server: String,
    /// Drain (true) or restore (false).
    pub drain: bool,
    /// What was done, or why the names lead nowhere.
    pub reply: oneshot::Sender<Result<Drain, NameError>>,
}

static CHECKER: Mutex<Option<mpsc::Sender<SetDrain>>> = Mutex::new(None);

/// Called by the checker: the control socket's drain and restore requests
/// arrive on the returned receiver.
pub fn register_checker() -> mpsc::Receiver<SetDrain> {
    let (tx, rx) = mpsc::channel(8);
    *CHECKER.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
    rx
}

/// The base priorities the VRRP daemon runs instead of the configured
/// ones, by instance name.
static PRIORITIES: Mutex<BTreeMap<String, u8>> = Mutex::new(BTreeMap::new());

/// Called by the VRRP daemon whenever the priorities set through the
/// control socket change (reported by `status`).
pub fn publish_priorities<'a>(set: impl IntoIterator<Item = (&'a String, &'a u8)>) {
    let set = set.into_iter().map(|(k, v)| (k.clone(), *v)).collect();
    *PRIORITIES.lock().unwrap_or_else(|e| e.into_inner()) = set;
}

/// Called by the VRRP daemon: the control socket's priority requests
/// arrive on the returned receiver.
pub fn register_vrrp() -> mpsc::Receiver<SetPriority> {
    let (tx, rx) = mpsc::channel(8);
    *VRRP.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
    rx
}

/// A real server as `status` shows it besides its health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Placing {
    /// Its weight in the IPVS table the checker wants; None if out of it.
    weight: Option<u32>,
    /// Drained by the control socket.
    drained: bool,
}

/// Real servers by (virtual server, real server) name.
type Weights = BTreeMap<(String, String), Placing>;

static WEIGHTS: Mutex<Weights> = Mutex::new(BTreeMap::new());

/// Called by the checker whenever its table may have changed: the weight
/// each real server has in it, for `status`.
pub fn publish_weights(bridge: &Bridge) {
    let drained = bridge.drained_slots();
    let weights = weights(bridge.plan(), &bridge.desired(), |slot| {
        drained.contains(&slot)
    });
    *WEIGHTS.lock().unwrap_or_else(|e| e.into_inner()) = weights;
}

/// The weight of each real server of `plan` in `table`, and whether it is
/// `drained`.
fn weights(
    plan: &Plan,
    table: &[ipvs::VirtualServer],
    drained: impl Fn((usize, usize)) -> bool,
) -> Weights {
    let in_table: HashMap<(ServiceKey, SocketAddr), u32> = (table.iter())
        .flat_map(|vs| (vs.dests.iter()).map(|d| ((vs.service.key, d.addr), d.weight)))
        .collect();
    let mut out = BTreeMap::new();
    for (s, svc) in plan.services.iter().enumerate() {
        for (r, rs) in svc.real_servers.iter().enumerate() {
            // The destination as the service puts it in the table (its
            // port may be the service's).
            let placed = svc.virtual_servers(std::slice::from_ref(&rs.dest));
            let weight = (placed.first())
                .and_then(|vs| Some((vs.service.key, vs.dests.first()?.addr)))
                .and_then(|key| in_table.get(&key).copied());
            let drained = drained((s, r));
            out.insert(
                (svc.name.clone(), rs.name.clone()),
                Placing { weight, drained },
            );
        }
    }
    out
}

/// Listens on `path` on its own thread; the socket file is removed when
/// the returned guard drops. A stale socket file is replaced; one another
/// live daemon answers on is left alone (`AddrInUse`), and so is any
/// other kind of file (bind fails).
pub fn spawn(path: &Path) -> std::io::Result<SocketFile> {
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(std::io::ErrorKind::AddrInUse.into());
    }
    // Only a stale socket is replaced, never a file given by mistake.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        std::fs::remove_file(path)?;
    }
    let listener = std::os::unix::net::UnixListener::bind(path)?;
    let file = SocketFile(path.to_owned());
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o666))?;
    listener.set_nonblocking(true)?;
    std::thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            let Some(rt) = crate::vrrp_mode::runtime() else {
                return;
            };
            rt.block_on(async move {
                match UnixListener::from_std(listener) {
                    Ok(l) => serve(l).await,
                    Err(e) => warn!("control socket: {e}"),
                }
            });
        })?;
    info!("Control socket on {}", path.display());
    Ok(file)
}

/// The socket file, removed on drop.
#[derive(Debug)]
pub struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// How long a refused caller has to send its request line.
const REFUSAL_READ: std::time::Duration = std::time::Duration::from_secs(5);

async fn serve(listener: UnixListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(session(stream));
            }
            Err(e) => warn!("control socket: {e}"),
        }
    }
}

/// One connection: refused unless root, else one reply per request line.
async fn session(stream: UnixStream) {
    let uid = stream.peer_cred().map(|c| c.uid());
    let (read, mut write) = stream.into_split();
    if !matches!(uid, Ok(0)) {
        let who = uid.map_or_else(|e| e.to_string(), |u| format!("uid {u}"));
        warn!("control socket: refused a connection from {who}");
        let line = error(format!(
            "permission denied: the control socket is for root only (caller {who})"
        ));
        // The request is read (or given up on) first: a refusal sent and
        // closed before the client has written would fail its write with
        // EPIPE instead of showing it this line.
        let mut request = String::new();
        let mut first = BufReader::new(read).take(MAX_LINE);
        let _ = tokio::time::timeout(REFUSAL_READ, first.read_line(&mut request)).await;
        let _ = write.write_all(line.as_bytes()).await;
        return;
    }
    let mut lines = BufReader::new(read);
    loop {
        let mut line = String::new();
        let n = (&mut lines).take(MAX_LINE).read_line(&mut line).await;
        let reply = match n {
            Ok(0) | Err(_) => return,
            Ok(_) if !line.ends_with('\n') && line.len() as u64 >= MAX_LINE => {
                let _ = write.write_all(error("request too long").as_bytes()).await;
                return;
            }
            Ok(_) => answer(line.trim()).await,
        };
        if write.write_all(reply.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// The reply line to one request line.
async fn answer(line: &str) -> String {
    let request: Request = match serde_json::from_str(line) {
        Ok(r) => r,
        Err(e) => return error(format!("bad request: {e}")),
    };
    info!("control socket: {request:?}");
    let result = match request {
        Request::Status => Ok(status().await),
        Request::Priority { instance, priority } => set_priority(instance, priority).await,
        Request::Backup { instance } => set_priority(instance, 1).await,
        Request::Reload => reload(),
        Request::Drain {
            virtual_server,
            real_server,
        } => set_drain(virtual_server, real_server, true).await,
        Request::Restore {
            virtual_server,
            real_server,
        } => set_drain(virtual_server, real_server, false).await,
    };
    match result {
        Ok(mut v) => {
            v["ok"] = Value::Bool(true);
            format!("{v}\n")
        }
        Err(Refusal { message, reason }) => {
            let mut v = json!({"ok": false, "error": message});
            if let Some(reason) = reason {
                v["reason"] = Value::from(reason);
            }
            format!("{v}\n")
        }
    }
}

/// An error reply: its message, and for some a stable `reason` word.
#[derive(Debug)]
struct Refusal {
    message: String,
    reason: Option<&'static str>,
}

impl From<String> for Refusal {
    fn from(message: String) -> Self {
        Self {
            message,
            reason: None,
        }
    }
}

impl From<&str> for Refusal {
    fn from(message: &str) -> Self {
        message.to_owned().into()
    }
}

impl From<NameError> for Refusal {
    fn from(e: NameError) -> Self {
        Self {
            message: e.to_string(),
            reason: Some(e.reason()),
        }
    }
}

fn error(message: impl Into<String>) -> String {
    format!("{}\n", json!({"ok": false, "error": message.into()}))
}

async fn set_drain(
    virtual_server: String,
    real_server: String,
    drain: bool,
) -> Result<Value, Refusal> {
    let tx = CHECKER.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let stopped = || Refusal {
        message: "the checker does not run in this process".into(),
        reason: Some("no_checker"),
    };
    let tx = tx.ok_or_else(stopped)?;
    let (reply, rx) = oneshot::channel();
    let request = SetDrain {
        virtual_server,
        real_server,
        drain,
        reply,
    };
    tx.send(request).await.map_err(|_| stopped())?;
    let done = rx.await.map_err(|_| stopped())??;
    Ok(json!({
        "virtual_server": done.virtual_server,
        "real_server": done.real_server,
        "drained": done.drained,
        "changed": done.changed,
    }))
}

async fn set_priority(instance: String, priority: u8) -> Result<Value, Refusal> {
    if priority == 0 {
        return Err("priority must be 1..=255".into());
    }
    let tx = VRRP.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let tx = tx.ok_or("VRRP does not run in this process")?;
    let (reply, rx) = oneshot::channel();
    let request = SetPriority {
        instance,
        priority,
        reply,
    };
    tx.send(request).await.map_err(|_| "VRRP has stopped")?;
    rx.await
        .map_err(|_| "VRRP has stopped")?
        .map_err(Refusal::from)?;
    Ok(json!({}))
}

fn reload() -> Result<Value, Refusal> {
    nix::sys::signal::kill(nix::unistd::getpid(), nix::sys::signal::Signal::SIGHUP)
        .map_err(|e| format!("cannot signal a reload: {e}"))?;
    Ok(json!({}))
}

/// The `status` reply: instances and real servers.
async fn status() -> Value {
    let set = PRIORITIES.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let instances: Vec<Value> = match crate::observe::vrrp().await {
        Some(v) => v
            .instances
            .iter()
            .map(|i| {
                let spec = &i.view.spec;
                json!({
                    "name": &*spec.config.name,
                    "interface": spec.interface,
                    "vrid": spec.config.vrid,
                    "state": i.run.as_ref().map(|r| r.state.to_string()),
                    "base_priority": set.get(&*spec.config.name).copied().unwrap_or(spec.config.priority),
                    "priority": i.run.as_ref().map(|r| r.priority),
                    "vips": spec.addresses.iter().map(|a| a.addr.to_string()).collect::<Vec<_>>(),
                })
            })
            .collect(),
        None => Vec::new(),
    };
    let weights = WEIGHTS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let real_servers: Vec<Value> = crate::observe::checker()
        .map(|c| c.real_servers)
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let placing = weights.get(&(r.virtual_server.clone(), r.real_server.clone()));
            json!({
                "virtual_server": r.virtual_server,
                "real_server": r.real_server,
                "health": if r.up { "up" } else { "down" },
                "drained": placing.is_some_and(|p| p.drained),
                "weight": placing.and_then(|p| p.weight),
            })
        })
        .collect();
    json!({"instances": instances, "real_servers": real_servers})
}

/// The client: sends `request` to the daemon at `path` and returns its
/// reply line; Err with a message if there is no reply or it is an error.
pub fn call(path: &Path, request: &Request) -> Result<String, String> {
    use std::io::{BufRead, Write};
    let mut stream = std::os::unix::net::UnixStream::connect(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let line = serde_json::to_string(request).map_err(|e| e.to_string())?;
    stream
        .write_all(format!("{line}\n").as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut reply = String::new();
    std::io::BufReader::new(stream)
        .read_line(&mut reply)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let value: Value = serde_json::from_str(&reply).map_err(|e| format!("bad reply: {e}"))?;
    if value["ok"] == Value::Bool(true) {
        Ok(reply.trim_end().to_owned())
    } else {
        Err(value["error"].as_str().unwrap_or("no reply").to_owned())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a test stops at the first unexpected value
mod tests {
    use super::*;

    #[test]
    fn requests_are_tagged_json_lines() {
        let r = Request::Priority {
            instance: "VI_1".into(),
            priority: 50,
        };
        assert_eq!(
            serde_json::to_string(&r).unwrap(),
            r#"{"command":"priority","instance":"VI_1","priority":50}"#
        );
        assert_eq!(
            serde_json::from_str::<Request>(r#"{"command":"status"}"#).unwrap(),
            Request::Status
        );
    }

    #[test]
    fn weights_are_the_table_s_and_none_out_of_it() {
        let conf = "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  lb_kind DR\n\
                    real_server 10.1.0.1 8080 {\n    weight 3\n  }\n\
                    real_server 10.1.0.2 80 {\n  }\n\
                    real_server 10.1.0.3 80 {\n  }\n}\n";
        let parsed = vrrp_conf::parse_str("t.conf", conf, &vrrp_conf::Options::default());
        let plan = crate::lvs_mode::plan::build(&parsed.config).unwrap();
        let svc = &plan.services[0];
        let dest = |i: usize, weight: u32| {
            let mut d = svc.real_servers[i].dest;
            d.weight = weight;
            d
        };
        // DR: the table holds the first one on the service's port.
        let table = svc.virtual_servers(&[dest(0, 3), dest(1, 0)]);
        assert_eq!(table[0].dests[0].addr.port(), 80);
        let w = weights(&plan, &table, |slot| slot == (0, 1));
        let names: Vec<_> = svc.real_servers.iter().map(|r| r.name.clone()).collect();
        let got: Vec<_> = names
            .iter()
            .map(|n| w.get(&(svc.name.clone(), n.clone())).copied())
            .collect();
        let placing = |weight, drained| Some(Placing { weight, drained });
        assert_eq!(
            got,
            [
                placing(Some(3), false),
                placing(Some(0), true),
                placing(None, false)
            ]
        );
    }

    #[test]
    fn a_file_that_is_not_a_socket_is_never_replaced() {
        let path = std::env::temp_dir().join(format!("ctl-not-a-socket-{}", std::process::id()));
        std::fs::write(&path, "keep me").unwrap();
        let e = spawn(&path).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::AddrInUse);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
        std::fs::remove_file(&path).unwrap();
    }

    /// The only test that registers a checker (the channel is global).
    #[tokio::test]
    async fn drain_replies_name_the_servers_or_say_why_not() {
        let drain = r#"{"command":"drain","virtual_server":"10.0.0.1:80","real_server":"x"}"#;
        assert_eq!(
            answer(drain).await,
            "{\"error\":\"the checker does not run in this process\",\"ok\":false,\"reason\":\"no_checker\"}\n"
        );
        let mut rx = register_checker();
        tokio::spawn(async move {
            while let Some(req) = rx.recv().await {
                let done = if req.real_server == "x" {
                    Err(NameError::UnknownRealServer {
                        vs: "[10.0.0.1]:tcp:80".into(),
                        rs: req.real_server,
                    })
                } else {
                    Ok(Drain {
                        virtual_server: "[10.0.0.1]:tcp:80".into(),
                        real_server: "[10.1.0.1]:tcp:80".into(),
                        drained: req.drain,
                        changed: true,
                    })
                };
                let _ = req.reply.send(done);
            }
        });
        assert_eq!(
            answer(drain).await,
            "{\"error\":\"virtual server [10.0.0.1]:tcp:80 has no real server x\",\"ok\":false,\"reason\":\"unknown_real_server\"}\n"
        );
        let restore =
            r#"{"command":"restore","virtual_server":"10.0.0.1:80","real_server":"10.1.0.1"}"#;
        assert_eq!(
            answer(restore).await,
            "{\"changed\":true,\"drained\":false,\"ok\":true,\"real_server\":\"[10.1.0.1]:tcp:80\",\"virtual_server\":\"[10.0.0.1]:tcp:80\"}\n"
        );
    }

    #[test]
    fn drain_is_a_subcommand_with_two_names() {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(subcommand)]
            request: Request,
        }
        let cli =
            <Cli as clap::Parser>::try_parse_from(["c", "drain", "fwmark 5", "10.1.0.1"]).unwrap();
        assert_eq!(
            serde_json::to_string(&cli.request).unwrap(),
            r#"{"command":"drain","virtual_server":"fwmark 5","real_server":"10.1.0.1"}"#
        );
        assert!(<Cli as clap::Parser>::try_parse_from(["c", "restore", "10.0.0.1:80"]).is_err());
    }

    #[tokio::test]
    async fn bad_and_impossible_requests_are_errors() {
        let bad = answer("{\"command\":\"fly\"}").await;
        assert!(
            bad.starts_with(r#"{"error":"bad request: unknown variant `fly`"#),
            "{bad}"
        );
        assert_eq!(
            answer(r#"{"command":"priority","instance":"VI_1","priority":0}"#).await,
            "{\"error\":\"priority must be 1..=255\",\"ok\":false}\n"
        );
    }
}
