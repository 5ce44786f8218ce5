//! What a router reports: states, reasons, events and notify data.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

pub use crate::counters::Counters;
use crate::counters::DropReason;

/// The protocol state of a virtual router (RFC 3768 section 6.4, plus
/// keepalived's FAULT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Not running: before startup and after shutdown.
    Initialize,
    /// Watching the master, ready to take over.
    Backup,
    /// Forwarding for the virtual addresses and sending adverts.
    Master,
    /// keepalived's FAULT: the interface is down or a tracked object with
    /// weight 0 failed (or another member of the sync group is faulty).
    Fault,
}

impl State {
    /// The name keepalived uses in logs and notify arguments; INIT is shown
    /// as STOP, the state a stopped instance reports.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Initialize => "STOP",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the state changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// Startup of a non-owner: BACKUP (RFC 3768 section 6.4.1).
    Startup,
    /// Startup or recovery of the address owner: MASTER at once.
    AddressOwner,
    /// The Master_Down_Timer fired (a silent master, or Skew_Time after a
    /// priority-0 advert).
    MasterDown,
    /// A valid advert with a higher priority, or an equal priority from a
    /// higher address, reached the master (RFC 3768 section 6.4.3).
    HigherPriority,
    /// The embedder shut the router down.
    Shutdown,
    /// The interface went down.
    InterfaceDown,
    /// A tracked object with weight 0 failed.
    TrackingFault,
    /// The interface and every tracked object are fine again.
    Recovered,
    /// Another member of the sync group moved.
    SyncGroup,
    /// `unicast_fault_no_peer` is set and there is no unicast peer.
    NoUnicastPeer,
    /// Someone else deleted one of the master's virtual addresses, routes
    /// or rules (one without `no_track`); see
    /// [`VirtualRouter::handle_deleted`](crate::VirtualRouter::handle_deleted).
    Deleted,
}

/// Whether a notification concerns a sync group or a single instance
/// (keepalived's first notify argument, `GROUP` or `INSTANCE`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NotifyKind {
    /// A `vrrp_sync_group`.
    Group,
    /// A `vrrp_instance`.
    Instance,
}

impl NotifyKind {
    /// `GROUP` or `INSTANCE`.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyKind::Group => "GROUP",
            NotifyKind::Instance => "INSTANCE",
        }
    }
}

/// What keepalived passes to a `notify` script: `$1` kind, `$2` name, `$3`
/// target state, `$4` priority.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notify {
    /// GROUP or INSTANCE.
    pub kind: NotifyKind,
    /// The instance or group name (shared, cloning it does not allocate).
    pub name: Arc<str>,
    /// The state entered.
    pub state: State,
    /// The effective priority at the transition (0 for a group).
    pub priority: u8,
}

impl Notify {
    /// The four notify-script arguments, as keepalived formats them.
    pub fn args(&self) -> [String; 4] {
        [
            self.kind.as_str().to_owned(),
            self.name.to_string(),
            self.state.as_str().to_owned(),
            self.priority.to_string(),
        ]
    }
}

/// An output of the router, read with `poll_event`.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// The protocol state changed.
    StateChanged {
        /// The previous state.
        from: State,
        /// The new state.
        to: State,
        /// Why.
        reason: Reason,
    },
    /// Install the virtual addresses (the router became master).
    AddAddresses,
    /// Remove the virtual addresses (the router left master).
    RemoveAddresses,
    /// Send `repeat` gratuitous ARPs for every virtual address.
    GratuitousArp {
        /// GARPs per address.
        repeat: u32,
    },
    /// A reload changed the virtual addresses of a MASTER (see
    /// [`VirtualRouter::reconfigure`](crate::VirtualRouter::reconfigure)):
    /// install `added` (and send gratuitous ARPs for them), remove
    /// `removed`. A router that is not master emits nothing: it installs
    /// its (new) addresses with [`Event::AddAddresses`] when it becomes
    /// master.
    AddressesChanged {
        /// Addresses to install.
        added: Vec<Ipv4Addr>,
        /// Addresses to remove.
        removed: Vec<Ipv4Addr>,
    },
    /// A received datagram was dropped; it changed nothing else.
    Dropped(DropReason),
    /// The master received an advert that makes it yield: a higher
    /// priority, or the same priority from a higher address (keepalived
    /// logs "Master received advert from ..."). Comes just before the
    /// [`Event::StateChanged`] to BACKUP.
    MasterRxHigherPriority {
        /// The sender.
        from: IpAddr,
        /// Its priority.
        priority: u8,
        /// This router's effective priority.
        ours: u8,
    },
    /// The master received a lower-priority advert (keepalived's
    /// `notify_master_rx_lower_pri`).
    MasterRxLowerPriority {
        /// The sender.
        from: IpAddr,
        /// Its priority.
        priority: u8,
        /// This router's effective priority.
        ours: u8,
    },
    /// A preempting backup discarded a lower-priority advert (keepalived
    /// logs "received lower priority (P) advert from X - discarding").
    BackupRxLowerPriority {
        /// The sender.
        from: IpAddr,
        /// Its priority.
        priority: u8,
    },
    /// Tracking changed the effective priority (keepalived's "Changing
    /// effective priority" and its `notify_priority_changes` FIFO line),
    /// reported before any state change the new tracking causes.
    PriorityChanged {
        /// The state at the change.
        state: State,
        /// The previous effective priority.
        from: u8,
        /// The new one.
        to: u8,
    },
    /// Data for the notify scripts; follows every `StateChanged`.
    Notify(Notify),
    /// Another router also advertises itself as the address owner (priority
    /// 255): a configuration error, which keepalived logs. Like keepalived,
    /// this router lowers its base priority to 254 so that one stays master.
    OwnerConflict {
        /// The other owner.
        from: IpAddr,
    },
    /// A VRRPv3 unicast advert carried keepalived's old checksum (see
    /// [`crate::config::OldChecksum::Auto`]): from now on this router
    /// expects it (and, as keepalived 2.2.7, still sends the RFC one).
    /// keepalived logs "Setting unicast VRRPv3 checksum to old version".
    OldUnicastChecksum,
    /// An advert was rejected for a reason keepalived reports as an SNMP
    /// notification (RFC 2787's vrrpTrapAuthFailure, RFC 6527's
    /// vrrpv3ProtoError). It follows the [`Event::Dropped`] of the same
    /// datagram, one per rejected advert as keepalived sends one
    /// notification per advert.
    Rejected {
        /// The sender (the datagram's source address).
        from: IpAddr,
        /// What was wrong with it.
        error: AdvertError,
    },
}

/// Why an advert was rejected, in the terms of the VRRP MIBs'
/// notifications.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AdvertError {
    /// A VRRPv2 authentication error (RFC 2787's vrrpTrapAuthErrorType).
    Auth(AuthError),
    /// A protocol error (RFC 6527's vrrpv3StatisticsProtoErrReason).
    Protocol(ProtocolError),
}

impl AdvertError {
    /// The MIB notification keepalived sends for `reason`, if any: an
    /// authentication error for the auth checks of RFC 3768 section 7.1,
    /// a protocol error for the TTL, version and checksum checks.
    pub fn of(reason: DropReason) -> Option<AdvertError> {
        use crate::wire::DropReason as W;
        let DropReason::Invalid(w) = reason else {
            return None;
        };
        Some(match w {
            W::InvalidAuthType => AdvertError::Auth(AuthError::InvalidAuthType),
            W::AuthTypeMismatch => AdvertError::Auth(AuthError::AuthTypeMismatch),
            // keepalived's AH check covers the SPI and the sequence number.
            W::AuthFailure | W::BadAhSpi | W::AhReplay => AdvertError::Auth(AuthError::AuthFailure),
            W::BadTtl => AdvertError::Protocol(ProtocolError::IpTtl),
            W::BadVersion => AdvertError::Protocol(ProtocolError::Version),
            W::BadChecksum => AdvertError::Protocol(ProtocolError::Checksum),
            _ => return None,
        })
    }
}

/// RFC 2787's vrrpTrapAuthErrorType.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AuthError {
    /// invalidAuthType(1): an auth type that is none of 0, 1, 2.
    InvalidAuthType,
    /// authTypeMismatch(2): not the configured auth type.
    AuthTypeMismatch,
    /// authFailure(3): a wrong password or AH digest.
    AuthFailure,
}

impl AuthError {
    /// The MIB's number for it.
    pub fn code(self) -> i32 {
        match self {
            AuthError::InvalidAuthType => 1,
            AuthError::AuthTypeMismatch => 2,
            AuthError::AuthFailure => 3,
        }
    }
}

/// RFC 6527's vrrpv3StatisticsProtoErrReason (keepalived reports these
/// three; it counts a wrong VRID without a notification).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ProtocolError {
    /// ipTtlError(1): a multicast advert's TTL or hop limit is not 255.
    IpTtl,
    /// versionError(2): not the configured VRRP version.
    Version,
    /// checksumError(3): a wrong VRRP checksum.
    Checksum,
}

impl ProtocolError {
    /// The MIB's number for it.
    pub fn code(self) -> i32 {
        match self {
            ProtocolError::IpTtl => 1,
            ProtocolError::Version => 2,
            ProtocolError::Checksum => 3,
        }
    }
}
