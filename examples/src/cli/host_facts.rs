//! What `-t` reads from the host for keepalived 2.2.7's duplicate VRID
//! check on unicast instances (`check_vrid_conflicts` in its `vrrp.c`).
//!
//! An instance without `unicast_src_ip` advertises from its interface's
//! address, so whether it clashes with another unicast instance of its
//! VRID whose `unicast_src_ip` is that address (and which shares a peer)
//! is known only on the host. keepalived's `-t` reads the host and refuses
//! the pair; the start-up's driver refuses it too (`MuxError::Duplicate`).
//! Here each router's source is resolved by the driver's own rule
//! ([`default_source_v4`], [`default_source_v6`]; passing over its own
//! virtual addresses, as at start-up no other router runs yet) and the
//! mux itself is asked whether the two can run side by side, so `-t` and
//! start-up give one verdict. A router whose interface or address is
//! missing is left out, as keepalived leaves out addresses it does not
//! know "at the moment" (the driver runs such a router on a stand-in,
//! next to no one).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use vrrp::config::Ipv6Config;
use vrrp::linux::driver::{default_source_v4, default_source_v6, RouterSpec};
use vrrp::linux::Netlink;
use vrrp::mux::MuxError;
use vrrp::{Config, Mux, VirtualRouter};
use vrrp_conf::convert::Converted;
use vrrp_conf::{Code, Diagnostic, Parsed, Span};

/// The interfaces and addresses of the host (the network namespace `-t`
/// runs in), in the kernel's order.
pub(crate) trait Host {
    /// The index of the interface called `name`, if there is one.
    fn index(&mut self, name: &str) -> Option<u32>;
    /// The IPv4 addresses of interface `ifindex`.
    fn ipv4(&mut self, ifindex: u32) -> Vec<Ipv4Addr>;
    /// The IPv6 addresses of interface `ifindex`.
    fn ipv6(&mut self, ifindex: u32) -> Vec<Ipv6Addr>;
}

/// The kernel's view, over rtnetlink, opened on first use (without a
/// socket there is no interface); each interface asked about once, as
/// many routers share one.
#[derive(Default)]
pub(crate) struct Kernel {
    netlink: Option<Option<Netlink>>,
    indexes: HashMap<String, Option<u32>>,
    ipv4: HashMap<u32, Vec<Ipv4Addr>>,
    ipv6: HashMap<u32, Vec<Ipv6Addr>>,
}

impl Kernel {
    fn netlink(&mut self) -> Option<&mut Netlink> {
        (self.netlink)
            .get_or_insert_with(|| Netlink::open().ok())
            .as_mut()
    }
}

impl Host for Kernel {
    fn index(&mut self, name: &str) -> Option<u32> {
        if let Some(&known) = self.indexes.get(name) {
            return known;
        }
        let index = self.netlink()?.link(name).ok().map(|l| l.index);
        self.indexes.insert(name.to_owned(), index);
        index
    }

    fn ipv4(&mut self, ifindex: u32) -> Vec<Ipv4Addr> {
        if !self.ipv4.contains_key(&ifindex) {
            let found = self.netlink().and_then(|n| n.addresses(Some(ifindex)).ok());
            let found = found.unwrap_or_default().iter().map(|a| a.addr).collect();
            self.ipv4.insert(ifindex, found);
        }
        self.ipv4.get(&ifindex).cloned().unwrap_or_default()
    }

    fn ipv6(&mut self, ifindex: u32) -> Vec<Ipv6Addr> {
        if !self.ipv6.contains_key(&ifindex) {
            let found = self
                .netlink()
                .and_then(|n| n.addresses6(Some(ifindex)).ok());
            let found = found.unwrap_or_default().iter().map(|a| a.addr).collect();
            self.ipv6.insert(ifindex, found);
        }
        self.ipv6.get(&ifindex).cloned().unwrap_or_default()
    }
}

/// keepalived's "(A) duplicate VRID conflict with B VRID N" for each pair
/// of unicast instances (A before B) that cannot run side by side once
/// their sources are read from `host`, but for those the parser already
/// reported (whose sources the configuration alone gives) or refused
/// (two VMACs of their own). Cited at B's
/// `virtual_router_id`, as the parser cites its own.
pub(crate) fn vrid_conflicts(
    parsed: &Parsed,
    converted: &Converted,
    host: &mut dyn Host,
) -> Vec<Diagnostic> {
    let Some(plan) = &converted.vrrp else {
        return Vec::new();
    };
    let routers = plan.setup().routers;
    if routers.iter().filter(|r| r.config.is_unicast()).count() < 2 {
        return Vec::new(); // nothing to compare: no need to ask the host
    }
    let resolved: Vec<_> = routers.iter().map(|s| resolve(s, host)).collect();
    let mut out = Vec::new();
    for (a, b) in clashes(&resolved) {
        let (Some(a), Some(b)) = (routers.get(a), routers.get(b)) else {
            continue;
        };
        let (a, b) = (&a.config, &b.config);
        let msg = format!(
            "({}) duplicate VRID conflict with {} VRID {}",
            a.name, b.name, b.vrid
        );
        // The parser's own verdict on the pair: this one, or its refusal
        // of two instances on VMACs of their own.
        let vmacs = format!("through VMACs ({} and {})", a.name, b.name);
        let known = |d: &Diagnostic| d.message == msg || d.message.contains(&vmacs);
        if parsed.diagnostics.iter().any(known) {
            continue;
        }
        out.push(Diagnostic::error(
            Code::Duplicate,
            vrid_span(parsed, &b.name),
            msg,
        ));
    }
    out
}

/// Where instance `name` sets its `virtual_router_id`.
fn vrid_span(parsed: &Parsed, name: &str) -> Span {
    let at = (parsed.config.vrrp_instances.iter()).position(|i| i.name == name);
    at.and_then(|i| parsed.span_of(vrrp_conf::Object::Instance(i), "virtual_router_id"))
        .unwrap_or_default()
}

/// A unicast router's interface index and its configuration with the
/// source the driver would give it; `None` for a multicast router, or if
/// its interface or address is missing.
fn resolve(spec: &RouterSpec, host: &mut dyn Host) -> Option<(u32, Config)> {
    if !spec.config.is_unicast() {
        return None; // nor will it be: its source cannot change that
    }
    let ifindex = host.index(&spec.interface)?;
    let mut config = spec.config.clone();
    let vip = |a: IpAddr| (spec.addresses.iter().chain(&spec.excluded)).any(|v| v.addr == a);
    // The driver's test for the family (`is_ipv6`).
    let ipv6 = config.ipv6.is_some() || spec.addresses.first().is_some_and(|a| a.addr.is_ipv6());
    if ipv6 {
        let set = (config.ipv6.as_ref()).map(|v6| v6.link_local);
        let link_local = match set.filter(|a| !a.is_unspecified()) {
            Some(a) => a,
            None => default_source_v6(&host.ipv6(ifindex), vip)?,
        };
        config
            .ipv6
            .get_or_insert_with(|| Ipv6Config::new(link_local))
            .link_local = link_local;
    } else if config.primary_ip.is_unspecified() {
        // Also with a `unicast_src_ip`: without this address the driver
        // runs the router on a stand-in.
        config.primary_ip = default_source_v4(&host.ipv4(ifindex), vip)?;
    }
    config.is_unicast().then_some((ifindex, config))
}

/// The pairs (earlier, later) of resolved routers the mux refuses to hold
/// on one interface.
fn clashes(resolved: &[Option<(u32, Config)>]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    for (i, a) in resolved.iter().enumerate() {
        let Some((ia, a)) = a else { continue };
        for (j, b) in resolved.iter().enumerate().skip(i + 1) {
            let Some((ib, b)) = b else { continue };
            if ia == ib && a.vrid == b.vrid && !side_by_side(*ia, a, b) {
                out.push((i, j));
            }
        }
    }
    out
}

/// True unless the mux's admission refuses `b` next to `a` on `ifindex`
/// (the check the driver's start-up makes).
fn side_by_side(ifindex: u32, a: &Config, b: &Config) -> bool {
    // A router the state machine refuses is the conversion's business.
    let (Ok(a), Ok(b)) = (VirtualRouter::new(a.clone()), VirtualRouter::new(b.clone())) else {
        return true;
    };
    let mut mux = Mux::new();
    mux.add_router(ifindex, a).is_err()
        || !matches!(mux.add_router(ifindex, b), Err(MuxError::Duplicate { .. }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use super::*;
    use vrrp_conf::convert::{convert, Halves};

    /// A host with one interface, `eth0` (index 7), and its addresses.
    struct Fake(Vec<Ipv4Addr>, Vec<Ipv6Addr>);

    impl Host for Fake {
        fn index(&mut self, name: &str) -> Option<u32> {
            (name == "eth0").then_some(7)
        }
        fn ipv4(&mut self, _: u32) -> Vec<Ipv4Addr> {
            self.0.clone()
        }
        fn ipv6(&mut self, _: u32) -> Vec<Ipv6Addr> {
            self.1.clone()
        }
    }

    /// A unicast instance of VRID 51 on `iface` peering with 10.77.0.2.
    fn instance(name: &str, iface: &str, src: Option<&str>, vip: u8) -> String {
        let src = src.map_or(String::new(), |s| format!("  unicast_src_ip {s}\n"));
        format!(
            "vrrp_instance {name} {{\n  interface {iface}\n  virtual_router_id 51\n{src}  \
             unicast_peer {{\n    10.77.0.2\n  }}\n  \
             virtual_ipaddress {{\n    10.77.0.{vip}/24\n  }}\n}}\n"
        )
    }

    /// [`instance`] in IPv6: peer fe80::2, address 2001:db8::`vip`.
    fn instance6(name: &str, src: Option<&str>, vip: u8) -> String {
        (instance(name, "eth0", src, vip).replace("10.77.0.2", "fe80::2"))
            .replace(&format!("10.77.0.{vip}/24"), &format!("2001:db8::{vip}/64"))
    }

    /// What `vrid_conflicts` reports for `text` on a host whose `eth0`
    /// has the IPv4 `addresses` and `V6`: "LINE: message".
    fn conflicts(text: &str, addresses: &[[u8; 4]]) -> Vec<String> {
        conflicts_with(text, addresses, &V6)
    }

    const V6: [&str; 3] = ["2001:db8::9", "fe80::1", "fe80::5"];

    fn conflicts_with(text: &str, v4: &[[u8; 4]], v6: &[&str]) -> Vec<String> {
        let parsed = vrrp_conf::parse_str("k.conf", text, &Default::default());
        let converted = convert(&parsed, Halves::keepalived(&parsed.config, true, false));
        let v4 = v4.iter().map(|a| Ipv4Addr::from(*a)).collect();
        let mut host = Fake(v4, v6.iter().map(|a| a.parse().unwrap()).collect());
        (vrid_conflicts(&parsed, &converted, &mut host).iter())
            .map(|d| format!("{}: {}", d.span.line, d.message))
            .collect()
    }

    const HOST: [[u8; 4]; 2] = [[10, 77, 0, 1], [10, 77, 0, 5]];

    #[test]
    fn a_source_set_to_the_other_instances_interface_address_clashes() {
        let text =
            instance("VI_B", "eth0", Some("10.77.0.1"), 100) + &instance("VI_C", "eth0", None, 101);
        let want = ["14: (VI_B) duplicate VRID conflict with VI_C VRID 51"];
        assert_eq!(conflicts(&text, &HOST), want);
        // The other way round, cited at the later instance.
        let text =
            instance("VI_C", "eth0", None, 101) + &instance("VI_B", "eth0", Some("10.77.0.1"), 100);
        let want = ["13: (VI_C) duplicate VRID conflict with VI_B VRID 51"];
        assert_eq!(conflicts(&text, &HOST), want);
    }

    #[test]
    fn the_interface_address_is_the_first_that_is_no_virtual_address() {
        let text =
            instance("VI_B", "eth0", Some("10.77.0.1"), 100) + &instance("VI_C", "eth0", None, 101);
        // VI_C's source is 10.77.0.5 here: no clash.
        assert!(conflicts(&text, &[[10, 77, 0, 5], [10, 77, 0, 1]]).is_empty());
        // Its own virtual address first (as once it was master): skipped.
        let vip_first = [[10, 77, 0, 101], [10, 77, 0, 1]];
        assert_eq!(conflicts(&text, &vip_first).len(), 1);
    }

    #[test]
    fn distinct_sources_no_shared_peer_or_unknown_addresses_do_not_clash() {
        let b = instance("VI_B", "eth0", Some("10.77.0.5"), 100);
        let c = instance("VI_C", "eth0", None, 101);
        assert!(conflicts(&(b + &c), &HOST).is_empty());
        let b = instance("VI_B", "eth0", Some("10.77.0.1"), 100);
        let other_peer = c.replace("10.77.0.2", "10.77.0.3");
        assert!(conflicts(&(b.clone() + &other_peer), &HOST).is_empty());
        // No address on eth0, or no eth0: keepalived compares nothing.
        assert!(conflicts(&(b.clone() + &c), &[]).is_empty());
        let elsewhere = instance("VI_C", "eth9", None, 101);
        assert!(conflicts(&(b + &elsewhere), &HOST).is_empty());
    }

    #[test]
    fn an_ipv6_source_is_the_first_link_local_address() {
        let text = instance6("VI_B", Some("fe80::1"), 100) + &instance6("VI_C", None, 101);
        let want = ["14: (VI_B) duplicate VRID conflict with VI_C VRID 51"];
        assert_eq!(conflicts(&text, &HOST), want);
        assert!(conflicts_with(&text, &HOST, &["fe80::5", "fe80::1"]).is_empty());
        // No link-local address: its source is unknown.
        assert!(conflicts_with(&text, &HOST, &["2001:db8::9"]).is_empty());
    }

    #[test]
    fn pairs_the_parser_reports_are_not_reported_twice() {
        let text = instance("VI_B", "eth0", None, 100) + &instance("VI_C", "eth0", None, 101);
        let parsed = vrrp_conf::parse_str("k.conf", &text, &Default::default());
        let dup = "(VI_B) duplicate VRID conflict with VI_C VRID 51";
        assert!(parsed.diagnostics.iter().any(|d| d.message == dup));
        assert!(conflicts(&text, &HOST).is_empty());
    }
}
