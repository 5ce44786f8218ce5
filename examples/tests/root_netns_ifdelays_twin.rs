//! `interface_up_down_delays` and the loss of an interface's last IPv4
//! address, keepalived 2.2.7 against keepalived-lite in twin layouts
//! (issue 14; needs root, iproute2, nft and keepalived).
//!
//! Delays: VI_1 on `r1` (advert_int 5) is held BACKUP by a keepalived
//! peer on `r2`; `eth0` has a down delay of 12 s, which both shorten to
//! (3 - 1) x 5 s less 1/256 of an advert interval, and an up delay of 1 s.
//! `eth0` goes down and comes back as soon as both logs show the delay
//! started (well within it): nothing is acted on. Then it goes down for
//! good: after the delay both say "Netlink reports eth0 down" and go to
//! FAULT; it comes up: after the up delay, BACKUP. Both logs must hold the
//! same lines about it, in the same order, and both notify scripts the
//! same lines.
//!
//! Address loss: VI_1 alone on `r1` (master) advertises from `eth0`'s
//! IPv4 address. Another is added and the first deleted: nothing changes.
//! The other is deleted too (FAULT, its virtual address removed), then the
//! first added again (BACKUP, then MASTER): the same states, notify lines
//! and kernel state in both.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use twin::Twin;

const DELAYS: &str = "interface_up_down_delays {\n  eth0 12 1\n}\n";

fn instance(advert: u32, vip: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority 100\n  advert_int {advert}\n  notify @NOTIFY@\n  virtual_ipaddress {{\n    \
         {vip}\n  }}\n}}\n"
    )
}

const PEER: &str = "vrrp_instance VI_1 {\n  state BACKUP\n  interface eth0\n  \
                    virtual_router_id 51\n  priority 200\n  advert_int 5\n  \
                    virtual_ipaddress {\n    10.88.0.100/32\n  }\n}\n";

/// `ip link set dev eth0 UP_OR_DOWN` on `r1` of both layouts.
fn link(t: &Twin, how: &str) {
    for s in [&t.ka, &t.lite] {
        s.ip(&["link", "set", "dev", "eth0", how]);
    }
}

#[test]
fn a_link_change_waits_for_its_delay_and_a_flap_within_it_is_ignored() {
    let mut t = Twin::new(&[]);
    let conf = DELAYS.to_owned() + &instance(5, "10.88.0.100/32");
    for s in t.sides() {
        s.start_peer(PEER);
        s.start(&conf);
    }
    t.wait_log("r1", "(VI_1) Entering BACKUP STATE", 1);
    let clamp = "VI_1: interface eth0 debounce timer(s) not less that 2 * advert_int - resetting";
    t.wait_log("r1", clamp, 1);

    // A flap well within the delay: not acted on.
    let down = "eth0: Adding flags change from 0x11043 to 0x1002 delay by 9980469";
    link(&t, "down");
    t.wait_log("r1", down, 1);
    link(&t, "up");
    // Phase-locked to the kernel: both links are up again.
    for s in [&t.ka, &t.lite] {
        let deadline = std::time::Instant::now() + twin::WAIT;
        while !s.ip(&["link", "show", "dev", "eth0"]).contains("LOWER_UP") {
            assert!(std::time::Instant::now() < deadline, "eth0 not up again");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    // Down for good: acted on after the delay.
    link(&t, "down");
    t.wait_log("r1", down, 2);
    t.wait_log("r1", "(VI_1) Entering FAULT STATE", 1);
    link(&t, "up");
    t.wait_log(
        "r1",
        "eth0: Adding flags change from 0x1002 to 0x11043 delay by 1000000",
        1,
    );
    t.wait_log("r1", "(VI_1) Entering BACKUP STATE", 2);

    let needles = [
        "debounce timer",
        "Adding flags change",
        "Delay timer",
        "Netlink reports eth0",
        "Entering",
    ];
    // The shortening line comes before: both logs have it (above).
    let want = [
        "(VI_1) Entering BACKUP STATE (init)",
        down,
        down,
        "Netlink reports eth0 down",
        "(VI_1) Entering FAULT STATE",
        "eth0: Adding flags change from 0x1002 to 0x11043 delay by 1000000",
        "Netlink reports eth0 up",
        "(VI_1) Entering BACKUP STATE",
    ];
    for s in [&t.ka, &t.lite] {
        assert_eq!(
            s.lines_from_init(&needles),
            want,
            "{:?}\n{}",
            s.kind,
            t.logs("r1")
        );
    }
    t.same_notify(
        "delays",
        &[
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 FAULT 100",
            "INSTANCE VI_1 BACKUP 100",
        ],
    );
    for s in t.sides() {
        s.stop();
        s.stop_peer();
    }
}

#[test]
fn losing_the_last_ipv4_address_is_a_fault_until_one_returns() {
    let mut t = Twin::new(&[]);
    let conf = instance(1, "10.88.0.100/32");
    for s in t.sides() {
        s.start(&conf);
    }
    t.wait_log("r1", "(VI_1) Entering MASTER STATE", 1);
    t.same_state("master", |s| s.contains("10.88.0.100/32"));
    // The source goes, another address is left: no state change.
    for s in [&t.ka, &t.lite] {
        s.ip(&["addr", "add", "10.77.5.1/24", "dev", "eth0"]);
        s.ip(&["addr", "del", "10.77.0.1/24", "dev", "eth0"]);
    }
    t.same_state("other address", |s| {
        s.contains("10.88.0.100/32") && s.contains("10.77.5.1/24") && !s.contains("10.77.0.1/24")
    });
    // The last one goes.
    for s in [&t.ka, &t.lite] {
        s.ip(&["addr", "del", "10.77.5.1/24", "dev", "eth0"]);
    }
    t.wait_log("r1", "(VI_1) Entering FAULT STATE", 1);
    t.same_state("fault", |s| {
        !s.contains("10.88.0.100/32") && !s.contains("10.77.0.1/24")
    });
    for s in [&t.ka, &t.lite] {
        s.ip(&["addr", "add", "10.77.0.1/24", "dev", "eth0"]);
    }
    t.wait_log("r1", "(VI_1) Entering MASTER STATE", 2);
    t.same_state("master again", |s| s.contains("10.88.0.100/32"));
    // The lines about the virtual addresses differ in wording (and
    // keepalived-lite sends no priority-0 advert from a master that goes
    // to FAULT); the kernel states above are compared instead.
    let want = [
        "(VI_1) Entering BACKUP STATE (init)",
        "(VI_1) Entering MASTER STATE",
        "(VI_1) Entering FAULT STATE",
        "(VI_1) Entering BACKUP STATE",
        "(VI_1) Entering MASTER STATE",
    ];
    for s in [&t.ka, &t.lite] {
        assert_eq!(
            s.lines_from_init(&["Entering"]),
            want,
            "{:?}\n{}",
            s.kind,
            t.logs("r1")
        );
    }
    t.same_notify(
        "address loss",
        &[
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 MASTER 100",
            "INSTANCE VI_1 FAULT 100",
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 MASTER 100",
        ],
    );
    for s in t.sides() {
        s.stop();
    }
}
