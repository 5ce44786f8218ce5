//! keepalived 2.2.7 and keepalived-lite side by side (issue 14): the one
//! source keepalived's `track_src_ip` acts on, IPv4 2.0.0.0 (see
//! `vrrp-conf/src/convert/vrrp/source.rs` for why).
//!
//! `VI_1` advertises from 2.0.0.0 with `track_src_ip`; `VI_2`, on the same
//! interface, takes its source from the interface. When 2.0.0.0, the
//! interface's only IPv4 address, is deleted, both go to FAULT. When
//! addresses come back, `VI_2` comes back (BACKUP, then MASTER), which
//! also shows the additions were handled; `VI_1` stays in FAULT. A reload
//! (SIGHUP) brings `VI_1` back to MASTER. Both daemons log the same state
//! changes per instance.
//!
//! Each daemon runs in its own lab (bridge, node `r1` with `eth0` =
//! 2.0.0.0/24, its only IPv4 address). Needs root, iproute2 and keepalived.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

#[path = "twin/lone.rs"]
mod lone;

use std::net::Ipv4Addr;

use keepalived_lite::netns::{require_program, require_root};
use lone::{Side, KEEPALIVED, LITE, WAIT};
/// The source of `VI_1`, `r1`'s only IPv4 address.
const SOURCE: &str = "2.0.0.0/24";
/// Another address, added after the source comes back.
const OTHER: &str = "10.77.0.1/24";

const CONFIG: &str = "\
global_defs {
    router_id QUIRK
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    mcast_src_ip 2.0.0.0
    track_src_ip
    virtual_ipaddress {
        10.99.0.100/24
    }
}
vrrp_instance VI_2 {
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    virtual_ipaddress {
        10.99.0.101/24
    }
}
";

/// `r1`'s address, [`SOURCE`].
const R1: Ipv4Addr = Ipv4Addr::new(2, 0, 0, 0);

/// Starts `program` on its own lab with [`CONFIG`].
fn start(name: &str, program: &str) -> Side {
    Side::start_at(name, program, R1, |_| CONFIG.to_owned())
}

/// Polls until both sides' last state change of `instance` is `state`
/// (and it has at least `n` changes), or fails with their logs.
fn wait(sides: [&Side; 2], instance: &str, n: usize, state: &str) {
    let what = format!("{instance} reaching {state} ({n} changes)");
    lone::wait(&what, sides, |_, s| {
        let e = s.states(instance);
        e.len() >= n && e.last().is_some_and(|l| l.starts_with(state))
    });
}

#[test]
fn root_netns_track_src_ip_on_2_0_0_0_stays_fault_until_reload_as_in_keepalived() {
    require_root();
    require_program(KEEPALIVED, &["-v"]);
    let ka = start("keepalived", KEEPALIVED);
    let lite = start("lite", LITE);
    let both = [&ka, &lite];
    wait(both, "VI_1", 2, "MASTER");
    wait(both, "VI_2", 2, "MASTER");

    // The source, the interface's last IPv4 address, goes: both FAULT.
    for s in both {
        s.ip(&["addr", "del", SOURCE, "dev", "eth0"]);
    }
    wait(both, "VI_1", 3, "FAULT");
    wait(both, "VI_2", 3, "FAULT");

    // Addresses come back: VI_2 returns, VI_1 stays in FAULT.
    for s in both {
        s.ip(&["addr", "add", SOURCE, "dev", "eth0"]);
        s.ip(&["addr", "add", OTHER, "dev", "eth0"]);
    }
    wait(both, "VI_2", 5, "MASTER");
    let fault = ["BACKUP STATE (init)", "MASTER STATE", "FAULT STATE"];
    for s in both {
        assert_eq!(s.states("VI_1"), fault, "{}", s.log_text());
    }

    // A reload brings it back.
    for s in both {
        s.lab.signal(s.pid, "HUP").unwrap();
    }
    wait(both, "VI_1", 5, "MASTER");
    // keepalived starts its instances again ("(init)"); keepalived-lite
    // keeps the router and clears its FAULT.
    assert_eq!(
        ka.states("VI_1")[3..],
        ["BACKUP STATE (init)", "MASTER STATE"]
    );
    assert_eq!(lite.states("VI_1")[3..], ["BACKUP STATE", "MASTER STATE"]);

    let mut ka = ka;
    let mut lite = lite;
    ka.lab.stop(ka.pid, WAIT);
    lite.lab.stop(lite.pid, WAIT);
}
