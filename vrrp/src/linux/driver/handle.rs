//! Commands to a running driver.

use tokio::sync::{mpsc, oneshot};

use super::{Description, DriverError, ReconcileSummary, Setup, Snapshot};
use crate::linux::NetEvent;
use crate::mux::RouterId;
use crate::router::{Change, Tracking};

#[derive(Debug)]
pub(super) enum Input {
    Net(NetEvent),
    Tracking(RouterId, Tracking),
    Snapshot(oneshot::Sender<Snapshot>),
    Describe(oneshot::Sender<Description>),
    SetPriority(RouterId, u8, oneshot::Sender<Result<Change, DriverError>>),
    Reconfigure(
        Box<(Setup, Vec<Tracking>)>,
        oneshot::Sender<Result<ReconcileSummary, DriverError>>,
    ),
    Shutdown,
}

/// Commands to a running [`Driver`](super::Driver); cheap to clone.
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
    /// addresses, then [`Driver::run`](super::Driver::run) returns.
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

    /// Every running router's specification with its state and counters,
    /// taken at one moment, or `None` once stopped. Built on each call
    /// from the driver's own state: an embedder that shows the running
    /// configuration (dumps, metrics) keeps no copy of it.
    pub async fn describe(&self) -> Option<Description> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Input::Describe(tx)).await.ok()?;
        rx.await.ok()
    }

    /// Sets router `id`'s base priority in place, until the next
    /// [`reconfigure`](Self::reconfigure) says otherwise: what a
    /// reconfiguration changing only that priority does (no priority-0
    /// advert; a backup that becomes the address owner, 255, becomes
    /// master at once), without a whole new [`Setup`]. Returns what
    /// changed ([`Change::Unchanged`] if it had that priority). Errors:
    /// [`MuxError::UnknownRouter`](crate::mux::MuxError::UnknownRouter) in
    /// [`DriverError::Mux`] if no router `id` runs, a refused
    /// configuration, [`DriverError::Stopped`] once stopped.
    pub async fn set_priority(&self, id: RouterId, priority: u8) -> Result<Change, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Input::SetPriority(id, priority, tx))
            .await
            .map_err(|_| DriverError::Stopped)?;
        rx.await.map_err(|_| DriverError::Stopped)?
    }

    /// Applies a new [`Setup`] to the running driver and returns what it
    /// did; the ids of the new setup's routers are in
    /// [`ReconcileSummary::ids`].
    ///
    /// Routers are matched by (interface, VRID, address family), as
    /// keepalived matches the
    /// instances of a reloaded configuration and as
    /// [`Mux::reconcile`](crate::mux::Mux::reconcile) does: a new name alone
    /// is an in-place change. Unchanged routers are not touched; changed
    /// ones are updated in place (no priority-0 advert, a master's new
    /// addresses installed and announced, its dropped ones removed); a
    /// router whose protocol or VMAC changed is removed and added again; a
    /// router on another (interface, VRID) is another router, and routers
    /// no longer listed are removed (a
    /// master sends priority 0 and removes its addresses). Sockets are opened
    /// only for new (interface, protocol) pairs and closed when no router
    /// uses them any more.
    ///
    /// Transactional: interfaces, VMACs, configurations, sync groups and
    /// new sockets are all prepared before any running router is touched,
    /// and on an error nothing changes. [`DriverError::Stopped`] once the
    /// driver has stopped.
    pub async fn reconfigure(&self, setup: Setup) -> Result<ReconcileSummary, DriverError> {
        self.reconfigure_tracked(setup, Vec::new()).await
    }

    /// [`reconfigure`](Self::reconfigure), each router that is added
    /// starting with `tracking[k]` (parallel to `setup.routers`; missing
    /// entries are no tracking), as keepalived computes an instance's
    /// tracked priority before the instance starts: its first state and
    /// notification carry the effective priority. Routers kept running
    /// keep theirs ([`set_tracking`](Self::set_tracking) changes it).
    pub async fn reconfigure_tracked(
        &self,
        setup: Setup,
        tracking: Vec<Tracking>,
    ) -> Result<ReconcileSummary, DriverError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Input::Reconfigure(Box::new((setup, tracking)), tx))
            .await
            .map_err(|_| DriverError::Stopped)?;
        rx.await.map_err(|_| DriverError::Stopped)?
    }
}
