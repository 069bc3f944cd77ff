//! Every value of `tests/fixtures/hostile-label-values.json`, as an open
//! label value and as a global label, reaches a real Prometheus byte for
//! byte (read back from `/api/v1/series`); the rejected ones give the
//! documented errors.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::{LabelError, Target, MAX_VALUE_LEN};
use std::collections::BTreeSet;
use std::time::Duration;
use support::{encode, http_get, wait_for, Prometheus};

#[test]
fn hostile_values_arrive_exactly_and_rejected_ones_are_errors() {
    let fixture: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            support::stack::root().join("tests/fixtures/hostile-label-values.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let accepted: Vec<String> = serde_json::from_value(fixture["accepted"].clone()).unwrap();
    let rejected: Vec<String> = serde_json::from_value(fixture["rejected"].clone()).unwrap();
    assert!(
        accepted.iter().any(|v| v.len() == MAX_VALUE_LEN),
        "the limit itself is tried"
    );

    // Rejected values: the documented errors, nothing recorded.
    for value in &rejected {
        match Target::new(value) {
            Err(LabelError::TooLong { len, max, .. }) => {
                assert_eq!((len, max), (value.len(), MAX_VALUE_LEN))
            }
            Err(LabelError::Empty { .. }) => assert!(value.is_empty()),
            other => panic!("{value:?} was not rejected: {other:?}"),
        }
    }

    let mut builder = PrometheusExporterBuilder::new().listen("127.0.0.1:0".parse().unwrap());
    for (i, value) in accepted.iter().enumerate() {
        builder = builder.global_label(format!("g{i}"), value.clone());
    }
    let exporter = builder.install().unwrap();
    for value in &accepted {
        photon_metrics::compiler::record_cache_hit(Target::new(value).unwrap());
    }

    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: photon\n    static_configs:\n      - targets: ['{}']\n",
        exporter.local_addr().unwrap()
    );
    let mut prometheus = Prometheus::start(&config, &[]);
    prometheus.wait_for_targets_up(Duration::from_secs(60));
    let series = wait_for(
        "the hostile series in Prometheus",
        Duration::from_secs(30),
        || {
            let url = format!(
                "{}/api/v1/series?match[]={}",
                prometheus.url,
                encode("photon_cache_hits_total")
            );
            let (_, body) = http_get(&url).ok()?;
            let v: serde_json::Value = serde_json::from_str(&body).ok()?;
            let series = v["data"].as_array()?.clone();
            (series.len() == accepted.len()).then_some(series)
        },
    );
    let targets: BTreeSet<String> = series
        .iter()
        .map(|s| s["target"].as_str().unwrap().to_string())
        .collect();
    let want: BTreeSet<String> = accepted.iter().cloned().collect();
    assert_eq!(targets, want, "open label values, byte for byte");
    for s in &series {
        for (i, value) in accepted.iter().enumerate() {
            assert_eq!(s[format!("g{i}")], *value, "global label g{i}");
        }
    }
}
