//! The codec against bytes captured from the kernel (Linux 6.1, in the
//! test VM: see `check_capture` in tests/vm/guest.rs). The session replayed
//! here is: resolve the family, read the table, info, timeouts, daemons,
//! then a duplicate service add. `save.hex` is what ipvsadm -S -n printed
//! for that table in the same VM.
#![allow(clippy::unwrap_used)] // test code: a panic is a failure

use std::collections::VecDeque;
use std::io;

use ipvs::ipvsadm::format_save;
use ipvs::message::{
    decode_datagram, decode_entries, encode_request, Entry, IpvsMessage, ReplyKind,
};
use ipvs::*;
use netlink_packet_utils::Emitable;

const FAMILY: u16 = 0x20;

fn vector(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/vectors/{name}.hex", env!("CARGO_MANIFEST_DIR"));
    let hex = std::fs::read_to_string(&path).expect("vector file");
    let hex = hex.trim();
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

fn replies() -> VecDeque<Vec<u8>> {
    (0..17).map(|i| vector(&format!("reply{i:02}"))).collect()
}

/// Replays captured datagrams and records what the handle sends.
struct Replay {
    replies: VecDeque<Vec<u8>>,
    sent: Vec<Vec<u8>>,
}

impl Transport for Replay {
    fn send(&mut self, d: &[u8]) -> io::Result<()> {
        self.sent.push(d.to_vec());
        Ok(())
    }
    fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        let next = self
            .replies
            .pop_front()
            .ok_or_else(|| io::Error::other("no more replies"))?;
        buf.clear();
        buf.extend_from_slice(&next);
        Ok(())
    }
}

#[test]
fn replayed_kernel_session_decodes_to_what_ipvsadm_printed() {
    let replay = Replay {
        replies: replies(),
        sent: Vec::new(),
    };
    let mut ipvs = Ipvs::with_transport(replay).unwrap();
    assert_eq!(ipvs.family_id(), FAMILY);
    let table = ipvs.table().unwrap();
    assert_eq!(table.len(), 4);
    let save = String::from_utf8(vector("save")).unwrap();
    assert_eq!(format_save(&table), save);
    let info = ipvs.info().unwrap();
    assert_eq!(
        info,
        Info {
            version: 0x010201,
            conn_tab_size: 4096
        }
    );
    assert_eq!(
        ipvs.timeouts().unwrap(),
        Timeouts {
            tcp: 100,
            tcp_fin: 20,
            udp: 30
        }
    );
    assert_eq!(ipvs.daemons().unwrap(), vec![]);
    let dup = ipvs.add_service(&Service::new(
        ServiceKey::tcp("10.0.0.1:80".parse().unwrap()),
        "rr",
    ));
    match dup {
        Err(Error::Kernel(k)) => {
            assert_eq!(k.errno, libc_eexist());
            assert_eq!(k.reason(), Reason::ServiceExists);
        }
        other => panic!("want EEXIST, got {other:?}"),
    }
    let sent = ipvs.into_transport().sent;
    // Resolve, 1 + 4 dumps, info, timeouts, daemons, add.
    assert_eq!(sent.len(), 10);
    // The add request: our encoding, decoded back, is the same message.
    let add = &sent[9];
    let msgs = decode_datagram(FAMILY, add).unwrap();
    let ReplyKind::Message(m) = &msgs[0].kind else {
        panic!("not a message")
    };
    assert_eq!(m.cmd, ipvs_sys::IPVS_CMD_NEW_SERVICE);
    assert_eq!(msgs[0].seq, 10);
}

fn libc_eexist() -> i32 {
    17
}

#[test]
fn service_dump_fields() {
    let entries = decode_entries(FAMILY, &vector("reply02")).unwrap();
    let services: Vec<&Service> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Service(s) => Some(&s.service),
            _ => None,
        })
        .collect();
    assert_eq!(services.len(), 4);
    let tcp = services
        .iter()
        .find(|s| s.key == ServiceKey::tcp("10.0.0.1:80".parse().unwrap()))
        .unwrap();
    assert_eq!(tcp.scheduler, "wlc");
    assert_eq!(tcp.flags, ServiceFlags::PERSISTENT);
    assert_eq!((tcp.timeout, tcp.netmask), (300, 0xffff_ff00));
    let fw = services
        .iter()
        .find(|s| {
            s.key
                == ServiceKey::Fwmark {
                    family: Family::V6,
                    mark: 7,
                }
        })
        .unwrap();
    assert_eq!(
        (fw.scheduler.as_str(), fw.timeout, fw.netmask),
        ("mh", 10, 128)
    );
    let sip = services.iter().find(|s| s.pe_name.is_some()).unwrap();
    assert_eq!(sip.pe_name.as_deref(), Some("sip"));
    assert!(entries.iter().all(|e| match e {
        Entry::Service(s) => s.stats64.is_some(),
        _ => true,
    }));
}

#[test]
fn dest_dump_fields() {
    let entries = decode_entries(FAMILY, &vector("reply04")).unwrap();
    let dests: Vec<&Destination> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Dest(d) => Some(&d.dest),
            _ => None,
        })
        .collect();
    assert_eq!(dests.len(), 2);
    let mut dr = Destination::new("10.1.0.1:80".parse().unwrap(), Forward::DirectRoute);
    dr.weight = 5;
    dr.upper_threshold = 100;
    dr.lower_threshold = 10;
    assert!(dests.contains(&&dr), "{dests:?}");
    let mut gue = Destination::new("10.1.0.2:80".parse().unwrap(), Forward::Tunnel);
    gue.tunnel_type = TunnelType::Gue;
    gue.tunnel_port = 6080;
    gue.tunnel_flags = TunnelFlags::CSUM;
    assert!(dests.contains(&&gue), "{dests:?}");
}

/// Splits a datagram into (header, attribute bytes) of each IPVS message.
fn messages(buf: &[u8]) -> Vec<(u8, &[u8])> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + 20 <= buf.len() {
        let len = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap()) as usize;
        let ty = u16::from_ne_bytes(buf[off + 4..off + 6].try_into().unwrap());
        if ty == FAMILY {
            out.push((buf[off + 16], &buf[off + 20..off + len]));
        }
        off += (len + 3) & !3;
    }
    out
}

#[test]
fn kernel_attributes_reemit_byte_for_byte() {
    let mut checked = 0;
    for name in [
        "reply02", "reply04", "reply06", "reply09", "reply11", "reply13",
    ] {
        let v = vector(name);
        for (cmd, attrs) in messages(&v) {
            let m = IpvsMessage::parse_attrs(cmd, attrs).unwrap();
            let mut again = vec![0xa5; m.buffer_len()];
            m.emit(&mut again);
            assert_eq!(again, attrs, "{name}: re-emitted attributes differ");
            checked += 1;
        }
    }
    assert!(checked >= 10, "only {checked} messages checked");
}

#[test]
fn requests_round_trip_through_the_decoder() {
    let key = ServiceKey::udp("[2001:db8::1]:53".parse().unwrap());
    let mut d = Destination::new("10.9.9.9:53".parse().unwrap(), Forward::Tunnel);
    d.tunnel_type = TunnelType::Gre;
    d.tunnel_flags = TunnelFlags::REMCSUM;
    let ops = [
        Op::AddService(Service::new(key, "mh")),
        Op::AddDest(key, d),
        Op::DelDest(key, d.addr),
        Op::SetTimeouts(Timeouts {
            tcp: 1,
            tcp_fin: 2,
            udp: 3,
        }),
        Op::StartDaemon(SyncDaemon::new(DaemonState::Backup, "eth0", 3)),
    ];
    for (i, op) in ops.iter().enumerate() {
        let msg = op.message().unwrap();
        let mut buf = Vec::new();
        encode_request(FAMILY, 1, i as u32, msg.clone(), &mut buf);
        let back = decode_datagram(FAMILY, &buf).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back[0].kind, ReplyKind::Message(msg), "op {op:?}");
    }
}

#[test]
fn malformed_replies_are_errors() {
    let v = vector("reply02");
    for cut in [1, 15, 16, 17, 40, 100, v.len() - 1] {
        assert!(decode_entries(FAMILY, &v[..cut]).is_err(), "cut at {cut}");
    }
    // An attribute length pointing past its nest.
    let mut bad = v.clone();
    bad[20] = 0xff;
    bad[21] = 0x0f;
    assert!(decode_entries(FAMILY, &bad).is_err());
    // A port attribute of 3 bytes instead of 2.
    let mut msg = Vec::new();
    encode_request(
        FAMILY,
        2,
        1,
        Op::DelService(ServiceKey::tcp("1.2.3.4:5".parse().unwrap()))
            .message()
            .unwrap(),
        &mut msg,
    );
    let port_at = msg.windows(4).position(|w| w == [6, 0, 4, 0]).unwrap();
    msg[port_at] = 7;
    assert!(matches!(
        decode_datagram(FAMILY, &msg),
        Err(CodecError::BadLength {
            kind: 4,
            len: 3,
            ..
        })
    ));
}

#[test]
fn unknown_attributes_are_kept_not_fatal() {
    let v = vector("reply11");
    let (cmd, attrs) = messages(&v)[0];
    let mut extended = attrs.to_vec();
    extended.extend_from_slice(&[8, 0, 0x63, 0, 1, 2, 3, 4]); // attribute 99
    let m = IpvsMessage::parse_attrs(cmd, &extended).unwrap();
    assert_eq!(m.nlas.len(), 3);
    let mut again = vec![0; m.buffer_len()];
    m.emit(&mut again);
    assert_eq!(again, extended);
}
