//! Model <-> attribute conversion: what goes into each request and how a
//! reply becomes a typed entry.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipvs_sys as sys;

use crate::error::{CodecError, Nest};
use crate::model::*;
use crate::nla::{DaemonNla, DestNla, StatsNla, SvcNla};

pub(crate) fn addr_bytes(ip: &IpAddr) -> [u8; 16] {
    let mut out = [0u8; 16];
    match ip {
        IpAddr::V4(v4) => out[..4].copy_from_slice(&v4.octets()),
        IpAddr::V6(v6) => out = v6.octets(),
    }
    out
}

fn ip_from(family: Family, b: &[u8; 16]) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::new(b[0], b[1], b[2], b[3])),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(*b)),
    }
}

/// The attributes that identify a service.
pub(crate) fn service_key_nlas(key: &ServiceKey) -> Vec<SvcNla> {
    match key {
        ServiceKey::Addr { protocol, addr } => vec![
            SvcNla::Af(Family::of(&addr.ip()).af()),
            SvcNla::Protocol(protocol.number()),
            SvcNla::Addr(addr_bytes(&addr.ip())),
            SvcNla::Port(addr.port()),
        ],
        ServiceKey::Fwmark { family, mark } => vec![SvcNla::Af(family.af()), SvcNla::Fwmark(*mark)],
    }
}

pub(crate) fn netmask_bytes(family: Family, netmask: u32) -> [u8; 4] {
    match family {
        Family::V4 => netmask.to_be_bytes(),
        Family::V6 => netmask.to_ne_bytes(),
    }
}

/// Every attribute of a service add or edit.
pub(crate) fn service_nlas(svc: &Service) -> Vec<SvcNla> {
    let mut v = service_key_nlas(&svc.key);
    v.push(SvcNla::SchedName(svc.scheduler.clone()));
    if let Some(pe) = &svc.pe_name {
        v.push(SvcNla::PeName(pe.clone()));
    }
    v.push(SvcNla::Flags {
        flags: svc.flags.0,
        mask: u32::MAX,
    });
    v.push(SvcNla::Timeout(svc.timeout));
    v.push(SvcNla::Netmask(netmask_bytes(
        svc.key.family(),
        svc.netmask,
    )));
    v
}

/// The attributes that identify a destination.
pub(crate) fn dest_key_nlas(addr: &SocketAddr) -> Vec<DestNla> {
    vec![
        DestNla::Addr(addr_bytes(&addr.ip())),
        DestNla::Port(addr.port()),
        DestNla::AddrFamily(Family::of(&addr.ip()).af()),
    ]
}

/// Every attribute of a destination add or edit.
pub(crate) fn dest_nlas(d: &Destination) -> Vec<DestNla> {
    let mut v = dest_key_nlas(&d.addr);
    v.extend([
        DestNla::FwdMethod(d.forward.conn_flags()),
        DestNla::Weight(d.weight),
        DestNla::UThresh(d.upper_threshold),
        DestNla::LThresh(d.lower_threshold),
    ]);
    if d.forward == Forward::Tunnel {
        v.push(DestNla::TunType(d.tunnel_type.number()));
        v.push(DestNla::TunPort(d.tunnel_port));
        v.push(DestNla::TunFlags(d.tunnel_flags.0));
    }
    v
}

/// Attributes of a sync daemon start.
pub(crate) fn daemon_nlas(d: &SyncDaemon) -> Vec<DaemonNla> {
    let mut v = vec![
        DaemonNla::State(d.state.number()),
        DaemonNla::McastIfn(d.ifname.clone()),
        DaemonNla::SyncId(d.sync_id),
    ];
    if d.sync_maxlen != 0 {
        v.push(DaemonNla::SyncMaxlen(d.sync_maxlen));
    }
    match d.mcast_group {
        Some(IpAddr::V4(a)) => v.push(DaemonNla::McastGroup(a.octets())),
        Some(IpAddr::V6(a)) => v.push(DaemonNla::McastGroup6(a.octets())),
        None => {}
    }
    if d.mcast_port != 0 {
        v.push(DaemonNla::McastPort(d.mcast_port));
    }
    if d.mcast_ttl != 0 {
        v.push(DaemonNla::McastTtl(d.mcast_ttl));
    }
    v
}

/// The counters of a stats nest, indexed by `IPVS_STATS_ATTR_*`.
pub(crate) type Counters = [u64; 11];

/// Records one counter attribute in `c` (unknown ones are skipped).
pub(crate) fn count(c: &mut Counters, n: &StatsNla) {
    if let StatsNla::Counter { kind, value, .. } = n {
        if let Some(slot) = c.get_mut(usize::from(*kind)) {
            *slot = *value;
        }
    }
}

fn counters(nlas: &[StatsNla]) -> Counters {
    let mut c = [0u64; 11];
    for n in nlas {
        count(&mut c, n);
    }
    c
}

fn narrow(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// 32-bit stats from a `STATS` nest.
pub(crate) fn stats_from(nlas: &[StatsNla]) -> Stats {
    stats_of(&counters(nlas))
}

/// 32-bit stats from a `STATS` nest's counters.
pub(crate) fn stats_of(c: &Counters) -> Stats {
    Stats {
        conns: narrow(c[1]),
        inpkts: narrow(c[2]),
        outpkts: narrow(c[3]),
        inbytes: c[4],
        outbytes: c[5],
        cps: narrow(c[6]),
        inpps: narrow(c[7]),
        outpps: narrow(c[8]),
        inbps: narrow(c[9]),
        outbps: narrow(c[10]),
    }
}

/// 64-bit stats from a `STATS64` nest.
pub(crate) fn stats64_from(nlas: &[StatsNla]) -> Stats64 {
    stats64_of(&counters(nlas))
}

/// 64-bit stats from a `STATS64` nest's counters.
pub(crate) fn stats64_of(c: &Counters) -> Stats64 {
    Stats64 {
        conns: c[1],
        inpkts: c[2],
        outpkts: c[3],
        inbytes: c[4],
        outbytes: c[5],
        cps: c[6],
        inpps: c[7],
        outpps: c[8],
        inbps: c[9],
        outbps: c[10],
    }
}

fn missing(nest: Nest, kind: u16) -> CodecError {
    CodecError::Missing { nest, kind }
}

/// A service entry from the attributes of a `GET_SERVICE` reply.
pub(crate) fn service_from(nlas: &[SvcNla]) -> Result<ServiceEntry, CodecError> {
    let n = Nest::Service;
    let (mut af, mut proto, mut addr, mut port, mut fwmark) = (None, None, None, None, None);
    let (mut sched, mut flags, mut timeout, mut netmask, mut pe) = (None, 0, 0, None, None);
    let (mut stats, mut stats64) = (Stats::default(), None);
    for a in nlas {
        match a {
            SvcNla::Af(x) => af = Some(*x),
            SvcNla::Protocol(x) => proto = Some(*x),
            SvcNla::Addr(x) => addr = Some(*x),
            SvcNla::Port(x) => port = Some(*x),
            SvcNla::Fwmark(x) => fwmark = Some(*x),
            SvcNla::SchedName(x) => sched = Some(x.clone()),
            SvcNla::Flags { flags: f, .. } => flags = *f & !sys::IP_VS_SVC_F_HASHED,
            SvcNla::Timeout(x) => timeout = *x,
            SvcNla::Netmask(x) => netmask = Some(*x),
            SvcNla::PeName(x) => pe = Some(x.clone()),
            SvcNla::Stats(x) => stats = stats_from(x),
            SvcNla::Stats64(x) => stats64 = Some(stats64_from(x)),
            _ => {}
        }
    }
    let af = af.ok_or(missing(n, sys::IPVS_SVC_ATTR_AF))?;
    let family = Family::from_af(af).ok_or(CodecError::BadValue {
        nest: n,
        kind: sys::IPVS_SVC_ATTR_AF,
    })?;
    let key = match fwmark.filter(|m| *m != 0) {
        Some(mark) => ServiceKey::Fwmark { family, mark },
        None => {
            let addr = addr.ok_or(missing(n, sys::IPVS_SVC_ATTR_ADDR))?;
            ServiceKey::Addr {
                protocol: Protocol::from_number(
                    proto.ok_or(missing(n, sys::IPVS_SVC_ATTR_PROTOCOL))?,
                ),
                addr: SocketAddr::new(
                    ip_from(family, &addr),
                    port.ok_or(missing(n, sys::IPVS_SVC_ATTR_PORT))?,
                ),
            }
        }
    };
    let netmask = netmask.map_or(0, |b| match family {
        Family::V4 => u32::from_be_bytes(b),
        Family::V6 => u32::from_ne_bytes(b),
    });
    Ok(ServiceEntry {
        service: Service {
            key,
            scheduler: sched.ok_or(missing(n, sys::IPVS_SVC_ATTR_SCHED_NAME))?,
            flags: ServiceFlags(flags),
            timeout,
            netmask,
            pe_name: pe,
        },
        stats,
        stats64,
    })
}

/// A destination entry from the attributes of a `GET_DEST` reply; the
/// family defaults to the service's when the kernel omits it.
pub(crate) fn dest_from(nlas: &[DestNla], default: Family) -> Result<DestinationEntry, CodecError> {
    let mut d = DestFields::new(default);
    for a in nlas {
        d.add(a)?;
    }
    d.finish()
}

/// A destination entry built one attribute at a time, for [`dest_from`]
/// and for the streaming decoder of destination dumps.
pub(crate) struct DestFields {
    entry: DestinationEntry,
    addr: Option<[u8; 16]>,
    port: Option<u16>,
    family: Family,
}

impl DestFields {
    /// Nothing seen yet; the address is of family `default` unless an
    /// `ADDR_FAMILY` attribute says otherwise.
    pub(crate) fn new(default: Family) -> Self {
        DestFields {
            entry: DestinationEntry {
                dest: Destination::new(SocketAddr::from(([0, 0, 0, 0], 0)), Forward::Masq),
                active_conns: 0,
                inactive_conns: 0,
                persist_conns: 0,
                stats: Stats::default(),
                stats64: None,
            },
            addr: None,
            port: None,
            family: default,
        }
    }

    /// Takes one attribute of the destination nest.
    pub(crate) fn add(&mut self, a: &DestNla) -> Result<(), CodecError> {
        let (n, e) = (Nest::Dest, &mut self.entry);
        match a {
            DestNla::Addr(x) => self.addr = Some(*x),
            DestNla::Port(x) => self.port = Some(*x),
            DestNla::FwdMethod(x) => {
                e.dest.forward = Forward::from_conn_flags(*x).ok_or(CodecError::BadValue {
                    nest: n,
                    kind: sys::IPVS_DEST_ATTR_FWD_METHOD,
                })?
            }
            DestNla::Weight(x) => e.dest.weight = *x,
            DestNla::UThresh(x) => e.dest.upper_threshold = *x,
            DestNla::LThresh(x) => e.dest.lower_threshold = *x,
            DestNla::ActiveConns(x) => e.active_conns = *x,
            DestNla::InactConns(x) => e.inactive_conns = *x,
            DestNla::PersistConns(x) => e.persist_conns = *x,
            DestNla::Stats(x) => e.stats = stats_from(x),
            DestNla::AddrFamily(x) => {
                self.family = Family::from_af(*x).ok_or(CodecError::BadValue {
                    nest: n,
                    kind: sys::IPVS_DEST_ATTR_ADDR_FAMILY,
                })?
            }
            DestNla::Stats64(x) => e.stats64 = Some(stats64_from(x)),
            DestNla::TunType(x) => e.dest.tunnel_type = TunnelType::from_number(*x),
            DestNla::TunPort(x) => e.dest.tunnel_port = *x,
            DestNla::TunFlags(x) => e.dest.tunnel_flags = TunnelFlags(*x),
            _ => {}
        }
        Ok(())
    }

    /// Takes the counters of a `STATS` (`wide` false) or `STATS64` nest.
    pub(crate) fn add_stats(&mut self, c: &Counters, wide: bool) {
        if wide {
            self.entry.stats64 = Some(stats64_of(c));
        } else {
            self.entry.stats = stats_of(c);
        }
    }

    /// The entry, once address and port were seen.
    pub(crate) fn finish(self) -> Result<DestinationEntry, CodecError> {
        let n = Nest::Dest;
        let addr = self.addr.ok_or(missing(n, sys::IPVS_DEST_ATTR_ADDR))?;
        let port = self.port.ok_or(missing(n, sys::IPVS_DEST_ATTR_PORT))?;
        let mut e = self.entry;
        e.dest.addr = SocketAddr::new(ip_from(self.family, &addr), port);
        Ok(e)
    }
}

/// A sync daemon from the attributes of a `GET_DAEMON` reply.
pub(crate) fn daemon_from(nlas: &[DaemonNla]) -> Result<SyncDaemon, CodecError> {
    let n = Nest::Daemon;
    let (mut state, mut ifname, mut sync_id) = (None, None, None);
    let mut d = SyncDaemon::new(DaemonState::Master, "", 0);
    for a in nlas {
        match a {
            DaemonNla::State(x) => state = Some(*x),
            DaemonNla::McastIfn(x) => ifname = Some(x.clone()),
            DaemonNla::SyncId(x) => sync_id = Some(*x),
            DaemonNla::SyncMaxlen(x) => d.sync_maxlen = *x,
            DaemonNla::McastGroup(x) => d.mcast_group = Some(IpAddr::from(*x)),
            DaemonNla::McastGroup6(x) => d.mcast_group = Some(IpAddr::from(*x)),
            DaemonNla::McastPort(x) => d.mcast_port = *x,
            DaemonNla::McastTtl(x) => d.mcast_ttl = *x,
            _ => {}
        }
    }
    d.state = match state.ok_or(missing(n, sys::IPVS_DAEMON_ATTR_STATE))? {
        sys::IP_VS_STATE_MASTER => DaemonState::Master,
        sys::IP_VS_STATE_BACKUP => DaemonState::Backup,
        _ => {
            return Err(CodecError::BadValue {
                nest: n,
                kind: sys::IPVS_DAEMON_ATTR_STATE,
            })
        }
    };
    d.ifname = ifname.ok_or(missing(n, sys::IPVS_DAEMON_ATTR_MCAST_IFN))?;
    d.sync_id = sync_id.ok_or(missing(n, sys::IPVS_DAEMON_ATTR_SYNC_ID))?;
    Ok(d)
}
