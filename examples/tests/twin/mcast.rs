//! What the multicast twin tests read on both sides: where `r1`'s adverts
//! go (captured on `r2`) and which groups `r1`'s `eth0` joined. Include it
//! with `#[path = "twin/mcast.rs"] mod mcast;` next to `mod twin;`.
#![allow(dead_code)] // each test file uses part of it

use crate::twin::Side;

/// The destinations of `r1`'s next adverts matching the tcpdump `filter`,
/// seen from `r2`, as sorted distinct "vrid N -> GROUP".
pub(crate) fn destinations(side: &Side, filter: &str) -> Vec<String> {
    let args = [
        "20", "tcpdump", "-n", "-t", "-l", "-c", "6", "-i", "eth0", filter,
    ];
    let out = side.lab.run("r2", "timeout", &args).unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut dst: Vec<String> = (text.lines())
        .filter_map(|l| {
            // "IP6 fe80::...:1 > ff02::13: VRRPv3, Advertisement, vrid 61, ..."
            // (IPv4 alike): the group ends at the first ": ".
            let to = l.split(" > ").nth(1)?.split(": ").next()?;
            let vrid = l.split("vrid ").nth(1)?.split(',').next()?;
            Some(format!("vrid {vrid} -> {to}"))
        })
        .collect();
    dst.sort_unstable();
    dst.dedup();
    dst
}

/// The destinations of `r1`'s next IPv4 adverts, seen from `r2`.
pub(crate) fn destinations4(side: &Side) -> Vec<String> {
    destinations(side, "ip proto 112 and src 10.77.0.1")
}

/// `r1`'s multicast memberships on `eth0` in `family` ("inet" or
/// "inet6"), sorted.
pub(crate) fn memberships(side: &Side, family: &str) -> Vec<String> {
    let option = if family == "inet6" { "-6" } else { "-4" };
    let text = side.ip(&[option, "maddr", "show", "dev", "eth0"]);
    let prefix = format!("{family} ");
    let mut groups: Vec<String> = (text.lines())
        .filter_map(|l| l.trim().strip_prefix(prefix.as_str()))
        .map(|g| g.trim().to_owned())
        .collect();
    groups.sort_unstable();
    groups
}
