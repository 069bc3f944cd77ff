//! Histogram memory stays flat with nobody scraping, and nothing runs in
//! the background to keep it so: observations go straight into fixed
//! bucket cells.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::hardware;
use photon_metrics::labels::DeviceType;
use support::rss::peak_rss_kib;

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn unscraped_observations_use_no_memory_and_no_thread() {
    let before_install = threads();
    let exporter = PrometheusExporterBuilder::new()
        .without_listener()
        .install()
        .unwrap();
    assert_eq!(
        threads(),
        before_install,
        "installing without a listener starts no background thread"
    );
    hardware::observe_inference_latency(DeviceType::Mzi, 0.001);
    let before = peak_rss_kib();
    const N: u64 = 10_000_000; // 153 MiB if each raw sample were kept
    for i in 0..N {
        hardware::observe_inference_latency(DeviceType::Mzi, (i % 100) as f64 * 1e-5);
    }
    let grown_kib = peak_rss_kib() - before;
    assert!(
        grown_kib <= 1024,
        "peak RSS grew by {grown_kib} KiB over {N} observations"
    );
    let text = exporter.render();
    assert!(
        text.contains(&format!(
            "photon_inference_latency_seconds_count{{device_type=\"mzi\"}} {}",
            N + 1
        )),
        "no observation is lost:\n{text}"
    );
    assert_eq!(threads(), before_install);
}
