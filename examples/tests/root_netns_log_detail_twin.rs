//! keepalived's `-D` (`--log-detail`) line for a master's priority-0
//! advert, keepalived 2.2.7 against keepalived-lite in twin layouts (issue
//! 14; needs root, iproute2, nft and keepalived).
//!
//! Both run with `-D`; VI_1 tracks `trk` (one end of a veth pair). MASTER, then
//! `trk` goes down (FAULT: keepalived's `down_instance` sends priority 0
//! and says so), up again (BACKUP, MASTER), then SIGTERM (priority 0 once
//! more). The lines about states and priority 0 must be the same, in the
//! same order. Without `-D` neither logs the line (see
//! `root_netns_keepalived_lite.rs`).
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use twin::{Kind, Side, Twin, KEEPALIVED};

const CONF: &str = "vrrp_instance VI_1 {\n  state MASTER\n  interface eth0\n  \
    virtual_router_id 51\n  priority 150\n  advert_int 1\n  \
    track_interface {\n    trk\n  }\n  \
    virtual_ipaddress {\n    10.77.0.100/24\n  }\n}\n";

/// [`Side::start`] with `-D` added.
fn start_with_detail(side: &mut Side, conf: &str) {
    let path = side.dir.join("r1.conf");
    std::fs::write(&path, side.fill(conf)).unwrap();
    let file = |f: &str| side.dir.join(format!("r1.{f}")).display().to_string();
    let (conf, pid, vrrp_pid, sock) = (file("conf"), file("pid"), file("vrrp.pid"), file("sock"));
    let mut args = vec![
        "-D", "-P", "-n", "-l", "-f", &conf, "-p", &pid, "-r", &vrrp_pid,
    ];
    let program = match side.kind {
        Kind::Keepalived => KEEPALIVED,
        Kind::Lite => {
            args.extend(["--control-socket", &sock]);
            env!("CARGO_BIN_EXE_keepalived-lite")
        }
    };
    let log = side.log("r1");
    side.router = Some(side.lab.spawn("r1", program, &args, &log).unwrap());
}

#[test]
fn root_netns_log_detail_priority_zero_matches_keepalived() {
    let mut twin = Twin::new(&[
        &["link", "add", "trk", "type", "veth", "peer", "name", "trkp"],
        &["link", "set", "trkp", "up"],
        &["link", "set", "trk", "up"],
    ]);
    for side in twin.sides() {
        start_with_detail(side, CONF);
    }
    twin.wait_log("r1", "(VI_1) Entering MASTER STATE", 1);
    for side in twin.sides() {
        side.ip(&["link", "set", "trk", "down"]);
    }
    twin.wait_log("r1", "(VI_1) Entering FAULT STATE", 1);
    twin.wait_log("r1", "(VI_1) sent 0 priority", 1);
    for side in twin.sides() {
        side.ip(&["link", "set", "trk", "up"]);
    }
    twin.wait_log("r1", "(VI_1) Entering MASTER STATE", 2);
    for side in twin.sides() {
        side.stop();
    }
    twin.wait_log("r1", "(VI_1) sent 0 priority", 2);

    let needles = ["(VI_1) Entering", "sent 0 priority"];
    let want = [
        "(VI_1) Entering BACKUP STATE (init)",
        "(VI_1) Entering MASTER STATE",
        "(VI_1) Entering FAULT STATE",
        "(VI_1) sent 0 priority",
        "(VI_1) Entering BACKUP STATE",
        "(VI_1) Entering MASTER STATE",
        "(VI_1) sent 0 priority",
    ];
    let logs = twin.logs("r1");
    assert_eq!(
        twin.ka.lines_from_init(&needles),
        want,
        "keepalived\n{logs}"
    );
    assert_eq!(
        twin.lite.lines_from_init(&needles),
        want,
        "keepalived-lite\n{logs}"
    );
}
