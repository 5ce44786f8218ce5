//! `track_file` / `vrrp_track_file` and `vrrp_track_process` blocks, and
//! the `track_file { }` / `track_process { }` lists of instances and sync
//! groups, as keepalived 2.2.7 reads them (`trackers/track_file.c`,
//! `vrrp/vrrp_parser.c`, `vrrp/vrrp_track.c`).
//!
//! Defaults: a file's weight 1, a process's weight 0, quorum 1, no
//! quorum maximum; a list entry takes its block's weight and `reverse`
//! unless it gives `weight N [reverse|noreverse]`. What keepalived
//! reports as a configuration error (its `-t` exits 5) is refused here,
//! in keepalived's words.

use std::path::PathBuf;
use std::time::Duration;

use vrrp::linux::track_process::{ParamMatch, ProcessSpec};

use super::{InstancePlan, PlanError, Tracked};
use crate::diagnostics::{Code, Diagnostic};
use crate::model::{Setting, SyncGroup, Track};
use crate::Parsed;

/// A `track_file` block used by some instance or group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedFile {
    /// The block's name.
    pub name: String,
    /// `file`.
    pub path: PathBuf,
    /// `weight N` (default 1).
    pub weight: i32,
    /// `weight N reverse`.
    pub reverse: bool,
    /// `init_file [VALUE] [overwrite]`.
    pub init: Option<FileInit>,
}

/// `init_file [VALUE] [overwrite]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileInit {
    /// The value written (default 0).
    pub value: i32,
    /// `overwrite`: written even if the file exists (not on a reload).
    pub overwrite: bool,
}

/// A `vrrp_track_process` block used by some instance or group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedProcess {
    /// What to count (name, parameters, quorum, `terminate_delay`).
    pub spec: ProcessSpec,
    /// `weight N` (default 0).
    pub weight: i32,
    /// `weight N reverse`.
    pub reverse: bool,
}

/// An entry of an instance's or group's `track_file` / `track_process`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedObject {
    /// The block's name.
    pub name: String,
    /// The weight (0: FAULT rules).
    pub weight: i32,
    /// `reverse`.
    pub reverse: bool,
}

/// Every top-level block, whether used or not, and what is wrong in them.
#[derive(Debug, Default)]
pub(super) struct Blocks {
    pub files: Vec<TrackedFile>,
    pub processes: Vec<TrackedProcess>,
}

/// Is this top-level setting a track block this module reads?
pub(crate) fn is_block(s: &Setting) -> bool {
    matches!(
        s.keyword.as_str(),
        "track_file" | "vrrp_track_file" | "vrrp_track_process"
    )
}

/// Reads every top-level block of `top`.
pub(super) fn blocks(top: &[Setting], errors: &mut Vec<PlanError>) -> Blocks {
    let mut b = Blocks::default();
    for s in top {
        let name = s.args.first().cloned().unwrap_or_default();
        let result = match s.keyword.as_str() {
            "track_file" | "vrrp_track_file" => file(&name, s).map(|f| b.files.push(f)),
            "vrrp_track_process" => process(&name, s).map(|p| b.processes.push(p)),
            _ => Ok(()),
        };
        if let Err(e) = result {
            errors.push(e);
        }
    }
    b
}

fn refused(owner: &str, keyword: &'static str, reason: &'static str) -> PlanError {
    PlanError::Refused {
        instance: owner.to_owned(),
        keyword,
        reason,
    }
}

fn unsupported(owner: &str, keyword: &'static str) -> PlanError {
    PlanError::Unsupported {
        instance: owner.to_owned(),
        keyword,
    }
}

/// `weight N [reverse]` of a block (-254..=254).
fn block_weight(owner: &str, args: &[String]) -> Result<(i32, bool), PlanError> {
    let bad = || {
        refused(
            owner,
            "weight",
            "weight must be between [-254..254] inclusive",
        )
    };
    let w = args.first().ok_or_else(bad)?;
    let w: i32 = w
        .parse()
        .ok()
        .filter(|w: &i32| w.abs() <= 254)
        .ok_or_else(bad)?;
    match args.get(1).map(String::as_str) {
        None => Ok((w, false)),
        Some("reverse") => Ok((w, true)),
        Some(_) => Err(refused(owner, "weight", "unknown weight option")),
    }
}

fn file(name: &str, s: &Setting) -> Result<TrackedFile, PlanError> {
    let mut f = TrackedFile {
        name: name.to_owned(),
        path: PathBuf::new(),
        weight: 1,
        reverse: false,
        init: None,
    };
    let mut path = None;
    let mut weight_set = false;
    for k in s.block.iter().flatten() {
        match k.keyword.as_str() {
            "file" => {
                let p = k.args.first();
                let p = p.ok_or_else(|| refused(name, "file", "track file file name missing"))?;
                if path.replace(PathBuf::from(p)).is_some() {
                    return Err(refused(name, "file", "file already set for track file"));
                }
            }
            "weight" if weight_set => {
                return Err(refused(name, "weight", "weight already set for track file"))
            }
            "weight" => {
                (f.weight, f.reverse) = block_weight(name, &k.args)?;
                weight_set = true;
            }
            "init_file" => f.init = Some(init_file(name, &k.args)?),
            _ => return Err(unsupported(name, "track_file option")),
        }
    }
    f.path = path.ok_or_else(|| refused(name, "file", "no file set for track_file"))?;
    Ok(f)
}

fn init_file(name: &str, args: &[String]) -> Result<FileInit, PlanError> {
    let mut init = FileInit {
        value: 0,
        overwrite: false,
    };
    for a in args {
        if a.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            let bad = || refused(name, "init_file", "track file init value is invalid");
            init.value = a
                .parse()
                .ok()
                .filter(|v: &i32| (-254..=254).contains(v))
                .ok_or_else(bad)?;
        } else if a == "overwrite" {
            init.overwrite = true;
        } else {
            return Err(refused(name, "init_file", "unknown track file init option"));
        }
    }
    Ok(init)
}

fn process(name: &str, s: &Setting) -> Result<TrackedProcess, PlanError> {
    let mut spec = ProcessSpec::new(name, "");
    let mut path: Option<String> = None;
    let (mut weight, mut reverse) = (0, false);
    for k in s.block.iter().flatten() {
        let arg = k.args.first().map(String::as_str);
        match k.keyword.as_str() {
            "process" => {
                let p = arg.ok_or_else(|| refused(name, "process", "process name missing"))?;
                if path.replace(p.to_owned()).is_some() {
                    return Err(refused(name, "process", "process already set"));
                }
                spec.params = k.args[1..].to_vec();
                if !spec.params.is_empty() {
                    if spec.param_match == ParamMatch::None {
                        spec.param_match = ParamMatch::Exact;
                    }
                    spec.full_command = true;
                }
            }
            "param_match" => {
                spec.param_match = match arg {
                    None => ParamMatch::Exact,
                    Some("initial") => ParamMatch::Initial,
                    Some("partial") => ParamMatch::Partial,
                    Some(_) => {
                        return Err(refused(name, "param_match", "invalid param_match type"))
                    }
                };
                spec.full_command = true;
            }
            "weight" if weight != 0 => {
                return Err(refused(
                    name,
                    "weight",
                    "weight already set for track process",
                ))
            }
            "weight" => (weight, reverse) = block_weight(name, &k.args)?,
            "quorum" => {
                let q = arg
                    .and_then(|a| a.parse().ok())
                    .filter(|q| (1..=65535).contains(q));
                let q =
                    q.ok_or_else(|| refused(name, "quorum", "quorum must be between [1..65535]"))?;
                if q > spec.quorum_max {
                    return Err(refused(name, "quorum", "quorum is greater than quorum_max"));
                }
                spec.quorum = q;
            }
            "quorum_max" => {
                let bad = || refused(name, "quorum_max", "quorum_max must be between [0..65535]");
                let m: u32 = arg
                    .and_then(|a| a.parse().ok())
                    .filter(|m| *m <= 65535)
                    .ok_or_else(bad)?;
                if (m != 0 || spec.quorum > 1) && m < spec.quorum {
                    return Err(refused(
                        name,
                        "quorum_max",
                        "quorum_max is less than quorum",
                    ));
                }
                spec.quorum_max = m;
                if m == 0 {
                    spec.quorum = 0;
                } else if spec.quorum == 0 {
                    spec.quorum = 1;
                }
            }
            "terminate_delay" => spec.terminate_delay = delay(name, "terminate_delay", arg)?,
            "fork_delay" => spec.fork_delay = delay(name, "fork_delay", arg)?,
            "delay" => {
                spec.terminate_delay = delay(name, "delay", arg)?;
                spec.fork_delay = spec.terminate_delay;
            }
            "full_command" => spec.full_command = true,
            _ => return Err(unsupported(name, "vrrp_track_process option")),
        }
    }
    spec.process = path.ok_or_else(|| refused(name, "process", "process name not specified"))?;
    Ok(TrackedProcess {
        spec,
        weight,
        reverse,
    })
}

/// A delay in seconds, to the microsecond, in [0.000001..3600].
fn delay(name: &str, keyword: &'static str, arg: Option<&str>) -> Result<Duration, PlanError> {
    let reason = match keyword {
        "fork_delay" => "fork_delay must be between [0.000001..3600] inclusive",
        "delay" => "delay must be between [0.000001..3600] inclusive",
        _ => "terminate_delay must be between [0.000001..3600] inclusive",
    };
    let bad = || refused(name, keyword, reason);
    let secs: f64 = arg.and_then(|a| a.parse().ok()).ok_or_else(bad)?;
    let micros = (secs * 1e6).round();
    if !(1.0..=3.6e9).contains(&micros) {
        return Err(bad());
    }
    // In 1..=3.6e9, so the cast is exact.
    Ok(Duration::from_micros(micros as u64))
}

/// A `track_interface` entry (`IF [weight N [reverse]]`) of `owner`.
pub(super) fn interface(owner: &str, t: &Track) -> Result<Tracked, PlanError> {
    Ok(Tracked {
        name: t.name.clone(),
        weight: t.weight.unwrap_or(0),
        reverse: entry_reverse(owner, "track_interface", t, false)?,
    })
}

/// The `reverse` of a `track_interface` / `track_script` entry: the word
/// after `weight N`, `reverse` (or, for a script, `noreverse`); without
/// one, `default` (a script's own `weight N reverse`). keepalived reports
/// any other word, or one without a weight, as an error.
pub(super) fn entry_reverse(
    owner: &str,
    keyword: &'static str,
    t: &Track,
    default: bool,
) -> Result<bool, PlanError> {
    let script = keyword == "track_script";
    match t.other.as_slice() {
        [] => Ok(default),
        [w] if t.weight.is_some() && w == "reverse" => Ok(true),
        [w] if t.weight.is_some() && script && w == "noreverse" => Ok(false),
        [_] if t.weight.is_some() => Err(refused(owner, keyword, "unknown weight option")),
        _ => Err(refused(owner, keyword, "unknown track option")),
    }
}

/// Whether a sync group takes its members' own tracking weights
/// (`sync_group_tracking_weight`, or its deprecated `global_tracking`).
pub(super) fn group_weights(g: &SyncGroup) -> bool {
    (g.other.iter()).any(|s| {
        matches!(
            s.keyword.as_str(),
            "sync_group_tracking_weight" | "global_tracking"
        )
    })
}

/// A member of a sync group without `sync_group_tracking_weight` may not
/// weigh its own tracked interfaces and scripts: keepalived 2.2.7 reports
/// a configuration error and tracks such an interface with weight 0 (down
/// = FAULT), and drops such a script.
pub(super) fn member_weights(plan: &InstancePlan) -> Result<(), PlanError> {
    let refuse = |keyword, reason| Err(refused(&plan.name, keyword, reason));
    if plan.interfaces.iter().any(|t| t.weight != 0) {
        return refuse(
            "track_interface",
            "ignoring tracked interface weight due to SYNC group",
        );
    }
    if plan.scripts.iter().any(|t| t.weight != 0) {
        return refuse(
            "track_script",
            "ignoring tracked script with weights due to SYNC group",
        );
    }
    Ok(())
}

/// keepalived's configuration errors for the `track_file` /
/// `track_process` lists of instances and sync groups, in its words: a
/// name already listed, or a process without a block, is ignored
/// ([`list`] leaves it out) and keepalived runs on.
pub(super) fn notes(p: &Parsed, out: &mut Vec<Diagnostic>) {
    let c = &p.config;
    let known = |keyword: &str, name: &str| {
        let kinds: &[&str] = if keyword == "track_file" {
            &["track_file", "vrrp_track_file"]
        } else {
            &["vrrp_track_process"]
        };
        (c.other.iter()).any(|s| {
            kinds.contains(&s.keyword.as_str()) && s.args.first().is_some_and(|a| a == name)
        })
    };
    let owners = (c.vrrp_instances.iter().map(|i| (&i.name, &i.other)))
        .chain(c.vrrp_sync_groups.iter().map(|g| (&g.name, &g.other)));
    for (owner, other) in owners {
        for keyword in ["track_file", "track_process"] {
            let entries = (other.iter().filter(|s| s.keyword == keyword))
                .flat_map(|s| s.block.iter().flatten());
            let mut seen: Vec<&str> = Vec::new();
            for e in entries {
                let name = e.keyword.as_str();
                let msg = if !known(keyword, name) {
                    if keyword == "track_file" {
                        continue; // refused by the conversion
                    }
                    format!("({owner}) track process {name} not found, ignoring...")
                } else if seen.contains(&name) {
                    format!("({owner}) duplicate {keyword} {name} - ignoring")
                } else {
                    seen.push(name);
                    continue;
                };
                out.push(Diagnostic::error(Code::KeepalivedError, e.span, msg));
            }
        }
    }
}

/// An instance's or group's list (`track_file { NAME [weight N
/// [reverse|noreverse]] }`), against the blocks' names and defaults.
pub(super) fn list(
    owner: &str,
    keyword: &'static str,
    settings: &[Setting],
    defaults: &dyn Fn(&str) -> Option<(i32, bool)>,
) -> Result<Vec<TrackedObject>, PlanError> {
    let mut out: Vec<TrackedObject> = Vec::new();
    for s in settings.iter().filter(|s| s.keyword == keyword) {
        for e in s.block.iter().flatten() {
            let name = e.keyword.as_str();
            // A repeated name, or an unknown process: keepalived's
            // configuration error ([`notes`]), the entry ignored. keepalived
            // 2.2.7 crashes on an unknown file (measured: `-t` exits 139):
            // refused.
            let Some((mut weight, mut reverse)) = defaults(name) else {
                if keyword == "track_process" {
                    continue;
                }
                return Err(PlanError::Unknown {
                    instance: owner.to_owned(),
                    kind: keyword,
                    name: name.to_owned(),
                });
            };
            if out.iter().any(|o| o.name == name) {
                continue;
            }
            match e.args.as_slice() {
                [] => {}
                [w, n, rest @ ..] if w == "weight" => {
                    weight = n
                        .parse()
                        .ok()
                        .filter(|w: &i32| w.abs() <= 254)
                        .ok_or_else(|| refused(owner, keyword, "weight must be in [-254..254]"))?;
                    match rest.first().map(String::as_str) {
                        None => {}
                        Some("reverse") => reverse = true,
                        Some("noreverse") => reverse = false,
                        Some(_) => return Err(refused(owner, keyword, "unknown weight option")),
                    }
                }
                _ => return Err(refused(owner, keyword, "unknown track option")),
            }
            out.push(TrackedObject {
                name: name.to_owned(),
                weight,
                reverse,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use super::*;
    use crate::{parse_str, Options};

    fn top(text: &str) -> (Blocks, Vec<PlanError>) {
        let p = parse_str("k.conf", text, &Options::default());
        let mut errors = Vec::new();
        let b = blocks(&p.config.other, &mut errors);
        (b, errors)
    }

    #[test]
    fn file_blocks_take_keepalived_defaults() {
        let (b, e) = top(
            "track_file a {\n file /run/a\n}\nvrrp_track_file b {\n file /run/b\n \
             weight -3 reverse\n init_file 7 overwrite\n}\n",
        );
        assert_eq!(e, []);
        assert_eq!(
            b.files,
            [
                TrackedFile {
                    name: "a".into(),
                    path: "/run/a".into(),
                    weight: 1,
                    reverse: false,
                    init: None
                },
                TrackedFile {
                    name: "b".into(),
                    path: "/run/b".into(),
                    weight: -3,
                    reverse: true,
                    init: Some(FileInit {
                        value: 7,
                        overwrite: true
                    })
                }
            ]
        );
    }

    #[test]
    fn process_blocks_take_keepalived_defaults() {
        let (b, e) = top(
            "vrrp_track_process p {\n process sleep\n}\nvrrp_track_process q {\n \
             process /usr/bin/app -c x\n param_match partial\n weight 10 reverse\n quorum 2\n \
             quorum_max 3\n terminate_delay 1.5\n}\nvrrp_track_process z {\n process x\n \
             quorum_max 0\n}\n",
        );
        assert_eq!(e, []);
        let p = &b.processes[0];
        assert_eq!((p.weight, p.reverse), (0, false));
        assert_eq!(p.spec, ProcessSpec::new("p", "sleep"));
        let q = &b.processes[1];
        assert_eq!((q.weight, q.reverse), (10, true));
        assert_eq!(
            q.spec,
            ProcessSpec {
                params: vec!["-c".into(), "x".into()],
                param_match: ParamMatch::Partial,
                full_command: true,
                quorum: 2,
                quorum_max: 3,
                terminate_delay: Duration::from_millis(1500),
                ..ProcessSpec::new("q", "/usr/bin/app")
            }
        );
        assert_eq!(
            (b.processes[2].spec.quorum, b.processes[2].spec.quorum_max),
            (0, 0)
        );
    }

    /// `(name, weight, reverse)` of tracked interfaces or scripts.
    fn wr(v: &[Tracked]) -> Vec<(&str, i32, bool)> {
        v.iter()
            .map(|t| (t.name.as_str(), t.weight, t.reverse))
            .collect()
    }

    #[test]
    fn interface_and_script_entries_take_reverse() {
        let text = "vrrp_script up {\n script /bin/true\n weight 7 reverse\n}\n\
            vrrp_script down {\n script /bin/false\n weight -4\n}\n\
            vrrp_instance A {\n interface eth0\n virtual_router_id 1\n \
            virtual_ipaddress {\n 192.0.2.1\n }\n \
            track_interface {\n eth1 weight 10 reverse\n eth2 weight 3\n }\n \
            track_script {\n up\n down weight 5 reverse\n }\n}\n\
            vrrp_instance B {\n interface eth0\n virtual_router_id 2\n \
            virtual_ipaddress {\n 192.0.2.2\n }\n}\n\
            vrrp_sync_group G {\n group {\n A\n B\n }\n sync_group_tracking_weight\n \
            track_interface {\n eth3 weight -2 reverse\n }\n \
            track_script {\n up weight 6 noreverse\n }\n}\n";
        let parsed = parse_str("t.conf", text, &Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let p = super::super::plan(&parsed.config).unwrap();
        let a = &p.units[0].instances[0];
        assert_eq!(
            wr(&a.interfaces),
            [("eth1", 10, true), ("eth2", 3, false), ("eth3", -2, true)]
        );
        assert_eq!(
            wr(&a.scripts),
            [("up", 7, true), ("down", 5, true), ("up", 6, false)]
        );
        let b = &p.units[0].instances[1];
        assert_eq!(wr(&b.interfaces), [("eth3", -2, true)]);
        assert_eq!(wr(&b.scripts), [("up", 6, false)]);
    }

    #[test]
    fn sync_group_members_weigh_their_tracks_only_with_tracking_weight() {
        let text = |extra: &str| {
            format!(
                "vrrp_script s {{\n script /bin/true\n}}\n\
                 vrrp_instance A {{\n interface eth0\n virtual_router_id 1\n \
                 virtual_ipaddress {{\n 192.0.2.1\n }}\n track_interface {{\n eth1 weight 4\n \
                 }}\n}}\nvrrp_instance B {{\n interface eth0\n virtual_router_id 2\n \
                 virtual_ipaddress {{\n 192.0.2.2\n }}\n track_script {{\n s weight 3\n }}\n}}\n\
                 vrrp_sync_group G {{\n group {{\n A\n B\n }}\n{extra}}}\n"
            )
        };
        let plan =
            |t: &str| super::super::plan(&parse_str("t.conf", t, &Options::default()).config);
        let e = plan(&text("")).unwrap_err();
        let want = "(A) ignoring tracked interface weight due to SYNC group";
        assert_eq!(e.to_string(), want);
        let p = plan(&text(" sync_group_tracking_weight\n")).unwrap();
        assert_eq!(
            wr(&p.units[0].instances[0].interfaces),
            [("eth1", 4, false)]
        );
        assert_eq!(wr(&p.units[0].instances[1].scripts), [("s", 3, false)]);
    }

    #[test]
    fn unknown_track_words_are_refused_as_keepalived_reports_them() {
        for (entry, want) in [
            (
                "track_interface {\n eth1 weight 2 noreverse\n }",
                "(A) unknown weight option",
            ),
            (
                "track_interface {\n eth1 reverse\n }",
                "(A) unknown track option",
            ),
            (
                "track_script {\n s weight 2 up\n }",
                "(A) unknown weight option",
            ),
        ] {
            let text = format!(
                "vrrp_script s {{\n script /bin/true\n}}\nvrrp_instance A {{\n \
                 interface eth0\n virtual_router_id 1\n virtual_ipaddress {{\n 192.0.2.1\n \
                 }}\n {entry}\n}}\n"
            );
            let parsed = parse_str("t.conf", &text, &Options::default());
            let e = super::super::plan(&parsed.config).unwrap_err();
            assert_eq!(e.to_string(), want, "{entry}");
        }
    }

    #[test]
    fn process_delays_as_keepalived_sets_them() {
        let (b, e) = top(
            "vrrp_track_process p {\n process a\n delay 2\n terminate_delay 0.5\n}\n\
             vrrp_track_process q {\n process b\n fork_delay 1.25\n}\n",
        );
        assert_eq!(e, []);
        let p = &b.processes[0].spec;
        assert_eq!(
            (p.fork_delay, p.terminate_delay),
            (Duration::from_secs(2), Duration::from_millis(500))
        );
        let q = &b.processes[1].spec;
        assert_eq!(
            (q.fork_delay, q.terminate_delay),
            (Duration::from_millis(1250), Duration::ZERO)
        );
    }

    #[test]
    fn keepalived_errors_and_unimplemented_keywords_are_refused() {
        for (block, want) in [
            (
                "track_file a {\n weight 2\n}\n",
                "(a) no file set for track_file",
            ),
            (
                "track_file a {\n file /x\n weight 300\n}\n",
                "(a) weight must be between [-254..254] inclusive",
            ),
            (
                "track_file a {\n file /x\n weight 2 up\n}\n",
                "(a) unknown weight option",
            ),
            (
                "track_file a {\n file /x\n init_file 255\n}\n",
                "(a) track file init value is invalid",
            ),
            (
                "vrrp_track_process p {\n process a\n delay 0\n}\n",
                "(p) delay must be between [0.000001..3600] inclusive",
            ),
            (
                "vrrp_track_process p {\n process a\n fork_delay 3601\n}\n",
                "(p) fork_delay must be between [0.000001..3600] inclusive",
            ),
            (
                "vrrp_track_process p {\n quorum 2\n}\n",
                "(p) process name not specified",
            ),
            (
                "vrrp_track_process p {\n process a\n quorum_max 2\n quorum 3\n}\n",
                "(p) quorum is greater than quorum_max",
            ),
        ] {
            let (_, e) = top(block);
            assert_eq!(
                e.iter().map(|e| e.to_string()).collect::<Vec<_>>(),
                [want],
                "{block}"
            );
        }
    }
}
