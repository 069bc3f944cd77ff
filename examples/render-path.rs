//! Instructions per render, for `valgrind --tool=callgrind`: the 11,000
//! series of `benches/render.rs` (1,000 foreign counters and 100 foreign
//! histograms, 10 values each) rendered N times in one format, so two runs
//! (N and 2N) differ by exactly N renders. Times of one render on a shared
//! VM spread by half; instruction counts do not.
//!
//! ```text
//! cargo build --release --example render-path
//! for f in text openmetrics protobuf; do
//!   for n in 5 10; do
//!     valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/render-path $f $n 2>&1 | grep refs
//!   done
//! done
//! ```

use photon_metrics::export::encode::Format;
use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use std::hint::black_box;

fn main() {
    let mut args = std::env::args().skip(1);
    let format = match args.next().as_deref().unwrap_or("text") {
        "text" => Format::Text,
        "openmetrics" => Format::OpenMetrics,
        "protobuf" => Format::Protobuf,
        other => panic!("unknown format {other}: text, openmetrics or protobuf"),
    };
    let n: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5);
    let (recorder, exporter) = PrometheusExporterBuilder::new()
        .without_listener()
        .process_metrics(false)
        .foreign_series_cap(20_000)
        .default_buckets(&[0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0])
        .unwrap()
        .build_recorder();
    metrics::with_local_recorder(&recorder, || {
        for i in 0..1_000 {
            for v in 0..10 {
                metrics::counter!(format!("bench_counter_{i}_total"), "value" => v.to_string())
                    .increment(v as u64 + 1);
            }
        }
        for i in 0..100 {
            for v in 0..10 {
                metrics::histogram!(format!("bench_histogram_{i}_seconds"), "value" => v.to_string())
                    .record(v as f64 * 0.7);
            }
        }
    });
    for _ in 0..n {
        black_box(exporter.render_bytes(format));
    }
}
