//! `ipvsctl`: a drop-in for the table commands of ipvsadm, built on the
//! `ipvs` crate.
//!
//! - `ipvsctl restore` reads `ipvsadm -R` rules from stdin and applies them
//!   in pipelined batches; failed rules are reported with their line
//!   number and ipvsadm's message, and the exit status is 1.
//! - `ipvsctl save` prints the table exactly as `ipvsadm -S -n`.
//! - `ipvsctl list [--stats]` prints it as `ipvsadm -L -n [--stats]`.

use std::io::{self, Read, Write};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ipvs::ipvsadm::{format_list, format_save, parse_rules};
use ipvs::{Ipvs, Op};

#[derive(Parser)]
#[command(
    name = "ipvsctl",
    about = "Save, restore and list the IPVS table (ipvsadm formats)"
)]
struct Cli {
    /// Network namespace to work in (a path such as /run/netns/NAME).
    #[arg(long, global = true)]
    netns: Option<std::path::PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Apply `ipvsadm -R` rules read from stdin.
    Restore,
    /// Print the table in `ipvsadm -S -n` format.
    Save,
    /// Print the table in `ipvsadm -L -n` format.
    List {
        /// Counters instead of weights and connections.
        #[arg(long)]
        stats: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("ipvsctl: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let mut ipvs = match &cli.netns {
        Some(ns) => Ipvs::connect_netns(ns)?,
        None => Ipvs::connect()?,
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    match cli.cmd {
        Cmd::Save => out.write_all(format_save(&ipvs.save_table()?).as_bytes())?,
        Cmd::List { stats } => {
            let info = ipvs.info()?;
            out.write_all(format_list(&info, &ipvs.table()?, stats).as_bytes())?
        }
        Cmd::Restore => {
            let mut text = String::new();
            io::stdin().read_to_string(&mut text)?;
            let (lines, ops): (Vec<usize>, Vec<Op>) = parse_rules(&text)?.into_iter().unzip();
            let results = ipvs.apply(&ops)?;
            let mut failed = false;
            for (line, r) in lines.iter().zip(results) {
                if let Err(e) = r {
                    eprintln!("ipvsctl: line {line}: {e}");
                    failed = true;
                }
            }
            if failed {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}
