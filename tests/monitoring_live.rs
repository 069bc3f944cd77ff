//! The monitoring stack against the running demo: a real Prometheus loads
//! the real rules and scrapes the demo; every dashboard query must parse and
//! return data; a real Alertmanager delivers DeviceFailure for the device the
//! demo holds down to a webhook this test runs.

mod support;

use std::time::{Duration, Instant};
use support::alerting::AlertingStack;
use support::stack::dashboard_queries;
use support::{http_get, TempDir};

/// Grafana's template variables and macros, as Grafana would expand them for
/// "All" over the last hour.
fn expand(expr: &str) -> String {
    expr.replace("$__rate_interval", "1m")
        .replace("$__interval", "15s")
        .replace("$__range", "1h")
        .replace("$target", ".*")
        .replace("$device", ".*")
}

#[test]
fn dashboards_and_alerts_work_against_the_running_demo() {
    let dir = TempDir::new("stack");
    // The demo with opu-1 held down; the overflow panel needs values folded
    // into __overflow__.
    let mut stack = AlertingStack::start(dir.path(), &["--duration", "600", "--show-overflow"]);
    let (prometheus, notifications) = (&stack.prometheus, &stack.notifications);

    // Every dashboard query parses and, once the demo has run long enough,
    // returns data. Queries are retried until all answer, for at most 90 s.
    let queries = dashboard_queries();
    assert!(queries.len() >= 25, "{} queries", queries.len());
    let mut pending: Vec<_> = queries.iter().collect();
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut last_errors = Vec::new();
    while !pending.is_empty() && Instant::now() < deadline {
        last_errors.clear();
        pending.retain(
            |(file, title, expr)| match prometheus.query(&expand(expr)) {
                Ok(data) if data["result"].as_array().is_some_and(|r| !r.is_empty()) => false,
                Ok(_) => {
                    last_errors.push(format!("{file} / {title}: no data for {expr}"));
                    true
                }
                Err(e) => panic!("{file} / {title}: Prometheus rejects `{expr}`: {e}"),
            },
        );
        if !pending.is_empty() {
            std::thread::sleep(Duration::from_secs(2));
        }
        stack.demo.assert_running();
    }
    assert!(
        pending.is_empty(),
        "{} queries never returned data:\n{}",
        pending.len(),
        last_errors.join("\n")
    );

    // The template variables' label queries find values.
    for (metric, label) in [
        ("photon_compilations_total", "target"),
        ("photon_device_status", "device_id"),
    ] {
        let url = format!(
            "{}/api/v1/label/{label}/values?match[]={metric}",
            prometheus.url
        );
        let (_, body) = http_get(&url).unwrap();
        let values: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert!(
            !values["data"].as_array().unwrap().is_empty(),
            "label_values({metric}, {label}): {body}"
        );
    }

    // DeviceFailure for opu-1 reaches the webhook through Alertmanager.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let body = notifications.recv_timeout(remaining).unwrap_or_else(|_| {
            panic!(
                "no DeviceFailure for opu-1 within 120 s\nalertmanager log:\n{}\nprometheus log:\n{}",
                stack.alertmanager.log_text(),
                prometheus.process.log_text()
            )
        });
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let delivered = v["alerts"].as_array().unwrap().iter().any(|a| {
            a["status"] == "firing"
                && a["labels"]["alertname"] == "DeviceFailure"
                && a["labels"]["device_id"] == "opu-1"
                && a["labels"]["severity"] == "critical"
                && a["annotations"]["summary"] == "Photonic device opu-1 is down"
        });
        if delivered {
            break;
        }
    }
}
