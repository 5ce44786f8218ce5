//! `--metrics-listen` over a failover (needs root: network namespaces).
//! r1 (priority 150) is master; r2 (priority 100) serves metrics. While r1
//! runs, r2 is BACKUP and counts r1's adverts; r1's graceful stop (a
//! priority-0 advert) makes r2 master, and r2's counters say so. Every
//! scrape passes `promtool check metrics`.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_root, wait_for_line, Lab};
use test_support::process::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-lite");
const DEADLINE: Duration = Duration::from_secs(30);
const METRICS: &str = "127.0.0.1:9650";

fn config(priority: u8) -> String {
    format!(
        "vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 61
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        10.0.0.100/32
    }}
}}
"
    )
}

fn start(lab: &mut Lab, dir: &TempDir, node: &str, priority: u8, extra: &[&str]) -> u32 {
    let conf = dir.path(&format!("{node}.conf"));
    std::fs::write(&conf, config(priority)).unwrap();
    let s = |f: &str| {
        dir.path(&format!("{node}-{f}"))
            .to_str()
            .unwrap()
            .to_owned()
    };
    let mut args = vec![
        "-P".to_owned(),
        "-n".into(),
        "-l".into(),
        "-f".into(),
        conf.to_str().unwrap().into(),
        "-p".into(),
        s("k.pid"),
        "-r".into(),
        s("v.pid"),
    ];
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    lab.spawn(node, BIN, &args, Path::new(&s("log"))).unwrap()
}

/// `GET /metrics` from inside `node`.
fn scrape(lab: &Lab, node: &str) -> Option<String> {
    lab.enter(node, || {
        let mut s = TcpStream::connect(METRICS).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
            .ok()?;
        let mut text = String::new();
        s.read_to_string(&mut text).ok()?;
        let (head, body) = text.split_once("\r\n\r\n")?;
        assert!(head.starts_with("HTTP/1.1 200 OK"), "{head}");
        assert!(head.contains("text/plain; version=0.0.4"), "{head}");
        Some(body.to_owned())
    })
    .unwrap()
}

/// The value of the sample `name{labels}` (exact line prefix).
fn value(text: &str, sample: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' '))
        .and_then(|v| v.parse().ok())
}

fn scrape_until(lab: &Lab, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    let mut last = None;
    while start.elapsed() < DEADLINE {
        if let Some(text) = scrape(lab, "r2") {
            if ok(&text) {
                return text;
            }
            last = Some(text);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("timed out waiting for {what}; last scrape:\n{last:?}");
}

fn promtool_accepts(dir: &TempDir, text: &str) {
    let promtool = test_support::process::require("promtool");
    let mut child = Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    std::fs::write(dir.path("scrape.txt"), text).unwrap();
    assert!(
        out.status.success(),
        "promtool: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn root_metrics_follow_a_failover() {
    require_root();
    let dir = TempDir::new("kl-metrics");
    let mut lab = Lab::new().unwrap();
    lab.add_node("r1", Ipv4Addr::new(10, 0, 0, 1), 24).unwrap();
    lab.add_node("r2", Ipv4Addr::new(10, 0, 0, 2), 24).unwrap();
    // The intended master first, and waited for.
    let r1 = start(&mut lab, &dir, "r1", 150, &[]);
    let r1_log = dir.path("r1-log");
    let became = wait_for_line(&r1_log, "Entering MASTER STATE", DEADLINE);
    assert!(
        became.is_some(),
        "{}",
        std::fs::read_to_string(&r1_log).unwrap_or_default()
    );
    start(&mut lab, &dir, "r2", 100, &["--metrics-listen", METRICS]);

    let labels = "{instance=\"VI_1\",interface=\"eth0\",vrid=\"61\"}";
    let state = format!("keepalived_vrrp_state{labels}");
    let received = format!("keepalived_vrrp_adverts_received_total{labels}");
    let became = format!("keepalived_vrrp_became_master_total{labels}");
    let pz = format!("keepalived_vrrp_priority_zero_received_total{labels}");
    let backup = scrape_until(&lab, "r2 BACKUP with r1's adverts", |t| {
        value(t, &state) == Some(1.0) && value(t, &received).is_some_and(|n| n >= 2.0)
    });
    assert_eq!(
        value(&backup, &format!("keepalived_vrrp_priority{labels}")),
        Some(100.0)
    );
    assert_eq!(
        value(
            &backup,
            &format!("keepalived_vrrp_effective_priority{labels}")
        ),
        Some(100.0)
    );
    assert_eq!(value(&backup, &became), Some(0.0));
    assert_eq!(value(&backup, &pz), Some(0.0));
    promtool_accepts(&dir, &backup);

    lab.stop(r1, Duration::from_secs(10));
    let master = scrape_until(&lab, "r2 MASTER", |t| value(t, &state) == Some(2.0));
    assert_eq!(value(&master, &became), Some(1.0));
    assert_eq!(value(&master, &pz), Some(1.0));
    assert_eq!(
        value(
            &master,
            &format!("keepalived_vrrp_released_master_total{labels}")
        ),
        Some(0.0)
    );
    let before = value(&backup, &received).unwrap();
    assert!(value(&master, &received).unwrap() >= before);
    let sent = format!("keepalived_vrrp_adverts_sent_total{labels}");
    scrape_until(&lab, "r2 sending adverts", |t| {
        value(t, &sent).is_some_and(|n| n >= 1.0)
    });
    promtool_accepts(&dir, &master);

    // Anything but GET /metrics is not found.
    let other = lab
        .enter("r2", || {
            let mut s = TcpStream::connect(METRICS).unwrap();
            s.write_all(b"GET / HTTP/1.0\r\n\r\n").unwrap();
            let mut text = String::new();
            s.read_to_string(&mut text).unwrap();
            text
        })
        .unwrap();
    assert!(other.starts_with("HTTP/1.1 404 Not Found\r\n"), "{other}");
}
