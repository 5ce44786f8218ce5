//! Which real servers are in the IPVS table, and with which weight: the
//! desired table follows the monitor's pool events, with keepalived's
//! quorum and sorry server rules and log lines (keepalived 2.2
//! `check/ipwrapper.c`: `perform_svr_state`, `update_quorum_state`,
//! `perform_quorum_state`). Sans-IO: the daemon diffs [`Table::desired`]
//! against what it last applied.

use std::collections::HashMap;

use healthcheck::{DownReason, Event, PoolId, TargetId};

use crate::lvs_mode::plan::{trio, Plan, Probe};

/// Where a health-check target sits in the plan: (service, real server).
pub type Slot = (usize, usize);

/// The live members of every service.
#[derive(Debug, Clone)]
pub struct Table {
    plan: Plan,
    /// Live weight of each real server in the table (0: inhibited).
    live: HashMap<Slot, u32>,
    /// Per service: whether its quorum is up.
    quorum_up: Vec<bool>,
    targets: HashMap<TargetId, Slot>,
    pools: HashMap<PoolId, usize>,
}

impl Table {
    /// The table at start-up, as keepalived's `init_services`: every real
    /// server is in, except those of an `alpha` service, which wait for
    /// their first success (in with weight 0 under `inhibit_on_failure`).
    /// A service starting below its quorum starts with its sorry server.
    pub fn new(plan: Plan) -> Self {
        let mut live = HashMap::new();
        for (s, svc) in plan.services.iter().enumerate() {
            for (r, rs) in svc.real_servers.iter().enumerate() {
                let alpha = rs.check.as_ref().is_some_and(|c| c.target.alpha);
                match (alpha, rs.inhibit_on_failure) {
                    (false, _) => live.insert((s, r), rs.dest.weight),
                    (true, true) => live.insert((s, r), 0),
                    (true, false) => None,
                };
            }
        }
        let mut t = Self {
            quorum_up: vec![true; plan.services.len()],
            plan,
            live,
            targets: HashMap::new(),
            pools: HashMap::new(),
        };
        for s in 0..t.plan.services.len() {
            let (sum, q) = (t.weight_sum(s), t.plan.services[s].quorum);
            t.quorum_up[s] = sum >= u64::from(q) + u64::from(t.plan.services[s].hysteresis);
        }
        t
    }

    /// The start-up log lines (a service starting with its quorum down).
    pub fn start_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (s, svc) in self.plan.services.iter().enumerate() {
            if self.quorum_up[s] {
                continue;
            }
            let (q, h) = (svc.quorum, svc.hysteresis);
            let threshold = i64::from(q) + i64::from(h);
            let sum = self.weight_sum(s);
            out.push(format!(
                "Starting with quorum down {q}-{h}={threshold} > {sum} for VS {}",
                svc.name
            ));
            if let Some(sorry) = &svc.sorry_server {
                out.push(format!(
                    "Adding sorry server {} to VS {}",
                    sorry.name, svc.name
                ));
            }
        }
        out
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Records which target checks which real server.
    pub fn bind_target(&mut self, target: TargetId, slot: Slot) {
        self.targets.insert(target, slot);
    }

    /// The real server a target checks.
    pub fn slot_of(&self, target: TargetId) -> Option<Slot> {
        self.targets.get(&target).copied()
    }

    /// Records which pool is which service.
    pub fn bind_pool(&mut self, pool: PoolId, service: usize) {
        self.pools.insert(pool, service);
    }

    /// Applies a monitor event; returns keepalived's log lines for it
    /// (check_tcp.c `tcp_epilog`, check_http.c `epilog`, ipwrapper.c).
    /// The monitor's own quorum events are not used: the quorum counts
    /// every real server, checked or not, as keepalived does.
    pub fn handle(&mut self, event: &Event) -> Vec<String> {
        match *event {
            Event::TargetUp { target } => self.check_line(target, None).into_iter().collect(),
            Event::TargetDown { target, ref reason } => {
                self.check_line(target, Some(reason)).into_iter().collect()
            }
            Event::MemberAdd {
                pool,
                target,
                weight,
            }
            | Event::MemberWeight {
                pool,
                target,
                weight,
            } => self.set(pool, target, Some(weight)),
            Event::MemberRemove { pool, target } => self.set(pool, target, None),
            _ => Vec::new(),
        }
    }

    /// The checker's line for a target going up (`None`) or down.
    fn check_line(&self, target: TargetId, down: Option<&DownReason>) -> Option<String> {
        let &(s, r) = self.targets.get(&target)?;
        let svc = self.plan.services.get(s)?;
        let rs = svc.real_servers.get(r)?;
        let check = rs.check.as_ref()?;
        let name = trio(check.context.target, svc.proto);
        if let Some(reason) = down {
            tracing::debug!("{} on {name}: {reason}", check.probe.keyword());
        }
        Some(match (&check.probe, down) {
            (Probe::Tcp, None) => format!("TCP connection to {name} success."),
            (Probe::Tcp, Some(_)) => format!("TCP_CHECK on service {name} failed."),
            (Probe::Http { .. }, None) => format!("Remote Web server {name} succeed on service."),
            (Probe::Http { .. }, Some(_)) => format!("Check on service {name} failed."),
            (Probe::Misc { path, .. }, down) => {
                let script = path.split(' ').next().unwrap_or_default();
                let how = match down {
                    None => "succeeded".to_owned(),
                    Some(DownReason::Timeout) => "timed out".to_owned(),
                    Some(DownReason::ScriptExit(c)) => format!("failed (exited with status {c})"),
                    Some(DownReason::ScriptSignal(n)) => format!("failed (due to signal {n})"),
                    Some(_) => "failed".to_owned(),
                };
                format!(
                    "Misc check for [{} VS {}] by [{script}] {how}.",
                    rs.name, svc.name
                )
            }
        })
    }

    fn set(&mut self, pool: PoolId, target: TargetId, weight: Option<u32>) -> Vec<String> {
        let mut out = Vec::new();
        let (Some(&s), Some(&(ts, r))) = (self.pools.get(&pool), self.targets.get(&target)) else {
            return out;
        };
        let Some(svc) = self.plan.services.get(s).filter(|_| ts == s) else {
            return out;
        };
        let Some(rs) = svc.real_servers.get(r) else {
            return out;
        };
        let was = match weight {
            Some(w) => self.live.insert((s, r), w),
            None => self.live.remove(&(s, r)),
        };
        // perform_svr_state's wording; inhibited servers stay in with
        // weight 0 and are "enabled"/"disabled".
        let verb = match (was, weight, rs.inhibit_on_failure) {
            (None | Some(0), Some(w), true) if w > 0 => Some(("Enabling", "of")),
            (Some(old), Some(0), true) if old > 0 => Some(("Disabling", "of")),
            (None, Some(_), false) => Some(("Adding", "to")),
            (Some(_), None, _) => Some(("Removing", "from")),
            _ => None,
        };
        match (verb, was, weight) {
            (Some((verb, prep)), _, _) => {
                out.push(format!("{verb} service {} {prep} VS {}", rs.name, svc.name));
            }
            // update_svr_wgt: a new (dynamic) weight of a server in.
            (None, Some(old), Some(new)) if old != new => out.push(format!(
                "Changing weight from {old} to {new} for active service {} of VS {}",
                rs.name, svc.name
            )),
            _ => {}
        }
        self.update_quorum(s, &mut out);
        out
    }

    /// Sum of the live weights of a service's real servers.
    fn weight_sum(&self, s: usize) -> u64 {
        self.live
            .iter()
            .filter(|((ls, _), _)| *ls == s)
            .map(|(_, w)| u64::from(*w))
            .sum()
    }

    /// update_quorum_state: gained at `quorum + hysteresis`, lost below
    /// `quorum - hysteresis` or at 0; the sorry server swaps in and out.
    fn update_quorum(&mut self, s: usize, out: &mut Vec<String>) {
        let Some(svc) = self.plan.services.get(s) else {
            return;
        };
        let sum = i64::try_from(self.weight_sum(s)).unwrap_or(i64::MAX);
        let (q, h) = (svc.quorum, svc.hysteresis);
        let up = self.quorum_up[s];
        let threshold = i64::from(q) + if up { -i64::from(h) } else { i64::from(h) };
        if !up && sum >= threshold {
            self.quorum_up[s] = true;
            out.push(format!(
                "Gained quorum {q}+{h}={threshold} <= {sum} for VS {}",
                svc.name
            ));
            if let Some(sorry) = &svc.sorry_server {
                out.push(format!(
                    "Removing sorry server {} from VS {}",
                    sorry.name, svc.name
                ));
                out.push(format!(
                    "Adding alive servers to the pool for VS {}",
                    svc.name
                ));
            }
        } else if up && (sum == 0 || sum < threshold) {
            self.quorum_up[s] = false;
            out.push(format!(
                "Lost quorum {q}-{h}={threshold} > {sum} for VS {}",
                svc.name
            ));
            if let Some(sorry) = &svc.sorry_server {
                out.push(format!(
                    "Adding sorry server {} to VS {}",
                    sorry.name, svc.name
                ));
                out.push(format!(
                    "Removing alive servers from the pool for VS {}",
                    svc.name
                ));
            }
        }
    }

    /// The table keepalived-lite wants in the kernel now: the live real
    /// servers, or only the sorry server while the quorum is lost.
    pub fn desired(&self) -> Vec<ipvs::VirtualServer> {
        self.plan
            .services
            .iter()
            .enumerate()
            .map(|(s, svc)| {
                let dests = match (&svc.sorry_server, self.quorum_up[s]) {
                    (Some(sorry), false) => vec![sorry.dest],
                    _ => svc
                        .real_servers
                        .iter()
                        .enumerate()
                        .filter_map(|(r, rs)| {
                            let mut d = rs.dest;
                            d.weight = *self.live.get(&(s, r))?;
                            Some(d)
                        })
                        .collect(),
                };
                ipvs::VirtualServer {
                    service: svc.service.clone(),
                    dests,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use std::time::Instant;

    use healthcheck::{CheckOutcome, DownReason, Monitor};
    use ipvs::{Destination, Forward, Op, ServiceKey};

    use super::*;
    use crate::lvs_mode::{daemon, plan};

    const CONF: &str = "virtual_server 10.0.0.1 80 {
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

    /// Feeds every monitor event to the table; returns the log lines.
    fn drain(m: &mut Monitor, t: &mut Table) -> Vec<String> {
        std::iter::from_fn(|| m.poll_event())
            .flat_map(|e| t.handle(&e))
            .collect()
    }

    /// Runs due checks until real server `r` has been checked once, with
    /// `outcome` for it.
    fn check(m: &mut Monitor, t: &mut Table, r: usize, outcome: CheckOutcome) -> Vec<String> {
        loop {
            let at = m.poll_timeout().unwrap();
            let due = m.poll_check(at).unwrap();
            let mine = t.slot_of(due.target) == Some((0, r));
            // The others keep their state.
            let o = match (mine, m.is_up(due.target)) {
                (true, _) => outcome.clone(),
                (false, Some(true)) => CheckOutcome::Up,
                (false, _) => CheckOutcome::Down(DownReason::Refused),
            };
            m.handle_outcome(at, due.target, o).unwrap();
            let lines = drain(m, t);
            if mine {
                return lines;
            }
        }
    }

    #[test]
    fn each_health_change_sends_only_its_own_operations() {
        let parsed = vrrp_conf::parse_str("t.conf", CONF, &vrrp_conf::Options::default());
        let (mut driver, mut table) = daemon::build(plan::build(&parsed.config).unwrap());
        let key = ServiceKey::tcp("10.0.0.1:80".parse().unwrap());
        // At start every real server is in (keepalived's init_services);
        // the monitor's first events change nothing.
        let mut current = table.desired();
        assert_eq!(
            current[0].dests,
            vec![
                dest("10.1.0.1", 1),
                dest("10.1.0.2", 3),
                dest("10.1.0.3", 2)
            ]
        );
        assert!(table.start_lines().is_empty());

        let m = driver.monitor_mut();
        m.commit(Instant::now());
        assert!(drain(m, &mut table).is_empty());
        let mut step = |table: &Table| {
            let want = table.desired();
            let ops = ipvs::diff(&want, &current);
            current = want;
            ops
        };
        assert_eq!(step(&table), []);

        let down = CheckOutcome::Down(DownReason::Refused);
        let lines = check(m, &mut table, 0, down.clone());
        assert_eq!(
            lines,
            [
                "TCP_CHECK on service [10.1.0.1]:tcp:80 failed.",
                "Removing service [10.1.0.1]:tcp:80 from VS [10.0.0.1]:tcp:80",
            ]
        );
        assert_eq!(
            step(&table),
            [Op::DelDest(key, "10.1.0.1:80".parse().unwrap())]
        );

        let lines = check(m, &mut table, 1, down);
        assert_eq!(
            lines,
            [
                "TCP_CHECK on service [10.1.0.2]:tcp:80 failed.",
                "Disabling service [10.1.0.2]:tcp:80 of VS [10.0.0.1]:tcp:80",
            ]
        );
        assert_eq!(step(&table), [Op::EditDest(key, dest("10.1.0.2", 0))]);

        let lines = check(m, &mut table, 1, CheckOutcome::Up);
        assert_eq!(
            lines,
            [
                "TCP connection to [10.1.0.2]:tcp:80 success.",
                "Enabling service [10.1.0.2]:tcp:80 of VS [10.0.0.1]:tcp:80",
            ]
        );
        assert_eq!(step(&table), [Op::EditDest(key, dest("10.1.0.2", 3))]);

        let lines = check(m, &mut table, 0, CheckOutcome::Up);
        assert_eq!(
            lines,
            [
                "TCP connection to [10.1.0.1]:tcp:80 success.",
                "Adding service [10.1.0.1]:tcp:80 to VS [10.0.0.1]:tcp:80",
            ]
        );
        assert_eq!(step(&table), [Op::AddDest(key, dest("10.1.0.1", 1))]);
        // Stopping removes the service with everything in it.
        assert_eq!(ipvs::diff(&[], &current), [Op::DelService(key)]);
    }

    const QUORUM: &str = "virtual_server 10.0.0.1 80 {
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
        let parsed = vrrp_conf::parse_str("t.conf", QUORUM, &vrrp_conf::Options::default());
        let (mut driver, mut table) = daemon::build(plan::build(&parsed.config).unwrap());
        let key = ServiceKey::tcp("10.0.0.1:80".parse().unwrap());
        let vs = "for VS [10.0.0.1]:tcp:80";
        let mut current = Vec::new();
        let mut step = |table: &Table| {
            let want = table.desired();
            let ops = ipvs::diff(&want, &current);
            current = want;
            ops
        };
        // 5 >= 3 + 1: up at start.
        assert!(table.start_lines().is_empty());
        assert_eq!(step(&table).len(), 4);
        let m = driver.monitor_mut();
        m.commit(Instant::now());
        drain(m, &mut table);
        let down = CheckOutcome::Down(DownReason::Refused);
        // 3 is not below 3 - 1: the quorum holds.
        let lines = check(m, &mut table, 0, down.clone());
        assert_eq!(lines.len(), 2);
        assert_eq!(
            step(&table),
            [Op::DelDest(key, "10.1.0.1:80".parse().unwrap())]
        );
        // 1 < 2: lost; the sorry server replaces the live servers.
        let lines = check(m, &mut table, 1, down);
        assert_eq!(
            lines[2..],
            [
                format!("Lost quorum 3-1=2 > 1 {vs}"),
                "Adding sorry server [10.9.9.9]:tcp:80 to VS [10.0.0.1]:tcp:80".to_string(),
                format!("Removing alive servers from the pool {vs}"),
            ]
        );
        let sorry = dest("10.9.9.9", 1);
        assert_eq!(
            step(&table),
            [
                Op::DelDest(key, "10.1.0.2:80".parse().unwrap()),
                Op::DelDest(key, "10.1.0.3:80".parse().unwrap()),
                Op::AddDest(key, sorry),
            ]
        );
        // 3 < 3 + 1: still lost; nothing changes in the kernel.
        let lines = check(m, &mut table, 0, CheckOutcome::Up);
        assert_eq!(lines.len(), 2);
        assert_eq!(step(&table), []);
        // 5 >= 4: gained; the live servers come back.
        let lines = check(m, &mut table, 1, CheckOutcome::Up);
        assert_eq!(
            lines[2..],
            [
                format!("Gained quorum 3+1=4 <= 5 {vs}"),
                "Removing sorry server [10.9.9.9]:tcp:80 from VS [10.0.0.1]:tcp:80".to_string(),
                format!("Adding alive servers to the pool {vs}"),
            ]
        );
        assert_eq!(
            step(&table),
            [
                Op::DelDest(key, "10.9.9.9:80".parse().unwrap()),
                Op::AddDest(key, dest("10.1.0.1", 2)),
                Op::AddDest(key, dest("10.1.0.2", 2)),
                Op::AddDest(key, dest("10.1.0.3", 1)),
            ]
        );
    }

    #[test]
    fn alpha_service_starts_with_its_sorry_server() {
        let conf = "virtual_server 10.0.0.1 80 {\n alpha\n sorry_server 10.9.9.9 80\n real_server 10.1.0.1 80 {\n inhibit_on_failure\n TCP_CHECK {\n }\n }\n}\n";
        let parsed = vrrp_conf::parse_str("t.conf", conf, &vrrp_conf::Options::default());
        let (_, table) = daemon::build(plan::build(&parsed.config).unwrap());
        assert_eq!(
            table.start_lines(),
            [
                "Starting with quorum down 1-0=1 > 0 for VS [10.0.0.1]:tcp:80",
                "Adding sorry server [10.9.9.9]:tcp:80 to VS [10.0.0.1]:tcp:80",
            ]
        );
        assert_eq!(table.desired()[0].dests, [dest("10.9.9.9", 1)]);
    }

    #[test]
    fn misc_dynamic_weight_and_failure() {
        let conf = "virtual_server 10.0.0.1 80 {\n real_server 10.1.0.1 80 {\n MISC_CHECK {\n misc_path \"/bin/probe --x\"\n misc_dynamic\n retry 0\n }\n }\n}\n";
        let parsed = vrrp_conf::parse_str("t.conf", conf, &vrrp_conf::Options::default());
        let (mut driver, mut table) = daemon::build(plan::build(&parsed.config).unwrap());
        let key = ServiceKey::tcp("10.0.0.1:80".parse().unwrap());
        let mut current = table.desired();
        let mut step = |table: &Table| {
            let want = table.desired();
            let ops = ipvs::diff(&want, &current);
            current = want;
            ops
        };
        let m = driver.monitor_mut();
        m.commit(Instant::now());
        drain(m, &mut table);
        let lines = check(m, &mut table, 0, CheckOutcome::UpWithWeight(5));
        assert_eq!(
            lines,
            ["Changing weight from 1 to 5 for active service [10.1.0.1]:tcp:80 of VS [10.0.0.1]:tcp:80"]
        );
        assert_eq!(step(&table), [Op::EditDest(key, dest("10.1.0.1", 5))]);
        let lines = check(
            m,
            &mut table,
            0,
            CheckOutcome::Down(DownReason::ScriptExit(1)),
        );
        assert_eq!(
            lines,
            [
                "Misc check for [[10.1.0.1]:tcp:80 VS [10.0.0.1]:tcp:80] by [/bin/probe] failed (exited with status 1).",
                "Removing service [10.1.0.1]:tcp:80 from VS [10.0.0.1]:tcp:80",
                "Lost quorum 1-0=1 > 0 for VS [10.0.0.1]:tcp:80",
            ]
        );
        assert_eq!(
            step(&table),
            [Op::DelDest(key, "10.1.0.1:80".parse().unwrap())]
        );
        let lines = check(m, &mut table, 0, CheckOutcome::UpWithWeight(5));
        assert_eq!(
            lines[0],
            "Misc check for [[10.1.0.1]:tcp:80 VS [10.0.0.1]:tcp:80] by [/bin/probe] succeeded."
        );
        assert_eq!(step(&table), [Op::AddDest(key, dest("10.1.0.1", 5))]);
    }
}
