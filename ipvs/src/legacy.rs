//! The legacy socket-option interface, used only to read the destinations
//! of IPv4 services quickly (one `getsockopt` per service instead of a
//! netlink dump). It sees only same-family destinations and carries no
//! tunnel settings nor 64-bit counters, so callers use it only where the
//! answer is provably complete (see [`crate::Ipvs::save_table`]).
//!
//! Replies are plain byte buffers: fields are read at the `offset_of!`
//! positions of the `#[repr(C)]` definitions in `ipvs-sys`, never by
//! casting the buffer to a struct (no alignment or validity concerns).
#![allow(unsafe_code)]

use std::io;
use std::mem::{offset_of, size_of};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use ipvs_sys as sys;
use sys::{
    ip_vs_dest_entry as DestEntry, ip_vs_get_dests as GetDests, ip_vs_get_services as GetServices,
    ip_vs_getinfo as GetInfo, ip_vs_service_entry as SvcEntry, ip_vs_stats_user as StatsUser,
};

use crate::model::*;

/// A raw IPv4 socket for the `IP_VS_SO_GET_*` options (needs CAP_NET_RAW).
#[derive(Debug)]
pub(crate) struct Legacy {
    fd: OwnedFd,
}

/// An IPv4 service as the legacy interface lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyService {
    /// The service.
    pub key: ServiceKey,
    /// Its destinations of every family.
    pub num_dests: u32,
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u16::from_ne_bytes)
}
fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_ne_bytes)
}
fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_ne_bytes)
}
/// Writes `v` at `at` (every caller's buffer holds the whole header).
fn put(b: &mut [u8], at: usize, v: &[u8]) {
    if let Some(dst) = b.get_mut(at..at + v.len()) {
        dst.copy_from_slice(v);
    }
}
/// Network-order fields are read as raw bytes.
fn be_bytes<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    b.get(at..at + N)
        .and_then(|s| s.try_into().ok())
        .unwrap_or([0; N])
}

impl Legacy {
    pub(crate) fn open() -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe {
            libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::IPPROTO_RAW,
            )
        };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a freshly created descriptor owned by nobody else.
        Ok(Legacy {
            fd: unsafe { OwnedFd::from_raw_fd(fd) },
        })
    }

    /// `getsockopt(IPPROTO_IP, opt)` into `buf`, which must be the exact
    /// size the kernel expects.
    fn get(&self, opt: i32, buf: &mut [u8]) -> io::Result<()> {
        let mut len = libc::socklen_t::try_from(buf.len())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?;
        // SAFETY: buf is a live, writable buffer of `len` bytes for the
        // duration of the call; len points to a live socklen_t.
        let rc = unsafe {
            libc::getsockopt(
                self.fd.as_raw_fd(),
                libc::IPPROTO_IP,
                opt,
                buf.as_mut_ptr().cast(),
                &mut len,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Every IPv4 service with its destination count.
    pub(crate) fn services(&self) -> io::Result<Vec<LegacyService>> {
        let mut info = [0u8; size_of::<GetInfo>()];
        self.get(sys::IP_VS_SO_GET_INFO, &mut info)?;
        let n = u32_at(&info, offset_of!(GetInfo, num_services)) as usize;
        let head = size_of::<GetServices>();
        let entry = size_of::<SvcEntry>();
        let mut buf = vec![0u8; head + n * entry];
        put(
            &mut buf,
            offset_of!(GetServices, num_services),
            &(n as u32).to_ne_bytes(),
        );
        self.get(sys::IP_VS_SO_GET_SERVICES, &mut buf)?;
        Ok(decode_services(&buf, n))
    }

    /// The destinations of one IPv4 service, or `None` when the legacy view
    /// is not complete: other-family destinations (which it skips) or
    /// tunnelling ones (whose tunnel settings it lacks).
    pub(crate) fn dests(&self, svc: &LegacyService) -> io::Result<Option<Vec<DestinationEntry>>> {
        let head = size_of::<GetDests>();
        let entry = size_of::<DestEntry>();
        // One spare slot: if the kernel fills it, the service gained a
        // destination since it was counted, and the view is not trusted.
        let n = svc.num_dests as usize;
        let slots = n + 1;
        let mut buf = vec![0u8; head + slots * entry];
        match svc.key {
            ServiceKey::Fwmark { mark, .. } => {
                put(&mut buf, offset_of!(GetDests, fwmark), &mark.to_ne_bytes())
            }
            ServiceKey::Addr { protocol, addr } => {
                let SocketAddr::V4(v4) = addr else {
                    return Ok(None);
                };
                put(
                    &mut buf,
                    offset_of!(GetDests, protocol),
                    &protocol.number().to_ne_bytes(),
                );
                put(&mut buf, offset_of!(GetDests, addr), &v4.ip().octets());
                put(
                    &mut buf,
                    offset_of!(GetDests, port),
                    &v4.port().to_be_bytes(),
                );
            }
        }
        put(
            &mut buf,
            offset_of!(GetDests, num_dests),
            &(slots as u32).to_ne_bytes(),
        );
        self.get(sys::IP_VS_SO_GET_DESTS, &mut buf)?;
        Ok(decode_dests(&buf, svc.num_dests))
    }
}

/// Decodes an `IP_VS_SO_GET_SERVICES` reply (the `ip_vs_get_services`
/// header and its entries, as the kernel filled `buf`) for which `asked`
/// entries were requested. Fields are read at their `offset_of!`
/// positions; a short buffer yields fewer services, never a panic.
pub fn decode_services(reply: &[u8], asked: usize) -> Vec<LegacyService> {
    let (head, entry) = (size_of::<GetServices>(), size_of::<SvcEntry>());
    let got = (u32_at(reply, offset_of!(GetServices, num_services)) as usize).min(asked);
    reply
        .get(head..)
        .unwrap_or_default()
        .chunks_exact(entry)
        .take(got)
        .map(service_entry)
        .collect()
}

fn service_entry(e: &[u8]) -> LegacyService {
    let fwmark = u32_at(e, offset_of!(SvcEntry, fwmark));
    let key = if fwmark != 0 {
        ServiceKey::Fwmark {
            family: Family::V4,
            mark: fwmark,
        }
    } else {
        ServiceKey::Addr {
            protocol: Protocol::from_number(u16_at(e, offset_of!(SvcEntry, protocol))),
            addr: SocketAddr::from((
                Ipv4Addr::from(be_bytes::<4>(e, offset_of!(SvcEntry, addr))),
                u16::from_be_bytes(be_bytes(e, offset_of!(SvcEntry, port))),
            )),
        }
    };
    LegacyService {
        key,
        num_dests: u32_at(e, offset_of!(SvcEntry, num_dests)),
    }
}

/// Decodes an `IP_VS_SO_GET_DESTS` reply (the `ip_vs_get_dests` header and
/// its entries) of a service counted with `expected` destinations. `None`
/// when the legacy view is not complete: fewer entries than counted (the
/// interface skips other-family destinations), or a tunnelling or unknown
/// forwarding method (it lacks their settings). A short buffer yields
/// fewer entries, never a panic.
pub fn decode_dests(reply: &[u8], expected: u32) -> Option<Vec<DestinationEntry>> {
    let (head, entry) = (size_of::<GetDests>(), size_of::<DestEntry>());
    let n = expected as usize;
    let mut out = Vec::new();
    for e in reply.get(head..).unwrap_or_default().chunks_exact(entry) {
        let addr = Ipv4Addr::from(be_bytes::<4>(e, offset_of!(DestEntry, addr)));
        if addr.is_unspecified() {
            break; // the first slot the kernel left empty
        }
        let forward = Forward::from_conn_flags(u32_at(e, offset_of!(DestEntry, conn_flags)))?;
        if forward == Forward::Tunnel {
            return None;
        }
        let mut dest = Destination::new(
            SocketAddr::from((
                addr,
                u16::from_be_bytes(be_bytes(e, offset_of!(DestEntry, port))),
            )),
            forward,
        );
        dest.weight = u32_at(e, offset_of!(DestEntry, weight));
        dest.upper_threshold = u32_at(e, offset_of!(DestEntry, u_threshold));
        dest.lower_threshold = u32_at(e, offset_of!(DestEntry, l_threshold));
        let s = e.get(offset_of!(DestEntry, stats)..).unwrap_or(&[]);
        out.push(DestinationEntry {
            dest,
            active_conns: u32_at(e, offset_of!(DestEntry, activeconns)),
            inactive_conns: u32_at(e, offset_of!(DestEntry, inactconns)),
            persist_conns: u32_at(e, offset_of!(DestEntry, persistconns)),
            stats: Stats {
                conns: u32_at(s, offset_of!(StatsUser, conns)),
                inpkts: u32_at(s, offset_of!(StatsUser, inpkts)),
                outpkts: u32_at(s, offset_of!(StatsUser, outpkts)),
                inbytes: u64_at(s, offset_of!(StatsUser, inbytes)),
                outbytes: u64_at(s, offset_of!(StatsUser, outbytes)),
                cps: u32_at(s, offset_of!(StatsUser, cps)),
                inpps: u32_at(s, offset_of!(StatsUser, inpps)),
                outpps: u32_at(s, offset_of!(StatsUser, outpps)),
                inbps: u32_at(s, offset_of!(StatsUser, inbps)),
                outbps: u32_at(s, offset_of!(StatsUser, outbps)),
            },
            stats64: None,
        });
    }
    // Fewer than counted: other-family destinations were skipped.
    (out.len() == n).then_some(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failure
    use super::*;

    #[test]
    fn services_decode_from_the_kernel_layout() {
        let (head, entry) = (size_of::<GetServices>(), size_of::<SvcEntry>());
        let mut buf = vec![0u8; head + 2 * entry];
        put(
            &mut buf,
            offset_of!(GetServices, num_services),
            &2u32.to_ne_bytes(),
        );
        put(
            &mut buf,
            head + offset_of!(SvcEntry, protocol),
            &6u16.to_ne_bytes(),
        );
        put(&mut buf, head + offset_of!(SvcEntry, addr), &[192, 0, 2, 1]);
        put(
            &mut buf,
            head + offset_of!(SvcEntry, port),
            &80u16.to_be_bytes(),
        );
        put(
            &mut buf,
            head + offset_of!(SvcEntry, num_dests),
            &3u32.to_ne_bytes(),
        );
        let second = head + entry + offset_of!(SvcEntry, fwmark);
        put(&mut buf, second, &7u32.to_ne_bytes());
        let tcp = LegacyService {
            key: ServiceKey::Addr {
                protocol: Protocol::Tcp,
                addr: "192.0.2.1:80".parse().unwrap(),
            },
            num_dests: 3,
        };
        let mark = LegacyService {
            key: ServiceKey::Fwmark {
                family: Family::V4,
                mark: 7,
            },
            num_dests: 0,
        };
        assert_eq!(decode_services(&buf, 2), [tcp, mark]);
        // Only as many as asked for, and a short reply gives fewer.
        assert_eq!(decode_services(&buf, 1), [tcp]);
        assert_eq!(decode_services(&buf[..head + entry + 3], 2), [tcp]);
        assert_eq!(decode_services(&buf[..3], 2), []);
    }

    #[test]
    fn dests_decode_only_when_the_view_is_complete() {
        let (head, entry) = (size_of::<GetDests>(), size_of::<DestEntry>());
        // One destination and the spare slot, left empty.
        let mut buf = vec![0u8; head + 2 * entry];
        put(&mut buf, head + offset_of!(DestEntry, addr), &[10, 0, 0, 2]);
        put(
            &mut buf,
            head + offset_of!(DestEntry, port),
            &8080u16.to_be_bytes(),
        );
        put(
            &mut buf,
            head + offset_of!(DestEntry, weight),
            &5u32.to_ne_bytes(),
        );
        let got = decode_dests(&buf, 1).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].dest.addr, "10.0.0.2:8080".parse().unwrap());
        assert_eq!(
            (got[0].dest.forward, got[0].dest.weight),
            (Forward::Masq, 5)
        );
        // Counted two (one of another family): incomplete.
        assert_eq!(decode_dests(&buf, 2), None);
        // Tunnelling: its settings are missing from this view.
        let flags = head + offset_of!(DestEntry, conn_flags);
        put(&mut buf, flags, &sys::IP_VS_CONN_F_TUNNEL.to_ne_bytes());
        assert_eq!(decode_dests(&buf, 1), None);
        assert_eq!(decode_dests(&buf[..head - 1], 0), Some(vec![]));
    }
}
