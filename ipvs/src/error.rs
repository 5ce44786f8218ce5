//! Typed errors: codec failures (small and `Copy`), kernel refusals with
//! the errno mapped to ipvsadm's meaning, and transport failures.

use std::fmt;

/// Which attribute nest a codec error was found in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Nest {
    /// The netlink / generic netlink headers.
    Header,
    /// Top-level command attributes.
    Command,
    /// `IPVS_CMD_ATTR_SERVICE`.
    Service,
    /// `IPVS_CMD_ATTR_DEST`.
    Dest,
    /// `IPVS_CMD_ATTR_DAEMON`.
    Daemon,
    /// A `*_STATS` nest.
    Stats,
    /// A `*_STATS64` nest.
    Stats64,
    /// The `GET_INFO` reply.
    Info,
}

/// Why bytes from the kernel (or anyone) could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// A header or attribute runs past the end of its buffer.
    #[error("truncated {nest:?} data")]
    Truncated {
        /// Where.
        nest: Nest,
    },
    /// An attribute has a length its type does not allow.
    #[error("attribute {kind} in {nest:?} has bad length {len}")]
    BadLength {
        /// Where.
        nest: Nest,
        /// Attribute id.
        kind: u16,
        /// Its value length.
        len: usize,
    },
    /// A string attribute is not UTF-8.
    #[error("attribute {kind} in {nest:?} is not a valid string")]
    BadString {
        /// Where.
        nest: Nest,
        /// Attribute id.
        kind: u16,
    },
    /// A required attribute is missing.
    #[error("attribute {kind} missing from {nest:?}")]
    Missing {
        /// Where.
        nest: Nest,
        /// Attribute id.
        kind: u16,
    },
    /// An attribute value is out of its range (unknown family, ...).
    #[error("attribute {kind} in {nest:?} has an invalid value")]
    BadValue {
        /// Where.
        nest: Nest,
        /// Attribute id.
        kind: u16,
    },
    /// The message is not an IPVS message of the expected family/command.
    #[error("unexpected message type {msg_type} / command {cmd}")]
    Unexpected {
        /// Netlink message type.
        msg_type: u16,
        /// Generic netlink command.
        cmd: u8,
    },
}

/// The kind of operation a kernel error refers to; it decides the meaning
/// of an errno, as in ipvsadm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum OpKind {
    /// Add a service.
    AddService,
    /// Edit a service.
    EditService,
    /// Delete a service.
    DelService,
    /// Add a destination.
    AddDest,
    /// Edit a destination.
    EditDest,
    /// Delete a destination.
    DelDest,
    /// Read services or destinations.
    Get,
    /// Flush.
    Flush,
    /// Zero counters.
    Zero,
    /// Set timeouts.
    SetTimeouts,
    /// Start a sync daemon.
    StartDaemon,
    /// Stop a sync daemon.
    StopDaemon,
    /// Read general information.
    Info,
    /// Resolve the generic netlink family.
    Resolve,
}

/// What a kernel errno means for the operation, following the messages of
/// ipvsadm's `ipvs_strerror`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// EEXIST on a service add.
    ServiceExists,
    /// EEXIST on a destination add.
    DestinationExists,
    /// EEXIST on a sync daemon start: one of that role already runs.
    DaemonRunning,
    /// ESRCH: the service is not there.
    NoSuchService,
    /// ESRCH on a sync daemon stop: none of that role runs.
    NoDaemon,
    /// ENOENT on a destination operation.
    NoSuchDestination,
    /// ENOENT on a service add/edit: unknown scheduler or persistence engine.
    SchedulerNotFound,
    /// EPERM: not permitted (needs CAP_NET_ADMIN).
    PermissionDenied,
    /// EINVAL: the kernel rejected the arguments.
    InvalidArgument,
    /// EOPNOTSUPP: e.g. a forwarding method the family does not support.
    NotSupported,
    /// EAFNOSUPPORT: address family not supported.
    FamilyNotSupported,
    /// ENOMEM.
    OutOfMemory,
    /// EBUSY: sync daemon already running, or dump in progress.
    Busy,
    /// ENOENT on `Resolve`: the IPVS module is not loaded.
    ModuleNotLoaded,
    /// Any other errno.
    Other,
}

/// A refusal by the kernel: the errno and the operation it answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct KernelError {
    /// The operation.
    pub op: OpKind,
    /// The positive errno value.
    pub errno: i32,
}

impl KernelError {
    /// The meaning of the errno for this operation.
    pub fn reason(&self) -> Reason {
        use OpKind::*;
        match (self.errno, self.op) {
            (libc::EEXIST, AddDest) => Reason::DestinationExists,
            (libc::EEXIST, StartDaemon) => Reason::DaemonRunning,
            (libc::EEXIST, _) => Reason::ServiceExists,
            (libc::ESRCH, StopDaemon) => Reason::NoDaemon,
            (libc::ESRCH, _) => Reason::NoSuchService,
            (libc::ENOENT, AddDest | EditDest | DelDest) => Reason::NoSuchDestination,
            (libc::ENOENT, Resolve) => Reason::ModuleNotLoaded,
            (libc::ENOENT, _) => Reason::SchedulerNotFound,
            (libc::EPERM, _) => Reason::PermissionDenied,
            (libc::EINVAL, _) => Reason::InvalidArgument,
            (libc::EOPNOTSUPP, _) => Reason::NotSupported,
            (libc::EAFNOSUPPORT, _) => Reason::FamilyNotSupported,
            (libc::ENOMEM, _) => Reason::OutOfMemory,
            (libc::EBUSY, _) => Reason::Busy,
            _ => Reason::Other,
        }
    }
}

impl fmt::Display for KernelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self.reason() {
            Reason::ServiceExists => "Service already exists",
            Reason::DestinationExists => "Destination already exists",
            Reason::DaemonRunning => "Sync daemon already running",
            Reason::NoSuchService if matches!(self.op, OpKind::AddDest) => "Service not defined",
            Reason::NoSuchService => "No such service",
            Reason::NoDaemon => "No daemon is running",
            Reason::NoSuchDestination => "No such destination",
            Reason::SchedulerNotFound => "Scheduler or persistence engine not found",
            Reason::PermissionDenied => "Permission denied (you must be root)",
            Reason::InvalidArgument => "Invalid argument",
            Reason::NotSupported => {
                "Operation not supported with the given address family or forwarding method"
            }
            Reason::FamilyNotSupported => "Address family not supported",
            Reason::OutOfMemory => "Memory allocation problem",
            Reason::Busy => "Device or resource busy",
            Reason::ModuleNotLoaded => {
                "IPVS generic netlink family not found (is the ip_vs module loaded?)"
            }
            Reason::Other => return write!(f, "{:?} failed with errno {}", self.op, self.errno),
        };
        f.write_str(text)
    }
}

impl std::error::Error for KernelError {}

/// Any failure of the [`crate::Ipvs`] handle.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The kernel refused the request.
    #[error("{0}")]
    Kernel(#[from] KernelError),
    /// A reply could not be decoded.
    #[error("malformed netlink reply: {0}")]
    Codec(#[from] CodecError),
    /// A reply did not match any request in flight (sequence number).
    #[error("reply with unexpected sequence number {0}")]
    UnexpectedSeq(u32),
    /// The socket failed.
    #[error("netlink socket: {0}")]
    Io(#[from] std::io::Error),
    /// A value of the model cannot be encoded (e.g. a name too long).
    #[error("invalid request: {0}")]
    Invalid(InvalidReason),
}

/// Why a request cannot be built from the given model values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidReason {
    /// A scheduler name longer than 15 bytes or containing NUL.
    #[error("scheduler name too long or contains NUL")]
    SchedulerName,
    /// A persistence engine name longer than 15 bytes or containing NUL.
    #[error("persistence engine name too long or contains NUL")]
    PeName,
    /// An interface name longer than 15 bytes or containing NUL.
    #[error("interface name too long or contains NUL")]
    IfName,
    /// A batch would not fit the netlink socket's send buffer.
    #[error("request too large")]
    TooLarge,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_meaning_depends_on_the_operation() {
        let e = |op, errno| KernelError { op, errno };
        assert_eq!(
            e(OpKind::AddService, libc::EEXIST).reason(),
            Reason::ServiceExists
        );
        assert_eq!(
            e(OpKind::AddDest, libc::EEXIST).reason(),
            Reason::DestinationExists
        );
        assert_eq!(
            e(OpKind::StartDaemon, libc::EEXIST).reason(),
            Reason::DaemonRunning
        );
        assert_eq!(
            e(OpKind::DelDest, libc::ENOENT).reason(),
            Reason::NoSuchDestination
        );
        assert_eq!(
            e(OpKind::AddService, libc::ENOENT).reason(),
            Reason::SchedulerNotFound
        );
        assert_eq!(
            e(OpKind::Resolve, libc::ENOENT).reason(),
            Reason::ModuleNotLoaded
        );
        assert_eq!(
            e(OpKind::AddDest, libc::ESRCH).to_string(),
            "Service not defined"
        );
        assert_eq!(
            e(OpKind::DelService, libc::ESRCH).to_string(),
            "No such service"
        );
        assert_eq!(
            e(OpKind::StopDaemon, libc::ESRCH).to_string(),
            "No daemon is running"
        );
        assert_eq!(e(OpKind::Flush, 1234).reason(), Reason::Other);
        assert_eq!(
            e(OpKind::Flush, 1234).to_string(),
            "Flush failed with errno 1234"
        );
    }
}
