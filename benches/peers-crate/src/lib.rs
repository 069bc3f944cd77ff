//! The contenders of every row, built once: photon-metrics' handles and its
//! peers' pre-resolved handles, each one real series of a real registry (or
//! recorder), as an application would hold them.
//!
//! This crate links photon-metrics as any user does: a separate crate, the
//! default release profile, no LTO. The record calls themselves are made in
//! the bench and the example (`benches/peers.rs`, `examples/hot.rs`), which
//! are crates of their own again, so a record reaches the caller's code only
//! through what each library marks `#[inline]` or makes generic.

use photon_metrics::export::prometheus::{PrometheusExporter, PrometheusExporterBuilder};
use photon_metrics::labels::{ModelType, Status, Target};
use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

/// The peers' buckets, and the photon histogram family's.
pub const BUCKETS: [f64; 9] = [0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0];

/// The label value every series carries (`target="mzi-64x64"`).
pub const TARGET: &str = "mzi-64x64";

photon_metrics::family! {
    /// Requests served, by target: the counter row.
    #[family(name = "peers_crate_requests_total", unit = count)]
    pub static REQUESTS: Counter<(Target,)>;

    /// Optical power, by target: the gauge-set row (an application gauge
    /// holds an `f64`).
    #[family(name = "peers_crate_optical_power_mw", unit = milliwatts)]
    pub static POWER: Gauge<(Target,)>;

    /// Request latency, by target: the histogram row, classic buckets only
    /// (the peers' buckets), so it does the work the peers do.
    #[family(name = "peers_crate_latency_seconds", unit = seconds,
             buckets = [0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0])]
    pub static LATENCY: Histogram<(Target,)>;
}

/// photon's exporter (no listener) installed as the global recorder, once:
/// handles are made after it, as the README asks.
pub fn installed() -> &'static PrometheusExporter {
    static EXPORTER: OnceLock<PrometheusExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        PrometheusExporterBuilder::new()
            .without_listener()
            .default_buckets(&BUCKETS)
            .expect("buckets")
            .install()
            .expect("install photon's exporter")
    })
}

/// The registries the peers' series live in, kept alive with them.
pub struct Registries {
    pub prometheus_client: prometheus_client::registry::Registry,
    pub fastmetrics: fastmetrics::registry::Registry,
    pub tikv: prometheus::Registry,
}

/// Row 1: counter increment by 1.
pub struct Counters {
    pub photon_family: photon_metrics::handle::CounterHandle,
    pub photon_catalog: photon_metrics::handle::CounterHandle,
    pub photon_facade: metrics::Counter,
    pub prometheus_client: prometheus_client::metrics::counter::Counter,
    pub fastmetrics: fastmetrics::metrics::counter::Counter,
    pub tikv: prometheus::IntCounter,
    pub measured: measured::Counter,
    pub atomic: AtomicU64,
}

/// Row 2: `f64` gauge set.
pub struct Gauges {
    pub photon_family: photon_metrics::handle::GaugeHandle,
    pub photon_facade: metrics::Gauge,
    pub prometheus_client: prometheus_client::metrics::gauge::Gauge<f64, AtomicU64>,
    pub fastmetrics: fastmetrics::metrics::gauge::Gauge<f64>,
    pub tikv: prometheus::Gauge,
    pub measured: measured::FloatGauge,
    pub atomic: AtomicU64,
}

/// Row 3: integer gauge add.
pub struct IntGauges {
    pub photon_catalog: photon_metrics::handle::IntGaugeHandle,
    pub prometheus_client: prometheus_client::metrics::gauge::Gauge<i64>,
    pub fastmetrics: fastmetrics::metrics::gauge::Gauge<i64>,
    pub tikv: prometheus::IntGauge,
    pub measured: measured::Gauge,
    pub atomic: AtomicU64,
}

/// Row 4: histogram observation.
pub struct Histograms {
    pub photon_family: photon_metrics::handle::HistogramHandle,
    pub photon_facade: metrics::Histogram,
    pub prometheus_client: prometheus_client::metrics::histogram::Histogram,
    pub fastmetrics: fastmetrics::metrics::histogram::Histogram,
    pub tikv: prometheus::Histogram,
    pub measured: measured::Histogram<9>,
}

/// Every contender of every row.
pub struct Contenders {
    pub counters: Counters,
    pub gauges: Gauges,
    pub int_gauges: IntGauges,
    pub histograms: Histograms,
    pub registries: Registries,
}

type PcLabels = Vec<(String, String)>;

fn pc_labels() -> PcLabels {
    vec![("target".to_owned(), TARGET.to_owned())]
}

/// Installs photon's exporter, then registers one series per contender and
/// resolves its handle.
pub fn contenders() -> Contenders {
    installed();
    let target = Target::new(TARGET).expect("target");
    let model = ModelType::new("resnet").expect("model type");

    // prometheus-client: a labelled family per row, the series resolved once.
    let mut pc = prometheus_client::registry::Registry::default();
    let pc_counters = prometheus_client::metrics::family::Family::<
        PcLabels,
        prometheus_client::metrics::counter::Counter,
    >::default();
    let pc_gauges = prometheus_client::metrics::family::Family::<
        PcLabels,
        prometheus_client::metrics::gauge::Gauge<f64, AtomicU64>,
    >::default();
    let pc_int_gauges = prometheus_client::metrics::family::Family::<
        PcLabels,
        prometheus_client::metrics::gauge::Gauge<i64>,
    >::default();
    let pc_histograms = prometheus_client::metrics::family::Family::<
        PcLabels,
        prometheus_client::metrics::histogram::Histogram,
    >::new_with_constructor(|| {
        prometheus_client::metrics::histogram::Histogram::new(BUCKETS.iter().copied())
    });
    pc.register("pc_requests", "requests", pc_counters.clone());
    pc.register("pc_optical_power_mw", "power", pc_gauges.clone());
    pc.register("pc_queue_depth", "queue", pc_int_gauges.clone());
    pc.register("pc_latency_seconds", "latency", pc_histograms.clone());

    // fastmetrics: one registered metric per row (its families have no
    // handle to keep; a registered metric is its fastest record).
    let mut fm = fastmetrics::registry::Registry::default();
    let fm_counter = fastmetrics::metrics::counter::Counter::<u64>::default();
    let fm_gauge = fastmetrics::metrics::gauge::Gauge::<f64>::default();
    let fm_int_gauge = fastmetrics::metrics::gauge::Gauge::<i64>::default();
    let fm_histogram = fastmetrics::metrics::histogram::Histogram::new(BUCKETS.iter().copied());
    fm.register("fm_requests", "requests", fm_counter.clone())
        .expect("fastmetrics counter");
    fm.register("fm_optical_power_mw", "power", fm_gauge.clone())
        .expect("fastmetrics gauge");
    fm.register("fm_queue_depth", "queue", fm_int_gauge.clone())
        .expect("fastmetrics int gauge");
    fm.register("fm_latency_seconds", "latency", fm_histogram.clone())
        .expect("fastmetrics histogram");

    // prometheus (tikv): a labelled vec per row, with_label_values once.
    let tikv = prometheus::Registry::new();
    let tikv_counters = prometheus::IntCounterVec::new(
        prometheus::Opts::new("tikv_requests_total", "requests"),
        &["target"],
    )
    .expect("tikv counter");
    let tikv_gauges = prometheus::GaugeVec::new(
        prometheus::Opts::new("tikv_optical_power_mw", "power"),
        &["target"],
    )
    .expect("tikv gauge");
    let tikv_int_gauges = prometheus::IntGaugeVec::new(
        prometheus::Opts::new("tikv_queue_depth", "queue"),
        &["target"],
    )
    .expect("tikv int gauge");
    let tikv_histograms = prometheus::HistogramVec::new(
        prometheus::HistogramOpts::new("tikv_latency_seconds", "latency").buckets(BUCKETS.to_vec()),
        &["target"],
    )
    .expect("tikv histogram");
    tikv.register(Box::new(tikv_counters.clone()))
        .expect("register");
    tikv.register(Box::new(tikv_gauges.clone()))
        .expect("register");
    tikv.register(Box::new(tikv_int_gauges.clone()))
        .expect("register");
    tikv.register(Box::new(tikv_histograms.clone()))
        .expect("register");

    // The series resolved once; the read guards go before the families do.
    let pc_counters_series = pc_counters.get_or_create(&pc_labels()).clone();
    let pc_gauges_series = pc_gauges.get_or_create(&pc_labels()).clone();
    let pc_int_gauges_series = pc_int_gauges.get_or_create(&pc_labels()).clone();
    let pc_histograms_series = pc_histograms.get_or_create(&pc_labels()).clone();

    Contenders {
        counters: Counters {
            photon_family: REQUESTS.handle((target,)),
            photon_catalog: photon_metrics::compiler::compilations(target, Status::Success, model),
            photon_facade: metrics::counter!("peers_crate_requests_total", "target" => TARGET),
            prometheus_client: pc_counters_series,
            fastmetrics: fm_counter,
            tikv: tikv_counters.with_label_values(&[TARGET]),
            measured: measured::Counter::new(),
            atomic: AtomicU64::new(0),
        },
        gauges: Gauges {
            photon_family: POWER.handle((target,)),
            photon_facade: metrics::gauge!("peers_crate_optical_power_mw", "target" => TARGET),
            prometheus_client: pc_gauges_series,
            fastmetrics: fm_gauge,
            tikv: tikv_gauges.with_label_values(&[TARGET]),
            measured: measured::FloatGauge::new(),
            atomic: AtomicU64::new(0),
        },
        int_gauges: IntGauges {
            photon_catalog: photon_metrics::runtime::queue_depth(),
            prometheus_client: pc_int_gauges_series,
            fastmetrics: fm_int_gauge,
            tikv: tikv_int_gauges.with_label_values(&[TARGET]),
            measured: measured::Gauge::new(),
            atomic: AtomicU64::new(0),
        },
        histograms: Histograms {
            photon_family: LATENCY.handle((target,)),
            photon_facade: metrics::histogram!("peers_crate_latency_seconds", "target" => TARGET),
            prometheus_client: pc_histograms_series,
            fastmetrics: fm_histogram,
            tikv: tikv_histograms.with_label_values(&[TARGET]),
            measured: measured::Histogram::with_metadata(
                measured::metric::histogram::Thresholds::with_buckets(BUCKETS),
            ),
        },
        registries: Registries {
            prometheus_client: pc,
            fastmetrics: fm,
            tikv,
        },
    }
}
