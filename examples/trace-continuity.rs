//! One trace across two processes: a compile here, an inference there.
//!
//! ```text
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 cargo run --example trace-continuity -- compile
//!   → prints traceparent=00-<trace id>-<span id>-01 (the compile span)
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 cargo run --example trace-continuity -- infer 00-…-01
//! ```
//!
//! In Jaeger, the `infer` process's spans appear under the compile span of
//! the first process. `compile` also runs one compilation that fails, to
//! show an error span.

use photon_metrics::export::logs::LogFormat;
use photon_metrics::labels::{DeviceType, ModelType, Target};
use photon_metrics::{
    instrument_compile, instrument_inference, propagation, ErrorClass, ModelInfo,
};
use std::collections::HashMap;

#[derive(ModelInfo)]
struct Model {
    #[model(id)]
    id: &'static str,
    #[model(model_type)]
    arch: ModelType,
    #[model(parameters)]
    params: u64,
}

#[derive(Debug, ErrorClass)]
enum CompileError {
    UnsupportedOp,
}

impl std::fmt::Display for CompileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fft is not supported on this target")
    }
}

/// Compiles, and hands back the compile span's trace context for the runtime.
#[instrument_compile(target = target, model = model)]
fn compile(target: Target, model: &Model) -> Result<HashMap<String, String>, CompileError> {
    if model.params == 0 {
        return Err(CompileError::UnsupportedOp);
    }
    tracing::info!("lowered to the photonic dialect");
    Ok(propagation::inject(&tracing::Span::current()))
}

#[derive(Debug, ErrorClass)]
enum InferError {}

impl std::fmt::Display for InferError {
    fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {}
    }
}

#[instrument_inference(device = DeviceType::Mzi, ops = batch as u64 * 4096)]
fn infer(batch: usize) -> Result<usize, InferError> {
    Ok(batch)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let telemetry = photon_metrics::init()
        .service_name(format!(
            "photon-{}",
            args.first().map(String::as_str).unwrap_or("demo")
        ))
        .without_metrics()
        .log_format(LogFormat::Off)
        .install()
        .unwrap_or_else(|e| {
            eprintln!("trace-continuity: {e}");
            std::process::exit(1)
        });
    match args.first().map(String::as_str) {
        Some("compile") => {
            let target = Target::new("mzi-64x64").expect("valid");
            let resnet = Model {
                id: "resnet50-v1.5",
                arch: ModelType::new("resnet").expect("valid"),
                params: 25_600_000,
            };
            let broken = Model {
                id: "fft-net",
                arch: ModelType::new("fftnet").expect("valid"),
                params: 0,
            };
            let headers = compile(target, &resnet).expect("resnet compiles");
            let _ = compile(target, &broken);
            println!(
                "traceparent={}",
                headers.get("traceparent").map(String::as_str).unwrap_or("")
            );
        }
        Some("infer") => {
            let traceparent = args.get(1).cloned().unwrap_or_default();
            let headers = HashMap::from([("traceparent".to_string(), traceparent)]);
            let serve = tracing::info_span!("serve");
            if !propagation::set_parent(&serve, &headers) {
                eprintln!("trace-continuity: no valid traceparent given; starting a new trace");
            }
            serve.in_scope(|| infer(8).expect("inference"));
        }
        _ => {
            eprintln!("usage: trace-continuity compile | trace-continuity infer TRACEPARENT");
            std::process::exit(2);
        }
    }
    if let Err(e) = telemetry.shutdown() {
        eprintln!("trace-continuity: {e}");
        std::process::exit(1);
    }
}
