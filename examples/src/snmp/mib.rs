//! The objects keepalived 2.2.7 serves for VRRP, built from the VRRP
//! half's state as one sorted tree: a Get is a lookup, a GetNext the
//! first entry after the asked name. Values follow keepalived's
//! `vrrp_snmp.c` (read for behaviour, not copied).
//!
//! - RFC 2787 VRRP-MIB and RFC 6527 VRRPv3-MIB: the `vrrp` crate's
//!   [`vrrp::snmp`], from each instance's specification and snapshot.
//! - KEEPALIVED-MIB (`1.3.6.1.4.1.9586.100.5`): the global scalars and
//!   emailTable, vrrpSyncGroupTable, vrrpSyncGroupMemberTable,
//!   vrrpInstanceTable, vrrpTrackedInterfaceTable,
//!   vrrpTrackedScriptTable, vrrpAddressTable, vrrpScriptTable.

use healthcheck::script::shown;
use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};

use vrrp::auth::AuthConfig;
use vrrp::config::Version;
pub use vrrp::snmp::{oid, Interface, Uptime};
use vrrp::snmp::{Facts, Mibs, Notes, Router};
use vrrp::State;

use vrrp::linux::driver::VirtualAddress;
use vrrp::linux::Scope;
use vrrp_conf::model::Notify;

use super::globals::Globals;
use crate::observe::{InstanceState, VrrpState};
use agentx::pdu::{Oid, Value};

/// KEEPALIVED-MIB's `keepalived` node.
pub const KEEPALIVED: [u32; 9] = [1, 3, 6, 1, 4, 1, 9586, 100, 5];

/// `vrrpInstanceStateChange`.
pub fn trap_instance_state() -> Oid {
    oid(&KEEPALIVED, &[2, 10, 0, 2])
}
/// `vrrpSyncGroupStateChange`.
pub fn trap_group_state() -> Oid {
    oid(&KEEPALIVED, &[2, 10, 0, 1])
}

/// Which MIBs are served and what the global part says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Served {
    /// KEEPALIVED-MIB's VRRP part (`enable_snmp_vrrp`, `-x`).
    pub keepalived: bool,
    /// RFC 2787 (`enable_snmp_rfcv2`, `-x`).
    pub rfcv2: bool,
    /// RFC 6527 (`enable_snmp_rfcv3`, `-x`).
    pub rfcv3: bool,
    /// KEEPALIVED-MIB's checker part (`enable_snmp_checker`, `-x`).
    pub checker: bool,
    /// `enable_traps`.
    pub traps: bool,
    /// `router_id` (else the host name).
    pub router_id: String,
    /// The rest of `global_defs`.
    pub globals: Globals,
    /// What the configuration says of the checker beyond its plan.
    pub checker_conf: super::checker::Configured,
}

impl Served {
    /// The standard MIBs served.
    pub fn mibs(&self) -> Mibs {
        Mibs {
            rfc2787: self.rfcv2,
            rfc6527: self.rfcv3,
            notifications: self.traps,
        }
    }
}

/// A `vrrp_sync_group`: name and member instance names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Group {
    /// Name.
    pub name: String,
    /// Members, in configuration order.
    pub members: Vec<String>,
    /// Its notify scripts.
    pub notify: Notify,
}

/// A `track_interface` or `track_script` entry of an instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Track {
    /// Interface or script name.
    pub name: String,
    /// Its weight.
    pub weight: i32,
}

/// A `vrrp_script`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Script {
    /// Name.
    pub name: String,
    /// keepalived's `cmd_str` of its command.
    pub command: String,
    /// `interval` in seconds.
    pub interval: u32,
    /// `weight`.
    pub weight: i32,
    /// `rise`.
    pub rise: u32,
    /// `fall`.
    pub fall: u32,
}

/// What the configuration says beyond the driver's specification,
/// published at start and on each reload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Published {
    /// Sync groups.
    pub groups: Vec<Group>,
    /// `track_interface` per instance name.
    pub track_interfaces: HashMap<String, Vec<Track>>,
    /// `track_script` per instance name.
    pub track_scripts: HashMap<String, Vec<Track>>,
    /// The `vrrp_script`s in use.
    pub scripts: Vec<Script>,
    /// `static_ipaddress` with its interface.
    pub statics: Vec<(String, VirtualAddress)>,
    /// Each script's last result (absent before its first).
    pub script_up: HashMap<String, bool>,
    /// What each instance's events said, by instance name (absent:
    /// nothing yet).
    pub notes: HashMap<String, Notes>,
    /// The routers' uptimes as keepalived reports them.
    pub uptime: Uptime,
}

/// keepalived's state number (INIT 0, BACKUP 1, MASTER 2, FAULT 3).
pub fn state_number(s: State) -> i32 {
    i32::from(crate::dump::state_number(s))
}

/// SNMP TruthValue: true(1), false(2).
fn truth(b: bool) -> i32 {
    if b {
        1
    } else {
        2
    }
}

fn state_of(i: &InstanceState) -> State {
    i.run.as_ref().map_or(State::Initialize, |r| r.state)
}

/// The host as the standard MIBs see it: `iface`'s interfaces, the
/// uptimes `published`.
pub fn host<'a, F: Fn(&str) -> Option<Interface>>(
    published: &Published,
    iface: &'a F,
) -> Facts<&'a F> {
    Facts {
        interfaces: iface,
        uptime: published.uptime,
    }
}

/// Instance `i` as the standard MIBs see it.
pub fn router<'a>(i: &'a InstanceState, published: &Published) -> Router<'a> {
    let name = &*i.view.spec.config.name;
    Router {
        spec: &i.view.spec,
        run: i.run.as_ref(),
        notes: published.notes.get(name).copied().unwrap_or_default(),
    }
}

/// Every object served now.
pub fn tree(
    served: &Served,
    state: &VrrpState,
    published: &Published,
    iface: &impl Fn(&str) -> Option<Interface>,
) -> BTreeMap<Oid, Value> {
    let routers: Vec<Router<'_>> = (state.instances.iter())
        .map(|i| router(i, published))
        .collect();
    let mut t = vrrp::snmp::objects(&served.mibs(), &routers, &host(published, iface));
    if served.keepalived {
        globals(&mut t, served);
        keepalived(&mut t, state, published);
        tracking(&mut t, state, published);
        addresses(&mut t, state, published, iface);
        scripts(&mut t, published);
    }
    t
}

/// KEEPALIVED-MIB's global scalars (`keepalived.1`).
pub fn globals(t: &mut BTreeMap<Oid, Value>, served: &Served) {
    let put = |t: &mut BTreeMap<Oid, Value>, tail: &[u32], v: Value| {
        t.insert(oid(&KEEPALIVED, tail), v);
    };
    let g = &served.globals;
    let version = format!("keepalived-lite {}", env!("CARGO_PKG_VERSION"));
    put(t, &[1, 1, 0], text(&version));
    put(t, &[1, 2, 0], text(&served.router_id));
    // keepalived: InetAddressType 1 only for IPv4 (unset reads as 2), and
    // the unset address as four zero bytes.
    let (kind, addr) = match g.smtp_server {
        Some(IpAddr::V4(a)) => (1, a.octets().to_vec()),
        Some(IpAddr::V6(a)) => (2, a.octets().to_vec()),
        None => (2, vec![0; 4]),
    };
    put(t, &[1, 3, 1, 0], Value::Integer(kind));
    put(t, &[1, 3, 2, 0], Value::OctetString(addr));
    put(t, &[1, 3, 3, 0], Value::Gauge32(g.smtp_timeout));
    if let Some(from) = &g.email_from {
        put(t, &[1, 3, 4, 0], text(from));
    }
    for (n, e) in (1u32..).zip(&g.emails) {
        put(t, &[1, 3, 5, 1, 2, n], text(e));
    }
    put(t, &[1, 3, 6, 0], Value::Gauge32(u32::from(g.smtp_port)));
    put(t, &[1, 3, 7, 0], Value::Integer(truth(g.email_faults)));
    put(t, &[1, 3, 8, 0], Value::Integer(g.smtp_alert.number()));
    put(t, &[1, 3, 9, 0], Value::Integer(g.smtp_alert_vrrp.number()));
    put(
        t,
        &[1, 3, 10, 0],
        Value::Integer(g.smtp_alert_checker.number()),
    );
    put(t, &[1, 4, 0], Value::Integer(truth(served.traps)));
    put(
        t,
        &[1, 5, 0],
        Value::Integer(if g.linkbeat_polling { 2 } else { 1 }),
    );
    put(t, &[1, 6, 0], Value::Integer(truth(g.lvs_flush)));
    // 64-bit IPVS statistics: always.
    put(t, &[1, 7, 0], Value::Integer(1));
    put(t, &[1, 8, 0], text(&g.namespace));
    // D-Bus is never built in.
    put(t, &[1, 9, 0], Value::Integer(2));
    put(t, &[1, 10, 0], Value::Integer(truth(g.dynamic_interfaces)));
    put(t, &[1, 11, 0], Value::Integer(g.lvs_flush_on_stop));
}

/// vrrpTrackedInterfaceTable and vrrpTrackedScriptTable, indexed by
/// instance and position.
fn tracking(t: &mut BTreeMap<Oid, Value>, state: &VrrpState, published: &Published) {
    let put = |t: &mut BTreeMap<Oid, Value>, tail: &[u32], v: Value| {
        t.insert(oid(&KEEPALIVED, tail), v);
    };
    for (n, i) in (1u32..).zip(&state.instances) {
        let name = &*i.view.spec.config.name;
        let none = Vec::new();
        let ifs = published.track_interfaces.get(name).unwrap_or(&none);
        for (k, tr) in (1u32..).zip(ifs) {
            put(t, &[2, 4, 1, 1, n, k], text(&tr.name));
            put(t, &[2, 4, 1, 2, n, k], Value::Integer(tr.weight));
            put(t, &[2, 4, 1, 3, n, k], Value::Integer(2));
        }
        let scripts = published.track_scripts.get(name).unwrap_or(&none);
        for (k, tr) in (1u32..).zip(scripts) {
            put(t, &[2, 5, 1, 2, n, k], text(&tr.name));
            put(t, &[2, 5, 1, 3, n, k], Value::Integer(tr.weight));
            put(t, &[2, 5, 1, 4, n, k], Value::Integer(2));
        }
    }
}

/// keepalived's InetScopeType of an address scope.
fn scope_number(s: Scope) -> i32 {
    match s {
        Scope::Global => 14,
        Scope::Site => 5,
        Scope::Link => 2,
        Scope::Host => 1,
        _ => 0,
    }
}

/// vrrpAddressTable: static addresses (instance index 0), then each
/// instance's VIPs and excluded VIPs, numbered together.
fn addresses(
    t: &mut BTreeMap<Oid, Value>,
    state: &VrrpState,
    published: &Published,
    iface: &impl Fn(&str) -> Option<Interface>,
) {
    let mut put_addr = |n: u32, k: u32, a: &VirtualAddress, dev: &str, set: bool, adv: bool| {
        let mut put = |column: u32, v: Value| {
            t.insert(oid(&KEEPALIVED, &[2, 6, 1, column, n, k]), v);
        };
        let v4 = a.addr.is_ipv4();
        put(2, Value::Integer(if v4 { 1 } else { 2 }));
        let bytes = match a.addr {
            IpAddr::V4(x) => x.octets().to_vec(),
            IpAddr::V6(x) => x.octets().to_vec(),
        };
        put(3, Value::OctetString(bytes));
        if v4 {
            let brd = a.broadcast.unwrap_or(Ipv4Addr::UNSPECIFIED);
            put(4, Value::OctetString(brd.octets().to_vec()));
        }
        put(5, Value::Gauge32(u32::from(a.prefix_len)));
        put(6, Value::Integer(scope_number(a.scope)));
        let ix = iface(dev).map_or(0, |i| i.index);
        put(7, Value::Integer(ix as i32));
        put(8, text(dev));
        if let Some(l) = &a.label {
            put(9, text(l));
        }
        put(10, Value::Integer(truth(set)));
        put(11, Value::Integer(truth(adv)));
    };
    for (k, (dev, a)) in (1u32..).zip(&published.statics) {
        put_addr(0, k, a, dev, true, false);
    }
    for (n, i) in (1u32..).zip(&state.instances) {
        let spec = &i.view.spec;
        let set = state_of(i) == State::Master;
        let vips = spec.addresses.iter().map(|a| (a, true));
        let all = vips.chain(spec.excluded.iter().map(|a| (a, false)));
        for (k, (a, advertised)) in (1u32..).zip(all) {
            let dev = a.dev.as_deref().unwrap_or(&spec.interface);
            // keepalived 2.2.7 reads "advertised" as set only for the
            // first instance's VIPs (its walk never sets the flag again).
            put_addr(n, k, a, dev, set, advertised && n == 1);
        }
    }
}

/// vrrpScriptTable.
fn scripts(t: &mut BTreeMap<Oid, Value>, published: &Published) {
    let put = |t: &mut BTreeMap<Oid, Value>, tail: &[u32], v: Value| {
        t.insert(oid(&KEEPALIVED, tail), v);
    };
    for (n, s) in (1u32..).zip(&published.scripts) {
        put(t, &[2, 9, 1, 2, n], text(&s.name));
        put(t, &[2, 9, 1, 3, n], text(&s.command));
        put(t, &[2, 9, 1, 4, n], Value::Integer(s.interval as i32));
        put(t, &[2, 9, 1, 5, n], Value::Integer(s.weight));
        let result = match published.script_up.get(&s.name) {
            None => 1,
            Some(true) => 3,
            Some(false) => 2,
        };
        put(t, &[2, 9, 1, 6, n], Value::Integer(result));
        put(t, &[2, 9, 1, 7, n], Value::Gauge32(s.rise));
        put(t, &[2, 9, 1, 8, n], Value::Gauge32(s.fall));
        put(t, &[2, 9, 1, 9, n], Value::Integer(2));
    }
}

fn text(s: &str) -> Value {
    Value::OctetString(s.as_bytes().to_vec())
}

/// A sync group's state from its members': FAULT if one is, MASTER if
/// all are, BACKUP if one is, else INIT.
pub fn group_state(members: &[State]) -> State {
    if members.contains(&State::Fault) {
        State::Fault
    } else if !members.is_empty() && members.iter().all(|s| *s == State::Master) {
        State::Master
    } else if members.contains(&State::Backup) {
        State::Backup
    } else {
        State::Initialize
    }
}

fn keepalived(t: &mut BTreeMap<Oid, Value>, state: &VrrpState, published: &Published) {
    let put = |t: &mut BTreeMap<Oid, Value>, tail: &[u32], v: Value| {
        t.insert(oid(&KEEPALIVED, tail), v);
    };
    let groups = &published.groups;
    let by_name = |n: &str| (state.instances.iter()).position(|i| &*i.view.spec.config.name == n);
    let mut group_of: BTreeMap<usize, &str> = BTreeMap::new();
    for (g, group) in (1u32..).zip(groups) {
        let members: Vec<usize> = group.members.iter().filter_map(|m| by_name(m)).collect();
        let states: Vec<State> = members
            .iter()
            .filter_map(|&m| state.instances.get(m).map(state_of))
            .collect();
        let row = |column: u32| [2, 1, 1, column, g];
        put(t, &row(2), text(&group.name));
        put(
            t,
            &row(3),
            Value::Integer(state_number(group_state(&states))),
        );
        // smtp_alert of groups is not reported here.
        put(t, &row(4), Value::Integer(2));
        let n = &group.notify;
        put(t, &row(5), Value::Integer(truth(n.any_set())));
        for (column, script) in [(6, &n.master), (7, &n.backup), (8, &n.fault), (9, &n.any)] {
            if let Some(w) = script {
                put(t, &row(column), text(&shown(w)));
            }
        }
        put(t, &row(10), Value::Integer(2));
        if let Some(w) = &n.stop {
            put(t, &row(11), text(&shown(w)));
        }
        for (m, &member) in (1u32..).zip(&members) {
            if let Some(i) = state.instances.get(member) {
                put(t, &[2, 2, 1, 2, g, m], text(&i.view.spec.config.name));
                group_of.insert(member, &group.name);
            }
        }
    }
    for (n, (k, i)) in (1u32..).zip(state.instances.iter().enumerate()) {
        let (spec, c) = (&i.view.spec, &i.view.spec.config);
        let row = |column: u32| [2, 3, 1, column, n];
        let st = state_of(i);
        let prio = i.run.as_ref().map_or(c.priority, |r| r.priority);
        put(t, &row(2), text(&c.name));
        put(t, &row(3), Value::Gauge32(u32::from(c.vrid)));
        put(t, &row(4), Value::Integer(state_number(st)));
        let initial = if c.initial_master {
            State::Master
        } else {
            State::Backup
        };
        put(t, &row(5), Value::Integer(state_number(initial)));
        put(t, &row(6), Value::Integer(state_number(st)));
        put(t, &row(7), Value::Integer(i32::from(c.priority)));
        put(t, &row(8), Value::Integer(i32::from(prio)));
        let vipset = st == State::Master && !spec.addresses.is_empty();
        put(t, &row(9), Value::Integer(truth(vipset)));
        put(t, &row(10), text(&spec.interface));
        let tracked = !i.view.extras.track_interfaces.is_empty();
        put(t, &row(11), Value::Integer(truth(tracked)));
        let advert = match c.version {
            Version::V3 => u32::from(c.advert_interval_centis),
            _ => u32::from(c.advert_interval_secs),
        };
        put(t, &row(12), Value::Gauge32(advert));
        put(t, &row(13), Value::Integer(truth(c.preempt)));
        put(
            t,
            &row(14),
            Value::Gauge32(c.preempt_delay.as_secs() as u32),
        );
        let auth = match c.authentication {
            AuthConfig::None => 0,
            AuthConfig::Pass { .. } => 1,
            _ => 2,
        };
        put(t, &row(15), Value::Integer(auth));
        put(t, &row(16), Value::Integer(2));
        if let Some(g) = group_of.get(&k) {
            put(t, &row(18), text(g));
        }
        put(
            t,
            &row(19),
            Value::Gauge32(c.garp.master_delay.as_secs() as u32),
        );
        put(t, &row(20), Value::Integer(2));
        let n = &i.view.extras.notify;
        put(t, &row(21), Value::Integer(truth(n.any_set())));
        for (column, script) in [
            (22, &n.master),
            (23, &n.backup),
            (24, &n.fault),
            (25, &n.stop),
            (26, &n.any),
        ] {
            if let Some(w) = script {
                put(t, &row(column), text(&shown(w)));
            }
        }
        // vrrpInstanceAccept: keepalived reads 0 for VRRPv2.
        let accept = match c.version {
            Version::V3 => truth(c.accept_mode),
            _ => 0,
        };
        put(t, &row(27), Value::Integer(accept));
        put(t, &row(28), Value::Integer(2));
        put(t, &row(29), Value::Integer(2));
        let v = if c.version == Version::V3 { 3 } else { 2 };
        put(t, &row(30), Value::Integer(v));
        put(t, &row(33), Value::Integer(2));
        if c.unicast_peers.is_empty() {
            match &c.ipv6 {
                None => put(t, &row(34), Value::Integer(1)),
                Some(_) => put(t, &row(34), Value::Integer(2)),
            }
            let group = match c.multicast_group() {
                std::net::IpAddr::V4(g) => g.octets().to_vec(),
                std::net::IpAddr::V6(g) => g.octets().to_vec(),
            };
            put(t, &row(35), Value::OctetString(group));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use std::sync::Arc;

    use vrrp::auth::AuthConfig;
    use vrrp::config::Config;
    use vrrp::linux::driver::{RouterSnapshot, RouterSpec, Snapshot};
    use vrrp::mux::RouterId;

    use super::*;
    use crate::observe::InstanceView;
    use agentx::pdu::VarBind;
    use vrrp::snmp::{VRRPV3_MIB, VRRP_MIB};

    fn instance(
        name: &str,
        vrid: u8,
        priority: u8,
        state: State,
        vips: &[[u8; 4]],
    ) -> InstanceState {
        let mut config = Config::new(name, vrid, priority, Ipv4Addr::new(10, 0, 0, 1));
        config.authentication = AuthConfig::None;
        let spec = RouterSpec {
            config,
            interface: "eth0".into(),
            addresses: vips
                .iter()
                .map(|a| VirtualAddress::host(Ipv4Addr::from(*a)))
                .collect(),
            excluded: Vec::new(),
            routes: Vec::new(),
            rules: Vec::new(),
            use_vmac: false,
            vmac: Default::default(),
        };
        let id = RouterId(u32::from(vrid));
        InstanceState {
            view: InstanceView {
                id,
                spec,
                extras: Arc::default(),
            },
            run: Some(RouterSnapshot {
                id,
                name: name.into(),
                state,
                priority,
                counters: Default::default(),
                last_master: None,
            }),
            last_transition: None,
        }
    }

    fn state(instances: Vec<InstanceState>) -> VrrpState {
        VrrpState {
            instances,
            snapshot: Snapshot {
                routers: Vec::new(),
                mux: Default::default(),
                driver: Default::default(),
                raw_sockets: 0,
                garp_sockets: 0,
            },
        }
    }

    fn eth0(name: &str) -> Option<Interface> {
        (name == "eth0").then_some(Interface {
            index: 7,
            mac: Some([2, 0, 0, 0, 0, 1]),
            ipv4: Some(Ipv4Addr::new(10, 0, 0, 1)),
        })
    }

    fn served() -> Served {
        Served {
            keepalived: true,
            rfcv2: true,
            rfcv3: true,
            traps: true,
            router_id: "r1".into(),
            globals: Globals::default(),
            checker: false,
            checker_conf: Default::default(),
        }
    }

    #[test]
    fn rfc2787_rows_are_indexed_by_ifindex_and_vrid() {
        let s = state(vec![
            instance("B", 9, 100, State::Backup, &[[10, 0, 0, 9]]),
            instance("A", 3, 200, State::Master, &[[10, 0, 0, 4], [10, 0, 0, 3]]),
            // No VIP: not in the RFC tables.
            instance("C", 5, 100, State::Backup, &[]),
        ]);
        let t = tree(&served(), &s, &Published::default(), &eth0);
        let at = |tail: &[u32]| t.get(&oid(&VRRP_MIB, tail)).cloned();
        assert_eq!(at(&[1, 3, 1, 3, 7, 3]), Some(Value::Integer(3)));
        assert_eq!(at(&[1, 3, 1, 3, 7, 9]), Some(Value::Integer(2)));
        assert_eq!(at(&[1, 3, 1, 5, 7, 3]), Some(Value::Integer(200)));
        assert_eq!(at(&[1, 3, 1, 3, 7, 5]), None);
        let rows: Vec<Vec<u32>> = (t.keys())
            .filter(|k| k.starts_with(&oid(&VRRP_MIB, &[1, 4, 1, 2])))
            .map(|k| k[11..].to_vec())
            .collect();
        assert_eq!(
            rows,
            [
                [7, 3, 10, 0, 0, 3],
                [7, 3, 10, 0, 0, 4],
                [7, 9, 10, 0, 0, 9]
            ]
        );
        // KEEPALIVED-MIB: configuration order, and every instance.
        let k = |tail: &[u32]| t.get(&oid(&KEEPALIVED, tail)).cloned();
        assert_eq!(k(&[2, 3, 1, 2, 1]), Some(text("B")));
        assert_eq!(k(&[2, 3, 1, 3, 3]), Some(Value::Gauge32(5)));
        assert_eq!(k(&[1, 2, 0]), Some(text("r1")));
        // VRRPv3-MIB: a master reports itself as master.
        let v3 = |tail: &[u32]| t.get(&oid(&VRRPV3_MIB, tail)).cloned();
        assert_eq!(
            v3(&[1, 1, 1, 1, 3, 7, 3, 1]),
            Some(Value::OctetString(vec![10, 0, 0, 1]))
        );
        assert_eq!(
            v3(&[1, 1, 1, 1, 3, 7, 9, 1]),
            Some(Value::OctetString(vec![0; 4]))
        );
    }

    #[test]
    fn a_new_master_sends_keepalived_s_three_traps() {
        use crate::snmp::agent::trap_varbinds;
        use crate::snmp::Transition;
        let s = state(vec![instance("A", 3, 200, State::Master, &[[10, 0, 0, 4]])]);
        let mut published = Published::default();
        published
            .notes
            .entry("A".into())
            .or_default()
            .new_master_reason = 3;
        let t = Transition::Instance {
            name: "A".into(),
            state: State::Master,
        };
        let traps = trap_varbinds(&served(), &s, &published, &t, &eth0);
        let names: Vec<Vec<Oid>> = (traps.iter())
            .map(|t| t.iter().map(|v| v.name.clone()).collect())
            .collect();
        let trap_oid = vec![1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];
        assert_eq!(
            names,
            [
                vec![
                    trap_oid.clone(),
                    oid(&KEEPALIVED, &[2, 3, 1, 2]),
                    oid(&KEEPALIVED, &[2, 3, 1, 4]),
                    oid(&KEEPALIVED, &[2, 3, 1, 5]),
                    oid(&KEEPALIVED, &[1, 2, 0]),
                ],
                vec![trap_oid.clone(), oid(&VRRP_MIB, &[1, 3, 1, 7, 7, 3])],
                vec![
                    trap_oid,
                    oid(&VRRPV3_MIB, &[1, 1, 1, 1, 3, 7, 3, 1]),
                    oid(&VRRPV3_MIB, &[1, 2, 5, 1, 2, 7, 3, 1]),
                ],
            ]
        );
        assert_eq!(traps[0][0].value, Value::Oid(trap_instance_state()));
        assert_eq!(traps[0][2].value, Value::Integer(2));
        assert_eq!(traps[1][1].value, Value::IpAddress([10, 0, 0, 1]));
        assert_eq!(traps[2][2].value, Value::Integer(3));
        let backup = Transition::Instance {
            name: "A".into(),
            state: State::Backup,
        };
        assert_eq!(
            trap_varbinds(&served(), &s, &published, &backup, &eth0).len(),
            1
        );
    }

    #[test]
    fn master_heard_and_uptimes_and_protocol_error_are_served() {
        let heard = |mut i: InstanceState, a: [u8; 4]| {
            if let Some(r) = i.run.as_mut() {
                r.last_master = Some(Ipv4Addr::from(a).into());
            }
            i
        };
        let s = state(vec![
            heard(
                instance("B", 9, 100, State::Backup, &[[10, 0, 0, 9]]),
                [10, 0, 0, 2],
            ),
            heard(
                instance("M", 3, 200, State::Master, &[[10, 0, 0, 4]]),
                [10, 0, 0, 6],
            ),
            instance("F", 4, 100, State::Fault, &[[10, 0, 0, 5]]),
        ]);
        let mut published = Published {
            uptime: Uptime {
                rfc2787: 3,
                rfc6527: 4200,
            },
            ..Published::default()
        };
        published.notes.entry("B".into()).or_default().proto_error = 1;
        let t = tree(&served(), &s, &published, &eth0);
        let v2 = |tail: &[u32]| t.get(&oid(&VRRP_MIB, tail)).cloned();
        let v3 = |tail: &[u32]| t.get(&oid(&VRRPV3_MIB, tail)).cloned();
        // vrrpOperMasterIpAddr: master_saddr in every state.
        assert_eq!(
            v2(&[1, 3, 1, 7, 7, 9]),
            Some(Value::IpAddress([10, 0, 0, 2]))
        );
        assert_eq!(
            v2(&[1, 3, 1, 7, 7, 3]),
            Some(Value::IpAddress([10, 0, 0, 6]))
        );
        assert_eq!(v2(&[1, 3, 1, 7, 7, 4]), Some(Value::IpAddress([0; 4])));
        // vrrpv3OperationsMasterIpAddr: a master reports itself.
        let octets = |b: &[u8]| Some(Value::OctetString(b.to_vec()));
        assert_eq!(v3(&[1, 1, 1, 1, 3, 7, 9, 1]), octets(&[10, 0, 0, 2]));
        assert_eq!(v3(&[1, 1, 1, 1, 3, 7, 3, 1]), octets(&[10, 0, 0, 1]));
        assert_eq!(v3(&[1, 1, 1, 1, 3, 7, 4, 1]), octets(&[0; 4]));
        // Uptimes: 0 outside BACKUP and MASTER.
        assert_eq!(v2(&[1, 3, 1, 13, 7, 9]), Some(Value::TimeTicks(3)));
        assert_eq!(v2(&[1, 3, 1, 13, 7, 4]), Some(Value::TimeTicks(0)));
        assert_eq!(v3(&[1, 1, 1, 1, 12, 7, 3, 1]), Some(Value::TimeTicks(4200)));
        assert_eq!(v3(&[1, 1, 1, 1, 12, 7, 4, 1]), Some(Value::TimeTicks(0)));
        // vrrpv3StatisticsProtoErrReason.
        assert_eq!(v3(&[1, 2, 5, 1, 6, 7, 9, 1]), Some(Value::Integer(1)));
        assert_eq!(v3(&[1, 2, 5, 1, 6, 7, 3, 1]), Some(Value::Integer(0)));
    }

    #[test]
    fn rejected_adverts_send_keepalived_s_notifications() {
        use crate::snmp::agent::trap_varbinds;
        use crate::snmp::Transition;
        use vrrp::event::{AdvertError, AuthError, ProtocolError};
        let s = state(vec![instance("A", 3, 200, State::Backup, &[[10, 0, 0, 4]])]);
        let from = Ipv4Addr::new(10, 0, 0, 2).into();
        let rejected = |error| Transition::Rejected {
            name: "A".into(),
            from,
            error,
        };
        let trap_oid = vec![1, 3, 6, 1, 6, 3, 1, 1, 4, 1, 0];
        let vb = |name: Oid, value| VarBind { name, value };
        let auth = rejected(AdvertError::Auth(AuthError::AuthFailure));
        let p = Published::default();
        assert_eq!(
            trap_varbinds(&served(), &s, &p, &auth, &eth0),
            [vec![
                vb(trap_oid.clone(), Value::Oid(oid(&VRRP_MIB, &[0, 2]))),
                vb(
                    oid(&VRRP_MIB, &[1, 5, 7, 3]),
                    Value::IpAddress([10, 0, 0, 2])
                ),
                vb(oid(&VRRP_MIB, &[1, 6, 7, 3]), Value::Integer(3)),
            ]]
        );
        let ttl = rejected(AdvertError::Protocol(ProtocolError::IpTtl));
        assert_eq!(
            trap_varbinds(&served(), &s, &p, &ttl, &eth0),
            [vec![
                vb(trap_oid, Value::Oid(oid(&VRRPV3_MIB, &[0, 2]))),
                vb(
                    oid(&VRRPV3_MIB, &[1, 2, 5, 1, 6, 7, 3, 1]),
                    Value::Integer(1)
                ),
            ]]
        );
        // Each MIB's notification only where that MIB is served.
        let v3_only = Served {
            rfcv2: false,
            ..served()
        };
        assert!(trap_varbinds(&v3_only, &s, &p, &auth, &eth0).is_empty());
    }

    #[test]
    fn group_state_follows_keepalived() {
        use State::*;
        assert_eq!(group_state(&[Master, Master]), Master);
        assert_eq!(group_state(&[Master, Backup]), Backup);
        assert_eq!(group_state(&[Master, Fault]), Fault);
        assert_eq!(group_state(&[]), Initialize);
    }
}
