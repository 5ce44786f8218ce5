//! What only the VM's kernel runs (the host kernel has no ipvlan, MPLS
//! or ILA modules), against keepalived 2.2.7 in one boot of
//! `ipvs/vm/run-vm.sh`: `use_ipvlan NAME ADDRESS private` and `use_ipvlan
//! ADDRESS private` (default name), the same on IPv6 instances (no
//! address: the ipvlan's own link-local source; a link-local address; a
//! global address, multicast from, and heard from a peer that does so),
//! a virtual address with `use_vmac` on another interface than the
//! ipvlan's, static and virtual routes with `encap mpls`, `encap ila`
//! and `ttl-propagate`, and `encap` inside a `nexthop` (which keepalived
//! 2.2.7 leaves out of the route) (`tests/vm/vrrp.conf`). The guest (`tests/vm/guest-vrrp.sh`) runs
//! keepalived 2.2.7 and keepalived-lite on that file in twin network
//! namespaces; once both are MASTER, once a keepalived 2.2.7 peer of
//! higher priority has made both BACKUP, and again once both have stopped,
//! their normalised `ip -d link`, `ip -d addr`, `ip -f mpls route`,
//! `ip route show table all` (IPv4, IPv6) and interface sysctls
//! (`arp_ignore`, `arp_filter`, `rp_filter`, `promote_secondaries`,
//! `disable_ipv6`) must be the same, and so must the sources of the IPv6
//! adverts seen by the peer namespace at MASTER.
//!
//! Needs qemu-system-x86, busybox-static, ipvsadm, cpio, keepalived,
//! iproute2 and the Debian archive (see `.ci/install-deps`); fails loudly
//! when the VM cannot run.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test: a panic is a failure

mod vm;

use std::path::{Path, PathBuf};

fn tool(name: &str) -> PathBuf {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed"))
}

/// The text the guest printed between "VRRP-VM: BEGIN SIDE STEP" and its
/// END, without the lines keepalived logs to the console meanwhile (it
/// has no syslog there: `LOG_CONS`).
fn block(console: &str, side: &str, step: &str) -> String {
    let begin = format!("VRRP-VM: BEGIN {side} {step}\n");
    let end = format!("VRRP-VM: END {side} {step}\n");
    let (_, rest) = console
        .split_once(&begin)
        .unwrap_or_else(|| panic!("no '{begin}'"));
    let text = rest
        .split_once(&end)
        .unwrap_or_else(|| panic!("no '{end}'"))
        .0;
    let logged = |l: &&str| l.starts_with("Keepalived");
    text.lines()
        .filter(|l| !logged(l))
        .map(|l| format!("{l}\n"))
        .collect()
}

/// `text` with the entries of its route sections sorted (an entry with
/// its `nexthop` lines): the kernel lists routes of one prefix in the
/// order they were made, and when the link-local multicast routes of two
/// interfaces are made depends on the kernel, not on either daemon.
fn routes_sorted(text: &str) -> String {
    let mut out = String::new();
    let mut routes = false;
    let mut entries: Vec<String> = Vec::new();
    let flush = |entries: &mut Vec<String>, out: &mut String| {
        entries.sort();
        out.extend(entries.drain(..));
    };
    for line in text.lines() {
        if line.starts_with("## ") {
            flush(&mut entries, &mut out);
            routes = line.contains(" route");
            out.push_str(line);
            out.push('\n');
        } else if routes && line.starts_with(char::is_whitespace) && !entries.is_empty() {
            let last = entries.len() - 1;
            entries[last].push_str(line);
            entries[last].push('\n');
        } else if routes {
            entries.push(format!("{line}\n"));
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    flush(&mut entries, &mut out);
    out
}

#[test]
fn routes_sorted_orders_route_entries_only() {
    let text = "## ip -d link\nb\na\n## ip route show table all\nz via x\n\tnexthop 1\nb dev y\n## sysctls\nq\np\n";
    assert_eq!(
        routes_sorted(text),
        "## ip -d link\nb\na\n## ip route show table all\nb dev y\nz via x\n\tnexthop 1\n## sysctls\nq\np\n"
    );
}

#[test]
fn vm_ipvlan_mpls_ila_routes_match_keepalived_2_2_7() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vm");
    let (_dir, bin) = vm::work_dir("vm-vrrp");
    let files = [
        (bin, "/bin/keepalived-lite"),
        (tool("keepalived"), "/bin/keepalived"),
        (tool("ip"), "/bin/iproute2-ip"),
        (tool("tcpdump"), "/bin/tcpdump"),
        (here.join("vrrp.conf"), "/etc/vrrp.conf"),
    ];
    let modules = [
        "ipvlan",
        "macvlan",
        "mpls_router",
        "mpls_iptunnel",
        "ila",
        "veth",
    ];
    let opts: Vec<String> = (modules.iter())
        .flat_map(|m| ["--module".to_owned(), (*m).to_owned()])
        .collect();
    let console = vm::boot(&opts, &files, &here.join("guest-vrrp.sh"), &[], 900);
    for step in ["master", "backup", "stopped"] {
        let line = format!("VRRP-VM: ok {step}");
        assert!(console.lines().any(|l| l == line), "missing '{line}'");
        let (k, kl) = (block(&console, "k", step), block(&console, "kl", step));
        let (k, kl) = (routes_sorted(&k), routes_sorted(&kl));
        assert_eq!(
            k, kl,
            "{step}: keepalived 2.2.7 (left) and keepalived-lite (right) differ"
        );
    }
    // What keepalived 2.2.7 made, and so keepalived-lite too.
    let master = block(&console, "k", "master");
    for text in [
        // The mode is the parent's (all its ipvlans share it): the last
        // ipvlan made sets it.
        "ipvlan  mode l2 private",
        // VI_2's, of the default name.
        "vrrp.52@eth0:",
        "inet 10.77.0.6/24 scope global vrrp.52",
        "inet 10.77.0.5/24 scope global ipv1",
        // The virtual address stays on the interface, not the ipvlan.
        "inet 10.77.0.100/24 scope global secondary eth0",
        "192.168.90.0/24  encap mpls  100/200 via 10.77.0.254 dev eth0 proto keepalived",
        "192.168.91.0/24  encap mpls  300 via 10.77.0.254 dev eth0 proto keepalived",
        "192.168.92.0/24 via 10.77.0.254 dev eth0 proto keepalived",
        "2001:db8:91:1:2000::/67  encap ila  2001:db8:1:2",
        // `encap` in a nexthop: read, not sent.
        "192.168.93.0/24 proto keepalived \n\tnexthop via 10.77.0.254 dev eth0 weight 1 \n",
        "192.168.94.0/24 proto keepalived \n\tnexthop via 10.77.0.254 dev eth0 weight 2 \n",
        // VI_1's `use_vmac` address: a macvlan on eth1 beside the ipvlan.
        "vrrp.51@eth1:",
        "inet 10.77.1.100/24 scope global vrrp.51",
        // The IPv6 ipvlans: VI_4's address as a VMAC's source is added.
        "ipv6a@eth0:",
        "vrrp.62@eth0:",
        "inet6 fe80::77:6/64 scope link nodad deprecated",
        "inet6 2001:db8:78::100/64 scope global nodad",
        // VI_3 sends from its ipvlan's own link-local address, VI_4 from
        // the address given.
        "vrid 61 from fe80::200:0:300:7701\n",
        "vrid 62 from fe80::77:6\n",
        // VI_5 multicasts from its ipvlan's global address.
        "vrrp.65@eth0:",
        "inet6 2001:db8:77::6/64 scope global nodad deprecated",
        "vrid 65 from 2001:db8:77::6\n",
        "inet6 2001:db8:77::105/64 scope global nodad",
    ] {
        assert!(master.contains(text), "master state lacks '{text}'");
    }
    assert!(!master.contains("encap mpls  400") && !master.contains("encap mpls  500"));
    // BACKUP: the ipvlan and its address stay; the virtual address and
    // the virtual routes go, the static routes stay.
    let backup = block(&console, "k", "backup");
    assert!(backup.contains("inet 10.77.0.5/24 scope global ipv1"));
    assert!(!backup.contains("10.77.0.100") && !backup.contains("192.168.91.0"));
    // The peer's VI_5 adverts, from its ipvlan's global address, won.
    assert!(!backup.contains("2001:db8:77::105"));
    assert!(backup.contains("inet6 2001:db8:77::6/64 scope global nodad deprecated"));
    assert!(backup.contains("192.168.90.0/24  encap mpls  100/200"));
    let stopped = block(&console, "k", "stopped");
    assert!(!stopped.contains("ipv1"), "the ipvlan outlived the stop");
    for name in ["vrrp.52", "ipv6a", "vrrp.62", "vrrp.51", "vrrp.65"] {
        assert!(!stopped.contains(name), "{name} outlived the stop");
    }
    assert!(
        !stopped.contains("proto keepalived"),
        "routes outlived the stop"
    );
    assert!(console.lines().any(|l| l == "VRRP-VM: done"));
}
