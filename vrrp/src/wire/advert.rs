//! The two entry points a router uses: [`decode`] validates a whole
//! received IPv4 datagram and [`encode`] writes one.

use core::net::Ipv4Addr;

use hmac::Mac;

use super::auth::{icv_eq, truncate, AhKey, AhReplay, AuthConfig, TxCounters};
use super::reason::DropReason;
use super::vrrp::{self as vrrp_wire, AuthType};
use super::{ah, ipv4, IPPROTO_AH, IPPROTO_VRRP, VRRP_TTL};

/// What the receiver expects, beyond the fixed protocol rules.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecvOptions<'a> {
    /// Only accept this VRID ([`DropReason::VridMismatch`] otherwise).
    pub vrid: Option<u8>,
    /// The router has unicast peers: like keepalived, skip the TTL = 255
    /// check, zero the TTL when computing the AH ICV, and require a unicast
    /// destination (a multicast one without this flag).
    pub unicast: bool,
    /// Only accept this advertisement interval, in the packet's unit
    /// (seconds for VRRPv2) ([`DropReason::AdverIntMismatch`] otherwise).
    pub adver_int: Option<u16>,
    /// Only accept exactly these virtual addresses, in any order
    /// ([`DropReason::AddressMismatch`] otherwise).
    pub addresses: Option<&'a [Ipv4Addr]>,
}

/// A validated advertisement, borrowing the datagram it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Advert<'a> {
    /// IPv4 source address (the sending router).
    pub src: Ipv4Addr,
    /// IPv4 destination address.
    pub dst: Ipv4Addr,
    /// IPv4 time to live.
    pub ttl: u8,
    /// IPv4 identification.
    pub ip_id: u16,
    /// VRRP version (2).
    pub version: u8,
    /// Virtual router id.
    pub vrid: u8,
    /// Priority.
    pub priority: u8,
    /// Advertisement interval in the version's unit: seconds for VRRPv2
    /// (VRRPv3 adverts are [`super::AdvertV3`], in centiseconds).
    pub adver_int: u16,
    /// Authentication used.
    pub auth_type: AuthType,
    /// AH sequence number, for AH adverts.
    pub ah_seq: Option<u32>,
    /// The virtual addresses.
    pub addresses: vrrp_wire::Addresses<'a>,
}

impl Advert<'_> {
    /// The advertisement interval in centiseconds, whatever the version.
    pub fn adver_int_centis(&self) -> u32 {
        match self.version {
            vrrp_wire::VERSION_2 => u32::from(self.adver_int) * 100,
            _ => u32::from(self.adver_int),
        }
    }
}

/// Decodes and validates a whole IPv4 datagram as a raw socket delivers it
/// (IP header included, its length equal to the IP total length).
///
/// Checks run in the order of [`DropReason`]'s variants. On success with AH
/// the sequence number is recorded in `replay`; a rejected datagram never
/// changes `replay`. Never panics and never allocates.
pub fn decode<'a>(
    datagram: &'a [u8],
    opts: &RecvOptions<'_>,
    auth: &AuthConfig,
    replay: &mut AhReplay,
) -> Result<Advert<'a>, DropReason> {
    let ip = ipv4::Packet::new_checked(datagram)?;
    if !ip.verify_checksum() {
        return Err(DropReason::BadIpChecksum);
    }
    if ip.is_fragment() {
        return Err(DropReason::Fragment);
    }
    // Slice `datagram` itself so the advert can borrow it.
    let ip_payload: &'a [u8] = &datagram[ip.header_len()..];
    let (ah_pkt, body) = match ip.protocol() {
        IPPROTO_VRRP => (None, ip_payload),
        IPPROTO_AH => {
            let a = ah::Packet::new_checked(ip_payload)?;
            if a.next_header() != IPPROTO_VRRP {
                return Err(DropReason::BadAhNextHeader);
            }
            (Some(a), &ip_payload[ah::HEADER_LEN..])
        }
        _ => return Err(DropReason::BadProtocol),
    };
    let v = vrrp_wire::Packet::new_checked(body)?;
    v.check_len_v2()?;
    if !opts.unicast && ip.ttl() != VRRP_TTL {
        return Err(DropReason::BadTtl);
    }
    if ip.dst_addr().is_multicast() == opts.unicast {
        return Err(DropReason::BadDestination);
    }
    if v.version() != vrrp_wire::VERSION_2 {
        return Err(DropReason::BadVersion);
    }
    if v.msg_type() != vrrp_wire::TYPE_ADVERTISEMENT {
        return Err(DropReason::BadType);
    }
    if !v.verify_checksum_v2() {
        return Err(DropReason::BadChecksum);
    }
    if opts.vrid.is_some_and(|id| id != v.vrid()) {
        return Err(DropReason::VridMismatch);
    }
    let ah_seq = check_auth(&ip, ah_pkt.as_ref(), &v, opts.unicast, auth, replay)?;
    if opts
        .adver_int
        .is_some_and(|i| i != u16::from(v.adver_int_v2()))
    {
        return Err(DropReason::AdverIntMismatch);
    }
    if let Some(want) = opts.addresses {
        let got = v.addresses();
        if got.len() != want.len() || !want.iter().all(|a| got.contains(*a)) {
            return Err(DropReason::AddressMismatch);
        }
    }
    if let Some(seq) = ah_seq {
        replay.accept(seq);
    }
    Ok(Advert {
        src: ip.src_addr(),
        dst: ip.dst_addr(),
        ttl: ip.ttl(),
        ip_id: ip.ident(),
        version: v.version(),
        vrid: v.vrid(),
        priority: v.priority(),
        adver_int: u16::from(v.adver_int_v2()),
        auth_type: v.auth_type(),
        ah_seq,
        addresses: vrrp_wire::Addresses::from_bytes(
            &body[vrrp_wire::HEADER_LEN..body.len() - vrrp_wire::AUTH_DATA_LEN],
        ),
    })
}

/// Authentication checks; returns the AH sequence number to record once
/// every other check has passed.
fn check_auth(
    ip: &ipv4::Packet<&[u8]>,
    ah_pkt: Option<&ah::Packet<&[u8]>>,
    v: &vrrp_wire::Packet<&[u8]>,
    unicast: bool,
    auth: &AuthConfig,
    replay: &AhReplay,
) -> Result<Option<u32>, DropReason> {
    let field = v.auth_type();
    if let AuthType::Unknown(_) = field {
        return Err(DropReason::InvalidAuthType);
    }
    if field != auth.auth_type() || ah_pkt.is_some() != (field == AuthType::Ah) {
        return Err(DropReason::AuthTypeMismatch);
    }
    match (auth, ah_pkt) {
        (AuthConfig::Pass { .. }, _) if !auth.check_pass(v.auth_data()) => {
            Err(DropReason::AuthFailure)
        }
        (AuthConfig::Ah(key), Some(a)) => {
            let icv = ah_icv(
                key,
                ip.header(),
                &ip.payload()[..ah::HEADER_LEN],
                v.as_bytes(),
                unicast,
            );
            if !icv_eq(a.icv(), &icv) {
                return Err(DropReason::AuthFailure);
            }
            if a.spi().to_be_bytes() != ip.src_addr().octets() {
                return Err(DropReason::BadAhSpi);
            }
            if !replay.would_accept(a.seq()) {
                return Err(DropReason::AhReplay);
            }
            Ok(Some(a.seq()))
        }
        _ => Ok(None),
    }
}

/// keepalived's AH ICV: HMAC-MD5-96 over the IP header with its mutable
/// fields zeroed (TTL too if `zero_ttl`), the AH header with a zero ICV and
/// the VRRP message. The two headers are fed as one piece.
fn ah_icv(
    key: &AhKey,
    ip_header: &[u8],
    ah_header: &[u8],
    vrrp_msg: &[u8],
    zero_ttl: bool,
) -> [u8; ah::ICV_LEN] {
    let mut head = [0u8; 60 + ah::HEADER_LEN];
    let n = ipv4::mask_mutable(ip_header, zero_ttl, &mut head);
    head[n..n + ah::ICV_RANGE.start].copy_from_slice(&ah_header[..ah::ICV_RANGE.start]);
    // The ICV bytes of `head` stay zero.
    let mut mac = key.mac();
    mac.update(&head[..n + ah::HEADER_LEN]);
    mac.update(vrrp_msg);
    truncate(mac)
}

/// An advertisement to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvertRepr<'a> {
    /// IPv4 source address (the primary address of the interface).
    pub src: Ipv4Addr,
    /// IPv4 destination: [`super::VRRP_MCAST_V4`] or a unicast peer. For AH
    /// a non-multicast destination zeroes the TTL in the ICV, like keepalived.
    pub dst: Ipv4Addr,
    /// IPv4 TTL; [`super::VRRP_TTL`] (255) for multicast.
    pub ttl: u8,
    /// Virtual router id.
    pub vrid: u8,
    /// Priority.
    pub priority: u8,
    /// Advertisement interval in seconds (VRRPv2).
    pub adver_int: u8,
    /// The virtual addresses (at most 255).
    pub addresses: &'a [Ipv4Addr],
}

/// Why [`encode`] could not write a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The buffer is shorter than [`encoded_len`].
    #[error("buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// Bytes the datagram needs.
        needed: usize,
    },
    /// More than 255 addresses.
    #[error("more than 255 virtual addresses")]
    TooManyAddresses,
    /// The AH sequence number has reached its end (keepalived stops).
    #[error("AH sequence number exhausted")]
    AhSequenceExhausted,
    /// A VRRPv3 Max Advertise Interval outside 1..=4095 centiseconds.
    #[error("VRRPv3 advertisement interval must be 1..=4095 centiseconds")]
    BadAdverInt,
}

/// Length of the datagram [`encode`] writes for `addr_count` addresses.
pub const fn encoded_len(auth_type: AuthType, addr_count: u8) -> usize {
    let ah_len = if matches!(auth_type, AuthType::Ah) {
        ah::HEADER_LEN
    } else {
        0
    };
    ipv4::HEADER_LEN + ah_len + vrrp_wire::v2_len(addr_count)
}

/// Writes a whole IPv4 datagram (IP header, AH if configured, VRRPv2) into
/// the front of `buf`, byte-for-byte as keepalived builds it: TOS 0xc0, the
/// next IP identification from `tx` (also the next AH sequence number for
/// AH), flags zero, the IP checksum filled. Returns the length written;
/// nothing after it is touched. Never allocates.
pub fn encode(
    repr: &AdvertRepr<'_>,
    auth: &AuthConfig,
    tx: &mut TxCounters,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let count = u8::try_from(repr.addresses.len()).map_err(|_| EncodeError::TooManyAddresses)?;
    let auth_type = auth.auth_type();
    let len = encoded_len(auth_type, count);
    let buf = buf
        .get_mut(..len)
        .ok_or(EncodeError::BufferTooSmall { needed: len })?;
    let mut next = *tx;
    let ah_seq = match auth {
        AuthConfig::Ah(_) => Some(next.next_ah_seq().ok_or(EncodeError::AhSequenceExhausted)?),
        _ => None,
    };
    let ip = ipv4::Repr {
        src: repr.src,
        dst: repr.dst,
        protocol: if ah_seq.is_some() {
            IPPROTO_AH
        } else {
            IPPROTO_VRRP
        },
        ttl: repr.ttl,
        tos: ipv4::TOS_INTERNETWORK_CONTROL,
        ident: next.next_ip_id(),
        payload_len: len - ipv4::HEADER_LEN,
    };
    let (ip_buf, rest) = buf.split_at_mut(ipv4::HEADER_LEN);
    let vrrp_off = len - vrrp_wire::v2_len(count) - ipv4::HEADER_LEN;
    let v = vrrp_wire::Repr {
        vrid: repr.vrid,
        priority: repr.priority,
        auth_type,
        adver_int: repr.adver_int,
    };
    v.emit(repr.addresses, &auth.auth_data(), &mut rest[vrrp_off..]);
    if let (AuthConfig::Ah(key), Some(seq)) = (auth, ah_seq) {
        let h = ah::Repr {
            next_header: IPPROTO_VRRP,
            spi: u32::from_be_bytes(repr.src.octets()),
            seq,
            icv: [0; ah::ICV_LEN],
        };
        h.emit(rest);
        // Sign the datagram in place with its mutable fields zeroed (the
        // same bytes `ah_icv` builds on receive), then set them.
        let masked = ipv4::Repr {
            tos: 0,
            ttl: if repr.dst.is_multicast() { ip.ttl } else { 0 },
            ..ip
        };
        masked.emit_unchecksummed(ip_buf);
        let icv = key.icv(&[ip_buf, rest]);
        rest[ah::ICV_RANGE].copy_from_slice(&icv);
    }
    ip.emit(ip_buf);
    *tx = next;
    Ok(len)
}
