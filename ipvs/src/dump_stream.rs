//! Dump replies decoded as they stream in: every service or destination
//! nest goes straight into its entry, without the message, attribute and
//! counter vectors of the generic decoder. Saving a table reads the
//! service dump and one destination dump per service, and with those
//! vectors' allocations the decoding cost several times the kernel's own
//! work for the dumps.

use netlink_packet_core::{NetlinkBuffer, NLMSG_DONE, NLMSG_ERROR};
use netlink_packet_generic::GenlBuffer;
use netlink_packet_utils::nla::{NlaBuffer, NlasIterator, NLA_F_NESTED};

use ipvs_sys as sys;

use crate::convert::{count, service_from, stats64_of, stats_of, Counters, DestFields};
use crate::error::{CodecError, Error, KernelError, Nest, OpKind};
use crate::model::{DestinationEntry, Family, ServiceEntry};
use crate::nla::{DestNla, StatsNla, SvcNla};

/// Decodes one datagram of the reply to the dump `seq` (netlink message
/// type `family`), handing each top-level attribute of its messages to
/// `on_attr` (kind without the nested flag, value). `Ok(true)` once the
/// dump is complete. Replies to earlier requests are skipped, as
/// everywhere else in the handle; a newer or zero sequence number is an
/// error.
pub(crate) fn decode(
    family: u16,
    seq: u32,
    mut buf: &[u8],
    mut on_attr: impl FnMut(u16, &[u8]) -> Result<(), CodecError>,
) -> Result<bool, Error> {
    let truncated = CodecError::Truncated { nest: Nest::Header };
    while !buf.is_empty() {
        let nl = NetlinkBuffer::new_checked(buf).map_err(|_| truncated)?;
        let step = (nl.length() as usize + 3) & !3;
        let s = nl.sequence_number();
        if s != seq {
            if s > seq || s == 0 {
                return Err(Error::UnexpectedSeq(s));
            }
        } else {
            let payload = nl.payload();
            match nl.message_type() {
                NLMSG_ERROR | NLMSG_DONE => {
                    // An error code, or a dump's final status (0: complete).
                    let errno = match payload.get(..4) {
                        Some(b) => i32::from_ne_bytes([b[0], b[1], b[2], b[3]]).saturating_neg(),
                        None if nl.message_type() == NLMSG_DONE => 0,
                        None => return Err(truncated.into()),
                    };
                    match (errno, nl.message_type()) {
                        (0, NLMSG_DONE) => return Ok(true),
                        (0, _) => {} // an ack: dumps end with DONE
                        _ => {
                            return Err(KernelError {
                                op: OpKind::Get,
                                errno,
                            }
                            .into())
                        }
                    }
                }
                t if t == family => {
                    let genl = GenlBuffer::new_checked(payload).map_err(|_| truncated)?;
                    for nla in NlasIterator::new(genl.payload()) {
                        let nla = nla.map_err(|_| CodecError::Truncated {
                            nest: Nest::Command,
                        })?;
                        on_attr(nla.kind() & !NLA_F_NESTED, nla.value())?;
                    }
                }
                _ => {}
            }
        }
        buf = buf.get(step..).unwrap_or(&[]);
    }
    Ok(false)
}

/// Appends the destination of a `IPVS_CMD_ATTR_*` attribute to `out`
/// (other attributes are skipped).
pub(crate) fn push_dest(
    kind: u16,
    value: &[u8],
    svc_family: Family,
    out: &mut Vec<DestinationEntry>,
) -> Result<(), CodecError> {
    if kind == sys::IPVS_CMD_ATTR_DEST {
        out.push(dest_in(value, svc_family)?);
    }
    Ok(())
}

/// Appends the service of a `IPVS_CMD_ATTR_*` attribute to `out` (other
/// attributes are skipped); `scratch` holds its attributes meanwhile.
pub(crate) fn push_service(
    kind: u16,
    value: &[u8],
    scratch: &mut Vec<SvcNla>,
    out: &mut Vec<ServiceEntry>,
) -> Result<(), CodecError> {
    if kind != sys::IPVS_CMD_ATTR_SERVICE {
        return Ok(());
    }
    scratch.clear();
    let (mut stats, mut stats64) = (None, None);
    for nla in NlasIterator::new(value) {
        let nla = nla.map_err(|_| CodecError::Truncated {
            nest: Nest::Service,
        })?;
        match nla.kind() & !NLA_F_NESTED {
            sys::IPVS_SVC_ATTR_STATS => stats = Some(counters_in(&nla, Nest::Stats)?),
            sys::IPVS_SVC_ATTR_STATS64 => stats64 = Some(counters_in(&nla, Nest::Stats64)?),
            _ => scratch.push(SvcNla::parse_in(&nla, Nest::Service)?),
        }
    }
    let mut e = service_from(scratch)?;
    if let Some(c) = stats {
        e.stats = stats_of(&c);
    }
    e.stats64 = stats64.map(|c| stats64_of(&c));
    out.push(e);
    Ok(())
}

/// One destination nest.
fn dest_in(attrs: &[u8], svc_family: Family) -> Result<DestinationEntry, CodecError> {
    let mut d = DestFields::new(svc_family);
    for nla in NlasIterator::new(attrs) {
        let nla = nla.map_err(|_| CodecError::Truncated { nest: Nest::Dest })?;
        match nla.kind() & !NLA_F_NESTED {
            sys::IPVS_DEST_ATTR_STATS => d.add_stats(&counters_in(&nla, Nest::Stats)?, false),
            sys::IPVS_DEST_ATTR_STATS64 => d.add_stats(&counters_in(&nla, Nest::Stats64)?, true),
            _ => d.add(&DestNla::parse_in(&nla, Nest::Dest)?)?,
        }
    }
    d.finish()
}

/// The counters of a stats nest.
fn counters_in(nla: &NlaBuffer<&[u8]>, nest: Nest) -> Result<Counters, CodecError> {
    let mut c = Counters::default();
    for a in NlasIterator::new(nla.value()) {
        let a = a.map_err(|_| CodecError::Truncated { nest })?;
        count(&mut c, &StatsNla::parse_in(&a, nest)?);
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failure
    use super::*;
    use crate::message::{decode_entries, Entry};

    /// Family id of the captured session in `tests/vectors`.
    const FAMILY: u16 = 0x20;

    /// A captured destination dump (a DR and a gue tunnel destination).
    fn reply04() -> Vec<u8> {
        vector("reply04")
    }

    /// A captured reply of the session in `tests/vectors`.
    fn vector(name: &str) -> Vec<u8> {
        let path = format!("{}/tests/vectors/{name}.hex", env!("CARGO_MANIFEST_DIR"));
        let hex = std::fs::read_to_string(path).unwrap();
        let hex = hex.trim();
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect()
    }

    fn seq_of(datagram: &[u8]) -> u32 {
        u32::from_ne_bytes(datagram[8..12].try_into().unwrap())
    }

    #[test]
    fn streaming_decode_equals_the_generic_decoder() {
        let v = reply04();
        let generic: Vec<DestinationEntry> = decode_entries(FAMILY, &v)
            .unwrap()
            .into_iter()
            .filter_map(|e| match e {
                Entry::Dest(d) => Some(d),
                _ => None,
            })
            .collect();
        assert_eq!(generic.len(), 2);
        let mut out = Vec::new();
        let done = decode(FAMILY, seq_of(&v), &v, |k, v| {
            push_dest(k, v, Family::V4, &mut out)
        })
        .unwrap();
        assert_eq!(out, generic);
        // The captured datagram holds the entries; NLMSG_DONE came apart.
        assert!(!done);
    }

    #[test]
    fn streamed_services_equal_the_generic_decoder() {
        let v = vector("reply02");
        let generic: Vec<ServiceEntry> = decode_entries(FAMILY, &v)
            .unwrap()
            .into_iter()
            .filter_map(|e| match e {
                Entry::Service(s) => Some(s),
                _ => None,
            })
            .collect();
        assert_eq!(generic.len(), 4);
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        decode(FAMILY, seq_of(&v), &v, |k, v| {
            push_service(k, v, &mut scratch, &mut out)
        })
        .unwrap();
        assert_eq!(out, generic);
    }

    #[test]
    fn done_errors_and_sequence_numbers() {
        let done = |seq: u32, errno: i32| {
            let mut m = vec![20, 0, 0, 0, 3, 0, 2, 0];
            m.extend_from_slice(&seq.to_ne_bytes());
            m.extend_from_slice(&[0; 4]);
            m.extend_from_slice(&(-errno).to_ne_bytes());
            m
        };
        let none = |_: u16, _: &[u8]| -> Result<(), CodecError> { panic!("no attributes") };
        assert!(decode(FAMILY, 5, &done(5, 0), none).unwrap());
        // A late reply to an earlier request is skipped.
        assert!(!decode(FAMILY, 5, &done(4, 0), none).unwrap());
        assert!(matches!(
            decode(FAMILY, 5, &done(6, 0), none),
            Err(Error::UnexpectedSeq(6))
        ));
        assert!(matches!(
            decode(FAMILY, 5, &done(5, 3), none),
            Err(Error::Kernel(KernelError { errno: 3, .. }))
        ));
    }

    #[test]
    fn truncated_replies_are_errors() {
        let v = reply04();
        let seq = seq_of(&v);
        for cut in [1, 15, 17, 40, 100, v.len() - 1] {
            let mut out = Vec::new();
            let r = decode(FAMILY, seq, &v[..cut], |k, v| {
                push_dest(k, v, Family::V4, &mut out)
            });
            assert!(r.is_err(), "cut at {cut}");
        }
    }
}
