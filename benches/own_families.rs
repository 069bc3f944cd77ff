//! An application's own families against the catalog's, in one run: a
//! user-declared 3-label counter against `compiler::record_compilation`
//! (3 labels), a 2-label histogram against
//! `compiler::observe_compilation_duration` (2 labels, same buckets), and
//! both against `metrics::counter!` / `histogram!` with the same labels as
//! strings, all into photon's installed store.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use photon_metrics::catalog::COMPILATION_DURATION_BUCKETS;
use photon_metrics::labels::{ModelType, OpenValue, Status, Target};
use photon_metrics::{compiler, family, Label};
use std::hint::black_box;

/// The dialect a kernel was lowered from.
#[derive(Label, Clone, Copy, PartialEq, Eq, Debug)]
#[label(name = "dialect")]
enum Dialect {
    Linalg,
    Tosa,
}

/// The tenant: open, like the catalog's `Target`.
#[derive(Label, Clone, Copy, PartialEq, Eq, Debug)]
#[label(name = "tenant", cap = 64)]
struct Tenant(OpenValue);

family! {
    /// Kernels launched, by target, outcome and tenant (the catalog
    /// counter's shape: open, closed, open).
    #[family(name = "bench_kernel_launches_total")]
    static KERNELS: Counter<(Target, Status, Tenant)>;

    /// Queue wait, by target and dialect (the catalog histogram's shape:
    /// open, closed), with the catalog histogram's classic and native buckets.
    #[family(name = "bench_queue_wait_seconds", unit = seconds,
             buckets = [0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0],
             native(schema = 3, max_buckets = 160))]
    static WAIT: Histogram<(Target, Dialect)>;
}

fn counters(c: &mut Criterion) {
    common::installed();
    let target = Target::new("mzi-64x64").unwrap();
    let model = ModelType::new("resnet").unwrap();
    let tenant = Tenant::new("acme").unwrap();
    let mut g = c.benchmark_group("own_families/counter_3_labels");
    g.bench_function("own_family", |b| {
        b.iter(|| KERNELS.inc((black_box(target), Status::Success, black_box(tenant))))
    });
    g.bench_function("catalog_record_compilation", |b| {
        b.iter(|| {
            compiler::record_compilation(black_box(target), Status::Success, black_box(model))
        })
    });
    g.bench_function("metrics_counter_macro", |b| {
        b.iter(|| {
            metrics::counter!("bench_facade_launches_total", "target" => "mzi-64x64", "status" => "success", "tenant" => "acme")
                .increment(1)
        })
    });
    g.finish();
}

fn histograms(c: &mut Criterion) {
    common::installed();
    // The same cells as the catalog histogram it is compared with.
    let catalog = photon_metrics::catalog::family("photon_compilation_duration_seconds").unwrap();
    assert_eq!(WAIT.spec().buckets, Some(COMPILATION_DURATION_BUCKETS));
    assert_eq!(WAIT.spec().native, catalog.native);
    let target = Target::new("mzi-64x64").unwrap();
    let mut g = c.benchmark_group("own_families/histogram_2_labels");
    let mut v = 0.0f64;
    g.bench_function("own_family", |b| {
        b.iter(|| {
            v = (v + 0.37) % 150.0;
            WAIT.observe((black_box(target), Dialect::Tosa), v)
        })
    });
    g.bench_function("catalog_observe_compilation_duration", |b| {
        b.iter(|| {
            v = (v + 0.37) % 150.0;
            compiler::observe_compilation_duration(black_box(target), 25_600_000, v)
        })
    });
    g.bench_function("metrics_histogram_macro", |b| {
        b.iter(|| {
            v = (v + 0.37) % 150.0;
            metrics::histogram!("bench_facade_wait_seconds", "target" => "mzi-64x64", "dialect" => "tosa")
                .record(v)
        })
    });
    g.finish();
    let _ = Dialect::Linalg;
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = counters, histograms
}
criterion_main!(benches);
