//! Why the driver could not start or apply a new setup.

use crate::config::ConfigError;
use crate::linux::LinuxError;
use crate::mux::MuxError;

/// Why the driver could not start or apply a new setup.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DriverError {
    /// An adapter failed.
    #[error(transparent)]
    Linux(#[from] LinuxError),
    /// A router's configuration was refused.
    #[error("vrrp_instance {name}: {source}")]
    Config {
        /// Instance name.
        name: String,
        /// Why.
        #[source]
        source: ConfigError,
    },
    /// Routers or groups clash (same VRID on one interface, ...).
    #[error(transparent)]
    Mux(#[from] MuxError),
    /// The interface has no IPv4 address to send adverts from.
    #[error("interface {0} has no IPv4 address to use as advert source")]
    NoPrimaryAddress(String),
    /// The interface has no IPv6 link-local address to send an IPv6
    /// router's adverts from.
    #[error("interface {0} has no IPv6 link-local address to use as advert source")]
    NoLinkLocal(String),
    /// A sync group names a router index that does not exist.
    #[error("sync group {0} has a member index out of range")]
    BadSyncGroup(String),
    /// The driver has stopped: it takes no more commands.
    #[error("the driver has stopped")]
    Stopped,
    /// Not called inside a tokio runtime.
    #[error("the driver needs a tokio runtime: {0}")]
    NoRuntime(#[from] tokio::runtime::TryCurrentError),
    /// The tokio reactor refused a descriptor (a runtime without I/O
    /// enabled, or out of resources).
    #[error("the driver needs a tokio runtime with I/O enabled: {0}")]
    Runtime(#[source] std::io::Error),
}
