//! Group 19: one service, many processes (`photon_metrics::shared`). The
//! scrape of a service of 64 processes × 11,000 series each (10,000
//! counter series and 1,000 histogram series of declared families): 63
//! forked workers and this process, every render asking each for a fresh
//! publication and merging them; against one process rendering the same
//! 11,000 series alone.
//!
//! The record path is the same code with or without a shared directory:
//! run `benches/record.rs` with `PHOTON_METRICS_SHARED_DIR` set and unset,
//! and `examples/hot-path.rs` under callgrind likewise (BENCHMARKS.md §19).

mod common;

use criterion::{criterion_group, criterion_main, Criterion};
use photon_metrics::export::encode::Format;
use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::OpenValue;
use photon_metrics::Label;
use std::hint::black_box;
use std::time::Duration;

#[derive(Label, Clone, Copy, PartialEq, Eq)]
#[label(name = "key", cap = 1000)]
struct Key(OpenValue);

#[derive(Label, Clone, Copy, PartialEq, Eq)]
#[label(name = "shard")]
enum Shard {
    S0,
    S1,
    S2,
    S3,
    S4,
    S5,
    S6,
    S7,
    S8,
    S9,
}

photon_metrics::family! {
    /// Bench counters, by key and shard.
    #[family(name = "bench_shared_total")]
    static COUNTERS: Counter<(Key, Shard)>;

    /// Bench latencies in seconds, by key and shard.
    #[family(name = "bench_shared_seconds", unit = seconds,
             buckets = [0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0])]
    static LATENCY: Histogram<(Key, Shard)>;
}

const WORKERS: usize = 64;

/// Records the 11,000 series.
fn populate() {
    for k in 0..1000 {
        let key = Key::new(&format!("k{k}")).unwrap();
        for (s, shard) in Shard::ALL.iter().enumerate() {
            COUNTERS.add((key, *shard), (k + s) as u64 + 1);
            if k < 100 {
                LATENCY.observe((key, *shard), s as f64 * 0.7);
            }
        }
    }
}

fn scrape_64_workers(c: &mut Criterion) {
    // One process alone, the same series (a local recorder: nothing shared).
    let (recorder, alone) = PrometheusExporterBuilder::new()
        .without_listener()
        .process_metrics(false)
        .build_recorder();
    metrics::with_local_recorder(&recorder, populate);

    let dir = std::env::temp_dir().join(format!("photon-bench-shared-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let service = PrometheusExporterBuilder::new()
        .without_listener()
        .process_metrics(false)
        .shared_dir(&dir)
        .install()
        .unwrap();
    populate();
    for _ in 1..WORKERS {
        // SAFETY: the child records and sleeps; it needs no other thread
        // of the parent, and dies with it.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            // SAFETY: plain syscalls.
            unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
            populate();
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    }
    // Until every worker has recorded and published its 11,000 series.
    let deadline = std::time::Instant::now() + Duration::from_secs(300);
    let body = loop {
        let body = service.render_as(Format::Text);
        if body.contains("bench_shared_total{key=\"k999\",shard=\"s9\"} 64576\n") {
            break body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the workers never all published"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let lines = body
        .lines()
        .filter(|l| l.starts_with("bench_shared_total{"))
        .count();
    assert_eq!(lines, 10_000, "one merged series per label set");
    assert!(body.contains("bench_shared_total{key=\"k0\",shard=\"s0\"} 64\n"));

    let mut g = c.benchmark_group("shared");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.bench_function("render 11,000 series, one process", |b| {
        b.iter(|| black_box(alone.render_bytes(Format::Text)))
    });
    g.bench_function("render text, 64 processes x 11,000 series", |b| {
        b.iter(|| black_box(service.render_bytes(Format::Text)))
    });
    g.bench_function("render protobuf, 64 processes x 11,000 series", |b| {
        b.iter(|| black_box(service.render_bytes(Format::Protobuf)))
    });
    g.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = common::criterion();
    targets = scrape_64_workers
}
criterion_main!(benches);
