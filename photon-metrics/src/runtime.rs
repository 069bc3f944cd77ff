//! Inference runtime families: sessions, throughput, queue depth and errors.
//!
//! | family | kind | labels | unit |
//! |---|---|---|---|
//! | `photon_active_sessions` | gauge | — | count |
//! | `photon_throughput_ops_per_second` | gauge | — | ops/s (last call) |
//! | `photon_inference_ops_total` | counter | `device_type` | count |
//! | `photon_queue_depth` | gauge | — | count |
//! | `photon_runtime_errors_total` | counter | `error_kind` | count |
//!
//! The throughput gauge holds the most recent call's rate; for averages over a
//! window, `rate()` the ops counter:
//! `sum(rate(photon_inference_ops_total[5m]))`.
//!
//! Sessions and the queue are tracked with drop guards, so a panic or a
//! cancelled future can never leave the gauges off by one:
//!
//! ```
//! use photon_metrics::runtime;
//! use photon_metrics::labels::{DeviceType, ErrorKind};
//!
//! let queued = runtime::enqueue();          // photon_queue_depth += 1
//! let session = runtime::start_session();   // photon_active_sessions += 1
//! drop(queued);                              // dequeued: photon_queue_depth -= 1
//! runtime::record_ops(DeviceType::Mzi, 4096, 0.002);
//! runtime::record_runtime_error(ErrorKind::new("DeviceTimeout").unwrap());
//! drop(session);                             // photon_active_sessions -= 1
//! ```

use crate::catalog::declared;
use crate::engine::{Engine, HeldGauge};
use crate::handle::{CounterHandle, GaugeHandle, IntGaugeHandle};
use crate::labels::{DeviceType, ErrorKind};
use crate::store::cell::{CounterCell, GaugeCell};

static SESSIONS: &Engine<GaugeCell, ()> = &declared::ACTIVE_SESSIONS.0;
static THROUGHPUT: &Engine<GaugeCell, ()> = &declared::THROUGHPUT.0;
static OPS: &Engine<CounterCell, (DeviceType,)> = &declared::INFERENCE_OPS.0;
static QUEUE: &Engine<GaugeCell, ()> = &declared::QUEUE_DEPTH.0;
static ERRORS: &Engine<CounterCell, (ErrorKind,)> = &declared::RUNTIME_ERRORS.0;

/// A [handle](crate::handle) to `photon_active_sessions`, an integer gauge.
/// [`start_session`]'s guard cannot leak a count; the handle is for a
/// runtime that counts its sessions itself.
pub fn active_sessions() -> IntGaugeHandle {
    SESSIONS.int_handle(())
}

/// A [handle](crate::handle) to `photon_queue_depth`, an integer gauge.
pub fn queue_depth() -> IntGaugeHandle {
    QUEUE.int_handle(())
}

/// A [handle](crate::handle) to `photon_throughput_ops_per_second`.
pub fn throughput() -> GaugeHandle {
    THROUGHPUT.handle(())
}

/// A [handle](crate::handle) to `photon_inference_ops_total{device_type}`.
pub fn inference_ops(device_type: DeviceType) -> CounterHandle {
    OPS.handle((device_type,))
}

/// A [handle](crate::handle) to `photon_runtime_errors_total{error_kind}`.
pub fn runtime_errors(kind: ErrorKind) -> CounterHandle {
    ERRORS.handle((kind,))
}

/// Sets `photon_active_sessions` outright (for runtimes that track sessions
/// themselves); prefer [`start_session`], which cannot leak a count.
#[inline]
pub fn set_active_sessions(count: u64) {
    SESSIONS.set_count((), count);
}

/// Opens a session: `photon_active_sessions` goes up now and down when the
/// returned guard is dropped, on every path.
#[inline]
pub fn start_session() -> SessionGuard {
    SessionGuard {
        sessions: SESSIONS.add_held((), 1.0),
    }
}

/// Holds one active session; see [`start_session`].
///
/// The session is released on the recorder that counted it, even if the
/// exporter was installed in between.
#[must_use = "the session ends when the guard is dropped"]
#[derive(Debug)]
pub struct SessionGuard {
    sessions: HeldGauge,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.sessions.add(-1.0);
    }
}

/// Puts one request in the queue: `photon_queue_depth` goes up now and down
/// when the guard is dropped (dequeued, cancelled or panicked).
#[inline]
pub fn enqueue() -> QueueGuard {
    QueueGuard {
        queue: QUEUE.add_held((), 1.0),
    }
}

/// Holds one queued request; see [`enqueue`]. It leaves the queue on the
/// recorder that counted it, as [`SessionGuard`] does.
#[must_use = "the request leaves the queue when the guard is dropped"]
#[derive(Debug)]
pub struct QueueGuard {
    queue: HeldGauge,
}

impl Drop for QueueGuard {
    fn drop(&mut self) {
        self.queue.add(-1.0);
    }
}

/// Sets `photon_queue_depth` outright.
#[inline]
pub fn set_queue_depth(depth: u64) {
    QUEUE.set_count((), depth);
}

/// Counts `ops` operations executed in `seconds` on `device_type`: adds them
/// to `photon_inference_ops_total` and sets `photon_throughput_ops_per_second`
/// to this call's rate (left unchanged when `seconds` is not positive).
#[inline]
pub fn record_ops(device_type: DeviceType, ops: u64, seconds: f64) {
    OPS.add((device_type,), ops);
    if seconds > 0.0 {
        set_throughput(ops as f64 / seconds);
    }
}

/// Sets `photon_throughput_ops_per_second`.
#[inline]
pub fn set_throughput(ops_per_second: f64) {
    THROUGHPUT.set((), ops_per_second);
}

/// Counts one runtime error in `photon_runtime_errors_total{error_kind}`.
#[inline]
pub fn record_runtime_error(kind: ErrorKind) {
    ERRORS.add((kind,), 1);
}

/// Starts timing one inference call on `device_type` that executes `ops`
/// operations; see [`InferenceTimer`].
#[inline]
pub fn start_inference(device_type: DeviceType, ops: u64) -> InferenceTimer {
    InferenceTimer {
        session: SESSIONS.add_held((), 1.0),
        device_type,
        ops,
        start: quanta::Instant::now(),
        outcome: crate::guard::Outcome::new(),
        error: None,
        span: crate::guard::GuardSpan::default(),
    }
}

/// A drop guard for one inference call, shared by `#[instrument_inference]`.
///
/// While it lives, `photon_active_sessions` counts the call. On drop, on
/// every path:
/// - success: `photon_inference_latency_seconds{device_type}` gets the
///   elapsed time, `photon_inference_ops_total` the ops, and
///   `photon_throughput_ops_per_second` this call's rate;
/// - failure ([`fail`](Self::fail)): the latency is still observed and
///   `photon_runtime_errors_total{error_kind}` counts the error;
/// - panic: `photon_runtime_errors_total{error_kind="panic"}`;
/// - cancelled (dropped without an outcome): only the session is released,
///   since an unfinished call has no latency.
#[must_use = "the call is recorded when the timer is dropped"]
#[derive(Debug)]
pub struct InferenceTimer {
    /// Released where it was counted, as [`SessionGuard`] is.
    session: HeldGauge,
    device_type: DeviceType,
    ops: u64,
    start: quanta::Instant,
    outcome: crate::guard::Outcome,
    error: Option<ErrorKind>,
    span: crate::guard::GuardSpan,
}

impl InferenceTimer {
    /// Marks `span` as an error span (`error_kind` = `panic` or `cancelled`,
    /// `otel.status_code` = `ERROR`) if the call ends by a panic or by being
    /// dropped unfinished; see [`CompilationTimer::attach_span`](crate::compiler::CompilationTimer::attach_span).
    pub fn attach_span(&mut self, span: &tracing::Span) {
        self.span.attach(span);
    }

    /// Marks the call as successful.
    pub fn succeed(&mut self) {
        self.outcome.set(crate::labels::Status::Success);
    }

    /// Marks the call as failed with `kind`.
    pub fn fail(&mut self, kind: ErrorKind) {
        self.outcome.set(crate::labels::Status::Error);
        self.error = Some(kind);
    }

    /// Sets how many operations the call executed (when known only at the end).
    pub fn set_ops(&mut self, ops: u64) {
        self.ops = ops;
    }
}

impl Drop for InferenceTimer {
    fn drop(&mut self) {
        use crate::labels::Status;
        self.session.add(-1.0);
        let seconds = self.start.elapsed().as_secs_f64();
        let status = self.outcome.resolve();
        self.span.unfinished(status);
        match status {
            Status::Success => {
                crate::hardware::observe_inference_latency(self.device_type, seconds);
                record_ops(self.device_type, self.ops, seconds);
            }
            Status::Error => {
                crate::hardware::observe_inference_latency(self.device_type, seconds);
                record_runtime_error(self.error.unwrap_or(ErrorKind::OVERFLOW));
            }
            Status::Panic => record_runtime_error(panic_kind()),
            Status::Cancelled => {}
        }
    }
}

fn panic_kind() -> ErrorKind {
    static PANIC: std::sync::OnceLock<ErrorKind> = std::sync::OnceLock::new();
    *PANIC.get_or_init(|| ErrorKind::new("panic").unwrap_or(ErrorKind::OVERFLOW))
}
