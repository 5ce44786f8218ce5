//! `track_group` on `static_routes` and `static_rules`, keepalived 2.2.7
//! against keepalived-lite in twin layouts (issue 14; needs root,
//! iproute2, nft and keepalived). The group's instance VI_1 tracks the
//! route's `dev` (eth1) and the rule's `iif` (eth2) with weight 0: each
//! going down puts it in FAULT (its VIP removed), coming up makes it
//! master again. The kernel state is the same in both layouts at each
//! step.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use twin::Twin;

const CONF: &str = "\
track_group TG {
    group {
        VI_1
    }
}
static_routes {
    10.66.0.0/16 dev eth1 track_group TG
}
static_rules {
    from 10.67.0.0/16 iif eth2 table 100 preference 100 track_group TG
}
vrrp_instance VI_1 {
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        10.77.0.100/24
    }
}
";

/// eth1 and eth2: veths whose peers (eth8, eth9) stay up.
const SETUP: &[&[&str]] = &[
    &[
        "link", "add", "eth1", "type", "veth", "peer", "name", "eth8",
    ],
    &[
        "link", "add", "eth2", "type", "veth", "peer", "name", "eth9",
    ],
    &["link", "set", "eth8", "up"],
    &["link", "set", "eth9", "up"],
    &["link", "set", "eth1", "up"],
    &["link", "set", "eth2", "up"],
];

const VIP: &str = "inet 10.77.0.100/24 scope global secondary eth0";
const RULE: &str = "100: from 10.67.0.0/16 iif eth2 lookup 100 proto keepalived";

#[test]
fn root_netns_static_route_and_rule_track_groups_fault_as_in_keepalived() {
    let mut twin = Twin::new(SETUP);
    twin.start_masters(CONF, &["VI_1"]);
    twin.same_state("master", |s| s.contains(VIP) && s.contains(RULE));
    for (n, link) in ["eth1", "eth2"].into_iter().enumerate() {
        for s in twin.sides() {
            s.ip(&["link", "set", link, "down"]);
        }
        twin.wait_log("r1", "(VI_1) Entering FAULT STATE", n + 1);
        twin.same_state(&format!("{link} down"), |s| !s.contains(VIP));
        for s in twin.sides() {
            s.ip(&["link", "set", link, "up"]);
        }
        twin.wait_log("r1", "(VI_1) Entering MASTER STATE", n + 2);
        twin.same_state(&format!("{link} up"), |s| s.contains(VIP));
    }
}
