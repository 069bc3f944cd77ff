//! Histogram memory stays bounded with nobody scraping: the exporter's raw
//! sample buffers are drained as they fill, not only on the upkeep timer.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::hardware;
use photon_metrics::labels::DeviceType;
use std::time::Duration;
use support::rss::peak_rss_kib;

#[test]
fn unscraped_observations_do_not_accumulate() {
    // An upkeep interval far longer than the test: only draining-as-you-go
    // can keep the buffers small.
    let exporter = PrometheusExporterBuilder::new()
        .without_listener()
        .upkeep_interval(Duration::from_secs(3600))
        .install()
        .unwrap();
    hardware::observe_inference_latency(DeviceType::Mzi, 0.001);
    let before = peak_rss_kib();
    const N: u64 = 3_000_000; // 46 MiB of raw samples if they were all kept
    for i in 0..N {
        hardware::observe_inference_latency(DeviceType::Mzi, (i % 100) as f64 * 1e-5);
    }
    let grown_mib = (peak_rss_kib() - before) as f64 / 1024.0;
    assert!(
        grown_mib < 8.0,
        "peak RSS grew by {grown_mib:.1} MiB over {N} observations"
    );
    let text = exporter.render();
    assert!(
        text.contains(&format!(
            "photon_inference_latency_seconds_count{{device_type=\"mzi\"}} {}",
            N + 1
        )),
        "no observation is lost by draining:\n{text}"
    );
}
