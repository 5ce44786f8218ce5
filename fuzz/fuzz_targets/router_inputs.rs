//! Random input sequences into a mux of virtual routers, with monotonic
//! time: valid adverts of any priority and sender, mutated and garbage
//! datagrams, timeouts (early, exact, late), interface and tracking changes,
//! startups and shutdowns, and sync-group moves. A second setup byte picks
//! unicast mode (`unicast_src_ip`, `unicast_peer` with TTL ranges,
//! `unicast_ttl`, `check_unicast_src`, `unicast_fault_no_peer`) and edge
//! durations (zero and `Duration::MAX` GARP timers and preempt delay); its
//! top two bits at `10` (a 6 s `garp_master_delay`, so that the older
//! seeds keep VRRPv2) run every router as VRRPv3 (intervals 10 ms, 50 ms
//! and 1 s; generated adverts announce an interval from the input, which
//! backups learn); at `11` every router runs VRRPv3 over IPv6 (link-local
//! sources, ff02::12, hop limits 255 and 64, multicast only). After every
//! input the
//! outputs are drained and the invariants checked:
//! * a router in MASTER has a timer at most one advert interval away, in
//!   BACKUP at most 3 intervals + 1 s away (VRRPv3: 4 learned
//!   Master_Adver_Intervals); INIT and FAULT have none;
//! * after `handle_timeout(now)` no timer is due at or before `now`;
//! * MASTER iff it became master once more than it released it;
//! * every datagram it sends decodes as a valid advert of its own, sent
//!   to 224.0.0.18 (ff02::12) or, with unicast peers, to each peer in turn;
//! * time never goes backwards and nothing panics.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use vrrp::auth::{AhReplay, AuthConfig, TxCounters};
use vrrp::config::{Ipv6Config, PeerTtl, Version};
use vrrp::mux::Mux;
use vrrp::router::Tracking;
use vrrp::{wire, Config, State, VirtualRouter};

const VIPS: [Ipv4Addr; 1] = [Ipv4Addr::new(10, 0, 0, 100)];
const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const UNICAST_SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 50);
const VIPS6: [Ipv6Addr; 1] = [Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x100)];
const ME6: Ipv6Addr = Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 5);

/// The IPv6 senders: fe80::1 to fe80::8.
fn sender_ip6(b: u8) -> Ipv6Addr {
    Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1 + u16::from(b % 8))
}

/// The senders of the generated adverts: 10.0.0.1 to 10.0.0.8.
fn sender_ip(b: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, 1 + b % 8)
}

/// A duration of 0, a few seconds, or one beyond any `Instant`.
fn edge_duration(b: u8) -> Duration {
    match b % 4 {
        0 => Duration::ZERO,
        3 => Duration::MAX,
        k => Duration::from_secs(u64::from(k) * 3),
    }
}

/// Applies the second setup byte: unicast settings and edge durations.
fn configure(c: &mut Config, b: u8, peers_mask: u8) {
    c.garp.master_delay = edge_duration(b >> 6);
    c.garp.master_refresh = (b & 0x20 != 0).then(|| edge_duration(b >> 4));
    if b & 0x01 == 0 {
        c.unicast_fault_no_peer = b & 0x02 != 0;
        return;
    }
    if b & 0x02 != 0 {
        c.unicast_src_ip = Some(UNICAST_SRC);
    }
    c.unicast_peers = (0..8)
        .filter(|k| peers_mask & (1 << k) != 0)
        .map(sender_ip)
        .filter(|&p| p != c.source_ip())
        .collect();
    c.check_unicast_src = b & 0x04 != 0;
    c.unicast_ttl = if b & 0x08 != 0 { 64 } else { 255 };
    c.unicast_fault_no_peer = b & 0x10 != 0;
    if let Some(&peer) = c.unicast_peers.first() {
        if b & 0x40 != 0 {
            c.unicast_peer_ttl = vec![PeerTtl {
                peer,
                min_ttl: 64,
                max_ttl: 200,
            }];
        }
    }
}

struct Input<'a>(&'a [u8]);

impl Input<'_> {
    fn byte(&mut self) -> Option<u8> {
        let (b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(*b)
    }
    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_be_bytes([self.byte()?, self.byte()?]))
    }
    fn bytes(&mut self, n: usize) -> &[u8] {
        let n = n.min(self.0.len());
        let (b, rest) = self.0.split_at(n);
        self.0 = rest;
        b
    }
}

fn auth_of(sel: u8) -> AuthConfig {
    match sel % 3 {
        0 => AuthConfig::None,
        1 => AuthConfig::pass(b"pw"),
        _ => AuthConfig::ah(b"secret"),
    }
}

/// Decodes a sent datagram as its router's version: (priority, src, dst, ttl).
fn decode_own(bytes: &[u8], cfg: &Config, auth: &AuthConfig) -> (u8, Ipv4Addr, Ipv4Addr, u8) {
    if cfg.version == Version::V3 {
        let opts = wire::RecvOptionsV3 {
            vrid: Some(cfg.vrid),
            unicast: cfg.is_unicast(),
            addresses: Some(&VIPS[..]),
        };
        let got = wire::decode_v3(bytes, &opts).expect("a valid v3 advert");
        assert_eq!(got.max_adver_int, cfg.advert_interval_centis);
        return (got.priority, got.src, got.dst, got.ttl);
    }
    let opts = wire::RecvOptions {
        vrid: Some(cfg.vrid),
        unicast: cfg.is_unicast(),
        adver_int: Some(1),
        addresses: Some(&VIPS),
    };
    let got = wire::decode(bytes, &opts, auth, &mut AhReplay::new()).expect("a valid advert");
    (got.priority, got.src, got.dst, got.ttl)
}

/// Checks a sent IPv6 VRRP message: valid, of its router, to ff02::12.
fn check_v6(bytes: &[u8], cfg: &Config, t: &vrrp::router::Transmit) {
    let meta = wire::Ipv6Meta {
        src: ME6,
        dst: wire::VRRP_MCAST_V6,
        hop_limit: 255,
    };
    let opts = wire::RecvOptionsV3 {
        vrid: Some(cfg.vrid),
        unicast: false,
        addresses: Some(&VIPS6[..]),
    };
    let got = wire::decode_v6(bytes, &meta, &opts).expect("a valid IPv6 advert");
    assert_eq!(
        (got.priority, got.max_adver_int, t.destination),
        (
            t.priority,
            cfg.advert_interval_centis,
            IpAddr::V6(wire::VRRP_MCAST_V6)
        )
    );
}

fn check(mux: &mut Mux, now: Instant, after_timeout: bool, auth: &AuthConfig) {
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    // The datagram each router sent last: unicast copies go to the peers in
    // turn, starting again from the first with every new advert.
    let mut sent: Vec<Option<usize>> = vec![None; mux.len()];
    while let Some((id, _, t)) = mux.poll_transmit(now, &mut buf) {
        let r = mux.router(id).expect("router exists");
        let cfg = r.config();
        assert!(t.len <= r.max_datagram_len());
        if cfg.ipv6.is_some() {
            check_v6(&buf[..t.len], cfg, &t);
            continue;
        }
        let (priority, src, dst, ttl) = decode_own(&buf[..t.len], cfg, auth);
        assert_eq!(
            (
                priority,
                std::net::IpAddr::V4(src),
                std::net::IpAddr::V4(dst)
            ),
            (t.priority, cfg.source(), t.destination)
        );
        let last = &mut sent[id.0 as usize];
        if cfg.is_unicast() {
            let peers = &cfg.unicast_peers;
            let at = peers
                .iter()
                .position(|&p| std::net::IpAddr::V4(p) == t.destination)
                .expect("a peer");
            assert!(at == 0 || *last == Some(at - 1));
            assert_eq!(ttl, cfg.unicast_ttl);
            *last = Some(at);
        } else {
            let multicast = std::net::IpAddr::V4(wire::VRRP_MCAST_V4);
            assert_eq!((t.destination, ttl), (multicast, wire::VRRP_TTL));
        }
    }
    while mux.poll_event().is_some() {}
    for id in mux.ids().collect::<Vec<_>>() {
        let r = mux.router(id).expect("router exists");
        let timer = r.poll_timeout();
        // The Adver_Timer is never more than one interval away, the
        // Master_Down_Timer never more than 3 intervals + 1 s (VRRPv3: four
        // learned intervals).
        let interval = r.config().advert_interval();
        let down = match r.config().version {
            Version::V2 => Duration::from_secs(4),
            Version::V3 => r.master_adver_interval() * 4,
        };
        match r.state() {
            State::Master => assert!(timer.is_some_and(|t| t <= now + interval)),
            State::Backup => assert!(timer.is_some_and(|t| t <= now + down)),
            State::Initialize | State::Fault => assert_eq!(timer, None),
        }
        if after_timeout {
            assert!(timer.is_none_or(|t| t > now));
        }
        let c = r.counters();
        let master = u64::from(r.state() == State::Master);
        assert_eq!(c.became_master, c.released_master + master);
    }
}

fuzz_target!(|data: &[u8]| {
    let mut input = Input(data);
    let (Some(setup), Some(setup2), Some(peers)) = (input.byte(), input.byte(), input.byte())
    else {
        return;
    };
    let auth = auth_of(setup);
    let v6 = setup2 >> 6 == 3;
    let v3 = setup2 >> 6 == 2 || v6;
    let mut mux = Mux::new();
    let mut ids = Vec::new();
    // Two VRIDs on interface 1, one on interface 2; priorities from input.
    for (k, (ifindex, vrid)) in [(1u32, 1u8), (1, 2), (2, 1)].into_iter().enumerate() {
        let prio = input.byte().unwrap_or(100).max(1);
        let mut c = Config::new("fz", vrid, prio, ME);
        c.virtual_addresses = VIPS.to_vec();
        c.authentication = auth.clone();
        c.preempt = setup & 0x04 == 0;
        c.preempt_delay = match setup >> 5 {
            7 => Duration::MAX,
            k => Duration::from_secs(u64::from(k)),
        };
        c.lower_priority_advert = if setup & 0x08 == 0 {
            vrrp::config::LowerPriorityAdvert::SendAdvert
        } else {
            vrrp::config::LowerPriorityAdvert::Discard
        };
        c.higher_priority_send_advert = setup & 0x10 != 0;
        c.garp.master_refresh = (k == 0).then(|| Duration::from_secs(7));
        configure(&mut c, setup2, peers);
        if v3 {
            c.version = Version::V3;
            c.advert_interval_centis = [1, 5, 100][k];
        }
        if v6 {
            // Multicast only over IPv6.
            c.unicast_peers.clear();
            c.unicast_peer_ttl.clear();
            c.unicast_src_ip = None;
            let mut v6c = Ipv6Config::new(ME6);
            v6c.virtual_addresses = VIPS6.to_vec();
            c.ipv6 = Some(v6c);
        }
        ids.push(
            mux.add_router(ifindex, VirtualRouter::new(c).expect("valid"))
                .expect("unique"),
        );
    }
    if setup & 0x80 != 0 {
        mux.add_sync_group("g", &ids[..2]).expect("fresh group");
    }
    let t0 = Instant::now();
    let mut now = t0;
    let mut tx = TxCounters::new();
    mux.handle_startup(now);
    check(&mut mux, now, false, &auth);
    while let Some(op) = input.byte() {
        let mut after_timeout = false;
        match op % 9 {
            0 => {
                now += Duration::from_millis(u64::from(input.u16().unwrap_or(0)));
                mux.handle_timeout(now);
                after_timeout = true;
            }
            1 | 2 => {
                // A valid advert from one of a few senders.
                let (Some(sender), Some(prio), Some(vrid)) =
                    (input.byte(), input.byte(), input.byte())
                else {
                    break;
                };
                let src = sender_ip(sender);
                // Unicast to this router (any TTL), or multicast.
                let (dst, ttl) = match (sender >> 3) & 3 {
                    0 | 1 => (wire::VRRP_MCAST_V4, wire::VRRP_TTL),
                    2 => (ME, 255),
                    _ => (UNICAST_SRC, 10 + prio % 100),
                };
                let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
                if v6 {
                    let centis = 1 + u16::from(input.byte().unwrap_or(0)) * 16;
                    let meta = wire::Ipv6Meta {
                        src: sender_ip6(sender),
                        dst: wire::VRRP_MCAST_V6,
                        hop_limit: if sender & 0x40 != 0 { 64 } else { 255 },
                    };
                    let repr = wire::AdvertV3Repr {
                        src: meta.src,
                        dst: meta.dst,
                        ttl: 255,
                        vrid: 1 + vrid % 3,
                        priority: prio,
                        max_adver_int: centis,
                        addresses: &VIPS6,
                    };
                    let Ok(len) = wire::encode_v6(&repr, &mut buf) else {
                        break;
                    };
                    if op % 9 == 2 {
                        let (Some(at), Some(x)) = (input.byte(), input.byte()) else {
                            break;
                        };
                        buf[usize::from(at) % len] ^= x;
                    }
                    let ifindex = 1 + u32::from(vrid >> 7);
                    mux.handle_datagram_v6(now, ifindex, &meta, &buf[..len]);
                    check(&mut mux, now, false, &auth);
                    continue;
                }
                let encoded = if v3 {
                    // Any interval the field holds, 10 ms to 40.95 s.
                    let centis = 1 + u16::from(input.byte().unwrap_or(0)) * 16;
                    let repr = wire::AdvertV3Repr {
                        src,
                        dst,
                        ttl,
                        vrid: 1 + vrid % 3,
                        priority: prio,
                        max_adver_int: centis,
                        addresses: &VIPS,
                    };
                    wire::encode_v3(&repr, &mut tx, &mut buf)
                } else {
                    let repr = wire::AdvertRepr {
                        src,
                        dst,
                        ttl,
                        vrid: 1 + vrid % 3,
                        priority: prio,
                        adver_int: 1,
                        addresses: &VIPS,
                    };
                    if sender & 0x80 != 0 {
                        tx.ah_seq = tx.ah_seq.saturating_sub(u32::from(sender & 0x7f));
                    }
                    wire::encode(&repr, &auth, &mut tx, &mut buf)
                };
                let Ok(len) = encoded else {
                    break;
                };
                if op % 9 == 2 {
                    // Mutate one byte.
                    let (Some(at), Some(x)) = (input.byte(), input.byte()) else {
                        break;
                    };
                    buf[usize::from(at) % len] ^= x;
                }
                let ifindex = 1 + u32::from(vrid >> 7);
                mux.handle_datagram(now, ifindex, src, &buf[..len]);
            }
            3 => {
                let len = usize::from(input.byte().unwrap_or(0));
                let raw = input.bytes(len).to_vec();
                if v6 {
                    let meta = wire::Ipv6Meta {
                        src: sender_ip6(len as u8),
                        dst: wire::VRRP_MCAST_V6,
                        hop_limit: 255,
                    };
                    mux.handle_datagram_v6(now, 1, &meta, &raw);
                } else {
                    mux.handle_datagram(now, 1, Ipv4Addr::new(10, 0, 0, 9), &raw);
                }
            }
            4 => {
                let b = input.byte().unwrap_or(0);
                mux.handle_interface(now, 1 + u32::from(b & 1), b & 2 != 0);
            }
            5 => {
                let (Some(which), Some(w)) = (input.byte(), input.byte()) else {
                    break;
                };
                let tracking = Tracking {
                    weight: i32::from(w as i8) * 4,
                    fault: which & 0x80 != 0,
                };
                mux.handle_tracking(now, ids[usize::from(which) % ids.len()], tracking);
            }
            6 => {
                let b = input.byte().unwrap_or(0);
                let id = ids[usize::from(b) % ids.len()];
                if b & 0x80 != 0 {
                    mux.handle_shutdown_one(now, id);
                } else {
                    mux.handle_startup_one(now, id);
                }
            }
            7 => {
                // Exactly at the next deadline, then a repeat (a no-op).
                if let Some(t) = mux.poll_timeout() {
                    now = now.max(t);
                    mux.handle_timeout(now);
                    check(&mut mux, now, true, &auth);
                    mux.handle_timeout(now);
                    after_timeout = true;
                }
            }
            _ => {
                // An early timeout: must change nothing that is not due.
                now += Duration::from_micros(u64::from(input.byte().unwrap_or(0)));
                mux.handle_timeout(now);
                after_timeout = true;
            }
        }
        check(&mut mux, now, after_timeout, &auth);
    }
});
