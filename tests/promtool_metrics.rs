//! `promtool check metrics` (the real one) finds no problem in the exposition
//! of the full catalog.

mod support;

use photon_metrics::catalog::families;
use photon_metrics::export::logs::LogFormat;
use photon_metrics::export::otlp::OtlpConfig;
use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::*;
use photon_metrics::{compiler, hardware, runtime};

#[test]
fn promtool_finds_no_problem_in_the_full_catalog() {
    support::require_binary("promtool", "prometheus"); // fail early, before any set-up
    let mut otlp = OtlpConfig::grpc(format!("http://127.0.0.1:{}", support::free_port()));
    otlp.max_queue_size = 1;
    let telemetry = photon_metrics::init()
        .ignore_environment()
        .metrics(PrometheusExporterBuilder::new().without_listener())
        .log_format(LogFormat::Off)
        .otlp(otlp)
        .shutdown_timeout(std::time::Duration::from_secs(2))
        .install()
        .unwrap();
    let exporter = telemetry.metrics().unwrap().clone();
    for _ in 0..100 {
        tracing::info_span!("doomed").in_scope(|| {}); // spans dropped: the self-metric
    }
    let _ = telemetry.shutdown();

    let t = Target::new("mzi-64x64").unwrap();
    let m = ModelType::new("resnet50").unwrap();
    let k = ErrorKind::new("UnsupportedOp").unwrap();
    let d = DeviceId::new("opu-0").unwrap();
    set_cap(photon_metrics::labels::Location::LABEL, 1).unwrap();
    let loc = Location::new("rack-a").unwrap();
    let _ = Location::new("rack-b").unwrap(); // overflow self-metric
    for status in Status::ALL {
        compiler::record_compilation(t, *status, m);
    }
    compiler::observe_compilation_duration(t, 10, 0.2);
    compiler::record_compilation_error(t, k);
    compiler::record_cache_hit(t);
    compiler::record_cache_miss(t);
    compiler::set_memory_usage(t, MemoryStat::Current, 1);
    compiler::set_memory_limit(2);
    hardware::set_device_status(d, DeviceType::Mzi, true);
    hardware::set_optical_power_mw(d, 1.0);
    hardware::set_temperature_celsius(d, 30.0);
    hardware::set_calibration_drift(d, 0.1);
    hardware::observe_inference_latency(DeviceType::Mzi, 0.001);
    hardware::set_active_devices(DeviceType::Mzi, loc, 1);
    let _s = runtime::start_session();
    runtime::record_ops(DeviceType::Mzi, 10, 0.1);
    runtime::set_queue_depth(1);
    runtime::record_runtime_error(k);

    let text = exporter.render();
    for family in families() {
        assert!(
            text.contains(&format!("# TYPE {} {}", family.name, family.kind.as_str())),
            "{}:\n{text}",
            family.name
        );
        assert!(
            text.contains(&format!("# HELP {} {}", family.name, family.help)),
            "{}",
            family.name
        );
    }

    let (passed, report) = support::promtool_check_metrics(&text);
    assert!(
        passed && report.trim().is_empty(),
        "promtool:\n{report}\n{text}"
    );
}
