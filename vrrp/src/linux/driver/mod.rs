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
//! One driver runs every router of a process: all routers on an
//! interface share one raw socket per protocol (IPv4 VRRP, IPv4 AH or
//! IPv6 VRRP; see [`RouterSpec`] for IPv6 routers), with
//! datagrams dispatched by VRID, and all share the send path, the
//! rtnetlink socket and the timer. [`DriverHandle::reconfigure`] applies a
//! new [`Setup`] to the running routers (a reload without a flap).
//!
//! Events go to the embedder on a bounded channel with `try_send`: a slow
//! embedder loses events (counted in [`DriverCounters::events_lost`]), it
//! never stalls the protocol. The stop is the exception: its events
//! (priority-0 adverts sent, addresses removed, state changes) are all
//! delivered, [`Driver::run`] waiting for room in the channel, and the
//! channel closes after the last one. So after [`DriverHandle::shutdown`],
//! read events until `None` (or drop the receiver), then await `run`.
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
//!     excluded: Vec::new(),
//!     routes: Vec::new(),
//!     rules: Vec::new(),
//!     use_vmac: false,
//!     vmac: Default::default(),
//! };
//! let setup = Setup { routers: vec![router], ..Setup::default() };
//! let (driver, handle, mut events) = Driver::new(setup)?;
//! let running = tokio::spawn(driver.run());
//! let mut ctrl_c = std::pin::pin!(tokio::signal::ctrl_c());
//! let mut stopping = false;
//! loop {
//!     tokio::select! {
//!         _ = &mut ctrl_c, if !stopping => {
//!             stopping = true;
//!             handle.shutdown().await; // priority-0 advert, addresses removed
//!         }
//!         event = events.recv() => match event {
//!             Some(DriverEvent::Router { name, event, .. }) => println!("({name}) {event:?}"),
//!             Some(_) => {}
//!             None => break, // stopped, and every event of the stop was read
//!         },
//!     }
//! }
//! let counters = running.await?;
//! println!("{} adverts sent", counters.datagrams_sent);
//! # Ok(())
//! # }
//! ```

mod addr_vmac;
mod debounce;
mod default_source;
mod deleted;
mod errlog;
mod error;
mod events;
mod firewall;
mod handle;
mod ipvlan;
mod kernel;
mod links;
mod pacing;
mod query;
mod reconfigure;
mod rules;
mod sockets;
mod source_loss;
mod source_quirk;
mod spec;
mod timer;
mod vmac_link;
mod vmac_sysctl;

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::{GarpSocket, Link, NetWatcher, Netlink, RouteSpec};
use crate::event::Event;
use crate::mux::{Mux, MuxEvent, RouterId};
use crate::router::Tracking;

pub use debounce::{clamp_link_delays, Clamped, LinkDelay};
pub use default_source::{default_source_v4, default_source_v6};
pub use deleted::Deleted;
pub use errlog::ERROR_LOG_PERIOD;
pub use error::DriverError;
pub use events::{DriverCounters, DriverEvent, RouterSnapshot, Snapshot, DROP_EVENT_PERIOD};
pub use handle::DriverHandle;
pub use query::Description;
pub use reconfigure::ReconcileSummary;
pub use source_quirk::QUIRK_SOURCE;
pub use spec::{GarpPacing, RouterSpec, Setup, SyncGroupSpec, VirtualAddress, VirtualRoute};

use handle::Input;
use kernel::Vip;
use links::watch_loop;
use sockets::{readable, register, Channel, Raw, Receiver};
use timer::Timer;

/// Capacity of the input channel (datagrams, link events, commands).
const INPUT_CAPACITY: usize = 1024;
/// Capacity of the event channel to the embedder: room for every router
/// of a large process changing state at once (at start, 1,000 routers
/// emit about 4,000 events before the embedder reads any).
const EVENT_CAPACITY: usize = 16 * 1024;

/// Host-side facts of one router, resolved when it was added.
#[derive(Debug)]
struct RouterIo {
    /// What it was made from, to compare with a new [`Setup`].
    spec: RouterSpec,
    name: Arc<str>,
    /// Interface adverts arrive on.
    recv_ifindex: u32,
    /// Interface adverts go out of (the VMAC when `use_vmac`).
    send_ifindex: u32,
    /// Source MAC of its GARPs.
    mac: [u8; 6],
    channel: Channel,
    /// Its virtual addresses, advertised or excluded.
    addresses: Vec<Vip>,
    routes: Vec<RouteSpec>,
    /// Its macvlan, deleted with it.
    vmac: Option<u32>,
    /// The VMACs `use_vmac_addr` put its addresses on.
    addr_vmacs: Vec<addr_vmac::AddrVmac>,
    last_drop_event: Option<Instant>,
    /// The embedder's last tracking, for a router rebuilt when its
    /// interface appears.
    tracking: Option<Tracking>,
}

impl RouterIo {
    /// The interface adverts go out of: the VMAC's base under
    /// `vmac_xmit_base`.
    fn advert_ifindex(&self) -> u32 {
        match self.vmac {
            Some(_) if self.spec.vmac.xmit_base => self.recv_ifindex,
            _ => self.send_ifindex,
        }
    }

    /// The VMAC adverts are read on (none under `vmac_xmit_base`).
    fn rx_vmac(&self) -> Option<u32> {
        self.vmac.filter(|_| !self.spec.vmac.xmit_base)
    }
}

/// Runs a [`Setup`] until shut down. Create it inside a tokio runtime, in
/// the network namespace the routers live in.
#[derive(Debug)]
pub struct Driver {
    mux: Mux,
    /// Indexed by [`RouterId`]; `None` once removed (ids are not reused).
    routers: Vec<Option<RouterIo>>,
    sockets: HashMap<(u32, Channel), Raw>,
    /// Sockets to read, with the interface their routers are on (a VMAC's
    /// base: see `sockets`).
    receivers: Vec<Receiver>,
    /// Where the next readiness scan starts, so a flooded socket cannot
    /// starve the others.
    next_receiver: usize,
    rx_buf: Vec<u8>,
    garp: HashMap<u32, GarpSocket>,
    /// MACs of the interfaces holding addresses of routers that send on
    /// another one (their GARPs' source).
    garp_mac: HashMap<u32, [u8; 6]>,
    netlink: Netlink,
    /// Interfaces whose state matters, with their last known state (a
    /// missing one under its stand-in index, see [`links`]).
    links: HashMap<u32, Link>,
    /// Stand-in indexes of interfaces that do not exist, by name.
    absent: HashMap<String, u32>,
    rx: mpsc::Receiver<Input>,
    events: mpsc::Sender<DriverEvent>,
    /// Set by the stop: events no longer get lost to a full channel.
    stopping: bool,
    /// Set once [`stop`](Self::stop) has run.
    stopped: bool,
    /// Events of the stop waiting for room in the channel.
    backlog: Vec<DriverEvent>,
    readers: Vec<JoinHandle<()>>,
    counters: DriverCounters,
    /// Rate limits the warnings of send and receive errors and lost events.
    errlog: errlog::ErrLog,
    buf: Vec<u8>,
    timer: Timer,
    /// The latest instant given to the mux.
    last_now: Instant,
    /// keepalived's nftables drop rules, if the setup has them.
    firewall: firewall::FirewallState,
    /// Our deletions whose notifications have not come back yet.
    own_deletions: deleted::OwnDeletions,
    /// Spaces the GARPs and NAs per interface.
    pacer: crate::pacing::GarpPacer,
    /// What `pacer` was made from.
    pacing_spec: GarpPacing,
    /// keepalived's `vrrp_startup_delay` (see [`Driver::startup_delay`]).
    startup_delay: Duration,
    /// keepalived's `log_unknown_vrids` (see [`Driver::report_unknown_vrids`]).
    report_unknown_vrids: bool,
    /// Link changes waiting for `interface_up_down_delays`.
    debounce: debounce::Debounce,
    /// The name and the flags last acted on of the routers' VMACs seen so
    /// far, by index (see [`vmac_link`]).
    vmac_flags: HashMap<u32, (String, u32)>,
    /// Routers whose VMAC was deleted, until they make it again.
    vmac_remade: std::collections::HashSet<usize>,
    /// keepalived's `track_src_ip` on source 2.0.0.0 (see `source_quirk`).
    source_quirk: source_quirk::SourceQuirk,
}

impl Driver {
    /// Resolves interfaces, creates VMACs, opens the sockets and builds the
    /// routers. Returns the driver (to [`run`](Self::run)), a handle for
    /// commands and the event stream.
    pub fn new(
        setup: Setup,
    ) -> Result<(Driver, DriverHandle, mpsc::Receiver<DriverEvent>), DriverError> {
        tokio::runtime::Handle::try_current()?;
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
            garp_mac: HashMap::new(),
            netlink: Netlink::open()?,
            links: HashMap::new(),
            absent: HashMap::new(),
            rx: in_rx,
            events: ev_tx,
            stopping: false,
            stopped: false,
            backlog: Vec::new(),
            readers: Vec::new(),
            counters: DriverCounters::default(),
            errlog: errlog::ErrLog::new(ERROR_LOG_PERIOD),
            buf: vec![0; 2048],
            timer: Timer::new()?,
            last_now: Instant::now(),
            firewall: firewall::FirewallState::default(),
            own_deletions: deleted::OwnDeletions::default(),
            pacer: crate::pacing::GarpPacer::default(),
            pacing_spec: GarpPacing::default(),
            startup_delay: Duration::ZERO,
            report_unknown_vrids: false,
            debounce: debounce::Debounce::default(),
            vmac_flags: HashMap::new(),
            vmac_remade: Default::default(),
            source_quirk: Default::default(),
        };
        // The watcher first: nothing to undo if it fails, and no change
        // during the setup goes unseen.
        let watcher = register(NetWatcher::open()?)?;
        let now = d.now();
        d.apply(now, setup, &[], false)?;
        d.readers
            .push(tokio::spawn(watch_loop(watcher, in_tx.clone())));
        Ok((d, DriverHandle { tx: in_tx }, ev_rx))
    }

    /// keepalived's `vrrp_startup_delay`: no backup takes over before
    /// `delay` after [`run`](Self::run) starts plus its
    /// Master_Down_Interval (see [`Mux::hold_startup`]). Reloads do not
    /// restart it. Zero (the default) is none.
    pub fn startup_delay(&mut self, delay: Duration) {
        self.startup_delay = delay;
    }

    /// keepalived's `log_unknown_vrids`: report each advert of a VRID no
    /// router has on the interface it came in on
    /// ([`DriverEvent::UnknownVrid`]). Off by default (they are counted in
    /// [`MuxCounters::unknown_vrid`](crate::mux::MuxCounters::unknown_vrid)
    /// either way).
    pub fn report_unknown_vrids(&mut self, on: bool) {
        self.report_unknown_vrids = on;
    }

    /// The ids of the running routers, in [`Setup::routers`] order (after
    /// a [`DriverHandle::reconfigure`], in [`RouterId`] order).
    pub fn router_ids(&self) -> impl Iterator<Item = RouterId> + '_ {
        self.routers
            .iter()
            .enumerate()
            .filter(|(_, r)| r.is_some())
            .map(|(i, _)| RouterId(i as u32))
    }

    /// The host-side facts of router `i`, if it runs.
    fn io(&self, i: usize) -> Option<&RouterIo> {
        self.routers.get(i).and_then(Option::as_ref)
    }

    /// Starts every router and runs until [`DriverHandle::shutdown`] (or
    /// until every handle is dropped, which is treated the same). On return
    /// masters have sent their priority-0 advert, addresses and routes are
    /// removed and VMACs deleted, and every event of the stop is in the
    /// event channel, which then closes. If the channel is full, this waits
    /// for the embedder to read (or drop the receiver). Returns the final
    /// counters.
    pub async fn run(mut self) -> DriverCounters {
        let now = self.now();
        let links: Vec<Link> = self.links.values().cloned().collect();
        for link in links {
            if !link.is_operational() {
                self.mux.handle_interface(now, link.index, false);
            }
            self.emit_link(link);
        }
        if let Some(until) = now.checked_add(self.startup_delay) {
            if !self.startup_delay.is_zero() {
                self.mux.hold_startup(until);
            }
        }
        self.mux.handle_startup(now);
        self.drain(now);
        loop {
            let deadline = [
                self.mux.poll_timeout(),
                self.pacer.poll_timeout(),
                self.debounce.poll_timeout(),
            ]
            .into_iter()
            .flatten()
            .min();
            if let Err(e) = self.timer.arm(deadline) {
                self.host_error("arm timer", e);
            }
            let wake = tokio::select! {
                biased;
                () = self.timer.expired(), if deadline.is_some() => Wake::Timer,
                i = readable(&self.receivers, self.next_receiver) => Wake::Socket(i),
                input = self.rx.recv() => Wake::Input(input),
            };
            let wake = match wake {
                Wake::Socket(i) => {
                    // Not `self.now()` first: datagrams are given their arrival.
                    self.next_receiver = i + 1;
                    self.read_socket(i);
                    // A flooded socket never stops being readable, and
                    // readiness alone may not spend tokio's cooperative
                    // budget: yield after each batch so the embedder's
                    // other tasks (its tracking, its signals) still run.
                    tokio::task::yield_now().await;
                    // The select is biased to sockets, so a flood would
                    // starve commands: one waiting input per socket batch.
                    match self.rx.try_recv() {
                        Ok(input) => Wake::Input(Some(input)),
                        Err(mpsc::error::TryRecvError::Empty) => continue,
                        Err(mpsc::error::TryRecvError::Disconnected) => Wake::Input(None),
                    }
                }
                wake => wake,
            };
            let now = self.now();
            match wake {
                Wake::Timer => {
                    self.mux.handle_timeout(now);
                    self.debounced(now);
                }
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
        self.stop();
        self.flush_backlog().await;
        // Dropping `self` closes the event channel after the last event.
        self.counters.clone()
    }

    /// Stops every router: priority-0 adverts from masters, addresses and
    /// routes removed, VMACs and firewall rules deleted. Runs once, from
    /// [`run`](Self::run) or, if its task was aborted or never run, from
    /// `Drop`, so nothing stays installed behind an aborted driver.
    fn stop(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        self.stopping = true;
        let now = self.now();
        self.mux.handle_shutdown(now);
        self.drain(now);
        self.stop_readers();
        self.remove_vmacs();
        self.remove_firewall();
        self.flush_errlog(now, true);
    }

    /// Feeds one input; false to stop.
    fn handle_input(&mut self, now: Instant, input: Input) -> bool {
        match input {
            Input::Net(ev) => self.handle_net(now, ev),
            Input::Tracking(id, t) => self.set_tracking(now, id, t),
            Input::Snapshot(reply) => {
                let _ = reply.send(self.snapshot());
            }
            Input::Describe(reply) => {
                let _ = reply.send(self.describe());
            }
            Input::SetPriority(id, priority, reply) => {
                let _ = reply.send(self.set_priority(now, id, priority));
            }
            Input::Reconfigure(input, reply) => {
                let (setup, tracking) = *input;
                let _ = reply.send(self.apply(now, setup, &tracking, true));
            }
            Input::Shutdown => return false,
        }
        true
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
        while let Some((id, ifindex, tx)) = self.mux.poll_transmit(now, &mut self.buf) {
            let Some(r) = self.io(id.0 as usize) else {
                continue;
            };
            let Some(sock) = self.sockets.get(&(r.advert_ifindex(), r.channel)) else {
                continue;
            };
            let Some(datagram) = self.buf.get(..tx.len) else {
                continue;
            };
            let sent = match (sock, tx.destination) {
                (Raw::V4(s), IpAddr::V4(dst)) => s.get_ref().send_to(datagram, dst),
                (Raw::V6(s), IpAddr::V6(dst)) => {
                    // The source the checksum covers: the router's.
                    let src = self.mux.router(id).map(|r| r.config().source());
                    match src {
                        Some(IpAddr::V6(src)) => s.get_ref().send_from(datagram, src, dst),
                        _ => Err(std::io::ErrorKind::InvalidInput.into()),
                    }
                }
                _ => Err(std::io::ErrorKind::InvalidInput.into()),
            };
            match sent {
                Ok(_) => self.counters.datagrams_sent += 1,
                Err(e) => self.send_failed(id, ifindex, &tx, &e, now),
            }
        }
        while let Some(ev) = self.mux.poll_event() {
            let out = match ev {
                MuxEvent::Router(id, event) => {
                    let i = id.0 as usize;
                    match event {
                        Event::AddAddresses => {
                            self.install(i);
                            self.arm_extra_if(i, now);
                        }
                        Event::RemoveAddresses => {
                            // keepalived drops the queued GARPs of a router
                            // that leaves master.
                            self.pacer.forget_router(i as u32);
                            self.uninstall(i)
                        }
                        Event::GratuitousArp { repeat } => self.send_garps_for(i, None, repeat),
                        Event::Dropped(_) if self.drop_gated(i, now) => {
                            self.counters.drop_events_suppressed += 1;
                            continue;
                        }
                        _ => {}
                    }
                    let name = self.io(i).map_or_else(|| Arc::from(""), |r| r.name.clone());
                    DriverEvent::Router { id, name, event }
                }
                MuxEvent::Group(g, n) => DriverEvent::Group(g, n),
            };
            self.emit(out);
        }
        self.send_due(now);
        self.sync_firewall();
        self.flush_errlog(now, false);
    }

    fn stop_readers(&mut self) {
        for r in self.readers.drain(..) {
            r.abort();
        }
    }
}

impl Drop for Driver {
    /// The stop of an aborted [`run`](Driver::run) (or of a driver never
    /// run): everything it installed is removed, masters say priority 0.
    fn drop(&mut self) {
        self.stop();
    }
}

/// What woke the driver up.
enum Wake {
    Timer,
    Socket(usize),
    Input(Option<Input>),
}
