//! `vrrp-inspect [--auth-pass PASS] FILE.pcap`: one JSON object per VRRP or
//! AH packet of a capture, with the verdict our receiver would give it.
//!
//! For VRRPv2 the verdict is what `vrrp::wire::decode` says for a router
//! configured with the packet's own authentication type and `--auth-pass`
//! (or with no authentication if `--auth-pass` is absent, or `--auth-type`
//! if given), with one AH replay state per VRID across the file. VRRPv3
//! over IPv4 is checked by `decode_v3` and VRRPv3 over IPv6 (next header
//! 112 right after the IPv6 header) by `decode_v6` with the datagram's hop
//! limit; they carry `max_adver_int` (centiseconds) instead of
//! `auth_type` and `adver_int`, and IPv6 ones `hop_limit` instead of `ttl`
//! and `ip_id`. Exit status 0 means
//! the file was read, whatever the verdicts; 1 means it could not be.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use keepalived_lite::inspect::{inspect, Kind, Options};

#[derive(Parser)]
#[command(about = "Decode and verify the VRRP adverts of a pcap file, one JSON object per line")]
struct Args {
    /// keepalived's auth_pass (truncated to 8 bytes like keepalived).
    #[arg(long)]
    auth_pass: Option<String>,
    /// Expected authentication type (default: the packet's own when
    /// --auth-pass is given, else none).
    #[arg(long, value_enum)]
    auth_type: Option<Kind>,
    /// The routers use unicast peers: do not require TTL (hop limit) 255.
    #[arg(long)]
    unicast: bool,
    /// The pcap file (Ethernet, Linux cooked, or raw IP).
    file: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("vrrp-inspect: {}: {e}", args.file.display());
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), Box<dyn std::error::Error>> {
    let opts = Options {
        auth_pass: args.auth_pass.clone(),
        auth_type: args.auth_type,
        unicast: args.unicast,
    };
    let file = std::fs::File::open(&args.file)?;
    // A closed pipe is an error (exit 1), not a panic as with println!.
    inspect(file, &opts, &mut std::io::stdout().lock())
}
