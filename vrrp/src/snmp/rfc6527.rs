//! RFC 6527's VRRPv3-MIB: vrrpv3OperationsTable,
//! vrrpv3AssociatedIpAddrTable, the router counters and
//! vrrpv3StatisticsTable, indexed by (ifIndex, VRID, InetAddressType),
//! for every router with a virtual address ([`suitable`]: keepalived
//! 2.2.7 as Debian builds it answers for VRRPv2 routers here too);
//! vrrpv3NewMaster and vrrpv3ProtoError.

use std::collections::BTreeMap;
use std::net::IpAddr;

use agentx::pdu::{Oid, Value, VarBind};

use super::counters::{stats_of, HeaderErrors};
use super::{ip_bytes, oid, oper_state, trap_oid, truth, Host, Interface, Router, VRRPV3_MIB};
use crate::config::Version;
use crate::counters::KeepalivedStats as Stats;
use crate::event::ProtocolError;
use crate::linux::driver::RouterSpec;
use crate::State;

/// `vrrpv3NewMaster`.
pub const NEW_MASTER: [u32; 9] = [1, 3, 6, 1, 2, 1, 207, 0, 1];
/// `vrrpv3ProtoError`.
pub const PROTO_ERROR: [u32; 9] = [1, 3, 6, 1, 2, 1, 207, 0, 2];

/// keepalived's "suitable for RFC 6527": at least one virtual address.
pub fn suitable(spec: &RouterSpec) -> bool {
    !spec.addresses.is_empty()
}

/// The router's index: ifIndex, VRID, InetAddressType (ipv4(1),
/// ipv6(2)).
pub fn index(spec: &RouterSpec, ifindex: u32) -> [u32; 3] {
    let family = if spec.config.ipv6.is_some() { 2 } else { 1 };
    [ifindex, u32::from(spec.config.vrid), family]
}

/// vrrpv3OperationsPrimaryIpAddr: the interface's IPv4 address, or the
/// unspecified address of the router's family.
fn primary(spec: &RouterSpec, info: &Interface) -> Vec<u8> {
    match (&spec.config.ipv6, info.ipv4) {
        (None, Some(a)) => a.octets().to_vec(),
        (None, None) => vec![0; 4],
        (Some(_), _) => vec![0; 16],
    }
}

/// `table`'s column `column` at the row `idx`.
fn cell(table: &[u32], column: u32, idx: [u32; 3]) -> Vec<u32> {
    let mut tail = table.to_vec();
    tail.push(column);
    tail.extend(idx);
    tail
}

fn put(t: &mut BTreeMap<Oid, Value>, tail: &[u32], v: Value) {
    t.insert(oid(&VRRPV3_MIB, tail), v);
}

/// Inserts the MIB's objects.
pub(super) fn objects(t: &mut BTreeMap<Oid, Value>, routers: &[Router<'_>], host: &impl Host) {
    let mut errors = HeaderErrors::default();
    for r in routers.iter().filter(|r| suitable(r.spec)) {
        let info = r.interface(host);
        let idx = index(r.spec, info.index);
        operations_row(t, r, &info, idx, host);
        let mut vips: Vec<IpAddr> = r.spec.addresses.iter().map(|a| a.addr).collect();
        vips.sort();
        for a in vips {
            // keepalived indexes by the address's bytes without a length.
            let mut tail = cell(&[1, 1, 2, 1], 2, idx);
            tail.extend(ip_bytes(a).into_iter().map(u32::from));
            // vrrpv3AssociatedIpAddrRowStatus: active(1).
            put(t, &tail, Value::Integer(1));
        }
        let counters = r.run.map(|s| &s.counters);
        statistics_row(t, r, stats_of(counters), idx);
        errors.add(counters);
    }
    put(t, &[1, 2, 1, 0], Value::Counter64(errors.checksum));
    put(t, &[1, 2, 2, 0], Value::Counter64(errors.version));
    put(t, &[1, 2, 3, 0], Value::Counter64(errors.vrid));
    // vrrpv3GlobalStatisticsDiscontinuityTime.
    put(t, &[1, 2, 4, 0], Value::TimeTicks(0));
}

/// The advertisement interval in centiseconds.
fn interval_centis(r: &Router<'_>) -> u32 {
    let c = &r.spec.config;
    match c.version {
        Version::V3 => u32::from(c.advert_interval_centis),
        _ => u32::from(c.advert_interval_secs) * 100,
    }
}

/// The router's vrrpv3OperationsTable row.
fn operations_row(
    t: &mut BTreeMap<Oid, Value>,
    r: &Router<'_>,
    info: &Interface,
    idx: [u32; 3],
    host: &impl Host,
) {
    let c = &r.spec.config;
    let mut col = |column: u32, v: Value| put(t, &cell(&[1, 1, 1, 1], column, idx), v);
    let st = r.state();
    let primary = primary(r.spec, info);
    // A master reports itself, others the last master heard.
    let master = if st == State::Master {
        primary.clone()
    } else {
        r.last_master()
    };
    col(3, Value::OctetString(master));
    col(4, Value::OctetString(primary));
    if let Some(mac) = info.mac {
        col(5, Value::OctetString(mac.to_vec()));
    }
    col(6, Value::Integer(oper_state(st)));
    col(7, Value::Gauge32(u32::from(c.priority)));
    col(8, Value::Integer(r.spec.addresses.len() as i32));
    col(9, Value::Integer(interval_centis(r) as i32));
    col(10, Value::Integer(truth(c.preempt)));
    col(11, Value::Integer(truth(c.accept_mode)));
    col(12, Value::TimeTicks(host.uptime().of(st).rfc6527));
    // vrrpv3OperationsRowStatus: active(1).
    col(13, Value::Integer(1));
}

/// The router's vrrpv3StatisticsTable row.
fn statistics_row(t: &mut BTreeMap<Oid, Value>, r: &Router<'_>, s: Stats, idx: [u32; 3]) {
    let mut col = |column: u32, v: Value| put(t, &cell(&[1, 2, 5, 1], column, idx), v);
    col(1, Value::Counter32(s.become_master as u32));
    col(2, Value::Integer(r.notes.new_master_reason));
    col(3, Value::Counter64(s.advert_rcvd));
    col(4, Value::Counter64(s.advert_interval_err));
    col(5, Value::Counter64(s.ip_ttl_err));
    col(6, Value::Integer(r.notes.proto_error));
    col(7, Value::Counter64(s.pri_zero_rcvd));
    col(8, Value::Counter64(s.pri_zero_sent));
    col(9, Value::Counter64(s.invalid_type_rcvd));
    col(10, Value::Counter64(s.addr_list_err));
    col(11, Value::Counter64(s.packet_len_err));
    // vrrpv3StatisticsRowDiscontinuityTime.
    col(12, Value::TimeTicks(0));
    // vrrpv3StatisticsRefreshRate, in milliseconds.
    col(13, Value::Gauge32(interval_centis(r) * 10));
}

/// vrrpv3NewMaster: vrrpv3OperationsMasterIpAddr (the router itself) and
/// vrrpv3StatisticsNewMasterReason.
pub(super) fn new_master(r: &Router<'_>, host: &impl Host) -> Vec<VarBind> {
    let info = r.interface(host);
    let idx = index(r.spec, info.index);
    let name = |tail: &[u32]| {
        let mut o = oid(&VRRPV3_MIB, tail);
        o.extend(idx);
        o
    };
    vec![
        trap_oid(&NEW_MASTER),
        VarBind {
            name: name(&[1, 1, 1, 1, 3]),
            value: Value::OctetString(primary(r.spec, &info)),
        },
        VarBind {
            name: name(&[1, 2, 5, 1, 2]),
            value: Value::Integer(r.notes.new_master_reason),
        },
    ]
}

/// vrrpv3ProtoError: vrrpv3StatisticsProtoErrReason.
pub(super) fn proto_error(r: &Router<'_>, error: ProtocolError, host: &impl Host) -> Vec<VarBind> {
    let idx = index(r.spec, r.interface(host).index);
    vec![
        trap_oid(&PROTO_ERROR),
        VarBind {
            name: oid(&VRRPV3_MIB, &cell(&[1, 2, 5, 1], 6, idx)),
            value: Value::Integer(error.code()),
        },
    ]
}
