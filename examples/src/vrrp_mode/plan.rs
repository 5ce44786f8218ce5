//! The VRRP half of the conversion lives in `vrrp_conf::convert::vrrp`;
//! the daemon keeps using it under this name.

pub use vrrp_conf::convert::vrrp::*;
