//! Reload: a new configuration applied to a running router in place.

use std::net::Ipv4Addr;
use std::time::Instant;

use super::{VirtualRouter, AH_PEERS};
use crate::config::{Config, ConfigError, PRIORITY_OWNER};
use crate::event::{Event, Reason, State};
use crate::timer::Timer;

/// What [`VirtualRouter::reconfigure`] (or
/// [`Mux::reconfigure_router`](crate::mux::Mux::reconfigure_router)) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// The new configuration equals the old one: nothing was touched.
    Unchanged,
    /// Applied in place, without a priority-0 advert and without a state
    /// change unless RFC 3768 demands one (see [`VirtualRouter::reconfigure`]).
    InPlace(Changed),
    /// The change makes it another instance for keepalived (another VRID,
    /// a switch between multicast and unicast, another unicast source
    /// address): nothing was touched; remove the router and add a new one.
    Restart,
}

/// Which parts of a configuration changed in place.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Changed {
    /// The base priority.
    pub priority: bool,
    /// The virtual addresses (set or order).
    pub addresses: bool,
    /// The advert interval (of the configured version).
    pub advert_interval: bool,
    /// The authentication type or key.
    pub authentication: bool,
    /// Unicast peers, TTLs or their checks (or the unused `unicast_src_ip`
    /// of a multicast router).
    pub unicast: bool,
    /// Anything else (name, primary address, preemption, GARP, ...).
    pub other: bool,
}

impl Changed {
    /// The differences between two configurations of the same VRID.
    pub fn between(old: &Config, new: &Config) -> Self {
        let unicast = |c: &Config| {
            (
                c.unicast_src_ip,
                c.unicast_peers.clone(),
                c.unicast_peer_ttl.clone(),
                c.unicast_ttl,
                c.check_unicast_src,
                c.unicast_fault_no_peer,
            )
        };
        // Everything not compared on its own: the new configuration with
        // the compared fields copied from the old one.
        let mut rest = new.clone();
        rest.priority = old.priority;
        rest.virtual_addresses.clone_from(&old.virtual_addresses);
        rest.advert_interval_secs = old.advert_interval_secs;
        rest.advert_interval_centis = old.advert_interval_centis;
        rest.authentication = old.authentication.clone();
        rest.unicast_src_ip = old.unicast_src_ip;
        rest.unicast_peers.clone_from(&old.unicast_peers);
        rest.unicast_peer_ttl.clone_from(&old.unicast_peer_ttl);
        rest.unicast_ttl = old.unicast_ttl;
        rest.check_unicast_src = old.check_unicast_src;
        rest.unicast_fault_no_peer = old.unicast_fault_no_peer;
        Self {
            priority: old.priority != new.priority,
            addresses: old.virtual_addresses != new.virtual_addresses,
            advert_interval: old.advert_interval_secs != new.advert_interval_secs
                || old.advert_interval_centis != new.advert_interval_centis,
            authentication: old.authentication != new.authentication,
            unicast: unicast(old) != unicast(new),
            other: rest != *old,
        }
    }

    /// True if nothing changed.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// keepalived's `vrrp_exist`: a reloaded instance is the same one if its
/// VRID, multicast or unicast mode, multicast group and unicast source
/// address are (the interface is the mux's business); and, here, its VRRP version (another
/// packet format, other timers) and its IPv6 side (another family, or for
/// now any change of it but a multicast router's advert source, which
/// moves in place as an IPv4 one's does when its address goes).
fn is_another_instance(old: &Config, new: &Config) -> bool {
    let v6_side = |c: &Config| {
        let mut v6 = c.ipv6.clone();
        if let Some(v6) = v6.as_mut().filter(|_| !new.is_unicast()) {
            v6.link_local = std::net::Ipv6Addr::UNSPECIFIED;
        }
        v6
    };
    old.vrid != new.vrid
        || old.version != new.version
        || v6_side(old) != v6_side(new)
        || old.is_unicast() != new.is_unicast()
        || (new.is_unicast() && old.source_ip() != new.source_ip())
        || (!new.is_unicast() && old.multicast_group() != new.multicast_group())
}

impl VirtualRouter {
    /// Applies a new configuration (a reload) to this router in place, in
    /// any state, keeping its tracking, interface and sync-group state.
    ///
    /// RFC 3768 has no reload; these are the rules (as keepalived keeps a
    /// reloaded instance running):
    /// * another VRID, a switch between multicast and unicast, or another
    ///   unicast source address makes it another instance (keepalived's
    ///   `vrrp_exist`), and so does another VRRP version or any change of
    ///   [`Config::ipv6`]:
    ///   [`Change::Restart`], nothing touched;
    /// * a new priority takes effect at once in the effective priority: a
    ///   master's next advert carries it (a backup that now outranks it
    ///   preempts through the normal rules, RFC 3768 section 6.4.2), a
    ///   backup's running Master_Down_Timer moves by the change of
    ///   Skew_Time (as for a tracking change). No priority-0 advert and
    ///   no state change, except that a running backup that becomes the
    ///   address owner (255) becomes MASTER at once
    ///   ([`Reason::AddressOwner`], section 6.4.1);
    /// * new virtual addresses go into the next advert; a master emits
    ///   [`Event::AddressesChanged`] so that the embedder installs and
    ///   removes the difference;
    /// * a new advert interval is used from the next advert on; a master
    ///   sends its next advert no later than one new interval from `now`
    ///   (at the first point of the new grid after `now`);
    /// * new authentication forgets the peers' AH sequence numbers;
    /// * new unicast settings apply to the next datagram (and
    ///   `unicast_fault_no_peer` may enter or leave FAULT);
    /// * new GARP settings re-arm a master's refresh timer.
    pub fn reconfigure(&mut self, now: Instant, cfg: Config) -> Result<Change, ConfigError> {
        cfg.validate()?;
        if is_another_instance(&self.cfg, &cfg) {
            return Ok(Change::Restart);
        }
        let changed = Changed::between(&self.cfg, &cfg);
        if changed.is_empty() {
            return Ok(Change::Unchanged);
        }
        let old = std::mem::replace(&mut self.cfg, cfg);
        if changed.authentication {
            self.ah_peers = [None; AH_PEERS];
            self.ah_evict = 0;
        }
        if changed.addresses && self.state == State::Master {
            self.addresses_changed(&old.virtual_addresses);
        }
        if changed.advert_interval && self.state != State::Backup {
            // A backup keeps the interval it learned from the master.
            self.master_adver_int = self.cfg.advert_interval();
        }
        if changed.advert_interval && self.state == State::Master {
            let sooner = self.next_advert_after(now);
            let at = match (self.timers.get(Timer::Advert), sooner) {
                (Some(at), Some(s)) => Some(at.min(s)),
                (at, s) => at.or(s),
            };
            self.timers.set(Timer::Advert, at);
        }
        if old.garp != self.cfg.garp && self.state == State::Master {
            let at = self.garp_refresh_period().and_then(|p| now.checked_add(p));
            self.timers.set(Timer::GarpRefresh, at);
        }
        if changed.priority {
            let old = self.priority();
            self.base_priority = self.cfg.priority;
            self.priority_changed(old);
            let owner = self.base_priority == PRIORITY_OWNER;
            if owner && self.running && self.state == State::Backup {
                self.enter(now, State::Master, Reason::AddressOwner);
            }
        }
        self.reevaluate_fault(now);
        Ok(Change::InPlace(changed))
    }

    /// Queues [`Event::AddressesChanged`] for the difference from `old`.
    fn addresses_changed(&mut self, old: &[Ipv4Addr]) {
        let new = &self.cfg.virtual_addresses;
        let added: Vec<Ipv4Addr> = new.iter().filter(|a| !old.contains(a)).copied().collect();
        let removed: Vec<Ipv4Addr> = old.iter().filter(|a| !new.contains(a)).copied().collect();
        if !added.is_empty() || !removed.is_empty() {
            self.push(Event::AddressesChanged { added, removed });
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use std::time::Duration;

    use super::*;
    use crate::auth::AuthConfig;

    const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
    const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

    fn config(priority: u8) -> Config {
        let mut c = Config::new("vi", 7, priority, ME);
        c.virtual_addresses = vec![VIP];
        c
    }

    fn events(r: &mut VirtualRouter) -> Vec<Event> {
        std::iter::from_fn(|| r.poll_event()).collect()
    }

    /// Started at `t0`, drained; MASTER after its down timer if `master`.
    fn router(priority: u8, t0: Instant, master: bool) -> VirtualRouter {
        let mut r = VirtualRouter::new(config(priority)).unwrap();
        r.handle_startup(t0);
        if master {
            r.handle_timeout(t0 + r.master_down_interval());
            let mut buf = [0u8; 64];
            while r.poll_transmit(t0, &mut buf).is_some() {}
        }
        events(&mut r);
        r
    }

    #[test]
    fn same_config_is_unchanged_and_another_vrid_is_a_restart() {
        let t0 = Instant::now();
        let mut r = router(100, t0, false);
        assert_eq!(r.reconfigure(t0, config(100)), Ok(Change::Unchanged));
        let mut other = config(100);
        other.vrid = 8;
        assert_eq!(r.reconfigure(t0, other), Ok(Change::Restart));
        assert_eq!(r.config().vrid, 7);
        let mut unicast = config(100);
        unicast.unicast_peers = vec![Ipv4Addr::new(10, 0, 0, 6)];
        assert_eq!(r.reconfigure(t0, unicast.clone()), Ok(Change::Restart));
        let mut r = VirtualRouter::new(unicast.clone()).unwrap();
        let mut moved = unicast.clone();
        moved.unicast_src_ip = Some(Ipv4Addr::new(10, 0, 0, 9));
        assert_eq!(r.reconfigure(t0, moved), Ok(Change::Restart));
        unicast.unicast_peers.push(Ipv4Addr::new(10, 0, 0, 7));
        let peers = Changed {
            unicast: true,
            ..Changed::default()
        };
        assert_eq!(r.reconfigure(t0, unicast), Ok(Change::InPlace(peers)));
        let mut bad = config(100);
        bad.advert_interval_secs = 0;
        assert_eq!(r.reconfigure(t0, bad), Err(ConfigError::AdvertInterval));
        assert_eq!(events(&mut r), []);
    }

    #[test]
    fn a_multicast_routers_new_link_local_source_is_in_place() {
        let t0 = Instant::now();
        let ll = |n| std::net::Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, n);
        let mut v6 = Config::new("vi", 7, 100, Ipv4Addr::UNSPECIFIED);
        v6.version = crate::config::Version::V3;
        v6.ipv6 = Some(crate::config::Ipv6Config::new(ll(1)));
        let mut r = VirtualRouter::new(v6.clone()).unwrap();
        r.handle_startup(t0);
        events(&mut r);
        let mut moved = v6.clone();
        moved.ipv6 = Some(crate::config::Ipv6Config::new(ll(2)));
        let other = Changed {
            other: true,
            ..Changed::default()
        };
        assert_eq!(r.reconfigure(t0, moved), Ok(Change::InPlace(other)));
        assert_eq!(r.config().ipv6.as_ref().map(|v| v.link_local), Some(ll(2)));
        assert_eq!(events(&mut r), []);
    }

    #[test]
    fn changes_are_classified() {
        let old = config(100);
        let mut new = config(100);
        new.preempt = false;
        new.authentication = AuthConfig::from_keepalived("PASS", "x").unwrap();
        new.unicast_peers = vec![Ipv4Addr::new(10, 0, 0, 6)];
        let c = Changed::between(&old, &new);
        let want = Changed {
            authentication: true,
            unicast: true,
            other: true,
            ..Changed::default()
        };
        assert_eq!(c, want);
        assert!(Changed::between(&old, &old).is_empty());
    }

    #[test]
    fn backup_becoming_owner_is_master_at_once() {
        let t0 = Instant::now();
        let mut r = router(100, t0, false);
        let change = r.reconfigure(t0 + Duration::from_secs(1), config(255));
        assert!(matches!(change, Ok(Change::InPlace(c)) if c.priority));
        assert_eq!(r.state(), State::Master);
        assert!(events(&mut r).contains(&Event::StateChanged {
            from: State::Backup,
            to: State::Master,
            reason: Reason::AddressOwner,
        }));
    }

    #[test]
    fn master_keeps_state_and_sends_no_priority_zero() {
        let t0 = Instant::now();
        let mut r = router(200, t0, true);
        let now = t0 + Duration::from_secs(5);
        let mut c = config(50);
        c.virtual_addresses = vec![Ipv4Addr::new(10, 0, 0, 101)];
        r.reconfigure(now, c).unwrap();
        assert_eq!(r.state(), State::Master);
        assert_eq!(r.priority(), 50);
        assert_eq!(
            events(&mut r),
            [Event::AddressesChanged {
                added: vec![Ipv4Addr::new(10, 0, 0, 101)],
                removed: vec![VIP],
            }]
        );
        let mut buf = [0u8; 64];
        assert!(r.poll_transmit(now, &mut buf).is_none());
        assert_eq!(r.counters().priority_zero_sent, 0);
    }

    #[test]
    fn shorter_advert_interval_brings_a_masters_advert_forward() {
        let t0 = Instant::now();
        let mut c = config(200);
        c.advert_interval_secs = 10;
        c.garp.master_delay = Duration::ZERO;
        let mut r = VirtualRouter::new(c.clone()).unwrap();
        r.handle_startup(t0);
        let up = t0 + r.master_down_interval();
        r.handle_timeout(up);
        // Up at 30.21875 s: the next advert on the 10 s grid from t0.
        assert_eq!(r.poll_timeout(), Some(t0 + Duration::from_secs(40)));
        c.advert_interval_secs = 1;
        r.reconfigure(up, c).unwrap();
        assert_eq!(r.poll_timeout(), Some(t0 + Duration::from_secs(31)));
    }
}
