//! SMTP alerts as keepalived 2.2.7 sends them (core/smtp.c): VRRP
//! instance and sync group transitions, checker results and quorum
//! changes, in keepalived's subject and body wording, to the
//! `notification_email` recipients through `smtp_server`.
//!
//! Which objects alert, and the mail settings, come from
//! [`vrrp_conf::convert::mail::Alerts`]; [`configure`] installs them once
//! for the process (both halves share one mail thread). The event sites
//! call [`vrrp()`] and [`checker()`], which only queue: sending never blocks
//! an event loop ([`send`]: bounded queue, failures logged as keepalived
//! logs them, and counted in [`counters`]).

use std::collections::{BTreeSet, HashMap};
use std::net::ToSocketAddrs;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use healthcheck::{Event, TargetId};
use vrrp::event::{Notify, NotifyKind, State};
use vrrp_conf::convert::lvs::Probe;
use vrrp_conf::convert::mail::{Alerts, Mail};

use crate::lvs_mode::table::{Bridge, Slot};

pub mod compose;
pub mod send;

use compose::Alert;
use send::{Counters, Identity, Sender};

/// keepalived's rules for what is mailed, without the sending: which
/// objects alert, and the last state each was mailed about.
#[derive(Debug)]
struct Policy {
    alerts: Alerts,
    router_id: String,
    /// keepalived's `last_email_state`: the state last mailed about, per
    /// (is a group, name); INIT (`State::Initialize`) when absent.
    last: HashMap<(bool, String), State>,
    /// Instances that alerted in the configuration the last reload
    /// replaced and are absent from the new one: their removal still
    /// mails, as keepalived's old instance keeps its `smtp_alert`.
    removed: BTreeSet<String>,
    /// Each checker's last result (up), as keepalived's `is_up`.
    checkers: HashMap<TargetId, bool>,
    /// The checkers heard from, per real server.
    slots: HashMap<Slot, Vec<TargetId>>,
}

/// The process's alerting state.
struct Alerter {
    policy: Policy,
    sender: Sender,
    /// The mail settings the sender was started with.
    mail: Mail,
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
    let Some(mail) = alerts.mail.clone() else {
        *lock() = None;
        return;
    };
    let mut guard = lock();
    let old = guard.take();
    let removed = old.as_ref().map_or_else(BTreeSet::new, |a| {
        let gone = a.policy.alerts.instances.difference(&alerts.instances);
        gone.cloned().collect()
    });
    if let Some(mut a) = old.filter(|a| a.mail == mail) {
        a.policy.alerts = alerts;
        a.policy.removed = removed;
        *guard = Some(a);
        return;
    }
    drop(guard);
    // Looked up without the lock, so that no event site waits for DNS.
    // keepalived resolves the server once, with the configuration, and
    // sends nothing if it cannot.
    if (mail.host.as_str(), mail.port).to_socket_addrs().is_err() {
        tracing::error!("Invalid smtp server {} {}", mail.host, mail.port);
        *lock() = None;
        return;
    }
    let identity = Identity::of(&mail);
    let started = Sender::start(&mail, &identity, counters()).map(|sender| {
        let mut policy = Policy::new(alerts, identity.router_id);
        policy.removed = removed;
        Alerter {
            policy,
            sender,
            mail,
        }
    });
    *lock() = started;
}

/// A VRRP instance or sync group entered a state: its alert is queued
/// (see `Policy::vrrp`).
pub fn vrrp(n: &Notify) {
    if let Some(a) = lock().as_mut() {
        if let Some(alert) = a.policy.vrrp(n) {
            a.sender.send(alert);
        }
    }
}

/// An instance a reload removed, which was in state `was`: its alert is
/// queued, as keepalived 2.2.7's reload sends it ("Deleted" with
/// `notify_deleted`, else "Entering FAULT state" unless it was in FAULT).
pub fn vrrp_removed(n: &Notify, was: State, notify_deleted: bool) {
    if let Some(a) = lock().as_mut() {
        if let Some(alert) = a.policy.removed(n, was, notify_deleted) {
            a.sender.send(alert);
        }
    }
}

/// The checker started: the lines of [`Bridge::start`] give the
/// quorum mails keepalived sends at start ("Starting with quorum up").
pub fn started(bridge: &Bridge, lines: &[String]) {
    if let Some(a) = lock().as_mut() {
        for alert in a.policy.quorum(bridge, lines, true) {
            a.sender.send(alert);
        }
    }
}

/// A monitor event and the lines the bridge logged for it: the alerts
/// are queued (see `Policy::checker`).
pub fn checker(bridge: &Bridge, event: &Event, lines: &[String]) {
    if let Some(a) = lock().as_mut() {
        for alert in a.policy.checker(bridge, event, lines) {
            a.sender.send(alert);
        }
    }
}

impl Policy {
    fn new(alerts: Alerts, router_id: String) -> Self {
        Policy {
            alerts,
            router_id,
            last: HashMap::new(),
            removed: BTreeSet::new(),
            checkers: HashMap::new(),
            slots: HashMap::new(),
        }
    }

    /// vrrp_notify.c `vrrp_smtp_notifier`, `vrrp_sync_smtp_notifier`:
    /// one mail per new state, none for FAULT under `no_email_faults`.
    fn vrrp(&mut self, n: &Notify) -> Option<Alert> {
        let group = n.kind == NotifyKind::Group;
        let on = if group {
            self.alerts.group(&n.name)
        } else {
            self.alerts.instance(&n.name) || self.removed.contains(&*n.name)
        };
        if !on || (self.alerts.no_email_faults && n.state == State::Fault) {
            return None;
        }
        let key = (group, n.name.to_string());
        // keepalived starts each object at INIT, never mailed about.
        let last = self.last.get(&key).copied().unwrap_or(State::Initialize);
        if last == n.state {
            return None;
        }
        self.last.insert(key, n.state);
        Some(compose::vrrp(&self.router_id, n.kind, &n.name, n.state))
    }

    /// keepalived 2.2.7's reload (vrrp.c `clear_diff_vrrp`, vrrp_notify.c
    /// `send_instance_notifies`): a removed instance with `notify_deleted`
    /// mails "Deleted" whatever it mailed last; without, it is reported as
    /// entering FAULT, unless it was in FAULT already (no notification at
    /// all then). Its last state mailed is forgotten with it.
    fn removed(&mut self, n: &Notify, was: State, notify_deleted: bool) -> Option<Alert> {
        let alert = if notify_deleted {
            let on = self.alerts.mail.is_some() && self.removed.contains(&*n.name);
            on.then(|| compose::vrrp_deleted(&self.router_id, &n.name))
        } else if was == State::Fault {
            None
        } else {
            let fault = Notify {
                state: State::Fault,
                ..n.clone()
            };
            self.vrrp(&fault)
        };
        self.last.remove(&(false, n.name.to_string()));
        self.removed.remove(&*n.name);
        alert
    }

    /// A checker's result (check_*.c: a mail when the checker changes,
    /// and with `no_checker_emails` only when its real server's health
    /// changes too; the subject tells the real server's health), then the quorum changes in `lines` (ipwrapper.c
    /// `do_vs_notifies`).
    fn checker(&mut self, bridge: &Bridge, event: &Event, lines: &[String]) -> Vec<Alert> {
        let mut out: Vec<Alert> = self.result(bridge, event).into_iter().collect();
        out.extend(self.quorum(bridge, lines, false));
        out
    }

    fn result(&mut self, bridge: &Bridge, event: &Event) -> Option<Alert> {
        let (target, down) = match event {
            Event::TargetUp { target } => (*target, None),
            Event::TargetDown { target, reason } => (*target, Some(reason)),
            _ => return None,
        };
        let (s, r) = bridge.slot_of(target)?;
        let svc = bridge.plan().services.get(s)?;
        let rs = svc.real_servers.get(r)?;
        // keepalived-lite runs one target per checker; its kind is the
        // real server's first checker's (they differ only in mixed lists).
        let check = rs.checks.first()?;
        let up = down.is_none();
        let siblings = self.slots.entry((s, r)).or_default();
        if !siblings.contains(&target) {
            siblings.push(target);
        }
        let was_alive = self.alive((s, r));
        let was_up = self
            .checkers
            .insert(target, up)
            .unwrap_or(!check.target.alpha);
        let alive = self.alive((s, r));
        let on = (self.alerts.real_servers.get(s)).and_then(|v| v.get(r).copied());
        if was_up == up || on != Some(true) {
            return None;
        }
        if was_alive == alive && self.alerts.no_checker_emails {
            return None;
        }
        // keepalived's FILE_CHECK (check_file.c) sends no mail.
        if matches!(check.probe, Probe::File { .. }) {
            return None;
        }
        let names = (rs.name.as_str(), svc.name.as_str());
        Some(compose::checker(
            &self.router_id,
            names,
            alive,
            &check.probe,
            down,
        ))
    }

    /// A real server is alive while all its checkers are up (those not
    /// heard from yet count as up, as keepalived starts them).
    fn alive(&self, slot: Slot) -> bool {
        let targets = self.slots.get(&slot).map_or(&[][..], Vec::as_slice);
        targets
            .iter()
            .all(|t| self.checkers.get(t).copied().unwrap_or(true))
    }

    /// Quorum changes in the bridge's lines, for the virtual servers that
    /// alert; `init` at start, where quorum is "Starting with quorum up".
    fn quorum(&self, bridge: &Bridge, lines: &[String], init: bool) -> Vec<Alert> {
        let services = &bridge.plan().services;
        let mut out = Vec::new();
        for (what, numbers, vs) in lines.iter().filter_map(|l| quorum_line(l)) {
            let Some(s) = services.iter().position(|svc| svc.name == vs) else {
                continue;
            };
            let Some(svc) = services.get(s) else {
                continue;
            };
            if self.alerts.virtual_servers.get(s) == Some(&true) {
                let what = match what {
                    "Gained quorum" if init => "Starting with quorum up",
                    what => what,
                };
                let q = (svc.quorum, svc.hysteresis, numbers.0);
                out.push(compose::quorum(&self.router_id, vs, what, q, numbers.1));
            }
        }
        out
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
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use std::time::Instant;

    use healthcheck::runtime::Driver;
    use healthcheck::{CheckOutcome, DownReason};

    use super::*;
    use crate::lvs_mode::{daemon, plan};

    const MAIL: &str = "global_defs {\n  notification_email {\n    a@x.org\n  }\n  \
                        smtp_server 127.0.0.1\n  router_id lb\n";

    fn policy(text: &str) -> Policy {
        let p = vrrp_conf::parse_str("t.conf", text, &Default::default());
        Policy::new(Alerts::of(&p.config), "lb".into())
    }

    fn notify(kind: NotifyKind, name: &str, state: State) -> Notify {
        Notify {
            kind,
            name: name.into(),
            state,
            priority: 100,
        }
    }

    #[test]
    fn vrrp_mails_once_per_new_state_and_skips_faults_when_asked() {
        let text = format!(
            "{MAIL}  no_email_faults\n}}\nvrrp_instance VI_1 {{\n  interface eth0\n  \
             virtual_router_id 1\n  smtp_alert\n}}\nvrrp_instance VI_2 {{\n  interface eth0\n  \
             virtual_router_id 2\n}}\n"
        );
        let mut p = policy(&text);
        let subject = |a: Option<Alert>| a.map(|a| a.subject);
        let init = notify(NotifyKind::Instance, "VI_1", State::Initialize);
        assert_eq!(p.vrrp(&init), None, "INIT at start");
        let master = notify(NotifyKind::Instance, "VI_1", State::Master);
        assert_eq!(
            subject(p.vrrp(&master)).as_deref(),
            Some("[lb] VRRP Instance VI_1 - Entering MASTER state")
        );
        assert_eq!(p.vrrp(&master), None, "the same state again");
        let fault = notify(NotifyKind::Instance, "VI_1", State::Fault);
        assert_eq!(p.vrrp(&fault), None, "no_email_faults");
        assert!(p.vrrp(&master).is_none(), "still the last state mailed");
        let other = notify(NotifyKind::Instance, "VI_2", State::Master);
        assert_eq!(p.vrrp(&other), None, "VI_2 has no smtp_alert");
    }

    #[test]
    fn removal_by_reload_mails_fault_or_deleted() {
        // The configuration after the reload: VI_2 and VI_3 are gone.
        let mut p = policy(&format!("{MAIL}}}\n"));
        p.removed = ["VI_2", "VI_3", "VI_4"].map(String::from).into();
        let stop = |name: &str| notify(NotifyKind::Instance, name, State::Initialize);
        let master = notify(NotifyKind::Instance, "VI_2", State::Master);
        p.last.insert((false, "VI_2".into()), State::Master);
        let texts = |a: Option<Alert>| a.map(|a| (a.subject, a.body));
        assert_eq!(
            texts(p.removed(&stop("VI_2"), State::Master, false)),
            Some((
                "[lb] VRRP Instance VI_2 - Entering FAULT state".into(),
                "=> VRRP Instance is no longer owning VRRP VIPs <=".into()
            ))
        );
        assert_eq!(p.vrrp(&master), None, "VI_2 is forgotten");
        assert_eq!(
            texts(p.removed(&stop("VI_3"), State::Fault, true)),
            Some((
                "[lb] VRRP Instance VI_3 - Deleted".into(),
                "=> VRRP Deleted at reload <=".into()
            ))
        );
        assert_eq!(p.removed(&stop("VI_4"), State::Fault, false), None);
        // One that did not alert before the reload.
        assert_eq!(p.removed(&stop("VI_5"), State::Master, true), None);
        assert_eq!(p.removed(&stop("VI_5"), State::Master, false), None);
    }

    const VS: &str = "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  delay_loop 1\n  \
                      quorum 2\n  smtp_alert\n  real_server 10.1.0.1 80 {\n    TCP_CHECK {\n      retry 0\n    }\n  }\n  \
                      real_server 10.1.0.2 80 {\n    smtp_alert no\n    TCP_CHECK {\n      retry 0\n    }\n  }\n}\n";

    /// The driver and bridge of `text`, started, with the start lines.
    fn started(text: &str) -> (Driver, Bridge, Vec<String>) {
        let parsed = vrrp_conf::parse_str("t.conf", text, &Default::default());
        let (mut driver, mut bridge) = daemon::build(plan::build(&parsed.config).unwrap()).unwrap();
        let lines = bridge.start(driver.monitor_mut(), Instant::now());
        (driver, bridge, lines)
    }

    /// Runs due checks until real server `r` has been checked once with
    /// `outcome`, the other one up; the alerts of its events.
    fn check(
        d: &mut Driver,
        b: &mut Bridge,
        p: &mut Policy,
        r: usize,
        o: CheckOutcome,
    ) -> Vec<Alert> {
        let m = d.monitor_mut();
        loop {
            let at = m.poll_timeout().unwrap();
            let due = m.poll_check(at).unwrap();
            let mine = b.slot_of(due.target) == Some((0, r));
            let outcome = if mine { o.clone() } else { CheckOutcome::Up };
            m.handle_outcome(at, due.target, outcome).unwrap();
            let mut alerts = Vec::new();
            while let Some(e) = m.poll_event() {
                let lines = b.handle(&e);
                alerts.extend(p.checker(b, &e, &lines));
            }
            if mine {
                return alerts;
            }
        }
    }

    #[test]
    fn checker_and_quorum_mails_follow_keepalived() {
        let (mut d, mut b, lines) = started(&format!("{MAIL}}}\n{VS}"));
        let mut p = policy(&format!("{MAIL}}}\n{VS}"));
        let start = p.quorum(&b, &lines, true);
        assert_eq!(
            start.iter().map(|a| a.body.as_str()).collect::<Vec<_>>(),
            ["=> Starting with quorum up 2+0=2 <= 2 <="]
        );
        let down = CheckOutcome::Down(DownReason::Refused);
        let texts = |a: Vec<Alert>| -> Vec<(String, String)> {
            a.into_iter().map(|a| (a.subject, a.body)).collect()
        };
        // The first success of a checker that starts up says nothing.
        assert_eq!(
            texts(check(&mut d, &mut b, &mut p, 0, CheckOutcome::Up)),
            []
        );
        let rs = "[10.1.0.1]:tcp:80";
        let vs = "[10.0.0.1]:tcp:80";
        assert_eq!(
            texts(check(&mut d, &mut b, &mut p, 0, down.clone())),
            [
                (
                    format!("[lb] Realserver {rs} of virtual server {vs} - DOWN"),
                    "=> TCP CHECK failed on service <=".to_owned()
                ),
                (
                    format!("[lb] Virtualserver {vs} - DOWN"),
                    "=> Lost quorum 2+0=2 <= 1 <=".to_owned()
                ),
            ]
        );
        assert_eq!(
            texts(check(&mut d, &mut b, &mut p, 0, down)),
            [],
            "still down"
        );
        let up = texts(check(&mut d, &mut b, &mut p, 0, CheckOutcome::Up));
        assert_eq!(
            up.first().map(|t| t.0.as_str()),
            Some(format!("[lb] Realserver {rs} of virtual server {vs} - UP").as_str())
        );
        // The second real server says smtp_alert no.
        let down = CheckOutcome::Down(DownReason::Refused);
        let alerts = texts(check(&mut d, &mut b, &mut p, 1, down));
        assert!(
            alerts.iter().all(|(s, _)| !s.contains("10.1.0.2")),
            "{alerts:?}"
        );
    }

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
}
