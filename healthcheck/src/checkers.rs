//! keepalived's built-in checkers on tokio (feature `tokio`).
//!
//! Each checker is a small config struct implementing [`crate::Checker`].
//! Every checker bounds its own work by `ctx.timeout`.

mod dns;
mod http;
mod misc;
mod net;
mod ping;
mod smtp;
mod tcp;
mod tls;
mod udp;

pub use dns::{DnsChecker, DnsType};
pub use http::{fetch, HttpChecker, HttpVersion, StatusCodes, StatusCodesError, UrlCheck};
pub use misc::MiscChecker;
pub use ping::PingChecker;
pub use smtp::SmtpChecker;
pub use tcp::TcpChecker;
pub use tls::{TlsOptions, TlsSetupError};
pub use udp::UdpChecker;
