//! Safe control of Linux IPVS (the kernel's layer-4 load balancer) over
//! generic netlink: a typed model, a blocking handle on one socket, and
//! reconciliation of a desired table with the kernel's.
//!
//! # Contract
//! - I/O: only through [`Ipvs`], which owns one `NETLINK_GENERIC` socket
//!   (or any [`Transport`]); the family id is resolved once at connect.
//!   Every call blocks until the kernel answered. Needs CAP_NET_ADMIN for
//!   changes and the `ip_vs` module loaded. [`Ipvs::apply`] pipelines up
//!   to [`BATCH_OPS`] requests per `sendmsg` and matches every error to its
//!   operation by sequence number; replies are read with `recvmmsg`.
//!   [`Ipvs::save_table`] may also read through a raw IPv4 socket (the
//!   legacy `IP_VS_SO_GET_DESTS` option, one call per service) where that
//!   answer is provably complete.
//! - No clock, no threads (except a short-lived one in
//!   [`Ipvs::connect_netns`]), no global state.
//! - No panics on any input: malformed replies are [`CodecError`]s,
//!   unknown attributes are kept as `Other` and skipped.
//! - Features: none. [`ipvsadm`] reads and writes ipvsadm's save format.
//!
//! # Example
//! Building the requests needs no kernel; applying them does:
//! ```
//! use ipvs::{diff, Destination, Forward, Op, Service, ServiceKey, VirtualServer};
//! let key = ServiceKey::tcp("10.0.0.1:80".parse().unwrap());
//! let want = vec![VirtualServer {
//!     service: Service::new(key, "wlc"),
//!     dests: vec![Destination::new("192.168.1.10:80".parse().unwrap(), Forward::Masq)],
//! }];
//! let ops = diff(&want, &[]);
//! assert_eq!(ops.len(), 2);
//! assert!(matches!(ops[0], Op::AddService(_)));
//! // With root and ip_vs loaded: ipvs::Ipvs::connect()?.apply(&ops)?;
//! ```
//! `examples/reconcile.rs` is a whole program doing this against the kernel
//! (`cargo run -p linux-ipvs --example reconcile`), and every [`Op`] prints as
//! the ipvsadm rule that would make the same change.
#![deny(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod convert;
mod diff;
mod dump_stream;
mod encode;
mod error;
mod handle;
pub mod ipvsadm;
mod legacy;
pub mod message;
mod model;
pub mod nla;
mod op;
pub mod procfs;
mod sys_util;
mod transport;

pub use diff::{diff, VirtualServer};
pub use error::{CodecError, Error, InvalidReason, KernelError, Nest, OpKind, Reason};
pub use handle::{Ipvs, BATCH_OPS};
pub use legacy::{decode_dests, decode_services, LegacyService};
pub use model::*;
pub use op::Op;
pub use transport::{NetlinkTransport, Transport};
