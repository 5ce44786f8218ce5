//! Gratuitous ARP (and IPv6 unsolicited Neighbour Advertisements) through
//! an `AF_PACKET` socket.

use std::io;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, BorrowedFd};

use socket2::{Domain, SockAddr, Socket, Type};

use super::ndisc::{neighbour_advertisement, ETH_P_IPV6};
use super::LinuxError;

/// Length of the frames [`arp_announcement`] builds: Ethernet header (14)
/// and ARP for IPv4 over Ethernet (28), unpadded, as keepalived 2.2.7 hands
/// them to the kernel (a driver that needs the 60-byte minimum pads them).
pub const ARP_FRAME_LEN: usize = 42;

const ETH_P_ARP: u16 = 0x0806;
const BROADCAST: [u8; 6] = [0xff; 6];

/// Builds a gratuitous ARP request announcing `ip` at `mac`: Ethernet
/// broadcast, sender and target protocol address both `ip`, target hardware
/// address broadcast, as keepalived sends it.
pub fn arp_announcement(mac: [u8; 6], ip: Ipv4Addr) -> [u8; ARP_FRAME_LEN] {
    let mut f = [0u8; ARP_FRAME_LEN];
    f[0..6].copy_from_slice(&BROADCAST);
    f[6..12].copy_from_slice(&mac);
    f[12..14].copy_from_slice(&ETH_P_ARP.to_be_bytes());
    f[14..16].copy_from_slice(&1u16.to_be_bytes()); // hardware: Ethernet
    f[16..18].copy_from_slice(&0x0800u16.to_be_bytes()); // protocol: IPv4
    f[18] = 6; // hardware address length
    f[19] = 4; // protocol address length
    f[20..22].copy_from_slice(&1u16.to_be_bytes()); // op: request
    f[22..28].copy_from_slice(&mac);
    f[28..32].copy_from_slice(&ip.octets());
    f[32..38].copy_from_slice(&BROADCAST);
    f[38..42].copy_from_slice(&ip.octets());
    f
}

/// A send-only `AF_PACKET` socket aimed at one interface's broadcast address.
#[derive(Debug)]
pub struct GarpSocket {
    sock: Socket,
    dest: SockAddr,
    /// The same interface for IPv6 frames (the frame names its own
    /// destination MAC; the address gives the protocol).
    dest_v6: SockAddr,
}

impl GarpSocket {
    /// Opens the socket for interface `ifindex`. Protocol 0: it receives
    /// nothing, so no queue builds up.
    pub fn open(ifindex: u32) -> Result<Self, LinuxError> {
        let sock = Socket::new(Domain::PACKET, Type::RAW, None)
            .map_err(LinuxError::io("open packet socket"))?;
        sock.set_nonblocking(true)
            .map_err(LinuxError::io("set nonblocking"))?;
        let ifindex = i32::try_from(ifindex).map_err(|_| LinuxError::Io {
            op: "packet socket address",
            source: io::Error::from(io::ErrorKind::InvalidInput),
        })?;
        Ok(GarpSocket {
            sock,
            dest: link_layer_broadcast(ifindex, ETH_P_ARP),
            dest_v6: link_layer_broadcast(ifindex, ETH_P_IPV6),
        })
    }

    /// Sends one gratuitous ARP for `ip` with sender hardware address `mac`.
    pub fn send(&self, mac: [u8; 6], ip: Ipv4Addr) -> io::Result<()> {
        self.sock
            .send_to(&arp_announcement(mac, ip), &self.dest)
            .map(|_| ())
    }

    /// Sends one unsolicited Neighbour Advertisement for IPv6 address `ip`
    /// at `mac` (see [`neighbour_advertisement`]).
    pub fn send_na(&self, mac: [u8; 6], ip: Ipv6Addr, router: bool) -> io::Result<()> {
        self.sock
            .send_to(&neighbour_advertisement(mac, ip, router), &self.dest_v6)
            .map(|_| ())
    }
}

impl AsFd for GarpSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

/// The `sockaddr_ll` for Ethernet broadcast on `ifindex` with `ethertype`.
#[allow(unsafe_code)]
fn link_layer_broadcast(ifindex: i32, ethertype: u16) -> SockAddr {
    let mut sll_addr = [0u8; 8];
    sll_addr[..6].copy_from_slice(&BROADCAST);
    let ll = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as u16,
        sll_protocol: ethertype.to_be(),
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 6,
        sll_addr,
    };
    let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: sockaddr_storage is plain old data, so all-zero bytes are a
    // valid value; it is larger than sockaddr_ll and aligned for any socket
    // address, so writing one sockaddr_ll at its start stays in bounds and is
    // aligned; `len` is exactly the size of what was written there, and its
    // family (AF_PACKET) is the one of a sockaddr_ll, as `SockAddr::new`
    // requires.
    unsafe {
        let mut storage: libc::sockaddr_storage = std::mem::zeroed();
        std::ptr::write(
            (&mut storage as *mut libc::sockaddr_storage).cast::<libc::sockaddr_ll>(),
            ll,
        );
        SockAddr::new(storage, len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn announcement_bytes() {
        let mac = [0x00, 0x00, 0x5e, 0x00, 0x01, 0x33];
        let f = arp_announcement(mac, Ipv4Addr::new(192, 0, 2, 100));
        let expected: [u8; ARP_FRAME_LEN] = [
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x5e, 0x00, 0x01, 0x33, 0x08, 0x06,
            0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01, 0x00, 0x00, 0x5e, 0x00, 0x01, 0x33, 192, 0,
            2, 100, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 192, 0, 2, 100,
        ];
        assert_eq!(f, expected);
    }

    #[test]
    fn link_layer_address_fields() {
        let a = link_layer_broadcast(7, ETH_P_ARP);
        assert_eq!(a.family(), libc::AF_PACKET as libc::sa_family_t);
        assert_eq!(a.len() as usize, std::mem::size_of::<libc::sockaddr_ll>());
    }
}
