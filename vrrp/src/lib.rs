//! VRRPv2 (RFC 3768) and VRRPv3 (RFC 9568, over IPv4 and IPv6) for
//! embedding: a wire codec with keepalived-compatible PASS and IPsec-AH
//! authentication, and a sans-IO state machine
//! ([`VirtualRouter`], many of them with sync groups in a [`Mux`]) with
//! keepalived's semantics: tracked objects feeding priority weights and
//! FAULT ([`track`]), sync groups, and reload as a reconciliation of the
//! running routers against a new configuration ([`Mux::reconcile`]:
//! unchanged routers untouched, priority, address and timer changes applied
//! in place without a priority-0 advert).
//!
//! # Contract
//!
//! * I/O: none. [`wire::decode`] takes a whole IPv4 datagram as a raw
//!   socket (`IPPROTO_VRRP` or `IPPROTO_AH`) delivers it; [`wire::encode`]
//!   writes a whole datagram for an `IP_HDRINCL` raw socket into a buffer
//!   you own (likewise [`wire::decode_v3`] / [`wire::encode_v3`]). Over
//!   IPv6 the VRRP message is the payload of an IPv6 raw socket:
//!   [`wire::decode_v6`] takes it with the sender, destination and hop
//!   limit ([`wire::Ipv6Meta`]); a router with [`config::Config::ipv6`]
//!   set takes it through [`VirtualRouter::handle_datagram_v6`] (and
//!   [`Mux::handle_datagram_v6`]). Sockets are the caller's (or the
//!   `linux` adapters', which the tokio driver uses for IPv4 and IPv6
//!   routers alike).
//! * Clock: none. The state machine is driven by the embedder's `now`,
//!   passed with every input; it says when to call it back
//!   (`poll_timeout`) and what to send (`poll_transmit`, into your buffer).
//! * Allocation: none in decode or encode.
//! * Panics: none on any datagram, configuration or sequence of inputs
//!   (time may even go backwards; a configured duration too large for
//!   `Instant` disarms its timer). Every rejection is a
//!   [`wire::DropReason`] (`Copy`, one byte, a stable kebab-case name for
//!   counters). The only panics are documented ones: the header views'
//!   `new_unchecked` accessors and `Repr::emit` on a too-short buffer (use
//!   `new_checked` and [`wire::encode`]), and the `sim` test harness on a
//!   test bug.
//! * Compatibility: byte-for-byte what keepalived 2.2.7 sends and accepts,
//!   including its AH variant (see [`auth`]); proved against committed
//!   captures of real keepalived traffic in `vrrp/tests/captures/`.
//! * Features: `linux` (adapters), `tokio` (driver; it logs send and
//!   receive errors as rate-limited `tracing` warnings), `sim` (a
//!   deterministic simulated LAN of routers for tests, benches and fuzzing,
//!   see `sim`), `snmp` (RFC 2787's VRRP-MIB and RFC 6527's VRRPv3-MIB
//!   objects and notifications of the driver's routers, as keepalived
//!   serves them over AgentX; see `snmp`). Everything else, including
//!   [`track`] and the reload API, needs no feature.
//!
//! # Example
//!
//! ```
//! use std::net::Ipv4Addr;
//! use vrrp::auth::{AhReplay, AuthConfig, TxCounters};
//! use vrrp::wire::{self, AdvertRepr, DropReason, RecvOptions};
//!
//! // keepalived: authentication { auth_type AH  auth_pass secret1 }
//! let auth = AuthConfig::from_keepalived("AH", "secret1")?;
//! let vips = [Ipv4Addr::new(10, 0, 0, 100)];
//! let advert = AdvertRepr {
//!     src: Ipv4Addr::new(10, 0, 0, 1),
//!     dst: wire::VRRP_MCAST_V4,
//!     ttl: wire::VRRP_TTL,
//!     vrid: 51,
//!     priority: 150,
//!     adver_int: 1,
//!     addresses: &vips,
//! };
//! let mut tx = TxCounters::new();
//! let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
//! let len = wire::encode(&advert, &auth, &mut tx, &mut buf)?;
//!
//! let opts = RecvOptions { vrid: Some(51), adver_int: Some(1), ..Default::default() };
//! let mut replay = AhReplay::new();
//! let got = wire::decode(&buf[..len], &opts, &auth, &mut replay).expect("valid advert");
//! assert_eq!((got.priority, got.ah_seq), (150, Some(1)));
//! assert_eq!(got.addresses.iter().collect::<Vec<_>>(), vips);
//!
//! // The same datagram again is a replay; a wrong password fails the ICV.
//! assert_eq!(wire::decode(&buf[..len], &opts, &auth, &mut replay), Err(DropReason::AhReplay));
//! let wrong = AuthConfig::from_keepalived("AH", "secret2")?;
//! let err = wire::decode(&buf[..len], &opts, &wrong, &mut AhReplay::new()).unwrap_err();
//! assert_eq!(err.as_str(), "auth-failure");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
// The `linux` adapters need `unsafe` in two places: building a link-layer
// socket address and registering an owned fd with tokio; everything else
// forbids it.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![cfg_attr(not(feature = "linux"), forbid(unsafe_code))]
#![cfg_attr(feature = "linux", deny(unsafe_code))]

pub mod wire;
// Authentication is part of the wire format (the PASS field, the AH
// header); it lives in `wire` and keeps its short path here.
pub use wire::auth;

#[cfg(feature = "linux")]
pub mod linux;

// The sans-IO state machine (issue 3).
pub mod config;
pub mod counters;
pub mod event;
pub mod mux;
pub mod pacing;
pub mod router;
#[cfg(feature = "sim")]
pub mod sim;
#[cfg(feature = "snmp")]
pub mod snmp;
mod timer;
pub mod track;

pub use config::Config;
pub use event::{Event, State};
pub use mux::Mux;
pub use router::VirtualRouter;
