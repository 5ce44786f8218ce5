//! Helpers shared by the project's binaries (keepalived-lite, vrrp-inspect,
//! ipvsctl, genhash). The binaries live in `src/bin/`.
#![forbid(unsafe_code)]

pub mod alert;
pub mod cli;
pub mod demo;
pub mod inspect;
pub mod lvs_mode;
pub use test_support::netns;
pub mod vrrp_mode;
