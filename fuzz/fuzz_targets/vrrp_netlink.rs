//! The rtnetlink notification parser of `vrrp::linux::NetWatcher` (any
//! bytes as one received datagram): never panics, appends exactly the
//! events it counts, at most one per 16-byte netlink header, and never
//! invents an overrun (that comes from the socket, not from bytes).
#![no_main]

use libfuzzer_sys::fuzz_target;
use vrrp::linux::{NetEvent, NetWatcher};

fuzz_target!(|data: &[u8]| {
    // Events already queued stay untouched.
    let mut out = vec![NetEvent::Overrun];
    let n = NetWatcher::fuzz_parse(data, &mut out);
    assert_eq!(out.len(), n + 1);
    assert_eq!(out[0], NetEvent::Overrun);
    assert!(n <= data.len() / 16);
    assert!(!out[1..].contains(&NetEvent::Overrun));
});
