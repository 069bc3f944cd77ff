//! # photon-metrics
//!
//! Observability for photon-mlir-bridge, the MLIR compiler and runtime for
//! photonic ML accelerators: typed metric families for the compiler, the
//! photonic hardware and the inference runtime, recorded through the
//! [`metrics`] facade and exported to Prometheus.
//!
//! * [`mod@catalog`] — every family's name, help, unit, kind, labels and buckets:
//!   the single source of truth that docs, exporters, dashboards and alert
//!   rules are checked against.
//! * [`labels`] — typed label values: enums for closed sets, validated,
//!   interned, cardinality-capped newtypes for open ones.
//! * [`compiler`], [`hardware`], [`runtime`] — record helpers, one per family,
//!   plus drop guards that record on every path (panic and cancellation
//!   included), and a function per family that returns a [`handle`]: the
//!   series resolved once, recorded at the cost of its atomic.
//! * [`families`] — your own families with the catalog's guarantees,
//!   declared with [`family!`] and label types from [`derive@Label`]; and
//!   every family by name ([`families::Dynamic`]), which the C, C++ and
//!   Python bindings are built on.
//! * [`export`] — photon's own Prometheus store and exposition (text 0.0.4 and
//!   OpenMetrics with exemplars) on a hardened listener, rendered into your
//!   server or pushed; OTLP trace export and JSON logs.
//! * [`shared`] — one service, many processes: pre-fork servers and worker
//!   pools scraped as one `/metrics`.
//! * [`init()`] — one call that sets up metrics, traces and logs (features
//!   `logs` and `otlp`, on by default), with the standard environment
//!   variables; [`propagation`] carries trace context across processes.
//! * [`macro@instrument_compile`], [`macro@instrument_inference`],
//!   [`derive@ModelInfo`], [`derive@ErrorClass`] — one attribute and a function
//!   is counted, timed, classified (`Ok`/`Err`/panic/cancelled) and traced.
//!
//! ## Quick start
//!
//! ```no_run
//! use photon_metrics::export::prometheus::PrometheusExporterBuilder;
//! use photon_metrics::labels::{ModelType, Status, Target};
//!
//! // Serve /metrics on 0.0.0.0:8080.
//! let _exporter = PrometheusExporterBuilder::new().install()?;
//!
//! // Validate and intern label values once; they are Copy afterwards.
//! let target = Target::new("mzi-64x64")?;
//! let model = ModelType::new("resnet50")?;
//!
//! // Time a compilation: the timer records count and duration when dropped.
//! let timer = photon_metrics::compiler::start_compilation(target, model, 25_600_000);
//! timer.finish(Status::Success);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Layers
//!
//! Each module imports only from modules drawn below it (within a row, the
//! files keep the same rule among themselves); none imports from above,
//! and no two import each other. `tests/import_layers.rs` reads every
//! file's `use` lines and paths, fails on any cycle, and prints each
//! file's layer with `--nocapture`.
//!
//! ```text
//! init                    install: builder, environment, guard
//! export::prometheus      the exporter and its builder; the listener, push,
//!   listener, push, otlp  OTLP; they serve renders of the store
//! shared                  one service, many processes: each process's store
//!                         published to a directory, merged at render
//! export::encode runtime  text, OpenMetrics and protobuf renders of a store;
//!   process               the runtime's helpers; the process sampler
//! compiler hardware       typed helpers and handle functions; retirement
//!   lifecycle selfmon     and idle expiry; self-monitoring figures;
//!   catalog               the catalog's listing and reserved names
//! catalog::declared       the catalog's families: one `family!`
//! families                the typed wrappers; every family by name
//! engine                  the record engine (a family's table in the
//!                         installed store)
//! store                   our Prometheus store: tables, cells, native buckets,
//!                         exemplars, the facade's series and keys; the recorder
//! handle guard            a series resolved once; labels by name
//!   families::label_values
//! registry                every family, registered by `family!` (the catalog's first)
//! catalog::spec           what a family is
//! labels                  label values: the catalog's `derive(Label)` types,
//!                         open interned values, their texts, caps and lives
//! ```
//!
//! A row's module may import from any row below it: `export::encode`
//! reads the store and runs `lifecycle`'s expiry before a render;
//! `compiler` uses handles directly. Small helpers (`warning`, `guard`,
//! `classify`, `model`) sit low, importing little more than `labels`.
//!
//! ## Where warnings go
//!
//! photon warns once per cause when something is lost or folded (a label at
//! its cap, a facade metric refused, a push that fails). The warnings are
//! `tracing` events: a subscriber installed globally or for the thread
//! (by [`init()`] or your own) receives them, filters included; with none
//! installed, as when only the exporter is, each is written to stderr as
//! one `WARN target: message fields` line.
//!
//! ## Which recorder receives a record
//!
//! Every family goes through the [`metrics`] facade's current recorder. When
//! that is photon's installed exporter, the typed helpers update its cells
//! directly (no hashing, lock or allocation). Any other recorder — one of
//! your own installed with `metrics::set_global_recorder`, or one used with
//! `metrics::with_local_recorder` — receives every family with its help text,
//! registered through that recorder on each record as `metrics::counter!`
//! would. Records made before any recorder is installed go to the facade's
//! no-op recorder and are not kept.

#![warn(missing_docs)]

// The catalog is declared with the same `family!` applications use, whose
// expansion names this crate by its public path.
extern crate self as photon_metrics;

pub mod catalog;
mod classify;
pub mod compiler;
mod engine;
pub mod export;
pub mod families;
mod guard;
pub mod handle;
pub mod hardware;
#[cfg(feature = "logs")]
mod init;
pub mod labels;
mod lifecycle;
mod model;
pub mod process;
#[cfg(feature = "otlp")]
pub mod propagation;
mod registry;
pub mod runtime;
#[cfg(feature = "otlp")]
mod selfmon;
pub mod shared;
mod store;
mod warning;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

/// The README's examples, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeExamples;

pub use catalog::FamilySpec;
pub use classify::ErrorClass;
#[cfg(feature = "logs")]
pub use init::{init, BoxedLayer, InitError, TelemetryBuilder, TelemetryGuard};
pub use model::{ModelInfo, ToModelType, ToParameters};
pub use photon_metrics_macros::{
    family, instrument_compile, instrument_inference, ErrorClass, Label, ModelInfo,
};

/// What the README's quickstart uses, in one `use`: the exporter builder,
/// the label types, the macros and derives, and the record-helper modules.
///
/// ```
/// use photon_metrics::prelude::*;
///
/// #[derive(ModelInfo)]
/// struct Model {
///     #[model(id)]
///     id: String,
///     #[model(model_type)]
///     arch: ModelType,
///     #[model(parameters)]
///     params: u64,
/// }
///
/// #[instrument_compile(target = target, model = model)]
/// fn compile(target: Target, model: &Model) -> u64 {
///     model.params
/// }
///
/// let model = Model { id: "resnet50".into(), arch: ModelType::new("resnet")?, params: 25_600_000 };
/// compile(Target::new("mzi-64x64")?, &model);
/// compiler::record_cache_hit(Target::new("mzi-64x64")?);
/// hardware::set_temperature_celsius(DeviceId::new("opu-0")?, 41.5);
/// # Ok::<(), photon_metrics::labels::LabelError>(())
/// ```
pub mod prelude {
    pub use crate::export::prometheus::PrometheusExporterBuilder;
    pub use crate::labels::{
        DeviceId, DeviceType, ErrorKind, Location, MemoryStat, ModelSize, ModelType, OpenValue,
        Pass, Status, Target,
    };
    pub use crate::{compiler, hardware, runtime};
    pub use crate::{
        family, instrument_compile, instrument_inference, ErrorClass, Label, ModelInfo,
    };
}
