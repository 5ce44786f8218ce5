//! Reconciliation: the operations that turn the kernel's table into a
//! desired one, touching only what differs.

use std::collections::HashMap;
use std::net::SocketAddr;

use ipvs_sys as sys;

use crate::convert::*;
use crate::error::{Error, InvalidReason, OpKind};
use crate::message::IpvsMessage;
use crate::model::*;
use crate::nla::CmdNla;

/// A service with its destinations: one entry of a desired table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServer {
    /// The service.
    pub service: Service,
    /// Its destinations.
    pub dests: Vec<Destination>,
}

/// One change to the kernel's table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    /// Add a service.
    AddService(Service),
    /// Edit a service.
    EditService(Service),
    /// Delete a service.
    DelService(ServiceKey),
    /// Add a destination to a service.
    AddDest(ServiceKey, Destination),
    /// Edit a destination.
    EditDest(ServiceKey, Destination),
    /// Delete a destination.
    DelDest(ServiceKey, SocketAddr),
    /// Delete everything.
    Flush,
    /// Zero counters of one service or all.
    Zero(Option<ServiceKey>),
    /// Set timeouts.
    SetTimeouts(Timeouts),
    /// Start a sync daemon.
    StartDaemon(SyncDaemon),
    /// Stop a sync daemon.
    StopDaemon(DaemonState),
}

fn check_name(s: &str, max: usize, why: InvalidReason) -> Result<(), Error> {
    if s.len() >= max || s.as_bytes().contains(&0) {
        return Err(Error::Invalid(why));
    }
    Ok(())
}

pub(crate) fn check_service(s: &Service) -> Result<(), Error> {
    check_name(
        &s.scheduler,
        sys::IP_VS_SCHEDNAME_MAXLEN,
        InvalidReason::SchedulerName,
    )?;
    if let Some(pe) = &s.pe_name {
        check_name(pe, sys::IP_VS_PENAME_MAXLEN, InvalidReason::PeName)?;
    }
    Ok(())
}

impl Op {
    /// The operation kind (decides how an errno reads).
    pub fn kind(&self) -> OpKind {
        match self {
            Op::AddService(_) => OpKind::AddService,
            Op::EditService(_) => OpKind::EditService,
            Op::DelService(_) => OpKind::DelService,
            Op::AddDest(..) => OpKind::AddDest,
            Op::EditDest(..) => OpKind::EditDest,
            Op::DelDest(..) => OpKind::DelDest,
            Op::Flush => OpKind::Flush,
            Op::Zero(_) => OpKind::Zero,
            Op::SetTimeouts(_) => OpKind::SetTimeouts,
            Op::StartDaemon(_) => OpKind::StartDaemon,
            Op::StopDaemon(_) => OpKind::StopDaemon,
        }
    }

    /// Appends this operation's request to `out` as [`crate::Ipvs::apply`]
    /// sends it: netlink header (type `family`, `flags`, `seq`), generic
    /// netlink header, attributes. The same bytes as
    /// [`crate::message::encode_request`] of [`Op::message`], written in
    /// one pass. On error (an invalid operation) `out` is unchanged.
    pub fn encode(
        &self,
        family: u16,
        flags: u16,
        seq: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        crate::encode::encode_op(self, family, flags, seq, out)
    }

    /// The request message for this operation.
    pub fn message(&self) -> Result<IpvsMessage, Error> {
        let (cmd, nlas) = match self {
            Op::AddService(s) => {
                check_service(s)?;
                (
                    sys::IPVS_CMD_NEW_SERVICE,
                    vec![CmdNla::Service(service_nlas(s))],
                )
            }
            Op::EditService(s) => {
                check_service(s)?;
                (
                    sys::IPVS_CMD_SET_SERVICE,
                    vec![CmdNla::Service(service_nlas(s))],
                )
            }
            Op::DelService(k) => (
                sys::IPVS_CMD_DEL_SERVICE,
                vec![CmdNla::Service(service_key_nlas(k))],
            ),
            Op::AddDest(k, d) => (
                sys::IPVS_CMD_NEW_DEST,
                vec![
                    CmdNla::Service(service_key_nlas(k)),
                    CmdNla::Dest(dest_nlas(d)),
                ],
            ),
            Op::EditDest(k, d) => (
                sys::IPVS_CMD_SET_DEST,
                vec![
                    CmdNla::Service(service_key_nlas(k)),
                    CmdNla::Dest(dest_nlas(d)),
                ],
            ),
            Op::DelDest(k, a) => (
                sys::IPVS_CMD_DEL_DEST,
                vec![
                    CmdNla::Service(service_key_nlas(k)),
                    CmdNla::Dest(dest_key_nlas(a)),
                ],
            ),
            Op::Flush => (sys::IPVS_CMD_FLUSH, Vec::new()),
            Op::Zero(None) => (sys::IPVS_CMD_ZERO, Vec::new()),
            Op::Zero(Some(k)) => (
                sys::IPVS_CMD_ZERO,
                vec![CmdNla::Service(service_key_nlas(k))],
            ),
            Op::SetTimeouts(t) => (
                sys::IPVS_CMD_SET_CONFIG,
                vec![
                    CmdNla::TimeoutTcp(t.tcp),
                    CmdNla::TimeoutTcpFin(t.tcp_fin),
                    CmdNla::TimeoutUdp(t.udp),
                ],
            ),
            Op::StartDaemon(d) => {
                check_name(&d.ifname, sys::IP_VS_IFNAME_MAXLEN, InvalidReason::IfName)?;
                (
                    sys::IPVS_CMD_NEW_DAEMON,
                    vec![CmdNla::Daemon(daemon_nlas(d))],
                )
            }
            Op::StopDaemon(s) => (
                sys::IPVS_CMD_DEL_DAEMON,
                vec![CmdNla::Daemon(vec![crate::nla::DaemonNla::State(
                    s.number(),
                )])],
            ),
        };
        Ok(IpvsMessage { cmd, nlas })
    }
}

/// The operations that turn `current` into `desired`: deleted services
/// first, then per kept service the destination deletions, the service
/// edit, destination edits and additions, then new services with their
/// destinations. Equal entries produce nothing.
pub fn diff(desired: &[VirtualServer], current: &[VirtualServer]) -> Vec<Op> {
    let cur: HashMap<ServiceKey, &VirtualServer> =
        current.iter().map(|v| (v.service.key, v)).collect();
    let want: HashMap<ServiceKey, &VirtualServer> =
        desired.iter().map(|v| (v.service.key, v)).collect();
    let mut ops: Vec<Op> = current
        .iter()
        .filter(|v| !want.contains_key(&v.service.key))
        .map(|v| Op::DelService(v.service.key))
        .collect();
    let mut adds = Vec::new();
    for v in desired {
        let key = v.service.key;
        let Some(c) = cur.get(&key) else {
            adds.push(Op::AddService(v.service.clone()));
            adds.extend(v.dests.iter().map(|d| Op::AddDest(key, *d)));
            continue;
        };
        let have: HashMap<SocketAddr, &Destination> = c.dests.iter().map(|d| (d.addr, d)).collect();
        let wanted: HashMap<SocketAddr, &Destination> =
            v.dests.iter().map(|d| (d.addr, d)).collect();
        ops.extend(
            c.dests
                .iter()
                .filter(|d| !wanted.contains_key(&d.addr))
                .map(|d| Op::DelDest(key, d.addr)),
        );
        if c.service != v.service {
            ops.push(Op::EditService(v.service.clone()));
        }
        for d in &v.dests {
            match have.get(&d.addr) {
                None => ops.push(Op::AddDest(key, *d)),
                Some(h) if !same_dest(h, d) => ops.push(Op::EditDest(key, *d)),
                Some(_) => {}
            }
        }
    }
    ops.extend(adds);
    ops
}

/// Destinations compare equal when every setting the kernel keeps is
/// equal; tunnel settings only matter for tunnelling destinations.
fn same_dest(a: &Destination, b: &Destination) -> bool {
    let core = a.forward == b.forward
        && a.weight == b.weight
        && a.upper_threshold == b.upper_threshold
        && a.lower_threshold == b.lower_threshold;
    core && (a.forward != Forward::Tunnel
        || (a.tunnel_type == b.tunnel_type
            && a.tunnel_port == b.tunnel_port
            && a.tunnel_flags == b.tunnel_flags))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failure

    use super::*;

    fn vs(port: u16, dests: &[(u8, u32)]) -> VirtualServer {
        let key = ServiceKey::tcp(SocketAddr::from(([10, 0, 0, 1], port)));
        VirtualServer {
            service: Service::new(key, "rr"),
            dests: dests
                .iter()
                .map(|(last, w)| {
                    let mut d = Destination::new(
                        SocketAddr::from(([10, 1, 0, *last], port)),
                        Forward::Masq,
                    );
                    d.weight = *w;
                    d
                })
                .collect(),
        }
    }

    #[test]
    fn equal_tables_need_nothing() {
        let t = vec![vs(80, &[(1, 1), (2, 1)]), vs(443, &[(3, 2)])];
        assert_eq!(diff(&t, &t), vec![]);
    }

    #[test]
    fn only_the_differences_are_sent_in_order() {
        let current = vec![vs(80, &[(1, 1), (2, 1)]), vs(81, &[(9, 1)])];
        let mut want = vec![vs(80, &[(1, 5), (3, 1)]), vs(443, &[(4, 1)])];
        want[0].service.scheduler = "wlc".into();
        let key80 = want[0].service.key;
        let ops = diff(&want, &current);
        assert_eq!(
            ops,
            vec![
                Op::DelService(current[1].service.key),
                Op::DelDest(key80, current[0].dests[1].addr),
                Op::EditService(want[0].service.clone()),
                Op::EditDest(key80, want[0].dests[0]),
                Op::AddDest(key80, want[0].dests[1]),
                Op::AddService(want[1].service.clone()),
                Op::AddDest(want[1].service.key, want[1].dests[0]),
            ]
        );
    }

    #[test]
    fn tunnel_settings_only_matter_for_tunnels() {
        let current = vec![vs(80, &[(1, 1)])];
        let mut want = current.clone();
        want[0].dests[0].tunnel_port = 6080; // ignored: not a tunnel
        assert_eq!(diff(&want, &current), vec![]);
        let mut cur_t = current.clone();
        cur_t[0].dests[0].forward = Forward::Tunnel;
        let mut want_t = cur_t.clone();
        want_t[0].dests[0].tunnel_type = TunnelType::Gue;
        assert_eq!(diff(&want_t, &cur_t).len(), 1);
    }

    #[test]
    fn names_too_long_are_rejected_before_sending() {
        let key = ServiceKey::tcp(SocketAddr::from(([10, 0, 0, 1], 80)));
        let op = Op::AddService(Service::new(key, "a-scheduler-name-too-long"));
        assert!(matches!(
            op.message(),
            Err(Error::Invalid(InvalidReason::SchedulerName))
        ));
        let op = Op::StartDaemon(SyncDaemon::new(DaemonState::Master, "an-interface-name", 1));
        assert!(matches!(
            op.message(),
            Err(Error::Invalid(InvalidReason::IfName))
        ));
    }
}
