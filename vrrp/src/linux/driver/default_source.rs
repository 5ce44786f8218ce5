//! A router's default advert source: the address it sends from when its
//! configuration names none (no `unicast_src_ip`, no IPv6 link-local).
//!
//! keepalived 2.2.7 takes an interface's first address as it learns them
//! over netlink (`netlink_if_address_filter`), passing over the virtual
//! addresses of the routers on that interface
//! (`ignore_address_if_ours_or_link_local`) and, for IPv6, every address
//! that is not link-local. The driver applies that rule to the
//! interface's addresses in the kernel's order; keepalived-lite's `-t`
//! applies the same one to tell the unicast sources that clash.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::wire::v3::is_link_local;

/// The default IPv4 advert source of a router on an interface with
/// `addresses` (in the kernel's order): the first one for which `is_vip`
/// is false. `None` if there is none (keepalived runs the router in
/// FAULT until one is added).
///
/// `is_vip` says whether an address is a virtual address (or excluded
/// one) of the router, or of any other router, which may have been
/// added to the interface by a master.
///
/// ```
/// use std::net::{IpAddr, Ipv4Addr};
/// use vrrp::linux::driver::default_source_v4;
///
/// let vip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100));
/// let on_eth0 = [Ipv4Addr::new(192, 0, 2, 100), Ipv4Addr::new(192, 0, 2, 1)];
/// let source = default_source_v4(&on_eth0, |a| a == vip);
/// assert_eq!(source, Some(Ipv4Addr::new(192, 0, 2, 1)));
/// ```
pub fn default_source_v4(
    addresses: &[Ipv4Addr],
    is_vip: impl Fn(IpAddr) -> bool,
) -> Option<Ipv4Addr> {
    (addresses.iter().copied()).find(|a| !is_vip(IpAddr::V4(*a)))
}

/// The default IPv6 advert source of a router on an interface with
/// `addresses` (in the kernel's order): the first link-local one
/// (`fe80::/10`) for which `is_vip` is false. `None` if there is none
/// (keepalived runs the router in FAULT until one is added).
///
/// `is_vip` is as for [`default_source_v4`].
///
/// ```
/// use std::net::Ipv6Addr;
/// use vrrp::linux::driver::default_source_v6;
///
/// let on_eth0: [Ipv6Addr; 2] = ["2001:db8::1".parse().unwrap(), "fe80::1".parse().unwrap()];
/// let source = default_source_v6(&on_eth0, |_| false);
/// assert_eq!(source, Some("fe80::1".parse().unwrap()));
/// ```
pub fn default_source_v6(
    addresses: &[Ipv6Addr],
    is_vip: impl Fn(IpAddr) -> bool,
) -> Option<Ipv6Addr> {
    (addresses.iter().copied()).find(|a| is_link_local(*a) && !is_vip(IpAddr::V6(*a)))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use super::*;

    fn v4(last: u8) -> Ipv4Addr {
        Ipv4Addr::new(10, 77, 0, last)
    }

    fn v6(text: &str) -> Ipv6Addr {
        text.parse().unwrap()
    }

    #[test]
    fn v4_is_the_first_address_that_is_no_virtual_address() {
        let on_if = [v4(100), v4(1), v4(5)];
        assert_eq!(default_source_v4(&on_if, |_| false), Some(v4(100)));
        let vip = |a: IpAddr| a == IpAddr::V4(v4(100));
        assert_eq!(default_source_v4(&on_if, vip), Some(v4(1)));
        let vips = |a: IpAddr| a == IpAddr::V4(v4(100)) || a == IpAddr::V4(v4(1));
        assert_eq!(default_source_v4(&on_if, vips), Some(v4(5)));
    }

    #[test]
    fn v4_has_none_without_an_address_other_than_virtual_ones() {
        assert_eq!(default_source_v4(&[], |_| false), None);
        assert_eq!(default_source_v4(&[v4(100)], |_| true), None);
    }

    #[test]
    fn v6_is_the_first_link_local_address_that_is_no_virtual_address() {
        let on_if = [
            v6("2001:db8::9"),
            v6("fe80::64"),
            v6("fe80::1"),
            v6("febf::2"),
        ];
        assert_eq!(default_source_v6(&on_if, |_| false), Some(v6("fe80::64")));
        let vip = |a: IpAddr| a == IpAddr::V6(v6("fe80::64"));
        assert_eq!(default_source_v6(&on_if, vip), Some(v6("fe80::1")));
        // The last of fe80::/10 is link-local too.
        let vips = |a: IpAddr| a == IpAddr::V6(v6("fe80::64")) || a == IpAddr::V6(v6("fe80::1"));
        assert_eq!(default_source_v6(&on_if, vips), Some(v6("febf::2")));
    }

    #[test]
    fn v6_has_none_without_a_link_local_address_other_than_virtual_ones() {
        // Global, unique-local and site-local (fec0::/10) addresses are
        // never a default source, virtual or not.
        let global = [v6("2001:db8::9"), v6("fd00::1"), v6("fec0::1")];
        assert_eq!(default_source_v6(&global, |_| false), None);
        assert_eq!(default_source_v6(&[v6("fe80::1")], |_| true), None);
        assert_eq!(default_source_v6(&[], |_| false), None);
    }
}
