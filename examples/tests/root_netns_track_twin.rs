//! `track_file` and `track_process`, keepalived 2.2.7 against
//! keepalived-lite (needs root and keepalived). One lab: keepalived in
//! node `ka` (VRID 51), keepalived-lite in node `kl` (VRID 52), the same
//! configuration otherwise, both alone on their VRID and so master; an
//! observer node reads their adverts. Both track the same file (weight 10)
//! and the same process (a copy of `sleep` under a name of its own,
//! weight -20, so down costs 20), and for each step both must advertise
//! the same priority, or both fall silent (FAULT):
//!
//! | file | process | priority |
//! | --- | --- | --- |
//! | 0 | down | 80 |
//! | 10 | down | 180 |
//! | -5 | down | 30 |
//! | invalid | down | 80 |
//! | -30 | down | FAULT (-300) |
//! | 2 | down | 100 |
//! | 2 | started | 120 (keepalived-lite only) |
//! | 2 | killed | 100 (keepalived-lite only) |
//!
//! keepalived 2.2.7 counts processes through the kernel's proc connector,
//! which only works in the initial network namespace ("Failed to
//! set/clear process event listen - errno 111" in a namespace, and then
//! it does not scan `/proc` either): in the lab it holds every tracked
//! process down, whether running or not. So the process is compared while
//! down, and only keepalived-lite is checked when it starts and is
//! killed.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::collections::HashMap;
use std::io::Read;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, Lab};
use socket2::{Domain, Protocol, Socket, Type};

/// Safety limit for something expected to happen.
const WAIT: Duration = Duration::from_secs(30);

/// A router is silent (FAULT) when its last advert is older than this
/// (advert_int 1).
const SILENT: Duration = Duration::from_millis(2500);

/// The last advert per VRID: when, and with which priority.
type Seen = Arc<Mutex<HashMap<u8, (Instant, u8)>>>;

fn config(vrid: u8, file: &Path, process: &str) -> String {
    format!(
        "track_file tf {{\n  file {}\n}}\n\
         vrrp_track_process tp {{\n  process {process}\n  weight -20\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id {vrid}\n  \
         priority 100\n  advert_int 1\n  track_file {{\n    tf weight 10\n  }}\n  \
         track_process {{\n    tp\n  }}\n  virtual_ipaddress {{\n    10.0.0.{vrid}/24\n  }}\n}}\n",
        file.display()
    )
}

/// Reads VRRP adverts in the observer's namespace until `stop`.
fn observe(lab: &Lab, seen: Seen, stop: Arc<AtomicBool>) {
    let sock = lab
        .enter("obs", || {
            let s = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112)))?;
            let group = Ipv4Addr::new(224, 0, 0, 18);
            s.join_multicast_v4(&group, &Ipv4Addr::new(10, 0, 0, 9))?;
            s.set_read_timeout(Some(Duration::from_millis(200)))?;
            std::io::Result::Ok(s)
        })
        .unwrap()
        .unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 2048];
        while !stop.load(Ordering::Relaxed) {
            let Ok(n) = (&sock).read(&mut buf) else {
                continue;
            };
            let bytes = &buf[..n];
            let ihl = usize::from(bytes.first().map_or(0, |b| b & 0x0f)) * 4;
            if let (Some(&vrid), Some(&prio)) = (bytes.get(ihl + 1), bytes.get(ihl + 2)) {
                seen.lock().unwrap().insert(vrid, (Instant::now(), prio));
            }
        }
    });
}

/// The priority VRID `vrid` advertises now, None while silent.
fn priority(seen: &Seen, vrid: u8) -> Option<u8> {
    let seen = seen.lock().unwrap();
    let (at, prio) = seen.get(&vrid)?;
    (at.elapsed() < SILENT && *prio != 0).then_some(*prio)
}

/// Waits until both routers advertise `want` (None: both silent; with
/// `lite_only`, keepalived-lite alone).
fn expect(seen: &Seen, step: &str, want: Option<u8>, lite_only: bool) {
    let deadline = Instant::now() + WAIT;
    loop {
        let got = (priority(seen, 51), priority(seen, 52));
        if got.1 == want && (lite_only || got.0 == want) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{step}: keepalived, keepalived-lite advertise {got:?}, want {want:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn track_file_and_track_process_match_keepalived() {
    require_root();
    require_program("keepalived", &["-v"]);
    let mut lab = Lab::new().unwrap();
    lab.add_node("ka", Ipv4Addr::new(10, 0, 0, 1), 24).unwrap();
    lab.add_node("kl", Ipv4Addr::new(10, 0, 0, 2), 24).unwrap();
    lab.add_node("obs", Ipv4Addr::new(10, 0, 0, 9), 24).unwrap();
    let dir: PathBuf = std::env::temp_dir().join(&lab.node("ka").ns);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("prio");
    std::fs::write(&file, "0\n").unwrap();
    // A process name of this run's own (comm: at most 15 bytes).
    let name = format!("trk{}", std::process::id() % 1_000_000);
    let program = dir.join(&name);
    std::fs::copy("/bin/sleep", &program).unwrap();

    let seen: Seen = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    observe(&lab, seen.clone(), stop.clone());
    let bin = env!("CARGO_BIN_EXE_keepalived-lite");
    for (node, vrid, prog) in [("ka", 51, "keepalived"), ("kl", 52, bin)] {
        let conf = dir.join(format!("{node}.conf"));
        std::fs::write(&conf, config(vrid, &file, &name)).unwrap();
        let log = dir.join(format!("{node}.log"));
        if node == "kl" {
            // keepalived-lite also needs a control socket of its own.
            let pid_file = |f: &str| dir.join(format!("{node}.{f}")).display().to_string();
            let (conf, sock) = (conf.display().to_string(), pid_file("sock"));
            let (p, r) = (pid_file("pid"), pid_file("vrrp.pid"));
            let args = [
                "-P",
                "-n",
                "-l",
                "-f",
                &conf,
                "-p",
                &p,
                "-r",
                &r,
                "--control-socket",
                &sock,
            ];
            lab.spawn(node, prog, &args, &log).unwrap();
        } else {
            lab.spawn_vrrp_daemon(node, prog, &conf, &dir, &log)
                .unwrap();
        }
    }
    let steps: [(&str, Option<u8>); 6] = [
        ("0", Some(80)),
        ("10", Some(180)),
        ("-5", Some(30)),
        ("invalid", Some(80)),
        ("-30", None),
        ("2", Some(100)),
    ];
    for (value, want) in steps {
        std::fs::write(&file, format!("{value}\n")).unwrap();
        expect(&seen, &format!("file {value}"), want, false);
    }
    let mut child: Child = Command::new(&program).arg("600").spawn().unwrap();
    expect(&seen, "process started", Some(120), true);
    child.kill().unwrap();
    child.wait().unwrap();
    expect(&seen, "process killed", Some(100), true);
    stop.store(true, Ordering::Relaxed);
    drop(lab);
    let _ = std::fs::remove_dir_all(&dir);
}
