//! The IPv4 header (RFC 791): a zero-copy [`Packet`] view and an owned
//! [`Repr`]. Options are honoured on receive (skipped via IHL, covered by
//! the checksum and by the AH ICV) and never emitted.

use core::net::Ipv4Addr;

use super::checksum;
use super::reason::DropReason;

/// Length of an IPv4 header without options.
pub const HEADER_LEN: usize = 20;

/// Type of service keepalived sends: precedence "internetwork control".
pub const TOS_INTERNETWORK_CONTROL: u8 = 0xc0;

mod field {
    use core::ops::Range;
    pub(super) const VER_IHL: usize = 0;
    pub(super) const TOS: usize = 1;
    pub(super) const LENGTH: Range<usize> = 2..4;
    pub(super) const IDENT: Range<usize> = 4..6;
    pub(super) const FLG_OFF: Range<usize> = 6..8;
    pub(super) const TTL: usize = 8;
    pub(super) const PROTOCOL: usize = 9;
    pub(super) const CHECKSUM: Range<usize> = 10..12;
    pub(super) const SRC: Range<usize> = 12..16;
    pub(super) const DST: Range<usize> = 16..20;
}

/// A read/write view of an IPv4 header at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn be16(b: &[u8], r: core::ops::Range<usize>) -> u16 {
    u16::from_be_bytes([b[r.start], b[r.start + 1]])
}

fn addr(b: &[u8], r: core::ops::Range<usize>) -> Ipv4Addr {
    let mut o = [0; 4];
    o.copy_from_slice(&b[r]);
    Ipv4Addr::from(o)
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checks; accessors may panic if it is shorter
    /// than [`HEADER_LEN`] (or the IHL). Use [`Packet::new_checked`] for
    /// untrusted input.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wraps a whole received datagram after checking, in this order: at
    /// least 20 bytes, version 4, 5 <= IHL and IHL within the buffer, total
    /// length equal to the buffer length. After this every accessor is safe.
    pub fn new_checked(buffer: T) -> Result<Self, DropReason> {
        let b = buffer.as_ref();
        if b.len() < HEADER_LEN {
            return Err(DropReason::Truncated);
        }
        let p = Packet { buffer };
        if p.version() != 4 {
            return Err(DropReason::BadIpVersion);
        }
        let hl = p.header_len();
        if hl < HEADER_LEN || hl > p.buffer.as_ref().len() {
            return Err(DropReason::BadIpHeaderLen);
        }
        if usize::from(p.total_len()) != p.buffer.as_ref().len() {
            return Err(DropReason::BadIpLength);
        }
        Ok(p)
    }

    /// Returns the underlying buffer.
    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// IP version (4 for a valid header).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL * 4), options included.
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// Type of service / DSCP+ECN byte.
    pub fn tos(&self) -> u8 {
        self.buffer.as_ref()[field::TOS]
    }

    /// Total length field.
    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), field::LENGTH)
    }

    /// Identification field.
    pub fn ident(&self) -> u16 {
        be16(self.buffer.as_ref(), field::IDENT)
    }

    /// True if "more fragments" is set or the fragment offset is non-zero.
    pub fn is_fragment(&self) -> bool {
        be16(self.buffer.as_ref(), field::FLG_OFF) & 0x3fff != 0
    }

    /// Time to live.
    pub fn ttl(&self) -> u8 {
        self.buffer.as_ref()[field::TTL]
    }

    /// Protocol of the payload (112 VRRP, 51 AH).
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    /// Header checksum field.
    pub fn checksum(&self) -> u16 {
        be16(self.buffer.as_ref(), field::CHECKSUM)
    }

    /// Source address.
    pub fn src_addr(&self) -> Ipv4Addr {
        addr(self.buffer.as_ref(), field::SRC)
    }

    /// Destination address.
    pub fn dst_addr(&self) -> Ipv4Addr {
        addr(self.buffer.as_ref(), field::DST)
    }

    /// True if the header checksum (options included) verifies.
    pub fn verify_checksum(&self) -> bool {
        checksum::checksum(&self.buffer.as_ref()[..self.header_len()]) == 0
    }

    /// The header bytes, options included.
    pub fn header(&self) -> &[u8] {
        &self.buffer.as_ref()[..self.header_len()]
    }

    /// The payload: from the end of the header to the end of the buffer.
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    /// Recomputes and stores the header checksum.
    pub fn fill_checksum(&mut self) {
        let hl = self.header_len();
        let b = self.buffer.as_mut();
        b[field::CHECKSUM].fill(0);
        let c = checksum::checksum(&b[..hl]);
        b[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }

    /// The payload, mutable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let hl = self.header_len();
        &mut self.buffer.as_mut()[hl..]
    }
}

/// An owned IPv4 header as VRRP uses it: no options, never fragmented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address (224.0.0.18 or a unicast peer).
    pub dst: Ipv4Addr,
    /// Payload protocol.
    pub protocol: u8,
    /// Time to live.
    pub ttl: u8,
    /// Type of service byte.
    pub tos: u8,
    /// Identification.
    pub ident: u16,
    /// Payload length in bytes (the total length minus the header).
    pub payload_len: usize,
}

impl Repr {
    /// Reads a checked packet. Options are skipped (not represented).
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Repr {
        Repr {
            src: p.src_addr(),
            dst: p.dst_addr(),
            protocol: p.protocol(),
            ttl: p.ttl(),
            tos: p.tos(),
            ident: p.ident(),
            payload_len: usize::from(p.total_len()).saturating_sub(p.header_len()),
        }
    }

    /// Bytes [`Repr::emit`] writes: always [`HEADER_LEN`].
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes all 20 header bytes (flags and offset zero, checksum filled).
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than [`HEADER_LEN`] (a caller bug, never input
    /// dependent; [`crate::wire::encode`] sizes its buffers first).
    pub fn emit(&self, buf: &mut [u8]) {
        self.emit_unchecksummed(buf);
        let c = checksum::checksum(&buf[..HEADER_LEN]);
        buf[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }

    /// [`Repr::emit`] with the checksum left zero (for computing an AH ICV).
    pub(crate) fn emit_unchecksummed(&self, buf: &mut [u8]) {
        let total = (HEADER_LEN + self.payload_len) as u16;
        let b = &mut buf[..HEADER_LEN];
        b[field::VER_IHL] = 0x45;
        b[field::TOS] = self.tos;
        b[field::LENGTH].copy_from_slice(&total.to_be_bytes());
        b[field::IDENT].copy_from_slice(&self.ident.to_be_bytes());
        b[field::FLG_OFF].fill(0);
        b[field::TTL] = self.ttl;
        b[field::PROTOCOL] = self.protocol;
        b[field::CHECKSUM].fill(0);
        b[field::SRC].copy_from_slice(&self.src.octets());
        b[field::DST].copy_from_slice(&self.dst.octets());
    }
}

/// Copies an IPv4 header (options included) into the front of `out` with
/// the fields AH treats as mutable zeroed the way keepalived does: TOS,
/// flags+offset and checksum always, TTL only for unicast. Returns the
/// copied length. `header` is at least 20 bytes; `out` is at least as long
/// (60 bytes covers any IHL).
pub(crate) fn mask_mutable(header: &[u8], zero_ttl: bool, out: &mut [u8]) -> usize {
    let n = header.len().min(out.len());
    out[..n].copy_from_slice(&header[..n]);
    out[field::TOS] = 0;
    out[field::FLG_OFF].fill(0);
    out[field::CHECKSUM].fill(0);
    if zero_ttl {
        out[field::TTL] = 0;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> [u8; 24] {
        let mut b = [0u8; 24];
        Repr {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: Ipv4Addr::new(224, 0, 0, 18),
            protocol: 112,
            ttl: 255,
            tos: TOS_INTERNETWORK_CONTROL,
            ident: 7,
            payload_len: 4,
        }
        .emit(&mut b);
        b
    }

    #[test]
    fn emit_then_parse() {
        let b = sample();
        let p = Packet::new_checked(&b[..]).expect("valid header");
        assert!(p.verify_checksum());
        let r = Repr::parse(&p);
        assert_eq!(r.ident, 7);
        assert_eq!(r.payload_len, 4);
        assert_eq!(p.header_len(), 20);
        assert_eq!(p.payload().len(), 4);
    }

    #[test]
    fn checked_rejections() {
        let b = sample();
        assert_eq!(
            Packet::new_checked(&b[..19]).err(),
            Some(DropReason::Truncated)
        );
        let mut v = b;
        v[0] = 0x65;
        assert_eq!(
            Packet::new_checked(&v[..]).err(),
            Some(DropReason::BadIpVersion)
        );
        v[0] = 0x44;
        assert_eq!(
            Packet::new_checked(&v[..]).err(),
            Some(DropReason::BadIpHeaderLen)
        );
        v[0] = 0x47; // 28 bytes of header in a 24-byte buffer
        assert_eq!(
            Packet::new_checked(&v[..]).err(),
            Some(DropReason::BadIpHeaderLen)
        );
        assert_eq!(
            Packet::new_checked(&b[..23]).err(),
            Some(DropReason::BadIpLength)
        );
    }

    #[test]
    fn mask_zeroes_mutable_fields_only() {
        let mut b = sample();
        b[6] = 0x40; // DF
        let mut out = [0xaa; 60];
        let n = mask_mutable(&b[..20], false, &mut out);
        assert_eq!(n, 20);
        assert_eq!((out[1], out[6], out[7], out[10], out[11]), (0, 0, 0, 0, 0));
        assert_eq!(out[8], 255);
        assert_eq!(&out[12..20], &b[12..20]);
        mask_mutable(&b[..20], true, &mut out);
        assert_eq!(out[8], 0);
    }
}
