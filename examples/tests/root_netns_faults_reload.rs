//! A reload (SIGHUP) to a configuration naming an interface that does not
//! exist keeps the running instance MASTER with its VIP (issue 15): the
//! new instance on the missing interface runs in FAULT (as at start-up,
//! and as keepalived with `dynamic_interfaces`), the running one is not
//! touched.
//! Needs root and iproute2.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod lab_r1;

use std::time::Duration;

use lab_r1::{count, lab_r1, log_text, wait_until};

const VIP: &str = "10.0.0.100";

fn instance(name: &str, interface: &str, vrid: u8, vip: &str) -> String {
    format!(
        "vrrp_instance {name} {{\n  state BACKUP\n  interface {interface}\n  \
         virtual_router_id {vrid}\n  priority 150\n  advert_int 1\n  \
         virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
    )
}

fn has_vip(lab: &keepalived_lite::netns::Lab) -> bool {
    lab_r1::has_vip(lab, "eth0", VIP)
}

#[test]
fn root_netns_reload_naming_a_missing_interface_keeps_the_master() {
    let (mut lab, dir) = lab_r1();
    let conf = dir.join("keepalived.conf");
    std::fs::write(&conf, instance("VI_1", "eth0", 51, VIP)).unwrap();
    let log = dir.join("lite.log");
    let lite = env!("CARGO_BIN_EXE_keepalived-lite");
    let pid = lab
        .spawn_vrrp_daemon("r1", lite, &conf, &dir, &log)
        .unwrap();
    let master = "(VI_1) Entering MASTER STATE";
    wait_until("MASTER", &log, || count(&log, master) == 1 && has_vip(&lab));

    let entered = count(&log, "(VI_1) Entering");
    let mut new = instance("VI_1", "eth0", 51, VIP);
    new.push_str(&instance("VI_2", "nosuch0", 52, "10.0.0.101"));
    std::fs::write(&conf, new).unwrap();
    lab.signal(pid, "HUP").unwrap();
    wait_until("VI_2 in FAULT", &log, || {
        count(&log, "(VI_2) Entering FAULT STATE") == 1
    });
    let text = log_text(&log);
    assert!(
        text.contains("interface nosuch0 which doesn't currently exist"),
        "the log names the interface:\n{text}"
    );
    assert!(has_vip(&lab), "the VIP was lost:\n{text}");
    assert_eq!(
        count(&log, "(VI_1) Entering"),
        entered,
        "VI_1 changed state:\n{text}"
    );
    lab.stop(pid, Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(&dir);
}
