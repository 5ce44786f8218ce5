//! keepalived-lite reloaded (SIGHUP) with several instances on two
//! interfaces, in a namespace (needs root, iproute2, tcpdump and tshark):
//! a priority change, a VIP added and an instance added are applied to the
//! one running driver without a flap. Checked on the wire (tcpdump on the
//! peers of the daemon's veths), in the kernel's address notifications
//! (`ip monitor address`), in the log, and in the process's open fds.
//!
//! The second test makes the same edits to keepalived 2.2.7 in the same
//! layout and counts the same things (printed as a table row per instance,
//! the source of BENCHMARKS.md "VRRP reload: keepalived-lite vs
//! keepalived"); it asserts only what keepalived does every time.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

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

/// `pid`'s descriptors once there are `want` of them (at most 10 s):
/// while a notify script is being started the daemon briefly holds three
/// more (the child's /dev/null stdio), so one look can catch a spawn.
fn settled_fds(pid: u32, want: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let fds = open_fds(pid);
        if fds.len() == want || Instant::now() > deadline {
            return fds;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
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

/// One frame of a capture: a VRRP advert or a gratuitous ARP.
#[derive(Debug, Clone)]
struct Frame {
    /// Seconds since the epoch.
    t: f64,
    /// The advert's source (empty for an ARP).
    src: String,
    /// The advert's VRID and priority; None for an ARP.
    advert: Option<(u8, u8)>,
    /// The advert's addresses, or the ARP's target address.
    addrs: String,
}

fn frames(pcap: &Path) -> Vec<Frame> {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(pcap)
        .args(["-T", "fields", "-E", "separator=;"])
        .args(["-e", "frame.time_epoch", "-e", "ip.src"])
        .args(["-e", "vrrp.virt_rtr_id", "-e", "vrrp.prio"])
        .args(["-e", "vrrp.ip_addr", "-e", "arp.dst.proto_ipv4"])
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
            let advert = match (f.get(2)?.parse(), f.get(3)?.parse()) {
                (Ok(vrid), Ok(prio)) => Some((vrid, prio)),
                _ => None,
            };
            let addrs = if advert.is_some() {
                f.get(4)?
            } else {
                f.get(5)?
            };
            Some(Frame {
                t: f.first()?.parse().ok()?,
                src: f.get(1)?.to_string(),
                advert,
                addrs: addrs.to_string(),
            })
        })
        .collect()
}

/// The adverts of one instance.
fn adverts_of<'a>(seen: &'a [Frame], src: &'a str, vrid: u8) -> impl Iterator<Item = &'a Frame> {
    seen.iter()
        .filter(move |f| f.src == src && f.advert.is_some_and(|a| a.0 == vrid))
}

/// The priorities an instance advertised, repeats folded.
fn priorities(seen: &[Frame], src: &str, vrid: u8) -> Vec<u8> {
    let mut v: Vec<u8> = adverts_of(seen, src, vrid)
        .filter_map(|f| Some(f.advert?.1))
        .collect();
    v.dedup();
    v
}

/// The daemon under test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Daemon {
    Lite,
    Keepalived,
}

impl Daemon {
    fn name(self) -> &'static str {
        match self {
            Daemon::Lite => "keepalived-lite",
            Daemon::Keepalived => "keepalived 2.2.7",
        }
    }
}

/// A daemon running [`BEFORE`] in its lab; stopped (SIGTERM) on drop.
struct Run {
    d: Netns,
    p: Netns,
    dir: PathBuf,
    daemon: Child,
    conf: PathBuf,
    notify: PathBuf,
    log: PathBuf,
}

/// What a reload to [`AFTER`] did, seen from outside.
struct Outcome {
    frames: Vec<Frame>,
    /// When SIGHUP was sent, seconds since the epoch.
    sighup: f64,
    /// `ip monitor address` from the capture's start.
    monitor: String,
    /// The daemon's log lines after SIGHUP.
    log_after: Vec<String>,
    /// The notify lines after SIGHUP.
    notify_after: Vec<String>,
}

impl Run {
    fn start(daemon: Daemon) -> Run {
        let (d, p) = lab();
        let dir = std::env::temp_dir().join(d.name());
        std::fs::create_dir_all(&dir).unwrap();
        let (conf, notify, log) = (
            dir.join("keepalived.conf"),
            dir.join("notify.sh"),
            dir.join("daemon.log"),
        );
        let notified = dir.join("notified");
        let script = format!("#!/bin/sh\necho \"$@\" >> {}\n", notified.display());
        std::fs::write(&notify, script).unwrap();
        let chmod = Command::new("chmod").arg("+x").arg(&notify).status();
        assert!(chmod.unwrap().success());
        std::fs::write(&notified, "").unwrap();
        std::fs::write(&conf, config(BEFORE, &notify)).unwrap();
        let out = std::fs::File::create(&log).unwrap();
        let path = |f: &str| dir.join(f).to_str().unwrap().to_owned();
        let mut cmd = match daemon {
            Daemon::Lite => d.command(env!("CARGO_BIN_EXE_keepalived-lite")),
            Daemon::Keepalived => d.command("keepalived"),
        };
        cmd.args(["-P", "-n", "-l", "-f", &path("keepalived.conf")])
            .args(["-p", &path("k.pid"), "-r", &path("v.pid")]);
        match daemon {
            Daemon::Lite => cmd.args(["--control-socket", &path("ctl.sock")]),
            // Detailed log: the gratuitous ARP lines waited for below.
            Daemon::Keepalived => cmd.arg("-D"),
        };
        let daemon = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let run = Run {
            d,
            p,
            dir,
            daemon,
            conf,
            notify,
            log,
        };
        wait_vips(&run.d, &["10.1.0.1", "10.1.0.2", "10.2.0.1", "10.2.0.2"]);
        run
    }

    fn pid(&self) -> u32 {
        self.daemon.id()
    }

    fn file(&self, f: &str) -> PathBuf {
        self.dir.join(f)
    }

    /// Captures the peers' side and the daemon's addresses while the
    /// configuration goes from [`BEFORE`] to [`AFTER`] by SIGHUP, until
    /// VI_5 is master and two more advert intervals passed.
    fn reload(&self) -> Outcome {
        let pcap = self.file("adverts.pcap");
        let filter = "ip proto 112 or arp";
        let pcap_arg = pcap.to_str().unwrap();
        let args = ["-i", "any", "-U", "-w", pcap_arg, filter];
        let capture = Helper::spawn(&self.p, "tcpdump", &args, &self.file("tcpdump.log"));
        let monitor_args = ["-4", "monitor", "address"];
        let monitor = Helper::spawn(&self.d, "ip", &monitor_args, &self.file("monitor.log"));
        wait_line(&self.file("tcpdump.log"), "listening on");
        // The delayed gratuitous ARPs of the start (garp_master_delay, 5 s)
        // are logged before the reload, so that the log after it holds only
        // what the reload did; adverts of every instance are on the wire.
        for vi in ["(VI_1)", "(VI_2)", "(VI_3)", "(VI_4)"] {
            let line = format!("{vi} Sending/queueing gratuitous ARPs");
            wait_count(&self.log, &line, 2);
        }
        std::thread::sleep(Duration::from_millis(1500));
        let lines = |f: &Path| -> Vec<String> {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            text.lines().map(str::to_owned).collect()
        };
        let notified = self.file("notified");
        let (log_before, notify_before) = (lines(&self.log).len(), lines(&notified).len());

        std::fs::write(&self.conf, config(AFTER, &self.notify)).unwrap();
        let sighup = epoch_now();
        self.signal("-HUP");
        wait_line(&self.log, "(VI_5) Entering MASTER STATE");
        wait_vips(
            &self.d,
            &[
                "10.1.0.1",
                "10.1.0.2",
                "10.1.0.22",
                "10.2.0.1",
                "10.2.0.2",
                "10.2.0.3",
            ],
        );
        wait_count(&notified, "INSTANCE VI_5 MASTER", 1);
        // Two more advert intervals after the reload.
        std::thread::sleep(Duration::from_millis(2500));
        capture.stop();
        monitor.stop();
        Outcome {
            frames: frames(&pcap),
            sighup,
            monitor: std::fs::read_to_string(self.file("monitor.log")).unwrap(),
            log_after: lines(&self.log).split_off(log_before),
            notify_after: lines(&notified).split_off(notify_before),
        }
    }

    fn signal(&self, sig: &str) {
        let pid = self.pid().to_string();
        let _ = Command::new("kill").args([sig, &pid]).status();
    }

    /// SIGTERM, and the exit status.
    fn stop(mut self) -> ExitStatus {
        self.signal("-TERM");
        let status = self.daemon.wait().unwrap();
        let _ = std::fs::remove_dir_all(&self.dir);
        status
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        if self.daemon.try_wait().ok().flatten().is_some() {
            return;
        }
        // A graceful stop first: keepalived's parent takes its VRRP child
        // down with it; SIGKILL to both if that hangs.
        self.signal("-TERM");
        let deadline = Instant::now() + WAIT;
        while self.daemon.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                if let Ok(child) = std::fs::read_to_string(self.file("v.pid")) {
                    let _ = Command::new("kill").args(["-KILL", child.trim()]).status();
                }
                let _ = self.daemon.kill();
                let _ = self.daemon.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn epoch_now() -> f64 {
    let since = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
    since.unwrap().as_secs_f64()
}

/// (instance, the edit, advert source, VRID, what shows it applied: a
/// priority or an address in its adverts).
const EDITS: [(&str, &str, &str, u8, Applied); 5] = [
    (
        "VI_1",
        "priority 150 -> 120",
        VETH0,
        1,
        Applied::Priority(120),
    ),
    (
        "VI_2",
        "VIP 10.1.0.22 added",
        VETH0,
        2,
        Applied::Address("10.1.0.22"),
    ),
    ("VI_3", "unchanged", VETH1, 1, Applied::Unchanged),
    ("VI_4", "unchanged", VETH1, 2, Applied::Unchanged),
    ("VI_5", "instance added", VETH1, 3, Applied::Priority(150)),
];

const VETH0: &str = "192.168.1.1";
const VETH1: &str = "192.168.2.1";

#[derive(Clone, Copy)]
enum Applied {
    Priority(u8),
    Address(&'static str),
    Unchanged,
}

/// The counts of one instance over a reload.
#[derive(Debug, PartialEq, Eq)]
struct Counts {
    /// Adverts with priority 0 (the capture spans the reload).
    priority_zero: usize,
    /// Its addresses deleted (`ip monitor`).
    vips_removed: usize,
    /// Notify lines after SIGHUP.
    notify_lines: usize,
    /// Changes of the advertised priority.
    priority_changes: usize,
    /// Gratuitous ARPs for its addresses after SIGHUP.
    garps: usize,
}

fn counts(out: &Outcome, (name, _, src, vrid, _): (&str, &str, &str, u8, Applied)) -> Counts {
    let vips: Vec<String> = (AFTER.iter().chain(BEFORE))
        .filter(|i| i.0 == name)
        .flat_map(|i| i.4.iter().map(|v| v.to_string()))
        .collect();
    let word = format!(" {name} ");
    let removed =
        |l: &&str| l.starts_with("Deleted") && vips.iter().any(|v| l.contains(&format!(" {v}/")));
    Counts {
        priority_zero: adverts_of(&out.frames, src, vrid)
            .filter(|f| f.advert.is_some_and(|a| a.1 == 0))
            .count(),
        vips_removed: out.monitor.lines().filter(removed).count(),
        notify_lines: (out.notify_after.iter())
            .filter(|l| format!(" {l} ").contains(&word))
            .count(),
        priority_changes: priorities(&out.frames, src, vrid).len().saturating_sub(1),
        garps: (out.frames.iter())
            .filter(|f| f.advert.is_none() && f.t >= out.sighup && vips.contains(&f.addrs))
            .count(),
    }
}

/// Milliseconds from SIGHUP to the first advert showing the edit.
fn applied_ms(
    out: &Outcome,
    (_, _, src, vrid, applied): (&str, &str, &str, u8, Applied),
) -> Option<f64> {
    let first = adverts_of(&out.frames, src, vrid)
        .filter(|f| f.t >= out.sighup)
        .find(|f| match applied {
            Applied::Priority(p) => f.advert.is_some_and(|a| a.1 == p),
            Applied::Address(a) => f.addrs.split(',').any(|x| x == a),
            Applied::Unchanged => false,
        })?;
    Some((first.t - out.sighup) * 1000.0)
}

/// Gratuitous ARPs after SIGHUP per address of an instance (`ADDR: N`).
fn garps_by_address(out: &Outcome, name: &str) -> String {
    let vips = AFTER
        .iter()
        .filter(|i| i.0 == name)
        .flat_map(|i| i.4.iter());
    let after = |v: &&str| {
        (out.frames.iter())
            .filter(|f| f.advert.is_none() && f.t >= out.sighup && f.addrs == *v)
            .count()
    };
    let parts: Vec<String> = vips.map(|v| format!("{v}: {}", after(v))).collect();
    parts.join(", ")
}

/// Milliseconds from SIGHUP to an instance's first advert.
fn first_advert_ms(out: &Outcome, src: &str, vrid: u8) -> Option<f64> {
    let first = adverts_of(&out.frames, src, vrid).find(|f| f.t >= out.sighup)?;
    Some((first.t - out.sighup) * 1000.0)
}

/// The table rows of BENCHMARKS.md, one per instance; the counts.
fn report(daemon: Daemon, out: &Outcome) -> Vec<Counts> {
    let ms = |v: Option<f64>| v.map_or("-".into(), |ms| format!("{ms:.0} ms"));
    EDITS
        .iter()
        .map(|&e| {
            let c = counts(out, e);
            eprintln!(
                "| {} {} | {} | {} | {} | {} | {} | {} ({}) | {} | {} |",
                e.0,
                e.1,
                daemon.name(),
                c.priority_zero,
                c.vips_removed,
                c.notify_lines,
                c.priority_changes,
                c.garps,
                garps_by_address(out, e.0),
                ms(first_advert_ms(out, e.2, e.3)),
                ms(applied_ms(out, e)),
            );
            c
        })
        .collect()
}

/// The counts every run shows, for both daemons: no priority 0, no
/// address removed, notify only for the new instance (BACKUP, MASTER),
/// one priority change, VI_1's.
fn assert_no_flap(c: &[Counts]) {
    let zero: Vec<usize> = c.iter().map(|c| c.priority_zero + c.vips_removed).collect();
    assert_eq!(zero, [0; 5], "no priority 0, no VIP removed");
    let notify: Vec<usize> = c.iter().map(|c| c.notify_lines).collect();
    assert_eq!(notify, [0, 0, 0, 0, 2], "notify lines");
    let changes: Vec<usize> = c.iter().map(|c| c.priority_changes).collect();
    assert_eq!(changes, [1, 0, 0, 0, 0], "priority changes");
}

#[test]
fn root_netns_lite_sighup_priority_vip_and_instance_without_a_flap() {
    require_root();
    require_program("tcpdump", &["--version"]);
    require_program("tshark", &["--version"]);
    let run = Run::start(Daemon::Lite);
    let (pid, log) = (run.pid(), run.log.clone());
    // Constant: 3 stdio; the runtime's epoll (and its duplicate) and
    // waker eventfd; the signal socket pair (and a duplicate); the daemon's
    // rtnetlink socket; the driver's rtnetlink request socket, link watch
    // socket and timerfd: 13. The control socket: its listener and its
    // thread's runtime (epoll and its duplicate, waker eventfd, the signal
    // socket's duplicate): 5. Per interface one raw VRRP socket and one
    // AF_PACKET (gratuitous ARP) socket, shared by all its instances.
    let per_interface = 2;
    let expected_fds = 13 + 5 + 2 * per_interface;
    let fds = settled_fds(pid, expected_fds);
    assert_eq!(fds.len(), expected_fds, "{fds:?}");

    let out = run.reload();
    wait_line(
        &log,
        "VRRP configuration applied: 2 unchanged, 2 updated, 1 added, 0 removed, 0 restarted",
    );
    let fds = settled_fds(pid, expected_fds);
    assert_eq!(fds.len(), expected_fds, "still 2 interfaces: {fds:?}");

    let seen = &out.frames;
    assert_eq!(priorities(seen, VETH0, 1), [150, 120], "VI_1, no 0 between");
    assert_eq!(priorities(seen, VETH0, 2), [150], "VI_2");
    assert_eq!(priorities(seen, VETH1, 1), [150], "VI_3");
    assert_eq!(priorities(seen, VETH1, 2), [150], "VI_4");
    assert_eq!(priorities(seen, VETH1, 3), [150], "VI_5 runs");
    assert!(
        adverts_of(seen, VETH0, 2).any(|a| a.addrs.contains("10.1.0.22")),
        "VI_2 advertises its new VIP: {seen:?}"
    );

    let monitor_log = &out.monitor;
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

    for unchanged in ["(VI_3)", "(VI_4)"] {
        assert!(
            !out.log_after.iter().any(|l| l.contains(unchanged)),
            "{unchanged} was touched: {:#?}",
            out.log_after
        );
    }
    assert!(
        !out.log_after
            .iter()
            .any(|l| l.contains("Stopped") || l.contains("removing VIPs")),
        "{:#?}",
        out.log_after
    );

    // notify ran for the new instance only: BACKUP at its start, then
    // MASTER.
    assert_eq!(
        out.notify_after,
        ["INSTANCE VI_5 BACKUP 150", "INSTANCE VI_5 MASTER 150"]
    );
    let c = report(Daemon::Lite, &out);
    assert_no_flap(&c);
    // As keepalived: an instance that gained an address announces all of
    // its addresses (garp_master_repeat 5 each), no other instance does.
    let garps: Vec<usize> = c.iter().map(|c| c.garps).collect();
    assert_eq!(garps, [0, 10, 0, 0, 5]);

    // A configuration the conversion refuses: the running one stays.
    let refused = format!("bfd_instance B {{\n}}\n{}", config(BEFORE, &run.notify));
    std::fs::write(&run.conf, refused).unwrap();
    run.signal("-HUP");
    wait_line(&log, "bfd_instance is not supported");
    wait_line(&log, "Reload failed, keeping the running configuration");
    assert_eq!(
        vips(&run.d),
        [
            "10.1.0.1",
            "10.1.0.2",
            "10.1.0.22",
            "10.2.0.1",
            "10.2.0.2",
            "10.2.0.3"
        ]
    );

    let status = run.stop();
    assert!(status.success(), "{status:?}");
}

/// keepalived 2.2.7 given the same edits: counted and printed beside
/// ours; asserted only where it behaves the same every run.
#[test]
fn root_netns_keepalived_sighup_same_edits_counted() {
    require_root();
    require_program("tcpdump", &["--version"]);
    require_program("tshark", &["--version"]);
    require_program("keepalived", &["-v"]);
    let run = Run::start(Daemon::Keepalived);
    let out = run.reload();
    let c = report(Daemon::Keepalived, &out);
    assert_no_flap(&c);
    let seen = &out.frames;
    // The edits are applied.
    assert_eq!(priorities(seen, VETH0, 1).last(), Some(&120), "VI_1");
    assert!(adverts_of(seen, VETH0, 2).any(|a| a.addrs.contains("10.1.0.22")));
    assert_eq!(priorities(seen, VETH1, 3).last(), Some(&150), "VI_5 runs");
    let status = run.stop();
    assert!(status.success(), "{status:?}");
}
