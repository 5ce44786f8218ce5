//! The instances' tracked interfaces and scripts, wired to the `vrrp`
//! crate's [`Tracker`] (keepalived's weights and FAULT rules live there);
//! this only keeps it in step with the configuration and remembers what
//! the driver was given.

use std::collections::HashMap;

use vrrp::mux::RouterId;
use vrrp::router;
use vrrp::track::{Kind, Status, Track, Tracker};
use vrrp_conf::convert::vrrp::InstancePlan;

/// The tracker and the tracking each router last got.
#[derive(Debug, Default)]
pub struct Tracking {
    tracker: Tracker,
    routers: Vec<RouterId>,
    sent: HashMap<RouterId, router::Tracking>,
}

impl Tracking {
    /// Makes `routers` (and only them) track their instance's objects.
    /// Objects seen before keep their status; a new interface starts as
    /// `link_up` says, a new script as not yet known.
    pub fn retrack(
        &mut self,
        routers: &[(RouterId, &InstancePlan)],
        mut link_up: impl FnMut(&str) -> bool,
    ) {
        for id in std::mem::take(&mut self.routers) {
            self.tracker.untrack_router(id);
        }
        for &(id, plan) in routers {
            for t in &plan.interfaces {
                let obj = match self.tracker.find(Kind::Interface, &t.name) {
                    Some(obj) => obj,
                    None => {
                        let status = if link_up(&t.name) {
                            Status::Up
                        } else {
                            Status::Down
                        };
                        self.tracker.add_object(Kind::Interface, &t.name, status)
                    }
                };
                self.tracker.track(id, obj, Track::weight(t.weight));
            }
            for t in &plan.scripts {
                let obj = self
                    .tracker
                    .add_object(Kind::Script, &t.name, Status::Unknown);
                self.tracker.track(id, obj, Track::weight(t.weight));
            }
            self.routers.push(id);
        }
        let kept: std::collections::HashSet<RouterId> = self.routers.iter().copied().collect();
        self.sent.retain(|id, _| kept.contains(id));
    }

    /// Records a new status of a tracked object (unknown objects are
    /// ignored: nothing tracks them).
    pub fn set(&mut self, kind: Kind, name: &str, status: Status) {
        if let Some(obj) = self.tracker.find(kind, name) {
            // The routers to update are found by `pending`.
            let _ = self.tracker.set_status(obj, status).count();
        }
    }

    /// The routers whose tracking differs from what they were last given
    /// (a new router has none), recorded as given.
    pub fn pending(&mut self) -> Vec<(RouterId, router::Tracking)> {
        let mut out = Vec::new();
        for &id in &self.routers {
            let t = self.tracker.tracking(id);
            if self.sent.get(&id).copied().unwrap_or_default() != t {
                self.sent.insert(id, t);
                out.push((id, t));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vrrp_conf::convert::vrrp::Tracked;

    fn plan(interfaces: &[(&str, i32)], scripts: &[(&str, i32)]) -> InstancePlan {
        let t = |v: &[(&str, i32)]| {
            v.iter()
                .map(|(n, w)| Tracked {
                    name: (*n).to_owned(),
                    weight: *w,
                })
                .collect()
        };
        InstancePlan {
            name: "VI_1".into(),
            notify: Default::default(),
            interfaces: t(interfaces),
            scripts: t(scripts),
        }
    }

    fn tracking(weight: i32, fault: bool) -> router::Tracking {
        router::Tracking { weight, fault }
    }

    #[test]
    fn only_changes_are_pending_across_reloads() {
        let a = plan(&[("eth1", 10)], &[("chk", -20)]);
        let b = plan(&[("eth2", 0)], &[]);
        let mut t = Tracking::default();
        t.retrack(&[(RouterId(0), &a), (RouterId(1), &b)], |n| n == "eth1");
        // eth2 is down and tracked with weight 0: FAULT.
        assert_eq!(
            t.pending(),
            [
                (RouterId(0), tracking(10, false)),
                (RouterId(1), tracking(0, true))
            ]
        );
        assert_eq!(t.pending(), []);
        t.set(Kind::Script, "chk", Status::Down);
        t.set(Kind::Script, "unknown", Status::Down);
        assert_eq!(t.pending(), [(RouterId(0), tracking(-10, false))]);
        // A reload: router 0 stays as it is, router 1 is gone, router 2 is
        // new and tracks eth1, whose status is remembered (up).
        let c = plan(&[("eth1", 5)], &[]);
        t.retrack(&[(RouterId(0), &a), (RouterId(2), &c)], |_| false);
        assert_eq!(t.pending(), [(RouterId(2), tracking(5, false))]);
        t.set(Kind::Interface, "eth1", Status::Down);
        assert_eq!(
            t.pending(),
            [
                (RouterId(0), tracking(-20, false)),
                (RouterId(2), tracking(0, false))
            ]
        );
    }
}
