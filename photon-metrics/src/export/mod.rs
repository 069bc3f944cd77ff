//! Exporters: where recorded metrics go.
//!
//! - [`prometheus`]: photon's store served on a `/metrics` listener,
//!   rendered into your own server, or pushed to a Pushgateway (feature
//!   `push-gateway`, see [`prometheus::PrometheusExporterBuilder`]).
//! - [`encode`]: the exposition formats (text 0.0.4, OpenMetrics).
//! - [`exemplars`]: trace ids on counters and histogram buckets.
//! - `otlp` and `logs`: spans to an OpenTelemetry collector, JSON logs.

pub mod encode;
pub mod exemplars;
mod listener;
#[cfg(feature = "logs")]
pub mod logs;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod prometheus;
#[cfg(feature = "push-gateway")]
mod push;
#[cfg(feature = "web-config")]
pub mod web_config;

use std::net::SocketAddr;

/// Why an exporter could not be installed (nothing is half-installed when
/// one of these is returned), or what a running one could not deliver
/// ([`Push`](Self::Push), [`SpansDropped`](Self::SpansDropped)).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// The listen address is not `host:port`.
    #[error("invalid listen address `{input}`: {reason} (expected host:port, e.g. 0.0.0.0:8080)")]
    InvalidAddress {
        /// What was given.
        input: String,
        /// Why it did not parse.
        reason: String,
    },
    /// The listener could not bind, e.g. the port is in use.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's reason.
        #[source]
        source: std::io::Error,
    },
    /// photon-metrics already installed an exporter in this process.
    #[error("a photon-metrics Prometheus exporter is already installed in this process")]
    AlreadyInstalled,
    /// Another `metrics` recorder is already the global recorder.
    #[error("another metrics recorder is already installed globally; use `PrometheusExporterBuilder::build_recorder` to compose with it")]
    ForeignRecorder,
    /// A global label name is not a valid Prometheus label name.
    #[error("invalid global label name `{0}`: must match [a-zA-Z_][a-zA-Z0-9_]* and not start with `__`")]
    InvalidLabelName(String),
    /// The listener's or the pusher's background thread could not be started.
    #[error("cannot start the exporter's background thread")]
    Thread(#[source] std::io::Error),
    /// Histogram buckets that cannot be used.
    #[error("invalid histogram buckets {buckets:?}: {reason}")]
    InvalidBuckets {
        /// What was given.
        buckets: Vec<f64>,
        /// What is wrong with them.
        reason: String,
    },
    /// The metrics path does not start with `/`.
    #[error("invalid metrics path `{0}`: it must start with `/` and contain no spaces")]
    InvalidMetricsPath(String),
    /// The web-config file (TLS, basic auth) cannot be used.
    #[cfg(feature = "web-config")]
    #[error("invalid web config")]
    WebConfig(#[source] web_config::WebConfigError),
    /// An allowlist entry is neither an IP address nor a CIDR network.
    #[error("invalid allowlist entry `{entry}`: {reason} (expected an address or a network such as 10.0.0.0/8)")]
    InvalidAllowlist {
        /// What was given.
        entry: String,
        /// Why it did not parse.
        reason: String,
    },
    /// The Pushgateway URL is not an `http://` URL with a job path.
    #[error("invalid Pushgateway endpoint `{endpoint}`: {reason}")]
    InvalidPushgatewayEndpoint {
        /// What was given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The shared directory of a service's processes cannot be used.
    #[error(transparent)]
    Shared(#[from] crate::shared::SharedDirError),
    /// `push_now` was called on an exporter built without a Pushgateway.
    #[error("no Pushgateway configured; call PrometheusExporterBuilder::push_gateway")]
    NoPushgateway,
    /// The OTLP endpoint is not a usable `http://host:port` URL.
    #[error("invalid OTLP endpoint `{endpoint}`: {reason}")]
    InvalidOtlpEndpoint {
        /// What was given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The OTLP protocol is not one this build speaks.
    #[error("unsupported OTLP protocol `{protocol}`; expected `grpc` or `http/protobuf`")]
    UnsupportedOtlpProtocol {
        /// What was given.
        protocol: String,
    },
    /// Another OTLP setting cannot be used.
    #[error("invalid OTLP setting: {0}")]
    InvalidOtlpConfig(String),
    /// The OTLP exporter could not be built.
    #[error("cannot build the OTLP exporter for `{endpoint}`")]
    OtlpExporter {
        /// The endpoint it was built for.
        endpoint: String,
        /// Why the OTLP client refused.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },
    /// Trace export lost spans: dropped because its queue was full, or in
    /// exports that failed (collector unreachable, refused, too slow).
    /// `TelemetryGuard::shutdown` returns this, in `InitError::Export`,
    /// once export has stopped; the same spans are counted in
    /// `photon_otlp_spans_dropped_total{reason="queue_full"|"export_failed"}`.
    #[error("{dropped} spans were not exported: {queue_full} dropped with the export queue full, {export_failed} in exports that failed (see photon_otlp_spans_dropped_total)")]
    SpansDropped {
        /// Every span lost: `queue_full + export_failed`.
        dropped: u64,
        /// Spans dropped because the export queue was full.
        queue_full: u64,
        /// Spans in exports that failed.
        export_failed: u64,
    },
    /// A push to the Pushgateway failed (unreachable, or refused).
    #[error("push to {endpoint} failed: {reason}")]
    Push {
        /// Where the push went.
        endpoint: String,
        /// The transport error or the gateway's answer.
        reason: String,
    },
}
