//! Traces (and logs) for the process: the spans of the timers, and any
//! `tracing` span of Rust code in the same library, exported over OTLP.

use crate::error::{
    c_text, guard, Failure, PhotonCode, PHOTON_ERR_ALREADY_INSTALLED, PHOTON_ERR_TRACES,
};
use photon_metrics::export::otlp::OtlpConfig;
use photon_metrics::export::ExportError;
use photon_metrics::{InitError, TelemetryGuard};
use std::ffi::c_char;
use std::sync::Mutex;

static TELEMETRY: Mutex<Option<TelemetryGuard>> = Mutex::new(None);

/// Sets up traces and logs for the process, as `photon_metrics::init()` does
/// for Rust: spans go over OTLP/gRPC to `otlp_endpoint` (NUL-terminated,
/// e.g. `http://jaeger:4317`; NULL to read `OTEL_EXPORTER_OTLP_ENDPOINT`, and
/// no export when unset), logs to stdout as `PHOTON_LOG_FORMAT` says, under
/// `service_name` (NULL for `OTEL_SERVICE_NAME` or the default). Metrics
/// stay with [`photon_exporter_install`](crate::exporter::photon_exporter_install).
/// An unreachable collector is not an error: spans are dropped and counted
/// in `photon_otlp_spans_dropped_total`.
///
/// # Safety
/// Both strings are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn photon_traces_init(
    service_name: *const c_char,
    otlp_endpoint: *const c_char,
) -> PhotonCode {
    guard(|| {
        let mut slot = TELEMETRY.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_some() {
            return Err(Failure::new(
                PHOTON_ERR_ALREADY_INSTALLED,
                "traces are already initialised",
            ));
        }
        let mut builder = photon_metrics::init().without_metrics();
        // SAFETY: the caller promises both strings are NULL or
        // NUL-terminated, what `c_text` asks; the builder copies them.
        if let Some(name) = unsafe { c_text(service_name, "service_name") }? {
            builder = builder.service_name(name);
        }
        // SAFETY: as for `service_name`.
        if let Some(endpoint) = unsafe { c_text(otlp_endpoint, "otlp_endpoint") }? {
            builder = builder.otlp(OtlpConfig::grpc(endpoint));
        }
        let guard = builder
            .install()
            .map_err(|e| Failure::new(PHOTON_ERR_TRACES, e.to_string()))?;
        *slot = Some(guard);
        Ok(())
    })
}

/// Flushes the spans not yet exported and shuts trace export down (call it
/// before the process exits). A no-op when traces are not initialised.
/// Spans lost on the way (queue full, collector unreachable) are not an
/// error here, as they are not for [`photon_traces_init`]: they are counted
/// in `photon_otlp_spans_dropped_total`, and a C++ program's exit path
/// (`photon::traces::shutdown()`) should not throw for them.
#[no_mangle]
pub extern "C" fn photon_traces_shutdown() -> PhotonCode {
    guard(|| {
        let taken = TELEMETRY.lock().unwrap_or_else(|e| e.into_inner()).take();
        match taken.map(TelemetryGuard::shutdown) {
            None | Some(Ok(())) => Ok(()),
            Some(Err(InitError::Export(ExportError::SpansDropped { .. }))) => Ok(()),
            Some(Err(e)) => Err(Failure::new(PHOTON_ERR_TRACES, e.to_string())),
        }
    })
}
