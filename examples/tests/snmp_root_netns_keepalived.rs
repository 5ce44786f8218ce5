//! SNMP against keepalived 2.2.7 (needs root, Debian's keepalived,
//! snmpd, snmptrapd and snmp): Debian's snmpd is the AgentX master on a
//! private socket and a private UDP port on loopback; keepalived (`-x
//! -A SOCKET`) and then keepalived-lite run the same configuration (two
//! instances in a sync group, a tracked interface and script, VIPs), each
//! in a namespace of its own.
//!
//! snmpwalk of VRRP-MIB, VRRPv3-MIB and KEEPALIVED-MIB (global scalars,
//! sync group, member, instance, tracked interface and script, address
//! and script tables) returns the same rows for both daemons, with these
//! normalised: the version string, the uptimes, the interface's MAC (each
//! namespace has its own veth; both must answer their kl0's).
//! keepalived 2.2.7 answers only the first row of VRRP-MIB's
//! vrrpOperTable and vrrpRouterStatsTable (an operator-precedence slip in
//! its table walk skips every row once an index is given):
//! keepalived-lite answers every row, so there its extra rows are checked
//! value by value.
//!
//! A failover (the tracked interface down, then up) makes snmptrapd
//! receive the same traps from both, compared as sets once sysUpTime is
//! dropped: vrrpInstanceStateChange, vrrpSyncGroupStateChange,
//! vrrpTrapNewMaster and vrrpv3NewMaster.
//!
//! A second test runs one BACKUP instance whose master is a raw sender
//! (our `vrrp::wire` adverts out of kl1, the veth peer of kl0): both
//! daemons serve the sender as vrrpOperMasterIpAddr and VRRPv3's master
//! address, a fixed vrrpOperVirtualRouterUpTime and a growing
//! vrrpv3OperationsUpTime; a wrong password makes both send the same
//! vrrpTrapAuthFailure, and a TTL of 64 the same vrrpv3ProtoError (and
//! vrrpv3StatisticsProtoErrReason reads ipTtlError).
#![allow(clippy::unwrap_used, reason = "tests")]

mod lab_kl0;

use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use keepalived_lite::netns::{require_program, require_root, Netns};
use lab_kl0::{kl0_namespace, wait_exit, wait_for};
use test_support::process::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-lite");

const VRRP_MIB: &str = ".1.3.6.1.2.1.68";
const VRRPV3_MIB: &str = ".1.3.6.1.2.1.207";
const KEEPALIVED_MIB: &str = ".1.3.6.1.4.1.9586.100.5";

const CONF: &str = "global_defs {
    router_id lab1
    enable_traps
}
vrrp_script chk {
    script \"/bin/true\"
    interval 1
}
vrrp_sync_group G1 {
    group {
        VI_1
        VI_2
    }
    notify_backup \"/bin/true backup\"
}
vrrp_instance VI_1 {
    state MASTER
    interface kl0
    virtual_router_id 51
    priority 150
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        10.231.0.100/32
        10.231.0.101/24 dev kl0
    }
    track_interface {
        kl1
    }
    track_script {
        chk
    }
    notify_master \"/bin/true master\"
}
vrrp_instance VI_2 {
    state BACKUP
    interface kl0
    virtual_router_id 52
    priority 100
    advert_int 2
    virtual_ipaddress {
        10.231.0.102
    }
}
";

/// A process killed and reaped on drop.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(cmd: &mut Command, log: &Path) -> Proc {
    let child = cmd
        .env("MIBS", "")
        .stdin(Stdio::null())
        .stdout(File::create(log).unwrap())
        .stderr(File::create(log.with_extension("err")).unwrap())
        .spawn()
        .unwrap();
    Proc(child)
}

/// A free UDP port on loopback (released for the server to take).
fn free_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// snmpd as AgentX master and snmptrapd, both on loopback.
struct Snmp {
    dir: TempDir,
    port: u16,
    _snmpd: Proc,
    _trapd: Proc,
}

impl Snmp {
    /// Checks for root, keepalived and the net-snmp tools, then starts
    /// snmpd and snmptrapd and waits for both.
    fn start() -> Snmp {
        require_root();
        require_program("keepalived", &["--version"]);
        require_program("snmpwalk", &["-V"]);
        require_program("snmpd", &["-v"]);
        require_program("snmptrapd", &["-v"]);
        let dir = TempDir::new("snmp");
        let (port, trap_port) = (free_port(), free_port());
        let socket = dir.path("master");
        std::fs::create_dir_all(dir.path("persist")).unwrap();
        std::fs::write(
            dir.path("snmpd.conf"),
            format!(
                "agentaddress udp:127.0.0.1:{port}\nmaster agentx\nagentXSocket {}\n\
                 rocommunity public 127.0.0.1\ntrap2sink udp:127.0.0.1:{trap_port} public\n",
                socket.display()
            ),
        )
        .unwrap();
        std::fs::write(
            dir.path("snmptrapd.conf"),
            format!(
                "snmpTrapdAddr udp:127.0.0.1:{trap_port}\ndisableAuthorization yes\n\
                 format2 TRAP %V\\n%v\\n\n"
            ),
        )
        .unwrap();
        let conf = |f: &str| dir.path(f).to_str().unwrap().to_owned();
        let snmpd = spawn(
            Command::new("snmpd")
                .args(["-f", "-Lo", "-C", "-c", &conf("snmpd.conf")])
                .env("SNMP_PERSISTENT_DIR", dir.path("persist")),
            &dir.path("snmpd.log"),
        );
        let trapd = spawn(
            Command::new("snmptrapd")
                .args(["-f", "-Lf", &conf("traps.log"), "-On", "-C", "-c"])
                .arg(conf("snmptrapd.conf"))
                .env("SNMP_PERSISTENT_DIR", dir.path("persist")),
            &dir.path("snmptrapd.out"),
        );
        let snmp = Snmp {
            dir,
            port,
            _snmpd: snmpd,
            _trapd: trapd,
        };
        wait_for("snmpd", || {
            let out = snmp.tool("snmpget", ".1.3.6.1.2.1.1.3.0");
            out.contains("Timeticks").then_some(())
        });
        wait_for("snmptrapd", || {
            let log = std::fs::read_to_string(snmp.dir.path("traps.log")).ok()?;
            log.contains("NET-SNMP version").then_some(())
        });
        snmp
    }

    fn socket(&self) -> PathBuf {
        self.dir.path("master")
    }

    fn tool(&self, tool: &str, oid: &str) -> String {
        let out = Command::new(tool)
            .args(["-v2c", "-c", "public", "-On", "-t", "2", "-r", "1"])
            .arg(format!("127.0.0.1:{}", self.port))
            .arg(oid)
            .env("MIBS", "")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn walk(&self, oid: &str) -> Vec<String> {
        self.tool("snmpwalk", oid)
            .lines()
            .filter(|l| l.starts_with('.'))
            .map(str::to_owned)
            .collect()
    }

    fn traps_log(&self) -> String {
        std::fs::read_to_string(self.dir.path("traps.log")).unwrap_or_default()
    }
}

/// One daemon in its namespace.
struct Daemon {
    ns: Netns,
    dir: TempDir,
    proc: Proc,
    pid_file: PathBuf,
}

impl Daemon {
    fn start(tag: &str, program: &str, snmp: &Snmp) -> Daemon {
        Daemon::start_with(tag, program, snmp, CONF)
    }

    fn start_with(tag: &str, program: &str, snmp: &Snmp, config: &str) -> Daemon {
        let ns = kl0_namespace(tag);
        let dir = TempDir::new(tag);
        let conf = dir.path("keepalived.conf");
        std::fs::write(&conf, config).unwrap();
        let s = |p: PathBuf| p.to_str().unwrap().to_owned();
        let pid_file = dir.path("k.pid");
        let mut cmd = ns.command(program);
        cmd.args(["-P", "-n", "-l", "-x", "-A"])
            .arg(snmp.socket())
            .args(["-f", &s(conf), "-p", &s(pid_file.clone())])
            .args(["-r", &s(dir.path("v.pid"))]);
        if program == BIN {
            cmd.args(["--control-socket", &s(dir.path("ctl"))]);
        }
        let proc = spawn(&mut cmd, &dir.path("log"));
        Daemon {
            ns,
            dir,
            proc,
            pid_file,
        }
    }

    /// kl0's MAC address.
    fn mac(&self) -> Vec<u8> {
        let j = self.ns.ip_json(&["link", "show", "kl0"]).unwrap();
        let mac = j[0]["address"].as_str().unwrap();
        mac.split(':')
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect()
    }

    fn ifindex(&self) -> u64 {
        let j = self.ns.ip_json(&["link", "show", "kl0"]).unwrap();
        j[0]["ifindex"].as_u64().unwrap()
    }

    fn stop(self) {
        if let Ok(pid) = std::fs::read_to_string(&self.pid_file) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
        let mut proc = self.proc;
        wait_exit(&mut proc.0);
        drop(proc);
        drop(self.dir);
        drop(self.ns);
    }
}

/// What one daemon answered and sent.
struct Seen {
    vrrp_mib: Vec<String>,
    vrrpv3_mib: Vec<String>,
    keepalived_mib: Vec<String>,
    traps: BTreeSet<Vec<String>>,
    mac: Vec<u8>,
    ifindex: u64,
}

/// The traps in `log`, without sysUpTime.
fn traps(log: &str) -> Vec<Vec<String>> {
    log.split("TRAP ")
        .skip(1)
        .map(|block| {
            block
                .lines()
                .filter(|l| l.starts_with('.') && !l.starts_with(".1.3.6.1.2.1.1.3.0 "))
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

const GROUP_STATE: &str = ".1.3.6.1.4.1.9586.100.5.2.1.1.3 = INTEGER:";

fn run(tag: &str, program: &str, snmp: &Snmp) -> Seen {
    let d = Daemon::start(tag, program, snmp);
    let both_master = format!("{KEEPALIVED_MIB}.2.3.1.4.2 = INTEGER: 2");
    let first_master = format!("{KEEPALIVED_MIB}.2.3.1.4.1 = INTEGER: 2");
    let kmib = wait_for(
        &format!("{program}: both instances master over SNMP"),
        || {
            let w = snmp.walk(KEEPALIVED_MIB);
            (w.contains(&both_master) && w.contains(&first_master)).then_some(w)
        },
    );
    let vrrp_mib = snmp.walk(VRRP_MIB);
    let vrrpv3_mib = snmp.walk(VRRPV3_MIB);
    // The failover: the tracked interface down (FAULT), then up.
    let from = snmp.traps_log().len();
    d.ns.ip(&["link", "set", "kl1", "down"]).unwrap();
    wait_for(&format!("{program}: group FAULT trap"), || {
        let log = snmp.traps_log();
        log[from..]
            .contains(&format!("{GROUP_STATE} 3"))
            .then_some(())
    });
    d.ns.ip(&["link", "set", "kl1", "up"]).unwrap();
    let log = wait_for(&format!("{program}: group MASTER trap"), || {
        let log = snmp.traps_log();
        log[from..]
            .contains(&format!("{GROUP_STATE} 2"))
            .then_some(log)
    });
    let seen = Seen {
        vrrp_mib,
        vrrpv3_mib,
        keepalived_mib: kmib,
        traps: traps(&log[from..]).into_iter().collect(),
        mac: d.mac(),
        ifindex: d.ifindex(),
    };
    d.stop();
    seen
}

/// The bytes of an octet string as snmpwalk prints it: as hex, or as
/// text when every byte is printable.
fn octets(value: &str) -> Vec<u8> {
    if let Some(hex) = value.strip_prefix("Hex-STRING: ") {
        return (hex.split_whitespace())
            .map(|b| u8::from_str_radix(b, 16).unwrap())
            .collect();
    }
    let text = value.strip_prefix("STRING: ").unwrap_or(value);
    let inner = text.strip_prefix('"').and_then(|t| t.strip_suffix('"'));
    // net-snmp escapes a quote and a backslash inside the quotes.
    (inner
        .unwrap_or(text)
        .replace("\\\"", "\"")
        .replace("\\\\", "\\"))
    .into_bytes()
}

/// Lines with the daemon-specific values normalised.
fn normalise(lines: &[String], seen: &Seen) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let (oid, value) = l.split_once(" = ").unwrap();
            let value = if oid == format!("{KEEPALIVED_MIB}.1.1.0") {
                "VERSION".to_owned()
            } else if oid.starts_with(&format!("{VRRP_MIB}.1.3.1.13."))
                || oid.starts_with(&format!("{VRRPV3_MIB}.1.1.1.1.12."))
            {
                "UPTIME".to_owned()
            } else if oid.starts_with(&format!("{VRRP_MIB}.1.3.1.2."))
                || oid.starts_with(&format!("{VRRPV3_MIB}.1.1.1.1.5."))
            {
                assert_eq!(octets(value), seen.mac, "{oid}: the interface's MAC");
                "MAC".to_owned()
            } else {
                value.to_owned()
            };
            format!("{oid} = {value}")
        })
        .collect()
}

#[test]
fn root_snmp_walks_and_traps_match_keepalived_2_2_7() {
    let snmp = Snmp::start();
    let theirs = run("sk", "keepalived", &snmp);
    let ours = run("sl", BIN, &snmp);
    assert_eq!(
        theirs.ifindex, ours.ifindex,
        "same ifIndex in both namespaces"
    );

    let k = normalise(&theirs.keepalived_mib, &theirs);
    let l = normalise(&ours.keepalived_mib, &ours);
    assert_eq!(k, l, "KEEPALIVED-MIB rows");
    assert_eq!(k.len(), 120, "{k:#?}");
    for row in [
        ".1.4.0 = INTEGER: 1",
        ".2.1.1.5.1 = INTEGER: 1",
        ".2.1.1.7.1 = STRING: \"'/usr/bin/true' 'backup'\"",
        ".2.2.1.2.1.2 = STRING: \"VI_2\"",
        ".2.3.1.22.1 = STRING: \"'/usr/bin/true' 'master'\"",
        ".2.3.1.5.2 = INTEGER: 1",
        ".2.4.1.1.1.1 = STRING: \"kl1\"",
        ".2.6.1.5.1.2 = Gauge32: 24",
        // keepalived 2.2.7 marks only the first instance's VIPs advertised.
        ".2.6.1.11.2.1 = INTEGER: 2",
        ".2.9.1.3.1 = STRING: \"'/usr/bin/true'\"",
        ".2.9.1.6.1 = INTEGER: 3",
    ] {
        let row = format!("{KEEPALIVED_MIB}{row}");
        assert!(k.contains(&row), "{row} in {k:#?}");
    }

    let k = normalise(&theirs.vrrpv3_mib, &theirs);
    let l = normalise(&ours.vrrpv3_mib, &ours);
    assert_eq!(k, l, "VRRPv3-MIB rows");
    // Two instances: 11 readable operations columns and 13 statistics
    // each, 3 associated addresses, 4 router counters.
    assert_eq!(k.len(), 2 * 11 + 2 * 13 + 3 + 4, "{k:#?}");

    let k = normalise(&theirs.vrrp_mib, &theirs);
    let l = normalise(&ours.vrrp_mib, &ours);
    for row in &k {
        assert!(l.contains(row), "keepalived's {row} not served:\n{l:#?}");
    }
    // The rows keepalived 2.2.7 cannot walk to: VI_2's.
    let vi2 = format!(".{}.52", ours.ifindex);
    let extra: Vec<&String> = l.iter().filter(|r| !k.contains(r)).collect();
    assert!(
        extra
            .iter()
            .all(|r| r.split(" = ").next().unwrap().ends_with(&vi2)),
        "{extra:#?}"
    );
    let oper = |column: u32, value: &str| format!("{VRRP_MIB}.1.3.1.{column}{vi2} = {value}");
    for row in [
        oper(2, "MAC"),
        oper(3, "INTEGER: 3"),
        oper(5, "INTEGER: 100"),
        oper(6, "INTEGER: 1"),
        oper(9, "INTEGER: 1"),
        oper(11, "INTEGER: 2"),
        oper(12, "INTEGER: 1"),
        format!("{VRRP_MIB}.2.4.1.1{vi2} = Counter32: 1"),
    ] {
        assert!(extra.contains(&&row), "{row} in {extra:#?}");
    }
    // vrrpOperTable columns 2 to 15 but the unreadable key (10), and the
    // 12 counters.
    assert_eq!(extra.len(), 13 + 12, "{extra:#?}");

    assert_eq!(theirs.traps, ours.traps, "the failover's traps");
    let states: Vec<&Vec<String>> = (ours.traps.iter())
        .filter(|t| t.iter().any(|l| l.contains(".2.10.0.2")))
        .collect();
    assert_eq!(states.len(), 6, "VI_1 and VI_2: FAULT, BACKUP, MASTER");
    let new_master = format!(
        "{VRRP_MIB}.1.3.1.7.{}.51 = IpAddress: 10.231.0.1",
        ours.ifindex
    );
    assert!(ours.traps.iter().any(|t| t.contains(&new_master)));
    let v3_reason = format!("{VRRPV3_MIB}.1.2.5.1.2.{}.52.1 = INTEGER: 3", ours.ifindex);
    assert!(ours.traps.iter().any(|t| t.contains(&v3_reason)));
    // Instances: FAULT, BACKUP, MASTER each; the group: the same; new
    // masters: two of each MIB.
    assert_eq!(ours.traps.len(), 6 + 3 + 2 + 2, "{:#?}", ours.traps);
}

const BACKUP_CONF: &str = "global_defs {
    router_id lab1
    enable_traps
}
vrrp_instance VI_1 {
    state BACKUP
    interface kl0
    virtual_router_id 51
    priority 100
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        10.231.0.100/32
    }
}
";

/// The raw sender's address, on kl0's subnet.
const SENDER: std::net::Ipv4Addr = std::net::Ipv4Addr::new(10, 231, 0, 2);

/// What the sender thread sends: right adverts, a wrong password, TTL 64.
const RIGHT: u8 = 0;
const WRONG: u8 = 1;
const LOW_TTL: u8 = 2;
const STOP: u8 = 3;

/// Sends a priority-200 advert for VRID 51 out of kl1 every 300 ms, as
/// `mode` says, until STOP. kl1 is kl0's veth peer, so kl0 receives
/// them as from the wire.
fn sender(ns: &Netns, mode: Arc<AtomicU8>) -> std::thread::JoinHandle<()> {
    use socket2::{Domain, Protocol, SockAddr, Socket, Type};
    use vrrp::auth::{AuthConfig, TxCounters};
    use vrrp::wire::{self, AdvertRepr};
    let sock = ns
        .enter(|| -> std::io::Result<Socket> {
            // IPPROTO_RAW: we write the IP header (IP_HDRINCL).
            let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(255)))?;
            sock.bind_device(Some(b"kl1"))?;
            sock.set_multicast_loop_v4(false)?;
            Ok(sock)
        })
        .unwrap()
        .unwrap();
    std::thread::spawn(move || {
        let dst = SockAddr::from(std::net::SocketAddrV4::new(wire::VRRP_MCAST_V4, 0));
        let vips = [std::net::Ipv4Addr::new(10, 231, 0, 100)];
        let mut tx = TxCounters::new();
        let mut buf = [0u8; wire::MAX_DATAGRAM_LEN];
        loop {
            let m = mode.load(Ordering::SeqCst);
            if m == STOP {
                return;
            }
            let pass: &[u8] = if m == WRONG { b"wrong" } else { b"secret" };
            let repr = AdvertRepr {
                src: SENDER,
                dst: wire::VRRP_MCAST_V4,
                ttl: if m == LOW_TTL { 64 } else { wire::VRRP_TTL },
                vrid: 51,
                priority: 200,
                adver_int: 1,
                addresses: &vips,
            };
            let n = wire::encode(&repr, &AuthConfig::pass(pass), &mut tx, &mut buf).unwrap();
            let _ = sock.send_to(&buf[..n], &dst);
            std::thread::sleep(Duration::from_millis(300));
        }
    })
}

/// What one daemon showed as a backup of the raw sender.
struct BackupSeen {
    vrrp_mib: Vec<String>,
    vrrpv3_mib: Vec<String>,
    auth_traps: BTreeSet<Vec<String>>,
    proto_traps: BTreeSet<Vec<String>>,
    proto_reason: String,
    mac: Vec<u8>,
}

/// The value of `oid` in a walk.
fn value_of(walk: &[String], oid: &str) -> Option<String> {
    walk.iter()
        .find_map(|l| l.strip_prefix(&format!("{oid} = ")).map(str::to_owned))
}

/// The number in a `Timeticks: (N) ...` value.
fn ticks(value: &str) -> u64 {
    let inner = value.split_once('(').unwrap().1.split_once(')').unwrap().0;
    inner.parse().unwrap()
}

/// The traps in `log` whose snmpTrapOID.0 is `trap`.
fn traps_of(log: &str, trap: &str) -> BTreeSet<Vec<String>> {
    let line = format!(".1.3.6.1.6.3.1.1.4.1.0 = OID: {trap}");
    traps(log)
        .into_iter()
        .filter(|t| t.contains(&line))
        .collect()
}

/// The `trap`s snmptrapd logged from byte `from` on, once there is one.
fn wait_traps(snmp: &Snmp, what: &str, from: usize, trap: &str) -> BTreeSet<Vec<String>> {
    wait_for(what, || {
        let traps = traps_of(&snmp.traps_log()[from..], trap);
        (!traps.is_empty()).then_some(traps)
    })
}

fn run_backup(tag: &str, program: &str, snmp: &Snmp) -> BackupSeen {
    let d = Daemon::start_with(tag, program, snmp, BACKUP_CONF);
    let mode = Arc::new(AtomicU8::new(RIGHT));
    let thread = sender(&d.ns, mode.clone());
    let ix = d.ifindex();
    let master_ip = format!("{VRRP_MIB}.1.3.1.7.{ix}.51");
    let state = format!("{VRRP_MIB}.1.3.1.3.{ix}.51");
    let v2_up = format!("{VRRP_MIB}.1.3.1.13.{ix}.51");
    let v3_up = format!("{VRRPV3_MIB}.1.1.1.1.12.{ix}.51.1");
    let vrrp_mib = wait_for(&format!("{program}: backup of {SENDER}"), || {
        let w = snmp.walk(VRRP_MIB);
        let backup = value_of(&w, &state)? == "INTEGER: 2";
        let heard = value_of(&w, &master_ip)? == format!("IpAddress: {SENDER}");
        (backup && heard).then_some(w)
    });
    let vrrpv3_mib = snmp.walk(VRRPV3_MIB);
    // vrrpOperVirtualRouterUpTime is fixed (keepalived subtracts two
    // instants of its start); vrrpv3OperationsUpTime grows.
    let first_v2 = value_of(&vrrp_mib, &v2_up).unwrap();
    let first_v3 = ticks(&value_of(&vrrpv3_mib, &v3_up).unwrap());
    wait_for(&format!("{program}: vrrpv3OperationsUpTime grows"), || {
        let now = ticks(&value_of(&snmp.walk(VRRPV3_MIB), &v3_up)?);
        (now > first_v3).then_some(())
    });
    assert_eq!(
        value_of(&snmp.walk(VRRP_MIB), &v2_up).unwrap(),
        first_v2,
        "{program}: vrrpOperVirtualRouterUpTime"
    );

    let from = snmp.traps_log().len();
    mode.store(WRONG, Ordering::SeqCst);
    let auth = ".1.3.6.1.2.1.68.0.2";
    let what = format!("{program}: vrrpTrapAuthFailure");
    let auth_traps = wait_traps(snmp, &what, from, auth);

    let from = snmp.traps_log().len();
    mode.store(LOW_TTL, Ordering::SeqCst);
    let proto = ".1.3.6.1.2.1.207.0.2";
    let what = format!("{program}: vrrpv3ProtoError");
    let proto_traps = wait_traps(snmp, &what, from, proto);
    let reason = format!("{VRRPV3_MIB}.1.2.5.1.6.{ix}.51.1");
    // ipTtlError(1) (polled: keepalived-lite's answers may be a moment
    // old).
    let proto_reason = wait_for(&format!("{program}: ipTtlError"), || {
        let v = value_of(&snmp.walk(VRRPV3_MIB), &reason)?;
        (v == "INTEGER: 1").then_some(v)
    });

    mode.store(STOP, Ordering::SeqCst);
    thread.join().unwrap();
    let seen = BackupSeen {
        vrrp_mib,
        vrrpv3_mib,
        auth_traps,
        proto_traps,
        proto_reason,
        mac: d.mac(),
    };
    d.stop();
    seen
}

#[test]
fn root_snmp_backup_master_address_uptimes_and_error_traps_match_keepalived_2_2_7() {
    let snmp = Snmp::start();
    let theirs = run_backup("skb", "keepalived", &snmp);
    let ours = run_backup("slb", BIN, &snmp);
    let norm = |lines: &[String], mac: &[u8]| {
        let seen = Seen {
            vrrp_mib: Vec::new(),
            vrrpv3_mib: Vec::new(),
            keepalived_mib: Vec::new(),
            traps: BTreeSet::new(),
            mac: mac.to_vec(),
            ifindex: 0,
        };
        // How many adverts arrived before the walk depends on timing.
        let rcvd = [
            format!("{VRRP_MIB}.2.4.1.2."),
            format!("{VRRPV3_MIB}.1.2.5.1.3."),
        ];
        (normalise(lines, &seen).into_iter())
            .map(|l| match rcvd.iter().any(|r| l.starts_with(r)) {
                true => format!("{} = RECEIVED", l.split(" = ").next().unwrap()),
                false => l,
            })
            .collect::<Vec<_>>()
    };
    // One instance: keepalived 2.2.7 walks its single row whole.
    assert_eq!(
        norm(&theirs.vrrp_mib, &theirs.mac),
        norm(&ours.vrrp_mib, &ours.mac),
        "VRRP-MIB rows"
    );
    assert_eq!(
        norm(&theirs.vrrpv3_mib, &theirs.mac),
        norm(&ours.vrrpv3_mib, &ours.mac),
        "VRRPv3-MIB rows"
    );
    let v3_master = format!("{VRRPV3_MIB}.1.1.1.1.3.");
    assert!(
        (ours.vrrpv3_mib.iter())
            .any(|l| l.starts_with(&v3_master) && l.ends_with("= Hex-STRING: 0A E7 00 02 ")),
        "{:#?}",
        ours.vrrpv3_mib
    );
    assert_eq!(theirs.auth_traps, ours.auth_traps, "vrrpTrapAuthFailure");
    let auth: Vec<&String> = ours.auth_traps.iter().flatten().collect();
    assert!(auth
        .iter()
        .any(|l| l.ends_with(&format!("= IpAddress: {SENDER}"))));
    assert!(auth
        .iter()
        .any(|l| l.starts_with(".1.3.6.1.2.1.68.1.6.") && l.ends_with("= INTEGER: 3")));
    assert_eq!(theirs.proto_traps, ours.proto_traps, "vrrpv3ProtoError");
    let proto: Vec<&String> = ours.proto_traps.iter().flatten().collect();
    assert!(proto
        .iter()
        .any(|l| l.starts_with(".1.3.6.1.2.1.207.1.2.5.1.6.") && l.ends_with("= INTEGER: 1")));
    assert_eq!(
        (theirs.proto_reason.as_str(), ours.proto_reason.as_str()),
        ("INTEGER: 1", "INTEGER: 1")
    );
}
