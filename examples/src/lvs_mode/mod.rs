//! keepalived-lite's checker mode (`-C`): runs the `virtual_server` blocks
//! of a keepalived.conf as keepalived's checker process does. Each real
//! server is in the IPVS table while its health check passes (with weight
//! 0 instead of out under `inhibit_on_failure`); one without a checker is
//! always in.
//!
//! - [`plan`]: the configuration model turned into IPVS services and
//!   health checks with keepalived's defaults; what is not supported is
//!   refused with a typed [`plan::PlanError`] naming the keyword;
//! - [`table`]: the one bridge from `healthcheck`'s pools (which own the
//!   quorum, hysteresis, sorry server and alpha rules) to the desired IPVS
//!   table, with keepalived's log lines;
//! - [`reload`]: the plan as `healthcheck`'s desired pools, which
//!   `Monitor::reconcile` lays onto the running monitor as a diff, so
//!   that unchanged real servers keep their health across SIGHUP;
//! - [`names`]: how an operator names a virtual and a real server for
//!   the control socket's `drain` and `restore` ([`table::Bridge::drain`]);
//! - [`daemon`]: the loop: the `healthcheck` tokio driver runs the checks,
//!   each change is applied as an `ipvs::diff` against what was applied
//!   last; the kernel's table is re-read every `delay_loop` (and soon
//!   after a failed operation; a large table less often, so that reading
//!   it stays under a fiftieth of the time) and drift is repaired; SIGHUP reloads by
//!   diff ([`loader`]); SIGTERM/SIGINT remove the services and exit 0.
//!
//! What runs: `virtual_server IP PORT` (TCP, UDP, SCTP; UDP without
//! `protocol`, as keepalived 2.2.7), `fwmark` and `group NAME` (a
//! `virtual_server_group` of address ranges, IPv4 or IPv6, and fwmarks:
//! one IPVS service each); `ops` and the scheduler flags (`flag-1..3`,
//! `sh-port`, `sh-fallback`, `mh-port`, `mh-fallback`); `ha_suspend` on
//! an address service ([`suspend`]: its checks pause while its address
//! is not on this host; the addresses are read every second); in
//! `global_defs` `lvs_timeouts`, `lvs_flush`, `lvs_flush_onstop` and
//! `lvs_sync_daemon` ([`syncd`]: master and backup without an instance;
//! with one, master while the instance's VIPs are on this host, which
//! also holds under `-C` alone, where keepalived's checker leaves the
//! daemon to its VRRP process); `-I` leaves the table at exit;
//! `lvs_sched`/`lb_algo`, `lvs_method`/`lb_kind` NAT/DR/TUN,
//! `persistence_timeout` and `_granularity`, `delay_loop`, `alpha`,
//! `virtualhost`, `quorum`, `hysteresis`, `sorry_server`,
//! `sorry_server_inhibit`, `quorum_up`, `quorum_down`, `omega`;
//! `real_server` with `weight`, `inhibit_on_failure`, `notify_up` and
//! `notify_down` (scripts on `healthcheck::script`, as keepalived runs
//! them: when it logs the change; under `omega` also at shutdown); any
//! number of checkers per real server (in only while all pass) among
//! TCP_CHECK, HTTP_GET and SSL_GET (`url` with `path`, `status_code`,
//! `digest`, `virtualhost`; SSL_GET accepts any server certificate, as
//! keepalived 2.2.7), SMTP_CHECK (`helo_name`, `host` blocks),
//! DNS_CHECK (`type`, `name`), UDP_CHECK (`payload`, `require_reply`),
//! PING_CHECK, MISC_CHECK (`misc_path`, `misc_timeout`,
//! `misc_dynamic`) and FILE_CHECK (`track_file`, `weight` \[reverse\],
//! on a top-level `track_file` block with `file` and `weight`; read every
//! second where keepalived uses inotify), with `connect_ip`, `connect_port`, `bindto`,
//! `connect_timeout`, `retry`, `delay_before_retry`, `warmup`,
//! `delay_loop`, `alpha`, `http_protocol` (`retry`, `delay_before_retry`,
//! `connect_timeout`, `warmup`, `delay_loop` and `inhibit_on_failure` also
//! on the `real_server` and `virtual_server`, as defaults for what is
//! below). Anything else is refused at
//! start-up (see [`plan::PlanError`]): BFD_CHECK, `init_file`,
//! `ha_suspend` on a fwmark or group service, ... A non-NAT real or sorry
//! server gets the port keepalived 2.2.7 installs: 0 under a fwmark
//! service, the service's port under an address one.
//!
//! Logging goes through `tracing` with keepalived's wording, to stderr.

use std::process::ExitCode;

use plan::Plan;

use crate::cli::{self, Cli};

pub mod daemon;
pub mod names;
pub mod plan;
pub mod reload;
pub mod suspend;
pub mod syncd;
pub mod table;
mod tls;

/// What the command line gives the checker besides its plan.
pub struct Control {
    /// How SIGHUP reloads.
    pub reload: daemon::Loader,
    /// How it ends (`-I`).
    pub options: daemon::RunOptions,
}

/// The checker's [`Control`] from the command line: the reload parses and
/// converts the file again with the functions `-t` and the start-up use,
/// refusing what they refuse; `-I` keeps the table at exit.
pub fn loader(cli: Cli) -> Control {
    let options = daemon::RunOptions {
        dont_release_ipvs: cli.dont_release_ipvs,
    };
    let reload: daemon::Loader = Box::new(move || {
        let file = || cli.use_file.clone();
        let converted = cli::reconvert(&cli).ok_or_else(|| daemon::ReloadError::Refused(file()))?;
        converted
            .lvs
            .ok_or_else(|| daemon::ReloadError::NoVirtualServer(file()))
    });
    Control { reload, options }
}

/// Runs the checker on its [`Plan`] (converted once by the caller, as
/// `-t` converts it) in the foreground until SIGTERM/SIGINT: 0 after a
/// clean stop, 1 if it could not start.
pub fn run(plan: Plan, control: Control) -> ExitCode {
    if !nix::unistd::geteuid().is_root() {
        tracing::error!("keepalived-lite needs root (CAP_NET_ADMIN) to run the checker");
        return ExitCode::FAILURE;
    }
    tracing::info!(
        "Starting Healthcheck child process, pid={}",
        std::process::id()
    );
    let Some(rt) = crate::vrrp_mode::runtime() else {
        return ExitCode::FAILURE;
    };
    match rt.block_on(daemon::run_with(plan, control.reload, control.options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
