//! VRRPv3 (RFC 9568) over IPv4 and IPv6: [`decode_v3`] / [`encode_v3`]
//! for whole IPv4 datagrams (as for VRRPv2), [`decode_v6`] / [`encode_v6`]
//! for the payload an IPv6 raw socket delivers and takes.
//!
//! VRRPv3 has no authentication. As in keepalived 2.2.7 (which ignores an
//! `authentication` block under version 3 with a configuration error),
//! these functions take no [`AuthConfig`](super::auth::AuthConfig): adverts
//! are sent without one, and an AH datagram is refused
//! ([`DropReason::AuthTypeMismatch`], keepalived's "Received AH header but
//! auth type not AH").
//!
//! Unlike VRRPv2 the receiver does not compare the advertisement interval
//! with its own: a backup learns the master's (RFC 9568 section 6.4.2).
//!
//! The address family is a type parameter ([`Family`]: [`Ipv4Addr`] or
//! [`Ipv6Addr`]), so an IPv4 router cannot be given IPv6 addresses.

use core::fmt;
use core::marker::PhantomData;
use core::net::{Ipv4Addr, Ipv6Addr};

use super::auth::TxCounters;
use super::checksum;
use super::reason::DropReason;
use super::vrrp::{self as vrrp_wire, ReprV3};
use super::{ipv4, EncodeError, IPPROTO_AH, IPPROTO_VRRP, VRRP_TTL};

/// The IPv6 multicast group VRRP advertises to (RFC 9568 section 5.1.2.2).
pub const VRRP_MCAST_V6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

mod sealed {
    pub trait Sealed {}
    impl Sealed for core::net::Ipv4Addr {}
    impl Sealed for core::net::Ipv6Addr {}
}

/// An address family VRRPv3 runs over: [`Ipv4Addr`] or [`Ipv6Addr`].
pub trait Family: Copy + Eq + fmt::Debug + sealed::Sealed + 'static {
    /// Bytes of one address.
    const LEN: usize;
    /// The address in `b` (exactly [`Self::LEN`] bytes; anything else gives
    /// the unspecified address, never a panic).
    fn from_octets(b: &[u8]) -> Self;
    /// Writes the address into `out` (exactly [`Self::LEN`] bytes).
    fn write_octets(self, out: &mut [u8]);
    /// The checksum accumulator of the pseudo-header for a VRRP message of
    /// `len` bytes from `src` to `dst`.
    fn pseudo_header(src: Self, dst: Self, len: usize) -> u64;
    /// True for a multicast address.
    fn is_multicast(self) -> bool;
}

impl Family for Ipv4Addr {
    const LEN: usize = 4;
    fn from_octets(b: &[u8]) -> Self {
        <[u8; 4]>::try_from(b).map_or(Ipv4Addr::UNSPECIFIED, Ipv4Addr::from)
    }
    fn write_octets(self, out: &mut [u8]) {
        out.copy_from_slice(&self.octets());
    }
    fn pseudo_header(src: Self, dst: Self, len: usize) -> u64 {
        // A VRRP message is at most 8 + 255 * 16 bytes.
        checksum::pseudo_header_v4(src, dst, IPPROTO_VRRP, len as u16)
    }
    fn is_multicast(self) -> bool {
        Ipv4Addr::is_multicast(&self)
    }
}

impl Family for Ipv6Addr {
    const LEN: usize = 16;
    fn from_octets(b: &[u8]) -> Self {
        <[u8; 16]>::try_from(b).map_or(Ipv6Addr::UNSPECIFIED, Ipv6Addr::from)
    }
    fn write_octets(self, out: &mut [u8]) {
        out.copy_from_slice(&self.octets());
    }
    fn pseudo_header(src: Self, dst: Self, len: usize) -> u64 {
        checksum::pseudo_header_v6(src, dst, IPPROTO_VRRP, len as u32)
    }
    fn is_multicast(self) -> bool {
        Ipv6Addr::is_multicast(&self)
    }
}

/// True for fe80::/10.
pub fn is_link_local(addr: Ipv6Addr) -> bool {
    addr.segments()[0] & 0xffc0 == 0xfe80
}

/// The address list of a received VRRPv3 message, borrowed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AddressList<'a, A: Family> {
    bytes: &'a [u8],
    family: PhantomData<A>,
}

impl<'a, A: Family> AddressList<'a, A> {
    /// Wraps raw bytes; a trailing partial address is ignored.
    pub fn from_bytes(bytes: &'a [u8]) -> Self {
        AddressList {
            bytes: &bytes[..bytes.len() / A::LEN * A::LEN],
            family: PhantomData,
        }
    }

    /// Number of addresses.
    pub fn len(&self) -> usize {
        self.bytes.len() / A::LEN
    }

    /// True if there are none.
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// True if `addr` is in the list.
    pub fn contains(&self, addr: A) -> bool {
        self.iter().any(|a| a == addr)
    }

    /// Iterates over the addresses in packet order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = A> + 'a {
        self.bytes.chunks_exact(A::LEN).map(A::from_octets)
    }
}

impl<A: Family> fmt::Debug for AddressList<'_, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// What an IPv6 raw socket reports beside the payload: the addresses and
/// hop limit from the ancillary data (`IPV6_PKTINFO`, `IPV6_HOPLIMIT`) and
/// the sender from `recvmsg`'s address.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Meta {
    /// Source address of the datagram (the sending router).
    pub src: Ipv6Addr,
    /// Destination address: ff02::12 or this router's unicast address.
    pub dst: Ipv6Addr,
    /// The hop limit the datagram arrived with.
    pub hop_limit: u8,
}

/// What a VRRPv3 receiver expects, beyond the fixed protocol rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvOptionsV3<'a, A> {
    /// Only accept this VRID ([`DropReason::VridMismatch`] otherwise).
    pub vrid: Option<u8>,
    /// The router has unicast peers: like keepalived, skip the TTL / hop
    /// limit = 255 check (and the IPv6 source check), and
    /// require a unicast destination (a multicast one without this flag).
    pub unicast: bool,
    /// Only accept exactly these virtual addresses, in any order
    /// ([`DropReason::AddressMismatch`] otherwise).
    pub addresses: Option<&'a [A]>,
}

impl<A> Default for RecvOptionsV3<'_, A> {
    fn default() -> Self {
        RecvOptionsV3 {
            vrid: None,
            unicast: false,
            addresses: None,
        }
    }
}

/// A validated VRRPv3 advertisement, borrowing the datagram it came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvertV3<'a, A: Family> {
    /// Source address (the sending router).
    pub src: A,
    /// Destination address.
    pub dst: A,
    /// IPv4 TTL or IPv6 hop limit.
    pub ttl: u8,
    /// IPv4 identification; `None` over IPv6.
    pub ip_id: Option<u16>,
    /// Virtual router id.
    pub vrid: u8,
    /// Priority.
    pub priority: u8,
    /// Max Advertise Interval in centiseconds (0..=4095).
    pub max_adver_int: u16,
    /// The virtual addresses.
    pub addresses: AddressList<'a, A>,
}

/// Decodes and validates a whole IPv4 datagram holding a VRRPv3 advert, as
/// an `IPPROTO_VRRP` raw socket delivers it (IP header included).
///
/// Checks run in the order of [`DropReason`]'s variants. Never panics and
/// never allocates.
pub fn decode_v3<'a>(
    datagram: &'a [u8],
    opts: &RecvOptionsV3<'_, Ipv4Addr>,
) -> Result<AdvertV3<'a, Ipv4Addr>, DropReason> {
    decode_v3_with(datagram, opts, Sums::RFC).map(|c| c.advert)
}

/// [`decode_v3`] with a choice of checksum ([`Checksum`]); also says which
/// one the advert carried, [`Checksum::Old`] or [`Checksum::Rfc`]
/// ([`Checksum::Either`] tries the RFC one first).
pub fn decode_v3_checksum<'a>(
    datagram: &'a [u8],
    opts: &RecvOptionsV3<'_, Ipv4Addr>,
    sum: Checksum,
) -> Result<(AdvertV3<'a, Ipv4Addr>, Checksum), DropReason> {
    let old = Sums {
        first: Some(super::VRRP_MCAST_V4),
        fallback: None,
    };
    let sums = match sum {
        Checksum::Rfc => Sums::RFC,
        Checksum::Old => old,
        Checksum::Either => Sums {
            first: None,
            fallback: Some(super::VRRP_MCAST_V4),
        },
    };
    let advert = decode_v3_with(datagram, opts, sums)?;
    let used = match sum {
        Checksum::Either if !advert.verify_rfc => Checksum::Old,
        Checksum::Either => Checksum::Rfc,
        s => s,
    };
    Ok((advert.advert, used))
}

/// What [`check`] found beyond the advert.
struct Checked<'a, A: Family> {
    advert: AdvertV3<'a, A>,
    /// The checksum covered the datagram's own destination.
    verify_rfc: bool,
}

fn decode_v3_with<'a>(
    datagram: &'a [u8],
    opts: &RecvOptionsV3<'_, Ipv4Addr>,
    sums: Sums<Ipv4Addr>,
) -> Result<Checked<'a, Ipv4Addr>, DropReason> {
    let ip = ipv4::Packet::new_checked(datagram)?;
    if !ip.verify_checksum() {
        return Err(DropReason::BadIpChecksum);
    }
    if ip.is_fragment() {
        return Err(DropReason::Fragment);
    }
    match ip.protocol() {
        IPPROTO_VRRP => {}
        IPPROTO_AH => return Err(DropReason::AuthTypeMismatch),
        _ => return Err(DropReason::BadProtocol),
    }
    let body: &'a [u8] = &datagram[ip.header_len()..];
    let net = Network {
        src: ip.src_addr(),
        dst: ip.dst_addr(),
        ttl: ip.ttl(),
        ip_id: Some(ip.ident()),
    };
    check_sums(body, net, opts, sums)
}

/// Which IPv4 destination the pseudo-header of a VRRPv3 checksum holds.
///
/// RFC 9568 section 5.2.8 sums the datagram's own destination. keepalived
/// before 2.2.0 summed 224.0.0.18 for unicast adverts too (the same for
/// multicast ones); keepalived 2.2.7 still sends that "old" checksum with
/// `old_unicast_checksum`, and without it switches to the old one for
/// good when a unicast advert arrives that only the old one validates
/// ("Setting unicast VRRPv3 checksum to old version"), unless told
/// `old_unicast_checksum never`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Checksum {
    /// The datagram's destination (RFC 9568).
    #[default]
    Rfc,
    /// 224.0.0.18 whatever the destination (keepalived's old checksum).
    Old,
    /// Receiving: the RFC one, else the old one.
    Either,
}

/// Decodes and validates a VRRPv3 advert received on an IPv6 raw socket
/// for protocol 112: `payload` is the VRRP message (the kernel strips the
/// IPv6 header), `meta` what the socket reported beside it.
///
/// Beyond the IPv4 rules, a multicast router requires a source that is
/// neither unspecified nor multicast ([`DropReason::BadSource`]); a
/// global one is accepted, as keepalived 2.2.7 does. Never panics and
/// never allocates.
pub fn decode_v6<'a>(
    payload: &'a [u8],
    meta: &Ipv6Meta,
    opts: &RecvOptionsV3<'_, Ipv6Addr>,
) -> Result<AdvertV3<'a, Ipv6Addr>, DropReason> {
    let net = Network {
        src: meta.src,
        dst: meta.dst,
        ttl: meta.hop_limit,
        ip_id: None,
    };
    check(payload, net, opts, Sums::RFC)
}

/// The network-layer facts of a received advert.
#[derive(Clone, Copy)]
struct Network<A> {
    src: A,
    dst: A,
    ttl: u8,
    ip_id: Option<u16>,
}

/// The pseudo-header destinations a received checksum may cover: `first`
/// (`None`: the datagram's own), else `fallback`.
#[derive(Clone, Copy)]
struct Sums<A> {
    first: Option<A>,
    fallback: Option<A>,
}

impl<A> Sums<A> {
    const RFC: Self = Sums {
        first: None,
        fallback: None,
    };
}

fn check<'a, A: Family>(
    body: &'a [u8],
    net: Network<A>,
    opts: &RecvOptionsV3<'_, A>,
    sums: Sums<A>,
) -> Result<AdvertV3<'a, A>, DropReason> {
    check_sums(body, net, opts, sums).map(|c| c.advert)
}

/// The checks shared by both families, from the VRRP length on.
fn check_sums<'a, A: Family>(
    body: &'a [u8],
    net: Network<A>,
    opts: &RecvOptionsV3<'_, A>,
    sums: Sums<A>,
) -> Result<Checked<'a, A>, DropReason> {
    let v = vrrp_wire::Packet::new_checked(body)?;
    v.check_len(A::LEN)?;
    if !opts.unicast && net.ttl != VRRP_TTL {
        return Err(DropReason::BadTtl);
    }
    if net.dst.is_multicast() == opts.unicast {
        return Err(DropReason::BadDestination);
    }
    if !opts.unicast && !source_ok(net.src) {
        return Err(DropReason::BadSource);
    }
    if v.version() != vrrp_wire::VERSION_3 {
        return Err(DropReason::BadVersion);
    }
    if v.msg_type() != vrrp_wire::TYPE_ADVERTISEMENT {
        return Err(DropReason::BadType);
    }
    let sums_to = |dst| v.verify_checksum_with(A::pseudo_header(net.src, dst, body.len()));
    let verify_rfc = sums.first.is_none();
    let verify_rfc = if sums_to(sums.first.unwrap_or(net.dst)) {
        verify_rfc
    } else if sums.fallback.is_some_and(sums_to) {
        false
    } else {
        return Err(DropReason::BadChecksum);
    };
    if opts.vrid.is_some_and(|id| id != v.vrid()) {
        return Err(DropReason::VridMismatch);
    }
    let addresses = AddressList::from_bytes(&body[vrrp_wire::HEADER_LEN..]);
    if let Some(want) = opts.addresses {
        if addresses.len() != want.len() || !want.iter().all(|a| addresses.contains(*a)) {
            return Err(DropReason::AddressMismatch);
        }
    }
    let advert = AdvertV3 {
        src: net.src,
        dst: net.dst,
        ttl: net.ttl,
        ip_id: net.ip_id,
        vrid: v.vrid(),
        priority: v.priority(),
        max_adver_int: v.max_adver_int(),
        addresses,
    };
    Ok(Checked { advert, verify_rfc })
}

/// An IPv6 advert comes from a router's unicast address. RFC 9568
/// section 5.1.2.1 wants a link-local one, but keepalived 2.2.7 checks no
/// IPv6 source and sends from a global one itself (`use_ipvlan` with a
/// global address): a global source is accepted. IPv4 has no such rule.
fn source_ok<A: Family>(src: A) -> bool {
    let mut b = [0u8; 16];
    if A::LEN != 16 {
        return true;
    }
    src.write_octets(&mut b);
    let src = Ipv6Addr::from(b);
    !(src.is_unspecified() || src.is_multicast())
}

/// A VRRPv3 advertisement to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdvertV3Repr<'a, A> {
    /// Source address: the interface's primary IPv4 address, or its IPv6
    /// link-local address (the one the socket will send from: it is part
    /// of the checksum).
    pub src: A,
    /// Destination: 224.0.0.18 / ff02::12, or a unicast peer.
    pub dst: A,
    /// IPv4 TTL; [`VRRP_TTL`] (255) for multicast. Unused over IPv6 (the
    /// socket's hop limit applies).
    pub ttl: u8,
    /// Virtual router id.
    pub vrid: u8,
    /// Priority.
    pub priority: u8,
    /// Max Advertise Interval in centiseconds, 1..=4095.
    pub max_adver_int: u16,
    /// The virtual addresses (at most 255).
    pub addresses: &'a [A],
}

impl<A: Family> AdvertV3Repr<'_, A> {
    /// Checks the fields and sizes the VRRP message.
    fn vrrp_len(&self) -> Result<usize, EncodeError> {
        let count =
            u8::try_from(self.addresses.len()).map_err(|_| EncodeError::TooManyAddresses)?;
        if self.max_adver_int == 0 || self.max_adver_int > vrrp_wire::MAX_ADVER_INT_V3 {
            return Err(EncodeError::BadAdverInt);
        }
        Ok(vrrp_wire::v3_len(count, A::LEN))
    }

    fn emit_vrrp(&self, sum_dst: A, buf: &mut [u8]) {
        let fixed = ReprV3 {
            vrid: self.vrid,
            priority: self.priority,
            max_adver_int: self.max_adver_int,
        };
        let len = vrrp_wire::v3_len(self.addresses.len() as u8, A::LEN);
        let pseudo = A::pseudo_header(self.src, sum_dst, len);
        fixed.emit(self.addresses, pseudo, buf);
    }
}

/// Length of the IPv4 datagram [`encode_v3`] writes for `count` addresses.
pub const fn encoded_len_v3(count: u8) -> usize {
    ipv4::HEADER_LEN + vrrp_wire::v3_len(count, 4)
}

/// Length of the IPv6 payload [`encode_v6`] writes for `count` addresses.
pub const fn encoded_len_v6(count: u8) -> usize {
    vrrp_wire::v3_len(count, 16)
}

/// Writes a whole IPv4 datagram holding a VRRPv3 advert into the front of
/// `buf`, as keepalived 2.2.7 builds it: TOS 0xc0, the next IP
/// identification from `tx`, flags zero, both checksums filled (the VRRP
/// one over the IPv4 pseudo-header with the datagram's destination).
/// Returns the length written; nothing after it is touched. Never
/// allocates.
pub fn encode_v3(
    repr: &AdvertV3Repr<'_, Ipv4Addr>,
    tx: &mut TxCounters,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    encode_v3_checksum(repr, Checksum::Rfc, tx, buf)
}

/// [`encode_v3`] with the checksum `sum` ([`Checksum::Old`]: keepalived's
/// old one over 224.0.0.18; [`Checksum::Either`] is taken as the RFC one).
pub fn encode_v3_checksum(
    repr: &AdvertV3Repr<'_, Ipv4Addr>,
    sum: Checksum,
    tx: &mut TxCounters,
    buf: &mut [u8],
) -> Result<usize, EncodeError> {
    let vrrp_len = repr.vrrp_len()?;
    let len = ipv4::HEADER_LEN + vrrp_len;
    let buf = buf
        .get_mut(..len)
        .ok_or(EncodeError::BufferTooSmall { needed: len })?;
    let ip = ipv4::Repr {
        src: repr.src,
        dst: repr.dst,
        protocol: IPPROTO_VRRP,
        ttl: repr.ttl,
        tos: ipv4::TOS_INTERNETWORK_CONTROL,
        ident: tx.next_ip_id(),
        payload_len: vrrp_len,
    };
    let (ip_buf, rest) = buf.split_at_mut(ipv4::HEADER_LEN);
    ip.emit(ip_buf);
    let sum_dst = match sum {
        Checksum::Old => super::VRRP_MCAST_V4,
        Checksum::Rfc | Checksum::Either => repr.dst,
    };
    repr.emit_vrrp(sum_dst, rest);
    Ok(len)
}

/// Writes the VRRPv3 message of an IPv6 advert (the payload for an IPv6
/// raw socket of protocol 112; the kernel adds the IPv6 header) into the
/// front of `buf`, checksum filled over the IPv6 pseudo-header. Returns
/// the length written. Never allocates.
///
/// The socket must send from `repr.src` to `repr.dst` with hop limit 255
/// (`IPV6_MULTICAST_HOPS` / `IPV6_UNICAST_HOPS`). keepalived also sets
/// `IPV6_CHECKSUM` so the kernel fills the checksum itself; it computes
/// the same value.
pub fn encode_v6(repr: &AdvertV3Repr<'_, Ipv6Addr>, buf: &mut [u8]) -> Result<usize, EncodeError> {
    let len = repr.vrrp_len()?;
    let buf = buf
        .get_mut(..len)
        .ok_or(EncodeError::BufferTooSmall { needed: len })?;
    repr.emit_vrrp(repr.dst, buf);
    Ok(len)
}

#[cfg(test)]
mod tests;
