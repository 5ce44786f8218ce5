//! keepalived's tracking arithmetic: the state of tracked interfaces and
//! scripts, weighted, becomes the [`Tracking`] the state machine takes.

use std::collections::HashMap;

use vrrp::router::Tracking;

use super::plan::InstancePlan;

/// The last known health of every tracked object, by name.
#[derive(Debug, Default, Clone)]
pub struct Health {
    /// Interface name -> up and running.
    pub interfaces: HashMap<String, bool>,
    /// Script name -> succeeding (keepalived starts scripts as succeeding).
    pub scripts: HashMap<String, bool>,
}

impl Health {
    /// The tracking input of one instance.
    pub fn tracking(&self, plan: &InstancePlan) -> Tracking {
        let mut t = Tracking::default();
        for i in &plan.interfaces {
            let up = self.interfaces.get(&i.name).copied().unwrap_or(false);
            apply(&mut t, i.weight, up);
        }
        for s in &plan.scripts {
            let ok = self.scripts.get(&s.name).copied().unwrap_or(true);
            apply(&mut t, s.weight, ok);
        }
        t
    }
}

/// keepalived: weight 0 faults the instance while the object is down; a
/// positive weight is added while it is up, a negative one while it is down.
fn apply(t: &mut Tracking, weight: i32, ok: bool) {
    match (weight, ok) {
        (0, false) => t.fault = true,
        (w, true) if w > 0 => t.weight = t.weight.saturating_add(w),
        (w, false) if w < 0 => t.weight = t.weight.saturating_add(w),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::plan::Tracked;
    use super::*;

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

    #[test]
    fn weights_follow_keepalived() {
        let p = plan(&[("eth1", 10), ("eth2", 0)], &[("up", -20), ("gain", 5)]);
        let mut h = Health::default();
        h.interfaces.insert("eth1".into(), true);
        h.interfaces.insert("eth2".into(), true);
        // Scripts not yet run count as succeeding.
        assert_eq!(
            h.tracking(&p),
            Tracking {
                weight: 15,
                fault: false
            }
        );
        h.scripts.insert("up".into(), false);
        assert_eq!(
            h.tracking(&p),
            Tracking {
                weight: -5,
                fault: false
            }
        );
        h.interfaces.insert("eth1".into(), false);
        assert_eq!(
            h.tracking(&p),
            Tracking {
                weight: -15,
                fault: false
            }
        );
        h.interfaces.insert("eth2".into(), false);
        assert_eq!(
            h.tracking(&p),
            Tracking {
                weight: -15,
                fault: true
            }
        );
    }

    #[test]
    fn unknown_interface_counts_as_down() {
        let p = plan(&[("missing", 0)], &[]);
        assert!(Health::default().tracking(&p).fault);
    }
}
