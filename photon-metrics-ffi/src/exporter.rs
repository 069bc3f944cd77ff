//! The Prometheus exporter: installed once per process, by C or by Rust.

use crate::error::{
    c_text, guard, put, Failure, PhotonCode, PHOTON_ERR_ALREADY_INSTALLED, PHOTON_ERR_BIND,
    PHOTON_ERR_INVALID_CONFIG, PHOTON_ERR_NULL_ARGUMENT,
};
use photon_metrics::export::prometheus::{PrometheusExporter, PrometheusExporterBuilder};
use photon_metrics::export::ExportError;
use std::ffi::c_char;
use std::sync::OnceLock;

static EXPORTER: OnceLock<PrometheusExporter> = OnceLock::new();

/// A constant label added to every series (`service`, `pod`, …).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PhotonLabelPair {
    /// The label name, NUL-terminated (`[a-zA-Z_][a-zA-Z0-9_]*`).
    pub name: *const c_char,
    /// The value, NUL-terminated.
    pub value: *const c_char,
}

fn export_failure(e: ExportError) -> Failure {
    let code = match e {
        ExportError::Bind { .. } => PHOTON_ERR_BIND,
        ExportError::AlreadyInstalled | ExportError::ForeignRecorder => {
            PHOTON_ERR_ALREADY_INSTALLED
        }
        _ => PHOTON_ERR_INVALID_CONFIG,
    };
    Failure::new(code, e.to_string())
}

/// Installs photon's Prometheus exporter as the process's `metrics`
/// recorder and serves `/metrics` on `listen` (`host:port`, NUL-terminated;
/// NULL for `0.0.0.0:8080`; `""` for no listener, render with
/// [`photon_exporter_render`]; port 0 picks a free port, see
/// [`photon_exporter_port`]). `labels` (`label_count` pairs, may be NULL when
/// 0) are added to every series. Call it once, before recording: records
/// made before are not kept.
///
/// Errors: `PHOTON_ERR_BIND` (port in use), `PHOTON_ERR_INVALID_CONFIG`
/// (address, label name), `PHOTON_ERR_ALREADY_INSTALLED`. Nothing is
/// installed on error.
///
/// # Safety
/// `listen` is NULL or NUL-terminated; `labels` points to `label_count` pairs
/// of NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn photon_exporter_install(
    listen: *const c_char,
    labels: *const PhotonLabelPair,
    label_count: usize,
) -> PhotonCode {
    guard(|| {
        let mut builder = PrometheusExporterBuilder::new();
        // SAFETY: the caller promises `listen` is NULL or NUL-terminated,
        // which is all `c_text` asks.
        match unsafe { c_text(listen, "listen") }? {
            None => {}
            Some("") => builder = builder.without_listener(),
            Some(addr) => builder = builder.listen_on(addr).map_err(export_failure)?,
        }
        if label_count > 0 {
            if labels.is_null() {
                return Err(Failure::new(PHOTON_ERR_NULL_ARGUMENT, "labels is NULL"));
            }
            // A count no array can have is an error, not a slice (undefined
            // behaviour past isize::MAX bytes, whatever the pointer).
            let max = isize::MAX as usize / std::mem::size_of::<PhotonLabelPair>();
            if label_count > max {
                return Err(Failure::new(
                    PHOTON_ERR_INVALID_CONFIG,
                    format!("label_count {label_count} is not the length of an array"),
                ));
            }
            // SAFETY: `labels` is not NULL and `label_count` pairs fit in
            // `isize::MAX` bytes (both checked above); the caller promises
            // `labels` points to that many pairs, and they are only read
            // during this call.
            for pair in unsafe { std::slice::from_raw_parts(labels, label_count) } {
                // SAFETY: the caller promises each pair's strings are
                // NUL-terminated; a NULL one is refused just below.
                let name = unsafe { c_text(pair.name, "a label name") }?.ok_or_else(|| {
                    Failure::new(PHOTON_ERR_NULL_ARGUMENT, "a label name is NULL")
                })?;
                // SAFETY: as for the name.
                let value = unsafe { c_text(pair.value, "a label value") }?.ok_or_else(|| {
                    Failure::new(PHOTON_ERR_NULL_ARGUMENT, "a label value is NULL")
                })?;
                builder = builder.global_label(name, value);
            }
        }
        if EXPORTER.get().is_some() {
            return Err(export_failure(ExportError::AlreadyInstalled));
        }
        let exporter = builder.install().map_err(export_failure)?;
        let _ = EXPORTER.set(exporter);
        Ok(())
    })
}

/// Publishes this process's records to its service's shared directory
/// now (`PHOTON_METRICS_SHARED_DIR`, see the Rust `shared` module):
/// `*published` is whether the process is one of a service's. Call it
/// before `_exit`; `exit` publishes by itself.
///
/// # Safety
/// `published` is writable.
#[no_mangle]
pub unsafe extern "C" fn photon_shared_publish(published: *mut bool) -> PhotonCode {
    guard(|| {
        let done = photon_metrics::shared::publish_now();
        // SAFETY: the caller promises `published` is writable; `put` refuses NULL.
        unsafe { put(published, done, "published") }
    })
}

/// The exporter installed through this library, for Rust code in the same
/// library (a mixed C++/Rust process): clone it to render or push.
pub fn installed() -> Option<&'static PrometheusExporter> {
    EXPORTER.get()
}

/// Writes the port `/metrics` is served on to `*out`.
///
/// Errors: `PHOTON_ERR_INVALID_CONFIG` when no exporter with a listener is
/// installed.
///
/// # Safety
/// `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn photon_exporter_port(out: *mut u16) -> PhotonCode {
    guard(|| {
        let port = EXPORTER
            .get()
            .and_then(|e| e.local_addr())
            .map(|a| a.port())
            .ok_or_else(|| {
                Failure::new(
                    PHOTON_ERR_INVALID_CONFIG,
                    "no exporter with a listener is installed",
                )
            })?;
        // SAFETY: the caller promises `out` is writable; `put` refuses NULL.
        unsafe { put(out, port, "out") }
    })
}

/// A render a size question made, for the call with room that follows.
static PENDING: std::sync::Mutex<Option<(std::time::Instant, String)>> =
    std::sync::Mutex::new(None);

/// How long a size question's render waits for its second call; an older
/// one is rendered again.
const PENDING_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// Renders the exposition (text format 0.0.4) into `buffer` (`capacity`
/// bytes), NUL-terminated, for serving from your own HTTP server. `*needed`
/// gets the size it takes, NUL included; when that exceeds `capacity`
/// nothing is written (call again with a larger buffer; `buffer` may be
/// NULL with `capacity` 0 to ask). The two calls are one scrape: a call
/// with room within a second of a size question writes that question's
/// render, so the size fits exactly.
///
/// # Safety
/// `buffer` is NULL or writable for `capacity` bytes; `needed` is writable.
#[no_mangle]
pub unsafe extern "C" fn photon_exporter_render(
    buffer: *mut c_char,
    capacity: usize,
    needed: *mut usize,
) -> PhotonCode {
    guard(|| {
        let exporter = EXPORTER
            .get()
            .ok_or_else(|| Failure::new(PHOTON_ERR_INVALID_CONFIG, "no exporter is installed"))?;
        // A call that asks the size (or brings too small a buffer) keeps
        // its render for the call that follows with room: the two calls
        // are one scrape, so the size fits exactly, and retired series
        // served once (with their final values) are served to the caller
        // rather than to the question.
        // The lock is held only to take or leave a render, never while
        // one is made: callers on other threads render at the same time.
        let pending = || PENDING.lock().unwrap_or_else(|e| e.into_inner());
        let kept = pending().take();
        let text = match kept {
            Some((at, text)) if at.elapsed() < PENDING_FOR => text,
            _ => exporter.render(),
        };
        // SAFETY: the caller promises `needed` is writable; `put` refuses NULL.
        unsafe { put(needed, text.len() + 1, "needed") }?;
        if text.len() >= capacity || buffer.is_null() {
            *pending() = Some((std::time::Instant::now(), text));
            return Ok(());
        }
        {
            // SAFETY: `buffer` is not NULL and the text plus its NUL fit in
            // `capacity` bytes (both checked just above), for which the
            // caller promises `buffer` is writable. The source is a `String`
            // allocated by this call, so it cannot overlap C's buffer.
            unsafe {
                std::ptr::copy_nonoverlapping(text.as_ptr(), buffer.cast::<u8>(), text.len());
                buffer.add(text.len()).write(0);
            }
        }
        Ok(())
    })
}
