//! keepalived's SNMP settings in `global_defs`: `enable_snmp_vrrp` (and
//! its old name `enable_snmp_keepalived`, which in keepalived 2.2.7 means
//! the VRRP part only), `enable_snmp_checker`, `enable_snmp_rfcv2`,
//! `enable_snmp_rfcv3`, `enable_snmp_rfc` (both RFC MIBs), `enable_traps`
//! (the VRRP and the checker notifications) and `snmp_socket`.

use crate::diagnostics::{Code, Diagnostic};
use crate::model::Config;
use crate::Parsed;

/// The `global_defs` SNMP keywords this conversion consumes.
pub(crate) const USED: &[&str] = &[
    "enable_snmp_checker",
    "enable_snmp_keepalived",
    "enable_snmp_rfc",
    "enable_snmp_rfcv2",
    "enable_snmp_rfcv3",
    "enable_snmp_vrrp",
    "enable_traps",
    "snmp_socket",
];

/// What `global_defs` asks of SNMP (the command line's `-x` and `-A` are
/// the daemon's to add).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnmpSettings {
    /// KEEPALIVED-MIB's VRRP part (`enable_snmp_vrrp`).
    pub vrrp: bool,
    /// KEEPALIVED-MIB's checker part (`enable_snmp_checker`).
    pub checker: bool,
    /// RFC 2787's VRRP-MIB (`enable_snmp_rfcv2`, `enable_snmp_rfc`).
    pub rfcv2: bool,
    /// RFC 6527's VRRPv3-MIB (`enable_snmp_rfcv3`, `enable_snmp_rfc`).
    pub rfcv3: bool,
    /// `enable_traps`.
    pub traps: bool,
    /// `snmp_socket`: the first one given (keepalived ignores later ones).
    pub socket: Option<String>,
}

impl SnmpSettings {
    /// The settings of `c`.
    pub fn of(c: &Config) -> SnmpSettings {
        let g = &c.global_defs.other;
        let has = |k: &str| g.iter().any(|s| s.keyword == k);
        SnmpSettings {
            vrrp: has("enable_snmp_vrrp") || has("enable_snmp_keepalived"),
            checker: has("enable_snmp_checker"),
            rfcv2: has("enable_snmp_rfcv2") || has("enable_snmp_rfc"),
            rfcv3: has("enable_snmp_rfcv3") || has("enable_snmp_rfc"),
            traps: has("enable_traps"),
            socket: (g.iter())
                .find(|s| s.keyword == "snmp_socket" && s.args.len() == 1)
                .and_then(|s| s.args.first().cloned()),
        }
    }
}

/// keepalived's complaints about these keywords.
pub(crate) fn audit(p: &Parsed, out: &mut Vec<Diagnostic>) {
    for s in &p.config.global_defs.other {
        if s.keyword == "snmp_socket" && s.args.len() != 1 {
            let msg = if s.args.is_empty() {
                "SNMP error : snmp socket name missing"
            } else {
                "Too many parameters specified for snmp_socket - ignoring"
            };
            out.push(Diagnostic::error(
                Code::InvalidValue,
                s.span,
                msg.to_owned(),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    fn convert(text: &str) -> (SnmpSettings, Vec<String>) {
        let parsed = crate::parse_str("k.conf", text, &crate::Options::default());
        let halves = crate::convert::Halves {
            vrrp: true,
            lvs: false,
        };
        let c = crate::convert::convert(&parsed, halves);
        let diags = (c.diagnostics.iter())
            .map(|d| d.display(&parsed.sources).to_string())
            .collect();
        (SnmpSettings::of(&parsed.config), diags)
    }

    const INSTANCE: &str = "vrrp_instance VI_1 {\n  interface eth0\n  virtual_router_id 1\n}\n";

    #[test]
    fn reads_the_snmp_keywords() {
        let (s, d) = convert(&format!(
            "global_defs {{\n  enable_snmp_vrrp\n  enable_snmp_rfcv2\n  enable_traps\n  \
             snmp_socket unix:/tmp/agentx\n}}\n{INSTANCE}"
        ));
        assert_eq!(
            s,
            SnmpSettings {
                vrrp: true,
                checker: false,
                rfcv2: true,
                rfcv3: false,
                traps: true,
                socket: Some("unix:/tmp/agentx".into()),
            }
        );
        assert!(d.iter().all(|d| !d.contains("snmp")), "{d:?}");
    }

    #[test]
    fn reads_the_checker_part_and_refuses_a_bare_socket() {
        let (s, d) = convert(&format!(
            "global_defs {{\n  enable_snmp_rfc\n  enable_snmp_checker\n  snmp_socket\n}}\n{INSTANCE}"
        ));
        assert_eq!(
            (s.rfcv2, s.rfcv3, s.vrrp, s.checker, s.socket),
            (true, true, false, true, None)
        );
        let snmp: Vec<&String> = d.iter().filter(|l| l.contains("snmp")).collect();
        assert_eq!(
            snmp,
            ["k.conf:4:3: error: SNMP error : snmp socket name missing"]
        );
    }

    #[test]
    fn enable_snmp_keepalived_is_the_vrrp_part_only() {
        let (s, _) = convert(&format!(
            "global_defs {{\n  enable_snmp_keepalived\n}}\n{INSTANCE}"
        ));
        assert_eq!((s.vrrp, s.checker), (true, false));
    }
}
