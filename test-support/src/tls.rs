//! A test CA and a server certificate, made with the openssl CLI.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Command;

use crate::process::{require, run, TempDir};

/// A test CA and a server certificate it signed for `names` (DNS) and
/// `ip`, written into `dir` with file names starting with `tag`. Returns
/// (ca.pem, server.pem, server.key). Panics if openssl fails.
pub fn make_certs(
    dir: &TempDir,
    tag: &str,
    names: &[&str],
    ip: IpAddr,
) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = require("openssl");
    let ca_key = dir.path(&format!("{tag}-ca.key"));
    let ca = dir.path(&format!("{tag}-ca.pem"));
    let key = dir.path(&format!("{tag}.key"));
    let csr = dir.path(&format!("{tag}.csr"));
    let crt = dir.path(&format!("{tag}.pem"));
    let ext = dir.path(&format!("{tag}.ext"));
    let mut san: Vec<String> = names.iter().map(|n| format!("DNS:{n}")).collect();
    san.push(format!("IP:{ip}"));
    std::fs::write(&ext, format!("subjectAltName={}\n", san.join(","))).expect("write ext");
    run(Command::new(&openssl)
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "2",
            "-subj",
            &format!("/CN={tag} test CA"),
            "-keyout",
        ])
        .arg(&ca_key)
        .arg("-out")
        .arg(&ca));
    run(Command::new(&openssl)
        .args([
            "req",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            &format!("/CN={}", names.first().unwrap_or(&"server")),
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&csr));
    run(Command::new(&openssl)
        .args(["x509", "-req", "-days", "2", "-in"])
        .arg(&csr)
        .arg("-CA")
        .arg(&ca)
        .arg("-CAkey")
        .arg(&ca_key)
        .arg("-CAcreateserial")
        .arg("-extfile")
        .arg(&ext)
        .arg("-out")
        .arg(&crt));
    (ca, crt, key)
}
