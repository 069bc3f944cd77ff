//! Pass runs: one run of a compiler pass on one operation, timed into
//! `photon_pass_duration_seconds{pass, target}`, failures counted in
//! `photon_pass_failures_total{pass, target}`, and a span per run, named
//! after the pass and nested under its parent run (or, for a top-level
//! run, under the span current on the calling thread: the compile span a
//! C++ `CompileTimer` makes current for its scope).
//!
//! `photon_metrics_mlir.hpp` drives these from an MLIR
//! `PassInstrumentation`; the parent is passed explicitly because MLIR runs
//! nested pipelines on worker threads, where no span is current.
//! A run is started and finished on the same thread, and never entered, so
//! nothing of it is left on any thread's span stack.

use crate::error::{c_text, guard, put, Failure, PhotonCode, PHOTON_ERR_NULL_ARGUMENT};
use crate::labels::{PhotonPass, PhotonTarget};
use photon_metrics::compiler::{self, PassTimer};
use std::ffi::c_char;
use tracing::field::Empty;

/// One pass (or nested pipeline) running on one operation (opaque).
/// Create with [`photon_pass_run_start`], end with [`photon_pass_run_finish`].
pub struct PhotonPassRun {
    /// `None` for a nested pipeline: a span only, no metrics of its own
    /// (its time is its passes' time).
    timer: Option<PassTimer>,
    span: tracing::Span,
}

/// Starts one run: its span (named `name`, NUL-terminated; the `op`
/// attribute names the operation it runs on, `op_name`, and `symbol` that
/// operation's symbol name, both NULL when unknown) and, when `pass` is
/// not NULL, its timer for `photon_pass_duration_seconds{pass, target}`.
/// NULL `pass` is for a nested pipeline, whose span groups its passes'.
/// The span's parent is `parent`'s span, or, when `parent` is NULL, the
/// span current on this thread (a compile timer's, once entered). The run
/// goes to `*out`; finish it on this thread.
///
/// # Safety
/// `name` is NUL-terminated, `op_name` and `symbol` are NULL or
/// NUL-terminated; `pass` is NULL or readable; `parent` is NULL or a run
/// not yet finished; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn photon_pass_run_start(
    parent: *const PhotonPassRun,
    name: *const c_char,
    pass: *const PhotonPass,
    target: PhotonTarget,
    op_name: *const c_char,
    symbol: *const c_char,
    out: *mut *mut PhotonPassRun,
) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises `name` is NUL-terminated (NULL is
        // refused just below), `op_name` and `symbol` NULL or NUL-terminated:
        // what `c_text` asks. The span copies the texts it keeps.
        let name = unsafe { c_text(name, "the span name") }?
            .ok_or_else(|| Failure::new(PHOTON_ERR_NULL_ARGUMENT, "the span name is NULL"))?;
        // SAFETY: as for `name`.
        let op = unsafe { c_text(op_name, "op_name") }?;
        // SAFETY: as for `name`.
        let symbol = unsafe { c_text(symbol, "symbol") }?;
        // SAFETY: the caller promises `pass` is NULL or points to a
        // readable `PhotonPass`; it is copied out at once.
        let pass = match unsafe { pass.as_ref() } {
            Some(pass) => Some(pass.get()?),
            None => None,
        };
        let target = target.get()?;
        if out.is_null() {
            return Err(Failure::new(PHOTON_ERR_NULL_ARGUMENT, "out is NULL"));
        }
        // SAFETY: the caller promises `parent` is NULL or a run from
        // `photon_pass_run_start` not yet finished, so its box is alive. It
        // is only read (`Span::id` takes `&self`), as other threads' starts
        // under the same pipeline may do at the same time. Without a parent,
        // the span current on this thread (none: a root span).
        let parent = match unsafe { parent.as_ref() } {
            Some(run) => run.span.id(),
            None => tracing::Span::current().id(),
        };
        let pass_text = pass.map(|p| p.as_str());
        let span = tracing::info_span!(
            target: "photon_metrics_ffi", parent: parent, "photon.pass",
            otel.name = name, pass = pass_text.as_deref(), target = %target,
            op = op, symbol = symbol,
            otel.status_code = Empty, otel.status_description = Empty,
        );
        let run = Box::new(PhotonPassRun {
            timer: pass.map(|pass| compiler::start_pass(pass, target)),
            span,
        });
        // SAFETY: `out` is not NULL (checked above) and the caller promises
        // it is writable. From here C owns the run, until
        // `photon_pass_run_finish` frees it.
        unsafe { put(out, Box::into_raw(run), "out") }
    })
}

/// Marks the run failed: one `photon_pass_failures_total` when it finishes,
/// and its span an error span. Finish it as usual.
///
/// # Safety
/// `run` comes from [`photon_pass_run_start`], is not finished, and no
/// other call uses it at the same time.
#[no_mangle]
pub unsafe extern "C" fn photon_pass_run_fail(run: *mut PhotonPassRun) -> PhotonCode {
    guard(|| {
        // SAFETY: the caller promises `run` is NULL or a run from
        // `photon_pass_run_start` not yet finished, so its box is alive, and
        // that no other call uses it meanwhile (no child's start reads it:
        // MLIR fails a run only after its children have finished), so this
        // `&mut` is the only reference.
        let run = unsafe { run.as_mut() }
            .ok_or_else(|| Failure::new(PHOTON_ERR_NULL_ARGUMENT, "the run is NULL"))?;
        if let Some(timer) = run.timer.as_mut() {
            timer.fail();
        }
        run.span.record("otel.status_code", "ERROR");
        run.span
            .record("otel.status_description", "the pass failed");
        Ok(())
    })
}

/// Ends the run: records its duration (and failure) inside its span, closes
/// the span and frees the run.
///
/// # Safety
/// `run` comes from [`photon_pass_run_start`], is not finished, and no
/// other call uses it at the same time; its children are finished.
#[no_mangle]
pub unsafe extern "C" fn photon_pass_run_finish(run: *mut PhotonPassRun) -> PhotonCode {
    guard(|| {
        if run.is_null() {
            return Err(Failure::new(PHOTON_ERR_NULL_ARGUMENT, "the run is NULL"));
        }
        // SAFETY: not NULL (checked above); the caller promises a run from
        // `photon_pass_run_start` (so from its `Box::into_raw`) not yet
        // finished and used by no other call, so this is the one
        // `Box::from_raw` of that box and no other reference to it is alive
        // (children read it only while they start).
        let PhotonPassRun { timer, span } = *unsafe { Box::from_raw(run) };
        span.in_scope(|| drop(timer));
        Ok(())
    })
}
