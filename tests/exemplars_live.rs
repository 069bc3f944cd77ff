//! Exemplars end to end: the demo runs with OTLP on, a real Prometheus with
//! exemplar storage scrapes it (asking for OpenMetrics), and the trace ids
//! Prometheus keeps as exemplars are traces that reached a real OTLP
//! receiver.

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use support::rotel::Rotel;
use support::{http_get, wait_for, Prometheus, TempDir};

/// Trace ids of the exemplars Prometheus holds for `series` over the last hour.
fn exemplar_trace_ids(prometheus: &Prometheus, series: &str) -> BTreeSet<String> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let url = format!(
        "{}/api/v1/query_exemplars?query={series}&start={}&end={}",
        prometheus.url,
        now - 3600,
        now + 60
    );
    let Ok((200, body)) = http_get(&url) else {
        return BTreeSet::new();
    };
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["data"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|s| s["exemplars"].as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["labels"]["trace_id"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn prometheus_exemplars_point_at_traces_in_the_otlp_receiver() {
    let dir = TempDir::new("exemplars");
    let rotel = Rotel::start();
    let (mut demo, demo_port) = support::stack::demo_with_otlp(&dir, &rotel, 300);

    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: photon\n    static_configs:\n      - targets: ['127.0.0.1:{demo_port}']\n"
    );
    let mut prometheus =
        Prometheus::start_with_flags(&config, &[], &["--enable-feature=exemplar-storage"]);
    prometheus.wait_for_targets_up(Duration::from_secs(60));

    for series in [
        "photon_compilation_duration_seconds_bucket",
        "photon_inference_latency_seconds_bucket",
        "photon_compilations_total",
    ] {
        let ids = wait_for(
            &format!("exemplars on {series}"),
            Duration::from_secs(60),
            || {
                demo.assert_running();
                let ids = exemplar_trace_ids(&prometheus, series);
                (!ids.is_empty()).then_some(ids)
            },
        );
        for id in &ids {
            assert!(
                id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
                "{series}: exemplar trace_id {id:?} is not 32 hex digits"
            );
        }
        // Spans are exported in batches: wait until the receiver has them.
        wait_for(
            &format!("the traces of {series}'s exemplars in the OTLP receiver"),
            Duration::from_secs(30),
            || {
                let received: BTreeSet<String> =
                    rotel.spans().into_iter().map(|s| s.trace_id).collect();
                ids.iter().all(|id| received.contains(id)).then_some(())
            },
        );
    }
}
