//! RFC 2787's VRRP-MIB: vrrpNodeVersion, vrrpNotificationCntl,
//! vrrpOperTable, vrrpAssoIpAddrTable, the three router counters and
//! vrrpRouterStatsTable, indexed by (ifIndex, VRID), for keepalived's
//! "suitable" routers ([`suitable`]); vrrpTrapNewMaster and
//! vrrpTrapAuthFailure.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};

use agentx::pdu::{Oid, Value, VarBind};

use super::counters::{stats_of, HeaderErrors};
use super::{oid, oper_state, trap_oid, truth, Host, Interface, Router, VRRP_MIB};
use crate::auth::AuthConfig;
use crate::config::Version;
use crate::counters::KeepalivedStats as Stats;
use crate::event::AuthError;
use crate::linux::driver::RouterSpec;

/// `vrrpTrapNewMaster`.
pub const NEW_MASTER: [u32; 9] = [1, 3, 6, 1, 2, 1, 68, 0, 1];
/// `vrrpTrapAuthFailure`.
pub const AUTH_FAILURE: [u32; 9] = [1, 3, 6, 1, 2, 1, 68, 0, 2];

/// keepalived's "suitable for RFC 2787": VRRPv2 over IPv4 with an IPv4
/// virtual address.
pub fn suitable(spec: &RouterSpec) -> bool {
    spec.config.version == Version::V2
        && spec.config.ipv6.is_none()
        && spec.addresses.iter().any(|a| a.addr.is_ipv4())
}

fn put(t: &mut BTreeMap<Oid, Value>, tail: &[u32], v: Value) {
    t.insert(oid(&VRRP_MIB, tail), v);
}

/// The suitable routers with their interfaces, sorted as the tables
/// index them.
fn rows<'r, 'a>(routers: &'r [Router<'a>], host: &impl Host) -> Vec<(&'r Router<'a>, Interface)> {
    let mut rows: Vec<_> = (routers.iter())
        .filter(|r| suitable(r.spec))
        .map(|r| (r, r.interface(host)))
        .collect();
    rows.sort_by_key(|(r, i)| (i.index, r.spec.config.vrid));
    rows
}

/// Inserts the MIB's objects; `notifications` is vrrpNotificationCntl.
pub(super) fn objects(
    t: &mut BTreeMap<Oid, Value>,
    notifications: bool,
    routers: &[Router<'_>],
    host: &impl Host,
) {
    // vrrpNodeVersion: 2.
    put(t, &[1, 1, 0], Value::Integer(2));
    put(t, &[1, 2, 0], Value::Integer(truth(notifications)));
    let mut errors = HeaderErrors::default();
    for (r, info) in rows(routers, host) {
        let idx = [info.index, u32::from(r.spec.config.vrid)];
        oper_row(t, r, &info, idx, host);
        for a in v4_vips(r.spec) {
            let mut tail = vec![1, 4, 1, 2];
            tail.extend(idx);
            tail.extend(a.octets().map(u32::from));
            // vrrpAssoIpAddrRowStatus: active(1).
            put(t, &tail, Value::Integer(1));
        }
        let counters = r.run.map(|s| &s.counters);
        stats_row(t, stats_of(counters), idx);
        errors.add(counters);
    }
    put(t, &[2, 1, 0], Value::Counter32(errors.checksum as u32));
    put(t, &[2, 2, 0], Value::Counter32(errors.version as u32));
    put(t, &[2, 3, 0], Value::Counter32(errors.vrid as u32));
}

/// The router's vrrpOperTable row.
fn oper_row(
    t: &mut BTreeMap<Oid, Value>,
    r: &Router<'_>,
    info: &Interface,
    idx: [u32; 2],
    host: &impl Host,
) {
    let c = &r.spec.config;
    let mut col = |column: u32, v: Value| {
        let mut tail = vec![1, 3, 1, column];
        tail.extend(idx);
        put(t, &tail, v);
    };
    let st = r.state();
    // keepalived answers the interface's own hardware address here.
    if let Some(mac) = info.mac {
        col(2, Value::OctetString(mac.to_vec()));
    }
    col(3, Value::Integer(oper_state(st)));
    // vrrpOperAdminState: up(1).
    col(4, Value::Integer(1));
    col(5, Value::Integer(i32::from(c.priority)));
    col(6, Value::Integer(v4_vips(r.spec).len() as i32));
    // The last master heard, in every state: 0.0.0.0 while none was.
    let heard: [u8; 4] = r.last_master().try_into().unwrap_or([0; 4]);
    col(7, Value::IpAddress(heard));
    let primary = info.ipv4.unwrap_or(Ipv4Addr::UNSPECIFIED);
    col(8, Value::IpAddress(primary.octets()));
    let auth = match c.authentication {
        AuthConfig::None => 1,
        AuthConfig::Pass { .. } => 2,
        _ => 3,
    };
    col(9, Value::Integer(auth));
    // vrrpOperAuthKey (10) is never readable.
    col(11, Value::Integer(i32::from(c.advert_interval_secs)));
    col(12, Value::Integer(truth(c.preempt)));
    col(13, Value::TimeTicks(host.uptime().of(st).rfc2787));
    // vrrpOperProtocol: ip(1); vrrpOperRowStatus: active(1).
    col(14, Value::Integer(1));
    col(15, Value::Integer(1));
}

/// The router's vrrpRouterStatsTable row.
fn stats_row(t: &mut BTreeMap<Oid, Value>, s: Stats, idx: [u32; 2]) {
    for (column, v) in [
        (1, s.become_master),
        (2, s.advert_rcvd),
        (3, s.advert_interval_err),
        (4, s.auth_failure),
        (5, s.ip_ttl_err),
        (6, s.pri_zero_rcvd),
        (7, s.pri_zero_sent),
        (8, s.invalid_type_rcvd),
        (9, s.addr_list_err),
        (10, s.invalid_authtype),
        (11, s.authtype_mismatch),
        (12, s.packet_len_err),
    ] {
        let mut tail = vec![2, 4, 1, column];
        tail.extend(idx);
        put(t, &tail, Value::Counter32(v as u32));
    }
}

/// The router's IPv4 virtual addresses, in index order.
fn v4_vips(spec: &RouterSpec) -> Vec<Ipv4Addr> {
    let mut v: Vec<Ipv4Addr> = (spec.addresses.iter())
        .filter_map(|a| match a.addr {
            IpAddr::V4(a) => Some(a),
            IpAddr::V6(_) => None,
        })
        .collect();
    v.sort();
    v
}

/// vrrpTrapNewMaster: vrrpOperMasterIpAddr as the advert source
/// (`unicast_src_ip`, else the interface's address).
pub(super) fn new_master(r: &Router<'_>, host: &impl Host) -> Vec<VarBind> {
    let c = &r.spec.config;
    let info = r.interface(host);
    let src = (c.unicast_src_ip)
        .or(info.ipv4)
        .unwrap_or(Ipv4Addr::UNSPECIFIED);
    vec![
        trap_oid(&NEW_MASTER),
        VarBind {
            name: oid(&VRRP_MIB, &[1, 3, 1, 7, info.index, u32::from(c.vrid)]),
            value: Value::IpAddress(src.octets()),
        },
    ]
}

/// vrrpTrapAuthFailure. keepalived appends the router's index to the
/// scalars vrrpTrapPacketSrc and vrrpTrapAuthErrorType.
pub(super) fn auth_failure(
    r: &Router<'_>,
    from: Ipv4Addr,
    error: AuthError,
    host: &impl Host,
) -> Vec<VarBind> {
    let idx = [r.interface(host).index, u32::from(r.spec.config.vrid)];
    vec![
        trap_oid(&AUTH_FAILURE),
        VarBind {
            name: oid(&VRRP_MIB, &[1, 5, idx[0], idx[1]]),
            value: Value::IpAddress(from.octets()),
        },
        VarBind {
            name: oid(&VRRP_MIB, &[1, 6, idx[0], idx[1]]),
            value: Value::Integer(error.code()),
        },
    ]
}
