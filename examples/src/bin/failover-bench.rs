//! failover-bench: how fast a backup takes over, keepalived-lite against
//! keepalived 2.2.7, measured from packet capture timestamps.
//!
//! Topology (one namespace lab, needs root, keepalived and tcpdump): r1
//! (priority 150) and r2 (priority 100) on a bridge, plus an observer `obs`
//! running `tcpdump -U -w` on its port. For every run both routers start,
//! r1 wins, then r1 is stopped and r2 takes over:
//!
//! - graceful (SIGTERM): overhead = r2's first advert - r1's priority-0
//!   advert - Skew_Time(100) (RFC 3768 section 6.1: (256 - 100) / 256 s);
//! - crash (SIGKILL, both keepalived processes): overhead = r2's first
//!   advert - r1's last advert - Master_Down_Interval(100) (3 x 1 s + Skew).
//!
//! The gratuitous ARP delay is r2's first ARP for the VIP - r2's first
//! advert. Usage: `failover-bench [RUNS]` (default 10); prints a Markdown
//! table. keepalived-lite is the binary next to this one.
//!
//! `failover-bench flood` instead floods r1 (the master, PASS
//! authentication) from a fourth namespace with 50,000 invalid adverts per
//! second for 10 s (bad checksum, wrong password, TTL 64, priority 200) and
//! reports the worst deviation of r1's advert interval from 1 s during the
//! flood, and whether r2 ever took over.
//!
//! Exit status 0 when every run produced a measurement.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use keepalived_lite::netns::{require_program, require_root, wait_for_line, Lab};

const R1: [u8; 4] = [10, 0, 0, 1];
const R2: [u8; 4] = [10, 0, 0, 2];
const VIP: [u8; 4] = [10, 0, 0, 100];
/// Skew_Time for priority 100, in seconds.
const SKEW_100: f64 = (256.0 - 100.0) / 256.0;
/// Master_Down_Interval for priority 100 and advert_int 1, in seconds.
const MDI_100: f64 = 3.0 + SKEW_100;

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Impl {
    Lite,
    Keepalived,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stop {
    Graceful,
    Crash,
}

fn config(name: &str, priority: u8) -> String {
    format!(
        "global_defs {{\n  router_id {name}\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority {priority}\n  advert_int 1\n  virtual_ipaddress {{\n    10.0.0.100/24\n  }}\n}}\n"
    )
}

/// One captured frame that matters.
#[derive(Debug, Clone, Copy)]
enum Frame {
    Advert { t: f64, src: [u8; 4], prio: u8 },
    Arp { t: f64, sender: [u8; 4] },
}

/// Reads the adverts and ARPs of a pcap written by tcpdump.
fn read_pcap(path: &Path) -> Result<Vec<Frame>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut reader = pcap_file::pcap::PcapReader::new(file).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(pkt) = reader.next_packet() {
        let Ok(pkt) = pkt else { break };
        let t = pkt.timestamp.as_secs_f64();
        let d = &pkt.data[..];
        let Some(ethertype) = d.get(12..14) else {
            continue;
        };
        match ethertype {
            [0x08, 0x00] => {
                let Some(ip) = d.get(14..) else { continue };
                let ihl = usize::from(ip.first().map_or(0, |b| b & 0x0f)) * 4;
                if ip.get(9) != Some(&112) {
                    continue;
                }
                let (Some(src), Some(&prio)) = (ip.get(12..16), ip.get(ihl + 2)) else {
                    continue;
                };
                let src = <[u8; 4]>::try_from(src).map_err(|e| e.to_string())?;
                out.push(Frame::Advert { t, src, prio });
            }
            [0x08, 0x06] => {
                let Some(sender) = d.get(28..32) else {
                    continue;
                };
                let sender = <[u8; 4]>::try_from(sender).map_err(|e| e.to_string())?;
                out.push(Frame::Arp { t, sender });
            }
            _ => {}
        }
    }
    Ok(out)
}

/// (overhead, GARP delay) in seconds for one capture.
fn measure(frames: &[Frame], stop: Stop) -> Result<(f64, f64), String> {
    let adverts = |who: [u8; 4]| {
        frames.iter().filter_map(move |f| match *f {
            Frame::Advert { t, src, prio } if src == who => Some((t, prio)),
            _ => None,
        })
    };
    let reference = match stop {
        Stop::Graceful => adverts(R1)
            .find(|&(_, p)| p == 0)
            .map(|(t, _)| t)
            .ok_or("no priority-0 advert from r1")?,
        Stop::Crash => adverts(R1)
            .map(|(t, _)| t)
            .next_back()
            .ok_or("no advert from r1")?,
    };
    let takeover = adverts(R2)
        .map(|(t, _)| t)
        .find(|&t| t > reference)
        .ok_or("no advert from r2 after r1 stopped")?;
    let garp = frames
        .iter()
        .find_map(|f| match *f {
            Frame::Arp { t, sender } if sender == VIP && t >= takeover => Some(t),
            _ => None,
        })
        .ok_or("no gratuitous ARP for the VIP after the takeover")?;
    let expected = match stop {
        Stop::Graceful => SKEW_100,
        Stop::Crash => MDI_100,
    };
    Ok((takeover - reference - expected, garp - takeover))
}

struct Bench {
    lab: Lab,
    dir: PathBuf,
    lite: PathBuf,
}

impl Bench {
    /// Starts `which` on `node` with the configuration `text`; files are
    /// tagged with `run`. Returns its pid and log.
    fn start(
        &mut self,
        node: &str,
        which: Impl,
        text: &str,
        run: &str,
    ) -> Result<(u32, PathBuf), String> {
        let conf = self.dir.join(format!("{node}-{run}.conf"));
        std::fs::write(&conf, text).map_err(|e| e.to_string())?;
        let log = self.dir.join(format!("{node}-{which:?}-{run}.log"));
        let conf = conf.display().to_string();
        let pid = match which {
            Impl::Lite => {
                let lite = self.lite.display().to_string();
                self.lab
                    .spawn(node, &lite, &["-P", "-n", "-l", "-f", &conf], &log)
            }
            Impl::Keepalived => {
                let p = self.dir.join(format!("{node}.pid")).display().to_string();
                let r = self.dir.join(format!("{node}.vpid")).display().to_string();
                let args = ["-P", "-n", "-l", "-f", &conf, "-p", &p, "-r", &r];
                self.lab.spawn(node, "keepalived", &args, &log)
            }
        }
        .map_err(|e| e.to_string())?;
        Ok((pid, log))
    }

    fn run_once(&mut self, which: Impl, stop: Stop, run: usize) -> Result<(f64, f64), String> {
        for node in ["r1", "r2"] {
            let _ = self
                .lab
                .run(node, "ip", &["addr", "del", "10.0.0.100/24", "dev", "eth0"]);
        }
        let pcap = self.dir.join(format!("{which:?}-{stop:?}-{run}.pcap"));
        let pcap_s = pcap.display().to_string();
        let dump_log = self.dir.join("tcpdump.log");
        let filter = ["ip", "proto", "112", "or", "ip", "proto", "51", "or", "arp"];
        let mut args = vec!["-U", "-n", "-i", "eth0", "-w", &pcap_s];
        args.extend(filter);
        let dump = self
            .lab
            .spawn("obs", "tcpdump", &args, &dump_log)
            .map_err(|e| e.to_string())?;
        wait_for_line(&dump_log, "listening on", Duration::from_secs(10))
            .ok_or("tcpdump did not start")?;
        let _ = std::fs::write(&dump_log, "");

        let tag = format!("{stop:?}-{run}");
        let (p2, log2) = self.start("r2", which, &config("r2", 100), &tag)?;
        let (p1, log1) = self.start("r1", which, &config("r1", 150), &tag)?;
        wait_for_line(&log1, "Entering MASTER STATE", Duration::from_secs(20))
            .ok_or("r1 never became master")?;
        std::thread::sleep(Duration::from_millis(2500));
        match stop {
            Stop::Graceful => self.lab.stop(p1, Duration::from_secs(5)),
            Stop::Crash => {
                if which == Impl::Keepalived {
                    let vpid =
                        std::fs::read_to_string(self.dir.join("r1.vpid")).unwrap_or_default();
                    if let Ok(child) = vpid.trim().parse::<u32>() {
                        let _ = self.lab.signal(child, "KILL");
                    }
                }
                let _ = self.lab.signal(p1, "KILL");
                self.lab.stop(p1, Duration::from_secs(1));
            }
        }
        wait_for_line(&log2, "Entering MASTER STATE", Duration::from_secs(20))
            .ok_or("r2 never took over")?;
        std::thread::sleep(Duration::from_millis(1500));
        self.lab.stop(p2, Duration::from_secs(5));
        self.lab.stop(dump, Duration::from_secs(5));
        if which == Impl::Keepalived {
            // The VRRP child of a killed keepalived may outlive its parent.
            for f in ["r1.vpid", "r2.vpid"] {
                if let Ok(pid) = std::fs::read_to_string(self.dir.join(f)) {
                    if let Ok(pid) = pid.trim().parse::<u32>() {
                        let _ = self.lab.signal(pid, "KILL");
                    }
                }
            }
        }
        measure(&read_pcap(&pcap)?, stop)
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// The flood: r1's worst advert interval error (ms) and adverts seen during
/// it, datagrams sent, and whether r2 ever became master.
fn flood_run(b: &mut Bench, which: Impl) -> Result<(f64, usize, u64, bool), String> {
    use vrrp::auth::{AuthConfig, TxCounters};
    use vrrp::linux::{IpProto, Netlink, RawSocket, RawSocketConfig, VRRP_MULTICAST};
    use vrrp::wire::{self, AdvertRepr};
    for node in ["r1", "r2"] {
        let _ = b
            .lab
            .run(node, "ip", &["addr", "del", "10.0.0.100/24", "dev", "eth0"]);
    }
    let pcap = b.dir.join(format!("{which:?}-flood.pcap"));
    let pcap_s = pcap.display().to_string();
    let dump_log = b.dir.join("tcpdump-flood.log");
    let args = [
        "-U", "-n", "-i", "eth0", "-w", &pcap_s, "ip", "proto", "112", "and", "src", "host",
        "10.0.0.1",
    ];
    let dump = b
        .lab
        .spawn("obs", "tcpdump", &args, &dump_log)
        .map_err(|e| e.to_string())?;
    wait_for_line(&dump_log, "listening on", Duration::from_secs(10))
        .ok_or("tcpdump did not start")?;
    let pass = "advert_int 1\n  authentication {\n    auth_type PASS\n    auth_pass secret1\n  }\n";
    let conf = |name: &str, prio: u8| config(name, prio).replace("advert_int 1\n", pass);
    let (p2, log2) = b.start("r2", which, &conf("r2", 100), "flood")?;
    let (p1, log1) = b.start("r1", which, &conf("r1", 150), "flood")?;
    wait_for_line(&log1, "Entering MASTER STATE", Duration::from_secs(20))
        .ok_or("r1 never became master")?;
    std::thread::sleep(Duration::from_millis(1500));

    let vips = [std::net::Ipv4Addr::from(VIP)];
    let repr = AdvertRepr {
        src: std::net::Ipv4Addr::new(10, 0, 0, 7),
        dst: VRRP_MULTICAST,
        ttl: 255,
        vrid: 51,
        priority: 200,
        adver_int: 1,
        addresses: &vips,
    };
    let encode = |p: &str| -> Result<Vec<u8>, String> {
        let auth = AuthConfig::from_keepalived("PASS", p).map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; wire::MAX_DATAGRAM_LEN];
        let n = wire::encode(&repr, &auth, &mut TxCounters::new(), &mut buf)
            .map_err(|e| e.to_string())?;
        buf.truncate(n);
        Ok(buf)
    };
    let mut bad_checksum = encode("secret1")?;
    bad_checksum[26] ^= 0xff;
    let mut bad_ttl = encode("secret1")?;
    bad_ttl[8] = 64;
    let kinds = [bad_checksum, encode("wrong")?, bad_ttl];
    let sock = b
        .lab
        .enter("fl", || -> Result<RawSocket, String> {
            let link = Netlink::open()
                .map_err(|e| e.to_string())?
                .link("eth0")
                .map_err(|e| e.to_string())?;
            RawSocket::open(RawSocketConfig {
                ifname: "eth0".into(),
                ifindex: link.index,
                proto: IpProto::Vrrp,
                multicast: false,
            })
            .map_err(|e| e.to_string())
        })
        .map_err(|e| e.to_string())??;
    let t0 = std::time::SystemTime::now();
    let begin = std::time::Instant::now();
    let mut sent = 0u64;
    let mut tick = 0u64;
    while begin.elapsed() < Duration::from_secs(10) {
        tick += 1;
        for i in 0..50u64 {
            let k = ((tick * 50 + i) % 3) as usize;
            if sock.send_to(&kinds[k], VRRP_MULTICAST).is_ok() {
                sent += 1;
            }
        }
        if let Some(w) =
            (begin + Duration::from_millis(tick)).checked_duration_since(std::time::Instant::now())
        {
            std::thread::sleep(w);
        }
    }
    let t1 = std::time::SystemTime::now();
    std::thread::sleep(Duration::from_millis(1500));
    let took_over = std::fs::read_to_string(&log2)
        .unwrap_or_default()
        .contains("Entering MASTER STATE");
    b.lab.stop(p2, Duration::from_secs(5));
    b.lab.stop(p1, Duration::from_secs(5));
    b.lab.stop(dump, Duration::from_secs(5));
    let secs = |t: std::time::SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    };
    let (from, to) = (secs(t0), secs(t1));
    let times: Vec<f64> = read_pcap(&pcap)?
        .iter()
        .filter_map(|f| match *f {
            Frame::Advert { t, src, prio }
                if src == R1 && prio == 150 && t >= from - 1.0 && t <= to + 1.0 =>
            {
                Some(t)
            }
            _ => None,
        })
        .collect();
    let worst = times
        .windows(2)
        .map(|w| ((w[1] - w[0]) - 1.0).abs())
        .fold(0.0, f64::max);
    Ok((worst * 1e3, times.len(), sent, took_over))
}

fn main() -> ExitCode {
    require_root();
    require_program("keepalived", &["--version"]);
    require_program("tcpdump", &["--version"]);
    let flood = std::env::args().nth(1).as_deref() == Some("flood");
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let lite = match std::env::current_exe() {
        Ok(p) => p.with_file_name("keepalived-lite"),
        Err(e) => {
            eprintln!("failover-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    let setup = || -> std::io::Result<Bench> {
        let mut lab = Lab::new()?;
        lab.add_node("r1", R1.into(), 24)?;
        lab.add_node("r2", R2.into(), 24)?;
        lab.add_node("obs", [10, 0, 0, 9].into(), 24)?;
        lab.add_node("fl", [10, 0, 0, 7].into(), 24)?;
        let dir = std::env::temp_dir().join(format!("failover-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Bench { lab, dir, lite })
    };
    let mut bench = match setup() {
        Ok(b) => b,
        Err(e) => {
            eprintln!("failover-bench: cannot build the lab: {e}");
            return ExitCode::FAILURE;
        }
    };
    if flood {
        println!("| implementation | flood datagrams sent | adverts of r1 seen | worst advert interval error (ms) | backup took over |");
        println!("| --- | --- | --- | --- | --- |");
        let mut ok = true;
        for which in [Impl::Lite, Impl::Keepalived] {
            match flood_run(&mut bench, which) {
                Ok((worst, seen, sent, took_over)) => {
                    let name = match which {
                        Impl::Lite => "keepalived-lite",
                        Impl::Keepalived => "keepalived 2.2.7",
                    };
                    println!("| {name} | {sent} | {seen} | {worst:.3} | {took_over} |");
                    ok &= !took_over;
                }
                Err(e) => {
                    eprintln!("{which:?} flood: {e}");
                    ok = false;
                }
            }
        }
        eprintln!("captures and logs: {}", bench.dir.display());
        return if ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        };
    }
    let mut ok = true;
    println!("| stop | implementation | runs | median overhead (ms) | min / max (ms) | median GARP delay (ms) | max GARP delay (ms) |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for stop in [Stop::Graceful, Stop::Crash] {
        for which in [Impl::Lite, Impl::Keepalived] {
            let mut over = Vec::new();
            let mut garp = Vec::new();
            for run in 0..runs {
                match bench.run_once(which, stop, run) {
                    Ok((o, g)) => {
                        eprintln!(
                            "{which:?} {stop:?} run {run}: overhead {:.3} ms, GARP +{:.3} ms",
                            o * 1e3,
                            g * 1e3
                        );
                        over.push(o * 1e3);
                        garp.push(g * 1e3);
                    }
                    Err(e) => {
                        eprintln!("{which:?} {stop:?} run {run}: {e}");
                        ok = false;
                    }
                }
            }
            let (min, max) = over
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
                    (a.min(x), b.max(x))
                });
            let gmax = garp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let name = match which {
                Impl::Lite => "keepalived-lite",
                Impl::Keepalived => "keepalived 2.2.7",
            };
            println!(
                "| {stop:?} | {name} | {} | {:.3} | {min:.3} / {max:.3} | {:.3} | {gmax:.3} |",
                over.len(),
                median(&mut over),
                median(&mut garp)
            );
        }
    }
    eprintln!("captures and logs: {}", bench.dir.display());
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
