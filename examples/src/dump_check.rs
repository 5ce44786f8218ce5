//! The checker half's DATA dump, as keepalived 2.2.7's checker process
//! writes it on SIGUSR1 into `keepalived_check.data` (in `$TMPDIR`, else
//! /tmp; `keepalived_check.SUFFIX.data` under `data_use_instance`) and,
//! with `config_save_dir`, around each reload into
//! `keepalived_check.PID.N.pre` and `.post`. The text is rendered by
//! [`vrrp_conf::dump::check`]; here are the plan last published and the
//! running checker's state.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use vrrp_conf::dump::check::{self, Live};

use crate::dump::SystemHost;
use crate::lvs_mode::plan::Plan;

/// The plan the checker runs, as last published.
static PLAN: Mutex<Option<Arc<Plan>>> = Mutex::new(None);

/// Publishes the plan the checker now runs (at start and after each
/// reload): SIGUSR1 then writes its dump.
pub fn publish(plan: &Plan) {
    *PLAN.lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(plan.clone()));
}

/// `keepalived_check.data` in keepalived's temporary directory.
pub fn path() -> PathBuf {
    crate::dump::tmp_file("keepalived_check", "data")
}

/// The running checker's state (`crate::observe`).
fn live() -> Live {
    let mut live = Live::default();
    let Some(state) = crate::observe::checker() else {
        return live;
    };
    for rs in state.real_servers {
        let key = (rs.virtual_server, rs.real_server);
        let ran = rs.outcomes.values().any(|n| *n > 0);
        live.has_run.insert(key.clone(), ran);
        live.down.insert(key, !rs.up);
    }
    for vs in state.virtual_servers {
        live.quorum_down
            .insert(vs.name, vs.quorum_up == Some(false));
    }
    live
}

/// The dump of the running checker, or None if no checker runs.
pub fn current() -> Option<String> {
    let plan = PLAN.lock().unwrap_or_else(|e| e.into_inner()).clone()?;
    let global = crate::dump::global_part(vrrp_conf::dump::global::Half::Checker);
    Some(global + &check::data(&plan, &live(), &SystemHost))
}
