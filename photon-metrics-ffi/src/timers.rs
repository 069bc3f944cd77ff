//! Compile and inference timers: start returns an owned timer, finish
//! records and frees it. Each timer carries a tracing span (`photon.compile`
//! / `photon.inference`, named by the caller through `otel.name`), exported
//! to Jaeger when traces are on (`photon_traces_init`).
//!
//! A span only lends its trace to the exemplars of records made while it is
//! *entered* on the recording thread. The timer's own records (at fail and
//! finish) are made inside it; C code brackets its own records with
//! `photon_*_enter` / `photon_*_exit` (the C++ timers do that for their
//! scope). Entering is not done at start for C: a C timer may be finished on
//! another thread, and an entered span must be exited where it was entered.

use crate::error::{c_text, guard, put, Failure, PhotonCode, PHOTON_ERR_NULL_ARGUMENT};
use crate::labels::{
    self, PhotonDeviceType, PhotonErrorKind, PhotonModelType, PhotonStatus, PhotonTarget,
};
use photon_metrics::compiler::{self, CompilationTimer};
use photon_metrics::labels::{ErrorKind, Status};
use photon_metrics::runtime::{self, InferenceTimer};
use std::ffi::c_char;
use tracing::field::Empty;

/// One compilation being timed (opaque). Create with
/// [`photon_compile_start`], end with [`photon_compile_finish`].
pub struct PhotonCompileTimer {
    timer: CompilationTimer,
    span: Scope,
}

/// One inference call being timed (opaque). Create with
/// [`photon_inference_start`], end with [`photon_inference_finish`].
pub struct PhotonInferenceTimer {
    timer: InferenceTimer,
    span: Scope,
    failed: bool,
}

/// A timer's span and whether C code has entered it (`Span::enter`'s guard
/// borrows the span, so it cannot live in a struct handed to C).
struct Scope {
    span: tracing::Span,
    entered: bool,
}

impl Scope {
    fn new(span: tracing::Span) -> Self {
        Scope {
            span,
            entered: false,
        }
    }

    /// Enters the span on this thread, once (a second enter is a no-op).
    fn enter(&mut self) {
        if !self.entered {
            self.span
                .with_subscriber(|(id, dispatch)| dispatch.enter(id));
            self.entered = true;
        }
    }

    /// Exits what [`enter`](Self::enter) entered (a no-op if nothing is).
    fn exit(&mut self) {
        if self.entered {
            self.span
                .with_subscriber(|(id, dispatch)| dispatch.exit(id));
            self.entered = false;
        }
    }

    /// Runs `f` with the span entered: the exemplars of its records link here.
    fn in_scope<T>(&self, f: impl FnOnce() -> T) -> T {
        self.span.in_scope(f)
    }
}

impl Drop for Scope {
    fn drop(&mut self) {
        // Finished while still entered: leave the thread's span stack as it was.
        self.exit();
    }
}

/// The timer behind a pointer from C; NULL is an error.
///
/// # Safety
/// `timer` is NULL or a timer from its start call, not yet finished, and no
/// other call uses it while the returned reference lives.
unsafe fn timer_ref<'a, T>(timer: *mut T) -> Result<&'a mut T, Failure> {
    // SAFETY: the caller promises NULL (`as_mut` gives `None`) or a live
    // timer box, not used elsewhere while this `&mut` lives.
    unsafe { timer.as_mut() }
        .ok_or_else(|| Failure::new(PHOTON_ERR_NULL_ARGUMENT, "the timer is NULL"))
}

fn mark_failed(span: &tracing::Span, kind: ErrorKind, description: &str) {
    photon_metrics::__private::mark_span_error(span, kind, description);
}

/// Starts timing a compilation of a `model_type` model with `parameters`
/// parameters for `target`, and opens its span (`name`, NUL-terminated, as
/// the span's name; NULL for `compile`). The timer goes to `*out`.
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn photon_compile_start(
    name: *const c_char,
    target: PhotonTarget,
    model_type: PhotonModelType,
    parameters: u64,
    out: *mut *mut PhotonCompileTimer,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises `name` is NULL or NUL-terminated, what
        // `c_text` asks; the span copies the text.
        let name = unsafe { c_text(name, "the span name") }?.unwrap_or("compile");
        let (target, model_type) = (target.get()?, model_type.get()?);
        if out.is_null() {
            return Err(Failure::new(PHOTON_ERR_NULL_ARGUMENT, "out is NULL"));
        }
        let span = tracing::info_span!(
            target: "photon_metrics_ffi",
            "photon.compile",
            otel.name = name,
            target = %target,
            model_type = %model_type,
            parameters,
            error_kind = Empty,
            otel.status_code = Empty,
            otel.status_description = Empty,
        );
        let mut timer = compiler::start_compilation(target, model_type, parameters);
        timer.attach_span(&span);
        let boxed = Box::new(PhotonCompileTimer {
            timer,
            span: Scope::new(span),
        });
        // SAFETY: `out` is not NULL (checked above) and the caller promises
        // it is writable. From here C owns the timer, until its finish call
        // frees it.
        unsafe { put(out, Box::into_raw(boxed), "out") }
    })
}

/// Marks the compilation failed with `kind` (status `error`, one
/// `photon_compilation_errors_total{error_kind}`, the span an error span).
/// The timer stays open: finish it as usual.
///
/// # Safety
/// `timer` comes from [`photon_compile_start`], is not finished, and no
/// other call uses it at the same time.
#[no_mangle]
pub unsafe extern "C" fn photon_compile_fail(
    timer: *mut PhotonCompileTimer,
    kind: PhotonErrorKind,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises a timer from its start call, not yet
        // finished, that no other call uses meanwhile (NULL is refused).
        let timer = unsafe { timer_ref(timer) }?;
        let kind = kind.get()?;
        timer.span.in_scope(|| timer.timer.fail(kind));
        mark_failed(&timer.span.span, kind, &kind.as_str());
        Ok(())
    })
}

/// Makes the compilation's span current on this thread, so that what this
/// thread records until [`photon_compile_exit`] carries its trace as an
/// exemplar (the timer's own records at fail and finish always do). Call
/// exit on the same thread, before other spans entered after it are exited;
/// finishing an entered timer exits it (on the thread that entered it).
/// A second enter without an exit does nothing.
///
/// # Safety
/// `timer` comes from [`photon_compile_start`], is not finished, and no
/// other call uses it at the same time.
#[no_mangle]
pub unsafe extern "C" fn photon_compile_enter(timer: *mut PhotonCompileTimer) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises a timer from its start call, not yet
        // finished, that no other call uses meanwhile (NULL is refused).
        unsafe { timer_ref(timer) }?.span.enter();
        Ok(())
    })
}

/// Undoes [`photon_compile_enter`] (a no-op when not entered).
///
/// # Safety
/// `timer` comes from [`photon_compile_start`], is not finished, and no
/// other call uses it at the same time.
#[no_mangle]
pub unsafe extern "C" fn photon_compile_exit(timer: *mut PhotonCompileTimer) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises a timer from its start call, not yet
        // finished, that no other call uses meanwhile (NULL is refused).
        unsafe { timer_ref(timer) }?.span.exit();
        Ok(())
    })
}

/// Ends the compilation with `status` (a `PHOTON_STATUS_*`; after
/// [`photon_compile_fail`] pass `PHOTON_STATUS_ERROR`), records its count
/// and duration, closes its span and frees the timer. On
/// `PHOTON_ERR_INVALID_ENUM` nothing is recorded and the timer stays
/// alive; on every other return it is gone.
///
/// # Safety
/// `timer` comes from [`photon_compile_start`], is not finished, and no
/// other call uses it at the same time.
#[no_mangle]
pub unsafe extern "C" fn photon_compile_finish(
    timer: *mut PhotonCompileTimer,
    status: PhotonStatus,
) -> PhotonCode {
    guard(|| {
        if timer.is_null() {
            return Err(Failure::new(PHOTON_ERR_NULL_ARGUMENT, "the timer is NULL"));
        }
        let status = labels::status(status)?;
        // SAFETY: not NULL (checked above); the caller promises a timer from
        // `photon_compile_start` (so from its `Box::into_raw`) not yet
        // finished, so this is the one `Box::from_raw` of that box. An
        // invalid status returned above, leaving the timer to C.
        let PhotonCompileTimer { timer, span } = *unsafe { Box::from_raw(timer) };
        if matches!(status, Status::Error | Status::Panic) {
            span.span.record("otel.status_code", "ERROR");
        }
        span.in_scope(|| timer.finish(status));
        drop(span);
        Ok(())
    })
}

/// Starts timing an inference call on `device_type` executing `ops`
/// operations (`photon_active_sessions` counts it while it runs) and opens
/// its span (`name` as in [`photon_compile_start`]; NULL for `inference`).
///
/// # Safety
/// `name` is NULL or a NUL-terminated string; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn photon_inference_start(
    name: *const c_char,
    device_type: PhotonDeviceType,
    ops: u64,
    out: *mut *mut PhotonInferenceTimer,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises `name` is NULL or NUL-terminated, what
        // `c_text` asks; the span copies the text.
        let name = unsafe { c_text(name, "the span name") }?.unwrap_or("inference");
        let device_type = labels::device_type(device_type)?;
        if out.is_null() {
            return Err(Failure::new(PHOTON_ERR_NULL_ARGUMENT, "out is NULL"));
        }
        let span = tracing::info_span!(
            target: "photon_metrics_ffi",
            "photon.inference",
            otel.name = name,
            device_type = %device_type,
            ops,
            error_kind = Empty,
            otel.status_code = Empty,
            otel.status_description = Empty,
        );
        let mut timer = runtime::start_inference(device_type, ops);
        timer.attach_span(&span);
        let boxed = Box::new(PhotonInferenceTimer {
            timer,
            span: Scope::new(span),
            failed: false,
        });
        // SAFETY: `out` is not NULL (checked above) and the caller promises
        // it is writable. From here C owns the timer, until its finish call
        // frees it.
        unsafe { put(out, Box::into_raw(boxed), "out") }
    })
}

/// Sets how many operations the call executed, when known only at the end.
///
/// # Safety
/// `timer` comes from [`photon_inference_start`], is not finished, and no
/// other call uses it at the same time.
#[no_mangle]
pub unsafe extern "C" fn photon_inference_set_ops(
    timer: *mut PhotonInferenceTimer,
    ops: u64,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises a timer from its start call, not yet
        // finished, that no other call uses meanwhile (NULL is refused).
        unsafe { timer_ref(timer) }?.timer.set_ops(ops);
        Ok(())
    })
}

/// Makes the call's span current on this thread until
/// [`photon_inference_exit`], as [`photon_compile_enter`] does.
///
/// # Safety
/// `timer` comes from [`photon_inference_start`], is not finished, and no
/// other call uses it at the same time.
#[no_mangle]
pub unsafe extern "C" fn photon_inference_enter(timer: *mut PhotonInferenceTimer) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises a timer from its start call, not yet
        // finished, that no other call uses meanwhile (NULL is refused).
        unsafe { timer_ref(timer) }?.span.enter();
        Ok(())
    })
}

/// Undoes [`photon_inference_enter`] (a no-op when not entered).
///
/// # Safety
/// `timer` comes from [`photon_inference_start`], is not finished, and no
/// other call uses it at the same time.
#[no_mangle]
pub unsafe extern "C" fn photon_inference_exit(timer: *mut PhotonInferenceTimer) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises a timer from its start call, not yet
        // finished, that no other call uses meanwhile (NULL is refused).
        unsafe { timer_ref(timer) }?.span.exit();
        Ok(())
    })
}

/// Marks the call failed with `kind`; finish it as usual.
///
/// # Safety
/// `timer` comes from [`photon_inference_start`], is not finished, and no
/// other call uses it at the same time.
#[no_mangle]
pub unsafe extern "C" fn photon_inference_fail(
    timer: *mut PhotonInferenceTimer,
    kind: PhotonErrorKind,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises a timer from its start call, not yet
        // finished, that no other call uses meanwhile (NULL is refused).
        let timer = unsafe { timer_ref(timer) }?;
        let kind = kind.get()?;
        timer.timer.fail(kind);
        timer.failed = true;
        mark_failed(&timer.span.span, kind, &kind.as_str());
        Ok(())
    })
}

/// Ends the call: `succeeded` non-zero records latency, ops and throughput;
/// zero without [`photon_inference_fail`] records a runtime error of kind
/// `unknown`. Closes the span and frees the timer.
///
/// # Safety
/// `timer` comes from [`photon_inference_start`], is not finished, and no
/// other call uses it at the same time.
#[no_mangle]
pub unsafe extern "C" fn photon_inference_finish(
    timer: *mut PhotonInferenceTimer,
    succeeded: bool,
) -> PhotonCode {
    guard(|| {
        if timer.is_null() {
            return Err(Failure::new(PHOTON_ERR_NULL_ARGUMENT, "the timer is NULL"));
        }
        // SAFETY: not NULL (checked above); the caller promises a timer from
        // `photon_inference_start` (so from its `Box::into_raw`) not yet
        // finished, so this is the one `Box::from_raw` of that box.
        let PhotonInferenceTimer {
            mut timer,
            span,
            failed,
        } = *unsafe { Box::from_raw(timer) };
        if succeeded {
            timer.succeed();
        } else if !failed {
            let kind = ErrorKind::new("unknown").unwrap_or(ErrorKind::OVERFLOW);
            timer.fail(kind);
            mark_failed(&span.span, kind, "failed without a reported kind");
        }
        // The timer records when dropped: inside its span.
        span.in_scope(|| drop(timer));
        drop(span);
        Ok(())
    })
}
