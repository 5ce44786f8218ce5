//! The checker process's DATA dump, as keepalived 2.2.7 writes it on
//! SIGUSR1 into `keepalived_check.data` (and, with `config_save_dir`,
//! around each reload): [`data`] of a [`Plan`] in the state a [`Live`]
//! gives.
//!
//! The text follows keepalived's layout: the LVS topology (each virtual
//! server, then its real servers), then one entry per health checker.
//! keepalived's file starts with the global part: that is
//! [`super::global`] with [`Half::Checker`](super::global::Half), for the
//! embedder to put first. What the plan does not hold is written as
//! keepalived writes its default: a virtual or real server's
//! `delay_loop` is its first checker's (60 seconds without one),
//! `Retry count`, `Retry delay` and `Warmup` of a server are left out (keepalived leaves them out unless
//! they are set), a checker's `Up` is its real server's, `Current weight`
//! is 0, `reloaded` and `previous effective_weight` 0, and the LVS
//! version 1.2.1.
//!
//! ```
//! use vrrp_conf::convert::lvs::build;
//! use vrrp_conf::dump::{check, FixedHost};
//! use vrrp_conf::{parse_str, Options};
//!
//! let conf = "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.1.0.1 80 {\n    TCP_CHECK {\n    }\n  }\n}\n";
//! let plan = build(&parse_str("k.conf", conf, &Options::default()).config).unwrap();
//! let mut live = check::Live::default();
//! let server = ("[10.0.0.1]:tcp:80".to_owned(), "[10.1.0.1]:tcp:80".to_owned());
//! live.down.insert(server, true);
//! let text = check::data(&plan, &live, &FixedHost::default());
//! assert!(text.starts_with("------< LVS Topology >------\n System is compiled with LVS v1.2.1\n"));
//! assert!(text.contains("   RIP = 10.1.0.1, RPORT = 80, WEIGHT = 1 EFF WEIGHT = 1\n"));
//! assert!(text.contains("   alive = 0\n   num failed checkers = 1\n"));
//! assert!(text.contains(" [10.0.0.1]:tcp:80 -> [10.1.0.1]:tcp:80\n   Enabled = yes\n   Up = no\n"));
//! assert!(text.ends_with("   Keepalive method = TCP_CHECK\n"));
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::Duration;

use healthcheck::checkers::StatusCodes;
use ipvs::{Destination, Forward, Protocol, ServiceFlags, ServiceKey, TunnelFlags, TunnelType};

use super::{ids_text, say, Host, ABLED, ON_OFF, YES_NO};
use crate::convert::lvs::{CheckPlan, Plan, Probe, RealPlan, ServicePlan};

/// What the running checker knows about its servers. A server missing
/// from a map is up, has not run, and has its quorum.
#[derive(Debug, Default, Clone)]
pub struct Live {
    /// Real servers that are down, by (virtual server, real server) name
    /// ([`ServicePlan::name`], [`RealPlan::name`]).
    pub down: HashMap<(String, String), bool>,
    /// Real servers whose checks have run at least once.
    pub has_run: HashMap<(String, String), bool>,
    /// Virtual servers whose quorum is lost, by name.
    pub quorum_down: HashMap<String, bool>,
}

impl Live {
    fn is_down(&self, vs: &ServicePlan, rs: &RealPlan) -> bool {
        let key = (vs.name.clone(), rs.name.clone());
        self.down.get(&key).copied().unwrap_or(false)
    }

    fn ran(&self, vs: &ServicePlan, rs: &RealPlan) -> bool {
        let key = (vs.name.clone(), rs.name.clone());
        self.has_run.get(&key).copied().unwrap_or(false)
    }
}

/// keepalived 2.2.7's checker DATA dump of `plan` in the state `live`,
/// with `host`'s facts.
pub fn data(plan: &Plan, live: &Live, host: &dyn Host) -> String {
    let mut out = String::new();
    if !plan.services.is_empty() {
        out.push_str("------< LVS Topology >------\n");
        out.push_str(" System is compiled with LVS v1.2.1\n");
        for vs in &plan.services {
            virtual_server(&mut out, vs, live, host);
        }
    }
    let any_check =
        (plan.services.iter()).any(|vs| vs.real_servers.iter().any(|rs| !rs.checks.is_empty()));
    if any_check {
        out.push_str("------< Health checkers >------\n");
        for vs in &plan.services {
            for rs in &vs.real_servers {
                for c in &rs.checks {
                    checker(&mut out, vs, rs, c, live, host);
                }
            }
        }
    }
    out
}

/// keepalived's `format_decimal` of a duration: seconds with six places.
fn secs(d: Duration) -> String {
    format!("{}.{:06}", d.as_secs(), d.subsec_micros())
}

/// The first checker of the service's first real server that has one:
/// where the plan keeps the timings keepalived shows on the servers.
fn first_check(vs: &ServicePlan) -> Option<&CheckPlan> {
    vs.real_servers.iter().find_map(|rs| rs.checks.first())
}

/// The delay loop of a server whose first checker is `c`: the
/// checker's (which inherits the server's), keepalived's default without
/// one.
fn delay_loop(c: Option<&CheckPlan>) -> Duration {
    c.map_or(Duration::from_secs(60), |c| c.target.interval)
}

/// `uid:gid` of a script's `user USER [GROUP]` (the daemon's if the
/// user is unknown).
fn user_ids(host: &dyn Host, user: &[String]) -> String {
    ids_text(host.user_ids(user).unwrap_or_else(|| host.ids()))
}

fn virtual_server(out: &mut String, vs: &ServicePlan, live: &Live, host: &dyn Host) {
    let (af, proto) = service_head(out, vs);
    let svc = &vs.service;
    let _ = writeln!(out, "   connection timeout = {}", secs(vs.connect_timeout));
    let delay = delay_loop(first_check(vs));
    let _ = writeln!(out, "   delay_loop = {}", secs(delay));
    let _ = writeln!(out, "   lvs_sched = {}", svc.scheduler);
    out.push_str("   Hashed = disabled\n");
    service_flags(out, svc, proto);
    persistence(out, svc, af);
    let _ = writeln!(out, "   protocol = {}", protocol_name(proto));
    let alpha = first_check(vs).is_some_and(|c| c.target.alpha);
    let _ = writeln!(out, "   alpha is {}", say(alpha, ON_OFF));
    let _ = writeln!(out, "   omega is {}", say(vs.omega, ON_OFF));
    out.push_str("   Inhibit on failure is OFF\n");
    quorum(out, vs, host);
    let smtp = say(vs.smtp_alert, YES_NO);
    let _ = writeln!(out, "   Using smtp notification = {smtp}");
    let default = vs.real_servers.first().map(|r| &r.dest);
    forwarding(
        out,
        "default ",
        default.or(vs.sorry_server.as_ref().map(|s| &s.dest)),
    );
    if let Some(s) = &vs.sorry_server {
        let _ = writeln!(out, "   sorry server = {}", s.name);
        forwarding(out, "  ", Some(&s.dest));
        let _ = writeln!(out, "     Inhibit on failure is {}", say(s.inhibit, ON_OFF));
    }
    out.push_str("   alive = 1\n");
    let quorum_down = live.quorum_down.get(&vs.name).copied().unwrap_or(false);
    let _ = writeln!(out, "   quorum_state_up = {}", u8::from(!quorum_down));
    out.push_str("   reloaded = 0\n");
    for rs in &vs.real_servers {
        real_server(out, vs, rs, live, host);
    }
}

/// A service's heading and address family; returns (IPv4, protocol).
fn service_head(out: &mut String, vs: &ServicePlan) -> (bool, Option<Protocol>) {
    out.push_str(" ------< Virtual server >------\n");
    let (af, proto) = match vs.service.key {
        ServiceKey::Addr { protocol, addr } => {
            if vs.group.is_empty() {
                let _ = writeln!(out, " VS VIP = {}, VPORT = {}", addr.ip(), addr.port());
            }
            (addr.is_ipv4(), Some(protocol))
        }
        ServiceKey::Fwmark { family, mark } => {
            if vs.group.is_empty() {
                let _ = writeln!(out, " VS FWMARK = {mark}");
            }
            (family == ipvs::Family::V4, protocol_of(vs.proto))
        }
    };
    if !vs.group.is_empty() {
        let _ = writeln!(out, " VS GROUP = {}", vs.name);
    }
    let _ = writeln!(out, "   Address family = inet{}", if af { "" } else { "6" });
    (af, proto)
}

/// The scheduler's flags and one-packet scheduling.
fn service_flags(out: &mut String, svc: &ipvs::Service, proto: Option<Protocol>) {
    let f = |flag: ServiceFlags| say(svc.flags.contains(flag), ABLED);
    let (one, two, three) = (
        ServiceFlags::SCHED1,
        ServiceFlags::SCHED2,
        ServiceFlags::SCHED3,
    );
    match svc.scheduler.as_str() {
        s @ ("sh" | "mh") => {
            let _ = writeln!(out, "   {s}-port = {}", f(two));
            let _ = writeln!(out, "   {s}-fallback = {}", f(one));
        }
        _ => {
            let _ = writeln!(out, "   flag-1 = {}", f(one));
            let _ = writeln!(out, "   flag-2 = {}", f(two));
            let _ = writeln!(out, "   flag-3 = {}", f(three));
        }
    }
    let ops = svc.flags.contains(ServiceFlags::ONE_PACKET);
    let inactive = if ops && proto != Some(Protocol::Udp) {
        " (inactive due to not UDP)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "   One packet scheduling = {}{inactive}",
        say(ops, ABLED)
    );
}

/// The persistence timeout and granularity of a persistent service.
fn persistence(out: &mut String, svc: &ipvs::Service, af: bool) {
    if !svc.flags.contains(ServiceFlags::PERSISTENT) {
        return;
    }
    let _ = writeln!(out, "   persistence timeout = {}", svc.timeout);
    let full = if af { u32::MAX } else { 128 };
    if svc.netmask != full {
        if af {
            let mask = std::net::Ipv4Addr::from(svc.netmask);
            let _ = writeln!(out, "   persistence granularity = {mask}");
        } else {
            let _ = writeln!(out, "   persistence granularity = {}", svc.netmask);
        }
    }
}

/// The `up` and `down` notify scripts set, each line led by `lead`;
/// they run as the daemon's user.
fn notify_scripts(
    out: &mut String,
    lead: &str,
    scripts: [(&Option<Vec<String>>, &str); 2],
    host: &dyn Host,
) {
    for (script, what) in scripts {
        if let Some(w) = script {
            let ids = ids_text(host.ids());
            let cmd = host.command(w);
            let _ = writeln!(out, "{lead} {what} notify script = {cmd}, uid:gid {ids}");
        }
    }
}

/// The quorum, its notify scripts and HA suspend.
fn quorum(out: &mut String, vs: &ServicePlan, host: &dyn Host) {
    let _ = writeln!(
        out,
        "   quorum = {}, hysteresis = {}",
        vs.quorum, vs.hysteresis
    );
    let scripts = [(&vs.quorum_up, "up"), (&vs.quorum_down, "down")];
    notify_scripts(out, "   Quorum", scripts, host);
    if vs.ha_suspend {
        out.push_str("   Using HA suspend\n");
    }
}

/// The protocol of a fwmark service from its name in the plan.
fn protocol_of(name: &str) -> Option<Protocol> {
    match name {
        "tcp" => Some(Protocol::Tcp),
        "udp" => Some(Protocol::Udp),
        "sctp" => Some(Protocol::Sctp),
        _ => None,
    }
}

fn protocol_name(p: Option<Protocol>) -> String {
    match p {
        Some(Protocol::Tcp) => "TCP".into(),
        Some(Protocol::Udp) => "UDP".into(),
        Some(Protocol::Sctp) => "SCTP".into(),
        Some(Protocol::Other(n)) => n.to_string(),
        None => "none".into(),
    }
}

/// keepalived's `dump_forwarding_method` (NAT without a destination: the
/// method keepalived gives a service with no real server).
fn forwarding(out: &mut String, prefix: &str, dest: Option<&Destination>) {
    let method = "forwarding method = ";
    let Some(d) = dest else {
        let _ = writeln!(out, "   {prefix}{method}NAT");
        return;
    };
    let csum = match d.tunnel_flags {
        TunnelFlags(0) => ", no checksum",
        f if f == TunnelFlags::CSUM => ", checksum",
        f if f == TunnelFlags::REMCSUM => ", remote checksum",
        _ => ", unknown checksum type",
    };
    // keepalived leaves the prefix out of its GUE and GRE lines.
    let _ = match (d.forward, d.tunnel_type) {
        (Forward::Masq, _) => writeln!(out, "   {prefix}{method}NAT"),
        (Forward::DirectRoute, _) => writeln!(out, "   {prefix}{method}DR"),
        (Forward::Tunnel, TunnelType::Ipip) => {
            writeln!(out, "   {prefix}{method}TUN, type = IPIP")
        }
        (Forward::Tunnel, TunnelType::Gue) => writeln!(
            out,
            "   {method}TUN, type = GUE, port = {}{csum}",
            d.tunnel_port
        ),
        (Forward::Tunnel, TunnelType::Gre) => writeln!(out, "   {method}TUN, type = GRE{csum}"),
        (f, _) => writeln!(out, "   {method} 0x{:x}", f.conn_flags()),
    };
}

fn real_server(out: &mut String, vs: &ServicePlan, rs: &RealPlan, live: &Live, host: &dyn Host) {
    let d = &rs.dest;
    let _ = writeln!(out, "   ------< Real server >------");
    let _ = writeln!(
        out,
        "   RIP = {}, RPORT = {}, WEIGHT = {} EFF WEIGHT = {}",
        d.addr.ip(),
        d.addr.port(),
        d.weight,
        d.weight
    );
    forwarding(out, "", Some(d));
    let first = rs.checks.first().or_else(|| first_check(vs));
    let alpha = first.is_some_and(|c| c.target.alpha);
    let _ = writeln!(out, "   Alpha is {}", say(alpha, ON_OFF));
    let _ = writeln!(out, "   connection timeout = {}", secs(rs.connect_timeout));
    let _ = writeln!(
        out,
        "   connection limit range = {} -> {}",
        d.lower_threshold, d.upper_threshold
    );
    let _ = writeln!(out, "   Delay loop = {}", secs(delay_loop(first)));
    let _ = writeln!(
        out,
        "   Inhibit on failure is {}",
        say(rs.inhibit_on_failure, ON_OFF)
    );
    let scripts = [(&rs.notify_up, "up"), (&rs.notify_down, "down")];
    notify_scripts(out, "     RS", scripts, host);
    if let Some(name) = &rs.snmp_name {
        let _ = writeln!(out, "   SNMP name = {name}");
    }
    let smtp = say(rs.smtp_alert, YES_NO);
    let _ = writeln!(out, "   Using smtp notification = {smtp}");
    let w = d.weight;
    let _ = writeln!(out, "   initial weight = {w}");
    let _ = writeln!(out, "   effective weight = {w}");
    let _ = writeln!(out, "   previous effective_weight = 0");
    let down = live.is_down(vs, rs);
    let _ = writeln!(out, "   alive = {}", u8::from(!down));
    let failed = if down { rs.checks.len().max(1) } else { 0 };
    let _ = writeln!(out, "   num failed checkers = {failed}");
    let _ = writeln!(
        out,
        "   RS set = {}",
        u8::from(!down || rs.inhibit_on_failure)
    );
    let _ = writeln!(out, "   reloaded = 0");
}

/// keepalived's default `delay_before_retry` of a checker kind.
fn default_retry_delay(p: &Probe) -> Duration {
    match p {
        Probe::Http { .. } => Duration::from_secs(3),
        Probe::Dns { .. } => Duration::ZERO,
        _ => Duration::from_secs(1),
    }
}

fn micros(d: Duration) -> u128 {
    d.as_micros()
}

fn checker(
    out: &mut String,
    vs: &ServicePlan,
    rs: &RealPlan,
    c: &CheckPlan,
    live: &Live,
    host: &dyn Host,
) {
    let t = &c.target;
    let _ = writeln!(out, " {} -> {}", vs.name, rs.name);
    let _ = writeln!(out, "   Enabled = yes");
    let _ = writeln!(out, "   Up = {}", say(!live.is_down(vs, rs), YES_NO));
    let _ = writeln!(out, "   Has run = {}", say(live.ran(vs, rs), YES_NO));
    let _ = writeln!(out, "   Current weight = 0");
    let file = matches!(c.probe, Probe::File { .. });
    if !file {
        let _ = writeln!(out, "   Alpha = {}", say(t.alpha, YES_NO));
        let _ = writeln!(out, "   Delay loop = {} us", micros(t.interval));
        // No warmup: the monitor spreads the first checks over the
        // interval, as keepalived's default warmup of delay_loop does.
        let warmup = if t.warmup.is_zero() {
            t.interval
        } else {
            t.warmup
        };
        let _ = writeln!(out, "   Warmup = {} us", micros(warmup));
        let _ = writeln!(out, "   Retries = {}", t.retry);
        if t.retry != 0 {
            let _ = writeln!(
                out,
                "   Delay before retry = {} us",
                micros(t.delay_before_retry)
            );
            let _ = writeln!(out, "   Retries iterations = 0");
        }
        let _ = writeln!(
            out,
            "   Default delay before retry = {} us",
            micros(default_retry_delay(&c.probe))
        );
    }
    let _ = writeln!(
        out,
        "   Log all failures = {}",
        say(t.log_all_failures, YES_NO)
    );
    if !file && !matches!(c.probe, Probe::Misc { .. }) {
        connection(out, c);
    }
    method(out, c, host);
}

/// keepalived's `dump_connection_opts`.
fn connection(out: &mut String, c: &CheckPlan) {
    let ctx = &c.context;
    let _ = writeln!(out, "   Connection");
    let _ = writeln!(
        out,
        "     Dest = [{}]:{}",
        ctx.target.ip(),
        ctx.target.port()
    );
    if let Some(b) = ctx.bind {
        let _ = writeln!(out, "     Bind to = [{}]:{}", b.ip(), b.port());
    }
    if let Some(i) = &ctx.bind_if {
        let _ = writeln!(out, "     Bind i/f = {i}");
    }
    if let Some(m) = ctx.mark.filter(|m| *m != 0) {
        let _ = writeln!(out, "     Mark = {m}");
    }
    let _ = writeln!(out, "     Timeout = {:.6}", ctx.timeout.as_secs_f64());
}

/// The checker kind's own lines (keepalived's `dump_func`).
fn method(out: &mut String, c: &CheckPlan, host: &dyn Host) {
    let _ = match &c.probe {
        Probe::Tcp => writeln!(out, "{METHOD} TCP_CHECK"),
        Probe::Ping => writeln!(out, "{METHOD} PING_CHECK"),
        Probe::Smtp { helo_name } => {
            writeln!(out, "{METHOD} SMTP_CHECK\n   helo = {helo_name}")
        }
        Probe::Dns { name, qtype } => {
            let t = format!("{qtype:?}").to_uppercase();
            writeln!(out, "{METHOD} DNS_CHECK\n   Type = {t}\n   Name = {name}")
        }
        Probe::Udp {
            payload,
            require_reply,
            reply_length,
        } => udp(out, payload, require_reply.as_deref(), *reply_length),
        Probe::Misc { .. } => misc(out, c, host),
        Probe::File { path, .. } => {
            writeln!(
                out,
                "{METHOD} FILE_CHECK\n     Tracked file = {path}\n     Reloaded = No"
            )
        }
        Probe::Http { .. } => http(out, c),
    };
}

/// The start of each checker's method line.
const METHOD: &str = "   Keepalive method =";

/// MISC_CHECK's lines.
fn misc(out: &mut String, c: &CheckPlan, host: &dyn Host) -> std::fmt::Result {
    let Probe::Misc {
        path,
        dynamic,
        user,
    } = &c.probe
    else {
        return Ok(());
    };
    let words = vec![path.clone()];
    writeln!(
        out,
        "{METHOD} MISC_CHECK\n   script = {}\n   timeout = {}\n   dynamic = {}\n   \
         uid:gid = {}\n   Last ran = 0.000000 (Thu Jan  1 00:00:00 1970.000000)\n   \
         Last status = 0",
        host.command(&words),
        c.context.timeout.as_secs(),
        if *dynamic { "YES" } else { "NO" },
        user.as_deref()
            .map_or_else(|| ids_text(host.ids()), |u| user_ids(host, u))
    )
}

/// HTTP_GET's and SSL_GET's lines.
fn http(out: &mut String, c: &CheckPlan) -> std::fmt::Result {
    let Probe::Http {
        urls,
        virtualhost,
        version,
        ssl,
        sni,
    } = &c.probe
    else {
        return Ok(());
    };
    let proto = if *ssl { "SSL" } else { "HTTP" };
    let v = match version {
        healthcheck::checkers::HttpVersion::V1_0Close => "1.0C",
        healthcheck::checkers::HttpVersion::V1_1 => "1.1",
        _ => "1.0",
    };
    writeln!(out, "{METHOD} {proto}_GET, http protocol {v}")?;
    if let Some(h) = virtualhost {
        writeln!(out, "   Virtualhost = {h}")?;
    }
    writeln!(out, "   Enable SNI {}set", if *sni { "" } else { "un" })?;
    let fast = if c.target.fast_recovery { "" } else { "un" };
    writeln!(out, "   Fast recovery {fast}set")?;
    for u in urls {
        url(out, u);
    }
    Ok(())
}

fn udp(
    out: &mut String,
    payload: &[u8],
    reply: Option<&[u8]>,
    (min, max): (usize, usize),
) -> std::fmt::Result {
    writeln!(out, "   Keepalive method = UDP_CHECK")?;
    if payload.is_empty() {
        writeln!(out, "   Payload specified = no")?;
    } else {
        writeln!(out, "   Payload len = {}", payload.len())?;
    }
    writeln!(out, "   Require reply = {}", say(reply.is_some(), YES_NO))?;
    if let Some(r) = reply {
        writeln!(out, "     Min reply length = {min}")?;
        writeln!(out, "     Max reply length = {max}")?;
        writeln!(out, "     Reply data len = {}", r.len())?;
        if !r.is_empty() {
            writeln!(out, "     Reply data mask = no")?;
        }
    }
    Ok(())
}

fn url(out: &mut String, u: &healthcheck::checkers::UrlCheck) {
    let _ = writeln!(out, "   Checked url = {}", u.path);
    if let Some(d) = &u.digest {
        let hex: String = d.iter().map(|b| format!("{b:02x}")).collect();
        let _ = writeln!(out, "     digest = {hex}");
    }
    let _ = writeln!(out, "     HTTP Status Code(s)");
    for (lo, hi) in ranges(&u.status) {
        if lo == hi {
            let _ = writeln!(out, "       {lo}");
        } else {
            let _ = writeln!(out, "       {lo}-{hi}");
        }
    }
    if let Some(h) = &u.virtualhost {
        let _ = writeln!(out, "     Virtual host = {h}");
    }
}

/// The accepted codes as keepalived lists them: runs of consecutive codes.
fn ranges(codes: &StatusCodes) -> Vec<(i32, i32)> {
    let mut out: Vec<(i32, i32)> = Vec::new();
    for c in (100..=599).filter(|c| codes.contains(*c)) {
        match out.last_mut() {
            Some((_, hi)) if *hi + 1 == c => *hi = c,
            _ => out.push((c, c)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.
    use super::*;

    const HOST: crate::dump::FixedHost = crate::dump::FixedHost { ids: (1000, 100) };

    fn plan_of(conf: &str) -> Plan {
        let parsed = crate::parse_str("t.conf", conf, &crate::Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        crate::convert::lvs::build(&parsed.config).unwrap()
    }

    const SMALL: &str = "virtual_server 10.0.0.1 80 {
    delay_loop 2
    lvs_sched wlc
    lvs_method NAT
    protocol TCP
    quorum 2
    sorry_server 10.1.0.9 80
    real_server 10.1.0.1 8080 {
        weight 3
        inhibit_on_failure
        TCP_CHECK {
            connect_timeout 4
            retry 2
            delay_before_retry 1
        }
    }
    real_server 10.1.0.2 8080 {
        HTTP_GET {
            url {
                path /health
                status_code 200 204
            }
            connect_port 81
        }
    }
}
virtual_server fwmark 7 {
    lvs_sched sh
    lvs_method DR
    persistence_timeout 30
    real_server 10.1.0.3 80 {
    }
}
";

    #[test]
    fn a_small_plan_dumps_as_keepalived_writes_it() {
        let plan = plan_of(SMALL);
        let mut live = Live::default();
        let down = (
            "[10.0.0.1]:tcp:80".to_owned(),
            "[10.1.0.2]:tcp:8080".to_owned(),
        );
        live.down.insert(down.clone(), true);
        live.has_run.insert(down, true);
        assert_eq!(data(&plan, &live, &HOST), want());
    }

    #[test]
    fn each_checker_kind_has_keepalived_s_own_lines() {
        let conf = "track_file tf {
    file /run/tf
    weight 2
}
virtual_server 10.0.0.1 53 {
    protocol UDP
    real_server 10.1.0.1 53 {
        DNS_CHECK {
            type A
            name example.org
        }
        UDP_CHECK {
            payload 0a0b
            require_reply
        }
        PING_CHECK {
        }
        MISC_CHECK {
            misc_path \"/no/such/check x\"
            misc_timeout 3
            misc_dynamic
        }
        FILE_CHECK {
            track_file tf
        }
    }
}
";
        let text = data(&plan_of(conf), &Live::default(), &HOST);
        let checkers = text
            .split("------< Health checkers >------\n")
            .nth(1)
            .unwrap();
        let head = |retries: &str, default: u32| {
            let pair = "[10.0.0.1]:udp:53 -> [10.1.0.1]:udp:53";
            checker_head(pair, true, 60_000_000, retries, default)
        };
        let one = &retries(1, 1_000_000);
        let dest = "   Connection\n     Dest = [10.1.0.1]:53\n     Timeout = 5.000000\n";
        // DNS_CHECK's own defaults: 3 retries, delay_loop apart;
        // MISC_CHECK's: none (check_dns.c, check_misc.c).
        let dns = &retries(3, 60_000_000);
        let m = "   Keepalive method =";
        let want = [
            head(dns, 0),
            format!("{dest}{m} DNS_CHECK\n   Type = A\n   Name = example.org\n"),
            head(one, 1_000_000),
            format!(
                "{dest}{m} UDP_CHECK\n   Payload len = 2\n   Require reply = yes\n     \
                     Min reply length = 0\n     Max reply length = 255\n     \
                     Reply data len = 0\n"
            ),
            head(one, 1_000_000),
            format!("{dest}{m} PING_CHECK\n"),
            head("   Retries = 0\n", 1_000_000),
            format!(
                "{m} MISC_CHECK\n   script = '/no/such/check' 'x'\n   timeout = 3\n   \
                     dynamic = YES\n   uid:gid = {}\n   \
                     Last ran = 0.000000 (Thu Jan  1 00:00:00 1970.000000)\n   \
                     Last status = 0\n",
                "1000:100"
            ),
            " [10.0.0.1]:udp:53 -> [10.1.0.1]:udp:53\n   Enabled = yes\n   Up = yes\n   \
             Has run = no\n   Current weight = 0\n   Log all failures = no\n"
                .to_owned(),
            format!("{m} FILE_CHECK\n     Tracked file = /run/tf\n     Reloaded = No\n"),
        ]
        .concat();
        assert_eq!(checkers, want);
    }

    /// What keepalived 2.2.7's `dump_data_check` writes for [`SMALL`]
    /// after its second real server failed, less the global part.
    fn want() -> String {
        let sorry = "   sorry server = [10.1.0.9]:tcp:80\n     forwarding method = NAT\n     \
                     Inhibit on failure is OFF\n";
        [
            "------< LVS Topology >------\n System is compiled with LVS v1.2.1\n",
            &service("VS VIP = 10.0.0.1, VPORT = 80", "2", "wlc"),
            "   flag-1 = disabled\n   flag-2 = disabled\n   flag-3 = disabled\n",
            "   One packet scheduling = disabled\n   protocol = TCP\n",
            &service_end(2, "NAT", sorry),
            &real_server("10.1.0.1, RPORT = 8080", 3, "NAT", "2", "ON", true),
            &real_server("10.1.0.2, RPORT = 8080", 1, "NAT", "2", "OFF", false),
            &service("VS FWMARK = 7", "60", "sh"),
            "   sh-port = disabled\n   sh-fallback = disabled\n",
            "   One packet scheduling = disabled\n   persistence timeout = 30\n   protocol = none\n",
            &service_end(1, "DR", ""),
            &real_server("10.1.0.3, RPORT = 0", 1, "DR", "60", "OFF", true),
            &checkers(),
        ]
        .concat()
    }

    /// A virtual server's first lines in [`want`]: `vs` names it, its delay
    /// loop (seconds) and scheduler.
    fn service(vs: &str, delay: &str, sched: &str) -> String {
        format!(
            " ------< Virtual server >------\n {vs}\n   Address family = inet\n   \
             connection timeout = 5.000000\n   delay_loop = {delay}.000000\n   \
             lvs_sched = {sched}\n   Hashed = disabled\n"
        )
    }

    /// A virtual server's last lines in [`want`]: its quorum, forwarding
    /// and `sorry` server lines.
    fn service_end(quorum: u8, fwd: &str, sorry: &str) -> String {
        format!(
            "   alpha is OFF\n   omega is OFF\n   Inhibit on failure is OFF\n   \
             quorum = {quorum}, hysteresis = 0\n   Using smtp notification = no\n   \
             default forwarding method = {fwd}\n{sorry}   alive = 1\n   quorum_state_up = 1\n   \
             reloaded = 0\n"
        )
    }

    /// A real server's lines in [`want`]: `rip` with its port, the weight,
    /// forwarding, delay loop (seconds), inhibit and whether it is up.
    fn real_server(rip: &str, w: u8, fwd: &str, delay: &str, inhibit: &str, up: bool) -> String {
        let (alive, failed) = (u8::from(up), u8::from(!up));
        format!(
            "   ------< Real server >------
   RIP = {rip}, WEIGHT = {w} EFF WEIGHT = {w}
   forwarding method = {fwd}
   Alpha is OFF
   connection timeout = 5.000000
   connection limit range = 0 -> 0
   Delay loop = {delay}.000000
   Inhibit on failure is {inhibit}
   Using smtp notification = yes
   initial weight = {w}
   effective weight = {w}
   previous effective_weight = 0
   alive = {alive}
   num failed checkers = {failed}
   RS set = {alive}
   reloaded = 0
"
        )
    }

    /// The health checkers of [`want`].
    fn checkers() -> String {
        let pair = |rs: &str| format!("[10.0.0.1]:tcp:80 -> [10.1.0.{rs}]:tcp:8080");
        [
            "------< Health checkers >------\n",
            &checker_head(
                &pair("1"),
                true,
                2_000_000,
                &retries(2, 1_000_000),
                1_000_000,
            ),
            CONNECTION_1,
            &checker_head(
                &pair("2"),
                false,
                2_000_000,
                &retries(1, 3_000_000),
                3_000_000,
            ),
            CONNECTION_2,
        ]
        .concat()
    }

    /// A checker's lines before its connection: `pair` (`VS -> RS`),
    /// whether it is up (else it has run and failed), its delay loop,
    /// retry lines and default delay before a retry (µs).
    fn checker_head(pair: &str, up: bool, delay: u32, retries: &str, default: u32) -> String {
        let (up, ran) = if up { ("yes", "no") } else { ("no", "yes") };
        format!(
            " {pair}\n   Enabled = yes\n   Up = {up}\n   Has run = {ran}\n   \
             Current weight = 0\n   Alpha = no\n   Delay loop = {delay} us\n   \
             Warmup = {delay} us\n{retries}   Default delay before retry = {default} us\n   \
             Log all failures = no\n"
        )
    }

    /// A checker's retry lines: `n` retries `delay` µs apart.
    fn retries(n: u32, delay: u32) -> String {
        format!("   Retries = {n}\n   Delay before retry = {delay} us\n   Retries iterations = 0\n")
    }

    /// The first checker's connection and method in [`checkers`].
    const CONNECTION_1: &str = r#"   Connection
     Dest = [10.1.0.1]:8080
     Timeout = 4.000000
   Keepalive method = TCP_CHECK
"#;

    /// The second checker's connection and method in [`checkers`].
    const CONNECTION_2: &str = r#"   Connection
     Dest = [10.1.0.2]:81
     Timeout = 5.000000
   Keepalive method = HTTP_GET, http protocol 1.0
   Enable SNI unset
   Fast recovery unset
   Checked url = /health
     HTTP Status Code(s)
       200
       204
"#;
}

#[cfg(test)]
mod server_tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.
    use super::*;

    fn dump(conf: &str) -> String {
        let parsed = crate::parse_str("t.conf", conf, &crate::Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let plan = crate::convert::lvs::build(&parsed.config).unwrap();
        data(&plan, &Live::default(), &crate::dump::FixedHost::default())
    }

    /// The lines of `text` that start with `prefix`, trimmed.
    fn lines<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
        (text.lines())
            .map(str::trim)
            .filter(|l| l.starts_with(prefix))
            .collect()
    }

    #[test]
    fn configured_connect_timeouts_are_shown_and_inherited() {
        let conf = "virtual_server 10.0.0.1 80 {
    protocol TCP
    connect_timeout 3
    real_server 10.1.0.1 80 {
        connect_timeout 2.5
    }
    real_server 10.1.0.2 80 {
        TCP_CHECK {
        }
    }
}
";
        let text = dump(conf);
        let want = [
            "connection timeout = 3.000000",
            "connection timeout = 2.500000",
            "connection timeout = 3.000000",
            "Timeout = 3.000000",
        ];
        let got = [lines(&text, "connection timeout"), lines(&text, "Timeout")].concat();
        assert_eq!(got, want);
    }

    #[test]
    fn smtp_alerts_are_shown_as_keepalived_resolves_them() {
        let servers = "virtual_server 10.0.0.1 80 {
    protocol TCP
    real_server 10.1.0.1 80 {
    }
    real_server 10.1.0.2 80 {
        smtp_alert no
    }
}
virtual_server 10.0.0.2 80 {
    protocol TCP
    smtp_alert
    real_server 10.1.0.1 80 {
    }
}
";
        let smtp = |text: &str| lines(text, "Using smtp notification = ").join(",");
        // No global setting: a virtual server's default is no, a real
        // server's yes.
        assert_eq!(
            smtp(&dump(servers)),
            "Using smtp notification = no,Using smtp notification = yes,\
             Using smtp notification = no,Using smtp notification = yes,\
             Using smtp notification = yes"
        );
        // smtp_alert_checker off turns the real servers' default off.
        let off = format!("global_defs {{\n    smtp_alert_checker off\n}}\n{servers}");
        assert_eq!(
            smtp(&dump(&off)),
            "Using smtp notification = no,Using smtp notification = no,\
             Using smtp notification = no,Using smtp notification = yes,\
             Using smtp notification = no"
        );
    }
}
