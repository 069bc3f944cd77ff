//! Group 4: the instrumented call with a sampled OpenTelemetry span, against
//! a bare `tracing` span through the same `tracing-opentelemetry` layer, an
//! SDK tracer provider and a no-op exporter.

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use photon_metrics::instrument_compile;
use photon_metrics::labels::{ModelType, Target};
use std::hint::black_box;
use tracing_subscriber::layer::SubscriberExt;

/// Accepts every batch and does nothing with it.
#[derive(Debug)]
struct NoopExporter;

impl SpanExporter for NoopExporter {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

#[path = "../tests/support/model.rs"]
mod model;
use model::Model;

#[inline(never)]
#[instrument_compile(target = target, model = model)]
fn photon(target: Target, model: &Model, x: u64) -> Result<u64, std::fmt::Error> {
    Ok(x.wrapping_mul(31))
}

#[inline(never)]
fn bare_span(target: Target, model: &Model, x: u64) -> Result<u64, std::fmt::Error> {
    let span = tracing::info_span!("compile", model_id = %model.id, target = %target, model_type = %model.arch);
    let _entered = span.enter();
    Ok(x.wrapping_mul(31))
}

fn sampled_span(c: &mut Criterion) {
    common::installed();
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(NoopExporter)
        .build();
    let layer = tracing_opentelemetry::layer()
        .with_tracer(provider.tracer("bench"))
        .with_target(false);
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer)).unwrap();

    let target = Target::new("mzi-64x64").unwrap();
    let model = Model {
        id: "resnet50",
        arch: ModelType::new("resnet").unwrap(),
        params: 25_600_000,
    };
    let mut g = c.benchmark_group("sampled_span");
    g.bench_function("tracing_opentelemetry_bare_span", |b| {
        b.iter(|| bare_span(black_box(target), black_box(&model), black_box(7)))
    });
    g.bench_function("photon_instrument_compile", |b| {
        b.iter(|| photon(black_box(target), black_box(&model), black_box(7)))
    });
    g.finish();
    let _ = provider.shutdown();
    assert!(model.params > 0);
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = sampled_span
}
criterion_main!(benches);
