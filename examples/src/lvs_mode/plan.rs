//! The checker half of the conversion lives in `vrrp_conf::convert::lvs`;
//! the daemon keeps using it under this name.

pub use vrrp_conf::convert::lvs::*;
