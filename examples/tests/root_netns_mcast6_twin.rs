//! IPv6 multicast groups other than ff02::12 (`vrrp_mcast_group6`,
//! `mcast_dst_ip`), keepalived 2.2.7 against keepalived-lite in twin
//! layouts (issue 14; needs root, iproute2, nft, tcpdump and keepalived):
//! VI_1 (VRID 61) on the global group ff02::13, VI_2 (VRID 62) on its own
//! ff02::14. Both become MASTER; their adverts, captured on `r2`, go to
//! the same groups, and `r1`'s `eth0` joined the same groups.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

#[path = "twin/mcast.rs"]
mod mcast;
mod twin;

use keepalived_lite::netns::require_program;
use twin::{Side, Twin};

fn conf() -> String {
    let inst = |name: &str, vrid: u8, extra: &str| {
        format!(
            "vrrp_instance {name} {{\n  state MASTER\n  interface eth0\n  \
             virtual_router_id {vrid}\n  priority 150\n  advert_int 1\n{extra}  \
             virtual_ipaddress {{\n    fd00::{vrid}/64\n  }}\n}}\n"
        )
    };
    format!(
        "global_defs {{\n  vrrp_mcast_group6 ff02::13\n}}\n{}{}",
        inst("VI_1", 61, ""),
        inst("VI_2", 62, "  mcast_dst_ip ff02::14\n")
    )
}

/// The destinations of `r1`'s next adverts (both VRIDs), seen from `r2`.
fn destinations(side: &Side) -> Vec<String> {
    mcast::destinations(side, "ip6 and ip6[6] == 112")
}

/// `r1`'s IPv6 multicast memberships on `eth0` among the VRRP groups.
fn memberships(side: &Side) -> Vec<String> {
    let vrrp = ["ff02::12", "ff02::13", "ff02::14"];
    let groups = mcast::memberships(side, "inet6").into_iter();
    groups.filter(|g| vrrp.contains(&g.as_str())).collect()
}

#[test]
fn root_netns_mcast6_twin_matches_keepalived() {
    require_program("tcpdump", &["--version"]);
    let mut twin = Twin::new(&[]);
    twin.start_masters(&conf(), &["VI_1", "VI_2"]);
    let vips = |s: &str| s.contains("inet6 fd00::61/64") && s.contains("inet6 fd00::62/64");
    twin.same_state("MASTER", vips);
    let want = ["vrid 61 -> ff02::13", "vrid 62 -> ff02::14"];
    assert_eq!(destinations(&twin.ka), want, "keepalived");
    assert_eq!(destinations(&twin.lite), want, "keepalived-lite");
    let want = ["ff02::13", "ff02::14"];
    assert_eq!(memberships(&twin.ka), want, "keepalived");
    assert_eq!(memberships(&twin.lite), want, "keepalived-lite");
    twin.stop_both(|s| !s.contains("fd00::61") && !s.contains("fd00::62"));
}
