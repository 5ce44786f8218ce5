//! One VRID on one interface for two instances on different multicast
//! groups, keepalived 2.2.7 against keepalived-lite in twin layouts (issue
//! 14; needs root, iproute2, nft, tcpdump and keepalived). keepalived
//! accepts it (it refuses the same VRID only on the same group: "VI_1 and
//! VI_2 both use VRID 51 with IPv4 on interface eth0").
//!
//! On `r1`, VI_1 (VRID 51, 224.0.0.18) and VI_2 (VRID 51, `mcast_dst_ip
//! 224.0.0.20`) become MASTER and advertise to their own group; the
//! keepalived peer on `r2`, with the same pair at a higher priority, makes
//! each BACKUP by its own group's adverts, and hears each of `r1`'s.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

#[path = "twin/mcast.rs"]
mod mcast;
mod twin;

use keepalived_lite::netns::require_program;
use mcast::destinations4 as destinations;
use twin::Twin;

fn conf(state: &str, priority: u8) -> String {
    let inst = |name: &str, vip: u8, extra: &str| {
        format!(
            "vrrp_instance {name} {{\n  state {state}\n  interface eth0\n  \
             virtual_router_id 51\n  priority {priority}\n  advert_int 1\n{extra}  \
             virtual_ipaddress {{\n    10.77.0.{vip}/24\n  }}\n}}\n"
        )
    };
    inst("VI_1", 100, "") + &inst("VI_2", 101, "  mcast_dst_ip 224.0.0.20\n")
}

#[test]
fn root_netns_one_vrid_two_groups_matches_keepalived() {
    require_program("tcpdump", &["--version"]);
    let mut twin = Twin::new(&[]);
    twin.start_masters(&conf("MASTER", 100), &["VI_1", "VI_2"]);
    let vips = |s: &str| s.contains("inet 10.77.0.100/24") && s.contains("inet 10.77.0.101/24");
    twin.same_state("MASTER", vips);
    let want = ["vrid 51 -> 224.0.0.18", "vrid 51 -> 224.0.0.20"];
    assert_eq!(destinations(&twin.ka), want, "keepalived");
    assert_eq!(destinations(&twin.lite), want, "keepalived-lite");

    twin.start_peers(&conf("BACKUP", 200), &["VI_1", "VI_2"]);
    for vi in ["VI_1", "VI_2"] {
        let heard = format!("({vi}) received lower priority (100) advert from 10.77.0.1");
        twin.wait_log("r2", &heard, 1);
    }
    let gone = |s: &str| !s.contains("10.77.0.100") && !s.contains("10.77.0.101");
    twin.same_state("BACKUP", gone);
    // Each of r1's instances heard its own group's master only: no
    // advert dropped for a wrong address list or interval.
    for side in [&twin.ka, &twin.lite] {
        let log = side.log_text("r1");
        assert!(!log.contains("dropped") && !log.contains("rror"), "{log}");
    }
    twin.stop_both(gone);
}
