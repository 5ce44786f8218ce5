//! Attribute codec of the IPVS generic netlink family, in the rust-netlink
//! style: one `Nla` enum per nest, each with an `Other` variant that keeps
//! unknown attributes (from newer kernels) instead of failing.
//!
//! Values are kept raw here (addresses as 16 bytes, ports in host order);
//! the crate maps them to the typed model when it reads a reply.

use ipvs_sys as sys;
use netlink_packet_utils::nla::{
    DefaultNla, Nla, NlaBuffer, NlasIterator, NLA_F_NESTED, NLA_HEADER_SIZE,
};
use netlink_packet_utils::{DecodeError, Emitable, Parseable};

use crate::error::{CodecError, Nest};

/// Reads the attributes of nest attribute `kind`, failing on the first
/// malformed one, or when the nest could not be emitted again: emitting
/// pads every attribute, which may push a nest whose last attribute came
/// unpadded past the 16-bit attribute length.
pub(crate) fn parse_nest<A: Nla>(
    buf: &[u8],
    nest: Nest,
    kind: u16,
    parse: fn(&NlaBuffer<&[u8]>, Nest) -> Result<A, CodecError>,
) -> Result<Vec<A>, CodecError> {
    let mut out = Vec::new();
    for nla in NlasIterator::new(buf) {
        let nla = nla.map_err(|_| CodecError::Truncated { nest })?;
        out.push(parse(&nla, nest)?);
    }
    let len = out.as_slice().buffer_len();
    if len > usize::from(u16::MAX) - NLA_HEADER_SIZE {
        return Err(CodecError::BadLength { nest, kind, len });
    }
    Ok(out)
}

fn fixed<const N: usize>(v: &[u8], nest: Nest, kind: u16) -> Result<[u8; N], CodecError> {
    v.try_into().map_err(|_| CodecError::BadLength {
        nest,
        kind,
        len: v.len(),
    })
}
fn u8_of(v: &[u8], nest: Nest, kind: u16) -> Result<u8, CodecError> {
    Ok(fixed::<1>(v, nest, kind)?[0])
}
fn u16_ne(v: &[u8], nest: Nest, kind: u16) -> Result<u16, CodecError> {
    Ok(u16::from_ne_bytes(fixed(v, nest, kind)?))
}
fn u16_be(v: &[u8], nest: Nest, kind: u16) -> Result<u16, CodecError> {
    Ok(u16::from_be_bytes(fixed(v, nest, kind)?))
}
fn u32_ne(v: &[u8], nest: Nest, kind: u16) -> Result<u32, CodecError> {
    Ok(u32::from_ne_bytes(fixed(v, nest, kind)?))
}
fn u64_ne(v: &[u8], nest: Nest, kind: u16) -> Result<u64, CodecError> {
    Ok(u64::from_ne_bytes(fixed(v, nest, kind)?))
}
/// A NUL-terminated (or unterminated) string of at most `max` bytes.
fn string(v: &[u8], nest: Nest, kind: u16, max: usize) -> Result<String, CodecError> {
    let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
    if end >= max {
        return Err(CodecError::BadLength {
            nest,
            kind,
            len: v.len(),
        });
    }
    String::from_utf8(v[..end].to_vec()).map_err(|_| CodecError::BadString { nest, kind })
}
/// An address attribute: 16 bytes, or 4 for IPv4 (zero-padded).
fn addr16(v: &[u8], nest: Nest, kind: u16) -> Result<[u8; 16], CodecError> {
    let mut out = [0u8; 16];
    match v.len() {
        4 | 16 => out[..v.len()].copy_from_slice(v),
        len => return Err(CodecError::BadLength { nest, kind, len }),
    }
    Ok(out)
}
fn other<T: AsRef<[u8]> + ?Sized>(
    nla: &NlaBuffer<&T>,
    nest: Nest,
) -> Result<DefaultNla, CodecError> {
    DefaultNla::parse(nla).map_err(|_| CodecError::Truncated { nest })
}
fn emit_str(s: &str, buf: &mut [u8]) {
    buf[..s.len()].copy_from_slice(s.as_bytes());
    buf[s.len()] = 0;
}

/// Top-level attributes of an IPVS command (`IPVS_CMD_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CmdNla {
    /// Nested service attributes.
    Service(Vec<SvcNla>),
    /// Nested destination attributes.
    Dest(Vec<DestNla>),
    /// Nested sync daemon attributes.
    Daemon(Vec<DaemonNla>),
    /// TCP timeout, seconds.
    TimeoutTcp(u32),
    /// TCP FIN timeout, seconds.
    TimeoutTcpFin(u32),
    /// UDP timeout, seconds.
    TimeoutUdp(u32),
    /// `IPVS_INFO_ATTR_VERSION` (info replies reuse id 1 at top level).
    Info(InfoNla),
    /// Any other attribute.
    Other(DefaultNla),
}

/// Service attributes (`IPVS_SVC_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SvcNla {
    /// Address family.
    Af(u16),
    /// IP protocol.
    Protocol(u16),
    /// Address, 16 bytes (IPv4 in the first 4).
    Addr([u8; 16]),
    /// Port, host order (network order on the wire).
    Port(u16),
    /// Firewall mark.
    Fwmark(u32),
    /// Scheduler name.
    SchedName(String),
    /// Flags and mask.
    Flags {
        /// Flag values.
        flags: u32,
        /// Mask of meaningful bits.
        mask: u32,
    },
    /// Persistence timeout, seconds.
    Timeout(u32),
    /// Persistence netmask, as the u32 on the wire (network order bytes).
    Netmask([u8; 4]),
    /// 32-bit statistics.
    Stats(Vec<StatsNla>),
    /// Persistence engine name.
    PeName(String),
    /// 64-bit statistics.
    Stats64(Vec<StatsNla>),
    /// Any other attribute.
    Other(DefaultNla),
}

/// Destination attributes (`IPVS_DEST_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DestNla {
    /// Address, 16 bytes.
    Addr([u8; 16]),
    /// Port, host order.
    Port(u16),
    /// Forwarding method (`IP_VS_CONN_F_*`).
    FwdMethod(u32),
    /// Weight.
    Weight(u32),
    /// Upper threshold.
    UThresh(u32),
    /// Lower threshold.
    LThresh(u32),
    /// Active connections.
    ActiveConns(u32),
    /// Inactive connections.
    InactConns(u32),
    /// Persistent connections.
    PersistConns(u32),
    /// 32-bit statistics.
    Stats(Vec<StatsNla>),
    /// Address family of the destination.
    AddrFamily(u16),
    /// 64-bit statistics.
    Stats64(Vec<StatsNla>),
    /// Tunnel type.
    TunType(u8),
    /// Tunnel port, host order.
    TunPort(u16),
    /// Tunnel flags.
    TunFlags(u16),
    /// Any other attribute.
    Other(DefaultNla),
}

/// Sync daemon attributes (`IPVS_DAEMON_ATTR_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DaemonNla {
    /// State (master or backup).
    State(u32),
    /// Multicast interface.
    McastIfn(String),
    /// Sync id.
    SyncId(u32),
    /// Maximum sync message payload.
    SyncMaxlen(u16),
    /// IPv4 multicast group (network order bytes).
    McastGroup([u8; 4]),
    /// IPv6 multicast group.
    McastGroup6([u8; 16]),
    /// Multicast port, host order.
    McastPort(u16),
    /// Multicast TTL.
    McastTtl(u8),
    /// Any other attribute.
    Other(DefaultNla),
}

/// Statistics attributes (`IPVS_STATS_ATTR_*`); the value is widened to
/// u64 (32-bit counters in `STATS`, 64-bit in `STATS64`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatsNla {
    /// A counter: attribute id and value, with its width on the wire.
    Counter {
        /// `IPVS_STATS_ATTR_*` id.
        kind: u16,
        /// Value.
        value: u64,
        /// Whether the wire value is 8 bytes (else 4).
        wide: bool,
    },
    /// Padding or any other attribute.
    Other(DefaultNla),
}

/// Info attributes (`IPVS_INFO_ATTR_*`) of the `GET_INFO` reply.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum InfoNla {
    /// IPVS version code.
    Version(u32),
    /// Connection table size.
    ConnTabSize(u32),
}

macro_rules! nested_len {
    ($v:expr) => {
        $v.as_slice().buffer_len()
    };
}

impl Nla for CmdNla {
    fn value_len(&self) -> usize {
        match self {
            Self::Service(v) => nested_len!(v),
            Self::Dest(v) => nested_len!(v),
            Self::Daemon(v) => nested_len!(v),
            Self::TimeoutTcp(_) | Self::TimeoutTcpFin(_) | Self::TimeoutUdp(_) | Self::Info(_) => 4,
            Self::Other(n) => n.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            Self::Service(_) => sys::IPVS_CMD_ATTR_SERVICE,
            Self::Dest(_) => sys::IPVS_CMD_ATTR_DEST,
            Self::Daemon(_) => sys::IPVS_CMD_ATTR_DAEMON,
            Self::TimeoutTcp(_) => sys::IPVS_CMD_ATTR_TIMEOUT_TCP,
            Self::TimeoutTcpFin(_) => sys::IPVS_CMD_ATTR_TIMEOUT_TCP_FIN,
            Self::TimeoutUdp(_) => sys::IPVS_CMD_ATTR_TIMEOUT_UDP,
            Self::Info(InfoNla::Version(_)) => sys::IPVS_INFO_ATTR_VERSION,
            Self::Info(InfoNla::ConnTabSize(_)) => sys::IPVS_INFO_ATTR_CONN_TAB_SIZE,
            Self::Other(n) => n.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::Service(v) => v.as_slice().emit(buf),
            Self::Dest(v) => v.as_slice().emit(buf),
            Self::Daemon(v) => v.as_slice().emit(buf),
            Self::TimeoutTcp(x) | Self::TimeoutTcpFin(x) | Self::TimeoutUdp(x) => {
                buf[..4].copy_from_slice(&x.to_ne_bytes())
            }
            Self::Info(InfoNla::Version(x)) | Self::Info(InfoNla::ConnTabSize(x)) => {
                buf[..4].copy_from_slice(&x.to_ne_bytes())
            }
            Self::Other(n) => n.emit_value(buf),
        }
    }
}

impl CmdNla {
    /// Parses one top-level attribute of a message of command `cmd`
    /// (`GET_INFO` replies put the info attributes at the top level).
    pub fn parse_for<T: AsRef<[u8]> + ?Sized>(
        nla: &NlaBuffer<&T>,
        cmd: u8,
    ) -> Result<Self, CodecError> {
        let nest = Nest::Command;
        let v = nla.value();
        let kind = nla.kind() & !NLA_F_NESTED;
        if cmd == sys::IPVS_CMD_SET_INFO || cmd == sys::IPVS_CMD_GET_INFO {
            return Ok(match kind {
                sys::IPVS_INFO_ATTR_VERSION => {
                    Self::Info(InfoNla::Version(u32_ne(v, Nest::Info, kind)?))
                }
                sys::IPVS_INFO_ATTR_CONN_TAB_SIZE => {
                    Self::Info(InfoNla::ConnTabSize(u32_ne(v, Nest::Info, kind)?))
                }
                _ => Self::Other(other(nla, Nest::Info)?),
            });
        }
        Ok(match kind {
            sys::IPVS_CMD_ATTR_SERVICE => {
                Self::Service(parse_nest(v, Nest::Service, kind, SvcNla::parse_in)?)
            }
            sys::IPVS_CMD_ATTR_DEST => {
                Self::Dest(parse_nest(v, Nest::Dest, kind, DestNla::parse_in)?)
            }
            sys::IPVS_CMD_ATTR_DAEMON => {
                Self::Daemon(parse_nest(v, Nest::Daemon, kind, DaemonNla::parse_in)?)
            }
            sys::IPVS_CMD_ATTR_TIMEOUT_TCP => Self::TimeoutTcp(u32_ne(v, nest, kind)?),
            sys::IPVS_CMD_ATTR_TIMEOUT_TCP_FIN => Self::TimeoutTcpFin(u32_ne(v, nest, kind)?),
            sys::IPVS_CMD_ATTR_TIMEOUT_UDP => Self::TimeoutUdp(u32_ne(v, nest, kind)?),
            _ => Self::Other(other(nla, nest)?),
        })
    }
}

impl Nla for SvcNla {
    fn value_len(&self) -> usize {
        match self {
            Self::Af(_) | Self::Protocol(_) | Self::Port(_) => 2,
            Self::Addr(_) => 16,
            Self::Fwmark(_) | Self::Timeout(_) | Self::Netmask(_) => 4,
            Self::SchedName(s) | Self::PeName(s) => s.len() + 1,
            Self::Flags { .. } => 8,
            Self::Stats(v) | Self::Stats64(v) => nested_len!(v),
            Self::Other(n) => n.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            Self::Af(_) => sys::IPVS_SVC_ATTR_AF,
            Self::Protocol(_) => sys::IPVS_SVC_ATTR_PROTOCOL,
            Self::Addr(_) => sys::IPVS_SVC_ATTR_ADDR,
            Self::Port(_) => sys::IPVS_SVC_ATTR_PORT,
            Self::Fwmark(_) => sys::IPVS_SVC_ATTR_FWMARK,
            Self::SchedName(_) => sys::IPVS_SVC_ATTR_SCHED_NAME,
            Self::Flags { .. } => sys::IPVS_SVC_ATTR_FLAGS,
            Self::Timeout(_) => sys::IPVS_SVC_ATTR_TIMEOUT,
            Self::Netmask(_) => sys::IPVS_SVC_ATTR_NETMASK,
            Self::Stats(_) => sys::IPVS_SVC_ATTR_STATS,
            Self::PeName(_) => sys::IPVS_SVC_ATTR_PE_NAME,
            Self::Stats64(_) => sys::IPVS_SVC_ATTR_STATS64,
            Self::Other(n) => n.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::Af(x) | Self::Protocol(x) => buf[..2].copy_from_slice(&x.to_ne_bytes()),
            Self::Port(x) => buf[..2].copy_from_slice(&x.to_be_bytes()),
            Self::Addr(a) => buf[..16].copy_from_slice(a),
            Self::Fwmark(x) | Self::Timeout(x) => buf[..4].copy_from_slice(&x.to_ne_bytes()),
            Self::Netmask(m) => buf[..4].copy_from_slice(m),
            Self::SchedName(s) | Self::PeName(s) => emit_str(s, buf),
            Self::Flags { flags, mask } => {
                buf[..4].copy_from_slice(&flags.to_ne_bytes());
                buf[4..8].copy_from_slice(&mask.to_ne_bytes());
            }
            Self::Stats(v) | Self::Stats64(v) => v.as_slice().emit(buf),
            Self::Other(n) => n.emit_value(buf),
        }
    }
}

impl SvcNla {
    pub(crate) fn parse_in<T: AsRef<[u8]> + ?Sized>(
        nla: &NlaBuffer<&T>,
        nest: Nest,
    ) -> Result<Self, CodecError> {
        let v = nla.value();
        let kind = nla.kind() & !NLA_F_NESTED;
        Ok(match kind {
            sys::IPVS_SVC_ATTR_AF => Self::Af(u16_ne(v, nest, kind)?),
            sys::IPVS_SVC_ATTR_PROTOCOL => Self::Protocol(u16_ne(v, nest, kind)?),
            sys::IPVS_SVC_ATTR_ADDR => Self::Addr(addr16(v, nest, kind)?),
            sys::IPVS_SVC_ATTR_PORT => Self::Port(u16_be(v, nest, kind)?),
            sys::IPVS_SVC_ATTR_FWMARK => Self::Fwmark(u32_ne(v, nest, kind)?),
            sys::IPVS_SVC_ATTR_SCHED_NAME => {
                Self::SchedName(string(v, nest, kind, sys::IP_VS_SCHEDNAME_MAXLEN)?)
            }
            sys::IPVS_SVC_ATTR_FLAGS => {
                let b: [u8; 8] = fixed(v, nest, kind)?;
                let (f, m) = b.split_at(4);
                Self::Flags {
                    flags: u32_ne(f, nest, kind)?,
                    mask: u32_ne(m, nest, kind)?,
                }
            }
            sys::IPVS_SVC_ATTR_TIMEOUT => Self::Timeout(u32_ne(v, nest, kind)?),
            sys::IPVS_SVC_ATTR_NETMASK => Self::Netmask(fixed(v, nest, kind)?),
            sys::IPVS_SVC_ATTR_STATS => {
                Self::Stats(parse_nest(v, Nest::Stats, kind, StatsNla::parse_in)?)
            }
            sys::IPVS_SVC_ATTR_PE_NAME => {
                Self::PeName(string(v, nest, kind, sys::IP_VS_PENAME_MAXLEN)?)
            }
            sys::IPVS_SVC_ATTR_STATS64 => {
                Self::Stats64(parse_nest(v, Nest::Stats64, kind, StatsNla::parse_in)?)
            }
            _ => Self::Other(other(nla, nest)?),
        })
    }
}

impl Nla for DestNla {
    fn value_len(&self) -> usize {
        match self {
            Self::Addr(_) => 16,
            Self::Port(_) | Self::AddrFamily(_) | Self::TunPort(_) | Self::TunFlags(_) => 2,
            Self::TunType(_) => 1,
            Self::FwdMethod(_)
            | Self::Weight(_)
            | Self::UThresh(_)
            | Self::LThresh(_)
            | Self::ActiveConns(_)
            | Self::InactConns(_)
            | Self::PersistConns(_) => 4,
            Self::Stats(v) | Self::Stats64(v) => nested_len!(v),
            Self::Other(n) => n.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            Self::Addr(_) => sys::IPVS_DEST_ATTR_ADDR,
            Self::Port(_) => sys::IPVS_DEST_ATTR_PORT,
            Self::FwdMethod(_) => sys::IPVS_DEST_ATTR_FWD_METHOD,
            Self::Weight(_) => sys::IPVS_DEST_ATTR_WEIGHT,
            Self::UThresh(_) => sys::IPVS_DEST_ATTR_U_THRESH,
            Self::LThresh(_) => sys::IPVS_DEST_ATTR_L_THRESH,
            Self::ActiveConns(_) => sys::IPVS_DEST_ATTR_ACTIVE_CONNS,
            Self::InactConns(_) => sys::IPVS_DEST_ATTR_INACT_CONNS,
            Self::PersistConns(_) => sys::IPVS_DEST_ATTR_PERSIST_CONNS,
            Self::Stats(_) => sys::IPVS_DEST_ATTR_STATS,
            Self::AddrFamily(_) => sys::IPVS_DEST_ATTR_ADDR_FAMILY,
            Self::Stats64(_) => sys::IPVS_DEST_ATTR_STATS64,
            Self::TunType(_) => sys::IPVS_DEST_ATTR_TUN_TYPE,
            Self::TunPort(_) => sys::IPVS_DEST_ATTR_TUN_PORT,
            Self::TunFlags(_) => sys::IPVS_DEST_ATTR_TUN_FLAGS,
            Self::Other(n) => n.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::Addr(a) => buf[..16].copy_from_slice(a),
            Self::Port(x) | Self::TunPort(x) => buf[..2].copy_from_slice(&x.to_be_bytes()),
            Self::AddrFamily(x) | Self::TunFlags(x) => buf[..2].copy_from_slice(&x.to_ne_bytes()),
            Self::TunType(x) => buf[0] = *x,
            Self::FwdMethod(x)
            | Self::Weight(x)
            | Self::UThresh(x)
            | Self::LThresh(x)
            | Self::ActiveConns(x)
            | Self::InactConns(x)
            | Self::PersistConns(x) => buf[..4].copy_from_slice(&x.to_ne_bytes()),
            Self::Stats(v) | Self::Stats64(v) => v.as_slice().emit(buf),
            Self::Other(n) => n.emit_value(buf),
        }
    }
}

impl DestNla {
    pub(crate) fn parse_in<T: AsRef<[u8]> + ?Sized>(
        nla: &NlaBuffer<&T>,
        nest: Nest,
    ) -> Result<Self, CodecError> {
        let v = nla.value();
        let kind = nla.kind() & !NLA_F_NESTED;
        Ok(match kind {
            sys::IPVS_DEST_ATTR_ADDR => Self::Addr(addr16(v, nest, kind)?),
            sys::IPVS_DEST_ATTR_PORT => Self::Port(u16_be(v, nest, kind)?),
            sys::IPVS_DEST_ATTR_FWD_METHOD => Self::FwdMethod(u32_ne(v, nest, kind)?),
            sys::IPVS_DEST_ATTR_WEIGHT => Self::Weight(u32_ne(v, nest, kind)?),
            sys::IPVS_DEST_ATTR_U_THRESH => Self::UThresh(u32_ne(v, nest, kind)?),
            sys::IPVS_DEST_ATTR_L_THRESH => Self::LThresh(u32_ne(v, nest, kind)?),
            sys::IPVS_DEST_ATTR_ACTIVE_CONNS => Self::ActiveConns(u32_ne(v, nest, kind)?),
            sys::IPVS_DEST_ATTR_INACT_CONNS => Self::InactConns(u32_ne(v, nest, kind)?),
            sys::IPVS_DEST_ATTR_PERSIST_CONNS => Self::PersistConns(u32_ne(v, nest, kind)?),
            sys::IPVS_DEST_ATTR_STATS => {
                Self::Stats(parse_nest(v, Nest::Stats, kind, StatsNla::parse_in)?)
            }
            sys::IPVS_DEST_ATTR_ADDR_FAMILY => Self::AddrFamily(u16_ne(v, nest, kind)?),
            sys::IPVS_DEST_ATTR_STATS64 => {
                Self::Stats64(parse_nest(v, Nest::Stats64, kind, StatsNla::parse_in)?)
            }
            sys::IPVS_DEST_ATTR_TUN_TYPE => Self::TunType(u8_of(v, nest, kind)?),
            sys::IPVS_DEST_ATTR_TUN_PORT => Self::TunPort(u16_be(v, nest, kind)?),
            sys::IPVS_DEST_ATTR_TUN_FLAGS => Self::TunFlags(u16_ne(v, nest, kind)?),
            _ => Self::Other(other(nla, nest)?),
        })
    }
}

impl Nla for DaemonNla {
    fn value_len(&self) -> usize {
        match self {
            Self::State(_) | Self::SyncId(_) | Self::McastGroup(_) => 4,
            Self::McastIfn(s) => s.len() + 1,
            Self::SyncMaxlen(_) | Self::McastPort(_) => 2,
            Self::McastGroup6(_) => 16,
            Self::McastTtl(_) => 1,
            Self::Other(n) => n.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            Self::State(_) => sys::IPVS_DAEMON_ATTR_STATE,
            Self::McastIfn(_) => sys::IPVS_DAEMON_ATTR_MCAST_IFN,
            Self::SyncId(_) => sys::IPVS_DAEMON_ATTR_SYNC_ID,
            Self::SyncMaxlen(_) => sys::IPVS_DAEMON_ATTR_SYNC_MAXLEN,
            Self::McastGroup(_) => sys::IPVS_DAEMON_ATTR_MCAST_GROUP,
            Self::McastGroup6(_) => sys::IPVS_DAEMON_ATTR_MCAST_GROUP6,
            Self::McastPort(_) => sys::IPVS_DAEMON_ATTR_MCAST_PORT,
            Self::McastTtl(_) => sys::IPVS_DAEMON_ATTR_MCAST_TTL,
            Self::Other(n) => n.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::State(x) | Self::SyncId(x) => buf[..4].copy_from_slice(&x.to_ne_bytes()),
            Self::McastIfn(s) => emit_str(s, buf),
            Self::SyncMaxlen(x) | Self::McastPort(x) => buf[..2].copy_from_slice(&x.to_ne_bytes()),
            Self::McastGroup(a) => buf[..4].copy_from_slice(a),
            Self::McastGroup6(a) => buf[..16].copy_from_slice(a),
            Self::McastTtl(x) => buf[0] = *x,
            Self::Other(n) => n.emit_value(buf),
        }
    }
}

impl DaemonNla {
    fn parse_in<T: AsRef<[u8]> + ?Sized>(
        nla: &NlaBuffer<&T>,
        nest: Nest,
    ) -> Result<Self, CodecError> {
        let v = nla.value();
        let kind = nla.kind() & !NLA_F_NESTED;
        Ok(match kind {
            sys::IPVS_DAEMON_ATTR_STATE => Self::State(u32_ne(v, nest, kind)?),
            sys::IPVS_DAEMON_ATTR_MCAST_IFN => {
                Self::McastIfn(string(v, nest, kind, sys::IP_VS_IFNAME_MAXLEN)?)
            }
            sys::IPVS_DAEMON_ATTR_SYNC_ID => Self::SyncId(u32_ne(v, nest, kind)?),
            sys::IPVS_DAEMON_ATTR_SYNC_MAXLEN => Self::SyncMaxlen(u16_ne(v, nest, kind)?),
            sys::IPVS_DAEMON_ATTR_MCAST_GROUP => Self::McastGroup(fixed(v, nest, kind)?),
            sys::IPVS_DAEMON_ATTR_MCAST_GROUP6 => Self::McastGroup6(fixed(v, nest, kind)?),
            sys::IPVS_DAEMON_ATTR_MCAST_PORT => Self::McastPort(u16_ne(v, nest, kind)?),
            sys::IPVS_DAEMON_ATTR_MCAST_TTL => Self::McastTtl(u8_of(v, nest, kind)?),
            _ => Self::Other(other(nla, nest)?),
        })
    }
}

impl Nla for StatsNla {
    fn value_len(&self) -> usize {
        match self {
            Self::Counter { wide, .. } => {
                if *wide {
                    8
                } else {
                    4
                }
            }
            Self::Other(n) => n.value_len(),
        }
    }
    fn kind(&self) -> u16 {
        match self {
            Self::Counter { kind, .. } => *kind,
            Self::Other(n) => n.kind(),
        }
    }
    fn emit_value(&self, buf: &mut [u8]) {
        match self {
            Self::Counter {
                value, wide: true, ..
            } => buf[..8].copy_from_slice(&value.to_ne_bytes()),
            Self::Counter { value, .. } => {
                let narrow = u32::try_from(*value).unwrap_or(u32::MAX);
                buf[..4].copy_from_slice(&narrow.to_ne_bytes())
            }
            Self::Other(n) => n.emit_value(buf),
        }
    }
}

impl StatsNla {
    pub(crate) fn parse_in<T: AsRef<[u8]> + ?Sized>(
        nla: &NlaBuffer<&T>,
        nest: Nest,
    ) -> Result<Self, CodecError> {
        let v = nla.value();
        let kind = nla.kind() & !NLA_F_NESTED;
        if kind == sys::IPVS_STATS_ATTR_UNSPEC || kind > sys::IPVS_STATS_ATTR_OUTBPS {
            return Ok(Self::Other(other(nla, nest)?));
        }
        let (value, wide) = match v.len() {
            4 => (u64::from(u32_ne(v, nest, kind)?), false),
            8 => (u64_ne(v, nest, kind)?, true),
            len => return Err(CodecError::BadLength { nest, kind, len }),
        };
        Ok(Self::Counter { kind, value, wide })
    }
}

macro_rules! parseable {
    ($t:ty, $nest:expr) => {
        impl<'a, T: AsRef<[u8]> + ?Sized> Parseable<NlaBuffer<&'a T>> for $t {
            fn parse(buf: &NlaBuffer<&'a T>) -> Result<Self, DecodeError> {
                Self::parse_in(buf, $nest).map_err(|e| DecodeError::from(e.to_string()))
            }
        }
    };
}
parseable!(SvcNla, Nest::Service);
parseable!(DestNla, Nest::Dest);
parseable!(DaemonNla, Nest::Daemon);
parseable!(StatsNla, Nest::Stats);

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failure
    use super::*;

    fn attr(kind: u16, value: &[u8]) -> Vec<u8> {
        let mut v = ((4 + value.len()) as u16).to_ne_bytes().to_vec();
        v.extend(kind.to_ne_bytes());
        v.extend(value);
        v
    }

    /// A service nest filling the 16-bit attribute length, holding a stats
    /// nest whose only (unknown) attribute is unpadded: emitting it again
    /// pads that attribute, and the service would no longer fit.
    #[test]
    fn a_nest_that_cannot_be_emitted_again_is_refused() {
        let inner = attr(99, &vec![7u8; 65523]);
        let stats = attr(sys::IPVS_SVC_ATTR_STATS, &inner);
        let svc = attr(sys::IPVS_CMD_ATTR_SERVICE, &stats);
        assert_eq!(svc.len(), usize::from(u16::MAX));
        let nla = NlaBuffer::new_checked(&svc[..]).unwrap();
        let err = CmdNla::parse_for(&nla, sys::IPVS_CMD_NEW_SERVICE).unwrap_err();
        assert_eq!(
            err,
            CodecError::BadLength {
                nest: Nest::Service,
                kind: sys::IPVS_CMD_ATTR_SERVICE,
                len: 65532,
            }
        );
        // One byte less inner value (now padded) decodes and re-emits.
        let inner = attr(99, &vec![7u8; 65520]);
        let stats = attr(sys::IPVS_SVC_ATTR_STATS, &inner);
        let svc = attr(sys::IPVS_CMD_ATTR_SERVICE, &stats);
        let nla = NlaBuffer::new_checked(&svc[..]).unwrap();
        let parsed = CmdNla::parse_for(&nla, sys::IPVS_CMD_NEW_SERVICE).unwrap();
        let mut out = vec![0u8; parsed.buffer_len()];
        parsed.emit(&mut out);
        assert!(out == svc, "re-emitted bytes differ");
    }

    /// The kernel reads and writes the sync daemon's port in host order
    /// (`nla_get_u16`), unlike service and destination ports; seen in the
    /// IPVS VM, where a big-endian 8849 came back from ipvsadm as 37154.
    #[test]
    fn the_daemon_port_is_in_host_order() {
        let port = DaemonNla::McastPort(8849);
        let mut out = vec![0u8; port.buffer_len()];
        port.emit(&mut out);
        let mut want = attr(sys::IPVS_DAEMON_ATTR_MCAST_PORT, &8849u16.to_ne_bytes());
        want.extend([0, 0]); // padding to 4 bytes
        assert_eq!(out, want);
        let nla = NlaBuffer::new_checked(&out[..]).unwrap();
        assert_eq!(DaemonNla::parse_in(&nla, Nest::Daemon).unwrap(), port);
    }
}
