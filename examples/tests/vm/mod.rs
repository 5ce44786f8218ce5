//! The IPVS VM for keepalived-lite's tests: a work directory with a
//! stripped copy of the binary, and one boot of `ipvs/vm/run-vm.sh`.
#![allow(dead_code)] // each test file uses its part

use std::path::{Path, PathBuf};
use std::process::Command;

/// Removes the temporary directory even when the test fails.
pub(crate) struct TempDir(pub(crate) PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A fresh work directory named after `tag` and this process, holding a
/// stripped copy of keepalived-lite (a small initramfs boots faster);
/// without strip (binutils) the full binary goes in: slower, same test.
pub(crate) fn work_dir(tag: &str) -> (TempDir, PathBuf) {
    let dir = TempDir(std::env::temp_dir().join(format!("{tag}-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let bin = dir.0.join("keepalived-lite");
    std::fs::copy(env!("CARGO_BIN_EXE_keepalived-lite"), &bin).unwrap();
    if !matches!(Command::new("strip").arg(&bin).status(), Ok(s) if s.success()) {
        eprintln!("strip failed: copying the unstripped binary");
    }
    (dir, bin)
}

/// Boots the VM with `files` (host path, guest path), run-vm.sh's `opts`
/// and a timeout in seconds, and runs `guest` with `args`; returns the
/// console, failing unless the guest script exited 0.
pub(crate) fn boot(
    opts: &[String],
    files: &[(PathBuf, &str)],
    guest: &Path,
    args: &[&str],
    timeout: u32,
) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut cmd = Command::new(root.join("ipvs/vm/run-vm.sh"));
    cmd.arg("--timeout").arg(timeout.to_string()).args(opts);
    for (src, dst) in files {
        cmd.arg("--file").arg(format!("{}:{dst}", src.display()));
    }
    let out = cmd
        .arg(guest)
        .args(args)
        .output()
        .expect("cannot run ipvs/vm/run-vm.sh");
    let console = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    println!("{console}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        out.status.success(),
        "the VM test failed (status {:?}); console above",
        out.status.code()
    );
    console
}
