//! Safe control of Linux IPVS (the kernel's layer-4 load balancer) over
//! generic netlink: a typed model, a blocking handle on one socket, and
//! reconciliation of a desired table with the kernel's.
//!
//! Not written yet: this crate holds no items so far.
#![forbid(unsafe_code)]
