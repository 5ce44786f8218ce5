//! The AgentX session: connect to the master agent, open a session,
//! register keepalived's subtrees, answer requests from [`mib::tree`],
//! send traps; on any error, connect again after [`RETRY`] (as net-snmp
//! subagents retry every 15 s).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use thiserror::Error;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tracing::{info, warn};
use vrrp::snmp::{Interface, KernelInterfaces, SNMP_TRAP_OID, VRRPV3_MIB, VRRP_MIB};
use vrrp::State;

use super::checker;
use super::mib::{self, Served};
use super::{Settings, Transition};
use crate::observe::{self, VrrpState};
use agentx::pdu::{self, Header, Oid, Pdu, Value, VarBind};
use agentx::view::{get, get_bulk, get_next};

/// How long to wait before connecting again.
pub const RETRY: Duration = Duration::from_secs(15);

/// How long a built tree answers requests: a walk is one request per
/// object, and rebuilding the whole tree for each would make a walk of
/// many instances quadratic. Values are at most this old.
const TREE_TTL: Duration = Duration::from_secs(1);

/// The largest payload accepted from the master (a GetBulk of many
/// ranges fits well within it).
const MAX_PAYLOAD: u32 = 1 << 20;

/// Where the master agent listens (net-snmp's transport syntax).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// `/PATH` or `unix:/PATH`.
    Unix(PathBuf),
    /// `tcp:HOST:PORT`.
    Tcp(String),
}

/// A transport keepalived-lite cannot use.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("SNMP agent socket {0:?}: only /PATH, unix:/PATH and tcp:HOST:PORT are supported")]
pub struct TransportError(pub String);

impl Transport {
    /// Parses `-A` / `snmp_socket`.
    pub fn parse(s: &str) -> Result<Transport, TransportError> {
        if let Some(p) = s.strip_prefix("unix:") {
            return Ok(Transport::Unix(p.into()));
        }
        if s.starts_with('/') {
            return Ok(Transport::Unix(s.into()));
        }
        match s.strip_prefix("tcp:") {
            Some(a) if a.contains(':') => Ok(Transport::Tcp(a.to_owned())),
            _ => Err(TransportError(s.to_owned())),
        }
    }
}

/// Why a session ended.
#[derive(Debug, Error)]
enum SessionError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Decode(#[from] pdu::DecodeError),
    #[error("the master agent refused {what} (error {code})")]
    Refused { what: &'static str, code: u16 },
    #[error("the master agent closed the session")]
    Closed,
}

trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

async fn connect(t: &Transport) -> std::io::Result<Box<dyn Stream>> {
    Ok(match t {
        Transport::Unix(p) => Box::new(tokio::net::UnixStream::connect(p).await?),
        Transport::Tcp(a) => Box::new(tokio::net::TcpStream::connect(a.as_str()).await?),
    })
}

/// Runs the subagent until the runtime stops.
pub async fn run(settings: Settings, mut traps: mpsc::UnboundedReceiver<Transition>) {
    let mut warned = false;
    loop {
        match connect(&settings.transport).await {
            Ok(s) => {
                warned = false;
                let mut session = Session {
                    stream: s,
                    id: 0,
                    packet: 0,
                    served: &settings.served,
                    cache: None,
                };
                match session.serve(&mut traps).await {
                    Ok(()) => return,
                    Err(e) => warn!("SNMP subagent: {e}; reconnecting"),
                }
            }
            Err(e) => {
                if !warned {
                    warn!("Cannot connect to the SNMP master agent: {e}");
                    warned = true;
                }
            }
        }
        // Transitions while disconnected are not queued for later.
        let sleep = tokio::time::sleep(RETRY);
        tokio::pin!(sleep);
        loop {
            tokio::select! {
                _ = &mut sleep => break,
                t = traps.recv() => if t.is_none() { return },
            }
        }
    }
}

struct Session<'a> {
    stream: Box<dyn Stream>,
    id: u32,
    packet: u32,
    served: &'a Served,
    /// The last tree built, and when.
    cache: Option<(Instant, Arc<BTreeMap<Oid, Value>>)>,
}

impl Session<'_> {
    /// The tree, rebuilt when older than [`TREE_TTL`].
    async fn tree(&mut self) -> Arc<BTreeMap<Oid, Value>> {
        if let Some((at, t)) = &self.cache {
            if at.elapsed() < TREE_TTL {
                return t.clone();
            }
        }
        let t = Arc::new(tree(self.served).await);
        self.cache = Some((Instant::now(), t.clone()));
        t
    }

    fn next_packet(&mut self) -> u32 {
        self.packet = self.packet.wrapping_add(1);
        self.packet
    }

    async fn read(&mut self) -> Result<(Header, Pdu), SessionError> {
        let mut buf = vec![0u8; pdu::HEADER_LEN];
        self.stream.read_exact(&mut buf).await?;
        let h = Header::decode(&buf)?;
        if h.payload_len > MAX_PAYLOAD {
            return Err(SessionError::Decode(pdu::DecodeError::Truncated));
        }
        buf.resize(pdu::HEADER_LEN + h.payload_len as usize, 0);
        self.stream.read_exact(&mut buf[pdu::HEADER_LEN..]).await?;
        Ok(pdu::decode(&buf)?)
    }

    /// Sends `bytes` and waits for the response to it.
    async fn call(&mut self, what: &'static str, bytes: Vec<u8>) -> Result<Header, SessionError> {
        self.stream.write_all(&bytes).await?;
        loop {
            let (h, p) = self.read().await?;
            match p {
                Pdu::Response { error: 0, .. } => return Ok(h),
                Pdu::Response { error, .. } => {
                    return Err(SessionError::Refused { what, code: error })
                }
                Pdu::Close => return Err(SessionError::Closed),
                _ => {}
            }
        }
    }

    /// Opens the session and registers what is served, then answers
    /// requests and sends traps until the trap channel closes (Ok) or
    /// the connection fails.
    async fn serve(
        &mut self,
        traps: &mut mpsc::UnboundedReceiver<Transition>,
    ) -> Result<(), SessionError> {
        let p = self.next_packet();
        let descr = "keepalived-lite";
        let h = self
            .call("Open", pdu::open(p, 0, &mib::KEEPALIVED, descr))
            .await?;
        self.id = h.session_id;
        let mut subtrees: Vec<(Oid, &str)> = Vec::new();
        if self.served.keepalived || self.served.checker {
            subtrees.push((
                mib::oid(&mib::KEEPALIVED, &[1]),
                "The MIB module for Keepalived",
            ));
        }
        if self.served.keepalived {
            subtrees.push((
                mib::oid(&mib::KEEPALIVED, &[2]),
                "The MIB module for KEEPALIVED-VRRP",
            ));
        }
        if self.served.checker {
            subtrees.push((mib::oid(&mib::KEEPALIVED, &[3]), "Healthchecker"));
        }
        if self.served.rfcv2 {
            subtrees.push((VRRP_MIB.to_vec(), "The MIB module for VRRP"));
        }
        if self.served.rfcv3 {
            subtrees.push((VRRPV3_MIB.to_vec(), "The MIB module for VRRPV3"));
        }
        for (tree, descr) in &subtrees {
            let p = self.next_packet();
            self.call("Register", pdu::register(self.id, p, tree))
                .await?;
            let p = self.next_packet();
            self.call("AddAgentCaps", pdu::add_agent_caps(self.id, p, tree, descr))
                .await?;
        }
        info!("AgentX subagent connected");
        loop {
            tokio::select! {
                r = self.read() => {
                    let (h, p) = r?;
                    self.answer(h, p).await?;
                }
                t = traps.recv() => match t {
                    Some(t) => self.trap(t).await?,
                    None => {
                        let p = self.next_packet();
                        let _ = self.stream.write_all(&pdu::close(self.id, p)).await;
                        return Ok(());
                    }
                },
            }
        }
    }

    async fn answer(&mut self, h: Header, p: Pdu) -> Result<(), SessionError> {
        let reply = match p {
            Pdu::Get(ranges) => {
                let t = self.tree().await;
                pdu::response(&h, pdu::error::NONE, 0, &get(&t, &ranges))
            }
            Pdu::GetNext(ranges) => {
                let t = self.tree().await;
                pdu::response(&h, pdu::error::NONE, 0, &get_next(&t, &ranges))
            }
            Pdu::GetBulk {
                non_repeaters,
                max_repetitions,
                ranges,
            } => {
                let t = self.tree().await;
                let vbs = get_bulk(&t, usize::from(non_repeaters), max_repetitions, &ranges);
                pdu::response(&h, pdu::error::NONE, 0, &vbs)
            }
            Pdu::TestSet => pdu::response(&h, pdu::error::NOT_WRITABLE, 1, &[]),
            Pdu::SetPhase => pdu::response(&h, pdu::error::NONE, 0, &[]),
            Pdu::Close => return Err(SessionError::Closed),
            Pdu::Response { .. } | Pdu::Other(_) => return Ok(()),
        };
        self.stream.write_all(&reply).await?;
        Ok(())
    }

    async fn trap(&mut self, t: Transition) -> Result<(), SessionError> {
        if let Transition::Flush(done) = t {
            let _ = done.send(());
            return Ok(());
        }
        if !self.served.traps {
            return Ok(());
        }
        if let Transition::Checker(vbs) = &t {
            if self.served.checker {
                let p = self.next_packet();
                self.stream.write_all(&pdu::notify(self.id, p, vbs)).await?;
            }
            return Ok(());
        }
        let Some(state) = observe::vrrp().await else {
            return Ok(());
        };
        let traps = trap_varbinds(self.served, &state, &super::published(), &t, &interfaces());
        for vbs in traps {
            let p = self.next_packet();
            self.stream
                .write_all(&pdu::notify(self.id, p, &vbs))
                .await?;
        }
        Ok(())
    }
}

/// Every object served now.
async fn tree(served: &Served) -> BTreeMap<Oid, Value> {
    let mut t = match observe::vrrp().await {
        Some(state) => mib::tree(served, &state, &super::published(), &interfaces()),
        None => BTreeMap::new(),
    };
    if served.checker {
        if let Some(live) = super::checker_live() {
            mib::globals(&mut t, served);
            let kernel = checker::KernelCounters::read();
            checker::tree(&mut t, &live, &kernel);
        }
    }
    t
}

/// Reads interfaces from the kernel (ifIndex, MAC, first IPv4 address),
/// each once per tree.
fn interfaces() -> impl Fn(&str) -> Option<Interface> {
    let kernel = KernelInterfaces::new();
    move |name: &str| kernel.get(name)
}

fn text(s: &str) -> Value {
    Value::OctetString(s.as_bytes().to_vec())
}

/// The traps keepalived sends for `t`, each as its varbinds after
/// sysUpTime.0 (which the master adds): snmpTrapOID.0, then the objects.
/// keepalived names the instance and group objects without an index.
pub fn trap_varbinds(
    served: &Served,
    state: &VrrpState,
    published: &mib::Published,
    t: &Transition,
    iface: &impl Fn(&str) -> Option<Interface>,
) -> Vec<Vec<VarBind>> {
    let vb = |name: Oid, value: Value| VarBind { name, value };
    let trap_oid = |o: Oid| vb(SNMP_TRAP_OID.to_vec(), Value::Oid(o));
    let router_id = vb(
        mib::oid(&mib::KEEPALIVED, &[1, 2, 0]),
        text(&served.router_id),
    );
    let mut out = Vec::new();
    match t {
        Transition::Group { name, state: st } => {
            if served.keepalived {
                out.push(vec![
                    trap_oid(mib::trap_group_state()),
                    vb(mib::oid(&mib::KEEPALIVED, &[2, 1, 1, 2]), text(name)),
                    vb(
                        mib::oid(&mib::KEEPALIVED, &[2, 1, 1, 3]),
                        Value::Integer(mib::state_number(*st)),
                    ),
                    router_id,
                ]);
            }
        }
        Transition::Instance { name, state: st } => {
            let Some(i) = (state.instances.iter()).find(|i| &*i.view.spec.config.name == name)
            else {
                return out;
            };
            let c = &i.view.spec.config;
            if served.keepalived {
                let initial = if c.initial_master {
                    State::Master
                } else {
                    State::Backup
                };
                out.push(vec![
                    trap_oid(mib::trap_instance_state()),
                    vb(mib::oid(&mib::KEEPALIVED, &[2, 3, 1, 2]), text(name)),
                    vb(
                        mib::oid(&mib::KEEPALIVED, &[2, 3, 1, 4]),
                        Value::Integer(mib::state_number(*st)),
                    ),
                    vb(
                        mib::oid(&mib::KEEPALIVED, &[2, 3, 1, 5]),
                        Value::Integer(mib::state_number(initial)),
                    ),
                    router_id,
                ]);
            }
            if *st == State::Master {
                let host = mib::host(published, iface);
                let router = mib::router(i, published);
                out.extend(vrrp::snmp::new_master(&served.mibs(), &router, &host));
            }
        }
        Transition::Checker(_) | Transition::Flush(_) => {}
        Transition::Rejected { name, from, error } => {
            let Some(i) = (state.instances.iter()).find(|i| &*i.view.spec.config.name == name)
            else {
                return out;
            };
            let (host, router) = (mib::host(published, iface), mib::router(i, published));
            out.extend(vrrp::snmp::rejected(
                &served.mibs(),
                &router,
                *from,
                *error,
                &host,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn transports_as_net_snmp_writes_them() {
        assert_eq!(
            Transport::parse("/var/agentx/master"),
            Ok(Transport::Unix("/var/agentx/master".into()))
        );
        assert_eq!(
            Transport::parse("unix:/tmp/x"),
            Ok(Transport::Unix("/tmp/x".into()))
        );
        assert_eq!(
            Transport::parse("tcp:localhost:705"),
            Ok(Transport::Tcp("localhost:705".into()))
        );
        assert!(Transport::parse("udp:1.2.3.4:705").is_err());
    }
}
