//! SMTP alerts against a real SMTP server (needs root, iproute2, Debian's
//! `keepalived` 2.2.7 and `python3-aiosmtpd`): keepalived 2.2.7 and
//! keepalived-lite each run the same configuration, alone in a namespace
//! lab, each with an aiosmtpd on the lab's loopback that keeps every
//! message. Both become MASTER (an instance in a sync group, both with
//! `smtp_alert`); their mails must agree byte for byte but for the Date
//! header: envelope, HELO name, headers, subject and body (router_id,
//! sender and HELO name left to the host's defaults).
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, Lab};

/// Safety limit for each step (master down is ~3.6 s); never a timing
/// assertion.
const WAIT: Duration = Duration::from_secs(30);
const PYTHON: &str = "/usr/bin/python3";
const PORT: u16 = 2525;

/// An aiosmtpd handler that writes each message, after its envelope and
/// HELO name, to DIR/NNN.eml (renamed into place when complete).
const SERVER: &str = r#"
import os, sys, threading
from aiosmtpd.controller import Controller

port, out, ready = int(sys.argv[1]), sys.argv[2], sys.argv[3]

class Keep:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Keep.n += 1
        head = "helo %s\nfrom %s\nto %s\n\n" % (
            session.host_name, envelope.mail_from, " ".join(envelope.rcpt_tos))
        tmp = os.path.join(out, ".%03d" % Keep.n)
        with open(tmp, "wb") as f:
            f.write(head.encode() + envelope.original_content)
        os.rename(tmp, os.path.join(out, "%03d.eml" % Keep.n))
        return "250 OK"

c = Controller(Keep(), hostname="127.0.0.1", port=port)
c.start()
open(ready, "w").close()
threading.Event().wait()
"#;

fn config() -> String {
    format!(
        "global_defs {{\n  notification_email {{\n    ops@example.org\n    oncall@example.org\n  }}\n  \
         smtp_server 127.0.0.1 {PORT}\n  smtp_connect_timeout 5\n}}\n\
         vrrp_sync_group G1 {{\n  group {{\n    VI_1\n  }}\n  smtp_alert\n}}\n\
         vrrp_instance VI_1 {{\n  state BACKUP\n  interface eth0\n  virtual_router_id 51\n  \
         priority 150\n  advert_int 1\n  smtp_alert\n  virtual_ipaddress {{\n    10.0.0.100/24\n  }}\n}}\n"
    )
}

/// One daemon in its own lab with its own SMTP server.
struct Run {
    lab: Lab,
    dir: PathBuf,
    mails: PathBuf,
}

impl Run {
    fn new(tag: &str) -> Run {
        let mut lab = Lab::new().unwrap();
        lab.add_node("r1", Ipv4Addr::new(10, 0, 0, 1), 24).unwrap();
        let dir = std::env::temp_dir().join(format!("{}-{tag}", lab.node("r1").ns));
        let mails = dir.join("mails");
        std::fs::create_dir_all(&mails).unwrap();
        let (script, ready) = (dir.join("smtpd.py"), dir.join("ready"));
        std::fs::write(&script, SERVER).unwrap();
        let args = [
            script.to_str().unwrap(),
            &PORT.to_string(),
            mails.to_str().unwrap(),
            ready.to_str().unwrap(),
        ];
        lab.spawn("r1", PYTHON, &args, &dir.join("smtpd.log"))
            .unwrap();
        let mut run = Run { lab, dir, mails };
        run.wait_until(|| ready.exists(), "aiosmtpd to listen");
        run
    }

    fn start(&mut self, program: &str, extra: &[&str]) {
        let conf = self.dir.join("keepalived.conf");
        std::fs::write(&conf, config()).unwrap();
        let mut args = vec!["-P", "-n", "-l", "-f", conf.to_str().unwrap()];
        args.extend_from_slice(extra);
        let log = self.dir.join("daemon.log");
        self.lab.spawn("r1", program, &args, &log).unwrap();
    }

    fn wait_until(&mut self, mut done: impl FnMut() -> bool, what: &str) {
        let deadline = Instant::now() + WAIT;
        while !done() {
            let log = std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default();
            let smtpd = std::fs::read_to_string(self.dir.join("smtpd.log")).unwrap_or_default();
            assert!(
                Instant::now() < deadline,
                "no {what} within {WAIT:?}\ndaemon:\n{log}\nsmtpd:\n{smtpd}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The mails, once those about the instance and the group entering
    /// MASTER are in. keepalived sends each mail on its own connection
    /// at once, so they arrive in no fixed order: sorted.
    fn until_master(&mut self) -> Vec<String> {
        let mails = self.mails.clone();
        let subjects = [
            "Subject: [HOST] VRRP Instance VI_1 - Entering MASTER state\r\n",
            "Subject: [HOST] VRRP Group G1 - Entering MASTER state\r\n",
        ]
        .map(|s| s.replace("HOST", &host_name()));
        let all_in = |m: &[String]| subjects.iter().all(|s| m.iter().any(|m| m.contains(s)));
        self.wait_until(|| all_in(&read_mails(&mails)), "mails about MASTER");
        let mut all = read_mails(&self.mails);
        all.sort();
        all
    }
}

/// The messages received so far, in order of arrival.
fn read_mails(dir: &Path) -> Vec<String> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect()
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `mail` with its Date header's value checked (keepalived's
/// `%a, %d %b %Y %H:%M:%S %z`) and replaced by DATE.
fn without_date(mail: &str) -> String {
    let (head, rest) = mail.split_once("\r\nFrom: ").unwrap();
    let (envelope, date) = head.split_once("Date: ").unwrap();
    assert!(
        chrono::DateTime::parse_from_str(date, "%a, %d %b %Y %H:%M:%S %z").is_ok(),
        "bad Date header {date:?} in {mail:?}"
    );
    format!("{envelope}Date: DATE\r\nFrom: {rest}")
}

fn host_name() -> String {
    let out = std::process::Command::new("hostname").output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn vrrp_transition_mails_match_keepalived() {
    require_root();
    require_program("keepalived", &["--version"]);
    require_program(PYTHON, &["-c", "import aiosmtpd"]);
    let mut theirs = Run::new("k");
    let mut ours = Run::new("l");
    let (p, r) = (theirs.dir.join("k.pid"), theirs.dir.join("v.pid"));
    let pids = ["-p", p.to_str().unwrap(), "-r", r.to_str().unwrap()];
    theirs.start("keepalived", &pids);
    let (p, r) = (ours.dir.join("k.pid"), ours.dir.join("v.pid"));
    let pids = ["-p", p.to_str().unwrap(), "-r", r.to_str().unwrap()];
    ours.start(env!("CARGO_BIN_EXE_keepalived-lite"), &pids);
    let theirs = theirs.until_master();
    let ours = ours.until_master();
    let strip = |m: &[String]| {
        let mut m: Vec<String> = m.iter().map(|m| without_date(m)).collect();
        m.sort();
        m
    };
    assert_eq!(strip(&ours), strip(&theirs));
    // What keepalived sends, spelled out: the host's name as router_id
    // and HELO, root@HOST as the sender.
    let host = host_name();
    let master = format!(
        "helo {host}\nfrom root@{host}\nto ops@example.org oncall@example.org\n\n\
         Date: DATE\r\nFrom: root@{host}\r\nSubject: [{host}] VRRP Instance VI_1 - Entering \
         MASTER state\r\nX-Mailer: Keepalived\r\nTo: ops@example.org, oncall@example.org\r\n\
         \r\n=> VRRP Instance is now owning VRRP VIPs <=\r\n\r\n"
    );
    assert!(strip(&ours).contains(&master), "{ours:#?}");
}

/// VI_1 stays; VI_2 (no `notify_deleted`) and VI_3 (`notify_deleted`)
/// are in the first configuration only; all three alert.
fn reload_config(all: bool) -> String {
    let inst = |name: &str, vrid: u8, extra: &str| {
        format!(
            "vrrp_instance {name} {{\n  state BACKUP\n  interface eth0\n  \
             virtual_router_id {vrid}\n  priority 150\n  advert_int 1\n  smtp_alert\n{extra}  \
             virtual_ipaddress {{\n    10.0.0.{vrid}/24\n  }}\n}}\n"
        )
    };
    let mut conf = format!(
        "global_defs {{\n  notification_email {{\n    ops@example.org\n  }}\n  \
         smtp_server 127.0.0.1 {PORT}\n  smtp_connect_timeout 5\n}}\n{}",
        inst("VI_1", 51, "")
    );
    if all {
        conf += &inst("VI_2", 52, "");
        conf += &inst("VI_3", 53, "  notify_deleted\n");
    }
    conf
}

/// The subject and body of every mail, sorted.
fn subjects_and_bodies(mails: &[String]) -> Vec<String> {
    let mut out: Vec<String> = mails
        .iter()
        .map(|m| {
            let subject = m
                .split("Subject: ")
                .nth(1)
                .unwrap_or("")
                .split("\r\n")
                .next();
            let body = m.split("\r\n\r\n").nth(1).unwrap_or("").trim_end();
            format!("{} | {body}", subject.unwrap_or(""))
        })
        .collect();
    out.sort();
    out
}

#[test]
fn vrrp_reload_removal_mails_match_keepalived() {
    require_root();
    require_program("keepalived", &["--version"]);
    require_program(PYTHON, &["-c", "import aiosmtpd"]);
    let host = host_name();
    let mut runs = Vec::new();
    for (tag, program) in [
        ("k", "keepalived"),
        ("l", env!("CARGO_BIN_EXE_keepalived-lite")),
    ] {
        let mut run = Run::new(tag);
        let conf = run.dir.join("keepalived.conf");
        std::fs::write(&conf, reload_config(true)).unwrap();
        let (p, r) = (run.dir.join("k.pid"), run.dir.join("v.pid"));
        let args = [
            "-P",
            "-n",
            "-l",
            "-f",
            conf.to_str().unwrap(),
            "-p",
            p.to_str().unwrap(),
            "-r",
            r.to_str().unwrap(),
        ];
        let sock = run.dir.join("control.sock");
        let mut args = args.to_vec();
        if tag == "l" {
            // Not the shared /run/keepalived-lite.sock of the other test.
            args.extend(["--control-socket", sock.to_str().unwrap()]);
        }
        let log = run.dir.join("daemon.log");
        let pid = run.lab.spawn("r1", program, &args, &log).unwrap();
        let mails = run.mails.clone();
        let masters = |m: Vec<String>| m.iter().filter(|m| m.contains("MASTER state")).count();
        run.wait_until(|| masters(read_mails(&mails)) == 3, "3 mails about MASTER");
        std::fs::write(&conf, reload_config(false)).unwrap();
        run.lab.signal(pid, "HUP").unwrap();
        runs.push(run);
    }
    let want: Vec<String> = [
        "VI_1 - Entering BACKUP state | => VRRP Instance is no longer owning VRRP VIPs <=",
        "VI_2 - Entering BACKUP state | => VRRP Instance is no longer owning VRRP VIPs <=",
        "VI_3 - Entering BACKUP state | => VRRP Instance is no longer owning VRRP VIPs <=",
        "VI_1 - Entering MASTER state | => VRRP Instance is now owning VRRP VIPs <=",
        "VI_2 - Entering MASTER state | => VRRP Instance is now owning VRRP VIPs <=",
        "VI_2 - Entering FAULT state | => VRRP Instance is no longer owning VRRP VIPs <=",
        "VI_3 - Entering MASTER state | => VRRP Instance is now owning VRRP VIPs <=",
        "VI_3 - Deleted | => VRRP Deleted at reload <=",
    ]
    .iter()
    .map(|s| format!("[{host}] VRRP Instance {s}"))
    .collect();
    let mut want = want;
    want.sort();
    for run in &mut runs {
        let mails = run.mails.clone();
        run.wait_until(|| read_mails(&mails).len() >= 8, "8 mails");
        // Anything more would have come with the ones awaited.
        std::thread::sleep(Duration::from_millis(500));
        let got = subjects_and_bodies(&read_mails(&mails));
        assert_eq!(got, want, "{}", run.dir.display());
    }
}
