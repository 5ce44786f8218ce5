//! The sans-IO health-check monitor under arbitrary call sequences: never
//! panics, never hangs, and a target never has two checks in flight.
#![no_main]

use std::time::{Duration, Instant};

use healthcheck::{
    CheckOutcome, DownReason, MemberConfig, Monitor, MonitorConfig, PoolConfig, TargetConfig,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut m = Monitor::new(MonitorConfig::default());
    let start = Instant::now();
    let mut now = start;
    let mut targets = Vec::new();
    let mut pools = Vec::new();
    let mut in_flight = Vec::new();
    for op in data.chunks(3) {
        let (a, b, c) = (op[0], *op.get(1).unwrap_or(&0), *op.get(2).unwrap_or(&0));
        match a % 8 {
            0 => {
                let mut cfg = TargetConfig::with_interval(Duration::from_millis(u64::from(b) * 10));
                cfg.retry = u32::from(c % 4);
                cfg.rise = if c == 255 {
                    u32::MAX
                } else {
                    u32::from(c / 64)
                };
                cfg.fall = if c == 254 { u32::MAX } else { u32::from(c % 3) };
                cfg.alpha = b % 2 == 0;
                cfg.retry_while_down = b % 4 < 2;
                // keepalived's HTTP url cursor.
                cfg.confirm_recovery = c % 8 < 4;
                cfg.fast_recovery = c % 2 == 0;
                // 0-3 urls: from 2 on, one url per step (keepalived's epilog).
                cfg.urls = usize::from(b % 4);
                targets.push(m.add_target(format!("t{}", c % 16), cfg));
            }
            1 => {
                let mut p = PoolConfig::default();
                p.quorum = u64::from(b);
                p.hysteresis = u64::from(c % 8);
                p.sorry_server = c % 2 == 0;
                pools.push(m.add_pool(p));
            }
            2 => {
                if let (Some(&p), Some(&t)) = (
                    pools.get(usize::from(b) % pools.len().max(1)),
                    targets.get(usize::from(c) % targets.len().max(1)),
                ) {
                    let mut mc = MemberConfig::with_weight(u32::from(b % 8));
                    mc.inhibit_on_failure = c % 2 == 0;
                    let _ = m.add_member(p, t, mc);
                }
            }
            3 => m.commit(now),
            4 => now += Duration::from_millis(u64::from(b) * 16 + u64::from(c)),
            5 => {
                while let Some(d) = m.poll_check(now) {
                    assert!(!in_flight.contains(&d.target), "two checks in flight");
                    assert!(d.scheduled <= now);
                    in_flight.push(d.target);
                }
            }
            6 => {
                if !in_flight.is_empty() {
                    let t = in_flight.swap_remove(usize::from(b) % in_flight.len());
                    let outcome = match c % 4 {
                        0 => CheckOutcome::Up,
                        1 => CheckOutcome::UpWithWeight(u32::from(c)),
                        2 => CheckOutcome::UrlDown {
                            url: usize::from(c / 4),
                            reason: DownReason::Timeout,
                        },
                        _ => CheckOutcome::Down(DownReason::Timeout),
                    };
                    m.handle_outcome(now, t, outcome).expect("in flight");
                }
            }
            _ => {
                if let Some(&t) = targets.get(usize::from(b) % targets.len().max(1)) {
                    if let Some(&p) = pools.get(usize::from(c) % pools.len().max(1)) {
                        let _ = m.remove_member(p, t);
                    }
                    if m.remove_target(t).is_ok() {
                        in_flight.retain(|x| *x != t);
                    }
                }
            }
        }
        while m.poll_event().is_some() {}
        let _ = m.poll_timeout();
    }
});
