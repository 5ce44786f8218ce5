//! The driver's policy routing rules: a router's `virtual_rules` are
//! installed when it becomes master and removed when it leaves master,
//! like its routes.

use libc::{EEXIST, ENODEV, ENOENT};

use super::Driver;
use crate::linux::RuleSpec;

impl Driver {
    /// Adds `rules`; one already there is not an error (keepalived's
    /// rules survive a crash of the process that added them).
    pub(super) fn add_rules(&mut self, rules: &[RuleSpec]) {
        for rule in rules {
            match self.netlink.add_rule(rule) {
                Err(e) if e.errno() != Some(EEXIST) => self.host_error("add rule", e),
                _ => {}
            }
        }
    }

    /// Removes `rules`; one already gone is not an error.
    pub(super) fn del_rules(&mut self, rules: &[RuleSpec]) {
        for rule in rules {
            match self.netlink.del_rule(rule) {
                Ok(()) => self.deleted_own_rule(rule),
                Err(e) if !matches!(e.errno(), Some(ENOENT | ENODEV)) => {
                    self.host_error("delete rule", e)
                }
                Err(_) => {}
            }
        }
    }
}
