//! Compiler families: compilations, duration, errors, cache and memory.
//!
//! | family | kind | labels | unit |
//! |---|---|---|---|
//! | `photon_compilations_total` | counter | `target`, `status`, `model_type` | count |
//! | `photon_compilation_duration_seconds` | histogram (0.1 … 120 s) | `target`, `model_size` | seconds |
//! | `photon_compilation_errors_total` | counter | `target`, `error_kind` | count |
//! | `photon_cache_hits_total` | counter | `target` | count |
//! | `photon_cache_misses_total` | counter | `target` | count |
//! | `photon_memory_usage_bytes` | gauge | `target`, `memory` (`current`/`peak`) | bytes |
//! | `photon_memory_limit_bytes` | gauge | — | bytes |
//! | `photon_pass_duration_seconds` | histogram (10 µs … 300 s) | `pass`, `target` | seconds |
//! | `photon_pass_failures_total` | counter | `pass`, `target` | count |
//!
//! The pass families are what `photon_metrics_mlir.hpp`'s MLIR
//! `PassInstrumentation` records for every pass run; Rust code running its
//! own passes uses [`start_pass`].
//!
//! Example PromQL:
//! - compilation rate per target: `sum by (target) (rate(photon_compilations_total[5m]))`
//! - error ratio: `sum(rate(photon_compilations_total{status!="success"}[5m])) / sum(rate(photon_compilations_total[5m]))`
//! - p95 duration: `histogram_quantile(0.95, sum by (le, target) (rate(photon_compilation_duration_seconds_bucket[5m])))`
//! - cache hit ratio: `sum(rate(photon_cache_hits_total[5m])) / (sum(rate(photon_cache_hits_total[5m])) + sum(rate(photon_cache_misses_total[5m])))`
//! - memory against its limit: `max(photon_memory_usage_bytes{memory="current"}) / scalar(photon_memory_limit_bytes)`
//! - slowest passes: `histogram_quantile(0.95, sum by (le, pass) (rate(photon_pass_duration_seconds_bucket[5m])))`
//!
//! ```
//! use photon_metrics::compiler;
//! use photon_metrics::labels::{ErrorKind, ModelType, Status, Target};
//!
//! let target = Target::new("mzi-64x64").unwrap();
//! let model = ModelType::new("resnet50").unwrap();
//! compiler::record_cache_miss(target);
//! let timer = compiler::start_compilation(target, model, 25_600_000);
//! // … compile …
//! timer.finish(Status::Success);
//! compiler::record_compilation_error(target, ErrorKind::new("UnsupportedOp").unwrap());
//! ```

use crate::catalog::declared;
use crate::engine::Engine;
use crate::guard::{GuardSpan, Outcome};
use crate::handle::{CounterHandle, GaugeHandle, HistogramHandle};
use crate::labels::{ErrorKind, MemoryStat, ModelSize, ModelType, Pass, Status, Target};
use crate::store::cell::{CounterCell, GaugeCell, HistogramCell};
use quanta::Instant;
use std::sync::atomic::AtomicBool;

/// Set once the application sets the memory limit itself
/// ([`set_memory_limit`], or the [`memory_limit`] handle): from then on the
/// process sampler's cgroup limit no longer overwrites the application's.
static LIMIT_SET_BY_APPLICATION: AtomicBool = AtomicBool::new(false);

/// Whether the application has set the memory limit itself.
pub(crate) fn limit_set_by_application() -> bool {
    LIMIT_SET_BY_APPLICATION.load(std::sync::atomic::Ordering::Relaxed)
}

static COMPILATIONS: &Engine<CounterCell, (Target, Status, ModelType)> = &declared::COMPILATIONS.0;
static DURATION: &Engine<HistogramCell, (Target, ModelSize)> = &declared::COMPILATION_DURATION.0;
static ERRORS: &Engine<CounterCell, (Target, ErrorKind)> = &declared::COMPILATION_ERRORS.0;
static CACHE_HITS: &Engine<CounterCell, (Target,)> = &declared::CACHE_HITS.0;
static CACHE_MISSES: &Engine<CounterCell, (Target,)> = &declared::CACHE_MISSES.0;
static MEMORY: &Engine<GaugeCell, (Target, MemoryStat)> = &declared::MEMORY_USAGE.0;
static MEMORY_LIMIT: &Engine<GaugeCell, ()> = &declared::MEMORY_LIMIT.0;
static PASS_DURATION: &Engine<HistogramCell, (Pass, Target)> = &declared::PASS_DURATION.0;
static PASS_FAILURES: &Engine<CounterCell, (Pass, Target)> = &declared::PASS_FAILURES.0;

/// Counts one finished compilation in `photon_compilations_total`.
#[inline]
pub fn record_compilation(target: Target, status: Status, model_type: ModelType) {
    COMPILATIONS.add((target, status, model_type), 1);
}

/// Observes one compilation's wall time in `photon_compilation_duration_seconds`.
/// `model_size` comes from the parameter count, see [`ModelSize::from_parameters`].
#[inline]
pub fn observe_compilation_duration(target: Target, parameters: u64, seconds: f64) {
    let size = ModelSize::from_parameters(parameters);
    DURATION.observe((target, size), seconds);
}

/// Counts one failed compilation in `photon_compilation_errors_total`.
#[inline]
pub fn record_compilation_error(target: Target, kind: ErrorKind) {
    ERRORS.add((target, kind), 1);
}

/// Counts a compilation-cache hit in `photon_cache_hits_total`.
#[inline]
pub fn record_cache_hit(target: Target) {
    CACHE_HITS.add((target,), 1);
}

/// Counts a compilation-cache miss in `photon_cache_misses_total`.
#[inline]
pub fn record_cache_miss(target: Target) {
    CACHE_MISSES.add((target,), 1);
}

/// Sets `photon_memory_usage_bytes{target, memory}`: [`MemoryStat::Current`]
/// for resident memory now, [`MemoryStat::Peak`] for the high-water mark of
/// the last compilation.
#[inline]
pub fn set_memory_usage(target: Target, stat: MemoryStat, bytes: u64) {
    MEMORY.set((target, stat), bytes as f64);
}

/// Sets `photon_memory_limit_bytes`, the memory the application allows the
/// compiler (its cgroup or configured limit); the HighMemoryUsage alert
/// fires when current usage exceeds 80 % of it.
///
/// The exporter fills it from the process's cgroup by itself (see
/// [`process`](crate::process)); once the application calls this, its value
/// wins over the sampled one.
#[inline]
pub fn set_memory_limit(bytes: u64) {
    LIMIT_SET_BY_APPLICATION.store(true, std::sync::atomic::Ordering::Relaxed);
    MEMORY_LIMIT.set((), bytes as f64);
}

/// The cgroup limit the exporter samples (does not mark it as the
/// application's).
pub(crate) fn record_sampled_memory_limit(bytes: u64) {
    MEMORY_LIMIT.set((), bytes as f64);
}

/// Observes one pass run's wall time in `photon_pass_duration_seconds`.
#[inline]
pub fn observe_pass_duration(pass: Pass, target: Target, seconds: f64) {
    PASS_DURATION.observe((pass, target), seconds);
}

/// Counts one failed pass run in `photon_pass_failures_total`.
#[inline]
pub fn record_pass_failure(pass: Pass, target: Target) {
    PASS_FAILURES.add((pass, target), 1);
}

/// A [handle](crate::handle) to `photon_compilations_total{target, status, model_type}`.
pub fn compilations(target: Target, status: Status, model_type: ModelType) -> CounterHandle {
    COMPILATIONS.handle((target, status, model_type))
}

/// A [handle](crate::handle) to `photon_compilation_duration_seconds{target, model_size}`,
/// `model_size` from the parameter count as in [`observe_compilation_duration`].
pub fn compilation_duration(target: Target, parameters: u64) -> HistogramHandle {
    DURATION.handle((target, ModelSize::from_parameters(parameters)))
}

/// A [handle](crate::handle) to `photon_compilation_errors_total{target, error_kind}`.
pub fn compilation_errors(target: Target, kind: ErrorKind) -> CounterHandle {
    ERRORS.handle((target, kind))
}

/// A [handle](crate::handle) to `photon_cache_hits_total{target}`.
pub fn cache_hits(target: Target) -> CounterHandle {
    CACHE_HITS.handle((target,))
}

/// A [handle](crate::handle) to `photon_cache_misses_total{target}`.
pub fn cache_misses(target: Target) -> CounterHandle {
    CACHE_MISSES.handle((target,))
}

/// A [handle](crate::handle) to `photon_memory_usage_bytes{target, memory}`.
pub fn memory_usage(target: Target, stat: MemoryStat) -> GaugeHandle {
    MEMORY.handle((target, stat))
}

/// A [handle](crate::handle) to `photon_memory_limit_bytes`. Taking it
/// makes the limit the application's, as [`set_memory_limit`] does: the
/// exporter stops filling it from the cgroup.
pub fn memory_limit() -> GaugeHandle {
    LIMIT_SET_BY_APPLICATION.store(true, std::sync::atomic::Ordering::Relaxed);
    MEMORY_LIMIT.handle(())
}

/// A [handle](crate::handle) to `photon_pass_duration_seconds{pass, target}`.
pub fn pass_duration(pass: Pass, target: Target) -> HistogramHandle {
    PASS_DURATION.handle((pass, target))
}

/// A [handle](crate::handle) to `photon_pass_failures_total{pass, target}`.
pub fn pass_failures(pass: Pass, target: Target) -> CounterHandle {
    PASS_FAILURES.handle((pass, target))
}

/// Starts timing one run of a compiler pass; see [`PassTimer`].
///
/// ```
/// use photon_metrics::compiler;
/// use photon_metrics::labels::{Pass, Target};
///
/// let timer = compiler::start_pass(Pass::new("lower-to-photonic")?, Target::new("mzi-64x64")?);
/// // … run the pass; on failure: timer.fail() …
/// drop(timer); // records the duration (and a failure, if marked or panicking)
/// # Ok::<(), photon_metrics::labels::LabelError>(())
/// ```
#[inline]
pub fn start_pass(pass: Pass, target: Target) -> PassTimer {
    PassTimer {
        pass,
        target,
        start: Instant::now(),
        failed: false,
    }
}

/// A drop guard for one pass run: on drop it observes the elapsed time in
/// `photon_pass_duration_seconds` and, if the run was marked failed (or the
/// thread is panicking), counts it in `photon_pass_failures_total`.
#[must_use = "the pass run is recorded when the timer is dropped"]
#[derive(Debug)]
pub struct PassTimer {
    pass: Pass,
    target: Target,
    start: Instant,
    failed: bool,
}

impl PassTimer {
    /// Marks the run failed (counted once, when the timer drops).
    pub fn fail(&mut self) {
        self.failed = true;
    }

    /// The time since the timer started, in seconds.
    pub fn elapsed_seconds(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }
}

impl Drop for PassTimer {
    fn drop(&mut self) {
        observe_pass_duration(self.pass, self.target, self.elapsed_seconds());
        if self.failed || std::thread::panicking() {
            record_pass_failure(self.pass, self.target);
        }
    }
}

/// Starts timing a compilation; see [`CompilationTimer`].
#[inline]
pub fn start_compilation(
    target: Target,
    model_type: ModelType,
    parameters: u64,
) -> CompilationTimer {
    CompilationTimer {
        target,
        model_type,
        parameters,
        start: Instant::now(),
        outcome: Outcome::new(),
        span: GuardSpan::default(),
    }
}

/// A drop guard for one compilation.
///
/// On drop it records `photon_compilations_total` with the outcome and
/// `photon_compilation_duration_seconds` with the elapsed time, on every path:
/// [`finish`](Self::finish) sets the status; dropped while the thread panics
/// it records [`Status::Panic`]; dropped otherwise without a status (a
/// cancelled future) it records [`Status::Cancelled`].
#[must_use = "the compilation is recorded when the timer is dropped"]
#[derive(Debug)]
pub struct CompilationTimer {
    target: Target,
    model_type: ModelType,
    parameters: u64,
    start: Instant,
    outcome: Outcome,
    span: GuardSpan,
}

impl CompilationTimer {
    /// Marks `span` as an error span (`error_kind` = `panic` or `cancelled`,
    /// `otel.status_code` = `ERROR`) if the compilation ends by a panic or
    /// by being dropped unfinished. `#[instrument_compile]` does this with
    /// its own span; the span should declare those three fields (as
    /// `tracing::field::Empty`) for them to be recorded.
    pub fn attach_span(&mut self, span: &tracing::Span) {
        self.span.attach(span);
    }

    /// Sets the status without ending the timer.
    pub fn set_status(&mut self, status: Status) {
        self.outcome.set(status);
    }

    /// Records a failure of `kind`: status `error` and one
    /// `photon_compilation_errors_total{error_kind}`.
    pub fn fail(&mut self, kind: ErrorKind) {
        self.outcome.set(Status::Error);
        record_compilation_error(self.target, kind);
    }

    /// Ends the timer with `status`.
    pub fn finish(mut self, status: Status) {
        self.outcome.set(status);
    }
}

impl Drop for CompilationTimer {
    fn drop(&mut self) {
        let status = self.outcome.resolve();
        self.span.unfinished(status);
        observe_compilation_duration(
            self.target,
            self.parameters,
            self.start.elapsed().as_secs_f64(),
        );
        record_compilation(self.target, status, self.model_type);
    }
}
