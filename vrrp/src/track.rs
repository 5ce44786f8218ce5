//! keepalived's tracked objects (`track_interface`, `track_script`,
//! `track_file`, `track_process`): their status, weighted, becomes the
//! [`Tracking`] a router takes (priority weights and FAULT). Sans-IO: the
//! embedder watches the objects (links, script exits, files, processes) and
//! reports each status with [`Tracker::set_status`].
//!
//! The rules are keepalived 2.2.7's (`vrrp_track.c`), per object tracked by
//! a router with weight `w` (clamped to -253..=253) and `reverse`
//! (multiplier `m` = -1, else 1):
//! * weight 0: the router is in FAULT while the object is down (while it is
//!   up with `reverse`), and while a script has not reported yet;
//! * otherwise an up object adds `w * m` if `w > 0`, a down one adds `w * m`
//!   if `w < 0`, and a script that has not reported yet adds nothing;
//! * a tracked file adds its value times `w * m` (at most 253; -254 or less
//!   is FAULT; here `w` is clamped to -254..=254 only, as keepalived reads
//!   a file's weight); with weight 0 a non-zero value is FAULT (zero with
//!   `reverse`).
//!
//! The router adds the sum to its base priority and clamps it to 1..=254;
//! an address owner (255) keeps 255 whatever the weights
//! ([`crate::config::effective_priority`]), and still enters FAULT.
//!
//! ```
//! use vrrp::mux::RouterId;
//! use vrrp::router::Tracking;
//! use vrrp::track::{Kind, Status, Track, Tracker};
//!
//! let mut tracker = Tracker::new();
//! let eth1 = tracker.add_object(Kind::Interface, "eth1", Status::Up);
//! let chk = tracker.add_object(Kind::Script, "chk_haproxy", Status::Unknown);
//! let vi = RouterId(0);
//! tracker.track(vi, eth1, Track::weight(10));
//! tracker.track(vi, chk, Track::weight(-20));
//! assert_eq!(tracker.tracking(vi), Tracking { weight: 10, fault: false });
//! // The script fails: only this router's tracking changed.
//! let changed: Vec<_> = tracker.set_status(chk, Status::Down).collect();
//! assert_eq!(changed, [(vi, Tracking { weight: -10, fault: false })]);
//! ```

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::mux::{Mux, RouterId};
use crate::router::Tracking;

/// The largest weight keepalived accepts (it turns ±254 into ±253).
pub const MAX_WEIGHT: i32 = 253;

/// What kind of object is tracked (keepalived's `track_*` keyword).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Kind {
    /// `track_interface`: a network interface, up or down.
    Interface,
    /// `track_script`: a `vrrp_script`, succeeding (after `rise`) or
    /// failing (after `fall`).
    Script,
    /// `track_file`: a `vrrp_track_file` holding a number.
    File,
    /// `track_process`: a `vrrp_track_process`, with or without quorum.
    Process,
}

/// The last known status of a tracked object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Not known yet: a script that has not reported (keepalived's
    /// `SCRIPT_INIT_STATE_INIT`; with `init_fail` start it as `Down`).
    Unknown,
    /// Up, succeeding, quorum held (a file: value 1).
    Up,
    /// Down, failing, quorum lost (a file: value 0).
    Down,
    /// The number read from a tracked file.
    Value(i64),
}

/// How a router tracks one object: keepalived's `weight N [reverse]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Track {
    /// The weight, clamped to -253..=253; 0 means FAULT instead of a
    /// priority change.
    pub weight: i32,
    /// `reverse`: the weight applies with the opposite sign, and weight 0
    /// means FAULT while the object is up.
    pub reverse: bool,
}

impl Track {
    /// `weight N`, not reversed.
    pub fn weight(weight: i32) -> Self {
        Self {
            weight,
            reverse: false,
        }
    }

    /// `weight N reverse`.
    pub fn reversed(weight: i32) -> Self {
        Self {
            weight,
            reverse: true,
        }
    }

    /// What an object in `status` does to the router (keepalived 2.2.7
    /// rules, see the [module docs](self)).
    pub fn effect(&self, status: Status) -> Effect {
        let w = self.weight.clamp(-MAX_WEIGHT, MAX_WEIGHT);
        let m = if self.reverse { -1 } else { 1 };
        let up = match status {
            // keepalived takes a file's weight whole (-254..=254).
            Status::Value(v) => {
                return self.file_effect(v, self.weight.clamp(-MAX_WEIGHT - 1, MAX_WEIGHT + 1) * m)
            }
            Status::Unknown if w == 0 => return Effect::Fault,
            Status::Unknown => return Effect::Weight(0),
            Status::Up => true,
            Status::Down => false,
        };
        match w {
            0 if up == self.reverse => Effect::Fault,
            0 => Effect::Weight(0),
            w if (w > 0) == up => Effect::Weight(w * m),
            _ => Effect::Weight(0),
        }
    }

    /// A tracked file: with weight 0 a non-zero value (zero with `reverse`)
    /// is FAULT; otherwise the value times the signed weight, at most 253,
    /// FAULT at -254 or less.
    fn file_effect(&self, value: i64, signed_weight: i32) -> Effect {
        if signed_weight == 0 {
            return if (value != 0) != self.reverse {
                Effect::Fault
            } else {
                Effect::Weight(0)
            };
        }
        let v = value.saturating_mul(i64::from(signed_weight));
        if v <= -254 {
            Effect::Fault
        } else {
            // In -253..=253 after the cap, so the cast is exact.
            Effect::Weight(v.min(253) as i32)
        }
    }
}

/// What one tracked object does to a router.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Adds this to the router's priority (0: nothing).
    Weight(i32),
    /// Holds the router in FAULT.
    Fault,
}

/// Index of a tracked object in its [`Tracker`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId(pub u32);

#[derive(Debug)]
struct Object {
    kind: Kind,
    name: Arc<str>,
    status: Status,
    /// Routers tracking it, with how.
    trackers: Vec<(RouterId, Track)>,
}

/// Every tracked object of a process and the routers that track them; turns
/// status changes into the routers' new [`Tracking`].
#[derive(Debug, Default)]
pub struct Tracker {
    objects: Vec<Object>,
    by_name: HashMap<(Kind, Arc<str>), ObjectId>,
    /// The last tracking computed per router, to report changes only.
    last: HashMap<RouterId, Tracking>,
}

impl Tracker {
    /// No objects.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an object (or returns the one of this kind and name, keeping its
    /// status).
    pub fn add_object(&mut self, kind: Kind, name: &str, status: Status) -> ObjectId {
        if let Some(id) = self.find(kind, name) {
            return id;
        }
        // More than u32::MAX objects cannot be configured; saturate.
        let id = ObjectId(u32::try_from(self.objects.len()).unwrap_or(u32::MAX));
        let name: Arc<str> = Arc::from(name);
        self.objects.push(Object {
            kind,
            name: name.clone(),
            status,
            trackers: Vec::new(),
        });
        self.by_name.insert((kind, name), id);
        id
    }

    /// The object of this kind and name.
    pub fn find(&self, kind: Kind, name: &str) -> Option<ObjectId> {
        self.by_name.get(&(kind, Arc::from(name))).copied()
    }

    /// The kind, name and status of an object.
    pub fn object(&self, id: ObjectId) -> Option<(Kind, &str, Status)> {
        let o = self.objects.get(id.0 as usize)?;
        Some((o.kind, &o.name, o.status))
    }

    /// Router `router` tracks `object` with `track` (replacing an earlier
    /// `track` of the same object). Unknown objects are ignored.
    pub fn track(&mut self, router: RouterId, object: ObjectId, track: Track) {
        let Some(o) = self.objects.get_mut(object.0 as usize) else {
            return;
        };
        o.trackers.retain(|(r, _)| *r != router);
        o.trackers.push((router, track));
        let t = self.tracking(router);
        self.last.insert(router, t);
    }

    /// Forgets every tracking of `router` (it was removed from its mux).
    pub fn untrack_router(&mut self, router: RouterId) {
        for o in &mut self.objects {
            o.trackers.retain(|(r, _)| *r != router);
        }
        self.last.remove(&router);
    }

    /// The tracking of `router` from the current statuses.
    pub fn tracking(&self, router: RouterId) -> Tracking {
        let mut t = Tracking::default();
        for o in &self.objects {
            for (_, track) in o.trackers.iter().filter(|(r, _)| *r == router) {
                match track.effect(o.status) {
                    Effect::Weight(w) => t.weight = t.weight.saturating_add(w),
                    Effect::Fault => t.fault = true,
                }
            }
        }
        t
    }

    /// Records a new status; returns the routers whose tracking changed,
    /// with their new tracking (give it to
    /// [`Mux::handle_tracking`], or use [`Tracker::update`]).
    pub fn set_status(
        &mut self,
        object: ObjectId,
        status: Status,
    ) -> impl Iterator<Item = (RouterId, Tracking)> + '_ {
        let mut routers = Vec::new();
        if let Some(o) = self.objects.get_mut(object.0 as usize) {
            if o.status != status {
                o.status = status;
                routers = o.trackers.iter().map(|(r, _)| *r).collect();
            }
        }
        routers.into_iter().filter_map(move |r| {
            let t = self.tracking(r);
            let old = self.last.insert(r, t);
            (old != Some(t)).then_some((r, t))
        })
    }

    /// [`set_status`](Self::set_status), and hands every changed tracking
    /// to `mux` at `now`; drain the mux's outputs afterwards.
    pub fn update(&mut self, now: Instant, mux: &mut Mux, object: ObjectId, status: Status) {
        for (router, tracking) in self.set_status(object, status) {
            mux.handle_tracking(now, router, tracking);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use super::*;

    fn weight(w: i32) -> Effect {
        Effect::Weight(w)
    }

    #[test]
    fn interface_and_script_rules_follow_keepalived() {
        use Status::*;
        // (track, up, down, not yet known)
        let cases = [
            (Track::weight(0), weight(0), Effect::Fault, Effect::Fault),
            (Track::reversed(0), Effect::Fault, weight(0), Effect::Fault),
            (Track::weight(10), weight(10), weight(0), weight(0)),
            (Track::weight(-10), weight(0), weight(-10), weight(0)),
            (Track::reversed(10), weight(-10), weight(0), weight(0)),
            (Track::reversed(-10), weight(0), weight(10), weight(0)),
            (Track::weight(300), weight(253), weight(0), weight(0)),
            (Track::weight(-300), weight(0), weight(-253), weight(0)),
        ];
        for (track, up, down, unknown) in cases {
            assert_eq!(
                [track.effect(Up), track.effect(Down), track.effect(Unknown)],
                [up, down, unknown],
                "{track:?}"
            );
        }
    }

    #[test]
    fn file_values_are_weighted_and_capped() {
        let v = Status::Value;
        assert_eq!(Track::weight(0).effect(v(0)), weight(0));
        assert_eq!(Track::weight(0).effect(v(3)), Effect::Fault);
        assert_eq!(Track::reversed(0).effect(v(0)), Effect::Fault);
        assert_eq!(Track::reversed(0).effect(v(3)), weight(0));
        assert_eq!(Track::weight(10).effect(v(-5)), weight(-50));
        assert_eq!(Track::reversed(10).effect(v(-5)), weight(50));
        assert_eq!(Track::weight(10).effect(v(100)), weight(253));
        assert_eq!(Track::weight(1).effect(v(-253)), weight(-253));
        assert_eq!(Track::weight(1).effect(v(-254)), Effect::Fault);
        assert_eq!(Track::weight(253).effect(v(i64::MIN)), Effect::Fault);
        assert_eq!(Track::weight(254).effect(v(-1)), Effect::Fault);
        assert_eq!(Track::weight(300).effect(v(1)), weight(253));
    }

    #[test]
    fn weights_sum_per_router() {
        // keepalived-lite's example: eth1 weight 10, eth2 weight 0, script
        // "up" weight -20, script "gain" weight 5.
        let mut t = Tracker::new();
        let r = RouterId(3);
        let eth1 = t.add_object(Kind::Interface, "eth1", Status::Up);
        let eth2 = t.add_object(Kind::Interface, "eth2", Status::Up);
        let up = t.add_object(Kind::Script, "up", Status::Unknown);
        let gain = t.add_object(Kind::Script, "gain", Status::Unknown);
        t.track(r, eth1, Track::weight(10));
        t.track(r, eth2, Track::weight(0));
        t.track(r, up, Track::weight(-20));
        t.track(r, gain, Track::weight(5));
        let tracking = |weight, fault| Tracking { weight, fault };
        // Scripts that have not reported add nothing (keepalived 2.2.7).
        assert_eq!(t.tracking(r), tracking(10, false));
        assert_eq!(
            t.set_status(gain, Status::Up).collect::<Vec<_>>(),
            [(r, tracking(15, false))]
        );
        assert_eq!(
            t.set_status(up, Status::Down).collect::<Vec<_>>(),
            [(r, tracking(-5, false))]
        );
        assert_eq!(
            t.set_status(eth1, Status::Down).collect::<Vec<_>>(),
            [(r, tracking(-15, false))]
        );
        assert_eq!(
            t.set_status(eth2, Status::Down).collect::<Vec<_>>(),
            [(r, tracking(-15, true))]
        );
        // The same status again changes nothing.
        assert_eq!(t.set_status(eth2, Status::Down).count(), 0);
    }

    #[test]
    fn update_drives_the_mux_and_spares_the_owner() {
        use crate::{Config, State, VirtualRouter};
        let t0 = Instant::now();
        let mut mux = Mux::new();
        let ip = std::net::Ipv4Addr::new(10, 0, 0, 1);
        let router = |prio| VirtualRouter::new(Config::new("vi", prio, prio, ip)).unwrap();
        let owner = mux.add_router(1, router(255)).unwrap();
        let plain = mux.add_router(1, router(100)).unwrap();
        mux.handle_startup(t0);
        let mut t = Tracker::new();
        let chk = t.add_object(Kind::Script, "chk", Status::Up);
        let eth2 = t.add_object(Kind::Interface, "eth2", Status::Up);
        for r in [owner, plain] {
            t.track(r, chk, Track::weight(-50));
            t.track(r, eth2, Track::weight(0));
        }
        t.update(t0, &mut mux, chk, Status::Down);
        let prio = |mux: &Mux, r| mux.router(r).unwrap().priority();
        assert_eq!((prio(&mux, owner), prio(&mux, plain)), (255, 50));
        t.update(t0, &mut mux, eth2, Status::Down);
        let state = |mux: &Mux, r| mux.router(r).unwrap().state();
        assert_eq!(
            (state(&mux, owner), state(&mux, plain)),
            (State::Fault, State::Fault)
        );
    }

    #[test]
    fn objects_are_shared_and_found_by_kind_and_name() {
        let mut t = Tracker::new();
        let a = t.add_object(Kind::Script, "chk", Status::Unknown);
        assert_eq!(t.add_object(Kind::Script, "chk", Status::Up), a);
        let f = t.add_object(Kind::File, "chk", Status::Value(0));
        assert_ne!(f, a);
        assert_eq!(t.find(Kind::Script, "chk"), Some(a));
        assert_eq!(t.object(a), Some((Kind::Script, "chk", Status::Unknown)));
        let (r1, r2) = (RouterId(0), RouterId(1));
        t.track(r1, a, Track::weight(0));
        t.track(r2, a, Track::weight(7));
        let got: Vec<_> = t.set_status(a, Status::Up).collect();
        assert_eq!(
            got,
            [
                (r1, Tracking::default()),
                (
                    r2,
                    Tracking {
                        weight: 7,
                        fault: false
                    }
                )
            ]
        );
        t.untrack_router(r2);
        assert_eq!(
            t.set_status(a, Status::Down)
                .map(|(r, _)| r)
                .collect::<Vec<_>>(),
            [r1]
        );
    }
}
