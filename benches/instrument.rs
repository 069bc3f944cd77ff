//! Groups 3 and 4: a whole instrumented call against the bare function and
//! `#[autometrics]` (metrics 0.24 backend, buckets set), in the same run.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use photon_metrics::labels::{ModelType, Target};
use photon_metrics::{instrument_compile, ErrorClass};
use std::hint::black_box;

#[path = "../tests/support/model.rs"]
mod model;
use model::Model;

#[derive(Debug, ErrorClass)]
enum CompileError {
    #[allow(dead_code)]
    Unsupported,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("unsupported")
    }
}

/// The work every variant does: trivial, so the bench shows the overhead.
#[inline(always)]
fn work(x: u64) -> Result<u64, CompileError> {
    Ok(x.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(7))
}

#[inline(never)]
fn bare(_target: Target, _model: &Model, x: u64) -> Result<u64, CompileError> {
    work(x)
}

#[inline(never)]
#[instrument_compile(target = target, model = model)]
fn photon(target: Target, model: &Model, x: u64) -> Result<u64, CompileError> {
    work(x)
}

#[inline(never)]
#[autometrics::autometrics]
fn autometrics(_target: Target, _model: &Model, x: u64) -> Result<u64, CompileError> {
    work(x)
}

fn instrumented_call(c: &mut Criterion) {
    common::installed();
    // Spans at INFO are disabled: only WARN and above pass.
    let subscriber = tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::registry(),
        tracing_subscriber::filter::LevelFilter::WARN,
    );
    tracing::subscriber::set_global_default(subscriber).unwrap();

    let target = Target::new("mzi-64x64").unwrap();
    let model = Model {
        id: "resnet50",
        arch: ModelType::new("resnet").unwrap(),
        params: 25_600_000,
    };
    let mut g = c.benchmark_group("instrumented_call");
    g.bench_function("bare", |b| {
        b.iter(|| bare(black_box(target), black_box(&model), black_box(7)))
    });
    g.bench_function("photon_instrument_compile", |b| {
        b.iter(|| photon(black_box(target), black_box(&model), black_box(7)))
    });
    // What timing alone costs: the two clock reads every instrumented call makes.
    g.bench_function("clock_pair", |b| {
        b.iter(|| {
            let start = quanta::Instant::now();
            black_box(start.elapsed())
        })
    });
    g.bench_function("autometrics", |b| {
        b.iter(|| autometrics(black_box(target), black_box(&model), black_box(7)))
    });
    g.finish();
    assert!(model.id.len() + model.params as usize > 0);
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = instrumented_call
}
criterion_main!(benches);
