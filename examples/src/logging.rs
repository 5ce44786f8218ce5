//! Where keepalived-lite logs: stderr (keepalived-lite runs in the
//! foreground; its stderr is keepalived's console, `-l`), syslog through
//! `/dev/log` with the `-S` facility unless `-G`, and the `-g` file.
//! `-D` (or `RUST_LOG`) adds debug detail.

use std::io::Write;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::Arc;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::cli::{Cli, Facility};

/// Syslog's severity `LOG_INFO`: every line is sent with it.
const LOG_INFO: u8 = 6;

/// Installs the logger for `cli`; returns quietly if one is installed.
pub fn init(cli: &Cli) {
    // netlink-packet-route warns about attributes newer than itself on
    // every link dump; that is noise for an operator.
    let default = if cli.log_detail {
        "debug,netlink_packet_route=error"
    } else {
        "info,netlink_packet_route=error"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let stderr = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(false)
        .with_writer(std::io::stderr);
    let file = cli.log_file.as_ref().and_then(|f| {
        let path = f.clone().unwrap_or_else(|| PathBuf::from("keepalived.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .map_err(|e| {
                eprintln!(
                    "keepalived-lite: cannot open log file {}: {e}",
                    path.display()
                )
            })
            .ok()?;
        Some(
            tracing_subscriber::fmt::layer()
                .with_target(false)
                .with_ansi(false)
                .with_writer(Arc::new(file)),
        )
    });
    let syslog = (!cli.no_syslog)
        .then(|| Syslog::connect(cli.log_facility.unwrap_or(Facility::DAEMON)))
        .flatten()
        .map(|s| {
            tracing_subscriber::fmt::layer()
                .with_target(false)
                .with_ansi(false)
                .without_time()
                .with_level(false)
                .with_writer(s)
                .boxed()
        });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file)
        .with(syslog)
        .try_init();
}

/// A datagram per line to the local syslog socket, RFC 3164 style.
#[derive(Clone)]
struct Syslog {
    socket: Arc<UnixDatagram>,
    prefix: Arc<str>,
}

impl Syslog {
    /// None if there is no local syslog.
    fn connect(facility: Facility) -> Option<Syslog> {
        let socket = UnixDatagram::unbound().ok()?;
        socket.connect("/dev/log").ok()?;
        socket.set_nonblocking(true).ok()?;
        let pri = u16::from(facility.0) * 8 + u16::from(LOG_INFO);
        Some(Syslog {
            socket: Arc::new(socket),
            prefix: format!("<{pri}>Keepalived[{}]: ", std::process::id()).into(),
        })
    }
}

impl Write for Syslog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = buf.strip_suffix(b"\n").unwrap_or(buf);
        let mut msg = Vec::with_capacity(self.prefix.len() + line.len());
        msg.extend_from_slice(self.prefix.as_bytes());
        msg.extend_from_slice(line);
        // A full or absent syslog loses the line, never blocks the daemon.
        let _ = self.socket.send(&msg);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Syslog {
    type Writer = Syslog;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}
