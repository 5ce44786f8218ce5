//! Our digest against keepalived's `genhash` (Debian package `keepalived`)
//! on the same nginx pages, including pages larger than 64 KiB, HTTP/1.1,
//! virtual hosts and TLS. Needs nginx, openssl and keepalived's genhash.
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

use healthcheck::checkers::{fetch, HttpVersion, TlsOptions};
use healthcheck::digest::to_hex;
use healthcheck::{CheckContext, HashKind};
use test_support::*;

/// Pages by size: empty, small, around 64 KiB, and well beyond.
const PAGES: &[(&str, usize)] = &[
    ("empty.html", 0),
    ("small.html", 19),
    ("k64m1.bin", 65_535),
    ("k64.bin", 65_536),
    ("k64p1.bin", 65_537),
    ("k200.bin", 200_000),
    ("m1.bin", 1_048_576 + 7),
];

fn keepalived_genhash(args: &[&str]) -> String {
    let g = require("genhash");
    let out = Command::new(g).args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test]
async fn ext_keepalived_genhash_same_digest_as_ours() {
    let dir = TempDir::new("genhash");
    std::fs::create_dir_all(dir.path("www")).unwrap();
    std::fs::create_dir_all(dir.path("vh")).unwrap();
    for (i, (name, size)) in PAGES.iter().enumerate() {
        std::fs::write(dir.path("www").join(name), bytes(*size, i as u64 + 1)).unwrap();
    }
    std::fs::write(dir.path("vh/small.html"), "virtual host page\n").unwrap();
    let ip = unique_ip();
    let http = SocketAddr::new(ip, high_port());
    let https = SocketAddr::new(ip, high_port() + 1);
    let (_, crt, key) = make_certs(&dir, "gh", &["gh.test"], ip);
    let d = dir.0.display().to_string();
    let servers = format!(
        "server {{ listen {http} default_server; root {d}/www; }}\n\
         server {{ listen {http}; server_name vh.test; root {d}/vh; }}\n\
         server {{ listen {https} ssl; ssl_certificate {}; ssl_certificate_key {}; root {d}/www; }}\n",
        crt.display(),
        key.display()
    );
    let _nginx = Nginx::start(dir, &servers, http);
    let (ips, port, sport) = (
        ip.to_string(),
        http.port().to_string(),
        https.port().to_string(),
    );
    let ctx = CheckContext::new(http, Duration::from_secs(10));
    let sctx = CheckContext::new(https, Duration::from_secs(10));
    let tls = TlsOptions::unverified().unwrap();

    let mut cases: Vec<(String, Option<&str>, HttpVersion, bool)> = PAGES
        .iter()
        .map(|(n, _)| (format!("/{n}"), None, HttpVersion::V1_0, false))
        .collect();
    cases.push(("/missing".into(), None, HttpVersion::V1_0, false));
    cases.push((
        "/small.html".into(),
        Some("vh.test"),
        HttpVersion::V1_0,
        false,
    ));
    cases.push(("/k200.bin".into(), None, HttpVersion::V1_1, false));
    cases.push(("/k200.bin".into(), None, HttpVersion::V1_0Close, false));
    cases.push(("/m1.bin".into(), None, HttpVersion::V1_0, true));
    cases.push(("/small.html".into(), None, HttpVersion::V1_1, true));

    for (path, vhost, version, ssl) in cases {
        let mut args = vec![
            "-s",
            &ips,
            "-p",
            if ssl { &sport } else { &port },
            "-u",
            &path,
        ];
        if ssl {
            args.push("-S");
        }
        if let Some(v) = vhost {
            args.extend(["-V", v]);
        }
        match version {
            HttpVersion::V1_1 => args.extend(["-P", "1.1"]),
            HttpVersion::V1_0Close => args.extend(["-P", "1.0c"]),
            _ => {}
        }
        let theirs = keepalived_genhash(&args);
        let (c, t) = if ssl {
            (&sctx, Some(&tls))
        } else {
            (&ctx, None)
        };
        let ours = fetch(c, &path, vhost, version, t, HashKind::Md5)
            .await
            .unwrap();
        assert_eq!(to_hex(&ours.digest), theirs, "{args:?}");
        assert_eq!(theirs.len(), 32, "genhash printed a digest for {args:?}");
    }
}
