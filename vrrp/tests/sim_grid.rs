//! The advert grid on the simulated LAN: the masters of one mux send their
//! first advert at once and the next ones at `epoch + k x interval`, the
//! second at most one interval after the first, so no backup ever times
//! out because of the grid (VRRPv2 and VRRPv3).
//!
//! `VRRP_SIM_SEED=N` runs the single random case N; `VRRP_SIM_CASES=K`
//! changes the number of random cases (default 48).
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::time::Duration;

use rand::Rng;
use vrrp::config::Version;
use vrrp::event::{Reason, State};
use vrrp::mux::Mux;
use vrrp::sim::{NetConfig, NodeId, Sim, SEED_ENV};
use vrrp::{Config, VirtualRouter};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A router for `vrid` on `10.0.0.last`, with `interval` in the unit of
/// `version` (seconds for v2, centiseconds for v3).
fn cfg(version: Version, vrid: u8, priority: u8, last: u8, interval: u16) -> Config {
    let mut c = Config::new(
        &format!("vi{vrid}"),
        vrid,
        priority,
        Ipv4Addr::new(10, 0, 0, last),
    );
    c.virtual_addresses = vec![Ipv4Addr::new(10, 0, 1, vrid)];
    c.version = version;
    match version {
        Version::V2 => c.advert_interval_secs = interval as u8,
        Version::V3 => c.advert_interval_centis = interval,
    }
    c
}

/// One node whose mux holds every config (all on interface 1).
fn node(sim: &mut Sim, configs: Vec<Config>) -> NodeId {
    let mut mux = Mux::new();
    for c in configs {
        mux.add_router(1, VirtualRouter::new(c).unwrap()).unwrap();
    }
    sim.add_node(mux)
}

/// The VRID of an IPv4 VRRP datagram (no AH in these tests).
fn vrid_of(bytes: &[u8]) -> u8 {
    bytes[usize::from(bytes[0] & 0x0f) * 4 + 1]
}

/// Send times of `node`'s adverts for `vrid`.
fn adverts(sim: &Sim, node: NodeId, vrid: u8) -> Vec<Duration> {
    sim.sent()
        .iter()
        .filter(|s| s.node == node && vrid_of(&s.bytes) == vrid)
        .map(|s| s.at)
        .collect()
}

/// When `node`'s router `vrid` entered MASTER, in order.
fn became_master(sim: &Sim, node: NodeId, vrid: u8) -> Vec<Duration> {
    sim.transitions()
        .into_iter()
        .filter(|t| t.node == node && t.vrid == vrid && t.to == State::Master)
        .map(|t| t.at)
        .collect()
}

/// The grid origin of `node`'s router `vrid`, in virtual time.
fn epoch_of(sim: &Sim, node: NodeId, vrid: u8) -> Duration {
    let start = sim.now() - sim.elapsed();
    sim.router(node, vrid).advert_epoch().unwrap() - start
}

/// Eight lone routers in one mux started at 250 ms, priorities 100 to 240
/// (eight different Master_Down_Intervals, none on the grid): each sends
/// its first advert as it becomes master and then on the mux's grid, so
/// that once all are master they wake the process together.
fn lone_masters_share_the_grid(version: Version, interval: u16, unit: Duration) {
    let mut sim = Sim::new(1);
    let configs = (1..=8)
        .map(|v| cfg(version, v, 80 + 20 * v, 1, interval))
        .collect();
    let n = node(&mut sim, configs);
    sim.run_until(ms(250));
    sim.start(n);
    let period = unit * u32::from(interval);
    sim.run_until(ms(250) + period * 20);
    for vrid in 1..=8 {
        assert_eq!(epoch_of(&sim, n, vrid), ms(250));
        let up = became_master(&sim, n, vrid);
        assert_eq!(up.len(), 1);
        let mdi = sim.router(n, vrid).master_down_interval();
        assert_eq!(up[0], ms(250) + mdi);
        // Master_Down_Interval is between 3 and 4 intervals here: the
        // second advert comes at the fourth grid point, then every period.
        let expected: Vec<Duration> = std::iter::once(up[0])
            .chain((4..=20).map(|k| ms(250) + period * k))
            .collect();
        assert_eq!(adverts(&sim, n, vrid), expected, "vrid {vrid}");
    }
    // From the fourth grid point on: one send instant per interval.
    let instants: BTreeSet<Duration> = sim
        .sent()
        .iter()
        .map(|s| s.at)
        .filter(|&at| at >= ms(250) + period * 4)
        .collect();
    assert_eq!(instants.len(), 17);
}

#[test]
fn lone_v2_masters_share_the_grid() {
    lone_masters_share_the_grid(Version::V2, 1, Duration::from_secs(1));
}

#[test]
fn lone_v3_masters_share_the_grid() {
    lone_masters_share_the_grid(Version::V3, 10, ms(10));
}

#[test]
fn a_standalone_router_takes_its_first_start_up_as_epoch() {
    let mut sim = Sim::new(2);
    let n = sim.add_router(cfg(Version::V3, 7, 200, 1, 100));
    sim.run_until(ms(1_234));
    sim.start(n);
    sim.run_until(ms(10_000));
    // Through a mux of its own: the mux gives it the same first instant.
    assert_eq!(epoch_of(&sim, n, 7), ms(1_234));
    // Up at 1.234 s + 3.21875 s; the next adverts at 1.234 s + k x 1 s.
    let sent = adverts(&sim, n, 7);
    assert_eq!(
        sent[..3],
        [ms(4_452) + Duration::from_micros(750), ms(5_234), ms(6_234)]
    );
    // And a router without a mux does the same from its first start-up.
    let mut r = VirtualRouter::new(cfg(Version::V2, 7, 200, 1, 1)).unwrap();
    assert_eq!(r.advert_epoch(), None);
    let t0 = sim.now();
    r.handle_startup(t0);
    assert_eq!(r.advert_epoch(), Some(t0));
    r.set_advert_epoch(t0 + ms(300));
    r.handle_timeout(t0 + r.master_down_interval());
    assert_eq!(r.state(), State::Master);
    // Up at 3.21875 s: the grid from 0.3 s puts the next advert at 3.3 s.
    assert_eq!(r.poll_timeout(), Some(t0 + ms(3_300)));
}

/// Random cases: node M (priority 200) and node B (priority 100) each
/// run the same 12 VRIDs in one mux, with random intervals (one version
/// per case), start times and latency. B's routers start first, so they
/// become master and M's take over, each at its own off-grid instant.
fn random_case(seed: u64) {
    let mut sim = Sim::new(seed);
    let rng = sim.rng();
    let version = if rng.gen_bool(0.5) {
        Version::V2
    } else {
        Version::V3
    };
    let intervals: Vec<u16> = (0..12)
        .map(|_| match version {
            Version::V2 => rng.gen_range(1..=3),
            Version::V3 => rng.gen_range(3..=150),
        })
        .collect();
    let latency = Duration::from_micros(rng.gen_range(0..3_000));
    let b_start: Vec<Duration> = (0..12).map(|_| ms(rng.gen_range(0..5_000))).collect();
    let m_start: Vec<Duration> = (0..12).map(|_| ms(rng.gen_range(5_000..15_000))).collect();
    sim.set_net(NetConfig {
        latency,
        ..NetConfig::default()
    });
    let vrids = 1..=12u8;
    let m = node(
        &mut sim,
        vrids
            .clone()
            .map(|v| cfg(version, v, 200, 1, intervals[usize::from(v) - 1]))
            .collect(),
    );
    let b = node(
        &mut sim,
        vrids
            .clone()
            .map(|v| cfg(version, v, 100, 2, intervals[usize::from(v) - 1]))
            .collect(),
    );
    let mut starts: Vec<(Duration, NodeId, u8)> = vrids
        .clone()
        .flat_map(|v| {
            let i = usize::from(v) - 1;
            [(b_start[i], b, v), (m_start[i], m, v)]
        })
        .collect();
    starts.sort();
    for (at, node, vrid) in starts {
        sim.run_until(at);
        sim.with_mux(node, |mux, now| {
            let id = mux.find(1, vrid).unwrap();
            mux.handle_startup_one(now, id);
        });
    }
    sim.run_until(ms(60_000));
    for vrid in vrids {
        let period = sim.router(m, vrid).config().advert_interval();
        let up = became_master(&sim, m, vrid);
        assert_eq!(up.len(), 1, "seed {seed} vrid {vrid}: M master once");
        let sent = adverts(&sim, m, vrid);
        assert_eq!(sent[0], up[0], "seed {seed} vrid {vrid}: first at once");
        let epoch = epoch_of(&sim, m, vrid);
        // Until B hears M and M hears B's last advert, M also answers B's
        // lower-priority adverts at once (keepalived's default), off the grid.
        let settled = up[0] + latency * 2;
        for pair in sent.windows(2) {
            assert!(pair[1] - pair[0] <= period, "seed {seed} vrid {vrid}: gap");
            let since = (pair[1] - epoch).as_nanos();
            if pair[1] > settled {
                assert_eq!(
                    since % period.as_nanos(),
                    0,
                    "seed {seed} vrid {vrid}: grid"
                );
            }
        }
        // B never takes over again once M's first advert reached it.
        let reached = up[0] + latency;
        let b_up = became_master(&sim, b, vrid);
        assert!(
            b_up.iter().all(|&at| at < reached),
            "seed {seed} vrid {vrid}: B master at {b_up:?} after {reached:?}"
        );
        let b_last = sim
            .transitions()
            .into_iter()
            .rfind(|t| t.node == b && t.vrid == vrid)
            .unwrap();
        assert_eq!(b_last.to, State::Backup, "seed {seed} vrid {vrid}");
        assert!(matches!(
            b_last.reason,
            Reason::Startup | Reason::HigherPriority
        ));
        assert_eq!(sim.masters(vrid), [m], "seed {seed} vrid {vrid}");
    }
}

#[test]
fn backups_never_time_out_because_of_the_grid() {
    let cases: u64 = std::env::var("VRRP_SIM_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(48);
    match std::env::var(SEED_ENV).ok().and_then(|s| s.parse().ok()) {
        Some(seed) => random_case(seed),
        None => (0..cases).for_each(|i| random_case(0x6_0000 + i)),
    }
}
