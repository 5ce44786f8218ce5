//! `--metrics-listen ADDR`: Prometheus/OpenMetrics text at `GET /metrics`,
//! rendered ([`render()`], the text `prometheus-client` would encode) from
//! what the halves publish ([`crate::observe`]) at the time of the scrape. Nothing is counted twice:
//! every value is read from the crates' own counters.
//!
//! Per VRRP instance (labels `instance`, `interface`, `vrid`): state
//! (keepalived's numbers: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT), base and
//! effective priority, transitions to and from MASTER, adverts and
//! priority-0 adverts sent and received, drops by reason. For the VRRP
//! driver: datagrams, send and host errors, GARPs, datagrams for unknown
//! VRIDs. Per real server (labels `virtual_server`, `real_server`): health,
//! checks by outcome and a check duration histogram.
//!
//! The HTTP side is the least a scraper needs: one request per connection,
//! `GET /metrics` answered, anything else 404. The body is OpenMetrics
//! when the scraper's `Accept` asks for it (Prometheus does), else the
//! Prometheus text format (`promtool check metrics` reads that one).

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{error, info};

use crate::observe;

pub mod reference;
mod render;

pub use render::{render, render_all, Format};

/// OpenMetrics' content type.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The Prometheus text format's content type.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Longest request head read.
const MAX_REQUEST: usize = 8192;
/// How long a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Starts the endpoint on its own thread; returns once it listens (an
/// address that cannot be bound is an error, as for any daemon socket).
pub fn spawn(addr: SocketAddr) -> std::io::Result<()> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("metrics".into())
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            rt.block_on(async move {
                match TcpListener::bind(addr).await {
                    Ok(listener) => {
                        let _ = tx.send(Ok(()));
                        serve(listener).await;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                    }
                }
            });
        })?;
    rx.recv()
        .unwrap_or_else(|_| Err(std::io::Error::other("the metrics thread ended")))?;
    info!("Serving metrics on http://{addr}/metrics");
    Ok(())
}

async fn serve(listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(answer(stream));
            }
            Err(e) => {
                error!("metrics: accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Reads one request head and answers it.
async fn answer(mut stream: TcpStream) {
    let Ok(Some(head)) = tokio::time::timeout(REQUEST_TIMEOUT, read_head(&mut stream)).await else {
        return;
    };
    let mut words = head.split_whitespace();
    if (words.next(), words.next()) != (Some("GET"), Some("/metrics")) {
        let not_found = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        let _ = stream.write_all(not_found.as_bytes()).await;
        let _ = stream.shutdown().await;
        return;
    }
    let (format, kind) = if accepts_openmetrics(&head) {
        (Format::OpenMetrics, OPENMETRICS)
    } else {
        (Format::Prometheus, PROMETHEUS_TEXT)
    };
    let mut body = take_buffer();
    scrape(&mut body, format).await;
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // Head and body leave in two writes: without Nagle the body does not
    // wait for the head's acknowledgement.
    let _ = stream.set_nodelay(true);
    if stream.write_all(head.as_bytes()).await.is_ok() {
        let _ = stream.write_all(body.as_bytes()).await;
    }
    let _ = stream.shutdown().await;
    give_back(body);
}

/// Scrape buffers kept for the next scrape: a scrape of 1,000 instances is
/// about 800 KB, which would otherwise be allocated (and faulted in) anew
/// each time. At most [`KEPT_BUFFERS`], for concurrent scrapes.
static BUFFERS: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
/// How many scrape buffers are kept.
const KEPT_BUFFERS: usize = 2;

fn take_buffer() -> String {
    let mut kept = BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
    kept.pop().unwrap_or_default()
}

fn give_back(mut body: String) {
    body.clear();
    let mut kept = BUFFERS.lock().unwrap_or_else(|e| e.into_inner());
    if kept.len() < KEPT_BUFFERS {
        kept.push(body);
    }
}

/// True if the request's `Accept` names OpenMetrics (as Prometheus's does).
fn accepts_openmetrics(head: &str) -> bool {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .any(|(k, v)| {
            k.eq_ignore_ascii_case("accept") && v.contains("application/openmetrics-text")
        })
}

async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_REQUEST {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(chunk.get(..n)?);
    }
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// Appends one scrape of the halves now to `out`.
pub async fn scrape(out: &mut String, format: Format) {
    let vrrp = observe::vrrp().await;
    let checker = observe::checker();
    let scripts = healthcheck::script::run_counts();
    render_all(out, format, vrrp.as_ref(), checker.as_ref(), &scripts);
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::net::Ipv4Addr;
    use std::sync::Arc;
    use std::time::Instant;

    use vrrp::config::Config;
    use vrrp::linux::driver::{RouterSnapshot, RouterSpec, Snapshot, VirtualAddress};
    use vrrp::mux::RouterId;
    use vrrp::{State, VirtualRouter};

    use super::*;
    use crate::observe::{
        CheckerState, InstanceState, InstanceView, IpvsCounts, Latency, RealServerState,
        VirtualServerState, VrrpState,
    };

    #[test]
    fn openmetrics_only_when_asked_for() {
        let prom = "GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text;version=1.0.0,text/plain;q=0.5\r\n\r\n";
        assert!(accepts_openmetrics(prom));
        assert!(!accepts_openmetrics(
            "GET /metrics HTTP/1.1\r\nAccept: */*\r\n\r\n"
        ));
        assert!(!accepts_openmetrics("GET /metrics HTTP/1.0\r\n\r\n"));
    }

    #[test]
    fn counters_are_renamed_for_the_prometheus_text_format() {
        let om = "# HELP a_b Things.\n# TYPE a_b counter\na_b_total{x=\"1\"} 3\n\
                  # HELP g A gauge.\n# TYPE g gauge\ng 2\n# EOF\n";
        assert_eq!(
            reference::prometheus_text(om),
            "# HELP a_b_total Things.\n# TYPE a_b_total counter\na_b_total{x=\"1\"} 3\n\
             # HELP g A gauge.\n# TYPE g gauge\ng 2\n"
        );
    }

    /// A running instance (or one the driver has no state for, if
    /// `state` is None) with `counters`.
    fn instance(
        name: &str,
        vrid: u8,
        state: Option<State>,
        counters: vrrp::counters::Counters,
    ) -> InstanceState {
        let config = Config::new(name, vrid, 100 + vrid, Ipv4Addr::new(10, 0, 0, 1));
        let id = RouterId(u32::from(vrid));
        let spec = RouterSpec {
            config,
            interface: format!("eth{}", vrid % 2),
            addresses: vec![VirtualAddress::host(Ipv4Addr::new(10, 0, 1, vrid))],
            excluded: Vec::new(),
            routes: Vec::new(),
            rules: Vec::new(),
            use_vmac: false,
            vmac: Default::default(),
        };
        InstanceState {
            view: InstanceView {
                id,
                spec,
                extras: Arc::default(),
            },
            run: state.map(|state| RouterSnapshot {
                id,
                name: name.into(),
                state,
                priority: 90 + vrid,
                counters,
                last_master: None,
            }),
            last_transition: None,
        }
    }

    /// Counters with adverts, transitions and two kinds of drops.
    fn busy_counters() -> vrrp::counters::Counters {
        let config = Config::new("X", 1, 100, Ipv4Addr::new(10, 0, 0, 1));
        let Ok(mut router) = VirtualRouter::new(config) else {
            panic!("a valid configuration");
        };
        let now = Instant::now();
        router.handle_startup(now);
        router.handle_datagram(now, Ipv4Addr::new(10, 0, 0, 2), &[0x21, 1]);
        router.handle_datagram(now, Ipv4Addr::new(10, 0, 0, 2), &[0x21, 1]);
        router.handle_datagram(now, Ipv4Addr::new(10, 0, 0, 2), &[0x99; 40]);
        let mut c = router.counters().clone();
        assert!(c.dropped.iter().count() >= 2, "{:?}", c.dropped);
        c.adverts_sent = 12_345_678_901;
        c.adverts_received = 7;
        c.became_master = 3;
        c.released_master = 2;
        c.priority_zero_sent = 1;
        c.priority_zero_received = 4;
        c
    }

    fn vrrp_state() -> VrrpState {
        let mut snapshot = Snapshot {
            routers: Vec::new(),
            mux: Default::default(),
            driver: Default::default(),
            raw_sockets: 2,
            garp_sockets: 2,
        };
        snapshot.driver.datagrams_received = 11;
        snapshot.driver.datagrams_sent = 22;
        snapshot.driver.garps_sent = 5;
        snapshot.driver.host_errors = 1;
        snapshot.mux.unknown_vrid = 9;
        let busy = busy_counters();
        VrrpState {
            instances: vec![
                instance("VI_1", 1, Some(State::Master), busy.clone()),
                instance("VI_2", 2, Some(State::Backup), Default::default()),
                instance("gone", 3, None, Default::default()),
                instance("odd \"name\" \\ here\n", 4, Some(State::Fault), busy),
                instance("VI_5", 5, Some(State::Initialize), Default::default()),
            ],
            snapshot,
        }
    }

    fn real_server(
        vs: &str,
        rs: &str,
        up: bool,
        outcomes: &[(&'static str, u64)],
    ) -> RealServerState {
        RealServerState {
            virtual_server: vs.into(),
            real_server: rs.into(),
            up,
            outcomes: outcomes.iter().copied().collect::<BTreeMap<_, _>>(),
            latency: Latency::default(),
        }
    }

    fn checker_state() -> CheckerState {
        let mut real_servers = vec![
            real_server("[10.0.0.1]:tcp:80", "[10.0.1.1]:tcp:80", true, &[("up", 7)]),
            real_server(
                "[10.0.0.1]:tcp:80",
                "[10.0.1.2]:tcp:80",
                false,
                &[("refused", 2), ("timeout", 1), ("up", 1)],
            ),
            real_server("fwmark 5", "[10.0.1.3]:0", true, &[]),
        ];
        // Binary fractions, so that the sums are exact.
        let durations = [
            0.0009765625,
            0.00048828125,
            0.5,
            0.00390625,
            12.0,
            3.0,
            0.0625,
        ];
        for (i, d) in durations.iter().enumerate() {
            real_servers[i % 2].latency.observe(*d);
        }
        let virtual_servers = vec![
            virtual_server("[10.0.0.1]:tcp:80", Some(true), 3),
            virtual_server("[G1]:0", Some(false), 1),
            virtual_server("fwmark 5", None, 0),
        ];
        let ipvs = BTreeMap::from([
            (
                "add_dest",
                IpvsCounts {
                    operations: 5,
                    failures: 1,
                },
            ),
            (
                "edit_dest",
                IpvsCounts {
                    operations: 2,
                    failures: 0,
                },
            ),
        ]);
        CheckerState {
            real_servers,
            virtual_servers,
            ipvs,
        }
    }

    fn virtual_server(name: &str, quorum_up: Option<bool>, weight: u64) -> VirtualServerState {
        VirtualServerState {
            name: name.into(),
            quorum_up,
            active_weight: weight,
        }
    }

    /// Each family's header lines and its samples (sorted: the reference
    /// writes a family's samples in hash order).
    fn families(text: &str) -> Vec<(Vec<&str>, Vec<&str>)> {
        let mut out: Vec<(Vec<&str>, Vec<&str>)> = Vec::new();
        for line in text.lines() {
            let header = line.starts_with('#');
            match out.last_mut() {
                Some((_, samples)) if header && samples.is_empty() => {}
                Some((_, samples)) if !header => {
                    samples.push(line);
                    continue;
                }
                _ => out.push((Vec::new(), Vec::new())),
            }
            if let Some((headers, _)) = out.last_mut() {
                headers.push(line);
            }
        }
        for (_, samples) in &mut out {
            samples.sort_unstable();
        }
        out
    }

    fn rendered(
        format: Format,
        vrrp: Option<&VrrpState>,
        checker: Option<&CheckerState>,
    ) -> String {
        let mut out = String::new();
        render(&mut out, format, vrrp, checker);
        out
    }

    #[test]
    fn the_text_is_prometheus_clients_in_both_formats() {
        let (v, c) = (vrrp_state(), checker_state());
        let cases = [
            (Some(&v), Some(&c)),
            (Some(&v), None),
            (None, Some(&c)),
            (None, None),
        ];
        for (vrrp, checker) in cases {
            let want = reference::render(vrrp, checker);
            let got = rendered(Format::OpenMetrics, vrrp, checker);
            assert_eq!(families(&got), families(&want), "got\n{got}\nwant\n{want}");
            assert!(got.ends_with("\n# EOF\n") || got == "# EOF\n");
            let want = reference::prometheus_text(&want);
            let got = rendered(Format::Prometheus, vrrp, checker);
            assert_eq!(families(&got), families(&want), "got\n{got}\nwant\n{want}");
        }
        // The comparison saw every kind of line.
        let text = rendered(Format::OpenMetrics, Some(&v), Some(&c));
        for want in [
            "keepalived_vrrp_dropped_total{instance=\"VI_1\",reason=",
            "keepalived_vrrp_state{instance=\"odd \\\"name\\\" \\\\ here\\n\",interface=\"eth0\",vrid=\"4\"} 3",
            "keepalived_vrrp_adverts_sent_total{instance=\"VI_1\",interface=\"eth1\",vrid=\"1\"} 12345678901",
            "keepalived_vrrp_unknown_vrid_total 9",
            "# UNIT keepalived_check_duration_seconds seconds",
            "keepalived_check_duration_seconds_bucket{le=\"+Inf\",",
        ] {
            assert!(text.contains(want), "{want} not in\n{text}");
        }
        assert!(!text.contains("gone"), "{text}");
    }

    #[test]
    fn families_without_samples_are_left_out() {
        let v = VrrpState {
            instances: Vec::new(),
            snapshot: vrrp_state().snapshot,
        };
        let c = CheckerState {
            real_servers: Vec::new(),
            virtual_servers: Vec::new(),
            ipvs: BTreeMap::new(),
        };
        let text = rendered(Format::Prometheus, Some(&v), Some(&c));
        let headers: Vec<&str> = (text.lines())
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .collect();
        assert_eq!(
            headers,
            [
                "keepalived_vrrp_datagrams_received_total counter",
                "keepalived_vrrp_datagrams_sent_total counter",
                "keepalived_vrrp_send_errors_total counter",
                "keepalived_vrrp_receive_errors_total counter",
                "keepalived_vrrp_events_lost_total counter",
                "keepalived_vrrp_garps_sent_total counter",
                "keepalived_vrrp_host_errors_total counter",
                "keepalived_vrrp_unknown_vrid_total counter",
                "keepalived_check_duration_seconds histogram",
            ]
        );
        assert_eq!(rendered(Format::Prometheus, None, None), "");
        assert_eq!(rendered(Format::OpenMetrics, None, None), "# EOF\n");
    }

    #[test]
    fn real_servers_give_health_and_checks_by_outcome() {
        let text = rendered(Format::OpenMetrics, None, Some(&checker_state()));
        let lines: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        let vs = "virtual_server=\"[10.0.0.1]:tcp:80\"";
        let (a, b) = (
            "real_server=\"[10.0.1.1]:tcp:80\"",
            "real_server=\"[10.0.1.2]:tcp:80\"",
        );
        for want in [
            format!("keepalived_real_server_up{{{vs},{a}}} 1"),
            format!("keepalived_real_server_up{{{vs},{b}}} 0"),
            format!("keepalived_checks_total{{{vs},{a},outcome=\"up\"}} 7"),
            format!("keepalived_checks_total{{{vs},{b},outcome=\"refused\"}} 2"),
            format!("keepalived_checks_total{{{vs},{b},outcome=\"up\"}} 1"),
            // a: 2^-10, 0.5, 12 and 2^-4 s; b: 2^-11, 2^-8 and 3 s.
            format!("keepalived_check_duration_seconds_bucket{{le=\"0.001\",{vs},{a}}} 1"),
            format!("keepalived_check_duration_seconds_bucket{{le=\"0.1\",{vs},{a}}} 2"),
            format!("keepalived_check_duration_seconds_bucket{{le=\"1.0\",{vs},{a}}} 3"),
            format!("keepalived_check_duration_seconds_bucket{{le=\"10.0\",{vs},{a}}} 3"),
            format!("keepalived_check_duration_seconds_bucket{{le=\"+Inf\",{vs},{a}}} 4"),
            format!("keepalived_check_duration_seconds_count{{{vs},{a}}} 4"),
            format!("keepalived_check_duration_seconds_sum{{{vs},{a}}} 12.5634765625"),
            format!("keepalived_check_duration_seconds_bucket{{le=\"0.001\",{vs},{b}}} 1"),
            format!("keepalived_check_duration_seconds_bucket{{le=\"0.005\",{vs},{b}}} 2"),
            format!("keepalived_check_duration_seconds_count{{{vs},{b}}} 3"),
            "keepalived_check_duration_seconds_count{virtual_server=\"fwmark 5\",real_server=\"[10.0.1.3]:0\"} 0".to_owned(),
        ] {
            assert!(lines.contains(&want.as_str()), "{want} not in\n{text}");
        }
    }

    #[test]
    fn virtual_servers_and_ipvs_operations() {
        let text = rendered(Format::Prometheus, None, Some(&checker_state()));
        let lines: Vec<&str> = (text.lines())
            .filter(|l| {
                l.contains("virtual_server_quorum") || l.contains("_weight") || l.contains("ipvs")
            })
            .collect();
        assert_eq!(
            lines,
            [
                "# HELP keepalived_virtual_server_quorum_up 1 while the virtual server's active weight reaches its quorum (SNMP virtualServerQuorumStatus).",
                "# TYPE keepalived_virtual_server_quorum_up gauge",
                "keepalived_virtual_server_quorum_up{virtual_server=\"[10.0.0.1]:tcp:80\"} 1",
                "keepalived_virtual_server_quorum_up{virtual_server=\"[G1]:0\"} 0",
                "# HELP keepalived_virtual_server_active_weight Sum of the weights of the virtual server's alive real servers (inhibited ones count 0): what keepalived compares with quorum.",
                "# TYPE keepalived_virtual_server_active_weight gauge",
                "keepalived_virtual_server_active_weight{virtual_server=\"[10.0.0.1]:tcp:80\"} 3",
                "keepalived_virtual_server_active_weight{virtual_server=\"[G1]:0\"} 1",
                "keepalived_virtual_server_active_weight{virtual_server=\"fwmark 5\"} 0",
                "# HELP keepalived_ipvs_operations_total IPVS requests sent to the kernel, by operation.",
                "# TYPE keepalived_ipvs_operations_total counter",
                "keepalived_ipvs_operations_total{op=\"add_dest\"} 5",
                "keepalived_ipvs_operations_total{op=\"edit_dest\"} 2",
                "# HELP keepalived_ipvs_failures_total IPVS requests that failed, by operation.",
                "# TYPE keepalived_ipvs_failures_total counter",
                "keepalived_ipvs_failures_total{op=\"add_dest\"} 1",
                "keepalived_ipvs_failures_total{op=\"edit_dest\"} 0",
            ]
        );
    }

    #[test]
    fn script_runs_and_timeouts() {
        use healthcheck::script::RunCounts;
        let scripts = [
            (
                "/bin/check \"a\"".to_owned(),
                RunCounts {
                    runs: 4,
                    timeouts: 1,
                },
            ),
            (
                "/bin/notify".to_owned(),
                RunCounts {
                    runs: 2,
                    timeouts: 0,
                },
            ),
        ];
        let mut text = String::new();
        render_all(&mut text, Format::OpenMetrics, None, None, &scripts);
        assert_eq!(
            text,
            "# HELP keepalived_script_runs Script runs finished (track, check, notify), by command line.\n\
             # TYPE keepalived_script_runs counter\n\
             keepalived_script_runs_total{script=\"/bin/check \\\"a\\\"\"} 4\n\
             keepalived_script_runs_total{script=\"/bin/notify\"} 2\n\
             # HELP keepalived_script_timeouts Script runs killed at their timeout, by command line.\n\
             # TYPE keepalived_script_timeouts counter\n\
             keepalived_script_timeouts_total{script=\"/bin/check \\\"a\\\"\"} 1\n\
             keepalived_script_timeouts_total{script=\"/bin/notify\"} 0\n\
             # EOF\n"
        );
    }
}
