//! Times the phases of a restore and a save against the running kernel:
//! parse `ipvsadm -R` rules from stdin, apply them (encoding included), dump the services,
//! dump each service's destinations, read the table the fast way
//! (`save_table`), format as `ipvsadm -S -n`.
//! Used by `vm/bench.sh` to see where the time goes (needs root and ip_vs).
//!
//! `cargo run --release -p linux-ipvs --example phases < rules`
#![allow(clippy::unwrap_used)] // example: abort on any error

use std::io::Read;
use std::time::Instant;

use ipvs::ipvsadm::{format_save, parse_rules};
use ipvs::{Ipvs, Op};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text)?;
    let mut ipvs = Ipvs::connect()?;
    let t = Instant::now();
    let ops: Vec<Op> = parse_rules(&text)?.into_iter().map(|(_, op)| op).collect();
    let parse = t.elapsed();
    let t = Instant::now();
    let failed = ipvs.apply(&ops)?.iter().filter(|r| r.is_err()).count();
    let apply = t.elapsed();
    let t = Instant::now();
    let services = ipvs.services()?;
    let dump_services = t.elapsed();
    let t = Instant::now();
    let mut table = Vec::with_capacity(services.len());
    for s in services {
        let d = ipvs.dests(&s.service.key)?;
        table.push((s, d));
    }
    let dump_dests = t.elapsed();
    let t = Instant::now();
    let fast = ipvs.save_table()?;
    let save_table = t.elapsed();
    let t = Instant::now();
    let out = format_save(&table);
    let format = t.elapsed();
    assert_eq!(format_save(&fast), out, "save_table and table disagree");
    println!(
        "PHASES ops={} failed={failed} parse={parse:?} apply={apply:?} \
         dump_services={dump_services:?} dump_dests={dump_dests:?} save_table={save_table:?} format={format:?} save_bytes={}",
        ops.len(),
        out.len()
    );
    Ok(())
}
