//! Chaos (issue 15): two keepalived-lite routers on one bridge, three
//! instances each, while for 60 s and all at once their links flap, VIPs
//! are deleted behind their backs, bursts of address changes overrun their
//! netlink sockets (ENOBUFS), an invalid-advert flood hits them and their
//! vrrp_script times out. A sampler reads every 10 ms which router holds
//! each VIP; never may both hold one for longer than one advert interval
//! (1 s). Afterwards: one MASTER per instance (r1, the higher priority),
//! each VIP held once, the daemons' fd counts back to their start values,
//! no script process left, and a clean stop. A second, small test makes
//! one overrun certain (the daemon stopped while it fills) and checks that
//! the link change it swallowed is still applied. Needs root and iproute2.
//!
//! The only timing asserted is that acceptance bar; everything else is
//! polled for with generous deadlines.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

mod bad_advert;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bad_advert::bad_checksum_advert;
use keepalived_lite::netns::{require_root, Lab};
use test_support::flood::{rx_packets, Flood};
use vrrp::auth::AuthConfig;
use vrrp::linux::Netlink;

/// How long the faults run.
const CHAOS: Duration = Duration::from_secs(60);
/// The acceptance's bar: one advert interval (`advert_int 1`).
const ADVERT_INTERVAL: Duration = Duration::from_secs(1);
/// How often the sampler looks.
const SAMPLE_EVERY: Duration = Duration::from_millis(10);
/// Generous: CI machines are small and loaded.
const WAIT: Duration = Duration::from_secs(30);
const ROUTERS: [&str; 2] = ["r1", "r2"];
/// (instance, VRID, VIP).
const INSTANCES: [(&str, u8, Ipv4Addr); 3] = [
    ("VI_1", 51, Ipv4Addr::new(10, 0, 0, 101)),
    ("VI_2", 52, Ipv4Addr::new(10, 0, 0, 102)),
    ("VI_3", 53, Ipv4Addr::new(10, 0, 0, 103)),
];
/// IPv6 addresses removed at once per netlink burst: far more
/// notifications than a socket's default receive buffer holds. IPv6, so
/// the sampler's IPv4 dumps stay small, and so that a link going down
/// removes them all.
const BURST: u32 = 2000;

// ---- configuration ----------------------------------------------------

/// Files of one run.
struct Files {
    dir: PathBuf,
    /// The check script (`/bin/sh` runs it, so its directory need not
    /// pass keepalived's script security).
    script: PathBuf,
    /// The argument of the script's sleep: unique to this run, so a
    /// leftover is found by it.
    marker: String,
}

impl Files {
    fn new(dir: &Path) -> Files {
        let marker = format!("100.{}", std::process::id());
        let script = dir.join("chaos_chk.sh");
        Files {
            dir: dir.to_owned(),
            script,
            marker,
        }
    }

    /// While this file exists, `node`'s check outlives its timeout.
    fn slow_flag(&self, node: &str) -> PathBuf {
        self.dir.join(format!("slow-{node}"))
    }
}

/// The check: instant, unless the router's slow flag exists; then a
/// sleep far past the 1 s timeout, which the daemon must kill (with the
/// shell, as a process group).
fn write_script(files: &Files) {
    let body = format!(
        "#!/bin/sh\nif [ -e \"{}/slow-$1\" ]; then sleep {}; fi\nexit 0\n",
        files.dir.display(),
        files.marker
    );
    std::fs::write(&files.script, body).unwrap();
}

fn config(node: &str, priority: u8, files: &Files) -> String {
    let mut c = format!(
        "global_defs {{\n  router_id {node}\n}}\n\
         vrrp_script chk {{\n  script \"/bin/sh {} {node}\"\n  interval 1\n  timeout 1\n  \
         weight -60\n  fall 1\n  rise 1\n}}\n",
        files.script.display()
    );
    for (name, vrid, vip) in INSTANCES {
        c.push_str(&format!(
            "vrrp_instance {name} {{\n  state BACKUP\n  interface eth0\n  \
             virtual_router_id {vrid}\n  priority {priority}\n  advert_int 1\n  \
             track_interface {{\n    trk0\n  }}\n  track_script {{\n    chk\n  }}\n  \
             virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n"
        ));
    }
    c
}

/// An advert for VRID 51 at priority 200 with a wrong VRRP checksum: it
/// reaches both routers' sockets and must be dropped there.
fn invalid_advert() -> Vec<u8> {
    let src = Ipv4Addr::new(10, 0, 0, 3);
    bad_checksum_advert(src, INSTANCES[0].2, &AuthConfig::None)
}

// ---- small helpers ----------------------------------------------------

fn log_text(log: &Path) -> String {
    std::fs::read_to_string(log).unwrap_or_default()
}

/// Polls until `ok` holds, or fails with `what` and `context()`.
fn wait_until(what: &str, mut ok: impl FnMut() -> bool, context: impl Fn() -> String) {
    let deadline = Instant::now() + WAIT;
    while !ok() {
        assert!(
            Instant::now() < deadline,
            "{what} never happened\n{}",
            context()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `ip -n ns args`; failures are expected under chaos (e.g. deleting a
/// VIP the router does not hold) and ignored.
fn ip(ns: &str, args: &[&str]) -> bool {
    Command::new("ip")
        .args(["-n", ns])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `ip -n ns -force -batch -` fed `lines`.
fn ip_batch(ns: &str, lines: &str) {
    use std::io::Write;
    let mut child = Command::new("ip")
        .args(["-n", ns, "-force", "-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(lines.as_bytes());
    }
    let _ = child.wait();
}

/// A tiny deterministic generator (xorshift64): each injector draws its
/// schedule from the run's seed, printed so that a failing schedule can be
/// run again (`CHAOS_SEED=N`; the timings around it will differ).
struct Rng(u64);

impl Rng {
    /// The generator of one injector (`stream`) of the run `seed`.
    fn new(seed: u64, stream: u64) -> Rng {
        // xorshift never leaves zero.
        Rng((seed ^ stream) | 1)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }

    fn millis(&mut self, from: u64, to: u64) -> Duration {
        Duration::from_millis(from + self.below(to - from))
    }
}

/// Sleeps `d`, or less if `until` comes first.
fn nap(d: Duration, until: Instant) {
    let left = until.saturating_duration_since(Instant::now());
    std::thread::sleep(d.min(left));
}

/// The last state `log` shows for `instance` (MASTER, BACKUP, FAULT).
fn last_state(log: &Path, instance: &str) -> Option<String> {
    let needle = format!("({instance}) Entering ");
    let text = log_text(log);
    let line = text.lines().rev().find(|l| l.contains(&needle))?;
    let rest = &line[line.find(&needle)? + needle.len()..];
    rest.split_whitespace().next().map(str::to_owned)
}

fn vips_held(nl: &mut Netlink) -> Option<Vec<Ipv4Addr>> {
    let held = nl.addresses(None).ok()?;
    Some(
        INSTANCES
            .iter()
            .map(|i| i.2)
            .filter(|v| held.iter().any(|a| a.addr == *v))
            .collect(),
    )
}

fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .map(|d| d.count())
        .unwrap_or(0)
}

fn fd_listing(pid: u32) -> String {
    let mut out = Vec::new();
    if let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/fd")) {
        for e in dir.flatten() {
            let target = std::fs::read_link(e.path()).unwrap_or_default();
            out.push(format!(
                "{} -> {}",
                e.file_name().to_string_lossy(),
                target.display()
            ));
        }
    }
    out.sort();
    out.join("\n")
}

/// Processes whose command line mentions `needle`, as "pid: cmdline".
fn processes_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(raw) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmd = String::from_utf8_lossy(&raw).replace('\0', " ");
        if cmd.contains(needle) {
            found.push(format!("{name}: {cmd}"));
        }
    }
    found
}

/// Netlink messages the kernel dropped for the daemon's watcher (the
/// socket subscribed to groups 1, 5 and 9) in namespace `ns`.
fn watcher_drops(lab: &Lab, node: &str) -> u64 {
    let out = lab.run(node, "cat", &["/proc/net/netlink"]).unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
            let f: Vec<&str> = l.split_whitespace().collect();
            // The watcher: link and address groups (1, 5, 9), and more.
            let groups = f.get(3).and_then(|g| u32::from_str_radix(g, 16).ok());
            let watcher =
                f.len() >= 10 && f[1] == "0" && groups.is_some_and(|g| g & 0x111 == 0x111);
            if watcher {
                f[8].parse::<u64>().ok()
            } else {
                None
            }
        })
        .sum()
}

// ---- the sampler ------------------------------------------------------

/// What the sampler saw.
#[derive(Debug, Default)]
struct Sampled {
    samples: u64,
    failed: u64,
    /// Longest stretch with both routers holding one VIP: from the first
    /// sample that saw both to the first that did not (an upper bound).
    longest_double: Duration,
    /// VIP and wall-clock start of that stretch, to find it in the logs.
    worst: Option<(Ipv4Addr, SystemTime)>,
    double_episodes: u64,
    longest_gap: Duration,
    busy: Duration,
}

/// Samples both routers' VIPs every [`SAMPLE_EVERY`] until `stop`.
fn sample(mut nls: Vec<Netlink>, stop: &AtomicBool) -> Sampled {
    let mut s = Sampled::default();
    let mut since: Vec<Option<(Instant, SystemTime)>> = vec![None; INSTANCES.len()];
    let mut next = Instant::now();
    let mut last = next;
    while !stop.load(Ordering::Relaxed) {
        let t = Instant::now();
        s.longest_gap = s.longest_gap.max(t - last);
        last = t;
        let held: Option<Vec<Vec<Ipv4Addr>>> = nls.iter_mut().map(vips_held).collect();
        s.busy += t.elapsed();
        match held {
            None => s.failed += 1,
            Some(held) => {
                s.samples += 1;
                for (i, (_, _, vip)) in INSTANCES.iter().enumerate() {
                    let both = held.iter().all(|h| h.contains(vip));
                    match (both, since[i]) {
                        (true, None) => {
                            since[i] = Some((t, SystemTime::now()));
                            s.double_episodes += 1;
                        }
                        (false, Some((start, wall))) => {
                            since[i] = None;
                            if t - start > s.longest_double {
                                s.longest_double = t - start;
                                s.worst = Some((*vip, wall));
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
        next += SAMPLE_EVERY;
        let now = Instant::now();
        if next > now {
            std::thread::sleep(next - now);
        } else {
            next = now;
        }
    }
    // A stretch still open at the end counts up to now.
    for (i, open) in since.iter().enumerate() {
        if let Some((start, wall)) = open {
            if start.elapsed() > s.longest_double {
                s.longest_double = start.elapsed();
                s.worst = Some((INSTANCES[i].2, *wall));
            }
        }
    }
    s
}

// ---- the fault injectors ----------------------------------------------

#[derive(Debug, Default)]
struct Injected {
    seed: u64,
    flaps: AtomicU64,
    vip_deletions: AtomicU64,
    netlink_bursts: AtomicU64,
    flood_sent: AtomicU64,
    slow_scripts: AtomicU64,
}

/// Takes `trk0` (tracked) or `eth0` of a router down and up again.
fn flap_links(nss: &[String], until: Instant, n: &Injected) {
    let mut rng = Rng::new(n.seed, 0x9e37_79b9_7f4a_7c15);
    while Instant::now() < until {
        let ns = &nss[rng.below(2) as usize];
        let link = ["trk0", "eth0"][rng.below(2) as usize];
        ip(ns, &["link", "set", link, "down"]);
        n.flaps.fetch_add(1, Ordering::Relaxed);
        nap(rng.millis(300, 2000), until);
        ip(ns, &["link", "set", link, "up"]);
        nap(rng.millis(500, 3000), until);
    }
}

/// Deletes a VIP on both routers (so on its holder) behind their backs.
fn delete_vips(nss: &[String], until: Instant, n: &Injected) {
    let mut rng = Rng::new(n.seed, 0xd1b5_4a32_d192_ed03);
    while Instant::now() < until {
        let vip = format!("{}/24", INSTANCES[rng.below(3) as usize].2);
        for ns in nss {
            if ip(ns, &["addr", "del", &vip, "dev", "eth0"]) {
                n.vip_deletions.fetch_add(1, Ordering::Relaxed);
            }
        }
        nap(rng.millis(700, 2500), until);
    }
}

/// Netlink bursts: IPv6 addresses are added to a spare link one by one
/// (the daemon keeps up with those), then the link goes down, and the
/// kernel removes them all in one go: thousands of notifications at once,
/// far more than the daemon's socket buffers (ENOBUFS).
fn overrun_netlink(nss: &[String], until: Instant, n: &Injected) {
    let mut rng = Rng::new(n.seed, 0x8cb9_2ba7_2f3d_8dd7);
    let add: String = (1..=BURST)
        .map(|i| format!("addr add fd00::{i:x}/128 dev ovr0 nodad\n"))
        .collect();
    // Both routers in turn: each must see overruns.
    for ns in nss.iter().cycle() {
        if Instant::now() >= until {
            break;
        }
        ip_batch(ns, &add);
        ip(ns, &["link", "set", "ovr0", "down"]);
        ip(ns, &["link", "set", "ovr0", "up"]);
        n.netlink_bursts.fetch_add(1, Ordering::Relaxed);
        nap(rng.millis(1000, 4000), until);
    }
}

/// Floods both routers with invalid adverts in bursts: on for up to 2 s,
/// then off, so that the peer's adverts are not lost for three intervals
/// in a row by the flood alone (that would be a real partition).
fn flood(lab: &Lab, until: Instant, n: &Injected) {
    let mut rng = Rng::new(n.seed, 0x2545_f491_4f6c_dd1d);
    let advert = invalid_advert();
    while Instant::now() < until {
        let f = Flood::start(lab.netns("fl"), "eth0", &advert, 1).unwrap();
        nap(rng.millis(500, 2000), until);
        n.flood_sent.fetch_add(f.stop().unwrap(), Ordering::Relaxed);
        nap(rng.millis(1000, 2500), until);
    }
}

/// Makes a router's check script outlive its timeout for a while.
fn slow_scripts(files: &Files, until: Instant, n: &Injected) {
    let mut rng = Rng::new(n.seed, 0x6a09_e667_f3bc_c909);
    for node in ROUTERS.iter().cycle() {
        if Instant::now() >= until {
            break;
        }
        let flag = files.slow_flag(node);
        std::fs::write(&flag, b"").unwrap();
        n.slow_scripts.fetch_add(1, Ordering::Relaxed);
        nap(rng.millis(1500, 4000), until);
        let _ = std::fs::remove_file(&flag);
        nap(rng.millis(1000, 3000), until);
    }
}

// ---- the test ---------------------------------------------------------

/// r1 MASTER of every instance with every VIP, r2 BACKUP with none.
fn settled(lab: &Lab, logs: &[PathBuf]) -> bool {
    let held: Vec<Vec<Ipv4Addr>> = ROUTERS
        .iter()
        .map(|r| {
            lab.enter(r, || vips_held(&mut Netlink::open().unwrap()))
                .unwrap()
                .unwrap_or_default()
        })
        .collect();
    let states_ok = INSTANCES.iter().all(|(name, _, _)| {
        last_state(&logs[0], name).as_deref() == Some("MASTER")
            && last_state(&logs[1], name).as_deref() == Some("BACKUP")
    });
    states_ok && held[0].len() == INSTANCES.len() && held[1].is_empty()
}

fn logs_of(logs: &[PathBuf]) -> String {
    logs.iter()
        .map(|l| format!("--- {}:\n{}", l.display(), log_text(l)))
        .collect()
}

#[test]
fn root_netns_chaos_never_two_vip_holders_for_longer_than_an_advert_interval() {
    require_root();
    let mut lab = Lab::new().unwrap();
    for (i, name) in ["r1", "r2", "fl"].iter().enumerate() {
        lab.add_node(name, Ipv4Addr::new(10, 0, 0, 1 + i as u8), 24)
            .unwrap();
    }
    // Bridged frames skip iptables: the flood's cost is the routers'.
    lab.set_bridge_netfilter(false).unwrap();
    let dir = std::env::temp_dir().join(&lab.node("r1").ns);
    std::fs::create_dir_all(&dir).unwrap();
    let files = Files::new(&dir);
    write_script(&files);
    let nss: Vec<String> = ROUTERS.iter().map(|r| lab.node(r).ns.clone()).collect();
    // No dummy driver in this kernel: veth pairs inside each router are
    // the tracked link (trk0) and the link the netlink bursts use (ovr0).
    for ns in &nss {
        for (a, b) in [("trk0", "trk1"), ("ovr0", "ovr1")] {
            assert!(ip(
                ns,
                &["link", "add", a, "type", "veth", "peer", "name", b]
            ));
            assert!(ip(ns, &["link", "set", b, "up"]));
            assert!(ip(ns, &["link", "set", a, "up"]));
        }
    }

    let lite = env!("CARGO_BIN_EXE_keepalived-lite");
    let mut logs = Vec::new();
    let mut pids = Vec::new();
    for (node, priority) in [("r1", 150), ("r2", 100)] {
        let conf = dir.join(format!("{node}.conf"));
        std::fs::write(&conf, config(node, priority, &files)).unwrap();
        let log = dir.join(format!("{node}.log"));
        pids.push(
            lab.spawn_lite_daemon(node, lite, &conf, &dir, &log)
                .unwrap(),
        );
        logs.push(log);
    }
    wait_until(
        "the start (r1 MASTER, r2 BACKUP)",
        || settled(&lab, &logs),
        || logs_of(&logs),
    );
    // The least fds seen over a moment: a check script may be running.
    let fds_at_start: Vec<usize> = pids
        .iter()
        .map(|&p| {
            (0..10)
                .map(|_| {
                    std::thread::sleep(Duration::from_millis(50));
                    fd_count(p)
                })
                .min()
                .unwrap_or(0)
        })
        .collect();
    let fd_listings: Vec<String> = pids.iter().map(|&p| fd_listing(p)).collect();
    let drops_before: Vec<u64> = ROUTERS.iter().map(|r| watcher_drops(&lab, r)).collect();
    let rx_before = rx_packets(lab.netns("r1"), "eth0").unwrap();

    // Everything at once, for CHAOS.
    let nls: Vec<Netlink> = ROUTERS
        .iter()
        .map(|r| lab.enter(r, || Netlink::open().unwrap()).unwrap())
        .collect();
    let seed = std::env::var("CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            let t = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH);
            t.map(|d| d.as_nanos() as u64).unwrap_or(1)
        });
    eprintln!("chaos seed {seed} (CHAOS_SEED={seed} draws the same schedule)");
    let injected = Injected {
        seed,
        ..Injected::default()
    };
    let stop_sampler = AtomicBool::new(false);
    let t0 = Instant::now();
    let until = t0 + CHAOS;
    let sampled = std::thread::scope(|s| {
        let sampler = s.spawn(|| sample(nls, &stop_sampler));
        let injectors = [
            s.spawn(|| flap_links(&nss, until, &injected)),
            s.spawn(|| delete_vips(&nss, until, &injected)),
            s.spawn(|| overrun_netlink(&nss, until, &injected)),
            s.spawn(|| flood(&lab, until, &injected)),
            s.spawn(|| slow_scripts(&files, until, &injected)),
        ];
        for i in injectors {
            i.join().unwrap();
        }
        // Every fault is undone by now: links up, flags gone, no flood.
        for ns in &nss {
            for link in ["eth0", "trk0"] {
                assert!(ip(ns, &["link", "set", link, "up"]));
            }
        }
        wait_until(
            "the settle (r1 MASTER, r2 BACKUP)",
            || settled(&lab, &logs),
            || logs_of(&logs),
        );
        stop_sampler.store(true, Ordering::Relaxed);
        sampler.join().unwrap()
    });
    let chaos_time = t0.elapsed();
    let rx = rx_packets(lab.netns("r1"), "eth0").unwrap() - rx_before;
    let drops: Vec<u64> = ROUTERS
        .iter()
        .zip(&drops_before)
        .map(|(r, before)| watcher_drops(&lab, r) - before)
        .collect();
    let mean_sample = sampled.busy / u32::try_from(sampled.samples.max(1)).unwrap_or(u32::MAX);
    eprintln!(
        "chaos for {chaos_time:?}: {injected:?}\n\
         r1 received {rx} packets ({:.0}/s over the run); netlink drops at the watchers: {drops:?}\n\
         sampler: {} samples ({} failed), {mean_sample:?} each, longest gap {:?}\n\
         two holders: {} episodes, longest {:?} ({:?})",
        rx as f64 / chaos_time.as_secs_f64(),
        sampled.samples,
        sampled.failed,
        sampled.longest_gap,
        sampled.double_episodes,
        sampled.longest_double,
        sampled.worst,
    );

    // What the daemons made of it, for the reader: transitions and
    // script timeouts per router.
    let tally = |log: &Path, needle: &str| log_text(log).matches(needle).count();
    for (r, log) in ROUTERS.iter().zip(&logs) {
        eprintln!(
            "{r}: {} MASTER, {} BACKUP, {} FAULT entries; {} script timeouts",
            tally(log, "Entering MASTER STATE"),
            tally(log, "Entering BACKUP STATE"),
            tally(log, "Entering FAULT STATE"),
            tally(log, "VRRP_Script(chk) timed out"),
        );
    }
    let timeouts: usize = logs
        .iter()
        .map(|l| tally(l, "VRRP_Script(chk) timed out"))
        .sum();
    assert!(timeouts > 0, "no script timed out\n{}", logs_of(&logs));
    assert!(
        sampled.longest_double <= ADVERT_INTERVAL,
        "two VIP holders for {:?} ({:?})\n{}",
        sampled.longest_double,
        sampled.worst,
        logs_of(&logs)
    );
    assert!(
        drops.iter().all(|&d| d > 0),
        "no netlink overrun was provoked: {drops:?}"
    );

    // No script left behind: a leaked sleep would outlive these waits.
    let marker = files.marker.clone();
    wait_until(
        "the end of every slow check",
        || processes_with(&marker).is_empty(),
        || format!("{:?}", processes_with(&marker)),
    );
    // fds back to where they were.
    eprintln!("fds at the start: {fds_at_start:?} (r1, r2)");
    for (i, &pid) in pids.iter().enumerate() {
        wait_until(
            "the fd count back at its start",
            || fd_count(pid) == fds_at_start[i],
            || {
                format!(
                    "{}: {} fds at the start, {} now\nstart:\n{}\nnow:\n{}",
                    ROUTERS[i],
                    fds_at_start[i],
                    fd_count(pid),
                    fd_listings[i],
                    fd_listing(pid)
                )
            },
        );
    }

    // A clean stop: both daemons gone, nothing left in their namespaces.
    for (i, &pid) in pids.iter().enumerate() {
        lab.signal(pid, "TERM").unwrap();
        wait_until(
            "the stop",
            || log_text(&logs[i]).contains("Stopped"),
            || logs_of(&logs),
        );
        lab.stop(pid, Duration::from_secs(5));
        let left = Command::new("ip").args(["netns", "pids", &nss[i]]).output();
        let left = String::from_utf8_lossy(&left.unwrap().stdout).into_owned();
        assert_eq!(left.trim(), "", "processes left in {}", ROUTERS[i]);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A tracked link going down behind a netlink overrun: its notification
/// is among those the kernel drops (ENOBUFS), so only the daemon's re-read
/// of the links after the overrun can find it. The instances must go to
/// FAULT and give up their VIPs all the same.
#[test]
fn root_netns_a_link_change_lost_in_an_overrun_is_still_applied() {
    require_root();
    let mut lab = Lab::new().unwrap();
    lab.add_node("r1", Ipv4Addr::new(10, 0, 0, 1), 24).unwrap();
    let ns = lab.node("r1").ns.clone();
    let dir = std::env::temp_dir().join(&ns);
    std::fs::create_dir_all(&dir).unwrap();
    let files = Files::new(&dir);
    write_script(&files);
    for (a, b) in [("trk0", "trk1"), ("ovr0", "ovr1")] {
        assert!(ip(
            &ns,
            &["link", "add", a, "type", "veth", "peer", "name", b]
        ));
        assert!(ip(&ns, &["link", "set", b, "up"]));
        assert!(ip(&ns, &["link", "set", a, "up"]));
    }
    let conf = dir.join("r1.conf");
    std::fs::write(&conf, config("r1", 150, &files)).unwrap();
    let log = dir.join("r1.log");
    let lite = env!("CARGO_BIN_EXE_keepalived-lite");
    let pid = lab
        .spawn_lite_daemon("r1", lite, &conf, &dir, &log)
        .unwrap();
    let held = |lab: &Lab| {
        lab.enter("r1", || vips_held(&mut Netlink::open().unwrap()))
            .unwrap()
            .unwrap_or_default()
    };
    let all_master = || {
        INSTANCES
            .iter()
            .all(|(name, _, _)| last_state(&log, name).as_deref() == Some("MASTER"))
    };
    wait_until(
        "MASTER",
        || all_master() && held(&lab).len() == INSTANCES.len(),
        || log_text(&log),
    );

    let add: String = (1..=BURST)
        .map(|i| format!("addr add fd00::{i:x}/128 dev ovr0 nodad\n"))
        .collect();
    ip_batch(&ns, &add);
    let drops = watcher_drops(&lab, "r1");
    // The daemon stopped (as if never scheduled) while the address
    // removals fill its socket; the link change then finds it full.
    lab.signal(pid, "STOP").unwrap();
    ip_batch(&ns, "link set ovr0 down\nlink set trk0 down\n");
    let dropped = watcher_drops(&lab, "r1") - drops;
    lab.signal(pid, "CONT").unwrap();
    assert!(dropped > 0, "the burst overran nothing");
    let faulted = || {
        INSTANCES
            .iter()
            .all(|(name, _, _)| last_state(&log, name).as_deref() == Some("FAULT"))
    };
    wait_until(
        "FAULT after the overrun",
        || faulted() && held(&lab).is_empty(),
        || log_text(&log),
    );
    lab.stop(pid, Duration::from_secs(5));
    let _ = std::fs::remove_dir_all(&dir);
}
