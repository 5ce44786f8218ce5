//! `config_save_dir` against keepalived 2.2.7 (needs root and Debian's
//! keepalived). The same configuration (includes relative, nested and by
//! wildcard, a missing include, `$` parameters, comments, a conditional
//! line) runs under keepalived, then under keepalived-lite, in one
//! namespace with the same paths; each gets a SIGHUP after a file was
//! added to the wildcard include.
//!
//! Shown: both save the same file names (PIDs normalised): the processed
//! copy `keepalived.conf.PID.0` at start, `.1` at the reload, and
//! `keepalived_vrrp.PID.1.pre`/`.post`; the copies are byte-identical;
//! keepalived-lite's `.pre` holds the DATA dump of the instances before
//! the reload and `.post` of those after. And `-t`: the directory is
//! created, or refused with keepalived's words and exit code, the same.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use keepalived_lite::netns::{require_program, require_root, wait_for_line, Lab};
use test_support::process::TempDir;

const LITE: &str = env!("CARGO_BIN_EXE_keepalived-lite");
const KEEPALIVED: &str = "/usr/sbin/keepalived";
const DEADLINE: Duration = Duration::from_secs(30);

/// The main file; `DIR` is the scratch directory.
const MAIN: &str = "# top comment
! bang comment
$IFACE=eth0
$PRIO=150
global_defs {
   router_id   lab1   # trailing comment
   config_save_dir DIR/save/
}

include sub/inst.conf
include DIR/inc/*.conf
include missing.conf
@nohost $FOO=1
@^nohost $BAR=2
";

const INST: &str = "vrrp_instance VI_1 {
\tstate MASTER
    interface $IFACE
\tvirtual_router_id 51
\tpriority ${PRIO}
\tadvert_int 1
\tvirtual_ipaddress {
\t\t10.9.0.100/24   ! vip
\t}
\tinclude ../inc2/x.conf
}
";

fn instance(name: &str, vrid: u8) -> String {
    format!(
        "vrrp_instance {name} {{\n  interface eth0 # c\n  virtual_router_id {vrid}\n  \
         priority 100\n  virtual_ipaddress {{\n    10.9.0.{vrid}/24\n  }}\n}}\n"
    )
}

/// Writes the layout into `dir`; the file `inc/c.conf` comes later.
fn layout(dir: &Path) -> PathBuf {
    let d = dir.display().to_string();
    for sub in ["sub", "inc", "inc2"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    std::fs::write(dir.join("sub/inst.conf"), INST).unwrap();
    std::fs::write(dir.join("inc2/x.conf"), "\tadvert_int 1\n").unwrap();
    std::fs::write(dir.join("inc/a.conf"), instance("VI_2", 52)).unwrap();
    std::fs::write(dir.join("inc/b.conf"), "\n# only a comment\n").unwrap();
    let main = dir.join("keepalived.conf");
    std::fs::write(&main, MAIN.replace("DIR", &d)).unwrap();
    main
}

/// The files in `dir` by name with every PID replaced by `PID`.
fn saved(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let mut parts: Vec<&str> = name.split('.').collect();
        let pid_at = if name.starts_with("keepalived.conf") {
            2
        } else {
            1
        };
        if let Some(p) = parts.get_mut(pid_at) {
            *p = "PID";
        }
        let text = std::fs::read_to_string(e.path()).unwrap();
        out.insert(parts.join("."), text);
    }
    out
}

fn wait_for_file(dir: &Path, suffix: &str) -> bool {
    let start = Instant::now();
    while start.elapsed() < DEADLINE {
        let found = std::fs::read_dir(dir).ok().is_some_and(|mut r| {
            r.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().ends_with(suffix)))
        });
        if found {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

/// Runs `program` on a fresh layout in `lab`'s node, reloads it once
/// after adding `inc/c.conf`, and returns the saved files.
fn run(lab: &mut Lab, program: &str, scratch: &Path) -> BTreeMap<String, String> {
    let _ = std::fs::remove_dir_all(scratch);
    std::fs::create_dir_all(scratch).unwrap();
    let main = layout(scratch);
    let save = scratch.join("save");
    let log = scratch.join("log");
    let pid = if program == LITE {
        lab.spawn_lite_daemon("n", program, &main, scratch, &log)
    } else {
        lab.spawn_vrrp_daemon("n", program, &main, scratch, &log)
    }
    .unwrap();
    let ready = wait_for_line(&log, "(VI_1) Entering MASTER STATE", DEADLINE);
    assert!(
        ready.is_some(),
        "{program} did not start; see {}",
        log.display()
    );
    assert!(wait_for_file(&save, ".0"), "{program}: no copy at start");
    std::fs::write(scratch.join("inc/c.conf"), instance("VI_3", 53)).unwrap();
    lab.signal(pid, "HUP").unwrap();
    assert!(wait_for_file(&save, ".post"), "{program}: no .post");
    lab.stop(pid, Duration::from_secs(5));
    saved(&save)
}

#[test]
fn config_save_dir_saves_what_keepalived_saves() {
    require_root();
    require_program(KEEPALIVED, &["--version"]);
    let mut lab = Lab::new().unwrap();
    lab.add_node("n", Ipv4Addr::new(10, 9, 0, 1), 24).unwrap();
    let tmp = TempDir::new("confsave");
    let scratch = tmp.path("run");
    let k = run(&mut lab, KEEPALIVED, &scratch);
    let l = run(&mut lab, LITE, &scratch);
    let names = [
        "keepalived.conf.PID.0",
        "keepalived.conf.PID.1",
        "keepalived_vrrp.PID.1.post",
        "keepalived_vrrp.PID.1.pre",
    ];
    assert_eq!(k.keys().collect::<Vec<_>>(), names);
    assert_eq!(l.keys().collect::<Vec<_>>(), names);
    for copy in &names[..2] {
        assert_eq!(l[*copy], k[*copy], "{copy} differs");
    }
    // What the copy holds, written out once.
    let d = scratch.display();
    let start = k["keepalived.conf.PID.0"].as_str();
    assert!(start.starts_with(&format!(
        "# {d}/keepalived.conf\n\n\n$IFACE=eth0\n$PRIO=150\nglobal_defs {{\nrouter_id   lab1\n"
    )));
    assert!(start.contains("\n\n# sub/inst.conf\nvrrp_instance VI_1 {\n"));
    assert!(start.contains("10.9.0.100/24\n}\n\n# ../inc2/x.conf\nadvert_int 1\n!\n}\n!\n"));
    assert!(start.contains(&format!(
        "!\n# {d}/inc/b.conf\n\n\n!\n\n#! Config files missing"
    )));
    assert!(start.ends_with("@nohost $FOO=1\n@^nohost $BAR=2\n!\n"));
    assert!(!start.contains("VI_3"));
    assert!(k["keepalived.conf.PID.1"].contains("vrrp_instance VI_3 {"));
    // keepalived-lite's dumps: the DATA dump before and after.
    let (pre, post) = (
        &l["keepalived_vrrp.PID.1.pre"],
        &l["keepalived_vrrp.PID.1.post"],
    );
    for dump in [pre, post] {
        assert!(
            dump.starts_with("------< Global definitions >------\n"),
            "{dump}"
        );
        assert!(dump.contains("\n------< VRRP Topology >------\n VRRP Instance = VI_1\n"));
        assert!(dump.contains(" VRRP Instance = VI_2\n"));
    }
    assert!(!pre.contains("VI_3"), "{pre}");
    assert!(post.contains(" VRRP Instance = VI_3\n"), "{post}");
}

/// `keepalived -t` and `keepalived-lite -t`: exit code, the words of the
/// complaint, the directory created (with the copy in it) or not.
#[test]
fn t_checks_and_creates_the_directory_as_keepalived() {
    require_program(KEEPALIVED, &["--version"]);
    let tmp = TempDir::new("confsave-t");
    let base = tmp.0.clone();
    std::fs::write(base.join("file"), "").unwrap();
    let conf = base.join("t.conf");
    let cases = [
        ("new", 0, ""),
        (
            "file",
            5,
            "config_save_dir BASE/file exists and is not a directory",
        ),
        (
            "file/x",
            5,
            "config_save_dir BASE/file/x error 20 - Not a directory",
        ),
        (
            "no/deeper",
            5,
            "Unable to create config_save_dir BASE/no/deeper (error 2 - No such file or directory)",
        ),
    ];
    let b = base.display().to_string();
    for (dir, want, words) in cases {
        let words = words.replace("BASE", &b);
        let mut copies = Vec::new();
        for program in [KEEPALIVED, LITE] {
            let _ = std::fs::remove_dir_all(base.join("new"));
            let text = format!("global_defs {{\n  config_save_dir {b}/{dir}\n}}\n");
            std::fs::write(&conf, text).unwrap();
            let out = Command::new(program)
                .arg("-t")
                .arg("-f")
                .arg(&conf)
                .output()
                .unwrap();
            let said = String::from_utf8_lossy(&out.stderr).into_owned()
                + &String::from_utf8_lossy(&out.stdout);
            assert_eq!(out.status.code(), Some(want), "{program} {dir}: {said}");
            assert!(said.contains(&words), "{program} {dir}: {said}");
            if dir == "new" {
                copies.push(saved(&base.join("new")));
            }
        }
        if let [k, l] = &copies[..] {
            assert_eq!(k.keys().collect::<Vec<_>>(), ["keepalived.conf.PID.0"]);
            assert_eq!(k, l);
        }
    }
}

/// `-t` saves the copy too: with each problem an include can have (a
/// directory named and matched, an executable file, a brace alternative
/// missing, a wildcard matching nothing with and without `includew`, a
/// missing directory, escaped braces) and comments, quotes, a bare
/// `include` and a continued definition, both copies are byte-identical.
#[test]
fn t_saves_the_same_copy_with_every_include_problem() {
    require_program(KEEPALIVED, &["--version"]);
    let tmp = TempDir::new("confsave-inc");
    let base = tmp.0.clone();
    std::fs::create_dir_all(base.join("d/sub")).unwrap();
    std::fs::create_dir_all(base.join("empty")).unwrap();
    std::fs::write(base.join("d/a.conf"), "# a\n").unwrap();
    let exe = base.join("exe.conf");
    std::fs::write(&exe, "x\n").unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let b = base.display();
    let text = format!(
        "global_defs {{\n  config_save_dir {b}/save\n}}\ninclude d\ninclude d/*\n\
         include exe.conf\ninclude d/{{a,c}}.conf\nincludew empty/*.conf\ninclude empty/*.conf\n\
         include nodir/*.conf\ninclude d/\\{{a,b\\}}.conf\n  # indented comment\ninclude\n\
         \t\"quoted # not\" # comment\n$X=1 \\\n  2\n"
    );
    let conf = base.join("t.conf");
    std::fs::write(&conf, text).unwrap();
    let mut copies = Vec::new();
    for program in [KEEPALIVED, LITE] {
        let _ = std::fs::remove_dir_all(base.join("save"));
        let out = Command::new(program)
            .arg("-t")
            .arg("-f")
            .arg(&conf)
            .output();
        // includew's wildcard matching nothing is an include failure.
        assert_eq!(out.unwrap().status.code(), Some(6), "{program}");
        copies.push(saved(&base.join("save")));
    }
    assert_eq!(
        copies[0].keys().collect::<Vec<_>>(),
        ["keepalived.conf.PID.0"]
    );
    assert_eq!(copies[0], copies[1]);
    let copy = &copies[0]["keepalived.conf.PID.0"];
    for line in [
        "#! Configuration file 'd/sub/' is a directory - skipping\n",
        "#! Configuration file 'exe.conf' is not a regular non-executable file - skipping\n",
        "#! Some config files missing: \"d/{a,c}.conf\".\n",
        "#! No config files matched 'empty/*.conf'.\n",
        "#! Config files missing 'nodir/*.conf'.\n",
        "\ninclude\n\"quoted # not\"\n$X=1\\\n2\n!\n",
    ] {
        assert!(copy.contains(line), "{line} not in {copy}");
    }
}
