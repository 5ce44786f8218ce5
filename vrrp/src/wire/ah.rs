//! The IPsec Authentication Header (RFC 4302 section 2) in the only shape
//! keepalived uses: HMAC-MD5-96, so a 24-byte header with a 12-byte ICV.

use super::reason::DropReason;

/// Length of the AH header with a 96-bit ICV.
pub const HEADER_LEN: usize = 24;
/// Length of the HMAC-MD5-96 ICV.
pub const ICV_LEN: usize = 12;
/// Payload length field for a 12-byte ICV: (24 / 4) - 2.
pub const PAYLOAD_LEN_FIELD: u8 = 4;

mod field {
    use core::ops::Range;
    pub(super) const NEXT_HEADER: usize = 0;
    pub(super) const PAYLOAD_LEN: usize = 1;
    pub(super) const RESERVED: Range<usize> = 2..4;
    pub(super) const SPI: Range<usize> = 4..8;
    pub(super) const SEQ: Range<usize> = 8..12;
    pub(super) const ICV: Range<usize> = 12..24;
}

/// Offset of the ICV inside the AH header (for masking before hashing).
pub(crate) const ICV_RANGE: core::ops::Range<usize> = field::ICV;

/// A read/write view of an AH header at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

fn be32(b: &[u8], r: core::ops::Range<usize>) -> u32 {
    u32::from_be_bytes([b[r.start], b[r.start + 1], b[r.start + 2], b[r.start + 3]])
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checks; accessors may panic on a buffer
    /// shorter than [`HEADER_LEN`].
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wraps the IP payload after checking it holds a whole 24-byte header
    /// whose payload length field says so ([`PAYLOAD_LEN_FIELD`]).
    pub fn new_checked(buffer: T) -> Result<Self, DropReason> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(DropReason::Truncated);
        }
        let p = Packet { buffer };
        if p.payload_len_field() != PAYLOAD_LEN_FIELD {
            return Err(DropReason::BadAhLength);
        }
        Ok(p)
    }

    /// Next header (112 for VRRP).
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_HEADER]
    }

    /// Payload length field, in 32-bit words minus 2.
    pub fn payload_len_field(&self) -> u8 {
        self.buffer.as_ref()[field::PAYLOAD_LEN]
    }

    /// Security parameters index; keepalived puts the sender's IPv4 source
    /// address here (network byte order, so `spi.to_be_bytes()` are the
    /// address octets).
    pub fn spi(&self) -> u32 {
        be32(self.buffer.as_ref(), field::SPI)
    }

    /// Sequence number.
    pub fn seq(&self) -> u32 {
        be32(self.buffer.as_ref(), field::SEQ)
    }

    /// The integrity check value.
    pub fn icv(&self) -> &[u8] {
        &self.buffer.as_ref()[field::ICV]
    }

    /// The bytes after the header (the VRRP message).
    pub fn payload(&self) -> &[u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

/// An owned AH header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Next header (112 for VRRP).
    pub next_header: u8,
    /// Security parameters index.
    pub spi: u32,
    /// Sequence number.
    pub seq: u32,
    /// Integrity check value (zero while the ICV is being computed).
    pub icv: [u8; ICV_LEN],
}

impl Repr {
    /// Reads a checked packet.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Repr {
        let mut icv = [0; ICV_LEN];
        icv.copy_from_slice(p.icv());
        Repr {
            next_header: p.next_header(),
            spi: p.spi(),
            seq: p.seq(),
            icv,
        }
    }

    /// Bytes [`Repr::emit`] writes: always [`HEADER_LEN`].
    pub const fn buffer_len(&self) -> usize {
        HEADER_LEN
    }

    /// Writes all 24 header bytes into `buf[..24]` (reserved bytes zero).
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than [`HEADER_LEN`] (a caller bug).
    pub fn emit(&self, buf: &mut [u8]) {
        let b = &mut buf[..HEADER_LEN];
        b[field::NEXT_HEADER] = self.next_header;
        b[field::PAYLOAD_LEN] = PAYLOAD_LEN_FIELD;
        b[field::RESERVED].fill(0);
        b[field::SPI].copy_from_slice(&self.spi.to_be_bytes());
        b[field::SEQ].copy_from_slice(&self.seq.to_be_bytes());
        b[field::ICV].copy_from_slice(&self.icv);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_then_parse() {
        let r = Repr {
            next_header: 112,
            spi: 0x0a00_0001,
            seq: 3,
            icv: [7; ICV_LEN],
        };
        let mut b = [0xffu8; 30];
        r.emit(&mut b);
        assert_eq!(&b[..12], &[112, 4, 0, 0, 10, 0, 0, 1, 0, 0, 0, 3]);
        let p = Packet::new_checked(&b[..]).expect("valid AH");
        assert_eq!(Repr::parse(&p), r);
        assert_eq!(p.payload().len(), 6);
    }

    #[test]
    fn checked_rejections() {
        let b = [
            112u8, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        assert_eq!(
            Packet::new_checked(&b[..]).err(),
            Some(DropReason::Truncated)
        );
        let mut c = [0u8; 24];
        c[1] = 5;
        assert_eq!(
            Packet::new_checked(&c[..]).err(),
            Some(DropReason::BadAhLength)
        );
    }
}
