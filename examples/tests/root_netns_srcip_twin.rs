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
//!
//! Also: a `unicast_src_ip` equal to the interface address another
//! unicast instance of its VRID advertises from (it has none), the two
//! sharing a peer. keepalived 2.2.7's `-t` reads the address from the
//! host and refuses the pair ("duplicate VRID conflict", exit 5);
//! keepalived-lite's `-t` does too, in its words, and its start-up
//! refuses it (exit 1). With distinct sources both `-t`s accept.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

#[path = "twin/lone.rs"]
mod lone;

use std::io::Read;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use keepalived_lite::netns::{require_program, require_root, Netns};
use lone::{same, wait, Side, KEEPALIVED, LITE, WAIT};
use test_support::process::{ProcGuard, TempDir};

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

/// Two unicast instances of VRID 51 on `eth0` sharing a peer, `VI_B`
/// sending from `source`, `VI_C` from `eth0`'s address (of `source`'s
/// family).
fn unicast_pair(source: &str) -> String {
    let (peer, vips) = if source.contains(':') {
        ("fe80::2", ["2001:db8::100/64", "2001:db8::101/64"])
    } else {
        ("10.77.0.2", ["10.77.0.100/24", "10.77.0.101/24"])
    };
    let instance = |name: &str, src: &str, vip: &str| {
        format!(
            "vrrp_instance {name} {{\n    state BACKUP\n    interface eth0\n    \
             virtual_router_id 51\n    priority 100\n    advert_int 1\n{src}    \
             unicast_peer {{\n        {peer}\n    }}\n    \
             virtual_ipaddress {{\n        {vip}\n    }}\n}}\n"
        )
    };
    let src = format!("    unicast_src_ip {source}\n");
    instance("VI_B", &src, vips[0]) + &instance("VI_C", "", vips[1])
}

/// keepalived's line for the pair (`vrrp.c`, `check_vrid_conflicts`).
const CONFLICT: &str = "(VI_B) duplicate VRID conflict with VI_C VRID 51";

/// `cmd` run to its end (killed, failing the test, if it runs past
/// [`WAIT`]): its exit code and stderr.
fn run_to_end(what: &str, cmd: &mut Command) -> (Option<i32>, String) {
    let mut p = ProcGuard::spawn(what, cmd);
    let child = p.child.as_mut().unwrap();
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "{what} still runs");
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (status.code(), err)
}

/// A namespace whose `eth0` has 10.77.0.1/24 and 10.77.0.5/24, and the
/// link-local addresses fe80::1 and fe80::5 (none generated).
fn host() -> Netns {
    let ns = Netns::new("srcip").unwrap();
    ns.ip(&[
        "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
    ])
    .unwrap();
    ns.ip(&["link", "set", "eth0", "addrgenmode", "none"])
        .unwrap();
    for a in ["10.77.0.1/24", "10.77.0.5/24"] {
        ns.ip(&["addr", "add", a, "dev", "eth0"]).unwrap();
    }
    for a in ["fe80::1/64", "fe80::5/64"] {
        ns.ip(&["addr", "add", a, "dev", "eth0", "nodad"]).unwrap();
    }
    ns.ip(&["link", "set", "eth0", "up"]).unwrap();
    ns
}

/// `eth0`'s addresses of one family (`-4` or `-6`) in the kernel's order
/// (IPv6 lists the newest first): the first is the advert source of an
/// instance without `unicast_src_ip`, in both daemons.
fn listed(ns: &Netns, family: &str) -> Vec<String> {
    let v = ns
        .ip_json(&[family, "addr", "show", "dev", "eth0"])
        .unwrap();
    let info = v[0]["addr_info"].as_array().unwrap();
    let local = info.iter().map(|a| a["local"].as_str().unwrap().to_owned());
    local.collect()
}

/// keepalived-lite's start-up on `conf` in `ns`: refused, exit 1.
fn assert_start_refused(ns: &Netns, dir: &TempDir, conf: &Path) {
    let file = |name: &str| dir.path(name).into_os_string();
    let mut start = ns.command(LITE);
    start.args(["-P", "-n", "-l", "-f"]).arg(conf);
    start
        .arg("-p")
        .arg(file("kl.pid"))
        .arg("-r")
        .arg(file("vrrp.pid"));
    start.arg("--control-socket").arg(file("control.sock"));
    let (rc, err) = run_to_end("keepalived-lite", &mut start);
    assert_eq!(rc, Some(1), "{}: {err}", conf.display());
    let refused = "cannot start VRRP: a router with VRID 51 already exists on interface";
    assert!(err.contains(refused), "{}: {err}", conf.display());
}

#[test]
fn root_netns_unicast_source_of_another_instances_interface_refused_by_t_as_keepalived() {
    require_root();
    require_program(KEEPALIVED, &["-v"]);
    let ns = host();
    let dir = TempDir::new("srcip-clash");
    let t = |program: &str, conf: &Path| {
        let mut cmd = ns.command(program);
        run_to_end(program, cmd.arg("-t").arg("-f").arg(conf))
    };
    for family in ["-4", "-6"] {
        // VI_C's source is the first; the control's VI_B sends from the
        // second.
        let [first, second] = &listed(&ns, family)[..] else {
            panic!("eth0's {family} addresses: {:?}", listed(&ns, family));
        };
        let (conf, control) = (dir.path("clash.conf"), dir.path("control.conf"));
        std::fs::write(&conf, unicast_pair(first)).unwrap();
        std::fs::write(&control, unicast_pair(second)).unwrap();
        let (rc, err) = t(KEEPALIVED, &conf);
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!((rc, lines), (Some(5), vec![CONFLICT]), "{family}");
        let (rc, err) = t(LITE, &conf);
        let line = format!("{}:18:5: error: {CONFLICT}", conf.display());
        assert_eq!(rc, Some(5), "{family}: {err}");
        assert!(err.lines().any(|l| l == line), "{family}: {err}");
        for program in [KEEPALIVED, LITE] {
            let (rc, err) = t(program, &control);
            assert_eq!(rc, Some(0), "{family} {program}: {err}");
            assert!(!err.contains("duplicate"), "{family} {program}: {err}");
        }
        // The start-up's verdict, which -t now gives.
        assert_start_refused(&ns, &dir, &conf);
    }
}
