//! The Internet checksum (RFC 1071) used by the IPv4 header and by VRRP.
//!
//! VRRPv2 sums the VRRP message alone; VRRPv3 over IPv4 also sums a
//! pseudo-header ([`pseudo_header_v4`]), which is why the accumulation
//! ([`sum`]) and the final fold ([`finish`]) are separate steps. Over
//! IPv6 the pseudo-header is [`pseudo_header_v6`].

use core::net::{Ipv4Addr, Ipv6Addr};

/// Adds `data` to a running one's-complement accumulator, big-endian 16-bit
/// words, an odd trailing byte padded with zero. Fold with [`finish`].
#[inline]
pub fn sum(mut acc: u64, data: &[u8]) -> u64 {
    // Big-endian 32-bit words: x * 2^16 + y is congruent to x + y modulo
    // 2^16 - 1, so this equals the 16-bit sum once folded, in half the adds.
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        acc = add(acc, u64::from(u32::from_be_bytes([w[0], w[1], w[2], w[3]])));
    }
    match *words.remainder() {
        [a, b, c] => add(
            acc,
            (u64::from(u16::from_be_bytes([a, b])) << 16) | (u64::from(c) << 8),
        ),
        [a, b] => add(acc, u64::from(u16::from_be_bytes([a, b]))),
        [a] => add(acc, u64::from(a) << 8),
        _ => acc,
    }
}

/// One's-complement addition: the carry out of bit 63 wraps around (2^64
/// is congruent to 1 modulo 2^16 - 1), so any caller-supplied accumulator
/// is fine and nothing overflows.
#[inline]
fn add(acc: u64, x: u64) -> u64 {
    let (s, carry) = acc.overflowing_add(x);
    // After a carry `s < x`, so adding 1 cannot overflow.
    s + u64::from(carry)
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
/// prepends to its checksum (RFC 9568 section 5.2.8). Unused by VRRPv2.
pub fn pseudo_header_v4(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u16) -> u64 {
    let mut acc = sum(0, &src.octets());
    acc = sum(acc, &dst.octets());
    add(acc, u64::from(protocol) + u64::from(len))
}

/// Accumulator of the IPv6 pseudo-header (RFC 8200 section 8.1: source,
/// destination, 32-bit upper-layer length, three zero bytes, next header)
/// that VRRPv3 over IPv6 prepends to its checksum.
pub fn pseudo_header_v6(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, len: u32) -> u64 {
    let mut acc = sum(0, &src.octets());
    acc = sum(acc, &dst.octets());
    add(acc, u64::from(len) + u64::from(next_header))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_accumulator_is_accepted() {
        // Was an overflow (a panic in debug builds). u64::MAX is congruent
        // to 0 (as is 0xffff), so adding the word 1 folds to 1.
        assert_eq!(finish(sum(u64::MAX, &[0, 1])), !1);
        assert_eq!(finish(sum(u64::MAX, &[0, 0, 0, 1])), !1);
        assert_eq!(finish(sum(u64::MAX, &[0, 0, 1])), !0x100);
        assert_eq!(
            finish(sum(u64::MAX - 1, &[0xff, 0xff, 0xff, 0xff, 0xff])),
            finish(sum(0xfffe, &[0xff, 0xff, 0xff, 0xff, 0xff]))
        );
    }

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
    fn trailing_bytes_after_whole_words() {
        assert_eq!(checksum(&[0x12]), !0x1200);
        assert_eq!(
            checksum(&[0xab, 0xcd, 0x12, 0x34, 0x56]),
            !0x1402 // 0xabcd + 0x1234 + 0x5600 = 0x1_1401, carry folded
        );
        assert_eq!(
            checksum(&[0, 0, 0, 0, 0x01, 0x02, 0x03]),
            !(0x0102 + 0x0300)
        );
    }

    #[test]
    fn matches_a_plain_16_bit_sum() {
        // Every length up to 70 of a byte pattern with carries.
        let data: Vec<u8> = (0..70u32).map(|i| (i * 37 + 200) as u8).collect();
        for len in 0..=data.len() {
            let mut acc = 0u32;
            for w in data[..len].chunks(2) {
                acc += (u32::from(w[0]) << 8) | u32::from(*w.get(1).unwrap_or(&0));
            }
            while acc >> 16 != 0 {
                acc = (acc & 0xffff) + (acc >> 16);
            }
            assert_eq!(checksum(&data[..len]), !(acc as u16), "length {len}");
        }
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
        assert_eq!(
            finish(acc),
            !(0x0a00u16 + 0x0001 + 0xe000 + 0x0012 + 112 + 12)
        );
    }

    #[test]
    fn pseudo_header_v6_sums_its_fields() {
        let src = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1);
        let dst = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);
        let acc = pseudo_header_v6(src, dst, 112, 0x1_0024);
        // 0xfe80 + 1 + 0xff02 + 0x12 + 0x0001 + 0x0024 + 112, folded.
        let plain: u32 = 0xfe80 + 1 + 0xff02 + 0x12 + 1 + 0x24 + 112;
        let folded = (plain & 0xffff) + (plain >> 16);
        assert_eq!(finish(acc), !(folded as u16));
    }
}
