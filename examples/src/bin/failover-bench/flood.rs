//! The flood: invalid adverts at 50,000 per second against the master, and
//! how regular its own adverts stay meanwhile.

use std::time::{Duration, Instant, SystemTime};

use keepalived_lite::netns::wait_for_line;
use vrrp::auth::{AuthConfig, TxCounters};
use vrrp::linux::{IpProto, Netlink, RawSocket, RawSocketConfig, VRRP_MULTICAST};
use vrrp::wire::{self, AdvertRepr};

use crate::capture::{read_pcap, Frame};
use crate::lab::{config, Bench, Impl, R1, VIP};
use crate::timing::Timing;

/// What one flood run saw.
pub(crate) struct Flood {
    /// Worst deviation of r1's advert interval from 1 s, milliseconds.
    pub(crate) worst_ms: f64,
    /// r1's adverts seen by the observer around the flood.
    pub(crate) adverts: usize,
    /// Invalid datagrams sent.
    pub(crate) sent: u64,
    /// Whether r2 became master at any time.
    pub(crate) took_over: bool,
}

/// The three kinds of invalid advert: bad checksum, wrong password, TTL 64.
fn invalid_adverts() -> Result<[Vec<u8>; 3], String> {
    let vips = [std::net::Ipv4Addr::from(VIP)];
    let repr = AdvertRepr {
        src: std::net::Ipv4Addr::new(10, 0, 0, 7),
        dst: VRRP_MULTICAST,
        ttl: 255,
        vrid: 51,
        priority: 200,
        adver_int: 1,
        addresses: &vips,
    };
    let encode = |p: &str| -> Result<Vec<u8>, String> {
        let auth = AuthConfig::from_keepalived("PASS", p).map_err(|e| e.to_string())?;
        let mut buf = vec![0u8; wire::MAX_DATAGRAM_LEN];
        let n = wire::encode(&repr, &auth, &mut TxCounters::new(), &mut buf)
            .map_err(|e| e.to_string())?;
        buf.truncate(n);
        Ok(buf)
    };
    let mut bad_checksum = encode("secret1")?;
    bad_checksum[26] ^= 0xff;
    let mut bad_ttl = encode("secret1")?;
    bad_ttl[8] = 64;
    Ok([bad_checksum, encode("wrong")?, bad_ttl])
}

/// Sends the invalid adverts round robin from the flooder, paced at 50 per
/// millisecond for 10 s. Returns how many went out and the time span.
fn send_flood(b: &Bench) -> Result<(u64, SystemTime, SystemTime), String> {
    let kinds = invalid_adverts()?;
    let sock = b
        .lab
        .enter("fl", || -> Result<RawSocket, String> {
            let link = Netlink::open()
                .map_err(|e| e.to_string())?
                .link("eth0")
                .map_err(|e| e.to_string())?;
            RawSocket::open(RawSocketConfig {
                ifname: "eth0".into(),
                ifindex: link.index,
                proto: IpProto::Vrrp,
                multicast: false,
            })
            .map_err(|e| e.to_string())
        })
        .map_err(|e| e.to_string())??;
    let t0 = SystemTime::now();
    let begin = Instant::now();
    let mut sent = 0u64;
    let mut tick = 0u64;
    while begin.elapsed() < Duration::from_secs(10) {
        tick += 1;
        for i in 0..50u64 {
            let k = ((tick * 50 + i) % 3) as usize;
            if sock.send_to(&kinds[k], VRRP_MULTICAST).is_ok() {
                sent += 1;
            }
        }
        if let Some(w) =
            (begin + Duration::from_millis(tick)).checked_duration_since(Instant::now())
        {
            std::thread::sleep(w);
        }
    }
    Ok((sent, t0, SystemTime::now()))
}

/// One flood run against `which` (VRRPv2 with PASS, advert_int 1).
pub(crate) fn flood_run(b: &mut Bench, which: Impl) -> Result<Flood, String> {
    b.clear_vip();
    let pcap = b.dir.join(format!("{which:?}-flood.pcap"));
    let filter = ["ip", "proto", "112", "and", "src", "host", "10.0.0.1"];
    let dump = b.capture(&pcap, &filter)?;
    let timing = Timing::new(2, "1")?;
    let pass = "  authentication {\n    auth_type PASS\n    auth_pass secret1\n  }\n";
    let (p1, log1) = b.start("r1", which, &config("r1", 150, timing, pass), "flood")?;
    wait_for_line(&log1, "Entering MASTER STATE", Duration::from_secs(30))
        .ok_or("r1 never became master")?;
    let (p2, log2) = b.start("r2", which, &config("r2", 100, timing, pass), "flood")?;
    wait_for_line(&log2, "Entering BACKUP STATE", Duration::from_secs(30))
        .ok_or("r2 never became backup")?;
    std::thread::sleep(Duration::from_millis(1500));
    let (sent, t0, t1) = send_flood(b)?;
    std::thread::sleep(Duration::from_millis(1500));
    let took_over = wait_for_line(&log2, "Entering MASTER STATE", Duration::ZERO).is_some();
    b.lab.stop(p2, Duration::from_secs(5));
    b.lab.stop(p1, Duration::from_secs(5));
    b.lab.stop(dump, Duration::from_secs(5));
    let secs = |t: SystemTime| {
        t.duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0)
    };
    let (from, to) = (secs(t0), secs(t1));
    let times: Vec<f64> = read_pcap(&pcap)?
        .iter()
        .filter_map(|f| match *f {
            Frame::Advert { t, src, prio }
                if src == R1 && prio == 150 && t >= from - 1.0 && t <= to + 1.0 =>
            {
                Some(t)
            }
            _ => None,
        })
        .collect();
    let worst = times
        .windows(2)
        .map(|w| ((w[1] - w[0]) - 1.0).abs())
        .fold(0.0, f64::max);
    Ok(Flood {
        worst_ms: worst * 1e3,
        adverts: times.len(),
        sent,
        took_over,
    })
}
