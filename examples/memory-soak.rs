//! Memory: records 1e8 histogram observations through photon's
//! typed family with the exporter installed and nobody scraping, and reports
//! the process's peak RSS before and after.
//!
//! ```text
//! cargo run --release --example memory-soak [-- OBSERVATIONS]
//! ```

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{DeviceType, Target};
use photon_metrics::{compiler, hardware};
use std::time::Instant;

/// Peak resident set size (VmHWM) in KiB, from /proc.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn main() {
    let observations: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000_000);
    let threads = || std::fs::read_dir("/proc/self/task").map_or(0, |d| d.count());
    let threads_before = threads();
    let exporter = PrometheusExporterBuilder::new()
        .without_listener()
        .install()
        .expect("install");
    let background = threads() - threads_before;
    let target = Target::new("mzi-64x64").expect("valid");
    // Touch both families once so their tables exist before the baseline.
    compiler::observe_compilation_duration(target, 1, 0.2);
    hardware::observe_inference_latency(DeviceType::Mzi, 0.001);
    let before = peak_rss_kib();
    let start = Instant::now();
    for i in 0..observations {
        let v = (i % 1000) as f64 * 0.001;
        if i % 2 == 0 {
            compiler::observe_compilation_duration(target, 25_600_000, v);
        } else {
            hardware::observe_inference_latency(DeviceType::Mzi, v);
        }
    }
    let elapsed = start.elapsed();
    let after = peak_rss_kib();
    let rendered = exporter.render();
    let count_line = rendered
        .lines()
        .find(|l| l.starts_with("photon_inference_latency_seconds_count"))
        .unwrap_or("photon_inference_latency_seconds_count missing");
    println!("observations:        {observations}");
    println!(
        "elapsed:             {:.2} s ({:.1} ns/observation)",
        elapsed.as_secs_f64(),
        elapsed.as_nanos() as f64 / observations as f64
    );
    println!("peak RSS before:     {:.1} MiB", before as f64 / 1024.0);
    println!("peak RSS after:      {:.1} MiB", after as f64 / 1024.0);
    println!(
        "peak RSS growth:     {:.1} MiB",
        (after.saturating_sub(before)) as f64 / 1024.0
    );
    println!("exposition says:     {count_line}");
    println!(
        "background threads:  {background} started by install, {} running now",
        threads() - threads_before
    );
}
