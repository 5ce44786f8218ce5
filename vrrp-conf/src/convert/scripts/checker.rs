//! The checker half's scripts (MISC_CHECK, `quorum_up`/`quorum_down`,
//! `notify_up`/`notify_down`), secured as keepalived 2.2.7's checker
//! process secures them: each user resolved when the configuration is
//! read (a MISC_CHECK's `user`, a notify line's words after the script,
//! else the default user), then the files checked, MISC_CHECKs first,
//! then each virtual server's quorum scripts and its real servers'
//! notify scripts. A MISC_CHECK that may not run is removed from its real
//! server; a notify script that may not run is unset.

use healthcheck::script::{security, CommandLine, RunAs};

use crate::diagnostics::Diagnostic;
use crate::lower::ObjSpans;
use crate::model::{CheckerKind, Config, Setting, Words};
use crate::span::Span;
use crate::Parsed;

use super::{key_span, notify_parts, Fifos, Secure, Who};

/// Where a checker script is written: virtual server, real server,
/// checker indexes and which script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    QuorumUp(usize),
    QuorumDown(usize),
    NotifyUp(usize, usize),
    NotifyDown(usize, usize),
}

/// A script whose user is resolved, waiting for its file check.
struct Pending {
    cmd: CommandLine,
    who: Who,
    at: Span,
}

/// Secures the checker scripts of `c` in place; keepalived's log lines,
/// in its order, are returned (and pushed to `out` as warnings).
pub(crate) fn secure(p: &mut Parsed, fifos: &Fifos, out: &mut Vec<Diagnostic>) -> Vec<String> {
    // keepalived checks nothing without a virtual server.
    if p.config.virtual_servers.is_empty() {
        return Vec::new();
    }
    let mut s = Secure::new(p, out);
    let (c, spans) = (&mut p.config, &mut p.spans);
    let mut misc = Vec::new();
    let mut notify = Vec::new();
    let mut removed = Vec::new();
    // As the configuration is read: users resolved.
    for (i, vs) in c.virtual_servers.iter_mut().enumerate() {
        let vsp = spans.virtual_servers.get(i);
        for (slot, words, key) in [
            (Slot::QuorumUp(i), &mut vs.quorum_up, "quorum_up"),
            (Slot::QuorumDown(i), &mut vs.quorum_down, "quorum_down"),
        ] {
            resolve(
                &mut s,
                slot,
                words,
                key_span(vsp, key),
                "quorum",
                &mut notify,
            );
        }
        for (j, rs) in vs.real_servers.iter_mut().enumerate() {
            let rsp = vsp.and_then(|v| v.children.get(j));
            for (slot, words, key) in [
                (Slot::NotifyUp(i, j), &mut rs.notify_up, "notify_up"),
                (Slot::NotifyDown(i, j), &mut rs.notify_down, "notify_down"),
            ] {
                resolve(
                    &mut s,
                    slot,
                    words,
                    key_span(rsp, key),
                    "notify",
                    &mut notify,
                );
            }
            for (k, ch) in rs.checkers.iter_mut().enumerate() {
                let ksp = rsp.and_then(|r| r.children.get(k));
                match misc_user(&mut s, ch, ksp) {
                    Some(Some(p)) => misc.push(((i, j, k), p)),
                    Some(None) => {}
                    None => removed.push((i, j, k)),
                }
            }
        }
    }
    // Then the files: MISC_CHECKs first.
    for (at, m) in misc {
        let flags = s.check(&m.cmd, &m.who, m.at);
        let cmd = m.cmd.quoted();
        if flags.inhibit {
            s.warn(m.at, format!("Disabling misc script {cmd} due to insecure"));
        } else if flags.not_found {
            let msg = format!("Disabling misc script {cmd} since not found/accessible");
            s.warn(m.at, msg);
        }
        if !flags.track_runs() {
            removed.push(at);
        }
    }
    for (slot, m) in notify {
        let words = slot_of(c, slot);
        let line = words.take();
        *words = line.and_then(|w| s.notify_checked(&w, &m.cmd, m.who, m.at));
    }
    // Removed from the end so the indexes stay valid.
    removed.sort_unstable();
    for &(i, j, k) in removed.iter().rev() {
        c.virtual_servers[i].real_servers[j].checkers.remove(k);
        // Its spans go too, so later diagnostics still find theirs.
        let rsp = spans
            .virtual_servers
            .get_mut(i)
            .and_then(|v| v.children.get_mut(j));
        if let Some(rsp) = rsp.filter(|r| k < r.children.len()) {
            rsp.children.remove(k);
        }
    }
    fifo_flags(&mut s, fifos);
    if !s.enforce && s.is_script {
        let tail = if s.insecure {
            " There are insecure scripts."
        } else {
            ""
        };
        let msg = format!(
            "SECURITY VIOLATION - check scripts are being executed but script_security not enabled.{tail}"
        );
        s.warn(Span::default(), msg);
    }
    s.log
}

/// A notify line's user, resolved as keepalived's parser does; the line
/// is unset at once if no user can be set.
fn resolve(
    s: &mut Secure<'_>,
    slot: Slot,
    words: &mut Option<Words>,
    at: Span,
    kind: &str,
    pending: &mut Vec<(Slot, Pending)>,
) {
    let Some(w) = words.as_deref() else {
        return;
    };
    match s.notify_who(w, at, kind) {
        Some((cmd, who)) => pending.push((slot, Pending { cmd, who, at })),
        None => *words = None,
    }
}

fn slot_of(c: &mut Config, slot: Slot) -> &mut Option<Words> {
    match slot {
        Slot::QuorumUp(i) => &mut c.virtual_servers[i].quorum_up,
        Slot::QuorumDown(i) => &mut c.virtual_servers[i].quorum_down,
        Slot::NotifyUp(i, j) => &mut c.virtual_servers[i].real_servers[j].notify_up,
        Slot::NotifyDown(i, j) => &mut c.virtual_servers[i].real_servers[j].notify_down,
    }
}

/// A MISC_CHECK's user (keepalived's `misc_user_handler` and
/// `misc_end_handler`): its `user USER [GROUP]`, else the default user,
/// which is then written into the checker so the plan runs it as that
/// user. `Some(None)`: not a MISC_CHECK with a script (the plan decides);
/// `None`: no user could be set and the checker is removed.
fn misc_user(
    s: &mut Secure<'_>,
    ch: &mut crate::model::Checker,
    sp: Option<&ObjSpans>,
) -> Option<Option<Pending>> {
    if ch.kind != CheckerKind::MiscCheck {
        return Some(None);
    }
    let Some(cmd) = ch.misc_path.as_deref().and_then(CommandLine::new) else {
        return Some(None);
    };
    let user = ch.other.iter().rev().find(|o| o.keyword == "user");
    let who = match user {
        // No word: the plan refuses it.
        Some(u) if u.args.is_empty() => return Some(None),
        Some(u) => {
            let at = u.span;
            let who = s.lookup(&u.args.clone(), at);
            if who.is_none() {
                let msg = format!(
                    "Failed to set uid/gid for misc checker script {} - removing",
                    cmd.quoted()
                );
                s.warn(at, msg);
            }
            who
        }
        None => {
            let at = key_span(sp, "misc_path");
            let who = s.default(at);
            match &who {
                None => {
                    let msg = format!(
                        "Unable to set default user for misc script {} - removing",
                        cmd.quoted()
                    );
                    s.warn(at, msg);
                }
                Some(Who {
                    words: Some(words), ..
                }) => ch.other.push(Setting {
                    keyword: "user".into(),
                    args: words.clone(),
                    block: None,
                    span: at,
                }),
                Some(_) => {}
            }
            who
        }
    }?;
    let at = key_span(sp, "misc_path");
    Some(Some(Pending { cmd, who, at }))
}

/// The notify FIFOs' scripts count for keepalived's security line too
/// (their own lines were logged when the FIFOs were set up).
fn fifo_flags(s: &mut Secure<'_>, fifos: &Fifos) {
    for words in [&fifos.notify, &fifos.lvs]
        .into_iter()
        .flatten()
        .filter_map(|f| f.script.as_ref())
    {
        let Some((cmd, user)) = notify_parts(words) else {
            continue;
        };
        let run_as = match user {
            [] => s.me.clone(),
            [u, rest @ ..] => match RunAs::lookup(u, rest.first().map(String::as_str)) {
                Ok(r) => r,
                Err(_) => continue,
            },
        };
        let flags =
            security::check(cmd.program(), run_as.uid, run_as.gid, s.enforce, &s.path).flags;
        s.is_script |= flags.is_script;
        s.insecure |= flags.insecure;
    }
}

#[cfg(all(test, feature = "convert-lvs"))]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::super::test_lab::Lab;

    use crate::convert::lvs::{Plan, Probe};
    use crate::convert::{convert, Converted, Halves};
    use crate::{parse_str, Options};

    /// One service: quorum_up GOOD, quorum_down BAD, a real server with
    /// notify_up GOOD, notify_down BAD, MISC_CHECK BAD then TCP_CHECK then
    /// MISC_CHECK GOOD (`misc` lines go into the second MISC_CHECK).
    fn conf(globals: &str, lab: &Lab, misc: &str) -> String {
        format!(
            "global_defs {{\n{globals}}}\n\
             virtual_server 192.0.2.1 80 {{\n  protocol TCP\n  \
             quorum_up \"{good} q\"\n  quorum_down {bad}\n  \
             real_server 10.0.0.1 80 {{\n    notify_up {good}\n    notify_down {bad}\n    \
             MISC_CHECK {{\n      misc_path \"{bad} m\"\n    }}\n    \
             TCP_CHECK {{\n    }}\n    \
             MISC_CHECK {{\n      misc_path {good}\n{misc}    }}\n  }}\n}}\n",
            good = lab.good(),
            bad = lab.bad(),
        )
    }

    fn run(text: &str) -> (Vec<String>, Converted) {
        let parsed = parse_str("k.conf", text, &Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let halves = Halves {
            vrrp: false,
            lvs: true,
        };
        let out = convert(&parsed, halves);
        let d = out
            .diagnostics
            .iter()
            .map(|d| d.display(&parsed.sources).to_string())
            .collect();
        (d, out)
    }

    type Scripts = (
        Option<Vec<String>>,
        Option<Vec<String>>,
        Option<Vec<String>>,
        Option<Vec<String>>,
    );

    /// The quorum and notify scripts, and each check's kind with a MISC
    /// user.
    fn scripts(plan: &Plan) -> (Scripts, Vec<String>) {
        let s = &plan.services[0];
        let rs = &s.real_servers[0];
        let checks = rs
            .checks
            .iter()
            .map(|k| match &k.probe {
                Probe::Misc { path, user, .. } => format!("MISC {path} {user:?}"),
                p => p.keyword().to_owned(),
            })
            .collect();
        let w = (
            s.quorum_up.clone(),
            s.quorum_down.clone(),
            rs.notify_up.clone(),
            rs.notify_down.clone(),
        );
        (w, checks)
    }

    fn words(w: &[&str]) -> Option<Vec<String>> {
        Some(w.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn security_removes_the_insecure_checker_scripts_and_keeps_the_rest() {
        let lab = Lab::new("chk-enforce");
        let text = conf("  enable_script_security\n  script_user root\n", &lab, "");
        let (d, out) = run(&text);
        let (good, bad) = (lab.good(), lab.bad());
        let unsafe_line = format!("Unsafe permissions found for script '{bad}' - disabling.");
        // keepalived's order: MISC_CHECKs, then quorum and notify scripts.
        assert_eq!(
            out.script_log,
            [
                unsafe_line.clone(),
                format!("Disabling misc script '{bad}' 'm' due to insecure"),
                unsafe_line.clone(),
                unsafe_line.clone(),
            ]
        );
        assert_eq!(
            d,
            [
                format!("k.conf:8:3: warning: {unsafe_line}"),
                format!("k.conf:11:5: warning: {unsafe_line}"),
                format!("k.conf:13:7: warning: Disabling misc script '{bad}' 'm' due to insecure"),
                format!("k.conf:13:7: warning: {unsafe_line}"),
            ]
        );
        let plan = out.lvs.as_ref().unwrap();
        let (w, checks) = scripts(plan);
        let q = format!("{good} q");
        assert_eq!(
            w,
            (words(&[&q, "root"]), None, words(&[&good, "root"]), None)
        );
        assert_eq!(
            checks,
            [
                "TCP_CHECK".to_owned(),
                format!("MISC {good} Some([\"root\"])")
            ]
        );
    }

    #[test]
    fn without_security_every_checker_script_runs_with_keepalived_warning() {
        let lab = Lab::new("chk-open");
        let text = conf("  script_user root\n", &lab, "      user nobody\n");
        let (d, out) = run(&text);
        let bad = lab.bad();
        let unsafe_line = format!("Unsafe permissions found for script '{bad}'.");
        let violation = "SECURITY VIOLATION - check scripts are being executed but \
                         script_security not enabled. There are insecure scripts.";
        let mut log = vec![unsafe_line.clone(); 3];
        log.push(violation.to_owned());
        assert_eq!(out.script_log, log);
        assert_eq!(
            d,
            [
                format!("warning: {violation}"),
                format!("k.conf:7:3: warning: {unsafe_line}"),
                format!("k.conf:10:5: warning: {unsafe_line}"),
                format!("k.conf:12:7: warning: {unsafe_line}"),
            ]
        );
        let plan = out.lvs.as_ref().unwrap();
        let (w, checks) = scripts(plan);
        let (good, q) = (lab.good(), format!("{} q", lab.good()));
        assert_eq!(
            w,
            (
                words(&[&q, "root"]),
                words(&[&bad, "root"]),
                words(&[&good, "root"]),
                words(&[&bad, "root"]),
            )
        );
        assert_eq!(
            checks,
            [
                format!("MISC {bad} m Some([\"root\"])"),
                "TCP_CHECK".to_owned(),
                format!("MISC {good} Some([\"nobody\"])")
            ]
        );
    }

    #[test]
    fn a_misc_check_whose_user_cannot_be_set_is_removed() {
        let lab = Lab::new("chk-nouser");
        let text = conf("  script_user root\n", &lab, "      user no-such-user-vc\n");
        let (d, out) = run(&text);
        let good = lab.good();
        assert!(out.refusals().next().is_none(), "{d:?}");
        assert_eq!(
            out.script_log[..2],
            [
                "Script user 'no-such-user-vc' does not exist".to_owned(),
                format!("Failed to set uid/gid for misc checker script '{good}' - removing"),
            ]
        );
        let (_, checks) = scripts(out.lvs.as_ref().unwrap());
        assert_eq!(checks[1..], ["TCP_CHECK".to_owned()]);
    }
}
