//! The endpoint's text as `prometheus-client`'s `Registry` renders it:
//! what the endpoint served before [`super::render`] replaced it for
//! speed. Kept as the reference that the tests compare [`super::render`]
//! with line by line, and as the anchor of the scrape benchmark
//! (`benches/benches/metrics_scrape.rs`). Not used by the daemon.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;
use prometheus_client::registry::Unit;

use crate::observe::{CheckerState, Latency, VrrpState, LATENCY_BUCKETS};

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
struct VirtualServerLabels {
    virtual_server: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabels {
    op: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CheckLabels {
    virtual_server: String,
    real_server: String,
    outcome: String,
}

/// The OpenMetrics text of one scrape of `vrrp` and `checker`, encoded by
/// a fresh `Registry` (samples of a family in hash order).
pub fn render(vrrp: Option<&VrrpState>, checker: Option<&CheckerState>) -> String {
    let mut registry = Registry::with_prefix("keepalived");
    if let Some(v) = vrrp {
        register_vrrp(&mut registry, v);
    }
    if let Some(c) = checker {
        register_checker(&mut registry, c);
    }
    let mut out = String::new();
    // Cannot fail: a String takes any text.
    let _ = encode(&mut out, &registry);
    out
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
    register_services(r, c);
    let latencies = c.real_servers.iter().map(|rs| {
        let labels = RealServerLabels {
            virtual_server: rs.virtual_server.clone(),
            real_server: rs.real_server.clone(),
        };
        (labels, rs.latency)
    });
    r.register_collector(Box::new(Latencies(latencies.collect())));
}

/// The virtual servers' gauges and the IPVS counters.
fn register_services(r: &mut Registry, c: &CheckerState) {
    let vs = |name: &str| VirtualServerLabels {
        virtual_server: name.to_owned(),
    };
    let quorum =
        (c.virtual_servers.iter()).filter_map(|v| Some((vs(&v.name), i64::from(v.quorum_up?))));
    let help = super::render::QUORUM_HELP.trim_end_matches('.');
    r.register("virtual_server_quorum_up", help, gauges(quorum));
    let weight = (c.virtual_servers.iter()).map(|v| {
        (
            vs(&v.name),
            i64::try_from(v.active_weight).unwrap_or(i64::MAX),
        )
    });
    let help = super::render::ACTIVE_WEIGHT_HELP.trim_end_matches('.');
    r.register("virtual_server_active_weight", help, gauges(weight));
    let op = |name: &str| OpLabels {
        op: name.to_owned(),
    };
    let ops = (c.ipvs.iter()).map(|(name, n)| (op(name), n.operations));
    let help = "IPVS requests sent to the kernel, by operation";
    r.register("ipvs_operations", help, counters(ops));
    let failures = (c.ipvs.iter()).map(|(name, n)| (op(name), n.failures));
    let help = "IPVS requests that failed, by operation";
    r.register("ipvs_failures", help, counters(failures));
}

/// Each real server's check duration histogram.
#[derive(Debug)]
struct Latencies(Vec<(RealServerLabels, Latency)>);

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
            let buckets: Vec<(f64, u64)> = (LATENCY_BUCKETS.iter().copied())
                .chain([f64::INFINITY])
                .zip(h.buckets)
                .collect();
            let mut e = family.encode_family(labels)?;
            e.encode_histogram::<NoLabelSet>(h.sum, h.count, &buckets, None)?;
        }
        Ok(())
    }
}
