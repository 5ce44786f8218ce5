//! failover-bench: how fast a backup takes over, keepalived-lite against
//! keepalived 2.2.7, measured from packet capture timestamps.
//!
//! Topology (one namespace lab, needs root, keepalived and tcpdump): r1
//! (priority 150) and r2 (priority 100) on a bridge, plus an observer `obs`
//! running `tcpdump -U -w` on its port. For every run r1 starts and becomes
//! master, r2 starts and settles as backup, then r1 is stopped and r2 takes
//! over:
//!
//! - graceful (SIGTERM): overhead = r2's first advert - r1's priority-0
//!   advert - Skew_Time(100);
//! - crash (SIGKILL, both keepalived processes): overhead = r2's first
//!   advert - r1's last advert - Master_Down_Interval(100).
//!
//! Skew_Time is (256 - 100) / 256 s for VRRPv2 (RFC 3768) and that
//! fraction of the advert interval for VRRPv3 (RFC 9568);
//! Master_Down_Interval is three intervals plus Skew_Time. The gratuitous
//! ARP delay is r2's first ARP for the VIP - r2's first advert.
//!
//! Usage: `failover-bench [--version 2|3] [--advert-int SECS] [RUNS]`
//! (default v2, 1 s, 10 runs); the two daemons alternate run by run (pairs
//! A B A B), and a Markdown table is printed. `failover-bench flood`
//! instead floods r1 (the master, VRRPv2 with PASS authentication) from a
//! fourth namespace with 50,000 invalid adverts per second for 10 s (bad
//! checksum, wrong password, TTL 64, priority 200) and reports the worst
//! deviation of r1's advert interval from 1 s during the flood, and
//! whether r2 ever took over. keepalived-lite is the binary next to this
//! one.
//!
//! Exit status 0 when every run produced a measurement.

mod capture;
mod flood;
mod lab;
mod timing;

use std::process::ExitCode;

use clap::Parser;
use keepalived_lite::netns::{require_program, require_root};

use capture::Stop;
use lab::{Bench, Impl};
use timing::Timing;

/// Takeover times of keepalived-lite and keepalived 2.2.7 in a namespace lab.
#[derive(Parser)]
struct Cli {
    /// VRRP version of both routers (2 or 3).
    #[arg(long, default_value_t = 2)]
    version: u8,
    /// advert_int in seconds, as in keepalived.conf (VRRPv3: 0.01 to 40.95).
    #[arg(long, default_value = "1")]
    advert_int: String,
    /// Runs per stop kind and daemon, or `flood`.
    #[arg(default_value = "10")]
    runs: String,
}

/// Overheads and GARP delays of one (stop, daemon) row, milliseconds.
#[derive(Default)]
struct Row {
    over: Vec<f64>,
    garp: Vec<f64>,
}

const DAEMONS: [Impl; 2] = [Impl::Lite, Impl::Keepalived];
const STOPS: [Stop; 2] = [Stop::Graceful, Stop::Crash];

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

fn min_max(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &x| {
            (a.min(x), b.max(x))
        })
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let timing = match Timing::new(cli.version, &cli.advert_int) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("failover-bench: {e}");
            return ExitCode::from(2);
        }
    };
    let flood = cli.runs == "flood";
    let runs = match (flood, cli.runs.parse::<usize>()) {
        (true, _) => 0,
        (false, Ok(n)) if n > 0 => n,
        _ => {
            eprintln!("failover-bench: RUNS must be a positive number or `flood`");
            return ExitCode::from(2);
        }
    };
    require_root();
    require_program("keepalived", &["--version"]);
    require_program("tcpdump", &["--version"]);
    let bench = std::env::current_exe()
        .map(|p| p.with_file_name("keepalived-lite"))
        .and_then(Bench::new);
    let mut bench = match bench {
        Ok(b) => b,
        Err(e) => {
            eprintln!("failover-bench: cannot build the lab: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ok = if flood {
        run_flood(&mut bench)
    } else {
        run_takeovers(&mut bench, timing, runs)
    };
    eprintln!("captures and logs: {}", bench.dir.display());
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

fn run_flood(bench: &mut Bench) -> bool {
    println!("| implementation | flood datagrams sent | adverts of r1 seen | worst advert interval error (ms) | backup took over |");
    println!("| --- | --- | --- | --- | --- |");
    let mut ok = true;
    for which in DAEMONS {
        match flood::flood_run(bench, which) {
            Ok(f) => {
                println!(
                    "| {} | {} | {} | {:.3} | {} |",
                    which.name(),
                    f.sent,
                    f.adverts,
                    f.worst_ms,
                    f.took_over
                );
                ok &= !f.took_over;
            }
            Err(e) => {
                eprintln!("{which:?} flood: {e}");
                ok = false;
            }
        }
    }
    ok
}

/// `runs` pairs of each stop kind, the daemons alternating; prints the table.
fn run_takeovers(bench: &mut Bench, timing: Timing, runs: usize) -> bool {
    let mut ok = true;
    let mut rows: Vec<((Stop, Impl), Row)> = STOPS
        .iter()
        .flat_map(|&s| DAEMONS.map(|d| ((s, d), Row::default())))
        .collect();
    for run in 0..runs {
        for stop in STOPS {
            for which in DAEMONS {
                let Some((_, row)) = rows.iter_mut().find(|(k, _)| *k == (stop, which)) else {
                    continue;
                };
                match bench.run_once(which, stop, timing, run) {
                    Ok((o, g)) => {
                        eprintln!(
                            "{which:?} {stop:?} run {run}: overhead {:.3} ms, GARP +{:.3} ms",
                            o * 1e3,
                            g * 1e3
                        );
                        row.over.push(o * 1e3);
                        row.garp.push(g * 1e3);
                    }
                    Err(e) => {
                        eprintln!("{which:?} {stop:?} run {run}: {e}");
                        ok = false;
                    }
                }
            }
        }
    }
    print_table(timing, &rows);
    ok
}

fn print_table(timing: Timing, rows: &[((Stop, Impl), Row)]) {
    println!(
        "VRRPv{}, advert_int {} s: Skew_Time(100) {:.3} ms, Master_Down_Interval(100) {:.3} ms",
        timing.version,
        timing.conf_value(),
        timing.skew(100) * 1e3,
        timing.master_down(100) * 1e3
    );
    println!();
    println!("| stop | implementation | runs | median overhead (ms) | min / max (ms) | median GARP delay (ms) | max GARP delay (ms) |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    for ((stop, which), row) in rows {
        let (min, max) = min_max(&row.over);
        println!(
            "| {stop:?} | {} | {} | {:.3} | {min:.3} / {max:.3} | {:.3} | {:.3} |",
            which.name(),
            row.over.len(),
            median(&row.over),
            median(&row.garp),
            min_max(&row.garp).1
        );
    }
    println!();
    for stop in STOPS {
        let get = |d: Impl| rows.iter().find(|(k, _)| *k == (stop, d)).map(|(_, r)| r);
        let (Some(lite), Some(ka)) = (get(Impl::Lite), get(Impl::Keepalived)) else {
            continue;
        };
        let pairs = lite.over.len().min(ka.over.len());
        let better = (0..pairs).filter(|&i| lite.over[i] <= ka.over[i]).count();
        println!(
            "{stop:?}: median overhead lite / keepalived {:.2}; lite <= keepalived in {better} of {pairs} pairs",
            median(&lite.over) / median(&ka.over)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
        assert_eq!(min_max(&[2.0, -1.0, 5.0]), (-1.0, 5.0));
    }
}
