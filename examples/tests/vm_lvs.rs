//! keepalived-lite's checker (`-C`) against a real IPVS kernel: boots
//! Debian's cloud kernel under qemu with `ipvs/vm/run-vm.sh` (the host
//! kernel has no IPVS), copying the binary, `tests/lvs/checker.conf` and
//! `tests/lvs/guest.sh` in. The guest serves two real servers with busybox
//! httpd, starts and stops them, and polls `ipvsadm -S -n` (a bounded
//! number of times) for the exact table after each change (real servers
//! out, or in with weight 0 under `inhibit_on_failure`, a sorry server
//! while a quorum is lost). In the same run it drains real servers over
//! the control socket (`keepalived-lite control drain`): weight 0 in the
//! table, shown drained by `control status`, still 0 when a drained down
//! server comes up, back to its weight on `restore` (issue 16; forcing a
//! failover and refusing non-root callers are in control_root_netns.rs).
//! Then SIGTERM must leave the table empty and
//! keepalived-lite exit 0. A second run without `-C` (the configuration
//! has no vrrp_instance, so only the checker runs) stops on SIGINT. A
//! second boot runs VRRP (on a dummy interface) and the checker together
//! and stops both with one SIGTERM; the IPVS sync daemon follows the VRRP
//! instance named by `lvs_sync_daemon` (master while it is MASTER). In the
//! same boot keepalived 2.2.7 and keepalived-lite in turn run
//! `tests/lvs/both-iface.conf` (the deprecated `lvs_sync_daemon_interface`
//! of a vrrp_instance) and must leave the same sync daemons running.
//!
//! Needs qemu-system-x86, busybox-static, ipvsadm, cpio and the Debian
//! archive (see `.ci/install-deps`); fails loudly when the VM cannot run.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test: a panic is a failure

mod vm;

use std::path::{Path, PathBuf};
use std::process::Command;

/// Boots the VM with `files` (host path, guest path) and runs `guest`;
/// returns the console, failing unless the guest script exited 0.
fn run_vm(files: &[(PathBuf, &str)], guest: &Path) -> String {
    run_vm_with(files, guest, &[], 300)
}

/// [`run_vm`] with arguments for `guest` and a timeout in seconds.
fn run_vm_with(files: &[(PathBuf, &str)], guest: &Path, args: &[&str], timeout: u32) -> String {
    let console = vm::boot(&[], files, guest, args, timeout);
    assert!(console.lines().any(|l| l == "LVS-VM: done"));
    console
}

fn assert_steps(console: &str, steps: &[&str]) {
    for step in steps {
        let line = format!("LVS-VM: ok {step}");
        assert!(console.lines().any(|l| l == line), "missing '{line}'");
    }
}

/// The `dummy.ko` of every kernel in run-vm.sh's cache, as
/// `/lib/dummy-KVER.ko` in the guest (run-vm.sh loads only ip_vs).
fn dummy_modules(root: &Path) -> Vec<(PathBuf, String)> {
    let cache = std::env::var_os("IPVS_VM_CACHE")
        .map_or_else(|| root.join("target/ipvs-vm"), PathBuf::from);
    let mut found = Vec::new();
    for pkg in std::fs::read_dir(&cache).into_iter().flatten().flatten() {
        let modules = pkg.path().join("lib/modules");
        for kver in std::fs::read_dir(&modules).into_iter().flatten().flatten() {
            let ko = kver.path().join("kernel/drivers/net/dummy.ko");
            if ko.is_file() {
                let name = kver.file_name().to_string_lossy().into_owned();
                found.push((ko, format!("/lib/dummy-{name}.ko")));
            }
        }
    }
    assert!(!found.is_empty(), "no dummy.ko under {}", cache.display());
    found
}

#[test]
fn vm_lvs_checker_follows_real_server_health() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = here.parent().expect("workspace root");
    let (_dir, bin) = vm::work_dir("vm-lvs");
    let lvs = here.join("tests/lvs");
    let console = run_vm(
        &[
            (bin.clone(), "/bin/keepalived-lite"),
            (lvs.join("checker.conf"), "/etc/lvs.conf"),
        ],
        &lvs.join("guest.sh"),
    );
    assert_steps(
        &console,
        &[
            "one_up",
            "drain_reply",
            "drained",
            "status_drained",
            "drain_unknown_refused",
            "drained_came_up",
            "restore_reply",
            "both_up",
            "status_restored",
            "first_down",
            "stopped",
            "default_mode",
            "stopped_by_sigint",
        ],
    );
    // keepalived's wording (check_tcp.c tcp_epilog, ipwrapper.c
    // perform_svr_state, update_quorum_state) for the transitions the
    // guest caused.
    for text in [
        "TCP connection to [127.0.0.1]:tcp:8082 success.",
        "Removing service [10.1.0.1]:tcp:8081 from VS [10.0.0.1]:tcp:80",
        "Adding service [10.1.0.2]:tcp:8082 to VS [10.0.0.1]:tcp:80",
        "Disabling service [10.1.0.1]:tcp:80 of VS [10.0.0.2]:tcp:80",
        "Enabling service [10.1.0.2]:tcp:80 of VS [10.0.0.2]:tcp:80",
        "Lost quorum 2-0=2 > 1 for VS [10.0.0.3]:tcp:80",
        "Adding sorry server [10.9.9.9]:tcp:80 to VS [10.0.0.3]:tcp:80",
        "Gained quorum 2+0=2 <= 2 for VS [10.0.0.3]:tcp:80",
        "Removing sorry server [10.9.9.9]:tcp:80 from VS [10.0.0.3]:tcp:80",
        "Changing weight from 2 to 5 for active service [10.1.0.4]:tcp:80 of VS [10.0.0.4]:tcp:80",
        "Misc check for [[10.1.0.4]:tcp:80 VS [10.0.0.4]:tcp:80] by [/tmp/probe.sh] failed with retry disabled (exited with status 1).",
        "Draining service [10.1.0.1]:tcp:8081 of VS [10.0.0.1]:tcp:80 (weight 0 until restored)",
        "Draining service [10.1.0.9]:none:0 of VS FWM 7 (weight 0 until restored)",
        "Restoring service [10.1.0.2]:tcp:8082 of VS [10.0.0.1]:tcp:80",
    ] {
        assert!(console.contains(text), "log lacks '{text}'");
    }

    // VRRP and the checker together (the cache now holds the kernel).
    let modules = dummy_modules(root);
    let mut files: Vec<(PathBuf, &str)> = vec![
        (bin, "/bin/keepalived-lite"),
        (lvs.join("both.conf"), "/etc/both.conf"),
        (lvs.join("both-iface.conf"), "/etc/both-iface.conf"),
        (PathBuf::from("/usr/sbin/keepalived"), "/bin/keepalived"),
    ];
    files.extend(modules.iter().map(|(src, dst)| (src.clone(), dst.as_str())));
    let console = run_vm(&files, &lvs.join("guest-both.sh"));
    assert_steps(
        &console,
        &[
            "both_table",
            "both_vip",
            "both_sync_master",
            "both_table_empty",
            "both_vip_removed",
            "both_sync_stopped",
            "keepalived_iface_sync_master",
            "keepalived_iface_sync_stopped",
            "keepalived-lite_iface_sync_master",
            "keepalived-lite_iface_sync_stopped",
            "iface_same_daemons",
        ],
    );
}

/// SIGHUP reload by diff (a real server added, a weight changed, a
/// service removed and one added: exact tables; the unchanged, failing
/// real server says nothing, so its health was kept), a broken file that
/// keeps the running table, and an `ipvsadm -d` of a healthy real server
/// repaired by the periodic re-read. In the same boot, the checker's DATA
/// dump: keepalived 2.2.7 first runs reload1.conf and writes the reference
/// on SIGUSR1; keepalived-lite's `/tmp/keepalived_check.data` must be its
/// LVS part exactly, and `config_save_dir` keeps the dump before and after
/// the reload.
#[test]
fn vm_lvs_reload_by_diff_and_repair() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (_dir, bin) = vm::work_dir("vm-lvs-reload");
    let lvs = here.join("tests/lvs");
    let console = run_vm(
        &[
            (bin, "/bin/keepalived-lite"),
            (PathBuf::from("/usr/sbin/keepalived"), "/bin/keepalived"),
            (lvs.join("reload1.conf"), "/etc/reload1.conf"),
            (lvs.join("reload2.conf"), "/etc/reload2.conf"),
            (lvs.join("broken.conf"), "/etc/broken.conf"),
        ],
        &lvs.join("guest-reload.sh"),
    );
    assert_steps(
        &console,
        &[
            "started",
            "data_dump",
            "reloaded",
            "saved_dumps",
            "health_kept",
            "delay_loop_kept",
            "broken_reload_kept",
            "repaired",
            "stopped",
        ],
    );
    for text in [
        "Removing Virtual Server [10.0.0.2]:tcp:80",
        "Removing service [10.1.0.5]:tcp:80 from VS [10.0.0.2]:tcp:80",
        "Reload complete",
        "Reload failed, keeping the running configuration",
        "/etc/lvs.conf:6:9: error: 'weight' needs a value",
        "IPVS table drifted from the configuration; repairing: ",
        "Printing checker data for process(",
    ] {
        assert!(console.contains(text), "log lacks '{text}'");
    }
    checker_dumps(&console);
}

/// The lines the guest printed after `prefix: `, as one text.
fn prefixed(console: &str, prefix: &str) -> String {
    let prefix = format!("{prefix}: ");
    console
        .lines()
        .filter_map(|l| l.strip_prefix(&prefix))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// The checker's DATA dump on SIGUSR1 (10.1.0.2 down), the same as
/// keepalived 2.2.7's in the same state, and its `config_save_dir` copies
/// before and after the reload to reload2.conf.
fn checker_dumps(console: &str) {
    let dump = prefixed(console, "LVS-DUMP");
    for text in [
        "------< LVS Topology >------\n System is compiled with LVS v1.2.1\n",
        " VS VIP = 10.0.0.1, VPORT = 80\n   Address family = inet\n   \
         connection timeout = 5.000000\n   delay_loop = 1.000000\n   lvs_sched = rr\n",
        " VS VIP = 10.0.0.2, VPORT = 80\n",
        "   RIP = 10.1.0.2, RPORT = 80, WEIGHT = 1 EFF WEIGHT = 1\n   forwarding method = NAT\n",
        "   Inhibit on failure is ON\n",
        " [10.0.0.1]:tcp:80 -> [10.1.0.1]:tcp:80\n   Enabled = yes\n   Up = yes\n   \
         Has run = yes\n",
        " [10.0.0.1]:tcp:80 -> [10.1.0.2]:tcp:80\n   Enabled = yes\n   Up = no\n   \
         Has run = yes\n",
        "   Connection\n     Dest = [127.0.0.1]:8082\n     Timeout = 1.000000\n   \
         Keepalive method = TCP_CHECK\n",
    ] {
        assert!(dump.contains(text), "the dump lacks {text:?}:\n{dump}");
    }
    // keepalived 2.2.7's dump of the same configuration in the same
    // state: its LVS part is the same text. Both start with the global
    // part (compared line for line in dump_root_netns_keepalived).
    let reference = prefixed(console, "KA-DUMP");
    let lvs = reference.find("------< LVS Topology >------").unwrap();
    assert!(
        dump.starts_with("------< Global definitions >------\n"),
        "{dump}"
    );
    let ours = dump.find("------< LVS Topology >------").unwrap();
    assert_eq!(dump[ours..], reference[lvs..]);
    let (pre, post) = (prefixed(console, "LVS-PRE"), prefixed(console, "LVS-POST"));
    assert!(pre.contains(" VS VIP = 10.0.0.2, VPORT = 80\n"), "{pre}");
    assert!(!pre.contains(" VS VIP = 10.0.0.3,"), "{pre}");
    assert!(post.contains(" VS VIP = 10.0.0.3, VPORT = 80\n"), "{post}");
    assert!(post.contains("   RIP = 10.1.0.3, RPORT = 80,"), "{post}");
    assert!(!post.contains(" VS VIP = 10.0.0.2,"), "{post}");
}

/// SSL_GET (a self-signed certificate is accepted, as keepalived 2.2.7
/// does), PING_CHECK, UDP_CHECK, DNS_CHECK and SMTP_CHECK against servers
/// in the VM: exact tables while they run, after they stop, and after
/// they are back; notify and quorum scripts, omega and
/// sorry_server_inhibit on one more service.
#[test]
fn vm_lvs_other_checkers_follow_their_servers() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (dir, bin) = vm::work_dir("vm-lvs-chk");
    let (cert, key) = (dir.0.join("cert.pem"), dir.0.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=vm.test", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("cannot run openssl");
    assert!(made.status.success(), "openssl req failed");
    let tool = |name: &str| {
        ["/usr/bin", "/usr/sbin", "/bin", "/sbin"]
            .iter()
            .map(|d| Path::new(d).join(name))
            .find(|p| p.is_file())
            .unwrap_or_else(|| panic!("{name} is not installed"))
    };
    let lvs = here.join("tests/lvs");
    let console = run_vm(
        &[
            (bin, "/bin/keepalived-lite"),
            (lvs.join("checkers.conf"), "/etc/checkers.conf"),
            (cert, "/etc/cert.pem"),
            (key, "/etc/key.pem"),
            (tool("openssl"), "/bin/openssl"),
            (tool("dnsmasq"), "/bin/dnsmasq"),
        ],
        &lvs.join("guest-checkers.sh"),
    );
    assert_steps(
        &console,
        &[
            "all_up",
            "servers_down",
            "servers_back",
            "stopped",
            "scripts",
        ],
    );
    for text in [
        "ICMP CHECK on service [10.99.99.99]:tcp:80 failed.",
        "UDP_CHECK on service [127.0.0.1]:udp:5354 failed.",
        "Remote SMTP server [127.0.0.1]:tcp:2525 succeed on service.",
        "Remote Web server [127.0.0.1]:tcp:8443 succeed on service.",
        "Removing service [10.1.0.6]:udp:53 from VS [10.0.0.8]:udp:53",
        "Enabling sorry server [10.9.9.9]:tcp:80 to VS [10.0.0.10]:tcp:80",
        "Disabling sorry server [10.9.9.9]:tcp:80 from VS [10.0.0.10]:tcp:80",
        "Activating healthchecker for service [10.1.0.1]:tcp:443 for VS [10.0.0.5]:tcp:443",
        "Shutting down (inhibited) service [10.1.0.3]:tcp:80 from VS [10.0.0.6]:tcp:80",
        "Shutting down service [10.1.0.8]:tcp:80 from VS [10.0.0.10]:tcp:80",
    ] {
        assert!(console.contains(text), "log lacks '{text}'");
    }
}

/// One parity run in the shared boot: a configuration, the script that
/// runs its servers, and the configuration a SIGHUP loads, if any.
struct Run {
    name: &'static str,
    conf: &'static str,
    servers: &'static str,
    reload: Option<&'static str>,
}

/// Parity with keepalived 2.2.7, every configuration in one VM boot
/// (`guest-parity-all.sh` runs `guest-parity.sh` for each):
/// `keepalived -C` then `keepalived-lite -C` with the same real servers
/// must give the same `ipvsadm -S -n`, `ipvsadm -L --timeout` and
/// `ipvsadm -L --daemon` after start-up (and after a SIGHUP reload where
/// there is one), after a real server fails, and nothing (the timeouts
/// restored) after stop. The configurations: `checker.conf` (TCP, HTTP,
/// MISC, quorum, sorry server, fwmark), `reload1.conf` to `reload2.conf`
/// (a real server added, a weight changed, a service removed and one
/// added), `checkers.conf` (SSL_GET with a self-signed certificate,
/// PING_CHECK, UDP_CHECK, DNS_CHECK, SMTP_CHECK, notify and quorum
/// scripts, omega, sorry_server_inhibit), `groups.conf`
/// (`virtual_server_group`: address ranges, a prefix, fwmarks, NAT and DR,
/// IPv6), `flags.conf` (`ops` and the scheduler flags), `timeouts.conf`
/// (`lvs_timeouts`, `lvs_flush` and `lvs_flush_onstop`, with foreign
/// services flushed at start and at stop), `file.conf` (FILE_CHECK: up
/// and down, weights), `ha_suspend.conf` (checks held while the address
/// is not local, run once it is) and `sync.conf` (`lvs_sync_daemon`
/// without an instance: master and backup, stopped at exit).
#[test]
fn vm_lvs_same_tables_as_keepalived() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (dir, bin) = vm::work_dir("vm-lvs-par");
    let keepalived = Path::new("/usr/sbin/keepalived");
    assert!(keepalived.is_file(), "keepalived 2.2.7 is not installed");
    let (cert, key) = (dir.0.join("cert.pem"), dir.0.join("key.pem"));
    let made = Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=vm.test", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("cannot run openssl");
    assert!(made.status.success(), "openssl req failed");
    let lvs = here.join("tests/lvs");
    let run = |name, conf, servers, reload| Run {
        name,
        conf,
        servers,
        reload,
    };
    let runs = [
        run("checker", "checker.conf", "parity-checker.servers", None),
        run(
            "reload",
            "reload1.conf",
            "parity-reload.servers",
            Some("reload2.conf"),
        ),
        run("groups", "groups.conf", "parity-checker.servers", None),
        run("flags", "flags.conf", "parity-checker.servers", None),
        run("timeouts", "timeouts.conf", "parity-flush.servers", None),
        run("file", "file.conf", "parity-file.servers", None),
        run("ha_suspend", "ha_suspend.conf", "parity-ha.servers", None),
        run("sync", "sync.conf", "parity-checker.servers", None),
        // Last: its servers are not all stopped afterwards.
        run("checkers", "checkers.conf", "parity-checkers.servers", None),
    ];
    let guest: Vec<[String; 3]> = runs
        .iter()
        .map(|r| ["conf", "servers", "reload"].map(|ext| format!("/etc/parity/{}.{ext}", r.name)))
        .collect();
    let mut files = vec![
        (bin, "/bin/keepalived-lite"),
        (keepalived.to_path_buf(), "/bin/keepalived"),
        (lvs.join("guest-parity.sh"), "/bin/guest-parity.sh"),
        (cert, "/etc/cert.pem"),
        (key, "/etc/key.pem"),
        (PathBuf::from("/usr/bin/openssl"), "/bin/openssl"),
        (PathBuf::from("/usr/sbin/dnsmasq"), "/bin/dnsmasq"),
    ];
    for (r, [conf, servers, reload]) in runs.iter().zip(&guest) {
        files.push((lvs.join(r.conf), conf.as_str()));
        files.push((lvs.join(r.servers), servers.as_str()));
        if let Some(file) = r.reload {
            files.push((lvs.join(file), reload.as_str()));
        }
    }
    let names: Vec<&str> = runs.iter().map(|r| r.name).collect();
    let console = run_vm_with(&files, &lvs.join("guest-parity-all.sh"), &names, 1800);
    for r in &runs {
        let mut steps = vec![
            "keepalived_stopped_empty",
            "parity_started",
            "parity_failed",
            "keepalived_lite_stopped_empty",
        ];
        if r.reload.is_some() {
            steps.push("parity_reloaded");
        }
        let steps: Vec<String> = steps.iter().map(|s| format!("{}/{s}", r.name)).collect();
        assert_steps(
            &console,
            &steps.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let scripts = format!("LVS-VM: ok {}/parity_scripts", r.name);
        assert!(console.contains(&scripts), "{scripts}");
    }
    // What keepalived 2.2.7 installed, and so keepalived-lite too.
    for text in [
        // A fwmark service's destination has port 0.
        "-a -f 7 -r 10.1.0.9:0 -i -w 5",
        "-A -t 10.0.0.3:80 -s rr -p 30",
        "-A -t 10.0.1.1:80 -s rr -p 30",
        "-a -f 5 -r 10.1.0.2:0 -g -w 3",
        "-a -t 10.0.2.2:443 -r 10.1.0.3:8443 -m -w 1",
        "-a -t [fd00::11]:80 -r [fd00:1::2]:80 -g -w 2",
        "-A -f 8 -6 -s wlc",
        "-A -t 10.0.3.2:80 -s sh -b sh-fallback,sh-port",
        "-A -t 10.0.3.3:80 -s mh -b mh-fallback",
        "-A -t 10.0.3.4:80 -s rr -b flag-3",
        "-A -u 10.0.3.1:53 -s rr -o",
        "-A -f 9 -s wlc -o",
        "Timeout (tcp tcpfin udp): 901 31 61",
        "master sync daemon (mcast=lo, syncid=3, maxlen=1472, group=239.0.0.7, port=8849, ttl=2)",
        "backup sync daemon (mcast=lo, syncid=3, maxlen=65507, group=239.0.0.7, port=8849, ttl=2)",
        "-a -t 10.0.5.1:80 -r 10.1.0.3:80 -m -w 4",
        "-a -t 10.0.5.1:80 -r 10.1.0.3:80 -m -w 14",
    ] {
        assert!(console.contains(text), "reference table lacks '{text}'");
    }
}

/// No VM needed: the plan is refused before anything touches the kernel.
#[test]
fn lvs_refused_keyword_fails_startup_naming_it() {
    let conf = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lvs/refused.conf");
    for mode in [&["-C"][..], &[]] {
        let out = Command::new(env!("CARGO_BIN_EXE_keepalived-lite"))
            .args(mode)
            .arg("-f")
            .arg(&conf)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{mode:?}: {err}");
        assert!(
            err.contains(
                "virtual_server [10.0.0.1]:tcp:80: 'hashed without lvs_sched sh' is not supported by keepalived-lite's checker"
            ),
            "{mode:?}: {err}"
        );
    }
}
