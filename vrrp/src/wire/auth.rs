//! VRRPv2 authentication as keepalived 2.2.x does it.
//!
//! * The key: keepalived's `auth_pass` truncated to 8 bytes and zero
//!   padded ([`AUTH_DATA_LEN`]); the same 8 bytes serve PASS and AH.
//! * PASS: the 8 bytes are the VRRP authentication data, compared in
//!   constant time.
//! * AH: an RFC 4302 header between IPv4 and VRRP with SPI = the sender's
//!   IPv4 source address, a sequence number starting at 1 and increasing by
//!   one per advert, and an ICV that is HMAC-MD5 keyed with the 8 bytes,
//!   truncated to 96 bits, over: the IPv4 header (options included) with
//!   TOS, flags+fragment offset and header checksum zeroed (TTL zeroed too
//!   for unicast peers, kept for multicast; the identification is *not*
//!   zeroed), then the AH header with its ICV zeroed, then the VRRP message
//!   (whose own auth type is 2 and authentication data zero). A receiver
//!   accepts a sequence number only if it is above the last one accepted
//!   ([`AhReplay`]). The committed captures in `vrrp/tests/captures/` are
//!   the proof.

use core::fmt;

use hmac::{Hmac, Mac};
use md5::Md5;
use subtle::ConstantTimeEq;

use super::ah::ICV_LEN;
use super::AuthType;

/// Length of keepalived's `auth_data`: `auth_pass` is cut to this.
pub const AUTH_DATA_LEN: usize = 8;

/// The 8-byte key formed from `auth_pass` as keepalived does: the first 8
/// bytes, zero padded.
pub fn key_from_auth_pass(auth_pass: &[u8]) -> [u8; AUTH_DATA_LEN] {
    let mut key = [0; AUTH_DATA_LEN];
    let n = auth_pass.len().min(AUTH_DATA_LEN);
    key[..n].copy_from_slice(&auth_pass[..n]);
    key
}

/// Why an authentication configuration cannot be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthConfigError {
    /// `auth_type` is neither `PASS` nor `AH` (keepalived is case-sensitive).
    #[error("unknown auth_type (expected PASS or AH)")]
    UnknownAuthType,
}

/// How a virtual router authenticates its adverts: keepalived's
/// `authentication { auth_type PASS|AH  auth_pass ... }` block.
///
/// For AH the HMAC key schedule is done once here; signing and verifying
/// clone the keyed state instead of re-keying per packet.
#[derive(Clone, Default)]
#[non_exhaustive]
pub enum AuthConfig {
    /// No `authentication` block: auth type 0, zero authentication data.
    #[default]
    None,
    /// `auth_type PASS`.
    Pass {
        /// The 8-byte authentication data.
        key: [u8; AUTH_DATA_LEN],
    },
    /// `auth_type AH`.
    Ah(AhKey),
}

impl AuthConfig {
    /// Builds the configuration from keepalived's `auth_type` (`"PASS"` or
    /// `"AH"`) and `auth_pass` (truncated to 8 bytes like keepalived).
    pub fn from_keepalived(auth_type: &str, auth_pass: &str) -> Result<Self, AuthConfigError> {
        match auth_type {
            "PASS" => Ok(AuthConfig::pass(auth_pass.as_bytes())),
            "AH" => Ok(AuthConfig::ah(auth_pass.as_bytes())),
            _ => Err(AuthConfigError::UnknownAuthType),
        }
    }

    /// PASS with `auth_pass` (truncated to 8 bytes, zero padded).
    pub fn pass(auth_pass: &[u8]) -> Self {
        AuthConfig::Pass {
            key: key_from_auth_pass(auth_pass),
        }
    }

    /// AH with `auth_pass` (truncated to 8 bytes, zero padded).
    pub fn ah(auth_pass: &[u8]) -> Self {
        AuthConfig::Ah(AhKey::new(auth_pass))
    }

    /// The auth type this configuration sends and expects.
    pub fn auth_type(&self) -> AuthType {
        match self {
            AuthConfig::None => AuthType::None,
            AuthConfig::Pass { .. } => AuthType::Pass,
            AuthConfig::Ah(_) => AuthType::Ah,
        }
    }

    /// The 8 bytes the VRRPv2 authentication data field carries: the key for
    /// PASS, zeros otherwise.
    pub fn auth_data(&self) -> [u8; AUTH_DATA_LEN] {
        match self {
            AuthConfig::Pass { key } => *key,
            _ => [0; AUTH_DATA_LEN],
        }
    }

    /// Constant-time check of received PASS authentication data.
    pub fn check_pass(&self, received: &[u8]) -> bool {
        match self {
            AuthConfig::Pass { key } => match <[u8; AUTH_DATA_LEN]>::try_from(received) {
                // Compared as one word: constant time and cheap.
                Ok(r) => bool::from(u64::from_ne_bytes(*key).ct_eq(&u64::from_ne_bytes(r))),
                Err(_) => false,
            },
            _ => false,
        }
    }
}

impl PartialEq for AuthConfig {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (AuthConfig::None, AuthConfig::None) => true,
            (AuthConfig::Pass { key: a }, AuthConfig::Pass { key: b }) => a == b,
            (AuthConfig::Ah(a), AuthConfig::Ah(b)) => a.key == b.key,
            _ => false,
        }
    }
}

impl Eq for AuthConfig {}

impl fmt::Debug for AuthConfig {
    // Never print the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthConfig::None => f.write_str("AuthConfig::None"),
            AuthConfig::Pass { .. } => f.write_str("AuthConfig::Pass(..)"),
            AuthConfig::Ah(_) => f.write_str("AuthConfig::Ah(..)"),
        }
    }
}

/// An AH key with its HMAC-MD5 state precomputed (inner and outer pads
/// already absorbed).
#[derive(Clone)]
pub struct AhKey {
    key: [u8; AUTH_DATA_LEN],
    keyed: Hmac<Md5>,
}

impl AhKey {
    /// Keys HMAC-MD5 with `auth_pass` truncated to 8 bytes, zero padded.
    pub fn new(auth_pass: &[u8]) -> Self {
        let key = key_from_auth_pass(auth_pass);
        // HMAC accepts keys of any length, so this cannot fail.
        let keyed = match Hmac::<Md5>::new_from_slice(&key) {
            Ok(m) => m,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        AhKey { key, keyed }
    }

    /// A fresh HMAC with the key already absorbed.
    pub(crate) fn mac(&self) -> Hmac<Md5> {
        self.keyed.clone()
    }

    /// HMAC-MD5-96 over the concatenation of `parts`.
    pub fn icv(&self, parts: &[&[u8]]) -> [u8; ICV_LEN] {
        let mut mac = self.mac();
        for p in parts {
            mac.update(p);
        }
        truncate(mac)
    }
}

/// Finishes an HMAC and keeps its first 96 bits.
pub(crate) fn truncate(mac: Hmac<Md5>) -> [u8; ICV_LEN] {
    let full = mac.finalize().into_bytes();
    let mut icv = [0; ICV_LEN];
    icv.copy_from_slice(&full[..ICV_LEN]);
    icv
}

/// Constant-time equality of a received ICV and a computed one.
pub(crate) fn icv_eq(a: &[u8], b: &[u8; ICV_LEN]) -> bool {
    let Ok(a) = <[u8; ICV_LEN]>::try_from(a) else {
        return false;
    };
    // Two words instead of a byte loop: same guarantee, a fraction of the cost.
    let word = |x: &[u8; ICV_LEN]| {
        let mut hi = [0; 8];
        hi.copy_from_slice(&x[..8]);
        let mut lo = [0; 4];
        lo.copy_from_slice(&x[8..]);
        (u64::from_ne_bytes(hi), u32::from_ne_bytes(lo))
    };
    let ((ah, al), (bh, bl)) = (word(&a), word(b));
    bool::from(ah.ct_eq(&bh) & al.ct_eq(&bl))
}

/// Receive-side AH replay protection, as keepalived keeps it per virtual
/// router: a sequence number is accepted only if it is greater than the
/// last accepted one (which starts at 0). keepalived resets the counter when
/// it stops trusting the old master; the state machine does the same with
/// [`AhReplay::reset`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AhReplay {
    last: u32,
}

impl AhReplay {
    /// Nothing accepted yet.
    pub const fn new() -> Self {
        AhReplay { last: 0 }
    }

    /// The last accepted sequence number (0 if none).
    pub fn last(&self) -> u32 {
        self.last
    }

    /// True if `seq` would be accepted.
    pub fn would_accept(&self, seq: u32) -> bool {
        seq > self.last
    }

    /// Records `seq` as accepted if it is fresh; returns whether it was.
    pub fn accept(&mut self, seq: u32) -> bool {
        let fresh = self.would_accept(seq);
        if fresh {
            self.last = seq;
        }
        fresh
    }

    /// Forgets the last sequence number (e.g. a new master took over).
    pub fn reset(&mut self) {
        self.last = 0;
    }
}

/// Send-side counters keepalived keeps per virtual router: the IPv4
/// identification (incremented per advert, skipping 0 because the kernel
/// would fill a 0 in) and the AH sequence number (incremented per advert
/// from 0, so the first advert carries 1; it stops at 0xFFFFFFFE, see
/// [`TxCounters::next_ah_seq`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TxCounters {
    /// The last IP identification used (0 = none yet).
    pub ip_id: u16,
    /// The last AH sequence number used (0 = none yet).
    pub ah_seq: u32,
}

/// The last AH sequence number keepalived sends before it considers the
/// counter cycled and stops.
pub const AH_SEQ_MAX: u32 = 0xFFFF_FFFE;

impl TxCounters {
    /// Both counters at zero, as keepalived starts.
    pub const fn new() -> Self {
        TxCounters {
            ip_id: 0,
            ah_seq: 0,
        }
    }

    /// Continues the AH sequence after the last one accepted from the
    /// previous master, as keepalived does (it keeps a single counter for
    /// receiving and sending): call on becoming master.
    pub fn resume_after(&mut self, replay: &AhReplay) {
        self.ah_seq = self.ah_seq.max(replay.last());
    }

    /// Advances and returns the IP identification, never 0.
    pub fn next_ip_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        if self.ip_id == 0 {
            self.ip_id = 1;
        }
        self.ip_id
    }

    /// Advances and returns the AH sequence number, or `None` once
    /// [`AH_SEQ_MAX`] has been sent (keepalived then stops advertising).
    pub fn next_ah_seq(&mut self) -> Option<u32> {
        if self.ah_seq >= AH_SEQ_MAX {
            return None;
        }
        self.ah_seq += 1;
        Some(self.ah_seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_truncates_and_pads() {
        assert_eq!(&key_from_auth_pass(b"secret1"), b"secret1\0");
        assert_eq!(&key_from_auth_pass(b"0123456789"), b"01234567");
        assert_eq!(key_from_auth_pass(b""), [0; 8]);
    }

    #[test]
    fn from_keepalived() {
        assert_eq!(
            AuthConfig::from_keepalived("PASS", "pw").map(|a| a.auth_type()),
            Ok(AuthType::Pass)
        );
        assert_eq!(
            AuthConfig::from_keepalived("AH", "pw").map(|a| a.auth_type()),
            Ok(AuthType::Ah)
        );
        assert_eq!(
            AuthConfig::from_keepalived("pass", "pw").err(),
            Some(AuthConfigError::UnknownAuthType)
        );
        assert_eq!(
            AuthConfig::pass(b"longpassword"),
            AuthConfig::pass(b"longpass")
        );
        assert_ne!(AuthConfig::ah(b"a"), AuthConfig::pass(b"a"));
    }

    #[test]
    fn pass_check_is_exact() {
        let a = AuthConfig::pass(b"secret1");
        assert!(a.check_pass(b"secret1\0"));
        assert!(!a.check_pass(b"secret2\0"));
        assert!(!a.check_pass(b"secret1"));
        assert!(!AuthConfig::None.check_pass(&[0; 8]));
    }

    #[test]
    fn ah_icv_matches_rfc2202_vector_shape() {
        // RFC 2202 test case 2: key "Jefe" (zero padding does not change an
        // HMAC key shorter than the block), data "what do ya want for nothing?".
        let k = AhKey::new(b"Jefe");
        let icv = k.icv(&[b"what do ya want ", b"for nothing?"]);
        let want = [
            0x75, 0x0c, 0x78, 0x3e, 0x6a, 0xb0, 0xb5, 0x03, 0xea, 0xa8, 0x6e, 0x31,
        ];
        assert_eq!(icv, want);
    }

    #[test]
    fn replay_accepts_only_increasing() {
        let mut r = AhReplay::new();
        assert!(!r.accept(0));
        assert!(r.accept(1));
        assert!(!r.accept(1));
        assert!(r.accept(5));
        assert!(!r.accept(4));
        r.reset();
        assert!(r.accept(4));
        assert_eq!(r.last(), 4);
    }

    #[test]
    fn tx_counters_follow_keepalived() {
        let mut t = TxCounters::new();
        assert_eq!((t.next_ip_id(), t.next_ah_seq()), (1, Some(1)));
        t.ip_id = u16::MAX;
        assert_eq!(t.next_ip_id(), 1);
        let mut r = AhReplay::new();
        r.accept(4);
        t.resume_after(&r);
        assert_eq!(t.next_ah_seq(), Some(5));
        t.ah_seq = AH_SEQ_MAX - 1;
        assert_eq!(t.next_ah_seq(), Some(AH_SEQ_MAX));
        assert_eq!(t.next_ah_seq(), None);
    }
}
