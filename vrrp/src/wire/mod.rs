//! The VRRP wire codec (VRRPv2 for IPv4, VRRPv3 for IPv4 and IPv6), in two
//! layers as smoltcp does it:
//!
//! * per header, a zero-copy `Packet<T: AsRef<[u8]>>` view with
//!   `new_checked` for untrusted input, and an owned `Repr` with `parse`,
//!   `buffer_len` and `emit` ([`ipv4`], [`ah`], [`vrrp`]);
//! * for a VRRPv2 router, [`decode`] (a whole received IPv4 datagram in,
//!   a borrowed [`Advert`] or a [`DropReason`] out) and [`encode`] (an
//!   [`AdvertRepr`] in, a whole datagram written into a caller buffer);
//! * for a VRRPv3 router ([`v3`]), [`decode_v3`] / [`encode_v3`] for whole
//!   IPv4 datagrams and [`decode_v6`] / [`encode_v6`] for the payload of
//!   an IPv6 raw socket, with the ancillary data in [`Ipv6Meta`].
//!
//! None allocates; none panics on any input.

mod advert;
pub mod ah;
pub mod auth;
pub mod checksum;
pub mod ipv4;
mod reason;
pub mod v3;
pub mod vrrp;

use core::net::Ipv4Addr;

pub use advert::{decode, encode, encoded_len, Advert, AdvertRepr, EncodeError, RecvOptions};
pub use reason::DropReason;
pub use v3::{
    decode_v3, decode_v3_checksum, decode_v6, encode_v3, encode_v3_checksum, encode_v6,
    encoded_len_v3, encoded_len_v6, AddressList, AdvertV3, AdvertV3Repr, Checksum, Family,
    Ipv6Meta, RecvOptionsV3, VRRP_MCAST_V6,
};
pub use vrrp::{AddressIter, Addresses, AuthType};

/// IP protocol number of VRRP.
pub const IPPROTO_VRRP: u8 = 112;
/// IP protocol number of the IPsec Authentication Header.
pub const IPPROTO_AH: u8 = 51;
/// The IPv4 multicast group VRRP advertises to (RFC 3768 section 5.2.2).
pub const VRRP_MCAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The TTL (IPv6: hop limit) adverts are sent with and must arrive with
/// (RFC 3768 section 5.2.3, RFC 9568 section 5.1.1.3).
pub const VRRP_TTL: u8 = 255;
/// The largest datagram [`encode`] can produce (AH, 255 addresses).
pub const MAX_DATAGRAM_LEN: usize = encoded_len(AuthType::Ah, 255);
/// The largest VRRPv3 IPv4 datagram [`encode_v3`] can produce (255 addresses).
pub const MAX_DATAGRAM_LEN_V3: usize = encoded_len_v3(255);
/// The largest VRRPv3 IPv6 payload [`encode_v6`] can produce (255 addresses).
pub const MAX_PAYLOAD_LEN_V6: usize = encoded_len_v6(255);
