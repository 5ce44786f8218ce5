//! keepalived's dumps against keepalived 2.2.7 (needs root and Debian's
//! keepalived): the same configuration runs under keepalived in one
//! namespace and keepalived-lite in another, each with its own `$TMPDIR`;
//! both get keepalived's JSON, DATA and STATS signals.
//!
//! The JSON has the same field names, and the same values for the state,
//! the priorities, the VIPs, the scripts and tracking; every line of
//! keepalived-lite's VRRP topology dump is in keepalived's; the stats
//! files have the same lines but for the counts; the DATA dumps'
//! "Global definitions" parts are equal, line for line, without and with
//! `global_defs` settings.
#![allow(clippy::unwrap_used, reason = "tests")]

mod lab_kl0;

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use keepalived_lite::netns::{require_program, require_root, Netns};
use lab_kl0::{kl0_namespace, wait_exit, wait_for};
use serde_json::Value;
use test_support::process::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-lite");

/// A `vrrp_instance` on kl0 with `settings` (one per line) and its
/// virtual addresses.
fn instance(name: &str, settings: &[&str], vips: &[&str]) -> String {
    let line = |s: &&str| format!("    {s}\n");
    let settings: String = ["interface kl0"].iter().chain(settings).map(line).collect();
    let vips: String = vips.iter().map(|v| format!("        {v}\n")).collect();
    format!("vrrp_instance {name} {{\n{settings}    virtual_ipaddress {{\n{vips}    }}\n}}\n")
}

/// Two instances with scripts, tracking and authentication.
fn conf() -> String {
    let vi_1 = [
        "state MASTER",
        "virtual_router_id 51",
        "priority 150",
        "advert_int 1",
        "authentication {\n        auth_type PASS\n        auth_pass secret\n    }",
        "track_interface {\n        kl1\n    }",
        "track_script {\n        chk\n    }",
        "notify_master \"/bin/true master\"",
    ];
    let vi_2 = [
        "state BACKUP",
        "virtual_router_id 52",
        "priority 100",
        "advert_int 2",
        "nopreempt",
    ];
    let vips = ["10.231.0.100/32", "10.231.0.101/24 dev kl0"];
    format!(
        "vrrp_script chk {{\n    script \"/bin/true\"\n    interval 1\n}}\n{}{}",
        instance("VI_1", &vi_1, &vips),
        instance("VI_2", &vi_2, &["10.231.0.102"])
    )
}

/// One daemon in its namespace, with its own temporary directory.
struct Daemon {
    /// Deleted after the daemon has stopped (fields drop after `drop`).
    _ns: Netns,
    dir: TempDir,
    child: Child,
    /// The pid keepalived's signals go to.
    pid: u32,
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
        wait_exit(&mut self.child);
        let _ = self.child.kill();
    }
}

fn start(tag: &str, program: &str) -> Daemon {
    start_with(tag, program, &conf())
}

fn start_with(tag: &str, program: &str, text: &str) -> Daemon {
    start_in(kl0_namespace(tag), tag, program, text)
}

/// Starts `program` with configuration `text` in `ns`.
fn start_in(ns: Netns, tag: &str, program: &str, text: &str) -> Daemon {
    let dir = TempDir::new(tag);
    let conf = dir.path("keepalived.conf");
    std::fs::write(&conf, text).unwrap();
    let (p, r) = (dir.path("k.pid"), dir.path("v.pid"));
    let s = |p: &PathBuf| p.to_str().unwrap().to_owned();
    let child = ns
        .command(program)
        .args([
            "-P",
            "-n",
            "-l",
            "-f",
            &s(&conf),
            "-p",
            &s(&p),
            "-r",
            &s(&r),
        ])
        .env("TMPDIR", &dir.0)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(dir.path("log")).unwrap())
        .stderr(std::fs::File::create(dir.path("err")).unwrap())
        .spawn()
        .unwrap();
    let pid = wait_for(&format!("{tag} pid file"), || {
        std::fs::read_to_string(&p).ok()?.trim().parse().ok()
    });
    Daemon {
        _ns: ns,
        dir,
        child,
        pid,
    }
}

impl Daemon {
    /// Sends keepalived's signal for `function` and reads `file` once
    /// rewritten.
    fn dump(&self, function: &str, file: &str) -> String {
        let path = self.dir.path(file);
        let _ = std::fs::remove_file(&path);
        let n = keepalived_lite::cli::signum(function).unwrap();
        let sent = Command::new("kill")
            .args([&format!("-{n}"), &self.pid.to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        wait_for(file, || {
            let text = std::fs::read_to_string(&path).ok()?;
            // Written whole: the JSON parses, the text ends a line.
            let whole = text.ends_with('\n') || serde_json::from_str::<Value>(&text).is_ok();
            (!text.is_empty() && whole).then_some(text)
        })
    }

    /// The JSON dump once every instance is master.
    fn json_all_master(&self) -> Vec<Value> {
        wait_for("both instances master", || {
            let v: Value = serde_json::from_str(&self.dump("JSON", "keepalived.json")).ok()?;
            let list = v.as_array()?.clone();
            let masters = list.iter().filter(|i| i["data"]["state"] == 2).count();
            (list.len() == 2 && masters == 2).then_some(list)
        })
    }
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
    k.sort();
    k
}

fn topology(data: &str) -> Vec<String> {
    let start = data.find("------< VRRP Topology >------").unwrap();
    let rest = &data[start..];
    let end = rest[1..].find("------<").map_or(rest.len(), |e| e + 1);
    rest[..end].lines().map(str::to_owned).collect()
}

/// The "Global definitions" part of a DATA dump: nothing in it differs
/// between two daemons of one host (no pid, no time).
fn global_part(data: &str) -> Vec<String> {
    let start = data.find("------< Global definitions >------").unwrap();
    let rest = &data[start..];
    let end = rest[1..].find("------<").map_or(rest.len(), |e| e + 1);
    rest[..end].lines().map(str::to_owned).collect()
}

/// `global_defs` settings whose dump lines differ from the defaults.
/// Not `vrrp_rt_priority`: keepalived's VRRP process then runs realtime
/// and says so (`current realtime priority`), keepalived-lite takes it
/// without effect. Not `reload_check_config` with the FIFOs: keepalived
/// 2.2.7's VRRP process then stops at start (CONFIG).
const GLOBALS: [&str; 3] = [
    "    router_id lb-one
    notification_email {
        ops@example.org
        noc@example.org
    }
    notification_email_from kad@example.org
    smtp_server 10.231.0.9 2525
    smtp_connect_timeout 12
    smtp_helo_name helo.example.org
    smtp_alert
    smtp_alert_vrrp off
    no_email_faults
    vrrp_garp_master_delay 3
    vrrp_garp_master_repeat 2
    vrrp_garp_master_refresh 60
    vrrp_garp_master_refresh_repeat 4
    vrrp_garp_lower_prio_delay 7
    vrrp_garp_lower_prio_repeat 8
    vrrp_down_timer_adverts 5
    vrrp_lower_prio_no_advert
    vrrp_higher_prio_send_advert
    vrrp_check_unicast_src
    vrrp_skip_check_adv_addr
    vrrp_version 3
    vrrp_mcast_group4 224.0.0.19
    vrrp_mcast_group6 ff02::13
    vrrp_notify_priority_changes
    fifo_write_vrrp_states_on_reload
    script_user nobody nogroup
    enable_script_security
    lvs_timeouts tcp 900 tcpfin 30 udp 60
    lvs_flush
    lvs_flush_onstop
    checker_log_all_failures
    no_checker_emails
    disable_local_igmp
    dynamic_interfaces
    umask 0022
    log_unknown_vrids
    vmac_prefix vx
    vmac_addr_prefix vy
    vrrp_garp_extra_if 10 all
",
    "    notification_email {
        a@example.org
    }
    smtp_server 10.231.0.9
    smtp_alert_checker on
    process_name kad
    vrrp_process_name kad_v
    checker_process_name kad_c
    vrrp_priority -5
    vrrp_no_swap
    checker_rt_priority 20
    vrrp_rlimit_rttime 5000
    checker_priority 3
    checker_rlimit_rttime 7000
    max_auto_priority 50
    min_auto_priority_delay 2000
    vrrp_netlink_cmd_rcv_bufs 1048576
    vrrp_netlink_cmd_rcv_bufs_force
    lvs_netlink_monitor_rcv_bufs 65536
    vrrp_rx_bufs_policy MTU
    vrrp_rx_bufs_multiplier 4
    notify_fifo /tmp/kl-dumpglob-fifo1
    notify_fifo_script \"/bin/true fifo\"
    vrrp_notify_fifo /tmp/kl-dumpglob-fifo2 nobody
",
    // Shown once a static address without `dev` needs it.
    "    default_interface kl1
",
];

/// The settings of a lone master.
const ONE_MASTER: [&str; 3] = ["state MASTER", "virtual_router_id 51", "priority 150"];

#[test]
fn root_global_definitions_match_keepalived_2_2_7() {
    require_root();
    require_program("keepalived", &["--version"]);
    let instance = instance("VI_1", &ONE_MASTER, &["10.231.0.100/32"]);
    for (n, globals) in GLOBALS.iter().enumerate() {
        let statics = if globals.contains("default_interface") {
            "static_ipaddress {\n    10.231.0.50/32\n}\n"
        } else {
            ""
        };
        let conf = format!("global_defs {{\n{globals}}}\n{statics}{instance}");
        let theirs = start_with(&format!("gk{n}"), "keepalived", &conf);
        let ours = start_with(&format!("gl{n}"), BIN, &conf);
        let (kd, ld) = (
            theirs.dump("DATA", "keepalived.data"),
            ours.dump("DATA", "keepalived.data"),
        );
        let (kg, lg) = (global_part(&kd), global_part(&ld));
        assert_eq!(lg, kg, "global_defs {n}");
        assert!(kg.iter().any(|l| l.starts_with(" Router ID = ")), "{kg:#?}");
    }
}

/// Static addresses, routes and rules with their options (the renderer's
/// own test expects keepalived's lines for them).
const STATICS: &str = include_str!("../../vrrp-conf/src/dump/testdata/statics.conf");

/// GARP delay groups: configured, numbered by an `interfaces` block, and
/// keepalived's own for the interfaces of instances under a global
/// spacing.
const GARP_GROUPS: &str = "global_defs {
    vrrp_garp_interval 0.1
}
garp_group {
    garp_interval 0.5
    gna_interval 1
    interface kl1
}
garp_group {
    gna_interval 0
    interfaces {
        kl3
        kl2
    }
}
";

/// The DATA dump's sections between the global part and the VRRP
/// topology.
fn before_topology(data: &str) -> Vec<String> {
    let start = data.find("------< Gratuitous ARP delays >------").unwrap();
    let end = data.find("------< VRRP Topology >------").unwrap();
    data[start..end].lines().map(str::to_owned).collect()
}

#[test]
fn root_static_sections_and_garp_delays_match_keepalived_2_2_7() {
    require_root();
    require_program("keepalived", &["--version"]);
    let vips = ["10.231.0.100/32", "10.231.0.101/32 dev kl3"];
    let conf = format!(
        "{GARP_GROUPS}{STATICS}{}",
        instance("VI_1", &ONE_MASTER, &vips)
    );
    let daemon = |tag: &str, program: &str| {
        let ns = kl0_namespace(tag);
        ns.ip(&["link", "add", "kl2", "type", "veth", "peer", "name", "kl3"])
            .unwrap();
        for dev in ["kl2", "kl3"] {
            ns.ip(&["link", "set", dev, "up"]).unwrap();
        }
        start_in(ns, tag, program, &conf)
    };
    let (theirs, ours) = (daemon("sk", "keepalived"), daemon("sl", BIN));
    let (kd, ld) = (
        theirs.dump("DATA", "keepalived.data"),
        ours.dump("DATA", "keepalived.data"),
    );
    let (ks, ls) = (before_topology(&kd), before_topology(&ld));
    assert_eq!(ls, ks);
    for section in [
        "Static Addresses",
        "Static Routes",
        "Static Rules",
        "Static Track groups",
    ] {
        let heading = format!("------< {section} >------");
        assert!(ks.contains(&heading), "{heading}: {ks:#?}");
    }
    // Two configured groups, then keepalived's own for kl0 (kl3 has one).
    let groups = ks
        .iter()
        .filter(|l| l.starts_with("------< GARP delay group"));
    assert_eq!(groups.count(), 3, "{ks:#?}");
}

/// keepalived's JSON dump `a` and keepalived-lite's `b` have the same
/// fields, and the same values where nothing differs between two daemons.
fn assert_same_json(a: &[Value], b: &[Value]) {
    for (k, l) in a.iter().zip(b) {
        let name = &k["data"]["iname"];
        assert_eq!(&l["data"]["iname"], name);
        assert_eq!(keys(&k["data"]), keys(&l["data"]), "{name}: data fields");
        assert_eq!(keys(&k["stats"]), keys(&l["stats"]), "{name}: stats fields");
        for field in [
            "state",
            "wantstate",
            "base_priority",
            "effective_priority",
            "vrid",
            "vips",
            "vipset",
            "ifp_ifname",
            "vmac_ifname",
            "nopreempt",
            "accept",
            "version",
            "auth_type",
            "auth_data",
            "garp_rep",
            "garp_refresh",
            "script_master",
            "track_ifp",
            "track_script",
        ] {
            assert_eq!(k["data"][field], l["data"][field], "{name}: {field}");
        }
        for field in ["adver_int", "master_adver_int", "garp_delay"] {
            assert_eq!(
                k["data"][field].as_f64(),
                l["data"][field].as_f64(),
                "{name}: {field}"
            );
        }
        assert_eq!(
            k["stats"]["become_master"], l["stats"]["become_master"],
            "{name}"
        );
    }
}

#[test]
fn root_dumps_match_keepalived_2_2_7() {
    require_root();
    require_program("keepalived", &["--version"]);
    let theirs = start("dk", "keepalived");
    let ours = start("dl", BIN);
    let (a, b) = (theirs.json_all_master(), ours.json_all_master());
    assert_same_json(&a, &b);
    assert_eq!(
        a[0]["data"]["vips"],
        serde_json::json!([
            "10.231.0.100 dev kl0 scope global set",
            "10.231.0.101/24 dev kl0 scope global set"
        ])
    );

    let (kd, ld) = (
        theirs.dump("DATA", "keepalived.data"),
        ours.dump("DATA", "keepalived.data"),
    );
    assert_eq!(global_part(&ld), global_part(&kd));
    let kd = topology(&kd);
    for line in topology(&ld) {
        if line.trim_start().starts_with("Last transition") {
            continue;
        }
        assert!(
            kd.contains(&line),
            "not in keepalived's data dump: {line:?}\n{kd:#?}"
        );
    }

    let without_counts = |s: &str| -> Vec<String> {
        s.lines()
            .map(|l| l.trim_end_matches(|c: char| c.is_ascii_digit()).to_owned())
            .collect()
    };
    let (ks, ls) = (
        theirs.dump("STATS", "keepalived.stats"),
        ours.dump("STATS", "keepalived.stats"),
    );
    assert_eq!(without_counts(&ks), without_counts(&ls));
    assert!(ls.contains("  Became master: 1\n"), "{ls}");
}

#[test]
fn root_stats_clear_restarts_the_counts() {
    require_root();
    let ours = start("dc", BIN);
    ours.json_all_master();
    let sent = |stats: &str| -> u64 {
        let line = stats.lines().find(|l| l.starts_with("    Sent: ")).unwrap();
        line["    Sent: ".len()..].parse().unwrap()
    };
    let before = ours.dump("STATS_CLEAR", "keepalived.stats");
    assert!(sent(&before) >= 1, "{before}");
    assert!(before.contains("  Became master: 1\n"), "{before}");
    let after = ours.dump("STATS", "keepalived.stats");
    assert!(after.contains("  Became master: 0\n"), "{after}");
    let json = ours.dump("JSON", "keepalived.json");
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v[0]["stats"]["become_master"], 0);
    assert_eq!(v[0]["data"]["state"], 2);
    let mode = std::fs::metadata(ours.dir.path("keepalived.json")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o777,
        0o600
    );
}
