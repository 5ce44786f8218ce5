//! PING_CHECK's handling of a received datagram (any bytes): never
//! panics, says "our reply" only for an echo reply carrying our sequence
//! number (and, on a raw socket, our id), says "unreachable" only for an
//! ICMP unreachable, and always recognises a well-formed reply built from
//! the same input. The first byte picks the socket kind (raw or datagram)
//! and the family, the next two the sequence number.
#![no_main]

use healthcheck::checkers::PingChecker;
use libfuzzer_sys::fuzz_target;

/// The id a raw socket compares (a datagram socket rewrites it).
const ID: u16 = 0x4b41;

/// The ICMP message of a datagram: after the IPv4 header on a raw socket.
fn icmp(datagram: &[u8], raw: bool) -> &[u8] {
    if !raw {
        return datagram;
    }
    let ihl = usize::from(datagram.first().map_or(5, |b| b & 0x0f)) * 4;
    datagram.get(ihl..).unwrap_or_default()
}

fuzz_target!(|data: &[u8]| {
    let [flags, s0, s1, datagram @ ..] = data else {
        return;
    };
    let (raw, v6) = (flags & 1 != 0, flags & 2 != 0);
    let seq = u16::from_be_bytes([*s0, *s1]);
    let (reply_type, unreachable) = if v6 { (129, 1) } else { (0, 3) };
    let m = icmp(datagram, raw);
    match PingChecker::fuzz_received(datagram, raw, v6, ID, seq) {
        Some(true) => {
            assert_eq!(m[..2], [reply_type, 0]);
            assert_eq!(m[6..8], seq.to_be_bytes());
            assert!(!raw || m[4..6] == ID.to_be_bytes());
        }
        Some(false) => assert_eq!(m[0], unreachable),
        None => {}
    }
    // Our reply, with the input as payload, behind a plain IPv4 header on
    // a raw socket.
    let mut reply = Vec::new();
    if raw {
        reply.push(0x45); // version 4, 20-byte header
        reply.extend_from_slice(&[0; 19]);
    }
    reply.extend_from_slice(&[reply_type, 0, 0, 0]);
    reply.extend_from_slice(&ID.to_be_bytes());
    reply.extend_from_slice(&seq.to_be_bytes());
    reply.extend_from_slice(datagram);
    assert_eq!(
        PingChecker::fuzz_received(&reply, raw, v6, ID, seq),
        Some(true)
    );
});
