//! Native histograms through a real Prometheus (the Debian 2.42, started
//! with `--enable-feature=native-histograms`, which makes it ask for the
//! protobuf exposition first):
//!
//! * the demo, with OTLP on, is scraped: `histogram_count`, `histogram_sum`
//!   and `histogram_quantile` over the native series answer, the exemplars
//!   are stored, and the classic buckets are still served in the same
//!   message (2.42 keeps only the native series of a histogram that has
//!   both; `scrape_classic_histograms`, from 2.45, keeps both);
//! * a known log-normal distribution: the relative error of
//!   `histogram_quantile` from the native buckets stays within the schema's
//!   bound (`2^(1/8) - 1`, 9.05 %), and is reported beside the error from
//!   the classic buckets (scraped by a second Prometheus without the flag);
//! * names that are no legacy names, from the `metrics` facade, never fail
//!   a scrape in either format (`up` stays 1).

mod support;

use photon_metrics::export::encode::proto;
use photon_metrics::export::prometheus::PrometheusExporterBuilder;
use photon_metrics::labels::DeviceType;
use std::time::Duration;
use support::rotel::Rotel;
use support::{wait_for, Prometheus, TempDir};

const NATIVE: &str = "--enable-feature=native-histograms";

fn scalar(prometheus: &Prometheus, promql: &str) -> Option<f64> {
    let data = prometheus.query(promql).ok()?;
    data["result"][0]["value"][1].as_str()?.parse().ok()
}

fn config(target: &str) -> String {
    format!(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: photon\n    static_configs:\n      - targets: ['{target}']\n"
    )
}

#[test]
fn the_demo_s_native_histograms_and_exemplars_reach_prometheus() {
    let dir = TempDir::new("native-demo");
    let rotel = Rotel::start();
    let (mut demo, port) = support::stack::demo_with_otlp(&dir, &rotel, 300);

    let mut prometheus = Prometheus::start_with_flags(
        &config(&format!("127.0.0.1:{port}")),
        &[],
        &[&format!("{NATIVE},exemplar-storage")],
    );
    prometheus.wait_for_targets_up(Duration::from_secs(60));

    for family in [
        "photon_inference_latency_seconds",
        "photon_compilation_duration_seconds",
    ] {
        let count = wait_for(
            &format!("histogram_count({family}) > 0"),
            Duration::from_secs(60),
            || {
                demo.assert_running();
                scalar(&prometheus, &format!("sum(histogram_count({family}))")).filter(|n| *n > 0.0)
            },
        );
        let sum = scalar(&prometheus, &format!("sum(histogram_sum({family}))")).unwrap();
        assert!(sum > 0.0, "{family}: histogram_sum {sum} (count {count})");
        let p95 = wait_for(
            &format!("histogram_quantile over {family}'s native series"),
            Duration::from_secs(60),
            || {
                scalar(
                    &prometheus,
                    &format!("histogram_quantile(0.95, sum(rate({family}[1m])))"),
                )
                .filter(|v| v.is_finite() && *v > 0.0)
            },
        );
        assert!(p95 < 1e3, "{family}: p95 {p95}");
        // 2.42 keeps only the native series of a histogram with both.
        let classic = prometheus.query(&format!("{family}_bucket")).unwrap();
        assert_eq!(classic["result"].as_array().unwrap().len(), 0, "{classic}");
        // Exemplars, from the classic buckets (what 2.42 reads for native).
        wait_for(
            &format!("exemplars of {family}"),
            Duration::from_secs(60),
            || {
                let url = format!(
                    "{}/api/v1/query_exemplars?query={family}&start={}&end={}",
                    prometheus.url,
                    now() - 3600,
                    now() + 60
                );
                let (_, body) = support::http_get(&url).ok()?;
                let v: serde_json::Value = serde_json::from_str(&body).ok()?;
                let ids: Vec<String> = v["data"]
                    .as_array()?
                    .iter()
                    .flat_map(|s| s["exemplars"].as_array().cloned().unwrap_or_default())
                    .filter_map(|e| e["labels"]["trace_id"].as_str().map(str::to_string))
                    .collect();
                (!ids.is_empty() && ids.iter().all(|id| id.len() == 32)).then_some(())
            },
        );
    }

    // The classic buckets are in the protobuf message beside the native ones.
    let body = protobuf_scrape(&format!("127.0.0.1:{port}"));
    let families = proto::decode_delimited(&body).unwrap();
    let latency = families
        .iter()
        .find(|f| f.name() == "photon_inference_latency_seconds")
        .unwrap();
    let h = latency.metric[0].histogram.as_ref().unwrap();
    assert_eq!(
        h.bucket.len(),
        photon_metrics::catalog::INFERENCE_LATENCY_BUCKETS.len()
            + usize::from(
                h.bucket
                    .last()
                    .is_some_and(|b| b.upper_bound().is_infinite())
            )
    );
    assert_eq!(h.schema, Some(3));
    assert!(h.created_timestamp.is_some());
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// GET /metrics asking for protobuf, as Prometheus with native histograms does.
fn protobuf_scrape(addr: &str) -> Vec<u8> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .into();
    let mut response = agent
        .get(&format!("http://{addr}/metrics"))
        .header(
            "Accept",
            "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited,application/openmetrics-text;version=1.0.0;q=0.8",
        )
        .call()
        .unwrap();
    assert!(response
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("application/vnd.google.protobuf"));
    response.body_mut().read_to_vec().unwrap()
}

/// Deterministic log-normal latencies: median `e^mu`, shape `sigma`.
fn log_normal(n: usize, mu: f64, sigma: f64) -> Vec<f64> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    };
    (0..n)
        .map(|_| {
            let (u, v) = (uniform(), uniform());
            let z = (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
            (mu + sigma * z).exp()
        })
        .collect()
}

#[test]
fn native_quantiles_stay_within_the_schema_s_bound() {
    let exporter = PrometheusExporterBuilder::new()
        .listen("127.0.0.1:0".parse().unwrap())
        .install()
        .unwrap();
    let addr = exporter.local_addr().unwrap().to_string();
    // Median 2 ms, p99 about 21 ms: the classic buckets step 1-2.5-5.
    let mut values = log_normal(50_000, (0.002f64).ln(), 1.0);
    for v in &values {
        photon_metrics::hardware::observe_inference_latency(DeviceType::Mzi, *v);
    }
    // Names that are no legacy names, and some that collide once escaped.
    metrics::counter!("app.requests_total", "route" => "/").increment(3);
    metrics::counter!("app_requests_total", "route" => "/b").increment(4);
    metrics::gauge!("größe.bytes").set(1.0);
    metrics::gauge!("U__a_2e_b").set(2.0);
    metrics::gauge!("a.b").set(3.0);
    support::foreign::record_hostile_keys();

    let mut native = Prometheus::start_with_flags(&config(&addr), &[], &[NATIVE]);
    let mut classic = Prometheus::start(&config(&addr), &[]);
    native.wait_for_targets_up(Duration::from_secs(60));
    classic.wait_for_targets_up(Duration::from_secs(60));
    let selector = "{device_type=\"mzi\"}";
    wait_for(
        "both Prometheus servers to hold the histogram",
        Duration::from_secs(30),
        || {
            let n = scalar(
                &native,
                &format!("histogram_count(photon_inference_latency_seconds{selector})"),
            )?;
            let c = scalar(
                &classic,
                &format!("photon_inference_latency_seconds_count{selector}"),
            )?;
            (n == values.len() as f64 && c == values.len() as f64).then_some(())
        },
    );

    values.sort_by(f64::total_cmp);
    let bound = photon_metrics::catalog::LATENCY_NATIVE_BUCKETS.relative_error();
    for q in [0.5, 0.9, 0.99, 0.999] {
        let truth = values[((q * values.len() as f64).ceil() as usize).min(values.len()) - 1];
        let from_native = scalar(
            &native,
            &format!("histogram_quantile({q}, photon_inference_latency_seconds{selector})"),
        )
        .unwrap();
        let from_classic = scalar(
            &classic,
            &format!("histogram_quantile({q}, photon_inference_latency_seconds_bucket{selector})"),
        )
        .unwrap();
        let native_error = (from_native - truth).abs() / truth;
        let classic_error = (from_classic - truth).abs() / truth;
        println!(
            "p{}: true {truth:.6e}, native {from_native:.6e} ({:.2} %), classic {from_classic:.6e} ({:.2} %)",
            q * 100.0,
            native_error * 100.0,
            classic_error * 100.0
        );
        assert!(
            native_error <= bound,
            "p{q}: native error {native_error} over the schema's bound {bound}"
        );
    }

    // No scrape failed, in protobuf or OpenMetrics.
    for prometheus in [&native, &classic] {
        wait_for("five scrapes", Duration::from_secs(30), || {
            (scalar(prometheus, "count_over_time(up[1m])")? >= 5.0).then_some(())
        });
        assert_eq!(scalar(prometheus, "min_over_time(up[1m])"), Some(1.0));
        // `app.requests` and `app_requests` are one family.
        assert_eq!(
            scalar(prometheus, "sum(app_requests_total)"),
            Some(7.0),
            "{}",
            prometheus.url
        );
    }
    drop(exporter);
}
