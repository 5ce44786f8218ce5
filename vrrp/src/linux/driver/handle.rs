//! Commands to a running driver.

use tokio::sync::{mpsc, oneshot};

use super::Snapshot;
use crate::linux::NetEvent;
use crate::mux::RouterId;
use crate::router::Tracking;

#[derive(Debug)]
pub(super) enum Input {
    Net(NetEvent),
    Tracking(RouterId, Tracking),
    Snapshot(oneshot::Sender<Snapshot>),
    Shutdown,
}

/// Commands to a running [`Driver`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct DriverHandle {
    pub(super) tx: mpsc::Sender<Input>,
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
