//! The command line of `keepalived-lite`: keepalived's flags, parsed with
//! clap, and the configuration test (`-t`). Running the daemon lives in
//! other modules; this one only reads flags and configuration.
//!
//! `-t` and the daemon's start-up both call [`Cli::convert`] and refuse
//! exactly [`refusals`]: the parse errors and the conversion's refusals.
//! keepalived's configuration errors that it runs past ([`config_errors`])
//! fail `-t` too (exit 5, in keepalived's words); the daemon logs them
//! and runs, as keepalived does. Like keepalived's, `-t` reads the host:
//! the interfaces named, and the addresses unicast instances without
//! `unicast_src_ip` would advertise from, for the duplicate VRID
//! conflicts the start-up's driver refuses (module `host_facts`).

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{ArgAction, Parser, Subcommand};
use vrrp_conf::convert::{Converted, Halves};
use vrrp_conf::preprocess::CHECK_ALL;
use vrrp_conf::{Code, Diagnostic, Options, Parsed, Severity};

mod host_facts;
mod rule_interfaces;

/// keepalived's default configuration file.
pub const DEFAULT_CONF: &str = "/etc/keepalived/keepalived.conf";

/// Exit codes, as keepalived 2.2's `-t` uses them (verified against
/// keepalived 2.2.7, see tests/keepalived_compare.rs).
pub mod exit {
    /// The configuration is valid.
    pub const OK: u8 = 0;
    /// A command or mode that does not exist yet.
    pub const NOT_IMPLEMENTED: u8 = 2;
    /// The configuration file cannot be read (keepalived's
    /// `KEEPALIVED_EXIT_CONFIG`, which it uses with `-e`).
    pub const UNREADABLE: u8 = 4;
    /// Errors were found (keepalived's `KEEPALIVED_EXIT_CONFIG_TEST`).
    pub const ERRORS: u8 = 5;
    /// Only script-security problems were found
    /// (keepalived's `KEEPALIVED_EXIT_CONFIG_TEST_SECURITY`).
    pub const SECURITY: u8 = 6;
    /// An include failed its checks (keepalived's `KEEPALIVED_EXIT_NO_CONFIG`,
    /// which happens to equal [`SECURITY`]).
    pub const NO_CONFIG: u8 = 6;
}

/// keepalived-lite: keepalived's command line over the keepalived crates.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "keepalived-lite",
    disable_version_flag = true,
    version,
    args_override_self = true
)]
pub struct Cli {
    /// Use the specified configuration file.
    #[arg(short = 'f', long = "use-file", value_name = "FILE", default_value = DEFAULT_CONF)]
    pub use_file: PathBuf,
    /// Check the configuration for errors and exit; diagnostics go to
    /// LOG_FILE if given, else to stderr.
    #[arg(short = 't', long = "config-test", value_name = "LOG_FILE", num_args = 0..=1, require_equals = true)]
    pub config_test: Option<Option<PathBuf>>,
    /// Only run the VRRP subsystem.
    #[arg(short = 'P', long = "vrrp")]
    pub vrrp_only: bool,
    /// Only run the health-checker subsystem.
    #[arg(short = 'C', long = "check")]
    pub check_only: bool,
    /// Don't remove the IPVS topology on daemon stop.
    #[arg(short = 'I', long = "dont-release-ipvs")]
    pub dont_release_ipvs: bool,
    /// Don't fork the daemon process.
    #[arg(short = 'n', long = "dont-fork")]
    pub dont_fork: bool,
    /// Log messages to the local console.
    #[arg(short = 'l', long = "log-console")]
    pub log_console: bool,
    /// Detailed log messages.
    #[arg(short = 'D', long = "log-detail")]
    pub log_detail: bool,
    /// Dump the configuration (canonical keepalived.conf) to stdout.
    #[arg(short = 'd', long = "dump-conf")]
    pub dump_conf: bool,
    /// Dump the parsed configuration as JSON to stdout.
    #[arg(long = "dump-json")]
    pub dump_json: bool,
    /// Skip configuration lines starting '@' that don't match ID and lines
    /// starting '@^' that do (default: the host name up to the first dot).
    #[arg(short = 'i', long = "config-id", value_name = "ID")]
    pub config_id: Option<String>,
    /// Don't run the BFD subsystem (keepalived-lite has none: accepted).
    #[arg(short = 'B', long = "no_bfd")]
    pub no_bfd: bool,
    /// Run both halves even if the configuration has nothing for one.
    #[arg(long = "all")]
    pub all: bool,
    /// Syslog facility: 0-7, local0-local7, user or daemon (the default).
    #[arg(short = 'S', long = "log-facility", value_name = "FACILITY", value_parser = parse_facility)]
    pub log_facility: Option<Facility>,
    /// Don't log via syslog.
    #[arg(short = 'G', long = "no-syslog")]
    pub no_syslog: bool,
    /// Also log to FILE (default keepalived.log).
    #[arg(short = 'g', long = "log-file", value_name = "FILE", num_args = 0..=1, require_equals = true)]
    pub log_file: Option<Option<PathBuf>>,
    /// umask for file creation, in numeric form (0 prefix octal, 0x hex).
    #[arg(short = 'u', long = "umask", value_name = "MASK", value_parser = parse_umask)]
    pub umask: Option<u32>,
    /// Drop the VIPs on a transition caused by a signal (keepalived-lite
    /// has no such transitions: accepted).
    #[arg(short = 'X', long = "release-vips")]
    pub release_vips: bool,
    /// Don't remove the VRRP VIPs and virtual routes on stop.
    #[arg(short = 'V', long = "dont-release-vrrp")]
    pub dont_release_vrrp: bool,
    /// Don't respawn child processes (keepalived-lite has none: accepted).
    #[arg(short = 'R', long = "dont-respawn")]
    pub dont_respawn: bool,
    /// The parent's pid file (default /run/keepalived.pid).
    #[arg(short = 'p', long = "pid", value_name = "FILE")]
    pub pid: Option<PathBuf>,
    /// The VRRP child's pid file (default /run/vrrp.pid); keepalived-lite
    /// writes its own pid there while VRRP runs.
    #[arg(short = 'r', long = "vrrp_pid", value_name = "FILE")]
    pub vrrp_pid: Option<PathBuf>,
    /// The checker child's pid file (default /run/checkers.pid);
    /// keepalived-lite writes its own pid there while the checker runs.
    #[arg(short = 'c', long = "checkers_pid", value_name = "FILE")]
    pub checkers_pid: Option<PathBuf>,
    /// The BFD child's pid file (no BFD here: accepted, never written).
    #[arg(short = 'b', long = "bfd_pid", value_name = "FILE")]
    pub bfd_pid: Option<PathBuf>,
    /// genhash mode: the options that follow are genhash's (this must be
    /// the first option; handled before the rest of the command line).
    #[arg(short = 'T', long = "genhash")]
    pub genhash: bool,
    /// Report all address additions and deletions notified via netlink.
    #[arg(short = 'a', long = "address-monitoring")]
    pub address_monitoring: bool,
    /// Enable the SNMP subsystem: an AgentX subagent serving VRRP-MIB,
    /// VRRPv3-MIB and KEEPALIVED-MIB's global and VRRP parts.
    #[arg(short = 'x', long = "snmp")]
    pub snmp: bool,
    /// The master agent's socket for SNMP (default /var/agentx/master).
    #[arg(short = 'A', long = "snmp-agent-socket", value_name = "FILE")]
    pub snmp_agent_socket: Option<String>,
    /// Run in the network namespace NAME (/run/netns/NAME).
    #[arg(short = 's', long = "namespace", value_name = "NAME")]
    pub namespace: Option<String>,
    /// Produce a core dump if terminated abnormally (RLIMIT_CORE unlimited).
    #[arg(short = 'm', long = "core-dump")]
    pub core_dump: bool,
    /// Also set /proc/sys/kernel/core_pattern to PATN (default 'core')
    /// until exit; implies -m.
    #[arg(short = 'M', long = "core-dump-pattern", value_name = "PATN", num_args = 0..=1, require_equals = true)]
    pub core_dump_pattern: Option<Option<String>>,
    /// Error if any configuration file is missing (an include that
    /// matches nothing, as keepalived's `includet`).
    #[arg(short = 'e', long = "all-config")]
    pub all_config: bool,
    /// Print the signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR
    /// or JSON and exit.
    #[arg(long = "signum", value_name = "SIGFUNC")]
    pub signum: Option<String>,
    /// Serve Prometheus metrics on ADDR (e.g. 127.0.0.1:9650) at /metrics.
    #[arg(long = "metrics-listen", value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The control socket the daemon listens on and `control` talks to
    /// (root only).
    #[arg(long = "control-socket", value_name = "PATH", default_value = crate::control::DEFAULT_SOCKET)]
    pub control_socket: PathBuf,
    /// Display the version number.
    #[arg(short = 'v', long = "version", action = ArgAction::Version)]
    pub version: Option<bool>,
    /// A subcommand instead of the daemon.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run a self-contained demonstration.
    Demo,
    /// Ask the running daemon, through its control socket: prints its
    /// JSON reply (see `keepalived_lite::control`).
    Control {
        /// The request.
        #[command(subcommand)]
        request: crate::control::Request,
    },
}

impl Cli {
    /// The config id for `@id` lines: `-i`, else the host name up to the first dot.
    pub fn config_id(&self) -> Option<String> {
        self.config_id.clone().or_else(host_name)
    }

    /// Reads and parses the configuration named by `-f`; `-e` turns on
    /// every include check, as keepalived's `include_check` alone does.
    pub fn load(&self) -> Parsed {
        vrrp_conf::parse_file(&self.use_file, &self.options())
    }

    /// The preprocessor's options this command line asks for.
    pub fn options(&self) -> Options {
        Options {
            config_id: self.config_id(),
            include_check: if self.all_config { CHECK_ALL } else { 0 },
            ..Options::default()
        }
    }

    /// The halves of keepalived this command line runs for `parsed`.
    pub fn halves(&self, parsed: &Parsed) -> Halves {
        Halves::keepalived(&parsed.config, self.vrrp_only, self.check_only)
    }

    /// The conversion `-t` and the daemon's start-up share, with the
    /// host's interfaces asked about the rules' (module `rule_interfaces`).
    pub fn convert(&self, parsed: &Parsed) -> Converted {
        let halves = self.halves(parsed);
        let mut converted = vrrp_conf::convert::convert(parsed, halves);
        if halves.vrrp && self.namespace.is_none() {
            rule_interfaces::check(parsed, &mut converted, &interface_exists);
        }
        converted
    }
}

/// What `-t` reports as errors and the daemon refuses to start with: the
/// parse errors and the conversion's refusals, in file and line order.
pub fn refusals<'a>(parsed: &'a Parsed, converted: &'a Converted) -> Vec<&'a Diagnostic> {
    let mut out: Vec<&Diagnostic> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.stops_start())
        .chain(converted.refusals())
        .collect();
    out.sort_by_key(|d| (d.span.file, d.span.line, d.span.col));
    out
}

/// keepalived's configuration errors that it runs past: `-t` fails with
/// them; the daemon logs them (as keepalived does) and runs.
pub fn config_errors<'a>(parsed: &'a Parsed, converted: &'a Converted) -> Vec<&'a Diagnostic> {
    let mut out: Vec<&Diagnostic> = (parsed.diagnostics.iter())
        .filter(|d| d.severity == Severity::Error && !d.stops_start())
        .chain(converted.config_errors())
        .collect();
    out.sort_by_key(|d| (d.span.file, d.span.line, d.span.col));
    out
}

/// Parses and converts the file again (on SIGHUP) with the functions
/// `-t` and the start-up use, logging each refusal with file:line; `None`
/// if anything was refused.
pub fn reconvert(cli: &Cli) -> Option<Converted> {
    let reloading = crate::process::Reloading::start();
    let parsed = crate::config_save::load(cli);
    if let Some(log) = crate::process::reload_check() {
        // keepalived runs `-t=LOG` on the new file first.
        if cli.log_detail {
            tracing::info!("validate conf before Reload");
        }
        let mut check = cli.clone();
        check.config_test = Some(Some(PathBuf::from(&log)));
        if config_test(&check, &parsed) != exit::OK {
            tracing::info!("New config failed validation, see {log} for details");
            return None;
        }
    }
    drop(reloading);
    let converted = cli.convert(&parsed);
    for d in config_errors(&parsed, &converted) {
        tracing::warn!("{}", d.display(&parsed.sources));
    }
    let refused = refusals(&parsed, &converted);
    for d in &refused {
        tracing::error!("{}", d.display(&parsed.sources));
    }
    let mut ok = refused.is_empty();
    drop(refused);
    if let Some(why) = crate::process::reload_refusal(cli, &converted.process) {
        tracing::info!("{why}");
        ok = false;
    }
    if ok {
        for line in converted.vrrp.iter().flat_map(|p| &p.log) {
            tracing::info!("{line}");
        }
        crate::process::set_reload(&converted.process);
        crate::alert::configure(vrrp_conf::convert::mail::Alerts::of(&parsed.config));
        crate::dump::publish_config(&parsed);
    }
    ok.then_some(converted)
}

/// A syslog facility (`-S`), as its number in `LOG_*` units (`LOG_DAEMON`
/// is 3, `LOG_LOCAL0` 16).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facility(pub u8);

impl Facility {
    /// keepalived's default, `LOG_DAEMON`.
    pub const DAEMON: Facility = Facility(3);
}

/// `-S`: `0`-`7` and `local0`-`local7` are `LOG_LOCAL0`-`LOG_LOCAL7`;
/// `user` and `daemon` by name.
fn parse_facility(s: &str) -> Result<Facility, String> {
    let local = s.strip_prefix("local").unwrap_or(s);
    match (local.parse::<u8>(), s) {
        (Ok(n @ 0..=7), _) => Ok(Facility(16 + n)),
        (_, "user") => Ok(Facility(1)),
        (_, "daemon") => Ok(Facility::DAEMON),
        _ => Err(format!("Invalid log facility '{s}'")),
    }
}

/// `-u`: a number as C's `strtol` with base 0 reads it (`022` octal,
/// `0x12` hex, else decimal), at most 0777.
fn parse_umask(s: &str) -> Result<u32, String> {
    let parsed = if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16)
    } else if s.len() > 1 && s.starts_with('0') {
        u32::from_str_radix(&s[1..], 8)
    } else {
        s.parse()
    };
    match parsed {
        Ok(m) if m <= 0o777 => Ok(m),
        _ => Err(format!("Invalid --umask option {s}")),
    }
}

/// keepalived's signal for a `--signum` function name: STOP, RELOAD,
/// DATA, STATS, STATS_CLEAR or JSON (glibc's real-time numbering).
pub fn signum(function: &str) -> Option<i32> {
    Some(match function {
        "STOP" => libc::SIGTERM,
        "RELOAD" => libc::SIGHUP,
        "DATA" => libc::SIGUSR1,
        "STATS" => libc::SIGUSR2,
        "STATS_CLEAR" => libc::SIGRTMAX() - 1,
        "JSON" => libc::SIGRTMIN() + 2,
        _ => return None,
    })
}

/// The arguments for genhash if `args` asks for genhash mode (`-T` or
/// `--genhash`): what follows it, after the program name.
pub fn genhash_args(args: &[std::ffi::OsString]) -> Option<Vec<std::ffi::OsString>> {
    let at = args
        .iter()
        .skip(1)
        .position(|a| a == "-T" || a == "--genhash")?;
    let mut out = vec![std::ffi::OsString::from("genhash")];
    out.extend(args.iter().skip(at + 2).cloned());
    Some(out)
}

fn host_name() -> Option<String> {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok()?;
    let first = name.trim().split('.').next()?.to_string();
    (!first.is_empty()).then_some(first)
}

/// `-t`: prints every diagnostic, the conversion's included, and returns
/// keepalived's exit code (5 if anything would be refused).
pub fn config_test(cli: &Cli, parsed: &Parsed) -> u8 {
    let converted = cli.convert(parsed);
    let mut diags = parsed.diagnostics.clone();
    diags.extend(converted.diagnostics.iter().cloned());
    diags.extend(parsed.missing_interfaces(&interface_exists));
    let mut host = host_facts::Kernel::default();
    diags.extend(host_facts::vrid_conflicts(parsed, &converted, &mut host));
    diags.sort_by_key(|d| (d.span.file, d.span.line, d.span.col));
    let mut text = String::new();
    for d in &diags {
        text.push_str(&d.display(&parsed.sources).to_string());
        text.push('\n');
    }
    let errors = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diags.len() - errors;
    text.push_str(&format!(
        "{}: {errors} error(s), {warnings} warning(s)\n",
        cli.use_file.display()
    ));
    let written = match cli.config_test.as_ref().and_then(Option::as_ref) {
        Some(log) => std::fs::write(log, &text),
        None => std::io::stderr().write_all(text.as_bytes()),
    };
    if let Err(e) = written {
        eprintln!("keepalived-lite: cannot write diagnostics: {e}");
    }
    match test_status(parsed) {
        _ if include_failed(parsed) => exit::NO_CONFIG,
        exit::OK | exit::SECURITY if errors > 0 => exit::ERRORS,
        status => status,
    }
}

/// True if this host has a network interface called `name`: asked of the
/// kernel, so that after `net_namespace` it is the namespace's (sysfs
/// shows the namespace that mounted it).
fn interface_exists(name: &str) -> bool {
    !name.is_empty() && nix::net::if_::if_nametoindex(name).is_ok()
}

/// True if an include failed its checks: keepalived then stops right
/// after reading, whatever else it found. (An unreadable main file is
/// not an include: it stops keepalived before reading.)
fn include_failed(parsed: &Parsed) -> bool {
    !parsed.sources.names().is_empty()
        && parsed.diagnostics.iter().any(|d| {
            d.severity == Severity::Error
                && matches!(d.code, Code::IncludeNoMatch | Code::FileUnreadable)
        })
}

/// The exit code of a start-up refused for `parsed`: keepalived's 6
/// (`KEEPALIVED_EXIT_NO_CONFIG`) when an include failed its checks, as
/// keepalived 2.2.7 stops then; else 1, keepalived-lite's own refusal.
pub fn refused_start_code(parsed: &Parsed) -> u8 {
    if include_failed(parsed) {
        exit::NO_CONFIG
    } else {
        1
    }
}

/// The exit code of `-t` for `parsed`.
pub fn test_status(parsed: &Parsed) -> u8 {
    if parsed.count(Code::FileUnreadable) > 0 && parsed.sources.names().is_empty() {
        return exit::UNREADABLE;
    }
    if include_failed(parsed) {
        return exit::NO_CONFIG;
    }
    if parsed.has_errors() {
        return exit::ERRORS;
    }
    if parsed.count(Code::ScriptSecurity) > 0 && runs_a_host_program(&parsed.config) {
        return exit::SECURITY;
    }
    exit::OK
}

/// keepalived only objects to scripts it would really run: whether a
/// script's program exists depends on the host, so it is checked here and
/// not in the parser.
fn runs_a_host_program(c: &vrrp_conf::Config) -> bool {
    let mut scripts: Vec<&Vec<String>> = Vec::new();
    scripts.extend(c.vrrp_scripts.iter().filter_map(|s| s.script.as_ref()));
    for n in c
        .vrrp_instances
        .iter()
        .map(|i| &i.notify)
        .chain(c.vrrp_sync_groups.iter().map(|g| &g.notify))
    {
        scripts.extend(
            [&n.master, &n.backup, &n.fault, &n.stop, &n.any]
                .into_iter()
                .flatten(),
        );
    }
    for v in &c.virtual_servers {
        scripts.extend([&v.quorum_up, &v.quorum_down].into_iter().flatten());
        for r in &v.real_servers {
            scripts.extend([&r.notify_up, &r.notify_down].into_iter().flatten());
            scripts.extend(r.checkers.iter().filter_map(|k| k.misc_path.as_ref()));
        }
    }
    scripts.iter().any(|w| {
        let cmd = w
            .first()
            .and_then(|s| s.split_ascii_whitespace().next())
            .unwrap_or("");
        program_exists(cmd)
    })
}

fn program_exists(cmd: &str) -> bool {
    if cmd.is_empty() {
        return false;
    }
    if cmd.contains('/') {
        return Path::new(cmd).is_file();
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    path.split(':').any(|d| Path::new(d).join(cmd).is_file())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn keepalived_flags_parse() {
        let c = Cli::try_parse_from([
            "keepalived-lite",
            "-t",
            "-f",
            "/x.conf",
            "-P",
            "-n",
            "-l",
            "-D",
            "-d",
            "-i",
            "main",
        ])
        .expect("keepalived's flags parse");
        assert_eq!(c.use_file, PathBuf::from("/x.conf"));
        assert_eq!(c.config_test, Some(None));
        assert!(c.vrrp_only && c.dont_fork && c.log_console && c.log_detail && c.dump_conf);
        assert_eq!(c.config_id(), Some("main".to_string()));
        let c = Cli::try_parse_from([
            "keepalived-lite",
            "--config-test=/tmp/t.log",
            "--use-file",
            "/y",
        ])
        .expect("long forms parse");
        assert_eq!(c.config_test, Some(Some(PathBuf::from("/tmp/t.log"))));
        assert_eq!(c.use_file, PathBuf::from("/y"));
        let c = Cli::try_parse_from(["keepalived-lite", "demo"]).expect("demo is a subcommand");
        assert!(matches!(c.command, Some(Command::Demo)));
        assert!(Cli::try_parse_from(["keepalived-lite", "--no-such-flag"]).is_err());
    }

    #[test]
    fn facilities_and_umasks_read_as_keepalived_reads_them() {
        assert_eq!(parse_facility("local3"), Ok(Facility(19)));
        assert_eq!(parse_facility("7"), Ok(Facility(23)));
        assert_eq!(parse_facility("user"), Ok(Facility(1)));
        assert_eq!(parse_facility("daemon"), Ok(Facility::DAEMON));
        assert!(parse_facility("local8").is_err());
        assert!(parse_facility("kern").is_err());
        assert_eq!(parse_umask("022"), Ok(0o22));
        assert_eq!(parse_umask("0x1f"), Ok(0x1f));
        assert_eq!(parse_umask("18"), Ok(18));
        assert_eq!(parse_umask("0"), Ok(0));
        assert!(parse_umask("01000").is_err());
        assert!(parse_umask("-1").is_err());
        assert!(parse_umask("").is_err());
    }

    #[test]
    fn genhash_mode_takes_what_follows_t() {
        let args = |v: &[&str]| v.iter().map(std::ffi::OsString::from).collect::<Vec<_>>();
        assert_eq!(
            genhash_args(&args(&["kl", "-T", "-s", "1.2.3.4"])),
            Some(args(&["genhash", "-s", "1.2.3.4"]))
        );
        assert_eq!(
            genhash_args(&args(&["kl", "-n", "--genhash"])),
            Some(args(&["genhash"]))
        );
        assert_eq!(genhash_args(&args(&["kl", "-n", "-f", "x"])), None);
        // Repeated flags are accepted, as getopt accepts them.
        let c = Cli::try_parse_from(["kl", "-D", "-D", "-n", "-n", "-p", "/a", "-p", "/b"])
            .expect("repeats parse");
        assert_eq!(c.pid, Some(PathBuf::from("/b")));
    }
}
