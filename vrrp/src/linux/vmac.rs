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
