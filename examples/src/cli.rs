//! The command line of `keepalived-lite`: keepalived's flags, parsed with
//! clap, and the configuration test (`-t`). Running the daemon lives in
//! other modules; this one only reads flags and configuration.
//!
//! `-t` and the daemon's start-up both call [`Cli::convert`] and refuse
//! exactly [`refusals`]: the parse errors and the conversion's refusals.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::{ArgAction, Parser, Subcommand};
use vrrp_conf::convert::{Converted, Halves};
use vrrp_conf::{Code, Diagnostic, Options, Parsed, Severity};

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
}

/// keepalived-lite: keepalived's command line over the keepalived crates.
#[derive(Debug, Clone, Parser)]
#[command(name = "keepalived-lite", disable_version_flag = true, version)]
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
}

impl Cli {
    /// The config id for `@id` lines: `-i`, else the host name up to the first dot.
    pub fn config_id(&self) -> Option<String> {
        self.config_id.clone().or_else(host_name)
    }

    /// Reads and parses the configuration named by `-f`.
    pub fn load(&self) -> Parsed {
        let opts = Options {
            config_id: self.config_id(),
            ..Options::default()
        };
        vrrp_conf::parse_file(&self.use_file, &opts)
    }

    /// The halves of keepalived this command line runs for `parsed`.
    pub fn halves(&self, parsed: &Parsed) -> Halves {
        Halves::keepalived(&parsed.config, self.vrrp_only, self.check_only)
    }

    /// The conversion `-t` and the daemon's start-up share.
    pub fn convert(&self, parsed: &Parsed) -> Converted {
        vrrp_conf::convert::convert(parsed, self.halves(parsed))
    }
}

/// What `-t` reports as errors and the daemon refuses to start with: the
/// parse errors and the conversion's refusals, in file and line order.
pub fn refusals<'a>(parsed: &'a Parsed, converted: &'a Converted) -> Vec<&'a Diagnostic> {
    let mut out: Vec<&Diagnostic> = parsed
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .chain(converted.refusals())
        .collect();
    out.sort_by_key(|d| (d.span.file, d.span.line, d.span.col));
    out
}

/// Parses and converts the file again (on SIGHUP) with the functions
/// `-t` and the start-up use, logging each refusal with file:line; `None`
/// if anything was refused.
pub fn reconvert(cli: &Cli) -> Option<Converted> {
    let parsed = cli.load();
    let converted = cli.convert(&parsed);
    let refused = refusals(&parsed, &converted);
    for d in &refused {
        tracing::error!("{}", d.display(&parsed.sources));
    }
    let ok = refused.is_empty();
    drop(refused);
    ok.then_some(converted)
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
        exit::OK | exit::SECURITY if converted.is_refused() => exit::ERRORS,
        status => status,
    }
}

/// True if this host has a network interface called `name`.
fn interface_exists(name: &str) -> bool {
    !name.is_empty()
        && !name.contains('/')
        && name != "."
        && name != ".."
        && Path::new("/sys/class/net").join(name).exists()
}

/// The exit code of `-t` for `parsed`.
pub fn test_status(parsed: &Parsed) -> u8 {
    if parsed.count(Code::FileUnreadable) > 0 && parsed.sources.names().is_empty() {
        return exit::UNREADABLE;
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
}
