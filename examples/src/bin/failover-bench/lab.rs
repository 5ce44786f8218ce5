//! The namespace lab and one takeover run in it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use keepalived_lite::netns::{wait_for_line, Lab};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::capture::{measure, read_pcap, Roles, Stop};
use crate::timing::Timing;

/// r1, the master that is stopped.
pub(crate) const R1: [u8; 4] = [10, 0, 0, 1];
/// r2, the backup that takes over.
pub(crate) const R2: [u8; 4] = [10, 0, 0, 2];
/// The virtual address.
pub(crate) const VIP: [u8; 4] = [10, 0, 0, 100];
/// r1's priority.
const PRIO_R1: u8 = 150;
/// r2's priority: its Skew_Time and Master_Down_Interval are the reference.
const PRIO_R2: u8 = 100;
/// How long a router may take to reach a state on a loaded machine.
const STATE_TIMEOUT: Duration = Duration::from_secs(30);

/// The daemon under test.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Impl {
    /// keepalived-lite, the binary next to this one.
    Lite,
    /// keepalived 2.2.7 from `PATH`.
    Keepalived,
}

impl Impl {
    /// The name in the report.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Impl::Lite => "keepalived-lite",
            Impl::Keepalived => "keepalived 2.2.7",
        }
    }
}

/// One router's keepalived.conf; `extra` goes inside the instance block.
pub(crate) fn config(name: &str, priority: u8, timing: Timing, extra: &str) -> String {
    let version = if timing.version == 3 {
        "  vrrp_version 3\n"
    } else {
        ""
    };
    format!(
        "global_defs {{\n  router_id {name}\n{version}}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority {priority}\n  advert_int {}\n{extra}  virtual_ipaddress {{\n    10.0.0.100/24\n  }}\n}}\n",
        timing.conf_value()
    )
}

/// The lab (r1, r2, an observer `obs` and a flooder `fl` on one bridge),
/// the scratch directory and the keepalived-lite binary.
pub(crate) struct Bench {
    /// The namespaces.
    pub(crate) lab: Lab,
    /// Configurations, logs and captures.
    pub(crate) dir: PathBuf,
    /// The keepalived-lite binary.
    pub(crate) lite: PathBuf,
}

impl Bench {
    /// Builds the lab; files go to a fresh directory under the temp dir.
    pub(crate) fn new(lite: PathBuf) -> std::io::Result<Bench> {
        let mut lab = Lab::new()?;
        lab.add_node("r1", R1.into(), 24)?;
        lab.add_node("r2", R2.into(), 24)?;
        lab.add_node("obs", [10, 0, 0, 9].into(), 24)?;
        lab.add_node("fl", [10, 0, 0, 7].into(), 24)?;
        let dir = std::env::temp_dir().join(format!("failover-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        Ok(Bench { lab, dir, lite })
    }

    /// Starts `which` on `node` with the configuration `text`; files are
    /// tagged with `run`. Returns its pid and log.
    pub(crate) fn start(
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
        // Both daemons claim pid files; each router gets its own.
        let p = self.pid_file(node, "pid").display().to_string();
        let r = self.pid_file(node, "vpid").display().to_string();
        let args = ["-P", "-n", "-l", "-f", &conf, "-p", &p, "-r", &r];
        let program = match which {
            Impl::Lite => self.lite.display().to_string(),
            Impl::Keepalived => "keepalived".to_owned(),
        };
        let pid = self
            .lab
            .spawn(node, &program, &args, &log)
            .map_err(|e| e.to_string())?;
        Ok((pid, log))
    }

    fn pid_file(&self, node: &str, kind: &str) -> PathBuf {
        self.dir.join(format!("{node}.{kind}"))
    }

    /// SIGKILLs keepalived's VRRP child on `node`, which may outlive its
    /// parent.
    pub(crate) fn kill_vrrp_child(&self, node: &str) {
        let vpid = std::fs::read_to_string(self.pid_file(node, "vpid")).unwrap_or_default();
        if let Ok(child) = vpid.trim().parse::<i32>() {
            // Usually gone already: no `kill` command complaining about it.
            let _ = kill(Pid::from_raw(child), Signal::SIGKILL);
        }
    }

    /// Removes the VIP that a stopped router may have left behind.
    pub(crate) fn clear_vip(&self) {
        for node in ["r1", "r2"] {
            let _ = self
                .lab
                .run(node, "ip", &["addr", "del", "10.0.0.100/24", "dev", "eth0"]);
        }
    }

    /// Starts tcpdump in the observer writing `pcap` (`filter` appended);
    /// returns its pid once it listens.
    pub(crate) fn capture(&mut self, pcap: &Path, filter: &[&str]) -> Result<u32, String> {
        let pcap = pcap.display().to_string();
        let log = self.dir.join("tcpdump.log");
        let _ = std::fs::write(&log, "");
        // Immediate mode: with the default 1 s block timeout of TPACKET_V3,
        // packets of the last second were lost when tcpdump was stopped.
        let mut args = vec!["--immediate-mode", "-U", "-n", "-i", "eth0", "-w", &pcap];
        args.extend(filter);
        let pid = self
            .lab
            .spawn("obs", "tcpdump", &args, &log)
            .map_err(|e| e.to_string())?;
        wait_for_line(&log, "listening on", Duration::from_secs(10))
            .ok_or("tcpdump did not start")?;
        Ok(pid)
    }

    /// One takeover: r1 starts and becomes master, r2 starts and settles
    /// as backup, r1 is stopped, r2 takes over. Returns (overhead, GARP
    /// delay) in seconds from the observer's capture.
    pub(crate) fn run_once(
        &mut self,
        which: Impl,
        stop: Stop,
        timing: Timing,
        run: usize,
    ) -> Result<(f64, f64), String> {
        self.clear_vip();
        let pcap = self.dir.join(format!("{which:?}-{stop:?}-{run}.pcap"));
        let filter = ["ip", "proto", "112", "or", "ip", "proto", "51", "or", "arp"];
        let dump = self.capture(&pcap, &filter)?;

        // The intended master first, so the backup never wins the start.
        let tag = format!("{stop:?}-{run}");
        let (p1, log1) = self.start("r1", which, &config("r1", PRIO_R1, timing, ""), &tag)?;
        wait_for_line(&log1, "Entering MASTER STATE", STATE_TIMEOUT)
            .ok_or("r1 never became master")?;
        let (p2, log2) = self.start("r2", which, &config("r2", PRIO_R2, timing, ""), &tag)?;
        wait_for_line(&log2, "Entering BACKUP STATE", STATE_TIMEOUT)
            .ok_or("r2 never became backup")?;
        // Several adverts heard, and keepalived's delayed GARPs mostly past.
        std::thread::sleep(Duration::from_secs(2));
        if let Some(l) = wait_for_line(&log2, "Entering MASTER STATE", Duration::ZERO) {
            return Err(format!("r2 took over while r1 ran: {l}"));
        }
        match stop {
            Stop::Graceful => self.lab.stop(p1, Duration::from_secs(5)),
            Stop::Crash => {
                if which == Impl::Keepalived {
                    self.kill_vrrp_child("r1");
                }
                let _ = self.lab.signal(p1, "KILL");
                self.lab.stop(p1, Duration::from_secs(1));
            }
        }
        let took_over = wait_for_line(&log2, "Entering MASTER STATE", STATE_TIMEOUT);
        // The first adverts and gratuitous ARPs into the capture.
        std::thread::sleep(Duration::from_millis(1500));
        self.lab.stop(p2, Duration::from_secs(5));
        self.lab.stop(dump, Duration::from_secs(5));
        if which == Impl::Keepalived {
            self.kill_vrrp_child("r1");
            self.kill_vrrp_child("r2");
        }
        took_over.ok_or("r2 never took over")?;
        let roles = Roles {
            master: R1,
            backup: R2,
            vip: VIP,
            skew: timing.skew(PRIO_R2),
            master_down: timing.master_down(PRIO_R2),
        };
        let result = measure(&read_pcap(&pcap)?, stop, &roles);
        // At 50 ms adverts a capture is a few hundred kB: keep only failures.
        if result.is_ok() {
            let _ = std::fs::remove_file(&pcap);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failure
    use super::*;

    #[test]
    fn v3_config_sets_the_version_and_the_interval() {
        let t = Timing::new(3, "0.05").unwrap();
        let text = config("r1", 150, t, "");
        assert!(text.contains("global_defs {\n  router_id r1\n  vrrp_version 3\n}\n"));
        assert!(text.contains("  priority 150\n  advert_int 0.05\n  virtual_ipaddress"));
    }

    #[test]
    fn v2_config_has_no_version_line() {
        let text = config("r2", 100, Timing::new(2, "1").unwrap(), "  nopreempt\n");
        assert!(!text.contains("vrrp_version"));
        assert!(text.contains("  advert_int 1\n  nopreempt\n  virtual_ipaddress"));
    }
}
