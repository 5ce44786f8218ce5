//! Which real servers are in the IPVS table, and with which weight: the
//! desired table follows the monitor's pool events, with keepalived's log
//! lines. Sans-IO: the daemon diffs [`Table::desired`] against what it
//! last applied.

use std::collections::HashMap;

use healthcheck::{Event, PoolId, TargetId};

use crate::lvs_mode::plan::Plan;

/// Where a health-check target sits in the plan: (service, real server).
pub type Slot = (usize, usize);

/// The live members of every service.
#[derive(Debug, Clone)]
pub struct Table {
    plan: Plan,
    /// Live weight of each real server in the table.
    live: HashMap<Slot, u32>,
    targets: HashMap<TargetId, Slot>,
    pools: HashMap<PoolId, usize>,
}

impl Table {
    /// A table where the real servers without a checker are in (always
    /// up, as keepalived) and the checked ones wait for the monitor.
    pub fn new(plan: Plan) -> Self {
        let mut live = HashMap::new();
        for (s, svc) in plan.services.iter().enumerate() {
            for (r, rs) in svc.real_servers.iter().enumerate() {
                if rs.check.is_none() {
                    live.insert((s, r), rs.dest.weight);
                }
            }
        }
        Self {
            plan,
            live,
            targets: HashMap::new(),
            pools: HashMap::new(),
        }
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

    /// Applies a monitor event; returns keepalived's log line for it, if
    /// it has one (check_tcp.c `tcp_epilog`, check_http.c `epilog`,
    /// ipwrapper.c `perform_svr_state`).
    pub fn handle(&mut self, event: &Event) -> Option<String> {
        match *event {
            Event::TargetUp { target } => {
                let (kw, name) = self.check_of(target)?;
                Some(match kw {
                    "TCP_CHECK" => format!("TCP connection to {name} success."),
                    _ => format!("Remote Web server {name} succeed on service."),
                })
            }
            Event::TargetDown { target, ref reason } => {
                let (kw, name) = self.check_of(target)?;
                tracing::debug!("{kw} on {name}: {reason}");
                Some(match kw {
                    "TCP_CHECK" => format!("TCP_CHECK on service {name} failed."),
                    _ => format!("Check on service {name} failed."),
                })
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
            _ => None,
        }
    }

    /// The checker keyword and keepalived's name of what it connects to.
    fn check_of(&self, target: TargetId) -> Option<(&'static str, String)> {
        let &(s, r) = self.targets.get(&target)?;
        let svc = self.plan.services.get(s)?;
        let check = svc.real_servers.get(r)?.check.as_ref()?;
        let proto = svc.name.split(':').nth(1).unwrap_or("tcp");
        Some((
            check.probe.keyword(),
            crate::lvs_mode::plan::trio(check.context.target, proto),
        ))
    }

    fn set(&mut self, pool: PoolId, target: TargetId, weight: Option<u32>) -> Option<String> {
        let s = *self.pools.get(&pool)?;
        let &(ts, r) = self.targets.get(&target)?;
        if ts != s {
            return None;
        }
        let svc = self.plan.services.get(s)?;
        let rs = svc.real_servers.get(r)?;
        let was = match weight {
            Some(w) => self.live.insert((s, r), w),
            None => self.live.remove(&(s, r)),
        };
        // keepalived's perform_svr_state wording; inhibited servers stay
        // in with weight 0 and are "enabled"/"disabled".
        let (verb, prep) = match (was, weight, rs.inhibit_on_failure) {
            (_, Some(w), true) if w > 0 && was != Some(w) => ("Enabling", "of"),
            (Some(old), Some(0), true) if old > 0 => ("Disabling", "of"),
            (None, Some(_), false) => ("Adding", "to"),
            (Some(_), None, _) => ("Removing", "from"),
            _ => return None,
        };
        Some(format!("{verb} service {} {prep} VS {}", rs.name, svc.name))
    }

    /// The table keepalived-lite wants in the kernel now.
    pub fn desired(&self) -> Vec<ipvs::VirtualServer> {
        self.plan
            .services
            .iter()
            .enumerate()
            .map(|(s, svc)| ipvs::VirtualServer {
                service: svc.service.clone(),
                dests: svc
                    .real_servers
                    .iter()
                    .enumerate()
                    .filter_map(|(r, rs)| {
                        let mut d = rs.dest;
                        d.weight = *self.live.get(&(s, r))?;
                        Some(d)
                    })
                    .collect(),
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
            .filter_map(|e| t.handle(&e))
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
        // Before the monitor speaks, only the unchecked server is in.
        let mut current = table.desired();
        assert_eq!(current[0].dests, vec![dest("10.1.0.3", 2)]);

        let m = driver.monitor_mut();
        m.commit(Instant::now());
        let lines = drain(m, &mut table);
        assert_eq!(
            lines,
            [
                "Adding service [10.1.0.1]:tcp:80 to VS [10.0.0.1]:tcp:80",
                "Enabling service [10.1.0.2]:tcp:80 of VS [10.0.0.1]:tcp:80",
            ]
        );
        let mut step = |table: &Table| {
            let want = table.desired();
            let ops = ipvs::diff(&want, &current);
            current = want;
            ops
        };
        assert_eq!(
            step(&table),
            [
                Op::AddDest(key, dest("10.1.0.1", 1)),
                Op::AddDest(key, dest("10.1.0.2", 3)),
            ]
        );

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
}
