//! The reply to one service's destination dump, decoded as it streams in:
//! every destination nest goes straight into a [`DestinationEntry`],
//! without the message, attribute and counter vectors of the generic
//! decoder. Saving a table reads one such dump per service, and under
//! those vectors' allocations the decoding cost several times the
//! kernel's own work for the dump.

use netlink_packet_core::{NetlinkBuffer, NLMSG_DONE, NLMSG_ERROR};
use netlink_packet_generic::GenlBuffer;
use netlink_packet_utils::nla::{NlaBuffer, NlasIterator, NLA_F_NESTED};

use ipvs_sys as sys;

use crate::convert::{count, Counters, DestFields};
use crate::error::{CodecError, Error, KernelError, Nest, OpKind};
use crate::model::{DestinationEntry, Family};
use crate::nla::{DestNla, StatsNla};

/// Decodes one datagram of the reply to the destination dump `seq` (of a
/// service of family `svc_family`, netlink message type `family`),
/// appending its destinations to `out`. `Ok(true)` once the dump is
/// complete. Replies to earlier requests are skipped, as everywhere else
/// in the handle; a newer or zero sequence number is an error.
pub(crate) fn decode(
    family: u16,
    seq: u32,
    mut buf: &[u8],
    svc_family: Family,
    out: &mut Vec<DestinationEntry>,
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
                    dests_in(genl.payload(), svc_family, out)?;
                }
                _ => {}
            }
        }
        buf = buf.get(step..).unwrap_or(&[]);
    }
    Ok(false)
}

/// The destination nests among a message's attributes (others are skipped).
fn dests_in(
    attrs: &[u8],
    svc_family: Family,
    out: &mut Vec<DestinationEntry>,
) -> Result<(), CodecError> {
    for nla in NlasIterator::new(attrs) {
        let nla = nla.map_err(|_| CodecError::Truncated {
            nest: Nest::Command,
        })?;
        if nla.kind() & !NLA_F_NESTED == sys::IPVS_CMD_ATTR_DEST {
            out.push(dest_in(nla.value(), svc_family)?);
        }
    }
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
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/reply04.hex");
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
        let done = decode(FAMILY, seq_of(&v), &v, Family::V4, &mut out).unwrap();
        assert_eq!(out, generic);
        // The captured datagram holds the entries; NLMSG_DONE came apart.
        assert!(!done);
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
        let mut out = Vec::new();
        assert!(decode(FAMILY, 5, &done(5, 0), Family::V4, &mut out).unwrap());
        // A late reply to an earlier request is skipped.
        assert!(!decode(FAMILY, 5, &done(4, 0), Family::V4, &mut out).unwrap());
        assert!(matches!(
            decode(FAMILY, 5, &done(6, 0), Family::V4, &mut out),
            Err(Error::UnexpectedSeq(6))
        ));
        assert!(matches!(
            decode(FAMILY, 5, &done(5, 3), Family::V4, &mut out),
            Err(Error::Kernel(KernelError { errno: 3, .. }))
        ));
        assert_eq!(out, []);
    }

    #[test]
    fn truncated_replies_are_errors() {
        let v = reply04();
        let seq = seq_of(&v);
        for cut in [1, 15, 17, 40, 100, v.len() - 1] {
            let mut out = Vec::new();
            let r = decode(FAMILY, seq, &v[..cut], Family::V4, &mut out);
            assert!(r.is_err(), "cut at {cut}");
        }
    }
}
