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

/// A unicast router's peer in the receive path, sorted for binary search
/// by `key`, one integer a search step compares in two instructions (an
/// `IpAddr` needs an out-of-line comparison), then by peer and slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct PeerKey {
    /// [`peer_key`] of the peer and the router's interface, VRID and
    /// family.
    key: u128,
    /// The peer: `key` holds all of an IPv4 address, not of an IPv6 one.
    peer: IpAddr,
    /// The router.
    slot: u32,
    /// The router's source address, indexed again with its
    /// configuration: whether it sends from an advert's destination,
    /// without reaching into its slot.
    source: IpAddr,
}

/// The peer index: the [`PeerKey`]s, sorted, and beside them their
/// `key`s, index for index, so a datagram's binary search strides over
/// 16 bytes an entry instead of 64. Only `insert` and `remove` change
/// them.
#[derive(Debug, Default)]
pub(super) struct PeerIndex {
    entries: Vec<PeerKey>,
    /// `keys[i]` is `entries[i].key`.
    keys: Vec<u128>,
}

impl PeerIndex {
    /// Puts `entry` in place.
    fn insert(&mut self, entry: PeerKey) {
        let at = self.entries.binary_search(&entry).unwrap_or_else(|at| at);
        self.entries.insert(at, entry);
        self.keys.insert(at, entry.key);
    }

    /// Drops the entries of router `slot`; the keys are rebuilt from the
    /// entries left (in place: no allocation).
    fn remove(&mut self, slot: u32) {
        self.entries.retain(|k| k.slot != slot);
        self.keys.clear();
        self.keys.extend(self.entries.iter().map(|k| k.key));
    }

    /// The entries whose key is `key`.
    fn run(&self, key: u128) -> &[PeerKey] {
        let from = self.keys.partition_point(|k| *k < key);
        let rest = self.keys.get(from..).unwrap_or(&[]);
        let len = rest.iter().take_while(|k| **k == key).count();
        self.entries.get(from..from + len).unwrap_or(&[])
    }

    /// True if the keys are the entries', index for index, and the
    /// entries are sorted.
    #[cfg(test)]
    pub(super) fn in_step(&self) -> bool {
        let keys = self.entries.iter().map(|k| k.key);
        self.entries.windows(2).all(|w| w[0] <= w[1]) && keys.eq(self.keys.iter().copied())
    }
}

/// Bits of a peer's address in [`peer_key`]: 128 less the 41 of a
/// [`family_code`](super::family_code) and one for the peer's family.
const ADDRESS_BITS: u32 = 86;

/// The search key of `peer` of a router of `family` (a
/// [`family_code`](super::family_code)): the family code, the peer's
/// family and its address's low 86 bits (all of an IPv4 one; IPv6 peers
/// of one family that differ only above them share a key, told apart by
/// [`PeerKey::peer`]).
fn peer_key(family: u64, peer: IpAddr) -> u128 {
    let (v6, bits) = match peer {
        IpAddr::V4(a) => (0, u128::from(u32::from(a))),
        IpAddr::V6(a) => (1, u128::from(a)),
    };
    let at = u128::from((family << 1) | v6);
    (at << ADDRESS_BITS) | (bits & ((1 << ADDRESS_BITS) - 1))
}

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
        let family = super::family_code(slot.ifindex, c.vrid, c.ipv6.is_some());
        let source = c.source();
        for peer in peers_of(c) {
            let key = PeerKey {
                key: peer_key(family, peer),
                peer,
                slot: id,
                source,
            };
            peers.insert(key);
        }
    }

    /// Drops router `id` from the peer index.
    pub(super) fn unindex_peers(&mut self, id: u32) {
        self.peers.remove(id);
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
        let want = peer_key(super::family_code(ifindex, vrid, ipv6), src);
        let run = self.peers.run(want);
        // The routers peering with `src`, by slot.
        let mut peers = run.iter().filter(|k| k.peer == src);
        // The usual case, without looking at the others: a peer of a
        // router sending from `dst`.
        if let Some(k) = peers.clone().find(|k| k.source == dst) {
            return Some(RouterId(k.slot));
        }
        let sends_from = |i: u32| {
            self.slot(i)
                .is_some_and(|s| s.router.config().source() == dst)
        };
        let mut at_dst = shared.iter().filter(|k| sends_from(k.4));
        match (at_dst.next(), at_dst.next()) {
            (Some(k), None) => Some(RouterId(k.4)),
            (Some(_), Some(_)) => None,
            (None, _) => peers.next().map(|k| RouterId(k.slot)),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use std::net::{Ipv4Addr, Ipv6Addr};
    use std::time::Instant;

    use super::*;
    use crate::config::{Ipv6Config, Version};
    use crate::mux::tests::advert_to;
    use crate::mux::{family_code, Desired};
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
        assert!(mux.peers.in_step());
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
        assert!(mux.peers.in_step());
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
        mux.remove_router(t0, RouterId(2)).unwrap();
        assert!(mux.peers.in_step() && mux.keys.in_step());
        assert!(mux.peers.entries.iter().all(|k| k.slot != 2));
        assert_eq!(mux.peers.entries.len(), 3);
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

    /// The integer keys of the receive path sort as the tuples they stand
    /// for, and are equal only if those are: (interface, VRID, family),
    /// then the peer's family, then an IPv4 peer's address.
    #[test]
    fn the_integer_keys_sort_and_differ_as_the_tuples() {
        let families = [
            (0, 0, false),
            (1, 51, false),
            (1, 51, true),
            (1, 255, false),
            (2, 0, false),
            (u32::MAX - 1, 255, true),
            (u32::MAX, 0, false),
            (u32::MAX, 255, true),
        ];
        let code = |(i, v, six)| family_code(i, v, six);
        for a in families {
            for b in families {
                assert_eq!(code(a).cmp(&code(b)), a.cmp(&b), "{a:?} {b:?}");
            }
        }
        let peers: [IpAddr; 6] = [
            Ipv4Addr::UNSPECIFIED.into(),
            B.into(),
            Ipv4Addr::BROADCAST.into(),
            Ipv6Addr::UNSPECIFIED.into(),
            as_v6(B).into(),
            Ipv6Addr::from(u128::MAX).into(),
        ];
        let all: Vec<_> = (families.iter())
            .flat_map(|f| peers.iter().map(move |p| (*f, *p)))
            .collect();
        let key = |(f, p)| peer_key(code(f), p);
        let rank = |(f, p): (_, IpAddr)| (f, p.is_ipv6(), p.is_ipv4().then_some(p));
        for &a in &all {
            for &b in &all {
                assert_eq!(key(a) == key(b), a == b, "{a:?} {b:?}");
                if rank(a) != rank(b) {
                    assert_eq!(key(a).cmp(&key(b)), rank(a).cmp(&rank(b)), "{a:?} {b:?}");
                }
            }
        }
    }

    /// IPv6 peers alike in their low 86 bits share a search key; the
    /// lookup still tells them apart.
    #[test]
    fn ipv6_peers_alike_in_their_low_bits_stay_apart() {
        let mut mux = Mux::new();
        let (ll, far) = (link_local(5), link_local(9));
        let peer = |high| Ipv6Addr::new(high, 0xdb8, 0, 0, 0, 0, 0, 3);
        let family = family_code(1, 51, true);
        let key = |high| peer_key(family, peer(high).into());
        assert_eq!([key(0x2001); 2], [key(0x3001), key(0x4001)]);
        let x = mux.add_router(1, unicast6("x", ll, &[peer(0x2001)]));
        let y = mux.add_router(1, unicast6("y", ll, &[peer(0x3001)]));
        let (x, y) = (x.unwrap(), y.unwrap());
        mux.handle_startup(Instant::now());
        assert_eq!(deliver6(&mut mux, peer(0x2001), far), Some(x));
        assert_eq!(deliver6(&mut mux, peer(0x3001), far), Some(y));
        assert_eq!(deliver6(&mut mux, peer(0x3001), ll), Some(y));
        assert_eq!(deliver6(&mut mux, peer(0x4001), ll), None);
        assert_eq!(deliver6(&mut mux, peer(0x4001), far), None);
    }

    /// fe80::`last`.
    fn link_local(last: u16) -> Ipv6Addr {
        Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, last)
    }

    /// An IPv6 address with an IPv4 address's bits (`::a.b.c.d`).
    fn as_v6(a: Ipv4Addr) -> Ipv6Addr {
        Ipv6Addr::from(u128::from(u32::from(a)))
    }

    /// An IPv6 unicast router of VRID 51 sending from `src` to `peers`.
    fn unicast6(name: &str, src: Ipv6Addr, peers: &[Ipv6Addr]) -> VirtualRouter {
        let mut c = Config::new(name, 51, 100, Ipv4Addr::UNSPECIFIED);
        c.version = Version::V3;
        let mut v6 = Ipv6Config::new(src);
        v6.unicast_peers = peers.to_vec();
        c.ipv6 = Some(v6);
        VirtualRouter::new(c).unwrap()
    }

    /// An IPv6 advert of VRID 51 from `src` to `dst` through interface 1.
    fn deliver6(mux: &mut Mux, src: Ipv6Addr, dst: Ipv6Addr) -> Option<RouterId> {
        let repr = wire::AdvertV3Repr {
            src,
            dst,
            ttl: 255,
            vrid: 51,
            priority: 200,
            max_adver_int: 100,
            addresses: &[],
        };
        let mut buf = [0u8; 64];
        let len = wire::encode_v6(&repr, &mut buf).unwrap();
        let meta = wire::Ipv6Meta {
            src,
            dst,
            hop_limit: 255,
        };
        mux.handle_datagram_v6(Instant::now(), 1, &meta, &buf[..len])
    }

    /// IPv6 routers share a VRID as IPv4 ones do, beside IPv4 routers of
    /// that VRID whose addresses have the same bits: an address matches
    /// only one of its own family.
    #[test]
    fn ipv6_routers_share_a_vrid_and_families_never_mix() {
        let (mut mux, b, c) = b_and_c(OWN);
        let x = mux.add_router(1, unicast6("x", as_v6(OWN), &[as_v6(B)]));
        let y = mux.add_router(1, unicast6("y", link_local(5), &[as_v6(C)]));
        let (x, y) = (x.unwrap(), y.unwrap());
        assert_eq!(mux.unicast_sharing(1, 51, true), 2);
        mux.handle_startup(Instant::now());
        let elsewhere = link_local(9);
        assert_eq!(deliver6(&mut mux, as_v6(B), elsewhere), Some(x));
        assert_eq!(deliver6(&mut mux, as_v6(C), elsewhere), Some(y));
        // The destination first: x alone sends from it.
        assert_eq!(deliver6(&mut mux, as_v6(C), as_v6(OWN)), Some(x));
        assert_eq!(deliver6(&mut mux, as_v6(STRANGER), elsewhere), None);
        assert_eq!(mux.counters().unknown_vrid, 1);
        // The IPv4 routers are not found by the IPv6 twins of their peers.
        assert_eq!(deliver(&mut mux, B, OWN), Some(b));
        assert_eq!(deliver(&mut mux, C, OWN), Some(c));
        let from = |ipv6, dst: IpAddr, src: IpAddr| mux.find_from(1, 51, ipv6, dst, src);
        assert_eq!(from(false, OWN.into(), as_v6(B).into()), None);
        assert_eq!(from(true, elsewhere.into(), B.into()), None);
        // Nor is x's source the IPv4 address of the same bits.
        assert_eq!(from(true, OWN.into(), as_v6(C).into()), Some(y));
        assert_eq!(from(true, as_v6(OWN).into(), as_v6(C).into()), Some(x));
    }
}
