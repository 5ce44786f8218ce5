//! Errors of the Linux adapters.

use std::io;

/// Why a Linux adapter operation failed. Each variant names the operation so
/// failures can be counted and logged without string matching.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LinuxError {
    /// A socket call failed.
    #[error("{op}: {source}")]
    Io {
        /// The operation, e.g. `"join 224.0.0.18"`.
        op: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The kernel refused an rtnetlink request.
    #[error("{op}: kernel answered errno {errno} ({})", io::Error::from_raw_os_error(*errno))]
    Netlink {
        /// The request, e.g. `"add address"`.
        op: &'static str,
        /// The positive errno value.
        errno: i32,
    },
    /// An rtnetlink reply could not be decoded.
    #[error("{op}: undecodable rtnetlink reply")]
    Decode {
        /// The request whose reply was bad.
        op: &'static str,
    },
    /// No interface has this name in the current network namespace.
    #[error("no interface named {0:?}")]
    NoSuchInterface(String),
    /// An interface name is empty, too long (> 15 bytes) or contains NUL.
    #[error("invalid interface name {0:?}")]
    BadInterfaceName(String),
}

impl LinuxError {
    /// The errno the kernel gave, if any (e.g. `libc::EEXIST` = 17).
    pub fn errno(&self) -> Option<i32> {
        match self {
            LinuxError::Io { source, .. } => source.raw_os_error(),
            LinuxError::Netlink { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    pub(crate) fn io(op: &'static str) -> impl FnOnce(io::Error) -> LinuxError {
        move |source| LinuxError::Io { op, source }
    }
}
