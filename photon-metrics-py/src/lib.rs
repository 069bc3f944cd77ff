//! # photon-metrics-py
//!
//! The photon-metrics catalog from Python, as the `photon_metrics` package
//! (built with maturin; `python/photon_metrics/__init__.py` adds the
//! `instrument_compile` decorator). The same families, typed labels, caps
//! and one `/metrics` per process as the Rust library, which records for it.
//!
//! Label values are interned once (`Target("mzi-64x64")`) into small
//! immutable objects; records take them, so a typo is a `LabelError` at the
//! place the value is made and nothing reaches `/metrics` unvalidated.

use photon_metrics::compiler::{self, CompilationTimer};
use photon_metrics::export::prometheus::{PrometheusExporter, PrometheusExporterBuilder};
use photon_metrics::labels;
use photon_metrics::runtime::{self, InferenceTimer};
use photon_metrics::{export::ExportError, hardware};
use pyo3::create_exception;
use pyo3::exceptions::{asyncio, PyException, PyGeneratorExit};
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

create_exception!(
    photon_metrics,
    PhotonError,
    PyException,
    "Base of every photon_metrics error."
);
create_exception!(
    photon_metrics,
    LabelError,
    PhotonError,
    "An invalid label value: empty, or longer than 128 bytes."
);
create_exception!(
    photon_metrics,
    ExporterError,
    PhotonError,
    "The exporter cannot be installed: bad address or label name, port in use, already installed."
);

fn label_error(e: labels::LabelError) -> PyErr {
    LabelError::new_err(e.to_string())
}

macro_rules! open_label {
    ($py:ident, $rust:ident, $doc:literal) => {
        #[doc = $doc]
        #[pyclass(frozen, eq, hash, from_py_object, module = "photon_metrics")]
        #[derive(Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $py(labels::$rust);

        #[pymethods]
        impl $py {
            /// Validates and interns `value`; raises LabelError. Past the
            /// label's cap the value is `__overflow__` (see is_overflow).
            #[new]
            fn new(value: &str) -> PyResult<Self> {
                labels::$rust::new(value).map($py).map_err(label_error)
            }

            /// Whether the label's cap folded this value into `__overflow__`.
            #[getter]
            fn is_overflow(&self) -> bool {
                self.0.is_overflow()
            }

            /// Retires the value: its series leave every family and its
            /// slot is freed for a new value. False when there was nothing
            /// to retire (already retired, or `__overflow__`). Copies kept
            /// afterwards record nothing (photon_metrics_stale_records_total).
            fn retire(&self) -> bool {
                self.0.retire()
            }

            /// Whether the value is still live (not retired).
            #[getter]
            fn is_live(&self) -> bool {
                self.0.is_live()
            }

            fn __str__(&self) -> String {
                self.0.as_str().to_string()
            }

            fn __repr__(&self) -> String {
                format!("{}({:?})", stringify!($py), self.0.as_str())
            }
        }
    };
}

open_label!(
    Target,
    Target,
    "A `target` value: the hardware backend compiled for."
);
open_label!(
    ModelType,
    ModelType,
    "A `model_type` value: the model architecture (never a model id)."
);
open_label!(
    ErrorKind,
    ErrorKind,
    "An `error_kind` value: a bounded error classification."
);
open_label!(DeviceId, DeviceId, "A `device_id` value.");
open_label!(Location, Location, "A `location` value.");
open_label!(Pass, Pass, "A `pass` value: a compiler pass's name.");

/// A compilation's outcome (`status` label).
#[pyclass(eq, eq_int, frozen, from_py_object, module = "photon_metrics")]
#[derive(Clone, Copy, PartialEq)]
pub enum Status {
    #[pyo3(name = "SUCCESS")]
    Success,
    #[pyo3(name = "ERROR")]
    Error,
    #[pyo3(name = "PANIC")]
    Panic,
    #[pyo3(name = "CANCELLED")]
    Cancelled,
}

impl From<Status> for labels::Status {
    fn from(s: Status) -> Self {
        match s {
            Status::Success => labels::Status::Success,
            Status::Error => labels::Status::Error,
            Status::Panic => labels::Status::Panic,
            Status::Cancelled => labels::Status::Cancelled,
        }
    }
}

/// The device technology (`device_type` label).
#[pyclass(eq, eq_int, frozen, from_py_object, module = "photon_metrics")]
#[derive(Clone, Copy, PartialEq)]
pub enum DeviceType {
    #[pyo3(name = "MZI")]
    Mzi,
    #[pyo3(name = "MICRORING")]
    Microring,
    #[pyo3(name = "PCM")]
    Pcm,
    #[pyo3(name = "HYBRID")]
    Hybrid,
    #[pyo3(name = "SIMULATOR")]
    Simulator,
}

impl From<DeviceType> for labels::DeviceType {
    fn from(d: DeviceType) -> Self {
        match d {
            DeviceType::Mzi => labels::DeviceType::Mzi,
            DeviceType::Microring => labels::DeviceType::Microring,
            DeviceType::Pcm => labels::DeviceType::Pcm,
            DeviceType::Hybrid => labels::DeviceType::Hybrid,
            DeviceType::Simulator => labels::DeviceType::Simulator,
        }
    }
}

/// Which memory figure (`memory` label).
#[pyclass(eq, eq_int, frozen, from_py_object, module = "photon_metrics")]
#[derive(Clone, Copy, PartialEq)]
pub enum MemoryStat {
    #[pyo3(name = "CURRENT")]
    Current,
    #[pyo3(name = "PEAK")]
    Peak,
}

impl From<MemoryStat> for labels::MemoryStat {
    fn from(m: MemoryStat) -> Self {
        match m {
            MemoryStat::Current => labels::MemoryStat::Current,
            MemoryStat::Peak => labels::MemoryStat::Peak,
        }
    }
}

/// An open label, for set_label_cap().
#[pyclass(eq, eq_int, frozen, from_py_object, module = "photon_metrics")]
#[derive(Clone, Copy, PartialEq)]
pub enum OpenLabel {
    #[pyo3(name = "TARGET")]
    Target,
    #[pyo3(name = "MODEL_TYPE")]
    ModelType,
    #[pyo3(name = "ERROR_KIND")]
    ErrorKind,
    #[pyo3(name = "DEVICE_ID")]
    DeviceId,
    #[pyo3(name = "LOCATION")]
    Location,
    #[pyo3(name = "PASS")]
    Pass,
}

/// Retires values of `label` that went `seconds` without a record (None:
/// never; default 24 h for MODEL_TYPE, never for the others), checked at
/// each scrape.
#[pyfunction]
#[pyo3(signature = (label, seconds))]
fn set_label_idle_expiry(label: OpenLabel, seconds: Option<f64>) -> PyResult<()> {
    let expiry = match seconds {
        None => None,
        Some(s) if s.is_finite() && s > 0.0 => Some(std::time::Duration::from_secs_f64(s)),
        Some(s) => {
            return Err(LabelError::new_err(format!(
                "idle expiry must be a positive number of seconds or None, not {s}"
            )))
        }
    };
    labels::set_idle_expiry(open_label(label), expiry);
    Ok(())
}

fn open_label(label: OpenLabel) -> labels::OpenLabel {
    match label {
        OpenLabel::Target => labels::OpenLabel::Target,
        OpenLabel::ModelType => labels::OpenLabel::ModelType,
        OpenLabel::ErrorKind => labels::OpenLabel::ErrorKind,
        OpenLabel::DeviceId => labels::OpenLabel::DeviceId,
        OpenLabel::Location => labels::OpenLabel::Location,
        OpenLabel::Pass => labels::OpenLabel::Pass,
    }
}

/// Sets how many distinct values `label` keeps before new ones become
/// `__overflow__` (1..=4096). At start-up, before the label's first value;
/// raises LabelError once the cap is frozen or out of range.
#[pyfunction]
fn set_label_cap(label: OpenLabel, cap: usize) -> PyResult<()> {
    labels::set_cap(open_label(label), cap).map_err(label_error)
}

static EXPORTER: OnceLock<PrometheusExporter> = OnceLock::new();

/// Installs photon's Prometheus exporter for this process and serves
/// `/metrics` on `listen` (`"host:port"`, port 0 for any free port; None for
/// no listener, use render()). Returns the bound port, or None. Raises
/// ExporterError (port in use, bad address or label name, second install).
/// Other Python threads keep running meanwhile (resolving a host name can
/// take seconds).
#[pyfunction]
#[pyo3(signature = (listen = Some("0.0.0.0:8080"), global_labels = None, process_metrics = true))]
fn install_exporter(
    py: Python<'_>,
    listen: Option<&str>,
    global_labels: Option<HashMap<String, String>>,
    process_metrics: bool,
) -> PyResult<Option<u16>> {
    let mut pairs: Vec<_> = global_labels.unwrap_or_default().into_iter().collect();
    pairs.sort();
    // Without the GIL: address resolution (getaddrinfo), the bind and the
    // listener's start touch no Python object.
    py.detach(|| {
        let mut builder = PrometheusExporterBuilder::new().process_metrics(process_metrics);
        builder = match listen {
            Some(addr) => builder.listen_on(addr)?,
            None => builder.without_listener(),
        };
        for (name, value) in pairs {
            builder = builder.global_label(name, value);
        }
        if EXPORTER.get().is_some() {
            return Err(ExportError::AlreadyInstalled);
        }
        let exporter = builder.install()?;
        let port = exporter.local_addr().map(|a| a.port());
        let _ = EXPORTER.set(exporter);
        Ok(port)
    })
    .map_err(|e| ExporterError::new_err(e.to_string()))
}

/// The exposition in the Prometheus text format (or OpenMetrics with
/// `openmetrics=True`), for serving from your own server. Other Python
/// threads keep running while it renders.
#[pyfunction]
#[pyo3(signature = (openmetrics = false))]
fn render(py: Python<'_>, openmetrics: bool) -> PyResult<String> {
    let exporter = EXPORTER.get().ok_or_else(|| {
        ExporterError::new_err("no exporter is installed: call install_exporter() first")
    })?;
    let format = if openmetrics {
        photon_metrics::export::encode::Format::OpenMetrics
    } else {
        photon_metrics::export::encode::Format::Text
    };
    // Rendering reads atomics only; a large exposition takes milliseconds
    // that the application's other threads should not wait out.
    Ok(py.detach(|| exporter.render_as(format)))
}

// Record helpers: one per family, as in the Rust modules compiler, hardware, runtime.

/// `photon_compilations_total{target, status, model_type}` += 1.
#[pyfunction]
fn record_compilation(target: Target, status: Status, model_type: ModelType) {
    compiler::record_compilation(target.0, status.into(), model_type.0);
}

/// Observes `seconds` in `photon_compilation_duration_seconds{target, model_size}`.
#[pyfunction]
fn observe_compilation_duration(target: Target, parameters: u64, seconds: f64) {
    compiler::observe_compilation_duration(target.0, parameters, seconds);
}

/// `photon_compilation_errors_total{target, error_kind}` += 1.
#[pyfunction]
fn record_compilation_error(target: Target, kind: ErrorKind) {
    compiler::record_compilation_error(target.0, kind.0);
}

/// `photon_cache_hits_total{target}` += 1.
#[pyfunction]
fn record_cache_hit(target: Target) {
    compiler::record_cache_hit(target.0);
}

/// `photon_pass_duration_seconds{pass, target}`: one run of a compiler pass.
#[pyfunction]
fn observe_pass_duration(pass_: Pass, target: Target, seconds: f64) {
    compiler::observe_pass_duration(pass_.0, target.0, seconds);
}

/// `photon_pass_failures_total{pass, target}` += 1.
#[pyfunction]
fn record_pass_failure(pass_: Pass, target: Target) {
    compiler::record_pass_failure(pass_.0, target.0);
}

/// `photon_cache_misses_total{target}` += 1.
#[pyfunction]
fn record_cache_miss(target: Target) {
    compiler::record_cache_miss(target.0);
}

/// Sets `photon_memory_usage_bytes{target, memory}`.
#[pyfunction]
fn set_memory_usage(target: Target, stat: MemoryStat, bytes: u64) {
    compiler::set_memory_usage(target.0, stat.into(), bytes);
}

/// Sets `photon_memory_limit_bytes` (wins over the sampled cgroup limit).
#[pyfunction]
fn set_memory_limit(bytes: u64) {
    compiler::set_memory_limit(bytes);
}

/// Sets `photon_device_status{device_id, device_type}` to 1 (up) or 0.
#[pyfunction]
fn set_device_status(device: DeviceId, device_type: DeviceType, up: bool) {
    hardware::set_device_status(device.0, device_type.into(), up);
}

/// Sets `photon_optical_power_mw{device_id}`.
#[pyfunction]
fn set_optical_power_mw(device: DeviceId, milliwatts: f64) {
    hardware::set_optical_power_mw(device.0, milliwatts);
}

/// Sets `photon_device_temperature_celsius{device_id}`.
#[pyfunction]
fn set_temperature_celsius(device: DeviceId, celsius: f64) {
    hardware::set_temperature_celsius(device.0, celsius);
}

/// Sets `photon_calibration_drift{device_id}`.
#[pyfunction]
fn set_calibration_drift(device: DeviceId, drift: f64) {
    hardware::set_calibration_drift(device.0, drift);
}

/// Observes `seconds` in `photon_inference_latency_seconds{device_type}`.
#[pyfunction]
fn observe_inference_latency(device_type: DeviceType, seconds: f64) {
    hardware::observe_inference_latency(device_type.into(), seconds);
}

/// Sets `photon_active_devices{device_type, location}`.
#[pyfunction]
fn set_active_devices(device_type: DeviceType, location: Location, count: u64) {
    hardware::set_active_devices(device_type.into(), location.0, count);
}

/// Sets `photon_active_sessions`.
#[pyfunction]
fn set_active_sessions(count: u64) {
    runtime::set_active_sessions(count);
}

/// Sets `photon_queue_depth`.
#[pyfunction]
fn set_queue_depth(depth: u64) {
    runtime::set_queue_depth(depth);
}

/// `photon_inference_ops_total{device_type}` += ops; throughput = ops / seconds.
#[pyfunction]
fn record_ops(device_type: DeviceType, ops: u64, seconds: f64) {
    runtime::record_ops(device_type.into(), ops, seconds);
}

/// Sets `photon_throughput_ops_per_second`.
#[pyfunction]
fn set_throughput(ops_per_second: f64) {
    runtime::set_throughput(ops_per_second);
}

/// `photon_runtime_errors_total{error_kind}` += 1.
#[pyfunction]
fn record_runtime_error(kind: ErrorKind) {
    runtime::record_runtime_error(kind.0);
}

/// How a `with` block is ending.
enum Leaving {
    /// Normally.
    Normally,
    /// The work was abandoned: `asyncio.CancelledError` (a task cancelled or
    /// timed out) or `GeneratorExit` (a generator closed before its end).
    /// Status `cancelled`, no error kind, as a dropped Rust future records.
    Cancelled,
    /// By another exception, classified by its class's name, as the Rust
    /// macros use an error enum's variant name (bounded by the error_kind cap).
    Raising(labels::ErrorKind),
}

fn leaving(exc_type: Option<Bound<'_, PyAny>>) -> Leaving {
    let Some(exc_type) = exc_type.filter(|t| !t.is_none()) else {
        return Leaving::Normally;
    };
    let Ok(class) = exc_type.cast::<PyType>() else {
        return Leaving::Raising(
            labels::ErrorKind::new("exception").unwrap_or(labels::ErrorKind::OVERFLOW),
        );
    };
    let abandoned = |cancelled: PyResult<bool>| cancelled.unwrap_or(false);
    if abandoned(class.is_subclass_of::<asyncio::CancelledError>())
        || abandoned(class.is_subclass_of::<PyGeneratorExit>())
    {
        return Leaving::Cancelled;
    }
    let name = class
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "exception".into());
    Leaving::Raising(labels::ErrorKind::new(&name).unwrap_or(labels::ErrorKind::OVERFLOW))
}

/// A timer between `__enter__` and `__exit__`, and whether fail() ran: one
/// lock for both, `None` once the block has ended.
struct Open<T>(Mutex<Option<(T, bool)>>);

impl<T> Open<T> {
    fn new(timer: T) -> Self {
        Open(Mutex::new(Some((timer, false))))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(T, bool)>> {
        // A poisoned lock only means a panic elsewhere; the timer is intact.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the timer if the block has not ended.
    fn with(&self, f: impl FnOnce(&mut T, &mut bool)) {
        if let Some((timer, failed)) = self.lock().as_mut() {
            f(timer, failed);
        }
    }

    /// Ends the block: the timer and whether fail() ran, once.
    fn close(&self) -> Option<(T, bool)> {
        self.lock().take()
    }
}

/// Times one compilation (use `with compile_timer(...)`): a normal exit
/// records status `success` (or `error` after fail()), an exception leaving
/// the block records `error` with error_kind = the exception's class name,
/// and `asyncio.CancelledError` or `GeneratorExit` records `cancelled`.
/// The exception is never swallowed.
#[pyclass(module = "photon_metrics")]
pub struct CompileTimer(Open<CompilationTimer>);

#[pymethods]
impl CompileTimer {
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (exc_type = None, _exc = None, _tb = None))]
    fn __exit__(
        &self,
        exc_type: Option<Bound<'_, PyAny>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> bool {
        let Some((mut timer, failed)) = self.0.close() else {
            return false;
        };
        match leaving(exc_type) {
            Leaving::Raising(kind) => {
                if !failed {
                    timer.fail(kind);
                }
                timer.finish(labels::Status::Error);
            }
            Leaving::Cancelled => timer.finish(labels::Status::Cancelled),
            Leaving::Normally if failed => timer.finish(labels::Status::Error),
            Leaving::Normally => timer.finish(labels::Status::Success),
        }
        false
    }

    /// Records a classified failure of `kind`; the block's end records `error`.
    fn fail(&self, kind: ErrorKind) {
        self.0.with(|timer, failed| {
            timer.fail(kind.0);
            *failed = true;
        });
    }
}

/// A timer for one compilation of a `model_type` model with `parameters`
/// parameters for `target`: `with compile_timer(t, m, 25_600_000): ...`.
#[pyfunction]
#[pyo3(signature = (target, model_type, parameters = 0))]
fn compile_timer(target: Target, model_type: ModelType, parameters: u64) -> CompileTimer {
    CompileTimer(Open::new(compiler::start_compilation(
        target.0,
        model_type.0,
        parameters,
    )))
}

/// Times one inference call (use `with inference_timer(...)`): a normal
/// exit records latency, ops and throughput; an exception (error_kind = its
/// class name) or fail() records the latency and a runtime error, no ops.
#[pyclass(module = "photon_metrics")]
pub struct InferenceTimerContext(Open<InferenceTimer>);

#[pymethods]
impl InferenceTimerContext {
    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (exc_type = None, _exc = None, _tb = None))]
    fn __exit__(
        &self,
        exc_type: Option<Bound<'_, PyAny>>,
        _exc: Option<Bound<'_, PyAny>>,
        _tb: Option<Bound<'_, PyAny>>,
    ) -> bool {
        let Some((mut timer, failed)) = self.0.close() else {
            return false;
        };
        match leaving(exc_type) {
            Leaving::Raising(kind) if !failed => timer.fail(kind),
            Leaving::Normally if !failed => timer.succeed(),
            // After fail() the failure stands. A cancelled call neither
            // succeeded nor failed: dropped so, the timer records
            // `cancelled` (no latency, no error) as a dropped Rust call does.
            Leaving::Raising(_) | Leaving::Normally | Leaving::Cancelled => {}
        }
        false
    }

    /// Sets how many operations the call executed.
    fn set_ops(&self, ops: u64) {
        self.0.with(|timer, _| timer.set_ops(ops));
    }

    /// Records a classified failure of `kind`.
    fn fail(&self, kind: ErrorKind) {
        self.0.with(|timer, failed| {
            timer.fail(kind.0);
            *failed = true;
        });
    }
}

/// A timer for one inference call on `device_type` executing `ops` operations.
#[pyfunction]
#[pyo3(signature = (device_type, ops = 0))]
fn inference_timer(device_type: DeviceType, ops: u64) -> InferenceTimerContext {
    InferenceTimerContext(Open::new(runtime::start_inference(device_type.into(), ops)))
}

/// The `photon_metrics._native` module.
/// A label value's name and raw value, for `Family`'s records.
fn raw_label(value: &Bound<'_, PyAny>) -> PyResult<(&'static str, u32)> {
    macro_rules! open {
        ($($ty:ident => $name:literal),*) => {$(
            if let Ok(v) = value.extract::<$ty>() {
                return Ok(($name, v.0.to_raw()));
            }
        )*};
    }
    open!(Target => "target", ModelType => "model_type", ErrorKind => "error_kind",
          DeviceId => "device_id", Location => "location", Pass => "pass");
    use labels::ClosedLabel;
    if let Ok(v) = value.extract::<Status>() {
        return Ok(("status", labels::Status::from(v).slot() as u32));
    }
    if let Ok(v) = value.extract::<DeviceType>() {
        return Ok(("device_type", labels::DeviceType::from(v).slot() as u32));
    }
    if let Ok(v) = value.extract::<MemoryStat>() {
        return Ok(("memory", labels::MemoryStat::from(v).slot() as u32));
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "{} is not a label value (Target, Status, …)",
        value
            .repr()
            .map_or_else(|_| "?".to_string(), |r| r.to_string())
    )))
}

/// Any family by name: the catalog's (a family added to it is here without
/// a function of its own) or one the Rust side of the process declared.
/// Records take the family's label values as a tuple, in its label order,
/// each of its label's type; `Family("photon_pass_duration_seconds")
/// .observe((Pass("cse"), Target("mzi-64x64")), 0.002)`.
#[pyclass(frozen, module = "photon_metrics")]
pub struct Family(photon_metrics::families::Dynamic);

impl Family {
    fn raw(&self, values: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<Vec<u32>> {
        let spec = self.0.spec();
        if values.len() != spec.labels.len() {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "{} takes {} label values ({}), not {}",
                spec.name,
                spec.labels.len(),
                spec.labels
                    .iter()
                    .map(|l| l.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                values.len()
            )));
        }
        let mut raw = Vec::with_capacity(values.len());
        for (i, (value, label)) in values.iter().zip(spec.labels).enumerate() {
            let (name, r) = raw_label(&value)?;
            if name != label.as_str() {
                return Err(pyo3::exceptions::PyTypeError::new_err(format!(
                    "{}'s label {} is {}, not {name}",
                    spec.name,
                    i + 1,
                    label.as_str()
                )));
            }
            raw.push(r);
        }
        Ok(raw)
    }
}

fn refused(e: photon_metrics::families::DynamicError) -> PyErr {
    PhotonError::new_err(e.to_string())
}

#[pymethods]
impl Family {
    /// The family called `name`; raises KeyError when there is none.
    #[new]
    fn new(name: &str) -> PyResult<Self> {
        photon_metrics::families::Dynamic::lookup(name)
            .map(Family)
            .ok_or_else(|| {
                pyo3::exceptions::PyKeyError::new_err(format!("no family is called `{name}`"))
            })
    }

    /// Every family's name: the catalog's, then the registered ones.
    #[staticmethod]
    fn names() -> Vec<&'static str> {
        photon_metrics::families::Dynamic::all()
            .iter()
            .map(|f| f.spec().name)
            .collect()
    }

    /// The exported name.
    #[getter]
    fn name(&self) -> &'static str {
        self.0.spec().name
    }

    /// "counter", "gauge" or "histogram".
    #[getter]
    fn kind(&self) -> &'static str {
        self.0.spec().kind.as_str()
    }

    /// The label names, in order.
    #[getter]
    fn labels(&self) -> Vec<&'static str> {
        self.0.spec().labels.iter().map(|l| l.as_str()).collect()
    }

    /// The `# HELP` text.
    #[getter]
    fn help(&self) -> &'static str {
        self.0.spec().help
    }

    /// Adds `n` to a counter's series at `labels`.
    #[pyo3(signature = (labels, n = 1))]
    fn inc(&self, labels: &Bound<'_, pyo3::types::PyTuple>, n: u64) -> PyResult<()> {
        self.0.add(&self.raw(labels)?, n).map_err(refused)
    }

    /// Sets a gauge's series at `labels` to `value`.
    fn set(&self, labels: &Bound<'_, pyo3::types::PyTuple>, value: f64) -> PyResult<()> {
        self.0.set(&self.raw(labels)?, value).map_err(refused)
    }

    /// Adds `delta` (negative to subtract) to a gauge's series at `labels`.
    fn add(&self, labels: &Bound<'_, pyo3::types::PyTuple>, delta: f64) -> PyResult<()> {
        self.0
            .add_to_gauge(&self.raw(labels)?, delta)
            .map_err(refused)
    }

    /// Observes `value` in a histogram's series at `labels`.
    fn observe(&self, labels: &Bound<'_, pyo3::types::PyTuple>, value: f64) -> PyResult<()> {
        self.0.observe(&self.raw(labels)?, value).map_err(refused)
    }

    fn __repr__(&self) -> String {
        format!("Family('{}')", self.0.spec().name)
    }
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PhotonError", py.get_type::<PhotonError>())?;
    m.add("LabelError", py.get_type::<LabelError>())?;
    m.add("ExporterError", py.get_type::<ExporterError>())?;
    m.add_class::<Target>()?;
    m.add_class::<ModelType>()?;
    m.add_class::<ErrorKind>()?;
    m.add_class::<DeviceId>()?;
    m.add_class::<Location>()?;
    m.add_class::<Pass>()?;
    m.add_class::<Status>()?;
    m.add_class::<DeviceType>()?;
    m.add_class::<MemoryStat>()?;
    m.add_class::<OpenLabel>()?;
    m.add_class::<Family>()?;
    m.add_function(wrap_pyfunction!(set_label_cap, m)?)?;
    m.add_function(wrap_pyfunction!(set_label_idle_expiry, m)?)?;
    m.add_class::<CompileTimer>()?;
    m.add_class::<InferenceTimerContext>()?;
    m.add_function(wrap_pyfunction!(install_exporter, m)?)?;
    m.add_function(wrap_pyfunction!(render, m)?)?;
    m.add_function(wrap_pyfunction!(compile_timer, m)?)?;
    m.add_function(wrap_pyfunction!(inference_timer, m)?)?;
    m.add_function(wrap_pyfunction!(record_compilation, m)?)?;
    m.add_function(wrap_pyfunction!(observe_compilation_duration, m)?)?;
    m.add_function(wrap_pyfunction!(record_compilation_error, m)?)?;
    m.add_function(wrap_pyfunction!(observe_pass_duration, m)?)?;
    m.add_function(wrap_pyfunction!(record_pass_failure, m)?)?;
    m.add_function(wrap_pyfunction!(record_cache_hit, m)?)?;
    m.add_function(wrap_pyfunction!(record_cache_miss, m)?)?;
    m.add_function(wrap_pyfunction!(set_memory_usage, m)?)?;
    m.add_function(wrap_pyfunction!(set_memory_limit, m)?)?;
    m.add_function(wrap_pyfunction!(set_device_status, m)?)?;
    m.add_function(wrap_pyfunction!(set_optical_power_mw, m)?)?;
    m.add_function(wrap_pyfunction!(set_temperature_celsius, m)?)?;
    m.add_function(wrap_pyfunction!(set_calibration_drift, m)?)?;
    m.add_function(wrap_pyfunction!(observe_inference_latency, m)?)?;
    m.add_function(wrap_pyfunction!(set_active_devices, m)?)?;
    m.add_function(wrap_pyfunction!(set_active_sessions, m)?)?;
    m.add_function(wrap_pyfunction!(set_queue_depth, m)?)?;
    m.add_function(wrap_pyfunction!(record_ops, m)?)?;
    m.add_function(wrap_pyfunction!(set_throughput, m)?)?;
    m.add_function(wrap_pyfunction!(record_runtime_error, m)?)?;
    Ok(())
}
