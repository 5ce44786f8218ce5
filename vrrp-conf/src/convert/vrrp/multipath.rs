//! Multipath routes: `nexthop via X dev Y weight N ...` and keepalived's
//! deprecated `ROUTE via X or Z` (vrrp_iproute.c), read from the words
//! the model keeps verbatim after the options it types, with the other
//! options found there (`protocol`, metrics, ...: `route_options`).

use std::net::IpAddr;

use vrrp::linux::NextHop;

use super::route_options::{self, Options};
use super::PlanError;
use crate::model::Route;

/// The next hops of a route (empty for a single-path one), each with
/// the name of its `dev`, and the route's other options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Hops {
    /// The next hops.
    pub hops: Vec<NextHop>,
    /// Their `dev`s, in order.
    pub devs: Vec<Option<String>>,
    /// The options other than next hops (`protocol`, metrics, ...).
    pub options: Options,
}

/// Reads `r.other`: `no_track` (read by [`super::route`]), `or ADDR` (the
/// route's `via` and ADDR become two next hops), the options of
/// `route_options`, `nexthop ...` to the end. Anything else is refused by
/// name.
pub(crate) fn hops(owner: &str, r: &Route) -> Result<Hops, PlanError> {
    let bad = |value: &str| PlanError::Bad {
        instance: owner.to_owned(),
        keyword: "route",
        value: value.to_owned(),
    };
    let ipv6 = r.dst.addr().is_ipv6();
    let gateway = |v: &str| match v.parse::<IpAddr>() {
        Ok(a) if a.is_ipv6() == ipv6 => Ok(a),
        _ => Err(bad(v)),
    };
    let mut out = Hops::default();
    let mut it = r.other.iter().map(String::as_str).peekable();
    while let Some(word) = it.next() {
        match word {
            "no_track" => {}
            "or" => {
                let next = it.next().ok_or_else(|| bad(word))?;
                // keepalived takes the first `or` only.
                if !out.hops.is_empty() {
                    continue;
                }
                for g in [r.via, Some(gateway(next)?)] {
                    out.hops.push(NextHop {
                        gateway: g,
                        ..NextHop::default()
                    });
                    out.devs.push(None);
                }
            }
            "nexthop" => {
                if !out.hops.is_empty() {
                    return Err(bad("nexthop with or"));
                }
                let mut hop = NextHop::default();
                let mut dev = None;
                loop {
                    match it.next() {
                        None => break,
                        Some("nexthop") => {
                            out.hops.push(std::mem::take(&mut hop));
                            out.devs.push(dev.take());
                        }
                        Some("via") => {
                            let mut v = it.next().ok_or_else(|| bad("via"))?;
                            if v == "inet" || v == "inet6" {
                                v = it.next().ok_or_else(|| bad("via"))?;
                            }
                            hop.gateway = Some(gateway(v)?);
                        }
                        Some("dev") => dev = Some(it.next().ok_or_else(|| bad("dev"))?.to_owned()),
                        Some("weight") => {
                            let w = it.next().ok_or_else(|| bad("weight"))?;
                            match w.parse::<u16>() {
                                Ok(n) if (1..=256).contains(&n) => hop.weight = Some(n),
                                _ => return Err(bad(w)),
                            }
                        }
                        Some("onlink") => hop.onlink = true,
                        // Read (and refused) as keepalived 2.2.7 reads it,
                        // then not sent: see `nexthop_encap_notes`.
                        Some("encap") => {
                            route_options::encap(&mut it)
                                .map_err(|v| bad(if v.is_empty() { "encap" } else { v }))?;
                        }
                        Some(other) => return Err(bad(other)),
                    }
                }
                out.hops.push(hop);
                out.devs.push(dev);
            }
            other => match route_options::read(&mut out.options, other, &mut it, ipv6) {
                Ok(true) => {}
                Ok(false) => return Err(bad(other)),
                Err(v) => return Err(bad(if v.is_empty() { other } else { v })),
            },
        }
    }
    Ok(out)
}

/// `encap` in a `nexthop`: keepalived 2.2.7 reads it (and reports what
/// it cannot read) but never sends it, its room for the next hop's
/// attributes being spent before the encapsulation is added; the next
/// hop goes in without it (seen in `tests/vm_vrrp.rs`). keepalived-lite
/// does the same and says so: a note per route.
pub(crate) fn nexthop_encap_notes(p: &crate::Parsed, out: &mut Vec<crate::Diagnostic>) {
    let c = &p.config;
    let routes =
        (c.static_routes.iter()).chain(c.vrrp_instances.iter().flat_map(|i| &i.virtual_routes));
    for r in routes {
        let mut words = r.other.iter().skip_while(|w| *w != "nexthop");
        if words.any(|w| w == "encap") {
            let msg = "encap in a nexthop is accepted without effect: keepalived 2.2.7 \
                       installs the next hop without it";
            out.push(crate::Diagnostic::warning(
                crate::Code::NoEffect,
                r.dst.span,
                msg,
            ));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // tests: a panic is a failed test
mod tests {
    use super::*;

    fn route(text: &str) -> Route {
        let t = format!("static_routes {{\n{text}\n}}\n");
        let p = crate::parse_str("t.conf", &t, &crate::Options::default());
        p.config.static_routes[0].clone()
    }

    fn hop(via: &str, weight: Option<u16>) -> NextHop {
        NextHop {
            gateway: Some(via.parse().unwrap()),
            weight,
            ..NextHop::default()
        }
    }

    #[test]
    fn or_makes_the_via_and_its_address_two_next_hops() {
        let r = route("192.168.113.0/24 via 192.168.100.252 or 192.168.100.253");
        let h = hops("s", &r).unwrap();
        assert_eq!(
            h.hops,
            [hop("192.168.100.252", None), hop("192.168.100.253", None)]
        );
        assert_eq!(h.devs, [None, None]);
    }

    #[test]
    fn nexthops_with_dev_and_weight() {
        let r = route(
            "10.9.0.0/16 nexthop via 10.0.0.1 dev eth0 weight 2 nexthop via 10.0.1.1 dev eth1 onlink",
        );
        let h = hops("s", &r).unwrap();
        let mut second = hop("10.0.1.1", None);
        second.onlink = true;
        assert_eq!(h.hops, [hop("10.0.0.1", Some(2)), second]);
        assert_eq!(h.devs, [Some("eth0".into()), Some("eth1".into())]);
    }

    #[test]
    fn protocol_onlink_and_metrics_before_the_next_hops() {
        let r = route("10.9.0.0/16 protocol static onlink mtu lock 1400 advmss 1300 mtu 1500 nexthop via 10.0.0.1");
        let h = hops("s", &r).unwrap().options;
        assert_eq!((h.protocol, h.onlink), (Some(4), true));
        let m = |kind, value, lock| vrrp::linux::Metric { kind, value, lock };
        use vrrp::linux::MetricKind::{Advmss, Mtu};
        assert_eq!(h.metrics, [m(Advmss, 1300, false), m(Mtu, 1500, false)]);
        assert_eq!(hops("s", &r).unwrap().hops, [hop("10.0.0.1", None)]);
    }

    #[test]
    fn refused_by_name() {
        let r = route("10.9.0.0/16 nexthop via 10.0.0.1 weight 0");
        assert!(matches!(hops("s", &r), Err(PlanError::Bad { value, .. }) if value == "0"));
        let r = route("10.9.0.0/16 nexthop via 2001:db8::1");
        assert!(hops("s", &r).is_err());
        let r = route("10.9.0.0/16 via 10.0.0.1 encap seg6 mode inline");
        assert!(matches!(hops("s", &r), Err(PlanError::Bad { value, .. }) if value == "seg6"));
        let r = route("10.9.0.0/16 via 10.0.0.1 rtt");
        assert!(matches!(hops("s", &r), Err(PlanError::Bad { value, .. }) if value == "rtt"));
        let r = route("10.9.0.0/16 via 10.0.0.1 protocol nosuch");
        assert!(matches!(hops("s", &r), Err(PlanError::Bad { value, .. }) if value == "nosuch"));
        assert!(hops("s", &route("10.9.0.0/16 dev eth0 no_track"))
            .unwrap()
            .hops
            .is_empty());
    }

    #[test]
    fn encap_in_a_nexthop_is_read_then_left_out() {
        let r = route(
            "10.9.0.0/16 nexthop via 10.0.0.1 dev eth0 encap mpls 100/200 weight 2 \
             nexthop via 10.0.1.1 encap ip id 7 dst 10.0.0.9 ttl 3",
        );
        let h = hops("s", &r).unwrap();
        assert_eq!(h.hops, [hop("10.0.0.1", Some(2)), hop("10.0.1.1", None)]);
        assert_eq!(h.devs, [Some("eth0".into()), None]);
        // What keepalived 2.2.7 cannot read is refused, as at route level.
        for (text, value) in [
            ("encap mpls 1/2/3", "1/2/3"),
            ("encap seg6 mode inline", "seg6"),
            ("encap", "encap"),
            ("encap ip ttl 5", "ip"),
        ] {
            let r = route(&format!("10.9.0.0/16 nexthop via 10.0.0.1 {text}"));
            let err = hops("s", &r);
            assert!(
                matches!(&err, Err(PlanError::Bad { value: v, .. }) if v == value),
                "{text}: {err:?}"
            );
        }
    }

    #[test]
    fn encap_in_a_nexthop_is_noted_at_its_route() {
        let text = "static_routes {\n  10.8.0.0/16 via 10.0.0.1 encap mpls 5\n  \
                    10.9.0.0/16 nexthop via 10.0.0.1 encap mpls 100 nexthop via 10.0.0.2\n}\n\
                    vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n  \
                    virtual_ipaddress {\n    192.0.2.1\n  }\n  virtual_routes {\n    \
                    10.7.0.0/16 nexthop via 10.0.0.1 nexthop via 10.0.0.2 encap ila 1:2:3:4\n  }\n}\n";
        let p = crate::parse_str("k.conf", text, &crate::Options::default());
        let mut out = Vec::new();
        nexthop_encap_notes(&p, &mut out);
        let shown: Vec<String> = (out.iter())
            .map(|d| d.display(&p.sources).to_string())
            .collect();
        let note = "warning: encap in a nexthop is accepted without effect: keepalived 2.2.7 \
                    installs the next hop without it";
        assert_eq!(
            shown,
            [
                format!("k.conf:3:3: {note}"),
                format!("k.conf:12:5: {note}")
            ]
        );
    }
}
