//! keepalived's `fifo_write_vrrp_states_on_reload`: after a reload the
//! states that did not change are written to the VRRP notify FIFOs again,
//! as keepalived 2.2.7's `vrrp_init_state` writes them:
//!
//! - first every sync group, in configuration order, that is master or
//!   kept its state through the reload (`GROUP "SG" MASTER 0`);
//! - then every instance, in configuration order, that is not master and
//!   kept its state (`INSTANCE "VI_1" BACKUP 100`). A master is left out:
//!   keepalived's reload path for masters writes nothing.
//!
//! What changed at the reload is written by its own state notification.

use std::collections::HashMap;

use vrrp::event::State;
use vrrp::linux::driver::RouterSnapshot;
use vrrp::mux::RouterId;

/// The sync groups of the running configuration, with their members.
pub type Groups = Vec<(String, Vec<RouterId>)>;

/// The lines to write, from the routers' snapshots taken before and
/// after the reload; `order` is the routers' configuration order.
pub fn lines(
    groups: &Groups,
    order: &[RouterId],
    before: &[RouterSnapshot],
    after: &[RouterSnapshot],
) -> Vec<String> {
    let (before, after) = (by_id(before), by_id(after));
    let mut out = Vec::new();
    for (name, members) in groups {
        let Some(now) = group_state(members, &after) else {
            continue;
        };
        if now == State::Master || group_state(members, &before) == Some(now) {
            out.push(format!("GROUP \"{name}\" {} 0", now.as_str()));
        }
    }
    for id in order {
        let (Some(now), Some(was)) = (after.get(id), before.get(id)) else {
            continue;
        };
        if now.state != State::Master && now.state == was.state {
            let (name, word) = (&now.name, now.state.as_str());
            out.push(format!("INSTANCE \"{name}\" {word} {}", now.priority));
        }
    }
    out
}

fn by_id(s: &[RouterSnapshot]) -> HashMap<RouterId, &RouterSnapshot> {
    s.iter().map(|r| (r.id, r)).collect()
}

/// A group's state as its members give it: FAULT if one is faulty,
/// MASTER if all are master, else BACKUP; `None` if a member is unknown.
fn group_state(members: &[RouterId], states: &HashMap<RouterId, &RouterSnapshot>) -> Option<State> {
    let member: Option<Vec<State>> = members
        .iter()
        .map(|id| Some(states.get(id)?.state))
        .collect();
    let member = member?;
    Some(if member.contains(&State::Fault) {
        State::Fault
    } else if member.iter().all(|s| *s == State::Master) {
        State::Master
    } else {
        State::Backup
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(id: u32, name: &str, state: State, priority: u8) -> RouterSnapshot {
        RouterSnapshot {
            id: RouterId(id),
            name: name.into(),
            state,
            priority,
            counters: Default::default(),
            last_master: None,
        }
    }

    #[test]
    fn unchanged_groups_and_non_masters_in_configuration_order() {
        use State::{Backup, Fault, Master};
        let groups: Groups = vec![
            ("SG".into(), vec![RouterId(2)]),
            ("SG2".into(), vec![RouterId(0), RouterId(4)]),
            ("NEW".into(), vec![RouterId(5)]),
        ];
        let before = [
            r(0, "A", Backup, 100),
            r(1, "B", Fault, 90),
            r(2, "C", Master, 100),
            r(3, "D", Backup, 80),
            r(4, "E", Backup, 100),
        ];
        // D became master, E went to FAULT, F is new (its own notify).
        let after = [
            r(0, "A", Backup, 100),
            r(1, "B", Fault, 90),
            r(2, "C", Master, 100),
            r(3, "D", Master, 80),
            r(4, "E", Fault, 100),
            r(5, "F", Backup, 100),
        ];
        let order = [3, 5, 1, 0, 2, 4].map(RouterId);
        assert_eq!(
            lines(&groups, &order, &before, &after),
            [
                "GROUP \"SG\" MASTER 0",
                "INSTANCE \"B\" FAULT 90",
                "INSTANCE \"A\" BACKUP 100",
            ]
        );
        // A group that kept FAULT or BACKUP is written too.
        let after = [r(0, "A", Backup, 100), r(4, "E", Backup, 100)];
        let groups: Groups = vec![("SG2".into(), vec![RouterId(0), RouterId(4)])];
        let got = lines(&groups, &[], &after, &after);
        assert_eq!(got, ["GROUP \"SG2\" BACKUP 0"]);
    }
}
