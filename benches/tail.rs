//! The worst record calls, not the median: 1e7 histogram observations
//! timed one by one (TSC clock), photon's typed family against a
//! pre-registered `metrics-exporter-prometheus` handle, each while a
//! background thread renders its exposition every 100 ms as a scraper
//! would. Prints median, p99, p99.99 and max per variant.
//!
//! ```text
//! cargo bench --bench tail
//! ```

mod common;

use photon_metrics::labels::Target;
use std::hint::black_box;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

const CALLS: usize = 10_000_000;

fn measure(name: &str, record: &dyn Fn(f64), render: &(dyn Fn() + Sync)) {
    let stop = AtomicBool::new(false);
    let mut ns = Vec::with_capacity(CALLS);
    let clock = quanta::Clock::new();
    std::thread::scope(|s| {
        s.spawn(|| {
            while !stop.load(Ordering::Relaxed) {
                render();
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        for i in 0..CALLS {
            let v = (i % 1000) as f64 * 0.01;
            let start = clock.raw();
            record(black_box(v));
            let end = clock.raw();
            ns.push(clock.delta_as_nanos(start, end));
        }
        stop.store(true, Ordering::Relaxed);
    });
    ns.sort_unstable();
    let at = |q: f64| ns[((ns.len() - 1) as f64 * q) as usize];
    println!(
        "{name:<40} median {:>6} ns  p99 {:>6} ns  p99.99 {:>8} ns  max {:>10} ns",
        at(0.5),
        at(0.99),
        at(0.9999),
        ns[ns.len() - 1]
    );
}

fn main() {
    let exporter = common::installed();
    let target = Target::new("mzi-64x64").unwrap();
    let mep = metrics_exporter_prometheus::PrometheusBuilder::new()
        .set_buckets(common::PEER_BUCKETS)
        .unwrap()
        .build_recorder();
    let mep_handle = mep.handle();
    let mep_histogram = metrics::with_local_recorder(
        &mep,
        || metrics::histogram!("bench_tail_seconds", "target" => "mzi-64x64", "model_size" => "large"),
    );
    println!(
        "{CALLS} observe calls each, timed one by one, renders every 100 ms in the background"
    );
    for _ in 0..2 {
        measure(
            "photon typed observe_compilation_duration",
            &|v| photon_metrics::compiler::observe_compilation_duration(target, 25_600_000, v),
            &|| drop(black_box(exporter.render())),
        );
        measure(
            "metrics-exporter-prometheus handle",
            &|v| mep_histogram.record(v),
            &|| drop(black_box(mep_handle.render())),
        );
    }
}
