//! Series lifecycle as a user sees it in `/metrics`: retiring a label value
//! removes its series from every family at once, frees its slot, leaves old
//! handles harmless, and counters that come back start from 0; idle expiry
//! retires values nobody records; the headroom gauges say how full each
//! label is.

mod support;

use photon_metrics::export::prometheus::PrometheusExporter;
use photon_metrics::labels::{
    self, DeviceId, DeviceType, ErrorKind, Location, ModelType, Status, Target, RETIRED_VALUE,
};
use photon_metrics::{compiler, hardware, runtime};
use std::time::{Duration, Instant};
use support::exposition::{parse, value};

fn exporter() -> &'static PrometheusExporter {
    support::init::installed_once(|| {
        labels::set_idle_expiry(
            photon_metrics::labels::Location::LABEL,
            Some(Duration::from_millis(400)),
        );
    })
}

fn series_with(text: &str, label: &str, value: &str) -> Vec<String> {
    let needle = format!("{label}=\"{value}\"");
    text.lines()
        .filter(|l| !l.starts_with('#') && l.contains(&needle))
        .map(str::to_string)
        .collect()
}

#[test]
fn retiring_a_device_removes_its_series_from_every_family_at_once() {
    let exporter = exporter();
    let gone = DeviceId::new("lifecycle-opu-gone").unwrap();
    let kept = DeviceId::new("lifecycle-opu-kept").unwrap();
    for d in [gone, kept] {
        hardware::set_device_status(d, DeviceType::Mzi, false);
        hardware::set_temperature_celsius(d, 75.0);
        hardware::set_optical_power_mw(d, 12.0);
        hardware::set_calibration_drift(d, 0.01);
    }
    let before = exporter.render();
    assert_eq!(series_with(&before, "device_id", &gone.as_str()).len(), 4);

    let stale_copy = gone;
    assert!(gone.retire());
    assert!(!gone.retire(), "a second retire has nothing to do");
    assert!(
        !DeviceId::OVERFLOW.retire(),
        "the overflow value is never retired"
    );

    // The render after a retirement serves the retired series once more,
    // with their final values (tests/retire_final_values.rs); the one after
    // lacks them.
    let _served_once = exporter.render();
    let after = exporter.render();
    assert!(
        series_with(&after, "device_id", "lifecycle-opu-gone").is_empty(),
        "{after}"
    );
    assert_eq!(
        series_with(&after, "device_id", "lifecycle-opu-kept").len(),
        4
    );

    // The copy made before the retirement records nothing, and says so.
    let stale_before = labels::stale_records(photon_metrics::labels::DeviceId::LABEL);
    hardware::set_temperature_celsius(stale_copy, 99.0);
    hardware::set_device_status(stale_copy, DeviceType::Mzi, true);
    assert_eq!(
        labels::stale_records(photon_metrics::labels::DeviceId::LABEL),
        stale_before + 2
    );
    assert_eq!(stale_copy.as_str(), RETIRED_VALUE);
    assert!(!stale_copy.is_live());
    let text = exporter.render();
    assert!(!text.contains("lifecycle-opu-gone"));
    assert!(!text.contains(RETIRED_VALUE));
    let samples = parse(&text);
    assert!(
        value(
            &samples,
            "photon_metrics_stale_records_total",
            &[("label", "device_id")]
        )
        .unwrap()
            >= (stale_before + 2) as f64
    );
}

#[test]
fn retiring_a_model_type_removes_it_under_every_target_and_status() {
    let exporter = exporter();
    let model = ModelType::new("lifecycle-bert").unwrap();
    let other = ModelType::new("lifecycle-resnet").unwrap();
    for t in ["lifecycle-mzi", "lifecycle-ring"] {
        let target = Target::new(t).unwrap();
        for status in [Status::Success, Status::Error] {
            compiler::record_compilation(target, status, model);
            compiler::record_compilation(target, status, other);
        }
    }
    assert_eq!(
        series_with(&exporter.render(), "model_type", "lifecycle-bert").len(),
        4
    );
    assert!(model.retire());
    // The render after a retirement serves the retired series once more,
    // with their final values (tests/retire_final_values.rs); the one after
    // lacks them.
    let _served_once = exporter.render();
    let text = exporter.render();
    assert!(series_with(&text, "model_type", "lifecycle-bert").is_empty());
    assert_eq!(
        series_with(&text, "model_type", "lifecycle-resnet").len(),
        4
    );
}

#[test]
fn a_counter_that_comes_back_starts_from_zero() {
    let exporter = exporter();
    let kind = ErrorKind::new("lifecycle-timeout").unwrap();
    for _ in 0..5 {
        runtime::record_runtime_error(kind);
    }
    let labels = [("error_kind", "lifecycle-timeout")];
    let samples = parse(&exporter.render());
    assert_eq!(
        value(&samples, "photon_runtime_errors_total", &labels),
        Some(5.0)
    );
    assert!(kind.retire());
    // The render after a retirement serves the retired series once more,
    // with their final values (tests/retire_final_values.rs); the one after
    // lacks them.
    let _served_once = exporter.render();
    let samples = parse(&exporter.render());
    assert_eq!(
        value(&samples, "photon_runtime_errors_total", &labels),
        None
    );

    let again = ErrorKind::new("lifecycle-timeout").unwrap();
    assert_ne!(again, kind, "a new value, not the old handle");
    runtime::record_runtime_error(again);
    runtime::record_runtime_error(kind); // stale: dropped
    let samples = parse(&exporter.render());
    assert_eq!(
        value(&samples, "photon_runtime_errors_total", &labels),
        Some(1.0)
    );
}

#[test]
fn headroom_gauges_follow_live_values_and_caps() {
    let exporter = exporter();
    let a = Target::new("lifecycle-headroom-a").unwrap();
    let _b = Target::new("lifecycle-headroom-b").unwrap();
    let read = || {
        let samples = parse(&exporter.render());
        let live = value(
            &samples,
            "photon_metrics_label_values",
            &[("label", "target")],
        )
        .unwrap();
        let cap = value(&samples, "photon_metrics_label_cap", &[("label", "target")]).unwrap();
        (live, cap)
    };
    let (live, cap) = read();
    assert_eq!(
        cap,
        labels::cap(photon_metrics::labels::Target::LABEL) as f64
    );
    assert_eq!(cap, 32.0);
    assert!(live >= 2.0);
    assert_eq!(
        live,
        labels::live_values(photon_metrics::labels::Target::LABEL) as f64
    );
    a.retire();
    assert_eq!(
        read().0,
        labels::live_values(photon_metrics::labels::Target::LABEL) as f64
    );
    let samples = parse(&exporter.render());
    assert_eq!(
        value(
            &samples,
            "photon_metrics_label_cap",
            &[("label", "device_id")]
        ),
        Some(1024.0)
    );
}

#[test]
fn a_value_nobody_records_expires_by_itself_and_a_busy_one_stays() {
    let exporter = exporter();
    let quiet = Location::new("lifecycle-rack-quiet").unwrap();
    let busy = Location::new("lifecycle-rack-busy").unwrap();
    hardware::set_active_devices(DeviceType::Pcm, quiet, 3);
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(1500) {
        hardware::set_active_devices(DeviceType::Pcm, busy, 4);
        exporter.render();
        std::thread::sleep(Duration::from_millis(50));
    }
    let text = exporter.render();
    assert!(!text.contains("lifecycle-rack-quiet"), "{text}");
    assert!(!quiet.is_live());
    assert!(busy.is_live());
    assert_eq!(
        series_with(&text, "location", "lifecycle-rack-busy").len(),
        1,
        "{text}"
    );
    // device_id has no idle expiry by default: a silent device stays.
    assert_eq!(
        labels::idle_expiry(photon_metrics::labels::DeviceId::LABEL),
        None
    );
    assert_eq!(
        labels::idle_expiry(photon_metrics::labels::ModelType::LABEL),
        Some(Duration::from_secs(24 * 3600))
    );
}
