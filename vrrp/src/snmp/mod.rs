//! The standard VRRP MIBs as keepalived 2.2.7 serves them (its
//! `vrrp_snmp.c`, read for behaviour): RFC 2787's VRRP-MIB
//! (`1.3.6.1.2.1.68`, [`rfc2787`]) and RFC 6527's VRRPv3-MIB
//! (`1.3.6.1.2.1.207`, [`rfc6527`]), built from the driver's routers.
//!
//! [`objects`] gives every object as one sorted map, ready for
//! [`agentx::view`]'s Get, GetNext and GetBulk; [`new_master`] and
//! [`rejected`] give the MIBs' notifications as the varbinds of an
//! [`agentx::pdu::notify`] (snmpTrapOID.0 first; the master agent adds
//! sysUpTime.0). Connecting to the master agent, and whether
//! notifications are sent at all (keepalived's `enable_traps`), are the
//! embedder's.
//!
//! Input: each router's [`RouterSpec`] and [`RouterSnapshot`] with what
//! its events said ([`Router`], [`Notes`]), and what the host says of
//! its interfaces and uptimes ([`Host`]: [`Facts`], and
//! [`KernelInterfaces`] to read interfaces from the kernel).
//!
//! # Example
//!
//! ```
//! use std::net::Ipv4Addr;
//! use agentx::pdu::Value;
//! use vrrp::linux::driver::{RouterSnapshot, RouterSpec, VirtualAddress};
//! use vrrp::mux::RouterId;
//! use vrrp::snmp::{self, Facts, Interface, Mibs, Notes, Router, Uptime, VRRP_MIB};
//! use vrrp::{Config, State};
//!
//! let spec = RouterSpec {
//!     config: Config::new("VI_1", 51, 150, Ipv4Addr::new(10, 0, 0, 1)),
//!     interface: "eth0".into(),
//!     addresses: vec![VirtualAddress::host(Ipv4Addr::new(10, 0, 0, 100))],
//!     excluded: Vec::new(),
//!     routes: Vec::new(),
//!     rules: Vec::new(),
//!     use_vmac: false,
//!     vmac: Default::default(),
//! };
//! let run = RouterSnapshot {
//!     id: RouterId(0),
//!     name: "VI_1".into(),
//!     state: State::Master,
//!     priority: 150,
//!     counters: Default::default(),
//!     last_master: None,
//! };
//! let router = Router { spec: &spec, run: Some(&run), notes: Notes::default() };
//! // eth0 is ifIndex 2 on this host.
//! let host = Facts {
//!     interfaces: |name: &str| (name == "eth0").then(|| Interface { index: 2, ..Default::default() }),
//!     uptime: Uptime::default(),
//! };
//! let objects = snmp::objects(&Mibs::default(), &[router], &host);
//! // vrrpOperState.2.51: master(3).
//! let state = snmp::oid(&VRRP_MIB, &[1, 3, 1, 3, 2, 51]);
//! assert_eq!(objects.get(&state), Some(&Value::Integer(3)));
//! ```

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};

use agentx::pdu::{Oid, Value, VarBind};

use crate::event::{AdvertError, Reason};
use crate::linux::driver::{RouterSnapshot, RouterSpec};
use crate::linux::Netlink;
use crate::State;

mod counters;
pub mod rfc2787;
pub mod rfc6527;
#[cfg(test)]
mod tests;

/// RFC 2787's VRRP-MIB, `vrrpMIB`.
pub const VRRP_MIB: [u32; 7] = [1, 3, 6, 1, 2, 1, 68];
/// RFC 6527's VRRPv3-MIB, `vrrpv3MIB`.
pub const VRRPV3_MIB: [u32; 7] = [1, 3, 6, 1, 2, 1, 207];
/// SNMPv2-MIB's `snmpTrapOID.0`, the first varbind of a notification.
pub const SNMP_TRAP_OID: [u32; 11] = [1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];

/// `base` followed by `tail`.
pub fn oid(base: &[u32], tail: &[u32]) -> Oid {
    let mut o = base.to_vec();
    o.extend(tail);
    o
}

/// Which MIBs are served (keepalived's `enable_snmp_rfcv2`,
/// `enable_snmp_rfcv3`, `-x`) and what vrrpNotificationCntl says
/// (`enable_traps`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mibs {
    /// RFC 2787's VRRP-MIB.
    pub rfc2787: bool,
    /// RFC 6527's VRRPv3-MIB.
    pub rfc6527: bool,
    /// Notifications are sent: RFC 2787's vrrpNotificationCntl.
    pub notifications: bool,
}

impl Default for Mibs {
    /// Both MIBs, with notifications.
    fn default() -> Mibs {
        Mibs {
            rfc2787: true,
            rfc6527: true,
            notifications: true,
        }
    }
}

/// What the host says of an interface.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interface {
    /// ifIndex (the MIBs' first index).
    pub index: u32,
    /// Its hardware address (vrrpOperVirtualMacAddr: keepalived answers
    /// the interface's own).
    pub mac: Option<[u8; 6]>,
    /// Its first IPv4 address (the primary address).
    pub ipv4: Option<Ipv4Addr>,
}

/// The uptimes keepalived 2.2.7 serves for a BACKUP or MASTER router, in
/// centiseconds (0 in other states).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Uptime {
    /// vrrpOperVirtualRouterUpTime: keepalived subtracts the agent's
    /// start (or last reload) from the routers' initialisation just
    /// after it, so it stays small and fixed.
    pub rfc2787: u32,
    /// vrrpv3OperationsUpTime: from the routers' initialisation (start
    /// or last reload) to now.
    pub rfc6527: u32,
}

impl Uptime {
    /// The uptimes of a router in `state`.
    fn of(self, state: State) -> Uptime {
        match state {
            State::Backup | State::Master => self,
            _ => Uptime::default(),
        }
    }
}

/// The host facts the rows need.
pub trait Host {
    /// The interface named `name`, if it exists (a missing one reads as
    /// ifIndex 0, no MAC, no address).
    fn interface(&self, name: &str) -> Option<Interface>;
    /// The routers' uptimes now.
    fn uptime(&self) -> Uptime;
}

/// A [`Host`] from an interface lookup and fixed uptimes.
#[derive(Debug, Clone, Copy)]
pub struct Facts<F> {
    /// Looks an interface up by name.
    pub interfaces: F,
    /// The uptimes.
    pub uptime: Uptime,
}

impl<F: Fn(&str) -> Option<Interface>> Host for Facts<F> {
    fn interface(&self, name: &str) -> Option<Interface> {
        (self.interfaces)(name)
    }
    fn uptime(&self) -> Uptime {
        self.uptime
    }
}

/// Interfaces as the kernel reports them (rtnetlink), each read once:
/// make one per request so that a walk sees one consistent host.
#[derive(Debug)]
pub struct KernelInterfaces {
    netlink: RefCell<Option<Netlink>>,
    seen: RefCell<HashMap<String, Option<Interface>>>,
}

impl Default for KernelInterfaces {
    fn default() -> Self {
        Self::new()
    }
}

impl KernelInterfaces {
    /// Opens the netlink socket (if it cannot be, every interface reads
    /// as missing).
    pub fn new() -> KernelInterfaces {
        KernelInterfaces {
            netlink: RefCell::new(Netlink::open().ok()),
            seen: RefCell::default(),
        }
    }

    /// The interface named `name`: ifIndex, MAC, first IPv4 address.
    pub fn get(&self, name: &str) -> Option<Interface> {
        if let Some(i) = self.seen.borrow().get(name) {
            return i.clone();
        }
        let info = self.read(name);
        self.seen.borrow_mut().insert(name.to_owned(), info.clone());
        info
    }

    fn read(&self, name: &str) -> Option<Interface> {
        let mut nl = self.netlink.borrow_mut();
        let nl = nl.as_mut()?;
        let link = nl.link(name).ok()?;
        let ipv4 = (nl.addresses(Some(link.index)).ok()?)
            .into_iter()
            .map(|a| a.addr)
            .next();
        Some(Interface {
            index: link.index,
            mac: link.mac,
            ipv4,
        })
    }
}

/// What a router's events said that its snapshot does not keep: RFC
/// 6527's last reasons.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Notes {
    /// vrrpv3StatisticsNewMasterReason: notMaster(0) until it first
    /// becomes master.
    pub new_master_reason: i32,
    /// vrrpv3StatisticsProtoErrReason of the last protocol error:
    /// noError(0) before one.
    pub proto_error: i32,
}

impl Notes {
    /// The router entered `state` for `reason`: as keepalived,
    /// priority(1) for the address owner becoming master, else
    /// masterNoResponse(3), kept until it next becomes master.
    pub fn entered(&mut self, state: State, reason: Reason) {
        if state == State::Master {
            self.new_master_reason = if reason == Reason::AddressOwner { 1 } else { 3 };
        }
    }

    /// The router rejected an advert: a protocol error is kept.
    pub fn rejected(&mut self, error: AdvertError) {
        if let AdvertError::Protocol(e) = error {
            self.proto_error = e.code();
        }
    }
}

/// One router as the MIBs see it.
#[derive(Debug, Clone, Copy)]
pub struct Router<'a> {
    /// As configured.
    pub spec: &'a RouterSpec,
    /// As running (None: it reads as INIT with no counters).
    pub run: Option<&'a RouterSnapshot>,
    /// What its events said.
    pub notes: Notes,
}

impl Router<'_> {
    fn state(&self) -> State {
        self.run.map_or(State::Initialize, |r| r.state)
    }

    /// The master it last heard (keepalived's `master_saddr`): unset
    /// reads as zeros of the router's family.
    fn last_master(&self) -> Vec<u8> {
        match (self.run.and_then(|r| r.last_master), &self.spec.config.ipv6) {
            (Some(a), _) => ip_bytes(a),
            (None, None) => vec![0; 4],
            (None, Some(_)) => vec![0; 16],
        }
    }

    fn interface(&self, host: &impl Host) -> Interface {
        host.interface(&self.spec.interface).unwrap_or_default()
    }
}

/// Every object of the MIBs `mibs` serves, for `routers` on `host`.
pub fn objects(mibs: &Mibs, routers: &[Router<'_>], host: &impl Host) -> BTreeMap<Oid, Value> {
    let mut t = BTreeMap::new();
    if mibs.rfc2787 {
        rfc2787::objects(&mut t, mibs.notifications, routers, host);
    }
    if mibs.rfc6527 {
        rfc6527::objects(&mut t, routers, host);
    }
    t
}

/// The notifications keepalived sends when `router` becomes master:
/// vrrpTrapNewMaster, then vrrpv3NewMaster, each where its MIB is served
/// and the router suits it.
pub fn new_master(mibs: &Mibs, router: &Router<'_>, host: &impl Host) -> Vec<Vec<VarBind>> {
    let v2 =
        (mibs.rfc2787 && rfc2787::suitable(router.spec)).then(|| rfc2787::new_master(router, host));
    let v3 =
        (mibs.rfc6527 && rfc6527::suitable(router.spec)).then(|| rfc6527::new_master(router, host));
    v2.into_iter().chain(v3).collect()
}

/// The notification keepalived sends when `router` rejects an advert from
/// `from`: vrrpTrapAuthFailure for an authentication error (IPv4
/// senders), vrrpv3ProtoError for a protocol error, each where its MIB
/// is served and the router suits it.
pub fn rejected(
    mibs: &Mibs,
    router: &Router<'_>,
    from: IpAddr,
    error: AdvertError,
    host: &impl Host,
) -> Option<Vec<VarBind>> {
    match (error, from) {
        (AdvertError::Auth(e), IpAddr::V4(src))
            if mibs.rfc2787 && rfc2787::suitable(router.spec) =>
        {
            Some(rfc2787::auth_failure(router, src, e, host))
        }
        (AdvertError::Protocol(e), _) if mibs.rfc6527 && rfc6527::suitable(router.spec) => {
            Some(rfc6527::proto_error(router, e, host))
        }
        _ => None,
    }
}

/// snmpTrapOID.0 naming `trap`.
fn trap_oid(trap: &[u32]) -> VarBind {
    VarBind {
        name: SNMP_TRAP_OID.to_vec(),
        value: Value::Oid(trap.to_vec()),
    }
}

/// SNMP TruthValue: true(1), false(2).
fn truth(b: bool) -> i32 {
    if b {
        1
    } else {
        2
    }
}

/// vrrpOperState and vrrpv3OperationsStatus: initialize(1), backup(2),
/// master(3); FAULT reads as initialize, as keepalived maps it.
fn oper_state(s: State) -> i32 {
    match s {
        State::Backup => 2,
        State::Master => 3,
        _ => 1,
    }
}

fn ip_bytes(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(x) => x.octets().to_vec(),
        IpAddr::V6(x) => x.octets().to_vec(),
    }
}
