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
//! keepalived-lite does the same: nothing. The one source whose bytes
//! match that comparison, IPv4 2.0.0.0 (family 2, port 0 as stored),
//! would make 2.2.7 go to FAULT for good when it is deleted; that source
//! with `track_src_ip` is refused by name.

use std::net::{IpAddr, Ipv4Addr};

use super::PlanError;
use crate::model::VrrpInstance;

/// The refusal's wording (also where its span is looked up).
pub(super) const REFUSED: &str = "track_src_ip with source 2.0.0.0";

/// Refuses `track_src_ip` where keepalived 2.2.7 would act on it.
pub(super) fn track_src_ip(i: &VrrpInstance) -> Result<(), PlanError> {
    if !i.other.iter().any(|s| s.keyword == "track_src_ip") {
        return Ok(());
    }
    let quirk = IpAddr::V4(Ipv4Addr::new(2, 0, 0, 0));
    let sources = [i.mcast_src_ip, i.unicast_src_ip];
    if sources.iter().flatten().any(|a| **a == quirk) {
        return Err(PlanError::Unsupported {
            instance: i.name.clone(),
            keyword: REFUSED,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use crate::convert::{convert, Halves};
    use crate::{parse_str, Options};

    /// Whether one instance with `extra` converts, and its diagnostics.
    fn converted(extra: &str) -> (bool, Vec<String>) {
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
        (out.vrrp.is_some(), d)
    }

    #[test]
    fn track_src_ip_runs_silently_as_in_keepalived() {
        for extra in [
            "  track_src_ip\n",
            "  track_src_ip ignored words\n",
            "  mcast_src_ip 10.0.0.1\n  track_src_ip\n",
            "  unicast_src_ip 10.0.0.1\n  unicast_peer {\n    10.0.0.2\n  }\n  track_src_ip\n",
        ] {
            assert_eq!(converted(extra), (true, vec![]), "{extra}");
        }
    }

    #[test]
    fn the_one_source_keepalived_would_act_on_is_refused_at_the_keyword() {
        let (ok, d) = converted("  mcast_src_ip 2.0.0.0\n  track_src_ip\n");
        assert!(!ok);
        assert_eq!(
            d,
            ["k.conf:5:3: error: (VI_1) track_src_ip with source 2.0.0.0 is not supported by keepalived-lite"]
        );
        assert_eq!(converted("  mcast_src_ip 2.0.0.0\n"), (true, vec![]));
    }
}
