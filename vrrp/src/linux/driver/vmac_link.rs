//! A router's own VMAC going down or up. keepalived 2.2.7 tracks an
//! instance's VMAC as it tracks its interface (`process_if_status_change`
//! in `keepalived_netlink.c`): "Netlink reports vrrp.51 down", the
//! instance goes to FAULT, and back when the VMAC is up again, after the
//! base interface's `interface_up_down_delays` (a VMAC inherits them,
//! `vrrp.c`). The VMAC stays as its owner set it: keepalived does not
//! bring it back up. Here the down VMAC is a failed tracked object of
//! weight 0 for its router, on top of what the embedder tracks. A deleted
//! VMAC is `links.rs`'s (`vmac_gone`); a renamed one is handled as a
//! deleted one (keepalived makes a new one of the name it gave it).
//! A reload that gives a router another VMAC name or MAC moves it to
//! the new VMAC in place (`renamed_vmac`, `swap_vmacs`, `move_vmac`).

use std::collections::HashSet;
use std::time::Instant;

use super::debounce::{flags_up, Verdict};
use super::{Driver, DriverEvent};
use crate::linux::Link;
use crate::mux::RouterId;
use crate::router::Tracking;

/// `IFF_UP`.
const IFF_UP: u32 = 0x1;
/// `IFF_RUNNING`.
const IFF_RUNNING: u32 = 0x40;
/// A macvlan that is up: UP, BROADCAST, RUNNING, MULTICAST, LOWER_UP.
const UP_FLAGS: u32 = 0x11043;

impl Driver {
    /// `link` was reported (not deleted). False if it is no router's VMAC.
    pub(super) fn vmac_link_changed(&mut self, now: Instant, link: &Link) -> bool {
        let owner = self.vmac_owners(link.index).first().copied();
        let Some(r) = owner.and_then(|i| self.io(i)) else {
            return false;
        };
        let known = self.vmac_flags.get(&link.index).map(|(n, _)| n.clone());
        if let Some(from) = known.filter(|n| *n != link.name) {
            self.vmac_renamed(now, link.index, from, &link.name);
            return true;
        }
        // Its delays are its base interface's.
        let base = r.spec.interface.clone();
        // Reports queue up behind the driver: the VMAC's creation reports
        // it down before up. What the kernel says now is what counts.
        let flags = match self.netlink.link(&link.name) {
            Ok(l) if l.index == link.index => l.flags,
            _ => return true,
        };
        // First seen: as the driver made it (up), unless it is up already.
        let up_now = if flags_up(flags) { flags } else { UP_FLAGS };
        let entry = (self.vmac_flags.entry(link.index)).or_insert((link.name.clone(), up_now));
        let last = entry.1;
        let (verdict, note) = self.debounce.report(now, link.index, &base, last, flags);
        self.emit_link_note(link.name.clone(), note);
        if verdict == Verdict::Act {
            self.act_on_vmac(now, link.index, &link.name, flags);
        }
        true
    }

    /// True (and acted on) if `index` is a VMAC whose delayed change of
    /// `flags` is due.
    pub(super) fn vmac_debounced(&mut self, now: Instant, index: u32, flags: u32) -> bool {
        let Some((name, _)) = self.vmac_flags.get(&index).cloned() else {
            return false;
        };
        self.act_on_vmac(now, index, &name, flags);
        true
    }

    /// The VMAC `index` now has `flags`: its routers and the embedder
    /// learn it if it went up or down.
    fn act_on_vmac(&mut self, now: Instant, index: u32, name: &str, flags: u32) {
        let last = self.vmac_flags.insert(index, (name.to_owned(), flags));
        if last.is_some_and(|(_, l)| flags_up(l) == flags_up(flags)) {
            return;
        }
        self.emit(DriverEvent::Interface {
            link: vmac_link(index, name, flags),
        });
        for i in self.vmac_owners(index) {
            self.apply_tracking(now, i);
        }
    }

    /// The routers whose VMAC is link `index`.
    fn vmac_owners(&self, index: u32) -> Vec<usize> {
        (0..self.routers.len())
            .filter(|&i| self.io(i).is_some_and(|r| r.vmac == Some(index)))
            .collect()
    }

    /// What router `i` tracks: the embedder's tracking, failed (weight 0)
    /// while its VMAC is down. `None`: nothing was ever tracked.
    pub(super) fn tracking_of(&self, i: usize) -> Option<Tracking> {
        let r = self.io(i)?;
        let last = r.vmac.and_then(|v| self.vmac_flags.get(&v));
        if self.source_quirk.is_stuck(&r.name) {
            let t = r.tracking.unwrap_or_default();
            return Some(Tracking { fault: true, ..t });
        }
        match last {
            Some(&(_, f)) if !flags_up(f) => Some(Tracking {
                fault: true,
                ..r.tracking.unwrap_or_default()
            }),
            _ => r.tracking,
        }
    }

    /// Hands router `i`'s tracking to its state machine.
    pub(super) fn apply_tracking(&mut self, now: Instant, i: usize) {
        let t = self.tracking_of(i).unwrap_or_default();
        self.mux.handle_tracking(now, RouterId(i as u32), t);
    }

    /// VMAC `index` of routers `owners` was deleted: reported down if it
    /// was up (keepalived sees its flags go to 0), and nothing is known or
    /// waits about it any more. Its routers make it again.
    pub(super) fn forget_vmac(&mut self, index: u32, owners: &[usize]) {
        if let Some((name, flags)) = self.vmac_flags.remove(&index) {
            if flags_up(flags) {
                self.emit(DriverEvent::Interface {
                    link: vmac_link(index, &name, 0),
                });
            }
        }
        self.debounce.forget(index);
        self.vmac_remade.extend(owners);
    }

    /// VMAC `index` was renamed from `from` to `to`: as keepalived does,
    /// its routers treat it as deleted, without reporting it down, and
    /// make one of their name again; the renamed one is left alone.
    fn vmac_renamed(&mut self, now: Instant, index: u32, from: String, to: &str) {
        self.vmac_flags.remove(&index);
        self.emit(DriverEvent::VmacRenamed {
            from,
            to: to.to_owned(),
        });
        self.vmac_gone(now, index);
    }

    /// Router `i` has made VMAC `vmac` (up): one made again after a
    /// deletion is reported up, as keepalived reports the new link.
    pub(super) fn vmac_made(&mut self, i: usize, vmac: &Link) {
        let remade = self.vmac_remade.remove(&i);
        if self.vmac_flags.contains_key(&vmac.index) {
            return; // reused: known already
        }
        let up = flags_up(vmac.flags);
        let flags = if up { vmac.flags } else { UP_FLAGS };
        (self.vmac_flags).insert(vmac.index, (vmac.name.clone(), flags));
        if remade {
            self.emit(DriverEvent::Interface {
                link: vmac_link(vmac.index, &vmac.name, flags),
            });
        }
    }
}

/// VMAC `index` with `flags`, as the embedder hears of it.
fn vmac_link(index: u32, name: &str, flags: u32) -> Link {
    Link {
        index,
        name: name.to_owned(),
        mac: None,
        up: flags & IFF_UP != 0,
        running: flags & IFF_RUNNING != 0,
        flags,
    }
}

/// A VMAC made while preparing a reload in place of a running router's
/// with the same MAC (a rename): made with a stand-in MAC, it takes
/// `mac` when the commit has deleted the old one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct VmacSwap {
    /// The running router's VMAC.
    pub(super) old: u32,
    /// The new VMAC.
    pub(super) new: u32,
    /// The MAC both want.
    pub(super) mac: [u8; 6],
}

/// The MACs a renamed VMAC may have until its old one is gone (the
/// kernel refuses a second macvlan up with one MAC on an interface), in
/// the order to try them: `mac` with another first byte, locally
/// administered and unicast, `mac`'s own first byte made so first.
pub(super) fn stand_in_macs(mac: [u8; 6]) -> impl Iterator<Item = [u8; 6]> {
    // Bits 0 (multicast) and 1 (local) are fixed: 64 first bytes.
    let first = (mac[0] | 0x02) & !0x01;
    (0..64u8)
        .map(move |k| first.wrapping_add(k << 2))
        .map(move |b| {
            let mut m = mac;
            m[0] = b;
            m
        })
        .filter(move |m| *m != mac)
}

impl Driver {
    /// The VMAC of router `old` that a new VMAC with `mac` on `link` takes
    /// the place of (a reload renames it: same MAC, another name). As
    /// keepalived 2.2.7 does ("Deleting old VMAC interface"), the old one
    /// goes, but only once the reload is committed (see [`VmacSwap`]): a
    /// refused reload leaves it running.
    pub(super) fn renamed_vmac(
        &self,
        old: Option<RouterId>,
        link: &Link,
        mac: [u8; 6],
    ) -> Option<u32> {
        let r = old.and_then(|id| self.io(id.0 as usize))?;
        r.vmac
            .filter(|_| r.recv_ifindex == link.index && r.mac == mac)
    }

    /// Commits renames prepared by a reload: each old VMAC is deleted
    /// (unless gone already) and its new one given its MAC.
    pub(super) fn swap_vmacs(&mut self, swaps: &[VmacSwap]) {
        for s in swaps {
            match self.netlink.del_link(s.old) {
                Err(e) if e.errno() != Some(libc::ENODEV) => self.host_error("delete VMAC", e),
                _ => {}
            }
            if let Err(e) = self.netlink.set_link_mac(s.new, s.mac) {
                self.host_error("set VMAC address", e);
            }
        }
    }

    /// Router `i` now sends on VMAC `vmac` (a reload renamed its VMAC or
    /// gave it another MAC): the old VMAC is deleted unless the new setup
    /// uses it (`kept`), and forgotten. Nothing if `vmac` is its VMAC.
    /// True if it moved.
    pub(super) fn move_vmac(&mut self, i: usize, vmac: &Link, kept: &HashSet<u32>) -> bool {
        let Some(r) = self.routers.get_mut(i).and_then(Option::as_mut) else {
            return false;
        };
        let Some(old) = r.vmac.filter(|v| *v != vmac.index) else {
            return false;
        };
        r.send_ifindex = vmac.index;
        r.mac = vmac.mac.unwrap_or([0; 6]);
        r.vmac = Some(vmac.index);
        self.vmac_flags.remove(&old);
        self.debounce.forget(old);
        if !kept.contains(&old) {
            // Gone already if it had the new one's MAC (`swap_vmacs`).
            match self.netlink.del_link(old) {
                Err(e) if e.errno() != Some(libc::ENODEV) => self.host_error("delete VMAC", e),
                _ => {}
            }
        }
        self.firewall.touch();
        self.vmac_made(i, vmac);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::stand_in_macs;

    #[test]
    fn stand_in_macs_are_local_unicast_and_differ() {
        let vrrp = [0x00, 0x00, 0x5e, 0x00, 0x01, 0x33];
        let got: Vec<_> = stand_in_macs(vrrp).collect();
        assert_eq!(got.len(), 64);
        assert_eq!(got[0], [0x02, 0x00, 0x5e, 0x00, 0x01, 0x33]);
        assert_eq!(got[1], [0x06, 0x00, 0x5e, 0x00, 0x01, 0x33]);
        assert_eq!(got[63], [0xfe, 0x00, 0x5e, 0x00, 0x01, 0x33]);
        let local = [0x02, 0x78, 0, 0, 0, 0x33];
        let got: Vec<_> = stand_in_macs(local).collect();
        assert_eq!(got.len(), 63, "never the MAC itself");
        assert_eq!(got[0], [0x06, 0x78, 0, 0, 0, 0x33]);
        for m in got {
            assert_eq!((m[0] & 0x03, &m[1..]), (0x02, &local[1..]), "{m:x?}");
        }
    }
}
