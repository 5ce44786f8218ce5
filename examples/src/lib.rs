//! Helpers shared by the project's binaries (keepalived-lite, vrrp-inspect,
//! ipvsctl, genhash). The binaries live in `src/bin/`.
#![forbid(unsafe_code)]

pub mod alert;
pub mod cli;
pub mod config_save;
pub mod control;
pub mod daemon_files;
pub mod demo;
pub mod dump;
pub mod dump_check;
pub mod genhash;
pub mod inspect;
pub mod logging;
pub mod lvs_mode;
pub mod metrics;
pub mod observe;
pub mod process;
pub mod reload_monitor;
pub mod snmp;
pub mod systemd;
pub use test_support::netns;
pub mod vrrp_mode;
