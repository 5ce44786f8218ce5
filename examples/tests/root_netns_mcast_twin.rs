//! Multicast groups other than 224.0.0.18 (`vrrp_mcast_group4`,
//! `mcast_dst_ip`), keepalived 2.2.7 against keepalived-lite in twin
//! layouts (issue 14; needs root, iproute2, nft, tcpdump and keepalived):
//! VI_1 on the global group 224.0.0.19, VI_2 on its own 224.0.0.20. The
//! peer on `r2` is keepalived with the same groups at a higher priority.
//! Each daemon hears the other (the peer logs `r1`'s lower-priority adverts
//! as discarded, `r1` becomes BACKUP), the adverts go to the same groups,
//! and the multicast memberships of `r1`'s `eth0` (`ip maddr`) and the
//! kernel state are the same.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

#[path = "twin/mcast.rs"]
mod mcast;
mod twin;

use keepalived_lite::netns::require_program;
use mcast::destinations4 as destinations;
use twin::{Side, Twin};

fn conf(state: &str, priority: u8, notify: &str) -> String {
    let inst = |name: &str, vrid: u8, vip: u8, extra: &str| {
        format!(
            "vrrp_instance {name} {{\n  state {state}\n  interface eth0\n  \
             virtual_router_id {vrid}\n  priority {priority}\n  advert_int 1\n{notify}{extra}  \
             virtual_ipaddress {{\n    10.77.0.{vip}/24\n  }}\n}}\n"
        )
    };
    format!(
        "global_defs {{\n  vrrp_mcast_group4 224.0.0.19\n}}\n{}{}",
        inst("VI_1", 51, 100, ""),
        inst("VI_2", 52, 101, "  mcast_dst_ip 224.0.0.20\n")
    )
}

/// `r1`'s IPv4 multicast memberships on `eth0`.
fn memberships(side: &Side) -> Vec<String> {
    mcast::memberships(side, "inet")
}

#[test]
fn root_netns_mcast_twin_matches_keepalived() {
    require_program("tcpdump", &["--version"]);
    let mut twin = Twin::new(&[]);
    let router = conf("MASTER", 100, "  notify @NOTIFY@\n");
    let peer = conf("BACKUP", 200, "");
    for s in twin.sides() {
        s.start(&router);
    }
    twin.wait_log("r1", "(VI_1) Entering MASTER STATE", 1);
    twin.wait_log("r1", "(VI_2) Entering MASTER STATE", 1);
    let vips = |s: &str| s.contains("inet 10.77.0.100/24") && s.contains("inet 10.77.0.101/24");
    twin.same_state("MASTER", vips);
    let want = ["224.0.0.1", "224.0.0.19", "224.0.0.20"];
    assert_eq!(memberships(&twin.ka), want, "keepalived");
    assert_eq!(memberships(&twin.lite), want, "keepalived-lite");
    let want = ["vrid 51 -> 224.0.0.19", "vrid 52 -> 224.0.0.20"];
    assert_eq!(destinations(&twin.ka), want, "keepalived");
    assert_eq!(destinations(&twin.lite), want, "keepalived-lite");

    for s in twin.sides() {
        s.start_peer(&peer);
    }
    // The peer (keepalived) hears r1 on both groups ...
    for vi in ["VI_1", "VI_2"] {
        let heard = format!("({vi}) received lower priority (100) advert from 10.77.0.1");
        twin.wait_log("r2", &heard, 1);
    }
    // ... and r1 hears the peer: BACKUP (the first is the "(init)" one).
    twin.wait_log("r1", "(VI_1) Entering BACKUP STATE", 2);
    twin.wait_log("r1", "(VI_2) Entering BACKUP STATE", 2);
    let gone = |s: &str| !s.contains("10.77.0.100") && !s.contains("10.77.0.101");
    twin.same_state("BACKUP", gone);
    let want = ["224.0.0.1", "224.0.0.19", "224.0.0.20"];
    assert_eq!(memberships(&twin.ka), want, "keepalived");
    assert_eq!(memberships(&twin.lite), want, "keepalived-lite");

    for s in twin.sides() {
        s.stop();
    }
    twin.same_state("stopped", gone);
    // The groups are left with the sockets.
    assert_eq!(memberships(&twin.ka), ["224.0.0.1"], "keepalived");
    assert_eq!(memberships(&twin.lite), ["224.0.0.1"], "keepalived-lite");
}
