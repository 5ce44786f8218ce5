//! A deterministic simulated LAN of virtual routers (feature `sim`).
//!
//! Each node is a [`Mux`] of routers; every interface index is one shared
//! segment. Multicast adverts reach every other node on it; unicast adverts
//! (routers with `unicast_peers`) reach only the node that has the
//! destination address, that is a router on that interface whose
//! `primary_ip` or `unicast_src_ip` it is. A virtual clock jumps to the next timer or delivery,
//! so a minute of protocol runs in microseconds and every run with the same
//! seed is identical. Per-link latency and jitter, loss, duplicate delivery
//! and partitions are configurable; random choices come from a ChaCha RNG
//! seeded by [`Sim::new`] or [`Sim::from_env`] (`VRRP_SIM_SEED`). If a test
//! panics while a `Sim` is alive, its drop prints the seed.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use std::time::Duration;
//! use vrrp::{sim::Sim, Config, State};
//!
//! let mut sim = Sim::new(1);
//! let a = sim.add_router(Config::new("a", 7, 200, Ipv4Addr::new(10, 0, 0, 1)));
//! let b = sim.add_router(Config::new("b", 7, 100, Ipv4Addr::new(10, 0, 0, 2)));
//! sim.start_all();
//! sim.run_for(Duration::from_secs(10));
//! assert_eq!(sim.state(a, 7), State::Master);
//! assert_eq!(sim.state(b, 7), State::Backup);
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::config::Config;
use crate::event::{Event, Reason, State};
use crate::mux::{Mux, MuxEvent, RouterId};
use crate::router::{Tracking, VirtualRouter};
use crate::wire;

/// The environment variable that overrides a test's seed.
pub const SEED_ENV: &str = "VRRP_SIM_SEED";

/// Index of a node (a host) in the simulation.
pub type NodeId = usize;

/// One recorded state change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Transition {
    /// Virtual time since the simulation began.
    pub at: Duration,
    /// The node.
    pub node: NodeId,
    /// The router's interface.
    pub ifindex: u32,
    /// The router's VRID.
    pub vrid: u8,
    /// Previous state.
    pub from: State,
    /// New state.
    pub to: State,
    /// Why.
    pub reason: Reason,
}

/// One recorded event of any kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Virtual time since the simulation began.
    pub at: Duration,
    /// The node.
    pub node: NodeId,
    /// The event.
    pub event: MuxEvent,
}

/// A datagram put on the wire, kept for replay tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Virtual send time.
    pub at: Duration,
    /// Sender.
    pub node: NodeId,
    /// Interface (segment).
    pub ifindex: u32,
    /// Source address.
    pub src: IpAddr,
    /// Destination: 224.0.0.18 (ff02::12) or a unicast peer.
    pub dst: IpAddr,
    /// The whole IPv4 datagram, or the VRRP message of an IPv6 router.
    pub bytes: Vec<u8>,
}

impl Sent {
    /// The priority the advert carries (`None` if the bytes are not a
    /// VRRP datagram, bare or under AH).
    pub fn priority(&self) -> Option<u8> {
        if self.src.is_ipv6() {
            return Some(
                wire::vrrp::Packet::new_checked(&self.bytes[..])
                    .ok()?
                    .priority(),
            );
        }
        let ip = wire::ipv4::Packet::new_checked(&self.bytes[..]).ok()?;
        let priority = |vrrp: &[u8]| Some(wire::vrrp::Packet::new_checked(vrrp).ok()?.priority());
        match ip.protocol() {
            wire::IPPROTO_VRRP => priority(ip.payload()),
            wire::IPPROTO_AH => {
                priority(wire::ah::Packet::new_checked(ip.payload()).ok()?.payload())
            }
            _ => None,
        }
    }
}

/// A delivery the network lost (recorded with [`Sim::record_sent`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lost {
    /// Virtual send time.
    pub at: Duration,
    /// Sender.
    pub from: NodeId,
    /// The node that did not get it.
    pub to: NodeId,
}

/// Network conditions applied to every delivery.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NetConfig {
    /// Base one-way latency.
    pub latency: Duration,
    /// Extra latency drawn uniformly from `0..=jitter`.
    pub jitter: Duration,
    /// Probability that a delivery is lost (clamped to 0..=1; NaN is 0).
    pub loss: f64,
    /// Probability that a delivery arrives twice (clamped to 0..=1; NaN
    /// is 0).
    pub duplicate: f64,
}

impl Default for NetConfig {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            jitter: Duration::ZERO,
            loss: 0.0,
            duplicate: 0.0,
        }
    }
}

struct Node {
    mux: Mux,
    alive: bool,
    down: Vec<u32>,
    segment: u32,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Flight {
    at: Instant,
    seq: u64,
    to: NodeId,
    ifindex: u32,
    src: IpAddr,
    dst: IpAddr,
    bytes: Vec<u8>,
}

/// The simulated LAN.
pub struct Sim {
    seed: u64,
    rng: ChaCha8Rng,
    epoch: Instant,
    now: Instant,
    nodes: Vec<Node>,
    flights: BinaryHeap<Reverse<Flight>>,
    seq: u64,
    net: NetConfig,
    link_latency: HashMap<(NodeId, NodeId), Duration>,
    link_loss: HashMap<(NodeId, NodeId), f64>,
    records: Vec<Record>,
    /// (interface, VRID) of every router that recorded an event, so that
    /// removed routers keep their history.
    keys: HashMap<(NodeId, RouterId), (u32, u8)>,
    sent: Vec<Sent>,
    lost: Vec<Lost>,
    record_sent: bool,
    buf: Vec<u8>,
}

impl Sim {
    /// An empty LAN with this seed.
    pub fn new(seed: u64) -> Self {
        // The only clock read: an origin for virtual time.
        let epoch = Instant::now();
        Self {
            seed,
            rng: ChaCha8Rng::seed_from_u64(seed),
            epoch,
            now: epoch,
            nodes: Vec::new(),
            flights: BinaryHeap::new(),
            seq: 0,
            net: NetConfig::default(),
            link_latency: HashMap::new(),
            link_loss: HashMap::new(),
            records: Vec::new(),
            keys: HashMap::new(),
            sent: Vec::new(),
            lost: Vec::new(),
            record_sent: true,
            buf: vec![0; wire::MAX_DATAGRAM_LEN],
        }
    }

    /// The seed from `VRRP_SIM_SEED` if set (decimal), else `default`.
    pub fn seed_from_env(default: u64) -> u64 {
        std::env::var(SEED_ENV)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(default)
    }

    /// [`Sim::new`] with [`Sim::seed_from_env`].
    pub fn from_env(default: u64) -> Self {
        Self::new(Self::seed_from_env(default))
    }

    /// The seed of this run.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The simulation's RNG, for tests that draw their own scenario.
    pub fn rng(&mut self) -> &mut ChaCha8Rng {
        &mut self.rng
    }

    /// Virtual time since the start.
    pub fn elapsed(&self) -> Duration {
        self.now - self.epoch
    }

    /// The current virtual instant.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// Sets the network conditions.
    pub fn set_net(&mut self, net: NetConfig) {
        self.net = net;
    }

    /// The network conditions.
    pub fn net(&self) -> NetConfig {
        self.net
    }

    /// Overrides the base latency between two nodes (both directions).
    pub fn set_link_latency(&mut self, a: NodeId, b: NodeId, latency: Duration) {
        self.link_latency.insert((a, b), latency);
        self.link_latency.insert((b, a), latency);
    }

    /// Overrides the loss probability from `from` to `to` (one direction,
    /// so asymmetric links can be modelled).
    pub fn set_link_loss(&mut self, from: NodeId, to: NodeId, loss: f64) {
        self.link_loss.insert((from, to), loss);
    }

    /// Whether sent datagrams and lost deliveries are recorded (default on;
    /// off saves memory in long runs).
    pub fn record_sent(&mut self, on: bool) {
        self.record_sent = on;
    }

    /// Adds a node holding `mux`.
    pub fn add_node(&mut self, mux: Mux) -> NodeId {
        self.nodes.push(Node {
            mux,
            alive: true,
            down: Vec::new(),
            segment: 0,
        });
        self.nodes.len() - 1
    }

    /// Adds a node with one router on interface 1.
    ///
    /// # Panics
    /// If the configuration is invalid (a test bug).
    pub fn add_router(&mut self, cfg: Config) -> NodeId {
        let mut mux = Mux::new();
        let router = VirtualRouter::new(cfg).expect("valid router configuration");
        mux.add_router(1, router).expect("one router per node");
        self.add_node(mux)
    }

    /// The mux of a node.
    pub fn mux(&self, node: NodeId) -> &Mux {
        &self.nodes[node].mux
    }

    /// Runs `f` on the mux of `node` at the current virtual instant (a
    /// reload: [`Mux::reconcile`], [`Mux::remove_router`], ...), then sends
    /// and records what it led to.
    pub fn with_mux<R>(&mut self, node: NodeId, f: impl FnOnce(&mut Mux, Instant) -> R) -> R {
        let now = self.now;
        let out = f(&mut self.nodes[node].mux, now);
        self.drain(node);
        out
    }

    /// The router with `vrid` on interface 1 of `node`.
    ///
    /// # Panics
    /// If there is none (a test bug).
    pub fn router(&self, node: NodeId, vrid: u8) -> &VirtualRouter {
        self.router_on(node, 1, vrid)
    }

    /// The router with `vrid` on `ifindex` of `node`.
    ///
    /// # Panics
    /// If there is none (a test bug).
    pub fn router_on(&self, node: NodeId, ifindex: u32, vrid: u8) -> &VirtualRouter {
        let mux = &self.nodes[node].mux;
        let id = mux.find(ifindex, vrid).expect("router exists");
        mux.router(id).expect("router exists")
    }

    /// State of the router with `vrid` on interface 1 of `node`.
    pub fn state(&self, node: NodeId, vrid: u8) -> State {
        self.router(node, vrid).state()
    }

    /// Live nodes whose router `vrid` on `ifindex` is MASTER.
    pub fn masters_on(&self, ifindex: u32, vrid: u8) -> Vec<NodeId> {
        (0..self.nodes.len())
            .filter(|&n| {
                if !self.nodes[n].alive {
                    return false;
                }
                let mux = &self.nodes[n].mux;
                mux.find(ifindex, vrid)
                    .and_then(|id| mux.router(id))
                    .is_some_and(|r| r.state() == State::Master)
            })
            .collect()
    }

    /// Live nodes whose router `vrid` on interface 1 is MASTER.
    pub fn masters(&self, vrid: u8) -> Vec<NodeId> {
        self.masters_on(1, vrid)
    }

    /// Every event so far.
    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// Every state change so far.
    pub fn transitions(&self) -> Vec<Transition> {
        self.records
            .iter()
            .filter_map(|r| match &r.event {
                MuxEvent::Router(id, Event::StateChanged { from, to, reason }) => {
                    let (ifindex, vrid) = *self.keys.get(&(r.node, *id))?;
                    Some(Transition {
                        at: r.at,
                        node: r.node,
                        ifindex,
                        vrid,
                        from: *from,
                        to: *to,
                        reason: *reason,
                    })
                }
                _ => None,
            })
            .collect()
    }

    /// Every datagram sent so far (if recording).
    pub fn sent(&self) -> &[Sent] {
        &self.sent
    }

    /// Every delivery lost to [`NetConfig::loss`] or a link's loss so far
    /// (if recording), in send order.
    pub fn lost(&self) -> &[Lost] {
        &self.lost
    }

    /// Starts every router of every live node.
    pub fn start_all(&mut self) {
        for n in 0..self.nodes.len() {
            self.start(n);
        }
    }

    /// Starts the routers of `node` (reviving it if it crashed).
    pub fn start(&mut self, node: NodeId) {
        self.nodes[node].alive = true;
        let now = self.now;
        self.nodes[node].mux.handle_startup(now);
        self.drain(node);
    }

    /// Graceful stop of `node`: masters send priority 0.
    pub fn shutdown(&mut self, node: NodeId) {
        let now = self.now;
        self.nodes[node].mux.handle_shutdown(now);
        self.drain(node);
    }

    /// Crash: the node stops at once, silently; in-flight datagrams to it
    /// are lost. [`Sim::restart`] brings it back.
    pub fn crash(&mut self, node: NodeId) {
        self.nodes[node].alive = false;
    }

    /// A crashed node boots again: its routers restart from INIT (their
    /// state is reset without sending anything).
    pub fn restart(&mut self, node: NodeId) {
        let now = self.now;
        let n = &mut self.nodes[node];
        n.mux.handle_shutdown(now);
        // Whatever the old incarnation wanted to send is lost with it.
        while n.mux.poll_transmit(now, &mut self.buf).is_some() {}
        while n.mux.poll_event().is_some() {}
        self.start(node);
    }

    /// Takes interface `ifindex` of `node` down or up: its routers see it,
    /// and nothing is sent or received on it while down.
    pub fn set_interface(&mut self, node: NodeId, ifindex: u32, up: bool) {
        let n = &mut self.nodes[node];
        n.down.retain(|i| *i != ifindex);
        if !up {
            n.down.push(ifindex);
        }
        let now = self.now;
        n.mux.handle_interface(now, ifindex, up);
        self.drain(node);
    }

    /// New tracking state for router `vrid` on interface 1 of `node`.
    pub fn set_tracking(&mut self, node: NodeId, vrid: u8, tracking: Tracking) {
        let now = self.now;
        let mux = &mut self.nodes[node].mux;
        if let Some(id) = mux.find(1, vrid) {
            mux.handle_tracking(now, id, tracking);
        }
        self.drain(node);
    }

    /// Splits the LAN: nodes in the same slice reach each other; nodes in
    /// no slice are isolated.
    pub fn partition(&mut self, groups: &[&[NodeId]]) {
        for (n, node) in self.nodes.iter_mut().enumerate() {
            node.segment = groups
                .iter()
                .position(|g| g.contains(&n))
                .map_or(u32::MAX - n as u32, |p| p as u32);
        }
    }

    /// Reconnects every node.
    pub fn heal(&mut self) {
        for node in &mut self.nodes {
            node.segment = 0;
        }
    }

    /// Delivers `bytes` to `node` on `ifindex` now, as if from `src` to
    /// the VRRP multicast group of its family (an IPv4 datagram, or the
    /// VRRP message of an IPv6 advert).
    pub fn inject(
        &mut self,
        node: NodeId,
        ifindex: u32,
        src: impl Into<IpAddr>,
        bytes: &[u8],
    ) -> Option<RouterId> {
        let src = src.into();
        let dst = match src {
            IpAddr::V4(_) => IpAddr::V4(wire::VRRP_MCAST_V4),
            IpAddr::V6(_) => IpAddr::V6(wire::VRRP_MCAST_V6),
        };
        let f = Flight {
            at: self.now,
            seq: 0,
            to: node,
            ifindex,
            src,
            dst,
            bytes: bytes.to_vec(),
        };
        let id = deliver_to(&mut self.nodes[node].mux, self.now, &f);
        self.drain(node);
        id
    }

    /// Runs until `elapsed() == t` (processing everything due at `t`).
    pub fn run_until(&mut self, t: Duration) {
        let limit = self.epoch + t;
        while self.step(limit) {}
        self.now = self.now.max(limit);
    }

    /// Runs for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let t = self.elapsed() + d;
        self.run_until(t);
    }

    /// Processes the next delivery or timer due at or before `limit`;
    /// returns false if there is none. Deliveries go before timers due at
    /// the same instant.
    fn step(&mut self, limit: Instant) -> bool {
        let flight_at = self.flights.peek().map(|Reverse(f)| f.at);
        let mut timer: Option<(Instant, NodeId)> = None;
        for (n, node) in self.nodes.iter_mut().enumerate() {
            if !node.alive {
                continue;
            }
            if let Some(at) = node.mux.poll_timeout() {
                if timer.is_none_or(|(t, _)| at < t) {
                    timer = Some((at, n));
                }
            }
        }
        let deliver = match (flight_at, timer) {
            (Some(f), Some((t, _))) => f <= t,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => return false,
        };
        if deliver {
            let Some(Reverse(f)) = self.flights.pop() else {
                return false;
            };
            if f.at > limit {
                self.flights.push(Reverse(f));
                return false;
            }
            self.now = self.now.max(f.at);
            let node = &mut self.nodes[f.to];
            if node.alive && !node.down.contains(&f.ifindex) {
                let _ = deliver_to(&mut node.mux, self.now, &f);
                self.drain(f.to);
            }
        } else if let Some((at, n)) = timer {
            if at > limit {
                return false;
            }
            self.now = self.now.max(at);
            let now = self.now;
            self.nodes[n].mux.handle_timeout(now);
            self.drain(n);
        }
        true
    }

    /// Sends what `node` wants to send and records its events.
    fn drain(&mut self, node: NodeId) {
        let now = self.now;
        let at = self.elapsed();
        loop {
            let n = &mut self.nodes[node];
            let Some((id, ifindex, t)) = n.mux.poll_transmit(now, &mut self.buf) else {
                break;
            };
            let src = n
                .mux
                .router(id)
                .map_or(Ipv4Addr::UNSPECIFIED.into(), |r| r.config().source());
            if !n.alive || n.down.contains(&ifindex) {
                continue;
            }
            let bytes = self.buf[..t.len].to_vec();
            let dst = t.destination;
            self.broadcast(node, ifindex, src, dst, &bytes);
            if self.record_sent {
                self.sent.push(Sent {
                    at,
                    node,
                    ifindex,
                    src,
                    dst,
                    bytes,
                });
            }
        }
        while let Some(event) = self.nodes[node].mux.poll_event() {
            if let MuxEvent::Router(id, _) = event {
                let mux = &self.nodes[node].mux;
                let key = mux.router(id).map(|r| r.config().vrid).zip(mux.ifindex(id));
                if let Some((vrid, ifindex)) = key {
                    self.keys.insert((node, id), (ifindex, vrid));
                }
            }
            self.records.push(Record { at, node, event });
        }
    }

    /// True if a router of `node` on `ifindex` has address `ip`.
    fn has_address(&self, node: NodeId, ifindex: u32, ip: IpAddr) -> bool {
        let mux = &self.nodes[node].mux;
        mux.ids().any(|id| {
            mux.ifindex(id) == Some(ifindex)
                && mux.router(id).is_some_and(|r| {
                    let c = r.config();
                    c.source() == ip
                        || c.primary_ip == ip
                        || c.unicast_src_ip.map(IpAddr::V4) == Some(ip)
                })
        })
    }

    /// Puts copies in flight to every node on the segment (multicast `dst`)
    /// or to the node that has `dst` (unicast).
    fn broadcast(&mut self, from: NodeId, ifindex: u32, src: IpAddr, dst: IpAddr, bytes: &[u8]) {
        let segment = self.nodes[from].segment;
        for to in 0..self.nodes.len() {
            let node = &self.nodes[to];
            if to == from || node.segment != segment || !node.alive {
                continue;
            }
            if !dst.is_multicast() && !self.has_address(to, ifindex, dst) {
                continue;
            }
            let loss = self
                .link_loss
                .get(&(from, to))
                .copied()
                .unwrap_or(self.net.loss);
            let copies = if self.rng.gen_bool(probability(loss)) {
                if self.record_sent {
                    let at = self.now - self.epoch;
                    self.lost.push(Lost { at, from, to });
                }
                0
            } else if self.rng.gen_bool(probability(self.net.duplicate)) {
                2
            } else {
                1
            };
            for _ in 0..copies {
                let base = self
                    .link_latency
                    .get(&(from, to))
                    .copied()
                    .unwrap_or(self.net.latency);
                let jitter = if self.net.jitter.is_zero() {
                    Duration::ZERO
                } else {
                    self.rng.gen_range(Duration::ZERO..=self.net.jitter)
                };
                self.seq += 1;
                self.flights.push(Reverse(Flight {
                    at: self.now + base + jitter,
                    seq: self.seq,
                    to,
                    ifindex,
                    src,
                    dst,
                    bytes: bytes.to_vec(),
                }));
            }
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "vrrp sim: failed with seed {seed}; rerun with {SEED_ENV}={seed}",
                seed = self.seed
            );
        }
    }
}

/// `p` as a probability `gen_bool` accepts: clamped to 0..=1, NaN as 0
/// (`f64::clamp` keeps NaN, which `gen_bool` rejects with a panic).
fn probability(p: f64) -> f64 {
    if p.is_nan() {
        0.0
    } else {
        p.clamp(0.0, 1.0)
    }
}

/// Hands a flight to the mux of its family: an IPv4 datagram, or an IPv6
/// VRRP message with the hop limit of a multicast advert on one link.
fn deliver_to(mux: &mut Mux, now: Instant, f: &Flight) -> Option<RouterId> {
    match (f.src, f.dst) {
        (IpAddr::V4(src), _) => mux.handle_datagram(now, f.ifindex, src, &f.bytes),
        (IpAddr::V6(src), IpAddr::V6(dst)) => {
            let meta = wire::Ipv6Meta {
                src,
                dst,
                hop_limit: wire::VRRP_TTL,
            };
            mux.handle_datagram_v6(now, f.ifindex, &meta, &f.bytes)
        }
        (IpAddr::V6(_), IpAddr::V4(_)) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_out_of_range_are_clamped_and_nan_is_zero() {
        assert_eq!(probability(f64::NAN), 0.0);
        assert_eq!(probability(-1.0), 0.0);
        assert_eq!(probability(2.0), 1.0);
        assert_eq!(probability(0.25), 0.25);
        // A NaN loss used to panic in the first delivery.
        let mut sim = Sim::new(1);
        sim.set_net(NetConfig {
            loss: f64::NAN,
            duplicate: f64::NAN,
            ..NetConfig::default()
        });
        let mut cfg = |prio, last| {
            let mut c = Config::new("vi", 1, prio, Ipv4Addr::new(10, 0, 0, last));
            c.virtual_addresses = vec![Ipv4Addr::new(10, 0, 0, 100)];
            sim.add_router(c)
        };
        let high = cfg(200, 1);
        let _low = cfg(100, 2);
        sim.start_all();
        sim.run_until(Duration::from_secs(10));
        assert_eq!(sim.masters(1), [high]);
    }
}
