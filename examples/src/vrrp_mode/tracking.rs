//! The instances' tracked interfaces, scripts, files and processes, wired
//! to the `vrrp` crate's [`Tracker`] (keepalived's weights and FAULT rules
//! live there) and its watchers (`vrrp::linux::track_file`,
//! `vrrp::linux::track_process`); this only keeps them in step with the
//! configuration and remembers what the driver was given.

use std::collections::HashMap;

use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tracing::{info, warn};
use vrrp::linux::track_file::{self, AsyncFileWatcher, FileWatcher};
use vrrp::linux::track_process::ProcessWatcher;
use vrrp::mux::RouterId;
use vrrp::router;
use vrrp::track::{Kind, Status, Track, Tracker};
use vrrp_conf::convert::vrrp::{InstancePlan, TrackedFile, TrackedObject, TrackedProcess};

/// keepalived's `weight N [reverse]` of one tracked object.
fn track(weight: i32, reverse: bool) -> Track {
    Track { weight, reverse }
}

/// A tracked object's new status, from a watcher.
pub type Change = (Kind, String, Status);

/// The tracker and the tracking each router last got.
#[derive(Debug, Default)]
pub struct Tracking {
    tracker: Tracker,
    routers: Vec<RouterId>,
    sent: HashMap<RouterId, router::Tracking>,
    /// The file and process watchers of the running plan.
    watchers: JoinSet<()>,
    changes: Option<mpsc::Receiver<Change>>,
    /// Whether a plan was watched before (`init_file` does not overwrite
    /// on a reload).
    started: bool,
    /// The files and processes watched, and those before the last
    /// [`Tracking::initial`].
    watched: Option<Watched>,
    previous: Option<Watched>,
}

/// The tracked files and processes of a plan.
pub type Watched = (Vec<TrackedFile>, Vec<TrackedProcess>);

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
            self.track_plan(id, plan, &mut link_up);
            self.routers.push(id);
        }
        let kept: std::collections::HashSet<RouterId> = self.routers.iter().copied().collect();
        self.sent.retain(|id, _| kept.contains(id));
    }

    /// The tracking each of `plans` starts with, as keepalived computes it
    /// before starting its instances: the objects' status now (those seen
    /// before keep theirs), after (re)starting the watchers of the plan's
    /// `watch` (its files and processes), which records their status now. The running
    /// routers are not touched; [`Tracking::rewatch`] goes back to the
    /// previous watchers if the plan is not applied.
    pub fn initial(
        &mut self,
        plans: &[InstancePlan],
        watch: Watched,
        mut link_up: impl FnMut(&str) -> bool,
    ) -> Vec<router::Tracking> {
        // Stand-in ids no driver hands out.
        let ids = (0..plans.len()).map(|k| RouterId(u32::MAX - k as u32));
        let ids: Vec<RouterId> = ids.collect();
        for (&id, p) in ids.iter().zip(plans) {
            self.track_plan(id, p, &mut link_up);
        }
        self.previous = self.watched.take();
        self.watch(watch.0, watch.1);
        let out = ids.iter().map(|&id| self.tracker.tracking(id)).collect();
        for id in ids {
            self.tracker.untrack_router(id);
        }
        out
    }

    /// Goes back to the watchers before [`Tracking::initial`].
    pub fn rewatch(&mut self) {
        if let Some((files, processes)) = self.previous.take() {
            self.watch(files, processes);
        }
    }

    fn track_plan(
        &mut self,
        id: RouterId,
        plan: &InstancePlan,
        link_up: &mut impl FnMut(&str) -> bool,
    ) {
        {
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
                self.tracker.track(id, obj, track(t.weight, t.reverse));
            }
            for t in &plan.scripts {
                let obj = self
                    .tracker
                    .add_object(Kind::Script, &t.name, Status::Unknown);
                self.tracker.track(id, obj, track(t.weight, t.reverse));
            }
            // Their status comes from `watch`, before the tracking is sent.
            self.track_all(id, Kind::File, &plan.files, Status::Value(0));
            self.track_all(id, Kind::Process, &plan.processes, Status::Down);
        }
    }

    fn track_all(&mut self, id: RouterId, kind: Kind, objects: &[TrackedObject], status: Status) {
        for t in objects {
            let obj = self.tracker.add_object(kind, &t.name, status);
            self.tracker.track(id, obj, track(t.weight, t.reverse));
        }
    }

    /// (Re)starts the watchers of the tracked files and processes;
    /// their status now is recorded at once (keepalived reads the files
    /// and scans the processes at start-up), changes come from
    /// [`Tracking::changed`]. Files that cannot be watched are logged and
    /// keep the value 0.
    fn watch(&mut self, files: Vec<TrackedFile>, processes: Vec<TrackedProcess>) {
        self.watchers.abort_all();
        self.changes = None;
        let (tx, rx) = mpsc::channel(64);
        if !files.is_empty() {
            self.watch_files(&files, tx.clone());
        }
        if !processes.is_empty() {
            let specs = processes.iter().map(|p| p.spec.clone());
            let mut w = ProcessWatcher::new(specs.collect());
            for (name, status) in w.initial() {
                self.set(Kind::Process, &name, status);
            }
            self.watchers.spawn(scan_processes(w, tx));
        }
        self.changes = Some(rx);
        self.started = true;
        self.watched = Some((files, processes));
    }

    fn watch_files(&mut self, files: &[TrackedFile], tx: mpsc::Sender<Change>) {
        let mut w = match FileWatcher::new() {
            Ok(w) => w,
            Err(e) => return warn!("Unable to monitor track files: {e}"),
        };
        for f in files {
            if let Some(init) = f.init {
                let reload = self.started;
                if let Err(e) = track_file::init_file(&f.path, init.value, init.overwrite, reload) {
                    warn!("Unable to initialise track file {}: {e}", f.name);
                }
            }
            match w.add(&f.name, &f.path) {
                Ok(v) => self.set(Kind::File, &f.name, Status::Value(v)),
                Err(e) => warn!("{e} - ignoring"),
            }
        }
        match AsyncFileWatcher::new(w) {
            Ok(fd) => {
                self.watchers.spawn(watch_files(fd, tx));
            }
            Err(e) => warn!("Unable to monitor track files: {e}"),
        }
    }

    /// The next change a watcher saw (pending forever without watchers).
    pub async fn changed(&mut self) -> Option<Change> {
        match &mut self.changes {
            Some(rx) => rx.recv().await,
            None => std::future::pending().await,
        }
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

/// Reads the inotify events of the tracked files as they come.
async fn watch_files(mut w: AsyncFileWatcher, tx: mpsc::Sender<Change>) {
    loop {
        let changed = match w.changed().await {
            Ok(c) => c,
            Err(e) => return warn!("inotify read() returned error {e}"),
        };
        for (name, v) in changed {
            if tx.send((Kind::File, name, Status::Value(v))).await.is_err() {
                return;
            }
        }
    }
}

/// Forwards the tracked processes' quorum changes, with keepalived's
/// log line.
async fn scan_processes(mut w: ProcessWatcher, tx: mpsc::Sender<Change>) {
    loop {
        for (name, status) in w.changed().await {
            let what = if status == Status::Up {
                "gained"
            } else {
                "lost"
            };
            info!("Quorum {what} for tracked process {name}");
            if tx.send((Kind::Process, name, status)).await.is_err() {
                return;
            }
        }
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
                    reverse: false,
                })
                .collect()
        };
        InstancePlan {
            name: "VI_1".into(),
            notify: Default::default(),
            interfaces: t(interfaces),
            scripts: t(scripts),
            files: Vec::new(),
            processes: Vec::new(),
            debug: 0,
            promote_secondaries: false,
            priority_changes: false,
        }
    }

    #[test]
    fn files_and_processes_take_weight_and_reverse() {
        let obj = |name: &str, weight, reverse| TrackedObject {
            name: name.into(),
            weight,
            reverse,
        };
        let mut a = plan(&[], &[]);
        a.files = vec![obj("tf", 10, true)];
        a.processes = vec![obj("tp", 0, false)];
        let mut t = Tracking::default();
        t.retrack(&[(RouterId(0), &a)], |_| true);
        // Until the watchers report: value 0, process down (FAULT).
        assert_eq!(t.pending(), [(RouterId(0), tracking(0, true))]);
        t.set(Kind::Process, "tp", Status::Up);
        t.set(Kind::File, "tf", Status::Value(-3));
        assert_eq!(t.pending(), [(RouterId(0), tracking(30, false))]);
    }

    fn tracking(weight: i32, fault: bool) -> router::Tracking {
        router::Tracking { weight, fault }
    }

    #[tokio::test]
    async fn initial_tracking_comes_before_the_ids_and_leaves_running_routers() {
        let a = plan(&[("eth1", 10)], &[]);
        let mut t = Tracking::default();
        t.retrack(&[(RouterId(0), &a)], |_| true);
        assert_eq!(t.pending(), [(RouterId(0), tracking(10, false))]);
        // A reload adds a router tracking eth1 (remembered up) and eth2
        // (down, weight -5): it starts with 5; router 0 is untouched.
        let b = plan(&[("eth1", 10), ("eth2", -5)], &[]);
        let got = t.initial(std::slice::from_ref(&b), Default::default(), |n| {
            n == "eth1"
        });
        assert_eq!(got, [tracking(5, false)]);
        assert_eq!(t.pending(), []);
        t.retrack(&[(RouterId(0), &a), (RouterId(1), &b)], |_| false);
        assert_eq!(t.pending(), [(RouterId(1), tracking(5, false))]);
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
