//! keepalived's process-level settings, as keepalived 2.2.7's parent
//! process reads them before it forks: the top-level `net_namespace`,
//! `instance` and `use_pid_dir`, and `global_defs`' `umask` and
//! `data_use_instance`.
//!
//! - `net_namespace NAME`: the daemon runs in `/run/netns/NAME` (`-s`
//!   overrides it) and its pid files go to `/run/keepalived/NAME/`;
//! - `instance NAME`: pid files `/run/keepalived/keepalived_NAME.pid`, ...;
//! - `use_pid_dir` (implied by either): pid files in `/run/keepalived/`;
//! - `umask MASK` (numeric, or `IRUSR|IWGRP ...`): the file creation mask,
//!   unless `-u` is given;
//! - `data_use_instance`: the dump files are named after the namespace and
//!   instance (`/tmp/keepalived.NS_NAME.data`);
//! - `startup_script` / `shutdown_script` (`"CMD ARGS" [USER [GROUP]]`,
//!   checked as notify scripts are) with their `_timeout`s (1-1000 s,
//!   default 10): run once before the daemon starts its work and once
//!   after it stopped;
//! - `reload_check_config [FILE]`: a reload first runs `-t` on the new
//!   file, its report to FILE (default `/dev/null`), and is abandoned if
//!   that fails;
//! - `reload_file [FILE]`: FILE (default `/run/keepalived.reload`, in the
//!   pid directory if one is used, named after the instance) exists while
//!   a reload reads the configuration; a stale one is removed at start-up;
//! - `reload_time_file FILE` \[reload_repeat\]: FILE holds a time
//!   (`HH:MM:SS`, `YY-MM-DD HH:MM:SS` or `YYYY-MM-DD HH:MM:SS`, local, or
//!   UTC with a trailing `Z`) at which the daemon reloads itself; the file
//!   is removed then, unless `reload_repeat` is set and it holds only a
//!   time of day (then the reload repeats daily);
//! - `fifo_write_vrrp_states_on_reload`: after a reload, the state of
//!   every sync group and of every instance not master is written again
//!   to the VRRP notify FIFOs (keepalived's `vrrp_init_state`);
//! - `random_seed N` (0 to 2^32-1) is checked, then accepted without
//!   effect: keepalived 2.2.7 forgets the seed before every read of the
//!   configuration (`init_data`) and seeds `$_RANDOM` from the time, so
//!   the value changes nothing it does (seen: two runs with `random_seed
//!   1` expanded `R${_RANDOM}` to R30587 and R21564).
//!
//! A missing or bad value is an error, as keepalived's `-t` reports it.

use std::time::Duration;

use crate::diagnostics::{Code, Diagnostic};
use crate::model::{Setting, Words};
use crate::Parsed;

/// Top-level keywords this module consumes.
pub(crate) const ROOT_USED: &[&str] = &["net_namespace", "instance", "use_pid_dir"];

/// `global_defs` keywords this module consumes.
pub(crate) const GLOBAL_USED: &[&str] = &[
    "umask",
    "data_use_instance",
    "startup_script",
    "startup_script_timeout",
    "shutdown_script",
    "shutdown_script_timeout",
    "reload_check_config",
    "reload_file",
    "reload_time_file",
    "reload_repeat",
    "fifo_write_vrrp_states_on_reload",
    "random_seed",
    "include_check",
    "config_save_dir",
];

/// keepalived's timeout of the startup and shutdown scripts.
const DEFAULT_SCRIPT_TIMEOUT: Duration = Duration::from_secs(10);

/// A `startup_script` or `shutdown_script`.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StartStop {
    /// The command line, then `USER [GROUP]` once the conversion made the
    /// user explicit (nothing: this process runs it), as a notify line.
    pub words: Words,
    /// After this, the script's process group is killed.
    pub timeout: Duration,
}

/// The process-level settings of a configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Process {
    /// `net_namespace NAME`.
    pub net_namespace: Option<String>,
    /// `instance NAME`.
    pub instance: Option<String>,
    /// Pid files in `/run/keepalived/`: `use_pid_dir`, or implied by an
    /// `instance` or a `net_namespace`.
    pub use_pid_dir: bool,
    /// `global_defs { umask MASK }`: the permission bits to mask.
    pub umask: Option<u32>,
    /// `global_defs { data_use_instance [true|false] }`.
    pub data_use_instance: bool,
    /// `startup_script`, if set and allowed to run.
    pub startup: Option<StartStop>,
    /// `shutdown_script`, if set and allowed to run.
    pub shutdown: Option<StartStop>,
    /// `reload_check_config`: where the check of a new file reports.
    pub reload_check_config: Option<String>,
    /// `reload_file`, with keepalived's default name resolved.
    pub reload_file: Option<String>,
    /// `reload_time_file`.
    pub reload_time_file: Option<String>,
    /// `reload_repeat`.
    pub reload_repeat: bool,
    /// `fifo_write_vrrp_states_on_reload`.
    pub fifo_states_on_reload: bool,
    /// `config_save_dir DIR`, as written: where keepalived saves its
    /// processed copy of the configuration and, at each reload, its
    /// state dumps (keepalived checks and creates it as it reads the line;
    /// the file names drop one trailing slash).
    pub config_save_dir: Option<String>,
}

impl Process {
    /// The settings of `p`; keepalived's complaints go to `out` as errors.
    pub fn of(p: &Parsed, out: &mut Vec<Diagnostic>) -> Process {
        let mut s = Process::default();
        for set in &p.config.other {
            match set.keyword.as_str() {
                "net_namespace" => s.net_namespace = name(set, s.net_namespace.take(), out),
                "instance" => s.instance = name(set, s.instance.take(), out),
                "use_pid_dir" => s.use_pid_dir = true,
                _ => {}
            }
        }
        s.use_pid_dir |= s.net_namespace.is_some() || s.instance.is_some();
        let mut timeouts = [None, None];
        for set in &p.config.global_defs.other {
            match set.keyword.as_str() {
                "reload_check_config" => {
                    let log = set.args.first().map_or("/dev/null", String::as_str);
                    s.reload_check_config = Some(log.to_owned());
                }
                "reload_time_file" => match &set.args[..] {
                    [f] => s.reload_time_file = Some(f.clone()),
                    _ => out.push(error(set, "reload_time_file invalid".into())),
                },
                "reload_repeat" => s.reload_repeat = true,
                "config_save_dir" => match set.args.first() {
                    Some(dir) => s.config_save_dir = Some(dir.clone()),
                    None => out.push(error(
                        set,
                        "*** Configuration line starting `config_save_dir` is missing a parameter \
                         after keyword `config_save_dir` at word position 2"
                            .into(),
                    )),
                },
                "fifo_write_vrrp_states_on_reload" => s.fifo_states_on_reload = true,
                "random_seed" => random_seed(set, out),
                "include_check" => include_check(set, out),
                "reload_file" => {
                    s.reload_file = Some(set.args.first().cloned().unwrap_or_default())
                }
                "startup_script" => script(set, "startup", &mut s.startup, out),
                "shutdown_script" => script(set, "shutdown", &mut s.shutdown, out),
                "startup_script_timeout" => timeout(set, "startup", &mut timeouts[0], out),
                "shutdown_script_timeout" => timeout(set, "shutdown", &mut timeouts[1], out),
                "umask" => match umask(&set.args) {
                    Ok(m) => s.umask = Some(m),
                    Err(msg) => out.push(error(set, msg)),
                },
                "data_use_instance" => match set.args.first().map(|w| true_false(w)) {
                    None => s.data_use_instance = true,
                    Some(Some(b)) => s.data_use_instance = b,
                    Some(None) => out.push(error(
                        set,
                        format!(
                            "Invalid value '{}' for global date_use_instance specified",
                            set.args[0]
                        ),
                    )),
                },
                _ => {}
            }
        }
        if s.reload_file.as_deref() == Some("") {
            s.reload_file = Some(match (&s.instance, s.use_pid_dir) {
                (Some(i), _) => format!("/run/keepalived/keepalived_{i}.reload"),
                (None, true) => "/run/keepalived/keepalived.reload".into(),
                (None, false) => "/run/keepalived.reload".into(),
            });
        }
        for (script, t) in [&mut s.startup, &mut s.shutdown].into_iter().zip(timeouts) {
            if let (Some(script), Some(t)) = (script, t) {
                script.timeout = t;
            }
        }
        s
    }

    /// The suffix keepalived puts before a dump file's extension with
    /// `data_use_instance` (`NS`, `NAME` or `NS_NAME`); none without it.
    pub fn data_suffix(&self) -> Option<String> {
        if !self.data_use_instance {
            return None;
        }
        match (&self.net_namespace, &self.instance) {
            (None, None) => None,
            (Some(n), None) => Some(n.clone()),
            (None, Some(i)) => Some(i.clone()),
            (Some(n), Some(i)) => Some(format!("{n}_{i}")),
        }
    }
}

/// A `net_namespace`/`instance` name: the first one written counts.
fn name(set: &Setting, old: Option<String>, out: &mut Vec<Diagnostic>) -> Option<String> {
    let k = &set.keyword;
    match (old, set.args.first()) {
        (old, None) => {
            out.push(error(set, format!("{k} name missing - ignoring")));
            old
        }
        (Some(old), Some(new)) => {
            let what = if k == "net_namespace" { k } else { "instance" };
            out.push(error(
                set,
                format!("Duplicate {what} definition {new} - ignoring"),
            ));
            Some(old)
        }
        (None, Some(new)) => Some(new.clone()),
    }
}

/// `include_check [[+|-]read|match|wildcard_match|brace_match ...]`: the
/// preprocessor applies it when it reads the line (see
/// `preprocess::include`); here the words keepalived ignores are errors,
/// as its `-t` reports them.
fn include_check(set: &Setting, out: &mut Vec<Diagnostic>) {
    for (i, w) in set.args.iter().enumerate() {
        let name = match w.strip_prefix(['+', '-']) {
            Some(name) => name,
            None if i == 0 => w,
            None => {
                out.push(error(
                    set,
                    format!("include_check: second plain word '{w}' ignored"),
                ));
                continue;
            }
        };
        if crate::preprocess::check_name(name).is_none() {
            out.push(error(
                set,
                format!("include_check: unknown check '{name}' ignored"),
            ));
        }
    }
}

/// `random_seed`: checked as keepalived reads it, then noted: keepalived
/// 2.2.7 forgets the value before it could seed anything (see above).
fn random_seed(set: &Setting, out: &mut Vec<Diagnostic>) {
    let w = set.args.first().map_or("", String::as_str);
    if !w.bytes().all(|b| b.is_ascii_digit()) || w.parse::<u32>().is_err() {
        out.push(error(set, format!("random_seed {w} invalid")));
        return;
    }
    let msg = "random_seed is accepted without effect: keepalived 2.2.7 resets \
               the seed before it reads the configuration";
    out.push(Diagnostic::warning(Code::NoEffect, set.span, msg));
}

/// `startup_script` / `shutdown_script`: the first one written counts.
fn script(set: &Setting, kind: &str, slot: &mut Option<StartStop>, out: &mut Vec<Diagnostic>) {
    if slot.is_some() {
        out.push(error(set, format!("{kind} script already specified")));
    } else if set.args.is_empty() {
        out.push(error(set, format!("{kind} script missing")));
    } else {
        *slot = Some(StartStop {
            words: set.args.clone(),
            timeout: DEFAULT_SCRIPT_TIMEOUT,
        });
    }
}

/// `startup_script_timeout` / `shutdown_script_timeout`: 1 to 1000 s.
fn timeout(set: &Setting, kind: &str, slot: &mut Option<Duration>, out: &mut Vec<Diagnostic>) {
    let Some(w) = set.args.first() else {
        out.push(error(set, format!("{kind}_script_timeout requires value")));
        return;
    };
    match w.parse::<u64>() {
        Ok(n @ 1..=1000) => *slot = Some(Duration::from_secs(n)),
        _ => out.push(error(
            set,
            format!("{kind}_script_timeout '{w}' must be in [1, 1000] - ignoring"),
        )),
    }
}

fn error(set: &Setting, msg: String) -> Diagnostic {
    Diagnostic::error(Code::InvalidValue, set.span, msg)
}

/// keepalived's `true`/`false` words (case matters).
fn true_false(w: &str) -> Option<bool> {
    match w {
        "true" | "on" | "yes" => Some(true),
        "false" | "off" | "no" => Some(false),
        _ => None,
    }
}

/// The symbolic names keepalived's `umask` accepts, with their bits.
const UMASK_BITS: [(&str, u32); 9] = [
    ("IRUSR", 0o400),
    ("IWUSR", 0o200),
    ("IXUSR", 0o100),
    ("IRGRP", 0o040),
    ("IWGRP", 0o020),
    ("IXGRP", 0o010),
    ("IROTH", 0o004),
    ("IWOTH", 0o002),
    ("IXOTH", 0o001),
];

/// keepalived's `umask` value: one number (C's base rules: `0` octal,
/// `0x` hex) within 0777, or symbolic names joined by `|`, possibly spread
/// over several words (`IWGRP | IWOTH`).
pub fn umask(args: &[String]) -> Result<u32, String> {
    let Some(first) = args.first() else {
        return Err("Missing parameter(s) to umask option".into());
    };
    if first.starts_with(|c: char| c.is_ascii_digit()) {
        if args.len() != 1 {
            return Err("Extra parameter(s) to umask option".into());
        }
        return c_number(first)
            .filter(|m| m & !0o777 == 0)
            .ok_or_else(|| format!("invalid umask value {first}"));
    }
    let mut bits = 0;
    let mut need_or = false;
    for w in args {
        let mut rest = w.as_str();
        while !rest.is_empty() {
            if need_or {
                rest = rest
                    .strip_prefix('|')
                    .ok_or_else(|| format!("Invalid umask syntax {w}"))?;
                need_or = false;
                continue;
            }
            let (_, bit) = UMASK_BITS
                .iter()
                .find(|(n, _)| rest.starts_with(n))
                .ok_or_else(|| format!("Unknown umask bit {rest}"))?;
            bits |= bit;
            rest = &rest[5..];
            need_or = true;
        }
    }
    if !need_or {
        return Err("umask missing bit value".into());
    }
    Ok(bits)
}

/// A number as C's `strtol(s, _, 0)` reads the whole of `s`.
fn c_number(s: &str) -> Option<u32> {
    if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok()
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8).ok()
    } else {
        s.parse().ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn words(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    fn of(text: &str) -> (Process, Vec<String>) {
        let p = crate::parse_str("k.conf", text, &Default::default());
        let mut out = Vec::new();
        let s = Process::of(&p, &mut out);
        let msgs = out.iter().map(|d| d.display(&p.sources).to_string());
        (s, msgs.collect())
    }

    #[test]
    fn umask_reads_numbers_and_names_as_keepalived() {
        assert_eq!(umask(&words("022")), Ok(0o22));
        assert_eq!(umask(&words("0x3f")), Ok(0o77));
        assert_eq!(umask(&words("18")), Ok(0o22));
        assert_eq!(umask(&words("0")), Ok(0));
        assert_eq!(umask(&words("IWGRP|IWOTH")), Ok(0o22));
        assert_eq!(umask(&words("IWGRP | IWOTH IXOTH")).ok(), None);
        assert_eq!(umask(&words("IRWXU")).ok(), None);
        assert_eq!(umask(&words("IRGRP |IROTH")), Ok(0o44));
        assert_eq!(umask(&words("0777")), Ok(0o777));
        assert_eq!(
            umask(&words("01000")),
            Err("invalid umask value 01000".into())
        );
        assert_eq!(umask(&words("08")), Err("invalid umask value 08".into()));
        assert_eq!(
            umask(&words("022 033")),
            Err("Extra parameter(s) to umask option".into())
        );
        assert_eq!(
            umask(&words("IWGRP|")),
            Err("umask missing bit value".into())
        );
    }

    #[test]
    fn root_names_imply_the_pid_dir_and_the_first_counts() {
        let (s, errs) = of("net_namespace blue\ninstance web\ninstance other\n");
        assert_eq!(s.net_namespace.as_deref(), Some("blue"));
        assert_eq!(s.instance.as_deref(), Some("web"));
        assert!(s.use_pid_dir);
        assert_eq!(
            errs,
            ["k.conf:3:1: error: Duplicate instance definition other - ignoring"]
        );
        let (s, errs) = of("use_pid_dir\n");
        assert_eq!((s.use_pid_dir, s.instance, errs.len()), (true, None, 0));
        let (s, _) = of("global_defs {\n  router_id x\n}\n");
        assert_eq!(s, Process::default());
    }

    #[test]
    fn globals_umask_and_data_use_instance() {
        let text = "instance web\nnet_namespace blue\nglobal_defs {\n  umask 027\n  data_use_instance\n}\n";
        let (s, errs) = of(text);
        assert_eq!((s.umask, s.data_use_instance), (Some(0o27), true));
        assert_eq!(s.data_suffix().as_deref(), Some("blue_web"));
        assert!(errs.is_empty(), "{errs:?}");
        let (s, errs) = of("global_defs {\n  umask 9x\n  data_use_instance maybe\n}\n");
        assert_eq!((s.umask, s.data_use_instance), (None, false));
        assert_eq!(
            errs,
            [
                "k.conf:2:3: error: invalid umask value 9x",
                "k.conf:3:3: error: Invalid value 'maybe' for global date_use_instance specified"
            ]
        );
        let (s, _) = of("global_defs {\n  data_use_instance\n}\n");
        assert_eq!(s.data_suffix(), None, "nothing to name the files after");
    }

    #[test]
    fn reload_check_and_reload_file_take_keepalived_s_defaults() {
        let (s, _) = of("global_defs {\n  reload_check_config\n  reload_file\n}\n");
        assert_eq!(s.reload_check_config.as_deref(), Some("/dev/null"));
        assert_eq!(s.reload_file.as_deref(), Some("/run/keepalived.reload"));
        let (s, _) = of("instance web\nglobal_defs {\n  reload_file\n}\n");
        let want = "/run/keepalived/keepalived_web.reload";
        assert_eq!(s.reload_file.as_deref(), Some(want));
        let (s, _) = of("use_pid_dir\nglobal_defs {\n  reload_file\n}\n");
        let want = "/run/keepalived/keepalived.reload";
        assert_eq!(s.reload_file.as_deref(), Some(want));
        let text = "global_defs {\n  reload_check_config /x/check.log\n  reload_file /x/r\n}\n";
        let (s, _) = of(text);
        assert_eq!(s.reload_check_config.as_deref(), Some("/x/check.log"));
        assert_eq!(s.reload_file.as_deref(), Some("/x/r"));
        let text = "global_defs {\n  reload_time_file /x/t\n  reload_repeat\n}\n";
        let (s, _) = of(text);
        assert_eq!(
            (s.reload_time_file.as_deref(), s.reload_repeat),
            (Some("/x/t"), true)
        );
        let (_, errs) = of("global_defs {\n  reload_time_file /x/t /y\n}\n");
        assert_eq!(errs, ["k.conf:2:3: error: reload_time_file invalid"]);
    }

    #[test]
    fn start_and_stop_scripts_with_keepalived_s_timeouts() {
        let text = "global_defs {\n  shutdown_script_timeout 3\n  startup_script \"/bin/echo up\" root\n  \
                    shutdown_script /bin/true\n  startup_script /bin/false\n  startup_script_timeout 0\n}\n";
        let (s, errs) = of(text);
        let up = s.startup.unwrap();
        assert_eq!(up.words, ["/bin/echo up", "root"]);
        assert_eq!(up.timeout, Duration::from_secs(10));
        let down = s.shutdown.unwrap();
        assert_eq!(down.words, ["/bin/true"]);
        assert_eq!(
            down.timeout,
            Duration::from_secs(3),
            "set before the script"
        );
        assert_eq!(
            errs,
            [
                "k.conf:5:3: error: startup script already specified",
                "k.conf:6:3: error: startup_script_timeout '0' must be in [1, 1000] - ignoring"
            ]
        );
    }

    #[cfg(all(feature = "convert-vrrp", feature = "convert-lvs"))]
    #[test]
    fn config_save_dir_works_with_either_half() {
        use crate::convert::{convert, Halves};
        let vs = "virtual_server 10.0.0.1 80 {\n  real_server 10.0.0.2 80 {\n  }\n}\n";
        let text = format!("global_defs {{\n  config_save_dir /var/tmp/s/\n}}\n{vs}");
        let p = crate::parse_str("k.conf", &text, &Default::default());
        for (vrrp_only, checker) in [(true, false), (false, false), (false, true)] {
            let out = convert(&p, Halves::keepalived(&p.config, vrrp_only, checker));
            assert_eq!(out.process.config_save_dir.as_deref(), Some("/var/tmp/s/"));
            assert_eq!(out.refusals().count(), 0);
        }
    }

    #[cfg(all(feature = "convert-vrrp", feature = "convert-lvs"))]
    #[test]
    fn the_rest_of_the_process_keywords_are_noted_or_refused_by_name() {
        use crate::convert::{convert, Halves};
        let text = "child_wait_time 3\nuse_pid_dir\nglobal_defs {\n  tmp_config_directory /tmp\n  \
                    random_seed 5\n  config_save_dir\n  include_check +x\n  \
                    fifo_write_vrrp_states_on_reload\n  instance x\n}\n";
        let p = crate::parse_str("k.conf", text, &Default::default());
        let out = convert(&p, Halves::keepalived(&p.config, false, false));
        let shown: Vec<String> = (p.diagnostics.iter().chain(&out.diagnostics))
            .map(|d| d.display(&p.sources).to_string())
            .collect();
        let has = |want: &str| shown.iter().any(|l| l == want);
        for want in [
            "k.conf:1:1: warning: child_wait_time is accepted without effect: a tuning keyword",
            "k.conf:4:3: warning: tmp_config_directory is accepted without effect: a tuning keyword",
            "k.conf:5:3: warning: random_seed is accepted without effect: keepalived 2.2.7 resets \
             the seed before it reads the configuration",
            "k.conf:6:3: error: *** Configuration line starting `config_save_dir` is missing a \
             parameter after keyword `config_save_dir` at word position 2",
            "k.conf:7:3: error: include_check: unknown check 'x' ignored",
        ] {
            assert!(has(want), "{want} not in {shown:#?}");
        }
        // Top-level only, as keepalived's parser has it.
        assert!(
            shown
                .iter()
                .any(|l| l.starts_with("k.conf:9:3: error: unknown keyword 'instance'")),
            "{shown:#?}"
        );
        assert!(out.process.use_pid_dir);
        assert!(out.process.fifo_states_on_reload);
        assert!(
            !shown.iter().any(|l| l.contains("fifo_write")),
            "{shown:#?}"
        );
    }

    #[test]
    fn random_seed_is_checked_as_keepalived_checks_it() {
        let text = "global_defs {\n  random_seed 4294967295\n  random_seed 4294967296\n  \
                    random_seed -1\n  random_seed abc\n}\n";
        let (s, errs) = of(text);
        assert_eq!(s, Process::default());
        assert_eq!(
            errs,
            [
                "k.conf:2:3: warning: random_seed is accepted without effect: keepalived 2.2.7 \
                 resets the seed before it reads the configuration",
                "k.conf:3:3: error: random_seed 4294967296 invalid",
                "k.conf:4:3: error: random_seed -1 invalid",
                "k.conf:5:3: error: random_seed abc invalid",
            ]
        );
        let (s, errs) = of("global_defs {\n  fifo_write_vrrp_states_on_reload\n}\n");
        assert!(s.fifo_states_on_reload);
        assert!(errs.is_empty(), "{errs:?}");
    }
}
