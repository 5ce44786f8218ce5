//! Who runs each VRRP script, and whether it may run at all, decided as
//! keepalived 2.2.7 decides at start-up (so `-t` and the daemon agree):
//!
//! - the user: a `vrrp_script`'s own `user USER [GROUP]`, a notify line's
//!   words after the script (`notify_master "/x.sh arg" USER [GROUP]`),
//!   else the global `script_user USER [GROUP]`, else `keepalived_script`
//!   if that user exists, else this process's own user; with
//!   `enable_script_security` the last fallback is refused instead;
//! - the file: [`healthcheck::script::security::check`] (found, executable
//!   by that user, and, for a script run as root, no component of its path
//!   writable by non-root; with `enable_script_security` such a script is
//!   disabled).
//!
//! The result is a copy of the configuration in which every script that
//! runs names its user explicitly (`VrrpScript::user`, the notify words
//! after the first) or runs as this process, and every disabled script is
//! gone: a disabled `vrrp_script` leaves the `track_script` lists, a
//! disabled notify script is unset. keepalived's log lines become
//! warning-level diagnostics ([`Code::ScriptSecurity`]), so `-t` names
//! every disabled script.
//!
//! The checker half's scripts (MISC_CHECK, `notify_up`, `quorum_up`, ...)
//! go through the same rules in its `checker` module.

use healthcheck::script::{search_path, security, CommandLine, RunAs, UserError};

use crate::diagnostics::{Code, Diagnostic};
use crate::model::{Config, Notify, Track, Words};
use crate::span::Span;
use crate::Parsed;

use super::{key_span, Halves};

#[cfg(feature = "convert-lvs")]
pub(crate) mod checker;
#[cfg(test)]
mod test_lab;

/// keepalived's default script user.
const DEFAULT_USER: &str = "keepalived_script";

/// A notify FIFO of `global_defs` (`notify_fifo NAME [USER [GROUP]]` and
/// its `notify_fifo_script`), as keepalived runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fifo {
    /// The FIFO's path.
    pub path: String,
    /// The uid:gid a FIFO created by the daemon is given (none: the
    /// daemon's own).
    pub owner: Option<(u32, u32)>,
    /// The reader script, started once with the path as last argument:
    /// words as [`notify_parts`] splits them; none if unset or disabled.
    pub script: Option<Words>,
}

/// The notify FIFOs: `notify_fifo` (both halves write to it),
/// `vrrp_notify_fifo` and `lvs_notify_fifo`. The VRRP half writes a line
/// per instance or group transition (`INSTANCE "VI_1" MASTER 100`), the
/// checker one per real server or quorum change
/// (`RS [10.1.0.1]:tcp:80 [10.0.0.1]:tcp:80 UP`, `VS [10.0.0.1]:tcp:80 DOWN`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Fifos {
    /// `notify_fifo`.
    pub notify: Option<Fifo>,
    /// `vrrp_notify_fifo`.
    pub vrrp: Option<Fifo>,
    /// `lvs_notify_fifo`.
    pub lvs: Option<Fifo>,
}

impl Fifos {
    /// Every FIFO that is set.
    pub fn iter(&self) -> impl Iterator<Item = &Fifo> {
        self.notify.iter().chain(&self.vrrp).chain(&self.lvs)
    }
}

/// What [`secure`] made of the scripts.
#[derive(Debug, Default)]
pub(crate) struct Secured {
    /// The configuration with every VRRP script's user made explicit and
    /// the disabled scripts removed, or `None` if nothing changed.
    pub(crate) config: Option<Config>,
    /// The VRRP half's notify FIFOs.
    pub(crate) fifos: Fifos,
    /// keepalived's log lines about the scripts, in its order.
    pub(crate) log: Vec<String>,
}

/// Decides who runs each script of the halves that run and which may run;
/// keepalived's log lines and the refusals go to `out`.
pub(crate) fn secure(p: &Parsed, halves: Halves, out: &mut Vec<Diagnostic>) -> Secured {
    let c = &p.config;
    let has_fifo = setting(c, "notify_fifo").is_some() || setting(c, "vrrp_notify_fifo").is_some();
    let lvs_fifo = setting(c, "lvs_notify_fifo").is_some()
        || (halves.lvs && setting(c, "notify_fifo").is_some());
    if !halves.vrrp && !lvs_fifo {
        return Secured::default();
    }
    if !halves.vrrp || !(has_vrrp_scripts(c) || has_fifo) {
        // The checker's FIFOs only.
        let mut s = Secure::new(p, out);
        let fifos = Fifos {
            notify: s.fifo(c, ""),
            vrrp: None,
            lvs: halves.lvs.then(|| s.fifo(c, "lvs_")).flatten(),
        };
        return Secured {
            config: None,
            fifos,
            log: s.log,
        };
    }
    let mut s = Secure::new(p, out);
    let mut c = c.clone();
    let mut gone: Vec<String> = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    for (i, v) in c.vrrp_scripts.iter_mut().enumerate() {
        let sp = p.spans.scripts.get(i);
        match s.vrrp_script(v, sp) {
            Verdict::Runs => {}
            Verdict::NoUser => unknown.push(v.name.clone()),
            Verdict::Disabled => gone.push(v.name.clone()),
        }
    }
    for (i, inst) in c.vrrp_instances.iter_mut().enumerate() {
        let sp = p.spans.instances.get(i);
        let name = inst.name.clone();
        s.untrack(
            &mut inst.track_script,
            &gone,
            &unknown,
            &name,
            key_span(sp, "track_script"),
        );
        s.notify(&mut inst.notify, sp);
    }
    for (i, grp) in c.vrrp_sync_groups.iter_mut().enumerate() {
        let sp = p.spans.groups.get(i);
        let name = grp.name.clone();
        s.untrack(
            &mut grp.track_script,
            &gone,
            &unknown,
            &name,
            key_span(sp, "track_script"),
        );
        s.notify(&mut grp.notify, sp);
    }
    let fifos = Fifos {
        notify: s.fifo(&c, ""),
        vrrp: s.fifo(&c, "vrrp_"),
        lvs: halves.lvs.then(|| s.fifo(&c, "lvs_")).flatten(),
    };
    if !s.enforce && s.is_script {
        let tail = if s.insecure {
            " There are insecure scripts."
        } else {
            ""
        };
        let msg =
            format!("SECURITY VIOLATION - scripts are being executed but script_security not enabled.{tail}");
        s.warn(Span::default(), msg);
    }
    Secured {
        config: Some(c),
        fifos,
        log: s.log,
    }
}

/// The startup and shutdown scripts, checked as keepalived checks them at
/// start-up (user made explicit, unset if they may not run), with its
/// separate security line for them; its log lines are returned.
pub(crate) fn start_stop(
    p: &Parsed,
    process: &mut super::process::Process,
    out: &mut Vec<Diagnostic>,
) -> Vec<String> {
    if process.startup.is_none() && process.shutdown.is_none() {
        return Vec::new();
    }
    let mut s = Secure::new(p, out);
    for (kind, slot) in [
        ("startup", &mut process.startup),
        ("shutdown", &mut process.shutdown),
    ] {
        if let Some(mut script) = slot.take() {
            let at = key_span(Some(&p.spans.global), &format!("{kind}_script"));
            if let Some(words) = s.notify_script(std::mem::take(&mut script.words), at, kind) {
                script.words = words;
                *slot = Some(script);
            }
        }
    }
    if !s.enforce && s.is_script {
        let tail = if s.insecure {
            " There are insecure scripts."
        } else {
            ""
        };
        let msg = format!(
            "SECURITY VIOLATION - start/shutdown scripts are being executed but script_security not enabled.{tail}"
        );
        s.warn(Span::default(), msg);
    }
    s.log
}

/// The global setting `keyword`, if written.
fn setting<'c>(c: &'c Config, keyword: &str) -> Option<&'c crate::model::Setting> {
    c.global_defs
        .other
        .iter()
        .rev()
        .find(|s| s.keyword == keyword)
}

/// The identity a script runs as: the words to record (`None`: this
/// process) and its ids.
#[derive(Debug, Clone)]
struct Who {
    words: Option<Words>,
    run_as: RunAs,
}

enum Verdict {
    Runs,
    /// No user could be set: removed before the checks, as keepalived's
    /// parser removes it (references are "not found").
    NoUser,
    /// Refused by the security check.
    Disabled,
}

struct Secure<'a> {
    enforce: bool,
    me: RunAs,
    /// `script_user USER [GROUP]` and where it is written.
    script_user: Option<Words>,
    script_user_at: Span,
    /// The default user, once resolved (`Some(None)`: it failed).
    default: Option<Option<Who>>,
    path: String,
    /// Some script exists (keepalived's `SC_ISSCRIPT`).
    is_script: bool,
    /// Some script is insecure (`SC_INSECURE`).
    insecure: bool,
    out: &'a mut Vec<Diagnostic>,
    /// The same lines in keepalived's order, for the daemon's log.
    log: Vec<String>,
}

impl<'a> Secure<'a> {
    /// Script security as `global_defs` sets it up.
    fn new(p: &Parsed, out: &'a mut Vec<Diagnostic>) -> Self {
        let g = &p.config.global_defs;
        Secure {
            enforce: g.enable_script_security,
            me: RunAs::current(),
            script_user: g.script_user.clone(),
            script_user_at: key_span(Some(&p.spans.global), "script_user"),
            default: None,
            path: search_path(),
            is_script: false,
            insecure: false,
            out,
            log: Vec::new(),
        }
    }

    fn warn(&mut self, span: Span, msg: String) {
        self.log.push(msg.clone());
        self.out
            .push(Diagnostic::warning(Code::ScriptSecurity, span, msg));
    }

    /// keepalived's `script_user`, else `keepalived_script`, else this
    /// process (refused under `enable_script_security`); resolved once,
    /// when a script first needs it (its lines are reported at that
    /// script unless `script_user` is written), as keepalived does.
    fn default(&mut self, at: Span) -> Option<Who> {
        if self.default.is_none() {
            let who = self.resolve_default(at);
            self.default = Some(who);
        }
        self.default.clone().flatten()
    }

    fn resolve_default(&mut self, at: Span) -> Option<Who> {
        if let Some(words) = self.script_user.clone() {
            let at = self.script_user_at;
            let who = self.lookup(&words, at);
            if who.is_none() {
                self.warn(at, "Error setting global script uid/gid".into());
            }
            return who;
        }
        if let Ok(run_as) = RunAs::lookup(DEFAULT_USER, None) {
            let words = Some(vec![DEFAULT_USER.to_owned()]);
            return Some(Who { words, run_as });
        }
        self.warn(at, format!("Script user '{DEFAULT_USER}' does not exist"));
        if self.enforce {
            let msg = format!("Unable to set default user {DEFAULT_USER} for script");
            self.warn(at, msg);
            return None;
        }
        Some(Who {
            words: None,
            run_as: self.me.clone(),
        })
    }

    /// `USER [GROUP]` resolved, with keepalived's log line if it fails.
    fn lookup(&mut self, words: &[String], at: Span) -> Option<Who> {
        let user = words.first()?;
        match RunAs::lookup(user, words.get(1).map(String::as_str)) {
            Ok(run_as) => Some(Who {
                words: Some(words.iter().take(2).cloned().collect()),
                run_as,
            }),
            Err(e) => {
                let msg = match e {
                    UserError::UnknownUser(u) => format!("Script user '{u}' does not exist"),
                    UserError::UnknownGroup(g) => format!("Script group '{g}' does not exist"),
                    _ => format!("Unable to resolve script username '{user}' - ignoring"),
                };
                self.warn(at, msg);
                None
            }
        }
    }

    fn vrrp_script(
        &mut self,
        v: &mut crate::model::VrrpScript,
        sp: Option<&crate::lower::ObjSpans>,
    ) -> Verdict {
        let Some(cmd) = v.script.as_deref().and_then(CommandLine::new) else {
            // "No script set" is the runner's business; nothing to check.
            return Verdict::Runs;
        };
        let who = match v.user.clone() {
            Some(words) => {
                let who = self.lookup(&words, key_span(sp, "user"));
                if who.is_none() {
                    let msg = format!("Unable to set uid/gid for script {}", cmd.quoted());
                    self.warn(key_span(sp, "user"), msg);
                }
                who
            }
            None => {
                let who = self.default(key_span(sp, "script"));
                if who.is_none() {
                    let msg = format!(
                        "Unable to set default user for vrrp script {} - removing",
                        v.name
                    );
                    self.warn(key_span(sp, "script"), msg);
                }
                who
            }
        };
        let Some(who) = who else {
            return Verdict::NoUser;
        };
        let flags = self.check(&cmd, &who, key_span(sp, "script"));
        let at = key_span(sp, "script");
        if flags.inhibit {
            self.warn(
                at,
                format!("Disabling track script {} due to insecure", v.name),
            );
        } else if flags.not_found {
            let msg = format!(
                "Disabling track script {} since not found/accessible",
                v.name
            );
            self.warn(at, msg);
        }
        if !flags.track_runs() {
            return Verdict::Disabled;
        }
        v.user = who.words;
        Verdict::Runs
    }

    /// Runs keepalived's file check for `cmd` as `who`, logging its lines.
    fn check(&mut self, cmd: &CommandLine, who: &Who, at: Span) -> security::Flags {
        let (uid, gid) = (who.run_as.uid, who.run_as.gid);
        let checked = security::check(cmd.program(), uid, gid, self.enforce, &self.path);
        for line in checked.log {
            self.warn(at, line);
        }
        self.is_script |= checked.flags.is_script;
        self.insecure |= checked.flags.insecure;
        checked.flags
    }

    /// Drops the entries naming removed scripts; those removed for want of
    /// a user are "not found", as keepalived's parser reports them.
    fn untrack(
        &mut self,
        list: &mut Vec<Track>,
        gone: &[String],
        unknown: &[String],
        owner: &str,
        at: Span,
    ) {
        for t in list.iter().filter(|t| unknown.contains(&t.name)) {
            let msg = format!("({owner}) track script {} not found, ignoring...", t.name);
            self.out
                .push(Diagnostic::warning(Code::ScriptSecurity, at, msg.clone()));
            self.log.push(msg);
        }
        list.retain(|t| !gone.contains(&t.name) && !unknown.contains(&t.name));
    }

    /// Each notify script: its user resolved (words after the first), then
    /// checked; unset if it may not run. keepalived's order: backup,
    /// master, fault, stop, deleted, notify, master_rx_lower_pri. A
    /// `notify_deleted` whose script may not run still changes the state
    /// word (an empty list).
    fn notify(&mut self, n: &mut Notify, sp: Option<&crate::lower::ObjSpans>) {
        let was_deleted = n.deleted.is_some();
        n.deleted = n.deleted.take().filter(|w| !w.is_empty());
        let slots = [
            ("notify_backup", &mut n.backup),
            ("notify_master", &mut n.master),
            ("notify_fault", &mut n.fault),
            ("notify_stop", &mut n.stop),
            ("notify_deleted", &mut n.deleted),
            ("notify", &mut n.any),
            ("notify_master_rx_lower_pri", &mut n.master_rx_lower_pri),
        ];
        for (key, slot) in slots {
            if let Some(words) = slot.take() {
                *slot = self.notify_script(words, key_span(sp, key), "notify");
            }
        }
        if was_deleted && n.deleted.is_none() {
            n.deleted = Some(Vec::new());
        }
    }

    /// The FIFO `{prefix}notify_fifo` and its script, as keepalived sets
    /// them up; `None` if unset or its user cannot be set.
    fn fifo(&mut self, c: &Config, prefix: &str) -> Option<Fifo> {
        let kind = format!("{prefix}notify_fifo");
        let set = setting(c, &kind)?;
        let (path, user) = set.args.split_first()?;
        let (who, failed) = if user.is_empty() {
            (self.default(set.span), "Failed to set default user")
        } else {
            (self.lookup(user, set.span), "Invalid user/group")
        };
        let Some(who) = who else {
            self.warn(set.span, format!("{failed} for {kind} {path} - ignoring"));
            return None;
        };
        let script = setting(c, &format!("{kind}_script"))
            .and_then(|sc| self.notify_script(sc.args.clone(), sc.span, &kind));
        Some(Fifo {
            path: path.clone(),
            owner: who.words.map(|_| (who.run_as.uid, who.run_as.gid)),
            script,
        })
    }

    fn notify_script(&mut self, words: Words, at: Span, kind: &str) -> Option<Words> {
        let (cmd, who) = self.notify_who(&words, at, kind)?;
        self.notify_checked(&words, &cmd, who, at)
    }

    /// The user a notify line runs as (its words after the script, else
    /// the default), with keepalived's lines if it cannot be set.
    fn notify_who(&mut self, words: &[String], at: Span, kind: &str) -> Option<(CommandLine, Who)> {
        let (first, user) = words.split_first()?;
        let cmd = CommandLine::parse(first)?;
        let who = if user.is_empty() {
            let who = self.default(at);
            if who.is_none() {
                let msg = format!(
                    "Failed to set default user for {kind} script {} - ignoring",
                    cmd.program()
                );
                self.warn(at, msg);
            }
            who
        } else {
            let who = self.lookup(user, at);
            if who.is_none() {
                let msg = format!(
                    "Invalid user/group for {kind} script {} - ignoring",
                    cmd.program()
                );
                self.warn(at, msg);
            }
            who
        }?;
        Some((cmd, who))
    }

    /// The notify line with its user made explicit, if the file check
    /// lets it run.
    fn notify_checked(
        &mut self,
        words: &[String],
        cmd: &CommandLine,
        who: Who,
        at: Span,
    ) -> Option<Words> {
        if !self.check(cmd, &who, at).notify_runs() {
            return None;
        }
        let mut out = vec![words.first()?.clone()];
        out.extend(who.words.unwrap_or_default());
        Some(out)
    }
}

fn has_vrrp_scripts(c: &Config) -> bool {
    !c.vrrp_scripts.is_empty()
        || c.vrrp_instances.iter().any(|i| i.notify.any_set())
        || c.vrrp_sync_groups.iter().any(|g| g.notify.any_set())
}

/// The command line and user of a notify line as the conversion leaves it:
/// the script, then `USER [GROUP]` (empty: this process runs it).
pub fn notify_parts(words: &[String]) -> Option<(CommandLine, &[String])> {
    let (first, user) = words.split_first()?;
    Some((CommandLine::parse(first)?, user))
}

#[cfg(all(test, feature = "convert-vrrp"))]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::test_lab::Lab;

    use super::*;
    use crate::convert::{convert, Converted};
    use crate::{parse_str, Options};

    fn conf(globals: &str, lab: &Lab, notify: &str) -> String {
        format!(
            "global_defs {{\n{globals}}}\n\
             vrrp_script bad {{\n  script \"{bad} x\"\n}}\n\
             vrrp_script good {{\n  script \"{good} y\"\n}}\n\
             vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 1\n  \
             track_script {{\n    bad\n    good\n  }}\n  notify_master {notify}\n  \
             virtual_ipaddress {{\n    192.0.2.1\n  }}\n}}\n",
            bad = lab.bad(),
            good = lab.good(),
        )
    }

    fn run(text: &str) -> (Vec<String>, Converted) {
        let parsed = parse_str("k.conf", text, &Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let out = convert(
            &parsed,
            Halves {
                vrrp: true,
                lvs: false,
            },
        );
        let d = out
            .diagnostics
            .iter()
            .map(|d| d.display(&parsed.sources).to_string())
            .collect();
        (d, out)
    }

    fn tracked(out: &Converted) -> (Vec<String>, Vec<Option<Words>>, Option<Words>) {
        let plan = out.vrrp.as_ref().unwrap();
        let i = &plan.units[0].instances[0];
        (
            i.scripts.iter().map(|t| t.name.clone()).collect(),
            plan.scripts.iter().map(|s| s.user.clone()).collect(),
            i.notify.master.clone(),
        )
    }

    #[test]
    fn security_disables_a_world_writable_script_and_keeps_the_safe_one() {
        let lab = Lab::new("sec-enforce");
        let text = conf(
            "  enable_script_security\n  script_user root\n",
            &lab,
            &format!("\"{}\"", lab.bad()),
        );
        let (d, out) = run(&text);
        let bad = lab.bad();
        // Sorted by line, then text.
        assert_eq!(
            d,
            [
                "k.conf:6:3: warning: Disabling track script bad due to insecure".into(),
                format!("k.conf:6:3: warning: Unsafe permissions found for script '{bad}' - disabling."),
                format!("k.conf:18:3: warning: Unsafe permissions found for script '{bad}' - disabling."),
            ]
        );
        // The daemon logs them in keepalived's order.
        let unsafe_line = format!("Unsafe permissions found for script '{bad}' - disabling.");
        assert_eq!(
            out.script_log,
            [
                unsafe_line.clone(),
                "Disabling track script bad due to insecure".into(),
                unsafe_line,
            ]
        );
        let root = Some(vec!["root".to_owned()]);
        assert_eq!(tracked(&out), (vec!["good".into()], vec![root], None));
    }

    #[test]
    fn without_security_everything_runs_with_keepalived_warning() {
        let lab = Lab::new("sec-open");
        let text = conf(
            "  script_user root\n",
            &lab,
            &format!("\"{}\" root", lab.good()),
        );
        let (d, out) = run(&text);
        assert_eq!(
            d,
            [
                "warning: SECURITY VIOLATION - scripts are being executed but script_security \
                 not enabled. There are insecure scripts."
                    .to_owned(),
                format!(
                    "k.conf:5:3: warning: Unsafe permissions found for script '{}'.",
                    lab.bad()
                ),
            ]
        );
        let root = Some(vec!["root".to_owned()]);
        let master = Some(vec![lab.good(), "root".into()]);
        assert_eq!(
            tracked(&out),
            (
                vec!["bad".into(), "good".into()],
                vec![root.clone(), root],
                master
            )
        );
    }

    #[test]
    fn another_user_runs_a_script_root_could_not() {
        let lab = Lab::new("sec-nobody");
        let text = conf(
            "  enable_script_security\n  script_user nobody\n",
            &lab,
            &format!("\"{}\" no-such-user-vc", lab.good()),
        );
        let (d, out) = run(&text);
        assert_eq!(
            d,
            [
                &format!(
                    "k.conf:18:3: warning: Invalid user/group for notify script {} - ignoring",
                    lab.good()
                ),
                "k.conf:18:3: warning: Script user 'no-such-user-vc' does not exist",
            ]
        );
        let nobody = Some(vec!["nobody".to_owned()]);
        assert_eq!(
            tracked(&out),
            (
                vec!["bad".into(), "good".into()],
                vec![nobody.clone(), nobody],
                None
            )
        );
    }

    #[test]
    fn security_without_a_default_user_removes_every_script() {
        if RunAs::lookup(DEFAULT_USER, None).is_ok() {
            return; // This host has keepalived's default script user.
        }
        let lab = Lab::new("sec-nouser");
        let text = conf(
            "  enable_script_security\n",
            &lab,
            &format!("\"{}\"", lab.good()),
        );
        let (d, out) = run(&text);
        assert_eq!(
            d,
            [
                "k.conf:5:3: warning: Script user 'keepalived_script' does not exist",
                "k.conf:5:3: warning: Unable to set default user for vrrp script bad - removing",
                "k.conf:5:3: warning: Unable to set default user keepalived_script for script",
                "k.conf:8:3: warning: Unable to set default user for vrrp script good - removing",
                "k.conf:13:3: warning: (VI_1) track script bad not found, ignoring...",
                "k.conf:13:3: warning: (VI_1) track script good not found, ignoring...",
                &format!(
                    "k.conf:17:3: warning: Failed to set default user for notify script {} - ignoring",
                    lab.good()
                ),
            ]
            .map(str::to_owned)
            .to_vec()
        );
        assert_eq!(tracked(&out), (vec![], vec![], None));
    }

    #[test]
    fn fifos_with_their_owner_and_checked_script() {
        let lab = Lab::new("sec-fifo");
        let globals = format!(
            "  script_user root\n  vrrp_notify_fifo /run/f.fifo nobody\n  \
             vrrp_notify_fifo_script \"{} a\"\n  notify_fifo /run/g.fifo\n  \
             notify_fifo_script {}\n",
            lab.good(),
            lab.bad()
        );
        let text = conf(&globals, &lab, &format!("\"{}\"", lab.good()));
        let (_, out) = run(&text);
        assert_eq!(
            out.fifos,
            Fifos {
                vrrp: Some(Fifo {
                    path: "/run/f.fifo".into(),
                    owner: Some((65534, 65534)),
                    script: Some(vec![format!("{} a", lab.good()), "root".into()]),
                }),
                // Its script is insecure but enforcement is off: it runs.
                notify: Some(Fifo {
                    path: "/run/g.fifo".into(),
                    owner: Some((0, 0)),
                    script: Some(vec![lab.bad(), "root".into()]),
                }),
                lvs: None,
            }
        );
    }

    #[test]
    fn notify_words_split_into_script_and_user() {
        let w = |s: &[&str]| s.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
        let words = w(&["/x.sh a", "nobody", "nogroup"]);
        let (cmd, user) = notify_parts(&words).unwrap();
        assert_eq!((cmd.line(), user), ("/x.sh a", &words[1..]));
        let words = w(&["/x.sh"]);
        let (_, user) = notify_parts(&words).unwrap();
        assert!(user.is_empty());
        assert!(notify_parts(&[]).is_none());
    }
}
