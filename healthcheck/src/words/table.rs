//! The table's lines for a [`TableChange`] (check/ipwrapper.c
//! `perform_svr_state`, `update_svr_wgt`, `update_quorum_state`,
//! `perform_quorum_state`).

use crate::TableChange;

/// A virtual server as its quorum lines name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service<'a> {
    /// keepalived's name of the virtual server (`FMT_VS`).
    pub name: &'a str,
    /// `quorum`.
    pub quorum: u32,
    /// `hysteresis`.
    pub hysteresis: u32,
    /// The `sorry_server`'s name, if it has one.
    pub sorry_server: Option<&'a str>,
    /// `sorry_server_inhibit`: the sorry server stands by with weight 0.
    pub sorry_inhibit: bool,
}

/// perform_svr_state's line for a real server's change (update_svr_wgt's
/// for a new dynamic weight); `None` for a change of the whole service.
pub fn member_line(change: &TableChange, rs: &str, vs: &str) -> Option<String> {
    Some(match *change {
        TableChange::Added { .. } => format!("Adding service {rs} to VS {vs}"),
        TableChange::Removed { .. } => format!("Removing service {rs} from VS {vs}"),
        TableChange::Enabled { .. } => format!("Enabling service {rs} of VS {vs}"),
        TableChange::Disabled { .. } => format!("Disabling service {rs} of VS {vs}"),
        TableChange::Reweighted { from, to, .. } => {
            format!("Changing weight from {from} to {to} for active service {rs} of VS {vs}")
        }
        _ => return None,
    })
}

/// update_quorum_state's and perform_quorum_state's lines for a change of
/// the service's quorum or sorry server; empty where keepalived says
/// nothing.
pub fn quorum_lines(change: &TableChange, svc: &Service<'_>) -> Vec<String> {
    let (q, h) = (i64::from(svc.quorum), i64::from(svc.hysteresis));
    let vs = svc.name;
    match (change, svc.sorry_server) {
        // keepalived 2.2.7 says so at start too (update_quorum_state
        // from init_service_vs, measured in the VM).
        (TableChange::QuorumGained { weight_sum, .. }, _) => vec![format!(
            "Gained quorum {q}+{h}={} <= {weight_sum} for VS {vs}",
            q + h
        )],
        // keepalived says so at start only when a sorry server goes in.
        (TableChange::QuorumLost { starting: true, .. }, None) => Vec::new(),
        (
            TableChange::QuorumLost {
                starting: true,
                weight_sum,
                ..
            },
            Some(_),
        ) => vec![format!(
            "Starting with quorum down {q}-{h}={} > {weight_sum} for VS {vs}",
            q + h
        )],
        (TableChange::QuorumLost { weight_sum, .. }, _) => vec![format!(
            "Lost quorum {q}-{h}={} > {weight_sum} for VS {vs}",
            q - h
        )],
        (TableChange::SorryServerIn { .. }, Some(s)) => vec![
            format!(
                "{} sorry server {s} to VS {vs}",
                if svc.sorry_inhibit {
                    "Enabling"
                } else {
                    "Adding"
                }
            ),
            format!("Removing alive servers from the pool for VS {vs}"),
        ],
        (TableChange::SorryServerOut { .. }, Some(s)) => vec![
            format!(
                "{} sorry server {s} from VS {vs}",
                if svc.sorry_inhibit {
                    "Disabling"
                } else {
                    "Removing"
                }
            ),
            format!("Adding alive servers to the pool for VS {vs}"),
        ],
        _ => Vec::new(),
    }
}
