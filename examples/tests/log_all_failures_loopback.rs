//! `log_all_failures` on the host, without IPVS: real HTTP_GET and
//! MISC_CHECK attempts against loopback servers and a real script, run by
//! the checker's driver, turned into keepalived's lines by the bridge (its
//! table is computed, never applied).
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keepalived_lite::lvs_mode::{daemon, table::Bridge};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};

/// Generous: the checks below take a few seconds.
const DEADLINE: Duration = Duration::from_secs(60);

/// Runs the checker of `conf` until a line contains `until`; returns every
/// line said after start-up.
async fn lines_until(conf: &str, until: &str) -> Vec<String> {
    let parsed = vrrp_conf::parse_str("t.conf", conf, &vrrp_conf::Options::default());
    let plan = keepalived_lite::lvs_mode::plan::build(&parsed.config).unwrap();
    let (mut driver, mut bridge): (_, Bridge) = daemon::build(plan).unwrap();
    bridge.start(driver.monitor_mut(), Instant::now());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(driver.run(tx, async {
        let _ = stopped.await;
    }));
    let mut lines = Vec::new();
    let end = tokio::time::Instant::now() + DEADLINE;
    while !lines.iter().any(|l: &String| l.contains(until)) {
        match tokio::time::timeout_at(end, rx.recv()).await {
            Ok(Some(event)) => lines.extend(bridge.handle(&event)),
            _ => break,
        }
    }
    let _ = stop.send(());
    let _ = task.await;
    lines
}

/// The lines from the first one containing `from` on.
fn from<'a>(lines: &'a [String], from: &str) -> &'a [String] {
    let i = lines
        .iter()
        .position(|l| l.contains(from))
        .unwrap_or(lines.len());
    lines.get(i..).unwrap_or_default()
}

/// A web server on loopback that answers its first request with 200 and
/// then takes requests without ever answering.
async fn answers_once() -> (u16, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let served = Arc::new(AtomicUsize::new(0));
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut s, _)) = l.accept().await {
            if served.fetch_add(1, Ordering::Relaxed) > 0 {
                held.push(s);
                continue;
            }
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await;
        }
    });
    (port, task)
}

/// HTTP_GET: the first pass is said (has_run unset); a server that stops
/// answering is "Timeout WEB read" on the regular attempt and on its retry,
/// then the checker's own failure line with its retries and the removal
/// (check_http.c `timeout_epilog`, `epilog`).
#[tokio::test]
async fn http_get_says_every_timed_out_read() {
    let (port, server) = answers_once().await;
    let conf = format!(
        "virtual_server 10.0.0.1 80 {{\n delay_loop 1\n protocol TCP\n real_server 127.0.0.1 {port} {{\n HTTP_GET {{\n url {{\n path /\n }}\n connect_timeout 1\n retry 1\n delay_before_retry 1\n log_all_failures\n }}\n }}\n}}\n"
    );
    let rs = format!("[127.0.0.1]:tcp:{port}");
    let lines = lines_until(&conf, "Removing service").await;
    server.abort();
    assert_eq!(
        from(&lines, "Remote Web"),
        [
            format!("Remote Web server {rs} succeed on service."),
            format!("Timeout WEB read server {rs}."),
            format!("Timeout WEB read server {rs}."),
            format!("HTTP_CHECK on service {rs} failed after 1 retries."),
            format!("Removing service {rs} from VS [10.0.0.1]:tcp:80"),
        ],
        "{lines:?}"
    );
}

/// MISC_CHECK: a script that passes once (`rm` of a file), which is said
/// as its first run, and then fails says where each failure stands in its
/// retries (check_misc.c).
#[tokio::test]
async fn misc_check_says_every_failed_run() {
    let flag = std::env::temp_dir().join(format!("kl-logfail-{}", std::process::id()));
    std::fs::write(&flag, b"").unwrap();
    let conf = format!(
        "virtual_server 10.0.0.1 80 {{\n delay_loop 1\n protocol TCP\n real_server 127.0.0.1 80 {{\n MISC_CHECK {{\n misc_path \"/bin/rm {}\"\n retry 2\n delay_before_retry 1\n log_all_failures\n }}\n }}\n}}\n",
        flag.display()
    );
    let lines = lines_until(&conf, "Removing service").await;
    let _ = std::fs::remove_file(&flag);
    let misc = "Misc check for [[127.0.0.1]:tcp:80 VS [10.0.0.1]:tcp:80] by [/bin/rm]";
    assert_eq!(
        from(&lines, "Misc check"),
        [
            format!("{misc} succeeded."),
            format!("{misc} failed, will do 2 retries (exited with status 1)."),
            format!("{misc} failed on retry 1/2 (exited with status 1)."),
            format!("{misc} failed after 2 retries (exited with status 1)."),
            "Removing service [127.0.0.1]:tcp:80 from VS [10.0.0.1]:tcp:80".to_owned(),
        ],
        "{lines:?}"
    );
}

/// A web server on loopback whose answers follow `script`, one character
/// per request, each url being one ('+' a 200, '-' a close without a
/// word), then 200s.
async fn answers(script: &'static str) -> (u16, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut plan = script.chars();
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = [0u8; 1024];
            let _ = s.read(&mut buf).await;
            if plan.next() != Some('-') {
                let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await;
            }
        }
    });
    (port, task)
}

/// HTTP_GET without log_all_failures: the first pass, the down line with
/// its retries, then on recovery the failed url's line for the pass that
/// clears it, and for the confirming pass a line per url naming its last
/// test, the checker's line and the addition (check_http.c
/// `http_handle_response`, `epilog`).
#[tokio::test]
async fn http_get_names_each_url_when_it_comes_back() {
    let (port, server) = answers("++--").await;
    let conf = format!(
        "virtual_server 10.0.0.1 80 {{\n delay_loop 1\n protocol TCP\n real_server 127.0.0.1 {port} {{\n HTTP_GET {{\n url {{\n path /a\n }}\n url {{\n path /b\n digest d41d8cd98f00b204e9800998ecf8427e\n }}\n connect_timeout 1\n retry 1\n delay_before_retry 1\n }}\n }}\n}}\n"
    );
    let rs = format!("[127.0.0.1]:tcp:{port}");
    let vs = "[10.0.0.1]:tcp:80";
    let lines = lines_until(&conf, "Adding service").await;
    server.abort();
    assert_eq!(
        lines,
        [
            format!("Remote Web server {rs} succeed on service."),
            format!("HTTP_CHECK on service {rs} failed after 1 retries."),
            format!("Removing service {rs} from VS {vs}"),
            format!("Lost quorum 1-0=1 > 0 for VS {vs}"),
            format!("HTTP status code success to {rs} url(/a)"),
            format!("HTTP status code success to {rs} url(/a)"),
            format!("MD5 digest success to {rs} url(/b)"),
            format!("Remote Web server {rs} succeed on service."),
            format!("Adding service {rs} to VS {vs}"),
        ],
    );
}

/// The HTTP_GET of the tests below: urls /a (status) and /b (digest of an
/// empty body), retry 1, on loopback port `port`.
fn two_urls(port: u16) -> String {
    format!(
        "virtual_server 10.0.0.1 80 {{\n delay_loop 1\n protocol TCP\n real_server 127.0.0.1 {port} {{\n HTTP_GET {{\n url {{\n path /a\n }}\n url {{\n path /b\n digest d41d8cd98f00b204e9800998ecf8427e\n }}\n connect_timeout 1\n retry 1\n delay_before_retry 1\n }}\n }}\n}}\n"
    )
}

/// As [`answers`], noting the path of each request.
async fn answers_noted(
    script: &'static str,
) -> (u16, Arc<Mutex<Vec<String>>>, tokio::task::JoinHandle<()>) {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let paths = Arc::new(Mutex::new(Vec::new()));
    let noted = paths.clone();
    let task = tokio::spawn(async move {
        let mut plan = script.chars();
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = [0u8; 1024];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).into_owned();
            let path = req.split(' ').nth(1).unwrap_or_default().to_owned();
            noted.lock().unwrap().push(path);
            if plan.next() != Some('-') {
                let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\n").await;
            }
        }
    });
    (port, paths, task)
}

/// Runs [`two_urls`] against a server answering `script` until the real
/// server is added back; returns the lines and the paths asked.
async fn two_urls_come_back(script: &'static str) -> (String, Vec<String>, Vec<String>) {
    let (port, paths, server) = answers_noted(script).await;
    let lines = lines_until(&two_urls(port), "Adding service").await;
    server.abort();
    let paths = paths.lock().unwrap().clone();
    (format!("[127.0.0.1]:tcp:{port}"), lines, paths)
}

/// The lines of a server that /b took down and that comes back: /b
/// named by the pass that clears it, then both urls, the server, the
/// addition.
fn back_after_b(rs: &str) -> Vec<String> {
    let vs = "[10.0.0.1]:tcp:80";
    vec![
        format!("Remote Web server {rs} succeed on service."),
        format!("HTTP_CHECK on service {rs} failed after 1 retries."),
        format!("Removing service {rs} from VS {vs}"),
        format!("Lost quorum 1-0=1 > 0 for VS {vs}"),
        format!("MD5 digest success to {rs} url(/b)"),
        format!("HTTP status code success to {rs} url(/a)"),
        format!("MD5 digest success to {rs} url(/b)"),
        format!("Remote Web server {rs} succeed on service."),
        format!("Adding service {rs} to VS {vs}"),
    ]
}

/// Issue 13: the SECOND url fails (/a, /b pass; /a passes, /b fails, its
/// retry starts from /b and fails), so the pass that clears the failure
/// checks /b alone and names it; the confirming pass checks and names
/// both urls (check_http.c `epilog`'s `url_it` and `failed_url`).
#[tokio::test]
async fn http_get_names_the_second_url_when_it_fails_then_comes_back() {
    let (rs, lines, paths) = two_urls_come_back("+++--").await;
    assert_eq!(lines, back_after_b(&rs));
    let asked = ["/a", "/b", "/a", "/b", "/b", "/b", "/a", "/b"];
    assert_eq!(paths.get(..asked.len()), Some(&asked.map(String::from)[..]));
}

/// Issue 13: as above, but the confirming pass fails at /b after /a
/// passed: keepalived names /a, goes on from /b (a retry delay later),
/// with no new clearing pass, and names /b once it passes, then the
/// server. The lines are the same as above; the paths asked show the
/// failed /b and the pass going on from it.
#[tokio::test]
async fn http_get_goes_on_from_the_url_a_confirming_pass_failed() {
    let (rs, lines, paths) = two_urls_come_back("+++--++-").await;
    assert_eq!(lines, back_after_b(&rs));
    let asked = ["/a", "/b", "/a", "/b", "/b", "/b", "/a", "/b", "/b"];
    assert_eq!(paths.get(..asked.len()), Some(&asked.map(String::from)[..]));
}
