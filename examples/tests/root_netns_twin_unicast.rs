//! Unicast VRRP (`unicast_src_ip`, `unicast_peer`), keepalived 2.2.7
//! against keepalived-lite in twin layouts (issue 14; needs root,
//! iproute2, nft and keepalived): an IPv4 and an IPv6 instance, each with
//! its source and one peer, the peer a keepalived with the mirror
//! configuration at a higher priority. The kernel state is the same as
//! MASTER, as BACKUP and after stop, and so are the notify lines.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use twin::Twin;

/// An IPv6 address on `eth0` of each node.
const SETUP: &[&[&str]] = &[&["addr", "add", "2001:db8:77::@N@/64", "dev", "eth0", "nodad"]];

/// Node `me` unicasting to node `peer` at `priority`.
fn conf(me: u8, peer: u8, state: &str, priority: u8, notify: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  state {state}\n  interface eth0\n  virtual_router_id 51\n  \
         priority {priority}\n  advert_int 1\n{notify}  unicast_src_ip 10.77.0.{me}\n  \
         unicast_peer {{\n    10.77.0.{peer}\n  }}\n  virtual_ipaddress {{\n    10.77.0.100/24\n  }}\n}}\n\
         vrrp_instance VI_6 {{\n  state {state}\n  interface eth0\n  virtual_router_id 52\n  \
         priority {priority}\n  advert_int 1\n  unicast_src_ip 2001:db8:77::{me}\n  \
         unicast_peer {{\n    2001:db8:77::{peer}\n  }}\n  virtual_ipaddress {{\n    \
         2001:db8:77::100/64\n  }}\n}}\n"
    )
}

#[test]
fn root_netns_twin_unicast_matches_keepalived() {
    let mut twin = Twin::new(SETUP);
    let router = conf(1, 2, "MASTER", 100, "  notify @NOTIFY@\n");
    let peer = conf(2, 1, "BACKUP", 200, "");
    let master = |s: &str| s.contains("inet 10.77.0.100/24") && s.contains("2001:db8:77::100/64");
    let gone = |s: &str| !s.contains("10.77.0.100") && !s.contains("2001:db8:77::100");
    twin.master_backup_stop(&router, &peer, [&master, &gone, &gone]);
    twin.same_notify(
        "BACKUP, MASTER, BACKUP, stop",
        &[
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 MASTER 100",
            "INSTANCE VI_1 BACKUP 100",
            "INSTANCE VI_1 STOP 100",
        ],
    );
}
