//! SMTP alerts as keepalived 2.2.7 sends them (core/smtp.c): VRRP
//! instance and sync group transitions, checker results and quorum
//! changes, in keepalived's subject and body wording, to the
//! `notification_email` recipients through `smtp_server`.
//!
//! Which objects alert, and the mail settings, come from
//! [`vrrp_conf::convert::mail::Alerts`]; [`configure`] installs them once
//! for the process (both halves share one mail thread). The event sites
//! call [`vrrp`] and [`checker`], which only queue: sending never blocks
//! an event loop ([`send`]: bounded queue, failures logged as keepalived
//! logs them, and counted in [`counters`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use healthcheck::{Event, TargetId};
use vrrp::event::{Notify, NotifyKind, State};
use vrrp_conf::convert::mail::{Alerts, Mail};

use crate::lvs_mode::table::Bridge;

pub mod compose;
pub mod send;

use send::{Counters, Identity, Sender};

/// The process's alerting state.
struct Alerter {
    alerts: Alerts,
    identity: Identity,
    sender: Sender,
    /// The mail settings the sender was started with.
    mail: Mail,
    /// keepalived's `last_email_state`: the state last mailed about, per
    /// (is a group, name).
    last: HashMap<(bool, String), State>,
    /// Each checker's last result (up), as keepalived's `is_up`.
    checkers: HashMap<TargetId, bool>,
}

static ALERTER: Mutex<Option<Alerter>> = Mutex::new(None);

/// The counters of every alert this process queued.
pub fn counters() -> Arc<Counters> {
    static COUNTERS: OnceLock<Arc<Counters>> = OnceLock::new();
    COUNTERS.get_or_init(Arc::default).clone()
}

fn lock() -> MutexGuard<'static, Option<Alerter>> {
    ALERTER.lock().unwrap_or_else(|e| e.into_inner())
}

/// Installs `alerts` for the process: the mail thread starts if
/// keepalived would send mail at all (and restarts if the mail settings
/// changed); without mail settings, alerts stop.
pub fn configure(alerts: Alerts) {
    let mut guard = lock();
    let Some(mail) = alerts.mail.clone() else {
        *guard = None;
        return;
    };
    if let Some(a) = guard.as_mut().filter(|a| a.mail == mail) {
        a.alerts = alerts;
        return;
    }
    let identity = Identity::of(&mail);
    *guard = Sender::start(&mail, &identity, counters()).map(|sender| Alerter {
        alerts,
        identity,
        sender,
        mail,
        last: HashMap::new(),
        checkers: HashMap::new(),
    });
}

/// A VRRP instance or sync group entered a state (vrrp_notify.c
/// `vrrp_smtp_notifier`, `vrrp_sync_smtp_notifier`): one mail per new
/// state, none for FAULT under `no_email_faults`.
pub fn vrrp(n: &Notify) {
    let mut guard = lock();
    let Some(a) = guard.as_mut() else {
        return;
    };
    let group = n.kind == NotifyKind::Group;
    let on = if group {
        a.alerts.group(&n.name)
    } else {
        a.alerts.instance(&n.name)
    };
    if !on || (a.alerts.no_email_faults && n.state == State::Fault) {
        return;
    }
    let key = (group, n.name.to_string());
    if a.last.get(&key) == Some(&n.state) {
        return;
    }
    a.last.insert(key, n.state);
    let alert = compose::vrrp(&a.identity.router_id, n.kind, &n.name, n.state);
    a.sender.send(alert);
}

/// A monitor event and the lines the bridge logged for it: a checker's
/// result (check_*.c: a mail when the checker changes, and with
/// `no_checker_emails` only when its real server's health changes too)
/// and quorum changes (ipwrapper.c `do_vs_notifies`).
pub fn checker(bridge: &Bridge, event: &Event, lines: &[String]) {
    let mut guard = lock();
    let Some(a) = guard.as_mut() else {
        return;
    };
    let (target, down) = match event {
        Event::TargetUp { target } => (*target, None),
        Event::TargetDown { target, reason } => (*target, Some(reason)),
        _ => return quorum(a, bridge, lines),
    };
    let Some((s, r)) = bridge.slot_of(target) else {
        return;
    };
    let plan = bridge.plan();
    let Some(svc) = plan.services.get(s) else {
        return;
    };
    let Some(rs) = svc.real_servers.get(r) else {
        return;
    };
    // keepalived-lite runs one target per checker; its kind is the real
    // server's first checker's (they differ only in mixed-kind lists).
    let Some(check) = rs.checks.first() else {
        return;
    };
    let up = down.is_none();
    let was_up = a.checkers.insert(target, up).unwrap_or(!check.target.alpha);
    let on = (a.alerts.real_servers.get(s)).and_then(|v| v.get(r).copied());
    if was_up == up || on != Some(true) {
        return;
    }
    let alive = rs_health(lines, &rs.name, &svc.name);
    if alive.is_none() && a.alerts.no_checker_emails {
        return;
    }
    let names = (rs.name.as_str(), svc.name.as_str());
    let alert = compose::checker(
        &a.identity.router_id,
        names,
        alive == Some(true),
        &check.probe,
        down,
    );
    a.sender.send(alert);
}

/// The real server's new health if the bridge's lines say it changed
/// (perform_svr_state's lines).
fn rs_health(lines: &[String], rs: &str, vs: &str) -> Option<bool> {
    lines.iter().find_map(|l| {
        if *l == format!("Adding service {rs} to VS {vs}")
            || *l == format!("Enabling service {rs} of VS {vs}")
        {
            Some(true)
        } else if *l == format!("Removing service {rs} from VS {vs}")
            || *l == format!("Disabling service {rs} of VS {vs}")
        {
            Some(false)
        } else {
            None
        }
    })
}

/// Quorum changes in the bridge's lines, mailed for the virtual servers
/// that alert.
fn quorum(a: &mut Alerter, bridge: &Bridge, lines: &[String]) {
    for line in lines {
        let Some((what, numbers, vs)) = quorum_line(line) else {
            continue;
        };
        let services = &bridge.plan().services;
        let Some(s) = services.iter().position(|svc| svc.name == vs) else {
            continue;
        };
        let Some(svc) = services.get(s) else {
            continue;
        };
        if a.alerts.virtual_servers.get(s) != Some(&true) {
            continue;
        }
        let (q, h) = (svc.quorum, svc.hysteresis);
        let alert = compose::quorum(
            &a.identity.router_id,
            vs,
            what,
            (q, h, numbers.0),
            numbers.1,
        );
        a.sender.send(alert);
    }
}

/// A quorum line ("Gained quorum 3+1=4 <= 6 for VS X", "Lost quorum
/// 3-1=2 > 1 for VS X", "Starting with quorum down ..."): what happened,
/// (threshold, weight sum) and the virtual server.
fn quorum_line(line: &str) -> Option<(&'static str, (i64, i64), &str)> {
    let what = ["Gained quorum", "Lost quorum", "Starting with quorum down"]
        .into_iter()
        .find(|w| line.starts_with(w))?;
    let rest = line.get(what.len() + 1..)?;
    let (numbers, vs) = rest.split_once(" for VS ")?;
    let mut words = numbers.split(' ');
    let threshold = words.next()?.split_once('=')?.1.parse().ok()?;
    let weight_sum = words.nth(1)?.parse().ok()?;
    Some((what, (threshold, weight_sum), vs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quorum_lines_are_read_back() {
        assert_eq!(
            quorum_line("Gained quorum 3+1=4 <= 6 for VS [10.0.0.1]:tcp:80"),
            Some(("Gained quorum", (4, 6), "[10.0.0.1]:tcp:80"))
        );
        assert_eq!(
            quorum_line("Lost quorum 3-1=2 > 1 for VS v"),
            Some(("Lost quorum", (2, 1), "v"))
        );
        assert_eq!(quorum_line("Adding service a to VS v"), None);
        assert_eq!(quorum_line("Lost quorum garbage"), None);
    }

    #[test]
    fn real_server_health_from_the_bridge_lines() {
        let lines = ["TCP_CHECK on service r failed.".to_owned()];
        assert_eq!(rs_health(&lines, "r", "v"), None);
        let lines = ["Removing service r from VS v".to_owned()];
        assert_eq!(rs_health(&lines, "r", "v"), Some(false));
        let lines = ["Enabling service r of VS v".to_owned()];
        assert_eq!(rs_health(&lines, "r", "v"), Some(true));
    }
}
