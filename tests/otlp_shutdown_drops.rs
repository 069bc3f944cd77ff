//! `TelemetryGuard::shutdown()` says when spans were lost: with the
//! collector unreachable and a small queue, it returns
//! `ExportError::SpansDropped` with the count and the reasons, the same
//! spans `photon_otlp_spans_dropped_total` counts; with a collector that
//! takes every span, it returns `Ok`. Each pipeline's layers go to a
//! subscriber of the test's own (`layers()`), so both run in one process.

mod support;

use photon_metrics::export::logs::LogFormat;
use photon_metrics::export::otlp::OtlpConfig;
use photon_metrics::export::ExportError;
use photon_metrics::{InitError, TelemetryGuard};
use std::time::Duration;
use support::rotel::Rotel;
use tracing_subscriber::layer::SubscriberExt;

/// Layers exporting to `endpoint` with a queue of `queue` spans; `spans`
/// spans ended through them as fast as the caller can.
fn export_spans(endpoint: String, queue: usize, spans: usize) -> TelemetryGuard {
    let mut config = OtlpConfig::grpc(endpoint);
    config.max_queue_size = queue;
    config.scheduled_delay = Duration::from_millis(100);
    config.export_timeout = Duration::from_millis(500);
    let (layer, guard) = photon_metrics::init()
        .ignore_environment()
        .without_metrics()
        .log_format(LogFormat::Off)
        .otlp(config)
        .shutdown_timeout(Duration::from_secs(2))
        .layers()
        .unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..spans {
            tracing::info_span!("work", i).in_scope(|| {});
        }
    });
    guard
}

#[test]
fn shutdown_reports_the_spans_an_unreachable_collector_lost() {
    let closed = support::free_port();
    let guard = export_spans(format!("http://127.0.0.1:{closed}"), 8, 100);
    match guard.shutdown() {
        Err(InitError::Export(ExportError::SpansDropped {
            dropped,
            queue_full,
            export_failed,
        })) => {
            assert_eq!(dropped, queue_full + export_failed);
            // 100 spans, at most 8 waiting: the rest dropped at the queue,
            // and every admitted one failed to export.
            assert_eq!(
                dropped, 100,
                "queue_full {queue_full}, export_failed {export_failed}"
            );
            assert!(queue_full >= 92 - 8, "queue_full {queue_full}");
            assert!(export_failed >= 1, "export_failed {export_failed}");
        }
        other => panic!("shutdown must report the lost spans, got {other:?}"),
    }
}

#[test]
fn shutdown_is_ok_when_every_span_arrived() {
    let rotel = Rotel::start();
    let guard = export_spans(format!("http://127.0.0.1:{}", rotel.grpc), 2048, 20);
    guard.shutdown().expect("no span was lost");
    support::wait_for("20 spans at the collector", Duration::from_secs(20), || {
        (rotel.spans().iter().filter(|s| s.name == "work").count() == 20).then_some(())
    });
}
