//! SSL_GET with keepalived's `SSL` block ([`TlsFiles`]) against a real
//! `openssl s_server -Verify 1` on loopback, which requires a client
//! certificate signed by its CA (needs openssl from Debian: `ext_` tests
//! fail if it is missing). As keepalived 2.2.7 did in the IPVS VM:
//! up with the block's certificate and key, down without them or with a
//! certificate of another CA, up whatever `ca` holds (keepalived never
//! verifies the server), and a file that does not load is an error.
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use healthcheck::checkers::{HttpChecker, TlsFile, TlsFiles, TlsOptions, UrlCheck};
use healthcheck::{CheckContext, CheckOutcome, Checker, DownReason};
use test_support::*;

/// The server and the files the client side may use.
struct Bench {
    _server: ProcGuard,
    addr: SocketAddr,
    dir: TempDir,
    /// The client certificate and key the server's CA signed.
    cert: PathBuf,
    key: PathBuf,
    /// Its CA (the server's own certificate has another one).
    client_ca: PathBuf,
}

fn bench() -> Bench {
    let openssl = require("openssl");
    let dir = TempDir::new("sslblock");
    let ip = unique_ip();
    let addr = SocketAddr::new(ip, high_port());
    let (_, srv, srv_key) = make_certs(&dir, "srv", &["srv.test"], ip);
    let (client_ca, cert, key) = make_certs(&dir, "cli", &["client.test"], ip);
    let mut server = ProcGuard::spawn(
        "openssl s_server",
        Command::new(openssl)
            // -verify_return_error: also refuse a certificate its CA
            // did not sign (s_server only logs that otherwise).
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
    wait_tcp(addr, &mut server);
    Bench {
        _server: server,
        addr,
        dir,
        cert,
        key,
        client_ca,
    }
}

async fn outcome(tls: TlsOptions, addr: SocketAddr) -> CheckOutcome {
    // keepalived's SSL_GET sends no SNI without enable_sni.
    let c = HttpChecker::ssl(vec![UrlCheck::new("/")], tls.without_sni());
    c.check(&CheckContext::new(addr, Duration::from_secs(5)))
        .await
}

fn files(cert: &Path, key: &Path, ca: Option<&PathBuf>) -> TlsFiles {
    TlsFiles {
        certificate: Some(cert.to_path_buf()),
        key: Some(key.to_path_buf()),
        ca: ca.cloned(),
        password: None,
    }
}

/// `key` encrypted with the pass phrase `secret` by `openssl ARGS`, as
/// `name` in `dir`.
fn encrypt(dir: &TempDir, key: &Path, name: &str, args: &[&str]) -> PathBuf {
    let out = dir.path(name);
    run(Command::new(require("openssl"))
        .args(args)
        .args(["-passout", "pass:secret", "-in"])
        .arg(key)
        .arg("-out")
        .arg(&out));
    out
}

#[tokio::test]
async fn ext_ssl_get_presents_the_ssl_blocks_client_certificate() {
    let b = bench();
    // `ca` is loaded only: the client's CA did not sign the server's
    // certificate, and the check is up.
    let with = files(&b.cert, &b.key, Some(&b.client_ca)).load().unwrap();
    assert!(!with.verifies());
    assert_eq!(outcome(with, b.addr).await, CheckOutcome::Up);

    // Without the block, or with a certificate but no key (OpenSSL then
    // sends no certificate), the server refuses the handshake.
    // (TLS 1.3: the server's alert arrives after the client's handshake,
    // as a read error.)
    let none = TlsOptions::unverified().unwrap();
    let without = outcome(none, b.addr).await;
    let refused = CheckOutcome::UrlDown {
        url: 0,
        reason: DownReason::Io(std::io::ErrorKind::InvalidData),
    };
    assert_eq!(without, refused);
    let cert_only = TlsFiles {
        certificate: Some(b.cert.clone()),
        ..TlsFiles::default()
    };
    let cert_only = outcome(cert_only.load().unwrap(), b.addr).await;
    assert_eq!(cert_only, refused);

    // An encrypted key with the block's password, in each form OpenSSL
    // writes (keepalived 2.2.7 was up with PKCS#8 and legacy keys too).
    for (name, args) in [
        ("pkcs8.key", &["pkcs8", "-topk8"][..]),
        ("scrypt.key", &["pkcs8", "-topk8", "-scrypt"]),
        ("aes128.key", &["ec", "-aes128"]),
        ("aes256.key", &["ec", "-aes256"]),
        ("des3.key", &["ec", "-des3"]),
    ] {
        let key = encrypt(&b.dir, &b.key, name, args);
        let f = TlsFiles {
            password: Some("secret".into()),
            ..files(&b.cert, &key, None)
        };
        let tls = f.load().unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(outcome(tls, b.addr).await, CheckOutcome::Up, "{name}");
    }

    // An X.509 v1 certificate (`openssl x509 -req` without extensions),
    // which OpenSSL presents as any other.
    let v1 = b.dir.path("cli-v1.pem");
    run(Command::new(require("openssl"))
        .args(["x509", "-req", "-days", "2", "-CAcreateserial", "-in"])
        .arg(b.dir.path("cli.csr"))
        .arg("-CA")
        .arg(&b.client_ca)
        .arg("-CAkey")
        .arg(b.dir.path("cli-ca.key"))
        .arg("-out")
        .arg(&v1));
    let tls = files(&v1, &b.key, None).load().unwrap();
    assert_eq!(outcome(tls, b.addr).await, CheckOutcome::Up);

    // A certificate the server's CA did not sign.
    let (_, cert, key) = make_certs(&b.dir, "stranger", &["stranger.test"], b.addr.ip());
    let stranger = outcome(files(&cert, &key, None).load().unwrap(), b.addr).await;
    assert_eq!(stranger, refused);
}

#[test]
fn ext_ssl_block_files_that_do_not_load_name_the_file() {
    let dir = TempDir::new("sslblock-bad");
    let ip = unique_ip();
    let (ca, cert, key) = make_certs(&dir, "a", &["a.test"], ip);
    let (_, _, other_key) = make_certs(&dir, "b", &["b.test"], ip);
    let missing = dir.path("missing.pem");
    let encrypted = encrypt(&dir, &key, "pkcs8.key", &["pkcs8", "-topk8"]);
    let legacy = encrypt(&dir, &key, "legacy.key", &["ec", "-aes256"]);
    let wrong = |key: &Path| TlsFiles {
        password: Some("wrong".into()),
        ..files(&cert, key, None)
    };
    let cases = [
        (files(&missing, &key, None), TlsFile::Certificate, &missing),
        // A key file is not a certificate.
        (files(&key, &key, None), TlsFile::Certificate, &key),
        (files(&cert, &missing, None), TlsFile::Key, &missing),
        // keepalived's OpenSSL refuses a key that is not the
        // certificate's, and an encrypted key without its pass phrase or
        // with a wrong one.
        (files(&cert, &other_key, None), TlsFile::Key, &other_key),
        (files(&cert, &encrypted, None), TlsFile::Key, &encrypted),
        (files(&cert, &legacy, None), TlsFile::Key, &legacy),
        (wrong(&encrypted), TlsFile::Key, &encrypted),
        (wrong(&legacy), TlsFile::Key, &legacy),
        (files(&cert, &key, Some(&missing)), TlsFile::Ca, &missing),
        (files(&cert, &key, Some(&key)), TlsFile::Ca, &key),
        // In keepalived's order: the key fails before the CA is read.
        (
            files(&cert, &other_key, Some(&missing)),
            TlsFile::Key,
            &other_key,
        ),
    ];
    for (f, file, path) in cases {
        let e = f.load().expect_err(&format!("{f:?} must not load"));
        assert_eq!((e.file, &e.path), (file, &path.display().to_string()));
    }
    assert!(files(&cert, &key, Some(&ca)).load().is_ok());
}

/// keepalived's OpenSSL takes an X.509 v1 server certificate (what
/// `openssl x509 -req` makes without extensions); so does SSL_GET, over
/// TLS 1.3 and TLS 1.2, the handshake signature still checked.
#[tokio::test]
async fn ext_ssl_get_takes_an_x509_v1_server_certificate() {
    let openssl = require("openssl");
    let dir = TempDir::new("sslblock-v1");
    let ip = unique_ip();
    let (ca, _, key) = make_certs(&dir, "srv", &["srv.test"], ip);
    let v1 = dir.path("srv-v1.pem");
    run(Command::new(&openssl)
        .args(["x509", "-req", "-days", "2", "-CAcreateserial", "-in"])
        .arg(dir.path("srv.csr"))
        .arg("-CA")
        .arg(&ca)
        .arg("-CAkey")
        .arg(dir.path("srv-ca.key"))
        .arg("-out")
        .arg(&v1));
    for version in ["-tls1_3", "-tls1_2"] {
        let addr = SocketAddr::new(ip, high_port());
        let mut server = ProcGuard::spawn(
            "openssl s_server",
            Command::new(&openssl)
                .args(["s_server", "-www", version, "-accept"])
                .arg(addr.to_string())
                .arg("-cert")
                .arg(&v1)
                .arg("-key")
                .arg(&key),
        );
        wait_tcp(addr, &mut server);
        let tls = TlsOptions::unverified().unwrap();
        assert_eq!(outcome(tls, addr).await, CheckOutcome::Up, "{version}");
    }
}
