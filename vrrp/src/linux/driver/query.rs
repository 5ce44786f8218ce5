//! What an embedder asks a running driver about its routers, answered
//! from the driver's own state: the configuration each router runs
//! (built only when asked, so that dumps, metrics or a control socket need
//! not keep a copy of every router's configuration beside the driver's),
//! and the one change an operator makes to a single router, its base
//! priority.

use std::time::Instant;

use super::{Driver, DriverError, RouterSpec, Snapshot};
use crate::mux::{MuxError, RouterId};
use crate::router::Change;

/// Every running router, as configured and as running, taken at one
/// moment by [`DriverHandle::describe`](super::DriverHandle::describe).
#[derive(Debug, Clone)]
pub struct Description {
    /// States and counters.
    pub snapshot: Snapshot,
    /// The specification each running router was given, in [`RouterId`]
    /// order: its entry of the last [`Setup`](super::Setup), with the base
    /// priority a later [`DriverHandle::set_priority`](super::DriverHandle::set_priority)
    /// set.
    pub routers: Vec<(RouterId, RouterSpec)>,
}

impl Driver {
    pub(super) fn describe(&self) -> Description {
        let routers = (self.router_ids())
            .filter_map(|id| Some((id, self.io(id.0 as usize)?.spec.clone())))
            .collect();
        Description {
            snapshot: self.snapshot(),
            routers,
        }
    }

    /// Router `id`'s base priority becomes `priority`, in place, as a
    /// reconfiguration that changes only the priority would make it (no
    /// priority-0 advert; see [`VirtualRouter::reconfigure`](crate::router::VirtualRouter::reconfigure)).
    pub(super) fn set_priority(
        &mut self,
        now: Instant,
        id: RouterId,
        priority: u8,
    ) -> Result<Change, DriverError> {
        let running = self.io(id.0 as usize).and(self.mux.router(id));
        let mut config = running.ok_or(MuxError::UnknownRouter(id))?.config().clone();
        config.priority = priority;
        let change = self.mux.reconfigure_router(now, id, config)?;
        // A priority never makes another instance, so `Restart` (which
        // touches nothing) does not come back; the spec follows only a
        // change the router made.
        let i = id.0 as usize;
        if let (Change::InPlace(_), Some(r)) =
            (change, self.routers.get_mut(i).and_then(Option::as_mut))
        {
            r.spec.config.priority = priority;
        }
        self.drain(now);
        Ok(change)
    }
}
