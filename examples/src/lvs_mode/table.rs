//! The one bridge from `healthcheck` to `ipvs`: the monitor's events go
//! through a [`PoolTable`] (which owns keepalived's quorum, hysteresis,
//! sorry server and `inhibit_on_failure` rules); this module only maps
//! pools and targets back to the plan's services and real servers, to give
//! the desired IPVS table and keepalived's log lines, whose words are
//! [`healthcheck::words`]' (it looks up only the names they need).
//! Sans-IO: the daemon diffs [`Bridge::desired`] against what it last
//! applied. An operator's drain ([`Bridge::drain`], [`Bridge::restore`])
//! is the pool table's ([`PoolTable::drain`] says how it meets health);
//! the bridge names the server and keeps the drain across a reload.

use std::collections::HashMap;
use std::time::Instant;

use healthcheck::{Event, Monitor, PoolId, PoolTable, TableChange, TargetId};

use healthcheck::words::{self, member_line, quorum_lines};

use crate::lvs_mode::names::{self, NameError};
use crate::lvs_mode::plan::{trio, Plan, Probe, RealPlan, ServicePlan};
use crate::lvs_mode::reload::{self, Placed};
use crate::lvs_mode::suspend::HaSuspend;

/// Where a health-check target sits in the plan: (service, real server).
pub type Slot = (usize, usize);

/// The plan, the pool table that follows the monitor, and the ids that
/// lead from one to the other.
#[derive(Debug, Clone)]
pub struct Bridge {
    plan: Plan,
    table: PoolTable,
    /// Where the plan is in the monitor.
    placed: Placed,
    /// Notify and quorum scripts due (the words of their lines), for the
    /// daemon to run.
    scripts: Vec<Vec<String>>,
    /// notify FIFO lines due (`RS ...`, `VS ...`), for the daemon to write.
    fifo_lines: Vec<String>,
    /// `ha_suspend`'s switches.
    suspend: HaSuspend,
    /// Targets whose checker has ended a cycle (keepalived's `has_run`).
    ran: std::collections::HashSet<TargetId>,
}

/// What [`Bridge::drain`] or [`Bridge::restore`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drain {
    /// keepalived's name of the virtual server.
    pub virtual_server: String,
    /// keepalived's name of the real server.
    pub real_server: String,
    /// Whether it is drained now.
    pub drained: bool,
    /// False if it already was (or was not) drained.
    pub changed: bool,
}

impl Drain {
    /// The log line for a change (keepalived has no drain: the wording is
    /// keepalived-lite's, after perform_svr_state's).
    pub fn line(&self) -> String {
        let (rs, vs) = (&self.real_server, &self.virtual_server);
        if self.drained {
            format!("Draining service {rs} of VS {vs} (weight 0 until restored)")
        } else {
            format!("Restoring service {rs} of VS {vs}")
        }
    }
}

impl Bridge {
    /// Lays `plan` onto `monitor` (one pool per service, one target per
    /// real server: checked, or static without a checker) and returns
    /// its bridge. Not committed yet: [`Bridge::start`] does it.
    pub fn place(monitor: &mut Monitor, plan: Plan) -> Self {
        let placed = reload::place(monitor, &plan);
        // keepalived logs each checker's first result.
        monitor.report_first_checks();
        let mut bridge = Self {
            plan,
            table: PoolTable::new(),
            placed,
            scripts: Vec::new(),
            fifo_lines: Vec::new(),
            suspend: HaSuspend::default(),
            ran: std::collections::HashSet::new(),
        };
        bridge.gate_services();
        bridge
    }

    /// A switch for each `ha_suspend` service address, and no others.
    fn gate_services(&mut self) {
        let addrs: std::collections::HashSet<_> = self
            .plan
            .services
            .iter()
            .filter_map(|s| s.ha_suspend_address())
            .collect();
        self.suspend.retain(&addrs);
        for a in addrs {
            self.suspend.gate(a);
        }
    }

    /// The switch gating the checks of service `s`, under `ha_suspend`.
    pub fn gate(&self, s: usize) -> Option<std::sync::Arc<std::sync::atomic::AtomicBool>> {
        let addr = self.plan.services.get(s)?.ha_suspend_address()?;
        self.suspend.switch(addr)
    }

    /// Whether the checks of service `s` run (false while `ha_suspend`
    /// holds them).
    pub fn checks_active(&self, s: usize) -> bool {
        let addr = self
            .plan
            .services
            .get(s)
            .and_then(|s| s.ha_suspend_address());
        addr.is_none_or(|a| self.suspend.is_active(a))
    }

    /// Whether any service is under `ha_suspend` (then the daemon reads
    /// the host's addresses).
    pub fn uses_ha_suspend(&self) -> bool {
        self.suspend.is_used()
    }

    /// Sets the host's addresses; returns keepalived's lines for the
    /// checks that `ha_suspend` activates or suspends
    /// (`update_checker_activity`).
    pub fn set_local_addresses(
        &mut self,
        local: std::collections::HashSet<std::net::IpAddr>,
    ) -> Vec<String> {
        let mut lines = Vec::new();
        for (addr, on) in self.suspend.set_local(local) {
            let how = if on { "Activating" } else { "Suspending" };
            let services = self.plan.services.iter();
            for svc in services.filter(|s| s.ha_suspend_address() == Some(addr)) {
                for rs in svc.real_servers.iter().filter(|r| !r.checks.is_empty()) {
                    for _ in &rs.checks {
                        lines.push(format!(
                            "{how} healthchecker for service {} for VS {}",
                            rs.name, svc.name
                        ));
                    }
                }
            }
        }
        lines
    }

    /// Reloads: `plan` replaces the running one in `monitor` (stopped,
    /// its checks in flight requeued) as a diff, so unchanged real
    /// servers keep their health and only what changed is emitted;
    /// commits at `now` and returns keepalived's lines for the changes.
    ///
    /// A drained real server that is still in `plan` (same service, same
    /// address and port) stays drained, even if its checks or weight
    /// changed: an operator who drained it for maintenance expects a
    /// reload (maybe one made for another reason) to leave it alone, and
    /// the drain was never in the file to be edited out. One the reload
    /// drops is forgotten.
    pub fn reload(&mut self, monitor: &mut Monitor, plan: Plan, now: Instant) -> Vec<String> {
        let mut lines = self.dropped_lines(&plan);
        let drained = self.drained_servers();
        self.placed = reload::place(monitor, &plan);
        self.plan = plan;
        self.gate_services();
        self.redrain(&drained);
        monitor.commit(now);
        // No health change caused what follows.
        self.table.forget_causes();
        while let Some(event) = monitor.poll_event() {
            match self.table.handle(&event) {
                // As at start, keepalived adds real servers without a word.
                Some(TableChange::Added { .. }) | None => {}
                Some(change) => lines.extend(self.change_lines(&change)),
            }
        }
        lines
    }

    /// keepalived's lines for the services a reload to `new` drops
    /// (`clear_service_vs`): the service, then each real server in it.
    fn dropped_lines(&self, new: &Plan) -> Vec<String> {
        let mut lines = Vec::new();
        let kept: std::collections::HashSet<_> =
            new.services.iter().map(|n| n.service.key).collect();
        for (s, (svc, &pool)) in self
            .plan
            .services
            .iter()
            .zip(&self.placed.pools)
            .enumerate()
        {
            if kept.contains(&svc.service.key) {
                continue;
            }
            lines.push(format!("Removing Virtual Server {}", svc.name));
            for (target, _) in self.table.members(pool) {
                if let Some(rs) = self.real_server(s, target) {
                    lines.push(format!("Removing service {} from VS {}", rs.name, svc.name));
                }
            }
        }
        lines
    }

    /// Every checked target with its check, for a new driver.
    pub fn checks(&self) -> impl Iterator<Item = (TargetId, &crate::lvs_mode::plan::CheckPlan)> {
        self.placed
            .checks
            .iter()
            .filter_map(|(&t, &c)| Some((t, self.check_of(t, c)?)))
    }

    /// Check `c` of the real server `target` stands for.
    fn check_of(&self, target: TargetId, c: usize) -> Option<&crate::lvs_mode::plan::CheckPlan> {
        let (s, r) = self.slot_of(target)?;
        self.plan
            .services
            .get(s)?
            .real_servers
            .get(r)?
            .checks
            .get(c)
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The real server a target stands for.
    pub fn slot_of(&self, target: TargetId) -> Option<Slot> {
        self.placed.slots.get(&target).copied()
    }

    /// Commits `monitor` (keepalived's `init_services`: every real server
    /// in, an `alpha` one waiting for its first success, the sorry server
    /// in for a service starting below its quorum) and takes its first
    /// events; returns their log lines.
    pub fn start(&mut self, monitor: &mut Monitor, now: Instant) -> Vec<String> {
        monitor.commit(now);
        let mut lines = Vec::new();
        while let Some(event) = monitor.poll_event() {
            // init_service_rs puts the real servers in without a word.
            match self.table.handle(&event) {
                Some(TableChange::Added { .. }) | None => {}
                Some(change) => lines.extend(self.change_lines(&change)),
            }
        }
        lines
    }

    /// Takes the notify and quorum scripts due since the last call
    /// (keepalived's `do_rs_notifies`, `do_vs_notifies`): the words of
    /// each line, run without arguments.
    pub fn take_scripts(&mut self) -> Vec<Vec<String>> {
        std::mem::take(&mut self.scripts)
    }

    /// Takes the notify FIFO lines due since the last call, as keepalived's
    /// `notify_fifo_rs` and `notify_fifo_vs` write them with the scripts:
    /// `RS [10.1.0.1]:tcp:80 [10.0.0.1]:tcp:80 UP`, `VS [10.0.0.1]:tcp:80 DOWN`.
    pub fn take_fifo_lines(&mut self) -> Vec<String> {
        std::mem::take(&mut self.fifo_lines)
    }

    /// keepalived's lines at shutdown (`clear_service_rs` when stopping):
    /// one per real server, "(inhibited)" for a down one kept at weight 0.
    pub fn shutdown_lines(&self, monitor: &Monitor) -> Vec<String> {
        // A real server is alive while every one of its targets is up.
        let mut alive: HashMap<Slot, bool> = HashMap::new();
        for (&t, &slot) in &self.placed.slots {
            *alive.entry(slot).or_insert(true) &= monitor.is_up(t) == Some(true);
        }
        let mut lines = Vec::new();
        for (s, svc) in self.plan.services.iter().enumerate() {
            for (r, rs) in svc.real_servers.iter().enumerate() {
                let up = alive.get(&(s, r)).copied().unwrap_or(true);
                let inhibited = if rs.inhibit_on_failure && !up {
                    "(inhibited) "
                } else {
                    ""
                };
                lines.push(format!(
                    "Shutting down {inhibited}service {} from VS {}",
                    rs.name, svc.name
                ));
            }
        }
        lines
    }

    /// What runs at shutdown under `omega` (keepalived's
    /// `clear_service_rs`, `update_vs_notifies` when stopping): the
    /// `notify_down` of each live real server, then `quorum_down`.
    pub fn omega_scripts(&self, monitor: &Monitor) -> Vec<Vec<String>> {
        let mut live: Vec<Slot> = self
            .placed
            .slots
            .iter()
            .filter(|(&t, _)| monitor.is_up(t) == Some(true))
            .map(|(_, &slot)| slot)
            .collect();
        live.sort_unstable();
        let mut out = Vec::new();
        for (s, svc) in self.plan.services.iter().enumerate() {
            if !svc.omega {
                continue;
            }
            for &(_, r) in live.iter().filter(|(ls, _)| *ls == s) {
                let down = svc
                    .real_servers
                    .get(r)
                    .and_then(|rs| rs.notify_down.clone());
                out.extend(down);
            }
            out.extend(svc.quorum_down.clone());
        }
        out
    }

    /// Applies a monitor event; returns keepalived's log lines for it.
    pub fn handle(&mut self, event: &Event) -> Vec<String> {
        let mut lines = self.check_lines(event);
        if let Some(change) = self.table.handle(event) {
            lines.extend(self.change_lines(&change));
            self.scripts.extend(self.notify_script(&change));
            self.fifo_lines.extend(self.rs_fifo_line(&change));
        }
        lines
    }

    /// A real server's health change: its service, itself, and whether it
    /// is up now.
    fn rs_change(&self, change: &TableChange) -> Option<(&ServicePlan, &RealPlan, bool)> {
        let (pool, target, up) = match *change {
            TableChange::Added { pool, target, .. } | TableChange::Enabled { pool, target, .. } => {
                (pool, target, true)
            }
            TableChange::Removed { pool, target } | TableChange::Disabled { pool, target } => {
                (pool, target, false)
            }
            _ => return None,
        };
        let s = self.service_of(pool)?;
        Some((self.plan.services.get(s)?, self.real_server(s, target)?, up))
    }

    /// keepalived's `notify_fifo_rs` line for a real server's change.
    fn rs_fifo_line(&self, change: &TableChange) -> Option<String> {
        let (svc, rs, up) = self.rs_change(change)?;
        let state = if up { "UP" } else { "DOWN" };
        Some(format!("RS {} {} {state}", rs.name, svc.name))
    }

    /// A real server's `notify_up`/`notify_down` for its health change
    /// (with several checkers: when the last one passes, the first fails).
    fn notify_script(&self, change: &TableChange) -> Option<Vec<String>> {
        let (_, rs, up) = self.rs_change(change)?;
        if up {
            rs.notify_up.clone()
        } else {
            rs.notify_down.clone()
        }
    }

    /// The table keepalived-lite wants in the kernel now: each service
    /// (each of a `virtual_server group`'s) with its pool's members, or
    /// only its sorry server.
    pub fn desired(&self) -> Vec<ipvs::VirtualServer> {
        self.plan
            .services
            .iter()
            .zip(&self.placed.pools)
            .enumerate()
            .flat_map(|(s, (svc, &pool))| {
                let dests = match &svc.sorry_server {
                    Some(sorry) if self.table.sorry_server_in(pool) => vec![sorry.dest],
                    sorry => {
                        let mut dests: Vec<_> = self
                            .table
                            .members(pool)
                            .into_iter()
                            .filter_map(|(target, weight)| {
                                let mut d = self.real_server(s, target)?.dest;
                                d.weight = weight;
                                Some(d)
                            })
                            .collect();
                        // sorry_server_inhibit: standing by with weight 0
                        // (unless it is one of the real servers, as
                        // keepalived's s_svr_duplicates_rs).
                        let standby = sorry
                            .as_ref()
                            .filter(|s| s.inhibit && !dests.iter().any(|d| d.addr == s.dest.addr));
                        if let Some(sorry) = standby {
                            let mut d = sorry.dest;
                            d.weight = 0;
                            dests.push(d);
                        }
                        dests
                    }
                };
                svc.virtual_servers(&dests)
            })
            .collect()
    }

    /// Each service's name, quorum state (None before its first quorum
    /// event) and live weight sum ([`PoolTable::weight_sum`]), in plan
    /// order.
    pub fn service_states(&self) -> impl Iterator<Item = (&str, Option<bool>, u64)> {
        (self.plan.services.iter())
            .zip(&self.placed.pools)
            .map(|(svc, &pool)| {
                let t = &self.table;
                (svc.name.as_str(), t.quorum_up(pool), t.weight_sum(pool))
            })
    }

    /// Drains real server `rs` of virtual server `vs` (named as
    /// [`names`] says): weight 0 in [`Self::desired`] until
    /// [`Self::restore`], while it keeps being checked; see
    /// [`PoolTable::drain`] for how it meets health and quorum.
    pub fn drain(&mut self, vs: &str, rs: &str) -> Result<Drain, NameError> {
        self.set_drained(vs, rs, true)
    }

    /// Ends the drain of real server `rs` of virtual server `vs`: it has
    /// the weight its checks and configuration give now (its configured
    /// or dynamic weight if up; out, or 0 under `inhibit_on_failure`, if
    /// down).
    pub fn restore(&mut self, vs: &str, rs: &str) -> Result<Drain, NameError> {
        self.set_drained(vs, rs, false)
    }

    fn set_drained(&mut self, vs: &str, rs: &str, on: bool) -> Result<Drain, NameError> {
        let slot = names::find(&self.plan, vs, rs)?;
        let (svc, real) = (self.plan.services.get(slot.0))
            .and_then(|svc| Some((svc, svc.real_servers.get(slot.1)?)))
            .ok_or_else(|| NameError::UnknownVirtualServer(vs.to_owned()))?;
        let (virtual_server, real_server) = (svc.name.clone(), real.name.clone());
        let (pool, target) = self
            .member_of(slot)
            .ok_or_else(|| NameError::UnknownRealServer {
                vs: virtual_server.clone(),
                rs: rs.to_owned(),
            })?;
        let changed = if on {
            self.table.drain(pool, target)
        } else {
            self.table.restore(pool, target)
        };
        Ok(Drain {
            virtual_server,
            real_server,
            drained: on,
            changed,
        })
    }

    /// Whether the real server at `slot` is drained.
    pub fn is_drained(&self, slot: Slot) -> bool {
        self.member_of(slot)
            .is_some_and(|(pool, target)| self.table.is_drained(pool, target))
    }

    /// Every drained real server (cheap: it looks only at the drained
    /// ones, where [`Self::is_drained`] searches the plan).
    pub fn drained_slots(&self) -> std::collections::HashSet<Slot> {
        (self.table.drained().into_iter())
            .filter_map(|(_, target)| self.slot_of(target))
            .collect()
    }

    /// The pool and the target that names a real server's member (its
    /// first check's, or its static one).
    fn member_of(&self, slot: Slot) -> Option<(PoolId, TargetId)> {
        let pool = *self.placed.pools.get(slot.0)?;
        let first = |t: &TargetId| self.placed.checks.get(t).is_none_or(|&c| c == 0);
        let target = (self.placed.slots.iter())
            .filter(|(_, &at)| at == slot)
            .map(|(&t, _)| t)
            .find(first)?;
        Some((pool, target))
    }

    /// The drained real servers, by service key and configured address,
    /// which a reload keeps.
    fn drained_servers(&self) -> Vec<(ipvs::ServiceKey, std::net::SocketAddr)> {
        (self.table.drained().into_iter())
            .filter_map(|(pool, target)| {
                let s = self.service_of(pool)?;
                let rs = self.real_server(s, target)?;
                Some((self.plan.services.get(s)?.service.key, rs.dest.addr))
            })
            .collect()
    }

    /// After a reload: drains again those of `servers` the plan still has,
    /// under their new ids; forgets the others.
    fn redrain(&mut self, servers: &[(ipvs::ServiceKey, std::net::SocketAddr)]) {
        for (pool, target) in self.table.drained() {
            self.table.restore(pool, target);
        }
        for &(key, addr) in servers {
            let slot = (self.plan.services.iter().enumerate())
                .filter(|(_, svc)| svc.service.key == key)
                .find_map(|(s, svc)| {
                    let r = svc.real_servers.iter().position(|r| r.dest.addr == addr)?;
                    Some((s, r))
                });
            if let Some((pool, target)) = slot.and_then(|slot| self.member_of(slot)) {
                self.table.drain(pool, target);
            }
        }
    }

    /// The index of a pool's service.
    pub fn service_of(&self, pool: PoolId) -> Option<usize> {
        self.placed.pools.iter().position(|&p| p == pool)
    }

    /// The real server `target` stands for, if it belongs to service `s`.
    fn real_server(&self, s: usize, target: TargetId) -> Option<&RealPlan> {
        let (ts, r) = self.slot_of(target).filter(|(ts, _)| *ts == s)?;
        self.plan.services.get(ts)?.real_servers.get(r)
    }

    /// The checker's lines for a target going up or down, for its first
    /// result, for a failed attempt under `log_all_failures`, or for the
    /// urls a down HTTP checker passed ([`words::Check`] says which).
    fn check_lines(&mut self, event: &Event) -> Vec<String> {
        // (target, its first result, a result that marks it run)
        let (target, first, result) = match event {
            Event::TargetUp { target } | Event::TargetDown { target, .. } => (*target, false, true),
            Event::FirstCheck { target, .. } => (*target, true, true),
            Event::AttemptFailed { target, .. }
            | Event::FailureCleared { target, .. }
            | Event::UrlsPassed { target, .. } => (*target, false, false),
            _ => return Vec::new(),
        };
        // keepalived's has_run: set by the first result said.
        let has_run = if result {
            !self.ran.insert(target)
        } else {
            self.ran.contains(&target)
        };
        let Some((check, svc, rs)) = self.check_names(target) else {
            return Vec::new();
        };
        let name = trio(check.context.target, svc.proto);
        let said = words::Check {
            probe: words_probe(&check.probe),
            name: &name,
            real_server: &rs.name,
            virtual_server: &svc.name,
            retry: check.target.retry,
            has_run,
            first,
        };
        match event {
            Event::TargetUp { .. } => said.result_lines(None),
            Event::TargetDown { reason, .. } => {
                tracing::debug!("{} on {name}: {reason}", check.probe.keyword());
                said.result_lines(Some(reason))
            }
            Event::FirstCheck { reason, .. } => {
                if let Some(reason) = reason {
                    tracing::debug!("{} on {name}: {reason}", check.probe.keyword());
                }
                said.result_lines(reason.as_ref())
            }
            Event::AttemptFailed {
                reason,
                retry,
                last,
                ..
            } => said
                .attempt_line(reason, *retry, *last)
                .into_iter()
                .collect(),
            Event::FailureCleared { url, .. } => said.cleared_lines(*url),
            Event::UrlsPassed { from, until, .. } => said.passed_lines(*from, *until),
            _ => Vec::new(),
        }
    }

    /// The check a target stands for, with its service and real server.
    fn check_names(
        &self,
        target: TargetId,
    ) -> Option<(&crate::lvs_mode::plan::CheckPlan, &ServicePlan, &RealPlan)> {
        let check = self.check_of(target, *self.placed.checks.get(&target)?)?;
        let (s, r) = self.slot_of(target)?;
        let svc = self.plan.services.get(s)?;
        Some((check, svc, svc.real_servers.get(r)?))
    }

    /// keepalived's lines for one table change.
    fn change_lines(&mut self, change: &TableChange) -> Vec<String> {
        use TableChange::*;
        let (pool, target) = match *change {
            Added { pool, target, .. }
            | Removed { pool, target }
            | Enabled { pool, target, .. }
            | Disabled { pool, target }
            | Reweighted { pool, target, .. } => (pool, Some(target)),
            QuorumGained { pool, .. }
            | QuorumLost { pool, .. }
            | SorryServerIn { pool }
            | SorryServerOut { pool } => (pool, None),
            _ => return Vec::new(),
        };
        let Some(s) = self.service_of(pool) else {
            return Vec::new();
        };
        let Some(svc) = self.plan.services.get(s) else {
            return Vec::new();
        };
        match target {
            Some(t) => self
                .real_server(s, t)
                .and_then(|rs| member_line(change, &rs.name, &svc.name))
                .into_iter()
                .collect(),
            None => {
                let lines = quorum_lines(change, &words_service(svc));
                // Scripts go with what keepalived logs (update_quorum_state).
                let script = match change {
                    QuorumGained { .. } => svc.quorum_up.clone(),
                    QuorumLost { .. } => svc.quorum_down.clone(),
                    _ => None,
                };
                if let Some(script) = script.filter(|_| !lines.is_empty()) {
                    self.scripts.push(script);
                }
                // And the FIFO line (notify_fifo_vs).
                let state = match change {
                    QuorumGained { .. } => Some("UP"),
                    QuorumLost { .. } => Some("DOWN"),
                    _ => None,
                };
                if let Some(state) = state.filter(|_| !lines.is_empty()) {
                    self.fifo_lines.push(format!("VS {} {state}", svc.name));
                }
                lines
            }
        }
    }
}

/// healthcheck's words for a plan's probe.
fn words_probe(probe: &Probe) -> words::Probe<'_> {
    match probe {
        Probe::Tcp => words::Probe::Tcp,
        Probe::Http { urls, .. } => words::Probe::Http { urls },
        Probe::Smtp { .. } => words::Probe::Smtp,
        Probe::Dns { .. } => words::Probe::Dns,
        Probe::Udp { .. } => words::Probe::Udp,
        Probe::Ping => words::Probe::Ping,
        Probe::File { name, .. } => words::Probe::File { name },
        Probe::Misc { path, .. } => words::Probe::Misc { path },
    }
}

/// healthcheck's words for a service's quorum lines.
fn words_service(svc: &ServicePlan) -> words::Service<'_> {
    words::Service {
        name: &svc.name,
        quorum: svc.quorum,
        hysteresis: svc.hysteresis,
        sorry_server: svc.sorry_server.as_ref().map(|s| s.name.as_str()),
        sorry_inhibit: svc.sorry_server.as_ref().is_some_and(|s| s.inhibit),
    }
}

#[cfg(test)]
mod tests {
    //! The bridge's own job: keepalived's wording and the IPVS operations
    //! for each change. The rules themselves are healthcheck's (its
    //! `table.rs` tests).
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use healthcheck::runtime::Driver;
    use healthcheck::{CheckOutcome, DownReason, Monitor, UrlSpan};
    use ipvs::{Destination, Forward, Op, ServiceKey};

    use super::*;
    use crate::lvs_mode::{daemon, plan};

    const CONF: &str = "virtual_server 10.0.0.1 80 {
  protocol TCP
  delay_loop 1
  real_server 10.1.0.1 80 {
    TCP_CHECK {
    }
  }
  real_server 10.1.0.2 80 {
    weight 3
    inhibit_on_failure
    TCP_CHECK {
    }
  }
  real_server 10.1.0.3 80 {
    weight 2
  }
}
";

    fn dest(ip: &str, weight: u32) -> Destination {
        let mut d = Destination::new(format!("{ip}:80").parse().unwrap(), Forward::Masq);
        d.weight = weight;
        d
    }

    fn key() -> ServiceKey {
        ServiceKey::tcp("10.0.0.1:80".parse().unwrap())
    }

    /// The monitor and the bridge of `conf`, started; with the start lines.
    fn started(conf: &str) -> (Driver, Bridge, Vec<String>) {
        let parsed = vrrp_conf::parse_str("t.conf", conf, &vrrp_conf::Options::default());
        let (mut driver, mut bridge) = daemon::build(plan::build(&parsed.config).unwrap()).unwrap();
        let lines = bridge.start(driver.monitor_mut(), Instant::now());
        (driver, bridge, lines)
    }

    /// Runs due checks until real server `r` has been checked once, with
    /// `outcome` for it; the others keep their state. Returns the lines.
    fn check(m: &mut Monitor, b: &mut Bridge, r: usize, outcome: CheckOutcome) -> Vec<String> {
        loop {
            let at = m.poll_timeout().unwrap();
            let due = m.poll_check(at).unwrap();
            let mine = b.slot_of(due.target) == Some((0, r));
            let o = match (mine, m.is_up(due.target)) {
                (true, _) => outcome.clone(),
                (false, Some(true)) => CheckOutcome::Up,
                (false, _) => CheckOutcome::Down(DownReason::Refused),
            };
            m.handle_outcome(at, due.target, o).unwrap();
            let lines: Vec<String> = std::iter::from_fn(|| m.poll_event())
                .flat_map(|e| b.handle(&e))
                .collect();
            if mine {
                return lines;
            }
        }
    }

    /// The operations from `current` to the bridge's table; `current`
    /// becomes it.
    fn step(b: &Bridge, current: &mut Vec<ipvs::VirtualServer>) -> Vec<Op> {
        let want = b.desired();
        let ops = ipvs::diff(&want, current);
        *current = want;
        ops
    }

    const DOWN: CheckOutcome = CheckOutcome::Down(DownReason::Refused);

    /// The control socket's drain through the bridge: exact IPVS
    /// operations while the drained servers go down and up.
    #[test]
    fn a_drained_server_stays_at_weight_0_until_restored() {
        let (mut d, mut b, _) = started(CONF);
        let m = d.monitor_mut();
        let mut current = b.desired();
        let done = b.drain("10.0.0.1:80", "10.1.0.1").unwrap();
        assert_eq!(
            done,
            Drain {
                virtual_server: "[10.0.0.1]:tcp:80".into(),
                real_server: "[10.1.0.1]:tcp:80".into(),
                drained: true,
                changed: true
            }
        );
        assert_eq!(
            done.line(),
            "Draining service [10.1.0.1]:tcp:80 of VS [10.0.0.1]:tcp:80 (weight 0 until restored)"
        );
        assert_eq!(
            step(&b, &mut current),
            [Op::EditDest(key(), dest("10.1.0.1", 0))]
        );
        assert!(b.is_drained((0, 0)) && !b.is_drained((0, 1)));
        assert_eq!(b.drained_slots(), [(0, 0)].into());
        // Down: out as the checks say; up: back in, still drained.
        assert_eq!(check(m, &mut b, 0, DOWN).len(), 2);
        assert_eq!(
            step(&b, &mut current),
            [Op::DelDest(key(), "10.1.0.1:80".parse().unwrap())]
        );
        assert_eq!(check(m, &mut b, 0, CheckOutcome::Up).len(), 2);
        assert_eq!(
            step(&b, &mut current),
            [Op::AddDest(key(), dest("10.1.0.1", 0))]
        );
        // Inhibited: 0 while drained, whether up or down.
        assert!(b.drain("[10.0.0.1]:tcp:80", "10.1.0.2:80").unwrap().changed);
        assert_eq!(
            step(&b, &mut current),
            [Op::EditDest(key(), dest("10.1.0.2", 0))]
        );
        // (Down once its retry fails too.)
        let lines = [check(m, &mut b, 1, DOWN), check(m, &mut b, 1, DOWN)].concat();
        assert_eq!(
            lines[1],
            "Disabling service [10.1.0.2]:tcp:80 of VS [10.0.0.1]:tcp:80"
        );
        assert_eq!(step(&b, &mut current), []);
        // Restored while down: still 0, as inhibit_on_failure says.
        let undone = b.restore("tcp 10.0.0.1:80", "[10.1.0.2]:tcp:80").unwrap();
        assert_eq!(
            undone.line(),
            "Restoring service [10.1.0.2]:tcp:80 of VS [10.0.0.1]:tcp:80"
        );
        assert!(!b.restore("10.0.0.1:80", "10.1.0.2").unwrap().changed);
        assert_eq!(step(&b, &mut current), []);
        assert_eq!(check(m, &mut b, 1, CheckOutcome::Up).len(), 2);
        assert_eq!(
            step(&b, &mut current),
            [Op::EditDest(key(), dest("10.1.0.2", 3))]
        );
        assert!(!b.drain("10.0.0.1:80", "10.1.0.1").unwrap().changed);
        assert!(b.restore("10.0.0.1:80", "10.1.0.1").unwrap().changed);
        assert_eq!(
            step(&b, &mut current),
            [Op::EditDest(key(), dest("10.1.0.1", 1))]
        );
        assert_eq!(
            b.drain("10.0.0.1:80", "10.1.0.9"),
            Err(NameError::UnknownRealServer {
                vs: "[10.0.0.1]:tcp:80".into(),
                rs: "10.1.0.9".into()
            })
        );
        assert_eq!(
            b.restore("10.0.0.2:80", "10.1.0.1"),
            Err(NameError::UnknownVirtualServer("10.0.0.2:80".into()))
        );
    }

    /// A reload keeps the drain of a real server it keeps, even with a
    /// changed check (a new target), and forgets one it drops.
    #[test]
    fn a_reload_keeps_the_drain_of_the_servers_it_keeps() {
        let (mut d, mut b, _) = started(CONF);
        let m = d.monitor_mut();
        b.drain("10.0.0.1:80", "10.1.0.1").unwrap();
        b.drain("10.0.0.1:80", "10.1.0.3").unwrap();
        let changed = CONF
            .replace(
                "    TCP_CHECK {\n    }\n  }\n  real_server 10.1.0.2",
                "    TCP_CHECK {\n      connect_timeout 2\n    }\n  }\n  real_server 10.1.0.2",
            )
            .replace("  real_server 10.1.0.3 80 {\n    weight 2\n  }\n", "");
        assert_ne!(changed, CONF);
        let plan_of = |conf: &str| {
            let parsed = vrrp_conf::parse_str("t.conf", conf, &vrrp_conf::Options::default());
            plan::build(&parsed.config).unwrap()
        };
        let new = plan_of(&changed);
        assert_ne!(
            new.services[0].real_servers[0],
            b.plan().services[0].real_servers[0]
        );
        // The new target comes after the others: sorted by address.
        let dests = |b: &Bridge| {
            let mut v = b.desired()[0].dests.clone();
            v.sort_by_key(|d| d.addr);
            v
        };
        b.reload(m, new, Instant::now());
        assert_eq!(dests(&b), [dest("10.1.0.1", 0), dest("10.1.0.2", 3)]);
        b.reload(m, plan_of(CONF), Instant::now());
        assert_eq!(
            dests(&b),
            [
                dest("10.1.0.1", 0),
                dest("10.1.0.2", 3),
                dest("10.1.0.3", 2)
            ]
        );
        assert!(b.is_drained((0, 0)) && !b.is_drained((0, 2)));
    }

    #[test]
    fn a_group_installs_every_service_with_the_same_real_servers() {
        let conf = "virtual_server_group G {\n 10.0.0.1-2 80\n fwmark 4\n}\n\
                    virtual_server group G {\n protocol TCP\n lvs_method DR\n\
                    real_server 10.1.0.1 80 {\n TCP_CHECK {\n }\n }\n}\n";
        let (_d, b, _) = started(conf);
        let table: Vec<(ServiceKey, Vec<String>)> = b
            .desired()
            .into_iter()
            .map(|v| {
                (
                    v.service.key,
                    v.dests.iter().map(|d| d.addr.to_string()).collect(),
                )
            })
            .collect();
        let fwm = ServiceKey::Fwmark {
            family: ipvs::Family::V4,
            mark: 4,
        };
        assert_eq!(
            table,
            [
                (key(), vec!["10.1.0.1:80".to_owned()]),
                (
                    ServiceKey::tcp("10.0.0.2:80".parse().unwrap()),
                    vec!["10.1.0.1:80".to_owned()]
                ),
                (fwm, vec!["10.1.0.1:0".to_owned()]),
            ]
        );
    }

    #[test]
    fn ha_suspend_switches_checks_with_the_service_address() {
        let conf = "virtual_server 10.0.0.1 80 {\n protocol TCP\n ha_suspend\n\
                    real_server 10.1.0.1 80 {\n TCP_CHECK {\n }\n }\n}\n";
        let (_d, mut b, _) = started(conf);
        assert!(b.uses_ha_suspend() && b.checks_active(0));
        let gate = b.gate(0).unwrap();
        let none = std::collections::HashSet::new();
        assert_eq!(
            b.set_local_addresses(none.clone()),
            ["Suspending healthchecker for service [10.1.0.1]:tcp:80 for VS [10.0.0.1]:tcp:80"]
        );
        assert!(!b.checks_active(0) && !gate.load(std::sync::atomic::Ordering::Relaxed));
        assert_eq!(b.set_local_addresses(none), Vec::<String>::new());
        let vip = ["10.0.0.1".parse().unwrap()].into();
        assert_eq!(
            b.set_local_addresses(vip),
            ["Activating healthchecker for service [10.1.0.1]:tcp:80 for VS [10.0.0.1]:tcp:80"]
        );
        assert!(b.checks_active(0));
    }

    #[test]
    fn each_health_change_sends_only_its_own_operations() {
        let (mut d, mut b, lines) = started(CONF);
        let m = d.monitor_mut();
        // At start every real server is in (keepalived's init_services),
        // the unchecked one too; keepalived 2.2.7 reports the quorum.
        assert_eq!(lines, ["Gained quorum 1+0=1 <= 6 for VS [10.0.0.1]:tcp:80"]);
        let mut current = Vec::new();
        assert_eq!(
            step(&b, &mut current),
            [
                Op::AddService(current[0].service.clone()),
                Op::AddDest(key(), dest("10.1.0.1", 1)),
                Op::AddDest(key(), dest("10.1.0.2", 3)),
                Op::AddDest(key(), dest("10.1.0.3", 2)),
            ]
        );

        assert_eq!(
            check(m, &mut b, 0, DOWN),
            [
                "TCP_CHECK on service [10.1.0.1]:tcp:80 failed.",
                "Removing service [10.1.0.1]:tcp:80 from VS [10.0.0.1]:tcp:80",
            ]
        );
        assert_eq!(
            step(&b, &mut current),
            [Op::DelDest(key(), "10.1.0.1:80".parse().unwrap())]
        );
        assert_eq!(
            check(m, &mut b, 1, DOWN),
            [
                "TCP_CHECK on service [10.1.0.2]:tcp:80 failed.",
                "Disabling service [10.1.0.2]:tcp:80 of VS [10.0.0.1]:tcp:80",
            ]
        );
        assert_eq!(
            step(&b, &mut current),
            [Op::EditDest(key(), dest("10.1.0.2", 0))]
        );
        assert_eq!(
            check(m, &mut b, 1, CheckOutcome::Up),
            [
                "TCP connection to [10.1.0.2]:tcp:80 success.",
                "Enabling service [10.1.0.2]:tcp:80 of VS [10.0.0.1]:tcp:80",
            ]
        );
        assert_eq!(
            step(&b, &mut current),
            [Op::EditDest(key(), dest("10.1.0.2", 3))]
        );
        assert_eq!(
            check(m, &mut b, 0, CheckOutcome::Up),
            [
                "TCP connection to [10.1.0.1]:tcp:80 success.",
                "Adding service [10.1.0.1]:tcp:80 to VS [10.0.0.1]:tcp:80",
            ]
        );
        assert_eq!(
            step(&b, &mut current),
            [Op::AddDest(key(), dest("10.1.0.1", 1))]
        );
        // Stopping removes the service with everything in it.
        assert_eq!(ipvs::diff(&[], &current), [Op::DelService(key())]);
    }

    const QUORUM: &str = "virtual_server 10.0.0.1 80 {
  protocol TCP
  delay_loop 1
  quorum 3
  hysteresis 1
  sorry_server 10.9.9.9 80
  real_server 10.1.0.1 80 {
    weight 2
    TCP_CHECK {
    }
  }
  real_server 10.1.0.2 80 {
    weight 2
    TCP_CHECK {
    }
  }
  real_server 10.1.0.3 80 {
  }
}
";

    #[test]
    fn quorum_loss_swaps_in_the_sorry_server_and_back() {
        let (mut d, mut b, lines) = started(QUORUM);
        let m = d.monitor_mut();
        let vs = "VS [10.0.0.1]:tcp:80";
        // 5 >= 3 + 1: up at start.
        assert_eq!(lines, [format!("Gained quorum 3+1=4 <= 5 for {vs}")]);
        let mut current = Vec::new();
        assert_eq!(step(&b, &mut current).len(), 4);
        // 3 is not below 3 - 1: the quorum holds.
        assert_eq!(check(m, &mut b, 0, DOWN).len(), 2);
        assert_eq!(
            step(&b, &mut current),
            [Op::DelDest(key(), "10.1.0.1:80".parse().unwrap())]
        );
        // 1 < 2: lost; the sorry server replaces the live servers.
        assert_eq!(
            check(m, &mut b, 1, DOWN)[1..],
            [
                format!("Removing service [10.1.0.2]:tcp:80 from {vs}"),
                format!("Lost quorum 3-1=2 > 1 for {vs}"),
                format!("Adding sorry server [10.9.9.9]:tcp:80 to {vs}"),
                format!("Removing alive servers from the pool for {vs}"),
            ]
        );
        assert_eq!(
            step(&b, &mut current),
            [
                Op::DelDest(key(), "10.1.0.2:80".parse().unwrap()),
                Op::DelDest(key(), "10.1.0.3:80".parse().unwrap()),
                Op::AddDest(key(), dest("10.9.9.9", 1)),
            ]
        );
        // 3 < 3 + 1: still lost; nothing changes in the kernel.
        assert_eq!(check(m, &mut b, 0, CheckOutcome::Up).len(), 2);
        assert_eq!(step(&b, &mut current), []);
        // 5 >= 4: gained; the live servers come back.
        assert_eq!(
            check(m, &mut b, 1, CheckOutcome::Up)[2..],
            [
                format!("Gained quorum 3+1=4 <= 5 for {vs}"),
                format!("Removing sorry server [10.9.9.9]:tcp:80 from {vs}"),
                format!("Adding alive servers to the pool for {vs}"),
            ]
        );
        assert_eq!(
            step(&b, &mut current),
            [
                Op::DelDest(key(), "10.9.9.9:80".parse().unwrap()),
                Op::AddDest(key(), dest("10.1.0.1", 2)),
                Op::AddDest(key(), dest("10.1.0.2", 2)),
                Op::AddDest(key(), dest("10.1.0.3", 1)),
            ]
        );
    }

    #[test]
    fn alpha_service_starts_with_its_sorry_server() {
        let conf = "virtual_server 10.0.0.1 80 {\n protocol TCP\n alpha\n sorry_server 10.9.9.9 80\n real_server 10.1.0.1 80 {\n inhibit_on_failure\n TCP_CHECK {\n }\n }\n}\n";
        let (_, b, lines) = started(conf);
        let vs = "VS [10.0.0.1]:tcp:80";
        assert_eq!(
            lines,
            [
                format!("Starting with quorum down 1-0=1 > 0 for {vs}"),
                format!("Adding sorry server [10.9.9.9]:tcp:80 to {vs}"),
                format!("Removing alive servers from the pool for {vs}"),
            ]
        );
        assert_eq!(b.desired()[0].dests, [dest("10.9.9.9", 1)]);
    }

    #[test]
    fn a_service_starting_below_quorum_without_sorry_server_says_nothing() {
        let conf = "virtual_server 10.0.0.1 80 {\n protocol TCP\n quorum 5\n real_server 10.1.0.1 80 {\n }\n}\n";
        let (_, b, lines) = started(conf);
        assert_eq!(lines, Vec::<String>::new());
        assert_eq!(b.desired()[0].dests, [dest("10.1.0.1", 1)]);
    }

    /// check_ping.c, check_udp.c, check_smtp.c, check_dns.c wording.
    #[test]
    fn other_checkers_say_what_keepalived_says() {
        let conf = |kind: &str| {
            format!("virtual_server 10.0.0.1 80 {{\n protocol TCP\n real_server 10.1.0.1 80 {{\n {kind} {{\n retry 0\n }}\n }}\n}}\n")
        };
        let down = CheckOutcome::Down(DownReason::Timeout);
        let rs = "[10.1.0.1]:tcp:80";
        for (kind, fail, back) in [
            (
                "PING_CHECK",
                format!("ICMP CHECK on service {rs} failed."),
                format!("ICMP connection to {rs} success."),
            ),
            (
                "UDP_CHECK",
                format!("UDP_CHECK on service {rs} failed."),
                format!("UDP connection to {rs} success."),
            ),
            (
                "SMTP_CHECK",
                format!("SMTP_CHECK Read timeout from server {rs}"),
                format!("Remote SMTP server {rs} succeed on service."),
            ),
            (
                "DNS_CHECK",
                format!("DNS_CHECK ({rs}) read timeout from socket"),
                // Nothing from the checker on success.
                format!("Adding service {rs} to VS [10.0.0.1]:tcp:80"),
            ),
        ] {
            let (mut d, mut b, _) = started(&conf(kind));
            let m = d.monitor_mut();
            assert_eq!(check(m, &mut b, 0, down.clone())[0], fail, "{kind}");
            assert_eq!(check(m, &mut b, 0, CheckOutcome::Up)[0], back, "{kind}");
        }
    }

    /// `log_all_failures`: a line for each failed attempt while the real
    /// server is up, retries included, none once it is down (check_tcp.c,
    /// check_udp.c, check_ping.c wording).
    #[test]
    fn log_all_failures_says_every_failed_attempt() {
        let conf = |kind: &str| {
            format!("virtual_server 10.0.0.1 80 {{\n protocol TCP\n real_server 10.1.0.1 80 {{\n {kind} {{\n retry 1\n log_all_failures\n }}\n }}\n}}\n")
        };
        let rs = "[10.1.0.1]:tcp:80";
        let vs = "[10.0.0.1]:tcp:80";
        let timeout = CheckOutcome::Down(DownReason::Timeout);
        let refused = CheckOutcome::Down(DownReason::Refused);
        let mismatch = CheckOutcome::Down(DownReason::UnexpectedReply);
        for (kind, second, lines) in [
            (
                "TCP_CHECK",
                &refused,
                [
                    format!("TCP connection to {rs} timeout."),
                    format!("TCP connection to {rs} failed."),
                    format!("TCP_CHECK on service {rs} failed after 1 retries."),
                ],
            ),
            (
                "UDP_CHECK",
                &mismatch,
                [
                    format!("UDP connection to {rs} failed."),
                    format!("UDP check to {rs} reply data mismatch."),
                    format!("UDP_CHECK on service {rs} failed after 1 retries."),
                ],
            ),
            (
                "PING_CHECK",
                &refused,
                [
                    format!("ICMP connection to address {rs} timeout."),
                    format!("ICMP connection to {rs} of {vs} failed."),
                    format!("ICMP CHECK on service {rs} of {vs} failed after 1 retries."),
                ],
            ),
        ] {
            let (mut d, mut b, _) = started(&conf(kind));
            let m = d.monitor_mut();
            // A first success earns the retry (and is said: has_run unset).
            let first = check(m, &mut b, 0, CheckOutcome::Up);
            assert_eq!(first.len(), 1, "{first:?}");
            assert!(first[0].ends_with(" success."), "{first:?}");
            // The regular attempt fails, then its retry: the real server
            // goes after the second line.
            assert_eq!(
                check(m, &mut b, 0, timeout.clone()),
                [lines[0].clone()],
                "{kind}"
            );
            let down = check(m, &mut b, 0, second.clone());
            assert_eq!(down[..2], lines[1..], "{kind}");
            assert_eq!(
                down[2],
                format!("Removing service {rs} from VS {vs}"),
                "{kind}"
            );
            // Down: no more per-attempt lines.
            let again = check(m, &mut b, 0, refused.clone());
            assert!(
                again.iter().all(|l| !lines.contains(l)),
                "{kind}: {again:?}"
            );
        }
    }

    /// `log_all_failures` of HTTP_GET, SSL_GET, SMTP_CHECK, DNS_CHECK and
    /// MISC_CHECK: a line for each failed attempt while up, in the
    /// checker's words (check_http.c `timeout_epilog`, check_smtp.c
    /// `smtp_final`, check_dns.c `dns_final`, check_misc.c); SMTP, DNS and
    /// MISC say the last attempt's line with or without the flag. Without
    /// the flag only that line and the removal remain.
    #[test]
    fn log_all_failures_of_the_other_checkers() {
        let rs = "[10.1.0.1]:tcp:80";
        let vs = "[10.0.0.1]:tcp:80";
        let misc = format!("Misc check for [{rs} VS {vs}] by [/bin/probe]");
        let down = CheckOutcome::Down;
        let cases = [
            (
                "HTTP_GET {\n url {\n path /\n }",
                vec![
                    (
                        down(DownReason::Timeout),
                        Some(format!("Timeout connecting server {rs}.")),
                    ),
                    (
                        down(DownReason::Refused),
                        Some(format!("Connection failed server {rs}.")),
                    ),
                    (
                        down(DownReason::HttpStatus(404)),
                        Some(format!("HTTP status code error to server {rs}.")),
                    ),
                ],
                format!("HTTP_CHECK on service {rs} failed after 2 retries."),
            ),
            (
                "SSL_GET {\n url {\n path /\n digest 00\n }",
                vec![
                    (
                        down(DownReason::Tls(healthcheck::TlsFailure::Handshake)),
                        Some(format!(
                            "SSL handshake/communication error connecting to server {rs}."
                        )),
                    ),
                    (
                        down(DownReason::DigestMismatch),
                        Some(format!("MD5 digest error to server {rs}.")),
                    ),
                    (
                        down(DownReason::NoHttpResponse),
                        Some(format!("Read, no data received from  server {rs}.")),
                    ),
                ],
                format!("HTTP_CHECK on service {rs} failed after 2 retries."),
            ),
            (
                "SMTP_CHECK {\n connect_port 80",
                vec![
                    (
                        down(DownReason::Timeout),
                        Some(format!("SMTP_CHECK Read timeout from server {rs}")),
                    ),
                    (
                        down(DownReason::SmtpReply(554)),
                        Some(format!("SMTP_CHECK Bad HELO response from server {rs}")),
                    ),
                    (down(DownReason::Refused), None),
                ],
                format!("SMTP_CHECK Error connecting to server {rs}"),
            ),
            (
                "DNS_CHECK {\n name n\n connect_port 80",
                vec![
                    (
                        down(DownReason::Timeout),
                        Some(format!("DNS_CHECK ({rs}) read timeout from socket")),
                    ),
                    (
                        down(DownReason::Refused),
                        Some(format!("DNS_CHECK ({rs}) connection error.")),
                    ),
                    (down(DownReason::DnsRcode(2)), None),
                ],
                format!("DNS_CHECK ({rs}) read error occurred. (rcode = 2) after 2 retries"),
            ),
            (
                "MISC_CHECK {\n misc_path \"/bin/probe --x\"",
                vec![
                    (
                        down(DownReason::ScriptExit(1)),
                        Some(format!(
                            "{misc} failed, will do 2 retries (exited with status 1)."
                        )),
                    ),
                    (
                        down(DownReason::Timeout),
                        Some(format!("{misc} timed out on retry 1/2.")),
                    ),
                    (down(DownReason::ScriptSignal(9)), None),
                ],
                format!("{misc} failed after 2 retries (due to signal 9)."),
            ),
        ];
        for (checker, attempts, down_line) in cases {
            for flag in ["", "log_all_failures"] {
                let conf = format!("virtual_server 10.0.0.1 80 {{\n protocol TCP\n real_server 10.1.0.1 80 {{\n {checker}\n retry 2\n {flag}\n }}\n }}\n}}\n");
                let (mut d, mut b, _) = started(&conf);
                let m = d.monitor_mut();
                // A first success earns the retries.
                let up = check(m, &mut b, 0, CheckOutcome::Up);
                assert!(up.iter().all(|l| !l.contains("fail")), "{up:?}");
                let mut seen = Vec::new();
                for (outcome, _) in &attempts {
                    seen.extend(check(m, &mut b, 0, outcome.clone()));
                }
                let mut want: Vec<String> = attempts
                    .iter()
                    .filter(|_| !flag.is_empty())
                    .filter_map(|(_, line)| line.clone())
                    .collect();
                want.push(down_line.clone());
                want.push(format!("Removing service {rs} from VS {vs}"));
                assert_eq!(seen[..want.len()], want, "{checker} {flag}");
                // Down: no more per-attempt lines.
                let again = check(m, &mut b, 0, attempts[0].0.clone());
                assert!(again.iter().all(|l| !want.contains(l)), "{again:?}");
            }
        }
    }

    /// do_rs_notifies and do_vs_notifies: scripts go with the health and
    /// quorum changes keepalived logs; omega adds the shutdown ones.
    #[test]
    fn notify_quorum_and_omega_scripts() {
        let conf = "virtual_server 10.0.0.1 80 {\n protocol TCP\n omega\n quorum 2\n quorum_up /bin/qup\n quorum_down /bin/qdown\n sorry_server 10.9.9.9 80\n sorry_server_inhibit\n real_server 10.1.0.1 80 {\n weight 2\n notify_up \"/bin/up 1\"\n notify_down \"/bin/down 1\"\n TCP_CHECK {\n retry 0\n }\n }\n}\n";
        let words = |w: &str| vec![w.to_owned()];
        let (mut d, mut b, lines) = started(conf);
        let m = d.monitor_mut();
        // keepalived 2.2.7 runs quorum_up at start, with its line.
        assert_eq!(lines, ["Gained quorum 2+0=2 <= 2 for VS [10.0.0.1]:tcp:80"]);
        assert_eq!(b.take_scripts(), [words("/bin/qup")]);
        // keepalived's notify_fifo lines go with the scripts.
        assert_eq!(b.take_fifo_lines(), ["VS [10.0.0.1]:tcp:80 UP"]);
        // The inhibited sorry server stands by with weight 0.
        assert_eq!(
            b.desired()[0].dests,
            [dest("10.1.0.1", 2), dest("10.9.9.9", 0)]
        );
        let lines = check(m, &mut b, 0, DOWN);
        assert_eq!(
            lines[3..],
            [
                "Enabling sorry server [10.9.9.9]:tcp:80 to VS [10.0.0.1]:tcp:80",
                "Removing alive servers from the pool for VS [10.0.0.1]:tcp:80",
            ]
        );
        assert_eq!(
            b.take_scripts(),
            [words("/bin/down 1"), words("/bin/qdown")]
        );
        assert_eq!(
            b.take_fifo_lines(),
            [
                "RS [10.1.0.1]:tcp:80 [10.0.0.1]:tcp:80 DOWN",
                "VS [10.0.0.1]:tcp:80 DOWN"
            ]
        );
        assert_eq!(b.desired()[0].dests, [dest("10.9.9.9", 1)]);
        assert_eq!(b.omega_scripts(m), [words("/bin/qdown")]);
        let lines = check(m, &mut b, 0, CheckOutcome::Up);
        assert!(lines.contains(
            &"Disabling sorry server [10.9.9.9]:tcp:80 from VS [10.0.0.1]:tcp:80".to_owned()
        ));
        assert_eq!(b.take_scripts(), [words("/bin/up 1"), words("/bin/qup")]);
        assert_eq!(
            b.take_fifo_lines(),
            [
                "RS [10.1.0.1]:tcp:80 [10.0.0.1]:tcp:80 UP",
                "VS [10.0.0.1]:tcp:80 UP"
            ]
        );
        assert_eq!(
            b.omega_scripts(m),
            [words("/bin/down 1"), words("/bin/qdown")]
        );
        assert_eq!(
            b.shutdown_lines(m),
            ["Shutting down service [10.1.0.1]:tcp:80 from VS [10.0.0.1]:tcp:80"]
        );
    }

    /// keepalived's num_failed_checkers: a real server with two checkers
    /// is in only while both pass; each checker says its own line, and
    /// notify_up/notify_down run when the real server changes.
    #[test]
    fn two_checkers_both_needed() {
        let conf = "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.1.0.1 80 {\n notify_up /bin/up\n notify_down /bin/down\n TCP_CHECK {\n retry 0\n }\n PING_CHECK {\n retry 0\n }\n }\n}\n";
        let (mut d, mut b, _) = started(conf);
        let m = d.monitor_mut();
        // Runs checks until the second checker (PING) has run once with
        // `ping`; TCP always passes.
        let run = |m: &mut Monitor, b: &mut Bridge, ping: CheckOutcome| {
            let mut lines = Vec::new();
            loop {
                let at = m.poll_timeout().unwrap();
                let due = m.poll_check(at).unwrap();
                let is_ping = m.target_key(due.target).unwrap().contains("PING_CHECK");
                let o = if is_ping {
                    ping.clone()
                } else {
                    CheckOutcome::Up
                };
                m.handle_outcome(at, due.target, o).unwrap();
                while let Some(e) = m.poll_event() {
                    lines.extend(b.handle(&e));
                }
                if is_ping {
                    return lines;
                }
            }
        };
        let rs = "[10.1.0.1]:tcp:80";
        assert_eq!(
            run(m, &mut b, DOWN)[..3],
            [
                // TCP's first result is said (has_run unset).
                format!("TCP connection to {rs} success."),
                format!("ICMP CHECK on service {rs} failed."),
                format!("Removing service {rs} from VS [10.0.0.1]:tcp:80"),
            ]
        );
        assert_eq!(b.take_scripts(), [vec!["/bin/down".to_owned()]]);
        assert_eq!(b.desired()[0].dests, []);
        // TCP passing alone changes nothing.
        assert_eq!(run(m, &mut b, DOWN), Vec::<String>::new());
        assert_eq!(b.desired()[0].dests, []);
        assert_eq!(
            run(m, &mut b, CheckOutcome::Up)[..2],
            [
                format!("ICMP connection to {rs} success."),
                format!("Adding service {rs} to VS [10.0.0.1]:tcp:80"),
            ]
        );
        assert_eq!(b.take_scripts(), [vec!["/bin/up".to_owned()]]);
        assert_eq!(b.desired()[0].dests, [dest("10.1.0.1", 1)]);
    }

    #[test]
    fn misc_dynamic_weight_and_failure() {
        let conf = "virtual_server 10.0.0.1 80 {\n protocol TCP\n real_server 10.1.0.1 80 {\n MISC_CHECK {\n misc_path \"/bin/probe --x\"\n misc_dynamic\n retry 0\n }\n }\n}\n";
        let (mut d, mut b, _) = started(conf);
        let m = d.monitor_mut();
        let mut current = b.desired();
        assert_eq!(
            check(m, &mut b, 0, CheckOutcome::UpWithWeight(5)),
            [
                "Misc check for [[10.1.0.1]:tcp:80 VS [10.0.0.1]:tcp:80] by [/bin/probe] succeeded.",
                "Changing weight from 1 to 5 for active service [10.1.0.1]:tcp:80 of VS [10.0.0.1]:tcp:80"
            ]
        );
        assert_eq!(
            step(&b, &mut current),
            [Op::EditDest(key(), dest("10.1.0.1", 5))]
        );
        assert_eq!(
            check(m, &mut b, 0, CheckOutcome::Down(DownReason::ScriptExit(1))),
            [
                "Misc check for [[10.1.0.1]:tcp:80 VS [10.0.0.1]:tcp:80] by [/bin/probe] failed with retry disabled (exited with status 1).",
                "Removing service [10.1.0.1]:tcp:80 from VS [10.0.0.1]:tcp:80",
                "Lost quorum 1-0=1 > 0 for VS [10.0.0.1]:tcp:80",
            ]
        );
        assert_eq!(
            step(&b, &mut current),
            [Op::DelDest(key(), "10.1.0.1:80".parse().unwrap())]
        );
        let lines = check(m, &mut b, 0, CheckOutcome::UpWithWeight(5));
        assert_eq!(
            lines[0],
            "Misc check for [[10.1.0.1]:tcp:80 VS [10.0.0.1]:tcp:80] by [/bin/probe] succeeded."
        );
        assert_eq!(
            step(&b, &mut current),
            [Op::AddDest(key(), dest("10.1.0.1", 5))]
        );
    }

    const RS: &str = "[10.1.0.1]:tcp:80";

    /// One real server checked by `checker` (its keywords inside).
    fn one_rs(checker: &str) -> String {
        format!("virtual_server 10.0.0.1 80 {{\n protocol TCP\n real_server 10.1.0.1 80 {{\n {checker}\n }}\n}}\n")
    }

    /// The checker's own lines among `lines` (not the table's).
    fn own(lines: Vec<String>) -> Vec<String> {
        let table = [
            "Adding service",
            "Removing service",
            "Lost quorum",
            "Gained quorum",
        ];
        lines
            .into_iter()
            .filter(|l| !table.iter().any(|t| l.starts_with(t)))
            .collect()
    }

    /// Each checker's lines, retry 1: its first result is said even though
    /// nothing changes (has_run unset), its down line after a run counts
    /// the retries, and HTTP names each url when it comes back.
    #[test]
    fn first_results_and_retry_counts() {
        let timeout = CheckOutcome::Down(DownReason::Timeout);
        let misc = format!("Misc check for [{RS} VS [10.0.0.1]:tcp:80] by [/bin/p]");
        for (checker, first, down, back) in [
            (
                "TCP_CHECK {\n retry 1\n }",
                vec![format!("TCP connection to {RS} success.")],
                format!("TCP_CHECK on service {RS} failed after 1 retries."),
                vec![format!("TCP connection to {RS} success.")],
            ),
            (
                "UDP_CHECK {\n retry 1\n }",
                vec![format!("UDP connection to {RS} success.")],
                format!("UDP_CHECK on service {RS} failed after 1 retries."),
                vec![format!("UDP connection to {RS} success.")],
            ),
            (
                "PING_CHECK {\n retry 1\n }",
                vec![format!("ICMP connection to {RS} success.")],
                format!("ICMP CHECK on service {RS} of [10.0.0.1]:tcp:80 failed after 1 retries."),
                vec![format!("ICMP connection to {RS} success.")],
            ),
            (
                "HTTP_GET {\n url {\n path /a\n }\n url {\n path /b\n digest 0123456789abcdef0123456789abcdef\n }\n retry 1\n }",
                vec![format!("Remote Web server {RS} succeed on service.")],
                format!("HTTP_CHECK on service {RS} failed after 1 retries."),
                vec![
                    format!("HTTP status code success to {RS} url(/a)"),
                    format!("MD5 digest success to {RS} url(/b)"),
                    format!("Remote Web server {RS} succeed on service."),
                ],
            ),
            (
                "SMTP_CHECK {\n retry 1\n }",
                vec![format!("Remote SMTP server {RS} succeed on service.")],
                format!("SMTP_CHECK Read timeout from server {RS}"),
                vec![format!("Remote SMTP server {RS} succeed on service.")],
            ),
            (
                "DNS_CHECK {\n retry 1\n }",
                vec![],
                format!("DNS_CHECK ({RS}) read timeout from socket after 1 retries"),
                vec![],
            ),
            (
                "MISC_CHECK {\n misc_path /bin/p\n retry 1\n }",
                vec![format!("{misc} succeeded.")],
                format!("{misc} timed out after 1 retry."),
                vec![format!("{misc} succeeded.")],
            ),
        ] {
            let (mut d, mut b, _) = started(&one_rs(checker));
            let m = d.monitor_mut();
            // HTTP_GET checks its two urls one per step: a passing round
            // is two checks, said together.
            let http = checker.starts_with("HTTP_GET");
            let round = |m: &mut Monitor, b: &mut Bridge| {
                let steps = if http { 2 } else { 1 };
                (0..steps)
                    .flat_map(|_| check(m, b, 0, CheckOutcome::Up))
                    .collect::<Vec<_>>()
            };
            assert_eq!(round(m, &mut b), first, "{checker}");
            // Later passes of a healthy server are silent.
            assert_eq!(round(m, &mut b), [""; 0], "{checker}");
            assert_eq!(check(m, &mut b, 0, timeout.clone()), [""; 0], "{checker}");
            assert_eq!(own(check(m, &mut b, 0, timeout.clone())), [down], "{checker}");
            if http {
                // The first pass clears the failed url, and names it; a
                // second pass confirms the recovery (epilog's failed_url).
                assert_eq!(
                    own(check(m, &mut b, 0, CheckOutcome::Up)),
                    [format!("HTTP status code success to {RS} url(/a)")]
                );
            }
            assert_eq!(own(round(m, &mut b)), back, "{checker}");
        }
    }

    /// A first check that fails: no retries were made, so no count, except
    /// for HTTP_GET (timeout_epilog marks it run before its epilog).
    #[test]
    fn a_failing_first_check_says_no_retry_count() {
        let timeout = CheckOutcome::Down(DownReason::Timeout);
        for (checker, down) in [
            (
                "TCP_CHECK {\n retry 2\n }",
                format!("TCP_CHECK on service {RS} failed."),
            ),
            (
                "UDP_CHECK {\n retry 2\n }",
                format!("UDP_CHECK on service {RS} failed."),
            ),
            (
                "PING_CHECK {\n retry 2\n }",
                format!("ICMP CHECK on service {RS} failed."),
            ),
            (
                "HTTP_GET {\n url {\n path /\n }\n retry 2\n }",
                format!("HTTP_CHECK on service {RS} failed after 2 retries."),
            ),
            (
                "DNS_CHECK {\n retry 2\n }",
                format!("DNS_CHECK ({RS}) read timeout from socket"),
            ),
        ] {
            let (mut d, mut b, _) = started(&one_rs(checker));
            let m = d.monitor_mut();
            assert_eq!(
                own(check(m, &mut b, 0, timeout.clone())),
                [down],
                "{checker}"
            );
        }
    }

    /// DNS_CHECK counts its retries once it has run, even none.
    #[test]
    fn dns_with_retry_0_says_after_0_retries() {
        let (mut d, mut b, _) = started(&one_rs("DNS_CHECK {\n retry 0\n }"));
        let m = d.monitor_mut();
        assert_eq!(check(m, &mut b, 0, CheckOutcome::Up), [""; 0]);
        let lines = check(m, &mut b, 0, CheckOutcome::Down(DownReason::DnsRcode(2)));
        assert_eq!(
            own(lines),
            [format!(
                "DNS_CHECK ({RS}) read error occurred. (rcode = 2) after 0 retries"
            )]
        );
    }

    /// An `alpha` checker starts down: its first failure is said by TCP_CHECK
    /// and MISC_CHECK but not by HTTP_GET, whose first success names the
    /// urls (is_up unset).
    #[test]
    fn alpha_first_results() {
        let timeout = CheckOutcome::Down(DownReason::Timeout);
        let misc = format!("Misc check for [{RS} VS [10.0.0.1]:tcp:80] by [/bin/p]");
        for (checker, fail) in [
            (
                "TCP_CHECK {\n alpha\n retry 1\n }",
                vec![format!("TCP_CHECK on service {RS} failed.")],
            ),
            (
                "MISC_CHECK {\n misc_path /bin/p\n alpha\n retry 1\n }",
                vec![format!("{misc} timed out after 1 retry.")],
            ),
            (
                "HTTP_GET {\n url {\n path /x\n }\n alpha\n retry 1\n }",
                vec![],
            ),
        ] {
            let (mut d, mut b, _) = started(&one_rs(checker));
            let m = d.monitor_mut();
            assert_eq!(check(m, &mut b, 0, timeout.clone()), fail, "{checker}");
            // The second failure of a down checker is silent.
            assert_eq!(check(m, &mut b, 0, timeout.clone()), [""; 0], "{checker}");
        }
        let (mut d, mut b, _) = started(&one_rs("HTTP_GET {\n url {\n path /x\n }\n alpha\n }"));
        let m = d.monitor_mut();
        assert_eq!(
            own(check(m, &mut b, 0, CheckOutcome::Up)),
            [
                format!("HTTP status code success to {RS} url(/x)"),
                format!("Remote Web server {RS} succeed on service."),
            ]
        );
    }

    /// Issue 13: an HTTP/SSL server checks one url per step and comes
    /// back through check_http.c's url cursor. Its first round says the
    /// server once its last url passed; down at its second url, only that
    /// url is checked until it passes (named: `http_handle_response`
    /// while not up); then each url from the first is named as it passes,
    /// one that fails is checked again, and the last names the server
    /// (`epilog`) and adds it.
    #[test]
    fn http_recovery_follows_keepalived_url_cursor() {
        let conf = one_rs("SSL_GET {\n url {\n path /x\n digest 0123456789abcdef0123456789abcdef\n }\n url {\n path /y\n }\n url {\n path /z\n }\n retry 0\n fast_recovery\n }");
        let (mut d, mut b, _) = started(&conf);
        let m = d.monitor_mut();
        // The only real server's next check: the urls it covers, the lines.
        let mut next = |o: CheckOutcome| {
            let at = m.poll_timeout().unwrap();
            let due = m.poll_check(at).unwrap();
            m.handle_outcome(at, due.target, o).unwrap();
            let lines: Vec<String> = std::iter::from_fn(|| m.poll_event())
                .flat_map(|e| b.handle(&e))
                .collect();
            (due.urls, lines)
        };
        let fails_at = |url| CheckOutcome::UrlDown {
            url,
            reason: DownReason::HttpStatus(500),
        };
        let web = format!("Remote Web server {RS} succeed on service.");
        let url = |test: &str, path: &str| format!("{test} success to {RS} url({path})");
        let up = || CheckOutcome::Up;
        assert_eq!(next(up()), (UrlSpan::Only(0), vec![]));
        assert_eq!(next(up()), (UrlSpan::Only(1), vec![]));
        assert_eq!(next(up()), (UrlSpan::Only(2), vec![web.clone()]));
        assert_eq!(next(up()), (UrlSpan::Only(0), vec![]));
        let (span, lines) = next(fails_at(1));
        assert_eq!(span, UrlSpan::Only(1));
        assert_eq!(own(lines), [format!("HTTP_CHECK on service {RS} failed.")]);
        assert_eq!(next(fails_at(1)), (UrlSpan::Only(1), vec![]));
        let cleared = vec![url("HTTP status code", "/y")];
        assert_eq!(next(up()), (UrlSpan::Only(1), cleared));
        let passed = vec![url("MD5 digest", "/x")];
        assert_eq!(next(up()), (UrlSpan::Only(0), passed));
        let passed = vec![url("HTTP status code", "/y")];
        assert_eq!(next(up()), (UrlSpan::Only(1), passed));
        assert_eq!(next(fails_at(2)), (UrlSpan::Only(2), vec![]));
        let (span, lines) = next(up());
        assert_eq!(span, UrlSpan::Only(2));
        assert_eq!(
            lines,
            [
                url("HTTP status code", "/z"),
                web,
                format!("Adding service {RS} to VS [10.0.0.1]:tcp:80"),
                "Gained quorum 1+0=1 <= 1 for VS [10.0.0.1]:tcp:80".to_owned(),
            ]
        );
        assert_eq!(next(up()), (UrlSpan::Only(0), vec![]));
    }
}
