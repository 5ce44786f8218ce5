//! One VRID on one interface for two unicast instances with different
//! peers, keepalived 2.2.7 against keepalived-lite in twin layouts (issue
//! 14; needs root, iproute2, nft, tcpdump and keepalived). keepalived
//! accepts the pair (it refuses one only when the two also share a peer
//! and a source address: "(VI_B) duplicate VRID conflict with VI_C VRID
//! 51") and hands each unicast advert to the instance peering with its
//! sender.
//!
//! On `r1` (A), VI_B (VRID 51, priority 150) peers with `r2` (B) and VI_C
//! (VRID 51, priority 100) with `r3` (C); B (priority 100) and C (priority
//! 200) run keepalived, each with one instance of VRID 51 peering with A.
//! The pairs elect on their own: A is MASTER of VI_B and BACKUP of VI_C.
//! Were C's adverts handed to VI_B (or B's to VI_C), A would be BACKUP of
//! VI_B and MASTER of VI_C. The adverts of a fourth router, `r4`, which
//! peers with A but is no peer of A's, are ignored and, with
//! `log_unknown_vrids`, logged with their sender. When C stops, VI_C takes
//! over.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use std::net::Ipv4Addr;

use keepalived_lite::netns::require_program;
use twin::{Side, Twin, KEEPALIVED};

/// An instance of VRID 51 peering with `peer`.
fn instance(name: &str, priority: u8, peer: u8, vip: u8) -> String {
    format!(
        "vrrp_instance {name} {{\n  state BACKUP\n  interface eth0\n  \
         virtual_router_id 51\n  priority {priority}\n  advert_int 1\n  \
         unicast_peer {{\n    10.77.0.{peer}\n  }}\n  \
         virtual_ipaddress {{\n    10.77.0.{vip}/24\n  }}\n}}\n"
    )
}

/// A's configuration: VI_B with B, VI_C with C.
fn router_a() -> String {
    let global = "global_defs {\n  log_unknown_vrids\n}\n";
    global.to_owned() + &instance("VI_B", 150, 2, 100) + &instance("VI_C", 100, 3, 101)
}

/// Starts keepalived with `conf` on a new node `node` (10.77.0.`n`) of
/// `side`; its pid.
fn start_extra(side: &mut Side, node: &str, n: u8, conf: &str) -> u32 {
    let addr = Ipv4Addr::new(10, 77, 0, n);
    side.lab.add_node(node, addr, 24).unwrap();
    let path = side.dir.join(format!("{node}.conf"));
    std::fs::write(&path, conf).unwrap();
    let log = side.log(node);
    (side.lab)
        .spawn_vrrp_daemon(node, KEEPALIVED, &path, &side.dir, &log)
        .unwrap()
}

#[test]
fn root_netns_one_vrid_two_unicast_pairs_matches_keepalived() {
    require_program("tcpdump", &["--version"]);
    let mut twin = Twin::new(&[]);
    // B and C first, each MASTER alone.
    let mut c = Vec::new();
    for side in twin.sides() {
        side.start_peer(&instance("VI_A", 100, 1, 100));
        c.push(start_extra(side, "r3", 3, &instance("VI_A", 200, 1, 101)));
        start_extra(side, "r4", 4, &instance("VI_X", 50, 1, 102));
    }
    twin.wait_log("r2", "(VI_A) Entering MASTER STATE", 1);
    twin.wait_log("r3", "(VI_A) Entering MASTER STATE", 1);
    twin.wait_log("r4", "(VI_X) Entering MASTER STATE", 1);

    for side in twin.sides() {
        side.start(&router_a());
    }
    // A preempts B, and B hears it.
    twin.wait_log("r1", "(VI_B) Entering MASTER STATE", 1);
    twin.wait_log("r2", "(VI_A) Entering BACKUP STATE", 2);
    // Five more of C's adverts after that: by then VI_C would have taken
    // over if B's adverts, not C's, reached it.
    for side in [&twin.ka, &twin.lite] {
        let args = [
            "30",
            "tcpdump",
            "-n",
            "-c",
            "5",
            "-i",
            "eth0",
            "ip proto 112 and src 10.77.0.3",
        ];
        let out = side.lab.run("r3", "timeout", &args).unwrap();
        assert!(out.status.success(), "{}", twin.logs("r3"));
    }
    let stranger = "Unknown VRID(51) received on interface(eth0) from 10.77.0.4. ignoring...";
    twin.wait_log("r1", stranger, 2);
    let split = |s: &str| s.contains("inet 10.77.0.100/24") && !s.contains("10.77.0.101");
    twin.same_state("A master of VI_B, backup of VI_C", split);
    for side in [&twin.ka, &twin.lite] {
        let log = side.log_text("r1");
        assert!(!log.contains("(VI_C) Entering MASTER STATE"), "{log}");
        // C stayed MASTER: its one BACKUP line is the "(init)" one.
        let log = side.log_text("r3");
        assert_eq!(
            log.matches("(VI_A) Entering BACKUP STATE").count(),
            1,
            "{log}"
        );
    }

    // C stops (priority 0): VI_C takes over at once, VI_B stays.
    let [ka, lite] = twin.sides();
    ka.lab.stop(c[0], twin::WAIT);
    lite.lab.stop(c[1], twin::WAIT);
    twin.wait_log("r1", "(VI_C) Entering MASTER STATE", 1);
    let both = |s: &str| s.contains("inet 10.77.0.100/24") && s.contains("inet 10.77.0.101/24");
    twin.same_state("A master of both", both);
    for side in [&twin.ka, &twin.lite] {
        let log = side.log_text("r1");
        assert_eq!(
            log.matches("(VI_B) Entering MASTER STATE").count(),
            1,
            "{log}"
        );
    }

    for side in twin.sides() {
        side.stop();
        side.stop_peer();
    }
    let gone = |s: &str| !s.contains("10.77.0.100") && !s.contains("10.77.0.101");
    twin.same_state("stopped", gone);
}
