//! keepalived 2.2.7 and keepalived-lite side by side (issue 14): lines
//! keepalived reports as configuration errors (its `-t` fails) but runs
//! past, and the log lines of `interface_up_down_delays`. Both daemons
//! start, log each line and run the instance the same way.
//!
//! Each daemon runs in its own lab (bridge, node `r1` with `eth0`).
//! Needs root, iproute2 and keepalived.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, Lab};

const KEEPALIVED: &str = "/usr/sbin/keepalived";
const LITE: &str = env!("CARGO_BIN_EXE_keepalived-lite");
/// Generous: CI machines are small and loaded.
const WAIT: Duration = Duration::from_secs(30);

const CONFIG: &str = "\
global_defs {
    router_id ERRORS
    vrrp_iptables
    vrrp_ipsets
}
interface_up_down_delays {
    eth0
    eth0 1 2 3
    eth0 256
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        10.99.0.100/24
    }
    virtual_routes {
        blackhole 10.7.0.0/16
    }
}
";

/// What both log, in keepalived's words (keepalived prefixes the number
/// errors with "WARNING - " when running).
const LINES: [&str; 8] = [
    "iptables not supported, using nftables instead. Please replace 'vrrp_iptables and \
     'vrrp_ipsets' with 'nftables' config option",
    "Unknown keyword 'vrrp_ipsets'",
    "No timeouts specified for eth0 up/down delays",
    "Too many parameters for eth0 up/down delays",
    "number '256' outside range [0.000000, 255.000000]",
    "Invalid down delay 256 for eth0",
    "Warning - cannot track route 10.7.0.0/16 with no interface specified, not tracking",
    // The delays of the line with three values were used.
    "VI_1: interface eth0 debounce timer(s) not less that 2 * advert_int - resetting",
];

/// One side: a lab running `program` on `r1`.
struct Side {
    lab: Lab,
    dir: PathBuf,
    pid: u32,
    log: PathBuf,
}

impl Side {
    fn start(name: &str, program: &str) -> Side {
        let mut lab = Lab::new().unwrap();
        lab.add_node("r1", Ipv4Addr::new(10, 77, 0, 1), 24).unwrap();
        let dir = std::env::temp_dir().join(format!("{}-{name}", lab.node("r1").ns));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("keepalived.conf");
        std::fs::write(&conf, CONFIG).unwrap();
        let log = dir.join(format!("{name}.log"));
        let pid = if program == KEEPALIVED {
            lab.spawn_vrrp_daemon("r1", program, &conf, &dir, &log)
        } else {
            lab.spawn_lite_daemon("r1", program, &conf, &dir, &log)
        }
        .unwrap();
        Side { lab, dir, pid, log }
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The state changes logged for VI_1, without timestamps.
    fn entering(&self) -> Vec<String> {
        let needle = "(VI_1) Entering ";
        let log = self.log_text();
        let lines = log.lines().filter_map(|l| {
            let at = l.find(needle)?;
            Some(l[at + needle.len()..].trim_end().to_owned())
        });
        lines.collect()
    }
}

impl Drop for Side {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[test]
fn root_netns_configuration_errors_keepalived_runs_past_run_in_both() {
    require_root();
    require_program(KEEPALIVED, &["-v"]);
    let ka = Side::start("keepalived", KEEPALIVED);
    let lite = Side::start("lite", LITE);
    let deadline = Instant::now() + WAIT;
    let master = |s: &Side| s.entering().len() >= 2;
    while !(master(&ka) && master(&lite)) {
        assert!(
            Instant::now() < deadline,
            "no MASTER\n--- keepalived log\n{}\n--- keepalived-lite log\n{}",
            ka.log_text(),
            lite.log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let want = ["BACKUP STATE (init)", "MASTER STATE"];
    assert_eq!(ka.entering(), want, "{}", ka.log_text());
    assert_eq!(lite.entering(), want, "{}", lite.log_text());
    for side in [&ka, &lite] {
        let log = side.log_text();
        for line in LINES {
            assert!(log.contains(line), "missing {line:?} in\n{log}");
        }
    }
    let mut ka = ka;
    let mut lite = lite;
    ka.lab.stop(ka.pid, WAIT);
    lite.lab.stop(lite.pid, WAIT);
}
