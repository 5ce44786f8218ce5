//! HTTP_GET and SSL_GET against a real nginx on loopback (needs nginx and
//! openssl from Debian: `ext_` tests fail if they are missing).
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::SocketAddr;
use std::time::Duration;

use healthcheck::checkers::{fetch, HttpChecker, HttpVersion, StatusCodes, TlsOptions, UrlCheck};
use healthcheck::{CheckContext, CheckOutcome, Checker, DownReason, HashKind, TlsFailure};
use test_support::*;

struct Site {
    nginx: Nginx,
    http: SocketAddr,
    https: SocketAddr,
    ca: Vec<u8>,
    small_md5: String,
}

fn site() -> Site {
    let dir = TempDir::new("nginx");
    let ip = unique_ip();
    let http = SocketAddr::new(ip, high_port());
    let https = SocketAddr::new(ip, high_port() + 1);
    for (host, body) in [
        ("www", "default site\n"),
        ("a", "site a\n"),
        ("b", "site b\n"),
    ] {
        std::fs::create_dir_all(dir.path(host)).unwrap();
        std::fs::write(dir.path(host).join("index.html"), body).unwrap();
    }
    std::fs::write(dir.path("www/small.html"), "<html>hello</html>\n").unwrap();
    let (ca, crt, key) = make_certs(&dir, "a", &["a.test"], ip);
    let (_, crt_b, key_b) = make_certs(&dir, "b", &["b.test"], ip);
    let d = dir.0.display().to_string();
    let servers = format!(
        "server {{ listen {http} default_server; root {d}/www; }}\n\
         server {{ listen {http}; server_name a.test; root {d}/a; }}\n\
         server {{ listen {https} ssl default_server; ssl_certificate {crt}; ssl_certificate_key {key}; root {d}/a; }}\n\
         server {{ listen {https} ssl; server_name b.test; ssl_certificate {crtb}; ssl_certificate_key {keyb}; root {d}/b; }}\n",
        crt = crt.display(),
        key = key.display(),
        crtb = crt_b.display(),
        keyb = key_b.display(),
    );
    let small_md5 = md5_hex_of_file(&dir.path("www/small.html"));
    let ca = std::fs::read(&ca).unwrap();
    // The b.test certificate comes from another CA: trust both.
    let mut ca_all = ca.clone();
    ca_all.extend(std::fs::read(dir.path("b-ca.pem")).unwrap());
    Site {
        nginx: Nginx::start(dir, &servers, http),
        http,
        https,
        ca: ca_all,
        small_md5,
    }
}

fn ctx(addr: SocketAddr) -> CheckContext {
    CheckContext::new(addr, Duration::from_secs(5))
}

fn url(path: &str, digest: Option<&str>) -> UrlCheck {
    let mut u = UrlCheck::new(path);
    u.digest = digest.map(unhex);
    u
}

/// A failure at url `url` of the checker's list.
fn at(url: usize, reason: DownReason) -> CheckOutcome {
    CheckOutcome::UrlDown { url, reason }
}

async fn outcome(c: &HttpChecker, addr: SocketAddr) -> CheckOutcome {
    c.check(&ctx(addr)).await
}

#[tokio::test]
async fn ext_nginx_http_get_up_down_timeout_recovery() {
    let mut s = site();
    let good = HttpChecker::http(vec![url("/small.html", Some(&s.small_md5)), url("/", None)]);
    assert_eq!(outcome(&good, s.http).await, CheckOutcome::Up);

    // Wrong digest, wrong status, accepted non-2xx status.
    let bad_digest = HttpChecker::http(vec![url(
        "/small.html",
        Some("00112233445566778899aabbccddeeff"),
    )]);
    assert_eq!(
        outcome(&bad_digest, s.http).await,
        at(0, DownReason::DigestMismatch)
    );
    let missing = HttpChecker::http(vec![url("/small.html", None), url("/missing", None)]);
    assert_eq!(
        outcome(&missing, s.http).await,
        at(1, DownReason::HttpStatus(404))
    );
    let mut accept_404 = url("/missing", None);
    accept_404.status = StatusCodes::parse("200 400-404").unwrap();
    assert_eq!(
        outcome(&HttpChecker::http(vec![accept_404]), s.http).await,
        CheckOutcome::Up
    );

    // Server down: refused. Back: up again.
    s.nginx.guard.stop();
    assert_eq!(outcome(&good, s.http).await, at(0, DownReason::Refused));
    s.nginx.restart();
    assert_eq!(outcome(&good, s.http).await, CheckOutcome::Up);

    // A server that accepts and never answers: timeout.
    let silent = tokio::net::TcpListener::bind(SocketAddr::new(unique_ip(), high_port()))
        .await
        .unwrap();
    let silent_addr = silent.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut conns = Vec::new();
        while let Ok((c, _)) = silent.accept().await {
            conns.push(c);
        }
    });
    let short = CheckContext::new(silent_addr, Duration::from_millis(300));
    assert_eq!(
        good.check(&short).await,
        at(0, DownReason::ReadTimeout { started: false })
    );
    hold.abort();
}

#[tokio::test]
async fn ext_nginx_http_virtualhost_and_protocols() {
    let s = site();
    let site_a = md5_hex_of_file(&s.nginx.dir.path("a/index.html"));
    let mut c = HttpChecker::http(vec![url("/", Some(&site_a))]);
    // Without the virtual host nginx serves the default site.
    assert_eq!(outcome(&c, s.http).await, at(0, DownReason::DigestMismatch));
    c.virtualhost = Some("a.test".into());
    for v in [HttpVersion::V1_0, HttpVersion::V1_0Close, HttpVersion::V1_1] {
        c.version = v;
        assert_eq!(outcome(&c, s.http).await, CheckOutcome::Up, "{v:?}");
    }
    // A per-url virtualhost overrides the checker's.
    let mut u = url("/", Some(&site_a));
    u.virtualhost = Some("a.test".into());
    let mut c2 = HttpChecker::http(vec![u]);
    c2.virtualhost = Some("other.test".into());
    assert_eq!(outcome(&c2, s.http).await, CheckOutcome::Up);
    // SHA-1 digests are available too.
    let r = fetch(
        &ctx(s.http),
        "/small.html",
        None,
        HttpVersion::V1_0,
        None,
        HashKind::Sha1,
    )
    .await
    .unwrap();
    assert_eq!(r.digest.len(), 20);
}

#[tokio::test]
async fn ext_nginx_ssl_get_verification() {
    let s = site();
    let a_md5 = md5_hex_of_file(&s.nginx.dir.path("a/index.html"));
    let b_md5 = md5_hex_of_file(&s.nginx.dir.path("b/index.html"));
    let trusted = TlsOptions::from_pem(&s.ca).unwrap();

    // Verified against our CA, by IP address (the certificate has the IP).
    let c = HttpChecker::ssl(vec![url("/", Some(&a_md5))], trusted.clone());
    assert_eq!(outcome(&c, s.https).await, CheckOutcome::Up);

    // Verification is on by default: the Mozilla roots do not know our CA.
    let strict = HttpChecker::ssl(vec![url("/", None)], TlsOptions::verified(&[]).unwrap());
    assert_eq!(
        outcome(&strict, s.https).await,
        at(0, DownReason::Tls(TlsFailure::UnknownIssuer))
    );

    // A name the certificate does not carry.
    let wrong = HttpChecker::ssl(
        vec![url("/", None)],
        trusted.clone().with_server_name("wrong.test"),
    );
    assert_eq!(
        outcome(&wrong, s.https).await,
        at(0, DownReason::Tls(TlsFailure::NameMismatch))
    );

    // The switch: no verification.
    let lax = HttpChecker::ssl(
        vec![url("/", Some(&a_md5))],
        TlsOptions::unverified().unwrap(),
    );
    assert_eq!(outcome(&lax, s.https).await, CheckOutcome::Up);

    // SNI: nginx picks the b.test certificate and site only if SNI says so.
    let mut sni = HttpChecker::ssl(
        vec![url("/", Some(&b_md5))],
        trusted.with_server_name("b.test"),
    );
    sni.virtualhost = Some("b.test".into());
    assert_eq!(outcome(&sni, s.https).await, CheckOutcome::Up);

    // Plain HTTP against the TLS port is not a TLS success.
    let plain = HttpChecker::http(vec![url("/", None)]);
    assert_eq!(
        outcome(&plain, s.https).await,
        at(0, DownReason::HttpStatus(400))
    );
}

#[tokio::test]
async fn ext_nginx_ssl_get_down_and_recovery() {
    let mut s = site();
    let c = HttpChecker::ssl(vec![url("/", None)], TlsOptions::from_pem(&s.ca).unwrap());
    assert_eq!(outcome(&c, s.https).await, CheckOutcome::Up);
    s.nginx.guard.stop();
    assert_eq!(outcome(&c, s.https).await, at(0, DownReason::Refused));
    s.nginx.restart();
    assert_eq!(outcome(&c, s.https).await, CheckOutcome::Up);
    // A TCP server that is not TLS at all: a handshake failure, typed.
    let l = tokio::net::TcpListener::bind(SocketAddr::new(unique_ip(), high_port()))
        .await
        .unwrap();
    let addr = l.local_addr().unwrap();
    let srv = tokio::spawn(async move {
        use tokio::io::AsyncWriteExt;
        if let Ok((mut c, _)) = l.accept().await {
            let _ = c.write_all(b"HTTP/1.0 200 OK\r\n\r\nnot tls").await;
        }
    });
    assert!(matches!(
        c.check(&ctx(addr)).await,
        CheckOutcome::UrlDown {
            url: 0,
            reason: DownReason::Tls(_)
        }
    ));
    srv.abort();
}
