//! A router's own VMAC going down, up and away, keepalived 2.2.7 against
//! keepalived-lite in twin layouts (issue 14; needs root, iproute2, nft
//! and keepalived).
//!
//! VI_1 (`use_vmac`, alone, so MASTER) on `r1`; `eth0` has
//! `interface_up_down_delays` of 0 s down and 1 s up, which its VMAC
//! inherits. `ip link set vrrp.51 down`: both say "Netlink reports vrrp.51
//! down" and go to FAULT (the virtual address goes); the VMAC stays down
//! until it is set up again: after the 1 s up delay, "Netlink reports
//! vrrp.51 up", BACKUP, then MASTER. Then the VMAC is deleted: both report
//! it down, go to FAULT, make it again (reported up) and come back to
//! MASTER. Last an admin sets it down (FAULT) and renames it `foo`: both
//! say "Interface name has changed from vrrp.51 to foo", make a new
//! vrrp.51 (reported up) and come back to MASTER, leaving `foo` alone.
//! Renamed while up, the two part (see the last step).
//! States, log lines and notify lines must be the same.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use twin::Twin;

const CONF: &str = "interface_up_down_delays {\n  eth0 0 1\n}\n\
                    vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  use_vmac\n  \
                    virtual_router_id 51\n  priority 100\n  advert_int 1\n  \
                    notify @NOTIFY@\n  virtual_ipaddress {\n    10.88.0.100/32\n  }\n}\n";

/// `ip ARGS` on `r1` of both layouts.
fn both(t: &Twin, args: &[&str]) {
    for s in [&t.ka, &t.lite] {
        s.ip(args);
    }
}

#[test]
fn root_netns_vmac_link_down_is_a_fault_until_it_is_up_or_made_again() {
    let mut t = Twin::new(&[]);
    for s in t.sides() {
        s.start(CONF);
    }
    t.wait_log("r1", "(VI_1) Entering MASTER STATE", 1);
    let vmac_up = |s: &str| s.contains("vrrp.51@eth0: <BROADCAST,MULTICAST,UP,LOWER_UP>");
    t.same_state("master", |s| vmac_up(s) && s.contains("10.88.0.100/32"));

    both(&t, &["link", "set", "dev", "vrrp.51", "down"]);
    t.wait_log("r1", "(VI_1) Entering FAULT STATE", 1);
    // Left down, without the virtual address.
    t.same_state("fault", |s| {
        s.contains("vrrp.51@eth0: <BROADCAST,MULTICAST>") && !s.contains("10.88.0.100/32")
    });
    both(&t, &["link", "set", "dev", "vrrp.51", "up"]);
    t.wait_log(
        "r1",
        "vrrp.51: Adding flags change from 0x1002 to 0x11043 delay by 1000000",
        1,
    );
    t.wait_log("r1", "(VI_1) Entering MASTER STATE", 2);
    t.same_state("master again", |s| {
        vmac_up(s) && s.contains("10.88.0.100/32")
    });
    let needles = ["Netlink reports", "Adding flags change", "Entering"];
    let want = [
        "(VI_1) Entering BACKUP STATE (init)",
        "(VI_1) Entering MASTER STATE",
        "Netlink reports vrrp.51 down",
        "(VI_1) Entering FAULT STATE",
        "vrrp.51: Adding flags change from 0x1002 to 0x11043 delay by 1000000",
        "Netlink reports vrrp.51 up",
        "(VI_1) Entering BACKUP STATE",
        "(VI_1) Entering MASTER STATE",
    ];
    for s in [&t.ka, &t.lite] {
        let got = s.lines_from_init(&needles);
        assert_eq!(got, want, "{:?}\n{}", s.kind, t.logs("r1"));
    }

    // Deleted: made again at once (the base interface is up).
    both(&t, &["link", "del", "dev", "vrrp.51"]);
    t.wait_log("r1", "(VI_1) Entering FAULT STATE", 2);
    t.wait_log("r1", "(VI_1) Entering MASTER STATE", 3);
    t.same_state("made again", |s| vmac_up(s) && s.contains("10.88.0.100/32"));
    // keepalived sees the deleted link's flags go to 0, then the new one.
    let after = [
        "Netlink reports vrrp.51 down",
        "(VI_1) Entering FAULT STATE",
        "Netlink reports vrrp.51 up",
        "(VI_1) Entering BACKUP STATE",
        "(VI_1) Entering MASTER STATE",
    ];
    for s in [&t.ka, &t.lite] {
        let got = s.lines_from_init(&needles);
        assert_eq!(
            got,
            [&want[..], &after[..]].concat(),
            "{:?}\n{}",
            s.kind,
            t.logs("r1")
        );
    }

    // Set down and renamed: a new one is made, the renamed one stays.
    both(&t, &["link", "set", "dev", "vrrp.51", "down"]);
    t.wait_log("r1", "(VI_1) Entering FAULT STATE", 3);
    both(&t, &["link", "set", "dev", "vrrp.51", "name", "foo"]);
    t.wait_log("r1", "(VI_1) Entering MASTER STATE", 4);
    t.same_state("renamed", |s| {
        vmac_up(s) && s.contains("10.88.0.100/32") && s.contains("foo@eth0: <BROADCAST,MULTICAST>")
    });
    let renamed = [
        "Netlink reports vrrp.51 down",
        "(VI_1) Entering FAULT STATE",
        "Interface name has changed from vrrp.51 to foo",
        "Netlink reports vrrp.51 up",
        "(VI_1) Entering BACKUP STATE",
        "(VI_1) Entering MASTER STATE",
    ];
    let needles = [&needles[..], &["Interface name has changed"]].concat();
    for s in [&t.ka, &t.lite] {
        let got = s.lines_from_init(&needles);
        assert_eq!(
            got,
            [&want[..], &after[..], &renamed[..]].concat(),
            "{:?}\n{}",
            s.kind,
            t.logs("r1")
        );
    }
    t.same_notify(
        "vmac down, up, deleted, renamed",
        &[
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 MASTER 100",
            "INSTANCE VI_1 FAULT 100",
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 MASTER 100",
            "INSTANCE VI_1 FAULT 100",
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 MASTER 100",
            "INSTANCE VI_1 FAULT 100",
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 MASTER 100",
        ],
    );

    // Renamed while up (a known divergence): the kernel refuses a second
    // VMAC of that MAC up. keepalived leaves the new vrrp.51 down and
    // goes back to MASTER on it, sending nothing ("Network is
    // unreachable"); keepalived-lite reports the refusal once and stays in
    // FAULT until the interface changes.
    both(&t, &["link", "set", "dev", "vrrp.51", "name", "bar"]);
    t.wait_log("r1", "Interface name has changed from vrrp.51 to bar", 1);
    t.wait_log("r1", "(VI_1) Entering FAULT STATE", 4);
    let deadline = std::time::Instant::now() + twin::WAIT;
    while t
        .ka
        .log_text("r1")
        .matches("(VI_1) Entering MASTER STATE")
        .count()
        < 5
    {
        assert!(std::time::Instant::now() < deadline, "{}", t.logs("r1"));
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let lite = t.lite.log_text("r1");
    let refused = "bind to interface: set link: kernel answered errno 98";
    assert_eq!(lite.matches(refused).count(), 1, "{}", t.logs("r1"));
    let last = t.lite.lines_from_init(&["Entering"]);
    assert_eq!(
        last.last().map(String::as_str),
        Some("(VI_1) Entering FAULT STATE")
    );
    for s in t.sides() {
        s.stop();
    }
}
