//! With the collector unreachable, instrumented code is not blocked, memory
//! stays bounded, dropped spans are counted on /metrics, and shutdown
//! returns within its bound. Bad endpoints are errors, not panics, inside
//! and outside a Tokio runtime.

mod support;

use photon_metrics::export::logs::LogFormat;
use photon_metrics::export::otlp::OtlpConfig;
use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{DeviceType, ModelType, Target};
use photon_metrics::{instrument_compile, instrument_inference, InitError};
use std::time::{Duration, Instant};
use support::rss::peak_rss_kib;

use support::model::Model;

#[instrument_compile(target = target, model = model)]
fn compile(target: Target, model: &Model) -> u64 {
    model.params
}

#[instrument_inference(device = DeviceType::Mzi)]
fn infer() -> u32 {
    1
}

fn dropped(text: &str, reason: &str) -> u64 {
    let prefix = format!("photon_otlp_spans_dropped_total{{reason=\"{reason}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map_or(0, |v| v.parse().unwrap())
}

fn bad_endpoint(endpoint: &str) -> String {
    photon_metrics::init()
        .ignore_environment()
        .without_metrics()
        .log_format(LogFormat::Off)
        .otlp(OtlpConfig::grpc(endpoint))
        .layers()
        .map(|_| ())
        .unwrap_err()
        .to_string()
}

#[test]
fn the_collector_being_down_costs_the_application_nothing() {
    // Invalid endpoints first: clear errors, inside and outside a runtime.
    let outside = bad_endpoint("localhost:4317");
    assert!(
        outside.contains("missing scheme") && outside.contains("localhost:4317"),
        "{outside}"
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let inside = runtime.block_on(async { bad_endpoint("https://collector:4317") });
    assert!(inside.contains("needs TLS"), "{inside}");
    let scheme = bad_endpoint("ftp://collector");
    assert!(scheme.contains("unsupported scheme"), "{scheme}");

    // A valid endpoint nobody listens on, built inside a runtime (the trap:
    // exporter clients that need, or must not be in, a runtime).
    let closed = support::free_port();
    let mut config = OtlpConfig::grpc(format!("http://127.0.0.1:{closed}"));
    config.max_queue_size = 256;
    config.scheduled_delay = Duration::from_millis(100);
    config.export_timeout = Duration::from_millis(300);
    let telemetry = runtime
        .block_on(async {
            photon_metrics::init()
                .ignore_environment()
                .metrics(PrometheusExporterBuilder::new().without_listener())
                .log_format(LogFormat::Off)
                .otlp(config)
                .shutdown_timeout(Duration::from_secs(2))
                .install()
        })
        .expect("an unreachable collector is not an install error");
    drop(runtime);
    let metrics = telemetry.metrics().unwrap().clone();

    let target = Target::new("mzi-64x64").unwrap();
    let model = Model {
        id: "resnet50",
        arch: ModelType::new("resnet").unwrap(),
        params: 25_600_000,
    };
    for _ in 0..1_000 {
        compile(target, &model);
    }
    let before = peak_rss_kib();
    // 200,000 spans against a dead collector: never blocked on the 300 ms
    // export timeout (which would take hours), queue bounded at 256 spans.
    let start = Instant::now();
    for _ in 0..100_000 {
        compile(target, &model);
        infer();
    }
    let burst = start.elapsed();
    let grown_mib = (peak_rss_kib() - before) as f64 / 1024.0;
    assert!(
        burst < Duration::from_secs(60),
        "200,000 spans took {burst:?}: the caller was blocked"
    );
    assert!(
        grown_mib < 32.0,
        "peak RSS grew {grown_mib:.1} MiB over 200,000 dropped spans"
    );

    let text = metrics.render();
    assert!(
        dropped(&text, "queue_full") > 150_000,
        "queue_full drops are counted:\n{text}"
    );
    // Failed exports are counted once the export timeout has passed.
    support::wait_for("an export_failed count", Duration::from_secs(20), || {
        (dropped(&metrics.render(), "export_failed") > 0).then_some(())
    });
    let exported = text
        .lines()
        .find(|l| l.starts_with("photon_compilations_total{"))
        .unwrap();
    assert!(
        exported.ends_with(" 101000"),
        "metrics recording is unaffected: {exported}"
    );

    let start = Instant::now();
    let result = telemetry.shutdown();
    let took = start.elapsed();
    assert!(
        took < Duration::from_secs(5),
        "shutdown took {took:?} against a 2 s bound"
    );
    // A timeout against a dead collector may be reported; it must not hang or panic.
    if let Err(e) = result {
        assert!(matches!(e, InitError::Export(_)), "{e}");
    }
}
