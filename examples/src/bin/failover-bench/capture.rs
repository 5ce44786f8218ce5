//! The observer's capture: VRRP adverts and ARPs with their timestamps, and
//! the takeover times measured from them.

use std::path::Path;

/// One captured frame that matters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Frame {
    /// A VRRP advert (v2 or v3: the priority sits at the same offset).
    Advert {
        /// Capture time, seconds since the epoch.
        t: f64,
        /// IPv4 source.
        src: [u8; 4],
        /// Advertised priority.
        prio: u8,
    },
    /// An ARP packet.
    Arp {
        /// Capture time, seconds since the epoch.
        t: f64,
        /// Sender protocol address.
        sender: [u8; 4],
    },
}

/// Reads the adverts and ARPs of a pcap written by tcpdump.
pub(crate) fn read_pcap(path: &Path) -> Result<Vec<Frame>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut reader = pcap_file::pcap::PcapReader::new(file).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(pkt) = reader.next_packet() {
        let Ok(pkt) = pkt else { break };
        if let Some(frame) = parse_frame(pkt.timestamp.as_secs_f64(), &pkt.data) {
            out.push(frame);
        }
    }
    Ok(out)
}

/// An Ethernet frame as an advert or ARP, `None` for anything else.
fn parse_frame(t: f64, d: &[u8]) -> Option<Frame> {
    match d.get(12..14)? {
        [0x08, 0x00] => {
            let ip = d.get(14..)?;
            let ihl = usize::from(ip.first()? & 0x0f) * 4;
            if ip.get(9) != Some(&112) {
                return None;
            }
            let src = <[u8; 4]>::try_from(ip.get(12..16)?).ok()?;
            let prio = *ip.get(ihl + 2)?;
            Some(Frame::Advert { t, src, prio })
        }
        [0x08, 0x06] => {
            let sender = <[u8; 4]>::try_from(d.get(28..32)?).ok()?;
            Some(Frame::Arp { t, sender })
        }
        _ => None,
    }
}

/// How the master was stopped.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Stop {
    /// SIGTERM: the master sends priority 0 and leaves.
    Graceful,
    /// SIGKILL: the master falls silent.
    Crash,
}

/// Who is who in a capture, and what the protocol allows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Roles {
    /// The master that is stopped.
    pub(crate) master: [u8; 4],
    /// The backup that takes over.
    pub(crate) backup: [u8; 4],
    /// The virtual address whose gratuitous ARP follows the takeover.
    pub(crate) vip: [u8; 4],
    /// Prescribed delay after a priority-0 advert (Skew_Time), seconds.
    pub(crate) skew: f64,
    /// Prescribed delay after the last advert (Master_Down_Interval), seconds.
    pub(crate) master_down: f64,
}

/// (overhead, GARP delay) in seconds for one capture: the backup's first
/// advert after the reference (the master's priority-0 advert, or its last
/// advert after a crash) minus the reference minus the prescribed delay;
/// then the backup's first gratuitous ARP for the VIP minus that advert.
pub(crate) fn measure(frames: &[Frame], stop: Stop, roles: &Roles) -> Result<(f64, f64), String> {
    let adverts = |who: [u8; 4]| {
        frames.iter().filter_map(move |f| match *f {
            Frame::Advert { t, src, prio } if src == who => Some((t, prio)),
            _ => None,
        })
    };
    let reference = match stop {
        Stop::Graceful => adverts(roles.master)
            .find(|&(_, p)| p == 0)
            .map(|(t, _)| t)
            .ok_or("no priority-0 advert from the master")?,
        Stop::Crash => adverts(roles.master)
            .map(|(t, _)| t)
            .next_back()
            .ok_or("no advert from the master")?,
    };
    let takeover = adverts(roles.backup)
        .map(|(t, _)| t)
        .find(|&t| t > reference)
        .ok_or("no advert from the backup after the master stopped")?;
    let garp = frames
        .iter()
        .find_map(|f| match *f {
            Frame::Arp { t, sender } if sender == roles.vip && t >= takeover => Some(t),
            _ => None,
        })
        .ok_or("no gratuitous ARP for the VIP after the takeover")?;
    let expected = match stop {
        Stop::Graceful => roles.skew,
        Stop::Crash => roles.master_down,
    };
    Ok((takeover - reference - expected, garp - takeover))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests: a panic is a failure
    use super::*;

    const M: [u8; 4] = [10, 0, 0, 1];
    const B: [u8; 4] = [10, 0, 0, 2];
    const VIP: [u8; 4] = [10, 0, 0, 100];
    const ROLES: Roles = Roles {
        master: M,
        backup: B,
        vip: VIP,
        skew: 0.25,
        master_down: 1.0,
    };

    fn advert(t: f64, src: [u8; 4], prio: u8) -> Frame {
        Frame::Advert { t, src, prio }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn graceful_counts_from_the_priority_zero_advert() {
        let frames = [
            advert(10.0, M, 150),
            advert(11.0, M, 0),
            Frame::Arp { t: 11.0, sender: M },
            advert(11.3, B, 100),
            Frame::Arp {
                t: 11.301,
                sender: VIP,
            },
        ];
        let (over, garp) = measure(&frames, Stop::Graceful, &ROLES).unwrap();
        assert!(close(over, 0.05), "{over}");
        assert!(close(garp, 0.001), "{garp}");
    }

    #[test]
    fn crash_counts_from_the_last_advert() {
        let frames = [
            advert(9.0, B, 100),
            advert(10.0, M, 150),
            advert(10.5, M, 150),
            advert(11.502, B, 100),
            Frame::Arp {
                t: 11.5025,
                sender: VIP,
            },
        ];
        let (over, garp) = measure(&frames, Stop::Crash, &ROLES).unwrap();
        assert!(close(over, 0.002), "{over}");
        assert!(close(garp, 0.0005), "{garp}");
    }

    #[test]
    fn missing_frames_are_errors() {
        let no_zero = [advert(10.0, M, 150), advert(11.0, B, 100)];
        assert!(measure(&no_zero, Stop::Graceful, &ROLES).is_err());
        let no_garp = [advert(10.0, M, 150), advert(11.0, B, 100)];
        assert!(measure(&no_garp, Stop::Crash, &ROLES).is_err());
        assert!(measure(&[], Stop::Crash, &ROLES).is_err());
    }

    #[test]
    fn frames_parse_by_ethertype_and_protocol() {
        let mut v3 = vec![0u8; 14 + 20 + 12];
        v3[12..14].copy_from_slice(&[0x08, 0x00]);
        v3[14] = 0x45;
        v3[14 + 9] = 112;
        v3[14 + 12..14 + 16].copy_from_slice(&M);
        v3[14 + 20] = 0x31; // version 3, type 1
        v3[14 + 22] = 150;
        assert_eq!(parse_frame(1.5, &v3), Some(advert(1.5, M, 150)));
        v3[14 + 9] = 6;
        assert_eq!(parse_frame(1.5, &v3), None);
        let mut arp = vec![0u8; 42];
        arp[12..14].copy_from_slice(&[0x08, 0x06]);
        arp[28..32].copy_from_slice(&VIP);
        assert_eq!(
            parse_frame(2.0, &arp),
            Some(Frame::Arp {
                t: 2.0,
                sender: VIP
            })
        );
        assert_eq!(parse_frame(2.0, &arp[..20]), None);
    }
}
