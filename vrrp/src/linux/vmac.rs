//! How a router's VMAC (keepalived's `use_vmac`) is named: the options
//! an embedder sets, and keepalived 2.2.7's choice of name.
//!
//! keepalived calls a VMAC `vrrp.VRID` unless `use_vmac NAME` names it;
//! an IPv6 router whose `vrrp.VRID` belongs to an IPv4 router takes
//! `vrrp6.VRID`. The global `vmac_prefix P` makes these `P.VRID` and
//! `P6.VRID`, the prefix cut so that the name fits in 15 bytes. A named VMAC that finds an interface of that name which
//! is not a VMAC of its own making keeps its hands off it and takes the
//! default name (keepalived: "interface NAME already exists and is not a
//! private macvlan; ignoring vmac if_name").
//!
//! `use_vmac_addr` gives the addresses that do not go on the router's
//! own interface or VMAC (another `dev`, or the other family) a VMAC of
//! their own on the interface they name, as keepalived 2.2.7 does: one
//! per (interface, family), with the virtual MAC of the address's family
//! (or `use_vmac`'s MAC), named `P.VRID`, then `P6.VRID` (IPv6) and
//! `P1.VRID`, `P2.VRID`, ... until a name is free, `P` the global
//! `vmac_addr_prefix`, else `vmac_prefix`, else `vrrp`.

/// Options of a router's VMAC (meaningful with
/// [`RouterSpec::use_vmac`](super::driver::RouterSpec::use_vmac)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct VmacOptions {
    /// `use_vmac NAME`: the macvlan's name instead of `vrrp.VRID`.
    pub name: Option<String>,
    /// `vmac_xmit_base`: adverts go out of, and are read on, the
    /// interface under the VMAC (from its MAC); the VMAC still carries
    /// the virtual addresses and their gratuitous ARPs. An IPv6 router's
    /// VMAC then has no link-local address.
    pub xmit_base: bool,
    /// The global `vmac_prefix`: default names are `PREFIX.VRID`
    /// (`vrrp.VRID` when `None`).
    pub prefix: Option<String>,
    /// `use_vmac MAC`: the VMAC's hardware address instead of the VRRP
    /// virtual MAC.
    pub mac: Option<[u8; 6]>,
    /// `use_vmac_addr`: addresses on another interface, or of the other
    /// family, go on a VMAC of their own (see the module documentation).
    pub addresses: bool,
    /// The virtual addresses written with `use_vmac` of their own (that
    /// keepalived 2.2.7 keeps it for): each goes on a VMAC made as
    /// `use_vmac_addr` makes them, on the interface it names (else the
    /// router's).
    pub own: Vec<std::net::IpAddr>,
    /// The global `vmac_addr_prefix`: the names of those VMACs (else
    /// [`prefix`](Self::prefix)'s).
    pub addr_prefix: Option<String>,
    /// `use_ipvlan`: the VMAC is an L2 ipvlan (see
    /// [`IpvlanOptions`](super::IpvlanOptions)) rather than a macvlan.
    pub ipvlan: Option<super::IpvlanOptions>,
}

/// Longest interface name the kernel takes (`IFNAMSIZ` - 1).
const IFNAME_MAX: usize = 15;

/// True if `name` is a name the kernel gives an interface, as keepalived
/// checks `use_vmac NAME` (`dev_name_valid`): 1 to 15 bytes, no `/`,
/// `:` or white space, not `.` or `..`.
pub fn valid_vmac_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= IFNAME_MAX
        && name != "."
        && name != ".."
        && !name
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace())
}

#[cfg(feature = "tokio")] // the driver names VMACs
/// Where a VMAC name comes from, in keepalived's order of preference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NameChoice {
    /// `use_vmac NAME`.
    Named(String),
    /// `vrrp.VRID`.
    Default(String),
    /// `vrrp6.VRID`, an IPv6 router's when `vrrp.VRID` is taken.
    Second(String),
}

#[cfg(feature = "tokio")]
impl NameChoice {
    /// The interface name.
    pub(crate) fn name(&self) -> &str {
        match self {
            NameChoice::Named(n) | NameChoice::Default(n) | NameChoice::Second(n) => n,
        }
    }
}

#[cfg(feature = "tokio")] // the driver names VMACs
/// The names a router with VRID `vrid` tries, best first: its own name
/// if it has one, then `vrrp.VRID`, then (IPv6) `vrrp6.VRID`.
pub(crate) fn candidates(options: &VmacOptions, vrid: u8, ipv6: bool) -> Vec<NameChoice> {
    let mut out = Vec::with_capacity(3);
    if let Some(n) = options.name.as_ref().filter(|n| valid_vmac_name(n)) {
        out.push(NameChoice::Named(n.clone()));
    }
    let prefix = options.prefix.as_deref().unwrap_or("vrrp");
    out.push(NameChoice::Default(default_name(prefix, "", vrid)));
    if ipv6 {
        out.push(NameChoice::Second(default_name(prefix, "6", vrid)));
    }
    out
}

#[cfg(feature = "tokio")] // the driver names VMACs
/// `PREFIXNUM.VRID`, the prefix cut (at a character boundary) so that
/// the name fits in 15 bytes, as keepalived cuts it.
fn default_name(prefix: &str, num: &str, vrid: u8) -> String {
    let tail = format!("{num}.{vrid}");
    let room = IFNAME_MAX.saturating_sub(tail.len());
    let mut cut = prefix.len().min(room);
    while !prefix.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}{tail}", prefix.get(..cut).unwrap_or_default())
}

#[cfg(feature = "tokio")] // the driver makes address VMACs
/// True if `use_vmac_addr` puts address `addr` (`dev`, if it names one)
/// of a router on `interface` (IPv6 if `ipv6`) on a VMAC of its own, as
/// keepalived 2.2.7 decides: an address of the other family, or on
/// another interface. An address of the router's family on its own
/// interface stays there (or on the router's VMAC). An address with
/// `use_vmac` of its own always does.
pub(crate) fn wants_addr_vmac(
    options: &VmacOptions,
    interface: &str,
    ipv6: bool,
    addr: std::net::IpAddr,
    dev: Option<&str>,
) -> bool {
    options.own.contains(&addr)
        || options.addresses && (addr.is_ipv6() != ipv6 || dev.is_some_and(|d| d != interface))
}

#[cfg(feature = "tokio")] // the driver makes address VMACs
/// The names an address VMAC of VRID `vrid` tries, in keepalived 2.2.7's
/// order: `P.VRID`, then `P6.VRID` for IPv6, then `P1.VRID`, `P2.VRID`,
/// ... (`P6` skipped when tried already), up to `P99.VRID`.
pub(crate) fn addr_candidates(options: &VmacOptions, vrid: u8, ipv6: bool) -> Vec<String> {
    let prefix = (options.addr_prefix.as_deref())
        .or(options.prefix.as_deref())
        .unwrap_or("vrrp");
    let mut nums: Vec<String> = vec![String::new()];
    if ipv6 {
        nums.push("6".into());
    }
    nums.extend(
        (1..100)
            .filter(|&n| !(ipv6 && n == 6))
            .map(|n| n.to_string()),
    );
    nums.iter().map(|n| default_name(prefix, n, vrid)).collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use super::*;

    #[test]
    #[cfg(feature = "tokio")]
    fn names_follow_keepalived_order() {
        let named = VmacOptions {
            name: Some("vmac1".into()),
            ..VmacOptions::default()
        };
        let names = |o: &VmacOptions, ipv6| {
            candidates(o, 51, ipv6)
                .iter()
                .map(|c| c.name().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&named, false), ["vmac1", "vrrp.51"]);
        assert_eq!(names(&named, true), ["vmac1", "vrrp.51", "vrrp6.51"]);
        assert_eq!(names(&VmacOptions::default(), false), ["vrrp.51"]);
        let bad = VmacOptions {
            name: Some("a/b".into()),
            ..VmacOptions::default()
        };
        assert_eq!(names(&bad, false), ["vrrp.51"]);
    }

    /// keepalived 2.2.7's names with `vmac_prefix` (a long prefix is cut).
    #[test]
    #[cfg(feature = "tokio")]
    fn the_prefix_makes_the_default_names() {
        let o = |p: &str| VmacOptions {
            prefix: Some(p.into()),
            ..VmacOptions::default()
        };
        let names = |o: &VmacOptions| {
            candidates(o, 251, true)
                .iter()
                .map(|c| c.name().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(&o("vm")), ["vm.251", "vm6.251"]);
        assert_eq!(
            names(&o("abcdefghijklmn")),
            ["abcdefghijk.251", "abcdefghij6.251"]
        );
    }

    /// keepalived 2.2.7's address VMAC names (seen: `vr.51`, `vr6.51`,
    /// then `vr1.51` for a second IPv6 one).
    #[test]
    #[cfg(feature = "tokio")]
    fn address_vmacs_are_named_as_keepalived_names_them() {
        let mut o = VmacOptions {
            prefix: Some("vm".into()),
            ..VmacOptions::default()
        };
        assert_eq!(
            addr_candidates(&o, 51, false)[..3],
            ["vm.51", "vm1.51", "vm2.51"]
        );
        o.addr_prefix = Some("vr".into());
        let v6 = addr_candidates(&o, 51, true);
        assert_eq!(v6[..4], ["vr.51", "vr6.51", "vr1.51", "vr2.51"]);
        assert_eq!(v6[6..8], ["vr5.51", "vr7.51"]);
        assert_eq!(v6.len(), 100);
        assert_eq!(
            addr_candidates(&VmacOptions::default(), 7, false)[0],
            "vrrp.7"
        );
        let long = VmacOptions {
            addr_prefix: Some("abcdefghijklmn".into()),
            ..VmacOptions::default()
        };
        assert_eq!(addr_candidates(&long, 251, false)[1], "abcdefghij1.251");
    }

    #[test]
    #[cfg(feature = "tokio")]
    fn use_vmac_addr_takes_other_interfaces_and_the_other_family() {
        let on = VmacOptions {
            addresses: true,
            ..VmacOptions::default()
        };
        let v4 = "10.0.0.1".parse().unwrap();
        let v6 = "2001:db8::1".parse().unwrap();
        assert!(wants_addr_vmac(&on, "eth0", false, v4, Some("eth1")));
        assert!(wants_addr_vmac(&on, "eth0", false, v6, None));
        assert!(wants_addr_vmac(&on, "eth0", false, v6, Some("eth0")));
        assert!(wants_addr_vmac(&on, "eth0", true, v4, None));
        assert!(!wants_addr_vmac(&on, "eth0", false, v4, None));
        assert!(!wants_addr_vmac(&on, "eth0", false, v4, Some("eth0")));
        let off = VmacOptions::default();
        assert!(!wants_addr_vmac(&off, "eth0", false, v4, Some("eth1")));
        let own = VmacOptions {
            own: vec![v4],
            ..VmacOptions::default()
        };
        assert!(wants_addr_vmac(&own, "eth0", false, v4, None));
        assert!(wants_addr_vmac(&own, "eth0", false, v4, Some("eth1")));
        assert!(!wants_addr_vmac(&own, "eth0", false, v6, None));
    }

    #[test]
    fn vmac_names_are_checked_as_keepalived_does() {
        assert!(valid_vmac_name("vrrp1"));
        assert!(valid_vmac_name("abcdefghijklmno"));
        assert!(!valid_vmac_name("abcdefghijklmnop"), "16 bytes");
        for bad in ["", ".", "..", "a/b", "a b", "a:b"] {
            assert!(!valid_vmac_name(bad), "{bad:?}");
        }
    }
}
