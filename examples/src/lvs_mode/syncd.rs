//! `lvs_sync_daemon`: the kernel's IPVS connection sync daemons.
//! Without an instance both the master and the backup run while the
//! checker runs (keepalived 2.2.7 `check_daemon.c`, `IPVS_MASTER_BACKUP`).
//! With one, keepalived's VRRP process runs the backup, and the master
//! while the instance is MASTER (`vrrp.c` `ipvs_syncd_master`,
//! `ipvs_syncd_backup`); here the instance counts as MASTER while its
//! virtual addresses are on this host, which is what its MASTER state
//! puts there.

use std::collections::HashSet;
use std::net::IpAddr;

use ipvs::{DaemonState, Ipvs, SyncDaemon};
use tracing::{info, warn};

use crate::lvs_mode::plan::SyncPlan;

/// The daemons this checker started, and from which plan.
#[derive(Debug, Default)]
pub struct SyncControl {
    plan: Option<SyncPlan>,
    running: Vec<DaemonState>,
}

/// The daemon roles `plan` wants, given the host's addresses (None: not
/// read yet, so not MASTER).
pub fn wanted(plan: &SyncPlan, local: Option<&HashSet<IpAddr>>) -> Vec<DaemonState> {
    if plan.instance.is_none() {
        return vec![DaemonState::Master, DaemonState::Backup];
    }
    let master = local.is_some_and(|l| plan.instance_vips.iter().all(|v| l.contains(v)));
    vec![if master {
        DaemonState::Master
    } else {
        DaemonState::Backup
    }]
}

impl SyncControl {
    /// Whether the host's addresses matter (an instance to follow).
    pub fn follows_addresses(plan: Option<&SyncPlan>) -> bool {
        plan.is_some_and(|p| p.instance.is_some())
    }

    /// Brings the kernel's daemons to what `plan` wants now: a changed
    /// plan restarts them, a changed role swaps them.
    pub fn update(
        &mut self,
        ipvs: &mut Ipvs,
        plan: Option<&SyncPlan>,
        local: Option<&HashSet<IpAddr>>,
    ) {
        if self.plan.as_ref() != plan {
            self.stop(ipvs);
            if self.plan.is_none() && plan.is_some() {
                // keepalived first stops what an earlier run may have left.
                for state in [DaemonState::Master, DaemonState::Backup] {
                    let _ = ipvs.stop_daemon(state);
                }
            }
            self.plan = plan.cloned();
        }
        let Some(plan) = self.plan.clone() else {
            return;
        };
        let want = wanted(&plan, local);
        if want == self.running {
            return;
        }
        self.stop(ipvs);
        for state in want {
            let d = SyncDaemon {
                state,
                ..plan.daemon.clone()
            };
            match ipvs.start_daemon(&d) {
                Ok(()) => {
                    info!(
                        "Starting IPVS sync daemon {state:?} on {} (syncid {})",
                        d.ifname, d.sync_id
                    );
                    self.running.push(state);
                }
                Err(e) => warn!(
                    "IPVS: cannot start the {state:?} sync daemon on {}: {e}",
                    d.ifname
                ),
            }
        }
    }

    /// Stops the daemons this checker started.
    pub fn stop(&mut self, ipvs: &mut Ipvs) {
        for state in std::mem::take(&mut self.running) {
            match ipvs.stop_daemon(state) {
                Ok(()) => info!("Stopping IPVS sync daemon {state:?}"),
                Err(e) => warn!("IPVS: cannot stop the {state:?} sync daemon: {e}"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::*;

    fn plan(instance: Option<&str>) -> SyncPlan {
        SyncPlan {
            daemon: SyncDaemon::new(DaemonState::Master, "eth0", 5),
            instance: instance.map(str::to_owned),
            instance_vips: vec!["10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()],
        }
    }

    #[test]
    fn roles_follow_the_instance_addresses() {
        let both = [DaemonState::Master, DaemonState::Backup];
        assert_eq!(wanted(&plan(None), None), both);
        let p = plan(Some("VI_1"));
        assert_eq!(wanted(&p, None), [DaemonState::Backup]);
        let some: HashSet<IpAddr> = ["10.0.0.1".parse().unwrap()].into();
        assert_eq!(wanted(&p, Some(&some)), [DaemonState::Backup]);
        let all: HashSet<IpAddr> = p.instance_vips.iter().copied().collect();
        assert_eq!(wanted(&p, Some(&all)), [DaemonState::Master]);
        assert!(SyncControl::follows_addresses(Some(&p)));
        assert!(!SyncControl::follows_addresses(Some(&plan(None))));
    }
}
