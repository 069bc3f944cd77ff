//! Series lifecycle: the cost of one `retire()` of a device id with series
//! in the 4 device families, and of an idle-expiry sweep over 100,000
//! series (a render of 100,000 foreign series with
//! `foreign_idle_expiry` on, against the same render with it off: the
//! sweep's own cost is the difference).

mod common;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use photon_metrics::export::prometheus::{PrometheusExporter, PrometheusExporterBuilder};
use photon_metrics::hardware;
use photon_metrics::labels::{self, DeviceId, DeviceType};
use std::hint::black_box;
use std::time::Duration;

const FAMILIES: usize = 100;
const VALUES: usize = 1_000;
const SERIES: usize = FAMILIES * VALUES;

fn retire_device(c: &mut Criterion) {
    common::installed();
    // The retired slot is free at once, so every iteration's device gets a
    // slot of its own instead of folding into `__overflow__` (which
    // `retire` refuses, asserted below).
    labels::set_reuse_delay(Duration::ZERO);
    let mut n = 0u64;
    c.bench_function("retire/device_id_in_4_families", |b| {
        b.iter_batched(
            || {
                n += 1;
                let id = DeviceId::new(&format!("bench-opu-{}", n % 64)).unwrap();
                hardware::set_device_status(id, DeviceType::Mzi, true);
                hardware::set_optical_power_mw(id, 1.5);
                hardware::set_temperature_celsius(id, 40.0);
                hardware::set_calibration_drift(id, 0.01);
                id
            },
            |id| assert!(black_box(id).retire(), "a live value is retired"),
            // One device live at a time: a batch of set-ups would intern
            // the same text twice and retire it once.
            BatchSize::PerIteration,
        )
    });
}

/// An exporter with 100,000 foreign counters (100 families × 1,000 label
/// values), recorded once and rendered once, so each render measured after
/// is the steady state of a scrape: every series looked at, none expired.
fn foreign_store(expiry: Option<Duration>) -> PrometheusExporter {
    let (recorder, exporter) = PrometheusExporterBuilder::new()
        .without_listener()
        .process_metrics(false)
        .foreign_series_cap(2 * SERIES)
        .foreign_family_series_cap(VALUES)
        .foreign_idle_expiry(expiry)
        .build_recorder();
    metrics::with_local_recorder(&recorder, || {
        for f in 0..FAMILIES {
            for v in 0..VALUES {
                metrics::counter!(format!("bench_expiry_{f}_total"), "value" => v.to_string())
                    .increment(1);
            }
        }
    });
    let rendered = exporter.render();
    let series = rendered
        .lines()
        .filter(|l| l.starts_with("bench_expiry_"))
        .count();
    assert_eq!(series, SERIES, "every series is rendered");
    exporter
}

fn idle_sweep(c: &mut Criterion) {
    // An hour: the sweep looks at every series and removes none.
    let on = foreign_store(Some(Duration::from_secs(3_600)));
    let off = foreign_store(None);
    let mut g = c.benchmark_group("idle_sweep/render_100k_foreign_series");
    g.sample_size(20);
    g.bench_function("expiry_off", |b| b.iter(|| black_box(off.render())));
    g.bench_function("expiry_on", |b| b.iter(|| black_box(on.render())));
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = retire_device, idle_sweep
}
criterion_main!(benches);
