//! keepalived-lite: keepalived's command line over the keepalived crates.
//! `-t` checks a configuration like `keepalived -t`; `-d` and `--dump-json`
//! print the parsed configuration. Running the daemon is not built yet.

use std::process::ExitCode;

use clap::Parser;
use keepalived_lite::cli::{self, exit, Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Demo) = cli.command {
        return keepalived_lite::demo::run();
    }
    let parsed = cli.load();
    if cli.dump_json {
        match serde_json::to_string_pretty(&parsed.config) {
            Ok(j) => println!("{j}"),
            Err(e) => eprintln!("keepalived-lite: cannot encode the model: {e}"),
        }
    }
    if cli.dump_conf {
        print!("{}", vrrp_conf::emit::emit(&parsed.config));
    }
    if cli.config_test.is_some() {
        exit_now(cli::config_test(&cli, &parsed));
    }
    if cli.dump_json || cli.dump_conf {
        exit_now(cli::test_status(&parsed));
    }
    run(&cli, parsed)
}

/// Exits without freeing the parsed configuration: for a large file,
/// freeing it takes longer than the check itself.
fn exit_now(code: u8) -> ! {
    std::process::exit(i32::from(code))
}

/// Runs the daemon: VRRP only (`virtual_server` blocks need the checker,
/// which keepalived-lite does not run yet).
fn run(cli: &Cli, parsed: vrrp_conf::Parsed) -> ExitCode {
    if cli.check_only {
        eprintln!("keepalived-lite: the checker subsystem (-C) is not implemented yet");
        return ExitCode::from(exit::NOT_IMPLEMENTED);
    }
    if !parsed.config.virtual_servers.is_empty() && !cli.vrrp_only {
        eprintln!("keepalived-lite: virtual_server blocks are ignored (VRRP only, as with -P)");
    }
    keepalived_lite::vrrp_mode::run(cli)
}
