//! keepalived 2.2.7 and keepalived-lite side by side on the same
//! configuration with `static_rules`, `virtual_rules` and multipath
//! routes (issue 14): the policy rules (`ip rule`, `ip -6 rule`) and the
//! routes of every table are the same as MASTER, after the instance goes
//! BACKUP (a peer with a higher priority takes over), and after stop.
//!
//! Each daemon runs in its own lab (bridge, node `r1` with `eth0` =
//! 10.77.0.1/24, peer `r2`), so both see the same interface names and
//! addresses. Needs root, iproute2 and keepalived.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, Lab};

const KEEPALIVED: &str = "/usr/sbin/keepalived";
const VIP: &str = "10.77.0.100/24";
/// Generous: CI machines are small and loaded.
const WAIT: Duration = Duration::from_secs(30);

/// The rules sample (keepalived.conf.vrrp.rules) adapted to the lab, with
/// more rule options, IPv6 rules and multipath routes.
const CONF: &str = "\
global_defs {
    router_id TWIN
}
static_rules {
    from 192.168.100.0/24 table 1
    to 192.168.101.0/24 table 1 priority 100
    from 2001:db8:100::/48 table 5 priority 200
}
static_routes {
    192.168.220.0/24 nexthop via 10.77.0.250 dev eth0 weight 2 nexthop via 10.77.0.251 dev eth0
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        10.77.0.100/24
    }
    virtual_rules {
        from 192.168.200.0/24 table 2
        to 192.168.201.0/24 table 2 priority 300
        fwmark 7/0xff lookup 3 priority 301
        iif eth0 to 192.168.202.0/24 priority 302 blackhole
        not from 192.168.203.0/24 priority 303 table 1000
        from 2001:db8:200::/48 table 6 priority 400
        priority 500 goto 600
        priority 601 ipproto tcp sport 1024-65534 dport 80-88 table 2
        tos 0x10 priority 602 table 2
        uidrange 1000-2000 oif eth0 priority 603 prohibit
        fwmark 9 priority 604 no_track nop
        from 2001:db8:300::/48 priority 605 unreachable
    }
    virtual_routes {
        192.168.113.0/24 via 10.77.0.252 or 10.77.0.253
        192.168.114.0/24 nexthop via 10.77.0.250 dev eth0 weight 3 nexthop via 10.77.0.251 dev eth0
        192.168.115.0/24 via 10.77.0.254 table 2
    }
}
";

/// The peer: same VRID, higher priority, nothing else.
const PEER: &str = "\
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 200
    advert_int 1
    virtual_ipaddress {
        10.77.0.100/24
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
        lab.add_node("r1", Ipv4Addr::new(10, 77, 0, 1), 24).unwrap();
        lab.add_node("r2", Ipv4Addr::new(10, 77, 0, 2), 24).unwrap();
        let dir = std::env::temp_dir().join(format!("{}-{name}", lab.node("r1").ns));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("keepalived.conf");
        std::fs::write(&conf, CONF).unwrap();
        let log = dir.join(format!("{name}.log"));
        let pid = if program == KEEPALIVED {
            lab.spawn_vrrp_daemon("r1", program, &conf, &dir, &log)
        } else {
            lab.spawn_lite_daemon("r1", program, &conf, &dir, &log)
        }
        .unwrap();
        Side { lab, dir, pid, log }
    }

    fn ip(&self, args: &[&str]) -> String {
        let out = self.lab.run("r1", "ip", args).unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn has_vip(&self) -> bool {
        self.ip(&["-4", "-o", "addr", "show", "dev", "eth0"])
            .contains(VIP)
    }

    /// Rules of both families and routes of every table, without what
    /// legitimately differs between two namespaces (link-local addresses).
    fn state(&self) -> String {
        let mut out = String::new();
        for args in [
            &["-4", "rule", "show"][..],
            &["-6", "rule", "show"],
            &["-4", "route", "show", "table", "all"],
            &["-6", "route", "show", "table", "all"],
        ] {
            out.push_str(&format!("# ip {}\n", args.join(" ")));
            for l in self.ip(args).lines().filter(|l| !l.contains("fe80:")) {
                out.push_str(l);
                out.push('\n');
            }
        }
        out
    }

    fn start_peer(&mut self) {
        let conf = self.dir.join("peer.conf");
        std::fs::write(&conf, PEER).unwrap();
        let log = self.dir.join("peer.log");
        self.lab
            .spawn_vrrp_daemon("r2", KEEPALIVED, &conf, &self.dir, &log)
            .unwrap();
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

/// Polls until `ok` holds for both sides, or fails with `what` and logs.
fn wait_both(what: &str, sides: &[&Side; 2], ok: impl Fn(&Side) -> bool) {
    let deadline = Instant::now() + WAIT;
    while !sides.iter().all(|s| ok(s)) {
        assert!(
            Instant::now() < deadline,
            "{what} never happened; logs:\n{}\n---\n{}",
            sides[0].log_text(),
            sides[1].log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Polls until both sides' kernel state is the same (it may lag the VIP
/// by a few requests), or fails showing both.
fn assert_same_state(phase: &str, ka: &Side, lite: &Side) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let (a, b) = (ka.state(), lite.state());
        if a == b {
            return a;
        }
        assert!(
            Instant::now() < deadline,
            "{phase}: kernel state differs\n--- keepalived\n{a}\n--- keepalived-lite\n{b}\n\
             --- keepalived-lite log\n{}",
            lite.log_text()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn root_netns_rules_and_multipath_routes_match_keepalived() {
    require_root();
    require_program(KEEPALIVED, &["-v"]);
    let mut ka = Side::start("keepalived", KEEPALIVED);
    let mut lite = Side::start("lite", env!("CARGO_BIN_EXE_keepalived-lite"));

    wait_both("MASTER", &[&ka, &lite], Side::has_vip);
    let master = assert_same_state("MASTER", &ka, &lite);
    // What MASTER must have, so that "the same" is not "both empty".
    for want in [
        "16384:\tfrom 192.168.100.0/24 lookup 1 proto keepalived",
        "100:\tfrom all to 192.168.101.0/24 lookup 1 proto keepalived",
        "16383:\tfrom 192.168.200.0/24 lookup 2 proto keepalived",
        "303:\tnot from 192.168.203.0/24 lookup 1000 proto keepalived",
        "500:\tfrom all goto 600 [unresolved] proto keepalived",
        "601:\tfrom all ipproto tcp sport 1024-65534 dport 80-88 lookup 2 proto keepalived",
        "400:\tfrom 2001:db8:200::/48 lookup 6 proto keepalived",
        "602:\tfrom all tos 0x10 lookup 2 proto keepalived",
        "603:\tfrom all oif eth0 uidrange 1000-2000 prohibit proto keepalived",
        "604:\tfrom all fwmark 0x9 nop\n",
        "605:\tfrom 2001:db8:300::/48 unreachable proto keepalived",
        "192.168.113.0/24 proto keepalived",
        "nexthop via 10.77.0.250 dev eth0 weight 3",
        "192.168.220.0/24 proto keepalived",
    ] {
        assert!(master.contains(want), "MASTER lacks {want:?}:\n{master}");
    }

    // A reload (SIGHUP) with one virtual rule and one static rule changed.
    let reloaded = CONF
        .replace(
            "to 192.168.201.0/24 table 2 priority 300",
            "to 192.168.209.0/24 table 2 priority 310",
        )
        .replace(
            "from 2001:db8:100::/48 table 5",
            "from 2001:db8:101::/48 table 5",
        );
    for s in [&ka, &lite] {
        std::fs::write(s.dir.join("keepalived.conf"), &reloaded).unwrap();
        s.lab.signal(s.pid, "HUP").unwrap();
    }
    wait_both("reload", &[&ka, &lite], |s| {
        let st = s.state();
        st.contains("310:\tfrom all to 192.168.209.0/24") && st.contains("2001:db8:101::/48")
    });
    let after = assert_same_state("MASTER after reload", &ka, &lite);
    assert!(!after.contains("192.168.201.0/24"), "{after}");
    assert!(!after.contains("2001:db8:100::/48"), "{after}");

    ka.start_peer();
    lite.start_peer();
    wait_both("BACKUP", &[&ka, &lite], |s| !s.has_vip());
    let backup = assert_same_state("BACKUP", &ka, &lite);
    assert!(!backup.contains("192.168.200.0/24"), "{backup}");
    assert!(
        backup.contains("from 192.168.100.0/24 lookup 1"),
        "{backup}"
    );

    ka.lab.stop(ka.pid, WAIT);
    lite.lab.stop(lite.pid, WAIT);
    let stopped = assert_same_state("stopped", &ka, &lite);
    assert!(!stopped.contains("lookup 1 "), "{stopped}");
    assert!(!stopped.contains("192.168.220.0/24"), "{stopped}");
}
