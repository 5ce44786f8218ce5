//! Decode and encode never touch the heap: a counting global allocator
//! watches this thread while they run (valid and rejected inputs alike).
#![allow(clippy::unwrap_used)] // Test code: a panic is the failure report.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::Ipv4Addr;

use vrrp::auth::{AhReplay, AuthConfig, TxCounters};
use vrrp::wire::{self, AdvertRepr, RecvOptions};

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
