//! A real Prometheus scrapes third-party `metrics` calls with repeated
//! label names, names that sanitize alike, `le` on a histogram and names
//! that collide with the catalog: the scrape never fails (`up` stays 1) and
//! the series arrive as documented.

mod support;

use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use std::time::Duration;
use support::Prometheus;

#[test]
fn hostile_foreign_keys_never_fail_a_scrape() {
    let exporter = PrometheusExporterBuilder::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .install()
        .expect("install");
    let addr = exporter.local_addr().unwrap();
    support::foreign::record_hostile_keys();

    let config = format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: photon\n    static_configs:\n      - targets: ['{addr}']\n"
    );
    let mut prometheus = Prometheus::start(&config, &[]);
    prometheus.wait_for_targets_up(Duration::from_secs(30));
    // Several scrapes, every one of them up.
    support::wait_for("five scrapes", Duration::from_secs(30), || {
        let data = prometheus.query("count_over_time(up[1m])").ok()?;
        let n: f64 = data["result"][0]["value"][1].as_str()?.parse().ok()?;
        (n >= 5.0).then_some(())
    });
    let data = prometheus.query("min_over_time(up[1m])").unwrap();
    assert_eq!(data["result"][0]["value"][1], "1", "up stayed 1: {data}");

    for (name, labels, want) in support::foreign::EXPECTED {
        let selector = labels
            .iter()
            .map(|(k, v)| format!("{k}=\"{v}\""))
            .collect::<Vec<_>>()
            .join(",");
        let data = prometheus.query(&format!("{name}{{{selector}}}")).unwrap();
        let result = data["result"].as_array().unwrap();
        let exact: Vec<_> = result
            .iter()
            .filter(|r| {
                // job, instance and __name__ besides the series' own labels.
                r["metric"].as_object().unwrap().len() == labels.len() + 3
            })
            .collect();
        assert_eq!(exact.len(), 1, "{name}{{{selector}}}: {data}");
        let got: f64 = exact[0]["value"][1].as_str().unwrap().parse().unwrap();
        assert_eq!(got, *want, "{name}{{{selector}}}");
    }
    for name in support::foreign::REFUSED {
        let data = prometheus.query(name).unwrap();
        assert_eq!(
            data["result"].as_array().unwrap().len(),
            0,
            "{name}: {data}"
        );
    }
    let data = prometheus.query("photon_queue_depth").unwrap();
    assert_eq!(
        data["result"][0]["value"][1], "0",
        "the catalog family is not shadowed: {data}"
    );
}
