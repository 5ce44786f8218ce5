//! The Internet checksum (RFC 1071) used by the IPv4 header and by VRRP.
//!
//! VRRPv2 sums the VRRP message alone; VRRPv3 over IPv4 also sums a
//! pseudo-header ([`pseudo_header_v4`]), which is why the accumulation
//! ([`sum`]) and the final fold ([`finish`]) are separate steps.

use core::net::Ipv4Addr;

/// Adds `data` to a running one's-complement accumulator, big-endian 16-bit
/// words, an odd trailing byte padded with zero. Fold with [`finish`].
#[inline]
pub fn sum(mut acc: u64, data: &[u8]) -> u64 {
    let mut words = data.chunks_exact(8);
    for w in &mut words {
        // Four 16-bit words at a time; u64 cannot overflow for any IP datagram.
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
        acc += u64::from(u16::from_be_bytes([w[2], w[3]]));
        acc += u64::from(u16::from_be_bytes([w[4], w[5]]));
        acc += u64::from(u16::from_be_bytes([w[6], w[7]]));
    }
    let mut rest = words.remainder().chunks_exact(2);
    for w in &mut rest {
        acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = rest.remainder() {
        acc += u64::from(*last) << 8;
    }
    acc
}

/// Folds an accumulator to 16 bits and complements it: the value to put in
/// a checksum field (computed with that field zeroed).
#[inline]
pub fn finish(mut acc: u64) -> u16 {
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    // The loop leaves at most 16 bits.
    !(acc as u16)
}

/// Checksum of `data` alone: the value for the checksum field when computed
/// over a buffer whose checksum field is zero, and `0` when verifying a
/// buffer that carries a correct checksum.
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    finish(sum(0, data))
}

/// Accumulator of the IPv4 pseudo-header (RFC 768 layout) that VRRPv3
/// prepends to its checksum (RFC 5798 section 5.2.8). Unused by VRRPv2.
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u16) -> u64 {
    let mut acc = sum(0, &src.octets());
    acc = sum(acc, &dst.octets());
    acc + u64::from(protocol) + u64::from(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the sum of these words is 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(checksum(&data), !0xddf2);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(
            checksum(&[0x12, 0x34, 0x56]),
            checksum(&[0x12, 0x34, 0x56, 0x00])
        );
    }

    #[test]
    fn verifying_a_correct_buffer_gives_zero() {
        let mut data = [0x45, 0x00, 0x00, 0x14, 0xab, 0xcd, 0x00, 0x00, 0x00, 0x00];
        let c = checksum(&data);
        data[8..10].copy_from_slice(&c.to_be_bytes());
        assert_eq!(checksum(&data), 0);
    }

    #[test]
    fn pseudo_header_sums_its_fields() {
        let acc = pseudo_header_v4(
            Ipv4Addr::new(10, 0, 0, 1),
            Ipv4Addr::new(224, 0, 0, 18),
            112,
            12,
        );
        assert_eq!(acc, 0x0a00 + 0x0001 + 0xe000 + 0x0012 + 112 + 12);
    }
}
