//! keepalived-lite started with an instance whose interface does not exist
//! (issue 15) keeps running: the other instances work, that instance is
//! FAULT (in the log with keepalived's wording, and in the JSON dump), and
//! it runs once the interface is created; deleting the interface puts it
//! back in FAULT and creating it again brings it back. keepalived 2.2.7
//! does the same with `dynamic_interfaces`; without it, it logs
//! "WARNING - interface nosuch0 for vrrp_instance VI_2 doesn't exist" and
//! exits, which keepalived-lite does not (see the driver's
//! `RouterSpec::interface`). Needs root and iproute2.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod lab_r1;

use std::path::Path;
use std::time::{Duration, Instant};

use keepalived_lite::netns::Lab;
use lab_r1::{count, has_vip, ip, lab_r1, log_text, veth, wait_until, WAIT};
use serde_json::Value;

fn instance(name: &str, interface: &str, vrid: u8, vip: &str) -> String {
    format!(
        "vrrp_instance {name} {{\n  state BACKUP\n  interface {interface}\n  \
         virtual_router_id {vrid}\n  priority 150\n  advert_int 1\n  \
         virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
    )
}

/// `nosuch0` (veth, peer `nosuch0p`) with 10.0.1.1/24, both ends up.
fn create_nosuch0(lab: &Lab) {
    veth(lab, "nosuch0", "nosuch0p", Some("10.0.1.1/24"));
}

/// The state of each instance in a fresh JSON dump (keepalived's numbers:
/// 2 MASTER, 3 FAULT).
fn json_states(pid: u32, dir: &Path) -> Vec<(String, i64)> {
    let path = dir.join("keepalived.json");
    let _ = std::fs::remove_file(&path);
    let n = keepalived_lite::cli::signum("JSON").unwrap();
    let sent = std::process::Command::new("kill")
        .args([&format!("-{n}"), &pid.to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let deadline = Instant::now() + WAIT;
    loop {
        let v: Option<Value> = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
        if let Some(list) = v.as_ref().and_then(Value::as_array) {
            let mut out: Vec<(String, i64)> = list
                .iter()
                .map(|i| {
                    let d = &i["data"];
                    (
                        d["iname"].as_str().unwrap_or("").to_owned(),
                        d["state"].as_i64().unwrap_or(-1),
                    )
                })
                .collect();
            out.sort();
            return out;
        }
        assert!(
            Instant::now() < deadline,
            "no JSON dump in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn root_netns_missing_interface_at_start_is_fault_then_runs_when_created() {
    let (mut lab, dir) = lab_r1();
    let conf = dir.join("keepalived.conf");
    let mut text = instance("VI_1", "eth0", 51, "10.0.0.100");
    text.push_str(&instance("VI_2", "nosuch0", 52, "10.0.1.100"));
    std::fs::write(&conf, text).unwrap();
    let log = dir.join("lite.log");
    let pid = start_lite(&mut lab, &dir, &conf, &log);

    wait_until("VI_1 MASTER with its VIP", &log, || {
        count(&log, "(VI_1) Entering MASTER STATE") == 1 && has_vip(&lab, "eth0", "10.0.0.100")
    });
    wait_until("VI_2 FAULT", &log, || {
        count(&log, "(VI_2) Entering FAULT STATE") == 1
    });
    let text = log_text(&log);
    assert!(
        text.contains(
            "Configuration specifies interface nosuch0 which doesn't currently exist - will use if created"
        ),
        "keepalived's wording for the missing interface:\n{text}"
    );
    let want = vec![("VI_1".to_owned(), 2), ("VI_2".to_owned(), 3)];
    assert_eq!(json_states(pid, &dir), want, "the JSON dump");

    create_nosuch0(&lab);
    wait_until("VI_2 MASTER with its VIP on nosuch0", &log, || {
        count(&log, "(VI_2) Entering MASTER STATE") == 1 && has_vip(&lab, "nosuch0", "10.0.1.100")
    });
    let want = vec![("VI_1".to_owned(), 2), ("VI_2".to_owned(), 2)];
    assert_eq!(json_states(pid, &dir), want, "the JSON dump");

    // Deleted: FAULT again; created again (a new ifindex): MASTER again.
    ip(&lab, &["link", "del", "nosuch0"]);
    wait_until("VI_2 FAULT again", &log, || {
        count(&log, "(VI_2) Entering FAULT STATE") == 2
    });
    create_nosuch0(&lab);
    wait_until("VI_2 MASTER again with its VIP", &log, || {
        count(&log, "(VI_2) Entering MASTER STATE") == 2 && has_vip(&lab, "nosuch0", "10.0.1.100")
    });
    let text = log_text(&log);
    assert_eq!(
        count(&log, "(VI_1) Entering"),
        2,
        "VI_1 only went BACKUP then MASTER:\n{text}"
    );
    assert!(has_vip(&lab, "eth0", "10.0.0.100"), "{text}");
    assert_eq!(count(&log, "Failed"), 0, "{text}");
    lab.stop(pid, Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(&dir);
}

/// `-t` agrees with start-up: a missing interface is a warning (the
/// instance will run in FAULT), and `dynamic_interfaces`, which asks for
/// exactly that behaviour, is accepted.
#[test]
fn t_warns_of_a_missing_interface_and_accepts_dynamic_interfaces() {
    let dir = std::env::temp_dir().join(format!("kl-ifaces-t-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("k.conf");
    let mut text = "global_defs {\n  dynamic_interfaces\n}\n".to_owned();
    text.push_str(&instance("VI_2", "nosuch0", 52, "10.0.1.100"));
    std::fs::write(&conf, text).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keepalived-lite"))
        .arg("-t")
        .arg("-f")
        .arg(&conf)
        .output()
        .unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let want = format!(
        "{}:6:3: warning: interface nosuch0 (interface of vrrp_instance VI_2) does not exist on this host",
        conf.display()
    );
    assert!(stderr.lines().any(|l| l == want), "{stderr}");
    assert!(stderr.contains("0 error(s)"), "{stderr}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Starts keepalived-lite in `r1` on `conf`, with its files (pid files,
/// control socket, dumps) in `dir`; returns its pid.
fn start_lite(lab: &mut Lab, dir: &Path, conf: &Path, log: &Path) -> u32 {
    let file = |f: &str| dir.join(f).display().to_string();
    let lite = env!("CARGO_BIN_EXE_keepalived-lite");
    // Through env(1), so that the dumps go to this test's directory.
    let tmpdir = format!("TMPDIR={}", dir.display());
    let (conf_s, pid_s, vpid_s, ctl_s) = (
        conf.display().to_string(),
        file("lite.pid"),
        file("lite.vrrp.pid"),
        file("ctl.sock"),
    );
    let args = [
        tmpdir.as_str(),
        lite,
        "-P",
        "-n",
        "-l",
        "-f",
        &conf_s,
        "-p",
        &pid_s,
        "-r",
        &vpid_s,
        "--control-socket",
        &ctl_s,
    ];
    lab.spawn("r1", "env", &args, log).unwrap()
}

/// An interface without an IPv4 address: as keepalived 2.2.7 (checked side
/// by side), the instance is FAULT with "(VI_2) entering FAULT state (no
/// IPv4 address for interface)", a reload keeps it waiting, and it runs
/// once an address is added.
#[test]
fn root_netns_interface_without_address_is_fault_until_one_is_added() {
    let (mut lab, dir) = lab_r1();
    veth(&lab, "bare0", "bare0p", None);
    let conf = dir.join("keepalived.conf");
    let mut text = instance("VI_1", "eth0", 51, "10.0.0.100");
    text.push_str(&instance("VI_2", "bare0", 52, "10.0.1.100"));
    std::fs::write(&conf, text).unwrap();
    let log = dir.join("lite.log");
    let pid = start_lite(&mut lab, &dir, &conf, &log);

    let no_address = "(VI_2) entering FAULT state (no IPv4 address for interface)";
    wait_until("VI_1 MASTER, VI_2 FAULT", &log, || {
        count(&log, "(VI_1) Entering MASTER STATE") == 1
            && count(&log, no_address) == 1
            && count(&log, "(VI_2) Entering FAULT STATE") == 1
    });
    let text = log_text(&log);
    assert!(
        !text.contains("Configuration specifies interface"),
        "{text}"
    );
    let want = vec![("VI_1".to_owned(), 2), ("VI_2".to_owned(), 3)];
    assert_eq!(json_states(pid, &dir), want, "the JSON dump");

    lab.signal(pid, "HUP").unwrap();
    wait_until("the reload applied, VI_2 still waiting", &log, || {
        count(&log, "VRRP configuration applied") == 1 && count(&log, no_address) == 2
    });
    assert_eq!(
        json_states(pid, &dir),
        want,
        "the JSON dump after the reload"
    );

    ip(&lab, &["addr", "add", "10.0.1.1/24", "dev", "bare0"]);
    wait_until("VI_2 MASTER with its VIP on bare0", &log, || {
        count(&log, "(VI_2) Entering MASTER STATE") == 1 && has_vip(&lab, "bare0", "10.0.1.100")
    });
    let text = log_text(&log);
    assert_eq!(count(&log, "(VI_1) Entering"), 2, "{text}");
    assert_eq!(count(&log, "Reload failed"), 0, "{text}");
    assert_eq!(count(&log, "Failed"), 0, "{text}");
    assert_eq!(count(&log, "ERROR"), 0, "{text}");
    lab.stop(pid, Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A deleted VMAC is made again: as keepalived 2.2.7 (checked side by
/// side), the instance goes FAULT, then BACKUP on the new VMAC, then
/// MASTER with its VIP there again.
#[test]
fn root_netns_deleted_vmac_is_made_again() {
    let (mut lab, dir) = lab_r1();
    let conf = dir.join("keepalived.conf");
    let text = instance("VI_1", "eth0", 51, "10.0.0.100")
        .replace("advert_int 1\n", "advert_int 1\n  use_vmac\n");
    std::fs::write(&conf, text).unwrap();
    let log = dir.join("lite.log");
    let pid = start_lite(&mut lab, &dir, &conf, &log);
    wait_until("VI_1 MASTER with its VIP on vrrp.51", &log, || {
        count(&log, "(VI_1) Entering MASTER STATE") == 1 && has_vip(&lab, "vrrp.51", "10.0.0.100")
    });

    ip(&lab, &["link", "del", "vrrp.51"]);
    wait_until("VI_1 MASTER again on a new vrrp.51", &log, || {
        count(&log, "(VI_1) Entering MASTER STATE") == 2 && has_vip(&lab, "vrrp.51", "10.0.0.100")
    });
    let text = log_text(&log);
    let order: Vec<&str> = text
        .lines()
        .filter_map(|l| l.split_once("(VI_1) Entering ").map(|(_, s)| s))
        .collect();
    assert_eq!(
        order,
        [
            "BACKUP STATE (init)",
            "MASTER STATE",
            "FAULT STATE",
            "BACKUP STATE",
            "MASTER STATE"
        ],
        "{text}"
    );
    assert_eq!(count(&log, "Failed"), 0, "{text}");
    assert_eq!(count(&log, "ERROR"), 0, "{text}");
    lab.stop(pid, Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(&dir);
}
