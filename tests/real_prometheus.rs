//! A real Prometheus scrapes the real `/metrics` endpoint; every catalog
//! family must arrive with exactly the values recorded, hostile label values
//! included.

mod support;

use photon_metrics::catalog::{families, Kind};
use photon_metrics::export::logs::LogFormat;
use photon_metrics::export::otlp::OtlpConfig;
use photon_metrics::export::prometheus::{PrometheusExporter, PrometheusExporterBuilder};
use photon_metrics::labels::*;
use photon_metrics::{compiler, hardware, runtime};
use std::collections::BTreeMap;
use std::time::Duration;
use support::Prometheus;

type Labels = BTreeMap<String, String>;

/// What the test recorded: series name → [(labels, value)].
#[derive(Default)]
struct Expected(BTreeMap<String, Vec<(Labels, f64)>>);

impl Expected {
    fn add(&mut self, series: &str, labels: &[(&str, &str)], value: f64) {
        let labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.0
            .entry(series.to_string())
            .or_default()
            .push((labels, value));
    }
}

const HOSTILE_TARGET: &str = "quo\"te back\\slash \\\"both\\\\ new\nline — ünïcödé 字";
/// A global label value that once lost its backslash on the way (`a\"b` → `a"b`).
const HOSTILE_GLOBAL: &str = "a\\\"b \\n";

/// The longest accepted label value: 128 bytes of two-byte characters.
fn longest_target() -> String {
    "é".repeat(photon_metrics::labels::MAX_VALUE_LEN / 2)
}

fn record_everything() -> Expected {
    let mut e = Expected::default();

    // Open labels get a small cap so the overflow path is exercised too.
    set_cap(photon_metrics::labels::Location::LABEL, 1).unwrap();

    let mzi = Target::new("mzi-64x64").unwrap();
    let hostile = Target::new(HOSTILE_TARGET).unwrap();
    let resnet = ModelType::new("resnet50").unwrap();
    let bert = ModelType::new("bert-base").unwrap();

    for _ in 0..3 {
        compiler::record_compilation(mzi, Status::Success, resnet);
    }
    compiler::record_compilation(mzi, Status::Error, bert);
    compiler::record_compilation(hostile, Status::Panic, resnet);
    let longest = Target::new(&longest_target()).unwrap();
    compiler::record_compilation(longest, Status::Cancelled, bert);
    e.add(
        "photon_compilations_total",
        &[
            ("target", &longest_target()),
            ("status", "cancelled"),
            ("model_type", "bert-base"),
        ],
        1.0,
    );
    e.add(
        "photon_compilations_total",
        &[
            ("target", "mzi-64x64"),
            ("status", "success"),
            ("model_type", "resnet50"),
        ],
        3.0,
    );
    e.add(
        "photon_compilations_total",
        &[
            ("target", "mzi-64x64"),
            ("status", "error"),
            ("model_type", "bert-base"),
        ],
        1.0,
    );
    e.add(
        "photon_compilations_total",
        &[
            ("target", HOSTILE_TARGET),
            ("status", "panic"),
            ("model_type", "resnet50"),
        ],
        1.0,
    );

    for secs in [0.3, 1.5, 45.0] {
        compiler::observe_compilation_duration(mzi, 25_600_000, secs);
    }
    compiler::observe_compilation_duration(hostile, 50_000, 0.05);
    let large = [("target", "mzi-64x64"), ("model_size", "large")];
    for (le, n) in [
        ("0.1", 0.0),
        ("0.5", 1.0),
        ("1", 1.0),
        ("2", 2.0),
        ("5", 2.0),
        ("10", 2.0),
        ("30", 2.0),
        ("60", 3.0),
        ("120", 3.0),
        ("+Inf", 3.0),
    ] {
        e.add(
            "photon_compilation_duration_seconds_bucket",
            &[large[0], large[1], ("le", le)],
            n,
        );
    }
    e.add("photon_compilation_duration_seconds_sum", &large, 46.8);
    e.add("photon_compilation_duration_seconds_count", &large, 3.0);
    e.add(
        "photon_compilation_duration_seconds_bucket",
        &[
            ("target", HOSTILE_TARGET),
            ("model_size", "small"),
            ("le", "0.1"),
        ],
        1.0,
    );
    e.add(
        "photon_compilation_duration_seconds_count",
        &[("target", HOSTILE_TARGET), ("model_size", "small")],
        1.0,
    );

    // Two quick runs of canonicalize and a slow, failed one.
    let canonicalize = Pass::new("canonicalize").unwrap();
    compiler::observe_pass_duration(canonicalize, mzi, 0.000_2);
    compiler::observe_pass_duration(canonicalize, mzi, 0.004);
    {
        let mut run = compiler::start_pass(canonicalize, mzi);
        run.fail();
    }
    compiler::observe_pass_duration(canonicalize, mzi, 7.0);
    let pass = [("pass", "canonicalize"), ("target", "mzi-64x64")];
    // The timed run takes microseconds: at or below 5 s, like the quick ones.
    for (le, n) in [("5", 3.0), ("10", 4.0), ("+Inf", 4.0)] {
        e.add(
            "photon_pass_duration_seconds_bucket",
            &[pass[0], pass[1], ("le", le)],
            n,
        );
    }
    e.add("photon_pass_duration_seconds_count", &pass, 4.0);
    e.add("photon_pass_failures_total", &pass, 1.0);

    let unsupported = ErrorKind::new("UnsupportedOp").unwrap();
    compiler::record_compilation_error(mzi, unsupported);
    compiler::record_compilation_error(mzi, unsupported);
    e.add(
        "photon_compilation_errors_total",
        &[("target", "mzi-64x64"), ("error_kind", "UnsupportedOp")],
        2.0,
    );

    for _ in 0..5 {
        compiler::record_cache_hit(mzi);
    }
    compiler::record_cache_miss(mzi);
    compiler::record_cache_miss(mzi);
    e.add("photon_cache_hits_total", &[("target", "mzi-64x64")], 5.0);
    e.add("photon_cache_misses_total", &[("target", "mzi-64x64")], 2.0);

    compiler::set_memory_usage(mzi, MemoryStat::Current, 1_500_000_000);
    compiler::set_memory_usage(mzi, MemoryStat::Peak, 2_000_000_000);
    compiler::set_memory_limit(4_000_000_000);
    e.add(
        "photon_memory_usage_bytes",
        &[("target", "mzi-64x64"), ("memory", "current")],
        1.5e9,
    );
    e.add(
        "photon_memory_usage_bytes",
        &[("target", "mzi-64x64"), ("memory", "peak")],
        2e9,
    );
    e.add("photon_memory_limit_bytes", &[], 4e9);

    let opu0 = DeviceId::new("opu-0").unwrap();
    let opu1 = DeviceId::new("opu-1").unwrap();
    hardware::set_device_status(opu0, DeviceType::Mzi, true);
    hardware::set_device_status(opu1, DeviceType::Microring, false);
    hardware::set_optical_power_mw(opu0, 12.5);
    hardware::set_temperature_celsius(opu0, 41.25);
    hardware::set_calibration_drift(opu0, 0.0025);
    e.add(
        "photon_device_status",
        &[("device_id", "opu-0"), ("device_type", "mzi")],
        1.0,
    );
    e.add(
        "photon_device_status",
        &[("device_id", "opu-1"), ("device_type", "microring")],
        0.0,
    );
    e.add("photon_optical_power_mw", &[("device_id", "opu-0")], 12.5);
    e.add(
        "photon_device_temperature_celsius",
        &[("device_id", "opu-0")],
        41.25,
    );
    e.add(
        "photon_calibration_drift",
        &[("device_id", "opu-0")],
        0.0025,
    );

    hardware::observe_inference_latency(DeviceType::Mzi, 0.000_35);
    hardware::observe_inference_latency(DeviceType::Mzi, 0.002);
    e.add(
        "photon_inference_latency_seconds_bucket",
        &[("device_type", "mzi"), ("le", "0.0001")],
        0.0,
    );
    e.add(
        "photon_inference_latency_seconds_bucket",
        &[("device_type", "mzi"), ("le", "0.0005")],
        1.0,
    );
    e.add(
        "photon_inference_latency_seconds_bucket",
        &[("device_type", "mzi"), ("le", "0.0025")],
        2.0,
    );
    e.add(
        "photon_inference_latency_seconds_sum",
        &[("device_type", "mzi")],
        0.00235,
    );
    e.add(
        "photon_inference_latency_seconds_count",
        &[("device_type", "mzi")],
        2.0,
    );

    let rack_a = Location::new("rack-a").unwrap();
    let rack_b = Location::new("rack-b").unwrap(); // past the cap of 1
    assert!(rack_b.is_overflow());
    hardware::set_active_devices(DeviceType::Mzi, rack_a, 4);
    hardware::set_active_devices(DeviceType::Pcm, rack_b, 2);
    e.add(
        "photon_active_devices",
        &[("device_type", "mzi"), ("location", "rack-a")],
        4.0,
    );
    e.add(
        "photon_active_devices",
        &[("device_type", "pcm"), ("location", "__overflow__")],
        2.0,
    );
    e.add(
        "photon_metrics_label_overflow_total",
        &[("label", "location")],
        1.0,
    );
    e.add("photon_metrics_label_values", &[("label", "location")], 1.0);
    e.add("photon_metrics_label_cap", &[("label", "location")], 1.0);

    // A retired device leaves; a handle kept past it records nothing, counted.
    let gone = DeviceId::new("opu-retired").unwrap();
    hardware::set_temperature_celsius(gone, 80.0);
    assert!(gone.retire());
    hardware::set_temperature_celsius(gone, 81.0);
    e.add(
        "photon_metrics_stale_records_total",
        &[("label", "device_id")],
        1.0,
    );

    let s1 = runtime::start_session();
    let s2 = runtime::start_session();
    let s3 = runtime::start_session();
    drop(s2);
    e.add("photon_active_sessions", &[], 2.0);
    runtime::record_ops(DeviceType::Mzi, 4096, 0.002);
    e.add(
        "photon_inference_ops_total",
        &[("device_type", "mzi")],
        4096.0,
    );
    e.add("photon_throughput_ops_per_second", &[], 2_048_000.0);
    let queued: Vec<_> = (0..7).map(|_| runtime::enqueue()).collect();
    e.add("photon_queue_depth", &[], 7.0);
    let timeout = ErrorKind::new("DeviceTimeout").unwrap();
    for _ in 0..3 {
        runtime::record_runtime_error(timeout);
    }
    e.add(
        "photon_runtime_errors_total",
        &[("error_kind", "DeviceTimeout")],
        3.0,
    );
    std::mem::forget((s1, s3, queued)); // keep the gauges where they are
    e
}

/// Sends spans to a collector nobody runs, with room for one queued span,
/// so `photon_otlp_spans_dropped_total` has values; once the pipeline is shut
/// down they no longer change, and Prometheus must show exactly those.
fn drop_spans(
    telemetry: photon_metrics::TelemetryGuard,
    exporter: &PrometheusExporter,
    e: &mut Expected,
) {
    for _ in 0..200 {
        tracing::info_span!("doomed").in_scope(|| {});
    }
    let _ = telemetry.shutdown();
    let samples = support::exposition::parse(&exporter.render());
    for reason in ["queue_full", "export_failed"] {
        let v = support::exposition::value(
            &samples,
            "photon_otlp_spans_dropped_total",
            &[("service", "photon-test"), ("reason", reason)],
        );
        if let Some(v) = v.filter(|v| *v > 0.0) {
            e.add("photon_otlp_spans_dropped_total", &[("reason", reason)], v);
        }
    }
}

#[test]
fn prometheus_scrapes_every_family_with_the_recorded_values() {
    let mut otlp = OtlpConfig::grpc(format!("http://127.0.0.1:{}", support::free_port()));
    otlp.max_queue_size = 1;
    let telemetry = photon_metrics::init()
        .ignore_environment()
        .metrics(
            PrometheusExporterBuilder::new()
                .listen("127.0.0.1:0".parse().unwrap())
                .global_label("service", "photon-test")
                .global_label("escaped", HOSTILE_GLOBAL),
        )
        .log_format(LogFormat::Off)
        .otlp(otlp)
        .shutdown_timeout(Duration::from_secs(2))
        .install()
        .expect("install metrics and traces");
    let exporter = telemetry.metrics().unwrap().clone();
    let addr = exporter.local_addr().expect("a listener address");
    let mut expected = record_everything();
    drop_spans(telemetry, &exporter, &mut expected);
    assert!(
        expected.0.contains_key("photon_otlp_spans_dropped_total"),
        "spans beyond a queue of one were dropped and counted"
    );

    // Every catalog family is covered by what was recorded.
    for family in families() {
        let covered = expected.0.keys().any(|series| {
            series == family.name
                || (family.kind == Kind::Histogram && series.starts_with(family.name))
        });
        assert!(covered, "the test records nothing for {}", family.name);
    }

    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: photon\n    metrics_path: /metrics\n    static_configs:\n      - targets: ['{addr}']\n"
    );
    let mut prometheus = Prometheus::start(&config, &[]);
    prometheus.wait_for_targets_up(Duration::from_secs(60));
    support::wait_for("a scrape with photon data", Duration::from_secs(30), || {
        let data = prometheus.query("photon_queue_depth").ok()?;
        (!data["result"].as_array()?.is_empty()).then_some(())
    });

    let mut failures = Vec::new();
    for (series, wanted) in &expected.0 {
        let data = prometheus
            .query(series)
            .unwrap_or_else(|e| panic!("query {series}: {e}"));
        let got: Vec<(Labels, f64)> = data["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let mut labels: Labels = serde_json::from_value(r["metric"].clone()).unwrap();
                assert_eq!(labels.remove("__name__").as_deref(), Some(series.as_str()));
                assert_eq!(labels.remove("job").as_deref(), Some("photon"));
                assert_eq!(labels.remove("service").as_deref(), Some("photon-test"));
                assert_eq!(labels.remove("escaped").as_deref(), Some(HOSTILE_GLOBAL));
                labels.remove("instance");
                (
                    labels,
                    r["value"][1].as_str().unwrap().parse::<f64>().unwrap(),
                )
            })
            .collect();
        for (labels, value) in wanted {
            match got.iter().find(|(l, _)| l == labels) {
                Some((_, v)) if (v - value).abs() <= 1e-9 * value.abs().max(1.0) => {}
                Some((_, v)) => {
                    failures.push(format!("{series}{labels:?}: got {v}, recorded {value}"))
                }
                None => failures.push(format!(
                    "{series}{labels:?}: missing; Prometheus has {got:?}"
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
