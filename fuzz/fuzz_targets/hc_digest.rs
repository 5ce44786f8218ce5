//! keepalived's HTTP body digest over arbitrary responses cut at arbitrary
//! read boundaries: never panics, and the cut never changes the result.
#![no_main]

use healthcheck::{HashKind, ResponseDigester};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&cut, resp)) = data.split_first() else {
        return;
    };
    let mut whole = ResponseDigester::new(HashKind::Md5);
    whole.feed(resp);
    let mut parts = ResponseDigester::new(HashKind::Md5);
    let step = usize::from(cut).max(1);
    for chunk in resp.chunks(step) {
        parts.feed(chunk);
    }
    assert_eq!(whole.finish(), parts.finish());
});
