//! The VRRP message: RFC 3768 section 5 (version 2) for IPv4 and RFC 9568
//! section 5 (version 3) for IPv4 and IPv6.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |Version| Type  | Virtual Rtr ID|   Priority    | Count IP Addrs|
//! |   Auth Type   |   Adver Int   |          Checksum             |
//! |                 IP Address (1..Count)                         |
//! |                     Authentication Data (1)                   |
//! |                     Authentication Data (2)                   |
//! ```
//!
//! VRRPv3 (RFC 9568) reuses the first word, replaces bytes 4..6 with 4
//! reserved bits and a 12-bit Max Advertise Interval in centiseconds, drops
//! the authentication data, carries 4-byte (IPv4) or 16-byte (IPv6)
//! addresses and adds the IP pseudo-header to the checksum:
//!
//! ```text
//! |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//! |(rsvd) |     Max Adver Int     |          Checksum             |
//! |                 IPvX Address(es) (1..Count)                   |
//! ```

use core::net::Ipv4Addr;

use super::checksum;
use super::reason::DropReason;
use super::v3::Family;

/// Length of the fixed part (first two words).
pub const HEADER_LEN: usize = 8;
/// Length of the VRRPv2 authentication data trailer.
pub const AUTH_DATA_LEN: usize = 8;
/// Version 2.
pub const VERSION_2: u8 = 2;
/// Version 3.
pub const VERSION_3: u8 = 3;
/// The largest VRRPv3 Max Advertise Interval (12 bits, centiseconds).
pub const MAX_ADVER_INT_V3: u16 = 0x0fff;
/// Type ADVERTISEMENT, the only one defined.
pub const TYPE_ADVERTISEMENT: u8 = 1;

mod field {
    use core::ops::Range;
    pub(super) const VER_TYPE: usize = 0;
    pub(super) const VRID: usize = 1;
    pub(super) const PRIORITY: usize = 2;
    pub(super) const COUNT: usize = 3;
    pub(super) const AUTH_TYPE: usize = 4;
    pub(super) const ADVER_INT: usize = 5;
    pub(super) const MAX_ADVER_INT: Range<usize> = 4..6;
    pub(super) const CHECKSUM: Range<usize> = 6..8;
}

/// The VRRPv2 authentication type field (RFC 3768 section 5.3.6; 2 is the
/// historic IP Authentication Header type keepalived still uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AuthType {
    /// 0: no authentication.
    None,
    /// 1: simple text password (8 bytes in the authentication data).
    Pass,
    /// 2: IPsec AH (HMAC-MD5-96) in front of the VRRP message.
    Ah,
    /// Any other value.
    Unknown(u8),
}

impl AuthType {
    /// Wire value.
    pub fn to_u8(self) -> u8 {
        match self {
            AuthType::None => 0,
            AuthType::Pass => 1,
            AuthType::Ah => 2,
            AuthType::Unknown(v) => v,
        }
    }

    /// Decodes a wire value.
    pub fn from_u8(v: u8) -> AuthType {
        match v {
            0 => AuthType::None,
            1 => AuthType::Pass,
            2 => AuthType::Ah,
            v => AuthType::Unknown(v),
        }
    }

    /// Lower-case name: "none", "pass", "ah" or "unknown".
    pub fn as_str(self) -> &'static str {
        match self {
            AuthType::None => "none",
            AuthType::Pass => "pass",
            AuthType::Ah => "ah",
            AuthType::Unknown(_) => "unknown",
        }
    }
}

/// A read/write view of a VRRP message at the start of a buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checks; accessors may panic on a short buffer.
    pub const fn new_unchecked(buffer: T) -> Self {
        Packet { buffer }
    }

    /// Wraps a buffer holding at least the fixed [`HEADER_LEN`] bytes. The
    /// length against the address count is checked by
    /// [`Packet::check_len_v2`], once the version is known.
    pub fn new_checked(buffer: T) -> Result<Self, DropReason> {
        if buffer.as_ref().len() < HEADER_LEN {
            return Err(DropReason::Truncated);
        }
        Ok(Packet { buffer })
    }

    /// Checks that the buffer is exactly a VRRPv2 message for its count:
    /// 8 + 4 * count + 8 bytes.
    pub fn check_len_v2(&self) -> Result<(), DropReason> {
        if self.buffer.as_ref().len() == v2_len(self.addr_count()) {
            Ok(())
        } else {
            Err(DropReason::BadLength)
        }
    }

    /// Checks that the buffer is exactly a message of the version it claims
    /// for its count: [`v2_len`] for version 2 over IPv4, [`v3_len`]
    /// otherwise, with `addr_len`-byte addresses (4 or 16).
    pub fn check_len(&self, addr_len: usize) -> Result<(), DropReason> {
        let count = self.addr_count();
        let want = if self.version() == VERSION_2 && addr_len == 4 {
            v2_len(count)
        } else {
            v3_len(count, addr_len)
        };
        if self.buffer.as_ref().len() == want {
            Ok(())
        } else {
            Err(DropReason::BadLength)
        }
    }

    /// VRRPv3 Max Advertise Interval in centiseconds (the low 12 bits of
    /// bytes 4..6; the reserved bits are ignored, RFC 9568 section 5.2.7).
    pub fn max_adver_int(&self) -> u16 {
        let b = self.buffer.as_ref();
        let r = field::MAX_ADVER_INT;
        u16::from_be_bytes([b[r.start], b[r.start + 1]]) & MAX_ADVER_INT_V3
    }

    /// True if the checksum verifies over the message and the pseudo-header
    /// accumulator `pseudo` ([`checksum::pseudo_header_v4`] or
    /// [`checksum::pseudo_header_v6`]; 0 for VRRPv2).
    pub fn verify_checksum_with(&self, pseudo: u64) -> bool {
        checksum::finish(checksum::sum(pseudo, self.buffer.as_ref())) == 0
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    /// Version (high nibble of the first byte).
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] >> 4
    }

    /// Type (low nibble of the first byte).
    pub fn msg_type(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TYPE] & 0x0f
    }

    /// Virtual router id.
    pub fn vrid(&self) -> u8 {
        self.buffer.as_ref()[field::VRID]
    }

    /// Priority (0 = the master is leaving, 255 = address owner).
    pub fn priority(&self) -> u8 {
        self.buffer.as_ref()[field::PRIORITY]
    }

    /// Count of IPv4 addresses.
    pub fn addr_count(&self) -> u8 {
        self.buffer.as_ref()[field::COUNT]
    }

    /// VRRPv2 auth type.
    pub fn auth_type(&self) -> AuthType {
        AuthType::from_u8(self.buffer.as_ref()[field::AUTH_TYPE])
    }

    /// VRRPv2 advertisement interval in seconds.
    pub fn adver_int_v2(&self) -> u8 {
        self.buffer.as_ref()[field::ADVER_INT]
    }

    /// Checksum field.
    pub fn checksum(&self) -> u16 {
        let b = self.buffer.as_ref();
        u16::from_be_bytes([b[field::CHECKSUM.start], b[field::CHECKSUM.start + 1]])
    }

    /// True if the VRRPv2 checksum (whole message, no pseudo-header)
    /// verifies.
    pub fn verify_checksum_v2(&self) -> bool {
        checksum::checksum(self.buffer.as_ref()) == 0
    }

    /// The address list (4 bytes per address). Before
    /// [`Packet::check_len_v2`] has passed, a count larger than the buffer
    /// yields only the whole addresses present.
    pub fn addresses(&self) -> Addresses<'_> {
        let n = usize::from(self.addr_count()) * 4;
        let b = self.buffer.as_ref();
        let end = b.len().min(HEADER_LEN + n);
        Addresses::from_bytes(b.get(HEADER_LEN..end).unwrap_or(&[]))
    }

    /// The VRRPv2 authentication data (the last 8 bytes).
    pub fn auth_data(&self) -> &[u8] {
        let b = self.buffer.as_ref();
        &b[b.len() - AUTH_DATA_LEN..]
    }
}

/// Length of a VRRPv2 message with `count` addresses.
pub const fn v2_len(count: u8) -> usize {
    HEADER_LEN + 4 * count as usize + AUTH_DATA_LEN
}

/// Length of a VRRPv3 message with `count` addresses of `addr_len` bytes.
pub const fn v3_len(count: u8, addr_len: usize) -> usize {
    HEADER_LEN + addr_len * count as usize
}

/// The address list of a received message: 4 bytes per address, borrowed.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Addresses<'a>(&'a [u8]);

impl<'a> Addresses<'a> {
    /// Wraps raw bytes; a trailing partial address is ignored.
    pub fn from_bytes(bytes: &'a [u8]) -> Self {
        Addresses(&bytes[..bytes.len() / 4 * 4])
    }

    /// Number of addresses.
    pub fn len(&self) -> usize {
        self.0.len() / 4
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// True if `addr` is in the list.
    pub fn contains(&self, addr: Ipv4Addr) -> bool {
        let o = addr.octets();
        self.0.chunks_exact(4).any(|c| c == o)
    }

    /// Iterates over the addresses in packet order.
    pub fn iter(&self) -> AddressIter<'a> {
        AddressIter(self.0.chunks_exact(4))
    }
}

impl core::fmt::Debug for Addresses<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for Addresses<'a> {
    type Item = Ipv4Addr;
    type IntoIter = AddressIter<'a>;
    fn into_iter(self) -> AddressIter<'a> {
        self.iter()
    }
}

/// Iterator over [`Addresses`].
#[derive(Debug, Clone)]
pub struct AddressIter<'a>(core::slice::ChunksExact<'a, u8>);

impl Iterator for AddressIter<'_> {
    type Item = Ipv4Addr;
    fn next(&mut self) -> Option<Ipv4Addr> {
        self.0.next().map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.0.size_hint()
    }
}

impl ExactSizeIterator for AddressIter<'_> {}

/// The fixed fields of an owned VRRPv2 message (addresses and
/// authentication data are passed to [`Repr::emit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Repr {
    /// Virtual router id.
    pub vrid: u8,
    /// Priority.
    pub priority: u8,
    /// Auth type field.
    pub auth_type: AuthType,
    /// Advertisement interval in seconds.
    pub adver_int: u8,
}

impl Repr {
    /// Reads a checked packet's fixed fields.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> Repr {
        Repr {
            vrid: p.vrid(),
            priority: p.priority(),
            auth_type: p.auth_type(),
            adver_int: p.adver_int_v2(),
        }
    }

    /// Bytes [`Repr::emit`] writes for `count` addresses.
    pub const fn buffer_len(count: u8) -> usize {
        v2_len(count)
    }

    /// Writes a whole VRRPv2 message (version 2, type 1, the addresses, the
    /// authentication data, the checksum) into `buf[..v2_len(n)]`.
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than that (a caller bug). More than 255
    /// addresses are cut to 255 so the count stays consistent;
    /// [`crate::wire::encode`] rejects them instead.
    pub fn emit(&self, addrs: &[Ipv4Addr], auth_data: &[u8; AUTH_DATA_LEN], buf: &mut [u8]) {
        let addrs = &addrs[..addrs.len().min(255)];
        let n = addrs.len();
        let b = &mut buf[..HEADER_LEN + 4 * n + AUTH_DATA_LEN];
        b[field::VER_TYPE] = (VERSION_2 << 4) | TYPE_ADVERTISEMENT;
        b[field::VRID] = self.vrid;
        b[field::PRIORITY] = self.priority;
        b[field::COUNT] = n as u8;
        b[field::AUTH_TYPE] = self.auth_type.to_u8();
        b[field::ADVER_INT] = self.adver_int;
        b[field::CHECKSUM].fill(0);
        for (chunk, a) in b[HEADER_LEN..].chunks_exact_mut(4).zip(addrs) {
            chunk.copy_from_slice(&a.octets());
        }
        b[HEADER_LEN + 4 * n..].copy_from_slice(auth_data);
        let c = checksum::checksum(b);
        b[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }
}

/// The fixed fields of an owned VRRPv3 message (the addresses are passed
/// to [`ReprV3::emit`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReprV3 {
    /// Virtual router id.
    pub vrid: u8,
    /// Priority.
    pub priority: u8,
    /// Max Advertise Interval in centiseconds; bits above the 12 the field
    /// holds are dropped (the reserved bits are sent as zero).
    pub max_adver_int: u16,
}

impl ReprV3 {
    /// Reads a checked packet's fixed fields.
    pub fn parse<T: AsRef<[u8]>>(p: &Packet<T>) -> ReprV3 {
        ReprV3 {
            vrid: p.vrid(),
            priority: p.priority(),
            max_adver_int: p.max_adver_int(),
        }
    }

    /// Writes a whole VRRPv3 message (version 3, type 1, the addresses, the
    /// checksum over `pseudo` and the message) into
    /// `buf[..v3_len(n, A::LEN)]`.
    ///
    /// # Panics
    ///
    /// If `buf` is shorter than that (a caller bug). More than 255
    /// addresses are cut to 255 so the count stays consistent;
    /// the encoders reject them instead.
    pub fn emit<A: Family>(&self, addrs: &[A], pseudo: u64, buf: &mut [u8]) {
        let addrs = &addrs[..addrs.len().min(255)];
        let n = addrs.len();
        let b = &mut buf[..HEADER_LEN + A::LEN * n];
        b[field::VER_TYPE] = (VERSION_3 << 4) | TYPE_ADVERTISEMENT;
        b[field::VRID] = self.vrid;
        b[field::PRIORITY] = self.priority;
        b[field::COUNT] = n as u8;
        let int = self.max_adver_int & MAX_ADVER_INT_V3;
        b[field::MAX_ADVER_INT].copy_from_slice(&int.to_be_bytes());
        b[field::CHECKSUM].fill(0);
        for (chunk, a) in b[HEADER_LEN..].chunks_exact_mut(A::LEN).zip(addrs) {
            a.write_octets(chunk);
        }
        let c = checksum::finish(checksum::sum(pseudo, b));
        b[field::CHECKSUM].copy_from_slice(&c.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emit_then_parse() {
        let r = Repr {
            vrid: 51,
            priority: 150,
            auth_type: AuthType::Pass,
            adver_int: 1,
        };
        let addrs = [Ipv4Addr::new(10, 0, 0, 100), Ipv4Addr::new(10, 0, 0, 101)];
        let mut b = [0xeeu8; 24];
        r.emit(&addrs, b"secret1\0", &mut b);
        let p = Packet::new_checked(&b[..]).expect("fixed header present");
        p.check_len_v2().expect("length matches count");
        assert_eq!((p.version(), p.msg_type()), (2, 1));
        assert!(p.verify_checksum_v2());
        assert_eq!(Repr::parse(&p), r);
        assert_eq!(p.addresses().iter().collect::<Vec<_>>(), addrs);
        assert!(p.addresses().contains(addrs[1]));
        assert_eq!(p.auth_data(), b"secret1\0");
    }

    #[test]
    fn accessors_of_a_checked_packet_never_panic_on_a_wrong_count() {
        // new_checked only guarantees the fixed header: a count of 255 in a
        // 12-byte message must not slice past the end.
        let mut b = [0u8; 12];
        b[field::COUNT] = 255;
        b[HEADER_LEN..].copy_from_slice(&[10, 0, 0, 1]);
        let p = Packet::new_checked(&b[..]).expect("fixed header present");
        assert_eq!(p.check_len_v2(), Err(DropReason::BadLength));
        assert_eq!(
            p.addresses().iter().collect::<Vec<_>>(),
            [Ipv4Addr::new(10, 0, 0, 1)]
        );
        assert_eq!(p.auth_data(), &b[4..]);
        let p = Packet::new_checked(&b[..HEADER_LEN]).expect("fixed header present");
        assert!(p.addresses().is_empty());
    }

    #[test]
    fn auth_type_round_trips() {
        for v in 0..=255u8 {
            assert_eq!(AuthType::from_u8(v).to_u8(), v);
        }
    }

    #[test]
    fn v3_emit_then_parse() {
        let r = ReprV3 {
            vrid: 51,
            priority: 150,
            max_adver_int: 0xf005, // reserved bits dropped
        };
        let addrs = [Ipv4Addr::new(10, 0, 0, 100)];
        let mut b = [0xeeu8; 13];
        r.emit(&addrs, 0, &mut b);
        assert_eq!(
            b,
            [0x31, 51, 150, 1, 0x00, 0x05, 0x2e, 0x62, 10, 0, 0, 100, 0xee]
        );
        let p = Packet::new_checked(&b[..12]).expect("fixed header present");
        assert_eq!(p.check_len(4), Ok(()));
        assert_eq!(p.check_len(16), Err(DropReason::BadLength));
        assert!(p.verify_checksum_with(0));
        assert_eq!(
            ReprV3::parse(&p),
            ReprV3 {
                max_adver_int: 5,
                ..r
            }
        );
    }

    #[test]
    fn reserved_interval_bits_are_ignored_on_receive() {
        let b = [0x31, 1, 100, 0, 0xf0, 0x64, 0, 0];
        let p = Packet::new_checked(&b[..]).expect("fixed header present");
        assert_eq!(p.max_adver_int(), 100);
    }
}
