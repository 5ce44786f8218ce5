//! Applying a [`Setup`] to the driver, at start and at runtime.
//!
//! Two phases: [`Driver::prepare`] resolves interfaces, creates VMACs,
//! validates configurations and sync groups and opens the sockets new
//! (interface, protocol) pairs need, without touching a running router (on
//! an error it undoes what it created); [`Driver::commit`] then removes,
//! updates and adds routers on the mux and closes what is no longer used.
//!
//! An interface that does not exist is no error: its routers are added
//! under a stand-in index (see `links`), in FAULT, and
//! [`Driver::attach`] binds each of them when the interface appears. So
//! is one without an address to advertise from (IPv4, or for IPv6 a
//! link-local one): its routers wait under the stand-in of its name, as
//! keepalived runs them in FAULT, and bind when an address is added.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use super::addr_vmac::AddrVmac;
use super::default_source::{default_source_v4, default_source_v6};
use super::links::is_absent;
use super::sockets::{open_raw, Channel, Raw, Receiver};
use super::vmac_link::{stand_in_macs, VmacSwap};
use super::{Driver, DriverError, DriverEvent, RouterIo, RouterSpec, Setup, Vip, VirtualAddress};
use crate::auth::AuthConfig;
use crate::config::{Config, Ipv6Config};
use crate::event::State;
use crate::linux::vmac::{self, NameChoice};
use crate::linux::{
    vmac_address, vmac_address6, Address6Spec, GarpSocket, IpProto, Link, LinuxError, RouteSpec,
    VmacOptions,
};
use crate::mux::{Change, MuxError, RouterId};
use crate::router::Tracking;
use crate::router::VirtualRouter;

/// What [`DriverHandle::reconfigure`](super::DriverHandle::reconfigure) did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReconcileSummary {
    /// The id of each router of the new [`Setup::routers`], in its order.
    pub ids: Vec<RouterId>,
    /// Routers left exactly as they were.
    pub unchanged: usize,
    /// Routers changed in place (no priority-0 advert).
    pub updated: usize,
    /// New routers.
    pub added: usize,
    /// Routers no longer in the setup (a master sent priority 0 and
    /// removed its addresses).
    pub removed: usize,
    /// Routers removed and added again on the same (interface, VRID): a
    /// change that cannot be applied in place (protocol, VMAC added or
    /// removed, or [`Change::Restart`]). Another VMAC name or MAC is
    /// applied in place.
    pub restarted: usize,
}

/// One router of the new setup, resolved.
struct Prepared {
    spec: RouterSpec,
    config: Config,
    /// Built from `config`, used if the router is (re)added.
    router: VirtualRouter,
    link: Link,
    send_link: Link,
    vmac: Option<u32>,
    /// The VMACs its addresses go on (`use_vmac_addr`).
    addr_vmacs: Vec<AddrVmac>,
    channel: Channel,
    addresses: Vec<Vip>,
    routes: Vec<RouteSpec>,
    /// The running router on the same (interface, VRID) it replaces or
    /// updates.
    old: Option<RouterId>,
    /// The interface, when it exists but has no address to advertise
    /// from: the router waits under its stand-in (`link`) for one.
    waiting: Option<Link>,
}

impl Prepared {
    /// True if it can take over `old`'s place: same sockets and VMAC.
    fn same_place(&self, old: &RouterIo) -> bool {
        old.recv_ifindex == self.link.index
            && old.send_ifindex == self.send_link.index
            && old.channel == self.channel
            && old.vmac == self.vmac
            && old.spec.vmac.xmit_base == self.spec.vmac.xmit_base
    }

    /// True if it is `old` on another macvlan VMAC (renamed, or another
    /// MAC): keepalived 2.2.7 keeps such an instance (`vrrp_exist` looks
    /// at whether there is a VMAC, not at which), and so the router is
    /// moved to the new VMAC in place.
    fn vmac_moved(&self, old: &RouterIo) -> bool {
        let macvlan = |r: &RouterSpec| r.use_vmac && r.vmac.ipvlan.is_none();
        old.recv_ifindex == self.link.index
            && old.channel == self.channel
            && old.spec.vmac.xmit_base == self.spec.vmac.xmit_base
            && macvlan(&old.spec)
            && macvlan(&self.spec)
            && old.vmac.is_some()
            && self.vmac.is_some()
            && old.vmac != self.vmac
    }
}

/// Sockets and VMACs made while preparing: installed by the commit,
/// closed or deleted on error.
#[derive(Default)]
pub(super) struct Staged {
    /// (interface, channel, the VMAC's base for a VMAC's socket, socket).
    sockets: Vec<(Link, Channel, Option<u32>, Raw)>,
    garp: Vec<(u32, GarpSocket)>,
    /// MACs of interfaces that hold addresses of a router sending
    /// elsewhere (see `Driver::garp_mac`).
    garp_macs: Vec<(u32, [u8; 6])>,
    pub(super) vmacs: Vec<u32>,
    /// Address VMACs made (also in `vmacs`).
    pub(super) addr_vmacs: Vec<AddrVmac>,
    /// VMACs made to take a running router's VMAC's place (also in
    /// `vmacs`): the old ones are deleted by the commit only.
    swaps: Vec<VmacSwap>,
    /// `disable_ipv6` for VMACs of IPv4 routers (`set_vmac_ipv6`), set by
    /// the commit: a refused reload leaves a running VMAC's as it was.
    vmac_ipv6: Vec<(Link, bool)>,
    /// The MACs configured for the new setup's VMACs (address VMACs too):
    /// no stand-in takes one. A VRID's virtual MAC is never a stand-in.
    wanted_macs: HashSet<[u8; 6]>,
}

/// How a macvlan for a router is had (see `Driver::vmac_name`).
enum VmacName {
    /// A VMAC in use there, shared.
    Reuse(Link),
    /// One to make, with this name.
    Make(String),
}

/// A router waiting for an address: (index in the new setup, name,
/// interface, IPv6).
type Waiting = (usize, std::sync::Arc<str>, String, bool);

/// What a commit has done so far.
struct Progress {
    summary: ReconcileSummary,
    /// The id of each new router, by its index in the setup, once known.
    ids: Vec<RouterId>,
    /// New routers to add, with their index.
    to_add: Vec<(usize, Prepared)>,
    /// VMAC renames not committed yet: each once its router is off its
    /// old VMAC.
    swaps: Vec<VmacSwap>,
}

/// Lookups cached for one preparation: one netlink request per interface,
/// not per router.
#[derive(Default)]
struct Cache {
    links: HashMap<String, Link>,
    addresses: HashMap<u32, Vec<Ipv4Addr>>,
    addresses6: HashMap<u32, Vec<Ipv6Addr>>,
}

/// The validated new setup.
struct Plan {
    routers: Vec<Prepared>,
    groups: Vec<(String, Vec<usize>)>,
    watch: Vec<Link>,
}

impl Driver {
    /// Makes the driver run `setup`; `started` is false before
    /// [`run`](Driver::run), which then starts every router itself.
    pub(super) fn apply(
        &mut self,
        now: Instant,
        mut setup: Setup,
        tracking: &[Tracking],
        started: bool,
    ) -> Result<ReconcileSummary, DriverError> {
        let mut staged = Staged::default();
        super::clamp_link_delays(&mut setup);
        let delays = std::mem::take(&mut setup.link_delays);
        let firewall = setup.firewall.clone();
        let pacing = setup.garp_pacing.clone();
        let quirk = std::mem::take(&mut setup.track_src_ip_quirk);
        match self.prepare(setup, &mut staged) {
            Ok(plan) => {
                self.firewall.configure(firewall.as_ref());
                self.configure_pacing(pacing);
                self.debounce.configure(&delays);
                // A reload brings back what the quirk left in FAULT.
                let released = self.source_quirk.configure(&quirk);
                let summary = self.commit(now, plan, staged, tracking, started);
                self.quirk_released(now, &released);
                summary
            }
            Err(e) => {
                for index in staged.vmacs {
                    let _ = self.netlink.del_link(index);
                }
                Err(e)
            }
        }
    }

    fn prepare(&mut self, setup: Setup, staged: &mut Staged) -> Result<Plan, DriverError> {
        let mut cache = Cache::default();
        let mut keys = HashSet::new();
        let mut routers = Vec::with_capacity(setup.routers.len());
        // Running routers a new one updates: one each.
        let mut claimed = HashSet::new();
        staged.wanted_macs = setup.routers.iter().filter_map(|s| s.vmac.mac).collect();
        for spec in setup.routers {
            let link = self.link_or_stand_in(&mut cache, &spec.interface)?;
            let p = self.prepare_or_wait(&spec, link, &claimed, &mut cache, staged)?;
            claimed.extend(p.old);
            let (ifindex, vrid) = (p.link.index, spec.config.vrid);
            let key = (ifindex, mux_key(&spec));
            // Unicast routers may share a key unless they clash.
            let clash = |o: &Prepared| {
                (o.link.index, mux_key(&o.spec)) == key
                    && (key.1 .2.is_some() || crate::mux::unicast_clash(&o.config, &p.config))
            };
            if !keys.insert(key) && routers.iter().any(clash) {
                return Err(MuxError::Duplicate { ifindex, vrid }.into());
            }
            routers.push(p);
        }
        check_swaps(&routers, &staged.swaps)?;
        let groups = check_groups(&setup.sync_groups, routers.len())?;
        for p in &routers {
            self.stage_sockets(staged, p)?;
        }
        let watch = setup
            .watch_interfaces
            .iter()
            .map(|name| self.link_or_stand_in(&mut cache, name))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Plan {
            routers,
            groups,
            watch,
        })
    }

    /// The link named `name`, or the stand-in of a missing interface.
    fn link_or_stand_in(&mut self, cache: &mut Cache, name: &str) -> Result<Link, LinuxError> {
        match cached_link(&mut self.netlink, cache, name) {
            Err(LinuxError::NoSuchInterface(_)) => Ok(self.absent_link(name)),
            other => other,
        }
    }

    /// Prepares a router on `link`; if the link has no address to advertise
    /// from, on the stand-in of its name instead, to wait in FAULT as
    /// keepalived does (`(NAME) entering FAULT state (no IPv4 address for
    /// interface)`). It updates the running router it matches unless
    /// another new router does (`claimed`): then it is a new router.
    fn prepare_or_wait(
        &mut self,
        spec: &RouterSpec,
        link: Link,
        claimed: &HashSet<RouterId>,
        cache: &mut Cache,
        staged: &mut Staged,
    ) -> Result<Prepared, DriverError> {
        // keepalived's rule (`vrrp_exist`), the mux's too
        // (`Mux::reconcile`): the same (interface, VRID, family, channel)
        // is the same router, whatever its name. Unicast routers may share
        // a key: a running one is updated by one new router at most.
        let key = mux_key(spec);
        let unclaimed = |id: &RouterId| !claimed.contains(id);
        let old = (self.mux.find_match(link.index, key, &spec.config)).filter(unclaimed);
        match self.prepare_router(spec, link.clone(), old, cache, staged) {
            Err(DriverError::NoPrimaryAddress(_) | DriverError::NoLinkLocal(_)) => {
                let stand_in = self.absent_link(&spec.interface);
                let old =
                    (self.mux.find_match(stand_in.index, key, &spec.config)).filter(unclaimed);
                let mut p = self.prepare_router(spec, stand_in, old, cache, staged)?;
                p.waiting = Some(link);
                Ok(p)
            }
            other => other,
        }
    }

    /// Opens the raw and GARP sockets a prepared router needs (none on a
    /// missing interface).
    fn stage_sockets(&mut self, staged: &mut Staged, p: &Prepared) -> Result<(), DriverError> {
        if is_absent(p.link.index) {
            return Ok(());
        }
        self.stage_socket(staged, &p.link, p.channel, None)?;
        if p.vmac.is_some() && !p.spec.vmac.xmit_base {
            // Its adverts arrive there (see `sockets`).
            self.stage_socket(staged, &p.send_link, p.channel, Some(p.link.index))?;
        }
        let index = p.send_link.index;
        if !self.garp.contains_key(&index) && !staged.garp.iter().any(|g| g.0 == index) {
            staged.garp.push((index, GarpSocket::open(index)?));
        }
        self.stage_address_garps(staged, p);
        Ok(())
    }

    /// GARP sockets and MACs for the interfaces holding a prepared router's
    /// addresses other than the one it sends on: keepalived announces an
    /// address from its own interface, with that interface's MAC. One that
    /// cannot be opened leaves the address announced from the router's
    /// interface.
    fn stage_address_garps(&mut self, staged: &mut Staged, p: &Prepared) {
        for a in &p.addresses {
            let index = a.ifindex();
            let known = |s: &Staged| s.garp_macs.iter().any(|g| g.0 == index);
            if index == p.send_link.index || self.garp_mac.contains_key(&index) || known(staged) {
                continue;
            }
            let mac = if index == p.link.index {
                p.link.mac
            } else {
                let name = nix::net::if_::if_indextoname(index).ok();
                let name = name.map(|n| n.to_string_lossy().into_owned());
                name.and_then(|n| self.netlink.link(&n).ok())
                    .and_then(|l| l.mac)
            };
            let Some(mac) = mac else { continue };
            if !self.garp.contains_key(&index) && !staged.garp.iter().any(|g| g.0 == index) {
                let Ok(sock) = GarpSocket::open(index) else {
                    continue;
                };
                staged.garp.push((index, sock));
            }
            staged.garp_macs.push((index, mac));
        }
    }

    fn prepare_router(
        &mut self,
        spec: &RouterSpec,
        link: Link,
        old: Option<RouterId>,
        cache: &mut Cache,
        staged: &mut Staged,
    ) -> Result<Prepared, DriverError> {
        let mut config = spec.config.clone();
        let absent = is_absent(link.index);
        let channel = if is_ipv6(spec) {
            self.prepare_v6(spec, &link, old, cache, &mut config)?
        } else {
            self.prepare_v4(spec, &link, old, cache, &mut config)?
        };
        let (send_link, vmac) = if spec.use_vmac && !absent {
            let vmac = self.prepare_any_vmac(spec, &link, &mut config, old, staged)?;
            (vmac.clone(), Some(vmac.index))
        } else {
            (link.clone(), None)
        };
        let (addresses, addr_vmacs) =
            self.prepare_addresses(spec, absent, send_link.index, staged)?;
        let routes = spec
            .routes
            .iter()
            .map(|r| r.resolve(|dev| Ok(cached_link(&mut self.netlink, cache, dev)?.index)))
            .collect::<Result<Vec<_>, LinuxError>>()?;
        let router = VirtualRouter::new(config.clone()).map_err(|source| DriverError::Config {
            name: config.name.to_string(),
            source,
        })?;
        Ok(Prepared {
            spec: spec.clone(),
            config,
            router,
            link,
            send_link,
            vmac,
            addr_vmacs,
            channel,
            addresses,
            routes,
            old,
            waiting: None,
        })
    }

    /// Completes an IPv6 router's `config` (advert source, virtual
    /// addresses) and returns its channel.
    fn prepare_v6(
        &mut self,
        spec: &RouterSpec,
        link: &Link,
        old: Option<RouterId>,
        cache: &mut Cache,
        config: &mut Config,
    ) -> Result<Channel, DriverError> {
        let link_local = match config.ipv6.as_ref().map(|v6| v6.link_local) {
            Some(a) if !a.is_unspecified() => a,
            // Never sent from: replaced when the interface appears.
            _ if is_absent(link.index) => STAND_IN_LINK_LOCAL,
            _ => self.link_local(spec, link, old, cache)?,
        };
        let mut v6 = config
            .ipv6
            .take()
            .unwrap_or_else(|| Ipv6Config::new(link_local));
        v6.link_local = link_local;
        v6.virtual_addresses = spec
            .addresses
            .iter()
            .filter_map(|a| v6_of(a.addr))
            .collect();
        config.ipv6 = Some(v6);
        let group = v6_of(config.multicast_group()).unwrap_or(crate::wire::VRRP_MCAST_V6);
        Ok(Channel::V6(group))
    }

    /// Completes an IPv4 router's `config` (virtual addresses, advert
    /// source) and returns its channel.
    fn prepare_v4(
        &mut self,
        spec: &RouterSpec,
        link: &Link,
        old: Option<RouterId>,
        cache: &mut Cache,
        config: &mut Config,
    ) -> Result<Channel, DriverError> {
        config.virtual_addresses = spec
            .addresses
            .iter()
            .filter_map(|a| v4_of(a.addr))
            .collect();
        if config.primary_ip.is_unspecified() {
            config.primary_ip = if is_absent(link.index) {
                // Never sent from: replaced when the interface appears.
                STAND_IN_PRIMARY_IP
            } else {
                self.primary_ip(spec, link, old, cache)?
            };
        }
        let group = v4_of(config.multicast_group()).unwrap_or(crate::wire::VRRP_MCAST_V4);
        Ok(match config.authentication {
            AuthConfig::Ah(_) => Channel::V4(IpProto::Ah, group),
            _ => Channel::V4(IpProto::Vrrp, group),
        })
    }

    /// The VMAC (macvlan, or ipvlan) a router on `link` sends on. An
    /// ipvlan's link-local address is an IPv6 router's advert source
    /// unless one is configured; an IPv4 router's VMAC runs IPv6 only as
    /// `set_vmac_ipv6` says.
    fn prepare_any_vmac(
        &mut self,
        spec: &RouterSpec,
        link: &Link,
        config: &mut Config,
        old: Option<RouterId>,
        staged: &mut Staged,
    ) -> Result<Link, DriverError> {
        let vmac = match &spec.vmac.ipvlan {
            Some(ipvlan) => {
                let vrid = config.vrid;
                let made =
                    self.prepare_ipvlan(link, vrid, &spec.vmac, ipvlan, &mut staged.vmacs)?;
                let configured = spec.config.ipv6.as_ref().map(|v6| v6.link_local);
                if let Some(v6) = config.ipv6.as_mut() {
                    if configured.is_none_or(|a| a.is_unspecified()) {
                        if let Some(a) = self.ipvlan_link_local(&made)? {
                            v6.link_local = a;
                        }
                    }
                }
                made
            }
            None => self.prepare_vmac(link, config, &spec.vmac, old, staged)?,
        };
        if config.ipv6.is_none() {
            let excluded_v6 = spec.excluded.iter().any(|a| a.addr.is_ipv6());
            staged.vmac_ipv6.push((vmac.clone(), excluded_v6));
        }
        Ok(vmac)
    }

    /// A router's addresses and excluded addresses, resolved: each on its
    /// address VMAC (`use_vmac_addr`), else on its `dev` or the interface
    /// the router sends on (`send`); and the address VMACs they use.
    fn prepare_addresses(
        &mut self,
        spec: &RouterSpec,
        absent: bool,
        send: u32,
        staged: &mut Staged,
    ) -> Result<(Vec<Vip>, Vec<AddrVmac>), DriverError> {
        let mut addresses = Vec::with_capacity(spec.addresses.len() + spec.excluded.len());
        let mut addr_vmacs: Vec<AddrVmac> = Vec::new();
        for a in spec.addresses.iter().chain(&spec.excluded) {
            // A router waiting for its interface gets them when it appears.
            let on_vmac = if absent {
                None
            } else {
                self.address_vmac(spec, a, staged)?
            };
            let vip = match on_vmac {
                Some(v) => {
                    if !addr_vmacs.contains(&v) {
                        addr_vmacs.push(v);
                    }
                    let on_vmac = VirtualAddress {
                        dev: None,
                        ..a.clone()
                    };
                    self.resolve_address(&on_vmac, v.index)?
                }
                None => self.resolve_address(a, send)?,
            };
            addresses.push(vip);
        }
        Ok((addresses, addr_vmacs))
    }

    /// The advert source of an IPv6 router without one: what it used so
    /// far on the same interface, else the interface's
    /// [`default_source_v6`] (passing over every router's virtual
    /// addresses).
    fn link_local(
        &mut self,
        spec: &RouterSpec,
        link: &Link,
        old: Option<RouterId>,
        cache: &mut Cache,
    ) -> Result<Ipv6Addr, DriverError> {
        let running = old
            .filter(|id| self.io(id.0 as usize).map(|r| r.recv_ifindex) == Some(link.index))
            .and_then(|id| self.mux.router(id))
            .and_then(|r| r.config().ipv6.as_ref());
        if let Some(v6) = running {
            return Ok(v6.link_local);
        }
        if let Entry::Vacant(e) = cache.addresses6.entry(link.index) {
            let found = self.netlink.addresses6(Some(link.index))?;
            e.insert(found.iter().map(|a| a.addr).collect());
        }
        let addrs = cache
            .addresses6
            .get(&link.index)
            .map_or(&[][..], Vec::as_slice);
        default_source_v6(addrs, |a| self.is_vip(spec, a))
            .ok_or_else(|| DriverError::NoLinkLocal(spec.interface.clone()))
    }

    /// True if `a` is a virtual address of `spec` or of a running router.
    fn is_vip(&self, spec: &RouterSpec, a: IpAddr) -> bool {
        (spec.addresses.iter().chain(&spec.excluded)).any(|v| v.addr == a)
            || self
                .routers
                .iter()
                .flatten()
                .any(|r| r.addresses.iter().any(|v| v.addr() == a))
    }

    /// The advert source of a router without one: what it used so far on
    /// the same interface, else the interface's [`default_source_v4`]
    /// (passing over every router's virtual addresses).
    fn primary_ip(
        &mut self,
        spec: &RouterSpec,
        link: &Link,
        old: Option<RouterId>,
        cache: &mut Cache,
    ) -> Result<Ipv4Addr, DriverError> {
        let running = old
            .filter(|id| self.io(id.0 as usize).map(|r| r.recv_ifindex) == Some(link.index))
            .and_then(|id| self.mux.router(id));
        if let Some(r) = running {
            return Ok(r.config().primary_ip);
        }
        if let Entry::Vacant(e) = cache.addresses.entry(link.index) {
            let found = self.netlink.addresses(Some(link.index))?;
            e.insert(found.iter().map(|a| a.addr).collect());
        }
        let addrs = cache
            .addresses
            .get(&link.index)
            .map_or(&[][..], Vec::as_slice);
        default_source_v4(addrs, |a| self.is_vip(spec, a))
            .ok_or_else(|| DriverError::NoPrimaryAddress(spec.interface.clone()))
    }

    /// The router's macvlan on `link` (named as [`vmac`](crate::linux::vmac)
    /// says): a running router's is reused, a leftover one replaced, and
    /// one that renames router `old`'s takes its MAC at the commit
    /// (`renamed_vmac`). An IPv6 router's, as keepalived makes it, has the
    /// IPv6 virtual MAC, no link-local address of its own making, and the
    /// router's advert source (its base interface's link-local address,
    /// `nodad`), so adverts leave from the VMAC.
    fn prepare_vmac(
        &mut self,
        link: &Link,
        config: &Config,
        options: &VmacOptions,
        old: Option<RouterId>,
        staged: &mut Staged,
    ) -> Result<Link, DriverError> {
        let mac = vmac_mac(options, config.vrid, config.ipv6.is_some());
        let name = match self.vmac_name(link, config, options, mac, staged)? {
            VmacName::Reuse(existing) => return Ok(existing),
            VmacName::Make(name) => name,
        };
        let Some(old) = self.renamed_vmac(old, link, mac) else {
            return self.make_vmac(link, &name, mac, config, options, staged);
        };
        let mut vmac = self.make_stand_in(link, &name, mac, config, options, staged)?;
        let new = vmac.index;
        staged.swaps.push(VmacSwap { old, new, mac });
        // What it has once committed.
        vmac.mac = Some(mac);
        Ok(vmac)
    }

    /// Makes macvlan `name` on `link` that takes `mac` at the commit, with
    /// the first stand-in MAC no VMAC of the new setup wants that the
    /// kernel lets it have up (`link` and its other macvlans up have none).
    fn make_stand_in(
        &mut self,
        link: &Link,
        name: &str,
        mac: [u8; 6],
        config: &Config,
        options: &VmacOptions,
        staged: &mut Staged,
    ) -> Result<Link, DriverError> {
        let free = stand_in_macs(mac).filter(|m| !staged.wanted_macs.contains(m));
        let tries: Vec<[u8; 6]> = free.take(STAND_IN_TRIES).collect();
        // What the kernel says when every MAC tried is in use.
        let mut refused = LinuxError::Netlink {
            op: "add macvlan",
            errno: libc::EADDRINUSE,
        };
        for m in tries {
            match self.make_vmac(link, name, m, config, options, staged) {
                Err(DriverError::Linux(e)) if e.errno() == Some(libc::EADDRINUSE) => refused = e,
                other => return other,
            }
        }
        Err(refused.into())
    }

    /// The first of the VMAC names `options` allows on `link` that is free
    /// (a leftover of ours, not in use, is deleted), or a VMAC with `mac`
    /// in use there under one of them (or made by this reload to take
    /// `mac`), to share.
    fn vmac_name(
        &mut self,
        link: &Link,
        config: &Config,
        options: &VmacOptions,
        mac: [u8; 6],
        staged: &Staged,
    ) -> Result<VmacName, DriverError> {
        let choices = vmac::candidates(options, config.vrid, config.ipv6.is_some());
        let last = choices.len().saturating_sub(1);
        for (i, choice) in choices.into_iter().enumerate() {
            let Ok(mut existing) = self.netlink.link(choice.name()) else {
                return Ok(VmacName::Make(choice.name().to_owned()));
            };
            // A VMAC this reload renames into has its MAC once committed.
            let renamed = |s: &VmacSwap| s.new == existing.index && s.mac == mac;
            if staged.swaps.iter().any(renamed) {
                existing.mac = Some(mac);
            }
            let in_use = self.vmac_in_use(&existing, link, staged);
            let usable = match choice {
                // Not a VMAC of ours: left alone.
                NameChoice::Named(_) => existing.mac == Some(mac),
                _ => !in_use || existing.mac == Some(mac) || i == last,
            };
            if usable {
                if in_use {
                    return Ok(VmacName::Reuse(existing));
                }
                self.netlink.del_link(existing.index)?;
                return Ok(VmacName::Make(choice.name().to_owned()));
            }
        }
        // No name left: the kernel refuses an empty one.
        Ok(VmacName::Make(String::new()))
    }

    /// Makes macvlan `name` on `link` with `mac`, set up as
    /// [`prepare_vmac`](Self::prepare_vmac) says.
    fn make_vmac(
        &mut self,
        link: &Link,
        name: &str,
        mac: [u8; 6],
        config: &Config,
        options: &VmacOptions,
        staged: &mut Staged,
    ) -> Result<Link, DriverError> {
        let Some(v6) = &config.ipv6 else {
            let vmac = self.netlink.add_macvlan(link.index, name, mac)?;
            staged.vmacs.push(vmac.index);
            self.set_vmac_sysctls(&vmac, link);
            return Ok(vmac);
        };
        let vmac = self.netlink.add_macvlan6(link.index, name, mac)?;
        staged.vmacs.push(vmac.index);
        if options.xmit_base {
            // Adverts leave from the base interface's own address.
            return Ok(vmac);
        }
        let source = Address6Spec::new(vmac.index, v6.link_local, 64);
        match self.netlink.add_vmac_source6(&source) {
            Err(e) if e.errno() != Some(libc::EEXIST) => Err(e.into()),
            _ => Ok(vmac),
        }
    }

    /// keepalived's rule: an IPv4 router's VMAC runs IPv6 only if the
    /// router has IPv6 excluded addresses (`disable_ipv6` otherwise). A
    /// kernel without IPv6 has nothing to disable.
    fn set_vmac_ipv6(&mut self, vmac: &Link, on: bool) {
        let path = format!("/proc/sys/net/ipv6/conf/{}/disable_ipv6", vmac.name);
        match std::fs::write(path, if on { "0" } else { "1" }) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                let e = LinuxError::Io {
                    op: "set disable_ipv6",
                    source: e,
                };
                self.host_error("set up VMAC", e);
            }
            _ => {}
        }
    }

    /// True if `vmac` is a running router's on `link`, or made by this
    /// preparation.
    fn vmac_in_use(&self, vmac: &Link, link: &Link, staged: &Staged) -> bool {
        // A router waiting for an address on `link` keeps its VMAC.
        let on_link = |r: &RouterIo| {
            r.recv_ifindex == link.index
                || (is_absent(r.recv_ifindex) && r.spec.interface == link.name)
        };
        let running =
            (self.routers.iter().flatten()).any(|r| r.vmac == Some(vmac.index) && on_link(r));
        running || staged.vmacs.contains(&vmac.index)
    }

    /// Opens the raw socket for (interface, channel) unless one is open;
    /// `base` is the VMAC's interface when `link` is a VMAC.
    fn stage_socket(
        &self,
        staged: &mut Staged,
        link: &Link,
        channel: Channel,
        base: Option<u32>,
    ) -> Result<(), DriverError> {
        let staged_already = staged
            .sockets
            .iter()
            .any(|s| s.0.index == link.index && s.1 == channel);
        if staged_already || self.sockets.contains_key(&(link.index, channel)) {
            return Ok(());
        }
        let sock = open_raw(link, channel)?;
        staged.sockets.push((link.clone(), channel, base, sock));
        Ok(())
    }

    fn commit(
        &mut self,
        now: Instant,
        plan: Plan,
        mut staged: Staged,
        tracking: &[Tracking],
        started: bool,
    ) -> Result<ReconcileSummary, DriverError> {
        let swaps = std::mem::take(&mut staged.swaps);
        self.install_staged(staged);
        let Plan {
            routers,
            groups,
            watch,
        } = plan;
        let kept_vmacs = kept_vmacs(&routers);
        let addr_vmacs_before = self.running_addr_vmacs();
        let links = links_of(&routers, watch);
        let waiting = waiting_of(&routers);
        let mut progress = Progress {
            summary: ReconcileSummary::default(),
            ids: vec![RouterId(u32::MAX); routers.len()],
            to_add: Vec::new(),
            swaps,
        };
        let matched: HashSet<RouterId> = routers.iter().filter_map(|p| p.old).collect();
        for (k, p) in routers.into_iter().enumerate() {
            self.update_matched(now, k, p, &kept_vmacs, &mut progress)?;
        }
        // Before any add, so that a new router may take a removed one's
        // (interface, VRID).
        let gone: Vec<RouterId> = (self.router_ids())
            .filter(|id| !matched.contains(id))
            .collect();
        for id in gone {
            self.remove_router(now, id, &kept_vmacs)?;
            progress.summary.removed += 1;
        }
        let added = self.add_new(now, &mut progress, tracking)?;
        self.set_groups(now, &groups, &progress.ids)?;
        self.update_links(links, started);
        self.prune_addr_vmacs(&addr_vmacs_before);
        self.report_waiting(waiting, &progress.ids);
        if started {
            self.start(now, &added);
        }
        self.close_unused();
        if started {
            self.drain(now);
        }
        progress.summary.ids = progress.ids;
        Ok(progress.summary)
    }

    /// Updates the running router new router `k` (`p`) matches in place;
    /// if there is none, or it cannot be (see `Prepared::same_place`,
    /// [`Change::Restart`]: removed), `p` is to be added. A VMAC it
    /// renames takes its MAC once the old one is gone: before the router
    /// moves to it, or after the router is removed (its priority-0 advert
    /// leaves from the old one).
    fn update_matched(
        &mut self,
        now: Instant,
        k: usize,
        p: Prepared,
        kept_vmacs: &HashSet<u32>,
        progress: &mut Progress,
    ) -> Result<(), DriverError> {
        let Some(id) = p.old else {
            progress.summary.added += 1;
            progress.to_add.push((k, p));
            return Ok(());
        };
        let in_place = (self.io(id.0 as usize)).is_some_and(|r| p.same_place(r) || p.vmac_moved(r));
        let at = progress.swaps.iter().position(|s| p.vmac == Some(s.new));
        let mut swap = at.map(|at| progress.swaps.swap_remove(at));
        if in_place {
            self.swap_vmacs(swap.take().as_slice());
            let moved = self.move_vmac(id.0 as usize, &p.send_link, kept_vmacs);
            let was_master = self.is_master(id);
            // `prepare` checked the new routers as a whole.
            let change = self.mux.reconfigure_admitted(now, id, p.config.clone())?;
            if change != Change::Restart {
                let s = &mut progress.summary;
                if self.update_in_place(id, p, was_master) || moved {
                    s.updated += 1;
                } else {
                    s.unchanged += 1;
                }
                if let Some(slot) = progress.ids.get_mut(k) {
                    *slot = id;
                }
                return Ok(());
            }
        }
        self.remove_router(now, id, kept_vmacs)?;
        self.swap_vmacs(swap.as_slice());
        progress.summary.restarted += 1;
        progress.to_add.push((k, p));
        Ok(())
    }

    /// Adds the routers to add, each given its tracking before it starts
    /// (its first state carries it); returns their ids.
    fn add_new(
        &mut self,
        now: Instant,
        progress: &mut Progress,
        tracking: &[Tracking],
    ) -> Result<Vec<RouterId>, DriverError> {
        let to_add = std::mem::take(&mut progress.to_add);
        let mut added = Vec::with_capacity(to_add.len());
        for (k, p) in to_add {
            let id = self.add_router(p)?;
            if let Some(&t) = tracking.get(k) {
                self.set_tracking(now, id, t);
            }
            if let Some(slot) = progress.ids.get_mut(k) {
                *slot = id;
            }
            added.push(id);
        }
        Ok(added)
    }

    /// Replaces the sync groups; members are indexes into `ids`.
    fn set_groups(
        &mut self,
        now: Instant,
        groups: &[(String, Vec<usize>)],
        ids: &[RouterId],
    ) -> Result<(), DriverError> {
        let groups: Vec<(&str, Vec<RouterId>)> = groups
            .iter()
            .map(|(name, members)| {
                let ids = members.iter().filter_map(|&m| ids.get(m).copied());
                (name.as_str(), ids.collect())
            })
            .collect();
        self.mux.set_sync_groups(now, &groups)?;
        Ok(())
    }

    /// Tells the embedder of the routers waiting for an address, now that
    /// their ids are known.
    fn report_waiting(&mut self, waiting: Vec<Waiting>, ids: &[RouterId]) {
        for (k, name, interface, ipv6) in waiting {
            if let Some(&id) = ids.get(k) {
                let event = DriverEvent::NoAddress {
                    id,
                    name,
                    interface,
                    ipv6,
                };
                self.emit(event);
            }
        }
    }

    /// Takes the sockets opened while preparing into use, and sets the
    /// VMACs' IPv6.
    fn install_staged(&mut self, staged: Staged) {
        for (vmac, on) in &staged.vmac_ipv6 {
            self.set_vmac_ipv6(vmac, *on);
        }
        for (link, channel, base, sock) in staged.sockets {
            self.sockets.insert((link.index, channel), sock.clone());
            // A VMAC's datagrams go to its router on the base interface.
            self.receivers.push(Receiver {
                sock,
                ifindex: base.unwrap_or(link.index),
                vmac: base.map(|_| link.index),
            });
        }
        self.garp.extend(staged.garp);
        self.garp_mac.extend(staged.garp_macs);
    }

    /// Binds router `i`, waiting under a stand-in index, to its interface,
    /// which exists now: resolves it again as a new router would be
    /// (advert source, VMAC, addresses, routes), opens its sockets and
    /// moves it in the mux, keeping its id, counters and sync group. A
    /// new IPv6 advert source makes it another instance for the state
    /// machine: it is rebuilt (tracking given again) and started. It then
    /// follows the interface's state. On an error (no address yet) it
    /// stays as it was.
    pub(super) fn attach(&mut self, now: Instant, i: usize) -> Result<(), DriverError> {
        let id = RouterId(i as u32);
        let Some(r) = self.io(i) else { return Ok(()) };
        let spec = r.spec.clone();
        let mut cache = Cache::default();
        let link = cached_link(&mut self.netlink, &mut cache, &spec.interface)?;
        let mut staged = Staged::default();
        let prepared = self
            .prepare_router(&spec, link, Some(id), &mut cache, &mut staged)
            .and_then(|p| self.stage_sockets(&mut staged, &p).map(|()| p));
        let p = match prepared {
            Ok(p) => p,
            Err(e) => {
                for index in staged.vmacs {
                    let _ = self.netlink.del_link(index);
                }
                return Err(e);
            }
        };
        // Events of the waiting router first: a rebuilt one drops them.
        self.drain(now);
        self.install_staged(staged);
        self.mux.rebind(id, p.link.index)?;
        let rebuilt = self.mux.reconfigure_router(now, id, p.config.clone())? == Change::Restart;
        if rebuilt {
            self.mux.replace_router(id, p.link.index, p.router)?;
        }
        let Some(r) = self.routers.get_mut(i).and_then(Option::as_mut) else {
            return Ok(());
        };
        r.recv_ifindex = p.link.index;
        r.send_ifindex = p.send_link.index;
        r.mac = p.send_link.mac.unwrap_or([0; 6]);
        r.channel = p.channel;
        r.addresses = p.addresses;
        r.routes = p.routes;
        r.vmac = p.vmac;
        r.addr_vmacs = p.addr_vmacs;
        // A new VMAC for the firewall's map.
        self.firewall.touch();
        self.links.entry(p.link.index).or_insert(p.link.clone());
        if p.vmac.is_some() {
            self.vmac_made(i, &p.send_link);
        }
        self.mux
            .handle_interface(now, p.link.index, p.link.is_operational());
        if rebuilt {
            if let Some(t) = self.tracking_of(i) {
                self.mux.handle_tracking(now, id, t);
            }
            self.mux.handle_startup_one(now, id);
        }
        self.drain(now);
        Ok(())
    }

    /// Starts routers added to a running driver, each knowing first if its
    /// interface is down.
    fn start(&mut self, now: Instant, added: &[RouterId]) {
        let down: HashSet<u32> = added
            .iter()
            .filter_map(|&id| self.mux.ifindex(id))
            .filter(|i| self.links.get(i).is_some_and(|l| !l.is_operational()))
            .collect();
        for ifindex in down {
            // Routers already on it know: a repeated "down" changes nothing.
            self.mux.handle_interface(now, ifindex, false);
        }
        for &id in added {
            self.mux.handle_startup_one(now, id);
        }
    }

    fn is_master(&self, id: RouterId) -> bool {
        self.mux.router(id).map(VirtualRouter::state) == Some(State::Master)
    }

    /// Applies a router's new host-side facts; for a master that stays
    /// master, installs its new addresses and routes (with gratuitous ARPs)
    /// and removes the ones it no longer has (the mux's
    /// `AddressesChanged` event, passed on, reports the same). One that just
    /// became master (a new owner) installs everything through its events.
    /// True if anything changed.
    fn update_in_place(&mut self, id: RouterId, p: Prepared, was_master: bool) -> bool {
        let i = id.0 as usize;
        let master = was_master && self.is_master(id);
        let repeat = p.config.garp.master_repeat;
        let Some(r) = self.routers.get_mut(i).and_then(Option::as_mut) else {
            return false;
        };
        let changed = r.spec.config != p.spec.config
            || r.addresses != p.addresses
            || r.routes != p.routes
            || r.spec.rules != p.spec.rules
            || r.name != p.config.name;
        let gone_addrs = missing(&r.addresses, &p.addresses);
        let new_addrs = missing(&p.addresses, &r.addresses);
        let gone_routes = missing(&r.routes, &p.routes);
        let new_routes = missing(&p.routes, &r.routes);
        let gone_rules = missing(&r.spec.rules, &p.spec.rules);
        let new_rules = missing(&p.spec.rules, &r.spec.rules);
        if r.addresses != p.addresses {
            // Queued GARPs name addresses by position.
            self.pacer.forget_router(i as u32);
        }
        let extra_if_changed = r.spec.config.garp_extra_if != p.spec.config.garp_extra_if;
        r.spec = p.spec;
        r.name = p.config.name;
        r.addresses = p.addresses;
        r.routes = p.routes;
        r.addr_vmacs = p.addr_vmacs;
        if master {
            self.del_rules(&gone_rules);
            self.del_routes(&gone_routes);
            self.del_addresses(&gone_addrs);
            self.add_addresses(&new_addrs);
            self.add_routes(&new_routes);
            self.add_rules(&new_rules);
            if !new_addrs.is_empty() {
                // keepalived 2.2.7 (`clear_diff_vrrp`): one burst for all
                // the addresses of an instance that gained one.
                self.send_garps(i, repeat);
            }
            if extra_if_changed || !new_addrs.is_empty() || !gone_addrs.is_empty() {
                // A new `garp_extra_if` period (or forgotten above with the
                // old addresses) starts now.
                self.pacer.stop_periodic(i as u32);
                self.arm_extra_if(i, self.last_now);
            }
        }
        changed
    }

    /// Removes a router from the mux (a master sends priority 0) and its
    /// addresses (but those another master has: a reload may move one to
    /// a master updated first), routes and VMAC (unless a router of the
    /// new setup reuses it) from the host.
    fn remove_router(
        &mut self,
        now: Instant,
        id: RouterId,
        kept_vmacs: &HashSet<u32>,
    ) -> Result<(), MuxError> {
        let i = id.0 as usize;
        let was_master = self.is_master(id);
        self.mux.router(id).ok_or(MuxError::UnknownRouter(id))?;
        // Before its events: leaving MASTER deletes its addresses.
        self.leave_others_addresses(i);
        self.mux.remove_router(now, id)?;
        // Its priority-0 advert and last events, while its sockets are known.
        self.drain(now);
        if was_master {
            self.uninstall(i);
        }
        self.pacer.forget_router(i as u32);
        let vmac = self
            .routers
            .get_mut(i)
            .and_then(Option::take)
            .and_then(|r| r.vmac);
        if let Some(index) = vmac.filter(|v| !kept_vmacs.contains(v)) {
            match self.netlink.del_link(index) {
                // Gone already (a rename's old one, `swap_vmacs`).
                Err(e) if e.errno() != Some(libc::ENODEV) => self.host_error("delete VMAC", e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Forgets the addresses of router `i`, being removed, that another
    /// master has installed too, so that its removal leaves them.
    fn leave_others_addresses(&mut self, i: usize) {
        let others = (0..self.routers.len()).filter(|&j| j != i);
        let masters = others.filter(|&j| self.is_master(RouterId(j as u32)));
        let held: Vec<Vip> = (masters.filter_map(|j| self.io(j)))
            .flat_map(|r| r.addresses.iter().cloned())
            .collect();
        if let Some(r) = self.routers.get_mut(i).and_then(Option::as_mut) {
            r.addresses.retain(|a| !held.contains(a));
        }
    }

    fn add_router(&mut self, p: Prepared) -> Result<RouterId, MuxError> {
        let id = self.mux.add_router(p.link.index, p.router)?;
        let i = id.0 as usize;
        if self.routers.len() <= i {
            self.routers.resize_with(i + 1, || None);
        }
        self.routers[i] = Some(RouterIo {
            spec: p.spec,
            name: p.config.name,
            recv_ifindex: p.link.index,
            send_ifindex: p.send_link.index,
            mac: p.send_link.mac.unwrap_or([0; 6]),
            channel: p.channel,
            addresses: p.addresses,
            routes: p.routes,
            vmac: p.vmac,
            addr_vmacs: p.addr_vmacs,
            last_drop_event: None,
            tracking: None,
        });
        Ok(id)
    }

    /// Keeps the states of the interfaces routers use or that are watched,
    /// and forgets the others. Once running, a new one is reported.
    fn update_links(&mut self, links: Vec<Link>, started: bool) {
        let used: HashSet<u32> = links.iter().map(|l| l.index).collect();
        self.links.retain(|index, _| used.contains(index));
        for link in links {
            if self.links.contains_key(&link.index) {
                continue;
            }
            self.links.insert(link.index, link.clone());
            if started {
                self.emit_link(link);
            }
        }
    }

    /// Closes the raw and GARP sockets no router uses any more.
    pub(super) fn close_unused(&mut self) {
        let mut raw = HashSet::new();
        let mut garp = HashSet::new();
        for r in self.routers.iter().flatten() {
            raw.insert((r.recv_ifindex, r.channel));
            raw.insert((r.send_ifindex, r.channel));
            garp.insert(r.send_ifindex);
            // The other interfaces holding its addresses (an address on its
            // own interface may name an index deleted meanwhile).
            let elsewhere = r.addresses.iter().map(Vip::ifindex);
            garp.extend(elsewhere.filter(|i| self.garp_mac.contains_key(i)));
        }
        self.sockets.retain(|key, _| raw.contains(key));
        let sockets = &self.sockets;
        self.receivers
            .retain(|r| sockets.values().any(|s| s.same(&r.sock)));
        self.garp.retain(|index, _| garp.contains(index));
        self.garp_mac.retain(|index, _| garp.contains(index));
    }
}

/// Stand-in MACs tried for a renamed VMAC (each try makes and deletes a
/// macvlan) before the reload is refused.
const STAND_IN_TRIES: usize = 8;

/// The MAC of a router's macvlan VMAC: the configured one, else the
/// virtual MAC of its VRID and family.
fn vmac_mac(options: &VmacOptions, vrid: u8, ipv6: bool) -> [u8; 6] {
    match (options.mac, ipv6) {
        (Some(mac), _) => mac,
        (None, true) => vmac_address6(vrid),
        (None, false) => vmac_address(vrid),
    }
}

/// The advert source of an IPv4 router on a missing interface, never
/// used (a router there is in FAULT and sends nothing): a valid unicast
/// address for the state machine's checks (TEST-NET-1, RFC 5737).
const STAND_IN_PRIMARY_IP: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 0);

/// The advert source of an IPv6 router on a missing interface, never used.
const STAND_IN_LINK_LOCAL: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);

/// True if the router speaks IPv6: its configuration says so, or its
/// first virtual address is IPv6 (keepalived's rule).
pub(super) fn is_ipv6(spec: &RouterSpec) -> bool {
    spec.config.ipv6.is_some() || spec.addresses.first().is_some_and(|a| a.addr.is_ipv6())
}

/// A router's identity in the mux besides its interface: VRID, family,
/// and channel (its multicast group, `None` with unicast peers; see
/// [`Mux::find_channel`](crate::mux::Mux::find_channel)).
fn mux_key(spec: &RouterSpec) -> (u8, bool, Option<IpAddr>) {
    let ipv6 = is_ipv6(spec);
    let group = match (spec.config.multicast_group(), spec.config.mcast_group) {
        (g, _) if g.is_ipv6() == ipv6 => g,
        (_, Some(g)) if g.is_ipv6() == ipv6 => g,
        _ => IpAddr::V6(crate::wire::VRRP_MCAST_V6),
    };
    let chan = (!spec.config.is_unicast()).then_some(group);
    (spec.config.vrid, ipv6, chan)
}

fn v4_of(a: IpAddr) -> Option<Ipv4Addr> {
    match a {
        IpAddr::V4(a) => Some(a),
        IpAddr::V6(_) => None,
    }
}

fn v6_of(a: IpAddr) -> Option<Ipv6Addr> {
    match a {
        IpAddr::V6(a) => Some(a),
        IpAddr::V4(_) => None,
    }
}

/// A renamed VMAC's old one goes at the commit and its new one takes its
/// MAC: refused if a new router still uses the old one (unicast routers
/// of one VRID sharing a VMAC), or if another new VMAC takes it too (a
/// shared one renamed to two names), as the kernel lets only one VMAC of
/// an interface have a MAC.
fn check_swaps(routers: &[Prepared], swaps: &[VmacSwap]) -> Result<(), DriverError> {
    let kept = kept_vmacs(routers);
    let twice = |s: &&VmacSwap| swaps.iter().any(|o| o.old == s.old && o.new != s.new);
    let Some(s) = (swaps.iter()).find(|s| kept.contains(&s.old) || twice(s)) else {
        return Ok(());
    };
    let renamed = routers.iter().find(|p| p.vmac == Some(s.new));
    let (ifindex, vrid) = renamed.map_or((0, 0), |p| (p.link.index, p.config.vrid));
    Err(MuxError::Duplicate { ifindex, vrid }.into())
}

/// Members of each sync group as indices into the new routers: in range,
/// and no router in two groups.
fn check_groups(
    groups: &[super::SyncGroupSpec],
    routers: usize,
) -> Result<Vec<(String, Vec<usize>)>, DriverError> {
    let mut seen = HashSet::new();
    for g in groups {
        let bad = |&m: &usize| m >= routers || !seen.insert(m);
        if g.members.iter().any(bad) {
            return Err(DriverError::BadSyncGroup(g.name.clone()));
        }
    }
    Ok(groups
        .iter()
        .map(|g| (g.name.clone(), g.members.clone()))
        .collect())
}

/// The link named `name`, asked of the kernel once per preparation.
fn cached_link(
    netlink: &mut crate::linux::Netlink,
    cache: &mut Cache,
    name: &str,
) -> Result<Link, LinuxError> {
    if let Some(link) = cache.links.get(name) {
        return Ok(link.clone());
    }
    let link = netlink.link(name)?;
    cache.links.insert(name.to_owned(), link.clone());
    Ok(link)
}

/// The VMACs (routers' and address VMACs) the new routers use.
fn kept_vmacs(routers: &[Prepared]) -> HashSet<u32> {
    (routers.iter())
        .flat_map(|p| (p.vmac.into_iter()).chain(p.addr_vmacs.iter().map(|v| v.index)))
        .collect()
}

/// The interfaces whose states the new routers follow, and the watched
/// ones. An interface a router waits on for an address comes before its
/// stand-in, so that the interface, not the stand-in, is reported.
fn links_of(routers: &[Prepared], watch: Vec<Link>) -> Vec<Link> {
    (routers.iter())
        .flat_map(|p| p.waiting.clone().into_iter().chain([p.link.clone()]))
        .chain(watch)
        .collect()
}

/// The new routers waiting for an address.
fn waiting_of(routers: &[Prepared]) -> Vec<Waiting> {
    (routers.iter().enumerate())
        .filter(|(_, p)| p.waiting.is_some())
        .map(|(k, p)| {
            let ipv6 = matches!(p.channel, Channel::V6(_));
            (k, p.config.name.clone(), p.spec.interface.clone(), ipv6)
        })
        .collect()
}

/// The items of `a` that are not in `b`.
fn missing<T: PartialEq + Clone>(a: &[T], b: &[T]) -> Vec<T> {
    a.iter().filter(|x| !b.contains(x)).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linux::driver::SyncGroupSpec;

    fn group(name: &str, members: &[usize]) -> SyncGroupSpec {
        SyncGroupSpec {
            name: name.into(),
            members: members.to_vec(),
        }
    }

    #[test]
    fn groups_must_name_existing_routers_once() {
        let ok = check_groups(&[group("G1", &[0, 2]), group("G2", &[1])], 3);
        let ok = ok.map_err(|e| e.to_string());
        let want = vec![("G1".to_owned(), vec![0, 2]), ("G2".to_owned(), vec![1])];
        assert_eq!(ok, Ok(want));
        let out_of_range = check_groups(&[group("G", &[0, 3])], 3);
        assert!(matches!(out_of_range, Err(DriverError::BadSyncGroup(n)) if n == "G"));
        let twice = check_groups(&[group("G1", &[0]), group("G2", &[0])], 3);
        assert!(matches!(twice, Err(DriverError::BadSyncGroup(n)) if n == "G2"));
    }

    #[test]
    fn missing_keeps_order_and_ignores_common_items() {
        assert_eq!(missing(&[1, 2, 3, 4], &[4, 2]), [1, 3]);
        assert_eq!(missing::<u8>(&[], &[1]), Vec::<u8>::new());
    }
}
