//! keepalived 2.2.7 and keepalived-lite side by side on the process-level
//! keywords (needs root, iproute2 and /usr/sbin/keepalived): started in
//! the root namespace with `net_namespace NS`, `instance NAME`,
//! `global_defs { umask 027  data_use_instance }`, each must
//! - run its VRRP instance in NS (the VIP appears on NS's eth0),
//! - write its pid files (rw-r--r-- whatever the umask) under
//!   `/run/keepalived/NS/` (its own mount of `/run/keepalived`) as
//!   `keepalived_NAME.pid` and `vrrp_NAME.pid`,
//! - write the DATA dump to `/tmp/keepalived.NS_NAME.data`, with the
//!   umask's mode (rw-r-----),
//! - run `startup_script` once before its instance runs and
//!   `shutdown_script` once after it stopped, both in NS with the umask
//!   (each appends "KIND ADDRS VIPS UMASK" to a marker file: 10.0.0.1 is
//!   there, the VIP is not),
//! - and remove the pid files and the directory at stop.
//!
//! And with `reload_check_config FILE` and `reload_file FILE`: a stale
//! reload file is removed at start-up; a SIGHUP with a broken new file
//! logs "New config failed validation, see FILE for details", FILE names
//! the bad keyword and the old VIP stays; a good one is then loaded.
//!
//! And with `reload_time_file FILE`: a UTC date and time written to FILE
//! while the daemon runs is logged as "Scheduling reload for ..." and then
//! reloads the (edited) configuration; FILE is removed.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, Lab};

/// Generous: CI machines are loaded.
const WAIT: Duration = Duration::from_secs(30);

/// A daemon started in the root namespace: stopped (TERM, then KILL) and
/// reaped on drop if the test did not stop it.
struct Daemon(Child);

impl Daemon {
    /// Sends SIGTERM and waits for the exit.
    fn stop(&mut self) {
        signal(self.0.id(), "TERM");
        let deadline = Instant::now() + WAIT;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("the daemon did not stop on SIGTERM");
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // A graceful stop first, so that it unmounts and removes its
        // directories; a kill if it hangs.
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if !matches!(self.0.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Directories removed on drop, even after a failure: the scratch
/// directory and what a killed daemon left under `/run/keepalived`.
struct Cleanup(Vec<PathBuf>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for d in &self.0 {
            let _ = std::fs::remove_dir_all(d);
        }
        // Only if empty, as the daemons leave it.
        let _ = std::fs::remove_dir("/run/keepalived");
    }
}

fn signal(pid: u32, name: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(ok.success(), "kill -{name} {pid}");
}

/// Polls `f` until it returns `Some`, or fails with `what` and the log.
fn poll<T>(what: &str, log: &Path, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(log).unwrap_or_default();
            panic!("{what} never happened\n{log}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Starts `program` from the root namespace on `conf` (keepalived's
/// foreground options plus `extra`), its output to `log`.
fn spawn_daemon(program: &str, extra: &[&str], conf: &Path, log: &Path) -> Daemon {
    let out = std::fs::File::create(log).unwrap();
    let child = Command::new(program)
        .args(["-n", "-l", "-D", "-f", conf.to_str().unwrap()])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    Daemon(child)
}

/// Waits until `log` has a line containing `line`.
fn wait_logged(what: &str, log: &Path, line: &str) {
    poll(what, log, || {
        std::fs::read_to_string(log)
            .ok()?
            .contains(line)
            .then_some(())
    });
}

/// A lab with node `r1` whose namespace the daemons name, an instance name
/// and a scratch directory, all unique to the test (`tag`) and this run;
/// the scratch directory and `/run/keepalived/NS` are removed on drop.
struct Rig {
    /// Dropped first: its namespace goes before the directories.
    _lab: Lab,
    ns: String,
    name: String,
    scratch: PathBuf,
    _cleanup: Cleanup,
}

impl Rig {
    fn new(tag: &str) -> Rig {
        require_root();
        require_program("/usr/sbin/keepalived", &["-v"]);
        let mut lab = Lab::new().unwrap();
        let node = lab.add_node("r1", Ipv4Addr::new(10, 0, 0, 1), 24).unwrap();
        let ns = node.ns.clone();
        let name = format!("{tag}{}", std::process::id());
        let scratch = PathBuf::from(format!("/run/{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&scratch).unwrap();
        let _cleanup = Cleanup(vec![
            scratch.clone(),
            PathBuf::from(format!("/run/keepalived/{ns}")),
        ]);
        Rig {
            _lab: lab,
            ns,
            name,
            scratch,
            _cleanup,
        }
    }

    /// `observe(program, extra)` for keepalived 2.2.7, then for
    /// keepalived-lite with a control socket of its own.
    fn both<T>(&self, mut observe: impl FnMut(&str, &[&str]) -> T) -> (T, T) {
        let ka = observe("/usr/sbin/keepalived", &[]);
        let sock = self.scratch.join("lite.sock");
        let lite_extra = ["--control-socket", sock.to_str().unwrap()];
        let lite = observe(env!("CARGO_BIN_EXE_keepalived-lite"), &lite_extra);
        (ka, lite)
    }
}

/// `scratch/PROGRAM.log`, for the daemon `program` names.
fn log_of(scratch: &Path, program: &str) -> PathBuf {
    let tag = Path::new(program).file_name().unwrap().to_string_lossy();
    scratch.join(format!("{tag}.log"))
}

/// The files of `dir` with their permission bits.
fn listing(dir: &Path) -> Option<BTreeMap<String, u32>> {
    let entries = std::fs::read_dir(dir).ok()?;
    let mut out = BTreeMap::new();
    for e in entries.flatten() {
        let mode = e.metadata().ok()?.permissions().mode() & 0o777;
        out.insert(e.file_name().to_string_lossy().into_owned(), mode);
    }
    Some(out)
}

/// What one daemon showed.
#[derive(Debug, PartialEq, Eq)]
struct Seen {
    /// `/run/keepalived/NS`'s mode and files with their modes.
    dir_mode: u32,
    files: BTreeMap<String, u32>,
    /// The mode of the DATA dump, `/tmp/keepalived.NS_NAME.data`.
    data_dump: u32,
    /// The directory was gone after the stop.
    removed: bool,
    /// The marker lines of the startup and shutdown scripts.
    marks: Vec<String>,
}

/// Runs `program` (keepalived or keepalived-lite, with `extra` options)
/// from the root namespace on `conf` until its instance is MASTER in
/// `ns`, then records what it left on disk, then stops it.
fn observe(program: &str, extra: &[&str], conf: &Path, ns: &str, name: &str, log: &Path) -> Seen {
    let marks = conf.with_file_name("marks");
    let _ = std::fs::remove_file(&marks);
    let mut daemon = spawn_daemon(program, extra, conf, log);
    // MASTER in the named namespace: the VIP is on its eth0.
    poll("the VIP in the namespace", log, || {
        let out = Command::new("ip")
            .args(["-n", ns, "-o", "addr", "show", "dev", "eth0"])
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .contains("10.0.0.100/24")
            .then_some(())
    });
    let dir = PathBuf::from(format!("/run/keepalived/{ns}"));
    let want = [format!("keepalived_{name}.pid"), format!("vrrp_{name}.pid")];
    let files = poll("both pid files", log, || {
        listing(&dir).filter(|l| want.iter().all(|f| l.contains_key(f)))
    });
    let dir_mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
    let dump = PathBuf::from(format!("/tmp/keepalived.{ns}_{name}.data"));
    let _ = std::fs::remove_file(&dump);
    signal(daemon.0.id(), "USR1");
    let data_dump = poll("the DATA dump", log, || {
        let text = std::fs::read_to_string(&dump).ok()?;
        text.contains("VRRP Topology").then_some(())?;
        Some(std::fs::metadata(&dump).ok()?.permissions().mode() & 0o777)
    });
    let _ = std::fs::remove_file(&dump);
    let started = std::fs::read_to_string(&marks).unwrap_or_default();
    assert_eq!(started.lines().count(), 1, "{program}: {started}");
    daemon.stop();
    let removed = !dir.exists();
    let marks = std::fs::read_to_string(&marks).unwrap_or_default();
    Seen {
        dir_mode,
        files,
        data_dump,
        removed,
        marks: marks.lines().map(str::to_owned).collect(),
    }
}

#[test]
fn root_netns_net_namespace_instance_umask_and_data_names_as_keepalived() {
    let rig = Rig::new("kpg");
    let (ns, name, scratch) = (&rig.ns, &rig.name, &rig.scratch);
    let conf = scratch.join("keepalived.conf");
    let mark = scratch.join("mark.sh");
    std::fs::write(
        &mark,
        format!(
            "#!/bin/sh\necho \"$1 $(ip -o addr show to 10.0.0.1/32 | wc -l) \
             $(ip -o addr show to 10.0.0.100/32 | wc -l) $(umask)\" >> {}\n",
            scratch.join("marks").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&mark, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mark = mark.display();
    std::fs::write(
        &conf,
        format!(
            "net_namespace {ns}\ninstance {name}\nglobal_defs {{\n  umask 027\n  \
             data_use_instance\n  enable_script_security\n  script_user root\n  \
             startup_script \"{mark} up\"\n  shutdown_script \"{mark} down\"\n  \
             shutdown_script_timeout 5\n}}\nvrrp_instance VI_1 {{\n  state MASTER\n  interface eth0\n  \
             virtual_router_id 51\n  priority 150\n  advert_int 1\n  virtual_ipaddress {{\n    \
             10.0.0.100/24\n  }}\n}}\n"
        ),
    )
    .unwrap();
    let (ka, lite) = rig
        .both(|program, extra| observe(program, extra, &conf, ns, name, &log_of(scratch, program)));
    let files = BTreeMap::from([
        (format!("keepalived_{name}.pid"), 0o644),
        (format!("vrrp_{name}.pid"), 0o644),
    ]);
    // Pid files are rw-r--r-- whatever the umask; the dump has it.
    let want = Seen {
        dir_mode: 0o755,
        files,
        data_dump: 0o640,
        removed: true,
        marks: vec!["up 1 0 0027".into(), "down 1 0 0027".into()],
    };
    assert_eq!(ka, want, "keepalived 2.2.7");
    assert_eq!(lite, want, "keepalived-lite");
}

/// What one daemon did around reloads.
#[derive(Debug, PartialEq, Eq)]
struct Reloads {
    /// The stale reload file was removed at start-up.
    stale_removed: bool,
    /// The check's report named the bad keyword.
    report_names_keyword: bool,
    /// The VIP after the broken file, then after the good one.
    vip_after_bad: String,
    vip_after_good: String,
}

/// The one VIP of 10.0.0.100-101 on `ns`'s eth0, once exactly one is.
fn vip(ns: &str) -> Option<String> {
    let out = Command::new("ip")
        .args(["-n", ns, "-o", "addr", "show", "dev", "eth0"])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let vips: Vec<&str> = ["10.0.0.100", "10.0.0.101"]
        .into_iter()
        .filter(|v| text.contains(&format!("{v}/24")))
        .collect();
    match vips[..] {
        [one] => Some(one.to_owned()),
        _ => None,
    }
}

fn reload_config(ns: &str, name: &str, scratch: &Path, vip: &str, extra: &str) -> String {
    format!(
        "net_namespace {ns}\ninstance {name}\nglobal_defs {{\n  reload_check_config {}\n  \
         reload_file {}\n{extra}}}\nvrrp_instance VI_1 {{\n  state MASTER\n  interface eth0\n  \
         virtual_router_id 51\n  priority 150\n  advert_int 1\n  virtual_ipaddress {{\n    \
         {vip}/24\n  }}\n}}\n",
        scratch.join("check.log").display(),
        scratch.join("reloading").display(),
    )
}

fn observe_reloads(program: &str, extra: &[&str], ns: &str, name: &str, scratch: &Path) -> Reloads {
    let conf = scratch.join("keepalived.conf");
    let log = log_of(scratch, program);
    std::fs::write(&conf, reload_config(ns, name, scratch, "10.0.0.100", "")).unwrap();
    let stale = scratch.join("reloading");
    std::fs::write(&stale, "").unwrap();
    let mut daemon = spawn_daemon(program, extra, &conf, &log);
    poll("the first VIP", &log, || {
        (vip(ns)? == "10.0.0.100").then_some(())
    });
    let stale_removed = !stale.exists();
    // A broken file with another VIP: refused by the check.
    let bad = reload_config(ns, name, scratch, "10.0.0.101", "  no_such_keyword\n");
    std::fs::write(&conf, bad).unwrap();
    signal(daemon.0.id(), "HUP");
    let report = scratch.join("check.log");
    let line = format!(
        "New config failed validation, see {} for details",
        report.display()
    );
    wait_logged("the validation failure", &log, &line);
    let report_names_keyword = std::fs::read_to_string(&report)
        .unwrap_or_default()
        .contains("no_such_keyword");
    let vip_after_bad = vip(ns).unwrap_or_default();
    // The same VIP change in a good file: loaded.
    std::fs::write(&conf, reload_config(ns, name, scratch, "10.0.0.101", "")).unwrap();
    signal(daemon.0.id(), "HUP");
    let vip_after_good = poll("the new VIP", &log, || {
        vip(ns).filter(|v| v == "10.0.0.101")
    });
    daemon.stop();
    Reloads {
        stale_removed,
        report_names_keyword,
        vip_after_bad,
        vip_after_good,
    }
}

#[test]
fn root_netns_reload_check_config_keeps_the_old_configuration_as_keepalived() {
    let rig = Rig::new("kpr");
    let (ns, name, scratch) = (&rig.ns, &rig.name, &rig.scratch);
    let (ka, lite) = rig.both(|program, extra| observe_reloads(program, extra, ns, name, scratch));
    let want = Reloads {
        stale_removed: true,
        report_names_keyword: true,
        vip_after_bad: "10.0.0.100".into(),
        vip_after_good: "10.0.0.101".into(),
    };
    assert_eq!(ka, want, "keepalived 2.2.7");
    assert_eq!(lite, want, "keepalived-lite");
}

/// What one daemon did with a `reload_time_file`.
#[derive(Debug, PartialEq, Eq)]
struct Scheduled {
    /// keepalived's line for the schedule was logged.
    logged: bool,
    /// The VIP of the edited file, once reloaded.
    vip: String,
    /// The time file was removed.
    removed: bool,
}

fn observe_schedule(
    program: &str,
    extra: &[&str],
    ns: &str,
    name: &str,
    scratch: &Path,
) -> Scheduled {
    let conf = scratch.join("keepalived.conf");
    let log = log_of(scratch, program);
    let time_file = scratch.join("reload-at");
    let _ = std::fs::remove_file(&time_file);
    let with = |vip: &str| {
        format!(
            "net_namespace {ns}\ninstance {name}\nglobal_defs {{\n  reload_time_file {}\n}}\n\
             vrrp_instance VI_1 {{\n  state MASTER\n  interface eth0\n  virtual_router_id 51\n  \
             priority 150\n  advert_int 1\n  virtual_ipaddress {{\n    {vip}/24\n  }}\n}}\n",
            time_file.display()
        )
    };
    std::fs::write(&conf, with("10.0.0.100")).unwrap();
    let mut daemon = spawn_daemon(program, extra, &conf, &log);
    poll("the first VIP", &log, || {
        (vip(ns)? == "10.0.0.100").then_some(())
    });
    // Edited without a SIGHUP: only the scheduled reload loads it.
    std::fs::write(&conf, with("10.0.0.101")).unwrap();
    let at = chrono::Utc::now() + chrono::Duration::seconds(5);
    let at_text = at.format("%Y-%m-%d %H:%M:%S").to_string();
    std::fs::write(&time_file, format!("{at_text}Z\n")).unwrap();
    let line = format!("Scheduling reload for {at_text}");
    wait_logged("the schedule", &log, &line);
    let vip = poll("the reloaded VIP", &log, || {
        vip(ns).filter(|v| v == "10.0.0.101")
    });
    let removed = poll("the time file removed", &log, || {
        (!time_file.exists()).then_some(true)
    });
    daemon.stop();
    Scheduled {
        logged: true,
        vip,
        removed,
    }
}

#[test]
fn root_netns_reload_time_file_reloads_at_the_time_as_keepalived() {
    // keepalived logs the schedule in local time: UTC here, as written.
    assert_eq!(
        std::env::var("TZ").unwrap_or_default(),
        "",
        "run with the machine's zone"
    );
    let rig = Rig::new("kpt");
    let (ns, name, scratch) = (&rig.ns, &rig.name, &rig.scratch);
    let (ka, lite) = rig.both(|program, extra| observe_schedule(program, extra, ns, name, scratch));
    let want = Scheduled {
        logged: true,
        vip: "10.0.0.101".into(),
        removed: true,
    };
    assert_eq!(ka, want, "keepalived 2.2.7");
    assert_eq!(lite, want, "keepalived-lite");
}
