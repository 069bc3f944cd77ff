//! The spans the macros open: names, fields, error status, opt-in fields,
//! and no span at all when the level is disabled.

mod support;

use photon_metrics::labels::{DeviceType, ModelType, Target};
use photon_metrics::{instrument_compile, instrument_inference, ErrorClass, ModelInfo};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use support::recorded::record;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

type Fields = BTreeMap<String, String>;

/// Every span opened: (name, fields as recorded so far).
#[derive(Clone, Default)]
struct Spans(
    Arc<Mutex<Vec<(String, Fields)>>>,
    Arc<Mutex<BTreeMap<u64, usize>>>,
);

struct Collect<'a>(&'a mut Fields);

impl Visit for Collect<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
}

impl<S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>> Layer<S>
    for Spans
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
        let mut fields = Fields::new();
        attrs.record(&mut Collect(&mut fields));
        let mut spans = self.0.lock().unwrap();
        self.1.lock().unwrap().insert(id.into_u64(), spans.len());
        spans.push((attrs.metadata().name().to_string(), fields));
    }
    fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
        let index = self.1.lock().unwrap()[&id.into_u64()];
        let mut spans = self.0.lock().unwrap();
        let (_, fields) = &mut spans[index];
        values.record(&mut Collect(fields));
    }
}

fn traced<T>(level: LevelFilter, f: impl FnOnce() -> T) -> (T, Vec<(String, Fields)>) {
    let spans = Spans::default();
    let subscriber = tracing_subscriber::registry().with(spans.clone().with_filter(level));
    let out = tracing::subscriber::with_default(subscriber, f);
    let seen = spans.0.lock().unwrap().clone();
    (out, seen)
}

#[derive(ModelInfo)]
struct Model {
    #[model(id)]
    id: &'static str,
    #[model(model_type)]
    kind: &'static str,
    #[model(parameters)]
    params: u32,
}

#[derive(Debug, ErrorClass)]
enum LowerError {
    ShapeMismatch,
}

impl std::fmt::Display for LowerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("tensor shapes do not line up")
    }
}

#[instrument_compile(target = target, model = model)]
fn lower(target: Target, model: &Model, secret_weights: &[f32]) -> Result<usize, LowerError> {
    if secret_weights.is_empty() {
        return Err(LowerError::ShapeMismatch);
    }
    Ok(secret_weights.len())
}

#[instrument_compile(target = target, model = model, name = "photon.compile", fields(batch = batch, note = %"hello"))]
fn renamed(target: Target, model: &Model, batch: u32) -> u32 {
    batch
}

#[instrument_compile(target = target, model = model, level = "debug")]
fn quiet(target: Target, model: &Model) -> u32 {
    1
}

#[instrument_inference(device = DeviceType::Pcm, name = "photon.infer")]
fn infer() -> Result<(), std::io::Error> {
    Err(std::io::Error::other("laser off"))
}

fn model() -> Model {
    Model {
        id: "bert-base-uncased",
        kind: "transformer",
        params: 110_000,
    }
}

fn target() -> Target {
    Target::new("microring-16").unwrap()
}

#[test]
fn compile_span_has_model_fields_and_no_arguments() {
    let (_, spans) = traced(LevelFilter::INFO, || {
        lower(target(), &model(), &[1.0]).unwrap()
    });
    assert_eq!(spans.len(), 1, "{spans:?}");
    let (name, fields) = &spans[0];
    assert_eq!(name, "lower");
    assert_eq!(fields["model_id"], "bert-base-uncased");
    assert_eq!(fields["target"], "microring-16");
    assert_eq!(fields["model_type"], "transformer");
    assert!(
        !fields.contains_key("secret_weights"),
        "arguments are not recorded unless asked: {fields:?}"
    );
    assert!(
        !fields.contains_key("otel.status_code"),
        "success sets no error status: {fields:?}"
    );
}

#[test]
fn error_sets_the_opentelemetry_status_fields() {
    let (_, spans) = traced(LevelFilter::INFO, || {
        lower(target(), &model(), &[]).unwrap_err()
    });
    let (_, fields) = &spans[0];
    assert_eq!(fields["otel.status_code"], "ERROR");
    assert_eq!(
        fields["otel.status_description"],
        "tensor shapes do not line up"
    );
    assert_eq!(fields["error_kind"], "ShapeMismatch");

    let (_, spans) = traced(LevelFilter::INFO, || infer().unwrap_err());
    let (name, fields) = &spans[0];
    assert_eq!(name, "photon.infer");
    assert_eq!(fields["device_type"], "pcm");
    assert_eq!(fields["otel.status_code"], "ERROR");
    assert_eq!(fields["otel.status_description"], "laser off");
    assert_eq!(
        fields["error_kind"], "std::io::error::Error",
        "io::Error has no ErrorClass: its type path"
    );
}

#[test]
fn name_and_opt_in_fields_are_honoured() {
    let (_, spans) = traced(LevelFilter::INFO, || renamed(target(), &model(), 32));
    let (name, fields) = &spans[0];
    assert_eq!(name, "photon.compile");
    assert_eq!(fields["batch"], "32");
    assert_eq!(fields["note"], "hello");
}

#[test]
fn a_disabled_level_opens_no_span_but_still_records_metrics() {
    let ((_, recorded), spans) = traced(LevelFilter::INFO, || record(|| quiet(target(), &model())));
    assert!(
        spans.is_empty(),
        "debug span under an info filter: {spans:?}"
    );
    let labels = [
        ("target", "microring-16"),
        ("status", "success"),
        ("model_type", "transformer"),
    ];
    assert_eq!(recorded.counter("photon_compilations_total", &labels), 1);

    let (_, spans) = traced(LevelFilter::DEBUG, || quiet(target(), &model()));
    assert_eq!(spans.len(), 1);
}

#[test]
fn model_type_text_is_interned() {
    assert_eq!(model().model_type(), ModelType::new("transformer").unwrap());
}

#[instrument_compile(target = target, model = model)]
fn crashes(target: Target, model: &Model) -> Result<u32, LowerError> {
    panic!("lowering pass crashed")
}

#[instrument_inference(device = DeviceType::Mzi)]
async fn waits_forever() -> Result<(), std::io::Error> {
    support::exec::yield_once().await;
    std::future::pending::<()>().await;
    Ok(())
}

#[test]
fn a_panic_ends_the_span_as_an_error_with_error_kind_panic() {
    let (result, spans) = traced(LevelFilter::INFO, || {
        std::panic::catch_unwind(|| crashes(target(), &model()))
    });
    assert!(result.is_err(), "the panic keeps unwinding");
    let (name, fields) = &spans[0];
    assert_eq!(name, "crashes");
    assert_eq!(fields["error_kind"], "panic", "{fields:?}");
    assert_eq!(fields["otel.status_code"], "ERROR", "{fields:?}");
    assert_eq!(fields["otel.status_description"], "panicked");
}

#[test]
fn a_cancelled_future_ends_the_span_as_an_error_with_error_kind_cancelled() {
    let (_, spans) = traced(LevelFilter::INFO, || {
        let mut fut = Box::pin(waits_forever());
        assert!(!support::exec::poll_once(fut.as_mut()));
        drop(fut); // cancelled mid-await
    });
    let (name, fields) = &spans[0];
    assert_eq!(name, "waits_forever");
    assert_eq!(fields["error_kind"], "cancelled", "{fields:?}");
    assert_eq!(fields["otel.status_code"], "ERROR");
    assert_eq!(
        fields["otel.status_description"],
        "cancelled: dropped before it completed"
    );
}
