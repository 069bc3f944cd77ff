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
    /// The spans trace export lost, reported by `shutdown`.
    #[cfg(feature = "otlp")]
    pub(super) losses: Option<crate::export::otlp::Losses>,
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
    ///
    /// # Errors
    /// When trace export lost spans at any time since install (its queue was
    /// full, or exports failed, the last one included):
    /// [`InitError::Export`] with
    /// [`ExportError::SpansDropped`](crate::export::ExportError::SpansDropped),
    /// which says how many and why. Otherwise, when stopping export failed
    /// or timed out, [`InitError::Shutdown`]; spans still queued then are
    /// lost without being counted.
    ///
    /// ```no_run
    /// use photon_metrics::export::ExportError;
    /// use photon_metrics::InitError;
    ///
    /// let telemetry = photon_metrics::init().install()?;
    /// // ... the application runs ...
    /// match telemetry.shutdown() {
    ///     Ok(()) => {}
    ///     Err(InitError::Export(ExportError::SpansDropped { dropped, .. })) => {
    ///         eprintln!("{dropped} spans never reached the collector");
    ///     }
    ///     Err(e) => eprintln!("{e}"),
    /// }
    /// # Ok::<(), InitError>(())
    /// ```
    pub fn shutdown(mut self) -> Result<(), InitError> {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> Result<(), InitError> {
        if std::mem::replace(&mut self.shut_down, true) {
            return Ok(());
        }
        #[cfg(feature = "otlp")]
        let result = {
            let stopped = match self.provider.take() {
                Some(provider) => provider
                    .shutdown_with_timeout(self.timeout)
                    .map_err(InitError::Shutdown),
                None => Ok(()),
            };
            // Losses first: a failed last export also fails the SDK's
            // shutdown, and the count says more than its error does.
            match self.losses.as_ref().map(|l| l.check()) {
                Some(Err(lost)) => Err(InitError::Export(lost)),
                _ => stopped,
            }
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
