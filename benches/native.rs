//! Native histograms: what an observation costs with native buckets beside
//! the classic ones, against the classic buckets alone (the same cell, one
//! run) and against prometheus-client's histogram with native buckets.
//! Every contender observes the same 4,096 log-normal latencies (median
//! 2 ms) in turn, into the inference-latency buckets.
//! (Protobuf encoding is in benches/render.rs.)

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use photon_metrics::__private::BenchHistogram;
use photon_metrics::catalog::INFERENCE_LATENCY_BUCKETS;
use prometheus_client::metrics::histogram::{Histogram, NativeHistogramConfig};
use std::hint::black_box;

fn latencies() -> Vec<f64> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..4096)
        .map(|_| {
            let (u, v) = (uniform(), uniform());
            let z = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
            (0.002f64.ln() + z).exp()
        })
        .collect()
}

fn observe(c: &mut Criterion) {
    let values = latencies();
    let classic = BenchHistogram::classic(INFERENCE_LATENCY_BUCKETS);
    let native = BenchHistogram::with_native(INFERENCE_LATENCY_BUCKETS);
    let config = || NativeHistogramConfig::with_schema(3).max_buckets(160);
    let pc_native =
        Histogram::new_classic_and_native(INFERENCE_LATENCY_BUCKETS.iter().copied(), config());
    let pc_classic = Histogram::new(INFERENCE_LATENCY_BUCKETS.iter().copied());

    let mut g = c.benchmark_group("histogram_observe");
    let mut i = 0usize;
    let mut next = move || {
        i = (i + 1) & 4095;
        values[i]
    };
    g.bench_function("photon_classic", |b| {
        b.iter(|| classic.observe(black_box(next())))
    });
    g.bench_function("photon_native_and_classic", |b| {
        b.iter(|| native.observe(black_box(next())))
    });
    g.bench_function("prometheus_client_classic", |b| {
        b.iter(|| pc_classic.observe(black_box(next())))
    });
    g.bench_function("prometheus_client_native_and_classic", |b| {
        b.iter(|| pc_native.observe(black_box(next())))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = observe
}
criterion_main!(benches);
