//! keepalived 2.2.7 and keepalived-lite side by side (issue 14): lines
//! keepalived reports as configuration errors (its `-t` fails) but runs
//! past, and the log lines of `interface_up_down_delays`. Both daemons
//! start, log each line and run the instance the same way.
//!
//! Each daemon runs in its own lab (bridge, node `r1` with `eth0`).
//! Needs root, iproute2 and keepalived.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

#[path = "twin/lone.rs"]
mod lone;

use keepalived_lite::netns::{require_program, require_root};
use lone::{wait, Side, KEEPALIVED, LITE, WAIT};

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

#[test]
fn root_netns_configuration_errors_keepalived_runs_past_run_in_both() {
    require_root();
    require_program(KEEPALIVED, &["-v"]);
    let ka = Side::start("keepalived", KEEPALIVED, |_| CONFIG.to_owned());
    let lite = Side::start("lite", LITE, |_| CONFIG.to_owned());
    wait("MASTER", [&ka, &lite], |_, s| s.states("VI_1").len() >= 2);
    let want = ["BACKUP STATE (init)", "MASTER STATE"];
    assert_eq!(ka.states("VI_1"), want, "{}", ka.log_text());
    assert_eq!(lite.states("VI_1"), want, "{}", lite.log_text());
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
