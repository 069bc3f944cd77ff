//! Compile and inference timers as context managers: they classify how a
//! `with` block ends (normally, cancelled, or raising) and record it.

use crate::labels::{DeviceType, ErrorKind, ModelType, Target};
use photon_metrics::compiler::{self, CompilationTimer};
use photon_metrics::labels;
use photon_metrics::runtime::{self, InferenceTimer};
use pyo3::exceptions::{asyncio, PyGeneratorExit};
use pyo3::prelude::*;
use pyo3::types::PyType;
use std::sync::Mutex;

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
pub(crate) fn compile_timer(
    target: Target,
    model_type: ModelType,
    parameters: u64,
) -> CompileTimer {
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
pub(crate) fn inference_timer(device_type: DeviceType, ops: u64) -> InferenceTimerContext {
    InferenceTimerContext(Open::new(runtime::start_inference(device_type.into(), ops)))
}
