//! Moving a router to another interface index: its interface was deleted
//! and created again (same name, new index), or appeared after the start.

use super::{key_of, Mux, MuxError, RouterId};
use crate::router::VirtualRouter;

impl Mux {
    /// Moves router `id` to interface `ifindex`, keeping its id, state,
    /// counters and sync group: datagrams on `ifindex` reach it from now
    /// on, [`handle_interface`](Self::handle_interface) of `ifindex` moves
    /// it. [`MuxError::Duplicate`] if a router of its VRID, family and
    /// channel is already there, or with unicast peers one it clashes
    /// with (nothing changes then).
    pub fn rebind(&mut self, id: RouterId, ifindex: u32) -> Result<(), MuxError> {
        let slot = self.live_slot(id).ok_or(MuxError::UnknownRouter(id))?;
        if slot.ifindex == ifindex {
            return Ok(());
        }
        self.admit(ifindex, slot.router.config(), Some(id.0))?;
        let key = key_of(slot.router.config());
        self.rekey(id, ifindex, key);
        if let Some(slot) = self.slot_mut(id.0) {
            slot.ifindex = ifindex;
        }
        self.reindex_peers(id.0);
        Ok(())
    }

    /// Replaces router `id`'s state machine by `router`, not yet started,
    /// on interface `ifindex`: for a change [`reconfigure_router`](Self::reconfigure_router)
    /// cannot apply in place ([`Change::Restart`](crate::router::Change::Restart),
    /// e.g. a new IPv6 link-local source) on a router whose interface was
    /// missing, so that it keeps its id and sync group. The old router's
    /// unpolled transmits and events are dropped: drain them first. Start
    /// the new one with [`handle_startup_one`](Self::handle_startup_one)
    /// (after its interface and tracking state).
    /// [`MuxError::Duplicate`] if another router holds the new router's
    /// (interface, VRID, family) as [`add_router`](Self::add_router) says.
    pub fn replace_router(
        &mut self,
        id: RouterId,
        ifindex: u32,
        mut router: VirtualRouter,
    ) -> Result<(), MuxError> {
        self.live_slot(id).ok_or(MuxError::UnknownRouter(id))?;
        self.admit(ifindex, router.config(), Some(id.0))?;
        self.rekey(id, ifindex, key_of(router.config()));
        if let Some(slot) = self.slot_mut(id.0) {
            router.set_sync_member(slot.group.is_some());
            slot.router = router;
            slot.ifindex = ifindex;
            // Its heap entries are stale from now on.
            slot.scheduled = None;
        }
        self.reindex_peers(id.0);
        Ok(())
    }

    /// Gives router `id` the key (ifindex, vrid, ipv6, channel) in place
    /// of its own (`admit` said it may).
    fn rekey(&mut self, id: RouterId, ifindex: u32, key: (u8, bool, Option<std::net::IpAddr>)) {
        self.keys.remove(id.0);
        self.insert_key(ifindex, key, id.0);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use std::net::Ipv4Addr;
    use std::time::Instant;

    use super::*;
    use crate::event::State;
    use crate::Config;

    fn router(vrid: u8, priority: u8) -> VirtualRouter {
        VirtualRouter::new(Config::new(
            "VI",
            vrid,
            priority,
            Ipv4Addr::new(10, 0, 0, 1),
        ))
        .unwrap()
    }

    #[test]
    fn a_rebound_router_keeps_its_id_and_is_found_on_the_new_interface() {
        let mut mux = Mux::new();
        let a = mux.add_router(2, router(51, 100)).unwrap();
        let b = mux.add_router(3, router(51, 100)).unwrap();
        assert_eq!(
            mux.rebind(a, 3),
            Err(MuxError::Duplicate {
                ifindex: 3,
                vrid: 51
            })
        );
        assert_eq!(mux.find(2, 51), Some(a));
        mux.rebind(a, 7).unwrap();
        assert_eq!((mux.find(2, 51), mux.find(7, 51)), (None, Some(a)));
        assert_eq!((mux.ifindex(a), mux.find(3, 51)), (Some(7), Some(b)));
        // Interface 7 going down moves it, and only it.
        let now = Instant::now();
        mux.handle_startup(now);
        mux.handle_interface(now, 7, false);
        let states = (
            mux.router(a).unwrap().state(),
            mux.router(b).unwrap().state(),
        );
        assert_eq!(states, (State::Fault, State::Backup));
    }

    #[test]
    fn a_replaced_router_keeps_its_id_and_group() {
        let mut mux = Mux::new();
        let a = mux.add_router(2, router(51, 100)).unwrap();
        let b = mux.add_router(2, router(52, 100)).unwrap();
        mux.add_sync_group("G", &[a, b]).unwrap();
        let now = Instant::now();
        mux.handle_startup(now);
        while mux.poll_event().is_some() {}
        mux.replace_router(a, 9, router(51, 200)).unwrap();
        assert_eq!((mux.find(2, 51), mux.find(9, 51)), (None, Some(a)));
        assert_eq!(mux.router(a).unwrap().config().priority, 200);
        assert_eq!(mux.router(a).unwrap().state(), State::Initialize);
        mux.handle_startup_one(now, a);
        assert_eq!(mux.router(a).unwrap().state(), State::Backup);
        // Still grouped: a fault of b holds a in FAULT.
        mux.handle_interface(now, 2, false);
        assert_eq!(mux.router(a).unwrap().state(), State::Fault);
        assert_eq!(
            mux.replace_router(a, 2, router(52, 100)),
            Err(MuxError::Duplicate {
                ifindex: 2,
                vrid: 52
            })
        );
    }
}
