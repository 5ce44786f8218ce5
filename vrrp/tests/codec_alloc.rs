//! Decode and encode never touch the heap: a counting global allocator
//! watches this thread while they run (valid and rejected inputs alike).
#![allow(clippy::unwrap_used)] // Test code: a panic is the failure report.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{Ipv4Addr, Ipv6Addr};

use vrrp::auth::{AhReplay, AuthConfig, TxCounters};
use vrrp::wire::{self, AdvertRepr, AdvertV3Repr, Ipv6Meta, RecvOptions, RecvOptionsV3};

struct Counting;

thread_local! {
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call unchanged to the system allocator; the only
// addition is a thread-local counter bump, which does not allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as our caller's.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCS.with(Cell::get);
    f();
    ALLOCS.with(Cell::get) - before
}

#[test]
fn decode_and_encode_do_not_allocate() {
    let vips = [Ipv4Addr::new(10, 0, 0, 100), Ipv4Addr::new(10, 0, 0, 101)];
    let repr = AdvertRepr {
        src: Ipv4Addr::new(10, 0, 0, 1),
        dst: wire::VRRP_MCAST_V4,
        ttl: 255,
        vrid: 51,
        priority: 100,
        adver_int: 1,
        addresses: &vips,
    };
    let opts = RecvOptions {
        vrid: Some(51),
        unicast: false,
        adver_int: Some(1),
        addresses: Some(&vips),
    };
    // Keys are set up (and may allocate) before the measured region.
    let auths = [
        AuthConfig::None,
        AuthConfig::pass(b"secret1"),
        AuthConfig::ah(b"secret1"),
    ];
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    for auth in &auths {
        let mut tx = TxCounters::new();
        let mut replay = AhReplay::new();
        let mut priorities = 0u32;
        let n = allocations_in(|| {
            for _ in 0..100 {
                let len = wire::encode(&repr, auth, &mut tx, &mut buf).unwrap();
                let a = wire::decode(&buf[..len], &opts, auth, &mut replay).unwrap();
                priorities += u32::from(a.priority);
                priorities += a.addresses.iter().count() as u32;
                // Rejections: a replay (AH) or a bad checksum.
                let mut bad = buf;
                bad[len - 1] ^= 1;
                assert!(wire::decode(&bad[..len], &opts, auth, &mut replay).is_err());
            }
        });
        assert_eq!(priorities, 100 * 102);
        assert_eq!(n, 0, "{auth:?}: {n} heap allocations");
    }
    // The counter works: a Vec is seen.
    assert_eq!(
        allocations_in(|| drop(std::hint::black_box(vec![1u8; 8]))),
        1
    );
}

#[test]
fn v3_decode_and_encode_do_not_allocate() {
    let vips = [Ipv4Addr::new(10, 0, 0, 100), Ipv4Addr::new(10, 0, 0, 101)];
    let repr = AdvertV3Repr {
        src: Ipv4Addr::new(10, 0, 0, 1),
        dst: wire::VRRP_MCAST_V4,
        ttl: 255,
        vrid: 51,
        priority: 100,
        max_adver_int: 100,
        addresses: &vips[..],
    };
    let opts = RecvOptionsV3 {
        vrid: Some(51),
        unicast: false,
        addresses: Some(&vips[..]),
    };
    let vips6 = [
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 0x100),
        Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100),
    ];
    let meta = Ipv6Meta {
        src: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1),
        dst: wire::VRRP_MCAST_V6,
        hop_limit: 255,
    };
    let repr6 = AdvertV3Repr {
        src: meta.src,
        dst: meta.dst,
        ttl: 255,
        vrid: 51,
        priority: 100,
        max_adver_int: 5,
        addresses: &vips6[..],
    };
    let opts6 = RecvOptionsV3 {
        vrid: Some(51),
        unicast: false,
        addresses: Some(&vips6[..]),
    };
    let mut buf = [0u8; wire::MAX_PAYLOAD_LEN_V6];
    let mut tx = TxCounters::new();
    let mut sum = 0u32;
    let n = allocations_in(|| {
        for _ in 0..100 {
            let len = wire::encode_v3(&repr, &mut tx, &mut buf).unwrap();
            let a = wire::decode_v3(&buf[..len], &opts).unwrap();
            sum += u32::from(a.max_adver_int) + a.addresses.iter().count() as u32;
            let mut bad = buf;
            bad[len - 1] ^= 1;
            assert!(wire::decode_v3(&bad[..len], &opts).is_err());

            let len = wire::encode_v6(&repr6, &mut buf).unwrap();
            let a = wire::decode_v6(&buf[..len], &meta, &opts6).unwrap();
            sum += u32::from(a.max_adver_int) + a.addresses.iter().count() as u32;
            let mut bad = buf;
            bad[len - 1] ^= 1;
            assert!(wire::decode_v6(&bad[..len], &meta, &opts6).is_err());
        }
    });
    assert_eq!(sum, 100 * (102 + 7));
    assert_eq!(n, 0, "{n} heap allocations");
}
