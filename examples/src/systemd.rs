//! sd_notify for a `Type=notify` unit such as Debian's keepalived.service,
//! as keepalived 2.2.7 sends it: `READY=1` (with `MAINPID`) once every
//! half has started and again after each reload, `RELOADING=1` when a
//! reload begins, `STOPPING=1` on stop. Without `NOTIFY_SOCKET` each call
//! does nothing.
//!
//! The halves (VRRP, checker) start and reload on their own threads; a
//! count of the halves still busy decides when the process is ready.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use sd_notify::NotifyState;

/// Halves still starting or reloading.
static BUSY: AtomicUsize = AtomicUsize::new(0);
/// Set once `STOPPING=1` was sent.
static STOPPING: AtomicBool = AtomicBool::new(false);

/// Announces how many halves will call [`started`] before the process is
/// ready.
pub fn expect(halves: usize) {
    BUSY.store(halves, Ordering::SeqCst);
}

/// A half finished starting or reloading: the last one sends `READY=1`.
pub fn started() {
    let left = BUSY
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .map_or(0, |before| before - 1);
    if left == 0 && !STOPPING.load(Ordering::SeqCst) {
        send(&[NotifyState::Ready, NotifyState::MainPid(std::process::id())]);
    }
}

/// A half begins a reload: the first one sends `RELOADING=1`.
pub fn reloading() {
    if BUSY.fetch_add(1, Ordering::SeqCst) == 0 {
        send(&[NotifyState::Reloading]);
    }
}

/// The process is stopping: `STOPPING=1`, once.
pub fn stopping() {
    if !STOPPING.swap(true, Ordering::SeqCst) {
        send(&[NotifyState::Stopping]);
    }
}

fn send(state: &[NotifyState<'_>]) {
    if let Err(e) = sd_notify::notify(state) {
        tracing::warn!("sd_notify: {e}");
    }
}
