//! keepalived-lite reloaded (SIGHUP) with several instances on two
//! interfaces, in a namespace (needs root, iproute2, tcpdump and tshark):
//! a priority change, a VIP added and an instance added are applied to the
//! one running driver without a flap. Checked on the wire (tcpdump on the
//! peers of the daemon's veths), in the kernel's address notifications
//! (`ip monitor address`), in the log, and in the process's open fds.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, wait_for_line, Netns};

/// Safety limit for something expected to happen.
const WAIT: Duration = Duration::from_secs(20);

/// (name, interface, VRID, priority, VIPs)
type Instance = (&'static str, &'static str, u8, u8, &'static [&'static str]);

const BEFORE: &[Instance] = &[
    ("VI_1", "veth0", 1, 150, &["10.1.0.1"]),
    ("VI_2", "veth0", 2, 150, &["10.1.0.2"]),
    ("VI_3", "veth1", 1, 150, &["10.2.0.1"]),
    ("VI_4", "veth1", 2, 150, &["10.2.0.2"]),
];

/// (a) VI_1's priority changed, (b) a VIP added to VI_2, (c) VI_5 added;
/// VI_3 and VI_4 unchanged.
const AFTER: &[Instance] = &[
    ("VI_1", "veth0", 1, 120, &["10.1.0.1"]),
    ("VI_2", "veth0", 2, 150, &["10.1.0.2", "10.1.0.22"]),
    ("VI_3", "veth1", 1, 150, &["10.2.0.1"]),
    ("VI_4", "veth1", 2, 150, &["10.2.0.2"]),
    ("VI_5", "veth1", 3, 150, &["10.2.0.3"]),
];

/// The configuration; every instance runs `notify` (TYPE NAME STATE
/// PRIORITY appended to a file).
fn config(instances: &[Instance], notify: &Path) -> String {
    let mut c = String::new();
    for (name, dev, vrid, prio, vips) in instances {
        let vips: String = vips.iter().map(|v| format!("    {v}/32\n")).collect();
        let notify = notify.display();
        c.push_str(&format!(
            "vrrp_instance {name} {{\n  state MASTER\n  interface {dev}\n  \
             virtual_router_id {vrid}\n  priority {prio}\n  advert_int 1\n  notify {notify}\n  \
             authentication {{\n    auth_type PASS\n    auth_pass secret\n  }}\n  \
             virtual_ipaddress {{\n{vips}  }}\n}}\n"
        ));
    }
    c
}

/// Kills a helper process (tcpdump, ip monitor) when the test ends.
struct Helper(Child);

impl Helper {
    fn spawn(ns: &Netns, program: &str, args: &[&str], out: &Path) -> Helper {
        let file = std::fs::File::create(out).unwrap();
        let child = ns
            .command(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(file.try_clone().unwrap())
            .stderr(file)
            .spawn()
            .unwrap();
        Helper(child)
    }

    /// SIGTERM (tcpdump then flushes its file) and wait.
    fn stop(mut self) {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.0.wait();
    }
}

impl Drop for Helper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The daemon's namespace with veth0 and veth1, their peers in `peer`.
fn lab() -> (Netns, Netns) {
    let (d, p) = (Netns::new("-rd").unwrap(), Netns::new("-rp").unwrap());
    for (i, net) in [(0, "192.168.1.1/24"), (1, "192.168.2.1/24")] {
        let (dev, peer) = (format!("veth{i}"), format!("peer{i}"));
        d.ip(&[
            "link",
            "add",
            &dev,
            "type",
            "veth",
            "peer",
            "name",
            &peer,
            "netns",
            p.name(),
        ])
        .unwrap();
        d.ip(&["addr", "add", net, "dev", &dev]).unwrap();
        d.ip(&["link", "set", &dev, "up"]).unwrap();
        p.ip(&["link", "set", &peer, "up"]).unwrap();
    }
    (d, p)
}

fn vips(ns: &Netns) -> Vec<String> {
    let out = ns.ip(&["-4", "-o", "addr", "show"]).unwrap();
    let mut v: Vec<String> = out
        .split_whitespace()
        .filter(|w| w.starts_with("10.") && w.ends_with("/32"))
        .map(|w| w.trim_end_matches("/32").to_owned())
        .collect();
    v.sort();
    v
}

fn wait_vips(ns: &Netns, want: &[&str]) {
    let deadline = Instant::now() + WAIT;
    while vips(ns) != want {
        assert!(
            Instant::now() < deadline,
            "VIPs {:?}, want {want:?}",
            vips(ns)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn wait_line(log: &Path, needle: &str) {
    if wait_for_line(log, needle, WAIT).is_none() {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        panic!("no {needle:?} in {}:\n{text}", log.display());
    }
}

fn wait_count(log: &Path, needle: &str, n: usize) {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = std::fs::read_to_string(log).unwrap_or_default();
        if text.lines().filter(|l| l.contains(needle)).count() >= n {
            return;
        }
        assert!(Instant::now() < deadline, "not {n} {needle:?} in:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The fds the daemon opened itself. Whatever started the test may leave
/// descriptors without close-on-exec (pipes, a `/dev/null`, which ones
/// depends on the shell or CI runner); every child inherits those under the
/// same numbers, so they are left out.
fn open_fds(pid: u32) -> Vec<String> {
    let inherited = inherited_fds();
    let dir = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap();
    dir.filter_map(|e| e.ok())
        .filter(|e| !inherited.contains(&e.file_name().to_string_lossy().into_owned()))
        .filter_map(|e| std::fs::read_link(e.path()).ok())
        .map(|target| target.to_string_lossy().into_owned())
        .collect()
}

/// This process's descriptors above stdio that a child inherits: those
/// without `O_CLOEXEC` (octal 02000000 in the `flags` line of fdinfo).
fn inherited_fds() -> Vec<String> {
    let dir = std::fs::read_dir("/proc/self/fdinfo").unwrap();
    let names = dir.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()));
    names
        .filter(|fd| fd.parse::<u32>().is_ok_and(|n| n > 2))
        .filter(|fd| {
            let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}"));
            let flags = info.ok().and_then(|info| {
                let line = info.lines().find(|l| l.starts_with("flags:"))?;
                u32::from_str_radix(line["flags:".len()..].trim(), 8).ok()
            });
            flags.is_some_and(|f| f & 0o2_000_000 == 0)
        })
        .collect()
}

/// (source, VRID, priority, VIPs) of every advert in a capture.
fn adverts(pcap: &Path) -> Vec<(String, u8, u8, String)> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-T", "fields", "-E", "separator=;"])
        .args(["-e", "ip.src", "-e", "vrrp.virt_rtr_id", "-e", "vrrp.prio"])
        .args(["-e", "vrrp.ip_addr"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(';').collect();
            Some((
                f.first()?.to_string(),
                f.get(1)?.parse().ok()?,
                f.get(2)?.parse().ok()?,
                f.get(3)?.to_string(),
            ))
        })
        .collect()
}

/// The priorities an instance advertised, repeats folded.
fn priorities(seen: &[(String, u8, u8, String)], src: &str, vrid: u8) -> Vec<u8> {
    let mut v: Vec<u8> = (seen.iter())
        .filter(|a| a.0 == src && a.1 == vrid)
        .map(|a| a.2)
        .collect();
    v.dedup();
    v
}

#[test]
fn root_netns_lite_sighup_priority_vip_and_instance_without_a_flap() {
    require_root();
    require_program("tcpdump", &["--version"]);
    require_program("tshark", &["--version"]);
    let (d, p) = lab();
    let dir = std::env::temp_dir().join(d.name());
    std::fs::create_dir_all(&dir).unwrap();
    let file = |f: &str| -> PathBuf { dir.join(f) };
    let conf = file("keepalived.conf");
    let (notify, notified) = (file("notify.sh"), file("notified"));
    let script = format!("#!/bin/sh\necho \"$@\" >> {}\n", notified.display());
    std::fs::write(&notify, script).unwrap();
    let chmod = Command::new("chmod").arg("+x").arg(&notify).status();
    assert!(chmod.unwrap().success());
    std::fs::write(&conf, config(BEFORE, &notify)).unwrap();
    let log = file("lite.log");
    let out = std::fs::File::create(&log).unwrap();
    let mut lite = d
        .command(env!("CARGO_BIN_EXE_keepalived-lite"))
        .args(["-P", "-n", "-l", "-f", conf.to_str().unwrap()])
        .args(["-p", file("k.pid").to_str().unwrap()])
        .args(["-r", file("v.pid").to_str().unwrap()])
        .args(["--control-socket", file("ctl.sock").to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let pid = lite.id();
    wait_vips(&d, &["10.1.0.1", "10.1.0.2", "10.2.0.1", "10.2.0.2"]);
    // Constant: 3 stdio; the runtime's epoll (and its duplicate) and
    // waker eventfd; the signal socket pair (and a duplicate); the daemon's
    // rtnetlink socket; the driver's rtnetlink request socket, link watch
    // socket and timerfd: 13. The control socket: its listener and its
    // thread's runtime (epoll and its duplicate, waker eventfd, the signal
    // socket's duplicate): 5. Per interface one raw VRRP socket and one
    // AF_PACKET (gratuitous ARP) socket, shared by all its instances.
    let per_interface = 2;
    let expected_fds = 13 + 5 + 2 * per_interface;
    let fds = open_fds(pid);
    assert_eq!(fds.len(), expected_fds, "{fds:?}");

    let pcap = file("adverts.pcap");
    let capture = Helper::spawn(
        &p,
        "tcpdump",
        &[
            "-i",
            "any",
            "-U",
            "-w",
            pcap.to_str().unwrap(),
            "ip proto 112",
        ],
        &file("tcpdump.log"),
    );
    let monitor = Helper::spawn(
        &d,
        "ip",
        &["-4", "monitor", "address"],
        &file("monitor.log"),
    );
    wait_line(&file("tcpdump.log"), "listening on");
    // The delayed gratuitous ARPs of the start (garp_master_delay, 5 s)
    // are logged before the reload, so that the log after it holds only
    // what the reload did; adverts of every instance are on the wire.
    for vi in ["(VI_1)", "(VI_2)", "(VI_3)", "(VI_4)"] {
        wait_count(&log, &format!("{vi} Sending/queueing gratuitous ARPs"), 2);
    }
    std::thread::sleep(Duration::from_millis(1500));
    let before_reload = std::fs::read_to_string(&log).unwrap().lines().count();

    let notified_before = std::fs::read_to_string(&notified).unwrap();
    std::fs::write(&conf, config(AFTER, &notify)).unwrap();
    let _ = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status();
    wait_line(
        &log,
        "VRRP configuration applied: 2 unchanged, 2 updated, 1 added, 0 removed, 0 restarted",
    );
    wait_line(&log, "(VI_5) Entering MASTER STATE");
    wait_vips(
        &d,
        &[
            "10.1.0.1",
            "10.1.0.2",
            "10.1.0.22",
            "10.2.0.1",
            "10.2.0.2",
            "10.2.0.3",
        ],
    );
    // Two more advert intervals after the reload.
    std::thread::sleep(Duration::from_millis(2500));
    let fds = open_fds(pid);
    assert_eq!(fds.len(), expected_fds, "still 2 interfaces: {fds:?}");
    capture.stop();
    monitor.stop();

    let seen = adverts(&pcap);
    let (veth0, veth1) = ("192.168.1.1", "192.168.2.1");
    assert_eq!(
        priorities(&seen, veth0, 1),
        [150, 120],
        "VI_1, no 0 between"
    );
    assert_eq!(priorities(&seen, veth0, 2), [150], "VI_2");
    assert_eq!(priorities(&seen, veth1, 1), [150], "VI_3");
    assert_eq!(priorities(&seen, veth1, 2), [150], "VI_4");
    assert_eq!(priorities(&seen, veth1, 3), [150], "VI_5 runs");
    assert!(
        seen.iter()
            .any(|a| (a.0.as_str(), a.1) == (veth0, 2) && a.3.contains("10.1.0.22")),
        "VI_2 advertises its new VIP: {seen:?}"
    );

    let monitor_log = std::fs::read_to_string(file("monitor.log")).unwrap();
    assert!(
        !monitor_log.lines().any(|l| l.starts_with("Deleted")),
        "an address was removed: {monitor_log}"
    );
    let added: Vec<&str> = monitor_log
        .lines()
        .filter(|l| !l.starts_with("Deleted") && l.contains(" inet "))
        .filter_map(|l| l.split_whitespace().nth(3))
        .collect();
    assert_eq!(added, ["10.1.0.22/32", "10.2.0.3/32"]);

    let text = std::fs::read_to_string(&log).unwrap();
    let after: Vec<&str> = text.lines().skip(before_reload).collect();
    for unchanged in ["(VI_3)", "(VI_4)"] {
        assert!(
            !after.iter().any(|l| l.contains(unchanged)),
            "{unchanged} was touched: {after:#?}"
        );
    }
    assert!(
        !after
            .iter()
            .any(|l| l.contains("Stopped") || l.contains("Removing VIPs")),
        "{after:#?}"
    );

    // notify ran for the new instance only: BACKUP at its start, then
    // MASTER.
    wait_count(&notified, "INSTANCE VI_5 MASTER", 1);
    let notified_after = std::fs::read_to_string(&notified).unwrap();
    let new_lines: Vec<&str> = (notified_after.lines())
        .skip(notified_before.lines().count())
        .collect();
    assert_eq!(
        new_lines,
        ["INSTANCE VI_5 BACKUP 150", "INSTANCE VI_5 MASTER 150"]
    );

    // A configuration the conversion refuses: the running one stays.
    let refused = format!("bfd_instance B {{\n}}\n{}", config(BEFORE, &notify));
    std::fs::write(&conf, refused).unwrap();
    let _ = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status();
    wait_line(&log, "bfd_instance is not supported");
    wait_line(&log, "Reload failed, keeping the running configuration");
    assert_eq!(
        vips(&d),
        [
            "10.1.0.1",
            "10.1.0.2",
            "10.1.0.22",
            "10.2.0.1",
            "10.2.0.2",
            "10.2.0.3"
        ]
    );

    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let status = lite.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
