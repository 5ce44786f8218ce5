//! `keepalived-lite demo`: a throwaway lab with three keepalived-lite
//! routers sharing one virtual address. It shows who is master, crashes the
//! master, shows the takeover and how long it took, restarts the old master
//! (which preempts back), stops it gracefully, and removes everything, also
//! on Ctrl-C. Needs root (network namespaces).

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::netns::Lab;

const VIP: &str = "10.0.0.100";
const ROUTERS: [(&str, u8); 3] = [("r1", 150), ("r2", 120), ("r3", 100)];

/// Runs the demo; 0 when every step happened as expected.
pub fn run() -> ExitCode {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("keepalived-lite demo needs root: it creates network namespaces, a bridge and virtual addresses (run it with sudo)");
        return ExitCode::FAILURE;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let worker = {
        let stop = stop.clone();
        std::thread::spawn(move || demo(&stop))
    };
    // Ctrl-C or SIGTERM: tell the demo to stop; it tears the lab down.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    if let Ok(rt) = rt {
        rt.block_on(async {
            let mut term =
                tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
            let sig = async {
                match term.as_mut() {
                    Some(t) => {
                        tokio::select! {
                            _ = tokio::signal::ctrl_c() => {}
                            _ = t.recv() => {}
                        }
                    }
                    None => {
                        let _ = tokio::signal::ctrl_c().await;
                    }
                }
            };
            tokio::select! {
                () = sig => {
                    println!("\ninterrupted: cleaning up");
                    stop.store(true, Ordering::SeqCst);
                }
                () = wait_thread(&worker) => {}
            }
        });
    }
    match worker.join() {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            eprintln!("demo: {e}");
            ExitCode::FAILURE
        }
        Err(_) => ExitCode::FAILURE,
    }
}

async fn wait_thread<T>(h: &std::thread::JoinHandle<T>) {
    while !h.is_finished() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

struct Demo<'a> {
    lab: Lab,
    dir: PathBuf,
    exe: PathBuf,
    pids: Vec<Option<u32>>,
    stop: &'a AtomicBool,
    shown: String,
}

fn demo(stop: &AtomicBool) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut lab = Lab::new().map_err(|e| format!("cannot create the lab: {e}"))?;
    for (i, (name, _)) in ROUTERS.iter().enumerate() {
        let addr = Ipv4Addr::new(10, 0, 0, 1 + i as u8);
        lab.add_node(name, addr, 24)
            .map_err(|e| format!("cannot add {name}: {e}"))?;
    }
    let dir = std::env::temp_dir().join(format!("keepalived-lite-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    println!(
        "lab: bridge + routers r1 (priority 150), r2 (120), r3 (100) sharing {VIP}; logs in {}",
        dir.display()
    );
    let mut d = Demo {
        lab,
        dir,
        exe,
        pids: vec![None; ROUTERS.len()],
        stop,
        shown: String::new(),
    };
    let result = d.script();
    for pid in d.pids.iter().flatten() {
        d.lab.stop(*pid, Duration::from_secs(3));
    }
    println!("lab removed");
    result
}

impl Demo<'_> {
    fn script(&mut self) -> Result<(), String> {
        for i in 0..ROUTERS.len() {
            self.start(i)?;
        }
        println!("\n== starting: the highest priority becomes master after Master_Down_Interval");
        self.until(Duration::from_secs(15), |d| d.master() == Some(0))?;
        self.watch(Duration::from_secs(2))?;

        println!(
            "\n== crashing r1 (SIGKILL): r2 takes over after Master_Down_Interval(120) = 3.531 s"
        );
        let t0 = Instant::now();
        if let Some(pid) = self.pids[0].take() {
            let _ = self.lab.signal(pid, "KILL");
            self.lab.stop(pid, Duration::from_secs(1));
        }
        self.until(Duration::from_secs(15), |d| d.has_vip("r2"))?;
        println!(
            "r2 holds {VIP} {:.3} s after the crash",
            t0.elapsed().as_secs_f64()
        );
        self.watch(Duration::from_secs(2))?;

        println!("\n== restarting r1: it preempts back");
        // A crashed router leaves its address behind; keepalived-lite
        // re-adds it anyway, so clear it to show the handover.
        let _ = self.lab.run(
            "r1",
            "ip",
            &["addr", "del", &format!("{VIP}/24"), "dev", "eth0"],
        );
        self.start(0)?;
        let t0 = Instant::now();
        self.until(Duration::from_secs(15), |d| {
            d.master() == Some(0) && !d.has_vip("r2")
        })?;
        println!(
            "r1 is master again {:.3} s after its restart",
            t0.elapsed().as_secs_f64()
        );
        self.watch(Duration::from_secs(2))?;

        println!("\n== stopping r1 gracefully (SIGTERM): it sends priority 0, r2 takes over after Skew_Time(120) = 0.531 s");
        let t0 = Instant::now();
        if let Some(pid) = self.pids[0].take() {
            self.lab.stop(pid, Duration::from_secs(5));
        }
        self.until(Duration::from_secs(10), |d| d.has_vip("r2"))?;
        println!(
            "r2 holds {VIP} {:.3} s after the stop signal",
            t0.elapsed().as_secs_f64()
        );
        self.watch(Duration::from_secs(1))?;
        println!("\ndone");
        Ok(())
    }

    fn start(&mut self, i: usize) -> Result<(), String> {
        let (name, prio) = ROUTERS[i];
        let conf = self.dir.join(format!("{name}.conf"));
        let text = format!(
            "vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n  priority {prio}\n  \
             advert_int 1\n  virtual_ipaddress {{\n    {VIP}/24\n  }}\n}}\n"
        );
        std::fs::write(&conf, text).map_err(|e| e.to_string())?;
        let log = self.dir.join(format!("{name}.log"));
        let exe = self.exe.display().to_string();
        let conf = conf.display().to_string();
        // Each router its own pid files, as three keepalived daemons on
        // one host would need (the default ones admit one).
        let pid_file = |f: &str| self.dir.join(format!("{name}.{f}")).display().to_string();
        let (main_pid, vrrp_pid) = (pid_file("pid"), pid_file("vrrp.pid"));
        let args = [
            "-P", "-n", "-l", "-f", &conf, "-p", &main_pid, "-r", &vrrp_pid,
        ];
        let pid = self
            .lab
            .spawn(name, &exe, &args, &log)
            .map_err(|e| format!("cannot start {name}: {e}"))?;
        self.pids[i] = Some(pid);
        Ok(())
    }

    /// The state of router `i` from the last transition in its log.
    fn state(&self, i: usize) -> &'static str {
        if self.pids[i].is_none() {
            return "down";
        }
        let log = self.dir.join(format!("{}.log", ROUTERS[i].0));
        last_state(&log)
    }

    fn has_vip(&self, node: &str) -> bool {
        self.lab
            .run(node, "ip", &["-4", "-o", "addr", "show", "dev", "eth0"])
            .map(|o| String::from_utf8_lossy(&o.stdout).contains(&format!("{VIP}/24")))
            .unwrap_or(false)
    }

    fn master(&self) -> Option<usize> {
        (0..ROUTERS.len()).find(|&i| self.state(i) == "MASTER" && self.has_vip(ROUTERS[i].0))
    }

    /// Prints the table when it changes.
    fn show(&mut self) {
        let row: Vec<String> = ROUTERS
            .iter()
            .enumerate()
            .map(|(i, (name, prio))| {
                let vip = if self.has_vip(name) {
                    format!(" +{VIP}")
                } else {
                    String::new()
                };
                format!("{name}({prio}) {:<7}{vip}", self.state(i))
            })
            .collect();
        let row = row.join(" | ");
        if row != self.shown {
            println!("  {row}");
            self.shown = row;
        }
    }

    fn until(&mut self, limit: Duration, done: impl Fn(&Self) -> bool) -> Result<(), String> {
        let deadline = Instant::now() + limit;
        loop {
            self.show();
            if done(self) {
                return Ok(());
            }
            if self.stop.load(Ordering::SeqCst) {
                return Err("interrupted".into());
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "the expected state was not reached in {limit:?}; see the logs in {}",
                    self.dir.display()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn watch(&mut self, d: Duration) -> Result<(), String> {
        let end = Instant::now() + d;
        while Instant::now() < end {
            self.show();
            if self.stop.load(Ordering::SeqCst) {
                return Err("interrupted".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(())
    }
}

fn last_state(log: &Path) -> &'static str {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    for line in text.lines().rev() {
        for s in ["MASTER", "BACKUP", "FAULT"] {
            if line.contains(&format!("Entering {s} STATE")) {
                return match s {
                    "MASTER" => "MASTER",
                    "BACKUP" => "BACKUP",
                    _ => "FAULT",
                };
            }
        }
        if line.contains("Stopped") {
            return "stopped";
        }
    }
    "init"
}
