//! Reload by diff: the plan as a [`healthcheck::Desired`], which
//! [`Monitor::reconcile`] lays onto the monitor in place of the running
//! one. A real server's targets are keyed by its service, address and
//! each check's identity (what keepalived's checker `compare` looks at), a
//! service's pool by its service key, so that what is unchanged keeps its
//! health and only what differs is emitted.

use std::collections::HashMap;

use healthcheck::{Desired, DesiredMember, DesiredPool, DesiredTarget, Monitor, PoolId, TargetId};

use crate::lvs_mode::plan::{CheckPlan, Plan, Probe, RealPlan, ServicePlan};
use crate::lvs_mode::table::Slot;

/// Where a plan's services and real servers are in the monitor.
#[derive(Debug, Clone, Default)]
pub struct Placed {
    /// Each service's pool, by service index.
    pub pools: Vec<PoolId>,
    /// The real server each target stands for (every checker's target;
    /// the first one names the pool member).
    pub slots: HashMap<TargetId, Slot>,
    /// The index of each checked target's check in its real server.
    pub checks: HashMap<TargetId, usize>,
}

/// The monitor keys of a real server's targets: its service, its
/// destination and each check's identity (or one static target without a
/// check). As keepalived 2.2.7's reload (check/ipwrapper.c
/// `migrate_checkers`), a check of the same kind whose identity is
/// unchanged keeps its state and takes on its other settings; one whose
/// identity changed is a new target, checked afresh. Identical checks of
/// one real server are told apart by their rank.
pub fn target_keys(svc: &ServicePlan, rs: &RealPlan) -> Vec<String> {
    let at = format!("{:?} {}", svc.service.key, rs.dest.addr);
    if rs.checks.is_empty() {
        return vec![format!("{at} static")];
    }
    let ids: Vec<String> = rs.checks.iter().map(identity).collect();
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            let rank = ids.iter().take(i).filter(|&o| o == id).count();
            format!("{at} {id} #{rank}")
        })
        .collect()
}

/// What keepalived's checker `compare` looks at: the kind, the
/// connection options (check_api.c `compare_conn_opts`: address, bind
/// address and interface, connect_timeout, fwmark) and the checker's own
/// fields. delay_loop, retry, delay_before_retry, alpha and the rest are
/// settings a kept checker takes on.
fn identity(c: &CheckPlan) -> String {
    let kind = c.probe.keyword();
    let x = &c.context;
    let conn = format!(
        "{} {:?} {:?} {:?} {:?}",
        x.target, x.bind, x.bind_if, x.timeout, x.mark
    );
    let own = match &c.probe {
        Probe::Tcp | Probe::Udp { .. } | Probe::Ping => String::new(),
        Probe::Http {
            urls, virtualhost, ..
        } => format!("{urls:?} {virtualhost:?}"),
        Probe::Smtp { helo_name } => format!("{helo_name:?}"),
        Probe::Dns { name, qtype } => format!("{qtype:?} {name:?}"),
        // No connection options: the script and its user (check_misc.c).
        Probe::Misc {
            path,
            dynamic,
            user,
        } => return format!("{kind} {path:?} {dynamic} {user:?}"),
        // No compare in keepalived: always reloaded afresh.
        Probe::File { .. } => return format!("{kind} {c:?}"),
    };
    format!("{kind} {conn} {own}")
}

/// Lays `plan` onto `monitor` in place of the plan it runs now (if any).
/// Not committed: the caller commits.
pub fn place(monitor: &mut Monitor, plan: &Plan) -> Placed {
    let reconciled = monitor.reconcile(&desired(plan));
    let mut placed = Placed::default();
    // The reconciled pools and members are in the plan's order.
    for (s, (svc, pool)) in plan.services.iter().zip(&reconciled.pools).enumerate() {
        placed.pools.push(pool.id);
        for (r, (rs, parts)) in svc.real_servers.iter().zip(&pool.members).enumerate() {
            for (i, &t) in parts.iter().enumerate() {
                placed.slots.insert(t, (s, r));
                if !rs.checks.is_empty() {
                    placed.checks.insert(t, i);
                }
            }
        }
    }
    placed
}

/// The plan as the monitor's desired pools: one per service, one member
/// per real server with a target per check (or one static target).
fn desired(plan: &Plan) -> Desired {
    let pools = plan.services.iter().map(|svc| DesiredPool {
        key: format!("{:?}", svc.service.key),
        config: svc.pool_config(),
        members: svc.real_servers.iter().map(|rs| member(svc, rs)).collect(),
    });
    Desired {
        pools: pools.collect(),
    }
}

fn member(svc: &ServicePlan, rs: &RealPlan) -> DesiredMember {
    let keys = target_keys(svc, rs);
    let targets = if rs.checks.is_empty() {
        keys.into_iter()
            .map(|key| DesiredTarget { key, check: None })
            .collect()
    } else {
        keys.into_iter()
            .zip(&rs.checks)
            .map(|(key, c)| DesiredTarget {
                key,
                check: Some(c.target.clone()),
            })
            .collect()
    };
    // keepalived's rs_iseq: a real server is its address and port.
    DesiredMember {
        key: rs.dest.addr.to_string(),
        targets,
        config: rs.member_config(),
    }
}

#[cfg(test)]
mod tests {
    //! A reload through the bridge: exact IPVS operations and lines, and
    //! health kept across it.
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use std::time::Instant;

    use healthcheck::{CheckOutcome, DownReason};
    use ipvs::{Destination, Forward, Op, ServiceKey};

    use super::*;
    use crate::lvs_mode::table::Bridge;

    fn plan_of(conf: &str) -> Plan {
        let parsed = vrrp_conf::parse_str("t.conf", conf, &vrrp_conf::Options::default());
        crate::lvs_mode::plan::build(&parsed.config).unwrap()
    }

    fn vs(ip: &str, body: &str) -> String {
        format!("virtual_server {ip} 80 {{\n protocol TCP\n delay_loop 1\n{body}}}\n")
    }

    fn rs(ip: &str, extra: &str) -> String {
        format!(" real_server {ip} 80 {{\n{extra} TCP_CHECK {{\n retry 0\n }}\n }}\n")
    }

    fn key(ip: &str) -> ServiceKey {
        ServiceKey::tcp(format!("{ip}:80").parse().unwrap())
    }

    fn dest(ip: &str, weight: u32) -> Destination {
        let mut d = Destination::new(format!("{ip}:80").parse().unwrap(), Forward::Masq);
        d.weight = weight;
        d
    }

    /// Fails the check of `ip` (the others pass) until it is down.
    fn fail(m: &mut Monitor, b: &mut Bridge, ip: &str) {
        let want = format!("{ip}:80").parse().unwrap();
        loop {
            let at = m.poll_timeout().unwrap();
            let due = m.poll_check(at).unwrap();
            let (s, r) = b.slot_of(due.target).unwrap();
            let mine = b.plan().services[s].real_servers[r].dest.addr == want;
            let o = if mine {
                CheckOutcome::Down(DownReason::Refused)
            } else {
                CheckOutcome::Up
            };
            m.handle_outcome(at, due.target, o).unwrap();
            while let Some(e) = m.poll_event() {
                b.handle(&e);
            }
            if mine {
                return;
            }
        }
    }

    #[test]
    fn reload_sends_only_the_diff_and_keeps_health() {
        let old = vs("10.0.0.1", &(rs("10.1.0.1", "") + &rs("10.1.0.2", "")))
            + &vs("10.0.0.2", &rs("10.1.0.1", ""));
        let mut m = Monitor::new(healthcheck::MonitorConfig::default());
        let mut b = Bridge::place(&mut m, plan_of(&old));
        let now = Instant::now();
        b.start(&mut m, now);
        fail(&mut m, &mut b, "10.1.0.2");
        let before = b.desired();
        assert_eq!(before[0].dests, [dest("10.1.0.1", 1)]);
        let targets = m.target_count();

        // 10.1.0.1 reweighted, 10.1.0.2 unchanged (and down), 10.1.0.3
        // new; 10.0.0.2 gone.
        let new = vs(
            "10.0.0.1",
            &(rs("10.1.0.1", " weight 4\n") + &rs("10.1.0.2", "") + &rs("10.1.0.3", "")),
        );
        m.requeue_in_flight(now);
        let lines = b.reload(&mut m, plan_of(&new), now);
        // keepalived 2.2.7's reload lines (measured in the VM): the
        // dropped service, the new weight; new real servers go in silently.
        assert_eq!(
            lines,
            [
                "Removing Virtual Server [10.0.0.2]:tcp:80",
                "Removing service [10.1.0.1]:tcp:80 from VS [10.0.0.2]:tcp:80",
                "Changing weight from 1 to 4 for active service [10.1.0.1]:tcp:80 of VS [10.0.0.1]:tcp:80",
            ]
        );
        assert_eq!(
            ipvs::diff(&b.desired(), &before),
            [
                Op::DelService(key("10.0.0.2")),
                Op::EditDest(key("10.0.0.1"), dest("10.1.0.1", 4)),
                Op::AddDest(key("10.0.0.1"), dest("10.1.0.3", 1)),
            ]
        );
        // The down real server stayed down, and the dropped service's
        // target is gone: 3 targets, as many as before.
        let svc = &b.plan().services[0];
        let down = m.target_by_key(&target_keys(svc, &svc.real_servers[1])[0]);
        assert_eq!(m.is_up(down.unwrap()), Some(false));
        assert_eq!(m.target_count(), targets);

        // The same file again changes nothing.
        let again = b.desired();
        assert_eq!(b.reload(&mut m, plan_of(&new), now), Vec::<String>::new());
        assert_eq!(ipvs::diff(&b.desired(), &again), []);
        assert_eq!(m.target_count(), targets);
    }

    #[test]
    fn a_changed_check_or_quorum_starts_afresh() {
        let old = vs("10.0.0.1", &rs("10.1.0.1", ""));
        let mut m = Monitor::new(healthcheck::MonitorConfig::default());
        let mut b = Bridge::place(&mut m, plan_of(&old));
        let now = Instant::now();
        b.start(&mut m, now);
        fail(&mut m, &mut b, "10.1.0.1");
        assert_eq!(b.desired()[0].dests, []);
        // A new connect_timeout (a connection option, which keepalived's
        // compare looks at) is a new check: up until it says otherwise.
        let new = vs(
            "10.0.0.1",
            " real_server 10.1.0.1 80 {\n TCP_CHECK {\n connect_timeout 2\n }\n }\n",
        );
        m.requeue_in_flight(now);
        b.reload(&mut m, plan_of(&new), now);
        assert_eq!(b.desired()[0].dests, [dest("10.1.0.1", 1)]);
        assert_eq!(m.target_count(), 1);
        // A new quorum is a new pool; the member keeps its health.
        let quorum = vs(
            "10.0.0.1",
            " quorum 2\n real_server 10.1.0.1 80 {\n TCP_CHECK {\n connect_timeout 2\n }\n }\n",
        );
        let lines = b.reload(&mut m, plan_of(&quorum), now);
        assert_eq!(b.desired()[0].dests, [dest("10.1.0.1", 1)]);
        // In silently, and below its new quorum without a sorry server.
        assert_eq!(lines, Vec::<String>::new());
        assert_eq!(m.target_count(), 1);
    }

    #[test]
    fn a_changed_second_checker_replaces_only_its_target() {
        let two = |timeout: u32| {
            vs(
                "10.0.0.1",
                &format!(" real_server 10.1.0.1 80 {{\n TCP_CHECK {{\n }}\n PING_CHECK {{\n connect_timeout {timeout}\n }}\n }}\n"),
            )
        };
        let mut m = Monitor::new(healthcheck::MonitorConfig::default());
        let mut b = Bridge::place(&mut m, plan_of(&two(1)));
        let now = Instant::now();
        b.start(&mut m, now);
        let svc = &b.plan().services[0];
        let tcp = m
            .target_by_key(&target_keys(svc, &svc.real_servers[0])[0])
            .unwrap();
        b.reload(&mut m, plan_of(&two(2)), now);
        let svc = &b.plan().services[0];
        let keys = target_keys(svc, &svc.real_servers[0]);
        // The TCP check is the same target; the ping is new; nothing else.
        assert_eq!(m.target_by_key(&keys[0]), Some(tcp));
        assert!(m.target_by_key(&keys[1]).is_some());
        assert_eq!(m.target_count(), 2);
        assert_eq!(b.desired()[0].dests, [dest("10.1.0.1", 1)]);
        assert_eq!(b.checks().count(), 2);
    }

    /// Runs the next check with `o`, fed to the bridge; when it was due.
    fn check(m: &mut Monitor, b: &mut Bridge, o: CheckOutcome) -> Instant {
        let at = m.poll_timeout().unwrap();
        let due = m.poll_check(at).unwrap();
        m.handle_outcome(at, due.target, o).unwrap();
        while let Some(e) = m.poll_event() {
            b.handle(&e);
        }
        at
    }

    fn tcp(ip: &str, delay_loop: u32, check: &str) -> String {
        format!(
            "virtual_server {ip} 80 {{\n protocol TCP\n delay_loop {delay_loop}\n real_server 10.1.0.1 80 {{\n TCP_CHECK {{\n{check} }}\n }}\n}}\n"
        )
    }

    /// keepalived's migrate_checkers: a TCP_CHECK whose connection
    /// options are the same is the same checker, so a down server stays
    /// down (out of IPVS) across a reload that changes only delay_loop,
    /// retry and delay_before_retry, which it takes on.
    #[test]
    fn a_down_server_stays_down_when_only_its_timers_change() {
        let mut m = Monitor::new(healthcheck::MonitorConfig::default());
        let mut b = Bridge::place(&mut m, plan_of(&tcp("10.0.0.1", 1, " retry 0\n")));
        let now = Instant::now();
        b.start(&mut m, now);
        let t = b.checks().next().unwrap().0;
        let refused = || CheckOutcome::Down(DownReason::Refused);
        let first = check(&mut m, &mut b, refused());
        assert_eq!(b.desired()[0].dests, []);
        let new = tcp("10.0.0.1", 5, " retry 2\n delay_before_retry 3\n");
        m.requeue_in_flight(now);
        assert_eq!(b.reload(&mut m, plan_of(&new), now), Vec::<String>::new());
        assert_eq!(b.desired()[0].dests, []);
        assert_eq!(m.is_up(t), Some(false));
        assert_eq!(m.target_count(), 1);
        let cfg = m.target_config(t).unwrap();
        let secs = std::time::Duration::from_secs;
        assert_eq!((cfg.interval, cfg.retry), (secs(5), 2));
        assert_eq!(cfg.delay_before_retry, secs(3));
        // The check already due stays (delay_loop 1 after the first);
        // the next one comes 5 s later, a retry 3 s after a failure.
        assert_eq!(check(&mut m, &mut b, CheckOutcome::Up), first + secs(1));
        assert_eq!(b.desired()[0].dests, [dest("10.1.0.1", 1)]);
        assert_eq!(check(&mut m, &mut b, refused()), first + secs(6));
        assert_eq!(check(&mut m, &mut b, refused()), first + secs(9));
        assert_eq!(b.desired()[0].dests, [dest("10.1.0.1", 1)]);
    }

    /// The retries a server has made carry over a reload, clamped to
    /// the new `retry - 1`: two made of 3, then `retry 2` allows one
    /// more before the server goes down.
    #[test]
    fn the_retries_made_carry_over_clamped() {
        let mut m = Monitor::new(healthcheck::MonitorConfig::default());
        let mut b = Bridge::place(&mut m, plan_of(&tcp("10.0.0.1", 1, " retry 3\n")));
        let now = Instant::now();
        b.start(&mut m, now);
        let t = b.checks().next().unwrap().0;
        let refused = || CheckOutcome::Down(DownReason::Refused);
        check(&mut m, &mut b, CheckOutcome::Up);
        check(&mut m, &mut b, refused());
        check(&mut m, &mut b, refused());
        assert_eq!(m.is_up(t), Some(true));
        m.requeue_in_flight(now);
        b.reload(&mut m, plan_of(&tcp("10.0.0.1", 1, " retry 2\n")), now);
        check(&mut m, &mut b, refused());
        assert_eq!(m.is_up(t), Some(true));
        assert_eq!(b.desired()[0].dests, [dest("10.1.0.1", 1)]);
        check(&mut m, &mut b, refused());
        assert_eq!(m.is_up(t), Some(false));
        assert_eq!(b.desired()[0].dests, []);
    }

    /// Runs the next check of `t` with `o` (the others due first pass),
    /// fed to the bridge.
    fn check_of(m: &mut Monitor, b: &mut Bridge, t: TargetId, o: CheckOutcome) {
        loop {
            let at = m.poll_timeout().unwrap();
            let due = m.poll_check(at).unwrap();
            let mine = due.target == t;
            let got = if mine { o.clone() } else { CheckOutcome::Up };
            m.handle_outcome(at, due.target, got).unwrap();
            while let Some(e) = m.poll_event() {
                b.handle(&e);
            }
            if mine {
                return;
            }
        }
    }

    /// One real server 10.1.0.1 of a 1 s delay_loop checked by `checks`.
    fn checked_by(checks: &str) -> String {
        vs(
            "10.0.0.1",
            &format!(" real_server 10.1.0.1 80 {{\n{checks} }}\n"),
        )
    }

    /// The target of the real server's check of rank `i`.
    fn nth(m: &Monitor, b: &Bridge, i: usize) -> TargetId {
        let svc = &b.plan().services[0];
        m.target_by_key(&target_keys(svc, &svc.real_servers[0])[i])
            .unwrap()
    }

    /// keepalived 2.2.7's migrate_checkers: no checker of a kept real
    /// server has failed, so a checker the reload adds to it starts up,
    /// its `alpha` ignored, with all its retries: the server stays in
    /// IPVS until the new checker has failed `retry + 1` times.
    #[test]
    fn a_new_alpha_checker_of_a_healthy_server_starts_up() {
        let tcp = " TCP_CHECK {\n retry 0\n }\n";
        let mut m = Monitor::new(healthcheck::MonitorConfig::default());
        let mut b = Bridge::place(&mut m, plan_of(&checked_by(tcp)));
        let now = Instant::now();
        b.start(&mut m, now);
        check(&mut m, &mut b, CheckOutcome::Up);
        let before = b.desired();
        assert_eq!(before[0].dests, [dest("10.1.0.1", 1)]);
        let added = format!("{tcp} TCP_CHECK {{\n connect_port 81\n alpha\n retry 1\n }}\n");
        m.requeue_in_flight(now);
        let lines = b.reload(&mut m, plan_of(&checked_by(&added)), now);
        assert_eq!(lines, Vec::<String>::new());
        assert_eq!(ipvs::diff(&b.desired(), &before), []);
        let new = nth(&m, &b, 1);
        assert_eq!(m.is_up(new), Some(true));
        let refused = || CheckOutcome::Down(DownReason::Refused);
        check_of(&mut m, &mut b, new, refused());
        assert_eq!(m.is_up(new), Some(true));
        assert_eq!(b.desired()[0].dests, [dest("10.1.0.1", 1)]);
        check_of(&mut m, &mut b, new, refused());
        assert_eq!(m.is_up(new), Some(false));
        assert_eq!(b.desired()[0].dests, []);
    }

    /// A kept real server one of whose checkers failed: a new alpha
    /// checker starts down, a new plain one up, and each checker that
    /// has not run (kept or new) needs one failure only, whatever its
    /// retry.
    #[test]
    fn the_unrun_checkers_of_a_failed_server_need_one_failure() {
        let two = " TCP_CHECK {\n retry 0\n }\n TCP_CHECK {\n connect_port 81\n retry 2\n }\n";
        let mut m = Monitor::new(healthcheck::MonitorConfig::default());
        let mut b = Bridge::place(&mut m, plan_of(&checked_by(two)));
        let now = Instant::now();
        b.start(&mut m, now);
        let refused = || CheckOutcome::Down(DownReason::Refused);
        let first = nth(&m, &b, 0);
        check_of(&mut m, &mut b, first, refused());
        assert_eq!(b.desired()[0].dests, []);
        let more = format!(
            "{two} TCP_CHECK {{\n connect_port 82\n alpha\n }}\n TCP_CHECK {{\n connect_port 83\n retry 2\n }}\n"
        );
        m.requeue_in_flight(now);
        assert_eq!(
            b.reload(&mut m, plan_of(&checked_by(&more)), now),
            Vec::<String>::new()
        );
        let up: Vec<_> = (0..4).map(|i| m.is_up(nth(&m, &b, i)).unwrap()).collect();
        assert_eq!(up, [false, true, false, true]);
        for i in [1, 3] {
            let t = nth(&m, &b, i);
            check_of(&mut m, &mut b, t, refused());
            assert_eq!(m.is_up(t), Some(false), "check {i}");
        }
        assert_eq!(b.desired()[0].dests, []);
    }

    /// Runs the next check with `o`, fed to the bridge; the urls it
    /// covered.
    fn step(m: &mut Monitor, b: &mut Bridge, o: CheckOutcome) -> healthcheck::UrlSpan {
        let at = m.poll_timeout().unwrap();
        let due = m.poll_check(at).unwrap();
        m.handle_outcome(at, due.target, o).unwrap();
        while let Some(e) = m.poll_event() {
            b.handle(&e);
        }
        due.urls
    }

    /// keepalived 2.2.7 makes every checker anew on a reload and
    /// migrate_checkers hands over no url (HTTP_GET has no `migrate`): a
    /// reload that changes nothing restarts an HTTP_GET's url cursor at
    /// its first url, when its next url was due, and forgets a down
    /// server's failed url: every url must pass again to add it back.
    #[test]
    fn an_unchanged_reload_restarts_the_http_url_cursor() {
        use healthcheck::UrlSpan::Only;
        let conf = vs(
            "10.0.0.1",
            " real_server 10.1.0.1 80 {\n HTTP_GET {\n url {\n path /a\n }\n url {\n path /b\n }\n retry 0\n }\n }\n",
        );
        let mut m = Monitor::new(healthcheck::MonitorConfig::default());
        let mut b = Bridge::place(&mut m, plan_of(&conf));
        let now = Instant::now();
        b.start(&mut m, now);
        let up = || CheckOutcome::Up;
        let spans: Vec<_> = (0..3).map(|_| step(&mut m, &mut b, up())).collect();
        assert_eq!(spans, [Only(0), Only(1), Only(0)]);
        let due = m.poll_timeout();
        m.requeue_in_flight(now);
        assert_eq!(b.reload(&mut m, plan_of(&conf), now), Vec::<String>::new());
        assert_eq!(m.poll_timeout(), due);
        assert_eq!(step(&mut m, &mut b, up()), Only(0));
        let fails = CheckOutcome::UrlDown {
            url: 1,
            reason: DownReason::HttpStatus(500),
        };
        assert_eq!(step(&mut m, &mut b, fails), Only(1));
        assert_eq!(b.desired()[0].dests, []);
        m.requeue_in_flight(now);
        assert_eq!(b.reload(&mut m, plan_of(&conf), now), Vec::<String>::new());
        assert_eq!(step(&mut m, &mut b, up()), Only(0));
        assert_eq!(b.desired()[0].dests, []);
        assert_eq!(step(&mut m, &mut b, up()), Only(1));
        assert_eq!(b.desired()[0].dests, [dest("10.1.0.1", 1)]);
    }
}
