//! Fault: the OTLP collector is absent, then started, then killed
//! mid-export, while two threads record metrics inside sampled spans. Spans
//! that cannot be delivered are dropped and counted, no record call ever
//! waits on the collector, every metric is exact, and shutdown returns
//! within its bound with the collector gone.

mod support;

use photon_metrics::export::logs::LogFormat;
use photon_metrics::export::otlp::OtlpConfig;
use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::instrument_compile;
use photon_metrics::labels::{ModelType, Target};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::exposition::{parse, value};
use support::model::Model;
use support::rotel::Rotel;

const SHUTDOWN_BOUND: Duration = Duration::from_secs(2);

#[instrument_compile(target = target, model = model)]
fn compile(target: Target, model: &Model) -> Result<u64, std::fmt::Error> {
    photon_metrics::compiler::record_cache_hit(target);
    Ok(model.params)
}

#[test]
fn a_collector_that_comes_and_goes_never_blocks_or_skews_recording() {
    let port = support::free_port();
    let mut otlp = OtlpConfig::grpc(format!("http://127.0.0.1:{port}"));
    otlp.scheduled_delay = Duration::from_millis(200);
    otlp.export_timeout = Duration::from_secs(1);
    otlp.max_queue_size = 256;
    let telemetry = photon_metrics::init()
        .ignore_environment()
        .metrics(PrometheusExporterBuilder::new().without_listener())
        .log_format(LogFormat::Off)
        .otlp(otlp)
        .shutdown_timeout(SHUTDOWN_BOUND)
        .install()
        .unwrap();
    let exporter = telemetry.metrics().unwrap().clone();
    let target = Target::new("mzi-64x64").unwrap();
    let model = Model {
        id: "resnet50",
        arch: ModelType::new("resnet").unwrap(),
        params: 1,
    };
    let stop = AtomicBool::new(false);

    let (calls, slowest) = std::thread::scope(|s| {
        let writers: Vec<_> = (0..2)
            .map(|_| {
                s.spawn(|| {
                    let (mut n, mut slowest) = (0u64, Duration::ZERO);
                    while !stop.load(Ordering::Relaxed) {
                        let t = Instant::now();
                        compile(target, &model).unwrap();
                        slowest = slowest.max(t.elapsed());
                        n += 1;
                        if n % 64 == 0 {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                    }
                    (n, slowest)
                })
            })
            .collect();

        // Absent: exports fail.
        std::thread::sleep(Duration::from_secs(2));
        // Started: spans arrive.
        let rotel = Rotel::start_on(port);
        support::wait_for("spans at the collector", Duration::from_secs(20), || {
            (!rotel.spans().is_empty()).then_some(())
        });
        // Killed mid-export.
        drop(rotel);
        std::thread::sleep(Duration::from_secs(2));
        stop.store(true, Ordering::Relaxed);
        writers
            .into_iter()
            .map(|w| w.join().unwrap())
            .fold((0, Duration::ZERO), |(n, m), (k, s)| (n + k, m.max(s)))
    });

    // Recording never waited for the collector: a call that blocked on an
    // export would take the export timeout (1 s).
    assert!(
        slowest < Duration::from_millis(500),
        "a record call took {slowest:?} while the collector came and went"
    );
    let start = Instant::now();
    let _ = telemetry.shutdown();
    let shutdown = start.elapsed();
    assert!(
        shutdown < SHUTDOWN_BOUND + Duration::from_secs(1),
        "shutdown took {shutdown:?} with the collector gone"
    );

    let samples = parse(&exporter.render());
    let get = |name: &str, labels: &[(&str, &str)]| value(&samples, name, labels).unwrap_or(0.0);
    assert_eq!(
        get("photon_cache_hits_total", &[("target", "mzi-64x64")]),
        calls as f64
    );
    assert_eq!(
        get("photon_compilations_total", &[("status", "success")]),
        calls as f64
    );
    let dropped = get(
        "photon_otlp_spans_dropped_total",
        &[("reason", "export_failed")],
    ) + get(
        "photon_otlp_spans_dropped_total",
        &[("reason", "queue_full")],
    );
    assert!(
        dropped > 0.0,
        "spans lost while the collector was away are counted"
    );
    eprintln!(
        "figures: {calls} instrumented calls, slowest {slowest:?}, {dropped} spans dropped and counted, shutdown {shutdown:?}"
    );
}
