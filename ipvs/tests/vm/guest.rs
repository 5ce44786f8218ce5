//! Guest side: the checks, run against the VM's kernel. Each returns
//! `Err(reason)` on a mismatch; `run` prints one verdict line per check.

use std::fmt::Write as _;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};

use ipvs::ipvsadm::{format_save, parse_rules};
use ipvs::*;

type Check = fn() -> Result<(), String>;

pub const CHECKS: &[(&str, Check)] = &[
    ("info", check_info),
    ("ipv4_services_and_all_forwarding", check_ipv4),
    ("ipv6_fwmark_mixed_family", check_ipv6_fwmark_mixed),
    ("every_scheduler_and_flags", check_schedulers),
    ("tunnel_types", check_tunnels),
    ("errors_map_errno", check_errors),
    ("stats_and_zero", check_stats_zero),
    ("timeouts", check_timeouts),
    ("sync_daemons", check_daemons),
    ("batch_reports_each_error", check_batch_errors),
    ("reconcile_sends_only_changes", check_reconcile),
    ("save_identical_1000_services", check_save_1000),
    ("restore_matches_ipvsadm", check_restore),
    ("op_display_is_ipvsadm_input", check_op_display),
    ("save_of_a_desired_table", check_save_desired),
    ("flush", check_flush),
    ("network_namespace", check_netns),
    ("capture_vectors", check_capture),
];

pub fn run() -> i32 {
    let mut failed = 0;
    for (name, check) in CHECKS {
        let r = std::panic::catch_unwind(check).unwrap_or_else(|_| Err("panicked".into()));
        match r {
            Ok(()) => println!("VMTEST ok {name}"),
            Err(e) => {
                failed += 1;
                println!("VMTEST FAIL {name}: {}", e.replace('\n', "\\n"));
            }
        }
        let _ = io::stdout().flush();
    }
    println!("VMTEST summary: {} checks, {failed} failed", CHECKS.len());
    i32::from(failed > 0)
}

fn ipvs() -> Result<Ipvs, String> {
    Ipvs::connect().map_err(|e| format!("connect: {e}"))
}

fn sh(cmd: &str, stdin: Option<&str>) -> Result<String, String> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .map_err(|e| e.to_string())?;
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "{cmd} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The table as the API reports it must print exactly as ipvsadm saves it.
fn same_as_ipvsadm(ipvs: &mut Ipvs) -> Result<String, String> {
    let table = ipvs.table().map_err(|e| format!("table: {e}"))?;
    let ours = format_save(&table);
    let theirs = sh("ipvsadm -S -n", None)?;
    if ours != theirs {
        return Err(format!(
            "API/ipvsadm differ:\n--- api\n{ours}--- ipvsadm\n{theirs}"
        ));
    }
    Ok(ours)
}

fn eq<T: std::fmt::Debug + PartialEq>(what: &str, got: T, want: T) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn reset(ipvs: &mut Ipvs) -> Result<(), String> {
    ipvs.flush().map_err(|e| format!("flush: {e}"))
}

fn check_info() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    let info = ipvs.info().map_err(|e| e.to_string())?;
    eq("version", info.version, 0x010201)?;
    let first = sh("ipvsadm -L -n", None)?;
    eq(
        "banner",
        first.lines().next().unwrap_or(""),
        info.to_string().as_str(),
    )
}

fn check_ipv4() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    reset(&mut ipvs)?;
    let key = ServiceKey::tcp(sa("10.0.0.1:80"));
    let mut svc = Service::new(key, "rr");
    ipvs.add_service(&svc).map_err(|e| format!("add: {e}"))?;
    let got = ipvs.get_service(&key).map_err(|e| format!("get: {e}"))?;
    eq("service", &got.service, &svc)?;
    same_as_ipvsadm(&mut ipvs)?;
    let mut masq = Destination::new(sa("127.0.0.2:8080"), Forward::Masq);
    masq.weight = 3;
    masq.upper_threshold = 100;
    masq.lower_threshold = 10;
    let dr = Destination::new(sa("10.1.0.2:80"), Forward::DirectRoute);
    let tun = Destination::new(sa("10.1.0.3:80"), Forward::Tunnel);
    for d in [&masq, &dr, &tun] {
        ipvs.add_dest(&key, d)
            .map_err(|e| format!("add dest {}: {e}", d.addr))?;
        same_as_ipvsadm(&mut ipvs)?;
    }
    let dests: Vec<Destination> = ipvs
        .dests(&key)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|e| e.dest)
        .collect();
    eq("dest count", dests.len(), 3)?;
    for d in [&masq, &dr, &tun] {
        if !dests.contains(d) {
            return Err(format!("dest {d:?} not read back: {dests:?}"));
        }
    }
    // Thresholds are not in ipvsadm's save format: cross-check the listing.
    let thr = sh("ipvsadm -L -n --thresholds", None)?;
    if !thr.lines().any(|l| {
        l.contains("127.0.0.2:8080")
            && l.split_whitespace().collect::<Vec<_>>()[2..4] == ["100", "10"]
    }) {
        return Err(format!("thresholds not in ipvsadm listing:\n{thr}"));
    }
    svc.scheduler = "wlc".into();
    svc.flags = ServiceFlags::PERSISTENT;
    svc.timeout = 600;
    svc.netmask = 0xffff_ff00;
    ipvs.edit_service(&svc).map_err(|e| format!("edit: {e}"))?;
    eq(
        "edited",
        ipvs.get_service(&key).map_err(|e| e.to_string())?.service,
        svc.clone(),
    )?;
    same_as_ipvsadm(&mut ipvs)?;
    masq.weight = 0;
    ipvs.edit_dest(&key, &masq)
        .map_err(|e| format!("edit dest: {e}"))?;
    same_as_ipvsadm(&mut ipvs)?;
    ipvs.del_dest(&key, &dr.addr)
        .map_err(|e| format!("del dest: {e}"))?;
    same_as_ipvsadm(&mut ipvs)?;
    eq(
        "dests after delete",
        ipvs.dests(&key).map_err(|e| e.to_string())?.len(),
        2,
    )?;
    let udp = Service::new(ServiceKey::udp(sa("10.0.0.2:53")), "rr");
    ipvs.add_service(&udp).map_err(|e| e.to_string())?;
    let sctp = Service::new(
        ServiceKey::Addr {
            protocol: Protocol::Sctp,
            addr: sa("10.0.0.3:9"),
        },
        "rr",
    );
    ipvs.add_service(&sctp).map_err(|e| e.to_string())?;
    same_as_ipvsadm(&mut ipvs)?;
    ipvs.del_service(&key)
        .map_err(|e| format!("del service: {e}"))?;
    same_as_ipvsadm(&mut ipvs)?;
    eq(
        "services left",
        ipvs.services().map_err(|e| e.to_string())?.len(),
        2,
    )
}

fn check_ipv6_fwmark_mixed() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    reset(&mut ipvs)?;
    let v6 = ServiceKey::udp(sa("[2001:db8::1]:53"));
    let mut s6 = Service::new(v6, "wrr");
    s6.flags = ServiceFlags::PERSISTENT | ServiceFlags::ONE_PACKET;
    s6.timeout = 60;
    s6.netmask = 64;
    ipvs.add_service(&s6).map_err(|e| format!("add v6: {e}"))?;
    ipvs.add_dest(
        &v6,
        &Destination::new(sa("[2001:db8::2]:5353"), Forward::Masq),
    )
    .map_err(|e| e.to_string())?;
    ipvs.add_dest(
        &v6,
        &Destination::new(sa("[2001:db8::3]:53"), Forward::DirectRoute),
    )
    .map_err(|e| e.to_string())?;
    same_as_ipvsadm(&mut ipvs)?;
    eq(
        "v6 read back",
        ipvs.get_service(&v6).map_err(|e| e.to_string())?.service,
        s6,
    )?;
    let fw4 = ServiceKey::Fwmark {
        family: Family::V4,
        mark: 5,
    };
    ipvs.add_service(&Service::new(fw4, "wlc"))
        .map_err(|e| e.to_string())?;
    ipvs.add_dest(
        &fw4,
        &Destination::new(sa("10.1.0.7:0"), Forward::DirectRoute),
    )
    .map_err(|e| e.to_string())?;
    let fw6 = ServiceKey::Fwmark {
        family: Family::V6,
        mark: 7,
    };
    ipvs.add_service(&Service::new(fw6, "lc"))
        .map_err(|e| e.to_string())?;
    // Mixed family: IPv4 tunnel endpoints behind an IPv6 service and back.
    ipvs.add_dest(&fw6, &Destination::new(sa("10.9.9.9:0"), Forward::Tunnel))
        .map_err(|e| format!("mixed: {e}"))?;
    ipvs.add_dest(
        &fw6,
        &Destination::new(sa("[2001:db8::7]:0"), Forward::Tunnel),
    )
    .map_err(|e| e.to_string())?;
    let v4 = ServiceKey::tcp(sa("10.0.0.10:443"));
    ipvs.add_service(&Service::new(v4, "rr"))
        .map_err(|e| e.to_string())?;
    ipvs.add_dest(
        &v4,
        &Destination::new(sa("[2001:db8::10]:443"), Forward::Tunnel),
    )
    .map_err(|e| format!("mixed 4->6: {e}"))?;
    same_as_ipvsadm(&mut ipvs)?;
    // The fast save path must fall back to netlink for the IPv4 service
    // whose destination is IPv6 (the legacy view skips it).
    let fast = ipvs.save_table().map_err(|e| e.to_string())?;
    let (_, d) = fast
        .iter()
        .find(|(s, _)| s.service.key == v4)
        .ok_or("v4 service missing")?;
    eq(
        "mixed via netlink",
        d.iter().map(|e| e.stats64.is_some()).collect::<Vec<_>>(),
        vec![true],
    )?;
    let (_, d) = fast
        .iter()
        .find(|(s, _)| s.service.key == fw4)
        .ok_or("fwmark service missing")?;
    eq(
        "plain via legacy",
        d.iter().map(|e| e.stats64.is_some()).collect::<Vec<_>>(),
        vec![false],
    )?;
    let mixed = ipvs.dests(&fw6).map_err(|e| e.to_string())?;
    if !mixed.iter().any(|e| e.dest.addr == sa("10.9.9.9:0")) {
        return Err(format!("mixed-family dest not read back: {mixed:?}"));
    }
    Ok(())
}

const SCHEDULERS: &[&str] = &[
    "rr", "wrr", "lc", "wlc", "lblc", "lblcr", "dh", "sh", "sed", "nq", "fo", "ovf", "mh",
];

fn check_schedulers() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    reset(&mut ipvs)?;
    for (i, s) in SCHEDULERS.iter().enumerate() {
        let key = ServiceKey::tcp(SocketAddr::from(([10, 2, 0, i as u8 + 1], 80)));
        let mut svc = Service::new(key, s);
        if *s == "sh" || *s == "mh" {
            svc.flags = ServiceFlags::SCHED1 | ServiceFlags::SCHED2;
        }
        ipvs.add_service(&svc)
            .map_err(|e| format!("scheduler {s}: {e}"))?;
        ipvs.add_dest(
            &key,
            &Destination::new(
                SocketAddr::from(([10, 3, 0, i as u8 + 1], 80)),
                Forward::Masq,
            ),
        )
        .map_err(|e| format!("dest for {s}: {e}"))?;
        eq(
            s,
            ipvs.get_service(&key).map_err(|e| e.to_string())?.service,
            svc,
        )?;
    }
    // The SIP persistence engine (module ip_vs_pe_sip).
    let sip = ServiceKey::udp(sa("10.2.1.1:5060"));
    let mut svc = Service::new(sip, "rr");
    svc.flags = ServiceFlags::PERSISTENT;
    svc.timeout = 30;
    svc.pe_name = Some("sip".into());
    ipvs.add_service(&svc).map_err(|e| format!("pe sip: {e}"))?;
    eq(
        "pe",
        ipvs.get_service(&sip).map_err(|e| e.to_string())?.service,
        svc,
    )?;
    same_as_ipvsadm(&mut ipvs).map(|_| ())
}

fn check_tunnels() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    reset(&mut ipvs)?;
    let key = ServiceKey::tcp(sa("10.0.0.1:80"));
    ipvs.add_service(&Service::new(key, "rr"))
        .map_err(|e| e.to_string())?;
    let cases = [
        (TunnelType::Ipip, 0, TunnelFlags(0)),
        (TunnelType::Gue, 6080, TunnelFlags(0)),
        (TunnelType::Gue, 6081, TunnelFlags::CSUM),
        (TunnelType::Gue, 6082, TunnelFlags::REMCSUM),
        (TunnelType::Gre, 0, TunnelFlags::CSUM),
        (TunnelType::Gre, 0, TunnelFlags(0)),
    ];
    for (i, (ty, port, flags)) in cases.iter().enumerate() {
        let mut d = Destination::new(
            SocketAddr::from(([10, 4, 0, i as u8 + 1], 80)),
            Forward::Tunnel,
        );
        d.tunnel_type = *ty;
        d.tunnel_port = *port;
        d.tunnel_flags = *flags;
        ipvs.add_dest(&key, &d)
            .map_err(|e| format!("{ty:?}: {e}"))?;
        let back = ipvs.dests(&key).map_err(|e| e.to_string())?;
        if !back.iter().any(|e| e.dest == d) {
            return Err(format!("tunnel {d:?} not read back: {back:?}"));
        }
        same_as_ipvsadm(&mut ipvs)?;
    }
    Ok(())
}

fn reason(r: Result<(), Error>) -> Option<Reason> {
    match r {
        Err(Error::Kernel(k)) => Some(k.reason()),
        _ => None,
    }
}

fn check_errors() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    reset(&mut ipvs)?;
    let key = ServiceKey::tcp(sa("10.0.0.1:80"));
    let svc = Service::new(key, "rr");
    ipvs.add_service(&svc).map_err(|e| e.to_string())?;
    eq(
        "duplicate",
        reason(ipvs.add_service(&svc)),
        Some(Reason::ServiceExists),
    )?;
    let other = ServiceKey::tcp(sa("10.0.0.9:80"));
    eq(
        "missing service",
        reason(ipvs.del_service(&other)),
        Some(Reason::NoSuchService),
    )?;
    let d = Destination::new(sa("10.1.0.1:80"), Forward::DirectRoute);
    eq(
        "dest on missing service",
        reason(ipvs.add_dest(&other, &d)),
        Some(Reason::NoSuchService),
    )?;
    ipvs.add_dest(&key, &d).map_err(|e| e.to_string())?;
    eq(
        "duplicate dest",
        reason(ipvs.add_dest(&key, &d)),
        Some(Reason::DestinationExists),
    )?;
    eq(
        "missing dest",
        reason(ipvs.del_dest(&key, &sa("10.1.0.2:80"))),
        Some(Reason::NoSuchDestination),
    )?;
    eq(
        "unknown scheduler",
        reason(ipvs.add_service(&Service::new(other, "nosuch"))),
        Some(Reason::SchedulerNotFound),
    )?;
    let e = ipvs.add_service(&svc).unwrap_err().to_string();
    eq("message", e.as_str(), "Service already exists")
}

fn check_stats_zero() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    reset(&mut ipvs)?;
    let key = ServiceKey::tcp(sa("10.0.0.1:80"));
    ipvs.add_service(&Service::new(key, "rr"))
        .map_err(|e| e.to_string())?;
    ipvs.add_dest(&key, &Destination::new(sa("127.0.0.1:8080"), Forward::Masq))
        .map_err(|e| e.to_string())?;
    let s = ipvs.get_service(&key).map_err(|e| e.to_string())?;
    if s.stats64.is_none() {
        return Err("kernel 6.1 sends STATS64, none decoded".into());
    }
    eq("fresh stats", s.stats, Stats::default())?;
    ipvs.zero(Some(&key))
        .map_err(|e| format!("zero one: {e}"))?;
    ipvs.zero(None).map_err(|e| format!("zero all: {e}"))?;
    let d = ipvs.dests(&key).map_err(|e| e.to_string())?;
    eq("dest stats64", d[0].stats64, Some(Stats64::default()))?;
    let table = ipvs.table().map_err(|e| e.to_string())?;
    let info = ipvs.info().map_err(|e| e.to_string())?;
    eq(
        "stats listing",
        ipvs::ipvsadm::format_list(&info, &table, true),
        sh("ipvsadm -L -n --stats", None)?,
    )?;
    eq(
        "plain listing",
        ipvs::ipvsadm::format_list(&info, &table, false),
        sh("ipvsadm -L -n", None)?,
    )
}

fn check_timeouts() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    let before = ipvs.timeouts().map_err(|e| e.to_string())?;
    eq(
        "ipvsadm view",
        sh("ipvsadm -L --timeout", None)?,
        format!(
            "Timeout (tcp tcpfin udp): {} {} {}\n",
            before.tcp, before.tcp_fin, before.udp
        ),
    )?;
    let t = Timeouts {
        tcp: 100,
        tcp_fin: 20,
        udp: 30,
    };
    ipvs.set_timeouts(&t).map_err(|e| e.to_string())?;
    eq("timeouts", ipvs.timeouts().map_err(|e| e.to_string())?, t)?;
    eq(
        "ipvsadm after",
        sh("ipvsadm -L --timeout", None)?,
        "Timeout (tcp tcpfin udp): 100 20 30\n".to_string(),
    )
}

fn check_daemons() -> Result<(), String> {
    sh("ip link set lo multicast on", None)?;
    let mut ipvs = ipvs()?;
    eq(
        "no daemons",
        ipvs.daemons().map_err(|e| e.to_string())?,
        vec![],
    )?;
    let master = SyncDaemon::new(DaemonState::Master, "lo", 5);
    ipvs.start_daemon(&master)
        .map_err(|e| format!("start master: {e}"))?;
    let mut backup = SyncDaemon::new(DaemonState::Backup, "lo", 6);
    backup.sync_maxlen = 1400;
    backup.mcast_group = Some("224.0.0.99".parse().unwrap());
    backup.mcast_port = 9000;
    backup.mcast_ttl = 3;
    ipvs.start_daemon(&backup)
        .map_err(|e| format!("start backup: {e}"))?;
    let list = ipvs.daemons().map_err(|e| e.to_string())?;
    eq("daemon count", list.len(), 2)?;
    let m = list
        .iter()
        .find(|d| d.state == DaemonState::Master)
        .ok_or("no master")?;
    eq("master", (m.ifname.as_str(), m.sync_id), ("lo", 5))?;
    let b = list
        .iter()
        .find(|d| d.state == DaemonState::Backup)
        .ok_or("no backup")?;
    eq("backup", b, &backup)?;
    let view = sh("ipvsadm -L --daemon", None)?;
    if !view.contains("master sync daemon (mcast=lo, syncid=5")
        || !view.contains(
            "backup sync daemon (mcast=lo, syncid=6, maxlen=1400, group=224.0.0.99, port=9000, ttl=3)",
        )
    {
        return Err(format!("ipvsadm --daemon shows:\n{view}"));
    }
    eq(
        "running",
        reason(ipvs.start_daemon(&master)),
        Some(Reason::DaemonRunning),
    )?;
    ipvs.stop_daemon(DaemonState::Master)
        .map_err(|e| e.to_string())?;
    ipvs.stop_daemon(DaemonState::Backup)
        .map_err(|e| e.to_string())?;
    eq(
        "not running",
        reason(ipvs.stop_daemon(DaemonState::Backup)),
        Some(Reason::NoDaemon),
    )?;
    eq(
        "stopped",
        ipvs.daemons().map_err(|e| e.to_string())?,
        vec![],
    )
}

fn check_batch_errors() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    reset(&mut ipvs)?;
    let k1 = ServiceKey::tcp(sa("10.0.0.1:80"));
    let k2 = ServiceKey::tcp(sa("10.0.0.2:80"));
    let d = Destination::new(sa("10.1.0.1:80"), Forward::DirectRoute);
    let mut ops = vec![
        Op::AddService(Service::new(k1, "rr")),
        Op::AddService(Service::new(k1, "rr")), // EEXIST
        Op::AddDest(k1, d),
        Op::AddDest(k2, d), // ESRCH
        Op::AddService(Service::new(k2, "wlc")),
        Op::AddDest(k2, d),
    ];
    // Enough operations for several sendmsg batches, with failures inside.
    for i in 0..600u32 {
        let k = ServiceKey::tcp(SocketAddr::from((
            [10, 5, (i / 250) as u8, (i % 250) as u8],
            80,
        )));
        ops.push(Op::AddService(Service::new(k, "rr")));
        if i % 100 == 7 {
            ops.push(Op::AddService(Service::new(k, "rr"))); // EEXIST
        }
    }
    let res = ipvs.apply(&ops).map_err(|e| format!("apply: {e}"))?;
    eq("result count", res.len(), ops.len())?;
    let failed: Vec<(usize, Reason)> = res
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().err().map(|e| (i, e.reason())))
        .collect();
    let mut want = vec![(1, Reason::ServiceExists), (3, Reason::NoSuchService)];
    let mut idx = 6;
    for i in 0..600u32 {
        idx += 1;
        if i % 100 == 7 {
            want.push((idx, Reason::ServiceExists));
            idx += 1;
        }
    }
    eq("failures", failed, want)?;
    eq(
        "services",
        ipvs.services().map_err(|e| e.to_string())?.len(),
        602,
    )?;
    same_as_ipvsadm(&mut ipvs).map(|_| ())
}

/// A transport that counts the netlink messages sent.
struct Counting {
    inner: NetlinkTransport,
    messages: usize,
}

impl Transport for Counting {
    fn send(&mut self, datagram: &[u8]) -> io::Result<()> {
        let mut off = 0;
        while off + 4 <= datagram.len() {
            let len = u32::from_ne_bytes(datagram[off..off + 4].try_into().unwrap()) as usize;
            self.messages += 1;
            off += (len.max(16) + 3) & !3;
        }
        self.inner.send(datagram)
    }
    fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        self.inner.recv(buf)
    }
}

fn desired_table(services: u32, dests: u32) -> Vec<VirtualServer> {
    (0..services)
        .map(|i| {
            let key = ServiceKey::tcp(SocketAddr::from((
                [10, 6, (i / 250) as u8, (i % 250) as u8],
                80,
            )));
            VirtualServer {
                service: Service::new(key, "wlc"),
                dests: (0..dests)
                    .map(|j| {
                        Destination::new(
                            SocketAddr::from((
                                [10, 7 + j as u8, (i / 250) as u8, (i % 250) as u8],
                                8080,
                            )),
                            Forward::Masq,
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}

fn check_reconcile() -> Result<(), String> {
    let mut plain = ipvs()?;
    reset(&mut plain)?;
    let mut want = desired_table(200, 4);
    let ops = diff(&want, &[]);
    eq("initial ops", ops.len(), 200 * 5)?;
    let res = plain.apply(&ops).map_err(|e| e.to_string())?;
    eq(
        "initial errors",
        res.iter().filter(|r| r.is_err()).count(),
        0,
    )?;
    // Change 1% of the 800 destinations: 4 weight edits, 2 removals, 2 additions.
    for i in 0..4 {
        want[i * 50].dests[1].weight = 7;
    }
    want[3].dests.remove(2);
    want[77].dests.remove(0);
    want[120]
        .dests
        .push(Destination::new(sa("10.20.0.1:8080"), Forward::Masq));
    want[199]
        .dests
        .push(Destination::new(sa("10.20.0.2:8080"), Forward::Masq));
    let transport = Counting {
        inner: NetlinkTransport::open().map_err(|e| e.to_string())?,
        messages: 0,
    };
    let mut counted = Ipvs::with_transport(transport).map_err(|e| e.to_string())?;
    let current = counted.virtual_servers().map_err(|e| e.to_string())?;
    let ops = diff(&want, &current);
    eq("reconcile ops", ops.len(), 8)?;
    let before = counted.into_transport().messages;
    let transport = Counting {
        inner: NetlinkTransport::open().map_err(|e| e.to_string())?,
        messages: 0,
    };
    let counted = Ipvs::with_transport(transport).map_err(|e| e.to_string())?;
    let resolve_msgs = counted.into_transport().messages;
    let transport = Counting {
        inner: NetlinkTransport::open().map_err(|e| e.to_string())?,
        messages: 0,
    };
    let mut counted = Ipvs::with_transport(transport).map_err(|e| e.to_string())?;
    let res = counted.apply(&ops).map_err(|e| e.to_string())?;
    eq(
        "reconcile errors",
        res.iter().filter(|r| r.is_err()).count(),
        0,
    )?;
    eq(
        "messages sent by apply",
        counted.into_transport().messages - resolve_msgs,
        8,
    )?;
    // Reading the table: one service dump plus one dest dump per service.
    eq("messages to read the table", before - resolve_msgs, 1 + 200)?;
    let after = plain.virtual_servers().map_err(|e| e.to_string())?;
    eq("converged", diff(&want, &after), vec![])?;
    same_as_ipvsadm(&mut plain).map(|_| ())
}

/// One service of each kind with NAT, direct-routing and GRE destinations.
fn display_table() -> Vec<VirtualServer> {
    let tcp = ServiceKey::tcp(sa("10.0.0.1:80"));
    let fw6 = ServiceKey::Fwmark {
        family: Family::V6,
        mark: 7,
    };
    let mut sticky = Service::new(tcp, "sh");
    sticky.flags = ServiceFlags::PERSISTENT | ServiceFlags::SCHED1;
    sticky.timeout = 300;
    sticky.netmask = 0xffff_ff00;
    sticky.pe_name = Some("sip".into());
    let mut nat = Destination::new(sa("192.168.1.2:8080"), Forward::Masq);
    nat.weight = 5;
    nat.upper_threshold = 100;
    nat.lower_threshold = 10;
    let mut gre = Destination::new(sa("[2001:db8::9]:0"), Forward::Tunnel);
    gre.tunnel_type = TunnelType::Gre;
    gre.tunnel_flags = TunnelFlags::CSUM;
    vec![
        VirtualServer {
            service: sticky,
            dests: vec![
                nat,
                Destination::new(sa("192.168.1.3:80"), Forward::DirectRoute),
            ],
        },
        VirtualServer {
            service: Service::new(fw6, "rr"),
            dests: vec![gre],
        },
    ]
}

/// Every kind of operation, in an order the kernel accepts.
fn display_ops() -> Vec<Op> {
    let table = display_table();
    let (tcp, fw6) = (table[0].service.key, table[1].service.key);
    let mut edited = table[0].service.clone();
    edited.scheduler = "rr".into();
    edited.pe_name = None;
    let mut heavier = table[0].dests[0];
    heavier.weight = 7;
    let mut daemon = SyncDaemon::new(DaemonState::Backup, "lo", 9);
    daemon.mcast_group = Some("239.1.1.1".parse().unwrap());
    daemon.mcast_port = 8849;
    let mut ops = diff(&table, &[]);
    ops.extend([
        Op::EditService(edited),
        Op::EditDest(tcp, heavier),
        Op::DelDest(tcp, table[0].dests[0].addr),
        Op::DelDest(fw6, table[1].dests[0].addr),
        Op::Zero(Some(tcp)),
        Op::Zero(None),
        Op::SetTimeouts(Timeouts {
            tcp: 900,
            tcp_fin: 120,
            udp: 300,
        }),
        Op::StartDaemon(daemon),
        Op::StopDaemon(DaemonState::Backup),
        Op::DelService(tcp),
        Op::Flush,
    ]);
    ops
}

/// Runs `step` for each operation from an empty table with known timeouts
/// and no sync daemon; returns what ipvsadm lists after each step.
fn snapshots(
    ipvs: &mut Ipvs,
    ops: &[Op],
    step: impl Fn(&mut Ipvs, &Op) -> Result<(), String>,
) -> Result<Vec<String>, String> {
    reset(ipvs)?;
    sh("ipvsadm --set 1000 100 100", None)?;
    let _ = sh("ipvsadm --stop-daemon backup", None);
    let mut out = Vec::with_capacity(ops.len());
    for op in ops {
        step(ipvs, op).map_err(|e| format!("{op}: {e}"))?;
        out.push(sh(
            "ipvsadm -S -n; ipvsadm -L -n --timeout; ipvsadm -L -n --daemon",
            None,
        )?);
    }
    Ok(out)
}

/// Each operation printed as an ipvsadm rule changes the kernel exactly as
/// the operation does through the API.
fn check_op_display() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    let ops = display_ops();
    let theirs = snapshots(&mut ipvs, &ops, |_, op| {
        sh(&format!("ipvsadm {op}"), None).map(drop)
    })?;
    let ours = snapshots(&mut ipvs, &ops, |ipvs, op| {
        match ipvs.apply(std::slice::from_ref(op)) {
            Ok(r) => r
                .into_iter()
                .next()
                .unwrap_or(Ok(()))
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        }
    })?;
    for ((op, t), o) in ops.iter().zip(&theirs).zip(&ours) {
        if t != o {
            return Err(format!("after `{op}`:\n--- ipvsadm\n{t}--- api\n{o}"));
        }
    }
    Ok(())
}

/// format_save of a desired table built by hand prints what ipvsadm saves
/// once that table is applied.
fn check_save_desired() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    reset(&mut ipvs)?;
    let want = display_table();
    let res = ipvs.apply(&diff(&want, &[])).map_err(|e| e.to_string())?;
    eq("errors", res.iter().filter(|r| r.is_err()).count(), 0)?;
    eq("save", format_save(&want), sh("ipvsadm -S -n", None)?)
}

/// ipvsadm -R input for `n` services of all kinds, two or three dests each.
pub fn rules(n: u32) -> String {
    let mut s = String::new();
    for i in 0..n {
        let (a, b) = ((i / 250) as u8, (i % 250) as u8 + 1);
        let svc = match i % 5 {
            0 => format!("-t 10.{a}.{b}.1:80"),
            1 => format!("-u 10.{a}.{b}.2:53"),
            2 => format!("-t [2001:db8:{a}::{b}]:443"),
            3 => format!("-f {}", i + 1),
            _ => format!("-t 192.168.{a}.{b}:8443"),
        };
        let opts = match i % 4 {
            0 => " -s rr".to_string(),
            1 => " -s wlc -p 120".to_string(),
            2 => " -s sh -b sh-port".to_string(),
            _ => " -s wrr".to_string(),
        };
        let _ = writeln!(s, "-A {svc}{opts}");
        for j in 0..(2 + i % 2) {
            let (real, fwd) = match i % 5 {
                2 => (format!("[2001:db8:ff:{a}::{}]:443", j + 1), "-m"),
                3 => (format!("172.16.{b}.{}", j + 1), "-g"),
                _ => (format!("172.17.{b}.{}:8080", j + 1), "-m"),
            };
            let _ = writeln!(s, "-a {svc} -r {real} {fwd} -w {}", j + 1);
        }
    }
    s
}

fn check_save_1000() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    reset(&mut ipvs)?;
    sh("ipvsadm -R", Some(&rules(1000)))?;
    let saved = same_as_ipvsadm(&mut ipvs)?;
    eq(
        "services saved",
        saved.lines().filter(|l| l.starts_with("-A")).count(),
        1000,
    )
}

fn check_restore() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    reset(&mut ipvs)?;
    let text = rules(300);
    sh("ipvsadm -R", Some(&text))?;
    let by_ipvsadm = sh("ipvsadm -S -n", None)?;
    reset(&mut ipvs)?;
    let ops: Vec<Op> = parse_rules(&text)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|(_, op)| op)
        .collect();
    let res = ipvs.apply(&ops).map_err(|e| e.to_string())?;
    eq(
        "restore errors",
        res.iter().filter(|r| r.is_err()).count(),
        0,
    )?;
    eq("restored table", sh("ipvsadm -S -n", None)?, by_ipvsadm)?;
    // And the save output restores to the same table.
    let saved = same_as_ipvsadm(&mut ipvs)?;
    reset(&mut ipvs)?;
    let ops: Vec<Op> = parse_rules(&saved)
        .map_err(|e| e.to_string())?
        .into_iter()
        .map(|(_, op)| op)
        .collect();
    ipvs.apply(&ops).map_err(|e| e.to_string())?;
    eq("round trip", sh("ipvsadm -S -n", None)?, saved)
}

fn check_flush() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    ipvs.add_service(&Service::new(ServiceKey::tcp(sa("10.9.0.1:80")), "rr"))
        .map_err(|e| e.to_string())?;
    ipvs.flush().map_err(|e| e.to_string())?;
    eq(
        "after flush",
        ipvs.services().map_err(|e| e.to_string())?.len(),
        0,
    )?;
    eq(
        "ipvsadm after flush",
        sh("ipvsadm -S -n", None)?,
        String::new(),
    )
}

/// Records every datagram received, to print them as test vectors.
struct Recording {
    inner: NetlinkTransport,
    seen: Vec<Vec<u8>>,
}

impl Transport for Recording {
    fn send(&mut self, d: &[u8]) -> io::Result<()> {
        self.inner.send(d)
    }
    fn recv(&mut self, buf: &mut Vec<u8>) -> io::Result<()> {
        self.inner.recv(buf)?;
        self.seen.push(buf.clone());
        Ok(())
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn check_capture() -> Result<(), String> {
    let mut ipvs = ipvs()?;
    reset(&mut ipvs)?;
    sh(
        "ipvsadm -A -t 10.0.0.1:80 -s wlc -p 300 -M 255.255.255.0 && \
         ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.1:80 -g -w 5 -x 100 -y 10 && \
         ipvsadm -a -t 10.0.0.1:80 -r 10.1.0.2:80 -i --tun-type gue --tun-port 6080 --tun-csum && \
         ipvsadm -A -u [2001:db8::1]:53 -s sh -b sh-fallback && \
         ipvsadm -a -u [2001:db8::1]:53 -r [2001:db8::2]:53 -m && \
         ipvsadm -A -f 7 -6 -s mh -p 10 && ipvsadm -a -f 7 -6 -r 10.9.9.9 -i && ipvsadm -A -u 10.0.0.3:5060 -s rr -p 30 --pe sip",
        None,
    )?;
    sh("ip link set lo multicast on", None)?;
    let daemon = ipvs
        .start_daemon(&SyncDaemon::new(DaemonState::Backup, "lo", 9))
        .is_ok();
    let rec = Recording {
        inner: NetlinkTransport::open().map_err(|e| e.to_string())?,
        seen: Vec::new(),
    };
    let mut r = Ipvs::with_transport(rec).map_err(|e| e.to_string())?;
    let family = r.family_id();
    let table = r.table().map_err(|e| e.to_string())?;
    r.info().map_err(|e| e.to_string())?;
    r.timeouts().map_err(|e| e.to_string())?;
    r.daemons().map_err(|e| e.to_string())?;
    let _ = r.add_service(&Service::new(ServiceKey::tcp(sa("10.0.0.1:80")), "rr")); // EEXIST
    let rec = r.into_transport();
    println!("VMVEC family {family:04x}");
    for (i, d) in rec.seen.iter().enumerate() {
        println!("VMVEC reply{i:02} {}", hex(d));
    }
    println!("VMVEC save {}", hex(format_save(&table).as_bytes()));
    if daemon {
        ipvs.stop_daemon(DaemonState::Backup)
            .map_err(|e| e.to_string())?;
    }
    reset(&mut ipvs)
}

/// Kills the process holding a test namespace open, even on failure.
struct Holder(std::process::Child);

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn check_netns() -> Result<(), String> {
    let child = Command::new("unshare")
        .args(["-n", "sleep", "1000"])
        .spawn()
        .map_err(|e| e.to_string())?;
    let holder = Holder(child);
    let pid = holder.0.id();
    std::thread::sleep(std::time::Duration::from_millis(300));
    sh(&format!("nsenter -t {pid} -n ip link set lo up"), None)?;
    let mut inside = Ipvs::connect_netns(std::path::Path::new(&format!("/proc/{pid}/ns/net")))
        .map_err(|e| format!("connect_netns: {e}"))?;
    let mut outside = ipvs()?;
    reset(&mut outside)?;
    let key = ServiceKey::tcp(sa("10.8.0.1:80"));
    inside
        .add_service(&Service::new(key, "rr"))
        .map_err(|e| e.to_string())?;
    inside
        .add_dest(&key, &Destination::new(sa("10.8.1.1:80"), Forward::Masq))
        .map_err(|e| e.to_string())?;
    eq(
        "seen outside",
        outside.services().map_err(|e| e.to_string())?.len(),
        0,
    )?;
    let table = inside.table().map_err(|e| e.to_string())?;
    eq(
        "ipvsadm inside",
        sh(&format!("nsenter -t {pid} -n ipvsadm -S -n"), None)?,
        format_save(&table),
    )?;
    eq("rules inside", table.len(), 1)
}
