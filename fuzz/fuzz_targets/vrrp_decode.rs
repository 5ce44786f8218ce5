//! Arbitrary bytes through the full receive validation, with every
//! authentication type and both TTL modes: it must never panic, and what it
//! accepts must be self-consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrp::auth::{AhReplay, AuthConfig};
use vrrp::wire::{self, RecvOptions};

fuzz_target!(|data: &[u8]| {
    // Passwords of the committed captures, so seeds reach the deep checks.
    let auths = [
        AuthConfig::None,
        AuthConfig::pass(b"passw0rd"),
        AuthConfig::ah(b"secret1"),
    ];
    let vips = [
        std::net::Ipv4Addr::new(10, 0, 0, 100),
        std::net::Ipv4Addr::new(10, 0, 0, 101),
    ];
    for auth in &auths {
        for unicast in [false, true] {
            let lax = RecvOptions {
                unicast,
                ..RecvOptions::default()
            };
            let strict = RecvOptions {
                vrid: Some(51),
                unicast,
                adver_int: Some(1),
                addresses: Some(&vips),
            };
            for opts in [lax, strict] {
                let mut replay = AhReplay::new();
                match wire::decode(data, &opts, auth, &mut replay) {
                    Ok(a) => {
                        assert_eq!(a.version, 2);
                        assert_eq!(a.auth_type, auth.auth_type());
                        assert_eq!(a.ah_seq.is_some(), a.auth_type == wire::AuthType::Ah);
                        assert_eq!(replay.last(), a.ah_seq.unwrap_or(0));
                        assert_eq!(a.addresses.iter().count(), a.addresses.len());
                    }
                    Err(reason) => {
                        assert_eq!(replay, AhReplay::new());
                        assert!(!reason.as_str().is_empty());
                    }
                }
            }
        }
    }
});
