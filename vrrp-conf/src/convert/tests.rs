#![allow(clippy::unwrap_used)] // tests: a panic is a failed test

use super::*;
use crate::{parse_str, Options};

/// Every conversion diagnostic of `text`, rendered.
fn rendered(text: &str, halves: Halves) -> (Vec<String>, Converted) {
    let parsed = parse_str("k.conf", text, &Options::default());
    // keepalived's configuration errors (it runs past them) aside.
    let stops = parsed.diagnostics.iter().any(Diagnostic::stops_start);
    assert!(!stops, "{:?}", parsed.diagnostics);
    let out = convert(&parsed, halves);
    let d = out
        .diagnostics
        .iter()
        .map(|d| d.display(&parsed.sources).to_string())
        .collect();
    (d, out)
}

const BOTH: Halves = Halves {
    vrrp: true,
    lvs: true,
};

const INSTANCE: &str = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n";
const VIPS: &str = "  virtual_ipaddress {\n    192.0.2.1\n  }\n}\n";

#[test]
fn keywords_that_reach_no_code_are_refused_by_name_at_their_line() {
    let text = format!(
        "global_defs {{\n  router_id r1\n  vrrp_strict\n  script_user nobody\n  \
         vrrp_cpu_affinity 1\n  notify_fifo /tmp/f\n}}\n{INSTANCE}  accept\n  smtp_alert\n  \
         track_file {{\n    f\n  }}\n  kernel_rx_buf_size 4096\n{VIPS}"
    );
    let (d, out) = rendered(&text, BOTH);
    assert_eq!(
        d,
        [
            "k.conf:5:3: warning: vrrp_cpu_affinity is accepted without effect: a tuning keyword",
            "k.conf:11:3: error: (VI_1) warning - accept mode for VRRP version 2 does not \
             comply with RFC3768 - resetting",
            // track_file is read; it names no track_file block.
            "k.conf:13:3: error: (VI_1) unknown track_file f",
            "k.conf:16:3: warning: kernel_rx_buf_size is accepted without effect: a tuning keyword",
        ]
    );
    assert!(out.is_refused());
    assert!(out.vrrp.is_none() && out.lvs.is_none());
}

#[test]
fn a_clean_configuration_converts_with_keepalived_defaults() {
    let text = format!(
        "{INSTANCE}  state MASTER\n  unicast_ttl 9\n  check_unicast_src\n  lower_prio_no_advert\n  \
         unicast_src_ip 10.0.0.1\n  unicast_peer {{\n    10.0.0.2 min_ttl 250 max_ttl 255\n  }}\n{VIPS}"
    );
    let (d, out) = rendered(&text, Halves::keepalived(&Config::default(), true, false));
    assert_eq!(d, Vec::<String>::new());
    let plan = out.vrrp.unwrap();
    let c = &plan.units[0].setup.routers[0].config;
    // keepalived 2.2.7: `state MASTER` without a priority is the owner.
    assert_eq!((c.priority, c.advert_interval_secs), (255, 1));
    assert!(c.initial_master && c.check_unicast_src && c.preempt);
    assert_eq!(c.unicast_ttl, 9);
    assert_eq!(
        c.lower_priority_advert,
        ::vrrp::config::LowerPriorityAdvert::Discard
    );
    assert_eq!(
        c.unicast_peer_ttl,
        [::vrrp::config::PeerTtl {
            peer: "10.0.0.2".parse().unwrap(),
            min_ttl: 250,
            max_ttl: 255
        }]
    );
    assert!(out.lvs.is_none(), "-P converts VRRP only");
}

#[test]
fn checker_refusals_point_at_the_keyword() {
    let text =
        "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 192.168.1.10 80 {\n    \
                weight 1\n    BFD_CHECK {\n    }\n  }\n  real_server 192.168.1.11 80 {\n    \
                HTTP_GET {\n      url {\n        path /\n        regex_options alt_bsux\n      }\n    }\n  }\n}\n\
                virtual_server 10.0.0.2 80 {\n  protocol TCP\n  hashed\n}\n";
    let (d, out) = rendered(text, BOTH);
    assert_eq!(
        d,
        [
            "k.conf:5:5: error: virtual_server [10.0.0.1]:tcp:80: 'real_server \
             [192.168.1.10]:tcp:80 BFD_CHECK' is not supported by keepalived-lite's checker",
            "k.conf:19:3: error: virtual_server [10.0.0.2]:tcp:80: 'hashed without \
             lvs_sched sh' is not supported by keepalived-lite's checker",
        ]
    );
    assert!(out.lvs.is_none());
}

#[test]
fn a_url_keyword_is_refused_at_its_line() {
    let text =
        "virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 192.168.1.11 80 {\n    \
                HTTP_GET {\n      url {\n        path /\n        regex x\n        \
                regex_options dupnames\n      }\n    }\n  }\n}\n";
    let (d, _) = rendered(text, BOTH);
    assert_eq!(
        d,
        [
            "k.conf:8:9: error: virtual_server [10.0.0.1]:tcp:80: 'real_server \
          [192.168.1.11]:tcp:80 HTTP_GET url regex_options dupnames' is not supported by \
          keepalived-lite's checker"
        ]
    );
}

#[test]
fn halves_follow_keepalived() {
    let parsed = parse_str(
        "k.conf",
        "virtual_server 10.0.0.1 80 {\n}\n",
        &Options::default(),
    );
    let c = &parsed.config;
    assert_eq!(
        Halves::keepalived(c, false, false),
        Halves {
            vrrp: false,
            lvs: true
        }
    );
    assert_eq!(
        Halves::keepalived(c, true, false),
        Halves {
            vrrp: true,
            lvs: false
        }
    );
    assert_eq!(
        Halves::keepalived(&Config::default(), false, false),
        Halves {
            vrrp: true,
            lvs: false
        }
    );
}

#[test]
fn every_refused_keyword_of_an_instance_is_reported_once() {
    let text = format!(
        "{INSTANCE}  virtual_rules {{\n    from 10.0.0.0/8 table 1 priority 5\n  }}\n  \
         use_vmac\n  use_ipvlan 10.0.0.5/24\n{VIPS}"
    );
    let (d, _) = rendered(&text, BOTH);
    assert_eq!(
        d,
        ["k.conf:8:3: error: (VI_1) use_ipvlan with use_vmac is not supported by keepalived-lite",]
    );
}

#[test]
fn notify_variants_reach_the_plan() {
    let instance = |name: &str, vrid: u8, extra: &str| {
        format!(
            "vrrp_instance {name} {{\n  interface eth0\n  virtual_router_id {vrid}\n{extra}  \
             virtual_ipaddress {{\n    192.0.2.{vrid}\n  }}\n}}\n"
        )
    };
    let text = [
        "global_defs {\n  vrrp_notify_priority_changes\n  script_user root\n  \
         enable_script_security\n}\n"
            .to_owned(),
        "vrrp_sync_group G {\n  group {\n    VI_3\n  }\n  notify_priority_changes false\n}\n"
            .to_owned(),
        instance(
            "VI_1",
            1,
            "  notify_deleted\n  notify_master_rx_lower_pri \"/bin/echo low\"\n  \
             notify_priority_changes off\n",
        ),
        instance("VI_2", 2, "  notify_deleted /bin/true\n"),
        instance("VI_3", 3, ""),
    ]
    .concat();
    let (d, out) = rendered(&text, BOTH);
    assert_eq!(d, Vec::<String>::new());
    let plan = out.vrrp.unwrap();
    let find = |name: &str| {
        let all = plan.units.iter().flat_map(|u| u.instances.iter());
        all.clone().find(|i| i.name == name).unwrap().clone()
    };
    let (one, two, three) = (find("VI_1"), find("VI_2"), find("VI_3"));
    // Bare: the state word only; with a script: the script (its user
    // resolved after it).
    assert_eq!(one.notify.deleted, Some(Vec::new()));
    let root = |w: &str| Some(vec![w.to_owned(), "root".to_owned()]);
    assert_eq!(two.notify.deleted, root("/bin/true"));
    assert_eq!(one.notify.master_rx_lower_pri, root("/bin/echo low"));
    // Own setting, else the group's, else the global one.
    assert_eq!(
        [
            one.priority_changes,
            two.priority_changes,
            three.priority_changes
        ],
        [false, true, false]
    );
    let bad = instance("VI_1", 1, "  notify_priority_changes maybe\n");
    let (d, _) = rendered(&bad, BOTH);
    assert_eq!(
        d,
        ["k.conf:1:1: error: (VI_1) notify_priority_changes \"maybe\" is not supported by keepalived-lite"]
    );
}

#[test]
fn track_file_and_track_process_lists_take_their_blocks_defaults() {
    let text = "track_file tf {\n  file /run/tf\n}\nvrrp_track_file unused {\n  file /run/u\n}\n\
         vrrp_track_process tp {\n  process sleep\n  weight -20\n}\n\
         vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  priority 100\n  \
         track_file {\n    tf weight 10 reverse\n  }\n  track_process {\n    tp\n  }\n\
         virtual_ipaddress {\n    192.0.2.1\n  }\n}\n\
         vrrp_instance VI_2 {\n  interface eth0\n  virtual_router_id 2\n  track_file {\n    tf\n  }\n\
         virtual_ipaddress {\n    192.0.2.2\n  }\n}\n";
    let (d, out) = rendered(text, BOTH);
    assert_eq!(d, Vec::<String>::new());
    let plan = out.vrrp.unwrap();
    let obj = |name: &str, weight, reverse| vrrp::TrackedObject {
        name: name.into(),
        weight,
        reverse,
    };
    let one = &plan.units[0].instances[0];
    assert_eq!(one.files, [obj("tf", 10, true)]);
    assert_eq!(one.processes, [obj("tp", -20, false)]);
    assert_eq!(plan.units[1].instances[0].files, [obj("tf", 1, false)]);
    // Only the blocks some instance tracks are watched.
    let files: Vec<_> = plan.track_files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(files, ["tf"]);
    assert_eq!(plan.track_processes[0].spec.process, "sleep");
}

#[test]
fn track_file_refusals_follow_keepalived() {
    let blocks =
        "track_file tf {\n  file /run/tf\n}\nvrrp_track_process tp {\n  process a\n  delay 0\n}\n";
    let text = format!(
        "{blocks}vrrp_sync_group G {{\n  group {{\n    VI_1\n  }}\n}}\n{INSTANCE}  track_file {{\n    \
         tf\n  }}\n{VIPS}"
    );
    let (d, out) = rendered(&text, BOTH);
    assert_eq!(
        d,
        [
            "k.conf:6:3: error: (tp) delay must be between [0.000001..3600] inclusive",
            "k.conf:16:3: error: (VI_1) ignoring weight from tracked file due to SYNC group or \
             address owner; specify weight 0",
        ]
    );
    assert!(out.is_refused());
}

#[test]
fn an_instance_sync_daemon_interface_runs_where_keepalived_runs_it() {
    let syncd = "  lvs_sync_daemon_interface eth1\n";
    let text = format!("{INSTANCE}{syncd}{VIPS}");
    let (d, out) = rendered(&text, BOTH);
    assert!(d.is_empty(), "{d:?}");
    let sync = out.lvs.unwrap().sync_daemon.unwrap();
    assert_eq!(
        (sync.daemon.ifname.as_str(), sync.daemon.sync_id),
        ("eth1", 0)
    );
    assert_eq!(sync.instance.as_deref(), Some("VI_1"));
    let refused = |halves, line: &str| {
        let (d, out) = rendered(&text, halves);
        assert_eq!(
            d,
            [format!(
                "k.conf:4:3: error: {line} is not supported by keepalived-lite"
            )]
        );
        assert!(out.is_refused());
    };
    let (vrrp, lvs) = (
        Halves {
            vrrp: true,
            lvs: false,
        },
        Halves {
            vrrp: false,
            lvs: true,
        },
    );
    refused(
        vrrp,
        "(VI_1: without virtual servers or with -P) lvs_sync_daemon_interface",
    );
    refused(
        lvs,
        "(VI_1: with -C: keepalived runs it from the VRRP process) lvs_sync_daemon_interface",
    );
    // A second sync daemon: keepalived keeps the first and reports an error.
    let second = format!("{INSTANCE}{syncd}{VIPS}")
        .replace("VI_1", "VI_2")
        .replace("id 1", "id 2");
    let (d, _) = rendered(&format!("{text}{second}"), BOTH);
    assert_eq!(
        d,
        ["k.conf:12:3: error: (VI_2) lvs_sync_daemon_interface with a second sync daemon is not \
          supported by keepalived-lite"]
    );
    let global = format!("global_defs {{\n  lvs_sync_daemon eth2\n}}\n{text}");
    let (d, _) = rendered(&global, BOTH);
    assert_eq!(d.len(), 1, "{d:?}");
    assert!(d[0].contains("k.conf:7:3: error: (VI_1) lvs_sync_daemon_interface with a second"));
}

#[test]
fn a_sync_daemon_without_the_checker_is_refused() {
    let text = format!("global_defs {{\n  lvs_sync_daemon eth0 VI_1\n}}\n{INSTANCE}{VIPS}");
    let vrrp_only = Halves {
        vrrp: true,
        lvs: false,
    };
    let (d, out) = rendered(&text, vrrp_only);
    assert_eq!(
        d,
        [
            "k.conf:2:3: error: (without virtual servers or with -P) lvs_sync_daemon is not \
          supported by keepalived-lite"
        ]
    );
    assert!(out.is_refused());
    // With the checker, the sync daemon runs there.
    let (d, _) = rendered(&text, BOTH);
    assert!(d.is_empty(), "{d:?}");
}

#[test]
fn strict_mode_resets_explicit_lower_priority_garps_with_keepalived_words() {
    let text = format!(
        "{INSTANCE}  strict_mode\n  garp_lower_prio_repeat 2\n  garp_lower_prio_delay 0\n{VIPS}"
    );
    let (d, out) = rendered(&text, BOTH);
    let garp: Vec<&String> = d.iter().filter(|l| l.contains("garp")).collect();
    assert_eq!(
        garp,
        ["k.conf:5:3: error: (VI_1) Strict mode requires no repeat garps. resetting"]
    );
    let plan = out.vrrp.unwrap();
    let garp = plan.units[0].setup.routers[0].config.garp;
    assert_eq!(garp.lower_prio_repeat, 0);
}

/// The checker writes to `notify_fifo` and `lvs_notify_fifo` (keepalived
/// 2.2.7 `ipwrapper.c` `notify_fifo_vs`, `notify_fifo_rs`).
#[test]
fn the_checker_s_notify_fifos() {
    let text = "global_defs {\n  notify_fifo /run/all.fifo\n  lvs_notify_fifo /run/lvs.fifo\n  \
                lvs_notify_fifo_script /bin/cat\n}\n\
                virtual_server 10.0.0.1 80 {\n  protocol TCP\n  real_server 10.1.0.1 80 {\n  }\n}\n";
    let lvs_only = Halves {
        vrrp: false,
        lvs: true,
    };
    let (d, out) = rendered(text, lvs_only);
    assert!(out.refusals().next().is_none(), "{d:?}");
    let path = |f: &Option<scripts::Fifo>| f.as_ref().map(|f| f.path.clone());
    assert_eq!(path(&out.fifos.notify).as_deref(), Some("/run/all.fifo"));
    assert_eq!(path(&out.fifos.lvs).as_deref(), Some("/run/lvs.fifo"));
    assert_eq!(out.fifos.vrrp, None);
    let script = out
        .fifos
        .lvs
        .as_ref()
        .and_then(|f| f.script.clone())
        .unwrap();
    assert_eq!(script.first().map(String::as_str), Some("/bin/cat"));
    // The VRRP half alone leaves lvs_notify_fifo to the checker.
    let vrrp_only = Halves {
        vrrp: true,
        lvs: false,
    };
    let (_, out) = rendered(text, vrrp_only);
    assert_eq!(out.fifos.lvs, None);
}

/// keepalived 2.2.7 `-t` (measured): a repeated tracked file or process,
/// and an unknown process, are its configuration errors; it runs on with
/// the first of each (an unknown file makes it crash, and is refused).
#[test]
fn repeated_tracked_files_and_processes_are_keepalived_s_errors() {
    let text = format!(
        "track_file a {{\n  file /run/a\n}}\nvrrp_track_process p {{\n  process sleep\n}}\n\
         {INSTANCE}  track_file {{\n    a\n    a weight 2\n  }}\n  \
         track_process {{\n    p\n    p\n    q\n  }}\n{VIPS}"
    );
    let (d, out) = rendered(&text, Halves::keepalived(&Config::default(), true, false));
    assert_eq!(
        d,
        [
            "k.conf:12:5: error: (VI_1) duplicate track_file a - ignoring",
            "k.conf:16:5: error: (VI_1) duplicate track_process p - ignoring",
            "k.conf:17:5: error: (VI_1) track process q not found, ignoring...",
        ]
    );
    let plan = out.vrrp.unwrap();
    let i = &plan.units[0].instances[0];
    let names = |v: &[vrrp::TrackedObject]| {
        v.iter()
            .map(|t| (t.name.clone(), t.weight))
            .collect::<Vec<_>>()
    };
    assert_eq!(names(&i.files), [("a".to_owned(), 1)]);
    assert_eq!(names(&i.processes), [("p".to_owned(), 0)]);
}
