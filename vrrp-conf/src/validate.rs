//! Checks across objects, with keepalived's semantics: scripts without a
//! command, references to unknown scripts, instances and groups, AH with an
//! initial MASTER state, nopreempt at priority 255, a unicast peer whose
//! `min_ttl` exceeds its `max_ttl`, duplicate VRIDs on one
//! interface, protocols on fwmark services, and script security.

use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::diagnostics::{Code, Diagnostic};
use crate::lower::{ObjSpans, Spans};
use crate::model::{
    AuthType, Config, GlobalDefs, Setting, State, Track, UnicastPeer, VrrpInstance, VsTarget,
};
use crate::span::Span;

pub(crate) fn check(c: &Config, sp: &Spans, out: &mut Vec<Diagnostic>) {
    scripts(c, sp, out);
    instances(c, sp, out);
    groups(c, sp, out);
    virtual_servers(c, sp, out);
    script_security(c, sp, out);
}

fn scripts(c: &Config, sp: &Spans, out: &mut Vec<Diagnostic>) {
    for (s, span) in c.vrrp_scripts.iter().zip(&sp.scripts) {
        if s.script.is_none() {
            let msg = format!("no script set for vrrp_script {}, it is removed", s.name);
            out.push(Diagnostic::error(Code::Missing, span.end, msg));
        }
    }
}

/// Where each usable vrrp_script (one with a command) is first defined.
fn script_order(c: &Config) -> HashMap<&str, usize> {
    let mut first = HashMap::new();
    for (n, s) in c.vrrp_scripts.iter().enumerate() {
        if s.script.is_some() {
            first.entry(s.name.as_str()).or_insert(n);
        }
    }
    first
}

/// `track_script` entries naming no script defined before `owner`:
/// keepalived 2.2.7 resolves them as it reads them and ignores those.
fn unknown_tracks(
    owner: &str,
    tracks: &[Track],
    span: &ObjSpans,
    scripts: &HashMap<&str, usize>,
    out: &mut Vec<Diagnostic>,
) {
    for (t, at) in tracks.iter().zip(&span.tracks) {
        let msg = match scripts.get(t.name.as_str()) {
            Some(&n) if n < span.scripts_before => continue,
            Some(_) => format!(
                "({owner}) track script {} not found: it is defined only further on, and keepalived needs it first",
                t.name
            ),
            None => format!("({owner}) track script {} not found", t.name),
        };
        out.push(Diagnostic::error(Code::UnknownReference, *at, msg));
    }
}

fn instances(c: &Config, sp: &Spans, out: &mut Vec<Diagnostic>) {
    let scripts = script_order(c);
    let mut names = HashSet::new();
    let mut vrids: HashMap<VridKey<'_>, Vec<&VrrpInstance>> = HashMap::new();
    for (i, span) in c.vrrp_instances.iter().zip(&sp.instances) {
        let name = &i.name;
        if !names.insert(name.as_str()) {
            let msg = format!("vrrp_instance {name} is defined twice");
            out.push(Diagnostic::error(Code::Duplicate, span.head, msg));
        }
        unknown_tracks(name, &i.track_script, span, &scripts, out);
        if i.virtual_ipaddress.is_empty() {
            let msg = format!("({name}) no virtual_ipaddress specified; at least one is sensible");
            out.push(Diagnostic::warning(Code::Missing, span.head, msg));
        }
        conflicts(i, span, out);
        unique_vrid(&c.global_defs, i, span, &mut vrids, out);
    }
}

/// Settings of one instance that contradict each other.
fn conflicts(i: &VrrpInstance, span: &ObjSpans, out: &mut Vec<Diagnostic>) {
    let name = &i.name;
    let ah = i.authentication.as_ref().and_then(|a| a.auth_type) == Some(AuthType::Ah);
    if ah && i.state == Some(State::Master) {
        let msg = format!("({name}) initial state MASTER is incompatible with AH authentication");
        let at = span.key("auth_type");
        out.push(Diagnostic::error(Code::Conflict, at, msg));
    }
    if i.nopreempt && i.priority == Some(255) {
        let msg = format!("({name}) nopreempt is ignored with priority 255 (address owner)");
        let at = span.key("nopreempt");
        out.push(Diagnostic::error(Code::Conflict, at, msg));
    }
    for p in &i.unicast_peer {
        let (min, max) = (p.min_ttl.unwrap_or(0), p.max_ttl.unwrap_or(255));
        if min > max {
            let msg =
                format!("({name}) min_ttl {min} > max_ttl {max} - all packets will be discarded");
            out.push(Diagnostic::error(
                Code::Conflict,
                span.key("unicast_peer"),
                msg,
            ));
        }
    }
}

/// What keepalived 2.2.7 keeps apart: (interface, VRID, IPv6, channel),
/// the channel being the multicast group, or `None` for unicast peers
/// (then without the interface: `unicast_clash` compares those).
type VridKey<'c> = (&'c str, u8, bool, Option<IpAddr>);

/// The VRID is set, and no other instance uses it as keepalived 2.2.7
/// forbids (`vrids` holds those seen so far, by key): on the same
/// interface, address family and multicast group; or, with unicast peers,
/// with the same source address and a peer in common. Instances on
/// different multicast groups, one multicast and one unicast, or unicast
/// ones with no peer in common may share a VRID.
fn unique_vrid<'c>(
    g: &GlobalDefs,
    i: &'c VrrpInstance,
    span: &ObjSpans,
    vrids: &mut HashMap<VridKey<'c>, Vec<&'c VrrpInstance>>,
    out: &mut Vec<Diagnostic>,
) {
    let name = &i.name;
    let Some(vrid) = i.virtual_router_id else {
        let msg = format!("({name}) the virtual router id must be set");
        out.push(Diagnostic::error(Code::Missing, span.head, msg));
        return;
    };
    let v6 = i
        .virtual_ipaddress
        .first()
        .is_some_and(|a| a.address.addr().is_ipv6());
    let chan = channel(g, i, v6);
    let ifname = match chan {
        Some(_) => i.interface.as_deref().unwrap_or(""),
        None => "",
    };
    let seen = vrids.entry((ifname, vrid, v6, chan)).or_default();
    let at = span.key("virtual_router_id");
    if chan.is_some() {
        if let Some(other) = seen.last() {
            let (other, family) = (&other.name, if v6 { 6 } else { 4 });
            let msg = format!(
                "{other} and {name} both use VRID {vrid} with IPv{family} on interface {ifname}"
            );
            out.push(Diagnostic::error(Code::Duplicate, at, msg));
        }
    } else {
        // keepalived reports every pair in conflict.
        for other in seen.iter().filter(|o| unicast_clash(o, i)) {
            out.push(unicast_pair(other, i, vrid, at));
        }
    }
    seen.push(i);
}

/// The refusal of a clashing unicast pair. On two VMACs of their own
/// (`vmac_xmit_base`, different MACs) keepalived 2.2.7 runs both, which
/// keepalived-lite cannot (its routers are keyed by the base interface):
/// refused by name. Otherwise keepalived's own words: its `-t` says
/// nothing of a pair on one VMAC, but its start-up finds both on that
/// VMAC and stops with this error.
fn unicast_pair(a: &VrrpInstance, b: &VrrpInstance, vrid: u8, at: Span) -> Diagnostic {
    let (x, y) = (&a.name, &b.name);
    match (xmit_vmac(a), xmit_vmac(b)) {
        (Some(ma), Some(mb)) if ma != mb => {
            let iface = b.interface.as_deref().unwrap_or_default();
            let msg = format!(
                "({y}) two unicast instances sharing VRID {vrid} on {iface} through VMACs \
                 ({x} and {y}) is not supported by keepalived-lite"
            );
            Diagnostic::error(Code::Unsupported, at, msg)
        }
        _ => {
            let msg = format!("({x}) duplicate VRID conflict with {y} VRID {vrid}");
            Diagnostic::error(Code::Duplicate, at, msg)
        }
    }
}

/// With `use_vmac` and `vmac_xmit_base`: the MAC written in `use_vmac`
/// (the word with a `:`, lower-cased), or `None` for keepalived's default
/// VMAC of the VRID.
fn xmit_vmac(i: &VrrpInstance) -> Option<Option<String>> {
    let arg = i.use_vmac.as_ref()?.value.as_deref().unwrap_or_default();
    i.other.iter().find(|s| s.keyword == "vmac_xmit_base")?;
    let mac = arg.split_whitespace().find(|w| w.contains(':'));
    Some(mac.map(str::to_ascii_lowercase))
}

/// True if two unicast instances of one VRID and family conflict in
/// keepalived 2.2.7: on one interface (or one without), with one known
/// source address and a peer in common. The source is `unicast_src_ip`,
/// else the interface's address: two without `unicast_src_ip` on one
/// interface have the same; with only one set, the interface's address
/// is unknown here: keepalived-lite's `-t` reads it from the host, and
/// its start-up's driver refuses the pair.
fn unicast_clash(a: &VrrpInstance, b: &VrrpInstance) -> bool {
    let (ia, ib) = (a.interface.as_deref(), b.interface.as_deref());
    if ia.is_some() && ib.is_some() && ia != ib {
        return false;
    }
    let same_source = match (&a.unicast_src_ip, &b.unicast_src_ip) {
        (Some(x), Some(y)) => **x == **y,
        (None, None) => ia.is_some() && ib.is_some(),
        _ => false,
    };
    let peer = |p: &UnicastPeer| b.unicast_peer.iter().any(|q| *q.address == *p.address);
    same_source && a.unicast_peer.iter().any(peer)
}

/// The instance's channel: `None` with unicast peers, else its multicast
/// group (`mcast_dst_ip`, else the global group of its family, else the
/// VRRP group). A value that is not an address counts as the default: the
/// conversion refuses it by name.
fn channel(g: &GlobalDefs, i: &VrrpInstance, v6: bool) -> Option<IpAddr> {
    if !i.unicast_peer.is_empty() {
        return None;
    }
    let last = |list: &[Setting], k: &str| {
        let s = list.iter().rev().find(|s| s.keyword == k)?;
        s.args.first()?.parse::<IpAddr>().ok()
    };
    let global = if v6 {
        last(&g.other, "vrrp_mcast_group6")
    } else {
        g.vrrp_mcast_group4.as_deref().copied()
    };
    let default = if v6 {
        IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12))
    } else {
        IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18))
    };
    let group = last(&i.other, "mcast_dst_ip").or(global);
    Some(group.filter(|a| a.is_ipv6() == v6).unwrap_or(default))
}

fn groups(c: &Config, sp: &Spans, out: &mut Vec<Diagnostic>) {
    let names: HashSet<&str> = c.vrrp_instances.iter().map(|i| i.name.as_str()).collect();
    let scripts = script_order(c);
    for (g, span) in c.vrrp_sync_groups.iter().zip(&sp.groups) {
        unknown_tracks(&g.name, &g.track_script, span, &scripts, out);
        let mut known = 0;
        for (m, at) in g.group.iter().zip(&span.items) {
            if names.contains(m.as_str()) {
                known += 1;
            } else {
                let msg = format!("sync group {}: vrrp_instance {m} not found", g.name);
                out.push(Diagnostic::error(Code::UnknownReference, *at, msg));
            }
        }
        if known == 0 {
            let msg = format!(
                "sync group {} has no virtual router(s), it is removed",
                g.name
            );
            out.push(Diagnostic::error(Code::Missing, span.head, msg));
        }
    }
}

fn virtual_servers(c: &Config, sp: &Spans, out: &mut Vec<Diagnostic>) {
    let groups: HashSet<&str> = c
        .virtual_server_groups
        .iter()
        .map(|g| g.name.as_str())
        .collect();
    for (v, span) in c.virtual_servers.iter().zip(&sp.virtual_servers) {
        match &v.target {
            VsTarget::Fwmark(m) if v.protocol.is_some() => {
                let msg =
                    format!("virtual server FWM {m}: protocol specified for fwmark, it is ignored");
                out.push(Diagnostic::warning(
                    Code::Ignored,
                    span.key("protocol"),
                    msg,
                ));
            }
            VsTarget::Address { ip, port } if v.protocol.is_none() => {
                let port = port.map_or(String::new(), |p| format!(" port {p}"));
                let msg = format!(
                    "virtual server {ip}{port}: no protocol set, keepalived defaults to UDP"
                );
                out.push(Diagnostic::warning(Code::Missing, span.head, msg));
            }
            VsTarget::Group(g) if !groups.contains(g.as_str()) => {
                let msg = format!("virtual_server_group {g} not found");
                out.push(Diagnostic::error(Code::UnknownReference, span.head, msg));
            }
            _ => {}
        }
    }
}

fn script_security(c: &Config, sp: &Spans, out: &mut Vec<Diagnostic>) {
    if c.global_defs.enable_script_security {
        return;
    }
    if let Some(at) = sp.first_script {
        let msg = "scripts are configured but enable_script_security is not set: they run as root";
        out.push(Diagnostic::warning(Code::ScriptSecurity, at, msg));
    }
}

#[cfg(test)]
mod tests {
    use crate::{parse_str, Options, Severity};

    /// The messages of the error diagnostics of parsing `text`.
    fn errors(text: &str) -> Vec<String> {
        let parsed = parse_str("k.conf", text, &Options::default());
        let errs = parsed.diagnostics.into_iter();
        errs.filter(|d| d.severity == Severity::Error)
            .map(|d| d.message)
            .collect()
    }

    #[test]
    fn an_empty_peer_ttl_range_is_an_error_as_in_keepalived() {
        let conf = |range: &str| {
            format!(
                "vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 1\n \
                 virtual_ipaddress {{\n  10.0.0.100\n }}\n unicast_peer {{\n  \
                 10.0.0.2 {range}\n }}\n}}\n"
            )
        };
        let errors = |range: &str| errors(&conf(range));
        assert_eq!(
            errors("min_ttl 200 max_ttl 100"),
            ["(VI_1) min_ttl 200 > max_ttl 100 - all packets will be discarded"]
        );
        assert_eq!(
            errors("min_ttl 200"),
            Vec::<String>::new(),
            "max_ttl defaults to 255"
        );
        assert_eq!(errors("max_ttl 0").len(), 0, "min_ttl defaults to 0");
    }

    #[test]
    fn a_vrid_is_shared_across_groups_and_unicast_as_in_keepalived() {
        let inst = |name: &str, extra: &str| {
            format!(
                "vrrp_instance {name} {{\n interface eth0\n virtual_router_id 51\n{extra} \
                 virtual_ipaddress {{\n  10.0.0.100\n }}\n}}\n"
            )
        };
        let dup = ["VI_1 and VI_2 both use VRID 51 with IPv4 on interface eth0"];
        let other = " mcast_dst_ip 224.0.0.20\n";
        let unicast = " unicast_peer {\n  10.0.0.2\n }\n";
        let ok = [other, unicast].map(|e| inst("VI_1", "") + &inst("VI_2", e));
        for text in ok {
            assert_eq!(errors(&text), Vec::<String>::new(), "{text}");
        }
        // The default group named, or set globally: the same channel.
        let same = inst("VI_1", "") + &inst("VI_2", " mcast_dst_ip 224.0.0.18\n");
        assert_eq!(errors(&same), dup);
        let global = "global_defs {\n vrrp_mcast_group4 224.0.0.20\n}\n".to_owned();
        assert_eq!(
            errors(&(global + &inst("VI_1", "") + &inst("VI_2", other))),
            dup
        );
        let both = inst("VI_1", unicast) + &inst("VI_2", unicast);
        let unicast_dup = ["(VI_1) duplicate VRID conflict with VI_2 VRID 51"];
        assert_eq!(errors(&both), unicast_dup);
    }

    #[test]
    fn unicast_instances_conflict_only_with_a_peer_and_a_source_in_common() {
        let inst = |name: &str, ifname: &str, extra: &str, peers: &str| {
            format!(
                "vrrp_instance {name} {{\n interface {ifname}\n virtual_router_id 51\n{extra} \
                 unicast_peer {{\n{peers} }}\n virtual_ipaddress {{\n  10.0.0.100\n }}\n}}\n"
            )
        };
        let (b, c) = ("  10.0.0.3\n", "  10.0.0.4\n");
        let none = Vec::<String>::new();
        // One peer each: both run, as in keepalived 2.2.7.
        let apart = inst("VI_B", "eth0", "", b) + &inst("VI_C", "eth0", "", c);
        assert_eq!(errors(&apart), none);
        // A peer in common: every pair in conflict is reported.
        let bc = format!("{b}{c}");
        let shared = apart + &inst("VI_BC", "eth0", "", &bc);
        assert_eq!(
            errors(&shared),
            [
                "(VI_B) duplicate VRID conflict with VI_BC VRID 51",
                "(VI_C) duplicate VRID conflict with VI_BC VRID 51"
            ]
        );
        // Other interfaces, or other source addresses: no conflict.
        let elsewhere = inst("VI_B", "eth0", "", b) + &inst("VI_B2", "eth1", "", b);
        assert_eq!(errors(&elsewhere), none);
        let src = |a: &str| format!(" unicast_src_ip {a}\n");
        let two = |x: &str, y: &str| {
            inst("VI_B", "eth0", &src(x), b) + &inst("VI_B2", "eth0", &src(y), b)
        };
        assert_eq!(errors(&two("10.0.0.2", "10.0.0.5")), none);
        assert_eq!(
            errors(&two("10.0.0.2", "10.0.0.2")),
            ["(VI_B) duplicate VRID conflict with VI_B2 VRID 51"]
        );
    }

    #[test]
    fn unicast_instances_on_their_own_vmacs_are_refused_by_name() {
        let inst = |name: &str, vmac: &str| {
            format!(
                "vrrp_instance {name} {{\n interface eth0\n virtual_router_id 51\n \
                 use_vmac {vmac}\n vmac_xmit_base\n unicast_src_ip 10.0.0.1\n \
                 unicast_peer {{\n  10.0.0.2\n }}\n virtual_ipaddress {{\n  10.0.0.100\n }}\n}}\n"
            )
        };
        // Two MACs: keepalived 2.2.7 runs both; keepalived-lite cannot.
        let own = inst("VI_0", "") + &inst("VI_1", "vrrp2.51 02:78:00:00:00:02");
        assert_eq!(
            errors(&own),
            [
                "(VI_1) two unicast instances sharing VRID 51 on eth0 through VMACs \
              (VI_0 and VI_1) is not supported by keepalived-lite"
            ]
        );
        // One (default) MAC: keepalived's start-up finds both on one VMAC
        // and stops with a duplicate VRID conflict.
        let one = inst("VI_0", "") + &inst("VI_1", "vrrp2.51");
        assert_eq!(
            errors(&one),
            ["(VI_0) duplicate VRID conflict with VI_1 VRID 51"]
        );
        let same = inst("VI_0", "02:78:00:00:00:02") + &inst("VI_1", "02:78:00:00:00:02");
        assert_eq!(
            errors(&same),
            ["(VI_0) duplicate VRID conflict with VI_1 VRID 51"]
        );
    }
}
