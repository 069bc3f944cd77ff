//! Two threads record counters and histograms flat out while a third
//! scrapes in a loop. Every scrape must be consistent (`_count` equals the
//! `+Inf` bucket, cumulative buckets never decrease, nothing goes down
//! between scrapes) and, once the writers are joined, every count, bucket
//! and sum must equal exactly what they recorded: zero lost observations.
//!
//! Values are dyadic fractions, so every order of floating-point addition
//! gives the same exact sum.

mod support;

use photon_metrics::catalog::{COMPILATION_DURATION_BUCKETS, INFERENCE_LATENCY_BUCKETS};
use photon_metrics::export::encode::Format;
use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{DeviceType, ModelType, Status, Target};
use photon_metrics::{compiler, hardware};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::exposition::{parse, Sample};

const COMPILE_VALUES: &[f64] = &[0.0625, 0.75, 1.5, 3.0, 7.5, 12.5, 45.0, 150.0];
const LATENCY_VALUES: &[f64] = &[
    1.0 / (1 << 20) as f64, // ≈ 0.95 µs
    1.0 / (1 << 14) as f64, // ≈ 61 µs
    1.0 / 1024.0,
    0.0625,
    2.0,
    8.0,
];
const RUN: Duration = Duration::from_secs(4);

/// What one writer recorded: observations per value index, and counter adds.
#[derive(Default)]
struct Tally {
    compile: Vec<u64>,
    latency: Vec<u64>,
    compilations: u64,
}

fn writer(which: usize, stop: &AtomicBool) -> Tally {
    let target = Target::new("mzi-64x64").unwrap();
    let model = ModelType::new("resnet50").unwrap();
    let mut t = Tally {
        compile: vec![0; COMPILE_VALUES.len()],
        latency: vec![0; LATENCY_VALUES.len()],
        compilations: 0,
    };
    let mut i = which;
    while !stop.load(Ordering::Relaxed) {
        for _ in 0..64 {
            let c = i % COMPILE_VALUES.len();
            compiler::observe_compilation_duration(target, 25_600_000, COMPILE_VALUES[c]);
            t.compile[c] += 1;
            let l = i % LATENCY_VALUES.len();
            hardware::observe_inference_latency(DeviceType::Mzi, LATENCY_VALUES[l]);
            t.latency[l] += 1;
            compiler::record_compilation(target, Status::Success, model);
            t.compilations += 1;
            i += 1;
        }
    }
    t
}

type Key = (String, BTreeMap<String, String>);

/// Checks one scrape's histograms and returns every sample's value by key.
fn check_scrape(samples: &[Sample], previous: &BTreeMap<Key, f64>) -> BTreeMap<Key, f64> {
    let mut now = BTreeMap::new();
    for s in samples {
        now.insert((s.name.clone(), s.labels.clone()), s.value);
    }
    for family in [
        "photon_compilation_duration_seconds",
        "photon_inference_latency_seconds",
    ] {
        let bucket_name = format!("{family}_bucket");
        let mut series: BTreeMap<BTreeMap<String, String>, Vec<(f64, f64)>> = BTreeMap::new();
        for s in samples.iter().filter(|s| s.name == bucket_name) {
            let mut labels = s.labels.clone();
            let le = labels.remove("le").unwrap();
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            series.entry(labels).or_default().push((le, s.value));
        }
        for (labels, buckets) in series {
            assert!(
                buckets
                    .windows(2)
                    .all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1),
                "{family}{labels:?}: buckets not monotone: {buckets:?}"
            );
            let inf = buckets.last().unwrap();
            assert_eq!(inf.0, f64::INFINITY);
            let count = now[&(format!("{family}_count"), labels.clone())];
            assert_eq!(count, inf.1, "{family}{labels:?}: _count differs from +Inf");
        }
    }
    for (key, before) in previous {
        if key.0.ends_with("_sum")
            || key.0.ends_with("_bucket")
            || key.0.ends_with("_count")
            || key.0.ends_with("_total")
        {
            let after = now.get(key).copied().unwrap_or(0.0);
            assert!(after >= *before, "{key:?} went down: {before} -> {after}");
        }
    }
    now
}

#[test]
fn concurrent_scrapes_are_consistent_and_nothing_is_lost() {
    let exporter = PrometheusExporterBuilder::new()
        .without_listener()
        .install()
        .unwrap();
    let stop = AtomicBool::new(false);
    let (tallies, scrapes) = std::thread::scope(|s| {
        let writers: Vec<_> = (0..2)
            .map(|w| {
                s.spawn({
                    let stop = &stop;
                    move || writer(w, stop)
                })
            })
            .collect();
        let scraper = s.spawn(|| {
            let mut previous = BTreeMap::new();
            let mut scrapes = 0u64;
            let start = Instant::now();
            while start.elapsed() < RUN {
                let format = if scrapes % 2 == 0 {
                    Format::Text
                } else {
                    Format::OpenMetrics
                };
                previous = check_scrape(&parse(&exporter.render_as(format)), &previous);
                scrapes += 1;
            }
            stop.store(true, Ordering::Relaxed);
            scrapes
        });
        let scrapes = scraper.join().unwrap();
        let tallies: Vec<Tally> = writers.into_iter().map(|w| w.join().unwrap()).collect();
        (tallies, scrapes)
    });
    assert!(scrapes > 20, "only {scrapes} scrapes in {RUN:?}");
    let observed: u64 = tallies.iter().map(|t| t.compilations * 2).sum();
    eprintln!("figures: {scrapes} consistent scrapes while 2 threads recorded {observed} observations and {} counts in {RUN:?}; 0 lost",
        tallies.iter().map(|t| t.compilations).sum::<u64>());

    let samples = parse(&exporter.render());
    let value = |name: &str, labels: &[(&str, &str)]| {
        support::exposition::value(&samples, name, labels)
            .unwrap_or_else(|| panic!("{name}{labels:?} missing"))
    };
    let compilations: u64 = tallies.iter().map(|t| t.compilations).sum();
    assert_eq!(
        value("photon_compilations_total", &[("status", "success")]),
        compilations as f64
    );
    for (family, labels, values, bounds, pick) in [
        (
            "photon_compilation_duration_seconds",
            ("model_size", "large"),
            COMPILE_VALUES,
            COMPILATION_DURATION_BUCKETS,
            0usize,
        ),
        (
            "photon_inference_latency_seconds",
            ("device_type", "mzi"),
            LATENCY_VALUES,
            INFERENCE_LATENCY_BUCKETS,
            1,
        ),
    ] {
        let counts: Vec<u64> = (0..values.len())
            .map(|i| {
                tallies
                    .iter()
                    .map(|t| {
                        if pick == 0 {
                            t.compile[i]
                        } else {
                            t.latency[i]
                        }
                    })
                    .sum()
            })
            .collect();
        let total: u64 = counts.iter().sum();
        let sum: f64 = values.iter().zip(&counts).map(|(v, n)| v * *n as f64).sum();
        assert_eq!(
            value(&format!("{family}_count"), &[labels]),
            total as f64,
            "{family}"
        );
        assert_eq!(value(&format!("{family}_sum"), &[labels]), sum, "{family}");
        for bound in bounds.iter().copied().chain([f64::INFINITY]) {
            let expected: u64 = values
                .iter()
                .zip(&counts)
                .filter(|(v, _)| **v <= bound)
                .map(|(_, n)| n)
                .sum();
            let got = samples
                .iter()
                .find(|s| {
                    s.name == format!("{family}_bucket")
                        && s.labels.get(labels.0).map(String::as_str) == Some(labels.1)
                        && {
                            let le = &s.labels["le"];
                            let le = if le == "+Inf" {
                                f64::INFINITY
                            } else {
                                le.parse().unwrap()
                            };
                            le == bound
                        }
                })
                .unwrap_or_else(|| panic!("{family} bucket {bound} missing"))
                .value;
            assert_eq!(got, expected as f64, "{family} bucket le={bound}");
        }
    }
}
