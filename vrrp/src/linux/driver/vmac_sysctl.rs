//! The IPv4 sysctls keepalived 2.2.7 sets for an IPv4 VMAC it makes: on
//! the VMAC `arp_ignore` 1, `accept_local` 1, `rp_filter` 0 and
//! `promote_secondaries` 1; on the interface under it `arp_ignore` 1 and
//! `arp_filter` 1.
//!
//! keepalived 2.2.7 leaves the base interface so after stop (its reset
//! writes back the values the kernel last reported to it, which are by
//! then the new ones), and so does the driver.

use super::Driver;
use crate::linux::sysctl::ipv4_conf;
use crate::linux::Link;

/// keepalived's sysctls of an IPv4 VMAC.
const VMAC_SYSCTLS: [(&str, &str); 4] = [
    ("arp_ignore", "1"),
    ("accept_local", "1"),
    ("rp_filter", "0"),
    ("promote_secondaries", "1"),
];
/// What the interface under an IPv4 VMAC gets.
const BASE_SYSCTLS: [(&str, &str); 2] = [("arp_ignore", "1"), ("arp_filter", "1")];

impl Driver {
    /// Sets keepalived's sysctls for a new IPv4 VMAC `vmac` on `base`.
    pub(super) fn set_vmac_sysctls(&mut self, vmac: &Link, base: &Link) {
        for (key, value) in VMAC_SYSCTLS {
            write_conf4(&vmac.name, key, value);
        }
        for (key, value) in BASE_SYSCTLS {
            write_conf4(&base.name, key, value);
        }
    }
}

/// Writes an IPv4 interface sysctl; one missing (a kernel without the
/// key) is left alone: keepalived's setting is best effort too.
fn write_conf4(ifname: &str, key: &str, value: &str) {
    if let Some(path) = ipv4_conf(ifname, key) {
        let _ = std::fs::write(path, value);
    }
}
