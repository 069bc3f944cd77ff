//! The label-cap warning an instrumented call raises (its `target` or
//! `model_type` is one value too many) is written inside the call's span, so
//! its JSON log line carries the call's `trace_id` and `span_id` like every
//! other line of that call. Its own test binary: caps are process-wide and
//! each label warns once per process.

mod support;

use opentelemetry::trace::TracerProvider as _;
use photon_metrics::export::logs::JsonLayer;
use photon_metrics::labels::{set_cap, Target};
use photon_metrics::{instrument_compile, ModelInfo};
use serde_json::Value;
use std::time::Duration;
use support::exec::{block_on, yield_once};
use support::log_buffer::SharedBuffer;
use tracing_subscriber::layer::SubscriberExt;

/// A model whose architecture is text, interned on every call.
#[derive(ModelInfo)]
struct AdHoc {
    #[model(id)]
    id: &'static str,
    #[model(model_type)]
    arch: &'static str,
    #[model(parameters)]
    params: u64,
}

#[instrument_compile(target = Target::new("mzi-64x64").unwrap(), model = model)]
fn compile(model: &AdHoc) -> u64 {
    tracing::info!(arch = model.arch, "lowered");
    model.params
}

#[instrument_compile(target = Target::new(target).unwrap(), model = model)]
async fn compile_async(target: &str, model: &AdHoc) -> u64 {
    yield_once().await;
    tracing::info!(target_name = target, "lowered");
    model.params
}

fn model(arch: &'static str) -> AdHoc {
    AdHoc {
        id: "m",
        arch,
        params: 1,
    }
}

#[test]
fn the_cap_warning_of_an_instrumented_call_carries_the_calls_trace_id() {
    set_cap(photon_metrics::labels::ModelType::LABEL, 1).unwrap();
    set_cap(photon_metrics::labels::Target::LABEL, 2).unwrap();
    let buffer = SharedBuffer::default();
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder().build();
    let subscriber = tracing_subscriber::registry()
        .with(JsonLayer::new(buffer.clone()))
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("test")));
    tracing::subscriber::with_default(subscriber, || {
        compile(&model("resnet")); // the one model_type the cap allows
        compile(&model("bert")); // one too many: model_type warns
        block_on(compile_async("ring-8", &model("resnet")), Duration::ZERO); // the second target
        block_on(compile_async("ring-16", &model("resnet")), Duration::ZERO); // target warns
    });

    let lines: Vec<Value> = buffer
        .contents()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let warning = |label: &str| {
        lines
            .iter()
            .find(|l| {
                l["message"].as_str().is_some_and(|m| {
                    m.contains(&format!("label `{label}` reached its cardinality cap"))
                })
            })
            .unwrap_or_else(|| panic!("no cap warning for {label}: {lines:#?}"))
    };
    let lowered = |field: &str, value: &str| {
        lines
            .iter()
            .find(|l| l["message"] == "lowered" && l[field] == value)
            .unwrap_or_else(|| panic!("no line of the call with {field}={value}: {lines:#?}"))
    };

    for (label, call) in [
        ("model_type", lowered("arch", "bert")),
        ("target", lowered("target_name", "ring-16")),
    ] {
        let warning = warning(label);
        assert!(
            call["trace_id"].is_string(),
            "the call's own line has ids: {call}"
        );
        assert_eq!(
            warning["trace_id"], call["trace_id"],
            "the {label} cap warning is written inside the call's span: {warning}"
        );
        assert_eq!(warning["span_id"], call["span_id"], "{warning}");
    }
}
