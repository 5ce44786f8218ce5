//! A tokio driver (feature `tokio`) that runs many virtual routers of a
//! [`Mux`] on the Linux adapters.
//!
//! One task owns the [`Mux`], the rtnetlink request socket and the raw
//! sockets, which it reads itself as soon as they are readable (no hop
//! through another task on the latency path; a flood fills the kernel's
//! socket buffer, not our memory). A small task forwards the
//! [`NetWatcher`]'s link and address changes on a bounded channel, which
//! also carries the embedder's commands. After every input the task
//! drains the mux in its documented order: transmits, then events (which
//! install or remove addresses and routes and send gratuitous ARPs), then
//! re-arms the timer. Timers are checked before inputs, so a flood of bad
//! datagrams cannot delay an advert. The timer is a `timerfd` (nanosecond
//! resolution) rather than tokio's millisecond timer wheel: a takeover is
//! due exactly Skew_Time after a priority-0 advert, not up to a
//! millisecond later.
//!
//! Events go to the embedder on a bounded channel with `try_send`: a slow
//! embedder loses events (counted in [`DriverCounters::events_lost`]), it
//! never stalls the protocol.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::net::Ipv4Addr;
//! use vrrp::linux::driver::{Driver, DriverEvent, RouterSpec, Setup, VirtualAddress};
//!
//! // One router on eth0; its advert source is eth0's first address.
//! let router = RouterSpec {
//!     config: vrrp::Config::new("VI_1", 51, 150, Ipv4Addr::UNSPECIFIED),
//!     interface: "eth0".into(),
//!     addresses: vec![VirtualAddress::host(Ipv4Addr::new(192, 0, 2, 100))],
//!     routes: Vec::new(),
//!     use_vmac: false,
//! };
//! let setup = Setup { routers: vec![router], ..Setup::default() };
//! let (driver, handle, mut events) = Driver::new(setup)?;
//! let running = tokio::spawn(driver.run());
//! while let Some(event) = events.recv().await {
//!     if let DriverEvent::Router { name, event, .. } = event {
//!         println!("({name}) {event:?}");
//!     }
//! #   break;
//! }
//! handle.shutdown().await; // priority-0 advert, addresses removed
//! let counters = running.await?;
//! println!("{} adverts sent", counters.datagrams_sent);
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Instant;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use super::{
    vmac_address, AddressSpec, GarpSocket, IpProto, Link, LinuxError, NetEvent, NetWatcher,
    Netlink, RawSocket, RawSocketConfig, RouteSpec, Scope,
};
use crate::auth::AuthConfig;
use crate::config::{Config, ConfigError};
use crate::event::{Counters, Event, Notify, State};
use crate::mux::{GroupId, Mux, MuxCounters, MuxError, MuxEvent, RouterId};
use crate::router::{Tracking, VirtualRouter};

/// At most one [`Event::Dropped`] per router per this period reaches the
/// embedder, so a flood of bad datagrams costs it nothing.
pub const DROP_EVENT_PERIOD: std::time::Duration = std::time::Duration::from_secs(1);
/// Capacity of the input channel (datagrams, link events, commands).
const INPUT_CAPACITY: usize = 1024;
/// Capacity of the event channel to the embedder.
const EVENT_CAPACITY: usize = 1024;
/// errno values that mean "already done" for idempotent netlink requests.
const EEXIST: i32 = 17;
const ESRCH: i32 = 3;
const EADDRNOTAVAIL: i32 = 99;

/// A virtual address with keepalived's `virtual_ipaddress` options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualAddress {
    /// The address.
    pub addr: Ipv4Addr,
    /// Prefix length (keepalived's default 32).
    pub prefix_len: u8,
    /// `brd`.
    pub broadcast: Option<Ipv4Addr>,
    /// `label`.
    pub label: Option<String>,
    /// `scope`.
    pub scope: Scope,
    /// `dev`: the interface to put it on; the router's (or its VMAC) when `None`.
    pub dev: Option<String>,
}

impl VirtualAddress {
    /// A /32 global address on the router's interface.
    pub fn host(addr: Ipv4Addr) -> Self {
        VirtualAddress {
            addr,
            prefix_len: 32,
            broadcast: None,
            label: None,
            scope: Scope::Global,
            dev: None,
        }
    }
}

/// A `virtual_routes` entry: installed while master.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualRoute {
    /// The route; its `oif` is filled from `dev`.
    pub route: RouteSpec,
    /// `dev`: output interface name, if any.
    pub dev: Option<String>,
}

/// One virtual router for the driver: the state machine's configuration
/// plus what only the host knows.
#[derive(Debug, Clone)]
pub struct RouterSpec {
    /// The state machine's configuration. Its `virtual_addresses` are
    /// replaced by the addresses of [`addresses`](Self::addresses); an
    /// unspecified `primary_ip` is replaced by the interface's first IPv4
    /// address.
    pub config: Config,
    /// The interface VRRP runs on (keepalived's `interface`).
    pub interface: String,
    /// The virtual addresses with their options.
    pub addresses: Vec<VirtualAddress>,
    /// `virtual_routes`.
    pub routes: Vec<VirtualRoute>,
    /// `use_vmac`: send from a macvlan `vrrp.VRID` with MAC 00-00-5E-00-01-VRID,
    /// which also carries the virtual addresses.
    pub use_vmac: bool,
}

/// A `vrrp_sync_group`: indices into [`Setup::routers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncGroupSpec {
    /// Group name.
    pub name: String,
    /// Members, as indices into [`Setup::routers`].
    pub members: Vec<usize>,
}

/// Everything a [`Driver`] runs.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    /// The virtual routers; [`RouterId`]s are their indices.
    pub routers: Vec<RouterSpec>,
    /// Sync groups.
    pub sync_groups: Vec<SyncGroupSpec>,
    /// More interfaces whose state to report as [`DriverEvent::Interface`]
    /// (e.g. keepalived's `track_interface`); the routers' own interfaces
    /// are always reported.
    pub watch_interfaces: Vec<String>,
}

/// Why the driver could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// An adapter failed.
    #[error(transparent)]
    Linux(#[from] LinuxError),
    /// A router's configuration was refused.
    #[error("vrrp_instance {name}: {source}")]
    Config {
        /// Instance name.
        name: String,
        /// Why.
        #[source]
        source: ConfigError,
    },
    /// Routers or groups clash (same VRID on one interface, ...).
    #[error(transparent)]
    Mux(#[from] MuxError),
    /// The interface has no IPv4 address to send adverts from.
    #[error("interface {0} has no IPv4 address to use as advert source")]
    NoPrimaryAddress(String),
    /// A sync group names a router index that does not exist.
    #[error("sync group {0} has a member index out of range")]
    BadSyncGroup(String),
    /// Not called inside a tokio runtime with I/O enabled.
    #[error("the driver needs a tokio runtime with I/O enabled: {0}")]
    Runtime(String),
}

/// What the driver tells the embedder.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DriverEvent {
    /// An event of one router (state changes, drops, notifications).
    Router {
        /// The router.
        id: RouterId,
        /// Its instance name.
        name: Arc<str>,
        /// The event; address and GARP events were already acted upon.
        event: Event,
    },
    /// A sync group reached a common state.
    Group(GroupId, Notify),
    /// A virtual address of a master was deleted by someone else and put back.
    AddressRestored {
        /// The router owning it.
        id: RouterId,
        /// The address.
        addr: Ipv4Addr,
    },
    /// The state of an interface the routers use or that is watched: once
    /// for each at start, then on every change.
    Interface {
        /// The link's state now.
        link: Link,
    },
    /// A host operation failed (the protocol keeps running).
    Failed {
        /// The operation.
        op: &'static str,
        /// The error, as text.
        error: String,
    },
}

/// Counters of the driver itself.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriverCounters {
    /// Datagrams read from the raw sockets.
    pub datagrams_received: u64,
    /// Adverts handed to the kernel.
    pub datagrams_sent: u64,
    /// Adverts the kernel refused.
    pub send_errors: u64,
    /// Gratuitous ARPs sent.
    pub garps_sent: u64,
    /// Virtual addresses put back after someone else deleted them.
    pub addresses_restored: u64,
    /// Host operations (address, route, GARP) that failed.
    pub host_errors: u64,
    /// Events the embedder did not take in time.
    pub events_lost: u64,
    /// [`Event::Dropped`] events not passed on: at most one per router per
    /// [`DROP_EVENT_PERIOD`] reaches the embedder (every drop is still
    /// counted by reason in the router's counters).
    pub drop_events_suppressed: u64,
}

/// A consistent view of every router, taken by [`DriverHandle::snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// Per router (index = [`RouterId`]): name, state, effective priority,
    /// counters.
    pub routers: Vec<RouterSnapshot>,
    /// Datagrams no router took.
    pub mux: MuxCounters,
    /// The driver's own counters.
    pub driver: DriverCounters,
}

/// One router in a [`Snapshot`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouterSnapshot {
    /// Instance name.
    pub name: Arc<str>,
    /// State.
    pub state: State,
    /// Effective priority.
    pub priority: u8,
    /// Counters, with drops by reason.
    pub counters: Counters,
}

#[derive(Debug)]
enum Input {
    Net(NetEvent),
    Tracking(RouterId, Tracking),
    Snapshot(oneshot::Sender<Snapshot>),
    Shutdown,
}

/// Commands to a running [`Driver`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct DriverHandle {
    tx: mpsc::Sender<Input>,
}

impl DriverHandle {
    /// New tracking state (script and interface weights) for one router.
    pub async fn set_tracking(&self, id: RouterId, tracking: Tracking) {
        let _ = self.tx.send(Input::Tracking(id, tracking)).await;
    }

    /// Graceful stop: masters send a priority-0 advert and remove their
    /// addresses, then [`Driver::run`] returns.
    pub async fn shutdown(&self) {
        let _ = self.tx.send(Input::Shutdown).await;
    }

    /// [`shutdown`](Self::shutdown) from outside the runtime.
    pub fn blocking_shutdown(&self) {
        let _ = self.tx.blocking_send(Input::Shutdown);
    }

    /// States and counters of every router, or `None` once stopped.
    pub async fn snapshot(&self) -> Option<Snapshot> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Input::Snapshot(tx)).await.ok()?;
        rx.await.ok()
    }
}

/// Host-side facts of one router, resolved at start.
#[derive(Debug)]
struct RouterIo {
    name: Arc<str>,
    /// Interface adverts go out of (the VMAC when `use_vmac`).
    send_ifindex: u32,
    /// Source MAC of its GARPs.
    mac: [u8; 6],
    proto: IpProto,
    addresses: Vec<AddressSpec>,
    routes: Vec<RouteSpec>,
    last_drop_event: Option<Instant>,
}

/// Runs a [`Setup`] until shut down. Create it inside a tokio runtime, in
/// the network namespace the routers live in.
#[derive(Debug)]
pub struct Driver {
    mux: Mux,
    routers: Vec<RouterIo>,
    sockets: HashMap<(u32, IpProto), Arc<AsyncFd<RawSocket>>>,
    /// Sockets to read, with the interface their datagrams arrive on and
    /// whether they go to the mux (a VMAC's send socket is only drained).
    receivers: Vec<Receiver>,
    /// Where the next readiness scan starts, so a flooded socket cannot
    /// starve the others.
    next_receiver: usize,
    rx_buf: Vec<u8>,
    garp: HashMap<u32, GarpSocket>,
    netlink: Netlink,
    /// Interfaces whose state matters, with their last known state.
    links: HashMap<u32, Link>,
    vmacs: Vec<u32>,
    rx: mpsc::Receiver<Input>,
    events: mpsc::Sender<DriverEvent>,
    readers: Vec<JoinHandle<()>>,
    counters: DriverCounters,
    buf: Vec<u8>,
    timer: Timer,
    /// The latest instant given to the mux.
    last_now: Instant,
}

impl Driver {
    /// Resolves interfaces, creates VMACs, opens the sockets and builds the
    /// routers. Returns the driver (to [`run`](Self::run)), a handle for
    /// commands and the event stream.
    pub fn new(
        setup: Setup,
    ) -> Result<(Driver, DriverHandle, mpsc::Receiver<DriverEvent>), DriverError> {
        tokio::runtime::Handle::try_current().map_err(|e| DriverError::Runtime(e.to_string()))?;
        let (in_tx, in_rx) = mpsc::channel(INPUT_CAPACITY);
        let (ev_tx, ev_rx) = mpsc::channel(EVENT_CAPACITY);
        let mut d = Driver {
            mux: Mux::new(),
            routers: Vec::new(),
            sockets: HashMap::new(),
            receivers: Vec::new(),
            next_receiver: 0,
            rx_buf: vec![0; 65536],
            garp: HashMap::new(),
            netlink: Netlink::open()?,
            links: HashMap::new(),
            vmacs: Vec::new(),
            rx: in_rx,
            events: ev_tx,
            readers: Vec::new(),
            counters: DriverCounters::default(),
            buf: vec![0; 2048],
            timer: Timer::new()?,
            last_now: Instant::now(),
        };
        let result = d.build(&setup, &in_tx);
        if let Err(e) = result {
            d.remove_vmacs();
            d.stop_readers();
            return Err(e);
        }
        Ok((d, DriverHandle { tx: in_tx }, ev_rx))
    }

    fn build(&mut self, setup: &Setup, in_tx: &mpsc::Sender<Input>) -> Result<(), DriverError> {
        for spec in &setup.routers {
            self.add_router(spec)?;
        }
        for g in &setup.sync_groups {
            let members = g
                .members
                .iter()
                .map(|&i| {
                    (i < self.routers.len())
                        .then_some(RouterId(i as u32))
                        .ok_or_else(|| DriverError::BadSyncGroup(g.name.clone()))
                })
                .collect::<Result<Vec<_>, _>>()?;
            self.mux.add_sync_group(&g.name, &members)?;
        }
        for name in &setup.watch_interfaces {
            let link = self.netlink.link(name)?;
            self.links.insert(link.index, link);
        }
        let watcher = register(NetWatcher::open()?)?;
        self.readers
            .push(tokio::spawn(watch_loop(watcher, in_tx.clone())));
        Ok(())
    }

    fn add_router(&mut self, spec: &RouterSpec) -> Result<(), DriverError> {
        let link = self.netlink.link(&spec.interface)?;
        let mut config = spec.config.clone();
        config.virtual_addresses = spec.addresses.iter().map(|a| a.addr).collect();
        if config.primary_ip.is_unspecified() {
            config.primary_ip = self
                .netlink
                .addresses(Some(link.index))?
                .iter()
                .map(|a| a.addr)
                .find(|a| !config.virtual_addresses.contains(a))
                .ok_or_else(|| DriverError::NoPrimaryAddress(spec.interface.clone()))?;
        }
        let proto = match config.authentication {
            AuthConfig::Ah(_) => IpProto::Ah,
            _ => IpProto::Vrrp,
        };
        let (send_link, vip_default) = if spec.use_vmac {
            let name = format!("vrrp.{}", config.vrid);
            if let Ok(old) = self.netlink.link(&name) {
                self.netlink.del_link(old.index)?;
            }
            let vmac = self
                .netlink
                .add_macvlan(link.index, &name, vmac_address(config.vrid))?;
            self.vmacs.push(vmac.index);
            (vmac.clone(), vmac)
        } else {
            (link.clone(), link.clone())
        };
        let addresses = spec
            .addresses
            .iter()
            .map(|a| self.resolve_address(a, vip_default.index))
            .collect::<Result<Vec<_>, _>>()?;
        let routes = spec
            .routes
            .iter()
            .map(|r| {
                let mut route = r.route.clone();
                if let Some(dev) = &r.dev {
                    route.oif = Some(self.netlink.link(dev)?.index);
                }
                Ok(route)
            })
            .collect::<Result<Vec<_>, LinuxError>>()?;

        // Receive on the interface; send from the VMAC when there is one.
        self.open_socket(&link, proto, true)?;
        self.open_socket(&send_link, proto, !spec.use_vmac)?;
        if let std::collections::hash_map::Entry::Vacant(e) = self.garp.entry(send_link.index) {
            e.insert(GarpSocket::open(send_link.index)?);
        }
        self.links.insert(link.index, link.clone());

        let name = config.name.clone();
        let router = VirtualRouter::new(config).map_err(|source| DriverError::Config {
            name: name.to_string(),
            source,
        })?;
        let id = self.mux.add_router(link.index, router)?;
        debug_assert_eq!(id.0 as usize, self.routers.len());
        self.routers.push(RouterIo {
            name,
            send_ifindex: send_link.index,
            mac: send_link.mac.unwrap_or([0; 6]),
            proto,
            addresses,
            routes,
            last_drop_event: None,
        });
        Ok(())
    }

    fn resolve_address(
        &mut self,
        a: &VirtualAddress,
        default_ifindex: u32,
    ) -> Result<AddressSpec, LinuxError> {
        let ifindex = match &a.dev {
            Some(dev) => self.netlink.link(dev)?.index,
            None => default_ifindex,
        };
        Ok(AddressSpec {
            ifindex,
            addr: a.addr,
            prefix_len: a.prefix_len,
            broadcast: a.broadcast,
            label: a.label.clone(),
            scope: a.scope,
        })
    }

    /// Opens the raw socket for (interface, protocol) once. `deliver` says
    /// whether what it receives goes to the mux (a VMAC's send socket only
    /// has its queue drained).
    fn open_socket(
        &mut self,
        link: &Link,
        proto: IpProto,
        deliver: bool,
    ) -> Result<(), DriverError> {
        if self.sockets.contains_key(&(link.index, proto)) {
            return Ok(());
        }
        let sock = RawSocket::open(RawSocketConfig {
            ifname: link.name.clone(),
            ifindex: link.index,
            proto,
            multicast: deliver,
        })?;
        let sock = Arc::new(register(sock)?);
        self.sockets.insert((link.index, proto), sock.clone());
        self.receivers.push(Receiver {
            sock,
            ifindex: link.index,
            deliver,
        });
        Ok(())
    }

    /// The router ids, in [`Setup::routers`] order.
    pub fn router_ids(&self) -> impl Iterator<Item = RouterId> + '_ {
        self.mux.ids()
    }

    /// Starts every router and runs until [`DriverHandle::shutdown`] (or
    /// until every handle is dropped, which is treated the same). On return
    /// masters have sent their priority-0 advert, addresses and routes are
    /// removed and VMACs deleted. Returns the final counters.
    pub async fn run(mut self) -> DriverCounters {
        let now = self.now();
        let links: Vec<Link> = self.links.values().cloned().collect();
        for link in links {
            if !link.is_operational() {
                self.mux.handle_interface(now, link.index, false);
            }
            self.emit(DriverEvent::Interface { link });
        }
        self.mux.handle_startup(now);
        self.drain(now);
        loop {
            let deadline = self.mux.poll_timeout();
            if let Err(e) = self.timer.arm(deadline) {
                self.host_error("arm timer", &e);
            }
            let wake = tokio::select! {
                biased;
                () = self.timer.expired(), if deadline.is_some() => Wake::Timer,
                i = readable(&self.receivers, self.next_receiver) => Wake::Socket(i),
                input = self.rx.recv() => Wake::Input(input),
            };
            if let Wake::Socket(i) = wake {
                // Not `self.now()` first: datagrams are given their arrival.
                self.next_receiver = i + 1;
                self.read_socket(i);
                continue;
            }
            let now = self.now();
            match wake {
                Wake::Timer => self.mux.handle_timeout(now),
                Wake::Socket(_) => {}
                Wake::Input(Some(input)) => {
                    if !self.handle_input(now, input) {
                        break;
                    }
                }
                Wake::Input(None) => break,
            }
            self.drain(now);
        }
        let now = self.now();
        self.mux.handle_shutdown(now);
        self.drain(now);
        self.stop_readers();
        self.remove_vmacs();
        self.counters.clone()
    }

    /// Feeds one input; false to stop.
    fn handle_input(&mut self, now: Instant, input: Input) -> bool {
        match input {
            Input::Net(ev) => self.handle_net(now, ev),
            Input::Tracking(id, t) => self.mux.handle_tracking(now, id, t),
            Input::Snapshot(reply) => {
                let _ = reply.send(self.snapshot());
            }
            Input::Shutdown => return false,
        }
        true
    }

    fn handle_net(&mut self, now: Instant, ev: NetEvent) {
        match ev {
            NetEvent::Link(link) => self.link_changed(now, link, true),
            NetEvent::LinkRemoved(link) => self.link_changed(now, link, false),
            NetEvent::AddressRemoved(a) => self.restore_if_master(a.ifindex, a.addr),
            NetEvent::Overrun => self.resync(now),
            _ => {}
        }
    }

    fn link_changed(&mut self, now: Instant, link: Link, exists: bool) {
        let Some(last) = self.links.get_mut(&link.index) else {
            return;
        };
        let mut link = link;
        if !exists {
            // A deleted link is reported down, under the name we knew.
            link.up = false;
            link.running = false;
            link.name.clone_from(&last.name);
        }
        let up = link.is_operational();
        if last.is_operational() == up {
            return;
        }
        *last = link.clone();
        self.mux.handle_interface(now, link.index, up);
        self.emit(DriverEvent::Interface { link });
    }

    /// Puts back a virtual address someone else deleted from a master.
    fn restore_if_master(&mut self, ifindex: u32, addr: Ipv4Addr) {
        for i in 0..self.routers.len() {
            let id = RouterId(i as u32);
            if self.mux.router(id).map(VirtualRouter::state) != Some(State::Master) {
                continue;
            }
            let Some(spec) = self.routers[i]
                .addresses
                .iter()
                .find(|a| a.ifindex == ifindex && a.addr == addr)
                .cloned()
            else {
                continue;
            };
            match self.netlink.add_address(&spec) {
                Ok(()) => {
                    self.counters.addresses_restored += 1;
                    self.emit(DriverEvent::AddressRestored { id, addr });
                }
                Err(e) if e.errno() == Some(EEXIST) => {}
                Err(e) => self.host_error("restore address", &e),
            }
        }
    }

    /// After lost notifications: re-read link states, re-install masters'
    /// addresses.
    fn resync(&mut self, now: Instant) {
        match self.netlink.links() {
            Ok(links) => {
                let known: Vec<u32> = self.links.keys().copied().collect();
                for index in known {
                    match links.iter().find(|l| l.index == index) {
                        Some(l) => self.link_changed(now, l.clone(), true),
                        None => {
                            let gone = Link {
                                index,
                                name: String::new(),
                                mac: None,
                                up: false,
                                running: false,
                            };
                            self.link_changed(now, gone, false);
                        }
                    }
                }
            }
            Err(e) => self.host_error("resync links", &e),
        }
        for i in 0..self.routers.len() {
            let id = RouterId(i as u32);
            if self.mux.router(id).map(VirtualRouter::state) == Some(State::Master) {
                self.install(i);
            }
        }
    }

    /// Reads up to [`READ_BATCH`] datagrams from receiver `i`, each handed to
    /// the mux and its outputs drained at once.
    fn read_socket(&mut self, i: usize) {
        let Some(r) = self.receivers.get(i) else {
            return;
        };
        let (sock, ifindex, deliver) = (r.sock.clone(), r.ifindex, r.deliver);
        let mut buf = std::mem::take(&mut self.rx_buf);
        for _ in 0..READ_BATCH {
            let (n, arrived) = match sock.try_io(Interest::READABLE, |s| s.recv_timed(&mut buf)) {
                Ok(r) => r,
                Err(_) => break, // WouldBlock (readiness cleared) or an error
            };
            if !deliver {
                continue;
            }
            let Some(data) = buf.get(..n) else { continue };
            self.counters.datagrams_received += 1;
            let now = self.arrival_instant(arrived);
            let src = data
                .get(12..16)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map_or(Ipv4Addr::UNSPECIFIED, Ipv4Addr::from);
            self.mux.handle_datagram(now, ifindex, src, data);
            self.drain(now);
        }
        self.rx_buf = buf;
    }

    /// Now, never before an instant already given to the mux.
    fn now(&mut self) -> Instant {
        let now = Instant::now().max(self.last_now);
        self.last_now = now;
        now
    }

    /// The monotonic instant of a kernel arrival time: the wall-clock age of
    /// the datagram subtracted from now, never before an instant already
    /// given to the mux (inputs stay in time order).
    fn arrival_instant(&mut self, arrived: Option<std::time::SystemTime>) -> Instant {
        // The floor is read before taking `now`, which would raise it to now.
        let floor = self.last_now;
        let now = Instant::now().max(floor);
        let age = arrived
            .and_then(|t| std::time::SystemTime::now().duration_since(t).ok())
            .unwrap_or_default();
        let at = now.checked_sub(age).unwrap_or(now).max(floor);
        self.last_now = at;
        at
    }

    /// Drains the mux: transmits first, then events.
    fn drain(&mut self, now: Instant) {
        while let Some((id, _ifindex, tx)) = self.mux.poll_transmit(now, &mut self.buf) {
            let Some(r) = self.routers.get(id.0 as usize) else {
                continue;
            };
            let Some(sock) = self.sockets.get(&(r.send_ifindex, r.proto)) else {
                continue;
            };
            let Some(datagram) = self.buf.get(..tx.len) else {
                continue;
            };
            match sock.get_ref().send_to(datagram, tx.destination) {
                Ok(_) => self.counters.datagrams_sent += 1,
                Err(_) => self.counters.send_errors += 1,
            }
        }
        while let Some(ev) = self.mux.poll_event() {
            let out = match ev {
                MuxEvent::Router(id, event) => {
                    let i = id.0 as usize;
                    match event {
                        Event::AddAddresses => self.install(i),
                        Event::RemoveAddresses => self.uninstall(i),
                        Event::GratuitousArp { repeat } => self.send_garps(i, repeat),
                        Event::Dropped(_) if self.drop_gated(i, now) => {
                            self.counters.drop_events_suppressed += 1;
                            continue;
                        }
                        _ => {}
                    }
                    let name = self
                        .routers
                        .get(i)
                        .map_or_else(|| Arc::from(""), |r| r.name.clone());
                    DriverEvent::Router { id, name, event }
                }
                MuxEvent::Group(g, n) => DriverEvent::Group(g, n),
            };
            self.emit(out);
        }
    }

    fn install(&mut self, i: usize) {
        let Some(r) = self.routers.get(i) else { return };
        let (addresses, routes) = (r.addresses.clone(), r.routes.clone());
        for a in &addresses {
            match self.netlink.add_address(a) {
                Err(e) if e.errno() != Some(EEXIST) => self.host_error("add address", &e),
                _ => {}
            }
        }
        for route in &routes {
            match self.netlink.add_route(route) {
                Err(e) if e.errno() != Some(EEXIST) => self.host_error("add route", &e),
                _ => {}
            }
        }
    }

    fn uninstall(&mut self, i: usize) {
        let Some(r) = self.routers.get(i) else { return };
        let (addresses, routes) = (r.addresses.clone(), r.routes.clone());
        for route in &routes {
            match self.netlink.del_route(route) {
                Err(e) if e.errno() != Some(ESRCH) => self.host_error("delete route", &e),
                _ => {}
            }
        }
        for a in &addresses {
            match self.netlink.del_address(a) {
                Err(e) if e.errno() != Some(EADDRNOTAVAIL) => self.host_error("delete address", &e),
                _ => {}
            }
        }
    }

    fn send_garps(&mut self, i: usize, repeat: u32) {
        let Some(r) = self.routers.get(i) else { return };
        let mut failed = None;
        for a in &r.addresses {
            // A GARP goes out of the interface holding the address; its MAC
            // is the router's (VMAC) when that is where the address lives.
            let Some(sock) = self
                .garp
                .get(&a.ifindex)
                .or_else(|| self.garp.get(&r.send_ifindex))
            else {
                continue;
            };
            for _ in 0..repeat.max(1) {
                match sock.send(r.mac, a.addr) {
                    Ok(()) => self.counters.garps_sent += 1,
                    Err(e) => failed = Some(e),
                }
            }
        }
        if let Some(e) = failed {
            self.host_error(
                "send gratuitous ARP",
                &LinuxError::Io {
                    op: "send gratuitous ARP",
                    source: e,
                },
            );
        }
    }

    /// True if router `i` already reported a drop within the last
    /// [`DROP_EVENT_PERIOD`]; otherwise opens a new period.
    fn drop_gated(&mut self, i: usize, now: Instant) -> bool {
        let Some(r) = self.routers.get_mut(i) else {
            return true;
        };
        if r.last_drop_event
            .is_some_and(|t| now.saturating_duration_since(t) < DROP_EVENT_PERIOD)
        {
            return true;
        }
        r.last_drop_event = Some(now);
        false
    }

    fn host_error(&mut self, op: &'static str, e: &LinuxError) {
        self.counters.host_errors += 1;
        self.emit(DriverEvent::Failed {
            op,
            error: e.to_string(),
        });
    }

    fn emit(&mut self, ev: DriverEvent) {
        if self.events.try_send(ev).is_err() {
            self.counters.events_lost += 1;
        }
    }

    fn snapshot(&self) -> Snapshot {
        let routers = self
            .mux
            .ids()
            .filter_map(|id| self.mux.router(id))
            .map(|r| RouterSnapshot {
                name: r.config().name.clone(),
                state: r.state(),
                priority: r.priority(),
                counters: r.counters().clone(),
            })
            .collect();
        Snapshot {
            routers,
            mux: self.mux.counters().clone(),
            driver: self.counters.clone(),
        }
    }

    fn stop_readers(&mut self) {
        for r in self.readers.drain(..) {
            r.abort();
        }
    }

    fn remove_vmacs(&mut self) {
        for index in std::mem::take(&mut self.vmacs) {
            let _ = self.netlink.del_link(index);
        }
    }
}

/// Adapters whose raw fd is owned by them, open from creation to drop and
/// never replaced: the contract of [`AsyncFd::register`].
trait OwnsFd: std::os::fd::AsRawFd {}
impl OwnsFd for RawSocket {}
impl OwnsFd for NetWatcher {}

/// Registers an adapter with the tokio reactor.
#[allow(unsafe_code)]
fn register<T: OwnsFd>(inner: T) -> Result<AsyncFd<T>, DriverError> {
    // SAFETY: `T: OwnsFd` holds its descriptor in an owning type (socket2's
    // `Socket`, netlink-sys's `Socket`, nix's `TimerFd`) created with it and
    // closing it only when `T` is
    // dropped, which the `AsyncFd` owning `T` does after deregistering; every
    // `as_raw_fd` call returns that same descriptor.
    unsafe { AsyncFd::register(inner) }.map_err(|e| DriverError::Runtime(e.to_string()))
}

/// How much earlier than its deadline the timer wakes the task, which then
/// spins to the exact instant: a takeover advert leaves on time instead of
/// one scheduler wake-up later. Costs at most this much CPU per expiry.
const TIMER_EARLY: std::time::Duration = std::time::Duration::from_micros(150);

/// A one-shot monotonic `timerfd` registered with tokio.
#[derive(Debug)]
struct Timer {
    fd: AsyncFd<TimerFd>,
    armed: Option<Instant>,
}

/// `nix`'s timerfd, which owns its descriptor.
#[derive(Debug)]
struct TimerFd(nix::sys::timerfd::TimerFd);

impl std::os::fd::AsRawFd for TimerFd {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsFd;
        self.0.as_fd().as_raw_fd()
    }
}

impl OwnsFd for TimerFd {}

impl Timer {
    fn new() -> Result<Timer, DriverError> {
        use nix::sys::timerfd::{ClockId, TimerFlags};
        let fd = nix::sys::timerfd::TimerFd::new(
            ClockId::CLOCK_MONOTONIC,
            TimerFlags::TFD_NONBLOCK | TimerFlags::TFD_CLOEXEC,
        )
        .map_err(|e| LinuxError::Io {
            op: "create timerfd",
            source: e.into(),
        })?;
        Ok(Timer {
            fd: register(TimerFd(fd))?,
            armed: None,
        })
    }

    /// Arms the timer for `deadline` (disarms for `None`); a no-op if it is
    /// already armed for that instant.
    fn arm(&mut self, deadline: Option<Instant>) -> Result<(), LinuxError> {
        use nix::sys::time::TimeSpec;
        use nix::sys::timerfd::{Expiration, TimerSetTimeFlags};
        if deadline == self.armed {
            return Ok(());
        }
        let t = &self.fd.get_ref().0;
        let result = match deadline {
            // A zero expiration would disarm: at least one nanosecond.
            Some(d) => {
                // Wake a little early; `expired` spins the rest, so the
                // scheduler's wake-up latency is not added to the deadline.
                let left = d
                    .saturating_duration_since(Instant::now())
                    .saturating_sub(TIMER_EARLY)
                    .max(std::time::Duration::from_nanos(1));
                t.set(
                    Expiration::OneShot(TimeSpec::from_duration(left)),
                    TimerSetTimeFlags::empty(),
                )
            }
            None => t.unset(),
        };
        result.map_err(|e| LinuxError::Io {
            op: "arm timerfd",
            source: e.into(),
        })?;
        self.armed = deadline;
        Ok(())
    }

    /// Resolves when the armed deadline has passed. Spins at most
    /// [`TIMER_EARLY`]: a wake-up further from the deadline (an expiry left
    /// over from an earlier arming) re-arms and waits again.
    async fn expired(&mut self) {
        loop {
            let Ok(mut guard) = self.fd.readable().await else {
                return std::future::pending().await;
            };
            let read = guard.try_io(|t| t.get_ref().0.wait().map_err(std::io::Error::from));
            if read.is_err() {
                continue; // Stale readiness: nothing to read.
            }
            let Some(d) = self.armed.take() else {
                return;
            };
            if d.saturating_duration_since(Instant::now()) > TIMER_EARLY {
                if self.arm(Some(d)).is_err() {
                    return; // The caller re-arms (and reports) on its next turn.
                }
                continue;
            }
            while Instant::now() < d {
                std::hint::spin_loop();
            }
            return;
        }
    }
}

/// A raw socket the driver reads.
#[derive(Debug)]
struct Receiver {
    sock: Arc<AsyncFd<RawSocket>>,
    ifindex: u32,
    deliver: bool,
}

/// What woke the driver up.
enum Wake {
    Timer,
    Socket(usize),
    Input(Option<Input>),
}

/// At most this many datagrams are read from one socket per wake-up, so the
/// timer and the other sockets get their turn during a flood.
const READ_BATCH: usize = 64;

/// Resolves with the index of a readable receiver, scanning from `start`.
fn readable(receivers: &[Receiver], start: usize) -> impl std::future::Future<Output = usize> + '_ {
    std::future::poll_fn(move |cx| {
        let n = receivers.len();
        for k in 0..n {
            let i = (start + k) % n;
            if receivers[i].sock.poll_read_ready(cx).is_ready() {
                return std::task::Poll::Ready(i);
            }
        }
        std::task::Poll::Pending
    })
}

/// Forwards link and address notifications.
async fn watch_loop(mut watcher: AsyncFd<NetWatcher>, tx: mpsc::Sender<Input>) {
    let mut events = Vec::new();
    loop {
        let Ok(mut guard) = watcher.readable_mut().await else {
            return;
        };
        while let Ok(result) = guard.try_io(|w| w.get_mut().recv(&mut events)) {
            if result.is_err() {
                continue;
            }
            for ev in events.drain(..) {
                if tx.send(Input::Net(ev)).await.is_err() {
                    return;
                }
            }
        }
    }
}
