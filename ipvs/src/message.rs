//! The IPVS generic netlink message and the framing of requests and
//! replies (netlink header + generic netlink header + attributes).

use netlink_packet_core::{
    NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NLMSG_DONE, NLMSG_ERROR,
    NLMSG_NOOP,
};
use netlink_packet_generic::{GenlBuffer, GenlFamily, GenlHeader, GenlMessage};
use netlink_packet_utils::nla::NlasIterator;
use netlink_packet_utils::{DecodeError, Emitable, ParseableParametrized};

use crate::error::{CodecError, Nest};
use crate::nla::CmdNla;

/// One IPVS generic netlink message: a command and its attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpvsMessage {
    /// `IPVS_CMD_*`.
    pub cmd: u8,
    /// Top-level attributes.
    pub nlas: Vec<CmdNla>,
}

impl GenlFamily for IpvsMessage {
    fn family_name() -> &'static str {
        ipvs_sys::IPVS_GENL_NAME
    }
    fn command(&self) -> u8 {
        self.cmd
    }
    fn version(&self) -> u8 {
        ipvs_sys::IPVS_GENL_VERSION
    }
}

impl Emitable for IpvsMessage {
    fn buffer_len(&self) -> usize {
        self.nlas.as_slice().buffer_len()
    }
    fn emit(&self, buffer: &mut [u8]) {
        self.nlas.as_slice().emit(buffer)
    }
}

impl IpvsMessage {
    /// Parses the attributes that follow the generic netlink header.
    pub fn parse_attrs(cmd: u8, attrs: &[u8]) -> Result<Self, CodecError> {
        let mut nlas = Vec::new();
        for nla in NlasIterator::new(attrs) {
            let nla = nla.map_err(|_| CodecError::Truncated {
                nest: Nest::Command,
            })?;
            nlas.push(CmdNla::parse_for(&nla, cmd)?);
        }
        Ok(IpvsMessage { cmd, nlas })
    }
}

impl ParseableParametrized<[u8], GenlHeader> for IpvsMessage {
    fn parse_with_param(buf: &[u8], header: GenlHeader) -> Result<Self, DecodeError> {
        Self::parse_attrs(header.cmd, buf).map_err(|e| DecodeError::from(e.to_string()))
    }
}

/// Appends one request to `out`: netlink header (type = `family`, the
/// given flags and sequence number) and the message.
pub fn encode_request(family: u16, flags: u16, seq: u32, msg: IpvsMessage, out: &mut Vec<u8>) {
    let mut genl = GenlMessage::from_payload(msg);
    genl.set_resolved_family_id(family);
    let mut header = NetlinkHeader::default();
    header.flags = flags;
    header.sequence_number = seq;
    let mut nl = NetlinkMessage::new(header, NetlinkPayload::InnerMessage(genl));
    nl.finalize();
    let start = out.len();
    out.resize(start + nl.buffer_len(), 0);
    nl.serialize(&mut out[start..]);
}

/// What one netlink message of a reply datagram says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyKind {
    /// `NLMSG_ERROR` with code 0: the request succeeded.
    Ack,
    /// `NLMSG_ERROR` with a negative code: the positive errno.
    Error(i32),
    /// `NLMSG_DONE`: end of a dump (errno if the dump failed, else 0).
    Done(i32),
    /// An IPVS message.
    Message(IpvsMessage),
    /// `NLMSG_NOOP` or a message of another family (ignored).
    Ignored,
}

/// One message of a reply datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// Sequence number of the request it answers.
    pub seq: u32,
    /// Netlink flags of the message.
    pub flags: u16,
    /// Content.
    pub kind: ReplyKind,
}

fn i32_at(payload: &[u8]) -> Result<i32, CodecError> {
    let b: [u8; 4] = payload
        .get(..4)
        .and_then(|s| s.try_into().ok())
        .ok_or(CodecError::Truncated { nest: Nest::Header })?;
    Ok(i32::from_ne_bytes(b))
}

/// Decodes every netlink message of one datagram. Never panics; the first
/// malformed message makes the whole datagram an error.
pub fn decode_datagram(family: u16, mut buf: &[u8]) -> Result<Vec<Reply>, CodecError> {
    let mut out = Vec::new();
    while !buf.is_empty() {
        let nl = NetlinkBuffer::new_checked(buf)
            .map_err(|_| CodecError::Truncated { nest: Nest::Header })?;
        let len = nl.length() as usize;
        let (msg_type, flags, seq) = (nl.message_type(), nl.flags(), nl.sequence_number());
        let payload = nl.payload();
        let kind = match msg_type {
            NLMSG_ERROR => match i32_at(payload)? {
                0 => ReplyKind::Ack,
                code => ReplyKind::Error(code.saturating_neg()),
            },
            NLMSG_DONE => ReplyKind::Done(if payload.len() >= 4 {
                i32_at(payload)?.saturating_neg()
            } else {
                0
            }),
            NLMSG_NOOP => ReplyKind::Ignored,
            t if t == family => {
                let genl = GenlBuffer::new_checked(payload)
                    .map_err(|_| CodecError::Truncated { nest: Nest::Header })?;
                ReplyKind::Message(IpvsMessage::parse_attrs(genl.cmd(), genl.payload())?)
            }
            _ => ReplyKind::Ignored,
        };
        out.push(Reply { seq, flags, kind });
        let step = (len + 3) & !3;
        buf = buf.get(step..).unwrap_or(&[]);
    }
    Ok(out)
}

/// A typed entry decoded from a reply message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Entry {
    /// From a service dump or get.
    Service(crate::ServiceEntry),
    /// From a destination dump (family defaulted to IPv4 when absent).
    Dest(crate::DestinationEntry),
    /// From a daemon dump.
    Daemon(crate::SyncDaemon),
}

/// Decodes a datagram and converts every IPVS message in it to typed
/// entries; the first malformed message or attribute is an error.
pub fn decode_entries(family: u16, buf: &[u8]) -> Result<Vec<Entry>, CodecError> {
    let mut out = Vec::new();
    for r in decode_datagram(family, buf)? {
        let ReplyKind::Message(m) = r.kind else {
            continue;
        };
        for a in &m.nlas {
            match a {
                CmdNla::Service(s) => out.push(Entry::Service(crate::convert::service_from(s)?)),
                CmdNla::Dest(d) => out.push(Entry::Dest(crate::convert::dest_from(
                    d,
                    crate::Family::V4,
                )?)),
                CmdNla::Daemon(d) => out.push(Entry::Daemon(crate::convert::daemon_from(d)?)),
                _ => {}
            }
        }
    }
    Ok(out)
}
