//! A packet flood for load tests: one pre-built IPv4 datagram sent as fast
//! as the machine allows from threads inside a namespace.
//!
//! Why a packet socket and `sendmmsg`: a raw IP socket pays a route lookup
//! and the IP output path per datagram, and one syscall each; here the
//! Ethernet frame is built once and every syscall hands the kernel a batch
//! of [`BATCH`] copies of it. On a loaded 2-core machine that is the
//! difference between under and over 100k frames/s.
//!
//! The rate a test should quote is what the receiver saw: [`rx_packets`]
//! reads the receiving interface's counter (deltas over the flood window).

use std::io::{self, IoSlice};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

use nix::sys::socket::{
    sendmmsg, socket, AddressFamily, MsgFlags, MultiHeaders, SockFlag, SockType,
};

use crate::netns::Netns;

/// Frames handed to the kernel per `sendmmsg` call.
pub const BATCH: usize = 64;

/// `ETH_P_IP`, the EtherType of IPv4.
const ETH_P_IP: u16 = 0x0800;

/// Flooding threads; stopped and joined by [`Flood::stop`] or on drop.
#[derive(Debug)]
pub struct Flood {
    stop: Arc<AtomicBool>,
    sent: Arc<AtomicU64>,
    threads: Vec<JoinHandle<io::Result<io::Result<()>>>>,
}

impl Flood {
    /// Starts `threads` senders in `ns` that send `datagram` (a whole IPv4
    /// datagram, header checksum filled in) out of `ifname` without pacing.
    /// The Ethernet destination is the IPv4 multicast MAC of the
    /// datagram's destination (RFC 1112), or broadcast for a unicast one;
    /// the source is `ifname`'s own MAC, so the bridge learns nothing new.
    pub fn start(ns: &Netns, ifname: &str, datagram: &[u8], threads: usize) -> io::Result<Flood> {
        Flood::start_to(ns, ifname, None, datagram, threads)
    }

    /// [`Flood::start`] with the frames addressed to `dst_mac` when given
    /// (see [`mac_address`]): a bridge then hands them to that one port
    /// only, and the flood's whole cost goes to the receiver under test
    /// instead of to every node on the LAN.
    pub fn start_to(
        ns: &Netns,
        ifname: &str,
        dst_mac: Option<[u8; 6]>,
        datagram: &[u8],
        threads: usize,
    ) -> io::Result<Flood> {
        let link = ns.ip_json(&["link", "show", "dev", ifname])?;
        let ifindex = link[0]["ifindex"]
            .as_i64()
            .and_then(|i| i32::try_from(i).ok())
            .ok_or_else(|| io::Error::other(format!("no ifindex for {ifname}")))?;
        let frame = ethernet_frame(&link, ifname, dst_mac, datagram)?;
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(AtomicU64::new(0));
        let mut flood = Flood {
            stop: stop.clone(),
            sent: sent.clone(),
            threads: Vec::new(),
        };
        for _ in 0..threads {
            let (frame, stop, sent) = (frame.clone(), stop.clone(), sent.clone());
            // Dropping `flood` on an error stops the threads already started.
            let t = ns.spawn_thread(move || send_loop(ifindex, &frame, &stop, &sent))?;
            flood.threads.push(t);
        }
        Ok(flood)
    }

    /// Frames the kernel accepted so far (all threads).
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    /// Stops and joins the senders; the total sent, or the first error a
    /// sender met (it stops that sender only).
    pub fn stop(mut self) -> io::Result<u64> {
        self.join()?;
        Ok(self.sent())
    }

    fn join(&mut self) -> io::Result<()> {
        self.stop.store(true, Ordering::Relaxed);
        let mut result = Ok(());
        for t in self.threads.drain(..) {
            let r = t
                .join()
                .map_err(|_| io::Error::other("flood thread panicked"))
                .and_then(|r| r.and_then(|r| r));
            if result.is_ok() {
                result = r;
            }
        }
        result
    }
}

impl Drop for Flood {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// One sender: a packet socket bound to `ifindex`, batches until `stop`.
fn send_loop(ifindex: i32, frame: &[u8], stop: &AtomicBool, sent: &AtomicU64) -> io::Result<()> {
    let sock = packet_socket(ifindex)?;
    let iovs: Vec<[IoSlice<'_>; 1]> = (0..BATCH).map(|_| [IoSlice::new(frame)]).collect();
    let addrs: Vec<Option<()>> = vec![None; BATCH];
    let mut headers = MultiHeaders::<()>::preallocate(BATCH, None);
    while !stop.load(Ordering::Relaxed) {
        let fd = sock.as_raw_fd();
        match sendmmsg(fd, &mut headers, &iovs, &addrs, [], MsgFlags::empty()) {
            Ok(results) => {
                sent.fetch_add(results.count() as u64, Ordering::Relaxed);
            }
            // A full transmit queue or buffer: try again, as a flood does.
            Err(nix::errno::Errno::ENOBUFS | nix::errno::Errno::EAGAIN) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// A send-only `AF_PACKET` raw socket bound to `ifindex` (protocol 0: it
/// receives nothing, so the flood does not queue copies to itself).
fn packet_socket(ifindex: i32) -> io::Result<OwnedFd> {
    let fd = socket(
        AddressFamily::Packet,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        None,
    )?;
    // nix has no safe constructor of a `sockaddr_ll`, hence libc here.
    let sll = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: 0,
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `sll` is a fully initialised sockaddr_ll that outlives the
    // call, and `len` is its size; `fd` is an open socket we own.
    let rc = unsafe { libc::bind(fd.as_raw_fd(), std::ptr::addr_of!(sll).cast(), len) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

/// `datagram` behind an Ethernet header from `link` (`ip -j link show`
/// of `ifname`) to `dst_mac`, or else the MAC its IPv4 destination maps to.
fn ethernet_frame(
    link: &serde_json::Value,
    ifname: &str,
    dst_mac: Option<[u8; 6]>,
    datagram: &[u8],
) -> io::Result<Vec<u8>> {
    let dst = datagram
        .get(16..20)
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(Ipv4Addr::from)
        .ok_or_else(|| io::Error::other("not an IPv4 datagram"))?;
    let dst_mac = if let Some(mac) = dst_mac {
        mac
    } else if dst.is_multicast() {
        let o = dst.octets();
        [0x01, 0x00, 0x5e, o[1] & 0x7f, o[2], o[3]]
    } else {
        [0xff; 6]
    };
    let src_mac = mac_of(link, ifname)?;
    let mut frame = Vec::with_capacity(14 + datagram.len());
    frame.extend_from_slice(&dst_mac);
    frame.extend_from_slice(&src_mac);
    frame.extend_from_slice(&ETH_P_IP.to_be_bytes());
    frame.extend_from_slice(datagram);
    Ok(frame)
}

/// The MAC address of `ifname` in `ns`.
pub fn mac_address(ns: &Netns, ifname: &str) -> io::Result<[u8; 6]> {
    mac_of(&ns.ip_json(&["link", "show", "dev", ifname])?, ifname)
}

fn mac_of(link: &serde_json::Value, ifname: &str) -> io::Result<[u8; 6]> {
    link[0]["address"]
        .as_str()
        .and_then(parse_mac)
        .ok_or_else(|| io::Error::other(format!("no MAC address on {ifname}")))
}

fn parse_mac(s: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = s.split(':');
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// Packets `ifname` in `ns` has received so far (its `rx_packets`
/// counter, from `ip -s -j link`).
pub fn rx_packets(ns: &Netns, ifname: &str) -> io::Result<u64> {
    let link = ns.ip_json(&["-s", "link", "show", "dev", ifname])?;
    link[0]["stats64"]["rx"]["packets"]
        .as_u64()
        .ok_or_else(|| io::Error::other(format!("no rx_packets for {ifname}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netns::{require_root, Lab};
    use std::time::{Duration, Instant};

    /// A minimal IPv4 datagram (protocol 253, "for experimentation")
    /// from `src` to `dst`, header checksum filled.
    fn datagram(src: Ipv4Addr, dst: Ipv4Addr) -> Vec<u8> {
        let mut d = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, 253, 0, 0];
        d.extend_from_slice(&src.octets());
        d.extend_from_slice(&dst.octets());
        let sum: u32 = d
            .chunks(2)
            .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
            .sum();
        let folded = (sum & 0xffff) + (sum >> 16);
        let check = !(((folded & 0xffff) + (folded >> 16)) as u16);
        d[10..12].copy_from_slice(&check.to_be_bytes());
        d.extend_from_slice(&[0; 8]); // payload
        d
    }

    /// `Ip: InUnknownProtos` of `node`'s namespace: datagrams delivered
    /// locally for a protocol nothing handles (the test's 253).
    fn unknown_protos(lab: &Lab, node: &str) -> u64 {
        let out = lab.run(node, "cat", &["/proc/net/snmp"]).expect("snmp");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut ip = text.lines().filter(|l| l.starts_with("Ip: "));
        let (names, values) = (ip.next().expect("names"), ip.next().expect("values"));
        let i = names
            .split_whitespace()
            .position(|n| n == "InUnknownProtos")
            .expect("InUnknownProtos");
        values
            .split_whitespace()
            .nth(i)
            .and_then(|v| v.parse().ok())
            .expect("a number")
    }

    #[test]
    fn root_netns_a_flood_reaches_its_receiver_frame_for_frame() {
        require_root();
        let mut lab = Lab::new().expect("lab");
        let (a, b) = (Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2));
        lab.add_node("a", a, 24).expect("node a");
        lab.add_node("b", b, 24).expect("node b");
        let mac = mac_address(lab.netns("b"), "eth0").expect("mac");
        let before = rx_packets(lab.netns("b"), "eth0").expect("rx");
        let unknown_before = unknown_protos(&lab, "b");
        let flood =
            Flood::start_to(lab.netns("a"), "eth0", Some(mac), &datagram(a, b), 1).expect("flood");
        let deadline = Instant::now() + Duration::from_secs(30);
        while flood.sent() < 10_000 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let sent = flood.stop().expect("stop");
        assert!(sent >= 10_000, "only {sent} frames sent");
        // Every frame arrived and was taken for what it is; the link
        // counter also saw whatever else the namespaces said meanwhile.
        assert_eq!(unknown_protos(&lab, "b") - unknown_before, sent);
        let received = rx_packets(lab.netns("b"), "eth0").expect("rx") - before;
        assert!(received >= sent, "{received} received, {sent} sent");
    }

    #[test]
    fn macs_are_parsed_exactly() {
        assert_eq!(
            parse_mac("02:ab:00:10:ff:7e"),
            Some([0x02, 0xab, 0x00, 0x10, 0xff, 0x7e])
        );
        assert_eq!(parse_mac("02:ab:00:10:ff"), None);
        assert_eq!(parse_mac("02:ab:00:10:ff:7e:01"), None);
        assert_eq!(parse_mac("02:ab:00:10:ff:zz"), None);
    }
}
