//! Parses a keepalived.conf, converts it as keepalived-lite would run it
//! (both halves), and prints what would run or why not.
//!
//! `cargo run -p vrrp-conf --features convert-vrrp,convert-lvs --example convert -- FILE`

use std::path::PathBuf;
use std::process::ExitCode;

use vrrp_conf::convert::{convert, Halves};

fn main() -> ExitCode {
    let Some(path) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: convert FILE");
        return ExitCode::from(2);
    };
    let parsed = vrrp_conf::parse_file(&path, &vrrp_conf::Options::default());
    let out = convert(&parsed, Halves::keepalived(&parsed.config, false, false));
    for d in parsed.diagnostics.iter().chain(&out.diagnostics) {
        println!("{}", d.display(&parsed.sources));
    }
    if let Some(vrrp) = &out.vrrp {
        for unit in &vrrp.units {
            println!("{}:", unit.key);
            for r in &unit.setup.routers {
                let c = &r.config;
                println!(
                    "  router {} on {}: vrid {}, priority {}, every {} s, {} address(es)",
                    c.name,
                    r.interface,
                    c.vrid,
                    c.priority,
                    c.advert_interval_secs,
                    r.addresses.len()
                );
            }
        }
    }
    if let Some(lvs) = &out.lvs {
        for s in &lvs.services {
            println!("virtual_server {} ({}):", s.name, s.service.scheduler);
            for r in &s.real_servers {
                let check = r.checks.first().map_or("none", |c| c.probe.keyword());
                println!(
                    "  real_server {} weight {}, check {check}",
                    r.name, r.dest.weight
                );
            }
        }
    }
    if parsed.has_errors() || out.is_refused() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
