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

use crate::export::logs::{JsonLayer, LogFormat};
use crate::export::prometheus::{PrometheusExporter, PrometheusExporterBuilder};
use crate::export::ExportError;
use std::time::Duration;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

#[cfg(feature = "otlp")]
use crate::export::otlp::{OtlpConfig, Protocol};

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
/// names the variable and the value ([`InitError::Environment`], with the
/// reason as its source), never a silent default.
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

/// Why telemetry could not be set up. Nothing is left half-installed except
/// where a variant says so.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// An exporter could not be built (bad endpoint, port in use, …).
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
    /// The log filter set in code ([`TelemetryBuilder::log_filter`]) does
    /// not parse (a bad `RUST_LOG` is an [`InitError::Environment`]).
    #[error("invalid log filter `{filter}`")]
    Filter {
        /// The filter.
        filter: String,
        /// The parser's reason.
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
    /// Another global `tracing` subscriber is installed. The metrics exporter
    /// (if any) is installed; use [`TelemetryBuilder::layers`] to compose
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
    /// shut down. The directory is created if missing. `PHOTON_LOG_FILE`
    /// sets it from the environment.
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

    fn apply_environment(&mut self) -> Result<(), InitError> {
        let ignored = self.ignored.clone();
        let var = |name: &'static str| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty() && !ignored.contains(&name))
        };
        let bad = |var: &'static str, value: &str, reason: &dyn std::fmt::Display| {
            InitError::Environment {
                var,
                value: value.to_string(),
                source: reason.to_string().into(),
            }
        };
        if let Some(name) = var("OTEL_SERVICE_NAME") {
            self.service_name = name;
        }
        if let Some(file) = var("PHOTON_LOG_FILE") {
            self.log_file = Some(file.into());
            self.log_file_from_env = true;
        }
        if let Some(format) = var("PHOTON_LOG_FORMAT") {
            self.log_format = LogFormat::parse(&format).ok_or_else(|| {
                bad(
                    "PHOTON_LOG_FORMAT",
                    &format,
                    &"expected json, pretty or off",
                )
            })?;
        }
        if let Some(listen) = var("PHOTON_METRICS_LISTEN") {
            self.metrics = if listen == "off" {
                self.metrics
                    .take()
                    .map(PrometheusExporterBuilder::without_listener)
            } else {
                let base = self.metrics.take().unwrap_or_default();
                Some(
                    base.listen_on(&listen)
                        .map_err(|e| InitError::Environment {
                            var: "PHOTON_METRICS_LISTEN",
                            value: listen.clone(),
                            source: Box::new(e),
                        })?,
                )
            };
        }
        // The argument is checked whenever it is set, and applies to the
        // default sampler (parentbased_traceidratio) when no sampler is named.
        let ratio = match var("OTEL_TRACES_SAMPLER_ARG") {
            None => None,
            Some(a) => Some(
                a.parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| {
                        bad(
                            "OTEL_TRACES_SAMPLER_ARG",
                            &a,
                            &"expected a ratio from 0 to 1",
                        )
                    })?,
            ),
        };
        if let (Some(ratio), Sampling::Ratio { parent_based, .. }) = (ratio, self.sampler) {
            self.sampler = Sampling::Ratio {
                parent_based,
                ratio,
            };
        }
        if let Some(sampler) = var("OTEL_TRACES_SAMPLER") {
            let ratio = ratio.unwrap_or(1.0);
            self.sampler = match sampler.as_str() {
                "always_on" => Sampling::AlwaysOn {
                    parent_based: false,
                },
                "always_off" => Sampling::AlwaysOff {
                    parent_based: false,
                },
                "traceidratio" => Sampling::Ratio {
                    parent_based: false,
                    ratio,
                },
                "parentbased_always_on" => Sampling::AlwaysOn { parent_based: true },
                "parentbased_always_off" => Sampling::AlwaysOff { parent_based: true },
                "parentbased_traceidratio" => Sampling::Ratio {
                    parent_based: true,
                    ratio,
                },
                other => {
                    return Err(bad(
                        "OTEL_TRACES_SAMPLER",
                        other,
                        &"unsupported sampler; expected always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio",
                    ))
                }
            };
        }
        #[cfg(feature = "otlp")]
        {
            let protocol = match var("OTEL_EXPORTER_OTLP_PROTOCOL") {
                Some(p) => Some(Protocol::parse(&p).map_err(|e| InitError::Environment {
                    var: "OTEL_EXPORTER_OTLP_PROTOCOL",
                    value: p.clone(),
                    source: Box::new(e),
                })?),
                None => None,
            };
            let traces = var("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
            let base = var("OTEL_EXPORTER_OTLP_ENDPOINT");
            if traces.is_some() || base.is_some() || protocol.is_some() {
                let mut config = self.otlp.take().unwrap_or_else(|| {
                    OtlpConfig::grpc(crate::export::otlp::DEFAULT_GRPC_ENDPOINT)
                });
                if let Some(protocol) = protocol {
                    if protocol != config.protocol && traces.is_none() && base.is_none() {
                        config.endpoint = match protocol {
                            Protocol::Grpc => crate::export::otlp::DEFAULT_GRPC_ENDPOINT.into(),
                            Protocol::HttpProtobuf => {
                                crate::export::otlp::DEFAULT_HTTP_ENDPOINT.into()
                            }
                        };
                    }
                    config.protocol = protocol;
                }
                // The endpoint is checked here, where the variable it came
                // from is known, so the error can name it.
                let from = |var: &'static str, value: &str, config: &OtlpConfig| {
                    config.validate().map_err(|e| InitError::Environment {
                        var,
                        value: value.to_string(),
                        source: Box::new(e),
                    })
                };
                if let Some(endpoint) = traces {
                    config.endpoint = endpoint.clone();
                    from("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &endpoint, &config)?;
                } else if let Some(endpoint) = base {
                    config.endpoint = match config.protocol {
                        Protocol::Grpc => endpoint.clone(),
                        Protocol::HttpProtobuf => {
                            format!("{}/v1/traces", endpoint.trim_end_matches('/'))
                        }
                    };
                    from("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint, &config)?;
                }
                self.otlp = Some(config);
            }
        }
        Ok(())
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
    /// # Errors
    /// See [`InitError`].
    pub fn install(self) -> Result<TelemetryGuard, InitError> {
        let (layer, guard) = self.layers()?;
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::set_global_default(subscriber)
            .map_err(|_| InitError::SubscriberAlreadySet)?;
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
    pub fn layers(mut self) -> Result<(BoxedLayer, TelemetryGuard), InitError> {
        if self.from_env {
            self.apply_environment()?;
        }
        let filter = self.filter()?;

        #[cfg(feature = "otlp")]
        let (otel_layer, provider, runtime) = match &self.otlp {
            Some(config) => {
                let (layer, provider, runtime) = self.tracing_pipeline(config)?;
                (Some(layer), Some(provider), runtime)
            }
            None => (None, None, None),
        };

        // Install metrics last among the fallible steps that need no undo.
        let metrics = match self.metrics.take() {
            Some(builder) => Some(builder.install()?),
            None => None,
        };

        // Only the layers that exist (an `Option` layer that is `None`
        // reports a maximum level of OFF, which silenced the whole stack),
        // chained rather than collected in a `Vec`: a `Vec` of layers does
        // not pass the dispatch on to its members, and the JSON and
        // exemplar layers need it to ask tracing-opentelemetry for span ids.
        let mut layer: BoxedLayer = Box::new(filter);
        match self.log_format {
            LogFormat::Json => {
                layer = Box::new(layer.and_then(JsonLayer::new(std::io::stdout)));
            }
            LogFormat::Pretty => {
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
            }
            LogFormat::Off => {}
        }
        let mut log_file = None;
        if let Some(path) = &self.log_file {
            let file = rolling_file(path).map_err(|e| match self.log_file_from_env {
                true => InitError::Environment {
                    var: "PHOTON_LOG_FILE",
                    value: path.display().to_string(),
                    source: Box::new(e),
                },
                false => e,
            })?;
            let (writer, guard) = tracing_appender::non_blocking(file);
            layer = Box::new(layer.and_then(JsonLayer::new(writer)));
            log_file = Some(guard);
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
            metrics,
            log_file,
            timeout: self.shutdown_timeout,
            shut_down: false,
        };
        Ok((layer, guard))
    }

    #[cfg(feature = "otlp")]
    #[allow(clippy::type_complexity)]
    fn tracing_pipeline(
        &self,
        config: &OtlpConfig,
    ) -> Result<
        (
            BoxedLayer,
            opentelemetry_sdk::trace::SdkTracerProvider,
            Option<crate::export::otlp::RuntimeThread>,
        ),
        InitError,
    > {
        use opentelemetry::trace::TracerProvider as _;
        use opentelemetry::KeyValue;
        use opentelemetry_sdk::trace::Sampler;
        let pipeline = crate::export::otlp::pipeline(config)?;
        let sampler = match self.sampler {
            Sampling::Ratio {
                parent_based,
                ratio,
            } => wrap(parent_based, Sampler::TraceIdRatioBased(ratio)),
            Sampling::AlwaysOn { parent_based } => wrap(parent_based, Sampler::AlwaysOn),
            Sampling::AlwaysOff { parent_based } => wrap(parent_based, Sampler::AlwaysOff),
        };
        fn wrap(parent_based: bool, sampler: Sampler) -> Sampler {
            if parent_based {
                Sampler::ParentBased(Box::new(sampler))
            } else {
                sampler
            }
        }
        let resource = opentelemetry_sdk::Resource::builder()
            .with_service_name(self.service_name.clone())
            .with_attribute(KeyValue::new(
                "service.version",
                self.service_version.clone(),
            ))
            .build();
        let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
            .with_span_processor(pipeline.processor)
            .with_sampler(sampler)
            .with_resource(resource)
            .build();
        let tracer = provider.tracer("photon-metrics");
        // `with_target(false)`: tracing's target would be a second `target`
        // attribute beside the compile target; `code.module.name` keeps it.
        let layer: BoxedLayer = Box::new(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_target(false),
        );
        Ok((layer, provider, pipeline.runtime))
    }
}

/// A daily-rotated file `<dir>/<stem>.<date>.<ext>` for `<dir>/<stem>.<ext>`.
fn rolling_file(
    path: &std::path::Path,
) -> Result<tracing_appender::rolling::RollingFileAppender, InitError> {
    use tracing_appender::rolling::{RollingFileAppender, Rotation};
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(std::path::Path::new("."));
    let stem = path
        .file_stem()
        .map_or("photon".into(), |s| s.to_string_lossy());
    let ext = path
        .extension()
        .map_or("log".into(), |s| s.to_string_lossy());
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix(stem.as_ref())
        .filename_suffix(ext.as_ref())
        .max_log_files(7)
        .build(dir)
        .map_err(|e| InitError::LogFile {
            path: path.to_path_buf(),
            source: e,
        })
}

/// photon's `tracing` layers, boxed for any `Registry`-based subscriber.
pub type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync + 'static>;

/// Keeps the exporters running. Dropping it (or [`shutdown`](Self::shutdown))
/// flushes pending spans within the configured timeout and stops the trace
/// exporter; the metrics exporter keeps serving for the rest of the process.
#[must_use = "dropping the guard shuts trace export down"]
pub struct TelemetryGuard {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
    #[cfg(feature = "otlp")]
    _runtime: Option<crate::export::otlp::RuntimeThread>,
    metrics: Option<PrometheusExporter>,
    /// Flushes the log file's pending lines when dropped.
    log_file: Option<tracing_appender::non_blocking::WorkerGuard>,
    timeout: Duration,
    shut_down: bool,
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
        // Writes out the log file's pending lines.
        drop(self.log_file.take());
        #[cfg(feature = "otlp")]
        if let Some(provider) = self.provider.take() {
            provider
                .shutdown_with_timeout(self.timeout)
                .map_err(InitError::Shutdown)?;
        }
        Ok(())
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        let _ = self.shutdown_inner();
    }
}
