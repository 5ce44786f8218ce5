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
/// The local syslog socket.
const DEV_LOG: &str = "/dev/log";

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
        .then(|| Syslog::connect(DEV_LOG, cli.log_facility.unwrap_or(Facility::DAEMON)))
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

/// The syslog ident once keepalived's would change (see [`rename`]).
static IDENT: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// keepalived's syslog ident in a network namespace or with an `instance`:
/// `Keepalived_NS_INSTANCE` (either part only if set); logged, as
/// keepalived logs the change. Nothing changes without either.
pub fn rename(namespace: Option<&str>, instance: Option<&str>) {
    if namespace.is_none() && instance.is_none() {
        return;
    }
    let ident = ["Keepalived"]
        .into_iter()
        .chain(namespace)
        .chain(instance)
        .collect::<Vec<_>>()
        .join("_");
    tracing::info!("Changing syslog ident to {ident}");
    let _ = IDENT.set(ident);
}

/// A datagram per line to the local syslog socket, RFC 3164 style.
#[derive(Clone)]
struct Syslog {
    socket: Arc<UnixDatagram>,
    /// `<PRI>`.
    pri: Arc<str>,
}

impl Syslog {
    /// None if there is no syslog listening at `path`.
    fn connect(path: &str, facility: Facility) -> Option<Syslog> {
        let socket = UnixDatagram::unbound().ok()?;
        socket.connect(path).ok()?;
        socket.set_nonblocking(true).ok()?;
        let pri = u16::from(facility.0) * 8 + u16::from(LOG_INFO);
        Some(Syslog {
            socket: Arc::new(socket),
            pri: format!("<{pri}>").into(),
        })
    }
}

impl Write for Syslog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let line = buf.strip_suffix(b"\n").unwrap_or(buf);
        let ident = IDENT.get().map_or("Keepalived", String::as_str);
        let prefix = format!("{}{ident}[{}]: ", self.pri, std::process::id());
        let mut msg = Vec::with_capacity(prefix.len() + line.len());
        msg.extend_from_slice(prefix.as_bytes());
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn a_line_is_one_datagram_with_the_facility_s_priority() {
        let dir = std::env::temp_dir().join(format!("kl-syslog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log");
        let server = UnixDatagram::bind(&path).unwrap();
        let mut log = Syslog::connect(path.to_str().unwrap(), Facility(19)).unwrap();
        log.write_all(b"(VI_1) Entering MASTER STATE\n").unwrap();
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).unwrap();
        let want = format!(
            "<158>Keepalived[{}]: (VI_1) Entering MASTER STATE",
            std::process::id()
        );
        assert_eq!(String::from_utf8_lossy(&buf[..n]), want);
        assert!(Syslog::connect(dir.join("none").to_str().unwrap(), Facility::DAEMON).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
