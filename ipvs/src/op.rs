//! [`Op`]: one change to the kernel's table, and the typed request
//! message it becomes. [`crate::diff`] produces operations, the codec in
//! `encode` writes them, and [`crate::ipvsadm`] prints and parses them.

use std::net::SocketAddr;

use ipvs_sys as sys;

use crate::convert::*;
use crate::error::{Error, InvalidReason, OpKind};
use crate::message::IpvsMessage;
use crate::model::*;
use crate::nla::CmdNla;

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

#[cfg(test)]
mod tests {
    use super::*;

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
