//! parse -> emit -> parse gives the same advert, and emitting it twice from
//! the same counters gives the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrp::auth::{AhReplay, AuthConfig, TxCounters};
use vrrp::wire::{self, AdvertRepr, RecvOptions};

fuzz_target!(|data: &[u8]| {
    let auths = [
        AuthConfig::None,
        AuthConfig::pass(b"passw0rd"),
        AuthConfig::ah(b"secret1"),
    ];
    for auth in &auths {
        for unicast in [false, true] {
            let opts = RecvOptions {
                unicast,
                ..RecvOptions::default()
            };
            let Ok(a) = wire::decode(data, &opts, auth, &mut AhReplay::new()) else {
                continue;
            };
            let addrs: Vec<_> = a.addresses.iter().collect();
            let repr = AdvertRepr {
                src: a.src,
                dst: a.dst,
                ttl: a.ttl,
                vrid: a.vrid,
                priority: a.priority,
                adver_int: a.adver_int as u8,
                addresses: &addrs,
            };
            // Counters that reproduce the parsed IP id and AH sequence.
            let tx = TxCounters {
                ip_id: a.ip_id.wrapping_sub(1),
                ah_seq: a.ah_seq.map_or(0, |s| s - 1),
            };
            let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
            let n = wire::encode(&repr, auth, &mut tx.clone(), &mut buf).expect("encode");
            let mut again = [0u8; wire::MAX_DATAGRAM_LEN];
            let m = wire::encode(&repr, auth, &mut tx.clone(), &mut again).expect("encode");
            assert_eq!(&buf[..n], &again[..m]);

            let b = wire::decode(&buf[..n], &opts, auth, &mut AhReplay::new()).expect("re-decode");
            // The encoder never writes IP id 0 (the kernel would replace it).
            let want_id = if a.ip_id == 0 { 1 } else { a.ip_id };
            assert_eq!(b.ip_id, want_id);
            assert_eq!(
                (
                    b.src,
                    b.dst,
                    b.ttl,
                    b.version,
                    b.vrid,
                    b.priority,
                    b.adver_int,
                    b.auth_type,
                    b.ah_seq
                ),
                (
                    a.src,
                    a.dst,
                    a.ttl,
                    a.version,
                    a.vrid,
                    a.priority,
                    a.adver_int,
                    a.auth_type,
                    a.ah_seq
                )
            );
            assert_eq!(b.addresses.iter().collect::<Vec<_>>(), addrs);
        }
    }
});
