//! `track_interface` on an interface an instance watches anyway, as
//! keepalived 2.2.7 does it: its own interface in the instance's list is
//! ignored; a sync group's entry that a member tracks already (its own
//! interface, or one in its list) is merged, not added twice: the group's
//! weight replaces a weighted one, an unweighted one stays unweighted
//! (vrrp.c, `add_vrrp_to_interface`). Both are its configuration errors.

use super::Tracked;
use crate::diagnostics::{Code, Diagnostic};
use crate::model::VrrpInstance;
use crate::Parsed;

/// Whether `name` is `i`'s own interface.
fn is_own(i: &VrrpInstance, name: &str) -> bool {
    i.interface.as_deref() == Some(name)
}

/// Whether `i` counts its entry `name` (not its own interface).
pub(super) fn counts(i: &VrrpInstance, name: &str) -> bool {
    !is_own(i, name)
}

/// Adds a sync group's tracked interface `t` to member `i`'s list `own`.
pub(super) fn merge_group(i: &VrrpInstance, own: &mut Vec<Tracked>, t: Tracked) {
    // Its own interface is watched unweighted, unless dont_track_primary.
    if is_own(i, &t.name) && !i.dont_track_primary {
        return;
    }
    match own.iter_mut().find(|o| o.name == t.name) {
        Some(o) if o.weight != 0 => {
            o.weight = t.weight;
            o.reverse = t.reverse;
        }
        Some(_) => {}
        None => own.push(t),
    }
}

/// keepalived's configuration errors for these, in its words.
pub(super) fn notes(p: &Parsed, out: &mut Vec<Diagnostic>) {
    let c = &p.config;
    for (i, sp) in c.vrrp_instances.iter().zip(&p.spans.instances) {
        for t in i.track_interface.iter().filter(|t| is_own(i, &t.name)) {
            let msg = format!(
                "({}) Ignoring track_interface {} since own interface",
                i.name, t.name
            );
            let at = sp.key("track_interface");
            out.push(Diagnostic::error(Code::KeepalivedError, at, msg));
        }
    }
    for (g, sp) in c.vrrp_sync_groups.iter().zip(&p.spans.groups) {
        let members =
            (g.group.iter()).filter_map(|m| c.vrrp_instances.iter().find(|i| &i.name == m));
        for i in members {
            for t in &g.track_interface {
                let own = is_own(i, &t.name) && !i.dont_track_primary;
                let listed = i.track_interface.iter().any(|o| o.name == t.name);
                if own || (listed && counts(i, &t.name)) {
                    let msg = format!(
                        "({}) track_interface {} is configured on VRRP instance and sync \
                         group. Remove vrrp instance or sync group config",
                        i.name, t.name
                    );
                    let at = sp.key("track_interface");
                    out.push(Diagnostic::error(Code::KeepalivedError, at, msg));
                }
            }
        }
    }
}
