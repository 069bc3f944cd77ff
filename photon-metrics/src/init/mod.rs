//! One call that sets up metrics, traces and logs: [`init()`].
//!
//! ```no_run
//! use photon_metrics::export::logs::LogFormat;
//! use photon_metrics::export::otlp::OtlpConfig;
//!
//! let telemetry = photon_metrics::init()
//!     .service_name("photon-compiler")
//!     .otlp(OtlpConfig::grpc("http://localhost:4317"))
//!     .log_format(LogFormat::Json)
//!     .install()?;
//! // … run …
//! telemetry.shutdown()?; // or drop it: flushes pending spans within the timeout
//! # Ok::<(), photon_metrics::InitError>(())
//! ```
//!
//! The environment variables it reads are documented on [`init()`].

mod env;
mod error;
mod guard;

pub use error::InitError;
pub use guard::TelemetryGuard;

use crate::export::logs::{Both, JsonLayer, LogFormat};
use crate::export::prometheus::PreparedExporter;
use crate::export::prometheus::PrometheusExporterBuilder;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

#[cfg(feature = "otlp")]
use crate::export::otlp::OtlpConfig;

/// Targets of the exporters' own clients: their logs and spans must never
/// be exported, or every export would produce more to export.
const EXPORTER_INTERNALS: &[&str] = &[
    "h2",
    "hyper",
    "hyper_util",
    "tonic",
    "tower",
    "reqwest",
    "rustls",
    "opentelemetry",
    "opentelemetry_sdk",
    "opentelemetry_otlp",
    "opentelemetry_http",
];

/// Starts configuring metrics, traces and logs.
///
/// ```no_run
/// let telemetry = photon_metrics::init().service_name("photon-compiler").install()?;
/// # Ok::<(), photon_metrics::InitError>(())
/// ```
///
/// # Environment variables
///
/// Standard variables override what the code sets, as the OpenTelemetry
/// SDK configuration documentation states: "Values set with environment
/// variables override equivalent configuration in code using SDK APIs."
/// So operators can redirect a binary without rebuilding it. Between the
/// two, an application's command-line flag is the operator's most specific
/// word and should win: an application that has one calls
/// [`TelemetryBuilder::ignore_variable`] for the variable it replaces (the
/// demo does for `--listen`, `--otlp` and `--log-format`). The order is
/// flag > environment > code > default.
///
/// An invalid value is an error from [`TelemetryBuilder::install`] that
/// names the variable, the value and the reason in its message
/// ([`InitError::Environment`]), never a silent default.
///
/// | variable | effect |
/// |---|---|
/// | `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` | full traces endpoint; enables trace export |
/// | `OTEL_EXPORTER_OTLP_ENDPOINT` | base endpoint (`/v1/traces` is appended for HTTP); enables trace export |
/// | `OTEL_EXPORTER_OTLP_PROTOCOL` | `grpc` (default) or `http/protobuf` |
/// | `OTEL_SERVICE_NAME` | `service.name` on every span (any text) |
/// | `OTEL_TRACES_SAMPLER` | `always_on`, `always_off`, `traceidratio`, `parentbased_always_on`, `parentbased_always_off`, `parentbased_traceidratio` (default) |
/// | `OTEL_TRACES_SAMPLER_ARG` | the ratio for the `*traceidratio` samplers, 0 to 1 (applies to the default sampler when no sampler is named) |
/// | `RUST_LOG` | which logs and spans are recorded (`tracing-subscriber` directives; default `info`) |
/// | `PHOTON_METRICS_LISTEN` | the `/metrics` listen address, or `off` for no listener |
/// | `PHOTON_LOG_FORMAT` | `json`, `pretty` or `off` |
/// | `PHOTON_LOG_FILE` | also write JSON lines to this file, rotated daily (see [`TelemetryBuilder::log_file`]) |
pub fn init() -> TelemetryBuilder {
    TelemetryBuilder::default()
}

/// What [`init()`] sets up.
#[derive(Debug, Clone)]
pub struct TelemetryBuilder {
    service_name: String,
    service_version: String,
    metrics: Option<PrometheusExporterBuilder>,
    #[cfg(feature = "otlp")]
    otlp: Option<OtlpConfig>,
    sampler: Sampling,
    log_format: LogFormat,
    log_file: Option<std::path::PathBuf>,
    /// Whether `log_file` came from `PHOTON_LOG_FILE`, so an error names it.
    log_file_from_env: bool,
    log_filter: String,
    shutdown_timeout: Duration,
    from_env: bool,
    ignored: Vec<&'static str>,
}

/// A parsed sampler choice.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Sampling {
    Ratio { parent_based: bool, ratio: f64 },
    AlwaysOn { parent_based: bool },
    AlwaysOff { parent_based: bool },
}

#[cfg(feature = "otlp")]
impl Sampling {
    fn to_otel(self) -> opentelemetry_sdk::trace::Sampler {
        use opentelemetry_sdk::trace::Sampler;
        let (parent_based, sampler) = match self {
            Sampling::Ratio {
                parent_based,
                ratio,
            } => (parent_based, Sampler::TraceIdRatioBased(ratio)),
            Sampling::AlwaysOn { parent_based } => (parent_based, Sampler::AlwaysOn),
            Sampling::AlwaysOff { parent_based } => (parent_based, Sampler::AlwaysOff),
        };
        if parent_based {
            Sampler::ParentBased(Box::new(sampler))
        } else {
            sampler
        }
    }
}

impl Default for TelemetryBuilder {
    fn default() -> Self {
        TelemetryBuilder {
            service_name: "photon-mlir".into(),
            service_version: env!("CARGO_PKG_VERSION").into(),
            metrics: Some(PrometheusExporterBuilder::new()),
            #[cfg(feature = "otlp")]
            otlp: None,
            sampler: Sampling::Ratio {
                parent_based: true,
                ratio: 1.0,
            },
            log_format: LogFormat::Pretty,
            log_file: None,
            log_file_from_env: false,
            log_filter: "info".into(),
            shutdown_timeout: Duration::from_secs(5),
            from_env: true,
            ignored: Vec::new(),
        }
    }
}

impl TelemetryBuilder {
    /// `service.name` on spans (and the `service` label is yours to add on
    /// the metrics builder). Default `photon-mlir`.
    pub fn service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = name.into();
        self
    }

    /// `service.version` on spans. Default: photon-metrics' version.
    pub fn service_version(mut self, version: impl Into<String>) -> Self {
        self.service_version = version.into();
        self
    }

    /// The Prometheus exporter to install (default: listening on 0.0.0.0:8080).
    pub fn metrics(mut self, metrics: PrometheusExporterBuilder) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// No Prometheus exporter (records still go to whatever recorder is installed).
    pub fn without_metrics(mut self) -> Self {
        self.metrics = None;
        self
    }

    /// Exports spans over OTLP.
    #[cfg(feature = "otlp")]
    pub fn otlp(mut self, config: OtlpConfig) -> Self {
        self.otlp = Some(config);
        self
    }

    /// Samples this fraction of new traces (children follow their parent's
    /// decision). Default 1.0.
    pub fn sample_ratio(mut self, ratio: f64) -> Self {
        self.sampler = Sampling::Ratio {
            parent_based: true,
            ratio: ratio.clamp(0.0, 1.0),
        };
        self
    }

    /// How logs are written. Default [`LogFormat::Pretty`].
    pub fn log_format(mut self, format: LogFormat) -> Self {
        self.log_format = format;
        self
    }

    /// Also writes JSON lines (the promtail schema) to a file, rotated
    /// daily and kept for 7 days: `/var/log/photon-mlir/photon.log` writes
    /// `/var/log/photon-mlir/photon.2026-11-28.log` and so on, which
    /// promtail's `/var/log/photon-mlir/*.log` picks up. Lines are written
    /// by a background thread, never blocking the caller (past 128k pending
    /// lines new ones are dropped), and flushed when the guard is dropped or
    /// shut down. The directory is created if missing. With
    /// [`LogFormat::Json`] as well, stdout and the file get the same lines,
    /// formatted once. `PHOTON_LOG_FILE` sets it from the environment.
    pub fn log_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.log_file = Some(path.into());
        self
    }

    /// The default filter (`tracing-subscriber` directives) when `RUST_LOG`
    /// is unset. Default `info`.
    pub fn log_filter(mut self, filter: impl Into<String>) -> Self {
        self.log_filter = filter.into();
        self
    }

    /// How long dropping the guard may wait for pending spans. Default 5 s.
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// Ignore the environment variables (tests, embedded use).
    pub fn ignore_environment(mut self) -> Self {
        self.from_env = false;
        self
    }

    /// Ignore one environment variable of the table in the module docs,
    /// because the application has a more specific source for the same
    /// setting: typically a command-line flag the operator passed, which
    /// should beat the environment. Names outside the table are ignored.
    ///
    /// ```no_run
    /// # let listen_flag: Option<String> = None;
    /// let mut telemetry = photon_metrics::init();
    /// if let Some(addr) = listen_flag {
    ///     let metrics = photon_metrics::export::prometheus::PrometheusExporterBuilder::new()
    ///         .listen_on(&addr)?;
    ///     telemetry = telemetry.metrics(metrics).ignore_variable("PHOTON_METRICS_LISTEN");
    /// }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ignore_variable(mut self, name: &'static str) -> Self {
        self.ignored.push(name);
        self
    }

    fn filter(&self) -> Result<EnvFilter, InitError> {
        let from_env = std::env::var("RUST_LOG").ok().filter(|v| {
            self.from_env && !v.trim().is_empty() && !self.ignored.contains(&"RUST_LOG")
        });
        let user = from_env.clone().unwrap_or_else(|| self.log_filter.clone());
        let internals: Vec<String> = EXPORTER_INTERNALS
            .iter()
            .map(|t| format!("{t}=off"))
            .collect();
        let full = format!("{user},{}", internals.join(","));
        EnvFilter::try_new(&full).map_err(|e| match from_env {
            Some(value) => InitError::Environment {
                var: "RUST_LOG",
                value,
                source: Box::new(e),
            },
            None => InitError::Filter {
                filter: user,
                source: e,
            },
        })
    }

    /// Builds everything and installs it: the metrics exporter as the global
    /// `metrics` recorder, and photon's layers as the global `tracing`
    /// subscriber. Keep the returned guard alive; dropping it flushes spans.
    ///
    /// All or nothing: everything that can fail (the environment, the
    /// filter, the OTLP exporter, the log file, the listener's port) is
    /// built first, then the subscriber is set, and the metrics recorder
    /// last. So after an error nothing is installed and a corrected retry
    /// succeeds, with one exception no code can rule out beforehand:
    /// another `metrics` recorder already global
    /// ([`ExportError::ForeignRecorder`](crate::export::ExportError::ForeignRecorder))
    /// is found only after photon's subscriber is set, which then stays.
    ///
    /// # Errors
    /// See [`InitError`].
    pub fn install(self) -> Result<TelemetryGuard, InitError> {
        let (layer, mut guard, metrics) = self.build()?;
        let subscriber = tracing_subscriber::registry().with(layer);
        // On failure `metrics` is dropped: its port closed, its install
        // released, no recorder set.
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|_| InitError::SubscriberAlreadySet)?;
        guard.metrics = metrics.map(PreparedExporter::commit).transpose()?;
        Ok(guard)
    }

    /// Like [`install`](Self::install) but returns photon's `tracing` layers
    /// (filter, logs, OpenTelemetry) for your own subscriber instead of
    /// installing them. The metrics exporter is installed either way.
    ///
    /// ```no_run
    /// use tracing_subscriber::layer::SubscriberExt;
    /// let (layer, _guard) = photon_metrics::init().without_metrics().layers()?;
    /// let subscriber = tracing_subscriber::registry().with(layer);
    /// tracing::subscriber::set_global_default(subscriber).unwrap();
    /// # Ok::<(), photon_metrics::InitError>(())
    /// ```
    pub fn layers(self) -> Result<(BoxedLayer, TelemetryGuard), InitError> {
        let (layer, mut guard, metrics) = self.build()?;
        guard.metrics = metrics.map(PreparedExporter::commit).transpose()?;
        Ok((layer, guard))
    }

    /// Builds everything fallible, installing nothing: the layers, the
    /// guard (without its exporter) and the exporter ready to commit.
    fn build(
        mut self,
    ) -> Result<(BoxedLayer, TelemetryGuard, Option<PreparedExporter>), InitError> {
        if self.from_env {
            self.apply_environment()?;
        }
        let filter = self.filter()?;

        #[cfg(feature = "otlp")]
        let (otel_layer, provider, runtime, losses) = match &self.otlp {
            Some(config) => {
                let (layer, provider, runtime, losses) = crate::export::otlp::tracer(
                    config,
                    self.sampler.to_otel(),
                    &self.service_name,
                    &self.service_version,
                )?;
                (Some(layer), Some(provider), runtime, Some(losses))
            }
            None => (None, None, None, None),
        };

        // The log file is opened before the exporter binds its port, so a
        // bad path leaves nothing to undo.
        let mut log_file = None;
        let file_writer = match &self.log_file {
            Some(path) => {
                let file = crate::export::logs::rolling_file(path).map_err(|source| {
                    let error = InitError::LogFile {
                        path: path.to_path_buf(),
                        source,
                    };
                    match self.log_file_from_env {
                        true => InitError::Environment {
                            var: "PHOTON_LOG_FILE",
                            value: path.display().to_string(),
                            source: Box::new(error),
                        },
                        false => error,
                    }
                })?;
                Some(tracing_appender::non_blocking(file))
            }
            None => None,
        };

        // Bound and built, not installed: the caller commits it once
        // nothing else can fail.
        let metrics = match self.metrics.take() {
            Some(builder) => Some(builder.prepare()?),
            None => None,
        };

        // Only the layers that exist (an `Option` layer that is `None`
        // reports a maximum level of OFF, which silenced the whole stack),
        // chained rather than collected in a `Vec`: a `Vec` of layers does
        // not pass the dispatch on to its members, and the JSON and
        // exemplar layers need it to ask tracing-opentelemetry for span ids.
        let mut layer: BoxedLayer = Box::new(filter);
        // JSON on stdout and in the file together is one layer writing to
        // both: a line is formatted once and both outputs carry it alike.
        let file = file_writer.map(|(writer, guard)| {
            log_file = Some(guard);
            writer
        });
        match (self.log_format, file) {
            (LogFormat::Json, Some(file)) => {
                layer = Box::new(layer.and_then(JsonLayer::new(Both(std::io::stdout, file))));
            }
            (LogFormat::Json, None) => {
                layer = Box::new(layer.and_then(JsonLayer::new(std::io::stdout)));
            }
            (LogFormat::Pretty, file) => {
                // Colour codes only for a person at a terminal, never into a
                // file or a pipe.
                use std::io::IsTerminal;
                let ansi = std::io::stderr().is_terminal();
                layer = Box::new(
                    layer.and_then(
                        tracing_subscriber::fmt::layer()
                            .with_ansi(ansi)
                            .with_writer(std::io::stderr),
                    ),
                );
                if let Some(file) = file {
                    layer = Box::new(layer.and_then(JsonLayer::new(file)));
                }
            }
            (LogFormat::Off, Some(file)) => {
                layer = Box::new(layer.and_then(JsonLayer::new(file)));
            }
            (LogFormat::Off, None) => {}
        }
        #[cfg(feature = "otlp")]
        if let Some(otel_layer) = otel_layer {
            layer = Box::new(layer.and_then(otel_layer));
            // Sampled spans become exemplars of the metrics recorded in them.
            layer = Box::new(layer.and_then(crate::export::exemplars::ExemplarLayer::new()));
        }
        let guard = TelemetryGuard {
            #[cfg(feature = "otlp")]
            provider,
            #[cfg(feature = "otlp")]
            _runtime: runtime,
            #[cfg(feature = "otlp")]
            losses,
            metrics: None,
            log_file,
            timeout: self.shutdown_timeout,
            shut_down: false,
        };
        Ok((layer, guard, metrics))
    }
}

/// photon's `tracing` layers, boxed for any `Registry`-based subscriber.
pub type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync + 'static>;
