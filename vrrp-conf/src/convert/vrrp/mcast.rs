//! keepalived 2.2.7's multicast group and advert address check knobs:
//! an instance's `mcast_dst_ip`, else `global_defs`' `vrrp_mcast_group4`
//! / `vrrp_mcast_group6` ([`vrrp::Config::mcast_group`]); an instance's
//! `skip_check_adv_addr` or the global `vrrp_skip_check_adv_addr`
//! ([`vrrp::Config::skip_check_adv_addr`]).
//!
//! What keepalived skips with a configuration error is refused here: a
//! group that is not multicast (for `mcast_dst_ip` over IPv6, not
//! link-local multicast), of the other family, or given to an instance
//! with unicast peers. keepalived 2.2.7 sets `skip_check_adv_addr` for any
//! valid argument, `false` included; so does this conversion.

use std::net::IpAddr;

use crate::model::{GlobalDefs, Setting, VrrpInstance};

/// The last setting named `k`.
fn find<'a>(list: &'a [Setting], k: &str) -> Option<&'a Setting> {
    list.iter().rev().find(|s| s.keyword == k)
}

/// The first argument of `s` (empty if none).
fn arg(s: &Setting) -> String {
    s.args.first().cloned().unwrap_or_default()
}

/// Sets the multicast group and the address check of `config` (whose
/// family and unicast peers are known): the keyword and value refused.
pub(super) fn apply(
    g: &GlobalDefs,
    i: &VrrpInstance,
    config: &mut vrrp::Config,
) -> Result<(), (&'static str, String)> {
    config.mcast_group = group(g, i, config)?;
    if let Some(s) = find(&i.other, "skip_check_adv_addr") {
        let v = s.args.first().map(String::as_str);
        if !matches!(
            v,
            None | Some("on" | "off" | "true" | "false" | "yes" | "no")
        ) {
            return Err(("skip_check_adv_addr", arg(s)));
        }
        config.skip_check_adv_addr = true;
    }
    config.skip_check_adv_addr |= g.vrrp_skip_check_adv_addr;
    Ok(())
}

/// The instance's group, else the global one of its family (`None`: the
/// family's VRRP group).
fn group(
    g: &GlobalDefs,
    i: &VrrpInstance,
    config: &vrrp::Config,
) -> Result<Option<IpAddr>, (&'static str, String)> {
    let ipv6 = config.ipv6.is_some();
    if let Some(s) = find(&i.other, "mcast_dst_ip") {
        let v = arg(s);
        let ok = match v.parse::<IpAddr>() {
            Ok(IpAddr::V4(a)) => !ipv6 && a.is_multicast(),
            // ff02::/16: link-local scope.
            Ok(IpAddr::V6(a)) => ipv6 && a.segments()[0] & 0xff0f == 0xff02,
            Err(_) => false,
        };
        if !ok || config.is_unicast() {
            return Err(("mcast_dst_ip", v));
        }
        return Ok(v.parse().ok());
    }
    if ipv6 {
        let Some(s) = find(&g.other, "vrrp_mcast_group6") else {
            return Ok(None);
        };
        let v = arg(s);
        return match v.parse::<IpAddr>() {
            Ok(a @ IpAddr::V6(m)) if m.is_multicast() => Ok(Some(a)),
            _ => Err(("vrrp_mcast_group6", v)),
        };
    }
    match g.vrrp_mcast_group4.as_deref() {
        None => Ok(None),
        Some(&a @ IpAddr::V4(m)) if m.is_multicast() => Ok(Some(a)),
        Some(a) => Err(("vrrp_mcast_group4", a.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::super::plan;

    const V4: &str = " virtual_ipaddress {\n 192.0.2.1\n }\n";
    const V6: &str = " virtual_ipaddress {\n 2001:db8::1\n }\n";

    /// (mcast_group, skip_check_adv_addr) of the one instance, or the error.
    fn run(global: &str, own: &str, vips: &str) -> Result<(Option<IpAddr>, bool), String> {
        let text = format!(
            "global_defs {{\n{global}\n}}\nvrrp_instance A {{\n interface eth0\n \
             virtual_router_id 1\n{own}\n{vips}}}\n"
        );
        let parsed = crate::parse_str("t.conf", &text, &crate::Options::default());
        let p = plan(&parsed.config).map_err(|e| e.to_string())?;
        let c = &p.units[0].setup.routers[0].config;
        Ok((c.mcast_group, c.skip_check_adv_addr))
    }

    fn ip(s: &str) -> Option<IpAddr> {
        s.parse().ok()
    }

    #[test]
    fn the_instance_group_else_the_global_of_the_family() {
        assert_eq!(run("", "", V4), Ok((None, false)));
        let g4 = "vrrp_mcast_group4 224.0.0.19\nvrrp_mcast_group6 ff02::13";
        assert_eq!(run(g4, "", V4), Ok((ip("224.0.0.19"), false)));
        assert_eq!(run(g4, "", V6), Ok((ip("ff02::13"), false)));
        let own = " mcast_dst_ip 224.0.0.20";
        assert_eq!(run(g4, own, V4), Ok((ip("224.0.0.20"), false)));
        assert_eq!(
            run("", " mcast_dst_ip ff02::14", V6),
            Ok((ip("ff02::14"), false))
        );
    }

    #[test]
    fn what_keepalived_skips_is_refused() {
        let refused =
            |k: &str, v: &str| Err(format!("(A) {k} {v:?} is not supported by keepalived-lite"));
        let k = "mcast_dst_ip";
        assert_eq!(
            run("", " mcast_dst_ip 10.0.0.1", V4),
            refused(k, "10.0.0.1")
        );
        assert_eq!(
            run("", " mcast_dst_ip ff02::13", V4),
            refused(k, "ff02::13")
        );
        // keepalived wants a link-local group for an instance.
        assert_eq!(
            run("", " mcast_dst_ip ff05::13", V6),
            refused(k, "ff05::13")
        );
        let unicast = " mcast_dst_ip 224.0.0.19\n unicast_peer {\n 10.0.0.2\n }";
        assert_eq!(run("", unicast, V4), refused(k, "224.0.0.19"));
        let k = "vrrp_mcast_group6";
        assert_eq!(
            run("vrrp_mcast_group6 2001:db8::1", "", V6),
            refused(k, "2001:db8::1")
        );
        let k = "vrrp_mcast_group4";
        assert_eq!(
            run("vrrp_mcast_group4 10.1.1.1", "", V4),
            refused(k, "10.1.1.1")
        );
    }

    #[test]
    fn skip_check_adv_addr_is_set_by_any_valid_argument_as_in_keepalived() {
        assert_eq!(run("", " skip_check_adv_addr", V4), Ok((None, true)));
        assert_eq!(run("", " skip_check_adv_addr false", V4), Ok((None, true)));
        assert_eq!(run("vrrp_skip_check_adv_addr", "", V4), Ok((None, true)));
        assert_eq!(
            run("", " skip_check_adv_addr maybe", V4),
            Err("(A) skip_check_adv_addr \"maybe\" is not supported by keepalived-lite".into())
        );
    }
}
