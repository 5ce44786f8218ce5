//! The one conversion from the parsed model to the keepalived crates'
//! configurations, with keepalived 2.2.7's defaults: the place that decides
//! what runs.
//!
//! - [`vrrp`] (feature `convert-vrrp`): `vrrp_instance`, `vrrp_sync_group`,
//!   `vrrp_script` and the static addresses and routes, to the `vrrp`
//!   crate's Linux driver [`Setup`](::vrrp::linux::driver::Setup)s;
//! - [`lvs`] (feature `convert-lvs`): `virtual_server`s to `ipvs`
//!   services and `healthcheck` targets;
//! - [`mail`]: the SMTP alert settings and which objects send alerts;
//! - [`process`]: the process-level settings (namespace, pid files, umask).
//!
//! [`convert`] runs the halves a process runs and returns their plans with
//! diagnostics. Nothing is silently ignored: every keyword either reaches
//! the crates (and works as in keepalived) or is refused with an error
//! whose text contains "not supported" and names the keyword, at its
//! file:line. The exception is a short list of pure tuning keywords
//! ([`TUNING`]: CPU affinity, rlimits, scheduling priorities, process
//! names, netlink buffer sizes); each gives a warning-level note.
//!
//! # Example
//! ```
//! # #[cfg(all(feature = "convert-vrrp", feature = "convert-lvs"))] {
//! use vrrp_conf::convert::{convert, Halves};
//!
//! let text = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 51\n\
//!             \n  virtual_ipaddress {\n    192.0.2.1/24\n  }\n}\n\
//!             global_defs {\n  vrrp_skip_check_adv_addr\n}\n";
//! let parsed = vrrp_conf::parse_str("keepalived.conf", text, &Default::default());
//! let out = convert(&parsed, Halves::keepalived(&parsed.config, false, false));
//! let refused: Vec<String> =
//!     out.refusals().map(|d| d.display(&parsed.sources).to_string()).collect();
//! assert_eq!(
//!     refused,
//!     ["keepalived.conf:10:3: error: vrrp_skip_check_adv_addr after a vrrp_instance \
//!       is not supported by keepalived-lite"]
//! );
//! assert!(out.vrrp.is_none(), "nothing runs while anything is refused");
//! # }
//! ```

use crate::diagnostics::{Code, Diagnostic, Severity};
use crate::lower::ObjSpans;
use crate::model::{Config, Setting};
use crate::span::Span;
use crate::Parsed;

mod audit;
#[cfg(feature = "convert-lvs")]
#[cfg_attr(docsrs, doc(cfg(feature = "convert-lvs")))]
pub mod lvs;
pub mod mail;
pub mod process;
#[cfg(any(feature = "convert-vrrp", feature = "convert-lvs"))]
#[cfg_attr(
    docsrs,
    doc(cfg(any(feature = "convert-vrrp", feature = "convert-lvs")))
)]
pub mod scripts;
pub mod snmp;
#[cfg(feature = "convert-vrrp")]
#[cfg_attr(docsrs, doc(cfg(feature = "convert-vrrp")))]
pub mod vrrp;

pub use audit::{ROOT_TUNING, TUNING};

/// Which halves of keepalived a process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Halves {
    /// The VRRP half (`vrrp_instance`, ...).
    pub vrrp: bool,
    /// The checker half (`virtual_server`, ...).
    pub lvs: bool,
}

impl Halves {
    /// keepalived's choice: `-P` (`vrrp_only`) runs VRRP, `-C`
    /// (`check_only`) the checker; otherwise VRRP runs unless the
    /// configuration has only `virtual_server`s, and the checker runs if
    /// there is any.
    pub fn keepalived(c: &Config, vrrp_only: bool, check_only: bool) -> Self {
        let has_vs = !c.virtual_servers.is_empty() || !c.virtual_server_groups.is_empty();
        Halves {
            vrrp: !check_only && (vrrp_only || !c.vrrp_instances.is_empty() || !has_vs),
            lvs: !vrrp_only && (check_only || has_vs),
        }
    }
}

/// What [`convert`] made of a configuration.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Converted {
    /// The VRRP plan, if that half was asked for and nothing was refused.
    #[cfg(feature = "convert-vrrp")]
    #[cfg_attr(docsrs, doc(cfg(feature = "convert-vrrp")))]
    pub vrrp: Option<vrrp::Plan>,
    /// The checker plan, if that half was asked for and nothing was refused.
    #[cfg(feature = "convert-lvs")]
    #[cfg_attr(docsrs, doc(cfg(feature = "convert-lvs")))]
    pub lvs: Option<lvs::Plan>,
    /// The VRRP half's notify FIFOs.
    #[cfg(any(feature = "convert-vrrp", feature = "convert-lvs"))]
    pub fifos: scripts::Fifos,
    /// keepalived's log lines about the scripts (users, disabled scripts,
    /// security), in its order; also among `diagnostics`, by line there.
    #[cfg(any(feature = "convert-vrrp", feature = "convert-lvs"))]
    pub script_log: Vec<String>,
    /// The process-level settings (pid files, namespace, umask).
    pub process: process::Process,
    /// Refusals (errors) and notes (warnings), in file and line order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Converted {
    /// The refusals: the conversion's errors that stop the daemon
    /// ([`Diagnostic::stops_start`]).
    pub fn refusals(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics.iter().filter(|d| d.stops_start())
    }

    /// keepalived's configuration errors that it runs past
    /// ([`Code::KeepalivedError`]): `-t` fails with them, the daemon logs
    /// them and runs.
    pub fn config_errors(&self) -> impl Iterator<Item = &Diagnostic> {
        (self.diagnostics.iter()).filter(|d| d.severity == Severity::Error && !d.stops_start())
    }

    /// True if anything was refused (then no plan is returned).
    pub fn is_refused(&self) -> bool {
        self.refusals().next().is_some()
    }
}

/// Converts the `halves` of `parsed` a process runs. Only the conversion's
/// own diagnostics are returned: the parse diagnostics stay in `parsed`.
/// If anything is refused, no plan is returned at all, so that what runs
/// is exactly what the configuration says.
pub fn convert(parsed: &Parsed, halves: Halves) -> Converted {
    let mut diags = Vec::new();
    audit::common(parsed, &mut diags);
    #[allow(unused_mut, reason = "the scripts' check needs a feature")]
    let mut process = process::Process::of(parsed, &mut diags);
    if halves.vrrp {
        audit::vrrp(parsed, &mut diags);
    }
    if !halves.lvs {
        audit::without_checker(parsed, &mut diags);
    }
    if !halves.vrrp {
        audit::without_vrrp(parsed, &mut diags);
    }
    // Scripts' users made explicit, disabled scripts removed.
    #[cfg(any(feature = "convert-vrrp", feature = "convert-lvs"))]
    let scripts::Secured {
        config,
        fifos,
        mut log,
    } = scripts::secure(parsed, halves, &mut diags);
    #[cfg(any(feature = "convert-vrrp", feature = "convert-lvs"))]
    log.extend(scripts::start_stop(parsed, &mut process, &mut diags));
    #[cfg(not(any(feature = "convert-vrrp", feature = "convert-lvs")))]
    for (k, on) in [
        ("startup_script", process.startup.take().is_some()),
        ("shutdown_script", process.shutdown.take().is_some()),
    ] {
        if on {
            diags.push(without_feature(k, "convert-vrrp or convert-lvs"));
        }
    }
    #[cfg(any(feature = "convert-vrrp", feature = "convert-lvs"))]
    #[allow(unused_mut, reason = "the checker's scripts need a feature")]
    let mut secured = config.map(|config| Parsed {
        config,
        ..parsed.clone()
    });
    // The checker half's scripts, secured the same way.
    #[cfg(feature = "convert-lvs")]
    if halves.lvs {
        let p = secured.get_or_insert_with(|| parsed.clone());
        log.extend(scripts::checker::secure(p, &fifos, &mut diags));
    }
    #[cfg(feature = "convert-vrrp")]
    let vrrp = halves
        .vrrp
        .then(|| vrrp::convert(secured.as_ref().unwrap_or(parsed), &mut diags));
    #[cfg(not(feature = "convert-vrrp"))]
    if halves.vrrp {
        diags.push(without_feature("the VRRP half", "convert-vrrp"));
    }
    #[cfg(feature = "convert-lvs")]
    let lvs = halves
        .lvs
        .then(|| lvs::convert(secured.as_ref().unwrap_or(parsed), &mut diags));
    #[cfg(not(feature = "convert-lvs"))]
    if halves.lvs {
        diags.push(without_feature("the checker half", "convert-lvs"));
    }
    order(&mut diags);
    #[cfg(any(feature = "convert-vrrp", feature = "convert-lvs"))]
    let refused = diags.iter().any(Diagnostic::stops_start);
    Converted {
        #[cfg(feature = "convert-vrrp")]
        vrrp: vrrp.flatten().filter(|_| !refused),
        #[cfg(feature = "convert-lvs")]
        lvs: lvs.flatten().filter(|_| !refused),
        #[cfg(any(feature = "convert-vrrp", feature = "convert-lvs"))]
        fifos,
        #[cfg(any(feature = "convert-vrrp", feature = "convert-lvs"))]
        script_log: log,
        process,
        diagnostics: diags,
    }
}

/// Sorts `diags` by position, and drops repeats at a position: the audit
/// and a plan may refuse the same keyword in the same words. At one
/// position keepalived's configuration errors come first, in the order they
/// were made (keepalived's order of the lines for one entry, which its
/// readers follow), then the rest by text.
fn order(diags: &mut Vec<Diagnostic>) {
    let at = |d: &Diagnostic| (d.span.file, d.span.line, d.span.col);
    diags.sort_by(|a, b| {
        let text = |d| Some(d).filter(|d: &&Diagnostic| d.code != Code::KeepalivedError);
        let (ta, tb) = (text(a).map(|d| &d.message), text(b).map(|d| &d.message));
        at(a).cmp(&at(b)).then_with(|| ta.cmp(&tb))
    });
    let mut kept: Vec<Diagnostic> = Vec::with_capacity(diags.len());
    for d in diags.drain(..) {
        let same_place = kept.iter().rev().take_while(|k| at(k) == at(&d));
        if !same_place.into_iter().any(|k| *k == d) {
            kept.push(d);
        }
    }
    *diags = kept;
}

#[cfg(any(not(feature = "convert-vrrp"), not(feature = "convert-lvs")))]
fn without_feature(what: &str, feature: &str) -> Diagnostic {
    let msg = format!("{what} is not supported without vrrp-conf's feature {feature}");
    Diagnostic::error(Code::Unsupported, Span::default(), msg)
}

/// A refusal of `keyword` at `span`: the text says "not supported".
pub(crate) fn refuse(span: Span, keyword: &str, context: &str) -> Diagnostic {
    let msg = if context.is_empty() {
        format!("{keyword} is not supported by keepalived-lite")
    } else {
        format!("({context}) {keyword} is not supported by keepalived-lite")
    };
    Diagnostic::error(Code::Unsupported, span, msg)
}

/// A refusal of every setting in `other` except those `keep` accepts.
pub(crate) fn refuse_settings(
    other: &[Setting],
    context: &str,
    keep: &dyn Fn(&Setting) -> bool,
    out: &mut Vec<Diagnostic>,
) {
    for s in other.iter().filter(|s| !keep(s)) {
        out.push(refuse(s.span, &s.keyword, context));
    }
}

/// The span of `key` in `sp`, if one was recorded.
pub(crate) fn key_span(sp: Option<&ObjSpans>, key: &str) -> Span {
    sp.map_or(Span::default(), |s| s.key(key))
}

#[cfg(all(test, feature = "convert-vrrp", feature = "convert-lvs"))]
mod tests;
