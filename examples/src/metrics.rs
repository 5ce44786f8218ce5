//! `--metrics-listen ADDR`: Prometheus/OpenMetrics text at `GET /metrics`,
//! encoded by `prometheus-client` from what the halves publish
//! ([`crate::observe`]) at the time of the scrape. Nothing is counted twice:
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

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use prometheus_client::registry::Unit;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tracing::{error, info};

use crate::observe::{self, CheckerState, VrrpState};

/// OpenMetrics' content type.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The Prometheus text format's content type.
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
/// Longest request head read.
const MAX_REQUEST: usize = 8192;
/// How long a client may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InstanceLabels {
    instance: String,
    interface: String,
    vrid: u8,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DropLabels {
    instance: String,
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RealServerLabels {
    virtual_server: String,
    real_server: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckLabels {
    virtual_server: String,
    real_server: String,
    outcome: String,
}

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
    let response = match head.split_whitespace().take(2).collect::<Vec<_>>()[..] {
        ["GET", "/metrics"] => {
            let body = scrape().await;
            let (kind, body) = if accepts_openmetrics(&head) {
                (OPENMETRICS, body)
            } else {
                (PROMETHEUS_TEXT, prometheus_text(&body))
            };
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
        }
        _ => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// True if the request's `Accept` names OpenMetrics (as Prometheus's does).
fn accepts_openmetrics(head: &str) -> bool {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .any(|(k, v)| {
            k.eq_ignore_ascii_case("accept") && v.contains("application/openmetrics-text")
        })
}

/// OpenMetrics text as the older Prometheus text format (0.0.4): a
/// counter's HELP and TYPE name its `_total` samples, and the `# EOF` and
/// `# UNIT` lines go.
pub fn prometheus_text(openmetrics: &str) -> String {
    let mut out = String::with_capacity(openmetrics.len());
    let mut help: Option<&str> = None;
    for line in openmetrics.lines() {
        if line.starts_with("# HELP ") {
            help = Some(line);
            continue;
        }
        if let Some(t) = line.strip_prefix("# TYPE ") {
            let counter = t.strip_suffix(" counter");
            if let Some(h) = help.take() {
                match counter {
                    Some(name) => out.push_str(&h.replacen(name, &format!("{name}_total"), 1)),
                    None => out.push_str(h),
                }
                out.push('\n');
            }
            match counter {
                Some(name) => out.push_str(&format!("# TYPE {name}_total counter")),
                None => out.push_str(line),
            }
            out.push('\n');
            continue;
        }
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
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

/// The text of one scrape.
pub async fn scrape() -> String {
    let mut registry = Registry::with_prefix("keepalived");
    if let Some(v) = observe::vrrp().await {
        register_vrrp(&mut registry, &v);
    }
    if let Some(c) = observe::checker() {
        register_checker(&mut registry, &c);
    }
    let mut out = String::new();
    if let Err(e) = encode(&mut out, &registry) {
        error!("metrics: cannot encode: {e}");
    }
    out
}

/// A family of counters set to the values given.
fn counters<L>(values: impl IntoIterator<Item = (L, u64)>) -> Family<L, Counter>
where
    L: Clone + std::hash::Hash + Eq + std::fmt::Debug + EncodeLabelSet + Send + Sync + 'static,
{
    let f = Family::<L, Counter>::default();
    for (labels, v) in values {
        f.get_or_create(&labels).inc_by(v);
    }
    f
}

/// A family of gauges set to the values given.
fn gauges<L>(values: impl IntoIterator<Item = (L, i64)>) -> Family<L, Gauge>
where
    L: Clone + std::hash::Hash + Eq + std::fmt::Debug + EncodeLabelSet + Send + Sync + 'static,
{
    let f = Family::<L, Gauge>::default();
    for (labels, v) in values {
        f.get_or_create(&labels).set(v);
    }
    f
}

/// A counter set to `v`.
fn counter(v: u64) -> Counter {
    let c = Counter::default();
    c.inc_by(v);
    c
}

fn register_vrrp(r: &mut Registry, v: &VrrpState) {
    let running: Vec<_> = (v.instances.iter())
        .filter_map(|i| {
            let labels = InstanceLabels {
                instance: i.view.spec.config.name.to_string(),
                interface: i.view.spec.interface.clone(),
                vrid: i.view.spec.config.vrid,
            };
            Some((labels, i.view.spec.config.priority, i.run.as_ref()?))
        })
        .collect();
    let each = |f: &dyn Fn(&vrrp::linux::driver::RouterSnapshot) -> u64| {
        counters(running.iter().map(|(l, _, s)| (l.clone(), f(s))))
    };
    let states = running
        .iter()
        .map(|(l, _, s)| (l.clone(), i64::from(crate::dump::state_number(s.state))));
    r.register(
        "vrrp_state",
        "VRRP state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT",
        gauges(states),
    );
    let base = running.iter().map(|(l, p, _)| (l.clone(), i64::from(*p)));
    r.register("vrrp_priority", "Configured (base) priority", gauges(base));
    let eff = running
        .iter()
        .map(|(l, _, s)| (l.clone(), i64::from(s.priority)));
    r.register(
        "vrrp_effective_priority",
        "Priority with tracking weights",
        gauges(eff),
    );
    r.register(
        "vrrp_became_master",
        "Transitions to MASTER",
        each(&|s| s.counters.became_master),
    );
    r.register(
        "vrrp_released_master",
        "Transitions out of MASTER",
        each(&|s| s.counters.released_master),
    );
    r.register(
        "vrrp_adverts_sent",
        "Adverts sent",
        each(&|s| s.counters.adverts_sent),
    );
    r.register(
        "vrrp_adverts_received",
        "Valid adverts received",
        each(&|s| s.counters.adverts_received),
    );
    let pz_sent = each(&|s| s.counters.priority_zero_sent);
    r.register(
        "vrrp_priority_zero_sent",
        "Priority-0 adverts sent",
        pz_sent,
    );
    let pz_rcvd = each(&|s| s.counters.priority_zero_received);
    r.register(
        "vrrp_priority_zero_received",
        "Priority-0 adverts received",
        pz_rcvd,
    );
    let drops = running.iter().flat_map(|(l, _, s)| {
        s.counters.dropped.iter().map(|(reason, n)| {
            let labels = DropLabels {
                instance: l.instance.clone(),
                reason: reason.as_str().to_owned(),
            };
            (labels, n)
        })
    });
    r.register(
        "vrrp_dropped",
        "Received datagrams dropped, by reason",
        counters(drops),
    );
    let d = &v.snapshot.driver;
    r.register(
        "vrrp_datagrams_received",
        "Datagrams read from the VRRP sockets",
        counter(d.datagrams_received),
    );
    r.register(
        "vrrp_datagrams_sent",
        "Datagrams handed to the kernel",
        counter(d.datagrams_sent),
    );
    r.register(
        "vrrp_send_errors",
        "Adverts the kernel refused",
        counter(d.send_errors),
    );
    r.register(
        "vrrp_receive_errors",
        "Reads from the VRRP sockets that failed (not counting would-block)",
        counter(d.receive_errors),
    );
    r.register(
        "vrrp_events_lost",
        "Driver events dropped because the daemon's queue was full",
        counter(d.events_lost),
    );
    r.register(
        "vrrp_garps_sent",
        "Gratuitous ARPs sent",
        counter(d.garps_sent),
    );
    r.register(
        "vrrp_host_errors",
        "Address, route and GARP operations that failed",
        counter(d.host_errors),
    );
    r.register(
        "vrrp_unknown_vrid",
        "Datagrams for a VRID no instance has",
        counter(v.snapshot.mux.unknown_vrid),
    );
}

fn register_checker(r: &mut Registry, c: &CheckerState) {
    let up = c.real_servers.iter().map(|rs| {
        let labels = RealServerLabels {
            virtual_server: rs.virtual_server.clone(),
            real_server: rs.real_server.clone(),
        };
        (labels, i64::from(rs.up))
    });
    r.register(
        "real_server_up",
        "1 while the real server's checks pass",
        gauges(up),
    );
    let checks = c.real_servers.iter().flat_map(|rs| {
        rs.outcomes.iter().map(|(outcome, n)| {
            let labels = CheckLabels {
                virtual_server: rs.virtual_server.clone(),
                real_server: rs.real_server.clone(),
                outcome: (*outcome).to_owned(),
            };
            (labels, *n)
        })
    });
    r.register("checks", "Health checks run, by outcome", counters(checks));
    let latencies = c.real_servers.iter().map(|rs| {
        let labels = RealServerLabels {
            virtual_server: rs.virtual_server.clone(),
            real_server: rs.real_server.clone(),
        };
        (labels, rs.latency.clone())
    });
    r.register_collector(Box::new(Latencies(latencies.collect())));
}

/// Each real server's check duration histogram, as kept by its checker.
#[derive(Debug)]
struct Latencies(Vec<(RealServerLabels, Histogram)>);

impl Collector for Latencies {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> std::fmt::Result {
        let help = "How long health checks take.";
        let unit = Unit::Seconds;
        let mut family = encoder.encode_descriptor(
            "check_duration",
            help,
            Some(&unit),
            MetricType::Histogram,
        )?;
        for (labels, h) in &self.0 {
            h.encode(family.encode_family(labels)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::observe::RealServerState;

    #[test]
    fn counters_are_renamed_for_the_prometheus_text_format() {
        let om = "# HELP a_b Things.\n# TYPE a_b counter\na_b_total{x=\"1\"} 3\n\
                  # HELP g A gauge.\n# TYPE g gauge\ng 2\n# EOF\n";
        assert_eq!(
            prometheus_text(om),
            "# HELP a_b_total Things.\n# TYPE a_b_total counter\na_b_total{x=\"1\"} 3\n\
             # HELP g A gauge.\n# TYPE g gauge\ng 2\n"
        );
    }

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
    fn real_servers_give_health_and_checks_by_outcome() {
        let rs = |name: &str, up, outcomes: &[(&'static str, u64)]| RealServerState {
            virtual_server: "[10.0.0.1]:tcp:80".into(),
            real_server: name.into(),
            up,
            outcomes: outcomes.iter().copied().collect::<BTreeMap<_, _>>(),
            latency: Histogram::new([0.01, 1.0]),
        };
        let state = CheckerState {
            real_servers: vec![
                rs("[10.0.1.1]:tcp:80", true, &[("up", 7)]),
                rs("[10.0.1.2]:tcp:80", false, &[("refused", 2), ("up", 1)]),
            ],
        };
        state.real_servers[0].latency.observe(0.002);
        state.real_servers[0].latency.observe(0.5);
        let mut registry = Registry::with_prefix("keepalived");
        register_checker(&mut registry, &state);
        let mut text = String::new();
        encode(&mut text, &registry).expect("encodes");
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
            format!("keepalived_check_duration_seconds_bucket{{le=\"0.01\",{vs},{a}}} 1"),
            format!("keepalived_check_duration_seconds_bucket{{le=\"1.0\",{vs},{a}}} 2"),
            format!("keepalived_check_duration_seconds_count{{{vs},{a}}} 2"),
            format!("keepalived_check_duration_seconds_sum{{{vs},{a}}} 0.502"),
            format!("keepalived_check_duration_seconds_count{{{vs},{b}}} 0"),
        ] {
            assert!(lines.contains(&want.as_str()), "{want} not in\n{text}");
        }
    }
}
