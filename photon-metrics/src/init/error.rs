//! Why [`init()`](super::init) could not set telemetry up.

use crate::export::ExportError;
use std::fmt;

/// Why telemetry could not be set up. Nothing is left half-installed except
/// where a variant says so.
///
/// Its `Display` is a whole sentence a user can act on: what could not be
/// used, then why (for [`InitError::Environment`], the variable, its value
/// and the reason). `source()` goes on from the reason's own source, as
/// `std::io::Error` does for the error it wraps, so a printer of the whole
/// chain shows each text once.
#[derive(Debug)]
#[non_exhaustive]
pub enum InitError {
    /// An exporter could not be built (bad endpoint, port in use, …).
    /// Nothing is installed, except after
    /// [`ExportError::ForeignRecorder`] from
    /// [`install`](super::TelemetryBuilder::install): photon's subscriber
    /// was set before another `metrics` recorder was found in its place.
    Export(ExportError),
    /// An environment variable holds a value that cannot be used. The
    /// message names the variable, the value and the reason
    /// (`environment variable OTEL_EXPORTER_OTLP_ENDPOINT="localhost:4317"
    /// cannot be used: invalid OTLP endpoint ...: missing scheme; write
    /// http://host:port ...`).
    Environment {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// What is wrong with it: the end of the message; `source()` is
        /// this reason's own source.
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// The log filter set in code ([`TelemetryBuilder::log_filter`](super::TelemetryBuilder::log_filter)) does
    /// not parse (a bad `RUST_LOG` is an [`InitError::Environment`]).
    Filter {
        /// The filter.
        filter: String,
        /// The parser's reason.
        source: tracing_subscriber::filter::ParseError,
    },
    /// Another global `tracing` subscriber is installed. Nothing else is
    /// installed either; use [`TelemetryBuilder::layers`](super::TelemetryBuilder::layers) to compose
    /// with your subscriber instead.
    SubscriberAlreadySet,
    /// The log file (or its directory) cannot be created.
    LogFile {
        /// The file asked for.
        path: std::path::PathBuf,
        /// Why it cannot be written.
        source: tracing_appender::rolling::InitError,
    },
    /// Exporting the spans ended so far failed or timed out.
    #[cfg(feature = "otlp")]
    Flush(opentelemetry_sdk::error::OTelSdkError),
    /// Stopping trace export failed or timed out; spans may have been lost.
    #[cfg(feature = "otlp")]
    Shutdown(opentelemetry_sdk::error::OTelSdkError),
}

impl From<ExportError> for InitError {
    fn from(error: ExportError) -> Self {
        InitError::Export(error)
    }
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::Export(error) => error.fmt(f),
            InitError::Environment { var, value, source } => {
                write!(f, "environment variable {var}={value:?} cannot be used: {source}")
            }
            InitError::Filter { filter, source } => {
                write!(f, "invalid log filter `{filter}`: {source}")
            }
            InitError::SubscriberAlreadySet => f.write_str(
                "a global tracing subscriber is already installed; use TelemetryBuilder::layers() to add photon's layers to it",
            ),
            InitError::LogFile { path, source } => {
                write!(f, "cannot write logs to {}: {source}", path.display())
            }
            #[cfg(feature = "otlp")]
            InitError::Flush(source) => {
                write!(f, "flushing pending spans to the OTLP collector failed: {source}")
            }
            #[cfg(feature = "otlp")]
            InitError::Shutdown(source) => {
                write!(f, "shutting down OTLP trace export failed: {source}")
            }
        }
    }
}

// By hand rather than derived: thiserror gives a variant either the reason
// in its message or the reason as its source, and a user who prints the
// error (most do, with `{e}`) needs the reason in the message, while one who
// walks the chain should read each text once.
impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            InitError::Export(error) => error.source(),
            InitError::Environment { source, .. } => source.source(),
            InitError::Filter { source, .. } => source.source(),
            InitError::SubscriberAlreadySet => None,
            InitError::LogFile { source, .. } => source.source(),
            #[cfg(feature = "otlp")]
            InitError::Flush(source) | InitError::Shutdown(source) => source.source(),
        }
    }
}
