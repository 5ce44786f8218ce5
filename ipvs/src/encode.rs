//! [`crate::Op::encode`], the hot path of [`crate::Ipvs::apply`]: service
//! and destination requests written straight into the batch buffer in one
//! pass, with nest lengths patched afterwards. The typed path
//! (`Op::message` then [`crate::message::encode_request`]) builds attribute
//! vectors and sizes every nest several times over; on a 50,000-line
//! restore that cost as much as the kernel's own work. The bytes are
//! identical, which a test checks for every variant; other operations take
//! the typed path.

use std::net::SocketAddr;

use ipvs_sys as sys;
use netlink_packet_core::{NLM_F_DUMP, NLM_F_REQUEST};

use crate::convert::{addr_bytes, netmask_bytes};
use crate::error::Error;
use crate::message::encode_request;
use crate::model::*;
use crate::op::{check_service, Op};

/// Appends attributes to a message under construction.
struct Writer<'a> {
    out: &'a mut Vec<u8>,
}

impl Writer<'_> {
    /// One attribute: header, value, zero padding to 4 bytes.
    fn attr(&mut self, kind: u16, value: &[u8]) {
        let len = 4 + value.len();
        self.out.extend_from_slice(&(len as u16).to_ne_bytes());
        self.out.extend_from_slice(&kind.to_ne_bytes());
        self.out.extend_from_slice(value);
        self.out.resize(self.out.len() + (4 - len % 4) % 4, 0);
    }

    /// A nested attribute whose content `body` writes.
    fn nest(&mut self, kind: u16, body: impl FnOnce(&mut Self)) {
        let start = self.out.len();
        self.out.extend_from_slice(&[0, 0]);
        self.out.extend_from_slice(&kind.to_ne_bytes());
        body(self);
        let len = (self.out.len() - start) as u16;
        self.out[start..start + 2].copy_from_slice(&len.to_ne_bytes());
    }

    fn service_key(&mut self, key: &ServiceKey) {
        match key {
            ServiceKey::Addr { protocol, addr } => {
                self.attr(sys::IPVS_SVC_ATTR_AF, &key.family().af().to_ne_bytes());
                self.attr(
                    sys::IPVS_SVC_ATTR_PROTOCOL,
                    &protocol.number().to_ne_bytes(),
                );
                self.attr(sys::IPVS_SVC_ATTR_ADDR, &addr_bytes(&addr.ip()));
                self.attr(sys::IPVS_SVC_ATTR_PORT, &addr.port().to_be_bytes());
            }
            ServiceKey::Fwmark { family, mark } => {
                self.attr(sys::IPVS_SVC_ATTR_AF, &family.af().to_ne_bytes());
                self.attr(sys::IPVS_SVC_ATTR_FWMARK, &mark.to_ne_bytes());
            }
        }
    }

    fn service(&mut self, s: &Service) {
        self.service_key(&s.key);
        self.str_attr(sys::IPVS_SVC_ATTR_SCHED_NAME, &s.scheduler);
        if let Some(pe) = &s.pe_name {
            self.str_attr(sys::IPVS_SVC_ATTR_PE_NAME, pe);
        }
        let mut flags = [0u8; 8];
        flags[..4].copy_from_slice(&s.flags.0.to_ne_bytes());
        flags[4..].copy_from_slice(&u32::MAX.to_ne_bytes());
        self.attr(sys::IPVS_SVC_ATTR_FLAGS, &flags);
        self.attr(sys::IPVS_SVC_ATTR_TIMEOUT, &s.timeout.to_ne_bytes());
        self.attr(
            sys::IPVS_SVC_ATTR_NETMASK,
            &netmask_bytes(s.key.family(), s.netmask),
        );
    }

    /// A NUL-terminated string attribute.
    fn str_attr(&mut self, kind: u16, s: &str) {
        let len = 4 + s.len() + 1;
        self.out.extend_from_slice(&(len as u16).to_ne_bytes());
        self.out.extend_from_slice(&kind.to_ne_bytes());
        self.out.extend_from_slice(s.as_bytes());
        self.out.resize(self.out.len() + 1 + (4 - len % 4) % 4, 0);
    }

    fn dest_key(&mut self, addr: &SocketAddr) {
        self.attr(sys::IPVS_DEST_ATTR_ADDR, &addr_bytes(&addr.ip()));
        self.attr(sys::IPVS_DEST_ATTR_PORT, &addr.port().to_be_bytes());
        let af = Family::of(&addr.ip()).af();
        self.attr(sys::IPVS_DEST_ATTR_ADDR_FAMILY, &af.to_ne_bytes());
    }

    fn dest(&mut self, d: &Destination) {
        self.dest_key(&d.addr);
        let fwd = d.forward.conn_flags();
        self.attr(sys::IPVS_DEST_ATTR_FWD_METHOD, &fwd.to_ne_bytes());
        self.attr(sys::IPVS_DEST_ATTR_WEIGHT, &d.weight.to_ne_bytes());
        let (upper, lower) = (d.upper_threshold, d.lower_threshold);
        self.attr(sys::IPVS_DEST_ATTR_U_THRESH, &upper.to_ne_bytes());
        self.attr(sys::IPVS_DEST_ATTR_L_THRESH, &lower.to_ne_bytes());
        if d.forward == Forward::Tunnel {
            self.attr(sys::IPVS_DEST_ATTR_TUN_TYPE, &[d.tunnel_type.number()]);
            self.attr(sys::IPVS_DEST_ATTR_TUN_PORT, &d.tunnel_port.to_be_bytes());
            let tun_flags = d.tunnel_flags.0.to_ne_bytes();
            self.attr(sys::IPVS_DEST_ATTR_TUN_FLAGS, &tun_flags);
        }
    }
}

impl Op {
    /// Appends this operation's request to `out` as [`crate::Ipvs::apply`]
    /// sends it: netlink header (type `family`, `flags`, `seq`), generic
    /// netlink header, attributes. The same bytes as
    /// [`crate::message::encode_request`] of [`Op::message`], written in
    /// one pass. On error (an invalid operation) `out` is unchanged.
    pub fn encode(
        &self,
        family: u16,
        flags: u16,
        seq: u32,
        out: &mut Vec<u8>,
    ) -> Result<(), Error> {
        encode_op(self, family, flags, seq, out)
    }
}

/// The `IPVS_CMD_GET_DEST` dump request for the service `key`, appended
/// to `out` (the same bytes as the typed path's).
pub(crate) fn dest_dump_request(family: u16, seq: u32, key: &ServiceKey, out: &mut Vec<u8>) {
    let start = out.len();
    header(
        family,
        NLM_F_REQUEST | NLM_F_DUMP,
        seq,
        sys::IPVS_CMD_GET_DEST,
        out,
    );
    Writer { out: &mut *out }.nest(sys::IPVS_CMD_ATTR_SERVICE, |w| w.service_key(key));
    patch_len(out, start);
}

/// nlmsghdr (length patched by [`patch_len`], port id 0) and genlmsghdr.
fn header(family: u16, flags: u16, seq: u32, cmd: u8, out: &mut Vec<u8>) {
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&family.to_ne_bytes());
    out.extend_from_slice(&flags.to_ne_bytes());
    out.extend_from_slice(&seq.to_ne_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&[cmd, sys::IPVS_GENL_VERSION, 0, 0]);
}

/// Writes the length of the message that starts at `start`.
fn patch_len(out: &mut [u8], start: usize) {
    let len = (out.len() - start) as u32;
    out[start..start + 4].copy_from_slice(&len.to_ne_bytes());
}

/// [`Op::encode`]: fails, leaving `out` as it was, only for an operation
/// the kernel could not take.
fn encode_op(op: &Op, family: u16, flags: u16, seq: u32, out: &mut Vec<u8>) -> Result<(), Error> {
    let cmd = match op {
        Op::AddService(s) | Op::EditService(s) => {
            check_service(s)?;
            match op {
                Op::AddService(_) => sys::IPVS_CMD_NEW_SERVICE,
                _ => sys::IPVS_CMD_SET_SERVICE,
            }
        }
        Op::DelService(_) => sys::IPVS_CMD_DEL_SERVICE,
        Op::AddDest(..) => sys::IPVS_CMD_NEW_DEST,
        Op::EditDest(..) => sys::IPVS_CMD_SET_DEST,
        Op::DelDest(..) => sys::IPVS_CMD_DEL_DEST,
        _ => {
            encode_request(family, flags, seq, op.message()?, out);
            return Ok(());
        }
    };
    let start = out.len();
    header(family, flags, seq, cmd, out);
    let mut w = Writer { out };
    match op {
        Op::AddService(s) | Op::EditService(s) => {
            w.nest(sys::IPVS_CMD_ATTR_SERVICE, |w| w.service(s))
        }
        Op::DelService(k) => w.nest(sys::IPVS_CMD_ATTR_SERVICE, |w| w.service_key(k)),
        Op::AddDest(k, d) | Op::EditDest(k, d) => {
            w.nest(sys::IPVS_CMD_ATTR_SERVICE, |w| w.service_key(k));
            w.nest(sys::IPVS_CMD_ATTR_DEST, |w| w.dest(d));
        }
        Op::DelDest(k, a) => {
            w.nest(sys::IPVS_CMD_ATTR_SERVICE, |w| w.service_key(k));
            w.nest(sys::IPVS_CMD_ATTR_DEST, |w| w.dest_key(a));
        }
        _ => {}
    }
    patch_len(out, start);
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failure
    use super::*;

    fn typed(op: &Op) -> Vec<u8> {
        let mut out = Vec::new();
        encode_request(0x1d, 0x5, 77, op.message().unwrap(), &mut out);
        out
    }

    fn direct(op: &Op) -> Vec<u8> {
        let mut out = vec![0xee; 3]; // appends after what is there
        encode_op(op, 0x1d, 0x5, 77, &mut out).unwrap();
        out.split_off(3)
    }

    fn every_op() -> Vec<Op> {
        let v4 = ServiceKey::tcp("10.0.0.1:80".parse().unwrap());
        let v6 = ServiceKey::Addr {
            protocol: Protocol::Sctp,
            addr: "[2001:db8::1]:443".parse().unwrap(),
        };
        let fwm = ServiceKey::Fwmark {
            family: Family::V6,
            mark: 7,
        };
        let mut persistent = Service::new(v6, "sh");
        persistent.flags = ServiceFlags::PERSISTENT | ServiceFlags::SCHED1;
        persistent.timeout = 360;
        persistent.netmask = 64;
        persistent.pe_name = Some("sip".into());
        let mut masked = Service::new(v4, "wrr");
        masked.netmask = 0xffff_ff00;
        let mut tunnel = Destination::new("[2001:db8::9]:0".parse().unwrap(), Forward::Tunnel);
        tunnel.tunnel_type = TunnelType::Gue;
        tunnel.tunnel_port = 6080;
        tunnel.tunnel_flags = TunnelFlags::REMCSUM;
        tunnel.weight = 0;
        let mut nat = Destination::new("192.168.1.2:8080".parse().unwrap(), Forward::Masq);
        nat.weight = 65535;
        nat.upper_threshold = 10;
        nat.lower_threshold = 3;
        vec![
            Op::AddService(Service::new(v4, "rr")),
            Op::AddService(Service::new(fwm, "mh")),
            Op::AddService(persistent.clone()),
            Op::EditService(persistent),
            Op::EditService(masked),
            Op::DelService(v4),
            Op::DelService(fwm),
            Op::AddDest(v4, nat),
            Op::AddDest(fwm, tunnel),
            Op::EditDest(v6, tunnel),
            Op::EditDest(v4, nat),
            Op::DelDest(v4, "192.168.1.2:8080".parse().unwrap()),
            Op::DelDest(v6, "[2001:db8::9]:0".parse().unwrap()),
            Op::Flush,
            Op::Zero(Some(v6)),
        ]
    }

    #[test]
    fn dest_dump_request_is_byte_identical_to_the_typed_path() {
        use crate::message::IpvsMessage;
        use crate::nla::CmdNla;
        let fwm = ServiceKey::Fwmark {
            family: Family::V4,
            mark: 9,
        };
        for key in [ServiceKey::tcp("[2001:db8::1]:443".parse().unwrap()), fwm] {
            let msg = IpvsMessage {
                cmd: sys::IPVS_CMD_GET_DEST,
                nlas: vec![CmdNla::Service(crate::convert::service_key_nlas(&key))],
            };
            let mut typed = Vec::new();
            encode_request(0x1d, NLM_F_REQUEST | NLM_F_DUMP, 77, msg, &mut typed);
            let mut direct = vec![0xee; 3];
            dest_dump_request(0x1d, 77, &key, &mut direct);
            assert_eq!(direct.split_off(3), typed, "{key:?}");
        }
    }

    #[test]
    fn direct_encoding_is_byte_identical_to_the_typed_path() {
        for op in every_op() {
            assert_eq!(direct(&op), typed(&op), "{op:?}");
        }
    }

    #[test]
    fn an_invalid_service_leaves_the_buffer_untouched() {
        let key = ServiceKey::tcp("10.0.0.1:80".parse().unwrap());
        let op = Op::AddService(Service::new(key, "a-much-too-long-scheduler"));
        let mut out = vec![1, 2, 3];
        assert!(matches!(
            encode_op(&op, 0x1d, 0x5, 1, &mut out),
            Err(Error::Invalid(crate::InvalidReason::SchedulerName))
        ));
        assert_eq!(out, [1, 2, 3]);
    }
}
