#![allow(clippy::unwrap_used, reason = "tests")]

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use agentx::pdu::{Oid, Value, VarBind};

use super::*;
use crate::auth::AuthConfig;
use crate::config::{Config, Ipv6Config, Version};
use crate::counters::{Counters, DropReason};
use crate::event::{AuthError, ProtocolError};
use crate::linux::driver::VirtualAddress;
use crate::mux::RouterId;
use crate::wire::DropReason as Wire;

fn spec(name: &str, vrid: u8, vips: &[IpAddr]) -> RouterSpec {
    RouterSpec {
        config: Config::new(name, vrid, 100, Ipv4Addr::new(10, 0, 0, 1)),
        interface: "eth0".into(),
        addresses: vips.iter().map(|&a| VirtualAddress::host(a)).collect(),
        excluded: Vec::new(),
        routes: Vec::new(),
        rules: Vec::new(),
        use_vmac: false,
        vmac: Default::default(),
    }
}

fn run(spec: &RouterSpec, state: State, heard: Option<IpAddr>) -> RouterSnapshot {
    RouterSnapshot {
        id: RouterId(u32::from(spec.config.vrid)),
        name: spec.config.name.clone(),
        state,
        priority: spec.config.priority,
        counters: Counters::default(),
        last_master: heard,
    }
}

fn v4(a: [u8; 4]) -> IpAddr {
    Ipv4Addr::from(a).into()
}

fn eth0(name: &str) -> Option<Interface> {
    (name == "eth0").then_some(Interface {
        index: 7,
        mac: Some([2, 0, 0, 0, 0, 1]),
        ipv4: Some(Ipv4Addr::new(10, 0, 0, 1)),
    })
}

fn host() -> Facts<fn(&str) -> Option<Interface>> {
    Facts {
        interfaces: eth0,
        uptime: Uptime {
            rfc2787: 3,
            rfc6527: 4200,
        },
    }
}

/// The objects under `base.tail`, as (rest of the OID, value).
fn under(t: &BTreeMap<Oid, Value>, base: &[u32], tail: &[u32]) -> Vec<(Vec<u32>, Value)> {
    let prefix = oid(base, tail);
    (t.iter())
        .filter(|(k, _)| k.starts_with(&prefix))
        .map(|(k, v)| (k[prefix.len()..].to_vec(), v.clone()))
        .collect()
}

fn ints(cells: &[(u32, Value)], idx: &[u32]) -> Vec<(Vec<u32>, Value)> {
    (cells.iter())
        .map(|(column, v)| {
            let mut k = vec![*column];
            k.extend(idx);
            (k, v.clone())
        })
        .collect()
}

#[test]
fn rfc2787_oper_row_of_a_master_with_pass_authentication() {
    let mut a = spec("A", 3, &[v4([10, 0, 0, 4]), v4([10, 0, 0, 3])]);
    a.config.priority = 200;
    a.config.authentication = AuthConfig::pass(b"secret");
    a.config.preempt = false;
    let ra = run(&a, State::Master, Some(v4([10, 0, 0, 6])));
    let routers = [Router {
        spec: &a,
        run: Some(&ra),
        notes: Notes::default(),
    }];
    let t = objects(&Mibs::default(), &routers, &host());
    use Value::*;
    let expected = ints(
        &[
            (2, OctetString(vec![2, 0, 0, 0, 0, 1])),
            (3, Integer(3)),
            (4, Integer(1)),
            (5, Integer(200)),
            (6, Integer(2)),
            (7, IpAddress([10, 0, 0, 6])),
            (8, IpAddress([10, 0, 0, 1])),
            (9, Integer(2)),
            (11, Integer(1)),
            (12, Integer(2)),
            (13, TimeTicks(3)),
            (14, Integer(1)),
            (15, Integer(1)),
        ],
        &[7, 3],
    );
    assert_eq!(under(&t, &VRRP_MIB, &[1, 3, 1]), expected);
    // vrrpAssoIpAddrTable: sorted addresses.
    let assoc: Vec<Vec<u32>> = (under(&t, &VRRP_MIB, &[1, 4, 1, 2]).into_iter())
        .map(|(k, _)| k)
        .collect();
    assert_eq!(assoc, [[7, 3, 10, 0, 0, 3], [7, 3, 10, 0, 0, 4]]);
    let scalars = |tail: &[u32]| t.get(&oid(&VRRP_MIB, tail)).cloned();
    assert_eq!(scalars(&[1, 1, 0]), Some(Integer(2)));
    assert_eq!(scalars(&[1, 2, 0]), Some(Integer(1)));
}

#[test]
fn rfc2787_rows_are_suitable_routers_by_ifindex_and_vrid() {
    let b = spec("B", 9, &[v4([10, 0, 0, 9])]);
    let a = spec("A", 3, &[v4([10, 0, 0, 4])]);
    // No VIP, VRRPv3, IPv6: not in RFC 2787's tables.
    let none = spec("C", 5, &[]);
    let mut v3 = spec("D", 6, &[v4([10, 0, 0, 6])]);
    v3.config.version = Version::V3;
    let mut six = spec("E", 8, &[]);
    six.addresses = vec![VirtualAddress::host(Ipv6Addr::LOCALHOST)];
    six.config.ipv6 = Some(Ipv6Config::new(Ipv6Addr::LOCALHOST));
    let specs = [b, a, none, v3, six];
    let routers: Vec<Router<'_>> = (specs.iter())
        .map(|spec| Router {
            spec,
            run: None,
            notes: Notes::default(),
        })
        .collect();
    let t = objects(&Mibs::default(), &routers, &host());
    let states: Vec<(Vec<u32>, Value)> = under(&t, &VRRP_MIB, &[1, 3, 1, 3]);
    // Not running: initialize(1).
    assert_eq!(
        states,
        [
            (vec![7, 3], Value::Integer(1)),
            (vec![7, 9], Value::Integer(1))
        ]
    );
    // RFC 6527: every router with an address, IPv6 as family 2.
    let v3_states: Vec<Vec<u32>> = (under(&t, &VRRPV3_MIB, &[1, 1, 1, 1, 6]).into_iter())
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        v3_states,
        [[7, 3, 1], [7, 6, 1], [7, 8, 2], [7, 9, 1]].map(|i| i.to_vec())
    );
    assert_eq!(
        t.get(&oid(&VRRPV3_MIB, &[1, 1, 1, 1, 3, 7, 8, 2])),
        Some(&Value::OctetString(vec![0; 16]))
    );
}

#[test]
fn counters_are_grouped_as_keepalived_counts_them() {
    let a = spec("A", 3, &[v4([10, 0, 0, 4])]);
    let mut ra = run(&a, State::Backup, None);
    let c = &mut ra.counters;
    c.adverts_received = 40;
    c.became_master = 2;
    for r in [
        Wire::Truncated,
        Wire::BadLength,
        Wire::BadChecksum,
        Wire::BadTtl,
    ] {
        c.dropped.bump(DropReason::Invalid(r));
    }
    c.dropped.bump(DropReason::UnicastTtl);
    let routers = [Router {
        spec: &a,
        run: Some(&ra),
        notes: Notes {
            new_master_reason: 3,
            proto_error: 1,
        },
    }];
    let t = objects(&Mibs::default(), &routers, &host());
    let v2 = |tail: &[u32]| t.get(&oid(&VRRP_MIB, tail)).cloned();
    assert_eq!(v2(&[2, 4, 1, 1, 7, 3]), Some(Value::Counter32(2)));
    assert_eq!(v2(&[2, 4, 1, 2, 7, 3]), Some(Value::Counter32(40)));
    assert_eq!(v2(&[2, 4, 1, 5, 7, 3]), Some(Value::Counter32(2)));
    assert_eq!(v2(&[2, 4, 1, 12, 7, 3]), Some(Value::Counter32(2)));
    assert_eq!(v2(&[2, 1, 0]), Some(Value::Counter32(1)));
    assert_eq!(v2(&[2, 2, 0]), Some(Value::Counter32(0)));
    let v3 = |tail: &[u32]| t.get(&oid(&VRRPV3_MIB, tail)).cloned();
    assert_eq!(v3(&[1, 2, 1, 0]), Some(Value::Counter64(1)));
    assert_eq!(v3(&[1, 2, 5, 1, 1, 7, 3, 1]), Some(Value::Counter32(2)));
    assert_eq!(v3(&[1, 2, 5, 1, 2, 7, 3, 1]), Some(Value::Integer(3)));
    assert_eq!(v3(&[1, 2, 5, 1, 5, 7, 3, 1]), Some(Value::Counter64(2)));
    assert_eq!(v3(&[1, 2, 5, 1, 6, 7, 3, 1]), Some(Value::Integer(1)));
    assert_eq!(v3(&[1, 2, 5, 1, 11, 7, 3, 1]), Some(Value::Counter64(2)));
    // A backup's uptime; the refresh rate in milliseconds.
    assert_eq!(v3(&[1, 1, 1, 1, 12, 7, 3, 1]), Some(Value::TimeTicks(4200)));
    assert_eq!(v3(&[1, 2, 5, 1, 13, 7, 3, 1]), Some(Value::Gauge32(1000)));
}

#[test]
fn only_the_mibs_served_are_built() {
    let a = spec("A", 3, &[v4([10, 0, 0, 4])]);
    let routers = [Router {
        spec: &a,
        run: None,
        notes: Notes::default(),
    }];
    let v3_only = Mibs {
        rfc2787: false,
        ..Mibs::default()
    };
    let t = objects(&v3_only, &routers, &host());
    assert!(t.keys().all(|k| k.starts_with(&VRRPV3_MIB)));
    assert!(!t.is_empty());
    let quiet = Mibs {
        rfc6527: false,
        notifications: false,
        ..Mibs::default()
    };
    let t = objects(&quiet, &routers, &host());
    assert!(t.keys().all(|k| k.starts_with(&VRRP_MIB)));
    assert_eq!(t.get(&oid(&VRRP_MIB, &[1, 2, 0])), Some(&Value::Integer(2)));
}

fn vb(name: Vec<u32>, value: Value) -> VarBind {
    VarBind { name, value }
}

#[test]
fn a_new_master_notifies_both_mibs() {
    let mut a = spec("A", 3, &[v4([10, 0, 0, 4])]);
    a.config.unicast_src_ip = Some(Ipv4Addr::new(10, 0, 0, 5));
    let ra = run(&a, State::Master, None);
    let mut notes = Notes::default();
    notes.entered(State::Master, Reason::MasterDown);
    let r = Router {
        spec: &a,
        run: Some(&ra),
        notes,
    };
    let trap = SNMP_TRAP_OID.to_vec();
    assert_eq!(
        new_master(&Mibs::default(), &r, &host()),
        [
            vec![
                vb(trap.clone(), Value::Oid(rfc2787::NEW_MASTER.to_vec())),
                vb(
                    oid(&VRRP_MIB, &[1, 3, 1, 7, 7, 3]),
                    Value::IpAddress([10, 0, 0, 5])
                ),
            ],
            vec![
                vb(trap, Value::Oid(rfc6527::NEW_MASTER.to_vec())),
                vb(
                    oid(&VRRPV3_MIB, &[1, 1, 1, 1, 3, 7, 3, 1]),
                    Value::OctetString(vec![10, 0, 0, 1])
                ),
                vb(
                    oid(&VRRPV3_MIB, &[1, 2, 5, 1, 2, 7, 3, 1]),
                    Value::Integer(3)
                ),
            ],
        ]
    );
    // No address: suitable for neither.
    let none = spec("C", 5, &[]);
    let r = Router {
        spec: &none,
        run: None,
        notes,
    };
    assert!(new_master(&Mibs::default(), &r, &host()).is_empty());
}

#[test]
fn rejected_adverts_notify_their_mib() {
    let a = spec("A", 3, &[v4([10, 0, 0, 4])]);
    let r = Router {
        spec: &a,
        run: None,
        notes: Notes::default(),
    };
    let from = v4([10, 0, 0, 2]);
    let trap = SNMP_TRAP_OID.to_vec();
    let auth = AdvertError::Auth(AuthError::AuthFailure);
    assert_eq!(
        rejected(&Mibs::default(), &r, from, auth, &host()),
        Some(vec![
            vb(trap.clone(), Value::Oid(rfc2787::AUTH_FAILURE.to_vec())),
            vb(
                oid(&VRRP_MIB, &[1, 5, 7, 3]),
                Value::IpAddress([10, 0, 0, 2])
            ),
            vb(oid(&VRRP_MIB, &[1, 6, 7, 3]), Value::Integer(3)),
        ])
    );
    let ttl = AdvertError::Protocol(ProtocolError::IpTtl);
    assert_eq!(
        rejected(&Mibs::default(), &r, from, ttl, &host()),
        Some(vec![
            vb(trap, Value::Oid(rfc6527::PROTO_ERROR.to_vec())),
            vb(
                oid(&VRRPV3_MIB, &[1, 2, 5, 1, 6, 7, 3, 1]),
                Value::Integer(1)
            ),
        ])
    );
    let v3_only = Mibs {
        rfc2787: false,
        ..Mibs::default()
    };
    assert_eq!(rejected(&v3_only, &r, from, auth, &host()), None);
}

#[test]
fn notes_keep_the_last_reasons() {
    let mut n = Notes::default();
    n.entered(State::Backup, Reason::Startup);
    assert_eq!(n.new_master_reason, 0);
    n.entered(State::Master, Reason::AddressOwner);
    assert_eq!(n.new_master_reason, 1);
    n.entered(State::Backup, Reason::HigherPriority);
    assert_eq!(n.new_master_reason, 1);
    n.entered(State::Master, Reason::MasterDown);
    assert_eq!(n.new_master_reason, 3);
    n.rejected(AdvertError::Auth(AuthError::AuthFailure));
    assert_eq!(n.proto_error, 0);
    n.rejected(AdvertError::Protocol(ProtocolError::Checksum));
    assert_eq!(n.proto_error, 3);
}
