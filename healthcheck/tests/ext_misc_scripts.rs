//! MISC_CHECK with real scripts: exit codes, dynamic weights, a script
//! that hangs, and one whose forked child hangs (both must be killed).
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use healthcheck::checkers::MiscChecker;
use healthcheck::{CheckContext, CheckOutcome, Checker, DownReason};
use test_support::*;

/// The script is written by `cp`, not by this process: a test thread that
/// forks while this process holds a file open for writing passes that
/// descriptor to its child until the child's exec, and running the file
/// meanwhile fails with ETXTBSY ("Text file busy").
fn script(dir: &TempDir, name: &str, body: &str) -> PathBuf {
    let p = dir.path(name);
    let src = dir.path(&format!("{name}.src"));
    std::fs::write(&src, format!("#!/bin/sh\n{body}\n")).unwrap();
    let cp = std::process::Command::new("cp").arg(&src).arg(&p).status();
    assert!(cp.unwrap().success(), "cp {src:?} {p:?}");
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    p
}

fn ctx(ms: u64) -> CheckContext {
    // The address is unused by MISC_CHECK.
    CheckContext::new("127.0.0.1:0".parse().unwrap(), Duration::from_millis(ms))
}

async fn run(cmd: &str, ms: u64) -> CheckOutcome {
    MiscChecker::new(cmd).check(&ctx(ms)).await
}

/// Alive and not a zombie.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit(')')
            .next()
            .unwrap_or("")
            .trim_start()
            .starts_with('Z'),
        Err(_) => false,
    }
}

/// Whether `pid` is gone (or a zombie) within 10 s: SIGKILL is delivered
/// asynchronously, so right after `killpg` returns the process may still run.
/// The bound is a hang guard, not a timing assertion.
fn dies(pid: i32) -> bool {
    for _ in 0..1000 {
        if !alive(pid) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    false
}

fn read_pid(p: &Path) -> i32 {
    std::fs::read_to_string(p).unwrap().trim().parse().unwrap()
}

#[tokio::test]
async fn ext_misc_exit_codes_and_dynamic_weight() {
    let d = TempDir::new("misc");
    let ok = script(&d, "ok.sh", "exit 0");
    let fail = script(&d, "fail.sh", "exit 1");
    let seven = script(&d, "seven.sh", "exit 7");
    let args = script(&d, "args.sh", r#"[ "$1" = "a b" ] && [ "$2" = c ]"#);
    assert_eq!(run(ok.to_str().unwrap(), 5000).await, CheckOutcome::Up);
    assert_eq!(
        run(fail.to_str().unwrap(), 5000).await,
        CheckOutcome::Down(DownReason::ScriptExit(1))
    );
    // Without misc_dynamic any non-zero code is down...
    assert_eq!(
        run(seven.to_str().unwrap(), 5000).await,
        CheckOutcome::Down(DownReason::ScriptExit(7))
    );
    // ...with it, 2..=255 is up with weight code - 2; 1 is still down.
    let dynamic = |p: &Path| MiscChecker::new(p.to_str().unwrap()).dynamic();
    assert_eq!(
        dynamic(&seven).check(&ctx(5000)).await,
        CheckOutcome::UpWithWeight(5)
    );
    assert_eq!(
        dynamic(&fail).check(&ctx(5000)).await,
        CheckOutcome::Down(DownReason::ScriptExit(1))
    );
    assert_eq!(dynamic(&ok).check(&ctx(5000)).await, CheckOutcome::Up);
    // Words with quotes reach the program without a shell.
    assert_eq!(
        run(&format!("{} 'a b' c", args.display()), 5000).await,
        CheckOutcome::Up
    );
    // Shell syntax goes through /bin/sh.
    assert_eq!(run("echo hi | grep -q hi", 5000).await, CheckOutcome::Up);
    assert_eq!(
        run("false; exit 3", 5000).await,
        CheckOutcome::Down(DownReason::ScriptExit(3))
    );
    // A missing program cannot start.
    assert_eq!(
        run("/nonexistent/check", 5000).await,
        CheckOutcome::Down(DownReason::ScriptSpawn(std::io::ErrorKind::NotFound))
    );
    // A signal is reported as such.
    let killer = script(&d, "selfkill.sh", "kill -TERM $$");
    assert_eq!(
        run(killer.to_str().unwrap(), 5000).await,
        CheckOutcome::Down(DownReason::ScriptSignal(15))
    );
}

#[tokio::test]
async fn ext_misc_hanging_script_and_its_child_are_killed() {
    let d = TempDir::new("misc-hang");
    let pidfile = d.path("script.pid");
    let hang = script(
        &d,
        "hang.sh",
        &format!("echo $$ > {}\nexec sleep 1000", pidfile.display()),
    );
    assert_eq!(
        run(hang.to_str().unwrap(), 1500).await,
        CheckOutcome::Down(DownReason::Timeout)
    );
    assert!(dies(read_pid(&pidfile)), "the hanging script was killed");

    let childfile = d.path("child.pid");
    let forks = script(
        &d,
        "forks.sh",
        &format!("sleep 1000 &\necho $! > {}\nwait", childfile.display()),
    );
    assert_eq!(
        run(forks.to_str().unwrap(), 1500).await,
        CheckOutcome::Down(DownReason::Timeout)
    );
    let child = read_pid(&childfile);
    assert!(
        dies(child),
        "the forked child {child} was killed with the group"
    );
}

#[tokio::test]
async fn ext_root_misc_recovery_and_user() {
    let d = TempDir::new("misc-rec");
    let flag = d.path("healthy");
    let s = script(&d, "flag.sh", &format!("test -e {}", flag.display()));
    let cmd = s.to_str().unwrap();
    assert_eq!(
        run(cmd, 5000).await,
        CheckOutcome::Down(DownReason::ScriptExit(1))
    );
    std::fs::write(&flag, "").unwrap();
    assert_eq!(run(cmd, 5000).await, CheckOutcome::Up);

    // Runs as another user (needs root, as keepalived does).
    assert!(
        nix::unistd::Uid::effective().is_root(),
        "this test runs as root"
    );
    let uid = script(&d, "uid.sh", r#"[ "$(id -u)" = 65534 ]"#);
    let as_nobody = MiscChecker::new(uid.to_str().unwrap()).as_user("nobody");
    assert_eq!(as_nobody.check(&ctx(5000)).await, CheckOutcome::Up);
    let unknown = MiscChecker::new(cmd).as_user("no-such-user-hc");
    assert_eq!(
        unknown.check(&ctx(5000)).await,
        CheckOutcome::Down(DownReason::Config("unknown user"))
    );
}
