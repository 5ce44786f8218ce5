//! Host side: boot the VM, collect the verdicts printed by the guest.

use std::path::PathBuf;
use std::process::Command;

/// Number of checks the guest runs; the host fails if fewer reported ok.
pub const EXPECTED_CHECKS: usize = super::guest::CHECKS.len();

pub fn run() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let script = manifest.join("vm/run-vm.sh");
    let exe = std::env::current_exe().expect("own path");
    let guest = std::env::temp_dir().join(format!("ipvs-vm-guest-{}.sh", std::process::id()));
    std::fs::write(&guest, "IPVS_VM_GUEST=1 /bin/vm_kernel\n").expect("write guest script");
    println!("vm_kernel: booting the IPVS test VM (qemu/TCG) ...");
    let out = Command::new(&script)
        .arg("--timeout")
        .arg("900")
        .arg("--file")
        .arg(format!("{}:/bin/vm_kernel", exe.display()))
        .arg(&guest)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let _ = std::fs::remove_file(&guest);
    let console = String::from_utf8_lossy(&out.stdout).replace('\r', "");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in console
        .lines()
        .filter(|l| l.starts_with("VMTEST") || l.starts_with("IPVS-VM"))
    {
        println!("{line}");
    }
    let vectors: Vec<&str> = console
        .lines()
        .filter(|l| l.starts_with("VMVEC "))
        .collect();
    if !vectors.is_empty() {
        let dir = manifest.join("../target/ipvs-vm/vectors");
        let _ = std::fs::create_dir_all(&dir);
        for v in vectors {
            let mut parts = v.splitn(3, ' ');
            let (_, name, hex) = (
                parts.next(),
                parts.next().unwrap_or("x"),
                parts.next().unwrap_or(""),
            );
            let _ = std::fs::write(dir.join(format!("{name}.hex")), hex);
        }
    }
    let ok = console
        .lines()
        .filter(|l| l.starts_with("VMTEST ok "))
        .count();
    let failed: Vec<&str> = console
        .lines()
        .filter(|l| l.starts_with("VMTEST FAIL"))
        .collect();
    assert!(
        out.status.success() && failed.is_empty() && ok == EXPECTED_CHECKS,
        "IPVS VM tests did not pass: run-vm status {:?}, {ok}/{EXPECTED_CHECKS} ok, failures: {failed:#?}\n--- stderr:\n{stderr}\n--- console tail:\n{}",
        out.status.code(),
        console.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    println!("vm_kernel: {ok}/{EXPECTED_CHECKS} kernel checks passed in the VM");
}
