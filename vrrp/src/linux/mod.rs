//! Linux adapters (feature `linux`): thin, runtime-agnostic wrappers over
//! nonblocking file descriptors that a driver polls with whatever reactor
//! it likes (the `tokio` feature ships one).
//!
//! | adapter | kernel interface | what it does |
//! | --- | --- | --- |
//! | [`RawSocket`] | `socket(AF_INET, SOCK_RAW, 112 or 51)` | sends and receives whole IPv4 datagrams (`IP_HDRINCL`), bound to one interface, in multicast group 224.0.0.18 or unicast |
//! | [`Netlink`] | rtnetlink requests | looks up links, adds/removes addresses (VIPs, static addresses) with label/scope/brd, IPv6 VIPs as keepalived adds them ([`Address6Spec`]), routes, macvlan VMACs |
//! | [`RawSocket6`] | `socket(AF_INET6, SOCK_RAW, 112)` | sends and receives VRRPv3 messages over IPv6 (from a chosen source, hop limit 255), in group ff02::12, reporting source, destination, hop limit and arrival time |
//! | [`NetWatcher`] | rtnetlink groups `RTNLGRP_LINK`, `RTNLGRP_IPV4_IFADDR`, `RTNLGRP_IPV6_IFADDR` | reports links going up/down and addresses appearing/disappearing |
//! | [`GarpSocket`] | `socket(AF_PACKET, SOCK_RAW)` | sends gratuitous ARP requests and unsolicited Neighbour Advertisements for a virtual address |
//! | [`Firewall`] | the `nft` program | keepalived's nftables drop rules for masters without accept mode |
//! | [`track_file::FileWatcher`] | inotify on the files' directories | `track_file` values, read as keepalived reads them |
//! | [`track_process::ProcessWatcher`] | a scan of `/proc` | `track_process` counts and quorum |
//!
//! Every adapter needs `CAP_NET_RAW` / `CAP_NET_ADMIN` and works in the network
//! namespace of the thread that opened it. Receiving never blocks: an empty
//! queue is [`std::io::ErrorKind::WouldBlock`], and the fd is exposed through
//! [`std::os::fd::AsFd`] for readiness polling. [`Netlink`] requests are
//! synchronous request/acknowledge round trips to the kernel (microseconds).
//!
//! The [`driver`] module (feature `tokio`) runs every virtual router of a
//! process, IPv4 and IPv6, on these adapters: one raw socket per
//! (interface, protocol),
//! one rtnetlink socket, one timer.
//!
//! Nothing here panics on any input; kernel refusals come back as
//! [`LinuxError`] with the operation and errno.

mod address6;
pub mod address_options;
#[cfg(feature = "tokio")]
pub mod driver;
mod error;
mod garp;
mod ipvlan;
mod ndisc;
mod netlink;
mod nft;
mod raw;
mod raw6;
mod route_encap;
mod rules;
pub mod sysctl;
pub mod track_file;
pub mod track_process;
mod vmac;
mod watch;
mod watch_routes;

pub use address6::Address6Spec;
pub use address_options::AddressOptions;
pub use error::LinuxError;
pub use garp::{arp_announcement, GarpSocket, ARP_FRAME_LEN};
pub use ipvlan::{IpvlanMode, IpvlanOptions};
pub use ndisc::{neighbour_advertisement, NA_FRAME_LEN};
pub use netlink::{
    vmac_address, vmac_address6, AddressSpec, Link, Metric, MetricKind, Netlink, NextHop,
    RouteKind, RouteMode, RouteSpec, Scope,
};
pub use nft::{Firewall, Guarded, NftConfig, Vmac};
pub use raw::{IpProto, RawSocket, RawSocketConfig, VRRP_MULTICAST};
pub use raw6::{RawSocket6, RawSocket6Config};
pub use route_encap::Encap;
pub use rules::{RuleActionSpec, RuleSpec};
pub use vmac::{valid_vmac_name, VmacOptions};
pub use watch::{NetEvent, NetWatcher};
pub use watch_routes::{RemovedRoute, RemovedRule};
