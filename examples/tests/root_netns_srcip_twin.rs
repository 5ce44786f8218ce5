//! keepalived 2.2.7 and keepalived-lite side by side (issue 14):
//! `track_src_ip` with the configured source (`mcast_src_ip`) deleted
//! from the interface and restored.
//!
//! What keepalived 2.2.7 does (seen running it; its netlink reflector
//! compares the deleted address with the wrong bytes of the source's
//! `sockaddr`): nothing. The master stays MASTER, keeps advertising from
//! the deleted source and keeps its virtual address; no FAULT, no notify
//! line, neither when the source goes nor when it comes back. To know
//! that each deletion was handled, a virtual address is deleted after it
//! (the netlink messages come in that order): that one sends the master
//! to BACKUP and back to MASTER, in both daemons, so a FAULT caused by
//! the source would show in the notify lines before it.
//!
//! Each daemon runs in its own lab (bridge, node `r1` with `eth0` =
//! 10.77.0.1/24, its only IPv4 address), so both see the same interface
//! names and addresses. Needs root, iproute2 and keepalived.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

#[path = "twin/lone.rs"]
mod lone;

use std::path::Path;

use keepalived_lite::netns::{require_program, require_root};
use lone::{same, wait, Side, KEEPALIVED, LITE, WAIT};

/// The configured source: `r1`'s address.
const SOURCE: &str = "10.77.0.1/24";
/// The virtual address, in another subnet so that deleting the source
/// (a primary address) does not take it along as a secondary.
const VIP: &str = "10.99.0.100/24";

/// One instance, alone on its VRID (so master), tracking its source.
fn config(dir: &Path) -> String {
    format!(
        "\
global_defs {{
    router_id SRCIP
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    mcast_src_ip 10.77.0.1
    track_src_ip
    notify {dir}/notify.sh
    virtual_ipaddress {{
        {VIP}
    }}
}}
",
        dir = dir.display()
    )
}

/// The IPv4 addresses of `eth0`, sorted.
fn addresses(side: &Side) -> String {
    let text = side.ip(&["-4", "addr", "show", "dev", "eth0"]);
    let mut lines: Vec<&str> = text.lines().map(str::trim_start).collect();
    lines.retain(|l| l.starts_with("inet "));
    lines.sort_unstable();
    lines.join("\n")
}

/// Packets `eth0` sent so far.
fn tx_packets(side: &Side) -> u64 {
    let text = side.ip(&["-s", "-j", "link", "show", "dev", "eth0"]);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v[0]["stats64"]["tx"]["packets"].as_u64().unwrap()
}

/// Polls until both sides have the same addresses on `eth0` and `ok`
/// holds for them, or fails showing both.
fn same_addresses(phase: &str, ka: &Side, lite: &Side, ok: impl Fn(&str) -> bool) {
    same(phase, "addresses", [ka, lite], addresses, ok);
}

/// Deletes the virtual address on both sides and waits for the master's
/// BACKUP and MASTER lines (`n` lines in all then).
fn bounce_vip(phase: &str, both: [&Side; 2], n: usize) {
    for s in both {
        s.ip(&["addr", "del", VIP, "dev", "eth0"]);
    }
    wait(phase, both, |_, s| s.notify().len() >= n);
}

#[test]
fn root_netns_deleted_source_with_track_src_ip_matches_keepalived() {
    require_root();
    require_program(KEEPALIVED, &["-v"]);
    let ka = Side::start("keepalived", KEEPALIVED, config);
    let lite = Side::start("lite", LITE, config);
    let both = [&ka, &lite];
    let vip = format!("inet {VIP}");
    let source = format!("inet {SOURCE}");

    wait("MASTER", both, |_, s| s.notify().len() >= 2);
    same_addresses("MASTER", &ka, &lite, |a| a.contains(&vip));

    // The source goes: still MASTER, still advertising (from it).
    for s in both {
        s.ip(&["addr", "del", SOURCE, "dev", "eth0"]);
    }
    let sent = [tx_packets(&ka), tx_packets(&lite)];
    wait("adverts after the deletion", both, |k, s| {
        tx_packets(s) >= sent[k] + 3
    });
    same_addresses("source deleted", &ka, &lite, |a| {
        a.contains(&vip) && !a.contains(&source)
    });
    bounce_vip("VIP deleted without the source", both, 4);
    same_addresses("VIP back", &ka, &lite, |a| a.contains(&vip));

    // The source comes back: nothing changes either.
    for s in both {
        s.ip(&["addr", "add", SOURCE, "dev", "eth0"]);
    }
    bounce_vip("VIP deleted with the source back", both, 6);
    same_addresses("source restored", &ka, &lite, |a| {
        a.contains(&vip) && a.contains(&source)
    });

    let want: Vec<String> = ["BACKUP", "MASTER"]
        .iter()
        .cycle()
        .take(6)
        .map(|s| format!("INSTANCE VI_1 {s} 100"))
        .collect();
    assert_eq!(ka.notify(), want, "keepalived's notify lines");
    assert_eq!(lite.notify(), want, "keepalived-lite's notify lines");
    let entering = ka.entering();
    assert!(
        !entering.iter().any(|l| l.contains("FAULT")),
        "{entering:?}"
    );
    assert_eq!(lite.entering(), entering, "state changes logged");

    let mut ka = ka;
    let mut lite = lite;
    ka.lab.stop(ka.pid, WAIT);
    lite.lab.stop(lite.pid, WAIT);
    same_addresses("stopped", &ka, &lite, |a| !a.contains(&vip));
}
