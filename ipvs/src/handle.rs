//! The blocking [`Ipvs`] handle: one socket, the family id resolved once,
//! every operation of the IPVS interface, and pipelined batches.

use std::net::SocketAddr;
use std::path::Path;

use ipvs_sys as sys;
use netlink_packet_core::{NetlinkBuffer, NetlinkMessage, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST};
use netlink_packet_generic::ctrl::nlas::GenlCtrlAttrs;
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::GenlMessage;

use crate::convert::*;
use crate::diff::VirtualServer;
use crate::error::{CodecError, Error, KernelError, Nest, OpKind};
use crate::message::{decode_datagram, encode_request, IpvsMessage, Reply, ReplyKind};
use crate::model::*;
use crate::nla::{CmdNla, InfoNla};
use crate::op::Op;
use crate::transport::{NetlinkTransport, Transport};

/// Most operations sent in one `sendmsg` by [`Ipvs::apply`]; bounded so
/// that the error replies of a whole batch fit the receive buffer.
pub const BATCH_OPS: usize = 256;
/// Most bytes sent in one `sendmsg` (below the default socket send buffer).
const BATCH_BYTES: usize = 96 << 10;

/// A handle on the kernel's IPVS table. Blocking; one request (or one
/// batch) at a time. See the crate docs for an example.
#[derive(Debug)]
pub struct Ipvs<T: Transport = NetlinkTransport> {
    transport: T,
    family: u16,
    seq: u32,
    out: Vec<u8>,
    inbuf: Vec<u8>,
}

impl Ipvs<NetlinkTransport> {
    /// Opens a netlink socket in the current network namespace and resolves
    /// the IPVS family (fails with `Reason::ModuleNotLoaded` without it).
    pub fn connect() -> Result<Self, Error> {
        Self::with_transport(NetlinkTransport::open()?)
    }

    /// Like [`Ipvs::connect`], in the network namespace at `netns` (e.g.
    /// `/run/netns/NAME`). The socket is created on a short-lived thread
    /// that entered the namespace, and stays bound to it.
    pub fn connect_netns(netns: &Path) -> Result<Self, Error> {
        let file = std::fs::File::open(netns)?;
        let transport = std::thread::scope(|s| {
            s.spawn(|| {
                crate::sys_util::setns_net(&file)?;
                NetlinkTransport::open()
            })
            .join()
            .unwrap_or_else(|_| Err(std::io::Error::other("netns thread panicked")))
        })?;
        Self::with_transport(transport)
    }
}

impl<T: Transport> Ipvs<T> {
    /// Wraps a transport and resolves the IPVS family id over it.
    pub fn with_transport(transport: T) -> Result<Self, Error> {
        let mut me = Ipvs {
            transport,
            family: 0,
            seq: 0,
            out: Vec::with_capacity(BATCH_BYTES + 4096),
            inbuf: Vec::new(),
        };
        me.family = me.resolve_family()?;
        Ok(me)
    }

    /// The resolved generic netlink family id.
    pub fn family_id(&self) -> u16 {
        self.family
    }

    /// Gives the transport back (tests inspect what was sent).
    pub fn into_transport(self) -> T {
        self.transport
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn resolve_family(&mut self) -> Result<u16, Error> {
        let seq = self.next_seq();
        let mut genl = GenlMessage::from_payload(GenlCtrl {
            cmd: GenlCtrlCmd::GetFamily,
            nlas: vec![GenlCtrlAttrs::FamilyName(sys::IPVS_GENL_NAME.to_owned())],
        });
        genl.finalize();
        let mut nl = NetlinkMessage::from(genl);
        nl.header.flags = NLM_F_REQUEST | NLM_F_ACK;
        nl.header.sequence_number = seq;
        nl.finalize();
        self.out.clear();
        self.out.resize(nl.buffer_len(), 0);
        nl.serialize(&mut self.out);
        self.transport.send(&self.out)?;
        let mut family = None;
        loop {
            self.transport.recv(&mut self.inbuf)?;
            family = family.or(family_id_in(&self.inbuf, seq));
            // No IPVS family yet: 0 is no message type, so every message
            // but the acks and errors is ignored here.
            for r in decode_datagram(0, &self.inbuf)? {
                if r.seq != seq {
                    continue;
                }
                match (r.kind, family) {
                    (ReplyKind::Ack, Some(id)) => return Ok(id),
                    (ReplyKind::Ack, None) => {
                        return Err(CodecError::Missing {
                            nest: Nest::Command,
                            kind: 1,
                        }
                        .into())
                    }
                    (ReplyKind::Error(errno), _) => {
                        return Err(KernelError {
                            op: OpKind::Resolve,
                            errno,
                        }
                        .into())
                    }
                    _ => {}
                }
            }
        }
    }

    /// Sends one request with an ack and waits for it; returns the
    /// messages that came before the ack (for requests that answer).
    fn request(
        &mut self,
        op: OpKind,
        cmd: u8,
        nlas: Vec<CmdNla>,
    ) -> Result<Vec<IpvsMessage>, Error> {
        self.exchange(op, IpvsMessage { cmd, nlas }, false)
    }

    /// Dumps: sends a `NLM_F_DUMP` request, returns every message until
    /// `NLMSG_DONE`.
    fn dump(&mut self, op: OpKind, cmd: u8, nlas: Vec<CmdNla>) -> Result<Vec<IpvsMessage>, Error> {
        self.exchange(op, IpvsMessage { cmd, nlas }, true)
    }

    fn exchange(
        &mut self,
        op: OpKind,
        msg: IpvsMessage,
        dump: bool,
    ) -> Result<Vec<IpvsMessage>, Error> {
        let seq = self.next_seq();
        let flags = NLM_F_REQUEST | if dump { NLM_F_DUMP } else { NLM_F_ACK };
        self.out.clear();
        encode_request(self.family, flags, seq, msg, &mut self.out);
        self.transport.send(&self.out)?;
        self.collect(op, seq, dump)
    }

    fn collect(&mut self, op: OpKind, seq: u32, dump: bool) -> Result<Vec<IpvsMessage>, Error> {
        let mut msgs = Vec::new();
        loop {
            self.transport.recv(&mut self.inbuf)?;
            for Reply { seq: s, kind, .. } in decode_datagram(self.family, &self.inbuf)? {
                if s != seq {
                    if s > seq || s == 0 {
                        return Err(Error::UnexpectedSeq(s));
                    }
                    continue; // a late reply to an abandoned request
                }
                match kind {
                    ReplyKind::Message(m) => msgs.push(m),
                    ReplyKind::Ack if !dump => return Ok(msgs),
                    ReplyKind::Done(0) if dump => return Ok(msgs),
                    ReplyKind::Error(errno) | ReplyKind::Done(errno) => {
                        return Err(KernelError { op, errno }.into())
                    }
                    ReplyKind::Ack | ReplyKind::Ignored => {}
                }
            }
        }
    }

    // ---- services

    /// Adds a service.
    pub fn add_service(&mut self, svc: &Service) -> Result<(), Error> {
        self.apply_one(Op::AddService(svc.clone()))
    }
    /// Changes a service's scheduler, flags, persistence.
    pub fn edit_service(&mut self, svc: &Service) -> Result<(), Error> {
        self.apply_one(Op::EditService(svc.clone()))
    }
    /// Deletes a service and its destinations.
    pub fn del_service(&mut self, key: &ServiceKey) -> Result<(), Error> {
        self.apply_one(Op::DelService(*key))
    }
    /// Reads one service.
    pub fn get_service(&mut self, key: &ServiceKey) -> Result<ServiceEntry, Error> {
        let msgs = self.request(
            OpKind::Get,
            sys::IPVS_CMD_GET_SERVICE,
            vec![CmdNla::Service(service_key_nlas(key))],
        )?;
        first_service(&msgs)?.ok_or(Error::Codec(CodecError::Missing {
            nest: Nest::Command,
            kind: sys::IPVS_CMD_ATTR_SERVICE,
        }))
    }
    /// Reads every service (one dump).
    pub fn services(&mut self) -> Result<Vec<ServiceEntry>, Error> {
        let seq = self.next_seq();
        self.out.clear();
        let msg = IpvsMessage {
            cmd: sys::IPVS_CMD_GET_SERVICE,
            nlas: Vec::new(),
        };
        encode_request(
            self.family,
            NLM_F_REQUEST | NLM_F_DUMP,
            seq,
            msg,
            &mut self.out,
        );
        self.transport.send(&self.out)?;
        let (mut out, mut scratch) = (Vec::new(), Vec::new());
        self.stream_dump(seq, |k, v| {
            crate::dump_stream::push_service(k, v, &mut scratch, &mut out)
        })?;
        Ok(out)
    }

    /// Receives the reply to the dump `seq`, handing every top-level
    /// attribute to `on_attr` as it arrives (see `dump_stream`).
    fn stream_dump(
        &mut self,
        seq: u32,
        mut on_attr: impl FnMut(u16, &[u8]) -> Result<(), CodecError>,
    ) -> Result<(), Error> {
        loop {
            self.transport.recv(&mut self.inbuf)?;
            if crate::dump_stream::decode(self.family, seq, &self.inbuf, &mut on_attr)? {
                return Ok(());
            }
        }
    }

    // ---- destinations

    /// Adds a destination to a service.
    pub fn add_dest(&mut self, key: &ServiceKey, dest: &Destination) -> Result<(), Error> {
        self.apply_one(Op::AddDest(*key, *dest))
    }
    /// Changes a destination's weight, method, thresholds, tunnel.
    pub fn edit_dest(&mut self, key: &ServiceKey, dest: &Destination) -> Result<(), Error> {
        self.apply_one(Op::EditDest(*key, *dest))
    }
    /// Deletes a destination.
    pub fn del_dest(&mut self, key: &ServiceKey, addr: &SocketAddr) -> Result<(), Error> {
        self.apply_one(Op::DelDest(*key, *addr))
    }
    /// Reads the destinations of one service (one dump).
    pub fn dests(&mut self, key: &ServiceKey) -> Result<Vec<DestinationEntry>, Error> {
        // Written and decoded directly: a save reads one such dump per
        // service (see `dump_stream`).
        let seq = self.next_seq();
        self.out.clear();
        crate::encode::dest_dump_request(self.family, seq, key, &mut self.out);
        self.transport.send(&self.out)?;
        let (mut out, family) = (Vec::new(), key.family());
        self.stream_dump(seq, |k, v| {
            crate::dump_stream::push_dest(k, v, family, &mut out)
        })?;
        Ok(out)
    }

    /// Reads the whole table: every service with its destinations, in the
    /// kernel's order.
    pub fn table(&mut self) -> Result<Vec<(ServiceEntry, Vec<DestinationEntry>)>, Error> {
        let services = self.services()?;
        let mut out = Vec::with_capacity(services.len());
        for s in services {
            let d = self.dests(&s.service.key)?;
            out.push((s, d));
        }
        Ok(out)
    }

    /// The whole table like [`Ipvs::table`], read the fastest way, for
    /// saving it: the destinations of an IPv4 service come from one legacy
    /// `IP_VS_SO_GET_DESTS` call instead of a netlink dump whenever that
    /// view is complete (no destination of another family, none
    /// tunnelling, none added meanwhile); otherwise, and for IPv6 and
    /// without CAP_NET_RAW, from netlink. Destinations read the legacy way
    /// have `stats64: None`; everything else is identical.
    pub fn save_table(&mut self) -> Result<Vec<(ServiceEntry, Vec<DestinationEntry>)>, Error> {
        let services = self.services()?;
        let legacy: std::collections::HashMap<ServiceKey, crate::LegacyService> =
            match self.transport.legacy_services() {
                Some(Ok(list)) => list.into_iter().map(|l| (l.key, l)).collect(),
                _ => Default::default(),
            };
        let mut out = Vec::with_capacity(services.len());
        for s in services {
            let fast = legacy
                .get(&s.service.key)
                .and_then(|l| self.transport.legacy_dests(l))
                .and_then(|r| r.ok().flatten());
            let d = match fast {
                Some(d) => d,
                None => self.dests(&s.service.key)?,
            };
            out.push((s, d));
        }
        Ok(out)
    }

    /// The table as configuration only (for [`crate::diff`]).
    pub fn virtual_servers(&mut self) -> Result<Vec<VirtualServer>, Error> {
        Ok(self
            .table()?
            .into_iter()
            .map(|(s, d)| VirtualServer {
                service: s.service,
                dests: d.into_iter().map(|e| e.dest).collect(),
            })
            .collect())
    }

    // ---- table-wide

    /// Deletes every service and destination.
    pub fn flush(&mut self) -> Result<(), Error> {
        self.apply_one(Op::Flush)
    }
    /// Zeroes the counters of one service, or of all with `None`.
    pub fn zero(&mut self, key: Option<&ServiceKey>) -> Result<(), Error> {
        self.apply_one(Op::Zero(key.copied()))
    }
    /// Reads the connection timeouts.
    pub fn timeouts(&mut self) -> Result<Timeouts, Error> {
        let msgs = self.request(OpKind::Get, sys::IPVS_CMD_GET_CONFIG, Vec::new())?;
        let mut t = Timeouts::default();
        for a in msgs.iter().flat_map(|m| &m.nlas) {
            match a {
                CmdNla::TimeoutTcp(x) => t.tcp = *x,
                CmdNla::TimeoutTcpFin(x) => t.tcp_fin = *x,
                CmdNla::TimeoutUdp(x) => t.udp = *x,
                _ => {}
            }
        }
        Ok(t)
    }
    /// Sets the connection timeouts (0 keeps a value).
    pub fn set_timeouts(&mut self, t: &Timeouts) -> Result<(), Error> {
        self.apply_one(Op::SetTimeouts(*t))
    }
    /// Version and connection table size.
    pub fn info(&mut self) -> Result<Info, Error> {
        let msgs = self.request(OpKind::Info, sys::IPVS_CMD_GET_INFO, Vec::new())?;
        let (mut version, mut size) = (None, None);
        for a in msgs.iter().flat_map(|m| &m.nlas) {
            match a {
                CmdNla::Info(InfoNla::Version(v)) => version = Some(*v),
                CmdNla::Info(InfoNla::ConnTabSize(v)) => size = Some(*v),
                _ => {}
            }
        }
        let miss = |kind| CodecError::Missing {
            nest: Nest::Info,
            kind,
        };
        Ok(Info {
            version: version.ok_or(miss(sys::IPVS_INFO_ATTR_VERSION))?,
            conn_tab_size: size.ok_or(miss(sys::IPVS_INFO_ATTR_CONN_TAB_SIZE))?,
        })
    }

    // ---- sync daemons

    /// Starts a sync daemon.
    pub fn start_daemon(&mut self, d: &SyncDaemon) -> Result<(), Error> {
        self.apply_one(Op::StartDaemon(d.clone()))
    }
    /// Stops the sync daemon of the given role.
    pub fn stop_daemon(&mut self, state: DaemonState) -> Result<(), Error> {
        self.apply_one(Op::StopDaemon(state))
    }
    /// Lists the running sync daemons.
    pub fn daemons(&mut self) -> Result<Vec<SyncDaemon>, Error> {
        let msgs = self.dump(OpKind::Get, sys::IPVS_CMD_GET_DAEMON, Vec::new())?;
        let mut out = Vec::new();
        for a in msgs.iter().flat_map(|m| &m.nlas) {
            if let CmdNla::Daemon(d) = a {
                out.push(daemon_from(d)?);
            }
        }
        Ok(out)
    }

    // ---- batches

    fn apply_one(&mut self, op: Op) -> Result<(), Error> {
        match self.apply(std::slice::from_ref(&op))?.pop() {
            Some(Err(e)) => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Applies operations in order, many per `sendmsg`, and returns one
    /// result per operation. Every request is built before anything is
    /// sent, so an invalid operation ([`Error::Invalid`]) fails the call
    /// with the kernel untouched. Requests carry no ack flag except the
    /// last of each batch: the kernel answers a request only when it
    /// fails, and handles a batch in order, so once the last ack is in,
    /// every error of the batch (matched by sequence number) is too. A
    /// failed operation does not stop the later ones, as with `ipvsadm -R`.
    pub fn apply(&mut self, ops: &[Op]) -> Result<Vec<Result<(), KernelError>>, Error> {
        // Every request, back to back; ends[k] is where request k ends.
        self.out.clear();
        let mut ends = Vec::with_capacity(ops.len());
        let first_seq = self.seq.wrapping_add(1);
        for (k, op) in ops.iter().enumerate() {
            let seq = first_seq.wrapping_add(k as u32);
            op.encode(self.family, NLM_F_REQUEST, seq, &mut self.out)?;
            ends.push(self.out.len());
        }
        self.seq = first_seq.wrapping_add(ops.len() as u32).wrapping_sub(1);
        let mut results = vec![Ok(()); ops.len()];
        let (mut i, mut from) = (0, 0);
        while i < ops.len() {
            let mut j = i + 1;
            while j < ops.len() && j - i < BATCH_OPS && ends[j] - from <= BATCH_BYTES {
                j += 1;
            }
            // Only the batch's last request asks for an ack.
            let last_start = if j - 1 > i { ends[j - 2] } else { from };
            let mut last = NetlinkBuffer::new(&mut self.out[last_start..ends[j - 1]]);
            last.set_flags(last.flags() | NLM_F_ACK);
            self.transport.send(&self.out[from..ends[j - 1]])?;
            let seq = first_seq.wrapping_add(i as u32);
            self.await_batch(seq, &ops[i..j], &mut results[i..j])?;
            (i, from) = (j, ends[j - 1]);
        }
        self.out.clear();
        self.out.shrink_to(BATCH_BYTES + 4096);
        Ok(results)
    }

    fn await_batch(
        &mut self,
        first: u32,
        batch: &[Op],
        results: &mut [Result<(), KernelError>],
    ) -> Result<(), Error> {
        let last = first.wrapping_add(batch.len() as u32 - 1);
        loop {
            self.transport.recv(&mut self.inbuf)?;
            for r in decode_datagram(self.family, &self.inbuf)? {
                let idx = r.seq.wrapping_sub(first) as usize;
                let (Some(op), Some(slot)) = (batch.get(idx), results.get_mut(idx)) else {
                    if r.seq < first {
                        continue; // late reply to an abandoned request
                    }
                    return Err(Error::UnexpectedSeq(r.seq));
                };
                match r.kind {
                    ReplyKind::Error(errno) => {
                        *slot = Err(KernelError {
                            op: op.kind(),
                            errno,
                        })
                    }
                    ReplyKind::Ack
                    | ReplyKind::Done(_)
                    | ReplyKind::Message(_)
                    | ReplyKind::Ignored => {}
                }
                if r.seq == last && matches!(r.kind, ReplyKind::Ack | ReplyKind::Error(_)) {
                    return Ok(());
                }
            }
        }
    }
}

/// Message type of the generic netlink controller.
const GENL_ID_CTRL: u16 = 0x10;
/// `CTRL_ATTR_FAMILY_ID`, a `u16`.
const CTRL_ATTR_FAMILY_ID: u16 = 1;
/// The attribute type without the nested and byte-order flags.
const NLA_TYPE_MASK: u16 = 0x3fff;

/// The family id in the controller's answer of sequence `seq` in `buf`,
/// read by hand: netlink-packet-generic's attribute parser panics on an
/// attribute shorter than its own header (found by the `ipvs_replies`
/// fuzz target), and only this one attribute is needed.
fn family_id_in(buf: &[u8], seq: u32) -> Option<u16> {
    let u16_at =
        |b: &[u8], at: usize| Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?));
    let u32_at =
        |b: &[u8], at: usize| Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?));
    let mut rest = buf;
    while rest.len() >= 16 {
        let len = u32_at(rest, 0)? as usize;
        let msg = rest.get(..len).filter(|_| len >= 16)?;
        if u16_at(msg, 4)? == GENL_ID_CTRL && u32_at(msg, 8)? == seq {
            // After the netlink (16 bytes) and genetlink (4 bytes) headers.
            let mut attrs = msg.get(20..).unwrap_or_default();
            while let (Some(alen), Some(aty)) = (u16_at(attrs, 0), u16_at(attrs, 2)) {
                let alen = usize::from(alen);
                if alen < 4 || alen > attrs.len() {
                    break;
                }
                if aty & NLA_TYPE_MASK == CTRL_ATTR_FAMILY_ID && alen >= 6 {
                    return u16_at(attrs, 4);
                }
                attrs = attrs.get((alen + 3) & !3..).unwrap_or_default();
            }
        }
        rest = rest.get((len + 3) & !3..).unwrap_or_default();
    }
    None
}

fn first_service(msgs: &[IpvsMessage]) -> Result<Option<ServiceEntry>, Error> {
    for a in msgs.iter().flat_map(|m| &m.nlas) {
        if let CmdNla::Service(s) = a {
            return Ok(Some(service_from(s)?));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failure
    use std::collections::{HashMap, VecDeque};

    use netlink_packet_core::NLMSG_ERROR;

    use super::*;
    use crate::error::InvalidReason;

    const FAMILY: u16 = 0x24;
    const GENL_ID_CTRL: u16 = 0x10;

    fn nlmsg(ty: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend(((16 + payload.len()) as u32).to_ne_bytes());
        v.extend(ty.to_ne_bytes());
        v.extend(0u16.to_ne_bytes());
        v.extend(seq.to_ne_bytes());
        v.extend(0u32.to_ne_bytes());
        v.extend(payload);
        v.resize((v.len() + 3) & !3, 0);
        v
    }

    /// `NLMSG_ERROR` (an ack when `errno` is 0) with the capped request header.
    fn error_reply(seq: u32, errno: i32) -> Vec<u8> {
        let mut payload = (-errno).to_ne_bytes().to_vec();
        payload.extend([0u8; 16]);
        nlmsg(NLMSG_ERROR, seq, &payload)
    }

    /// A fake kernel: answers the family lookup, then every request as
    /// `netlink_rcv_skb` does: an error reply when its sequence number has
    /// a scripted errno, else an ack only when `NLM_F_ACK` is set.
    #[derive(Default)]
    struct FakeKernel {
        fail: HashMap<u32, i32>,
        /// A request whose error reply comes back cut short.
        garble: Option<u32>,
        /// `(seq, flags)` of every request sent after the family lookup.
        sent: Vec<Vec<(u32, u16)>>,
        replies: VecDeque<Vec<u8>>,
    }

    impl Transport for FakeKernel {
        fn send(&mut self, mut datagram: &[u8]) -> std::io::Result<()> {
            let mut reqs = Vec::new();
            while !datagram.is_empty() {
                let nl = NetlinkBuffer::new_checked(datagram).unwrap();
                let (seq, flags, len) = (nl.sequence_number(), nl.flags(), nl.length());
                if nl.message_type() == GENL_ID_CTRL {
                    // CTRL_CMD_NEWFAMILY, version 2, CTRL_ATTR_FAMILY_ID.
                    let mut p = vec![1, 2, 0, 0, 6, 0, 1, 0];
                    p.extend(FAMILY.to_ne_bytes());
                    p.extend([0, 0]);
                    self.replies.push_back(nlmsg(GENL_ID_CTRL, seq, &p));
                    self.replies.push_back(error_reply(seq, 0));
                } else {
                    reqs.push((seq, flags));
                    match self.fail.get(&seq) {
                        Some(_) if self.garble == Some(seq) => {
                            self.replies
                                .push_back(nlmsg(NLMSG_ERROR, seq, &[0xff, 0xff]))
                        }
                        Some(&errno) => self.replies.push_back(error_reply(seq, errno)),
                        None if flags & NLM_F_ACK != 0 => {
                            self.replies.push_back(error_reply(seq, 0))
                        }
                        None => {}
                    }
                }
                datagram = &datagram[(len as usize + 3) & !3..];
            }
            if !reqs.is_empty() {
                self.sent.push(reqs);
            }
            Ok(())
        }

        fn recv(&mut self, buf: &mut Vec<u8>) -> std::io::Result<()> {
            *buf = self
                .replies
                .pop_front()
                .ok_or(std::io::ErrorKind::WouldBlock)?;
            Ok(())
        }
    }

    #[test]
    fn the_family_lookup_reads_only_well_formed_attributes() {
        // CTRL_CMD_NEWFAMILY, version 2, then CTRL_ATTR_FAMILY_ID.
        let ok = nlmsg(GENL_ID_CTRL, 1, &[1, 2, 0, 0, 6, 0, 1, 0, 0x24, 0, 0, 0]);
        assert_eq!(family_id_in(&ok, 1), Some(0x24));
        assert_eq!(family_id_in(&ok, 2), None);
        // An attribute shorter than its header once panicked the decoder
        // (found by the ipvs_replies fuzz target).
        let bad = nlmsg(GENL_ID_CTRL, 1, &[1, 2, 0, 0, 0, 0, 7, 0, 8, 0, 0, 0]);
        assert_eq!(family_id_in(&bad, 1), None);
        let mut kernel = FakeKernel::default();
        kernel.replies.push_back(bad.clone());
        kernel.replies.push_back(error_reply(1, 0));
        // The scripted replies come before the fake kernel's own answer.
        assert!(matches!(
            Ipvs::with_transport(kernel),
            Err(Error::Codec(CodecError::Missing { .. }))
        ));
    }

    fn add(i: u32) -> Op {
        let key = ServiceKey::tcp(SocketAddr::from(([10, 0, (i >> 8) as u8, i as u8], 80)));
        Op::AddService(Service::new(key, "rr"))
    }

    /// Ops get sequence numbers from 2 on (1 resolved the family).
    fn fake(failing_ops: &[(u32, i32)]) -> Ipvs<FakeKernel> {
        let kernel = FakeKernel {
            fail: failing_ops.iter().map(|&(op, e)| (op + 2, e)).collect(),
            ..Default::default()
        };
        let ipvs = Ipvs::with_transport(kernel).unwrap();
        assert_eq!(ipvs.family_id(), FAMILY);
        ipvs
    }

    fn errnos(res: &[Result<(), KernelError>]) -> Vec<(usize, i32)> {
        res.iter()
            .enumerate()
            .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e.errno)))
            .collect()
    }

    #[test]
    fn apply_matches_errors_when_the_acked_last_request_fails() {
        let mut ipvs = fake(&[(1, libc::EEXIST), (4, libc::ESRCH)]);
        let ops: Vec<Op> = (0..5).map(add).collect();
        let res = ipvs.apply(&ops).unwrap();
        assert_eq!(errnos(&res), [(1, libc::EEXIST), (4, libc::ESRCH)]);
        let k = ipvs.into_transport();
        let flags: Vec<u16> = k.sent[0].iter().map(|r| r.1).collect();
        let plain = NLM_F_REQUEST;
        assert_eq!(flags, [plain, plain, plain, plain, plain | NLM_F_ACK]);
        assert!(k.replies.is_empty(), "every reply was read");
    }

    #[test]
    fn apply_splits_batches_and_matches_errors_across_them() {
        let n = BATCH_OPS as u32;
        let fails = [
            (n - 1, libc::EEXIST),
            (n, libc::ENOENT),
            (n + 2, libc::EINVAL),
        ];
        let mut ipvs = fake(&fails);
        let ops: Vec<Op> = (0..n + 3).map(add).collect();
        let res = ipvs.apply(&ops).unwrap();
        assert_eq!(res.len(), ops.len());
        let want: Vec<(usize, i32)> = fails.iter().map(|&(i, e)| (i as usize, e)).collect();
        assert_eq!(errnos(&res), want);
        // The next request is in step: its own ack answers it.
        ipvs.flush().unwrap();
        let k = ipvs.into_transport();
        assert_eq!(k.sent.len(), 3);
        assert_eq!(k.sent[0].len(), BATCH_OPS);
        assert_eq!(k.sent[1].len(), 3);
        for batch in &k.sent[..2] {
            let acked: Vec<bool> = batch.iter().map(|r| r.1 & NLM_F_ACK != 0).collect();
            let last = acked.len() - 1;
            assert_eq!(acked.iter().position(|&a| a), Some(last));
        }
        assert!(k.replies.is_empty());
    }

    #[test]
    fn apply_with_an_invalid_operation_sends_nothing() {
        let mut ipvs = fake(&[]);
        let mut ops: Vec<Op> = (0..BATCH_OPS as u32 + 5).map(add).collect();
        let key = ServiceKey::tcp(SocketAddr::from(([10, 9, 9, 9], 80)));
        ops[BATCH_OPS + 2] = Op::AddService(Service::new(key, "a-much-too-long-scheduler"));
        let err = ipvs.apply(&ops).unwrap_err();
        assert!(
            matches!(err, Error::Invalid(InvalidReason::SchedulerName)),
            "{err:?}"
        );
        assert!(ipvs.into_transport().sent.is_empty(), "nothing was applied");
    }

    #[test]
    fn a_malformed_reply_fails_the_call_and_the_next_one_stays_in_step() {
        let mut ipvs = fake(&[(0, libc::EEXIST), (1, libc::EEXIST)]);
        ipvs.transport.garble = Some(2); // op 0's error reply
        let ops: Vec<Op> = (0..3).map(add).collect();
        let err = ipvs.apply(&ops).unwrap_err();
        assert!(
            matches!(err, Error::Codec(CodecError::Truncated { .. })),
            "{err:?}"
        );
        // The rest of that batch's replies are still queued; they are
        // recognised as stale and the flush gets its own ack.
        assert_eq!(ipvs.transport.replies.len(), 2);
        ipvs.flush().unwrap();
        let res = ipvs.apply(&ops).unwrap();
        assert_eq!(errnos(&res), []);
        assert!(ipvs.into_transport().replies.is_empty());
    }
}
