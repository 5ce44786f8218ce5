//! keepalived-lite's VRRP mode (`-P`): runs the converted `vrrp_instance`
//! and `vrrp_sync_group` blocks of a keepalived.conf on ONE driver of the
//! `vrrp` crate. The semantics live in the crates (tracking in
//! `vrrp::track`, reload in the driver's reconciliation, scripts in
//! `healthcheck::script`); this is glue:
//!
//! - [`daemon`]: the event loop: the driver, signals, reload;
//! - [`scripts`]: `vrrp_script` checks and notify scripts, run by
//!   `healthcheck::script`;
//! - [`process`]: process-wide knobs (`vrrp_startup_delay`,
//!   `log_unknown_vrids`, `disable_local_igmp`);
//! - [`reload_states`]: the states a reload kept, written again to the
//!   FIFOs (`fifo_write_vrrp_states_on_reload`);
//! - [`tracking`]: tracked objects kept in step with the configuration;
//! - [`wording`]: keepalived's log lines.
//!
//! Logging goes through `tracing` with keepalived's wording, to stderr.

use std::process::ExitCode;

use vrrp_conf::convert::vrrp::Plan;

use crate::cli::{self, Cli};

pub mod daemon;
pub mod process;
pub mod promote;
pub mod reload_states;
pub mod scripts;
pub mod statics;
pub mod tracking;
pub mod wording;

/// Runs `plan` (converted once, by the caller, as `-t` converts it) in the
/// foreground until SIGTERM/SIGINT; SIGHUP calls `reload` for the next
/// plan ([`loader`]: the configuration file read and converted again).
/// 0 on a clean stop, 1 if the configuration could not be started.
/// Logging is the caller's ([`init_logging`]).
pub fn run(plan: Plan, reload: daemon::Loader) -> ExitCode {
    if !nix::unistd::geteuid().is_root() {
        tracing::error!("keepalived-lite needs root (CAP_NET_RAW and CAP_NET_ADMIN) to run VRRP");
        return ExitCode::FAILURE;
    }
    tracing::info!("Starting VRRP child process, pid={}", std::process::id());
    let Some(rt) = runtime() else {
        return ExitCode::FAILURE;
    };
    if rt.block_on(daemon::Daemon::run(plan, reload)) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// The reload of keepalived-lite: parse and convert the file again with
/// the functions `-t` and the start-up use, refusing what they refuse.
pub fn loader(cli: Cli) -> daemon::Loader {
    Box::new(move || {
        cli::reconvert(&cli)
            .and_then(|c| c.vrrp)
            .ok_or_else(|| daemon::DaemonError::Refused(cli.use_file.clone()))
    })
}

/// The single-threaded tokio runtime each daemon runs on (None, logged,
/// if it cannot be built).
pub fn runtime() -> Option<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| tracing::error!("cannot start the runtime: {e}"))
        .ok()
}

/// `tracing` to stderr; `-D` (or `RUST_LOG`) for debug detail.
pub fn init_logging(detail: bool) {
    // netlink-packet-route warns about attributes newer than itself on
    // every link dump; that is noise for an operator.
    let default = if detail {
        "debug,netlink_packet_route=error"
    } else {
        "info,netlink_packet_route=error"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .try_init();
}
