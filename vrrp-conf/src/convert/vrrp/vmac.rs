//! `use_vmac [NAME]` and `vmac_xmit_base` of an instance, as keepalived
//! 2.2.7 reads them.
//!
//! A name the kernel takes names the VMAC; any other name is an error
//! (keepalived: "VMAC interface name 'NAME' too long or invalid
//! characters", and `-t` fails). The MAC address form (`use_vmac MAC`,
//! an argument with a `:`) is refused by name by the audit.
//!
//! The global `vmac_prefix P` names default VMACs `P.VRID` (the first
//! one counts: keepalived ignores the others); a prefix with characters
//! no interface name may hold is refused.
//!
//! `vmac_xmit_base` holds only with a VMAC ("vmac_xmit_base is only valid
//! with a vmac") and not in strict mode ("xmit_base is incompatible with
//! strict mode - resetting"); unicast peers with a VMAC set it ("unicast
//! with use_vmac requires vmac_xmit_base - setting").

use vrrp::linux::{valid_vmac_name, VmacOptions};

use super::PlanError;
use crate::convert::audit::is_vmac_mac_form;
use crate::model::{GlobalDefs, VrrpInstance};

/// The VMAC options of `i`, in strict mode or not.
pub(super) fn options(
    g: &GlobalDefs,
    i: &VrrpInstance,
    strict: bool,
) -> Result<VmacOptions, PlanError> {
    let asked = i.other.iter().any(|s| s.keyword == "vmac_xmit_base");
    let unicast = !i.unicast_peer.is_empty();
    let xmit_base = i.use_vmac.is_some() && (asked || unicast) && !strict;
    Ok(VmacOptions {
        name: name(i)?,
        xmit_base,
        prefix: prefix(g, i)?,
    })
}

/// The global `vmac_prefix`, if set.
fn prefix(g: &GlobalDefs, i: &VrrpInstance) -> Result<Option<String>, PlanError> {
    let Some(s) = g.other.iter().find(|s| s.keyword == "vmac_prefix") else {
        return Ok(None);
    };
    let p = s.args.first().cloned().unwrap_or_default();
    // Its length is no matter: keepalived cuts it to fit.
    let sample = p.chars().take(10).collect::<String>();
    if !valid_vmac_name(&sample) {
        return Err(PlanError::Bad {
            instance: i.name.clone(),
            keyword: "vmac_prefix",
            value: p,
        });
    }
    Ok(Some(p))
}

/// `use_vmac NAME`'s name, if it has one.
fn name(i: &VrrpInstance) -> Result<Option<String>, PlanError> {
    let arg = i.use_vmac.as_ref().and_then(|v| v.value.as_deref());
    let Some(name) = arg.filter(|a| !is_vmac_mac_form(a)) else {
        return Ok(None);
    };
    if !valid_vmac_name(name) {
        return Err(PlanError::Refused {
            instance: i.name.clone(),
            keyword: "use_vmac",
            reason: "VMAC interface name too long or invalid characters",
        });
    }
    Ok(Some(name.to_owned()))
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

    /// The MAC form is the audit's to refuse: no name comes of it.
    #[test]
    fn the_mac_form_names_nothing() {
        for arg in ["02:00:00:00:00:01", "vmac1 02:00:00:00:00:01"] {
            let o = options(
                &GlobalDefs::default(),
                &instance(&format!("use_vmac {arg}")),
                false,
            )
            .unwrap();
            assert_eq!(o, VmacOptions::default(), "{arg}");
            assert!(is_vmac_mac_form(arg));
        }
        assert!(!is_vmac_mac_form("vmac1"));
    }

    /// keepalived's rules for `vmac_xmit_base`: a VMAC's, set by unicast
    /// peers, reset by strict mode.
    #[test]
    fn xmit_base_holds_as_in_keepalived() {
        let g = GlobalDefs::default();
        let xmit = |text: &str, strict| options(&g, &instance(text), strict).unwrap().xmit_base;
        assert!(xmit("use_vmac\n  vmac_xmit_base", false));
        assert!(!xmit("use_vmac\n  vmac_xmit_base", true), "strict mode");
        assert!(!xmit("vmac_xmit_base", false), "no VMAC");
        assert!(!xmit("use_vmac", false));
        let unicast = "use_vmac\n  unicast_peer {\n    10.0.0.2\n  }";
        assert!(xmit(unicast, false), "unicast with a VMAC");
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
}
