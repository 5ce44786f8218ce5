//! What the VRRP half publishes for the dumps ([`crate::dump`]) and the
//! metrics endpoint ([`crate::metrics`]): its driver handle and, per
//! running router, what the configuration says about it. The VRRP daemon
//! publishes on every (re)configuration and reports transitions; readers
//! on other threads take a [`VrrpState`] whenever they need one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use vrrp::linux::driver::{DriverHandle, RouterSnapshot, RouterSpec, Snapshot};
use vrrp::mux::RouterId;
use vrrp_conf::convert::vrrp::Plan;
use vrrp_conf::model::Notify;

/// One running router as configured.
#[derive(Debug, Clone)]
pub struct InstanceView {
    /// The driver's id for it.
    pub id: RouterId,
    /// The driver's specification (configuration, interface, addresses).
    pub spec: RouterSpec,
    /// Notify scripts.
    pub notify: Notify,
    /// `track_interface` names.
    pub track_interfaces: Vec<String>,
    /// `track_script` command lines (words), in the instance's order.
    pub track_scripts: Vec<Vec<String>>,
}

/// One router now: as configured, as running, and when it last changed
/// state.
#[derive(Debug, Clone)]
pub struct InstanceState {
    /// As configured.
    pub view: Arc<InstanceView>,
    /// As running (None if the driver no longer runs it).
    pub run: Option<RouterSnapshot>,
    /// Its last state change (None before the first).
    pub last_transition: Option<SystemTime>,
}

/// Every router of the VRRP half now.
#[derive(Debug, Clone)]
pub struct VrrpState {
    /// In configuration order.
    pub instances: Vec<InstanceState>,
    /// The driver's whole snapshot (mux and driver counters too).
    pub snapshot: Snapshot,
}

#[derive(Default)]
struct Published {
    handle: Option<DriverHandle>,
    instances: Vec<Arc<InstanceView>>,
    transitions: HashMap<RouterId, SystemTime>,
}

static VRRP: Mutex<Option<Published>> = Mutex::new(None);

fn published() -> MutexGuard<'static, Option<Published>> {
    VRRP.lock().unwrap_or_else(|e| e.into_inner())
}

/// Publishes the routers of `plan`, run by `handle` under `ids` (the
/// driver's ids, in [`Plan::setup`] order).
pub fn publish_vrrp(handle: &DriverHandle, plan: &Plan, ids: &[RouterId]) {
    let scripts: HashMap<&str, &Vec<String>> = (plan.scripts.iter())
        .filter_map(|s| Some((s.name.as_str(), s.script.as_ref()?)))
        .collect();
    let setup = plan.setup();
    let instances = (ids.iter().zip(setup.routers).zip(plan.instances()))
        .map(|((&id, spec), i)| {
            Arc::new(InstanceView {
                id,
                spec,
                notify: i.notify.clone(),
                track_interfaces: i.interfaces.iter().map(|t| t.name.clone()).collect(),
                track_scripts: (i.scripts.iter())
                    .filter_map(|t| scripts.get(t.name.as_str()).map(|w| (*w).clone()))
                    .collect(),
            })
        })
        .collect();
    let mut p = published();
    let p = p.get_or_insert_with(Published::default);
    p.handle = Some(handle.clone());
    p.instances = instances;
    p.transitions.retain(|id, _| ids.contains(id));
}

/// Router `id` changed state now.
pub fn transition(id: RouterId) {
    let mut p = published();
    let p = p.get_or_insert_with(Published::default);
    p.transitions.insert(id, SystemTime::now());
}

/// The VRRP half now, or None if it does not run (or has stopped).
pub async fn vrrp() -> Option<VrrpState> {
    let (handle, views, transitions) = {
        let p = published();
        let p = p.as_ref()?;
        (
            p.handle.clone()?,
            p.instances.clone(),
            p.transitions.clone(),
        )
    };
    let snapshot = handle.snapshot().await?;
    let instances = views
        .into_iter()
        .map(|view| InstanceState {
            run: snapshot.routers.iter().find(|r| r.id == view.id).cloned(),
            last_transition: transitions.get(&view.id).copied(),
            view,
        })
        .collect();
    Some(VrrpState {
        instances,
        snapshot,
    })
}
