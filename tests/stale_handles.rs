//! The ABA test of series lifecycle: one thread retires label values and
//! brings up new ones as fast as slots free up (so every slot serves value
//! after value), another keeps recording through handles copied before
//! their values were retired, and a third scrapes. Each value's records
//! carry a value-unique amount, so a record that landed in another value's
//! series would show.
//!
//! Checked: just before each retirement, the value's counters are exactly
//! what was recorded through it (idle sweeps run at every render too); no
//! scrape ever shows a device temperature other than its own
//! device's number (or 0, just created); no error counter ever goes down
//! or comes back after its value left; once joined, every live value's
//! counters equal exactly what was recorded through live handles, and
//! every record through a retired handle was dropped and counted in
//! `photon_metrics_stale_records_total`.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{self, DeviceId, ErrorKind, Target};
use photon_metrics::{compiler, hardware, runtime};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use support::exposition::{parse, value};

const CAP: usize = 8;
const LIVE: usize = 4;
const RUN: Duration = Duration::from_secs(3);

fn number(text: &str) -> u64 {
    text[1..].parse().unwrap()
}

#[test]
fn old_handles_never_write_into_the_values_that_reuse_their_slots() {
    labels::set_cap(photon_metrics::labels::ErrorKind::LABEL, CAP).unwrap();
    labels::set_cap(photon_metrics::labels::DeviceId::LABEL, CAP).unwrap();
    labels::set_reuse_delay(Duration::from_millis(50));
    // Never reached in this run, but every render now sweeps: records race
    // with the idle marks too, and must still all be counted.
    labels::set_idle_expiry(
        photon_metrics::labels::ErrorKind::LABEL,
        Some(Duration::from_secs(600)),
    );
    let exporter = PrometheusExporterBuilder::new()
        .without_listener()
        .install()
        .unwrap();
    let target = Target::new("aba-target").unwrap();

    let stop = AtomicBool::new(false);
    // Handles copied while live, for the old-handle thread.
    let copies: Mutex<Vec<(DeviceId, u64)>> = Mutex::new(Vec::new());
    let retired_kinds: Mutex<Vec<ErrorKind>> = Mutex::new(Vec::new());
    let stale_kind_records = AtomicU64::new(0);

    let (live, reuses, scrapes, old_writes) = std::thread::scope(|s| {
        let retirer = s.spawn(|| {
            let mut live: VecDeque<(u64, ErrorKind, DeviceId, u64)> = VecDeque::new();
            let (mut n, mut reuses) = (0u64, 0u64);
            let start = Instant::now();
            while start.elapsed() < RUN {
                if live.len() < LIVE {
                    let kind = ErrorKind::new(&format!("k{n}")).unwrap();
                    let device = DeviceId::new(&format!("d{n}")).unwrap();
                    match (kind.is_overflow(), device.is_overflow()) {
                        (false, false) => {
                            copies.lock().unwrap().push((device, n));
                            live.push_back((n, kind, device, 0));
                            n += 1;
                        }
                        // Every free slot is still resting: undo and wait.
                        (false, true) => drop(kind.retire()),
                        (true, false) => drop(device.retire()),
                        (true, true) => {}
                    }
                }
                for (n, kind, device, count) in live.iter_mut() {
                    for _ in 0..(*n % 5 + 1) {
                        runtime::record_runtime_error(*kind);
                        compiler::record_compilation_error(target, *kind);
                        *count += 1;
                    }
                    hardware::set_temperature_celsius(*device, *n as f64);
                }
                if live.len() == LIVE {
                    let (_, kind, device, count) = live.pop_front().unwrap();
                    // Up to its retirement, every record to a live value is counted.
                    let samples = parse(&exporter.render());
                    assert_eq!(
                        value(
                            &samples,
                            "photon_runtime_errors_total",
                            &[("error_kind", &kind.as_str())]
                        ),
                        Some(count as f64),
                        "{kind:?} before its retirement"
                    );
                    assert!(kind.retire() && device.retire());
                    retired_kinds.lock().unwrap().push(kind);
                    reuses += 1;
                }
            }
            stop.store(true, Ordering::Relaxed);
            (live, reuses)
        });
        let old_handles = s.spawn(|| {
            let mut writes = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let devices = copies.lock().unwrap().clone();
                let kinds = retired_kinds.lock().unwrap().clone();
                for (device, n) in devices.iter().rev().take(64) {
                    hardware::set_temperature_celsius(*device, *n as f64);
                    writes += 1;
                }
                for kind in kinds.iter().rev().take(64) {
                    runtime::record_runtime_error(*kind);
                    compiler::record_compilation_error(target, *kind);
                    stale_kind_records.fetch_add(2, Ordering::Relaxed);
                }
            }
            writes
        });
        let scraper = s.spawn(|| {
            let mut last: BTreeMap<(String, String), f64> = BTreeMap::new();
            let mut gone: Vec<(String, String)> = Vec::new();
            let mut scrapes = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let samples = parse(&exporter.render());
                let mut now = BTreeMap::new();
                for s in &samples {
                    if s.name == "photon_device_temperature_celsius" {
                        let id = &s.labels["device_id"];
                        assert!(
                            s.value == 0.0 || s.value == number(id) as f64,
                            "{id} shows {} : another value's record",
                            s.value
                        );
                    }
                    if let Some(kind) = s.labels.get("error_kind") {
                        now.insert((s.name.clone(), kind.clone()), s.value);
                    }
                }
                for (key, before) in &last {
                    match now.get(key) {
                        Some(after) => assert!(after >= before, "{key:?}: {before} -> {after}"),
                        None => gone.push(key.clone()),
                    }
                }
                for key in &gone {
                    assert!(!now.contains_key(key), "{key:?} came back after it left");
                }
                last = now;
                scrapes += 1;
            }
            scrapes
        });
        let (live, reuses) = retirer.join().unwrap();
        (
            live,
            reuses,
            scraper.join().unwrap(),
            old_handles.join().unwrap(),
        )
    });

    let samples = parse(&exporter.render());
    for (n, kind, device, count) in &live {
        let k = kind.as_str();
        assert_eq!(
            value(
                &samples,
                "photon_runtime_errors_total",
                &[("error_kind", &k)]
            ),
            Some(*count as f64),
            "{k}"
        );
        assert_eq!(
            value(
                &samples,
                "photon_compilation_errors_total",
                &[("error_kind", &k), ("target", "aba-target")]
            ),
            Some(*count as f64),
            "{k}"
        );
        assert_eq!(
            value(
                &samples,
                "photon_device_temperature_celsius",
                &[("device_id", &device.as_str())]
            ),
            Some(*n as f64)
        );
    }
    let kinds_in_scrape = samples
        .iter()
        .filter(|s| s.name == "photon_runtime_errors_total")
        .count();
    assert_eq!(kinds_in_scrape, live.len(), "only live values have series");
    assert_eq!(
        labels::stale_records(photon_metrics::labels::ErrorKind::LABEL),
        stale_kind_records.load(Ordering::Relaxed),
        "every record through a retired handle is dropped and counted"
    );
    assert!(reuses > 100, "only {reuses} retirements in {RUN:?}");
    assert!(scrapes > 20, "only {scrapes} scrapes");
    eprintln!(
        "figures: {reuses} retirements through {CAP} slots ({} reuses per slot), {old_writes} device writes and {} error records through old handles, {scrapes} consistent scrapes, 0 misattributed",
        reuses as usize / CAP,
        stale_kind_records.load(Ordering::Relaxed)
    );
}
