//! Notify variants, keepalived 2.2.7 against keepalived-lite in twin
//! layouts (issue 14; needs root, iproute2, nft and keepalived): the
//! `notify` script's lines and the `notify_fifo` lines of both daemons for
//! the same events.
//!
//! On `r1`, VI_1 (priority 100, `notify_priority_changes`) tracks the
//! link `d1`, down at start, with `weight -10`: its first notification
//! already carries 90 (keepalived takes the tracking before it starts an
//! instance). Then `d1` comes up (a `MASTER_PRIORITY 100` FIFO line), a
//! priority-50 advert from `r2` reaches the master
//! (`notify_master_rx_lower_pri` and a `MASTER_RX_LOWER_PRI` FIFO line),
//! and a reload removes VI_1 (bare `notify_deleted`: DELETED), VI_3
//! (`notify_deleted SCRIPT`: its script and DELETED) and VI_4 (no
//! `notify_deleted`: FAULT, but not its `notify_fault` script); VI_2
//! stays.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod twin;

use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};
use twin::{Side, Twin, WAIT};
use vrrp::auth::{AuthConfig, TxCounters};
use vrrp::wire::{self, AdvertRepr};

/// The link VI_1 tracks (a veth whose peer is up), down until the test
/// brings it up.
const SETUP: &[&[&str]] = &[
    &["link", "add", "d1", "type", "veth", "peer", "name", "d1p"],
    &["link", "set", "d1p", "up"],
];

fn instance(name: &str, vrid: u8, extra: &str) -> String {
    format!(
        "vrrp_instance {name} {{\n  state BACKUP\n  interface eth0\n  virtual_router_id {vrid}\n  \
         priority 100\n  advert_int 1\n  notify @NOTIFY@\n{extra}  virtual_ipaddress {{\n    \
         10.77.0.{vrid}/24\n  }}\n}}\n"
    )
}

const GLOBALS: &str =
    "global_defs {\n  notify_fifo @DIR@/notify.fifo\n  notify_fifo_script @DIR@/fifo.sh\n}\n";

fn full() -> String {
    let vi1 = "  notify_priority_changes\n  notify_deleted\n  \
               notify_master_rx_lower_pri \"@NOTIFY@ VI_1 RX_LOWER\"\n  \
               track_interface {\n    d1 weight -10\n  }\n";
    [
        GLOBALS.to_owned(),
        instance("VI_1", 51, vi1),
        instance("VI_2", 52, ""),
        instance(
            "VI_3",
            53,
            "  notify_deleted \"@NOTIFY@ VI_3 OWN_DELETED\"\n",
        ),
        instance("VI_4", 54, "  notify_fault \"@NOTIFY@ VI_4 OWN_FAULT\"\n"),
    ]
    .concat()
}

fn reduced() -> String {
    GLOBALS.to_owned() + &instance("VI_2", 52, "")
}

/// The FIFO script: what it reads goes to `fifo.out`.
fn fifo_reader(side: &Side) {
    let path = side.dir.join("fifo.sh");
    let body = format!(
        "#!/bin/sh\nexec cat \"$1\" >> {}\n",
        side.dir.join("fifo.out").display()
    );
    std::fs::write(&path, body).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Lines of `file` in `side`'s directory that concern `name`.
fn lines_of(side: &Side, file: &str, name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(side.dir.join(file)).unwrap_or_default();
    let words = [format!(" {name} "), format!("\"{name}\"")];
    (text.lines())
        .filter(|l| words.iter().any(|w| l.contains(w.as_str())) || l.starts_with(name))
        .map(str::to_owned)
        .collect()
}

/// Polls until both sides' lines of `file` for `name` are `want`.
fn same(twin: &Twin, phase: &str, file: &str, name: &str, want: &[&str]) {
    same_lines(twin, phase, file, name, want, false);
}

/// [`same`] in any order: keepalived starts an instance's own notify
/// script and its `notify` script at once, so their lines race.
fn same_set(twin: &Twin, phase: &str, file: &str, name: &str, want: &[&str]) {
    same_lines(twin, phase, file, name, want, true);
}

fn same_lines(twin: &Twin, phase: &str, file: &str, name: &str, want: &[&str], sort: bool) {
    let mut want = want.to_vec();
    if sort {
        want.sort_unstable();
    }
    let lines = |side: &Side| {
        let mut l = lines_of(side, file, name);
        if sort {
            l.sort_unstable();
        }
        l
    };
    let deadline = Instant::now() + WAIT;
    loop {
        let (a, b) = (lines(&twin.ka), lines(&twin.lite));
        if a == want && b == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{phase}: {file} lines of {name}\n--- keepalived\n{a:#?}\n--- keepalived-lite\n\
             {b:#?}\n--- want\n{want:#?}\n{}",
            twin.logs("r1")
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One advert for VRID 51 with priority 50 from `r2`.
fn lower_advert(side: &Side) {
    let sock = side
        .lab
        .enter("r2", || -> std::io::Result<Socket> {
            let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(255)))?;
            sock.set_multicast_if_v4(&Ipv4Addr::new(10, 77, 0, 2))?;
            Ok(sock)
        })
        .unwrap()
        .unwrap();
    let vips = [Ipv4Addr::new(10, 77, 0, 51)];
    let repr = AdvertRepr {
        src: Ipv4Addr::new(10, 77, 0, 2),
        dst: wire::VRRP_MCAST_V4,
        ttl: wire::VRRP_TTL,
        vrid: 51,
        priority: 50,
        adver_int: 1,
        addresses: &vips,
    };
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let n = wire::encode(&repr, &AuthConfig::None, &mut TxCounters::new(), &mut buf).unwrap();
    let dst = SockAddr::from(SocketAddrV4::new(wire::VRRP_MCAST_V4, 0));
    sock.send_to(&buf[..n], &dst).unwrap();
}

#[test]
fn root_netns_notify_variants_match_keepalived() {
    let mut twin = Twin::new(SETUP);
    for side in twin.sides() {
        // The layout's set-up leaves its links up.
        side.ip(&["link", "set", "d1", "down"]);
        fifo_reader(side);
        side.start(&full());
    }
    let fifo = |state: &str| format!("INSTANCE \"VI_1\" {state}");
    // The tracking taken before the start is a priority change too.
    let init = fifo("BACKUP_PRIORITY 90");
    let (backup, master) = (fifo("BACKUP 90"), fifo("MASTER 90"));
    same(
        &twin,
        "start: the tracked priority from the first line",
        "notify.out",
        "VI_1",
        &["INSTANCE VI_1 BACKUP 90", "INSTANCE VI_1 MASTER 90"],
    );
    same(
        &twin,
        "start",
        "fifo.out",
        "VI_1",
        &[&init, &backup, &master],
    );

    for side in twin.sides() {
        side.ip(&["link", "set", "d1", "up"]);
    }
    let raised = fifo("MASTER_PRIORITY 100");
    same(
        &twin,
        "d1 up",
        "fifo.out",
        "VI_1",
        &[&init, &backup, &master, &raised],
    );

    for side in twin.sides() {
        lower_advert(side);
    }
    let lower = fifo("MASTER_RX_LOWER_PRI 100");
    same(
        &twin,
        "lower advert",
        "fifo.out",
        "VI_1",
        &[&init, &backup, &master, &raised, &lower],
    );

    for side in twin.sides() {
        side.reload(&reduced());
    }
    let deleted = fifo("DELETED 100");
    same(
        &twin,
        "reload without VI_1",
        "fifo.out",
        "VI_1",
        &[&init, &backup, &master, &raised, &lower, &deleted],
    );
    same_set(
        &twin,
        "reload without VI_1",
        "notify.out",
        "VI_1",
        &[
            "INSTANCE VI_1 BACKUP 90",
            "INSTANCE VI_1 MASTER 90",
            "VI_1 RX_LOWER",
            "INSTANCE VI_1 DELETED 100",
        ],
    );
    same_set(
        &twin,
        "reload without VI_3",
        "notify.out",
        "VI_3",
        &[
            "INSTANCE VI_3 BACKUP 100",
            "INSTANCE VI_3 MASTER 100",
            "VI_3 OWN_DELETED",
            "INSTANCE VI_3 DELETED 100",
        ],
    );
    same_set(
        &twin,
        "reload without VI_4",
        "notify.out",
        "VI_4",
        &[
            "INSTANCE VI_4 BACKUP 100",
            "INSTANCE VI_4 MASTER 100",
            "INSTANCE VI_4 FAULT 100",
        ],
    );
    let (_, fifo4) = ((), |s: &str| format!("INSTANCE \"VI_4\" {s}"));
    same(
        &twin,
        "reload without VI_4",
        "fifo.out",
        "VI_4",
        &[
            &fifo4("BACKUP 100"),
            &fifo4("MASTER 100"),
            &fifo4("FAULT 100"),
        ],
    );
    for side in twin.sides() {
        side.stop();
    }
    same_set(
        &twin,
        "stop: VI_2 only",
        "notify.out",
        "VI_1",
        &[
            "INSTANCE VI_1 BACKUP 90",
            "INSTANCE VI_1 MASTER 90",
            "VI_1 RX_LOWER",
            "INSTANCE VI_1 DELETED 100",
        ],
    );
}
