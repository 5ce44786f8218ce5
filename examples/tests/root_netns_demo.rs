//! The README's run command, `keepalived-lite demo`, end to end (needs root
//! and iproute2): every step happens in order, the demo exits 0, and its
//! lab (namespaces named after its pid) is gone afterwards.
#![allow(clippy::unwrap_used)] // a test stops at the first unexpected value

use std::process::{Command, Stdio};

use keepalived_lite::netns::require_root;

/// Lines the demo prints, in this order, when every step went as expected.
const STEPS: [&str; 8] = [
    "== starting: the highest priority becomes master",
    "  r1(150) MASTER  +10.0.0.100 | r2(120) BACKUP  | r3(100) BACKUP ",
    "== crashing r1 (SIGKILL): r2 takes over",
    "r2 holds 10.0.0.100 ",
    "== restarting r1: it preempts back",
    "r1 is master again ",
    "== stopping r1 gracefully (SIGTERM)",
    "lab removed",
];

fn namespaces() -> String {
    let out = Command::new("ip").args(["netns", "list"]).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn root_netns_demo_runs_every_step_and_removes_its_lab() {
    require_root();
    let child = Command::new(env!("CARGO_BIN_EXE_keepalived-lite"))
        .arg("demo")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed: {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rest = stdout.as_ref();
    for step in STEPS {
        let at = rest
            .find(step)
            .unwrap_or_else(|| panic!("missing or out of order: {step:?}\n{stdout}"));
        rest = &rest[at + step.len()..];
    }
    let prefix = format!("kl{pid}x");
    let left: Vec<String> = namespaces()
        .lines()
        .filter(|l| l.starts_with(&prefix))
        .map(str::to_owned)
        .collect();
    assert_eq!(left, Vec::<String>::new(), "namespaces left behind");
}
