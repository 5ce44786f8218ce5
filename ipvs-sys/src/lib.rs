//! Definitions of the Linux IPVS control interface, as in the kernel's
//! `include/uapi/linux/ip_vs.h`: the generic netlink family, commands,
//! attribute ids, flags and limits. Definitions only, no logic.
//!
//! Not written yet: this crate holds no items so far.
#![forbid(unsafe_code)]
