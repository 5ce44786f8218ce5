//! Reconciliation: the operations that turn the kernel's table into a
//! desired one, touching only what differs.

use std::collections::HashMap;
use std::net::SocketAddr;

use crate::model::*;
use crate::op::Op;

/// A service with its destinations: one entry of a desired table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VirtualServer {
    /// The service.
    pub service: Service,
    /// Its destinations.
    pub dests: Vec<Destination>,
}

/// The operations that turn `current` into `desired`: deleted services
/// first, then per kept service the destination deletions, the service
/// edit, destination edits and additions, then new services with their
/// destinations. Equal entries produce nothing.
pub fn diff(desired: &[VirtualServer], current: &[VirtualServer]) -> Vec<Op> {
    let cur: HashMap<ServiceKey, &VirtualServer> =
        current.iter().map(|v| (v.service.key, v)).collect();
    let want: HashMap<ServiceKey, &VirtualServer> =
        desired.iter().map(|v| (v.service.key, v)).collect();
    let mut ops: Vec<Op> = current
        .iter()
        .filter(|v| !want.contains_key(&v.service.key))
        .map(|v| Op::DelService(v.service.key))
        .collect();
    let mut adds = Vec::new();
    for v in desired {
        let key = v.service.key;
        let Some(c) = cur.get(&key) else {
            adds.push(Op::AddService(v.service.clone()));
            adds.extend(v.dests.iter().map(|d| Op::AddDest(key, *d)));
            continue;
        };
        let have: HashMap<SocketAddr, &Destination> = c.dests.iter().map(|d| (d.addr, d)).collect();
        let wanted: HashMap<SocketAddr, &Destination> =
            v.dests.iter().map(|d| (d.addr, d)).collect();
        ops.extend(
            c.dests
                .iter()
                .filter(|d| !wanted.contains_key(&d.addr))
                .map(|d| Op::DelDest(key, d.addr)),
        );
        if c.service != v.service {
            ops.push(Op::EditService(v.service.clone()));
        }
        for d in &v.dests {
            match have.get(&d.addr) {
                None => ops.push(Op::AddDest(key, *d)),
                Some(h) if !same_dest(h, d) => ops.push(Op::EditDest(key, *d)),
                Some(_) => {}
            }
        }
    }
    ops.extend(adds);
    ops
}

/// Destinations compare equal when every setting the kernel keeps is
/// equal; tunnel settings only matter for tunnelling destinations.
fn same_dest(a: &Destination, b: &Destination) -> bool {
    let core = a.forward == b.forward
        && a.weight == b.weight
        && a.upper_threshold == b.upper_threshold
        && a.lower_threshold == b.lower_threshold;
    core && (a.forward != Forward::Tunnel
        || (a.tunnel_type == b.tunnel_type
            && a.tunnel_port == b.tunnel_port
            && a.tunnel_flags == b.tunnel_flags))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failure

    use super::*;

    fn vs(port: u16, dests: &[(u8, u32)]) -> VirtualServer {
        let key = ServiceKey::tcp(SocketAddr::from(([10, 0, 0, 1], port)));
        VirtualServer {
            service: Service::new(key, "rr"),
            dests: dests
                .iter()
                .map(|(last, w)| {
                    let mut d = Destination::new(
                        SocketAddr::from(([10, 1, 0, *last], port)),
                        Forward::Masq,
                    );
                    d.weight = *w;
                    d
                })
                .collect(),
        }
    }

    #[test]
    fn equal_tables_need_nothing() {
        let t = vec![vs(80, &[(1, 1), (2, 1)]), vs(443, &[(3, 2)])];
        assert_eq!(diff(&t, &t), vec![]);
    }

    #[test]
    fn only_the_differences_are_sent_in_order() {
        let current = vec![vs(80, &[(1, 1), (2, 1)]), vs(81, &[(9, 1)])];
        let mut want = vec![vs(80, &[(1, 5), (3, 1)]), vs(443, &[(4, 1)])];
        want[0].service.scheduler = "wlc".into();
        let key80 = want[0].service.key;
        let ops = diff(&want, &current);
        assert_eq!(
            ops,
            vec![
                Op::DelService(current[1].service.key),
                Op::DelDest(key80, current[0].dests[1].addr),
                Op::EditService(want[0].service.clone()),
                Op::EditDest(key80, want[0].dests[0]),
                Op::AddDest(key80, want[0].dests[1]),
                Op::AddService(want[1].service.clone()),
                Op::AddDest(want[1].service.key, want[1].dests[0]),
            ]
        );
    }

    #[test]
    fn tunnel_settings_only_matter_for_tunnels() {
        let current = vec![vs(80, &[(1, 1)])];
        let mut want = current.clone();
        want[0].dests[0].tunnel_port = 6080; // ignored: not a tunnel
        assert_eq!(diff(&want, &current), vec![]);
        let mut cur_t = current.clone();
        cur_t[0].dests[0].forward = Forward::Tunnel;
        let mut want_t = cur_t.clone();
        want_t[0].dests[0].tunnel_type = TunnelType::Gue;
        assert_eq!(diff(&want_t, &cur_t).len(), 1);
    }
}
