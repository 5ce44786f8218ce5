//! genhash, shared by the `genhash` binary and `keepalived-lite -T`: a
//! drop-in for keepalived's, printing the digest that an HTTP_GET/SSL_GET
//! `digest` line needs for a url.
//!
//! The digest covers the response body bytes exactly as keepalived hashes
//! them (see `healthcheck::digest`). Like keepalived's genhash, TLS
//! certificates are not verified unless `--verify` is given.

use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, ValueEnum};
use healthcheck::checkers::{fetch, HttpVersion, TlsOptions};
use healthcheck::digest::to_hex;
use healthcheck::{CheckContext, HashKind};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Hash {
    Md5,
    Sha1,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Proto {
    #[value(name = "1.0")]
    V10,
    #[value(name = "1.0c", alias = "1.0C")]
    V10c,
    #[value(name = "1.1")]
    V11,
}

/// Compute the digest of a web page as keepalived's HTTP_GET does.
#[derive(Debug, Parser)]
#[command(name = "genhash")]
struct Args {
    /// Server address.
    #[arg(short = 's', long = "server")]
    server: IpAddr,
    /// Server port.
    #[arg(short = 'p', long = "port")]
    port: u16,
    /// Url path, e.g. /index.html.
    #[arg(short = 'u', long = "url")]
    url: String,
    /// Use TLS.
    #[arg(short = 'S', long = "use-ssl")]
    ssl: bool,
    /// Send the virtual host as SNI (with -S).
    #[arg(short = 'I', long = "use-sni")]
    sni: bool,
    /// Host header to send.
    #[arg(short = 'V', long = "use-virtualhost")]
    virtualhost: Option<String>,
    /// Hash function.
    #[arg(short = 'H', long = "hash", value_enum, default_value = "md5")]
    hash: Hash,
    /// HTTP protocol: 1.0, 1.0c (1.0 with Connection: close) or 1.1.
    #[arg(short = 'P', long = "protocol", value_enum, default_value = "1.0")]
    protocol: Proto,
    /// Timeout in seconds.
    #[arg(short = 't', long = "timeout", default_value_t = 5)]
    timeout: u64,
    /// Print the response header and the digest steps.
    #[arg(short = 'v', long = "verbose")]
    verbose: bool,
    /// Verify the server certificate (with -S).
    #[arg(long = "verify")]
    verify: bool,
    /// Extra trusted CA certificates, PEM (implies --verify).
    #[arg(long = "ca")]
    ca: Option<std::path::PathBuf>,
}

const DELIM: &str = "-----------------------";

fn tls_options(a: &Args) -> Result<TlsOptions, String> {
    let opts = match (&a.ca, a.verify) {
        (Some(path), _) => {
            let pem = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            TlsOptions::from_pem(&pem).map_err(|e| e.to_string())?
        }
        (None, true) => TlsOptions::verified(&[]).map_err(|e| e.to_string())?,
        (None, false) => TlsOptions::unverified().map_err(|e| e.to_string())?,
    };
    // Without -I, name the IP address: rustls then sends no SNI.
    Ok(match (&a.virtualhost, a.sni) {
        (Some(v), true) => opts.with_server_name(v.clone()),
        _ => opts.with_server_name(a.server.to_string()),
    })
}

async fn run(a: Args) -> Result<(), String> {
    let ctx = CheckContext::new(
        SocketAddr::new(a.server, a.port),
        Duration::from_secs(a.timeout),
    );
    let version = match a.protocol {
        Proto::V10 => HttpVersion::V1_0,
        Proto::V10c => HttpVersion::V1_0Close,
        Proto::V11 => HttpVersion::V1_1,
    };
    let hash = match a.hash {
        Hash::Md5 => HashKind::Md5,
        Hash::Sha1 => HashKind::Sha1,
    };
    let tls = if a.ssl { Some(tls_options(&a)?) } else { None };
    let started = Instant::now();
    let fut = fetch(
        &ctx,
        &a.url,
        a.virtualhost.as_deref(),
        version,
        tls.as_ref(),
        hash,
    );
    let resp = tokio::time::timeout(ctx.timeout, fut)
        .await
        .map_err(|_| "Timeout".to_owned())?
        .map_err(|e| match e {
            healthcheck::DownReason::NoHttpResponse => {
                "no data received from remote webserver".to_owned()
            }
            e => e.to_string(),
        })?;
    let hex = to_hex(&resp.digest);
    if a.verbose {
        println!("{DELIM}[ HTTP Header Ascii Buffer ]{DELIM}");
        println!("{}", String::from_utf8_lossy(&resp.header));
        println!("{DELIM}[ HTML hash resulting ]{DELIM}");
        println!("{} body bytes hashed", resp.hashed);
        println!("{DELIM}[ HTML hash final resulting ]{DELIM}");
        println!("{hex}");
        println!();
        println!(
            "Global response time for [{}] = {} usecs",
            a.url,
            started.elapsed().as_micros()
        );
    } else {
        println!("{hex}");
    }
    Ok(())
}

/// Runs genhash on a command line (`args[0]` is the program name).
pub fn main_with(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let args = match Args::try_parse_from(args) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("genhash: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
