//! Why a received datagram was dropped: one small `Copy` value per check, so
//! a router can keep a counter per reason.

/// Why a received datagram is not a valid advertisement for us.
///
/// Each variant has a stable kebab-case name ([`DropReason::as_str`], also
/// its `Display`) for counters, logs and `vrrp-inspect`, and a dense index
/// ([`DropReason::index`]) for counter arrays of [`DropReason::COUNT`].
/// The checks run in the order the variants are listed (except that
/// `Truncated` is checked for each header as it is reached), so a datagram
/// with several faults reports the first one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DropReason {
    /// The datagram ends before a header it needs (IPv4, AH or VRRP).
    #[error("truncated")]
    Truncated,
    /// The IP version nibble is not 4.
    #[error("bad-ip-version")]
    BadIpVersion,
    /// The IHL is below 5 or claims more bytes than were received.
    #[error("bad-ihl")]
    BadIpHeaderLen,
    /// The IP total length differs from the number of bytes received.
    #[error("bad-ip-length")]
    BadIpLength,
    /// The IPv4 header checksum is wrong.
    #[error("bad-ip-checksum")]
    BadIpChecksum,
    /// The datagram is a fragment (MF set or a non-zero offset).
    #[error("fragment")]
    Fragment,
    /// The IP protocol is neither VRRP (112) nor AH (51).
    #[error("bad-protocol")]
    BadProtocol,
    /// An AH header whose payload length is not the HMAC-MD5-96 layout (4).
    #[error("bad-ah-length")]
    BadAhLength,
    /// An AH header whose next header is not VRRP (112).
    #[error("bad-ah-next-header")]
    BadAhNextHeader,
    /// The VRRP length does not match its address count (for the version
    /// the packet claims).
    #[error("bad-length")]
    BadLength,
    /// TTL is not 255 on a multicast router (RFC 3768 section 7.1).
    #[error("bad-ttl")]
    BadTtl,
    /// A multicast router got a unicast datagram or the reverse (keepalived
    /// checks this too).
    #[error("bad-destination")]
    BadDestination,
    /// An IPv6 multicast advert whose source is unspecified or multicast.
    /// A global source is accepted, as keepalived 2.2.7 does (RFC 9568
    /// section 5.1.2.1 wants a link-local one).
    #[error("bad-source")]
    BadSource,
    /// The VRRP version is not the receiver's (2 for [`crate::wire::decode`],
    /// 3 for the VRRPv3 decoders).
    #[error("bad-version")]
    BadVersion,
    /// The VRRP type is not ADVERTISEMENT (1).
    #[error("bad-type")]
    BadType,
    /// The VRRP checksum is wrong.
    #[error("bad-checksum")]
    BadChecksum,
    /// The VRID is not the one this receiver expects.
    #[error("vrid-mismatch")]
    VridMismatch,
    /// The auth type field is none of 0 (none), 1 (PASS), 2 (AH).
    #[error("invalid-auth-type")]
    InvalidAuthType,
    /// The packet's authentication (AH header present or not, auth type
    /// field) differs from the configured one.
    #[error("auth-type-mismatch")]
    AuthTypeMismatch,
    /// The PASS data or the AH ICV does not match the configured password.
    #[error("auth-failure")]
    AuthFailure,
    /// The AH SPI is not the IP source address (keepalived's convention).
    #[error("bad-ah-spi")]
    BadAhSpi,
    /// The AH sequence number is not above the last one accepted.
    #[error("ah-replay")]
    AhReplay,
    /// The advertisement interval differs from the configured one.
    #[error("adver-int-mismatch")]
    AdverIntMismatch,
    /// The address list differs from the configured virtual addresses.
    #[error("address-mismatch")]
    AddressMismatch,
}

impl DropReason {
    /// Every reason, in check order; `ALL[r.index()] == r`.
    pub const ALL: [DropReason; 24] = [
        DropReason::Truncated,
        DropReason::BadIpVersion,
        DropReason::BadIpHeaderLen,
        DropReason::BadIpLength,
        DropReason::BadIpChecksum,
        DropReason::Fragment,
        DropReason::BadProtocol,
        DropReason::BadAhLength,
        DropReason::BadAhNextHeader,
        DropReason::BadLength,
        DropReason::BadTtl,
        DropReason::BadDestination,
        DropReason::BadSource,
        DropReason::BadVersion,
        DropReason::BadType,
        DropReason::BadChecksum,
        DropReason::VridMismatch,
        DropReason::InvalidAuthType,
        DropReason::AuthTypeMismatch,
        DropReason::AuthFailure,
        DropReason::BadAhSpi,
        DropReason::AhReplay,
        DropReason::AdverIntMismatch,
        DropReason::AddressMismatch,
    ];

    /// Number of reasons: the size of a counter array indexed by
    /// [`DropReason::index`].
    pub const COUNT: usize = Self::ALL.len();

    /// Dense index in `0..COUNT`, for counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The stable kebab-case name, e.g. `"bad-checksum"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Truncated => "truncated",
            DropReason::BadIpVersion => "bad-ip-version",
            DropReason::BadIpHeaderLen => "bad-ihl",
            DropReason::BadIpLength => "bad-ip-length",
            DropReason::BadIpChecksum => "bad-ip-checksum",
            DropReason::Fragment => "fragment",
            DropReason::BadProtocol => "bad-protocol",
            DropReason::BadAhNextHeader => "bad-ah-next-header",
            DropReason::BadAhLength => "bad-ah-length",
            DropReason::BadLength => "bad-length",
            DropReason::BadTtl => "bad-ttl",
            DropReason::BadDestination => "bad-destination",
            DropReason::BadSource => "bad-source",
            DropReason::BadVersion => "bad-version",
            DropReason::BadType => "bad-type",
            DropReason::BadChecksum => "bad-checksum",
            DropReason::VridMismatch => "vrid-mismatch",
            DropReason::InvalidAuthType => "invalid-auth-type",
            DropReason::AuthTypeMismatch => "auth-type-mismatch",
            DropReason::AuthFailure => "auth-failure",
            DropReason::BadAhSpi => "bad-ah-spi",
            DropReason::AhReplay => "ah-replay",
            DropReason::AdverIntMismatch => "adver-int-mismatch",
            DropReason::AddressMismatch => "address-mismatch",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_name_and_display_agree() {
        for (i, r) in DropReason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
            assert_eq!(r.to_string(), r.as_str());
        }
        let mut names: Vec<_> = DropReason::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), DropReason::COUNT);
    }

    #[test]
    fn is_small() {
        assert_eq!(core::mem::size_of::<DropReason>(), 1);
    }
}
