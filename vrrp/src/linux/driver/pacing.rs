//! The send path of gratuitous ARPs and NAs: every announcement goes
//! through the process's one [`GarpPacer`](crate::pacing::GarpPacer),
//! which spaces them per interface as keepalived does (see
//! [`crate::pacing`]).

use std::time::Instant;

use super::kernel::Vip;
use super::{Driver, GarpPacing};
use crate::linux::LinuxError;
use crate::pacing::{Announce, Kind, PacingConfig};

impl Driver {
    /// Takes `spec` as the spacing, with the interface names resolved now
    /// (an unchanged spec is left alone). What is queued stays queued.
    pub(super) fn configure_pacing(&mut self, spec: GarpPacing) {
        if spec == self.pacing_spec {
            return;
        }
        let groups = spec
            .groups
            .iter()
            .map(|(intervals, names)| {
                let ifaces = names
                    .iter()
                    .filter_map(|n| self.netlink.link(n).ok().map(|l| l.index))
                    .collect();
                (*intervals, ifaces)
            })
            .collect();
        let config = PacingConfig {
            default: spec.default,
            groups,
        };
        self.pacer.set_config(&config);
        self.pacing_spec = spec;
    }

    /// Gratuitous ARPs (NAs for IPv6) for router `i`'s addresses, or only
    /// `only` of them, `repeat` rounds, each announcing every address once
    /// (keepalived's order). One the pacer holds back is sent later by
    /// [`send_due`](Self::send_due).
    pub(super) fn send_garps_for(&mut self, i: usize, only: Option<&[Vip]>, repeat: u32) {
        let Some(r) = self.io(i) else {
            return;
        };
        let wanted = |a: &(usize, &Vip)| only.is_none_or(|o| o.contains(a.1));
        let list: Vec<Announce> = (r.addresses.iter().enumerate().filter(wanted))
            .map(|(n, a)| announce_of(i, n, a, r.vmac, r.recv_ifindex))
            .collect();
        let now = self.last_now;
        let mut failed = None;
        for _ in 0..repeat {
            for a in &list {
                if self.pacer.announce(now, *a) {
                    if let Err(e) = self.announce_now(a) {
                        failed = Some(e);
                    }
                }
            }
        }
        self.report_garp_error(failed);
    }

    /// Starts router `i`'s `garp_extra_if` period: it became master at
    /// `now`. keepalived checks the period at each advert, which it sends
    /// every advert interval from becoming master: its extra GARPs come
    /// every period rounded up to whole advert intervals.
    pub(super) fn arm_extra_if(&mut self, i: usize, now: Instant) {
        let Some(r) = self.io(i) else { return };
        let Some(d) = r.spec.config.garp_extra_if else {
            return;
        };
        let advert = r.spec.config.advert_interval();
        let period = match advert.as_nanos() {
            0 => d,
            a => {
                let n = d.as_nanos().div_ceil(a);
                advert.saturating_mul(u32::try_from(n).unwrap_or(u32::MAX))
            }
        };
        self.pacer.start_periodic(i as u32, now, period);
    }

    /// Router `i`'s `garp_extra_if` announcements: one GARP (NA) on each
    /// interface other than its own that holds one of its addresses (the
    /// first such address, in order), through the pacer, as keepalived's
    /// `vrrp_send_vmac_update`.
    fn extra_if_garps(&mut self, i: usize, now: Instant) {
        let Some(r) = self.io(i) else {
            return;
        };
        let mut seen = Vec::new();
        let mut list = Vec::new();
        for (n, a) in r.addresses.iter().enumerate() {
            if a.ifindex() != r.send_ifindex && !seen.contains(&a.ifindex()) {
                seen.push(a.ifindex());
                list.push(announce_of(i, n, a, r.vmac, r.recv_ifindex));
            }
        }
        let mut failed = None;
        for a in &list {
            if self.pacer.announce(now, *a) {
                if let Err(e) = self.announce_now(a) {
                    failed = Some(e);
                }
            }
        }
        self.report_garp_error(failed);
    }

    /// Sends the announcements the pacer lets go at `now`.
    pub(super) fn send_due(&mut self, now: Instant) {
        self.pacer.handle_timeout(now);
        while let Some(r) = self.pacer.poll_periodic() {
            self.extra_if_garps(r as usize, now);
        }
        let mut failed = None;
        while let Some(a) = self.pacer.poll_due() {
            if let Err(e) = self.announce_now(&a) {
                failed = Some(e);
            }
        }
        self.report_garp_error(failed);
    }

    /// Sends one announcement now; a router or address that is gone is
    /// skipped.
    fn announce_now(&mut self, a: &Announce) -> std::io::Result<()> {
        let Some(r) = self.io(a.router as usize) else {
            return Ok(());
        };
        let Some(vip) = r.addresses.get(a.addr as usize) else {
            return Ok(());
        };
        // A GARP goes out of the interface holding the address, with that
        // interface's MAC (the router's, its VMAC's, where it sends).
        let index = vip.ifindex();
        let (sock, mac) = match (self.garp.get(&index), self.garp_mac.get(&index)) {
            (Some(sock), Some(mac)) if index != r.send_ifindex => (sock, *mac),
            _ => match self.garp.get(&r.send_ifindex) {
                Some(sock) => (sock, r.mac),
                None => return Ok(()),
            },
        };
        vip.announce(sock, mac)?;
        self.pacer.note_sent(Instant::now(), a);
        self.counters.garps_sent += 1;
        Ok(())
    }

    fn report_garp_error(&mut self, failed: Option<std::io::Error>) {
        if let Some(e) = failed {
            self.host_error(
                "send gratuitous ARP",
                LinuxError::Io {
                    op: "send gratuitous ARP",
                    source: e,
                },
            );
        }
    }
}

/// The announcement of router `router`'s address number `n`, spaced on
/// its base interface: the router's interface for an address on its VMAC,
/// as keepalived keeps the spacing on a VMAC's base.
fn announce_of(router: usize, n: usize, a: &Vip, vmac: Option<u32>, base: u32) -> Announce {
    let ifindex = match vmac {
        Some(v) if v == a.ifindex() => base,
        _ => a.ifindex(),
    };
    let kind = match a {
        Vip::V4(..) => Kind::Garp,
        Vip::V6(..) => Kind::Gna,
    };
    Announce {
        router: router as u32,
        addr: n as u32,
        ifindex,
        kind,
    }
}
