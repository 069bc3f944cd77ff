//! The contention curve: 1, 2, 4, 8 and 16 threads recording at once, all
//! on one series and each on its own, counters and histograms, photon's
//! handles against prometheus-client, fastmetrics and measured (each
//! through its own pre-resolved handle).
//!
//! A sample is the time one thread takes per record while every thread
//! records: each of `threads` threads does `iters` records after a common
//! start, and the slowest thread's time is reported. On a 2-core machine
//! only 1 and 2 threads run truly at once; beyond that threads take turns
//! on the cores, so those rows show oversubscription (scheduler time per
//! record), not more contention. BENCHMARKS.md says what that leaves
//! unmeasured and why the cache-line layout holds there.

mod common;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use photon_metrics::labels::{DeviceType, Target};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

const THREADS: [usize; 5] = [1, 2, 4, 8, 16];

/// One contender: what thread `t` records into when series are shared
/// (`shared`) or its own (`own[t]`).
fn curve<H: Sync>(
    c: &mut Criterion,
    group: &str,
    contenders: &[(&str, Vec<H>)],
    record: impl Fn(&H) + Sync + Copy,
) {
    let mut g = c.benchmark_group(group);
    for &threads in &THREADS {
        for (name, handles) in contenders {
            g.bench_with_input(BenchmarkId::new(*name, threads), &threads, |b, &threads| {
                b.iter_custom(|iters| {
                    common::run_threads(threads, iters, &|t| {
                        record(black_box(&handles[t % handles.len()]))
                    })
                })
            });
        }
    }
    g.finish();
}

/// A counter of any contender.
enum Counter {
    Photon(photon_metrics::handle::CounterHandle),
    PrometheusClient(prometheus_client::metrics::counter::Counter),
    Fastmetrics(fastmetrics::metrics::counter::Counter),
    Measured(Arc<measured::Counter>),
}

impl Counter {
    #[inline(always)]
    fn inc(&self) {
        match self {
            Counter::Photon(h) => h.inc(),
            Counter::PrometheusClient(c) => {
                c.inc();
            }
            Counter::Fastmetrics(c) => c.inc(),
            Counter::Measured(c) => c.inc(),
        }
    }
}

/// A histogram of any contender.
enum Histogram {
    Photon(photon_metrics::handle::HistogramHandle),
    PrometheusClient(prometheus_client::metrics::histogram::Histogram),
    Fastmetrics(fastmetrics::metrics::histogram::Histogram),
    Measured(Arc<measured::Histogram<9>>),
}

impl Histogram {
    #[inline(always)]
    fn observe(&self, v: f64) {
        match self {
            Histogram::Photon(h) => h.observe(v),
            Histogram::PrometheusClient(h) => h.observe(v),
            Histogram::Fastmetrics(h) => h.observe(v),
            Histogram::Measured(h) => h.observe(v),
        }
    }
}

fn photon_counter(i: usize) -> Counter {
    let target = Target::new(&format!("contend-{i}")).unwrap();
    Counter::Photon(photon_metrics::compiler::cache_hits(target))
}

fn photon_histogram(i: usize) -> Histogram {
    // Distinct series of one family: one target each.
    let target = Target::new(&format!("contend-{i}")).unwrap();
    Histogram::Photon(photon_metrics::compiler::compilation_duration(
        target, 1_000,
    ))
}

fn measured_histogram() -> Histogram {
    Histogram::Measured(Arc::new(measured::Histogram::with_metadata(
        measured::metric::histogram::Thresholds::with_buckets(
            common::PEER_BUCKETS.try_into().unwrap(),
        ),
    )))
}

fn counters(c: &mut Criterion) {
    common::installed();
    let max = *THREADS.iter().max().unwrap();
    // One series: one handle, shared by every thread (photon: copies of it).
    let one = photon_counter(0);
    let shared_pc = prometheus_client::metrics::counter::Counter::default();
    let shared_fm = fastmetrics::metrics::counter::Counter::default();
    let shared_me = Arc::new(measured::Counter::new());
    let shared: Vec<(&str, Vec<Counter>)> = vec![
        (
            "photon_handle",
            (0..max)
                .map(|_| match &one {
                    Counter::Photon(h) => Counter::Photon(h.clone()),
                    _ => unreachable!(),
                })
                .collect(),
        ),
        (
            "prometheus_client",
            (0..max)
                .map(|_| Counter::PrometheusClient(shared_pc.clone()))
                .collect(),
        ),
        (
            "fastmetrics",
            (0..max)
                .map(|_| Counter::Fastmetrics(shared_fm.clone()))
                .collect(),
        ),
        (
            "measured",
            (0..max)
                .map(|_| Counter::Measured(shared_me.clone()))
                .collect(),
        ),
    ];
    curve(c, "contention_counter_one_series", &shared, Counter::inc);

    let distinct: Vec<(&str, Vec<Counter>)> = vec![
        ("photon_handle", (0..max).map(photon_counter).collect()),
        (
            "prometheus_client",
            (0..max)
                .map(|_| Counter::PrometheusClient(Default::default()))
                .collect(),
        ),
        (
            "fastmetrics",
            (0..max)
                .map(|_| Counter::Fastmetrics(Default::default()))
                .collect(),
        ),
        (
            "measured",
            (0..max)
                .map(|_| Counter::Measured(Arc::new(measured::Counter::new())))
                .collect(),
        ),
    ];
    curve(
        c,
        "contention_counter_distinct_series",
        &distinct,
        Counter::inc,
    );
}

fn histograms(c: &mut Criterion) {
    common::installed();
    let max = *THREADS.iter().max().unwrap();
    let one = photon_metrics::hardware::inference_latency(DeviceType::Mzi);
    let shared_pc = common::pc_histogram();
    let shared_fm =
        fastmetrics::metrics::histogram::Histogram::new(common::PEER_BUCKETS.iter().copied());
    let shared: Vec<(&str, Vec<Histogram>)> = vec![
        (
            "photon_handle",
            (0..max).map(|_| Histogram::Photon(one.clone())).collect(),
        ),
        (
            "prometheus_client",
            (0..max)
                .map(|_| Histogram::PrometheusClient(shared_pc.clone()))
                .collect(),
        ),
        (
            "fastmetrics",
            (0..max)
                .map(|_| Histogram::Fastmetrics(shared_fm.clone()))
                .collect(),
        ),
        ("measured", {
            let h = measured_histogram();
            (0..max)
                .map(|_| match &h {
                    Histogram::Measured(m) => Histogram::Measured(m.clone()),
                    _ => unreachable!(),
                })
                .collect()
        }),
    ];
    curve(c, "contention_histogram_one_series", &shared, |h| {
        h.observe(black_box(0.7))
    });

    let distinct: Vec<(&str, Vec<Histogram>)> = vec![
        ("photon_handle", (0..max).map(photon_histogram).collect()),
        (
            "prometheus_client",
            (0..max)
                .map(|_| Histogram::PrometheusClient(common::pc_histogram()))
                .collect(),
        ),
        (
            "fastmetrics",
            (0..max)
                .map(|_| {
                    Histogram::Fastmetrics(fastmetrics::metrics::histogram::Histogram::new(
                        common::PEER_BUCKETS.iter().copied(),
                    ))
                })
                .collect(),
        ),
        ("measured", (0..max).map(|_| measured_histogram()).collect()),
    ];
    curve(c, "contention_histogram_distinct_series", &distinct, |h| {
        h.observe(black_box(0.7))
    });
}

criterion_group! {
    name = benches;
    config = common::criterion()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(20);
    targets = counters, histograms
}
criterion_main!(benches);
