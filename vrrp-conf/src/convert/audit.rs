//! The keywords no conversion consumes: each is refused by name, unless it
//! is on the short list of tuning keywords accepted without effect.

use crate::diagnostics::{Code, Diagnostic};
use crate::model::Setting;
use crate::Parsed;

use super::{key_span, refuse, refuse_settings};

/// Pure tuning keywords, accepted without effect with a note: CPU
/// affinity, rlimits, scheduling priorities, swap locking, process names
/// and netlink or socket buffer sizes. They change how keepalived's own
/// processes are scheduled, never what is sent or installed. One concerns
/// keepalived's child processes, which keepalived-lite (one process) does
/// not have: `tmp_config_directory` (where the parent keeps the copy of
/// the configuration they read).
pub const TUNING: &[&str] = &[
    "bfd_cpu_affinity",
    "bfd_no_swap",
    "bfd_priority",
    "bfd_process_name",
    "bfd_rlimit_rtime",
    "bfd_rlimit_rttime",
    "bfd_rt_priority",
    "checker_cpu_affinity",
    "checker_no_swap",
    "checker_priority",
    "checker_process_name",
    "checker_rlimit_rtime",
    "checker_rlimit_rttime",
    "checker_rt_priority",
    "kernel_rx_buf_size",
    "lvs_netlink_cmd_rcv_bufs",
    "lvs_netlink_cmd_rcv_bufs_force",
    "lvs_netlink_monitor_rcv_bufs",
    "lvs_netlink_monitor_rcv_bufs_force",
    // checker_process_name's old name (keepalived 2.2.7 still reads it).
    "lvs_process_name",
    "max_auto_priority",
    "min_auto_priority_delay",
    "process_monitor_rcv_bufs",
    "process_monitor_rcv_bufs_force",
    "process_name",
    "process_names",
    "tmp_config_directory",
    "vrrp_cpu_affinity",
    "vrrp_netlink_cmd_rcv_bufs",
    "vrrp_netlink_cmd_rcv_bufs_force",
    "vrrp_netlink_monitor_rcv_bufs",
    "vrrp_netlink_monitor_rcv_bufs_force",
    "vrrp_no_swap",
    "vrrp_priority",
    "vrrp_process_name",
    "vrrp_rlimit_rtime",
    "vrrp_rlimit_rttime",
    "vrrp_rt_priority",
    "vrrp_rx_bufs_multiplier",
    "vrrp_rx_bufs_policy",
];

/// Top-level tuning keywords, accepted without effect with a note:
/// `child_wait_time`, how long keepalived's parent waits for its child
/// processes at stop before killing them (keepalived-lite is one process).
pub const ROOT_TUNING: &[&str] = &["child_wait_time"];

/// `global_defs` keywords (kept verbatim by the model) the checker's
/// conversion consumes (`lvs_timeouts`, `lvs_flush`, ...); the VRRP half
/// ignores them, as keepalived's VRRP process does.
const LVS_GLOBALS: [&str; 8] = [
    "checker_log_all_failures",
    "lvs_notify_fifo",
    "lvs_notify_fifo_script",
    "lvs_timeouts",
    "lvs_flush",
    "lvs_flush_onstop",
    "lvs_flush_on_stop",
    "lvs_sync_daemon",
];

/// `global_defs` keywords (kept verbatim by the model) that the VRRP
/// conversion or the [`mail`](super::mail) settings consume.
pub(crate) const GLOBAL_USED: &[&str] = &[
    "default_interface",
    "disable_local_igmp",
    "log_unknown_vrids",
    "vrrp_startup_delay",
    // What the VRRP driver always does: an instance whose interface is
    // missing runs in FAULT until the interface appears.
    "dynamic_interfaces",
    "nftables",
    "nftables_counters",
    "nftables_ifindex",
    "nftables_priority",
    "no_checker_emails",
    "no_email_faults",
    "notify_fifo",
    "notify_fifo_script",
    "smtp_alert",
    "smtp_alert_checker",
    "smtp_alert_vrrp",
    "smtp_helo_name",
    "vmac_addr_prefix",
    "vmac_prefix",
    "vrrp_check_unicast_src",
    "vrrp_down_timer_adverts",
    "vrrp_garp_extra_if",
    "vrrp_garp_interval",
    "vrrp_garp_lower_prio_delay",
    "vrrp_garp_lower_prio_repeat",
    "vrrp_gna_interval",
    "vrrp_higher_prio_send_advert",
    "vrrp_iptables",
    // Unknown to keepalived 2.2.7 as Debian builds it (no ipset support):
    // a configuration error it runs past ([`common`]).
    "vrrp_ipsets",
    "vrrp_lower_prio_no_advert",
    "vrrp_mcast_group6",
    "vrrp_min_garp",
    "vrrp_notify_fifo",
    "vrrp_notify_fifo_script",
    "vrrp_notify_priority_changes",
    "vrrp_vmac_garp_intvl",
];

/// `vrrp_instance` keywords (kept verbatim by the model) that the VRRP
/// conversion consumes.
pub(crate) const INSTANCE_USED: &[&str] = &[
    "accept",
    "check_unicast_src",
    "down_timer_adverts",
    "garp_extra_if",
    "garp_lower_prio_delay",
    "garp_lower_prio_repeat",
    "higher_prio_send_advert",
    "lower_prio_no_advert",
    "mcast_dst_ip",
    "native_ipv6",
    "no_accept",
    "notify_priority_changes",
    "old_unicast_checksum",
    "preempt",
    "promote_secondaries",
    "skip_check_adv_addr",
    "strict_mode",
    "track_file",
    "track_process",
    "track_src_ip",
    "unicast_fault_no_peer",
    "unicast_ttl",
    "use_ipvlan",
    "use_vmac_addr",
    "vmac_garp_intvl",
    "vmac_xmit_base",
];

fn note(d: &mut Vec<Diagnostic>, s: crate::span::Span, keyword: &str, why: &str) {
    let msg = format!("{keyword} is accepted without effect: {why}");
    d.push(Diagnostic::warning(Code::NoEffect, s, msg));
}

/// `global_defs` and the top level: shared by both halves.
pub(crate) fn common(p: &Parsed, out: &mut Vec<Diagnostic>) {
    let g = &p.config.global_defs;
    let sp = Some(&p.spans.global);
    // keepalived copies it into the instances defined after it only.
    if g.vrrp_skip_check_adv_addr {
        let at = key_span(sp, "vrrp_skip_check_adv_addr");
        let before = |s: &&crate::lower::ObjSpans| s.head.file == at.file && s.head.line < at.line;
        if p.spans.instances.iter().any(|s| before(&s)) {
            let k = "vrrp_skip_check_adv_addr after a vrrp_instance";
            out.push(refuse(at, k, ""));
        }
    }
    super::mail::audit(p, out);
    super::snmp::audit(p, out);
    for s in &g.other {
        if TUNING.contains(&s.keyword.as_str()) {
            note(out, s.span, &s.keyword, "a tuning keyword");
        }
    }
    let keep = |s: &Setting| {
        TUNING.contains(&s.keyword.as_str())
            || GLOBAL_USED.contains(&s.keyword.as_str())
            || LVS_GLOBALS.contains(&s.keyword.as_str())
            || super::snmp::USED.contains(&s.keyword.as_str())
            || super::process::GLOBAL_USED.contains(&s.keyword.as_str())
    };
    refuse_settings(&g.other, "", &keep, out);
    for s in g.other.iter().filter(|s| s.keyword == "vrrp_ipsets") {
        let msg = "Unknown keyword 'vrrp_ipsets'";
        out.push(Diagnostic::error(Code::KeepalivedError, s.span, msg));
    }
    // Tracked files are read by the checker's FILE_CHECKs and the VRRP
    // conversion; tracked processes, garp_groups, static track groups and
    // interface_up_down_delays
    // by the VRRP conversion. The process settings are read by `process`.
    let tracked = |s: &Setting| {
        matches!(
            s.keyword.as_str(),
            "track_file"
                | "vrrp_track_file"
                | "vrrp_track_process"
                | "garp_group"
                | "track_group"
                | "interface_up_down_delays"
        ) || super::process::ROOT_USED.contains(&s.keyword.as_str())
    };
    let root_tuning = |s: &&Setting| ROOT_TUNING.contains(&s.keyword.as_str());
    for s in p.config.other.iter().filter(root_tuning) {
        note(out, s.span, &s.keyword, "a tuning keyword");
    }
    let tracked = |s: &Setting| tracked(s) || root_tuning(&s);
    refuse_settings(&p.config.other, "", &tracked, out);
}

/// `lvs_sync_daemon` when the checker does not run: keepalived's VRRP
/// process starts the sync daemon, keepalived-lite's checker half does, so
/// without the checker nothing would run it.
pub(crate) fn without_checker(p: &Parsed, out: &mut Vec<Diagnostic>) {
    let syncd = |s: &&Setting| s.keyword == "lvs_sync_daemon";
    for s in p.config.global_defs.other.iter().filter(syncd) {
        out.push(refuse(
            s.span,
            "lvs_sync_daemon",
            "without virtual servers or with -P",
        ));
    }
    let key = "lvs_sync_daemon_interface";
    for (i, sp) in p.config.vrrp_instances.iter().zip(&p.spans.instances) {
        if i.lvs_sync_daemon_interface.is_some() {
            let ctx = format!("{}: without virtual servers or with -P", i.name);
            out.push(refuse(sp.key(key), key, &ctx));
        }
    }
}

/// A sync daemon that follows an instance when the VRRP half does not run
/// (`-C`): keepalived starts it from its VRRP process (its checker leaves
/// a daemon with an instance alone), so with `-C` none would run.
pub(crate) fn without_vrrp(p: &Parsed, out: &mut Vec<Diagnostic>) {
    let why = "with -C: keepalived runs it from the VRRP process";
    let follows = |s: &&Setting| s.keyword == "lvs_sync_daemon" && s.args.len() > 1;
    let old_form = |s: &Setting| {
        s.args
            .get(1)
            .is_some_and(|w| !SYNCD_OPTIONS.contains(&w.as_str()))
    };
    let inst = |s: &Setting| s.args.iter().any(|w| w == "inst");
    for s in p.config.global_defs.other.iter().filter(follows) {
        if old_form(s) || inst(s) {
            out.push(refuse(s.span, "lvs_sync_daemon with an instance", why));
        }
    }
    let key = "lvs_sync_daemon_interface";
    for (i, sp) in p.config.vrrp_instances.iter().zip(&p.spans.instances) {
        if i.lvs_sync_daemon_interface.is_some() {
            out.push(refuse(sp.key(key), key, &format!("{}: {why}", i.name)));
        }
    }
}

/// The option words of `lvs_sync_daemon` after the interface.
const SYNCD_OPTIONS: [&str; 6] = ["inst", "id", "maxlen", "port", "ttl", "group"];

/// The deprecated `lvs_sync_daemon_interface` of the instances (see
/// `lvs::globals`): only one sync daemon exists, so beside another
/// instance's or a global `lvs_sync_daemon` keepalived ignores all but the
/// first with an error; here such a second one is refused. The name must
/// fit the kernel's 16 bytes.
fn sync_daemon_interfaces(p: &Parsed, out: &mut Vec<Diagnostic>) {
    let key = "lvs_sync_daemon_interface";
    let global = (p.config.global_defs.other.iter()).any(|s| s.keyword == "lvs_sync_daemon");
    let mut seen = global;
    for (i, sp) in p.config.vrrp_instances.iter().zip(&p.spans.instances) {
        let Some(ifname) = &i.lvs_sync_daemon_interface else {
            continue;
        };
        let why = if seen {
            Some("a second sync daemon")
        } else if ifname.is_empty() || ifname.len() >= 16 {
            Some("an interface name longer than 15 bytes")
        } else {
            None
        };
        if let Some(why) = why {
            out.push(refuse(sp.key(key), &format!("{key} with {why}"), &i.name));
        }
        seen = true;
    }
}

/// The VRRP half's keywords that its conversion does not consume.
pub(crate) fn vrrp(p: &Parsed, out: &mut Vec<Diagnostic>) {
    let c = &p.config;
    for s in &c.vrrp_scripts {
        let ctx = format!("vrrp_script {}", s.name);
        // `init_fail` changes nothing in keepalived 2.2.7: tracking a
        // script (the only way it runs) sets its state back to "init"
        // (`alloc_track_script`), and a script starting as "init" is what
        // keepalived-lite runs. Checked: `weight -20` with `init_fail`
        // advertises the base priority until the script has failed.
        let init_fail = |s: &Setting| s.keyword == "init_fail";
        refuse_settings(&s.other, &ctx, &init_fail, out);
    }
    for g in &c.vrrp_sync_groups {
        let ctx = format!("vrrp_sync_group {}", g.name);
        // The track lists' words are read by the conversion (`track`).
        let read = |s: &Setting| {
            matches!(
                s.keyword.as_str(),
                "track_file"
                    | "track_process"
                    | "sync_group_tracking_weight"
                    | "global_tracking"
                    | "notify_priority_changes"
            )
        };
        refuse_settings(&g.other, &ctx, &read, out);
        // keepalived 2.2.7 reads it as `sync_group_tracking_weight`, with
        // a configuration error.
        for s in g.other.iter().filter(|s| s.keyword == "global_tracking") {
            let msg = format!(
                "({}) global_tracking is deprecated. Use track_interface/script/file on the \
                 sync group",
                g.name
            );
            out.push(Diagnostic::error(Code::KeepalivedError, s.span, msg));
        }
    }
    for i in &c.vrrp_instances {
        instance(i, out);
    }
    #[cfg(feature = "convert-vrrp")]
    super::vrrp::multipath::nexthop_encap_notes(p, out);
    sync_daemon_interfaces(p, out);
}

fn instance(i: &crate::model::VrrpInstance, out: &mut Vec<Diagnostic>) {
    let ctx = i.name.as_str();
    // The options of virtual addresses: `convert::vrrp::address`.
    for s in &i.other {
        if TUNING.contains(&s.keyword.as_str()) {
            note(out, s.span, &s.keyword, "a tuning keyword");
        }
    }
    let keep = |s: &Setting| {
        TUNING.contains(&s.keyword.as_str()) || INSTANCE_USED.contains(&s.keyword.as_str())
    };
    refuse_settings(&i.other, ctx, &keep, out);
}
