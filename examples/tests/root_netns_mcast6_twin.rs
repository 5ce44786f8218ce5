//! IPv6 multicast groups other than ff02::12 (`vrrp_mcast_group6`,
//! `mcast_dst_ip`), keepalived 2.2.7 against keepalived-lite in twin
//! layouts (issue 14; needs root, iproute2, nft, tcpdump and keepalived):
//! VI_1 (VRID 61) on the global group ff02::13, VI_2 (VRID 62) on its own
//! ff02::14. Both become MASTER; their adverts, captured on `r2`, go to
//! the same groups, and `r1`'s `eth0` joined the same groups.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

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
    let filter = "ip6 and ip6[6] == 112";
    let args = [
        "20", "tcpdump", "-n", "-t", "-l", "-c", "6", "-i", "eth0", filter,
    ];
    let out = side.lab.run("r2", "timeout", &args).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut dst: Vec<String> = (text.lines())
        .filter_map(|l| {
            // "IP6 fe80::...:1 > ff02::13: VRRPv3, Advertisement, vrid 61, ..."
            let to = l.split(" > ").nth(1)?.split(": ").next()?;
            let vrid = l.split("vrid ").nth(1)?.split(',').next()?;
            Some(format!("vrid {vrid} -> {to}"))
        })
        .collect();
    dst.sort_unstable();
    dst.dedup();
    dst
}

/// `r1`'s IPv6 multicast memberships on `eth0` among the VRRP groups.
fn memberships(side: &Side) -> Vec<String> {
    let text = side.ip(&["-6", "maddr", "show", "dev", "eth0"]);
    let mut groups: Vec<String> = (text.lines())
        .filter_map(|l| l.trim().strip_prefix("inet6 "))
        .map(|g| g.trim().to_owned())
        .filter(|g| ["ff02::12", "ff02::13", "ff02::14"].contains(&g.as_str()))
        .collect();
    groups.sort_unstable();
    groups
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
