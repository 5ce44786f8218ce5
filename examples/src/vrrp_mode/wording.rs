//! keepalived's log wording for what the driver and the scripts report.

use healthcheck::script::Outcome;
use healthcheck::Health;
use tracing::{debug, info};
use vrrp::event::{Reason, State};

/// keepalived's wording: "(VI_1) Entering MASTER STATE", with " (init)"
/// only for the state taken at startup (keepalived names no other reason in
/// that line; ours goes to the debug log).
pub fn log_transition(name: &str, from: State, to: State, reason: Reason) {
    let entering = match to {
        State::Master => "MASTER",
        State::Backup => "BACKUP",
        State::Fault => "FAULT",
        State::Initialize => {
            if from == State::Master {
                log_sent_priority_zero(name);
            }
            info!("({name}) Stopped");
            return;
        }
    };
    match reason {
        // keepalived 2.2.7 logs this only with -D (`--log-detail`).
        Reason::MasterDown => debug!("({name}) Receive advertisement timeout"),
        _ => debug!("({name}) {from} -> {to}: {}", reason_text(reason)),
    }
    if matches!(reason, Reason::Startup) {
        info!("({name}) Entering {entering} STATE (init)");
    } else {
        info!("({name}) Entering {entering} STATE");
    }
    if from == State::Master && says_priority_zero(reason) {
        log_sent_priority_zero(name);
    }
}

/// keepalived's line for a master yielding to `from`'s advert
/// (vrrp.c `vrrp_state_master_rx`).
pub fn log_yield(name: &str, from: std::net::IpAddr, priority: u8, ours: u8) {
    if priority > ours {
        info!("({name}) Master received advert from {from} with higher priority {priority}, ours {ours}");
    } else {
        info!("({name}) Master received advert from {from} with same priority {priority} but higher IP address than ours");
    }
}

/// Whether keepalived 2.2.7 logs "sent 0 priority" for a master leaving
/// for `reason` (to BACKUP or FAULT): when its own tracking failed
/// (`down_instance`) or a VIP, route or rule was deleted
/// (`set_vrrp_backup`), not when its sync group or a peer moved it.
fn says_priority_zero(reason: Reason) -> bool {
    matches!(
        reason,
        Reason::InterfaceDown | Reason::TrackingFault | Reason::NoUnicastPeer | Reason::Deleted
    )
}

/// keepalived logs its priority-0 advert of a leaving master only with
/// `-D` (`--log-detail`): ours is a debug line, which `-D` shows.
fn log_sent_priority_zero(name: &str) {
    debug!("({name}) sent 0 priority");
}

fn reason_text(r: Reason) -> &'static str {
    match r {
        Reason::Startup => "init",
        Reason::AddressOwner => "address owner",
        Reason::MasterDown => "master down",
        Reason::HigherPriority => "higher priority advert",
        Reason::Shutdown => "shutdown",
        Reason::InterfaceDown => "interface down",
        Reason::TrackingFault => "tracked object failed",
        Reason::Recovered => "recovered",
        Reason::SyncGroup => "sync group",
        _ => "other",
    }
}

/// keepalived's line for a `vrrp_script` whose result changed:
/// `VRRP_Script(NAME) succeeded`, `... failed (exited with status N)`,
/// `... timed out`.
pub fn script_line(name: &str, health: Health, outcome: &Outcome) -> String {
    let why = match (health, outcome) {
        (Health::Up, _) => return format!("VRRP_Script({name}) succeeded"),
        (Health::Down, Outcome::TimedOut) => return format!("VRRP_Script({name}) timed out"),
        (Health::Down, Outcome::Failed(c)) => format!("exited with status {c}"),
        (Health::Down, Outcome::Signalled(s)) => format!("due to signal {s}"),
        (Health::Down, Outcome::NotStarted(kind)) => format!("cannot start: {kind}"),
        (Health::Down, other) => format!("{other:?}"),
    };
    format!("VRRP_Script({name}) failed ({why})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_lines_follow_keepalived() {
        let line = |h, o| script_line("chk", h, &o);
        assert_eq!(
            line(Health::Up, Outcome::Success),
            "VRRP_Script(chk) succeeded"
        );
        assert_eq!(
            line(Health::Down, Outcome::Failed(1)),
            "VRRP_Script(chk) failed (exited with status 1)"
        );
        assert_eq!(
            line(Health::Down, Outcome::Signalled(9)),
            "VRRP_Script(chk) failed (due to signal 9)"
        );
        assert_eq!(
            line(Health::Down, Outcome::TimedOut),
            "VRRP_Script(chk) timed out"
        );
    }
}
