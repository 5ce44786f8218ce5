//! keepalived-lite: keepalived's command line over the keepalived crates.
//! `-t` checks a configuration like `keepalived -t`; `-d` and `--dump-json`
//! print the parsed configuration; `--signum` prints keepalived's signal
//! numbers; `-T` is genhash. Otherwise it runs the daemon in the
//! foreground: VRRP and the checker like keepalived (`-P` VRRP only, `-C`
//! checker only; a configuration without `vrrp_instance` runs the checker
//! only, one without `virtual_server` VRRP only), with keepalived's pid
//! files and sd_notify.
//!
//! keepalived's options that mean nothing for one process are accepted:
//! `-n` (always in the foreground), `-R` (no children to respawn), `-B`
//! and `-b` (no BFD), `-X` (no signal-driven transitions), `--all` (a half
//! with no configuration has nothing to run), `-a` (the driver reports
//! only the virtual addresses it restores). `-x`/`-A` start the SNMP
//! subagent ([`keepalived_lite::snmp`]); `-V` is accepted with a warning:
//! it is not built yet. Unlike keepalived,
//! `-d` prints the configuration and exits instead of logging it and
//! running on.
//!
//! keepalived's signals, with its numbers (`--signum`): STOP (SIGTERM),
//! RELOAD (SIGHUP), DATA, STATS, STATS_CLEAR and JSON write keepalived's
//! dump files ([`keepalived_lite::dump`]). `--metrics-listen ADDR` serves
//! Prometheus metrics ([`keepalived_lite::metrics`]). The daemon answers
//! on a root-only control socket (`--control-socket PATH`, default
//! /run/keepalived-lite.sock); `keepalived-lite control status|priority
//! INSTANCE N|backup INSTANCE|reload` asks it ([`keepalived_lite::control`]).

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;
use keepalived_lite::cli::{self, Cli, Command};
use keepalived_lite::daemon_files::{PidError, PidFiles, PidPaths};
use keepalived_lite::{control, genhash, logging, lvs_mode, metrics, process, systemd, vrrp_mode};

fn main() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().collect();
    if let Some(args) = cli::genhash_args(&args) {
        return genhash::main_with(args);
    }
    let cli = Cli::parse_from(args);
    if let Some(function) = &cli.signum {
        return match cli::signum(function) {
            Some(n) => {
                println!("{n}");
                ExitCode::SUCCESS
            }
            None => {
                eprintln!("Unknown sigfunc {function}");
                ExitCode::FAILURE
            }
        };
    }
    process::apply_umask(&cli);
    if let Some(Command::Demo) = cli.command {
        return keepalived_lite::demo::run();
    }
    if let Some(Command::Control { request }) = &cli.command {
        return match control::call(&cli.control_socket, request) {
            Ok(reply) => {
                println!("{reply}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("keepalived-lite: {e}");
                ExitCode::FAILURE
            }
        };
    }
    // keepalived's config_save_dir is checked and its copy saved by -t
    // and at start-up, not by the dumps of the model.
    let parsed = if cli.dump_json || cli.dump_conf {
        cli.load()
    } else {
        let parsed = keepalived_lite::config_save::load(&cli);
        keepalived_lite::dump::publish_config(&parsed);
        parsed
    };
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
        let settings = vrrp_conf::convert::process::Process::of(&parsed, &mut Vec::new());
        // A namespace that cannot be entered: keepalived's -t ends there,
        // silently with 0 (its line goes to syslog only); here the check
        // goes on in this namespace, so that -t still reports what the
        // daemon would refuse. The daemon fails to enter it at start-up.
        let _ = process::enter_for_test(&cli, &settings);
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

/// Runs the daemon: the checker on its own thread and runtime, VRRP on
/// this one; each stops on SIGTERM/SIGINT. Fails if either failed.
fn run(cli: &Cli, parsed: vrrp_conf::Parsed) -> ExitCode {
    let halves = cli.halves(&parsed);
    let (vrrp, checker) = (halves.vrrp, halves.lvs);
    logging::init(cli);
    warn_unbuilt(cli);
    // Refuse exactly what -t reports, before starting anything.
    let converted = cli.convert(&parsed);
    // keepalived logs its configuration errors and runs past them.
    for d in cli::config_errors(&parsed, &converted) {
        tracing::warn!("{}", d.display(&parsed.sources));
    }
    let refused = cli::refusals(&parsed, &converted);
    for d in &refused {
        tracing::error!("{}", d.display(&parsed.sources));
    }
    if !refused.is_empty() {
        return ExitCode::from(cli::refused_start_code(&parsed));
    }
    // keepalived's log lines about scripts (who runs them, which are
    // disabled as insecure or missing).
    for line in &converted.script_log {
        tracing::info!("{line}");
    }
    // And its other log lines about the configuration.
    for line in converted.vrrp.iter().flat_map(|p| &p.log) {
        tracing::info!("{line}");
    }
    // Only the plans are kept: the model, sources, spans and diagnostics
    // of a large file are freed first.
    let vrrp_conf::convert::Converted {
        vrrp: plan,
        lvs: lvs_plan,
        fifos,
        process: settings,
        ..
    } = converted;
    process::apply_config_umask(cli, &settings);
    let namespace = cli
        .namespace
        .as_deref()
        .or(settings.net_namespace.as_deref());
    logging::rename(namespace, settings.instance.as_deref());
    let pid_paths = PidPaths::resolve(cli, &settings, vrrp, checker);
    keepalived_lite::dump::name_after(settings.data_suffix());
    keepalived_lite::alert::configure(vrrp_conf::convert::mail::Alerts::of(&parsed.config));
    if !configure_snmp(cli, &parsed.config, lvs_plan.is_some()) {
        return ExitCode::FAILURE;
    }
    vrrp_mode::scripts::set_fifos(fifos);
    drop(parsed);
    let plan = match (vrrp, plan) {
        (false, _) => None,
        (true, Some(plan)) => Some(plan),
        (true, None) => {
            tracing::error!("no VRRP configuration to run");
            return ExitCode::FAILURE;
        }
    };
    let lvs_plan = match (checker, lvs_plan) {
        (false, _) => None,
        (true, Some(p)) => Some(p),
        (true, None) => {
            tracing::error!("no virtual_server configuration to run");
            return ExitCode::FAILURE;
        }
    };
    // Undone when this returns: the pid files removed, then the core
    // pattern restored.
    let _restore = match process::apply(cli, &settings) {
        Ok(r) => r,
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    process::Reloading::remove_stale(&settings);
    process::set_reload(&settings);
    let _pid_files = match PidFiles::claim(&pid_paths, std::process::id()) {
        Ok(files) => files,
        Err(PidError::Running(_)) => {
            tracing::info!("daemon is already running");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            tracing::error!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(addr) = cli.metrics_listen {
        if let Err(e) = metrics::spawn(addr) {
            tracing::error!("cannot serve metrics on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    }
    // The daemon runs without its control socket rather than not at all.
    let _control = control::spawn(&cli.control_socket)
        .map_err(|e| {
            let path = cli.control_socket.display();
            tracing::warn!("no control socket: {path}: {e}");
        })
        .ok();
    systemd::expect(usize::from(plan.is_some()) + usize::from(lvs_plan.is_some()));
    if lvs_plan.is_some() {
        // Thousands of checks need thousands of descriptors, as keepalived
        // knows; the check driver sizes its concurrency cap from the limit.
        match healthcheck::runtime::raise_nofile_limit() {
            Ok(n) => tracing::debug!("open file limit {n}"),
            Err(e) => tracing::warn!("cannot raise the open file limit: {e}"),
        }
    }
    process::run_start_stop("startup", settings.startup.as_ref(), cli.log_detail);
    let code = run_halves(cli, plan, lvs_plan);
    process::run_start_stop("shutdown", settings.shutdown.as_ref(), cli.log_detail);
    code
}

/// Runs the halves to their stop.
fn run_halves(
    cli: &Cli,
    plan: Option<vrrp_conf::convert::vrrp::Plan>,
    lvs_plan: Option<vrrp_conf::convert::lvs::Plan>,
) -> ExitCode {
    match (plan, lvs_plan) {
        (Some(plan), None) => vrrp_mode::run(plan, vrrp_mode::loader(cli.clone())),
        (None, Some(lvs)) => lvs_mode::run(lvs, lvs_mode::loader(cli.clone())),
        (Some(plan), Some(lvs)) => {
            let reload = lvs_mode::loader(cli.clone());
            let lvs = std::thread::spawn(move || lvs_mode::run(lvs, reload));
            let vrrp = vrrp_mode::run(plan, vrrp_mode::loader(cli.clone()));
            match lvs.join() {
                Ok(c) if c == ExitCode::SUCCESS => vrrp,
                _ => ExitCode::FAILURE,
            }
        }
        (None, None) => ExitCode::SUCCESS,
    }
}

/// The SNMP subagent the halves start (`-x`, `-A`, `global_defs`);
/// false, logged, for a socket it cannot use.
fn configure_snmp(cli: &Cli, config: &vrrp_conf::Config, checker: bool) -> bool {
    let socket = cli.snmp_agent_socket.as_deref();
    match keepalived_lite::snmp::Settings::of(cli.snmp, socket, config, checker) {
        None => true,
        Some(Ok(s)) => {
            keepalived_lite::snmp::configure(s);
            let cli = cli.clone();
            keepalived_lite::snmp::reread_with(Box::new(move || Some(cli.load().config)));
            true
        }
        Some(Err(e)) => {
            tracing::error!("{e}");
            false
        }
    }
}

/// keepalived's options that keepalived-lite accepts but does not honour yet.
fn warn_unbuilt(cli: &Cli) {
    if cli.dont_release_vrrp {
        tracing::warn!("-V is not built into keepalived-lite: VIPs are released at stop");
    }
}
