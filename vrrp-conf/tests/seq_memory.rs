//! A `~SEQ` line costs memory for the line it is expanding, not for every
//! value it will produce: the values are made one at a time. Measured with
//! a counting allocator, so this file holds one test only (tests of one
//! binary run in parallel and would share the count).
#![allow(clippy::unwrap_used, reason = "tests")]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use vrrp_conf::preprocess::run_str;
use vrrp_conf::{MemLoader, Options};

/// The system allocator, keeping the live and the peak byte counts.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every call is forwarded unchanged to `System`; only counters are
// added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
        PEAK.fetch_max(live, Ordering::Relaxed);
        // SAFETY: the caller's contract is System's.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: the caller's contract is System's.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

#[test]
fn a_long_sequence_is_not_materialised() {
    // A million steps of a line that produces nothing (`@id` that does not
    // apply): before, the million values were built up front, about
    // 80 MB for this 31-byte line.
    let text = "~SEQ(i, 0, 999999) @nomatch x\n";
    let loader = MemLoader::new();
    let opts = Options::default();
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let out = run_str("k.conf", text, &loader, &opts);
    let peak = PEAK.load(Ordering::Relaxed) - before;
    assert!(out.diags.is_empty(), "{:?}", out.diags);
    assert!(out.tokens.is_empty());
    assert!(peak < 1 << 20, "peak {peak} bytes");

    // The values themselves are unchanged: decimal, hexadecimal, steps.
    let text = "~SEQ(i, 0, 3, 10) a $i\n~SEQx(j, 250, 255) b $j\n~SEQ(k, 2, -2) c $k\n";
    let out = run_str("k.conf", text, &loader, &opts);
    assert!(out.diags.is_empty(), "{:?}", out.diags);
    let words: Vec<&str> = out.tokens.iter().map(|t| t.text(&out.text)).collect();
    assert_eq!(
        words.join(" "),
        "a 0 a 3 a 6 a 9 b fa b fb b fc b fd b fe b ff c 2 c 1 c 0 c -1 c -2"
    );
}
