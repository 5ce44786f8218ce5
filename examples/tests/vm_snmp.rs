//! KEEPALIVED-MIB's checker part against keepalived 2.2.7, in the IPVS
//! VM (the host kernel has no IPVS): one boot of `ipvs/vm/run-vm.sh`
//! with Debian's snmpd (the AgentX master, on a unix socket), snmptrapd,
//! snmpwalk, keepalived 2.2.7 and keepalived-lite. The guest
//! (`tests/lvs/guest-snmp.sh`) runs `keepalived -C` and then
//! `keepalived-lite -C` on `tests/lvs/snmp.conf` (an address service
//! with persistence and an inhibited real server, a fwmark service, a
//! `virtual_server group` of a fwmark, an address and a range with a
//! quorum and a sorry server; TCP_CHECK real servers on busybox httpd,
//! one failing from the start, one stopped during the run and started
//! again).
//!
//! The walk of KEEPALIVED-MIB (global scalars and the checker's tables)
//! after start-up, after the failure and after the return must be the
//! same for both (the
//! version string aside); snmptrapd must receive the same
//! realServerStateChange and virtualServerQuorumStateChange traps from
//! both while they run and when they stop.
//!
//! The same boot checks the checker's SMTP alerts (issue 13): the VM's
//! only way out (`run-vm.sh --smtp-forward`) leads to an aiosmtpd on the
//! host's loopback, and the mails of keepalived-lite must be those of
//! keepalived 2.2.7 (the Date aside; the guest runs each daemon under its
//! own host name, which is its HELO name and tells the mails apart).
//!
//! keepalived-lite serves `--metrics-listen` in that run too (issue 16):
//! its scrapes when stable, after the failure and after the return pass
//! `promtool check metrics`, and show the real server's health and checks
//! change as the failure and the return imply.
//!
//! Needs qemu-system-x86, busybox-static, ipvsadm, cpio, keepalived,
//! snmpd, snmptrapd, snmp, python3-aiosmtpd, prometheus (promtool) and
//! the Debian archive (see
//! `.ci/install-deps`); fails loudly when the VM cannot run.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test: a panic is a failure

mod aiosmtpd;
mod vm;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn tool(name: &str) -> PathBuf {
    ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not installed"))
}

const KMIB: &str = ".1.3.6.1.4.1.9586.100.5";

#[test]
fn vm_snmp_checker_walks_and_traps_match_keepalived_2_2_7() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let (dir, bin) = vm::work_dir("vm-snmp");
    let lvs = here.join("tests/lvs");
    let files = [
        (bin, "/bin/keepalived-lite"),
        (tool("keepalived"), "/bin/keepalived"),
        (tool("snmpd"), "/bin/snmpd"),
        (tool("snmptrapd"), "/bin/snmptrapd"),
        (tool("snmpbulkwalk"), "/bin/snmpbulkwalk"),
        (tool("snmpget"), "/bin/snmpget"),
        (lvs.join("snmp.conf"), "/etc/snmp.conf"),
    ];
    let smtpd = aiosmtpd::Smtpd::start(&dir.0.join("smtpd"));
    let forward = ["--smtp-forward".to_owned(), smtpd.port.to_string()];
    let console = vm::boot(&forward, &files, &lvs.join("guest-snmp.sh"), &[], 1200);
    for step in [
        "snmp_started",
        "keepalived_stopped",
        "parity_started",
        "parity_failed",
        "parity_back",
        "keepalived_lite_stopped",
        "parity_traps",
        "parity_back_traps",
        "parity_stop_traps",
    ] {
        let line = format!("LVS-VM: ok {step}");
        assert!(console.lines().any(|l| l == line), "missing '{line}'");
    }
    assert!(console.lines().any(|l| l == "LVS-VM: done"));
    // What keepalived 2.2.7 served, and so keepalived-lite too.
    for text in [
        // virtualServerGroupMemberTable: the fwmark first, then the
        // address and the range.
        &format!("{KMIB}.3.2.1.3.1.1 = Gauge32: 5"),
        &format!("{KMIB}.3.2.1.7.1.3 = Hex-STRING: 0A 00 01 03 "),
        // virtualServerType: address, fwmark, group.
        &format!("{KMIB}.3.3.1.2.3 = INTEGER: 3"),
        // The group's quorum is lost (its 8083 fails).
        &format!("{KMIB}.3.3.1.23.3 = INTEGER: 2"),
        // realServerTable: the sorry server first, without a status.
        &format!("{KMIB}.3.4.1.2.3.1 = INTEGER: 2"),
        // The inhibited real server down, with its weight kept.
        &format!("{KMIB}.3.4.1.6.1.2 = INTEGER: 2"),
        &format!("{KMIB}.3.4.1.7.1.2 = INTEGER: 1"),
        &format!("{KMIB}.3.4.1.13.1.2 = Gauge32: 1"),
        // realServerStateChange for 10.1.0.2:8082 going down.
        ".1.3.6.1.4.1.9586.100.5.3.5.0.1 | .1.3.6.1.4.1.9586.100.5.3.4.1.3 = INTEGER: 1 | \
         .1.3.6.1.4.1.9586.100.5.3.4.1.4 = Hex-STRING: 0A 01 00 02  | \
         .1.3.6.1.4.1.9586.100.5.3.4.1.5 = Gauge32: 8082 | \
         .1.3.6.1.4.1.9586.100.5.3.4.1.6 = INTEGER: 2",
        // The group's quorum lost.
        ".1.3.6.1.4.1.9586.100.5.3.3.1.23 = INTEGER: 2",
    ] {
        assert!(console.contains(text), "the console lacks '{text}'");
    }
    check_mails(&smtpd.mails());
    check_metrics(&console);
}

/// The samples of a scrape, `name{labels}` to value.
type Samples = BTreeMap<String, f64>;

/// The scrape printed between "LVS-VM: metrics BEGIN step" and its END.
fn scrape_of<'a>(console: &'a str, step: &str) -> &'a str {
    let begin = format!("LVS-VM: metrics BEGIN {step}\n");
    let end = format!("LVS-VM: metrics END {step}\n");
    let (_, rest) = console
        .split_once(&begin)
        .unwrap_or_else(|| panic!("no '{begin}'"));
    let (text, _) = rest
        .split_once(&end)
        .unwrap_or_else(|| panic!("no '{end}'"));
    text
}

fn samples(text: &str) -> Samples {
    (text.lines())
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (key, value) = l.rsplit_once(' ').unwrap();
            (key.to_owned(), value.parse().unwrap())
        })
        .collect()
}

fn promtool_accepts(step: &str, text: &str) {
    let mut child = Command::new(tool("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(text.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool on the {step} scrape: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `keepalived_real_server_up` of the scrape, by label set.
fn health(s: &Samples) -> BTreeMap<&str, f64> {
    (s.iter())
        .filter_map(|(k, v)| Some((k.strip_prefix("keepalived_real_server_up")?, *v)))
        .collect()
}

/// The checks of the real server `labels` by outcome.
fn checks<'a>(s: &'a Samples, labels: &str) -> BTreeMap<&'a str, f64> {
    let prefix = format!("keepalived_checks_total{{{labels},outcome=\"");
    (s.iter())
        .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.strip_suffix("\"}")?, *v)))
        .collect()
}

/// keepalived-lite's metrics over the failure of 10.1.0.2:8082 and its
/// return: valid for promtool; every configured real server but the sorry
/// server, with the health snmp.conf implies (10.1.0.3:8083 never serves);
/// 8082's checks gain refusals with the failure and successes with the
/// return.
fn check_metrics(console: &str) {
    let steps = ["stable", "failed", "back"];
    let [stable, failed, back] = steps.map(|step| {
        let text = scrape_of(console, step);
        promtool_accepts(step, text);
        samples(text)
    });
    const RS2: &str = "virtual_server=\"[10.0.0.1]:tcp:80\",real_server=\"[10.1.0.2]:tcp:8082\"";
    const RS3: &str = "virtual_server=\"[G1]:0\",real_server=\"[10.1.0.3]:tcp:8083\"";
    let want = |rs2: f64| {
        BTreeMap::from([
            (
                // A fwmark service's real server has no port (keepalived
                // clears it too).
                "{virtual_server=\"FWM 7\",real_server=\"[10.1.0.9]:tcp:0\"}",
                1.0,
            ),
            (
                "{virtual_server=\"[10.0.0.1]:tcp:80\",real_server=\"[10.1.0.1]:tcp:8081\"}",
                1.0,
            ),
            (
                "{virtual_server=\"[10.0.0.1]:tcp:80\",real_server=\"[10.1.0.2]:tcp:8082\"}",
                rs2,
            ),
            (
                "{virtual_server=\"[G1]:0\",real_server=\"[10.1.0.1]:tcp:8081\"}",
                1.0,
            ),
            (
                "{virtual_server=\"[G1]:0\",real_server=\"[10.1.0.3]:tcp:8083\"}",
                0.0,
            ),
        ])
    };
    assert_eq!(health(&stable), want(1.0), "stable");
    assert_eq!(health(&failed), want(0.0), "failed");
    assert_eq!(health(&back), want(1.0), "back");
    // 8083 has refused connections from the start, and only that.
    for s in [&stable, &failed, &back] {
        let c = checks(s, RS3);
        assert_eq!(c.keys().copied().collect::<Vec<_>>(), ["refused"]);
        assert!(c["refused"] >= 1.0);
    }
    let (s, f, b) = (
        checks(&stable, RS2),
        checks(&failed, RS2),
        checks(&back, RS2),
    );
    assert_eq!(s.keys().copied().collect::<Vec<_>>(), ["up"], "stable");
    assert_eq!(
        f.keys().copied().collect::<Vec<_>>(),
        ["refused", "up"],
        "failed"
    );
    assert_eq!(
        b.keys().copied().collect::<Vec<_>>(),
        ["refused", "up"],
        "back"
    );
    assert!(s["up"] >= 1.0);
    assert!(
        f["up"] >= s["up"] && f["refused"] >= 1.0,
        "{s:?} then {f:?}"
    );
    assert!(
        b["up"] > f["up"] && b["refused"] >= f["refused"],
        "{f:?} then {b:?}"
    );
    check_virtual_servers(&stable, &failed, &back);
    check_ipvs(&stable, &failed, &back);
}

/// The samples of family `name` by label text (without braces).
fn family<'a>(s: &'a Samples, name: &str) -> BTreeMap<&'a str, f64> {
    (s.iter())
        .filter_map(|(k, v)| {
            let labels = k.strip_prefix(name)?.strip_prefix('{')?.strip_suffix('}')?;
            Some((labels, *v))
        })
        .collect()
}

/// Quorum and active weight: G1 (quorum 2) has only 10.1.0.1:8081 alive
/// (weight 1), so its quorum is down throughout; 10.0.0.1:80 has 8081
/// (weight 2) and 8082 (weight 1, inhibit_on_failure: 0 while down).
fn check_virtual_servers(stable: &Samples, failed: &Samples, back: &Samples) {
    let vs = |name: &str| format!("virtual_server=\"{name}\"");
    let want = |vs1: f64| {
        [("[10.0.0.1]:tcp:80", vs1), ("FWM 7", 3.0), ("[G1]:0", 1.0)]
            .map(|(n, w)| (vs(n), w))
            .into_iter()
            .collect::<BTreeMap<String, f64>>()
    };
    let quorum: BTreeMap<String, f64> =
        [("[10.0.0.1]:tcp:80", 1.0), ("FWM 7", 1.0), ("[G1]:0", 0.0)]
            .map(|(n, q)| (vs(n), q))
            .into_iter()
            .collect();
    let owned = |m: BTreeMap<&str, f64>| -> BTreeMap<String, f64> {
        m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    };
    for (step, s, vs1) in [
        ("stable", stable, 3.0),
        ("failed", failed, 2.0),
        ("back", back, 3.0),
    ] {
        let got = owned(family(s, "keepalived_virtual_server_quorum_up"));
        assert_eq!(got, quorum, "{step}");
        let got = owned(family(s, "keepalived_virtual_server_active_weight"));
        assert_eq!(got, want(vs1), "{step}");
    }
}

/// IPVS requests: at start 6 services (10.0.0.1:80, FWM 7, G1's four)
/// and 11 real servers go in; 8083 fails in G1's four services (4
/// deletions), whose quorum is lost: 8081 goes too (4 more) and the sorry
/// server comes in (4 additions). 8082 failing and coming back is one
/// weight edit each. Nothing fails.
fn check_ipvs(stable: &Samples, failed: &Samples, back: &Samples) {
    fn ops(s: &Samples) -> BTreeMap<&str, f64> {
        family(s, "keepalived_ipvs_operations_total")
    }
    let start = [
        ("op=\"add_dest\"", 15.0),
        ("op=\"add_service\"", 6.0),
        ("op=\"del_dest\"", 8.0),
    ];
    let with_edits = |n: f64| {
        let mut m: BTreeMap<&str, f64> = start.into_iter().collect();
        if n > 0.0 {
            m.insert("op=\"edit_dest\"", n);
        }
        m
    };
    assert_eq!(ops(stable), with_edits(0.0), "stable");
    assert_eq!(ops(failed), with_edits(1.0), "failed");
    assert_eq!(ops(back), with_edits(2.0), "back");
    for (step, s) in [("stable", stable), ("failed", failed), ("back", back)] {
        let failures = family(s, "keepalived_ipvs_failures_total");
        assert_eq!(
            failures.keys().collect::<Vec<_>>(),
            ops(s).keys().collect::<Vec<_>>(),
            "{step}"
        );
        assert!(failures.values().all(|n| *n == 0.0), "{step}: {failures:?}");
    }
}

/// The guest's host names while each daemon runs (their HELO names).
const THEIRS: &str = "keepalived-2-2-7";
const OURS: &str = "keepalived-lite";

/// keepalived-lite mailed what keepalived 2.2.7 mailed: the group's
/// quorum at start, its loss (10.1.0.3:8083 fails from the start but
/// says `smtp_alert no`), the real server 10.1.0.2:8082 going down and
/// coming back (its virtual server does not mail: no quorum mails for
/// it); nothing is mailed at stop without `omega`.
fn check_mails(mails: &[String]) {
    for m in mails {
        println!("mail:\n{m}");
    }
    let theirs = of_helo(mails, THEIRS);
    let ours = of_helo(mails, OURS);
    assert_eq!(theirs, ours, "keepalived (left), keepalived-lite (right)");
    assert_eq!(theirs.len() * 2, mails.len(), "a mail of another HELO");
    let mail = |subject: &str, body: &str| {
        format!(
            "from lb@example.org\nto ops@example.org oncall@example.org\n\n\
             Date: DATE\r\nFrom: lb@example.org\r\nSubject: [vm1] {subject}\r\n\
             X-Mailer: Keepalived\r\nTo: ops@example.org, oncall@example.org\r\n\r\n\
             {body}\r\n\r\n"
        )
    };
    let want = [
        mail(
            "Realserver [10.1.0.2]:tcp:8082 of virtual server [10.0.0.1]:tcp:80 - DOWN",
            "=> TCP CHECK failed on service <=",
        ),
        mail(
            "Realserver [10.1.0.2]:tcp:8082 of virtual server [10.0.0.1]:tcp:80 - UP",
            "=> TCP CHECK succeed on service <=",
        ),
        mail(
            "Virtualserver [G1]:0 - DOWN",
            "=> Lost quorum 2+0=2 <= 1 <=",
        ),
        mail(
            "Virtualserver [G1]:0 - UP",
            "=> Starting with quorum up 2+0=2 <= 2 <=",
        ),
    ];
    assert_eq!(theirs, want);
}

/// The mails sent with HELO `helo`, without that line and with the Date
/// header's value (keepalived's `%a, %d %b %Y %H:%M:%S %z`, checked)
/// replaced by DATE, sorted: keepalived sends each mail on its own
/// connection, so they arrive in no fixed order.
fn of_helo(mails: &[String], helo: &str) -> Vec<String> {
    let first = format!("helo {helo}\n");
    let mut out: Vec<String> = mails
        .iter()
        .filter_map(|m| m.strip_prefix(&first))
        .map(|m| {
            let (envelope, rest) = m.split_once("Date: ").unwrap();
            let (date, rest) = rest.split_once("\r\n").unwrap();
            assert!(
                chrono::DateTime::parse_from_str(date, "%a, %d %b %Y %H:%M:%S %z").is_ok(),
                "bad Date header {date:?} in {m:?}"
            );
            format!("{envelope}Date: DATE\r\n{rest}")
        })
        .collect();
    out.sort();
    out
}
