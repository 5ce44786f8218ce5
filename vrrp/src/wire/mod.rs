//! The VRRPv2 wire codec, in two layers as smoltcp does it:
//!
//! * per header, a zero-copy `Packet<T: AsRef<[u8]>>` view with
//!   `new_checked` for untrusted input, and an owned `Repr` with `parse`,
//!   `buffer_len` and `emit` ([`ipv4`], [`ah`], [`vrrp`]);
//! * for a router, [`decode`] (a whole received IPv4 datagram in, a
//!   borrowed [`Advert`] or a [`DropReason`] out) and [`encode`] (an
//!   [`AdvertRepr`] in, a whole datagram written into a caller buffer).
//!
//! Neither allocates; neither panics on any input.
//!
//! VRRPv3 (RFC 5798) is not implemented, but has its place: the version is
//! read before anything version-specific ([`DropReason::BadVersion`] today),
//! [`Advert::adver_int_centis`] already speaks centiseconds, and
//! [`checksum::pseudo_header_v4`] is the v3 checksum's extra input.

mod advert;
pub mod ah;
pub mod auth;
pub mod checksum;
pub mod ipv4;
mod reason;
pub mod vrrp;

use core::net::Ipv4Addr;

pub use advert::{decode, encode, encoded_len, Advert, AdvertRepr, EncodeError, RecvOptions};
pub use reason::DropReason;
pub use vrrp::{AddressIter, Addresses, AuthType};

/// IP protocol number of VRRP.
pub const IPPROTO_VRRP: u8 = 112;
/// IP protocol number of the IPsec Authentication Header.
pub const IPPROTO_AH: u8 = 51;
/// The IPv4 multicast group VRRP advertises to (RFC 3768 section 5.2.2).
pub const VRRP_MCAST_V4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// The TTL adverts are sent with and must arrive with (RFC 3768 section 5.2.3).
pub const VRRP_TTL: u8 = 255;
/// The largest datagram [`encode`] can produce (AH, 255 addresses).
pub const MAX_DATAGRAM_LEN: usize = encoded_len(AuthType::Ah, 255);
