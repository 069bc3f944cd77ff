//! One criterion group per row, every contender in it, so one run compares
//! them: counter increment, `f64` gauge set, integer gauge add, histogram
//! observation, each on a handle resolved before the loop.
//!
//! The handle is `black_box`ed, and so is each input on its own, so the
//! compiler can neither hoist the record out of the loop nor fold its value.
//! `atomic_floor` is the bare atomic a record cannot beat (not a peer).

use criterion::{criterion_group, criterion_main, Criterion};
use photon_peers_crate::{contenders, Contenders};
use std::hint::black_box;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

fn all() -> &'static Contenders {
    static ALL: OnceLock<Contenders> = OnceLock::new();
    ALL.get_or_init(contenders)
}

fn counter_inc(c: &mut Criterion) {
    let r = &all().counters;
    let mut g = c.benchmark_group("counter_inc");
    g.bench_function("photon_family_handle", |b| {
        b.iter(|| black_box(&r.photon_family).inc())
    });
    g.bench_function("photon_catalog_handle", |b| {
        b.iter(|| black_box(&r.photon_catalog).inc())
    });
    g.bench_function("photon_facade_handle", |b| {
        b.iter(|| black_box(&r.photon_facade).increment(1))
    });
    g.bench_function("prometheus_client", |b| {
        b.iter(|| black_box(&r.prometheus_client).inc())
    });
    g.bench_function("fastmetrics", |b| {
        b.iter(|| black_box(&r.fastmetrics).inc())
    });
    g.bench_function("tikv_prometheus", |b| b.iter(|| black_box(&r.tikv).inc()));
    g.bench_function("measured", |b| b.iter(|| black_box(&r.measured).inc()));
    g.bench_function("atomic_floor", |b| {
        b.iter(|| black_box(&r.atomic).fetch_add(1, Ordering::Relaxed))
    });
    g.finish();
}

fn gauge_set(c: &mut Criterion) {
    let r = &all().gauges;
    let mut g = c.benchmark_group("gauge_set_f64");
    g.bench_function("photon_family_handle", |b| {
        b.iter(|| black_box(&r.photon_family).set(black_box(1.5)))
    });
    g.bench_function("photon_facade_handle", |b| {
        b.iter(|| black_box(&r.photon_facade).set(black_box(1.5)))
    });
    g.bench_function("prometheus_client", |b| {
        b.iter(|| black_box(&r.prometheus_client).set(black_box(1.5)))
    });
    g.bench_function("fastmetrics", |b| {
        b.iter(|| black_box(&r.fastmetrics).set(black_box(1.5)))
    });
    g.bench_function("tikv_prometheus", |b| {
        b.iter(|| black_box(&r.tikv).set(black_box(1.5)))
    });
    g.bench_function("measured", |b| {
        b.iter(|| black_box(&r.measured).set(black_box(1.5)))
    });
    g.bench_function("atomic_floor", |b| {
        b.iter(|| black_box(&r.atomic).store(black_box(1.5f64).to_bits(), Ordering::Relaxed))
    });
    g.finish();
}

fn int_gauge_add(c: &mut Criterion) {
    let r = &all().int_gauges;
    let mut g = c.benchmark_group("int_gauge_add");
    g.bench_function("photon_catalog_handle", |b| {
        b.iter(|| black_box(&r.photon_catalog).add(black_box(1)))
    });
    g.bench_function("prometheus_client", |b| {
        b.iter(|| black_box(&r.prometheus_client).inc_by(black_box(1)))
    });
    g.bench_function("fastmetrics", |b| {
        b.iter(|| black_box(&r.fastmetrics).inc_by(black_box(1)))
    });
    g.bench_function("tikv_prometheus", |b| {
        b.iter(|| black_box(&r.tikv).add(black_box(1)))
    });
    g.bench_function("measured", |b| {
        b.iter(|| black_box(&r.measured).inc_by(black_box(1)))
    });
    g.bench_function("atomic_floor", |b| {
        b.iter(|| black_box(&r.atomic).fetch_add(black_box(1i64) as u64, Ordering::Relaxed))
    });
    g.finish();
}

fn histogram_observe(c: &mut Criterion) {
    let r = &all().histograms;
    let mut g = c.benchmark_group("histogram_observe");
    g.bench_function("photon_family_handle", |b| {
        b.iter(|| black_box(&r.photon_family).observe(black_box(1.5)))
    });
    g.bench_function("photon_facade_handle", |b| {
        b.iter(|| black_box(&r.photon_facade).record(black_box(1.5)))
    });
    g.bench_function("prometheus_client", |b| {
        b.iter(|| black_box(&r.prometheus_client).observe(black_box(1.5)))
    });
    g.bench_function("fastmetrics", |b| {
        b.iter(|| black_box(&r.fastmetrics).observe(black_box(1.5)))
    });
    g.bench_function("tikv_prometheus", |b| {
        b.iter(|| black_box(&r.tikv).observe(black_box(1.5)))
    });
    g.bench_function("measured", |b| {
        b.iter(|| black_box(&r.measured).observe(black_box(1.5)))
    });
    g.finish();
}

criterion_group!(
    benches,
    counter_inc,
    gauge_set,
    int_gauge_add,
    histogram_observe
);
criterion_main!(benches);
