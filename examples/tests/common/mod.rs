//! Test support shared by the root_netns tests that run real keepalived.

/// Fragments of the log lines with which keepalived 2.2.7 rejects a VRRP
/// packet (bad password, bad AH ICV, bogus or short packet, checksum).
pub(crate) const KEEPALIVED_REJECTIONS: [&str; 6] = [
    "invalid passwd",
    "IPSEC-AH",
    "bogus",
    "auth",
    "checksum",
    "too short",
];
