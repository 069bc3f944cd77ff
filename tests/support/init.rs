//! `photon_metrics::init()` as the tests set it up.
#![allow(dead_code)]

use photon_metrics::export::logs::LogFormat;
use photon_metrics::export::prometheus::PrometheusExporterBuilder;

/// The environment variables `init()` reads (its documented table), so a
/// test can start from a clean slate.
pub const VARIABLES: &[&str] = &[
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL",
    "OTEL_SERVICE_NAME",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "RUST_LOG",
    "PHOTON_METRICS_LISTEN",
    "PHOTON_LOG_FORMAT",
    "PHOTON_LOG_FILE",
];

/// `init()` serving `/metrics` on 127.0.0.1:`port`, logs off, the
/// environment ignored.
pub fn quiet_telemetry(port: u16) -> photon_metrics::TelemetryBuilder {
    let metrics = PrometheusExporterBuilder::new()
        .listen_on(&format!("127.0.0.1:{port}"))
        .unwrap();
    photon_metrics::init()
        .ignore_environment()
        .metrics(metrics)
        .log_format(LogFormat::Off)
}

/// The process's one exporter, installed without a listener the first time
/// a test asks, after `setup` (caps, reuse delay, idle expiry: settings that
/// must precede the install). Later calls return the same exporter and do
/// not run their `setup`, so every test of a binary passes the same one.
pub fn installed_once(
    setup: impl FnOnce(),
) -> &'static photon_metrics::export::prometheus::PrometheusExporter {
    static EXPORTER: std::sync::OnceLock<photon_metrics::export::prometheus::PrometheusExporter> =
        std::sync::OnceLock::new();
    EXPORTER.get_or_init(|| {
        setup();
        PrometheusExporterBuilder::new()
            .without_listener()
            .install()
            .unwrap()
    })
}

/// The process's exporter, installed with the web-config file `web` (TLS,
/// basic auth) and listening on a free loopback port, with that address.
/// Keep the exporter bound (`let (_exporter, to) = …`) while the test
/// scrapes: dropping it stops nothing, but it is what the test installed.
pub fn installed_with_web_config(
    web: &std::path::Path,
) -> (
    photon_metrics::export::prometheus::PrometheusExporter,
    std::net::SocketAddr,
) {
    let exporter = PrometheusExporterBuilder::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .web_config_file(web)
        .unwrap()
        .install()
        .unwrap();
    let addr = exporter.local_addr().unwrap();
    (exporter, addr)
}
