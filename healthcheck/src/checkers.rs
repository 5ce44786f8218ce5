//! keepalived's built-in checkers on tokio (feature `runtime`; HTTP_GET and
//! SSL_GET need feature `tls`, DNS_CHECK feature `dns`).
//!
//! Each checker is a small config struct implementing [`crate::Checker`].
//! Every checker bounds its own work by `ctx.timeout`.

#[cfg(feature = "dns")]
mod dns;
mod file;
#[cfg(feature = "tls")]
mod http;
#[cfg(feature = "tls")]
mod http_regex;
mod misc;
pub(crate) mod net;
mod ping;
mod smtp;
mod suspend;
mod tcp;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "tls")]
mod tls_files;
#[cfg(feature = "tls")]
mod tls_key;
mod udp;
#[cfg(feature = "tls")]
mod x509;

#[cfg(feature = "dns")]
pub use dns::{DnsChecker, DnsType};
pub use file::{parse_number, FileChecker};
#[cfg(feature = "tls")]
pub use http::{fetch, HttpChecker, HttpVersion, StatusCodes, StatusCodesError, UrlCheck};
#[cfg(feature = "tls")]
pub use http_regex::{BodyRegex, RegexError, MAX_SUBJECT, PCRE2_OPTIONS};
pub use misc::MiscChecker;
pub use ping::PingChecker;
pub use smtp::SmtpChecker;
pub use suspend::Suspendable;
pub use tcp::{ReusingTcpChecker, TcpChecker};
#[cfg(feature = "tls")]
pub use tls::{TlsOptions, TlsSetupError};
#[cfg(feature = "tls")]
pub use tls_files::{TlsFile, TlsFiles, TlsLoadError};
pub use udp::UdpChecker;
