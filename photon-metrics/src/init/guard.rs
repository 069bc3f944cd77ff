//! What keeps telemetry running, and flushes it.

use super::InitError;
use crate::export::prometheus::PrometheusExporter;
use std::time::Duration;

/// Keeps the exporters running. Dropping it (or [`shutdown`](Self::shutdown))
/// flushes pending spans within the configured timeout and stops the trace
/// exporter; the metrics exporter keeps serving for the rest of the process.
///
/// A span opened after that is not exported and has no OpenTelemetry ids,
/// so the log lines written in it carry no `trace_id`/`span_id`: stop the
/// threads that open spans before shutting down (the demo does).
#[must_use = "dropping the guard shuts trace export down"]
pub struct TelemetryGuard {
    #[cfg(feature = "otlp")]
    pub(super) provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
    #[cfg(feature = "otlp")]
    pub(super) _runtime: Option<crate::export::otlp::RuntimeThread>,
    pub(super) metrics: Option<PrometheusExporter>,
    /// Flushes the log file's pending lines when dropped.
    pub(super) log_file: Option<tracing_appender::non_blocking::WorkerGuard>,
    pub(super) timeout: Duration,
    pub(super) shut_down: bool,
}

impl std::fmt::Debug for TelemetryGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TelemetryGuard")
            .field("metrics", &self.metrics)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl TelemetryGuard {
    /// The installed Prometheus exporter, if any.
    pub fn metrics(&self) -> Option<&PrometheusExporter> {
        self.metrics.as_ref()
    }

    /// Exports every span ended so far, waiting at most the shutdown timeout.
    pub fn flush(&self) -> Result<(), InitError> {
        #[cfg(feature = "otlp")]
        if let Some(provider) = &self.provider {
            provider.force_flush().map_err(InitError::Flush)?;
        }
        Ok(())
    }

    /// Flushes pending spans (bounded by the shutdown timeout) and stops
    /// trace export.
    pub fn shutdown(mut self) -> Result<(), InitError> {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> Result<(), InitError> {
        if std::mem::replace(&mut self.shut_down, true) {
            return Ok(());
        }
        #[cfg(feature = "otlp")]
        let result = match self.provider.take() {
            Some(provider) => provider
                .shutdown_with_timeout(self.timeout)
                .map_err(InitError::Shutdown),
            None => Ok(()),
        };
        #[cfg(not(feature = "otlp"))]
        let result = Ok(());
        // Writes out the log file's pending lines, after the trace exporter
        // has stopped: its last export may log a failure, which belongs in
        // the file as on stdout.
        drop(self.log_file.take());
        result
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let _ = self.shutdown_inner();
    }
}
