//! Unicast routers sharing a VRID on one interface, as keepalived 2.2.7
//! allows them: two instances with unicast peers may use one VRID on one
//! interface and address family unless they also share a peer and a
//! source address (keepalived's "duplicate VRID conflict"). An advert for
//! such a shared VRID goes to the router alone sending from its
//! destination (keepalived reads it on that router's own socket, bound to
//! its source address), else to the router whose peers include its
//! sender; from a sender that is no router's peer it is dropped, whatever
//! `check_unicast_src` says (keepalived's `vrrp_dispatcher_read`).

use std::net::IpAddr;

use super::{Key, Mux, MuxError, RouterId};
use crate::config::Config;

/// A unicast router's peer in the receive path: (ifindex, VRID, IPv6,
/// peer address, slot), sorted for binary search.
pub(super) type PeerKey = (u32, u8, bool, IpAddr, u32);

/// The unicast peers of a router (those of its family: the others are
/// unused).
fn peers_of(c: &Config) -> impl Iterator<Item = IpAddr> + '_ {
    let v4 = c.unicast_peers.iter().map(|a| IpAddr::V4(*a));
    let v6 = c.ipv6.as_ref().map_or(&[][..], |v6| &v6.unicast_peers[..]);
    v4.chain(v6.iter().map(|a| IpAddr::V6(*a)))
}

/// True if two routers have a unicast peer in common.
fn share_a_peer(a: &Config, b: &Config) -> bool {
    peers_of(a).any(|p| peers_of(b).any(|q| q == p))
}

/// True if two unicast routers of one (interface, VRID, family) cannot
/// both run (keepalived 2.2.7's "duplicate VRID conflict"): the same
/// source address and a peer in common.
pub fn unicast_clash(a: &Config, b: &Config) -> bool {
    a.source() == b.source() && share_a_peer(a, b)
}

impl Mux {
    /// How many unicast routers share (interface, VRID, family): with more
    /// than one, an advert from no peer of theirs is ignored.
    pub fn unicast_sharing(&self, ifindex: u32, vrid: u8, ipv6: bool) -> usize {
        self.channel(ifindex, vrid, ipv6, None).len()
    }

    /// The router a reload updates with `config` (as
    /// [`find_channel`](Self::find_channel)): of several unicast routers
    /// of the channel, the one with a peer in common with `config` and its
    /// source address (keepalived's `vrrp_exist` matches unicast instances
    /// by source address), else the first with a peer in common, none if
    /// no one has.
    pub fn find_match(
        &self,
        ifindex: u32,
        (vrid, ipv6, chan): (u8, bool, Option<IpAddr>),
        config: &Config,
    ) -> Option<RouterId> {
        let shared = match self.channel(ifindex, vrid, ipv6, chan) {
            [] => return None,
            [one] => return Some(RouterId(one.4)),
            shared => shared,
        };
        let first = |alike: fn(&Config, &Config) -> bool| {
            (shared.iter())
                .find(|k| (self.slot(k.4)).is_some_and(|s| alike(s.router.config(), config)))
                .map(|k| RouterId(k.4))
        };
        first(unicast_clash).or_else(|| first(share_a_peer))
    }

    /// `Err(Duplicate)` if router `id` (`None`: a new one) cannot have
    /// `config` on `ifindex` beside the routers there: a multicast router
    /// needs its (VRID, family, group) to itself, a unicast one must not
    /// clash with another of its (VRID, family).
    pub(super) fn admit(
        &self,
        ifindex: u32,
        config: &Config,
        id: Option<u32>,
    ) -> Result<(), MuxError> {
        let (vrid, ipv6, chan) = super::key_of(config);
        let other = |k: &&Key| Some(k.4) != id;
        let mut others = self.channel(ifindex, vrid, ipv6, chan).iter().filter(other);
        let taken = match chan {
            Some(_) => others.next().is_some(),
            None => others.any(|k| {
                self.slot(k.4)
                    .is_some_and(|s| unicast_clash(s.router.config(), config))
            }),
        };
        if taken {
            return Err(MuxError::Duplicate { ifindex, vrid });
        }
        Ok(())
    }

    /// Indexes the unicast peers of router `id` (not indexed yet).
    pub(super) fn index_peers(&mut self, id: u32) {
        let Self { slots, peers, .. } = self;
        let Some(slot) = slots.get(id as usize).and_then(Option::as_ref) else {
            return;
        };
        let c = slot.router.config();
        let (vrid, ipv6) = (c.vrid, c.ipv6.is_some());
        for peer in peers_of(c) {
            let key = (slot.ifindex, vrid, ipv6, peer, id);
            let at = peers.binary_search(&key).unwrap_or_else(|at| at);
            peers.insert(at, key);
        }
    }

    /// Drops router `id` from the peer index.
    pub(super) fn unindex_peers(&mut self, id: u32) {
        self.peers.retain(|k| k.4 != id);
    }

    /// Indexes router `id`'s peers again (its interface or configuration
    /// changed).
    pub(super) fn reindex_peers(&mut self, id: u32) {
        self.unindex_peers(id);
        self.index_peers(id);
    }

    /// The router of several unicast ones (`shared`) of (interface, VRID,
    /// family) an advert from `src` to `dst` is for. keepalived 2.2.7 reads
    /// it on the socket bound to `dst`, so the routers sending from `dst`
    /// come first: of several, the one whose peers include `src`, else
    /// none; a router alone there takes it whoever sent it. If no router
    /// sends from `dst`, the first whose peers include `src`.
    pub(super) fn find_shared(
        &self,
        (ifindex, vrid, ipv6): (u32, u8, bool),
        shared: &[Key],
        src: IpAddr,
        dst: IpAddr,
    ) -> Option<RouterId> {
        let prefix = |k: &PeerKey| (k.0, k.1, k.2, k.3);
        let from = (self.peers).partition_point(|k| prefix(k) < (ifindex, vrid, ipv6, src));
        let to = (self.peers).partition_point(|k| prefix(k) <= (ifindex, vrid, ipv6, src));
        let peers = self.peers.get(from..to).unwrap_or(&[]);
        let sends_from = |i: u32| {
            self.slot(i)
                .is_some_and(|s| s.router.config().source() == dst)
        };
        // The usual case, without looking at the others: a peer of a
        // router sending from `dst`.
        if let Some(k) = peers.iter().find(|k| sends_from(k.4)) {
            return Some(RouterId(k.4));
        }
        let mut at_dst = shared.iter().filter(|k| sends_from(k.4));
        match (at_dst.next(), at_dst.next()) {
            (Some(k), None) => Some(RouterId(k.4)),
            (Some(_), Some(_)) => None,
            (None, _) => peers.first().map(|k| RouterId(k.4)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use std::net::Ipv4Addr;
    use std::time::Instant;

    use super::*;
    use crate::mux::tests::advert_to;
    use crate::mux::Desired;
    use crate::router::VirtualRouter;
    use crate::wire;

    const OWN: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
    const B: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);
    const C: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 4);
    const STRANGER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 9);
    const OTHER_SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);

    /// A unicast router of VRID 51 sending from `src` to `peers`.
    fn config(name: &str, src: Ipv4Addr, peers: &[Ipv4Addr]) -> Config {
        let mut c = Config::new(name, 51, 100, OWN);
        c.unicast_src_ip = (src != OWN).then_some(src);
        c.unicast_peers = peers.to_vec();
        c
    }

    fn unicast(name: &str, src: Ipv4Addr, peers: &[Ipv4Addr]) -> VirtualRouter {
        VirtualRouter::new(config(name, src, peers)).unwrap()
    }

    /// An advert of VRID 51 from `src` to `dst` through `mux`'s interface 1.
    fn deliver(mux: &mut Mux, src: Ipv4Addr, dst: Ipv4Addr) -> Option<RouterId> {
        mux.handle_datagram(Instant::now(), 1, src, &advert_to(51, src, dst))
    }

    /// Routers b (from OWN, peer B) and c (from `c_src`, peer C) sharing
    /// VRID 51 on interface 1.
    fn b_and_c(c_src: Ipv4Addr) -> (Mux, RouterId, RouterId) {
        let mut mux = Mux::new();
        let b = mux.add_router(1, unicast("b", OWN, &[B])).unwrap();
        let c = mux.add_router(1, unicast("c", c_src, &[C])).unwrap();
        (mux, b, c)
    }

    #[test]
    fn a_shared_vrid_goes_to_the_router_peering_with_the_sender() {
        let mut mux = Mux::new();
        let multicast = mux.add_router(
            1,
            VirtualRouter::new(Config::new("m", 51, 100, OWN)).unwrap(),
        );
        let with_b = mux.add_router(1, unicast("b", OWN, &[B])).unwrap();
        let with_c = mux.add_router(1, unicast("c", OWN, &[C])).unwrap();
        assert_eq!(
            (multicast.unwrap(), with_b, with_c),
            (RouterId(0), RouterId(1), RouterId(2))
        );
        mux.handle_startup(Instant::now());
        assert_eq!(deliver(&mut mux, C, OWN), Some(with_c));
        assert_eq!(deliver(&mut mux, B, OWN), Some(with_b));
        assert_eq!(deliver(&mut mux, B, wire::VRRP_MCAST_V4), Some(RouterId(0)));
        // No one's peer: ignored and counted, as keepalived's
        // "Unknown VRID(51) received on interface(..) from 10.0.0.9".
        assert_eq!(deliver(&mut mux, STRANGER, OWN), None);
        assert_eq!(mux.counters().unknown_vrid, 1);
        assert_eq!(mux.unicast_sharing(1, 51, false), 2);
        let received = |id| mux.router(id).unwrap().counters().adverts_received;
        assert_eq!((received(with_b), received(with_c)), (1, 1));
        // Alone again, a unicast router gets every unicast advert of its
        // VRID, and its check_unicast_src decides.
        mux.remove_router(Instant::now(), with_b).unwrap();
        assert_eq!(deliver(&mut mux, B, OWN), Some(with_c));
        assert_eq!(deliver(&mut mux, STRANGER, OWN), Some(with_c));
    }

    #[test]
    fn only_a_shared_peer_from_one_source_is_a_conflict() {
        let mut mux = Mux::new();
        let b = mux.add_router(1, unicast("b", OWN, &[B])).unwrap();
        let dup = Err(MuxError::Duplicate {
            ifindex: 1,
            vrid: 51,
        });
        assert_eq!(mux.add_router(1, unicast("bc", OWN, &[C, B])), dup);
        // Another interface, or another source address: no conflict.
        let elsewhere = mux.add_router(2, unicast("bc", OWN, &[C, B])).unwrap();
        let b2 = mux.add_router(1, unicast("b2", OTHER_SRC, &[B])).unwrap();
        let clashes = |a: &Config, b: &Config| (unicast_clash(a, b), unicast_clash(b, a));
        let x = config("x", OWN, &[B]);
        assert_eq!(clashes(&x, &config("y", OWN, &[C, B])), (true, true));
        assert_eq!(clashes(&x, &config("y", OWN, &[C])), (false, false));
        assert_eq!(clashes(&x, &config("y", OTHER_SRC, &[B])), (false, false));
        // The same sender: the advert's destination tells them apart.
        assert_eq!(deliver(&mut mux, B, OWN), Some(b));
        assert_eq!(deliver(&mut mux, B, OTHER_SRC), Some(b2));
        // A reload updates the router of the same source, as keepalived's
        // `vrrp_exist` (else b2 would be restarted, b updated twice).
        let key = (51, false, None);
        let b2_again = config("b2", OTHER_SRC, &[B]);
        assert_eq!(mux.find_match(1, key, &b2_again), Some(b2));
        assert_eq!(mux.find_match(1, key, &config("b", OWN, &[B])), Some(b));
        assert_eq!(
            mux.find_from(2, 51, false, OWN.into(), C.into()),
            Some(elsewhere)
        );
    }

    #[test]
    fn a_stranger_reaches_a_router_alone_on_its_source_address() {
        let (mut mux, b, c) = b_and_c(OTHER_SRC);
        assert_eq!(deliver(&mut mux, STRANGER, OTHER_SRC), Some(c));
        assert_eq!(deliver(&mut mux, STRANGER, OWN), Some(b));
        // Two routers sending from OWN: keepalived ignores a stranger.
        mux.add_router(1, unicast("d", OWN, &[Ipv4Addr::new(10, 0, 0, 6)]))
            .unwrap();
        assert_eq!(deliver(&mut mux, STRANGER, OWN), None);
        assert_eq!(deliver(&mut mux, STRANGER, OTHER_SRC), Some(c));
    }

    /// keepalived reads a unicast advert on the socket bound to its
    /// destination: b's peer writing to c's source reaches c, alone
    /// there, not b; to an address no router sends from, b's peer
    /// reaches b.
    #[test]
    fn the_destination_picks_the_router_before_the_sender() {
        let (mut mux, b, c) = b_and_c(OTHER_SRC);
        assert_eq!(deliver(&mut mux, B, OTHER_SRC), Some(c));
        assert_eq!(deliver(&mut mux, C, OWN), Some(b));
        assert_eq!(deliver(&mut mux, B, OWN), Some(b));
        let elsewhere = Ipv4Addr::new(10, 0, 0, 7);
        assert_eq!(deliver(&mut mux, B, elsewhere), Some(b));
        assert_eq!(deliver(&mut mux, C, elsewhere), Some(c));
        assert_eq!(deliver(&mut mux, STRANGER, elsewhere), None);
        assert_eq!(mux.counters().unknown_vrid, 1);
    }

    #[test]
    fn the_peer_index_follows_rebinds_and_new_peers() {
        let t0 = Instant::now();
        let (mut mux, b, c) = b_and_c(OWN);
        let d = Ipv4Addr::new(10, 0, 0, 6);
        mux.reconfigure_router(t0, c, config("c", OWN, &[d]))
            .unwrap();
        assert_eq!(deliver(&mut mux, C, OWN), None);
        assert_eq!(deliver(&mut mux, d, OWN), Some(c));
        // What a reload updates: the router with a peer in common.
        let key = (51, false, None);
        assert_eq!(mux.find_match(1, key, &config("x", OWN, &[d])), Some(c));
        assert_eq!(mux.find_match(1, key, &config("y", OWN, &[B])), Some(b));
        assert_eq!(mux.find_match(1, key, &config("z", OWN, &[STRANGER])), None);
        // Moved to interface 3 with a peer b also has: no conflict there.
        mux.add_router(3, unicast("e", OWN, &[C])).unwrap();
        mux.rebind(b, 3).unwrap();
        assert_eq!(mux.find_from(3, 51, false, OWN.into(), B.into()), Some(b));
        assert_eq!(mux.find_from(1, 51, false, OWN.into(), d.into()), Some(c));
        // A router with a peer of c cannot move next to it.
        let with_d = mux.add_router(4, unicast("f", OWN, &[d])).unwrap();
        let dup = Err(MuxError::Duplicate {
            ifindex: 1,
            vrid: 51,
        });
        assert_eq!(mux.rebind(with_d, 1), dup);
        assert_eq!(mux.replace_router(with_d, 1, unicast("f", OWN, &[d])), dup);
        // Alone on interface 1, c is what a reload there updates.
        assert_eq!(
            mux.find_match(1, key, &config("z", OWN, &[STRANGER])),
            Some(c)
        );
    }

    #[test]
    fn a_reload_keeps_routers_sharing_a_vrid_apart() {
        let t0 = Instant::now();
        let (mut mux, b, c) = b_and_c(OWN);
        mux.handle_startup(t0);
        let desired = |peers: [&[Ipv4Addr]; 2]| Desired {
            routers: vec![
                (1, config("b", OWN, peers[0])),
                (1, config("c", OWN, peers[1])),
            ],
            groups: vec![],
        };
        let done = mux.reconcile(t0, &desired([&[B], &[C]])).unwrap();
        assert_eq!(done.unchanged, [b, c]);
        let dup = Err(MuxError::Duplicate {
            ifindex: 1,
            vrid: 51,
        });
        assert_eq!(mux.reconcile(t0, &desired([&[B], &[C, B]])), dup);
        assert_eq!((mux.find_from(1, 51, false, OWN.into(), B.into())), Some(b));
    }

    /// Listed in another order, routers sharing a VRID from different
    /// source addresses keep their identity (keepalived's `vrrp_exist`
    /// matches unicast instances by source address).
    #[test]
    fn a_reload_pairs_unicast_routers_by_source_address() {
        let t0 = Instant::now();
        let (mut mux, b, c) = b_and_c(OTHER_SRC);
        mux.handle_startup(t0);
        let desired = Desired {
            routers: vec![
                (1, config("c", OTHER_SRC, &[C])),
                (1, config("b", OWN, &[B])),
            ],
            groups: vec![],
        };
        let done = mux.reconcile(t0, &desired).unwrap();
        assert_eq!(done.unchanged, [b, c]);
        assert_eq!(&*mux.router(c).unwrap().config().name, "c");
    }
}
