//! Static addresses, routes and rules deleted by someone else are put
//! back, as keepalived 2.2.7's netlink reflector does
//! (`reinstate_static_address`, `_route`, `_rule`), each logged with
//! keepalived's "Restoring deleted static ..." line:
//! - addresses without `no_track`;
//! - routes with a `dev` and without `no_track`, but only of a family
//!   some instance tracks a virtual route of (keepalived listens to route
//!   notifications of that family only then);
//! - rules of protocol keepalived (all but `no_track` ones), likewise
//!   only of a family some instance tracks a virtual rule of.
//!
//! And when an interface comes up (its flags change to up and running),
//! the static addresses and routes on it without `no_track` are added
//! again, whatever the families, as keepalived's `interface_up` does
//! (the kernel drops a link's routes when it goes down, without a
//! deletion notification), with the same log lines.

use std::collections::HashMap;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use tracing::{error, info};
use vrrp::linux::driver::Setup;
use vrrp::linux::{
    AddressOptions, AddressSpec, NetEvent, NetWatcher, Netlink, RouteSpec, RuleSpec,
};
use vrrp_conf::convert::vrrp::Plan;

/// The static items to restore when deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracked {
    /// Addresses with their options (their deletion is matched by
    /// interface and address).
    pub addresses: Vec<(AddressSpec, AddressOptions)>,
    /// Routes (matched as keepalived's `route_is_ours`).
    pub routes: Vec<RouteSpec>,
    /// Rules (matched by family and priority).
    pub rules: Vec<RuleSpec>,
    /// Addresses and routes added again when their interface comes up.
    pub on_link_up: (Vec<(AddressSpec, AddressOptions)>, Vec<RouteSpec>),
}

/// The families whose route and rule deletions keepalived listens to:
/// those of the virtual routes and rules some instance tracks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Monitors {
    /// Route families, IPv4 then IPv6.
    routes: [bool; 2],
    /// Rule families, IPv4 then IPv6.
    rules: [bool; 2],
}

impl Monitors {
    /// Those of the routers of `setup`.
    pub fn of(setup: &Setup) -> Monitors {
        let mut m = Monitors::default();
        for r in &setup.routers {
            for route in r.routes.iter().filter(|v| v.tracked()) {
                m.routes[usize::from(route.route.dst.is_ipv6())] = true;
            }
            for rule in r.rules.iter().filter(|r| tracked_rule(r)) {
                m.rules[usize::from(rule.ipv6)] = true;
            }
        }
        m
    }
}

/// keepalived tracks every rule but `no_track` ones, which are not of its
/// protocol.
fn tracked_rule(r: &RuleSpec) -> bool {
    r.protocol == Some(RTPROT_KEEPALIVED)
}

impl Tracked {
    /// True if there is nothing to restore.
    pub fn is_empty(&self) -> bool {
        self.addresses.is_empty()
            && self.routes.is_empty()
            && self.rules.is_empty()
            && self.on_link_up.1.is_empty()
    }

    /// The tracked ones among `plan`'s static items, given those items
    /// resolved (in [`Plan::resolve_static`] order) and what keepalived
    /// would listen to.
    pub fn of(
        plan: &Plan,
        m: Monitors,
        addresses: &[(AddressSpec, AddressOptions)],
        routes: &[RouteSpec],
    ) -> Tracked {
        let addresses = (plan.static_addresses.iter().zip(addresses))
            .filter(|((_, a), _)| !a.no_track)
            .map(|(_, s)| s.clone())
            .collect();
        let tracked_routes = (plan.static_routes.iter().zip(routes)).filter(|(r, _)| r.tracked());
        let on_link_up = tracked_routes.clone().map(|(_, s)| s.clone()).collect();
        let routes = tracked_routes
            .filter(|(_, s)| m.routes[usize::from(s.dst.is_ipv6())])
            .map(|(_, s)| s.clone())
            .collect();
        let rules = (plan.static_rules.iter())
            .filter(|r| tracked_rule(r) && m.rules[usize::from(r.ipv6)])
            .cloned()
            .collect();
        Tracked {
            on_link_up: (Vec::clone(&addresses), on_link_up),
            addresses,
            routes,
            rules,
        }
    }
}

/// keepalived's routing protocol, that of the rules it tracks.
const RTPROT_KEEPALIVED: u8 = 18;

/// Watches deletions and restores the tracked static items, on a thread
/// of its own blocked on the notifications.
pub struct Restorer {
    tracked: Arc<Mutex<Tracked>>,
}

impl Restorer {
    /// Starts watching (with nothing to restore yet).
    pub fn start() -> std::io::Result<Restorer> {
        let watcher = NetWatcher::open().map_err(std::io::Error::other)?;
        let netlink = Netlink::open().map_err(std::io::Error::other)?;
        // Blocking: the thread has nothing else to do.
        fcntl(watcher.as_raw_fd(), FcntlArg::F_SETFL(OFlag::empty()))?;
        let tracked = Arc::new(Mutex::new(Tracked::default()));
        let shared = Arc::clone(&tracked);
        std::thread::Builder::new()
            .name("static-items".into())
            .spawn(move || watch(watcher, netlink, &shared))?;
        Ok(Restorer { tracked })
    }

    /// What to restore from now on (nothing, before the static items are
    /// removed at stop).
    pub fn set(&self, t: Tracked) {
        if let Ok(mut guard) = self.tracked.lock() {
            *guard = t;
        }
    }
}

fn watch(mut watcher: NetWatcher, mut nl: Netlink, tracked: &Mutex<Tracked>) {
    let mut events = Vec::new();
    // Which links are up, to see their flags change.
    let mut up: HashMap<u32, bool> = (nl.links().unwrap_or_default().iter())
        .map(|l| (l.index, l.is_operational()))
        .collect();
    loop {
        if let Err(e) = watcher.recv(&mut events) {
            error!("static items watch: {e}");
            return;
        }
        let Ok(wanted) = tracked.lock().map(|t| t.clone()) else {
            return;
        };
        for e in events.drain(..) {
            if let NetEvent::Link(l) = &e {
                let now = l.is_operational();
                let was = up.insert(l.index, now);
                if now && was != Some(true) {
                    link_up(&mut nl, &wanted, l.index);
                }
            }
            restore(&mut nl, &wanted, &e);
        }
    }
}

/// Adds again the static addresses and routes on link `index`, which
/// came up.
fn link_up(nl: &mut Netlink, t: &Tracked, index: u32) {
    let exists = Some(Errno::EEXIST as i32);
    let (addresses, routes) = &t.on_link_up;
    for (s, options) in addresses.iter().filter(|(s, _)| s.ifindex == index) {
        info!(
            "Restoring deleted static address {}/{}",
            s.addr, s.prefix_len
        );
        match nl.add_address_with(s, options) {
            Err(e) if e.errno() != exists => error!("restoring a static item: {e}"),
            _ => {}
        }
    }
    for s in routes.iter().filter(|s| s.oif == Some(index)) {
        info!("Restoring deleted static route {}/{}", s.dst, s.prefix_len);
        match nl.add_route(s) {
            Err(e) if e.errno() != exists => error!("restoring a static item: {e}"),
            _ => {}
        }
    }
}

/// Puts back the tracked item `e` deleted, if any.
fn restore(nl: &mut Netlink, t: &Tracked, e: &NetEvent) {
    let exists = Some(Errno::EEXIST as i32);
    let result = match e {
        NetEvent::AddressRemoved(a) => {
            let found =
                (t.addresses.iter()).find(|(s, _)| s.ifindex == a.ifindex && s.addr == a.addr);
            let Some((s, options)) = found else {
                return;
            };
            info!(
                "Restoring deleted static address {}/{}",
                s.addr, s.prefix_len
            );
            nl.add_address_with(s, options)
        }
        NetEvent::RouteRemoved(r) => {
            let Some(s) = t.routes.iter().find(|s| r.matches(s)) else {
                return;
            };
            info!("Restoring deleted static route {}/{}", s.dst, s.prefix_len);
            nl.add_route(s)
        }
        NetEvent::RuleRemoved(r) => {
            let Some(s) = t.rules.iter().find(|s| r.matches(s)) else {
                return;
            };
            info!("Restoring deleted static rule {:?}", s.priority);
            nl.add_rule(s)
        }
        _ => return,
    };
    match result {
        Err(e) if e.errno() != exists => error!("restoring a static item: {e}"),
        _ => {}
    }
}
