//! keepalived-lite's checker with the top-level `SSL` block (issue 13),
//! against a real `openssl s_server -Verify 1` on loopback that wants a
//! client certificate its CA signed: the configuration is converted and
//! its checks run as the daemon runs them (no IPVS needed: the table is
//! not applied). keepalived 2.2.7, run in the IPVS VM against the same
//! kind of server, was up with the block's certificate and (encrypted)
//! key and down without them; a key file that does not load stops its checker with
//! the lines checked below.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use healthcheck::Event;
use keepalived_lite::lvs_mode::daemon;
use keepalived_lite::lvs_mode::table::Bridge;
use test_support::*;
use tokio::sync::mpsc;

/// The server, and the client certificate, key and CA it accepts.
struct Server {
    _guard: ProcGuard,
    addr: SocketAddr,
    dir: TempDir,
}

fn server() -> Server {
    let dir = TempDir::new("kl-sslblock");
    let ip = unique_ip();
    let addr = SocketAddr::new(ip, high_port());
    let (_, srv, srv_key) = make_certs(&dir, "srv", &["srv.test"], ip);
    let (client_ca, _, key) = make_certs(&dir, "cli", &["client.test"], ip);
    // The block's key is encrypted with its password.
    run(Command::new(require("openssl"))
        .args(["pkcs8", "-topk8", "-passout", "pass:secret", "-in"])
        .arg(&key)
        .arg("-out")
        .arg(dir.path("cli-enc.key")));
    let mut guard = ProcGuard::spawn(
        "openssl s_server",
        Command::new(require("openssl"))
            .args(["s_server", "-www", "-Verify", "1", "-verify_return_error"])
            .arg("-accept")
            .arg(addr.to_string())
            .arg("-cert")
            .arg(&srv)
            .arg("-key")
            .arg(&srv_key)
            .arg("-CAfile")
            .arg(&client_ca),
    );
    wait_tcp(addr, &mut guard);
    Server {
        _guard: guard,
        addr,
        dir,
    }
}

/// `dir`'s client files as an `SSL` block, with the key's password.
fn ssl_block(dir: &Path) -> String {
    let f = |n: &str| dir.join(n).display().to_string();
    format!(
        "SSL {{\n  password secret\n  ca {}\n  certificate {}\n  key {}\n}}\n",
        f("cli-ca.pem"),
        f("cli.pem"),
        f("cli-enc.key")
    )
}

/// One SSL_GET real server at `addr`; `alpha`: it starts down.
fn virtual_server(addr: SocketAddr, alpha: bool) -> String {
    let alpha = if alpha { "  alpha\n" } else { "" };
    format!(
        "virtual_server 10.0.0.1 443 {{\n  protocol TCP\n  delay_loop 1\n{alpha}  \
         real_server {} {} {{\n    SSL_GET {{\n      url {{\n        path /\n      }}\n      \
         connect_timeout 3\n      retry 0\n    }}\n  }}\n}}\n",
        addr.ip(),
        addr.port()
    )
}

/// Runs the checks of `conf` as the daemon does until the bridge logs
/// `line`, or a generous deadline passes; returns every line logged.
async fn run_until(conf: &str, line: &str) -> Vec<String> {
    let parsed = vrrp_conf::parse_str("k.conf", conf, &vrrp_conf::Options::default());
    let halves = vrrp_conf::convert::Halves::keepalived(&parsed.config, false, true);
    let out = vrrp_conf::convert::convert(&parsed, halves);
    assert!(!out.is_refused(), "{:?}", out.diagnostics);
    let (driver, mut bridge): (_, Bridge) = daemon::build(out.lvs.unwrap()).unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(driver.run(tx, async {
        let _ = stopped.await;
    }));
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut lines = Vec::new();
    while !lines.iter().any(|l| l == line) && Instant::now() < deadline {
        let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(1), rx.recv()).await else {
            continue;
        };
        lines.extend(bridge.handle(&ev));
    }
    let _ = stop.send(());
    task.await.unwrap();
    lines
}

#[tokio::test]
async fn ext_ssl_block_client_certificate_brings_ssl_get_up() {
    let s = server();
    let rs = format!("[{}]:tcp:{}", s.addr.ip(), s.addr.port());
    let up = format!("Remote Web server {rs} succeed on service.");
    let conf = ssl_block(&s.dir.0) + &virtual_server(s.addr, true);
    let lines = run_until(&conf, &up).await;
    assert!(lines.contains(&up), "{lines:?}");

    // Without the block SSL_GET presents no certificate: down.
    let down = format!("Removing service {rs} from VS [10.0.0.1]:tcp:443");
    let lines = run_until(&virtual_server(s.addr, false), &down).await;
    assert!(lines.contains(&down), "{lines:?}");
}

/// A netns of its own, so that the daemon's files and sockets are its
/// own; deleted on drop.
struct Netns(String);

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

#[test]
fn root_netns_ssl_block_key_that_does_not_load_stops_the_checker() {
    let dir = TempDir::new("kl-sslblock-bad");
    let (_, cert, _) = make_certs(&dir, "cli", &["client.test"], unique_ip());
    let key = dir.path("missing.key");
    let conf = dir.path("k.conf");
    let block = format!(
        "SSL {{\n  certificate {}\n  key {}\n}}\n",
        cert.display(),
        key.display()
    );
    let addr: SocketAddr = "127.0.0.1:8443".parse().unwrap();
    std::fs::write(&conf, block + &virtual_server(addr, false)).unwrap();
    let ns = Netns(format!("kl-sslblock-{}", std::process::id()));
    let added = Command::new("ip").args(["netns", "add", &ns.0]).status();
    assert!(added.unwrap().success(), "ip netns add (needs root)");
    let out = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns.0,
            env!("CARGO_BIN_EXE_keepalived-lite"),
        ])
        .args(["-C", "-n", "-l", "-f"])
        .arg(&conf)
        .arg("--control-socket")
        .arg(dir.path("ctl.sock"))
        .arg("-p")
        .arg(dir.path("k.pid"))
        .arg("-c")
        .arg(dir.path("c.pid"))
        .arg("-r")
        .arg(dir.path("v.pid"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let said: Vec<&str> = err
        .lines()
        .filter_map(|l| l.split_once(" INFO ").or(l.split_once(" ERROR ")))
        .map(|(_, m)| m)
        .skip_while(|m| !m.starts_with("SSL error"))
        .collect();
    let key = key.display();
    assert_eq!(
        said,
        [
            "SSL error : Cant load key file...".to_string(),
            "Error Initialize SSL, ctx Instance".to_string(),
            format!("  SSL  keyfile:{key}"),
            "  SSL password:(null)".to_string(),
            "  SSL   cafile:(null)".to_string(),
            "Terminate...".to_string(),
            format!(
                "cannot set up TLS for SSL_GET: SSL key {key}: No such file or directory (os error 2)"
            ),
        ]
    );
}
