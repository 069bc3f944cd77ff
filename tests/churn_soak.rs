//! Churn soak: a fleet that changes all the time stays exact.
//!
//! 64 devices are live at any moment while 100,000 distinct device ids pass
//! through (one retired, one new, as fast as the test can), under the
//! default `device_id` cap of 1,024; meanwhile 10,000 distinct model types
//! are each compiled once and then left to idle expiry. A scraper renders
//! throughout. Checked: not one record folded into `__overflow__`; no scrape
//! ever holds more device series per family than the 64 live devices and
//! the at most 64 retired since the scrape before (served once with their
//! final values), or more model types than the label's cap and those 64;
//! every scrape parses, and sampled
//! scrapes pass `promtool check metrics`; peak RSS stays bounded.
//!
//! The reuse delay is lowered to 20 ms (from 1 s) so slots turn over fast
//! enough for CI: no handle here is used after its value is retired, so the
//! delay's protection is not what this test is about (tests/stale_handles.rs is).

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{self, DeviceId, DeviceType, ModelType, Status, Target};
use photon_metrics::{compiler, hardware};
use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::exposition::{parse, value};
use support::rss::peak_rss_kib;

const LIVE_DEVICES: usize = 64;
const DEVICE_IDS: u64 = 100_000;
const MODEL_TYPES: u64 = 10_000;
/// Model types compiled but not yet expired, at most: keeps the slots that
/// are live or resting well inside the cap of 64, so none folds.
const MODEL_TYPES_IN_FLIGHT: usize = 24;
const RSS_BOUND_KIB: u64 = 32 * 1024;
const REUSE_DELAY: Duration = Duration::from_millis(20);
/// Half of `cap − live` (1,024 − 64): new device ids per reuse delay.
const DEVICES_PER_DELAY: u64 = 480;
/// Retired series one family keeps for the next scrape, at most.
const RETIRED_SERVED_ONCE: usize = 64;

#[test]
fn a_hundred_thousand_devices_and_ten_thousand_models_pass_through_without_folding() {
    labels::set_reuse_delay(REUSE_DELAY);
    labels::set_idle_expiry(
        photon_metrics::labels::ModelType::LABEL,
        Some(Duration::from_millis(30)),
    );
    let exporter = PrometheusExporterBuilder::new()
        .without_listener()
        .install()
        .unwrap();
    let target = Target::new("soak-target").unwrap();
    let rss_before = peak_rss_kib();
    let start = Instant::now();
    let stop = AtomicBool::new(false);

    let (scrapes, promtool_runs, max_devices, max_models) = std::thread::scope(|s| {
        let devices = s.spawn(|| {
            let mut live: VecDeque<DeviceId> = VecDeque::new();
            let mut batch = Instant::now();
            for n in 0..DEVICE_IDS {
                // The documented rate: at most `cap − live` new values per
                // reuse delay; half of it, so a slow scheduler cannot fold.
                if n > 0 && n % DEVICES_PER_DELAY == 0 {
                    if let Some(rest) = REUSE_DELAY.checked_sub(batch.elapsed()) {
                        std::thread::sleep(rest);
                    }
                    batch = Instant::now();
                }
                if live.len() == LIVE_DEVICES {
                    assert!(live.pop_front().unwrap().retire());
                }
                let id = DeviceId::new(&format!("soak-opu-{n}")).unwrap();
                assert!(!id.is_overflow(), "device {n} folded");
                hardware::set_device_status(id, DeviceType::Mzi, true);
                hardware::set_temperature_celsius(id, 40.0);
                hardware::set_optical_power_mw(id, 12.0);
                hardware::set_calibration_drift(id, 0.001);
                live.push_back(id);
            }
        });
        let models = s.spawn(|| {
            for n in 0..MODEL_TYPES {
                let waiting = Instant::now();
                while labels::live_values(photon_metrics::labels::ModelType::LABEL)
                    >= MODEL_TYPES_IN_FLIGHT
                {
                    assert!(
                        waiting.elapsed() < Duration::from_secs(10),
                        "model types stopped expiring"
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
                let model = ModelType::new(&format!("soak-model-{n}")).unwrap();
                assert!(!model.is_overflow(), "model type {n} folded");
                compiler::record_compilation(target, Status::Success, model);
            }
        });
        let scraper = s.spawn(|| {
            let (mut scrapes, mut promtool_runs) = (0u64, 0u64);
            let (mut max_devices, mut max_models) = (0usize, 0usize);
            while !stop.load(Ordering::Relaxed) {
                let text = exporter.render();
                let samples = parse(&text);
                for family in [
                    "photon_device_status",
                    "photon_device_temperature_celsius",
                    "photon_optical_power_mw",
                    "photon_calibration_drift",
                ] {
                    let ids = samples
                        .iter()
                        .filter(|s| s.name == family)
                        .filter_map(|s| s.labels.get("device_id"))
                        .count();
                    assert!(
                        ids <= LIVE_DEVICES + RETIRED_SERVED_ONCE,
                        "{family}: {ids} device series"
                    );
                    max_devices = max_devices.max(ids);
                }
                let models: BTreeSet<&String> = samples
                    .iter()
                    .filter(|s| s.name == "photon_compilations_total")
                    .filter_map(|s| s.labels.get("model_type"))
                    .collect();
                assert!(
                    models.len()
                        <= labels::cap(photon_metrics::labels::ModelType::LABEL)
                            + RETIRED_SERVED_ONCE
                );
                max_models = max_models.max(models.len());
                if scrapes % 50 == 0 {
                    let (ok, report) = support::promtool_check_metrics(&text);
                    assert!(ok, "promtool: {report}");
                    promtool_runs += 1;
                }
                scrapes += 1;
                std::thread::sleep(Duration::from_millis(5));
            }
            (scrapes, promtool_runs, max_devices, max_models)
        });
        devices.join().unwrap();
        models.join().unwrap();
        // Let the last model types expire.
        std::thread::sleep(Duration::from_millis(200));
        stop.store(true, Ordering::Relaxed);
        scraper.join().unwrap()
    });
    let elapsed = start.elapsed();

    let samples = parse(&exporter.render());
    for label in ["device_id", "model_type"] {
        assert_eq!(
            value(
                &samples,
                "photon_metrics_label_overflow_total",
                &[("label", label)]
            ),
            Some(0.0),
            "{label}: records folded into __overflow__"
        );
    }
    assert_eq!(
        value(
            &samples,
            "photon_metrics_label_values",
            &[("label", "device_id")]
        ),
        Some(LIVE_DEVICES as f64)
    );
    assert_eq!(
        labels::live_values(photon_metrics::labels::ModelType::LABEL),
        0,
        "all expired"
    );
    let grown = peak_rss_kib().saturating_sub(rss_before);
    assert!(
        grown < RSS_BOUND_KIB,
        "peak RSS grew {grown} KiB (bound {RSS_BOUND_KIB})"
    );
    eprintln!(
        "figures: {DEVICE_IDS} device ids (64 live) and {MODEL_TYPES} model types (idle expiry 30 ms) in {:.1} s; {scrapes} scrapes ({promtool_runs} through promtool), at most {max_devices} device series per family and {max_models} model types in one scrape; 0 folded; peak RSS +{grown} KiB",
        elapsed.as_secs_f64()
    );
}
