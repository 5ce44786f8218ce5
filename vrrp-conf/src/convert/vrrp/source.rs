//! `track_src_ip` (instance), as keepalived 2.2.7 runs it.
//!
//! The keyword is meant to put the instance in FAULT while its configured
//! source (`mcast_src_ip` / `unicast_src_ip`) is missing from its
//! interface. In 2.2.7 it does not: its netlink reflector compares the
//! deleted address with the first bytes of the source's `sockaddr`
//! (family and port) instead of the address, so the instance keeps its
//! state and goes on advertising from the configured source (seen running
//! keepalived 2.2.7; `tests/root_netns_srcip_twin.rs` compares both
//! daemons). Arguments are ignored, as keepalived ignores them.
//!
//! keepalived-lite does the same: nothing, except for the one source whose
//! bytes match that comparison, IPv4 2.0.0.0 (family 2, port 0 as
//! stored). Deleting it as the interface's last IPv4 address puts the
//! instance in FAULT until the next reload, in keepalived and here (the
//! driver's [`Setup::track_src_ip_quirk`](vrrp::linux::driver::Setup::track_src_ip_quirk);
//! `tests/root_netns_srcip_quirk_twin.rs`).

use std::net::IpAddr;

use vrrp::linux::driver::QUIRK_SOURCE;

use crate::model::VrrpInstance;

/// True if `i` tracks its source and that source is the one keepalived
/// 2.2.7 acts on.
pub(super) fn track_src_ip_quirk(i: &VrrpInstance) -> bool {
    let tracks = i.other.iter().any(|s| s.keyword == "track_src_ip");
    let quirk = IpAddr::V4(QUIRK_SOURCE);
    let sources = [i.mcast_src_ip, i.unicast_src_ip];
    tracks && sources.iter().flatten().any(|a| **a == quirk)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use crate::convert::{convert, Halves};
    use crate::{parse_str, Options};

    /// The diagnostics of one instance with `extra` and the routers its
    /// setup names for the quirk (none if it does not convert).
    fn converted(extra: &str) -> (Vec<String>, Option<Vec<String>>) {
        let text = format!(
            "vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 1\n{extra}  \
             virtual_ipaddress {{\n    192.0.2.1\n  }}\n}}\n"
        );
        let parsed = parse_str("k.conf", &text, &Options::default());
        assert!(!parsed.has_errors(), "{:?}", parsed.diagnostics);
        let halves = Halves {
            vrrp: true,
            lvs: false,
        };
        let out = convert(&parsed, halves);
        let d = (out.diagnostics.iter())
            .map(|d| d.display(&parsed.sources).to_string())
            .collect();
        (d, out.vrrp.map(|p| p.setup().track_src_ip_quirk))
    }

    #[test]
    fn track_src_ip_runs_silently_as_in_keepalived() {
        for extra in [
            "  track_src_ip\n",
            "  track_src_ip ignored words\n",
            "  mcast_src_ip 10.0.0.1\n  track_src_ip\n",
            "  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n  }\n  track_src_ip\n",
            "  mcast_src_ip 2.0.0.0\n",
        ] {
            assert_eq!(converted(extra), (vec![], Some(vec![])), "{extra}");
        }
    }

    #[test]
    fn the_one_source_keepalived_acts_on_is_named_for_the_driver() {
        let quirk = Some(vec!["VI_1".to_owned()]);
        let mcast = "  mcast_src_ip 2.0.0.0\n  track_src_ip\n";
        assert_eq!(converted(mcast), (vec![], quirk.clone()));
        let unicast = "  unicast_src_ip 2.0.0.0\n  unicast_peer {\n    10.0.0.2\n  }\n  \
                       track_src_ip\n";
        assert_eq!(converted(unicast), (vec![], quirk));
    }
}
