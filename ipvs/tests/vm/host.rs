//! Host side: boot the VM, collect the verdicts printed by the guest.

use std::path::PathBuf;
use std::process::Command;

/// Number of checks the guest runs; the host fails if fewer reported ok.
pub const EXPECTED_CHECKS: usize = super::guest::CHECKS.len();

pub fn run() {
    verdict_rejects_incomplete_runs();
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
    let verdict = verdict(&console);
    assert!(
        out.status.success() && verdict.is_ok(),
        "IPVS VM tests did not pass: run-vm status {:?}, {verdict:?}\n--- stderr:\n{stderr}\n--- console tail:\n{}",
        out.status.code(),
        console.lines().rev().take(40).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
    );
    println!("vm_kernel: {EXPECTED_CHECKS}/{EXPECTED_CHECKS} kernel checks passed in the VM");
}

/// Passes only when the console shows every check of [`super::guest::CHECKS`]
/// passing and the guest's closing summary line (proof that it ran to the
/// end) with the full count and no failure.
pub fn verdict(console: &str) -> Result<(), String> {
    let lines: Vec<&str> = console.lines().map(str::trim_end).collect();
    let failed: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("VMTEST FAIL"))
        .collect();
    if !failed.is_empty() {
        return Err(format!("failures: {failed:#?}"));
    }
    let missing: Vec<&str> = super::guest::CHECKS
        .iter()
        .map(|c| c.0)
        .filter(|name| {
            !lines
                .iter()
                .any(|l| l.strip_prefix("VMTEST ok ") == Some(name))
        })
        .collect();
    if !missing.is_empty() {
        return Err(format!("checks that did not report ok: {missing:?}"));
    }
    let summary = format!("VMTEST summary: {EXPECTED_CHECKS} checks, 0 failed");
    if !lines.contains(&summary.as_str()) {
        return Err(format!("no final line {summary:?} from the guest"));
    }
    Ok(())
}

/// The verdict itself, checked before booting: a console without the
/// summary, or with a check missing, must fail.
fn verdict_rejects_incomplete_runs() {
    let oks: String = super::guest::CHECKS
        .iter()
        .map(|c| format!("VMTEST ok {}\n", c.0))
        .collect();
    let full = format!("{oks}VMTEST summary: {EXPECTED_CHECKS} checks, 0 failed\n");
    assert_eq!(verdict(&full), Ok(()));
    assert!(verdict("").is_err());
    assert!(verdict(&oks).is_err(), "no summary line");
    let one_missing = full.split_once('\n').map_or("", |(_, rest)| rest);
    assert!(verdict(one_missing).is_err(), "a check missing");
    let one_failed = format!("{full}VMTEST FAIL x: y\n");
    assert!(verdict(&one_failed).is_err(), "a failure");
}
