//! The checker keyword sweep (issue 13): every keyword keepalived 2.2.7's
//! checker installs (`check_parser.c`, `check_api.c`, `check_http.c`,
//! `check_tcp.c`, `check_smtp.c`, `check_dns.c`, `check_udp.c`,
//! `check_ping.c`, `check_file.c`, `check_misc.c`) and the checker and
//! LVS keywords of `global_parser.c`, each in a tiny configuration.
//!
//! `checker_keywords_have_the_expected_verdicts` runs `keepalived-lite -t`
//! on each and checks the verdict the table expects: the keyword runs
//! (exit 0, no diagnostic on its line), is a documented tuning keyword
//! (exit 0, an "accepted without effect" note), or is refused by name
//! (exit 5, an error on its line naming it).
//! `root_netns_keepalived_accepts_every_swept_keyword` runs the real
//! keepalived 2.2.7 `-t` on the same configurations, which must accept
//! every one (exit 0, nothing on the keyword's line), so the table only
//! holds keywords keepalived runs. With `CHECKER_SWEEP_REPORT=FILE` it
//! writes both verdicts as a markdown table.
#![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

use std::path::Path;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-lite");

/// Where a case's lines go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// `global_defs`.
    Global,
    /// The top level, before the `virtual_server`.
    Top,
    /// The `virtual_server` block.
    Vs,
    /// The `real_server` block.
    Rs,
    /// The body of the checker named by [`Case::checker`].
    Check,
    /// An HTTP_GET/SSL_GET `url` block (after `path /`).
    Url,
}

/// What keepalived-lite does with a keyword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// Runs it: exit 0, no diagnostic on its line.
    Runs,
    /// A documented tuning keyword: exit 0 with a note on its line.
    Tuning,
    /// Refused by name: exit 5, an error on its line naming it.
    Refused,
}

/// One swept keyword.
struct Case {
    /// The keyword as the table names it.
    keyword: &'static str,
    /// Where `lines` go.
    at: At,
    /// Its lines (the keyword's own line first).
    lines: &'static str,
    /// The checker block of the real server.
    checker: &'static str,
    /// Extra top-level lines (a `track_file`, a `virtual_server_group`).
    top: &'static str,
    /// The `virtual_server` head, after the keyword.
    vs: &'static str,
    /// What keepalived-lite is expected to do.
    expect: Verdict,
}

const fn case(keyword: &'static str, at: At, lines: &'static str) -> Case {
    Case {
        keyword,
        at,
        lines,
        checker: "TCP_CHECK",
        top: "",
        vs: "127.0.0.1 8080",
        expect: Verdict::Runs,
    }
}

impl Case {
    const fn checker(mut self, checker: &'static str) -> Self {
        self.checker = checker;
        self
    }
    const fn top(mut self, top: &'static str) -> Self {
        self.top = top;
        self
    }
    const fn vs(mut self, vs: &'static str) -> Self {
        self.vs = vs;
        self
    }
    const fn expect(mut self, v: Verdict) -> Self {
        self.expect = v;
        self
    }
}

use At::*;
use Verdict::*;

const TRACK_FILE: &str = "track_file tf {\n  file /tmp/kl-sweep-track\n}\n";
// `-t` reads none of the block's files (keepalived reads them when its
// checker starts).
const SSL_BLOCK: &str = "SSL {\n  password secret\n  ca /etc/ssl/certs/ca-certificates.crt\n  \
                         certificate /etc/ssl/certs/ca-certificates.crt\n  \
                         key /etc/ssl/certs/ca-certificates.crt\n}\n";
const FWM_CHECK: &str = "TCP_CHECK {\n      connect_port 8080\n    }";
const MISC: &str = "MISC_CHECK {\n      misc_path /bin/true\n    }";
const BFD: &str = "bfd_instance b1 {\n  neighbor_ip 127.0.0.2\n}\n";
const VSG: &str = "virtual_server_group g1 {\n  127.0.0.1-3 8080\n  fwmark 7\n}\n";
const VSG6: &str = "virtual_server_group g6 {\n  fd00::1-3 8080\n}\n";

/// The sweep: each keyword keepalived 2.2.7's checker installs.
const CASES: &[Case] = &[
    // global_parser.c: the checker's and LVS's globals.
    case(
        "lvs_timeouts",
        Global,
        "lvs_timeouts tcp 900 tcpfin 120 udp 300",
    ),
    case("lvs_flush", Global, "lvs_flush"),
    case("lvs_flush_on_stop", Global, "lvs_flush_on_stop"),
    case("lvs_flush_on_stop VS", Global, "lvs_flush_on_stop VS"),
    case("lvs_flush_onstop", Global, "lvs_flush_onstop"),
    case("lvs_sync_daemon", Global, "lvs_sync_daemon lo id 5"),
    case("checker_process_name", Global, "checker_process_name hc").expect(Tuning),
    case("lvs_process_name", Global, "lvs_process_name hc").expect(Tuning),
    case("checker_priority", Global, "checker_priority -5").expect(Tuning),
    case("checker_no_swap", Global, "checker_no_swap").expect(Tuning),
    case("checker_rt_priority", Global, "checker_rt_priority 50").expect(Tuning),
    case("checker_cpu_affinity", Global, "checker_cpu_affinity 0").expect(Tuning),
    case(
        "checker_rlimit_rttime",
        Global,
        "checker_rlimit_rttime 10000",
    )
    .expect(Tuning),
    case("checker_rlimit_rtime", Global, "checker_rlimit_rtime 10000").expect(Tuning),
    case(
        "checker_log_all_failures",
        Global,
        "checker_log_all_failures",
    ),
    case(
        "checker_log_all_failures (HTTP_GET)",
        Global,
        "checker_log_all_failures",
    )
    .checker("HTTP_GET {\n url {\n path /\n }\n }"),
    case(
        "checker_log_all_failures (MISC_CHECK)",
        Global,
        "checker_log_all_failures",
    )
    .checker(MISC),
    case("smtp_alert_checker", Global, "smtp_alert_checker"),
    case("no_checker_emails", Global, "no_checker_emails"),
    case("notify_fifo", Global, "notify_fifo /tmp/kl-sweep.fifo"),
    case(
        "lvs_notify_fifo",
        Global,
        "lvs_notify_fifo /tmp/kl-sweep.fifo",
    ),
    case(
        "lvs_notify_fifo_script",
        Global,
        "lvs_notify_fifo_script /bin/true\n  lvs_notify_fifo /tmp/kl-sweep.fifo",
    ),
    case(
        "enable_script_security",
        Global,
        "enable_script_security\n  script_user root",
    )
    .checker(MISC),
    case("script_user", Global, "script_user root").checker(MISC),
    case("enable_snmp_checker", Global, "enable_snmp_checker"),
    case(
        "lvs_netlink_cmd_rcv_bufs",
        Global,
        "lvs_netlink_cmd_rcv_bufs 1048576",
    )
    .expect(Tuning),
    case(
        "lvs_netlink_cmd_rcv_bufs_force",
        Global,
        "lvs_netlink_cmd_rcv_bufs_force",
    )
    .expect(Tuning),
    case(
        "lvs_netlink_monitor_rcv_bufs",
        Global,
        "lvs_netlink_monitor_rcv_bufs 1048576",
    )
    .expect(Tuning),
    case(
        "lvs_netlink_monitor_rcv_bufs_force",
        Global,
        "lvs_netlink_monitor_rcv_bufs_force",
    )
    .expect(Tuning),
    // check_parser.c: the top level.
    case("SSL", Top, SSL_BLOCK).checker("SSL_GET {\n url {\n path /\n }\n }"),
    case("virtual_server_group", Top, VSG).vs("group g1"),
    case("virtual_server_group IPv6", Top, VSG6).vs("group g6"),
    // virtual_server.
    case("virtual_server fwmark", Vs, "lvs_method DR")
        .vs("fwmark 5")
        .checker(FWM_CHECK),
    case("ip_family", Vs, "ip_family inet6")
        .vs("fwmark 5")
        .checker(FWM_CHECK),
    case("retry", Vs, "retry 2"),
    case("delay_before_retry", Vs, "delay_before_retry 2"),
    case("warmup", Vs, "warmup 5"),
    case("connect_timeout", Vs, "connect_timeout 3"),
    case("delay_loop", Vs, "delay_loop 10"),
    case("inhibit_on_failure", Vs, "inhibit_on_failure"),
    case("lb_algo", Vs, "lb_algo rr"),
    case("lvs_sched", Vs, "lvs_sched rr"),
    case("hashed", Vs, "lvs_sched sh\n  hashed"),
    case("ops", Vs, "ops\n  protocol UDP"),
    case("flag-1", Vs, "flag-1"),
    case("flag-2", Vs, "flag-2"),
    case("flag-3", Vs, "flag-3"),
    case("sh-port", Vs, "lvs_sched sh\n  sh-port"),
    case("sh-fallback", Vs, "lvs_sched sh\n  sh-fallback"),
    case("mh-port", Vs, "lvs_sched mh\n  mh-port"),
    case("mh-fallback", Vs, "lvs_sched mh\n  mh-fallback"),
    case("lb_kind", Vs, "lb_kind DR"),
    case("lvs_method", Vs, "lvs_method TUN"),
    case(
        "persistence_engine",
        Vs,
        "persistence_engine sip\n  protocol UDP\n  persistence_timeout 60",
    ),
    case("persistence_timeout", Vs, "persistence_timeout 300"),
    case(
        "persistence_granularity",
        Vs,
        "persistence_granularity 255.255.255.0\n  persistence_timeout 300",
    ),
    case("protocol", Vs, "protocol SCTP"),
    case("ha_suspend", Vs, "ha_suspend"),
    case("smtp_alert", Vs, "smtp_alert"),
    case("virtualhost", Vs, "virtualhost www.example.com")
        .checker("HTTP_GET {\n url {\n path /\n }\n }"),
    case("snmp_name", Vs, "snmp_name web"),
    case("alpha", Vs, "alpha"),
    case("omega", Vs, "omega"),
    case("quorum_up", Vs, "quorum_up /bin/true"),
    case("quorum_down", Vs, "quorum_down /bin/true"),
    case("quorum", Vs, "quorum 2"),
    case("hysteresis", Vs, "quorum 3\n  hysteresis 1"),
    case("weight", Vs, "weight 3"),
    case("sorry_server", Vs, "sorry_server 127.0.0.9 8080"),
    case(
        "sorry_server_inhibit",
        Vs,
        "sorry_server 127.0.0.9 8080\n  sorry_server_inhibit",
    ),
    case(
        "sorry_server_lvs_method",
        Vs,
        "sorry_server 127.0.0.9 8080\n  sorry_server_lvs_method DR",
    ),
    // real_server.
    case("rs weight", Rs, "weight 2"),
    case("rs lvs_method", Rs, "lvs_method DR"),
    case("uthreshold", Rs, "uthreshold 100"),
    case("lthreshold", Rs, "lthreshold 10"),
    case("rs inhibit_on_failure", Rs, "inhibit_on_failure"),
    case("notify_up", Rs, "notify_up /bin/true"),
    case("notify_down", Rs, "notify_down /bin/true"),
    case("rs alpha", Rs, "alpha"),
    case("rs retry", Rs, "retry 2"),
    case("rs delay_before_retry", Rs, "delay_before_retry 2"),
    case("rs warmup", Rs, "warmup 5"),
    case("rs connect_timeout", Rs, "connect_timeout 3"),
    case("rs delay_loop", Rs, "delay_loop 10"),
    case("rs smtp_alert", Rs, "smtp_alert"),
    case("rs virtualhost", Rs, "virtualhost www.example.com")
        .checker("HTTP_GET {\n url {\n path /\n }\n }"),
    case("rs snmp_name", Rs, "snmp_name web1"),
    // check_api.c: every checker's connection and timers.
    case("connect_ip", Check, "connect_ip 127.0.0.3"),
    case("connect_port", Check, "connect_port 8081"),
    case("bindto", Check, "bindto 127.0.0.1"),
    case("bind_port", Check, "bindto 127.0.0.1\n bind_port 40000"),
    // keepalived binds only with bindto: the port alone does nothing.
    case("bind_port alone", Check, "bind_port 40000"),
    case("bind_if", Check, "bind_if lo"),
    case("connect_timeout (checker)", Check, "connect_timeout 3"),
    case("fwmark (checker)", Check, "fwmark 9"),
    case("retry (checker)", Check, "retry 2"),
    case(
        "delay_before_retry (checker)",
        Check,
        "delay_before_retry 2",
    ),
    case("warmup (checker)", Check, "warmup 5"),
    case("delay_loop (checker)", Check, "delay_loop 10"),
    case("alpha (checker)", Check, "alpha"),
    case("log_all_failures", Check, "log_all_failures"),
    case(
        "log_all_failures (HTTP_GET)",
        Check,
        "log_all_failures\n url {\n path /\n }",
    )
    .checker("HTTP_GET"),
    case(
        "log_all_failures (SSL_GET)",
        Check,
        "log_all_failures\n url {\n path /\n }",
    )
    .checker("SSL_GET"),
    case("log_all_failures (SMTP_CHECK)", Check, "log_all_failures").checker("SMTP_CHECK"),
    case(
        "log_all_failures (DNS_CHECK)",
        Check,
        "log_all_failures\n name example.org",
    )
    .checker("DNS_CHECK"),
    case(
        "log_all_failures (MISC_CHECK)",
        Check,
        "log_all_failures\n misc_path /bin/true",
    )
    .checker("MISC_CHECK"),
    // The checkers.
    case("TCP_CHECK", Check, "connect_timeout 3"),
    case("HTTP_GET", Check, "url {\n path /\n }").checker("HTTP_GET"),
    case("SSL_GET", Check, "url {\n path /\n }").checker("SSL_GET"),
    case("nb_get_retry", Check, "nb_get_retry 2\n url {\n path /\n }").checker("HTTP_GET"),
    case(
        "http virtualhost",
        Check,
        "virtualhost a.example\n url {\n path /\n }",
    )
    .checker("HTTP_GET"),
    case(
        "http_protocol",
        Check,
        "http_protocol 1.1\n url {\n path /\n }",
    )
    .checker("HTTP_GET"),
    case("enable_sni", Check, "enable_sni\n url {\n path /\n }").checker("SSL_GET"),
    case("fast_recovery", Check, "fast_recovery\n url {\n path /\n }").checker("HTTP_GET"),
    case("url path", Url, "status_code 200").checker("HTTP_GET"),
    case("digest", Url, "digest 9b3a0c85a887a256d6939da88aabd8cd").checker("HTTP_GET"),
    case("status_code", Url, "status_code 200-299 301").checker("HTTP_GET"),
    case("url virtualhost", Url, "virtualhost b.example").checker("HTTP_GET"),
    case("regex", Url, "regex \"^ok\"").checker("HTTP_GET"),
    case("regex_no_match", Url, "regex \"fail\"\n regex_no_match").checker("HTTP_GET"),
    case(
        "regex_options",
        Url,
        "regex \"ok\"\n regex_options caseless multiline",
    )
    .checker("HTTP_GET"),
    case("regex_min_offset", Url, "regex \"ok\"\n regex_min_offset 2").checker("HTTP_GET"),
    case(
        "regex_max_offset",
        Url,
        "regex \"ok\"\n regex_max_offset 100",
    )
    .checker("HTTP_GET"),
    case("regex_stack", Url, "regex \"ok\"\n regex_stack 1024 4096").checker("HTTP_GET"),
    case("SMTP_CHECK", Check, "connect_timeout 3").checker("SMTP_CHECK"),
    case("helo_name", Check, "helo_name me.example").checker("SMTP_CHECK"),
    case(
        "host",
        Check,
        "host {\n connect_ip 127.0.0.4\n connect_port 25\n }",
    )
    .checker("SMTP_CHECK"),
    case("DNS_CHECK", Check, "connect_port 53").checker("DNS_CHECK"),
    case("type", Check, "type A").checker("DNS_CHECK"),
    case("name", Check, "name example.org").checker("DNS_CHECK"),
    case("UDP_CHECK", Check, "connect_port 53").checker("UDP_CHECK"),
    case("payload", Check, "payload 0a0b").checker("UDP_CHECK"),
    case("require_reply", Check, "require_reply 0a").checker("UDP_CHECK"),
    case("min_reply_length", Check, "min_reply_length 2").checker("UDP_CHECK"),
    case("max_reply_length", Check, "max_reply_length 20").checker("UDP_CHECK"),
    case("PING_CHECK", Check, "connect_timeout 3").checker("PING_CHECK"),
    case("FILE_CHECK track_file", Check, "track_file tf")
        .checker("FILE_CHECK")
        .top(TRACK_FILE),
    case(
        "FILE_CHECK weight",
        Check,
        "track_file tf\n weight 5 reverse",
    )
    .checker("FILE_CHECK")
    .top(TRACK_FILE),
    case("misc_path", Check, "misc_path /bin/true").checker("MISC_CHECK"),
    case(
        "misc_timeout",
        Check,
        "misc_path /bin/true\n misc_timeout 5",
    )
    .checker("MISC_CHECK"),
    case("misc_dynamic", Check, "misc_path /bin/true\n misc_dynamic").checker("MISC_CHECK"),
    case("user", Check, "misc_path /bin/true\n user root").checker("MISC_CHECK"),
    case("BFD_CHECK", Check, "name b1")
        .checker("BFD_CHECK")
        .top(BFD)
        .expect(Refused),
];

/// The default lines of the `virtual_server` block; a case's own line
/// with the same keyword (or an alias) replaces it.
const VS_DEFAULTS: [(&str, &str); 3] = [
    ("lvs_sched", "lvs_sched wlc"),
    ("lvs_method", "lvs_method NAT"),
    ("protocol", "protocol TCP"),
];

/// The configuration of `c`, and the line its keyword is on.
fn config(c: &Case) -> (String, u32) {
    let own = |at: At| if c.at == at { c.lines } else { "" };
    let written = |kw: &str| {
        c.at == Vs
            && c.lines.lines().any(|l| {
                let w = l.split_whitespace().next().unwrap_or("");
                w == kw
                    || (kw, w) == ("lvs_sched", "lb_algo")
                    || (kw, w) == ("lvs_method", "lb_kind")
            })
    };
    let fwmark = c.vs.starts_with("fwmark");
    let vs_defaults: Vec<&str> = VS_DEFAULTS
        .iter()
        .filter(|(k, _)| !(written(k) || (fwmark && *k == "protocol")))
        .map(|(_, l)| *l)
        .collect();
    let (check_body, url) = match c.at {
        Check => (c.lines, ""),
        Url => ("", c.lines),
        _ => ("", ""),
    };
    let checker = match (c.at, c.checker) {
        (Url, k) => {
            format!("{k} {{\n      url {{\n        path /\n        {url}\n      }}\n    }}")
        }
        (_, k) if k.contains('{') => k.to_string(),
        (_, k) => format!("{k} {{\n      {check_body}\n    }}"),
    };
    let rs_weight = if c.at == Rs && c.lines.starts_with("weight") {
        ""
    } else {
        "weight 3"
    };
    let rs_port = if fwmark { "" } else { " 8080" };
    let rs_ip = if c.lines.contains("inet6") {
        "fd00::2"
    } else if c.vs == "group g6" {
        "fd00::9"
    } else {
        "127.0.0.2"
    };
    let text = format!(
        "global_defs {{\n  router_id sweep\n  {global}\n}}\n{top}{own_top}\
         virtual_server {vs} {{\n  delay_loop 5\n  {defaults}\n  {vs_lines}\n  \
         real_server {rs_ip}{rs_port} {{\n    {rs_weight}\n    {rs_lines}\n    {checker}\n  }}\n}}\n",
        global = own(Global),
        top = c.top,
        own_top = own(Top),
        vs = c.vs,
        defaults = vs_defaults.join("\n  "),
        vs_lines = own(Vs),
        rs_lines = own(Rs),
    );
    // A checker's own case is about its block's head line.
    let head = format!("{} {{", c.checker);
    let first = if c.keyword == c.checker {
        head.as_str()
    } else {
        keyword_line(c)
    };
    let line = text
        .lines()
        .position(|l| l.trim() == first)
        .map_or(0, |i| i as u32 + 1);
    (text, line)
}

/// The keyword itself: `rs weight` -> `weight`, `fwmark (checker)` -> `fwmark`.
fn keyword_word(c: &Case) -> &'static str {
    let word = c.keyword.trim_start_matches("rs ");
    word.split_whitespace().next().unwrap_or(word)
}

/// The case's line that holds its keyword: the first whose first word is
/// the keyword's (`rs weight` -> `weight`), else its first line.
fn keyword_line(c: &Case) -> &'static str {
    let word = keyword_word(c);
    let mut lines = c.lines.lines().map(str::trim);
    let first = lines.clone().next().unwrap_or("");
    lines
        .find(|l| l.split_whitespace().next() == Some(word))
        .unwrap_or(first)
}

/// A scratch directory, removed on drop.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(tag: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("kl-sweep-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn write(&self, i: usize, c: &Case) -> (std::path::PathBuf, u32) {
        let (text, line) = config(c);
        let path = self.0.join(format!("case{i}.conf"));
        std::fs::write(&path, text).unwrap();
        (path, line)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What `keepalived-lite -t` said: its exit code and the messages on
/// `line`.
fn ours(path: &Path, line: u32) -> (i32, Vec<String>) {
    let out = Command::new(BIN)
        .arg("-t")
        .arg("-f")
        .arg(path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let tag = format!("{}:{line}:", path.display());
    let on_line = stderr
        .lines()
        .filter(|l| l.starts_with(&tag))
        .map(str::to_string)
        .collect();
    (out.status.code().unwrap_or(-1), on_line)
}

fn verdict_of(rc: i32, on_line: &[String]) -> Option<Verdict> {
    match (rc, on_line) {
        (0, [note]) if note.contains("accepted without effect") => Some(Tuning),
        // Nothing, or a deprecation note (`lb_algo`, `nb_get_retry`); 6:
        // scripts run without enable_script_security, which keepalived
        // reports with 6 too.
        (0 | 6, notes) if notes.iter().all(|n| n.contains(": warning: ")) => Some(Runs),
        (5, [_, ..]) if on_line.iter().any(|l| l.contains(": error: ")) => Some(Refused),
        _ => None,
    }
}

#[test]
fn checker_keywords_have_the_expected_verdicts() {
    let dir = Scratch::new("lite");
    let mut wrong = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        let (path, line) = dir.write(i, c);
        assert_ne!(line, 0, "{}: keyword line not found", c.keyword);
        let (rc, on_line) = ours(&path, line);
        let got = verdict_of(rc, &on_line);
        let names_it = c.expect != Refused || on_line.iter().any(|l| l.contains(keyword_word(c)));
        if got != Some(c.expect) || !names_it {
            let text = std::fs::read_to_string(&path).unwrap();
            wrong.push(format!(
                "{}: expected {:?}, got rc {rc} {on_line:?}\n{text}",
                c.keyword, c.expect
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// The sweep cases are distinct keywords, and every configuration puts its
/// keyword where the table says.
#[test]
fn sweep_configurations_hold_their_keyword() {
    let mut names: Vec<&str> = CASES.iter().map(|c| c.keyword).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), CASES.len(), "duplicate sweep case names");
    let (text, line) = config(&case("quorum", Vs, "quorum 2"));
    assert_eq!(
        text.lines().nth(line as usize - 1).unwrap().trim(),
        "quorum 2"
    );
    assert!(text.contains("virtual_server 127.0.0.1 8080 {"), "{text}");
    assert!(
        text.contains("lvs_sched wlc") && text.contains("protocol TCP"),
        "{text}"
    );
    let (text, _) = config(&case("lb_algo", Vs, "lb_algo rr"));
    assert!(!text.contains("lvs_sched wlc"), "{text}");
}

/// A network namespace with only `lo`, deleted on drop.
struct Netns(String);

impl Netns {
    fn new() -> Self {
        let name = format!("kl-sweep-{}", std::process::id());
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "ip netns add failed (this test needs root)");
        let ns = Netns(name);
        let up = Command::new("ip")
            .args(["-n", &ns.0, "link", "set", "lo", "up"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(up, "lo up failed");
        ns
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// What keepalived 2.2.7 `-t` said: its exit code and all its output.
fn keepalived(ns: &Netns, path: &Path) -> (i32, String) {
    let out = Command::new("ip")
        .args(["netns", "exec", &ns.0, "keepalived", "-t", "-f"])
        .arg(path)
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code().unwrap_or(-1), text.trim().to_string())
}

#[test]
fn root_netns_keepalived_accepts_every_swept_keyword() {
    let version = Command::new("keepalived").arg("-v").output();
    let Ok(version) = version else {
        panic!("keepalived is not installed: this test runs the real keepalived 2.2.7 -t");
    };
    let v = String::from_utf8_lossy(&version.stderr).to_string();
    assert!(v.contains("v2.2.7"), "expected keepalived 2.2.7, got: {v}");
    let ns = Netns::new();
    let dir = Scratch::new("ka");
    let mut rows = Vec::new();
    let mut wrong = Vec::new();
    for (i, c) in CASES.iter().enumerate() {
        let (path, line) = dir.write(i, c);
        let (rc, text) = keepalived(&ns, &path);
        let (our_rc, on_line) = ours(&path, line);
        // keepalived accepts a deprecated keyword and runs it, with a
        // message that turns its exit code to 5.
        let is_deprecated = rc == 5 && text.lines().all(|l| l.contains("deprecated"));
        // Scripts without enable_script_security: run as root, with a
        // warning and exit code 6.
        let insecure = rc == 6 && text.lines().all(|l| l.contains("SECURITY VIOLATION"));

        let ours = match verdict_of(our_rc, &on_line) {
            Some(v) => format!("{v:?}"),
            None => format!("rc {our_rc}"),
        };
        let detail = on_line
            .first()
            .map(|l| l.split(": ").skip(2).collect::<Vec<_>>().join(": "))
            .unwrap_or_default();
        rows.push(format!(
            "| `{}` | {:?} | {} | {} | {} |",
            c.keyword,
            c.at,
            match (rc, is_deprecated) {
                (0, _) => "accepts".to_string(),
                (_, true) => format!("accepts, deprecated: {text}"),
                _ if insecure => "accepts (scripts run as root: rc 6)".to_string(),
                _ => format!("rc {rc}: {}", text.replace('\n', " / ")),
            },
            ours,
            detail.replace('|', "\\|"),
        ));
        if rc != 0 && !is_deprecated && !insecure {
            let conf = std::fs::read_to_string(&path).unwrap();
            wrong.push(format!("{}: keepalived rc {rc}: {text}\n{conf}", c.keyword));
        }
    }
    if let Ok(out) = std::env::var("CHECKER_SWEEP_REPORT") {
        let head = "| keyword | where | keepalived 2.2.7 -t | keepalived-lite -t | keepalived-lite says |\n|---|---|---|---|---|\n";
        std::fs::write(out, head.to_string() + &rows.join("\n") + "\n").unwrap();
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
