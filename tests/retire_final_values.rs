//! Retiring loses nothing: what was recorded since the last scrape is
//! served once more, with its final values, by the next scrape, and the
//! series is gone from the one after. Handles stop recording at once.
//!
//! Tried as the new user did: a tenant's 64th increment landed
//! after the last scrape and before the retirement, and Prometheus never
//! saw it. Here through a real `/metrics` listener (text and protobuf), for
//! an application label and a catalog one, counters and histograms alike.

mod support;

use photon_metrics::export::encode::{proto, Format};
use photon_metrics::export::prometheus::{PrometheusExporter, PrometheusExporterBuilder};
use photon_metrics::labels::{self, DeviceId, DeviceType, OpenValue};
use photon_metrics::{family, hardware, Label};
use std::time::Duration;
use support::exposition::{parse, value};

/// A tenant, retired when its session ends.
#[derive(Label, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[label(name = "retiring_tenant", cap = 8)]
struct Tenant(OpenValue);

/// A session, for a churn faster than scrapes.
#[derive(Label, Clone, Copy, PartialEq, Eq, Hash, Debug)]
#[label(name = "retiring_session", cap = 128)]
struct Session(OpenValue);

family! {
    /// Requests served, by session.
    #[family(name = "app_retiring_session_requests_total")]
    static SESSION_REQUESTS: Counter<(Session,)>;

    /// Requests served, by tenant.
    #[family(name = "app_retiring_requests_total")]
    static REQUESTS: Counter<(Tenant,)>;

    /// Request latency, by tenant.
    #[family(name = "app_retiring_latency_seconds", unit = seconds,
             buckets = [0.01, 0.1, 1.0], native(schema = 3))]
    static LATENCY: Histogram<(Tenant,)>;
}

fn scrape(port: u16) -> String {
    let (status, body) =
        support::http_get(&format!("http://127.0.0.1:{port}/metrics")).expect("scrape");
    assert_eq!(status, 200, "{body}");
    body
}

/// One exporter per process, so one test drives both parts.
#[test]
fn retiring_loses_nothing() {
    labels::set_reuse_delay(Duration::ZERO);
    let port = support::free_port();
    let exporter = PrometheusExporterBuilder::new()
        .listen(([127, 0, 0, 1], port).into())
        .install()
        .unwrap();
    a_retired_values_last_records_reach_the_next_scrape_and_only_that_one(port);
    final_values_reach_every_format_and_a_returning_value_is_not_shown_twice(&exporter);
    more_retired_between_two_scrapes_than_wait_keeps_the_newest_64(&exporter);
}

/// 70 sessions of one family retired between two scrapes: the next scrape
/// serves the newest 64 with their final values (the documented bound),
/// the oldest 6 leave unserved, and the scrape after has none.
fn more_retired_between_two_scrapes_than_wait_keeps_the_newest_64(exporter: &PrometheusExporter) {
    let sessions: Vec<Session> = (0..70)
        .map(|n| Session::new(&format!("session-{n:02}")).unwrap())
        .collect();
    for (n, s) in sessions.iter().enumerate() {
        for _ in 0..=n {
            SESSION_REQUESTS.inc((*s,));
        }
    }
    let _ = exporter.render();
    for s in &sessions {
        assert!(s.retire());
    }
    let samples = parse(&exporter.render());
    let served: Vec<(String, f64)> = samples
        .iter()
        .filter(|s| s.name == "app_retiring_session_requests_total")
        .map(|s| (s.labels["retiring_session"].clone(), s.value))
        .collect();
    let expected: Vec<(String, f64)> = (6..70)
        .map(|n| (format!("session-{n:02}"), (n + 1) as f64))
        .collect();
    assert_eq!(served, expected, "the newest 64, each with its final count");
    assert!(!exporter
        .render()
        .contains("app_retiring_session_requests_total{"));
}

fn a_retired_values_last_records_reach_the_next_scrape_and_only_that_one(port: u16) {
    let acme = Tenant::new("acme").unwrap();
    let device = DeviceId::new("opu-retiring").unwrap();
    let requests = REQUESTS.handle((acme,));
    for _ in 0..63 {
        requests.inc();
    }
    LATENCY.observe((acme,), 0.05);
    hardware::set_temperature_celsius(device, 41.5);
    let before = parse(&scrape(port));
    assert_eq!(
        value(
            &before,
            "app_retiring_requests_total",
            &[("retiring_tenant", "acme")]
        ),
        Some(63.0)
    );

    // The 64th increment and a second observation land after that scrape,
    // then the session ends.
    requests.inc();
    LATENCY.observe((acme,), 0.5);
    hardware::set_temperature_celsius(device, 42.0);
    assert!(acme.retire());
    assert!(device.retire());
    // From here on the handle records nothing.
    requests.inc();
    REQUESTS.inc((acme,));

    let last_text = scrape(port);
    let last = parse(&last_text);
    assert_eq!(
        value(
            &last,
            "app_retiring_requests_total",
            &[("retiring_tenant", "acme")]
        ),
        Some(64.0),
        "the final count, once"
    );
    assert_eq!(
        value(
            &last,
            "app_retiring_latency_seconds_count",
            &[("retiring_tenant", "acme")]
        ),
        Some(2.0)
    );
    assert_eq!(
        value(
            &last,
            "app_retiring_latency_seconds_bucket",
            &[("retiring_tenant", "acme"), ("le", "0.1")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &last,
            "photon_device_temperature_celsius",
            &[("device_id", "opu-retiring")]
        ),
        Some(42.0)
    );
    let (ok, report) = support::promtool_check_metrics(&last_text);
    assert!(ok, "{report}");

    let after = parse(&scrape(port));
    assert!(
        !after
            .iter()
            .any(|s| s.labels.contains_key("retiring_tenant")
                || s.labels.get("device_id").map(String::as_str) == Some("opu-retiring")),
        "a retired value's series outlived the scrape after its retirement"
    );
}

fn final_values_reach_every_format_and_a_returning_value_is_not_shown_twice(
    exporter: &PrometheusExporter,
) {
    let beta = Tenant::new("beta").unwrap();
    REQUESTS.inc((beta,));
    REQUESTS.inc((beta,));
    assert!(beta.retire());
    // Protobuf is the first render after the retirement: it serves them.
    let body = exporter.render_bytes(Format::Protobuf);
    let decoded = proto::decode_delimited(&body).unwrap();
    let family = decoded
        .iter()
        .find(|f| f.name() == "app_retiring_requests_total")
        .expect("family in protobuf");
    assert!(
        family.metric.iter().any(|m| m
            .label
            .iter()
            .any(|l| l.name() == "retiring_tenant" && l.value() == "beta")
            && m.counter.as_ref().map(|c| c.value()) == Some(2.0)),
        "final value in protobuf: {family:?}"
    );
    assert!(!exporter.render().contains("retiring_tenant=\"beta\""));

    // Retired, then back before any scrape: one series, the new one.
    let gamma = Tenant::new("gamma").unwrap();
    REQUESTS.inc((gamma,));
    assert!(gamma.retire());
    let gamma = Tenant::new("gamma").unwrap();
    REQUESTS.inc((gamma,));
    REQUESTS.inc((gamma,));
    REQUESTS.inc((gamma,));
    let text = exporter.render();
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("app_retiring_requests_total{retiring_tenant=\"gamma\"}"))
        .collect();
    assert_eq!(
        lines,
        ["app_retiring_requests_total{retiring_tenant=\"gamma\"} 3"]
    );
    let (ok, report) = support::promtool_check_metrics(&text);
    assert!(ok, "{report}");
    // A device set once and retired, every device label family alike.
    let opu = DeviceId::new("opu-every-format").unwrap();
    hardware::set_device_status(opu, DeviceType::Mzi, true);
    assert!(opu.retire());
    let om = exporter.render_as(Format::OpenMetrics);
    assert!(
        om.contains("photon_device_status{device_id=\"opu-every-format\",device_type=\"mzi\"} 1"),
        "{om}"
    );
    assert!(!exporter.render().contains("opu-every-format"));
}
