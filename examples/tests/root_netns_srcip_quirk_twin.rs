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

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, Lab};

const KEEPALIVED: &str = "/usr/sbin/keepalived";
const LITE: &str = env!("CARGO_BIN_EXE_keepalived-lite");
/// Generous: CI machines are small and loaded.
const WAIT: Duration = Duration::from_secs(30);
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
        lab.add_node("r1", Ipv4Addr::new(2, 0, 0, 0), 24).unwrap();
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

    fn ip(&self, args: &[&str]) {
        let out = self.lab.run("r1", "ip", args).unwrap();
        assert!(out.status.success(), "ip {args:?}: {out:?}");
    }

    /// The state changes logged for `instance`, without timestamps.
    fn entering(&self, instance: &str) -> Vec<String> {
        let needle = format!("({instance}) Entering ");
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines = log.lines().filter_map(|l| {
            let at = l.find(&needle)?;
            Some(l[at + needle.len()..].trim_end().to_owned())
        });
        lines.collect()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Side {
    /// The files go even when the test fails (its message has the logs);
    /// the lab then stops the daemons and deletes the namespaces.
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Polls until both sides' last state change of `instance` is `state`
/// (and it has at least `n` changes), or fails with their logs.
fn wait(sides: [&Side; 2], instance: &str, n: usize, state: &str) {
    let deadline = Instant::now() + WAIT;
    let done = |s: &Side| {
        let e = s.entering(instance);
        e.len() >= n && e.last().is_some_and(|l| l.starts_with(state))
    };
    while !sides.iter().all(|s| done(s)) {
        assert!(
            Instant::now() < deadline,
            "{instance} never reached {state} ({n} changes)\n--- keepalived log\n{}\n\
             --- keepalived-lite log\n{}",
            sides[0].log_text(),
            sides[1].log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn root_netns_track_src_ip_on_2_0_0_0_stays_fault_until_reload_as_in_keepalived() {
    require_root();
    require_program(KEEPALIVED, &["-v"]);
    let ka = Side::start("keepalived", KEEPALIVED);
    let lite = Side::start("lite", LITE);
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
        assert_eq!(s.entering("VI_1"), fault, "{}", s.log_text());
    }

    // A reload brings it back.
    for s in both {
        s.lab.signal(s.pid, "HUP").unwrap();
    }
    wait(both, "VI_1", 5, "MASTER");
    // keepalived starts its instances again ("(init)"); keepalived-lite
    // keeps the router and clears its FAULT.
    assert_eq!(
        ka.entering("VI_1")[3..],
        ["BACKUP STATE (init)", "MASTER STATE"]
    );
    assert_eq!(lite.entering("VI_1")[3..], ["BACKUP STATE", "MASTER STATE"]);

    let mut ka = ka;
    let mut lite = lite;
    ka.lab.stop(ka.pid, WAIT);
    lite.lab.stop(lite.pid, WAIT);
}
