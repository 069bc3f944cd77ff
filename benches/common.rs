//! Set-up shared by the benches: the installed recorder, criterion settings.
#![allow(dead_code)]

use criterion::Criterion;
use photon_metrics::export::prometheus::{PrometheusExporter, PrometheusExporterBuilder};
use std::sync::{Barrier, OnceLock};
use std::time::{Duration, Instant};

/// Buckets for the peers' histograms (and autometrics'), so every
/// histogram in a run is a real histogram, like photon's.
pub const PEER_BUCKETS: &[f64] = &[0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0];

/// Installs photon's exporter (no listener) as the global recorder once.
pub fn installed() -> &'static PrometheusExporter {
    static EXPORTER: OnceLock<PrometheusExporter> = OnceLock::new();
    EXPORTER.get_or_init(|| {
        PrometheusExporterBuilder::new()
            .without_listener()
            .default_buckets(PEER_BUCKETS)
            .unwrap()
            .install()
            .unwrap()
    })
}

/// A `prometheus-client` histogram with [`PEER_BUCKETS`], pre-resolved.
pub fn pc_histogram() -> prometheus_client::metrics::histogram::Histogram {
    prometheus_client::metrics::histogram::Histogram::new(PEER_BUCKETS.iter().copied())
}

/// Short, repeatable groups: the whole suite stays well under 10 minutes on
/// 2 cores.
pub fn criterion() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(40)
        .configure_from_args()
}

/// Runs `op(thread)` `iters` times on each of `threads` threads from one
/// start; returns the slowest thread's time.
pub fn run_threads(threads: usize, iters: u64, op: &(dyn Fn(usize) + Sync)) -> Duration {
    let barrier = Barrier::new(threads);
    std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let barrier = &barrier;
                s.spawn(move || {
                    barrier.wait();
                    let start = Instant::now();
                    for _ in 0..iters {
                        op(t);
                    }
                    start.elapsed()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().unwrap())
            .max()
            .unwrap()
    })
}
