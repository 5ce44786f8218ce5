//! keepalived-lite's VRRP mode (`-P`): runs the `vrrp_instance` and
//! `vrrp_sync_group` blocks of a keepalived.conf on the `vrrp` crate's
//! Linux driver.
//!
//! - [`plan`]: the configuration model turned into units to run (one per
//!   sync group or lone instance: the granularity of a reload);
//! - [`script`]: running scripts without a shell unless needed, killed on
//!   timeout;
//! - [`track`]: keepalived's weights for tracked interfaces and scripts;
//! - [`daemon`]: the event loop: drivers, script runners, notify scripts,
//!   SIGTERM (graceful stop), SIGHUP (reload by configuration diff).
//!
//! Logging goes through `tracing` with keepalived's wording, to stderr.

use std::process::ExitCode;

use crate::cli::Cli;

pub mod daemon;
pub mod plan;
pub mod script;
pub mod track;

/// Runs the VRRP daemon in the foreground until SIGTERM/SIGINT; 0 on a clean
/// stop, 1 if the configuration could not be started.
pub fn run(cli: &Cli) -> ExitCode {
    init_logging(cli.log_detail);
    if !nix::unistd::geteuid().is_root() {
        tracing::error!("keepalived-lite needs root (CAP_NET_RAW and CAP_NET_ADMIN) to run VRRP");
        return ExitCode::FAILURE;
    }
    tracing::info!("Starting VRRP child process, pid={}", std::process::id());
    let opts = vrrp_conf::Options {
        config_id: cli.config_id(),
        ..vrrp_conf::Options::default()
    };
    let loader = daemon::file_loader(cli.use_file.clone(), opts);
    let Some(rt) = runtime() else {
        return ExitCode::FAILURE;
    };
    if rt.block_on(daemon::Daemon::run(loader)) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
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
