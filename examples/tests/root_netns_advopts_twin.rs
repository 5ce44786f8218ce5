//! keepalived's advert and process knobs, keepalived 2.2.7 against
//! keepalived-lite in twin layouts (issue 14; needs root, iproute2, nft
//! and keepalived). On `r1`, the daemon under test runs two VRRPv3 unicast
//! instances with `vrrp_startup_delay`, `log_unknown_vrids` and
//! `disable_local_igmp`:
//!
//! - VI_1 with `old_unicast_checksum`: its adverts must be accepted by a
//!   keepalived peer without the keyword, which switches to the old
//!   checksum ("Setting unicast VRRPv3 checksum to old version") but, as
//!   keepalived 2.2.7 does, still sends the RFC one, which VI_1 drops: both
//!   stay MASTER, in both layouts;
//! - VI_2 without it, against a peer with it: the peer drops its RFC
//!   adverts and takes over with old ones, which make VI_2 switch (the
//!   same log line on `r1`) and go BACKUP.
//!
//! The peer also runs VRID 60 unicast to `r1` and VRID 61 multicast,
//! both unknown to `r1`: the unicast one is logged ("Unknown
//! VRID(60) received on interface(eth0). ignoring..."), the multicast one
//! never reaches `r1`'s unicast-only daemon (keepalived joins 224.0.0.18
//! for multicast instances only). The kernel state,
//! notify lines, those log lines and the IGMP sysctl (0 while running, 1
//! after the stop) are the same in both layouts.
//!
//! A second test runs a root `track_group` named by a `static_ipaddress`
//! entry on `eth1`: with `eth1` down the group's instance is in FAULT.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use twin::{Side, Twin};

const GLOBALS: &str =
    "global_defs {\n  vrrp_startup_delay 2\n  log_unknown_vrids\n  disable_local_igmp\n}\n";

/// A VRRPv3 instance of node `me` unicasting to node `peer`.
fn instance(name: &str, vrid: u8, me: u8, peer: u8, priority: u8, extra: &str) -> String {
    format!(
        "vrrp_instance {name} {{\n  state BACKUP\n  interface eth0\n  virtual_router_id {vrid}\n  \
         version 3\n  priority {priority}\n  advert_int 1\n{extra}  unicast_src_ip 10.77.0.{me}\n  \
         unicast_peer {{\n    10.77.0.{peer}\n  }}\n  virtual_ipaddress {{\n    10.77.0.{vrid}/24\n  }}\n}}\n"
    )
}

fn router() -> String {
    let vi1 = "  notify @NOTIFY@\n  old_unicast_checksum\n";
    format!(
        "{GLOBALS}{}{}",
        instance("VI_1", 51, 1, 2, 100, vi1),
        instance("VI_2", 52, 1, 2, 100, "")
    )
}

fn peer() -> String {
    format!(
        "{}{}{}vrrp_instance VI_4 {{\n  interface eth0\n  virtual_router_id 61\n  priority 100\n  \
         advert_int 1\n  virtual_ipaddress {{\n    10.77.0.61/24\n  }}\n}}\n",
        instance("VI_1", 51, 2, 1, 200, ""),
        instance("VI_2", 52, 2, 1, 200, "  old_unicast_checksum\n"),
        instance("VI_3", 60, 2, 1, 100, "")
    )
}

fn igmp_reports(s: &Side) -> String {
    let file = "/proc/sys/net/ipv4/igmp_link_local_mcast_reports";
    s.run("cat", &[file]).trim().to_owned()
}

#[test]
fn root_netns_advopts_twin_matches_keepalived() {
    let mut twin = Twin::new(&[]);
    assert_eq!(
        (igmp_reports(&twin.ka), igmp_reports(&twin.lite)),
        ("1".into(), "1".into())
    );
    for s in twin.sides() {
        s.start(&router());
    }
    twin.wait_log("r1", "Delaying startup for 2 seconds", 1);
    twin.wait_log("r1", "(VI_1) Entering MASTER STATE", 1);
    twin.wait_log("r1", "(VI_2) Entering MASTER STATE", 1);
    let both = |s: &str| s.contains("inet 10.77.0.51/24") && s.contains("inet 10.77.0.52/24");
    twin.same_state("MASTER", both);
    assert_eq!(
        (igmp_reports(&twin.ka), igmp_reports(&twin.lite)),
        ("0".into(), "0".into())
    );

    for s in twin.sides() {
        s.start_peer(&peer());
    }
    // keepalived on r2 takes our old checksum (and switches to it).
    twin.wait_log(
        "r2",
        "(VI_1) Setting unicast VRRPv3 checksum to old version",
        1,
    );
    // We take the peer's old checksum, for good.
    twin.wait_log(
        "r1",
        "(VI_2) Setting unicast VRRPv3 checksum to old version",
        1,
    );
    twin.wait_log("r2", "(VI_1) Entering MASTER STATE", 1);
    twin.wait_log("r1", "(VI_2) Entering BACKUP STATE", 2);
    twin.wait_log(
        "r1",
        "Unknown VRID(60) received on interface(eth0). ignoring...",
        3,
    );
    let vi1_only = |s: &str| s.contains("inet 10.77.0.51/24") && !s.contains("10.77.0.52");
    twin.same_state("VI_1 MASTER, VI_2 BACKUP", vi1_only);
    for s in [&twin.ka, &twin.lite] {
        let log = s.log_text("r1");
        let switched = "Setting unicast VRRPv3 checksum to old version";
        assert_eq!(log.matches(switched).count(), 1, "{:?}: {log}", s.kind);
        assert!(
            !log.contains("VI_1) Setting unicast"),
            "{:?}: {log}",
            s.kind
        );
        assert!(
            !log.contains("(VI_1) Entering BACKUP STATE\n"),
            "{:?}: {log}",
            s.kind
        );
    }

    for s in twin.sides() {
        s.stop();
    }
    let none = |s: &str| !s.contains("10.77.0.51") && !s.contains("10.77.0.52");
    twin.same_state("stopped", none);
    twin.same_notify(
        "BACKUP, MASTER, stop",
        &[
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 MASTER 100",
            "INSTANCE VI_1 STOP 100",
        ],
    );
    assert_eq!(
        (igmp_reports(&twin.ka), igmp_reports(&twin.lite)),
        ("1".into(), "1".into())
    );
}

/// `eth1` on each node: one end of a veth pair inside it.
const ETH1: &[&[&str]] = &[
    &[
        "link", "add", "eth1", "type", "veth", "peer", "name", "eth9",
    ],
    &["link", "set", "eth1", "up"],
    &["link", "set", "eth9", "up"],
];

const TRACK_GROUP: &str = "track_group TG {\n  group {\n    VI_1\n  }\n}\n\
    vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n  priority 100\n  \
    advert_int 1\n  notify @NOTIFY@\n  virtual_ipaddress {\n    10.77.0.100/24\n  }\n}\n\
    static_ipaddress {\n  10.77.9.9/32 dev eth1 track_group TG\n}\n";

/// A static address with `track_group`: the group's instance goes to
/// FAULT while the address's interface is down, in both layouts.
#[test]
fn root_netns_advopts_twin_track_group_matches_keepalived() {
    let mut twin = Twin::new(ETH1);
    for s in twin.sides() {
        s.start(TRACK_GROUP);
    }
    twin.wait_log("r1", "(VI_1) Entering MASTER STATE", 1);
    let vip = |s: &str| s.contains("inet 10.77.0.100/24") && s.contains("inet 10.77.9.9/32");
    twin.same_state("MASTER", vip);
    for s in twin.sides() {
        s.ip(&["link", "set", "eth1", "down"]);
    }
    twin.wait_log("r1", "(VI_1) Entering FAULT STATE", 1);
    let fault = |s: &str| !s.contains("10.77.0.100") && s.contains("inet 10.77.9.9/32");
    twin.same_state("FAULT", fault);
    for s in twin.sides() {
        s.ip(&["link", "set", "eth1", "up"]);
    }
    twin.wait_log("r1", "(VI_1) Entering MASTER STATE", 2);
    twin.same_state("MASTER again", vip);
    for s in twin.sides() {
        s.stop();
    }
    twin.same_state("stopped", |s| !s.contains("10.77.0.100"));
    twin.same_notify(
        "BACKUP, MASTER, FAULT, BACKUP, MASTER, stop",
        &[
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 MASTER 100",
            "INSTANCE VI_1 FAULT 100",
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 MASTER 100",
            "INSTANCE VI_1 STOP 100",
        ],
    );
}
