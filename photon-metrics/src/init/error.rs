//! Why [`init()`](super::init) could not set telemetry up.

use crate::export::ExportError;

/// Why telemetry could not be set up. Nothing is left half-installed except
/// where a variant says so.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// An exporter could not be built (bad endpoint, port in use, …).
    /// Nothing is installed, except after
    /// [`ExportError::ForeignRecorder`] from
    /// [`install`](super::TelemetryBuilder::install): photon's subscriber
    /// was set before another `metrics` recorder was found in its place.
    #[error(transparent)]
    Export(#[from] ExportError),
    /// An environment variable holds a value that cannot be used; the
    /// source says why.
    #[error("environment variable {var}={value:?} cannot be used")]
    Environment {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The log filter set in code ([`TelemetryBuilder::log_filter`](super::TelemetryBuilder::log_filter)) does
    /// not parse (a bad `RUST_LOG` is an [`InitError::Environment`]).
    #[error("invalid log filter `{filter}`")]
    Filter {
        /// The filter.
        filter: String,
        /// The parser's reason.
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    /// Another global `tracing` subscriber is installed. Nothing else is
    /// installed either; use [`TelemetryBuilder::layers`](super::TelemetryBuilder::layers) to compose
    /// with your subscriber instead.
    #[error("a global tracing subscriber is already installed; use TelemetryBuilder::layers() to add photon's layers to it")]
    SubscriberAlreadySet,
    /// The log file (or its directory) cannot be created.
    #[error("cannot write logs to {}", path.display())]
    LogFile {
        /// The file asked for.
        path: std::path::PathBuf,
        /// Why it cannot be written.
        #[source]
        source: tracing_appender::rolling::InitError,
    },
    /// Exporting the spans ended so far failed or timed out.
    #[cfg(feature = "otlp")]
    #[error("flushing pending spans to the OTLP collector failed")]
    Flush(#[source] opentelemetry_sdk::error::OTelSdkError),
    /// Stopping trace export failed or timed out; spans may have been lost.
    #[cfg(feature = "otlp")]
    #[error("shutting down OTLP trace export failed")]
    Shutdown(#[source] opentelemetry_sdk::error::OTelSdkError),
}
