//! The rows a user compares first, photon against every peer in one run:
//! counter increment, gauge set, gauge add, histogram observation (each on
//! a pre-resolved handle, and photon's per-call helper beside them), and
//! series lookup by typed labels and by string labels. BENCHMARKS.md's
//! tables for issue 22 come from one `cargo bench --bench peers`.
//!
//! Every contender records into a real series of a real registry or
//! recorder; a label is `black_box`ed one by one (never the whole tuple,
//! which lets the compiler see through nothing).

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use photon_metrics::labels::{DeviceId, ModelType, Status, Target};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};

/// A three-label set for the peers that hash their labels.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Labels3 {
    target: &'static str,
    status: &'static str,
    model_type: &'static str,
}

impl prometheus_client::encoding::EncodeLabelSet for Labels3 {
    fn encode(
        &self,
        encoder: &mut prometheus_client::encoding::LabelSetEncoder<'_>,
    ) -> Result<(), std::fmt::Error> {
        use prometheus_client::encoding::EncodeLabel;
        ("target", self.target).encode(encoder.encode_label())?;
        ("status", self.status).encode(encoder.encode_label())?;
        ("model_type", self.model_type).encode(encoder.encode_label())
    }
}

photon_metrics::family! {
    /// The peers' histogram as an application family: their buckets and
    /// classic buckets only, so the row does the work the peers do (the
    /// catalog's latency histograms also keep native buckets).
    #[family(name = "bench_peer_shaped_seconds", unit = seconds,
             buckets = [0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0])]
    static PEER_SHAPED: Histogram<(Target,)>;
}

const LABELS3: Labels3 = Labels3 {
    target: "mzi-64x64",
    status: "success",
    model_type: "resnet",
};

fn counter_inc(c: &mut Criterion) {
    common::installed();
    let target = Target::new("mzi-64x64").unwrap();
    let model = ModelType::new("resnet").unwrap();
    let handle = photon_metrics::compiler::compilations(target, Status::Success, model);
    let facade = metrics::counter!("photon_compilations_total", "target" => "mzi-64x64", "status" => "success", "model_type" => "resnet");
    let floor = AtomicU64::new(0);
    let pc = prometheus_client::metrics::counter::Counter::<u64>::default();
    let fm = fastmetrics::metrics::counter::Counter::<u64>::default();
    let me = measured::Counter::new();
    let tikv = prometheus::IntCounterVec::new(
        prometheus::Opts::new("peer_total", "peer"),
        &["target", "status", "model_type"],
    )
    .unwrap()
    .with_label_values(&["mzi-64x64", "success", "resnet"]);

    let mut g = c.benchmark_group("counter_inc");
    g.bench_function("atomic_floor", |b| {
        b.iter(|| black_box(&floor).fetch_add(1, Ordering::Relaxed))
    });
    g.bench_function("photon_handle", |b| b.iter(|| black_box(&handle).inc()));
    g.bench_function("photon_typed_helper", |b| {
        b.iter(|| {
            photon_metrics::compiler::record_compilation(
                black_box(target),
                black_box(Status::Success),
                black_box(model),
            )
        })
    });
    g.bench_function("photon_facade_handle", |b| {
        b.iter(|| black_box(&facade).increment(1))
    });
    g.bench_function("tikv_prometheus_handle", |b| {
        b.iter(|| black_box(&tikv).inc())
    });
    g.bench_function("fastmetrics_handle", |b| b.iter(|| black_box(&fm).inc()));
    g.bench_function("measured_handle", |b| b.iter(|| black_box(&me).inc()));
    g.bench_function("prometheus_client_handle", |b| {
        b.iter(|| black_box(&pc).inc())
    });
    g.finish();
}

fn gauge_set(c: &mut Criterion) {
    common::installed();
    let device = DeviceId::new("opu-bench-0").unwrap();
    let handle = photon_metrics::hardware::optical_power_mw(device);
    let sessions = photon_metrics::runtime::active_sessions();
    let fm_f64 = fastmetrics::metrics::gauge::Gauge::<f64>::default();
    let fm_i64 = fastmetrics::metrics::gauge::Gauge::<i64>::default();
    let me = measured::Gauge::new();
    let me_f64 = measured::FloatGauge::new();
    let pc = prometheus_client::metrics::gauge::Gauge::<i64>::default();
    let tikv = prometheus::IntGauge::new("peer_gauge", "peer").unwrap();

    let mut g = c.benchmark_group("gauge_set");
    g.bench_function("photon_handle_f64", |b| {
        b.iter(|| black_box(&handle).set(black_box(1.5)))
    });
    g.bench_function("photon_int_handle", |b| {
        b.iter(|| black_box(&sessions).set(black_box(3)))
    });
    g.bench_function("photon_typed_helper_f64", |b| {
        b.iter(|| photon_metrics::hardware::set_optical_power_mw(black_box(device), black_box(1.5)))
    });
    g.bench_function("photon_typed_helper_int", |b| {
        b.iter(|| photon_metrics::runtime::set_active_sessions(black_box(3)))
    });
    g.bench_function("fastmetrics_handle_f64", |b| {
        b.iter(|| black_box(&fm_f64).set(black_box(1.5)))
    });
    g.bench_function("fastmetrics_handle_i64", |b| {
        b.iter(|| black_box(&fm_i64).set(black_box(3)))
    });
    g.bench_function("measured_handle_i64", |b| {
        b.iter(|| black_box(&me).set(black_box(3)))
    });
    g.bench_function("measured_handle_f64", |b| {
        b.iter(|| black_box(&me_f64).set(black_box(1.5)))
    });
    g.bench_function("prometheus_client_handle_i64", |b| {
        b.iter(|| black_box(&pc).set(black_box(3)))
    });
    g.bench_function("tikv_prometheus_handle_i64", |b| {
        b.iter(|| black_box(&tikv).set(black_box(3)))
    });
    g.finish();
}

fn gauge_add(c: &mut Criterion) {
    common::installed();
    let device = DeviceId::new("opu-bench-1").unwrap();
    let handle = photon_metrics::hardware::optical_power_mw(device);
    let queue = photon_metrics::runtime::queue_depth();
    let fm = fastmetrics::metrics::gauge::Gauge::<i64>::default();
    let me = measured::Gauge::new();
    let pc = prometheus_client::metrics::gauge::Gauge::<i64>::default();
    let tikv = prometheus::IntGauge::new("peer_gauge_add", "peer").unwrap();

    let mut g = c.benchmark_group("gauge_add");
    g.bench_function("photon_int_handle", |b| {
        b.iter(|| black_box(&queue).add(black_box(1)))
    });
    g.bench_function("photon_handle_f64", |b| {
        b.iter(|| black_box(&handle).add(black_box(1.0)))
    });
    g.bench_function("photon_guard_helper_int", |b| {
        // One enqueue and its drop: an add and a sub, through the helper.
        b.iter(|| drop(black_box(photon_metrics::runtime::enqueue())))
    });
    g.bench_function("measured_handle_i64", |b| {
        b.iter(|| black_box(&me).inc_by(black_box(1)))
    });
    g.bench_function("fastmetrics_handle_i64", |b| {
        b.iter(|| black_box(&fm).inc_by(black_box(1)))
    });
    g.bench_function("prometheus_client_handle_i64", |b| {
        b.iter(|| black_box(&pc).inc_by(black_box(1)))
    });
    g.bench_function("tikv_prometheus_handle_i64", |b| {
        b.iter(|| black_box(&tikv).add(black_box(1)))
    });
    g.finish();
}

fn histogram_observe(c: &mut Criterion) {
    common::installed();
    let target = Target::new("mzi-64x64").unwrap();
    let handle = photon_metrics::compiler::compilation_duration(target, 25_600_000);
    let facade = metrics::histogram!("photon_compilation_duration_seconds", "target" => "mzi-64x64", "model_size" => "large");
    let classic = PEER_SHAPED.handle((target,));
    let pc = common::pc_histogram();
    let fm = fastmetrics::metrics::histogram::Histogram::new(common::PEER_BUCKETS.iter().copied());
    let me = measured::Histogram::<9>::with_metadata(
        measured::metric::histogram::Thresholds::with_buckets(
            common::PEER_BUCKETS.try_into().unwrap(),
        ),
    );
    let tikv = prometheus::Histogram::with_opts(
        prometheus::HistogramOpts::new("peer_seconds", "peer")
            .buckets(common::PEER_BUCKETS.to_vec()),
    )
    .unwrap();

    let mut g = c.benchmark_group("histogram_observe");
    g.bench_function("photon_handle", |b| {
        b.iter(|| black_box(&handle).observe(black_box(1.5)))
    });
    g.bench_function("photon_handle_classic_only", |b| {
        b.iter(|| black_box(&classic).observe(black_box(1.5)))
    });
    g.bench_function("photon_typed_helper", |b| {
        b.iter(|| {
            photon_metrics::compiler::observe_compilation_duration(
                black_box(target),
                black_box(25_600_000),
                black_box(1.5),
            )
        })
    });
    g.bench_function("photon_facade_handle", |b| {
        b.iter(|| black_box(&facade).record(black_box(1.5)))
    });
    g.bench_function("prometheus_client_handle", |b| {
        b.iter(|| black_box(&pc).observe(black_box(1.5)))
    });
    g.bench_function("fastmetrics_handle", |b| {
        b.iter(|| black_box(&fm).observe(black_box(1.5)))
    });
    g.bench_function("measured_handle", |b| {
        b.iter(|| black_box(&me).observe(black_box(1.5)))
    });
    g.bench_function("tikv_prometheus_handle", |b| {
        b.iter(|| black_box(&tikv).observe(black_box(1.5)))
    });
    g.finish();
}

fn lookup_typed(c: &mut Criterion) {
    common::installed();
    let target = Target::new("mzi-64x64").unwrap();
    let model = ModelType::new("resnet").unwrap();
    let fm = fastmetrics::metrics::family::Family::<Labels3, fastmetrics::metrics::counter::Counter>::default();
    fm.with_or_new(&LABELS3, |c| c.inc());
    let pc = prometheus_client::metrics::family::Family::<
        Labels3,
        prometheus_client::metrics::counter::Counter,
    >::default();
    let tikv = prometheus::IntCounterVec::new(
        prometheus::Opts::new("peer_lookup_total", "peer"),
        &["target", "status", "model_type"],
    )
    .unwrap();

    let mut g = c.benchmark_group("lookup_typed_labels");
    g.bench_function("photon_typed_helper", |b| {
        b.iter(|| {
            photon_metrics::compiler::record_compilation(
                black_box(target),
                black_box(Status::Success),
                black_box(model),
            )
        })
    });
    g.bench_function("photon_handle_per_call", |b| {
        b.iter(|| {
            photon_metrics::compiler::compilations(
                black_box(target),
                black_box(Status::Success),
                black_box(model),
            )
            .inc()
        })
    });
    g.bench_function("fastmetrics_cached", |b| {
        b.iter(|| fm.with_or_new(black_box(&LABELS3), |c| c.inc()))
    });
    g.bench_function("prometheus_client_get_or_create", |b| {
        b.iter(|| pc.get_or_create(black_box(&LABELS3)).inc())
    });
    g.bench_function("tikv_prometheus_with_label_values", |b| {
        b.iter(|| {
            tikv.with_label_values(black_box(&["mzi-64x64", "success", "resnet"]))
                .inc()
        })
    });
    g.finish();
}

fn lookup_strings(c: &mut Criterion) {
    common::installed();
    type Static = Vec<(&'static str, &'static str)>;
    type Owned = Vec<(String, String)>;
    let fm_static = fastmetrics::metrics::family::Family::<
        Static,
        fastmetrics::metrics::counter::Counter,
    >::default();
    let fm_owned = fastmetrics::metrics::family::Family::<
        Owned,
        fastmetrics::metrics::counter::Counter,
    >::default();

    let mut g = c.benchmark_group("lookup_string_labels");
    g.bench_function("photon_facade_static_catalog_name", |b| {
        b.iter(|| {
            metrics::counter!("photon_compilations_total", "target" => black_box("mzi-64x64"), "status" => black_box("success"), "model_type" => black_box("resnet")).increment(1)
        })
    });
    g.bench_function("photon_facade_static_own_name", |b| {
        b.iter(|| {
            metrics::counter!("bench_requests_total", "target" => black_box("mzi-64x64"), "status" => black_box("success"), "model_type" => black_box("resnet")).increment(1)
        })
    });
    g.bench_function("photon_facade_static_foreign_name", |b| {
        b.iter(|| {
            metrics::counter!("bench_foreign_total", "target" => black_box("mzi-64x64"), "status" => black_box("success"), "model_type" => black_box("resnet")).increment(1)
        })
    });
    // The facade's own share: the same call into a recorder that does nothing.
    g.bench_function("metrics_facade_noop_recorder_floor", |b| {
        metrics::with_local_recorder(&metrics::NoopRecorder, || {
            b.iter(|| {
                metrics::counter!("bench_foreign_total", "target" => black_box("mzi-64x64"), "status" => black_box("success"), "model_type" => black_box("resnet")).increment(1)
            })
        })
    });
    g.bench_function("fastmetrics_dynamic_static", |b| {
        b.iter(|| {
            let labels: Static = vec![
                ("target", black_box("mzi-64x64")),
                ("status", black_box("success")),
                ("model_type", black_box("resnet")),
            ];
            fm_static.with_or_new(&labels, |c| c.inc())
        })
    });
    g.bench_function("photon_facade_owned_own_name", |b| {
        b.iter(|| {
            metrics::counter!("bench_requests_total", "target" => black_box("mzi-64x64").to_string(), "status" => black_box("success").to_string(), "model_type" => black_box("resnet").to_string()).increment(1)
        })
    });
    g.bench_function("photon_facade_owned_catalog_name", |b| {
        b.iter(|| {
            metrics::counter!("photon_compilations_total", "target" => black_box("mzi-64x64").to_string(), "status" => black_box("success").to_string(), "model_type" => black_box("resnet").to_string()).increment(1)
        })
    });
    g.bench_function("fastmetrics_dynamic_owned", |b| {
        b.iter(|| {
            let labels: Owned = vec![
                ("target".to_string(), black_box("mzi-64x64").to_string()),
                ("status".to_string(), black_box("success").to_string()),
                ("model_type".to_string(), black_box("resnet").to_string()),
            ];
            fm_owned.with_or_new(&labels, |c| c.inc())
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = counter_inc, gauge_set, gauge_add, histogram_observe, lookup_typed, lookup_strings
}
criterion_main!(benches);
