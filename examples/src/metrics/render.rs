//! One scrape's text, written straight into the caller's buffer.
//!
//! The text is what `prometheus-client` 0.26 encodes for the same metrics
//! (names, HELP and TYPE lines, label order, number formatting; its
//! `dtoa`/`itoa` are used for the numbers) and what [`super::reference`]
//! still renders through its `Registry`, which the tests compare line by
//! line. The `Registry` is bypassed because it costs more than the rest of
//! the daemon: each scrape built a `Family` per metric, cloned and hashed
//! an owned label set per sample into it, encoded every label again per
//! sample, and then converted the whole text for the Prometheus format.
//! Here each instance's and real server's label text is escaped once per
//! scrape into one buffer and every sample is a few appends. Samples come
//! in configuration (VRRP) or name (real servers) order, not hash order.

use std::ops::Range;

use healthcheck::script::RunCounts;
use vrrp::linux::driver::RouterSnapshot;

use crate::observe::{
    CheckerState, IpvsCounts, Latency, RealServerState, VrrpState, LATENCY_BUCKETS,
};

/// The text format of a scrape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// OpenMetrics 1.0 (`# UNIT` lines, counters' HELP and TYPE without
    /// `_total`, a final `# EOF`): what Prometheus asks for.
    OpenMetrics,
    /// The Prometheus text format 0.0.4 (`promtool check metrics` reads it).
    Prometheus,
}

/// Appends one scrape to `out`: the VRRP half's metrics from `vrrp` and
/// the checker half's from `checker` (`None`: that half does not run).
pub fn render(
    out: &mut String,
    format: Format,
    vrrp: Option<&VrrpState>,
    checker: Option<&CheckerState>,
) {
    render_all(out, format, vrrp, checker, &[]);
}

/// [`render`], and the runs of `scripts` (by command line).
pub fn render_all(
    out: &mut String,
    format: Format,
    vrrp: Option<&VrrpState>,
    checker: Option<&CheckerState>,
    scripts: &[(String, RunCounts)],
) {
    let mut w = Writer { out, format };
    if let Some(v) = vrrp {
        render_vrrp(&mut w, v);
    }
    if let Some(c) = checker {
        render_checker(&mut w, c);
    }
    render_scripts(&mut w, scripts);
    if format == Format::OpenMetrics {
        w.out.push_str("# EOF\n");
    }
}

/// The kinds of metric written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gauge,
    Counter,
    Histogram,
}

/// Writes headers and samples in one format.
struct Writer<'a> {
    out: &'a mut String,
    format: Format,
}

impl Writer<'_> {
    /// The HELP and TYPE (and, for OpenMetrics, UNIT) lines of `name`.
    fn header(&mut self, name: &str, help: &str, kind: Kind, unit: Option<&str>) {
        // The Prometheus format names a counter by its samples.
        let total = if kind == Kind::Counter && self.format == Format::Prometheus {
            "_total"
        } else {
            ""
        };
        let kind_name = match kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
            Kind::Histogram => "histogram",
        };
        for s in [
            "# HELP ",
            name,
            total,
            " ",
            help,
            "\n# TYPE ",
            name,
            total,
            " ",
        ] {
            self.out.push_str(s);
        }
        self.out.push_str(kind_name);
        self.out.push('\n');
        if let (Some(unit), Format::OpenMetrics) = (unit, self.format) {
            for s in ["# UNIT ", name, " ", unit, "\n"] {
                self.out.push_str(s);
            }
        }
    }

    /// One sample: `name` + `suffix`, `labels` (already escaped, without
    /// braces; may be empty) and `value`.
    fn sample(&mut self, name: &str, suffix: &str, labels: &str, value: &str) {
        self.out.push_str(name);
        self.out.push_str(suffix);
        if !labels.is_empty() {
            self.out.push('{');
            self.out.push_str(labels);
            self.out.push('}');
        }
        self.out.push(' ');
        self.out.push_str(value);
        self.out.push('\n');
    }

    fn counter(&mut self, name: &str, labels: &str, value: u64) {
        self.sample(name, "_total", labels, itoa::Buffer::new().format(value));
    }

    fn gauge(&mut self, name: &str, labels: &str, value: i64) {
        self.sample(name, "", labels, itoa::Buffer::new().format(value));
    }
}

/// Label text, escaped once per scrape: one buffer, a range per owner.
#[derive(Default)]
struct Labels {
    text: String,
    spans: Vec<Range<usize>>,
}

impl Labels {
    /// Starts the next owner's labels.
    fn start(&mut self) -> usize {
        self.text.len()
    }

    /// Ends the owner's labels begun at `start`.
    fn end(&mut self, start: usize) {
        self.spans.push(start..self.text.len());
    }

    /// Appends `key="value"` (after a comma unless first), escaped as
    /// OpenMetrics wants: backslash, double quote and newline.
    fn push(&mut self, start: usize, key: &str, value: &str) {
        if self.text.len() > start {
            self.text.push(',');
        }
        self.text.push_str(key);
        self.text.push_str("=\"");
        push_escaped(&mut self.text, value);
        self.text.push('"');
    }

    fn get(&self, i: usize) -> &str {
        (self.spans.get(i).and_then(|r| self.text.get(r.clone()))).unwrap_or_default()
    }
}

/// `value` with `\`, `"` and newlines escaped.
fn push_escaped(out: &mut String, value: &str) {
    if !value.bytes().any(|b| matches!(b, b'\\' | b'"' | b'\n')) {
        out.push_str(value);
        return;
    }
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A per-instance counter: name, help, value.
type InstanceCounter = (&'static str, &'static str, fn(&RouterSnapshot) -> u64);

/// The per-instance counters, in the order they are written.
const INSTANCE_COUNTERS: [InstanceCounter; 6] = [
    (
        "keepalived_vrrp_became_master",
        "Transitions to MASTER.",
        |s| s.counters.became_master,
    ),
    (
        "keepalived_vrrp_released_master",
        "Transitions out of MASTER.",
        |s| s.counters.released_master,
    ),
    ("keepalived_vrrp_adverts_sent", "Adverts sent.", |s| {
        s.counters.adverts_sent
    }),
    (
        "keepalived_vrrp_adverts_received",
        "Valid adverts received.",
        |s| s.counters.adverts_received,
    ),
    (
        "keepalived_vrrp_priority_zero_sent",
        "Priority-0 adverts sent.",
        |s| s.counters.priority_zero_sent,
    ),
    (
        "keepalived_vrrp_priority_zero_received",
        "Priority-0 adverts received.",
        |s| s.counters.priority_zero_received,
    ),
];

/// A running instance.
struct Running<'a> {
    /// Its name.
    name: &'a str,
    /// Its base priority.
    priority: u8,
    /// Its state and counters.
    run: &'a RouterSnapshot,
}

/// A per-instance gauge: name, help, value.
type InstanceGauge = (&'static str, &'static str, fn(&Running<'_>) -> i64);

/// The per-instance gauges, in the order they are written.
const INSTANCE_GAUGES: [InstanceGauge; 3] = [
    (
        "keepalived_vrrp_state",
        "VRRP state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT.",
        |r| i64::from(crate::dump::state_number(r.run.state)),
    ),
    (
        "keepalived_vrrp_priority",
        "Configured (base) priority.",
        |r| i64::from(r.priority),
    ),
    (
        "keepalived_vrrp_effective_priority",
        "Priority with tracking weights.",
        |r| i64::from(r.run.priority),
    ),
];

fn render_vrrp(w: &mut Writer<'_>, v: &VrrpState) {
    let mut labels = Labels::default();
    let mut running: Vec<Running<'_>> = Vec::with_capacity(v.instances.len());
    for i in &v.instances {
        let Some(run) = i.run.as_ref() else { continue };
        let spec = &i.view.spec;
        let start = labels.start();
        labels.push(start, "instance", &spec.config.name);
        labels.push(start, "interface", &spec.interface);
        labels.push(start, "vrid", itoa::Buffer::new().format(spec.config.vrid));
        labels.end(start);
        running.push(Running {
            name: &spec.config.name,
            priority: spec.config.priority,
            run,
        });
    }
    // A family without samples is left out, as prometheus-client does.
    if !running.is_empty() {
        for (name, help, value) in INSTANCE_GAUGES {
            w.header(name, help, Kind::Gauge, None);
            for (i, r) in running.iter().enumerate() {
                w.gauge(name, labels.get(i), value(r));
            }
        }
        for (name, help, value) in INSTANCE_COUNTERS {
            w.header(name, help, Kind::Counter, None);
            for (i, r) in running.iter().enumerate() {
                w.counter(name, labels.get(i), value(r.run));
            }
        }
    }
    render_drops(w, &running);
    render_driver(w, v);
}

/// Drops by (instance, reason), for the reasons that have any.
fn render_drops(w: &mut Writer<'_>, running: &[Running<'_>]) {
    let name = "keepalived_vrrp_dropped";
    let mut labels = String::new();
    let mut header = false;
    for r in running {
        for (reason, n) in r.run.counters.dropped.iter() {
            if !header {
                w.header(
                    name,
                    "Received datagrams dropped, by reason.",
                    Kind::Counter,
                    None,
                );
                header = true;
            }
            labels.clear();
            labels.push_str("instance=\"");
            push_escaped(&mut labels, r.name);
            labels.push_str("\",reason=\"");
            push_escaped(&mut labels, reason.as_str());
            labels.push('"');
            w.counter(name, &labels, n);
        }
    }
}

/// The driver's and the mux's counters.
fn render_driver(w: &mut Writer<'_>, v: &VrrpState) {
    let d = &v.snapshot.driver;
    let counters = [
        (
            "keepalived_vrrp_datagrams_received",
            "Datagrams read from the VRRP sockets.",
            d.datagrams_received,
        ),
        (
            "keepalived_vrrp_datagrams_sent",
            "Datagrams handed to the kernel.",
            d.datagrams_sent,
        ),
        (
            "keepalived_vrrp_send_errors",
            "Adverts the kernel refused.",
            d.send_errors,
        ),
        (
            "keepalived_vrrp_receive_errors",
            "Reads from the VRRP sockets that failed (not counting would-block).",
            d.receive_errors,
        ),
        (
            "keepalived_vrrp_events_lost",
            "Driver events dropped because the daemon's queue was full.",
            d.events_lost,
        ),
        (
            "keepalived_vrrp_garps_sent",
            "Gratuitous ARPs sent.",
            d.garps_sent,
        ),
        (
            "keepalived_vrrp_host_errors",
            "Address, route and GARP operations that failed.",
            d.host_errors,
        ),
        (
            "keepalived_vrrp_unknown_vrid",
            "Datagrams for a VRID no instance has.",
            v.snapshot.mux.unknown_vrid,
        ),
    ];
    for (name, help, value) in counters {
        w.header(name, help, Kind::Counter, None);
        w.counter(name, "", value);
    }
}

fn render_checker(w: &mut Writer<'_>, c: &CheckerState) {
    let mut labels = Labels::default();
    for rs in &c.real_servers {
        let start = labels.start();
        labels.push(start, "virtual_server", &rs.virtual_server);
        labels.push(start, "real_server", &rs.real_server);
        labels.end(start);
    }
    let all = || c.real_servers.iter().enumerate();
    if !c.real_servers.is_empty() {
        let name = "keepalived_real_server_up";
        let help = "1 while the real server's checks pass.";
        w.header(name, help, Kind::Gauge, None);
        for (i, rs) in all() {
            w.gauge(name, labels.get(i), i64::from(rs.up));
        }
    }
    render_checks(w, c, &labels);
    render_virtual_servers(w, c);
    render_ipvs(w, c);
    let name = "keepalived_check_duration_seconds";
    w.header(
        name,
        "How long health checks take.",
        Kind::Histogram,
        Some("seconds"),
    );
    let le = bucket_labels();
    for (i, rs) in all() {
        histogram(w, name, labels.get(i), &le, &rs.latency);
    }
}

/// Checks by (real server, outcome).
fn render_checks(w: &mut Writer<'_>, c: &CheckerState, labels: &Labels) {
    let name = "keepalived_checks";
    let mut line = String::new();
    let mut header = false;
    for (i, rs) in c.real_servers.iter().enumerate() {
        let rs: &RealServerState = rs;
        for (outcome, n) in &rs.outcomes {
            if !header {
                w.header(name, "Health checks run, by outcome.", Kind::Counter, None);
                header = true;
            }
            line.clear();
            line.push_str(labels.get(i));
            line.push_str(",outcome=\"");
            push_escaped(&mut line, outcome);
            line.push('"');
            w.counter(name, &line, *n);
        }
    }
}

/// Each virtual server's quorum state and active weight.
fn render_virtual_servers(w: &mut Writer<'_>, c: &CheckerState) {
    let mut labels = Labels::default();
    for vs in &c.virtual_servers {
        let start = labels.start();
        labels.push(start, "virtual_server", &vs.name);
        labels.end(start);
    }
    let name = "keepalived_virtual_server_quorum_up";
    let mut header = false;
    for (i, vs) in c.virtual_servers.iter().enumerate() {
        // Before the monitor's first verdict there is no state to show.
        let Some(up) = vs.quorum_up else { continue };
        if !header {
            w.header(name, QUORUM_HELP, Kind::Gauge, None);
            header = true;
        }
        w.gauge(name, labels.get(i), i64::from(up));
    }
    if !c.virtual_servers.is_empty() {
        let name = "keepalived_virtual_server_active_weight";
        w.header(name, ACTIVE_WEIGHT_HELP, Kind::Gauge, None);
        for (i, vs) in c.virtual_servers.iter().enumerate() {
            let weight = i64::try_from(vs.active_weight).unwrap_or(i64::MAX);
            w.gauge(name, labels.get(i), weight);
        }
    }
}

/// HELP of `keepalived_virtual_server_quorum_up`.
pub(super) const QUORUM_HELP: &str =
    "1 while the virtual server's active weight reaches its quorum (SNMP virtualServerQuorumStatus).";

/// HELP of `keepalived_virtual_server_active_weight`.
pub(super) const ACTIVE_WEIGHT_HELP: &str =
    "Sum of the weights of the virtual server's alive real servers (inhibited ones count 0): what keepalived compares with quorum.";

/// A counter family read from a `T`: name, help, value.
type Family<T> = (&'static str, &'static str, fn(&T) -> u64);

/// IPVS requests and their failures, by operation.
fn render_ipvs(w: &mut Writer<'_>, c: &CheckerState) {
    if c.ipvs.is_empty() {
        return;
    }
    let mut line = String::new();
    let families: [Family<IpvsCounts>; 2] = [
        (
            "keepalived_ipvs_operations",
            "IPVS requests sent to the kernel, by operation.",
            |c| c.operations,
        ),
        (
            "keepalived_ipvs_failures",
            "IPVS requests that failed, by operation.",
            |c| c.failures,
        ),
    ];
    for (name, help, value) in families {
        w.header(name, help, Kind::Counter, None);
        for (op, counts) in &c.ipvs {
            line.clear();
            line.push_str("op=\"");
            push_escaped(&mut line, op);
            line.push('"');
            w.counter(name, &line, value(counts));
        }
    }
}

/// Script runs and timeouts, by command line.
fn render_scripts(w: &mut Writer<'_>, scripts: &[(String, RunCounts)]) {
    if scripts.is_empty() {
        return;
    }
    let mut labels = Labels::default();
    for (line, _) in scripts {
        let start = labels.start();
        labels.push(start, "script", line);
        labels.end(start);
    }
    let families: [Family<RunCounts>; 2] = [
        (
            "keepalived_script_runs",
            "Script runs finished (track, check, notify), by command line.",
            |c| c.runs,
        ),
        (
            "keepalived_script_timeouts",
            "Script runs killed at their timeout, by command line.",
            |c| c.timeouts,
        ),
    ];
    for (name, help, value) in families {
        w.header(name, help, Kind::Counter, None);
        for (i, (_, counts)) in scripts.iter().enumerate() {
            w.counter(name, labels.get(i), value(counts));
        }
    }
}

/// Each bucket's upper bound as its `le` label writes it, the last `+Inf`.
fn bucket_labels() -> Vec<String> {
    let bounds = LATENCY_BUCKETS
        .iter()
        .map(|b| dtoa::Buffer::new().format(*b).to_owned());
    bounds.chain(["+Inf".to_owned()]).collect()
}

/// One real server's histogram: sum, count, then the cumulative buckets
/// (`le` first among the labels, as prometheus-client writes them).
fn histogram(w: &mut Writer<'_>, name: &str, labels: &str, le: &[String], h: &Latency) {
    w.sample(name, "_sum", labels, dtoa::Buffer::new().format(h.sum));
    w.sample(name, "_count", labels, itoa::Buffer::new().format(h.count));
    let mut cumulative = 0u64;
    for (n, le) in h.buckets.iter().zip(le) {
        cumulative += n;
        for s in [name, "_bucket{le=\"", le, "\""] {
            w.out.push_str(s);
        }
        if !labels.is_empty() {
            w.out.push(',');
            w.out.push_str(labels);
        }
        w.out.push_str("} ");
        w.out.push_str(itoa::Buffer::new().format(cumulative));
        w.out.push('\n');
    }
}
