//! `use_vmac [NAME] [MAC]` and `vmac_xmit_base` of an instance, and the
//! global `vmac_prefix`, as keepalived 2.2.7 reads them.
//!
//! `use_vmac` takes up to two words in either order: one with a `:` is
//! the VMAC's MAC address, the other its name. A name the kernel takes
//! names the VMAC; any other is an error (keepalived: "VMAC interface
//! name 'NAME' too long or invalid characters", and `-t` fails). A MAC is
//! six hexadecimal octets, or five and the VRID as the sixth; an invalid,
//! multicast or RFC 5798 (00-00-5E-00-01/02-xx) one is an error in
//! keepalived's words, and so is one in strict mode.
//!
//! The global `vmac_prefix P` names default VMACs `P.VRID` (the first
//! one counts: keepalived ignores the others); a prefix with characters
//! no interface name may hold is refused.
//!
//! `use_vmac_addr` puts the addresses on another interface, and those of
//! the other family, on VMACs of their own, which the global
//! `vmac_addr_prefix` (else `vmac_prefix`) names (see
//! [`vrrp::linux::VmacOptions`]); it needs no `use_vmac`, and takes its
//! MAC when `use_vmac` gives one.
//!
//! keepalived 2.2.7 runs some combinations after changing them, with an
//! error that makes `keepalived -t` fail (exit 5); keepalived-lite refuses
//! them in the same words, so that its `-t` fails too: `vmac_xmit_base`
//! without a VMAC ("vmac_xmit_base is only valid with a vmac") or in
//! strict mode ("xmit_base is incompatible with strict mode"), a MAC in
//! strict mode ("cannot specify MAC address with strict mode"), and
//! unicast peers with a VMAC but without `vmac_xmit_base` ("unicast with
//! use_vmac requires vmac_xmit_base").

use std::net::IpAddr;

use ipnet::IpNet;
use vrrp::linux::{valid_vmac_name, VmacOptions};

use super::PlanError;
use crate::model::{GlobalDefs, VrrpInstance};

/// The VMAC options of `i`, in strict mode or not.
pub(super) fn options(
    g: &GlobalDefs,
    i: &VrrpInstance,
    strict: bool,
) -> Result<VmacOptions, PlanError> {
    let refused = |reason| PlanError::Refused {
        instance: i.name.clone(),
        keyword: "use_vmac",
        reason,
    };
    let xmit_base = i.other.iter().any(|s| s.keyword == "vmac_xmit_base");
    let use_vmac = i.use_vmac.is_some();
    let (name, mac) = arguments(i)?;
    if xmit_base && !use_vmac {
        return Err(refused("vmac_xmit_base is only valid with a vmac"));
    }
    if xmit_base && strict {
        return Err(refused("xmit_base is incompatible with strict mode"));
    }
    if mac.is_some() && strict {
        return Err(refused("cannot specify MAC address with strict mode"));
    }
    if use_vmac && !xmit_base && !i.unicast_peer.is_empty() {
        return Err(refused("unicast with use_vmac requires vmac_xmit_base"));
    }
    let vrid = i.virtual_router_id.unwrap_or(0);
    Ok(VmacOptions {
        name,
        xmit_base,
        prefix: prefix(g, i, "vmac_prefix")?,
        mac: mac.map(|m| m.address(vrid)),
        addresses: i.other.iter().any(|s| s.keyword == "use_vmac_addr"),
        // Filled by the caller, which knows the interface and family.
        own: Vec::new(),
        addr_prefix: prefix(g, i, "vmac_addr_prefix")?,
        ipvlan: None,
    })
}

/// The virtual addresses (and excluded ones) of `i` on `interface`
/// (IPv6 router if `ipv6`) whose `use_vmac` of their own holds, as
/// keepalived 2.2.7 checks it: an address that the router's own VMAC
/// takes anyway (its interface, its family) or that `use_vmac_addr`
/// takes anyway (another interface or family) is a configuration error.
pub(super) fn own_addresses(
    i: &VrrpInstance,
    interface: &str,
    ipv6: bool,
) -> Result<Vec<IpAddr>, PlanError> {
    let vmac_addr = i.other.iter().any(|s| s.keyword == "use_vmac_addr");
    let all = i
        .virtual_ipaddress
        .iter()
        .chain(&i.virtual_ipaddress_excluded);
    let mut own = Vec::new();
    for a in all.filter(|a| a.other.iter().any(|w| w == "use_vmac")) {
        let net = *a.address;
        let home = a.dev.as_deref().is_none_or(|d| d == interface);
        let family = net.addr().is_ipv6() == ipv6;
        let conflict = |message: String| PlanError::Conflict {
            instance: i.name.clone(),
            keyword: "virtual_ipaddress",
            message,
        };
        // keepalived 2.2.7 cannot put a macvlan beside the ipvlan (the
        // kernel says EOPNOTSUPP): its instance stays in FAULT (seen in
        // the VM). On another interface the VMAC is made as usual.
        if home && i.other.iter().any(|s| s.keyword == "use_ipvlan") {
            return Err(PlanError::Unsupported {
                instance: i.name.clone(),
                keyword: "use_vmac on a virtual address on the use_ipvlan interface",
            });
        }
        if home && family && i.use_vmac.is_some() {
            let vip = keepalived_address(net);
            let m = format!("use_vmac specified for VIP/eVIP {vip} and vrrp instance");
            return Err(conflict(m));
        }
        if (!home || !family) && vmac_addr {
            let vip = keepalived_address(net);
            let m = format!("use_vmac_addr specified and use_vmac specified for VIP/eVIP {vip}");
            return Err(conflict(m));
        }
        own.push(net.addr());
    }
    Ok(own)
}

/// An address as keepalived prints it: the length only if not a host's.
fn keepalived_address(net: IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

/// The global `vmac_prefix` (or `vmac_addr_prefix`), if set.
fn prefix(
    g: &GlobalDefs,
    i: &VrrpInstance,
    keyword: &'static str,
) -> Result<Option<String>, PlanError> {
    let Some(s) = g.other.iter().find(|s| s.keyword == keyword) else {
        return Ok(None);
    };
    let p = s.args.first().cloned().unwrap_or_default();
    // Its length is no matter: keepalived cuts it to fit.
    let sample = p.chars().take(10).collect::<String>();
    if !valid_vmac_name(&sample) {
        return Err(PlanError::Bad {
            instance: i.name.clone(),
            keyword,
            value: p,
        });
    }
    Ok(Some(p))
}

/// A MAC address as `use_vmac` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mac {
    /// All six octets.
    Full([u8; 6]),
    /// Five octets: the VRID is the sixth.
    WithVrid([u8; 5]),
}

impl Mac {
    fn address(self, vrid: u8) -> [u8; 6] {
        match self {
            Mac::Full(m) => m,
            Mac::WithVrid([a, b, c, d, e]) => [a, b, c, d, e, vrid],
        }
    }
}

/// `use_vmac`'s name and MAC, if given.
fn arguments(i: &VrrpInstance) -> Result<(Option<String>, Option<Mac>), PlanError> {
    let refused = |reason| PlanError::Refused {
        instance: i.name.clone(),
        keyword: "use_vmac",
        reason,
    };
    let arg = i.use_vmac.as_ref().and_then(|v| v.value.as_deref());
    let words: Vec<&str> = arg.unwrap_or_default().split_whitespace().collect();
    if words.len() > 2 {
        return Err(PlanError::Bad {
            instance: i.name.clone(),
            keyword: "use_vmac",
            value: words.join(" "),
        });
    }
    let (mut name, mut mac) = (None, None);
    for w in words {
        if !w.contains(':') {
            if name.is_some() {
                return Err(refused("VMAC interface name already specified"));
            }
            if !valid_vmac_name(w) {
                return Err(refused(
                    "VMAC interface name too long or invalid characters",
                ));
            }
            name = Some(w.to_owned());
            continue;
        }
        if mac.is_some() {
            return Err(refused("VMAC interface address already specified"));
        }
        let m = parse_mac(w).ok_or_else(|| refused("VMAC invalid MAC address"))?;
        let first = match m {
            Mac::Full(a) => a[..5].to_vec(),
            Mac::WithVrid(a) => a.to_vec(),
        };
        if first[0] & 1 == 1 {
            return Err(refused("VMAC MAC address is multicast"));
        }
        if first[..4] == [0, 0, 0x5e, 0] && matches!(first[4], 1 | 2) {
            return Err(refused(
                "VMAC MAC address not allowed to be RFC5798 address",
            ));
        }
        mac = Some(m);
    }
    Ok((name, mac))
}

/// Six (or five) octets of one or two hexadecimal digits separated by
/// `:`, a trailing `:` allowed, as keepalived reads them.
fn parse_mac(s: &str) -> Option<Mac> {
    let body = s.strip_suffix(':').unwrap_or(s);
    let octets = body
        .split(':')
        .map(|o| match o.len() {
            1 | 2 => u8::from_str_radix(o, 16).ok(),
            _ => None,
        })
        .collect::<Option<Vec<u8>>>()?;
    match octets[..] {
        [a, b, c, d, e, f] => Some(Mac::Full([a, b, c, d, e, f])),
        [a, b, c, d, e] => Some(Mac::WithVrid([a, b, c, d, e])),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use super::*;

    fn instance(use_vmac: &str) -> VrrpInstance {
        let text = format!(
            "vrrp_instance VI_1 {{\n  interface eth0\n  {use_vmac}\n  virtual_router_id 51\n  \
             virtual_ipaddress {{\n    10.0.0.1/24\n  }}\n}}\n"
        );
        let p = crate::parse_str("v.conf", &text, &crate::Options::default());
        p.config.vrrp_instances.into_iter().next().unwrap()
    }

    #[test]
    fn a_name_names_the_vmac() {
        let named = options(&GlobalDefs::default(), &instance("use_vmac vmac51"), false).unwrap();
        assert_eq!(named.name.as_deref(), Some("vmac51"));
        assert_eq!(
            options(&GlobalDefs::default(), &instance("use_vmac"), false).unwrap(),
            VmacOptions::default()
        );
    }

    #[test]
    fn a_name_the_kernel_refuses_is_an_error_as_in_keepalived() {
        let err = options(
            &GlobalDefs::default(),
            &instance("use_vmac vmac_name_too_long"),
            false,
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "(VI_1) VMAC interface name too long or invalid characters"
        );
    }

    /// keepalived 2.2.7's MAC forms: six octets, five and the VRID, a
    /// name and a MAC in either order; strict mode resets the MAC.
    #[test]
    fn a_mac_is_read_as_keepalived_reads_it() {
        let g = GlobalDefs::default();
        let o = |arg: &str, strict| options(&g, &instance(&format!("use_vmac {arg}")), strict);
        let mac = |arg: &str| o(arg, false).unwrap().mac;
        assert_eq!(mac("02:00:00:00:00:01"), Some([2, 0, 0, 0, 0, 1]));
        assert_eq!(mac("2:a:Bc:0:0:1:"), Some([2, 0xa, 0xbc, 0, 0, 1]));
        assert_eq!(
            mac("02:00:00:00:07"),
            Some([2, 0, 0, 0, 7, 51]),
            "VRID last"
        );
        assert_eq!(mac("02:00:00:00:07:"), Some([2, 0, 0, 0, 7, 51]));
        let both = o("02:00:00:00:00:01 vm1", false).unwrap();
        assert_eq!(both.name.as_deref(), Some("vm1"));
        assert_eq!(both.mac, Some([2, 0, 0, 0, 0, 1]));
        let strict = o("02:00:00:00:00:01", true).unwrap_err().to_string();
        assert_eq!(strict, "(VI_1) cannot specify MAC address with strict mode");
    }

    #[test]
    fn a_bad_mac_is_an_error_in_keepalived_words() {
        let g = GlobalDefs::default();
        let err = |arg: &str| {
            let i = instance(&format!("use_vmac {arg}"));
            options(&g, &i, false).unwrap_err().to_string()
        };
        let invalid = "(VI_1) VMAC invalid MAC address";
        for bad in [
            "02:00:00:00",
            "02:00:00:00:00:01:02",
            "002:0:0:0:0:1",
            "02::0:0:0:1",
            "0g:0:0:0:0:1",
        ] {
            assert_eq!(err(bad), invalid, "{bad}");
        }
        assert_eq!(
            err("01:00:00:00:00:01"),
            "(VI_1) VMAC MAC address is multicast"
        );
        assert_eq!(
            err("00:00:5e:00:01:07"),
            "(VI_1) VMAC MAC address not allowed to be RFC5798 address"
        );
        assert_eq!(
            err("02:0:0:0:0:1 02:0:0:0:0:2"),
            "(VI_1) VMAC interface address already specified"
        );
        assert_eq!(err("a b"), "(VI_1) VMAC interface name already specified");
        assert!(err("a b c").ends_with("is not supported by keepalived-lite"));
    }

    /// `vmac_xmit_base` with a VMAC; the combinations keepalived's `-t`
    /// reports as errors are refused in its words.
    #[test]
    fn xmit_base_holds_as_in_keepalived() {
        let g = GlobalDefs::default();
        let o = |text: &str, strict| options(&g, &instance(text), strict);
        let xmit = |text: &str| o(text, false).unwrap().xmit_base;
        assert!(xmit("use_vmac\n  vmac_xmit_base"));
        assert!(!xmit("use_vmac"));
        let unicast = "use_vmac\n  unicast_peer {\n    10.0.0.2\n  }";
        assert!(xmit(&format!("{unicast}\n  vmac_xmit_base")));
        let err = |text: &str, strict| o(text, strict).unwrap_err().to_string();
        let cases = [
            (
                "use_vmac\n  vmac_xmit_base",
                true,
                "xmit_base is incompatible with strict mode",
            ),
            (
                "vmac_xmit_base",
                false,
                "vmac_xmit_base is only valid with a vmac",
            ),
            (
                unicast,
                false,
                "unicast with use_vmac requires vmac_xmit_base",
            ),
        ];
        for (text, strict, want) in cases {
            assert_eq!(err(text, strict), format!("(VI_1) {want}"), "{text}");
        }
    }

    /// `use_vmac_addr` (with or without `use_vmac`) and the first
    /// `vmac_addr_prefix`; a bad prefix is refused.
    #[test]
    fn use_vmac_addr_and_its_prefix_are_read() {
        let text = "global_defs {\n  vmac_addr_prefix va\n  vmac_addr_prefix other\n}\n\
                    vrrp_instance VI_1 {\n  interface eth0\n  use_vmac_addr\n  virtual_router_id 51\n}\n";
        let p = crate::parse_str("v.conf", text, &crate::Options::default());
        let i = &p.config.vrrp_instances[0];
        let o = options(&p.config.global_defs, i, false).unwrap();
        let want = VmacOptions {
            addresses: true,
            addr_prefix: Some("va".into()),
            ..VmacOptions::default()
        };
        assert_eq!(o, want);
        assert!(
            !options(&p.config.global_defs, &instance("use_vmac"), false)
                .unwrap()
                .addresses
        );
        let bad = text.replace("prefix va\n", "prefix a:b\n");
        let p = crate::parse_str("v.conf", &bad, &crate::Options::default());
        let err = options(&p.config.global_defs, i, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "(VI_1) vmac_addr_prefix \"a:b\" is not supported by keepalived-lite"
        );
    }

    /// The first `vmac_prefix` names default VMACs; a bad one is refused.
    #[test]
    fn the_global_prefix_is_read_as_keepalived_reads_it() {
        let text = "global_defs {\n  vmac_prefix vm\n  vmac_prefix other\n}\n\
                    vrrp_instance VI_1 {\n  interface eth0\n  use_vmac\n  virtual_router_id 51\n}\n";
        let p = crate::parse_str("v.conf", text, &crate::Options::default());
        let i = &p.config.vrrp_instances[0];
        let o = options(&p.config.global_defs, i, false).unwrap();
        assert_eq!(o.prefix.as_deref(), Some("vm"));
        let bad = text.replace("prefix vm\n", "prefix a/b\n");
        let p = crate::parse_str("v.conf", &bad, &crate::Options::default());
        let err = options(&p.config.global_defs, i, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "(VI_1) vmac_prefix \"a/b\" is not supported by keepalived-lite"
        );
    }

    fn own(inst: &str, vips: &str) -> Result<Vec<IpAddr>, String> {
        let text = format!(
            "vrrp_instance VI_1 {{\n  interface eth0\n  {inst}\n  virtual_router_id 51\n  \
             virtual_ipaddress {{\n    {vips}\n  }}\n}}\n"
        );
        let p = crate::parse_str("v.conf", &text, &crate::Options::default());
        let i = p.config.vrrp_instances.into_iter().next().unwrap();
        own_addresses(&i, "eth0", false).map_err(|e| e.to_string())
    }

    /// keepalived 2.2.7 (vrrp.c): `use_vmac` on an address holds unless
    /// the router's VMAC or `use_vmac_addr` takes it anyway.
    #[test]
    fn use_vmac_on_an_address_is_checked_as_keepalived_checks_it() {
        let v4: IpAddr = "10.0.0.1".parse().unwrap();
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(own("", "10.0.0.1/24 use_vmac"), Ok(vec![v4]));
        assert_eq!(own("", "10.0.0.1/24 dev eth0 use_vmac"), Ok(vec![v4]));
        assert_eq!(own("", "10.0.0.1/24 dev eth1 use_vmac"), Ok(vec![v4]));
        assert_eq!(own("", "10.0.0.1/24"), Ok(vec![]));
        assert_eq!(
            own("use_vmac", "10.0.0.1/24 dev eth1 use_vmac"),
            Ok(vec![v4])
        );
        assert_eq!(own("use_vmac", "2001:db8::1 use_vmac"), Ok(vec![v6]));
        assert_eq!(
            own("use_vmac", "10.0.0.1/24 use_vmac").unwrap_err(),
            "(VI_1) use_vmac specified for VIP/eVIP 10.0.0.1/24 and vrrp instance"
        );
        assert_eq!(
            own("use_vmac", "10.0.0.1 dev eth0 use_vmac").unwrap_err(),
            "(VI_1) use_vmac specified for VIP/eVIP 10.0.0.1 and vrrp instance"
        );
        assert_eq!(
            own("use_vmac_addr", "10.0.0.1/24 dev eth1 use_vmac").unwrap_err(),
            "(VI_1) use_vmac_addr specified and use_vmac specified for VIP/eVIP 10.0.0.1/24"
        );
        assert_eq!(
            own("use_vmac_addr", "2001:db8::1/64 use_vmac").unwrap_err(),
            "(VI_1) use_vmac_addr specified and use_vmac specified for VIP/eVIP 2001:db8::1/64"
        );
        assert_eq!(own("use_vmac_addr", "10.0.0.1/24 use_vmac"), Ok(vec![v4]));
        // With use_ipvlan: a VMAC on another interface, none beside the
        // ipvlan (keepalived 2.2.7's stays in FAULT).
        assert_eq!(
            own("use_ipvlan", "10.0.0.1/24 dev eth1 use_vmac"),
            Ok(vec![v4])
        );
        let beside = "(VI_1) use_vmac on a virtual address on the use_ipvlan interface \
                      is not supported by keepalived-lite";
        for a in [
            "10.0.0.1/24 use_vmac",
            "10.0.0.1/24 dev eth0 use_vmac",
            "2001:db8::1 use_vmac",
        ] {
            assert_eq!(own("use_ipvlan", a).unwrap_err(), beside, "{a}");
        }
    }
}
