//! How an operator names a virtual server and one of its real servers
//! (the control socket's `drain` and `restore`).
//!
//! A virtual server is named
//! - as keepalived's logs and dumps (and `status`) name it:
//!   `[10.0.0.1]:tcp:80`, `FWM 5`, `[GROUP]:0`;
//! - as `ipvsadm -S -n` does, without the flag: `10.0.0.1:80` or
//!   `[fd00::1]:80`, with the protocol in front when the address and port
//!   serve several (`tcp 10.0.0.1:80`, also `tcp:10.0.0.1:80`); an address
//!   of a `virtual_server group` names the group;
//! - `fwmark 5` (also `fwmark:5`, `FWM 5`) or `group NAME`.
//!
//! A real server of it is named as keepalived names it
//! (`[10.1.0.1]:tcp:8080`), by its `ADDR:PORT` as the kernel's table
//! shows it (as in keepalived's name, a DR or TUN server has the
//! service's port, 0 under a fwmark, whatever port the configuration
//! gives), or by its address alone when only one real server of the
//! virtual server has it. Sorry servers are not real servers here.

use std::net::{IpAddr, SocketAddr};

use ipvs::{Protocol, ServiceKey};

use crate::lvs_mode::plan::{Plan, ServicePlan};
use crate::lvs_mode::table::Slot;

/// Why a name does not lead to one real server.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NameError {
    /// No virtual server of the running configuration has that name.
    #[error("no virtual server {0}")]
    UnknownVirtualServer(String),
    /// The name fits several virtual servers (give the protocol).
    #[error("{given} names several virtual servers: {}", .matches.join(", "))]
    AmbiguousVirtualServer {
        /// The name given.
        given: String,
        /// keepalived's names of those it fits.
        matches: Vec<String>,
    },
    /// The virtual server has no real server of that name.
    #[error("virtual server {vs} has no real server {rs}")]
    UnknownRealServer {
        /// keepalived's name of the virtual server.
        vs: String,
        /// The name given.
        rs: String,
    },
    /// The address fits several real servers of the virtual server (give
    /// the port).
    #[error("{given} names several real servers of {vs}: {}", .matches.join(", "))]
    AmbiguousRealServer {
        /// keepalived's name of the virtual server.
        vs: String,
        /// The name given.
        given: String,
        /// keepalived's names of those it fits.
        matches: Vec<String>,
    },
}

impl NameError {
    /// A short stable word for the kind of error (the control socket's
    /// `reason`).
    pub fn reason(&self) -> &'static str {
        match self {
            Self::UnknownVirtualServer(_) => "unknown_virtual_server",
            Self::AmbiguousVirtualServer { .. } => "ambiguous_virtual_server",
            Self::UnknownRealServer { .. } => "unknown_real_server",
            Self::AmbiguousRealServer { .. } => "ambiguous_real_server",
        }
    }
}

/// The (service, real server) of `plan` that `vs` and `rs` name.
pub fn find(plan: &Plan, vs: &str, rs: &str) -> Result<Slot, NameError> {
    let s = service(plan, vs.trim())?;
    let svc = plan
        .services
        .get(s)
        .ok_or_else(|| NameError::UnknownVirtualServer(vs.to_owned()))?;
    Ok((s, real_server(svc, rs.trim())?))
}

/// The index of the service `given` names.
fn service(plan: &Plan, given: &str) -> Result<usize, NameError> {
    let by_name = |svc: &ServicePlan| svc.name.eq_ignore_ascii_case(given);
    if let Some(s) = plan.services.iter().position(by_name) {
        return Ok(s);
    }
    let wanted =
        VsName::parse(given).ok_or_else(|| NameError::UnknownVirtualServer(given.to_owned()))?;
    let found: Vec<usize> = (plan.services.iter().enumerate())
        .filter(|(_, svc)| wanted.fits(svc))
        .map(|(s, _)| s)
        .collect();
    match found[..] {
        [s] => Ok(s),
        [] => Err(NameError::UnknownVirtualServer(given.to_owned())),
        _ => Err(NameError::AmbiguousVirtualServer {
            given: given.to_owned(),
            matches: found
                .iter()
                .map(|&s| plan.services[s].name.clone())
                .collect(),
        }),
    }
}

/// A virtual server's name in one of the forms besides keepalived's.
enum VsName {
    Addr(Option<Protocol>, SocketAddr),
    Fwmark(u32),
    Group(String),
}

impl VsName {
    fn parse(given: &str) -> Option<Self> {
        let (head, rest) = split_word(given);
        let lower = head.to_ascii_lowercase();
        match lower.as_str() {
            "fwmark" | "fwm" => rest.parse().ok().map(Self::Fwmark),
            "group" if !rest.is_empty() => Some(Self::Group(rest.to_owned())),
            "tcp" | "udp" | "sctp" => {
                let proto = match lower.as_str() {
                    "tcp" => Protocol::Tcp,
                    "udp" => Protocol::Udp,
                    _ => Protocol::Sctp,
                };
                Some(Self::Addr(Some(proto), rest.parse().ok()?))
            }
            _ => Some(Self::Addr(None, given.parse().ok()?)),
        }
    }

    /// Whether it names `svc` (any of a group's services).
    fn fits(&self, svc: &ServicePlan) -> bool {
        match self {
            Self::Group(g) => svc.name == format!("[{g}]:0"),
            Self::Fwmark(m) => svc
                .services()
                .any(|v| matches!(v.key, ServiceKey::Fwmark { mark, .. } if mark == *m)),
            Self::Addr(proto, at) => svc.services().any(|v| match v.key {
                ServiceKey::Addr { protocol, addr } => {
                    addr == *at && proto.is_none_or(|p| p == protocol)
                }
                ServiceKey::Fwmark { .. } => false,
            }),
        }
    }
}

/// `WORD REST` or `WORD:REST` (the word a keyword: a letter first), else
/// (`given`, "").
fn split_word(given: &str) -> (&str, &str) {
    let cut = given.find([' ', ':']);
    match cut {
        Some(i) if given.starts_with(|c: char| c.is_ascii_alphabetic()) => {
            let (head, rest) = given.split_at(i);
            (head, rest[1..].trim())
        }
        _ => (given, ""),
    }
}

/// The index of the real server of `svc` that `given` names.
fn real_server(svc: &ServicePlan, given: &str) -> Result<usize, NameError> {
    let unknown = || NameError::UnknownRealServer {
        vs: svc.name.clone(),
        rs: given.to_owned(),
    };
    let by_name = |r: &crate::lvs_mode::plan::RealPlan| r.name.eq_ignore_ascii_case(given);
    if let Some(r) = svc.real_servers.iter().position(by_name) {
        return Ok(r);
    }
    let found: Vec<usize> = if let Ok(at) = given.parse::<SocketAddr>() {
        (svc.real_servers.iter().enumerate())
            .filter(|(_, r)| r.dest.addr == at)
            .map(|(r, _)| r)
            .collect()
    } else {
        let ip: IpAddr = given.parse().map_err(|_| unknown())?;
        (svc.real_servers.iter().enumerate())
            .filter(|(_, r)| r.dest.addr.ip() == ip)
            .map(|(r, _)| r)
            .collect()
    };
    match found[..] {
        [r] => Ok(r),
        [] => Err(unknown()),
        _ => Err(NameError::AmbiguousRealServer {
            vs: svc.name.clone(),
            given: given.to_owned(),
            matches: found
                .iter()
                .map(|&r| svc.real_servers[r].name.clone())
                .collect(),
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failed test

    use super::*;

    const CONF: &str = "virtual_server 10.0.0.1 80 {
  protocol TCP
  real_server 10.1.0.1 8081 {
  }
  real_server 10.1.0.2 8082 {
  }
  real_server 10.1.0.2 8083 {
  }
}
virtual_server 10.0.0.1 80 {
  protocol UDP
  real_server 10.1.0.1 80 {
  }
}
virtual_server 10.0.0.2 80 {
  protocol TCP
  lb_kind DR
  real_server 10.1.0.1 8080 {
  }
}
virtual_server fwmark 7 {
  lb_kind TUN
  real_server 10.1.0.9 80 {
  }
}
virtual_server_group G {
  10.0.9.1-2 80
}
virtual_server group G {
  protocol TCP
  real_server 10.1.0.5 80 {
  }
}
";

    fn plan() -> Plan {
        let parsed = vrrp_conf::parse_str("t.conf", CONF, &vrrp_conf::Options::default());
        crate::lvs_mode::plan::build(&parsed.config).unwrap()
    }

    #[test]
    fn every_documented_form_names_its_server() {
        let p = plan();
        for (vs, rs, slot) in [
            ("[10.0.0.1]:tcp:80", "[10.1.0.1]:tcp:8081", (0, 0)),
            ("tcp 10.0.0.1:80", "10.1.0.1:8081", (0, 0)),
            ("TCP:10.0.0.1:80", "10.1.0.1", (0, 0)),
            ("udp 10.0.0.1:80", "10.1.0.1", (1, 0)),
            ("[10.0.0.1]:udp:80", "10.1.0.1:80", (1, 0)),
            ("tcp 10.0.0.1:80", "10.1.0.2:8083", (0, 2)),
            // DR and TUN: the port of the table (and of keepalived's name).
            ("10.0.0.2:80", "10.1.0.1:80", (2, 0)),
            ("10.0.0.2:80", "[10.1.0.1]:tcp:80", (2, 0)),
            ("fwmark 7", "10.1.0.9:0", (3, 0)),
            ("fwmark:7", "10.1.0.9", (3, 0)),
            ("FWM 7", "[10.1.0.9]:none:0", (3, 0)),
            ("group G", "10.1.0.5:80", (4, 0)),
            ("[G]:0", "10.1.0.5", (4, 0)),
            ("10.0.9.2:80", "10.1.0.5", (4, 0)),
        ] {
            assert_eq!(find(&p, vs, rs), Ok(slot), "{vs} {rs}");
        }
        // DR: not the configured port.
        assert_eq!(
            find(&p, "10.0.0.2:80", "10.1.0.1:8080")
                .unwrap_err()
                .reason(),
            "unknown_real_server"
        );
    }

    #[test]
    fn wrong_or_ambiguous_names_are_typed_errors() {
        let p = plan();
        let err = |vs, rs| find(&p, vs, rs).unwrap_err();
        assert_eq!(
            err("10.0.0.1:80", "10.1.0.1"),
            NameError::AmbiguousVirtualServer {
                given: "10.0.0.1:80".into(),
                matches: vec!["[10.0.0.1]:tcp:80".into(), "[10.0.0.1]:udp:80".into()],
            }
        );
        for vs in [
            "10.0.0.3:80",
            "fwmark 8",
            "fwmark x",
            "group H",
            "nonsense",
            "",
        ] {
            assert_eq!(
                err(vs, "10.1.0.1"),
                NameError::UnknownVirtualServer(vs.into()),
                "{vs}"
            );
        }
        let e = err("tcp 10.0.0.1:80", "10.1.0.2");
        assert_eq!(e.reason(), "ambiguous_real_server");
        assert_eq!(
            e.to_string(),
            "10.1.0.2 names several real servers of [10.0.0.1]:tcp:80: \
             [10.1.0.2]:tcp:8082, [10.1.0.2]:tcp:8083"
        );
        // The table's port only (NAT: the configured one).
        for rs in ["10.1.0.1:80", "10.1.0.3", "[10.1.0.1]:udp:8081", "x"] {
            assert_eq!(
                err("tcp 10.0.0.1:80", rs),
                NameError::UnknownRealServer {
                    vs: "[10.0.0.1]:tcp:80".into(),
                    rs: rs.into()
                },
                "{rs}"
            );
        }
        assert_eq!(
            err("tcp 10.0.0.1:80", "10.1.0.1:80").to_string(),
            "virtual server [10.0.0.1]:tcp:80 has no real server 10.1.0.1:80"
        );
    }
}
