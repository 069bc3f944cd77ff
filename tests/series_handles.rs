//! Handles (`compiler::compilations(…)`, `runtime::active_sessions()`, …)
//! keep every guarantee of the record helpers: they record into their
//! series, exemplars included; integer gauges stay whole; a handle to a
//! retired value never writes into the series of the value that takes its
//! slot next, and its records are counted as stale; a handle's records
//! clear the idle mark, so a series recorded only through a handle never
//! expires while it is busy, and expires once it is not; and a handle made
//! under another recorder records into that one.

mod support;

use photon_metrics::export::encode::Format;
use photon_metrics::export::exemplars::{with_trace_context, TraceContext};
use photon_metrics::export::prometheus::PrometheusExporter;
use photon_metrics::labels::{
    self, DeviceId, DeviceType, ErrorKind, Location, ModelType, Status, Target,
};
use photon_metrics::{compiler, hardware, runtime};
use std::time::{Duration, Instant};
use support::exposition::{parse, value};

/// Device ids have two slots here, so a retired device's slot is reused at once.
const DEVICE_CAP: usize = 2;

fn exporter() -> &'static PrometheusExporter {
    support::init::installed_once(|| {
        labels::set_cap(photon_metrics::labels::DeviceId::LABEL, DEVICE_CAP).unwrap();
        labels::set_reuse_delay(Duration::from_millis(20));
        labels::set_idle_expiry(
            photon_metrics::labels::Location::LABEL,
            Some(Duration::from_millis(400)),
        );
    })
}

#[test]
fn handles_record_into_their_series_and_exist_from_the_start() {
    let exporter = exporter();
    let target = Target::new("handles-target").unwrap();
    let model = ModelType::new("handles-model").unwrap();
    let compiled = compiler::compilations(target, Status::Success, model);
    let duration = compiler::compilation_duration(target, 25_600_000);
    let memory = compiler::memory_usage(target, labels::MemoryStat::Current);
    let ops = runtime::inference_ops(DeviceType::Pcm);

    // Made, not yet recorded: the counter is there at 0.
    let samples = parse(&exporter.render());
    let compilations = &[
        ("target", "handles-target"),
        ("status", "success"),
        ("model_type", "handles-model"),
    ];
    assert_eq!(
        value(&samples, "photon_compilations_total", compilations),
        Some(0.0)
    );

    for _ in 0..5 {
        compiled.inc();
    }
    compiled.add(10);
    // A helper and a handle reach the same series.
    compiler::record_compilation(target, Status::Success, model);
    duration.observe(0.3);
    duration.observe(7.0);
    memory.set(1.5e9);
    memory.add(0.5e9);
    memory.sub(1.0e9);
    let before = value(
        &parse(&exporter.render()),
        "photon_inference_ops_total",
        &[("device_type", "pcm")],
    )
    .unwrap();
    ops.add(4096);

    let samples = parse(&exporter.render());
    assert_eq!(
        value(&samples, "photon_compilations_total", compilations),
        Some(16.0)
    );
    let size = &[("target", "handles-target"), ("model_size", "large")];
    assert_eq!(
        value(&samples, "photon_compilation_duration_seconds_count", size),
        Some(2.0)
    );
    assert_eq!(
        value(&samples, "photon_compilation_duration_seconds_sum", size),
        Some(7.3)
    );
    assert_eq!(
        value(
            &samples,
            "photon_memory_usage_bytes",
            &[("target", "handles-target"), ("memory", "current")]
        ),
        Some(1.0e9)
    );
    assert_eq!(
        value(
            &samples,
            "photon_inference_ops_total",
            &[("device_type", "pcm")]
        ),
        Some(before + 4096.0)
    );
    // A handle is cheap to copy, and a copy is the same series.
    let copy = compiled.clone();
    copy.inc();
    assert_eq!(
        value(
            &parse(&exporter.render()),
            "photon_compilations_total",
            compilations
        ),
        Some(17.0)
    );
    assert!(format!("{compiled:?}").contains("photon_compilations_total"));
}

#[test]
fn integer_gauges_stay_whole_through_handles_helpers_and_the_facade() {
    let exporter = exporter();
    let rack = Location::new("handles-rack").unwrap();
    let devices = hardware::active_devices(DeviceType::Mzi, rack);
    devices.set(5);
    devices.inc();
    devices.add(3);
    devices.sub(2);
    devices.dec();
    let samples = parse(&exporter.render());
    let at = &[("device_type", "mzi"), ("location", "handles-rack")];
    assert_eq!(value(&samples, "photon_active_devices", at), Some(6.0));
    // The text is an integer, not a float.
    let text = exporter.render();
    assert!(
        text.lines()
            .any(|l| l == "photon_active_devices{device_type=\"mzi\",location=\"handles-rack\"} 6"),
        "{text}"
    );

    // The helper sets it exactly, beyond f64's 2^53, and the text says so.
    hardware::set_active_devices(DeviceType::Mzi, rack, (1 << 60) + 1);
    let text = exporter.render();
    assert!(
        text.lines().any(|l| l
            == "photon_active_devices{device_type=\"mzi\",location=\"handles-rack\"} 1152921504606846977"),
        "{text}"
    );
    hardware::set_active_devices(DeviceType::Mzi, rack, 2);

    // The facade's f64 rounds to the nearest whole number.
    metrics::gauge!("photon_active_devices", "device_type" => "mzi", "location" => "handles-rack")
        .increment(1.4);
    let samples = parse(&exporter.render());
    assert_eq!(value(&samples, "photon_active_devices", at), Some(3.0));
}

#[test]
fn session_and_queue_handles_and_guards_share_one_integer_series() {
    let exporter = exporter();
    let sessions = runtime::active_sessions();
    let queue = runtime::queue_depth();
    let reading = |name: &str| value(&parse(&exporter.render()), name, &[]).unwrap();
    let (s0, q0) = (
        reading("photon_active_sessions"),
        reading("photon_queue_depth"),
    );
    let guard = runtime::start_session();
    sessions.add(2);
    let queued = runtime::enqueue();
    queue.inc();
    assert_eq!(reading("photon_active_sessions"), s0 + 3.0);
    assert_eq!(reading("photon_queue_depth"), q0 + 2.0);
    drop(guard);
    drop(queued);
    sessions.sub(2);
    queue.dec();
    assert_eq!(reading("photon_active_sessions"), s0);
    assert_eq!(reading("photon_queue_depth"), q0);
}

#[test]
fn a_retired_value_handle_never_writes_the_series_that_reuses_its_slot() {
    let exporter = exporter();
    let stale_before = labels::stale_records(photon_metrics::labels::DeviceId::LABEL);
    // Fill both slots, keep a handle to each, retire the first.
    let old = DeviceId::new("handles-old").unwrap();
    let other = DeviceId::new("handles-other").unwrap();
    assert!(!old.is_overflow() && !other.is_overflow());
    let old_temperature = hardware::temperature_celsius(old);
    let old_power = hardware::optical_power_mw(old);
    old_temperature.set(41.0);
    old_power.set(3.0);
    assert!(old.retire());
    std::thread::sleep(Duration::from_millis(60));

    // A new device takes the freed slot (the cap allows no other).
    let new = loop {
        let d = DeviceId::new("handles-new").unwrap();
        if !d.is_overflow() {
            break d;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    hardware::set_temperature_celsius(new, 20.0);
    let new_power = hardware::optical_power_mw(new);
    new_power.set(1.0);

    // The old handles record nothing now, and every record is counted.
    for i in 0..100 {
        old_temperature.set(1000.0 + i as f64);
        old_power.add(1.0);
    }
    let samples = parse(&exporter.render());
    assert_eq!(
        value(
            &samples,
            "photon_device_temperature_celsius",
            &[("device_id", "handles-new")]
        ),
        Some(20.0)
    );
    assert_eq!(
        value(
            &samples,
            "photon_optical_power_mw",
            &[("device_id", "handles-new")]
        ),
        Some(1.0)
    );
    assert!(!samples
        .iter()
        .any(|s| s.labels.get("device_id").map(String::as_str) == Some("handles-old")));
    assert_eq!(
        labels::stale_records(photon_metrics::labels::DeviceId::LABEL),
        stale_before + 200
    );
    assert!(new.retire() && other.retire());
}

#[test]
fn a_handle_keeps_its_series_from_expiring_while_it_records_and_not_after() {
    let exporter = exporter();
    let busy = Location::new("handles-rack-busy").unwrap();
    let quiet = Location::new("handles-rack-quiet").unwrap();
    let busy_handle = hardware::active_devices(DeviceType::Pcm, busy);
    let quiet_handle = hardware::active_devices(DeviceType::Pcm, quiet);
    quiet_handle.set(1);
    // Every render sweeps (marks idle); only the busy handle records between.
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        busy_handle.inc();
        exporter.render();
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = exporter.render();
    assert!(busy.is_live());
    assert!(text.contains("handles-rack-busy"), "{text}");
    assert!(!quiet.is_live());
    assert!(!text.contains("handles-rack-quiet"), "{text}");
    // The expired value's handle now records nothing, counted as stale.
    let stale = labels::stale_records(photon_metrics::labels::Location::LABEL);
    quiet_handle.set(9);
    assert_eq!(
        labels::stale_records(photon_metrics::labels::Location::LABEL),
        stale + 1
    );
    assert!(!exporter.render().contains("handles-rack-quiet"));
}

#[test]
fn a_counter_handle_in_a_sampled_span_carries_its_exemplar() {
    let exporter = exporter();
    let target = Target::new("handles-exemplar").unwrap();
    let errors = compiler::compilation_errors(target, ErrorKind::new("HandleOp").unwrap());
    let latency = hardware::inference_latency(DeviceType::Hybrid);
    let trace = TraceContext {
        trace_id: 0x0af7_6519_16cd_43dd_8448_eb21_1c80_319c,
        span_id: 0xb7ad_6b71_6920_3331,
    };
    with_trace_context(trace, || {
        errors.inc();
        latency.observe(0.000_2);
    });
    let text = exporter.render_as(Format::OpenMetrics);
    let line = text
        .lines()
        .find(|l| l.starts_with("photon_compilation_errors_total{") && l.contains("HandleOp"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains(
            "# {trace_id=\"0af7651916cd43dd8448eb211c80319c\",span_id=\"b7ad6b7169203331\"} 1"
        ),
        "{line}"
    );
    assert!(
        text.lines().any(|l| l
            .starts_with("photon_inference_latency_seconds_bucket{device_type=\"hybrid\"")
            && l.contains("trace_id=\"0af7651916cd43dd8448eb211c80319c\"")),
        "{text}"
    );
}

#[test]
fn a_handle_made_under_a_local_recorder_records_there() {
    exporter();
    let recorder = metrics_util::debugging::DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let target = Target::new("handles-local").unwrap();
    let (hits, sessions) = metrics::with_local_recorder(&recorder, || {
        (compiler::cache_hits(target), runtime::active_sessions())
    });
    // Outside the closure: the handles still go to the recorder they were made under.
    hits.add(3);
    sessions.add(2);
    sessions.dec();
    let snapshot = snapshotter.snapshot().into_hashmap();
    let (counter, gauge) = snapshot
        .iter()
        .fold((None, None), |(c, g), (key, (_, _, v))| {
            match (key.key().name(), v) {
                ("photon_cache_hits_total", metrics_util::debugging::DebugValue::Counter(n)) => {
                    assert!(key
                        .key()
                        .labels()
                        .any(|l| l.key() == "target" && l.value() == "handles-local"));
                    (Some(*n), g)
                }
                ("photon_active_sessions", metrics_util::debugging::DebugValue::Gauge(x)) => {
                    (c, Some(x.into_inner()))
                }
                _ => (c, g),
            }
        });
    assert_eq!(counter, Some(3));
    assert_eq!(gauge, Some(1.0));
    // And photon's store did not see them.
    assert!(!exporter().render().contains("handles-local"));
}
