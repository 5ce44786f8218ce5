//! The "Global definitions" part both DATA dumps start with, as
//! keepalived 2.2.7 writes it (`dump_global_data`): [`data`] of a parsed
//! configuration, for the VRRP or the checker [`Half`].
//!
//! Settings not written are shown with keepalived's defaults. What the
//! configuration does not say comes from the [`Host`]: the local name
//! (`Router ID`, the SMTP HELO name and sender), the default script user.
//! Values fixed when Debian built keepalived 2.2.7 are written as its
//! package writes them: the nftables library version 1.2.3, the default
//! realtime limit 10000, the default SNMP socket, no DBus, no iptables.
//! Lines keepalived writes from its processes' state are left out: the
//! startup and shutdown scripts (its parent process's), a scheduled
//! reload time, the current realtime priority and limit (the realtime
//! tuning keywords have no effect here).
//!
//! ```
//! use vrrp_conf::dump::{global, FixedHost};
//! use vrrp_conf::{parse_str, Options};
//!
//! let conf = "global_defs {\n  router_id lb1\n}\n";
//! let parsed = parse_str("k.conf", conf, &Options::default());
//! let text = global::data(&parsed, &FixedHost::default(), global::Half::Vrrp);
//! assert!(text.starts_with("------< Global definitions >------\n Network namespace = (default)\n"));
//! assert!(text.contains("\n Router ID = lb1\n"));
//! assert!(text.ends_with("\n umask = 0177\n"));
//! ```

use std::fmt::Write as _;

use super::{ids_text, say, Host, ABLED, TF};
use crate::model::{Config, Setting};
use crate::Parsed;

/// Which process's dump: the VRRP one also names the default interface,
/// and resolves the lower-priority GARP settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Half {
    /// `keepalived.data`.
    Vrrp,
    /// `keepalived_check.data`.
    Checker,
}

/// keepalived's `PARAMETER_UNSET`, as its dump prints it.
const UNSET: u32 = u32::MAX;

/// The `global_defs` settings kept verbatim, last one first.
struct Other<'a>(&'a [Setting]);

impl<'a> Other<'a> {
    fn last(&self, keyword: &str) -> Option<&'a Setting> {
        self.0.iter().rev().find(|s| s.keyword == keyword)
    }

    fn has(&self, keyword: &str) -> bool {
        self.last(keyword).is_some()
    }

    fn arg(&self, keyword: &str) -> Option<&'a str> {
        self.last(keyword)?.args.first().map(String::as_str)
    }

    /// keepalived's `check_true_false` of an optional argument.
    fn flag(&self, keyword: &str) -> Option<bool> {
        let s = self.last(keyword)?;
        Some(match s.args.first().map(|a| a.to_ascii_lowercase()) {
            Some(a) => !matches!(a.as_str(), "false" | "no" | "off" | "0"),
            None => true,
        })
    }

    fn num<T: std::str::FromStr>(&self, keyword: &str) -> Option<T> {
        self.arg(keyword)?.parse().ok()
    }
}

/// `on`, `off` or `unset`.
fn tristate(v: Option<bool>) -> &'static str {
    match v {
        None => "unset",
        Some(true) => "on",
        Some(false) => "off",
    }
}

/// keepalived 2.2.7's "Global definitions" part of `parsed`, for `half`.
pub fn data(parsed: &Parsed, host: &dyn Host, half: Half) -> String {
    let mut out = String::from("------< Global definitions >------\n");
    let c = &parsed.config;
    let o = Other(&c.global_defs.other);
    let process = crate::convert::process::Process::of(parsed, &mut Vec::new());
    let w = &mut out;
    if let Some(dir) = &process.config_save_dir {
        line(
            w,
            format!("Config save dir = {}", dir.trim_end_matches('/')),
        );
    }
    let ns = process.net_namespace.as_deref().unwrap_or("(default)");
    line(w, format!("Network namespace = {ns}"));
    line(w, "Network namespace ipvs = (main namespace)".into());
    if let Some(name) = &process.instance {
        line(w, format!("Instance name = {name}"));
    }
    names(w, &o);
    mail(w, c, &o, host);
    line(
        w,
        format!("Default smtp_alert = {}", tristate(o.flag("smtp_alert"))),
    );
    let vrrp = tristate(o.flag("smtp_alert_vrrp"));
    line(w, format!("Default smtp_alert_vrrp = {vrrp}"));
    let checker = tristate(o.flag("smtp_alert_checker"));
    line(w, format!("Default smtp_alert_checker = {checker}"));
    let all = o.flag("checker_log_all_failures").unwrap_or(false);
    line(w, format!("Checkers log all failures = {}", say(all, TF)));
    reload(w, &process);
    if process.data_use_instance {
        line(w, "Use instance name in data dumps".into());
    }
    // The startup and shutdown scripts are the parent process's: the
    // VRRP and checker dumps leave them out.
    interfaces(w, c, &o, half);
    lvs(w, &o);
    fifos(w, &o, host, script_ids(c, host));
    vrrp_settings(w, c, &o, half);
    tuning(w, &o);
    snmp(w, c);
    line(w, "DBus disabled".into());
    line(w, "DBus service name = ".into());
    let security = c.global_defs.enable_script_security;
    line(w, format!("Script security {}", say(security, ABLED)));
    let ids = script_ids(c, host);
    line(w, format!("Default script uid:gid {}", ids_text(ids)));
    buffers(w, &o);
    tail(w, &o, &process);
    out
}

fn line(out: &mut String, text: String) {
    let _ = writeln!(out, " {text}");
}

/// The default script user: `script_user`, else `keepalived_script` if
/// it exists, else the daemon's.
fn script_ids(c: &Config, host: &dyn Host) -> (u32, u32) {
    let user = (c.global_defs.script_user.as_ref()).and_then(|u| host.user_ids(u));
    user.or_else(|| host.user_ids(&["keepalived_script".to_owned()]))
        .unwrap_or_else(|| host.ids())
}

/// The process names and the router id.
fn names(w: &mut String, o: &Other<'_>) {
    let named = [
        ("process_name", "Parent process name"),
        ("vrrp_process_name", "VRRP process name"),
        ("checker_process_name", "LVS process name"),
        ("bfd_process_name", "BFD process name"),
    ];
    for (keyword, label) in named {
        let value = match keyword {
            "checker_process_name" => (o.0.iter().rev())
                .find(|s| s.keyword == keyword || s.keyword == "lvs_process_name")
                .and_then(|s| s.args.first().map(String::as_str)),
            _ => o.arg(keyword),
        };
        if let Some(v) = value {
            line(w, format!("{label} = {v}"));
        }
    }
}

/// The router id and the mail settings, with keepalived's host-derived
/// defaults.
fn mail(w: &mut String, c: &Config, o: &Other<'_>, host: &dyn Host) {
    let g = &c.global_defs;
    let local = host.local_name();
    let local_name = local.clone().unwrap_or_else(|| "[unknown]".to_owned());
    let router_id = g.router_id.clone().unwrap_or_else(|| local_name.clone());
    line(w, format!("Router ID = {router_id}"));
    let server = g.smtp_server.as_ref().and_then(|s| s.first());
    if let Some(h) = server {
        line(w, format!("Smtp server = {h}"));
        let port = (g.smtp_server.as_ref()).and_then(|s| s.get(1)?.parse::<u16>().ok());
        line(w, format!("Smtp server port = {}", port.unwrap_or(25)));
    }
    let helo = o.arg("smtp_helo_name").map(str::to_owned);
    let helo = helo.or_else(|| local.clone().filter(|_| server.is_some()));
    if let Some(h) = helo {
        line(w, format!("Smtp HELO name = {h}"));
    }
    let timeout = g.smtp_connect_timeout.filter(|t| *t != 0);
    if let Some(t) = timeout.or(server.map(|_| 30)) {
        line(w, format!("Smtp server connection timeout = {t}"));
    }
    let default_from = match (server, &local, host.user_name()) {
        (Some(_), Some(l), Some(u)) => Some(format!("{u}@{l}")),
        _ => None,
    };
    if let Some(from) = g.notification_email_from.clone().or(default_from) {
        line(w, format!("Email notification from = {from}"));
        line(w, "Email notification to:".into());
        for to in &g.notification_email {
            line(w, format!("  {to}"));
        }
    }
}

/// `reload_check_config`, `reload_time_file` and `reload_file`.
fn reload(w: &mut String, p: &crate::convert::process::Process) {
    match &p.reload_check_config {
        Some(log) => line(w, format!("Test config before reload, log to {log}")),
        None => line(w, "No test config before reload".into()),
    }
    if let Some(f) = &p.reload_time_file {
        let repeat = if p.reload_repeat { " (repeat)" } else { "" };
        line(w, format!("Reload time file = {f}{repeat}"));
        line(w, "No reload scheduled".into());
    }
    if let Some(f) = &p.reload_file {
        line(w, format!("Reload_file = {f}"));
    }
}

/// A notify line's command and its `uid:gid`: the words after the
/// command name a user if the host knows it, else it runs as `default`.
fn split_user(words: &[String], host: &dyn Host, default: (u32, u32)) -> (Vec<String>, (u32, u32)) {
    let (cmd, user) = words.split_at(words.len().min(1));
    if user.is_empty() {
        return (cmd.to_vec(), default);
    }
    match host.user_ids(user) {
        Some(ids) => (cmd.to_vec(), ids),
        None => (words.to_vec(), default),
    }
}

/// The interface settings and `no_email_faults`; the default interface
/// (VRRP only) is `default_interface` if a static address needs it.
fn interfaces(w: &mut String, c: &Config, o: &Other<'_>, half: Half) {
    let dynamic = o.flag("dynamic_interfaces").is_some();
    line(w, format!("Dynamic interfaces = {}", say(dynamic, TF)));
    if dynamic {
        let allow = o.arg("dynamic_interfaces") == Some("allow_if_changes");
        line(w, format!("Allow interface changes = {}", say(allow, TF)));
    }
    if o.flag("no_email_faults").unwrap_or(false) {
        line(w, "Send emails for fault transitions = off".into());
    }
    lvs_timeouts(w, o);
    if half == Half::Vrrp {
        // keepalived looks the default interface up for a static
        // address without `dev` only.
        let needed = c.static_ipaddress.iter().any(|a| a.dev.is_none());
        let name = o.arg("default_interface").filter(|_| needed);
        line(w, format!("Default interface = {}", name.unwrap_or("eth0")));
    }
    let igmp = if o.has("disable_local_igmp") {
        "yes"
    } else {
        "no"
    };
    line(w, format!("Disable local IGMP = {igmp}"));
}

/// `lvs_timeouts`: keepalived labels its UDP line as TCP.
fn lvs_timeouts(w: &mut String, o: &Other<'_>) {
    let Some(s) = o.last("lvs_timeouts") else {
        return;
    };
    let mut values = [0u32; 3];
    for pair in s.args.chunks(2) {
        let n = pair.get(1).and_then(|v| v.parse().ok()).unwrap_or(0);
        match pair[0].as_str() {
            "tcp" => values[0] = n,
            "tcpfin" => values[1] = n,
            "udp" => values[2] = n,
            _ => {}
        }
    }
    let labels = ["LVS TCP timeout", "LVS TCP FIN timeout", "LVS TCP timeout"];
    for (label, n) in labels.iter().zip(values) {
        if n != 0 {
            line(w, format!("{label} = {n}"));
        }
    }
}

/// `lvs_sync_daemon`, `lvs_flush` and `lvs_flush_onstop`.
fn lvs(w: &mut String, o: &Other<'_>) {
    if let Some(s) = o.last("lvs_sync_daemon") {
        sync_daemon(w, &s.args);
    }
    line(w, format!("LVS flush = {}", say(o.has("lvs_flush"), TF)));
    let stop = (o.0.iter().rev()).find(|s| s.keyword.starts_with("lvs_flush_on"));
    let stop = match stop.map(|s| s.args.first().map(String::as_str)) {
        None => "disabled",
        Some(Some("VS")) => "VS",
        Some(_) => "full",
    };
    line(w, format!("LVS flush on stop = {stop}"));
}

/// `lvs_sync_daemon IFNAME [INSTANCE] [id N] [maxlen N] [port N] [ttl N]
/// [group IP]`.
fn sync_daemon(w: &mut String, args: &[String]) {
    let Some(ifname) = args.first() else { return };
    let mut rest = &args[1..];
    let options = ["id", "maxlen", "port", "ttl", "group"];
    if let Some(first) = rest.first().filter(|a| !options.contains(&a.as_str())) {
        line(w, format!("LVS syncd vrrp instance = {first}"));
        rest = &rest[1..];
    }
    line(w, format!("LVS syncd interface = {ifname}"));
    let value = |k: &str| {
        let at = rest.iter().position(|a| a == k)?;
        rest.get(at + 1).map(String::as_str)
    };
    line(
        w,
        format!("LVS syncd syncid = {}", value("id").unwrap_or("0")),
    );
    if let Some(v) = value("maxlen") {
        line(w, format!("LVS syncd maxlen = {v}"));
    }
    if let Some(v) = value("group") {
        line(w, format!("LVS mcast group {v}"));
    }
    if let Some(v) = value("port") {
        line(w, format!("LVS syncd mcast port = {v}"));
    }
    if let Some(v) = value("ttl") {
        line(w, format!("LVS syncd mcast ttl = {v}"));
    }
}

/// The notify FIFOs and their scripts.
fn fifos(w: &mut String, o: &Other<'_>, host: &dyn Host, default: (u32, u32)) {
    for (prefix, label) in [("", "Global"), ("vrrp_", "VRRP"), ("lvs_", "LVS")] {
        let Some(f) = o.last(&format!("{prefix}notify_fifo")) else {
            continue;
        };
        let Some(name) = f.args.first() else { continue };
        let ids = host.user_ids(&f.args[1..]).unwrap_or(default);
        line(
            w,
            format!("{label} notify fifo = {name}, uid:gid {}", ids_text(ids)),
        );
        if let Some(s) = o.last(&format!("{prefix}notify_fifo_script")) {
            // keepalived passes the FIFO's name as the last argument.
            let (mut words, ids) = split_user(&s.args, host, default);
            words.push(name.clone());
            let cmd = host.command(&words);
            line(
                w,
                format!(
                    "{label} notify fifo script = {cmd}, uid:gid {}",
                    ids_text(ids)
                ),
            );
        }
    }
}

/// Seconds as `%f` writes them.
fn secs_f(arg: Option<&str>) -> String {
    let v = arg.and_then(|a| a.parse::<f64>().ok()).unwrap_or(0.0);
    format!("{v:.6}")
}

/// The VRRP defaults of `global_defs`.
fn vrrp_settings(w: &mut String, c: &Config, o: &Other<'_>, half: Half) {
    let g = &c.global_defs;
    let states = o.has("fifo_write_vrrp_states_on_reload");
    line(
        w,
        format!("FIFO write vrrp states on reload = {}", say(states, TF)),
    );
    let changes = o.flag("vrrp_notify_priority_changes").unwrap_or(false);
    line(
        w,
        format!("VRRP notify priority changes = {}", say(changes, TF)),
    );
    let group4 = g.vrrp_mcast_group4.as_ref().map(|a| a.value.to_string());
    let group4 = group4.unwrap_or_else(|| "224.0.0.18".into());
    line(w, format!("VRRP IPv4 mcast group = {group4}"));
    let group6 = o.arg("vrrp_mcast_group6").unwrap_or("ff02::12");
    line(w, format!("VRRP IPv6 mcast group = {group6}"));
    vrrp_garp(w, c, o, half);
    vrrp_adverts(w, c, o);
}

/// The global gratuitous ARP settings.
fn vrrp_garp(w: &mut String, c: &Config, o: &Other<'_>, half: Half) {
    let g = &c.global_defs;
    let delay = g.vrrp_garp_master_delay.unwrap_or(5);
    let repeat = g.vrrp_garp_master_repeat.unwrap_or(5);
    line(w, format!("Gratuitous ARP delay = {delay}"));
    line(w, format!("Gratuitous ARP repeat = {repeat}"));
    let refresh = g.vrrp_garp_master_refresh.unwrap_or(0);
    line(w, format!("Gratuitous ARP refresh timer = {refresh}"));
    let refresh_repeat = g.vrrp_garp_master_refresh_repeat.unwrap_or(1);
    line(
        w,
        format!("Gratuitous ARP refresh repeat = {refresh_repeat}"),
    );
    // The VRRP process makes unset lower-priority values the master ones.
    let (low_delay, low_repeat) = match half {
        Half::Vrrp => (delay, repeat),
        Half::Checker => (UNSET, UNSET),
    };
    let low_delay = o.num("vrrp_garp_lower_prio_delay").unwrap_or(low_delay);
    let low_repeat = o.num("vrrp_garp_lower_prio_repeat").unwrap_or(low_repeat);
    line(
        w,
        format!("Gratuitous ARP lower priority delay = {low_delay}"),
    );
    line(
        w,
        format!("Gratuitous ARP lower priority repeat = {low_repeat}"),
    );
    let adverts: u32 = o.num("vrrp_down_timer_adverts").unwrap_or(3);
    line(w, format!("Num adverts before down = {adverts}"));
    let vmac = (o.0.iter().rev())
        .find(|s| s.keyword == "vrrp_garp_extra_if" || s.keyword == "vrrp_vmac_garp_intvl");
    let interval = vmac.and_then(|s| s.args.first()?.parse::<u32>().ok());
    let all = vmac.is_some_and(|s| s.args.get(1).is_some_and(|a| a == "all"));
    let what = if all { "i/f" } else { "VMAC" };
    let interval = interval.unwrap_or(0);
    line(
        w,
        format!("Gratuitous ARP for each secondary {what} = {interval}s"),
    );
}

/// The global advert settings, nftables and the checks of adverts.
fn vrrp_adverts(w: &mut String, c: &Config, o: &Other<'_>) {
    let g = &c.global_defs;
    let lower = o.flag("vrrp_lower_prio_no_advert").unwrap_or(false);
    line(
        w,
        format!(
            "Send advert after receive lower priority advert = {}",
            say(!lower, TF)
        ),
    );
    let higher = o.flag("vrrp_higher_prio_send_advert").unwrap_or(false);
    line(
        w,
        format!(
            "Send advert after receive higher priority advert = {}",
            say(higher, TF)
        ),
    );
    let garp = secs_f(o.arg("vrrp_garp_interval"));
    line(w, format!("Gratuitous ARP interval = {garp}"));
    let gna = secs_f(o.arg("vrrp_gna_interval"));
    line(w, format!("Gratuitous NA interval = {gna}"));
    let version = g.vrrp_version.unwrap_or(2);
    line(w, format!("VRRP default protocol version = {version}"));
    nftables(w, o);
    let unicast = o.flag("vrrp_check_unicast_src").unwrap_or(false);
    line(w, format!("VRRP check unicast_src = {}", say(unicast, TF)));
    let skip = g.vrrp_skip_check_adv_addr;
    line(
        w,
        format!("VRRP skip check advert addresses = {}", say(skip, TF)),
    );
    line(w, format!("VRRP strict mode = {}", say(g.vrrp_strict, TF)));
}

/// `nftables`: Debian's keepalived 2.2.7 is built with libnftnl 1.2.3.
fn nftables(w: &mut String, o: &Other<'_>) {
    if let Some(s) = o.last("nftables") {
        let table = s.args.first().map_or("keepalived", String::as_str);
        line(w, format!("nftables table name = {table}"));
        let priority: i32 = o.num("nftables_priority").unwrap_or(-1);
        line(w, format!("nftables base chain priority = {priority}"));
        let ifindex = if o.flag("nftables_ifindex").unwrap_or(false) {
            ""
        } else {
            "don't "
        };
        line(
            w,
            format!("nftables {ifindex}force use ifindex for link local IPv6"),
        );
    }
    let counters = if o.flag("nftables_counters").unwrap_or(false) {
        ""
    } else {
        "out"
    };
    line(w, format!("nftables with{counters} counters"));
    line(w, "libnftnl version 1.2.3".into());
}

/// The scheduling tuning keywords, accepted without effect but shown.
fn tuning(w: &mut String, o: &Other<'_>) {
    let max: i32 = match o.last("max_auto_priority") {
        None => 0,
        // sched_get_priority_max(SCHED_RR) on Linux.
        Some(s) if s.args.is_empty() => 99,
        Some(s) => s.args[0].parse().unwrap_or(0),
    };
    if max == -1 {
        line(w, "Max auto priority = Disabled".into());
    } else {
        line(w, format!("Max auto priority = {max}"));
    }
    let delay: u64 = o.num("min_auto_priority_delay").unwrap_or(1_000_000);
    line(w, format!("Min auto priority delay = {delay} usecs"));
    for (prefix, label) in [("vrrp", "VRRP"), ("checker", "Checker"), ("bfd", "BFD")] {
        let priority: i32 = o.num(&format!("{prefix}_priority")).unwrap_or(0);
        line(w, format!("{label} process priority = {priority}"));
        let no_swap = o.has(&format!("{prefix}_no_swap"));
        line(w, format!("{label} don't swap = {}", say(no_swap, TF)));
        let rt: u32 = o.num(&format!("{prefix}_rt_priority")).unwrap_or(0);
        line(w, format!("{label} realtime priority = {rt}"));
        if let Some(cpus) = o.last(&format!("{prefix}_cpu_affinity")) {
            line(w, format!("{label} CPU Affinity = {}", cpus.args.join(" ")));
        }
        let limit = (o.0.iter().rev())
            .find(|s| s.keyword.starts_with(&format!("{prefix}_rlimit_rt")))
            .and_then(|s| s.args.first()?.parse::<u64>().ok());
        line(
            w,
            format!("{label} realtime limit = {}", limit.unwrap_or(10_000)),
        );
    }
}

/// The SNMP settings.
fn snmp(w: &mut String, c: &Config) {
    let s = crate::convert::snmp::SnmpSettings::of(c);
    line(w, format!("SNMP vrrp {}", say(s.vrrp, ABLED)));
    line(w, format!("SNMP checker {}", say(s.checker, ABLED)));
    line(w, format!("SNMP RFCv2 {}", say(s.rfcv2, ABLED)));
    line(w, format!("SNMP RFCv3 {}", say(s.rfcv3, ABLED)));
    line(w, format!("SNMP traps {}", say(s.traps, ABLED)));
    let socket = s
        .socket
        .unwrap_or_else(|| "default (unix:/var/agentx/master)".into());
    line(w, format!("SNMP socket = {socket}"));
}

/// The netlink buffer sizes (tuning keywords) and the checker's
/// notification settings.
fn buffers(w: &mut String, o: &Other<'_>) {
    for prefix in [
        "vrrp_netlink_cmd",
        "vrrp_netlink_monitor",
        "process_monitor",
    ] {
        bufs(w, o, prefix);
    }
    for prefix in ["lvs_netlink_cmd", "lvs_netlink_monitor"] {
        bufs(w, o, prefix);
    }
    line(w, "rs_init_notifies = 0".into());
    let no_emails = o.flag("no_checker_emails").unwrap_or(false);
    line(w, format!("no_checker_emails = {}", u8::from(no_emails)));
}

fn bufs(w: &mut String, o: &Other<'_>, prefix: &str) {
    let size: u32 = o.num(&format!("{prefix}_rcv_bufs")).unwrap_or(0);
    line(w, format!("{prefix}_rcv_bufs = {size}"));
    let force = o.flag(&format!("{prefix}_rcv_bufs_force")).unwrap_or(false);
    line(w, format!("{prefix}_rcv_bufs_force = {}", u8::from(force)));
}

/// The receive buffers, the umask and the last VRRP settings.
fn tail(w: &mut String, o: &Other<'_>, p: &crate::convert::process::Process) {
    match o.arg("vrrp_rx_bufs_policy") {
        Some(a) if a.eq_ignore_ascii_case("MTU") => line(w, "rx_bufs_policy = MTU".into()),
        Some(a) if a.eq_ignore_ascii_case("ADVERT") => line(w, "rx_bufs_policy = ADVERT".into()),
        Some(a) => {
            if let Ok(n) = a.parse::<usize>() {
                line(w, format!("rx_bufs_size = {n}"));
            }
        }
        None => {}
    }
    let multiples: u32 = o.num("vrrp_rx_bufs_multiplier").unwrap_or(3);
    line(w, format!("rx_bufs_multiples = {multiples}"));
    line(w, format!("umask = 0{:o}", p.umask.unwrap_or(0o177)));
    if let Some(d) = o
        .arg("vrrp_startup_delay")
        .and_then(|a| a.parse::<f64>().ok())
    {
        if d > 0.0 {
            line(w, format!("vrrp_startup_delay = {d}"));
        }
    }
    if o.has("log_unknown_vrids") {
        line(w, "log_unknown_vrids".into());
    }
    if let Some(p) = o.arg("vmac_prefix") {
        line(w, format!("VMAC prefix = {p}"));
    }
    if let Some(p) = o.arg("vmac_addr_prefix") {
        line(w, format!("VMAC address prefix = {p}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dump::FixedHost;

    fn dump(conf: &str, host: &dyn Host, half: Half) -> String {
        let parsed = crate::parse_str("t.conf", conf, &crate::Options::default());
        data(&parsed, host, half)
    }

    /// keepalived 2.2.7's global part without `global_defs` (its VRRP
    /// process's, as Debian's package writes it), with this host name.
    fn defaults(name: &str) -> String {
        format!(
            "------< Global definitions >------
 Network namespace = (default)
 Network namespace ipvs = (main namespace)
 Router ID = {name}
 Default smtp_alert = unset
 Default smtp_alert_vrrp = unset
 Default smtp_alert_checker = unset
 Checkers log all failures = false
 No test config before reload
 Dynamic interfaces = false
 Default interface = eth0
 Disable local IGMP = no
 LVS flush = false
 LVS flush on stop = disabled
{DEFAULT_VRRP}{DEFAULT_TAIL}"
        )
    }

    /// The VRRP settings of [`defaults`].
    const DEFAULT_VRRP: &str = " FIFO write vrrp states on reload = false
 VRRP notify priority changes = false
 VRRP IPv4 mcast group = 224.0.0.18
 VRRP IPv6 mcast group = ff02::12
 Gratuitous ARP delay = 5
 Gratuitous ARP repeat = 5
 Gratuitous ARP refresh timer = 0
 Gratuitous ARP refresh repeat = 1
 Gratuitous ARP lower priority delay = 5
 Gratuitous ARP lower priority repeat = 5
 Num adverts before down = 3
 Gratuitous ARP for each secondary VMAC = 0s
 Send advert after receive lower priority advert = true
 Send advert after receive higher priority advert = false
 Gratuitous ARP interval = 0.000000
 Gratuitous NA interval = 0.000000
 VRRP default protocol version = 2
 nftables without counters
 libnftnl version 1.2.3
 VRRP check unicast_src = false
 VRRP skip check advert addresses = false
 VRRP strict mode = false
";

    /// What follows the VRRP settings in [`defaults`].
    const DEFAULT_TAIL: &str = " Max auto priority = 0
 Min auto priority delay = 1000000 usecs
 VRRP process priority = 0
 VRRP don't swap = false
 VRRP realtime priority = 0
 VRRP realtime limit = 10000
 Checker process priority = 0
 Checker don't swap = false
 Checker realtime priority = 0
 Checker realtime limit = 10000
 BFD process priority = 0
 BFD don't swap = false
 BFD realtime priority = 0
 BFD realtime limit = 10000
 SNMP vrrp disabled
 SNMP checker disabled
 SNMP RFCv2 disabled
 SNMP RFCv3 disabled
 SNMP traps disabled
 SNMP socket = default (unix:/var/agentx/master)
 DBus disabled
 DBus service name = 
 Script security disabled
 Default script uid:gid 7:8
 vrrp_netlink_cmd_rcv_bufs = 0
 vrrp_netlink_cmd_rcv_bufs_force = 0
 vrrp_netlink_monitor_rcv_bufs = 0
 vrrp_netlink_monitor_rcv_bufs_force = 0
 process_monitor_rcv_bufs = 0
 process_monitor_rcv_bufs_force = 0
 lvs_netlink_cmd_rcv_bufs = 0
 lvs_netlink_cmd_rcv_bufs_force = 0
 lvs_netlink_monitor_rcv_bufs = 0
 lvs_netlink_monitor_rcv_bufs_force = 0
 rs_init_notifies = 0
 no_checker_emails = 0
 rx_bufs_multiples = 3
 umask = 0177
";

    const HOST: FixedHost = FixedHost { ids: (7, 8) };

    /// A host with a name and a user.
    struct Named;

    impl Host for Named {
        fn ids(&self) -> (u32, u32) {
            (0, 0)
        }
        fn user_ids(&self, user: &[String]) -> Option<(u32, u32)> {
            (user.first()?.as_str() == "nobody").then_some((65534, 65534))
        }
        fn command(&self, words: &[String]) -> String {
            HOST.command(words)
        }
        fn local_name(&self) -> Option<String> {
            Some("vm".into())
        }
        fn user_name(&self) -> Option<String> {
            Some("root".into())
        }
    }

    #[test]
    fn without_global_defs_every_line_is_keepalived_s_default() {
        let conf = "vrrp_instance V {\n  interface eth0\n  virtual_router_id 1\n}\n";
        assert_eq!(dump(conf, &HOST, Half::Vrrp), defaults("[unknown]"));
    }

    #[test]
    fn the_checker_half_has_no_default_interface_nor_resolved_lower_garp() {
        let vrrp = defaults("lb");
        let want = (vrrp.replace(" Default interface = eth0\n", ""))
            .replace("priority delay = 5\n", "priority delay = 4294967295\n")
            .replace("priority repeat = 5\n", "priority repeat = 4294967295\n");
        let conf = "global_defs {\n  router_id lb\n}\n";
        assert_eq!(dump(conf, &HOST, Half::Checker), want);
    }

    #[test]
    fn the_default_interface_is_named_once_a_static_address_needs_it() {
        let globals = "global_defs {\n  default_interface kl1\n}\n";
        let text = dump(globals, &HOST, Half::Vrrp);
        assert!(text.contains(" Default interface = eth0\n"), "{text}");
        let statics = format!("{globals}static_ipaddress {{\n  10.0.0.5/32\n}}\n");
        let text = dump(&statics, &HOST, Half::Vrrp);
        assert!(text.contains(" Default interface = kl1\n"), "{text}");
    }

    #[test]
    fn the_namespace_and_instance_are_named() {
        let conf = "net_namespace blue\ninstance one\n";
        let text = dump(conf, &HOST, Half::Vrrp);
        let want = "------< Global definitions >------
 Network namespace = blue
 Network namespace ipvs = (main namespace)
 Instance name = one
 Router ID = [unknown]
";
        assert!(text.starts_with(want), "{text}");
    }

    #[test]
    fn mail_settings_default_to_the_host_s_names() {
        let conf = "global_defs {
  notification_email {
    a@example.org
    b@example.org
  }
  smtp_server 10.0.0.9
  script_user nobody
  notify_fifo /run/f
  notify_fifo_script \"/bin/x y\"
  lvs_timeouts udp 60 tcp 900
}
";
        let text = dump(conf, &Named, Half::Vrrp);
        let want = " Router ID = vm
 Smtp server = 10.0.0.9
 Smtp server port = 25
 Smtp HELO name = vm
 Smtp server connection timeout = 30
 Email notification from = root@vm
 Email notification to:
   a@example.org
   b@example.org
 Default smtp_alert = unset
";
        assert!(text.contains(want), "{text}");
        let lvs = " LVS TCP timeout = 900\n LVS TCP timeout = 60\n Default interface";
        assert!(text.contains(lvs), "{text}");
        let fifo = " Global notify fifo = /run/f, uid:gid 65534:65534
 Global notify fifo script = '/bin/x' 'y' '/run/f', uid:gid 65534:65534
";
        assert!(text.contains(fifo), "{text}");
        assert!(
            text.contains(" Default script uid:gid 65534:65534\n"),
            "{text}"
        );
    }
}
