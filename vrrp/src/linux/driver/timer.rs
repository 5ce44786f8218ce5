//! The driver's one timer: a `timerfd` with nanosecond resolution.

use std::time::{Duration, Instant};

use tokio::io::unix::AsyncFd;

use super::sockets::{register, OwnsFd};
use super::DriverError;
use crate::linux::LinuxError;

/// How much earlier than its deadline the timer wakes the task, which then
/// spins to the exact instant: a takeover advert leaves on time instead of
/// one scheduler wake-up later. Costs at most this much CPU per expiry.
const TIMER_EARLY: Duration = Duration::from_micros(150);

/// The spin is for a deadline at least this far from the previous one.
/// Closer deadlines (many routers with spread timers) wake at their
/// instant without spinning: the spin then costs at most
/// [`TIMER_EARLY`] per `SPIN_GAP` (0.3% of a core), whatever the number of
/// routers, while a lone takeover still leaves on time.
const SPIN_GAP: Duration = Duration::from_millis(50);

/// A one-shot monotonic `timerfd` registered with tokio.
#[derive(Debug)]
pub(super) struct Timer {
    fd: AsyncFd<TimerFd>,
    armed: Option<Instant>,
    /// The deadline that last expired.
    fired: Option<Instant>,
}

/// `nix`'s timerfd, which owns its descriptor.
#[derive(Debug)]
pub(super) struct TimerFd(nix::sys::timerfd::TimerFd);

impl std::os::fd::AsRawFd for TimerFd {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        use std::os::fd::AsFd;
        self.0.as_fd().as_raw_fd()
    }
}

impl OwnsFd for TimerFd {}

impl Timer {
    pub(super) fn new() -> Result<Timer, DriverError> {
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
            fired: None,
        })
    }

    /// Arms the timer for `deadline` (disarms for `None`); a no-op if it is
    /// already armed for that instant.
    pub(super) fn arm(&mut self, deadline: Option<Instant>) -> Result<(), LinuxError> {
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
                let spin = self
                    .fired
                    .is_none_or(|f| d.saturating_duration_since(f) >= SPIN_GAP);
                let early = if spin { TIMER_EARLY } else { Duration::ZERO };
                let left = d
                    .saturating_duration_since(Instant::now())
                    .saturating_sub(early)
                    .max(Duration::from_nanos(1));
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
    /// [`TIMER_EARLY`], and only after an early wake-up (see [`SPIN_GAP`]):
    /// a wake-up further from the deadline (an expiry left over from an
    /// earlier arming) re-arms and waits again.
    pub(super) async fn expired(&mut self) {
        loop {
            let Ok(mut guard) = self.fd.readable().await else {
                return std::future::pending().await;
            };
            let read = guard.try_io(|t| t.get_ref().0.wait().map_err(std::io::Error::from));
            if read.is_err() {
                continue; // Stale readiness: nothing to read.
            }
            // The read consumed the expiry: no second read (EAGAIN) on the
            // next wait.
            guard.clear_ready();
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
            self.fired = Some(d);
            return;
        }
    }
}
