//! Loopback addresses and ports unique to this test process, so tests run
//! in parallel (and parallel runs) never collide.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU32, Ordering};

static NEXT: AtomicU32 = AtomicU32::new(1);

/// A number unique to this call within the process.
pub(crate) fn next() -> u32 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A loopback address unique to this process and call: 127.P.Q.N.
pub fn unique_ip() -> IpAddr {
    let pid = std::process::id();
    let n = next();
    IpAddr::V4(Ipv4Addr::new(
        127,
        100 + (pid % 100) as u8,
        ((pid / 100) % 250) as u8,
        (n % 250 + 2) as u8,
    ))
}

/// A high port unlikely to be in use (on a unique address, collisions
/// are harmless anyway).
pub fn high_port() -> u16 {
    20_000 + (std::process::id() % 20_000) as u16
}

/// A fresh unique address and port.
pub fn unique_addr() -> SocketAddr {
    SocketAddr::new(unique_ip(), high_port())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unique_ips_differ_and_stay_on_loopback() {
        let (a, b) = (unique_ip(), unique_ip());
        assert_ne!(a, b);
        assert!(a.is_loopback() && b.is_loopback());
        assert_eq!(unique_addr().port(), high_port());
    }
}
