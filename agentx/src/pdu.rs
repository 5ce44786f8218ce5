//! The AgentX PDUs a subagent needs (RFC 2741 section 6): encoders for
//! what it sends (Open, Register, Response, Notify, Close) and a decoder
//! for what the master agent sends (Get, GetNext, GetBulk, the Set
//! phases, Response, Close). The decoder takes untrusted bytes and never
//! panics: every read is bounds-checked.
//!
//! Why not the `agentx` crate: its octet strings are Rust `String`s, so
//! the binary octet strings these MIBs carry (MAC addresses, raw
//! addresses) cannot be encoded, and its Response decoder multiplies an
//! untrusted `u32` without overflow check.

use thiserror::Error;

/// An object identifier's sub-identifiers; `Vec` ordering is OID order.
pub type Oid = Vec<u32>;

/// The fixed header's size.
pub const HEADER_LEN: usize = 20;

/// `NETWORK_BYTE_ORDER` flag: multi-byte fields are big-endian.
const FLAG_NETWORK_BYTE_ORDER: u8 = 0x10;
/// `NON_DEFAULT_CONTEXT` flag: a context precedes the payload.
const FLAG_NON_DEFAULT_CONTEXT: u8 = 0x08;

/// PDU type numbers (RFC 2741 section 6.1).
pub mod kind {
    /// agentx-Open-PDU.
    pub const OPEN: u8 = 1;
    /// agentx-Close-PDU.
    pub const CLOSE: u8 = 2;
    /// agentx-Register-PDU.
    pub const REGISTER: u8 = 3;
    /// agentx-Get-PDU.
    pub const GET: u8 = 5;
    /// agentx-GetNext-PDU.
    pub const GET_NEXT: u8 = 6;
    /// agentx-GetBulk-PDU.
    pub const GET_BULK: u8 = 7;
    /// agentx-TestSet-PDU.
    pub const TEST_SET: u8 = 8;
    /// agentx-CommitSet-PDU.
    pub const COMMIT_SET: u8 = 9;
    /// agentx-UndoSet-PDU.
    pub const UNDO_SET: u8 = 10;
    /// agentx-CleanupSet-PDU.
    pub const CLEANUP_SET: u8 = 11;
    /// agentx-Notify-PDU.
    pub const NOTIFY: u8 = 12;
    /// agentx-Ping-PDU.
    pub const PING: u8 = 13;
    /// agentx-AddAgentCaps-PDU.
    pub const ADD_AGENT_CAPS: u8 = 16;
    /// agentx-Response-PDU.
    pub const RESPONSE: u8 = 18;
}

/// Response error codes (RFC 2741 section 6.2.16) this subagent uses.
pub mod error {
    /// noAgentXError.
    pub const NONE: u16 = 0;
    /// notWritable: every object here is read-only.
    pub const NOT_WRITABLE: u16 = 17;
}

/// Why bytes are not a PDU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than a field needs.
    #[error("truncated AgentX PDU")]
    Truncated,
    /// Not AgentX version 1.
    #[error("AgentX version {0} is not 1")]
    Version(u8),
    /// A value type this subagent does not know.
    #[error("unknown AgentX value type {0}")]
    ValueType(u16),
}

/// The fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Header {
    /// PDU type ([`kind`]).
    pub kind: u8,
    /// Flags.
    pub flags: u8,
    /// Session.
    pub session_id: u32,
    /// Transaction.
    pub transaction_id: u32,
    /// Packet.
    pub packet_id: u32,
    /// Payload length in bytes.
    pub payload_len: u32,
}

impl Header {
    /// Decodes the fixed header at the start of `b`.
    pub fn decode(b: &[u8]) -> Result<Header, DecodeError> {
        let r = Reader {
            b,
            big: b.get(2).is_some_and(|f| f & FLAG_NETWORK_BYTE_ORDER != 0),
        };
        let version = r.u8(0)?;
        if version != 1 {
            return Err(DecodeError::Version(version));
        }
        Ok(Header {
            kind: r.u8(1)?,
            flags: r.u8(2)?,
            session_id: r.u32(4)?,
            transaction_id: r.u32(8)?,
            packet_id: r.u32(12)?,
            payload_len: r.u32(16)?,
        })
    }
}

/// A value (RFC 2741 section 5.4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// INTEGER.
    Integer(i32),
    /// OCTET STRING.
    OctetString(Vec<u8>),
    /// NULL.
    Null,
    /// OBJECT IDENTIFIER.
    Oid(Oid),
    /// IpAddress.
    IpAddress([u8; 4]),
    /// Counter32.
    Counter32(u32),
    /// Gauge32 (also Unsigned32).
    Gauge32(u32),
    /// TimeTicks.
    TimeTicks(u32),
    /// Counter64.
    Counter64(u64),
    /// noSuchObject.
    NoSuchObject,
    /// noSuchInstance.
    NoSuchInstance,
    /// endOfMibView.
    EndOfMibView,
}

impl Value {
    fn tag(&self) -> u16 {
        match self {
            Value::Integer(_) => 2,
            Value::OctetString(_) => 4,
            Value::Null => 5,
            Value::Oid(_) => 6,
            Value::IpAddress(_) => 64,
            Value::Counter32(_) => 65,
            Value::Gauge32(_) => 66,
            Value::TimeTicks(_) => 67,
            Value::Counter64(_) => 70,
            Value::NoSuchObject => 128,
            Value::NoSuchInstance => 129,
            Value::EndOfMibView => 130,
        }
    }
}

/// A name and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VarBind {
    /// The object instance.
    pub name: Oid,
    /// Its value.
    pub value: Value,
}

/// A search range: from `start` (itself included if `include`) up to
/// `end` (excluded; empty for no bound).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchRange {
    /// Start.
    pub start: Oid,
    /// Whether `start` itself may answer.
    pub include: bool,
    /// End, excluded (empty: unbounded).
    pub end: Oid,
}

/// A decoded PDU from the master agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pdu {
    /// agentx-Get-PDU.
    Get(Vec<SearchRange>),
    /// agentx-GetNext-PDU.
    GetNext(Vec<SearchRange>),
    /// agentx-GetBulk-PDU.
    GetBulk {
        /// Ranges answered once.
        non_repeaters: u16,
        /// Repetitions of the others.
        max_repetitions: u16,
        /// Search ranges.
        ranges: Vec<SearchRange>,
    },
    /// agentx-TestSet-PDU (refused: read-only).
    TestSet,
    /// CommitSet, UndoSet or CleanupSet.
    SetPhase,
    /// agentx-Response-PDU.
    Response {
        /// res.error.
        error: u16,
        /// res.index.
        index: u16,
    },
    /// agentx-Close-PDU.
    Close,
    /// Anything else, by type number.
    Other(u8),
}

/// Decodes one whole PDU (header and payload).
pub fn decode(b: &[u8]) -> Result<(Header, Pdu), DecodeError> {
    let h = Header::decode(b)?;
    let end = HEADER_LEN.saturating_add(h.payload_len as usize);
    let payload = b.get(HEADER_LEN..end).ok_or(DecodeError::Truncated)?;
    let mut r = Cursor {
        r: Reader {
            b: payload,
            big: h.flags & FLAG_NETWORK_BYTE_ORDER != 0,
        },
        at: 0,
    };
    let has_context = h.flags & FLAG_NON_DEFAULT_CONTEXT != 0;
    let pdu = match h.kind {
        kind::GET | kind::GET_NEXT | kind::GET_BULK => {
            if has_context {
                r.octets()?;
            }
            let (mut non_repeaters, mut max_repetitions) = (0, 0);
            if h.kind == kind::GET_BULK {
                non_repeaters = r.u16()?;
                max_repetitions = r.u16()?;
            }
            let mut ranges = Vec::new();
            while !r.done() {
                let (start, include) = r.oid()?;
                let (end, _) = r.oid()?;
                ranges.push(SearchRange {
                    start,
                    include,
                    end,
                });
            }
            match h.kind {
                kind::GET => Pdu::Get(ranges),
                kind::GET_NEXT => Pdu::GetNext(ranges),
                _ => Pdu::GetBulk {
                    non_repeaters,
                    max_repetitions,
                    ranges,
                },
            }
        }
        kind::TEST_SET => Pdu::TestSet,
        kind::COMMIT_SET | kind::UNDO_SET | kind::CLEANUP_SET => Pdu::SetPhase,
        kind::RESPONSE => {
            let _uptime = r.u32()?;
            Pdu::Response {
                error: r.u16()?,
                index: r.u16()?,
            }
        }
        kind::CLOSE => Pdu::Close,
        other => Pdu::Other(other),
    };
    Ok((h, pdu))
}

/// Decodes a varbind list (as in a Response or Notify payload): for tests
/// and tools.
pub fn decode_varbinds(b: &[u8], big: bool) -> Result<Vec<VarBind>, DecodeError> {
    let mut r = Cursor {
        r: Reader { b, big },
        at: 0,
    };
    let mut out = Vec::new();
    while !r.done() {
        let tag = r.u16()?;
        r.u16()?;
        let (name, _) = r.oid()?;
        let value = match tag {
            2 => Value::Integer(r.u32()? as i32),
            4 => Value::OctetString(r.octets()?),
            5 => Value::Null,
            6 => Value::Oid(r.oid()?.0),
            64 => {
                let o = r.octets()?;
                Value::IpAddress(o.try_into().map_err(|_| DecodeError::Truncated)?)
            }
            65 => Value::Counter32(r.u32()?),
            66 => Value::Gauge32(r.u32()?),
            67 => Value::TimeTicks(r.u32()?),
            70 => Value::Counter64(u64::from(r.u32()?) << 32 | u64::from(r.u32()?)),
            128 => Value::NoSuchObject,
            129 => Value::NoSuchInstance,
            130 => Value::EndOfMibView,
            t => return Err(DecodeError::ValueType(t)),
        };
        out.push(VarBind { name, value });
    }
    Ok(out)
}

#[derive(Clone, Copy)]
struct Reader<'a> {
    b: &'a [u8],
    big: bool,
}

impl Reader<'_> {
    fn bytes<const N: usize>(&self, at: usize) -> Result<[u8; N], DecodeError> {
        let end = at.checked_add(N).ok_or(DecodeError::Truncated)?;
        let s = self.b.get(at..end).ok_or(DecodeError::Truncated)?;
        s.try_into().map_err(|_| DecodeError::Truncated)
    }
    fn u8(&self, at: usize) -> Result<u8, DecodeError> {
        self.b.get(at).copied().ok_or(DecodeError::Truncated)
    }
    fn u16(&self, at: usize) -> Result<u16, DecodeError> {
        let b = self.bytes::<2>(at)?;
        Ok(if self.big {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }
    fn u32(&self, at: usize) -> Result<u32, DecodeError> {
        let b = self.bytes::<4>(at)?;
        Ok(if self.big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }
}

struct Cursor<'a> {
    r: Reader<'a>,
    at: usize,
}

impl Cursor<'_> {
    fn done(&self) -> bool {
        self.at >= self.r.b.len()
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        let v = self.r.u8(self.at)?;
        self.at += 1;
        Ok(v)
    }
    fn u16(&mut self) -> Result<u16, DecodeError> {
        let v = self.r.u16(self.at)?;
        self.at += 2;
        Ok(v)
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        let v = self.r.u32(self.at)?;
        self.at += 4;
        Ok(v)
    }
    /// An OID and its `include` byte (RFC 2741 section 5.1).
    fn oid(&mut self) -> Result<(Oid, bool), DecodeError> {
        let n = self.u8()?;
        let prefix = self.u8()?;
        let include = self.u8()? != 0;
        self.u8()?;
        let mut oid = Vec::with_capacity(usize::from(n) + 5);
        if prefix != 0 {
            oid.extend([1, 3, 6, 1, u32::from(prefix)]);
        }
        for _ in 0..n {
            oid.push(self.u32()?);
        }
        Ok((oid, include))
    }
    /// An octet string: length, bytes, padding to 4.
    fn octets(&mut self) -> Result<Vec<u8>, DecodeError> {
        let len = self.u32()? as usize;
        let end = self.at.checked_add(len).ok_or(DecodeError::Truncated)?;
        let s = self.r.b.get(self.at..end).ok_or(DecodeError::Truncated)?;
        self.at = end
            .checked_add((4 - len % 4) % 4)
            .ok_or(DecodeError::Truncated)?;
        Ok(s.to_vec())
    }
}

/// Builds PDUs, always in network byte order.
#[derive(Debug, Default)]
struct Writer(Vec<u8>);

impl Writer {
    fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.0.extend(v.to_be_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.0.extend(v.to_be_bytes());
    }
    fn oid(&mut self, oid: &[u32], include: bool) {
        // At most 128 sub-identifiers (RFC 2578); longer ones are cut
        // rather than mis-encoded.
        let n = oid.len().min(128);
        self.u8(n as u8);
        self.u8(0);
        self.u8(u8::from(include));
        self.u8(0);
        for s in oid.iter().take(n) {
            self.u32(*s);
        }
    }
    fn octets(&mut self, s: &[u8]) {
        self.u32(u32::try_from(s.len()).unwrap_or(u32::MAX));
        self.0.extend(s);
        self.0.extend(std::iter::repeat_n(0, (4 - s.len() % 4) % 4));
    }
    fn varbind(&mut self, vb: &VarBind) {
        self.u16(vb.value.tag());
        self.u16(0);
        self.oid(&vb.name, false);
        match &vb.value {
            Value::Integer(v) => self.u32(*v as u32),
            Value::OctetString(s) => self.octets(s),
            Value::Oid(o) => self.oid(o, false),
            Value::IpAddress(a) => self.octets(a),
            Value::Counter32(v) | Value::Gauge32(v) | Value::TimeTicks(v) => self.u32(*v),
            Value::Counter64(v) => {
                self.u32((v >> 32) as u32);
                self.u32(*v as u32);
            }
            Value::Null | Value::NoSuchObject | Value::NoSuchInstance | Value::EndOfMibView => {}
        }
    }
    /// The whole PDU: header for `h` (its length replaced) and this payload.
    fn finish(self, h: Header) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.0.len());
        out.extend([1, h.kind, FLAG_NETWORK_BYTE_ORDER | (h.flags & 0x07), 0]);
        out.extend(h.session_id.to_be_bytes());
        out.extend(h.transaction_id.to_be_bytes());
        out.extend(h.packet_id.to_be_bytes());
        out.extend(
            u32::try_from(self.0.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        out.extend(self.0);
        out
    }
}

fn header(kind: u8, session_id: u32, packet_id: u32) -> Header {
    Header {
        kind,
        session_id,
        packet_id,
        ..Header::default()
    }
}

/// agentx-Open-PDU: a session with `timeout` seconds, identified by `id`
/// and `descr`.
pub fn open(packet_id: u32, timeout: u8, id: &[u32], descr: &str) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(timeout);
    w.0.extend([0, 0, 0]);
    w.oid(id, false);
    w.octets(descr.as_bytes());
    w.finish(header(kind::OPEN, 0, packet_id))
}

/// agentx-Register-PDU for `subtree` at the default priority (127).
pub fn register(session_id: u32, packet_id: u32, subtree: &[u32]) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(0);
    w.u8(127);
    w.u8(0);
    w.u8(0);
    w.oid(subtree, false);
    w.finish(header(kind::REGISTER, session_id, packet_id))
}

/// agentx-AddAgentCaps-PDU: `id` into the master's sysORTable.
pub fn add_agent_caps(session_id: u32, packet_id: u32, id: &[u32], descr: &str) -> Vec<u8> {
    let mut w = Writer::default();
    w.oid(id, false);
    w.octets(descr.as_bytes());
    w.finish(header(kind::ADD_AGENT_CAPS, session_id, packet_id))
}

/// agentx-Response-PDU answering `to`.
pub fn response(to: &Header, error: u16, index: u16, varbinds: &[VarBind]) -> Vec<u8> {
    let mut w = Writer::default();
    w.u32(0);
    w.u16(error);
    w.u16(index);
    for vb in varbinds {
        w.varbind(vb);
    }
    let h = Header {
        kind: kind::RESPONSE,
        flags: 0,
        payload_len: 0,
        ..*to
    };
    w.finish(h)
}

/// agentx-Notify-PDU with these varbinds (sysUpTime.0 optional, then
/// snmpTrapOID.0, then the objects).
pub fn notify(session_id: u32, packet_id: u32, varbinds: &[VarBind]) -> Vec<u8> {
    let mut w = Writer::default();
    for vb in varbinds {
        w.varbind(vb);
    }
    w.finish(header(kind::NOTIFY, session_id, packet_id))
}

/// agentx-Close-PDU, reason shutdown (5).
pub fn close(session_id: u32, packet_id: u32) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(5);
    w.0.extend([0, 0, 0]);
    w.finish(header(kind::CLOSE, session_id, packet_id))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn response_round_trips_every_value() {
        let to = Header {
            kind: kind::GET,
            session_id: 7,
            transaction_id: 8,
            packet_id: 9,
            ..Header::default()
        };
        let vbs = vec![
            VarBind {
                name: vec![1, 3, 6, 1, 2, 1, 68, 1, 1, 0],
                value: Value::Integer(-2),
            },
            VarBind {
                name: vec![1, 3],
                value: Value::OctetString(vec![0x8e, 0x7d, 0xff]),
            },
            VarBind {
                name: vec![1, 4],
                value: Value::IpAddress([10, 231, 0, 1]),
            },
            VarBind {
                name: vec![1, 5],
                value: Value::Counter64(1 << 40 | 5),
            },
            VarBind {
                name: vec![1, 6],
                value: Value::Oid(vec![1, 3, 6, 1, 4, 1, 9586]),
            },
            VarBind {
                name: vec![1, 7],
                value: Value::EndOfMibView,
            },
        ];
        let bytes = response(&to, 0, 0, &vbs);
        let (h, pdu) = decode(&bytes).unwrap();
        assert_eq!(
            (h.kind, h.session_id, h.transaction_id, h.packet_id),
            (18, 7, 8, 9)
        );
        assert_eq!(pdu, Pdu::Response { error: 0, index: 0 });
        assert_eq!(
            decode_varbinds(&bytes[HEADER_LEN + 8..], true).unwrap(),
            vbs
        );
    }

    #[test]
    fn decodes_a_little_endian_getnext_with_prefix() {
        // RFC 2741 5.1: prefix 2 stands for 1.3.6.1.2; little-endian as a
        // master on x86 may send it.
        let mut b = vec![1, kind::GET_NEXT, 0, 0];
        b.extend(5u32.to_le_bytes());
        b.extend(6u32.to_le_bytes());
        b.extend(7u32.to_le_bytes());
        b.extend(16u32.to_le_bytes());
        b.extend([2, 2, 1, 0]);
        b.extend(1u32.to_le_bytes());
        b.extend(68u32.to_le_bytes());
        b.extend([0, 0, 0, 0]);
        let (h, pdu) = decode(&b).unwrap();
        assert_eq!(h.session_id, 5);
        assert_eq!(
            pdu,
            Pdu::GetNext(vec![SearchRange {
                start: vec![1, 3, 6, 1, 2, 1, 68],
                include: true,
                end: vec![],
            }])
        );
    }

    #[test]
    fn open_is_rfc_2741_layout() {
        let b = open(1, 3, &[1, 3], "ab");
        assert_eq!(
            b,
            [
                1, 1, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 24, // header
                3, 0, 0, 0, // timeout, reserved
                2, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, // OID 1.3
                0, 0, 0, 2, b'a', b'b', 0, 0, // descr
            ]
        );
    }

    #[test]
    fn no_panic_on_any_prefix_or_junk() {
        let b = register(3, 4, &[1, 3, 6, 1, 2, 1, 68]);
        for n in 0..b.len() {
            let _ = decode(&b[..n]);
        }
        // A deterministic spread of junk, every byte value at each place.
        let mut x: u32 = 1;
        for _ in 0..20_000 {
            let mut junk = vec![1u8, 0, 0, 0];
            for _ in 0..40 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                junk.push(x as u8);
            }
            junk[1] = (x % 20) as u8;
            let _ = decode(&junk);
            let _ = decode_varbinds(&junk, x & 1 == 0);
        }
    }
}
