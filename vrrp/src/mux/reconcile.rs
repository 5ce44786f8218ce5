//! Reload: removing and reconfiguring routers, replacing sync groups, and
//! the whole reconciliation against a desired configuration.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use super::unicast::unicast_clash;
use super::{key_of, Group, Mux, MuxError, RouterId};
use crate::config::Config;
use crate::event::State;
use crate::router::{Change, Changed, SyncCommand, VirtualRouter};

/// The configuration a reload wants: every router with its interface, and
/// the sync groups by instance name ([`Config::name`]). Routers are matched
/// to the running ones by (interface, VRID, address family), as keepalived
/// matches the instances of a reloaded configuration (`vrrp_exist`); a new
/// name alone is an in-place change. Unicast routers sharing a VRID on an
/// interface pair up in the order they were added and are given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Desired {
    /// (interface index, configuration) of every router.
    pub routers: Vec<(u32, Config)>,
    /// (group name, member instance names) of every sync group.
    pub groups: Vec<(String, Vec<String>)>,
}

/// What [`Mux::reconcile`] did, router by router.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reconciled {
    /// Routers whose configuration is the same: not touched.
    pub unchanged: Vec<RouterId>,
    /// Routers changed in place, with what changed.
    pub updated: Vec<(RouterId, Changed)>,
    /// New routers, started at `now`.
    pub added: Vec<RouterId>,
    /// Routers removed (a master sent its priority-0 advert).
    pub removed: Vec<RouterId>,
    /// Routers that became another instance on the same (interface, VRID)
    /// ([`Change::Restart`]: a switch between multicast and unicast, or
    /// another unicast source address): (old id, removed; new id, added
    /// and started).
    pub restarted: Vec<(RouterId, RouterId)>,
}

impl Mux {
    /// Removes a router. A master sends its priority-0 advert first (drain
    /// [`poll_transmit`](Self::poll_transmit)), and its last events follow
    /// ([`poll_event`](Self::poll_event)): `StateChanged` to INIT
    /// ([`Reason::Shutdown`](crate::event::Reason::Shutdown)),
    /// `RemoveAddresses` if it was master, and the STOP `Notify`. The id is
    /// then gone for good: [`find`](Self::find), [`ids`](Self::ids) and
    /// [`len`](Self::len) skip it at once, [`router`](Self::router) once its
    /// last event has been polled, and it is never given to another router.
    /// The other members of its sync group carry on without it.
    pub fn remove_router(&mut self, now: Instant, id: RouterId) -> Result<(), MuxError> {
        let slot = self.live_slot(id).ok_or(MuxError::UnknownRouter(id))?;
        let group = slot.group;
        // Stopped first, so that leaving the group cannot move it.
        self.drive(now, id.0, |r| r.handle_shutdown(now));
        if let Some(g) = group {
            self.groups[g as usize].members.retain(|m| *m != id.0);
            self.leave(now, id.0);
        }
        self.keys.remove(id.0);
        self.unindex_peers(id.0);
        if let Some(slot) = self.slot_mut(id.0) {
            slot.removed = true;
        }
        self.live -= 1;
        if let Some(g) = group {
            self.sync_group(now, g, None, None);
        }
        Ok(())
    }

    /// Applies a new configuration to a running router in place (see
    /// [`VirtualRouter::reconfigure`] for the rules: no priority-0 advert
    /// and no state change unless RFC 3768 demands one); returns what
    /// changed. Another instance (e.g. another VRID) is [`Change::Restart`]
    /// and changes nothing:
    /// [`remove_router`](Self::remove_router) then
    /// [`add_router`](Self::add_router).
    ///
    /// The configuration must be one [`add_router`](Self::add_router)
    /// would accept beside the other routers of its interface:
    /// [`MuxError::Duplicate`] (nothing changed) if its (VRID, family,
    /// multicast group) is another router's, or if it is unicast and has
    /// the source address and a peer of another unicast router of its
    /// (VRID, family).
    pub fn reconfigure_router(
        &mut self,
        now: Instant,
        id: RouterId,
        config: Config,
    ) -> Result<Change, MuxError> {
        let ifindex = self.ifindex(id).ok_or(MuxError::UnknownRouter(id))?;
        self.admit(ifindex, &config, Some(id.0))?;
        self.reconfigure_admitted(now, id, config)
    }

    /// [`reconfigure_router`](Self::reconfigure_router) without checking
    /// `config` against the other routers: for a caller that checked the
    /// whole new set of routers and applies it one router at a time, where
    /// a check against the others' old configurations could refuse a valid
    /// set halfway (two unicast routers exchanging their peers).
    pub(crate) fn reconfigure_admitted(
        &mut self,
        now: Instant,
        id: RouterId,
        config: Config,
    ) -> Result<Change, MuxError> {
        self.live_slot(id).ok_or(MuxError::UnknownRouter(id))?;
        let change = (self.drive(now, id.0, |r| r.reconfigure(now, config)))
            .ok_or(MuxError::UnknownRouter(id))?
            .map_err(MuxError::Config)?;
        // Its unicast peers may have changed.
        self.reindex_peers(id.0);
        Ok(change)
    }

    /// Replaces every sync group (names and members). A group with the same
    /// name and members as before keeps its state (no new group
    /// notification); routers that leave a group are on their own again
    /// (a FAULT imposed by the group ends). Group ids are the indexes into
    /// `groups` afterwards.
    pub fn set_sync_groups(
        &mut self,
        now: Instant,
        groups: &[(&str, Vec<RouterId>)],
    ) -> Result<(), MuxError> {
        u32::try_from(groups.len()).map_err(|_| MuxError::Full)?;
        let mut seen = HashSet::new();
        for (_, members) in groups {
            for &m in members {
                self.live_slot(m).ok_or(MuxError::UnknownRouter(m))?;
                if !seen.insert(m) {
                    return Err(MuxError::AlreadyGrouped(m));
                }
            }
        }
        let old = std::mem::take(&mut self.groups);
        for group in &old {
            for &m in &group.members {
                if !seen.contains(&RouterId(m)) {
                    self.leave(now, m);
                }
            }
        }
        for (g, (name, members)) in groups.iter().enumerate() {
            let ids: Vec<u32> = members.iter().map(|m| m.0).collect();
            let same = |o: &&Group| &*o.name == *name && same_members(&o.members, &ids);
            // A new group starts, as keepalived's, in INIT, which it never
            // announces.
            let state = old
                .iter()
                .find(same)
                .map_or(Some(State::Initialize), |o| o.state);
            for &m in &ids {
                self.join(m, g as u32);
            }
            self.groups.push(Group {
                name: Arc::from(*name),
                members: ids,
                state,
            });
        }
        for g in 0..self.groups.len() as u32 {
            self.sync_group(now, g, None, None);
        }
        Ok(())
    }

    /// Reconciles the running routers with `desired`, matched by
    /// (interface, VRID, address family): unchanged routers are not touched, changed ones
    /// are reconfigured in place ([`reconfigure_router`](Self::reconfigure_router)),
    /// routers not desired any more are removed
    /// ([`remove_router`](Self::remove_router)), new ones are added and
    /// started at `now`, and those that became another instance
    /// ([`Change::Restart`]) are removed and added again. Then the sync
    /// groups are replaced ([`set_sync_groups`](Self::set_sync_groups)).
    /// Tracking state is kept for routers that stay; give added and
    /// restarted routers theirs with [`handle_tracking`](Self::handle_tracking).
    ///
    /// Everything is checked before anything changes: an invalid
    /// configuration, a repeated name or (interface, VRID), or a bad group
    /// member is an error and the mux is untouched.
    pub fn reconcile(&mut self, now: Instant, desired: &Desired) -> Result<Reconciled, MuxError> {
        let plan = self.plan(desired)?;
        let mut done = Reconciled::default();
        for &id in &plan.remove {
            self.remove_router(now, id)?;
            done.removed.push(id);
        }
        // The id of every desired router, by its index in `desired`.
        let mut ids = vec![None; desired.routers.len()];
        let mut restart = Vec::new();
        for &(id, i) in &plan.keep {
            ids[i] = Some(id);
            // `plan` checked the desired routers as a whole.
            match self.reconfigure_admitted(now, id, desired.routers[i].1.clone())? {
                Change::Unchanged => done.unchanged.push(id),
                Change::InPlace(changed) => done.updated.push((id, changed)),
                Change::Restart => {
                    self.remove_router(now, id)?;
                    restart.push((id, i));
                }
            }
        }
        let mut new = Vec::new();
        for i in plan.add.iter().chain(restart.iter().map(|(_, i)| i)) {
            let (ifindex, config) = &desired.routers[*i];
            let id = self.add_router(*ifindex, VirtualRouter::new(config.clone())?)?;
            ids[*i] = Some(id);
            new.push(id);
        }
        done.added = plan.add.iter().filter_map(|i| ids[*i]).collect();
        done.restarted = restart
            .iter()
            .filter_map(|(old, i)| Some((*old, ids[*i]?)))
            .collect();
        let groups: Vec<(&str, Vec<RouterId>)> = plan
            .groups
            .iter()
            .map(|(name, members)| (*name, members.iter().filter_map(|i| ids[*i]).collect()))
            .collect();
        self.set_sync_groups(now, &groups)?;
        for id in new {
            self.handle_startup_one(now, id);
        }
        Ok(done)
    }

    /// Checks `desired` and matches it with the running routers.
    fn plan<'d>(&self, desired: &'d Desired) -> Result<Plan<'d>, MuxError> {
        let mut names: HashMap<&str, usize> = HashMap::new();
        // The desired routers of each key, in order: several unicast ones
        // may share one (see `unicast`).
        let mut keys: HashMap<_, VecDeque<usize>> = HashMap::new();
        for (i, (ifindex, config)) in desired.routers.iter().enumerate() {
            config.validate()?;
            if names.insert(&config.name, i).is_some() {
                return Err(MuxError::DuplicateName(i));
            }
            let (vrid, ipv6, chan) = key_of(config);
            let alike = keys.entry((*ifindex, vrid, ipv6, chan)).or_default();
            let clash = |&j: &usize| chan.is_some() || unicast_clash(&desired.routers[j].1, config);
            if alike.iter().any(clash) {
                let (ifindex, vrid) = (*ifindex, config.vrid);
                return Err(MuxError::Duplicate { ifindex, vrid });
            }
            alike.push_back(i);
        }
        let mut plan = Plan::default();
        let mut grouped = vec![false; desired.routers.len()];
        for (group, (name, members)) in desired.groups.iter().enumerate() {
            let mut indexes = Vec::with_capacity(members.len());
            for (member, m) in members.iter().enumerate() {
                let bad = MuxError::BadMember { group, member };
                let i = *names.get(m.as_str()).ok_or(bad)?;
                if std::mem::replace(&mut grouped[i], true) {
                    return Err(bad);
                }
                indexes.push(i);
            }
            plan.groups.push((name.as_str(), indexes));
        }
        let mut matched = vec![false; desired.routers.len()];
        // Running and desired routers of one key pair up by source address
        // (keepalived's `vrrp_exist` for unicast ones), else in order.
        for &(ifindex, vrid, ipv6, chan, slot) in self.keys.iter() {
            let running = self.slot(slot).map(|s| s.router.config());
            let same_source =
                |&j: &usize| running.is_some_and(|r| r.source() == desired.routers[j].1.source());
            let alike = keys.get_mut(&(ifindex, vrid, ipv6, chan));
            let pick =
                |q: &mut VecDeque<usize>| q.remove(q.iter().position(same_source).unwrap_or(0));
            match alike.and_then(pick) {
                Some(i) => {
                    matched[i] = true;
                    plan.keep.push((RouterId(slot), i));
                }
                None => plan.remove.push(RouterId(slot)),
            }
        }
        plan.add = (0..desired.routers.len())
            .filter(|i| !matched[*i])
            .collect();
        Ok(plan)
    }
}

/// How [`Mux::reconcile`] will reach the desired routers (indexes into
/// [`Desired::routers`]).
#[derive(Default)]
struct Plan<'d> {
    keep: Vec<(RouterId, usize)>,
    remove: Vec<RouterId>,
    add: Vec<usize>,
    groups: Vec<(&'d str, Vec<usize>)>,
}

impl Mux {
    /// Router `i` leaves its sync group: on its own again, and no longer
    /// held in FAULT by the others.
    fn leave(&mut self, now: Instant, i: u32) {
        if let Some(slot) = self.slot_mut(i) {
            slot.group = None;
            slot.router.set_sync_member(false);
            slot.router.handle_sync(now, SyncCommand::Recover);
            self.settle(i);
        }
    }
}

/// Same members in any order.
fn same_members(a: &[u32], b: &[u32]) -> bool {
    a.len() == b.len() && a.iter().all(|m| b.contains(m))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use std::net::Ipv4Addr;

    use super::*;
    use crate::event::Event;
    use crate::mux::MuxEvent;

    fn config(name: &str, vrid: u8) -> Config {
        Config::new(name, vrid, 100, Ipv4Addr::new(10, 0, 0, 2))
    }

    fn desired(routers: &[(&str, u8)], groups: &[(&str, &[&str])]) -> Desired {
        Desired {
            routers: routers.iter().map(|&(n, v)| (1, config(n, v))).collect(),
            groups: groups
                .iter()
                .map(|(g, m)| (g.to_string(), m.iter().map(|s| s.to_string()).collect()))
                .collect(),
        }
    }

    fn drain(mux: &mut Mux) -> Vec<MuxEvent> {
        let mut buf = [0u8; crate::wire::MAX_DATAGRAM_LEN];
        while mux.poll_transmit(Instant::now(), &mut buf).is_some() {}
        std::iter::from_fn(|| mux.poll_event()).collect()
    }

    #[test]
    fn removed_ids_are_never_reused() {
        let t0 = Instant::now();
        let mut mux = Mux::new();
        let a = mux
            .add_router(1, VirtualRouter::new(config("a", 1)).unwrap())
            .unwrap();
        let b = mux
            .add_router(1, VirtualRouter::new(config("b", 2)).unwrap())
            .unwrap();
        mux.handle_startup(t0);
        drain(&mut mux);
        mux.remove_router(t0, a).unwrap();
        assert_eq!(mux.remove_router(t0, a), Err(MuxError::UnknownRouter(a)));
        assert_eq!((mux.len(), mux.find(1, 1)), (1, None));
        assert_eq!(mux.ids().collect::<Vec<_>>(), [b]);
        // Its last events, then it is gone.
        let last = drain(&mut mux);
        assert!(matches!(
            last.first(),
            Some(MuxEvent::Router(id, Event::StateChanged { to: State::Initialize, .. })) if *id == a
        ));
        assert!(mux.router(a).is_none());
        let c = mux
            .add_router(1, VirtualRouter::new(config("c", 1)).unwrap())
            .unwrap();
        assert_eq!(c, RouterId(2));
        assert_eq!(
            mux.reconfigure_router(t0, a, config("a", 1)),
            Err(MuxError::UnknownRouter(a))
        );
    }

    #[test]
    fn bad_desired_sets_change_nothing() {
        let t0 = Instant::now();
        let mut mux = Mux::new();
        mux.reconcile(t0, &desired(&[("a", 1)], &[])).unwrap();
        let dup = desired(&[("a", 1), ("a", 2)], &[]);
        assert_eq!(mux.reconcile(t0, &dup), Err(MuxError::DuplicateName(1)));
        let key = desired(&[("a", 1), ("b", 1)], &[]);
        assert_eq!(
            mux.reconcile(t0, &key),
            Err(MuxError::Duplicate {
                ifindex: 1,
                vrid: 1
            })
        );
        let member = desired(&[("a", 1)], &[("g", &["a", "x"])]);
        let bad = MuxError::BadMember {
            group: 0,
            member: 1,
        };
        assert_eq!(mux.reconcile(t0, &member), Err(bad));
        let twice = desired(&[("a", 1)], &[("g", &["a"]), ("h", &["a"])]);
        let bad = MuxError::BadMember {
            group: 1,
            member: 0,
        };
        assert_eq!(mux.reconcile(t0, &twice), Err(bad));
        let mut invalid = desired(&[("a", 1)], &[]);
        invalid.routers[0].1.priority = 0;
        assert!(matches!(
            mux.reconcile(t0, &invalid),
            Err(MuxError::Config(_))
        ));
        assert_eq!(mux.ids().collect::<Vec<_>>(), [RouterId(0)]);
        assert_eq!(mux.router(RouterId(0)).unwrap().config().vrid, 1);
    }

    #[test]
    fn set_sync_groups_checks_members() {
        let t0 = Instant::now();
        let mut mux = Mux::new();
        let done = mux
            .reconcile(t0, &desired(&[("a", 1), ("b", 2)], &[]))
            .unwrap();
        let (a, b) = (done.added[0], done.added[1]);
        let twice = [("g", vec![a]), ("h", vec![a, b])];
        assert_eq!(
            mux.set_sync_groups(t0, &twice),
            Err(MuxError::AlreadyGrouped(a))
        );
        let unknown = [("g", vec![RouterId(7)])];
        let err = MuxError::UnknownRouter(RouterId(7));
        assert_eq!(mux.set_sync_groups(t0, &unknown), Err(err));
        mux.set_sync_groups(t0, &[("g", vec![a, b])]).unwrap();
        let groups: Vec<_> = std::iter::from_fn(|| mux.poll_event())
            .filter_map(|e| match e {
                MuxEvent::Group(_, n) => Some(n.state),
                _ => None,
            })
            .collect();
        assert_eq!(groups, [State::Backup], "INIT, never announced, to BACKUP");
        assert!(mux.add_sync_group("h", &[a]).is_err());
        mux.set_sync_groups(t0, &[]).unwrap();
        assert_eq!(mux.add_sync_group("h", &[a]), Ok(crate::mux::GroupId(0)));
    }

    /// A unicast router of `vrid` 1 with source 10.0.0.2 and one peer.
    fn unicast(name: &str, peer: u8) -> Config {
        let mut c = config(name, 1);
        c.unicast_peers = vec![Ipv4Addr::new(10, 0, 0, peer)];
        c
    }

    #[test]
    fn reconfigure_router_keeps_the_unicast_sharing_rule() {
        let t0 = Instant::now();
        let mut mux = Mux::new();
        let add = |mux: &mut Mux, c| mux.add_router(1, VirtualRouter::new(c).unwrap());
        let dup = |vrid| MuxError::Duplicate { ifindex: 1, vrid };
        add(&mut mux, unicast("a", 3)).unwrap();
        let b = add(&mut mux, unicast("b", 4)).unwrap();
        // The same source and a peer in common: what `add` refuses...
        assert_eq!(add(&mut mux, unicast("c", 3)), Err(dup(1)));
        // ...and so does a reconfiguration, which changes nothing.
        assert_eq!(mux.reconfigure_router(t0, b, unicast("b", 3)), Err(dup(1)));
        let peers = &mux.router(b).unwrap().config().unicast_peers;
        assert_eq!(peers, &[Ipv4Addr::new(10, 0, 0, 4)]);
        // Its own key and peer are no clash; another free peer neither.
        let same = mux.reconfigure_router(t0, b, unicast("b", 4));
        assert_eq!(same, Ok(Change::Unchanged));
        let other = mux.reconfigure_router(t0, b, unicast("b", 5));
        assert!(matches!(other, Ok(Change::InPlace(_))), "{other:?}");
        // A multicast router's key is its own: another router's is refused,
        // a free one is another instance.
        add(&mut mux, config("m", 2)).unwrap();
        let m2 = add(&mut mux, config("m2", 3)).unwrap();
        assert_eq!(mux.reconfigure_router(t0, m2, config("m2", 2)), Err(dup(2)));
        let free = mux.reconfigure_router(t0, m2, config("m2", 4));
        assert_eq!(free, Ok(Change::Restart));
    }

    #[test]
    fn reconcile_checks_the_unicast_rule_on_the_whole_set() {
        let t0 = Instant::now();
        let mut mux = Mux::new();
        let both = |pa, pb| Desired {
            routers: vec![(1, unicast("a", pa)), (1, unicast("b", pb))],
            groups: Vec::new(),
        };
        mux.reconcile(t0, &both(3, 5)).unwrap();
        // The two exchange their peers: each one, applied alone, clashes
        // with the other's old configuration, but the set is valid.
        let done = mux.reconcile(t0, &both(5, 3)).unwrap();
        assert_eq!((done.updated.len(), done.added.len()), (2, 0));
        let peer = |i| mux.router(RouterId(i)).unwrap().config().unicast_peers[0];
        assert_eq!(
            [peer(0), peer(1)],
            [5, 3].map(|p| Ipv4Addr::new(10, 0, 0, p))
        );
    }

    #[test]
    fn a_new_group_of_routers_in_init_announces_nothing() {
        let t0 = Instant::now();
        let mut mux = Mux::new();
        let routers = [("a", 1), ("b", 2)].map(|(name, vrid)| {
            let router = VirtualRouter::new(config(name, vrid)).unwrap();
            mux.add_router(1, router).unwrap()
        });
        mux.set_sync_groups(t0, &[("g", routers.to_vec())]).unwrap();
        let events: Vec<_> = std::iter::from_fn(|| mux.poll_event()).collect();
        assert_eq!(events, []);
    }
}
