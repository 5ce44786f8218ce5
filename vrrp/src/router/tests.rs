//! Unit tests of the state machine: one rule per test, driven by hand.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use super::*;
use crate::auth::AuthConfig;
use crate::config::GarpConfig;
use crate::event::{AuthError, ProtocolError};

const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);
const ME: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 5);
const LOWER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 4);
const HIGHER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 6);

fn config(priority: u8) -> Config {
    let mut c = Config::new("vi_1", 7, priority, ME);
    c.virtual_addresses = vec![VIP];
    c
}

/// A valid advert from `src` (AH sequence number `seq + 1` for AH).
fn advert(src: Ipv4Addr, priority: u8, auth: &AuthConfig, seq: u32) -> Vec<u8> {
    let repr = wire::AdvertRepr {
        src,
        dst: wire::VRRP_MCAST_V4,
        ttl: wire::VRRP_TTL,
        vrid: 7,
        priority,
        adver_int: 1,
        addresses: &[VIP],
    };
    let mut tx = TxCounters::new();
    tx.ah_seq = seq;
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let len = wire::encode(&repr, auth, &mut tx, &mut buf).unwrap();
    buf[..len].to_vec()
}

fn events(r: &mut VirtualRouter) -> Vec<Event> {
    std::iter::from_fn(|| r.poll_event()).collect()
}

fn transmit(r: &mut VirtualRouter, now: Instant) -> Option<(u8, Vec<u8>)> {
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let t = r.poll_transmit(now, &mut buf)?;
    Some((t.priority, buf[..t.len].to_vec()))
}

fn started(priority: u8, t0: Instant) -> VirtualRouter {
    let mut r = VirtualRouter::new(config(priority)).unwrap();
    r.handle_startup(t0);
    events(&mut r);
    r
}

/// A router with `cfg` started at `t0` that hears, a second later, an
/// advert of `priority` from HIGHER_IP (outputs not drained).
fn hearing(cfg: Config, t0: Instant, priority: u8) -> VirtualRouter {
    let mut r = VirtualRouter::new(cfg).unwrap();
    r.handle_startup(t0);
    let heard = advert(HIGHER_IP, priority, &AuthConfig::None, 0);
    r.handle_datagram(t0 + s(1), HIGHER_IP, &heard);
    r
}

fn master(priority: u8, t0: Instant) -> VirtualRouter {
    master_with(config(priority), t0)
}

/// A router with `cfg`, master after its down timer, outputs drained.
fn master_with(cfg: Config, t0: Instant) -> VirtualRouter {
    let mut r = VirtualRouter::new(cfg).unwrap();
    r.handle_startup(t0);
    r.handle_timeout(t0 + r.master_down_interval());
    assert_eq!(r.state(), State::Master);
    transmit(&mut r, t0).unwrap();
    events(&mut r);
    r
}

fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

#[test]
fn stopped_router_drops_everything_and_sends_nothing() {
    let t0 = Instant::now();
    let mut r = VirtualRouter::new(config(100)).unwrap();
    r.handle_datagram(t0, HIGHER_IP, &advert(HIGHER_IP, 200, &AuthConfig::None, 0));
    assert_eq!(events(&mut r), [Event::Dropped(DropReason::NotRunning)]);
    assert_eq!(r.counters().dropped.get(DropReason::NotRunning), 1);
    assert_eq!(r.poll_timeout(), None);
    assert!(transmit(&mut r, t0).is_none());
}

#[test]
fn startup_events_and_timer() {
    let t0 = Instant::now();
    let mut r = VirtualRouter::new(config(100)).unwrap();
    r.handle_startup(t0);
    assert_eq!(
        events(&mut r),
        [
            Event::StateChanged {
                from: State::Initialize,
                to: State::Backup,
                reason: Reason::Startup
            },
            Event::Notify(Notify {
                kind: NotifyKind::Instance,
                name: "vi_1".into(),
                state: State::Backup,
                priority: 100
            }),
        ]
    );
    assert_eq!(
        r.poll_timeout(),
        Some(t0 + Duration::from_nanos(3_609_375_000))
    );
    // A second startup changes nothing.
    r.handle_startup(t0 + s(1));
    assert_eq!(events(&mut r), []);
}

#[test]
fn early_or_repeated_timeouts_are_no_ops() {
    let t0 = Instant::now();
    let mut r = started(100, t0);
    let deadline = r.poll_timeout().unwrap();
    for ms in [0, 1, 1000, 3609] {
        r.handle_timeout(t0 + Duration::from_millis(ms));
    }
    assert_eq!(r.state(), State::Backup);
    assert_eq!(r.poll_timeout(), Some(deadline));
    r.handle_timeout(deadline);
    r.handle_timeout(deadline);
    assert_eq!(r.state(), State::Master);
    assert_eq!(r.counters().became_master, 1);
    // Master at 3.609375 s: the next advert on the 1 s grid from t0.
    assert_eq!(r.poll_timeout(), Some(t0 + s(4)));
}

#[test]
fn becoming_master_sends_advert_then_garp_bursts() {
    let t0 = Instant::now();
    let mut cfg = config(100);
    cfg.garp = GarpConfig {
        master_refresh: Some(s(60)),
        ..GarpConfig::default()
    };
    let mut r = VirtualRouter::new(cfg).unwrap();
    r.handle_startup(t0);
    events(&mut r);
    let t1 = r.poll_timeout().unwrap();
    r.handle_timeout(t1);
    assert_eq!(transmit(&mut r, t1).map(|t| t.0), Some(100));
    assert!(transmit(&mut r, t1).is_none());
    assert_eq!(
        events(&mut r),
        [
            Event::StateChanged {
                from: State::Backup,
                to: State::Master,
                reason: Reason::MasterDown
            },
            Event::AddAddresses,
            Event::GratuitousArp { repeat: 5 },
            Event::Notify(Notify {
                kind: NotifyKind::Instance,
                name: "vi_1".into(),
                state: State::Master,
                priority: 100
            }),
        ]
    );
    // Adverts every second; the delayed burst at +5 s; refresh at +60 s.
    for k in 1..=5 {
        r.handle_timeout(t1 + s(k));
        assert_eq!(transmit(&mut r, t1).map(|t| t.0), Some(100));
    }
    assert_eq!(events(&mut r), [Event::GratuitousArp { repeat: 5 }]);
    for k in 6..=60 {
        r.handle_timeout(t1 + s(k));
        assert!(transmit(&mut r, t1).is_some());
    }
    assert_eq!(events(&mut r), [Event::GratuitousArp { repeat: 1 }]);
    assert_eq!(r.counters().adverts_sent, 61);
}

#[test]
fn backup_priority_zero_advert_arms_skew_time() {
    let t0 = Instant::now();
    let mut r = started(100, t0);
    let now = t0 + s(1);
    r.handle_datagram(now, HIGHER_IP, &advert(HIGHER_IP, 0, &AuthConfig::None, 0));
    assert_eq!(
        r.poll_timeout(),
        Some(now + Duration::from_nanos(609_375_000))
    );
    assert_eq!(r.counters().priority_zero_received, 1);
}

#[test]
fn backup_ignores_priority_zero_from_other_than_its_master() {
    let t0 = Instant::now();
    let mut r = started(100, t0);
    let none = AuthConfig::None;
    r.handle_datagram(t0 + s(1), HIGHER_IP, &advert(HIGHER_IP, 200, &none, 0));
    let deadline = t0 + s(1) + r.master_down_interval();
    assert_eq!(r.poll_timeout(), Some(deadline));
    // keepalived would arm Skew_Time here and take over from a live master.
    r.handle_datagram(t0 + s(2), LOWER_IP, &advert(LOWER_IP, 0, &none, 0));
    assert_eq!(r.poll_timeout(), Some(deadline));
    let ignored = DropReason::StopNotFromMaster;
    assert_eq!(events(&mut r), [Event::Dropped(ignored)]);
    assert_eq!(r.counters().dropped.get(ignored), 1);
    assert_eq!(r.counters().adverts_received, 1);
    assert_eq!(r.counters().priority_zero_received, 0);
    assert_eq!(r.master(), Some((HIGHER_IP.into(), 200)));
    // The master's own priority 0 is honoured.
    let now = t0 + s(3);
    r.handle_datagram(now, HIGHER_IP, &advert(HIGHER_IP, 0, &none, 0));
    assert_eq!(r.poll_timeout(), Some(now + r.skew_time()));
    assert_eq!(r.counters().priority_zero_received, 1);
}

#[test]
fn master_answers_priority_zero_from_anyone() {
    let t0 = Instant::now();
    let mut r = master(100, t0);
    r.handle_datagram(t0, LOWER_IP, &advert(LOWER_IP, 0, &AuthConfig::None, 0));
    assert_eq!(transmit(&mut r, t0).map(|t| t.0), Some(100));
    assert_eq!(r.counters().dropped.total(), 0);
}

#[test]
fn backup_with_preempt_discards_lower_priority_without_touching_the_timer() {
    let t0 = Instant::now();
    let mut r = started(100, t0);
    let deadline = r.poll_timeout();
    r.handle_datagram(
        t0 + s(1),
        HIGHER_IP,
        &advert(HIGHER_IP, 99, &AuthConfig::None, 0),
    );
    assert_eq!(r.poll_timeout(), deadline);
    assert_eq!(r.master(), None);
    assert_eq!(
        events(&mut r),
        [Event::BackupRxLowerPriority {
            from: HIGHER_IP.into(),
            priority: 99
        }]
    );
    // Equal priority resets the timer (RFC 3768 section 6.4.2: "greater
    // than or equal"), whatever the address.
    r.handle_datagram(
        t0 + s(2),
        LOWER_IP,
        &advert(LOWER_IP, 100, &AuthConfig::None, 0),
    );
    assert_eq!(r.poll_timeout(), Some(t0 + s(2) + r.master_down_interval()));
    assert_eq!(r.master(), Some((LOWER_IP.into(), 100)));
}

#[test]
fn last_master_is_keepalived_s_master_saddr() {
    let t0 = Instant::now();
    let mut r = started(100, t0);
    assert_eq!(r.last_master(), None);
    // A lower priority that preemption discards is still recorded.
    r.handle_datagram(
        t0 + s(1),
        LOWER_IP,
        &advert(LOWER_IP, 99, &AuthConfig::None, 0),
    );
    assert_eq!((r.master(), r.last_master()), (None, Some(LOWER_IP.into())));
    r.handle_datagram(
        t0 + s(2),
        HIGHER_IP,
        &advert(HIGHER_IP, 200, &AuthConfig::None, 0),
    );
    assert_eq!(r.last_master(), Some(HIGHER_IP.into()));
    // Priority 0 and invalid adverts leave it alone.
    r.handle_datagram(
        t0 + s(3),
        HIGHER_IP,
        &advert(HIGHER_IP, 0, &AuthConfig::None, 0),
    );
    r.handle_datagram(
        t0 + s(3),
        LOWER_IP,
        &advert(LOWER_IP, 200, &AuthConfig::pass(b"x"), 0),
    );
    assert_eq!(r.last_master(), Some(HIGHER_IP.into()));
    // A master keeps reporting the last one it heard.
    r.handle_timeout(t0 + s(3) + r.skew_time());
    assert_eq!(r.state(), State::Master);
    assert_eq!(
        (r.master(), r.last_master()),
        (None, Some(HIGHER_IP.into()))
    );
    // A higher priority that takes MASTER away is recorded at once.
    let t = t0 + s(4);
    r.handle_datagram(t, LOWER_IP, &advert(LOWER_IP, 150, &AuthConfig::None, 0));
    assert_eq!(r.state(), State::Backup);
    assert_eq!(r.last_master(), Some(LOWER_IP.into()));
}

#[test]
fn rejected_adverts_carry_their_sender_and_keepalived_s_trap_reason() {
    let t0 = Instant::now();
    let mut cfg = config(100);
    cfg.authentication = AuthConfig::pass(b"secret");
    let mut r = VirtualRouter::new(cfg).unwrap();
    r.handle_startup(t0);
    events(&mut r);
    let wrong = advert(HIGHER_IP, 200, &AuthConfig::pass(b"nope"), 0);
    r.handle_datagram(t0, HIGHER_IP, &wrong);
    // A multicast advert with TTL 64.
    let pass = AuthConfig::pass(b"secret");
    r.handle_datagram(t0, LOWER_IP, &advert_with(LOWER_IP, 64, 7, &pass));
    // A VRID mismatch is counted without a notification.
    r.handle_datagram(t0, LOWER_IP, &advert_with(LOWER_IP, 255, 8, &pass));
    let invalid = |w| Event::Dropped(DropReason::Invalid(w));
    assert_eq!(
        events(&mut r),
        [
            invalid(wire::DropReason::AuthFailure),
            Event::Rejected {
                from: HIGHER_IP.into(),
                error: AdvertError::Auth(AuthError::AuthFailure),
            },
            invalid(wire::DropReason::BadTtl),
            Event::Rejected {
                from: LOWER_IP.into(),
                error: AdvertError::Protocol(ProtocolError::IpTtl),
            },
            invalid(wire::DropReason::VridMismatch),
        ]
    );
    assert_eq!(
        (AuthError::AuthFailure.code(), ProtocolError::IpTtl.code()),
        (3, 1)
    );
}

/// A priority-200 advert with this TTL and VRID.
fn advert_with(src: Ipv4Addr, ttl: u8, vrid: u8, auth: &AuthConfig) -> Vec<u8> {
    let repr = wire::AdvertRepr {
        src,
        dst: wire::VRRP_MCAST_V4,
        ttl,
        vrid,
        priority: 200,
        adver_int: 1,
        addresses: &[VIP],
    };
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let len = wire::encode(&repr, auth, &mut TxCounters::new(), &mut buf).unwrap();
    buf[..len].to_vec()
}

#[test]
fn backup_without_preempt_accepts_lower_priority() {
    let t0 = Instant::now();
    let mut cfg = config(100);
    cfg.preempt = false;
    let r = hearing(cfg, t0, 50);
    assert_eq!(r.poll_timeout(), Some(t0 + s(1) + r.master_down_interval()));
}

#[test]
fn invalid_advert_is_counted_and_never_resets_the_timer() {
    let t0 = Instant::now();
    let mut r = started(100, t0);
    let deadline = r.poll_timeout();
    // Wrong password.
    let pass = advert(HIGHER_IP, 200, &AuthConfig::pass(b"nope"), 0);
    r.handle_datagram(t0 + s(1), HIGHER_IP, &pass);
    // Truncated.
    let good = advert(HIGHER_IP, 200, &AuthConfig::None, 0);
    r.handle_datagram(t0 + s(1), HIGHER_IP, &good[..good.len() - 1]);
    // Our own advert looped back.
    r.handle_datagram(t0 + s(1), ME, &advert(ME, 200, &AuthConfig::None, 0));
    assert_eq!(r.poll_timeout(), deadline);
    assert_eq!(
        events(&mut r),
        [
            Event::Dropped(DropReason::Invalid(wire::DropReason::AuthTypeMismatch)),
            Event::Rejected {
                from: HIGHER_IP.into(),
                error: AdvertError::Auth(AuthError::AuthTypeMismatch),
            },
            Event::Dropped(DropReason::Invalid(wire::DropReason::BadIpLength)),
            Event::Dropped(DropReason::OwnAdvert),
        ]
    );
    assert_eq!(r.counters().dropped.total(), 3);
    assert_eq!(r.counters().adverts_received, 0);
}

#[test]
fn master_answers_priority_zero_at_once_and_restarts_adver_timer() {
    let t0 = Instant::now();
    let mut r = master(100, t0);
    let now = t0 + s(10) + Duration::from_millis(300);
    r.handle_datagram(now, LOWER_IP, &advert(LOWER_IP, 0, &AuthConfig::None, 0));
    assert_eq!(transmit(&mut r, now).map(|t| t.0), Some(100));
    // Restarted on the grid (from t0), not one interval from `now`.
    assert_eq!(r.timers.get(Timer::Advert), Some(t0 + s(11)));
    assert_eq!(r.state(), State::Master);
}

#[test]
fn master_reacts_to_lower_priority_like_keepalived_by_default() {
    let t0 = Instant::now();
    let mut r = master(100, t0);
    let now = t0 + s(10);
    let timer = r.poll_timeout();
    r.handle_datagram(now, HIGHER_IP, &advert(HIGHER_IP, 99, &AuthConfig::None, 0));
    assert_eq!(transmit(&mut r, now).map(|t| t.0), Some(100));
    assert_eq!(r.poll_timeout(), timer);
    assert_eq!(
        events(&mut r),
        [
            Event::GratuitousArp { repeat: 5 },
            Event::MasterRxLowerPriority {
                from: HIGHER_IP.into(),
                priority: 99,
                ours: 100
            }
        ]
    );
    // Equal priority from a lower address is "lower" too.
    r.handle_datagram(now, LOWER_IP, &advert(LOWER_IP, 100, &AuthConfig::None, 0));
    assert!(transmit(&mut r, now).is_some());
    assert_eq!(r.state(), State::Master);
}

#[test]
fn each_lower_priority_advert_brings_a_garp_burst_now_and_one_delayed() {
    let t0 = Instant::now();
    let mut cfg = config(100);
    cfg.garp = GarpConfig {
        master_delay: Duration::ZERO,
        lower_prio_repeat: 2,
        lower_prio_delay: s(3),
        ..GarpConfig::default()
    };
    let mut r = master_with(cfg, t0);
    let lower = advert(LOWER_IP, 50, &AuthConfig::None, 0);
    let burst = Event::GratuitousArp { repeat: 2 };
    let (a, b) = (t0 + s(10), t0 + s(11));
    for now in [a, b] {
        r.handle_datagram(now, LOWER_IP, &lower);
        assert_eq!(events(&mut r)[0], burst);
    }
    // One delayed burst per advert, 3 s after it.
    for (at, want) in [(a + s(3), 1), (b + s(3), 1), (b + s(9), 0)] {
        r.handle_timeout(at);
        let garps = events(&mut r).into_iter().filter(|e| *e == burst).count();
        assert_eq!(garps, want, "at {:?}", at - t0);
    }
    // Pending bursts end with MASTER; one due while BACKUP is not sent.
    r.handle_datagram(t0 + s(20), LOWER_IP, &lower);
    assert_eq!(events(&mut r)[0], burst);
    let higher = advert(HIGHER_IP, 200, &AuthConfig::None, 0);
    r.handle_datagram(t0 + s(21), HIGHER_IP, &higher);
    assert_eq!(r.state(), State::Backup);
    events(&mut r);
    r.handle_timeout(t0 + s(23));
    assert!(!events(&mut r).contains(&burst));
    // None at all with a repeat of 0 (strict mode's setting).
    let mut cfg = config(100);
    cfg.garp.lower_prio_repeat = 0;
    let mut r = master_with(cfg, t0);
    r.handle_datagram(a, LOWER_IP, &lower);
    let e = events(&mut r);
    assert!(
        !e.iter().any(|e| matches!(e, Event::GratuitousArp { .. })),
        "{e:?}"
    );
}

#[test]
fn master_discards_lower_priority_with_the_rfc_option() {
    let t0 = Instant::now();
    let mut cfg = config(100);
    cfg.lower_priority_advert = LowerPriorityAdvert::Discard;
    let mut r = master_with(cfg, t0);
    r.handle_datagram(
        t0 + s(5),
        HIGHER_IP,
        &advert(HIGHER_IP, 50, &AuthConfig::None, 0),
    );
    assert!(transmit(&mut r, t0).is_none());
    assert_eq!(r.state(), State::Master);
}

#[test]
fn master_yields_to_higher_priority_and_equal_priority_higher_address() {
    for (src, prio) in [(LOWER_IP, 101), (HIGHER_IP, 100)] {
        let t0 = Instant::now();
        let mut r = master(100, t0);
        let now = t0 + s(10);
        r.handle_datagram(now, src, &advert(src, prio, &AuthConfig::None, 0));
        assert_eq!(r.state(), State::Backup);
        assert!(
            transmit(&mut r, now).is_none(),
            "no priority 0 when yielding"
        );
        assert_eq!(
            events(&mut r)[..3],
            [
                Event::MasterRxHigherPriority {
                    from: src.into(),
                    priority: prio,
                    ours: 100,
                },
                Event::StateChanged {
                    from: State::Master,
                    to: State::Backup,
                    reason: Reason::HigherPriority
                },
                Event::RemoveAddresses,
            ]
        );
        assert_eq!(r.poll_timeout(), Some(now + r.master_down_interval()));
        assert_eq!(r.master(), Some((src.into(), prio)));
    }
}

#[test]
fn higher_prio_send_advert_option_sends_one_last_advert() {
    let t0 = Instant::now();
    let mut cfg = config(100);
    cfg.higher_priority_send_advert = true;
    let mut r = master_with(cfg, t0);
    r.handle_datagram(
        t0 + s(5),
        HIGHER_IP,
        &advert(HIGHER_IP, 150, &AuthConfig::None, 0),
    );
    assert_eq!(r.state(), State::Backup);
    assert_eq!(transmit(&mut r, t0).map(|t| t.0), Some(100));
}

#[test]
fn two_owners_resolve_by_lowering_one() {
    let t0 = Instant::now();
    let mut r = started(255, t0);
    assert_eq!(r.state(), State::Master);
    transmit(&mut r, t0);
    r.handle_datagram(
        t0 + s(1),
        HIGHER_IP,
        &advert(HIGHER_IP, 255, &AuthConfig::None, 0),
    );
    assert_eq!(r.priority(), 254);
    assert_eq!(r.state(), State::Backup);
    let ev = events(&mut r);
    assert_eq!(
        ev[0],
        Event::OwnerConflict {
            from: HIGHER_IP.into()
        }
    );
    assert_eq!(
        ev[1],
        Event::MasterRxHigherPriority {
            from: HIGHER_IP.into(),
            priority: 255,
            ours: 254,
        }
    );
    assert_eq!(
        ev[2],
        Event::StateChanged {
            from: State::Master,
            to: State::Backup,
            reason: Reason::HigherPriority
        }
    );
}

/// keepalived 2.2.7's `state BACKUP` on the address owner: BACKUP at
/// start-up, MASTER only when Master_Down_Interval runs out.
#[test]
fn owner_configured_backup_waits_like_a_backup() {
    let t0 = Instant::now();
    let mut cfg = config(255);
    cfg.initial_backup = true;
    let mut r = VirtualRouter::new(cfg).unwrap();
    r.handle_startup(t0);
    assert_eq!(r.state(), State::Backup);
    let down = r.master_down_interval();
    assert_eq!(r.poll_timeout(), Some(t0 + down));
    assert_eq!(
        events(&mut r)[0],
        Event::StateChanged {
            from: State::Initialize,
            to: State::Backup,
            reason: Reason::Startup
        }
    );
    r.handle_timeout(t0 + down);
    assert_eq!(r.state(), State::Master);
}

/// An owner, `state BACKUP` or not, recovers from a fault to BACKUP and
/// takes over when Master_Down_Interval runs out (keepalived 2.2.7,
/// measured: its `wantstate` is FAULT then); having followed another
/// master (its priority lowered by nothing else), it starts in BACKUP.
#[test]
fn owner_recovery_follows_what_it_wanted_last() {
    let t0 = Instant::now();
    let mut cfg = config(255);
    for initial_backup in [true, false] {
        cfg.initial_backup = initial_backup;
        let mut r = master_with(cfg.clone(), t0);
        r.handle_interface(t0 + s(5), false);
        assert_eq!(r.state(), State::Fault);
        r.handle_interface(t0 + s(6), true);
        assert_eq!(r.state(), State::Backup, "{initial_backup}");
        let down = r.master_down_interval();
        assert_eq!(r.poll_timeout(), Some(t0 + s(6) + down));
        r.handle_timeout(t0 + s(6) + down);
        assert_eq!(r.state(), State::Master, "{initial_backup}");
    }
    cfg.initial_backup = true;

    let mut r = hearing(cfg, t0, 255);
    assert_eq!(r.state(), State::Backup);
    r.handle_interface(t0 + s(2), false);
    r.handle_interface(t0 + s(3), true);
    assert_eq!(r.state(), State::Backup);
}

#[test]
fn shutdown_of_master_sends_priority_zero() {
    let t0 = Instant::now();
    let mut r = master(100, t0);
    r.handle_shutdown(t0 + s(7));
    assert_eq!(transmit(&mut r, t0).map(|t| t.0), Some(0));
    assert_eq!(r.state(), State::Initialize);
    assert_eq!(r.poll_timeout(), None);
    let ev = events(&mut r);
    assert_eq!(ev[1], Event::RemoveAddresses);
    assert!(
        matches!(&ev[2], Event::Notify(n) if n.state == State::Initialize && n.args()[2] == "STOP")
    );
    assert_eq!(r.counters().released_master, 1);
}

#[test]
fn notify_args_are_keepalived_s() {
    let n = Notify {
        kind: NotifyKind::Group,
        name: "G1".into(),
        state: State::Fault,
        priority: 0,
    };
    assert_eq!(n.args(), ["GROUP", "G1", "FAULT", "0"]);
}

/// A priority-100 router with AH ("secret"), started at the returned time.
fn started_ah_router() -> (Instant, AuthConfig, VirtualRouter) {
    let t0 = Instant::now();
    let auth = AuthConfig::ah(b"secret");
    let mut cfg = config(100);
    cfg.authentication = auth.clone();
    let mut r = VirtualRouter::new(cfg).unwrap();
    r.handle_startup(t0);
    (t0, auth, r)
}

#[test]
fn ah_master_resynchronises_past_a_lower_router() {
    let (t0, auth, mut r) = started_ah_router();
    r.handle_timeout(t0 + r.master_down_interval());
    let (_, first) = transmit(&mut r, t0).unwrap();
    let seq_of = |d: &[u8]| u32::from_be_bytes([d[28], d[29], d[30], d[31]]);
    assert_eq!(seq_of(&first), 1);
    // A lower router advertising sequence 500: keepalived sets its counter
    // to 501, so the immediate answer carries 502.
    r.handle_datagram(t0 + s(5), LOWER_IP, &advert(LOWER_IP, 50, &auth, 499));
    let (_, answer) = transmit(&mut r, t0).unwrap();
    assert_eq!(seq_of(&answer), 502);
    // Replaying the lower router's advert is rejected; a fresh one is not.
    r.handle_datagram(t0 + s(6), LOWER_IP, &advert(LOWER_IP, 50, &auth, 499));
    r.handle_datagram(t0 + s(6), LOWER_IP, &advert(LOWER_IP, 50, &auth, 500));
    let ev = events(&mut r);
    assert!(ev.contains(&Event::Dropped(DropReason::Invalid(
        wire::DropReason::AhReplay
    ))));
    assert_eq!(r.counters().adverts_received, 2);
}

#[test]
fn small_buffer_is_a_counted_transmit_error() {
    let t0 = Instant::now();
    let mut r = started(255, t0);
    let mut small = [0u8; 10];
    assert!(r.poll_transmit(t0, &mut small).is_none());
    assert_eq!(r.counters().transmit_errors, 1);
    assert!(r.max_datagram_len() > 10);
}

#[test]
fn flood_of_bad_datagrams_is_counted_beyond_the_event_queue() {
    let t0 = Instant::now();
    let mut r = started(100, t0);
    for _ in 0..100 {
        r.handle_datagram(t0, HIGHER_IP, &[0x45]);
    }
    assert_eq!(events(&mut r).len(), EVENT_CAPACITY);
    assert_eq!(r.counters().events_overflowed, 100 - EVENT_CAPACITY as u64);
    assert_eq!(r.counters().dropped.total(), 100);
}

#[test]
fn startup_while_faulty_enters_fault_and_recovers_to_the_protocol() {
    let t0 = Instant::now();
    let mut r = VirtualRouter::new(config(255)).unwrap();
    r.handle_interface(t0, false);
    r.handle_tracking(
        t0,
        Tracking {
            weight: 0,
            fault: true,
        },
    );
    r.handle_startup(t0);
    assert_eq!(r.state(), State::Fault);
    assert_eq!(r.poll_timeout(), None);
    r.handle_datagram(t0, HIGHER_IP, &advert(HIGHER_IP, 100, &AuthConfig::None, 0));
    assert_eq!(r.counters().dropped.get(DropReason::NotRunning), 1);
    // Still faulty while either cause remains.
    r.handle_interface(t0 + s(1), true);
    assert_eq!(r.state(), State::Fault);
    r.handle_tracking(t0 + s(2), Tracking::default());
    // Even the owner recovers to BACKUP, as keepalived 2.2.7 (measured),
    // and takes over when Master_Down_Interval runs out.
    assert_eq!(r.state(), State::Backup);
    let down = r.master_down_interval();
    assert_eq!(r.poll_timeout(), Some(t0 + s(2) + down));
    r.handle_timeout(t0 + s(2) + down);
    assert_eq!(r.state(), State::Master);
    let ev = events(&mut r);
    assert_eq!(
        ev[0],
        Event::StateChanged {
            from: State::Initialize,
            to: State::Fault,
            reason: Reason::InterfaceDown
        }
    );
    assert!(ev.contains(&Event::StateChanged {
        from: State::Fault,
        to: State::Backup,
        reason: Reason::Recovered
    }));
    assert!(ev.contains(&Event::StateChanged {
        from: State::Backup,
        to: State::Master,
        reason: Reason::MasterDown
    }));
    assert!(transmit(&mut r, t0 + s(2) + down).is_some());
}

/// A master with unicast peers LOWER_IP and HIGHER_IP, its first advert
/// drained.
fn unicast_master(t0: Instant) -> VirtualRouter {
    let mut c = config(200);
    c.unicast_peers = vec![LOWER_IP, HIGHER_IP];
    let mut r = VirtualRouter::new(c).unwrap();
    r.handle_startup(t0);
    r.handle_timeout(t0 + r.master_down_interval());
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    while r.poll_transmit(t0, &mut buf).is_some() {}
    events(&mut r);
    r
}

#[test]
fn unicast_advert_goes_to_each_peer_in_turn() {
    let t0 = Instant::now();
    let mut r = unicast_master(t0);
    let t1 = r.poll_timeout().unwrap();
    r.handle_timeout(t1);
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let mut got = Vec::new();
    while let Some(t) = r.poll_transmit(t1, &mut buf) {
        // The IP destination is the peer, TTL 255; both copies of the
        // second advert carry IP identification 2, as keepalived's do.
        assert_eq!(&buf[16..20], &ip_octets(t.destination));
        got.push((
            t.destination,
            t.priority,
            buf[8],
            u16::from_be_bytes([buf[4], buf[5]]),
        ));
    }
    assert_eq!(
        got,
        [
            (LOWER_IP.into(), 200, 255, 2),
            (HIGHER_IP.into(), 200, 255, 2)
        ]
    );
    let c = r.counters();
    assert_eq!((c.adverts_sent, c.datagrams_sent), (2, 4));
}

#[test]
fn a_new_advert_restarts_from_the_first_peer() {
    let t0 = Instant::now();
    let mut r = unicast_master(t0);
    let t1 = r.poll_timeout().unwrap();
    r.handle_timeout(t1);
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    let first = r.poll_transmit(t1, &mut buf).unwrap();
    assert_eq!(first.destination, LOWER_IP);
    // Before the second copy is polled, the router stops: the priority-0
    // advert goes to every peer, starting again with the first.
    r.handle_shutdown(t1);
    let rest: Vec<_> = std::iter::from_fn(|| r.poll_transmit(t1, &mut buf))
        .map(|t| (t.destination, t.priority))
        .collect();
    assert_eq!(rest, [(LOWER_IP.into(), 0), (HIGHER_IP.into(), 0)]);
    assert_eq!(r.counters().priority_zero_sent, 1);
}

#[test]
fn unicast_transmit_error_drops_the_whole_advert() {
    let t0 = Instant::now();
    let mut r = unicast_master(t0);
    let t1 = r.poll_timeout().unwrap();
    r.handle_timeout(t1);
    let mut small = [0u8; 8];
    assert_eq!(r.poll_transmit(t1, &mut small), None);
    let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
    assert_eq!(r.poll_transmit(t1, &mut buf), None);
    assert_eq!(r.counters().transmit_errors, 1);
}

#[test]
fn unicast_router_drops_multicast_and_checks_sources() {
    let t0 = Instant::now();
    let mut c = config(100);
    c.unicast_peers = vec![HIGHER_IP];
    c.check_unicast_src = true;
    let mut r = VirtualRouter::new(c).unwrap();
    r.handle_startup(t0);
    events(&mut r);
    let auth = AuthConfig::None;
    // A multicast advert from the peer: wrong destination for this router.
    r.handle_datagram(t0, HIGHER_IP, &advert(HIGHER_IP, 200, &auth, 0));
    let bad_dst = DropReason::Invalid(wire::DropReason::BadDestination);
    assert_eq!(events(&mut r), [Event::Dropped(bad_dst)]);
    // Any advert from a non-peer is dropped before it is decoded.
    r.handle_datagram(t0, LOWER_IP, &[0u8; 3]);
    assert_eq!(events(&mut r), [Event::Dropped(DropReason::NotUnicastPeer)]);
    assert_eq!(r.counters().dropped.total(), 2);
    assert_eq!(r.poll_timeout(), Some(t0 + r.master_down_interval()));
}

#[test]
fn durations_beyond_the_clock_disarm_instead_of_panicking() {
    // Instant + Duration::MAX overflows: such a deadline never comes.
    let t0 = Instant::now();
    let mut c = config(100);
    c.preempt_delay = Duration::MAX;
    c.garp = GarpConfig {
        master_delay: Duration::MAX,
        master_refresh: Some(Duration::MAX),
        ..GarpConfig::default()
    };
    let mut r = VirtualRouter::new(c).unwrap();
    r.handle_startup(t0);
    events(&mut r);
    // A lower priority arms the (endless) preempt delay: it is accepted.
    r.handle_datagram(t0, LOWER_IP, &advert(LOWER_IP, 50, &AuthConfig::None, 0));
    assert_eq!(r.master(), Some((LOWER_IP.into(), 50)));
    let down = r.poll_timeout().unwrap();
    r.handle_timeout(down);
    assert_eq!(r.state(), State::Master);
    // Only the Adver_Timer is armed: the GARP timers are out of reach.
    assert_eq!(r.poll_timeout(), Some(t0 + s(4)));
}

#[test]
fn zero_garp_refresh_is_off_not_an_endless_loop() {
    let t0 = Instant::now();
    let mut c = config(100);
    c.garp.master_refresh = Some(Duration::ZERO);
    c.garp.master_delay = Duration::ZERO;
    let mut r = VirtualRouter::new(c).unwrap();
    r.handle_startup(t0);
    let down = r.poll_timeout().unwrap();
    r.handle_timeout(down);
    assert_eq!(r.state(), State::Master);
    assert_eq!(r.poll_timeout(), Some(t0 + s(4)));
    events(&mut r);
    r.handle_timeout(t0 + s(4));
    assert_eq!(events(&mut r), []);
}

#[test]
fn time_going_backwards_is_handled_as_given() {
    let t0 = Instant::now();
    let later = t0 + s(100);
    let mut r = started(100, later);
    // An earlier instant: nothing is due, an advert re-arms from it.
    r.handle_timeout(t0);
    assert_eq!(r.state(), State::Backup);
    r.handle_datagram(t0, HIGHER_IP, &advert(HIGHER_IP, 200, &AuthConfig::None, 0));
    assert_eq!(r.poll_timeout(), Some(t0 + r.master_down_interval()));
    r.handle_timeout(later);
    assert_eq!(r.state(), State::Master);
}

#[test]
fn a_fifth_ah_sender_replaces_the_oldest_remembered_one() {
    let (t0, auth, mut r) = started_ah_router();
    let senders: Vec<Ipv4Addr> = (1..=5).map(|k| Ipv4Addr::new(10, 0, 0, 10 + k)).collect();
    for &src in &senders {
        r.handle_datagram(t0, src, &advert(src, 200, &auth, 9));
    }
    events(&mut r);
    assert_eq!(r.counters().adverts_received, 5);
    // The second sender is still remembered: its old advert is a replay.
    r.handle_datagram(t0, senders[1], &advert(senders[1], 200, &auth, 9));
    let replay = DropReason::Invalid(wire::DropReason::AhReplay);
    // keepalived's AH check fails it as an authentication failure.
    let trap = Event::Rejected {
        from: senders[1].into(),
        error: AdvertError::Auth(AuthError::AuthFailure),
    };
    assert_eq!(events(&mut r), [Event::Dropped(replay), trap]);
    // The first, the oldest, made room for the fifth.
    r.handle_datagram(t0, senders[0], &advert(senders[0], 200, &auth, 9));
    assert_eq!(events(&mut r), []);
    assert_eq!(r.counters().adverts_received, 6);
}

#[test]
fn extreme_address_lists_round_trip() {
    let t0 = Instant::now();
    let auth = AuthConfig::ah(b"secret");
    for count in [0usize, 255] {
        let vips: Vec<Ipv4Addr> = (0..count)
            .map(|k| Ipv4Addr::from(0x0a01_0000 + k as u32))
            .collect();
        let make = |prio, ip| {
            let mut c = Config::new("vi", 7, prio, ip);
            c.virtual_addresses = vips.clone();
            c.authentication = auth.clone();
            c.advert_interval_secs = 255;
            VirtualRouter::new(c).unwrap()
        };
        let mut owner = make(255, HIGHER_IP);
        let mut backup = make(100, ME);
        owner.handle_startup(t0);
        backup.handle_startup(t0);
        assert_eq!(owner.max_datagram_len(), 20 + 24 + 16 + 4 * count);
        assert!(owner.max_datagram_len() <= wire::MAX_DATAGRAM_LEN);
        let (prio, bytes) = transmit(&mut owner, t0).unwrap();
        assert_eq!((prio, bytes.len()), (255, owner.max_datagram_len()));
        backup.handle_datagram(t0, HIGHER_IP, &bytes);
        assert_eq!(backup.master(), Some((HIGHER_IP.into(), 255)));
        let mdi = Duration::from_secs(3 * 255) + skew_time(100);
        assert_eq!(backup.poll_timeout(), Some(t0 + mdi));
    }
}

#[test]
fn tracking_weight_moves_a_backups_down_timer_by_the_skew_change() {
    let t0 = Instant::now();
    let mut r = started(100, t0);
    // Armed for 3.609375 s; priority 200 waits 3.21875 s.
    let gain = Tracking {
        weight: 100,
        fault: false,
    };
    r.handle_tracking(t0 + s(1), gain);
    assert_eq!(r.priority(), 200);
    assert_eq!(
        r.poll_timeout(),
        Some(t0 + Duration::from_nanos(3_218_750_000))
    );
    r.handle_tracking(t0 + s(1), Tracking::default());
    assert_eq!(
        r.poll_timeout(),
        Some(t0 + Duration::from_nanos(3_609_375_000))
    );
    // A master's timers do not move.
    let mut m = master(100, t0);
    let next = m.poll_timeout();
    m.handle_tracking(t0, gain);
    assert_eq!(m.poll_timeout(), next);
}

#[test]
fn a_tracking_change_of_priority_is_reported_with_the_state() {
    let t0 = Instant::now();
    let mut r = started(100, t0);
    let _ = events(&mut r);
    let lose = Tracking {
        weight: -10,
        fault: false,
    };
    r.handle_tracking(t0, lose);
    let changed = Event::PriorityChanged {
        state: State::Backup,
        from: 100,
        to: 90,
    };
    assert_eq!(events(&mut r), [changed]);
    // The same tracking again changes nothing.
    r.handle_tracking(t0, lose);
    assert_eq!(events(&mut r), []);
    let mut m = master(100, t0);
    let _ = events(&mut m);
    m.handle_tracking(t0, lose);
    let changed = Event::PriorityChanged {
        state: State::Master,
        from: 100,
        to: 90,
    };
    assert_eq!(events(&mut m), [changed]);
}

mod v3 {
    //! VRRPv3 (RFC 9568 section 6) rules, one per test.
    use super::*;
    use crate::config::Version;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn config_v3(priority: u8, centis: u16) -> Config {
        let mut c = config(priority);
        c.version = Version::V3;
        c.advert_interval_centis = centis;
        c
    }

    /// A valid VRRPv3 advert from `src` announcing `centis`.
    fn advert_v3(src: Ipv4Addr, priority: u8, centis: u16) -> Vec<u8> {
        let repr = wire::AdvertV3Repr {
            src,
            dst: wire::VRRP_MCAST_V4,
            ttl: wire::VRRP_TTL,
            vrid: 7,
            priority,
            max_adver_int: centis,
            addresses: &[VIP],
        };
        let mut buf = [0u8; wire::MAX_DATAGRAM_LEN_V3];
        let len = wire::encode_v3(&repr, &mut TxCounters::new(), &mut buf).unwrap();
        buf[..len].to_vec()
    }

    #[test]
    fn startup_times_the_master_with_its_own_interval() {
        let t0 = Instant::now();
        let mut r = VirtualRouter::new(config_v3(100, 5)).unwrap();
        r.handle_startup(t0);
        // 3 x 50 ms + 156/256 x 50 ms.
        assert_eq!(r.master_down_interval(), Duration::from_nanos(180_468_750));
        assert_eq!(r.poll_timeout(), Some(t0 + r.master_down_interval()));
        assert_eq!(r.master_adver_interval(), ms(50));
    }

    #[test]
    fn master_sends_v3_adverts_every_centisecond_interval() {
        let t0 = Instant::now();
        let mut r = VirtualRouter::new(config_v3(150, 1)).unwrap();
        r.handle_startup(t0);
        let up = t0 + r.master_down_interval();
        r.handle_timeout(up);
        assert_eq!(r.max_datagram_len(), 32); // 20 + 8 + one address
        let (prio, bytes) = transmit(&mut r, up).unwrap();
        assert_eq!(prio, 150);
        let got = wire::decode_v3(&bytes, &wire::RecvOptionsV3::default()).unwrap();
        assert_eq!((got.max_adver_int, got.ip_id), (1, Some(1)));
        // Up at 34.140625 ms: the next advert on the 10 ms grid from t0.
        assert_eq!(r.poll_timeout(), Some(t0 + ms(40)));
        r.handle_timeout(t0 + ms(40));
        assert_eq!(transmit(&mut r, t0 + ms(40)).map(|(p, _)| p), Some(150));
        assert_eq!(r.poll_timeout(), Some(t0 + ms(50)));
    }

    #[test]
    fn backup_learns_the_masters_interval() {
        let t0 = Instant::now();
        let mut r = VirtualRouter::new(config_v3(100, 100)).unwrap();
        r.handle_startup(t0);
        r.handle_datagram(t0, HIGHER_IP, &advert_v3(HIGHER_IP, 200, 20));
        assert_eq!(r.master_adver_interval(), ms(200));
        // 3 x 200 ms + 156/256 x 200 ms = 721.875 ms.
        let mdi = Duration::from_nanos(721_875_000);
        assert_eq!(r.master_down_interval(), mdi);
        assert_eq!(r.poll_timeout(), Some(t0 + mdi));
        // The master slows down: the next advert moves it again.
        let t1 = t0 + ms(150);
        r.handle_datagram(t1, HIGHER_IP, &advert_v3(HIGHER_IP, 200, 300));
        assert_eq!(r.master_adver_interval(), ms(3000));
        assert_eq!(
            r.poll_timeout(),
            Some(t1 + ms(9000) + ms(1828) + Duration::from_micros(125))
        );
    }

    #[test]
    fn priority_zero_waits_the_skew_of_the_learned_interval() {
        let t0 = Instant::now();
        let mut r = VirtualRouter::new(config_v3(100, 100)).unwrap();
        r.handle_startup(t0);
        r.handle_datagram(t0, HIGHER_IP, &advert_v3(HIGHER_IP, 200, 10));
        r.handle_datagram(t0 + ms(50), HIGHER_IP, &advert_v3(HIGHER_IP, 0, 10));
        // Skew_Time of 100 ms at priority 100: 60.9375 ms.
        let skew = Duration::from_nanos(60_937_500);
        assert_eq!(r.skew_time(), skew);
        assert_eq!(r.poll_timeout(), Some(t0 + ms(50) + skew));
    }

    #[test]
    fn a_preempted_lower_master_teaches_nothing() {
        let t0 = Instant::now();
        let mut r = VirtualRouter::new(config_v3(100, 100)).unwrap();
        r.handle_startup(t0);
        let down = r.poll_timeout();
        r.handle_datagram(t0, LOWER_IP, &advert_v3(LOWER_IP, 50, 7));
        assert_eq!(r.master_adver_interval(), ms(1000));
        assert_eq!(r.poll_timeout(), down, "preempting: timer untouched");
    }

    #[test]
    fn becoming_master_restores_the_configured_interval() {
        let t0 = Instant::now();
        let mut r = VirtualRouter::new(config_v3(100, 100)).unwrap();
        r.handle_startup(t0);
        r.handle_datagram(t0, HIGHER_IP, &advert_v3(HIGHER_IP, 200, 5));
        let up = t0 + r.master_down_interval();
        r.handle_timeout(up);
        assert_eq!(r.state(), State::Master);
        assert_eq!(r.master_adver_interval(), ms(1000));
        // Up at 180.46875 ms; adverts every 1000 ms on the grid from t0.
        assert_eq!(r.poll_timeout(), Some(t0 + ms(1000)));
        r.handle_timeout(t0 + ms(1000));
        assert_eq!(r.poll_timeout(), Some(t0 + ms(2000)));
    }

    #[test]
    fn master_yields_to_higher_priority_and_learns_its_interval() {
        let t0 = Instant::now();
        let mut r = master_with(config_v3(100, 100), t0);
        let t1 = t0 + s(5);
        r.handle_datagram(t1, HIGHER_IP, &advert_v3(HIGHER_IP, 200, 40));
        assert_eq!(r.state(), State::Backup);
        assert_eq!(r.master_adver_interval(), ms(400));
        // 3 x 400 ms + 156/256 x 400 ms = 1.44375 s.
        assert_eq!(
            r.poll_timeout(),
            Some(t1 + Duration::from_nanos(1_443_750_000))
        );
    }

    #[test]
    fn owner_starts_as_master_and_answers_lower_adverts() {
        let t0 = Instant::now();
        let mut r = VirtualRouter::new(config_v3(PRIORITY_OWNER, 100)).unwrap();
        r.handle_startup(t0);
        assert_eq!(r.state(), State::Master);
        transmit(&mut r, t0).unwrap();
        r.handle_datagram(t0, HIGHER_IP, &advert_v3(HIGHER_IP, 200, 100));
        assert_eq!(r.state(), State::Master);
        assert_eq!(transmit(&mut r, t0).map(|(p, _)| p), Some(PRIORITY_OWNER));
    }

    #[test]
    fn v2_adverts_and_authentication_are_not_v3() {
        let t0 = Instant::now();
        let mut cfg = config_v3(100, 100);
        // Ignored under version 3, as keepalived does.
        cfg.authentication = AuthConfig::pass(b"secret");
        let mut r = VirtualRouter::new(cfg).unwrap();
        r.handle_startup(t0);
        events(&mut r);
        r.handle_datagram(t0, HIGHER_IP, &advert(HIGHER_IP, 200, &AuthConfig::None, 0));
        let bad = DropReason::Invalid(wire::DropReason::BadVersion);
        let trap = Event::Rejected {
            from: HIGHER_IP.into(),
            error: AdvertError::Protocol(ProtocolError::Version),
        };
        assert_eq!(events(&mut r), [Event::Dropped(bad), trap]);
        r.handle_datagram(t0, HIGHER_IP, &advert_v3(HIGHER_IP, 200, 100));
        assert_eq!(r.master(), Some((HIGHER_IP.into(), 200)));
    }

    #[test]
    fn tracking_moves_the_down_timer_by_the_v3_skew() {
        let t0 = Instant::now();
        let mut r = VirtualRouter::new(config_v3(100, 100)).unwrap();
        r.handle_startup(t0);
        r.handle_datagram(t0, HIGHER_IP, &advert_v3(HIGHER_IP, 200, 256));
        let before = r.poll_timeout().unwrap();
        r.handle_tracking(
            t0,
            Tracking {
                weight: 50,
                fault: false,
            },
        );
        // 50 priority points of 2.56 s / 256 = 500 ms sooner.
        assert_eq!(r.poll_timeout(), Some(before - ms(500)));
    }

    #[test]
    fn reconfiguring_the_version_is_a_restart() {
        let t0 = Instant::now();
        let mut r = VirtualRouter::new(config_v3(100, 100)).unwrap();
        r.handle_startup(t0);
        assert_eq!(r.reconfigure(t0, config(100)), Ok(Change::Restart));
        let faster = config_v3(100, 10);
        let Ok(Change::InPlace(changed)) = r.reconfigure(t0, faster) else {
            panic!("an interval change is applied in place");
        };
        assert!(changed.advert_interval && !changed.other);
    }
}

fn ip_octets(ip: std::net::IpAddr) -> Vec<u8> {
    match ip {
        std::net::IpAddr::V4(a) => a.octets().to_vec(),
        std::net::IpAddr::V6(a) => a.octets().to_vec(),
    }
}

#[test]
fn a_router_that_does_not_track_its_interface_keeps_its_state() {
    // keepalived's `dont_track_primary`.
    let t0 = Instant::now();
    let mut cfg = config(255);
    cfg.track_interface = false;
    let mut r = VirtualRouter::new(cfg).unwrap();
    r.handle_interface(t0, false);
    r.handle_startup(t0);
    assert_eq!(r.state(), State::Master);
    r.handle_interface(t0 + s(1), false);
    assert_eq!(r.state(), State::Master);
    assert!(!r.own_fault());
    // Tracking still faults it.
    let fault = Tracking {
        weight: 0,
        fault: true,
    };
    r.handle_tracking(t0 + s(2), fault);
    assert_eq!(r.state(), State::Fault);
    assert!(events(&mut r).contains(&Event::StateChanged {
        from: State::Master,
        to: State::Fault,
        reason: Reason::TrackingFault
    }));
}

#[test]
fn down_timer_adverts_sets_the_master_down_interval() {
    // keepalived's `down_timer_adverts 5`: 5 x 1 s + Skew_Time (100: 609.375 ms).
    let t0 = Instant::now();
    let mut cfg = config(100);
    cfg.down_timer_adverts = 5;
    let mut r = VirtualRouter::new(cfg).unwrap();
    r.handle_startup(t0);
    let want = Duration::from_secs(5) + Duration::from_micros(609_375);
    assert_eq!(r.master_down_interval(), want);
    assert_eq!(r.poll_timeout(), Some(t0 + want));
    r.handle_timeout(t0 + want - Duration::from_millis(1));
    assert_eq!(r.state(), State::Backup);
    r.handle_timeout(t0 + want);
    assert_eq!(r.state(), State::Master);
    // One advert: no more than Skew_Time beyond one interval.
    let mut cfg = config(100);
    cfg.down_timer_adverts = 1;
    let r = VirtualRouter::new(cfg).unwrap();
    let one = Duration::from_secs(1) + Duration::from_micros(609_375);
    assert_eq!(r.master_down_interval(), one);
}
