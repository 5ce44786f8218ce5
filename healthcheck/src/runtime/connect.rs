//! The TCP connects a [`Driver`](super::Driver) makes itself
//! ([`Inline::TcpConnect`](crate::Inline::TcpConnect)): no task, timer or
//! reactor registration per check. The sockets live on one epoll set of
//! the connector's own, which the driver watches as one descriptor; a
//! target's socket is registered once (edge-triggered) and kept between
//! its checks, disconnected with connect(AF_UNSPEC), which resets the
//! connection (an RST, no TIME_WAIT entry) and leaves the socket ready to
//! connect again. A check is then a connect(), the event, and the
//! disconnect: three syscalls, against nine with a socket, its options
//! and a reactor registration made and closed for each check.
//!
//! Descriptors: every socket holds one unit of the driver's descriptor
//! budget (its semaphore, also taken by checks run as tasks, four units
//! each). At most half the budget stays in sockets kept between checks;
//! a check that finds no unit free waits, in order, and its timeout starts
//! only when it connects.
//!
//! The driver's timer is a timerfd in the same set: a wake-up is then the
//! one event tokio reports for the set, at the instant asked for, where
//! tokio's own timer wheel wakes the process again at its level
//! boundaries (about one more wake-up for every two at 20 a second).
//!
//! Telling a finished connect from the rest: epoll polls a socket again
//! when it reports it, so the flags are the socket's state then, not when
//! it woke. A connecting socket reports nothing; writable without error
//! or hang-up is connected; an error is the connect's failure. Events of a
//! socket between its checks (its disconnect's hang-up) are ignored.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::sys::epoll::{Epoll, EpollCreateFlags, EpollEvent, EpollFlags};
use nix::sys::time::TimeSpec;
use nix::sys::timerfd::{ClockId, Expiration, TimerFd, TimerFlags, TimerSetTimeFlags};
use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::DriverStats;
use crate::checkers::net::{disconnect, io_reason, tcp_socket};
use crate::{CheckContext, CheckOutcome, DownReason, TargetId};

/// A finished check: its target, outcome and how long it took.
pub(crate) type Finished = (TargetId, CheckOutcome, Duration);

/// The epoll set, as a descriptor tokio can watch.
struct EpollFd(Epoll);

impl AsRawFd for EpollFd {
    fn as_raw_fd(&self) -> RawFd {
        self.0 .0.as_raw_fd()
    }
}

/// A socket and the unit of the descriptor budget it holds.
struct Held {
    socket: socket2::Socket,
    _unit: OwnedSemaphorePermit,
}

/// One target's socket and its check under way.
struct Slot {
    target: TargetId,
    held: Option<Held>,
    flight: Option<Flight>,
    /// Checks started, to match a deadline with its check.
    round: u32,
}

impl Slot {
    /// The check under way and its socket, if one is (a socket between
    /// checks stays).
    fn take_flight(&mut self) -> Option<(Flight, Held)> {
        self.flight?;
        let held = self.held.take()?;
        Some((self.flight.take()?, held))
    }
}

/// A check under way.
#[derive(Clone, Copy)]
struct Flight {
    started: Instant,
    round: u32,
}

/// A check waiting for a descriptor unit.
struct Waiting {
    slot: u32,
    ctx: Arc<CheckContext>,
    scheduled: Instant,
}

/// The connects under way, their sockets and deadlines.
pub(crate) struct Connector {
    epoll: AsyncFd<EpollFd>,
    slots: Vec<Slot>,
    slot_of: HashMap<TargetId, u32>,
    /// (deadline, slot, round), earliest first; entries of checks that
    /// already finished are skipped when they come up.
    deadlines: BinaryHeap<Reverse<(Instant, u32, u32)>>,
    waiting: VecDeque<Waiting>,
    units: Arc<Semaphore>,
    kept: usize,
    max_kept: usize,
    events: Vec<EpollEvent>,
    stats: Arc<DriverStats>,
    /// The driver's timer (registered with [`ALARM`] as its data), when
    /// it is armed for, and whether it went off since last asked.
    alarm: TimerFd,
    armed: Option<Instant>,
    rang: bool,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("targets", &self.slots.len())
            .field("kept", &self.kept)
            .field("waiting", &self.waiting.len())
            .finish()
    }
}

/// Events read from the epoll set at once.
const EVENTS: usize = 256;

/// The epoll data of the timer (slots are numbered from 0 up).
const ALARM: u64 = u64::MAX;

impl Connector {
    /// A connector taking its sockets' units from `units`, keeping at most
    /// `max_kept` sockets between checks. Must run inside a tokio runtime.
    pub(crate) fn new(
        units: Arc<Semaphore>,
        max_kept: usize,
        stats: Arc<DriverStats>,
    ) -> io::Result<Self> {
        let epoll = EpollFd(Epoll::new(EpollCreateFlags::EPOLL_CLOEXEC)?);
        let flags = TimerFlags::TFD_CLOEXEC | TimerFlags::TFD_NONBLOCK;
        let alarm = TimerFd::new(ClockId::CLOCK_MONOTONIC, flags)?;
        // Edge-triggered, never read: each expiry is one new event.
        let interest = EpollFlags::EPOLLIN | EpollFlags::EPOLLET;
        epoll.0.add(&alarm, EpollEvent::new(interest, ALARM))?;
        // SAFETY: `EpollFd` owns its descriptor from creation until it is
        // dropped, and its `as_raw_fd` always returns that descriptor.
        #[allow(unsafe_code)]
        let epoll = unsafe { AsyncFd::register_with_interest(epoll, Interest::READABLE) }
            .map_err(|e| e.into_parts().1)?;
        Ok(Self {
            epoll,
            slots: Vec::new(),
            slot_of: HashMap::new(),
            deadlines: BinaryHeap::new(),
            waiting: VecDeque::new(),
            units,
            kept: 0,
            max_kept,
            events: vec![EpollEvent::empty(); EVENTS],
            stats,
            alarm,
            armed: None,
            rang: false,
        })
    }

    /// Starts `target`'s check at `now` (or when a descriptor unit is
    /// free); a check that ends at once is pushed to `out`.
    pub(crate) fn start(
        &mut self,
        target: TargetId,
        ctx: &Arc<CheckContext>,
        scheduled: Instant,
        now: Instant,
        out: &mut Vec<Finished>,
    ) {
        let slot = self.slot(target);
        // Behind checks already waiting, in order.
        if self.waiting.is_empty() && self.connect(slot, ctx, scheduled, now, out) {
            return;
        }
        self.stats.waiting.fetch_add(1, Ordering::Relaxed);
        self.waiting.push_back(Waiting {
            slot,
            ctx: ctx.clone(),
            scheduled,
        });
    }

    /// Starts the waiting checks that now find a descriptor unit, in order.
    pub(crate) fn start_waiting(&mut self, out: &mut Vec<Finished>) {
        let now = Instant::now();
        while let Some(w) = self.waiting.pop_front() {
            if !self.connect(w.slot, &w.ctx, w.scheduled, now, out) {
                self.waiting.push_front(w);
                return;
            }
            self.stats.waiting.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// The slot of `target`, made on its first check.
    fn slot(&mut self, target: TargetId) -> u32 {
        let next = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        let slot = *self.slot_of.entry(target).or_insert(next);
        if slot == next {
            self.slots.push(Slot {
                target,
                held: None,
                flight: None,
                round: 0,
            });
        }
        slot
    }

    /// Connects slot `i`'s socket at `now`; false if no descriptor unit
    /// is free.
    fn connect(
        &mut self,
        i: u32,
        ctx: &CheckContext,
        scheduled: Instant,
        now: Instant,
        out: &mut Vec<Finished>,
    ) -> bool {
        let held = match self.take_held(i, ctx) {
            Ok(Some(h)) => h,
            Ok(None) => return false,
            Err(e) => {
                self.stats
                    .record_start(now.saturating_duration_since(scheduled));
                self.push(i, CheckOutcome::Down(io_reason(&e)), Duration::ZERO, out);
                return true;
            }
        };
        self.stats
            .record_start(now.saturating_duration_since(scheduled));
        let flight = match held.socket.connect(&ctx.target.into()) {
            Ok(()) => Err(CheckOutcome::Up),
            Err(e) if e.raw_os_error() == Some(Errno::EINPROGRESS as i32) => Ok(()),
            Err(e) => Err(CheckOutcome::Down(io_reason(&e))),
        };
        let Some(slot) = self.slots.get_mut(i as usize) else {
            return true;
        };
        match flight {
            Ok(()) => {
                slot.round = slot.round.wrapping_add(1);
                slot.flight = Some(Flight {
                    started: now,
                    round: slot.round,
                });
                slot.held = Some(held);
                let deadline = now + ctx.timeout;
                self.deadlines.push(Reverse((deadline, i, slot.round)));
            }
            Err(outcome) => self.finish(i, held, outcome, Duration::ZERO, out),
        }
        true
    }

    /// Slot `i`'s kept socket, or a new one registered with the epoll set
    /// (`None` if no descriptor unit is free).
    fn take_held(&mut self, i: u32, ctx: &CheckContext) -> io::Result<Option<Held>> {
        let idle = self
            .slots
            .get_mut(i as usize)
            .filter(|s| s.flight.is_none());
        if let Some(h) = idle.and_then(|s| s.held.take()) {
            self.kept = self.kept.saturating_sub(1);
            return Ok(Some(h));
        }
        let Ok(unit) = self.units.clone().try_acquire_owned() else {
            return Ok(None);
        };
        let socket = tcp_socket(ctx)?;
        let interest = EpollFlags::EPOLLOUT | EpollFlags::EPOLLET;
        let epoll = &self.epoll.get_ref().0;
        epoll.add(&socket, EpollEvent::new(interest, u64::from(i)))?;
        Ok(Some(Held {
            socket,
            _unit: unit,
        }))
    }

    /// Ends slot `i`'s check with `outcome`: disconnects the socket and
    /// keeps it for the next check, if the budget allows, else closes it.
    fn finish(
        &mut self,
        i: u32,
        held: Held,
        outcome: CheckOutcome,
        took: Duration,
        out: &mut Vec<Finished>,
    ) {
        let keep = self.kept < self.max_kept && disconnect(&held.socket).is_ok();
        if let Some(slot) = self.slots.get_mut(i as usize) {
            slot.flight = None;
            if keep {
                slot.held = Some(held);
                self.kept += 1;
            }
        }
        self.push(i, outcome, took, out);
    }

    fn push(&self, i: u32, outcome: CheckOutcome, took: Duration, out: &mut Vec<Finished>) {
        if let Some(slot) = self.slots.get(i as usize) {
            out.push((slot.target, outcome, took));
        }
    }

    /// Reads the events there are and starts the waiting checks their
    /// ends made room for, until neither makes progress.
    pub(crate) fn settle(&mut self, out: &mut Vec<Finished>) {
        loop {
            self.harvest(out);
            let before = self.waiting.len();
            self.start_waiting(out);
            if self.waiting.len() == before {
                return;
            }
        }
    }

    /// Reads every event there is, without waiting, and ends the checks
    /// they finish. It reads until a read ends no check, so the hang-ups
    /// of its own disconnects are read too: an epoll set left with only
    /// those would wake the driver once more for nothing.
    pub(crate) fn harvest(&mut self, out: &mut Vec<Finished>) {
        loop {
            let before = out.len();
            let n = match self.epoll.get_ref().0.wait(&mut self.events, 0u8) {
                Ok(n) => n,
                Err(Errno::EINTR) => continue,
                Err(_) => return,
            };
            let now = Instant::now();
            for k in 0..n {
                let Some(ev) = self.events.get(k).copied() else {
                    break;
                };
                if ev.data() == ALARM {
                    (self.rang, self.armed) = (true, None);
                    continue;
                }
                let i = u32::try_from(ev.data()).unwrap_or(u32::MAX);
                self.completed(i, ev.events(), now, out);
            }
            if out.len() == before && n < self.events.len() {
                return;
            }
        }
    }

    /// Slot `i` reported `flags`: its connect is done, if one is under way.
    fn completed(&mut self, i: u32, flags: EpollFlags, now: Instant, out: &mut Vec<Finished>) {
        let Some((flight, held)) = self.slots.get_mut(i as usize).and_then(Slot::take_flight)
        else {
            return;
        };
        let failed = EpollFlags::EPOLLERR | EpollFlags::EPOLLHUP;
        let outcome = if flags.intersects(failed) {
            CheckOutcome::Down(match held.socket.take_error() {
                Ok(Some(e)) | Err(e) => io_reason(&e),
                Ok(None) => DownReason::Io(io::ErrorKind::NotConnected),
            })
        } else {
            CheckOutcome::Up
        };
        let took = now.saturating_duration_since(flight.started);
        self.finish(i, held, outcome, took, out);
    }

    /// Ends the checks past their deadline as timed out.
    pub(crate) fn expire(&mut self, now: Instant, out: &mut Vec<Finished>) {
        while let Some(&Reverse((at, i, round))) = self.deadlines.peek() {
            if at > now {
                return;
            }
            self.deadlines.pop();
            let slot = self.slots.get_mut(i as usize);
            let slot = slot.filter(|s| s.flight.map(|f| f.round) == Some(round));
            let Some((flight, held)) = slot.and_then(Slot::take_flight) else {
                continue;
            };
            let took = now.saturating_duration_since(flight.started);
            self.finish(i, held, CheckOutcome::Down(DownReason::Timeout), took, out);
        }
    }

    /// Sets the timer to go off at `at` (as the set's event), unless it
    /// already will; false if it cannot be set (use another timer).
    pub(crate) fn arm(&mut self, at: Instant) -> bool {
        if self.armed == Some(at) {
            return true;
        }
        // A zero expiration would disarm the timer: at least 1 ns.
        let wait = at
            .saturating_duration_since(Instant::now())
            .max(Duration::from_nanos(1));
        let when = Expiration::OneShot(TimeSpec::from_duration(wait));
        let set = self.alarm.set(when, TimerSetTimeFlags::empty()).is_ok();
        self.armed = set.then_some(at);
        set
    }

    /// True if the timer went off since the last call.
    pub(crate) fn rang(&mut self) -> bool {
        std::mem::take(&mut self.rang)
    }

    /// When the earliest check under way times out.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Resolves when the epoll set has events (after which
    /// [`Connector::harvest`] reads them); clears the readiness first, so
    /// no event is missed.
    pub(crate) async fn ready(&self) {
        if let Ok(mut guard) = self.epoll.readable().await {
            guard.clear_ready();
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failure

    use std::net::SocketAddr;

    use test_support::unique_addr;
    use tokio::net::TcpListener;

    use super::*;

    fn connector(units: usize, max_kept: usize) -> (Connector, Arc<Semaphore>) {
        let units = Arc::new(Semaphore::new(units));
        let stats = Arc::new(DriverStats::default());
        (
            Connector::new(units.clone(), max_kept, stats).unwrap(),
            units,
        )
    }

    fn ctx(addr: SocketAddr) -> Arc<CheckContext> {
        Arc::new(CheckContext::new(addr, Duration::from_secs(60)))
    }

    /// Waits until `out` holds `n` finished checks.
    async fn finished(c: &mut Connector, out: &mut Vec<Finished>, n: usize) {
        loop {
            c.harvest(out);
            if out.len() >= n {
                return;
            }
            c.ready().await;
        }
    }

    /// A listener that takes one connection and never accepts: the
    /// connects after it get no answer.
    fn blackhole() -> (socket2::Socket, std::net::TcpStream, SocketAddr) {
        let addr = unique_addr();
        let s = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
        s.bind(&addr.into()).unwrap();
        s.listen(0).unwrap();
        let first = std::net::TcpStream::connect(addr).unwrap();
        (s, first, addr)
    }

    /// A listener, and a connector (`units`, `max_kept`) with a context
    /// checking it.
    async fn served(
        units: usize,
        max_kept: usize,
    ) -> (TcpListener, Connector, Arc<Semaphore>, Arc<CheckContext>) {
        let l = TcpListener::bind(unique_addr()).await.unwrap();
        let (c, units) = connector(units, max_kept);
        let cx = ctx(l.local_addr().unwrap());
        (l, c, units, cx)
    }

    fn kept_fd(c: &Connector, slot: usize) -> Option<RawFd> {
        let held = c.slots.get(slot)?.held.as_ref()?;
        Some(held.socket.as_raw_fd())
    }

    #[tokio::test]
    async fn each_check_is_a_new_connection_from_the_kept_socket() {
        let (l, mut c, units, cx) = served(8, 4).await;
        let mut fds = Vec::new();
        for _ in 0..3 {
            let mut out = Vec::new();
            c.start(TargetId(7), &cx, Instant::now(), Instant::now(), &mut out);
            let (_conn, _) = l.accept().await.unwrap();
            finished(&mut c, &mut out, 1).await;
            assert_eq!(
                out.first().map(|f| (f.0, &f.1)),
                Some((TargetId(7), &CheckOutcome::Up))
            );
            fds.push(kept_fd(&c, 0).unwrap());
            assert_eq!((c.kept, units.available_permits()), (1, 7));
        }
        assert!(fds.iter().all(|&fd| fd == fds[0]), "{fds:?}");
    }

    #[tokio::test]
    async fn a_refused_connect_is_down_and_its_socket_connects_again() {
        let addr = unique_addr();
        let (mut c, _) = connector(8, 4);
        let mut out = Vec::new();
        c.start(
            TargetId(1),
            &ctx(addr),
            Instant::now(),
            Instant::now(),
            &mut out,
        );
        finished(&mut c, &mut out, 1).await;
        assert_eq!(out[0].1, CheckOutcome::Down(DownReason::Refused));
        // The same socket, now with a server behind the address.
        let fd = kept_fd(&c, 0).unwrap();
        let l = TcpListener::bind(addr).await.unwrap();
        out.clear();
        c.start(
            TargetId(1),
            &ctx(addr),
            Instant::now(),
            Instant::now(),
            &mut out,
        );
        let (_conn, _) = l.accept().await.unwrap();
        finished(&mut c, &mut out, 1).await;
        assert_eq!(out[0].1, CheckOutcome::Up);
        assert_eq!(kept_fd(&c, 0), Some(fd));
    }

    #[tokio::test]
    async fn a_connect_past_its_deadline_times_out() {
        let (_l, _first, addr) = blackhole();
        let (mut c, _) = connector(8, 4);
        let mut out = Vec::new();
        let cx = Arc::new(CheckContext::new(addr, Duration::from_secs(3)));
        let at = Instant::now();
        c.start(TargetId(1), &cx, at, at, &mut out);
        c.harvest(&mut out);
        assert_eq!((out.len(), c.next_deadline().is_some()), (0, true));
        let deadline = c.next_deadline().unwrap();
        // Not before its deadline; then down, its socket kept.
        c.expire(deadline - Duration::from_millis(1), &mut out);
        assert!(out.is_empty());
        c.expire(deadline, &mut out);
        assert_eq!(out[0].1, CheckOutcome::Down(DownReason::Timeout));
        assert_eq!(c.kept, 1);
    }

    #[tokio::test]
    async fn checks_wait_in_order_for_a_descriptor_unit() {
        let (_l, _first, addr) = blackhole();
        // Two units, one socket kept at most.
        let (mut c, units) = connector(2, 1);
        let mut out = Vec::new();
        let now = Instant::now();
        for t in 1..=3 {
            c.start(TargetId(t), &ctx(addr), now, now, &mut out);
        }
        assert_eq!((c.waiting.len(), units.available_permits()), (1, 0));
        assert_eq!(c.stats.waiting.load(Ordering::Relaxed), 1);
        // Both time out: the first's socket stays, the second's unit frees
        // and the third starts with it.
        c.expire(now + Duration::from_secs(61), &mut out);
        let ended: Vec<_> = out.iter().map(|f| (f.0, f.1.clone())).collect();
        let timeout = CheckOutcome::Down(DownReason::Timeout);
        assert_eq!(
            ended,
            [(TargetId(1), timeout.clone()), (TargetId(2), timeout)]
        );
        c.start_waiting(&mut out);
        assert_eq!(
            (c.waiting.len(), c.kept, units.available_permits()),
            (0, 1, 0)
        );
        assert_eq!(c.stats.waiting.load(Ordering::Relaxed), 0);
        assert!(c.slots[2].flight.is_some());
    }

    #[tokio::test]
    async fn a_waiting_check_starts_when_a_finished_one_frees_its_unit() {
        // One unit, no socket kept.
        let (l, mut c, units, cx) = served(1, 0).await;
        let mut out = Vec::new();
        c.start(TargetId(1), &cx, Instant::now(), Instant::now(), &mut out);
        c.start(TargetId(2), &cx, Instant::now(), Instant::now(), &mut out);
        assert_eq!(c.waiting.len(), 1);
        let _first = l.accept().await.unwrap();
        loop {
            c.settle(&mut out);
            if c.waiting.is_empty() {
                break;
            }
            c.ready().await;
        }
        let _second = l.accept().await.unwrap();
        loop {
            c.settle(&mut out);
            if out.len() == 2 {
                break;
            }
            c.ready().await;
        }
        let ended: Vec<_> = out.iter().map(|f| (f.0, f.1.clone())).collect();
        assert_eq!(
            ended,
            [
                (TargetId(1), CheckOutcome::Up),
                (TargetId(2), CheckOutcome::Up)
            ]
        );
        assert_eq!((c.kept, units.available_permits()), (0, 1));
    }

    #[tokio::test]
    async fn the_alarm_rings_once_never_before_its_instant() {
        let (mut c, _) = connector(1, 0);
        let at = Instant::now() + Duration::from_millis(20);
        assert!(c.arm(at));
        assert_eq!(c.armed, Some(at));
        let mut out = Vec::new();
        loop {
            c.harvest(&mut out);
            if c.rang() {
                break;
            }
            c.ready().await;
        }
        assert!(Instant::now() >= at);
        assert_eq!((out.len(), c.rang(), c.armed), (0, false, None));
    }

    #[tokio::test]
    async fn at_most_max_kept_sockets_stay_between_checks() {
        let (l, mut c, units, cx) = served(8, 2).await;
        let mut out = Vec::new();
        for t in 0..4 {
            c.start(TargetId(t), &cx, Instant::now(), Instant::now(), &mut out);
        }
        let mut conns = Vec::new();
        for _ in 0..4 {
            conns.push(l.accept().await.unwrap());
        }
        finished(&mut c, &mut out, 4).await;
        assert!(out.iter().all(|f| f.1 == CheckOutcome::Up));
        assert_eq!((c.kept, units.available_permits()), (2, 6));
    }
}
