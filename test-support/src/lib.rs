//! Test helpers shared by the keepalived crates' tests (and keepalived-lite's
//! demo, which builds its LAN with [`netns`]). Not published.
//!
//! - [`netns`]: network namespaces and a bridged LAN of them, torn down on
//!   drop (needs root and iproute2).
//! - [`addr`]: loopback addresses and ports unique to a test process.
//! - [`process`]: required programs, temporary directories, and guards that
//!   always stop the processes they started.
//! - [`tls`], [`nginx`]: a test CA with a server certificate, and an nginx
//!   serving a directory, for checks against real servers.
//! - [`data`]: deterministic bytes and digests for page contents.
//! - [`flood`]: a packet flood from threads in a namespace, and the
//!   receive counter to measure what arrived.
//!
//! Helpers panic with a clear message when a test cannot go on (a missing
//! program, a server that does not start): in a test that is the failure.

pub mod addr;
pub mod data;
pub mod flood;
pub mod netns;
pub mod nginx;
pub mod process;
pub mod tls;

pub use addr::{high_port, unique_addr, unique_ip};
pub use data::{bytes, md5_hex_of_file, unhex};
pub use nginx::Nginx;
pub use process::{require, run, wait_tcp, ProcGuard, TempDir};
pub use tls::make_certs;
