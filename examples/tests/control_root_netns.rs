//! The control socket (issue 16): `status` shows the master, `backup`
//! hands the VIP to the peer (a second keepalived-lite), `priority` takes
//! it back, and a caller that is not root is refused. Needs root,
//! iproute2 and setpriv.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, Lab};
use serde_json::Value;

const LITE: &str = env!("CARGO_BIN_EXE_keepalived-lite");
/// Generous: CI machines are small and loaded.
const WAIT: Duration = Duration::from_secs(30);

/// One router of the lab: its files and its daemon.
struct Router {
    dir: PathBuf,
    pid: u32,
    /// Its control socket.
    socket: PathBuf,
}

impl Router {
    /// Starts keepalived-lite on `node` with VI_1 at `priority`, with its
    /// own pid files and control socket.
    fn start(lab: &mut Lab, node: &str, priority: u8) -> Router {
        let dir = std::env::temp_dir().join(format!("{}-ctl", lab.node(node).ns));
        std::fs::create_dir_all(&dir).unwrap();
        let conf = dir.join("keepalived.conf");
        std::fs::write(
            &conf,
            format!(
                "vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  \
                 virtual_router_id 51\n  priority {priority}\n  advert_int 1\n  \
                 virtual_ipaddress {{\n    10.0.0.100/24\n  }}\n}}\n"
            ),
        )
        .unwrap();
        let (log, socket) = (dir.join("lite.log"), dir.join(format!("{node}.sock")));
        let pid = lab
            .spawn_lite_daemon(node, LITE, &conf, &dir, &log)
            .unwrap();
        Router { dir, pid, socket }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("lite.log")).unwrap_or_default()
    }

    fn socket(&self) -> PathBuf {
        self.socket.clone()
    }

    /// Polls until `ok` holds, or fails with `what` and the log.
    fn wait_until(&self, what: &str, mut ok: impl FnMut() -> bool) {
        let deadline = Instant::now() + WAIT;
        while !ok() {
            assert!(
                Instant::now() < deadline,
                "{what} never happened; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `keepalived-lite control ARGS` as root.
    fn control(&self, args: &[&str]) -> Output {
        Command::new(LITE)
            .arg("--control-socket")
            .arg(self.socket())
            .arg("control")
            .args(args)
            .output()
            .unwrap()
    }

    /// VI_1 in the `status` reply, once the socket answers.
    fn vi_1(&self) -> Option<Value> {
        let out = self.control(&["status"]);
        let reply: Value = serde_json::from_slice(&out.stdout).ok()?;
        let instances = reply["instances"].as_array()?;
        instances.iter().find(|i| i["name"] == "VI_1").cloned()
    }

    fn state(&self) -> Option<String> {
        Some(self.vi_1()?["state"].as_str()?.to_owned())
    }
}

fn ok(out: &Output) -> bool {
    out.status.success()
}

#[test]
fn root_netns_control_socket_forces_backup_and_refuses_non_root() {
    require_root();
    require_program("setpriv", &["--version"]);
    let mut lab = Lab::new().unwrap();
    lab.add_node("r1", Ipv4Addr::new(10, 0, 0, 1), 24).unwrap();
    lab.add_node("r2", Ipv4Addr::new(10, 0, 0, 2), 24).unwrap();
    // The intended master first, and waited for.
    let r1 = Router::start(&mut lab, "r1", 150);
    r1.wait_until("r1 MASTER", || r1.state().as_deref() == Some("MASTER"));
    let r2 = Router::start(&mut lab, "r2", 100);
    r2.wait_until("r2 BACKUP", || r2.state().as_deref() == Some("BACKUP"));

    let vi_1 = r1.vi_1().unwrap();
    assert_eq!(vi_1["base_priority"], 150, "{vi_1}");
    assert_eq!(vi_1["priority"], 150, "{vi_1}");
    assert_eq!(vi_1["vips"], serde_json::json!(["10.0.0.100"]), "{vi_1}");

    // Not root: refused by the daemon, with the reason.
    let socket = r1.socket();
    let out = Command::new("setpriv")
        .args([
            "--reuid",
            "65534",
            "--regid",
            "65534",
            "--clear-groups",
            LITE,
        ])
        .arg("--control-socket")
        .arg(&socket)
        .args(["control", "backup", "VI_1"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!ok(&out), "{stderr}");
    assert!(
        stderr
            .contains("permission denied: the control socket is for root only (caller uid 65534)"),
        "{stderr}"
    );
    assert_eq!(r1.state().as_deref(), Some("MASTER"));

    // An unknown instance is an error, and nothing changes.
    let out = r1.control(&["backup", "VI_9"]);
    assert!(!ok(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no vrrp_instance VI_9"));

    // Forced to backup: the peer takes over.
    assert!(ok(&r1.control(&["backup", "VI_1"])));
    r2.wait_until("r2 MASTER", || r2.state().as_deref() == Some("MASTER"));
    r1.wait_until("r1 BACKUP", || r1.state().as_deref() == Some("BACKUP"));
    assert_eq!(r1.vi_1().unwrap()["base_priority"], 1);

    // A higher priority than the peer's: r1 preempts again.
    assert!(ok(&r1.control(&["priority", "VI_1", "200"])));
    r1.wait_until("r1 MASTER again", || {
        r1.state().as_deref() == Some("MASTER")
    });
    r2.wait_until("r2 BACKUP again", || {
        r2.state().as_deref() == Some("BACKUP")
    });
    assert_eq!(r1.vi_1().unwrap()["base_priority"], 200);

    // Reload: the configuration's priority again.
    assert!(ok(&r1.control(&["reload"])));
    r1.wait_until("the reload", || {
        r1.vi_1().is_some_and(|v| v["base_priority"] == 150)
    });

    for r in [&r2, &r1] {
        lab.stop(r.pid, Duration::from_secs(5));
        assert!(!Path::new(&r.socket()).exists(), "socket left behind");
        let _ = std::fs::remove_dir_all(&r.dir);
    }
}
