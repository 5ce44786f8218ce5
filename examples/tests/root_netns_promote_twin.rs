//! `promote_secondaries`, keepalived 2.2.7 against keepalived-lite (needs
//! root and keepalived): each runs one instance with it in a node of its
//! own. Both must set the node's `net.ipv4.conf.eth0.promote_secondaries`
//! from 0 to 1 when they start, and back to 0 when they stop (SIGTERM).
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, Lab};

/// Safety limit for something expected to happen.
const WAIT: Duration = Duration::from_secs(30);

const SYSCTL: &str = "/proc/sys/net/ipv4/conf/eth0/promote_secondaries";

fn config(vrid: u8) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id {vrid}\n  priority 100\n  \
         advert_int 1\n  promote_secondaries\n  virtual_ipaddress {{\n    10.0.0.{vrid}/24\n  \
         }}\n}}\n"
    )
}

/// The node's `promote_secondaries` of eth0.
fn value(lab: &Lab, node: &str) -> String {
    let out = lab.run(node, "cat", &[SYSCTL]).unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Waits until both nodes' value is `want`.
fn expect(lab: &Lab, step: &str, want: &str) {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = (value(lab, "ka"), value(lab, "kl"));
        if got.0 == want && got.1 == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{step}: keepalived, keepalived-lite have {got:?}, want {want}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Removes the scratch directory, even when the test fails.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn root_netns_promote_secondaries_is_set_and_reset_as_keepalived_does() {
    require_root();
    require_program("keepalived", &["-v"]);
    let mut lab = Lab::new().unwrap();
    lab.add_node("ka", Ipv4Addr::new(10, 0, 0, 1), 24).unwrap();
    lab.add_node("kl", Ipv4Addr::new(10, 0, 0, 2), 24).unwrap();
    let dir = std::env::temp_dir().join(format!("kl-promote-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let _scratch = Scratch(dir.clone());
    expect(&lab, "before", "0");
    let bin = env!("CARGO_BIN_EXE_keepalived-lite");
    let mut pids = Vec::new();
    for (node, vrid) in [("ka", 51), ("kl", 52)] {
        let conf = dir.join(format!("{node}.conf"));
        std::fs::write(&conf, config(vrid)).unwrap();
        let log = dir.join(format!("{node}.log"));
        let pid = if node == "kl" {
            lab.spawn_lite_daemon(node, bin, &conf, &dir, &log)
        } else {
            lab.spawn_vrrp_daemon(node, "keepalived", &conf, &dir, &log)
        };
        pids.push(pid.unwrap());
    }
    expect(&lab, "running", "1");
    for pid in pids {
        lab.stop(pid, Duration::from_secs(10));
    }
    expect(&lab, "stopped", "0");
}
