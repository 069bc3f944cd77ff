//! Attribute macros and derives for [photon-metrics]. Use them through the
//! core crate (`photon_metrics::instrument_compile`, …): the generated code
//! names only `::photon_metrics` paths, so one dependency is enough.
//!
//! [photon-metrics]: https://docs.rs/photon-metrics

mod args;
mod derive;
mod expand;
mod family;
mod label;
mod limits;

use args::Flavor;
use proc_macro::TokenStream;

/// Instruments a compilation function: counts it, times it, classifies its
/// outcome and opens a `tracing` span.
///
/// ```
/// use photon_metrics::{instrument_compile, ErrorClass, ModelInfo};
/// use photon_metrics::labels::{ModelType, Target};
///
/// #[derive(ModelInfo)]
/// struct Model {
///     #[model(id)] name: String,
///     #[model(model_type)] arch: ModelType,
///     #[model(parameters)] params: u64,
/// }
///
/// #[derive(Debug, ErrorClass)]
/// enum CompileError { UnsupportedOp, OutOfMemory }
///
/// #[instrument_compile(target = target, model = model)]
/// fn compile(target: Target, model: &Model) -> Result<Vec<u8>, CompileError> {
///     if model.params == 0 { return Err(CompileError::UnsupportedOp); }
///     Ok(vec![0; 16])
/// }
///
/// let model = Model { name: "resnet50".into(), arch: ModelType::new("resnet").unwrap(), params: 25_600_000 };
/// assert!(compile(Target::new("mzi-64x64").unwrap(), &model).is_ok());
/// ```
///
/// # Arguments
///
/// | argument | required | meaning |
/// |---|---|---|
/// | `target = <expr>` | yes | the compile target, a `photon_metrics::labels::Target` |
/// | `model = <expr>` | yes | anything implementing `photon_metrics::ModelInfo` (model type, id, parameter count) |
/// | `name = "…"` | no | the span name (default: the function's name) |
/// | `level = "…"` | no | the span level: `trace`, `debug`, `info` (default), `warn`, `error` |
/// | `fields(k = v, …)` | no | extra span fields, as in `tracing::span!` (`%` for Display, `?` for Debug); arguments are never recorded unless listed here |
///
/// Expressions may use the function's parameters (including `self`).
///
/// # What is recorded, per call
///
/// - `photon_compilations_total{target, status, model_type}`: `success` for
///   `Ok` (or any non-`Result` return), `error` for `Err`, `panic` when the
///   body panics (the panic keeps unwinding), `cancelled` when an async
///   future is dropped before it completes;
/// - `photon_compilation_duration_seconds{target, model_size}`, covering
///   every `.await`; `model_size` comes from the parameter count;
/// - `photon_compilation_errors_total{target, error_kind}` on `Err`, where
///   `error_kind` comes from `photon_metrics::ErrorClass` (derive it) or, for
///   other error types, the type's path as `std::any::type_name` spells it,
///   generics left out (`std::io::Error` is `std::io::error::Error`,
///   `serde_json::Error` is `serde_json::error::Error`, `anyhow::Error` is
///   `anyhow::Error`; see `photon_metrics::ErrorClass`).
///
/// The span has fields `model_id`, `target` and `model_type`; on `Err` it
/// gets `error_kind`, `otel.status_code = "ERROR"` and
/// `otel.status_description` (the error's `Display`, or its kind), so
/// OpenTelemetry backends mark it failed. When the level is disabled no span
/// is built.
///
/// Works on free functions, methods (`&self`, `&mut self`, `self`), generic
/// functions, `impl Trait` returns, `async fn` and methods inside
/// `#[async_trait]` impls. The signature, visibility, attributes and docs are
/// kept as written.
///
/// A sync `fn` whose declared return type is `impl Future<Output = …>`,
/// `Pin<Box<dyn Future<Output = …>>>` or `BoxFuture<…>` gets the returned
/// future instrumented: it is timed from the call until the future completes
/// and classified by the future's output (dropped before it completes:
/// `cancelled`). A future type spelled any other way (a named future struct,
/// an alias under another name) cannot be recognised by the attribute and is timed as a
/// sync function, i.e. its construction only: make such a function an
/// `async fn`.
///
/// ```
/// use photon_metrics::instrument_compile;
/// use photon_metrics::labels::{ModelType, Target};
/// use std::future::Future;
///
/// #[derive(photon_metrics::ModelInfo)]
/// struct Model { #[model(id)] id: String, #[model(model_type)] arch: ModelType, #[model(parameters)] params: u64 }
///
/// #[instrument_compile(target = target, model = model)]
/// fn compile_later(target: Target, model: &Model) -> impl Future<Output = Result<u64, std::io::Error>> + '_ {
///     async move { Ok(model.params) } // the record is made when this completes
/// }
/// ```
#[proc_macro_attribute]
pub fn instrument_compile(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    or_original(
        expand::instrument(Flavor::Compile, attr.into(), item.clone()),
        item,
    )
}

/// Instruments an inference call: latency by device type, the in-flight
/// session gauge, the ops counter and throughput, and runtime errors.
///
/// ```
/// use photon_metrics::instrument_inference;
/// use photon_metrics::labels::DeviceType;
///
/// struct Opu { kind: DeviceType }
///
/// impl Opu {
///     #[instrument_inference(device = self.kind, ops = input.len() as u64 * 64)]
///     fn infer(&self, input: &[f32]) -> Result<Vec<f32>, std::io::Error> {
///         Ok(input.to_vec())
///     }
/// }
///
/// let opu = Opu { kind: DeviceType::Mzi };
/// assert_eq!(opu.infer(&[1.0, 2.0]).unwrap().len(), 2);
/// ```
///
/// # Arguments
///
/// | argument | required | meaning |
/// |---|---|---|
/// | `device = <expr>` | yes | a `photon_metrics::labels::DeviceType` |
/// | `ops = <expr>` | no | operations this call executes (`u64`, `u32` or `usize`; default 1), evaluated before the body |
/// | `name`, `level`, `fields(…)` | no | as for [`macro@instrument_compile`] |
///
/// # What is recorded, per call
///
/// - `photon_active_sessions` is incremented for the call and decremented by
///   a drop guard on every path (return, `?`, panic, cancellation);
/// - on success: `photon_inference_latency_seconds{device_type}`,
///   `photon_inference_ops_total{device_type}` and
///   `photon_throughput_ops_per_second` (this call's rate);
/// - on `Err`: the latency, and `photon_runtime_errors_total{error_kind}`
///   (`error_kind` as for [`macro@instrument_compile`]);
/// - on panic: `photon_runtime_errors_total{error_kind="panic"}`;
/// - when cancelled: nothing but the session release.
#[proc_macro_attribute]
pub fn instrument_inference(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    or_original(
        expand::instrument(Flavor::Inference, attr.into(), item.clone()),
        item,
    )
}

/// On an error, the error *and* the user's item unchanged: one mistake in the
/// attribute gives one error, not a cascade of "cannot find function" at
/// every call site (as tracing-attributes and thiserror do).
fn or_original(
    expanded: syn::Result<proc_macro2::TokenStream>,
    item: proc_macro2::TokenStream,
) -> TokenStream {
    match expanded {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            let error = error.into_compile_error();
            quote::quote!(#error #item).into()
        }
    }
}

/// Derives `photon_metrics::ModelInfo` from three marked fields.
///
/// ```
/// use photon_metrics::ModelInfo;
///
/// #[derive(ModelInfo)]
/// struct Model {
///     #[model(id)]
///     name: String,            // any Display type; a span field, never a label
///     #[model(model_type)]
///     arch: String,            // a ModelType, or text interned on each call
///     #[model(parameters)]
///     params: usize,           // any integer type; negative counts as 0
/// }
/// # let m = Model { name: "m".into(), arch: "cnn".into(), params: 1 };
/// # assert_eq!(m.model_type().as_str(), "cnn");
/// ```
#[proc_macro_derive(ModelInfo, attributes(model))]
pub fn derive_model_info(input: TokenStream) -> TokenStream {
    syn::parse::<syn::DeriveInput>(input)
        .and_then(derive::model_info)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives `photon_metrics::ErrorClass`: each enum variant's name (or
/// `#[error_kind(rename = "…")]`) is its bounded `error_kind`.
///
/// ```
/// use photon_metrics::ErrorClass;
///
/// #[derive(Debug, ErrorClass)]
/// enum RuntimeError {
///     DeviceTimeout { after_ms: u64 },
///     #[error_kind(rename = "no_device")]
///     NoDeviceAvailable,
/// }
/// assert_eq!(RuntimeError::NoDeviceAvailable.error_kind().as_str(), "no_device");
/// ```
///
/// A struct is one kind of error, and says which: it needs
/// `#[error_kind(rename = "…")]` on the struct (its type name is never taken
/// as a label value silently; without the attribute the derive is an error).
///
/// ```
/// use photon_metrics::ErrorClass;
///
/// #[derive(Debug, ErrorClass)]
/// #[error_kind(rename = "DeviceTimeout")]
/// struct Timeout {
///     after_ms: u64,
/// }
/// assert_eq!(Timeout { after_ms: 5 }.error_kind().as_str(), "DeviceTimeout");
/// ```
#[proc_macro_derive(ErrorClass, attributes(error_kind))]
pub fn derive_error_class(input: TokenStream) -> TokenStream {
    syn::parse::<syn::DeriveInput>(input)
        .and_then(derive::error_class)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Declares an application's own metric families, with the catalog's
/// guarantees (see `photon_metrics::families`).
///
/// ```
/// use photon_metrics::{family, Label};
/// use photon_metrics::labels::Target;
///
/// #[derive(Label, Clone, Copy)]
/// #[label(name = "cache")]
/// enum Cache { Kernel, Weights }
///
/// family! {
///     /// Bytes held by each cache, by target.
///     #[family(name = "app_cache_size_bytes", unit = bytes)]
///     pub static CACHE_SIZE: Gauge<(Cache, Target)>;
/// }
///
/// CACHE_SIZE.set((Cache::Kernel, Target::new("mzi-64x64").unwrap()), 4096.0);
/// ```
///
/// Each declaration is its doc comment (the `# HELP` text, required), a
/// `#[family(…)]` attribute, and `static NAME: Kind<(labels…)>;` with
/// `Kind` one of `Counter`, `Gauge`, `Histogram` and up to three label
/// types (the catalog's, or the application's from `derive(Label)`). The
/// labels are a tuple: one label is `(Cache,)`, with the comma that makes
/// it a tuple, and no label is `()`; records take a tuple of values alike.
///
/// ```
/// use photon_metrics::{family, Label};
///
/// #[derive(Label, Clone, Copy)]
/// #[label(name = "dialect")]
/// enum Dialect { Linalg, Tosa }
///
/// family! {
///     /// Time to lower a kernel, by dialect.
///     #[family(name = "app_lowering_seconds", unit = seconds, buckets = [0.01, 0.1, 1.0])]
///     pub static LOWERING: Histogram<(Dialect,)>;
///
///     /// Kernels in the queue.
///     #[family(name = "app_queued_kernels")]
///     pub static QUEUED: Gauge<()>;
/// }
///
/// LOWERING.observe((Dialect::Tosa,), 0.02);
/// QUEUED.set((), 3.0);
/// ```
///
/// | option | meaning |
/// |---|---|
/// | `name = "…"` | the exported name (required): a counter's ends in `_total` |
/// | `unit = …` | `count` (default), `seconds`, `bytes`, `milliwatts`, `celsius`, `ratio`, `ops_per_second`, `state`; the name must end in its suffix (`_seconds`, `_bytes`, `_mw`, `_celsius`) |
/// | `buckets = [..]` or `buckets = PATH` | a histogram's classic bucket bounds (required for histograms), strictly increasing: a list of numbers, or a `const` slice of `f64` |
/// | `native(schema = 3, max_buckets = 160)` | native buckets beside the classic ones (histograms) |
/// | `query = "…"` | a PromQL query for the docs and checks (default: a rate, the gauge, or a p95) |
/// | `subsystem = …` | `application` (default); photon's catalog says `compiler`, `hardware`, `runtime` or `self_monitoring` |
/// | `merge = …` | gauges: how the processes of one service combine it ([`Merge`](../photon_metrics/catalog/enum.Merge.html)): `sum` of live processes (default), `max`, `min`, `last` (most recently changed) or `per_process` (a `pid` label) |
///
/// Photon's own catalog is one `family!` invocation that begins with
/// `#![catalog]`: its families register first, in the order written, and
/// their names are refused to every other declaration at compile time.
#[proc_macro]
pub fn family(input: TokenStream) -> TokenStream {
    family::family(input.into())
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Derives a label type for `family!`: on an enum, a closed set (each
/// variant's name in snake case, or `#[label(value = "…")]`); on a
/// newtype around `photon_metrics::labels::OpenValue`, an open label that is
/// validated, interned, capped (`cap = N`, default 64, at most 4096) and
/// retirable, optionally expiring when idle (`idle_expiry_secs = N`).
///
/// ```
/// use photon_metrics::Label;
/// use photon_metrics::labels::OpenValue;
///
/// #[derive(Label, Clone, Copy, PartialEq, Eq, Debug)]
/// #[label(name = "tier")]
/// enum Tier { Free, #[label(value = "pro")] Professional }
///
/// #[derive(Label, Clone, Copy, PartialEq, Eq)]
/// #[label(name = "tenant", cap = 100)]
/// struct Tenant(OpenValue);
///
/// let t = Tenant::new("acme").unwrap();
/// assert_eq!(t.as_str(), "acme");
/// assert!(t.retire());
/// assert_eq!(t.as_str(), "__retired__");
/// ```
#[proc_macro_derive(Label, attributes(label))]
pub fn derive_label(input: TokenStream) -> TokenStream {
    syn::parse::<syn::DeriveInput>(input)
        .and_then(label::label)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
