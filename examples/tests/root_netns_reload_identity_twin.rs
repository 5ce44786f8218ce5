//! Reloads that change what makes an instance "the same" for keepalived
//! 2.2.7 (`vrrp_exist` in vrrp.c: interface, unicast source, whether it
//! has a VMAC), keepalived 2.2.7 against keepalived-lite in twin layouts
//! (issue 14; needs root, iproute2, nft, tcpdump and keepalived).
//!
//! A MASTER instance is reloaded (SIGHUP) through one edit at a time; once
//! both daemons have settled, `ip -d link`, `ip -d addr`, the routes of
//! every table, the rules, the nftables ruleset, the sysctls the VMAC code
//! sets and the notify lines are the same in both layouts. A capture on
//! `r2` counts the priority-0 adverts each daemon sent across each reload,
//! and `ip monitor address` on `r1` the VIP's removals:
//!
//! | edit | keepalived 2.2.7: prio 0 / VIP removed | keepalived-lite |
//! | --- | --- | --- |
//! | `use_vmac` added | 1 / 1 | 1 / 1 |
//! | `use_vmac vrrp.9` (renamed) | 0 / 1 | 0 / 1 |
//! | `use_vmac` removed | 1 / 1 | 1 / 1 |
//! | `unicast_src_ip` changed | 1 / 1 | 1 / 1 |
//! | `interface` changed | 1 / 1 | 1 / 1 |
//!
//! Every edit but the rename makes keepalived delete the instance (a
//! master sends priority 0 and removes its VIP; notify FAULT, as it does
//! for a deleted instance without `notify_deleted`) and make a new one
//! (BACKUP, then MASTER after Master_Down_Interval); keepalived-lite
//! restarts the router the same way. A VMAC renamed is the same instance
//! for keepalived: it deletes the old VMAC and makes the new one, stays
//! MASTER without priority 0, and keepalived-lite does the same. Two
//! differences are deliberate and asserted on their own:
//! * after the rename keepalived 2.2.7 has lost the VIP (it went with the
//!   old VMAC and is never added to the new one) while keepalived-lite
//!   moves it to the new VMAC (with gratuitous ARPs): a master keeps its
//!   addresses;
//! * after `use_vmac` is removed keepalived 2.2.7 leaves its `table ip
//!   keepalived` with the deleted VMAC's index in `vmac_map`;
//!   keepalived-lite deletes the table with its last VMAC.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use std::time::{Duration, Instant};

use twin::{Side, Twin, WAIT};

/// `eth1`, one end of an up veth pair (the other `eth8`), with
/// 10.78.0.N/24, and a second address on `eth0`
/// (10.77.0.1N/24), for the unicast source to move to.
const SETUP: &[&[&str]] = &[
    &[
        "link", "add", "eth1", "type", "veth", "peer", "name", "eth8",
    ],
    &["addr", "add", "10.78.0.@N@/24", "dev", "eth1"],
    &["link", "set", "eth8", "up"],
    &["link", "set", "eth1", "up"],
    &["addr", "add", "10.77.0.1@N@/24", "dev", "eth0"],
];

/// The instance; `@IF@` its interface, `@EXTRA@` the edited lines.
const CONF: &str = "\
vrrp_instance VI_1 {
    state MASTER
    interface @IF@
@EXTRA@    virtual_router_id 51
    priority 100
    advert_int 1
    notify @NOTIFY@
    virtual_ipaddress {
        10.77.0.100/24
    }
}
";

fn conf(interface: &str, extra: &str) -> String {
    CONF.replace("@IF@", interface).replace("@EXTRA@", extra)
}

/// What a reload did on the wire and to the addresses, in one layout.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Flap {
    /// Priority-0 adverts `r2` received during the reload.
    priority_zero: usize,
    /// Times the VIP was deleted from a link of `r1`.
    vip_removals: usize,
}

/// A capture (tcpdump on `r2`) and an address monitor (on `r1`) spanning
/// one reload of one layout.
struct Watch {
    tcpdump: u32,
    monitor: u32,
}

impl Watch {
    fn start(side: &mut Side) -> Watch {
        let (cap, mon) = (side.dir.join("cap.txt"), side.dir.join("mon.txt"));
        let _ = std::fs::remove_file(&cap);
        let _ = std::fs::remove_file(&mon);
        let args = ["-i", "eth0", "-n", "-l", "-v", "ip proto 112"];
        let tcpdump = side.lab.spawn("r2", "tcpdump", &args, &cap).unwrap();
        let monitor = (side.lab)
            .spawn("r1", "ip", &["-o", "monitor", "address"], &mon)
            .unwrap();
        let deadline = Instant::now() + WAIT;
        while !read(&cap).contains("listening on") {
            assert!(Instant::now() < deadline, "tcpdump did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Watch { tcpdump, monitor }
    }

    fn stop(self, side: &mut Side) -> Flap {
        side.lab.stop(self.tcpdump, WAIT);
        side.lab.stop(self.monitor, WAIT);
        let cap = read(&side.dir.join("cap.txt"));
        let mon = read(&side.dir.join("mon.txt"));
        Flap {
            priority_zero: cap.matches("prio 0,").count(),
            vip_removals: mon
                .lines()
                .filter(|l| l.starts_with("Deleted") && l.contains("10.77.0.100/"))
                .count(),
        }
    }
}

fn read(path: &std::path::Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// `r1`'s state: [`Side::snapshot`] (without lifetimes), `ip -d link`, and the IPv4 and IPv6
/// interface sysctls keepalived's VMAC code writes.
fn state(side: &Side) -> String {
    let link = twin::normalise(&side.ip(&["-d", "link", "show"]));
    let script = "cd /proc/sys/net/ipv4/conf && \
        grep . */arp_ignore */arp_filter */accept_local */rp_filter */promote_secondaries; \
        cd /proc/sys/net/ipv6/conf && grep . */disable_ipv6";
    let sysctls = side.run("sh", &["-c", script]);
    // The lifetime lines follow their address lines, which `known` may
    // leave out; every address here lives forever.
    let addresses: String = (side.snapshot().lines())
        .filter(|l| !l.trim_start().starts_with("valid_lft forever"))
        .map(|l| format!("{l}\n"))
        .collect();
    format!("{addresses}# ip -d link\n{link}# sysctls\n{sysctls}")
}

/// Polls until both states are the same and `ok` holds; returns it.
fn same_state(t: &Twin, phase: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        let (a, b) = (state(&t.ka), state(&t.lite));
        if a == b && ok(&a) {
            return a;
        }
        if Instant::now() >= deadline {
            let only = |x: &str, y: &str| -> String {
                let other: Vec<&str> = y.lines().collect();
                (x.lines().filter(|l| !other.contains(l)))
                    .map(|l| format!("  {l}\n"))
                    .collect()
            };
            panic!(
                "{phase}: states differ (or lack what is expected)\n\
                 --- only keepalived's\n{}--- only keepalived-lite's\n{}--- keepalived\n{a}\n{}",
                only(&a, &b),
                only(&b, &a),
                t.logs("r1")
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Polls until `done` holds for both layouts.
fn wait_both(t: &Twin, what: &str, done: impl Fn(&Side) -> bool) {
    let deadline = Instant::now() + WAIT;
    while !(done(&t.ka) && done(&t.lite)) {
        assert!(Instant::now() < deadline, "{what}\n{}", t.logs("r1"));
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `side`'s log holds `needle` `n` times.
fn logged(side: &Side, needle: &str, n: usize) -> bool {
    side.log_text("r1").matches(needle).count() == n
}

/// The `n`th MASTER of VI_1 is logged.
fn masters(n: usize) -> impl Fn(&Side) -> bool {
    move |side| logged(side, "(VI_1) Entering MASTER STATE", n)
}

/// Reloads both layouts with `conf`; once `settled` holds for both, polls
/// until both states are the same and satisfy `ok`. What each layout
/// showed: (keepalived, keepalived-lite).
fn reload(
    t: &mut Twin,
    phase: &str,
    conf: &str,
    settled: impl Fn(&Side) -> bool,
    ok: impl Fn(&str) -> bool,
) -> (Flap, Flap) {
    let watches = [Watch::start(&mut t.ka), Watch::start(&mut t.lite)];
    for side in t.sides() {
        side.reload(conf);
    }
    wait_both(t, phase, settled);
    same_state(t, phase, ok);
    let [ka, lite] = watches;
    (ka.stop(&mut t.ka), lite.stop(&mut t.lite))
}

/// What a reload that deletes and makes the instance again shows in both.
const RESTART: Flap = Flap {
    priority_zero: 1,
    vip_removals: 1,
};

/// The notify lines of a start and `restarts` such reloads, then a stop.
fn restarts_notify(restarts: usize) -> Vec<&'static str> {
    let mut want = vec!["INSTANCE VI_1 BACKUP 100", "INSTANCE VI_1 MASTER 100"];
    for _ in 0..restarts {
        want.extend([
            "INSTANCE VI_1 FAULT 100",
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 MASTER 100",
        ]);
    }
    want.push("INSTANCE VI_1 STOP 100");
    want
}

/// Edits 1, 3 and 5: `use_vmac` added, removed, and another interface.
#[test]
fn root_netns_reload_identity_vmac_and_interface_match_keepalived() {
    let mut t = Twin::new(SETUP);
    t.start_masters(&conf("eth0", ""), &["VI_1"]);
    let on_eth0 = |s: &str| s.contains("inet 10.77.0.100/24 scope global secondary eth0");
    same_state(&t, "start", on_eth0);
    let vmac = conf("eth0", "    use_vmac\n");
    let added = reload(&mut t, "use_vmac added", &vmac, masters(2), |s| {
        s.contains("inet 10.77.0.100/24 scope global vrrp.51")
            && s.contains("vrrp.51/arp_ignore:1")
            && s.contains("eth0/arp_filter:1")
            && !on_eth0(s)
    });
    assert_eq!(added, (RESTART, RESTART), "use_vmac added");
    // keepalived keeps its table with the deleted VMAC in the map (see
    // the module documentation); the rest is compared.
    for side in t.sides() {
        side.nft = false;
    }
    let removed = reload(
        &mut t,
        "use_vmac removed",
        &conf("eth0", ""),
        masters(3),
        |s| {
            // The base interface keeps the VMAC's sysctls, in both.
            on_eth0(s) && !s.contains("vrrp.51") && s.contains("eth0/arp_filter:1")
        },
    );
    assert_eq!(removed, (RESTART, RESTART), "use_vmac removed");
    let ka = t.ka.run("nft", &["list", "ruleset"]);
    assert!(ka.contains("table ip keepalived"), "{ka}");
    assert!(ka.contains("elements = { 5 : \"eth0\" }"), "{ka}");
    assert_eq!(t.lite.run("nft", &["list", "ruleset"]), "");
    let moved = reload(
        &mut t,
        "interface changed",
        &conf("eth1", ""),
        masters(4),
        |s| s.contains("inet 10.77.0.100/24 scope global eth1") && !on_eth0(s),
    );
    assert_eq!(moved, (RESTART, RESTART), "interface changed");
    for side in t.sides() {
        side.stop();
    }
    t.same_notify("three restarts", &restarts_notify(3));
}

/// Edit 2: the VMAC renamed, the same instance for both: no priority 0,
/// no new state, the old VMAC replaced by the new one.
#[test]
fn root_netns_reload_identity_vmac_renamed_stays_master() {
    let mut t = Twin::new(SETUP);
    t.start_masters(&conf("eth0", "    use_vmac\n"), &["VI_1"]);
    same_state(&t, "start", |s| {
        s.contains("inet 10.77.0.100/24 scope global vrrp.51")
    });
    // keepalived loses the VIP, keepalived-lite keeps it: compared apart.
    for side in t.sides() {
        side.known = vec!["10.77.0.100"];
    }
    let renamed = conf("eth0", "    use_vmac vrrp.9\n");
    let settled = |side: &Side| {
        let needle = match side.kind {
            twin::Kind::Keepalived => "(VI_1) Deleting old VMAC interface vrrp.51",
            twin::Kind::Lite => "VRRP configuration applied: 0 unchanged, 1 updated",
        };
        logged(side, needle, 1)
    };
    let flaps = reload(&mut t, "VMAC renamed", &renamed, settled, |s| {
        s.contains("vrrp.9@eth0:") && !s.contains("vrrp.51")
    });
    // The VIP goes with the old VMAC (one removal), no priority 0.
    let same = Flap {
        priority_zero: 0,
        vip_removals: 1,
    };
    assert_eq!(flaps, (same, same), "VMAC renamed");
    let vip = |side: &Side| side.ip(&["-o", "-4", "addr", "show", "to", "10.77.0.100"]);
    assert_eq!(vip(&t.ka), "", "keepalived 2.2.7 lost the VIP");
    let lite = vip(&t.lite);
    assert!(
        lite.contains("vrrp.9    inet 10.77.0.100/24 scope global vrrp.9"),
        "{lite}"
    );
    assert!(masters(1)(&t.ka) && masters(1)(&t.lite), "{}", t.logs("r1"));
    for side in t.sides() {
        side.stop();
    }
    t.same_notify("a rename", &restarts_notify(0));
}

/// Edit 4: another `unicast_src_ip`.
#[test]
fn root_netns_reload_identity_unicast_source_matches_keepalived() {
    let mut t = Twin::new(SETUP);
    let unicast = |src: &str| {
        let peer = "    unicast_peer {\n        10.77.0.2\n    }\n";
        conf("eth0", &format!("    unicast_src_ip {src}\n{peer}"))
    };
    t.start_masters(&unicast("10.77.0.1"), &["VI_1"]);
    let vip = |s: &str| s.contains("inet 10.77.0.100/24 scope global secondary eth0");
    same_state(&t, "start", vip);
    let flaps = reload(
        &mut t,
        "unicast_src_ip changed",
        &unicast("10.77.0.11"),
        masters(2),
        vip,
    );
    assert_eq!(flaps, (RESTART, RESTART), "unicast_src_ip changed");
    for side in t.sides() {
        side.stop();
    }
    t.same_notify("a restart", &restarts_notify(1));
}
