//! Recording: a counter and a histogram with labels, one and two threads,
//! photon's typed families against their peers in the same run; and what
//! the exemplar check costs when no span is sampled.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use photon_metrics::export::exemplars::{with_trace_context, TraceContext};
use photon_metrics::labels::{ModelType, Status, Target};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

type PcLabels = Vec<(String, String)>;

fn labels(pairs: &[(&str, &str)]) -> PcLabels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn counter_with_three_labels(c: &mut Criterion) {
    common::installed();
    let target = Target::new("mzi-64x64").unwrap();
    let model = ModelType::new("resnet").unwrap();
    let handle = metrics::counter!("bench_handle_total", "target" => "mzi-64x64", "status" => "success", "model_type" => "resnet");
    let raw = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();

    let pc_family = prometheus_client::metrics::family::Family::<
        PcLabels,
        prometheus_client::metrics::counter::Counter,
    >::default();
    let pc_labels = labels(&[
        ("target", "mzi-64x64"),
        ("status", "success"),
        ("model_type", "resnet"),
    ]);
    let pc_handle = pc_family.get_or_create(&pc_labels).clone();
    let prom = prometheus::IntCounterVec::new(
        prometheus::Opts::new("bench_prom_total", "bench"),
        &["target", "status", "model_type"],
    )
    .unwrap();
    let floor = AtomicU64::new(0);

    let mut g = c.benchmark_group("counter_3_labels");
    g.bench_function("photon_typed", |b| {
        b.iter(|| {
            photon_metrics::compiler::record_compilation(
                black_box(target),
                black_box(Status::Success),
                black_box(model),
            )
        })
    });
    g.bench_function("atomic_floor", |b| {
        b.iter(|| black_box(&floor).fetch_add(1, Ordering::Relaxed))
    });
    g.bench_function("prometheus_client_handle", |b| {
        b.iter(|| black_box(&pc_handle).inc())
    });
    g.bench_function("metrics_handle", |b| {
        b.iter(|| black_box(&handle).increment(1))
    });
    g.bench_function("metrics_counter_macro", |b| {
        b.iter(|| metrics::counter!("bench_macro_total", "target" => "mzi-64x64", "status" => "success", "model_type" => "resnet").increment(1))
    });
    g.bench_function("metrics_counter_macro_mep_recorder", |b| {
        metrics::with_local_recorder(&raw, || {
            b.iter(|| metrics::counter!("bench_macro_total", "target" => "mzi-64x64", "status" => "success", "model_type" => "resnet").increment(1))
        })
    });
    g.bench_function("prometheus_client_get_or_create", |b| {
        b.iter(|| pc_family.get_or_create(black_box(&pc_labels)).inc())
    });
    g.bench_function("prometheus_with_label_values", |b| {
        b.iter(|| {
            prom.with_label_values(black_box(&["mzi-64x64", "success", "resnet"]))
                .inc()
        })
    });
    g.finish();
}

fn histogram_with_labels(c: &mut Criterion) {
    common::installed();
    let target = Target::new("mzi-64x64").unwrap();
    let handle = metrics::histogram!("bench_handle_seconds", "target" => "mzi-64x64", "model_size" => "large");
    let raw = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(common::PEER_BUCKETS)
        .unwrap()
        .build_recorder();
    let raw_handle = metrics::with_local_recorder(
        &raw,
        || metrics::histogram!("bench_raw_seconds", "target" => "mzi-64x64", "model_size" => "large"),
    );
    let pc_handle = common::pc_histogram();
    let prom = prometheus::HistogramVec::new(
        prometheus::HistogramOpts::new("bench_prom_seconds", "bench")
            .buckets(common::PEER_BUCKETS.to_vec()),
        &["target", "model_size"],
    )
    .unwrap();
    let prom_handle = prom.with_label_values(&["mzi-64x64", "large"]);

    let mut g = c.benchmark_group("histogram_2_labels");
    g.bench_function("photon_typed", |b| {
        b.iter(|| {
            photon_metrics::compiler::observe_compilation_duration(
                black_box(target),
                black_box(25_600_000),
                black_box(1.5),
            )
        })
    });
    g.bench_function("prometheus_client_handle", |b| {
        b.iter(|| black_box(&pc_handle).observe(black_box(1.5)))
    });
    g.bench_function("prometheus_handle", |b| {
        b.iter(|| black_box(&prom_handle).observe(black_box(1.5)))
    });
    g.bench_function("metrics_handle", |b| {
        b.iter(|| black_box(&handle).record(black_box(1.5)))
    });
    g.bench_function("metrics_handle_mep_recorder", |b| {
        b.iter(|| black_box(&raw_handle).record(black_box(1.5)))
    });
    g.bench_function("metrics_histogram_macro", |b| {
        b.iter(|| metrics::histogram!("bench_macro_seconds", "target" => "mzi-64x64", "model_size" => "large").record(black_box(1.5)))
    });
    g.finish();
}

/// Runs `op` `iters` times on each of two threads at once; returns the wall time.
fn two_threads(iters: u64, op: &(dyn Fn() + Sync)) -> Duration {
    common::run_threads(2, iters, &|_| op())
}

fn two_threads_one_series(c: &mut Criterion) {
    common::installed();
    let target = Target::new("mzi-64x64").unwrap();
    let pc_counter = prometheus_client::metrics::counter::Counter::<u64>::default();
    let pc_histogram = common::pc_histogram();
    let floor = AtomicU64::new(0);

    let mut g = c.benchmark_group("counter_two_threads");
    g.bench_function("photon_typed", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|| {
                photon_metrics::compiler::record_cache_hit(black_box(target))
            })
        })
    });
    g.bench_function("prometheus_client_handle", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|| {
                black_box(&pc_counter).inc();
            })
        })
    });
    g.bench_function("atomic_floor", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|| {
                black_box(&floor).fetch_add(1, Ordering::Relaxed);
            })
        })
    });
    g.finish();

    let mut g = c.benchmark_group("histogram_two_threads");
    g.bench_function("photon_typed", |b| {
        b.iter_custom(|iters| {
            two_threads(iters, &|| {
                photon_metrics::compiler::observe_compilation_duration(
                    black_box(target),
                    black_box(25_600_000),
                    black_box(1.5),
                )
            })
        })
    });
    g.bench_function("prometheus_client_handle", |b| {
        b.iter_custom(|iters| two_threads(iters, &|| black_box(&pc_histogram).observe(1.5)))
    });
    g.finish();
}

fn exemplars(c: &mut Criterion) {
    common::installed();
    let target = Target::new("mzi-64x64").unwrap();
    let trace = TraceContext {
        trace_id: 0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736,
        span_id: 0x00f0_67aa_0ba9_02b7,
    };
    let mut g = c.benchmark_group("exemplar");
    g.bench_function("check_no_sampled_span", |b| {
        b.iter(|| black_box(photon_metrics::__private::exemplar_probe()))
    });
    g.bench_function("counter_no_sampled_span", |b| {
        b.iter(|| photon_metrics::compiler::record_cache_miss(black_box(target)))
    });
    g.bench_function("counter_in_sampled_span", |b| {
        with_trace_context(trace, || {
            b.iter(|| photon_metrics::compiler::record_cache_miss(black_box(target)))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = counter_with_three_labels, histogram_with_labels, two_threads_one_series, exemplars
}
criterion_main!(benches);
