//! vrrp-inspect's work: every VRRP or AH packet of a pcap capture as one
//! JSON object, with the verdict our receiver would give it (see the
//! binary's documentation). A library module so that the fuzz target
//! `pcap_inspect` reads captures exactly as the binary does.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, Ipv6Addr};

use pcap_file::pcap::PcapReader;
use pcap_file::DataLink;
use serde_json::{json, Value};
use vrrp::auth::{AhReplay, AuthConfig};
use vrrp::wire::{self, ah, ipv4, vrrp as vrrp_msg, Ipv6Meta, RecvOptions, RecvOptionsV3};

/// How adverts are checked.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// keepalived's auth_pass (truncated to 8 bytes like keepalived).
    pub auth_pass: Option<String>,
    /// Expected authentication type (default: the packet's own when
    /// `auth_pass` is given, else none).
    pub auth_type: Option<Kind>,
    /// The routers use unicast peers: do not require TTL (hop limit) 255.
    pub unicast: bool,
}

/// An authentication type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// No authentication.
    None,
    /// keepalived's PASS.
    Pass,
    /// keepalived's AH (HMAC-MD5-96).
    Ah,
}

/// Reads the capture from `input` and writes one JSON object per VRRP or
/// AH packet, one per line, to `out`. Fails if the capture cannot be read
/// (or `out` written); a bad packet only gets its verdict.
pub fn inspect(
    input: impl Read,
    opts: &Options,
    out: &mut impl Write,
) -> Result<(), Box<dyn std::error::Error>> {
    let mut reader = PcapReader::new(input)?;
    let link = reader.header().datalink;
    let configs = Configs::new(opts);
    let mut replay: HashMap<u8, AhReplay> = HashMap::new();
    while let Some(pkt) = reader.next_packet() {
        let pkt = pkt?;
        let Some((family, ip)) = ip_datagram(link, &pkt.data) else {
            continue;
        };
        if family == Family::V6 {
            if let Some(obj) = inspect_v6(ip, opts.unicast) {
                writeln!(out, "{}", Value::Object(obj))?;
            }
            continue;
        }
        if ip.len() < ipv4::HEADER_LEN || ![wire::IPPROTO_VRRP, wire::IPPROTO_AH].contains(&ip[9]) {
            continue;
        }
        let fields = describe(ip);
        let vrid = fields.get("vrid").and_then(Value::as_u64).unwrap_or(0) as u8;
        let auth = configs.pick(&fields);
        let v2_opts = RecvOptions {
            unicast: opts.unicast,
            ..RecvOptions::default()
        };
        let v3_opts = RecvOptionsV3 {
            unicast: opts.unicast,
            ..RecvOptionsV3::default()
        };
        let decoded = if fields.get("version").and_then(Value::as_u64) == Some(3) {
            wire::decode_v3(ip, &v3_opts).map(|_| ())
        } else {
            wire::decode(ip, &v2_opts, auth, replay.entry(vrid).or_default()).map(|_| ())
        };
        let verdict = match decoded {
            Ok(()) => "valid",
            Err(reason) => reason.as_str(),
        };
        let mut obj = fields;
        obj.insert("verdict".into(), json!(verdict));
        writeln!(out, "{}", Value::Object(obj))?;
    }
    Ok(())
}

/// The three possible receiver configurations for one password.
struct Configs {
    forced: Option<Kind>,
    none: AuthConfig,
    pass: AuthConfig,
    ah: AuthConfig,
    have_pass: bool,
}

impl Configs {
    fn new(opts: &Options) -> Self {
        let pw = opts.auth_pass.as_deref().unwrap_or("").as_bytes();
        Configs {
            forced: opts.auth_type,
            none: AuthConfig::None,
            pass: AuthConfig::pass(pw),
            ah: AuthConfig::ah(pw),
            have_pass: opts.auth_pass.is_some(),
        }
    }

    fn pick(&self, fields: &serde_json::Map<String, Value>) -> &AuthConfig {
        let kind = match (self.forced, self.have_pass) {
            (Some(k), _) => k,
            (None, false) => Kind::None,
            (None, true) => match fields.get("auth_type").and_then(Value::as_str) {
                Some("pass") => Kind::Pass,
                Some("ah") => Kind::Ah,
                _ => Kind::None,
            },
        };
        match kind {
            Kind::None => &self.none,
            Kind::Pass => &self.pass,
            Kind::Ah => &self.ah,
        }
    }
}

/// The IP family of a datagram.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    V4,
    V6,
}

/// The IP datagram inside a link-layer frame, link padding removed.
fn ip_datagram(link: DataLink, frame: &[u8]) -> Option<(Family, &[u8])> {
    let (ethertype_at, ip_at) = match link {
        DataLink::ETHERNET => (12, 14),
        DataLink::LINUX_SLL => (14, 16),
        DataLink::IPV4 => return Some((Family::V4, trim(frame))),
        DataLink::IPV6 => return Some((Family::V6, trim_v6(frame))),
        DataLink::RAW => {
            return match frame.first().map(|b| b >> 4) {
                Some(6) => Some((Family::V6, trim_v6(frame))),
                _ => Some((Family::V4, trim(frame))),
            }
        }
        _ => return None,
    };
    let mut et = frame.get(ethertype_at..ethertype_at + 2)?;
    let mut ip_at = ip_at;
    if link == DataLink::ETHERNET && et == [0x81, 0x00] {
        // One 802.1Q tag.
        et = frame.get(16..18)?;
        ip_at = 18;
    }
    let ip = &frame[ip_at.min(frame.len())..];
    match et {
        [0x08, 0x00] => Some((Family::V4, trim(ip))),
        [0x86, 0xdd] => Some((Family::V6, trim_v6(ip))),
        _ => None,
    }
}

/// Length of the fixed IPv6 header.
const IPV6_HEADER_LEN: usize = 40;

/// Drops link-layer padding after the IPv6 payload length.
fn trim_v6(ip: &[u8]) -> &[u8] {
    match ip.get(4..6) {
        Some(l) if ip.len() >= IPV6_HEADER_LEN => {
            let total = IPV6_HEADER_LEN + usize::from(u16::from_be_bytes([l[0], l[1]]));
            &ip[..total.min(ip.len())]
        }
        _ => ip,
    }
}

/// An IPv6 datagram whose next header is VRRP: its fields and verdict
/// (`None` for anything else, extension headers included).
fn inspect_v6(ip: &[u8], unicast: bool) -> Option<serde_json::Map<String, Value>> {
    let header = ip.get(..IPV6_HEADER_LEN)?;
    if header[6] != wire::IPPROTO_VRRP {
        return None;
    }
    let addr = |at: usize| -> Option<Ipv6Addr> {
        let b: [u8; 16] = header.get(at..at + 16)?.try_into().ok()?;
        Some(Ipv6Addr::from(b))
    };
    let meta = Ipv6Meta {
        src: addr(8)?,
        dst: addr(24)?,
        hop_limit: header[7],
    };
    let payload = &ip[IPV6_HEADER_LEN..];
    let mut m = serde_json::Map::new();
    m.insert("src".into(), json!(meta.src.to_string()));
    m.insert("dst".into(), json!(meta.dst.to_string()));
    m.insert("hop_limit".into(), json!(meta.hop_limit));
    describe_vrrp(payload, 16, &mut m);
    let opts = RecvOptionsV3 {
        unicast,
        ..RecvOptionsV3::default()
    };
    let verdict = match wire::decode_v6(payload, &meta, &opts) {
        Ok(_) => "valid",
        Err(reason) => reason.as_str(),
    };
    m.insert("verdict".into(), json!(verdict));
    Some(m)
}

/// Drops link-layer padding after the IP total length (never extends).
fn trim(ip: &[u8]) -> &[u8] {
    match ip.get(2..4) {
        Some(l) if ip.len() >= ipv4::HEADER_LEN => {
            let total = usize::from(u16::from_be_bytes([l[0], l[1]]));
            &ip[..total.clamp(ipv4::HEADER_LEN, ip.len())]
        }
        _ => ip,
    }
}

/// Whatever header fields the datagram holds, even if it is malformed.
fn describe(ip: &[u8]) -> serde_json::Map<String, Value> {
    let mut m = serde_json::Map::new();
    let h = ipv4::Packet::new_unchecked(ip);
    m.insert("src".into(), json!(h.src_addr().to_string()));
    m.insert("dst".into(), json!(h.dst_addr().to_string()));
    m.insert("ttl".into(), json!(h.ttl()));
    m.insert("ip_id".into(), json!(h.ident()));
    let hl = h.header_len().max(ipv4::HEADER_LEN);
    let mut body = ip.get(hl..).unwrap_or(&[]);
    let is_ah = h.protocol() == wire::IPPROTO_AH;
    if is_ah {
        if body.len() >= ah::HEADER_LEN {
            let a = ah::Packet::new_unchecked(body);
            m.insert("ah_seq".into(), json!(a.seq()));
            body = &body[ah::HEADER_LEN..];
        } else {
            body = &[];
        }
    }
    describe_vrrp(body, 4, &mut m);
    m
}

/// The VRRP header fields of `body` (`addr_len`-byte addresses), nulls
/// if it is too short for a header.
fn describe_vrrp(body: &[u8], addr_len: usize, m: &mut serde_json::Map<String, Value>) {
    if body.len() < vrrp_msg::HEADER_LEN {
        for k in [
            "version",
            "vrid",
            "priority",
            "auth_type",
            "adver_int",
            "addresses",
        ] {
            m.insert(k.into(), Value::Null);
        }
        return;
    }
    let v = vrrp_msg::Packet::new_unchecked(body);
    m.insert("version".into(), json!(v.version()));
    m.insert("vrid".into(), json!(v.vrid()));
    m.insert("priority".into(), json!(v.priority()));
    if v.version() == 3 {
        m.insert("max_adver_int".into(), json!(v.max_adver_int()));
    } else {
        m.insert("auth_type".into(), json!(v.auth_type().as_str()));
        m.insert("adver_int".into(), json!(v.adver_int_v2()));
    }
    let end = (vrrp_msg::HEADER_LEN + addr_len * usize::from(v.addr_count())).min(body.len());
    let list = &body[vrrp_msg::HEADER_LEN..end];
    let addrs: Vec<String> = if addr_len == 16 {
        list.chunks_exact(16)
            .filter_map(|c| <[u8; 16]>::try_from(c).ok())
            .map(|b| Ipv6Addr::from(b).to_string())
            .collect()
    } else {
        vrrp_msg::Addresses::from_bytes(list)
            .iter()
            .map(|a: Ipv4Addr| a.to_string())
            .collect()
    };
    m.insert("addresses".into(), json!(addrs));
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.
mod tests {
    use super::*;

    const NONE_PCAP: &[u8] = include_bytes!("../../vrrp/tests/captures/none.pcap");

    #[test]
    fn one_line_per_advert_then_an_error_for_a_cut_file() {
        let mut out = Vec::new();
        inspect(NONE_PCAP, &Options::default(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert_eq!(text.lines().count(), 8);
        let first: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["verdict"], "valid");
        assert_eq!(first["priority"], 150);
        // Cut inside the second packet (file header, one 58-byte packet
        // with its record header, then 10 bytes of the second): the first
        // line, then the error.
        let mut out = Vec::new();
        let cut = &NONE_PCAP[..24 + 16 + 58 + 16 + 10];
        assert!(inspect(cut, &Options::default(), &mut out).is_err());
        assert_eq!(out.iter().filter(|b| **b == b'\n').count(), 1);
        assert!(inspect(&b"not a pcap"[..], &Options::default(), &mut Vec::new()).is_err());
    }
}
