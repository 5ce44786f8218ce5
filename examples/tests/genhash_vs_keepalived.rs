//! Our `genhash` binary against keepalived's (Debian package `keepalived`)
//! on the same nginx pages, byte for byte on stdout, including pages
//! larger than 64 KiB. Needs nginx and keepalived's genhash.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::net::SocketAddr;
use std::process::Command;

use test_support::*;

fn stdout_of(program: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn ext_genhash_prints_what_keepalived_genhash_prints() {
    let theirs = require("genhash");
    let ours = std::path::PathBuf::from(env!("CARGO_BIN_EXE_genhash"));
    let dir = TempDir::new("genhash-bin");
    std::fs::create_dir_all(dir.path("www")).unwrap();
    let pages = [
        ("a.html", 5usize),
        ("k64.bin", 65_536),
        ("k300.bin", 300_001),
    ];
    for (i, (name, size)) in pages.iter().enumerate() {
        std::fs::write(dir.path("www").join(name), bytes(*size, 40 + i as u64)).unwrap();
    }
    let http = SocketAddr::new(unique_ip(), high_port());
    let servers = format!(
        "server {{ listen {http}; root {}/www; }}\n",
        dir.0.display()
    );
    let _nginx = Nginx::start(dir, &servers, http);
    let (ip, port) = (http.ip().to_string(), http.port().to_string());
    for path in ["/a.html", "/k64.bin", "/k300.bin", "/missing"] {
        for extra in [&[][..], &["-P", "1.1"][..], &["-V", "x.test"][..]] {
            let mut args = vec!["-s", &ip, "-p", &port, "-u", path];
            args.extend_from_slice(extra);
            let (a, b) = (stdout_of(&ours, &args), stdout_of(&theirs, &args));
            assert_eq!(a, b, "{args:?}");
            assert_eq!(a.len(), 33, "one digest line for {args:?}");
        }
    }
}
